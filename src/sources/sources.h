/*
 * sources.h - the plain records every data source produces (a snapshot
 * file now; the live Samba and MS-SRVS sources later), and the snapshot
 * reader.  No CIM types here: providers turn these records into instances.
 *
 * Ownership: a sc_state and everything it points to live in the arena given
 * to the function that made it.
 */
#ifndef SMBCIM_SOURCES_H
#define SMBCIM_SOURCES_H

#include <stdbool.h>
#include <stdint.h>
#include "smbcim.h"
#include "base/base.h"

typedef enum sc_share_kind {
    SC_SHARE_DISK = 0,    /* STYPE_DISKTREE */
    SC_SHARE_PRINTER = 1, /* STYPE_PRINTQ */
    SC_SHARE_DEVICE = 2,  /* STYPE_DEVICE */
    SC_SHARE_IPC = 3,     /* STYPE_IPC */
} sc_share_kind;

/* A point in time: seconds since the epoch (UTC) and microseconds. */
typedef struct sc_time {
    int64_t sec;
    int32_t usec;
    bool valid;
} sc_time;

typedef struct sc_share {
    const char *name;
    sc_share_kind kind;
    bool administrative;
    const char *path;     /* NULL when unknown */
    const char *comment;  /* NULL when unknown */
    uint32_t max_connections; /* 0 = unlimited */
    bool max_known;       /* false when the source does not know the limit */
} sc_share;

/* A Samba server_id: which smbd process serves something.  pid is its
 * decimal pid, or "VNN:PID" on a CTDB cluster (the node, then the
 * process), as smbstatus prints it. */
typedef struct sc_server_id {
    const char *pid;
    const char *unique_id; /* may be NULL */
} sc_server_id;
#define SC_NO_VNN 0xFFFFFFFFu /* no node: not clustered (Samba's NONCLUSTER_VNN) */
/* The numbers of a server id's pid text: *vnn SC_NO_VNN when it has no
 * node; false when the text is neither form. */
bool sc_server_pid_parse(const char *text, uint32_t *vnn, uint64_t *pid);

typedef struct sc_session {
    const char *session_id;
    sc_server_id server;
    int64_t uid;            /* -1 when unknown */
    const char *username;   /* as Samba reports it (may carry DOMAIN\) */
    const char *remote_machine;
    const char *hostname;   /* "ipv4:IP:PORT" */
    const char *dialect;    /* "SMB3_11", "NT1", ... or NULL */
    sc_time creation_time;  /* Samba 4.20+; invalid otherwise */
} sc_session;

typedef struct sc_tcon {
    const char *tcon_id;
    const char *service;    /* share name as connected */
    const char *session_id;
    sc_server_id server;
    const char *machine;
    sc_time connected_at;
} sc_tcon;

typedef struct sc_open {
    sc_server_id server;
    int64_t uid;
    const char *service_path;
    const char *filename;
    uint32_t access_mask;
    sc_time opened_at;
    /* Samba's share_file_id: the open's number within its smbd process
     * (unique with the pid, not alone); unknown in smbstatus' text
     * output. */
    uint64_t file_id;
    bool file_id_known;
} sc_open;

/* The parts of a state a source may read only when a request needs them
 * (the live source does; a snapshot has all of them from the start). */
#define SC_PART_CONNS 1u  /* sessions and tree connects (and the [homes] shares they use) */
#define SC_PART_OPENS 2u  /* open files */
#define SC_PARTS_ALL (SC_PART_CONNS | SC_PART_OPENS)

struct sc_state;
/* Reads the parts of st that `parts` asks for and it lacks; set by the
 * source that made st (NULL: it has every part).  On failure it sets
 * st->sessions_status and st->sessions_note (and marks every part as
 * present, empty) before returning the status. */
typedef smbcim_status (*sc_state_fill_fn)(struct sc_state *st, unsigned parts, void *priv,
                                          smbcim_error *err);

typedef struct sc_state {
    const char *server_name;  /* as given; providers upper-case it */
    sc_time taken_at;         /* when the sessions were read (or the state opened) */
    /* The configured shares first, in order; filling SC_PART_CONNS may
     * replace the array by a longer one (the [homes] shares in use
     * appended) whose first entries are the same: pointers into the old
     * array stay valid, as both live in the state's arena. */
    sc_share *shares;
    size_t nshares;
    sc_session *sessions;
    size_t nsessions;
    sc_tcon *tcons;
    size_t ntcons;
    sc_open *opens;
    size_t nopens;
    /* Live source only: the sessions, tree connects and opens could not be
     * read.  WBEM_S_NO_ERROR with a note: smbd is not running (there are
     * none), or the note carries the configuration's warnings
     * (sc_smbconf.warnings, joined with "; "; also after "smbd is not
     * running ..."); an error status: requests that need them fail with
     * it. */
    smbcim_status sessions_status;
    const char *sessions_note;
    unsigned have;            /* SC_PART_* present (read, or known empty) */
    sc_state_fill_fn fill;    /* NULL when have == SC_PARTS_ALL from the start */
    void *fill_priv;
} sc_state;

/* Makes sure st has `parts` (SC_PART_*), reading what it lacks through its
 * source, once: a failed read is remembered and not retried.  Returns
 * WBEM_S_NO_ERROR when they are there (empty, with sessions_note set, when
 * smbd is not running); else the status they could not be read with
 * (WBEM_E_ACCESS_DENIED when not root), err set to the reason. */
smbcim_status sc_state_fill(sc_state *st, unsigned parts, smbcim_error *err);

/* Parses an ISO 8601 timestamp as Samba prints it:
 * "2026-11-24T12:00:00.000000+00:00", "+0000" offsets, "Z", or no
 * fraction.  Returns false on anything else. */
bool sc_time_parse(const char *s, sc_time *out);

/* Reads a snapshot document (docs/snapshot-format.md) from memory.
 * Errors: WBEM_E_INVALID_PARAMETER with the JSON path of the fault
 * ("$.smbstatus.tcons.\"123\".service: expected a string") or the
 * line/column of a JSON syntax error.  Unknown keys are ignored; a
 * missing required key or one of the wrong type is an error. */
smbcim_status sc_snapshot_parse(sc_arena *a, const char *buf, size_t len,
                                const char *origin, sc_state **out,
                                smbcim_error *err);
/* Same, reading the file at path ("-": standard input); errors name the
 * file.  A regular file, a pipe or a socket (or, on standard input, a
 * terminal); anything else (a device, a directory) is refused unopened
 * with "cannot read snapshot FILE: it is a character device, not a regular
 * file or a pipe".  At most SC_SNAPSHOT_MAX_FILE bytes: a larger regular
 * file is refused by its size ("... 600000000 bytes, more than the limit
 * of 536870912 bytes (512 MiB)"); a pipe is read until it gives more, then
 * refused.  Every refusal is WBEM_E_INVALID_PARAMETER, as a bad document. */
smbcim_status sc_snapshot_load(sc_arena *a, const char *path, sc_state **out,
                               smbcim_error *err);
/* The size cap of a snapshot: 512 MiB, twice the largest snapshot of the
 * benchmark (bench/: 10,000 shares, 50,000 sessions, 100,000 tree
 * connects, 200,000 opens: 257 MB), whose reading needs about 2x the file
 * in memory. */
#define SC_SNAPSHOT_MAX_FILE ((size_t)512 * 1024 * 1024)
/* sc_snapshot_load with another cap (tests). */
smbcim_status sc_snapshot_load_limit(sc_arena *a, const char *path, size_t max,
                                     sc_state **out, smbcim_error *err);

/* Appends st as a version-1 snapshot document (docs/snapshot-format.md). */
void sc_snapshot_write(const sc_state *st, sc_buf *out);

/* ------------------------------------------------------------------------
 * Samba's configuration (samba_conf.c), read in-process as smbd reads it.
 */
#ifndef SC_SAMBA_LOCKDIR
#define SC_SAMBA_LOCKDIR "/run/samba"          /* Debian's compiled-in LOCKDIR */
#endif
#ifndef SC_SAMBA_PIDDIR
#define SC_SAMBA_PIDDIR "/run/samba"
#endif
#ifndef SC_CTDBD_SOCKET
#define SC_CTDBD_SOCKET "/run/ctdb/ctdbd.socket"  /* Debian's CTDB_SOCKET */
#endif
#ifndef SC_SAMBA_USERSHARES
#define SC_SAMBA_USERSHARES "/var/lib/samba/usershares"
#endif
#ifndef SC_SAMBA_CONFIGFILE
#define SC_SAMBA_CONFIGFILE "/etc/samba/smb.conf"
#endif

/* Limits on what the configuration reader reads (docs/live-source.md,
 * "Files read, and their limits"): smb.conf, each include and the printcap
 * are regular files (symlinks followed) of at most SC_SMBCONF_MAX_FILE
 * bytes, 16 MiB (a large smb.conf is a few hundred KiB); a usershare file
 * is a regular file, not a symlink, of at most SC_USERSHARE_MAX_FILE bytes:
 * smbd's own MAX_USERSHARE_FILE_SIZE (source3/param/loadparm.c). */
#define SC_SMBCONF_MAX_FILE (16 * 1024 * 1024)
#define SC_USERSHARE_MAX_FILE (10 * 1024)

typedef struct sc_smbconf {
    const char *config_file;
    const char *netbios_name;   /* upper case; the host name by default */
    const char *server_string;  /* % macros expanded */
    const char *lock_dir, *pid_dir;
    /* `clustering = yes`: smbd keeps its session, tree-connect and locking
     * databases in CTDB, reached over ctdbd_socket (`ctdbd socket`, else
     * SC_CTDBD_SOCKET); the lock directory does not hold them. */
    bool clustering;
    const char *ctdbd_socket;
    sc_share *shares;           /* file order, then printers, usershares, IPC$ */
    size_t nshares;
    bool homes;                 /* a [homes] section exists */
    const char *homes_path;     /* its path, % macros unexpanded (may be NULL) */
    const char *homes_comment;
    uint32_t homes_max;
    /* What was skipped, and why: usershare files smbd would refuse (a
     * FIFO, a symlink, too large ...), includes that are directories or
     * devices, a printcap that is not a regular file.  At most 16, then
     * "... and N more warnings". */
    const char **warnings;
    size_t nwarnings;
} sc_smbconf;

/* Loads the configuration at path.  Errors: WBEM_E_NOT_AVAILABLE when the
 * file cannot be read (missing, unreadable, not a regular file, larger
 * than SC_SMBCONF_MAX_FILE: "cannot read the Samba configuration FILE:
 * WHY"), or when an include smbd would read is a FIFO or too large
 * ("FILE:LINE: cannot read the included file INC: WHY");
 * WBEM_E_INVALID_PARAMETER with "file:line: ..." for a syntax error or an
 * include loop; WBEM_E_FAILED when a registry configuration cannot be
 * read. */
smbcim_status sc_smbconf_load(sc_arena *a, const char *path, sc_smbconf **out,
                              smbcim_error *err);
/* The same over text, following nothing outside it (no includes, registry,
 * usershares or printcap): for tests and the fuzz target. */
smbcim_status sc_smbconf_parse_text(sc_arena *a, const char *text, size_t len,
                                    const char *origin, sc_smbconf **out, smbcim_error *err);
/* The Samba release smbcim was built against ("" if unknown). */
const char *sc_samba_version(void);

/* ------------------------------------------------------------------------
 * The live local smbd (samba_live.c).
 */
typedef struct sc_live_info {
    /* "config" (nothing but the configuration needed yet), "tdb", "ctdb"
     * (cluster-wide through ctdbd, clustering = yes),
     * "smbstatus" (some part came through the fallback) or "none" (smbd
     * not running, or its state not readable) */
    const char *route;
    const char *config_file, *lock_dir;
    size_t records;           /* database records read (tdb route) */
    char fallback_reason[512];/* why the tdb route was left, or "" */
} sc_live_info;

/* Reads the configuration (smb_conf, NULL: Samba's default path) and
 * checks whether its smbd runs; smbd's sessions, tree connects and open
 * files are read later, by sc_state_fill, when a request needs them (so a
 * request for the shares alone reads no database and needs no root).
 * Errors here: those of sc_smbconf_load.  Errors of the fill:
 * WBEM_E_ACCESS_DENIED when the lock directory cannot be read (not root);
 * WBEM_E_FAILED when a database cannot be read or the smbstatus fallback
 * fails.  info, if non-NULL, must live as long as the state: the fill
 * updates its route. */
smbcim_status sc_live_load(sc_arena *a, const char *smb_conf, sc_state **out,
                           sc_live_info *info, smbcim_error *err);
/* Runs argv (PATH search) with standard input from /dev/null and the
 * environment envp (NULL: this process's).  Returns its standard output in
 * the arena (*len bytes, NUL-terminated) and its wait status; its standard
 * error goes to *err_out (in the arena) when err_out is non-NULL, else to
 * /dev/null.  NULL, with errno set, if it could not be started. */
char *sc_run_capture(sc_arena *a, char *const argv[], char *const envp[], size_t *len,
                     char **err_out, int *status);
/* ... and a child that has not finished after sc_run_timeout() seconds is
 * killed (SIGKILL): NULL with errno ETIMEDOUT.  SC_RUN_TIMEOUT, or
 * SMBCIM_RUN_TIMEOUT (1 to 3600) from the environment. */
#define SC_RUN_TIMEOUT 30
/* The installed Samba's version, from `smbd --version` ("Version
 * 4.17.12-Debian" -> "4.17.12-Debian"), in the arena; NULL with err set
 * (WBEM_E_NOT_AVAILABLE when smbd is not found, WBEM_E_FAILED when it
 * fails or prints something else). */
char *sc_installed_samba_version(sc_arena *a, smbcim_error *err);
unsigned sc_run_timeout(void);

/* ------------------------------------------------------------------------
 * CTDB (ctdb.c): a cluster-wide read of clustered volatile databases through
 * ctdbd's Unix socket, as smbstatus does on a cluster node.
 */
/* One packet from ctdbd, parsed in place (pointers into the packet). */
typedef struct sc_ctdb_packet {
    uint32_t operation, reqid;
    int32_t status;                 /* a control reply's */
    const uint8_t *data, *error;    /* its data and error text; a message's data */
    uint32_t datalen, errorlen;
    uint64_t srvid;                 /* a message's */
    bool is_record, end;            /* a message holding a traverse record; the end marker */
    uint32_t rec_reqid;
    const uint8_t *key, *value;     /* value: the 24-byte ltdb header, then the record */
    uint32_t keylen, valuelen;
} sc_ctdb_packet;
/* The pure parsers (fuzzed): false with why ("a packet whose length field
 * says 9 bytes, not 40") when the bytes are not what ctdbd sends. */
bool sc_ctdb_parse_packet(const uint8_t *p, size_t len, sc_ctdb_packet *out, char *why,
                          size_t whylen);
bool sc_ctdb_parse_nodemap(const uint8_t *p, size_t len, uint32_t *pnns, uint32_t *flags,
                           size_t max, size_t *n, char *why, size_t whylen);
bool sc_ctdb_parse_dbmap(const uint8_t *p, size_t len, uint32_t *ids, size_t max, size_t *n,
                         char *why, size_t whylen);

typedef struct sc_ctdb sc_ctdb;
#define SC_CTDB_STOPPED 1u /* not an error: WMI's WBEM_S_FALSE */
/* Connects to ctdbd at sock and finds the databases names[0..2] (NULL with
 * err: WBEM_E_FAILED, or WBEM_E_ACCESS_DENIED when not root).  Nothing waits
 * past deadline (CLOCK_MONOTONIC seconds).  Closed with sc_ctdb_close. */
sc_ctdb *sc_ctdb_open(const char *sock, const char *const names[3], double deadline,
                      bool *timed_out, smbcim_error *err);
/* Whether the last failure was the deadline passing. */
bool sc_ctdb_timed_out(const sc_ctdb *x);
void sc_ctdb_close(sc_ctdb *x);
uint32_t sc_ctdb_pnn(const sc_ctdb *x);
/* "node 0 OK (this one), node 1 disconnected, ..." */
void sc_ctdb_nodes_text(const sc_ctdb *x, char *out, size_t n);
/* Called per record: its database (0..2, the index into sc_ctdb_open's
 * names), the key, the value without its ltdb header, and the node that
 * holds it; non-zero stops the traverse. */
typedef int (*sc_ctdb_rec_fn)(int which, const uint8_t *key, size_t klen, const uint8_t *val,
                              size_t vlen, uint32_t dmaster, void *priv);
/* Every record of the databases names[k] whose bit (1 << k) is in `which`,
 * cluster-wide, each once (from its dmaster), the databases traversed at
 * the same time (their records interleaved).  WBEM_S_NO_ERROR;
 * SC_CTDB_STOPPED when fn stopped it (*last: the database of the record
 * it stopped at); an error (ctdbd refused, did not answer by the deadline,
 * a traverse as slow as ctdbd's TraverseTimeout, which cuts it silently)
 * in the open's err. */
smbcim_status sc_ctdb_traverse(sc_ctdb *x, unsigned which, sc_ctdb_rec_fn fn, void *priv,
                               int *last);
/* An smbd of another node, and whether it runs. */
typedef struct sc_ctdb_server {
    uint32_t vnn, pid;
    uint64_t unique_id;     /* 0xFFFFFFFFFFFFFFFF: the pid alone is asked about */
    bool exists;            /* the answer */
    bool asked, answered;   /* sc_ctdb_servers_exist's own */
} sc_ctdb_server;
/* Asks each server's node whether the process still runs, as Samba's
 * serverid_exists does for another node's process: CHECK_PID_SRVID (the
 * pid is a client of that node's ctdbd and has registered its unique id),
 * or PROCESS_EXISTS for a server id without a unique id.  A node the node
 * map shows disconnected or deleted is not asked: its processes are gone.
 * The controls go out pipelined; an error (a node that does not answer by
 * the deadline, the connection lost) in the open's err. */
smbcim_status sc_ctdb_servers_exist(sc_ctdb *x, sc_ctdb_server *s, size_t n);

/* ------------------------------------------------------------------------
 * Decoders of smbd's own records (samba_ndr.c): pure functions over the
 * bytes of one TDB value.  Each returns false, with a message in why
 * ("session record: non-zero alignment padding at byte 12 of 900"), when
 * the record is not of the layout it knows; strings go to the arena.
 */
typedef struct sc_ndr_session {
    bool deleted;             /* an empty or deleted record: skip it */
    uint32_t session_id;
    uint64_t pid, unique_id;  /* channel 0's smbd */
    uint32_t vnn;             /* ... its CTDB node (0xFFFFFFFF: not clustered) */
    uint64_t creation_time, auth_time; /* NTTIME */
    uint16_t dialect;         /* 0x0311, 0x0302, ..., 0x00ff = SMB1 */
    uint8_t signing_flags, encryption_flags;
    const char *local_address, *remote_address, *remote_name;
    bool authenticated;       /* has a Unix token */
    int64_t uid, gid;         /* -1 while authenticating */
    const char *unix_name;    /* may be NULL */
} sc_ndr_session;

typedef struct sc_ndr_tcon {
    bool deleted;
    uint32_t tcon_id, session_id;
    uint64_t pid, unique_id;
    uint32_t vnn;
    uint64_t creation_time;   /* NTTIME */
    const char *share_name;
    uint8_t signing_flags, encryption_flags;
} sc_ndr_tcon;

typedef struct sc_ndr_open {
    uint64_t pid, unique_id;
    uint32_t vnn;
    uint32_t access_mask, share_access, uid;
    int64_t time_sec;
    uint32_t time_usec;
    uint64_t share_file_id;
} sc_ndr_open;

typedef struct sc_ndr_file {
    uint64_t devid, inode, extid;
    const char *service_path, *base_name, *stream_name;
    sc_ndr_open *opens;
    size_t nopens;
} sc_ndr_file;

/* The record kinds, for sc_ndr_layout_name. */
typedef enum sc_ndr_kind { SC_NDR_SESSION, SC_NDR_TCON, SC_NDR_LOCKING } sc_ndr_kind;

/* layouts (in/out, may be NULL): a set of layouts (bit k = the k-th
 * newest layout of that kind).  0: any layout smbcim knows; the set the
 * record fits is stored and the newest of it decodes the record.
 * Non-zero: only those (what the database's first record fitted: one smbd
 * writes one layout). */
bool sc_ndr_decode_session(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_session *out,
                           unsigned *layouts, char *why, size_t whylen);
bool sc_ndr_decode_tcon(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_tcon *out,
                        unsigned *layouts, char *why, size_t whylen);
bool sc_ndr_decode_locking(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_file *out,
                           unsigned *layouts, char *why, size_t whylen);
/* The Samba releases a set of layouts covers ("Samba 4.17-4.19"), written
 * into buf. */
const char *sc_ndr_layout_name(sc_ndr_kind kind, unsigned layouts, char *buf, size_t len);

/* ------------------------------------------------------------------------
 * The smbstatus route (samba_live.c): text `smbstatus -n` parsed.  Pure
 * functions over smbstatus' standard output, for the unit tests.
 */
typedef struct sc_smbstatus_text {
    sc_session *sessions;     /* session_id "s1", "s2", ...; username NULL */
    size_t nsessions;
    sc_tcon *tcons;           /* tcon_id "t1", ...; session_id NULL until linked */
    size_t ntcons;
    const char **tcon_lines;  /* each tree connect's line, trimmed */
    sc_open *opens;
    size_t nopens;
    const char *version;      /* "Samba version X": X, or NULL */
    bool has_sessions, has_tcons, has_opens; /* the tables seen */
} sc_smbstatus_text;

/* Parses the output of text smbstatus run with -n in the C locale and UTC
 * (LC_ALL=C TZ=UTC0): the session, tree-connect and open tables of Samba
 * 4.15-4.25, any of them.  share_paths (may be NULL) are the known share
 * paths, to split an open's share path from its file name when either
 * holds "   ".  A line that fits no known layout is an error:
 * WBEM_E_FAILED, "ORIGIN: line N: WHAT, in a layout smbcim does not
 * know: \"LINE\"". */
smbcim_status sc_smbstatus_text_parse(sc_arena *a, const char *text, size_t len,
                                      const char *origin, const char *const *share_paths,
                                      size_t npaths, sc_smbstatus_text *out, smbcim_error *err);
/* The uids whose tree connects `smbstatus -S -n -u UID` must list for
 * sc_smbstatus_text_link: one smbd (and machine) serves sessions of
 * several of them.  All of them but one; sorted; in the arena. */
size_t sc_smbstatus_text_uids_needed(sc_arena *a, const sc_smbstatus_text *t, int64_t **uids);
/* Gives each tree connect its session: the one of its smbd and machine;
 * when that smbd serves several uids, the uid whose listing (listings[i]
 * parsed from `-S -n -u uids[i]`) has the tree connect's line, or else
 * the one uid without a listing.  Tree connects left without a session
 * (it is gone, or not listed yet) are dropped, as the tdb route does. */
void sc_smbstatus_text_link(sc_arena *a, sc_smbstatus_text *t, const int64_t *uids,
                            const sc_smbstatus_text *listings, size_t nlistings);

/* ---- root\\interop's records (interop.c) ------------------------------------
 * The caller's description of the object manager and its subscriptions
 * (smbcim_interop, include/smbcim.h), checked and deep-copied into a:
 * names given, unique, subscriptions naming a filter and a destination
 * given, reserved members zero.  WBEM_E_INVALID_PARAMETER otherwise. */
smbcim_status sc_interop_copy(sc_arena *a, const smbcim_interop *in,
                              const smbcim_interop **out, smbcim_error *err);

#endif
