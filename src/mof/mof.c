/*
 * mof.c - MOF class declarations to cim_class (DSP0221 syntax as mofcomp
 * accepts it), and classes/instances back to MOF text.  A hand-written
 * lexer and recursive-descent parser; every error names FILE:LINE:COL.
 */
#include "mof/mof.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef enum tok_kind {
    T_EOF, T_IDENT, T_STRING, T_INT, T_REAL, T_PUNCT, T_ERROR,
} tok_kind;

typedef struct tok {
    tok_kind kind;
    const char *start;  /* in the source */
    size_t len;
    char *text;         /* decoded string or identifier (arena) */
    char punct;
    unsigned line, col;
} tok;

typedef struct parser {
    cim_schema *schema;
    sc_arena *a;
    const char *p, *end;
    const char *file;
    unsigned line, col;
    tok t;              /* current token */
    smbcim_error *err;
    bool failed;
    sc_vec added;       /* classes declared by this text, for the REF check */
} parser;

static bool perr_at(parser *ps, unsigned line, unsigned col, smbcim_status code,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static bool perr_at(parser *ps, unsigned line, unsigned col, smbcim_status code,
                    const char *fmt, ...)
{
    if (ps->failed)
        return false;
    ps->failed = true;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    smbcim_error_set(ps->err, code, "%s:%u:%u: %s", ps->file, line, col, msg);
    return false;
}

/* Limits that keep the duplicate checks (linear scans) cheap on hostile
 * text: DSP0004 sets none, and CIM's largest classes have a few hundred
 * properties and a dozen qualifiers per element. */
#define MOF_MAX_QUALIFIERS 256
#define MOF_MAX_PROPERTIES 4096
#define PERR(ps, ...) perr_at((ps), (ps)->t.line, (ps)->t.col, WBEM_E_INVALID_SYNTAX, __VA_ARGS__)

/* ---- lexer --------------------------------------------------------------- */
static void adv(parser *ps, size_t n)
{
    for (size_t i = 0; i < n && ps->p < ps->end; i++) {
        if (*ps->p == '\n') {
            ps->line++;
            ps->col = 1;
        } else if (((unsigned char)*ps->p & 0xC0) != 0x80) {
            ps->col++;
        }
        ps->p++;
    }
}

static bool is_id_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool is_id_char(unsigned char c)
{
    return is_id_start(c) || (c >= '0' && c <= '9');
}

static bool skip_space(parser *ps)
{
    for (;;) {
        while (ps->p < ps->end && (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' ||
                                   *ps->p == '\r' || *ps->p == '\f' || *ps->p == '\v'))
            adv(ps, 1);
        if (ps->end - ps->p >= 2 && ps->p[0] == '/' && ps->p[1] == '/') {
            while (ps->p < ps->end && *ps->p != '\n')
                adv(ps, 1);
            continue;
        }
        if (ps->end - ps->p >= 2 && ps->p[0] == '/' && ps->p[1] == '*') {
            unsigned l = ps->line, c = ps->col;
            adv(ps, 2);
            while (ps->p < ps->end && !(ps->end - ps->p >= 2 && ps->p[0] == '*' && ps->p[1] == '/'))
                adv(ps, 1);
            if (ps->p >= ps->end)
                return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "unterminated comment");
            adv(ps, 2);
            continue;
        }
        return true;
    }
}

static int hexdig(char c)
{
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* One string literal at ps->p (the opening quote); appends to b. */
static bool lex_string(parser *ps, sc_buf *b)
{
    unsigned l = ps->line, c = ps->col;
    adv(ps, 1);
    while (ps->p < ps->end && *ps->p != '"') {
        char ch = *ps->p;
        if (ch == '\n')
            return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "unterminated string");
        if (ch == '\\') {
            if (ps->end - ps->p < 2)
                break;
            char e = ps->p[1];
            adv(ps, 2);
            switch (e) {
            case 'n': sc_buf_putc(b, '\n'); break;
            case 't': sc_buf_putc(b, '\t'); break;
            case 'r': sc_buf_putc(b, '\r'); break;
            case 'b': sc_buf_putc(b, '\b'); break;
            case 'f': sc_buf_putc(b, '\f'); break;
            case '"': sc_buf_putc(b, '"'); break;
            case '\'': sc_buf_putc(b, '\''); break;
            case '\\': sc_buf_putc(b, '\\'); break;
            case 'x': case 'X': {
                int v = 0, n = 0;
                while (n < 4 && ps->p < ps->end && hexdig(*ps->p) >= 0) {
                    v = v * 16 + hexdig(*ps->p);
                    adv(ps, 1);
                    n++;
                }
                if (n == 0 || v == 0 || v > 0x7F)
                    return perr_at(ps, ps->line, ps->col, WBEM_E_INVALID_SYNTAX,
                                   "\\x escapes must give an ASCII character from \\x01 to \\x7F");
                sc_buf_putc(b, (char)v);
                break;
            }
            default:
                return perr_at(ps, ps->line, ps->col - 2, WBEM_E_INVALID_SYNTAX,
                               "unknown escape '\\%c' in a string", e);
            }
            continue;
        }
        sc_buf_putc(b, ch);
        adv(ps, 1);
    }
    if (ps->p >= ps->end)
        return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "unterminated string");
    adv(ps, 1);
    return true;
}

static bool next(parser *ps)
{
    if (ps->failed) {
        ps->t.kind = T_ERROR;
        return false;
    }
    if (!skip_space(ps)) {
        ps->t.kind = T_ERROR;
        return false;
    }
    tok *t = &ps->t;
    memset(t, 0, sizeof(*t));
    t->line = ps->line;
    t->col = ps->col;
    t->start = ps->p;
    if (ps->p >= ps->end) {
        t->kind = T_EOF;
        return true;
    }
    unsigned char c = (unsigned char)*ps->p;
    if (c == '"') {
        sc_buf b;
        sc_buf_init(&b);
        bool ok = true;
        /* adjacent string literals concatenate */
        for (;;) {
            ok = lex_string(ps, &b);
            if (!ok)
                break;
            const char *save = ps->p;
            unsigned sl = ps->line, sc = ps->col;
            if (!skip_space(ps)) {
                ok = false;
                break;
            }
            if (ps->p < ps->end && *ps->p == '"')
                continue;
            ps->p = save;
            ps->line = sl;
            ps->col = sc;
            break;
        }
        t->text = sc_strndup(ps->a, b.data ? b.data : "", b.len);
        t->len = b.len;
        sc_buf_free(&b);
        t->kind = ok ? T_STRING : T_ERROR;
        return ok;
    }
    if (is_id_start(c)) {
        const char *s = ps->p;
        while (ps->p < ps->end && is_id_char((unsigned char)*ps->p))
            adv(ps, 1);
        t->kind = T_IDENT;
        t->len = (size_t)(ps->p - s);
        t->text = sc_strndup(ps->a, s, t->len);
        return true;
    }
    if ((c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') && ps->end - ps->p > 1 &&
                                   ((ps->p[1] >= '0' && ps->p[1] <= '9') || ps->p[1] == '.'))) {
        const char *s = ps->p;
        bool real = false;
        if (*ps->p == '-' || *ps->p == '+')
            adv(ps, 1);
        if (ps->end - ps->p > 1 && ps->p[0] == '0' && (ps->p[1] == 'x' || ps->p[1] == 'X')) {
            adv(ps, 2);
            while (ps->p < ps->end && hexdig(*ps->p) >= 0)
                adv(ps, 1);
        } else {
            while (ps->p < ps->end && ((*ps->p >= '0' && *ps->p <= '9') || *ps->p == '.' ||
                                       *ps->p == 'e' || *ps->p == 'E' ||
                                       ((*ps->p == '-' || *ps->p == '+') &&
                                        (ps->p[-1] == 'e' || ps->p[-1] == 'E')))) {
                if (*ps->p == '.' || *ps->p == 'e' || *ps->p == 'E')
                    real = true;
                adv(ps, 1);
            }
        }
        t->len = (size_t)(ps->p - s);
        t->text = sc_strndup(ps->a, s, t->len);
        t->kind = real ? T_REAL : T_INT;
        if (ps->p < ps->end && is_id_char((unsigned char)*ps->p))
            return PERR(ps, "malformed number '%s'", t->text);
        return true;
    }
    if (strchr("[](){};:,=#", (int)c)) {
        t->kind = T_PUNCT;
        t->punct = (char)c;
        t->len = 1;
        adv(ps, 1);
        return true;
    }
    return PERR(ps, "unexpected character '%c'", c >= 0x20 && c < 0x7F ? c : '?');
}

static bool is_punct(const parser *ps, char c)
{
    return ps->t.kind == T_PUNCT && ps->t.punct == c;
}

static bool is_word(const parser *ps, const char *w)
{
    return ps->t.kind == T_IDENT && sc_streqi(ps->t.text, w);
}

static const char *tok_desc(parser *ps)
{
    switch (ps->t.kind) {
    case T_EOF: return "end of file";
    case T_IDENT: return sc_sprintf(ps->a, "'%s'", ps->t.text);
    case T_STRING: return "a string";
    case T_INT: case T_REAL: return sc_sprintf(ps->a, "'%s'", ps->t.text);
    case T_PUNCT: return sc_sprintf(ps->a, "'%c'", ps->t.punct);
    default: return "an error";
    }
}

static bool expect_punct(parser *ps, char c)
{
    if (!is_punct(ps, c))
        return PERR(ps, "expected '%c', found %s", c, tok_desc(ps));
    return next(ps);
}

/* ---- values -------------------------------------------------------------- */
static bool parse_scalar(parser *ps, cim_value *v)
{
    memset(v, 0, sizeof(*v));
    if (ps->t.kind == T_STRING) {
        *v = cim_str(CIM_T_STRING, ps->t.text);
    } else if (ps->t.kind == T_INT) {
        const char *s = ps->t.text;
        char *end;
        errno = 0;
        if (s[0] == '-') {
            long long x = strtoll(s, &end, 0);
            if (*end || errno)
                return PERR(ps, "integer '%s' out of range", s);
            *v = cim_i(CIM_T_SINT64, x);
        } else {
            unsigned long long x = strtoull(s[0] == '+' ? s + 1 : s, &end, 0);
            if (*end || errno)
                return PERR(ps, "integer '%s' out of range", s);
            *v = cim_u(CIM_T_UINT64, x);
        }
    } else if (ps->t.kind == T_REAL) {
        char *end;
        double d = strtod(ps->t.text, &end);
        if (*end)
            return PERR(ps, "malformed number '%s'", ps->t.text);
        v->type = CIM_T_REAL64;
        v->v.r = d;
    } else if (is_word(ps, "true") || is_word(ps, "false")) {
        *v = cim_bool(is_word(ps, "true"));
    } else if (is_word(ps, "null")) {
        *v = cim_null(CIM_T_NONE);
    } else {
        return PERR(ps, "expected a value, found %s", tok_desc(ps));
    }
    return next(ps);
}

/* value or { value, ... } */
static bool parse_init(parser *ps, cim_value *v, bool brace_array)
{
    if (brace_array && is_punct(ps, '{')) {
        if (!next(ps))
            return false;
        sc_vec items = {0};
        while (!is_punct(ps, '}')) {
            cim_value *e = sc_alloc(ps->a, sizeof(*e));
            if (!parse_scalar(ps, e)) {
                sc_vec_free(&items);
                return false;
            }
            sc_vec_push(&items, e);
            if (is_punct(ps, ',')) {
                if (!next(ps))
                    break;
            } else if (!is_punct(ps, '}')) {
                sc_vec_free(&items);
                return PERR(ps, "expected ',' or '}', found %s", tok_desc(ps));
            }
        }
        cim_value *el = sc_alloc_array(ps->a, items.len ? items.len : 1, sizeof(cim_value));
        cim_type t = CIM_T_STRING;
        for (size_t i = 0; i < items.len; i++) {
            el[i] = *(cim_value *)items.items[i];
            if (i == 0)
                t = el[i].type;
        }
        memset(v, 0, sizeof(*v));
        v->type = t;
        v->array = true;
        v->count = (uint32_t)items.len;
        v->v.elems = el;
        sc_vec_free(&items);
        return next(ps);
    }
    return parse_scalar(ps, v);
}

/* ---- qualifiers ---------------------------------------------------------- */
static bool parse_qualifiers(parser *ps, cim_qualifier **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!is_punct(ps, '['))
        return true;
    if (!next(ps))
        return false;
    sc_vec v = {0};
    for (;;) {
        if (ps->t.kind != T_IDENT) {
            sc_vec_free(&v);
            return PERR(ps, "expected a qualifier name, found %s", tok_desc(ps));
        }
        if (v.len == MOF_MAX_QUALIFIERS) {
            sc_vec_free(&v);
            return PERR(ps, "more than %d qualifiers in one list", MOF_MAX_QUALIFIERS);
        }
        cim_qualifier *q = sc_alloc(ps->a, sizeof(*q));
        q->name = ps->t.text;
        q->value = cim_bool(true);
        q->tosubclass = !sc_streqi(q->name, "Abstract");
        for (size_t i = 0; i < v.len; i++)
            if (sc_streqi(((cim_qualifier *)v.items[i])->name, q->name)) {
                sc_vec_free(&v);
                return PERR(ps, "qualifier %s given twice", q->name);
            }
        if (!next(ps))
            break;
        if (is_punct(ps, '(')) {
            if (!next(ps) || !parse_scalar(ps, &q->value) || !expect_punct(ps, ')'))
                break;
        } else if (is_punct(ps, '{')) {
            if (!parse_init(ps, &q->value, true))
                break;
        }
        if (is_punct(ps, ':')) {
            if (!next(ps))
                break;
            while (ps->t.kind == T_IDENT) {
                if (sc_streqi(ps->t.text, "Restricted"))
                    q->tosubclass = false;
                else if (sc_streqi(ps->t.text, "ToSubclass"))
                    q->tosubclass = true;
                else if (!is_word(ps, "Amended") && !is_word(ps, "DisableOverride") &&
                         !is_word(ps, "EnableOverride") && !is_word(ps, "Translatable") &&
                         !is_word(ps, "ToInstance"))
                    break;
                if (!next(ps))
                    break;
            }
        }
        sc_vec_push(&v, q);
        if (ps->failed)
            break;
        if (is_punct(ps, ',')) {
            if (!next(ps))
                break;
            continue;
        }
        if (is_punct(ps, ']'))
            break;
        sc_vec_free(&v);
        return PERR(ps, "expected ',' or ']' in a qualifier list, found %s", tok_desc(ps));
    }
    if (ps->failed) {
        sc_vec_free(&v);
        return false;
    }
    cim_qualifier *arr = sc_alloc_array(ps->a, v.len ? v.len : 1, sizeof(cim_qualifier));
    for (size_t i = 0; i < v.len; i++)
        arr[i] = *(cim_qualifier *)v.items[i];
    *out = arr;
    *n = v.len;
    sc_vec_free(&v);
    return next(ps); /* past ']' */
}

static const cim_qualifier *qual_find(const cim_qualifier *q, size_t n, const char *name)
{
    for (size_t i = 0; i < n; i++)
        if (sc_streqi(q[i].name, name))
            return &q[i];
    return NULL;
}

static bool qual_true(const cim_qualifier *q, size_t n, const char *name)
{
    const cim_qualifier *x = qual_find(q, n, name);
    return x && x->value.type == CIM_T_BOOLEAN && !x->value.null && x->value.v.b;
}

/* ---- types --------------------------------------------------------------- */
static const struct {
    const char *name;
    cim_type type;
} intrinsic[] = {
    {"boolean", CIM_T_BOOLEAN}, {"sint8", CIM_T_SINT8}, {"uint8", CIM_T_UINT8},
    {"sint16", CIM_T_SINT16}, {"uint16", CIM_T_UINT16}, {"sint32", CIM_T_SINT32},
    {"uint32", CIM_T_UINT32}, {"sint64", CIM_T_SINT64}, {"uint64", CIM_T_UINT64},
    {"real32", CIM_T_REAL32}, {"real64", CIM_T_REAL64}, {"char16", CIM_T_CHAR16},
    {"string", CIM_T_STRING}, {"datetime", CIM_T_DATETIME},
};

static cim_type intrinsic_type(const char *name)
{
    for (size_t i = 0; i < sizeof(intrinsic) / sizeof(intrinsic[0]); i++)
        if (sc_streqi(intrinsic[i].name, name))
            return intrinsic[i].type;
    return CIM_T_NONE;
}

/* Converts a parsed default value to the property's type. */
static bool coerce_default(parser *ps, cim_property *p, cim_value *v, unsigned l, unsigned c)
{
    if (v->null)
        return true;
    if (v->array != p->array)
        return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "default value of %s: %s", p->name,
                       p->array ? "expected an array" : "an array given for a scalar");
    uint32_t n = v->array ? v->count : 1;
    cim_value *el = v->array ? (cim_value *)v->v.elems : v;
    for (uint32_t i = 0; i < n; i++) {
        cim_value *e = &el[i];
        bool ok;
        if (cim_type_is_integer(p->type)) {
            ok = e->type == CIM_T_SINT64 || e->type == CIM_T_UINT64;
            if (ok && cim_type_is_unsigned(p->type) && e->type == CIM_T_SINT64)
                ok = false;
            if (ok && cim_type_is_signed(p->type) && e->type == CIM_T_UINT64 &&
                e->v.u > INT64_MAX)
                ok = false;
            if (ok && cim_type_is_signed(p->type) && e->type == CIM_T_UINT64)
                e->v.i = (int64_t)e->v.u;
        } else if (p->type == CIM_T_REAL32 || p->type == CIM_T_REAL64) {
            ok = e->type == CIM_T_REAL64 || e->type == CIM_T_UINT64 || e->type == CIM_T_SINT64;
            if (e->type == CIM_T_UINT64)
                e->v.r = (double)e->v.u;
            else if (e->type == CIM_T_SINT64)
                e->v.r = (double)e->v.i;
        } else if (p->type == CIM_T_BOOLEAN) {
            ok = e->type == CIM_T_BOOLEAN;
        } else {
            ok = e->type == CIM_T_STRING;
        }
        if (!ok)
            return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX,
                           "default value of %s does not fit its type %s", p->name,
                           cim_type_name(p->type));
        e->type = p->type;
    }
    v->type = p->type;
    return true;
}

/* ---- class declarations -------------------------------------------------- */
static bool parse_property(parser *ps, sc_vec *props, const cim_class *super)
{
    unsigned l = ps->t.line, c = ps->t.col;
    cim_qualifier *quals;
    size_t nquals;
    if (!parse_qualifiers(ps, &quals, &nquals))
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a property type, found %s", tok_desc(ps));
    cim_property *p = sc_alloc(ps->a, sizeof(*p));
    p->quals = quals;
    p->nquals = nquals;
    p->local = true;
    const char *tname = ps->t.text;
    unsigned tl = ps->t.line, tc = ps->t.col;
    if (!next(ps))
        return false;
    if (is_word(ps, "ref")) {
        p->type = CIM_T_REFERENCE;
        p->ref_class = tname;
        if (!next(ps))
            return false;
    } else {
        p->type = intrinsic_type(tname);
        if (p->type == CIM_T_NONE)
            return perr_at(ps, tl, tc, WBEM_E_INVALID_SYNTAX, "unknown type '%s'", tname);
    }
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a property name, found %s", tok_desc(ps));
    p->name = ps->t.text;
    if (!next(ps))
        return false;
    if (is_punct(ps, '('))
        return PERR(ps, "method declarations are not supported (%s)", p->name);
    if (is_punct(ps, '[')) {
        if (!next(ps))
            return false;
        if (ps->t.kind == T_INT && !next(ps))
            return false;
        if (!expect_punct(ps, ']'))
            return false;
        p->array = true;
    }
    p->defval = cim_null(p->type);
    if (is_punct(ps, '=')) {
        unsigned dl = ps->t.line, dc = ps->t.col;
        if (!next(ps) || !parse_init(ps, &p->defval, true) ||
            !coerce_default(ps, p, &p->defval, dl, dc))
            return false;
    }
    if (!expect_punct(ps, ';'))
        return false;
    for (size_t i = 0; i < props->len; i++) {
        cim_property *o = props->items[i];
        if (o->local && sc_streqi(o->name, p->name))
            return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "property %s declared twice",
                           p->name);
    }
    /* a redeclared inherited property replaces it in place */
    for (size_t i = 0; i < props->len; i++) {
        cim_property *o = props->items[i];
        if (sc_streqi(o->name, p->name)) {
            p->origin = o->origin;
            p->key = o->key || qual_true(quals, nquals, "Key");
            if (p->type == CIM_T_REFERENCE && o->type != CIM_T_REFERENCE)
                return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX,
                               "%s overrides a non-reference property with a reference", p->name);
            props->items[i] = p;
            return true;
        }
    }
    const cim_qualifier *ov = qual_find(quals, nquals, "Override");
    if (ov)
        return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX,
                       "%s has Override but %s", p->name,
                       super ? sc_sprintf(ps->a, "%s has no such property", super->name)
                             : "the class has no superclass");
    p->key = qual_true(quals, nquals, "Key");
    sc_vec_push(props, p);
    return true;
}

static bool parse_class(parser *ps, cim_qualifier *quals, size_t nquals, unsigned l)
{
    if (!next(ps)) /* past 'class' */
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a class name, found %s", tok_desc(ps));
    cim_class *cls = sc_alloc(ps->a, sizeof(*cls));
    cls->name = ps->t.text;
    cls->quals = quals;
    cls->nquals = nquals;
    cls->mof_file = ps->file;
    cls->mof_line = l;
    if (cim_schema_find(ps->schema, cls->name))
        return PERR(ps, "class %s is already declared", cls->name);
    if (!next(ps))
        return false;
    if (is_punct(ps, ':')) {
        if (!next(ps))
            return false;
        if (ps->t.kind != T_IDENT)
            return PERR(ps, "expected a superclass name, found %s", tok_desc(ps));
        cls->super = cim_schema_find(ps->schema, ps->t.text);
        if (!cls->super)
            return perr_at(ps, ps->t.line, ps->t.col, WBEM_E_INVALID_CLASS,
                           "superclass %s is not declared", ps->t.text);
        cls->super_name = cls->super->name;
        if (!next(ps))
            return false;
    }
    if (!expect_punct(ps, '{'))
        return false;
    sc_vec props = {0};
    if (cls->super) {
        for (size_t i = 0; i < cls->super->nprops; i++) {
            cim_property *p = sc_alloc(ps->a, sizeof(*p));
            *p = cls->super->props[i];
            p->local = false;
            sc_vec_push(&props, p);
        }
    }
    while (!is_punct(ps, '}')) {
        if (ps->t.kind == T_EOF) {
            sc_vec_free(&props);
            return PERR(ps, "unexpected end of file in class %s", cls->name);
        }
        if (props.len >= MOF_MAX_PROPERTIES) {
            sc_vec_free(&props);
            return PERR(ps, "more than %d properties in class %s", MOF_MAX_PROPERTIES, cls->name);
        }
        if (!parse_property(ps, &props, cls->super)) {
            sc_vec_free(&props);
            return false;
        }
    }
    if (!next(ps) || !expect_punct(ps, ';')) {
        sc_vec_free(&props);
        return false;
    }
    cim_property *arr = sc_alloc_array(ps->a, props.len ? props.len : 1, sizeof(cim_property));
    for (size_t i = 0; i < props.len; i++) {
        arr[i] = *(cim_property *)props.items[i];
        if (!arr[i].origin)
            arr[i].origin = cls->name;
        if (arr[i].key)
            cls->nkeys++;
    }
    cls->props = arr;
    cls->nprops = props.len;
    sc_vec_free(&props);
    cls->abstract = qual_true(quals, nquals, "Abstract");
    cls->association = qual_true(quals, nquals, "Association") ||
                       (cls->super && cls->super->association);
    cim_schema_add(ps->schema, cls);
    sc_vec_push(&ps->added, cls);
    return true;
}

static bool parse_pragma(parser *ps)
{
    if (!next(ps))
        return false;
    if (!is_word(ps, "pragma"))
        return PERR(ps, "expected 'pragma' after '#', found %s", tok_desc(ps));
    if (!next(ps))
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a pragma name, found %s", tok_desc(ps));
    if (!is_word(ps, "namespace") && !is_word(ps, "classflags") && !is_word(ps, "locale") &&
        !is_word(ps, "autorecover") && !is_word(ps, "include") && !is_word(ps, "instancelocale"))
        return PERR(ps, "unknown pragma '%s'", ps->t.text);
    if (is_word(ps, "include"))
        return PERR(ps, "#pragma include is not supported");
    if (!next(ps))
        return false;
    if (is_punct(ps, '(')) {
        if (!next(ps))
            return false;
        while (!is_punct(ps, ')')) {
            if (ps->t.kind == T_EOF)
                return PERR(ps, "unterminated #pragma");
            if (!next(ps))
                return false;
        }
        return next(ps);
    }
    return true;
}

/* qualifier Name : type [= value], scope(...), flavor(...); -- skipped */
static bool skip_qualifier_decl(parser *ps)
{
    int depth = 0;
    while (!(depth == 0 && is_punct(ps, ';'))) {
        if (ps->t.kind == T_EOF)
            return PERR(ps, "unterminated qualifier declaration");
        if (is_punct(ps, '(') || is_punct(ps, '{') || is_punct(ps, '['))
            depth++;
        if (is_punct(ps, ')') || is_punct(ps, '}') || is_punct(ps, ']'))
            depth--;
        if (!next(ps))
            return false;
    }
    return next(ps);
}

smbcim_status mof_parse(cim_schema *schema, const char *text, size_t len,
                        const char *filename, smbcim_error *err)
{
    parser ps = {0};
    ps.schema = schema;
    ps.a = schema->arena;
    ps.p = text;
    ps.end = text + len;
    ps.file = filename ? filename : "MOF";
    ps.line = 1;
    ps.col = 1;
    ps.err = err;
    next(&ps);
    while (!ps.failed && ps.t.kind != T_EOF) {
        unsigned l = ps.t.line;
        if (is_punct(&ps, '#')) {
            parse_pragma(&ps);
            continue;
        }
        if (is_word(&ps, "qualifier")) {
            skip_qualifier_decl(&ps);
            continue;
        }
        cim_qualifier *quals;
        size_t nquals;
        if (!parse_qualifiers(&ps, &quals, &nquals))
            break;
        if (is_word(&ps, "class")) {
            parse_class(&ps, quals, nquals, l);
        } else if (is_word(&ps, "instance")) {
            perr_at(&ps, ps.t.line, ps.t.col, WBEM_E_NOT_SUPPORTED,
                    "instance declarations are not supported");
        } else {
            PERR(&ps, "expected a class declaration, found %s", tok_desc(&ps));
        }
    }
    /* REF properties must name declared classes (forward use is fine). */
    for (size_t i = 0; !ps.failed && i < ps.added.len; i++) {
        cim_class *cls = ps.added.items[i];
        for (size_t p = 0; p < cls->nprops; p++) {
            const cim_property *pr = &cls->props[p];
            if (pr->local && pr->ref_class && !cim_schema_find(schema, pr->ref_class))
                perr_at(&ps, cls->mof_line, 1, WBEM_E_INVALID_CLASS,
                        "%s.%s refers to undeclared class %s", cls->name, pr->name,
                        pr->ref_class);
        }
    }
    sc_vec_free(&ps.added);
    return ps.failed ? (err && err->code ? err->code : WBEM_E_INVALID_SYNTAX) : WBEM_S_NO_ERROR;
}

/* ---- printing ------------------------------------------------------------ */
static void print_scalar(sc_buf *b, const cim_value *v)
{
    if (v->null) {
        sc_buf_puts(b, "NULL");
        return;
    }
    if (cim_type_is_stringlike(v->type))
        cim_append_quoted(b, v->v.s);
    else
        cim_value_append_text(b, v);
}

static void print_value(sc_buf *b, const cim_value *v)
{
    if (!v->null && v->array) {
        sc_buf_putc(b, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                sc_buf_puts(b, ", ");
            print_scalar(b, &v->v.elems[i]);
        }
        sc_buf_putc(b, '}');
        return;
    }
    print_scalar(b, v);
}

static void print_quals(sc_buf *b, const cim_qualifier *q, size_t n)
{
    if (!n)
        return;
    sc_buf_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            sc_buf_puts(b, ", ");
        sc_buf_puts(b, q[i].name);
        const cim_value *v = &q[i].value;
        if (v->type == CIM_T_BOOLEAN && !v->null && !v->array && v->v.b) {
            /* a flag qualifier */
        } else if (!v->null && v->array) {
            print_value(b, v);
        } else {
            sc_buf_putc(b, '(');
            print_value(b, v);
            sc_buf_putc(b, ')');
        }
        if (!q[i].tosubclass && !sc_streqi(q[i].name, "Abstract"))
            sc_buf_puts(b, " : Restricted");
    }
    sc_buf_putc(b, ']');
}

void mof_print_class(sc_buf *b, const cim_class *cls)
{
    if (cls->nquals) {
        print_quals(b, cls->quals, cls->nquals);
        sc_buf_putc(b, '\n');
    }
    sc_buf_printf(b, "class %s", cls->name);
    if (cls->super_name)
        sc_buf_printf(b, " : %s", cls->super_name);
    sc_buf_puts(b, "\n{\n");
    for (size_t i = 0; i < cls->nprops; i++) {
        const cim_property *p = &cls->props[i];
        if (!p->local)
            continue;
        sc_buf_putc(b, '\t');
        if (p->nquals) {
            print_quals(b, p->quals, p->nquals);
            sc_buf_putc(b, ' ');
        }
        if (p->type == CIM_T_REFERENCE)
            sc_buf_printf(b, "%s Ref %s", p->ref_class, p->name);
        else
            sc_buf_printf(b, "%s %s", cim_type_name(p->type), p->name);
        if (p->array)
            sc_buf_puts(b, "[]");
        if (!p->defval.null) {
            sc_buf_puts(b, " = ");
            print_value(b, &p->defval);
        }
        sc_buf_puts(b, ";\n");
    }
    sc_buf_puts(b, "};\n");
}

void mof_print_instance(sc_buf *b, const cim_instance *inst)
{
    sc_buf_printf(b, "instance of %s\n{\n", inst->cls->name);
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        const cim_value *v = &inst->values[i];
        if ((inst->present && !inst->present[i]) || v->null)
            continue;
        sc_buf_printf(b, "\t%s = ", inst->cls->props[i].name);
        print_value(b, v);
        sc_buf_puts(b, ";\n");
    }
    sc_buf_puts(b, "};\n");
}
