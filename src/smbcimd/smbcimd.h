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
 *   state.c     the data source: a context shared by requests, reopened
 *               after cache_seconds; reference-counted
 *   config.c    configuration file and command line
 *   main.c      start, signals, clean shutdown
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
    sc_arena *arena;           /* owns the strings above */
} srv_config;

/* The default tls-priority: TLS 1.3 and 1.2 only, ECDHE key exchange (forward
 * secrecy) with AEAD ciphers only; no static RSA, no CBC, no TLS 1.0/1.1. */
#define SRV_TLS_PRIORITY_DEFAULT                                                        \
    "NORMAL:-VERS-ALL:+VERS-TLS1.3:+VERS-TLS1.2:-KX-ALL:+ECDHE-ECDSA:+ECDHE-RSA:"       \
    "-CIPHER-ALL:+AES-256-GCM:+CHACHA20-POLY1305:+AES-128-GCM:-MAC-ALL:+AEAD"

/* Defaults, then the file (--config FILE, or /etc/smbcim/smbcimd.conf when
 * it exists), then the command line.  Returns 0, or 2 after printing a
 * usage error naming the option or the file and line. */
int srv_config_load(srv_config *c, int argc, char **argv);
void srv_config_free(srv_config *c);
/* "ADDR:PORT" -> sockaddr (IPv4, [IPv6] or a host name); false on error. */
bool srv_parse_listen(const char *spec, void *sockaddr_storage, unsigned *len,
                      char *why, size_t whylen);

/* ---- logging ------------------------------------------------------------ */
void srv_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void srv_log_to_syslog(void);

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
    SRV_AUTH_UNAVAILABLE, /* the PAM helper could not be asked or did not
                           * answer within auth_timeout: nothing was checked */
} srv_auth_result;

typedef struct srv_auth srv_auth;
srv_auth *srv_auth_new(const srv_config *c);
void srv_auth_free(srv_auth *a);
/* Checks an Authorization header value from client `peer` (for logging and
 * the failure delay).  A failure is logged and delayed (longer for repeated
 * failures from one peer) before this returns. */
srv_auth_result srv_auth_check(srv_auth *a, const char *authorization, const char *peer,
                               srv_identity *who);
/* Decodes "Basic base64(user:password)"; false when malformed.  Exposed for
 * tests. */
bool srv_basic_decode(const char *header, char *user, size_t ulen, char *pass, size_t plen);
/* Whether user is root or a member of group (primary or supplementary). */
bool srv_user_in_group(const char *user, const char *group);

/* ---- the data source (state.c) ------------------------------------------- */
typedef struct srv_state {
    smbcim_ctx *ctx;
    unsigned long gen;         /* distinct for every state read */
    pthread_mutex_t lock;      /* held while the engine works on ctx */
    int refs;                  /* guarded by the cache's mutex */
    double opened;             /* monotonic seconds */
    bool route_logged;         /* under lock: srv_state_note_route said it */
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
void srv_state_release(srv_cache *c, srv_state *s);

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

/* ---- HTTP (http.c) ------------------------------------------------------- */
typedef struct srv_http srv_http;
/* Starts the listeners the configuration asks for; NULL after logging
 * why (a port in use, an unreadable certificate, ...). */
srv_http *srv_http_start(const srv_config *c, srv *s, srv_auth *a);
void srv_http_stop(srv_http *h);

double srv_now(void); /* monotonic seconds */

#endif
