/*
 * smbsession.c - MSFT_SmbSession (Windows' SMB provider class, served in
 * root\cimv2 beside MSFT_SmbOpenFile): one instance per Samba session that
 * Win32_ServerSession counts, not merged.  The values: docs/values.md,
 * "MSFT_SmbSession".
 */
#include "providers/model_int.h"

#include <string.h>

/* The dialect as Windows writes it ("3.1.1") from Samba's name of it
 * ("SMB3_11"); NULL for a name smbcim does not know. */
static const char *dialect_text(const char *samba)
{
    static const struct {
        const char *samba, *windows;
    } names[] = {
        {"SMB3_11", "3.1.1"}, {"SMB3_10", "3.1"}, {"SMB3_02", "3.0.2"}, {"SMB3_00", "3.0"},
        {"SMB2_24", "2.4"},   {"SMB2_22", "2.2"}, {"SMB2_10", "2.1"},   {"SMB2_02", "2.0.2"},
        {"NT1", "1.5"},
    };
    for (size_t i = 0; samba && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(samba, names[i].samba) == 0)
            return names[i].windows;
    return NULL;
}

static cim_instance *session_instance(sc_provctx *pc, sc_msession *one)
{
    if (one->inst)
        return one->inst;
    const sc_session *s = one->rec;
    const cim_class *cls = cim_schema_find(pc->schema, "MSFT_SmbSession");
    cim_instance *inst = cim_instance_new(pc->arena, cls);
    cim_instance_set(inst, "SessionId", sc_id_value(s->session_id, CIM_T_UINT64));
    /* Samba has no scoped shares: every session is in the default scope. */
    cim_instance_set(inst, "ScopeName", cim_str(CIM_T_STRING, "*"));
    /* On a CTDB cluster the node is known by number only (NULL), as for
     * MSFT_SmbOpenFile; on a single server, "". */
    if (s->server.pid && !strchr(s->server.pid, ':'))
        cim_instance_set(inst, "ClusterNodeName", cim_str(CIM_T_STRING, ""));
    cim_instance_set(inst, "ClientComputerName", cim_str(CIM_T_STRING, one->sess->computer));
    cim_instance_set(inst, "ClientUserName", cim_str(CIM_T_STRING, s->username));
    if (one->nopens_known)
        cim_instance_set(inst, "NumOpens", cim_u(CIM_T_UINT64, one->nopens));
    cim_instance_set(inst, "SecondsExists", sc_active_time(pc->state, one->start));
    cim_instance_set(inst, "Dialect", cim_str(CIM_T_STRING, dialect_text(s->dialect)));
    cim_instance_set(inst, "SmbInstance", cim_u(CIM_T_UINT32, 0)); /* Default */
    /* SecondsIdle and TransportName are not in Samba's records: NULL. */
    sc_instance_finish(pc, inst);
    one->inst = inst;
    return inst;
}

/* The model at SC_MODEL_COUNTS, with every session's id known: the
 * smbstatus text route (the fallback) prints none, and an answer without
 * some sessions would be a wrong one. */
static smbcim_status sessions_model(sc_provctx *pc, sc_model **m, smbcim_error *err)
{
    smbcim_status st = sc_model_at(pc, SC_MODEL_COUNTS, false, m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    if ((*m)->sessions_without_id) {
        size_t n = (*m)->sessions_without_id;
        *m = NULL;
        return smbcim_error_set(err, WBEM_E_NOT_AVAILABLE,
                                "the ids of %zu session(s) are not known: they were read from "
                                "smbstatus' text output (the fallback route), which does not "
                                "print them", n);
    }
    return WBEM_S_NO_ERROR;
}

static smbcim_status session_enumerate(sc_provctx *pc, const cim_class *cls, sc_vec *out,
                                       smbcim_error *err)
{
    (void)cls;
    sc_model *m;
    smbcim_status st = sessions_model(pc, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < m->nsessions; i++)
        sc_vec_push(out, session_instance(pc, &m->sessions[i]));
    return WBEM_S_NO_ERROR;
}

static smbcim_status session_get(sc_provctx *pc, const cim_class *cls, const cim_objpath *path,
                                 cim_instance **out, smbcim_error *err)
{
    (void)cls;
    *out = NULL;
    sc_model *m;
    smbcim_status st = sessions_model(pc, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    const char *id = sc_path_u64_key(pc->arena, path, "SessionId");
    sc_msession *one = id ? sc_map_get(&m->session_by_id, id) : NULL;
    *out = one ? session_instance(pc, one) : NULL;
    return WBEM_S_NO_ERROR;
}

const sc_provider sc_smbsession_provider = {
    .class_name = "MSFT_SmbSession",
    .enumerate = session_enumerate,
    .get = session_get,
};
