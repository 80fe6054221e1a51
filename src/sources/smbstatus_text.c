/*
 * smbstatus_text.c - the parser of text `smbstatus -n` output (every
 * release from 4.15 to 4.25: the session, tree-connect and locked-file
 * tables) and the linker that says which session each tree connect
 * belongs to.  Pure functions over text, for the live source's smbstatus
 * route (samba_live.c), the unit tests and the fuzz target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources/sources.h"

/* A run of non-space bytes. */
typedef struct tok {
    const char *p;
    size_t n;
} tok;

static bool tok_next(const char **s, const char *e, tok *t)
{
    const char *p = *s;
    while (p < e && *p == ' ')
        p++;
    if (p == e)
        return false;
    t->p = p;
    while (p < e && *p != ' ')
        p++;
    t->n = (size_t)(p - t->p);
    *s = p;
    return true;
}

static bool tok_prev(const char *s, const char **e, tok *t)
{
    const char *p = *e;
    while (p > s && p[-1] == ' ')
        p--;
    if (p == s)
        return false;
    const char *end = p;
    while (p > s && p[-1] != ' ')
        p--;
    t->p = p;
    t->n = (size_t)(end - p);
    *e = p;
    return true;
}

static bool tok_is(tok t, const char *s)
{
    return strlen(s) == t.n && memcmp(t.p, s, t.n) == 0;
}

static bool all_digits(const char *p, size_t n)
{
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

/* A server_id as smbstatus prints it: PID, PID.TASK, or on a CTDB cluster
 * VNN:PID, VNN:PID.TASK. */
static bool pid_like(tok t)
{
    const char *p = t.p, *e = t.p + t.n;
    const char *colon = memchr(p, ':', t.n);
    if (colon) {
        if (!all_digits(p, (size_t)(colon - p)))
            return false;
        p = colon + 1;
    }
    const char *dot = memchr(p, '.', (size_t)(e - p));
    if (dot) {
        if (!all_digits(dot + 1, (size_t)(e - dot - 1)))
            return false;
        e = dot;
    }
    return all_digits(p, (size_t)(e - p));
}

static bool parse_u32(tok t, int64_t *out)
{
    if (t.n > 10 || !all_digits(t.p, t.n))
        return false;
    int64_t v = 0;
    for (size_t i = 0; i < t.n; i++)
        v = v * 10 + (t.p[i] - '0');
    if (v > 0xFFFFFFFFll)
        return false;
    *out = v;
    return true;
}

static int64_t civil_days(int64_t y, int m, int d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* "Sat Nov 28 06:41:50 2026": asctime(), and strftime "%a %b %e %X %Y" in
 * the C locale; five tokens, read as UTC. */
static bool parse_date(const tok *t, sc_time *out)
{
    static const char days[] = "SunMonTueWedThuFriSat";
    static const char months[] = "JanFebMarAprMayJunJulAugSepOctNovDec";
    int mon = 0;
    bool wday = false;
    if (t[0].n != 3 || t[1].n != 3 || t[3].n != 8 || t[4].n != 4)
        return false;
    for (int i = 0; i < 7; i++)
        wday |= memcmp(days + 3 * i, t[0].p, 3) == 0;
    for (int i = 0; i < 12 && !mon; i++)
        if (memcmp(months + 3 * i, t[1].p, 3) == 0)
            mon = i + 1;
    const char *c = t[3].p;
    int64_t day, year, h, mi, s;
    if (!wday || !mon || t[2].n > 2 || !parse_u32(t[2], &day) || day < 1 || day > 31 ||
        c[2] != ':' || c[5] != ':' || !parse_u32((tok){c, 2}, &h) ||
        !parse_u32((tok){c + 3, 2}, &mi) || !parse_u32((tok){c + 6, 2}, &s) || h > 23 ||
        mi > 59 || s > 60 || !parse_u32(t[4], &year))
        return false;
    out->sec = civil_days(year, mon, (int)day) * 86400 + h * 3600 + mi * 60 + s;
    out->usec = 0;
    out->valid = true;
    return true;
}

/* The column headers of each table, as words. */
static const char *const hdr_sessions[] = {"PID", "Username", "Group", "Machine", "Protocol",
                                           "Version", "Encryption", "Signing", NULL};
static const char *const hdr_tcons[] = {"Service", "pid", "Machine", "Connected", "at",
                                        "Encryption", "Signing", NULL};
static const char *const hdr_opens[] = {"Pid", "User(ID)", "DenyMode", "Access", "R/W",
                                        "Oplock", "SharePath", "Name", "Time", NULL};
/* 4.25: a Persistent column before SharePath */
static const char *const hdr_opens_p[] = {"Pid", "User(ID)", "DenyMode", "Access", "R/W",
                                          "Oplock", "Persistent", "SharePath", "Name", "Time",
                                          NULL};

static bool is_header(const char *s, const char *e, const char *const *words)
{
    tok t;
    for (; *words; words++)
        if (!tok_next(&s, e, &t) || !tok_is(t, *words))
            return false;
    return !tok_next(&s, e, &t);
}

/* A header's first two words, and then other columns: a new layout. */
static bool header_like(const char *s, const char *e)
{
    static const char *const *const all[] = {hdr_sessions, hdr_tcons, hdr_opens};
    tok a, b;
    if (!tok_next(&s, e, &a) || !tok_next(&s, e, &b))
        return false;
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++)
        if (tok_is(a, all[i][0]) && tok_is(b, all[i][1]))
            return true;
    return false;
}

static bool starts(const char *s, const char *e, const char *prefix)
{
    size_t n = strlen(prefix);
    return (size_t)(e - s) >= n && memcmp(s, prefix, n) == 0;
}

static bool ends(const char *s, const char *e, const char *suffix)
{
    size_t n = strlen(suffix);
    return (size_t)(e - s) >= n && memcmp(e - n, suffix, n) == 0;
}

typedef struct tparse {
    sc_arena *a;
    const char *const *paths;
    size_t npaths;
    sc_vec sessions, tcons, lines, opens;
    sc_map sess_at;    /* "pid\x1fmachine" of each session */
    const char *why;   /* what is wrong with the current line */
} tparse;

/* [s, e) without its leading and trailing spaces, in the arena. */
static const char *span(sc_arena *a, const char *s, const char *e)
{
    while (s < e && *s == ' ')
        s++;
    while (e > s && e[-1] == ' ')
        e--;
    return sc_strndup(a, s, (size_t)(e - s));
}

static const char *at_key(sc_arena *a, const char *pid, const char *machine)
{
    const char *parts[] = {pid, "\x1f", machine};
    return sc_concat(a, parts, 3);
}

static bool bad(tparse *tp, const char *why)
{
    tp->why = why;
    return false;
}

/* "PID  UID  GID  MACHINE (ADDRESS)  DIALECT  ENCRYPTION  SIGNING": printf
 * "%-7s %-12u %-12u %-41s %-17s %-20s %-21s" with "%s (%s)" for the machine
 * and its address, in every release; the machine may be empty or hold
 * spaces, the dialect may be "Unknown (0x0abc)". */
static bool session_line(tparse *tp, const char *s, const char *e)
{
    tok pid, uid, gid, sign, enc, dia, addr;
    int64_t u, g;
    if (!tok_next(&s, e, &pid) || !pid_like(pid))
        return bad(tp, "no process id");
    if (!tok_next(&s, e, &uid) || !parse_u32(uid, &u) || !tok_next(&s, e, &gid) ||
        !parse_u32(gid, &g))
        return bad(tp, "no numeric uid and gid");
    if (!tok_prev(s, &e, &sign) || !tok_prev(s, &e, &enc) || !tok_prev(s, &e, &dia))
        return bad(tp, "too few columns");
    const char *dialect = NULL;
    if (dia.n == 8 && dia.p[0] == '(' && dia.p[7] == ')') {
        tok un;
        if (!tok_prev(s, &e, &un) || !tok_is(un, "Unknown"))
            return bad(tp, "no protocol version");
    } else {
        for (size_t i = 0; i < dia.n; i++) {
            char c = dia.p[i];
            if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
                return bad(tp, "no protocol version");
        }
        dialect = sc_strndup(tp->a, dia.p, dia.n);
    }
    if (!tok_prev(s, &e, &addr) || addr.n < 3 || addr.p[0] != '(' || addr.p[addr.n - 1] != ')')
        return bad(tp, "no (address) after the machine");
    sc_session *o = sc_alloc(tp->a, sizeof *o);
    o->session_id = sc_sprintf(tp->a, "s%zu", tp->sessions.len + 1);
    o->server.pid = sc_strndup(tp->a, pid.p, pid.n);
    o->uid = u == 0xFFFFFFFFll ? -1 : u; /* (uid_t)-1: still authenticating */
    o->remote_machine = span(tp->a, s, addr.p);
    o->hostname = sc_strndup(tp->a, addr.p + 1, addr.n - 2);
    o->dialect = dialect;
    sc_vec_push(&tp->sessions, o);
    sc_map_put(&tp->sess_at, at_key(tp->a, o->server.pid, o->remote_machine), o);
    return true;
}

/* "SERVICE  PID  MACHINE  Www Mmm dd HH:MM:SS YYYY UTC  ENCRYPTION  SIGNING":
 * printf "%-12s %-7s %-13s %-32s %-12s %-12s" in every release.  The
 * service may hold spaces; so may the machine, which is empty when
 * smbstatus did not find the tree connect's session.  Where the pid is, a
 * session of that pid and machine says; without one, the machine is the
 * last word, or nothing when that word is a pid. */
static bool tcon_line(tparse *tp, const char *s, const char *e)
{
    const char *line = s, *line_end = e;
    tok sign, enc, d[6], t;
    if (!tok_prev(s, &e, &sign) || !tok_prev(s, &e, &enc))
        return bad(tp, "too few columns");
    for (int i = 5; i >= 0; i--)
        if (!tok_prev(s, &e, &d[i]))
            return bad(tp, "too few columns");
    sc_time when = {0};
    if (!tok_is(d[5], "UTC") || !parse_date(d, &when))
        return bad(tp, "no date in UTC");
    tok pid = {0};
    const char *machine = NULL;
    const char *pe = e;
    for (int k = 0; k < 8 && !pid.p && tok_prev(s, &pe, &t); k++) {
        const char *q = t.p;
        while (q > s && q[-1] == ' ')
            q--;
        if (q == s || !pid_like(t))
            continue;
        const char *m = span(tp->a, t.p + t.n, e);
        if (sc_map_get(&tp->sess_at, at_key(tp->a, sc_strndup(tp->a, t.p, t.n), m))) {
            pid = t;
            machine = m;
        }
    }
    if (!pid.p) {
        pe = e;
        if (!tok_prev(s, &pe, &t))
            return bad(tp, "no process id");
        if (pid_like(t)) {
            pid = t; /* no machine: no session */
        } else {
            machine = sc_strndup(tp->a, t.p, t.n);
            if (!tok_prev(s, &pe, &pid) || !pid_like(pid))
                return bad(tp, "no process id");
        }
    }
    const char *service = span(tp->a, s, pid.p);
    if (!*service)
        return bad(tp, "no service");
    sc_tcon *o = sc_alloc(tp->a, sizeof *o);
    o->tcon_id = sc_sprintf(tp->a, "t%zu", tp->tcons.len + 1);
    o->service = service;
    o->server.pid = sc_strndup(tp->a, pid.p, pid.n);
    o->machine = machine;
    o->connected_at = when;
    sc_vec_push(&tp->tcons, o);
    sc_vec_push(&tp->lines, (void *)span(tp->a, line, line_end));
    return true;
}

/* "PID  UID  DENYMODE  0xACCESS  R/W  OPLOCK  [PERSISTENT] SHAREPATH   NAME   Www Mmm dd HH:MM:SS YYYY":
 * printf "%-11s  %-9s  %-10s 0x%-8x  %-10s %-14s   %s   %s   %s" (4.17-4.24;
 * 4.15 and 4.16 print the same columns piece by piece; 4.25 has
 * "%-16s %-10s %s   %s   %s" for the oplock, Persistent and what follows).
 * The oplock may be "LEASE(RW )" or "LEASE STATE UNKNOWN"; the path and the
 * name may hold spaces: the name is what follows the first "   " after
 * the path, unless a known share path says otherwise. */
static bool open_line(tparse *tp, const char *s, const char *e, bool persistent)
{
    tok pid, uid, deny, acc, rw, op;
    int64_t u;
    if (!tok_next(&s, e, &pid) || !(pid_like(pid) || tok_is(pid, "disconnected")))
        return bad(tp, "no process id");
    if (!tok_next(&s, e, &uid) || !parse_u32(uid, &u))
        return bad(tp, "no numeric uid");
    if (!tok_next(&s, e, &deny) ||
        !(tok_is(deny, "DENY_NONE") || tok_is(deny, "DENY_ALL") || tok_is(deny, "DENY_DOS") ||
          tok_is(deny, "DENY_READ") || tok_is(deny, "DENY_WRITE") || tok_is(deny, "DENY_FCB") ||
          (deny.n == 19 && starts(deny.p, deny.p + deny.n, "UNKNOWN(0x") &&
           deny.p[18] == ')')))
        return bad(tp, "no deny mode");
    if (!tok_next(&s, e, &acc) || acc.n < 3 || acc.n > 10 || acc.p[0] != '0' ||
        acc.p[1] != 'x')
        return bad(tp, "no access mask");
    uint32_t mask = 0;
    for (size_t i = 2; i < acc.n; i++) {
        char c = acc.p[i];
        int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
        if (v < 0)
            return bad(tp, "no access mask");
        mask = mask << 4 | (uint32_t)v;
    }
    if (!tok_next(&s, e, &rw) ||
        !(tok_is(rw, "RDWR") || tok_is(rw, "WRONLY") || tok_is(rw, "RDONLY")))
        return bad(tp, "no R/W");
    if (!tok_next(&s, e, &op))
        return bad(tp, "no oplock");
    if (tok_is(op, "LEASE")) {
        tok t2, t3;
        if (!tok_next(&s, e, &t2) || !tok_is(t2, "STATE") || !tok_next(&s, e, &t3) ||
            !tok_is(t3, "UNKNOWN"))
            return bad(tp, "no oplock");
    } else if (starts(op.p, op.p + op.n, "LEASE(")) {
        /* "LEASE(RW)", padded with a space for each missing letter */
        const char *p = op.p + 6, *end = op.p + op.n;
        while (p < end && (*p == 'R' || *p == 'W' || *p == 'H'))
            p++;
        if (p + 1 != end || *p != ')')
            return bad(tp, "no oplock");
    } else if (!(tok_is(op, "NONE") || tok_is(op, "BATCH") || tok_is(op, "EXCLUSIVE") ||
                 tok_is(op, "LEVEL_II") || tok_is(op, "EXCLUSIVE+BATCH"))) {
        return bad(tp, "no oplock");
    }
    if (persistent) {
        tok pers;
        if (!tok_next(&s, e, &pers) || !(tok_is(pers, "yes") || tok_is(pers, "no")))
            return bad(tp, "no Persistent");
    }
    while (s < e && *s == ' ')
        s++;
    /* the date: five tokens at the end (or "unknown time"), after "   " */
    tok d[5];
    const char *de = e;
    sc_time when = {0};
    const char *name_end;
    if (!tok_prev(s, &de, &d[4]) || !tok_prev(s, &de, &d[3]))
        return bad(tp, "too few columns");
    if (tok_is(d[3], "unknown") && tok_is(d[4], "time")) { /* time_to_asc() failed */
        name_end = d[3].p - 3;
    } else {
        for (int i = 2; i >= 0; i--)
            if (!tok_prev(s, &de, &d[i]))
                return bad(tp, "too few columns");
        if (!parse_date(d, &when))
            return bad(tp, "no date");
        name_end = d[0].p - 3;
    }
    if (name_end <= s || memcmp(name_end, "   ", 3) != 0)
        return bad(tp, "no share path and name");
    /* the share path (absolute: smbd's connectpath) ends at a "   ": the
     * longest known share path's, else the first */
    const char *sep = NULL, *first = NULL;
    if (*s != '/')
        return bad(tp, "no share path");
    for (const char *p = s + 1; p + 3 < name_end; p++) {
        if (memcmp(p, "   ", 3) != 0)
            continue;
        if (!first)
            first = p;
        for (size_t i = 0; i < tp->npaths; i++)
            if (tp->paths[i] && strlen(tp->paths[i]) == (size_t)(p - s) &&
                memcmp(tp->paths[i], s, (size_t)(p - s)) == 0)
                sep = p;
    }
    if (!sep)
        sep = first;
    if (!sep)
        return bad(tp, "no share path and name");
    if (tok_is(pid, "disconnected"))
        return true; /* a durable handle without its smbd */
    sc_open *o = sc_alloc(tp->a, sizeof *o);
    o->server.pid = sc_strndup(tp->a, pid.p, pid.n);
    o->uid = u;
    o->service_path = sc_strndup(tp->a, s, (size_t)(sep - s));
    o->filename = sc_strndup(tp->a, sep + 3, (size_t)(name_end - sep - 3));
    o->access_mask = mask;
    o->opened_at = when;
    sc_vec_push(&tp->opens, o);
    return true;
}

static void *vec_array(sc_arena *a, sc_vec *v, size_t size, size_t *n)
{
    *n = v->len;
    char *arr = sc_alloc_array(a, v->len ? v->len : 1, size);
    for (size_t i = 0; i < v->len; i++)
        memcpy(arr + i * size, v->items[i], size);
    sc_vec_free(v);
    return arr;
}

smbcim_status sc_smbstatus_text_parse(sc_arena *a, const char *text, size_t len,
                                      const char *origin, const char *const *share_paths,
                                      size_t npaths, sc_smbstatus_text *out, smbcim_error *err)
{
    enum { NONE, SESSIONS, TCONS, OPENS, OPENS_P } sec = NONE;
    tparse tp = {.a = a, .paths = share_paths, .npaths = npaths};
    sc_map_init_exact(&tp.sess_at);
    memset(out, 0, sizeof *out);
    smbcim_status st = WBEM_S_NO_ERROR;
    size_t lineno = 0;
    for (const char *s = text, *end = text + len; s < end && st == WBEM_S_NO_ERROR;) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        const char *e = nl ? nl : end;
        const char *next = nl ? nl + 1 : end;
        lineno++;
        const char *te = e;
        while (te > s && (te[-1] == ' ' || te[-1] == '\r'))
            te--;
        tp.why = NULL;
        const char *p = s;
        while (p < te && *p == '-')
            p++;
        bool ok = true;
        if (memchr(s, '\0', (size_t)(e - s))) {
            ok = bad(&tp, "a NUL byte");
        } else if (te == s || p == te) {
            /* an empty line, or the dashes under a header */
        } else if (is_header(s, te, hdr_sessions)) {
            sec = SESSIONS;
            out->has_sessions = true;
        } else if (is_header(s, te, hdr_tcons)) {
            sec = TCONS;
            out->has_tcons = true;
        } else if (is_header(s, te, hdr_opens)) {
            sec = OPENS;
            out->has_opens = true;
        } else if (is_header(s, te, hdr_opens_p)) {
            sec = OPENS_P;
            out->has_opens = true;
        } else if (te - s == 26 && starts(s, te, "locked file list truncated")) {
            ok = bad(&tp, "smbstatus could not read every open");
        } else if (header_like(s, te)) {
            ok = bad(&tp, "a table header with other columns");
        } else if (sec == NONE && starts(s, te, "Samba version ")) {
            out->version = span(a, s + 14, te);
        } else if (starts(s, te, "Locked files:") && te - s == 13) {
            sec = NONE; /* its header follows */
        } else if ((te - s == 15 && starts(s, te, "No locked files")) ||
                   ends(s, te, " not initialised") ||
                   starts(s, te, "This is normal if an SMB client has never connected")) {
            sec = NONE; /* no opens (4.15, 4.16 say it on standard output) */
            out->has_opens = true;
        } else if (sec == SESSIONS) {
            ok = session_line(&tp, s, te);
        } else if (sec == TCONS) {
            ok = tcon_line(&tp, s, te);
        } else if (sec == OPENS || sec == OPENS_P) {
            ok = open_line(&tp, s, te, sec == OPENS_P);
        } else {
            ok = bad(&tp, "a line outside any table");
        }
        if (!ok) {
            int shown = (int)(te - s > 120 ? 120 : te - s);
            st = smbcim_error_set(err, WBEM_E_FAILED,
                                  "%s: line %zu: %s, in a layout smbcim does not know: \"%.*s%s\"",
                                  origin, lineno, tp.why, shown, s,
                                  te - s > 120 ? "..." : "");
        }
        s = next;
    }
    sc_map_free(&tp.sess_at);
    if (st != WBEM_S_NO_ERROR) {
        sc_vec_free(&tp.sessions);
        sc_vec_free(&tp.tcons);
        sc_vec_free(&tp.lines);
        sc_vec_free(&tp.opens);
        return st;
    }
    out->sessions = vec_array(a, &tp.sessions, sizeof(sc_session), &out->nsessions);
    out->tcons = vec_array(a, &tp.tcons, sizeof(sc_tcon), &out->ntcons);
    out->tcon_lines = sc_alloc_array(a, tp.lines.len ? tp.lines.len : 1, sizeof(char *));
    for (size_t i = 0; i < tp.lines.len; i++)
        out->tcon_lines[i] = tp.lines.items[i];
    sc_vec_free(&tp.lines);
    out->opens = vec_array(a, &tp.opens, sizeof(sc_open), &out->nopens);
    return WBEM_S_NO_ERROR;
}

/* ---- linking tree connects to sessions ------------------------------------ */

/* The sessions of one (smbd, machine): a chain through next[]. */
typedef struct tgroup {
    size_t first;        /* index of the first session */
    size_t nuids;        /* distinct uids among them (authenticated ones) */
    int64_t uid0;        /* the uid when there is one */
} tgroup;

static void groups_build(sc_arena *a, const sc_smbstatus_text *t, sc_map *groups, size_t *next)
{
    sc_map_init_exact(groups);
    for (size_t i = t->nsessions; i-- > 0;) {
        const sc_session *s = &t->sessions[i];
        const char *k = at_key(a, s->server.pid, s->remote_machine);
        tgroup *g = sc_map_get(groups, k);
        if (!g) {
            g = sc_alloc(a, sizeof *g);
            g->first = SIZE_MAX;
            sc_map_put(groups, k, g);
        }
        next[i] = g->first;
        g->first = i;
    }
    /* distinct uids: chains are short (the sessions of one connection) */
    for (size_t i = 0; i < t->nsessions; i++) {
        const sc_session *s = &t->sessions[i];
        tgroup *g = sc_map_get(groups, at_key(a, s->server.pid, s->remote_machine));
        if (g->first != i)
            continue;
        for (size_t j = i; j != SIZE_MAX; j = next[j]) {
            int64_t u = t->sessions[j].uid;
            bool seen = u == -1;
            for (size_t k = i; k != j && !seen; k = next[k])
                seen = t->sessions[k].uid == u;
            if (!seen && g->nuids++ == 0)
                g->uid0 = u;
        }
    }
}

static int cmp_i64(const void *x, const void *y)
{
    int64_t a = *(const int64_t *)x, b = *(const int64_t *)y;
    return a < b ? -1 : a > b;
}

size_t sc_smbstatus_text_uids_needed(sc_arena *a, const sc_smbstatus_text *t, int64_t **uids)
{
    size_t *next = sc_alloc_array(a, t->nsessions ? t->nsessions : 1, sizeof(size_t));
    sc_map groups;
    groups_build(a, t, &groups, next);
    /* the uids of every smbd-and-machine with several; counted per group */
    int64_t *all = sc_alloc_array(a, t->nsessions ? t->nsessions : 1, sizeof(int64_t));
    size_t n = 0;
    for (size_t i = 0; i < t->nsessions; i++) {
        const sc_session *s = &t->sessions[i];
        tgroup *g = sc_map_get(&groups, at_key(a, s->server.pid, s->remote_machine));
        if (g->nuids < 2 || s->uid == -1)
            continue;
        bool seen = false;
        for (size_t k = g->first; k != i && !seen; k = next[k])
            seen = t->sessions[k].uid == s->uid;
        if (!seen)
            all[n++] = s->uid;
    }
    sc_map_free(&groups);
    qsort(all, n, sizeof *all, cmp_i64);
    /* Each group may keep one uid unlisted (its tree connects are what the
     * listings leave): leave out the uid in the most groups. */
    size_t best = 0, best_n = 0;
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && all[j] == all[i])
            j++;
        if (j - i > best_n) {
            best_n = j - i;
            best = i;
        }
        i = j;
    }
    size_t m = 0;
    int64_t skip = n ? all[best] : 0;
    for (size_t i = 0; i < n; i++)
        if (all[i] != skip && (m == 0 || all[m - 1] != all[i]))
            all[m++] = all[i];
    *uids = all;
    return m;
}

void sc_smbstatus_text_link(sc_arena *a, sc_smbstatus_text *t, const int64_t *uids,
                            const sc_smbstatus_text *listings, size_t nlistings)
{
    size_t *next = sc_alloc_array(a, t->nsessions ? t->nsessions : 1, sizeof(size_t));
    sc_map groups;
    groups_build(a, t, &groups, next);
    /* each listing: line -> how many tree connects print so */
    sc_map *count = sc_alloc_array(a, nlistings ? nlistings : 1, sizeof(sc_map));
    for (size_t j = 0; j < nlistings; j++) {
        sc_map_init_exact(&count[j]);
        for (size_t i = 0; i < listings[j].ntcons; i++) {
            size_t *c = sc_map_get(&count[j], listings[j].tcon_lines[i]);
            if (!c) {
                c = sc_alloc(a, sizeof *c);
                sc_map_put(&count[j], listings[j].tcon_lines[i], c);
            }
            (*c)++;
        }
    }
    size_t kept = 0;
    for (size_t i = 0; i < t->ntcons; i++) {
        sc_tcon *tc = &t->tcons[i];
        const tgroup *g = tc->machine ? sc_map_get(&groups, at_key(a, tc->server.pid,
                                                                   tc->machine))
                                      : NULL;
        int64_t uid = -1;
        if (g && g->nuids == 1) {
            uid = g->uid0;
        } else if (g && g->nuids > 1) {
            /* the listing of one of its uids that has this line */
            for (size_t j = 0; j < nlistings && uid == -1; j++) {
                bool member = false;
                for (size_t k = g->first; k != SIZE_MAX && !member; k = next[k])
                    member = t->sessions[k].uid == uids[j];
                size_t *c = member ? sc_map_get(&count[j], t->tcon_lines[i]) : NULL;
                if (c && *c) {
                    (*c)--;
                    uid = uids[j];
                }
            }
            /* else its one uid without a listing (if it has only one) */
            int64_t unlisted = -1;
            size_t nunlisted = 0;
            for (size_t k = g->first; k != SIZE_MAX && uid == -1; k = next[k]) {
                int64_t u = t->sessions[k].uid;
                bool listed = u == -1 || u == unlisted;
                for (size_t j = 0; j < nlistings && !listed; j++)
                    listed = uids[j] == u;
                if (!listed) {
                    unlisted = u;
                    nunlisted++;
                }
            }
            if (uid == -1 && nunlisted == 1)
                uid = unlisted;
        }
        const sc_session *s = NULL;
        for (size_t k = g && uid != -1 ? g->first : SIZE_MAX; k != SIZE_MAX && !s; k = next[k])
            if (t->sessions[k].uid == uid)
                s = &t->sessions[k];
        if (!s)
            continue; /* its session is gone, or not yet listed: as the tdb route */
        tc->session_id = s->session_id;
        t->tcons[kept] = *tc;
        t->tcon_lines[kept] = t->tcon_lines[i];
        kept++;
    }
    t->ntcons = kept;
    for (size_t j = 0; j < nlistings; j++)
        sc_map_free(&count[j]);
    sc_map_free(&groups);
}
