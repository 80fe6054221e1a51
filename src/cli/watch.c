/*
 * watch.c - `smbcim watch QUERY`: an event query (WMI's
 * ExecNotificationQuery, polled) over the live server or a recorded
 * sequence of snapshots, each event printed as it is found.  The engine
 * does the comparing (smbcim_watch_*, src/engine/watch.c); this file picks
 * the states, waits between polls, stops on --count, --timeout, SIGINT or
 * SIGTERM, and prints.  Like format.c it sees only smbcim.h, and every
 * text from the data goes out through smbcim_escape_text() (JSON keeps the
 * data exact with its own escaping).
 */
#include "cli/watch.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/format.h"
#include "smbcim.h"

#define EXIT_WBEM CLI_EXIT_FAILED
/* Seconds between 1601-01-01 and 1970-01-01 (TIME_CREATED's epoch). */
#define EPOCH_1601 11644473600LL

/* ---- helpers --------------------------------------------------------------- */
static void *xalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fputs("smbcim: out of memory\n", stderr);
        exit(EXIT_WBEM);
    }
    return p;
}

static char *esc(const char *s, smbcim_text_mode mode)
{
    char *e = smbcim_escape_text(s ? s : "", mode);
    if (!e) {
        fputs("smbcim: out of memory\n", stderr);
        exit(EXIT_WBEM);
    }
    return e;
}

static void warn(const char *what, const char *text)
{
    char *t = esc(text, SMBCIM_TEXT_VISIBLE);
    fprintf(stderr, "smbcim: warning: %s%s\n", what, t);
    free(t);
}

static double mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double cpu_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static bool shown(const cim_instance *inst, size_t i)
{
    return !inst->present || inst->present[i];
}

static bool is_object(const cim_value *v)
{
    return v->type == CIM_T_INSTANCE && !v->array;
}

/* A value as text, NULL -> "" (the caller frees). */
static char *text_of(const cim_value *v)
{
    char *t = smbcim_value_text(v);
    return t ? t : xalloc(1, 1);
}

/* TIME_CREATED (100-ns ticks since 1601, UTC) as a date. */
static void format_ticks(uint64_t ticks, char *buf, size_t len)
{
    time_t sec = (time_t)((int64_t)(ticks / 10000000u) - EPOCH_1601);
    unsigned usec = (unsigned)((ticks % 10000000u) / 10u);
    struct tm tm;
    if (!gmtime_r(&sec, &tm)) {
        snprintf(buf, len, "?");
        return;
    }
    snprintf(buf, len, "%04d-%02d-%02d %02d:%02d:%02d.%06u UTC", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, usec);
}

/* ---- json: one object per line (format.c's writer, line-safe) -------------- */
static void print_json(FILE *out, const smbcim_ctx *sctx, const cim_instance *ev)
{
    cli_json_object(out, sctx, ev, 0, true);
    fputc('\n', out);
}

static bool stringlike(cim_type t)
{
    return t == CIM_T_STRING || t == CIM_T_DATETIME || t == CIM_T_REFERENCE || t == CIM_T_CHAR16;
}

/* ---- table: a header line and a table of the embedded objects --------------- */
/* The rows of one block: embedded objects of one class. */
typedef struct row {
    const char *label;          /* PreviousInstance, TargetInstance */
    const cim_instance *inst;
} row;

/* One table (format.c's, cut to the output as query tables are): an
 * "Instance" column with the row's label, then the properties that are not
 * NULL in every row. */
static void table_rows(FILE *out, const row *rows, size_t nrows)
{
    const cim_class *c = rows[0].inst->cls;
    size_t n = c->nprops;
    const char **heads = xalloc(n + 1, sizeof(char *));
    bool *right = xalloc(n + 1, sizeof(bool));
    size_t *cols = xalloc(n + 1, sizeof(size_t));
    size_t ncols = 0;
    heads[ncols] = "Instance";
    right[ncols] = false;
    cols[ncols++] = n; /* the label */
    for (size_t j = 0; j < n; j++) {
        bool any = false;
        for (size_t r = 0; r < nrows; r++)
            any |= shown(rows[r].inst, j) && !rows[r].inst->values[j].null;
        if (!any)
            continue; /* as the table format leaves it out of a query's table */
        const cim_property *p = &c->props[j];
        heads[ncols] = p->name;
        right[ncols] = p->type != CIM_T_BOOLEAN && !stringlike(p->type);
        cols[ncols++] = j;
    }
    char **cells = xalloc(nrows * ncols + 1, sizeof(char *));
    for (size_t r = 0; r < nrows; r++) {
        for (size_t k = 0; k < ncols; k++) {
            if (cols[k] == n) {
                cells[r * ncols + k] = esc(rows[r].label, SMBCIM_TEXT_VISIBLE);
                continue;
            }
            char *t = text_of(&rows[r].inst->values[cols[k]]);
            cells[r * ncols + k] = esc(t, SMBCIM_TEXT_VISIBLE);
            free(t);
        }
    }
    cli_table_cells(out, heads, right, cells, nrows, ncols, false);
    for (size_t i = 0; i < nrows * ncols; i++)
        free(cells[i]);
    free(cells);
    free(cols);
    free(right);
    free(heads);
}

/* "<class>  Name=value ..." (the event's own values), then its embedded
 * objects: a table of the instances (PreviousInstance above
 * TargetInstance), or, for an aggregate, the representative event's block. */
static void table_event(FILE *out, const cim_instance *ev, int depth)
{
    fputs(ev->cls->name, out);
    for (size_t i = 0; i < ev->cls->nprops; i++) {
        const cim_value *v = &ev->values[i];
        if (!shown(ev, i) || v->null || is_object(v))
            continue;
        char *t = text_of(v);
        char *e = esc(t, SMBCIM_TEXT_VISIBLE);
        fprintf(out, "  %s=%s", ev->cls->props[i].name, e);
        if (strcmp(ev->cls->props[i].name, "TIME_CREATED") == 0 && v->type == CIM_T_UINT64) {
            char when[64];
            format_ticks(v->v.u, when, sizeof when);
            fprintf(out, " (%s)", when);
        }
        free(e);
        free(t);
    }
    fputc('\n', out);
    row rows[4];
    size_t nrows = 0;
    static const char *const order[] = {"PreviousInstance", "TargetInstance"};
    for (size_t k = 0; k < 2; k++) {
        int i = cim_class_prop_index(ev->cls, order[k]);
        if (i >= 0 && shown(ev, (size_t)i) && !ev->values[i].null && ev->values[i].v.o)
            rows[nrows++] = (row){order[k], ev->values[i].v.o};
    }
    if (nrows == 2 && rows[0].inst->cls != rows[1].inst->cls) {
        table_rows(out, &rows[0], 1);
        table_rows(out, &rows[1], 1);
    } else if (nrows) {
        table_rows(out, rows, nrows);
    }
    /* other embedded objects (an aggregate's Representative): nested */
    for (size_t i = 0; i < ev->cls->nprops; i++) {
        const cim_value *v = &ev->values[i];
        const char *name = ev->cls->props[i].name;
        if (!shown(ev, i) || v->null || !is_object(v) || !v->v.o ||
            strcmp(name, "PreviousInstance") == 0 || strcmp(name, "TargetInstance") == 0)
            continue;
        fprintf(out, "%s:\n", name);
        if (depth < CLI_MAX_EMBED)
            table_event(out, v->v.o, depth + 1);
    }
}

static void print_table(FILE *out, const smbcim_ctx *sctx, const cim_instance *ev)
{
    (void)sctx;
    table_event(out, ev, 0);
    fputc('\n', out);
}

/* ---- list and csv: the event flattened to Name=value pairs ------------------- */
typedef struct pair {
    char *name;   /* TargetInstance.ShareName (malloc) */
    char *value;  /* text, NULL -> "" (malloc, not escaped) */
    bool text;    /* a string-like value (CSV: a formula is neutralised) */
} pair;

typedef struct pairs {
    pair *items;
    size_t len, cap;
} pairs;

static void pairs_add(pairs *p, const char *prefix, const char *name, char *value, bool text)
{
    if (p->len == p->cap) {
        p->cap = p->cap ? p->cap * 2 : 32;
        p->items = realloc(p->items, p->cap * sizeof(pair));
        if (!p->items) {
            fputs("smbcim: out of memory\n", stderr);
            exit(EXIT_WBEM);
        }
    }
    size_t n = strlen(prefix) + strlen(name) + 1;
    char *full = xalloc(n, 1);
    snprintf(full, n, "%s%s", prefix, name);
    p->items[p->len++] = (pair){full, value, text};
}

static void pairs_free(pairs *p)
{
    for (size_t i = 0; i < p->len; i++) {
        free(p->items[i].name);
        free(p->items[i].value);
    }
    free(p->items);
}

/* The properties of inst under `prefix` ("" or "TargetInstance."), an
 * embedded object's __CLASS and properties under its name. */
static void flatten(pairs *p, const cim_instance *inst, const char *prefix, int depth)
{
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        const cim_value *v = &inst->values[i];
        if (!shown(inst, i))
            continue;
        const char *name = inst->cls->props[i].name;
        if (is_object(v) && !v->null && v->v.o && depth < CLI_MAX_EMBED) {
            size_t n = strlen(prefix) + strlen(name) + 2;
            char *sub = xalloc(n, 1);
            snprintf(sub, n, "%s%s.", prefix, name);
            pairs_add(p, sub, "__CLASS", strdup(v->v.o->cls->name), true);
            flatten(p, v->v.o, sub, depth + 1);
            free(sub);
            continue;
        }
        pairs_add(p, prefix, name, text_of(v), stringlike(v->type) || is_object(v));
    }
}

static int cmp_pairs(const void *a, const void *b)
{
    return strcasecmp(((const pair *)a)->name, ((const pair *)b)->name);
}

static void event_pairs(pairs *p, const cim_instance *ev)
{
    flatten(p, ev, "", 0);
    qsort(p->items, p->len, sizeof(pair), cmp_pairs);
}

static void print_list(FILE *out, const smbcim_ctx *sctx, const cim_instance *ev)
{
    (void)sctx;
    pairs p = {0};
    event_pairs(&p, ev);
    /* a line feed in a value cannot forge a Name= line: escaped */
    fprintf(out, "\n\n__CLASS=%s\n", ev->cls->name);
    for (size_t i = 0; i < p.len; i++) {
        char *e = esc(p.items[i].value, SMBCIM_TEXT_VISIBLE);
        fprintf(out, "%s=%s\n", p.items[i].name, e);
        free(e);
    }
    pairs_free(&p);
}

/* The header last printed: a new one when the columns change. */
static char *csv_last_header;

static void print_csv(FILE *out, const smbcim_ctx *sctx, const cim_instance *ev)
{
    pairs p = {0};
    event_pairs(&p, ev);
    size_t hlen = 1;
    for (size_t i = 0; i < p.len; i++)
        hlen += strlen(p.items[i].name) + 1;
    char *hdr = xalloc(hlen, 1);
    for (size_t i = 0; i < p.len; i++) {
        strcat(hdr, p.items[i].name);
        strcat(hdr, ",");
    }
    if (!csv_last_header || strcmp(csv_last_header, hdr) != 0) {
        if (csv_last_header)
            fputs("\r\n", out);
        fputs("Node,__CLASS", out);
        for (size_t i = 0; i < p.len; i++) {
            fputc(',', out);
            cli_csv_field(out, p.items[i].name, true);
        }
        fputs("\r\n", out);
        free(csv_last_header);
        csv_last_header = hdr;
    } else {
        free(hdr);
    }
    cli_csv_field(out, smbcim_server_name(sctx), true);
    fputc(',', out);
    cli_csv_field(out, ev->cls->name, true);
    for (size_t i = 0; i < p.len; i++) {
        fputc(',', out);
        cli_csv_field(out, p.items[i].value, p.items[i].text);
    }
    fputs("\r\n", out);
    pairs_free(&p);
}

/* ---- mof: GetObjectText, an embedded object nested -------------------------- */
static void print_mof(FILE *out, const smbcim_ctx *sctx, const cim_instance *ev)
{
    (void)sctx;
    cli_mof_instance(out, ev, 0);
    fputc('\n', out);
}

typedef void (*event_printer)(FILE *out, const smbcim_ctx *sctx, const cim_instance *ev);

static const struct {
    const char *name;
    event_printer print;
} printers[] = {
    {"table", print_table}, {"list", print_list}, {"json", print_json},
    {"csv", print_csv}, {"mof", print_mof},
};

/* ---- the states: snapshots (files, directories) or live reads --------------- */
/* Names compare with their runs of digits as numbers: 9.json < 10.json. */
static int natural_cmp(const char *a, const char *b)
{
    while (*a && *b) {
        if (isdigit((unsigned char)*a) && isdigit((unsigned char)*b)) {
            while (*a == '0' && isdigit((unsigned char)a[1]))
                a++;
            while (*b == '0' && isdigit((unsigned char)b[1]))
                b++;
            size_t la = 0, lb = 0;
            while (isdigit((unsigned char)a[la]))
                la++;
            while (isdigit((unsigned char)b[lb]))
                lb++;
            if (la != lb)
                return la < lb ? -1 : 1;
            int c = strncmp(a, b, la);
            if (c)
                return c;
            a += la;
            b += lb;
            continue;
        }
        if (*a != *b)
            return (unsigned char)*a < (unsigned char)*b ? -1 : 1;
        a++;
        b++;
    }
    return *a ? 1 : *b ? -1 : 0;
}

static int cmp_names(const void *x, const void *y)
{
    const char *const *a = x, *const *b = y;
    int c = natural_cmp(*a, *b);
    return c ? c : strcmp(*a, *b);
}

typedef struct sources {
    char **paths;
    size_t len, cap;
} sources;

static void sources_add(sources *s, char *path)
{
    if (s->len == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->paths = realloc(s->paths, s->cap * sizeof(char *));
        if (!s->paths) {
            fputs("smbcim: out of memory\n", stderr);
            exit(EXIT_WBEM);
        }
    }
    s->paths[s->len++] = path;
}

static void sources_free(sources *s)
{
    for (size_t i = 0; i < s->len; i++)
        free(s->paths[i]);
    free(s->paths);
}

/* The snapshots of a directory: its *.json files (not hidden), in name
 * order. */
static bool add_directory(sources *s, const char *dir, smbcim_error *err)
{
    DIR *d = opendir(dir);
    if (!d) {
        smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "cannot read the directory %s: %s", dir,
                         strerror(errno));
        return false;
    }
    sources names = {0};
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t n = strlen(de->d_name);
        if (de->d_name[0] == '.' || n < 6 || strcasecmp(de->d_name + n - 5, ".json") != 0)
            continue;
        sources_add(&names, strdup(de->d_name));
    }
    closedir(d);
    if (!names.len) {
        sources_free(&names);
        smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no snapshot (*.json) in %s", dir);
        return false;
    }
    qsort(names.paths, names.len, sizeof(char *), cmp_names);
    for (size_t i = 0; i < names.len; i++) {
        size_t n = strlen(dir) + strlen(names.paths[i]) + 2;
        char *p = xalloc(n, 1);
        snprintf(p, n, "%s/%s", dir, names.paths[i]);
        sources_add(s, p);
    }
    sources_free(&names);
    return true;
}

static bool list_sources(const cli_watch_opts *o, sources *s, smbcim_error *err)
{
    for (size_t i = 0; i < o->nsnapshots; i++) {
        struct stat sb;
        const char *p = o->snapshots[i];
        if (strcmp(p, "-") != 0 && stat(p, &sb) == 0 && S_ISDIR(sb.st_mode)) {
            if (!add_directory(s, p, err))
                return false;
        } else {
            sources_add(s, strdup(p));
        }
    }
    return true;
}

/* ---- signals and waiting ------------------------------------------------------ */
static volatile sig_atomic_t stop_signal;
static sigset_t wait_mask; /* the mask during a wait: SIGINT and SIGTERM open */

static void on_signal(int sig)
{
    stop_signal = sig;
}

/* SIGINT and SIGTERM are blocked except while waiting, so that a poll and
 * its printing are never cut in the middle. */
static void setup_signals(void)
{
    sigset_t block;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    sigprocmask(SIG_BLOCK, &block, &wait_mask);
    sigdelset(&wait_mask, SIGINT);
    sigdelset(&wait_mask, SIGTERM);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static bool stop_pending(void)
{
    sigset_t p;
    if (stop_signal)
        return true;
    if (sigpending(&p) == 0 && (sigismember(&p, SIGINT) == 1 || sigismember(&p, SIGTERM) == 1))
        return true;
    return false;
}

/* Waits until `until` (CLOCK_MONOTONIC); false when SIGINT or SIGTERM
 * came (before or during the wait). */
static bool wait_until(double until)
{
    for (;;) {
        if (stop_pending())
            return false;
        double left = until - mono_now();
        if (left <= 0)
            return true;
        struct timespec ts;
        ts.tv_sec = (time_t)left;
        ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
        if (pselect(0, NULL, NULL, NULL, &ts, &wait_mask) < 0 && errno != EINTR)
            return true;
    }
}

/* ---- the watch ------------------------------------------------------------------ */
bool cli_watch_parse_count(const char *s, unsigned long *out)
{
    if (!s || !*s)
        return false;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p))
            return false;
    errno = 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v == 0)
        return false;
    *out = v;
    return true;
}

bool cli_watch_parse_timeout(const char *s, double *out)
{
    if (!s || !*s || isspace((unsigned char)*s))
        return false;
    errno = 0;
    char *end;
    double v = strtod(s, &end);
    if (errno || *end || !isfinite(v) || !(v > 0))
        return false;
    *out = v;
    return true;
}

bool cli_is_event_query(const char *wql)
{
    smbcim_error err;
    smbcim_ctx *ctx = smbcim_open_schema_only(&err);
    bool r = ctx && smbcim_is_event_query(ctx, wql);
    smbcim_close(ctx);
    return r;
}

static smbcim_ctx *open_state(const cli_watch_opts *o, const sources *s, size_t i,
                              smbcim_error *err)
{
    if (!o->nsnapshots)
        return smbcim_open_live(o->smb_conf, err);
    return smbcim_open_snapshot(s->paths[i], err);
}

int cli_watch(const cli_watch_opts *o, const char *wql)
{
    const char *fmt = o->format ? o->format : "table";
    event_printer print = NULL;
    for (size_t i = 0; i < sizeof(printers) / sizeof(printers[0]); i++)
        if (strcmp(printers[i].name, fmt) == 0)
            print = printers[i].print;
    smbcim_error err = {0};
    if (!print) {
        smbcim_error_set(&err, WBEM_E_INVALID_PARAMETER, "the format %s cannot print events", fmt);
        return cli_wbem_fail(&err);
    }
    bool live = o->nsnapshots == 0;
    bool timing = getenv("SMBCIM_TIMING") != NULL;
    const char *nw = getenv("SMBCIM_WATCH_NOWAIT");
    bool nowait = !live && nw && strcmp(nw, "1") == 0;
    sources src = {0};
    if (!list_sources(o, &src, &err)) {
        sources_free(&src);
        return cli_wbem_fail(&err);
    }
    setup_signals();
    double start = mono_now();
    double deadline = o->timeout > 0 ? start + o->timeout : INFINITY;
    smbcim_ctx *ctx = open_state(o, &src, 0, &err);
    if (!ctx) {
        sources_free(&src);
        return cli_wbem_fail(&err);
    }
    if (live)
        cli_report_live(ctx);
    smbcim_watch *w = smbcim_watch_open(ctx, wql, &err);
    if (!w) {
        smbcim_close(ctx);
        sources_free(&src);
        return cli_wbem_fail(&err);
    }
    const smbcim_ctx *sctx = smbcim_watch_context(w);
    double interval = smbcim_watch_interval(w);
    double next = mono_now() + interval;
    unsigned long printed = 0;
    int rc = 0;
    for (size_t i = 1; live || i < src.len; i++) {
        if (nowait ? stop_pending() : !wait_until(next < deadline ? next : deadline))
            break;
        if (mono_now() >= deadline)
            break;
        /* the next poll one interval on; after a slow poll, one interval
         * from now (no burst of polls to catch up) */
        next += interval;
        if (next < mono_now())
            next = mono_now() + interval;
        double t0 = mono_now(), c0 = cpu_now();
        smbcim_ctx *state = open_state(o, &src, i, &err);
        double tr = mono_now();
        smbcim_result *ev = NULL;
        smbcim_status st = state ? smbcim_watch_poll(w, state, &ev, &err) : err.code;
        double t1 = mono_now(), c1 = cpu_now();
        if (st != WBEM_S_NO_ERROR) {
            if (!live) {
                rc = cli_wbem_fail(&err);
                break;
            }
            warn("this poll failed, the next one compares with the last good state: ",
                 err.msg);
            continue;
        }
        size_t n = ev->count;
        if (o->count && n > o->count - printed)
            n = o->count - printed;
        for (size_t k = 0; k < n; k++) {
            print(stdout, sctx, ev->instances[k]);
            if (fflush(stdout) != 0 || ferror(stdout))
                break;
        }
        printed += n;
        if (timing)
            fprintf(stderr,
                    "smbcim: timing: poll %zu: read %.4f s, compare %.4f s (cpu of both %.4f s), "
                    "print %.4f s, %zu events\n",
                    i, tr - t0, t1 - tr, c1 - c0, mono_now() - t1, ev->count);
        smbcim_result_free(ev);
        if (ferror(stdout)) {
            perror("smbcim: writing the events");
            rc = EXIT_WBEM;
            break;
        }
        if (o->count && printed >= o->count)
            break;
    }
    smbcim_watch_close(w);
    sources_free(&src);
    free(csv_last_header);
    csv_last_header = NULL;
    return rc;
}
