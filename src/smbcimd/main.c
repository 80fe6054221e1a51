/*
 * main.c - smbcimd: configuration, checks, start, signals.
 *
 * Start: the configuration (usage errors: exit 2), then the checks of
 * daemon.c (the PAM helper, the PAM service, the admin group, the
 * snapshot, the certificate; each failure one line, exit 1), then the
 * listeners (a port in use: one line, exit 1).  --check-config stops after
 * the checks and says "configuration OK" (exit 0) or what is wrong (exit
 * 1), as sshd -t does; it does not try the ports, which the running
 * server holds.
 *
 * Without --foreground the server detaches, logs to syslog and writes a
 * pid file (pid-file, default /run/smbcimd.pid), removed at exit; the
 * command returns 0 only once the listeners are up.  In the foreground
 * (systemd's Type=simple) it logs to stderr with "<N>" priorities for
 * journald, and writes a pid file only when one is named.
 *
 * Started as root, smbcimd splits (priv.c): this process stays root as the
 * privileged part (it reads smbd's state and starts the PAM helpers for
 * the worker, forwards the signals below and exits with the worker's
 * status, removing the pid file); its child, the worker, becomes `user`
 * and does everything below.
 *
 * Signals: SIGTERM and SIGINT stop the listeners (open connections finish
 * their request), free everything and exit 0.  SIGHUP reads the
 * configuration file (and the same command line) again and, when it
 * passes the checks, takes the settings that can change while running
 * (logging those that need a restart), loads the certificate and key
 * again for new TLS connections (established ones keep theirs), and
 * empties the login cache.  A configuration with errors is logged and
 * the running one stays.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

#define DEFAULT_PID_FILE "/run/smbcimd.pid"

static void report_stderr(const char *line, void *arg)
{
    (void)arg;
    fprintf(stderr, "smbcimd: %s\n", line);
}

static void report_log(const char *line, void *arg)
{
    srv_log(*(const int *)arg, "%s", line);
}

static bool has_flag(int argc, char **argv, const char *flag)
{
    for (int i = 1; i < argc; i++)
        if (strcmp(argv[i], flag) == 0)
            return true;
    return false;
}

/* SIGHUP. */
static void reload(srv_config *cfg, srv_http *h, srv_auth *a)
{
    srv_config next;
    int prio = LOG_ERR;
    if (srv_config_reread(cfg, &next) != 0) {
        srv_config_free(&next);
        srv_log(LOG_ERR, "SIGHUP: the configuration has errors (above); the running one stays");
        return;
    }
    if (srv_preflight(&next, report_log, &prio) != 0) {
        srv_config_free(&next);
        srv_log(LOG_ERR, "SIGHUP: the new configuration fails its checks (above); the running "
                "one stays");
        return;
    }
    unsigned changed = srv_config_apply(cfg, &next);
    srv_log_set_level(cfg->log_level);
    srv_http_reload_tls(h);
    srv_auth_clear_cache(a);
    srv_log(LOG_NOTICE, "SIGHUP: configuration %s read again (%u setting%s changed), "
            "certificate reloaded, login cache emptied",
            cfg->config_file ? cfg->config_file : "(none)", changed, changed == 1 ? "" : "s");
}

int main(int argc, char **argv)
{
    bool check = has_flag(argc, argv, "--check-config");
    srv_config cfg;
    int rc = srv_config_load(&cfg, argc, argv);
    if (rc) {
        srv_config_free(&cfg);
        return check ? 1 : rc;
    }
    srv_log_set_level(cfg.log_level);
    if (cfg.check_config) {
        unsigned bad = srv_preflight(&cfg, report_stderr, NULL);
        if (!bad)
            printf("configuration OK\n");
        srv_config_free(&cfg);
        return bad ? 1 : 0;
    }
    int prio = LOG_ERR;
    if (srv_preflight(&cfg, report_log, &prio) != 0) {
        srv_config_free(&cfg);
        return 1;
    }
    const char *pid_path = cfg.pid_file ? cfg.pid_file : cfg.foreground ? NULL : DEFAULT_PID_FILE;
    if (!cfg.foreground) {
        /* Said on the terminal before it is left: a port in use, the lack
         * of a syslog to write to. */
        const char *specs[3] = {cfg.https, cfg.http, cfg.metrics};
        const char *whats[3] = {"https", "http", "metrics"};
        for (int i = 0; i < 3; i++) {
            char why[512];
            if (specs[i][0] && !srv_listen_check(specs[i], whats[i], why, sizeof why)) {
                srv_log(LOG_ERR, "%s", why);
                srv_config_free(&cfg);
                return 1;
            }
        }
        if (access("/dev/log", W_OK) != 0)
            srv_log(LOG_WARNING, "no syslog socket (/dev/log): the daemon's log lines will "
                    "be lost; run it with --foreground to log to stderr");
    }
    int pid_fd = -1;
    if (pid_path && (pid_fd = srv_pidfile_open(pid_path)) < 0) {
        srv_config_free(&cfg);
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    pthread_sigmask(SIG_BLOCK, &set, NULL); /* every thread inherits it */
    int ready = -1;
    if (!cfg.foreground) {
        if (srv_detach(&ready) != 0) {
            fprintf(stderr, "smbcimd: cannot detach: %s\n", strerror(errno));
            srv_pidfile_remove(pid_fd, pid_path);
            srv_config_free(&cfg);
            return 1;
        }
        srv_log_to_syslog();
    }
    if (pid_fd >= 0 && !srv_pidfile_write(pid_fd, pid_path)) {
        srv_detach_ready(ready, false);
        srv_pidfile_remove(pid_fd, pid_path);
        srv_config_free(&cfg);
        return 1;
    }
    /* Started as root: the privileged part stays here, the worker goes on
     * below as the unprivileged user (priv.c). */
    int lfds[SRV_LISTENERS];
    if (!srv_http_bind(&cfg, lfds)) { /* as root: any port; a port in use is one line */
        srv_detach_ready(ready, false);
        srv_pidfile_remove(pid_fd, pid_path);
        srv_config_free(&cfg);
        return 1;
    }
    int code = 0;
    int split = srv_priv_split(&cfg, &ready, lfds, &code);
    if (split != 0) {
        if (split < 0) {
            srv_detach_ready(ready, false);
            srv_http_unbind(lfds);
        }
        srv_pidfile_remove(pid_fd, pid_path);
        srv_config_free(&cfg);
        return split < 0 ? 1 : code;
    }
    if (srv_priv_active() && pid_fd >= 0) { /* the pid file is the privileged part's */
        close(pid_fd);
        pid_fd = -1;
        pid_path = NULL;
    }
    srv *s = srv_new(&cfg);
    srv_auth *a = srv_auth_new(&cfg);
    srv_http *h = srv_http_start(&cfg, s, a, lfds);
    if (!h) {
        srv_detach_ready(ready, false);
        srv_auth_free(a);
        srv_free(s);
        srv_pidfile_remove(pid_fd, pid_path);
        srv_config_free(&cfg);
        return 1;
    }
    srv_log(LOG_INFO, "started (source: %s%s; admin group '%s'%s%s)",
            cfg.snapshot ? "snapshot " : "live Samba, ",
            cfg.snapshot ? cfg.snapshot : (cfg.smb_conf ? cfg.smb_conf : "/etc/samba/smb.conf"),
            cfg.admin_group, cfg.config_file ? "; configuration " : "",
            cfg.config_file ? cfg.config_file : "");
    srv_detach_ready(ready, true);
    for (;;) {
        int sig = 0;
        if (sigwait(&set, &sig) != 0)
            continue;
        if (sig == SIGHUP) {
            reload(&cfg, h, a);
            continue;
        }
        srv_log(LOG_INFO, "%s: shutting down", sig == SIGTERM ? "SIGTERM" : "SIGINT");
        break;
    }
    srv_http_stop(h);
    srv_auth_free(a);
    srv_free(s);
    srv_log(LOG_INFO, "stopped");
    srv_pidfile_remove(pid_fd, pid_path);
    srv_config_free(&cfg);
    return 0;
}
