/*
 * priv.c - privilege separation: what needs root stays in a small
 * privileged process, everything that faces the network runs as an
 * unprivileged user (docs/smbcimd.md, "Least privilege").
 *
 * Started as root with `user` not root, smbcimd splits as OpenSSH does:
 *
 *   the privileged part (the process started, the pid file's, systemd's
 *   main pid): reads smbd's state (smbcim_open_live: databases, the
 *   smbstatus fallback) and hands over only the plain records, as a
 *   snapshot document (docs/snapshot-format.md) with the route and the
 *   warnings; starts and ends the PAM helpers (smbcimd-auth, root, for
 *   pam_unix) and hands over their pipes; forwards SIGTERM, SIGINT and
 *   SIGHUP to the worker and exits with it.  It parses nothing the
 *   network sent.
 *
 *   the worker (its child): drops to `user` (its groups, no capability,
 *   no_new_privs, killed when the privileged part dies) before anything
 *   else happens, then does all the rest: listeners, TLS, HTTP, XML, the
 *   engine, logins through the helper pipes.
 *
 * The worker asks over two socket pairs (one for the state, one for the
 * helpers, so a slow state read never holds up a login), with requests of
 * exactly PRIV_REQ_LEN bytes checked by srv_priv_parse_request; anything
 * else makes the privileged part stop everything (a worker that sends
 * nonsense is not trusted further).  What a compromised worker can get:
 * the records it serves anyway (no session keys, no other database), PAM
 * verdicts for the configured service only (the helper is started with
 * it and refuses any other), and helpers started and ended up to
 * MAX_HELPERS at once, never another process killed.
 *
 * Without a split (not started as root, or user = root) the same calls
 * start the helpers in process and the state is read in process.
 */
#define _GNU_SOURCE /* pipe2, MSG_CMSG_CLOEXEC */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

#define MAX_HELPERS 64               /* helpers alive at once (auth.c's pool) */
#define MAX_STATE (512u << 20)       /* a snapshot document, as smbcim reads one */
#define MAX_STATE_STRINGS (64u << 10) /* route, why, warning and message together */

/* ---- the requests ----------------------------------------------------------- */

bool srv_priv_parse_request(const unsigned char *b, size_t len, srv_priv_req *r)
{
    if (len != PRIV_REQ_LEN || b[2] != 0 || b[3] != 0)
        return false;
    r->type = (char)b[0];
    r->now = b[1] != 0;
    r->pid = (long)((unsigned long)b[4] | (unsigned long)b[5] << 8 | (unsigned long)b[6] << 16 |
                    (unsigned long)b[7] << 24);
    switch (r->type) {
    case PRIV_STATE:
    case PRIV_HELPER_START:
        return b[1] == 0 && r->pid == 0;
    case PRIV_HELPER_END:
        return b[1] <= 1 && r->pid > 0 && r->pid <= 0x7fffffff;
    default:
        return false;
    }
}

static void put32(unsigned char *p, unsigned long v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static unsigned long get32(const unsigned char *p)
{
    return (unsigned long)p[0] | (unsigned long)p[1] << 8 | (unsigned long)p[2] << 16 |
           (unsigned long)p[3] << 24;
}

/* The state answer: u32 status, then route, why, warning and message, each
 * NUL-ended, then the snapshot document.  Its parts point into b. */
bool srv_priv_parse_state(const char *b, size_t len, srv_priv_state *s)
{
    memset(s, 0, sizeof *s);
    if (len < 4)
        return false;
    s->status = (int)get32((const unsigned char *)b);
    const char **fields[4] = {&s->route, &s->why, &s->warning, &s->message};
    size_t off = 4;
    for (int i = 0; i < 4; i++) {
        const char *end = memchr(b + off, '\0', len - off);
        if (!end || (size_t)(end - b) - 4 >= MAX_STATE_STRINGS)
            return false;
        *fields[i] = b + off;
        off = (size_t)(end - b) + 1;
    }
    s->doc = b + off;
    s->doc_len = len - off;
    /* a success carries a document, a failure a message and none */
    return s->status == 0 ? s->doc_len > 0 : s->doc_len == 0 && *s->message;
}

/* ---- plain I/O on the channels --------------------------------------------- */

static bool full(int fd, void *buf, size_t n, bool wr)
{
    char *p = buf;
    while (n) {
        ssize_t r = wr ? send(fd, p, n, MSG_NOSIGNAL) : recv(fd, p, n, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return false;
        p += r;
        n -= (size_t)r;
    }
    return true;
}

/* ---- the PAM helpers, started here ----------------------------------------- */

/* Starts the helper at path for PAM service `service` with two pipes;
 * *to and *from are ours (close-on-exec). */
static bool spawn_helper(const char *path, const char *service, pid_t *pid_out, int *to,
                         int *from, char *why, size_t whylen)
{
    int in[2], out[2];
    if (pipe2(in, O_CLOEXEC) != 0)
        goto fail;
    if (pipe2(out, O_CLOEXEC) != 0) {
        close(in[0]);
        close(in[1]);
        goto fail;
    }
    char *argv[] = {"smbcimd-auth", (char *)service, NULL};
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
        dup2(in[0], 0); /* dup2 clears close-on-exec on 0 and 1 */
        dup2(out[1], 1);
        for (int fd = 3; fd < 1024; fd++)
            close(fd); /* listening sockets, client connections, channels */
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
    *pid_out = pid;
    *to = in[1];
    *from = out[0];
    return true;
fail:
    snprintf(why, whylen, "cannot start %.150s: %.80s", path, strerror(errno));
    return false;
}

/* SIGTERM (SIGKILL at once when `now`), then SIGKILL if it is still there
 * after a second; reaped. */
static void end_helper(pid_t pid, bool now)
{
    kill(pid, now ? SIGKILL : SIGTERM);
    for (int i = 0; i < 100; i++) {
        pid_t r = waitpid(pid, NULL, WNOHANG);
        if (r == pid || (r < 0 && errno != EINTR))
            return;
        struct timespec ts = {0, 10 * 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    kill(pid, SIGKILL);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
    }
}

/* ---- the worker's side ------------------------------------------------------- */

/* The channels of this process when it is a worker (-1: no split). */
static int state_fd = -1, helper_fd = -1;
static pthread_mutex_t state_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t helper_lock = PTHREAD_MUTEX_INITIALIZER;

bool srv_priv_active(void)
{
    return state_fd >= 0;
}

static void request(unsigned char b[PRIV_REQ_LEN], char type, bool now, long pid)
{
    memset(b, 0, PRIV_REQ_LEN);
    b[0] = (unsigned char)type;
    b[1] = now;
    put32(b + 4, (unsigned long)pid);
}

bool srv_priv_helper_start(const char *path, const char *service, long *id, int *to, int *from,
                           char *why, size_t whylen)
{
    if (helper_fd < 0) {
        pid_t pid;
        if (!spawn_helper(path, service, &pid, to, from, why, whylen))
            return false;
        *id = pid;
        return true;
    }
    unsigned char req[PRIV_REQ_LEN];
    request(req, PRIV_HELPER_START, false, 0);
    unsigned char ans[PRIV_HELPER_ANSWER];
    union {
        char buf[CMSG_SPACE(2 * sizeof(int))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov = {ans, sizeof ans};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.buf,
                       .msg_controllen = sizeof ctl.buf};
    int fds[2] = {-1, -1};
    bool ok = false;
    pthread_mutex_lock(&helper_lock);
    if (full(helper_fd, req, sizeof req, true)) {
        ssize_t n;
        do
            n = recvmsg(helper_fd, &m, MSG_WAITALL | MSG_CMSG_CLOEXEC);
        while (n < 0 && errno == EINTR);
        ok = n == (ssize_t)sizeof ans;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); ok && c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
                c->cmsg_len == CMSG_LEN(2 * sizeof(int)))
                memcpy(fds, CMSG_DATA(c), sizeof fds);
    }
    pthread_mutex_unlock(&helper_lock);
    if (!ok) {
        snprintf(why, whylen, "the privileged part of smbcimd does not answer");
        return false;
    }
    if (ans[0] != 1 || fds[0] < 0 || fds[1] < 0) {
        if (fds[0] >= 0)
            close(fds[0]);
        if (fds[1] >= 0)
            close(fds[1]);
        ans[sizeof ans - 1] = '\0';
        snprintf(why, whylen, "%s", ans[0] == 1 ? "no pipes came with the PAM helper"
                                                : (const char *)ans + 5);
        return false;
    }
    *id = (long)get32(ans + 1);
    *to = fds[0];
    *from = fds[1];
    return true;
}

void srv_priv_helper_end(long id, bool now)
{
    if (id <= 0)
        return;
    if (helper_fd < 0) {
        end_helper((pid_t)id, now);
        return;
    }
    unsigned char req[PRIV_REQ_LEN], ack;
    request(req, PRIV_HELPER_END, now, id);
    pthread_mutex_lock(&helper_lock);
    if (full(helper_fd, req, sizeof req, true))
        full(helper_fd, &ack, 1, false);
    pthread_mutex_unlock(&helper_lock);
}

char *srv_priv_read_state(size_t *len, smbcim_error *err)
{
    unsigned char req[PRIV_REQ_LEN], lb[4];
    request(req, PRIV_STATE, false, 0);
    char *buf = NULL;
    pthread_mutex_lock(&state_lock);
    bool ok = full(state_fd, req, sizeof req, true) && full(state_fd, lb, 4, false);
    size_t n = ok ? get32(lb) : 0;
    if (ok && (n < 4 || n > (size_t)MAX_STATE + MAX_STATE_STRINGS + 4)) {
        ok = false; /* the stream is out of step: nothing more can be read from it */
        shutdown(state_fd, SHUT_RDWR);
    }
    if (ok) {
        buf = malloc(n + 1);
        ok = buf && full(state_fd, buf, n, false);
    }
    pthread_mutex_unlock(&state_lock);
    if (!ok) {
        free(buf);
        err->code = WBEM_E_FAILED;
        snprintf(err->msg, sizeof err->msg, "the privileged part of smbcimd does not answer");
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* ---- the privileged part ----------------------------------------------------- */

typedef struct monitor {
    const srv_config *cfg;
    char helper_path[4200];
    pid_t worker;
    int state_fd, helper_fd;
    pthread_mutex_t lock; /* helpers[] */
    pid_t helpers[MAX_HELPERS];
    volatile sig_atomic_t bad; /* a malformed request came */
} monitor;

static void stop_worker(monitor *m, const char *why)
{
    srv_log(LOG_ERR, "privileged part: %s; stopping the worker (pid %ld)", why, (long)m->worker);
    m->bad = 1;
    kill(m->worker, SIGKILL);
}

/* Reads smbd's state and writes the answer (u32 length first) to out. */
static void state_answer(monitor *m, sc_buf *out)
{
    smbcim_error err = {0};
    sc_buf_add(out, "\0\0\0\0\0\0\0\0", 8); /* length, status */
    const char *route = "", *why = "", *warn = "";
    char *doc = NULL;
    smbcim_ctx *ctx = smbcim_open_live(m->cfg->smb_conf, &err);
    if (ctx) {
        doc = smbcim_snapshot_text(ctx, &err);
        const char *r = smbcim_live_route(ctx, &why);
        route = r ? r : "";
        why = why ? why : "";
        warn = smbcim_live_warning(ctx);
        warn = warn ? warn : "";
    }
    size_t dl = doc ? strlen(doc) : 0;
    if (doc && (dl == 0 || dl > MAX_STATE)) {
        snprintf(err.msg, sizeof err.msg, "the state is %zu bytes, more than a snapshot may be",
                 dl);
        free(doc);
        doc = NULL;
    }
    if (!doc && err.code == WBEM_S_NO_ERROR)
        err.code = WBEM_E_FAILED;
    const char *parts[4] = {route, why, warn, doc ? "" : err.msg[0] ? err.msg : "failed"};
    for (int i = 0; i < 4; i++) {
        sc_buf_add(out, parts[i], strnlen(parts[i], MAX_STATE_STRINGS / 4 - 1));
        sc_buf_add(out, "", 1);
    }
    if (doc)
        sc_buf_add(out, doc, dl);
    free(doc);
    smbcim_close(ctx);
    put32((unsigned char *)out->data, out->len - 4);
    put32((unsigned char *)out->data + 4, doc ? 0u : (unsigned long)err.code);
}

static void *serve_state(void *arg)
{
    monitor *m = arg;
    unsigned char b[PRIV_REQ_LEN];
    srv_priv_req r;
    while (full(m->state_fd, b, sizeof b, false)) {
        if (!srv_priv_parse_request(b, sizeof b, &r) || r.type != PRIV_STATE) {
            stop_worker(m, "a malformed request on the state channel");
            break;
        }
        sc_buf out;
        sc_buf_init(&out);
        state_answer(m, &out);
        bool sent = full(m->state_fd, out.data, out.len, true);
        sc_buf_free(&out);
        if (!sent)
            break;
    }
    return NULL;
}

static int helper_slot(monitor *m, pid_t pid)
{
    for (int i = 0; i < MAX_HELPERS; i++)
        if (m->helpers[i] == pid)
            return i;
    return -1;
}

static void *serve_helpers(void *arg)
{
    monitor *m = arg;
    unsigned char b[PRIV_REQ_LEN];
    srv_priv_req r;
    while (full(m->helper_fd, b, sizeof b, false)) {
        if (!srv_priv_parse_request(b, sizeof b, &r) || r.type == PRIV_STATE) {
            stop_worker(m, "a malformed request on the helper channel");
            break;
        }
        if (r.type == PRIV_HELPER_END) {
            pthread_mutex_lock(&m->lock);
            int i = helper_slot(m, (pid_t)r.pid);
            if (i >= 0)
                m->helpers[i] = 0;
            pthread_mutex_unlock(&m->lock);
            if (i >= 0)
                end_helper((pid_t)r.pid, r.now); /* never a process it did not start */
            unsigned char ack = i >= 0;
            if (!full(m->helper_fd, &ack, 1, true))
                break;
            continue;
        }
        unsigned char ans[PRIV_HELPER_ANSWER] = {0};
        int fds[2] = {-1, -1};
        pid_t pid = 0;
        pthread_mutex_lock(&m->lock);
        int slot = helper_slot(m, 0);
        pthread_mutex_unlock(&m->lock);
        char why[200] = "";
        if (slot < 0)
            snprintf(why, sizeof why, "%d PAM helpers are running already", MAX_HELPERS);
        else if (spawn_helper(m->helper_path, m->cfg->pam_service, &pid, &fds[0], &fds[1], why,
                              sizeof why)) {
            pthread_mutex_lock(&m->lock);
            m->helpers[slot] = pid;
            pthread_mutex_unlock(&m->lock);
            ans[0] = 1;
            put32(ans + 1, (unsigned long)pid);
        }
        if (!ans[0])
            snprintf((char *)ans + 5, sizeof ans - 5, "%s", why);
        union {
            char buf[CMSG_SPACE(2 * sizeof(int))];
            struct cmsghdr align;
        } ctl;
        memset(&ctl, 0, sizeof ctl);
        struct iovec iov = {ans, sizeof ans};
        struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
        if (ans[0]) {
            msg.msg_control = ctl.buf;
            msg.msg_controllen = sizeof ctl.buf;
            struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(2 * sizeof(int));
            memcpy(CMSG_DATA(c), fds, sizeof fds);
        }
        ssize_t n;
        do
            n = sendmsg(m->helper_fd, &msg, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (fds[0] >= 0) /* the worker has them now; this side keeps only the pid */
            close(fds[0]), close(fds[1]);
        if (n != (ssize_t)sizeof ans)
            break;
    }
    return NULL;
}

/* The account `user` (false if it does not exist); buf holds its strings. */
static bool lookup_user(const char *user, struct passwd *pw, char *buf, size_t len)
{
    struct passwd *res = NULL;
    return getpwnam_r(user, pw, buf, len, &res) == 0 && res != NULL;
}

/* Becomes that account: its groups, then its gid and uid. */
static bool become(const char *user, const struct passwd *pw)
{
    return initgroups(user, pw->pw_gid) == 0 && setgid(pw->pw_gid) == 0 &&
           setuid(pw->pw_uid) == 0;
}

/* The worker's new identity: the account's; root cannot be had back, no
 * exec gains privileges, and it dies with the privileged part. */
static bool drop_to(const char *user, pid_t parent, char *why, size_t whylen)
{
    struct passwd pw;
    char buf[16384];
    if (!lookup_user(user, &pw, buf, sizeof buf)) {
        snprintf(why, whylen, "the user '%s' does not exist", user);
        return false;
    }
    if (!become(user, &pw)) {
        snprintf(why, whylen, "cannot become the user '%s': %s", user, strerror(errno));
        return false;
    }
    if (pw.pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0)) {
        snprintf(why, whylen, "root could be had back after becoming '%s'", user);
        return false;
    }
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0 ||
        prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) != 0) {
        snprintf(why, whylen, "prctl: %s", strerror(errno));
        return false;
    }
    if (getppid() != parent) {
        snprintf(why, whylen, "the privileged part is gone");
        return false;
    }
    return true;
}

static int monitor_run(monitor *m)
{
    pthread_t ts, th;
    bool st = pthread_create(&ts, NULL, serve_state, m) == 0;
    bool ht = pthread_create(&th, NULL, serve_helpers, m) == 0;
    if (!st || !ht)
        stop_worker(m, "cannot start its threads");
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGCHLD);
    int status = 0;
    for (;;) {
        int sig = 0;
        pid_t r = waitpid(m->worker, &status, WNOHANG);
        if (r == m->worker || (r < 0 && errno == ECHILD))
            break;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig != SIGCHLD)
            kill(m->worker, sig); /* the worker stops or reloads */
    }
    /* The worker is gone: its channels end, and so do the helpers. */
    shutdown(m->state_fd, SHUT_RDWR);
    shutdown(m->helper_fd, SHUT_RDWR);
    if (st)
        pthread_join(ts, NULL);
    if (ht)
        pthread_join(th, NULL);
    close(m->state_fd);
    close(m->helper_fd);
    for (int i = 0; i < MAX_HELPERS; i++)
        if (m->helpers[i] > 0)
            end_helper(m->helpers[i], true);
    int code;
    if (WIFEXITED(status))
        code = WEXITSTATUS(status);
    else {
        code = 1;
        if (!m->bad)
            srv_log(LOG_ERR, "privileged part: the worker (pid %ld) died of signal %d",
                    (long)m->worker, WIFSIGNALED(status) ? WTERMSIG(status) : 0);
    }
    return code;
}

/* The worker keeps the subscriptions in state-dir (indicate.c): as root,
 * make it if it is missing and give it to the worker's account, mode 0700
 * (the file names listeners and queries).  An existing directory is never
 * given away (state-dir = /tmp must not hand /tmp to the worker); one the
 * worker does not own is said: saving will fail there. */
static void prepare_state_dir(const srv_config *c)
{
    const char *dir = c->state_dir && *c->state_dir ? c->state_dir : "/var/lib/smbcim";
    struct passwd pw;
    char buf[16384];
    if (!lookup_user(c->user, &pw, buf, sizeof buf))
        return; /* drop_to says so */
    if (mkdir(dir, 0700) == 0) {
        if (chown(dir, pw.pw_uid, pw.pw_gid) != 0)
            srv_log(LOG_WARNING, "cannot give %s to '%s': %s", dir, c->user, strerror(errno));
        return;
    }
    struct stat st;
    if (errno != EEXIST || lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        srv_log(LOG_WARNING, "state-dir %s cannot be made (%s): subscriptions will not be "
                "kept", dir, strerror(errno));
        return;
    }
    if (st.st_uid != pw.pw_uid)
        srv_log(LOG_WARNING, "state-dir %s belongs to uid %ld, not to '%s': subscriptions "
                "cannot be saved there", dir, (long)st.st_uid, c->user);
}

int srv_priv_split(const srv_config *c, int *ready, int *listen_fds, int *exit_code)
{
    if (geteuid() != 0 || !c->user || strcmp(c->user, "root") == 0) {
        if (geteuid() == 0)
            srv_log(LOG_WARNING, "user = root: no privilege separation, the network-facing "
                    "part runs as root");
        return 0;
    }
    prepare_state_dir(c);
    int sp[2], hp[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0)
        goto fail;
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, hp) != 0) {
        close(sp[0]), close(sp[1]);
        goto fail;
    }
    pid_t parent = getpid();
    /* SIGCHLD blocked before the fork, so that the worker's end cannot be
     * missed by the privileged part's sigwait. */
    sigset_t chld;
    sigemptyset(&chld);
    sigaddset(&chld, SIGCHLD);
    pthread_sigmask(SIG_BLOCK, &chld, NULL);
    pid_t pid = fork();
    if (pid < 0) {
        pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
        close(sp[0]), close(sp[1]), close(hp[0]), close(hp[1]);
        goto fail;
    }
    if (pid == 0) {
        pthread_sigmask(SIG_UNBLOCK, &chld, NULL);
        close(sp[0]);
        close(hp[0]);
        char why[300];
        if (!drop_to(c->user, parent, why, sizeof why)) {
            srv_log(LOG_ERR, "%s", why);
            _exit(1);
        }
        state_fd = sp[1];
        helper_fd = hp[1];
        return 0;
    }
    close(sp[1]);
    close(hp[1]);
    if (listen_fds) /* the network is the worker's */
        srv_http_unbind(listen_fds);
    if (ready && *ready >= 0) { /* the worker says when it is up (or dies first) */
        close(*ready);
        *ready = -1;
    }
    monitor m = {.cfg = c, .worker = pid, .state_fd = sp[0], .helper_fd = hp[0]};
    pthread_mutex_init(&m.lock, NULL);
    srv_helper_path(m.helper_path, sizeof m.helper_path);
    srv_log(LOG_INFO, "privileged part (pid %ld): the worker (pid %ld) runs as '%s'",
            (long)parent, (long)pid, c->user);
    *exit_code = monitor_run(&m);
    pthread_mutex_destroy(&m.lock);
    return 1;
fail:
    srv_log(LOG_ERR, "cannot start the unprivileged worker: %s", strerror(errno));
    return -1;
}

/* ---- checks as the worker will run ----------------------------------------- */

static void report_to_pipe(const char *line, void *arg)
{
    FILE *f = arg;
    fprintf(f, "%s\n", line);
}

unsigned srv_priv_check_as_user(const srv_config *c, srv_check_fn check,
                                void (*report)(const char *line, void *arg), void *arg)
{
    if (geteuid() != 0 || !c->user || strcmp(c->user, "root") == 0)
        return check(c, report, arg);
    struct passwd pw;
    char buf[16384];
    if (!lookup_user(c->user, &pw, buf, sizeof buf)) {
        char line[400];
        snprintf(line, sizeof line, "the user '%.100s' (user =) does not exist: create it "
                 "(adduser --system --group --no-create-home %.100s; make install and the "
                 "package do) or name another", c->user, c->user);
        report(line, arg);
        return 1;
    }
    int p[2];
    if (pipe2(p, O_CLOEXEC) != 0)
        return check(c, report, arg);
    pid_t pid = fork();
    if (pid < 0) {
        close(p[0]), close(p[1]);
        return check(c, report, arg);
    }
    if (pid == 0) {
        close(p[0]);
        FILE *f = fdopen(p[1], "w");
        if (!f || !become(c->user, &pw))
            _exit(100);
        unsigned bad = check(c, report_to_pipe, f);
        fclose(f);
        _exit(bad > 99 ? 99 : (int)bad);
    }
    close(p[1]);
    FILE *f = fdopen(p[0], "r");
    char line[2048];
    while (f && fgets(line, sizeof line, f)) {
        line[strcspn(line, "\n")] = '\0';
        report(line, arg);
    }
    if (f)
        fclose(f);
    else
        close(p[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) == 100) {
        char msg[300];
        snprintf(msg, sizeof msg, "cannot check the files as the user '%.100s' (user =)",
                 c->user);
        report(msg, arg);
        return 1;
    }
    return (unsigned)WEXITSTATUS(status);
}
