/*
 * trace.c - recording WS-Management traffic (wsman-trace; docs/wsman.md,
 * "Recording traffic"): each exchange whose body smbcimd read becomes two
 * files in the trace directory, the request as it came (its credentials
 * removed) and the response as it went, so that a real Windows client's
 * requests can become test fixtures.
 *
 * Files are made with O_EXCL | O_NOFOLLOW and mode 0600 under a directory
 * opened once at start, named <start time>-<pid>-<number>-request.http and
 * ...-response.http; at most SRV_TRACE_MAX exchanges are written per run
 * (a busy server would otherwise fill the disk), and the first write that
 * fails is logged, the later ones not.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

struct srv_trace {
    int dir;            /* the directory, O_PATH */
    char prefix[64];    /* <start time>-<pid> */
    atomic_uint next;   /* exchanges numbered from 1 */
    atomic_bool full;   /* SRV_TRACE_MAX reached (logged once) */
    atomic_bool failed; /* a write failed (logged once) */
};

srv_trace *srv_trace_open(const char *dir)
{
    int fd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        srv_log(LOG_ERR, "wsman-trace: cannot open the directory %s: %s", dir, strerror(errno));
        return NULL;
    }
    /* Writable by whoever smbcimd runs as: found out now, not at the first
     * request. */
    if (faccessat(fd, ".", W_OK | X_OK, AT_EACCESS) != 0) {
        srv_log(LOG_ERR, "wsman-trace: cannot write into %s: %s", dir, strerror(errno));
        close(fd);
        return NULL;
    }
    srv_trace *t = sc_xcalloc(1, sizeof *t);
    t->dir = fd;
    time_t now = time(NULL);
    struct tm tm;
    char when[32];
    strftime(when, sizeof when, "%Y%m%dT%H%M%S", gmtime_r(&now, &tm));
    snprintf(t->prefix, sizeof t->prefix, "%s-%ld", when, (long)getpid());
    atomic_init(&t->next, 0);
    atomic_init(&t->full, false);
    atomic_init(&t->failed, false);
    srv_log(LOG_NOTICE, "wsman-trace: recording WS-Management exchanges in %s (%s-*; at most "
            "%u; credentials removed)", dir, t->prefix, SRV_TRACE_MAX);
    return t;
}

void srv_trace_close(srv_trace *t)
{
    if (!t)
        return;
    close(t->dir);
    free(t);
}

static bool write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* The name of exchange n's request or response file. */
static void file_name(const srv_trace *t, unsigned n, const char *what, char name[128])
{
    snprintf(name, 128, "%s-%06u-%s.http", t->prefix, n, what);
}

/* One file: head (lines ending in CRLF, the blank line included) and body. */
static bool write_file(srv_trace *t, unsigned n, const char *what, const char *head,
                       const char *body, size_t len)
{
    char name[128];
    file_name(t, n, what, name);
    int fd = openat(t->dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return false;
    bool ok = write_all(fd, head, strlen(head)) && write_all(fd, body, len);
    if (close(fd) != 0)
        ok = false;
    if (!ok)
        unlinkat(t->dir, name, 0); /* no half file that looks whole */
    return ok;
}

void srv_trace_write(srv_trace *t, const char *req_head, const char *req_body, size_t req_len,
                     const char *resp_head, const char *resp_body, size_t resp_len)
{
    if (!t)
        return;
    unsigned n = atomic_fetch_add(&t->next, 1) + 1;
    if (n > SRV_TRACE_MAX) {
        if (!atomic_exchange(&t->full, true))
            srv_log(LOG_WARNING, "wsman-trace: %u exchanges recorded; no more until smbcimd "
                    "restarts", SRV_TRACE_MAX);
        return;
    }
    bool ok = write_file(t, n, "request", req_head, req_body, req_len);
    if (ok && !write_file(t, n, "response", resp_head, resp_body, resp_len)) {
        int e = errno;
        char name[128]; /* a request without its response is no fixture */
        file_name(t, n, "request", name);
        unlinkat(t->dir, name, 0);
        errno = e;
        ok = false;
    }
    if (ok)
        return;
    int e = errno;
    if (!atomic_exchange(&t->failed, true))
        srv_log(LOG_WARNING, "wsman-trace: cannot write exchange %u: %s (further failures are "
                "not logged)", n, strerror(e));
}
