/*
 * snapshot.c - reads a snapshot document (docs/snapshot-format.md) into
 * source records, streaming: the JSON is walked once with the pull reader
 * (json/json.h) and only the fields the providers use are kept.  Every
 * fault is reported with the JSON path of the value at fault.
 */
#include "sources/sources.h"
#include "json/json.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- timestamps ---------------------------------------------------------- */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static bool digits(const char *s, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

bool sc_time_parse(const char *s, sc_time *out)
{
    int y, mo, d, h, mi, sec;
    memset(out, 0, sizeof(*out));
    if (!s || strlen(s) < 19 || !digits(s, 4, &y) || s[4] != '-' || !digits(s + 5, 2, &mo) ||
        s[7] != '-' || !digits(s + 8, 2, &d) || (s[10] != 'T' && s[10] != ' ') ||
        !digits(s + 11, 2, &h) || s[13] != ':' || !digits(s + 14, 2, &mi) || s[16] != ':' ||
        !digits(s + 17, 2, &sec))
        return false;
    static const int mdays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo < 1 || mo > 12 || d < 1 || d > mdays[mo - 1] + (mo == 2 && leap) || h > 23 ||
        mi > 59 || sec > 60)
        return false;
    const char *p = s + 19;
    int usec = 0;
    if (*p == '.') {
        p++;
        int n = 0;
        while (*p >= '0' && *p <= '9') {
            if (n < 6)
                usec = usec * 10 + (*p - '0');
            n++;
            p++;
        }
        if (n == 0 || n > 9)
            return false;
        for (; n < 6; n++)
            usec *= 10;
    }
    int off = 0;
    if (*p == 'Z') {
        p++;
    } else if (*p == '+' || *p == '-') {
        int sign = *p == '-' ? -1 : 1, oh, om;
        p++;
        if (!digits(p, 2, &oh))
            return false;
        p += 2;
        if (*p == ':')
            p++;
        if (!digits(p, 2, &om))
            return false;
        p += 2;
        if (oh > 23 || om > 59)
            return false;
        off = sign * (oh * 3600 + om * 60);
    } else {
        return false;
    }
    if (*p)
        return false;
    out->sec = days_from_civil(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 +
               sec - off;
    out->usec = usec;
    out->valid = true;
    return true;
}

/* ---- the reader ---------------------------------------------------------- */
typedef struct seg {
    const char *key; /* member name (not NUL-terminated), or NULL for an index */
    size_t klen;
    size_t idx;
} seg;

typedef struct rd {
    jp_reader j;
    sc_arena *a;
    const char *origin;
    smbcim_error *err;
    seg path[JP_MAX_DEPTH + 2];
    int depth;
    sc_arena *keys; /* copies of member names for the path */
    bool pending;   /* next() returns the current token again */
} rd;

static bool is_ident(const char *s, size_t n)
{
    if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || s[i] == '_'))
            return false;
    return true;
}

static void append_json_str(sc_buf *b, const char *s, size_t n)
{
    sc_buf_putc(b, '"');
    for (size_t i = 0; i < n && i < 200; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\')
            sc_buf_printf(b, "\\%c", c);
        else if (c < 0x20)
            sc_buf_printf(b, "\\u%04x", c);
        else
            sc_buf_putc(b, (char)c);
    }
    if (n > 200)
        sc_buf_puts(b, "...");
    sc_buf_putc(b, '"');
}

static void path_text(const rd *r, sc_buf *b)
{
    sc_buf_putc(b, '$');
    for (int i = 0; i < r->depth; i++) {
        const seg *s = &r->path[i];
        if (!s->key) {
            sc_buf_printf(b, "[%zu]", s->idx);
        } else if (is_ident(s->key, s->klen)) {
            sc_buf_putc(b, '.');
            sc_buf_add(b, s->key, s->klen);
        } else {
            sc_buf_putc(b, '[');
            append_json_str(b, s->key, s->klen);
            sc_buf_putc(b, ']');
        }
    }
}

/* "found ..." part: the current token. */
static void found_text(const rd *r, sc_buf *b)
{
    switch (r->j.tok) {
    case JP_STRING:
        append_json_str(b, r->j.str, r->j.len);
        break;
    case JP_NUMBER:
        sc_buf_add(b, r->j.str, r->j.len);
        break;
    case JP_TRUE: sc_buf_puts(b, "true"); break;
    case JP_FALSE: sc_buf_puts(b, "false"); break;
    default: sc_buf_puts(b, jp_tok_name(r->j.tok));
    }
}

static bool syntax_error(rd *r)
{
    unsigned line, col;
    jp_line_col(&r->j, r->j.err_off, &line, &col);
    smbcim_error_set(r->err, WBEM_E_INVALID_PARAMETER, "%s: line %u, column %u: %s",
                     r->origin, line, col, r->j.err);
    return false;
}

/* A fault in the value just read: "<origin>: $.path: <what>, found X". */
static bool bad(rd *r, const char *what)
{
    if (r->j.tok == JP_ERROR)
        return syntax_error(r);
    sc_buf b;
    sc_buf_init(&b);
    path_text(r, &b);
    sc_buf_printf(&b, ": %s, found ", what);
    found_text(r, &b);
    smbcim_error_set(r->err, WBEM_E_INVALID_PARAMETER, "%s: %s", r->origin, b.data);
    sc_buf_free(&b);
    return false;
}

/* A member missing from the object at the current path. */
static bool missing(rd *r, const char *key)
{
    sc_buf b;
    sc_buf_init(&b);
    path_text(r, &b);
    smbcim_error_set(r->err, WBEM_E_INVALID_PARAMETER, "%s: %s: missing \"%s\"", r->origin,
                     b.data, key);
    sc_buf_free(&b);
    return false;
}

static jp_tok next(rd *r)
{
    if (r->pending) {
        r->pending = false;
        return r->j.tok;
    }
    return jp_next(&r->j);
}

static void push_key(rd *r)
{
    seg *s = &r->path[r->depth++];
    s->key = sc_strndup(r->keys, r->j.str, r->j.len);
    s->klen = r->j.len;
}

static void push_index(rd *r, size_t i)
{
    seg *s = &r->path[r->depth++];
    s->key = NULL;
    s->idx = i;
}

static void pop(rd *r)
{
    r->depth--;
}

static bool key_is(const rd *r, const char *k)
{
    size_t n = strlen(k);
    return r->j.len == n && memcmp(r->j.str, k, n) == 0;
}

/* Object iteration: call after the JP_OBJ_BEGIN; returns 1 with the key
 * pushed, 0 at the end, -1 on error. */
static int member(rd *r)
{
    jp_tok t = next(r);
    if (t == JP_OBJ_END)
        return 0;
    if (t != JP_KEY)
        return syntax_error(r) ? -1 : -1;
    push_key(r);
    return 1;
}

static bool skip_value(rd *r)
{
    if (next(r) == JP_ERROR || !jp_skip(&r->j))
        return syntax_error(r);
    return true;
}

static bool expect_object(rd *r)
{
    if (next(r) != JP_OBJ_BEGIN)
        return bad(r, "expected an object");
    return true;
}

/* A string (copied to the arena); with nullable, null gives NULL. */
static bool get_string(rd *r, const char **out, bool nullable, bool nonempty)
{
    jp_tok t = next(r);
    if (t == JP_NULL && nullable) {
        *out = NULL;
        return true;
    }
    if (t != JP_STRING)
        return bad(r, nullable ? "expected a string or null" : "expected a string");
    if (memchr(r->j.str, '\0', r->j.len))
        return bad(r, "expected a string without NUL characters");
    if (nonempty && r->j.len == 0)
        return bad(r, "expected a non-empty string");
    *out = sc_strndup(r->a, r->j.str, r->j.len);
    return true;
}

/* An identifier Samba prints as a decimal string (or a number). */
static bool get_id(rd *r, const char **out)
{
    jp_tok t = next(r);
    int64_t v;
    if (t == JP_NUMBER && jp_int(&r->j, &v)) {
        *out = sc_sprintf(r->a, "%lld", (long long)v);
        return true;
    }
    if (t != JP_STRING || r->j.len == 0 || memchr(r->j.str, '\0', r->j.len))
        return bad(r, "expected an identifier (a string or an integer)");
    *out = sc_strndup(r->a, r->j.str, r->j.len);
    return true;
}

static bool get_int(rd *r, int64_t *out, int64_t min, int64_t max, const char *what)
{
    if (next(r) != JP_NUMBER || !jp_int(&r->j, out) || *out < min || *out > max)
        return bad(r, what);
    return true;
}

/* An unsigned 64-bit id, as a decimal string (how Samba prints
 * share_file_id) or a non-negative integer. */
static bool get_u64(rd *r, uint64_t *out, const char *what)
{
    jp_tok t = next(r);
    int64_t v;
    if (t == JP_NUMBER && jp_int(&r->j, &v) && v >= 0) {
        *out = (uint64_t)v;
        return true;
    }
    if (t != JP_STRING || r->j.len > 20 || !sc_parse_u64(r->j.str, r->j.len, out))
        return bad(r, what);
    return true;
}

static bool get_bool(rd *r, bool *out)
{
    jp_tok t = next(r);
    if (t != JP_TRUE && t != JP_FALSE)
        return bad(r, "expected true or false");
    *out = t == JP_TRUE;
    return true;
}

static bool get_time(rd *r, sc_time *out)
{
    if (next(r) != JP_STRING)
        return bad(r, "expected an ISO 8601 timestamp");
    char tmp[64];
    if (r->j.len >= sizeof(tmp))
        return bad(r, "expected an ISO 8601 timestamp");
    memcpy(tmp, r->j.str, r->j.len);
    tmp[r->j.len] = '\0';
    if (!sc_time_parse(tmp, out))
        return bad(r, "expected an ISO 8601 timestamp");
    return true;
}

/* A growable array of records, moved to the arena when complete. */
typedef struct grow {
    void *items;
    size_t len, cap, size;
} grow;

static void *grow_add(grow *g)
{
    if (g->len == g->cap) {
        g->cap = g->cap ? g->cap * 2 : 64;
        g->items = sc_xrealloc(g->items, g->cap * g->size);
    }
    void *p = (char *)g->items + g->len * g->size;
    memset(p, 0, g->size);
    g->len++;
    return p;
}

static void *grow_finish(grow *g, sc_arena *a, size_t *n)
{
    *n = g->len;
    void *p = sc_alloc_array(a, g->len ? g->len : 1, g->size);
    if (g->len)
        memcpy(p, g->items, g->len * g->size);
    free(g->items);
    g->items = NULL;
    return p;
}

/* ---- sections ------------------------------------------------------------ */
static bool read_server_id(rd *r, sc_server_id *sid)
{
    if (!expect_object(r))
        return false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "pid"))
            ok = get_id(r, &sid->pid);
        else if (key_is(r, "unique_id"))
            ok = get_id(r, &sid->unique_id);
        else
            ok = skip_value(r);
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!sid->pid)
        return missing(r, "pid");
    return true;
}

static bool read_server(rd *r, sc_state *st)
{
    if (!expect_object(r))
        return false;
    int m;
    bool have_taken = false;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "name"))
            ok = get_string(r, &st->server_name, false, true);
        else if (key_is(r, "taken_at"))
            ok = have_taken = get_time(r, &st->taken_at);
        else
            ok = skip_value(r);
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!st->server_name)
        return missing(r, "name");
    if (!have_taken)
        return missing(r, "taken_at");
    return true;
}

static bool read_share(rd *r, sc_share *s)
{
    if (!expect_object(r))
        return false;
    bool have_kind = false, have_admin = false, have_max = false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "name")) {
            ok = get_string(r, &s->name, false, true);
        } else if (key_is(r, "kind")) {
            const char *k;
            ok = get_string(r, &k, false, false);
            if (ok) {
                have_kind = true;
                if (strcmp(k, "disk") == 0) s->kind = SC_SHARE_DISK;
                else if (strcmp(k, "printer") == 0) s->kind = SC_SHARE_PRINTER;
                else if (strcmp(k, "device") == 0) s->kind = SC_SHARE_DEVICE;
                else if (strcmp(k, "ipc") == 0) s->kind = SC_SHARE_IPC;
                else ok = bad(r, "expected \"disk\", \"printer\", \"device\" or \"ipc\"");
            }
        } else if (key_is(r, "administrative")) {
            ok = have_admin = get_bool(r, &s->administrative);
        } else if (key_is(r, "path")) {
            ok = get_string(r, &s->path, true, false);
        } else if (key_is(r, "comment")) {
            ok = get_string(r, &s->comment, true, false);
        } else if (key_is(r, "max_connections")) {
            int64_t v;
            ok = have_max = get_int(r, &v, 0, UINT32_MAX,
                                    "expected an integer from 0 (unlimited) to 4294967295");
            s->max_connections = (uint32_t)v;
            s->max_known = true;
        } else {
            ok = skip_value(r);
        }
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!s->name)
        return missing(r, "name");
    if (!have_kind)
        return missing(r, "kind");
    if (!have_admin)
        return missing(r, "administrative");
    if (!have_max)
        return missing(r, "max_connections");
    return true;
}

static bool read_shares(rd *r, sc_state *st)
{
    if (next(r) != JP_ARR_BEGIN)
        return bad(r, "expected an array");
    grow g = {.size = sizeof(sc_share)};
    bool ok = true;
    for (size_t i = 0;; i++) {
        /* peek: an element or the end */
        push_index(r, i);
        jp_tok t = next(r);
        if (t == JP_ARR_END) {
            pop(r);
            break;
        }
        r->pending = true; /* the element's first token: read_share takes it */
        ok = read_share(r, grow_add(&g));
        pop(r);
        if (!ok)
            break;
    }
    st->shares = grow_finish(&g, r->a, &st->nshares);
    return ok;
}

static bool read_session(rd *r, sc_session *s)
{
    if (!expect_object(r))
        return false;
    bool have_uid = false, have_sid = false;
    s->uid = -1;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "session_id")) ok = get_id(r, &s->session_id);
        else if (key_is(r, "server_id")) ok = have_sid = read_server_id(r, &s->server);
        else if (key_is(r, "uid")) ok = have_uid = get_int(r, &s->uid, -1, UINT32_MAX, "expected a uid (an integer, -1 while authenticating)");
        else if (key_is(r, "username")) ok = get_string(r, &s->username, false, false);
        else if (key_is(r, "remote_machine")) ok = get_string(r, &s->remote_machine, false, false);
        else if (key_is(r, "hostname")) ok = get_string(r, &s->hostname, false, false);
        else if (key_is(r, "session_dialect")) ok = get_string(r, &s->dialect, false, false);
        else if (key_is(r, "creation_time")) ok = get_time(r, &s->creation_time);
        else ok = skip_value(r);
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!s->session_id) return missing(r, "session_id");
    if (!have_sid) return missing(r, "server_id");
    if (!have_uid) return missing(r, "uid");
    if (!s->username) return missing(r, "username");
    if (!s->remote_machine) return missing(r, "remote_machine");
    return true;
}

static bool read_tcon(rd *r, sc_tcon *t)
{
    if (!expect_object(r))
        return false;
    bool have_sid = false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "tcon_id")) ok = get_id(r, &t->tcon_id);
        else if (key_is(r, "service")) ok = get_string(r, &t->service, false, true);
        else if (key_is(r, "session_id")) ok = get_id(r, &t->session_id);
        else if (key_is(r, "server_id")) ok = have_sid = read_server_id(r, &t->server);
        else if (key_is(r, "machine")) ok = get_string(r, &t->machine, false, false);
        else if (key_is(r, "connected_at")) ok = get_time(r, &t->connected_at);
        else ok = skip_value(r);
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!t->tcon_id) return missing(r, "tcon_id");
    if (!t->service) return missing(r, "service");
    if (!t->session_id) return missing(r, "session_id");
    if (!have_sid) return missing(r, "server_id");
    if (!t->connected_at.valid) return missing(r, "connected_at");
    return true;
}

static bool read_access_mask(rd *r, uint32_t *mask)
{
    if (!expect_object(r))
        return false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "hex")) {
            if (next(r) != JP_STRING || r->j.len < 3 || r->j.len > 10 ||
                r->j.str[0] != '0' || (r->j.str[1] != 'x' && r->j.str[1] != 'X')) {
                ok = bad(r, "expected a hexadecimal mask \"0x...\"");
            } else {
                uint32_t v = 0;
                for (size_t i = 2; ok && i < r->j.len; i++) {
                    char c = r->j.str[i];
                    int d = c >= '0' && c <= '9' ? c - '0'
                          : c >= 'a' && c <= 'f' ? c - 'a' + 10
                          : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
                    if (d < 0)
                        ok = bad(r, "expected a hexadecimal mask \"0x...\"");
                    v = (v << 4) | (uint32_t)(d & 0xF);
                }
                *mask = v;
            }
        } else {
            ok = skip_value(r);
        }
        pop(r);
        if (!ok)
            return false;
    }
    return m == 0;
}

static bool read_open(rd *r, sc_open *o)
{
    if (!expect_object(r))
        return false;
    bool have_sid = false, have_uid = false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "server_id")) ok = have_sid = read_server_id(r, &o->server);
        else if (key_is(r, "uid")) ok = have_uid = get_int(r, &o->uid, -1, UINT32_MAX, "expected a uid (an integer)");
        else if (key_is(r, "access_mask")) ok = read_access_mask(r, &o->access_mask);
        else if (key_is(r, "opened_at")) ok = get_time(r, &o->opened_at);
        else if (key_is(r, "share_file_id")) ok = o->file_id_known = get_u64(r, &o->file_id, "expected a file id (a decimal string or an integer, 0 to 18446744073709551615)");
        else ok = skip_value(r);
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!have_sid) return missing(r, "server_id");
    if (!have_uid) return missing(r, "uid");
    return true;
}

/* Calls fn(r, data) for each member of the object that comes next, with
 * the member's name on the path. */
typedef bool (*member_fn)(rd *r, void *data);

static bool each_member(rd *r, member_fn fn, void *data)
{
    if (!expect_object(r))
        return false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = fn(r, data);
        pop(r);
        if (!ok)
            return false;
    }
    return m == 0;
}

static bool add_session(rd *r, void *g) { return read_session(r, grow_add(g)); }
static bool add_tcon(rd *r, void *g) { return read_tcon(r, grow_add(g)); }
static bool add_open(rd *r, void *g) { return read_open(r, grow_add(g)); }

/* One entry of open_files: the file, then each of its opens. */
static bool read_file(rd *r, void *data)
{
    grow *opens = data;
    if (!expect_object(r))
        return false;
    const char *spath = NULL, *fname = NULL;
    size_t first = opens->len;
    bool have_opens = false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "service_path")) {
            ok = get_string(r, &spath, false, false);
        } else if (key_is(r, "filename")) {
            ok = get_string(r, &fname, false, false);
        } else if (key_is(r, "opens")) {
            have_opens = true;
            ok = each_member(r, add_open, opens);
        } else {
            ok = skip_value(r);
        }
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!spath) return missing(r, "service_path");
    if (!fname) return missing(r, "filename");
    if (!have_opens) return missing(r, "opens");
    for (size_t i = first; i < opens->len; i++) {
        sc_open *o = (sc_open *)opens->items + i;
        o->service_path = spath;
        o->filename = fname;
    }
    return true;
}

static bool read_smbstatus(rd *r, sc_state *st)
{
    if (!expect_object(r))
        return false;
    grow sess = {.size = sizeof(sc_session)}, tcons = {.size = sizeof(sc_tcon)},
         opens = {.size = sizeof(sc_open)};
    bool ok = true;
    int m;
    while (ok && (m = member(r)) > 0) {
        if (key_is(r, "sessions"))
            ok = each_member(r, add_session, &sess);
        else if (key_is(r, "tcons"))
            ok = each_member(r, add_tcon, &tcons);
        else if (key_is(r, "open_files"))
            ok = each_member(r, read_file, &opens);
        else
            ok = skip_value(r);
        pop(r);
    }
    if (ok && m < 0)
        ok = false;
    st->sessions = grow_finish(&sess, r->a, &st->nsessions);
    st->tcons = grow_finish(&tcons, r->a, &st->ntcons);
    st->opens = grow_finish(&opens, r->a, &st->nopens);
    return ok;
}

static bool read_document(rd *r, sc_state *st)
{
    if (!expect_object(r))
        return false;
    bool have_version = false, have_server = false, have_shares = false, have_status = false;
    int m;
    while ((m = member(r)) > 0) {
        bool ok = true;
        if (key_is(r, "smbcim_snapshot")) {
            int64_t v;
            if (next(r) != JP_NUMBER || !jp_int(&r->j, &v))
                ok = bad(r, "expected the snapshot format version (an integer)");
            else if (v != 1) {
                smbcim_error_set(r->err, WBEM_E_INVALID_PARAMETER,
                                 "%s: $.smbcim_snapshot: unsupported snapshot version %lld "
                                 "(this smbcim reads version 1)", r->origin, (long long)v);
                ok = false;
            }
            have_version = ok;
        } else if (key_is(r, "server")) {
            ok = have_server = read_server(r, st);
        } else if (key_is(r, "shares")) {
            ok = have_shares = read_shares(r, st);
        } else if (key_is(r, "smbstatus")) {
            ok = have_status = read_smbstatus(r, st);
        } else {
            ok = skip_value(r);
        }
        pop(r);
        if (!ok)
            return false;
    }
    if (m < 0)
        return false;
    if (!have_version) return missing(r, "smbcim_snapshot");
    if (!have_server) return missing(r, "server");
    if (!have_shares) return missing(r, "shares");
    if (!have_status) return missing(r, "smbstatus");
    if (next(r) != JP_EOF)
        return syntax_error(r);
    return true;
}

smbcim_status sc_snapshot_parse(sc_arena *a, const char *buf, size_t len, const char *origin,
                                sc_state **out, smbcim_error *err)
{
    rd r;
    memset(&r, 0, sizeof(r));
    jp_init(&r.j, buf, len);
    r.a = a;
    r.origin = origin ? origin : "snapshot";
    r.err = err;
    r.keys = sc_arena_new();
    sc_state *st = sc_alloc(a, sizeof(*st));
    st->have = SC_PARTS_ALL; /* a snapshot holds every part */
    bool ok = read_document(&r, st);
    jp_free(&r.j);
    sc_arena_free(r.keys);
    if (!ok) {
        *out = NULL;
        if (err && !err->code)
            smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "%s: invalid snapshot", r.origin);
        return WBEM_E_INVALID_PARAMETER;
    }
    *out = st;
    return WBEM_S_NO_ERROR;
}

/* ---- opening a snapshot file ----------------------------------------------
 * A snapshot is a regular file (mapped), or a pipe or socket (read, so
 * that `--snapshot <(cat x)` and `--snapshot -` from a pipe work); a
 * terminal is read on standard input only.  Anything else (a device such
 * as /dev/zero, a directory) is refused unopened.  Either way at most
 * SC_SNAPSHOT_MAX_FILE bytes: a larger regular file is refused by its
 * size, a pipe stops with an error when it has given more. */

typedef struct parse_call {
    sc_arena *a;
    const char *buf;
    size_t len;
    const char *origin;
    sc_state **out;
    smbcim_error *err;
    smbcim_status st;
} parse_call;

static void parse_cb(void *p)
{
    parse_call *c = p;
    c->st = sc_snapshot_parse(c->a, c->buf, c->len, c->origin, c->out, c->err);
}

/* "536870912 bytes (512 MiB)" */
static void limit_text(size_t max, char *buf, size_t len)
{
    if (max >= 1024 * 1024 && max % (1024 * 1024) == 0)
        snprintf(buf, len, "%zu bytes (%zu MiB)", max, max / (1024 * 1024));
    else
        snprintf(buf, len, "%zu bytes", max);
}

smbcim_status sc_snapshot_load_limit(sc_arena *a, const char *path, size_t max,
                                     sc_state **out, smbcim_error *err)
{
    *out = NULL;
    bool is_stdin = strcmp(path, "-") == 0;
    char lim[64];
    limit_text(max, lim, sizeof lim);
    struct stat sb;
    int fd = STDIN_FILENO;
    if (!is_stdin) {
        /* Looked at before it is opened: a device is not opened at all; a
         * regular file is opened with O_NONBLOCK (in case a FIFO took its
         * place since), a FIFO without it (it waits for its writer, as
         * `cat` would). */
        if (stat(path, &sb) != 0)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "cannot open snapshot %s: %s", path, strerror(errno));
        if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) && !S_ISSOCK(sb.st_mode))
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "cannot read snapshot %s: it is %s, not a regular file or "
                                    "a pipe", path, sc_file_kind(sb.st_mode));
        if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "cannot read snapshot %s: %lld bytes, more than the limit "
                                    "of %s", path, (long long)sb.st_size, lim);
        fd = open(path, O_RDONLY | O_CLOEXEC | (S_ISREG(sb.st_mode) ? O_NONBLOCK : 0));
        if (fd < 0)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "cannot open snapshot %s: %s", path, strerror(errno));
    } else {
        path = "<stdin>";
    }
    smbcim_status st = WBEM_S_NO_ERROR;
    if (fstat(fd, &sb) != 0) {
        st = smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "cannot read snapshot %s: %s",
                              path, strerror(errno));
    } else if (!S_ISREG(sb.st_mode) && !S_ISFIFO(sb.st_mode) && !S_ISSOCK(sb.st_mode) &&
               !(is_stdin && isatty(fd))) {
        st = smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                              "cannot read snapshot %s: it is %s, not a regular file or a pipe",
                              path, sc_file_kind(sb.st_mode));
    } else if (S_ISREG(sb.st_mode) && (uint64_t)sb.st_size > max) {
        st = smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                              "cannot read snapshot %s: %lld bytes, more than the limit of %s",
                              path, (long long)sb.st_size, lim);
    } else if (!is_stdin) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0)
            st = smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                  "cannot read snapshot %s: %s", path, strerror(errno));
    }
    if (st != WBEM_S_NO_ERROR) {
        if (!is_stdin)
            close(fd);
        return st;
    }
    /* A regular file is mapped, not copied: the reader only looks at each
     * byte once, and the pages cost no heap. */
    if (S_ISREG(sb.st_mode) && sb.st_size > 0) {
        void *map = mmap(NULL, (size_t)sb.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (map != MAP_FAILED) {
            if (!is_stdin)
                close(fd);
            (void)madvise(map, (size_t)sb.st_size, MADV_SEQUENTIAL);
            parse_call c = {a, map, (size_t)sb.st_size, path, out, err, 0};
            bool done = sc_oom_call(parse_cb, &c);
            munmap(map, (size_t)sb.st_size); /* out of memory too */
            if (!done)
                sc_oom_raise();
            return c.st;
        }
    }
    sc_buf b;
    sc_buf_init(&b);
    bool ok = sc_read_fd(fd, max, &b);
    int e = errno;
    if (!is_stdin)
        close(fd);
    if (!ok) {
        sc_buf_free(&b);
        if (e == EFBIG)
            return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER,
                                    "cannot read snapshot %s: more than the limit of %s; "
                                    "stopped reading", path, lim);
        return smbcim_error_set(err, WBEM_E_INVALID_PARAMETER, "cannot read snapshot %s: %s",
                                path, strerror(e));
    }
    st = sc_snapshot_parse(a, b.data ? b.data : "", b.len, path, out, err);
    sc_buf_free(&b);
    return st;
}

smbcim_status sc_snapshot_load(sc_arena *a, const char *path, sc_state **out,
                               smbcim_error *err)
{
    return sc_snapshot_load_limit(a, path, SC_SNAPSHOT_MAX_FILE, out, err);
}

/* ---- writer ---------------------------------------------------------------
 * The inverse of sc_snapshot_parse: a state as a version-1 snapshot, with
 * the smbstatus part in smbstatus's own JSON shape, so that reading it
 * back gives the same records (tests/e2e checks that the answers agree).
 */
static void w_time(sc_buf *b, sc_time t)
{
    if (!t.valid) {
        sc_buf_puts(b, "null");
        return;
    }
    time_t s = (time_t)t.sec;
    struct tm tm;
    gmtime_r(&s, &tm);
    char d[64];
    strftime(d, sizeof d, "%Y-%m-%dT%H:%M:%S", &tm);
    sc_buf_printf(b, "\"%s.%06d+00:00\"", d, (int)t.usec);
}

static void w_server_id(sc_buf *b, const sc_server_id *id)
{
    sc_buf_puts(b, "{\"pid\": ");
    jp_put_str(b, id->pid);
    if (id->unique_id) {
        sc_buf_puts(b, ", \"unique_id\": ");
        jp_put_str(b, id->unique_id);
    }
    sc_buf_putc(b, '}');
}

static const char *kind_name(sc_share_kind k)
{
    switch (k) {
    case SC_SHARE_PRINTER: return "printer";
    case SC_SHARE_DEVICE: return "device";
    case SC_SHARE_IPC: return "ipc";
    default: return "disk";
    }
}

void sc_snapshot_write(const sc_state *st, sc_buf *b)
{
    sc_buf_puts(b, "{\n\"smbcim_snapshot\": 1,\n\"server\": {\"name\": ");
    jp_put_str(b, st->server_name);
    sc_buf_puts(b, ", \"taken_at\": ");
    w_time(b, st->taken_at);
    sc_buf_puts(b, "},\n\"shares\": [");
    for (size_t i = 0; i < st->nshares; i++) {
        const sc_share *s = &st->shares[i];
        sc_buf_puts(b, i ? ",\n  {\"name\": " : "\n  {\"name\": ");
        jp_put_str(b, s->name);
        sc_buf_printf(b, ", \"kind\": \"%s\", \"administrative\": %s, \"path\": ",
                      kind_name(s->kind), s->administrative ? "true" : "false");
        jp_put_str(b, s->path);
        sc_buf_puts(b, ", \"comment\": ");
        jp_put_str(b, s->comment);
        sc_buf_printf(b, ", \"max_connections\": %u}", (unsigned)s->max_connections);
    }
    sc_buf_puts(b, "\n],\n\"smbstatus\": {\n\"sessions\": {");
    for (size_t i = 0; i < st->nsessions; i++) {
        const sc_session *s = &st->sessions[i];
        sc_buf_puts(b, i ? ",\n  " : "\n  ");
        jp_put_str(b, s->session_id);
        sc_buf_puts(b, ": {\"session_id\": ");
        jp_put_str(b, s->session_id);
        sc_buf_puts(b, ", \"server_id\": ");
        w_server_id(b, &s->server);
        sc_buf_printf(b, ", \"uid\": %lld, \"username\": ", (long long)s->uid);
        jp_put_str(b, s->username);
        sc_buf_puts(b, ", \"remote_machine\": ");
        jp_put_str(b, s->remote_machine ? s->remote_machine : "");
        if (s->hostname) {
            sc_buf_puts(b, ", \"hostname\": ");
            jp_put_str(b, s->hostname);
        }
        if (s->dialect) {
            sc_buf_puts(b, ", \"session_dialect\": ");
            jp_put_str(b, s->dialect);
        }
        if (s->creation_time.valid) {
            sc_buf_puts(b, ", \"creation_time\": ");
            w_time(b, s->creation_time);
        }
        sc_buf_putc(b, '}');
    }
    sc_buf_puts(b, "\n},\n\"tcons\": {");
    for (size_t i = 0; i < st->ntcons; i++) {
        const sc_tcon *t = &st->tcons[i];
        sc_buf_puts(b, i ? ",\n  " : "\n  ");
        jp_put_str(b, t->tcon_id);
        sc_buf_puts(b, ": {\"tcon_id\": ");
        jp_put_str(b, t->tcon_id);
        sc_buf_puts(b, ", \"service\": ");
        jp_put_str(b, t->service);
        sc_buf_puts(b, ", \"session_id\": ");
        jp_put_str(b, t->session_id);
        sc_buf_puts(b, ", \"server_id\": ");
        w_server_id(b, &t->server);
        if (t->machine) {
            sc_buf_puts(b, ", \"machine\": ");
            jp_put_str(b, t->machine);
        }
        sc_buf_puts(b, ", \"connected_at\": ");
        w_time(b, t->connected_at);
        sc_buf_putc(b, '}');
    }
    /* open_files: one object per (path, name), its opens keyed pid/index. */
    sc_buf_puts(b, "\n},\n\"open_files\": {");
    for (size_t i = 0; i < st->nopens; i++) {
        const sc_open *o = &st->opens[i];
        sc_buf_puts(b, i ? ",\n  " : "\n  ");
        char *key = sc_xmalloc(strlen(o->service_path) + strlen(o->filename) + 32);
        sprintf(key, "%s/%s#%zu", o->service_path, o->filename, i);
        jp_put_str(b, key);
        free(key);
        sc_buf_puts(b, ": {\"service_path\": ");
        jp_put_str(b, o->service_path);
        sc_buf_puts(b, ", \"filename\": ");
        jp_put_str(b, o->filename);
        sc_buf_puts(b, ", \"opens\": {");
        char okey[64];
        snprintf(okey, sizeof okey, "%s/%zu", o->server.pid, i);
        jp_put_str(b, okey);
        sc_buf_puts(b, ": {\"server_id\": ");
        w_server_id(b, &o->server);
        sc_buf_printf(b, ", \"uid\": %lld, \"access_mask\": {\"hex\": \"0x%08x\"}",
                      (long long)o->uid, (unsigned)o->access_mask);
        if (o->file_id_known)
            sc_buf_printf(b, ", \"share_file_id\": \"%llu\"", (unsigned long long)o->file_id);
        if (o->opened_at.valid) {
            sc_buf_puts(b, ", \"opened_at\": ");
            w_time(b, o->opened_at);
        }
        sc_buf_puts(b, "}}}");
    }
    sc_buf_puts(b, "\n}\n}\n}\n");
}
