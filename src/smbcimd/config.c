/*
 * config.c - smbcimd's settings: defaults, then the configuration file,
 * then the command line.  Every option has the same name in both places
 * ("https = 0.0.0.0:5989" in the file, --https 0.0.0.0:5989 on the command
 * line); the file takes "name = value" lines and '#' comments.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <gnutls/gnutls.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

#include "paths.h" /* SMBCIM_SYSCONFDIR, from the Makefile's SYSCONFDIR */

#define DEFAULT_CONFIG SMBCIM_SYSCONFDIR "/smbcim/smbcimd.conf"

static bool use_syslog;
/* Written by the main thread (start, SIGHUP), read by every thread: a
 * word, and a line more or less around a reload does not matter. */
static volatile int log_level = LOG_INFO;

void srv_log_to_syslog(void)
{
    openlog("smbcimd", LOG_PID, LOG_DAEMON);
    use_syslog = true;
}

void srv_log_set_level(unsigned level)
{
    log_level = level > LOG_DEBUG ? LOG_DEBUG : (int)level;
}

/* Every line is made visible (SMBCIM_TEXT_VISIBLE) after formatting: user
 * names, headers and query text come from the network, and a newline or
 * an escape sequence in them must not forge a line or reach a terminal. */
void srv_log(int prio, const char *fmt, ...)
{
    if (prio > log_level)
        return;
    va_list ap;
    va_start(ap, fmt);
    char line[2048];
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    size_t len = n < 0 ? 0 : (size_t)n < sizeof line ? (size_t)n : sizeof line - 1;
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_put_escaped(&b, line, len, SMBCIM_TEXT_VISIBLE);
    if (use_syslog) {
        syslog(prio, "%s", b.data ? b.data : "");
    } else {
        /* systemd reads the "<N>" prefix as the priority (sd-daemon(3)). */
        fprintf(stderr, "<%d>smbcimd: %s\n", prio, b.data ? b.data : "");
        fflush(stderr);
    }
    sc_buf_free(&b);
}

double srv_now(void)
{
    return sc_monotonic();
}

static void defaults(srv_config *c)
{
    memset(c, 0, sizeof *c);
    c->arena = sc_arena_new();
    snprintf(c->http, sizeof c->http, "0.0.0.0:5988");
    snprintf(c->https, sizeof c->https, "0.0.0.0:5989");
    c->admin_group = "smbcim-admins";
    c->admin_classes =
        "Win32_ServerConnection Win32_ServerSession Win32_ConnectionShare Win32_SessionConnection "
        "MSFT_SmbOpenFile SMBCIM_ShareOpenFile SMBCIM_ConnectionOpenFile SMBCIM_SessionOpenFile "
        "MSFT_SmbSession CIM_IndicationFilter CIM_ListenerDestination CIM_IndicationSubscription";
    c->pam_service = "smbcimd";
    c->user = SRV_USER_DEFAULT;
    c->cache_seconds = 2;
    c->max_body = 1024 * 1024;
    c->timeout = 30;
    c->request_seconds = 30;
    c->header_seconds = 10;
    c->tls_priority = SRV_TLS_PRIORITY_DEFAULT;
    c->auth_timeout = 10;
    c->max_connections = 256;
    c->max_per_ip = 64;
    c->max_enumerations = 256;
    c->max_enumerations_per_user = 32;
    c->enumeration_lifetime = 900;
    c->default_operation_timeout = 60;
    c->max_operation_timeout = 600;
    c->auth_cache_seconds = 10;
    c->auth_helpers = 4;
    c->auth_queue = 16;
    c->auth_rate = 5;
    c->auth_burst = 20;
    c->user_lockout_failures = 5;
    c->user_lockout_window = 300;
    c->user_lockout_seconds = 300;
    c->auth_failure_ms = 250;
    c->log_level = LOG_INFO;
    c->state_dir = "/var/lib/smbcim";
    c->max_subscriptions = 64;
    c->indication_retry_attempts = 3;
    c->indication_retry_interval = 20;
    c->indication_timeout = 10;
    c->indication_queue = 1000;
}

typedef enum { K_STR, K_LISTEN, K_BOOL, K_UINT, K_SIZE, K_LEVEL } kind;

static const struct opt {
    const char *name;
    kind k;
    size_t off;
    bool cli_flag;  /* on the command line, takes no argument (sets true) */
} opts[] = {
    {"snapshot", K_STR, offsetof(srv_config, snapshot), false},
    {"smb-conf", K_STR, offsetof(srv_config, smb_conf), false},
    {"http", K_LISTEN, offsetof(srv_config, http), false},
    {"https", K_LISTEN, offsetof(srv_config, https), false},
    {"cert", K_STR, offsetof(srv_config, cert), false},
    {"key", K_STR, offsetof(srv_config, key), false},
    {"admin-group", K_STR, offsetof(srv_config, admin_group), false},
    {"admin-classes", K_STR, offsetof(srv_config, admin_classes), false},
    {"pam-service", K_STR, offsetof(srv_config, pam_service), false},
    {"user", K_STR, offsetof(srv_config, user), false},
    {"allow-plain-http", K_BOOL, offsetof(srv_config, allow_plain_http), true},
    {"foreground", K_BOOL, offsetof(srv_config, foreground), true},
    {"cache-seconds", K_UINT, offsetof(srv_config, cache_seconds), false},
    {"max-body", K_SIZE, offsetof(srv_config, max_body), false},
    {"timeout", K_UINT, offsetof(srv_config, timeout), false},
    {"request-seconds", K_UINT, offsetof(srv_config, request_seconds), false},
    {"header-seconds", K_UINT, offsetof(srv_config, header_seconds), false},
    {"tls-priority", K_STR, offsetof(srv_config, tls_priority), false},
    {"auth-timeout", K_UINT, offsetof(srv_config, auth_timeout), false},
    {"max-connections", K_UINT, offsetof(srv_config, max_connections), false},
    {"max-per-ip", K_UINT, offsetof(srv_config, max_per_ip), false},
    {"max-enumerations", K_UINT, offsetof(srv_config, max_enumerations), false},
    {"max-enumerations-per-user", K_UINT, offsetof(srv_config, max_enumerations_per_user), false},
    {"enumeration-lifetime", K_UINT, offsetof(srv_config, enumeration_lifetime), false},
    {"operation-timeout", K_UINT, offsetof(srv_config, default_operation_timeout), false},
    {"max-operation-timeout", K_UINT, offsetof(srv_config, max_operation_timeout), false},
    {"auth-cache-seconds", K_UINT, offsetof(srv_config, auth_cache_seconds), false},
    {"auth-helpers", K_UINT, offsetof(srv_config, auth_helpers), false},
    {"auth-queue", K_UINT, offsetof(srv_config, auth_queue), false},
    {"auth-rate", K_UINT, offsetof(srv_config, auth_rate), false},
    {"auth-burst", K_UINT, offsetof(srv_config, auth_burst), false},
    {"user-lockout-failures", K_UINT, offsetof(srv_config, user_lockout_failures), false},
    {"user-lockout-window", K_UINT, offsetof(srv_config, user_lockout_window), false},
    {"user-lockout-seconds", K_UINT, offsetof(srv_config, user_lockout_seconds), false},
    {"auth-failure-ms", K_UINT, offsetof(srv_config, auth_failure_ms), false},
    {"pid-file", K_STR, offsetof(srv_config, pid_file), false},
    {"log-level", K_LEVEL, offsetof(srv_config, log_level), false},
    {"metrics", K_LISTEN, offsetof(srv_config, metrics), false},
    {"wsman-http", K_LISTEN, offsetof(srv_config, wsman_http), false},
    {"wsman-https", K_LISTEN, offsetof(srv_config, wsman_https), false},
    {"wsman-trace", K_STR, offsetof(srv_config, wsman_trace), false},
    {"metrics-tls", K_BOOL, offsetof(srv_config, metrics_tls), true},
    {"metrics-auth", K_BOOL, offsetof(srv_config, metrics_auth), true},
    {"metrics-per-user", K_BOOL, offsetof(srv_config, metrics_per_user), true},
    {"state-dir", K_STR, offsetof(srv_config, state_dir), false},
    {"max-subscriptions", K_UINT, offsetof(srv_config, max_subscriptions), false},
    {"indication-retry-attempts", K_UINT, offsetof(srv_config, indication_retry_attempts), false},
    {"indication-retry-interval", K_UINT, offsetof(srv_config, indication_retry_interval), false},
    {"indication-timeout", K_UINT, offsetof(srv_config, indication_timeout), false},
    {"indication-queue", K_UINT, offsetof(srv_config, indication_queue), false},
    {"listener-ca-file", K_STR, offsetof(srv_config, listener_ca_file), false},
    {"listener-insecure", K_BOOL, offsetof(srv_config, listener_insecure), true},
};
#define NOPTS (sizeof opts / sizeof opts[0])

static const struct opt *find_opt(const char *name)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strcmp(opts[i].name, name) == 0)
            return &opts[i];
    return NULL;
}

/* Sets one option from text; NULL on success, else what is wrong. */
static const char *set_opt(srv_config *c, const struct opt *o, const char *v)
{
    char *base = (char *)c + o->off;
    switch (o->k) {
    case K_STR:
        *(const char **)base = sc_strdup(c->arena, v);
        return NULL;
    case K_LISTEN: {
        if (strcmp(v, "none") == 0 || strcmp(v, "") == 0) {
            base[0] = '\0';
            return NULL;
        }
        struct sockaddr_storage ss;
        unsigned len;
        static char why[160];
        if (!srv_parse_listen(v, &ss, &len, why, sizeof why))
            return why;
        snprintf(base, 128, "%s", v);
        return NULL;
    }
    case K_LEVEL: {
        static const char *const names[] = {"emerg", "alert", "crit", "error", "warning",
                                            "notice", "info", "debug"};
        for (unsigned i = LOG_ERR; i <= LOG_DEBUG; i++) {
            if (strcasecmp(v, names[i]) == 0 || (i == LOG_ERR && !strcasecmp(v, "err")) ||
                (i == LOG_WARNING && !strcasecmp(v, "warn"))) {
                *(unsigned *)base = i;
                return NULL;
            }
        }
        return "expected error, warning, notice, info or debug";
    }
    case K_BOOL:
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1") ||
            !strcasecmp(v, "on"))
            *(bool *)base = true;
        else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0") ||
                 !strcasecmp(v, "off"))
            *(bool *)base = false;
        else
            return "expected yes or no";
        return NULL;
    case K_UINT:
    case K_SIZE: {
        char *e;
        errno = 0;
        unsigned long long n = strtoull(v, &e, 10);
        size_t mult = 1;
        if (o->k == K_SIZE && (*e == 'k' || *e == 'K'))
            mult = 1024, e++;
        else if (o->k == K_SIZE && (*e == 'm' || *e == 'M'))
            mult = 1024 * 1024, e++;
        if (e == v || *e || errno || v[0] == '-' || n > 0xFFFFFFFFull)
            return "expected a whole number";
        if (o->k == K_UINT)
            *(unsigned *)base = (unsigned)n;
        else
            *(size_t *)base = (size_t)n * mult;
        return NULL;
    }
    }
    return "unknown option kind";
}

static int read_file(srv_config *c, const char *path, bool must_exist)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        if (!must_exist && errno == ENOENT)
            return 0;
        fprintf(stderr, "smbcimd: cannot read %s: %s\n", path, strerror(errno));
        return 2;
    }
    c->config_file = sc_strdup(c->arena, path);
    char line[4096];
    unsigned no = 0;
    int rc = 0;
    while (fgets(line, sizeof line, f)) {
        no++;
        char *s = line;
        while (isspace((unsigned char)*s))
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (!*s || *s == '#' || *s == ';')
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            fprintf(stderr, "smbcimd: %s:%u: expected 'name = value'\n", path, no);
            rc = 2;
            break;
        }
        char *k = s, *ke = eq;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        *ke = '\0';
        char *v = eq + 1;
        while (isspace((unsigned char)*v))
            v++;
        for (char *p = k; *p; p++)
            if (*p == '_' || *p == ' ')
                *p = '-';
        const struct opt *o = find_opt(k);
        if (!o) {
            fprintf(stderr, "smbcimd: %s:%u: unknown setting '%s'\n", path, no, k);
            rc = 2;
            break;
        }
        const char *why = set_opt(c, o, v);
        if (why) {
            fprintf(stderr, "smbcimd: %s:%u: %s: %s\n", path, no, k, why);
            rc = 2;
            break;
        }
    }
    fclose(f);
    return rc;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smbcimd [--config FILE] [--foreground] [--snapshot FILE | --smb-conf FILE]\n"
            "               [--http ADDR:PORT|none] [--https ADDR:PORT|none]\n"
            "               [--cert FILE --key FILE] [--admin-group GROUP] [--allow-plain-http]\n"
            "               [--cache-seconds N] [--max-body BYTES] [--timeout S]\n"
            "               [--request-seconds S] [--header-seconds S]\n"
            "               [--max-connections N] [--max-per-ip N] [--tls-priority STRING]\n"
            "               [--auth-timeout S]\n"
            "               [--max-enumerations N] [--max-enumerations-per-user N]\n"
            "               [--enumeration-lifetime S] [--operation-timeout S]\n"
            "               [--max-operation-timeout S] [--auth-cache-seconds S]\n"
            "               [--pam-service NAME] [--admin-classes \"CLASS ...\"]\n"
            "               [--auth-helpers N] [--auth-queue N] [--auth-rate N]\n"
            "               [--auth-burst N] [--auth-failure-ms MS]\n"
            "               [--user-lockout-failures N] [--user-lockout-window S]\n"
            "               [--user-lockout-seconds S] [--pid-file PATH]\n"
            "               [--log-level error|warning|notice|info|debug] [--check-config]\n"
            "               [--metrics ADDR:PORT|none] [--metrics-tls] [--metrics-auth]\n"
            "               [--metrics-per-user]\n"
            "               [--wsman-https ADDR:PORT|none] [--wsman-http ADDR:PORT|none]\n"
            "               [--wsman-trace DIR] [--user NAME]\n"
            "\n"
            "Serves Win32_Share, Win32_ServerSession, Win32_ServerConnection,\n"
            "Win32_ConnectionShare, Win32_SessionConnection, MSFT_SmbSession and\n"
            "MSFT_SmbOpenFile (with its associations) as CIM-XML (DSP0200)\n"
            "on POST /cimom, and as WS-Management on POST /wsman when a wsman listener\n"
            "is set (the usual ports: 5986 HTTPS, 5985 HTTP).  Defaults: HTTP 0.0.0.0:5988, HTTPS 0.0.0.0:5989, the live\n"
            "Samba server (/etc/samba/smb.conf), configuration %s.\n"
            "See smbcimd(8).\n",
            DEFAULT_CONFIG);
}

int srv_config_load(srv_config *c, int argc, char **argv)
{
    defaults(c);
    /* The file first, so that the command line overrides it. */
    const char *file = NULL;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--config") == 0 && i + 1 < argc)
            file = argv[i + 1];
        else if (strncmp(argv[i], "--config=", 9) == 0)
            file = argv[i] + 9;
    }
    int rc = read_file(c, file ? file : DEFAULT_CONFIG, file != NULL);
    if (rc)
        return rc;
    c->argc = argc;
    c->argv = argv;
    struct option lo[NOPTS + 5];
    size_t n = 0;
    for (size_t i = 0; i < NOPTS; i++)
        lo[n++] = (struct option){opts[i].name, opts[i].cli_flag ? no_argument : required_argument,
                                  NULL, (int)(1000 + i)};
    lo[n++] = (struct option){"config", required_argument, NULL, 'c'};
    lo[n++] = (struct option){"help", no_argument, NULL, 'h'};
    lo[n++] = (struct option){"version", no_argument, NULL, 'V'};
    lo[n++] = (struct option){"check-config", no_argument, NULL, 'C'};
    lo[n] = (struct option){NULL, 0, NULL, 0};
    optind = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "h", lo, NULL)) != -1) {
        if (ch == 'c')
            continue;
        if (ch == 'C') {
            c->check_config = true;
            continue;
        }
        if (ch == 'h') {
            usage(stdout);
            exit(0);
        }
        if (ch == 'V') {
            printf("smbcimd 0.1.0\n");
            exit(0);
        }
        if (ch < 1000 || ch >= 1000 + (int)NOPTS) {
            fprintf(stderr, "Try 'smbcimd --help'.\n");
            return 2;
        }
        const struct opt *o = &opts[ch - 1000];
        const char *why = set_opt(c, o, o->cli_flag ? "yes" : optarg);
        if (why) {
            fprintf(stderr, "smbcimd: --%s: %s\n", o->name, why);
            return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "smbcimd: unexpected argument '%s'\nTry 'smbcimd --help'.\n",
                argv[optind]);
        return 2;
    }
    if (c->snapshot && c->smb_conf) {
        fprintf(stderr, "smbcimd: --snapshot and --smb-conf exclude each other\n");
        return 2;
    }
    if (c->wsman_https[0] && (!c->cert || !c->key)) {
        fprintf(stderr, "smbcimd: wsman-https (%s) needs --cert and --key\n", c->wsman_https);
        return 2;
    }
    if (c->https[0] && (!c->cert || !c->key)) {
        fprintf(stderr, "smbcimd: HTTPS (%s) needs --cert and --key (or --https none)\n",
                c->https);
        return 2;
    }
    /* The metrics listener (docs/monitoring.md): TLS with the HTTPS
     * certificate; passwords over plain HTTP only where allowed. */
    if (c->metrics[0] && c->metrics_tls && (!c->cert || !c->key)) {
        fprintf(stderr, "smbcimd: metrics-tls needs --cert and --key\n");
        return 2;
    }
    if (c->metrics[0] && c->metrics_auth && !c->metrics_tls && !c->allow_plain_http) {
        fprintf(stderr, "smbcimd: metrics-auth over plain HTTP would send passwords in clear "
                "text: set metrics-tls (or allow-plain-http)\n");
        return 2;
    }
    if (c->wsman_trace && c->wsman_trace[0]) {
        struct stat st;
        const char *why = NULL;
        if (stat(c->wsman_trace, &st) != 0)
            why = strerror(errno);
        else if (!S_ISDIR(st.st_mode))
            why = "not a directory";
        else if (access(c->wsman_trace, W_OK | X_OK) != 0)
            why = strerror(errno);
        if (why) {
            fprintf(stderr, "smbcimd: wsman-trace: cannot record into %s: %s\n",
                    c->wsman_trace, why);
            return 2;
        }
    }
    if (!c->http[0] && !c->https[0] && !c->wsman_http[0] && !c->wsman_https[0]) {
        fprintf(stderr, "smbcimd: neither HTTP nor HTTPS is enabled\n");
        return 2;
    }
    if (c->max_body < 1024)
        c->max_body = 1024;
    if (c->header_seconds < 1)
        c->header_seconds = 1;
    if (c->auth_timeout < 1)
        c->auth_timeout = 1;
    if (c->https[0] || c->wsman_https[0] || (c->metrics[0] && c->metrics_tls)) {
        gnutls_priority_t prio;
        const char *at = NULL;
        if (gnutls_priority_init(&prio, c->tls_priority, &at) < 0) {
            fprintf(stderr, "smbcimd: tls-priority: not a GnuTLS priority string (at '%s')\n",
                    at ? at : c->tls_priority);
            return 2;
        }
        gnutls_priority_deinit(prio);
    }
    return 0;
}

void srv_config_free(srv_config *c)
{
    sc_arena_free(c->arena);
    c->arena = NULL;
    for (size_t i = 0; i < c->nretired; i++)
        sc_arena_free(c->retired[i]);
    free(c->retired);
    c->retired = NULL;
    c->nretired = 0;
}

/* ---- reload (SIGHUP) ------------------------------------------------------------ */

int srv_config_reread(const srv_config *c, srv_config *next)
{
    /* The loader prints its errors on stderr: the log in the foreground,
     * /dev/null once detached, where they are caught and logged. */
    FILE *cap = use_syslog ? tmpfile() : NULL;
    int saved = -1;
    if (cap) {
        fflush(stderr);
        saved = dup(2);
        if (saved < 0 || dup2(fileno(cap), 2) < 0) {
            if (saved >= 0)
                close(saved);
            saved = -1;
        }
    }
    int rc = srv_config_load(next, c->argc, c->argv);
    if (saved >= 0) {
        fflush(stderr);
        dup2(saved, 2);
        close(saved);
        rewind(cap);
        char line[1024];
        while (fgets(line, sizeof line, cap)) {
            line[strcspn(line, "\n")] = '\0';
            srv_log(LOG_ERR, "%s", strncmp(line, "smbcimd: ", 9) == 0 ? line + 9 : line);
        }
    }
    if (cap)
        fclose(cap);
    return rc;
}

/* Settings that the running server cannot take over: the listeners (every
 * K_LISTEN), and these. */
static const char *const restart_only[] = {
    "tls-priority", "max-connections", "max-per-ip", "timeout", "auth-helpers",
    "admin-classes", "pid-file", "foreground", "metrics-tls", "wsman-trace", "user",
    "smb-conf", "pam-service", "state-dir",
};

static bool needs_restart(const struct opt *o)
{
    if (o->k == K_LISTEN)
        return true;
    for (size_t i = 0; i < sizeof restart_only / sizeof restart_only[0]; i++)
        if (strcmp(o->name, restart_only[i]) == 0)
            return true;
    return false;
}

static bool same_value(const struct opt *o, const srv_config *a, const srv_config *b)
{
    const char *pa = (const char *)a + o->off, *pb = (const char *)b + o->off;
    switch (o->k) {
    case K_STR: {
        const char *x = *(const char *const *)(const void *)pa;
        const char *y = *(const char *const *)(const void *)pb;
        return x == y || (x && y && strcmp(x, y) == 0);
    }
    case K_LISTEN:
        return strcmp(pa, pb) == 0;
    case K_BOOL:
        return *(const bool *)(const void *)pa == *(const bool *)(const void *)pb;
    case K_UINT:
    case K_LEVEL:
        return *(const unsigned *)(const void *)pa == *(const unsigned *)(const void *)pb;
    case K_SIZE:
        return *(const size_t *)(const void *)pa == *(const size_t *)(const void *)pb;
    }
    return true;
}

unsigned srv_config_apply(srv_config *c, srv_config *next)
{
    unsigned changed = 0;
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *o = &opts[i];
        if (same_value(o, c, next))
            continue;
        if (needs_restart(o)) {
            srv_log(LOG_WARNING, "SIGHUP: '%s' changed in the configuration: that needs a "
                    "restart; the running server keeps the old value", o->name);
            continue;
        }
        /* Word-sized stores, read by request threads without a lock: each
         * sees the old or the new value.  A string's old text stays valid
         * (its arena is kept until exit). */
        char *dst = (char *)c + o->off;
        const char *src = (const char *)next + o->off;
        switch (o->k) {
        case K_STR:
            __atomic_store_n((const char **)(void *)dst, *(const char *const *)(const void *)src,
                             __ATOMIC_RELEASE);
            break;
        case K_BOOL:
            __atomic_store_n((bool *)(void *)dst, *(const bool *)(const void *)src,
                             __ATOMIC_RELEASE);
            break;
        case K_UINT:
        case K_LEVEL:
            __atomic_store_n((unsigned *)(void *)dst, *(const unsigned *)(const void *)src,
                             __ATOMIC_RELEASE);
            break;
        case K_SIZE:
            __atomic_store_n((size_t *)(void *)dst, *(const size_t *)(const void *)src,
                             __ATOMIC_RELEASE);
            break;
        case K_LISTEN:
            break;
        }
        srv_log(LOG_INFO, "SIGHUP: '%s' changed", o->name);
        changed++;
    }
    c->retired = sc_xrealloc(c->retired, sizeof *c->retired * (c->nretired + 1));
    c->retired[c->nretired++] = next->arena;
    next->arena = NULL;
    srv_config_free(next);
    return changed;
}

bool srv_parse_listen(const char *spec, void *out, unsigned *len, char *why, size_t whylen)
{
    char host[256];
    const char *colon;
    if (spec[0] == '[') {
        const char *close = strchr(spec, ']');
        if (!close || close[1] != ':') {
            snprintf(why, whylen, "'%s': expected [IPv6]:PORT", spec);
            return false;
        }
        snprintf(host, sizeof host, "%.*s", (int)(close - spec - 1), spec + 1);
        colon = close + 1;
    } else {
        colon = strrchr(spec, ':');
        if (!colon) {
            snprintf(why, whylen, "'%s': expected ADDR:PORT", spec);
            return false;
        }
        snprintf(host, sizeof host, "%.*s", (int)(colon - spec), spec);
    }
    char *e;
    long port = strtol(colon + 1, &e, 10);
    if (*e || port < 1 || port > 65535) {
        snprintf(why, whylen, "'%s': the port must be 1..65535", spec);
        return false;
    }
    struct addrinfo hints = {.ai_flags = AI_PASSIVE | AI_NUMERICSERV, .ai_socktype = SOCK_STREAM};
    struct addrinfo *ai = NULL;
    char ps[16];
    snprintf(ps, sizeof ps, "%ld", port);
    int r = getaddrinfo(host[0] ? host : NULL, ps, &hints, &ai);
    if (r != 0 || !ai) {
        snprintf(why, whylen, "'%s': %s", spec, gai_strerror(r));
        return false;
    }
    memcpy(out, ai->ai_addr, ai->ai_addrlen);
    *len = (unsigned)ai->ai_addrlen;
    freeaddrinfo(ai);
    return true;
}
