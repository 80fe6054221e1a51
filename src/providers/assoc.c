/*
 * assoc.c - the two SessionProvider associations.  Each instance holds the
 * paths of its two endpoints in its REF keys, written as Windows'
 * SessionProvider writes them (below); the engine traverses them
 * generically (engine/assoc.c), in both directions.
 */
#include "providers/model_int.h"

/* The text of a REF value: the endpoint's relative path with the key names
 * spelled "computername", "sharename", "UserName", as published scripts
 * show Windows writes Win32_SessionConnection.Dependent
 * (Win32_ServerConnection.computername="10.0.0.5",sharename="IPC$",
 * UserName="alice"), and as WMI keeps it: it does not normalise REF text.
 * docs/decisions.md ("REF values") has the evidence and what is inferred. */
static const char *const ref_spellings[] = {"computername", "sharename", "UserName", NULL};

/* The REF text of each endpoint, made once (a share with 2,000 connections
 * is referenced 2,000 times).  A connection's and a session's are made from
 * their keys alone: the associations do not read the open files that
 * those instances count (NumberOfFiles, ResourcesOpened), so a query of an
 * association reads sessions and tree connects only. */
static const char *share_ref(sc_provctx *pc, sc_mshare *s)
{
    if (!s->ref)
        s->ref = cim_instance_relpath_spelled(pc->arena, sc_share_instance(pc, s), ref_spellings);
    return s->ref;
}

static const char *conn_ref(sc_provctx *pc, sc_mconn *c)
{
    if (!c->ref)
        c->ref = sc_conn_relpath(pc, c, ref_spellings);
    return c->ref;
}

static const char *sess_ref(sc_provctx *pc, sc_msess *s)
{
    if (!s->ref)
        s->ref = sc_sess_relpath(pc, s, ref_spellings);
    return s->ref;
}

static cim_instance *link(sc_provctx *pc, const cim_class *cls, const char *ante, const char *dep)
{
    cim_instance *inst = cim_instance_new(pc->arena, cls);
    cim_instance_set(inst, "Antecedent", cim_str(CIM_T_REFERENCE, ante));
    cim_instance_set(inst, "Dependent", cim_str(CIM_T_REFERENCE, dep));
    sc_instance_finish(pc, inst);
    return inst;
}

/* Each connection has one link of each kind, built once. */
static cim_instance *share_link(sc_provctx *pc, const cim_class *cls, sc_mconn *c)
{
    if (!c->share_link)
        c->share_link = link(pc, cls, share_ref(pc, c->share), conn_ref(pc, c));
    return c->share_link;
}

static cim_instance *sess_link(sc_provctx *pc, const cim_class *cls, sc_mconn *c)
{
    if (!c->sess_link)
        c->sess_link = link(pc, cls, sess_ref(pc, c->sess), conn_ref(pc, c));
    return c->sess_link;
}

static smbcim_status connshare_enumerate(sc_provctx *pc, const cim_class *cls,
                                         sc_vec *out, smbcim_error *err)
{
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_CONNS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < m->nconns; i++)
        sc_vec_push(out, share_link(pc, cls, &m->conns[i]));
    return WBEM_S_NO_ERROR;
}

static smbcim_status sessconn_enumerate(sc_provctx *pc, const cim_class *cls,
                                        sc_vec *out, smbcim_error *err)
{
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_CONNS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < m->nconns; i++)
        sc_vec_push(out, sess_link(pc, cls, &m->conns[i]));
    return WBEM_S_NO_ERROR;
}

/* The connection behind a Win32_ServerConnection instance. */
static sc_mconn *conn_of(sc_model *m, const cim_instance *target)
{
    return sc_model_find_conn(m, sc_value_str(target, "ComputerName"),
                              sc_value_str(target, "ShareName"),
                              sc_value_str(target, "UserName"));
}

/* Per-role look-ups: a share's or a session's connections are listed in
 * the model, so a traversal touches only the links it returns. */
static smbcim_status connshare_references(sc_provctx *pc, const cim_class *cls,
                                          const char *role, const cim_instance *target,
                                          sc_vec *out, smbcim_error *err)
{
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_CONNS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    if (sc_streqi(role, "Antecedent") && cim_class_is_a(target->cls, "Win32_Share")) {
        const char *name = sc_value_str(target, "Name");
        sc_mshare *s = name ? sc_map_get(&m->share_by_name, name) : NULL;
        for (sc_mconn *c = s ? s->first_conn : NULL; c; c = c->next_in_share)
            sc_vec_push(out, share_link(pc, cls, c));
    } else if (sc_streqi(role, "Dependent") &&
               cim_class_is_a(target->cls, "Win32_ServerConnection")) {
        sc_mconn *c = conn_of(m, target);
        if (c)
            sc_vec_push(out, share_link(pc, cls, c));
    }
    return WBEM_S_NO_ERROR;
}

static smbcim_status sessconn_references(sc_provctx *pc, const cim_class *cls,
                                         const char *role, const cim_instance *target,
                                         sc_vec *out, smbcim_error *err)
{
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_CONNS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    if (sc_streqi(role, "Antecedent") && cim_class_is_a(target->cls, "Win32_ServerSession")) {
        sc_msess *s = sc_model_find_sess(m, sc_value_str(target, "ComputerName"),
                                         sc_value_str(target, "UserName"));
        for (sc_mconn *c = s ? s->first_conn : NULL; c; c = c->next_in_sess)
            sc_vec_push(out, sess_link(pc, cls, c));
    } else if (sc_streqi(role, "Dependent") &&
               cim_class_is_a(target->cls, "Win32_ServerConnection")) {
        sc_mconn *c = conn_of(m, target);
        if (c)
            sc_vec_push(out, sess_link(pc, cls, c));
    }
    return WBEM_S_NO_ERROR;
}

const sc_provider sc_connshare_provider = {
    .class_name = "Win32_ConnectionShare",
    .enumerate = connshare_enumerate,
    .references = connshare_references,
};

const sc_provider sc_sessconn_provider = {
    .class_name = "Win32_SessionConnection",
    .enumerate = sessconn_enumerate,
    .references = sessconn_references,
};
