/*
 * session.c - Win32_ServerSession (SessionProvider): one instance per
 * (ComputerName, UserName), merged in model.c.
 */
#include "providers/model_int.h"

/* A session's keys: the one list its instance and its path are made from. */
static sc_keyset sess_keys(const sc_msess *s)
{
    return (sc_keyset){.cls = "Win32_ServerSession", .n = 2,
                       .names = {"ComputerName", "UserName"},
                       .values = {cim_str(CIM_T_STRING, s->computer),
                                  cim_str(CIM_T_STRING, s->user)}};
}

const char *sc_sess_relpath(sc_provctx *pc, const sc_msess *s, const char *const *spellings)
{
    sc_keyset k = sess_keys(s);
    return sc_keyset_relpath(pc, &k, spellings);
}

cim_instance *sc_sess_instance(sc_provctx *pc, sc_msess *s)
{
    if (s->inst)
        return s->inst;
    sc_keyset k = sess_keys(s);
    cim_instance *inst = sc_keyset_instance(pc, &k);
    cim_instance_set(inst, "ActiveTime", sc_active_time(pc->state, s->oldest));
    if (s->resources_known)
        cim_instance_set(inst, "ResourcesOpened", cim_u(CIM_T_UINT32, s->resources));
    /* Windows shows "" for SMB2/3 clients; for SMB1 the client's LAN
     * Manager string, which Samba does not record: NULL. IdleTime and
     * SessionType are not in Samba's records: NULL. */
    if (s->dialect_known && s->smb2) {
        cim_instance_set(inst, "ClientType", cim_str(CIM_T_STRING, ""));
        cim_instance_set(inst, "TransportName", cim_str(CIM_T_STRING, ""));
    }
    sc_instance_finish(pc, inst);
    s->inst = inst;
    return inst;
}

static smbcim_status sess_enumerate(sc_provctx *pc, const cim_class *cls,
                                    sc_vec *out, smbcim_error *err)
{
    (void)cls;
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_COUNTS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < m->nsesss; i++)
        sc_vec_push(out, sc_sess_instance(pc, &m->sesss[i]));
    return WBEM_S_NO_ERROR;
}

static smbcim_status sess_get(sc_provctx *pc, const cim_class *cls, const cim_objpath *path,
                              cim_instance **out, smbcim_error *err)
{
    (void)cls;
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_COUNTS, false, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    sc_msess *s = sc_model_find_sess(m, sc_path_key(path, "ComputerName"),
                                     sc_path_key(path, "UserName"));
    *out = s ? sc_sess_instance(pc, s) : NULL;
    return WBEM_S_NO_ERROR;
}

const sc_provider sc_session_provider = {
    .class_name = "Win32_ServerSession",
    .enumerate = sess_enumerate,
    .get = sess_get,
};
