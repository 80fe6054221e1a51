/*
 * indicate.c - indication subscriptions (DMTF DSP1054) in root/interop:
 * the records (filters, listener destinations, subscriptions), kept in
 * <state-dir>/subscriptions.json; CreateInstance and DeleteInstance of
 * them; and delivery: one poller thread evaluates each subscribed filter's
 * event query (smbcim_watch, the same change detection as `smbcim watch`)
 * against the server state, and one sender thread per destination POSTs
 * each indication as a CIM-XML ExportIndication (libcurl), in order, with
 * retries, through a bounded queue.  docs/smbcimd.md, "Indications".
 *
 * Threads and locks: s->lock guards the records, the senders' list and
 * queues and every counter; it is never held across a state read, an
 * engine call that evaluates a query, or network I/O.  The watchers are
 * the poller's alone.  A sender thread owns its curl handle; it leaves
 * when told (its destination deleted, or shutdown) and is joined by the
 * poller or by srv_subs_free.
 *
 * Memory: records are malloc()ed strings owned by s (rec_free); a queued
 * indication is one malloc()ed body owned by its queue entry.
 */
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "cim/cim.h"
#include "json/json.h"
#include "server/cimxml.h"
#include "smbcimd/smbcimd.h"

#define STATE_FILE "subscriptions.json"
#define STATE_MAX (4u << 20)       /* bytes of the state file read at most */
#define NAME_MAX_LEN 256
#define QUERY_MAX_LEN 4096
#define URL_MAX_LEN 2048
#define RESPONSE_MAX (64u << 10)   /* bytes of a listener's answer kept */

#define SYSTEM_CLASS "CIM_ComputerSystem"

typedef struct rec_filter {
    char *name, *query, *lang, *ns, *creator;
    int64_t created;
} rec_filter;

typedef struct rec_dest {
    char *name, *url, *creator;
    uint16_t persistence;
    int64_t created;
} rec_dest;

typedef struct rec_sub {
    char *filter, *dest, *creator;
    int64_t created;
    int64_t seq;                   /* the next SequenceNumber */
} rec_sub;

typedef struct qitem {
    char *body;
    size_t len;
    char *what;                    /* "filter 'f', indication N" for the log */
    struct qitem *next;
} qitem;

typedef struct sender {
    char *name, *url;
    pthread_t thread;
    bool started, stop, done;
    pthread_cond_t cond;
    qitem *head, *tail;
    size_t n;
    bool failing;                  /* the last indication could not be delivered */
    int64_t failing_since;         /* epoch seconds of the change */
    struct sender *next;
} sender;

typedef struct fwatch {
    char *name, *query;
    smbcim_watch *w;
    unsigned long gen;             /* the state it last compared */
    double interval, due;          /* seconds between polls; the next one */
    bool failed;                   /* the last poll failed: said once */
    struct fwatch *next;
} fwatch;

struct srv_subs {
    const srv_config *cfg;
    srv_cache *cache;
    char *dir, *path;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    rec_filter *filters;
    size_t nfilters;
    rec_dest *dests;
    size_t ndests;
    rec_sub *subs;
    size_t nsubs;
    unsigned long gen;             /* bumped by every change of the records */
    char context[40];              /* SequenceContext prefix: random per start */
    uint64_t next_id;
    sender *senders;
    sender *retired;               /* told to stop, to be joined */
    fwatch *watches;               /* the poller's */
    pthread_t poller;
    bool poller_started, stop;
    smbcim_ctx *schema;            /* root/interop classes only */
    uint64_t delivered, failed, dropped, discarded;
};

/* ---- small helpers ------------------------------------------------------- */

static char *xstrndup(const char *s, size_t n)
{
    char *d = sc_xmalloc(n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

static int64_t now_epoch(void)
{
    return (int64_t)time(NULL);
}

static void rec_filter_free(rec_filter *f)
{
    free(f->name), free(f->query), free(f->lang), free(f->ns), free(f->creator);
}

static void rec_dest_free(rec_dest *d)
{
    free(d->name), free(d->url), free(d->creator);
}

static void rec_sub_free(rec_sub *x)
{
    free(x->filter), free(x->dest), free(x->creator);
}

static void records_free(srv_subs *s)
{
    for (size_t i = 0; i < s->nfilters; i++)
        rec_filter_free(&s->filters[i]);
    for (size_t i = 0; i < s->ndests; i++)
        rec_dest_free(&s->dests[i]);
    for (size_t i = 0; i < s->nsubs; i++)
        rec_sub_free(&s->subs[i]);
    free(s->filters), free(s->dests), free(s->subs);
    s->filters = NULL, s->dests = NULL, s->subs = NULL;
    s->nfilters = s->ndests = s->nsubs = 0;
}

static rec_filter *find_filter(srv_subs *s, const char *name)
{
    for (size_t i = 0; i < s->nfilters; i++)
        if (sc_streqi(s->filters[i].name, name))
            return &s->filters[i];
    return NULL;
}

static rec_dest *find_dest(srv_subs *s, const char *name)
{
    for (size_t i = 0; i < s->ndests; i++)
        if (sc_streqi(s->dests[i].name, name))
            return &s->dests[i];
    return NULL;
}

static size_t uses_of(srv_subs *s, const char *filter, const char *dest)
{
    size_t n = 0;
    for (size_t i = 0; i < s->nsubs; i++)
        n += (filter && sc_streqi(s->subs[i].filter, filter)) ||
             (dest && sc_streqi(s->subs[i].dest, dest));
    return n;
}

/* A name given by a client: printable, not too long (it is a key, a log
 * word and a file entry). */
static bool good_name(const char *n)
{
    size_t len = strlen(n);
    if (!len || len > NAME_MAX_LEN)
        return false;
    for (const unsigned char *p = (const unsigned char *)n; *p; p++)
        if (*p < 0x20 || *p == 0x7F)
            return false;
    return true;
}

/* A listener URL: http:// or https://, a host, an optional port and path,
 * no user:password@ part (credentials in a URL end up in logs and in the
 * readable destination instance), no control characters or spaces.  NULL
 * when good, else what is wrong (never quoting the URL: it might hold a
 * secret). */
static const char *check_url(const char *u)
{
    size_t len = strlen(u);
    if (len > URL_MAX_LEN)
        return "longer than 2048 bytes";
    for (const unsigned char *p = (const unsigned char *)u; *p; p++)
        if (*p <= 0x20 || *p >= 0x7F)
            return "holds a space, a control character or a non-ASCII byte";
    const char *rest;
    if (strncasecmp(u, "http://", 7) == 0)
        rest = u + 7;
    else if (strncasecmp(u, "https://", 8) == 0)
        rest = u + 8;
    else
        return "is not an http:// or https:// URL";
    size_t auth = strcspn(rest, "/?#");
    if (memchr(rest, '@', auth))
        return "carries credentials (user@ or user:password@); give none";
    if (auth == 0 || rest[0] == ':')
        return "names no host";
    return NULL;
}

/* ---- the state file -------------------------------------------------------- */

static void put_field(sc_buf *b, const char *key, const char *v, bool comma)
{
    sc_buf_printf(b, "%s\"%s\": ", comma ? ", " : "", key);
    jp_put_str(b, v);
}

static void records_json(srv_subs *s, sc_buf *b)
{
    sc_buf_puts(b, "{\"smbcim_subscriptions\": 1,\n \"filters\": [");
    for (size_t i = 0; i < s->nfilters; i++) {
        const rec_filter *f = &s->filters[i];
        sc_buf_puts(b, i ? ",\n  {" : "\n  {");
        put_field(b, "name", f->name, false);
        put_field(b, "query", f->query, true);
        put_field(b, "query_language", f->lang, true);
        put_field(b, "source_namespace", f->ns, true);
        put_field(b, "creator", f->creator, true);
        sc_buf_printf(b, ", \"created\": %" PRId64 "}", f->created);
    }
    sc_buf_puts(b, "],\n \"destinations\": [");
    for (size_t i = 0; i < s->ndests; i++) {
        const rec_dest *d = &s->dests[i];
        sc_buf_puts(b, i ? ",\n  {" : "\n  {");
        put_field(b, "name", d->name, false);
        put_field(b, "destination", d->url, true);
        put_field(b, "creator", d->creator, true);
        sc_buf_printf(b, ", \"persistence_type\": %u, \"created\": %" PRId64 "}",
                      (unsigned)d->persistence, d->created);
    }
    sc_buf_puts(b, "],\n \"subscriptions\": [");
    for (size_t i = 0; i < s->nsubs; i++) {
        const rec_sub *x = &s->subs[i];
        sc_buf_puts(b, i ? ",\n  {" : "\n  {");
        put_field(b, "filter", x->filter, false);
        put_field(b, "destination", x->dest, true);
        put_field(b, "creator", x->creator, true);
        sc_buf_printf(b, ", \"created\": %" PRId64 "}", x->created);
    }
    sc_buf_puts(b, "]}\n");
}

/* Writes the records atomically: a temporary file, fsync, rename over the
 * old one, fsync of the directory.  false with why set. */
static bool save(srv_subs *s, char *why, size_t whylen)
{
    sc_buf b;
    sc_buf_init(&b);
    records_json(s, &b);
    char tmp[4200];
    snprintf(tmp, sizeof tmp, "%s.tmp", s->path);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool ok = fd >= 0;
    const char *step = "create";
    size_t off = 0;
    while (ok && off < b.len) {
        ssize_t n = write(fd, b.data + off, b.len - off);
        if (n < 0 && errno == EINTR)
            continue;
        ok = n > 0;
        off += ok ? (size_t)n : 0;
        step = "write";
    }
    if (ok && fsync(fd) != 0)
        ok = false, step = "fsync";
    int e = errno;
    if (fd >= 0 && close(fd) != 0 && ok)
        ok = false, step = "close", e = errno;
    if (ok && rename(tmp, s->path) != 0)
        ok = false, step = "rename", e = errno;
    if (ok) {
        int dfd = open(s->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
    } else {
        unlink(tmp);
        snprintf(why, whylen, "cannot %s %.300s: %s", step, tmp, strerror(e));
    }
    sc_buf_free(&b);
    return ok;
}

/* The records are changed only through these two, which write the file
 * before the change counts: on a failed write the change is undone and
 * false returned with why set.  The lists are arrays of `size`-byte
 * records; under s->lock. */
/* Appends a `size`-byte record to a list (the loader's and add_saved's). */
static void append(void **list, size_t *n, size_t size, const void *rec)
{
    *list = sc_xrealloc(*list, size * (*n + 1));
    memcpy((char *)*list + size * *n, rec, size);
    ++*n;
}

static bool add_saved(srv_subs *s, void **list, size_t *n, size_t size, const void *rec,
                      char *why, size_t whylen)
{
    append(list, n, size, rec);
    if (save(s, why, whylen))
        return true;
    --*n;
    return false;
}

/* Takes record i out (copied to gone, which the caller frees on success). */
static bool remove_saved(srv_subs *s, void *list, size_t *n, size_t size, size_t i, void *gone,
                         char *why, size_t whylen)
{
    char *at = (char *)list + size * i;
    memcpy(gone, at, size);
    memmove(at, at + size, size * (*n - i - 1));
    --*n;
    if (save(s, why, whylen))
        return true;
    memmove(at + size, at, size * (*n - i));
    memcpy(at, gone, size);
    ++*n;
    return false;
}

/* The reader of the state file: one record object at a time. */
typedef struct loader {
    jp_reader r;
    const char *err;
    size_t err_off;
} loader;

static bool lfail(loader *l, const char *what)
{
    if (!l->err) {
        l->err = l->r.err ? l->r.err : what;
        l->err_off = l->r.err ? l->r.err_off : l->r.tok_off;
    }
    return false;
}

/* Reads one object of string and integer members into the named slots
 * (unknown members are an error: the file is ours). */
typedef struct lfield {
    const char *key;
    char **str;
    int64_t *num;
    bool seen;
} lfield;

static bool load_object(loader *l, lfield *f, size_t nf)
{
    if (l->r.tok != JP_OBJ_BEGIN)
        return lfail(l, "expected an object");
    for (;;) {
        jp_tok t = jp_next(&l->r);
        if (t == JP_OBJ_END)
            break;
        if (t != JP_KEY)
            return lfail(l, "expected a member name");
        lfield *hit = NULL;
        for (size_t i = 0; i < nf; i++)
            if (strlen(f[i].key) == l->r.len && memcmp(f[i].key, l->r.str, l->r.len) == 0)
                hit = &f[i];
        if (!hit || hit->seen)
            return lfail(l, hit ? "a member given twice" : "an unknown member");
        hit->seen = true;
        t = jp_next(&l->r);
        if (hit->str && t == JP_STRING) {
            if (memchr(l->r.str, '\0', l->r.len))
                return lfail(l, "a NUL character in a string");
            *hit->str = xstrndup(l->r.str, l->r.len);
        } else if (hit->str && t == JP_NULL) {
            *hit->str = NULL;
        } else if (hit->num && t == JP_NUMBER) {
            if (!jp_int(&l->r, hit->num))
                return lfail(l, "a number that is not a whole number");
        } else {
            return lfail(l, hit->str ? "expected a string" : "expected a number");
        }
    }
    return true;
}

static bool load_filters(srv_subs *s, loader *l)
{
    while (jp_next(&l->r) != JP_ARR_END) {
        rec_filter f = {0};
        lfield fs[] = {{"name", &f.name, NULL, false},   {"query", &f.query, NULL, false},
                       {"query_language", &f.lang, NULL, false},
                       {"source_namespace", &f.ns, NULL, false},
                       {"creator", &f.creator, NULL, false}, {"created", NULL, &f.created, false}};
        bool ok = load_object(l, fs, 6) && f.name && f.query && f.lang && good_name(f.name);
        if (ok && find_filter(s, f.name))
            ok = lfail(l, "two filters with one name");
        if (!ok) {
            rec_filter_free(&f);
            return lfail(l, "a filter without name, query or language");
        }
        append((void **)&s->filters, &s->nfilters, sizeof f, &f);
    }
    return true;
}

static bool load_dests(srv_subs *s, loader *l)
{
    while (jp_next(&l->r) != JP_ARR_END) {
        rec_dest d = {0};
        int64_t pt = 0;
        lfield fs[] = {{"name", &d.name, NULL, false}, {"destination", &d.url, NULL, false},
                       {"creator", &d.creator, NULL, false},
                       {"persistence_type", NULL, &pt, false},
                       {"created", NULL, &d.created, false}};
        bool ok = load_object(l, fs, 5) && d.name && d.url && good_name(d.name) &&
                  !check_url(d.url) && pt >= 0 && pt <= 3;
        if (ok && find_dest(s, d.name))
            ok = lfail(l, "two destinations with one name");
        if (!ok) {
            rec_dest_free(&d);
            return lfail(l, "a destination without name or with a bad URL");
        }
        d.persistence = (uint16_t)pt;
        append((void **)&s->dests, &s->ndests, sizeof d, &d);
    }
    return true;
}

static bool load_subs(srv_subs *s, loader *l)
{
    while (jp_next(&l->r) != JP_ARR_END) {
        rec_sub x = {0};
        lfield fs[] = {{"filter", &x.filter, NULL, false}, {"destination", &x.dest, NULL, false},
                       {"creator", &x.creator, NULL, false},
                       {"created", NULL, &x.created, false}};
        bool ok = load_object(l, fs, 4) && x.filter && x.dest && find_filter(s, x.filter) &&
                  find_dest(s, x.dest);
        for (size_t i = 0; ok && i < s->nsubs; i++)
            if (sc_streqi(s->subs[i].filter, x.filter) && sc_streqi(s->subs[i].dest, x.dest))
                ok = lfail(l, "two subscriptions of one filter to one destination");
        if (!ok) {
            rec_sub_free(&x);
            return lfail(l, "a subscription naming a filter or destination that is not there");
        }
        append((void **)&s->subs, &s->nsubs, sizeof x, &x);
    }
    return true;
}

static bool load_doc(srv_subs *s, loader *l)
{
    if (jp_next(&l->r) != JP_OBJ_BEGIN)
        return lfail(l, "expected an object");
    bool version = false;
    for (;;) {
        jp_tok t = jp_next(&l->r);
        if (t == JP_OBJ_END)
            break;
        if (t != JP_KEY)
            return lfail(l, "expected a member name");
        char key[32];
        snprintf(key, sizeof key, "%.*s", (int)(l->r.len < 31 ? l->r.len : 31), l->r.str);
        t = jp_next(&l->r);
        if (strcmp(key, "smbcim_subscriptions") == 0) {
            int64_t v = 0;
            if (t != JP_NUMBER || !jp_int(&l->r, &v) || v != 1)
                return lfail(l, "an unknown version (smbcim_subscriptions must be 1)");
            version = true;
        } else if (t == JP_ARR_BEGIN && strcmp(key, "filters") == 0) {
            if (!load_filters(s, l))
                return false;
        } else if (t == JP_ARR_BEGIN && strcmp(key, "destinations") == 0) {
            if (!load_dests(s, l))
                return false;
        } else if (t == JP_ARR_BEGIN && strcmp(key, "subscriptions") == 0) {
            if (!load_subs(s, l))
                return false;
        } else {
            return lfail(l, "an unknown member, or a member that is not a list");
        }
    }
    if (!version)
        return lfail(l, "no smbcim_subscriptions version member");
    if (jp_next(&l->r) != JP_EOF)
        return lfail(l, "more after the document");
    return true;
}

/* Reads the state file.  A missing file is an empty start; one that cannot
 * be understood is renamed aside (never overwritten or dropped) and the
 * server starts with no subscriptions, saying so. */
static void load(srv_subs *s)
{
    int fd = open(s->path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno != ENOENT)
            srv_log(LOG_ERR, "indications: cannot read %s: %s; starting without "
                    "subscriptions (the file is left as it is)", s->path, strerror(errno));
        return;
    }
    struct stat st;
    char *buf = NULL;
    size_t len = 0;
    const char *why = NULL;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        why = "not a regular file";
    else if ((uint64_t)st.st_size > STATE_MAX)
        why = "larger than 4 MiB";
    else {
        buf = sc_xmalloc((size_t)st.st_size + 1);
        while (len < (size_t)st.st_size) {
            ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            len += (size_t)n;
        }
    }
    close(fd);
    char where[64] = "";
    if (!why) {
        loader l = {0};
        jp_init(&l.r, buf, len);
        if (!load_doc(s, &l)) {
            unsigned line = 0, col = 0;
            jp_line_col(&l.r, l.err_off, &line, &col);
            snprintf(where, sizeof where, " at line %u, column %u", line, col);
            why = l.err;
            records_free(s);
        }
        jp_free(&l.r);
    }
    free(buf);
    if (!why) {
        srv_log(LOG_INFO, "indications: %zu filter(s), %zu destination(s), %zu subscription(s) "
                "read from %s", s->nfilters, s->ndests, s->nsubs, s->path);
        return;
    }
    char aside[4300];
    snprintf(aside, sizeof aside, "%s.corrupt-%" PRId64, s->path, now_epoch());
    if (rename(s->path, aside) == 0)
        srv_log(LOG_ERR, "indications: %s is corrupt (%s%s); kept as %s, starting without "
                "subscriptions", s->path, why, where, aside);
    else
        srv_log(LOG_ERR, "indications: %s is corrupt (%s%s) and cannot be set aside (%s); "
                "starting without subscriptions, and new ones cannot be saved over it",
                s->path, why, where, strerror(errno));
}

/* ---- root/interop over the records ----------------------------------------- */

static const char *system_name(void)
{
    static char host[256];
    if (!host[0] && gethostname(host, sizeof host - 1) != 0)
        snprintf(host, sizeof host, "localhost");
    return host;
}

smbcim_ctx *srv_subs_open(srv_subs *s, smbcim_error *err)
{
    pthread_mutex_lock(&s->lock);
    smbcim_interop_filter *f = sc_xcalloc(s->nfilters + 1, sizeof *f);
    smbcim_interop_destination *d = sc_xcalloc(s->ndests + 1, sizeof *d);
    smbcim_interop_subscription *x = sc_xcalloc(s->nsubs + 1, sizeof *x);
    for (size_t i = 0; i < s->nfilters; i++)
        f[i] = (smbcim_interop_filter){.name = s->filters[i].name,
                                       .query = s->filters[i].query,
                                       .query_language = s->filters[i].lang,
                                       .source_namespace = s->filters[i].ns};
    for (size_t i = 0; i < s->ndests; i++)
        d[i] = (smbcim_interop_destination){.name = s->dests[i].name,
                                            .destination = s->dests[i].url,
                                            .persistence_type = s->dests[i].persistence};
    for (size_t i = 0; i < s->nsubs; i++) {
        const sender *sd = NULL;
        for (const sender *k = s->senders; k; k = k->next)
            if (sc_streqi(k->name, s->subs[i].dest))
                sd = k;
        bool degraded = sd && sd->failing;
        x[i] = (smbcim_interop_subscription){
            .filter = s->subs[i].filter,
            .destination = s->subs[i].dest,
            .state = degraded ? 3 : 2,
            .start_time = s->subs[i].created,
            .state_time = degraded ? sd->failing_since : s->subs[i].created};
    }
    char product[64];
    snprintf(product, sizeof product, "smbcimd %s", smbcim_version());
    smbcim_interop in = {.system_name = system_name(),
                         .product = product,
                         .delivery_retry_attempts = (uint16_t)(s->cfg->indication_retry_attempts
                                                               > 65535
                                                           ? 65535
                                                           : s->cfg->indication_retry_attempts),
                         .delivery_retry_interval = s->cfg->indication_retry_interval,
                         .filters = f,
                         .nfilters = s->nfilters,
                         .destinations = d,
                         .ndestinations = s->ndests,
                         .subscriptions = x,
                         .nsubscriptions = s->nsubs};
    smbcim_ctx *ctx = smbcim_open_interop(&in, err);
    pthread_mutex_unlock(&s->lock);
    free(f), free(d), free(x);
    return ctx;
}

const smbcim_ctx *srv_subs_schema(const srv_subs *s)
{
    return s->schema;
}

/* ---- CreateInstance / DeleteInstance --------------------------------------- */

/* What a client gave in NewInstance, by property name. */
typedef struct given {
    const cimxml_instance *ni;
    char *msg;
    size_t msglen;
} given;

static int refuse(given *g, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(given *g, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(g->msg, g->msglen, fmt, ap);
    va_end(ap);
    return code;
}

static const cimxml_prop *prop(const given *g, const char *name)
{
    for (size_t i = 0; i < g->ni->nprops; i++)
        if (sc_streqi(g->ni->props[i].name, name))
            return &g->ni->props[i];
    return NULL;
}

/* A scalar string property (NULL when absent or NULL); *bad set when it is
 * given as something else. */
static const char *str_prop(const given *g, const char *name, bool *bad)
{
    const cimxml_prop *p = prop(g, name);
    if (!p || p->is_null)
        return NULL;
    if (p->is_array || p->is_ref) {
        *bad = true;
        return NULL;
    }
    return p->value;
}

/* Every property given must be one of `known` (the class's own or
 * inherited, as the client may echo back what it read). */
static int only_known(given *g, const smbcim_ctx *schema, const char *cls)
{
    const cim_class *c = smbcim_class_find(schema, cls);
    for (size_t i = 0; i < g->ni->nprops; i++)
        if (cim_class_prop_index(c, g->ni->props[i].name) < 0)
            return refuse(g, CIM_ERR_NO_SUCH_PROPERTY,
                          "%s has no property %s (line %u, column %u)", cls,
                          g->ni->props[i].name, g->ni->props[i].line, g->ni->props[i].col);
    return 0;
}

/* The key properties smbcimd sets itself: a client may leave them out or
 * give exactly these values. */
static int hosted_keys(given *g, const char *cls)
{
    const char *want[][2] = {{"SystemCreationClassName", SYSTEM_CLASS},
                             {"SystemName", system_name()},
                             {"CreationClassName", cls}};
    for (size_t i = 0; i < 3; i++) {
        bool bad = false;
        const char *v = str_prop(g, want[i][0], &bad);
        if (bad || (v && !sc_streqi(v, want[i][1])))
            return refuse(g, CIM_ERR_INVALID_PARAMETER, "%s must be \"%s\" (or left out), not "
                          "\"%s\"", want[i][0], want[i][1], bad ? "(not a string)" : v);
    }
    return 0;
}

/* A name for an instance created without one. */
static char *made_name(srv_subs *s, const char *what)
{
    char buf[96];
    snprintf(buf, sizeof buf, "smbcim:%s:%s:%" PRIu64, what, s->context, ++s->next_id);
    return sc_xstrdup(buf);
}

static int name_of(srv_subs *s, given *g, const char *what, char **out)
{
    bool bad = false;
    const char *n = str_prop(g, "Name", &bad);
    if (bad || (n && !good_name(n)))
        return refuse(g, CIM_ERR_INVALID_PARAMETER, "Name must be a string of 1 to 256 "
                      "printable characters");
    *out = n ? sc_xstrdup(n) : made_name(s, what);
    return 0;
}

/* SourceNamespace(s), when given, must name root/cimv2: the only
 * namespace with events. */
static int source_namespace(given *g, char **out)
{
    bool bad = false;
    const char *ns = str_prop(g, "SourceNamespace", &bad);
    if (bad || (ns && !srv_ns_equal(ns, "root/cimv2")))
        return refuse(g, CIM_ERR_INVALID_NAMESPACE, "SourceNamespace must be root/cimv2 (the "
                      "namespace whose instances change), not '%s'", bad ? "?" : ns);
    const cimxml_prop *p = prop(g, "SourceNamespaces");
    if (p && !p->is_null) {
        if (!p->is_array)
            return refuse(g, CIM_ERR_INVALID_PARAMETER, "SourceNamespaces must be an array");
        for (size_t i = 0; i < p->nitems; i++)
            if (!p->items[i] || !srv_ns_equal(p->items[i], "root/cimv2"))
                return refuse(g, CIM_ERR_INVALID_NAMESPACE, "SourceNamespaces may name "
                              "root/cimv2 only");
    }
    *out = sc_xstrdup("root/cimv2");
    return 0;
}

/* The filter's query must be an event query smbcim can watch, checked the
 * way `smbcim watch` checks it, and deliverable as a DMTF indication. */
static int check_query(given *g, const char *query)
{
    smbcim_error err = {0};
    smbcim_ctx *schema = smbcim_open_schema_only(&err);
    if (!schema)
        return refuse(g, CIM_ERR_FAILED, "cannot load the schema: %s", err.msg);
    if (!smbcim_is_event_query(schema, query)) {
        smbcim_close(schema);
        return refuse(g, CIM_ERR_INVALID_QUERY, "Query must be an event query (SELECT * FROM "
                      "__InstanceCreationEvent WITHIN n WHERE TargetInstance ISA '...')");
    }
    smbcim_watch *w = smbcim_watch_open(schema, query, &err);
    if (!w) {
        smbcim_close(schema);
        return refuse(g, smbcim_status_cim(err.code), "%s: %s", smbcim_status_name(err.code),
                      err.msg);
    }
    double group = smbcim_watch_group_interval(w);
    smbcim_watch_close(w);
    if (group > 0)
        return refuse(g, CIM_ERR_NOT_SUPPORTED, "GROUP WITHIN makes __AggregateEvent, which "
                      "has no DMTF indication class to be delivered as; subscribe without it");
    return 0;
}

static int create_filter(srv_subs *s, given *g, const char *user, rec_filter *f)
{
    int rc;
    if ((rc = only_known(g, s->schema, "CIM_IndicationFilter")) ||
        (rc = hosted_keys(g, "CIM_IndicationFilter")))
        return rc;
    bool bad = false;
    const char *query = str_prop(g, "Query", &bad);
    const char *lang = str_prop(g, "QueryLanguage", &bad);
    if (bad || !query || !lang)
        return refuse(g, CIM_ERR_INVALID_PARAMETER,
                      "CIM_IndicationFilter needs Query and QueryLanguage (strings)");
    if (strlen(query) > QUERY_MAX_LEN)
        return refuse(g, CIM_ERR_INVALID_PARAMETER, "Query is longer than %d bytes",
                      QUERY_MAX_LEN);
    if (!sc_streqi(lang, "WQL"))
        return refuse(g, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                      "QueryLanguage '%s' is not supported (WQL is)", lang);
    if ((rc = check_query(g, query)))
        return rc;
    char *ns = NULL, *name = NULL;
    if ((rc = source_namespace(g, &ns)))
        return rc;
    if ((rc = name_of(s, g, "filter", &name))) {
        free(ns);
        return rc;
    }
    *f = (rec_filter){.name = name, .query = sc_xstrdup(query), .lang = sc_xstrdup("WQL"),
                      .ns = ns, .creator = sc_xstrdup(user), .created = now_epoch()};
    return 0;
}

static int create_dest(srv_subs *s, given *g, const char *user, rec_dest *d)
{
    int rc;
    if ((rc = only_known(g, s->schema, "CIM_ListenerDestinationCIMXML")) ||
        (rc = hosted_keys(g, "CIM_ListenerDestinationCIMXML")))
        return rc;
    bool bad = false;
    const char *url = str_prop(g, "Destination", &bad);
    if (bad || !url)
        return refuse(g, CIM_ERR_INVALID_PARAMETER,
                      "CIM_ListenerDestinationCIMXML needs Destination (the listener's URL)");
    const char *why = check_url(url);
    if (why)
        return refuse(g, CIM_ERR_INVALID_PARAMETER, "Destination %s", why);
    uint16_t pt = 2;
    const cimxml_prop *p = prop(g, "PersistenceType");
    if (p && !p->is_null) {
        if (p->is_array || p->is_ref || !p->value ||
            (strcmp(p->value, "2") != 0 && strcmp(p->value, "3") != 0))
            return refuse(g, CIM_ERR_INVALID_PARAMETER,
                          "PersistenceType must be 2 (Permanent) or 3 (Transient)");
        pt = (uint16_t)(p->value[0] - '0');
    }
    char *name = NULL;
    if ((rc = name_of(s, g, "destination", &name)))
        return rc;
    *d = (rec_dest){.name = name, .url = sc_xstrdup(url), .creator = sc_xstrdup(user),
                    .persistence = pt, .created = now_epoch()};
    return 0;
}

/* The Name of the instance a reference property points to, looked up in
 * root/interop as it is now (so a reference names an existing filter or
 * destination, in any of the forms a path may take). */
/* The Name key of the instance `path` names in ctx (any path form the
 * engine reads), as a malloc()ed copy, and its class (ctx's); NULL with
 * err set when there is none.  Every reference of a subscription is
 * followed through this, never by reading its text. */
static char *name_at(smbcim_ctx *ctx, const char *path, const cim_class **cls,
                     smbcim_error *err)
{
    smbcim_result *res = NULL;
    if (smbcim_get_object(ctx, path, &res, err) != WBEM_S_NO_ERROR)
        return NULL;
    const cim_value *v = smbcim_instance_get(res->instances[0], "Name");
    char *name = v && !v->null ? sc_xstrdup(v->v.s) : NULL;
    if (!name)
        smbcim_error_set(err, WBEM_E_NOT_FOUND, "%s has no Name", path);
    if (cls)
        *cls = res->instances[0]->cls;
    smbcim_result_free(res);
    return name;
}

/* The names of a subscription's filter and handler. */
static bool ends_of(smbcim_ctx *ctx, const cim_instance *sub, char **filter, char **dest,
                    smbcim_error *err)
{
    *filter = name_at(ctx, smbcim_instance_get(sub, "Filter")->v.s, NULL, err);
    *dest = *filter ? name_at(ctx, smbcim_instance_get(sub, "Handler")->v.s, NULL, err) : NULL;
    if (*dest)
        return true;
    free(*filter);
    *filter = NULL;
    return false;
}

static int ref_target(srv_subs *s, given *g, const char *prop_name, const char *cls,
                      char **name)
{
    const cimxml_prop *p = prop(g, prop_name);
    if (!p || p->is_null || !p->value)
        return refuse(g, CIM_ERR_INVALID_PARAMETER,
                      "CIM_IndicationSubscription needs %s (a reference to a %s)", prop_name,
                      cls);
    if (!p->is_ref)
        return refuse(g, CIM_ERR_INVALID_PARAMETER, "%s must be a reference "
                      "(<PROPERTY.REFERENCE>), not a string", prop_name);
    smbcim_error err = {0};
    smbcim_ctx *ctx = srv_subs_open(s, &err);
    if (!ctx)
        return refuse(g, CIM_ERR_FAILED, "root/interop: %s", err.msg);
    int rc = 0;
    const cim_class *found = NULL;
    *name = name_at(ctx, p->value, &found, &err);
    if (!*name) {
        rc = refuse(g, CIM_ERR_INVALID_PARAMETER, "%s: %s", prop_name, err.msg);
    } else if (!cim_class_is_a(found, cls)) {
        rc = refuse(g, CIM_ERR_INVALID_PARAMETER, "%s must refer to a %s, not a %s", prop_name,
                    cls, found->name);
        free(*name);
        *name = NULL;
    }
    smbcim_close(ctx);
    return rc;
}

static int create_sub(srv_subs *s, given *g, const char *user, rec_sub *x)
{
    int rc;
    if ((rc = only_known(g, s->schema, "CIM_IndicationSubscription")))
        return rc;
    const cimxml_prop *st = prop(g, "SubscriptionState");
    if (st && !st->is_null && (!st->value || strcmp(st->value, "2") != 0))
        return refuse(g, CIM_ERR_NOT_SUPPORTED, "SubscriptionState may only be 2 (Enabled)");
    char *filter = NULL, *dest = NULL;
    if ((rc = ref_target(s, g, "Filter", "CIM_IndicationFilter", &filter)))
        return rc;
    if ((rc = ref_target(s, g, "Handler", "CIM_ListenerDestination", &dest))) {
        free(filter);
        return rc;
    }
    *x = (rec_sub){.filter = filter, .dest = dest, .creator = sc_xstrdup(user),
                   .created = now_epoch()};
    return 0;
}

/* The created instance's path, from the engine (so it is spelled as every
 * read of it will spell it). */
static char *path_of(srv_subs *s, const char *cls, const char *name, const char *filter,
                     const char *dest)
{
    smbcim_error err = {0};
    smbcim_ctx *ctx = srv_subs_open(s, &err);
    if (!ctx)
        return NULL;
    smbcim_result *res = NULL;
    char *out = NULL;
    if (smbcim_enum_instances(ctx, cls, &res, &err) == WBEM_S_NO_ERROR) {
        for (size_t i = 0; i < res->count && !out; i++) {
            const cim_instance *in = res->instances[i];
            bool hit;
            if (name) {
                hit = sc_streqi(smbcim_instance_get(in, "Name")->v.s, name);
            } else {
                char *f = NULL, *d = NULL;
                hit = ends_of(ctx, in, &f, &d, &err) && sc_streqi(f, filter) &&
                      sc_streqi(d, dest);
                free(f), free(d);
            }
            if (hit)
                out = sc_xstrdup(in->path);
        }
        smbcim_result_free(res);
    }
    smbcim_close(ctx);
    return out;
}

/* path_of() for a record just added, called with s->lock held: the names
 * are copied (the record may go once the lock is let go) and the lock is
 * let go meanwhile (path_of opens root/interop, which takes it). */
static char *path_unlocked(srv_subs *s, const char *cls, const char *name, const char *filter,
                           const char *dest)
{
    char *n = name ? sc_xstrdup(name) : NULL;
    char *f = filter ? sc_xstrdup(filter) : NULL;
    char *d = dest ? sc_xstrdup(dest) : NULL;
    pthread_mutex_unlock(&s->lock);
    char *p = path_of(s, cls, n, f, d);
    pthread_mutex_lock(&s->lock);
    free(n), free(f), free(d);
    return p;
}

static int limit_reached(srv_subs *s, given *g, size_t n, const char *what)
{
    if (n < s->cfg->max_subscriptions)
        return 0;
    return refuse(g, CIM_ERR_SERVER_LIMITS_EXCEEDED, "there are %zu %s already, the most "
                  "allowed (max-subscriptions); delete some first", n, what);
}

int srv_subs_create(srv_subs *s, const char *user, const cimxml_instance *ni, char **path,
                    char *msg, size_t msglen)
{
    given g = {.ni = ni, .msg = msg, .msglen = msglen};
    *path = NULL;
    const cim_class *cls = ni->class_name ? smbcim_class_find(s->schema, ni->class_name) : NULL;
    if (!cls)
        return refuse(&g, CIM_ERR_INVALID_CLASS, "class '%s' does not exist in root/interop",
                      ni->class_name ? ni->class_name : "");
    int rc = 0;
    char why[512];
    pthread_mutex_lock(&s->lock);
    if (sc_streqi(cls->name, "CIM_IndicationFilter")) {
        rec_filter f = {0};
        if (!(rc = limit_reached(s, &g, s->nfilters, "filters")) &&
            !(rc = create_filter(s, &g, user, &f))) {
            if (find_filter(s, f.name))
                rc = refuse(&g, CIM_ERR_ALREADY_EXISTS, "a filter named '%s' exists", f.name);
            else if (!add_saved(s, (void **)&s->filters, &s->nfilters, sizeof f, &f, why,
                                sizeof why))
                rc = refuse(&g, CIM_ERR_FAILED, "the filter cannot be kept: %s", why);
            else
                srv_log(LOG_NOTICE, "indications: '%s' created filter '%s': %s", user, f.name,
                        f.query);
            if (rc)
                rec_filter_free(&f);
        }
        if (!rc)
            *path = path_unlocked(s, cls->name, f.name, NULL, NULL);
    } else if (sc_streqi(cls->name, "CIM_ListenerDestinationCIMXML")) {
        rec_dest d = {0};
        if (!(rc = limit_reached(s, &g, s->ndests, "destinations")) &&
            !(rc = create_dest(s, &g, user, &d))) {
            if (find_dest(s, d.name))
                rc = refuse(&g, CIM_ERR_ALREADY_EXISTS, "a destination named '%s' exists",
                            d.name);
            else if (!add_saved(s, (void **)&s->dests, &s->ndests, sizeof d, &d, why,
                                sizeof why))
                rc = refuse(&g, CIM_ERR_FAILED, "the destination cannot be kept: %s", why);
            else
                srv_log(LOG_NOTICE, "indications: '%s' created destination '%s' (%s)", user,
                        d.name, d.url);
            if (rc)
                rec_dest_free(&d);
        }
        if (!rc)
            *path = path_unlocked(s, cls->name, d.name, NULL, NULL);
    } else if (sc_streqi(cls->name, "CIM_IndicationSubscription")) {
        rec_sub x = {0};
        rc = limit_reached(s, &g, s->nsubs, "subscriptions");
        pthread_mutex_unlock(&s->lock); /* ref_target opens root/interop */
        if (!rc)
            rc = create_sub(s, &g, user, &x);
        pthread_mutex_lock(&s->lock);
        if (!rc) {
            bool dup = false;
            for (size_t i = 0; i < s->nsubs; i++)
                dup |= sc_streqi(s->subs[i].filter, x.filter) && sc_streqi(s->subs[i].dest, x.dest);
            if (dup)
                rc = refuse(&g, CIM_ERR_ALREADY_EXISTS, "filter '%s' is subscribed to "
                            "destination '%s' already", x.filter, x.dest);
            else if (!find_filter(s, x.filter) || !find_dest(s, x.dest))
                rc = refuse(&g, CIM_ERR_INVALID_PARAMETER, "the filter or destination was "
                            "deleted meanwhile");
            else if (!add_saved(s, (void **)&s->subs, &s->nsubs, sizeof x, &x, why, sizeof why))
                rc = refuse(&g, CIM_ERR_FAILED, "the subscription cannot be kept: %s", why);
            else
                srv_log(LOG_NOTICE, "indications: '%s' subscribed filter '%s' to destination "
                        "'%s'", user, x.filter, x.dest);
            if (rc)
                rec_sub_free(&x);
        }
        if (!rc)
            *path = path_unlocked(s, cls->name, NULL, x.filter, x.dest);
    } else {
        rc = refuse(&g, CIM_ERR_NOT_SUPPORTED, "instances of %s cannot be created (only "
                    "CIM_IndicationFilter, CIM_ListenerDestinationCIMXML and "
                    "CIM_IndicationSubscription can)", cls->name);
    }
    if (!rc) {
        s->gen++;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
    if (!rc && !*path)
        rc = refuse(&g, CIM_ERR_FAILED, "created, but its path cannot be read back");
    return rc;
}

static void retire_sender(srv_subs *s, const char *dest)
{
    for (sender **pp = &s->senders; *pp; pp = &(*pp)->next) {
        sender *k = *pp;
        if (sc_streqi(k->name, dest)) {
            *pp = k->next;
            k->stop = true;
            s->discarded += k->n;
            pthread_cond_signal(&k->cond);
            k->next = s->retired;
            s->retired = k;
            return;
        }
    }
}

int srv_subs_delete(srv_subs *s, const char *path, char *msg, size_t msglen)
{
    given g = {.msg = msg, .msglen = msglen};
    smbcim_error err = {0};
    smbcim_ctx *ctx = srv_subs_open(s, &err);
    if (!ctx)
        return refuse(&g, CIM_ERR_FAILED, "root/interop: %s", err.msg);
    smbcim_result *res = NULL;
    if (smbcim_get_object(ctx, path, &res, &err) != WBEM_S_NO_ERROR) {
        smbcim_close(ctx);
        return refuse(&g, smbcim_status_cim(err.code), "%s: %s", smbcim_status_name(err.code),
                      err.msg);
    }
    const cim_instance *in = res->instances[0];
    /* the class name is copied: ctx (which holds it) is closed below */
    char cls[128];
    snprintf(cls, sizeof cls, "%s", in->cls->name);
    char *name = NULL, *filter = NULL, *dest = NULL;
    int rc = 0;
    if (sc_streqi(cls, "CIM_IndicationFilter") || sc_streqi(cls, "CIM_ListenerDestinationCIMXML")) {
        name = sc_xstrdup(smbcim_instance_get(in, "Name")->v.s);
    } else if (sc_streqi(cls, "CIM_IndicationSubscription")) {
        if (!ends_of(ctx, in, &filter, &dest, &err))
            rc = refuse(&g, CIM_ERR_FAILED, "%s", err.msg);
    } else {
        rc = refuse(&g, CIM_ERR_NOT_SUPPORTED, "instances of %s cannot be deleted", cls);
    }
    smbcim_result_free(res);
    smbcim_close(ctx);
    if (rc) {
        free(name), free(filter), free(dest);
        return rc;
    }
    char why[512];
    pthread_mutex_lock(&s->lock);
    if (filter) {
        size_t i = 0;
        while (i < s->nsubs && !(sc_streqi(s->subs[i].filter, filter) &&
                                 sc_streqi(s->subs[i].dest, dest)))
            i++;
        if (i == s->nsubs) {
            rc = refuse(&g, CIM_ERR_NOT_FOUND, "no such subscription (deleted meanwhile)");
        } else {
            rec_sub gone;
            if (!remove_saved(s, s->subs, &s->nsubs, sizeof gone, i, &gone, why, sizeof why)) {
                rc = refuse(&g, CIM_ERR_FAILED, "the change cannot be kept: %s", why);
            } else {
                srv_log(LOG_NOTICE, "indications: subscription of filter '%s' to '%s' deleted",
                        gone.filter, gone.dest);
                if (!uses_of(s, NULL, gone.dest))
                    retire_sender(s, gone.dest);
                rec_sub_free(&gone);
            }
        }
    } else {
        bool is_filter = sc_streqi(cls, "CIM_IndicationFilter");
        size_t used = uses_of(s, is_filter ? name : NULL, is_filter ? NULL : name);
        size_t n = is_filter ? s->nfilters : s->ndests;
        size_t i = 0;
        while (i < n && !sc_streqi(is_filter ? s->filters[i].name : s->dests[i].name, name))
            i++;
        if (used) {
            /* DSP1054: an element a subscription refers to stays */
            rc = refuse(&g, CIM_ERR_FAILED, "%s '%s' is used by %zu subscription(s): delete "
                        "them first", is_filter ? "filter" : "destination", name, used);
        } else if (i == n) {
            rc = refuse(&g, CIM_ERR_NOT_FOUND, "no such instance (deleted meanwhile)");
        } else {
            union {
                rec_filter f;
                rec_dest d;
            } gone;
            bool ok = is_filter ? remove_saved(s, s->filters, &s->nfilters, sizeof gone.f, i,
                                               &gone.f, why, sizeof why)
                                : remove_saved(s, s->dests, &s->ndests, sizeof gone.d, i,
                                               &gone.d, why, sizeof why);
            if (!ok) {
                rc = refuse(&g, CIM_ERR_FAILED, "the change cannot be kept: %s", why);
            } else {
                srv_log(LOG_NOTICE, "indications: %s '%s' deleted",
                        is_filter ? "filter" : "destination", name);
                if (is_filter)
                    rec_filter_free(&gone.f);
                else
                    rec_dest_free(&gone.d);
            }
        }
    }
    if (!rc) {
        s->gen++;
        pthread_cond_signal(&s->wake);
    }
    pthread_mutex_unlock(&s->lock);
    free(name), free(filter), free(dest);
    return rc;
}

/* ---- delivery: senders ------------------------------------------------------ */

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
    sc_buf *b = arg;
    size_t len = size * n;
    if (b->len + len <= RESPONSE_MAX)
        sc_buf_add(b, data, len);
    return len; /* the rest of a long answer is read and dropped */
}

/* One POST of an ExportIndication; true when the listener accepted it
 * (HTTP 200 and a CIM-XML answer without ERROR).  why says what failed. */
static bool post(srv_subs *s, CURL *c, const char *url, const qitem *it, char *why,
                 size_t whylen)
{
    sc_buf resp;
    sc_buf_init(&resp);
    struct curl_slist *h = NULL;
    h = curl_slist_append(h, "Content-Type: application/xml; charset=\"utf-8\"");
    h = curl_slist_append(h, "CIMProtocolVersion: 1.0");
    h = curl_slist_append(h, "CIMExport: MethodRequest");
    h = curl_slist_append(h, "CIMExportMethod: ExportIndication");
    h = curl_slist_append(h, "Expect:");
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)it->len);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
    curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)(s->cfg->indication_timeout ? s->cfg->indication_timeout : 10));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, 5L);
    CURLcode rc = curl_easy_perform(c);
    curl_slist_free_all(h);
    long status = 0;
    bool ok = false;
    if (rc != CURLE_OK) {
        snprintf(why, whylen, "%s", curl_easy_strerror(rc));
    } else if (curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status), status != 200) {
        snprintf(why, whylen, "HTTP status %ld", status);
    } else {
        int code = 0;
        char m[300];
        if (!cimxml_parse_export_response(resp.data ? resp.data : "", resp.len, &code, m,
                                          sizeof m))
            snprintf(why, whylen, "not a CIM-XML export response: %s", m);
        else if (code)
            snprintf(why, whylen, "the listener answered CIM error %d: %s", code, m);
        else
            ok = true;
    }
    sc_buf_free(&resp);
    return ok;
}

/* The CLOCK_REALTIME time `sec` seconds from now, for a timed wait. */
static struct timespec from_now(double sec)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    double end = (double)ts.tv_sec + ts.tv_nsec / 1e9 + sec;
    ts.tv_sec = (time_t)end;
    ts.tv_nsec = (long)((end - (double)ts.tv_sec) * 1e9);
    return ts;
}

/* Waits `sec` seconds unless told to stop; true when told. */
static bool pause_or_stop(srv_subs *s, sender *k, double sec)
{
    struct timespec ts = from_now(sec);
    while (!k->stop && !s->stop)
        if (pthread_cond_timedwait(&k->cond, &s->lock, &ts) == ETIMEDOUT)
            break;
    return k->stop || s->stop;
}

static void set_failing(sender *k, bool failing)
{
    if (k->failing != failing) {
        k->failing = failing;
        k->failing_since = now_epoch();
    }
}

typedef struct sender_arg {
    srv_subs *s;
    sender *k;
} sender_arg;

/* One destination's thread: its queue, in order; an indication is retried
 * indication_retry_attempts times, indication_retry_interval apart, then
 * dropped (counted and logged). */
static void *sender_main(void *arg)
{
    sender_arg a = *(sender_arg *)arg;
    free(arg);
    srv_subs *s = a.s;
    sender *k = a.k;
    CURL *c = curl_easy_init();
    if (c) {
        curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
        if (s->cfg->listener_insecure) {
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
            curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
        }
        if (s->cfg->listener_ca_file)
            curl_easy_setopt(c, CURLOPT_CAINFO, s->cfg->listener_ca_file);
    }
    pthread_mutex_lock(&s->lock);
    while (!k->stop && !s->stop) {
        if (!k->head) {
            pthread_cond_wait(&k->cond, &s->lock);
            continue;
        }
        qitem *it = k->head;
        unsigned attempts = 0;
        bool sent = false;
        char why[400] = "no curl handle";
        while (!sent && !k->stop && !s->stop) {
            pthread_mutex_unlock(&s->lock);
            sent = c && post(s, c, k->url, it, why, sizeof why);
            pthread_mutex_lock(&s->lock);
            if (sent)
                break;
            s->failed++;
            if (attempts++ >= s->cfg->indication_retry_attempts)
                break;
            if (pause_or_stop(s, k, s->cfg->indication_retry_interval))
                break;
        }
        if (k->stop || s->stop)
            break; /* what is left is counted by whoever stopped it */
        if (sent) {
            s->delivered++;
            if (k->failing)
                srv_log(LOG_NOTICE, "indications: destination '%s' accepts indications again",
                        k->name);
            set_failing(k, false);
        } else {
            s->dropped++;
            srv_log(LOG_WARNING, "indications: dropped %s for destination '%s' after %u "
                    "attempt(s): %s", it->what, k->name, attempts, why);
            set_failing(k, true);
        }
        k->head = it->next;
        if (!k->head)
            k->tail = NULL;
        k->n--;
        free(it->body), free(it->what), free(it);
    }
    k->done = true;
    pthread_mutex_unlock(&s->lock);
    if (c)
        curl_easy_cleanup(c);
    return NULL;
}

static void sender_free(sender *k)
{
    for (qitem *it = k->head, *n; it; it = n) {
        n = it->next;
        free(it->body), free(it->what), free(it);
    }
    pthread_cond_destroy(&k->cond);
    free(k->name), free(k->url), free(k);
}

/* The sender of a destination, started on first use; under s->lock. */
static sender *sender_for(srv_subs *s, const rec_dest *d)
{
    for (sender *k = s->senders; k; k = k->next)
        if (sc_streqi(k->name, d->name))
            return k;
    sender *k = sc_xcalloc(1, sizeof *k);
    k->name = sc_xstrdup(d->name);
    k->url = sc_xstrdup(d->url);
    pthread_cond_init(&k->cond, NULL);
    sender_arg *a = sc_xmalloc(sizeof *a);
    *a = (sender_arg){s, k};
    if (pthread_create(&k->thread, NULL, sender_main, a) != 0) {
        free(a);
        srv_log(LOG_ERR, "indications: cannot start the sender of destination '%s'", d->name);
        sender_free(k);
        return NULL;
    }
    k->started = true;
    k->next = s->senders;
    s->senders = k;
    return k;
}

/* Queues one indication; under s->lock.  A full queue drops the new one. */
static void enqueue(srv_subs *s, sender *k, char *body, size_t len, char *what)
{
    if (k->n >= s->cfg->indication_queue) {
        s->dropped++;
        srv_log(LOG_WARNING, "indications: the queue of destination '%s' is full (%zu): "
                "dropped %s", k->name, k->n, what);
        free(body), free(what);
        return;
    }
    qitem *it = sc_xcalloc(1, sizeof *it);
    *it = (qitem){.body = body, .len = len, .what = what};
    if (k->tail)
        k->tail->next = it;
    else
        k->head = it;
    k->tail = it;
    k->n++;
    pthread_cond_signal(&k->cond);
}

/* ---- delivery: the poller ---------------------------------------------------- */

/* WMI's intrinsic event class -> the DMTF indication class delivered. */
static const char *dmtf_class(const char *wmi)
{
    if (sc_streqi(wmi, "__InstanceCreationEvent"))
        return "CIM_InstCreation";
    if (sc_streqi(wmi, "__InstanceDeletionEvent"))
        return "CIM_InstDeletion";
    if (sc_streqi(wmi, "__InstanceModificationEvent"))
        return "CIM_InstModification";
    return NULL;
}

/* One event of a filter to every destination subscribed to it. */
static void deliver(srv_subs *s, const char *filter, const cim_instance *ev)
{
    const char *cls = dmtf_class(ev->cls->name);
    const cim_value *target = smbcim_instance_get(ev, "TargetInstance");
    if (!cls || !target || target->null)
        return;
    const cim_value *prev = smbcim_instance_get(ev, "PreviousInstance");
    const cim_value *t = smbcim_instance_get(ev, "TIME_CREATED");
    sc_arena *a = sc_arena_new();
    cim_instance *ind = cim_instance_new(a, smbcim_class_find(s->schema, cls));
    /* TIME_CREATED: 100-ns intervals since 1601-01-01 UTC */
    int64_t sec = 0;
    int32_t usec = 0;
    if (t && !t->null) {
        sec = (int64_t)(t->v.u / 10000000u) - INT64_C(11644473600);
        usec = (int32_t)((t->v.u % 10000000u) / 10u);
    }
    cim_instance_set(ind, "IndicationTime",
                     cim_str(CIM_T_DATETIME, cim_datetime_from_epoch(a, sec, usec)));
    cim_instance_set(ind, "PerceivedSeverity", cim_u(CIM_T_UINT16, 2));
    cim_instance_set(ind, "IndicationFilterName", cim_str(CIM_T_STRING, filter));
    cim_instance_put(ind, "SourceInstance", *target);
    cim_instance_set(ind, "SourceInstanceModelPath",
                     cim_str(CIM_T_STRING, target->v.o->path ? target->v.o->path
                                                            : target->v.o->relpath));
    cim_instance_set(ind, "SourceInstanceHost", cim_str(CIM_T_STRING, system_name()));
    if (prev && !prev->null)
        cim_instance_put(ind, "PreviousInstance", *prev);
    pthread_mutex_lock(&s->lock);
    for (size_t i = 0; i < s->nsubs; i++) {
        rec_sub *x = &s->subs[i];
        const rec_dest *d = sc_streqi(x->filter, filter) ? find_dest(s, x->dest) : NULL;
        sender *k = d ? sender_for(s, d) : NULL;
        if (!k)
            continue;
        uint64_t id = ++s->next_id;
        char ident[96], ctx[NAME_MAX_LEN * 2 + 64];
        snprintf(ident, sizeof ident, "%s:%" PRIu64, s->context, id);
        snprintf(ctx, sizeof ctx, "%s:%s:%s", s->context, x->filter, x->dest);
        cim_instance_set(ind, "IndicationIdentifier", cim_str(CIM_T_STRING, ident));
        cim_instance_set(ind, "SequenceContext", cim_str(CIM_T_STRING, ctx));
        cim_instance_set(ind, "SequenceNumber", cim_i(CIM_T_SINT64, x->seq++));
        sc_buf b;
        sc_buf_init(&b);
        cimxml_writer w;
        cimxml_writer_init(&w, &b, s->schema, system_name());
        char mid[32];
        snprintf(mid, sizeof mid, "%" PRIu64, id);
        cimxml_write_export_indication(&w, mid, ind);
        bool ok = cimxml_writer_ok(&w);
        cimxml_writer_free(&w);
        char what[NAME_MAX_LEN + 96];
        snprintf(what, sizeof what, "%s %" PRId64 " of filter '%s'", cls, x->seq - 1, filter);
        if (!ok) {
            s->dropped++;
            srv_log(LOG_ERR, "indications: cannot write %s", what);
            sc_buf_free(&b);
            continue;
        }
        size_t len = b.len;
        enqueue(s, k, sc_buf_take(&b), len, sc_xstrdup(what));
    }
    pthread_mutex_unlock(&s->lock);
    sc_arena_free(a);
}

static void fwatch_free(fwatch *f)
{
    smbcim_watch_close(f->w);
    free(f->name), free(f->query), free(f);
}

/* Brings the watchers in line with the subscribed filters; under s->lock. */
static void sync_watches(srv_subs *s)
{
    for (fwatch **pp = &s->watches; *pp;) {
        fwatch *f = *pp;
        rec_filter *r = find_filter(s, f->name);
        if (!r || strcmp(r->query, f->query) != 0 || !uses_of(s, f->name, NULL)) {
            *pp = f->next;
            fwatch_free(f);
        } else {
            pp = &f->next;
        }
    }
    for (size_t i = 0; i < s->nfilters; i++) {
        const rec_filter *r = &s->filters[i];
        bool have = false;
        for (fwatch *f = s->watches; f; f = f->next)
            have |= sc_streqi(f->name, r->name);
        if (have || !uses_of(s, r->name, NULL))
            continue;
        fwatch *f = sc_xcalloc(1, sizeof *f);
        f->name = sc_xstrdup(r->name);
        f->query = sc_xstrdup(r->query);
        f->next = s->watches;
        s->watches = f;
    }
}

/* One poll of one filter: not under s->lock.  The first poll takes the
 * state as it is (no events for what already exists: WMI's behaviour). */
static void poll_one(srv_subs *s, fwatch *f)
{
    smbcim_error err = {0};
    srv_state *st = srv_state_get(s->cache, &err);
    smbcim_ctx *ctx = NULL;
    unsigned long gen = 0;
    if (st) {
        gen = st->gen;
        if (f->w && gen == f->gen) { /* the same state: nothing can have changed */
            srv_state_release(s->cache, st);
            return;
        }
        ctx = srv_state_open_copy(st, &err);
        srv_state_release(s->cache, st);
    }
    if (!ctx) {
        if (!f->failed)
            srv_log(LOG_WARNING, "indications: filter '%s': cannot read the server state: %s",
                    f->name, err.msg);
        f->failed = true;
        return;
    }
    if (!f->w) {
        f->w = smbcim_watch_open(ctx, f->query, &err);
        if (!f->w) {
            smbcim_close(ctx);
            if (!f->failed)
                srv_log(LOG_ERR, "indications: filter '%s' cannot be watched: %s", f->name,
                        err.msg);
            f->failed = true;
            return;
        }
        f->interval = smbcim_watch_interval(f->w);
        f->gen = gen;
        f->failed = false;
        return;
    }
    smbcim_result *ev = NULL;
    if (smbcim_watch_poll(f->w, ctx, &ev, &err) != WBEM_S_NO_ERROR) {
        if (!f->failed)
            srv_log(LOG_WARNING, "indications: filter '%s': %s", f->name, err.msg);
        f->failed = true;
        return;
    }
    f->gen = gen;
    f->failed = false;
    for (size_t i = 0; i < ev->count; i++)
        deliver(s, f->name, ev->instances[i]);
    smbcim_result_free(ev);
}

static void reap(srv_subs *s, bool all)
{
    for (sender **pp = &s->retired; *pp;) {
        sender *k = *pp;
        if (k->done || all) {
            *pp = k->next;
            pthread_mutex_unlock(&s->lock);
            pthread_join(k->thread, NULL);
            pthread_mutex_lock(&s->lock);
            sender_free(k);
        } else {
            pp = &k->next;
        }
    }
}

static void *poller_main(void *arg)
{
    srv_subs *s = arg;
    pthread_mutex_lock(&s->lock);
    while (!s->stop) {
        sync_watches(s);
        reap(s, false);
        double now = srv_now(), next = now + 1.0;
        for (fwatch *f = s->watches; f && !s->stop; f = f->next) {
            if (f->due <= now) {
                unsigned long gen = s->gen;
                pthread_mutex_unlock(&s->lock);
                poll_one(s, f);
                pthread_mutex_lock(&s->lock);
                double iv = f->interval > 0 ? f->interval : 1.0;
                f->due = srv_now() + (f->failed ? (iv > 5 ? iv : 5) : iv);
                if (gen != s->gen)
                    break; /* the records changed: sync first (f may be gone next time) */
            }
            if (f->due < next)
                next = f->due;
        }
        if (s->stop)
            break;
        double wait = next - srv_now();
        if (wait > 0) {
            struct timespec ts = from_now(wait);
            pthread_cond_timedwait(&s->wake, &s->lock, &ts);
        }
    }
    pthread_mutex_unlock(&s->lock);
    return NULL;
}

/* ---- life cycle ----------------------------------------------------------------- */

srv_subs *srv_subs_new(const srv_config *c, srv_cache *cache)
{
    srv_subs *s = sc_xcalloc(1, sizeof *s);
    s->cfg = c;
    s->cache = cache;
    pthread_mutex_init(&s->lock, NULL);
    pthread_cond_init(&s->wake, NULL);
    unsigned char r[8];
    if (getrandom(r, sizeof r, GRND_NONBLOCK) != (ssize_t)sizeof r)
        memset(r, 0, sizeof r);
    snprintf(s->context, sizeof s->context, "%02x%02x%02x%02x%02x%02x%02x%02x", r[0], r[1],
             r[2], r[3], r[4], r[5], r[6], r[7]);
    smbcim_error err = {0};
    s->schema = smbcim_open_interop(NULL, &err);
    if (!s->schema) {
        srv_log(LOG_ERR, "cannot load the root/interop schema: %s", err.msg);
        abort();
    }
    const char *dir = c->state_dir && *c->state_dir ? c->state_dir : "/var/lib/smbcim";
    s->dir = sc_xstrdup(dir);
    size_t n = strlen(dir) + sizeof STATE_FILE + 2;
    s->path = sc_xmalloc(n);
    snprintf(s->path, n, "%s/%s", dir, STATE_FILE);
    curl_global_init(CURL_GLOBAL_DEFAULT);
    load(s);
    return s;
}

void srv_subs_start(srv_subs *s)
{
    if (pthread_create(&s->poller, NULL, poller_main, s) == 0)
        s->poller_started = true;
    else
        srv_log(LOG_ERR, "indications: cannot start the poller thread; nothing will be "
                "delivered");
}

void srv_subs_free(srv_subs *s)
{
    if (!s)
        return;
    pthread_mutex_lock(&s->lock);
    s->stop = true;
    pthread_cond_broadcast(&s->wake);
    for (sender *k = s->senders; k; k = k->next)
        pthread_cond_broadcast(&k->cond);
    pthread_mutex_unlock(&s->lock);
    if (s->poller_started)
        pthread_join(s->poller, NULL);
    pthread_mutex_lock(&s->lock);
    while (s->senders) {
        sender *k = s->senders;
        s->senders = k->next;
        s->discarded += k->n;
        k->next = s->retired;
        s->retired = k;
    }
    reap(s, true);
    pthread_mutex_unlock(&s->lock);
    if (s->discarded)
        srv_log(LOG_INFO, "indications: %" PRIu64 " queued indication(s) not sent (their "
                "destination deleted, or shutdown)", s->discarded);
    while (s->watches) {
        fwatch *f = s->watches;
        s->watches = f->next;
        fwatch_free(f);
    }
    records_free(s);
    smbcim_close(s->schema);
    curl_global_cleanup();
    pthread_cond_destroy(&s->wake);
    pthread_mutex_destroy(&s->lock);
    free(s->dir), free(s->path), free(s);
}

void srv_subs_stats_get(srv_subs *s, srv_subs_stats *out)
{
    pthread_mutex_lock(&s->lock);
    *out = (srv_subs_stats){.delivered = s->delivered, .failed = s->failed,
                            .dropped = s->dropped, .subscriptions = s->nsubs};
    for (const sender *k = s->senders; k; k = k->next)
        out->queued += k->n;
    pthread_mutex_unlock(&s->lock);
}
