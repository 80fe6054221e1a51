/*
 * share.c - Win32_Share (provider "CIMWin32" on Windows): one instance per
 * share of the source, plus the synthesized shares of the model.
 */
#include "providers/model_int.h"

#include <stdlib.h>

#define STYPE_SPECIAL 0x80000000u

void sc_instance_finish(sc_provctx *pc, cim_instance *inst)
{
    inst->path = cim_instance_paths(pc->arena, inst, pc->server, pc->nspace, &inst->relpath);
}

cim_instance *sc_keyset_instance(sc_provctx *pc, const sc_keyset *k)
{
    cim_instance *inst = cim_instance_new(pc->arena, cim_schema_find(pc->schema, k->cls));
    for (size_t i = 0; i < k->n; i++)
        cim_instance_set(inst, k->names[i], k->values[i]);
    return inst;
}

const char *sc_keyset_relpath(sc_provctx *pc, const sc_keyset *k, const char *const *spellings)
{
    return cim_keys_relpath_spelled(pc->arena, cim_schema_find(pc->schema, k->cls), k->n,
                                    k->names, k->values, spellings);
}

cim_instance *sc_share_instance(sc_provctx *pc, sc_mshare *s)
{
    if (s->inst)
        return s->inst;
    const cim_class *cls = cim_schema_find(pc->schema, "Win32_Share");
    cim_instance *inst = cim_instance_new(pc->arena, cls);
    cim_instance_set(inst, "Name", cim_str(CIM_T_STRING, s->name));
    const sc_share *r = s->rec;
    if (r) {
        uint32_t type = (uint32_t)r->kind | (r->administrative ? STYPE_SPECIAL : 0);
        cim_instance_set(inst, "Type", cim_u(CIM_T_UINT32, type));
        cim_instance_set(inst, "Caption", cim_str(CIM_T_STRING, r->comment));
        cim_instance_set(inst, "Description", cim_str(CIM_T_STRING, r->comment));
        /* Windows shows IPC$ with an empty path. */
        const char *path = r->kind == SC_SHARE_IPC ? "" : r->path;
        cim_instance_set(inst, "Path", cim_str(CIM_T_STRING, path));
        if (r->max_known) {
            cim_instance_set(inst, "AllowMaximum", cim_bool(r->max_connections == 0));
            if (r->max_connections)
                cim_instance_set(inst, "MaximumAllowed", cim_u(CIM_T_UINT32, r->max_connections));
        }
        cim_instance_set(inst, "Status", cim_str(CIM_T_STRING, "OK"));
    }
    /* A synthesized share (a [homes] user share, a share removed since the
     * client connected) has only its name: the source knows nothing else. */
    sc_instance_finish(pc, inst);
    s->inst = inst;
    return inst;
}

static int by_name(const void *a, const void *b)
{
    const cim_instance *x = *(cim_instance *const *)a, *y = *(cim_instance *const *)b;
    return sc_stricmp(sc_value_str(x, "Name"), sc_value_str(y, "Name"));
}

static smbcim_status share_enumerate(sc_provctx *pc, const cim_class *cls,
                                     sc_vec *out, smbcim_error *err)
{
    (void)cls;
    /* The configured shares, and the shares smbd's tree connects use (a
     * [homes] share, one removed since): those need the sessions, which
     * only root may read; without them, the configuration alone. */
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_CONNS, true, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    size_t first = out->len;
    for (size_t i = 0; i < m->nshares; i++)
        sc_vec_push(out, sc_share_instance(pc, m->shares[i]));
    /* Windows lists shares sorted by name, case-insensitively (three
     * captures agree: ../shared/spec/windows-fidelity.md section 1) */
    if (out->len - first > 1)
        qsort(out->items + first, out->len - first, sizeof(void *), by_name);
    return WBEM_S_NO_ERROR;
}

static smbcim_status share_get(sc_provctx *pc, const cim_class *cls, const cim_objpath *path,
                               cim_instance **out, smbcim_error *err)
{
    (void)cls;
    *out = NULL;
    const char *name = sc_path_key(path, "Name");
    if (!name)
        return WBEM_S_NO_ERROR;
    /* A configured share needs nothing of smbd's state; another name may
     * be a share in use only (a [homes] share): look at the sessions. */
    sc_model *m;
    smbcim_status st = sc_model_at(pc, SC_MODEL_SHARES, true, &m, err);
    sc_mshare *s = st == WBEM_S_NO_ERROR ? sc_map_get(&m->share_by_name, name) : NULL;
    if (!s && st == WBEM_S_NO_ERROR) {
        st = sc_model_at(pc, SC_MODEL_CONNS, true, &m, err);
        s = st == WBEM_S_NO_ERROR ? sc_map_get(&m->share_by_name, name) : NULL;
    }
    if (s)
        *out = sc_share_instance(pc, s);
    return st;
}

/* A synthesized share exists only because a tree connect names it. */
static const cim_class *share_reveals(sc_provctx *pc, const cim_instance *inst)
{
    sc_model *m = pc->model;
    const char *name = sc_value_str(inst, "Name");
    sc_mshare *s = m && name ? sc_map_get(&m->share_by_name, name) : NULL;
    return s && !s->rec ? cim_schema_find(pc->schema, "Win32_ServerConnection") : NULL;
}

const sc_provider sc_share_provider = {
    .class_name = "Win32_Share",
    .enumerate = share_enumerate,
    .get = share_get,
    .reveals = share_reveals,
};
