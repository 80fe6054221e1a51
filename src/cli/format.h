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
/* The width (in display cells) tables are cut to; 0 = no limit. */
void cli_format_set_width(size_t cols);
/* "table", "list", "json", "csv", "mof"; NULL if unknown. */
const cli_formatter *cli_formatter_find(const char *name);
/* Paths only (the `names` command): one per line, or a JSON array. */
void cli_print_names(FILE *out, const smbcim_result *res, bool json);
/* The class list (`classes`): Name and Superclass. */
void cli_print_class_list(FILE *out, const smbcim_ctx *ctx, const cli_formatter *f);

#endif
