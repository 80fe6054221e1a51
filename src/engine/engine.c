/*
 * engine.c - contexts, the instance cache and its indexes, GetObject and
 * WQL SELECT.  Associations are in assoc.c.  Only providers/provider.h is
 * seen from here: the engine does not know which class does what.
 */
#include "engine/engine_int.h"
#include "mof/mof.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

/* Schema text, generated from the schema directory by tools/embed. */
struct sc_schema_file {
    const char *name;
    const char *text;
    size_t len;
};
extern const struct sc_schema_file sc_schema_files[];
extern const size_t sc_schema_nfiles;
extern const struct sc_schema_file sc_interop_schema_files[];
extern const size_t sc_interop_schema_nfiles;

#define NS_CIMV2 "root\\cimv2"
#define NS_INTEROP "root\\interop"

const char *smbcim_namespace(void)
{
    return NS_CIMV2;
}

const char *smbcim_ctx_namespace(const smbcim_ctx *ctx)
{
    return ctx->nspace;
}

/* ---- contexts ------------------------------------------------------------ */
/* A context of one namespace: root\cimv2 (the session classes) unless
 * interop (root\interop: the object manager, profiles, subscriptions). */
static smbcim_ctx *ctx_new_ns(bool interop, smbcim_error *err)
{
    smbcim_ctx *ctx = sc_xcalloc(1, sizeof(*ctx));
    ctx->arena = sc_arena_new();
    ctx->server = "LOCALHOST";
    ctx->nspace = interop ? NS_INTEROP : NS_CIMV2;
    cim_schema_init(&ctx->schema, ctx->arena);
    const struct sc_schema_file *files = interop ? sc_interop_schema_files : sc_schema_files;
    size_t nfiles = interop ? sc_interop_schema_nfiles : sc_schema_nfiles;
    for (size_t i = 0; i < nfiles; i++) {
        const struct sc_schema_file *f = &files[i];
        if (mof_parse(&ctx->schema, f->text, f->len, f->name, err) != WBEM_S_NO_ERROR) {
            smbcim_close(ctx);
            return NULL;
        }
    }
    sc_map_init(&ctx->entry_by_name);
    ctx->entries = sc_alloc_array(ctx->arena, ctx->schema.nclasses, sizeof(class_entry));
    for (size_t i = 0; i < ctx->schema.nclasses; i++) {
        class_entry *e = &ctx->entries[i];
        const cim_class *cls = ctx->schema.classes[i];
        e->cls = cls;
        e->prov = cls->abstract ? NULL : sc_provider_find(cls->name);
        size_t n = 0;
        const cim_class *root = cls;
        for (const cim_class *c = cls->super; c; c = c->super)
            n++;
        cim_value *d = sc_alloc_array(ctx->arena, n ? n : 1, sizeof(cim_value));
        n = 0;
        for (const cim_class *c = cls->super; c; c = c->super) {
            d[n++] = cim_str(CIM_T_STRING, c->name);
            root = c;
        }
        e->derivation = (cim_value){.type = CIM_T_STRING, .array = true, .count = (uint32_t)n};
        e->derivation.v.elems = d;
        e->dynasty = root->name;
        sc_map_init(&e->by_key);
        e->path = cim_full_path(ctx->arena, ctx->server, ctx->nspace, cls->name);
        sc_map_put(&ctx->entry_by_name, cls->name, e);
    }
    ctx->pc.arena = ctx->arena;
    ctx->pc.schema = &ctx->schema;
    ctx->pc.server = ctx->server;
    ctx->pc.nspace = ctx->nspace;
    return ctx;
}

static smbcim_ctx *ctx_new(smbcim_error *err)
{
    return ctx_new_ns(false, err);
}

/* Sets the server name (upper case) of every path the context writes. */
static void ctx_set_server(smbcim_ctx *ctx, const char *name)
{
    char *server = sc_strdup(ctx->arena, name);
    sc_upcase_ascii(server);
    ctx->server = server;
    for (size_t i = 0; i < ctx->schema.nclasses; i++)
        ctx->entries[i].path =
            cim_full_path(ctx->arena, server, ctx->nspace, ctx->entries[i].cls->name);
    ctx->pc.server = server;
}

static smbcim_ctx *ctx_with_state(smbcim_ctx *ctx, sc_state *st)
{
    ctx->state = st;
    ctx_set_server(ctx, st->server_name);
    ctx->pc.state = st;
    return ctx;
}

static smbcim_ctx *open_snapshot_impl(const char *path, smbcim_error *err)
{
    smbcim_error_clear(err);
    smbcim_ctx *ctx = ctx_new(err);
    if (!ctx)
        return NULL;
    sc_state *st;
    if (sc_snapshot_load(ctx->arena, path, &st, err) != WBEM_S_NO_ERROR) {
        smbcim_close(ctx);
        return NULL;
    }
    return ctx_with_state(ctx, st);
}

static smbcim_ctx *open_buffer_impl(const char *buf, size_t len, const char *origin,
                                    smbcim_error *err)
{
    smbcim_error_clear(err);
    smbcim_ctx *ctx = ctx_new(err);
    if (!ctx)
        return NULL;
    sc_state *st;
    if (sc_snapshot_parse(ctx->arena, buf, len, origin, &st, err) != WBEM_S_NO_ERROR) {
        smbcim_close(ctx);
        return NULL;
    }
    return ctx_with_state(ctx, st);
}

static smbcim_ctx *open_live_impl(const char *smb_conf, smbcim_error *err)
{
    smbcim_error_clear(err);
    smbcim_ctx *ctx = ctx_new(err);
    if (!ctx)
        return NULL;
    sc_state *st;
    if (sc_live_load(ctx->arena, smb_conf, &st, &ctx->live, err) != WBEM_S_NO_ERROR) {
        smbcim_close(ctx);
        return NULL;
    }
    return ctx_with_state(ctx, st);
}

const char *smbcim_live_warning(const smbcim_ctx *ctx)
{
    const sc_state *st = ctx->state;
    return st && st->sessions_note && st->sessions_status == WBEM_S_NO_ERROR ? st->sessions_note
                                                                            : NULL;
}



const char *smbcim_live_route(const smbcim_ctx *ctx, const char **why)
{
    if (why)
        *why = ctx->live.route ? ctx->live.fallback_reason : "";
    return ctx->live.route;
}

static char *snapshot_text_impl(smbcim_ctx *ctx, smbcim_error *err)
{
    smbcim_error_clear(err);
    if (!ctx->state) {
        smbcim_error_set(err, WBEM_E_NOT_SUPPORTED, "a schema-only context has no state");
        return NULL;
    }
    if (sc_state_fill(ctx->state, SC_PARTS_ALL, err) != WBEM_S_NO_ERROR)
        return NULL;
    sc_buf b;
    sc_buf_init(&b);
    sc_snapshot_write(ctx->state, &b);
    return sc_buf_take(&b);
}

/* The load of each node named by server ids of the form VNN:PID. */
#define MAX_NODES 256
typedef struct node_counts {
    smbcim_node_load n[MAX_NODES];
    size_t len;
    bool over;
} node_counts;

static void count_node(node_counts *c, const sc_server_id *sid, int which)
{
    uint32_t vnn;
    uint64_t pid;
    if (!sid->pid || !sc_server_pid_parse(sid->pid, &vnn, &pid) || vnn == SC_NO_VNN)
        return;
    size_t i = 0;
    while (i < c->len && c->n[i].node != vnn) /* a cluster has a handful of nodes */
        i++;
    if (i == c->len) {
        if (c->len == MAX_NODES) {
            c->over = true;
            return;
        }
        c->n[c->len++] = (smbcim_node_load){.node = vnn};
    }
    uint64_t *f[3] = {&c->n[i].sessions, &c->n[i].tree_connects, &c->n[i].open_files};
    (*f[which])++;
}

static int cmp_node_load(const void *a, const void *b)
{
    const smbcim_node_load *x = a, *y = b;
    return x->node < y->node ? -1 : x->node > y->node;
}

static smbcim_status node_loads_impl(smbcim_ctx *ctx, smbcim_node_load **out, size_t *n,
                                     smbcim_error *err)
{
    if (!ctx->state)
        return smbcim_error_set(err, WBEM_E_NOT_SUPPORTED, "a schema-only context has no state");
    const sc_state *st = ctx->state;
    if (sc_state_fill(ctx->state, SC_PARTS_ALL, err) != WBEM_S_NO_ERROR)
        return err->code;
    node_counts c = {.len = 0}; /* on the stack: the answer is the one allocation */
    for (size_t i = 0; i < st->nsessions; i++)
        count_node(&c, &st->sessions[i].server, 0);
    for (size_t i = 0; i < st->ntcons; i++)
        count_node(&c, &st->tcons[i].server, 1);
    for (size_t i = 0; i < st->nopens; i++)
        count_node(&c, &st->opens[i].server, 2);
    if (c.over)
        return smbcim_error_set(err, WBEM_E_FAILED, "the state names more than %d cluster "
                                "nodes", MAX_NODES);
    if (!c.len)
        return WBEM_S_NO_ERROR;
    qsort(c.n, c.len, sizeof c.n[0], cmp_node_load);
    *out = sc_xmalloc(c.len * sizeof c.n[0]);
    memcpy(*out, c.n, c.len * sizeof c.n[0]);
    *n = c.len;
    return WBEM_S_NO_ERROR;
}

static smbcim_ctx *open_schema_impl(smbcim_error *err)
{
    smbcim_error_clear(err);
    return ctx_new(err);
}

static smbcim_ctx *open_interop_impl(const smbcim_interop *in, smbcim_error *err)
{
    smbcim_error_clear(err);
    smbcim_ctx *ctx = ctx_new_ns(true, err);
    if (!ctx || !in)
        return ctx; /* schema only */
    const smbcim_interop *copy = NULL;
    if (sc_interop_copy(ctx->arena, in, &copy, err) != WBEM_S_NO_ERROR) {
        smbcim_close(ctx);
        return NULL;
    }
    ctx->pc.interop = copy;
    ctx_set_server(ctx, copy->system_name);
    return ctx;
}

void smbcim_close(smbcim_ctx *ctx)
{
    if (!ctx)
        return;
    if (ctx->entries) {
        for (size_t i = 0; i < ctx->schema.nclasses; i++) {
            class_entry *e = &ctx->entries[i];
            sc_map_free(&e->by_key);
            if (e->by_ref)
                for (size_t p = 0; p < e->cls->nprops; p++)
                    sc_map_free(&e->by_ref[p]);
            for (size_t v = 0; v < e->ref_vecs.len; v++)
                sc_vec_free(e->ref_vecs.items[v]);
            sc_vec_free(&e->ref_vecs);
        }
    }
    sc_provctx_release(&ctx->pc);
    sc_map_free(&ctx->entry_by_name);
    cim_schema_free(&ctx->schema);
    sc_arena_free(ctx->arena);
    free(ctx);
}

const char *smbcim_server_name(const smbcim_ctx *ctx)
{
    return ctx->server;
}

size_t smbcim_class_count(const smbcim_ctx *ctx)
{
    return ctx->schema.nclasses;
}

const cim_class *smbcim_class_at(const smbcim_ctx *ctx, size_t i)
{
    return i < ctx->schema.nclasses ? ctx->schema.classes[i] : NULL;
}

const cim_class *smbcim_class_find(const smbcim_ctx *ctx, const char *name)
{
    return cim_schema_find(&ctx->schema, name);
}

/* ---- instance cache ------------------------------------------------------ */
class_entry *sc_entry(smbcim_ctx *ctx, const cim_class *cls)
{
    return sc_map_get(&ctx->entry_by_name, cls->name);
}

smbcim_status sc_load(smbcim_ctx *ctx, class_entry *e, smbcim_error *err)
{
    if (e->loaded)
        return WBEM_S_NO_ERROR;
    if (e->prov && sc_has_data(ctx)) {
        sc_vec v = {0};
        smbcim_status st = e->prov->enumerate(&ctx->pc, e->cls, &v, err);
        if (st != WBEM_S_NO_ERROR) {
            sc_vec_free(&v);
            return st;
        }
        e->items = sc_alloc_array(ctx->arena, v.len ? v.len : 1, sizeof(cim_instance *));
        if (v.len)
            memcpy(e->items, v.items, v.len * sizeof(void *));
        e->nitems = v.len;
        sc_vec_free(&v);
    }
    e->loaded = true;
    return WBEM_S_NO_ERROR;
}

static smbcim_status build_key_index(smbcim_ctx *ctx, class_entry *e, smbcim_error *err)
{
    if (e->indexed)
        return WBEM_S_NO_ERROR;
    smbcim_status st = sc_load(ctx, e, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < e->nitems; i++) {
        cim_instance *inst = e->items[i];
        const char *k = cim_instance_normkey(ctx->arena, inst);
        if (k && !sc_map_get(&e->by_key, k))
            sc_map_put(&e->by_key, k, inst);
    }
    e->indexed = true;
    return WBEM_S_NO_ERROR;
}

static smbcim_status find_by_key(smbcim_ctx *ctx, const cim_class *cls, const char *key,
                             cim_instance **out, smbcim_error *err)
{
    *out = NULL;
    class_entry *e = sc_entry(ctx, cls);
    if (!e || !e->prov)
        return WBEM_S_NO_ERROR;
    smbcim_status st = build_key_index(ctx, e, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    *out = sc_map_get(&e->by_key, key);
    return WBEM_S_NO_ERROR;
}

/* Whether the caller may see inst, an instance of a readable class: not
 * when it gives away an unreadable one (the provider's reveals hook). */
bool sc_visible(smbcim_ctx *ctx, const class_entry *e, const cim_instance *inst)
{
    if (!ctx->may_read || !e->prov->reveals)
        return true;
    const cim_class *c = e->prov->reveals(&ctx->pc, inst);
    return !c || sc_readable(ctx, c);
}

smbcim_status sc_lookup(smbcim_ctx *ctx, sc_arena *a, const cim_objpath *p,
                        const cim_class *cls, cim_instance **out, smbcim_error *err)
{
    *out = NULL;
    class_entry *e = sc_entry(ctx, cls);
    if (!e || !e->prov || !sc_has_data(ctx))
        return WBEM_S_NO_ERROR;
    smbcim_status st;
    if (e->prov->get && !ctx->generic_only) {
        st = e->prov->get(&ctx->pc, cls, p, out, err);
    } else {
        const char *key = cim_objpath_normkey(a, p);
        st = key ? find_by_key(ctx, cls, key, out, err) : WBEM_S_NO_ERROR;
    }
    if (st == WBEM_S_NO_ERROR && *out && !sc_visible(ctx, e, *out))
        *out = NULL; /* as if there were none */
    return st;
}

smbcim_status sc_denied(smbcim_error *err, const cim_class *cls)
{
    return smbcim_error_set(err, WBEM_E_ACCESS_DENIED,
                            "%s is not readable by this caller", cls->name);
}

const char *smbcim_version(void)
{
#define SC_STR2(x) #x
#define SC_STR(x) SC_STR2(x)
    return SC_STR(SMBCIM_VERSION_MAJOR) "." SC_STR(SMBCIM_VERSION_MINOR) "." SC_STR(
        SMBCIM_VERSION_PATCH);
}

void smbcim_set_access(smbcim_ctx *ctx, smbcim_may_read may_read, void *data)
{
    ctx->may_read = may_read;
    ctx->may_read_data = data;
}

smbcim_status sc_get_instance(smbcim_ctx *ctx, sc_arena *a, const cim_objpath *p,
                              const cim_class *cls, cim_instance **out,
                              smbcim_error *err)
{
    *out = NULL;
    if (!sc_readable(ctx, cls))
        return sc_denied(err, cls);
    /* The instance may be of cls or of any readable subclass with the same
     * keys; an unreadable one is not looked in, so its answer cannot
     * differ from "none". */
    for (size_t i = 0; i < ctx->schema.nclasses; i++) {
        const cim_class *sub = ctx->schema.classes[i];
        if (sub->abstract || !cim_class_is_a(sub, cls->name) || !sc_readable(ctx, sub))
            continue;
        cim_objpath q = *p;
        q.class_name = sub->name;
        q.server = NULL;
        q.nspace = NULL;
        smbcim_status st = sc_lookup(ctx, a, &q, sub, out, err);
        if (st != WBEM_S_NO_ERROR)
            return st;
        if (*out)
            return WBEM_S_NO_ERROR;
    }
    char *text = cim_path_format(a, p, false);
    return smbcim_error_set(err, WBEM_E_NOT_FOUND, "no instance %s", text ? text : "");
}

/* Whether ns names the context's namespace: any case, either separator,
 * an optional leading separator ("root/interop" = "\\ROOT\\INTEROP"). */
static bool namespace_ok(const smbcim_ctx *ctx, const char *ns)
{
    if (*ns == '\\' || *ns == '/')
        ns++;
    const char *mine = ctx->nspace;
    for (; *ns && *mine; ns++, mine++) {
        bool sep = *ns == '\\' || *ns == '/';
        if (sep ? *mine != '\\' : tolower((unsigned char)*ns) != tolower((unsigned char)*mine))
            return false;
    }
    return !*ns && !*mine;
}

smbcim_status sc_resolve_user_path(smbcim_ctx *ctx, sc_arena *a, const char *text,
                                   size_t col, cim_objpath *p,
                                   const cim_class **cls, smbcim_error *err)
{
    smbcim_error perr = {0};
    if (cim_path_parse(a, text, p, &perr) != WBEM_S_NO_ERROR) {
        if (col)
            return smbcim_error_set(err, perr.code, "in the path at column %zu: %s", col,
                                    perr.msg);
        return smbcim_error_set(err, perr.code, "%s", perr.msg);
    }
    if (p->nspace && !namespace_ok(ctx, p->nspace))
        return smbcim_error_set(err, WBEM_E_INVALID_NAMESPACE,
                                "namespace '%s' is not this context's (%s)", p->nspace,
                                ctx->nspace);
    *cls = cim_schema_find(&ctx->schema, p->class_name);
    if (!*cls) {
        if (col)
            return smbcim_error_set(err, WBEM_E_INVALID_CLASS,
                                    "at column %zu: class '%s' does not exist", col,
                                    p->class_name);
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS, "class '%s' does not exist",
                                p->class_name);
    }
    if (p->is_class)
        return WBEM_S_NO_ERROR;
    if (p->singleton)
        return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                "%s is not a singleton class", (*cls)->name);
    perr.code = 0;
    if (cim_path_resolve(a, p, *cls, &perr) != WBEM_S_NO_ERROR) {
        if (col)
            return smbcim_error_set(err, perr.code, "in the path at column %zu: %s", col,
                                    perr.msg);
        return smbcim_error_set(err, perr.code, "%s", perr.msg);
    }
    return WBEM_S_NO_ERROR;
}

/* ---- projections --------------------------------------------------------- */
cim_instance *sc_project(sc_arena *a, const cim_instance *inst, const bool *keep)
{
    cim_instance *c = sc_alloc(a, sizeof(*c));
    *c = *inst;
    bool *present = sc_alloc_array(a, inst->cls->nprops ? inst->cls->nprops : 1, sizeof(bool));
    bool all_keys = true;
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        present[i] = keep[i];
        if (inst->cls->props[i].key && !keep[i])
            all_keys = false;
    }
    c->present = present;
    if (!all_keys) {
        c->relpath = NULL;
        c->path = NULL;
    }
    return c;
}

cim_instance *sc_keys_only(sc_arena *a, const cim_instance *inst)
{
    bool keep[inst->cls->nprops ? inst->cls->nprops : 1];
    for (size_t i = 0; i < inst->cls->nprops; i++)
        keep[i] = inst->cls->props[i].key;
    return sc_project(a, inst, keep);
}

/* ---- requests ------------------------------------------------------------ */
static void request_abort_hook(void *r)
{
    sc_vec_free(&((sc_request *)r)->out);
    sc_arena_free(((sc_request *)r)->arena);
}

sc_request *sc_request_new(smbcim_ctx *ctx)
{
    sc_arena *a = sc_arena_new();
    sc_request *r = sc_alloc(a, sizeof(*r));
    r->arena = a;
    r->ctx = ctx;
    /* if memory runs out before the request is finished, free it */
    sc_oom_on_unwind(request_abort_hook, r);
    return r;
}

void sc_request_finish(sc_request *r)
{
    bool classes = r->classes;
    r->pub.count = r->out.len;
    void **items = sc_alloc_array(r->arena, r->out.len ? r->out.len : 1, sizeof(void *));
    if (r->out.len)
        memcpy(items, r->out.items, r->out.len * sizeof(void *));
    r->pub.is_classes = classes;
    if (classes)
        r->pub.classes = (const cim_class **)items;
    else
        r->pub.instances = (const cim_instance **)items;
    sc_vec_free(&r->out);
    sc_oom_on_unwind(NULL, NULL);
}

static void request_abort(sc_request *r)
{
    sc_oom_on_unwind(NULL, NULL);
    request_abort_hook(r);
}

void smbcim_result_free(smbcim_result *res)
{
    if (!res)
        return;
    request_abort_hook(res); /* the same freeing: a result is its request */
}

/* ---- system properties --------------------------------------------------- */
static const char *const sysprop_names[SMBCIM_NSYSPROPS] = {
    "__GENUS", "__CLASS", "__SUPERCLASS", "__DYNASTY", "__RELPATH",
    "__PROPERTY_COUNT", "__DERIVATION", "__SERVER", "__NAMESPACE", "__PATH",
};

static size_t present_count(const cim_instance *inst)
{
    if (!inst->present)
        return inst->cls->nprops;
    size_t n = 0;
    for (size_t i = 0; i < inst->cls->nprops; i++)
        n += inst->present[i];
    return n;
}

void sc_fill_sysprops(const smbcim_ctx *ctx, const cim_class *cls, int genus, size_t count,
                      const char *relpath, const char *path, smbcim_sysprop out[SMBCIM_NSYSPROPS])
{
    const class_entry *e = sc_map_get(&ctx->entry_by_name, cls->name);
    for (int i = 0; i < SMBCIM_NSYSPROPS; i++)
        out[i].name = sysprop_names[i];
    out[0].value = cim_i(CIM_T_SINT32, genus);
    out[1].value = cim_str(CIM_T_STRING, cls->name);
    out[2].value = cim_str(CIM_T_STRING, cls->super_name);
    out[3].value = cim_str(CIM_T_STRING, e->dynasty);
    out[4].value = cim_str(CIM_T_STRING, relpath);
    out[5].value = cim_i(CIM_T_SINT32, (int64_t)count);
    out[6].value = e->derivation;
    out[7].value = cim_str(CIM_T_STRING, path ? ctx->server : NULL);
    out[8].value = cim_str(CIM_T_STRING, path ? ctx->nspace : NULL);
    out[9].value = cim_str(CIM_T_STRING, path);
}

void smbcim_instance_sysprops(const smbcim_ctx *ctx, const smbcim_result *res,
                              const cim_instance *inst,
                              smbcim_sysprop out[SMBCIM_NSYSPROPS])
{
    (void)res;
    sc_fill_sysprops(ctx, inst->cls, 2, present_count(inst), inst->relpath, inst->path, out);
}

void smbcim_class_sysprops(const smbcim_ctx *ctx, const cim_class *cls,
                           smbcim_sysprop out[SMBCIM_NSYSPROPS])
{
    /* A class object: __RELPATH is the class name, __PATH its full path. */
    const class_entry *e = sc_map_get(&ctx->entry_by_name, cls->name);
    sc_fill_sysprops(ctx, cls, 1, cls->nprops, cls->name, e->path, out);
}

/* ---- WHERE evaluation over an instance ---------------------------------- */
typedef struct eval_obj {
    smbcim_ctx *ctx;
    const cim_instance *inst;
} eval_obj;

static bool eval_get(void *obj, const char *name, cim_value *out)
{
    eval_obj *o = obj;
    if (name[0] == '_' && name[1] == '_') {
        smbcim_sysprop sp[SMBCIM_NSYSPROPS];
        smbcim_instance_sysprops(o->ctx, NULL, o->inst, sp);
        for (int i = 0; i < SMBCIM_NSYSPROPS; i++) {
            if (sc_streqi(sp[i].name, name)) {
                *out = sp[i].value;
                return true;
            }
        }
        return false;
    }
    int i = cim_class_prop_index(o->inst->cls, name);
    if (i < 0)
        return false;
    *out = o->inst->values[i];
    return true;
}

static int eval_isa(void *obj, const char *prop, const char *clsname)
{
    eval_obj *o = obj;
    if (!cim_schema_find(&o->ctx->schema, clsname))
        return -1;
    if (sc_streqi(prop, "__THIS") || sc_streqi(prop, "__CLASS"))
        return cim_class_is_a(o->inst->cls, clsname);
    int i = cim_class_prop_index(o->inst->cls, prop);
    if (i < 0 || o->inst->values[i].null || o->inst->cls->props[i].type != CIM_T_REFERENCE)
        return 0;
    sc_arena *a = sc_arena_new();
    cim_objpath p;
    int r = 0;
    if (cim_path_parse(a, o->inst->values[i].v.s, &p, NULL) == WBEM_S_NO_ERROR) {
        const cim_class *c = cim_schema_find(&o->ctx->schema, p.class_name);
        r = c && cim_class_is_a(c, clsname);
    }
    sc_arena_free(a);
    return r;
}

/* A path from a query, resolved against the schema when its class is
 * known (so Class="v" and Class.Key="v" give the same key). */
static const char *eval_path_key(void *obj, sc_arena *a, const char *text)
{
    eval_obj *o = obj;
    cim_objpath p;
    if (cim_path_parse(a, text, &p, NULL) != WBEM_S_NO_ERROR)
        return NULL;
    const cim_class *cls = cim_schema_find(&o->ctx->schema, p.class_name);
    if (cls && !p.is_class && !p.singleton)
        (void)cim_path_resolve(a, &p, cls, NULL);
    p.server = NULL;
    p.nspace = NULL;
    return cim_objpath_normkey(a, &p);
}

static const wql_object_ops eval_ops = {.get = eval_get, .isa = eval_isa,
                                        .path_key = eval_path_key};

bool sc_is_sysprop(const char *name)
{
    if (sc_streqi(name, "__THIS"))
        return true;
    for (int i = 0; i < SMBCIM_NSYSPROPS; i++)
        if (sc_streqi(sysprop_names[i], name))
            return true;
    return false;
}

/* Every property a WHERE names must exist in the queried class, even when
 * there is no instance to evaluate it on. */
static smbcim_status check_where(const cim_schema *schema, const wql_expr *e,
                                 const cim_class *cls, smbcim_error *err)
{
    if (!e)
        return WBEM_S_NO_ERROR;
    switch (e->op) {
    case WQL_OP_AND:
    case WQL_OP_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (check_where(schema, e->kids[i], cls, err) != WBEM_S_NO_ERROR)
                return err->code;
        return WBEM_S_NO_ERROR;
    case WQL_OP_NOT:
        return check_where(schema, e->left, cls, err);
    default:
        break;
    }
    if (!sc_is_sysprop(e->prop) && cim_class_prop_index(cls, e->prop) < 0)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: '%s' is not a property of %s", e->prop_pos,
                                e->prop, cls->name);
    if (sc_streqi(e->prop, "__THIS") && e->op != WQL_OP_ISA)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: __THIS can only be used with ISA", e->prop_pos);
    if (e->op == WQL_OP_ISA && e->lit.kind == WQL_LIT_STRING &&
        !cim_schema_find(schema, e->lit.s))
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS,
                                "at column %zu: class '%s' does not exist", e->lit.pos,
                                e->lit.s);
    return WBEM_S_NO_ERROR;
}

static smbcim_status exec_select(sc_request *r, const wql_query *q, smbcim_error *err)
{
    smbcim_ctx *ctx = r->ctx;
    const cim_class *cls = cim_schema_find(&ctx->schema, q->class_name);
    if (!cls)
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS,
                                "at column %zu: class '%s' does not exist", q->class_pos,
                                q->class_name);
    if (!q->star) {
        for (size_t i = 0; i < q->nprops; i++)
            if (!sc_is_sysprop(q->props[i]) && cim_class_prop_index(cls, q->props[i]) < 0)
                return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                        "at column %zu: '%s' is not a property of %s",
                                        q->props_pos[i], q->props[i], cls->name);
        /* copied: the result must not point into a parsed query, which
         * may be freed first (smbcim_query_free) */
        const char **names =
            sc_alloc_array(r->arena, q->nprops ? q->nprops : 1, sizeof(char *));
        for (size_t i = 0; i < q->nprops; i++)
            names[i] = sc_strdup(r->arena, q->props[i]);
        r->pub.select_props = names;
        r->pub.nselect_props = q->nprops;
    }
    r->pub.query_class = cls;
    if (check_where(&ctx->schema, q->where, cls, err) != WBEM_S_NO_ERROR)
        return err->code;
    if (!sc_readable(ctx, cls))
        return sc_denied(err, cls);
    for (size_t c = 0; c < ctx->schema.nclasses; c++) {
        class_entry *e = &ctx->entries[c];
        if (!e->prov || !cim_class_is_a(e->cls, cls->name) || !sc_readable(ctx, e->cls))
            continue;
        smbcim_status st = sc_load(ctx, e, err);
        if (st != WBEM_S_NO_ERROR)
            return st;
        bool keep[e->cls->nprops ? e->cls->nprops : 1];
        if (!q->star) {
            for (size_t i = 0; i < e->cls->nprops; i++) {
                keep[i] = false;
                for (size_t k = 0; k < q->nprops; k++)
                    if (sc_streqi(q->props[k], e->cls->props[i].name))
                        keep[i] = true;
            }
        }
        for (size_t i = 0; i < e->nitems; i++) {
            cim_instance *inst = e->items[i];
            if (!sc_visible(ctx, e, inst))
                continue;
            if (q->where) {
                eval_obj o = {ctx, inst};
                int m = wql_eval(q->where, &eval_ops, &o, err);
                if (m < 0)
                    return err->code ? err->code : WBEM_E_INVALID_QUERY;
                if (!m)
                    continue;
            }
            sc_vec_push(&r->out, q->star ? inst : sc_project(r->arena, inst, keep));
        }
    }
    return WBEM_S_NO_ERROR;
}

/* ---- parsed queries ------------------------------------------------------ */
struct smbcim_query {
    sc_arena *arena; /* the tree, its strings and this struct */
    wql_query *q;
};

static void query_abort_hook(void *a)
{
    sc_arena_free(a);
}

/* Parsing needs no context: smbcimd parses before it takes a state's lock. */
static smbcim_status query_parse_impl(const char *text, smbcim_query **out, smbcim_error *err)
{
    sc_arena *a = sc_arena_new();
    /* if memory runs out while parsing, the arena goes */
    sc_oom_on_unwind(query_abort_hook, a);
    smbcim_query *pq = sc_alloc(a, sizeof(*pq));
    pq->arena = a;
    smbcim_status st = wql_parse(a, text, &pq->q, err);
    sc_oom_on_unwind(NULL, NULL);
    if (st != WBEM_S_NO_ERROR) {
        sc_arena_free(a);
        return st;
    }
    *out = pq;
    return WBEM_S_NO_ERROR;
}

static smbcim_status exec_parsed_impl(smbcim_ctx *ctx, const smbcim_query *pq,
                                      smbcim_result **out, smbcim_error *err)
{
    const wql_query *q = pq->q;
    sc_request *r = sc_request_new(ctx);
    smbcim_status st = WBEM_S_NO_ERROR;
    switch (q->kind) {
    case WQL_SELECT:
        st = exec_select(r, q, err);
        break;
    case WQL_ASSOCIATORS:
        st = sc_exec_associators(r, q, err);
        break;
    case WQL_REFERENCES:
        st = sc_exec_references(r, q, err);
        break;
    }
    if (st != WBEM_S_NO_ERROR) {
        request_abort(r);
        return st;
    }
    sc_request_finish(r);
    *out = &r->pub;
    return WBEM_S_NO_ERROR;
}

static smbcim_status run_assoc(smbcim_ctx *ctx, wql_kind kind, const char *path,
                               const smbcim_assoc_filter *f, smbcim_result **out,
                               smbcim_error *err)
{
    *out = NULL;
    if (!path || !*path)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "empty object path");
    if (kind == WQL_REFERENCES && f && (f->assoc_class || f->result_role))
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                "references take no AssocClass or ResultRole");
    /* Reserved for filters of later versions: a caller that leaves garbage
     * there now would be misread then (smbcim.h). */
    for (size_t i = 0; f && i < sizeof f->reserved / sizeof f->reserved[0]; i++)
        if (f->reserved[i])
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "smbcim_assoc_filter.reserved[%zu] is not zero "
                                    "(initialise the filter with = {0})",
                                    i);
    sc_request *r = sc_request_new(ctx);
    wql_query q = {.kind = kind, .path = path};
    if (f) {
        q.assoc_class = f->assoc_class;
        q.result_class = f->result_class;
        q.role = f->role;
        q.result_role = f->result_role;
        q.keys_only = f->keys_only;
    }
    smbcim_status st = kind == WQL_ASSOCIATORS ? sc_exec_associators(r, &q, err)
                                               : sc_exec_references(r, &q, err);
    if (st != WBEM_S_NO_ERROR) {
        request_abort(r);
        return st;
    }
    sc_request_finish(r);
    *out = &r->pub;
    return WBEM_S_NO_ERROR;
}

static smbcim_status enum_instances_impl(smbcim_ctx *ctx, const char *clsname,
                                         smbcim_result **out, smbcim_error *err)
{
    smbcim_error_clear(err);
    *out = NULL;
    const cim_class *cls = clsname ? cim_schema_find(&ctx->schema, clsname) : NULL;
    if (!cls)
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS, "class '%s' does not exist",
                                clsname ? clsname : "");
    sc_request *r = sc_request_new(ctx);
    wql_query q = {.kind = WQL_SELECT, .star = true, .class_name = cls->name};
    smbcim_status st = exec_select(r, &q, err);
    if (st != WBEM_S_NO_ERROR) {
        request_abort(r);
        return st;
    }
    sc_request_finish(r);
    *out = &r->pub;
    return WBEM_S_NO_ERROR;
}

static smbcim_status get_object_impl(smbcim_ctx *ctx, const char *path, smbcim_result **out,
                                     smbcim_error *err)
{
    smbcim_error_clear(err);
    *out = NULL;
    if (!path || !*path)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "empty object path");
    sc_request *r = sc_request_new(ctx);
    cim_objpath p;
    const cim_class *cls;
    smbcim_status st = sc_resolve_user_path(ctx, r->arena, path, 0, &p, &cls, err);
    if (st == WBEM_S_NO_ERROR) {
        if (p.is_class) {
            sc_vec_push(&r->out, (void *)cls);
            r->classes = true;
        } else {
            cim_instance *inst;
            st = sc_get_instance(ctx, r->arena, &p, cls, &inst, err);
            if (st == WBEM_S_NO_ERROR)
                sc_vec_push(&r->out, inst);
        }
    }
    if (st != WBEM_S_NO_ERROR) {
        request_abort(r);
        return st;
    }
    sc_request_finish(r);
    *out = &r->pub;
    return WBEM_S_NO_ERROR;
}

/* ---- text forms ---------------------------------------------------------- */
static void class_mof_fill(sc_buf *b, const void *cls)
{
    mof_print_class(b, cls);
}

static void instance_mof_fill(sc_buf *b, const void *inst)
{
    mof_print_instance(b, inst);
}

char *smbcim_class_mof(const cim_class *cls)
{
    return sc_buf_text(class_mof_fill, cls); /* NULL: out of memory */
}

char *smbcim_instance_mof(const cim_instance *inst)
{
    return sc_buf_text(instance_mof_fill, inst);
}

/* ---- the public calls, each run under sc_oom_call ------------------------
 * Out of memory inside one is WBEM_E_OUT_OF_MEMORY (or NULL where the
 * call reports failure that way), never an abort; the context is unusable
 * afterwards (docs/decisions.md, "Out of memory"). */

smbcim_status sc_ran_out(smbcim_ctx *ctx, smbcim_error *err)
{
    if (ctx)
        ctx->oom = true;
    smbcim_error_clear(err); /* what the failed call had set is moot */
    return smbcim_error_set(err, WBEM_E_OUT_OF_MEMORY, "out of memory");
}

smbcim_status sc_ctx_unusable(const smbcim_ctx *ctx, smbcim_error *err)
{
    if (!ctx || !ctx->oom)
        return WBEM_S_NO_ERROR;
    return smbcim_error_set(err, WBEM_E_OUT_OF_MEMORY,
                            "an earlier call on this context ran out of memory: close it");
}

/* The arguments and answer of one public call. */
typedef struct api_call {
    smbcim_ctx *ctx;
    const char *s1, *s2;
    size_t len;
    const void *p;
    smbcim_result **out;
    smbcim_error *err;
    smbcim_status st;
    smbcim_ctx *ret_ctx;
    char *ret_text;
    smbcim_query **ret_query;
    smbcim_node_load **ret_loads;
    size_t *ret_nloads;
} api_call;

static smbcim_ctx *open_guarded(void (*fn)(void *), api_call *c)
{
    smbcim_error_clear(c->err);
    if (!sc_oom_call(fn, c)) {
        sc_ran_out(NULL, c->err);
        return NULL; /* the half-opened context is lost */
    }
    return c->ret_ctx;
}

static void open_snapshot_cb(void *p)
{
    api_call *c = p;
    c->ret_ctx = open_snapshot_impl(c->s1, c->err);
}

smbcim_ctx *smbcim_open_snapshot(const char *path, smbcim_error *err)
{
    api_call c = {.s1 = path, .err = err};
    return open_guarded(open_snapshot_cb, &c);
}

static void open_buffer_cb(void *p)
{
    api_call *c = p;
    c->ret_ctx = open_buffer_impl(c->s1, c->len, c->s2, c->err);
}

smbcim_ctx *smbcim_open_snapshot_buffer(const char *buf, size_t len, const char *origin,
                                        smbcim_error *err)
{
    api_call c = {.s1 = buf, .len = len, .s2 = origin, .err = err};
    return open_guarded(open_buffer_cb, &c);
}

static void open_live_cb(void *p)
{
    api_call *c = p;
    c->ret_ctx = open_live_impl(c->s1, c->err);
}

smbcim_ctx *smbcim_open_live(const char *smb_conf, smbcim_error *err)
{
    api_call c = {.s1 = smb_conf, .err = err};
    return open_guarded(open_live_cb, &c);
}

static void open_schema_cb(void *p)
{
    api_call *c = p;
    c->ret_ctx = open_schema_impl(c->err);
}

smbcim_ctx *smbcim_open_schema_only(smbcim_error *err)
{
    api_call c = {.err = err};
    return open_guarded(open_schema_cb, &c);
}

static void open_interop_cb(void *p)
{
    api_call *c = p;
    c->ret_ctx = open_interop_impl(c->p, c->err);
}

smbcim_ctx *smbcim_open_interop(const smbcim_interop *in, smbcim_error *err)
{
    api_call c = {.p = in, .err = err};
    return open_guarded(open_interop_cb, &c);
}

static void snapshot_text_cb(void *p)
{
    api_call *c = p;
    c->ret_text = snapshot_text_impl(c->ctx, c->err);
}

static void samba_version_cb(void *p)
{
    api_call *c = p;
    sc_arena *a = sc_arena_new();
    const char *v = sc_installed_samba_version(a, c->err);
    c->ret_text = v ? sc_xstrdup(v) : NULL;
    sc_arena_free(a);
}

char *smbcim_samba_version(smbcim_error *err)
{
    smbcim_error_clear(err);
    api_call c = {.err = err};
    if (!sc_oom_call(samba_version_cb, &c)) {
        smbcim_error_set(err, WBEM_E_OUT_OF_MEMORY, "out of memory running smbd --version");
        return NULL;
    }
    return c.ret_text;
}

static void node_loads_cb(void *p)
{
    api_call *c = p;
    c->st = node_loads_impl(c->ctx, c->ret_loads, c->ret_nloads, c->err);
}

smbcim_status smbcim_node_loads(smbcim_ctx *ctx, smbcim_node_load **out, size_t *n,
                                smbcim_error *err)
{
    smbcim_error_clear(err);
    *out = NULL;
    *n = 0;
    if (sc_ctx_unusable(ctx, err))
        return err->code;
    api_call c = {.ctx = ctx, .ret_loads = out, .ret_nloads = n, .err = err};
    if (!sc_oom_call(node_loads_cb, &c))
        return sc_ran_out(ctx, err);
    return c.st;
}

char *smbcim_snapshot_text(smbcim_ctx *ctx, smbcim_error *err)
{
    smbcim_error_clear(err);
    if (sc_ctx_unusable(ctx, err))
        return NULL;
    api_call c = {.ctx = ctx, .err = err};
    if (!sc_oom_call(snapshot_text_cb, &c)) {
        sc_ran_out(ctx, err);
        return NULL;
    }
    return c.ret_text;
}

/* A request on ctx: its answer, or WBEM_E_OUT_OF_MEMORY. */
static smbcim_status request_guarded(void (*fn)(void *), api_call *c)
{
    smbcim_error_clear(c->err);
    *c->out = NULL;
    if (sc_ctx_unusable(c->ctx, c->err))
        return c->err->code;
    if (!sc_oom_call(fn, c))
        return sc_ran_out(c->ctx, c->err); /* *c->out is set only at the end */
    return c->st;
}

static void query_parse_cb(void *p)
{
    api_call *c = p;
    c->st = query_parse_impl(c->s1, c->ret_query, c->err);
}

smbcim_status smbcim_query_parse(const char *wql, smbcim_query **out, smbcim_error *err)
{
    smbcim_error local;
    if (!err)
        err = &local; /* the parser reads err->code */
    smbcim_error_clear(err);
    if (!out)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no place for the query");
    *out = NULL;
    api_call c = {.s1 = wql, .ret_query = out, .err = err};
    if (!sc_oom_call(query_parse_cb, &c))
        return sc_ran_out(NULL, err); /* the hook freed the half-built query */
    return c.st;
}

void smbcim_query_free(smbcim_query *q)
{
    if (q)
        sc_arena_free(q->arena); /* q is in it */
}

static void exec_parsed_cb(void *p)
{
    api_call *c = p;
    c->st = exec_parsed_impl(c->ctx, c->p, c->out, c->err);
}

smbcim_status smbcim_exec_parsed(smbcim_ctx *ctx, const smbcim_query *q, smbcim_result **out,
                                 smbcim_error *err)
{
    smbcim_error local;
    if (!err)
        err = &local; /* the engine reads err->code */
    smbcim_error_clear(err);
    if (!out)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no place for the result");
    *out = NULL;
    if (!ctx)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no context given");
    if (!q)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no query given");
    api_call c = {.ctx = ctx, .p = q, .out = out, .err = err};
    return request_guarded(exec_parsed_cb, &c);
}

/* Parse, then run: the one path of smbcimd too, which parses before it
 * takes a state's lock. */
smbcim_status smbcim_exec_query(smbcim_ctx *ctx, const char *text, smbcim_result **out,
                                smbcim_error *err)
{
    smbcim_error_clear(err);
    *out = NULL;
    if (sc_ctx_unusable(ctx, err))
        return err->code;
    smbcim_query *q;
    smbcim_status st = smbcim_query_parse(text, &q, err);
    if (st == WBEM_E_OUT_OF_MEMORY)
        return sc_ran_out(ctx, err); /* as when the parse was part of the request */
    if (st != WBEM_S_NO_ERROR)
        return st;
    st = smbcim_exec_parsed(ctx, q, out, err);
    smbcim_query_free(q);
    return st;
}

static void associators_cb(void *p)
{
    api_call *c = p;
    c->st = run_assoc(c->ctx, WQL_ASSOCIATORS, c->s1, c->p, c->out, c->err);
}

smbcim_status smbcim_associators(smbcim_ctx *ctx, const char *path,
                                 const smbcim_assoc_filter *f, smbcim_result **out,
                                 smbcim_error *err)
{
    api_call c = {.ctx = ctx, .s1 = path, .p = f, .out = out, .err = err};
    return request_guarded(associators_cb, &c);
}

static void references_cb(void *p)
{
    api_call *c = p;
    c->st = run_assoc(c->ctx, WQL_REFERENCES, c->s1, c->p, c->out, c->err);
}

smbcim_status smbcim_references(smbcim_ctx *ctx, const char *path,
                                const smbcim_assoc_filter *f, smbcim_result **out,
                                smbcim_error *err)
{
    api_call c = {.ctx = ctx, .s1 = path, .p = f, .out = out, .err = err};
    return request_guarded(references_cb, &c);
}

static void enum_instances_cb(void *p)
{
    api_call *c = p;
    c->st = enum_instances_impl(c->ctx, c->s1, c->out, c->err);
}

smbcim_status smbcim_enum_instances(smbcim_ctx *ctx, const char *cls, smbcim_result **out,
                                    smbcim_error *err)
{
    api_call c = {.ctx = ctx, .s1 = cls, .out = out, .err = err};
    return request_guarded(enum_instances_cb, &c);
}

static void get_object_cb(void *p)
{
    api_call *c = p;
    c->st = get_object_impl(c->ctx, c->s1, c->out, c->err);
}

smbcim_status smbcim_get_object(smbcim_ctx *ctx, const char *path, smbcim_result **out,
                                smbcim_error *err)
{
    api_call c = {.ctx = ctx, .s1 = path, .out = out, .err = err};
    return request_guarded(get_object_cb, &c);
}
