/*
 * dispatch.c - one CIM-XML request to libsmbcim and back.
 *
 * Operations (DSP0200): GetClass, EnumerateClasses, EnumerateClassNames,
 * GetInstance, EnumerateInstances, EnumerateInstanceNames, Associators,
 * AssociatorNames, References, ReferenceNames, ExecQuery (WQL), and the
 * pulled enumerations (Open*, Pull*, CloseEnumeration).  Anything else is
 * CIM_ERR_NOT_SUPPORTED.  Associations go through smbcim_associators /
 * smbcim_references with the request's filters; no query text is built.
 *
 * Authorization (docs/smbcimd.md): the classes named by admin_classes
 * (and their subclasses) are for members of the admin group only.  The
 * rule is applied by the library, the same way for every operation and
 * for ExecQuery (smbcim_set_access, set in run() for each caller): naming
 * such a class, or an association that could reach one, is
 * CIM_ERR_ACCESS_DENIED whether or not the object exists; enumerating a
 * superclass leaves their instances out.  Class declarations are readable
 * by every authenticated user.
 *
 * Response cache: the answer to a stateless request (everything but the
 * pulled enumerations) is kept, keyed by the exact request body, the admin
 * flag of the caller and the state it was computed from, so that many
 * clients polling the same question cost one evaluation per state
 * (cache_seconds for the live source); at most RCACHE_SLOTS answers and
 * RCACHE_BYTES bytes, least recently used first out.
 *
 * Pulled enumerations: the whole result is computed at Open and kept, with a
 * reference on the state it came from, under an unguessable context id
 * bound to the user who opened it.  It expires OperationTimeout seconds
 * after its last use (default and maximum from the configuration).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <syslog.h>

#include "server/cimxml.h"
#include "smbcimd/smbcimd.h"

typedef enum enum_kind { EK_WITH_PATH, EK_PATHS, EK_INSTANCES, EK_WSMAN } enum_kind;

#define RCACHE_SLOTS 64
#define RCACHE_BYTES (64u * 1024 * 1024)

typedef struct rcache_ent {
    uint64_t hash;
    unsigned long gen;
    bool admin;
    char *req;
    size_t reqlen;
    char *resp;
    size_t resplen;
    double used;
} rcache_ent;

typedef struct enum_ctx {
    char id[40];
    char owner[256];
    enum_kind kind;
    srv_state *state;
    smbcim_result *res;
    size_t pos;
    sc_arena *arena;           /* the copied options */
    cimxml_objopts opts;
    void *data;                /* WS-Management's options (in arena) */
    unsigned timeout;
    double expires;            /* OperationTimeout after the last use */
    double dies;               /* enumeration-lifetime after the Open: no pull extends it */
    bool busy;
    struct enum_ctx *next;
} enum_ctx;

struct srv {
    const srv_config *cfg;
    srv_cache *cache;
    pthread_mutex_t enum_lock;
    enum_ctx *enums;
    size_t nenums;
    char **admin;              /* admin class names */
    size_t nadmin;
    smbcim_ctx *schema;        /* classes only: class operations need no state */
    srv_subs *subs;            /* root/interop's subscriptions (indicate.c) */
    pthread_mutex_t rc_lock;
    rcache_ent rc[RCACHE_SLOTS];
    size_t rc_bytes;
};

srv *srv_new(const srv_config *c)
{
    srv *s = sc_xcalloc(1, sizeof *s);
    s->cfg = c;
    s->cache = srv_cache_new(c);
    smbcim_error err = {0};
    s->schema = smbcim_open_schema_only(&err);
    if (!s->schema) {
        srv_log(LOG_ERR, "cannot load the schema: %s", err.msg);
        abort();
    }
    pthread_mutex_init(&s->enum_lock, NULL);
    pthread_mutex_init(&s->rc_lock, NULL);
    char *list = sc_xstrdup(c->admin_classes ? c->admin_classes : "");
    char *save = NULL;
    for (char *t = strtok_r(list, " ,\t", &save); t; t = strtok_r(NULL, " ,\t", &save)) {
        s->admin = sc_xrealloc(s->admin, sizeof(char *) * (s->nadmin + 1));
        s->admin[s->nadmin++] = sc_xstrdup(t);
    }
    free(list);
    s->subs = srv_subs_new(c, s->cache);
    srv_subs_start(s->subs);
    return s;
}

static void enum_free(srv *s, enum_ctx *e)
{
    smbcim_result_free(e->res);
    srv_state_release(s->cache, e->state);
    sc_arena_free(e->arena);
    free(e);
}

void srv_free(srv *s)
{
    if (!s)
        return;
    while (s->enums) {
        enum_ctx *e = s->enums;
        s->enums = e->next;
        enum_free(s, e);
    }
    srv_subs_free(s->subs); /* its poller reads the cache */
    for (size_t i = 0; i < s->nadmin; i++)
        free(s->admin[i]);
    free(s->admin);
    srv_cache_free(s->cache);
    smbcim_close(s->schema);
    for (size_t i = 0; i < RCACHE_SLOTS; i++) {
        free(s->rc[i].req);
        free(s->rc[i].resp);
    }
    pthread_mutex_destroy(&s->rc_lock);
    pthread_mutex_destroy(&s->enum_lock);
    free(s);
}

size_t srv_open_enumerations(srv *s)
{
    pthread_mutex_lock(&s->enum_lock);
    size_t n = s->nenums;
    pthread_mutex_unlock(&s->enum_lock);
    return n;
}

srv_cache *srv_cache_of(srv *s)
{
    return s->cache;
}

srv_subs *srv_subs_of(srv *s)
{
    return s->subs;
}

void srv_expire(srv *s)
{
    double now = srv_now();
    enum_ctx *gone = NULL;
    pthread_mutex_lock(&s->enum_lock);
    for (enum_ctx **pp = &s->enums; *pp;) {
        enum_ctx *e = *pp;
        if (!e->busy && (e->expires < now || e->dies < now)) {
            *pp = e->next;
            e->next = gone;
            gone = e;
            s->nenums--;
        } else {
            pp = &e->next;
        }
    }
    pthread_mutex_unlock(&s->enum_lock);
    while (gone) {
        enum_ctx *n = gone->next;
        enum_free(s, gone);
        gone = n;
    }
}

/* ---- helpers ---------------------------------------------------------------- */

static bool is_protected(const srv *s, const cim_class *c)
{
    for (size_t i = 0; c && i < s->nadmin; i++)
        if (cim_class_is_a(c, s->admin[i]))
            return true;
    return false;
}

/* %-decodes a header value into out; false when it holds %00 (which would
 * cut the comparison short) or does not fit. */
static bool pct_decode(const char *in, char *out, size_t outlen)
{
    size_t n = 0;
    for (const char *p = in; *p; p++) {
        if (n + 1 >= outlen) {
            out[n] = '\0';
            return false;
        }
        if (*p == '%' && isxdigit((unsigned char)p[1]) && isxdigit((unsigned char)p[2])) {
            char hx[3] = {p[1], p[2], 0};
            char ch = (char)strtol(hx, NULL, 16);
            p += 2;
            if (ch == '\0') {
                out[n] = '\0';
                return false;
            }
            out[n++] = ch;
        } else {
            out[n++] = *p;
        }
    }
    out[n] = '\0';
    return true;
}

bool srv_ns_equal(const char *a, const char *b)
{
    for (; *a && *b; a++, b++) {
        char x = *a == '\\' ? '/' : (char)tolower((unsigned char)*a);
        char y = *b == '\\' ? '/' : (char)tolower((unsigned char)*b);
        if (x != y)
            return false;
    }
    return *a == *b;
}

typedef struct call {
    srv *s;
    const srv_identity *who;
    const cimxml_request *req;
    srv_response *resp;
    sc_arena *a;
    int code;                  /* the CIM status answered (0: success) */
    bool interop;              /* the request is for root/interop */
    const smbcim_query *query; /* ExecQuery, OpenQueryInstances: parsed unlocked */
} call;

static void cim_error(call *c, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void cim_error(call *c, int code, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    sc_buf_reset(&c->resp->body);
    c->resp->http_status = 200;
    c->resp->cimerror = NULL;
    c->code = code;
    cimxml_write_error(&c->resp->body, c->req->id, c->req->method, c->req->extrinsic, code, msg);
}

static void engine_error(call *c, const smbcim_error *err)
{
    if (err->code == WBEM_E_ACCESS_DENIED) {
        srv_log(LOG_NOTICE, "user '%s' denied %s: %s", c->who->user, c->req->method, err->msg);
        cim_error(c, CIM_ERR_ACCESS_DENIED,
                  "WBEM_E_ACCESS_DENIED: %s (admin classes are readable only by members of "
                  "the group '%s')", err->msg, c->s->cfg->admin_group);
        return;
    }
    cim_error(c, smbcim_status_cim(err->code), "%s: %s", smbcim_status_name(err->code),
              err->msg);
}

/* The one authorization rule (docs/smbcimd.md), applied by the library to
 * every route (smbcim_set_access): a non-admin may not see instances of
 * the admin classes or their subclasses. */
static bool may_read(const cim_class *cls, void *data)
{
    return !is_protected(data, cls);
}

/* ---- the writer around a result ---------------------------------------------- */

typedef enum item_kind {
    IT_NAMED_INSTANCE,   /* EnumerateInstances */
    IT_INSTANCENAME,     /* EnumerateInstanceNames */
    IT_OBJECT_WITH_PATH, /* Associators, References, ExecQuery */
    IT_OBJECT_PATH,      /* AssociatorNames, ReferenceNames */
    IT_INSTANCE_WITH_PATH,
    IT_INSTANCE_PATH,
    IT_INSTANCE,
} item_kind;

static void put_item(cimxml_writer *w, item_kind k, const cim_instance *inst,
                     const cimxml_objopts *o)
{
    switch (k) {
    case IT_NAMED_INSTANCE: cimxml_put_named_instance(w, inst, o); break;
    case IT_INSTANCENAME: cimxml_put_instancename(w, inst); break;
    case IT_OBJECT_WITH_PATH: cimxml_put_object_with_path(w, inst, o); break;
    case IT_OBJECT_PATH: cimxml_put_object_path(w, inst); break;
    case IT_INSTANCE_WITH_PATH: cimxml_put_instance_with_path(w, inst, o); break;
    case IT_INSTANCE_PATH: cimxml_put_instancepath(w, inst); break;
    case IT_INSTANCE: cimxml_put_instance(w, inst, o); break;
    }
}

/* The response skeleton around the items written between these two.  The
 * pulled operations add their EnumerationContext/EndOfSequence tail. */
static void begin_answer(call *c, const smbcim_ctx *ctx, cimxml_writer *w)
{
    sc_buf_reset(&c->resp->body);
    cimxml_writer_init(w, &c->resp->body, ctx, NULL);
    if (c->interop)
        w->nspace = "root/interop";
    cimxml_begin_response(w, c->req->id, c->req->method, false);
    cimxml_begin_ireturn(w);
}

static bool end_answer_pull(call *c, cimxml_writer *w, const char *what, bool pull,
                            const char *context, bool eos)
{
    cimxml_end_ireturn(w);
    if (pull)
        cimxml_put_pull_tail(w, context, eos);
    cimxml_end_response(w, false);
    bool ok = cimxml_writer_ok(w);
    char why[1024];
    snprintf(why, sizeof why, "%s", w->err.msg);
    cimxml_writer_free(w);
    if (!ok)
        cim_error(c, CIM_ERR_FAILED, "cannot encode %s: %s", what, why);
    else
        c->resp->http_status = 200;
    return ok;
}

static bool end_answer(call *c, cimxml_writer *w, const char *what)
{
    return end_answer_pull(c, w, what, false, NULL, false);
}

/* Writes items [from, to) of res, then (pull) the context tail. */
static bool write_items(call *c, const smbcim_ctx *ctx, const smbcim_result *res, size_t from,
                        size_t to, item_kind k, const cimxml_objopts *o, bool pull,
                        const char *context, bool eos)
{
    cimxml_writer w;
    begin_answer(c, ctx, &w);
    for (size_t i = from; i < to; i++)
        put_item(&w, k, res->instances[i], o);
    return end_answer_pull(c, &w, "the result", pull, context, eos);
}

/* Keeps only the properties of `cls` (DeepInheritance = false), within
 * the request's PropertyList if it has one. */
static cimxml_objopts only_class_props(call *c, const cim_class *cls, cimxml_objopts o)
{
    const char **names = sc_alloc_array(c->a, cls->nprops ? cls->nprops : 1, sizeof(char *));
    size_t n = 0;
    for (size_t i = 0; i < cls->nprops; i++) {
        bool keep = !o.has_property_list;
        for (size_t j = 0; j < o.nproperty_list && !keep; j++)
            keep = sc_streqi(o.property_list[j], cls->props[i].name);
        if (keep)
            names[n++] = cls->props[i].name;
    }
    o.property_list = names;
    o.nproperty_list = n;
    o.has_property_list = true;
    return o;
}

/* ---- operations ---------------------------------------------------------------- */

static void op_get_class(call *c, const smbcim_ctx *ctx)
{
    const cimxml_request *r = c->req;
    if (!r->class_name) {
        cim_error(c, CIM_ERR_INVALID_PARAMETER, "GetClass needs ClassName");
        return;
    }
    const cim_class *cls = smbcim_class_find(ctx, r->class_name);
    if (!cls) {
        cim_error(c, CIM_ERR_NOT_FOUND, "class '%s' does not exist", r->class_name);
        return;
    }
    cimxml_objopts o = cimxml_request_objopts(r);
    cimxml_writer w;
    begin_answer(c, ctx, &w);
    cimxml_put_class(&w, cls, &o);
    end_answer(c, &w, cls->name);
}

static void op_enum_classes(call *c, const smbcim_ctx *ctx, bool names)
{
    const cimxml_request *r = c->req;
    const cim_class *base = NULL;
    if (r->class_name) {
        base = smbcim_class_find(ctx, r->class_name);
        if (!base) {
            cim_error(c, CIM_ERR_INVALID_CLASS, "class '%s' does not exist", r->class_name);
            return;
        }
    }
    bool deep = cimxml_flag(r->deep_inheritance, false);
    cimxml_objopts o = cimxml_request_objopts(r);
    cimxml_writer w;
    begin_answer(c, ctx, &w);
    for (size_t i = 0; i < smbcim_class_count(ctx); i++) {
        const cim_class *k = smbcim_class_at(ctx, i);
        bool in;
        if (base)
            in = k != base && (deep ? cim_class_is_a(k, base->name) : k->super == base);
        else
            in = deep || !k->super;
        if (!in)
            continue;
        if (names)
            cimxml_put_classname(&w, k->name);
        else
            cimxml_put_class(&w, k, &o);
    }
    end_answer(c, &w, "the classes");
}

/* Runs the engine for an instance operation under the state's lock. */
typedef smbcim_status (*engine_fn)(call *c, smbcim_ctx *ctx, smbcim_result **res,
                                   smbcim_error *err);

static smbcim_status run(call *c, srv_state *st, engine_fn fn, smbcim_result **res,
                         smbcim_error *err)
{
    pthread_mutex_lock(&st->lock);
    smbcim_set_access(st->ctx, c->who->admin ? NULL : may_read, c->s);
    smbcim_status rc = fn(c, st->ctx, res, err);
    smbcim_set_access(st->ctx, NULL, NULL);
    srv_state_note_route(st);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

smbcim_status srv_engine(srv *s, const srv_identity *who, srv_state *st, srv_engine_fn fn,
                         void *arg, smbcim_result **res, smbcim_error *err)
{
    pthread_mutex_lock(&st->lock);
    smbcim_set_access(st->ctx, who->admin ? NULL : may_read, s);
    smbcim_status rc = fn(st->ctx, arg, res, err);
    smbcim_set_access(st->ctx, NULL, NULL);
    srv_state_note_route(st);
    pthread_mutex_unlock(&st->lock);
    return rc;
}

const srv_config *srv_config_of(const srv *s)
{
    return s->cfg;
}

smbcim_ctx *srv_schema_of(srv *s)
{
    return s->schema;
}

static smbcim_status e_get(call *c, smbcim_ctx *ctx, smbcim_result **res, smbcim_error *err)
{
    return smbcim_get_object(ctx, c->req->instance_name, res, err);
}

static smbcim_status e_enum(call *c, smbcim_ctx *ctx, smbcim_result **res, smbcim_error *err)
{
    return smbcim_enum_instances(ctx, c->req->class_name, res, err);
}

static smbcim_status e_assoc(call *c, smbcim_ctx *ctx, smbcim_result **res, smbcim_error *err)
{
    const cimxml_request *r = c->req;
    smbcim_assoc_filter f = {.assoc_class = r->assoc_class, .result_class = r->result_class,
                             .role = r->role, .result_role = r->result_role};
    return smbcim_associators(ctx, r->instance_name, &f, res, err);
}

static smbcim_status e_refs(call *c, smbcim_ctx *ctx, smbcim_result **res, smbcim_error *err)
{
    const cimxml_request *r = c->req;
    smbcim_assoc_filter f = {.result_class = r->result_class, .role = r->role};
    return smbcim_references(ctx, r->instance_name, &f, res, err);
}

static smbcim_status e_query(call *c, smbcim_ctx *ctx, smbcim_result **res, smbcim_error *err)
{
    return smbcim_exec_parsed(ctx, c->query, res, err);
}

/* The checks every instance operation shares before the engine runs. */
/* DSP0201: a reference key is a <VALUE.REFERENCE>; the same path sent as
 * a string <KEYVALUE> is refused, not guessed at. */
static bool ref_keys_as_refs(call *c, smbcim_ctx *ctx)
{
    const cimxml_request *r = c->req;
    if (!r->nstring_keys || !r->instance_name)
        return true;
    char name[256];
    size_t n = strcspn(r->instance_name, ".=");
    if (n >= sizeof name)
        return true;
    memcpy(name, r->instance_name, n);
    name[n] = '\0';
    const cim_class *cls = smbcim_class_find(ctx, name);
    for (size_t i = 0; cls && i < r->nstring_keys; i++) {
        int k = cim_class_prop_index(cls, r->string_keys[i]);
        if (k >= 0 && cls->props[k].type == CIM_T_REFERENCE) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER,
                      "key %s of %s is a reference: give it as <VALUE.REFERENCE>, not as a "
                      "string <KEYVALUE>", r->string_keys[i], cls->name);
            return false;
        }
    }
    return true;
}

static bool precheck(call *c, smbcim_ctx *ctx, cimxml_op op)
{
    const cimxml_request *r = c->req;
    if (!ref_keys_as_refs(c, ctx))
        return false;
    switch (op) {
    case CIMXML_OP_GET_INSTANCE:
        if (!r->instance_name) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER, "%s needs InstanceName", r->method);
            return false;
        }
        return true;
    case CIMXML_OP_ENUMERATE_INSTANCES:
    case CIMXML_OP_ENUMERATE_INSTANCE_NAMES:
    case CIMXML_OP_OPEN_ENUMERATE_INSTANCES:
    case CIMXML_OP_OPEN_ENUMERATE_INSTANCE_PATHS: {
        if (!r->class_name) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER, "%s needs ClassName", r->method);
            return false;
        }
        const cim_class *k = smbcim_class_find(ctx, r->class_name);
        if (!k) {
            cim_error(c, CIM_ERR_INVALID_CLASS, "class '%s' does not exist", r->class_name);
            return false;
        }
        return true;
    }
    case CIMXML_OP_ASSOCIATORS:
    case CIMXML_OP_ASSOCIATOR_NAMES:
    case CIMXML_OP_REFERENCES:
    case CIMXML_OP_REFERENCE_NAMES:
    case CIMXML_OP_OPEN_ASSOCIATOR_INSTANCES:
    case CIMXML_OP_OPEN_ASSOCIATOR_INSTANCE_PATHS:
    case CIMXML_OP_OPEN_REFERENCE_INSTANCES:
    case CIMXML_OP_OPEN_REFERENCE_INSTANCE_PATHS: {
        if (r->object_class) {
            cim_error(c, CIM_ERR_NOT_SUPPORTED,
                      "%s on a class (%s) is not supported; give an instance", r->method,
                      r->object_class);
            return false;
        }
        if (!r->instance_name) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER, "%s needs %s", r->method,
                      op >= CIMXML_OP_OPEN_ENUMERATE_INSTANCES ? "InstanceName" : "ObjectName");
            return false;
        }
        /* DSP0200 lists CIM_ERR_INVALID_PARAMETER, not INVALID_CLASS, for
         * an AssocClass or ResultClass that does not exist (the CLI keeps
         * WMI's WBEM_E_INVALID_CLASS). */
        const char *names[] = {r->assoc_class, r->result_class};
        const char *what[] = {"AssocClass", "ResultClass"};
        for (size_t i = 0; i < 2; i++) {
            if (names[i] && !smbcim_class_find(ctx, names[i])) {
                cim_error(c, CIM_ERR_INVALID_PARAMETER, "%s: class '%s' does not exist",
                          what[i], names[i]);
                return false;
            }
        }
        return true;
    }
    default:
        return true;
    }
}

static item_kind items_for(cimxml_op op)
{
    switch (op) {
    case CIMXML_OP_ENUMERATE_INSTANCES: return IT_NAMED_INSTANCE;
    case CIMXML_OP_ENUMERATE_INSTANCE_NAMES: return IT_INSTANCENAME;
    case CIMXML_OP_ASSOCIATOR_NAMES:
    case CIMXML_OP_REFERENCE_NAMES: return IT_OBJECT_PATH;
    case CIMXML_OP_OPEN_ENUMERATE_INSTANCE_PATHS:
    case CIMXML_OP_OPEN_ASSOCIATOR_INSTANCE_PATHS:
    case CIMXML_OP_OPEN_REFERENCE_INSTANCE_PATHS:
    case CIMXML_OP_PULL_INSTANCE_PATHS: return IT_INSTANCE_PATH;
    case CIMXML_OP_OPEN_ENUMERATE_INSTANCES:
    case CIMXML_OP_OPEN_ASSOCIATOR_INSTANCES:
    case CIMXML_OP_OPEN_REFERENCE_INSTANCES:
    case CIMXML_OP_PULL_INSTANCES_WITH_PATH: return IT_INSTANCE_WITH_PATH;
    case CIMXML_OP_OPEN_QUERY_INSTANCES:
    case CIMXML_OP_PULL_INSTANCES: return IT_INSTANCE;
    default: return IT_OBJECT_WITH_PATH;
    }
}

static engine_fn engine_for(cimxml_op op)
{
    switch (op) {
    case CIMXML_OP_GET_INSTANCE: return e_get;
    case CIMXML_OP_ENUMERATE_INSTANCES:
    case CIMXML_OP_ENUMERATE_INSTANCE_NAMES:
    case CIMXML_OP_OPEN_ENUMERATE_INSTANCES:
    case CIMXML_OP_OPEN_ENUMERATE_INSTANCE_PATHS: return e_enum;
    case CIMXML_OP_ASSOCIATORS:
    case CIMXML_OP_ASSOCIATOR_NAMES:
    case CIMXML_OP_OPEN_ASSOCIATOR_INSTANCES:
    case CIMXML_OP_OPEN_ASSOCIATOR_INSTANCE_PATHS: return e_assoc;
    case CIMXML_OP_REFERENCES:
    case CIMXML_OP_REFERENCE_NAMES:
    case CIMXML_OP_OPEN_REFERENCE_INSTANCES:
    case CIMXML_OP_OPEN_REFERENCE_INSTANCE_PATHS: return e_refs;
    default: return e_query;
    }
}

static bool is_open(cimxml_op op)
{
    return op >= CIMXML_OP_OPEN_ENUMERATE_INSTANCES && op <= CIMXML_OP_OPEN_QUERY_INSTANCES;
}

static enum_kind enum_kind_for(cimxml_op op)
{
    item_kind k = items_for(op);
    return k == IT_INSTANCE_PATH ? EK_PATHS : k == IT_INSTANCE ? EK_INSTANCES : EK_WITH_PATH;
}

static bool open_checks(call *c, unsigned *timeout)
{
    const cimxml_request *r = c->req;
    const srv_config *cfg = c->s->cfg;
    if (r->op != CIMXML_OP_OPEN_QUERY_INSTANCES && (r->filter_query || r->filter_query_language)) {
        cim_error(c, CIM_ERR_FILTERED_ENUMERATION_NOT_SUPPORTED,
                  "FilterQuery is not supported on %s", r->method);
        return false;
    }
    if (cimxml_flag(r->continue_on_error, false)) {
        cim_error(c, CIM_ERR_CONTINUATION_ON_ERROR_NOT_SUPPORTED,
                  "ContinueOnError is not supported");
        return false;
    }
    *timeout = cfg->default_operation_timeout;
    if (r->has_operation_timeout) {
        if (r->operation_timeout == 0 || r->operation_timeout > cfg->max_operation_timeout) {
            cim_error(c, CIM_ERR_INVALID_OPERATION_TIMEOUT,
                      "OperationTimeout must be 1..%u seconds", cfg->max_operation_timeout);
            return false;
        }
        *timeout = r->operation_timeout;
    }
    if (r->op == CIMXML_OP_OPEN_QUERY_INSTANCES) {
        if (!r->filter_query || !r->filter_query_language) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER,
                      "OpenQueryInstances needs FilterQuery and FilterQueryLanguage");
            return false;
        }
        if (strcasecmp(r->filter_query_language, "WQL") != 0) {
            cim_error(c, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                      "query language '%s' is not supported (WQL is)", r->filter_query_language);
            return false;
        }
        if (cimxml_flag(r->return_query_result_class, false)) {
            cim_error(c, CIM_ERR_NOT_SUPPORTED, "ReturnQueryResultClass is not supported");
            return false;
        }
    }
    return true;
}

static void random_id(char out[40])
{
    unsigned char b[16];
    size_t got = 0;
    while (got < sizeof b) {
        ssize_t n = getrandom(b + got, sizeof b - got, 0);
        if (n > 0)
            got += (size_t)n;
    }
    for (size_t i = 0; i < 16; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static cimxml_objopts copy_opts(sc_arena *a, cimxml_objopts o)
{
    if (o.has_property_list) {
        const char **names = sc_alloc_array(a, o.nproperty_list ? o.nproperty_list : 1,
                                            sizeof(char *));
        for (size_t i = 0; i < o.nproperty_list; i++)
            names[i] = sc_strdup(a, o.property_list[i]);
        o.property_list = names;
    }
    return o;
}

static void drop_enum(call *c, enum_ctx *e);

/* Answers an Open with the first MaxObjectCount items.  When items are
 * left, an enumeration context takes res and the caller's reference on st
 * (returns true); otherwise res is freed here and st stays the caller's. */
static bool open_enum(call *c, srv_state *st, smbcim_result *res, cimxml_objopts o,
                      unsigned timeout)
{
    const cimxml_request *r = c->req;
    size_t max = r->has_max_object_count ? r->max_object_count : 0;
    size_t n = res->count < max ? res->count : max;
    bool eos = n == res->count;
    enum_ctx *e = NULL;
    if (!eos) {
        srv_expire(c->s);
        e = sc_xcalloc(1, sizeof *e);
        random_id(e->id);
        snprintf(e->owner, sizeof e->owner, "%s", c->who->user);
        /* The slot is taken here, under the lock, so that concurrent Opens
         * cannot overshoot either limit; it is given back below if the
         * answer cannot be written. */
        const srv_config *cfg = c->s->cfg;
        pthread_mutex_lock(&c->s->enum_lock);
        unsigned mine = 0;
        for (enum_ctx *o2 = c->s->enums; o2; o2 = o2->next)
            mine += strcmp(o2->owner, e->owner) == 0;
        bool full = c->s->nenums >= cfg->max_enumerations;
        bool quota = mine >= cfg->max_enumerations_per_user;
        if (!full && !quota) {
            e->busy = true;
            e->expires = e->dies = srv_now() + cfg->enumeration_lifetime;
            e->next = c->s->enums;
            c->s->enums = e;
            c->s->nenums++;
        }
        pthread_mutex_unlock(&c->s->enum_lock);
        if (full || quota) {
            free(e);
            smbcim_result_free(res);
            if (quota)
                cim_error(c, CIM_ERR_SERVER_LIMITS_EXCEEDED,
                          "user '%s' has %u open enumerations, the most one user may have; "
                          "close some", c->who->user, mine);
            else
                cim_error(c, CIM_ERR_SERVER_LIMITS_EXCEEDED,
                          "too many open enumerations (%u); close some", cfg->max_enumerations);
            return false;
        }
        e->kind = enum_kind_for(r->op);
        e->arena = sc_arena_new();
        e->opts = copy_opts(e->arena, o);
        e->res = res;
        e->pos = n;
        e->timeout = timeout;
        e->state = st;
    }
    bool ok = write_items(c, st->ctx, res, 0, n, items_for(r->op), &o, true, e ? e->id : NULL,
                          eos);
    if (!e || !ok) {
        if (e) {
            e->res = NULL; /* freed below; the state stays the caller's */
            e->state = NULL;
            drop_enum(c, e);
        }
        smbcim_result_free(res);
        return false;
    }
    pthread_mutex_lock(&c->s->enum_lock);
    e->busy = false;
    e->expires = srv_now() + timeout;
    if (e->expires > e->dies)
        e->expires = e->dies;
    pthread_mutex_unlock(&c->s->enum_lock);
    return true;
}

static enum_ctx *take_enum(call *c, const char *id)
{
    enum_ctx *found = NULL;
    pthread_mutex_lock(&c->s->enum_lock);
    for (enum_ctx *e = c->s->enums; e; e = e->next)
        if (strcmp(e->id, id) == 0 && strcmp(e->owner, c->who->user) == 0 && !e->busy &&
            e->expires >= srv_now() && e->dies >= srv_now()) {
            e->busy = true;
            found = e;
            break;
        }
    pthread_mutex_unlock(&c->s->enum_lock);
    return found;
}

static void drop_enum(call *c, enum_ctx *e)
{
    pthread_mutex_lock(&c->s->enum_lock);
    for (enum_ctx **pp = &c->s->enums; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            c->s->nenums--;
            break;
        }
    pthread_mutex_unlock(&c->s->enum_lock);
    enum_free(c->s, e);
}

static void op_pull(call *c)
{
    const cimxml_request *r = c->req;
    if (!r->enumeration_context) {
        cim_error(c, CIM_ERR_INVALID_PARAMETER, "%s needs EnumerationContext", r->method);
        return;
    }
    if (r->op != CIMXML_OP_CLOSE_ENUMERATION && !r->has_max_object_count) {
        cim_error(c, CIM_ERR_INVALID_PARAMETER, "%s needs MaxObjectCount", r->method);
        return;
    }
    enum_ctx *e = take_enum(c, r->enumeration_context);
    if (!e) {
        cim_error(c, CIM_ERR_INVALID_ENUMERATION_CONTEXT,
                  "no open enumeration '%s' (closed, finished, expired or not yours)",
                  r->enumeration_context);
        return;
    }
    if (r->op == CIMXML_OP_CLOSE_ENUMERATION) {
        drop_enum(c, e);
        sc_buf_reset(&c->resp->body);
        cimxml_write_void(&c->resp->body, r->id, r->method);
        c->resp->http_status = 200;
        return;
    }
    enum_kind want = r->op == CIMXML_OP_PULL_INSTANCE_PATHS ? EK_PATHS
                     : r->op == CIMXML_OP_PULL_INSTANCES    ? EK_INSTANCES
                                                            : EK_WITH_PATH;
    if (want != e->kind) {
        pthread_mutex_lock(&c->s->enum_lock);
        e->busy = false;
        pthread_mutex_unlock(&c->s->enum_lock);
        cim_error(c, CIM_ERR_INVALID_ENUMERATION_CONTEXT,
                  "%s does not fit this enumeration (opened by another kind of Open)",
                  r->method);
        return;
    }
    size_t left = e->res->count - e->pos;
    size_t n = left < r->max_object_count ? left : r->max_object_count;
    bool eos = n == left;
    write_items(c, e->state->ctx, e->res, e->pos, e->pos + n, items_for(r->op), &e->opts, true,
                eos ? NULL : e->id, eos);
    e->pos += n;
    if (eos) {
        drop_enum(c, e);
        return;
    }
    pthread_mutex_lock(&c->s->enum_lock);
    e->busy = false;
    e->expires = srv_now() + e->timeout;
    pthread_mutex_unlock(&c->s->enum_lock);
}

/* The state a request reads: the server's (root/cimv2), or root/interop
 * over the subscriptions as they are now, in a state of its own that the
 * last release closes (it is not the cache's). */
static srv_state *state_for(call *c, smbcim_error *err)
{
    if (!c->interop)
        return srv_state_get(c->s->cache, err);
    smbcim_ctx *ctx = srv_subs_open(c->s->subs, err);
    return ctx ? srv_state_own(ctx) : NULL;
}

static void op_instances(call *c)
{
    const cimxml_request *r = c->req;
    smbcim_error err = {0};
    unsigned timeout = 0;
    if (is_open(r->op) && !open_checks(c, &timeout))
        return;
    if (r->op == CIMXML_OP_EXEC_QUERY) {
        if (!r->query || !r->query_language) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER, "ExecQuery needs QueryLanguage and Query");
            return;
        }
        if (strcasecmp(r->query_language, "WQL") != 0) {
            cim_error(c, CIM_ERR_QUERY_LANGUAGE_NOT_SUPPORTED,
                      "query language '%s' is not supported (WQL is)", r->query_language);
            return;
        }
    }
    /* The query is parsed before any state is taken or locked: a long one
     * (up to 64 KiB) holds no other request up while it is read. */
    smbcim_query *query = NULL;
    if (engine_for(r->op) == e_query) {
        if (smbcim_query_parse(r->query ? r->query : r->filter_query, &query, &err) !=
            WBEM_S_NO_ERROR) {
            engine_error(c, &err);
            return;
        }
        c->query = query;
    }
    srv_state *st = state_for(c, &err);
    if (!st) {
        cim_error(c, CIM_ERR_FAILED, "the server state cannot be read: %s", err.msg);
        smbcim_query_free(query);
        return;
    }
    if (!precheck(c, st->ctx, r->op)) {
        smbcim_query_free(query);
        srv_state_release(c->s->cache, st);
        return;
    }
    smbcim_result *res = NULL;
    smbcim_status rc = run(c, st, engine_for(r->op), &res, &err);
    c->query = NULL;
    smbcim_query_free(query); /* the result does not borrow from it */
    if (rc != WBEM_S_NO_ERROR) {
        engine_error(c, &err);
        srv_state_release(c->s->cache, st);
        return;
    }
    if (res->is_classes) {
        cim_error(c, CIM_ERR_NOT_SUPPORTED,
                  "the query returns class declarations, which %s does not carry", r->method);
        smbcim_result_free(res);
        srv_state_release(c->s->cache, st);
        return;
    }
    cimxml_objopts o = cimxml_request_objopts(r);
    if ((r->op == CIMXML_OP_ENUMERATE_INSTANCES || r->op == CIMXML_OP_OPEN_ENUMERATE_INSTANCES) &&
        !cimxml_flag(r->deep_inheritance, true))
        o = only_class_props(c, smbcim_class_find(st->ctx, r->class_name), o);
    if (r->op == CIMXML_OP_GET_INSTANCE) {
        cimxml_writer w;
        begin_answer(c, st->ctx, &w);
        if (res->count)
            cimxml_put_instance(&w, res->instances[0], &o);
        end_answer(c, &w, "the instance");
    } else if (is_open(r->op)) {
        if (!open_enum(c, st, res, o, timeout))
            srv_state_release(c->s->cache, st);
        return;
    } else {
        write_items(c, st->ctx, res, 0, res->count, items_for(r->op), &o, false, NULL, true);
    }
    smbcim_result_free(res);
    srv_state_release(c->s->cache, st);
}

/* CreateInstance and DeleteInstance: root/interop's subscription classes,
 * for members of the admin group only (DSP1054: who subscribes chooses
 * what is sent where).  root/cimv2 reflects smbd's state: nothing there is
 * created or deleted through smbcimd. */
static void op_modify(call *c)
{
    const cimxml_request *r = c->req;
    bool create = r->op == CIMXML_OP_CREATE_INSTANCE;
    if (!c->interop) {
        cim_error(c, CIM_ERR_NOT_SUPPORTED, "%s is not supported in root/cimv2 (its instances "
                  "are smbd's state); root/interop's subscriptions can be created and deleted",
                  r->method);
        return;
    }
    if (!c->who->admin) {
        cim_error(c, CIM_ERR_ACCESS_DENIED, "%s in root/interop is for members of the group "
                  "'%s'", r->method, c->s->cfg->admin_group);
        srv_log(LOG_NOTICE, "refused %s in root/interop to '%s' (not in the admin group)",
                r->method, c->who->user);
        return;
    }
    char msg[1024] = "";
    if (create) {
        if (!r->new_instance) {
            cim_error(c, CIM_ERR_INVALID_PARAMETER, "CreateInstance needs NewInstance");
            return;
        }
        char *path = NULL;
        int rc = srv_subs_create(c->s->subs, c->who->user, r->new_instance, &path, msg,
                                 sizeof msg);
        if (rc) {
            cim_error(c, rc, "%s", msg);
            return;
        }
        /* written by a context of the records: the server named in its
         * reference keys is the host's, as every read gives it */
        smbcim_error err = {0};
        smbcim_ctx *ictx = srv_subs_open(c->s->subs, &err);
        cimxml_writer w;
        begin_answer(c, ictx ? ictx : srv_subs_schema(c->s->subs), &w);
        cimxml_put_instancename_path(&w, path);
        end_answer(c, &w, "the new instance's name");
        smbcim_close(ictx);
        free(path);
        return;
    }
    if (!r->instance_name) {
        cim_error(c, CIM_ERR_INVALID_PARAMETER, "DeleteInstance needs InstanceName");
        return;
    }
    int rc = srv_subs_delete(c->s->subs, r->instance_name, msg, sizeof msg);
    if (rc) {
        cim_error(c, rc, "%s", msg);
        return;
    }
    sc_buf_reset(&c->resp->body);
    cimxml_write_void(&c->resp->body, r->id, r->method);
    c->resp->http_status = 200;
}

/* ---- the store, for WS-Management (wsman.c) ------------------------------------- */

srv_enum *srv_enum_open(srv *s, const char *owner, srv_state *st, smbcim_result *res,
                        size_t pos, unsigned timeout, sc_arena *arena, void *data,
                        int *refused)
{
    srv_expire(s);
    enum_ctx *e = sc_xcalloc(1, sizeof *e);
    random_id(e->id);
    snprintf(e->owner, sizeof e->owner, "%s", owner);
    const srv_config *cfg = s->cfg;
    pthread_mutex_lock(&s->enum_lock);
    unsigned mine = 0;
    for (enum_ctx *o = s->enums; o; o = o->next)
        mine += strcmp(o->owner, e->owner) == 0;
    *refused = s->nenums >= cfg->max_enumerations        ? 1
               : mine >= cfg->max_enumerations_per_user ? 2
                                                         : 0;
    if (!*refused) {
        double now = srv_now();
        e->dies = now + cfg->enumeration_lifetime;
        e->expires = now + timeout < e->dies ? now + timeout : e->dies;
        e->kind = EK_WSMAN;
        e->state = st;
        e->res = res;
        e->pos = pos;
        e->timeout = timeout;
        e->arena = arena;
        e->data = data;
        e->next = s->enums;
        s->enums = e;
        s->nenums++;
    }
    pthread_mutex_unlock(&s->enum_lock);
    if (*refused) {
        free(e);
        return NULL;
    }
    return e;
}

const char *srv_enum_id(const srv_enum *e)
{
    return e->id;
}

srv_enum *srv_enum_take(srv *s, const char *id, const char *owner)
{
    enum_ctx *found = NULL;
    double now = srv_now();
    pthread_mutex_lock(&s->enum_lock);
    for (enum_ctx *e = s->enums; e; e = e->next)
        if (e->kind == EK_WSMAN && strcmp(e->id, id) == 0 && strcmp(e->owner, owner) == 0 &&
            !e->busy && e->expires >= now && e->dies >= now) {
            e->busy = true;
            found = e;
            break;
        }
    pthread_mutex_unlock(&s->enum_lock);
    return found;
}

void srv_enum_get(const srv_enum *e, srv_state **st, smbcim_result **res, size_t *pos,
                  void **data)
{
    *st = e->state;
    *res = e->res;
    *pos = e->pos;
    *data = e->data;
}

void srv_enum_put_back(srv *s, srv_enum *e, size_t pos)
{
    pthread_mutex_lock(&s->enum_lock);
    e->pos = pos;
    e->busy = false;
    e->expires = srv_now() + e->timeout;
    if (e->expires > e->dies)
        e->expires = e->dies;
    pthread_mutex_unlock(&s->enum_lock);
}

void srv_enum_drop(srv *s, srv_enum *e)
{
    pthread_mutex_lock(&s->enum_lock);
    for (enum_ctx **pp = &s->enums; *pp; pp = &(*pp)->next)
        if (*pp == e) {
            *pp = e->next;
            s->nenums--;
            break;
        }
    pthread_mutex_unlock(&s->enum_lock);
    enum_free(s, e);
}

/* ---- response cache ------------------------------------------------------------ */

static uint64_t fnv1a(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ull;
    return h;
}

static bool rc_lookup(srv *s, uint64_t h, unsigned long gen, bool admin, const char *body,
                      size_t len, sc_buf *out)
{
    bool hit = false;
    pthread_mutex_lock(&s->rc_lock);
    for (size_t i = 0; i < RCACHE_SLOTS; i++) {
        rcache_ent *e = &s->rc[i];
        if (e->resp && e->hash == h && e->gen == gen && e->admin == admin && e->reqlen == len &&
            memcmp(e->req, body, len) == 0) {
            sc_buf_add(out, e->resp, e->resplen);
            e->used = srv_now();
            hit = true;
            break;
        }
    }
    pthread_mutex_unlock(&s->rc_lock);
    return hit;
}

static void rc_store(srv *s, uint64_t h, unsigned long gen, bool admin, const char *body,
                     size_t len, const sc_buf *resp)
{
    /* Everything an entry holds counts: the request it answers (the key
     * compared byte for byte) as much as the response. */
    size_t need = len + resp->len;
    if (need > RCACHE_BYTES / 4)
        return;
    pthread_mutex_lock(&s->rc_lock);
    /* A slot: a free one, one of an older state, else the least recently
     * used; then more until the byte budget holds. */
    rcache_ent *v = NULL;
    for (size_t i = 0; i < RCACHE_SLOTS && !v; i++)
        if (!s->rc[i].resp || s->rc[i].gen != gen)
            v = &s->rc[i];
    for (size_t i = 0; i < RCACHE_SLOTS && !v; i++)
        if (!v || s->rc[i].used < v->used)
            v = &s->rc[i];
    if (!v)
        v = &s->rc[0];
    for (;;) {
        s->rc_bytes -= v->reqlen + v->resplen;
        free(v->req);
        free(v->resp);
        memset(v, 0, sizeof *v);
        if (s->rc_bytes + need <= RCACHE_BYTES)
            break;
        rcache_ent *old = NULL;
        for (size_t i = 0; i < RCACHE_SLOTS; i++)
            if (s->rc[i].resp && (!old || s->rc[i].used < old->used))
                old = &s->rc[i];
        if (!old)
            break;
        v = old;
    }
    v->hash = h;
    v->gen = gen;
    v->admin = admin;
    v->req = sc_xmalloc(len ? len : 1);
    memcpy(v->req, body, len);
    v->reqlen = len;
    v->resp = sc_xmalloc(resp->len ? resp->len : 1);
    memcpy(v->resp, resp->data, resp->len);
    v->resplen = resp->len;
    v->used = srv_now();
    s->rc_bytes += need;
    pthread_mutex_unlock(&s->rc_lock);
}

size_t srv_response_cache_bytes(srv *s)
{
    pthread_mutex_lock(&s->rc_lock);
    size_t n = s->rc_bytes;
    pthread_mutex_unlock(&s->rc_lock);
    return n;
}

static bool cacheable(cimxml_op op)
{
    return op != CIMXML_OP_UNKNOWN && op != CIMXML_OP_UNSUPPORTED &&
           op != CIMXML_OP_EXTRINSIC && op != CIMXML_OP_CREATE_INSTANCE &&
           op != CIMXML_OP_DELETE_INSTANCE && !(op >= CIMXML_OP_OPEN_ENUMERATE_INSTANCES);
}

/* ---- request counts (smbcim_requests_total, docs/monitoring.md) ----------------- */

/* The operation label: DSP0200's name of an operation smbcimd knows,
 * "other" for any other method (a fixed set, whatever clients send). */
static const char *op_label(cimxml_op op)
{
    const char *n = cimxml_op_name(op);
    return n && *n ? n : "other";
}

/* Same from a CIMMethod header (a cache hit is not parsed again). */
static const char *op_label_of_name(const char *name)
{
    for (int op = CIMXML_OP_GET_CLASS; op <= CIMXML_OP_CLOSE_ENUMERATION; op++)
        if (strcasecmp(cimxml_op_name((cimxml_op)op), name) == 0)
            return cimxml_op_name((cimxml_op)op);
    return "other";
}

static const char *http_label(int status)
{
    switch (status) {
    case 400: return "HTTP_400";
    case 501: return "HTTP_501";
    default: return "HTTP_ERROR";
    }
}

/* ---- entry ------------------------------------------------------------------- */

void srv_handle(srv *s, const srv_identity *who, const char *cim_method, const char *cim_object,
                const char *body, size_t len, srv_response *resp)
{
    sc_buf_init(&resp->body);
    resp->http_status = 200;
    resp->cimerror = NULL;
    /* The cache key: both CIM headers and the body, so that a hit answers
     * exactly what the slow path answered for the same bytes. */
    sc_buf key;
    sc_buf_init(&key);
    sc_buf_puts(&key, cim_method ? cim_method : "");
    sc_buf_putc(&key, '\0');
    sc_buf_puts(&key, cim_object ? cim_object : "");
    sc_buf_putc(&key, '\0');
    sc_buf_add(&key, body, len);
    uint64_t h = fnv1a(key.data, key.len);
    smbcim_error serr = {0};
    srv_state *cst = srv_state_get(s->cache, &serr); /* NULL: the source is down */
    unsigned long gen = cst ? cst->gen : 0;
    if (cst)
        srv_state_release(s->cache, cst);
    if (gen && rc_lookup(s, h, gen, who->admin, key.data, key.len, &resp->body)) {
        char hm[256] = "";
        pct_decode(cim_method ? cim_method : "", hm, sizeof hm);
        srv_metrics_count_request(op_label_of_name(hm), "OK"); /* only answers are cached */
        sc_buf_free(&key);
        return;
    }
    sc_arena *a = sc_arena_new();
    cimxml_request *req = NULL;
    cimxml_error perr = {0};
    if (!cimxml_parse_request(a, body, len, &req, &perr)) {
        if (perr.kind == CIMXML_E_CIM && req) {
            cimxml_write_error(&resp->body, req->id, req->method, req->extrinsic, perr.cim_code,
                               perr.msg);
            srv_metrics_count_request(op_label(req->op), srv_metrics_cim_status(perr.cim_code));
        } else {
            srv_metrics_count_request(req ? op_label(req->op) : "other",
                                      http_label(cimxml_http_status(perr.kind)));
            resp->http_status = cimxml_http_status(perr.kind);
            resp->cimerror = cimxml_cimerror_header(perr.kind);
            srv_log(LOG_NOTICE, "refused a request from '%s': %s", who->user, perr.msg);
        }
        sc_buf_free(&key);
        sc_arena_free(a);
        return;
    }
    call c = {.s = s, .who = who, .req = req, .resp = resp, .a = a};
    /* The CIMMethod and CIMObject headers must agree with the body. */
    char hm[256] = "", ho[1024] = "";
    bool hm_ok = cim_method && pct_decode(cim_method, hm, sizeof hm);
    bool ho_ok = cim_object && pct_decode(cim_object, ho, sizeof ho);
    bool mismatch = !hm_ok || strcasecmp(hm, req->method ? req->method : "") != 0;
    if (!req->extrinsic && !mismatch)
        mismatch = !ho_ok || !srv_ns_equal(ho, req->nspace ? req->nspace : "");
    if (mismatch) {
        resp->http_status = 400;
        resp->cimerror = "header-mismatch";
        srv_log(LOG_NOTICE, "refused a request from '%s': CIMMethod/CIMObject headers (%s, %s) "
                "disagree with the body (%s, %s)", who->user, hm, ho,
                req->method ? req->method : "", req->nspace ? req->nspace : "");
        srv_metrics_count_request(op_label(req->op), http_label(400));
        sc_buf_free(&key);
        sc_arena_free(a);
        return;
    }
    if (req->op == CIMXML_OP_UNKNOWN || req->op == CIMXML_OP_UNSUPPORTED ||
        req->op == CIMXML_OP_EXTRINSIC) {
        cim_error(&c, CIM_ERR_NOT_SUPPORTED, "%s is not supported by smbcimd",
                  req->method ? req->method : "this method");
    } else if (!req->nspace || (!srv_ns_equal(req->nspace, "root/cimv2") &&
                                !srv_ns_equal(req->nspace, "root/interop"))) {
        cim_error(&c, CIM_ERR_INVALID_NAMESPACE,
                  "namespace '%s' does not exist (root/cimv2 and root/interop do)",
                  req->nspace ? req->nspace : "");
    } else {
        c.interop = srv_ns_equal(req->nspace, "root/interop");
        const smbcim_ctx *schema = c.interop ? srv_subs_schema(s->subs) : s->schema;
        switch (req->op) {
        case CIMXML_OP_GET_CLASS:
        case CIMXML_OP_ENUMERATE_CLASSES:
        case CIMXML_OP_ENUMERATE_CLASS_NAMES:
            if (req->op == CIMXML_OP_GET_CLASS)
                op_get_class(&c, schema);
            else
                op_enum_classes(&c, schema, req->op == CIMXML_OP_ENUMERATE_CLASS_NAMES);
            break;
        case CIMXML_OP_CREATE_INSTANCE:
        case CIMXML_OP_DELETE_INSTANCE:
            op_modify(&c);
            break;
        case CIMXML_OP_PULL_INSTANCES_WITH_PATH:
        case CIMXML_OP_PULL_INSTANCE_PATHS:
        case CIMXML_OP_PULL_INSTANCES:
        case CIMXML_OP_CLOSE_ENUMERATION:
            op_pull(&c);
            break;
        default:
            op_instances(&c);
        }
    }
    srv_metrics_count_request(op_label(req->op), resp->http_status == 200
                                                     ? srv_metrics_cim_status(c.code)
                                                     : http_label(resp->http_status));
    if (gen && cacheable(req->op) && !c.interop && resp->http_status == 200 && resp->body.data &&
        !strstr(resp->body.data, "<ERROR "))
        rc_store(s, h, gen, who->admin, key.data, key.len, &resp->body);
    sc_buf_free(&key);
    sc_arena_free(a);
}
