/*
 * format.c - table (PowerShell Format-Table), list (wmic /format:list),
 * json, csv (RFC 4180, with wmic's Node column) and mof (GetObjectText).
 * NULL prints as nothing (null in JSON).  man/smbcim.1 describes each
 * format; docs/decisions.md ("Output") the choices, and the escaping rules
 * ("Control characters in output") that escape_text() below implements.
 */
#include "cli/format.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

/* A value as the table, list and names show it: visible, NULL -> "". */
static char *visible_value(const cim_value *v)
{
    char *t = value_text(v);
    char *e = escape_text(t, SMBCIM_TEXT_VISIBLE);
    free(t);
    return e;
}

static int cmp_names(const void *a, const void *b)
{
    const char *const *x = a, *const *y = b;
    return strcasecmp(*x, *y);
}

/* Indices of the shown properties of inst: in the SELECT list order when
 * there is one, else class order; sorted by name when `alpha`. */
/* The properties a result shows for an instance of class c (inst: that
 * instance, whose unselected properties are left out; NULL: every
 * property of c, for a header with no rows). */
static size_t class_props(const smbcim_result *res, const cim_class *c,
                          const cim_instance *inst, bool alpha, size_t *idx)
{
    size_t n = 0;
    if (res->select_props) {
        for (size_t k = 0; k < res->nselect_props; k++) {
            int i = cim_class_prop_index(c, res->select_props[k]);
            if (i < 0)
                continue;
            bool dup = false;
            for (size_t j = 0; j < n; j++)
                dup |= idx[j] == (size_t)i;
            if (!dup)
                idx[n++] = (size_t)i;
        }
    } else {
        for (size_t i = 0; i < c->nprops; i++)
            if (!inst || prop_shown(inst, i))
                idx[n++] = i;
    }
    if (alpha) {
        const char *names[n ? n : 1];
        for (size_t j = 0; j < n; j++)
            names[j] = c->props[idx[j]].name;
        qsort(names, n, sizeof(names[0]), cmp_names);
        for (size_t j = 0; j < n; j++)
            idx[j] = (size_t)cim_class_prop_index(c, names[j]);
    }
    return n;
}

static size_t shown_props(const smbcim_result *res, const cim_instance *inst, bool alpha,
                          size_t *idx)
{
    return class_props(res, inst->cls, inst, alpha, idx);
}

static void json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': fputs("\\\"", out); break;
        case '\\': fputs("\\\\", out); break;
        case '\n': fputs("\\n", out); break;
        case '\r': fputs("\\r", out); break;
        case '\t': fputs("\\t", out); break;
        case '\b': fputs("\\b", out); break;
        case '\f': fputs("\\f", out); break;
        default:
            if (*p < 0x20)
                fprintf(out, "\\u%04x", *p);
            else
                fputc(*p, out);
        }
    }
    fputc('"', out);
}

static void json_scalar(FILE *out, const cim_value *v)
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
        fprintf(out, "%.17g", v->v.r);
        break;
    default:
        json_string(out, v->v.s ? v->v.s : "");
    }
}

static void json_value(FILE *out, const cim_value *v)
{
    if (v->null) {
        fputs("null", out);
    } else if (v->array) {
        fputc('[', out);
        for (uint32_t i = 0; i < v->count; i++) {
            if (i)
                fputc(',', out);
            json_scalar(out, &v->v.elems[i]);
        }
        fputc(']', out);
    } else {
        json_scalar(out, v);
    }
}

/* ---- table --------------------------------------------------------------- */
/* Columns are measured in characters (UTF-8 code points), not bytes. */
static size_t width_of(const char *s)
{
    size_t n = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            n++;
    return n;
}

static void pad(FILE *out, size_t n)
{
    while (n--)
        fputc(' ', out);
}

static bool right_aligned(cim_type t)
{
    return t != CIM_T_BOOLEAN && !cim_type_is_stringlike(t);
}

static void table_group(FILE *out, const smbcim_result *res, size_t from, size_t to)
{
    const cim_instance *first = res->instances[from];
    const cim_class *c = first->cls;
    size_t idx[c->nprops ? c->nprops : 1];
    size_t n = shown_props(res, first, false, idx);
    size_t width[n ? n : 1];
    size_t rows = to - from;
    char **cells = cli_alloc(rows * n + 1, sizeof(char *));
    for (size_t j = 0; j < n; j++)
        width[j] = width_of(c->props[idx[j]].name);
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < n; j++) {
            char *t = visible_value(&res->instances[from + r]->values[idx[j]]);
            cells[r * n + j] = t; /* measured escaped: as it is printed */
            if (width_of(t) > width[j])
                width[j] = width_of(t);
        }
    }
    for (int line = 0; line < 2; line++) {
        for (size_t j = 0; j < n; j++) {
            const cim_property *p = &c->props[idx[j]];
            size_t len = strlen(p->name);
            bool last = j + 1 == n;
            if (line == 0) {
                if (right_aligned(p->type))
                    fprintf(out, "%*s%s", (int)(width[j] - len), "", p->name);
                else
                    fprintf(out, "%s%*s", p->name, last ? 0 : (int)(width[j] - len), "");
            } else {
                if (right_aligned(p->type))
                    fprintf(out, "%*s", (int)(width[j] - len), "");
                for (size_t k = 0; k < len; k++)
                    fputc('-', out);
                if (!right_aligned(p->type) && !last)
                    fprintf(out, "%*s", (int)(width[j] - len), "");
            }
            if (!last)
                fputc(' ', out);
        }
        fputc('\n', out);
    }
    for (size_t r = 0; r < rows; r++) {
        for (size_t j = 0; j < n; j++) {
            const char *t = cells[r * n + j];
            bool last = j + 1 == n;
            size_t w = width_of(t);
            if (right_aligned(c->props[idx[j]].type)) {
                pad(out, width[j] - w);
                fputs(t, out);
            } else {
                fputs(t, out);
                if (!last)
                    pad(out, width[j] - w);
            }
            if (!last)
                fputc(' ', out);
            free(cells[r * n + j]);
        }
        fputc('\n', out);
    }
    free(cells);
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
        fprintf(out, "%-*s %s\n", (int)w, c->name, c->super_name ? c->super_name : "");
    }
}

static void print_table(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    (void)ctx;
    if (res->is_classes) {
        if (res->count)
            print_class_rows(out, res);
        return;
    }
    size_t from = 0;
    for (size_t i = 1; i <= res->count; i++) {
        if (i == res->count || res->instances[i]->cls != res->instances[from]->cls) {
            if (from)
                fputc('\n', out);
            table_group(out, res, from, i);
            from = i;
        }
    }
}

/* ---- list ---------------------------------------------------------------- */
static void print_list(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    (void)ctx;
    for (size_t i = 0; i < res->count; i++) {
        fputs("\n\n", out);
        if (res->is_classes) {
            const cim_class *c = res->classes[i];
            fprintf(out, "Name=%s\nSuperclass=%s\n", c->name, c->super_name ? c->super_name : "");
            continue;
        }
        const cim_instance *inst = res->instances[i];
        size_t idx[inst->cls->nprops ? inst->cls->nprops : 1];
        size_t n = shown_props(res, inst, true, idx);
        for (size_t j = 0; j < n; j++) {
            /* escaped: a line feed in a value cannot forge a Name= line */
            char *t = visible_value(&inst->values[idx[j]]);
            fprintf(out, "%s=%s\n", inst->cls->props[idx[j]].name, t);
            free(t);
        }
    }
    if (res->count)
        fputs("\n\n", out);
}

/* ---- csv ----------------------------------------------------------------- */
/* One field, escaped (SMBCIM_TEXT_CSV).  A text field (a string-like value, a
 * name) that starts with = + - @ TAB or CR, which a spreadsheet would take
 * for a formula, gets a ' before it and quotes (OWASP's advice on CSV
 * injection); numbers keep their sign (-5 stays -5). */
static void csv_field(FILE *out, const char *s, bool text)
{
    char *e = escape_text(s, SMBCIM_TEXT_CSV);
    bool formula = text && e[0] && strchr("=+-@\t\r", e[0]);
    bool quote = formula || strpbrk(e, ",\"\r\n") != NULL || (e[0] == ' ') ||
                 (e[0] && e[strlen(e) - 1] == ' ');
    if (!quote) {
        fputs(e, out);
        free(e);
        return;
    }
    /* runs up to each quote written whole, the quote doubled */
    fputc('"', out);
    if (formula)
        fputc('\'', out);
    for (const char *p = e, *q; *p; p = q + 1) {
        q = strchr(p, '"');
        if (!q) {
            fputs(p, out);
            break;
        }
        fwrite(p, 1, (size_t)(q - p) + 1, out);
        fputc('"', out);
    }
    fputc('"', out);
    free(e);
}

static void csv_header(FILE *out, const cim_class *c, const size_t *idx, size_t n)
{
    fputs("Node", out);
    for (size_t j = 0; j < n; j++) {
        fputc(',', out);
        csv_field(out, c->props[idx[j]].name, true);
    }
    fputs("\r\n", out);
}

static void print_csv(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    if (res->is_classes) {
        fputs("Name,Superclass\r\n", out);
        for (size_t i = 0; i < res->count; i++) {
            csv_field(out, res->classes[i]->name, true);
            fputc(',', out);
            csv_field(out, res->classes[i]->super_name ? res->classes[i]->super_name : "", true);
            fputs("\r\n", out);
        }
        return;
    }
    if (res->count == 0 && res->query_class) {
        /* nothing matched: the header alone, so that a reader of the CSV
         * still sees the columns */
        const cim_class *c = res->query_class;
        size_t idx[c->nprops ? c->nprops : 1];
        csv_header(out, c, idx, class_props(res, c, NULL, true, idx));
        return;
    }
    const cim_class *hdr = NULL;
    for (size_t i = 0; i < res->count; i++) {
        const cim_instance *inst = res->instances[i];
        size_t idx[inst->cls->nprops ? inst->cls->nprops : 1];
        size_t n = shown_props(res, inst, true, idx);
        if (inst->cls != hdr) {
            /* a new header when the class changes (superclass queries) */
            if (hdr)
                fputs("\r\n", out);
            csv_header(out, inst->cls, idx, n);
            hdr = inst->cls;
        }
        csv_field(out, smbcim_server_name(ctx), true);
        for (size_t j = 0; j < n; j++) {
            char *t = value_text(&inst->values[idx[j]]);
            fputc(',', out);
            csv_field(out, t, cim_type_is_stringlike(inst->cls->props[idx[j]].type));
            free(t);
        }
        fputs("\r\n", out);
    }
}

/* ---- json ---------------------------------------------------------------- */
static void json_sysprops(FILE *out, const smbcim_sysprop *sp)
{
    for (int k = 0; k < SMBCIM_NSYSPROPS; k++) {
        if (k)
            fputc(',', out);
        json_string(out, sp[k].name);
        fputc(':', out);
        json_value(out, &sp[k].value);
    }
}

static void json_class(FILE *out, const smbcim_ctx *ctx, const cim_class *c)
{
    smbcim_sysprop sp[SMBCIM_NSYSPROPS];
    smbcim_class_sysprops(ctx, c, sp);
    fputc('{', out);
    json_sysprops(out, sp);
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
        json_sysprops(out, sp);
        size_t idx[inst->cls->nprops ? inst->cls->nprops : 1];
        size_t n = shown_props(res, inst, false, idx);
        for (size_t j = 0; j < n; j++) {
            fputc(',', out);
            json_string(out, inst->cls->props[idx[j]].name);
            fputc(':', out);
            json_value(out, &inst->values[idx[j]]);
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

/* An instance as GetObjectText prints it (smbcim_instance_mof's layout:
 * class order, NULL and unselected properties left out), with every
 * string literal escaped as DSP0004 says: a value cannot end its literal
 * or its line. */
static void mof_instance(FILE *out, const cim_instance *inst)
{
    fprintf(out, "instance of %s\n{\n", inst->cls->name);
    for (size_t i = 0; i < inst->cls->nprops; i++) {
        const cim_value *v = &inst->values[i];
        if (!prop_shown(inst, i) || v->null)
            continue;
        fprintf(out, "\t%s = ", inst->cls->props[i].name);
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
    fputs("};\n", out);
}

static void print_mof(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res)
{
    (void)ctx;
    for (size_t i = 0; i < res->count; i++) {
        if (i)
            fputc('\n', out);
        if (!res->is_classes) {
            mof_instance(out, res->instances[i]);
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
