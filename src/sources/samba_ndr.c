/*
 * samba_ndr.c - decoders for the records smbd keeps in its lock directory:
 * smbXsrv_session_global.tdb, smbXsrv_tcon_global.tdb and locking.tdb.
 *
 * The records are NDR (little-endian, 32-bit referent ids) as Samba's
 * pidl-generated code pushes them.  Their layout changes between Samba
 * releases (smbd called it "version 0, not stable" until 4.25), so each
 * record type has a table of layouts, one per range of releases, derived
 * from that range's IDL (source3/librpc/idl/smbXsrv.idl, open_files.idl,
 * librpc/idl/security.idl, auth.idl) and its g_lock/share_mode_lock code;
 * docs/live-source.md says which were checked against a real smbd.  The
 * layout is chosen from the record's own bytes: the newest layout that the
 * whole record fits, or the one the caller says the database already uses.
 *
 * Every decoder checks everything it reads (bounds, alignment padding,
 * counts, referent ids, string terminators and UTF-8) and must consume the
 * record to its last byte; a record that fits no known layout is rejected
 * with the offset where the closest layout stopped making sense, so a Samba
 * release with another format falls back to the smbstatus route instead of
 * giving wrong answers.
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

/* Skips padding to a multiple of a (1, 2, 4 or 8: a mask, not a division,
 * on the path of every field); the padding must be zero (pidl pushes
 * zeros), which catches most layout mismatches early. */
static bool nalign(ndr *n, size_t a)
{
    size_t rel = n->off - n->base;
    size_t pad = (0 - rel) & (a - 1);
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

static void server_id(ndr *n, uint64_t *pid, uint32_t *vnn, uint64_t *unique)
{
    *pid = hyper(n);
    (void)u32(n); /* task_id */
    *vnn = u32(n); /* the CTDB node (NONCLUSTER_VNN 0xFFFFFFFF without clustering) */
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

/* The union header of every smbXsrv_*_globalB: the version, a sequence
 * number, the union's level (the version again) and the pointer to the
 * structure, which follows aligned to 8.  Version 0 (Samba <= 4.24) has a
 * unique pointer and an [ignore]d db_rec pointer first in the structure;
 * version 1 (4.25+) a [ref] pointer, which pidl pushes as a fixed
 * non-zero id, and the session structure still has its db_rec. */
static bool globalB(ndr *n, uint32_t want, bool db_rec)
{
    uint32_t version = u32(n);
    (void)u32(n); /* seqnum */
    uint32_t level = u32(n);
    if (n->fail)
        return false;
    if (version != want || level != want)
        return nfail(n, "unknown smbXsrv record version");
    if (!uptr(n))
        return nfail(n, "record without its data");
    nalign(n, 8);
    if (db_rec)
        ignored_ptr(n);
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

/* ------------------------------------------------------------------------
 * Layouts.  Each row is a range of Samba releases whose records are laid
 * out alike; the differences, from each release's IDL:
 *   4.15.9, 4.16.4  auth_session_info.ticket_type
 *   4.17  g_lock's second epoch
 *   4.19  auth_user_info: uint8 authenticated -> uint32 user_flags
 *   4.20  session client_guid; security_token claims and device SIDs (their
 *         layout unchanged up to 4.25)
 *   4.22  delete_token.parent_lease_key
 *   4.23  channel transport_type; share_mode_data loses the write times;
 *         share_mode_entry loses private_options (132 -> 124 bytes: up to
 *         4.24 pidl's ndr_push_timeval pushed the open time a second time
 *         after the scalars, 12 bytes that are not read here)
 *   4.25  every smbXsrv record is version 1; share_mode_data is wrapped in
 *         share_mode_dataB and gains num_persistent; share_mode_entry gains
 *         create_guid (128 bytes); delete_token gains open_persistent_id
 * Newest first: a record is decoded with the first row it fits.
 */
typedef struct token_layout {
    bool claims;        /* claim arrays and device SIDs (4.20+) */
} token_layout;

typedef struct sess_layout {
    const char *lo, *hi;  /* the first and last Samba release of the row */
    uint32_t version;   /* smbXsrv record version */
    bool client_guid;   /* smbXsrv_session_global.client_guid (4.20+) */
    bool transport;     /* smbXsrv_channel_global.transport_type (4.23+) */
    bool ticket_type;   /* auth_session_info.ticket_type (4.17+) */
    bool user_flags;    /* auth_user_info.user_flags, not authenticated (4.19+) */
    token_layout token;
} sess_layout;

static const sess_layout sess_layouts[] = {
    {"4.25", "4.25", 1, true, true, true, true, {true}},
    {"4.23", "4.24", 0, true, true, true, true, {true}},
    {"4.20", "4.22", 0, true, false, true, true, {true}},
    {"4.19", "4.19", 0, false, false, true, true, {false}},
    {"4.15", "4.18", 0, false, false, true, false, {false}}, /* 4.15.9+, 4.16.4+ */
    {"4.15", "4.16", 0, false, false, false, false, {false}}, /* to 4.15.8, 4.16.3 */
};

typedef struct tcon_layout {
    const char *lo, *hi;
    uint32_t version;
} tcon_layout;

static const tcon_layout tcon_layouts[] = {
    {"4.25", "4.25", 1},
    {"4.15", "4.24", 0},
};

typedef struct lock_layout {
    const char *lo, *hi;
    unsigned glock_epochs; /* g_lock header: 1 before 4.17, then 2 */
    bool dataB;            /* share_mode_dataB wrapper (4.25+) */
    bool num_persistent;   /* share_mode_data.num_persistent (4.25+) */
    bool write_times;      /* old/changed_write_time (before 4.23) */
    bool del_parent_lease; /* delete_token.parent_lease_key (4.22+) */
    bool del_persistent;   /* delete_token.open_persistent_id (4.25+) */
    size_t entry_size;     /* fixed size of one share_mode_entry */
    bool private_options;  /* share_mode_entry.private_options (before 4.23) */
    bool create_guid;      /* share_mode_entry.create_guid (4.25+) */
    token_layout token;    /* delete tokens */
} lock_layout;

static const lock_layout lock_layouts[] = {
    {"4.25", "4.25", 2, true, true, false, true, true, 128, false, true, {true}},
    {"4.23", "4.24", 2, false, false, false, true, false, 124, false, false, {true}},
    {"4.22", "4.22", 2, false, false, true, true, false, 132, true, false, {true}},
    {"4.20", "4.21", 2, false, false, true, false, false, 132, true, false, {true}},
    {"4.17", "4.19", 2, false, false, true, false, false, 132, true, false, {false}},
    {"4.15", "4.16", 1, false, false, true, false, false, 132, true, false, {false}},
};

#define NLAYOUTS(t) (sizeof(t) / sizeof((t)[0]))

/* How many layouts a kind has; the releases of its i-th (0 = newest). */
static size_t layout_count(sc_ndr_kind kind)
{
    switch (kind) {
    case SC_NDR_SESSION:
        return NLAYOUTS(sess_layouts);
    case SC_NDR_TCON:
        return NLAYOUTS(tcon_layouts);
    default:
        return NLAYOUTS(lock_layouts);
    }
}

static void layout_releases(sc_ndr_kind kind, size_t i, const char **lo, const char **hi)
{
    switch (kind) {
    case SC_NDR_SESSION:
        *lo = sess_layouts[i].lo, *hi = sess_layouts[i].hi;
        return;
    case SC_NDR_TCON:
        *lo = tcon_layouts[i].lo, *hi = tcon_layouts[i].hi;
        return;
    default:
        *lo = lock_layouts[i].lo, *hi = lock_layouts[i].hi;
    }
}

const char *sc_ndr_layout_name(sc_ndr_kind kind, unsigned mask, char *buf, size_t len)
{
    const char *hi = NULL, *lo = NULL;
    for (size_t i = 0; i < layout_count(kind); i++) {
        const char *l, *h;
        if (!(mask & (1u << i)))
            continue;
        layout_releases(kind, i, &l, &h);
        if (!hi)
            hi = h; /* the newest of the set */
        lo = l;     /* the oldest so far */
    }
    if (!lo)
        snprintf(buf, len, "unknown");
    else if (strcmp(lo, hi) == 0)
        snprintf(buf, len, "Samba %s", lo);
    else
        snprintf(buf, len, "Samba %s-%s", lo, hi);
    return buf;
}

/* ------------------------------------------------------------------------
 * security_token claims (4.20+, librpc/idl/security.idl; the same from 4.20
 * to 4.25).  Each claim is a CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1:
 *     [relative] nstring *name; uint16 value_type; uint32 flags;
 *     uint32 value_count; [switch_is(value_type)] claim_values values[value_count];
 * claim_values is a [nodiscriminant, flag(NDR_NOALIGN)] union of [relative]
 * pointers: int64 / hyper (INT64, UINT64, BOOLEAN), nstring (STRING),
 * DATA_BLOB (SID, OCTET_STRING).  As pidl pushes them (NDR32):
 *   scalars  align 4; the name's relative pointer; value_type; flags;
 *            value_count; one 4-byte relative pointer per value
 *   buffers  after the scalars of the whole token, claim by claim: the name
 *            (aligned to 2, UTF-16LE up to and with a NUL), then each
 *            value's data: strings aligned to 2, the rest NOALIGN: 8 bytes
 *            for the integers, a uint32 length and the bytes for blobs
 * A relative pointer is 0 (NULL) or the offset of its data from the start
 * of the NDR blob (no structure here sets another relative base); push
 * writes the data in order, so each non-NULL pointer must name exactly the
 * offset where its data is read.  Nothing of the claims is kept.
 * (Samba's own pull cannot read a record holding such a token: it puts the
 * offset back after each relative pointer's data and reads the unix token
 * from the claims' data; tools/idl-records/README.md.)
 */
#define TOKEN_MAX_ENTRIES 4096 /* SIDs, claims of one list, device SIDs */
#define CLAIM_MAX_VALUES 4096  /* values of one claim */

enum {
    CLAIM_INT64 = 1,
    CLAIM_UINT64 = 2,
    CLAIM_STRING = 3,
    CLAIM_SID = 5,
    CLAIM_BOOLEAN = 6,
    CLAIM_OCTET_STRING = 0x10,
};

/* uint32 under NDR_NOALIGN: no alignment. */
static uint32_t u32_noalign(ndr *n)
{
    if (!need(n, 4))
        return 0;
    const uint8_t *q = n->p + n->off;
    n->off += 4;
    return (uint32_t)q[0] | ((uint32_t)q[1] << 8) | ((uint32_t)q[2] << 16) |
           ((uint32_t)q[3] << 24);
}

/* The data of a non-NULL relative pointer starts here (after its
 * alignment). */
static bool claim_target(ndr *n, uint32_t rel)
{
    if (!n->fail && n->off - n->base != rel)
        return nfail(n, "claim data is not where its relative pointer says");
    return !n->fail;
}

/* nstring: UTF-16LE with a NUL unit, no length; surrogates must pair. */
static void claim_string(ndr *n)
{
    for (;;) {
        if (!need(n, 2))
            return;
        unsigned c = n->p[n->off] | (unsigned)n->p[n->off + 1] << 8;
        n->off += 2;
        if (c == 0)
            return;
        if (c >= 0xDC00 && c <= 0xDFFF) {
            nfail(n, "claim string is not valid UTF-16");
            return;
        }
        if (c >= 0xD800 && c <= 0xDBFF) {
            if (!need(n, 2))
                return;
            unsigned d = n->p[n->off] | (unsigned)n->p[n->off + 1] << 8;
            if (d < 0xDC00 || d > 0xDFFF) {
                nfail(n, "claim string is not valid UTF-16");
                return;
            }
            n->off += 2;
        }
    }
}

/* A claim's scalars.  An unknown value_type is refused unless the claim has
 * no values (pidl only switches on it per value). */
static void claim_scalars(ndr *n, uint32_t *nvalues)
{
    nalign(n, 4);      /* ndr_push_align(5): 4 in NDR32 */
    (void)u32(n);      /* name */
    uint16_t type = u16(n);
    (void)u32(n);      /* flags */
    uint32_t cnt = u32(n);
    if (n->fail)
        return;
    if (cnt > CLAIM_MAX_VALUES) {
        nfail(n, "too many values in a claim");
        return;
    }
    if (cnt && type != CLAIM_INT64 && type != CLAIM_UINT64 && type != CLAIM_STRING &&
        type != CLAIM_SID && type != CLAIM_BOOLEAN && type != CLAIM_OCTET_STRING) {
        nfail(n, "unknown claim value type");
        return;
    }
    for (uint32_t i = 0; i < cnt && !n->fail; i++)
        (void)u32_noalign(n); /* the value's relative pointer */
    *nvalues += cnt;
}

/* A claim's buffers: its scalars are read again through s (already
 * checked), its data from n. */
static void claim_buffers(ndr *n, ndr *s)
{
    nalign(s, 4);
    uint32_t name = u32(s);
    uint16_t type = u16(s);
    (void)u32(s);
    uint32_t cnt = u32(s);
    if (s->fail) {
        nfail(n, "claim changed between its passes"); /* not reached */
        return;
    }
    if (name) {
        nalign(n, 2); /* LIBNDR_FLAG_ALIGN2 */
        if (claim_target(n, name))
            claim_string(n);
    }
    for (uint32_t i = 0; i < cnt && !n->fail; i++) {
        uint32_t v = u32_noalign(s);
        if (!v)
            continue;
        switch (type) {
        case CLAIM_STRING:
            nalign(n, 2);
            if (claim_target(n, v))
                claim_string(n);
            break;
        case CLAIM_SID:
        case CLAIM_OCTET_STRING:
            if (claim_target(n, v)) {
                uint32_t l = u32_noalign(n);
                skip(n, l);
            }
            break;
        default: /* INT64, UINT64, BOOLEAN */
            if (claim_target(n, v))
                skip(n, 8);
        }
    }
}

/* security_token: aligned to 8; each inline conformant array has its size
 * in front of it.  From 4.20: four counts, the three claim arrays and the
 * device SIDs (each with its size), evaluate_claims (an enum: uint16 in
 * NDR32), then the claims' data. */
static void security_token(ndr *n, const token_layout *tl)
{
    nalign(n, 8);
    uint32_t num = u32(n);
    uint32_t max = u32(n);
    if (!n->fail && (max != num || num > TOKEN_MAX_ENTRIES)) {
        nfail(n, "malformed security token");
        return;
    }
    for (uint32_t i = 0; i < num && !n->fail; i++)
        dom_sid(n);
    (void)hyper(n); /* privilege_mask */
    (void)u32(n);   /* rights_mask */
    if (!tl->claims)
        return;
    uint32_t counts[4]; /* local, user, device claims; device SIDs */
    for (int i = 0; i < 4; i++)
        counts[i] = u32(n);
    if (n->fail)
        return;
    for (int i = 0; i < 4; i++) {
        if (counts[i] > TOKEN_MAX_ENTRIES) {
            nfail(n, "too many claims or device SIDs in a security token");
            return;
        }
    }
    size_t at[3];          /* where each claim array's scalars start */
    uint32_t nvalues = 0;  /* all values of all claims */
    for (int i = 0; i < 4 && !n->fail; i++) {
        uint32_t size = u32(n);
        if (!n->fail && size != counts[i]) {
            nfail(n, "claim or device-SID array size differs from its count");
            return;
        }
        if (i < 3)
            at[i] = n->off;
        for (uint32_t j = 0; j < counts[i] && !n->fail; j++) {
            if (i < 3)
                claim_scalars(n, &nvalues);
            else
                dom_sid(n);
        }
        if (!n->fail && nvalues > TOKEN_MAX_ENTRIES * 4) {
            nfail(n, "too many claim values in a security token");
            return;
        }
    }
    uint16_t eval = u16(n); /* evaluate_claims */
    if (!n->fail && eval > 2) {
        nfail(n, "malformed security token");
        return;
    }
    for (int i = 0; i < 3 && !n->fail; i++) {
        ndr s = *n;
        s.off = at[i];
        for (uint32_t j = 0; j < counts[i] && !n->fail; j++)
            claim_buffers(n, &s);
    }
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

static void auth_user_info(ndr *n, const sess_layout *sl)
{
    bool p[10];
    p[0] = uptr(n); /* account_name */
    p[1] = uptr(n); /* user_principal_name */
    (void)u8(n);    /* user_principal_constructed */
    for (int i = 2; i < 10; i++)
        p[i] = uptr(n); /* domain .. logon_server */
    for (int i = 0; i < 6; i++)
        (void)udlong(n); /* NTTIMEs */
    (void)u16(n);        /* logon_count */
    (void)u16(n);        /* bad_password_count */
    (void)u32(n);        /* acct_flags */
    if (sl->user_flags)
        (void)u32(n); /* user_flags */
    else
        (void)u8(n);  /* authenticated */
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
 * session key, the credentials pointer ([ignore]), a GUID, ticket_type
 * (4.17+). */
static void auth_session_info(ndr *n, sc_arena *a, sc_ndr_session *s, const sess_layout *sl)
{
    bool tok = uptr(n), utok = uptr(n), info = uptr(n), uinfo = uptr(n);
    ignored_ptr(n);
    nblob(n);
    ignored_ptr(n);
    skip(n, 16);
    if (sl->ticket_type)
        (void)u32(n);
    if (tok)
        security_token(n, &sl->token);
    if (utok) {
        unix_token(n, &s->uid, &s->gid);
        s->authenticated = !n->fail;
    }
    if (info)
        auth_user_info(n, sl);
    if (uinfo)
        s->unix_name = unix_info(n, a);
}

static bool decode_session(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_session *s,
                           const sess_layout *sl, ndr *n)
{
    memset(s, 0, sizeof(*s));
    s->uid = s->gid = -1;
    *n = (ndr){.p = buf, .len = len};
    bool deleted = false;
    if (!watch_header(n, &deleted))
        return false;
    if (deleted || n->off == n->len) {
        s->deleted = true;
        return true;
    }
    if (!globalB(n, sl->version, true))
        return false;
    s->session_id = u32(n);
    (void)hyper(n); /* session_wire_id */
    s->creation_time = udlong(n);
    (void)udlong(n); /* expiration_time */
    s->auth_time = udlong(n);
    (void)u32(n); /* auth_session_info_seqnum */
    bool has_auth = uptr(n);
    s->dialect = u16(n);
    if (sl->client_guid) {
        nalign(n, 4);
        skip(n, 16);
    }
    s->signing_flags = u8(n);
    (void)u16(n); /* signing_algo */
    s->encryption_flags = u8(n);
    (void)u16(n); /* encryption_cipher */
    for (int i = 0; i < 4; i++) { /* signing, encryption, decryption, application keys */
        nblob(n);
        ignored_ptr(n);
    }
    uint32_t nch = u32(n);
    if (!n->fail && (nch < 1 || nch > 1024))
        nfail(n, "channel count out of range");
    for (uint32_t i = 0; i < nch && !n->fail; i++) {
        uint64_t pid, uniq;
        uint32_t vnn;
        nalign(n, 8);
        server_id(n, &pid, &vnn, &uniq);
        (void)hyper(n);  /* channel_id */
        (void)udlong(n); /* creation_time */
        const char *local = nstring(n, a);
        const char *remote = nstring(n, a);
        const char *rname = nstring(n, a);
        nblob(n);        /* signing_key_blob */
        ignored_ptr(n);  /* signing_key */
        (void)u32(n);    /* auth_session_info_seqnum */
        ignored_ptr(n);  /* connection */
        (void)u16(n);    /* signing_algo */
        (void)u16(n);    /* encryption_cipher */
        if (sl->transport)
            (void)u8(n); /* transport_type */
        if (i == 0) {
            s->pid = pid;
            s->vnn = vnn;
            s->unique_id = uniq;
            s->local_address = local;
            s->remote_address = remote;
            s->remote_name = rname;
        }
    }
    if (has_auth && !n->fail)
        auth_session_info(n, a, s, sl);
    if (!n->fail && n->off != n->len)
        nfail(n, "unexpected bytes after the record");
    return !n->fail;
}

static bool decode_tcon(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_tcon *t,
                        const tcon_layout *tl, ndr *n)
{
    memset(t, 0, sizeof(*t));
    *n = (ndr){.p = buf, .len = len};
    if (len == 0) {
        t->deleted = true;
        return true;
    }
    if (!globalB(n, tl->version, true))
        return false;
    t->tcon_id = u32(n);
    (void)u32(n); /* tcon_wire_id */
    server_id(n, &t->pid, &t->vnn, &t->unique_id);
    t->creation_time = udlong(n);
    t->share_name = nstring(n, a);
    t->encryption_flags = u8(n);
    t->session_id = u32(n);
    t->signing_flags = u8(n);
    if (!n->fail && n->off != n->len)
        nfail(n, "unexpected bytes after the record");
    return !n->fail;
}

static void share_entry(ndr *n, sc_ndr_open *o, const lock_layout *ll)
{
    server_id(n, &o->pid, &o->vnn, &o->unique_id);
    (void)hyper(n); /* op_mid */
    (void)u16(n);   /* op_type */
    nalign(n, 4);
    skip(n, 16);    /* client_guid */
    if (ll->create_guid)
        skip(n, 16);
    nalign(n, 8);
    skip(n, 16);    /* lease_key */
    o->access_mask = u32(n);
    o->share_access = u32(n);
    if (ll->private_options)
        (void)u32(n);
    o->time_sec = (int64_t)hyper(n);
    o->time_usec = u32(n);
    o->share_file_id = udlong(n);
    o->uid = u32(n);
    (void)u16(n);   /* flags */
    (void)u32(n);   /* name_hash */
}

/* share_mode_data, its own NDR blob (inside share_mode_dataB from 4.25). */
static void share_mode_data(ndr *d, sc_arena *a, sc_ndr_file *f, const lock_layout *ll)
{
    if (ll->dataB) {
        if (u32(d) != 1 && !d->fail) { /* SHARE_MODE_DATA_VERSION_1 */
            nfail(d, "unknown share-mode data version");
            return;
        }
        (void)hyper(d); /* unique_content_epoch */
        (void)u16(d);   /* flags */
        if (u32(d) != 1 && !d->fail) { /* the union's level */
            nfail(d, "unknown share-mode data version");
            return;
        }
        if (!uptr(d))
            nfail(d, "share-mode data without its data");
    }
    (void)hyper(d); /* unique_content_epoch */
    (void)u16(d);   /* flags */
    bool psp = uptr(d), pbase = uptr(d), pstream = uptr(d);
    if (ll->num_persistent)
        (void)u32(d);
    /* delete_tokens: an inline conformant array (its size, then the
     * elements' scalars); the tokens they point to come after the strings. */
    uint32_t ndel = u32(d);
    uint32_t max = u32(d);
    if (d->fail)
        return;
    if (max != ndel || ndel > 1024) {
        nfail(d, "malformed delete-token list");
        return;
    }
    bool (*ptrs)[2] = sc_alloc_array(a, ndel ? ndel : 1, sizeof(*ptrs));
    for (uint32_t i = 0; i < ndel && !d->fail; i++) {
        if (ll->del_parent_lease || ll->del_persistent)
            nalign(d, 8);
        (void)u32(d); /* name_hash */
        if (ll->del_parent_lease) {
            /* smbd leaves an unset parent_lease_key uninitialised: its
             * bytes are not checked */
            nalign(d, 8);
            skip(d, 16);
        }
        if (ll->del_persistent)
            (void)hyper(d); /* open_persistent_id */
        ptrs[i][0] = uptr(d);
        ptrs[i][1] = uptr(d);
    }
    if (ll->write_times) {
        (void)udlong(d); /* old_write_time */
        (void)udlong(d); /* changed_write_time */
    }
    f->devid = udlong(d); /* file_id: three udlongs (4-byte aligned) */
    f->inode = udlong(d);
    f->extid = udlong(d);
    f->service_path = psp ? nstring(d, a) : NULL;
    f->base_name = pbase ? nstring(d, a) : NULL;
    f->stream_name = pstream ? nstring(d, a) : NULL;
    for (uint32_t i = 0; i < ndel && !d->fail; i++) {
        int64_t uid, gid;
        if (ptrs[i][0])
            security_token(d, &ll->token);
        if (ptrs[i][1])
            unix_token(d, &uid, &gid);
    }
}

/* A locking.tdb value: the dbwrap_watch header, the g_lock header (the
 * exclusive holder, one or two epochs, the shared holders), then the
 * g_lock data: the length of share_mode_data, share_mode_data, and the
 * fixed-size share_mode_entry records. */
static bool decode_locking(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_file *f,
                           const lock_layout *ll, ndr *n, const char **what)
{
    memset(f, 0, sizeof(*f));
    *n = (ndr){.p = buf, .len = len};
    *what = "locking";
    bool deleted = false;
    if (!watch_header(n, &deleted))
        return false;
    if (deleted || n->off == n->len)
        return true; /* nothing open (f was zeroed above) */
    skip(n, 24);                             /* exclusive holder */
    skip(n, 8 * (size_t)ll->glock_epochs);   /* lock and data epochs */
    uint32_t nshared = u32(n);
    if (!n->fail && nshared > (n->len - n->off) / 24)
        nfail(n, "shared-lock count larger than the record");
    skip(n, (size_t)nshared * 24);
    if (n->fail)
        return false;
    if (n->off == n->len)
        return true; /* a lock record without share-mode data */
    uint32_t smlen = u32(n);
    if (!need(n, smlen))
        return false;
    size_t entries_at = n->off + smlen;
    if ((n->len - entries_at) % ll->entry_size != 0) {
        n->off = entries_at;
        return nfail(n, "share-mode entries are not whole");
    }
    ndr d = {.p = buf, .len = entries_at, .off = n->off, .base = n->off};
    share_mode_data(&d, a, f, ll);
    if (!d.fail && d.off != d.len)
        nfail(&d, "unexpected bytes after the record");
    if (d.fail) {
        *n = d;
        *what = "share-mode data";
        return false;
    }
    size_t cnt = (n->len - entries_at) / ll->entry_size;
    f->opens = sc_alloc_array(a, cnt ? cnt : 1, sizeof(*f->opens));
    for (size_t i = 0; i < cnt; i++) {
        size_t at = entries_at + i * ll->entry_size;
        ndr e = {.p = buf, .len = at + ll->entry_size, .off = at, .base = at};
        share_entry(&e, &f->opens[i], ll);
        /* The entry's fixed size leaves room that pidl fills with zeros or
         * leftovers; only what precedes it is checked. */
        if (e.fail) {
            *n = e;
            *what = "share-mode entry";
            return false;
        }
    }
    f->nopens = cnt;
    return true;
}

/* layouts == 0: tries every layout, stores the set the record fits and
 * decodes it with the newest of them (a record fits several only where
 * they differ in bytes that are zero or unused here).  Otherwise: the
 * layouts of that set, newest first, until one fits.  On failure reports
 * the layout that got furthest. */
typedef bool (*try_fn)(void *ctx, size_t layout, ndr *n, const char **what);

static bool try_layouts(size_t count, unsigned *layouts, try_fn fn, void *ctx,
                        const char *kind, char *why, size_t whylen)
{
    unsigned all = (1u << count) - 1;
    unsigned want = layouts && *layouts ? *layouts & all : all;
    if (!want) {
        if (why)
            snprintf(why, whylen, "%s record: no known layout in the set %#x", kind,
                     layouts ? *layouts : 0);
        return false;
    }
    unsigned fit = 0;
    ndr best = {0};
    const char *bestwhat = kind;
    bool tried = false;
    for (size_t i = 0; i < count; i++) {
        if (!(want & (1u << i)))
            continue;
        ndr n;
        const char *what = kind;
        if (fn(ctx, i, &n, &what)) {
            fit |= 1u << i;
            if (layouts && *layouts)
                return true; /* the database's layout is known */
            continue;
        }
        if (!tried || n.fail_at > best.fail_at) {
            best = n;
            bestwhat = what;
        }
        tried = true;
    }
    if (!fit)
        return finish(&best, bestwhat, why, whylen);
    if (layouts)
        *layouts = fit;
    size_t newest = 0;
    while (!(fit & (1u << newest)))
        newest++;
    ndr n;
    const char *what = kind;
    (void)fn(ctx, newest, &n, &what); /* later tries overwrote the output */
    return true;
}

typedef struct try_ctx {
    sc_arena *a;
    const uint8_t *buf;
    size_t len;
    void *out;
} try_ctx;

static bool try_session(void *ctx, size_t i, ndr *n, const char **what)
{
    try_ctx *c = ctx;
    (void)what;
    return decode_session(c->a, c->buf, c->len, c->out, &sess_layouts[i], n);
}

static bool try_tcon(void *ctx, size_t i, ndr *n, const char **what)
{
    try_ctx *c = ctx;
    (void)what;
    return decode_tcon(c->a, c->buf, c->len, c->out, &tcon_layouts[i], n);
}

static bool try_locking(void *ctx, size_t i, ndr *n, const char **what)
{
    try_ctx *c = ctx;
    return decode_locking(c->a, c->buf, c->len, c->out, &lock_layouts[i], n, what);
}

bool sc_ndr_decode_session(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_session *s,
                           unsigned *layout, char *why, size_t whylen)
{
    try_ctx c = {a, buf, len, s};
    return try_layouts(layout_count(SC_NDR_SESSION), layout, try_session, &c, "session", why,
                       whylen);
}

bool sc_ndr_decode_tcon(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_tcon *t,
                        unsigned *layout, char *why, size_t whylen)
{
    try_ctx c = {a, buf, len, t};
    return try_layouts(layout_count(SC_NDR_TCON), layout, try_tcon, &c, "tree connect", why,
                       whylen);
}

bool sc_ndr_decode_locking(sc_arena *a, const uint8_t *buf, size_t len, sc_ndr_file *f,
                           unsigned *layout, char *why, size_t whylen)
{
    try_ctx c = {a, buf, len, f};
    return try_layouts(layout_count(SC_NDR_LOCKING), layout, try_locking, &c, "locking", why,
                       whylen);
}
