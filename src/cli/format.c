/*
 * format.c - table (PowerShell Format-Table), list (wmic /format:list),
 * json, csv (RFC 4180, with wmic's Node column) and mof (GetObjectText).
 * NULL prints as nothing (null in JSON).  man/smbcim.1 describes each
 * format; docs/decisions.md ("Output") the choices, and the escaping rules
 * ("Control characters in output") that escape_text() below implements.
 */
#define _XOPEN_SOURCE 700 /* wcwidth */
#include "cli/format.h"

#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <wchar.h>

/* The width tables are cut to (cli_format_set_width); 0 = no limit. */
static size_t table_width;

void cli_format_set_width(size_t cols)
{
    table_width = cols;
}

/* ---- helpers ------------------------------------------------------------- */
static bool prop_shown(const cim_instance *inst, size_t i)
{
    return !inst->present || inst->present[i];
}

static void *cli_alloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p) {
        fprintf(stderr, "smbcim: out of memory formatting the result\n");
        exit(1);
    }
    return p;
}

/* Text of a value; NULL -> "" (caller frees the result). */
static char *value_text(const cim_value *v)
{
    char *t = smbcim_value_text(v);
    return t ? t : cli_alloc(1, 1);
}

/* Text from the data (share names, comments, paths, user names) or from
 * the user (an error message) goes through smbcim_escape_text() with the
 * rules of its format (docs/decisions.md, "Control characters in
 * output"): SMBCIM_TEXT_VISIBLE for table, list, names and messages,
 * SMBCIM_TEXT_CSV inside CSV quotes, SMBCIM_TEXT_MOF in MOF string
 * literals.  JSON's own escaping keeps the data exact. */
static char *escape_text(const char *s, smbcim_text_mode mode)
{
    char *e = smbcim_escape_text(s, mode);
    if (!e) {
        fputs("smbcim: out of memory\n", stderr);
        exit(1);
    }
    return e;
}

char *cli_visible(const char *s)
{
    return escape_text(s ? s : "", SMBCIM_TEXT_VISIBLE);
}

/* An integer value in decimal, as smbcim_value_text writes it, into buf
 * (24 bytes); its length. */
static size_t integer_text(char *buf, const cim_value *v)
{
    bool neg = cim_type_is_signed(v->type) && v->v.i < 0;
    uint64_t u = neg ? (uint64_t)0 - (uint64_t)v->v.i : v->v.u;
    char tmp[24];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    size_t k = 0;
    if (neg)
        buf[k++] = '-';
    while (n)
        buf[k++] = tmp[--n];
    return k;
}

/* Text that no escaping mode changes (printable ASCII without a
 * backslash: smbcim_escape_text's rules, docs/decisions.md, "Control
 * characters in output"), written as it is, without a copy. */
static bool plain_ascii(const char *s)
{
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x20 || *p > 0x7E || *p == '\\')
            return false;
    return true;
}

static char *dup_text(const char *s, size_t n)
{
    char *d = cli_alloc(n + 1, 1);
    memcpy(d, s, n);
    return d;
}

/* A value as the table, list and names show it: visible, NULL -> "".  A
 * NULL, an integer or a string of plain ASCII (the most of a table's
 * thousands of cells) is one allocation, not a text then its escape. */
static char *visible_value(const cim_value *v)
{
    if (v->null)
        return cli_alloc(1, 1);
    if (!v->array && cim_type_is_integer(v->type)) {
        char num[24];
        return dup_text(num, integer_text(num, v));
    }
    if (!v->array && cim_type_is_stringlike(v->type) && v->v.s && plain_ascii(v->v.s))
        return dup_text(v->v.s, strlen(v->v.s));
    char *t = value_text(v);
    char *e = escape_text(t, SMBCIM_TEXT_VISIBLE);
    free(t);
    return e;
}

/* ---- columns ------------------------------------------------------------- */
/* What table, list and csv print for a class: its properties, and the
 * system properties (__CLASS, __PATH, ...) a SELECT list names. */
typedef struct column {
    const char *name;
    int prop;          /* index in cls->props, or -1 */
    int sys;           /* index in the system properties, or -1 */
    cim_type type;
    bool selected;     /* named in the SELECT list */
} column;

static int cmp_columns(const void *a, const void *b)
{
    const column *x = a, *y = b;
    return strcasecmp(x->name, y->name);
}

/* The columns a result shows for instances of class c (inst: one of them,
 * whose unselected properties are left out; NULL: every property of c, for
 * a header with no rows), in the SELECT list's order when there is one,
 * else class order; sorted by name when `alpha`.  cols has room for
 * c->nprops + SMBCIM_NSYSPROPS entries. */
static size_t columns_of(const smbcim_ctx *ctx, const smbcim_result *res, const cim_class *c,
                         const cim_instance *inst, bool alpha, column *cols)
{
    size_t n = 0;
    if (res->select_props) {
        smbcim_sysprop sp[SMBCIM_NSYSPROPS];
        smbcim_class_sysprops(ctx, c, sp);
        for (size_t k = 0; k < res->nselect_props; k++) {
            const char *name = res->select_props[k];
            column col = {.prop = cim_class_prop_index(c, name), .sys = -1, .selected = true};
            if (col.prop >= 0) {
                col.name = c->props[col.prop].name;
                col.type = c->props[col.prop].type;
            } else {
                for (int j = 0; j < SMBCIM_NSYSPROPS; j++)
                    if (strcasecmp(sp[j].name, name) == 0)
                        col.sys = j;
                if (col.sys < 0)
                    continue;
                col.name = sp[col.sys].name;
                col.type = sp[col.sys].value.type;
            }
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup |= cols[j].prop == col.prop && cols[j].sys == col.sys;
            if (!dup)
                cols[n++] = col;
        }
    } else {
        for (size_t i = 0; i < c->nprops; i++)
            if (!inst || prop_shown(inst, i))
                cols[n++] = (column){.name = c->props[i].name, .prop = (int)i, .sys = -1,
                                     .type = c->props[i].type};
    }
    if (alpha)
        qsort(cols, n, sizeof(cols[0]), cmp_columns);
    return n;
}

/* The value of a column for inst (sp: inst's system properties, or NULL
 * when no column is one). */
static const cim_value *column_value(const column *col, const cim_instance *inst,
                                     const smbcim_sysprop *sp)
{
    return col->prop >= 0 ? &inst->values[col->prop] : &sp[col->sys].value;
}

static bool any_sys(const column *cols, size_t n)
{
    for (size_t j = 0; j < n; j++)
        if (cols[j].sys >= 0)
            return true;
    return false;
}

/* The columns of one row after another (csv, list): they depend on the
 * row's class and, in a projection, on the properties its instance has,
 * so they are worked out (and sorted by name) again only when either may
 * differ from the row before, not for each of thousands of rows of one
 * class. */
typedef struct row_columns {
    column *cols;
    size_t n;
    const cim_class *cls;
    bool masked;
} row_columns;

static void row_columns_for(row_columns *rc, const smbcim_ctx *ctx, const smbcim_result *res,
                            const cim_instance *inst)
{
    if (inst->cls == rc->cls && !inst->present && !rc->masked)
        return;
    if (inst->cls != rc->cls) {
        free(rc->cols);
        rc->cols = cli_alloc(inst->cls->nprops + SMBCIM_NSYSPROPS, sizeof *rc->cols);
    }
    rc->n = columns_of(ctx, res, inst->cls, inst, true, rc->cols);
    rc->cls = inst->cls;
    rc->masked = inst->present != NULL;
}

/* A JSON string.  line_safe: C1 controls and U+2028/U+2029 as \uXXXX too,
 * so that a line-oriented reader (watch: one event per line) never sees a
 * line end inside a value; the data stays exact either way. */
void cli_json_string(FILE *out, const char *s, bool line_safe)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        /* a run that needs no escape, written at once (one stdio call, not
         * one a byte: a locked call each once the process has threads) */
        const unsigned char *q = p;
        while (*q >= 0x20 && *q < 0x7F && *q != '"' && *q != '\\')
            q++;
        if (q > p) {
            fwrite(p, 1, (size_t)(q - p), out);
            p = q;
            if (!*p)
                break;
        }
        if (line_safe && p[0] == 0xC2 && p[1] >= 0x80 && p[1] <= 0x9F) {
            fprintf(out, "\\u%04x", p[1]);
            p++;
            continue;
        }
        if (line_safe && p[0] == 0xE2 && p[1] == 0x80 && (p[2] == 0xA8 || p[2] == 0xA9)) {
            fprintf(out, "\\u%04x", 0x2000 + p[2] - 0x80);
            p += 2;
            continue;
        }
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (*p < 0x20 || (line_safe && *p == 0x7F))
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void json_string(FILE *out, const char *s)
{
    cli_json_string(out, s, false);
}

static void json_scalar(FILE *out, const smbcim_ctx *ctx, const cim_value *v, int depth,
                        bool line_safe)
{
    switch (v->type) {
    case CIM_T_BOOLEAN:
        fputs(v->v.b ? "true" : "false", out);
        break;
    case CIM_T_SINT8: case CIM_T_SINT16: case CIM_T_SINT32: case CIM_T_SINT64:
        fprintf(out, "%" PRId64, v->v.i);
        break;
    case CIM_T_UINT8: case CIM_T_UINT16: case CIM_T_UINT32: case CIM_T_UINT64:
        fprintf(out, "%" PRIu64, v->v.u);
        break;
    case CIM_T_REAL32: case CIM_T_REAL64:
        if (isfinite(v->v.r))
            fprintf(out, "%.17g", v->v.r);
        else
            fputs("null", out); /* JSON has no NaN or infinity */
        break;
    case CIM_T_INSTANCE:
        if (v->v.o && depth < CLI_MAX_EMBED)
            cli_json_object(out, ctx, v->v.o, depth + 1, line_safe);
        else
            fputs("null", out);
        break;
    default:
        cli_json_string(out, v->v.s ? v->v.s : "", line_safe);
    }
}

void cli_json_value(FILE *out, const smbcim_ctx *ctx, const cim_value *v, int depth,
                    bool line_safe)
{
    if (v->null) {
        fputs("null", out);
    } else if (v->array) {
        fputc('[', out);
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                fputc(',', out);
            json_scalar(out, ctx, &v->v.elems[i], depth, line_safe);
        }
        fputc(']', out);
    } else {
        json_scalar(out, ctx, v, depth, line_safe);
    }
}

static void json_value(FILE *out, const smbcim_ctx *ctx, const cim_value *v)
{
    cli_json_value(out, ctx, v, 0, false);
}

static void json_sysprops(FILE *out, const smbcim_ctx *ctx, const smbcim_sysprop *sp,
                          int depth, bool line_safe)
{
    for (int k = 0; k < SMBCIM_NSYSPROPS; k++) {
        if (k)
            fputc(',', out);
        cli_json_string(out, sp[k].name, line_safe);
        fputc(':', out);
        cli_json_value(out, ctx, &sp[k].value, depth, line_safe);
    }
}

void cli_json_object(FILE *out, const smbcim_ctx *ctx, const cim_instance *inst, int depth,
                     bool line_safe)
{
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_instance_sysprops(ctx, NULL, inst, sp);
    fputc('{', out);
    json_sysprops(out, ctx, sp, depth, line_safe);
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        if (!prop_shown(inst, i))
            continue;
        fputc(',', out);
        cli_json_string(out, inst->cls->props[i].name, line_safe);
        fputc(':', out);
        cli_json_value(out, ctx, &inst->values[i], depth, line_safe);
    }
    fputc('}', out);
}

/* ---- table --------------------------------------------------------------- */
/* Columns are measured in display cells: a CJK character takes two, a
 * combining mark none (wcwidth() in the C.UTF-8 locale, whatever locale
 * the program runs in); code points when that locale does not exist. */
static locale_t utf8_locale(void)
{
    static locale_t loc;
    static bool tried;
    if (!tried) {
        tried = true;
        loc = newlocale(LC_CTYPE_MASK, "C.UTF-8", (locale_t)0);
    }
    return loc;
}

/* The code point at *p (valid UTF-8: the text is escaped), advancing p. */
static unsigned long next_cp(const unsigned char **p)
{
    const unsigned char *s = *p;
    unsigned long cp = s[0];
    size_t n = 1;
    if (cp >= 0xF0 && s[1] && s[2] && s[3]) {
        cp = ((cp & 0x07) << 18) | ((s[1] & 0x3Fu) << 12) | ((s[2] & 0x3Fu) << 6) | (s[3] & 0x3Fu);
        n = 4;
    } else if (cp >= 0xE0 && s[1] && s[2]) {
        cp = ((cp & 0x0F) << 12) | ((s[1] & 0x3Fu) << 6) | (s[2] & 0x3Fu);
        n = 3;
    } else if (cp >= 0xC0 && s[1]) {
        cp = ((cp & 0x1F) << 6) | (s[1] & 0x3Fu);
        n = 2;
    }
    *p = s + n;
    return cp;
}

static size_t cp_width(unsigned long cp)
{
    if (cp < 0x80)
        return 1;
    locale_t loc = utf8_locale();
    if (!loc)
        return 1;
    locale_t old = uselocale(loc);
    int w = wcwidth((wchar_t)cp);
    uselocale(old);
    return w < 0 ? 1 : (size_t)w;
}

size_t cli_text_width(const char *s)
{
    size_t n = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p;)
        n += cp_width(next_cp(&p));
    return n;
}

/* s cut to at most w cells, with "…" for what was cut (a malloc()ed
 * string). */
static char *fit(const char *s, size_t w)
{
    if (cli_text_width(s) <= w)
        return strcpy(cli_alloc(strlen(s) + 1, 1), s);
    const unsigned char *p = (const unsigned char *)s;
    size_t used = 0;
    while (*p) {
        const unsigned char *q = p;
        size_t cw = cp_width(next_cp(&q));
        if (used + cw + 1 > w) /* room for the ellipsis */
            break;
        used += cw;
        p = q;
    }
    size_t keep = (size_t)(p - (const unsigned char *)s);
    char *out = cli_alloc(keep + 4, 1);
    memcpy(out, s, keep);
    memcpy(out + keep, "\xE2\x80\xA6", 4); /* U+2026 */
    return out;
}

static bool right_aligned(cim_type t)
{
    return t != CIM_T_BOOLEAN && !cim_type_is_stringlike(t);
}

/* One line of a table, written without trailing spaces. */
typedef struct line {
    char *buf;
    size_t len, cap;
} line;

static void line_put(line *l, const char *s, size_t n)
{
    if (l->len + n + 1 > l->cap) {
        size_t cap = (l->len + n + 1) * 2;
        char *b = realloc(l->buf, cap);
        if (!b) {
            fputs("smbcim: out of memory\n", stderr);
            exit(1);
        }
        l->buf = b;
        l->cap = cap;
    }
    memcpy(l->buf + l->len, s, n);
    l->len += n;
    l->buf[l->len] = '\0';
}

static void line_pad(line *l, size_t n)
{
    while (n--)
        line_put(l, " ", 1);
}

static void line_end(FILE *out, line *l)
{
    while (l->len && l->buf[l->len - 1] == ' ')
        l->len--;
    fwrite(l->buf ? l->buf : "", 1, l->len, out);
    fputc('\n', out);
    l->len = 0;
}

/* One cell (cell text t, w display cells wide) in a column `width` wide. */
static void line_cell(line *l, const char *t, size_t width, bool right)
{
    size_t w = cli_text_width(t);
    if (right)
        line_pad(l, width - w);
    line_put(l, t, strlen(t));
    if (!right)
        line_pad(l, width - w);
}

static void print_list(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res);

/* Shrinks the widths (n columns, separated by one space) to fit `limit`
 * cells, the widest column first.  A text column keeps at least 6 cells
 * (or its natural width), a number its widest value (a number cut short
 * would read as another number: only its header is cut).  false when
 * even that does not fit. */
static bool shrink(size_t *width, const size_t *values, const bool *right, size_t n,
                   size_t limit)
{
    size_t total = n ? n - 1 : 0, least = total;
    size_t min[n ? n : 1];
    for (size_t j = 0; j < n; j++) {
        total += width[j];
        min[j] = right[j] ? (values[j] ? values[j] : 1) : (width[j] < 6 ? width[j] : 6);
        least += min[j];
    }
    if (total <= limit)
        return true;
    if (least > limit)
        return false;
    while (total > limit) {
        size_t best = n;
        for (size_t j = 0; j < n; j++)
            if (width[j] > min[j] && (best == n || width[j] > width[best]))
                best = j;
        /* down to the next narrower width (or its minimum), at most as
         * far as needed: a few steps, not one per cell */
        size_t next = min[best];
        for (size_t j = 0; j < n; j++)
            if (width[j] < width[best] && width[j] > next)
                next = width[j];
        size_t cut = width[best] - next;
        if (cut > total - limit)
            cut = total - limit;
        if (cut == 0)
            cut = 1;
        width[best] -= cut;
        total -= cut;
    }
    return true;
}

bool cli_table_cells(FILE *out, const char *const *heads, const bool *right, char *const *cells,
                     size_t nrows, size_t ncols, bool may_refuse)
{
    size_t width[ncols ? ncols : 1], values[ncols ? ncols : 1];
    memset(width, 0, sizeof(width)); /* (ncols 0: one unused entry, still set) */
    memset(values, 0, sizeof(values));
    for (size_t k = 0; k < ncols; k++) {
        for (size_t r = 0; r < nrows; r++) {
            size_t w = cli_text_width(cells[r * ncols + k]);
            if (w > values[k])
                values[k] = w;
        }
        width[k] = cli_text_width(heads[k]);
        if (values[k] > width[k])
            width[k] = values[k];
    }
    if (table_width) {
        size_t natural[ncols ? ncols : 1];
        memcpy(natural, width, sizeof(natural));
        if (!shrink(width, values, right, ncols, table_width)) {
            if (may_refuse)
                return false;
            memcpy(width, natural, sizeof(natural)); /* printed uncut */
        }
    }
    line l = {0};
    for (size_t k = 0; k < ncols; k++) {
        char *h = fit(heads[k], width[k]);
        line_cell(&l, h, width[k], right[k]);
        line_put(&l, " ", 1);
        free(h);
    }
    line_end(out, &l);
    for (size_t k = 0; k < ncols; k++) {
        size_t len = cli_text_width(heads[k]);
        if (len > width[k])
            len = width[k];
        char dashes[len + 1];
        memset(dashes, '-', len);
        dashes[len] = '\0';
        line_cell(&l, dashes, width[k], right[k]);
        line_put(&l, " ", 1);
    }
    line_end(out, &l);
    for (size_t r = 0; r < nrows; r++) {
        for (size_t k = 0; k < ncols; k++) {
            char *t = fit(cells[r * ncols + k], width[k]);
            line_cell(&l, t, width[k], right[k]);
            line_put(&l, " ", 1);
            free(t);
        }
        line_end(out, &l);
    }
    free(l.buf);
    return true;
}

/* A table of the instances rows[0..nrows) of one class.  Columns NULL in
 * every row are left out unless the SELECT list names them (a note on
 * stderr says which); a table wider than the output is cut (cells end in
 * "…"), or printed as a list when even 6 cells a column do not fit. */
static void table_group(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res,
                        const cim_instance **rows, size_t nrows)
{
    const cim_class *c = rows[0]->cls;
    column all[c->nprops + SMBCIM_NSYSPROPS];
    size_t nall = columns_of(ctx, res, c, rows[0], false, all);
    bool sys = any_sys(all, nall);
    char **cells = cli_alloc(nrows * nall + 1, sizeof(char *));
    bool *nonnull = cli_alloc(nall + 1, sizeof(bool));
    for (size_t r = 0; r < nrows; r++) {
        smbcim_sysprop sp[SMBCIM_NSYSPROPS];
        if (sys)
            smbcim_instance_sysprops(ctx, res, rows[r], sp);
        for (size_t j = 0; j < nall; j++) {
            const cim_value *v = column_value(&all[j], rows[r], sys ? sp : NULL);
            nonnull[j] |= !v->null;
            cells[r * nall + j] = visible_value(v); /* measured escaped: as printed */
        }
    }
    /* the columns shown: idx[k] is a column of all[] */
    size_t idx[nall ? nall : 1], n = 0;
    for (size_t j = 0; j < nall; j++)
        if (all[j].selected || nonnull[j])
            idx[n++] = j;
    if (n == 0) /* everything NULL: show it all rather than nothing */
        for (; n < nall; n++)
            idx[n] = n;
    if (n < nall) {
        fflush(out);
        fprintf(stderr, "smbcim: %s: not shown, NULL in every row:", c->name);
        for (size_t j = 0, k = 0; j < nall; j++) {
            if (k < n && idx[k] == j) {
                k++;
                continue;
            }
            fprintf(stderr, " %s", all[j].name);
        }
        fputc('\n', stderr);
    }
    const char *heads[n ? n : 1];
    bool right[n ? n : 1];
    char **shown = cli_alloc(nrows * n + 1, sizeof(char *));
    for (size_t k = 0; k < n; k++) {
        heads[k] = all[idx[k]].name;
        right[k] = right_aligned(all[idx[k]].type);
        for (size_t r = 0; r < nrows; r++)
            shown[r * n + k] = cells[r * nall + idx[k]];
    }
    if (!cli_table_cells(out, heads, right, shown, nrows, n, true)) {
        fflush(out);
        fprintf(stderr, "smbcim: %s: %zu columns do not fit in %zu: printed as a list\n",
                c->name, n, table_width);
        smbcim_result sub = *res;
        sub.instances = rows;
        sub.count = nrows;
        print_list(out, ctx, &sub);
    }
    for (size_t i = 0; i < nrows * nall; i++)
        free(cells[i]);
    free(shown);
    free(cells);
    free(nonnull);
}

static void print_class_rows(FILE *out, const smbcim_result *res)
{
    size_t w = strlen("Name");
    for (size_t i = 0; i < res->count; i++)
        if (strlen(res->classes[i]->name) > w)
            w = strlen(res->classes[i]->name);
    fprintf(out, "%-*s Superclass\n", (int)w, "Name");
    fprintf(out, "%-*s ----------\n", (int)w, "----");
    for (size_t i = 0; i < res->count; i++) {
        const cim_class *c = res->classes[i];
        if (c->super_name)
            fprintf(out, "%-*s %s\n", (int)w, c->name, c->super_name);
        else
            fprintf(out, "%s\n", c->name);
    }
}

/* One table per class, in the order the classes first appear; labelled
 * "Class: NAME" when the result has more than one. */
static void print_table(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    if (res->is_classes) {
        if (res->count)
            print_class_rows(out, res);
        return;
    }
    size_t n = res->count;
    const cim_class **classes = cli_alloc(n + 1, sizeof(*classes));
    size_t nclasses = 0;
    for (size_t i = 0; i < n; i++) {
        const cim_class *c = res->instances[i]->cls;
        size_t k = 0;
        while (k < nclasses && classes[k] != c)
            k++;
        if (k == nclasses)
            classes[nclasses++] = c;
    }
    const cim_instance **rows = cli_alloc(n + 1, sizeof(*rows));
    for (size_t k = 0; k < nclasses; k++) {
        size_t nrows = 0;
        for (size_t i = 0; i < n; i++)
            if (res->instances[i]->cls == classes[k])
                rows[nrows++] = res->instances[i];
        if (k)
            fputc('\n', out);
        if (nclasses > 1)
            fprintf(out, "Class: %s\n\n", classes[k]->name);
        table_group(out, ctx, res, rows, nrows);
    }
    free(rows);
    free(classes);
}

/* ---- list ---------------------------------------------------------------- */
static void print_list(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    row_columns rc = {0};
    for (size_t i = 0; i < res->count; i++) {
        fputs("\n\n", out);
        if (res->is_classes) {
            const cim_class *c = res->classes[i];
            fprintf(out, "Name=%s\nSuperclass=%s\n", c->name, c->super_name ? c->super_name : "");
            continue;
        }
        const cim_instance *inst = res->instances[i];
        row_columns_for(&rc, ctx, res, inst);
        const column *cols = rc.cols;
        size_t n = rc.n;
        smbcim_sysprop sp[SMBCIM_NSYSPROPS];
        bool sys = any_sys(cols, n);
        if (sys)
            smbcim_instance_sysprops(ctx, res, inst, sp);
        for (size_t j = 0; j < n; j++) {
            /* escaped: a line feed in a value cannot forge a Name= line */
            char *t = visible_value(column_value(&cols[j], inst, sys ? sp : NULL));
            fprintf(out, "%s=%s\n", cols[j].name, t);
            free(t);
        }
    }
    free(rc.cols);
    if (res->count)
        fputs("\n\n", out);
}

/* ---- csv ----------------------------------------------------------------- */
/* One field, escaped (SMBCIM_TEXT_CSV).  A text field (a string-like value, a
 * name) that starts with = + - @ TAB or CR, which a spreadsheet would take
 * for a formula, gets a ' before it and quotes (OWASP's advice on CSV
 * injection); numbers keep their sign (-5 stays -5). */
void cli_csv_field(FILE *out, const char *s, bool text)
{
    char *own = plain_ascii(s) ? NULL : escape_text(s, SMBCIM_TEXT_CSV);
    const char *e = own ? own : s;
    size_t len = strlen(e);
    bool formula = text && e[0] && strchr("=+-@\t\r", e[0]);
    bool quote = formula || strpbrk(e, ",\"\r\n") != NULL || (e[0] == ' ') ||
                 (len && e[len - 1] == ' ');
    if (!quote) {
        fwrite(e, 1, len, out);
        free(own);
        return;
    }
    /* the field in one write: in quotes, each quote doubled */
    size_t need = 2 * len + 4;
    char small[512];
    char *buf = need <= sizeof small ? small : cli_alloc(need, 1);
    size_t k = 0;
    buf[k++] = '"';
    if (formula)
        buf[k++] = '\'';
    for (const char *p = e; *p; p++) {
        buf[k++] = *p;
        if (*p == '"')
            buf[k++] = '"';
    }
    buf[k++] = '"';
    fwrite(buf, 1, k, out);
    if (buf != small)
        free(buf);
    free(own);
}

static void csv_header(FILE *out, const column *cols, size_t n)
{
    fputs("Node", out);
    for (size_t j = 0; j < n; j++) {
        fputc(',', out);
        cli_csv_field(out, cols[j].name, true);
    }
    fputs("\r\n", out);
}

static void print_csv(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    if (res->is_classes) {
        fputs("Name,Superclass\r\n", out);
        for (size_t i = 0; i < res->count; i++) {
            cli_csv_field(out, res->classes[i]->name, true);
            fputc(',', out);
            cli_csv_field(out, res->classes[i]->super_name ? res->classes[i]->super_name : "", true);
            fputs("\r\n", out);
        }
        return;
    }
    if (res->count == 0 && res->query_class) {
        /* nothing matched: the header alone, so that a reader of the CSV
         * still sees the columns */
        const cim_class *c = res->query_class;
        column cols[c->nprops + SMBCIM_NSYSPROPS];
        csv_header(out, cols, columns_of(ctx, res, c, NULL, true, cols));
        return;
    }
    const cim_class *hdr = NULL;
    row_columns rc = {0};
    for (size_t i = 0; i < res->count; i++) {
        const cim_instance *inst = res->instances[i];
        row_columns_for(&rc, ctx, res, inst);
        const column *cols = rc.cols;
        size_t n = rc.n;
        if (inst->cls != hdr) {
            /* a new header when the class changes (superclass queries) */
            if (hdr)
                fputs("\r\n", out);
            csv_header(out, cols, n);
            hdr = inst->cls;
        }
        smbcim_sysprop sp[SMBCIM_NSYSPROPS];
        bool sys = any_sys(cols, n);
        if (sys)
            smbcim_instance_sysprops(ctx, res, inst, sp);
        cli_csv_field(out, smbcim_server_name(ctx), true);
        for (size_t j = 0; j < n; j++) {
            const cim_value *v = column_value(&cols[j], inst, sys ? sp : NULL);
            fputc(',', out);
            if (v->null)
                continue; /* NULL: an empty field */
            if (!v->array && cim_type_is_integer(v->type)) { /* digits: never quoted */
                char num[24];
                fwrite(num, 1, integer_text(num, v), out);
                continue;
            }
            /* a string as it is; other values as text */
            bool str = cim_type_is_stringlike(v->type) && !v->array && v->v.s;
            char *t = str ? NULL : value_text(v);
            cli_csv_field(out, str ? v->v.s : t, cim_type_is_stringlike(cols[j].type));
            free(t);
        }
        fputs("\r\n", out);
    }
    free(rc.cols);
}

/* ---- json ---------------------------------------------------------------- */
static void json_class(FILE *out, const smbcim_ctx *ctx, const cim_class *c)
{
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_class_sysprops(ctx, c, sp);
    fputc('{', out);
    json_sysprops(out, ctx, sp, 0, false);
    fputs(",\"Abstract\":", out);
    fputs(c->abstract ? "true" : "false", out);
    fputs(",\"Association\":", out);
    fputs(c->association ? "true" : "false", out);
    fputs(",\"Properties\":[", out);
    for (size_t i = 0; i < c->nprops; i++) {
        const cim_property *p = &c->props[i];
        if (i)
            fputc(',', out);
        fputs("{\"Name\":", out);
        json_string(out, p->name);
        fputs(",\"Type\":", out);
        json_string(out, cim_type_name(p->type));
        if (p->ref_class) {
            fputs(",\"ReferenceClass\":", out);
            json_string(out, p->ref_class);
        }
        fprintf(out, ",\"Array\":%s,\"Key\":%s,\"ClassOrigin\":", p->array ? "true" : "false",
                p->key ? "true" : "false");
        json_string(out, p->origin ? p->origin : c->name);
        fputc('}', out);
    }
    fputs("]}", out);
}

static void print_json(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    fputc('[', out);
    for (size_t i = 0; i < res->count; i++) {
        fputs(i ? ",\n" : "\n", out);
        if (res->is_classes) {
            json_class(out, ctx, res->classes[i]);
            continue;
        }
        const cim_instance *inst = res->instances[i];
        smbcim_sysprop sp[SMBCIM_NSYSPROPS];
        smbcim_instance_sysprops(ctx, res, inst, sp);
        fputc('{', out);
        json_sysprops(out, ctx, sp, 0, false);
        column cols[inst->cls->nprops + SMBCIM_NSYSPROPS];
        size_t n = columns_of(ctx, res, inst->cls, inst, false, cols);
        for (size_t j = 0; j < n; j++) {
            if (cols[j].prop < 0)
                continue; /* the system properties are all above */
            fputc(',', out);
            json_string(out, cols[j].name);
            fputc(':', out);
            json_value(out, ctx, &inst->values[cols[j].prop]);
        }
        fputc('}', out);
    }
    fputs(res->count ? "\n]\n" : "]\n", out);
}

/* ---- mof ----------------------------------------------------------------- */
static void mof_scalar(FILE *out, const cim_value *v)
{
    if (v->null) {
        fputs("NULL", out);
    } else if (cim_type_is_stringlike(v->type)) {
        char *e = escape_text(v->v.s ? v->v.s : "", SMBCIM_TEXT_MOF);
        fprintf(out, "\"%s\"", e);
        free(e);
    } else {
        char *t = value_text(v);
        fputs(t, out);
        free(t);
    }
}

static void tabs(FILE *out, int n)
{
    while (n-- > 0)
        fputc('\t', out);
}

/* An instance as GetObjectText prints it (smbcim_instance_mof's layout:
 * class order, NULL and unselected properties left out), with every
 * string literal escaped as DSP0004 says: a value cannot end its literal
 * or its line.  An embedded object is nested, indented one tab more. */
void cli_mof_instance(FILE *out, const cim_instance *inst, int depth)
{
    fprintf(out, "instance of %s\n", inst->cls->name);
    tabs(out, depth);
    fputs("{\n", out);
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        const cim_value *v = &inst->values[i];
        if (!prop_shown(inst, i) || v->null)
            continue;
        tabs(out, depth + 1);
        fprintf(out, "%s = ", inst->cls->props[i].name);
        if (v->type == CIM_T_INSTANCE && !v->array) {
            if (v->v.o && depth + 1 < CLI_MAX_EMBED)
                cli_mof_instance(out, v->v.o, depth + 1);
            else
                fputs("NULL;\n", out);
            continue;
        }
        if (v->array) {
            fputc('{', out);
            for (uint32_t k = 0; k < v->count; k++) {
                if (k)
                    fputs(", ", out);
                mof_scalar(out, &v->v.elems[k]);
            }
            fputc('}', out);
        } else {
            mof_scalar(out, v);
        }
        fputs(";\n", out);
    }
    tabs(out, depth);
    fputs("};\n", out);
}

static void print_mof(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    (void)ctx;
    for (size_t i = 0; i < res->count; i++) {
        if (i)
            fputc('\n', out);
        if (!res->is_classes) {
            cli_mof_instance(out, res->instances[i], 0);
            continue;
        }
        char *t = smbcim_class_mof(res->classes[i]); /* the schema's own text */
        fputs(t, out);
        free(t);
    }
}

static const cli_formatter formatters[] = {
    {"table", print_table},
    {"list", print_list},
    {"json", print_json},
    {"csv", print_csv},
    {"mof", print_mof},
};

const cli_formatter *cli_formatter_find(const char *name)
{
    for (size_t i = 0; i < sizeof(formatters) / sizeof(formatters[0]); i++)
        if (strcmp(formatters[i].name, name) == 0)
            return &formatters[i];
    return NULL;
}

void cli_print_names(FILE *out, const smbcim_result *res, bool json)
{
    if (json)
        fputc('[', out);
    for (size_t i = 0; i < res->count; i++) {
        const char *p = res->is_classes ? res->classes[i]->name : res->instances[i]->path;
        if (!p)
            continue;
        if (json) {
            fputs(i ? ",\n" : "\n", out);
            json_string(out, p);
        } else {
            char *e = escape_text(p, SMBCIM_TEXT_VISIBLE);
            fprintf(out, "%s\n", e);
            free(e);
        }
    }
    if (json)
        fputs(res->count ? "\n]\n" : "]\n", out);
}

void cli_print_class_list(FILE *out, const smbcim_ctx *ctx, const cli_formatter *f)
{
    size_t n = smbcim_class_count(ctx);
    const cim_class *list[n ? n : 1];
    for (size_t i = 0; i < n; i++)
        list[i] = smbcim_class_at(ctx, i);
    smbcim_result res = {.count = n, .classes = list, .is_classes = true};
    f->print(out, ctx, &res);
}
