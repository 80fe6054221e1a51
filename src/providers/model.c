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

void sc_provctx_release(sc_provctx *pc)
{
    if (!pc->model)
        return;
    sc_map_free(&pc->model->share_by_name);
    sc_map_free(&pc->model->sess_by_key);
    sc_map_free(&pc->model->conn_by_key);
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

/* Key of "the smbd process X" for the open-count maps.  The unique_id
 * tells a reused pid apart; when a record lacks it, the pid alone is used
 * (and docs/values.md says so). */
static const char *server_key(sc_arena *a, const sc_server_id *s, const char *extra)
{
    const char *parts[] = {s->pid, "\x1f", s->unique_id, "\x1f", extra};
    return sc_concat(a, parts, 5);
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

static void *map_counter_add(sc_arena *a, sc_map *m, const char *key)
{
    uint32_t *c = sc_map_get(m, key);
    if (!c) {
        c = sc_alloc(a, sizeof(*c));
        sc_map_put(m, key, c);
    }
    (*c)++;
    return c;
}

static uint32_t map_counter(const sc_map *m, const char *key)
{
    uint32_t *c = sc_map_get(m, key);
    return c ? *c : 0;
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

/* counts[key] the first time `owner` (a merged row) meets key, else 0:
 * the opens of one smbd count once per row however many of its sessions or
 * tree connects the row merges. */
static uint32_t count_once(sc_arena *tmp, sc_map *counted, const void *owner, const char *key,
                           const sc_map *counts)
{
    const char *parts[] = {sc_u64_text(tmp, (uint64_t)(uintptr_t)owner, 16), "\x1f", key};
    const char *ckey = sc_concat(tmp, parts, 3);
    if (sc_map_get(counted, ckey))
        return 0;
    sc_map_put(counted, ckey, (void *)owner);
    return map_counter(counts, key);
}

/* Level SC_MODEL_COUNTS: the open files counted by Samba's rules (a
 * session's ResourcesOpened: the opens of its smbds by its uid; a
 * connection's NumberOfFiles: the opens of its smbds under the share's
 * path; docs/values.md). */
static void build_counts(sc_model *m, const sc_state *st)
{
    sc_arena *tmp = sc_arena_new(); /* keys of the temporary maps */
    sc_map opens_by_path, opens_by_uid, counted;
    sc_map_init_exact(&opens_by_path);
    sc_map_init_exact(&opens_by_uid);
    sc_map_init_exact(&counted);
    for (size_t i = 0; i < st->nopens; i++) {
        const sc_open *o = &st->opens[i];
        if (!server_id_usable(&o->server))
            continue;
        if (o->service_path)
            map_counter_add(tmp, &opens_by_path, server_key(tmp, &o->server, o->service_path));
        map_counter_add(tmp, &opens_by_uid,
                        server_key(tmp, &o->server, sc_i64_text(tmp, o->uid)));
    }
    for (size_t i = 0; i < m->nsesss; i++)
        m->sesss[i].resources_known = true;
    for (size_t i = 0; i < st->nsessions; i++) {
        sc_msess *ms = m->sess_of[i];
        if (!ms)
            continue;
        const sc_session *s = &st->sessions[i];
        /* several sessions of one group in one smbd count its opens once */
        if (server_id_usable(&s->server)) {
            const char *uidkey = server_key(tmp, &s->server, sc_i64_text(tmp, s->uid));
            ms->resources += count_once(tmp, &counted, ms, uidkey, &opens_by_uid);
        } else {
            ms->resources_known = false;
        }
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
        if (spath && server_id_usable(&t->server)) {
            const char *pkey = server_key(tmp, &t->server, spath);
            c->nfiles += count_once(tmp, &counted, c, pkey, &opens_by_path);
        } else {
            c->nfiles_known = false;
        }
    }
    sc_map_free(&opens_by_path);
    sc_map_free(&opens_by_uid);
    sc_map_free(&counted);
    sc_arena_free(tmp);
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
