/*
 * openfile.c - MSFT_SmbOpenFile (Windows' SMB provider class, served in
 * root\cimv2: docs/decisions.md, "Open files"): one instance per open of
 * Samba's locking records, matched to its share, connection and session in
 * model.c; and smbcim's three associations from a share, a connection and
 * a session to their open files.  The values: docs/values.md,
 * "MSFT_SmbOpenFile".
 */
#include "providers/model_int.h"

#include <string.h>

/* "a/b c.txt" -> "a\b c.txt": Windows writes share-relative paths with
 * backslashes; "." (the share's root directory) is "". */
static const char *share_relative(sc_arena *a, const char *name)
{
    if (strcmp(name, ".") == 0)
        return "";
    char *r = sc_strdup(a, name);
    for (char *p = r; *p; p++)
        if (*p == '/')
            *p = '\\';
    return r;
}

/* The server-local path: the share's directory, then the name. */
static const char *local_path(sc_arena *a, const sc_open *o)
{
    if (strcmp(o->filename, ".") == 0)
        return o->service_path;
    size_t n = strlen(o->service_path);
    const char *sep = n && o->service_path[n - 1] == '/' ? "" : "/";
    const char *parts[] = {o->service_path, sep, o->filename};
    return sc_concat(a, parts, 3);
}

static cim_instance *open_instance(sc_provctx *pc, sc_mopen *mo)
{
    if (mo->inst)
        return mo->inst;
    const sc_open *o = mo->rec;
    const cim_class *cls = cim_schema_find(pc->schema, "MSFT_SmbOpenFile");
    cim_instance *inst = cim_instance_new(pc->arena, cls);
    cim_instance_set(inst, "FileId", cim_u(CIM_T_UINT64, mo->file_id));
    cim_instance_set(inst, "SmbInstance", cim_u(CIM_T_UINT32, 0)); /* Default */
    cim_instance_set(inst, "SessionId",
                     sc_id_value(mo->session ? mo->session->session_id : NULL, CIM_T_UINT64));
    /* Samba has no scoped shares: every share is in the default scope. */
    cim_instance_set(inst, "ScopeName", cim_str(CIM_T_STRING, "*"));
    /* On a CTDB cluster the pid is "VNN:PID": the node is known by number
     * only, so the name stays NULL; on a single server, "". */
    if (!strchr(o->server.pid, ':'))
        cim_instance_set(inst, "ClusterNodeName", cim_str(CIM_T_STRING, ""));
    cim_instance_set(inst, "Path", cim_str(CIM_T_STRING, local_path(pc->arena, o)));
    cim_instance_set(inst, "ShareRelativePath",
                     cim_str(CIM_T_STRING, share_relative(pc->arena, o->filename)));
    cim_instance_set(inst, "ClientComputerName", cim_str(CIM_T_STRING, mo->computer));
    const char *user = mo->session ? mo->session->username : mo->sess ? mo->sess->user : NULL;
    cim_instance_set(inst, "ClientUserName", cim_str(CIM_T_STRING, user));
    cim_instance_set(inst, "Permissions", cim_u(CIM_T_UINT32, o->access_mask));
    /* Locks, ContinuouslyAvailable, Encrypted and Signed are not in the
     * records smbcim reads: NULL (docs/values.md). */
    sc_instance_finish(pc, inst);
    mo->inst = inst;
    return inst;
}

static smbcim_status open_enumerate(sc_provctx *pc, const cim_class *cls, sc_vec *out,
                                    smbcim_error *err)
{
    (void)cls;
    sc_model *m;
    smbcim_status st = sc_model_opens(pc, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < m->nopens; i++)
        sc_vec_push(out, open_instance(pc, &m->opens[i]));
    return WBEM_S_NO_ERROR;
}

static smbcim_status open_get(sc_provctx *pc, const cim_class *cls, const cim_objpath *path,
                              cim_instance **out, smbcim_error *err)
{
    (void)cls;
    *out = NULL;
    sc_model *m;
    smbcim_status st = sc_model_opens(pc, &m, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    /* the first open with that FileId, as enumerate lists it first: a scan
     * of the ids (4,000 opens: microseconds) instead of a map by id text
     * that every enumeration would have to build */
    uint64_t want;
    if (!sc_path_u64(path, "FileId", &want))
        return WBEM_S_NO_ERROR;
    for (size_t i = 0; i < m->nopens; i++) {
        if (m->opens[i].file_id == want) {
            *out = open_instance(pc, &m->opens[i]);
            break;
        }
    }
    return WBEM_S_NO_ERROR;
}

const sc_provider sc_openfile_provider = {
    .class_name = "MSFT_SmbOpenFile",
    .enumerate = open_enumerate,
    .get = open_get,
};

/* ---- the associations --------------------------------------------------- */

/* smbcim's own associations write their REF values as the endpoints'
 * relative paths (__RELPATH) with the class's own key names. */
static cim_instance *open_link(sc_provctx *pc, const cim_class *cls, cim_instance **cache,
                               const char *ante, sc_mopen *mo)
{
    if (!*cache) {
        cim_instance *inst = cim_instance_new(pc->arena, cls);
        cim_instance_set(inst, "Antecedent", cim_str(CIM_T_REFERENCE, ante));
        cim_instance_set(inst, "Dependent",
                         cim_str(CIM_T_REFERENCE, open_instance(pc, mo)->relpath));
        sc_instance_finish(pc, inst);
        *cache = inst;
    }
    return *cache;
}

/* The model with its opens, for an association: on the smbstatus text
 * route (no file ids) there are no links, and the class itself says why
 * (MSFT_SmbOpenFile answers WBEM_E_NOT_AVAILABLE), so that ASSOCIATORS OF
 * a share still answers its connections there. */
static smbcim_status links_model(sc_provctx *pc, sc_model **m, smbcim_error *err)
{
    smbcim_status st = sc_model_opens(pc, m, err);
    if (st == WBEM_E_NOT_AVAILABLE) {
        smbcim_error_clear(err);
        *m = NULL;
        return WBEM_S_NO_ERROR;
    }
    return st;
}

/* The links of one association: from each open file's share, connection
 * or session, when the open has one. */
typedef enum link_end { LINK_SHARE, LINK_CONN, LINK_SESS } link_end;

static smbcim_status links_enumerate(sc_provctx *pc, const cim_class *cls, link_end end,
                                     sc_vec *out, smbcim_error *err)
{
    sc_model *m;
    smbcim_status st = links_model(pc, &m, err);
    for (size_t i = 0; m && i < m->nopens; i++) {
        sc_mopen *mo = &m->opens[i];
        const cim_instance *ante = NULL;
        cim_instance **cache = NULL;
        switch (end) {
        case LINK_SHARE:
            ante = mo->share ? sc_share_instance(pc, mo->share) : NULL;
            cache = &mo->share_link;
            break;
        case LINK_CONN:
            ante = mo->conn ? sc_conn_instance(pc, mo->conn) : NULL;
            cache = &mo->conn_link;
            break;
        case LINK_SESS:
            ante = mo->sess ? sc_sess_instance(pc, mo->sess) : NULL;
            cache = &mo->sess_link;
            break;
        }
        if (ante)
            sc_vec_push(out, open_link(pc, cls, cache, ante->relpath, mo));
    }
    return st;
}

static smbcim_status shareopen_enumerate(sc_provctx *pc, const cim_class *cls, sc_vec *out,
                                         smbcim_error *err)
{
    return links_enumerate(pc, cls, LINK_SHARE, out, err);
}

static smbcim_status connopen_enumerate(sc_provctx *pc, const cim_class *cls, sc_vec *out,
                                        smbcim_error *err)
{
    return links_enumerate(pc, cls, LINK_CONN, out, err);
}

static smbcim_status sessopen_enumerate(sc_provctx *pc, const cim_class *cls, sc_vec *out,
                                        smbcim_error *err)
{
    return links_enumerate(pc, cls, LINK_SESS, out, err);
}

const sc_provider sc_shareopen_provider = {
    .class_name = "SMBCIM_ShareOpenFile",
    .enumerate = shareopen_enumerate,
};

const sc_provider sc_connopen_provider = {
    .class_name = "SMBCIM_ConnectionOpenFile",
    .enumerate = connopen_enumerate,
};

const sc_provider sc_sessopen_provider = {
    .class_name = "SMBCIM_SessionOpenFile",
    .enumerate = sessopen_enumerate,
};
