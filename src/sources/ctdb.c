/*
 * ctdb.c - a cluster-wide, read-only traverse of CTDB's clustered volatile
 * databases through ctdbd's Unix socket: what smbstatus does on a cluster
 * node (source3/lib/ctdbd_conn.c: ctdbd_traverse), in process.
 *
 * The CTDB client protocol (docs/live-source.md, "Clustered Samba";
 * Samba's ctdb/protocol/ and ctdb/include/ctdb_protocol.h): packets in host
 * byte order, each a 32-byte header (length, magic "CTDB", version 1,
 * generation, operation, destnode, srcnode, reqid) and a body.  ctdbd pads
 * what it sends to 8 bytes, so sizes come from the bodies' own length
 * fields.  The sequence, on one connection of our own:
 *
 *   GET_PNN                    this node's number (its smbd pids are ours)
 *   GET_NODEMAP                every node and its flags (for the messages)
 *   REGISTER_SRVID S           where the records are to be sent
 *   GET_DBMAP, GET_DBNAME...   the databases' ids, without attaching (an
 *                              attach would create a missing database)
 *   TRAVERSE_START {id, R, S}  per database, all at once; ctdbd asks every active node,
 *                              each sends the records it is dmaster of
 *                              (no stale copies, no header-only records)
 *   REQ_MESSAGE to S           one per record: {length, reqid R, keylen,
 *                              datalen, key, 24-byte ltdb header + value};
 *                              keylen = datalen = 0 ends the traverse
 *
 * The parsers of what ctdbd sends (sc_ctdb_parse_packet, _nodemap, _dbmap)
 * are pure and fuzzed (tests/fuzz/fuzz_ctdb.c).  Everything waits at most
 * until the caller's deadline.  ctdbd's own TraverseTimeout (20 s by
 * default) ends a traverse that a node does not answer with the ordinary
 * end marker, a partial answer that looks whole: a traverse that took that
 * long is therefore refused as incomplete.
 */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "sources/sources.h"

#define CTDB_MAGIC 0x43544442u
#define CTDB_PROTOCOL 1u
#define OP_REQ_MESSAGE 5u
#define OP_REQ_CONTROL 7u
#define OP_REPLY_CONTROL 8u
#define CTDB_CURRENT_NODE 0xF0000001u
#define CTL_PROCESS_EXISTS 0u
#define CTL_GET_DBMAP 9u
#define CTL_TRAVERSE_START 20u
#define CTL_REGISTER_SRVID 23u
#define CTL_GET_DBNAME 25u
#define CTL_GET_PNN 35u
#define CTL_GET_NODEMAP 91u
#define CTL_CHECK_PID_SRVID 151u
#define UNIQUE_NOT_TO_VERIFY 0xFFFFFFFFFFFFFFFFull /* Samba's SERVERID_UNIQUE_ID_NOT_TO_VERIFY */
#define IN_FLIGHT 128u   /* liveness controls sent before their replies are read */
#define SRVID_CLIENT_RANGE 0xBE00000000000000ull
#define HDR 32u          /* struct ctdb_req_header */
#define CONTROL_FIXED 60u /* offsetof(struct ctdb_req_control_old, data) */
#define REPLY_FIXED 44u
#define MESSAGE_FIXED 44u
#define REC_FIXED 16u
#define LTDB_HEADER 24u
#define MAX_PACKET (64u * 1024 * 1024) /* a locking record with many opens fits */
/* A node's flags in the node map (ctdb_protocol.h NODE_FLAGS_*) */
#define NODE_DISCONNECTED 0x01u
#define NODE_UNHEALTHY 0x02u
#define NODE_DISABLED 0x04u /* administratively */
#define NODE_BANNED 0x08u
#define NODE_DELETED 0x10u
#define NODE_STOPPED 0x20u
#define NODE_GONE (NODE_DISCONNECTED | NODE_DELETED)            /* cannot be asked */
#define NODE_INACTIVE (NODE_GONE | NODE_BANNED | NODE_STOPPED) /* serves no clients */
/* ctdbd's TraverseTimeout default: a traverse this slow may have been cut */
#define TRAVERSE_TIMEOUT 20.0

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

static uint64_t get64(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

static void put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
    memcpy(p, &v, 8);
}

static bool bad(char *why, size_t n, const char *fmt, unsigned long a, unsigned long b)
{
    snprintf(why, n, fmt, a, b);
    return false;
}

bool sc_ctdb_parse_packet(const uint8_t *p, size_t len, sc_ctdb_packet *out, char *why,
                          size_t whylen)
{
    memset(out, 0, sizeof *out);
    if (len < HDR)
        return bad(why, whylen, "a packet of %lu bytes, shorter than its header (%lu)",
                   (unsigned long)len, HDR);
    uint32_t plen = get32(p);
    if (plen != len)
        return bad(why, whylen, "a packet whose length field says %lu bytes, not %lu",
                   (unsigned long)plen, (unsigned long)len);
    if (get32(p + 4) != CTDB_MAGIC || get32(p + 8) != CTDB_PROTOCOL)
        return bad(why, whylen, "not a CTDB packet (magic 0x%08lx, version %lu)",
                   (unsigned long)get32(p + 4), (unsigned long)get32(p + 8));
    out->operation = get32(p + 16);
    out->reqid = get32(p + 28);
    if (out->operation == OP_REPLY_CONTROL) {
        if (len < REPLY_FIXED)
            return bad(why, whylen, "a control reply of %lu bytes (at least %lu)",
                       (unsigned long)len, REPLY_FIXED);
        out->status = (int32_t)get32(p + 32);
        uint32_t dl = get32(p + 36), el = get32(p + 40);
        if (dl > len - REPLY_FIXED || el > len - REPLY_FIXED - dl)
            return bad(why, whylen, "a control reply with %lu bytes of data and error in a "
                       "packet of %lu", (unsigned long)dl + el, (unsigned long)len);
        out->data = p + REPLY_FIXED;
        out->datalen = dl;
        out->error = p + REPLY_FIXED + dl;
        out->errorlen = el;
        return true;
    }
    if (out->operation == OP_REQ_MESSAGE) {
        if (len < MESSAGE_FIXED)
            return bad(why, whylen, "a message of %lu bytes (at least %lu)",
                       (unsigned long)len, MESSAGE_FIXED);
        out->srvid = get64(p + 32);
        uint32_t dl = get32(p + 40);
        if (dl > len - MESSAGE_FIXED)
            return bad(why, whylen, "a message with %lu bytes of data in a packet of %lu",
                       (unsigned long)dl, (unsigned long)len);
        out->data = p + MESSAGE_FIXED;
        out->datalen = dl;
        /* a traverse record: {length, reqid, keylen, datalen, key, data} */
        if (dl < REC_FIXED)
            return true; /* some other message: not a record */
        const uint8_t *r = out->data;
        uint32_t rl = get32(r), kl = get32(r + 8), vl = get32(r + 12);
        if (rl != dl || kl > dl - REC_FIXED || vl != dl - REC_FIXED - kl)
            return bad(why, whylen, "a traverse record whose lengths (%lu in all) do not "
                       "add up to its message's %lu bytes", (unsigned long)rl,
                       (unsigned long)dl);
        out->is_record = true;
        out->rec_reqid = get32(r + 4);
        out->key = r + REC_FIXED;
        out->keylen = kl;
        out->value = r + REC_FIXED + kl;
        out->valuelen = vl;
        out->end = kl == 0 && vl == 0;
        return true;
    }
    return true; /* other operations: the caller ignores them */
}

bool sc_ctdb_parse_nodemap(const uint8_t *p, size_t len, uint32_t *pnns, uint32_t *flags,
                           size_t max, size_t *n, char *why, size_t whylen)
{
    *n = 0;
    if (len < 4)
        return bad(why, whylen, "a node map of %lu bytes (at least %lu)", (unsigned long)len, 4);
    uint32_t num = get32(p);
    if (num > max || (size_t)num * 36 != len - 4)
        return bad(why, whylen, "a node map of %lu nodes in %lu bytes", (unsigned long)num,
                   (unsigned long)len);
    for (uint32_t i = 0; i < num; i++) {
        pnns[i] = get32(p + 4 + 36 * i);
        flags[i] = get32(p + 8 + 36 * i);
    }
    *n = num;
    return true;
}

bool sc_ctdb_parse_dbmap(const uint8_t *p, size_t len, uint32_t *ids, size_t max, size_t *n,
                         char *why, size_t whylen)
{
    *n = 0;
    if (len < 4)
        return bad(why, whylen, "a database map of %lu bytes (at least %lu)", (unsigned long)len,
                   4);
    uint32_t num = get32(p);
    if (num > max || (size_t)num * 8 != len - 4)
        return bad(why, whylen, "a database map of %lu databases in %lu bytes",
                   (unsigned long)num, (unsigned long)len);
    for (uint32_t i = 0; i < num; i++)
        ids[i] = get32(p + 4 + 8 * i);
    *n = num;
    return true;
}

/* ---- the connection ------------------------------------------------------ */

typedef struct conn {
    int fd;
    double deadline;   /* CLOCK_MONOTONIC seconds */
    uint32_t next_reqid;
    uint8_t *buf;      /* the last packet read */
    size_t cap;
    smbcim_error *err;
    const char *sock;
    bool timed_out;    /* the deadline passed */
    bool traversing;
} conn;

/* Waits for fd to be ready for events; false (err set) at the deadline. */
static bool wait_fd(conn *c, short events)
{
    for (;;) {
        double left = c->deadline - sc_monotonic();
        if (left <= 0) {
            smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s) did not answer within %u s "
                             "(SMBCIM_RUN_TIMEOUT)%s", c->sock, sc_run_timeout(),
                             c->traversing ? "; every node must answer a traverse: is one "
                                             "of them stopped or unreachable? (`ctdb status`)"
                                           : "");
            c->timed_out = true;
            return false;
        }
        struct pollfd pf = {.fd = c->fd, .events = events};
        int r = poll(&pf, 1, (int)(left * 1000.0) + 1);
        if (r > 0)
            return true;
        if (r < 0 && errno != EINTR) {
            smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s): poll: %s", c->sock,
                             strerror(errno));
            return false;
        }
    }
}

static bool io_all(conn *c, uint8_t *p, size_t n, bool writing)
{
    while (n) {
        if (!wait_fd(c, writing ? POLLOUT : POLLIN))
            return false;
        ssize_t r = writing ? send(c->fd, p, n, MSG_NOSIGNAL) : recv(c->fd, p, n, 0);
        if (r > 0) {
            p += r;
            n -= (size_t)r;
        } else if (r == 0) {
            smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s) closed the connection",
                             c->sock);
            return false;
        } else if (errno != EINTR && errno != EAGAIN) {
            smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s): %s: %s", c->sock,
                             writing ? "send" : "recv", strerror(errno));
            return false;
        }
    }
    return true;
}

/* Reads one packet into c->buf and parses it. */
static bool read_packet(conn *c, sc_ctdb_packet *pk)
{
    uint8_t lenb[4];
    if (!io_all(c, lenb, 4, false))
        return false;
    uint32_t len = get32(lenb);
    if (len < HDR || len > MAX_PACKET) {
        smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s) sent a packet of %u bytes",
                         c->sock, len);
        return false;
    }
    if (c->cap < len) {
        free(c->buf);
        c->buf = sc_xmalloc(len);
        c->cap = len;
    }
    memcpy(c->buf, lenb, 4);
    if (!io_all(c, c->buf + 4, len - 4, false))
        return false;
    char why[160];
    if (!sc_ctdb_parse_packet(c->buf, len, pk, why, sizeof why)) {
        smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s) sent %s", c->sock, why);
        return false;
    }
    return true;
}

/* Sends control opcode to node dest (CTDB_CURRENT_NODE: this one); *reqid:
 * the id its reply carries. */
static bool send_control(conn *c, uint32_t dest, uint32_t opcode, uint64_t srvid,
                         const void *data, uint32_t dlen, uint32_t *reqid)
{
    uint8_t head[CONTROL_FIXED];
    memset(head, 0, sizeof head);
    *reqid = c->next_reqid++;
    put32(head, CONTROL_FIXED + dlen);
    put32(head + 4, CTDB_MAGIC);
    put32(head + 8, CTDB_PROTOCOL);
    put32(head + 16, OP_REQ_CONTROL);
    put32(head + 20, dest);
    put32(head + 28, *reqid);
    put32(head + 32, opcode);
    put64(head + 40, srvid);
    put32(head + 56, dlen);
    return io_all(c, head, sizeof head, true) &&
           (!dlen || io_all(c, (uint8_t *)data, dlen, true));
}

/* Sends a control and returns its reply (in c->buf, valid until the next
 * read).  Messages arriving meanwhile are not expected (no traverse is
 * running) and are skipped. */
static bool control(conn *c, uint32_t opcode, uint64_t srvid, const void *data, uint32_t dlen,
                    const char *what, sc_ctdb_packet *reply)
{
    uint32_t reqid;
    if (!send_control(c, CTDB_CURRENT_NODE, opcode, srvid, data, dlen, &reqid))
        return false;
    for (;;) {
        if (!read_packet(c, reply))
            return false;
        if (reply->operation == OP_REPLY_CONTROL && reply->reqid == reqid)
            break;
    }
    if (reply->status != 0 && opcode != CTL_GET_PNN) {
        smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s) refused %s (status %d)%s%.*s",
                         c->sock, what, reply->status, reply->errorlen ? ": " : "",
                         (int)(reply->errorlen > 200 ? 200 : reply->errorlen),
                         (const char *)reply->error);
        return false;
    }
    return true;
}

struct sc_ctdb {
    conn c;
    uint32_t pnn;
    uint64_t srvid;
    uint32_t dbids[3];
    bool have[3];
    size_t nnodes;
    uint32_t node_pnn[64], node_flags[64];
};

static const char *node_state(uint32_t f)
{
    if (f & NODE_DELETED) return "deleted";
    if (f & NODE_DISCONNECTED) return "disconnected";
    if (f & NODE_BANNED) return "banned";
    if (f & NODE_STOPPED) return "stopped";
    if (f & NODE_UNHEALTHY) return "unhealthy";
    if (f & NODE_DISABLED) return "disabled";
    return "OK";
}

void sc_ctdb_nodes_text(const sc_ctdb *x, char *out, size_t n)
{
    size_t off = 0;
    out[0] = '\0';
    for (size_t i = 0; i < x->nnodes && off + 1 < n; i++) {
        int w = snprintf(out + off, n - off, "%snode %u %s%s", i ? ", " : "", x->node_pnn[i],
                         node_state(x->node_flags[i]), x->node_pnn[i] == x->pnn ? " (this one)" : "");
        if (w < 0)
            break;
        off += (size_t)w;
    }
}

uint32_t sc_ctdb_pnn(const sc_ctdb *x)
{
    return x->pnn;
}

void sc_ctdb_close(sc_ctdb *x)
{
    if (!x)
        return;
    if (x->c.fd >= 0)
        close(x->c.fd);
    free(x->c.buf);
    free(x);
}

bool sc_ctdb_timed_out(const sc_ctdb *x)
{
    return x->c.timed_out;
}

typedef struct open_call {
    sc_ctdb *x;
    const char *sock;
    const char *const *names;
    smbcim_error *err;
    bool ok;
} open_call;

static bool open_conn(sc_ctdb *x, const char *sock, const char *const names[3],
                      smbcim_error *err);

static void open_cb(void *p)
{
    open_call *c = p;
    c->ok = open_conn(c->x, c->sock, c->names, c->err);
}

sc_ctdb *sc_ctdb_open(const char *sock, const char *const names[3], double deadline,
                      bool *timed_out, smbcim_error *err)
{
    *timed_out = false;
    sc_ctdb *x = sc_xcalloc(1, sizeof *x);
    x->c = (conn){.fd = -1, .deadline = deadline, .next_reqid = 1, .err = err, .sock = sock};
    open_call c = {.x = x, .sock = sock, .names = names, .err = err};
    bool done = sc_oom_call(open_cb, &c);
    if (done && c.ok)
        return x;
    *timed_out = x->c.timed_out;
    sc_ctdb_close(x); /* its socket too, out of memory or not */
    if (!done)
        sc_oom_raise();
    return NULL;
}

/* Connects c (fd -1) to ctdbd's socket; false with c->err set. */
static bool dial(conn *c)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (strlen(c->sock) >= sizeof sa.sun_path) {
        smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd socket %s: path too long", c->sock);
        return false;
    }
    memcpy(sa.sun_path, c->sock, strlen(c->sock) + 1);
    c->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&sa, sizeof sa) != 0) {
        int e = errno;
        smbcim_error_set(c->err, e == EACCES || e == EPERM ? WBEM_E_ACCESS_DENIED
                                                           : WBEM_E_FAILED,
                         "cannot connect to ctdbd (%s): %s%s", c->sock, strerror(e),
                         e == EACCES || e == EPERM ? " (reading smbd's state needs root, as "
                                                     "smbstatus does)" : "");
        return false;
    }
    return true;
}

/* Connects x to ctdbd and reads what a traverse needs; false with err set. */
static bool open_conn(sc_ctdb *x, const char *sock, const char *const names[3],
                      smbcim_error *err)
{
    (void)sock;
    if (!dial(&x->c))
        return false;
    sc_ctdb_packet r;
    if (!control(&x->c, CTL_GET_PNN, 0, NULL, 0, "GET_PNN", &r))
        return false;
    x->pnn = (uint32_t)r.status;
    char why[160];
    if (!control(&x->c, CTL_GET_NODEMAP, 0, NULL, 0, "GET_NODEMAP", &r))
        return false;
    if (!sc_ctdb_parse_nodemap(r.data, r.datalen, x->node_pnn, x->node_flags, 64, &x->nnodes,
                               why, sizeof why)) {
        smbcim_error_set(err, WBEM_E_FAILED, "ctdbd (%s) sent %s", sock, why);
        return false;
    }
    for (size_t i = 0; i < x->nnodes; i++)
        if (x->node_pnn[i] == x->pnn && (x->node_flags[i] & NODE_INACTIVE)) {
            smbcim_error_set(err, WBEM_E_FAILED, "this CTDB node (%u) is %s: its smbd "
                             "serves no clients", x->pnn, node_state(x->node_flags[i]));
            return false;
        }
    x->srvid = SRVID_CLIENT_RANGE | (uint64_t)getpid();
    if (!control(&x->c, CTL_REGISTER_SRVID, x->srvid, NULL, 0, "REGISTER_SRVID", &r))
        return false;
    if (!control(&x->c, CTL_GET_DBMAP, 0, NULL, 0, "GET_DBMAP", &r))
        return false;
    uint32_t ids[1024];
    size_t nids = 0;
    if (!sc_ctdb_parse_dbmap(r.data, r.datalen, ids, 1024, &nids, why, sizeof why)) {
        smbcim_error_set(err, WBEM_E_FAILED, "ctdbd (%s) sent %s", sock, why);
        return false;
    }
    for (size_t i = 0; i < nids; i++) {
        if (!control(&x->c, CTL_GET_DBNAME, 0, &ids[i], 4, "GET_DBNAME", &r))
            return false;
        for (int k = 0; k < 3; k++) {
            size_t nl = strlen(names[k]);
            if (!x->have[k] && r.datalen >= nl && memcmp(r.data, names[k], nl) == 0 &&
                (r.datalen == nl || r.data[nl] == '\0')) {
                x->dbids[k] = ids[i];
                x->have[k] = true;
            }
        }
    }
    return true;
}

static smbcim_status traverse(sc_ctdb *x, unsigned which, sc_ctdb_rec_fn fn, void *priv,
                              int *last);

/* After a wait that ran out: which nodes do not answer.  Each node the map
 * shows connected is asked for its number (GET_PNN, to that node) over a
 * connection of its own, all at once; whoever has not answered within
 * PROBE_SECONDS is named in err's message ("; node 2 did not answer a
 * control within 2 s").  Best effort: a probe that cannot even connect
 * adds nothing. */
#define PROBE_SECONDS 2.0
typedef struct probe {
    sc_ctdb *x;
    conn p;
    uint32_t reqid[64];
    bool asked[64], answered[64], refused[64];
    size_t nasked, nanswered;  /* nanswered: replies of any kind */
    char why[128];             /* the first refusal's error text */
} probe;

static void probe_run(void *arg)
{
    probe *pr = arg;
    sc_ctdb *x = pr->x;
    if (!dial(&pr->p))
        return;
    for (size_t i = 0; i < x->nnodes; i++) {
        if (x->node_flags[i] & NODE_GONE)
            continue; /* disconnected or deleted: the map says so already */
        if (!send_control(&pr->p, x->node_pnn[i], CTL_GET_PNN, 0, NULL, 0, &pr->reqid[i]))
            return;
        pr->asked[i] = true;
        pr->nasked++;
    }
    while (pr->nanswered < pr->nasked) {
        sc_ctdb_packet r;
        if (!read_packet(&pr->p, &r))
            return; /* the probe's deadline, or the connection lost */
        for (size_t i = 0; i < x->nnodes; i++)
            if (pr->asked[i] && !pr->answered[i] && !pr->refused[i] &&
                r.operation == OP_REPLY_CONTROL && r.reqid == pr->reqid[i]) {
                /* a node's own answer is its number; an error reply comes
                 * from our ctdbd, which gave up on the node */
                if (r.status == (int32_t)x->node_pnn[i]) {
                    pr->answered[i] = true;
                } else {
                    pr->refused[i] = true;
                    if (!pr->why[0])
                        snprintf(pr->why, sizeof pr->why, "%.*s",
                                 (int)(r.errorlen > 120 ? 120 : r.errorlen),
                                 (const char *)r.error);
                }
                pr->nanswered++;
            }
    }
}

static void name_silent_nodes(sc_ctdb *x)
{
    smbcim_error perr = {0};
    probe pr = {.x = x,
                .p = {.fd = -1, .deadline = sc_monotonic() + PROBE_SECONDS, .next_reqid = 1,
                      .err = &perr, .sock = x->c.sock}};
    /* its own guard: out of memory here leaves the first error as it is */
    bool ok = sc_oom_call(probe_run, &pr);
    if (pr.p.fd >= 0)
        close(pr.p.fd);
    free(pr.p.buf);
    if (!ok || !pr.nasked)
        return;
    size_t ml = strlen(x->c.err->msg);
    size_t good = 0;
    for (size_t i = 0; i < x->nnodes; i++)
        good += pr.answered[i];
    if (good == pr.nasked) {
        /* seen: a traverse whose end never came while every node was up */
        snprintf(x->c.err->msg + ml, sizeof x->c.err->msg - ml,
                 "; every node answers a control now: retry");
        return;
    }
    char silent[256] = "";
    size_t off = 0, nsilent = 0;
    for (size_t i = 0; i < x->nnodes && off + 16 < sizeof silent; i++)
        if (pr.asked[i] && !pr.answered[i]) {
            int w = snprintf(silent + off, sizeof silent - off, "%s%u", nsilent ? ", " : "",
                             x->node_pnn[i]);
            off += w > 0 ? (size_t)w : 0;
            nsilent++;
        }
    snprintf(x->c.err->msg + ml, sizeof x->c.err->msg - ml,
             "; node%s %s did not answer a control within %.0f s%s%s%s", nsilent > 1 ? "s" : "",
             silent, PROBE_SECONDS, pr.why[0] ? " (ctdbd: " : "", pr.why, pr.why[0] ? ")" : "");
}

smbcim_status sc_ctdb_traverse(sc_ctdb *x, unsigned which, sc_ctdb_rec_fn fn, void *priv,
                               int *last)
{
    smbcim_status rc = traverse(x, which, fn, priv, last);
    if (rc != WBEM_S_NO_ERROR && rc != SC_CTDB_STOPPED && x->c.timed_out)
        name_silent_nodes(x);
    return rc;
}

static smbcim_status traverse(sc_ctdb *x, unsigned which, sc_ctdb_rec_fn fn, void *priv,
                              int *last)
{
    conn *c = &x->c;
    /* Every database asked for is traversed at the same time: each node's
     * ctdbd walks them side by side, and their records arrive interleaved,
     * told apart by the reqid each traverse was given. */
    uint32_t reqid[3];
    bool replied[3] = {false, false, false}, ended[3] = {false, false, false};
    unsigned want = 0;
    double t0 = sc_monotonic();
    for (int k = 0; k < 3; k++) {
        if (!(which & (1u << k)) || !x->have[k])
            continue; /* not asked for, or smbd has not attached it: nothing in it */
        uint8_t d[16];
        put32(d, x->dbids[k]);
        put32(d + 4, 0x5C000000u | (uint32_t)k); /* the records' reqid */
        put64(d + 8, x->srvid);
        /* Records may come before the reply to TRAVERSE_START (the order is
         * not promised): control() would skip them, so it is not used here. */
        if (!send_control(c, CTDB_CURRENT_NODE, CTL_TRAVERSE_START, x->srvid, d, 16, &reqid[k]))
            return c->err->code ? c->err->code : WBEM_E_FAILED;
        want |= 1u << k;
    }
    c->traversing = true;
    unsigned done = 0; /* databases both replied to and ended */
    while (done != want) {
        sc_ctdb_packet r;
        if (!read_packet(c, &r))
            return c->err->code ? c->err->code : WBEM_E_FAILED;
        if (r.operation == OP_REPLY_CONTROL) {
            for (int k = 0; k < 3; k++) {
                if (!(want & (1u << k)) || r.reqid != reqid[k] || replied[k])
                    continue;
                if (r.status != 0)
                    return smbcim_error_set(c->err, WBEM_E_FAILED, "ctdbd (%s) refused the "
                                            "traverse (status %d)%s%.*s", c->sock, r.status,
                                            r.errorlen ? ": " : "",
                                            (int)(r.errorlen > 200 ? 200 : r.errorlen),
                                            (const char *)r.error);
                replied[k] = true;
                if (ended[k])
                    done |= 1u << k;
            }
            continue;
        }
        if (r.operation != OP_REQ_MESSAGE || r.srvid != x->srvid || !r.is_record ||
            (r.rec_reqid & ~3u) != 0x5C000000u)
            continue;
        int k = (int)(r.rec_reqid & 3u);
        if (k > 2 || !(want & (1u << k)) || ended[k])
            continue;
        if (r.end) {
            ended[k] = true;
            if (replied[k])
                done |= 1u << k;
            continue;
        }
        if (r.valuelen < LTDB_HEADER)
            continue; /* a header-only record: deleted */
        uint32_t dmaster = get32(r.value + 8);
        *last = k;
        if (fn(k, r.key, r.keylen, r.value + LTDB_HEADER, r.valuelen - LTDB_HEADER, dmaster,
               priv) != 0)
            return SC_CTDB_STOPPED; /* the callback stopped it (its own reason) */
    }
    double took = sc_monotonic() - t0;
    if (took >= TRAVERSE_TIMEOUT * 0.95) {
        /* as good as timed out: smbstatus would wait as long, and then
         * print the partial answer as if whole */
        c->timed_out = true;
        char nodes[512];
        sc_ctdb_nodes_text(x, nodes, sizeof nodes);
        return smbcim_error_set(c->err, WBEM_E_FAILED,
                                "the cluster-wide traverse took %.1f s, as long as ctdbd's "
                                "TraverseTimeout: a node did not answer and the answer may be "
                                "partial (%s)", took, nodes);
    }
    return WBEM_S_NO_ERROR;
}

/* Whether node pnn can be asked at all: a disconnected or deleted node has
 * no processes (ctdbd refuses a control to it; Samba's serverid_exists then
 * says "gone" too). */
static bool node_reachable(const sc_ctdb *x, uint32_t pnn)
{
    for (size_t i = 0; i < x->nnodes; i++)
        if (x->node_pnn[i] == pnn)
            return !(x->node_flags[i] & NODE_GONE);
    return false; /* not in the node map */
}

static smbcim_status servers_exist(sc_ctdb *x, sc_ctdb_server *s, size_t n);

smbcim_status sc_ctdb_servers_exist(sc_ctdb *x, sc_ctdb_server *s, size_t n)
{
    smbcim_status rc = servers_exist(x, s, n);
    if (rc != WBEM_S_NO_ERROR && x->c.timed_out)
        name_silent_nodes(x);
    return rc;
}

static smbcim_status servers_exist(sc_ctdb *x, sc_ctdb_server *s, size_t n)
{
    conn *c = &x->c;
    size_t sent = 0, done = 0;
    uint32_t first = c->next_reqid;
    for (size_t i = 0; i < n; i++)
        s[i].exists = s[i].asked = s[i].answered = false;
    /* Every control is answered, in any order; at most IN_FLIGHT wait, so
     * neither side's socket buffer fills while the other waits. */
    while (done < n) {
        while (sent < n && sent - done < IN_FLIGHT) {
            sc_ctdb_server *v = &s[sent];
            uint32_t reqid;
            bool ok;
            if (!node_reachable(x, v->vnn)) {
                reqid = c->next_reqid++; /* keeps reqid - first == index */
                ok = true;
                v->asked = false;
            } else if (v->unique_id == UNIQUE_NOT_TO_VERIFY) {
                int32_t pid = (int32_t)v->pid;
                ok = send_control(c, v->vnn, CTL_PROCESS_EXISTS, 0, &pid, 4, &reqid);
                v->asked = true;
            } else {
                uint8_t d[12];
                int32_t pid = (int32_t)v->pid;
                memcpy(d, &pid, 4);
                put64(d + 4, v->unique_id);
                ok = send_control(c, v->vnn, CTL_CHECK_PID_SRVID, 0, d, 12, &reqid);
                v->asked = true;
            }
            if (!ok)
                return c->err->code ? c->err->code : WBEM_E_FAILED;
            sent++;
            if (!v->asked)
                done++; /* nothing to wait for */
        }
        if (done == n)
            break;
        sc_ctdb_packet r;
        if (!read_packet(c, &r))
            return c->err->code ? c->err->code : WBEM_E_FAILED;
        if (r.operation != OP_REPLY_CONTROL)
            continue;
        uint32_t k = r.reqid - first;
        if (k >= sent || !s[k].asked || s[k].answered)
            continue; /* not one of ours, or twice */
        s[k].answered = true;
        s[k].exists = r.status == 0;
        done++;
    }
    return WBEM_S_NO_ERROR;
}
