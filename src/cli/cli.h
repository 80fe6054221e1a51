/*
 * cli.h - what the commands of the smbcim command line share: the options
 * as parsed (main.c), how a context is opened from them, and how a WBEM
 * failure is reported and turned into an exit status.
 */
#ifndef SMBCIM_CLI_CLI_H
#define SMBCIM_CLI_CLI_H

#include <stdbool.h>
#include "smbcim.h"

/* Exit statuses (man/smbcim.1, EXIT STATUS).  One per kind of failure, so
 * that a script can tell "no such share" from "not allowed" from "smbd is
 * not running" without parsing messages. */
enum {
    CLI_EXIT_OK = 0,
    CLI_EXIT_FAILED = 1,        /* WBEM_E_FAILED and anything not below */
    CLI_EXIT_USAGE = 2,         /* the command line itself */
    CLI_EXIT_INVALID = 3,       /* invalid query, path, class, property, parameter */
    CLI_EXIT_NOT_FOUND = 4,     /* WBEM_E_NOT_FOUND */
    CLI_EXIT_ACCESS_DENIED = 5, /* WBEM_E_ACCESS_DENIED */
    CLI_EXIT_NOT_AVAILABLE = 6, /* the source cannot be read (smbd not running, ...) */
    CLI_EXIT_LIMIT = 7,         /* WBEM_E_QUOTA_VIOLATION: a limit was exceeded */
};

typedef struct cli_opts {
    const char *snapshot;
    const char *smb_conf;     /* live source: the configuration file */
    const char *format;       /* NULL: the command's default */
    /* enum */
    const char *where;        /* --where CONDITION */
    const char *property;     /* --property A,B,... */
    /* associators, references */
    const char *assoc_class, *result_class, *role, *result_role;
    bool keys_only;
} cli_opts;

/* The exit status for a WBEM status (CLI_EXIT_OK for WBEM_S_NO_ERROR). */
int cli_exit_for(smbcim_status st);
/* Prints "smbcim: WBEM_E_<NAME> (0x8004....): <message>" on stderr and
 * returns the exit status for err->code. */
int cli_wbem_fail(const smbcim_error *err);
/* Opens the context the options name: a snapshot, the live server, or
 * (when the command needs no state and no snapshot was given) the schema
 * only.  NULL with err set on failure. */
smbcim_ctx *cli_open_ctx(const cli_opts *o, bool needs_state, smbcim_error *err);
/* After a request on a live context: how its state was read, and any
 * warning, on stderr. */
void cli_report_live(const smbcim_ctx *ctx);

#endif
