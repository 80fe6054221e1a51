/*
 * daemon.c - the operator's side of smbcimd: the checks made before it
 * starts (and by --check-config, and before a reload is taken), the pid
 * file, and detaching with an honest exit status.
 *
 * Each check says what is wrong in one line naming the file, group or
 * address, so that a broken installation fails at start with that line
 * and exit status 1, instead of failing later at the first login (a
 * missing helper), silently taking /etc/pam.d/other (a missing PAM
 * service), or giving nobody admin rights (a missing group).
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

/* Reports one failed check; counts it. */
static void fail(unsigned *bad, void (*report)(const char *, void *), void *arg,
                 const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void fail(unsigned *bad, void (*report)(const char *, void *), void *arg,
                 const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    report(line, arg);
    (*bad)++;
}

/* PAM reads /etc/pam.d/SERVICE, then the vendor directory /usr/lib/pam.d
 * (Linux-PAM 1.4+), and takes /etc/pam.d/other when neither exists; only
 * without /etc/pam.d does it read /etc/pam.conf (not checked then). */
static bool pam_service_exists(const char *service, bool *checked)
{
    struct stat st;
    *checked = stat("/etc/pam.d", &st) == 0 && S_ISDIR(st.st_mode);
    if (!*checked)
        return true;
    static const char *const dirs[] = {"/etc/pam.d", "/usr/lib/pam.d"};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++) {
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dirs[i], service);
        if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
            return true;
    }
    return false;
}

/* The account these checks run as (the worker's). */
static const char *who_am_i(void)
{
    static char name[64];
    struct passwd *pw = getpwuid(geteuid());
    snprintf(name, sizeof name, "%s", pw ? pw->pw_name : "?");
    return name;
}

/* What the worker reads itself, checked as the user it runs as (priv.c):
 * the snapshot, the certificate and key, the trace directory. */
static unsigned file_checks(const srv_config *c, void (*report)(const char *line, void *arg),
                            void *arg)
{
    unsigned bad = 0;
    struct stat st;
    if (c->snapshot) {
        int fd = open(c->snapshot, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd < 0)
            fail(&bad, report, arg, "the snapshot %s cannot be read by the user '%s': %s",
                 c->snapshot, who_am_i(), strerror(errno));
        else if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
            fail(&bad, report, arg, "the snapshot %s is not a regular file", c->snapshot);
        if (fd >= 0)
            close(fd);
    }

    if (c->https[0] || c->wsman_https[0] || (c->metrics[0] && c->metrics_tls)) {
        char why[700];
        if (!srv_tls_check(c->cert, c->key, why, sizeof why))
            fail(&bad, report, arg, "https (as the user '%s'): %s", who_am_i(), why);
    }
    if (c->wsman_trace && c->wsman_trace[0] && (c->wsman_https[0] || c->wsman_http[0]) &&
        access(c->wsman_trace, W_OK | X_OK) != 0)
        fail(&bad, report, arg, "the WS-Man trace directory %s is not writable by the user "
             "'%s': %s", c->wsman_trace, who_am_i(), strerror(errno));
    return bad;
}

unsigned srv_preflight(const srv_config *c, void (*report)(const char *line, void *arg),
                       void *arg)
{
    unsigned bad = 0;
    char path[4200];
    struct stat st;

    srv_helper_path(path, sizeof path);
    if (stat(path, &st) != 0)
        fail(&bad, report, arg, "the PAM helper %s is missing (%s): smbcimd cannot check "
             "passwords without it", path, strerror(errno));
    else if (!S_ISREG(st.st_mode))
        fail(&bad, report, arg, "the PAM helper %s is not a regular file", path);
    else if (access(path, X_OK) != 0)
        fail(&bad, report, arg, "the PAM helper %s is not executable (mode %03o)", path,
             (unsigned)(st.st_mode & 07777));

    const char *svc = c->pam_service ? c->pam_service : "";
    bool checked = false;
    if (!*svc || strchr(svc, '/') || strcmp(svc, ".") == 0 || strcmp(svc, "..") == 0)
        fail(&bad, report, arg, "pam-service '%s' is not a PAM service name", svc);
    else if (!pam_service_exists(svc, &checked))
        fail(&bad, report, arg, "the PAM service '%s' does not exist (no /etc/pam.d/%s; PAM "
             "would fall back to /etc/pam.d/other): install dist/pam.d/smbcimd there or set "
             "pam-service", svc, svc);

    if (c->admin_group && *c->admin_group) {
        struct group gr, *res = NULL;
        char buf[16384];
        int e = getgrnam_r(c->admin_group, &gr, buf, sizeof buf, &res);
        if (!res)
            fail(&bad, report, arg, "the admin group '%s' does not exist%s%s (create it with "
                 "groupadd, or set admin-group)", c->admin_group, e ? ": " : "",
                 e ? strerror(e) : "");
    }

    bad += srv_priv_check_as_user(c, file_checks, report, arg);
    return bad;
}

/* ---- the pid file ------------------------------------------------------------- */

int srv_pidfile_open(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
    if (fd < 0) {
        srv_log(LOG_ERR, "cannot open the pid file %s: %s", path, strerror(errno));
        return -1;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        char pid[32] = "";
        ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
        pid[n > 0 ? n : 0] = '\0';
        pid[strcspn(pid, "\n")] = '\0';
        srv_log(LOG_ERR, "another smbcimd (pid %s) holds the pid file %s", *pid ? pid : "?",
                path);
        close(fd);
        return -1;
    }
    return fd;
}

bool srv_pidfile_write(int fd, const char *path)
{
    char line[32];
    int n = snprintf(line, sizeof line, "%ld\n", (long)getpid());
    if (ftruncate(fd, 0) != 0 || pwrite(fd, line, (size_t)n, 0) != n) {
        srv_log(LOG_ERR, "cannot write the pid file %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

void srv_pidfile_remove(int fd, const char *path)
{
    if (fd < 0)
        return;
    unlink(path); /* while the lock is held: a new smbcimd makes its own */
    close(fd);
}

/* ---- detaching ------------------------------------------------------------------- */

int srv_detach(int *ready)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    fcntl(p[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) { /* what the operator started: waits for the word */
        close(p[1]);
        char b = 0;
        ssize_t n;
        do
            n = read(p[0], &b, 1);
        while (n < 0 && errno == EINTR);
        if (n == 1 && b == 'R')
            _exit(0);
        fprintf(stderr, "smbcimd: the daemon did not start; the reason is in the system "
                "log\n");
        _exit(1);
    }
    close(p[0]);
    if (setsid() < 0)
        return -1;
    pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") != 0)
        return -1;
    int fd = open("/dev/null", O_RDWR);
    if (fd >= 0) {
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        if (fd > 2)
            close(fd);
    }
    *ready = p[1];
    return 0;
}

void srv_detach_ready(int ready, bool ok)
{
    if (ready < 0)
        return;
    char b = ok ? 'R' : 'F';
    ssize_t n;
    do
        n = write(ready, &b, 1);
    while (n < 0 && errno == EINTR);
    close(ready);
}
