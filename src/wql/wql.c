/*
 * wql.c - WQL: tokenizer, recursive-descent parser, WHERE evaluator and
 * LIKE matcher.  Pure and reentrant: the tree lives in the caller's arena.
 * Grammar and semantics: docs/wql.md.
 */
#include "wql/wql.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Limits (docs/wql.md): nesting of parentheses and NOT, the length of a
 * query, the comparisons in a WHERE and the names in a SELECT list.  Over
 * the last three WMI's own answer is WBEM_E_QUOTA_VIOLATION ("there are
 * limits to the number of AND and OR keywords"). */
#define WQL_MAX_DEPTH 200
#define WQL_MAX_LENGTH 65536
#define WQL_MAX_CONDITIONS 1000
#define WQL_MAX_PROPS 1000

typedef enum tk {
    TK_EOF, TK_IDENT, TK_STRING, TK_INT, TK_REAL, TK_OP, TK_LPAREN, TK_RPAREN,
    TK_COMMA, TK_STAR, TK_PATH, TK_DOT,
} tk;

typedef struct token {
    tk kind;
    const char *start;
    size_t len;
    size_t col;          /* 1-based */
    size_t inner_col;    /* TK_PATH: column of the first character inside the braces */
    char *text;          /* ident / decoded string / path / op */
} token;

typedef struct wparser {
    sc_arena *a;
    const char *text;
    const char *p;
    token t;
    smbcim_error *err;
    bool failed;
    int depth;
    size_t nconds;       /* comparisons so far (WQL_MAX_CONDITIONS) */
    bool event;          /* an event query (wql_parse_event): dotted names,
                          * WITHIN, GROUP; syntax errors are UNPARSABLE */
    const char *col_p;   /* col_of's last answer: col_n is the column of col_p */
    size_t col_n;
} wparser;

/* Lists and text grown in the parser's arena.  Everything a parse
 * allocates, its temporaries included, is in the caller's arena, so that
 * memory running out in the middle of one (an sc_oom_call unwinding) loses
 * nothing that freeing the arena does not free.  Room that is outgrown is
 * left in the arena: at most as much again (a query is at most
 * WQL_MAX_LENGTH bytes, its lists at most WQL_MAX_PROPS or
 * WQL_MAX_CONDITIONS long). */
typedef struct alist {
    void **items;
    size_t len, cap;
} alist;

static void alist_push(sc_arena *a, alist *l, void *item)
{
    if (l->len == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        void **items = sc_alloc_array(a, cap, sizeof(void *));
        if (l->len)
            memcpy(items, l->items, l->len * sizeof(void *));
        l->items = items;
        l->cap = cap;
    }
    l->items[l->len++] = item;
}

typedef struct atext {
    char *data; /* NUL-terminated */
    size_t len, cap;
} atext;

static void atext_puts(sc_arena *a, atext *t, const char *s)
{
    size_t n = strlen(s);
    if (t->len + n + 1 > t->cap) {
        size_t cap = t->cap ? t->cap : 64;
        while (cap < t->len + n + 1)
            cap *= 2;
        char *d = sc_alloc(a, cap);
        if (t->len)
            memcpy(d, t->data, t->len);
        t->data = d;
        t->cap = cap;
    }
    memcpy(t->data + t->len, s, n + 1);
    t->len += n;
}

/* Column (in characters) of p.  The parser asks in increasing order, so
 * counting goes on from the last answer: linear over the whole query. */
static size_t col_of(wparser *w, const char *p)
{
    const char *q = w->col_p;
    size_t n = w->col_n;
    if (!q || p < q) {
        q = w->text;
        n = 1;
    }
    for (; q < p; q++)
        if (((unsigned char)*q & 0xC0) != 0x80)
            n++;
    w->col_p = p;
    w->col_n = n;
    return n;
}

static const char *tok_text(wparser *w)
{
    if (w->t.kind == TK_EOF)
        return "end of query";
    size_t n = w->t.len > 40 ? 40 : w->t.len;
    return sc_sprintf(w->a, "'%.*s%s'", (int)n, w->t.start, w->t.len > 40 ? "..." : "");
}

static bool vfail(wparser *w, smbcim_status code, size_t col, const char *fmt, va_list ap)
{
    if (w->failed)
        return false;
    /* WMI's code for a filtering (event) query that does not parse */
    if (w->event && code == WBEM_E_INVALID_QUERY)
        code = WBEM_E_UNPARSABLE_QUERY;
    w->failed = true;
    char msg[600];
    vsnprintf(msg, sizeof msg, fmt, ap);
    smbcim_error_set(w->err, code, "at column %zu: %s", col, msg);
    return false;
}

static bool fail_at(wparser *w, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool fail_at(wparser *w, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(w, WBEM_E_INVALID_QUERY, col, fmt, ap);
    va_end(ap);
    return false;
}

/* A query that parses but says something impossible (WITHIN 0, GROUP BY
 * without GROUP WITHIN): `code` as given, in an event query too. */
static bool fail_code(wparser *w, smbcim_status code, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail_code(wparser *w, smbcim_status code, size_t col, const char *fmt, ...)
{
    bool ev = w->event;
    w->event = false;
    va_list ap;
    va_start(ap, fmt);
    vfail(w, code, col, fmt, ap);
    va_end(ap);
    w->event = ev;
    return false;
}

static bool over_quota(wparser *w, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static bool over_quota(wparser *w, size_t col, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfail(w, WBEM_E_QUOTA_VIOLATION, col, fmt, ap);
    va_end(ap);
    return false;
}

static bool expected(wparser *w, const char *what)
{
    return fail_at(w, w->t.col, "expected %s, found %s", what, tok_text(w));
}

static bool is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static bool id_start(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || c >= 0x80;
}

static bool id_char(unsigned char c)
{
    return id_start(c) || (c >= '0' && c <= '9');
}

static bool lex(wparser *w)
{
    if (w->failed)
        return false;
    while (is_space(*w->p))
        w->p++;
    token *t = &w->t;
    memset(t, 0, sizeof(*t));
    t->start = w->p;
    t->col = col_of(w, w->p);
    char c = *w->p;
    if (!c) {
        t->kind = TK_EOF;
        return true;
    }
    if (id_start((unsigned char)c)) {
        while (id_char((unsigned char)*w->p))
            w->p++;
        t->kind = TK_IDENT;
    } else if (c == '\'' || c == '"') {
        /* checked first, then unescaped straight into the arena (no
         * longer than the text between the quotes) */
        const char *s = ++w->p;
        while (*w->p && *w->p != c) {
            if (*w->p == '\\') {
                char e = w->p[1];
                if (e == '\\' || e == '"' || e == '\'') {
                    w->p += 2;
                    continue;
                }
                return fail_at(w, col_of(w, w->p),
                               "a backslash in a string must be written \\\\ (or escape a quote)");
            }
            w->p++;
        }
        if (*w->p != c)
            return fail_at(w, t->col, "unterminated string");
        char *d = sc_alloc(w->a, (size_t)(w->p - s) + 1);
        size_t n = 0;
        for (const char *q = s; q < w->p; q++)
            d[n++] = *q == '\\' ? *++q : *q;
        d[n] = '\0';
        w->p++;
        t->kind = TK_STRING;
        t->text = d;
        t->len = (size_t)(w->p - t->start);
        return true;
    } else if ((c >= '0' && c <= '9') || ((c == '-' || c == '+' || c == '.') &&
                                          ((w->p[1] >= '0' && w->p[1] <= '9') || w->p[1] == '.'))) {
        const char *s = w->p;
        if (*w->p == '-' || *w->p == '+')
            w->p++;
        bool real = false;
        if (w->p[0] == '0' && (w->p[1] == 'x' || w->p[1] == 'X')) {
            w->p += 2;
            while ((*w->p >= '0' && *w->p <= '9') || (*w->p >= 'a' && *w->p <= 'f') ||
                   (*w->p >= 'A' && *w->p <= 'F'))
                w->p++;
        } else {
            while ((*w->p >= '0' && *w->p <= '9') || *w->p == '.') {
                real |= *w->p == '.';
                w->p++;
            }
            if (*w->p == 'e' || *w->p == 'E') {
                real = true;
                w->p++;
                if (*w->p == '+' || *w->p == '-')
                    w->p++;
                while (*w->p >= '0' && *w->p <= '9')
                    w->p++;
            }
        }
        if (id_char((unsigned char)*w->p)) {
            t->len = (size_t)(w->p - s) + 1;
            return fail_at(w, t->col, "malformed number");
        }
        t->kind = real ? TK_REAL : TK_INT;
        t->text = sc_strndup(w->a, s, (size_t)(w->p - s));
    } else if (c == '{') {
        const char *s = ++w->p;
        char q = 0;
        while (*w->p && (q || *w->p != '}')) {
            if (q) {
                if (*w->p == '\\' && w->p[1])
                    w->p++;
                else if (*w->p == q)
                    q = 0;
            } else if (*w->p == '"' || *w->p == '\'') {
                q = *w->p;
            } else if (is_space(*w->p)) {
                return fail_at(w, col_of(w, w->p), "white space in an object path");
            }
            w->p++;
        }
        if (*w->p != '}')
            return fail_at(w, t->col, "unterminated object path: '{' without '}'");
        t->kind = TK_PATH;
        t->text = sc_strndup(w->a, s, (size_t)(w->p - s));
        t->inner_col = col_of(w, s);
        w->p++;
    } else if (c == '.' && w->event) {
        /* TargetInstance.ShareName (a '.' before a digit starts a number) */
        w->p++;
        t->kind = TK_DOT;
    } else if (c == '(' || c == ')' || c == ',' || c == '*') {
        w->p++;
        t->kind = c == '(' ? TK_LPAREN : c == ')' ? TK_RPAREN : c == ',' ? TK_COMMA : TK_STAR;
    } else if (c == '=' || c == '<' || c == '>' || c == '!') {
        const char *s = w->p++;
        if ((c == '<' && (*w->p == '>' || *w->p == '=')) || (c == '>' && *w->p == '=') ||
            (c == '!' && *w->p == '='))
            w->p++;
        else if (c == '!')
            return fail_at(w, t->col, "expected '!=', found '!'");
        t->kind = TK_OP;
        t->text = sc_strndup(w->a, s, (size_t)(w->p - s));
    } else {
        w->p++;
        t->len = 1;
        return fail_at(w, t->col, "unexpected character '%c'",
                       (unsigned char)c >= 0x20 && (unsigned char)c < 0x7F ? c : '?');
    }
    t->len = (size_t)(w->p - t->start);
    if (t->kind == TK_IDENT)
        t->text = sc_strndup(w->a, t->start, t->len);
    return true;
}

static bool kw(const wparser *w, const char *k)
{
    return w->t.kind == TK_IDENT && sc_streqi(w->t.text, k);
}

static const char *const reserved[] = {
    "AND", "ASSOCIATORS", "BY", "FALSE", "FROM", "GROUP", "HAVING", "IS", "ISA", "KEYSONLY",
    "LIKE", "NOT", "NULL", "OF", "OR", "REFERENCES", "SELECT", "TRUE", "WHERE", "WITHIN",
};

static bool is_reserved(const char *s)
{
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (sc_streqi(reserved[i], s))
            return true;
    return false;
}

static bool expect_kw(wparser *w, const char *k)
{
    if (!kw(w, k))
        return expected(w, k);
    return lex(w);
}

/* ---- literals and comparisons ------------------------------------------ */
static bool is_literal(const wparser *w)
{
    return w->t.kind == TK_STRING || w->t.kind == TK_INT || w->t.kind == TK_REAL ||
           kw(w, "TRUE") || kw(w, "FALSE") || kw(w, "NULL");
}

static bool parse_literal(wparser *w, wql_literal *l)
{
    memset(l, 0, sizeof(*l));
    l->pos = w->t.col;
    if (w->t.kind == TK_STRING) {
        l->kind = WQL_LIT_STRING;
        l->s = w->t.text;
    } else if (w->t.kind == TK_INT) {
        l->kind = WQL_LIT_INT;
        const char *s = w->t.text;
        char *end;
        errno = 0;
        if (s[0] == '-') {
            l->i = strtoll(s, &end, 0);
            if (errno || *end)
                return fail_at(w, l->pos, "number %s out of range", s);
            l->u = (uint64_t)l->i;
        } else {
            l->u = strtoull(s[0] == '+' ? s + 1 : s, &end, 0);
            if (errno || *end)
                return fail_at(w, l->pos, "number %s out of range", s);
            if (l->u > INT64_MAX)
                l->big = true;
            else
                l->i = (int64_t)l->u;
        }
    } else if (w->t.kind == TK_REAL) {
        char *end;
        l->kind = WQL_LIT_REAL;
        l->r = strtod(w->t.text, &end);
        if (*end)
            return fail_at(w, l->pos, "malformed number");
    } else if (kw(w, "TRUE") || kw(w, "FALSE")) {
        l->kind = WQL_LIT_BOOL;
        l->b = kw(w, "TRUE");
    } else if (kw(w, "NULL")) {
        l->kind = WQL_LIT_NULL;
    } else {
        return expected(w, "a constant (a string, a number, TRUE, FALSE or NULL)");
    }
    return lex(w);
}

static bool parse_prop(wparser *w, const char **name, size_t *pos)
{
    if (w->t.kind != TK_IDENT || is_reserved(w->t.text))
        return expected(w, "a property name");
    *name = w->t.text;
    *pos = w->t.col;
    if (!lex(w))
        return false;
    if (!w->event || w->t.kind != TK_DOT)
        return true;
    /* An event query reaches into embedded objects: Name.Name... kept as
     * one dotted name (built in one buffer: linear in its length). */
    atext b = {0};
    atext_puts(w->a, &b, *name);
    for (int parts = 1; w->t.kind == TK_DOT; parts++) {
        if (parts == WQL_MAX_DEPTH)
            return fail_at(w, w->t.col, "more than %d parts in a property name", WQL_MAX_DEPTH);
        if (!lex(w))
            return false;
        if (w->t.kind != TK_IDENT || is_reserved(w->t.text))
            return expected(w, "a property name after '.'");
        atext_puts(w->a, &b, ".");
        atext_puts(w->a, &b, w->t.text);
        if (!lex(w))
            return false;
    }
    *name = b.data;
    return true;
}

static wql_op op_of(const char *s)
{
    if (!strcmp(s, "=")) return WQL_OP_EQ;
    if (!strcmp(s, "<>") || !strcmp(s, "!=")) return WQL_OP_NE;
    if (!strcmp(s, "<")) return WQL_OP_LT;
    if (!strcmp(s, ">")) return WQL_OP_GT;
    if (!strcmp(s, "<=")) return WQL_OP_LE;
    return WQL_OP_GE;
}

static wql_op flip(wql_op op)
{
    switch (op) {
    case WQL_OP_LT: return WQL_OP_GT;
    case WQL_OP_GT: return WQL_OP_LT;
    case WQL_OP_LE: return WQL_OP_GE;
    case WQL_OP_GE: return WQL_OP_LE;
    default: return op;
    }
}

/* Checks an operator against its constant and folds "= NULL". */
static bool finish_cmp(wparser *w, wql_expr *e, size_t opcol)
{
    if (e->lit.kind == WQL_LIT_NULL) {
        if (e->op == WQL_OP_EQ)
            e->op = WQL_OP_IS_NULL;
        else if (e->op == WQL_OP_NE)
            e->op = WQL_OP_IS_NOT_NULL;
        else
            return fail_at(w, opcol, "NULL can only be compared with =, <>, != or IS");
    }
    if (e->lit.kind == WQL_LIT_BOOL && e->op != WQL_OP_EQ && e->op != WQL_OP_NE)
        return fail_at(w, opcol, "TRUE and FALSE can only be compared with =, <> or !=");
    return true;
}

static wql_expr *parse_or(wparser *w);

static wql_expr *parse_primary(wparser *w)
{
    if (w->t.kind == TK_LPAREN) {
        if (++w->depth > WQL_MAX_DEPTH) {
            fail_at(w, w->t.col, "the condition is nested too deeply");
            return NULL;
        }
        if (!lex(w))
            return NULL;
        wql_expr *e = parse_or(w);
        w->depth--;
        if (!e)
            return NULL;
        if (w->t.kind != TK_RPAREN) {
            expected(w, "')'");
            return NULL;
        }
        return lex(w) ? e : NULL;
    }
    if (++w->nconds > WQL_MAX_CONDITIONS) {
        over_quota(w, w->t.col, "more than %d conditions in the WHERE clause", WQL_MAX_CONDITIONS);
        return NULL;
    }
    wql_expr *e = sc_alloc(w->a, sizeof(*e));
    if (is_literal(w) && !(w->t.kind == TK_IDENT && !kw(w, "NULL") && !kw(w, "TRUE") && !kw(w, "FALSE"))) {
        /* constant first: 5 < DriveType, NULL = Name */
        if (!parse_literal(w, &e->lit))
            return NULL;
        if (w->t.kind != TK_OP) {
            expected(w, "a comparison operator");
            return NULL;
        }
        size_t opcol = w->t.col;
        e->op = flip(op_of(w->t.text));
        if (!lex(w) || !parse_prop(w, &e->prop, &e->prop_pos))
            return NULL;
        return finish_cmp(w, e, opcol) ? e : NULL;
    }
    if (!parse_prop(w, &e->prop, &e->prop_pos))
        return NULL;
    if (w->t.kind == TK_OP) {
        size_t opcol = w->t.col;
        e->op = op_of(w->t.text);
        if (!lex(w) || !parse_literal(w, &e->lit))
            return NULL;
        return finish_cmp(w, e, opcol) ? e : NULL;
    }
    if (kw(w, "IS")) {
        if (!lex(w))
            return NULL;
        e->op = WQL_OP_IS_NULL;
        if (kw(w, "NOT")) {
            e->op = WQL_OP_IS_NOT_NULL;
            if (!lex(w))
                return NULL;
        }
        if (!kw(w, "NULL")) {
            expected(w, "NULL after IS");
            return NULL;
        }
        e->lit.kind = WQL_LIT_NULL;
        e->lit.pos = w->t.col;
        return lex(w) ? e : NULL;
    }
    if (kw(w, "NOT") || kw(w, "LIKE")) {
        e->op = WQL_OP_LIKE;
        if (kw(w, "NOT")) {
            e->op = WQL_OP_NOT_LIKE;
            if (!lex(w))
                return NULL;
            if (!kw(w, "LIKE")) {
                expected(w, "LIKE after NOT");
                return NULL;
            }
        }
        if (!lex(w))
            return NULL;
        if (w->t.kind != TK_STRING) {
            expected(w, "a pattern in quotes after LIKE");
            return NULL;
        }
        return parse_literal(w, &e->lit) ? e : NULL;
    }
    if (kw(w, "ISA")) {
        e->op = WQL_OP_ISA;
        if (!lex(w))
            return NULL;
        if (w->t.kind != TK_STRING) {
            expected(w, "a class name in quotes after ISA");
            return NULL;
        }
        return parse_literal(w, &e->lit) ? e : NULL;
    }
    expected(w, "a comparison operator, LIKE, IS or ISA");
    return NULL;
}

static wql_expr *parse_not(wparser *w)
{
    if (kw(w, "NOT")) {
        if (++w->depth > WQL_MAX_DEPTH) {
            fail_at(w, w->t.col, "the condition is nested too deeply");
            return NULL;
        }
        if (!lex(w))
            return NULL;
        wql_expr *in = parse_not(w);
        w->depth--;
        if (!in)
            return NULL;
        wql_expr *e = sc_alloc(w->a, sizeof(*e));
        e->op = WQL_OP_NOT;
        e->left = in;
        return e;
    }
    return parse_primary(w);
}

/* One node for a whole run of ANDs (or ORs): a chain of 100,000 ORs is
 * one node with 100,001 children, not a tree 100,000 deep, so nothing that
 * walks the tree recurses deeper than the parentheses and NOTs. */
static wql_expr *parse_chain(wparser *w, wql_op op, const char *word,
                             wql_expr *(*operand)(wparser *))
{
    wql_expr *first = operand(w);
    if (!first || !kw(w, word))
        return first;
    alist kids = {0};
    alist_push(w->a, &kids, first);
    while (kw(w, word)) {
        wql_expr *k = lex(w) ? operand(w) : NULL;
        if (!k)
            return NULL;
        alist_push(w->a, &kids, k);
    }
    wql_expr *e = sc_alloc(w->a, sizeof(*e));
    e->op = op;
    e->nkids = kids.len;
    e->kids = sc_alloc_array(w->a, kids.len, sizeof(wql_expr *));
    memcpy(e->kids, kids.items, kids.len * sizeof(wql_expr *));
    return e;
}

static wql_expr *parse_and(wparser *w)
{
    return parse_chain(w, WQL_OP_AND, "AND", parse_not);
}

static wql_expr *parse_or(wparser *w)
{
    return parse_chain(w, WQL_OP_OR, "OR", parse_and);
}

/* ---- statements ---------------------------------------------------------- */
/* name *( "," name ): the SELECT list, GROUP ... BY.  At most
 * WQL_MAX_PROPS names (`what` says which list in the message). */
static bool parse_names(wparser *w, const char ***out, size_t **out_pos, size_t *n,
                        const char *what)
{
    alist names = {0}, cols = {0};
    bool ok = true;
    for (;;) {
        const char *name;
        size_t pos;
        if (!parse_prop(w, &name, &pos)) {
            ok = false;
            break;
        }
        if (names.len == WQL_MAX_PROPS) {
            ok = over_quota(w, pos, "more than %d names in the %s", WQL_MAX_PROPS, what);
            break;
        }
        alist_push(w->a, &names, (void *)name);
        alist_push(w->a, &cols, (void *)(uintptr_t)pos);
        if (w->t.kind != TK_COMMA)
            break;
        if (!lex(w)) {
            ok = false;
            break;
        }
    }
    if (ok) {
        *n = names.len;
        *out = sc_alloc_array(w->a, names.len, sizeof(char *));
        *out_pos = sc_alloc_array(w->a, names.len, sizeof(size_t));
        for (size_t i = 0; i < names.len; i++) {
            (*out)[i] = names.items[i];
            (*out_pos)[i] = (size_t)(uintptr_t)cols.items[i];
        }
    }
    return ok;
}

/* WITHIN's number: seconds, fractions allowed (WMI documents the polling
 * interval as a floating-point number). */
static bool parse_interval(wparser *w, double *out, const char *what)
{
    if (w->t.kind != TK_INT && w->t.kind != TK_REAL)
        return expected(w, sc_sprintf(w->a, "a number of seconds after %s", what));
    char *end;
    errno = 0;
    double v = strtod(w->t.text, &end);
    if (*end || !isfinite(v) || !(v > 0) || v > 4294967295.0)
        return fail_code(w, WBEM_E_INVALID_QUERY, w->t.col,
                         "the interval of %s must be more than 0 and at most 4294967295 "
                         "seconds, not %s", what, w->t.text);
    *out = v;
    return lex(w);
}

/* After "SELECT ... FROM class" of an event query:
 *   [ WITHIN n ] [ WHERE cond ] [ GROUP WITHIN n [ BY names ] [ HAVING cond ] ] */
static bool parse_event_tail(wparser *w, wql_query *q)
{
    if (kw(w, "WITHIN")) {
        q->has_within = true;
        q->within_pos = w->t.col;
        if (!lex(w) || !parse_interval(w, &q->within, "WITHIN"))
            return false;
    }
    if (kw(w, "WHERE")) {
        if (!lex(w))
            return false;
        q->where = parse_or(w);
        if (!q->where)
            return false;
    }
    if (kw(w, "GROUP")) {
        q->has_group = true;
        q->group_pos = w->t.col;
        if (!lex(w))
            return false;
        if (kw(w, "BY"))
            return fail_code(w, WBEM_E_MISSING_GROUP_WITHIN, w->t.col,
                             "GROUP BY needs the grouping interval first: GROUP WITHIN n BY ...");
        if (!expect_kw(w, "WITHIN") || !parse_interval(w, &q->group_within, "GROUP WITHIN"))
            return false;
        if (kw(w, "BY")) {
            if (!lex(w) || !parse_names(w, &q->group_by, &q->group_by_pos, &q->ngroup_by,
                                        "GROUP BY list"))
                return false;
        }
        if (kw(w, "HAVING")) {
            if (!lex(w))
                return false;
            q->having = parse_or(w);
            if (!q->having)
                return false;
        }
    }
    if (w->t.kind == TK_EOF)
        return true;
    const char *what = !q->has_within && !q->where && !q->has_group
                           ? "WITHIN, WHERE, GROUP or the end of the query"
                       : !q->where && !q->has_group ? "WHERE, GROUP or the end of the query"
                       : !q->has_group              ? "GROUP or the end of the query"
                       : !q->ngroup_by && !q->having ? "BY, HAVING or the end of the query"
                       : !q->having                 ? "HAVING or the end of the query"
                                                    : "the end of the query";
    const char *hint = kw(w, "WITHIN") ? " (the polling interval, WITHIN n, comes before WHERE)"
                       : kw(w, "HAVING") || kw(w, "BY") ? " (BY and HAVING follow GROUP WITHIN n)"
                                                        : "";
    return fail_at(w, w->t.col, "expected %s, found %s%s", what, tok_text(w), hint);
}

static bool parse_select(wparser *w, wql_query *q)
{
    q->kind = WQL_SELECT;
    q->event = w->event;
    if (!lex(w))
        return false;
    if (w->t.kind == TK_STAR) {
        q->star = true;
        if (!lex(w))
            return false;
    } else if (!parse_names(w, &q->props, &q->props_pos, &q->nprops, "SELECT list")) {
        return false;
    }
    if (!expect_kw(w, "FROM"))
        return false;
    if (w->t.kind != TK_IDENT || is_reserved(w->t.text))
        return expected(w, "a class name");
    q->class_name = w->t.text;
    q->class_pos = w->t.col;
    if (!lex(w))
        return false;
    if (w->event)
        return parse_event_tail(w, q);
    if (kw(w, "WHERE")) {
        if (!lex(w))
            return false;
        q->where = parse_or(w);
        if (!q->where)
            return false;
    }
    return true;
}

typedef struct kwdef {
    const char *name;
    bool value;       /* takes "= Name" */
    bool assoc_only;  /* ASSOCIATORS OF only */
} kwdef;

static const kwdef assoc_kws[] = {
    {"AssocClass", true, true}, {"ResultClass", true, false}, {"ResultRole", true, true},
    {"Role", true, false}, {"RequiredQualifier", true, false},
    {"RequiredAssocQualifier", true, true}, {"ClassDefsOnly", false, false},
    {"KeysOnly", false, false}, {"SchemaOnly", false, false},
};

static bool parse_assoc(wparser *w, wql_query *q, bool refs)
{
    q->kind = refs ? WQL_REFERENCES : WQL_ASSOCIATORS;
    if (!lex(w) || !expect_kw(w, "OF"))
        return false;
    if (w->t.kind != TK_PATH)
        return expected(w, "an object path in braces {...}");
    q->path = w->t.text;
    q->path_pos = w->t.inner_col;
    if (!lex(w))
        return false;
    if (!kw(w, "WHERE"))
        return true;
    if (!lex(w))
        return false;
    bool seen[sizeof(assoc_kws) / sizeof(assoc_kws[0])] = {0};
    size_t cdo_col = 0, rc_col = 0, ko_col = 0, so_col = 0;
    if (w->t.kind == TK_EOF)
        return expected(w, refs ? "ResultClass, Role, RequiredQualifier, ClassDefsOnly or KeysOnly"
                                : "AssocClass, ResultClass, ResultRole, Role, ClassDefsOnly, ...");
    while (w->t.kind != TK_EOF) {
        if (w->t.kind != TK_IDENT)
            return expected(w, "a keyword such as ResultClass");
        size_t k;
        for (k = 0; k < sizeof(assoc_kws) / sizeof(assoc_kws[0]); k++)
            if (sc_streqi(assoc_kws[k].name, w->t.text))
                break;
        if (k == sizeof(assoc_kws) / sizeof(assoc_kws[0]) || (refs && assoc_kws[k].assoc_only))
            return fail_at(w, w->t.col, "%s is not a keyword of %s OF", tok_text(w),
                           refs ? "REFERENCES" : "ASSOCIATORS");
        if (seen[k])
            return fail_at(w, w->t.col, "%s given twice", assoc_kws[k].name);
        seen[k] = true;
        size_t kcol = w->t.col;
        if (!lex(w))
            return false;
        if (!assoc_kws[k].value) {
            if (k == 6) { q->class_defs_only = true; cdo_col = kcol; }
            if (k == 7) { q->keys_only = true; ko_col = kcol; }
            if (k == 8) { q->schema_only = true; so_col = kcol; }
            continue;
        }
        if (w->t.kind != TK_OP || strcmp(w->t.text, "=") != 0)
            return expected(w, sc_sprintf(w->a, "'=' after %s", assoc_kws[k].name));
        if (!lex(w))
            return false;
        if (w->t.kind != TK_IDENT)
            return expected(w, sc_sprintf(w->a, "a name (without quotes) after %s =",
                                          assoc_kws[k].name));
        const char *v = w->t.text;
        size_t vcol = w->t.col;
        switch (k) {
        case 0: q->assoc_class = v; q->assoc_class_pos = vcol; break;
        case 1: q->result_class = v; q->result_class_pos = vcol; rc_col = kcol; break;
        case 2: q->result_role = v; q->result_role_pos = vcol; break;
        case 3: q->role = v; q->role_pos = vcol; break;
        case 4: q->required_qualifier = v; break;
        case 5: q->required_assoc_qualifier = v; break;
        }
        if (!lex(w))
            return false;
    }
    if (q->class_defs_only && q->keys_only)
        return fail_at(w, cdo_col > ko_col ? cdo_col : ko_col,
                       "ClassDefsOnly and KeysOnly cannot be combined");
    if (q->class_defs_only && q->schema_only)
        return fail_at(w, cdo_col > so_col ? cdo_col : so_col,
                       "ClassDefsOnly and SchemaOnly cannot be combined");
    if (!refs && q->class_defs_only && q->result_class)
        return fail_at(w, cdo_col > rc_col ? cdo_col : rc_col,
                       "ClassDefsOnly and ResultClass cannot be combined");
    return true;
}

static smbcim_status parse_text(sc_arena *a, const char *text, wql_query **out,
                                smbcim_error *err, bool event)
{
    *out = NULL;
    if (!text)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "no query given");
    const char *p = text;
    while (is_space(*p))
        p++;
    if (!*p)
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "the query is empty");
    size_t len = strlen(text);
    if (len > WQL_MAX_LENGTH)
        return smbcim_error_set(err, WBEM_E_QUOTA_VIOLATION,
                                "the query is %zu bytes long; at most %d are accepted", len,
                                WQL_MAX_LENGTH);
    wparser w = {.a = a, .text = text, .p = text, .err = err, .event = event};
    wql_query *q = sc_alloc(a, sizeof(*q));
    bool ok = lex(&w);
    if (ok) {
        if (kw(&w, "SELECT"))
            ok = parse_select(&w, q);
        else if (event)
            ok = expected(&w, "SELECT (an event query selects from an event class)");
        else if (kw(&w, "ASSOCIATORS"))
            ok = parse_assoc(&w, q, false);
        else if (kw(&w, "REFERENCES"))
            ok = parse_assoc(&w, q, true);
        else
            ok = expected(&w, "SELECT, ASSOCIATORS OF or REFERENCES OF");
    }
    if (ok && w.t.kind != TK_EOF) {
        if (kw(&w, "WITHIN") || kw(&w, "GROUP") || kw(&w, "HAVING"))
            ok = fail_at(&w, w.t.col,
                         "expected %s, found %s (WITHIN, GROUP and HAVING belong to event "
                         "queries, which select from an event class such as "
                         "__InstanceCreationEvent)",
                         q->where ? "the end of the query" : "WHERE or the end of the query",
                         tok_text(&w));
        else
            ok = q->kind == WQL_SELECT && !q->where
                     ? expected(&w, "WHERE or the end of the query")
                     : expected(&w, "the end of the query");
    }
    if (!ok)
        return err && err->code ? err->code : event ? WBEM_E_UNPARSABLE_QUERY
                                                    : WBEM_E_INVALID_QUERY;
    *out = q;
    return WBEM_S_NO_ERROR;
}

smbcim_status wql_parse(sc_arena *a, const char *text, wql_query **out, smbcim_error *err)
{
    return parse_text(a, text, out, err, false);
}

smbcim_status wql_parse_event(sc_arena *a, const char *text, wql_query **out,
                              smbcim_error *err)
{
    return parse_text(a, text, out, err, true);
}

const char *wql_from_class(sc_arena *a, const char *text)
{
    if (!text || strlen(text) > WQL_MAX_LENGTH)
        return NULL;
    smbcim_error err = {0};
    wparser w = {.a = a, .text = text, .p = text, .err = &err, .event = true};
    if (!lex(&w) || !kw(&w, "SELECT"))
        return NULL;
    /* the SELECT list: names, dots, commas or a star, up to FROM */
    for (;;) {
        if (!lex(&w))
            return NULL;
        if (kw(&w, "FROM"))
            break;
        if (w.t.kind != TK_IDENT && w.t.kind != TK_DOT && w.t.kind != TK_COMMA &&
            w.t.kind != TK_STAR)
            return NULL;
    }
    if (!lex(&w) || w.t.kind != TK_IDENT || is_reserved(w.t.text))
        return NULL;
    return w.t.text;
}

/* ---- LIKE ---------------------------------------------------------------- */
/* Matches one pattern element at *pp against code point c; advances *pp
 * past the element.  Sets: [abc] [a-z] [^...]; ']' first is literal. */
static bool match_elem(const char **pp, const char *pend, uint32_t c)
{
    const char *p = *pp;
    if (*p == '_') {
        *pp = p + 1;
        return true;
    }
    if (*p == '[') {
        const char *q = p + 1;
        bool neg = false;
        if (q < pend && *q == '^') {
            neg = true;
            q++;
        }
        const char *close = q < pend && *q == ']' ? q + 1 : q;
        while (close < pend && *close != ']')
            close++;
        if (close < pend) {
            bool in = false;
            const char *s = q;
            while (s < close) {
                uint32_t lo = sc_fold(sc_utf8_next(&s, close));
                uint32_t hi = lo;
                if (s + 1 < close && *s == '-') {
                    s++;
                    hi = sc_fold(sc_utf8_next(&s, close));
                }
                if (c >= lo && c <= hi)
                    in = true;
            }
            *pp = close + 1;
            return in != neg;
        }
        /* no closing bracket: a literal '[' */
    }
    uint32_t pc = sc_fold(sc_utf8_next(&p, pend));
    *pp = p;
    return pc == c;
}

bool wql_like(const char *text, const char *pattern)
{
    const char *t = text, *tend = text + strlen(text);
    const char *p = pattern, *pend = pattern + strlen(pattern);
    const char *star_p = NULL, *star_t = NULL;
    while (t < tend) {
        if (p < pend && *p == '%') {
            while (p < pend && *p == '%')
                p++;
            star_p = p;
            star_t = t;
            continue;
        }
        if (p < pend) {
            const char *tt = t;
            uint32_t c = sc_fold(sc_utf8_next(&tt, tend));
            const char *pp = p;
            if (match_elem(&pp, pend, c)) {
                p = pp;
                t = tt;
                continue;
            }
        }
        if (!star_p)
            return false;
        /* backtrack: the last % takes one more character */
        sc_utf8_next(&star_t, tend);
        t = star_t;
        p = star_p;
    }
    while (p < pend && *p == '%')
        p++;
    return p == pend;
}

/* ---- evaluation ---------------------------------------------------------- */
typedef struct evalctx {
    const wql_object_ops *ops;
    void *obj;
    smbcim_error *err;
} evalctx;

static int ev_err(evalctx *c, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int ev_err(evalctx *c, size_t col, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    smbcim_error_set(c->err, WBEM_E_INVALID_QUERY, "at column %zu: %s", col, msg);
    return -1;
}

static int cmp_result(wql_op op, int c)
{
    switch (op) {
    case WQL_OP_EQ: return c == 0;
    case WQL_OP_NE: return c != 0;
    case WQL_OP_LT: return c < 0;
    case WQL_OP_GT: return c > 0;
    case WQL_OP_LE: return c <= 0;
    case WQL_OP_GE: return c >= 0;
    default: return 0;
    }
}

/* Integer literal as a signed/unsigned pair compared with a value. */
static int cmp_int(const cim_value *v, const wql_literal *l)
{
    bool vneg = cim_type_is_signed(v->type) && v->v.i < 0;
    bool lneg = !l->big && l->i < 0;
    if (vneg != lneg)
        return vneg ? -1 : 1;
    if (vneg) {
        return v->v.i < l->i ? -1 : v->v.i > l->i;
    }
    uint64_t a = cim_type_is_signed(v->type) ? (uint64_t)v->v.i : v->v.u;
    uint64_t b = l->big ? l->u : (uint64_t)l->i;
    return a < b ? -1 : a > b;
}

static double value_real(const cim_value *v)
{
    if (cim_type_is_signed(v->type))
        return (double)v->v.i;
    if (cim_type_is_unsigned(v->type))
        return (double)v->v.u;
    return v->v.r;
}

/* Compares one scalar value with the literal: 1/0, or -1 on a type error. */
static int eval_scalar(evalctx *c, const wql_expr *e, const cim_value *v)
{
    const wql_literal *l = &e->lit;
    if (e->op == WQL_OP_LIKE || e->op == WQL_OP_NOT_LIKE) {
        char *txt = NULL;
        bool m;
        if (cim_type_is_stringlike(v->type)) {
            m = wql_like(v->v.s, l->s);
        } else {
            txt = smbcim_value_text(v);
            m = wql_like(txt ? txt : "", l->s);
            free(txt);
        }
        return e->op == WQL_OP_LIKE ? m : !m;
    }
    if (v->type == CIM_T_BOOLEAN) {
        bool b;
        if (l->kind == WQL_LIT_BOOL)
            b = l->b;
        else if (l->kind == WQL_LIT_INT && !l->big && (l->i == 0 || l->i == 1 || l->i == -1))
            b = l->i != 0;
        else if (l->kind == WQL_LIT_STRING && (sc_streqi(l->s, "TRUE") || sc_streqi(l->s, "FALSE")))
            b = sc_streqi(l->s, "TRUE");
        else
            return ev_err(c, l->pos, "%s is a boolean: compare it with TRUE or FALSE", e->prop);
        if (e->op != WQL_OP_EQ && e->op != WQL_OP_NE)
            return ev_err(c, e->prop_pos, "%s is a boolean: only =, <> and != apply", e->prop);
        return cmp_result(e->op, v->v.b == b ? 0 : 1);
    }
    if (cim_type_is_integer(v->type)) {
        if (l->kind == WQL_LIT_INT)
            return cmp_result(e->op, cmp_int(v, l));
        if (l->kind == WQL_LIT_REAL) {
            double a = value_real(v);
            return cmp_result(e->op, a < l->r ? -1 : a > l->r);
        }
        if (l->kind == WQL_LIT_BOOL)
            return cmp_result(e->op, cmp_int(v, &(wql_literal){.kind = WQL_LIT_INT, .i = l->b}));
        if (l->kind == WQL_LIT_STRING) {
            wql_literal n = {.kind = WQL_LIT_INT};
            char *end;
            errno = 0;
            const char *s = l->s;
            if (*s == '-') {
                n.i = strtoll(s, &end, 10);
            } else {
                n.u = strtoull(s, &end, 10);
                n.big = n.u > INT64_MAX;
                n.i = (int64_t)n.u;
            }
            if (!*s || *end || errno)
                return ev_err(c, l->pos, "'%s' is not a number, and %s is numeric", l->s, e->prop);
            return cmp_result(e->op, cmp_int(v, &n));
        }
    }
    if (v->type == CIM_T_REAL32 || v->type == CIM_T_REAL64) {
        double b;
        if (l->kind == WQL_LIT_REAL)
            b = l->r;
        else if (l->kind == WQL_LIT_INT)
            b = l->big ? (double)l->u : (double)l->i;
        else if (l->kind == WQL_LIT_STRING) {
            char *end;
            b = strtod(l->s, &end);
            if (!*l->s || *end)
                return ev_err(c, l->pos, "'%s' is not a number, and %s is numeric", l->s, e->prop);
        } else
            return ev_err(c, l->pos, "%s is numeric", e->prop);
        return cmp_result(e->op, v->v.r < b ? -1 : v->v.r > b);
    }
    /* string-like */
    const char *s;
    char buf[64];
    if (l->kind == WQL_LIT_STRING) {
        s = l->s;
    } else if (l->kind == WQL_LIT_INT) {
        if (l->big)
            snprintf(buf, sizeof buf, "%" PRIu64, l->u);
        else
            snprintf(buf, sizeof buf, "%" PRId64, l->i);
        s = buf;
    } else if (l->kind == WQL_LIT_REAL) {
        snprintf(buf, sizeof buf, "%.17g", l->r);
        s = buf;
    } else {
        s = l->b ? "TRUE" : "FALSE";
    }
    if (v->type == CIM_T_REFERENCE) {
        sc_arena *a = sc_arena_new();
        const char *ka, *kb;
        if (c->ops->path_key) {
            ka = c->ops->path_key(c->obj, a, v->v.s);
            kb = c->ops->path_key(c->obj, a, s);
        } else {
            ka = cim_path_normkey(a, v->v.s);
            kb = cim_path_normkey(a, s);
        }
        int r = (ka && kb) ? strcmp(ka, kb) : sc_stricmp(v->v.s, s);
        sc_arena_free(a);
        if (e->op != WQL_OP_EQ && e->op != WQL_OP_NE)
            return cmp_result(e->op, sc_stricmp(v->v.s, s));
        return cmp_result(e->op, r);
    }
    return cmp_result(e->op, sc_stricmp(v->v.s, s));
}

static int eval_cmp(evalctx *c, const wql_expr *e)
{
    cim_value v;
    if (e->op == WQL_OP_ISA) {
        int r = c->ops->isa ? c->ops->isa(c->obj, e->prop, e->lit.s) : -1;
        if (r < 0)
            return ev_err(c, e->lit.pos, "class '%s' does not exist", e->lit.s);
        return r;
    }
    if (!c->ops->get(c->obj, e->prop, &v))
        return ev_err(c, e->prop_pos, "unknown property '%s'", e->prop);
    if (e->op == WQL_OP_IS_NULL)
        return v.null;
    if (e->op == WQL_OP_IS_NOT_NULL)
        return !v.null;
    if (v.null)
        return 0;
    if (v.type == CIM_T_INSTANCE)
        return ev_err(c, e->prop_pos,
                      "%s is an embedded object: test it with ISA or IS NULL, or compare "
                      "its properties (%s.Name)", e->prop, e->prop);
    if (v.array) {
        /* an array matches when any element does (= and LIKE); for <>
         * and NOT LIKE, when no element matches the negated test */
        bool neg = e->op == WQL_OP_NE || e->op == WQL_OP_NOT_LIKE;
        wql_expr pos = *e;
        if (neg)
            pos.op = e->op == WQL_OP_NE ? WQL_OP_EQ : WQL_OP_LIKE;
        for (uint32_t i = 0; i < v.count; i++) {
            int r = eval_scalar(c, &pos, &v.v.elems[i]);
            if (r < 0)
                return r;
            if (r)
                return neg ? 0 : 1;
        }
        return neg ? 1 : 0;
    }
    return eval_scalar(c, e, &v);
}

/* Reports an unknown property anywhere in the tree, before evaluating, so
 * that errors do not depend on short-circuiting. */
static int check_props(evalctx *c, const wql_expr *e)
{
    switch (e->op) {
    case WQL_OP_AND:
    case WQL_OP_OR:
        for (size_t i = 0; i < e->nkids; i++)
            if (check_props(c, e->kids[i]) < 0)
                return -1;
        return 0;
    case WQL_OP_NOT:
        return check_props(c, e->left);
    case WQL_OP_ISA:
        return 0;
    default: {
        cim_value v;
        if (!c->ops->get(c->obj, e->prop, &v))
            return ev_err(c, e->prop_pos, "unknown property '%s'", e->prop);
        return 0;
    }
    }
}

static int eval_node(evalctx *c, const wql_expr *e)
{
    int l;
    switch (e->op) {
    case WQL_OP_AND:
    case WQL_OP_OR:
        /* AND stops at the first false, OR at the first true; both at an
         * error. */
        for (size_t i = 0; i < e->nkids; i++) {
            l = eval_node(c, e->kids[i]);
            if (l < 0 || l == (e->op == WQL_OP_OR))
                return l;
        }
        return e->op == WQL_OP_AND;
    case WQL_OP_NOT:
        l = eval_node(c, e->left);
        return l < 0 ? l : !l;
    default:
        return eval_cmp(c, e);
    }
}

int wql_eval(const wql_expr *e, const wql_object_ops *ops, void *obj, smbcim_error *err)
{
    evalctx c = {ops, obj, err};
    if (!e)
        return 1;
    if (check_props(&c, e) < 0)
        return -1;
    return eval_node(&c, e);
}
