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
 */
#include <arpa/inet.h>
#include <errno.h>
#include <gnutls/gnutls.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>

#include "smbcimd/smbcimd.h"

typedef struct listener {
    struct srv_http *h;
    bool tls;
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
    listener plain, tls;
    char *cert_pem, *key_pem;
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
        MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"smbcimd\"");
    if (flags & R_RETRY)
        MHD_add_response_header(r, "Retry-After", RETRY_AFTER);
    if (flags & R_CLOSE)
        MHD_add_response_header(r, "Connection", "close");
    if (status == 405)
        MHD_add_response_header(r, "Allow", "POST");
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
        if (strcmp(method, "POST") != 0)
            return reply(conn, strcmp(method, "M-POST") == 0 ? 501 : 405,
                         "smbcimd answers CIM-XML on POST /cimom\n", NULL, 0);
        if (strcmp(url, "/cimom") != 0)
            return reply(conn, 404, "smbcimd answers CIM-XML on POST /cimom\n", NULL, 0);
        const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (!l->tls && !h->cfg->allow_plain_http) {
            srv_log(LOG_NOTICE, "refused a plain-HTTP request from %s: credentials are taken "
                    "over HTTPS only (allow-plain-http is off)", cr->peer);
            return reply(conn, 403,
                         "credentials are accepted over HTTPS only; use https:// (port 5989) "
                         "or set allow-plain-http\n", NULL, 0);
        }
        srv_auth_result ar = srv_auth_check(h->a, authz, cr->peer, &cr->who);
        if (ar == SRV_AUTH_UNAVAILABLE)
            return reply(conn, 503, "authentication is unavailable; retry later\n", NULL,
                         R_RETRY);
        if (ar != SRV_AUTH_OK)
            return reply(conn, 401, ar == SRV_AUTH_MISSING ? "authentication required\n"
                                                           : "authentication failed\n",
                         NULL, R_CHALLENGE);
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

static char *slurp(const char *path, char *why, size_t whylen)
{
    sc_buf b;
    sc_buf_init(&b);
    if (!sc_read_file(path, 1024 * 1024, &b)) {
        snprintf(why, whylen, "cannot read %s: %s", path, strerror(errno));
        sc_buf_free(&b);
        return NULL;
    }
    return sc_buf_take(&b);
}

static bool start_one(srv_http *h, listener *l, const char *spec, bool tls)
{
    struct sockaddr_storage ss;
    unsigned slen;
    char why[256];
    if (!srv_parse_listen(spec, &ss, &slen, why, sizeof why)) {
        srv_log(LOG_ERR, "%s", why);
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
    struct MHD_OptionItem tlsopts[] = {
        {MHD_OPTION_HTTPS_MEM_KEY, 0, h->key_pem},
        {MHD_OPTION_HTTPS_MEM_CERT, 0, h->cert_pem},
        {MHD_OPTION_HTTPS_PRIORITIES, 0, (void *)c->tls_priority},
        {MHD_OPTION_END, 0, NULL},
    };
    /* A backstop: the connections beyond h->per_ip get a 503, these are
     * dropped at accept. */
    unsigned hard_per_ip = h->per_ip + h->per_ip / 4 + 1;
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    l->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, hard_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL,
        MHD_OPTION_NOTIFY_CONNECTION, notify_conn, l,
        MHD_OPTION_ARRAY, tls ? tlsopts : none, MHD_OPTION_END);
    if (!l->d) {
        srv_log(LOG_ERR, "cannot listen on %s (%s): %s", spec, tls ? "https" : "http",
                strerror(errno));
        return false;
    }
    srv_log(LOG_INFO, "listening on %s (%s)", spec, tls ? "https" : "http");
    return true;
}

srv_http *srv_http_start(const srv_config *c, srv *s, srv_auth *a)
{
    srv_http *h = sc_xcalloc(1, sizeof *h);
    h->cfg = c;
    h->s = s;
    h->a = a;
    pthread_mutex_init(&h->conns_lock, NULL);
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
        srv_http_stop(h);
        return NULL;
    }
    h->watchdog_running = true;
    char why[512];
    if (c->https[0]) {
        h->cert_pem = slurp(c->cert, why, sizeof why);
        h->key_pem = h->cert_pem ? slurp(c->key, why, sizeof why) : NULL;
        if (!h->cert_pem || !h->key_pem) {
            srv_log(LOG_ERR, "https: %s", why);
            srv_http_stop(h);
            return NULL;
        }
        if (!start_one(h, &h->tls, c->https, true)) {
            srv_http_stop(h);
            return NULL;
        }
    }
    if (c->http[0] && !start_one(h, &h->plain, c->http, false)) {
        srv_http_stop(h);
        return NULL;
    }
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
    pthread_cond_destroy(&h->wake);
    pthread_mutex_destroy(&h->conns_lock);
    if (h->key_pem)
        explicit_bzero(h->key_pem, strlen(h->key_pem));
    free(h->key_pem);
    free(h->cert_pem);
    free(h);
}
