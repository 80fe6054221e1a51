/*
 * connection.c - Win32_ServerConnection (SessionProvider): one instance
 * per (ComputerName, ShareName, UserName), merged in model.c.
 */
#include "providers/model_int.h"


/* A connection's key properties: the one list both its instance and its
 * path are made from. */
enum { CONN_NKEYS = 3 };
static const char *const conn_key_names[CONN_NKEYS] = {"ComputerName", "ShareName", "UserName"};

static void conn_keys(const sc_mconn *c, cim_value v[CONN_NKEYS])
{
    v[0] = cim_str(CIM_T_STRING, c->computer);
    v[1] = cim_str(CIM_T_STRING, c->share_name);
    v[2] = cim_str(CIM_T_STRING, c->user);
}

static const cim_class *conn_class(sc_provctx *pc)
{
    return cim_schema_find(pc->schema, "Win32_ServerConnection");
}

const char *sc_conn_relpath(sc_provctx *pc, const sc_mconn *c, const char *const *spellings)
{
    cim_value v[CONN_NKEYS];
    conn_keys(c, v);
    return cim_keys_relpath_spelled(pc->arena, conn_class(pc), CONN_NKEYS, conn_key_names, v,
                                    spellings);
}

cim_instance *sc_conn_instance(sc_provctx *pc, sc_mconn *c)
{
    if (c->inst)
        return c->inst;
    cim_instance *inst = cim_instance_new(pc->arena, conn_class(pc));
    cim_value v[CONN_NKEYS];
    conn_keys(c, v);
    for (size_t i = 0; i < CONN_NKEYS; i++)
        cim_instance_set(inst, conn_key_names[i], v[i]);
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
