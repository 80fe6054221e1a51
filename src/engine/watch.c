/*
 * watch.c - event queries (smbcim_watch_*): WMI's intrinsic events for
 * classes without an event provider, made by polling.  Each poll compares
 * the instances of a new state with the previous state's by key, in one
 * pass over each (a hash of the keys: linear in the states), and keeps the
 * creations, deletions and modifications the query's WHERE selects;
 * GROUP WITHIN folds them into __AggregateEvent instances.  Semantics and
 * sources: docs/wql.md, "Event queries".
 *
 * Memory: the watcher's arena holds the query; its schema-only context
 * (sctx) the classes of every event it hands out.  The previous state is a
 * context the watcher owns; the keys of its instances (in that context's
 * arena) are kept in one map per watched class until the next poll
 * replaces it.  Events are deep copies in their result's arena, so they
 * outlive the states they came from; a group (GROUP WITHIN) keeps its first
 * event in an arena of its own until it is delivered.
 */
#include "engine/engine_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Nesting of embedded objects in an event: __AggregateEvent >
 * __Instance...Event > TargetInstance.  Copies stop deeper (never reached:
 * the watched classes hold no embedded objects). */
#define WATCH_MAX_EMBED 4

/* Seconds between 1601-01-01 and 1970-01-01 (TIME_CREATED's epoch). */
#define EPOCH_1601 11644473600LL

typedef struct watch_class {
    const char *name;        /* a concrete class with a provider */
    sc_map keys;             /* previous state: normkey -> index + 1 */
    cim_instance **items;    /* previous state's instances (its arena) */
    const char **ikeys;      /* their normkeys (NULL: no key), same order */
    size_t nitems;
} watch_class;

typedef struct watch_group {
    sc_arena *arena;         /* the group's own: key and representative */
    const char *key;         /* the GROUP BY values, folded */
    double first;            /* state time of its first event, seconds */
    uint32_t count;
    cim_instance *rep;       /* the first event (classes of sctx) */
} watch_group;

struct smbcim_watch {
    smbcim_ctx *sctx;        /* schema only: the events' classes */
    sc_arena *arena;         /* the query, the class list */
    wql_query *q;
    const cim_class *from;   /* the FROM class (sctx) */
    const cim_class *ev_create, *ev_delete, *ev_modify, *ev_aggregate;
    smbcim_ctx *prev;        /* the state the next poll compares with */
    watch_class *classes;    /* the classes the query can be about */
    size_t nclasses;
    sc_vec groups;           /* watch_group*, oldest first */
    sc_map group_by_key;
    /* A poll ran out of memory part way: every later poll fails, and the
     * state that poll was given is closed with the watcher (half-made
     * groups may refer to it). */
    bool oom;
    smbcim_ctx *lost_state;
};

/* ---- the query against the schema -------------------------------------- */
enum { MAYBE_NO = 0, MAYBE_YES = 1, MAYBE_UNKNOWN = 2 };

static bool is_embedded_name(const char *s)
{
    return sc_streqi(s, "TargetInstance") || sc_streqi(s, "PreviousInstance");
}

/* Whether `where` can hold for an event whose TargetInstance is of class
 * c: ISA on the embedded objects is decided, every other test unknown.
 * Recursion as deep as the query's parentheses and NOTs (WQL_MAX_DEPTH). */
static int may_match(const wql_expr *e, const cim_class *c)
{
    int r;
    switch (e->op) {
    case WQL_OP_AND:
        r = MAYBE_YES;
        for (size_t i = 0; i < e->nkids; i++) {
            int k = may_match(e->kids[i], c);
            if (k == MAYBE_NO)
                return MAYBE_NO;
            if (k == MAYBE_UNKNOWN)
                r = MAYBE_UNKNOWN;
        }
        return r;
    case WQL_OP_OR:
        r = MAYBE_NO;
        for (size_t i = 0; i < e->nkids; i++) {
            int k = may_match(e->kids[i], c);
            if (k == MAYBE_YES)
                return MAYBE_YES;
            if (k == MAYBE_UNKNOWN)
                r = MAYBE_UNKNOWN;
        }
        return r;
    case WQL_OP_NOT:
        r = may_match(e->left, c);
        return r == MAYBE_UNKNOWN ? r : !r;
    case WQL_OP_ISA:
        if (is_embedded_name(e->prop))
            return cim_class_is_a(c, e->lit.s) ? MAYBE_YES : MAYBE_NO;
        return MAYBE_UNKNOWN;
    default:
        return MAYBE_UNKNOWN;
    }
}

static bool has_embedded_object(const cim_class *cls, int i)
{
    return cls->props[i].type == CIM_T_STRING &&
           (cim_property_qualifier(cls, (size_t)i, "EmbeddedObject") ||
            cim_property_qualifier(cls, (size_t)i, "EmbeddedInstance"));
}

typedef enum name_use { USE_SELECT, USE_WHERE, USE_GROUP_BY } name_use;

/* Checks a name of the query (as written, maybe dotted) against the FROM
 * class and, behind TargetInstance/PreviousInstance, the watched classes.
 * `op` is the WHERE operator (USE_WHERE). */
static smbcim_status check_name(smbcim_watch *w, const char *name, size_t pos, name_use use,
                                wql_op op, smbcim_error *err)
{
    const char *dot = strchr(name, '.');
    /* the parts, in the watcher's arena (a name may be as long as the
     * query: never on the stack) */
    const char *head = dot ? sc_strndup(w->arena, name, (size_t)(dot - name)) : name;
    if (sc_is_sysprop(head)) {
        if (dot)
            return smbcim_error_set(err, WBEM_E_PROPERTY_NOT_AN_OBJECT,
                                    "at column %zu: %s is not an embedded object", pos, head);
        if (use == USE_WHERE && sc_streqi(head, "__THIS") && op != WQL_OP_ISA)
            return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                    "at column %zu: __THIS can only be used with ISA", pos);
        return WBEM_S_NO_ERROR;
    }
    int i = cim_class_prop_index(w->from, head);
    if (i < 0)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: '%s' is not a property of %s", pos, head,
                                w->from->name);
    bool object = has_embedded_object(w->from, i);
    if (!dot) {
        if (object && use == USE_GROUP_BY)
            return smbcim_error_set(err, WBEM_E_AGGREGATING_BY_OBJECT,
                                    "at column %zu: %s is an embedded object: group by one of "
                                    "its properties (%s.Name)", pos, head, head);
        if (use == USE_WHERE && object && op != WQL_OP_ISA && op != WQL_OP_IS_NULL &&
            op != WQL_OP_IS_NOT_NULL)
            return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                    "at column %zu: %s is an embedded object: test it with ISA "
                                    "or IS NULL, or compare its properties (%s.Name)", pos,
                                    head, head);
        if (use == USE_WHERE && !object && op == WQL_OP_ISA)
            return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                    "at column %zu: ISA tests an embedded object (%s is not "
                                    "one) or __THIS", pos, head);
        return WBEM_S_NO_ERROR;
    }
    if (!object)
        return smbcim_error_set(err, WBEM_E_PROPERTY_NOT_AN_OBJECT,
                                "at column %zu: %s is not an embedded object: %s cannot be read",
                                pos, head, name);
    /* TargetInstance.X: X of one of the watched classes (none of which
     * holds embedded objects, so a second dot is always wrong) */
    const char *rest = dot + 1;
    const char *dot2 = strchr(rest, '.');
    const char *prop = dot2 ? sc_strndup(w->arena, rest, (size_t)(dot2 - rest)) : rest;
    bool found = sc_is_sysprop(prop) && !sc_streqi(prop, "__THIS");
    for (size_t c = 0; c < w->nclasses && !found; c++)
        found = cim_class_prop_index(cim_schema_find(&w->sctx->schema, w->classes[c].name),
                                     prop) >= 0;
    if (!found && w->nclasses == 1)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: '%s' is not a property of %s", pos, prop,
                                w->classes[0].name);
    if (!found)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: '%s' is not a property of any class the query "
                                "watches%s", pos, prop,
                                w->nclasses ? " (name one with TargetInstance ISA 'Class')" : "");
    if (dot2)
        return smbcim_error_set(err, WBEM_E_PROPERTY_NOT_AN_OBJECT,
                                "at column %zu: %s.%s is not an embedded object", pos, head, prop);
    if (use == USE_WHERE && op == WQL_OP_ISA)
        return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                "at column %zu: ISA tests an embedded object (%s is not one)",
                                pos, name);
    return WBEM_S_NO_ERROR;
}

/* ISA's classes must exist (before the classes watched are worked out).
 * Recursion as deep as the query's nesting. */
static smbcim_status check_isa(const cim_schema *s, const wql_expr *e, smbcim_error *err)
{
    switch (e->op) {
    case WQL_OP_AND:
    case WQL_OP_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (check_isa(s, e->kids[i], err) != WBEM_S_NO_ERROR)
                return err->code;
        return WBEM_S_NO_ERROR;
    case WQL_OP_NOT:
        return check_isa(s, e->left, err);
    case WQL_OP_ISA:
        if (!cim_schema_find(s, e->lit.s))
            return smbcim_error_set(err, WBEM_E_INVALID_CLASS,
                                    "at column %zu: class '%s' does not exist", e->lit.pos,
                                    e->lit.s);
        return WBEM_S_NO_ERROR;
    default:
        return WBEM_S_NO_ERROR;
    }
}

static smbcim_status check_where(smbcim_watch *w, const wql_expr *e, smbcim_error *err)
{
    switch (e->op) {
    case WQL_OP_AND:
    case WQL_OP_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (check_where(w, e->kids[i], err) != WBEM_S_NO_ERROR)
                return err->code;
        return WBEM_S_NO_ERROR;
    case WQL_OP_NOT:
        return check_where(w, e->left, err);
    default:
        return check_name(w, e->prop, e->prop_pos, USE_WHERE, e->op, err);
    }
}

/* HAVING tests NumberOfEvents, the property of __AggregateEvent it filters
 * on (WMI's HAVING clause). */
static smbcim_status check_having(const wql_expr *e, smbcim_error *err)
{
    switch (e->op) {
    case WQL_OP_AND:
    case WQL_OP_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (check_having(e->kids[i], err) != WBEM_S_NO_ERROR)
                return err->code;
        return WBEM_S_NO_ERROR;
    case WQL_OP_NOT:
        return check_having(e->left, err);
    default:
        if (!sc_streqi(e->prop, "NumberOfEvents") || e->op == WQL_OP_ISA ||
            e->op == WQL_OP_LIKE || e->op == WQL_OP_NOT_LIKE)
            return smbcim_error_set(err, WBEM_E_INVALID_QUERY,
                                    "at column %zu: HAVING compares NumberOfEvents with a "
                                    "number, not %s", e->prop_pos, e->prop);
        return WBEM_S_NO_ERROR;
    }
}

/* ---- an event, as the WHERE sees it -------------------------------------- */
typedef struct evobj {
    smbcim_watch *w;
    const cim_class *ecls;         /* the event class (sctx) */
    const cim_instance *target;    /* in the new or the previous state */
    const cim_instance *previous;  /* modifications: in the previous state */
    smbcim_ctx *tctx, *pctx;       /* their contexts */
    uint64_t time;                 /* TIME_CREATED */
} evobj;

static cim_value object_value(const cim_instance *o)
{
    cim_value v = {.type = CIM_T_INSTANCE, .null = o == NULL};
    v.v.o = o;
    return v;
}

static bool get_sysprop(const smbcim_ctx *ctx, const cim_class *cls, const cim_instance *inst,
                        const char *name, cim_value *out)
{
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    if (inst)
        smbcim_instance_sysprops(ctx, NULL, inst, sp);
    else
        sc_fill_sysprops(ctx, cls, 2, cls->nprops, NULL, NULL, sp);
    for (int i = 0; i < SMBCIM_NSYSPROPS; i++) {
        if (sc_streqi(sp[i].name, name)) {
            *out = sp[i].value;
            return true;
        }
    }
    return false;
}

static bool ev_get(void *obj, const char *name, cim_value *out)
{
    evobj *o = obj;
    const char *dot = strchr(name, '.');
    if (!dot) {
        if (name[0] == '_' && name[1] == '_')
            return get_sysprop(o->w->sctx, o->ecls, NULL, name, out);
        if (sc_streqi(name, "TIME_CREATED")) {
            *out = cim_u(CIM_T_UINT64, o->time);
            return true;
        }
        if (sc_streqi(name, "SECURITY_DESCRIPTOR")) {
            *out = cim_null(CIM_T_UINT8);
            return true;
        }
        if (sc_streqi(name, "TargetInstance")) {
            *out = object_value(o->target);
            return true;
        }
        if (sc_streqi(name, "PreviousInstance") &&
            cim_class_prop_index(o->ecls, "PreviousInstance") >= 0) {
            *out = object_value(o->previous);
            return true;
        }
        return false;
    }
    size_t hlen = (size_t)(dot - name);
    const cim_instance *inst = NULL;
    smbcim_ctx *ictx = NULL;
    if (hlen == strlen("TargetInstance") && sc_strnicmp_len(name, hlen, "TargetInstance", hlen) == 0) {
        inst = o->target;
        ictx = o->tctx;
    } else if (hlen == strlen("PreviousInstance") &&
               sc_strnicmp_len(name, hlen, "PreviousInstance", hlen) == 0) {
        inst = o->previous;
        ictx = o->pctx;
    } else {
        return false;
    }
    const char *prop = dot + 1;
    *out = cim_null(CIM_T_STRING);
    if (!inst)
        return true; /* no previous instance: NULL, as WMI's missing object */
    if (prop[0] == '_' && prop[1] == '_') {
        get_sysprop(ictx, inst->cls, inst, prop, out); /* unknown: stays NULL */
        return true;
    }
    int i = cim_class_prop_index(inst->cls, prop);
    if (i >= 0)
        *out = inst->values[i];
    /* a property of another watched class: NULL for this one */
    return true;
}

static int ev_isa(void *obj, const char *prop, const char *clsname)
{
    evobj *o = obj;
    if (!cim_schema_find(&o->w->sctx->schema, clsname))
        return -1;
    if (sc_streqi(prop, "__THIS") || sc_streqi(prop, "__CLASS"))
        return cim_class_is_a(o->ecls, clsname);
    if (sc_streqi(prop, "TargetInstance"))
        return o->target && cim_class_is_a(o->target->cls, clsname);
    if (sc_streqi(prop, "PreviousInstance"))
        return o->previous && cim_class_is_a(o->previous->cls, clsname);
    return 0;
}

static const wql_object_ops ev_ops = {.get = ev_get, .isa = ev_isa};

static bool agg_get(void *obj, const char *name, cim_value *out)
{
    if (!sc_streqi(name, "NumberOfEvents"))
        return false;
    *out = cim_u(CIM_T_UINT32, *(const uint32_t *)obj);
    return true;
}

static int agg_isa(void *obj, const char *prop, const char *cls)
{
    (void)obj;
    (void)prop;
    (void)cls;
    return 0;
}

static const wql_object_ops agg_ops = {.get = agg_get, .isa = agg_isa};

/* ---- copies into a result's arena ---------------------------------------- */
static cim_instance *copy_instance(smbcim_watch *w, sc_arena *a, const cim_instance *src,
                                   int depth)
{
    const cim_class *cls = cim_schema_find(&w->sctx->schema, src->cls->name);
    if (!cls || cls->nprops != src->cls->nprops)
        cls = src->cls; /* the same MOF: never differs */
    cim_instance *c = sc_alloc(a, sizeof(*c));
    c->cls = cls;
    c->values = sc_alloc_array(a, cls->nprops ? cls->nprops : 1, sizeof(cim_value));
    for (size_t i = 0; i < cls->nprops; i++) {
        const cim_value *v = &src->values[i];
        if (v->type == CIM_T_INSTANCE && !v->null) {
            c->values[i] = *v;
            if (depth < WATCH_MAX_EMBED)
                c->values[i].v.o = copy_instance(w, a, v->v.o, depth + 1);
            else
                c->values[i] = object_value(NULL);
        } else {
            c->values[i] = cim_value_copy(a, v);
        }
    }
    if (src->present) {
        bool *p = sc_alloc_array(a, cls->nprops ? cls->nprops : 1, sizeof(bool));
        memcpy(p, src->present, cls->nprops * sizeof(bool));
        c->present = p;
    }
    c->relpath = src->relpath ? sc_strdup(a, src->relpath) : NULL;
    c->path = src->path ? sc_strdup(a, src->path) : NULL;
    return c;
}

/* The event instance: TIME_CREATED, TargetInstance (PreviousInstance),
 * SECURITY_DESCRIPTOR NULL, no path; only the SELECT list's properties
 * when there is one (a dotted name keeps its embedded object whole, as
 * WMI returns it). */
static cim_instance *make_event(smbcim_watch *w, sc_arena *a, const evobj *o)
{
    cim_instance *ev = cim_instance_new(a, o->ecls);
    cim_instance_put(ev, "TIME_CREATED", cim_u(CIM_T_UINT64, o->time));
    cim_instance_put(ev, "TargetInstance", object_value(copy_instance(w, a, o->target, 1)));
    if (o->previous)
        cim_instance_put(ev, "PreviousInstance", object_value(copy_instance(w, a, o->previous, 1)));
    if (!w->q->star) {
        bool *keep = sc_alloc_array(a, ev->cls->nprops ? ev->cls->nprops : 1, sizeof(bool));
        for (size_t k = 0; k < w->q->nprops; k++) {
            const char *n = w->q->props[k];
            const char *dot = strchr(n, '.');
            size_t len = dot ? (size_t)(dot - n) : strlen(n);
            for (size_t i = 0; i < ev->cls->nprops; i++) {
                const char *pn = ev->cls->props[i].name;
                if (sc_strnicmp_len(pn, strlen(pn), n, len) == 0)
                    keep[i] = true;
            }
        }
        ev->present = keep;
    }
    return ev;
}

/* ---- groups (GROUP WITHIN n [BY ...] [HAVING ...]) ---------------------- */
static void groups_reindex(smbcim_watch *w)
{
    sc_map_free(&w->group_by_key);
    sc_map_init_exact(&w->group_by_key);
    for (size_t i = 0; i < w->groups.len; i++) {
        watch_group *g = w->groups.items[i];
        sc_map_put(&w->group_by_key, g->key, g);
    }
}

static void group_free(watch_group *g)
{
    sc_arena_free(g->arena);
    free(g);
}

/* Ends the groups whose interval is over at `now`: an __AggregateEvent for
 * each whose NumberOfEvents passes HAVING. */
static smbcim_status groups_flush(smbcim_watch *w, double now, sc_request *r, smbcim_error *err)
{
    size_t kept = 0;
    bool removed = false;
    smbcim_status st = WBEM_S_NO_ERROR;
    for (size_t i = 0; i < w->groups.len; i++) {
        watch_group *g = w->groups.items[i];
        if (st != WBEM_S_NO_ERROR || now - g->first < w->q->group_within) {
            w->groups.items[kept++] = g;
            continue;
        }
        int pass = 1;
        if (w->q->having) {
            pass = wql_eval(w->q->having, &agg_ops, &g->count, err);
            if (pass < 0) {
                st = err->code ? err->code : WBEM_E_INVALID_QUERY;
                w->groups.items[kept++] = g;
                continue;
            }
        }
        if (pass) {
            cim_instance *agg = cim_instance_new(r->arena, w->ev_aggregate);
            cim_instance_put(agg, "NumberOfEvents", cim_u(CIM_T_UINT32, g->count));
            cim_instance_put(agg, "Representative", object_value(copy_instance(w, r->arena, g->rep, 1)));
            sc_vec_push(&r->out, agg);
        }
        group_free(g);
        removed = true;
    }
    w->groups.len = kept;
    if (removed)
        groups_reindex(w);
    return st;
}

/* The GROUP BY values of an event, folded (WQL compares strings without
 * case), as one key; "" without BY. */
static char *group_key(smbcim_watch *w, evobj *o)
{
    sc_buf b;
    sc_buf_init(&b);
    for (size_t i = 0; i < w->q->ngroup_by; i++) {
        cim_value v;
        sc_buf_putc(&b, '\x1f');
        if (!ev_get(o, w->q->group_by[i], &v) || v.null) {
            sc_buf_putc(&b, '\x1e'); /* NULL: a group of its own */
            continue;
        }
        char *t = smbcim_value_text(&v);
        sc_buf_fold(&b, t ? t : "");
        free(t);
    }
    return sc_buf_take(&b);
}

static void group_add(smbcim_watch *w, evobj *o, double now)
{
    char *key = group_key(w, o);
    watch_group *g = sc_map_get(&w->group_by_key, key);
    if (g) {
        if (g->count < UINT32_MAX)
            g->count++;
        free(key);
        return;
    }
    g = sc_xcalloc(1, sizeof(*g));
    g->arena = sc_arena_new();
    g->key = sc_strdup(g->arena, key);
    free(key);
    g->first = now;
    g->count = 1;
    g->rep = make_event(w, g->arena, o);
    sc_vec_push(&w->groups, g);
    sc_map_put(&w->group_by_key, g->key, g);
}

/* ---- states ---------------------------------------------------------------- */
/* The instances of class `name` the caller may see in ctx (readable class,
 * visible instance), into *out (heap array, the caller frees).  With
 * `optional` (a watch over several classes), a class this source cannot
 * answer (WBEM_E_NOT_AVAILABLE: MSFT_SmbOpenFile without file ids, on the
 * smbstatus text route) has no instances instead of failing the watch;
 * named alone, it fails (docs/wql.md, "Event queries"). */
static smbcim_status state_items(smbcim_ctx *ctx, const char *name, bool optional,
                                 cim_instance ***out, size_t *n, smbcim_error *err)
{
    *out = NULL;
    *n = 0;
    const cim_class *cls = cim_schema_find(&ctx->schema, name);
    class_entry *e = cls ? sc_entry(ctx, cls) : NULL;
    if (!e || !e->prov || !ctx->state || !sc_readable(ctx, cls))
        return WBEM_S_NO_ERROR;
    smbcim_status st = sc_load(ctx, e, err);
    if (st == WBEM_E_NOT_AVAILABLE && optional) {
        smbcim_error_clear(err);
        return WBEM_S_NO_ERROR;
    }
    if (st != WBEM_S_NO_ERROR)
        return st;
    cim_instance **v = sc_xcalloc(e->nitems ? e->nitems : 1, sizeof(*v));
    size_t k = 0;
    for (size_t i = 0; i < e->nitems; i++)
        if (sc_visible(ctx, e, e->items[i]))
            v[k++] = e->items[i];
    *out = v;
    *n = k;
    return WBEM_S_NO_ERROR;
}

/* One watched class of a new state: its instances and their keys. */
typedef struct new_class {
    cim_instance **items;
    const char **ikeys;      /* normkey of each item; NULL: none (no key) */
    size_t nitems;
    sc_map keys;             /* normkey -> index + 1 of its first item */
} new_class;

/* Whether item i is the one its key stands for (a key twice, which the
 * providers never make, counts once: the first). */
static bool first_of_key(const sc_map *keys, const char *k, size_t i)
{
    return k && (size_t)(uintptr_t)sc_map_get(keys, k) == i + 1;
}

static smbcim_status load_state(smbcim_watch *w, smbcim_ctx *ctx, new_class *nc,
                                smbcim_error *err)
{
    for (size_t c = 0; c < w->nclasses; c++) {
        sc_map_init_exact(&nc[c].keys);
        smbcim_status st = state_items(ctx, w->classes[c].name, w->nclasses > 1,
                                       &nc[c].items, &nc[c].nitems, err);
        if (st != WBEM_S_NO_ERROR)
            return st;
        nc[c].ikeys = sc_xcalloc(nc[c].nitems ? nc[c].nitems : 1, sizeof(char *));
        for (size_t i = 0; i < nc[c].nitems; i++) {
            const char *k = cim_instance_normkey(ctx->arena, nc[c].items[i]);
            nc[c].ikeys[i] = k;
            if (k && !sc_map_get(&nc[c].keys, k))
                sc_map_put(&nc[c].keys, k, (void *)(uintptr_t)(i + 1));
        }
    }
    return WBEM_S_NO_ERROR;
}

static void free_new(new_class *nc, size_t n)
{
    for (size_t c = 0; c < n; c++) {
        free(nc[c].items);
        free(nc[c].ikeys);
        sc_map_free(&nc[c].keys);
    }
}

/* The new state becomes the previous one. */
static void adopt_state(smbcim_watch *w, smbcim_ctx *ctx, new_class *nc)
{
    for (size_t c = 0; c < w->nclasses; c++) {
        watch_class *wc = &w->classes[c];
        sc_map_free(&wc->keys);
        free(wc->items);
        free(wc->ikeys);
        wc->keys = nc[c].keys;
        wc->items = nc[c].items;
        wc->ikeys = nc[c].ikeys;
        wc->nitems = nc[c].nitems;
    }
    smbcim_close(w->prev);
    w->prev = ctx;
    if (strcmp(w->sctx->server, ctx->server) != 0)
        w->sctx->server = sc_strdup(w->sctx->arena, ctx->server);
}

/* Seconds since 1970 of a state: when it was taken (a snapshot's taken_at,
 * a live read's time), else now. */
static double state_time(const smbcim_ctx *ctx, int64_t *sec, int32_t *usec)
{
    if (ctx->state && ctx->state->taken_at.valid) {
        *sec = ctx->state->taken_at.sec;
        *usec = ctx->state->taken_at.usec;
    } else {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        *sec = ts.tv_sec;
        *usec = (int32_t)(ts.tv_nsec / 1000);
    }
    return (double)*sec + (double)*usec / 1e6;
}

static bool same_values(const cim_instance *a, const cim_instance *b)
{
    if (a->cls->nprops != b->cls->nprops)
        return false;
    for (size_t i = 0; i < a->cls->nprops; i++)
        if (!cim_value_equal(&a->values[i], &b->values[i]))
            return false;
    return true;
}

/* ---- the API --------------------------------------------------------------- */
static bool is_event_query_impl(const smbcim_ctx *ctx, const char *wql)
{
    if (!ctx || !wql)
        return false;
    sc_arena *a = sc_arena_new();
    const char *name = wql_from_class(a, wql);
    const cim_class *cls = name ? cim_schema_find(&ctx->schema, name) : NULL;
    bool r = cls && cim_class_is_a(cls, "__Event");
    sc_arena_free(a);
    return r;
}

static smbcim_status open_query(smbcim_watch *w, const char *wql, smbcim_error *err)
{
    smbcim_status st = wql_parse_event(w->arena, wql, &w->q, err);
    if (st != WBEM_S_NO_ERROR)
        return st;
    const wql_query *q = w->q;
    const cim_schema *s = &w->sctx->schema;
    w->from = cim_schema_find(s, q->class_name);
    if (!w->from)
        return smbcim_error_set(err, WBEM_E_INVALID_CLASS,
                                "at column %zu: class '%s' does not exist", q->class_pos,
                                q->class_name);
    if (!cim_class_is_a(w->from, "__Event"))
        return smbcim_error_set(err, WBEM_E_NOT_EVENT_CLASS,
                                "at column %zu: %s is not an event class (it does not derive "
                                "from __Event); to hear of its instances, watch SELECT * FROM "
                                "__InstanceOperationEvent WITHIN n WHERE TargetInstance ISA '%s'",
                                q->class_pos, w->from->name, w->from->name);
    if (!cim_class_is_a(w->from, "__InstanceOperationEvent"))
        return smbcim_error_set(err, WBEM_E_NOT_SUPPORTED,
                                "at column %zu: smbcim delivers the instance events only "
                                "(__InstanceOperationEvent and its subclasses), not %s",
                                q->class_pos, w->from->name);
    w->ev_create = cim_schema_find(s, "__InstanceCreationEvent");
    w->ev_delete = cim_schema_find(s, "__InstanceDeletionEvent");
    w->ev_modify = cim_schema_find(s, "__InstanceModificationEvent");
    w->ev_aggregate = cim_schema_find(s, "__AggregateEvent");
    if (q->where && check_isa(s, q->where, err) != WBEM_S_NO_ERROR)
        return err->code;
    /* the classes the events can be about: concrete, with a provider, and
     * not ruled out by the WHERE's ISA tests */
    sc_vec v = {0};
    for (size_t i = 0; i < s->nclasses; i++) {
        const cim_class *c = s->classes[i];
        if (c->abstract || !sc_provider_find(c->name))
            continue;
        if (q->where && may_match(q->where, c) == MAYBE_NO)
            continue;
        sc_vec_push(&v, (void *)c->name);
    }
    w->nclasses = v.len;
    w->classes = sc_alloc_array(w->arena, v.len ? v.len : 1, sizeof(watch_class));
    for (size_t i = 0; i < v.len; i++) {
        w->classes[i].name = v.items[i];
        sc_map_init_exact(&w->classes[i].keys);
    }
    sc_vec_free(&v);
    for (size_t i = 0; i < q->nprops; i++)
        if (check_name(w, q->props[i], q->props_pos[i], USE_SELECT, WQL_OP_EQ, err) !=
            WBEM_S_NO_ERROR)
            return err->code;
    if (q->where && check_where(w, q->where, err) != WBEM_S_NO_ERROR)
        return err->code;
    for (size_t i = 0; i < q->ngroup_by; i++)
        if (check_name(w, q->group_by[i], q->group_by_pos[i], USE_GROUP_BY, WQL_OP_EQ, err) !=
            WBEM_S_NO_ERROR)
            return err->code;
    if (q->having && check_having(q->having, err) != WBEM_S_NO_ERROR)
        return err->code;
    /* No event provider stands behind these classes: WMI can only poll,
     * and polling needs the interval. */
    if (!q->has_within)
        return smbcim_error_set(err, WBEMESS_E_REGISTRATION_TOO_PRECISE,
                                "at column %zu: %s needs a polling interval (WITHIN n, before "
                                "WHERE): no event provider serves these classes",
                                q->class_pos, w->from->name);
    return WBEM_S_NO_ERROR;
}

static smbcim_watch *watch_open_impl(smbcim_ctx *ctx, const char *wql, smbcim_error *err)
{
    if (!ctx || !wql) {
        smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no %s given", ctx ? "query" : "context");
        return NULL;
    }
    smbcim_watch *w = sc_xcalloc(1, sizeof(*w));
    w->arena = sc_arena_new();
    sc_map_init_exact(&w->group_by_key);
    w->sctx = smbcim_open_schema_only(err);
    smbcim_status st = w->sctx ? open_query(w, wql, err) : err->code;
    new_class *nc = NULL;
    if (st == WBEM_S_NO_ERROR) {
        nc = sc_xcalloc(w->nclasses ? w->nclasses : 1, sizeof(*nc));
        st = load_state(w, ctx, nc, err);
    }
    if (st != WBEM_S_NO_ERROR) {
        if (nc)
            free_new(nc, w->nclasses);
        free(nc);
        smbcim_watch_close(w); /* w->prev is NULL: ctx stays the caller's */
        return NULL;
    }
    adopt_state(w, ctx, nc);
    free(nc);
    return w;
}

double smbcim_watch_interval(const smbcim_watch *w)
{
    return w->q->within;
}

double smbcim_watch_group_interval(const smbcim_watch *w)
{
    return w->q->has_group ? w->q->group_within : 0;
}

const smbcim_ctx *smbcim_watch_context(const smbcim_watch *w)
{
    return w->sctx;
}

/* Keeps (or groups) an event the WHERE selects.  TIME_CREATED: the state's
 * time, plus one tick (100 ns) per event kept before it in this poll, so
 * that each is unique and they sort in the order delivered. */
static smbcim_status offer(smbcim_watch *w, sc_request *r, evobj *o, uint64_t base,
                           uint64_t *seq, double now, smbcim_error *err)
{
    o->time = base + *seq;
    if (w->q->where) {
        int m = wql_eval(w->q->where, &ev_ops, o, err);
        if (m < 0)
            return err->code ? err->code : WBEM_E_INVALID_QUERY;
        if (!m)
            return WBEM_S_NO_ERROR;
    }
    (*seq)++;
    if (w->q->has_group)
        group_add(w, o, now);
    else
        sc_vec_push(&r->out, make_event(w, r->arena, o));
    return WBEM_S_NO_ERROR;
}

static smbcim_status watch_poll_impl(smbcim_watch *w, smbcim_ctx *state,
                                     smbcim_result **events, smbcim_error *err)
{
    new_class *nc = sc_xcalloc(w->nclasses ? w->nclasses : 1, sizeof(*nc));
    smbcim_status st = load_state(w, state, nc, err);
    if (st != WBEM_S_NO_ERROR) {
        free_new(nc, w->nclasses);
        free(nc);
        smbcim_close(state);
        return st;
    }
    int64_t sec;
    int32_t usec;
    double now = state_time(state, &sec, &usec);
    uint64_t base = (uint64_t)(sec + EPOCH_1601) * 10000000u + (uint64_t)usec * 10u;
    uint64_t seq = 0;
    sc_request *r = sc_request_new(w->sctx);
    r->pub.query_class = w->q->has_group ? w->ev_aggregate : w->from;
    if (w->q->has_group)
        st = groups_flush(w, now, r, err);
    bool creations = cim_class_is_a(w->ev_create, w->from->name);
    bool deletions = cim_class_is_a(w->ev_delete, w->from->name);
    bool changes = cim_class_is_a(w->ev_modify, w->from->name);
    for (size_t c = 0; c < w->nclasses && st == WBEM_S_NO_ERROR; c++) {
        watch_class *wc = &w->classes[c];
        bool *seen = sc_xcalloc(wc->nitems ? wc->nitems : 1, sizeof(bool));
        /* the new state in its order: created or modified ... */
        for (size_t i = 0; i < nc[c].nitems && st == WBEM_S_NO_ERROR; i++) {
            cim_instance *inst = nc[c].items[i];
            const char *k = nc[c].ikeys[i];
            if (!first_of_key(&nc[c].keys, k, i))
                continue;
            size_t at = (size_t)(uintptr_t)sc_map_get(&wc->keys, k);
            evobj o = {.w = w, .target = inst, .tctx = state};
            if (!at) {
                if (!creations)
                    continue;
                o.ecls = w->ev_create;
            } else {
                seen[at - 1] = true;
                const cim_instance *old = wc->items[at - 1];
                if (!changes || same_values(old, inst))
                    continue;
                o.ecls = w->ev_modify;
                o.previous = old;
                o.pctx = w->prev;
            }
            st = offer(w, r, &o, base, &seq, now, err);
        }
        /* ... then the previous state's that are gone */
        for (size_t i = 0; i < wc->nitems && deletions && st == WBEM_S_NO_ERROR; i++) {
            if (seen[i] || !first_of_key(&wc->keys, wc->ikeys[i], i))
                continue;
            evobj o = {.w = w, .ecls = w->ev_delete, .target = wc->items[i], .tctx = w->prev};
            st = offer(w, r, &o, base, &seq, now, err);
        }
        free(seen);
    }
    if (st != WBEM_S_NO_ERROR) {
        free_new(nc, w->nclasses);
        free(nc);
        smbcim_result_free(&r->pub);
        smbcim_close(state);
        return st;
    }
    sc_request_finish(r);
    adopt_state(w, state, nc);
    free(nc);
    *events = &r->pub;
    return WBEM_S_NO_ERROR;
}

void smbcim_watch_close(smbcim_watch *w)
{
    if (!w)
        return;
    for (size_t c = 0; c < w->nclasses; c++) {
        sc_map_free(&w->classes[c].keys);
        free(w->classes[c].items);
        free(w->classes[c].ikeys);
    }
    for (size_t i = 0; i < w->groups.len; i++)
        group_free(w->groups.items[i]);
    sc_vec_free(&w->groups);
    sc_map_free(&w->group_by_key);
    smbcim_close(w->lost_state);
    smbcim_close(w->prev);
    smbcim_close(w->sctx);
    sc_arena_free(w->arena);
    free(w);
}

/* ---- the public calls, under sc_oom_call (engine.c has the others) ------ */
typedef struct watch_call {
    smbcim_watch *w;
    smbcim_ctx *ctx;
    const char *wql;
    smbcim_result **events;
    smbcim_error *err;
    smbcim_status st;
    bool yes;
} watch_call;

static void is_event_query_cb(void *p)
{
    watch_call *c = p;
    c->yes = is_event_query_impl(c->ctx, c->wql);
}

bool smbcim_is_event_query(const smbcim_ctx *ctx, const char *wql)
{
    watch_call c = {.ctx = (smbcim_ctx *)ctx, .wql = wql};
    /* out of memory: "no"; the query then fails where it is run */
    return sc_oom_call(is_event_query_cb, &c) && c.yes;
}

static void watch_open_cb(void *p)
{
    watch_call *c = p;
    c->w = watch_open_impl(c->ctx, c->wql, c->err);
}

smbcim_watch *smbcim_watch_open(smbcim_ctx *ctx, const char *wql, smbcim_error *err)
{
    smbcim_error local;
    if (!err)
        err = &local; /* the checks read err->code */
    smbcim_error_clear(err);
    if (sc_ctx_unusable(ctx, err))
        return NULL;
    watch_call c = {.ctx = ctx, .wql = wql, .err = err};
    if (!sc_oom_call(watch_open_cb, &c)) {
        sc_ran_out(ctx, err); /* ctx stays the caller's, to close */
        return NULL;
    }
    return c.w;
}

static void watch_poll_cb(void *p)
{
    watch_call *c = p;
    c->st = watch_poll_impl(c->w, c->ctx, c->events, c->err);
}

smbcim_status smbcim_watch_poll(smbcim_watch *w, smbcim_ctx *state, smbcim_result **events,
                                smbcim_error *err)
{
    smbcim_error local;
    if (!err)
        err = &local;
    smbcim_error_clear(err);
    *events = NULL;
    if (!state)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no state to compare");
    if (w->oom || sc_ctx_unusable(state, err)) {
        smbcim_close(state);
        smbcim_error_clear(err);
        return smbcim_error_set(err, WBEM_E_OUT_OF_MEMORY,
                                w->oom ? "an earlier poll of this watcher ran out of memory: "
                                         "close it"
                                       : "the state's context ran out of memory earlier");
    }
    watch_call c = {.w = w, .ctx = state, .events = events, .err = err};
    if (!sc_oom_call(watch_poll_cb, &c)) {
        *events = NULL;
        w->oom = true;
        /* groups may refer to the state's instances: it goes with w */
        w->lost_state = state;
        return sc_ran_out(state, err);
    }
    return c.st;
}
