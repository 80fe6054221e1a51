/*
 * assoc.c - the two SessionProvider associations.  Each instance holds the
 * full paths of its two endpoints in its REF keys; the engine traverses
 * them generically (engine/assoc.c), in both directions.
 */
#include "providers/model_int.h"

static cim_instance *link(sc_provctx *pc, const cim_class *cls,
                          cim_instance *ante, cim_instance *dep)
{
    cim_instance *inst = cim_instance_new(pc->arena, cls);
    cim_instance_set(inst, "Antecedent", cim_str(CIM_T_REFERENCE, ante->path));
    cim_instance_set(inst, "Dependent", cim_str(CIM_T_REFERENCE, dep->path));
    sc_instance_finish(pc, inst);
    return inst;
}

static smbcim_status connshare_enumerate(sc_provctx *pc, const cim_class *cls,
                                         sc_vec *out, smbcim_error *err)
{
    (void)err;
    sc_model *m = sc_model_get(pc);
    for (size_t i = 0; i < m->nconns; i++) {
        sc_mconn *c = &m->conns[i];
        sc_vec_push(out, link(pc, cls, sc_share_instance(pc, c->share),
                              sc_conn_instance(pc, c)));
    }
    return WBEM_S_NO_ERROR;
}

static smbcim_status sessconn_enumerate(sc_provctx *pc, const cim_class *cls,
                                        sc_vec *out, smbcim_error *err)
{
    (void)err;
    sc_model *m = sc_model_get(pc);
    for (size_t i = 0; i < m->nconns; i++) {
        sc_mconn *c = &m->conns[i];
        sc_vec_push(out, link(pc, cls, sc_sess_instance(pc, c->sess),
                              sc_conn_instance(pc, c)));
    }
    return WBEM_S_NO_ERROR;
}

const sc_provider sc_connshare_provider = {
    .class_name = "Win32_ConnectionShare",
    .enumerate = connshare_enumerate,
};

const sc_provider sc_sessconn_provider = {
    .class_name = "Win32_SessionConnection",
    .enumerate = sessconn_enumerate,
};
