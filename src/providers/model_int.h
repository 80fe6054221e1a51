/*
 * model_int.h - private to src/providers: the merged view of a source state
 * that every SessionProvider class is cut from.  Built once per context.
 *
 *   share      one per share in the list, plus one synthesized per share
 *              name a tree connect uses that the list lacks
 *   conn       one per (ComputerName, ShareName, UserName): the tree
 *              connects with that key merged (Win32_ServerConnection)
 *   sess       one per (ComputerName, UserName): the sessions with that
 *              key merged (Win32_ServerSession)
 *   session    one per Samba session of a merged sess (MSFT_SmbSession)
 *   open       one per open of the state whose smbd is known
 *              (MSFT_SmbOpenFile), with the share, connection and session
 *              it belongs to when Samba's records tell
 */
#ifndef SMBCIM_MODEL_INT_H
#define SMBCIM_MODEL_INT_H

#include "providers/provider.h"

typedef struct sc_mshare {
    const sc_share *rec;   /* NULL when synthesized */
    const char *name;
    cim_instance *inst;    /* built on first use (share.c) */
    const char *ref;       /* its REF text in association instances (assoc.c) */
    struct sc_mconn *first_conn, *last_conn; /* its connections */
} sc_mshare;

typedef struct sc_msess {
    const char *computer;
    const char *user;
    uint32_t resources;       /* opens of the merged sessions */
    bool resources_known;
    sc_time oldest;           /* oldest start known for the group */
    bool smb2;                /* every merged session is SMB2 or later */
    bool dialect_known;
    cim_instance *inst;       /* built on first use (session.c) */
    const char *ref;          /* its REF text in association instances (assoc.c) */
    struct sc_mconn *first_conn, *last_conn; /* its connections */
} sc_msess;

typedef struct sc_mconn {
    const char *computer;
    const char *share_name;   /* the share's own spelling */
    const char *user;
    const sc_tcon *oldest;    /* oldest tree connect of the group */
    uint32_t ntcons;          /* NumberOfUsers */
    uint32_t nfiles;          /* NumberOfFiles */
    bool nfiles_known;
    sc_mshare *share;
    sc_msess *sess;           /* the merged session it belongs to */
    cim_instance *inst;       /* built on first use (connection.c) */
    const char *ref;          /* its REF text in association instances (assoc.c) */
    cim_instance *share_link; /* its Win32_ConnectionShare (assoc.c) */
    cim_instance *sess_link;  /* its Win32_SessionConnection (assoc.c) */
    struct sc_mconn *next_in_share, *next_in_sess;
} sc_mconn;

typedef struct sc_mopen {
    const sc_open *rec;
    uint64_t file_id;         /* FileId: smbd's pid and its share_file_id (values.md) */
    sc_mconn *conn;           /* the connection it was opened through, or NULL */
    sc_msess *sess;           /* its session, or NULL */
    sc_mshare *share;         /* its share, or NULL */
    const sc_session *session; /* the one Samba session it belongs to, or NULL */
    const char *computer;     /* the client machine of its smbd, or NULL */
    cim_instance *inst;       /* built on first use (openfile.c) */
    cim_instance *share_link, *conn_link, *sess_link; /* built once (openfile.c) */
} sc_mopen;

typedef struct sc_msession {
    const sc_session *rec;
    sc_msess *sess;           /* its merged session */
    sc_time start;            /* creation time, else its first tree connect */
    uint32_t nopens;          /* opens of its smbd by its uid (SC_MODEL_COUNTS) */
    bool nopens_known;
    cim_instance *inst;       /* built on first use (smbsession.c) */
} sc_msession;

/* How much of the model is built: each level reads more of the state
 * (sources.h, SC_PART_*), so a request reads only what it needs. */
typedef enum sc_model_level {
    SC_MODEL_SHARES,  /* the configured shares: no part of smbd's state */
    SC_MODEL_CONNS,   /* + sessions, connections, the shares they use (SC_PART_CONNS) */
    SC_MODEL_COUNTS,  /* + NumberOfFiles, ResourcesOpened (SC_PART_OPENS) */
} sc_model_level;

typedef struct sc_model {
    sc_model_level level;
    size_t nrec;              /* how many of the state's shares are in */
    sc_mshare **shares;
    size_t nshares;
    sc_mconn *conns;
    size_t nconns;
    sc_msess *sesss;
    size_t nsesss;
    /* look-ups by key, case-insensitive (sc_model_find_*) */
    sc_map share_by_name;     /* Name -> sc_mshare */
    sc_map sess_by_key;       /* ComputerName, UserName -> sc_msess */
    sc_map conn_by_key;       /* ComputerName, ShareName, UserName -> sc_mconn */
    sc_msess **sess_of;       /* per state session: its merged session, or NULL */
    sc_msession *sessions;    /* the state sessions that have a merged session */
    size_t nsessions;
    sc_map session_by_id;     /* SessionId (decimal) -> sc_msession */
    size_t sessions_without_id; /* ... and those whose id is not a number (smbstatus text) */
    sc_mconn **conn_of;       /* per state tree connect: its connection, or NULL */
    /* The open files (sc_model_opens), built once after SC_MODEL_COUNTS. */
    bool opens_built;
    sc_mopen *opens;
    size_t nopens;
    size_t opens_without_id;  /* opens the source gave without their share_file_id */
    size_t opens_unnumbered;  /* opens whose pid or share_file_id does not fit FileId */
} sc_model;

/* Value of string key `name` in a resolved path, or NULL. */
const char *sc_path_key(const cim_objpath *p, const char *name);
/* Value of uint64 key `name` in a resolved path; false when it has none. */
bool sc_path_u64(const cim_objpath *p, const char *name, uint64_t *out);
/* The same as decimal text (in a), or NULL: the form the model's map of
 * sessions by id uses. */
const char *sc_path_u64_key(sc_arena *a, const cim_objpath *p, const char *name);

/* The model of pc->state built up to `level` (each level once per
 * context), reading the parts of the state it needs.  When they cannot be
 * read, the status with err set (WBEM_E_ACCESS_DENIED when not root); with
 * `optional`, ACCESS_DENIED leaves the model at the level it has (the
 * shares of the configuration alone) and succeeds. */
smbcim_status sc_model_at(sc_provctx *pc, sc_model_level level, bool optional, sc_model **out,
                          smbcim_error *err);

/* The model at SC_MODEL_COUNTS with its open files matched to their
 * shares, connections and sessions (docs/values.md, "MSFT_SmbOpenFile").
 * Fails as sc_model_at does, and with WBEM_E_NOT_AVAILABLE when the
 * source gave opens without their ids (smbstatus' text output). */
smbcim_status sc_model_opens(sc_provctx *pc, sc_model **out, smbcim_error *err);

/* ComputerName as Windows shows it: IPv6 addresses in brackets. */
const char *sc_model_computer_name(sc_arena *a, const char *remote_machine);
/* UserName as Windows shows it: a DOMAIN\ prefix dropped. */
const char *sc_model_user_name(const char *username);

/* The instance of one model entry, built once (class looked up in the
 * schema by name). */
cim_instance *sc_share_instance(sc_provctx *pc, sc_mshare *s);
cim_instance *sc_conn_instance(sc_provctx *pc, sc_mconn *c);
cim_instance *sc_sess_instance(sc_provctx *pc, sc_msess *s);
/* An entry's key properties by name (at most 3: Win32_ServerConnection's),
 * the one list its instance and its path are made from. */
typedef struct sc_keyset {
    const char *cls;
    size_t n;
    const char *names[3];
    cim_value values[3];
} sc_keyset;
/* A new instance of k's class with its keys set (the rest NULL). */
cim_instance *sc_keyset_instance(sc_provctx *pc, const sc_keyset *k);
/* The relative path of the instance k names (cim_keys_relpath_spelled). */
const char *sc_keyset_relpath(sc_provctx *pc, const sc_keyset *k, const char *const *spellings);

/* The relative path of a connection's or a session's instance, key names
 * spelled as in `spellings` (cim_instance_relpath_spelled), made from its
 * keys alone: a REF to it needs neither the instance nor the open files
 * (SC_MODEL_CONNS is enough).  The same text as the path of the instance
 * sc_conn_instance or sc_sess_instance builds.  In pc's arena. */
const char *sc_conn_relpath(sc_provctx *pc, const sc_mconn *c, const char *const *spellings);
const char *sc_sess_relpath(sc_provctx *pc, const sc_msess *s, const char *const *spellings);
/* The connection or session with these key values (case-insensitive), or
 * NULL; any NULL argument gives NULL.  m: at SC_MODEL_CONNS or above. */
sc_mconn *sc_model_find_conn(sc_model *m, const char *computer, const char *share,
                             const char *user);
sc_msess *sc_model_find_sess(sc_model *m, const char *computer, const char *user);
/* A record's decimal id (a tcon or session id) as a value of type t
 * (CIM_T_UINT32 or CIM_T_UINT64); NULL when it is missing, not a number
 * or too large for t. */
cim_value sc_id_value(const char *id, cim_type t);
/* A string property's value, or NULL. */
const char *sc_value_str(const cim_instance *inst, const char *name);

/* ActiveTime: whole seconds from start to the state's taken_at; NULL
 * when either is unknown, 0 when start is later (clock skew). */
cim_value sc_active_time(const sc_state *st, sc_time start);

/* The providers, listed in registry.c. */
extern const sc_provider sc_share_provider;
extern const sc_provider sc_connection_provider;
extern const sc_provider sc_session_provider;
extern const sc_provider sc_connshare_provider;
extern const sc_provider sc_sessconn_provider;
extern const sc_provider sc_openfile_provider;
extern const sc_provider sc_smbsession_provider;
extern const sc_provider sc_shareopen_provider;
extern const sc_provider sc_connopen_provider;
extern const sc_provider sc_sessopen_provider;
/* root\\interop (interop.c) */
extern const sc_provider sc_objectmanager_provider;
extern const sc_provider sc_indicationservice_provider;
extern const sc_provider sc_namespace_provider;
extern const sc_provider sc_nsinmanager_provider;
extern const sc_provider sc_regprofile_provider;
extern const sc_provider sc_conformsto_provider;
extern const sc_provider sc_indfilter_provider;
extern const sc_provider sc_listenerdest_provider;
extern const sc_provider sc_indsubscription_provider;

/* Fills relpath and path of a finished instance. */
void sc_instance_finish(sc_provctx *pc, cim_instance *inst);

#endif
