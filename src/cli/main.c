/*
 * main.c - the smbcim command line: the option and command tables, the
 * parsing of argv, help, and the commands that run one request.
 *
 *   smbcim [options] COMMAND [ARG] [options]
 *
 * Options may come before or after the command; a command's own options
 * (enum --where, associators --result-class, ...) are refused with any other
 * command.  "--" ends the options.  Exit statuses: cli.h (CLI_EXIT_*) and
 * man/smbcim.1.  Messages quote queries, paths, arguments and data: each
 * goes out through cli_visible (no control character reaches the terminal
 * as it is).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "cli/watch.h"

/* ---- failures, contexts -------------------------------------------------- */
int cli_exit_for(smbcim_status st)
{
    switch (st) {
    case WBEM_S_NO_ERROR:
        return CLI_EXIT_OK;
    case WBEM_E_NOT_FOUND:
        return CLI_EXIT_NOT_FOUND;
    case WBEM_E_ACCESS_DENIED:
        return CLI_EXIT_ACCESS_DENIED;
    case WBEM_E_NOT_AVAILABLE:
        return CLI_EXIT_NOT_AVAILABLE;
    case WBEM_E_QUOTA_VIOLATION:
        return CLI_EXIT_LIMIT;
    case WBEM_E_INVALID_PARAMETER:
    case WBEM_E_INVALID_NAMESPACE:
    case WBEM_E_INVALID_OBJECT:
    case WBEM_E_INVALID_CLASS:
    case WBEM_E_INVALID_QUERY:
    case WBEM_E_INVALID_QUERY_TYPE:
    case WBEM_E_INVALID_SYNTAX:
    case WBEM_E_INVALID_PROPERTY:
    case WBEM_E_INVALID_OBJECT_PATH:
    case WBEM_E_INVALID_QUALIFIER:
    case WBEM_E_TYPE_MISMATCH:
    case WBEM_E_NOT_SUPPORTED:
    case WBEM_E_UNPARSABLE_QUERY: /* event queries (watch) */
    case WBEM_E_NOT_EVENT_CLASS:
    case WBEM_E_MISSING_GROUP_WITHIN:
    case WBEM_E_PROPERTY_NOT_AN_OBJECT:
    case WBEM_E_AGGREGATING_BY_OBJECT:
    case WBEMESS_E_REGISTRATION_TOO_PRECISE:
        return CLI_EXIT_INVALID;
    default:
        return CLI_EXIT_FAILED;
    }
}

int cli_wbem_fail(const smbcim_error *err)
{
    char *msg = cli_visible(err->msg);
    fprintf(stderr, "smbcim: %s (0x%08X): %s\n", smbcim_status_name(err->code),
            (unsigned)err->code, msg);
    free(msg);
    int rc = cli_exit_for(err->code);
    return rc == CLI_EXIT_OK ? CLI_EXIT_FAILED : rc;
}

/* "smbcim: <what><text>" on stderr, text made visible. */
static void note(const char *what, const char *text)
{
    char *t = cli_visible(text);
    fprintf(stderr, "smbcim: %s%s\n", what, t);
    free(t);
}

smbcim_ctx *cli_open_ctx(const cli_opts *o, bool needs_state, smbcim_error *err)
{
    if (!needs_state && !o->snapshot)
        return smbcim_open_schema_only(err);
    if (o->snapshot)
        return smbcim_open_snapshot(o->snapshot, err);
    return smbcim_open_live(o->smb_conf, err);
}

void cli_report_live(const smbcim_ctx *ctx)
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

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* ---- requests ------------------------------------------------------------ */
/* One request on an open context: fills *res or err. */
typedef smbcim_status (*request_fn)(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                                    smbcim_result **res, smbcim_error *err);

/* Runs one request and prints its result with the chosen format.  With
 * SMBCIM_TIMING set in the environment, the time of each phase goes to
 * stderr (used by bench/). */
static int run_request(const cli_opts *o, const char *arg, request_fn fn, const char *dflt,
                       bool names_only)
{
    smbcim_error err;
    double t0 = now();
    smbcim_ctx *ctx = cli_open_ctx(o, true, &err);
    if (!ctx)
        return cli_wbem_fail(&err);
    double t1 = now(), t2 = t1;
    smbcim_result *res;
    int rc = CLI_EXIT_OK;
    smbcim_status st = fn(ctx, o, arg, &res, &err);
    cli_report_live(ctx);
    if (st != WBEM_S_NO_ERROR) {
        rc = cli_wbem_fail(&err);
    } else {
        t2 = now();
        /* held for the whole answer: each of its thousands of stdio calls
         * then finds the lock its own instead of taking it (the process has
         * had threads, so stdio locks for real) */
        flockfile(stdout);
        if (names_only)
            cli_print_names(stdout, res, o->format && strcmp(o->format, "json") == 0);
        else
            pick_format(o, dflt)->print(stdout, ctx, res);
        funlockfile(stdout);
        smbcim_result_free(res);
    }
    if (fflush(stdout) != 0 || ferror(stdout)) {
        perror("smbcim: writing the result");
        rc = CLI_EXIT_FAILED;
    }
    double t3 = now();
    if (getenv("SMBCIM_TIMING"))
        fprintf(stderr, "smbcim: timing: load %.4f s, evaluate %.4f s, format %.4f s\n",
                t1 - t0, t2 - t1, t3 - t2);
    smbcim_close(ctx);
    return rc;
}

static smbcim_status do_query(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                              smbcim_result **res, smbcim_error *err)
{
    (void)o;
    return smbcim_exec_query(ctx, arg, res, err);
}

static smbcim_status do_get(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                            smbcim_result **res, smbcim_error *err)
{
    (void)o;
    return smbcim_get_object(ctx, arg, res, err);
}

static bool is_identifier(const char *s, size_t n)
{
    if (n == 0 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!(isalnum((unsigned char)s[i]) || s[i] == '_'))
            return false;
    return true;
}

/* Appends s to the message in dst (cap bytes), cut as every message is. */
static void msg_cat(char *dst, size_t cap, const char *s)
{
    size_t n = strlen(dst), k = strlen(s);
    if (n + 1 >= cap)
        return;
    if (k > cap - 1 - n)
        k = cap - 1 - n;
    memcpy(dst + n, s, k);
    dst[n + k] = '\0';
}

/* enum CLASS [--property A,B] [--where COND]: the WQL query wmic would send
 * ("SELECT A,B FROM CLASS WHERE COND").  The class and the property names
 * must be plain names, so nothing but the condition reaches the query as
 * text; an error in the condition is reported with its column within the
 * --where text. */
static smbcim_status do_enum(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                             smbcim_result **res, smbcim_error *err)
{
    if (!o->where && !o->property)
        return smbcim_enum_instances(ctx, arg, res, err);
    if (!is_identifier(arg, strlen(arg)))
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS, "'%s' is not a class name", arg);
    char *q = NULL;
    size_t qlen = 0;
    FILE *f = open_memstream(&q, &qlen);
    if (!f)
        return smbcim_error_set(err, WBEM_E_OUT_OF_MEMORY, "out of memory");
    fputs("SELECT ", f);
    if (o->property) {
        const char *p = o->property;
        for (size_t k = 0;; k++) {
            while (*p == ' ')
                p++;
            size_t n = strcspn(p, ",");
            size_t m = n;
            while (m && p[m - 1] == ' ')
                m--;
            if (!is_identifier(p, m)) {
                fclose(f);
                free(q);
                return smbcim_error_set(err, WBEM_E_INVALID_PROPERTY,
                                        "--property: item %zu ('%.*s') is not a property name",
                                        k + 1, (int)m, p);
            }
            fprintf(f, "%s%.*s", k ? ", " : "", (int)m, p);
            if (!p[n])
                break;
            p += n + 1;
        }
    } else {
        fputs("*", f);
    }
    fprintf(f, " FROM %s", arg);
    long where_at = 0;
    if (o->where) {
        fputs(" WHERE ", f);
        where_at = ftell(f);
        fputs(o->where, f);
    }
    if (fclose(f) != 0 || !q) {
        free(q);
        return smbcim_error_set(err, WBEM_E_OUT_OF_MEMORY, "out of memory");
    }
    smbcim_status st = smbcim_exec_query(ctx, q, res, err);
    if (st != WBEM_S_NO_ERROR) {
        /* "at column N: ..." of the built query: the column within --where
         * when the fault is there, else the query is shown */
        unsigned long col = 0;
        int used = 0;
        if (sscanf(err->msg, "at column %lu:%n", &col, &used) == 1 && used > 0 &&
            where_at > 0 && col > (unsigned long)where_at) {
            smbcim_error e = *err;
            int k = snprintf(e.msg, sizeof(e.msg), "in --where at column %lu:%s",
                             col - (unsigned long)where_at, err->msg + used);
            (void)k; /* cut at sizeof(msg), as every message is */
            *err = e;
        } else {
            smbcim_error e = *err;
            msg_cat(e.msg, sizeof(e.msg), " (in the query made of the options: ");
            msg_cat(e.msg, sizeof(e.msg), q);
            msg_cat(e.msg, sizeof(e.msg), ")");
            *err = e;
        }
    }
    free(q);
    return st;
}

static smbcim_assoc_filter filter_of(const cli_opts *o)
{
    smbcim_assoc_filter f = {
        .assoc_class = o->assoc_class,
        .result_class = o->result_class,
        .role = o->role,
        .result_role = o->result_role,
        .keys_only = o->keys_only,
    };
    return f;
}

static smbcim_status do_associators(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                                    smbcim_result **res, smbcim_error *err)
{
    smbcim_assoc_filter f = filter_of(o);
    return smbcim_associators(ctx, arg, &f, res, err);
}

static smbcim_status do_references(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                                   smbcim_result **res, smbcim_error *err)
{
    smbcim_assoc_filter f = filter_of(o);
    return smbcim_references(ctx, arg, &f, res, err);
}

static smbcim_status do_names(smbcim_ctx *ctx, const cli_opts *o, const char *arg,
                              smbcim_result **res, smbcim_error *err)
{
    (void)o;
    return smbcim_enum_instances(ctx, arg, res, err);
}

/* ---- commands ------------------------------------------------------------ */
/* watch (src/cli/watch.c): every --snapshot in order, --count, --timeout */
static cli_watch_opts watch_opts;

static int cmd_watch(const cli_opts *o, const char *arg)
{
    watch_opts.smb_conf = o->smb_conf;
    watch_opts.format = o->format;
    return cli_watch(&watch_opts, arg);
}

static int cmd_query(const cli_opts *o, const char *arg)
{
    if (cli_is_event_query(arg)) /* SELECT ... FROM __InstanceCreationEvent ... */
        return cmd_watch(o, arg);
    return run_request(o, arg, do_query, "table", false);
}

static int cmd_get(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, do_get, "list", false);
}

static int cmd_enum(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, do_enum, "table", false);
}

static int cmd_names(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, do_names, "table", true);
}

static int cmd_associators(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, do_associators, "table", false);
}

static int cmd_references(const cli_opts *o, const char *arg)
{
    return run_request(o, arg, do_references, "table", false);
}

static int cmd_classes(const cli_opts *o, const char *arg)
{
    (void)arg;
    smbcim_error err;
    smbcim_ctx *ctx = cli_open_ctx(o, false, &err);
    if (!ctx)
        return cli_wbem_fail(&err);
    cli_print_class_list(stdout, ctx, pick_format(o, "table"));
    smbcim_close(ctx);
    return CLI_EXIT_OK;
}

static int cmd_class(const cli_opts *o, const char *arg)
{
    smbcim_error err;
    smbcim_ctx *ctx = cli_open_ctx(o, false, &err);
    if (!ctx)
        return cli_wbem_fail(&err);
    const cim_class *c = smbcim_class_find(ctx, arg);
    int rc = CLI_EXIT_OK;
    if (!c) {
        smbcim_error_set(&err, WBEM_E_INVALID_CLASS, "class '%s' does not exist", arg);
        rc = cli_wbem_fail(&err);
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
    smbcim_error err;
    smbcim_ctx *ctx = cli_open_ctx(o, true, &err);
    if (!ctx)
        return cli_wbem_fail(&err);
    char *text = smbcim_snapshot_text(ctx, &err);
    cli_report_live(ctx);
    if (!text) {
        smbcim_close(ctx);
        return cli_wbem_fail(&err);
    }
    int rc = CLI_EXIT_OK;
    if (fputs(text, stdout) == EOF || fflush(stdout) != 0) {
        perror("smbcim: writing the snapshot");
        rc = CLI_EXIT_FAILED;
    }
    free(text);
    smbcim_close(ctx);
    return rc;
}

static int cmd_help(const cli_opts *o, const char *arg);

/* Command bits, for the options that belong to some commands only. */
enum {
    C_QUERY = 1u << 0,
    C_GET = 1u << 1,
    C_ENUM = 1u << 2,
    C_NAMES = 1u << 3,
    C_ASSOC = 1u << 4,
    C_REFS = 1u << 5,
    C_CLASSES = 1u << 6,
    C_CLASS = 1u << 7,
    C_SNAPSHOT = 1u << 8,
    C_HELP = 1u << 9,
    C_WATCH = 1u << 10,
};

typedef struct cli_command {
    const char *name;
    unsigned bit;
    const char *arg;       /* argument name, NULL if none */
    bool arg_optional;
    const char *summary;   /* one line, for `smbcim --help` */
    const char *details;   /* `smbcim help NAME`: what it does, examples */
    int (*fn)(const cli_opts *o, const char *arg);
} cli_command;

static const cli_command commands[] = {
    {"query", C_QUERY, "WQL", false, "run a WQL query (SELECT, ASSOCIATORS OF, REFERENCES OF)",
     "Runs a WQL query as WMI does:\n"
     "  SELECT * | Prop[, ...] FROM Class [WHERE condition]\n"
     "  ASSOCIATORS OF {path} [WHERE AssocClass=C ResultClass=C Role=R ResultRole=R\n"
     "                         ClassDefsOnly KeysOnly RequiredQualifier=Q ...]\n"
     "  REFERENCES OF {path} [WHERE ResultClass=C Role=R ClassDefsOnly KeysOnly ...]\n"
     "Quote the whole query (one argument).  Default format: table.\n"
     "\n"
     "examples:\n"
     "  smbcim query \"SELECT * FROM Win32_ConnectionShare\"\n"
     "  smbcim query \"SELECT ComputerName, UserName FROM Win32_ServerConnection\n"
     "               WHERE ShareName = 'Projects' AND NumberOfFiles > 0\"\n"
     "  smbcim query 'ASSOCIATORS OF {Win32_Share.Name=\"Projects\"} WHERE "
     "ResultClass=Win32_ServerConnection'\n",
     cmd_query},
    {"watch", C_WATCH, "WQL", false,
     "print events as they happen (an event query: __InstanceCreationEvent ...)",
     "Runs a WMI event query and prints each event as it is found:\n"
     "  SELECT * FROM __InstanceCreationEvent | __InstanceDeletionEvent |\n"
     "                __InstanceModificationEvent | __InstanceOperationEvent\n"
     "    WITHIN seconds [WHERE TargetInstance ISA 'Class' AND TargetInstance.Prop = v]\n"
     "    [GROUP WITHIN seconds [BY TargetInstance.Prop] [HAVING NumberOfEvents > n]]\n"
     "The live server is read again every WITHIN seconds.  With --snapshot (given\n"
     "several times, or a directory of *.json snapshots, replayed in name order) a\n"
     "recorded sequence of states is replayed, one per WITHIN interval (at once when\n"
     "SMBCIM_WATCH_NOWAIT=1).  Stops after --count events, after --timeout seconds,\n"
     "on Ctrl-C (SIGINT) or SIGTERM (exit status 0), or at the end of the snapshots.\n"
     "'query' given an event query does the same.  --format json writes one object\n"
     "per line.  Default format: table.\n"
     "\n"
     "examples:\n"
     "  smbcim watch \"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE\n"
     "                TargetInstance ISA 'Win32_ServerConnection' AND\n"
     "                TargetInstance.ShareName != 'IPC$'\" -f json\n"
     "  smbcim -s states/ watch \"SELECT * FROM __InstanceOperationEvent WITHIN 1\n"
     "                WHERE TargetInstance ISA 'Win32_ServerSession'\" --count 10\n",
     cmd_watch},
    {"get", C_GET, "PATH", false, "get one object by its WMI object path (GetObject)",
     "Gets one object by its WMI object path: full (\\\\SERVER\\root\\cimv2:Class.Key=\"v\"),\n"
     "namespace-relative or relative (Class.Key=\"v\", or Class=\"v\" for a class with\n"
     "one key).  A class path prints the class.  Default format: list.\n"
     "\n"
     "examples:\n"
     "  smbcim get 'Win32_Share.Name=\"Projects\"'\n"
     "  smbcim get 'Win32_ServerSession.ComputerName=\"10.0.0.5\",UserName=\"alice\"'\n",
     cmd_get},
    {"enum", C_ENUM, "CLASS", false,
     "enumerate a class and its subclasses [--where COND] [--property A,B]",
     "Enumerates a class and its subclasses (SELECT * FROM CLASS), as wmic's\n"
     "\"wmic CLASS where COND get A,B\" does: --where keeps the instances a WQL\n"
     "condition is true of, --property shows only the properties named (a\n"
     "comma-separated list).  Default format: table.\n"
     "\n"
     "examples:\n"
     "  smbcim enum Win32_Share\n"
     "  smbcim enum Win32_ServerConnection --where \"ShareName='Projects'\" "
     "--property UserName,NumberOfFiles\n",
     cmd_enum},
    {"names", C_NAMES, "CLASS", false, "print the object paths of a class's instances",
     "Prints the object path (__PATH) of each instance of a class and its\n"
     "subclasses, one per line (a JSON array with --format json).\n",
     cmd_names},
    {"associators", C_ASSOC, "PATH", false,
     "the objects associated with an object (ASSOCIATORS OF)",
     "The objects associated with the object at PATH, through any association\n"
     "in either direction, as ASSOCIATORS OF {PATH} does; the options filter as\n"
     "its WHERE keywords do: --assoc-class (through this association class),\n"
     "--result-class (objects of this class), --role (PATH's role in the\n"
     "association), --result-role (the result's role), --keys-only.\n"
     "Default format: table.\n"
     "\n"
     "examples:\n"
     "  smbcim associators 'Win32_Share.Name=\"Projects\"' --result-class "
     "Win32_ServerConnection\n"
     "  smbcim associators 'Win32_ServerSession.ComputerName=\"10.0.0.5\",UserName=\"alice\"'\n",
     cmd_associators},
    {"references", C_REFS, "PATH", false,
     "the associations that refer to an object (REFERENCES OF)",
     "The association instances that refer to the object at PATH, as\n"
     "REFERENCES OF {PATH} does: --result-class keeps those of one association\n"
     "class, --role those where PATH plays that role, --keys-only.\n"
     "Default format: table.\n"
     "\n"
     "example:\n"
     "  smbcim references 'Win32_Share.Name=\"Projects\"' --result-class "
     "Win32_ConnectionShare\n",
     cmd_references},
    {"classes", C_CLASSES, NULL, false, "list the classes with their superclasses",
     "Lists the classes of root/cimv2 that smbcim knows, with their superclasses.\n",
     cmd_classes},
    {"class", C_CLASS, "CLASS", false, "print a class declaration as MOF",
     "Prints a class declaration (qualifiers, properties, methods) as MOF.\n"
     "Default format: mof.\n",
     cmd_class},
    {"snapshot", C_SNAPSHOT, NULL, false,
     "write the server's state as a snapshot (JSON) to stdout",
     "Writes the server's state as a snapshot (JSON, docs/snapshot-format.md)\n"
     "to standard output; --snapshot FILE reads it back with the same answers.\n",
     cmd_snapshot},
    {"help", C_HELP, "COMMAND", true, "show the help of a command",
     "Shows the help of a command, or the general help without one.\n", cmd_help},
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

enum opt_id {
    O_SNAPSHOT, O_SMB_CONF, O_FORMAT, O_HELP, O_VERSION, O_WHERE, O_PROPERTY,
    O_ASSOC_CLASS, O_RESULT_CLASS, O_ROLE, O_RESULT_ROLE, O_KEYS_ONLY, O_COUNT, O_TIMEOUT,
};

typedef struct cli_option {
    enum opt_id id;
    const char *name;      /* long name, without "--" */
    char shortname;        /* 0 when none */
    const char *arg;       /* argument name, NULL for a flag */
    unsigned cmds;         /* the commands it applies to; 0 = all */
    const char *help;
} cli_option;

#define C_STATE (C_QUERY | C_GET | C_ENUM | C_NAMES | C_ASSOC | C_REFS | C_SNAPSHOT | C_WATCH)
static const cli_option options[] = {
    {O_SNAPSHOT, "snapshot", 's', "FILE", C_STATE | C_CLASSES | C_CLASS,
     "read the server state from a snapshot file (- = stdin)\n"
     "(default: the live local Samba server)"},
    {O_SMB_CONF, "smb-conf", 0, "FILE", C_STATE,
     "the live server's configuration (default /etc/samba/smb.conf)"},
    {O_FORMAT, "format", 'f', "FORMAT", C_STATE | C_CLASSES | C_CLASS,
     "table, list, json, csv or mof"},
    {O_WHERE, "where", 'w', "COND", C_ENUM, "keep the instances this WQL condition is true of"},
    {O_PROPERTY, "property", 'p', "A,B,...", C_ENUM, "show these properties only"},
    {O_ASSOC_CLASS, "assoc-class", 0, "CLASS", C_ASSOC, "through this association class only"},
    {O_RESULT_CLASS, "result-class", 0, "CLASS", C_ASSOC | C_REFS,
     "results of this class (references: this association class)"},
    {O_ROLE, "role", 0, "NAME", C_ASSOC | C_REFS, "the object's role in the association"},
    {O_RESULT_ROLE, "result-role", 0, "NAME", C_ASSOC, "the results' role in the association"},
    {O_KEYS_ONLY, "keys-only", 0, NULL, C_ASSOC | C_REFS, "only the key properties"},
    {O_COUNT, "count", 0, "N", C_WATCH | C_QUERY, "stop after N events (an event query)"},
    {O_TIMEOUT, "timeout", 0, "SECONDS", C_WATCH | C_QUERY,
     "stop after SECONDS (an event query; fractions allowed)"},
    {O_HELP, "help", 'h', NULL, 0, "show this help (with a command: its help)"},
    {O_VERSION, "version", 'V', NULL, 0, "show the version"},
};
#define NOPTIONS (sizeof(options) / sizeof(options[0]))

static const cli_command *command_find(const char *name)
{
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_options(FILE *out, unsigned only_cmd, bool global)
{
    for (size_t i = 0; i < NOPTIONS; i++) {
        const cli_option *op = &options[i];
        bool is_global = op->cmds == 0 || (op->cmds & C_STATE) == C_STATE;
        if (global ? !is_global : !(op->cmds & only_cmd) || is_global)
            continue;
        char head[64];
        int n = 0;
        if (op->shortname)
            n = snprintf(head, sizeof(head), "-%c, ", op->shortname);
        snprintf(head + n, sizeof(head) - (size_t)n, "--%s%s%s", op->name,
                 op->arg ? " " : "", op->arg ? op->arg : "");
        /* continuation lines of the help indented under its first */
        const char *h = op->help;
        size_t len = strcspn(h, "\n");
        fprintf(out, "  %-22s %.*s\n", head, (int)len, h);
        while (h[len] == '\n') {
            h += len + 1;
            len = strcspn(h, "\n");
            fprintf(out, "  %-22s %.*s\n", "", (int)len, h);
        }
    }
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: smbcim [options] COMMAND [ARG] [options]\n"
            "\n"
            "Answers WMI questions about an SMB server's shares, sessions,\n"
            "connections and open files (Win32_Share, Win32_ServerSession,\n"
            "Win32_ServerConnection, Win32_ConnectionShare, Win32_SessionConnection,\n"
            "MSFT_SmbSession, MSFT_SmbOpenFile), as Windows does.\n"
            "\n"
            "commands:\n");
    for (size_t i = 0; i < NCOMMANDS; i++) {
        char head[32];
        const cli_command *c = &commands[i];
        snprintf(head, sizeof(head), "%s %s%s%s", c->name, c->arg_optional ? "[" : "",
                 c->arg ? c->arg : "", c->arg_optional ? "]" : "");
        fprintf(out, "  %-20s %s\n", head, c->summary);
    }
    fprintf(out, "\noptions (before or after the command):\n");
    print_options(out, 0, true);
    fprintf(out,
            "\n"
            "examples:\n"
            "  smbcim query \"SELECT * FROM Win32_ConnectionShare\"\n"
            "  smbcim snapshot > fs01.json\n"
            "  smbcim -s fs01.json query 'ASSOCIATORS OF {Win32_Share.Name=\"IPC$\"}'\n"
            "  smbcim -s fs01.json enum Win32_ServerConnection --where \"UserName='alice'\"\n"
            "  smbcim -s fs01.json get 'Win32_Share.Name=\"Projects\"' -f json\n"
            "  smbcim class Win32_ConnectionShare\n"
            "  smbcim watch \"SELECT * FROM __InstanceCreationEvent WITHIN 1 WHERE "
            "TargetInstance ISA 'Win32_ServerConnection'\"\n"
            "\n"
            "'smbcim help COMMAND' shows a command's own options.  Exit status: 0 success,\n"
            "1 failed, 2 usage, 3 invalid query/path/class, 4 not found, 5 access denied,\n"
            "6 source not available, 7 a limit exceeded.  See smbcim(1).\n");
}

static void command_help(FILE *out, const cli_command *c)
{
    fprintf(out, "usage: smbcim %s%s%s%s%s [options]\n\n%s", c->name, c->arg ? " " : "",
            c->arg_optional ? "[" : "", c->arg ? c->arg : "", c->arg_optional ? "]" : "",
            c->details);
    bool own = false;
    for (size_t i = 0; i < NOPTIONS; i++)
        own |= options[i].cmds != 0 && (options[i].cmds & C_STATE) != C_STATE &&
               (options[i].cmds & c->bit);
    if (own) {
        fprintf(out, "\noptions of '%s':\n", c->name);
        print_options(out, c->bit, false);
    }
    fprintf(out, "\ncommon options:\n");
    print_options(out, 0, true);
}

static int cmd_help(const cli_opts *o, const char *arg)
{
    (void)o;
    if (!arg) {
        usage(stdout);
        return CLI_EXIT_OK;
    }
    const cli_command *c = command_find(arg);
    if (!c) {
        char *w = cli_visible(arg);
        fprintf(stderr, "smbcim: no help for '%s': not a command\nTry 'smbcim --help'.\n", w);
        free(w);
        return CLI_EXIT_USAGE;
    }
    command_help(stdout, c);
    return CLI_EXIT_OK;
}

/* fmt has one %s, for what: an argument, made visible. */
static int usage_error(const char *fmt, const char *what)
{
    char *w = cli_visible(what);
    fprintf(stderr, "smbcim: ");
    fprintf(stderr, fmt, w);
    fprintf(stderr, "\nTry 'smbcim --help'.\n");
    free(w);
    return CLI_EXIT_USAGE;
}

/* The table's width: $COLUMNS when set (as ls does), else the terminal's
 * when standard output is one, else none (0: tables are never cut when
 * written to a file or a pipe). */
static size_t output_width(void)
{
    const char *cols = getenv("COLUMNS");
    if (cols && *cols) {
        char *end;
        unsigned long n = strtoul(cols, &end, 10);
        if (!*end && n > 0 && n < 100000)
            return n;
    }
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col)
        return ws.ws_col;
    return 0;
}

/* Sets one option; 0, or a usage error's exit status. */
static int set_option(cli_opts *o, const cli_option *op, const char *val, const char *spelled)
{
    switch (op->id) {
    case O_SNAPSHOT: {
        o->snapshot = val;
        /* watch replays every --snapshot given, in order */
        const char **v = realloc((void *)watch_opts.snapshots,
                                 (watch_opts.nsnapshots + 1) * sizeof(*v));
        if (!v)
            return usage_error("%s", "out of memory");
        v[watch_opts.nsnapshots++] = val;
        watch_opts.snapshots = v;
        break;
    }
    case O_COUNT:
        if (!cli_watch_parse_count(val, &watch_opts.count))
            return usage_error("--count takes a number of events (1 or more), not '%s'", val);
        break;
    case O_TIMEOUT:
        if (!cli_watch_parse_timeout(val, &watch_opts.timeout))
            return usage_error("--timeout takes a number of seconds (more than 0), not '%s'", val);
        break;
    case O_SMB_CONF: o->smb_conf = val; break;
    case O_FORMAT:
        if (!cli_formatter_find(val))
            return usage_error("unknown format '%s' (table, list, json, csv, mof)", val);
        o->format = val;
        break;
    case O_WHERE: o->where = val; break;
    case O_PROPERTY: o->property = val; break;
    case O_ASSOC_CLASS: o->assoc_class = val; break;
    case O_RESULT_CLASS: o->result_class = val; break;
    case O_ROLE: o->role = val; break;
    case O_RESULT_ROLE: o->result_role = val; break;
    case O_KEYS_ONLY: o->keys_only = true; break;
    case O_HELP: case O_VERSION: break; /* acted on after parsing */
    }
    (void)spelled;
    return 0;
}

/* A long option by name or unambiguous prefix ("--snap"); NULL after a
 * usage error (*rc set). */
static const cli_option *find_long(const char *name, size_t len, int *rc, const char *arg)
{
    const cli_option *hit = NULL;
    for (size_t i = 0; i < NOPTIONS; i++) {
        if (strncmp(options[i].name, name, len) != 0)
            continue;
        if (strlen(options[i].name) == len)
            return &options[i];
        if (hit) {
            *rc = usage_error("ambiguous option '%s'", arg);
            return NULL;
        }
        hit = &options[i];
    }
    if (!hit)
        *rc = usage_error("invalid option '%s'", arg);
    return hit;
}

int main(int argc, char **argv)
{
    cli_opts o = {0};
    const char *pos[3];          /* the command and its argument(s) */
    int npos = 0;
    const char *extra = NULL;    /* the first argument too many */
    bool help = false, version = false;
    /* for each option given, the first spelling, to name it in messages */
    const char *given[NOPTIONS] = {0};
    bool only_args = false;
    /* A result of thousands of rows goes to a pipe in 64 KiB writes, not
     * stdio's 4 KiB: a sixteenth of the writes, each of which may wait
     * for the reader. */
    static char outbuf[1 << 16];
    if (!isatty(STDOUT_FILENO))
        setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (only_args || a[0] != '-' || a[1] == '\0') {
            if (npos < 2)
                pos[npos++] = a;
            else if (!extra)
                extra = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_args = true;
            continue;
        }
        const cli_option *op = NULL;
        const char *val = NULL;
        int rc = 0;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            size_t len = eq ? (size_t)(eq - (a + 2)) : strlen(a + 2);
            if (!(op = find_long(a + 2, len, &rc, a)))
                return rc;
            if (eq) {
                if (!op->arg)
                    return usage_error("option '%s' takes no argument", a);
                val = eq + 1;
            }
        } else {
            for (size_t k = 0; k < NOPTIONS; k++)
                if (options[k].shortname == a[1])
                    op = &options[k];
            if (!op) {
                char opt[3] = {'-', a[1], '\0'};
                return usage_error("invalid option '%s'", opt);
            }
            if (a[2]) {
                if (!op->arg)
                    return usage_error("invalid option '%s' (one letter per '-')", a);
                val = a + 2; /* -fjson */
            }
        }
        if (op->arg && !val) {
            if (i + 1 >= argc)
                return usage_error("option '%s' needs an argument", a);
            val = argv[++i];
        }
        if ((rc = set_option(&o, op, val, a)) != 0)
            return rc;
        if (!given[op - options])
            given[op - options] = a;
        help |= op->id == O_HELP;
        version |= op->id == O_VERSION;
    }
    if (version && !help) {
        printf("smbcim %s\n", smbcim_version());
        return CLI_EXIT_OK;
    }
    const cli_command *cmd = NULL;
    if (npos > 0 && !(cmd = command_find(pos[0])))
        return usage_error("unknown command '%s'", pos[0]);
    if (help) {
        if (cmd && cmd->bit != C_HELP)
            command_help(stdout, cmd);
        else
            cmd_help(&o, npos > 1 ? pos[1] : NULL);
        return CLI_EXIT_OK;
    }
    if (!cmd)
        return usage_error("%s", "no command given");
    for (size_t k = 0; k < NOPTIONS; k++) {
        if (given[k] && options[k].cmds && !(options[k].cmds & cmd->bit)) {
            char msg[160];
            snprintf(msg, sizeof(msg), "option '%%s' does not apply to '%s'", cmd->name);
            return usage_error(msg, given[k]);
        }
    }
    if (o.snapshot && o.smb_conf)
        return usage_error("%s", "--snapshot and --smb-conf exclude each other");
    const char *arg = npos > 1 ? pos[1] : NULL;
    if (cmd->arg && !arg && !cmd->arg_optional)
        return usage_error("'%s' needs an argument", cmd->name);
    if ((!cmd->arg && arg) || extra)
        return usage_error("unexpected argument '%s' (quote the whole query or path)",
                           extra && cmd->arg ? extra : arg);
    cli_format_set_width(output_width());
    return cmd->fn(&o, arg);
}
