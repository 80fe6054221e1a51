/*
 * assoc.c - ASSOCIATORS OF and REFERENCES OF, evaluated from the REF keys
 * of the association classes (DSP0004 / MS-WMI 2.2.1.1), in both
 * directions, with every WHERE keyword honoured.  No query text is built:
 * the source path is resolved to an instance, its canonical key is looked
 * up in a per-(class, REF property) index, and the other ends are resolved
 * through the per-class key index.  Cost: one index build per association
 * property (linear), then proportional to the answer.
 */
#include "engine/engine_int.h"

#include <string.h>

/* Index: normkey(value of REF property p) -> sc_vec of instances. */
static smbcim_status ref_index(smbcim_ctx *ctx, class_entry *e, size_t p,
                               sc_map **out, smbcim_error *err)
{
    smbcim_status st = sc_load(ctx, e, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    if (!e->by_ref) {
        e->by_ref = sc_alloc_array(ctx->arena, e->cls->nprops, sizeof(sc_map));
        for (size_t i = 0; i < e->cls->nprops; i++)
            sc_map_init(&e->by_ref[i]);
    }
    sc_map *m = &e->by_ref[p];
    if (m->cap == 0 && e->nitems) {
        /* Many association instances point at one endpoint, through the
         * very same string (the endpoint's __PATH): parse each distinct
         * string once, remembering keys by the string's address. */
        sc_arena *tmp = sc_arena_new();
        sc_map seen;
        sc_map_init_exact(&seen);
        for (size_t i = 0; i < e->nitems; i++) {
            const cim_value *v = &e->items[i]->values[p];
            if (v->null)
                continue;
            const char *addr = sc_sprintf(tmp, "%p", (const void *)v->v.s);
            const char *k = sc_map_get(&seen, addr);
            if (!k) {
                k = cim_path_normkey(ctx->arena, v->v.s);
                if (k)
                    sc_map_put(&seen, addr, (void *)k);
            }
            if (!k)
                continue;
            sc_vec *vec = sc_map_get(m, k);
            if (!vec) {
                vec = sc_alloc(ctx->arena, sizeof(*vec));
                sc_map_put(m, k, vec);
                sc_vec_push(&e->ref_vecs, vec);
            }
            sc_vec_push(vec, e->items[i]);
        }
        sc_map_free(&seen);
        sc_arena_free(tmp);
    }
    *out = m;
    return WBEM_S_NO_ERROR;
}

static smbcim_status check_class_kw(smbcim_ctx *ctx, const char *name, size_t pos,
                                    const cim_class **out, smbcim_error *err)
{
    *out = NULL;
    if (!name)
        return WBEM_S_NO_ERROR;
    *out = cim_schema_find(&ctx->schema, name);
    if (!*out && pos == 0) /* a filter given through the API, not a query */
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS, "class '%s' does not exist", name);
    if (!*out)
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS,
                                "at column %zu: class '%s' does not exist", pos, name);
    if (!sc_readable(ctx, *out))
        return sc_denied(err, *out);
    return WBEM_S_NO_ERROR;
}

static bool has_class_qual(const cim_class *c, const char *q)
{
    return !q || cim_class_qualifier(c, q) != NULL;
}

/* An association class the query may go through: concrete, of the
 * filter class (if any), carrying the required qualifier (if any). */
static bool assoc_class_ok(const cim_class *ac, const cim_class *filter, const char *qual)
{
    return ac->association && !ac->abstract &&
           (!filter || cim_class_is_a(ac, filter->name)) && has_class_qual(ac, qual);
}

/* A REF property through which an object of class src can be referenced,
 * named `role` when the query gives one. */
static bool source_role(const cim_property *rp, const cim_class *src, const char *role)
{
    return rp->type == CIM_T_REFERENCE && (!role || sc_streqi(role, rp->name)) &&
           (!rp->ref_class || cim_class_is_a(src, rp->ref_class));
}

/* The source object of an ASSOCIATORS/REFERENCES query. */
typedef struct source {
    cim_objpath path;
    const cim_class *cls;
    cim_instance *inst; /* NULL for a class path (schema query) */
    const char *key;    /* normkey of the instance */
} source;

static smbcim_status resolve_source(sc_request *r, const wql_query *q, source *s,
                                    smbcim_error *err)
{
    smbcim_ctx *ctx = r->ctx;
    memset(s, 0, sizeof(*s));
    smbcim_status st = sc_resolve_user_path(ctx, r->arena, q->path, q->path_pos, &s->path,
                                            &s->cls, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    if (s->path.is_class)
        return WBEM_S_NO_ERROR;
    if (!sc_readable(ctx, s->cls))
        return sc_denied(err, s->cls);
    if (q->schema_only)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: SchemaOnly needs a class path, not an instance path",
                                q->path_pos);
    st = sc_get_instance(ctx, r->arena, &s->path, s->cls, &s->inst, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    s->key = cim_instance_normkey(r->arena, s->inst);
    return WBEM_S_NO_ERROR;
}

/* Calls fn for every (association instance, REF property through which it
 * references the source) allowed by the association-side filters. */
typedef smbcim_status (*assoc_visit)(sc_request *r, const wql_query *q, class_entry *ae,
                                     size_t role, const cim_instance *ai, void *data,
                                     smbcim_error *err);

static smbcim_status walk(sc_request *r, const wql_query *q, const source *s,
                          const cim_class *assoc_filter, const char *assoc_qual,
                          assoc_visit fn, void *data, smbcim_error *err)
{
    smbcim_ctx *ctx = r->ctx;
    for (size_t c = 0; c < ctx->schema.nclasses; c++) {
        class_entry *ae = &ctx->entries[c];
        const cim_class *ac = ae->cls;
        if (!ae->prov || !assoc_class_ok(ac, assoc_filter, assoc_qual))
            continue;
        for (size_t p = 0; p < ac->nprops; p++) {
            const cim_property *rp = &ac->props[p];
            if (!source_role(rp, s->inst->cls, q->role))
                continue;
            /* From the schema, before any link is looked at: whether such
             * links exist is itself what an unreadable class hides. */
            if (!sc_readable(ctx, ac))
                return sc_denied(err, ac);
            smbcim_status st;
            sc_vec own = {0};
            sc_vec *hits;
            if (ae->prov->references && !ctx->generic_only) {
                /* the provider knows which links point at the source */
                st = ae->prov->references(&ctx->pc, ac, rp->name, s->inst, &own, err);
                hits = &own;
            } else {
                sc_map *idx;
                st = ref_index(ctx, ae, p, &idx, err);
                hits = st == WBEM_S_NO_ERROR && s->key ? sc_map_get(idx, s->key) : NULL;
            }
            for (size_t h = 0; st == WBEM_S_NO_ERROR && hits && h < hits->len; h++)
                st = fn(r, q, ae, p, hits->items[h], data, err);
            sc_vec_free(&own);
            if (st != WBEM_S_NO_ERROR)
                return st;
        }
    }
    return WBEM_S_NO_ERROR;
}

/* ---- ASSOCIATORS OF ------------------------------------------------------ */
typedef struct assoc_state {
    const cim_class *result_class;
    sc_map seen;             /* normkey of endpoints already returned */
    sc_map seen_classes;
} assoc_state;

static smbcim_status add_endpoint(sc_request *r, const wql_query *q, class_entry *ae,
                                  size_t role, const cim_instance *ai, void *data,
                                  smbcim_error *err)
{
    assoc_state *as = data;
    smbcim_ctx *ctx = r->ctx;
    const cim_class *ac = ae->cls;
    for (size_t p = 0; p < ac->nprops; p++) {
        if (p == role || ac->props[p].type != CIM_T_REFERENCE || ai->values[p].null)
            continue;
        if (q->result_role && !sc_streqi(q->result_role, ac->props[p].name))
            continue;
        cim_objpath ep;
        if (cim_path_parse(r->arena, ai->values[p].v.s, &ep, NULL) != WBEM_S_NO_ERROR)
            continue;
        const cim_class *ec = cim_schema_find(&ctx->schema, ep.class_name);
        if (!ec)
            continue;
        if (as->result_class && !cim_class_is_a(ec, as->result_class->name))
            continue;
        if (!has_class_qual(ec, q->required_qualifier))
            continue;
        if (ep.is_class || cim_path_resolve(r->arena, &ep, ec, NULL) != WBEM_S_NO_ERROR)
            continue;
        ep.server = NULL;
        ep.nspace = NULL;
        cim_instance *target;
        smbcim_status st = sc_lookup(ctx, r->arena, &ep, ec, &target, err);
        if (st != WBEM_S_NO_ERROR)
            return st;
        if (!target)
            continue; /* a dangling reference: providers never make one */
        if (!sc_readable(ctx, target->cls))
            return sc_denied(err, target->cls);
        /* instances are built once per context: the object is its identity */
        const char *key = sc_sprintf(r->arena, "%p", (void *)target);
        if (sc_map_get(&as->seen, key))
            continue;
        sc_map_put(&as->seen, key, target);
        if (q->class_defs_only) {
            if (!sc_map_get(&as->seen_classes, target->cls->name)) {
                sc_map_put(&as->seen_classes, target->cls->name, (void *)target->cls);
                sc_vec_push(&r->out, (void *)target->cls);
            }
        } else {
            sc_vec_push(&r->out, q->keys_only ? sc_keys_only(r->arena, target) : target);
        }
    }
    return WBEM_S_NO_ERROR;
}

/* Schema form: the classes at the other end of each association class
 * whose REF property can point at the source class. */
static void schema_associators(sc_request *r, const wql_query *q, const source *s,
                               const cim_class *assoc_filter, const cim_class *result_class)
{
    smbcim_ctx *ctx = r->ctx;
    sc_map seen;
    sc_map_init(&seen);
    for (size_t c = 0; c < ctx->schema.nclasses; c++) {
        const cim_class *ac = ctx->schema.classes[c];
        if (!assoc_class_ok(ac, assoc_filter, q->required_assoc_qualifier))
            continue;
        for (size_t p = 0; p < ac->nprops; p++) {
            const cim_property *rp = &ac->props[p];
            if (!rp->ref_class || !source_role(rp, s->cls, q->role))
                continue;
            for (size_t p2 = 0; p2 < ac->nprops; p2++) {
                const cim_property *op = &ac->props[p2];
                if (p2 == p || op->type != CIM_T_REFERENCE || !op->ref_class)
                    continue;
                if (q->result_role && !sc_streqi(q->result_role, op->name))
                    continue;
                const cim_class *ec = cim_schema_find(&ctx->schema, op->ref_class);
                if (!ec || (result_class && !cim_class_is_a(ec, result_class->name)))
                    continue;
                if (!has_class_qual(ec, q->required_qualifier) || sc_map_get(&seen, ec->name))
                    continue;
                sc_map_put(&seen, ec->name, (void *)ec);
                sc_vec_push(&r->out, (void *)ec);
            }
        }
    }
    sc_map_free(&seen);
}

smbcim_status sc_exec_associators(sc_request *r, const wql_query *q, smbcim_error *err)
{
    const cim_class *assoc_filter, *result_class;
    if (check_class_kw(r->ctx, q->assoc_class, q->assoc_class_pos, &assoc_filter, err) ||
        check_class_kw(r->ctx, q->result_class, q->result_class_pos, &result_class, err))
        return err->code;
    source s;
    smbcim_status st = resolve_source(r, q, &s, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    r->classes = q->class_defs_only || !s.inst;
    if (!s.inst) {
        schema_associators(r, q, &s, assoc_filter, result_class);
        return WBEM_S_NO_ERROR;
    }
    assoc_state as = {.result_class = result_class};
    sc_map_init_exact(&as.seen);
    sc_map_init(&as.seen_classes);
    st = walk(r, q, &s, assoc_filter, q->required_assoc_qualifier, add_endpoint, &as, err);
    sc_map_free(&as.seen);
    sc_map_free(&as.seen_classes);
    return st;
}

/* ---- REFERENCES OF ------------------------------------------------------- */
typedef struct refs_state {
    sc_map seen;         /* association instances already returned */
    sc_map seen_classes;
} refs_state;

static smbcim_status add_reference(sc_request *r, const wql_query *q, class_entry *ae,
                                   size_t role, const cim_instance *ai, void *data,
                                   smbcim_error *err)
{
    (void)role;
    (void)err;
    refs_state *rs = data;
    if (q->class_defs_only) {
        if (!sc_map_get(&rs->seen_classes, ae->cls->name)) {
            sc_map_put(&rs->seen_classes, ae->cls->name, (void *)ae->cls);
            sc_vec_push(&r->out, (void *)ae->cls);
        }
        return WBEM_S_NO_ERROR;
    }
    /* An association that references the source through two roles is
     * returned once. */
    if (ai->relpath) {
        if (sc_map_get(&rs->seen, ai->relpath))
            return WBEM_S_NO_ERROR;
        sc_map_put(&rs->seen, ai->relpath, (void *)ai);
    }
    sc_vec_push(&r->out, q->keys_only ? sc_keys_only(r->arena, ai) : (void *)ai);
    return WBEM_S_NO_ERROR;
}

static void schema_references(sc_request *r, const wql_query *q, const source *s,
                              const cim_class *result_class)
{
    smbcim_ctx *ctx = r->ctx;
    for (size_t c = 0; c < ctx->schema.nclasses; c++) {
        const cim_class *ac = ctx->schema.classes[c];
        if (!assoc_class_ok(ac, result_class, q->required_qualifier))
            continue;
        for (size_t p = 0; p < ac->nprops; p++) {
            const cim_property *rp = &ac->props[p];
            if (!rp->ref_class || !source_role(rp, s->cls, q->role))
                continue;
            sc_vec_push(&r->out, (void *)ac);
            break;
        }
    }
}

smbcim_status sc_exec_references(sc_request *r, const wql_query *q, smbcim_error *err)
{
    const cim_class *result_class;
    if (check_class_kw(r->ctx, q->result_class, q->result_class_pos, &result_class, err))
        return err->code;
    source s;
    smbcim_status st = resolve_source(r, q, &s, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    r->classes = q->class_defs_only || !s.inst;
    if (!s.inst) {
        schema_references(r, q, &s, result_class);
        return WBEM_S_NO_ERROR;
    }
    refs_state rs;
    sc_map_init_exact(&rs.seen);
    sc_map_init(&rs.seen_classes);
    /* REFERENCES OF: ResultClass filters the association class and
     * RequiredQualifier applies to it (MS-WMI 2.2.1.1). */
    st = walk(r, q, &s, result_class, q->required_qualifier, add_reference, &rs, err);
    sc_map_free(&rs.seen);
    sc_map_free(&rs.seen_classes);
    return st;
}
