/*
 * main.c - smbcimd: configuration, start, signals.
 *
 * SIGTERM and SIGINT stop the listeners (open connections finish their
 * request), free everything and exit 0.  SIGHUP drops nothing and is
 * logged: the state is re-read by itself (cache_seconds, or the snapshot
 * file's modification time).  Without --foreground the server detaches and
 * logs to syslog; under systemd (Type=simple) it runs with --foreground and
 * its stderr lines carry "<N>" priorities for journald.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

static int detach(void)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
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
    return 0;
}

int main(int argc, char **argv)
{
    srv_config cfg;
    int rc = srv_config_load(&cfg, argc, argv);
    if (rc) {
        srv_config_free(&cfg);
        return rc;
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it */
    if (!cfg.foreground) {
        if (detach() != 0) {
            fprintf(stderr, "smbcimd: cannot detach: %s\n", strerror(errno));
            return 1;
        }
        srv_log_to_syslog();
    }
    /* Read the source once now, so that a broken configuration shows at
     * start (the server still starts: Samba may come up later). */
    srv *s = srv_new(&cfg);
    srv_auth *a = srv_auth_new(&cfg);
    srv_http *h = srv_http_start(&cfg, s, a);
    if (!h) {
        srv_auth_free(a);
        srv_free(s);
        srv_config_free(&cfg);
        return 1;
    }
    srv_log(LOG_INFO, "started (source: %s%s; admin group '%s'%s%s)",
            cfg.snapshot ? "snapshot " : "live Samba, ",
            cfg.snapshot ? cfg.snapshot : (cfg.smb_conf ? cfg.smb_conf : "/etc/samba/smb.conf"),
            cfg.admin_group, cfg.config_file ? "; configuration " : "",
            cfg.config_file ? cfg.config_file : "");
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            srv_log(LOG_INFO, "SIGHUP: nothing to reload (the state is re-read by itself; "
                    "restart for a new configuration)");
            continue;
        }
        srv_log(LOG_INFO, "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    srv_http_stop(h);
    srv_auth_free(a);
    srv_free(s);
    srv_config_free(&cfg);
    srv_log(LOG_INFO, "stopped");
    return 0;
}
