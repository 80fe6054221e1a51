/*
 * http.c - the HTTP and HTTPS listeners (libmicrohttpd, one thread per
 * connection, TLS through GnuTLS).
 *
 * Every request passes, before its body is read (so that a refused
 * "Expect: 100-continue" upload is never received):
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
 * memory), connections in all and per client address.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <syslog.h>

#include "smbcimd/smbcimd.h"

typedef struct listener {
    struct srv_http *h;
    bool tls;
    struct MHD_Daemon *d;
} listener;

struct srv_http {
    const srv_config *cfg;
    srv *s;
    srv_auth *a;
    listener plain, tls;
    char *cert_pem, *key_pem;
};

typedef struct conn_req {
    sc_buf body;
    bool too_big;        /* over max_body: the rest is read and dropped */
    double start;
    srv_identity who;
    char peer[64];
} conn_req;

static void peer_of(struct MHD_Connection *conn, char *out, size_t len)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    snprintf(out, len, "?");
    if (!ci || !ci->client_addr)
        return;
    const struct sockaddr *sa = ci->client_addr;
    if (sa->sa_family == AF_INET)
        inet_ntop(AF_INET, &((const struct sockaddr_in *)(const void *)sa)->sin_addr, out,
                  (socklen_t)len);
    else if (sa->sa_family == AF_INET6)
        inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr, out,
                  (socklen_t)len);
}

/* A response with a short text body (errors) or none. */
static enum MHD_Result reply(struct MHD_Connection *conn, unsigned status, const char *text,
                             const char *cimerror, bool auth_challenge)
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
    if (auth_challenge)
        MHD_add_response_header(r, "WWW-Authenticate", "Basic realm=\"smbcimd\"");
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
        if (strcmp(method, "POST") != 0)
            return reply(conn, strcmp(method, "M-POST") == 0 ? 501 : 405,
                         "smbcimd answers CIM-XML on POST /cimom\n", NULL, false);
        if (strcmp(url, "/cimom") != 0)
            return reply(conn, 404, "smbcimd answers CIM-XML on POST /cimom\n", NULL, false);
        const char *authz = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Authorization");
        if (!l->tls && !h->cfg->allow_plain_http) {
            srv_log(LOG_NOTICE, "refused a plain-HTTP request from %s: credentials are taken "
                    "over HTTPS only (allow-plain-http is off)", cr->peer);
            return reply(conn, 403,
                         "credentials are accepted over HTTPS only; use https:// (port 5989) "
                         "or set allow-plain-http\n", NULL, false);
        }
        srv_auth_result ar = srv_auth_check(h->a, authz, cr->peer, &cr->who);
        if (ar != SRV_AUTH_OK)
            return reply(conn, 401, ar == SRV_AUTH_MISSING ? "authentication required\n"
                                                           : "authentication failed\n",
                         NULL, true);
        const char *op = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMOperation");
        if (!op || strcasecmp(op, "MethodCall") != 0)
            return reply(conn, 400, "CIMOperation: MethodCall expected\n",
                         "unsupported-operation", false);
        if (MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMBatch"))
            return reply(conn, 501, "batched requests are not supported\n",
                         "multiple-requests-unsupported", false);
        const char *cl = MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "Content-Length");
        if (cl && strtoull(cl, NULL, 10) > h->cfg->max_body)
            return reply(conn, 413, "request body too large\n", NULL, false);
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
        return reply(conn, 413, "request body too large\n", NULL, false);
    if (srv_now() - cr->start > h->cfg->request_seconds)
        return reply(conn, 408, "request body too slow\n", NULL, false);
    srv_response resp;
    srv_handle(h->s, &cr->who,
               MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMMethod"),
               MHD_lookup_connection_value(conn, MHD_HEADER_KIND, "CIMObject"),
               cr->body.data ? cr->body.data : "", cr->body.len, &resp);
    srv_expire(h->s);
    if (resp.http_status != 200) {
        sc_buf_free(&resp.body);
        return reply(conn, (unsigned)resp.http_status, "request refused\n", resp.cimerror,
                     false);
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
    (void)conn;
    (void)toe;
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
        {MHD_OPTION_END, 0, NULL},
    };
    struct MHD_OptionItem none[] = {{MHD_OPTION_END, 0, NULL}};
    l->d = MHD_start_daemon(
        flags, 0, NULL, NULL, handler, l, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT, (unsigned)c->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, (unsigned)c->max_per_ip,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)c->timeout,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)(64 * 1024),
        MHD_OPTION_NOTIFY_COMPLETED, completed, NULL, MHD_OPTION_ARRAY, tls ? tlsopts : none, MHD_OPTION_END);
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
    if (h->plain.d)
        MHD_stop_daemon(h->plain.d);
    if (h->tls.d)
        MHD_stop_daemon(h->tls.d);
    if (h->key_pem)
        explicit_bzero(h->key_pem, strlen(h->key_pem));
    free(h->key_pem);
    free(h->cert_pem);
    free(h);
}
