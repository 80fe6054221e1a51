/*
 * smbcimd.h - the WBEM server: CIM-XML (src/server/cimxml.h) over HTTP and
 * HTTPS (libmicrohttpd), HTTP Basic checked through PAM, authorization per
 * class, and the same engine and data sources as the CLI.
 *
 * Pieces, in the order a request meets them:
 *   http.c      libmicrohttpd glue: limits, headers, body, 100-continue
 *   auth.c      Basic credentials -> PAM -> identity (user, admin?)
 *   dispatch.c  one CIM-XML request -> libsmbcim -> one CIM-XML response,
 *               with the authorization and the pulled enumerations
 *   wsman.c     one WS-Management request (POST /wsman, src/server/wsman.h)
 *               -> libsmbcim through dispatch.c's srv_engine and its
 *               enumeration store -> one SOAP response
 *   state.c     the data source: a context shared by requests, reopened
 *               after cache_seconds; reference-counted
 *   metrics.c   GET /metrics (Prometheus) and /healthz on their own listener
 *   config.c    configuration file and command line, reload, logging
 *   throttle.c  the failure budgets of logins (per address, user, in all)
 *   daemon.c    the checks before starting, the pid file, detaching
 *   priv.c      privilege separation: the root part (smbd's state, the PAM
 *               helpers) and the unprivileged worker that does the rest
 *   main.c      start, signals (SIGHUP reloads), clean shutdown
 *
 * Threads: libmicrohttpd runs one thread per connection.  The engine is not
 * thread-safe (it builds indexes lazily), so each state carries a mutex that
 * dispatch holds while it asks the engine; responses are written outside it
 * only from results the request owns.  Memory: each request owns an arena
 * (sc_arena) and its response buffer; pulled enumerations own their result
 * and a reference on the state they came from (freed by CloseEnumeration,
 * by the last pull, or when they expire).
 */
#ifndef SMBCIM_SMBCIMD_H
#define SMBCIM_SMBCIMD_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"
#include "smbcim.h"

/* ---- configuration (config.c) ------------------------------------------- */
typedef struct srv_config {
    const char *config_file;   /* the file read, or NULL */
    const char *snapshot;      /* data source: a snapshot file ... */
    const char *smb_conf;      /* ... or the live Samba with this smb.conf */
    char http[128];            /* "ADDR:PORT", "" = no HTTP listener */
    char https[128];
    const char *cert, *key;    /* PEM files for HTTPS */
    const char *admin_group;   /* members may read the admin classes */
    const char *admin_classes; /* space-separated class names */
    const char *pam_service;
    const char *user;          /* the worker's account when started as root
                                * (priv.c); "root" = no separation */
    bool allow_plain_http;     /* accept credentials over plain HTTP */
    bool foreground;
    unsigned cache_seconds;    /* reuse one state this long (live source) */
    size_t max_body;           /* bytes of a request body */
    unsigned timeout;          /* seconds a connection may stay idle */
    unsigned request_seconds;  /* seconds to receive a whole body */
    unsigned header_seconds;   /* seconds from accept to the end of the headers,
                                * TLS handshake included (http.c) */
    unsigned max_connections;  /* per listener */
    unsigned max_per_ip;       /* one address, both listeners: 503 beyond */
    const char *tls_priority;  /* GnuTLS priority string for HTTPS */
    unsigned auth_timeout;     /* seconds to wait for the PAM helper's answer */
    unsigned max_enumerations; /* open enumeration contexts, in all */
    unsigned max_enumerations_per_user; /* ... of one user */
    unsigned enumeration_lifetime; /* seconds from Open; pulls do not extend it */
    unsigned default_operation_timeout; /* seconds, for Open* without one */
    unsigned max_operation_timeout;
    unsigned auth_cache_seconds;
    char metrics[128];         /* "ADDR:PORT" of the metrics listener, "" = off */
    char wsman_http[128];      /* WS-Management listeners (POST /wsman), "" = off */
    char wsman_https[128];
    const char *wsman_trace;   /* directory recording WS-Man exchanges, NULL = off */
    bool metrics_tls;          /* ... over TLS (cert, key, tls_priority) */
    bool metrics_auth;         /* ... behind the Basic/PAM authentication */
    bool metrics_per_user;     /* series per share and user (cardinality) */
    /* Indication subscriptions (indicate.c; docs/smbcimd.md "Indications"). */
    const char *state_dir;     /* where subscriptions.json is kept */
    unsigned max_subscriptions; /* filters, destinations, subscriptions: each at most */
    unsigned indication_retry_attempts; /* retries of a failed delivery */
    unsigned indication_retry_interval; /* seconds between them */
    unsigned indication_timeout; /* seconds one delivery may take */
    unsigned indication_queue; /* indications waiting per destination */
    const char *listener_ca_file; /* CA certificates for https listeners */
    bool listener_insecure;    /* do not verify listeners' certificates */
    /* Logins (auth.c, throttle.c; docs/smbcimd.md "Failed logins"). */
    unsigned auth_helpers;     /* PAM helper processes at most */
    unsigned auth_queue;       /* logins waiting for a helper; 503 beyond */
    unsigned auth_rate;        /* PAM checks of uncached credentials per second
                                * before those with recent failures get 503; 0 = off */
    unsigned auth_burst;       /* ... at once */
    unsigned user_lockout_failures; /* failures of one user name ... (0 = off) */
    unsigned user_lockout_window;   /* ... within this many seconds ... */
    unsigned user_lockout_seconds;  /* ... lock it this long */
    unsigned auth_failure_ms;  /* a failure takes at least this long */
    /* The operator's side (daemon.c, main.c). */
    const char *pid_file;      /* NULL: /run/smbcimd.pid when not in the foreground */
    unsigned log_level;        /* syslog priority: lines above it are not written */
    bool check_config;         /* --check-config: check, say so, exit */
    int argc;                  /* the command line, read again by a reload */
    char **argv;
    sc_arena **retired;        /* arenas of earlier configurations: their
                                * strings may still be in use (reload) */
    size_t nretired;
    sc_arena *arena;           /* owns the strings above */
} srv_config;

/* The default tls-priority: TLS 1.3 and 1.2 only, ECDHE key exchange (forward
 * secrecy) with AEAD ciphers only; no static RSA, no CBC, no TLS 1.0/1.1. */
#define SRV_TLS_PRIORITY_DEFAULT                                                        \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"       \
    "-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD"

/* The worker's account by default (make install and the package make it). */
#define SRV_USER_DEFAULT "smbcim"

/* Defaults, then the file (--config FILE, or /etc/smbcim/smbcimd.conf when
 * it exists), then the command line.  Returns 0, or 2 after printing a
 * usage error naming the option or the file and line. */
int srv_config_load(srv_config *c, int argc, char **argv);
void srv_config_free(srv_config *c);
/* SIGHUP: reads the same file and command line again into `next` (0, or 2
 * after logging what is wrong).  srv_config_apply then copies into the
 * running c the settings that can change while running, logs those that
 * cannot ("needs a restart": listeners, TLS priorities, helper count, pid
 * file, ...; they keep their old value), keeps next's strings alive until
 * c is freed, and frees next.  Returns how many settings changed. */
int srv_config_reread(const srv_config *c, srv_config *next);
unsigned srv_config_apply(srv_config *c, srv_config *next);
/* "ADDR:PORT" -> sockaddr (IPv4, [IPv6] or a host name); false on error. */
bool srv_parse_listen(const char *spec, void *sockaddr_storage, unsigned *len,
                      char *why, size_t whylen);

/* ---- logging ------------------------------------------------------------ */
void srv_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_log_to_syslog(void);
/* Lines with a priority above level (LOG_ERR ... LOG_DEBUG) are dropped. */
void srv_log_set_level(unsigned level);

/* ---- identity and authentication (auth.c) -------------------------------- */
typedef struct srv_identity {
    char user[256];
    bool admin;
} srv_identity;

typedef enum srv_auth_result {
    SRV_AUTH_OK = 0,
    SRV_AUTH_MISSING,     /* no (or not Basic) Authorization header */
    SRV_AUTH_MALFORMED,   /* Basic with bad base64 or no colon */
    SRV_AUTH_FAILED,      /* PAM said no */
    SRV_AUTH_UNAVAILABLE, /* nothing was checked: throttled (recent failures
                           * from that address, or the login budget spent),
                           * no PAM helper free, or it did not answer within
                           * auth_timeout (srv_auth_check_retry says when
                           * to retry) */
} srv_auth_result;

typedef struct srv_auth srv_auth;
srv_auth *srv_auth_new(const srv_config *c);
void srv_auth_free(srv_auth *a);
/* Checks an Authorization header value from client `peer` (for logging and
 * the failure budgets).  A failure is logged and delayed (at least
 * auth_failure_ms from the start, then longer for repeated failures from
 * one peer) before this returns. */
srv_auth_result srv_auth_check(srv_auth *a, const char *authorization, const char *peer,
                               srv_identity *who);
/* The same, and for SRV_AUTH_UNAVAILABLE the seconds after which to retry
 * (a Retry-After header). */
srv_auth_result srv_auth_check_retry(srv_auth *a, const char *authorization, const char *peer,
                                     srv_identity *who, unsigned *retry_after);
/* Decodes "Basic base64(user:password)"; false when malformed.  Exposed for
 * tests. */
bool srv_basic_decode(const char *header, char *user, size_t ulen, char *pass, size_t plen);
/* Whether user is root or a member of group (primary or supplementary). */
bool srv_user_in_group(const char *user, const char *group);
/* Whether the account exists (getpwnam); *admin: root or in group. */
bool srv_account(const char *user, const char *group, bool *admin);
/* Forgets every cached login (SIGHUP). */
void srv_auth_clear_cache(srv_auth *a);
/* The PAM helper this executable runs: smbcimd-auth next to it when that
 * file exists (a build tree), else the installed one (SMBCIM_LIBEXECDIR). */
void srv_helper_path(char *out, size_t len);
/* Tests: another helper program. */
void srv_auth_set_helper(srv_auth *a, const char *path);

/* ---- login budgets (throttle.c) ----------------------------------------- */
typedef struct srv_throttle srv_throttle;
typedef enum srv_admit {
    SRV_ADMIT_OK,        /* ask PAM */
    SRV_ADMIT_LOCKED,    /* the user name is locked out: refuse without asking */
    SRV_ADMIT_PEER_WAIT, /* the address is within its failure delay: 503 */
    SRV_ADMIT_BUDGET,    /* the budget is spent and this one is not clean and known: 503 */
    SRV_ADMIT_PEER_BUSY, /* THR_PEER_CHECKS checks of the address are running: 503 */
} srv_admit;
typedef struct srv_admit_info {
    double retry;        /* seconds until it may try again (lockout: its length) */
    bool clean;          /* OK: no recent failure of the address or the user name */
    bool say;            /* a refusal worth logging (the first of its kind for a while) */
    bool locked;         /* srv_throttle_failure: this failure locked the name */
    unsigned failures;   /* ... after this many */
} srv_admit_info;
srv_throttle *srv_throttle_new(const srv_config *c);
void srv_throttle_free(srv_throttle *t);
#define THR_PEER_CHECKS 4 /* PAM checks of one address at once */
/* Whether PAM may be asked about user from peer at time now (seconds,
 * monotonic); an OK takes a token from the budget and counts a running
 * check of peer, which srv_throttle_checked ends. */
srv_admit srv_throttle_admit(srv_throttle *t, const char *user, const char *peer, double now,
                             srv_admit_info *info);
/* A failure at `now`: PAM said no for user (NULL: no PAM check, the peer
 * only).  Returns the failure delay of the peer (0.5 s doubling to 8 s);
 * no PAM check for it before now + that. */
double srv_throttle_failure(srv_throttle *t, const char *user, const char *peer, double now,
                            srv_admit_info *info);
/* PAM said yes: the name's failures are forgotten (not a running lockout),
 * and the name and the address are known (they pass a spent budget). */
void srv_throttle_success(srv_throttle *t, const char *user, const char *peer, double now);
/* The PAM check that srv_throttle_admit let through has ended (called
 * after its failure or success is recorded, so that the address's next
 * request sees its failure delay). */
void srv_throttle_checked(srv_throttle *t, const char *peer);

/* ---- the data source (state.c) ------------------------------------------- */
typedef struct srv_state {
    smbcim_ctx *ctx;
    /* Read through the privileged part (priv.c): how, as smbcim_live_route
     * and smbcim_live_warning would say (malloc()ed; NULL otherwise). */
    char *route, *route_why, *warning;
    unsigned long gen;         /* distinct for every state read */
    pthread_mutex_t lock;      /* held while the engine works on ctx */
    int refs;                  /* guarded by the cache's mutex */
    double opened;             /* monotonic seconds */
    bool route_logged;         /* under lock: srv_state_note_route said it */
    char *doc;                 /* under lock: the state as a snapshot document,
                                * made on demand (srv_state_open_copy) */
    size_t doc_len;
} srv_state;

typedef struct srv_cache srv_cache;
srv_cache *srv_cache_new(const srv_config *c);
void srv_cache_free(srv_cache *c);
/* Logs, once per state, how smbd's state was read (the smbstatus fallback
 * and why, smbd not running), after a request made it read; call with
 * s->lock held. */
void srv_state_note_route(srv_state *s);
/* The current state (opened or reopened as needed), with a reference the
 * caller drops with srv_state_release.  NULL with err set when the source
 * cannot be read. */
srv_state *srv_state_get(srv_cache *c, smbcim_error *err);
/* A new context over the same state, owned by the caller (an event
 * watcher takes one per poll): opened from the state's snapshot document,
 * made once per state.  NULL with err set. */
smbcim_ctx *srv_state_open_copy(srv_state *s, smbcim_error *err);
/* A state of its own around ctx (taken), not the cache's: one reference,
 * the caller's; srv_state_release() of it closes ctx.  root/interop's
 * requests read their records this way. */
srv_state *srv_state_own(smbcim_ctx *ctx);
void srv_state_release(srv_cache *c, srv_state *s);
/* How the state was read (smbcim_live_route / smbcim_live_warning, also
 * when the privileged part read it); call with s->lock held. */
const char *srv_state_route(const srv_state *s, const char **why);
const char *srv_state_warning(const srv_state *s);

/* ---- dispatch (dispatch.c) ----------------------------------------------- */
typedef struct srv srv;
srv *srv_new(const srv_config *c);
void srv_free(srv *s);

typedef struct srv_response {
    int http_status;           /* 200, 400, 501, ... */
    const char *cimerror;      /* CIMError header, or NULL */
    sc_buf body;               /* CIM-XML (empty for protocol errors) */
} srv_response;

/* Handles one request body for an authenticated user.  cim_method and
 * cim_object are the (undecoded) CIMMethod and CIMObject headers, NULL if
 * absent.  The caller frees resp->body. */
void srv_handle(srv *s, const srv_identity *who, const char *cim_method,
                const char *cim_object, const char *body, size_t len, srv_response *resp);
/* Drops expired enumeration contexts (called now and then). */
void srv_expire(srv *s);
/* Number of open enumeration contexts (tests, logs). */
/* Bytes held by the response cache: requests and responses (at most
 * 64 MiB). */
size_t srv_response_cache_bytes(srv *s);
size_t srv_open_enumerations(srv *s);
/* The state cache requests read through (metrics.c reads the same). */
srv_cache *srv_cache_of(srv *s);

/* The engine for front ends other than CIM-XML (wsman.c): fn runs on the
 * state's context under its lock, with the caller's authorization
 * (smbcim_set_access), as every CIM-XML operation does. */
typedef smbcim_status (*srv_engine_fn)(smbcim_ctx *ctx, void *arg, smbcim_result **res,
                                       smbcim_error *err);
smbcim_status srv_engine(srv *s, const srv_identity *who, srv_state *st, srv_engine_fn fn,
                         void *arg, smbcim_result **res, smbcim_error *err);
const srv_config *srv_config_of(const srv *s);
/* Namespace names equal as WBEM compares them: case-insensitive, '/' and
 * '\\' alike ("root/cimv2" = "ROOT\\CIMV2"). */
bool srv_ns_equal(const char *a, const char *b);
/* The schema-only context (class declarations need no state). */
smbcim_ctx *srv_schema_of(srv *s);

/* Enumeration contexts of WS-Management: the store, limits (in all and per
 * user) and expiry of the CIM-XML pulls, ids of 128 random bits bound to the
 * user.  srv_enum_open takes res, the caller's reference on st and arena
 * (which holds data); NULL with *refused 1 (too many in all) or 2 (too many
 * of this user), nothing taken.  srv_enum_take marks a context busy for its
 * owner (NULL: unknown, expired, busy or another user's); srv_enum_put_back
 * or srv_enum_drop end that. */
typedef struct enum_ctx srv_enum;
srv_enum *srv_enum_open(srv *s, const char *owner, srv_state *st, smbcim_result *res,
                        size_t pos, unsigned timeout, sc_arena *arena, void *data,
                        int *refused);
const char *srv_enum_id(const srv_enum *e);
srv_enum *srv_enum_take(srv *s, const char *id, const char *owner);
void srv_enum_get(const srv_enum *e, srv_state **st, smbcim_result **res, size_t *pos,
                  void **data);
void srv_enum_put_back(srv *s, srv_enum *e, size_t pos);
void srv_enum_drop(srv *s, srv_enum *e);

/* One WS-Management request (wsman.c): who is NULL for a request without
 * credentials, which may only be an Identify.  Sets *http_status (200, 401
 * for an unauthenticated request that is not an Identify, 400, 500 for a
 * fault) and appends the SOAP envelope to body (empty for 401/400). */
void srv_wsman_handle(srv *s, const srv_identity *who, const char *body, size_t len,
                      unsigned *http_status, sc_buf *out);

/* ---- recording WS-Management traffic (trace.c) ---------------------------- */
#define SRV_TRACE_MAX 10000 /* exchanges recorded per run */
typedef struct srv_trace srv_trace;
/* The trace directory, opened once (it must exist and be writable); NULL
 * after logging why. */
srv_trace *srv_trace_open(const char *dir);
/* Records one exchange as two files: req_head (the request line and
 * headers, credentials already removed, ending in an empty line) and the
 * body; resp_head (status line and headers, same form) and the body.
 * Thread-safe; t NULL does nothing. */
void srv_trace_write(srv_trace *t, const char *req_head, const char *req_body, size_t req_len,
                     const char *resp_head, const char *resp_body, size_t resp_len);
void srv_trace_close(srv_trace *t); /* NULL is fine */

/* ---- HTTP (http.c) ------------------------------------------------------- */
typedef struct srv_http srv_http;
/* The listening sockets the configuration asks for, bound (as root,
 * before the privileges are dropped: priv.c), in the order https, http,
 * metrics, wsman-https, wsman-http (-1: not asked for); false after
 * logging the one that failed (a port in use), with none left open. */
#define SRV_LISTENERS 5
bool srv_http_bind(const srv_config *c, int *fds);
void srv_http_unbind(int *fds); /* closes those still open */
/* Starts the listeners on fds (srv_http_bind's, which it takes); NULL after
 * logging why (an unreadable certificate, ...). */
srv_http *srv_http_start(const srv_config *c, srv *s, srv_auth *a, int *fds);
void srv_http_stop(srv_http *h);
/* SIGHUP: loads c->cert and c->key again; new TLS connections get them,
 * established ones keep theirs.  False (the old ones stay) after logging
 * why. */
bool srv_http_reload_tls(srv_http *h);
/* Whether cert (PEM, a chain) and key (PEM) load with GnuTLS and belong
 * together; why says what is wrong. */
bool srv_tls_check(const char *cert, const char *key, char *why, size_t whylen);
/* Whether a listening socket can be made on spec ("ADDR:PORT") now: bound,
 * then closed again.  why: "cannot listen on ADDR (what): reason". */
bool srv_listen_check(const char *spec, const char *what, char *why, size_t whylen);

/* ---- the operator's side (daemon.c) --------------------------------------- */
/* The checks before starting, also made by --check-config and before a
 * reload is applied: the PAM helper, the PAM service file, the admin
 * group, the snapshot file, the certificate and key.  Each failure is
 * passed to report as one line; returns how many failed. */
unsigned srv_preflight(const srv_config *c, void (*report)(const char *line, void *arg),
                       void *arg);
/* The pid file: created (0644) and locked now, written with the pid of
 * the process that calls srv_pidfile_write (after detaching), removed by
 * srv_pidfile_remove.  -1 after logging why (another smbcimd holds it). */
int srv_pidfile_open(const char *path);
bool srv_pidfile_write(int fd, const char *path);
void srv_pidfile_remove(int fd, const char *path);
/* Detaches (fork, setsid, fork): returns in the daemon with *ready set to a
 * descriptor for srv_detach_ready; the process that started it exits when
 * it is told: 0 if the daemon is ready, 1 if it failed (or died) first.
 * -1 when it cannot fork. */
int srv_detach(int *ready);
void srv_detach_ready(int ready, bool ok);

double srv_now(void); /* monotonic seconds */

/* ---- privilege separation (priv.c; docs/smbcimd.md "Least privilege") ---- */
/* Started as root with c->user not root: forks.  The child drops to
 * c->user and returns 0 (it is the worker: everything else runs in it);
 * the parent stays root as the privileged part, serves the worker until
 * it exits, and returns 1 with *exit_code the worker's.  *ready (the
 * detach descriptor) and the SRV_LISTENERS listen_fds are closed in the
 * parent: the worker reports readiness and holds the sockets.  Returns 0 without forking when not root or user = root;
 * -1 after logging why. */
int srv_priv_split(const srv_config *c, int *ready, int *listen_fds, int *exit_code);
/* Whether this process is a worker of a split. */
bool srv_priv_active(void);
/* A PAM helper for `service` with its pipes (ours, close-on-exec) and an
 * id for srv_priv_helper_end: started in process, or by the privileged
 * part (which then uses its own helper path and its configured service,
 * whatever is passed). */
bool srv_priv_helper_start(const char *path, const char *service, long *id, int *to, int *from,
                           char *why, size_t whylen);
/* Ends it: SIGTERM (SIGKILL when now), SIGKILL after a second, reaped. */
void srv_priv_helper_end(long id, bool now);
/* Worker: the live state read by the privileged part, the answer of
 * srv_priv_parse_state (malloc()ed, *len bytes, NUL-ended); NULL with err
 * set when the privileged part does not answer. */
char *srv_priv_read_state(size_t *len, smbcim_error *err);
/* The checks that depend on who reads the files (certificate, key,
 * snapshot, trace directory), run as c->user when started as root. */
typedef unsigned (*srv_check_fn)(const srv_config *c,
                                 void (*report)(const char *line, void *arg), void *arg);
unsigned srv_priv_check_as_user(const srv_config *c, srv_check_fn check,
                                void (*report)(const char *line, void *arg), void *arg);

/* The protocol (exposed for tests and the fuzz target).  A request is
 * PRIV_REQ_LEN bytes: type, flag (0, or 1 = "now" for HELPER_END), two
 * zero bytes, u32 LE argument (the helper's pid for HELPER_END, else 0). */
#define PRIV_REQ_LEN 8
#define PRIV_STATE 'S'        /* read smbd's state: u32 length, then the state answer */
#define PRIV_HELPER_START 'H' /* PRIV_HELPER_ANSWER bytes: 1, u32 pid (+ 2 fds); or 0, message */
#define PRIV_HELPER_END 'E'   /* one byte: 1 ended, 0 not one of its helpers */
#define PRIV_HELPER_ANSWER 256
typedef struct srv_priv_req {
    char type;
    bool now;
    long pid;
} srv_priv_req;
bool srv_priv_parse_request(const unsigned char *b, size_t len, srv_priv_req *r);
/* The state answer: u32 LE status (a WBEM status, 0 = read), the route,
 * why, warning and error message (each NUL-ended), then the snapshot
 * document (empty on failure).  Pointers into the buffer. */
typedef struct srv_priv_state {
    int status;
    const char *route, *why, *warning, *message;
    const char *doc;
    size_t doc_len;
} srv_priv_state;
bool srv_priv_parse_state(const char *b, size_t len, srv_priv_state *s);

/* ---- Prometheus metrics (metrics.c; docs/monitoring.md) ----------------- */
typedef struct srv_metrics srv_metrics;
srv_metrics *srv_metrics_new(const srv_config *c, srv *s);
void srv_metrics_free(srv_metrics *m);
/* The answer to GET `path` (/metrics or /healthz; 404 otherwise) with the
 * request's Accept header (NULL if none); full = the reader may see the
 * per-user series and the shares known only from a tree connect.  Sets
 * *status and *content_type (a constant) and appends the body to body. */
void srv_metrics_answer(srv_metrics *m, const char *path, const char *accept, bool full,
                        unsigned *status, const char **content_type, sc_buf *body);
/* Process-wide counters, thread-safe: one CIM request answered (operation
 * and status from fixed sets: srv_metrics_cim_status) and one failed
 * login. */
void srv_metrics_count_request(const char *operation, const char *status);
void srv_metrics_login_failed(void);
/* "OK" for 0, the DSP0200 name of a CIM status code ("CIM_ERR_NOT_FOUND"),
 * or "CIM_ERR_OTHER". */
const char *srv_metrics_cim_status(int code);

/* ---- indication subscriptions (indicate.c; docs/smbcimd.md "Indications") ----
 * The records of root/interop's CIM_IndicationFilter,
 * CIM_ListenerDestinationCIMXML and CIM_IndicationSubscription, kept in
 * <state-dir>/subscriptions.json, and their delivery: a poller thread runs
 * each subscribed filter's event query against the state of `cache`, and
 * one thread per destination POSTs ExportIndication requests to it. */
typedef struct srv_subs srv_subs;
struct cimxml_instance;
/* Reads the state file (a corrupt one is set aside and logged). */
srv_subs *srv_subs_new(const srv_config *c, srv_cache *cache);
/* Starts the poller (in the worker, after the privileges are dropped). */
void srv_subs_start(srv_subs *s);
/* Stops every thread; queued indications are counted and logged. */
void srv_subs_free(srv_subs *s);
/* root/interop over the records as they are now (the caller closes it). */
smbcim_ctx *srv_subs_open(srv_subs *s, smbcim_error *err);
/* root/interop's classes, no instances (owned by s). */
const smbcim_ctx *srv_subs_schema(const srv_subs *s);
/* CreateInstance of a filter, destination or subscription by `user`: 0
 * with *path the new instance's path (malloc()ed), or a DSP0200 status
 * code with msg set. */
int srv_subs_create(srv_subs *s, const char *user, const struct cimxml_instance *ni,
                    char **path, char *msg, size_t msglen);
/* DeleteInstance: 0, or a DSP0200 status code with msg set (a filter or
 * destination still subscribed is CIM_ERR_FAILED). */
int srv_subs_delete(srv_subs *s, const char *path, char *msg, size_t msglen);
typedef struct srv_subs_stats {
    uint64_t delivered;        /* indications the listeners accepted */
    uint64_t failed;           /* delivery attempts that failed */
    uint64_t dropped;          /* indications given up on (retries spent, queue full) */
    size_t queued;             /* waiting now */
    size_t subscriptions;
} srv_subs_stats;
void srv_subs_stats_get(srv_subs *s, srv_subs_stats *out);
/* The server's subscriptions (dispatch.c owns them). */
srv_subs *srv_subs_of(srv *s);

#endif
