/*
 * auth.c - HTTP Basic credentials checked through PAM (service
 * "smbcimd" by default: /etc/pam.d/smbcimd), the admin-group test, and
 * the budgets that keep password guessing slow.
 *
 * PAM runs in helper processes, smbcimd-auth (src/smbcimd-auth/main.c):
 * a pool of at most auth_helpers, started as logins need them, each asked
 * one question at a time over a pipe.  PAM modules are not all
 * thread-safe, they then never run inside the multi-threaded server, and a
 * module that crashes takes only its helper down (it is started again).
 * A helper starts with no signal blocked or ignored (the server blocks
 * SIGTERM, SIGINT and SIGHUP in all its threads for sigwait, and ignores
 * SIGPIPE); an answer that does not come within auth_timeout seconds fails
 * that login (503) and the helper is killed.  A login that finds every
 * helper busy waits (at most auth_timeout) in a queue of auth_queue places
 * where requests without recent failures go first; requests from
 * addresses or user names with recent failures are refused (503 and
 * Retry-After) once it is half full, everyone once it is full.
 *
 * Before PAM is asked, throttle.c decides whether it may be: a user name
 * locked out after repeated failures is refused (401) without asking; an
 * address within its failure delay gets 503 at once, and so does, when the
 * global budget (auth_rate per second) is spent, every request but those
 * without recent failures from a user or address that logged in before.  A failure is answered no sooner than auth_failure_ms after the
 * check began, whether the user exists or not (PAM answers faster for an
 * unknown name), and then after the address's failure delay (0.5 s
 * doubling to 8 s).
 *
 * Successful logins are remembered for auth_cache_seconds under a SHA-256
 * of "user:password" (never the password itself), so that a client polling
 * with keep-alive does not run PAM on every request; the account is still
 * looked up on every request (a removed account is refused, the admin
 * group membership is the current one) and SIGHUP empties the cache.
 * Failures are never remembered; each is logged with the user and the peer.
 */
#include <errno.h>
#include <grp.h>
#include <gnutls/crypto.h>
#include <math.h>
#include <pwd.h>
#include <fcntl.h>
#include <poll.h>
#include <sys/stat.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

#include "paths.h" /* SMBCIM_LIBEXECDIR, from the Makefile's LIBEXECDIR */

#define CACHE_SLOTS 256
#define MAX_HELPERS 64
#define INFLIGHT 64

typedef struct cached {
    unsigned char digest[32];
    char user[256];
    bool admin;
    double until;
    bool used;
} cached;

/* One helper process; its fields change only while it is busy (owned by
 * the thread asking it) or under srv_auth's lock. */
typedef struct helper {
    long pid;                  /* its id (priv.c), 0: not running */
    int to, from;              /* our ends of its pipes */
    bool busy;
} helper;

struct srv_auth {
    const srv_config *cfg;
    pthread_mutex_t lock;      /* cache, pool, the once-only notes */
    pthread_cond_t freed;      /* a helper became free, or a waiter left */
    helper helpers[MAX_HELPERS];
    unsigned nhelpers;         /* auth_helpers when started */
    unsigned waiting;          /* logins queued for a helper ... */
    unsigned waiting_clean;    /* ... of which without recent failures */
    double busy_said;          /* last "all helpers busy" line */
    bool slow_pam_said;
    /* Credentials being checked now (SHA-256 of user:password): a request
     * with the same ones waits for that answer instead of asking PAM again
     * (many keep-alive clients of one user when its cache entry expires). */
    unsigned char inflight[INFLIGHT][32];
    bool inflight_used[INFLIGHT];
    pthread_cond_t checked;    /* an inflight check ended */
    srv_throttle *thr;
    char helper_path[4200];
    cached cache[CACHE_SLOTS];
};

static void helper_end(helper *h, bool now);

srv_auth *srv_auth_new(const srv_config *c)
{
    srv_auth *a = sc_xcalloc(1, sizeof *a);
    a->cfg = c;
    pthread_mutex_init(&a->lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&a->freed, &ca);
    pthread_cond_init(&a->checked, &ca);
    pthread_condattr_destroy(&ca);
    a->nhelpers = c->auth_helpers < 1 ? 1 : c->auth_helpers > MAX_HELPERS ? MAX_HELPERS
                                                                          : c->auth_helpers;
    for (unsigned i = 0; i < MAX_HELPERS; i++)
        a->helpers[i].to = a->helpers[i].from = -1;
    a->busy_said = -1e9;
    a->thr = srv_throttle_new(c);
    srv_helper_path(a->helper_path, sizeof a->helper_path);
    return a;
}

void srv_auth_set_helper(srv_auth *a, const char *path)
{
    snprintf(a->helper_path, sizeof a->helper_path, "%s", path);
}

void srv_auth_free(srv_auth *a)
{
    if (!a)
        return;
    for (unsigned i = 0; i < a->nhelpers; i++)
        helper_end(&a->helpers[i], false);
    pthread_cond_destroy(&a->freed);
    pthread_cond_destroy(&a->checked);
    pthread_mutex_destroy(&a->lock);
    srv_throttle_free(a->thr);
    explicit_bzero(a->cache, sizeof a->cache);
    free(a);
}

void srv_auth_clear_cache(srv_auth *a)
{
    pthread_mutex_lock(&a->lock);
    explicit_bzero(a->cache, sizeof a->cache);
    pthread_mutex_unlock(&a->lock);
}

static int b64val(int c)
{
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
}

bool srv_basic_decode(const char *h, char *user, size_t ulen, char *pass, size_t plen)
{
    if (!h || strncasecmp(h, "Basic", 5) != 0 || (h[5] != ' ' && h[5] != '\t'))
        return false;
    h += 5;
    while (*h == ' ' || *h == '\t')
        h++;
    char out[1024];
    size_t n = 0;
    unsigned acc = 0;
    int bits = 0, pad = 0;
    for (; *h && *h != ' ' && *h != '\t'; h++) {
        if (*h == '=') {
            pad++;
            continue;
        }
        int v = b64val((unsigned char)*h);
        if (v < 0 || pad)
            return false;
        acc = (acc << 6) | (unsigned)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (n >= sizeof out - 1)
                return false;
            out[n++] = (char)((acc >> bits) & 0xFF);
        }
    }
    while (*h == ' ' || *h == '\t')
        h++;
    if (*h || pad > 2)
        return false;
    out[n] = '\0';
    if (memchr(out, '\0', n))
        return false;
    char *colon = strchr(out, ':');
    if (!colon || colon == out)
        return false;
    size_t ul = (size_t)(colon - out);
    size_t pl = n - ul - 1;
    if (ul >= ulen || pl >= plen)
        return false;
    memcpy(user, out, ul);
    user[ul] = '\0';
    memcpy(pass, colon + 1, pl);
    pass[pl] = '\0';
    explicit_bzero(out, sizeof out);
    return true;
}

bool srv_account(const char *user, const char *group, bool *admin)
{
    *admin = false;
    struct passwd pw, *pres = NULL;
    char buf[16384];
    if (getpwnam_r(user, &pw, buf, sizeof buf, &pres) != 0 || !pres)
        return false;
    if (pres->pw_uid == 0) {
        *admin = true;
        return true;
    }
    if (!group || !*group)
        return true;
    struct group gr, *gres = NULL;
    char gbuf[16384];
    if (getgrnam_r(group, &gr, gbuf, sizeof gbuf, &gres) != 0 || !gres)
        return true;
    gid_t target = gres->gr_gid;
    if (pres->pw_gid == target) {
        *admin = true;
        return true;
    }
    /* The group's member list first (one lookup already made); the
     * user's group list (initgroups: NSS modules that leave members out
     * of getgrnam, such as sssd with ignore_group_members) only if not. */
    for (char **m = gres->gr_mem; m && *m; m++)
        if (strcmp(*m, user) == 0) {
            *admin = true;
            return true;
        }
    int ng = 64;
    gid_t *groups = NULL;
    for (int tries = 0; tries < 4; tries++) {
        groups = sc_xrealloc(groups, sizeof(gid_t) * (size_t)ng);
        int want = ng;
        if (getgrouplist(user, pres->pw_gid, groups, &want) >= 0) {
            ng = want;
            break;
        }
        ng = want > ng ? want : ng * 2;
        if (tries == 3)
            ng = 0;
    }
    for (int i = 0; i < ng && !*admin; i++)
        *admin = groups[i] == target;
    free(groups);
    return true;
}

bool srv_user_in_group(const char *user, const char *group)
{
    bool admin;
    return srv_account(user, group, &admin) && admin;
}

/* ---- the PAM helpers (smbcimd-auth) ------------------------------------- */

void srv_helper_path(char *out, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, len, "%s/smbcimd-auth", self);
            struct stat st;
            if (stat(out, &st) == 0)
                return; /* a build tree (or a copy): this one, whatever its mode */
        }
    }
    snprintf(out, len, "%s/smbcimd-auth", SMBCIM_LIBEXECDIR);
}

/* Closes the pipes and ends the helper (priv.c: in process, or through
 * the privileged part that started it). */
static void helper_end(helper *h, bool now)
{
    if (h->to >= 0)
        close(h->to);
    if (h->from >= 0)
        close(h->from);
    h->to = h->from = -1;
    if (h->pid > 0)
        srv_priv_helper_end(h->pid, now);
    h->pid = 0;
}

static bool helper_start(srv_auth *a, helper *h, char *why, size_t whylen)
{
    long id = 0;
    int to = -1, from = -1;
    if (!srv_priv_helper_start(a->helper_path, a->cfg->pam_service, &id, &to, &from, why,
                               whylen))
        return false;
    /* Ours are non-blocking: helper_ask waits with poll and a deadline. */
    fcntl(to, F_SETFL, fcntl(to, F_GETFL) | O_NONBLOCK);
    fcntl(from, F_SETFL, fcntl(from, F_GETFL) | O_NONBLOCK);
    h->pid = id;
    h->to = to;
    h->from = from;
    return true;
}

typedef enum { ASK_OK, ASK_FAILED, ASK_TIMEOUT } ask_result;

/* Reads (wr false) or writes exactly n bytes on a non-blocking pipe before
 * the monotonic time `deadline`. */
static ask_result io_full(int fd, void *buf, size_t n, bool wr, double deadline)
{
    char *p = buf;
    while (n) {
        ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
            continue;
        }
        if (r == 0 || (errno != EINTR && errno != EAGAIN && errno != EWOULDBLOCK))
            return ASK_FAILED;
        if (errno == EINTR)
            continue;
        double left = deadline - srv_now();
        if (left <= 0)
            return ASK_TIMEOUT;
        struct pollfd pfd = {fd, wr ? POLLOUT : POLLIN, 0};
        int ms = (int)(left * 1000) + 1;
        if (poll(&pfd, 1, ms) < 0 && errno != EINTR)
            return ASK_FAILED;
    }
    return ASK_OK;
}

/* One question to a helper, answered before `deadline`. */
static ask_result helper_ask(helper *h, const char *req, size_t len, char *ans, size_t anslen,
                             double deadline)
{
    unsigned char lb[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    ask_result r = io_full(h->to, lb, 4, true, deadline);
    if (r == ASK_OK)
        r = io_full(h->to, (void *)req, len, true, deadline);
    if (r == ASK_OK)
        r = io_full(h->from, lb, 4, false, deadline);
    if (r != ASK_OK)
        return r;
    size_t n = (size_t)lb[0] | (size_t)lb[1] << 8 | (size_t)lb[2] << 16 | (size_t)lb[3] << 24;
    if (n == 0 || n >= anslen)
        return ASK_FAILED;
    r = io_full(h->from, ans, n, false, deadline);
    if (r != ASK_OK)
        return r;
    ans[n] = '\0';
    return ASK_OK;
}

/* A free helper for this request, under a->lock: a running one first,
 * else a slot to start one in; none for a request with recent failures
 * while requests without wait. */
static helper *pick(srv_auth *a, bool clean)
{
    if (!clean && a->waiting_clean)
        return NULL;
    helper *idle = NULL;
    for (unsigned i = 0; i < a->nhelpers; i++) {
        helper *h = &a->helpers[i];
        if (h->busy)
            continue;
        if (h->pid > 0)
            return h;
        if (!idle)
            idle = h;
    }
    return idle;
}

static void deadline_ts(double t, struct timespec *ts)
{
    ts->tv_sec = (time_t)t;
    ts->tv_nsec = (long)((t - (double)ts->tv_sec) * 1e9);
    if (ts->tv_nsec >= 1000000000L) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000L;
    }
}

/* A helper for this thread (busy until helper_release), waiting for one at
 * most auth_timeout seconds in the queue; NULL with why and *retry set when
 * the queue is full or the wait ran out (*quiet: a full queue was said
 * less than 10 s ago, do not log it again). */
static helper *helper_acquire(srv_auth *a, bool clean, char *why, size_t whylen,
                              unsigned *retry, bool *quiet)
{
    const srv_config *c = a->cfg;
    pthread_mutex_lock(&a->lock);
    helper *h = pick(a, clean);
    if (!h) {
        unsigned room = clean ? c->auth_queue : c->auth_queue / 2;
        if (a->waiting >= room) {
            double now = srv_now();
            bool say = now - a->busy_said >= 10.0;
            if (say)
                a->busy_said = now;
            pthread_mutex_unlock(&a->lock);
            snprintf(why, whylen, "all %u PAM helpers are busy and %u logins wait "
                     "(auth-helpers, auth-queue)%s", a->nhelpers, room,
                     clean ? "" : "; this one from an address or for a user with recent failures");
            *retry = 2;
            *quiet = !say;
            return NULL;
        }
        a->waiting++;
        if (clean)
            a->waiting_clean++;
        double deadline = srv_now() + c->auth_timeout;
        struct timespec ts;
        deadline_ts(deadline, &ts);
        while (!(h = pick(a, clean))) {
            int e = pthread_cond_timedwait(&a->freed, &a->lock, &ts);
            if (e == ETIMEDOUT && !(h = pick(a, clean)))
                break;
        }
        a->waiting--;
        if (clean && --a->waiting_clean == 0)
            pthread_cond_broadcast(&a->freed); /* the others may go now */
        if (!h) {
            pthread_mutex_unlock(&a->lock);
            snprintf(why, whylen, "no PAM helper became free within %u s (auth-timeout)",
                     c->auth_timeout);
            *retry = c->auth_timeout;
            return NULL;
        }
    }
    h->busy = true;
    pthread_mutex_unlock(&a->lock);
    return h;
}

static void helper_release(srv_auth *a, helper *h)
{
    pthread_mutex_lock(&a->lock);
    h->busy = false;
    pthread_cond_broadcast(&a->freed);
    pthread_mutex_unlock(&a->lock);
}

/* PAM's verdict through a helper: SRV_AUTH_OK, SRV_AUTH_FAILED (PAM said
 * no), or SRV_AUTH_UNAVAILABLE (no helper free in time, or it could not be
 * started, died twice, or did not answer in time), with why set for the
 * last two and *retry for the last.  *quiet: do not log this one (a
 * repeated "all busy"). */
static srv_auth_result pam_check(srv_auth *a, const char *user, const char *pass,
                                 const char *peer, bool clean, char *why, size_t whylen,
                                 unsigned *retry, bool *quiet)
{
    *quiet = false;
    const char *parts[] = {a->cfg->pam_service, user, pass, peer};
    char req[4096];
    size_t len = 0;
    for (int i = 0; i < 4; i++) {
        size_t l = strlen(parts[i]) + 1;
        if (len + l > sizeof req) {
            snprintf(why, whylen, "credentials too long");
            return SRV_AUTH_FAILED;
        }
        memcpy(req + len, parts[i], l);
        len += l;
    }
    helper *h = helper_acquire(a, clean, why, whylen, retry, quiet);
    if (!h) {
        explicit_bzero(req, sizeof req);
        return SRV_AUTH_UNAVAILABLE;
    }
    char ans[1024];
    bool asked = false;
    double deadline = srv_now() + a->cfg->auth_timeout;
    for (int attempt = 0; attempt < 2 && !asked; attempt++) {
        if (h->pid <= 0 && !helper_start(a, h, why, whylen))
            break;
        ask_result r = helper_ask(h, req, len, ans, sizeof ans, deadline);
        asked = r == ASK_OK;
        if (r == ASK_TIMEOUT) { /* hung (in a PAM module?): no second try */
            srv_log(LOG_ERR, "the PAM helper smbcimd-auth did not answer within %u s "
                    "(auth-timeout); killed it, it is started again for the next login",
                    a->cfg->auth_timeout);
            helper_end(h, true);
            snprintf(why, whylen, "the PAM helper did not answer within %u s",
                     a->cfg->auth_timeout);
            break;
        }
        if (!asked) { /* it died (or was killed): start a new one once */
            srv_log(LOG_WARNING, "the PAM helper stopped answering; starting it again");
            helper_end(h, true);
            snprintf(why, whylen, "the PAM helper smbcimd-auth failed");
        }
    }
    helper_release(a, h);
    explicit_bzero(req, sizeof req);
    if (!asked) {
        *retry = a->cfg->auth_timeout;
        return SRV_AUTH_UNAVAILABLE;
    }
    if (ans[0] != '0')
        snprintf(why, whylen, "%.200s", ans + 1);
    return ans[0] == '0' ? SRV_AUTH_OK : SRV_AUTH_FAILED;
}

/* ---- the login cache ---------------------------------------------------- */

static void digest_of(const char *user, const char *pass, unsigned char out[32])
{
    size_t ul = strlen(user), pl = strlen(pass);
    char *buf = sc_xmalloc(ul + pl + 2);
    memcpy(buf, user, ul);
    buf[ul] = ':';
    memcpy(buf + ul + 1, pass, pl + 1);
    gnutls_hash_fast(GNUTLS_DIG_SHA256, buf, ul + pl + 1, out);
    explicit_bzero(buf, ul + pl + 2);
    free(buf);
}

static unsigned slot_of(const unsigned char d[32])
{
    return ((unsigned)d[0] | (unsigned)d[1] << 8) % CACHE_SLOTS;
}

/* Whether user:password (digest d) logged in within auth_cache_seconds;
 * *admin: what the group said then. */
static bool cache_hit(srv_auth *a, const unsigned char d[32], const char *user, double now,
                      bool *admin)
{
    pthread_mutex_lock(&a->lock);
    cached *c = &a->cache[slot_of(d)];
    bool hit = c->used && c->until > now && memcmp(c->digest, d, 32) == 0 &&
               strcmp(c->user, user) == 0;
    if (hit)
        *admin = c->admin;
    pthread_mutex_unlock(&a->lock);
    return hit;
}

/* What cache_put does with the entry of digest d. */
typedef enum cache_op {
    CACHE_DROP,   /* forget it (the account is gone) */
    CACHE_FRESH,  /* PAM accepted it just now: its time starts again at now */
    CACHE_ADMIN,  /* only the admin flag changes; its time is not extended */
} cache_op;

static void cache_put(srv_auth *a, const unsigned char d[32], const char *user, bool admin,
                      double now, cache_op op)
{
    pthread_mutex_lock(&a->lock);
    cached *c = &a->cache[slot_of(d)];
    bool same = c->used && memcmp(c->digest, d, 32) == 0 && strcmp(c->user, user) == 0;
    if (op == CACHE_DROP) {
        if (memcmp(c->digest, d, 32) == 0)
            explicit_bzero(c, sizeof *c);
    } else if (op == CACHE_ADMIN) {
        if (same)
            c->admin = admin;
    } else {
        /* (an expired entry of the same login is renewed too: without
         * that, every request after the first auth-cache-seconds went
         * through PAM) */
        memcpy(c->digest, d, 32);
        snprintf(c->user, sizeof c->user, "%s", user);
        c->admin = admin;
        c->until = now + a->cfg->auth_cache_seconds;
        c->used = a->cfg->auth_cache_seconds > 0;
    }
    pthread_mutex_unlock(&a->lock);
}

/* This thread checks credentials d: returns its slot (release with
 * inflight_end), or -1 after waiting (at most auth_timeout) for another
 * thread that checked the same ones (look in the cache again), or -2 when
 * the table is full (check without a slot). */
static int inflight_begin(srv_auth *a, const unsigned char d[32])
{
    pthread_mutex_lock(&a->lock);
    int free_slot = -2;
    bool waited = false;
    struct timespec ts;
    deadline_ts(srv_now() + a->cfg->auth_timeout, &ts);
    for (;;) {
        int found = -1;
        free_slot = -2;
        for (int i = 0; i < INFLIGHT; i++) {
            if (!a->inflight_used[i]) {
                if (free_slot < 0)
                    free_slot = i;
            } else if (memcmp(a->inflight[i], d, 32) == 0) {
                found = i;
            }
        }
        if (found < 0)
            break;
        waited = true;
        if (pthread_cond_timedwait(&a->checked, &a->lock, &ts) == ETIMEDOUT)
            break;
    }
    if (waited) {
        pthread_mutex_unlock(&a->lock);
        return -1;
    }
    if (free_slot >= 0) {
        memcpy(a->inflight[free_slot], d, 32);
        a->inflight_used[free_slot] = true;
    }
    pthread_mutex_unlock(&a->lock);
    return free_slot;
}

static void inflight_end(srv_auth *a, int slot)
{
    if (slot < 0)
        return;
    pthread_mutex_lock(&a->lock);
    a->inflight_used[slot] = false;
    explicit_bzero(a->inflight[slot], 32);
    pthread_cond_broadcast(&a->checked);
    pthread_mutex_unlock(&a->lock);
}

/* ---- failures ------------------------------------------------------------ */

static void sleep_until(double t)
{
    double left = t - srv_now();
    if (left <= 0)
        return;
    struct timespec ts = {(time_t)left, (long)((left - (double)(time_t)left) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

/* Every final failure ends here: counted against the peer (and the user
 * name, when PAM said no), then answered no sooner than auth_failure_ms
 * after the check began (t0) and the peer's failure delay after that. */
static void failure_delay(srv_auth *a, const char *user, const char *peer, double t0,
                          bool checked)
{
    srv_metrics_login_failed(); /* every final failure passes here (smbcim_login_failures_total) */
    double pad_end = t0 + (double)a->cfg->auth_failure_ms / 1000.0;
    double now = srv_now();
    double from = now > pad_end ? now : pad_end;
    srv_admit_info li;
    double delay = srv_throttle_failure(a->thr, user, peer, from, &li);
    if (li.locked)
        srv_log(LOG_WARNING, "user '%s' locked out for %.0f s after %u failed logins within "
                "%u s (the last from %s): its logins are refused without asking PAM "
                "until then, the right password too (user-lockout-*)", user, li.retry,
                li.failures, a->cfg->user_lockout_window, peer);
    if (checked)
        srv_throttle_checked(a->thr, peer); /* after the failure is on record */
    sleep_until(from + delay);
}

static unsigned retry_of(double seconds)
{
    double r = ceil(seconds);
    return r < 1 ? 1 : r > 3600 ? 3600 : (unsigned)r;
}

/* The cached login of user (digest d): the account as it is now, removed
 * or moved in or out of the admin group since the password was checked. */
static srv_auth_result cached_login(srv_auth *a, const unsigned char d[32], const char *user,
                                    const char *peer, bool was_admin, srv_identity *who)
{
    const srv_config *c = a->cfg;
    bool admin = false;
    if (!srv_account(user, c->admin_group, &admin)) {
        cache_put(a, d, user, false, 0, CACHE_DROP);
        srv_log(LOG_NOTICE, "user '%s' (from %s) no longer exists: its cached login is "
                "refused", user, peer);
        return SRV_AUTH_FAILED;
    }
    if (admin != was_admin) {
        srv_log(LOG_INFO, "user '%s' is %s the admin group '%s' now", user,
                admin ? "in" : "no longer in", c->admin_group ? c->admin_group : "");
        cache_put(a, d, user, admin, 0, CACHE_ADMIN);
    }
    snprintf(who->user, sizeof who->user, "%s", user);
    who->admin = admin;
    return SRV_AUTH_OK;
}

/* Credentials not in the cache: the budgets, then PAM.  *slot (from
 * inflight_begin) is released as soon as PAM has answered, before a
 * failure's delay, and set to -2. */
static srv_auth_result check(srv_auth *a, const unsigned char d[32], const char *user,
                             const char *pass, const char *peer, double t0, srv_identity *who,
                             int *slot, unsigned *retry_after)
{
    const srv_config *c = a->cfg;
    bool admin = false;
    srv_admit_info ai;
    srv_admit ad = srv_throttle_admit(a->thr, user, peer, t0, &ai);
    if (ad == SRV_ADMIT_LOCKED) {
        srv_log(LOG_DEBUG, "refused a login of user '%s' from %s without asking PAM: "
                "locked out for %.0f more s", user, peer, ai.retry);
        failure_delay(a, NULL, peer, t0, false);
        return SRV_AUTH_FAILED;
    }
    if (ad != SRV_ADMIT_OK) {
        int prio = ai.say ? LOG_NOTICE : LOG_DEBUG;
        if (ad == SRV_ADMIT_PEER_WAIT)
            srv_log(prio, "refusing logins from %s for %.1f s without asking PAM (503): "
                    "recent failed logins from that address", peer, ai.retry);
        else if (ad == SRV_ADMIT_PEER_BUSY)
            srv_log(prio, "refusing a login of user '%s' from %s without asking PAM (503): "
                    "%d logins from that address are being checked already", user, peer,
                    THR_PEER_CHECKS);
        else
            srv_log(prio, "login budget spent (auth-rate %u/s): refusing logins without "
                    "asking PAM (503) but those of users or from addresses that logged in "
                    "before and have no recent failure; here user '%s' from %s",
                    c->auth_rate, user, peer);
        *retry_after = retry_of(ai.retry);
        return SRV_AUTH_UNAVAILABLE;
    }
    char why[256] = "";
    unsigned retry = 10;
    bool quiet = false;
    srv_auth_result pr = pam_check(a, user, pass, peer, ai.clean, why, sizeof why, &retry,
                                   &quiet);
    if (pr == SRV_AUTH_OK)
        cache_put(a, d, user, false, t0, CACHE_FRESH); /* waiters find it (admin below) */
    inflight_end(a, *slot);
    *slot = -2;
    if (pr == SRV_AUTH_UNAVAILABLE) {
        /* Nothing was checked: no failure delay, no guess counted. */
        srv_throttle_checked(a->thr, peer);
        srv_log(quiet ? LOG_DEBUG : LOG_ERR, "login of user '%s' from %s not checked: %s",
                user, peer, why);
        *retry_after = retry;
        return SRV_AUTH_UNAVAILABLE;
    }
    if (pr != SRV_AUTH_OK) {
        srv_log(LOG_WARNING, "authentication failed for user '%s' from %s: %s", user, peer, why);
        double took = srv_now() - t0;
        pthread_mutex_lock(&a->lock);
        bool say = took * 1000.0 > (double)c->auth_failure_ms && !a->slow_pam_said;
        if (say)
            a->slow_pam_said = true;
        pthread_mutex_unlock(&a->lock);
        if (say)
            srv_log(LOG_WARNING, "a failed login took %.0f ms, more than auth-failure-ms (%u): "
                    "failures of existing and unknown user names may be told apart by their "
                    "time; raise auth-failure-ms", took * 1000.0, c->auth_failure_ms);
        failure_delay(a, user, peer, t0, true);
        return SRV_AUTH_FAILED;
    }
    srv_throttle_success(a->thr, user, peer, srv_now());
    srv_throttle_checked(a->thr, peer);
    if (!srv_account(user, c->admin_group, &admin)) {
        srv_log(LOG_WARNING, "user '%s' from %s: PAM accepted it but the account cannot be "
                "looked up (getpwnam); refused", user, peer);
        return SRV_AUTH_FAILED;
    }
    srv_log(LOG_INFO, "user '%s' logged in from %s%s", user, peer, admin ? " (admin)" : "");
    cache_put(a, d, user, admin, t0, CACHE_ADMIN);
    snprintf(who->user, sizeof who->user, "%s", user);
    who->admin = admin;
    return SRV_AUTH_OK;
}

srv_auth_result srv_auth_check(srv_auth *a, const char *authorization, const char *peer,
                               srv_identity *who)
{
    unsigned retry_after;
    return srv_auth_check_retry(a, authorization, peer, who, &retry_after);
}

srv_auth_result srv_auth_check_retry(srv_auth *a, const char *authorization, const char *peer,
                                     srv_identity *who, unsigned *retry_after)
{
    double t0 = srv_now();
    *retry_after = 10;
    memset(who, 0, sizeof *who);
    if (!authorization || strncasecmp(authorization, "Basic", 5) != 0)
        return SRV_AUTH_MISSING;
    char user[256], pass[768];
    if (!srv_basic_decode(authorization, user, sizeof user, pass, sizeof pass)) {
        srv_log(LOG_WARNING, "authentication failed from %s: malformed Basic credentials", peer);
        failure_delay(a, NULL, peer, t0, false);
        return SRV_AUTH_MALFORMED;
    }
    unsigned char d[32];
    digest_of(user, pass, d);
    bool was_admin = false;
    int slot = -2;
    for (int round = 0; round < 2; round++) {
        if (cache_hit(a, d, user, srv_now(), &was_admin)) {
            explicit_bzero(pass, sizeof pass);
            return cached_login(a, d, user, peer, was_admin, who);
        }
        if (round == 0 && (slot = inflight_begin(a, d)) != -1)
            break; /* nobody else is checking these credentials */
    }
    srv_auth_result r = check(a, d, user, pass, peer, t0, who, &slot, retry_after);
    explicit_bzero(pass, sizeof pass);
    inflight_end(a, slot);
    return r;
}
