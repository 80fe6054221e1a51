/*
 * metrics_int.h - the pieces of metrics.c that tests/unit/test_srvd_metrics.c
 * reaches: content negotiation, the exposition writers (escaping included),
 * the started/ended diff of successive reads, and the renderer of one
 * state's figures.  Private to src/smbcimd/ (and its tests).
 */
#ifndef SMBCIM_SMBCIMD_METRICS_INT_H
#define SMBCIM_SMBCIMD_METRICS_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

/* The two exposition formats: Prometheus text 0.0.4 and OpenMetrics. */
typedef enum srvm_format { SRVM_TEXT, SRVM_OPENMETRICS } srvm_format;

#define SRVM_CT_TEXT "text/plain; version=0.0.4; charset=utf-8"
#define SRVM_CT_OM "application/openmetrics-text; version=1.0.0; charset=utf-8"
#define SRVM_CT_OM001 "application/openmetrics-text; version=0.0.1; charset=utf-8"

/* The format an Accept header (NULL: none) asks for, as Prometheus' client
 * libraries negotiate: OpenMetrics when an application/openmetrics-text
 * range (version 1.0.0, 0.0.1 or none) has a higher q than text/plain
 * (version 0.0.4 or none), text/any or any/any — the first listed on a tie —
 * and the text format otherwise, also when nothing matches.  Sets
 * *content_type to the answer's Content-Type. */
srvm_format srvm_negotiate(const char *accept, const char **content_type);

/* Appends s with every byte that is not part of valid UTF-8 (overlong
 * forms, surrogates and code points past U+10FFFF included) replaced by
 * U+FFFD: Prometheus refuses a whole scrape over one invalid label. */
void srvm_put_utf8(sc_buf *b, const char *s);
/* Appends s as the inside of a quoted label value: valid UTF-8 as above,
 * then backslash, double quote and newline escaped (\\, \", \n), as both
 * formats require. */
void srvm_put_label_value(sc_buf *b, const char *s);

/* A metric family: its name without the _total (counter) or _info (info)
 * suffix; the HELP and TYPE lines (and UNIT in OpenMetrics when unit is
 * given) as the format spells them. */
typedef enum srvm_type { SRVM_GAUGE, SRVM_COUNTER, SRVM_INFO } srvm_type;
void srvm_family(sc_buf *b, srvm_format f, const char *name, srvm_type t, const char *unit,
                 const char *help);
/* One sample of that family: labels holds nlabels (name, value) pairs,
 * values raw (escaped here). */
void srvm_sample_u64(sc_buf *b, const char *name, srvm_type t, const char *const *labels,
                     size_t nlabels, uint64_t v);
void srvm_sample_f64(sc_buf *b, const char *name, srvm_type t, const char *const *labels,
                     size_t nlabels, double v);

/* Sorts keys (strcmp order) and drops duplicates; returns how many stay. */
size_t srvm_sort_keys(const char **keys, size_t n);
/* Successive reads compared by key, both sorted and distinct
 * (srvm_sort_keys): adds to *started the keys only in cur and to *ended
 * those only in prev.  One merge pass: O(np + nc). */
void srvm_diff(const char *const *prev, size_t np, const char *const *cur, size_t nc,
               uint64_t *started, uint64_t *ended);

/* One share's figures.  listed: a share of the configuration (or the
 * snapshot's list); a share known only from a tree connect (a [homes]
 * share in use, a removed share still used) is not, and is left out of
 * the per-share series for readers who are not admins. */
typedef struct srvm_share {
    const char *name;        /* valid UTF-8 (srvm_put_utf8), the label value */
    bool listed;
    uint64_t connections;    /* Win32_ServerConnection instances */
    uint64_t tree_connects;  /* their NumberOfUsers, summed */
    uint64_t users;          /* distinct UserName (case-insensitive) */
    uint64_t open_files;     /* their NumberOfFiles, summed */
} srvm_share;

/* Connections of one user to one share (metrics-per-user). */
typedef struct srvm_user_conn {
    const srvm_share *share;
    const char *user;        /* valid UTF-8 */
    uint64_t connections;
} srvm_user_conn;

/* Everything the metrics say about one state (one generation). */
typedef struct srvm_dialect {
    const char *name;        /* MSFT_SmbSession.Dialect ("3.1.1"), "unknown" when NULL */
    uint64_t sessions;
} srvm_dialect;

typedef struct srvm_state {
    bool ok;                 /* the source and smbd's state were read */
    const char *why;         /* when not: why (one line) */
    const char *source;      /* "live" or "snapshot" */
    const char *route;       /* tdb, smbstatus, none, config, snapshot */
    srvm_share *shares;
    size_t nshares;
    srvm_user_conn *user_conns;
    size_t nuser_conns;
    uint64_t listed_shares, sessions, connections, tree_connects, open_files, users;
    double oldest_session;   /* seconds; 0 when there is no session */
    uint64_t conns_started, conns_ended, sessions_started, sessions_ended;
    double read_seconds;     /* reading the state and computing these */
    srvm_dialect *dialects;  /* SMB sessions per dialect, sorted by name */
    size_t ndialects;
    smbcim_node_load *nodes; /* a cluster's nodes (smbcim_node_loads), else none */
    size_t nnodes;
} srvm_state;

/* The families of one state.  full: the reader may see the shares that
 * are not listed and (per_user) the per-user series. */
void srvm_render_state(sc_buf *b, srvm_format f, const srvm_state *st, bool full, bool per_user);

#endif
