/*
 * samba_conf.c - Samba's configuration as smbd sees it, read in-process:
 * the share list (Win32_Share) and the few global settings the live source
 * needs (lock directory, netbios name, ...).
 *
 * What it follows, like smbd's loadparm: the file's syntax (comments,
 * continuation lines, case- and space-insensitive parameter names and
 * their synonyms), repeated sections (merged), `copy =`, `include =`
 * (recursively, with the server-side % macros), [global] service
 * parameters as defaults for every share, `available = no`, IPC$ (added),
 * [homes] and [printers] as templates (kept aside, not listed), printers
 * of a printcap file, usershares, and the registry configuration
 * (`config backend = registry`, `include = registry`, `registry shares`),
 * which is read through `net conf list` because its TDB format is private
 * to Samba.  Choices and limits: docs/live-source.md.
 *
 * Errors carry the file and line: "smb.conf:12: missing ']' in section
 * header".  Only an unreadable main file, a syntax error, an include loop
 * or an include that cannot be read safely (a FIFO, too large) fails the
 * load; a missing include file is skipped (as smbd does).
 *
 * What it opens, it opens without blocking and reads with a size cap
 * (docs/live-source.md, "Files read, and their limits"): smb.conf, its
 * includes and the printcap must be regular files (symlinks followed) of
 * at most SC_SMBCONF_MAX_FILE bytes; a usershare file, which any member
 * of `sambashare` may write, is checked as smbd's process_usershare_file
 * checks it: lstat, a regular file that is not a symlink and not writable
 * by anyone, opened O_NOFOLLOW and fstat'ed to be the same file, at most
 * SC_USERSHARE_MAX_FILE bytes.  Anything else is skipped with a warning
 * (sc_smbconf.warnings), so a FIFO or a link to /dev/zero can neither
 * hang nor exhaust the reader.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#if defined(__has_include)
#if __has_include(<samba-4.0/samba/version.h>)
#include <samba-4.0/samba/version.h>
#endif
#endif
#ifndef SAMBA_VERSION_STRING
#define SAMBA_VERSION_STRING ""
#endif

#include "sources/sources.h"

#define MAX_INCLUDE_DEPTH 16
#define MAX_LINE (64 * 1024)
#define MAX_WARNINGS 16     /* kept in detail; more are counted */

typedef struct param {
    const char *key;   /* canonical name */
    const char *value;
} param;

typedef struct section {
    const char *name;
    sc_vec params;     /* param* */
    bool ignored;      /* a file share under `config backend = registry` */
} section;

typedef struct conf {
    sc_arena *a;
    sc_vec sections;   /* section*, in order of first appearance */
    sc_map by_name;    /* folded name -> section* */
    section *global;
    smbcim_error *err;
    int depth;
    bool registry_included;
    bool sandbox;      /* text only: no includes, registry, usershares, printcap */
    sc_vec warnings;   /* char* (arena): what was skipped, and why */
    size_t more_warnings; /* beyond MAX_WARNINGS */
} conf;

static void warn(conf *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void warn(conf *c, const char *fmt, ...)
{
    if (c->warnings.len >= MAX_WARNINGS) {
        c->more_warnings++;
        return;
    }
    sc_buf b;
    sc_buf_init(&b);
    va_list ap;
    va_start(ap, fmt);
    sc_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    sc_vec_push(&c->warnings, sc_strdup(c->a, b.data ? b.data : ""));
    sc_buf_free(&b);
}

/* ---- reading files without blocking -------------------------------------- */

typedef enum conf_read {
    CONF_OK,
    CONF_ABSENT,      /* does not exist (ENOENT, ENOTDIR) */
    CONF_UNREADABLE,  /* exists, but cannot be opened or read */
    CONF_NOT_FILE,    /* a FIFO, a device, a directory, a socket */
    CONF_TOO_LARGE,   /* more than SC_SMBCONF_MAX_FILE bytes */
} conf_read;

/* CONF_OK when sb is a regular file of at most SC_SMBCONF_MAX_FILE bytes. */
static conf_read conf_stat_ok(sc_arena *a, const struct stat *sb, const char **why, mode_t *mode)
{
    *mode = sb->st_mode;
    if (!S_ISREG(sb->st_mode)) {
        *why = sc_sprintf(a, "%s, not a regular file", sc_file_kind(sb->st_mode));
        return CONF_NOT_FILE;
    }
    if (sb->st_size > SC_SMBCONF_MAX_FILE) {
        *why = sc_sprintf(a, "%lld bytes, more than the %d (16 MiB) smbcim reads",
                          (long long)sb->st_size, SC_SMBCONF_MAX_FILE);
        return CONF_TOO_LARGE;
    }
    return CONF_OK;
}

/* Reads a configuration file (smb.conf, an include, the printcap) into b:
 * symlinks are followed (admins link smb.conf), but only a regular file of
 * at most SC_SMBCONF_MAX_FILE bytes is read.  It is checked before it is
 * opened (a device is never opened), opened with O_NONBLOCK (opening a
 * FIFO does not wait for a writer) and checked again on the descriptor
 * (the name may have been replaced since), which is then read in blocking
 * mode.  Other than CONF_OK: *why says why (in the arena), *mode is the
 * file's type when known (else 0). */
static conf_read read_conf_file(sc_arena *a, const char *path, sc_buf *b, const char **why,
                                mode_t *mode)
{
    struct stat sb;
    *mode = 0;
    if (stat(path, &sb) != 0) {
        *why = sc_strdup(a, strerror(errno));
        return errno == ENOENT || errno == ENOTDIR ? CONF_ABSENT : CONF_UNREADABLE;
    }
    conf_read r = conf_stat_ok(a, &sb, why, mode);
    if (r != CONF_OK)
        return r;
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        *why = sc_strdup(a, strerror(errno));
        return errno == ENOENT || errno == ENOTDIR ? CONF_ABSENT : CONF_UNREADABLE;
    }
    if (fstat(fd, &sb) != 0) {
        *why = sc_strdup(a, strerror(errno));
        close(fd);
        return CONF_UNREADABLE;
    }
    r = conf_stat_ok(a, &sb, why, mode);
    if (r != CONF_OK) {
        close(fd);
        return r;
    }
    int fl = fcntl(fd, F_GETFL);
    bool ok = fl >= 0 && fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) == 0 &&
              sc_read_fd(fd, SC_SMBCONF_MAX_FILE, b);
    int e = errno;
    close(fd);
    if (!ok) {
        if (e == EFBIG) { /* it grew since the fstat */
            *why = sc_sprintf(a, "more than the %d bytes (16 MiB) smbcim reads",
                              SC_SMBCONF_MAX_FILE);
            return CONF_TOO_LARGE;
        }
        *why = sc_strdup(a, strerror(e));
        return CONF_UNREADABLE;
    }
    return CONF_OK;
}

/* Parameter names: compared without case, spaces and underscores; the
 * synonyms we read map to one canonical name. */
static const struct {
    const char *alias;
    const char *canon;
} synonyms[] = {
    {"directory", "path"},
    {"browsable", "browseable"},
    {"printok", "printable"},
    {"print ok", "printable"},
    {"lockdir", "lockdirectory"},
    {"lock dir", "lockdirectory"},
    {"piddir", "piddirectory"},
    {"statedir", "statedirectory"},
};

static const char *canon_key(sc_arena *a, const char *k, size_t n)
{
    char *out = sc_alloc(a, n + 1);
    size_t j = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)k[i];
        if (c == ' ' || c == '\t' || c == '_')
            continue;
        out[j++] = (char)tolower(c);
    }
    out[j] = '\0';
    for (size_t i = 0; i < sizeof synonyms / sizeof synonyms[0]; i++) {
        char s[32];
        size_t m = 0;
        for (const char *p = synonyms[i].alias; *p && m < sizeof s - 1; p++)
            if (*p != ' ')
                s[m++] = *p;
        s[m] = '\0';
        if (strcmp(out, s) == 0)
            return synonyms[i].canon;
    }
    return out;
}

static const char *sget(const section *s, const char *key)
{
    if (!s)
        return NULL;
    /* Last value wins. */
    for (size_t i = s->params.len; i-- > 0;) {
        const param *p = s->params.items[i];
        if (strcmp(p->key, key) == 0)
            return p->value;
    }
    return NULL;
}

/* A share's parameter, else the [global] default, else NULL. */
static const char *share_get(const conf *c, const section *s, const char *key)
{
    const char *v = sget(s, key);
    return v ? v : sget(c->global, key);
}

static void sput(conf *c, section *s, const char *key, const char *value)
{
    param *p = sc_alloc(c->a, sizeof *p);
    p->key = key;
    p->value = value;
    sc_vec_push(&s->params, p);
}

static section *section_get(conf *c, const char *name)
{
    section *s = sc_map_get(&c->by_name, name);
    if (s)
        return s;
    s = sc_alloc(c->a, sizeof *s);
    s->name = sc_strdup(c->a, name);
    sc_map_put(&c->by_name, s->name, s);
    sc_vec_push(&c->sections, s);
    if (sc_streqi(name, "global"))
        c->global = s;
    return s;
}

/* Samba's boolean spellings; def when unset or unrecognised. */
static bool yes(const char *v, bool def)
{
    if (!v)
        return def;
    if (sc_streqi(v, "yes") || sc_streqi(v, "true") || sc_streqi(v, "1") ||
        sc_streqi(v, "on"))
        return true;
    if (sc_streqi(v, "no") || sc_streqi(v, "false") || sc_streqi(v, "0") ||
        sc_streqi(v, "off"))
        return false;
    return def;
}

/* The host name; for netbios use, cut at the first dot and upper-cased. */
static char *host_name(sc_arena *a, bool netbios)
{
    char h[256] = "";
    if (gethostname(h, sizeof h - 1) != 0)
        h[0] = '\0';
    if (netbios) {
        char *dot = strchr(h, '.');
        if (dot)
            *dot = '\0';
        sc_upcase_ascii(h);
    }
    return sc_strdup(a, h);
}

const char *sc_samba_version(void)
{
    return SAMBA_VERSION_STRING;
}

/* Expands the % macros that have one value for the whole server; the
 * per-client ones (%U %m %I ...) are left as they are and reported. */
static char *substitute(conf *c, const char *s, bool *client_macro)
{
    sc_buf b;
    sc_buf_init(&b);
    for (const char *p = s; *p; p++) {
        if (*p != '%' || !p[1]) {
            sc_buf_putc(&b, *p);
            continue;
        }
        char m = *++p;
        const char *nb = sget(c->global, "netbiosname");
        switch (m) {
        case '%': sc_buf_putc(&b, '%'); break;
        case 'v': sc_buf_puts(&b, SAMBA_VERSION_STRING); break;
        case 'h': sc_buf_puts(&b, host_name(c->a, false)); break;
        case 'L':
        case 'N': { /* smbd keeps its netbios name in upper case */
            char *v = nb && *nb ? sc_strdup(c->a, nb) : host_name(c->a, true);
            sc_upcase_ascii(v);
            sc_buf_puts(&b, v);
            break;
        }
        default:
            if (client_macro)
                *client_macro = true;
            sc_buf_putc(&b, '%');
            sc_buf_putc(&b, m);
        }
    }
    char *out = sc_strdup(c->a, b.len ? b.data : "");
    sc_buf_free(&b);
    return out;
}

static smbcim_status parse_text(conf *c, const char *text, size_t len, const char *origin,
                                section **cur);

/* Reads and parses one file: the main one (line 0: errors say "cannot read
 * the Samba configuration FILE: WHY") or an include at origin:line.  As
 * smbd's loadparm does, a missing include is skipped, and so are includes
 * that are directories or devices (Samba's file_exist() calls them
 * missing); an include smbd would open but smbcim will not read (a FIFO,
 * on which smbd itself would wait for a writer, or a file over the size
 * cap) fails the load, as an include smbd cannot read fails smbd's.  An
 * include that exists but cannot be opened (permissions) is skipped:
 * smbcim may run without the rights smbd has. */
static smbcim_status include_file(conf *c, const char *path, const char *origin, size_t line,
                                  section **cur)
{
    bool is_main = line == 0;
    if (c->depth >= MAX_INCLUDE_DEPTH)
        return smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                "%s:%zu: includes nested deeper than %d (an include loop?)",
                                origin, line, MAX_INCLUDE_DEPTH);
    if (c->sandbox)
        return WBEM_S_NO_ERROR;
    sc_buf b;
    sc_buf_init(&b);
    const char *why = "";
    mode_t mode = 0;
    conf_read r = read_conf_file(c->a, path, &b, &why, &mode);
    if (r != CONF_OK) {
        sc_buf_free(&b);
        if (is_main)
            return smbcim_error_set(c->err, WBEM_E_NOT_AVAILABLE,
                                    "cannot read the Samba configuration %s: %s", path, why);
        if (r == CONF_ABSENT || r == CONF_UNREADABLE)
            return WBEM_S_NO_ERROR; /* skipped, as smbd skips a missing include */
        if (r == CONF_NOT_FILE && !S_ISFIFO(mode)) {
            warn(c, "%s:%zu: include file %s skipped: %s", origin, line, path, why);
            return WBEM_S_NO_ERROR;
        }
        return smbcim_error_set(c->err, WBEM_E_NOT_AVAILABLE,
                                "%s:%zu: cannot read the included file %s: %s", origin, line,
                                path, why);
    }
    c->depth++;
    smbcim_status st = parse_text(c, b.data ? b.data : "", b.len, sc_strdup(c->a, path), cur);
    c->depth--;
    sc_buf_free(&b);
    return st;
}

static smbcim_status handle_param(conf *c, section **cur, const char *key, const char *value,
                                  const char *origin, size_t line)
{
    if (strcmp(key, "include") == 0) {
        if (sc_streqi(value, "registry")) {
            c->registry_included = true;
            return WBEM_S_NO_ERROR;
        }
        bool client = false;
        char *path = substitute(c, value, &client);
        if (client)
            return WBEM_S_NO_ERROR; /* per-client include: only a client's smbd reads it */
        return include_file(c, path, origin, line, cur);
    }
    if (strcmp(key, "copy") == 0) {
        section *src = sc_map_get(&c->by_name, value);
        if (src && src != *cur)
            for (size_t i = 0; i < src->params.len; i++) {
                const param *p = src->params.items[i];
                sput(c, *cur, p->key, p->value);
            }
        return WBEM_S_NO_ERROR;
    }
    sput(c, *cur, key, value);
    return WBEM_S_NO_ERROR;
}

static smbcim_status parse_text(conf *c, const char *text, size_t len, const char *origin,
                                section **cur)
{
    size_t line = 0;
    const char *p = text, *end = text + len;
    sc_buf logical;
    sc_buf_init(&logical);
    smbcim_status st = WBEM_S_NO_ERROR;
    while (p < end && st == WBEM_S_NO_ERROR) {
        /* One logical line: physical lines joined at a trailing backslash. */
        sc_buf_reset(&logical);
        size_t first = line + 1;
        for (;;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            const char *le = nl ? nl : end;
            line++;
            const char *q = le;
            if (q > p && q[-1] == '\r')
                q--;
            bool cont = q > p && q[-1] == '\\';
            sc_buf_add(&logical, p, (size_t)((cont ? q - 1 : q) - p));
            p = nl ? nl + 1 : end;
            if (!cont || p >= end)
                break;
            while (p < end && (*p == ' ' || *p == '\t'))
                p++; /* a continuation line's indentation is dropped */
        }
        if (logical.len > MAX_LINE) {
            st = smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                  "%s:%zu: line longer than %d bytes", origin, first, MAX_LINE);
            break;
        }
        sc_buf_putc(&logical, '\0');
        char *s = logical.data;
        if (memchr(s, '\0', logical.len - 1)) {
            st = smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                  "%s:%zu: NUL byte in the configuration", origin, first);
            break;
        }
        while (*s == ' ' || *s == '\t')
            s++;
        size_t n = strlen(s);
        while (n && isspace((unsigned char)s[n - 1]))
            s[--n] = '\0';
        if (n == 0 || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (!close) {
                st = smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                      "%s:%zu: missing ']' in section header", origin, first);
                break;
            }
            *close = '\0';
            char *name = s + 1;
            while (*name == ' ' || *name == '\t')
                name++;
            size_t m = strlen(name);
            while (m && isspace((unsigned char)name[m - 1]))
                name[--m] = '\0';
            if (m == 0) {
                st = smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                      "%s:%zu: empty section name", origin, first);
                break;
            }
            *cur = section_get(c, name);
            continue;
        }
        char *eq = strchr(s, '=');
        if (!eq) {
            st = smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                  "%s:%zu: expected 'name = value' or '[section]', found \"%.60s\"",
                                  origin, first, s);
            break;
        }
        char *k = s, *ke = eq;
        while (ke > k && isspace((unsigned char)ke[-1]))
            ke--;
        char *v = eq + 1;
        while (*v == ' ' || *v == '\t')
            v++;
        if (ke == k) {
            st = smbcim_error_set(c->err, WBEM_E_INVALID_PARAMETER,
                                  "%s:%zu: parameter without a name", origin, first);
            break;
        }
        if (!*cur)
            *cur = section_get(c, "global"); /* parameters before any section */
        const char *key = canon_key(c->a, k, (size_t)(ke - k));
        st = handle_param(c, cur, key, sc_strdup(c->a, v), origin, first);
    }
    sc_buf_free(&logical);
    return st;
}

/* The registry configuration, through `net conf list` (smb.conf syntax). */
static smbcim_status load_registry(conf *c, const char *path, bool shares_only)
{
    if (c->sandbox)
        return WBEM_S_NO_ERROR;
    char *argv[] = {"net", "-s", (char *)path, "conf", "list", NULL};
    size_t len = 0;
    int status = 0;
    char *text = sc_run_capture(c->a, argv, NULL, &len, NULL, &status);
    if (!text && errno == ETIMEDOUT)
        /* On a cluster the registry is a clustered database: net waits for
         * the node that holds its lock (Samba 4.25's net takes a
         * cluster-wide lock before anything else). */
        return smbcim_error_set(c->err, WBEM_E_FAILED,
                                "%s asks for the registry configuration, and `net -s %s conf "
                                "list` did not finish within %u s and was stopped "
                                "(SMBCIM_RUN_TIMEOUT)%s", path, path, sc_run_timeout(),
                                yes(sget(c->global, "clustering"), false)
                                    ? "; on a CTDB cluster net waits for every node that holds "
                                      "a lock it needs: is one of them stopped or unreachable? "
                                      "(`ctdb status`)"
                                    : "");
    if (!text || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
        return smbcim_error_set(c->err, WBEM_E_FAILED,
                                "%s asks for the registry configuration, and `net -s %s conf "
                                "list` failed (%s %d)", path, path,
                                text && WIFEXITED(status) ? "exit status" : "signal",
                                text && WIFEXITED(status) ? WEXITSTATUS(status)
                                                          : WTERMSIG(status));
    conf rc = {.a = c->a, .err = c->err};
    sc_map_init(&rc.by_name);
    section *cur = NULL;
    smbcim_status st = parse_text(&rc, text, len, "registry configuration", &cur);
    if (st == WBEM_S_NO_ERROR) {
        for (size_t i = 0; i < rc.sections.len; i++) {
            section *s = rc.sections.items[i];
            if (shares_only && sc_streqi(s->name, "global"))
                continue;
            section *d = section_get(c, s->name);
            for (size_t j = 0; j < s->params.len; j++) {
                const param *p = s->params.items[j];
                sput(c, d, p->key, p->value);
            }
        }
    }
    for (size_t i = 0; i < rc.sections.len; i++)
        sc_vec_free(&((section *)rc.sections.items[i])->params);
    sc_map_free(&rc.by_name);
    sc_vec_free(&rc.sections);
    return st;
}

static bool is_template(const char *name)
{
    return sc_streqi(name, "global") || sc_streqi(name, "homes") || sc_streqi(name, "printers");
}

static void add_share(sc_arena *a, sc_vec *out, const char *name, sc_share_kind kind,
                      bool admin, const char *path, const char *comment, uint32_t maxc)
{
    for (size_t i = 0; i < out->len; i++) {
        sc_share *s = out->items[i];
        if (sc_streqi(s->name, name))
            return; /* the first definition wins, as in smbd's service list */
    }
    sc_share *s = sc_alloc(a, sizeof *s);
    s->name = sc_strdup(a, name);
    s->kind = kind;
    s->administrative = admin;
    s->path = path && *path ? sc_strdup(a, path) : NULL;
    s->comment = comment ? sc_strdup(a, comment) : "";
    s->max_connections = maxc;
    s->max_known = true;
    sc_vec_push(out, s);
}

static uint32_t parse_max(const char *v)
{
    if (!v)
        return 0;
    char *e;
    long long n = strtoll(v, &e, 10);
    if (e == v || n <= 0)
        return 0;
    return n > 0xFFFFFFFFll ? 0xFFFFFFFFu : (uint32_t)n;
}

/* Why smbd would refuse a usershare file with this lstat or fstat (NULL:
 * it would not), as smbd's check_usershare_stat: a regular file (not a
 * symlink, FIFO, device ...), not writable by anyone, at most
 * SC_USERSHARE_MAX_FILE bytes. */
static const char *usershare_refusal(sc_arena *a, const struct stat *sb)
{
    if (!S_ISREG(sb->st_mode))
        return sc_sprintf(a, "%s, not a regular file", sc_file_kind(sb->st_mode));
    if (sb->st_mode & S_IWOTH)
        return "writable by anyone";
    if (sb->st_size > SC_USERSHARE_MAX_FILE)
        return sc_sprintf(a, "%lld bytes, more than the %d smbd accepts",
                          (long long)sb->st_size, SC_USERSHARE_MAX_FILE);
    return NULL;
}

/* Reads one usershare file into b, as smbd's process_usershare_file does:
 * lstat, refused unless a plain regular file (usershare_refusal); opened
 * with O_NOFOLLOW (and O_NONBLOCK, should a FIFO be swapped in after the
 * lstat); fstat'ed, and refused unless it is the file lstat saw and still
 * passes; at most SC_USERSHARE_MAX_FILE bytes read.  NULL when read; else
 * why not (in the arena), or "" when the file went away (no warning). */
static const char *read_usershare(sc_arena *a, const char *file, sc_buf *b, unsigned *uid)
{
    struct stat lsb, sb;
    if (lstat(file, &lsb) != 0)
        return errno == ENOENT ? "" : sc_sprintf(a, "lstat: %s", strerror(errno));
    *uid = (unsigned)lsb.st_uid;
    const char *why = usershare_refusal(a, &lsb);
    if (why)
        return why;
    int fd = open(file, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? "" : sc_sprintf(a, "cannot open it: %s", strerror(errno));
    if (fstat(fd, &sb) != 0) {
        why = sc_sprintf(a, "fstat: %s", strerror(errno));
    } else if (sb.st_dev != lsb.st_dev || sb.st_ino != lsb.st_ino) {
        why = "replaced between lstat and open (symlink spoofing?)";
    } else if ((why = usershare_refusal(a, &sb)) == NULL) {
        int fl = fcntl(fd, F_GETFL);
        if (fl < 0 || fcntl(fd, F_SETFL, fl & ~O_NONBLOCK) != 0 ||
            !sc_read_fd(fd, SC_USERSHARE_MAX_FILE, b))
            why = errno == EFBIG
                      ? sc_sprintf(a, "more than the %d bytes smbd accepts",
                                   SC_USERSHARE_MAX_FILE)
                      : sc_sprintf(a, "cannot read it: %s", strerror(errno));
    }
    close(fd);
    return why;
}

/* Usershares: one file per share in `usershare path`, "#VERSION 2".  A
 * file smbd would refuse is skipped with a warning; like smbd's
 * load_usershare_shares, the scan stops after more bad entries than 20%
 * of `usershare max shares`, or more entries than that maximum and 20%. */
static void load_usershares(conf *c, sc_vec *out, const char *dir, size_t max)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    size_t count = 0, entries = 0, bad = 0, allowed_bad = 2 * max / 10;
    sc_buf b;
    sc_buf_init(&b);
    while ((de = readdir(d)) != NULL && count < max) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        if (++entries > max + allowed_bad) {
            warn(c, "usershare directory %s: more than %zu entries; the rest not read "
                 "(smbd stops there too)", dir, max + allowed_bad);
            break;
        }
        if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
            continue; /* lock and temporary files */
        char *file = sc_sprintf(c->a, "%s/%s", dir, de->d_name);
        sc_buf_reset(&b);
        unsigned uid = 0;
        const char *why = read_usershare(c->a, file, &b, &uid);
        const char *path = NULL, *comment = "", *sname = de->d_name;
        bool v2 = false;
        const char *text = b.data ? b.data : "";
        for (const char *p = text, *end = text + b.len; !why && p < end;) {
            const char *nl = memchr(p, '\n', (size_t)(end - p));
            size_t n = (size_t)((nl ? nl : end) - p);
            char *line = sc_strndup(c->a, p, n);
            line[strcspn(line, "\r")] = '\0';
            p = nl ? nl + 1 : end;
            if (strcmp(line, "#VERSION 2") == 0)
                v2 = true;
            else if (strncmp(line, "path=", 5) == 0)
                path = line + 5;
            else if (strncmp(line, "comment=", 8) == 0)
                comment = line + 8;
            else if (strncmp(line, "sharename=", 10) == 0)
                sname = line + 10;
        }
        if (why && !*why)
            continue; /* went away since readdir: not a bad entry */
        if (why)
            warn(c, "usershare %s (owner uid %u) skipped: %s", file, uid, why);
        if (why || !v2 || !path) {
            if (++bad > allowed_bad) {
                warn(c, "usershare directory %s: more than %zu bad entries; the rest not read "
                     "(smbd stops there too)", dir, allowed_bad);
                break;
            }
            continue;
        }
        add_share(c->a, out, sname, SC_SHARE_DISK, false, path, comment, 0);
        count++;
    }
    sc_buf_free(&b);
    closedir(d);
}

/* Printers of a BSD-style printcap file: "name|alias:...". */
static void load_printcap(conf *c, sc_vec *out, const section *printers, const char *file)
{
    sc_buf b;
    sc_buf_init(&b);
    const char *why = "";
    mode_t mode;
    conf_read r = read_conf_file(c->a, file, &b, &why, &mode);
    if (r == CONF_NOT_FILE || r == CONF_TOO_LARGE)
        warn(c, "printcap file %s not read: %s", file, why);
    const char *text = b.data ? b.data : "";
    for (const char *p = text, *end = text + b.len; r == CONF_OK && p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = (size_t)((nl ? nl : end) - p);
        const char *line = p;
        p = nl ? nl + 1 : end;
        if (len == 0 || line[0] == '#' || isspace((unsigned char)line[0]) || line[0] == ':')
            continue;
        size_t n = 0;
        while (n < len && !strchr("|:\r", line[n]) && line[n] != '\0')
            n++;
        if (n == 0)
            continue;
        add_share(c->a, out, sc_strndup(c->a, line, n), SC_SHARE_PRINTER, false,
                  share_get(c, printers, "path"), share_get(c, printers, "comment"),
                  parse_max(share_get(c, printers, "maxconnections")));
    }
    sc_buf_free(&b);
}

static smbcim_status build(conf *cp, const char *path, sc_smbconf **out);

smbcim_status sc_smbconf_load(sc_arena *a, const char *path, sc_smbconf **out,
                              smbcim_error *err)
{
    conf c = {.a = a, .err = err};
    sc_map_init(&c.by_name);
    section *cur = NULL;
    smbcim_status st = include_file(&c, path, path, 0, &cur);
    if (st == WBEM_S_NO_ERROR)
        st = build(&c, path, out);
    for (size_t i = 0; i < c.sections.len; i++)
        sc_vec_free(&((section *)c.sections.items[i])->params);
    sc_vec_free(&c.sections);
    sc_vec_free(&c.warnings);
    sc_map_free(&c.by_name);
    return st;
}

smbcim_status sc_smbconf_parse_text(sc_arena *a, const char *text, size_t len,
                                    const char *origin, sc_smbconf **out, smbcim_error *err)
{
    conf c = {.a = a, .err = err, .sandbox = true};
    sc_map_init(&c.by_name);
    section *cur = NULL;
    smbcim_status st = parse_text(&c, text, len, origin, &cur);
    if (st == WBEM_S_NO_ERROR)
        st = build(&c, origin, out);
    for (size_t i = 0; i < c.sections.len; i++)
        sc_vec_free(&((section *)c.sections.items[i])->params);
    sc_vec_free(&c.sections);
    sc_vec_free(&c.warnings);
    sc_map_free(&c.by_name);
    return st;
}

/* From the parsed sections to the share list and settings. */
static smbcim_status build(conf *cp, const char *path, sc_smbconf **out)
{
    conf c = *cp;
    sc_arena *a = c.a;
    smbcim_status st = WBEM_S_NO_ERROR;
    if (!c.global)
        section_get(&c, "global");
    const char *backend = sget(c.global, "configbackend");
    if (backend && sc_streqi(backend, "registry")) {
        /* Only the registry counts; the file's shares are ignored. */
        for (size_t i = 0; i < c.sections.len; i++) {
            section *s = c.sections.items[i];
            if (s != c.global) {
                s->ignored = true;
                sc_map_put(&c.by_name, s->name, NULL);
            }
        }
        st = load_registry(&c, path, false);
    } else if (c.registry_included || yes(sget(c.global, "registryshares"), false)) {
        st = load_registry(&c, path, !c.registry_included);
    }
    if (st != WBEM_S_NO_ERROR) {
        *cp = c;
        return st;
    }

    sc_smbconf *sc = sc_alloc(a, sizeof *sc);
    sc->config_file = sc_strdup(a, path);
    const char *nb = sget(c.global, "netbiosname");
    char *netbios = nb && *nb ? substitute(&c, nb, NULL) : host_name(a, true);
    sc_upcase_ascii(netbios);
    sc->netbios_name = netbios;
    const char *ld = sget(c.global, "lockdirectory");
    sc->lock_dir = ld && *ld ? substitute(&c, ld, NULL) : SC_SAMBA_LOCKDIR;
    const char *pd = sget(c.global, "piddirectory");
    sc->pid_dir = pd && *pd ? substitute(&c, pd, NULL) : SC_SAMBA_PIDDIR;
    sc->clustering = yes(sget(c.global, "clustering"), false);
    const char *cs = sget(c.global, "ctdbdsocket");
    sc->ctdbd_socket = cs && *cs ? substitute(&c, cs, NULL) : SC_CTDBD_SOCKET;
    const char *ss = sget(c.global, "serverstring");
    sc->server_string = substitute(&c, ss ? ss : "Samba %v", NULL);

    sc_vec shares = {0};
    for (size_t i = 0; i < c.sections.len; i++) {
        section *s = c.sections.items[i];
        if (s->ignored || is_template(s->name))
            continue;
        if (!yes(share_get(&c, s, "available"), true))
            continue;
        bool printer = yes(share_get(&c, s, "printable"), false);
        bool client = false;
        const char *p = share_get(&c, s, "path");
        char *sp = p ? substitute(&c, p, &client) : NULL;
        const char *cm = share_get(&c, s, "comment");
        add_share(a, &shares, s->name, printer ? SC_SHARE_PRINTER : SC_SHARE_DISK,
                  yes(share_get(&c, s, "administrativeshare"), false), client ? NULL : sp,
                  cm ? substitute(&c, cm, NULL) : "",
                  parse_max(share_get(&c, s, "maxconnections")));
    }
    section *homes = sc_map_get(&c.by_name, "homes");
    if (homes && yes(share_get(&c, homes, "available"), true)) {
        sc->homes = true;
        const char *hp = share_get(&c, homes, "path");
        sc->homes_path = hp ? sc_strdup(a, hp) : NULL;
        const char *hc = share_get(&c, homes, "comment");
        sc->homes_comment = hc ? substitute(&c, hc, NULL) : "";
        sc->homes_max = parse_max(share_get(&c, homes, "maxconnections"));
    }
    section *printers = sc_map_get(&c.by_name, "printers");
    const char *printing = sget(c.global, "printing");
    const char *pcap = sget(c.global, "printcapname");
    if (!c.sandbox && printers && yes(sget(c.global, "loadprinters"), true) && printing &&
        !sc_streqi(printing, "cups") && !sc_streqi(printing, "iprint") && pcap && *pcap &&
        pcap[0] == '/')
        load_printcap(&c, &shares, printers, pcap);
    long umax = 100; /* Debian's default for usershare max shares */
    const char *um = sget(c.global, "usersharemaxshares");
    if (um)
        umax = strtol(um, NULL, 10);
    if (umax > 0 && !c.sandbox) {
        const char *up = sget(c.global, "usersharepath");
        load_usershares(&c, &shares, up && *up ? up : SC_SAMBA_USERSHARES, (size_t)umax);
    }
    /* IPC$, as smbd adds it: administrative, path /tmp; an [IPC$] section
     * of the file becomes that IPC share (smbd's lp_add_ipc reuses it). */
    for (size_t i = 0; i < shares.len; i++)
        if (sc_streqi(((sc_share *)shares.items[i])->name, "IPC$")) {
            shares.items[i] = shares.items[--shares.len];
            break;
        }
    add_share(a, &shares, "IPC$", SC_SHARE_IPC, true, "/tmp",
              sc_sprintf(a, "IPC Service (%s)", sc->server_string), 0);
    sc->shares = sc_alloc_array(a, shares.len ? shares.len : 1, sizeof(sc_share));
    for (size_t i = 0; i < shares.len; i++)
        sc->shares[i] = *(sc_share *)shares.items[i];
    sc->nshares = shares.len;
    sc_vec_free(&shares);
    if (c.more_warnings)
        sc_vec_push(&c.warnings, sc_sprintf(a, "... and %zu more warnings", c.more_warnings));
    sc->nwarnings = c.warnings.len;
    sc->warnings = sc_alloc_array(a, c.warnings.len ? c.warnings.len : 1, sizeof(char *));
    for (size_t i = 0; i < c.warnings.len; i++)
        sc->warnings[i] = c.warnings.items[i];
    *out = sc;
    *cp = c;
    return st;
}
