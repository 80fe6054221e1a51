/*
 * connection.c - Win32_ServerConnection (SessionProvider): one instance
 * per (ComputerName, ShareName, UserName), merged in model.c.
 */
#include "providers/model_int.h"


/* A connection's keys: the one list its instance and its path are made
 * from. */
static sc_keyset conn_keys(const sc_mconn *c)
{
    return (sc_keyset){.cls = "Win32_ServerConnection", .n = 3,
                       .names = {"ComputerName", "ShareName", "UserName"},
                       .values = {cim_str(CIM_T_STRING, c->computer),
                                  cim_str(CIM_T_STRING, c->share_name),
                                  cim_str(CIM_T_STRING, c->user)}};
}

const char *sc_conn_relpath(sc_provctx *pc, const sc_mconn *c, const char *const *spellings)
{
    sc_keyset k = conn_keys(c);
    return sc_keyset_relpath(pc, &k, spellings);
}

cim_instance *sc_conn_instance(sc_provctx *pc, sc_mconn *c)
{
    if (c->inst)
        return c->inst;
    sc_keyset k = conn_keys(c);
    cim_instance *inst = sc_keyset_instance(pc, &k);
    cim_instance_set(inst, "ActiveTime", sc_active_time(pc->state, c->oldest->connected_at));
    cim_instance_set(inst, "ConnectionID", sc_id_value(c->oldest->tcon_id, CIM_T_UINT32));
    cim_instance_set(inst, "NumberOfUsers", cim_u(CIM_T_UINT32, c->ntcons));
    if (c->nfiles_known)
        cim_instance_set(inst, "NumberOfFiles", cim_u(CIM_T_UINT32, c->nfiles));
    sc_instance_finish(pc, inst);
    c->inst = inst;
    return inst;
}

static smbcim_status conn_enumerate(sc_provctx *pc, const cim_class *cls,
                                    sc_vec *out, smbcim_error *err)
{
    (void)cls;
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_COUNTS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < m->nconns; i++)
        sc_vec_push(out, sc_conn_instance(pc, &m->conns[i]));
    return WBEM_S_NO_ERROR;
}

static smbcim_status conn_get(sc_provctx *pc, const cim_class *cls, const cim_objpath *path,
                              cim_instance **out, smbcim_error *err)
{
    (void)cls;
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_COUNTS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    sc_mconn *c = sc_model_find_conn(m, sc_path_key(path, "ComputerName"),
                                     sc_path_key(path, "ShareName"),
                                     sc_path_key(path, "UserName"));
    *out = c ? sc_conn_instance(pc, c) : NULL;
    return WBEM_S_NO_ERROR;
}

const sc_provider sc_connection_provider = {
    .class_name = "Win32_ServerConnection",
    .enumerate = conn_enumerate,
    .get = conn_get,
};
