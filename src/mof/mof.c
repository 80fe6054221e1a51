/*
 * mof.c - MOF class declarations to cim_class (DSP0221 syntax as mofcomp
 * accepts it), and classes/instances back to MOF text.  A hand-written
 * lexer and recursive-descent parser; every error names FILE:LINE:COL.
 */
#include "mof/mof.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
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

/* Limits that keep the duplicate checks (linear scans) and the walks up
 * the superclasses cheap on hostile text: DSP0004 sets none, and CIM's
 * largest classes have a few hundred properties, a few dozen methods of a
 * dozen parameters, a dozen qualifiers per element and a dozen
 * superclasses.  Qualifier declarations are looked up in a hash map and
 * need no limit. */
#define MOF_MAX_QUALIFIERS 256
#define MOF_MAX_PROPERTIES 4096
#define MOF_MAX_METHODS 1024
#define MOF_MAX_PARAMETERS 256
#define MOF_MAX_DEPTH 256 /* classes in one inheritance chain */
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
        if (isinf(d))
            return PERR(ps, "real '%s' out of range", ps->t.text);
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
        if (ps->failed) {
            sc_vec_free(&items);
            return false;
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

/* Whether e (a parsed integer: sint64 or uint64) fits integer type t;
 * converts its representation to t's (v.u or v.i) when it does. */
static bool int_fits(cim_type t, cim_value *e)
{
    bool neg = e->type == CIM_T_SINT64 && e->v.i < 0;
    uint64_t mag = neg                         ? (uint64_t)(-(e->v.i + 1)) + 1
                   : e->type == CIM_T_SINT64 ? (uint64_t)e->v.i
                                             : e->v.u;
    uint64_t max;
    switch (t) {
    case CIM_T_UINT8: max = UINT8_MAX; break;
    case CIM_T_UINT16: max = UINT16_MAX; break;
    case CIM_T_UINT32: max = UINT32_MAX; break;
    case CIM_T_UINT64: max = UINT64_MAX; break;
    case CIM_T_SINT8: max = INT8_MAX; break;
    case CIM_T_SINT16: max = INT16_MAX; break;
    case CIM_T_SINT32: max = INT32_MAX; break;
    default: max = INT64_MAX; break;
    }
    if (cim_type_is_unsigned(t)) {
        if (neg || mag > max)
            return false;
        e->v.u = mag;
        return true;
    }
    if (neg ? mag > max + 1 : mag > max)
        return false;
    e->v.i = neg ? -(int64_t)(mag - 1) - 1 : (int64_t)mag;
    return true;
}

/* Converts a value as parsed (integers as sint64/uint64, reals as real64,
 * strings, booleans, NULL) to type t, an array of t when `array`: a scalar
 * becomes a one-element array when `wrap`.  `what` names the value in the
 * error, reported at l:c with `code`. */
static bool coerce(parser *ps, cim_type t, bool array, bool wrap, cim_value *v,
                   const char *what, unsigned l, unsigned c, smbcim_status code)
{
    if (v->null) {
        v->type = t;
        v->array = array;
        return true;
    }
    if (array && wrap && !v->array) {
        cim_value *one = sc_alloc(ps->a, sizeof(*one));
        *one = *v;
        memset(v, 0, sizeof(*v));
        v->type = one->type;
        v->array = true;
        v->count = 1;
        v->v.elems = one;
    }
    if (v->array != array)
        return perr_at(ps, l, c, code, "%s: %s", what,
                       array ? "expected an array" : "an array given for a scalar");
    uint32_t n = v->array ? v->count : 1;
    cim_value *el = v->array ? (cim_value *)v->v.elems : v;
    for (uint32_t i = 0; i < n; i++) {
        cim_value *e = &el[i];
        if (e->null) {
            e->type = t;
            continue;
        }
        bool ok;
        if (cim_type_is_integer(t)) {
            ok = (e->type == CIM_T_SINT64 || e->type == CIM_T_UINT64) && int_fits(t, e);
        } else if (t == CIM_T_REAL32 || t == CIM_T_REAL64) {
            ok = e->type == CIM_T_REAL64 || e->type == CIM_T_UINT64 || e->type == CIM_T_SINT64;
            if (e->type == CIM_T_UINT64)
                e->v.r = (double)e->v.u;
            else if (e->type == CIM_T_SINT64)
                e->v.r = (double)e->v.i;
        } else if (t == CIM_T_BOOLEAN) {
            ok = e->type == CIM_T_BOOLEAN;
        } else {
            ok = e->type == CIM_T_STRING;
        }
        if (!ok)
            return perr_at(ps, l, c, code, "%s does not fit its type %s", what, cim_type_name(t));
        e->type = t;
    }
    v->type = t;
    return true;
}

/* ---- qualifiers ---------------------------------------------------------- */
/* Qualifiers as parsed, with where each was written (for the checks that
 * can only be made once the qualified element is known). */
typedef struct qlist {
    cim_qualifier *q;
    unsigned *line, *col;
    size_t n;
} qlist;

static const char *const scope_words[] = {
    "class", "association", "indication", "property", "reference", "method", "parameter",
};
#define NSCOPES (sizeof(scope_words) / sizeof(scope_words[0]))

static const char *scope_text(parser *ps, unsigned scope)
{
    if ((scope & CIM_SCOPE_ANY) == CIM_SCOPE_ANY)
        return "any";
    sc_buf b;
    sc_buf_init(&b);
    for (size_t i = 0; i < NSCOPES; i++)
        if (scope & (1u << i))
            sc_buf_printf(&b, "%s%s", b.len ? ", " : "", scope_words[i]);
    char *s = sc_strdup(ps->a, b.data ? b.data : "");
    sc_buf_free(&b);
    return s;
}

/* Gives a parsed qualifier its type, value and flavors: those of its
 * declaration in a schema that declares qualifiers (where an undeclared
 * one is an error), else as written.  tosub/over/trans are the flavors the
 * use gave (-1: not given). */
static bool resolve_qualifier(parser *ps, cim_qualifier *q, bool has_value, unsigned ql,
                              unsigned qc, unsigned vl, unsigned vc, int tosub, int over,
                              int trans)
{
    const cim_qualifier_decl *d = cim_schema_find_qualdecl(ps->schema, q->name);
    if (!d && ps->schema->nqualdecls)
        return perr_at(ps, ql, qc, WBEM_E_INVALID_QUALIFIER, "qualifier %s is not declared",
                       q->name);
    q->decl = d;
    if (d) {
        if (!has_value) {
            q->value = d->type == CIM_T_BOOLEAN && !d->array ? cim_bool(true) : d->defval;
        } else if (!coerce(ps, d->type, d->array, true, &q->value,
                           sc_sprintf(ps->a, "the value of qualifier %s", q->name), vl, vc,
                           WBEM_E_INVALID_QUALIFIER)) {
            return false;
        }
        q->tosubclass = d->tosubclass;
        q->overridable = d->overridable;
        q->translatable = d->translatable;
    } else {
        if (!has_value)
            q->value = cim_bool(true);
        q->tosubclass = !sc_streqi(q->name, "Abstract");
        q->overridable = true;
        q->translatable = false;
    }
    if (tosub >= 0)
        q->tosubclass = tosub;
    if (over >= 0)
        q->overridable = over;
    if (trans >= 0)
        q->translatable = trans;
    return true;
}

static bool parse_qualifiers(parser *ps, qlist *out)
{
    memset(out, 0, sizeof(*out));
    if (!is_punct(ps, '['))
        return true;
    if (!next(ps))
        return false;
    typedef struct pq {
        cim_qualifier q;
        unsigned line, col;
    } pq;
    sc_vec v = {0};
    for (;;) {
        if (ps->t.kind != T_IDENT) {
            PERR(ps, "expected a qualifier name, found %s", tok_desc(ps));
            goto fail;
        }
        if (v.len == MOF_MAX_QUALIFIERS) {
            PERR(ps, "more than %d qualifiers in one list", MOF_MAX_QUALIFIERS);
            goto fail;
        }
        pq *x = sc_alloc(ps->a, sizeof(*x));
        x->q.name = ps->t.text;
        x->line = ps->t.line;
        x->col = ps->t.col;
        for (size_t i = 0; i < v.len; i++)
            if (sc_streqi(((pq *)v.items[i])->q.name, x->q.name)) {
                PERR(ps, "qualifier %s given twice", x->q.name);
                goto fail;
            }
        if (!next(ps))
            goto fail;
        bool has_value = false;
        unsigned vl = ps->t.line, vc = ps->t.col;
        if (is_punct(ps, '(')) {
            if (!next(ps))
                goto fail;
            vl = ps->t.line;
            vc = ps->t.col;
            if (!parse_scalar(ps, &x->q.value) || !expect_punct(ps, ')'))
                goto fail;
            has_value = true;
        } else if (is_punct(ps, '{')) {
            if (!parse_init(ps, &x->q.value, true))
                goto fail;
            has_value = true;
        }
        int tosub = -1, over = -1, trans = -1;
        if (is_punct(ps, ':')) {
            if (!next(ps))
                goto fail;
            while (ps->t.kind == T_IDENT) {
                if (is_word(ps, "Restricted") || is_word(ps, "NotToSubclass"))
                    tosub = 0;
                else if (is_word(ps, "ToSubclass"))
                    tosub = 1;
                else if (is_word(ps, "DisableOverride"))
                    over = 0;
                else if (is_word(ps, "EnableOverride"))
                    over = 1;
                else if (is_word(ps, "Translatable"))
                    trans = 1;
                else if (!is_word(ps, "Amended") && !is_word(ps, "ToInstance") &&
                         !is_word(ps, "NotToInstance"))
                    break;
                if (!next(ps))
                    goto fail;
            }
        }
        if (!resolve_qualifier(ps, &x->q, has_value, x->line, x->col, vl, vc, tosub, over,
                               trans))
            goto fail;
        sc_vec_push(&v, x);
        if (is_punct(ps, ',')) {
            if (!next(ps))
                goto fail;
            continue;
        }
        if (is_punct(ps, ']'))
            break;
        PERR(ps, "expected ',' or ']' in a qualifier list, found %s", tok_desc(ps));
        goto fail;
    }
    size_t n = v.len ? v.len : 1;
    out->q = sc_alloc_array(ps->a, n, sizeof(cim_qualifier));
    out->line = sc_alloc_array(ps->a, n, sizeof(unsigned));
    out->col = sc_alloc_array(ps->a, n, sizeof(unsigned));
    for (size_t i = 0; i < v.len; i++) {
        const pq *x = v.items[i];
        out->q[i] = x->q;
        out->line[i] = x->line;
        out->col[i] = x->col;
    }
    out->n = v.len;
    sc_vec_free(&v);
    return next(ps); /* past ']' */
fail:
    sc_vec_free(&v);
    return false;
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
    return x && x->value.type == CIM_T_BOOLEAN && !x->value.null && !x->value.array &&
           x->value.v.b;
}

/* The checks a declared qualifier's use gets once the element is known:
 * its scope, and EmbeddedInstance / EmbeddedObject only on strings
 * (DSP0004).  type is the element's (CIM_T_NONE for a class). */
static bool check_quals(parser *ps, const qlist *ql, unsigned scope, const char *kind,
                        cim_type type)
{
    for (size_t i = 0; i < ql->n; i++) {
        const cim_qualifier *q = &ql->q[i];
        if (!q->decl)
            continue;
        if (!(q->decl->scope & scope))
            return perr_at(ps, ql->line[i], ql->col[i], WBEM_E_INVALID_QUALIFIER,
                           "qualifier %s may not qualify a %s (its scope is %s)", q->name, kind,
                           scope_text(ps, q->decl->scope));
        bool embedded = sc_streqi(q->name, "EmbeddedInstance") ||
                        sc_streqi(q->name, "EmbeddedObject");
        bool set = !q->value.null && !(q->value.type == CIM_T_BOOLEAN && !q->value.array &&
                                       !q->value.v.b);
        if (embedded && set && type != CIM_T_STRING &&
            (scope & (CIM_SCOPE_PROPERTY | CIM_SCOPE_METHOD | CIM_SCOPE_PARAMETER)))
            return perr_at(ps, ql->line[i], ql->col[i], WBEM_E_INVALID_QUALIFIER,
                           "qualifier %s needs a string %s, not %s", q->name, kind,
                           cim_type_name(type));
    }
    return true;
}

/* A qualifier q, given at l:c on an element that overrides one which
 * propagates iq: DisableOverride forbids another value. */
static bool may_override(parser *ps, const cim_qualifier *q, const cim_qualifier *iq,
                         unsigned l, unsigned c, const char *where)
{
    if (!iq || !iq->tosubclass || iq->overridable || cim_value_equal(&q->value, &iq->value))
        return true;
    return perr_at(ps, l, c, WBEM_E_INVALID_QUALIFIER,
                   "qualifier %s of %s cannot be given another value: it is DisableOverride",
                   q->name, where);
}

/* ---- qualifier declarations ---------------------------------------------- */
/* Qualifier Name : type [[]] [= value], Scope(...) [, Flavor(...)] ; */
static bool parse_qualifier_decl(parser *ps)
{
    unsigned l = ps->t.line;
    if (!next(ps)) /* past 'qualifier' */
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a qualifier name, found %s", tok_desc(ps));
    cim_qualifier_decl *d = sc_alloc(ps->a, sizeof(*d));
    d->name = ps->t.text;
    d->mof_file = ps->file;
    d->mof_line = l;
    d->tosubclass = true;
    d->overridable = true;
    if (cim_schema_find_qualdecl(ps->schema, d->name))
        return PERR(ps, "qualifier %s is already declared", d->name);
    if (!next(ps) || !expect_punct(ps, ':'))
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected the type of qualifier %s, found %s", d->name, tok_desc(ps));
    d->type = intrinsic_type(ps->t.text);
    if (d->type == CIM_T_NONE)
        return PERR(ps, "qualifier %s: '%s' is not a CIM type (a declaration gives the type: "
                        "Qualifier Name : type, Scope(...))", d->name, ps->t.text);
    if (!next(ps))
        return false;
    if (is_punct(ps, '[')) {
        if (!next(ps))
            return false;
        if (ps->t.kind == T_INT && !next(ps))
            return false;
        if (!expect_punct(ps, ']'))
            return false;
        d->array = true;
    }
    d->defval = cim_null(d->type);
    d->defval.array = d->array;
    if (is_punct(ps, '=')) {
        if (!next(ps))
            return false;
        unsigned vl = ps->t.line, vc = ps->t.col;
        if (!parse_init(ps, &d->defval, true) ||
            !coerce(ps, d->type, d->array, false, &d->defval,
                    sc_sprintf(ps->a, "the default value of qualifier %s", d->name), vl, vc,
                    WBEM_E_INVALID_SYNTAX))
            return false;
    }
    if (!expect_punct(ps, ','))
        return false;
    if (!is_word(ps, "scope"))
        return PERR(ps, "expected Scope(...) in the declaration of qualifier %s, found %s",
                    d->name, tok_desc(ps));
    if (!next(ps) || !expect_punct(ps, '('))
        return false;
    for (;;) {
        if (ps->t.kind != T_IDENT)
            return PERR(ps, "expected a scope, found %s", tok_desc(ps));
        if (is_word(ps, "any")) {
            d->scope |= CIM_SCOPE_ANY;
        } else if (!is_word(ps, "qualifier")) { /* DSP0221 lists it; nothing to qualify here */
            size_t i = 0;
            while (i < NSCOPES && !is_word(ps, scope_words[i]))
                i++;
            if (i == NSCOPES)
                return PERR(ps, "unknown scope '%s'", ps->t.text);
            d->scope |= 1u << i;
        }
        if (!next(ps))
            return false;
        if (is_punct(ps, ')'))
            break;
        if (!expect_punct(ps, ','))
            return false;
    }
    if (!next(ps))
        return false;
    if (is_punct(ps, ',')) {
        if (!next(ps))
            return false;
        if (!is_word(ps, "flavor"))
            return PERR(ps, "expected Flavor(...), found %s", tok_desc(ps));
        if (!next(ps) || !expect_punct(ps, '('))
            return false;
        for (;;) {
            if (is_word(ps, "EnableOverride"))
                d->overridable = true;
            else if (is_word(ps, "DisableOverride"))
                d->overridable = false;
            else if (is_word(ps, "ToSubclass"))
                d->tosubclass = true;
            else if (is_word(ps, "Restricted"))
                d->tosubclass = false;
            else if (is_word(ps, "Translatable"))
                d->translatable = true;
            else if (!is_word(ps, "ToInstance")) /* DSP0004 2.x, deprecated: no effect */
                return PERR(ps, "unknown flavor %s", tok_desc(ps));
            if (!next(ps))
                return false;
            if (is_punct(ps, ')'))
                break;
            if (!expect_punct(ps, ','))
                return false;
        }
        if (!next(ps))
            return false;
    }
    if (!expect_punct(ps, ';'))
        return false;
    cim_schema_add_qualdecl(ps->schema, d);
    return true;
}

/* ---- class declarations -------------------------------------------------- */
static const char *scope_kind(unsigned scope)
{
    for (size_t i = 0; i < NSCOPES; i++)
        if (scope == 1u << i)
            return scope_words[i];
    return "element";
}

static bool read_array_suffix(parser *ps, bool *array)
{
    *array = false;
    if (!is_punct(ps, '['))
        return true;
    if (!next(ps))
        return false;
    if (ps->t.kind == T_INT && !next(ps))
        return false;
    if (!expect_punct(ps, ']'))
        return false;
    *array = true;
    return true;
}

/* type Name(params);  after '(' was seen.  l:c is where the declaration
 * (its qualifier list) starts. */
static bool parse_method(parser *ps, cim_class *cls, sc_vec *methods, const qlist *ql,
                         cim_type rtype, const char *name, unsigned l, unsigned c)
{
    if (!next(ps)) /* past '(' */
        return false;
    cim_method_decl *m = sc_alloc(ps->a, sizeof(*m));
    m->name = name;
    m->type = rtype;
    m->quals = ql->q;
    m->nquals = ql->n;
    m->local = true;
    sc_vec params = {0};
    while (!is_punct(ps, ')')) {
        if (params.len == MOF_MAX_PARAMETERS) {
            PERR(ps, "more than %d parameters in method %s", MOF_MAX_PARAMETERS, name);
            goto fail;
        }
        unsigned pl = ps->t.line, pc = ps->t.col;
        qlist pq;
        if (!parse_qualifiers(ps, &pq))
            goto fail;
        if (ps->t.kind != T_IDENT) {
            PERR(ps, "expected a parameter type, found %s", tok_desc(ps));
            goto fail;
        }
        cim_parameter *pa = sc_alloc(ps->a, sizeof(*pa));
        const char *tname = ps->t.text;
        unsigned tl = ps->t.line, tc = ps->t.col;
        if (!next(ps))
            goto fail;
        if (is_word(ps, "ref")) {
            pa->type = CIM_T_REFERENCE;
            pa->ref_class = tname;
            if (!next(ps))
                goto fail;
        } else {
            pa->type = intrinsic_type(tname);
            if (pa->type == CIM_T_NONE) {
                perr_at(ps, tl, tc, WBEM_E_INVALID_SYNTAX,
                        "unknown type '%s' (an embedded object is declared "
                        "[EmbeddedInstance(\"%s\")] string Name)", tname, tname);
                goto fail;
            }
        }
        if (ps->t.kind != T_IDENT) {
            PERR(ps, "expected a parameter name, found %s", tok_desc(ps));
            goto fail;
        }
        pa->name = ps->t.text;
        if (!next(ps) || !read_array_suffix(ps, &pa->array))
            goto fail;
        if (is_punct(ps, '=')) {
            PERR(ps, "parameter %s: default values of parameters are not supported", pa->name);
            goto fail;
        }
        for (size_t i = 0; i < params.len; i++)
            if (sc_streqi(((cim_parameter *)params.items[i])->name, pa->name)) {
                perr_at(ps, pl, pc, WBEM_E_INVALID_SYNTAX, "parameter %s of %s declared twice",
                        pa->name, name);
                goto fail;
            }
        pa->quals = pq.q;
        pa->nquals = pq.n;
        if (!check_quals(ps, &pq, CIM_SCOPE_PARAMETER, "parameter", pa->type))
            goto fail;
        sc_vec_push(&params, pa);
        if (is_punct(ps, ',')) {
            if (!next(ps))
                goto fail;
            if (is_punct(ps, ')')) {
                PERR(ps, "expected a parameter after ',', found ')'");
                goto fail;
            }
        } else if (!is_punct(ps, ')')) {
            PERR(ps, "expected ',' or ')' in the parameters of %s, found %s", name, tok_desc(ps));
            goto fail;
        }
    }
    if (ps->failed || !next(ps) || !expect_punct(ps, ';'))
        goto fail;
    cim_parameter *arr = sc_alloc_array(ps->a, params.len ? params.len : 1, sizeof(*arr));
    for (size_t i = 0; i < params.len; i++)
        arr[i] = *(cim_parameter *)params.items[i];
    m->params = arr;
    m->nparams = params.len;
    sc_vec_free(&params);
    if (!check_quals(ps, ql, CIM_SCOPE_METHOD, "method", rtype))
        return false;
    for (size_t i = 0; i < methods->len; i++) {
        cim_method_decl *o = methods->items[i];
        if (o->local && sc_streqi(o->name, m->name))
            return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "method %s declared twice", m->name);
    }
    /* a redeclared inherited method replaces it in place */
    for (size_t i = 0; i < methods->len; i++) {
        cim_method_decl *o = methods->items[i];
        if (!sc_streqi(o->name, m->name))
            continue;
        m->origin = o->origin;
        int si = cim_class_method_index(cls->super, m->name);
        for (size_t k = 0; si >= 0 && k < ql->n; k++)
            if (!may_override(ps, &ql->q[k],
                              cim_method_qualifier(cls->super, (size_t)si, ql->q[k].name),
                              ql->line[k], ql->col[k],
                              sc_sprintf(ps->a, "%s.%s", cls->name, m->name)))
                return false;
        methods->items[i] = m;
        return true;
    }
    if (qual_find(ql->q, ql->n, "Override"))
        return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "%s has Override but %s", m->name,
                       cls->super ? sc_sprintf(ps->a, "%s has no such method", cls->super->name)
                                  : "the class has no superclass");
    if (methods->len >= MOF_MAX_METHODS)
        return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX, "more than %d methods in class %s",
                       MOF_MAX_METHODS, cls->name);
    sc_vec_push(methods, m);
    return true;
fail:
    sc_vec_free(&params);
    return false;
}

/* A property or a method declaration. */
static bool parse_feature(parser *ps, cim_class *cls, sc_vec *props, sc_vec *methods)
{
    unsigned l = ps->t.line, c = ps->t.col;
    const cim_class *super = cls->super;
    qlist ql;
    if (!parse_qualifiers(ps, &ql))
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a property type, found %s", tok_desc(ps));
    cim_property *p = sc_alloc(ps->a, sizeof(*p));
    p->quals = ql.q;
    p->nquals = ql.n;
    p->local = true;
    const char *tname = ps->t.text;
    unsigned tl = ps->t.line, tc = ps->t.col;
    bool is_void = sc_streqi(tname, "void");
    if (!next(ps))
        return false;
    if (is_word(ps, "ref")) {
        p->type = CIM_T_REFERENCE;
        p->ref_class = tname;
        if (!next(ps))
            return false;
    } else {
        p->type = intrinsic_type(tname);
        if (p->type == CIM_T_NONE && !is_void)
            return perr_at(ps, tl, tc, WBEM_E_INVALID_SYNTAX, "unknown type '%s'", tname);
    }
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a property name, found %s", tok_desc(ps));
    p->name = ps->t.text;
    if (!next(ps))
        return false;
    if (is_punct(ps, '(')) {
        if (p->type == CIM_T_REFERENCE)
            return perr_at(ps, tl, tc, WBEM_E_INVALID_SYNTAX,
                           "method %s cannot return a reference", p->name);
        return parse_method(ps, cls, methods, &ql, p->type, p->name, l, c);
    }
    if (is_void)
        return perr_at(ps, tl, tc, WBEM_E_INVALID_SYNTAX,
                       "unknown type 'void' (only a method returns void)");
    if (!read_array_suffix(ps, &p->array))
        return false;
    p->defval = cim_null(p->type);
    if (is_punct(ps, '=')) {
        unsigned dl = ps->t.line, dc = ps->t.col;
        if (!next(ps) || !parse_init(ps, &p->defval, true) ||
            !coerce(ps, p->type == CIM_T_REFERENCE ? CIM_T_STRING : p->type, p->array, false,
                    &p->defval, sc_sprintf(ps->a, "default value of %s", p->name), dl, dc,
                    WBEM_E_INVALID_SYNTAX))
            return false;
        p->defval.type = p->type;
    }
    if (!expect_punct(ps, ';'))
        return false;
    bool ref = p->type == CIM_T_REFERENCE;
    if (!check_quals(ps, &ql, ref ? CIM_SCOPE_REFERENCE : CIM_SCOPE_PROPERTY,
                     ref ? "reference" : "property", p->type))
        return false;
    if (ref && ps->schema->nqualdecls && !qual_true(cls->quals, cls->nquals, "Association"))
        return perr_at(ps, tl, tc, WBEM_E_INVALID_QUALIFIER,
                       "%s.%s is a reference but %s does not declare the Association "
                       "qualifier (DSP0004: only an association holds references)",
                       cls->name, p->name, cls->name);
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
            p->key = o->key || qual_true(ql.q, ql.n, "Key");
            if (p->type == CIM_T_REFERENCE && o->type != CIM_T_REFERENCE)
                return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX,
                               "%s overrides a non-reference property with a reference", p->name);
            int si = cim_class_prop_index(super, p->name);
            for (size_t k = 0; si >= 0 && k < ql.n; k++)
                if (!may_override(ps, &ql.q[k],
                                  cim_property_qualifier(super, (size_t)si, ql.q[k].name),
                                  ql.line[k], ql.col[k],
                                  sc_sprintf(ps->a, "%s.%s", cls->name, p->name)))
                    return false;
            props->items[i] = p;
            return true;
        }
    }
    const cim_qualifier *ov = qual_find(ql.q, ql.n, "Override");
    if (ov)
        return perr_at(ps, l, c, WBEM_E_INVALID_SYNTAX,
                       "%s has Override but %s", p->name,
                       super ? sc_sprintf(ps->a, "%s has no such property", super->name)
                             : "the class has no superclass");
    p->key = qual_true(ql.q, ql.n, "Key");
    sc_vec_push(props, p);
    return true;
}

static bool parse_class(parser *ps, const qlist *ql, unsigned l)
{
    if (!next(ps)) /* past 'class' */
        return false;
    if (ps->t.kind != T_IDENT)
        return PERR(ps, "expected a class name, found %s", tok_desc(ps));
    cim_class *cls = sc_alloc(ps->a, sizeof(*cls));
    cls->name = ps->t.text;
    cls->quals = ql->q;
    cls->nquals = ql->n;
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
        size_t depth = 1; /* classes in the chain, this one included */
        for (const cim_class *c = cls->super; c; c = c->super)
            depth++;
        if (depth > MOF_MAX_DEPTH)
            return PERR(ps, "class %s: an inheritance chain of more than %d classes", cls->name,
                        MOF_MAX_DEPTH);
        if (!next(ps))
            return false;
    }
    cls->abstract = qual_true(ql->q, ql->n, "Abstract");
    cls->association = qual_true(ql->q, ql->n, "Association") ||
                       (cls->super && cls->super->association);
    unsigned scope = cls->association ? CIM_SCOPE_ASSOCIATION
                     : qual_true(ql->q, ql->n, "Indication") ? CIM_SCOPE_INDICATION
                                                              : CIM_SCOPE_CLASS;
    if (!check_quals(ps, ql, scope, scope_kind(scope), CIM_T_NONE))
        return false;
    for (size_t k = 0; cls->super && k < ql->n; k++)
        if (!may_override(ps, &ql->q[k], cim_class_qualifier(cls->super, ql->q[k].name),
                          ql->line[k], ql->col[k], cls->name))
            return false;
    if (!expect_punct(ps, '{'))
        return false;
    sc_vec props = {0}, methods = {0};
    if (cls->super) {
        for (size_t i = 0; i < cls->super->nprops; i++) {
            cim_property *p = sc_alloc(ps->a, sizeof(*p));
            *p = cls->super->props[i];
            p->local = false;
            sc_vec_push(&props, p);
        }
        for (size_t i = 0; i < cls->super->nmethods; i++) {
            cim_method_decl *m = sc_alloc(ps->a, sizeof(*m));
            *m = cls->super->methods[i];
            m->local = false;
            sc_vec_push(&methods, m);
        }
    }
    while (!is_punct(ps, '}')) {
        if (ps->t.kind == T_EOF) {
            PERR(ps, "unexpected end of file in class %s", cls->name);
            goto fail;
        }
        if (props.len >= MOF_MAX_PROPERTIES) {
            PERR(ps, "more than %d properties in class %s", MOF_MAX_PROPERTIES, cls->name);
            goto fail;
        }
        if (!parse_feature(ps, cls, &props, &methods))
            goto fail;
    }
    if (!next(ps) || !expect_punct(ps, ';'))
        goto fail;
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
    cim_method_decl *marr =
        sc_alloc_array(ps->a, methods.len ? methods.len : 1, sizeof(cim_method_decl));
    for (size_t i = 0; i < methods.len; i++) {
        marr[i] = *(cim_method_decl *)methods.items[i];
        if (!marr[i].origin)
            marr[i].origin = cls->name;
    }
    cls->methods = marr;
    cls->nmethods = methods.len;
    sc_vec_free(&props);
    sc_vec_free(&methods);
    cim_schema_add(ps->schema, cls);
    sc_vec_push(&ps->added, cls);
    return true;
fail:
    sc_vec_free(&props);
    sc_vec_free(&methods);
    return false;
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

/* DSP0004: EmbeddedInstance names a class of the namespace.  Checked for
 * declared qualifiers only (mofcomp's MOF does not know the rule). */
static void embedded_class_declared(parser *ps, const cim_class *cls, const cim_qualifier *q,
                                    size_t n, const char *what)
{
    const cim_qualifier *e = qual_find(q, n, "EmbeddedInstance");
    if (e && e->decl && !e->value.null && !e->value.array &&
        cim_type_is_stringlike(e->value.type) && !cim_schema_find(ps->schema, e->value.v.s))
        perr_at(ps, cls->mof_line, 1, WBEM_E_INVALID_CLASS,
                "%s: EmbeddedInstance names undeclared class %s", what, e->value.v.s);
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
            parse_qualifier_decl(&ps);
            continue;
        }
        qlist ql;
        if (!parse_qualifiers(&ps, &ql))
            break;
        if (is_word(&ps, "class")) {
            parse_class(&ps, &ql, l);
        } else if (is_word(&ps, "instance")) {
            perr_at(&ps, ps.t.line, ps.t.col, WBEM_E_NOT_SUPPORTED,
                    "instance declarations are not supported");
        } else {
            PERR(&ps, "expected a class declaration, found %s", tok_desc(&ps));
        }
    }
    /* REF properties and parameters, and (declared) EmbeddedInstance
     * qualifiers, must name declared classes (forward use is fine). */
    for (size_t i = 0; !ps.failed && i < ps.added.len; i++) {
        cim_class *cls = ps.added.items[i];
        for (size_t p = 0; !ps.failed && p < cls->nprops; p++) {
            const cim_property *pr = &cls->props[p];
            if (!pr->local)
                continue;
            if (pr->ref_class && !cim_schema_find(schema, pr->ref_class))
                perr_at(&ps, cls->mof_line, 1, WBEM_E_INVALID_CLASS,
                        "%s.%s refers to undeclared class %s", cls->name, pr->name,
                        pr->ref_class);
            embedded_class_declared(&ps, cls, pr->quals, pr->nquals,
                                    sc_sprintf(ps.a, "%s.%s", cls->name, pr->name));
        }
        for (size_t m = 0; !ps.failed && m < cls->nmethods; m++) {
            const cim_method_decl *me = &cls->methods[m];
            if (!me->local)
                continue;
            embedded_class_declared(&ps, cls, me->quals, me->nquals,
                                    sc_sprintf(ps.a, "%s.%s", cls->name, me->name));
            for (size_t k = 0; !ps.failed && k < me->nparams; k++) {
                const cim_parameter *pa = &me->params[k];
                if (pa->ref_class && !cim_schema_find(schema, pa->ref_class))
                    perr_at(&ps, cls->mof_line, 1, WBEM_E_INVALID_CLASS,
                            "parameter %s of %s.%s refers to undeclared class %s",
                            pa->name, cls->name, me->name, pa->ref_class);
                embedded_class_declared(&ps, cls, pa->quals, pa->nquals,
                                        sc_sprintf(ps.a, "parameter %s of %s.%s", pa->name,
                                                   cls->name, me->name));
            }
        }
    }
    sc_vec_free(&ps.added);
    return ps.failed ? (err && err->code ? err->code : WBEM_E_INVALID_SYNTAX) : WBEM_S_NO_ERROR;
}

/* ---- printing ------------------------------------------------------------ */
/* A string as a MOF literal that reads back as the same string: \ and "
 * escaped, control characters as C escapes or \xHH. */
static void print_string(sc_buf *b, const char *s)
{
    sc_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '\\': sc_buf_puts(b, "\\\\"); break;
        case '"': sc_buf_puts(b, "\\\""); break;
        case '\n': sc_buf_puts(b, "\\n"); break;
        case '\t': sc_buf_puts(b, "\\t"); break;
        case '\r': sc_buf_puts(b, "\\r"); break;
        case '\b': sc_buf_puts(b, "\\b"); break;
        case '\f': sc_buf_puts(b, "\\f"); break;
        default:
            if (*p < 0x20 || *p == 0x7F)
                sc_buf_printf(b, "\\x%04X", *p); /* 4 digits: a hex digit may follow */
            else
                sc_buf_putc(b, (char)*p);
        }
    }
    sc_buf_putc(b, '"');
}

/* exact: text that reads back as the same value (class declarations);
 * otherwise strings and numbers as GetObjectText shows them (instances). */
static void print_scalar(sc_buf *b, const cim_value *v, bool exact)
{
    if (v->null) {
        sc_buf_puts(b, "NULL");
        return;
    }
    if (!exact) {
        if (cim_type_is_stringlike(v->type))
            cim_append_quoted(b, v->v.s);
        else
            cim_value_append_text(b, v);
        return;
    }
    if (cim_type_is_stringlike(v->type)) {
        print_string(b, v->v.s);
    } else if (v->type == CIM_T_REAL32 || v->type == CIM_T_REAL64) {
        /* always with a '.' or an exponent, so that it reads back as a real */
        char t[64];
        snprintf(t, sizeof t, "%.17g", v->v.r);
        sc_buf_puts(b, t);
        if (!strpbrk(t, ".eEn"))
            sc_buf_puts(b, ".0");
    } else {
        cim_value_append_text(b, v);
    }
}

static void print_value_as(sc_buf *b, const cim_value *v, bool exact)
{
    if (!v->null && v->array) {
        sc_buf_putc(b, '{');
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                sc_buf_puts(b, ", ");
            print_scalar(b, &v->v.elems[i], exact);
        }
        sc_buf_putc(b, '}');
        return;
    }
    print_scalar(b, v, exact);
}

static void print_value(sc_buf *b, const cim_value *v)
{
    print_value_as(b, v, true);
}

/* The flavors a qualifier gets when its use gives none: its declaration's,
 * or (undeclared) DSP0004's defaults with Abstract restricted. */
static void default_flavors(const cim_qualifier *q, bool *tosub, bool *over, bool *trans)
{
    if (q->decl) {
        *tosub = q->decl->tosubclass;
        *over = q->decl->overridable;
        *trans = q->decl->translatable;
    } else {
        *tosub = !sc_streqi(q->name, "Abstract");
        *over = true;
        *trans = false;
    }
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
        /* the flavors that differ from those the declaration gives */
        bool tosub, over, trans;
        default_flavors(&q[i], &tosub, &over, &trans);
        const char *sep = " : ";
        if (q[i].tosubclass != tosub) {
            sc_buf_printf(b, "%s%s", sep, q[i].tosubclass ? "ToSubclass" : "Restricted");
            sep = " ";
        }
        if (q[i].overridable != over) {
            sc_buf_printf(b, "%s%s", sep, q[i].overridable ? "EnableOverride" : "DisableOverride");
            sep = " ";
        }
        if (q[i].translatable && !trans)
            sc_buf_printf(b, "%sTranslatable", sep);
    }
    sc_buf_putc(b, ']');
}

/* "[quals] type name[]" or "[quals] Class Ref name": a property's or a
 * parameter's declaration without what follows it. */
static void print_decl(sc_buf *b, const cim_qualifier *quals, size_t nquals, cim_type type,
                       const char *ref_class, const char *name, bool array)
{
    if (nquals) {
        print_quals(b, quals, nquals);
        sc_buf_putc(b, ' ');
    }
    if (type == CIM_T_REFERENCE)
        sc_buf_printf(b, "%s Ref %s", ref_class, name);
    else
        sc_buf_printf(b, "%s %s", cim_type_name(type), name);
    if (array)
        sc_buf_puts(b, "[]");
}

static void print_param(sc_buf *b, const cim_parameter *p)
{
    print_decl(b, p->quals, p->nquals, p->type, p->ref_class, p->name, p->array);
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
        print_decl(b, p->quals, p->nquals, p->type, p->ref_class, p->name, p->array);
        if (!p->defval.null) {
            sc_buf_puts(b, " = ");
            print_value(b, &p->defval);
        }
        sc_buf_puts(b, ";\n");
    }
    for (size_t i = 0; i < cls->nmethods; i++) {
        const cim_method_decl *m = &cls->methods[i];
        if (!m->local)
            continue;
        sc_buf_putc(b, '\t');
        if (m->nquals) {
            print_quals(b, m->quals, m->nquals);
            sc_buf_putc(b, ' ');
        }
        sc_buf_printf(b, "%s %s(", m->type == CIM_T_NONE ? "void" : cim_type_name(m->type),
                      m->name);
        for (size_t k = 0; k < m->nparams; k++) {
            sc_buf_puts(b, k ? ",\n\t\t" : "\n\t\t");
            print_param(b, &m->params[k]);
        }
        sc_buf_puts(b, ");\n");
    }
    sc_buf_puts(b, "};\n");
}

void mof_print_qualifier_decl(sc_buf *b, const cim_qualifier_decl *d)
{
    sc_buf_printf(b, "Qualifier %s : %s%s", d->name, cim_type_name(d->type),
                  d->array ? "[]" : "");
    if (!d->defval.null) {
        sc_buf_puts(b, " = ");
        print_value(b, &d->defval);
    }
    sc_buf_puts(b, ",\n    Scope(");
    if ((d->scope & CIM_SCOPE_ANY) == CIM_SCOPE_ANY) {
        sc_buf_puts(b, "any");
    } else {
        const char *sep = "";
        for (size_t i = 0; i < NSCOPES; i++)
            if (d->scope & (1u << i)) {
                sc_buf_printf(b, "%s%s", sep, scope_words[i]);
                sep = ", ";
            }
    }
    sc_buf_printf(b, "),\n    Flavor(%s, %s%s);\n",
                  d->overridable ? "EnableOverride" : "DisableOverride",
                  d->tosubclass ? "ToSubclass" : "Restricted",
                  d->translatable ? ", Translatable" : "");
}

/* Embedded objects nest (an __AggregateEvent's Representative holds an
 * event that holds its TargetInstance): deeper ones print as NULL. */
#define MOF_MAX_EMBED 8

static void print_instance_at(sc_buf *b, const cim_instance *inst, int depth)
{
    sc_buf_printf(b, "instance of %s\n", inst->cls->name);
    for (int d = 0; d < depth; d++)
        sc_buf_putc(b, '\t');
    sc_buf_puts(b, "{\n");
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        const cim_value *v = &inst->values[i];
        if ((inst->present && !inst->present[i]) || v->null)
            continue;
        for (int d = 0; d <= depth; d++)
            sc_buf_putc(b, '\t');
        sc_buf_printf(b, "%s = ", inst->cls->props[i].name);
        if (v->type == CIM_T_INSTANCE && !v->array) {
            /* an embedded object (an event's TargetInstance), nested */
            if (v->v.o && depth + 1 < MOF_MAX_EMBED)
                print_instance_at(b, v->v.o, depth + 1);
            else
                sc_buf_puts(b, "NULL;\n");
            continue;
        }
        print_value_as(b, v, false);
        sc_buf_puts(b, ";\n");
    }
    for (int d = 0; d < depth; d++)
        sc_buf_putc(b, '\t');
    sc_buf_puts(b, "};\n");
}

void mof_print_instance(sc_buf *b, const cim_instance *inst)
{
    print_instance_at(b, inst, 0);
}
