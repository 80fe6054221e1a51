/*
 * samba_ndr.c - decoders for the records smbd keeps in its lock directory:
 * smbXsrv_session_global.tdb, smbXsrv_tcon_global.tdb and locking.tdb.
 *
 * The records are NDR (little-endian, 32-bit referent ids) as Samba's
 * pidl-generated code pushes them; smbd marks their layout "version 0,
 * not stable", so the layout decoded here is the one of the Samba releases
 * listed in docs/live-source.md (measured on 4.17).  Every decoder checks
 * everything it reads (bounds, alignment padding, counts, referent ids,
 * string terminators and UTF-8) and must consume the record to its last
 * byte; a record of any other layout is rejected with the offset where it
 * stopped making sense, so a Samba release with another format falls back
 * to the smbstatus route instead of giving wrong answers.
 *
 * Pure functions over bytes: no I/O, no libtdb (the fuzz target links them
 * alone).  Strings are copied into the caller's arena.
 */
#include <stdio.h>
#include <string.h>

#include "sources/sources.h"

typedef struct ndr {
    const uint8_t *p;
    size_t len;
    size_t off;
    size_t base;       /* alignment is relative to the start of the NDR blob */
    const char *fail;  /* first failure, static text */
    size_t fail_at;
} ndr;

static bool nfail(ndr *n, const char *why)
{
    if (!n->fail) {
        n->fail = why;
        n->fail_at = n->off;
    }
    return false;
}

static bool need(ndr *n, size_t k)
{
    if (n->fail)
        return false;
    if (k > n->len - n->off)
        return nfail(n, "record ends early");
    return true;
}

/* Skips padding to a multiple of a; the padding must be zero (pidl pushes
 * zeros), which catches most layout mismatches early. */
static bool nalign(ndr *n, size_t a)
{
    size_t rel = n->off - n->base;
    size_t pad = (a - rel % a) % a;
    if (!need(n, pad))
        return false;
    for (size_t i = 0; i < pad; i++)
        if (n->p[n->off + i] != 0)
            return nfail(n, "non-zero alignment padding");
    n->off += pad;
    return true;
}

static uint8_t u8(ndr *n)
{
    if (!need(n, 1))
        return 0;
    return n->p[n->off++];
}

static uint16_t u16(ndr *n)
{
    if (!nalign(n, 2) || !need(n, 2))
        return 0;
    uint16_t v = (uint16_t)(n->p[n->off] | (n->p[n->off + 1] << 8));
    n->off += 2;
    return v;
}

static uint32_t u32(ndr *n)
{
    if (!nalign(n, 4) || !need(n, 4))
        return 0;
    const uint8_t *q = n->p + n->off;
    n->off += 4;
    return (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) |
           ((uint32_t)q[3] << 24);
}

/* udlong / NTTIME: 8 bytes at 4-byte alignment. */
static uint64_t udlong(ndr *n)
{
    uint64_t lo = u32(n);
    uint64_t hi = u32(n);
    return lo | (hi << 32);
}

/* hyper: 8 bytes at 8-byte alignment. */
static uint64_t hyper(ndr *n)
{
    if (!nalign(n, 8))
        return 0;
    return udlong(n);
}

/* A unique pointer's referent id: 0 (NULL) or non-zero. */
static bool uptr(ndr *n)
{
    return u32(n) != 0;
}

/* An [ignore]d pointer: pidl pushes it as NULL. */
static void ignored_ptr(ndr *n)
{
    if (u32(n) != 0)
        nfail(n, "an ignored pointer is not NULL");
}

static void skip(ndr *n, size_t k)
{
    if (need(n, k))
        n->off += k;
}

/* [string,charset(UTF8)]: size, offset (0), length, bytes with the NUL. */
static const char *nstring(ndr *n, sc_arena *a)
{
    uint32_t size = u32(n);
    uint32_t ofs = u32(n);
    uint32_t len = u32(n);
    if (n->fail)
        return NULL;
    if (ofs != 0 || len > size || len == 0) {
        nfail(n, "malformed string header");
        return NULL;
    }
    if (!need(n, len))
        return NULL;
    const char *s = (const char *)n->p + n->off;
    if (s[len - 1] != '\0' || memchr(s, '\0', len - 1) != NULL) {
        nfail(n, "string not terminated where its length says");
        return NULL;
    }
    const char *q = s, *end = s + len - 1;
    while (q < end) {
        if (sc_utf8_next(&q, end) == 0xFFFFFFFFu) {
            nfail(n, "string is not valid UTF-8");
            return NULL;
        }
    }
    n->off += len;
    return a ? sc_strndup(a, s, len - 1) : "";
}

/* DATA_BLOB: a 32-bit length, then the bytes. */
static void nblob(ndr *n)
{
    uint32_t l = u32(n);
    skip(n, l);
}

static void server_id(ndr *n, uint64_t *pid, uint64_t *unique)
{
    *pid = hyper(n);
    (void)u32(n); /* task_id */
    (void)u32(n); /* vnn */
    *unique = hyper(n);
}

/* dom_sid: revision, count, authority, count sub-authorities. */
static void dom_sid(ndr *n)
{
    nalign(n, 4);
    uint8_t rev = u8(n);
    uint8_t cnt = u8(n);
    if (!n->fail && (rev != 1 || cnt > 15)) {
        nfail(n, "malformed SID");
        return;
    }
    skip(n, 6);
    skip(n, (size_t)cnt * 4);
}

/* The union header of every smbXsrv_*_globalB: version 0, a sequence
 * number, the union's level (the version again) and the pointer to the
 * version-0 structure, which follows aligned to 8. */
static bool globalB(ndr *n)
{
    uint32_t version = u32(n);
    (void)u32(n); /* seqnum */
    uint32_t level = u32(n);
    if (n->fail)
        return false;
    if (version != 0 || level != 0)
        return nfail(n, "unknown smbXsrv record version");
    if (!uptr(n))
        return nfail(n, "record without its version-0 data");
    nalign(n, 8);
    ignored_ptr(n); /* db_rec */
    return !n->fail;
}

/* dbwrap_watch prefixes the values of watched databases with the number
 * of watchers (top bit: deleted) and one 32-byte entry per watcher. */
static bool watch_header(ndr *n, bool *deleted)
{
    uint32_t w = u32(n);
    if (n->fail)
        return false;
    *deleted = (w & 0x80000000u) != 0;
    size_t cnt = w & 0x7fffffffu;
    if (cnt > (n->len - n->off) / 32)
        return nfail(n, "watcher count larger than the record");
    n->off += cnt * 32;
    n->base = n->off;
    return true;
}

static bool finish(ndr *n, const char *what, char *why, size_t whylen)
{
    if (!n->fail && n->off != n->len)
        nfail(n, "unexpected bytes after the record");
    if (n->fail) {
        if (why)
            snprintf(why, whylen, "%s record: %s at byte %zu of %zu", what, n->fail,
                     n->fail_at, n->len);
        return false;
    }
    return true;
}

/* security_token (4.17): aligned to 8, the conformant SID array first. */
static void security_token(ndr *n)
{
    nalign(n, 8);
    uint32_t max = u32(n);
    uint32_t num = u32(n);
    if (!n->fail && (max != num || num > 4096)) {
        nfail(n, "malformed security token");
        return;
    }
    for (uint32_t i = 0; i < num && !n->fail; i++)
        dom_sid(n);
    (void)hyper(n); /* privilege_mask */
    (void)u32(n);   /* rights_mask */
}

static void unix_token(ndr *n, int64_t *uid, int64_t *gid)
{
    uint32_t max = u32(n);
    *uid = (int64_t)hyper(n);
    *gid = (int64_t)hyper(n);
    uint32_t ngroups = u32(n);
    if (!n->fail && (max != ngroups || ngroups > 65536)) {
        nfail(n, "malformed unix token");
        return;
    }
    for (uint32_t i = 0; i < ngroups && !n->fail; i++)
        (void)hyper(n);
}

static void auth_user_info(ndr *n)
{
    bool p[10];
    p[0] = uptr(n); /* account_name */
    p[1] = uptr(n); /* user_principal_name */
    (void)u8(n);    /* user_principal_constructed */
    for (int i = 2; i < 10; i++)
        p[i] = uptr(n); /* domain .. logon_server */
    for (int i = 0; i < 6; i++)
        (void)udlong(n); /* NTTIMEs */
    (void)u16(n);
    (void)u16(n);
    (void)u32(n);
    (void)u8(n); /* authenticated */
    for (int i = 0; i < 10; i++)
        if (p[i])
            (void)nstring(n, NULL);
}

static const char *unix_info(ndr *n, sc_arena *a)
{
    bool pu = uptr(n), ps = uptr(n);
    const char *name = pu ? nstring(n, a) : NULL;
    if (ps)
        (void)nstring(n, NULL);
    return name;
}

/* auth_session_info: four pointers, the torture pointer ([ignore]), the
 * session key, the credentials pointer ([ignore]), a GUID, ticket_type. */
static void auth_session_info(ndr *n, sc_arena *a, sc_ndr_session *s)
{
    bool tok = uptr(n), utok = uptr(n), info = uptr(n), uinfo = uptr(n);
    ignored_ptr(n);
    nblob(n);
    ignored_ptr(n);
    skip(n, 16);
    (void)u32(n);
    if (tok)
        security_token(n);
    if (utok) {
        unix_token(n, &s->uid, &s->gid);
        s->authenticated = !n->fail;
    }
    if (info)
        auth_user_info(n);
    if (uinfo)
        s->unix_name = unix_info(n, a);
}

bool sc_ndr_decode_session(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_session *s,
                    char *why, size_t whylen)
{
    memset(s, 0, sizeof(*s));
    s->uid = s->gid = -1;
    ndr n = {.p = buf, .len = len};
    bool deleted = false;
    if (!watch_header(&n, &deleted))
        return finish(&n, "session", why, whylen);
    if (deleted || n.off == n.len) {
        s->deleted = true;
        return true;
    }
    if (!globalB(&n))
        return finish(&n, "session", why, whylen);
    s->session_id = u32(&n);
    (void)hyper(&n); /* session_wire_id */
    s->creation_time = udlong(&n);
    (void)udlong(&n); /* expiration_time */
    s->auth_time = udlong(&n);
    (void)u32(&n); /* auth_session_info_seqnum */
    bool has_auth = uptr(&n);
    s->dialect = u16(&n);
    s->signing_flags = u8(&n);
    (void)u16(&n); /* signing_algo */
    s->encryption_flags = u8(&n);
    (void)u16(&n); /* encryption_cipher */
    for (int i = 0; i < 4; i++) { /* signing, encryption, decryption, application keys */
        nblob(&n);
        ignored_ptr(&n);
    }
    uint32_t nch = u32(&n);
    if (!n.fail && (nch < 1 || nch > 1024))
        nfail(&n, "channel count out of range");
    for (uint32_t i = 0; i < nch && !n.fail; i++) {
        uint64_t pid, uniq;
        nalign(&n, 8);
        server_id(&n, &pid, &uniq);
        (void)hyper(&n);  /* channel_id */
        (void)udlong(&n); /* creation_time */
        const char *local = nstring(&n, a);
        const char *remote = nstring(&n, a);
        const char *rname = nstring(&n, a);
        nblob(&n);        /* signing_key_blob */
        ignored_ptr(&n);  /* signing_key */
        (void)u32(&n);    /* auth_session_info_seqnum */
        ignored_ptr(&n);  /* connection */
        (void)u16(&n);    /* signing_algo */
        (void)u16(&n);    /* encryption_cipher */
        if (i == 0) {
            s->pid = pid;
            s->unique_id = uniq;
            s->local_address = local;
            s->remote_address = remote;
            s->remote_name = rname;
        }
    }
    if (has_auth && !n.fail)
        auth_session_info(&n, a, s);
    return finish(&n, "session", why, whylen);
}

bool sc_ndr_decode_tcon(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_tcon *t,
                 char *why, size_t whylen)
{
    memset(t, 0, sizeof(*t));
    ndr n = {.p = buf, .len = len};
    if (len == 0) {
        t->deleted = true;
        return true;
    }
    if (!globalB(&n))
        return finish(&n, "tree connect", why, whylen);
    t->tcon_id = u32(&n);
    (void)u32(&n); /* tcon_wire_id */
    server_id(&n, &t->pid, &t->unique_id);
    t->creation_time = udlong(&n);
    t->share_name = nstring(&n, a);
    t->encryption_flags = u8(&n);
    t->session_id = u32(&n);
    t->signing_flags = u8(&n);
    return finish(&n, "tree connect", why, whylen);
}

/* One share_mode_entry: a fixed 132-byte NDR blob of its own. */
#define SHARE_MODE_ENTRY_SIZE 132

static void share_entry(ndr *n, sc_ndr_open *o)
{
    server_id(n, &o->pid, &o->unique_id);
    (void)hyper(n); /* op_mid */
    (void)u16(n);   /* op_type */
    nalign(n, 4);
    skip(n, 16);    /* client_guid */
    nalign(n, 8);
    skip(n, 16);    /* lease_key */
    o->access_mask = u32(n);
    o->share_access = u32(n);
    (void)u32(n);   /* private_options */
    o->time_sec = (int64_t)hyper(n);
    o->time_usec = u32(n);
    o->share_file_id = udlong(n);
    o->uid = u32(n);
    (void)u16(n);   /* flags */
    (void)u32(n);   /* name_hash */
}

bool sc_ndr_decode_locking(sc_arena *a, const uint8_t *buf, size_t len,
                             sc_ndr_file *f, char *why, size_t whylen)
{
    memset(f, 0, sizeof(*f));
    ndr n = {.p = buf, .len = len};
    bool deleted = false;
    if (!watch_header(&n, &deleted))
        return finish(&n, "locking", why, whylen);
    if (deleted || n.off == n.len)
        return true; /* nothing open (f was zeroed above) */
    /* g_lock: exclusive holder, two epochs, shared holders, then data. */
    skip(&n, 24);
    skip(&n, 16);
    uint32_t nshared = u32(&n);
    if (!n.fail && nshared > (n.len - n.off) / 24)
        nfail(&n, "shared-lock count larger than the record");
    skip(&n, (size_t)nshared * 24);
    if (n.fail)
        return finish(&n, "locking", why, whylen);
    if (n.off == n.len)
        return true; /* a lock record without share-mode data */
    uint32_t smlen = u32(&n);
    if (!need(&n, smlen))
        return finish(&n, "locking", why, whylen);
    size_t entries_at = n.off + smlen;
    if ((n.len - entries_at) % SHARE_MODE_ENTRY_SIZE != 0) {
        n.off = entries_at;
        nfail(&n, "share-mode entries are not whole");
        return finish(&n, "locking", why, whylen);
    }
    /* share_mode_data, its own NDR blob. */
    ndr d = {.p = buf, .len = entries_at, .off = n.off, .base = n.off};
    (void)hyper(&d); /* sequence_number */
    (void)u16(&d);   /* flags */
    bool psp = uptr(&d), pbase = uptr(&d), pstream = uptr(&d);
    uint32_t ndel = u32(&d);
    bool pdel = uptr(&d);
    if (!d.fail && ((ndel != 0) != pdel || ndel > 1024))
        nfail(&d, "malformed delete-token list");
    (void)udlong(&d); /* old_write_time */
    (void)udlong(&d); /* changed_write_time */
    nalign(&d, 8);
    f->devid = hyper(&d);
    f->inode = hyper(&d);
    f->extid = hyper(&d);
    f->service_path = psp ? nstring(&d, a) : NULL;
    f->base_name = pbase ? nstring(&d, a) : NULL;
    f->stream_name = pstream ? nstring(&d, a) : NULL;
    if (pdel && !d.fail) {
        uint32_t max = u32(&d);
        if (max != ndel)
            nfail(&d, "malformed delete-token list");
        bool (*ptrs)[2] = sc_alloc_array(a, ndel ? ndel : 1, sizeof(*ptrs));
        for (uint32_t i = 0; i < ndel && !d.fail; i++) {
            (void)u32(&d); /* name_hash */
            ptrs[i][0] = uptr(&d);
            ptrs[i][1] = uptr(&d);
        }
        for (uint32_t i = 0; i < ndel && !d.fail; i++) {
            int64_t uid, gid;
            if (ptrs[i][0])
                security_token(&d);
            if (ptrs[i][1])
                unix_token(&d, &uid, &gid);
        }
    }
    if (!finish(&d, "share-mode data", why, whylen))
        return false;
    size_t cnt = (n.len - entries_at) / SHARE_MODE_ENTRY_SIZE;
    f->opens = sc_alloc_array(a, cnt ? cnt : 1, sizeof(*f->opens));
    for (size_t i = 0; i < cnt; i++) {
        size_t at = entries_at + i * SHARE_MODE_ENTRY_SIZE;
        ndr e = {.p = buf, .len = at + SHARE_MODE_ENTRY_SIZE, .off = at, .base = at};
        share_entry(&e, &f->opens[i]);
        /* The entry's fixed size leaves room that pidl fills with zeros or
         * leftovers; only what precedes it is checked. */
        if (e.fail) {
            finish(&e, "share-mode entry", why, whylen);
            return false;
        }
    }
    f->nopens = cnt;
    return true;
}
