/*
 * samba_live.c - the live state of the local smbd, read the way smbstatus
 * reads it: the configuration in-process (samba_conf.c), and the session,
 * tree-connect and locking databases in smbd's lock directory through
 * libtdb, each record decoded by samba_ndr.c.  One pass over each database:
 * linear in sessions, tree connects and opens, no process started.
 *
 * When a record does not decode (a Samba release whose record layout is
 * not the one samba_ndr.c knows), the whole read falls back to smbstatus:
 * `--json -p` and `--json -S` for sessions and tree connects, and text
 * `-L` for the opens (text, because `--json -L` aborts on an open with
 * WRITE_OWNER before Samba 4.24).  SMBCIM_SAMBA_SOURCE=smbstatus forces
 * that route (tests use it).
 *
 * Records of smbd processes that no longer exist are dropped, as smbstatus
 * does without -f.
 */
#define _XOPEN_SOURCE 700
#include <errno.h>
#include <fcntl.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <tdb.h>
#include <time.h>
#include <unistd.h>

#include "sources/sources.h"

#define NTTIME_EPOCH 116444736000000000ull /* 1970-01-01 in 100 ns since 1601 */

static sc_time from_nttime(uint64_t nt)
{
    sc_time t = {0};
    if (nt < NTTIME_EPOCH || nt >= 0x7FFFFFFFFFFFFFFFull)
        return t;
    uint64_t us = (nt - NTTIME_EPOCH) / 10;
    t.sec = (int64_t)(us / 1000000);
    t.usec = (int32_t)(us % 1000000);
    t.valid = true;
    return t;
}

static const char *dialect_name(uint16_t d)
{
    switch (d) {
    case 0x0311: return "SMB3_11";
    case 0x0302: return "SMB3_02";
    case 0x0300: return "SMB3_00";
    case 0x0210: return "SMB2_10";
    case 0x0202: return "SMB2_02";
    case 0x02FF: return "SMB2_FF";
    case 0x0000:
    case 0x00FF: return "NT1"; /* SMB1 sessions carry no SMB2 dialect */
    default: return NULL;
    }
}

typedef struct live {
    sc_arena *a;
    smbcim_error *err;
    const char *lock_dir;
    sc_map alive;        /* pid string -> (void*)1 alive, (void*)2 gone */
    sc_map sess_by_id;   /* session id -> sc_ndr_session* */
    sc_map user_by_uid;  /* uid string -> name */
    sc_vec sessions, tcons, opens;
    char why[256];
    bool bad_record;
    size_t records;
    unsigned layout[3];  /* per sc_ndr_kind: what the database's records fit */
    const char *reason;  /* why, naming the database */
} live;

static bool pid_alive(live *l, uint64_t pid)
{
    char key[24];
    snprintf(key, sizeof key, "%llu", (unsigned long long)pid);
    void *v = sc_map_get(&l->alive, key);
    if (v)
        return v == (void *)1;
    bool alive = pid > 0 && pid <= 0x7FFFFFFF && (kill((pid_t)pid, 0) == 0 || errno == EPERM);
    sc_map_put(&l->alive, sc_strdup(l->a, key), alive ? (void *)1 : (void *)2);
    return alive;
}

static const char *u64s(sc_arena *a, uint64_t v)
{
    return sc_u64_text(a, v, 10);
}

static const char *user_name(live *l, int64_t uid, const char *fallback)
{
    char key[24];
    snprintf(key, sizeof key, "%lld", (long long)uid);
    const char *n = sc_map_get(&l->user_by_uid, key);
    if (n)
        return n;
    struct passwd pw, *res = NULL;
    char buf[4096];
    if (getpwuid_r((uid_t)uid, &pw, buf, sizeof buf, &res) == 0 && res)
        n = sc_strdup(l->a, res->pw_name);
    else
        n = fallback ? fallback : sc_strdup(l->a, key);
    sc_map_put(&l->user_by_uid, sc_strdup(l->a, key), (void *)n);
    return n;
}

typedef int (*rec_fn)(TDB_CONTEXT *, TDB_DATA, TDB_DATA, void *);

static smbcim_status walk(live *l, const char *name, rec_fn fn)
{
    char *path = sc_sprintf(l->a, "%s/%s", l->lock_dir, name);
    /* Read-write, though nothing is written: libtdb opens a read-only
     * database without any locking (TDB_NOLOCK), and would then read
     * records while smbd rewrites them (the churn test of tests/e2e saw
     * "Corrupt database").  Opened read-write, tdb_traverse_read takes
     * smbd's own chain locks (robust mutexes when the file uses them), as
     * smbstatus does. */
    TDB_CONTEXT *db = tdb_open(path, 0, TDB_MUTEX_LOCKING, O_RDWR, 0);
    if (!db) {
        int e = errno;
        if (e == ENOENT)
            return WBEM_S_NO_ERROR; /* smbd creates it with its first client */
        if (e == EACCES || e == EPERM)
            return smbcim_error_set(l->err, WBEM_E_ACCESS_DENIED,
                                    "cannot read %s: %s (reading smbd's state needs root, as "
                                    "smbstatus does)", path, strerror(e));
        return smbcim_error_set(l->err, WBEM_E_FAILED, "cannot open %s: %s", path,
                                strerror(e));
    }
    /* A database with many records is walked under one read lock over the
     * whole of it: a consistent view, and no lock per record (two fcntl
     * calls each otherwise: 17% of the time at 1,000 clients).  Taking that
     * lock costs one lock per hash chain, which a small database does not
     * repay (1.7 ms of 5 at one client): its records are locked one by one.
     * "Many" is guessed from the file's size beyond its hash table and
     * mutexes (tdb files do not shrink: a once-busy one stays "big"). */
    struct stat sb;
    size_t hash_bytes = (size_t)tdb_hash_size(db) * 48;
    bool all = fstat(tdb_fd(db), &sb) == 0 && (size_t)sb.st_size > hash_bytes + 256 * 1024 &&
               tdb_lockall_read(db) == 0;
    int n = tdb_traverse_read(db, fn, l);
    if (all)
        tdb_unlockall_read(db);
    const char *te = n < 0 ? sc_strdup(l->a, tdb_errorstr(db)) : NULL;
    tdb_close(db);
    if (l->bad_record && !l->reason) /* "…/locking.tdb: locking record: … at byte N of M" */
        l->reason = sc_sprintf(l->a, "%s: %s", path, l->why);
    if (n < 0 && !l->bad_record)
        return smbcim_error_set(l->err, WBEM_E_FAILED, "cannot read %s: %s", path, te);
    return WBEM_S_NO_ERROR;
}

static int on_session(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    (void)db;
    live *l = priv;
    sc_ndr_session *s = sc_alloc(l->a, sizeof *s);
    l->records++;
    if (!sc_ndr_decode_session(l->a, v.dptr, v.dsize, s, &l->layout[SC_NDR_SESSION],
                               l->why, sizeof l->why)) {
        l->bad_record = true;
        return -1;
    }
    (void)k;
    if (s->deleted || !pid_alive(l, s->pid))
        return 0;
    sc_map_put(&l->sess_by_id, u64s(l->a, s->session_id), s);
    sc_session *o = sc_alloc(l->a, sizeof *o);
    o->session_id = u64s(l->a, s->session_id);
    o->server.pid = u64s(l->a, s->pid);
    o->server.unique_id = u64s(l->a, s->unique_id);
    o->uid = s->authenticated ? s->uid : -1;
    o->username = s->authenticated ? user_name(l, s->uid, s->unix_name) : "(auth in progress)";
    o->remote_machine = s->remote_name ? s->remote_name : "";
    o->hostname = s->remote_address;
    o->dialect = dialect_name(s->dialect);
    o->creation_time = from_nttime(s->creation_time);
    sc_vec_push(&l->sessions, o);
    return 0;
}

static int on_tcon(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    (void)db;
    (void)k;
    live *l = priv;
    sc_ndr_tcon t;
    l->records++;
    if (!sc_ndr_decode_tcon(l->a, v.dptr, v.dsize, &t, &l->layout[SC_NDR_TCON],
                            l->why, sizeof l->why)) {
        l->bad_record = true;
        return -1;
    }
    if (t.deleted || !pid_alive(l, t.pid))
        return 0;
    sc_tcon *o = sc_alloc(l->a, sizeof *o);
    o->tcon_id = u64s(l->a, t.tcon_id);
    o->service = t.share_name;
    o->session_id = u64s(l->a, t.session_id);
    o->server.pid = u64s(l->a, t.pid);
    o->server.unique_id = u64s(l->a, t.unique_id);
    o->connected_at = from_nttime(t.creation_time);
    sc_vec_push(&l->tcons, o);
    return 0;
}

static int on_locking(TDB_CONTEXT *db, TDB_DATA k, TDB_DATA v, void *priv)
{
    (void)db;
    (void)k;
    live *l = priv;
    sc_ndr_file f;
    l->records++;
    if (!sc_ndr_decode_locking(l->a, v.dptr, v.dsize, &f, &l->layout[SC_NDR_LOCKING],
                               l->why, sizeof l->why)) {
        l->bad_record = true;
        return -1;
    }
    if (!f.service_path || !f.base_name)
        return 0;
    const char *fname = f.stream_name && *f.stream_name
                            ? sc_sprintf(l->a, "%s%s", f.base_name, f.stream_name)
                            : f.base_name;
    for (size_t i = 0; i < f.nopens; i++) {
        const sc_ndr_open *e = &f.opens[i];
        if (!pid_alive(l, e->pid))
            continue;
        sc_open *o = sc_alloc(l->a, sizeof *o);
        o->server.pid = u64s(l->a, e->pid);
        o->server.unique_id = u64s(l->a, e->unique_id);
        o->uid = e->uid;
        o->service_path = f.service_path;
        o->filename = fname;
        o->access_mask = e->access_mask;
        o->opened_at.sec = e->time_sec;
        o->opened_at.usec = (int32_t)e->time_usec;
        o->opened_at.valid = e->time_sec > 0;
        sc_vec_push(&l->opens, o);
    }
    return 0;
}

/* ---- the smbstatus route ------------------------------------------------ */

char *sc_run_capture(sc_arena *a, char *const argv[], size_t *len, int *status)
{
    int fd[2];
    if (pipe(fd) != 0)
        return NULL;
    pid_t pid = fork();
    if (pid < 0) {
        close(fd[0]);
        close(fd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(fd[1], 1);
        close(fd[0]);
        close(fd[1]);
        int devnull = open("/dev/null", O_WRONLY);
        if (devnull >= 0)
            dup2(devnull, 2);
        execvp(argv[0], argv);
        _exit(127);
    }
    close(fd[1]);
    sc_buf b;
    sc_buf_init(&b);
    char chunk[65536];
    ssize_t n;
    while ((n = read(fd[0], chunk, sizeof chunk)) > 0 || (n < 0 && errno == EINTR))
        if (n > 0)
            sc_buf_add(&b, chunk, (size_t)n);
    close(fd[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR) {
    }
    char *out = sc_alloc(a, b.len + 1);
    if (b.len)
        memcpy(out, b.data, b.len);
    *len = b.len;
    sc_buf_free(&b);
    return out;
}

static bool ran_ok(int status)
{
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

/* Parses one `smbstatus --json` document through the snapshot reader. */
static smbcim_status smbstatus_json(live *l, const char *conf, const char *opt, sc_state **st)
{
    char *argv[] = {"smbstatus", "-s", (char *)conf, "--json", (char *)opt, NULL};
    size_t len = 0;
    int status = 0;
    char *out = sc_run_capture(l->a, argv, &len, &status);
    if (!out || !ran_ok(status) || len == 0)
        return smbcim_error_set(l->err, WBEM_E_FAILED,
                                "smbstatus -s %s --json %s failed (%s %d)", conf, opt,
                                out && WIFEXITED(status) ? "exit status" : "signal",
                                out && WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
    char *doc = sc_sprintf(l->a,
                           "{\"smbcim_snapshot\":1,\"server\":{\"name\":\"x\",\"taken_at\":"
                           "\"1970-01-01T00:00:00Z\"},\"shares\":[],\"smbstatus\":%s}",
                           out);
    char origin[256];
    snprintf(origin, sizeof origin, "smbstatus --json %s", opt);
    return sc_snapshot_parse(l->a, doc, strlen(doc), sc_strdup(l->a, origin), st, l->err);
}

/* Text `smbstatus -L`: "PID  uid  DENY_x  0xMASK  RW  OPLOCK  PATH   NAME   Date".
 * The share path and the name are separated by three spaces; the date is
 * the last five words. */
static smbcim_status smbstatus_locks(live *l, const char *conf)
{
    char *argv[] = {"smbstatus", "-s", (char *)conf, "-L", "-n", NULL};
    size_t len = 0;
    int status = 0;
    char *out = sc_run_capture(l->a, argv, &len, &status);
    if (!out || !ran_ok(status))
        return smbcim_error_set(l->err, WBEM_E_FAILED, "smbstatus -s %s -L failed", conf);
    char *save = NULL;
    for (char *line = strtok_r(out, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        unsigned long long pid;
        long long uid;
        char deny[32], mask[32], rw[32], oplock[64];
        int used = 0;
        if (sscanf(line, "%llu %lld %31s %31s %31s %63s %n", &pid, &uid, deny, mask, rw, oplock,
                   &used) != 6 || strncmp(deny, "DENY_", 5) != 0)
            continue;
        char *rest = line + used;
        char *sep = strstr(rest, "   ");
        if (!sep)
            continue;
        /* The name ends before the date (five words from the end). */
        char *end = rest + strlen(rest);
        while (end > sep && end[-1] == ' ')
            end--;
        int words = 0;
        char *p = end;
        while (p > sep && words < 5) {
            while (p > sep && p[-1] != ' ')
                p--;
            words++;
            if (words < 5)
                while (p > sep && p[-1] == ' ')
                    p--;
        }
        char *name_end = p;
        while (name_end > sep && name_end[-1] == ' ')
            name_end--;
        char *name = sep + 3;
        if (name_end <= name)
            continue;
        struct tm tm = {0};
        char *te = strptime(p, "%a %b %d %H:%M:%S %Y", &tm);
        sc_open *o = sc_alloc(l->a, sizeof *o);
        o->server.pid = u64s(l->a, pid);
        o->server.unique_id = NULL;
        o->uid = uid;
        o->service_path = sc_strndup(l->a, rest, (size_t)(sep - rest));
        o->filename = sc_strndup(l->a, name, (size_t)(name_end - name));
        o->access_mask = (uint32_t)strtoul(mask, NULL, 16);
        if (te) {
            tm.tm_isdst = -1;
            o->opened_at.sec = mktime(&tm);
            o->opened_at.valid = true;
        }
        sc_vec_push(&l->opens, o);
    }
    return WBEM_S_NO_ERROR;
}

static smbcim_status via_smbstatus(live *l, const char *conf)
{
    l->sessions.len = l->tcons.len = l->opens.len = 0;
    sc_state *ps = NULL, *ts = NULL;
    smbcim_status st = smbstatus_json(l, conf, "-p", &ps);
    if (st == WBEM_S_NO_ERROR)
        st = smbstatus_json(l, conf, "-S", &ts);
    if (st == WBEM_S_NO_ERROR)
        st = smbstatus_locks(l, conf);
    if (st != WBEM_S_NO_ERROR)
        return st;
    for (size_t i = 0; i < ps->nsessions; i++)
        sc_vec_push(&l->sessions, &ps->sessions[i]);
    for (size_t i = 0; i < ts->ntcons; i++)
        sc_vec_push(&l->tcons, &ts->tcons[i]);
    /* Text opens lack the smbd's unique_id: take it from the session or
     * tree connect served by the same pid. */
    sc_map uniq;
    sc_map_init_exact(&uniq);
    for (size_t i = 0; i < l->sessions.len; i++) {
        sc_session *s = l->sessions.items[i];
        if (s->server.unique_id)
            sc_map_put(&uniq, s->server.pid, (void *)s->server.unique_id);
    }
    for (size_t i = 0; i < l->opens.len; i++) {
        sc_open *o = l->opens.items[i];
        o->server.unique_id = sc_map_get(&uniq, o->server.pid);
    }
    sc_map_free(&uniq);
    return WBEM_S_NO_ERROR;
}

/* ---- assembly ------------------------------------------------------------ */

static bool smbd_running(live *l, const sc_smbconf *conf, char *why, size_t whylen,
                         bool *denied)
{
    char *pidfile = sc_sprintf(l->a, "%s/smbd.pid", conf->pid_dir);
    FILE *f = fopen(pidfile, "r");
    *denied = !f && (errno == EACCES || errno == EPERM);
    if (*denied) {
        snprintf(why, whylen, "cannot read smbd's pid file %s: %s (reading smbd's state "
                 "needs root, as smbstatus does)", pidfile, strerror(errno));
        return false;
    }
    if (!f) {
        snprintf(why, whylen, "smbd is not running (no pid file %s: %s)", pidfile,
                 strerror(errno));
        return false;
    }
    long pid = 0;
    int ok = fscanf(f, "%ld", &pid);
    fclose(f);
    if (ok != 1 || pid <= 0) {
        snprintf(why, whylen, "smbd is not running (pid file %s holds no process id)", pidfile);
        return false;
    }
    if (kill((pid_t)pid, 0) != 0 && errno == ESRCH) {
        snprintf(why, whylen, "smbd is not running (process %ld of %s does not exist)", pid,
                 pidfile);
        return false;
    }
    return true;
}

static char *subst_home(sc_arena *a, const char *tmpl, const char *user, const char *home)
{
    sc_buf b;
    sc_buf_init(&b);
    for (const char *p = tmpl; *p; p++) {
        if (*p == '%' && (p[1] == 'U' || p[1] == 'u' || p[1] == 'S')) {
            sc_buf_puts(&b, user);
            p++;
        } else if (*p == '%' && p[1] == 'H') {
            sc_buf_puts(&b, home);
            p++;
        } else {
            sc_buf_putc(&b, *p);
        }
    }
    char *out = sc_strdup(a, b.len ? b.data : "");
    sc_buf_free(&b);
    return out;
}

/* Shares smbd registers on demand: a user's home share from [homes]. */
static void add_home_shares(live *l, const sc_smbconf *conf, sc_vec *shares)
{
    if (!conf->homes)
        return;
    for (size_t i = 0; i < l->tcons.len; i++) {
        const sc_tcon *t = l->tcons.items[i];
        bool known = false;
        for (size_t j = 0; j < shares->len && !known; j++)
            known = sc_streqi(((sc_share *)shares->items[j])->name, t->service);
        if (known)
            continue;
        struct passwd pw, *res = NULL;
        char buf[4096];
        if (getpwnam_r(t->service, &pw, buf, sizeof buf, &res) != 0 || !res)
            continue;
        sc_share *s = sc_alloc(l->a, sizeof *s);
        s->name = t->service;
        s->kind = SC_SHARE_DISK;
        s->path = conf->homes_path && *conf->homes_path
                      ? subst_home(l->a, conf->homes_path, res->pw_name, res->pw_dir)
                      : sc_strdup(l->a, res->pw_dir);
        s->comment = *conf->homes_comment
                         ? subst_home(l->a, conf->homes_comment, res->pw_name, res->pw_dir)
                         : sc_sprintf(l->a, "Home directory of %s", res->pw_name);
        s->max_connections = conf->homes_max;
        s->max_known = true;
        sc_vec_push(shares, s);
    }
}

smbcim_status sc_live_load(sc_arena *a, const char *smb_conf, sc_state **out,
                           sc_live_info *info, smbcim_error *err)
{
    const char *path = smb_conf ? smb_conf : SC_SAMBA_CONFIGFILE;
    sc_smbconf *conf = NULL;
    smbcim_error cerr = {0};
    smbcim_status st = sc_smbconf_load(a, path, &conf, &cerr);
    if (st != WBEM_S_NO_ERROR) {
        bool no_samba = st == WBEM_E_NOT_AVAILABLE && access("/usr/sbin/smbd", X_OK) != 0 &&
                        access("/usr/local/samba/sbin/smbd", X_OK) != 0;
        return smbcim_error_set(err, st, "%s%s", cerr.msg,
                                no_samba ? " (Samba does not seem to be installed: no smbd)"
                                         : "");
    }
    live l = {.a = a, .err = err, .lock_dir = conf->lock_dir};
    sc_map_init_exact(&l.alive);
    sc_map_init_exact(&l.sess_by_id);
    sc_map_init_exact(&l.user_by_uid);
    /* Win32_Share needs only the configuration: without smbd, or without
     * the right to read its state, the context still opens; the session
     * classes then answer nothing (smbd stopped: there is nothing) or fail
     * with ACCESS_DENIED (not root). */
    char why[512];
    bool denied = false;
    smbcim_status sess_st = WBEM_S_NO_ERROR;
    const char *sess_note = NULL;
    const char *route = "tdb";
    if (!smbd_running(&l, conf, why, sizeof why, &denied)) {
        sess_st = denied ? WBEM_E_ACCESS_DENIED : WBEM_S_NO_ERROR;
        sess_note = sc_sprintf(a, "%s (configuration %s)", why, path);
        route = "none";
    } else {
        const char *force = getenv("SMBCIM_SAMBA_SOURCE");
        bool use_smbstatus = force && strcmp(force, "smbstatus") == 0;
        if (!use_smbstatus) {
            st = walk(&l, "smbXsrv_session_global.tdb", on_session);
            if (st == WBEM_S_NO_ERROR && !l.bad_record)
                st = walk(&l, "smbXsrv_tcon_global.tdb", on_tcon);
            if (st == WBEM_S_NO_ERROR && !l.bad_record)
                st = walk(&l, "locking.tdb", on_locking);
            if (st == WBEM_E_ACCESS_DENIED) {
                sess_st = st;
                sess_note = sc_strdup(a, err->msg);
                route = "none";
                st = WBEM_S_NO_ERROR;
                *err = (smbcim_error){0};
                l.sessions.len = 0;
                l.tcons.len = 0;
                l.opens.len = 0;
            } else if (st != WBEM_S_NO_ERROR) {
                goto done;
            } else if (l.bad_record) {
                if (info)
                    snprintf(info->fallback_reason, sizeof info->fallback_reason, "%s",
                             l.reason ? l.reason : l.why);
                use_smbstatus = true;
            }
        }
        if (use_smbstatus) {
            route = "smbstatus";
            st = via_smbstatus(&l, path);
            if (st != WBEM_S_NO_ERROR)
                goto done;
        }
    }
    /* A tree connect's machine is its session's remote name. */
    for (size_t i = 0; i < l.tcons.len; i++) {
        sc_tcon *t = l.tcons.items[i];
        if (!t->machine) {
            const sc_ndr_session *s = sc_map_get(&l.sess_by_id, t->session_id);
            t->machine = s && s->remote_name ? s->remote_name : NULL;
        }
    }
    sc_vec shares = {0};
    for (size_t i = 0; i < conf->nshares; i++)
        sc_vec_push(&shares, &conf->shares[i]);
    add_home_shares(&l, conf, &shares);

    sc_state *s = sc_alloc(a, sizeof *s);
    s->server_name = conf->netbios_name;
    struct timeval tv;
    gettimeofday(&tv, NULL);
    s->taken_at.sec = tv.tv_sec;
    s->taken_at.usec = (int32_t)tv.tv_usec;
    s->taken_at.valid = true;
    s->nshares = shares.len;
    s->shares = sc_alloc_array(a, shares.len ? shares.len : 1, sizeof(sc_share));
    for (size_t i = 0; i < shares.len; i++)
        s->shares[i] = *(sc_share *)shares.items[i];
    sc_vec_free(&shares);
    s->nsessions = l.sessions.len;
    s->sessions = sc_alloc_array(a, l.sessions.len ? l.sessions.len : 1, sizeof(sc_session));
    for (size_t i = 0; i < l.sessions.len; i++)
        s->sessions[i] = *(sc_session *)l.sessions.items[i];
    s->ntcons = l.tcons.len;
    s->tcons = sc_alloc_array(a, l.tcons.len ? l.tcons.len : 1, sizeof(sc_tcon));
    for (size_t i = 0; i < l.tcons.len; i++)
        s->tcons[i] = *(sc_tcon *)l.tcons.items[i];
    s->nopens = l.opens.len;
    s->opens = sc_alloc_array(a, l.opens.len ? l.opens.len : 1, sizeof(sc_open));
    for (size_t i = 0; i < l.opens.len; i++)
        s->opens[i] = *(sc_open *)l.opens.items[i];
    s->sessions_status = sess_st;
    s->sessions_note = sess_note;
    if (info) {
        info->route = route;
        info->config_file = conf->config_file;
        info->lock_dir = conf->lock_dir;
        info->records = l.records;
    }
    *out = s;
done:
    sc_map_free(&l.alive);
    sc_map_free(&l.sess_by_id);
    sc_map_free(&l.user_by_uid);
    sc_vec_free(&l.sessions);
    sc_vec_free(&l.tcons);
    sc_vec_free(&l.opens);
    return st;
}
