/*
 * cimxml_req.c - CIM-XML request parser (DSP0200 operations, DSP0201
 * encoding).  Two steps: expat builds a small element tree in the request
 * arena (refusing DOCTYPE and entity declarations, too deep nesting and too
 * many elements); a recursive walk then checks the tree against the
 * request part of the CIM DTD and turns it into a typed cimxml_request.
 * Instance names become WMI object paths in the form cim_path_parse()
 * reads (docs/object-paths.md); an INSTANCE (CreateInstance) becomes a
 * cimxml_instance of text values.  The same tree builder reads a
 * listener's answer to ExportIndication (the end of the file).  Contract:
 * cimxml.h.
 */
#include "server/cimxml.h"
#include "server/xml_int.h"
#include "cim/cim.h"

#include <errno.h>
#include <expat.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- element tree -------------------------------------------------------- */
typedef struct xnode {
    const char *name;
    const char **attrs;  /* name, value, ..., NULL */
    const char *text;    /* character data directly inside, concatenated */
    struct xnode *parent, *child, *last, *next;
    unsigned line, col;
} xnode;

typedef struct builder {
    sc_arena *a;
    XML_Parser p;
    xnode *root, *cur;
    int depth;
    size_t nelems;
    sc_buf text[CIMXML_MAX_DEPTH + 1];
    cimxml_error *err;
    bool failed;
} builder;

static void set_err(cimxml_error *err, cimxml_errkind kind, int code, unsigned line,
                    unsigned col, const char *fmt, va_list ap)
{
    err->kind = kind;
    err->cim_code = code;
    err->line = line;
    err->col = col;
    int n = snprintf(err->msg, sizeof err->msg, "line %u, column %u: ", line, col);
    if (n < 0 || (size_t)n >= sizeof err->msg)
        return;
    vsnprintf(err->msg + n, sizeof err->msg - (size_t)n, fmt, ap);
}

static void b_fail(builder *b, cimxml_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void b_fail(builder *b, cimxml_errkind kind, const char *fmt, ...)
{
    if (b->failed)
        return;
    b->failed = true;
    va_list ap;
    va_start(ap, fmt);
    set_err(b->err, kind, 0, xml_line(b->p), xml_col(b->p), fmt, ap);
    va_end(ap);
    XML_StopParser(b->p, XML_FALSE);
}

static void XMLCALL on_start(void *ud, const XML_Char *name, const XML_Char **atts)
{
    builder *b = ud;
    if (b->failed)
        return;
    if (b->depth >= CIMXML_MAX_DEPTH) {
        b_fail(b, CIMXML_E_NOT_VALID, "elements nested deeper than %d levels", CIMXML_MAX_DEPTH);
        return;
    }
    if (++b->nelems > CIMXML_MAX_ELEMENTS) {
        b_fail(b, CIMXML_E_NOT_VALID, "more than %d elements in one message",
               CIMXML_MAX_ELEMENTS);
        return;
    }
    xnode *n = sc_alloc(b->a, sizeof(*n));
    n->name = sc_strdup(b->a, name);
    n->line = xml_line(b->p);
    n->col = xml_col(b->p);
    size_t na = 0;
    while (atts[na])
        na++;
    n->attrs = sc_alloc_array(b->a, na + 1, sizeof(char *));
    for (size_t i = 0; i < na; i++)
        n->attrs[i] = sc_strdup(b->a, atts[i]);
    n->parent = b->cur;
    if (b->cur) {
        if (b->cur->last)
            b->cur->last->next = n;
        else
            b->cur->child = n;
        b->cur->last = n;
    } else {
        b->root = n;
    }
    b->cur = n;
    b->depth++;
    sc_buf_reset(&b->text[b->depth]);
}

static void XMLCALL on_end(void *ud, const XML_Char *name)
{
    builder *b = ud;
    (void)name;
    if (b->failed || !b->cur)
        return;
    sc_buf *t = &b->text[b->depth];
    b->cur->text = sc_strndup(b->a, t->data ? t->data : "", t->len);
    sc_buf_reset(t);
    b->depth--;
    b->cur = b->cur->parent;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    builder *b = ud;
    if (b->failed || !b->cur || len <= 0)
        return;
    sc_buf_add(&b->text[b->depth], s, (size_t)len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *name, const XML_Char *sysid,
                               const XML_Char *pubid, int has_internal_subset)
{
    (void)name;
    (void)sysid;
    (void)pubid;
    (void)has_internal_subset;
    b_fail(ud, CIMXML_E_NOT_VALID, "DOCTYPE declarations are not accepted");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_length, const XML_Char *base,
                              const XML_Char *sysid, const XML_Char *pubid,
                              const XML_Char *notation)
{
    (void)name;
    (void)is_param;
    (void)value;
    (void)value_length;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    b_fail(ud, CIMXML_E_NOT_VALID, "entity declarations are not accepted");
}

/* Builds the tree; false with err set on failure. */
static bool build_tree(sc_arena *a, const char *body, size_t len, xnode **root,
                       cimxml_error *err)
{
    builder b;
    memset(&b, 0, sizeof b);
    b.a = a;
    b.err = err;
    if (len > (size_t)INT_MAX) {
        err->kind = CIMXML_E_NOT_VALID;
        snprintf(err->msg, sizeof err->msg,
                 "line 1, column 1: a message of %zu bytes is too large", len);
        err->line = err->col = 1;
        return false;
    }
    b.p = XML_ParserCreate(NULL);
    if (!b.p) {
        fprintf(stderr, "smbcim: out of memory\n");
        abort();
    }
    XML_SetUserData(b.p, &b);
    XML_SetElementHandler(b.p, on_start, on_end);
    XML_SetCharacterDataHandler(b.p, on_text);
    XML_SetStartDoctypeDeclHandler(b.p, on_doctype);
    XML_SetEntityDeclHandler(b.p, on_entity);
    XML_SetParamEntityParsing(b.p, XML_PARAM_ENTITY_PARSING_NEVER);
    enum XML_Status st = XML_Parse(b.p, body ? body : "", (int)len, XML_TRUE);
    bool ok = true;
    if (b.failed) {
        ok = false;
    } else if (st != XML_STATUS_OK) {
        err->kind = CIMXML_E_NOT_WELL_FORMED;
        err->cim_code = 0;
        err->line = xml_line(b.p);
        err->col = xml_col(b.p);
        snprintf(err->msg, sizeof err->msg, "line %u, column %u: XML not well-formed: %s",
                 err->line, err->col, XML_ErrorString(XML_GetErrorCode(b.p)));
        ok = false;
    } else if (!b.root) {
        err->kind = CIMXML_E_NOT_WELL_FORMED;
        err->line = err->col = 1;
        snprintf(err->msg, sizeof err->msg, "line 1, column 1: no root element");
        ok = false;
    }
    for (int i = 0; i <= CIMXML_MAX_DEPTH; i++)
        sc_buf_free(&b.text[i]);
    XML_ParserFree(b.p);
    *root = ok ? b.root : NULL;
    return ok;
}

/* ---- walk state ---------------------------------------------------------- */
typedef struct walker {
    sc_arena *a;
    cimxml_request *req;
    cimxml_error *err;     /* protocol-level failure (walk stops) */
    cimxml_error pending;  /* first CIM-level failure (walk goes on) */
} walker;

static bool invalid(walker *w, const xnode *n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static bool invalid(walker *w, const xnode *n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_err(w->err, CIMXML_E_NOT_VALID, 0, n->line, n->col, fmt, ap);
    va_end(ap);
    return false;
}

static bool proto_fail(walker *w, const xnode *n, cimxml_errkind kind, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool proto_fail(walker *w, const xnode *n, cimxml_errkind kind, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    set_err(w->err, kind, 0, n->line, n->col, fmt, ap);
    va_end(ap);
    return false;
}

/* Records a CIM-level error (the first one wins); the walk continues so a
 * later protocol-level fault still takes precedence. */
static void cim_fail(walker *w, const xnode *n, int code, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void cim_fail(walker *w, const xnode *n, int code, const char *fmt, ...)
{
    if (w->pending.kind != CIMXML_OK)
        return;
    va_list ap;
    va_start(ap, fmt);
    set_err(&w->pending, CIMXML_E_CIM, code, n->line, n->col, fmt, ap);
    va_end(ap);
}

static const char *attr(const xnode *n, const char *name)
{
    for (size_t i = 0; n->attrs[i]; i += 2)
        if (strcmp(n->attrs[i], name) == 0)
            return n->attrs[i + 1];
    return NULL;
}

static bool is(const xnode *n, const char *name)
{
    return n && strcmp(n->name, name) == 0;
}

static size_t nchildren(const xnode *n)
{
    size_t k = 0;
    for (const xnode *c = n->child; c; c = c->next)
        k++;
    return k;
}

static bool all_space(const char *s)
{
    for (; *s; s++)
        if (*s != ' ' && *s != '\t' && *s != '\r' && *s != '\n')
            return false;
    return true;
}

/* A container element: no character data other than white space. */
static bool no_text(walker *w, const xnode *n)
{
    if (!all_space(n->text))
        return invalid(w, n, "unexpected text inside <%s>", n->name);
    return true;
}

/* A text element: no child elements. */
static bool no_children(walker *w, const xnode *n)
{
    if (n->child)
        return invalid(w, n->child, "unexpected element <%s> inside <%s>", n->child->name,
                       n->name);
    return true;
}

static const char *req_attr(walker *w, const xnode *n, const char *name)
{
    const char *v = attr(n, name);
    if (!v)
        invalid(w, n, "<%s> lacks the %s attribute", n->name, name);
    return v;
}

/* White space trimmed copy. */
static char *trim(sc_arena *a, const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    return sc_strndup(a, s, n);
}

/* Identifier as object paths take it: letter, '_' or non-ASCII first, then
 * also digits. */
static bool id_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool id_char(unsigned char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

static bool is_ident(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    if (!id_start(*p))
        return false;
    for (p++; *p; p++)
        if (!id_char(*p))
            return false;
    return true;
}

static int parse_bool_text(const char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
        s++;
    size_t n = strlen(s);
    while (n && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r' || s[n - 1] == '\n'))
        n--;
    if (sc_strnicmp_len(s, n, "TRUE", 4) == 0)
        return 1;
    if (sc_strnicmp_len(s, n, "FALSE", 5) == 0)
        return 0;
    return -1;
}

/* ---- namespaces ---------------------------------------------------------- */
/* LOCALNAMESPACEPATH: NAMESPACE+.  The names joined with sep ('/' for the
 * request's namespace, '\\' inside object paths). */
static bool parse_lnspath(walker *w, const xnode *n, char sep, const char **out)
{
    if (!is(n, "LOCALNAMESPACEPATH"))
        return invalid(w, n, "expected <LOCALNAMESPACEPATH>, found <%s>", n->name);
    if (!no_text(w, n))
        return false;
    if (!n->child)
        return invalid(w, n, "<LOCALNAMESPACEPATH> holds no <NAMESPACE>");
    sc_buf b;
    sc_buf_init(&b);
    bool ok = true;
    for (const xnode *c = n->child; c && ok; c = c->next) {
        if (!is(c, "NAMESPACE")) {
            ok = invalid(w, c, "expected <NAMESPACE> in <LOCALNAMESPACEPATH>, found <%s>",
                         c->name);
            break;
        }
        const char *name = req_attr(w, c, "NAME");
        if (!name || !no_children(w, c) || !no_text(w, c)) {
            ok = false;
            break;
        }
        /* one segment, or several written with '/' in one NAME */
        const char *p = name;
        bool good = *p != '\0' && *p != '/';
        for (; *p && good; p++) {
            if (*p == '/')
                good = p[1] != '\0' && p[1] != '/';
            else
                good = id_char((unsigned char)*p);
        }
        if (!good)
            cim_fail(w, c, CIM_ERR_INVALID_NAMESPACE, "invalid namespace name \"%s\"", name);
        if (b.len)
            sc_buf_putc(&b, sep);
        for (p = name; *p; p++)
            sc_buf_putc(&b, *p == '/' ? sep : *p);
    }
    if (ok)
        *out = sc_strndup(w->a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
    return ok;
}

/* HOST text as the server part of a WMI path: a port is dropped; a name
 * the path syntax cannot carry (IPv6 literal, odd characters) becomes "."
 * (this server), as references compare without the server anyway. */
static const char *host_for_path(sc_arena *a, const char *text)
{
    char *h = trim(a, text);
    char *colon = strchr(h, ':');
    if (colon && !strchr(colon + 1, ':')) {
        const char *d = colon + 1;
        bool port = *d != '\0';
        for (; *d; d++)
            port = port && *d >= '0' && *d <= '9';
        if (port)
            *colon = '\0';
    }
    if (!*h)
        return ".";
    for (const unsigned char *p = (const unsigned char *)h; *p; p++) {
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-' || *p == '_' || *p >= 0x80))
            return ".";
    }
    return h;
}

/* NAMESPACEPATH: HOST, LOCALNAMESPACEPATH -> "\\host\ns" */
static bool parse_nspath(walker *w, const xnode *n, sc_buf *out)
{
    if (!no_text(w, n))
        return false;
    const xnode *h = n->child;
    if (!is(h, "HOST"))
        return invalid(w, h ? h : n, "<NAMESPACEPATH> must start with <HOST>");
    if (!no_children(w, h))
        return false;
    if (!h->next || h->next->next)
        return invalid(w, n, "<NAMESPACEPATH> must hold <HOST> and one <LOCALNAMESPACEPATH>");
    const char *ns;
    if (!parse_lnspath(w, h->next, '\\', &ns))
        return false;
    sc_buf_printf(out, "\\\\%s\\%s", host_for_path(w->a, h->text), ns);
    return true;
}

/* ---- instance names and references ---------------------------------------- */
static bool parse_instancename(walker *w, const xnode *n, int refdepth, sc_buf *out);

static bool check_classname(walker *w, const xnode *n, const char *name)
{
    if (!is_ident(name)) {
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "\"%s\" is not a valid class name", name);
        return false;
    }
    return true;
}

/* CLASSNAME element: its NAME. */
static bool parse_classname_el(walker *w, const xnode *n, const char **out)
{
    const char *name = req_attr(w, n, "NAME");
    if (!name || !no_children(w, n) || !no_text(w, n))
        return false;
    check_classname(w, n, name);
    *out = name;
    return true;
}

/* VALUE.REFERENCE: appends the path of the object it names (not quoted);
 * *is_class tells a class path. */
static bool parse_value_reference(walker *w, const xnode *n, int refdepth, sc_buf *out,
                                  bool *is_class)
{
    if (!no_text(w, n))
        return false;
    if (nchildren(n) != 1)
        return invalid(w, n, "<VALUE.REFERENCE> must hold exactly one path element");
    if (refdepth > CIMXML_MAX_REF_DEPTH) {
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "references nested deeper than %d levels",
                 CIMXML_MAX_REF_DEPTH);
        return true;
    }
    const xnode *c = n->child;
    *is_class = false;
    if (is(c, "INSTANCENAME"))
        return parse_instancename(w, c, refdepth, out);
    if (is(c, "CLASSNAME")) {
        const char *name;
        if (!parse_classname_el(w, c, &name))
            return false;
        sc_buf_puts(out, name);
        *is_class = true;
        return true;
    }
    bool local = is(c, "LOCALINSTANCEPATH") || is(c, "LOCALCLASSPATH");
    bool inst = is(c, "INSTANCEPATH") || is(c, "LOCALINSTANCEPATH");
    if (!local && !inst && !is(c, "CLASSPATH"))
        return invalid(w, c, "unexpected element <%s> in <VALUE.REFERENCE>", c->name);
    if (!no_text(w, c))
        return false;
    const xnode *first = c->child, *second = first ? first->next : NULL;
    if (!first || !second || second->next)
        return invalid(w, c, "<%s> must hold a namespace path and a %s", c->name,
                       inst ? "<INSTANCENAME>" : "<CLASSNAME>");
    if (local) {
        const char *ns;
        if (!parse_lnspath(w, first, '\\', &ns))
            return false;
        sc_buf_printf(out, "%s:", ns);
    } else {
        if (!is(first, "NAMESPACEPATH"))
            return invalid(w, first, "expected <NAMESPACEPATH> in <%s>, found <%s>", c->name,
                           first->name);
        if (!parse_nspath(w, first, out))
            return false;
        sc_buf_putc(out, ':');
    }
    if (inst) {
        if (!is(second, "INSTANCENAME"))
            return invalid(w, second, "expected <INSTANCENAME> in <%s>, found <%s>", c->name,
                           second->name);
        return parse_instancename(w, second, refdepth, out);
    }
    if (!is(second, "CLASSNAME"))
        return invalid(w, second, "expected <CLASSNAME> in <%s>, found <%s>", c->name,
                       second->name);
    const char *name;
    if (!parse_classname_el(w, second, &name))
        return false;
    sc_buf_puts(out, name);
    *is_class = true;
    return true;
}

static bool numeric_type(const char *t)
{
    return t && (t[0] == 's' || t[0] == 'u' || t[0] == 'r') &&
           (strncmp(t, "sint", 4) == 0 || strncmp(t, "uint", 4) == 0 ||
            strncmp(t, "real", 4) == 0);
}

/* KEYVALUE: appends the key value as the path syntax writes it. */
static bool parse_keyvalue(walker *w, const xnode *n, sc_buf *out)
{
    if (!no_children(w, n))
        return false;
    const char *vt = attr(n, "VALUETYPE");
    const char *type = attr(n, "TYPE");
    if (!vt)
        vt = type && strcmp(type, "boolean") == 0 ? "boolean"
             : numeric_type(type)                ? "numeric"
                                                 : "string";
    if (strcmp(vt, "string") == 0) {
        cim_append_quoted(out, n->text);
        return true;
    }
    if (strcmp(vt, "boolean") == 0) {
        int b = parse_bool_text(n->text);
        if (b < 0)
            cim_fail(w, n, CIM_ERR_INVALID_PARAMETER,
                     "boolean key value \"%.64s\" is neither TRUE nor FALSE", n->text);
        sc_buf_puts(out, b > 0 ? "TRUE" : "FALSE");
        return true;
    }
    if (strcmp(vt, "numeric") != 0)
        return invalid(w, n, "KEYVALUE VALUETYPE must be string, boolean or numeric, not \"%s\"",
                       vt);
    char *t = trim(w->a, n->text);
    const char *d = t;
    if (*d == '+' || *d == '-')
        d++;
    bool hex = d[0] == '0' && (d[1] == 'x' || d[1] == 'X');
    const char *e = hex ? d + 2 : d;
    const char *s = e;
    while ((*e >= '0' && *e <= '9') ||
           (hex && ((*e >= 'a' && *e <= 'f') || (*e >= 'A' && *e <= 'F'))))
        e++;
    bool ok = e > s && *e == '\0';
    if (ok) {
        char *end;
        errno = 0;
        if (*t == '-')
            (void)strtoll(t, &end, 0);
        else
            (void)strtoull(*t == '+' ? t + 1 : t, &end, 0);
        ok = errno == 0;
    }
    if (!ok) {
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER,
                 "numeric key value \"%.64s\" is not an integer within range", n->text);
        sc_buf_putc(out, '0');
        return true;
    }
    sc_buf_puts(out, *t == '+' ? t + 1 : t);
    return true;
}

/* A key value that is a reference: the path, quoted. */
static bool put_ref_key(walker *w, const xnode *n, int refdepth, sc_buf *out)
{
    sc_buf inner;
    sc_buf_init(&inner);
    bool is_class;
    bool ok = parse_value_reference(w, n, refdepth + 1, &inner, &is_class);
    if (ok)
        cim_append_quoted(out, inner.data ? inner.data : "");
    sc_buf_free(&inner);
    return ok;
}

/* INSTANCENAME: appends Class.k="v",... (or Class="v", Class=@). */
static bool parse_instancename(walker *w, const xnode *n, int refdepth, sc_buf *out)
{
    const char *cls = req_attr(w, n, "CLASSNAME");
    if (!cls || !no_text(w, n))
        return false;
    check_classname(w, n, cls);
    sc_buf_puts(out, cls);
    const xnode *c = n->child;
    if (!c) {
        sc_buf_puts(out, "=@");
        return true;
    }
    if (is(c, "KEYVALUE") || is(c, "VALUE.REFERENCE")) {
        if (c->next)
            return invalid(w, c->next, "<INSTANCENAME> with a bare <%s> must hold nothing else",
                           c->name);
        sc_buf_putc(out, '=');
        return is(c, "KEYVALUE") ? parse_keyvalue(w, c, out) : put_ref_key(w, c, refdepth, out);
    }
    size_t k = 0;
    for (; c; c = c->next, k++) {
        if (!is(c, "KEYBINDING"))
            return invalid(w, c, "expected <KEYBINDING> in <INSTANCENAME>, found <%s>", c->name);
        const char *kn = req_attr(w, c, "NAME");
        if (!kn || !no_text(w, c))
            return false;
        if (!is_ident(kn))
            cim_fail(w, c, CIM_ERR_INVALID_PARAMETER, "\"%s\" is not a valid key name", kn);
        if (k == CIM_PATH_MAX_KEYS) {
            cim_fail(w, c, CIM_ERR_INVALID_PARAMETER, "more than %d keys in %s",
                     CIM_PATH_MAX_KEYS, cls);
            return true;
        }
        for (const xnode *p = n->child; p != c; p = p->next) {
            const char *pn = attr(p, "NAME");
            if (pn && sc_streqi(pn, kn)) {
                cim_fail(w, c, CIM_ERR_INVALID_PARAMETER, "key %s given twice in %s", kn, cls);
                break;
            }
        }
        if (nchildren(c) != 1)
            return invalid(w, c, "<KEYBINDING> must hold one <KEYVALUE> or <VALUE.REFERENCE>");
        sc_buf_printf(out, "%c%s=", k ? ',' : '.', kn);
        const xnode *v = c->child;
        if (is(v, "KEYVALUE")) {
            if (!parse_keyvalue(w, v, out))
                return false;
            const char *vt = attr(v, "VALUETYPE");
            if (refdepth == 0 && (!vt || strcmp(vt, "string") == 0)) {
                cimxml_request *r = w->req;
                const char **nk = sc_alloc_array(w->a, r->nstring_keys + 1, sizeof(char *));
                if (r->nstring_keys)
                    memcpy(nk, r->string_keys, r->nstring_keys * sizeof(char *));
                nk[r->nstring_keys++] = kn;
                r->string_keys = nk;
            }
        } else if (is(v, "VALUE.REFERENCE")) {
            if (!put_ref_key(w, v, refdepth, out))
                return false;
        } else {
            return invalid(w, v, "unexpected element <%s> in <KEYBINDING>", v->name);
        }
        if (out->len > CIMXML_MAX_PATH) {
            cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "object path longer than %d bytes",
                     CIMXML_MAX_PATH);
            return true;
        }
    }
    return true;
}

/* ---- parameters ---------------------------------------------------------- */
/* What an IPARAMVALUE held, with its article, for "must be X, not Y". */
static const char *kind_name(cimxml_pkind k)
{
    switch (k) {
    case CIMXML_P_NULL: return "NULL";
    case CIMXML_P_VALUE: return "a VALUE";
    case CIMXML_P_ARRAY: return "a VALUE.ARRAY";
    case CIMXML_P_CLASSNAME: return "a CLASSNAME";
    case CIMXML_P_INSTANCENAME: return "an INSTANCENAME";
    case CIMXML_P_CLASSPATH: return "a class reference";
    case CIMXML_P_INSTANCE: return "an INSTANCE";
    case CIMXML_P_OTHER: return "a CLASS or other object";
    }
    return "?";
}

/* ---- an INSTANCE sent by the client (CreateInstance) ----------------------- *
 * What the DTD's content model forbids (an unexpected element, two values,
 * a missing NAME, a TYPE that is no CIM type) is protocol-level, as
 * everywhere in this file; what a well-formed INSTANCE says that cannot be
 * (a property name that is not a name, a name given twice, a reference to
 * a class, too many properties) is CIM-level CIM_ERR_INVALID_PARAMETER,
 * like a bad class or key name in an INSTANCENAME.  Values are kept as the
 * text sent: only a provider that knows the class can type them. */

/* QUALIFIER*, then the rest: the first child that is not a QUALIFIER. */
static const xnode *past_qualifiers(const xnode *c)
{
    while (c && is(c, "QUALIFIER"))
        c = c->next;
    return c;
}

/* DSP0201's %CIMType: boolean to datetime in cim_type's order, spelled
 * as cim_type_name() spells them. */
static bool is_cim_type(const char *t)
{
    for (int k = CIM_T_BOOLEAN; k <= CIM_T_DATETIME; k++)
        if (strcmp(cim_type_name((cim_type)k), t) == 0)
            return true;
    return false;
}

/* VALUE.ARRAY: (VALUE | VALUE.NULL)*, items NULL for VALUE.NULL. */
static bool parse_value_array(walker *w, const xnode *n, const char ***items, size_t *nitems)
{
    if (!no_text(w, n))
        return false;
    size_t k = nchildren(n), i = 0;
    *items = sc_alloc_array(w->a, k ? k : 1, sizeof(char *));
    for (const xnode *v = n->child; v; v = v->next) {
        if (!is(v, "VALUE") && !is(v, "VALUE.NULL"))
            return invalid(w, v, "expected <VALUE> or <VALUE.NULL> in <VALUE.ARRAY>, found <%s>",
                           v->name);
        if (!no_children(w, v))
            return false;
        if (is(v, "VALUE.NULL") && !no_text(w, v))
            return false;
        (*items)[i++] = is(v, "VALUE") ? v->text : NULL;
    }
    *nitems = i;
    return true;
}

/* The VALUE.REFERENCE of a PROPERTY.REFERENCE: an instance's path. */
static bool parse_prop_reference(walker *w, const xnode *v, cimxml_prop *p)
{
    /* string_keys lists the keys of InstanceName (for the dispatcher's REF
     * key check); the keys of a property's reference are not its */
    const char **keys = w->req->string_keys;
    size_t nkeys = w->req->nstring_keys;
    sc_buf b;
    sc_buf_init(&b);
    bool is_class = false;
    bool ok = parse_value_reference(w, v, 0, &b, &is_class);
    p->value = sc_strndup(w->a, b.data ? b.data : "", b.len);
    sc_buf_free(&b);
    w->req->string_keys = keys;
    w->req->nstring_keys = nkeys;
    if (ok && is_class) {
        const char *colon = strrchr(p->value, ':');
        cim_fail(w, v, CIM_ERR_INVALID_PARAMETER,
                 "property %s refers to the class %s; a reference property names an instance",
                 p->name, colon ? colon + 1 : p->value);
    }
    return ok;
}

/* One PROPERTY, PROPERTY.ARRAY or PROPERTY.REFERENCE: QUALIFIER*, then at
 * most one VALUE, VALUE.ARRAY or VALUE.REFERENCE respectively. */
static bool parse_prop(walker *w, const xnode *n, cimxml_prop *p)
{
    p->line = n->line;
    p->col = n->col;
    p->name = req_attr(w, n, "NAME");
    if (!p->name || !no_text(w, n))
        return false;
    if (!is_ident(p->name))
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "\"%s\" is not a valid property name",
                 p->name);
    p->is_array = is(n, "PROPERTY.ARRAY");
    p->is_ref = is(n, "PROPERTY.REFERENCE");
    const char *want = p->is_ref ? "VALUE.REFERENCE" : p->is_array ? "VALUE.ARRAY" : "VALUE";
    if (p->is_ref) {
        p->type = "reference";
        p->reference_class = attr(n, "REFERENCECLASS");
        if (p->reference_class)
            check_classname(w, n, p->reference_class);
    } else {
        p->type = attr(n, "TYPE");
        if (p->type && !is_cim_type(p->type))
            return invalid(w, n, "<%s NAME=\"%s\"> has TYPE \"%s\", which is no CIM type",
                           n->name, p->name, p->type);
        /* DSP0201 spells it EmbeddedObject; its 2.2 edition and some
         * clients EMBEDDEDOBJECT */
        const char *eo = attr(n, "EmbeddedObject");
        if (!eo)
            eo = attr(n, "EMBEDDEDOBJECT");
        if (eo && strcmp(eo, "object") != 0 && strcmp(eo, "instance") != 0)
            return invalid(w, n, "EmbeddedObject of property %s must be \"object\" or "
                           "\"instance\", not \"%s\"", p->name, eo);
        p->embedded = eo != NULL;
    }
    const xnode *v = past_qualifiers(n->child);
    if (!v) {
        p->is_null = true;
        return true;
    }
    if (!is(v, want))
        return invalid(w, v, "expected <%s> in <%s NAME=\"%s\"> (after its QUALIFIERs), "
                       "found <%s>", want, n->name, p->name, v->name);
    if (v->next)
        return invalid(w, v->next, "unexpected element <%s> after the value of <%s "
                       "NAME=\"%s\">", v->next->name, n->name, p->name);
    if (p->is_ref)
        return parse_prop_reference(w, v, p);
    if (p->is_array)
        return parse_value_array(w, v, &p->items, &p->nitems);
    if (!no_children(w, v))
        return false;
    p->value = v->text;
    return true;
}

/* INSTANCE: QUALIFIER*, then (PROPERTY | PROPERTY.ARRAY |
 * PROPERTY.REFERENCE)*. */
static bool parse_instance(walker *w, const xnode *n, const cimxml_instance **out)
{
    cimxml_instance *in = sc_alloc(w->a, sizeof *in);
    in->line = n->line;
    in->col = n->col;
    *out = in;
    in->class_name = req_attr(w, n, "CLASSNAME");
    if (!in->class_name || !no_text(w, n))
        return false;
    check_classname(w, n, in->class_name);
    const xnode *first = past_qualifiers(n->child);
    size_t k = 0;
    for (const xnode *c = first; c; c = c->next)
        k++;
    /* the cap keeps the duplicate check below (quadratic) small */
    if (k > CIMXML_MAX_PROPS) {
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER,
                 "%zu properties in <INSTANCE CLASSNAME=\"%s\">; at most %d are accepted", k,
                 in->class_name, CIMXML_MAX_PROPS);
        return true;
    }
    cimxml_prop *props = sc_alloc_array(w->a, k ? k : 1, sizeof *props);
    size_t i = 0;
    for (const xnode *c = first; c; c = c->next) {
        if (!is(c, "PROPERTY") && !is(c, "PROPERTY.ARRAY") && !is(c, "PROPERTY.REFERENCE"))
            return invalid(w, c, "unexpected element <%s> in <INSTANCE> (QUALIFIERs, then "
                           "PROPERTY, PROPERTY.ARRAY or PROPERTY.REFERENCE)", c->name);
        if (!parse_prop(w, c, &props[i]))
            return false;
        for (size_t j = 0; j < i; j++) {
            if (sc_streqi(props[j].name, props[i].name)) {
                cim_fail(w, c, CIM_ERR_INVALID_PARAMETER, "property %s given twice in %s "
                         "(first at line %u, column %u)", props[i].name, in->class_name,
                         props[j].line, props[j].col);
                break;
            }
        }
        i++;
    }
    in->props = props;
    in->nprops = i;
    return true;
}

/* One IPARAMVALUE into p (structure only; typing is done by the op table). */
static bool parse_iparam(walker *w, const xnode *n, cimxml_param *p)
{
    p->name = req_attr(w, n, "NAME");
    p->line = n->line;
    p->col = n->col;
    if (!p->name || !no_text(w, n))
        return false;
    const xnode *c = n->child;
    if (!c) {
        p->kind = CIMXML_P_NULL;
        return true;
    }
    if (c->next)
        return invalid(w, c->next, "<IPARAMVALUE NAME=\"%s\"> holds more than one value",
                       p->name);
    if (is(c, "VALUE")) {
        if (!no_children(w, c))
            return false;
        p->kind = CIMXML_P_VALUE;
        p->text = c->text;
        return true;
    }
    if (is(c, "VALUE.ARRAY")) {
        p->kind = CIMXML_P_ARRAY;
        return parse_value_array(w, c, &p->items, &p->nitems);
    }
    if (is(c, "CLASSNAME")) {
        p->kind = CIMXML_P_CLASSNAME;
        return parse_classname_el(w, c, &p->text);
    }
    if (is(c, "INSTANCENAME") || is(c, "VALUE.REFERENCE")) {
        sc_buf b;
        sc_buf_init(&b);
        bool is_class = false;
        bool ok = is(c, "INSTANCENAME") ? parse_instancename(w, c, 0, &b)
                                        : parse_value_reference(w, c, 0, &b, &is_class);
        p->kind = is_class ? CIMXML_P_CLASSPATH : CIMXML_P_INSTANCENAME;
        p->text = sc_strndup(w->a, b.data ? b.data : "", b.len);
        if (ok && is_class) {
            /* a class reference: keep the class name only */
            const char *colon = strrchr(p->text, ':');
            if (colon)
                p->text = colon + 1;
        }
        sc_buf_free(&b);
        return ok;
    }
    if (is(c, "INSTANCE")) {
        p->kind = CIMXML_P_INSTANCE;
        return parse_instance(w, c, &p->inst);
    }
    if (is(c, "CLASS") || is(c, "VALUE.NAMEDINSTANCE") || is(c, "QUALIFIER.DECLARATION")) {
        p->kind = CIMXML_P_OTHER;
        return true;
    }
    return invalid(w, c, "unexpected element <%s> in <IPARAMVALUE NAME=\"%s\">", c->name,
                   p->name);
}

/* Parameter names DSP0200 defines for the supported operations. */
enum {
    PN_ClassName, PN_InstanceName, PN_ObjectName, PN_LocalOnly, PN_DeepInheritance,
    PN_IncludeQualifiers, PN_IncludeClassOrigin, PN_PropertyList, PN_AssocClass,
    PN_ResultClass, PN_Role, PN_ResultRole, PN_QueryLanguage, PN_Query,
    PN_FilterQueryLanguage, PN_FilterQuery, PN_OperationTimeout, PN_ContinueOnError,
    PN_MaxObjectCount, PN_EnumerationContext, PN_ReturnQueryResultClass, PN_NewInstance,
    PN_COUNT
};

typedef enum ptype { T_CLASS, T_INST, T_OBJ, T_BOOL, T_STR, T_U32, T_LIST, T_NEWINST } ptype;

static const struct {
    const char *name;
    ptype type;
} pdesc[PN_COUNT] = {
    [PN_ClassName] = {"ClassName", T_CLASS},
    [PN_InstanceName] = {"InstanceName", T_INST},
    [PN_ObjectName] = {"ObjectName", T_OBJ},
    [PN_LocalOnly] = {"LocalOnly", T_BOOL},
    [PN_DeepInheritance] = {"DeepInheritance", T_BOOL},
    [PN_IncludeQualifiers] = {"IncludeQualifiers", T_BOOL},
    [PN_IncludeClassOrigin] = {"IncludeClassOrigin", T_BOOL},
    [PN_PropertyList] = {"PropertyList", T_LIST},
    [PN_AssocClass] = {"AssocClass", T_CLASS},
    [PN_ResultClass] = {"ResultClass", T_CLASS},
    [PN_Role] = {"Role", T_STR},
    [PN_ResultRole] = {"ResultRole", T_STR},
    [PN_QueryLanguage] = {"QueryLanguage", T_STR},
    [PN_Query] = {"Query", T_STR},
    [PN_FilterQueryLanguage] = {"FilterQueryLanguage", T_STR},
    [PN_FilterQuery] = {"FilterQuery", T_STR},
    [PN_OperationTimeout] = {"OperationTimeout", T_U32},
    [PN_ContinueOnError] = {"ContinueOnError", T_BOOL},
    [PN_MaxObjectCount] = {"MaxObjectCount", T_U32},
    [PN_EnumerationContext] = {"EnumerationContext", T_STR},
    [PN_ReturnQueryResultClass] = {"ReturnQueryResultClass", T_BOOL},
    [PN_NewInstance] = {"NewInstance", T_NEWINST},
};

#define B(x) (1u << PN_##x)
#define OPEN_COMMON (B(FilterQueryLanguage) | B(FilterQuery) | B(OperationTimeout) | \
                     B(ContinueOnError) | B(MaxObjectCount))

static const struct {
    const char *name;
    cimxml_op op;
    uint32_t allowed;
    uint32_t required;
} ops[] = {
    {"GetClass", CIMXML_OP_GET_CLASS,
     B(ClassName) | B(LocalOnly) | B(IncludeQualifiers) | B(IncludeClassOrigin) | B(PropertyList),
     B(ClassName)},
    {"EnumerateClasses", CIMXML_OP_ENUMERATE_CLASSES,
     B(ClassName) | B(DeepInheritance) | B(LocalOnly) | B(IncludeQualifiers) |
         B(IncludeClassOrigin), 0},
    {"EnumerateClassNames", CIMXML_OP_ENUMERATE_CLASS_NAMES, B(ClassName) | B(DeepInheritance), 0},
    {"GetInstance", CIMXML_OP_GET_INSTANCE,
     B(InstanceName) | B(LocalOnly) | B(IncludeQualifiers) | B(IncludeClassOrigin) |
         B(PropertyList), B(InstanceName)},
    {"EnumerateInstances", CIMXML_OP_ENUMERATE_INSTANCES,
     B(ClassName) | B(LocalOnly) | B(DeepInheritance) | B(IncludeQualifiers) |
         B(IncludeClassOrigin) | B(PropertyList), B(ClassName)},
    {"EnumerateInstanceNames", CIMXML_OP_ENUMERATE_INSTANCE_NAMES, B(ClassName), B(ClassName)},
    {"Associators", CIMXML_OP_ASSOCIATORS,
     B(ObjectName) | B(AssocClass) | B(ResultClass) | B(Role) | B(ResultRole) |
         B(IncludeQualifiers) | B(IncludeClassOrigin) | B(PropertyList), B(ObjectName)},
    {"AssociatorNames", CIMXML_OP_ASSOCIATOR_NAMES,
     B(ObjectName) | B(AssocClass) | B(ResultClass) | B(Role) | B(ResultRole), B(ObjectName)},
    {"References", CIMXML_OP_REFERENCES,
     B(ObjectName) | B(ResultClass) | B(Role) | B(IncludeQualifiers) | B(IncludeClassOrigin) |
         B(PropertyList), B(ObjectName)},
    {"ReferenceNames", CIMXML_OP_REFERENCE_NAMES, B(ObjectName) | B(ResultClass) | B(Role),
     B(ObjectName)},
    {"ExecQuery", CIMXML_OP_EXEC_QUERY, B(QueryLanguage) | B(Query), B(QueryLanguage) | B(Query)},
    {"CreateInstance", CIMXML_OP_CREATE_INSTANCE, B(NewInstance), B(NewInstance)},
    {"DeleteInstance", CIMXML_OP_DELETE_INSTANCE, B(InstanceName), B(InstanceName)},
    {"OpenEnumerateInstances", CIMXML_OP_OPEN_ENUMERATE_INSTANCES,
     B(ClassName) | B(DeepInheritance) | B(IncludeClassOrigin) | B(PropertyList) | OPEN_COMMON,
     B(ClassName)},
    {"OpenEnumerateInstancePaths", CIMXML_OP_OPEN_ENUMERATE_INSTANCE_PATHS,
     B(ClassName) | OPEN_COMMON, B(ClassName)},
    {"OpenAssociatorInstances", CIMXML_OP_OPEN_ASSOCIATOR_INSTANCES,
     B(InstanceName) | B(AssocClass) | B(ResultClass) | B(Role) | B(ResultRole) |
         B(IncludeClassOrigin) | B(PropertyList) | OPEN_COMMON, B(InstanceName)},
    {"OpenAssociatorInstancePaths", CIMXML_OP_OPEN_ASSOCIATOR_INSTANCE_PATHS,
     B(InstanceName) | B(AssocClass) | B(ResultClass) | B(Role) | B(ResultRole) | OPEN_COMMON,
     B(InstanceName)},
    {"OpenReferenceInstances", CIMXML_OP_OPEN_REFERENCE_INSTANCES,
     B(InstanceName) | B(ResultClass) | B(Role) | B(IncludeClassOrigin) | B(PropertyList) |
         OPEN_COMMON, B(InstanceName)},
    {"OpenReferenceInstancePaths", CIMXML_OP_OPEN_REFERENCE_INSTANCE_PATHS,
     B(InstanceName) | B(ResultClass) | B(Role) | OPEN_COMMON, B(InstanceName)},
    {"OpenQueryInstances", CIMXML_OP_OPEN_QUERY_INSTANCES,
     B(FilterQuery) | B(FilterQueryLanguage) | B(ReturnQueryResultClass) | B(OperationTimeout) |
         B(ContinueOnError) | B(MaxObjectCount), B(FilterQuery) | B(FilterQueryLanguage)},
    {"PullInstancesWithPath", CIMXML_OP_PULL_INSTANCES_WITH_PATH,
     B(EnumerationContext) | B(MaxObjectCount), B(EnumerationContext) | B(MaxObjectCount)},
    {"PullInstancePaths", CIMXML_OP_PULL_INSTANCE_PATHS,
     B(EnumerationContext) | B(MaxObjectCount), B(EnumerationContext) | B(MaxObjectCount)},
    {"PullInstances", CIMXML_OP_PULL_INSTANCES,
     B(EnumerationContext) | B(MaxObjectCount), B(EnumerationContext) | B(MaxObjectCount)},
    {"CloseEnumeration", CIMXML_OP_CLOSE_ENUMERATION, B(EnumerationContext),
     B(EnumerationContext)},
};

/* Intrinsic operations DSP0200 defines that smbcimd does not offer. */
static const char *const unsupported_ops[] = {
    "GetProperty", "SetProperty", "ModifyInstance",
    "CreateClass", "ModifyClass", "DeleteClass", "GetQualifier", "SetQualifier",
    "DeleteQualifier", "EnumerateQualifiers", "EnumerationCount",
};

const char *cimxml_op_name(cimxml_op op)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].op == op)
            return ops[i].name;
    return "";
}

static size_t op_index(cimxml_op op)
{
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (ops[i].op == op)
            return i;
    return 0;
}

/* Types one parameter into the request's fields.  CIM-level faults only. */
static void assign_param(walker *w, const xnode *n, int pn, const cimxml_param *p)
{
    cimxml_request *r = w->req;
    const char *pname = pdesc[pn].name;
    ptype t = pdesc[pn].type;
    if (p->kind == CIMXML_P_NULL) {
        /* NULL: the default, except where the operation needs a value */
        if (ops[op_index(r->op)].required & (1u << pn))
            cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "parameter %s of %s must not be NULL",
                     pname, r->method);
        return;
    }
    const char *want = NULL;
    switch (t) {
    case T_CLASS: {
        const char *name = NULL;
        if (p->kind == CIMXML_P_CLASSNAME || p->kind == CIMXML_P_CLASSPATH) {
            name = p->text;
        } else {
            /* DSP0201: a class name parameter is a <CLASSNAME>, never a
             * <VALUE> holding the name */
            want = "a CLASSNAME";
            break;
        }
        if (pn == PN_ClassName)
            r->class_name = name;
        else if (pn == PN_AssocClass)
            r->assoc_class = name;
        else
            r->result_class = name;
        return;
    }
    case T_NEWINST:
        if (p->kind != CIMXML_P_INSTANCE) {
            want = "an INSTANCE";
            break;
        }
        r->new_instance = p->inst;
        return;
    case T_INST:
        if (p->kind != CIMXML_P_INSTANCENAME) {
            want = "an INSTANCENAME";
            break;
        }
        r->instance_name = p->text;
        return;
    case T_OBJ:
        if (p->kind == CIMXML_P_INSTANCENAME)
            r->instance_name = p->text;
        else if (p->kind == CIMXML_P_CLASSNAME || p->kind == CIMXML_P_CLASSPATH)
            r->object_class = p->text;
        else
            want = "an INSTANCENAME or a CLASSNAME";
        if (!want)
            return;
        break;
    case T_BOOL: {
        int b = p->kind == CIMXML_P_VALUE ? parse_bool_text(p->text) : -1;
        if (b < 0) {
            want = "a VALUE of TRUE or FALSE";
            break;
        }
        cimxml_tri v = b ? CIMXML_TRUE : CIMXML_FALSE;
        switch (pn) {
        case PN_LocalOnly: r->local_only = v; break;
        case PN_DeepInheritance: r->deep_inheritance = v; break;
        case PN_IncludeQualifiers: r->include_qualifiers = v; break;
        case PN_IncludeClassOrigin: r->include_class_origin = v; break;
        case PN_ContinueOnError: r->continue_on_error = v; break;
        default: r->return_query_result_class = v; break;
        }
        return;
    }
    case T_STR:
        if (p->kind != CIMXML_P_VALUE) {
            want = "a VALUE";
            break;
        }
        switch (pn) {
        case PN_Role: r->role = trim(w->a, p->text); break;
        case PN_ResultRole: r->result_role = trim(w->a, p->text); break;
        case PN_QueryLanguage: r->query_language = trim(w->a, p->text); break;
        case PN_Query: r->query = p->text; break;
        case PN_FilterQueryLanguage: r->filter_query_language = trim(w->a, p->text); break;
        case PN_FilterQuery: r->filter_query = p->text; break;
        default: r->enumeration_context = p->text; break;
        }
        return;
    case T_U32: {
        const char *s = p->kind == CIMXML_P_VALUE ? trim(w->a, p->text) : NULL;
        bool ok = s && *s;
        unsigned long long x = 0;
        if (ok) {
            const char *d = *s == '+' ? s + 1 : s;
            ok = *d >= '0' && *d <= '9';
            for (const char *q = d; *q && ok; q++)
                ok = *q >= '0' && *q <= '9';
            if (ok) {
                errno = 0;
                x = strtoull(d, NULL, 10);
                ok = errno == 0 && x <= UINT32_MAX;
            }
        }
        if (!ok) {
            want = "a VALUE holding an unsigned 32-bit integer";
            break;
        }
        if (pn == PN_MaxObjectCount) {
            r->has_max_object_count = true;
            r->max_object_count = (uint32_t)x;
        } else {
            r->has_operation_timeout = true;
            r->operation_timeout = (uint32_t)x;
        }
        return;
    }
    case T_LIST:
        if (p->kind != CIMXML_P_ARRAY) {
            want = "a VALUE.ARRAY";
            break;
        }
        for (size_t i = 0; i < p->nitems; i++) {
            if (!p->items[i]) {
                cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "PropertyList holds a NULL entry");
                return;
            }
        }
        r->has_property_list = true;
        r->property_list = p->items;
        r->nproperty_list = p->nitems;
        for (size_t i = 0; i < p->nitems; i++)
            p->items[i] = trim(w->a, p->items[i]);
        return;
    }
    /* an undecoded value is named by its element */
    bool other = p->kind == CIMXML_P_OTHER && n->child;
    cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "parameter %s of %s must be %s, not %s%s", pname,
             r->method, want, other ? "a " : "", other ? n->child->name : kind_name(p->kind));
}

/* IMETHODCALL: LOCALNAMESPACEPATH, IPARAMVALUE* */
static bool parse_imethodcall(walker *w, const xnode *n)
{
    cimxml_request *r = w->req;
    r->method = req_attr(w, n, "NAME");
    if (!r->method || !no_text(w, n))
        return false;
    r->op = CIMXML_OP_UNKNOWN;
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++)
        if (sc_streqi(ops[i].name, r->method))
            r->op = ops[i].op;
    for (size_t i = 0; i < sizeof unsupported_ops / sizeof unsupported_ops[0]; i++)
        if (sc_streqi(unsupported_ops[i], r->method))
            r->op = CIMXML_OP_UNSUPPORTED;
    const xnode *c = n->child;
    if (!c)
        return invalid(w, n, "<IMETHODCALL> lacks <LOCALNAMESPACEPATH>");
    if (!parse_lnspath(w, c, '/', &r->nspace))
        return false;
    if (r->op == CIMXML_OP_UNKNOWN)
        cim_fail(w, n, CIM_ERR_NOT_SUPPORTED, "unknown intrinsic method %s", r->method);
    else if (r->op == CIMXML_OP_UNSUPPORTED)
        cim_fail(w, n, CIM_ERR_NOT_SUPPORTED, "operation %s is not supported", r->method);
    size_t np = nchildren(n) - 1;
    /* No operation has more than PN_COUNT parameters, so a longer list has
     * duplicates or strangers; the cap keeps the duplicate check below
     * (quadratic in the list) at a few thousand comparisons. */
    if (np > CIMXML_MAX_PARAMS) {
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER,
                 "%zu parameters in <IMETHODCALL>; at most %d are accepted", np,
                 CIMXML_MAX_PARAMS);
        return true;
    }
    r->params = sc_alloc_array(w->a, np ? np : 1, sizeof(cimxml_param));
    bool supported = r->op != CIMXML_OP_UNKNOWN && r->op != CIMXML_OP_UNSUPPORTED;
    size_t oi = op_index(r->op);
    uint32_t seen = 0;
    for (c = c->next; c; c = c->next) {
        if (!is(c, "IPARAMVALUE"))
            return invalid(w, c, "expected <IPARAMVALUE> in <IMETHODCALL>, found <%s>", c->name);
        cimxml_param *p = &r->params[r->nparams];
        if (!parse_iparam(w, c, p))
            return false;
        for (size_t i = 0; i < r->nparams; i++) {
            if (sc_streqi(r->params[i].name, p->name)) {
                cim_fail(w, c, CIM_ERR_INVALID_PARAMETER, "parameter %s given twice", p->name);
                break;
            }
        }
        r->nparams++;
        if (!supported)
            continue;
        int pn = -1;
        for (int i = 0; i < PN_COUNT; i++)
            if ((ops[oi].allowed & (1u << i)) && sc_streqi(pdesc[i].name, p->name))
                pn = i;
        if (pn < 0) {
            cim_fail(w, c, CIM_ERR_INVALID_PARAMETER, "%s has no parameter %s", ops[oi].name,
                     p->name);
            continue;
        }
        if (seen & (1u << pn))
            continue;
        seen |= 1u << pn;
        assign_param(w, c, pn, p);
    }
    if (supported) {
        uint32_t missing = ops[oi].required & ~seen;
        for (int i = 0; i < PN_COUNT && missing; i++) {
            if (missing & (1u << i)) {
                cim_fail(w, n, CIM_ERR_INVALID_PARAMETER, "%s needs the parameter %s",
                         ops[oi].name, pdesc[i].name);
                break;
            }
        }
    }
    return true;
}

/* METHODCALL: (LOCALCLASSPATH | LOCALINSTANCEPATH), PARAMVALUE* */
static bool parse_methodcall(walker *w, const xnode *n)
{
    cimxml_request *r = w->req;
    r->method = req_attr(w, n, "NAME");
    r->op = CIMXML_OP_EXTRINSIC;
    r->extrinsic = true;
    if (!r->method || !no_text(w, n))
        return false;
    const xnode *c = n->child;
    if (!c || (!is(c, "LOCALINSTANCEPATH") && !is(c, "LOCALCLASSPATH")))
        return invalid(w, c ? c : n,
                       "<METHODCALL> must start with <LOCALINSTANCEPATH> or <LOCALCLASSPATH>");
    if (!no_text(w, c))
        return false;
    const xnode *ns = c->child, *obj = ns ? ns->next : NULL;
    bool inst = is(c, "LOCALINSTANCEPATH");
    if (!ns || !obj || obj->next)
        return invalid(w, c, "<%s> must hold <LOCALNAMESPACEPATH> and %s", c->name,
                       inst ? "<INSTANCENAME>" : "<CLASSNAME>");
    if (!parse_lnspath(w, ns, '/', &r->nspace))
        return false;
    if (inst) {
        if (!is(obj, "INSTANCENAME"))
            return invalid(w, obj, "expected <INSTANCENAME>, found <%s>", obj->name);
        sc_buf b;
        sc_buf_init(&b);
        bool ok = parse_instancename(w, obj, 0, &b);
        r->target = sc_strndup(w->a, b.data ? b.data : "", b.len);
        sc_buf_free(&b);
        if (!ok)
            return false;
    } else {
        if (!is(obj, "CLASSNAME"))
            return invalid(w, obj, "expected <CLASSNAME>, found <%s>", obj->name);
        if (!parse_classname_el(w, obj, &r->target))
            return false;
        r->target_is_class = true;
    }
    if (nchildren(n) - 1 > CIMXML_MAX_PARAMS) {
        cim_fail(w, n, CIM_ERR_INVALID_PARAMETER,
                 "%zu parameters in <METHODCALL>; at most %d are accepted", nchildren(n) - 1,
                 CIMXML_MAX_PARAMS);
        return true;
    }
    for (c = c->next; c; c = c->next) {
        if (!is(c, "PARAMVALUE"))
            return invalid(w, c, "expected <PARAMVALUE> in <METHODCALL>, found <%s>", c->name);
        if (!req_attr(w, c, "NAME"))
            return false;
    }
    cim_fail(w, n, CIM_ERR_NOT_SUPPORTED, "extrinsic method %s is not supported", r->method);
    return true;
}

static bool version_major(const char *v, char major)
{
    return v[0] == major && (v[1] == '.' || v[1] == '\0');
}

static bool parse_envelope(walker *w, const xnode *root)
{
    cimxml_request *r = w->req;
    if (!is(root, "CIM"))
        return invalid(w, root, "the root element must be <CIM>, not <%s>", root->name);
    r->cim_version = req_attr(w, root, "CIMVERSION");
    r->dtd_version = r->cim_version ? req_attr(w, root, "DTDVERSION") : NULL;
    if (!r->dtd_version || !no_text(w, root))
        return false;
    if (!version_major(r->cim_version, '2'))
        return proto_fail(w, root, CIMXML_E_UNSUPPORTED_CIM_VERSION,
                          "CIMVERSION \"%s\" is not supported (2.x is)", r->cim_version);
    if (!version_major(r->dtd_version, '2'))
        return proto_fail(w, root, CIMXML_E_UNSUPPORTED_DTD_VERSION,
                          "DTDVERSION \"%s\" is not supported (2.x is)", r->dtd_version);
    const xnode *m = root->child;
    if (!is(m, "MESSAGE") || m->next)
        return invalid(w, m ? m : root, "<CIM> must hold exactly one <MESSAGE>");
    r->id = req_attr(w, m, "ID");
    r->protocol_version = r->id ? req_attr(w, m, "PROTOCOLVERSION") : NULL;
    if (!r->protocol_version || !no_text(w, m))
        return false;
    if (!version_major(r->protocol_version, '1'))
        return proto_fail(w, m, CIMXML_E_UNSUPPORTED_PROTOCOL_VERSION,
                          "PROTOCOLVERSION \"%s\" is not supported (1.x is)",
                          r->protocol_version);
    const xnode *s = m->child;
    if (!s || s->next)
        return invalid(w, s ? s->next : m, "<MESSAGE> must hold exactly one message element");
    if (is(s, "MULTIREQ"))
        return proto_fail(w, s, CIMXML_E_MULTIPLE_REQUESTS, "batched requests are not supported");
    if (!is(s, "SIMPLEREQ"))
        return invalid(w, s, "expected <SIMPLEREQ>, found <%s>", s->name);
    if (!no_text(w, s))
        return false;
    const xnode *call = s->child;
    while (is(call, "CORRELATOR"))
        call = call->next;
    if (!call || call->next)
        return invalid(w, call ? call->next : s,
                       "<SIMPLEREQ> must hold one <IMETHODCALL> or <METHODCALL>");
    if (is(call, "IMETHODCALL"))
        return parse_imethodcall(w, call);
    if (is(call, "METHODCALL"))
        return parse_methodcall(w, call);
    return invalid(w, call, "expected <IMETHODCALL> or <METHODCALL>, found <%s>", call->name);
}

bool cimxml_parse_request(sc_arena *a, const char *body, size_t len,
                          cimxml_request **out, cimxml_error *err)
{
    memset(err, 0, sizeof(*err));
    *out = NULL;
    xnode *root;
    if (!build_tree(a, body, len, &root, err))
        return false;
    cimxml_request *r = sc_alloc(a, sizeof(*r));
    r->local_only = r->deep_inheritance = r->include_qualifiers = CIMXML_UNSET;
    r->include_class_origin = r->continue_on_error = CIMXML_UNSET;
    r->return_query_result_class = CIMXML_UNSET;
    walker w = {.a = a, .req = r, .err = err};
    if (!parse_envelope(&w, root))
        return false;
    if (w.pending.kind != CIMXML_OK) {
        *err = w.pending;
        *out = r;
        return false;
    }
    *out = r;
    return true;
}

int cimxml_http_status(cimxml_errkind kind)
{
    switch (kind) {
    case CIMXML_OK:
    case CIMXML_E_CIM:
        return 200;
    case CIMXML_E_NOT_WELL_FORMED:
    case CIMXML_E_NOT_VALID:
        return 400;
    case CIMXML_E_UNSUPPORTED_CIM_VERSION:
    case CIMXML_E_UNSUPPORTED_DTD_VERSION:
    case CIMXML_E_UNSUPPORTED_PROTOCOL_VERSION:
    case CIMXML_E_MULTIPLE_REQUESTS:
        return 501;
    }
    return 400;
}

const char *cimxml_cimerror_header(cimxml_errkind kind)
{
    switch (kind) {
    case CIMXML_OK:
    case CIMXML_E_CIM:
        return NULL;
    case CIMXML_E_NOT_WELL_FORMED: return "request-not-well-formed";
    case CIMXML_E_NOT_VALID: return "request-not-valid";
    case CIMXML_E_UNSUPPORTED_CIM_VERSION: return "unsupported-cim-version";
    case CIMXML_E_UNSUPPORTED_DTD_VERSION: return "unsupported-dtd-version";
    case CIMXML_E_UNSUPPORTED_PROTOCOL_VERSION: return "unsupported-protocol-version";
    case CIMXML_E_MULTIPLE_REQUESTS: return "multiple-requests-unsupported";
    }
    return "request-not-valid";
}

const cimxml_param *cimxml_request_param(const cimxml_request *req, const char *name)
{
    for (size_t i = 0; i < req->nparams; i++)
        if (sc_streqi(req->params[i].name, name))
            return &req->params[i];
    return NULL;
}

cimxml_objopts cimxml_request_objopts(const cimxml_request *req)
{
    cimxml_objopts o = {0};
    bool class_op = req->op == CIMXML_OP_GET_CLASS || req->op == CIMXML_OP_ENUMERATE_CLASSES;
    o.local_only = class_op && cimxml_flag(req->local_only, true);
    o.include_qualifiers = cimxml_flag(req->include_qualifiers, class_op);
    o.include_class_origin = cimxml_flag(req->include_class_origin, false);
    o.has_property_list = req->has_property_list;
    o.property_list = req->property_list;
    o.nproperty_list = req->nproperty_list;
    return o;
}

/* ---- a listener's answer to ExportIndication ------------------------------- */

/* The one element child of n, or NULL with msg saying what is wrong. */
static const xnode *only_child(const xnode *n, const char *want, char *msg, size_t msgsize)
{
    const xnode *c = n->child;
    if (!c) {
        snprintf(msg, msgsize, "line %u, column %u: <%s> holds no <%s>", n->line, n->col,
                 n->name, want);
        return NULL;
    }
    if (!is(c, want)) {
        snprintf(msg, msgsize, "line %u, column %u: expected <%s> in <%s>, found <%s>", c->line,
                 c->col, want, n->name, c->name);
        return NULL;
    }
    if (c->next) {
        snprintf(msg, msgsize, "line %u, column %u: unexpected <%s> after <%s> in <%s>",
                 c->next->line, c->next->col, c->next->name, want, n->name);
        return NULL;
    }
    return c;
}

/* CIM > MESSAGE > SIMPLEEXPRSP > EXPMETHODRESPONSE > (ERROR | IRETURNVALUE)?
 * The answer only says whether the listener took the indication, so only
 * that structure is judged; text between elements is ignored. */
static bool read_export_response(const xnode *root, int *cim_code, char *msg, size_t msgsize)
{
    if (!is(root, "CIM")) {
        snprintf(msg, msgsize, "line %u, column %u: the root element must be <CIM>, not <%s>",
                 root->line, root->col, root->name);
        return false;
    }
    const xnode *m = only_child(root, "MESSAGE", msg, msgsize);
    const xnode *s = m ? only_child(m, "SIMPLEEXPRSP", msg, msgsize) : NULL;
    const xnode *r = s ? only_child(s, "EXPMETHODRESPONSE", msg, msgsize) : NULL;
    if (!r)
        return false;
    const char *name = attr(r, "NAME");
    if (!name || !sc_streqi(name, "ExportIndication")) {
        snprintf(msg, msgsize, "line %u, column %u: expected <EXPMETHODRESPONSE "
                 "NAME=\"ExportIndication\">, found NAME \"%.64s\"", r->line, r->col,
                 name ? name : "(none)");
        return false;
    }
    const xnode *c = r->child;
    if (!c)
        return true;
    if (c->next) {
        snprintf(msg, msgsize, "line %u, column %u: unexpected <%s> in <EXPMETHODRESPONSE> "
                 "(one ERROR or IRETURNVALUE at most)", c->next->line, c->next->col,
                 c->next->name);
        return false;
    }
    if (is(c, "IRETURNVALUE")) {
        /* ExportIndication returns nothing */
        if (c->child || !all_space(c->text)) {
            snprintf(msg, msgsize, "line %u, column %u: the <IRETURNVALUE> of ExportIndication "
                     "must be empty", c->line, c->col);
            return false;
        }
        return true;
    }
    if (!is(c, "ERROR")) {
        snprintf(msg, msgsize, "line %u, column %u: expected <ERROR> or <IRETURNVALUE> in "
                 "<EXPMETHODRESPONSE>, found <%s>", c->line, c->col, c->name);
        return false;
    }
    /* ERROR may carry CIM_Error INSTANCEs: CODE and DESCRIPTION say enough */
    const char *code = attr(c, "CODE");
    const char *d = code;
    bool ok = d && *d;
    for (; ok && *d; d++)
        ok = *d >= '0' && *d <= '9';
    long v = 0;
    if (ok) {
        errno = 0;
        v = strtol(code, NULL, 10);
        ok = errno == 0 && v > 0 && v <= INT_MAX;
    }
    if (!ok) {
        snprintf(msg, msgsize, "line %u, column %u: <ERROR> needs a CODE that is a CIM status "
                 "code (a positive integer), not \"%.32s\"", c->line, c->col,
                 code ? code : "(none)");
        return false;
    }
    const char *desc = attr(c, "DESCRIPTION");
    *cim_code = (int)v;
    snprintf(msg, msgsize, "%s", desc ? desc : "");
    return true;
}

bool cimxml_parse_export_response(const char *body, size_t len, int *cim_code, char *msg,
                                  size_t msgsize)
{
    *cim_code = 0;
    char dummy[1];
    if (!msgsize) {
        msg = dummy;
        msgsize = sizeof dummy;
    }
    msg[0] = '\0';
    sc_arena *a = sc_arena_new();
    cimxml_error err = {0};
    xnode *root = NULL;
    bool ok = build_tree(a, body, len, &root, &err);
    if (!ok)
        snprintf(msg, msgsize, "%s", err.msg);
    else if (!read_export_response(root, cim_code, msg, msgsize))
        ok = false;
    if (!ok)
        *cim_code = 0;
    sc_arena_free(a);
    return ok;
}
