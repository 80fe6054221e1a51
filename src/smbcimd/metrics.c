/*
 * metrics.c - GET /metrics (Prometheus text format 0.0.4, or OpenMetrics
 * 1.0.0 when the Accept header asks for it) and GET /healthz, on the
 * metrics listener of http.c.  What is exported, and why: docs/monitoring.md.
 *
 * The figures of the file server come from the library's public API only
 * (smbcim_enum_instances of Win32_Share, Win32_ServerConnection and
 * Win32_ServerSession on the state that requests share, srv_state_get, with
 * the state's lock held as dispatch.c holds it): whatever the classes do
 * not carry (the SMB dialect of a session, Samba's version) is not
 * exported.  They are computed once per state generation (a state is read
 * at most once per cache_seconds, or when the snapshot file changes) and
 * the text of that part is kept per format and view, so repeated scrapes
 * of one state cost a copy; only smbcimd's own counters are written anew
 * for each scrape.
 *
 * Connections and sessions started/ended are counted by comparing the
 * keys (the instances' relative paths) of successive generations this
 * file has seen: sorted, then merged in one pass.  The first generation is
 * the baseline; a connection that came and went between two reads is not
 * seen.
 *
 * The request and failed-login counters are process-wide (dispatch.c and
 * auth.c count without a handle), behind one mutex.
 */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <syslog.h>
#include <time.h>

#include "smbcimd/metrics_int.h"
#include "smbcimd/smbcimd.h"

/* ---- process-wide counters ------------------------------------------------ */

typedef struct req_count {
    char *operation;
    char *status;
    uint64_t n;
} req_count;

static pthread_mutex_t counters_lock = PTHREAD_MUTEX_INITIALIZER;
static req_count *reqs;
static size_t nreqs, capreqs;
static uint64_t login_failures;

void srv_metrics_count_request(const char *operation, const char *status)
{
    pthread_mutex_lock(&counters_lock);
    size_t i = 0;
    while (i < nreqs && !(strcmp(reqs[i].operation, operation) == 0 &&
                         strcmp(reqs[i].status, status) == 0))
        i++;
    if (i == nreqs) {
        if (nreqs == capreqs) {
            capreqs = capreqs ? capreqs * 2 : 32;
            reqs = sc_xrealloc(reqs, capreqs * sizeof *reqs);
        }
        reqs[nreqs++] = (req_count){sc_xstrdup(operation), sc_xstrdup(status), 0};
    }
    reqs[i].n++;
    pthread_mutex_unlock(&counters_lock);
}

void srv_metrics_login_failed(void)
{
    pthread_mutex_lock(&counters_lock);
    login_failures++;
    pthread_mutex_unlock(&counters_lock);
}

const char *srv_metrics_cim_status(int code)
{
    /* DSP0200, table 4 */
    static const char *const names[] = {
        "OK",
        "CIM_ERR_FAILED",
        "CIM_ERR_ACCESS_DENIED",
        "CIM_ERR_INVALID_NAMESPACE",
        "CIM_ERR_INVALID_PARAMETER",
        "CIM_ERR_INVALID_CLASS",
        "CIM_ERR_NOT_FOUND",
        "CIM_ERR_NOT_SUPPORTED",
        "CIM_ERR_CLASS_HAS_CHILDREN",
        "CIM_ERR_CLASS_HAS_INSTANCES",
        "CIM_ERR_INVALID_SUPERCLASS",
        "CIM_ERR_ALREADY_EXISTS",
        "CIM_ERR_NO_SUCH_PROPERTY",
        "CIM_ERR_TYPE_MISMATCH",
        "CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED",
        "CIM_ERR_INVALID_QUERY",
        "CIM_ERR_METHOD_NOT_AVAILABLE",
        "CIM_ERR_METHOD_NOT_FOUND",
        "CIM_ERR_UNEXPECTED_RESPONSE",
        "CIM_ERR_INVALID_RESPONSE_DESTINATION",
        "CIM_ERR_NAMESPACE_NOT_EMPTY",
        "CIM_ERR_INVALID_ENUMERATION_CONTEXT",
        "CIM_ERR_INVALID_OPERATION_TIMEOUT",
        "CIM_ERR_PULL_HAS_BEEN_ABANDONED",
        "CIM_ERR_PULL_CANNOT_BE_ABANDONED",
        "CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED",
        "CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED",
        "CIM_ERR_SERVER_LIMITS_EXCEEDED",
        "CIM_ERR_SERVER_IS_SHUTTING_DOWN",
    };
    if (code < 0 || (size_t)code >= sizeof names / sizeof names[0])
        return "CIM_ERR_OTHER";
    return names[code];
}

/* ---- content negotiation -------------------------------------------------- */

static const char *skip_ws(const char *p, const char *e)
{
    while (p < e && (*p == ' ' || *p == '\t'))
        p++;
    return p;
}

static const char *trim_end(const char *p, const char *e)
{
    while (e > p && (e[-1] == ' ' || e[-1] == '\t'))
        e--;
    return e;
}

static bool span_is(const char *p, const char *e, const char *word)
{
    size_t n = strlen(word);
    return (size_t)(e - p) == n && strncasecmp(p, word, n) == 0;
}

srvm_format srvm_negotiate(const char *accept, const char **content_type)
{
    /* Best q of each candidate, and where its range stood (ties: first). */
    double q_text = -1, q_om = -1, q_om001 = -1;
    int at_text = 0, at_om = 0, at_om001 = 0;
    int pos = 0;
    for (const char *p = accept; p && *p; pos++) {
        const char *end = strchr(p, ',');
        if (!end)
            end = p + strlen(p);
        const char *semi = memchr(p, ';', (size_t)(end - p));
        const char *te = semi ? semi : end;
        const char *tb = skip_ws(p, te);
        te = trim_end(tb, te);
        double q = 1;
        const char *version = NULL;
        size_t vlen = 0;
        for (const char *a = semi; a && a < end;) {
            const char *ae = memchr(a + 1, ';', (size_t)(end - a - 1));
            if (!ae)
                ae = end;
            const char *k = skip_ws(a + 1, ae);
            const char *eq = memchr(k, '=', (size_t)(ae - k));
            if (eq) {
                const char *v = skip_ws(eq + 1, ae);
                const char *ve = trim_end(v, ae);
                if (span_is(k, trim_end(k, eq), "q")) {
                    char num[16];
                    size_t n = (size_t)(ve - v) < sizeof num - 1 ? (size_t)(ve - v)
                                                                 : sizeof num - 1;
                    memcpy(num, v, n);
                    num[n] = '\0';
                    char *stop;
                    q = strtod(num, &stop);
                    if (stop == num || q != q || q < 0)
                        q = 0;
                    if (q > 1)
                        q = 1;
                } else if (span_is(k, trim_end(k, eq), "version")) {
                    version = v;
                    vlen = (size_t)(ve - v);
                }
            }
            a = ae;
        }
        if (q > 0) {
            if (span_is(tb, te, "application/openmetrics-text")) {
                if (!version || (vlen == 5 && strncmp(version, "1.0.0", 5) == 0)) {
                    if (q > q_om)
                        q_om = q, at_om = pos;
                } else if (vlen == 5 && strncmp(version, "0.0.1", 5) == 0) {
                    if (q > q_om001)
                        q_om001 = q, at_om001 = pos;
                }
            } else if (span_is(tb, te, "text/plain")) {
                if ((!version || (vlen == 5 && strncmp(version, "0.0.4", 5) == 0)) && q > q_text)
                    q_text = q, at_text = pos;
            } else if (span_is(tb, te, "text/*") || span_is(tb, te, "*/*")) {
                if (q > q_text)
                    q_text = q, at_text = pos;
            }
        }
        p = *end ? end + 1 : end;
    }
    /* OpenMetrics 1.0.0 over 0.0.1 (the same text) unless 0.0.1 is preferred. */
    bool om100 = q_om >= q_om001 && q_om > 0;
    double q_best_om = om100 ? q_om : q_om001;
    int at_best_om = om100 ? at_om : at_om001;
    if (q_best_om > 0 && (q_best_om > q_text || (q_best_om == q_text && at_best_om < at_text))) {
        *content_type = om100 ? SRVM_CT_OM : SRVM_CT_OM001;
        return SRVM_OPENMETRICS;
    }
    *content_type = SRVM_CT_TEXT;
    return SRVM_TEXT;
}

/* ---- exposition writers ---------------------------------------------------- */

/* Length of the valid UTF-8 sequence at p (at most e), 0 when invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *e)
{
    unsigned c = p[0];
    size_t need;
    unsigned cp, min;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0)
        need = 1, cp = c & 0x1F, min = 0x80;
    else if ((c & 0xF0) == 0xE0)
        need = 2, cp = c & 0x0F, min = 0x800;
    else if ((c & 0xF8) == 0xF0)
        need = 3, cp = c & 0x07, min = 0x10000;
    else
        return 0;
    if ((size_t)(e - p) <= need)
        return 0;
    for (size_t i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return need + 1;
}

static void put_utf8(sc_buf *b, const char *s, bool escape)
{
    const unsigned char *p = (const unsigned char *)(s ? s : "");
    const unsigned char *e = p + strlen((const char *)p);
    const unsigned char *run = p; /* bytes to copy as they are */
    while (p < e) {
        size_t n = utf8_len(p, e);
        const char *rep = NULL;
        if (n == 0)
            rep = "\xEF\xBF\xBD"; /* U+FFFD */
        else if (escape && *p == '\\')
            rep = "\\\\";
        else if (escape && *p == '"')
            rep = "\\\"";
        else if (escape && *p == '\n')
            rep = "\\n";
        if (!rep) {
            p += n;
            continue;
        }
        sc_buf_add(b, (const char *)run, (size_t)(p - run));
        sc_buf_puts(b, rep);
        p += n ? n : 1;
        run = p;
    }
    sc_buf_add(b, (const char *)run, (size_t)(p - run));
}

void srvm_put_utf8(sc_buf *b, const char *s)
{
    put_utf8(b, s, false);
}

void srvm_put_label_value(sc_buf *b, const char *s)
{
    put_utf8(b, s, true);
}

void srvm_family(sc_buf *b, srvm_format f, const char *name, srvm_type t, const char *unit,
                 const char *help)
{
    /* Text 0.0.4 names the family by its samples (foo_total, foo_info as a
     * gauge); OpenMetrics by the family (foo, of type counter / info). */
    const char *suffix = "";
    if (f == SRVM_TEXT)
        suffix = t == SRVM_COUNTER ? "_total" : t == SRVM_INFO ? "_info" : "";
    const char *type = t == SRVM_GAUGE                        ? "gauge"
                       : t == SRVM_COUNTER                    ? "counter"
                       : f == SRVM_OPENMETRICS                ? "info"
                                                              : "gauge";
    sc_buf_printf(b, "# HELP %s%s %s\n# TYPE %s%s %s\n", name, suffix, help, name, suffix, type);
    if (f == SRVM_OPENMETRICS && unit)
        sc_buf_printf(b, "# UNIT %s %s\n", name, unit);
}

static void sample_head(sc_buf *b, const char *name, srvm_type t, const char *const *labels,
                        size_t nlabels)
{
    sc_buf_puts(b, name);
    if (t == SRVM_COUNTER)
        sc_buf_puts(b, "_total");
    else if (t == SRVM_INFO)
        sc_buf_puts(b, "_info");
    if (nlabels) {
        sc_buf_putc(b, '{');
        for (size_t i = 0; i < nlabels; i++) {
            sc_buf_printf(b, "%s%s=\"", i ? "," : "", labels[2 * i]);
            srvm_put_label_value(b, labels[2 * i + 1]);
            sc_buf_putc(b, '"');
        }
        sc_buf_putc(b, '}');
    }
    sc_buf_putc(b, ' ');
}

void srvm_sample_u64(sc_buf *b, const char *name, srvm_type t, const char *const *labels,
                     size_t nlabels, uint64_t v)
{
    sample_head(b, name, t, labels, nlabels);
    sc_buf_printf(b, "%" PRIu64 "\n", v);
}

void srvm_sample_f64(sc_buf *b, const char *name, srvm_type t, const char *const *labels,
                     size_t nlabels, double v)
{
    sample_head(b, name, t, labels, nlabels);
    if (isnan(v))
        sc_buf_puts(b, "NaN\n");
    else if (isinf(v))
        sc_buf_puts(b, v > 0 ? "+Inf\n" : "-Inf\n");
    else
        sc_buf_printf(b, "%.6f\n", v);
}

/* ---- successive reads --------------------------------------------------------- */

static int cmp_key(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

size_t srvm_sort_keys(const char **keys, size_t n)
{
    if (n < 2)
        return n;
    qsort(keys, n, sizeof *keys, cmp_key);
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (strcmp(keys[i], keys[w - 1]) != 0)
            keys[w++] = keys[i];
    return w;
}

void srvm_diff(const char *const *prev, size_t np, const char *const *cur, size_t nc,
               uint64_t *started, uint64_t *ended)
{
    size_t i = 0, j = 0;
    while (i < np && j < nc) {
        int c = strcmp(prev[i], cur[j]);
        if (c == 0)
            i++, j++;
        else if (c < 0)
            i++, (*ended)++;
        else
            j++, (*started)++;
    }
    *ended += np - i;
    *started += nc - j;
}

/* ---- rendering one state --------------------------------------------------------- */

typedef enum share_field { SF_CONNECTIONS, SF_TREE_CONNECTS, SF_USERS, SF_OPEN_FILES } share_field;

static uint64_t share_value(const srvm_share *sh, share_field field)
{
    switch (field) {
    case SF_CONNECTIONS: return sh->connections;
    case SF_TREE_CONNECTS: return sh->tree_connects;
    case SF_USERS: return sh->users;
    case SF_OPEN_FILES: return sh->open_files;
    }
    return 0;
}

/* One family with a series per share: every listed share (0 when unused),
 * and for a full view the shares known only from a tree connect. */
static void share_family(sc_buf *b, srvm_format f, const srvm_state *st, bool full,
                         const char *name, const char *help, share_field field)
{
    srvm_family(b, f, name, SRVM_GAUGE, NULL, help);
    for (size_t i = 0; i < st->nshares; i++) {
        const srvm_share *sh = &st->shares[i];
        if (!sh->listed && !full)
            continue;
        const char *labels[] = {"share", sh->name};
        srvm_sample_u64(b, name, SRVM_GAUGE, labels, 1, share_value(sh, field));
    }
}

/* One family with a series per cluster node. */
static void node_family(sc_buf *b, srvm_format f, const srvm_state *st, const char *name,
                        const char *help, size_t field)
{
    srvm_family(b, f, name, SRVM_GAUGE, NULL, help);
    for (size_t i = 0; i < st->nnodes; i++) {
        const smbcim_node_load *n = &st->nodes[i];
        const uint64_t v[3] = {n->sessions, n->tree_connects, n->open_files};
        char node[16];
        snprintf(node, sizeof node, "%u", n->node);
        const char *labels[] = {"node", node};
        srvm_sample_u64(b, name, SRVM_GAUGE, labels, 1, v[field]);
    }
}

static void total(sc_buf *b, srvm_format f, const char *name, const char *help, uint64_t v)
{
    srvm_family(b, f, name, SRVM_GAUGE, NULL, help);
    srvm_sample_u64(b, name, SRVM_GAUGE, NULL, 0, v);
}

static void counter(sc_buf *b, srvm_format f, const char *name, const char *help, uint64_t v)
{
    srvm_family(b, f, name, SRVM_COUNTER, NULL, help);
    srvm_sample_u64(b, name, SRVM_COUNTER, NULL, 0, v);
}

void srvm_render_state(sc_buf *b, srvm_format f, const srvm_state *st, bool full, bool per_user)
{
    srvm_family(b, f, "smbcim_source_up", SRVM_GAUGE, NULL,
                "Whether the data source and smbd's state could be read (1) or not (0; "
                "/healthz says why).");
    srvm_sample_u64(b, "smbcim_source_up", SRVM_GAUGE, NULL, 0, st->ok ? 1 : 0);
    srvm_family(b, f, "smbcim_source", SRVM_INFO, NULL,
                "The data source (live or snapshot) and how smbd's state was read (tdb, "
                "smbstatus, none when smbd is not running or its state is unreadable).");
    const char *info[] = {"source", st->source ? st->source : "", "route",
                          st->route ? st->route : ""};
    srvm_sample_u64(b, "smbcim_source", SRVM_INFO, info, 2, 1);
    srvm_family(b, f, "smbcim_state_read_duration_seconds", SRVM_GAUGE, "seconds",
                "Seconds taken to read the state these figures come from and to compute them.");
    srvm_sample_f64(b, "smbcim_state_read_duration_seconds", SRVM_GAUGE, NULL, 0,
                    st->read_seconds);
    if (!st->ok)
        return;
    total(b, f, "smbcim_shares", "Shares in the configuration (Win32_Share).",
          st->listed_shares);
    total(b, f, "smbcim_sessions", "SMB sessions (Win32_ServerSession).", st->sessions);
    total(b, f, "smbcim_users", "Distinct user names with a session.", st->users);
    total(b, f, "smbcim_connections",
          "Connections to shares, one per client computer, user and share "
          "(Win32_ServerConnection).", st->connections);
    total(b, f, "smbcim_tree_connects", "SMB tree connects (the connections' NumberOfUsers).",
          st->tree_connects);
    total(b, f, "smbcim_open_files",
          "Files, devices and pipes open (the sessions' ResourcesOpened).", st->open_files);
    srvm_family(b, f, "smbcim_oldest_session_age_seconds", SRVM_GAUGE, "seconds",
                "Age of the oldest session (its ActiveTime); 0 when there is none.");
    srvm_sample_f64(b, "smbcim_oldest_session_age_seconds", SRVM_GAUGE, NULL, 0,
                    st->oldest_session);
    counter(b, f, "smbcim_connections_started",
            "Connections a read of the state had that the previous read did not.",
            st->conns_started);
    counter(b, f, "smbcim_connections_ended",
            "Connections of the previous read of the state that a read no longer had.",
            st->conns_ended);
    counter(b, f, "smbcim_sessions_started",
            "Sessions a read of the state had that the previous read did not.",
            st->sessions_started);
    counter(b, f, "smbcim_sessions_ended",
            "Sessions of the previous read of the state that a read no longer had.",
            st->sessions_ended);
    share_family(b, f, st, full, "smbcim_share_connections",
                 "Connections to the share (= sessions using it).", SF_CONNECTIONS);
    share_family(b, f, st, full, "smbcim_share_tree_connects", "Tree connects to the share.",
                 SF_TREE_CONNECTS);
    share_family(b, f, st, full, "smbcim_share_users", "Distinct users connected to the share.",
                 SF_USERS);
    share_family(b, f, st, full, "smbcim_share_open_files",
                 "Files open through the share's connections (NumberOfFiles).", SF_OPEN_FILES);
    srvm_family(b, f, "smbcim_dialect_sessions", SRVM_GAUGE, NULL,
                "SMB sessions (MSFT_SmbSession, one per Samba session) per negotiated "
                "dialect.");
    for (size_t i = 0; i < st->ndialects; i++) {
        const char *labels[] = {"dialect", st->dialects[i].name};
        srvm_sample_u64(b, "smbcim_dialect_sessions", SRVM_GAUGE, labels, 1,
                        st->dialects[i].sessions);
    }
    if (st->nnodes) {
        node_family(b, f, st, "smbcim_node_sessions",
                    "Session records held by one CTDB node's smbd processes (a client with "
                    "sessions on two nodes counts on both).", 0);
        node_family(b, f, st, "smbcim_node_tree_connects",
                    "Tree-connect records held by one CTDB node's smbd processes.", 1);
        node_family(b, f, st, "smbcim_node_open_files",
                    "Files held open by one CTDB node's smbd processes.", 2);
    }
    if (!per_user || !full)
        return;
    srvm_family(b, f, "smbcim_share_user_connections", SRVM_GAUGE, NULL,
                "Connections of one user to one share (metrics-per-user).");
    for (size_t i = 0; i < st->nuser_conns; i++) {
        const srvm_user_conn *u = &st->user_conns[i];
        const char *labels[] = {"share", u->share->name, "user", u->user};
        srvm_sample_u64(b, "smbcim_share_user_connections", SRVM_GAUGE, labels, 2,
                        u->connections);
    }
}

/* ---- the collector ------------------------------------------------------------ */

struct srv_metrics {
    const srv_config *cfg;
    srv *s;
    pthread_mutex_t lock;     /* everything below */
    unsigned long gen;        /* of st; 0 before the first read */
    sc_arena *arena;          /* st's strings and arrays, and the keys */
    srvm_state st;
    const char **conn_keys, **sess_keys; /* sorted, in arena */
    size_t nconn_keys, nsess_keys;
    bool baseline;            /* keys of an earlier read are there */
    uint64_t conns_started, conns_ended, sessions_started, sessions_ended;
    sc_buf text[2][2];        /* st rendered, [format][full] */
    bool text_ok[2][2];
    double last_scrape;       /* seconds the previous /metrics answer took */
    double start_wall;        /* smbcim_start_time_seconds: srv_metrics_new's time */
    char *samba_version;      /* smbcim_samba_version(), live source only; NULL unknown */
    double samba_version_at;  /* when it was asked (monotonic), 0 never */
};

/* Samba's version is asked of `smbd --version` at most every this many
 * seconds (an upgrade shows within it; a scrape does not pay a process). */
#define SAMBA_VERSION_SECONDS 300.0

srv_metrics *srv_metrics_new(const srv_config *c, srv *s)
{
    srv_metrics *m = sc_xcalloc(1, sizeof *m);
    m->cfg = c;
    m->s = s;
    pthread_mutex_init(&m->lock, NULL);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            sc_buf_init(&m->text[i][j]);
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    m->start_wall = (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
    return m;
}

void srv_metrics_free(srv_metrics *m)
{
    if (!m)
        return;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++)
            sc_buf_free(&m->text[i][j]);
    sc_arena_free(m->arena);
    free(m->samba_version);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static const char *str_of(const cim_instance *inst, const char *prop)
{
    const cim_value *v = smbcim_instance_get(inst, prop);
    return v && !v->null && !v->array && cim_type_is_stringlike(v->type) ? v->v.s : NULL;
}

static uint64_t uint_of(const cim_instance *inst, const char *prop, bool *known)
{
    const cim_value *v = smbcim_instance_get(inst, prop);
    if (!v || v->null || v->array || !cim_type_is_unsigned(v->type)) {
        if (known)
            *known = false;
        return 0;
    }
    if (known)
        *known = true;
    return v->v.u;
}

static char *utf8_dup(sc_arena *a, const char *s)
{
    sc_buf b;
    sc_buf_init(&b);
    srvm_put_utf8(&b, s);
    char *r = sc_strndup(a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
    return r;
}

/* A connection's share and user, for the distinct users and per-user series. */
typedef struct pair {
    srvm_share *share;
    const char *user;
} pair;

static int cmp_user(const void *a, const void *b)
{
    return sc_stricmp(*(const char *const *)a, *(const char *const *)b);
}

static int cmp_pair(const void *a, const void *b)
{
    const pair *x = a, *y = b;
    if (x->share != y->share)
        return x->share < y->share ? -1 : 1;
    return sc_stricmp(x->user, y->user);
}

static void fail(srvm_state *st, sc_arena *a, const char *why)
{
    st->ok = false;
    sc_buf b;
    sc_buf_init(&b);
    /* one line, whatever the message carries */
    sc_buf_put_escaped(&b, why, strlen(why), SMBCIM_TEXT_VISIBLE);
    st->why = sc_strndup(a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
}

/* Reads the figures of the state ctx into st (in arena a), with its keys;
 * call with the state's lock held. */
static void collect(srvm_state *st, sc_arena *a, srv_state *state, bool live, const char ***ckeys,
                    size_t *nck, const char ***skeys, size_t *nsk)
{
    smbcim_ctx *ctx = state->ctx;
    smbcim_error err = {0};
    smbcim_result *shares = NULL, *conns = NULL, *sess = NULL, *smbsess = NULL;
    st->ok = true;
    st->source = live ? "live" : "snapshot";
    smbcim_set_access(ctx, NULL, NULL); /* the whole state; views are chosen when writing */
    if (smbcim_enum_instances(ctx, "Win32_Share", &shares, &err) != WBEM_S_NO_ERROR ||
        smbcim_enum_instances(ctx, "Win32_ServerConnection", &conns, &err) != WBEM_S_NO_ERROR ||
        smbcim_enum_instances(ctx, "Win32_ServerSession", &sess, &err) != WBEM_S_NO_ERROR) {
        fail(st, a, err.msg);
        goto out;
    }
    /* the sessions' ids, and so MSFT_SmbSession, are not known on the
     * smbstatus text route: no dialect series then, the rest stands */
    smbcim_status sst = smbcim_enum_instances(ctx, "MSFT_SmbSession", &smbsess, &err);
    if (sst != WBEM_S_NO_ERROR && sst != WBEM_E_NOT_AVAILABLE) {
        fail(st, a, err.msg);
        goto out;
    }
    const char *why = NULL;
    const char *route = srv_state_route(state, &why);
    st->route = route ? sc_strdup(a, route) : "snapshot";
    if (route && strcmp(route, "none") == 0) {
        const char *w = srv_state_warning(state);
        fail(st, a, w && *w ? w : "smbd's state could not be read");
        goto out;
    }
    /* Shares, by their label (two names that differ only in invalid
     * bytes would make one label: they are added up). */
    sc_map by_name;
    sc_map_init_exact(&by_name);
    st->shares = sc_alloc_array(a, shares->count + conns->count + 1, sizeof *st->shares);
    for (size_t i = 0; i < shares->count; i++) {
        const cim_instance *in = shares->instances[i];
        const char *label = utf8_dup(a, str_of(in, "Name"));
        srvm_share *sh = sc_map_get(&by_name, label);
        if (!sh) {
            sh = &st->shares[st->nshares++];
            sh->name = label;
            sc_map_put(&by_name, label, sh);
        }
        /* A share synthesized from a tree connect carries nothing but its
         * Name (docs/values.md): Status is "OK" for a listed one. */
        if (str_of(in, "Status")) {
            sh->listed = true;
            st->listed_shares++;
        }
    }
    pair *pairs = sc_alloc_array(a, conns->count + 1, sizeof *pairs);
    *ckeys = sc_alloc_array(a, conns->count + 1, sizeof **ckeys);
    for (size_t i = 0; i < conns->count; i++) {
        const cim_instance *in = conns->instances[i];
        const char *label = utf8_dup(a, str_of(in, "ShareName"));
        srvm_share *sh = sc_map_get(&by_name, label);
        if (!sh) { /* not expected: every connection's share is enumerated */
            sh = &st->shares[st->nshares++];
            sh->name = label;
            sc_map_put(&by_name, label, sh);
        }
        uint64_t tc = uint_of(in, "NumberOfUsers", NULL);
        sh->connections++;
        sh->tree_connects += tc;
        sh->open_files += uint_of(in, "NumberOfFiles", NULL);
        st->connections++;
        st->tree_connects += tc;
        pairs[i] = (pair){sh, utf8_dup(a, str_of(in, "UserName"))};
        (*ckeys)[(*nck)++] = sc_strdup(a, in->relpath ? in->relpath : "");
    }
    sc_map_free(&by_name);
    /* Distinct users per share, and the per-user series: one sort. */
    qsort(pairs, conns->count, sizeof *pairs, cmp_pair);
    st->user_conns = sc_alloc_array(a, conns->count + 1, sizeof *st->user_conns);
    for (size_t i = 0; i < conns->count; i++) {
        srvm_user_conn *last = st->nuser_conns ? &st->user_conns[st->nuser_conns - 1] : NULL;
        if (last && last->share == pairs[i].share && sc_stricmp(last->user, pairs[i].user) == 0) {
            last->connections++;
            continue;
        }
        pairs[i].share->users++;
        st->user_conns[st->nuser_conns++] =
            (srvm_user_conn){pairs[i].share, pairs[i].user, 1};
    }
    /* Sessions. */
    const char **users = sc_alloc_array(a, sess->count + 1, sizeof *users);
    *skeys = sc_alloc_array(a, sess->count + 1, sizeof **skeys);
    for (size_t i = 0; i < sess->count; i++) {
        const cim_instance *in = sess->instances[i];
        st->sessions++;
        st->open_files += uint_of(in, "ResourcesOpened", NULL);
        bool known = false;
        uint64_t age = uint_of(in, "ActiveTime", &known);
        if (known && (double)age > st->oldest_session)
            st->oldest_session = (double)age;
        const char *u = str_of(in, "UserName");
        users[i] = u ? u : "";
        (*skeys)[(*nsk)++] = sc_strdup(a, in->relpath ? in->relpath : "");
    }
    qsort(users, sess->count, sizeof *users, cmp_user);
    for (size_t i = 0; i < sess->count; i++)
        if (i == 0 || sc_stricmp(users[i], users[i - 1]) != 0)
            st->users++;
    *nck = srvm_sort_keys(*ckeys, *nck);
    *nsk = srvm_sort_keys(*skeys, *nsk);
    /* SMB sessions per dialect: one sort of the names. */
    size_t nss = smbsess ? smbsess->count : 0;
    const char **dl = sc_alloc_array(a, nss + 1, sizeof *dl);
    for (size_t i = 0; i < nss; i++) {
        const char *d = str_of(smbsess->instances[i], "Dialect");
        dl[i] = d ? d : "unknown";
    }
    qsort(dl, nss, sizeof *dl, cmp_key);
    st->dialects = sc_alloc_array(a, nss + 1, sizeof *st->dialects);
    for (size_t i = 0; i < nss; i++) {
        if (st->ndialects && strcmp(st->dialects[st->ndialects - 1].name, dl[i]) == 0)
            st->dialects[st->ndialects - 1].sessions++;
        else
            st->dialects[st->ndialects++] = (srvm_dialect){utf8_dup(a, dl[i]), 1};
    }
    /* A cluster's nodes (none on a single server). */
    smbcim_node_load *nodes = NULL;
    if (smbcim_node_loads(ctx, &nodes, &st->nnodes, &err) != WBEM_S_NO_ERROR) {
        fail(st, a, err.msg);
        goto out;
    }
    st->nodes = sc_alloc_array(a, st->nnodes + 1, sizeof *st->nodes);
    if (st->nnodes)
        memcpy(st->nodes, nodes, st->nnodes * sizeof *nodes);
    free(nodes);
out:
    smbcim_result_free(shares);
    smbcim_result_free(conns);
    smbcim_result_free(sess);
    smbcim_result_free(smbsess);
}

/* Brings m up to date with the current state; with m->lock held.  Returns
 * false (and sets why) when the state cannot be had at all. */
static bool refresh(srv_metrics *m, char *why, size_t whylen)
{
    double t0 = srv_now();
    smbcim_error err = {0};
    srv_cache *cache = srv_cache_of(m->s);
    srv_state *s = srv_state_get(cache, &err);
    if (!s) {
        snprintf(why, whylen, "the server state cannot be read: %s", err.msg);
        return false;
    }
    if (s->gen <= m->gen) { /* the same (or, raced by a newer read, an older) state */
        srv_state_release(cache, s);
        return true;
    }
    sc_arena *a = sc_arena_new();
    srvm_state st = {0};
    const char **ck = NULL, **sk = NULL;
    size_t nck = 0, nsk = 0;
    pthread_mutex_lock(&s->lock);
    collect(&st, a, s, m->cfg->snapshot == NULL, &ck, &nck, &sk, &nsk);
    srv_state_note_route(s);
    pthread_mutex_unlock(&s->lock);
    unsigned long gen = s->gen;
    srv_state_release(cache, s);
    if (st.ok) {
        if (m->baseline) {
            srvm_diff(m->conn_keys, m->nconn_keys, ck, nck, &m->conns_started, &m->conns_ended);
            srvm_diff(m->sess_keys, m->nsess_keys, sk, nsk, &m->sessions_started,
                      &m->sessions_ended);
        }
        m->conn_keys = ck, m->nconn_keys = nck;
        m->sess_keys = sk, m->nsess_keys = nsk;
        m->baseline = true;
    } else if (m->baseline) {
        /* keep the last keys that were read: move them to the new arena */
        const char **k = sc_alloc_array(a, m->nconn_keys + 1, sizeof *k);
        for (size_t i = 0; i < m->nconn_keys; i++)
            k[i] = sc_strdup(a, m->conn_keys[i]);
        m->conn_keys = k;
        k = sc_alloc_array(a, m->nsess_keys + 1, sizeof *k);
        for (size_t i = 0; i < m->nsess_keys; i++)
            k[i] = sc_strdup(a, m->sess_keys[i]);
        m->sess_keys = k;
    }
    st.conns_started = m->conns_started;
    st.conns_ended = m->conns_ended;
    st.sessions_started = m->sessions_started;
    st.sessions_ended = m->sessions_ended;
    st.read_seconds = srv_now() - t0;
    sc_arena_free(m->arena);
    m->arena = a;
    m->st = st;
    m->gen = gen;
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 2; j++) {
            sc_buf_reset(&m->text[i][j]);
            m->text_ok[i][j] = false;
        }
    return true;
}

/* smbcimd's own families: written for every scrape. */
static int cmp_req(const void *a, const void *b)
{
    const req_count *x = a, *y = b;
    int c = strcmp(x->operation, y->operation);
    return c ? c : strcmp(x->status, y->status);
}

static void render_self(srv_metrics *m, sc_buf *b, srvm_format f)
{
    srvm_family(b, f, "smbcim_requests", SRVM_COUNTER, NULL,
                "CIM-XML requests answered, by operation (its DSP0200 name, or other) and "
                "status (OK, a CIM_ERR_ name, or HTTP_400/HTTP_501 for refused messages).");
    pthread_mutex_lock(&counters_lock);
    req_count *copy = sc_xmalloc((nreqs ? nreqs : 1) * sizeof *copy);
    if (nreqs)
        memcpy(copy, reqs, nreqs * sizeof *copy);
    size_t n = nreqs;
    uint64_t fails = login_failures;
    /* the strings stay: entries are never removed */
    pthread_mutex_unlock(&counters_lock);
    qsort(copy, n, sizeof *copy, cmp_req);
    for (size_t i = 0; i < n; i++) {
        const char *labels[] = {"operation", copy[i].operation, "status", copy[i].status};
        srvm_sample_u64(b, "smbcim_requests", SRVM_COUNTER, labels, 2, copy[i].n);
    }
    free(copy);
    counter(b, f, "smbcim_login_failures",
            "Failed logins (wrong password, unknown user, malformed credentials).", fails);
    total(b, f, "smbcim_open_enumerations", "Open pulled-enumeration contexts.",
          (uint64_t)srv_open_enumerations(m->s));
    srv_subs_stats is;
    srv_subs_stats_get(srv_subs_of(m->s), &is);
    total(b, f, "smbcim_indication_subscriptions",
          "Indication subscriptions in root/interop (CIM_IndicationSubscription).",
          (uint64_t)is.subscriptions);
    counter(b, f, "smbcim_indications_delivered",
            "Indications a listener accepted (ExportIndication answered without error).",
            is.delivered);
    counter(b, f, "smbcim_indication_delivery_failures",
            "Delivery attempts that failed (each retry counts).", is.failed);
    counter(b, f, "smbcim_indications_dropped",
            "Indications given up on: retries spent, or the destination's queue full.",
            is.dropped);
    total(b, f, "smbcim_indications_queued", "Indications waiting to be delivered.",
          (uint64_t)is.queued);
    srvm_family(b, f, "smbcim_scrape_duration_seconds", SRVM_GAUGE, "seconds",
                "Seconds the previous /metrics answer took to compute.");
    srvm_sample_f64(b, "smbcim_scrape_duration_seconds", SRVM_GAUGE, NULL, 0, m->last_scrape);
    srvm_family(b, f, "smbcim_start_time_seconds", SRVM_GAUGE, "seconds",
                "When smbcimd started, in seconds since the Unix epoch.");
    sample_head(b, "smbcim_start_time_seconds", SRVM_GAUGE, NULL, 0);
    sc_buf_printf(b, "%.3f\n", m->start_wall);
    srvm_family(b, f, "smbcim_build", SRVM_INFO, NULL, "The version of smbcimd and libsmbcim.");
    const char *labels[] = {"version", smbcim_version()};
    srvm_sample_u64(b, "smbcim_build", SRVM_INFO, labels, 1, 1);
    /* the live source's Samba (with m->lock held: one smbd at a time) */
    if (m->cfg->snapshot)
        return;
    double now = sc_monotonic();
    if (!m->samba_version_at || now - m->samba_version_at >= SAMBA_VERSION_SECONDS) {
        smbcim_error err = {0};
        char *v = smbcim_samba_version(&err);
        if (!v && !m->samba_version_at) /* said once; a later failure keeps the last one */
            srv_log(LOG_WARNING, "metrics: Samba's version is not known: %s", err.msg);
        if (v || !m->samba_version) {
            free(m->samba_version);
            m->samba_version = v;
        }
        m->samba_version_at = now;
    }
    if (m->samba_version) {
        srvm_family(b, f, "smbcim_samba", SRVM_INFO, NULL,
                    "The version of the Samba installed here (smbd --version; asked every "
                    "5 minutes).");
        const char *sl[] = {"version", m->samba_version};
        srvm_sample_u64(b, "smbcim_samba", SRVM_INFO, sl, 1, 1);
    }
}

void srv_metrics_answer(srv_metrics *m, const char *path, const char *accept, bool full,
                        unsigned *status, const char **content_type, sc_buf *body)
{
    double t0 = srv_now();
    bool health = strcmp(path, "/healthz") == 0;
    if (!health && strcmp(path, "/metrics") != 0) {
        *status = 404;
        *content_type = "text/plain; charset=utf-8";
        sc_buf_puts(body, "smbcimd answers GET /metrics and GET /healthz here\n");
        return;
    }
    char why[1200] = "";
    pthread_mutex_lock(&m->lock);
    bool have = refresh(m, why, sizeof why);
    if (health) {
        *content_type = "text/plain; charset=utf-8";
        if (have && m->st.ok) {
            *status = 200;
            sc_buf_puts(body, "ok\n");
        } else {
            *status = 503;
            if (have)
                sc_buf_puts(body, m->st.why);
            else
                sc_buf_put_escaped(body, why, strlen(why), SMBCIM_TEXT_VISIBLE);
            sc_buf_putc(body, '\n');
        }
        pthread_mutex_unlock(&m->lock);
        return;
    }
    srvm_format f = srvm_negotiate(accept, content_type);
    *status = 200;
    if (have) {
        int v = full ? 1 : 0;
        if (!m->text_ok[f][v]) {
            sc_buf_reset(&m->text[f][v]);
            srvm_render_state(&m->text[f][v], f, &m->st, full, m->cfg->metrics_per_user);
            m->text_ok[f][v] = true;
        }
        sc_buf_add(body, m->text[f][v].data ? m->text[f][v].data : "", m->text[f][v].len);
    } else {
        srvm_state down = {.ok = false, .source = m->cfg->snapshot ? "snapshot" : "live",
                           .route = "none", .read_seconds = srv_now() - t0};
        srvm_render_state(body, f, &down, full, false);
    }
    render_self(m, body, f);
    if (f == SRVM_OPENMETRICS)
        sc_buf_puts(body, "# EOF\n");
    m->last_scrape = srv_now() - t0;
    pthread_mutex_unlock(&m->lock);
}
