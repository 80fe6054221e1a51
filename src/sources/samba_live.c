/*
 * samba_live.c - the live state of the local smbd, read the way smbstatus
 * reads it: the configuration in-process (samba_conf.c), and the session,
 * tree-connect and locking databases in smbd's lock directory through
 * libtdb, each record decoded by samba_ndr.c.  One pass over each database:
 * linear in sessions, tree connects and opens, no process started.  The
 * configuration is read when the state is made; the databases when a
 * request first needs them (live_fill, through sc_state_fill): the
 * sessions and tree connects together, locking.tdb on its own, or all
 * three at once, each after the sessions in a thread of its own (walk_all).
 *
 * When a record does not decode (a Samba release whose record layout
 * samba_ndr.c does not know), the read falls back to smbstatus: one
 * run of text `smbstatus -n`, parsed by smbstatus_text.c (see "The route"
 * below).  SMBCIM_SAMBA_SOURCE=smbstatus forces that route (tests use it).
 *
 * Records of smbd processes that no longer exist are dropped, as smbstatus
 * does without -f.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <tdb.h>
#include <time.h>
#include <unistd.h>

#include "sources/sources.h"

#define NTTIME_EPOCH 116444736000000000ull /* 1970-01-01 in 100 ns since 1601 */

static sc_time from_nttime(uint64_t nt)
{
    sc_time t = {0};
    if (nt < NTTIME_EPOCH || nt >= 0x7FFFFFFFFFFFFFFFull)
        return t;
    uint64_t us = (nt - NTTIME_EPOCH) / 10;
    t.sec = (int64_t)(us / 1000000);
    t.usec = (int32_t)(us % 1000000);
    t.valid = true;
    return t;
}

static const char *dialect_name(uint16_t d)
{
    switch (d) {
    case 0x0311: return "SMB3_11";
    case 0x0302: return "SMB3_02";
    case 0x0300: return "SMB3_00";
    case 0x0210: return "SMB2_10";
    case 0x0202: return "SMB2_02";
    case 0x02FF: return "SMB2_FF";
    case 0x0000:
    case 0x00FF: return "NT1"; /* SMB1 sessions carry no SMB2 dialect */
    default: return NULL;
    }
}

typedef struct live {
    sc_arena *a;
    smbcim_error *err;
    const char *lock_dir;
    /* pids checked, open addressing: slot = pid << 1 | alive, 0 empty */
    uint64_t *alive;
    size_t alive_cap, alive_len;
    sc_map sess_by_id;   /* session id -> sc_ndr_session* */
    sc_vec ndr_sessions; /* each of sessions' sc_ndr_session */
    sc_map user_by_uid;  /* uid string -> name */
    sc_vec sessions, tcons, opens;
    char why[256];
    bool bad_record;
    size_t records;
    unsigned layout[3];  /* per sc_ndr_kind: what the database's records fit */
    const char *reason;  /* why, naming the database */
    bool clustering;     /* a CTDB node (its messages say so) */
    bool cluster_route;  /* records read through ctdbd: server ids are VNN:PID */
    uint32_t pnn;        /* ... and this node's number (its pids are local) */
    sc_ctdb_server *remote; /* other nodes' smbds, sorted, with ctdbd's answers */
    size_t nremote;      /* 0 until asked: another node's smbd counts as running */
    int (*rec)(TDB_CONTEXT *, TDB_DATA, TDB_DATA, void *); /* what rec_guarded runs */
    bool oom;            /* a record's decoding ran out of memory */
} live;

/* Whether process pid exists, by Samba's rule (process_exists_by_pid: a
 * kill(pid, 0) that does not fail with ESRCH), asked with getpriority(2),
 * which looks the pid up the same way (a zombie or a thread id counts, as
 * for kill) without kill's permission and audit checks: 0.16 µs a pid
 * against 0.5 µs for kill here, measured over 2,069 pids. */
static bool process_exists(pid_t pid)
{
    errno = 0;
    (void)getpriority(PRIO_PROCESS, (id_t)pid);
    return errno != ESRCH;
}

/* Whether smbd process pid exists, asked of the kernel once per pid (every
 * record names one: at 2,000 clients 10,000 look-ups for 2,000 pids). */
static bool pid_alive(live *l, uint64_t pid)
{
    if (pid == 0 || pid > 0x7FFFFFFF)
        return false;
    if (l->alive_len * 2 >= l->alive_cap) { /* grow: keep it at most half full */
        size_t cap = l->alive_cap ? l->alive_cap * 2 : 256;
        uint64_t *t = sc_xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < l->alive_cap; i++) {
            if (!l->alive[i])
                continue;
            size_t j = (size_t)((l->alive[i] >> 1) * 0x9E3779B97F4A7C15ull >> 20) & (cap - 1);
            while (t[j])
                j = (j + 1) & (cap - 1);
            t[j] = l->alive[i];
        }
        free(l->alive);
        l->alive = t;
        l->alive_cap = cap;
    }
    size_t j = (size_t)(pid * 0x9E3779B97F4A7C15ull >> 20) & (l->alive_cap - 1);
    for (; l->alive[j]; j = (j + 1) & (l->alive_cap - 1))
        if (l->alive[j] >> 1 == pid)
            return l->alive[j] & 1;
    bool alive = process_exists((pid_t)pid);
    l->alive[j] = pid << 1 | (alive ? 1 : 0);
    l->alive_len++;
    return alive;
}

static const char *u64s(sc_arena *a, uint64_t v)
{
    return sc_u64_text(a, v, 10);
}

/* A record's smbd as its server id's pid: PID, or on the cluster route
 * VNN:PID as smbstatus prints it there (the same pid on two nodes is two
 * processes). */
static const char *server_pid(live *l, uint64_t pid, uint32_t vnn)
{
    return l->cluster_route ? sc_sprintf(l->a, "%u:%llu", vnn, (unsigned long long)pid)
                            : u64s(l->a, pid);
}

static int cmp_server(const void *a, const void *b)
{
    const sc_ctdb_server *x = a, *y = b;
    if (x->vnn != y->vnn)
        return x->vnn < y->vnn ? -1 : 1;
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    return x->unique_id < y->unique_id ? -1 : x->unique_id > y->unique_id;
}

/* Another node's smbd as ctdbd is asked about it: its node, pid and unique
 * id (UINT64_MAX, "do not verify", when the record has none). */
static sc_ctdb_server remote_key(uint32_t vnn, uint64_t pid, const char *unique)
{
    sc_ctdb_server k = {.vnn = vnn, .pid = (uint32_t)pid, .unique_id = UINT64_MAX};
    if (unique && !sc_parse_u64(unique, strlen(unique), &k.unique_id))
        k.unique_id = UINT64_MAX;
    return k;
}

/* Whether a record's smbd exists: asked of the kernel for this node's
 * processes, of the process's own node through ctdbd for another node's
 * (remote_check; until then, during the walks, it counts as running). */
static bool server_alive(live *l, uint64_t pid, uint32_t vnn, const char *unique)
{
    if (!(l->cluster_route && vnn != l->pnn))
        return pid_alive(l, pid);
    if (!l->nremote)
        return true;
    sc_ctdb_server key = remote_key(vnn, pid, unique);
    const sc_ctdb_server *f = bsearch(&key, l->remote, l->nremote, sizeof key, cmp_server);
    return f && f->exists;
}

static const char *user_name(live *l, int64_t uid, const char *fallback)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)uid);
    const char *n = sc_map_get(&l->user_by_uid, key);
    if (n)
        return n;
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 && res)
        n = sc_strdup(l->a, res->pw_name);
    else
        n = fallback ? fallback : sc_strdup(l->a, key);
    sc_map_put(&l->user_by_uid, sc_strdup(l->a, key), (void *)n);
    return n;
}

typedef int (*rec_fn)(TDB_CONTEXT *, TDB_DATA, TDB_DATA, void *);

typedef struct rec_call {
    TDB_CONTEXT *db;
    TDB_DATA k, v;
    live *l;
    int rc;
} rec_call;

static void rec_cb(void *p)
{
    rec_call *c = p;
    c->rc = c->l->rec(c->db, c->k, c->v, c->l);
}

/* The decoder l->rec under sc_oom_call: running out of memory stops the
 * walk, which then gives back its locks (a tdb chain lock, ctdbd's
 * traverse) and reports WBEM_E_OUT_OF_MEMORY, instead of unwinding
 * through libtdb or ctdb.c with the locks held. */
static int rec_guarded(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    live *l = priv;
    rec_call c = {.db = db, .k = k, .v = v, .l = l};
    if (!sc_oom_call(rec_cb, &c)) {
        l->oom = true;
        return -1;
    }
    return c.rc;
}

/* One database of smbd's lock directory.  Opened and closed by the
 * request's own thread (libtdb keeps its open databases in a list of its
 * own, not locked); only the traversal may run in another thread. */
typedef struct tdb_walk {
    const char *name, *path;
    TDB_CONTEXT *db; /* NULL: nothing to walk (not made yet) */
    rec_fn fn;
} tdb_walk;

static smbcim_status walk_open(live *l, tdb_walk *w, const char *name, rec_fn fn)
{
    *w = (tdb_walk){.name = name, .fn = fn,
                    .path = sc_sprintf(l->a, "%s/%s", l->lock_dir, name)};
    /* Read-write, though nothing is written: libtdb opens a read-only
     * database without any locking (TDB_NOLOCK), and would then read
     * records while smbd rewrites them (the churn test of tests/e2e saw
     * "Corrupt database").  Opened read-write, tdb_traverse_read takes
     * smbd's own chain locks (robust mutexes when the file uses them), as
     * smbstatus does. */
    w->db = tdb_open(w->path, 0, TDB_MUTEX_LOCKING, O_RDWR, 0);
    if (w->db)
        return WBEM_S_NO_ERROR;
    int e = errno;
    if (e == ENOENT)
        return WBEM_S_NO_ERROR; /* smbd creates it with its first client */
    if (e == EACCES || e == EPERM)
        return smbcim_error_set(l->err, WBEM_E_ACCESS_DENIED,
                                "cannot read %s: %s (reading smbd's state needs root, as "
                                "smbstatus does)", w->path, strerror(e));
    return smbcim_error_set(l->err, WBEM_E_FAILED, "cannot open %s: %s", w->path, strerror(e));
}

static void walk_close(tdb_walk *w)
{
    if (w->db)
        tdb_close(w->db);
    w->db = NULL;
}

/* Every record of w's database through w->fn; l is that walk's own (its
 * arena, error, pid table, reason). */
static smbcim_status walk_records(live *l, tdb_walk *w)
{
    if (!w->db)
        return WBEM_S_NO_ERROR;
    /* A database with many records is walked under one read lock over the
     * whole of it: a consistent view, and no lock per record (two fcntl
     * calls each otherwise: 17% of the time at 1,000 clients).  Taking that
     * lock costs one lock per hash chain, which a small database does not
     * repay (1.7 ms of 5 at one client): its records are locked one by one.
     * "Many" is guessed from the file's size beyond its hash table and
     * mutexes (tdb files do not shrink: a once-busy one stays "big"). */
    struct stat sb;
    size_t hash_bytes = (size_t)tdb_hash_size(w->db) * 48;
    bool all = fstat(tdb_fd(w->db), &sb) == 0 &&
               (size_t)sb.st_size > hash_bytes + 256 * 1024 && tdb_lockall_read(w->db) == 0;
    l->rec = w->fn;
    int n = tdb_traverse_read(w->db, rec_guarded, l);
    if (all)
        tdb_unlockall_read(w->db);
    if (l->oom)
        return smbcim_error_set(l->err, WBEM_E_OUT_OF_MEMORY, "out of memory reading %s",
                                w->path);
    if (l->bad_record && !l->reason) /* "…/locking.tdb: locking record: … at byte N of M" */
        l->reason = sc_sprintf(l->a, "%s: %s", w->path, l->why);
    if (n < 0 && !l->bad_record)
        return smbcim_error_set(l->err, WBEM_E_FAILED, "cannot read %s: %s", w->path,
                                tdb_errorstr(w->db));
    return WBEM_S_NO_ERROR;
}

static int on_session(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    (void)db;
    live *l = priv;
    sc_ndr_session *s = sc_alloc(l->a, sizeof *s);
    l->records++;
    if (!sc_ndr_decode_session(l->a, v.dptr, v.dsize, s, &l->layout[SC_NDR_SESSION],
                               l->why, sizeof l->why)) {
        l->bad_record = true;
        return -1;
    }
    (void)k;
    if (s->deleted)
        return 0;
    sc_session *o = sc_alloc(l->a, sizeof *o);
    o->session_id = u64s(l->a, s->session_id);
    o->server.pid = server_pid(l, s->pid, s->vnn);
    o->server.unique_id = u64s(l->a, s->unique_id);
    o->uid = s->authenticated ? s->uid : -1;
    o->username = s->authenticated ? user_name(l, s->uid, s->unix_name) : "(auth in progress)";
    o->remote_machine = s->remote_name ? s->remote_name : "";
    o->hostname = s->remote_address;
    o->dialect = dialect_name(s->dialect);
    o->creation_time = from_nttime(s->creation_time);
    sc_vec_push(&l->sessions, o);
    sc_vec_push(&l->ndr_sessions, s); /* liveness: keep_alive(), when the walks are done */
    return 0;
}

static int on_tcon(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    (void)db;
    (void)k;
    live *l = priv;
    sc_ndr_tcon t;
    l->records++;
    if (!sc_ndr_decode_tcon(l->a, v.dptr, v.dsize, &t, &l->layout[SC_NDR_TCON],
                            l->why, sizeof l->why)) {
        l->bad_record = true;
        return -1;
    }
    if (t.deleted || !server_alive(l, t.pid, t.vnn, NULL))
        return 0;
    sc_tcon *o = sc_alloc(l->a, sizeof *o);
    o->tcon_id = u64s(l->a, t.tcon_id);
    o->service = t.share_name;
    o->session_id = u64s(l->a, t.session_id);
    o->server.pid = server_pid(l, t.pid, t.vnn);
    o->server.unique_id = u64s(l->a, t.unique_id);
    o->connected_at = from_nttime(t.creation_time);
    sc_vec_push(&l->tcons, o);
    return 0;
}

static int on_locking(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    (void)db;
    (void)k;
    live *l = priv;
    sc_ndr_file f;
    l->records++;
    if (!sc_ndr_decode_locking(l->a, v.dptr, v.dsize, &f, &l->layout[SC_NDR_LOCKING],
                               l->why, sizeof l->why)) {
        l->bad_record = true;
        return -1;
    }
    if (!f.service_path || !f.base_name)
        return 0;
    const char *fname = f.stream_name && *f.stream_name
                            ? sc_sprintf(l->a, "%s%s", f.base_name, f.stream_name)
                            : f.base_name;
    for (size_t i = 0; i < f.nopens; i++) {
        const sc_ndr_open *e = &f.opens[i];

        sc_open *o = sc_alloc(l->a, sizeof *o);
        o->server.pid = server_pid(l, e->pid, e->vnn);
        o->server.unique_id = u64s(l->a, e->unique_id);
        o->uid = e->uid;
        o->service_path = f.service_path;
        o->filename = fname;
        o->access_mask = e->access_mask;
        o->opened_at.sec = e->time_sec;
        o->opened_at.usec = (int32_t)e->time_usec;
        o->opened_at.valid = e->time_sec > 0;
        o->file_id = e->share_file_id;
        o->file_id_known = true;
        sc_vec_push(&l->opens, o);
    }
    return 0;
}

/* One database's walk: its own live (records, pid table, error, reason)
 * and, for the one that runs in a thread of its own, its own arena. */
typedef struct sub_walk {
    live l;
    smbcim_error err;
    tdb_walk *w;
    smbcim_status rc;
    pthread_t tid;
    bool started;
} sub_walk;

static void sub_walk_cb(void *p)
{
    sub_walk *sw = p;
    sw->rc = walk_records(&sw->l, sw->w);
}

/* The walk in its own thread, which has no sc_oom_call of the request's:
 * running out of memory there is reported as the walk's outcome. */
static void *sub_main(void *p)
{
    sub_walk *sw = p;
    if (!sc_oom_call(sub_walk_cb, sw))
        sw->rc = smbcim_error_set(&sw->err, WBEM_E_OUT_OF_MEMORY, "out of memory reading %s",
                                  sw->w->path);
    return NULL;
}

/* Drops the records (sc_session, sc_tcon or sc_open, whose sc_server_id
 * is at `at`) of smbd processes that no longer exist, and the same items
 * of `with` (a vector in step with v, or NULL). */
static void keep_alive(live *l, sc_vec *v, size_t at, sc_vec *with)
{
    size_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        const sc_server_id *sid = (const sc_server_id *)((const char *)v->items[i] + at);
        uint32_t vnn;
        uint64_t pid;
        if (!sc_server_pid_parse(sid->pid, &vnn, &pid) ||
            !server_alive(l, pid, vnn, sid->unique_id))
            continue;
        if (with)
            with->items[n] = with->items[i];
        v->items[n++] = v->items[i];
    }
    v->len = n;
    if (with)
        with->len = n;
}

/* Takes a finished walk's records into l, and its outcome unless l has one
 * already (an error, or a record that did not decode: the first in the
 * walks' order counts). */
static void sub_take(live *l, sub_walk *sw, smbcim_status *rc)
{
    if (sw->l.a != l->a)
        sc_arena_adopt(l->a, sw->l.a); /* the records' strings live in it */
    l->records += sw->l.records;
    sc_vec_append(&l->sessions, &sw->l.sessions);
    sc_vec_append(&l->ndr_sessions, &sw->l.ndr_sessions);
    sc_vec_append(&l->tcons, &sw->l.tcons);
    sc_vec_append(&l->opens, &sw->l.opens);
    if (sw->l.alive_len && !l->alive_len) { /* the pids it asked about */
        free(l->alive);
        l->alive = sw->l.alive;
        l->alive_cap = sw->l.alive_cap;
        l->alive_len = sw->l.alive_len;
        sw->l.alive = NULL;
    }
    if (*rc != WBEM_S_NO_ERROR || l->bad_record)
        return;
    if (sw->rc != WBEM_S_NO_ERROR) {
        *l->err = sw->err;
        *rc = sw->rc;
    } else if (sw->l.bad_record) {
        l->bad_record = true;
        l->reason = sw->l.reason;
        memcpy(l->why, sw->l.why, sizeof l->why);
    }
}

static void sub_free(sub_walk *sw)
{
    free(sw->l.alive);
    sc_map_free(&sw->l.user_by_uid);
    sc_vec_free(&sw->l.sessions);
    sc_vec_free(&sw->l.ndr_sessions);
    sc_vec_free(&sw->l.tcons);
    sc_vec_free(&sw->l.opens);
}

/* After the walks: records of smbd processes that no longer exist are
 * dropped, and the sessions are found by id. */
static void walks_done(live *l)
{
    keep_alive(l, &l->sessions, offsetof(sc_session, server), &l->ndr_sessions);
    keep_alive(l, &l->tcons, offsetof(sc_tcon, server), NULL);
    keep_alive(l, &l->opens, offsetof(sc_open, server), NULL);
    for (size_t i = 0; i < l->sessions.len; i++) {
        const sc_session *o = l->sessions.items[i];
        sc_map_put(&l->sess_by_id, o->session_id, l->ndr_sessions.items[i]);
    }
}

/* smbd's three databases, their record decoders and the part each gives,
 * for both routes (the lock directory's files, a cluster through ctdbd). */
enum { DB_SESSION, DB_TCON, DB_LOCKING, NDBS };
static const struct {
    const char *name;
    rec_fn fn;
    unsigned part;
} dbs[NDBS] = {
    {"smbXsrv_session_global.tdb", on_session, SC_PART_CONNS},
    {"smbXsrv_tcon_global.tdb", on_tcon, SC_PART_CONNS},
    {"locking.tdb", on_locking, SC_PART_OPENS},
};

typedef struct walks {
    live *l;
    tdb_walk w[NDBS];
    sub_walk sub[NDBS];
    bool joined[NDBS];
    size_t nw;
    smbcim_status rc;
} walks;

/* Walks the opened databases and takes their records (under sc_oom_call:
 * walk_all cleans up if memory runs out part way). */
static void walks_run(void *p)
{
    walks *ws = p;
    live *l = ws->l;
    for (size_t i = 0; i < ws->nw; i++) {
        /* the first walk here, each other in a thread of its own (with its
         * own arena): three walks on two cores are shared out by the
         * scheduler, where two threads left this one with two walks in a
         * row (Win32_ServerConnection at 2,000 clients: 16.8 -> 13.8 ms) */
        bool own = i > 0 && ws->w[i].db;
        ws->sub[i] = (sub_walk){.w = &ws->w[i]};
        ws->sub[i].l = (live){.a = own ? sc_arena_new() : l->a, .err = &ws->sub[i].err,
                              .lock_dir = l->lock_dir};
        sc_map_init_exact(&ws->sub[i].l.user_by_uid);
        if (own) /* without a thread to be had: walked here, in turn */
            ws->sub[i].started =
                pthread_create(&ws->sub[i].tid, NULL, sub_main, &ws->sub[i]) == 0;
    }
    for (size_t i = 0; i < ws->nw; i++)
        if (!ws->sub[i].started)
            ws->sub[i].rc = walk_records(&ws->sub[i].l, &ws->w[i]);
    for (size_t i = 0; i < ws->nw; i++) {
        if (ws->sub[i].started)
            pthread_join(ws->sub[i].tid, NULL);
        ws->joined[i] = true;
        sub_take(l, &ws->sub[i], &ws->rc);
        sub_free(&ws->sub[i]);
    }
}

/* The databases `parts` needs, in smbcim's order: sessions, tree connects,
 * locking.tdb; the first error or record that does not decode, in that
 * order, ends the answer (the caller falls back or fails).  The sessions
 * are walked by this thread, each other database by a thread of its own
 * (walks_run).  Whether a record's smbd still exists is asked of the
 * kernel once per pid: most of it by the tree-connect walk, which meets
 * every smbd with a client (each has a tree connect, IPC$ at least), the
 * rest after the walks (keep_alive).  At 2,000 clients the walks take
 * about 2.7 (sessions), 3.2 (tree connects, with the liveness checks) and
 * 2.8 ms (locking.tdb) of CPU; docs/live-source.md, "Speed".  Every
 * database is opened and closed by this thread (libtdb's list of open
 * databases is not locked); only traversals run in the others.  Out of
 * memory part way: the other threads are waited for and the databases
 * closed before it unwinds to the request. */
static smbcim_status walk_all(live *l, unsigned parts)
{
    walks ws = {.l = l};
    for (int k = 0; k < NDBS && ws.rc == WBEM_S_NO_ERROR; k++)
        if (parts & dbs[k].part)
            ws.rc = walk_open(l, &ws.w[ws.nw++], dbs[k].name, dbs[k].fn);
    if (ws.rc != WBEM_S_NO_ERROR) {
        for (size_t i = 0; i < ws.nw; i++)
            walk_close(&ws.w[i]);
        return ws.rc;
    }
    bool ok = sc_oom_call(walks_run, &ws);
    for (size_t i = 0; !ok && i < ws.nw; i++)
        if (ws.sub[i].started && !ws.joined[i])
            pthread_join(ws.sub[i].tid, NULL);
    for (size_t i = 0; i < ws.nw; i++)
        walk_close(&ws.w[i]);
    if (!ok)
        sc_oom_raise();
    if (ws.rc == WBEM_S_NO_ERROR && !l->bad_record)
        walks_done(l);
    return ws.rc;
}

/* ---- the cluster route (CTDB) ------------------------------------------- */

static int cl_record(int which, const uint8_t *key, size_t klen, const uint8_t *val,
                     size_t vlen, uint32_t dmaster, void *priv)
{
    (void)dmaster;
    ((live *)priv)->rec = dbs[which].fn;
    TDB_DATA k = {.dptr = (unsigned char *)key, .dsize = klen};
    TDB_DATA v = {.dptr = (unsigned char *)val, .dsize = vlen};
    return rec_guarded(NULL, k, v, priv);
}

typedef struct cl_walks {
    live *l;
    sc_ctdb *x;
    unsigned parts;
    const char *const *names;
    bool *fallback;
    smbcim_status rc;
} cl_walks;

/* The databases asked for, traversed together (under sc_oom_call:
 * walk_cluster closes the connection if memory runs out part way). */
static void cl_walks_run(void *p)
{
    cl_walks *c = p;
    live *l = c->l;
    unsigned which = 0;
    for (int k = 0; k < NDBS; k++)
        if (c->parts & dbs[k].part)
            which |= 1u << k;
    int k = 0;
    c->rc = sc_ctdb_traverse(c->x, which, cl_record, l, &k);
    if (c->rc == SC_CTDB_STOPPED && l->oom) {
        c->rc = smbcim_error_set(l->err, WBEM_E_OUT_OF_MEMORY,
                                 "out of memory reading %s (through ctdbd)", c->names[k]);
    } else if (c->rc == SC_CTDB_STOPPED) { /* a record that does not decode */
        l->reason = sc_sprintf(l->a, "%s (cluster-wide, through ctdbd): %s", c->names[k],
                               l->why);
        c->rc = WBEM_S_NO_ERROR;
    } else if (c->rc != WBEM_S_NO_ERROR) {
        *c->fallback = !sc_ctdb_timed_out(c->x);
    }
}

/* Another node's smbds named by the records, each once: whether they still
 * run is asked of their nodes (as smbstatus does through serverid_exists);
 * keep_alive then drops the records of those that do not. */
static size_t remote_servers(live *l, sc_vec *v, size_t at, sc_ctdb_server *out)
{
    size_t n = 0;
    for (size_t i = 0; i < v->len; i++) {
        const sc_server_id *sid = (const sc_server_id *)((const char *)v->items[i] + at);
        uint32_t vnn;
        uint64_t pid;
        if (!sc_server_pid_parse(sid->pid, &vnn, &pid) || vnn == l->pnn || pid > 0x7FFFFFFF)
            continue;
        out[n++] = remote_key(vnn, pid, sid->unique_id);
    }
    return n;
}

static void remote_check_run(void *p)
{
    cl_walks *c = p;
    live *l = c->l;
    size_t max = l->sessions.len + l->tcons.len + l->opens.len;
    if (!max)
        return;
    sc_ctdb_server *s = sc_alloc(l->a, max * sizeof *s); /* freed with l's arena */
    size_t n = remote_servers(l, &l->sessions, offsetof(sc_session, server), s);
    n += remote_servers(l, &l->tcons, offsetof(sc_tcon, server), s + n);
    n += remote_servers(l, &l->opens, offsetof(sc_open, server), s + n);
    if (!n)
        return;
    qsort(s, n, sizeof *s, cmp_server);
    size_t w = 1;
    for (size_t i = 1; i < n; i++)
        if (cmp_server(&s[i], &s[w - 1]) != 0)
            s[w++] = s[i];
    c->rc = sc_ctdb_servers_exist(c->x, s, w);
    if (c->rc == WBEM_S_NO_ERROR) {
        l->remote = s;
        l->nremote = w;
    }
}

/* On a CTDB node (clustering = yes): the same databases, cluster-wide,
 * through ctdbd's socket (ctdb.c), decoded by the same decoders; one
 * connection, the databases one after the other.  *fallback: the failure
 * is one smbstatus may get past (ctdbd refused something, a protocol
 * surprise), not one it would meet too (not root, a node that does not
 * answer, which holds smbstatus's traverse as well). */
static smbcim_status walk_cluster(live *l, unsigned parts, const char *sock, bool *fallback)
{
    const char *names[NDBS];
    for (int k = 0; k < NDBS; k++)
        names[k] = dbs[k].name;
    *fallback = false;
    bool timed_out = false;
    sc_ctdb *x = sc_ctdb_open(sock, names, sc_monotonic() + (double)sc_run_timeout(),
                              &timed_out, l->err);
    if (!x) {
        *fallback = !timed_out && l->err->code != WBEM_E_ACCESS_DENIED;
        return l->err->code;
    }
    l->cluster_route = true;
    l->pnn = sc_ctdb_pnn(x);
    cl_walks c = {.l = l, .x = x, .parts = parts, .names = names, .fallback = fallback};
    bool ok = sc_oom_call(cl_walks_run, &c);
    if (ok && c.rc == WBEM_S_NO_ERROR && !l->bad_record)
        ok = sc_oom_call(remote_check_run, &c);
    sc_ctdb_close(x);
    if (!ok)
        sc_oom_raise();
    if (c.rc == WBEM_S_NO_ERROR && !l->bad_record)
        walks_done(l);
    return c.rc;
}

/* ---- the smbstatus route ------------------------------------------------ */

unsigned sc_run_timeout(void)
{
    const char *e = getenv("SMBCIM_RUN_TIMEOUT");
    char *end = NULL;
    unsigned long v = e && *e ? strtoul(e, &end, 10) : 0;
    return e && *e && end && !*end && v >= 1 && v <= 3600 ? (unsigned)v : SC_RUN_TIMEOUT;
}

/* Reading a child's two pipes until both end or the deadline passes. */
typedef struct capture {
    struct pollfd *pf; /* [2]: the output and error pipes */
    sc_buf *b;
    pid_t pid;
    bool timed_out;
} capture;

static void capture_loop(void *p)
{
    capture *c = p;
    char chunk[65536];
    double deadline = sc_monotonic() + (double)sc_run_timeout();
    while (c->pf[0].fd >= 0 || c->pf[1].fd >= 0) {
        double left = deadline - sc_monotonic();
        if (left <= 0) {
            /* a hung child (smbstatus waiting on a CTDB node that does not
             * answer, on a lock) must not hang its caller */
            kill(c->pid, SIGKILL);
            c->timed_out = true;
            break;
        }
        int pr = poll(c->pf, 2, (int)(left * 1000.0) + 1);
        if (pr < 0) {
            if (errno == EINTR)
                continue;
            break;
        }
        for (int i = 0; i < 2; i++) {
            if (c->pf[i].fd < 0 || !c->pf[i].revents)
                continue;
            ssize_t r = read(c->pf[i].fd, chunk, sizeof chunk);
            if (r > 0)
                sc_buf_add(&c->b[i], chunk, (size_t)r);
            else if (r == 0 || errno != EINTR)
                c->pf[i].fd = -1;
        }
    }
}

/* One runner for every process the live source starts (smbstatus, net):
 * posix_spawn, so that nothing of a threaded smbcimd is copied, standard
 * input from /dev/null, and both output pipes read as they fill. */
char *sc_run_capture(sc_arena *a, char *const argv[], char *const envp[], size_t *len,
                     char **err_out, int *status)
{
    extern char **environ;
    int out[2] = {-1, -1}, errp[2] = {-1, -1};
    posix_spawn_file_actions_t fa;
    bool fa_ok = false;
    pid_t pid = -1;
    char *res = NULL;
    int rc = 0;
    if (pipe(out) != 0 || (err_out && pipe(errp) != 0)) {
        rc = errno;
        goto spawned;
    }
    /* none of them may leak into other children (smbcimd has threads) */
    for (int i = 0; i < 2; i++) {
        fcntl(out[i], F_SETFD, FD_CLOEXEC);
        if (err_out)
            fcntl(errp[i], F_SETFD, FD_CLOEXEC);
    }
    if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
        goto spawned;
    fa_ok = true;
    if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) != 0 ||
        (rc = posix_spawn_file_actions_adddup2(&fa, out[1], 1)) != 0 ||
        (rc = err_out ? posix_spawn_file_actions_adddup2(&fa, errp[1], 2)
                      : posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)) != 0)
        goto spawned;
    rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, envp ? envp : environ);
spawned:
    if (fa_ok)
        posix_spawn_file_actions_destroy(&fa);
    if (out[1] >= 0)
        close(out[1]);
    if (errp[1] >= 0)
        close(errp[1]);
    sc_buf b[2];
    sc_buf_init(&b[0]);
    sc_buf_init(&b[1]);
    if (rc != 0 || pid < 0) {
        errno = rc;
        goto done;
    }
    struct pollfd pf[2] = {{.fd = out[0], .events = POLLIN}, {.fd = errp[0], .events = POLLIN}};
    capture cap = {.pf = pf, .b = b, .pid = pid};
    if (!sc_oom_call(capture_loop, &cap)) {
        /* out of memory while the child runs: no child or pipe left
         * behind, then on to the caller's sc_oom_call */
        kill(pid, SIGKILL);
        while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
        }
        close(out[0]);
        if (errp[0] >= 0)
            close(errp[0]);
        sc_buf_free(&b[0]);
        sc_buf_free(&b[1]);
        sc_oom_raise();
    }
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    close(out[0]); /* before what follows allocates (sc_oom_call) */
    out[0] = -1;
    if (errp[0] >= 0)
        close(errp[0]);
    errp[0] = -1;
    if (cap.timed_out) {
        errno = ETIMEDOUT;
        goto done;
    }
    res = sc_strndup(a, b[0].len ? b[0].data : "", b[0].len);
    *len = b[0].len;
    if (err_out)
        *err_out = sc_strndup(a, b[1].len ? b[1].data : "", b[1].len);
done:
    if (out[0] >= 0)
        close(out[0]);
    if (errp[0] >= 0)
        close(errp[0]);
    sc_buf_free(&b[0]);
    sc_buf_free(&b[1]);
    return res;
}

/* The route: ONE run of text `smbstatus -n`, the sessions, tree connects
 * and opens in one process (-n prints the sessions' uid and gid as
 * numbers, so that table holds no names with spaces), in the C locale and
 * UTC so that the dates parse; parsed against the column sets of Samba
 * 4.15-4.25 (sc_smbstatus_text_parse).  Not `--json`: it is super-linear
 * in every release measured, and `--json -L` aborts on an open with
 * WRITE_OWNER before 4.24 (docs/live-source.md, "The smbstatus route").
 *
 * The text has no session or tree-connect ids: a tree connect belongs to
 * the session of its smbd (pid) and machine; when that smbd serves
 * sessions of several users, `smbstatus -S -n -u USER` for all of them but
 * one says whose each tree connect is (sc_smbstatus_text_link). */

/* The environment of smbstatus: the C locale (day and month names) and
 * UTC (the dates carry no zone, or only its abbreviation). */
static char **smbstatus_env(sc_arena *a)
{
    extern char **environ;
    size_t n = 0;
    while (environ && environ[n])
        n++;
    char **env = sc_alloc_array(a, n + 3, sizeof(char *));
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        const char *v = environ[i];
        if (strncmp(v, "LC_", 3) == 0 || strncmp(v, "LANG=", 5) == 0 ||
            strncmp(v, "LANGUAGE=", 9) == 0 || strncmp(v, "TZ=", 3) == 0)
            continue;
        env[m++] = environ[i];
    }
    env[m++] = "LC_ALL=C";
    env[m++] = "TZ=UTC0";
    env[m] = NULL;
    return env;
}

char *sc_installed_samba_version(sc_arena *a, smbcim_error *err)
{
    char *argv[] = {"smbd", "--version", NULL};
    size_t len = 0;
    int status = 0;
    char *out = sc_run_capture(a, argv, NULL, &len, NULL, &status);
    if (!out) {
        int e = errno;
        if (e == ETIMEDOUT)
            smbcim_error_set(err, WBEM_E_FAILED, "smbd --version did not finish within %u s "
                             "(SMBCIM_RUN_TIMEOUT)", sc_run_timeout());
        else
            smbcim_error_set(err, e == ENOENT ? WBEM_E_NOT_AVAILABLE : WBEM_E_FAILED,
                             "cannot run smbd --version: %s", strerror(e));
        return NULL;
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127) {
        /* the child could not exec smbd (how a spawn reports ENOENT when it
         * cannot say so itself, e.g. under valgrind) */
        smbcim_error_set(err, WBEM_E_NOT_AVAILABLE, "cannot run smbd --version: smbd not found "
                         "(exit status 127)");
        return NULL;
    }
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        smbcim_error_set(err, WBEM_E_FAILED, "smbd --version failed (%s %d)",
                         WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
        return NULL;
    }
    /* "Version 4.17.12-Debian\n": the version is one word of printable
     * ASCII, at most 100 bytes */
    size_t n = strcspn(out, "\n");
    const char *v = out + 8;
    size_t vl = n > 8 ? n - 8 : 0;
    bool ok = n > 8 && strncmp(out, "Version ", 8) == 0 && vl <= 100;
    for (size_t i = 0; ok && i < vl; i++)
        ok = v[i] > ' ' && v[i] < 0x7F;
    if (!ok) {
        smbcim_error_set(err, WBEM_E_FAILED, "smbd --version printed \"%.*s\", not "
                         "\"Version X\"", (int)(n > 80 ? 80 : n), out);
        return NULL;
    }
    return sc_strndup(a, v, vl);
}

/* Runs smbstatus -s CONF OPTS...: its standard output in the arena (NULL
 * with the reason in err when it cannot be started, fails or complains). */
static char *smbstatus_run(live *l, const char *conf, const char *const *opts, size_t *len)
{
    char *argv[12] = {"smbstatus", "-s", (char *)conf};
    size_t n = 3;
    sc_buf cmd;
    sc_buf_init(&cmd);
    sc_buf_printf(&cmd, "smbstatus -s %s", conf);
    for (; *opts && n < 11; opts++) {
        argv[n++] = (char *)*opts;
        sc_buf_printf(&cmd, " %s", *opts);
    }
    argv[n] = NULL;
    char *errtext = NULL;
    int status = 0;
    char *res = sc_run_capture(l->a, argv, smbstatus_env(l->a), len, &errtext, &status);
    if (!res && errno == ETIMEDOUT) {
        smbcim_error_set(l->err, WBEM_E_FAILED, "%s did not finish within %u s and was "
                         "stopped (SMBCIM_RUN_TIMEOUT)%s", cmd.data, sc_run_timeout(),
                         l->clustering ? "; on a CTDB cluster every node must answer a "
                                         "traverse: is one of them stopped or unreachable? "
                                         "(`ctdb status`)" : "");
    } else if (!res) {
        smbcim_error_set(l->err, WBEM_E_FAILED, "cannot run %s: %s", cmd.data, strerror(errno));
    } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        /* the first line smbstatus wrote on standard error, for the message */
        size_t wl = strcspn(errtext, "\n");
        smbcim_error_set(l->err, WBEM_E_FAILED, "%s failed (%s %d)%s%.*s", cmd.data,
                         WIFEXITED(status) ? "exit status" : "signal",
                         WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status),
                         wl ? ": " : "", (int)(wl > 200 ? 200 : wl), errtext);
        res = NULL;
    } else if (strstr(errtext, "locked file list truncated")) {
        /* 4.17+ say so on standard error only, and exit 0 */
        smbcim_error_set(l->err, WBEM_E_FAILED, "%s: locked file list truncated", cmd.data);
        res = NULL;
    }
    sc_buf_free(&cmd);
    return res;
}

static smbcim_status via_smbstatus(live *l, const char *conf, const sc_smbconf *cf)
{
    /* the shares' paths let the parser split "PATH   NAME" where a path
     * itself holds three spaces */
    const char **paths = sc_alloc_array(l->a, cf->nshares ? cf->nshares : 1, sizeof *paths);
    size_t npaths = 0;
    for (size_t i = 0; i < cf->nshares; i++)
        if (cf->shares[i].path)
            paths[npaths++] = cf->shares[i].path;
    l->sessions.len = l->tcons.len = l->opens.len = 0;
    static const char *const all[] = {"-n", NULL};
    size_t len = 0;
    char *text = smbstatus_run(l, conf, all, &len);
    if (!text)
        return l->err->code;
    sc_smbstatus_text t;
    char *origin = sc_sprintf(l->a, "smbstatus -s %s -n", conf);
    smbcim_status st =
        sc_smbstatus_text_parse(l->a, text, len, origin, paths, npaths, &t, l->err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    if (!t.has_sessions || !t.has_tcons)
        return smbcim_error_set(l->err, WBEM_E_FAILED, "%s printed no %s table", origin,
                                t.has_sessions ? "tree-connect" : "session");
    /* an smbd serving several users: whose is each tree connect */
    int64_t *uids = NULL;
    size_t nuids = sc_smbstatus_text_uids_needed(l->a, &t, &uids);
    sc_smbstatus_text *lists = sc_alloc_array(l->a, nuids ? nuids : 1, sizeof *lists);
    for (size_t i = 0; i < nuids; i++) {
        /* -u takes a name (or a number smbstatus reads when no user has it) */
        const char *u = user_name(l, uids[i], sc_i64_text(l->a, uids[i]));
        const char *opts[] = {"-S", "-n", "-u", u, NULL};
        text = smbstatus_run(l, conf, opts, &len);
        if (!text)
            return l->err->code;
        origin = sc_sprintf(l->a, "smbstatus -s %s -S -n -u %s", conf, u);
        st = sc_smbstatus_text_parse(l->a, text, len, origin, NULL, 0, &lists[i], l->err);
        if (st != WBEM_S_NO_ERROR)
            return st;
        if (!lists[i].has_tcons)
            return smbcim_error_set(l->err, WBEM_E_FAILED, "%s printed no tree-connect table",
                                    origin);
    }
    sc_smbstatus_text_link(l->a, &t, uids, lists, nuids);
    for (size_t i = 0; i < t.nsessions; i++) {
        sc_session *s = &t.sessions[i];
        s->username = s->uid == -1 ? "(auth in progress)"
                                   : user_name(l, s->uid, sc_i64_text(l->a, s->uid));
        sc_vec_push(&l->sessions, s);
    }
    for (size_t i = 0; i < t.ntcons; i++)
        sc_vec_push(&l->tcons, &t.tcons[i]);
    for (size_t i = 0; i < t.nopens; i++)
        sc_vec_push(&l->opens, &t.opens[i]);
    return WBEM_S_NO_ERROR;
}

/* ---- assembly ------------------------------------------------------------ */

static bool smbd_running(live *l, const sc_smbconf *conf, char *why, size_t whylen,
                         bool *denied)
{
    char *pidfile = sc_sprintf(l->a, "%s/smbd.pid", conf->pid_dir);
    FILE *f = fopen(pidfile, "r");
    *denied = !f && (errno == EACCES || errno == EPERM);
    if (*denied) {
        snprintf(why, whylen, "cannot read smbd's pid file %s: %s (reading smbd's state "
                 "needs root, as smbstatus does)", pidfile, strerror(errno));
        return false;
    }
    if (!f) {
        snprintf(why, whylen, "smbd is not running (no pid file %s: %s)", pidfile,
                 strerror(errno));
        return false;
    }
    long pid = 0;
    int ok = fscanf(f, "%ld", &pid);
    fclose(f);
    if (ok != 1 || pid <= 0) {
        snprintf(why, whylen, "smbd is not running (pid file %s holds no process id)", pidfile);
        return false;
    }
    if (!process_exists((pid_t)pid)) {
        snprintf(why, whylen, "smbd is not running (process %ld of %s does not exist)", pid,
                 pidfile);
        return false;
    }
    return true;
}

static char *subst_home(sc_arena *a, const char *tmpl, const char *user, const char *home)
{
    sc_buf b;
    sc_buf_init(&b);
    for (const char *p = tmpl; *p; p++) {
        if (*p == '%' && (p[1] == 'U' || p[1] == 'u' || p[1] == 'S')) {
            sc_buf_puts(&b, user);
            p++;
        } else if (*p == '%' && p[1] == 'H') {
            sc_buf_puts(&b, home);
            p++;
        } else {
            sc_buf_putc(&b, *p);
        }
    }
    char *out = sc_strdup(a, b.len ? b.data : "");
    sc_buf_free(&b);
    return out;
}

/* Shares smbd registers on demand: a user's home share from [homes], for
 * each tree connect to a share the configuration does not list. */
static void add_home_shares(live *l, const sc_smbconf *conf, sc_vec *shares)
{
    if (!conf->homes)
        return;
    for (size_t i = 0; i < l->tcons.len; i++) {
        const sc_tcon *t = l->tcons.items[i];
        bool known = false;
        for (size_t j = 0; j < shares->len && !known; j++)
            known = sc_streqi(((sc_share *)shares->items[j])->name, t->service);
        if (known)
            continue;
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwnam_r(t->service, &pw, buf, sizeof buf, &res) != 0 || !res)
            continue;
        sc_share *s = sc_alloc(l->a, sizeof *s);
        s->name = t->service;
        s->kind = SC_SHARE_DISK;
        s->path = conf->homes_path && *conf->homes_path
                      ? subst_home(l->a, conf->homes_path, res->pw_name, res->pw_dir)
                      : sc_strdup(l->a, res->pw_dir);
        s->comment = *conf->homes_comment
                         ? subst_home(l->a, conf->homes_comment, res->pw_name, res->pw_dir)
                         : sc_sprintf(l->a, "Home directory of %s", res->pw_name);
        s->max_connections = conf->homes_max;
        s->max_known = true;
        sc_vec_push(shares, s);
    }
}

/* ---- reading on demand ---------------------------------------------------- */

/* What the fill keeps of the open: in the state's arena. */
typedef struct live_src {
    sc_arena *a;
    const char *conf_path;
    const sc_smbconf *conf;
    sc_live_info *info;       /* may be NULL */
} live_src;

static void *vec_array(sc_arena *a, const sc_vec *v, size_t size, size_t *n)
{
    char *arr = sc_alloc_array(a, v->len ? v->len : 1, size);
    for (size_t i = 0; i < v->len; i++)
        memcpy(arr + i * size, v->items[i], size);
    *n = v->len;
    return arr;
}

/* The smbstatus route prints pids only: an open it lists gets the unique
 * id of the session or tree connect (read from smbd's databases) of the
 * same live smbd, so that it counts with them (the model keys opens by
 * pid and unique id). */
static void opens_take_unique_ids(sc_state *st, sc_vec *opens)
{
    sc_map by_pid;
    sc_map_init_exact(&by_pid);
    for (size_t i = 0; i < st->nsessions; i++)
        if (st->sessions[i].server.pid && st->sessions[i].server.unique_id)
            sc_map_put(&by_pid, st->sessions[i].server.pid,
                       (void *)st->sessions[i].server.unique_id);
    for (size_t i = 0; i < st->ntcons; i++)
        if (st->tcons[i].server.pid && st->tcons[i].server.unique_id)
            sc_map_put(&by_pid, st->tcons[i].server.pid, (void *)st->tcons[i].server.unique_id);
    for (size_t i = 0; i < opens->len; i++) {
        sc_open *o = opens->items[i];
        if (o->server.pid && !o->server.unique_id)
            o->server.unique_id = sc_map_get(&by_pid, o->server.pid);
    }
    sc_map_free(&by_pid);
}

static void set_route(live_src *src, const char *route)
{
    if (src->info)
        src->info->route = route;
}

static smbcim_status live_fill(sc_state *st, unsigned parts, void *priv, smbcim_error *err)
{
    live_src *src = priv;
    const sc_smbconf *conf = src->conf;
    live l = {.a = src->a, .err = err, .lock_dir = conf->lock_dir,
              .clustering = conf->clustering};
    sc_map_init_exact(&l.sess_by_id);
    sc_map_init_exact(&l.user_by_uid);
    const char *force = getenv("SMBCIM_SAMBA_SOURCE");
    bool use_smbstatus = force && strcmp(force, "smbstatus") == 0;
    smbcim_status rc = WBEM_S_NO_ERROR;
    if (!use_smbstatus) {
        /* The lock directory holds no session state on a cluster node
         * (ctdbd keeps the clustered databases, each node's copy only
         * partly current): there they are read cluster-wide through
         * ctdbd, as smbstatus does; smbstatus itself when that fails in a
         * way it may not. */
        bool fallback = false;
        rc = conf->clustering ? walk_cluster(&l, parts, conf->ctdbd_socket, &fallback)
                              : walk_all(&l, parts);
        if (rc != WBEM_S_NO_ERROR && fallback) {
            if (src->info)
                snprintf(src->info->fallback_reason, sizeof src->info->fallback_reason,
                         "clustering = yes, and the cluster cannot be read through ctdbd: %.400s",
                         err->msg);
            smbcim_error_clear(err);
            rc = WBEM_S_NO_ERROR;
            use_smbstatus = true;
        } else if (rc == WBEM_S_NO_ERROR && l.bad_record) {
            if (src->info)
                snprintf(src->info->fallback_reason, sizeof src->info->fallback_reason, "%s",
                         l.reason ? l.reason : l.why);
            use_smbstatus = true;
        }
    }
    if (use_smbstatus) {
        rc = via_smbstatus(&l, src->conf_path, conf);
        if (rc == WBEM_S_NO_ERROR) {
            set_route(src, "smbstatus");
            /* One run gives every part at one instant: take them all,
             * but the parts already read from smbd's databases. */
            parts = SC_PARTS_ALL & ~st->have;
            if (!(parts & SC_PART_CONNS))
                opens_take_unique_ids(st, &l.opens);
        }
    } else if (rc == WBEM_S_NO_ERROR && src->info && strcmp(src->info->route, "config") == 0) {
        /* not over "smbstatus": an earlier part came that way */
        set_route(src, l.cluster_route ? "ctdb" : "tdb");
    }
    if (rc != WBEM_S_NO_ERROR) {
        st->sessions_status = rc;
        st->sessions_note = sc_strdup(src->a, err->msg);
        st->have = SC_PARTS_ALL;
        st->nsessions = st->ntcons = st->nopens = 0;
        if (rc == WBEM_E_ACCESS_DENIED)
            set_route(src, "none");
        goto done;
    }
    if (parts & SC_PART_CONNS) {
        /* A tree connect's machine is its session's remote name. */
        for (size_t i = 0; i < l.tcons.len; i++) {
            sc_tcon *t = l.tcons.items[i];
            if (!t->machine) {
                const sc_ndr_session *ns = sc_map_get(&l.sess_by_id, t->session_id);
                t->machine = ns && ns->remote_name ? ns->remote_name : NULL;
            }
        }
        sc_vec shares = {0};
        for (size_t i = 0; i < st->nshares; i++)
            sc_vec_push(&shares, &st->shares[i]);
        size_t before = shares.len;
        add_home_shares(&l, conf, &shares);
        if (shares.len > before)
            st->shares = vec_array(src->a, &shares, sizeof(sc_share), &st->nshares);
        sc_vec_free(&shares);
        st->sessions = vec_array(src->a, &l.sessions, sizeof(sc_session), &st->nsessions);
        st->tcons = vec_array(src->a, &l.tcons, sizeof(sc_tcon), &st->ntcons);
        struct timeval tv;
        gettimeofday(&tv, NULL);
        st->taken_at = (sc_time){.sec = tv.tv_sec, .usec = (int32_t)tv.tv_usec, .valid = true};
    }
    if (parts & SC_PART_OPENS)
        st->opens = vec_array(src->a, &l.opens, sizeof(sc_open), &st->nopens);
    st->have |= parts;
    if (src->info)
        src->info->records += l.records;
done:
    free(l.alive);
    sc_map_free(&l.sess_by_id);
    sc_map_free(&l.user_by_uid);
    sc_vec_free(&l.sessions);
    sc_vec_free(&l.tcons);
    sc_vec_free(&l.opens);
    sc_vec_free(&l.ndr_sessions);
    return rc;
}

smbcim_status sc_live_load(sc_arena *a, const char *smb_conf, sc_state **out,
                           sc_live_info *info, smbcim_error *err)
{
    const char *path = smb_conf ? smb_conf : SC_SAMBA_CONFIGFILE;
    sc_smbconf *conf = NULL;
    smbcim_error cerr = {0};
    smbcim_status st = sc_smbconf_load(a, path, &conf, &cerr);
    if (st != WBEM_S_NO_ERROR) {
        bool no_samba = st == WBEM_E_NOT_AVAILABLE && access("/usr/sbin/smbd", X_OK) != 0 &&
                        access("/usr/local/samba/sbin/smbd", X_OK) != 0;
        return smbcim_error_set(err, st, "%s%s", cerr.msg,
                                no_samba ? " (Samba does not seem to be installed: no smbd)"
                                         : "");
    }
    sc_state *s = sc_alloc(a, sizeof *s);
    s->server_name = conf->netbios_name;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    s->taken_at = (sc_time){.sec = tv.tv_sec, .usec = (int32_t)tv.tv_usec, .valid = true};
    s->nshares = conf->nshares;
    s->shares = sc_alloc_array(a, conf->nshares ? conf->nshares : 1, sizeof(sc_share));
    if (conf->nshares)
        memcpy(s->shares, conf->shares, conf->nshares * sizeof(sc_share));
    s->sessions = sc_alloc(a, sizeof(sc_session));
    s->tcons = sc_alloc(a, sizeof(sc_tcon));
    s->opens = sc_alloc(a, sizeof(sc_open));
    if (info) {
        info->route = "config";
        info->config_file = conf->config_file;
        info->lock_dir = conf->lock_dir;
        info->records = 0;
        info->fallback_reason[0] = '\0';
    }
    /* Win32_Share needs only the configuration: without smbd, or without
     * the right to read its state, the context still opens; the session
     * classes then answer nothing (smbd stopped: there is nothing) or fail
     * with ACCESS_DENIED (not root). */
    live l = {.a = a, .err = err, .lock_dir = conf->lock_dir};
    char why[512];
    bool denied = false;
    /* What the configuration reader skipped (usershare files smbd would
     * refuse, ...) goes out as the context's warning (smbcim_live_warning):
     * the CLI prints it, smbcimd logs it. */
    const char *conf_warning = NULL;
    if (conf->nwarnings) {
        sc_buf wb;
        sc_buf_init(&wb);
        for (size_t i = 0; i < conf->nwarnings; i++)
            sc_buf_printf(&wb, "%s%s", i ? "; " : "", conf->warnings[i]);
        conf_warning = sc_strdup(a, wb.data);
        sc_buf_free(&wb);
    }
    s->sessions_note = conf_warning;
    if (!smbd_running(&l, conf, why, sizeof why, &denied)) {
        s->sessions_status = denied ? WBEM_E_ACCESS_DENIED : WBEM_S_NO_ERROR;
        /* (denied: the note is the error of the requests that need the
         * state, which the configuration's warnings would only blur) */
        s->sessions_note = sc_sprintf(a, "%s (configuration %s)%s%s", why, path,
                                      conf_warning && !denied ? "; " : "",
                                      conf_warning && !denied ? conf_warning : "");
        s->have = SC_PARTS_ALL;
        if (info)
            info->route = "none";
    } else {
        live_src *src = sc_alloc(a, sizeof *src);
        *src = (live_src){.a = a, .conf_path = sc_strdup(a, path), .conf = conf, .info = info};
        s->fill = live_fill;
        s->fill_priv = src;
    }
    *out = s;
    return WBEM_S_NO_ERROR;
}
