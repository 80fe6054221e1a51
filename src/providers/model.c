/*
 * model.c - merges a source state into the rows Windows shows: shares
 * (with synthesized ones), connections and sessions.  The rules, and why,
 * are in docs/values.md; every step is linear in the size of the state
 * (hash maps, no nested scans).
 */
#include "providers/model_int.h"

#include <stdlib.h>
#include <string.h>

const char *sc_model_computer_name(sc_arena *a, const char *rm)
{
    if (!rm)
        return NULL;
    /* An IPv6 literal has a colon; Windows writes it in brackets. */
    if (strchr(rm, ':') && rm[0] != '[')
        return sc_sprintf(a, "[%s]", rm);
    return rm;
}

const char *sc_model_user_name(const char *u)
{
    if (!u)
        return NULL;
    const char *bs = strrchr(u, '\\');
    return bs ? bs + 1 : u;
}

static void join_key(sc_buf *b, const char *computer, const char *share, const char *user)
{
    sc_buf_puts(b, computer);
    sc_buf_putc(b, '\x1f');
    if (share) {
        sc_buf_puts(b, share);
        sc_buf_putc(b, '\x1f');
    }
    sc_buf_puts(b, user);
}

/* Key of a session (share NULL) or connection in the look-up maps: the
 * key values joined by \x1f. */
static const char *model_key(sc_arena *a, const char *computer, const char *share,
                             const char *user)
{
    sc_buf b;
    sc_buf_init(&b);
    join_key(&b, computer, share, user);
    const char *k = sc_strndup(a, b.data, b.len);
    sc_buf_free(&b);
    return k;
}

sc_mconn *sc_model_find_conn(sc_model *m, const char *computer, const char *share,
                             const char *user)
{
    if (!computer || !share || !user)
        return NULL;
    sc_buf b;
    sc_buf_init(&b);
    join_key(&b, computer, share, user);
    sc_mconn *c = sc_map_get(&m->conn_by_key, b.data);
    sc_buf_free(&b);
    return c;
}

sc_msess *sc_model_find_sess(sc_model *m, const char *computer, const char *user)
{
    if (!computer || !user)
        return NULL;
    sc_buf b;
    sc_buf_init(&b);
    join_key(&b, computer, NULL, user);
    sc_msess *s = sc_map_get(&m->sess_by_key, b.data);
    sc_buf_free(&b);
    return s;
}

cim_value sc_id_value(const char *id, cim_type t)
{
    if (!id || !*id || id[0] == '-')
        return cim_null(t);
    char *end;
    unsigned long long v = strtoull(id, &end, 10);
    if (*end || (t == CIM_T_UINT32 && v > UINT32_MAX))
        return cim_null(t);
    return cim_u(t, v);
}

const char *sc_value_str(const cim_instance *inst, const char *name)
{
    const cim_value *v = cim_instance_get(inst, name);
    return v && !v->null && cim_type_is_stringlike(v->type) ? v->v.s : NULL;
}

const char *sc_path_key(const cim_objpath *p, const char *name)
{
    for (size_t i = 0; i < p->nkeys; i++)
        if (sc_streqi(p->keys[i].name, name) && !p->keys[i].value.null &&
            cim_type_is_stringlike(p->keys[i].value.type))
            return p->keys[i].value.v.s;
    return NULL;
}

bool sc_path_u64(const cim_objpath *p, const char *name, uint64_t *out)
{
    for (size_t i = 0; i < p->nkeys; i++) {
        const cim_value *v = &p->keys[i].value;
        if (sc_streqi(p->keys[i].name, name) && !v->null && v->type == CIM_T_UINT64) {
            *out = v->v.u;
            return true;
        }
    }
    return false;
}

const char *sc_path_u64_key(sc_arena *a, const cim_objpath *p, const char *name)
{
    uint64_t v;
    return sc_path_u64(p, name, &v) ? sc_u64_text(a, v, 10) : NULL;
}

void sc_provctx_release(sc_provctx *pc)
{
    if (!pc->model)
        return;
    sc_map_free(&pc->model->share_by_name);
    sc_map_free(&pc->model->sess_by_key);
    sc_map_free(&pc->model->conn_by_key);
    sc_map_free(&pc->model->session_by_id);
    pc->model = NULL;
}

static bool time_before(sc_time a, sc_time b)
{
    return a.sec < b.sec || (a.sec == b.sec && a.usec < b.usec);
}

/* Whole seconds from `from` to `to`, 0 if `to` is earlier (clock skew). */
cim_value sc_active_time(const sc_state *st, sc_time start)
{
    if (!start.valid || !st->taken_at.valid)
        return cim_null(CIM_T_UINT32);
    int64_t us = (st->taken_at.sec - start.sec) * 1000000 +
                 (st->taken_at.usec - start.usec);
    if (us < 0)
        return cim_u(CIM_T_UINT32, 0);
    int64_t s = us / 1000000;
    return cim_u(CIM_T_UINT32, s > UINT32_MAX ? UINT32_MAX : (uint64_t)s);
}

static bool server_id_usable(const sc_server_id *s)
{
    return s->pid != NULL;
}

static bool session_usable(const sc_session *s)
{
    /* A session still authenticating has no user yet. */
    return s->username && s->uid != -1 && strcmp(s->username, "(auth in progress)") != 0;
}

static bool dialect_is_smb2(const char *d)
{
    return d && (strncmp(d, "SMB2", 4) == 0 || strncmp(d, "SMB3", 4) == 0);
}

/* Adds the shares of the state the model does not have yet (all at
 * first; the [homes] shares in use once the sessions are read), and room
 * for `more` synthesized ones. */
static void add_state_shares(sc_arena *a, sc_model *m, const sc_state *st, size_t more)
{
    size_t cap = m->nshares + (st->nshares - m->nrec) + more;
    sc_mshare **arr = sc_alloc_array(a, cap ? cap : 1, sizeof(sc_mshare *));
    if (m->nshares)
        memcpy(arr, m->shares, m->nshares * sizeof(sc_mshare *));
    m->shares = arr;
    for (size_t i = m->nrec; i < st->nshares; i++) {
        if (sc_map_get(&m->share_by_name, st->shares[i].name))
            continue; /* a second share of the same name: the first wins */
        sc_mshare *sh = sc_alloc(a, sizeof *sh);
        sh->rec = &st->shares[i];
        sh->name = st->shares[i].name;
        sc_map_put(&m->share_by_name, sh->name, sh);
        m->shares[m->nshares++] = sh;
    }
    m->nrec = st->nshares;
}

/* Level SC_MODEL_CONNS: sessions merged by (computer, user), tree connects
 * by (computer, share, user), a share synthesized for each share name a
 * tree connect uses that the list lacks. */
static void build_conns(sc_arena *a, sc_model *m, const sc_state *st)
{
    add_state_shares(a, m, st, st->ntcons);
    sc_map sess_first_tcon;
    sc_map_init_exact(&sess_first_tcon);
    sc_map sess_by_id; /* session id -> sc_msess */
    sc_map_init_exact(&sess_by_id);
    for (size_t i = 0; i < st->ntcons; i++) {
        const sc_tcon *t = &st->tcons[i];
        if (!t->session_id || !t->connected_at.valid)
            continue;
        const sc_tcon *prev = sc_map_get(&sess_first_tcon, t->session_id);
        if (!prev || time_before(t->connected_at, prev->connected_at))
            sc_map_put(&sess_first_tcon, t->session_id, (void *)t);
    }
    m->sesss = sc_alloc_array(a, st->nsessions ? st->nsessions : 1, sizeof(sc_msess));
    m->sess_of = sc_alloc_array(a, st->nsessions ? st->nsessions : 1, sizeof(sc_msess *));
    m->sessions = sc_alloc_array(a, st->nsessions ? st->nsessions : 1, sizeof(sc_msession));
    for (size_t i = 0; i < st->nsessions; i++) {
        const sc_session *s = &st->sessions[i];
        if (!session_usable(s) || !s->session_id)
            continue;
        const char *computer = sc_model_computer_name(a, s->remote_machine);
        const char *user = sc_model_user_name(s->username);
        if (!computer || !user)
            continue;
        const char *key = model_key(a, computer, NULL, user);
        sc_msess *ms = sc_map_get(&m->sess_by_key, key);
        if (!ms) {
            ms = &m->sesss[m->nsesss++];
            ms->computer = computer;
            ms->user = user;
            ms->smb2 = true;
            ms->dialect_known = true;
            sc_map_put(&m->sess_by_key, key, ms);
        }
        m->sess_of[i] = ms;
        sc_map_put(&sess_by_id, s->session_id, ms);
        /* start: creation_time (Samba 4.20+), else the first tree connect */
        sc_time start = s->creation_time;
        if (!start.valid) {
            const sc_tcon *ft = sc_map_get(&sess_first_tcon, s->session_id);
            if (ft)
                start = ft->connected_at;
        }
        if (start.valid && (!ms->oldest.valid || time_before(start, ms->oldest)))
            ms->oldest = start;
        /* MSFT_SmbSession: keyed by the id as a number (one whose id is not
         * one has no instance there) */
        cim_value id = sc_id_value(s->session_id, CIM_T_UINT64);
        if (id.null)
            m->sessions_without_id++;
        else {
            const char *idtext = sc_u64_text(a, id.v.u, 10);
            if (!sc_map_get(&m->session_by_id, idtext)) {
                sc_msession *one = &m->sessions[m->nsessions++];
                *one = (sc_msession){.rec = s, .sess = ms, .start = start};
                sc_map_put(&m->session_by_id, idtext, one);
            }
        }
        if (!s->dialect)
            ms->dialect_known = false;
        else if (!dialect_is_smb2(s->dialect))
            ms->smb2 = false;
    }
    sc_map_free(&sess_first_tcon);

    m->conns = sc_alloc_array(a, st->ntcons ? st->ntcons : 1, sizeof(sc_mconn));
    m->conn_of = sc_alloc_array(a, st->ntcons ? st->ntcons : 1, sizeof(sc_mconn *));
    for (size_t i = 0; i < st->ntcons; i++) {
        const sc_tcon *t = &st->tcons[i];
        if (!t->service || !t->session_id)
            continue;
        sc_msess *ms = sc_map_get(&sess_by_id, t->session_id);
        if (!ms)
            continue; /* session gone or still authenticating */
        sc_mshare *sh = sc_map_get(&m->share_by_name, t->service);
        if (!sh) {
            sh = sc_alloc(a, sizeof *sh);
            sh->name = t->service;
            sc_map_put(&m->share_by_name, sh->name, sh);
            m->shares[m->nshares++] = sh;
        }
        const char *key = model_key(a, ms->computer, sh->name, ms->user);
        sc_mconn *c = sc_map_get(&m->conn_by_key, key);
        if (!c) {
            c = &m->conns[m->nconns++];
            c->computer = ms->computer;
            c->share_name = sh->name;
            c->user = ms->user;
            c->share = sh;
            c->sess = ms;
            sc_map_put(&m->conn_by_key, key, c);
            if (sh->last_conn)
                sh->last_conn->next_in_share = c;
            else
                sh->first_conn = c;
            sh->last_conn = c;
            if (ms->last_conn)
                ms->last_conn->next_in_sess = c;
            else
                ms->first_conn = c;
            ms->last_conn = c;
        }
        m->conn_of[i] = c;
        c->ntcons++;
        if (!c->oldest ||
            (t->connected_at.valid &&
             (!c->oldest->connected_at.valid ||
              time_before(t->connected_at, c->oldest->connected_at))))
            c->oldest = t;
    }
    sc_map_free(&sess_by_id);
}

/* A set of (row, counter) pairs, by address: whether a merged row has
 * already counted an smbd's opens.  Open addressing, at most half full. */
typedef struct pair_set {
    const void *(*slot)[2];
    size_t len, cap;
} pair_set;

static size_t pair_hash(const void *x, const void *y, size_t mask)
{
    uint64_t h = (uint64_t)(uintptr_t)x * 0x9E3779B97F4A7C15ull ^
                 (uint64_t)(uintptr_t)y * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ h >> 29) & mask;
}

/* Adds (x, y); false if it was there already. */
static bool pair_set_add(pair_set *ps, const void *x, const void *y)
{
    if ((ps->len + 1) * 2 > ps->cap) {
        size_t cap = ps->cap ? ps->cap * 2 : 64;
        const void *(*t)[2] = sc_xcalloc(cap, sizeof *t);
        for (size_t i = 0; i < ps->cap; i++) {
            if (!ps->slot[i][0])
                continue;
            size_t j = pair_hash(ps->slot[i][0], ps->slot[i][1], cap - 1);
            while (t[j][0])
                j = (j + 1) & (cap - 1);
            t[j][0] = ps->slot[i][0];
            t[j][1] = ps->slot[i][1];
        }
        free(ps->slot);
        ps->slot = t;
        ps->cap = cap;
    }
    size_t j = pair_hash(x, y, ps->cap - 1);
    for (; ps->slot[j][0]; j = (j + 1) & (ps->cap - 1))
        if (ps->slot[j][0] == x && ps->slot[j][1] == y)
            return false;
    ps->slot[j][0] = x;
    ps->slot[j][1] = y;
    ps->len++;
    return true;
}

/* The open-count table: how many opens an smbd process has under one
 * share path (path set) or for one uid (path NULL).  The process is its
 * pid and unique_id: the unique_id tells a reused pid apart; when a record
 * lacks it, the pid alone is used (docs/values.md says so).  Keys are the
 * records' own strings, hashed and compared in place (no key text is
 * built: at 2,000 clients this table is filled 8,000 times). */
typedef struct open_count {
    const char *pid, *unique, *path;
    int64_t uid;
    uint64_t hash;
    uint32_t n;
} open_count;

typedef struct count_table {
    open_count *slot;
    size_t len, cap;
} count_table;

static uint64_t hash_str(uint64_t h, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++)
        h = (h ^ *p) * 0x100000001B3ull;
    return (h ^ 0x1F) * 0x100000001B3ull;
}

static uint64_t count_hash(const sc_server_id *s, const char *path, int64_t uid)
{
    uint64_t h = hash_str(hash_str(0xCBF29CE484222325ull, s->pid), s->unique_id);
    return path ? hash_str(h, path) : (h ^ (uint64_t)uid) * 0x9E3779B97F4A7C15ull;
}

static bool str_same(const char *a, const char *b)
{
    return strcmp(a ? a : "", b ? b : "") == 0;
}

/* The slot of (server, path or uid): its entry, or the empty slot where it
 * goes. */
static open_count *count_slot(const count_table *t, const sc_server_id *s, const char *path,
                              int64_t uid, uint64_t h)
{
    size_t mask = t->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        open_count *c = &t->slot[i];
        if (!c->pid)
            return c;
        if (c->hash == h && (path ? c->path && strcmp(c->path, path) == 0
                                  : !c->path && c->uid == uid) &&
            strcmp(c->pid, s->pid) == 0 && str_same(c->unique, s->unique_id))
            return c;
    }
}

static void count_add(count_table *t, const sc_server_id *s, const char *path, int64_t uid)
{
    if ((t->len + 1) * 2 > t->cap) {
        count_table g = {sc_xcalloc(t->cap ? t->cap * 2 : 64, sizeof(open_count)), t->len,
                         t->cap ? t->cap * 2 : 64};
        for (size_t i = 0; i < t->cap; i++)
            if (t->slot[i].pid) {
                const open_count *o = &t->slot[i];
                sc_server_id sid = {.pid = o->pid, .unique_id = o->unique};
                *count_slot(&g, &sid, o->path, o->uid, o->hash) = *o;
            }
        free(t->slot);
        *t = g;
    }
    uint64_t h = count_hash(s, path, uid);
    open_count *c = count_slot(t, s, path, uid, h);
    if (!c->pid) {
        *c = (open_count){s->pid, s->unique_id, path, uid, h, 0};
        t->len++;
    }
    c->n++;
}

/* The count of (server, path or uid) the first time `owner` (a merged row)
 * meets it, else 0: the opens of one smbd count once per row however many
 * of its sessions or tree connects the row merges. */
/* The entry of (server, path or uid), or NULL when it has no opens. */
static const open_count *count_find(const count_table *t, const sc_server_id *s,
                                    const char *path, int64_t uid)
{
    if (!t->cap)
        return NULL;
    const open_count *c = count_slot(t, s, path, uid, count_hash(s, path, uid));
    return c->pid ? c : NULL;
}

static uint32_t count_once(pair_set *counted, const void *owner, const count_table *t,
                           const sc_server_id *s, const char *path, int64_t uid)
{
    const open_count *c = count_find(t, s, path, uid);
    if (!c || !pair_set_add(counted, owner, c))
        return 0;
    return c->n;
}

/* Level SC_MODEL_COUNTS: the open files counted by Samba's rules (a
 * session's ResourcesOpened: the opens of its smbds by its uid; a
 * connection's NumberOfFiles: the opens of its smbds under the share's
 * path; docs/values.md). */
static void build_counts(sc_model *m, const sc_state *st)
{
    count_table counts = {0};
    pair_set counted = {0};
    /* sized once for its at most two entries an open (at most half full),
     * instead of grown by doubling through every smaller table */
    size_t cap = 64;
    while (cap < st->nopens * 4)
        cap *= 2;
    counts = (count_table){sc_xcalloc(cap, sizeof(open_count)), 0, cap};
    for (size_t i = 0; i < st->nopens; i++) {
        const sc_open *o = &st->opens[i];
        if (!server_id_usable(&o->server))
            continue;
        if (o->service_path)
            count_add(&counts, &o->server, o->service_path, 0);
        count_add(&counts, &o->server, NULL, o->uid);
    }
    for (size_t i = 0; i < m->nsesss; i++)
        m->sesss[i].resources_known = true;
    for (size_t i = 0; i < st->nsessions; i++) {
        sc_msess *ms = m->sess_of[i];
        if (!ms)
            continue;
        const sc_session *s = &st->sessions[i];
        /* several sessions of one group in one smbd count its opens once */
        if (server_id_usable(&s->server))
            ms->resources += count_once(&counted, ms, &counts, &s->server, NULL, s->uid);
        else
            ms->resources_known = false;
    }
    /* each Samba session on its own (MSFT_SmbSession.NumOpens): the opens
     * of its smbd by its uid, the rule ResourcesOpened adds up */
    for (size_t i = 0; i < m->nsessions; i++) {
        sc_msession *one = &m->sessions[i];
        const sc_server_id *sid = &one->rec->server;
        if (!server_id_usable(sid))
            continue;
        one->nopens_known = true;
        const open_count *c = count_find(&counts, sid, NULL, one->rec->uid);
        one->nopens = c ? c->n : 0;
    }
    for (size_t i = 0; i < m->nconns; i++)
        m->conns[i].nfiles_known = true;
    for (size_t i = 0; i < st->ntcons; i++) {
        sc_mconn *c = m->conn_of[i];
        if (!c)
            continue;
        const sc_tcon *t = &st->tcons[i];
        /* two merged tree connects served by one smbd count its opens once */
        const char *spath = c->share->rec ? c->share->rec->path : NULL;
        if (spath && server_id_usable(&t->server))
            c->nfiles += count_once(&counted, c, &counts, &t->server, spath, 0);
        else
            c->nfiles_known = false;
    }
    free(counts.slot);
    free(counted.slot);
}

static const unsigned level_parts[] = {
    [SC_MODEL_SHARES] = 0,
    [SC_MODEL_CONNS] = SC_PART_CONNS,
    [SC_MODEL_COUNTS] = SC_PART_CONNS | SC_PART_OPENS,
};

smbcim_status sc_model_at(sc_provctx *pc, sc_model_level level, bool optional, sc_model **out,
                          smbcim_error *err)
{
    sc_arena *a = pc->arena;
    sc_state *st = pc->state;
    sc_model *m = pc->model;
    *out = NULL;
    if (!m) {
        m = sc_alloc(a, sizeof(*m));
        sc_map_init(&m->share_by_name);
        sc_map_init(&m->sess_by_key);
        sc_map_init(&m->conn_by_key);
        sc_map_init_exact(&m->session_by_id);
        add_state_shares(a, m, st, 0);
        m->level = SC_MODEL_SHARES;
        pc->model = m;
    }
    if (m->level >= level) {
        *out = m;
        return WBEM_S_NO_ERROR;
    }
    smbcim_status s = sc_state_fill(st, level_parts[level], err);
    if (s != WBEM_S_NO_ERROR) {
        if (optional && s == WBEM_E_ACCESS_DENIED) {
            /* the shares of the configuration alone */
            *err = (smbcim_error){0};
            *out = m;
            return WBEM_S_NO_ERROR;
        }
        return s;
    }
    if (m->level < SC_MODEL_CONNS) {
        build_conns(a, m, st);
        m->level = SC_MODEL_CONNS;
    }
    if (level >= SC_MODEL_COUNTS) {
        build_counts(m, st);
        m->level = SC_MODEL_COUNTS;
    }
    *out = m;
    return WBEM_S_NO_ERROR;
}

/* ---- open files (MSFT_SmbOpenFile) ---------------------------------------- */

/* What one smbd (a server id) serves: its sessions and tree connects. */
typedef struct smbd_rows {
    sc_vec sess;  /* const sc_session * */
    sc_vec tcons; /* const sc_tcon * */
} smbd_rows;

static const char *server_key(sc_arena *a, const sc_server_id *s)
{
    const char *parts[] = {s->pid, "\x1f", s->unique_id};
    return sc_concat(a, parts, 3);
}

static smbd_rows *rows_of(sc_arena *a, sc_map *by_server, sc_vec *all, const sc_server_id *s)
{
    const char *k = server_key(a, s);
    smbd_rows *r = sc_map_get(by_server, k);
    if (!r) {
        r = sc_alloc(a, sizeof *r);
        sc_map_put(by_server, k, r);
        sc_vec_push(all, r);
    }
    return r;
}

/* A choice among candidates: the one seen, unless two different ones were. */
typedef struct pick {
    const void *one;
    bool several;
} pick;

static void pick_add(pick *p, const void *x)
{
    if (p->one && p->one != x)
        p->several = true;
    p->one = x;
}

static const void *pick_get(const pick *p)
{
    return p->several ? NULL : p->one;
}

/* FileId of an open: Samba's share_file_id counts the opens of one smbd
 * process (two smbds both have a 5), so the id that is unique on the
 * server is the pair, as smbstatus keys its opens "PID/ID": FileId =
 * PID * 2^32 + ID, plus VNN * 2^54 on a CTDB cluster ("VNN:PID").  Linux
 * pids are below 2^22 (PID_MAX_LIMIT); an smbd would need 2^32 opens to
 * overflow the counter.  false when a part does not fit. */
static bool open_file_id(const sc_open *o, uint64_t *out)
{
    uint32_t vnn;
    uint64_t pid;
    if (!sc_server_pid_parse(o->server.pid, &vnn, &pid))
        return false;
    uint64_t node = vnn == SC_NO_VNN ? 0 : vnn;
    if (node >= 1u << 10 || pid >= 1u << 22 || o->file_id > UINT32_MAX)
        return false;
    *out = node << 54 | pid << 32 | o->file_id;
    return true;
}

/* Each open belongs to the tree connect of its smbd whose share has the
 * open's share path, preferring one whose session has the open's uid (the
 * rule NumberOfFiles counts by); to the session of its smbd with its uid;
 * and to the share of that tree connect, else the one share with that
 * path.  When Samba's records leave two candidates, that link is left
 * out (docs/values.md). */
static void build_opens(sc_arena *a, sc_model *m, const sc_state *st)
{
    sc_arena *tmp = sc_arena_new();
    sc_map by_server, sess_by_id, share_by_path;
    sc_map_init_exact(&by_server);
    sc_map_init_exact(&sess_by_id);
    sc_map_init_exact(&share_by_path);
    sc_vec all = {0};
    for (size_t i = 0; i < st->nsessions; i++) {
        const sc_session *s = &st->sessions[i];
        if (!m->sess_of[i] || !server_id_usable(&s->server))
            continue;
        sc_vec_push(&rows_of(tmp, &by_server, &all, &s->server)->sess, (void *)s);
        sc_map_put(&sess_by_id, s->session_id, (void *)s);
    }
    for (size_t i = 0; i < st->ntcons; i++) {
        const sc_tcon *t = &st->tcons[i];
        if (m->conn_of[i] && server_id_usable(&t->server))
            sc_vec_push(&rows_of(tmp, &by_server, &all, &t->server)->tcons, (void *)t);
    }
    static const char several[] = "";
    for (size_t i = 0; i < m->nshares; i++) {
        sc_mshare *sh = m->shares[i];
        if (!sh->rec || !sh->rec->path || sh->rec->kind != SC_SHARE_DISK)
            continue;
        sc_mshare *prev = sc_map_get(&share_by_path, sh->rec->path);
        sc_map_put(&share_by_path, sh->rec->path, prev ? (void *)several : sh);
    }

    m->opens = sc_alloc_array(a, st->nopens ? st->nopens : 1, sizeof(sc_mopen));
    for (size_t i = 0; i < st->nopens; i++) {
        const sc_open *o = &st->opens[i];
        if (!server_id_usable(&o->server) || !o->service_path)
            continue;
        uint64_t file_id;
        if (!o->file_id_known) {
            m->opens_without_id++;
            continue;
        }
        if (!open_file_id(o, &file_id)) {
            m->opens_unnumbered++;
            continue;
        }
        sc_mopen *mo = &m->opens[m->nopens++];
        mo->rec = o;
        mo->file_id = file_id;
        smbd_rows *r = sc_map_get(&by_server, server_key(tmp, &o->server));
        pick by_uid = {0}, any = {0}, session = {0};
        for (size_t j = 0; r && j < r->tcons.len; j++) {
            const sc_tcon *t = r->tcons.items[j];
            sc_mconn *c = m->conn_of[t - st->tcons];
            const char *path = c->share->rec ? c->share->rec->path : NULL;
            if (!path || strcmp(path, o->service_path) != 0)
                continue;
            const sc_session *ts = sc_map_get(&sess_by_id, t->session_id);
            pick_add(ts && ts->uid == o->uid ? &by_uid : &any, c);
        }
        for (size_t j = 0; r && j < r->sess.len; j++) {
            const sc_session *s = r->sess.items[j];
            if (!mo->computer)
                mo->computer = m->sess_of[s - st->sessions]->computer;
            if (s->uid == o->uid)
                pick_add(&session, s);
        }
        mo->conn = (sc_mconn *)pick_get(by_uid.one ? &by_uid : &any);
        mo->session = pick_get(&session);
        mo->sess = mo->conn      ? mo->conn->sess
                   : mo->session ? m->sess_of[mo->session - st->sessions]
                                 : NULL;
        if (mo->conn) {
            mo->share = mo->conn->share;
        } else {
            sc_mshare *sh = sc_map_get(&share_by_path, o->service_path);
            mo->share = sh == (void *)several ? NULL : sh;
        }
    }
    for (size_t i = 0; i < all.len; i++) {
        smbd_rows *r = all.items[i];
        sc_vec_free(&r->sess);
        sc_vec_free(&r->tcons);
    }
    sc_vec_free(&all);
    sc_map_free(&by_server);
    sc_map_free(&sess_by_id);
    sc_map_free(&share_by_path);
    sc_arena_free(tmp);
}

smbcim_status sc_model_opens(sc_provctx *pc, sc_model **out, smbcim_error *err)
{
    smbcim_status s = sc_model_at(pc, SC_MODEL_COUNTS, false, out, err);
    if (s != WBEM_S_NO_ERROR)
        return s;
    sc_model *m = *out;
    if (!m->opens_built) {
        build_opens(pc->arena, m, pc->state);
        m->opens_built = true;
    }
    if (m->opens_without_id) {
        *out = NULL;
        return smbcim_error_set(err, WBEM_E_NOT_AVAILABLE,
                                "the ids of %zu open file(s) are not known: they were read from "
                                "smbstatus' text output (the fallback route), which does not "
                                "print them",
                                m->opens_without_id);
    }
    if (m->opens_unnumbered) {
        *out = NULL;
        return smbcim_error_set(err, WBEM_E_NOT_AVAILABLE,
                                "%zu open file(s) cannot be given a FileId: a pid of 2^22 or "
                                "more, a CTDB node number of 1024 or more, or a share_file_id "
                                "of 2^32 or more (docs/values.md, \"MSFT_SmbOpenFile\")",
                                m->opens_unnumbered);
    }
    return WBEM_S_NO_ERROR;
}
