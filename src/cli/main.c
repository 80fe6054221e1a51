/*
 * main.c - the smbcim command line: options, the command table, errors.
 *
 *   smbcim [options] COMMAND [ARG]
 *
 * Exit status: 0 success (an empty result included), 1 a WBEM error
 * (printed as "smbcim: WBEM_E_<NAME> (0x8004....): <what and where>"),
 * 2 a usage error.  Messages quote queries, paths, arguments and data:
 * each goes out through cli_visible (no control character reaches the
 * terminal as it is).
 */
#include <getopt.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>

#include "cli/format.h"
#include "smbcim.h"

#define EXIT_WBEM 1
#define EXIT_USAGE 2

typedef struct cli_opts {
    const char *snapshot;
    const char *smb_conf;  /* live source: the configuration file */
    const char *format;    /* NULL: the command's default */
} cli_opts;

typedef int (*cmd_fn)(const cli_opts *o, const char *arg);

typedef struct cli_command {
    const char *name;
    const char *arg;       /* argument name, NULL if none */
    const char *help;
    cmd_fn fn;
} cli_command;

static int wbem_fail(const smbcim_error *err)
{
    char *msg = cli_visible(err->msg);
    fprintf(stderr, "smbcim: %s (0x%08X): %s\n", smbcim_status_name(err->code),
            (unsigned)err->code, msg);
    free(msg);
    return EXIT_WBEM;
}

/* "smbcim: <what><text>" on stderr, text made visible. */
static void note(const char *what, const char *text)
{
    char *t = cli_visible(text);
    fprintf(stderr, "smbcim: %s%s\n", what, t);
    free(t);
}

static smbcim_ctx *open_ctx(const cli_opts *o, bool needs_state, smbcim_error *err)
{
    if (!needs_state && !o->snapshot)
        return smbcim_open_schema_only(err);
    if (o->snapshot)
        return smbcim_open_snapshot(o->snapshot, err);
    return smbcim_open_live(o->smb_conf, err);
}

/* After a request on a live context: how its state was read (what the
 * request needed of it), on stderr. */
static void report_live(const smbcim_ctx *ctx)
{
    const char *why = "";
    const char *route = smbcim_live_route(ctx, &why);
    if (!route)
        return;
    if (getenv("SMBCIM_TIMING"))
        note("live source: ", route);
    if (*why)
        note("warning: read the state through smbstatus: ", why);
    const char *warn = smbcim_live_warning(ctx);
    if (warn)
        note("warning: ", warn);
}

static const cli_formatter *pick_format(const cli_opts *o, const char *dflt)
{
    return cli_formatter_find(o->format ? o->format : dflt);
}

typedef smbcim_status (*request_fn)(smbcim_ctx *, const char *, smbcim_result **,
                                    smbcim_error *);

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs one request and prints its result with the chosen format.  With
 * SMBCIM_TIMING set in the environment, the time of each phase goes to
 * stderr (used by bench/). */
static int run_request(const cli_opts *o, const char *arg, request_fn fn, const char *dflt,
                       bool names_only)
{
    smbcim_error err = {0};
    double t0 = now();
    smbcim_ctx *ctx = open_ctx(o, true, &err);
    if (!ctx)
        return wbem_fail(&err);
    double t1 = now(), t2 = t1;
    smbcim_result *res;
    int rc = 0;
    smbcim_status st = fn(ctx, arg, &res, &err);
    report_live(ctx);
    if (st != WBEM_S_NO_ERROR) {
        rc = wbem_fail(&err);
    } else {
        t2 = now();
        if (names_only)
            cli_print_names(stdout, res, o->format && strcmp(o->format, "json") == 0);
        else
            pick_format(o, dflt)->print(stdout, ctx, res);
        smbcim_result_free(res);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("smbcim: writing the result");
        rc = EXIT_WBEM;
    }
    double t3 = now();
    if (getenv("SMBCIM_TIMING"))
        fprintf(stderr, "smbcim: timing: load %.4f s, evaluate %.4f s, format %.4f s\n",
                t1 - t0, t2 - t1, t3 - t2);
    smbcim_close(ctx);
    return rc;
}

static int cmd_query(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, smbcim_exec_query, "table", false);
}

static int cmd_get(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, smbcim_get_object, "list", false);
}

static int cmd_enum(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, smbcim_enum_instances, "table", false);
}

static int cmd_names(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, smbcim_enum_instances, "table", true);
}

static int cmd_classes(const cli_opts *o, const char *arg)
{
    (void)arg;
    smbcim_error err = {0};
    smbcim_ctx *ctx = open_ctx(o, false, &err);
    if (!ctx)
        return wbem_fail(&err);
    cli_print_class_list(stdout, ctx, pick_format(o, "table"));
    smbcim_close(ctx);
    return 0;
}

static int cmd_class(const cli_opts *o, const char *arg)
{
    smbcim_error err = {0};
    smbcim_ctx *ctx = open_ctx(o, false, &err);
    if (!ctx)
        return wbem_fail(&err);
    const cim_class *c = smbcim_class_find(ctx, arg);
    int rc = 0;
    if (!c) {
        smbcim_error_set(&err, WBEM_E_INVALID_CLASS, "class '%s' does not exist", arg);
        rc = wbem_fail(&err);
    } else {
        const cim_class *one[1] = {c};
        smbcim_result res = {.count = 1, .classes = one, .is_classes = true};
        pick_format(o, "mof")->print(stdout, ctx, &res);
    }
    smbcim_close(ctx);
    return rc;
}

/* Writes the state as a snapshot document to standard output. */
static int cmd_snapshot(const cli_opts *o, const char *arg)
{
    (void)arg;
    smbcim_error err = {0};
    smbcim_ctx *ctx = open_ctx(o, true, &err);
    if (!ctx)
        return wbem_fail(&err);
    char *text = smbcim_snapshot_text(ctx, &err);
    report_live(ctx);
    if (!text) {
        smbcim_close(ctx);
        return wbem_fail(&err);
    }
    int rc = 0;
    if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
        perror("smbcim: writing the snapshot");
        rc = EXIT_WBEM;
    }
    free(text);
    smbcim_close(ctx);
    return rc;
}

static const cli_command commands[] = {
    {"query", "WQL", "run a WQL query (SELECT, ASSOCIATORS OF, REFERENCES OF)", cmd_query},
    {"get", "PATH", "get one object by its WMI object path (GetObject)", cmd_get},
    {"enum", "CLASS", "enumerate a class and its subclasses (SELECT * FROM CLASS)", cmd_enum},
    {"names", "CLASS", "print the object paths of a class's instances", cmd_names},
    {"classes", NULL, "list the classes with their superclasses", cmd_classes},
    {"class", "CLASS", "print a class declaration as MOF", cmd_class},
    {"snapshot", NULL, "write the server's state as a snapshot (JSON) to stdout", cmd_snapshot},
};

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smbcim [options] COMMAND [ARG]\n"
            "\n"
            "Answers WMI questions about an SMB server's shares, sessions and\n"
            "connections (Win32_Share, Win32_ServerSession, Win32_ServerConnection,\n"
            "Win32_ConnectionShare, Win32_SessionConnection), as Windows does.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        char head[32];
        snprintf(head, sizeof(head), "%s %s", commands[i].name,
                 commands[i].arg ? commands[i].arg : "");
        fprintf(out, "  %-15s %s\n", head, commands[i].help);
    }
    fprintf(out,
            "\n"
            "options (before the command):\n"
            "  --snapshot FILE     read the server state from a snapshot file (- = stdin)\n"
            "                      (default: the live local Samba server)\n"
            "  --smb-conf FILE     the live server's configuration (default\n"
            "                      /etc/samba/smb.conf)\n"
            "  --format FORMAT     table, list, json, csv or mof\n"
            "  -h, --help          show this help\n"
            "  --version           show the version\n"
            "\n"
            "examples:\n"
            "  smbcim query \"SELECT * FROM Win32_ConnectionShare\"\n"
            "  smbcim snapshot > fs01.json\n"
            "  smbcim --snapshot fs01.json query \"SELECT * FROM Win32_ConnectionShare\"\n"
            "  smbcim --snapshot fs01.json query 'ASSOCIATORS OF {Win32_Share.Name=\"IPC$\"}'\n"
            "  smbcim --snapshot fs01.json get 'Win32_Share.Name=\"Projects\"'\n"
            "  smbcim class Win32_ConnectionShare\n"
            "\n"
            "Exit status: 0 success, 1 WBEM error, 2 usage error.  See smbcim(1).\n");
}

/* fmt has one %s, for what: an argument, made visible. */
static int usage_error(const char *fmt, const char *what)
{
    char *w = cli_visible(what);
    fprintf(stderr, "smbcim: ");
    fprintf(stderr, fmt, w);
    fprintf(stderr, "\nTry 'smbcim --help'.\n");
    free(w);
    return EXIT_USAGE;
}

int main(int argc, char **argv)
{
    cli_opts o = {0};
    static const struct option longopts[] = {
        {"snapshot", required_argument, NULL, 's'},
        {"smb-conf", required_argument, NULL, 'c'},
        {"format", required_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    int c;
    /* '+': options stop at the command, so a query may start with '-';
     * ':' and opterr 0: getopt's messages, which would print a bad option
     * as it is, are ours (below), with the option made visible. */
    opterr = 0;
    /* at, before each call: the argument getopt works on (for messages) */
    for (int at = optind; (c = getopt_long(argc, argv, "+:h", longopts, NULL)) != -1;
         at = optind) {
        switch (c) {
        case 's':
            o.snapshot = optarg;
            break;
        case 'c':
            o.smb_conf = optarg;
            break;
        case 'f':
            if (!cli_formatter_find(optarg))
                return usage_error("unknown format '%s' (table, list, json, csv, mof)", optarg);
            o.format = optarg;
            break;
        case 'h':
            usage(stdout);
            return 0;
        case 'V':
            printf("smbcim 0.1.0\n");
            return 0;
        case ':':
            return usage_error("option '%s' needs an argument", argv[at]);
        default: {
            /* a long option unknown, ambiguous or given an argument it
             * does not take; or an unknown short one (perhaps in a cluster) */
            if (strncmp(argv[at], "--", 2) == 0)
                return usage_error("invalid option '%s'", argv[at]);
            char opt[3] = {'-', (char)optopt, '\0'};
            return usage_error("invalid option '%s'", opt);
        }
        }
    }
    if (optind >= argc)
        return usage_error("%s", "no command given");
    if (o.snapshot && o.smb_conf)
        return usage_error("%s", "--snapshot and --smb-conf exclude each other");
    const char *name = argv[optind++];
    for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
        const cli_command *cmd = &commands[i];
        if (strcmp(cmd->name, name) != 0)
            continue;
        const char *arg = NULL;
        if (cmd->arg) {
            if (optind >= argc)
                return usage_error("'%s' needs an argument", name);
            arg = argv[optind++];
        }
        if (optind < argc)
            return usage_error("unexpected argument '%s' (quote the whole query or path)",
                               argv[optind]);
        return cmd->fn(&o, arg);
    }
    return usage_error("unknown command '%s'", name);
}
