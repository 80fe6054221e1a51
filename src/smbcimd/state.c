/*
 * state.c - the server's data source, shared by concurrent requests.
 *
 * The live source is read at most once per cache_seconds, however many
 * clients ask: a request within that time gets the state already read
 * (so many pollers do not multiply the load on Samba).  A snapshot file is
 * read again only when its modification time or size changes.  Each state
 * is reference-counted: requests and open enumerations hold it; it is
 * closed when the last one lets go after a newer state replaced it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>

#include "smbcimd/smbcimd.h"

struct srv_cache {
    const srv_config *cfg;
    pthread_mutex_t lock;    /* guards cur and every state's refs */
    pthread_mutex_t open_lock; /* one reader of the source at a time */
    srv_state *cur;
    unsigned long gens;
    struct timespec mtime;   /* snapshot file */
    off_t size;
};

srv_cache *srv_cache_new(const srv_config *c)
{
    srv_cache *k = sc_xcalloc(1, sizeof *k);
    k->cfg = c;
    pthread_mutex_init(&k->lock, NULL);
    pthread_mutex_init(&k->open_lock, NULL);
    return k;
}

static void state_free(srv_state *s)
{
    smbcim_close(s->ctx);
    free(s->route);
    free(s->route_why);
    free(s->warning);
    free(s->doc);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void srv_cache_free(srv_cache *k)
{
    if (!k)
        return;
    if (k->cur && --k->cur->refs == 0)
        state_free(k->cur);
    pthread_mutex_destroy(&k->lock);
    pthread_mutex_destroy(&k->open_lock);
    free(k);
}

/* Whether the current state may still be used. */
static bool fresh(srv_cache *k, const srv_state *s, double now)
{
    if (!s)
        return false;
    if (k->cfg->snapshot) {
        struct stat st;
        if (stat(k->cfg->snapshot, &st) != 0)
            return true; /* keep serving what was read; the next open reports */
        return st.st_mtim.tv_sec == k->mtime.tv_sec && st.st_mtim.tv_nsec == k->mtime.tv_nsec &&
               st.st_size == k->size;
    }
    return now - s->opened < (double)k->cfg->cache_seconds;
}

static srv_state *grab(srv_cache *k, double now)
{
    srv_state *s = NULL;
    pthread_mutex_lock(&k->lock);
    if (fresh(k, k->cur, now)) {
        s = k->cur;
        s->refs++;
    }
    pthread_mutex_unlock(&k->lock);
    return s;
}

/* The live state as the privileged part read it (priv.c): its records as
 * a snapshot document, with the route and warnings kept in s. */
static smbcim_ctx *open_privileged(srv_state *s, smbcim_error *err)
{
    size_t len = 0;
    char *buf = srv_priv_read_state(&len, err);
    if (!buf)
        return NULL;
    srv_priv_state ps;
    smbcim_ctx *ctx = NULL;
    if (!srv_priv_parse_state(buf, len, &ps)) {
        err->code = WBEM_E_FAILED;
        snprintf(err->msg, sizeof err->msg, "the privileged part of smbcimd answered "
                 "something malformed");
    } else if (ps.status != 0) {
        err->code = (smbcim_status)ps.status;
        snprintf(err->msg, sizeof err->msg, "%s", ps.message);
    } else {
        ctx = smbcim_open_snapshot_buffer(ps.doc, ps.doc_len, "smbd's state", err);
        if (ctx) {
            s->route = sc_xstrdup(ps.route);
            s->route_why = sc_xstrdup(ps.why);
            s->warning = *ps.warning ? sc_xstrdup(ps.warning) : NULL;
        }
    }
    free(buf);
    return ctx;
}

const char *srv_state_route(const srv_state *s, const char **why)
{
    if (s->route) {
        if (why)
            *why = s->route_why;
        return s->route;
    }
    return smbcim_live_route(s->ctx, why);
}

const char *srv_state_warning(const srv_state *s)
{
    return s->route ? s->warning : smbcim_live_warning(s->ctx);
}

srv_state *srv_state_get(srv_cache *k, smbcim_error *err)
{
    double now = srv_now();
    srv_state *s = grab(k, now);
    if (s)
        return s;
    pthread_mutex_lock(&k->open_lock);
    /* Another thread may have refreshed it while this one waited. */
    s = grab(k, srv_now());
    if (s) {
        pthread_mutex_unlock(&k->open_lock);
        return s;
    }
    struct stat st = {0};
    if (k->cfg->snapshot)
        stat(k->cfg->snapshot, &st);
    s = sc_xcalloc(1, sizeof *s);
    smbcim_ctx *ctx = k->cfg->snapshot ? smbcim_open_snapshot(k->cfg->snapshot, err)
                      : srv_priv_active() ? open_privileged(s, err)
                                          : smbcim_open_live(k->cfg->smb_conf, err);
    if (!ctx) {
        pthread_mutex_unlock(&k->open_lock);
        srv_log(LOG_ERR, "cannot read the server state: %s", err->msg);
        free(s->route);
        free(s->route_why);
        free(s->warning);
        free(s);
        return NULL;
    }
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    s->opened = srv_now();
    s->refs = 2; /* the cache's and the caller's */
    pthread_mutex_lock(&k->lock);
    s->gen = ++k->gens;
    srv_state *old = k->cur;
    k->cur = s;
    k->mtime = st.st_mtim;
    k->size = st.st_size;
    bool free_old = old && --old->refs == 0;
    pthread_mutex_unlock(&k->lock);
    pthread_mutex_unlock(&k->open_lock);
    if (free_old)
        state_free(old);
    return s;
}

srv_state *srv_state_own(smbcim_ctx *ctx)
{
    srv_state *s = sc_xcalloc(1, sizeof *s);
    s->ctx = ctx;
    pthread_mutex_init(&s->lock, NULL);
    s->opened = srv_now();
    s->refs = 1;
    return s;
}

smbcim_ctx *srv_state_open_copy(srv_state *s, smbcim_error *err)
{
    pthread_mutex_lock(&s->lock);
    if (!s->doc) {
        s->doc = smbcim_snapshot_text(s->ctx, err);
        s->doc_len = s->doc ? strlen(s->doc) : 0;
    }
    smbcim_ctx *c = s->doc ? smbcim_open_snapshot_buffer(s->doc, s->doc_len, "the server state", err)
                           : NULL;
    pthread_mutex_unlock(&s->lock);
    return c;
}

void srv_state_note_route(srv_state *s)
{
    /* smbd's databases are read when a request first needs them: say once
     * per state how they were read, when it is worth a word */
    const char *why = NULL;
    const char *route = srv_state_route(s, &why);
    if (s->route_logged || !route || strcmp(route, "config") == 0)
        return;
    s->route_logged = true;
    if (why && *why)
        srv_log(LOG_WARNING, "read the state through smbstatus: %s", why);
    const char *warn = srv_state_warning(s);
    if (warn)
        srv_log(LOG_WARNING, "%s", warn);
}

void srv_state_release(srv_cache *k, srv_state *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&k->lock);
    bool last = --s->refs == 0;
    pthread_mutex_unlock(&k->lock);
    if (last)
        state_free(s);
}
