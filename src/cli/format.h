/*
 * format.h - the CLI's output formats behind one interface.  A formatter
 * sees only the public API (smbcim.h): results, instances, classes.
 */
#ifndef SMBCIM_CLI_FORMAT_H
#define SMBCIM_CLI_FORMAT_H

#include <stdio.h>
#include "smbcim.h"

typedef struct cli_formatter {
    const char *name;
    /* Prints every object of res (instances or classes) to out. */
    void (*print)(FILE *out, const smbcim_ctx *ctx, const smbcim_result *res);
} cli_formatter;

/* s with every character that could steer a terminal or start a line
 * made visible, as the table, list and names formats print data: for
 * messages on stderr, which may quote a query or data.  NULL -> "".  The
 * caller frees the result. */
char *cli_visible(const char *s);
/* Embedded objects nest (an aggregate's Representative holds an event
 * holding a TargetInstance); deeper ones are printed as NULL. */
#define CLI_MAX_EMBED 8

/* The pieces the event printer (watch.c) shares with the formats. */
/* A JSON string; line_safe also escapes C1 controls, DEL and U+2028/9 (for
 * one-object-per-line output). */
void cli_json_string(FILE *out, const char *s, bool line_safe);
/* A value as JSON (NULL null, arrays, an embedded object as an object);
 * depth: how deep in embedded objects it is. */
void cli_json_value(FILE *out, const smbcim_ctx *ctx, const cim_value *v, int depth,
                    bool line_safe);
/* An object as the json format prints an instance: its system properties,
 * then its shown properties. */
void cli_json_object(FILE *out, const smbcim_ctx *ctx, const cim_instance *inst, int depth,
                     bool line_safe);
/* One CSV field: escaped, quoted when needed; a text that a spreadsheet
 * would take for a formula gets a ' (text: the value is string-like). */
void cli_csv_field(FILE *out, const char *s, bool text);
/* An instance as MOF (GetObjectText), embedded objects nested. */
void cli_mof_instance(FILE *out, const cim_instance *inst, int depth);
/* Display cells of a text (CJK two, combining marks none). */
size_t cli_text_width(const char *s);
/* A table: heads[ncols], right[ncols] (right-aligned), cells[nrows*ncols]
 * (texts already made visible; not freed), header, dashes, rows, cut to
 * the output width as the table format is.  When it cannot fit even cut:
 * false and nothing printed if may_refuse, else printed uncut. */
bool cli_table_cells(FILE *out, const char *const *heads, const bool *right, char *const *cells,
                     size_t nrows, size_t ncols, bool may_refuse);

/* The width (in display cells) tables are cut to; 0 = no limit. */
void cli_format_set_width(size_t cols);
/* "table", "list", "json", "csv", "mof"; NULL if unknown. */
const cli_formatter *cli_formatter_find(const char *name);
/* Paths only (the `names` command): one per line, or a JSON array. */
void cli_print_names(FILE *out, const smbcim_result *res, bool json);
/* The class list (`classes`): Name and Superclass. */
void cli_print_class_list(FILE *out, const smbcim_ctx *ctx, const cli_formatter *f);

#endif
