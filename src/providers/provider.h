/*
 * provider.h - the provider contract: how the engine gets the instances of
 * a class.  A provider turns source records (sources/sources.h) into CIM
 * instances (cim/cim.h) of exactly one class; the engine sees providers only
 * through this header and the registry (registry.c), never a concrete one.
 *
 * The rules that turn Samba's records into Windows' values (merging of
 * duplicate keys, synthesized shares, ActiveTime, NumberOfFiles...) are in
 * model.c and written down in docs/values.md.
 */
#ifndef SMBCIM_PROVIDER_H
#define SMBCIM_PROVIDER_H

#include "cim/cim.h"
#include "sources/sources.h"

struct sc_model;

/* What a provider works with.  Everything it allocates goes to `arena`,
 * which lives as long as the context (the source state is immutable, so
 * instances are built once and shared by every request). */
typedef struct sc_provctx {
    sc_arena *arena;
    const cim_schema *schema;
    sc_state *state;        /* filled on demand (sc_state_fill) */
    struct sc_model *model; /* built on first use by sc_model_get() */
    const char *server;     /* upper-case server name for __SERVER/__PATH */
    const char *nspace;     /* the context's namespace, for __PATH */
    /* root\\interop: the caller's records (checked copies, in arena);
     * NULL in root\\cimv2 */
    const smbcim_interop *interop;
} sc_provctx;

typedef struct sc_provider {
    const char *class_name;
    /* Appends every instance of exactly class `cls` to `out`.  Instances
     * carry relpath and path.  Returns WBEM_S_NO_ERROR or a failure with
     * err set (a part of the state it needs could not be read: each
     * provider reads only the parts it needs, sc_model_at). */
    smbcim_status (*enumerate)(sc_provctx *pc, const cim_class *cls,
                               sc_vec *out, smbcim_error *err);
    /* Optional: sets *out to the instance of exactly class `cls` named by
     * `path`, whose keys are resolved against cls (cim_path_resolve:
     * sorted, typed), or to NULL if there is none.  Must give the same
     * object enumerate gives.  Fails as enumerate does.  Without it the
     * engine indexes the enumeration. */
    smbcim_status (*get)(sc_provctx *pc, const cim_class *cls, const cim_objpath *path,
                         cim_instance **out, smbcim_error *err);
    /* Optional, association classes: appends the instances whose REF
     * property `role` refers to `target` (an instance returned by this
     * context), the same objects enumerate gives.  Without it the engine
     * indexes the enumeration by each REF property. */
    smbcim_status (*references)(sc_provctx *pc, const cim_class *cls, const char *role,
                                const cim_instance *target, sc_vec *out, smbcim_error *err);
    /* Optional: the class an instance gives away by existing (a share
     * known only from a tree connect — a [homes] share, one removed since —
     * shows that someone is connected), or NULL.  A caller that may not
     * read that class (smbcim_set_access) does not see the instance. */
    const cim_class *(*reveals)(sc_provctx *pc, const cim_instance *inst);
} sc_provider;

/* The provider of a concrete class, or NULL (abstract classes have none). */
const sc_provider *sc_provider_find(const char *class_name);
/* Frees what the providers keep for a context (pc->model's look-up maps). */
void sc_provctx_release(sc_provctx *pc);

#endif
