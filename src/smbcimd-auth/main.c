/*
 * smbcimd-auth - the PAM side of smbcimd, in a process of its own.
 *
 * smbcimd starts it once and sends it one request at a time on its
 * standard input; it answers on its standard output.  PAM modules then run
 * outside the multi-threaded server (several are not thread-safe, and one
 * crashing takes only this helper down: smbcimd starts it again), and the
 * server itself loads no PAM module.
 *
 * Started as `smbcimd-auth SERVICE`, it answers for that PAM service only:
 * a request naming another is refused without asking PAM (under
 * privilege separation the worker that sends requests is not root, and
 * must not pick which PAM stack runs as root; priv.c).
 *
 * Request:  u32 length (little endian), then "service\0user\0password\0rhost\0".
 * Answer:   u32 length, then "0" (accepted) or "1" (refused) and a message.
 * Anything malformed ends the helper (exit 2).  It is not meant to be run by
 * hand; it lives in libexec.
 */
#include <errno.h>
#include <security/pam_appl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MAX_REQ 4096

/* Reads (wr false) or writes exactly n bytes; -1 on EOF or error. */
static int io_full(int fd, void *buf, size_t n, bool wr)
{
    char *p = buf;
    while (n) {
        ssize_t r = wr ? write(fd, p, n) : read(fd, p, n);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return -1;
        p += r;
        n -= (size_t)r;
    }
    return 0;
}

typedef struct conv_data {
    const char *pass;
} conv_data;

static int conv(int n, const struct pam_message **msg, struct pam_response **resp, void *data)
{
    conv_data *d = data;
    if (n <= 0 || n > 32)
        return PAM_CONV_ERR;
    struct pam_response *r = calloc((size_t)n, sizeof *r);
    if (!r)
        return PAM_BUF_ERR;
    for (int i = 0; i < n; i++) {
        if (msg[i]->msg_style == PAM_PROMPT_ECHO_OFF || msg[i]->msg_style == PAM_PROMPT_ECHO_ON) {
            r[i].resp = strdup(d->pass);
            if (!r[i].resp) {
                for (int j = 0; j < i; j++)
                    free(r[j].resp);
                free(r);
                return PAM_BUF_ERR;
            }
        }
    }
    *resp = r;
    return PAM_SUCCESS;
}

/* PAM modules sleep after a failure; smbcimd delays the failing client
 * itself, without holding up everyone else's logins behind this helper. */
static void no_delay(int retval, unsigned usec, void *appdata)
{
    (void)retval;
    (void)usec;
    (void)appdata;
}

static void answer(int ok, const char *msg)
{
    char out[600];
    int n = snprintf(out + 4, sizeof out - 4, "%c%s", ok ? '0' : '1', msg);
    if (n < 0)
        n = 0;
    if ((size_t)n > sizeof out - 5)
        n = (int)sizeof out - 5;
    uint32_t len = (uint32_t)n;
    out[0] = (char)(len & 0xFF);
    out[1] = (char)(len >> 8 & 0xFF);
    out[2] = (char)(len >> 16 & 0xFF);
    out[3] = (char)(len >> 24 & 0xFF);
    if (io_full(1, out, 4 + (size_t)n, true) != 0)
        exit(0);
}

int main(int argc, char **argv)
{
    const char *only = argc > 1 ? argv[1] : NULL;
    char req[MAX_REQ + 1];
    for (;;) {
        unsigned char lb[4];
        if (io_full(0, lb, 4, false) != 0)
            return 0; /* smbcimd closed the pipe */
        uint32_t len = (uint32_t)lb[0] | (uint32_t)lb[1] << 8 | (uint32_t)lb[2] << 16 |
                       (uint32_t)lb[3] << 24;
        if (len == 0 || len > MAX_REQ || io_full(0, req, len, false) != 0)
            return 2;
        req[len] = '\0';
        const char *f[4];
        size_t at = 0;
        for (int i = 0; i < 4; i++) {
            if (at >= len)
                return 2;
            f[i] = req + at;
            at += strlen(req + at) + 1;
        }
        if (only && strcmp(f[0], only) != 0) {
            answer(0, "not the PAM service this helper was started for");
            explicit_bzero(req, sizeof req);
            continue;
        }
        conv_data d = {f[2]};
        struct pam_conv pc = {conv, &d};
        pam_handle_t *ph = NULL;
        int r = pam_start(f[0], f[1], &pc, &ph);
        if (r == PAM_SUCCESS) {
            pam_set_item(ph, PAM_RHOST, f[3]);
            pam_set_item(ph, PAM_FAIL_DELAY, (const void *)no_delay);
            r = pam_authenticate(ph, PAM_SILENT | PAM_DISALLOW_NULL_AUTHTOK);
            if (r == PAM_SUCCESS)
                r = pam_acct_mgmt(ph, PAM_SILENT);
        }
        answer(r == PAM_SUCCESS, r == PAM_SUCCESS ? "" : ph ? pam_strerror(ph, r)
                                                            : "pam_start failed");
        if (ph)
            pam_end(ph, r);
        explicit_bzero(req, sizeof req);
    }
}
