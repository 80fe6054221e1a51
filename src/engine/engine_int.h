/*
 * engine_int.h - private to src/engine: the context behind smbcim_ctx and
 * the pieces shared by engine.c (contexts, instances, GetObject, SELECT)
 * and assoc.c (ASSOCIATORS OF / REFERENCES OF).
 *
 * Memory: ctx->arena holds the schema, the source state and every instance
 * (built once: the state of a context never changes).  Each request has its
 * own arena (req->arena) for its result, projections and strings; freeing
 * the result frees it.
 */
#ifndef SMBCIM_ENGINE_INT_H
#define SMBCIM_ENGINE_INT_H

#include "cim/cim.h"
#include "providers/provider.h"
#include "wql/wql.h"

/* Per class: its instances (loaded on first use) and look-up indexes. */
typedef struct class_entry {
    const cim_class *cls;
    const sc_provider *prov;     /* NULL for abstract classes */
    cim_value derivation;        /* __DERIVATION */
    const char *dynasty;         /* __DYNASTY */
    const char *path;            /* __PATH of the class object */
    bool loaded;
    cim_instance **items;
    size_t nitems;
    bool indexed;
    sc_map by_key;               /* normkey(relpath) -> cim_instance* */
    sc_map *by_ref;              /* per property (REF only): normkey -> sc_vec* */
    sc_vec ref_vecs;             /* every sc_vec in by_ref, to free */
} class_entry;

struct smbcim_ctx {
    sc_arena *arena;
    cim_schema schema;
    const char *nspace;          /* "root\\cimv2" or "root\\interop" */
    sc_state *state;             /* NULL: schema only (or root\\interop) */
    sc_provctx pc;
    class_entry *entries;        /* parallel to schema.classes */
    sc_map entry_by_name;
    const char *server;
    sc_live_info live;           /* how a live context was read (route NULL otherwise) */
    /* Ignore the providers' get/references hooks and use the generic
     * indexes (tests compare the two; never set in production). */
    bool generic_only;
    smbcim_may_read may_read;    /* smbcim_set_access; NULL: all readable */
    void *may_read_data;
    /* A call ran out of memory part way: the context's state may be half
     * built, so every later call but smbcim_close fails. */
    bool oom;
};

/* Whether the context has instances to give: a server's state, or the
 * records of root\\interop. */
static inline bool sc_has_data(const smbcim_ctx *ctx)
{
    return ctx->state || ctx->pc.interop;
}

/* WBEM_E_OUT_OF_MEMORY after sc_oom_call returned false: err says so
 * (whatever the failed call had set), ctx (if any) is marked unusable. */
smbcim_status sc_ran_out(smbcim_ctx *ctx, smbcim_error *err);
/* WBEM_E_OUT_OF_MEMORY, err set, when an earlier call on ctx ran out. */
smbcim_status sc_ctx_unusable(const smbcim_ctx *ctx, smbcim_error *err);

/* Whether the caller may see instances of cls (smbcim_set_access). */
static inline bool sc_readable(const smbcim_ctx *ctx, const cim_class *cls)
{
    return !ctx->may_read || ctx->may_read(cls, ctx->may_read_data);
}

/* WBEM_E_ACCESS_DENIED for cls: the one message of every refusal. */
smbcim_status sc_denied(smbcim_error *err, const cim_class *cls);

/* One request: its arena and the result under construction. */
typedef struct sc_request {
    smbcim_result pub;           /* first: the result handed out */
    sc_arena *arena;
    smbcim_ctx *ctx;
    sc_vec out;                  /* cim_instance* or cim_class* */
    bool classes;                /* out holds classes (ClassDefsOnly, schema queries) */
} sc_request;

class_entry *sc_entry(smbcim_ctx *ctx, const cim_class *cls);
/* Loads the instances of a concrete class (no-op for abstract ones). */
smbcim_status sc_load(smbcim_ctx *ctx, class_entry *e, smbcim_error *err);
/* The instance of exactly class `cls` named by a path resolved against
 * it (the provider's get, else the key index); *out NULL if none. */
smbcim_status sc_lookup(smbcim_ctx *ctx, sc_arena *a, const cim_objpath *p,
                        const cim_class *cls, cim_instance **out, smbcim_error *err);
/* Instance named by a (resolved) path, searching subclasses; NOT_FOUND. */
smbcim_status sc_get_instance(smbcim_ctx *ctx, sc_arena *a, const cim_objpath *p,
                              const cim_class *cls, cim_instance **out,
                              smbcim_error *err);
/* Parses and checks a path given by a user: namespace, class, keys.
 * *cls is set; *is_class true for a class path. `what` and `col` shape
 * error messages ("at column N" inside a query, col 0 outside). */
smbcim_status sc_resolve_user_path(smbcim_ctx *ctx, sc_arena *a, const char *text,
                                   size_t col, cim_objpath *p,
                                   const cim_class **cls, smbcim_error *err);
/* A copy of inst showing only the properties for which keep[i] is set. */
cim_instance *sc_project(sc_arena *a, const cim_instance *inst, const bool *keep);
/* Keys only (KeysOnly). */
cim_instance *sc_keys_only(sc_arena *a, const cim_instance *inst);

/* Whether the caller may see inst, an instance of e's (readable) class:
 * not when it gives away an unreadable class (the provider's reveals). */
bool sc_visible(smbcim_ctx *ctx, const class_entry *e, const cim_instance *inst);
/* The system properties of an object of cls (genus 2: instance, 1: class)
 * with `count` properties; relpath/path NULL make __SERVER and __NAMESPACE
 * NULL too (a projection without the keys, an event). */
void sc_fill_sysprops(const smbcim_ctx *ctx, const cim_class *cls, int genus, size_t count,
                      const char *relpath, const char *path, smbcim_sysprop out[SMBCIM_NSYSPROPS]);
/* __CLASS, __PATH, ... or __THIS (case-insensitive). */
bool sc_is_sysprop(const char *name);

sc_request *sc_request_new(smbcim_ctx *ctx);
void sc_request_finish(sc_request *r);

smbcim_status sc_exec_associators(sc_request *r, const wql_query *q, smbcim_error *err);
smbcim_status sc_exec_references(sc_request *r, const wql_query *q, smbcim_error *err);

#endif
