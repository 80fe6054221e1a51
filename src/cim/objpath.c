/*
 * objpath.c - WMI object paths (MS-WMI 2.2.2): parsing every form, the
 * canonical __RELPATH/__PATH text, resolution against a class, and the
 * canonical comparison key.  Rules and choices: docs/object-paths.md.
 */
#include "cim/cim.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct pparse {
    sc_arena *a;
    const char *text;
    const char *p;
    smbcim_error *err;
} pparse;

/* 1-based character (not byte) position of p. */
static size_t char_pos(const char *text, const char *p)
{
    size_t n = 1;
    for (const char *q = text; q < p; q++)
        if (((unsigned char)*q & 0xC0) != 0x80)
            n++;
    return n;
}

static smbcim_status perr(pparse *pp, const char *expected)
{
    const char *found;
    char buf[16];
    if (!*pp->p) {
        found = "end of path";
    } else {
        unsigned char c = (unsigned char)*pp->p;
        if (c >= 0x20 && c < 0x7F)
            snprintf(buf, sizeof buf, "'%c'", c);
        else
            snprintf(buf, sizeof buf, "byte 0x%02X", c);
        found = buf;
    }
    return smbcim_error_set(pp->err, WBEM_E_INVALID_OBJECT_PATH,
                            "invalid object path at position %zu: expected %s, found %s",
                            char_pos(pp->text, pp->p), expected, found);
}

static bool id_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool id_char(unsigned char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

static const char *parse_ident(pparse *pp)
{
    const char *s = pp->p;
    if (!id_start((unsigned char)*s))
        return NULL;
    while (id_char((unsigned char)*pp->p))
        pp->p++;
    return sc_strndup(pp->a, s, (size_t)(pp->p - s));
}

/* A quoted value: "..." or '...'; \\ \" \' unescape, any other backslash
 * is kept with the character after it (as WMI does with unknown escapes). */
static bool parse_quoted(pparse *pp, const char **out)
{
    char q = *pp->p++;
    sc_buf b;
    sc_buf_init(&b);
    while (*pp->p && *pp->p != q) {
        if (*pp->p == '\\' && pp->p[1]) {
            char e = pp->p[1];
            if (e == '\\' || e == '"' || e == '\'') {
                sc_buf_putc(&b, e);
            } else {
                sc_buf_putc(&b, '\\');
                sc_buf_putc(&b, e);
            }
            pp->p += 2;
            continue;
        }
        sc_buf_putc(&b, *pp->p++);
    }
    if (*pp->p != q) {
        sc_buf_free(&b);
        perr(pp, q == '"' ? "a closing '\"'" : "a closing \"'\"");
        return false;
    }
    pp->p++;
    *out = sc_strndup(pp->a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
    return true;
}

static bool parse_value(pparse *pp, cim_value *v)
{
    const char *s = pp->p;
    if (*s == '"' || *s == '\'') {
        const char *str;
        if (!parse_quoted(pp, &str))
            return false;
        *v = cim_str(CIM_T_STRING, str);
        return true;
    }
    if (sc_strnicmp_len(s, strlen(s) < 4 ? strlen(s) : 4, "TRUE", 4) == 0 && !id_char((unsigned char)s[4])) {
        pp->p += 4;
        *v = cim_bool(true);
        return true;
    }
    if (sc_strnicmp_len(s, strlen(s) < 5 ? strlen(s) : 5, "FALSE", 5) == 0 && !id_char((unsigned char)s[5])) {
        pp->p += 5;
        *v = cim_bool(false);
        return true;
    }
    const char *q = s;
    if (*q == '-' || *q == '+')
        q++;
    if (*q < '0' || *q > '9') {
        perr(pp, "a value (a quoted string, a number, TRUE or FALSE)");
        return false;
    }
    bool hex = q[0] == '0' && (q[1] == 'x' || q[1] == 'X');
    const char *e = hex ? q + 2 : q;
    while ((*e >= '0' && *e <= '9') || (hex && ((*e >= 'a' && *e <= 'f') || (*e >= 'A' && *e <= 'F'))))
        e++;
    if (hex && e == q + 2) {
        pp->p = e;
        perr(pp, "hexadecimal digits");
        return false;
    }
    char *txt = sc_strndup(pp->a, s, (size_t)(e - s));
    char *end;
    errno = 0;
    if (*s == '-') {
        long long x = strtoll(txt, &end, 0);
        if (errno || *end) {
            perr(pp, "a number within range");
            return false;
        }
        *v = cim_i(CIM_T_SINT64, x);
    } else {
        unsigned long long x = strtoull(*s == '+' ? txt + 1 : txt, &end, 0);
        if (errno || *end) {
            perr(pp, "a number within range");
            return false;
        }
        *v = cim_u(CIM_T_UINT64, x);
    }
    pp->p = e;
    return true;
}

/* Finds the ':' that ends the namespace: the first one outside quotes
 * before the first '.' or '=' outside quotes. */
static const char *find_ns_colon(const char *s)
{
    char q = 0;
    for (const char *p = s; *p; p++) {
        if (q) {
            if (*p == '\\' && p[1])
                p++;
            else if (*p == q)
                q = 0;
            continue;
        }
        if (*p == '"' || *p == '\'')
            q = *p;
        else if (*p == '.' || *p == '=')
            return NULL;
        else if (*p == ':')
            return p;
    }
    return NULL;
}

smbcim_status cim_path_parse(sc_arena *a, const char *text, cim_objpath *out,
                             smbcim_error *err)
{
    memset(out, 0, sizeof(*out));
    pparse pp = {a, text ? text : "", text ? text : "", err};
    if (!*pp.p)
        return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH, "empty object path");
    /* \\server\ or //server/ */
    if ((pp.p[0] == '\\' || pp.p[0] == '/') && (pp.p[1] == '\\' || pp.p[1] == '/')) {
        pp.p += 2;
        const char *s = pp.p;
        while (*pp.p && *pp.p != '\\' && *pp.p != '/' && *pp.p != ':' && *pp.p != ' ')
            pp.p++;
        if (pp.p == s)
            return perr(&pp, "a server name after '\\\\'");
        out->server = sc_strndup(a, s, (size_t)(pp.p - s));
        if (*pp.p != '\\' && *pp.p != '/')
            return perr(&pp, "'\\' and a namespace after the server name");
        pp.p++;
        const char *colon = find_ns_colon(pp.p);
        if (!colon)
            return perr(&pp, "a namespace followed by ':' and a class");
        if (colon == pp.p)
            return perr(&pp, "a namespace name");
        out->nspace = sc_strndup(a, pp.p, (size_t)(colon - pp.p));
        for (const char *c = pp.p; c < colon; c++) {
            if (!id_char((unsigned char)*c) && *c != '\\' && *c != '/') {
                pp.p = c;
                return perr(&pp, "a namespace name (letters, digits, '_', '\\')");
            }
        }
        pp.p = colon + 1;
    } else {
        const char *colon = find_ns_colon(pp.p);
        if (colon) {
            if (colon == pp.p)
                return perr(&pp, "a namespace name before ':'");
            for (const char *c = pp.p; c < colon; c++) {
                if (!id_char((unsigned char)*c) && *c != '\\' && *c != '/') {
                    pp.p = c;
                    return perr(&pp, "a namespace name (letters, digits, '_', '\\')");
                }
            }
            out->nspace = sc_strndup(a, pp.p, (size_t)(colon - pp.p));
            pp.p = colon + 1;
        }
    }
    out->class_name = parse_ident(&pp);
    if (!out->class_name)
        return perr(&pp, "a class name");
    if (!*pp.p) {
        out->is_class = true;
        return WBEM_S_NO_ERROR;
    }
    sc_vec keys = {0};
    smbcim_status st = WBEM_S_NO_ERROR;
    if (*pp.p == '=') {
        pp.p++;
        if (*pp.p == '@') {
            pp.p++;
            out->singleton = true;
        } else {
            cim_keybinding *kb = sc_alloc(a, sizeof(*kb));
            kb->name = "";
            if (!parse_value(&pp, &kb->value))
                st = WBEM_E_INVALID_OBJECT_PATH;
            else
                sc_vec_push(&keys, kb);
        }
    } else if (*pp.p == '.') {
        pp.p++;
        for (;;) {
            const char *kstart = pp.p;
            if (keys.len == CIM_PATH_MAX_KEYS) {
                st = smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                      "invalid object path at position %zu: more than %d keys",
                                      char_pos(text, kstart), CIM_PATH_MAX_KEYS);
                break;
            }
            const char *name = parse_ident(&pp);
            if (!name) {
                st = perr(&pp, "a key property name");
                break;
            }
            for (size_t i = 0; i < keys.len; i++) {
                if (sc_streqi(((cim_keybinding *)keys.items[i])->name, name)) {
                    pp.p = kstart;
                    st = smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                          "invalid object path at position %zu: key %s given twice",
                                          char_pos(text, kstart), name);
                    break;
                }
            }
            if (st)
                break;
            if (*pp.p != '=') {
                st = perr(&pp, sc_sprintf(a, "'=' after key name \"%s\"", name));
                break;
            }
            pp.p++;
            cim_keybinding *kb = sc_alloc(a, sizeof(*kb));
            kb->name = name;
            if (!parse_value(&pp, &kb->value)) {
                st = WBEM_E_INVALID_OBJECT_PATH;
                break;
            }
            sc_vec_push(&keys, kb);
            if (*pp.p == ',') {
                pp.p++;
                continue;
            }
            break;
        }
    } else {
        st = perr(&pp, "'.', '=' or the end of the path after the class name");
    }
    if (!st && *pp.p)
        st = perr(&pp, "',' or the end of the path");
    if (!st) {
        out->nkeys = keys.len;
        out->keys = sc_alloc_array(a, keys.len ? keys.len : 1, sizeof(cim_keybinding));
        for (size_t i = 0; i < keys.len; i++)
            out->keys[i] = *(cim_keybinding *)keys.items[i];
    }
    sc_vec_free(&keys);
    return st ? (err && err->code ? err->code : WBEM_E_INVALID_OBJECT_PATH) : WBEM_S_NO_ERROR;
}

static void sort_keys(cim_keybinding *k, size_t n)
{
    for (size_t i = 1; i < n; i++) {
        cim_keybinding t = k[i];
        size_t j = i;
        while (j > 0 && sc_stricmp(k[j - 1].name, t.name) > 0) {
            k[j] = k[j - 1];
            j--;
        }
        k[j] = t;
    }
}

static bool value_to_decimal(sc_arena *a, const cim_value *v, cim_type want, cim_value *out,
                             const char **why)
{
    if (v->type == CIM_T_STRING) {
        const char *s = v->v.s;
        char *end;
        errno = 0;
        if (!*s) {
            *why = "an empty string";
            return false;
        }
        if (cim_type_is_signed(want)) {
            long long x = strtoll(s, &end, 10);
            if (errno || *end) { *why = "not a number"; return false; }
            *out = cim_i(want, x);
        } else {
            if (s[0] == '-') { *why = "negative"; return false; }
            unsigned long long x = strtoull(s, &end, 10);
            if (errno || *end) { *why = "not a number"; return false; }
            *out = cim_u(want, x);
        }
        return true;
    }
    if (v->type == CIM_T_SINT64) {
        if (cim_type_is_unsigned(want)) {
            if (v->v.i < 0) { *why = "negative"; return false; }
            *out = cim_u(want, (uint64_t)v->v.i);
        } else {
            *out = cim_i(want, v->v.i);
        }
        return true;
    }
    if (v->type == CIM_T_UINT64) {
        if (cim_type_is_signed(want)) {
            if (v->v.u > INT64_MAX) { *why = "too large"; return false; }
            *out = cim_i(want, (int64_t)v->v.u);
        } else {
            *out = cim_u(want, v->v.u);
        }
        return true;
    }
    (void)a;
    *why = "not a number";
    return false;
}

smbcim_status cim_path_resolve(sc_arena *a, cim_objpath *p, const cim_class *cls,
                               smbcim_error *err)
{
    if (p->nkeys == 1 && p->keys[0].name[0] == '\0') {
        if (cls->nkeys != 1)
            return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                    "the form %s=\"value\" needs a class with exactly one key; "
                                    "%s has %zu", cls->name, cls->name, cls->nkeys);
    }
    for (size_t i = 0; i < p->nkeys; i++) {
        cim_keybinding *kb = &p->keys[i];
        int idx = -1;
        if (kb->name[0] == '\0') {
            for (size_t j = 0; j < cls->nprops; j++)
                if (cls->props[j].key)
                    idx = (int)j;
        } else {
            idx = cim_class_prop_index(cls, kb->name);
        }
        if (idx < 0)
            return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                    "%s has no property %s", cls->name, kb->name);
        const cim_property *pr = &cls->props[idx];
        if (!pr->key)
            return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                    "%s is not a key of %s", pr->name, cls->name);
        kb->name = pr->name;
        cim_value v = kb->value;
        const char *why = NULL;
        if (cim_type_is_integer(pr->type)) {
            if (!value_to_decimal(a, &v, pr->type, &kb->value, &why))
                return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                        "key %s of %s must be an integer (%s)", pr->name,
                                        cls->name, why);
        } else if (pr->type == CIM_T_BOOLEAN) {
            if (v.type != CIM_T_BOOLEAN)
                return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                        "key %s of %s must be TRUE or FALSE", pr->name, cls->name);
        } else if (pr->type == CIM_T_REFERENCE) {
            cim_objpath inner;
            if (v.type != CIM_T_STRING ||
                cim_path_parse(a, v.v.s, &inner, NULL) != WBEM_S_NO_ERROR || inner.is_class)
                return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                        "key %s of %s must be an object path in quotes",
                                        pr->name, cls->name);
            kb->value.type = CIM_T_REFERENCE;
        } else {
            if (v.type != CIM_T_STRING) {
                sc_buf b;
                sc_buf_init(&b);
                cim_value_append_text(&b, &v);
                kb->value = cim_str(pr->type, sc_strdup(a, b.data ? b.data : ""));
                sc_buf_free(&b);
            } else {
                kb->value.type = pr->type;
            }
        }
    }
    for (size_t j = 0; j < cls->nprops; j++) {
        if (!cls->props[j].key)
            continue;
        bool found = false;
        for (size_t i = 0; i < p->nkeys; i++)
            found |= sc_streqi(p->keys[i].name, cls->props[j].name);
        if (!found)
            return smbcim_error_set(err, WBEM_E_INVALID_OBJECT_PATH,
                                    "the path lacks key %s of %s", cls->props[j].name,
                                    cls->name);
    }
    p->class_name = cls->name;
    sort_keys(p->keys, p->nkeys);
    return WBEM_S_NO_ERROR;
}

static void append_key_value(sc_buf *b, const cim_value *v)
{
    if (cim_type_is_stringlike(v->type))
        cim_append_quoted(b, v->v.s);
    else
        cim_value_append_text(b, v);
}

char *cim_instance_relpath(sc_arena *a, const cim_instance *inst)
{
    return cim_instance_relpath_spelled(a, inst, NULL);
}

/* The length of s as a quoted key value: in quotes, with each backslash
 * and quote escaped (cim_append_quoted). */
static size_t quoted_len(const char *s)
{
    size_t n = 2;
    for (; *s; s++)
        n += 1 + (*s == '\\' || *s == '"');
    return n;
}

static char *put(char *o, const char *s, size_t n)
{
    memcpy(o, s, n);
    return o + n;
}

static char *put_quoted(char *o, const char *s)
{
    *o++ = '"';
    for (; *s; s++) {
        if (*s == '\\' || *s == '"')
            *o++ = '\\';
        *o++ = *s;
    }
    *o++ = '"';
    return o;
}

/* The npre texts pre[] + Class.k1=v1,k2=v2 from the n key values vals[i]
 * of property idx[i] (sorted by name), names spelled as in `spellings`, in
 * a: measured, then written once straight into the arena.  A string-like
 * value is quoted and escaped as it is written; a number or boolean (the
 * keys of two classes) is first made text by cim_value_append_text. */
static char *path_text(sc_arena *a, const char *const *pre, size_t npre, const cim_class *cls,
                       const size_t *idx, const cim_value *const *vals, size_t n,
                       const char *const *spellings)
{
    const char *names[n ? n : 1], *texts[n ? n : 1];
    bool quoted[n ? n : 1];
    size_t len = strlen(cls->name);
    for (size_t i = 0; i < npre; i++)
        len += strlen(pre[i]);
    for (size_t k = 0; k < n; k++) {
        names[k] = cls->props[idx[k]].name;
        for (const char *const *sp = spellings; sp && *sp; sp++)
            if (sc_stricmp(*sp, names[k]) == 0)
                names[k] = *sp;
        quoted[k] = cim_type_is_stringlike(vals[k]->type);
        if (quoted[k]) {
            texts[k] = vals[k]->v.s;
        } else {
            sc_buf b;
            sc_buf_init(&b);
            cim_value_append_text(&b, vals[k]);
            texts[k] = sc_strndup(a, b.data ? b.data : "", b.len);
            sc_buf_free(&b);
        }
        len += 1 + strlen(names[k]) + 1 + (quoted[k] ? quoted_len(texts[k]) : strlen(texts[k]));
    }
    char *r = sc_alloc(a, len + 1), *o = r;
    for (size_t i = 0; i < npre; i++)
        o = put(o, pre[i], strlen(pre[i]));
    o = put(o, cls->name, strlen(cls->name));
    for (size_t k = 0; k < n; k++) {
        *o++ = k ? ',' : '.';
        o = put(o, names[k], strlen(names[k]));
        *o++ = '=';
        o = quoted[k] ? put_quoted(o, texts[k]) : put(o, texts[k], strlen(texts[k]));
    }
    *o = '\0';
    return r;
}

/* The key properties of cls in name order, with the value `get` finds for
 * each (NULL: missing); false if one is missing, NULL or an array. */
typedef const cim_value *(*key_value_fn)(const void *src, size_t prop);

static bool sorted_keys(const cim_class *cls, key_value_fn get, const void *src, size_t *idx,
                        const cim_value **vals, size_t *n_out)
{
    size_t n = 0;
    for (size_t i = 0; i < cls->nprops; i++) {
        if (!cls->props[i].key)
            continue;
        const cim_value *v = get(src, i);
        if (!v || v->null || v->array)
            return false;
        size_t j = n++;
        while (j > 0 && sc_stricmp(cls->props[idx[j - 1]].name, cls->props[i].name) > 0) {
            idx[j] = idx[j - 1];
            vals[j] = vals[j - 1];
            j--;
        }
        idx[j] = i;
        vals[j] = v;
    }
    *n_out = n;
    return true;
}

static const cim_value *instance_value(const void *src, size_t prop)
{
    const cim_instance *inst = src;
    if (inst->present && !inst->present[prop])
        return NULL;
    return &inst->values[prop];
}

/* The npre texts pre[] and the path of the cls instance whose key values
 * `get` finds in src; NULL when cls has no key or one is missing. */
static char *keyed_path(sc_arena *a, const cim_class *cls, key_value_fn get, const void *src,
                        const char *const *pre, size_t npre, const char *const *spellings)
{
    if (!cls->nkeys)
        return NULL;
    size_t idx[cls->nkeys], n;
    const cim_value *vals[cls->nkeys];
    if (!sorted_keys(cls, get, src, idx, vals, &n))
        return NULL;
    return path_text(a, pre, npre, cls, idx, vals, n, spellings);
}

char *cim_instance_relpath_spelled(sc_arena *a, const cim_instance *inst,
                                   const char *const *spellings)
{
    return keyed_path(a, inst->cls, instance_value, inst, NULL, 0, spellings);
}

char *cim_instance_paths(sc_arena *a, const cim_instance *inst, const char *server,
                         const char *nspace, const char **relpath)
{
    /* \\\\SERVER\\nspace: then the relative path, its tail */
    const char *pre[] = {"\\\\", server, "\\", nspace, ":"};
    char *path = keyed_path(a, inst->cls, instance_value, inst, pre, 5, NULL);
    *relpath = path ? path + 2 + strlen(server) + 1 + strlen(nspace) + 1 : NULL;
    return path;
}

typedef struct named_keys {
    const cim_class *cls;
    size_t n;
    const char *const *names;
    const cim_value *values;
} named_keys;

static const cim_value *named_value(const void *src, size_t prop)
{
    const named_keys *k = src;
    for (size_t i = 0; i < k->n; i++)
        if (sc_stricmp(k->names[i], k->cls->props[prop].name) == 0)
            return &k->values[i];
    return NULL;
}

char *cim_keys_relpath_spelled(sc_arena *a, const cim_class *cls, size_t n,
                               const char *const *names, const cim_value *values,
                               const char *const *spellings)
{
    named_keys k = {.cls = cls, .n = n, .names = names, .values = values};
    return keyed_path(a, cls, named_value, &k, NULL, 0, spellings);
}

char *cim_full_path(sc_arena *a, const char *server, const char *nspace, const char *relpath)
{
    const char *parts[] = {"\\\\", server, "\\", nspace, ":", relpath};
    return sc_concat(a, parts, 6);
}

char *cim_path_format(sc_arena *a, const cim_objpath *p, bool full)
{
    sc_buf b;
    sc_buf_init(&b);
    if (full && p->server)
        sc_buf_printf(&b, "\\\\%s\\", p->server);
    if (full && p->nspace)
        sc_buf_printf(&b, "%s:", p->nspace);
    sc_buf_puts(&b, p->class_name);
    if (p->singleton) {
        sc_buf_puts(&b, "=@");
    } else {
        for (size_t i = 0; i < p->nkeys; i++) {
            if (p->keys[i].name[0] == '\0') {
                sc_buf_putc(&b, '=');
            } else {
                sc_buf_putc(&b, i ? ',' : '.');
                sc_buf_puts(&b, p->keys[i].name);
                sc_buf_putc(&b, '=');
            }
            append_key_value(&b, &p->keys[i].value);
        }
    }
    char *r = sc_strndup(a, b.data, b.len);
    sc_buf_free(&b);
    return r;
}

/* ---- canonical keys ------------------------------------------------------ */
static void normkey_into(sc_arena *a, sc_buf *b, const cim_objpath *p, int depth);

static void norm_value(sc_arena *a, sc_buf *b, const cim_value *v, int depth)
{
    if (cim_type_is_stringlike(v->type)) {
        cim_objpath inner;
        /* a value that is itself an instance path (a REF key) compares as
         * a path; bounded depth keeps hostile input cheap */
        if (depth < 8 && (v->type == CIM_T_REFERENCE || strpbrk(v->v.s, "=")) &&
            cim_path_parse(a, v->v.s, &inner, NULL) == WBEM_S_NO_ERROR && !inner.is_class) {
            sc_buf_putc(b, '{');
            normkey_into(a, b, &inner, depth + 1);
            sc_buf_putc(b, '}');
            return;
        }
        sc_buf tmp;
        sc_buf_init(&tmp);
        sc_buf_fold(&tmp, v->v.s);
        cim_append_quoted(b, tmp.data ? tmp.data : "");
        sc_buf_free(&tmp);
        return;
    }
    if (v->type == CIM_T_SINT64 && v->v.i >= 0) {
        sc_buf_printf(b, "%" PRId64, v->v.i);
        return;
    }
    cim_value_append_text(b, v);
}

static void normkey_into(sc_arena *a, sc_buf *b, const cim_objpath *p, int depth)
{
    sc_buf_fold(b, p->class_name);
    if (p->singleton) {
        sc_buf_puts(b, "=@");
        return;
    }
    size_t n = p->nkeys;
    cim_keybinding k[n ? n : 1];
    const char *fold[n ? n : 1];
    for (size_t i = 0; i < n; i++) {
        k[i] = p->keys[i];
        sc_buf t;
        sc_buf_init(&t);
        sc_buf_fold(&t, k[i].name);
        fold[i] = sc_strdup(a, t.data ? t.data : "");
        sc_buf_free(&t);
    }
    for (size_t i = 1; i < n; i++) {
        cim_keybinding tk = k[i];
        const char *tf = fold[i];
        size_t j = i;
        while (j > 0 && strcmp(fold[j - 1], tf) > 0) {
            k[j] = k[j - 1];
            fold[j] = fold[j - 1];
            j--;
        }
        k[j] = tk;
        fold[j] = tf;
    }
    for (size_t i = 0; i < n; i++) {
        sc_buf_putc(b, i ? ',' : '.');
        sc_buf_puts(b, fold[i]);
        sc_buf_putc(b, '=');
        norm_value(a, b, &k[i].value, depth);
    }
}

char *cim_objpath_normkey(sc_arena *a, const cim_objpath *p)
{
    if (!p->class_name)
        return NULL;
    sc_buf b;
    sc_buf_init(&b);
    normkey_into(a, &b, p, 0);
    char *r = sc_strndup(a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
    return r;
}

char *cim_path_normkey(sc_arena *a, const char *text)
{
    cim_objpath p;
    if (cim_path_parse(a, text, &p, NULL) != WBEM_S_NO_ERROR)
        return NULL;
    return cim_objpath_normkey(a, &p);
}

char *cim_instance_normkey(sc_arena *a, const cim_instance *inst)
{
    const cim_class *cls = inst->cls;
    cim_keybinding keys[cls->nkeys ? cls->nkeys : 1];
    size_t n = 0;
    for (size_t i = 0; i < cls->nprops && n < cls->nkeys; i++) {
        if (!cls->props[i].key)
            continue;
        if (inst->values[i].null || inst->values[i].array ||
            (inst->present && !inst->present[i]))
            return NULL;
        keys[n].name = cls->props[i].name;
        keys[n].value = inst->values[i];
        n++;
    }
    if (!n)
        return NULL;
    cim_objpath p = {.class_name = cls->name, .keys = keys, .nkeys = n};
    return cim_objpath_normkey(a, &p);
}
