/*
 * watch.h - `smbcim watch QUERY` (and `smbcim query` given an event
 * query): polls the live server or replays snapshots through the library's
 * watcher (smbcim_watch_*) and prints each event as it comes, in every
 * output format.  man/smbcim.1 and docs/wql.md ("Event queries") describe
 * it.  Sees only the public API (smbcim.h).
 */
#ifndef SMBCIM_CLI_WATCH_H
#define SMBCIM_CLI_WATCH_H

#include <stdbool.h>
#include <stddef.h>

typedef struct cli_watch_opts {
    /* --snapshot, in the order given: files, or directories whose *.json
     * files are replayed in name order (numbers in names compare as
     * numbers: 2.json before 10.json).  None: the live server. */
    const char *const *snapshots;
    size_t nsnapshots;
    const char *smb_conf;   /* live: the configuration (NULL: Samba's default) */
    const char *format;     /* table (NULL), list, json, csv, mof */
    unsigned long count;    /* stop after this many events; 0: never */
    double timeout;         /* stop after this many seconds; 0: never */
} cli_watch_opts;

/* Runs the watch until `count` events, the timeout, SIGINT or SIGTERM
 * (exit status 0; a signal is taken only between polls, so no event is
 * cut in the middle), or, over snapshots, the end of the sequence.  Events
 * are printed as they are found, each flushed: json one object per line;
 * table, list, csv and mof a block per event.  A snapshot sequence is
 * replayed one state per WITHIN interval, at once when the environment
 * sets SMBCIM_WATCH_NOWAIT=1.  Returns the exit status (cli.h, cli_exit_for
 * of a WBEM error: of the query, the first state, a snapshot of the
 * sequence; a failed live read is a warning and the watch goes on).  Installs handlers for SIGINT
 * and SIGTERM and blocks them outside its waits, for the rest of the
 * process's life. */
int cli_watch(const cli_watch_opts *o, const char *wql);

/* Whether wql is an event query (SELECT from an event class such as
 * __InstanceCreationEvent): then `query` runs it as `watch` does. */
bool cli_is_event_query(const char *wql);

/* The values of --count (a whole number, 1 or more) and --timeout (seconds,
 * fractions allowed, more than 0); false when s is not one. */
bool cli_watch_parse_count(const char *s, unsigned long *out);
bool cli_watch_parse_timeout(const char *s, double *out);

#endif
