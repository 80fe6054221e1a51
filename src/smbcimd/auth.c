/*
 * auth.c - HTTP Basic credentials checked through PAM (service
 * "smbcimd" by default: /etc/pam.d/smbcimd), and the admin-group test.
 *
 * PAM runs in a helper process, smbcimd-auth (src/smbcimd-auth/main.c),
 * started on the first login and asked one question at a time over a pipe:
 * PAM modules are not all thread-safe, they then never run inside the
 * multi-threaded server, and a module that crashes takes only the helper
 * down (it is started again).  It starts with no signal blocked or ignored
 * (the server blocks SIGTERM, SIGINT and SIGHUP in all its threads for
 * sigwait, and ignores SIGPIPE), and an answer that does not come within
 * auth_timeout seconds fails that login and the helper is killed (it is
 * started again for the next one).
 *
 * Successful logins are remembered for auth_cache_seconds under a SHA-256
 * of "user:password" (never the password itself), so that a client polling
 * with keep-alive does not run PAM on every request.  Failures are never
 * remembered; each is logged with the user and the peer, and answered only
 * after a delay that doubles with each recent failure from that peer (0.5 s
 * up to 8 s), which slows password guessing down without blocking other
 * clients (every connection has its own thread).
 */
#include <errno.h>
#include <grp.h>
#include <gnutls/crypto.h>
#include <pwd.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

#define CACHE_SLOTS 256
#define PEER_SLOTS 256

typedef struct cached {
    unsigned char digest[32];
    char user[256];
    bool admin;
    double until;
    bool used;
} cached;

typedef struct peer_fail {
    char peer[64];
    unsigned count;
    double last;
} peer_fail;

struct srv_auth {
    const srv_config *cfg;
    pthread_mutex_t lock;      /* cache and failure table */
    pthread_mutex_t pam_lock;  /* one question at a time to the helper */
    pid_t helper;              /* smbcimd-auth, started on the first login */
    int to_helper, from_helper;
    cached cache[CACHE_SLOTS];
    peer_fail fails[PEER_SLOTS];
};

static void helper_stop(srv_auth *a);

srv_auth *srv_auth_new(const srv_config *c)
{
    srv_auth *a = sc_xcalloc(1, sizeof *a);
    a->cfg = c;
    pthread_mutex_init(&a->lock, NULL);
    pthread_mutex_init(&a->pam_lock, NULL);
    a->to_helper = a->from_helper = -1;
    return a;
}

void srv_auth_free(srv_auth *a)
{
    if (!a)
        return;
    pthread_mutex_destroy(&a->lock);
    helper_stop(a);
    pthread_mutex_destroy(&a->pam_lock);
    explicit_bzero(a->cache, sizeof a->cache);
    free(a);
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

bool srv_user_in_group(const char *user, const char *group)
{
    struct passwd pw, *pres = NULL;
    char buf[16384];
    if (getpwnam_r(user, &pw, buf, sizeof buf, &pres) != 0 || !pres)
        return false;
    if (pres->pw_uid == 0)
        return true;
    if (!group || !*group)
        return false;
    struct group gr, *gres = NULL;
    char gbuf[16384];
    if (getgrnam_r(group, &gr, gbuf, sizeof gbuf, &gres) != 0 || !gres)
        return false;
    gid_t target = gres->gr_gid;
    if (pres->pw_gid == target)
        return true;
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
    bool in = false;
    for (int i = 0; i < ng && !in; i++)
        in = groups[i] == target;
    free(groups);
    return in;
}

/* ---- the PAM helper (smbcimd-auth) -------------------------------------- */

#include "paths.h" /* SMBCIM_LIBEXECDIR, from the Makefile's LIBEXECDIR */

/* The helper next to this executable (a build tree), else the installed one. */
static void helper_path(char *out, size_t len)
{
    char self[4096];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n > 0) {
        self[n] = '\0';
        char *slash = strrchr(self, '/');
        if (slash) {
            *slash = '\0';
            snprintf(out, len, "%s/smbcimd-auth", self);
            if (access(out, X_OK) == 0)
                return;
        }
    }
    snprintf(out, len, "%s/smbcimd-auth", SMBCIM_LIBEXECDIR);
}

/* Closes the pipes and ends the helper: SIGTERM (SIGKILL at once when
 * `now`), then SIGKILL if it is still there after a second. */
static void helper_end(srv_auth *a, bool now)
{
    if (a->to_helper >= 0)
        close(a->to_helper);
    if (a->from_helper >= 0)
        close(a->from_helper);
    a->to_helper = a->from_helper = -1;
    if (a->helper > 0) {
        kill(a->helper, now ? SIGKILL : SIGTERM);
        for (int i = 0; i < 100; i++) {
            pid_t r = waitpid(a->helper, NULL, WNOHANG);
            if (r == a->helper || (r < 0 && errno != EINTR))
                goto gone;
            struct timespec ts = {0, 10 * 1000 * 1000};
            nanosleep(&ts, NULL);
        }
        kill(a->helper, SIGKILL);
        while (waitpid(a->helper, NULL, 0) < 0 && errno == EINTR) {
        }
    }
gone:
    a->helper = 0;
}

static void helper_stop(srv_auth *a)
{
    helper_end(a, false);
}

static bool helper_start(srv_auth *a, char *why, size_t whylen)
{
    char path[4200];
    helper_path(path, sizeof path);
    int in[2], out[2];
    if (pipe(in) != 0)
        goto fail;
    if (pipe(out) != 0) {
        close(in[0]);
        close(in[1]);
        goto fail;
    }
    /* Our ends must not leak into other children (the smbstatus fallback). */
    fcntl(in[1], F_SETFD, FD_CLOEXEC);
    fcntl(out[0], F_SETFD, FD_CLOEXEC);
    char *argv[] = {"smbcimd-auth", NULL};
    char *envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", NULL};
    sigset_t none;
    sigemptyset(&none);
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    pid_t pid = fork();
    if (pid < 0) {
        close(in[0]), close(in[1]), close(out[0]), close(out[1]);
        goto fail;
    }
    if (pid == 0) { /* only async-signal-safe calls until exec */
        dup2(in[0], 0);
        dup2(out[1], 1);
        for (int fd = 3; fd < 1024; fd++)
            close(fd); /* listening sockets, client connections */
        /* The server's signal mask (SIGTERM, SIGINT, SIGHUP blocked for
         * sigwait) and ignored SIGPIPE would survive exec: the helper
         * starts with the defaults, so that SIGTERM ends it. */
        for (int sig = 1; sig < NSIG; sig++)
            sigaction(sig, &dfl, NULL); /* fails harmlessly for KILL, STOP */
        sigprocmask(SIG_SETMASK, &none, NULL);
        execve(path, argv, envp);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    /* Ours are non-blocking: helper_ask waits with poll and a deadline. */
    fcntl(in[1], F_SETFL, fcntl(in[1], F_GETFL) | O_NONBLOCK);
    fcntl(out[0], F_SETFL, fcntl(out[0], F_GETFL) | O_NONBLOCK);
    a->helper = pid;
    a->to_helper = in[1];
    a->from_helper = out[0];
    return true;
fail:
    snprintf(why, whylen, "cannot start %.150s: %.80s", path, strerror(errno));
    return false;
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

/* One question to the helper, answered within auth_timeout seconds. */
static ask_result helper_ask(srv_auth *a, const char *req, size_t len, char *ans,
                             size_t anslen)
{
    double deadline = srv_now() + a->cfg->auth_timeout;
    unsigned char lb[4] = {(unsigned char)len, (unsigned char)(len >> 8),
                           (unsigned char)(len >> 16), (unsigned char)(len >> 24)};
    ask_result r = io_full(a->to_helper, lb, 4, true, deadline);
    if (r == ASK_OK)
        r = io_full(a->to_helper, (void *)req, len, true, deadline);
    if (r == ASK_OK)
        r = io_full(a->from_helper, lb, 4, false, deadline);
    if (r != ASK_OK)
        return r;
    size_t n = (size_t)lb[0] | (size_t)lb[1] << 8 | (size_t)lb[2] << 16 | (size_t)lb[3] << 24;
    if (n == 0 || n >= anslen)
        return ASK_FAILED;
    r = io_full(a->from_helper, ans, n, false, deadline);
    if (r != ASK_OK)
        return r;
    ans[n] = '\0';
    return ASK_OK;
}

/* PAM's verdict through the helper: SRV_AUTH_OK, SRV_AUTH_FAILED (PAM said
 * no), or SRV_AUTH_UNAVAILABLE (the helper could not be started, died
 * twice, or did not answer in time), with why set for the last two. */
static srv_auth_result pam_check(srv_auth *a, const char *user, const char *pass,
                                 const char *peer, char *why, size_t whylen)
{
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
    char ans[1024];
    bool asked = false;
    pthread_mutex_lock(&a->pam_lock);
    for (int attempt = 0; attempt < 2 && !asked; attempt++) {
        if (a->helper <= 0 && !helper_start(a, why, whylen))
            break;
        ask_result r = helper_ask(a, req, len, ans, sizeof ans);
        asked = r == ASK_OK;
        if (r == ASK_TIMEOUT) { /* hung (in a PAM module?): no second try */
            srv_log(LOG_ERR, "the PAM helper smbcimd-auth did not answer within %u s "
                    "(auth-timeout); killed it, it is started again for the next login",
                    a->cfg->auth_timeout);
            helper_end(a, true);
            snprintf(why, whylen, "the PAM helper did not answer within %u s",
                     a->cfg->auth_timeout);
            break;
        }
        if (!asked) { /* it died (or was killed): start a new one once */
            srv_log(LOG_WARNING, "the PAM helper stopped answering; starting it again");
            helper_end(a, true);
            snprintf(why, whylen, "the PAM helper smbcimd-auth failed");
        }
    }
    pthread_mutex_unlock(&a->pam_lock);
    explicit_bzero(req, sizeof req);
    if (!asked)
        return SRV_AUTH_UNAVAILABLE;
    if (ans[0] != '0')
        snprintf(why, whylen, "%.200s", ans + 1);
    return ans[0] == '0' ? SRV_AUTH_OK : SRV_AUTH_FAILED;
}

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

static void failure_delay(srv_auth *a, const char *peer)
{
    double now = srv_now(), delay;
    pthread_mutex_lock(&a->lock);
    peer_fail *slot = NULL, *oldest = &a->fails[0];
    for (size_t i = 0; i < PEER_SLOTS; i++) {
        if (a->fails[i].count && strcmp(a->fails[i].peer, peer) == 0) {
            slot = &a->fails[i];
            break;
        }
        if (a->fails[i].last < oldest->last)
            oldest = &a->fails[i];
    }
    if (!slot) {
        slot = oldest;
        memset(slot, 0, sizeof *slot);
        snprintf(slot->peer, sizeof slot->peer, "%s", peer);
    }
    if (now - slot->last > 300)
        slot->count = 0; /* forgiven after five quiet minutes */
    slot->count++;
    slot->last = now;
    unsigned c = slot->count < 5 ? slot->count : 5;
    delay = 0.5 * (double)(1u << (c - 1)); /* 0.5, 1, 2, 4, 8 s */
    pthread_mutex_unlock(&a->lock);
    struct timespec ts = {(time_t)delay, (long)((delay - (double)(time_t)delay) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
    }
}

srv_auth_result srv_auth_check(srv_auth *a, const char *authorization, const char *peer,
                               srv_identity *who)
{
    memset(who, 0, sizeof *who);
    if (!authorization || strncasecmp(authorization, "Basic", 5) != 0)
        return SRV_AUTH_MISSING;
    char user[256], pass[768];
    if (!srv_basic_decode(authorization, user, sizeof user, pass, sizeof pass)) {
        srv_log(LOG_WARNING, "authentication failed from %s: malformed Basic credentials", peer);
        failure_delay(a, peer);
        return SRV_AUTH_MALFORMED;
    }
    unsigned char d[32];
    digest_of(user, pass, d);
    double now = srv_now();
    unsigned s = slot_of(d);
    pthread_mutex_lock(&a->lock);
    cached *c = &a->cache[s];
    if (c->used && c->until > now && memcmp(c->digest, d, 32) == 0 &&
        strcmp(c->user, user) == 0) {
        snprintf(who->user, sizeof who->user, "%s", c->user);
        who->admin = c->admin;
        pthread_mutex_unlock(&a->lock);
        explicit_bzero(pass, sizeof pass);
        return SRV_AUTH_OK;
    }
    pthread_mutex_unlock(&a->lock);
    char why[256] = "";
    srv_auth_result pr = pam_check(a, user, pass, peer, why, sizeof why);
    explicit_bzero(pass, sizeof pass);
    if (pr == SRV_AUTH_UNAVAILABLE) {
        /* Nothing was checked: no failure delay, no guess counted. */
        srv_log(LOG_ERR, "login of user '%s' from %s not checked: %s", user, peer, why);
        return SRV_AUTH_UNAVAILABLE;
    }
    if (pr != SRV_AUTH_OK) {
        srv_log(LOG_WARNING, "authentication failed for user '%s' from %s: %s", user, peer, why);
        failure_delay(a, peer);
        return SRV_AUTH_FAILED;
    }
    bool admin = srv_user_in_group(user, a->cfg->admin_group);
    srv_log(LOG_INFO, "user '%s' logged in from %s%s", user, peer, admin ? " (admin)" : "");
    pthread_mutex_lock(&a->lock);
    c = &a->cache[s];
    memcpy(c->digest, d, 32);
    snprintf(c->user, sizeof c->user, "%s", user);
    c->admin = admin;
    c->until = now + a->cfg->auth_cache_seconds;
    c->used = a->cfg->auth_cache_seconds > 0;
    pthread_mutex_unlock(&a->lock);
    snprintf(who->user, sizeof who->user, "%s", user);
    who->admin = admin;
    return SRV_AUTH_OK;
}
