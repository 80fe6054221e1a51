/*
 * http.c - the HTTP and HTTPS listeners (libmicrohttpd, one thread per
 * connection, TLS through GnuTLS).
 *
 * Connections: a connection that brings no complete request headers within
 * header_seconds of its start (TLS handshake included), or of the end of
 * its previous request (max(header_seconds, timeout) then, as it may idle
 * that long between requests), is shut down by a watchdog thread: each
 * byte resets libmicrohttpd's idle timeout, so headers sent one byte at a
 * time would otherwise hold a connection for ever.  Connections from one
 * address are counted over both listeners; one beyond max_per_ip (at most
 * half of max_connections, so that one address leaves room for the others)
 * gets 503 and Retry-After to its first request and is closed, and
 * libmicrohttpd itself drops a few more beyond that at accept (the per-IP
 * limit given to it is max_per_ip + max_per_ip/4 + 1 per listener).
 *
 * Every request passes, before its body is read (so that a refused
 * "Expect: 100-continue" upload is never received):
 *   not over the per-address limit (503, Retry-After);
 *   framing: not both Content-Length and Transfer-Encoding, at most one of
 *   each, Transfer-Encoding only "chunked" (400 / 501; RFC 9112 6.1, 6.3);
 *   POST /cimom only (405 / 404 otherwise);
 *   over plain HTTP, credentials only when allow_plain_http (403: use HTTPS);
 *   Basic credentials checked through PAM (401 + WWW-Authenticate);
 *   CIMOperation: MethodCall (400, CIMError: unsupported-operation);
 *   no CIMBatch (501, CIMError: multiple-requests-unsupported);
 *   Content-Length within max_body (413).
 * Then the body is read within max_body bytes (413; a chunked body that
 * grows beyond it is read on and dropped) and request_seconds (408 when the
 * last byte comes late; the connection is closed when the time runs out in
 * the middle of the body, as libmicrohttpd takes no response then);
 * libmicrohttpd bounds idle time (timeout), header size (its connection
 * memory) and connections in all.  HTTPS takes the GnuTLS priority string
 * tls_priority (TLS 1.2+ with forward secrecy by default).
 *
 * The metrics listener (when `metrics` is set) shares the limits, the
 * per-address count and the header deadline; after the framing checks it
 * takes only GET/HEAD of /metrics and /healthz without a body (405, 404,
 * 400), with Basic/PAM when metrics_auth, and answers from metrics.c.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <gnutls/abstract.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "smbcimd/smbcimd.h"

typedef struct listener {
    struct srv_http *h;
    bool tls;
    bool metrics;    /* the metrics listener: GET /metrics, /healthz */
    bool wsman;      /* a WS-Management listener: POST /wsman (wsman.c) */
    struct MHD_Daemon *d;
} listener;

/* One connection, from libmicrohttpd's "started" notification to its
 * "closed" one (its socket context); on srv_http's list under conns_lock. */
typedef struct conn_rec {
    struct conn_rec *prev, *next;
    struct srv_http *h;
    int fd;
    char peer[64];
    double since;     /* start of the wait for the current request's headers */
    unsigned limit;   /* seconds allowed from since */
    bool in_request;  /* headers received: the request is being handled */
    bool over_limit;  /* beyond max_per_ip when it connected: gets 503 */
    bool cut;         /* shut down by the watchdog */
    bool tls;
} conn_rec;

/* Retry-After of a 503 over the per-address limit (seconds). */
#define RETRY_AFTER "10"

struct srv_http {
    const srv_config *cfg;
    srv *s;
    srv_auth *a;
    listener plain, tls, metrics, wsman_plain, wsman_tls;
    srv_metrics *m;            /* when the metrics listener is on */
    srv_trace *trace;          /* wsman-trace: WS-Man exchanges recorded */
    struct tls_cred *cred;     /* the certificate new TLS connections get */
    struct tls_cred *retired;  /* earlier ones (a reload), freed at stop */
    pthread_mutex_t cred_lock; /* cred */
    unsigned per_ip;           /* effective max_per_ip */
    pthread_mutex_t conns_lock;
    pthread_cond_t wake;       /* stops the watchdog */
    conn_rec *conns;
    bool stopping;
    bool watchdog_running;
    pthread_t watchdog;
};

typedef struct conn_req {
    sc_buf body;
    bool too_big;        /* over max_body: the rest is read and dropped */
    double start;
    srv_identity who;
    bool anon;           /* WS-Management without credentials: Identify only */
    char peer[64];
} conn_req;

/* The client's address as text; an IPv4-mapped IPv6 address as IPv4, so
 * that a client counts as one address on both kinds of listener. */
static void peer_of(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET) {
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    } else if (sa->sa_family == AF_INET6) {
        const struct in6_addr *a6 = &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr;
        if (IN6_IS_ADDR_V4MAPPED(a6))
            inet_ntop(AF_INET, &a6->s6_addr[12], out, (socklen_t)len);
        else
            inet_ntop(AF_INET6, a6, out, (socklen_t)len);
    }
}

static conn_rec *rec_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

/* ---- connections: per-address count and the header deadline --------------- */

static void notify_conn(void *cls, struct MHD_Connection *conn, void **socket_context,
                        enum MHD_ConnectionNotificationCode toe)
{
    listener *l = cls;
    srv_http *h = l->h;
    if (toe == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        conn_rec *r = sc_xcalloc(1, sizeof *r);
        r->h = h;
        r->fd = ci ? ci->connect_fd : -1;
        r->tls = l->tls;
        peer_of(conn, r->peer, sizeof r->peer);
        r->since = srv_now();
        r->limit = h->cfg->header_seconds;
        pthread_mutex_lock(&h->conns_lock);
        unsigned same = 0;
        for (conn_rec *o = h->conns; o; o = o->next)
            if (strcmp(o->peer, r->peer) == 0)
                same++;
        r->over_limit = same >= h->per_ip;
        r->next = h->conns;
        if (h->conns)
            h->conns->prev = r;
        h->conns = r;
        pthread_mutex_unlock(&h->conns_lock);
        *socket_context = r;
        return;
    }
    conn_rec *r = *socket_context;
    if (!r)
        return;
    /* libmicrohttpd closes the socket only after this notification, so the
     * watchdog never shuts down a descriptor that has been reused. */
    pthread_mutex_lock(&h->conns_lock);
    if (r->prev)
        r->prev->next = r->next;
    else
        h->conns = r->next;
    if (r->next)
        r->next->prev = r->prev;
    pthread_mutex_unlock(&h->conns_lock);
    free(r);
    *socket_context = NULL;
}

/* Every 200 ms: shuts down the connections whose request headers (or TLS
 * handshake) are late; their threads then see the end of the stream and
 * libmicrohttpd closes them. */
static void *watchdog(void *arg)
{
    srv_http *h = arg;
    pthread_mutex_lock(&h->conns_lock);
    while (!h->stopping) {
        double now = srv_now();
        for (conn_rec *r = h->conns; r; r = r->next) {
            if (r->in_request || r->cut || now - r->since <= (double)r->limit)
                continue;
            r->cut = true;
            if (r->fd >= 0)
                shutdown(r->fd, SHUT_RDWR);
            srv_log(LOG_NOTICE, "closed the connection of %s (%s): %s not complete within %u s",
                    r->peer, r->tls ? "https" : "http",
                    r->tls ? "TLS handshake and request headers" : "request headers", r->limit);
        }
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        ts.tv_nsec += 200 * 1000 * 1000;
        if (ts.tv_nsec >= 1000 * 1000 * 1000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000 * 1000 * 1000;
        }
        pthread_cond_timedwait(&h->wake, &h->conns_lock, &ts);
    }
    pthread_mutex_unlock(&h->conns_lock);
    return NULL;
}

/* The headers are in: the deadline no longer applies to this request. */
static void rec_request_started(conn_rec *r)
{
    if (!r)
        return;
    pthread_mutex_lock(&r->h->conns_lock);
    r->in_request = true;
    pthread_mutex_unlock(&r->h->conns_lock);
}

/* The answer is out: a kept-alive connection may wait for its next request
 * as long as it may idle (timeout), and at least header_seconds. */
static void rec_request_done(conn_rec *r)
{
    if (!r)
        return;
    const srv_config *c = r->h->cfg;
    pthread_mutex_lock(&r->h->conns_lock);
    r->in_request = false;
    r->since = srv_now();
    r->limit = c->timeout > c->header_seconds ? c->timeout : c->header_seconds;
    pthread_mutex_unlock(&r->h->conns_lock);
}

/* ---- requests -------------------------------------------------------------- */

enum {
    R_CHALLENGE = 1, /* WWW-Authenticate: Basic */
    R_CLOSE = 2,     /* Connection: close */
    R_RETRY = 4,     /* Retry-After */
    R_GET = 8,       /* a 405 of the metrics listener: Allow: GET, HEAD */
    R_WSMAN = 16,    /* WS-Management: the challenge's realm is WSMAN */
};

/* Request framing (RFC 9112 6.1, 6.3): what both readings of a request
 * could disagree on is refused. */
typedef struct framing {
    unsigned content_length, transfer_encoding;
    bool te_not_chunked;
} framing;

static enum MHD_Result framing_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                      const char *value)
{
    (void)kind;
    framing *f = cls;
    if (strcasecmp(key, "Content-Length") == 0) {
        f->content_length++;
    } else if (strcasecmp(key, "Transfer-Encoding") == 0) {
        f->transfer_encoding++;
        if (!value || strcasecmp(value, "chunked") != 0)
            f->te_not_chunked = true;
    }
    return MHD_YES;
}

/* A response with a short text body (errors) or none. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text,
                             const char *cimerror, unsigned flags)
{
    struct MHD_Response *r =
        MHD_create_response_from_buffer(text ? strlen(text) : 0, (void *)(text ? text : ""),
                                        MHD_RESPMEM_MUST_COPY);
    if (!r)
        return MHD_NO;
    if (text)
        MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    if (cimerror)
        MHD_add_response_header(r, "CIMError", cimerror);
    if (flags & R_CHALLENGE)
        MHD_add_response_header(r, "WWW-Authenticate", (flags & R_WSMAN)
                                                           ? "Basic realm=\"WSMAN\""
                                                           : "Basic realm=\"smbcimd\"");
    if (flags & R_RETRY)
        MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
    if (flags & R_CLOSE)
        MHD_add_response_header(r, "Connection", "close");
    if (status == 405)
        MHD_add_response_header(r, "Allow", (flags & R_GET) ? "GET, HEAD" : "POST");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* 503 for a login that was not checked, with its Retry-After (seconds). */
static enum MHD_Result unavailable(struct MHD_Connection *conn, unsigned retry_after)
{
    static const char text[] = "authentication is unavailable now; retry later\n";
    struct MHD_Response *r = MHD_create_response_from_buffer(sizeof text - 1, (void *)text,
                                                             MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    char ra[16];
    snprintf(ra, sizeof ra, "%u", retry_after ? retry_after : 10);
    MHD_add_response_header(r, "Content-Type", "text/plain; charset=utf-8");
    MHD_add_response_header(r, "Retry-After", ra);
    enum MHD_Result rc = MHD_queue_response(conn, 503, r);
    MHD_destroy_response(r);
    return rc;
}

/* The request's Basic credentials through PAM (auth.c): true with cr->who
 * set; false with *ret the refusal queued: 503 + Retry-After when nothing
 * could be checked, else 401 with a challenge. */
static bool authenticate(srv_http *h, struct MHD_Connection *conn, conn_req *cr,
                         enum MHD_Result *ret, unsigned realm)
{
    const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
    unsigned retry_after = 10;
    srv_auth_result ar = srv_auth_check_retry(h->a, authz, cr->peer, &cr->who, &retry_after);
    if (ar == SRV_AUTH_UNAVAILABLE)
        *ret = unavailable(conn, retry_after);
    else if (ar != SRV_AUTH_OK)
        *ret = reply(conn, 401, ar == SRV_AUTH_MISSING ? "authentication required\n"
                                                       : "authentication failed\n",
                     NULL, R_CHALLENGE | realm);
    return ar == SRV_AUTH_OK;
}

/* The metrics listener (docs/monitoring.md): GET or HEAD of /metrics or
 * /healthz without a body, authenticated when metrics_auth; answered from
 * the headers (libmicrohttpd leaves the body out of a HEAD answer). */
static enum MHD_Result metrics_request(listener *l, struct MHD_Connection *conn, const char *url,
                                       const char *method, conn_req *cr)
{
    srv_http *h = l->h;
    if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0)
        return reply(conn, 405, "smbcimd answers GET /metrics and GET /healthz here\n", NULL,
                     R_GET);
    if (strcmp(url, "/metrics") != 0 && strcmp(url, "/healthz") != 0)
        return reply(conn, 404, "smbcimd answers GET /metrics and GET /healthz here\n", NULL, 0);
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if ((cl && strcmp(cl, "0") != 0) ||
        MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Transfer-Encoding"))
        return reply(conn, 400, "a request body is not expected here\n", NULL, R_CLOSE);
    bool full = true;
    if (h->cfg->metrics_auth) {
        enum MHD_Result refused;
        if (!authenticate(h, conn, cr, &refused, 0))
            return refused;
        full = cr->who.admin;
    }
    unsigned status = 500;
    const char *ctype = "text/plain; charset=utf-8";
    sc_buf body;
    sc_buf_init(&body);
    srv_metrics_answer(h->m, url, MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Accept"),
                       full, &status, &ctype, &body);
    size_t len = body.len;
    char *data = len ? sc_buf_take(&body) : NULL;
    sc_buf_free(&body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data ? data : (void *)"",
                                                             data ? MHD_RESPMEM_MUST_FREE
                                                                  : MHD_RESPMEM_PERSISTENT);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    MHD_add_response_header(r, "Cache-Control", "no-store");
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

/* 403 over plain HTTP: where HTTPS is (its configured port), if it is. */
static enum MHD_Result forbidden_plain(struct MHD_Connection *conn, const srv_config *c)
{
    char text[256];
    const char *colon = strrchr(c->https, ':');
    if (c->https[0] && colon)
        snprintf(text, sizeof text, "credentials are accepted over HTTPS only; use https:// "
                 "(port %s) or set allow-plain-http\n", colon + 1);
    else
        snprintf(text, sizeof text, "credentials are accepted over HTTPS only, and this server "
                 "has no HTTPS listener; set https (or allow-plain-http)\n");
    return reply(conn, 403, text, NULL, 0);
}

/* A WS-Management request's headers (docs/wsman.md): POST /wsman with a
 * SOAP body, over plain HTTP only when allowed; credentials checked now,
 * before the body is read.  A request without an Authorization header is
 * read (within the same limits) and answered only if it is an Identify
 * (wsman.c), as Windows answers an unauthenticated Identify; anything else
 * then gets 401. */
static enum MHD_Result wsman_headers(listener *l, struct MHD_Connection *conn, const char *url,
                                     const char *method, conn_req *cr)
{
    srv_http *h = l->h;
    if (strcmp(method, "POST") != 0)
        return reply(conn, 405, "smbcimd answers WS-Management on POST /wsman\n", NULL, 0);
    if (strcmp(url, "/wsman") != 0)
        return reply(conn, 404, "smbcimd answers WS-Management on POST /wsman\n", NULL, 0);
    if (!l->tls && !h->cfg->allow_plain_http) {
        srv_log(LOG_NOTICE, "refused a plain-HTTP WS-Management request from %s: "
                "credentials are taken over HTTPS only (allow-plain-http is off)", cr->peer);
        return reply(conn, 403, "credentials are accepted over HTTPS only; use the "
                     "wsman-https listener (or set allow-plain-http)\n", NULL, 0);
    }
    const char *ct = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Type");
    if (!ct || strncasecmp(ct, "application/soap+xml", 20) != 0)
        return reply(conn, 400, "Content-Type: application/soap+xml expected\n", NULL, 0);
    const char *cs = NULL;
    for (const char *q = ct; *q && !cs; q++)
        if (strncasecmp(q, "charset=", 8) == 0)
            cs = q;
    if (cs && strncasecmp(cs + 8, "utf-8", 5) != 0 && strncasecmp(cs + 8, "\"utf-8\"", 7) != 0)
        return reply(conn, 400, "only the UTF-8 charset is accepted\n", NULL, 0);
    if (!MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization")) {
        cr->anon = true;
    } else {
        enum MHD_Result refused;
        if (!authenticate(h, conn, cr, &refused, R_WSMAN))
            return refused;
    }
    const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
    if (cl && strtoull(cl, NULL, 10) > h->cfg->max_body)
        return reply(conn, 413, "request body too large\n", NULL, 0);
    return MHD_YES;
}

/* wsman-trace: the request's header lines, Authorization (and
 * Proxy-Authorization) reduced to their scheme. */
static enum MHD_Result trace_header(void *cls, enum MHD_ValueKind kind, const char *key,
                                    const char *value)
{
    (void)kind;
    sc_buf *b = cls;
    if (strcasecmp(key, "Authorization") == 0 || strcasecmp(key, "Proxy-Authorization") == 0)
        sc_buf_printf(b, "%s: %.*s (credentials removed by smbcimd)\r\n", key,
                      (int)strcspn(value, " "), value);
    else
        sc_buf_printf(b, "%s: %s\r\n", key, value);
    return MHD_YES;
}

static void trace_exchange(srv_http *h, struct MHD_Connection *conn, const conn_req *cr,
                           unsigned status, const char *ctype, unsigned flags,
                           const char *body, size_t len)
{
    sc_buf req, resp;
    sc_buf_init(&req);
    sc_buf_init(&resp);
    sc_buf_printf(&req, "POST /wsman HTTP/1.1\r\n");
    MHD_get_connection_values(conn, MHD_HEADER_KIND, trace_header, &req);
    /* who sent it, as smbcimd saw it (not a header the client sent) */
    sc_buf_printf(&req, "X-Smbcimd-Peer: %s\r\nX-Smbcimd-User: %s\r\n\r\n", cr->peer,
                  cr->anon ? "(none)" : cr->who.user);
    sc_buf_printf(&resp, "HTTP/1.1 %u %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n",
                  status, status == 200 ? "OK" : status == 401 ? "Unauthorized"
                                       : status == 400 ? "Bad Request"
                                       : "Internal Server Error",
                  ctype, len);
    if (flags & R_CHALLENGE)
        sc_buf_printf(&resp, "WWW-Authenticate: Basic realm=\"WSMAN\"\r\n");
    sc_buf_printf(&resp, "\r\n");
    srv_trace_write(h->trace, req.data, cr->body.data ? cr->body.data : "", cr->body.len,
                    resp.data, body, len);
    sc_buf_free(&req);
    sc_buf_free(&resp);
}

static enum MHD_Result wsman_answer(listener *l, struct MHD_Connection *conn, conn_req *cr)
{
    srv_http *h = l->h;
    unsigned status = 500;
    sc_buf out;
    sc_buf_init(&out);
    srv_wsman_handle(h->s, cr->anon ? NULL : &cr->who, cr->body.data ? cr->body.data : "",
                     cr->body.len, &status, &out);
    srv_expire(h->s);
    if (status == 401 || !out.len) {
        sc_buf_free(&out);
        const char *text = status == 401 ? "authentication required\n" : "request refused\n";
        unsigned flags = status == 401 ? R_CHALLENGE | R_WSMAN : 0;
        if (h->trace)
            trace_exchange(h, conn, cr, status, "text/plain; charset=utf-8", flags, text,
                           strlen(text));
        return reply(conn, status, text, NULL, flags);
    }
    static const char ctype[] = "application/soap+xml;charset=UTF-8";
    if (h->trace)
        trace_exchange(h, conn, cr, status, ctype, 0, out.data, out.len);
    size_t len = out.len;
    char *data = sc_buf_take(&out);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", ctype);
    enum MHD_Result rc = MHD_queue_response(conn, status, r);
    MHD_destroy_response(r);
    return rc;
}

static enum MHD_Result handler(void *cls, struct MHD_Connection *conn, const char *url,
                               const char *method, const char *version, const char *upload,
                               size_t *upload_size, void **con_cls)
{
    (void)version;
    listener *l = cls;
    srv_http *h = l->h;
    conn_req *cr = *con_cls;
    if (!cr) {
        cr = sc_xcalloc(1, sizeof *cr);
        sc_buf_init(&cr->body);
        cr->start = srv_now();
        peer_of(conn, cr->peer, sizeof cr->peer);
        *con_cls = cr;
        conn_rec *rec = rec_of(conn);
        rec_request_started(rec);
        if (rec && rec->over_limit) {
            srv_log(LOG_NOTICE, "refused a request from %s: over max-per-ip (%u connections "
                    "from one address)", cr->peer, h->per_ip);
            return reply(conn, 503, "too many connections from your address; retry later\n",
                         NULL, R_RETRY | R_CLOSE);
        }
        framing fr = {0};
        MHD_get_connection_values(conn, MHD_HEADER_KIND, framing_header, &fr);
        if (fr.content_length && fr.transfer_encoding) {
            srv_log(LOG_NOTICE, "refused a request from %s: both Content-Length and "
                    "Transfer-Encoding", cr->peer);
            return reply(conn, 400, "both Content-Length and Transfer-Encoding\n", NULL,
                         R_CLOSE);
        }
        if (fr.content_length > 1 || fr.transfer_encoding > 1) {
            srv_log(LOG_NOTICE, "refused a request from %s: repeated Content-Length or "
                    "Transfer-Encoding", cr->peer);
            return reply(conn, 400, "repeated Content-Length or Transfer-Encoding\n", NULL,
                         R_CLOSE);
        }
        if (fr.te_not_chunked) {
            srv_log(LOG_NOTICE, "refused a request from %s: a transfer coding other than "
                    "chunked", cr->peer);
            return reply(conn, 501, "only the chunked transfer coding is supported\n", NULL,
                         R_CLOSE);
        }
        if (l->metrics)
            return metrics_request(l, conn, url, method, cr);
        if (l->wsman)
            return wsman_headers(l, conn, url, method, cr);
        if (strcmp(method, "POST") != 0)
            return reply(conn, strcmp(method, "M-POST") == 0 ? 501 : 405,
                         "smbcimd answers CIM-XML on POST /cimom\n", NULL, 0);
        if (strcmp(url, "/cimom") != 0)
            return reply(conn, 404, "smbcimd answers CIM-XML on POST /cimom\n", NULL, 0);
        if (!l->tls && !h->cfg->allow_plain_http) {
            srv_log(LOG_NOTICE, "refused a plain-HTTP request from %s: credentials are taken "
                    "over HTTPS only (allow-plain-http is off)", cr->peer);
            return forbidden_plain(conn, h->cfg);
        }
        enum MHD_Result refused;
        if (!authenticate(h, conn, cr, &refused, 0))
            return refused;
        const char *op = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMOperation");
        if (!op || strcasecmp(op, "MethodCall") != 0)
            return reply(conn, 400, "CIMOperation: MethodCall expected\n",
                         "unsupported-operation", 0);
        if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMBatch"))
            return reply(conn, 501, "batched requests are not supported\n",
                         "multiple-requests-unsupported", 0);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->cfg->max_body)
            return reply(conn, 413, "request body too large\n", NULL, 0);
        return MHD_YES; /* 100 Continue, if asked, goes out now */
    }
    if (*upload_size) {
        /* libmicrohttpd takes no response in the middle of a body: a body
         * that grows too big is read on and dropped, then refused (413); one
         * that arrives too slowly gets its connection closed. */
        if (srv_now() - cr->start > h->cfg->request_seconds) {
            srv_log(LOG_NOTICE, "closed the connection of %s: body not received within %u s",
                    cr->peer, h->cfg->request_seconds);
            return MHD_NO;
        }
        if (!cr->too_big && cr->body.len + *upload_size > h->cfg->max_body) {
            srv_log(LOG_NOTICE, "refused a request from %s: body over %zu bytes", cr->peer,
                    h->cfg->max_body);
            cr->too_big = true;
            sc_buf_free(&cr->body);
        }
        if (!cr->too_big)
            sc_buf_add(&cr->body, upload, *upload_size);
        *upload_size = 0;
        return MHD_YES;
    }
    if (cr->too_big)
        return reply(conn, 413, "request body too large\n", NULL, 0);
    if (srv_now() - cr->start > h->cfg->request_seconds)
        return reply(conn, 408, "request body too slow\n", NULL, 0);
    if (l->wsman)
        return wsman_answer(l, conn, cr);
    srv_response resp;
    srv_handle(h->s, &cr->who,
               MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMMethod"),
               MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMObject"),
               cr->body.data ? cr->body.data : "", cr->body.len, &resp);
    srv_expire(h->s);
    if (resp.http_status != 200) {
        sc_buf_free(&resp.body);
        return reply(conn, (unsigned)resp.http_status, "request refused\n", resp.cimerror, 0);
    }
    size_t len = resp.body.len;
    char *data = sc_buf_take(&resp.body);
    struct MHD_Response *r = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(r, "Content-Type", "application/xml; charset=\"utf-8\"");
    MHD_add_response_header(r, "CIMOperation", "MethodResponse");
    enum MHD_Result rc = MHD_queue_response(conn, 200, r);
    MHD_destroy_response(r);
    return rc;
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    (void)cls;
    (void)toe;
    rec_request_done(rec_of(conn));
    conn_req *cr = *con_cls;
    if (!cr)
        return;
    sc_buf_free(&cr->body);
    explicit_bzero(&cr->who, sizeof cr->who);
    free(cr);
    *con_cls = NULL;
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
    (void)cls;
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    size_t n = strlen(line);
    while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
        line[--n] = '\0';
    srv_log(LOG_NOTICE, "http: %s", line);
}

/* ---- certificates -------------------------------------------------------------- */

/* A certificate chain and its key, as the TLS handshake hands them out
 * (cert_cb).  Never freed while the server runs (a reload retires it), as
 * a handshake that got it may still use it. */
typedef struct tls_cred {
    gnutls_pcert_st pcert[16];
    unsigned npcert;
    gnutls_privkey_t key;
    struct tls_cred *next;     /* on srv_http's retired list */
} tls_cred;

static void cred_free(tls_cred *t)
{
    if (!t)
        return;
    for (unsigned i = 0; i < t->npcert; i++)
        gnutls_pcert_deinit(&t->pcert[i]);
    if (t->key)
        gnutls_privkey_deinit(t->key);
    free(t);
}

static bool read_pem(const char *path, const char *what, sc_buf *b, char *why, size_t whylen)
{
    sc_buf_init(b);
    if (!sc_read_file(path, 1024 * 1024, b)) {
        snprintf(why, whylen, "cannot read the %s %s: %s", what, path, strerror(errno));
        sc_buf_free(b);
        return false;
    }
    if (!b->data || !strstr(b->data, "-----BEGIN ")) {
        snprintf(why, whylen, "the %s %s is not PEM (no -----BEGIN line)", what, path);
        sc_buf_free(b);
        return false;
    }
    return true;
}

/* Whether key is the private half of cert_pub (their DER encodings). */
static bool same_public_key(gnutls_pubkey_t cert_pub, gnutls_privkey_t key)
{
    gnutls_pubkey_t kp;
    if (gnutls_pubkey_init(&kp) < 0)
        return false;
    gnutls_datum_t x = {NULL, 0}, y = {NULL, 0};
    bool same = gnutls_pubkey_import_privkey(kp, key, 0, 0) >= 0 &&
                gnutls_pubkey_export2(kp, GNUTLS_X509_FMT_DER, &x) >= 0 &&
                gnutls_pubkey_export2(cert_pub, GNUTLS_X509_FMT_DER, &y) >= 0 &&
                x.size == y.size && memcmp(x.data, y.data, x.size) == 0;
    gnutls_free(x.data);
    gnutls_free(y.data);
    gnutls_pubkey_deinit(kp);
    return same;
}

static tls_cred *cred_load(const char *cert, const char *key, char *why, size_t whylen)
{
    if (!cert || !key) {
        snprintf(why, whylen, "TLS needs a certificate and a key (cert, key)");
        return NULL;
    }
    tls_cred *t = sc_xcalloc(1, sizeof *t);
    sc_buf pem;
    if (!read_pem(cert, "certificate", &pem, why, whylen))
        goto fail;
    gnutls_datum_t d = {(unsigned char *)pem.data, (unsigned)pem.len};
    unsigned n = sizeof t->pcert / sizeof t->pcert[0];
    int r = gnutls_pcert_list_import_x509_raw(t->pcert, &n, &d, GNUTLS_X509_FMT_PEM, 0);
    sc_buf_free(&pem);
    if (r < 0 || n == 0) {
        snprintf(why, whylen, "cannot load the certificate %s: %s", cert,
                 r < 0 ? gnutls_strerror(r) : "no certificate in it");
        goto fail;
    }
    t->npcert = n;
    if (!read_pem(key, "key", &pem, why, whylen))
        goto fail;
    d = (gnutls_datum_t){(unsigned char *)pem.data, (unsigned)pem.len};
    r = gnutls_privkey_init(&t->key);
    if (r >= 0)
        r = gnutls_privkey_import_x509_raw(t->key, &d, GNUTLS_X509_FMT_PEM, NULL, 0);
    explicit_bzero(pem.data, pem.len);
    sc_buf_free(&pem);
    if (r < 0) {
        snprintf(why, whylen, "cannot load the key %s: %s", key, gnutls_strerror(r));
        goto fail;
    }
    if (!same_public_key(t->pcert[0].pubkey, t->key)) {
        snprintf(why, whylen, "the key %s does not belong to the certificate %s", key, cert);
        goto fail;
    }
    return t;
fail:
    cred_free(t);
    return NULL;
}

bool srv_tls_check(const char *cert, const char *key, char *why, size_t whylen)
{
    tls_cred *t = cred_load(cert, key, why, whylen);
    cred_free(t);
    return t != NULL;
}

/* "SHA-256 AB:CD:...; expires 2027-01-31" of the first certificate, and a
 * warning when it has expired or will within 30 days. */
static void cred_describe(const tls_cred *t, const char *path, const char *what)
{
    unsigned char md[32];
    char fp[3 * 32 + 1] = "";
    if (gnutls_hash_fast(GNUTLS_DIG_SHA256, t->pcert[0].cert.data, t->pcert[0].cert.size,
                         md) >= 0)
        for (int i = 0; i < 32; i++)
            snprintf(fp + 3 * i, sizeof fp - (size_t)(3 * i), "%02X%s", md[i], i < 31 ? ":" : "");
    time_t expires = (time_t)-1;
    gnutls_x509_crt_t crt;
    if (gnutls_x509_crt_init(&crt) >= 0) {
        if (gnutls_x509_crt_import(crt, &t->pcert[0].cert, GNUTLS_X509_FMT_DER) >= 0)
            expires = gnutls_x509_crt_get_expiration_time(crt);
        gnutls_x509_crt_deinit(crt);
    }
    char day[32] = "?";
    struct tm tm;
    if (expires != (time_t)-1 && gmtime_r(&expires, &tm))
        strftime(day, sizeof day, "%Y-%m-%d %H:%M UTC", &tm);
    srv_log(LOG_INFO, "%s the certificate %s (SHA-256 %s; expires %s)", what, path, fp, day);
    time_t now = time(NULL);
    if (expires != (time_t)-1 && expires < now)
        srv_log(LOG_WARNING, "the certificate %s expired on %s: clients that check it will "
                "refuse to connect", path, day);
    else if (expires != (time_t)-1 && expires - now < 30 * 86400)
        srv_log(LOG_WARNING, "the certificate %s expires on %s, in less than 30 days", path,
                day);
}

/* libmicrohttpd hands GnuTLS this callback (MHD_OPTION_HTTPS_CERT_CALLBACK),
 * which has no closure argument: the server whose certificate it gives is
 * this one, set before the listeners start (one srv_http per process). */
static srv_http *tls_owner;

static int cert_cb(gnutls_session_t session, const gnutls_datum_t *req_ca_dn, int nreqs,
                   const gnutls_pk_algorithm_t *pk_algos, int pk_algos_length,
                   gnutls_pcert_st **pcert, unsigned int *pcert_length, gnutls_privkey_t *pkey)
{
    (void)session, (void)req_ca_dn, (void)nreqs, (void)pk_algos, (void)pk_algos_length;
    srv_http *h = tls_owner;
    if (!h)
        return -1;
    pthread_mutex_lock(&h->cred_lock);
    tls_cred *t = h->cred;
    if (t) {
        *pcert = t->pcert;
        *pcert_length = t->npcert;
        *pkey = t->key;
    }
    pthread_mutex_unlock(&h->cred_lock);
    return t ? 0 : -1;
}

bool srv_http_reload_tls(srv_http *h)
{
    if (!h->cred)
        return true; /* no TLS listener */
    char why[512];
    tls_cred *t = cred_load(h->cfg->cert, h->cfg->key, why, sizeof why);
    if (!t) {
        srv_log(LOG_ERR, "SIGHUP: the certificate was not reloaded (%s); the old one stays",
                why);
        return false;
    }
    pthread_mutex_lock(&h->cred_lock);
    tls_cred *old = h->cred;
    h->cred = t;
    old->next = h->retired;
    h->retired = old;
    pthread_mutex_unlock(&h->cred_lock);
    cred_describe(t, h->cfg->cert, "SIGHUP: new TLS connections get");
    return true;
}

/* ---- listeners ------------------------------------------------------------------- */

/* A listening socket on spec, or -1 with why ("cannot listen on ..."). */
static int listen_fd(const char *spec, const char *what, char *why, size_t whylen)
{
    struct sockaddr_storage ss;
    unsigned slen;
    char e[200];
    if (!srv_parse_listen(spec, &ss, &slen, e, sizeof e)) {
        snprintf(why, whylen, "cannot listen on %s (%s): %s", spec, what, e);
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(why, whylen, "cannot listen on %s (%s): %s", spec, what, strerror(errno));
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (ss.ss_family == AF_INET6)
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&ss, slen) != 0 || listen(fd, SOMAXCONN) != 0) {
        snprintf(why, whylen, "cannot listen on %s (%s): %s", spec, what, strerror(errno));
        close(fd);
        return -1;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return fd;
}

bool srv_http_bind(const srv_config *c, int *fds)
{
    char why[512];
    const char *specs[SRV_LISTENERS] = {c->https, c->http, c->metrics, c->wsman_https,
                                        c->wsman_http};
    const char *whats[SRV_LISTENERS] = {"https", "http", "metrics", "wsman-https",
                                        "wsman-http"};
    for (int i = 0; i < SRV_LISTENERS; i++)
        fds[i] = -1;
    for (int i = 0; i < SRV_LISTENERS; i++) {
        if (!specs[i][0])
            continue;
        fds[i] = listen_fd(specs[i], whats[i], why, sizeof why);
        if (fds[i] < 0) {
            srv_log(LOG_ERR, "%s", why);
            srv_http_unbind(fds);
            return false;
        }
    }
    return true;
}

void srv_http_unbind(int *fds)
{
    for (int i = 0; i < SRV_LISTENERS; i++)
        if (fds[i] >= 0) {
            close(fds[i]);
            fds[i] = -1;
        }
}

bool srv_listen_check(const char *spec, const char *what, char *why, size_t whylen)
{
    int fd = listen_fd(spec, what, why, whylen);
    if (fd < 0)
        return false;
    close(fd);
    return true;
}

/* Starts libmicrohttpd on the listening socket fd (which it then owns). */
static bool start_one(srv_http *h, listener *l, const char *spec, bool tls, int fd)
{
    struct sockaddr_storage ss;
    unsigned slen;
    char why[256];
    if (!srv_parse_listen(spec, &ss, &slen, why, sizeof why)) {
        srv_log(LOG_ERR, "%s", why);
        close(fd);
        return false;
    }
    l->h = h;
    l->tls = tls;
    unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD |
                     MHD_USE_ERROR_LOG;
    if (ss.ss_family == AF_INET6)
        flags |= MHD_USE_IPv6;
    if (tls)
        flags |= MHD_USE_TLS;
    const srv_config *c = h->cfg;
    /* The certificate comes from cert_cb at each handshake, so that a
     * reload reaches new connections without a restart. */
    struct MHD_OptionItem tlsopts[] = {
        {MHD_OPTION_HTTPS_CERT_CALLBACK, 0, (void *)cert_cb},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)c->tls_priority},
        {MHD_OPTION_END, 0, NULL},
    };
    /* A backstop: the connections beyond h->per_ip get a 503, these are
     * dropped at accept. */
    unsigned hard_per_ip = h->per_ip + h->per_ip / 4 + 1;
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    l->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_LISTEN_SOCKET, fd,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, hard_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn, l,
        MHD_OPTION_ARRAY, tls ? tlsopts : none, MHD_OPTION_END);
    if (!l->d) {
        /* (libmicrohttpd may have closed fd: it is not closed again) */
        srv_log(LOG_ERR, "cannot start the listener on %s (%s)", spec, tls ? "https" : "http");
        return false;
    }
    srv_log(LOG_INFO, "listening on %s (%s)", spec,
            l->metrics  ? (tls ? "metrics, TLS" : "metrics")
            : l->wsman ? (tls ? "WS-Management, https" : "WS-Management, http")
            : tls      ? "https"
                       : "http");
    return true;
}

srv_http *srv_http_start(const srv_config *c, srv *s, srv_auth *a, int *fds)
{
    srv_http *h = sc_xcalloc(1, sizeof *h);
    h->cfg = c;
    h->s = s;
    h->a = a;
    pthread_mutex_init(&h->conns_lock, NULL);
    pthread_mutex_init(&h->cred_lock, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&h->wake, &ca);
    pthread_condattr_destroy(&ca);
    /* One address may hold at most half of a listener's connections. */
    unsigned half = c->max_connections / 2 ? c->max_connections / 2 : 1;
    h->per_ip = c->max_per_ip ? c->max_per_ip : 1;
    if (h->per_ip > half) {
        srv_log(LOG_NOTICE, "max-per-ip %u is more than half of max-connections %u: "
                "using %u, to leave room for other clients", c->max_per_ip,
                c->max_connections, half);
        h->per_ip = half;
    }
    int e = pthread_create(&h->watchdog, NULL, watchdog, h);
    if (e != 0) {
        srv_log(LOG_ERR, "cannot start the connection watchdog: %s", strerror(e));
        srv_http_unbind(fds);
        srv_http_stop(h);
        return NULL;
    }
    h->watchdog_running = true;
    char why[512];
    if (c->https[0] || c->wsman_https[0] || (c->metrics[0] && c->metrics_tls)) {
        h->cred = cred_load(c->cert, c->key, why, sizeof why);
        if (!h->cred) {
            srv_log(LOG_ERR, "https: %s", why);
            srv_http_unbind(fds);
            srv_http_stop(h);
            return NULL;
        }
        tls_owner = h;
    }
    const char *specs[SRV_LISTENERS] = {c->https, c->http, c->metrics, c->wsman_https,
                                        c->wsman_http};
    bool ok = true;
    if (fds[0] >= 0)
        ok = start_one(h, &h->tls, c->https, true, fds[0]);
    if (fds[1] >= 0) {
        if (ok)
            ok = start_one(h, &h->plain, c->http, false, fds[1]);
        else
            close(fds[1]);
    }
    if (fds[2] >= 0) {
        if (ok) {
            h->m = srv_metrics_new(c, s);
            h->metrics.metrics = true;
            ok = start_one(h, &h->metrics, c->metrics, c->metrics_tls, fds[2]);
        } else {
            close(fds[2]);
        }
    }
    listener *wl[2] = {&h->wsman_tls, &h->wsman_plain};
    for (int i = 0; i < 2; i++) {
        if (fds[3 + i] < 0)
            continue;
        if (ok) {
            wl[i]->wsman = true;
            ok = start_one(h, wl[i], specs[3 + i], i == 0, fds[3 + i]);
        } else {
            close(fds[3 + i]);
        }
    }
    if (!ok) {
        srv_http_stop(h);
        return NULL;
    }
    if (c->wsman_trace && c->wsman_trace[0] && (c->wsman_https[0] || c->wsman_http[0])) {
        h->trace = srv_trace_open(c->wsman_trace);
        if (!h->trace) { /* asked for: no silent run without it */
            srv_http_stop(h);
            return NULL;
        }
    }
    if (h->cred)
        cred_describe(h->cred, c->cert, "TLS connections get");
    return h;
}

void srv_http_stop(srv_http *h)
{
    if (!h)
        return;
    if (h->watchdog_running) {
        pthread_mutex_lock(&h->conns_lock);
        h->stopping = true;
        pthread_cond_signal(&h->wake);
        pthread_mutex_unlock(&h->conns_lock);
        pthread_join(h->watchdog, NULL);
    }
    if (h->plain.d)
        MHD_stop_daemon(h->plain.d);
    if (h->tls.d)
        MHD_stop_daemon(h->tls.d);
    if (h->metrics.d)
        MHD_stop_daemon(h->metrics.d);
    if (h->wsman_plain.d)
        MHD_stop_daemon(h->wsman_plain.d);
    if (h->wsman_tls.d)
        MHD_stop_daemon(h->wsman_tls.d);
    srv_metrics_free(h->m);
    srv_trace_close(h->trace);
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->conns_lock);
    if (tls_owner == h)
        tls_owner = NULL;
    cred_free(h->cred);
    while (h->retired) {
        tls_cred *t = h->retired;
        h->retired = t->next;
        cred_free(t);
    }
    pthread_mutex_destroy(&h->cred_lock);
    free(h);
}
