/*
 * records.c - builds the records smbd stores in smbXsrv_session_global.tdb,
 * smbXsrv_tcon_global.tdb and locking.tdb with ONE Samba release's own
 * pidl-generated NDR code and NDR runtime (tools/idl-records.sh compiles
 * this file against them), for the unit-test fixtures of releases that
 * cannot be run here.
 *
 *   records build OUTDIR         writes OUTDIR/{session,tcon,locking}-<id>.hex
 *                                and prints the expected.txt lines (unsorted)
 *                                (with IDLR_CLAIMS=1 in the environment:
 *                                the same records, but every security_token
 *                                carries claims and device SIDs; 4.20+)
 *   records repush KIND FILE..   pulls each captured record (hex fixture)
 *                                with the release's code, pushes it again and
 *                                compares the bytes: the pipeline pushes what
 *                                that release's smbd pushed
 *
 * What differs between releases is chosen by macros that
 * tools/idl-records.sh sets from the release's generated headers and
 * sources (IDLR_*): struct members that exist, the smbXsrv record version,
 * SHARE_MODE_ENTRY_SIZE (source3/locking/share_mode_lock.c) and the number
 * of g_lock epochs (source3/lib/g_lock.c).
 *
 * Around the NDR, as smbd writes it:
 *   session  dbwrap_watch header (uint32 0: no watchers)
 *            + smbXsrv_session_globalB
 *   tcon     smbXsrv_tcon_globalB (the tcon database is not watched)
 *   locking  dbwrap_watch header + g_lock header (exclusive server_id, 24
 *            bytes; the epochs, uint64 each; uint32 num_shared; the shared
 *            holders) + uint32 length of the share_mode_data blob + that
 *            blob (share_mode_dataB from 4.25) + one share_mode_entry per
 *            open, each pushed with ndr_push_struct_into_fixed_blob into
 *            SHARE_MODE_ENTRY_SIZE bytes, sorted by server_id then
 *            share_file_id (share_mode_entry_cmp).
 */
#include "includes.h"
#include "librpc/gen_ndr/ndr_smbXsrv.h"
#include "librpc/gen_ndr/ndr_open_files.h"
#include "librpc/gen_ndr/ndr_security.h"
#include "librpc/gen_ndr/ndr_auth.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef IDLR_ENTRY_SIZE
#error IDLR_ENTRY_SIZE (share_mode_entry_buf size) must be set
#endif
#ifndef IDLR_GLOCK_EPOCHS
#error IDLR_GLOCK_EPOCHS must be set
#endif

#ifdef IDLR_SMBXSRV_V1
typedef struct smbXsrv_session_global sess_global_t;
typedef struct smbXsrv_channel_global chan_global_t;
typedef struct smbXsrv_tcon_global tcon_global_t;
#define INFO info1
#define IDLR_VERSION SMBXSRV_VERSION_1
#else
typedef struct smbXsrv_session_global0 sess_global_t;
typedef struct smbXsrv_channel_global0 chan_global_t;
typedef struct smbXsrv_tcon_global0 tcon_global_t;
#define INFO info0
#define IDLR_VERSION SMBXSRV_VERSION_0
#endif

#define NTTIME_EPOCH 11644473600ull
#define NTTIME_INFINITY 0x7fffffffffffffffull
#define NONCLUSTER_VNN 0xffffffffu

static NTTIME nt(uint64_t unix_secs, uint32_t hundred_ns)
{
    return (unix_secs + NTTIME_EPOCH) * 10000000ull + hundred_ns;
}

static void die(const char *what, enum ndr_err_code e)
{
    fprintf(stderr, "records: %s failed: NDR error %d\n", what, (int)e);
    exit(1);
}

/* lib/util/charset/util_unistr.c (not in compat.c): ndr_pull_string needs
 * it for the UTF-16 strings of claims.  The bytes of a UTF-16 string up to
 * and including its terminator, at most n. */
size_t utf16_null_terminated_len_n(const void *src, size_t n)
{
    const uint8_t *p = src;
    size_t len = 0;
    while (len + 2 <= n && (p[len] | p[len + 1]) != 0)
        len += 2;
    if (len + 2 <= n)
        len += 2;
    return len;
}

/* ---- output ---------------------------------------------------------- */

typedef struct buf {
    uint8_t *p;
    size_t n, cap;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2 + 64;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            abort();
    }
    memcpy(b->p + b->n, p, n);
    b->n += n;
}

static void put_u32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void write_hex(const char *dir, const char *name, const buf *b)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        perror(path);
        exit(1);
    }
    for (size_t i = 0; i < b->n; i++) {
        fprintf(f, "%02x", b->p[i]);
        if (i % 32 == 31 || i + 1 == b->n)
            fputc('\n', f);
    }
    fclose(f);
}

/* ---- the people and processes ----------------------------------------- */

#define DOMAIN_SUBAUTHS 21, 2847253417u, 1094365478u, 3617391264u

static struct dom_sid sid(int n, uint8_t auth, const uint32_t *sub)
{
    struct dom_sid s = {.sid_rev_num = 1, .num_auths = (int8_t)n};
    s.id_auth[5] = auth;
    for (int i = 0; i < n; i++)
        s.sub_auths[i] = sub[i];
    return s;
}

typedef struct user {
    const char *name, *full_name;
    uint32_t rid;             /* in the server's SAM */
    uint32_t uid, gid, group; /* primary gid, one supplementary group */
    struct server_id proc;    /* the smbd that serves the user */
    struct GUID client_guid;
} user;

static const user alice = {
    "alice", "Alice Martin", 1104, 1000, 100, 1050,
    {.pid = 41230, .task_id = 0, .vnn = NONCLUSTER_VNN, .unique_id = 0x5f1c3a97e20b4d81ull},
    {0x8e1f4a2b, 0x51c3, 0x4d7e, {0x9a, 0x06}, {0x3c, 0x7b, 0x21, 0xe5, 0x90, 0x4f}},
};
static const user bob = {
    "bob", "Bob Nguyen", 1105, 1001, 100, 1051,
    {.pid = 41231, .task_id = 0, .vnn = NONCLUSTER_VNN, .unique_id = 0x9be2d70451f3a6c8ull},
    {0x2d94c6e0, 0x7a15, 0x4b3c, {0x8f, 0x52}, {0xd1, 0x09, 0x6a, 0x3e, 0xb7, 0x48}},
};

/* IDLR_CLAIMS=1: the claims variant (claims_token below). */
static bool claims_mode;

#ifdef IDLR_TOKEN_CLAIMS
/* ---- claims (IDLR_CLAIMS=1) --------------------------------------------
 * CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 has [relative] pointers: the NDR
 * runtime keys them by address, so every value gets its own allocation
 * (two values at one address would swap their offsets). */

typedef struct claim_val {
    int64_t i;          /* INT64, UINT64, BOOLEAN */
    const char *s;      /* STRING */
    const uint8_t *b;   /* SID, OCTET_STRING */
    size_t blen;
    bool null;          /* a NULL value pointer */
} claim_val;

typedef struct claim_spec {
    const char *name;   /* NULL: no name */
    uint16_t type;
    uint32_t flags;
    uint32_t count;
    claim_val v[3];
} claim_spec;

static void fill_claim(TALLOC_CTX *mem, struct CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 *c,
                       const claim_spec *cs)
{
    c->name = cs->name ? talloc_strdup(mem, cs->name) : NULL;
    c->value_type = cs->type;
    c->flags = cs->flags;
    c->value_count = cs->count;
    c->values = talloc_zero_array(mem, union claim_values, cs->count ? cs->count : 1);
    for (uint32_t i = 0; i < cs->count; i++) {
        const claim_val *v = &cs->v[i];
        union claim_values *cv = &c->values[i];
        if (v->null)
            continue;
        switch (cs->type) {
        case CLAIM_SECURITY_ATTRIBUTE_TYPE_INT64:
            cv->int_value = talloc(mem, int64_t);
            *cv->int_value = v->i;
            break;
        case CLAIM_SECURITY_ATTRIBUTE_TYPE_UINT64:
        case CLAIM_SECURITY_ATTRIBUTE_TYPE_BOOLEAN:
            cv->uint_value = talloc(mem, uint64_t);
            *cv->uint_value = (uint64_t)v->i;
            break;
        case CLAIM_SECURITY_ATTRIBUTE_TYPE_STRING:
            cv->string_value = talloc_strdup(mem, v->s);
            break;
        case CLAIM_SECURITY_ATTRIBUTE_TYPE_SID:
        case CLAIM_SECURITY_ATTRIBUTE_TYPE_OCTET_STRING: {
            DATA_BLOB *b = talloc(mem, DATA_BLOB);
            *b = data_blob_talloc(mem, v->b, v->blen);
            if (cs->type == CLAIM_SECURITY_ATTRIBUTE_TYPE_SID)
                cv->sid_value = b;
            else
                cv->octet_value = b;
            break;
        }
        }
    }
}

static struct CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 *claims(TALLOC_CTX *mem, const claim_spec *cs,
                                                           size_t n)
{
    struct CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1 *c =
        talloc_zero_array(mem, struct CLAIM_SECURITY_ATTRIBUTE_RELATIVE_V1, n ? n : 1);
    for (size_t i = 0; i < n; i++)
        fill_claim(mem, &c[i], &cs[i]);
    return c;
}

#define CT(x) CLAIM_SECURITY_ATTRIBUTE_TYPE_##x
#define CASE_SENSITIVE CLAIM_SECURITY_ATTRIBUTE_VALUE_CASE_SENSITIVE

/* S-1-5-21-2847253417-1094365478-3617391264-1104 (alice), binary form */
static const uint8_t alice_sid_bin[28] = {
    1, 5, 0, 0, 0, 0, 0, 5, 0x15, 0, 0, 0, 0xa9, 0xa3, 0xb5, 0xa9,
    0x26, 0xb1, 0x3a, 0x41, 0xa0, 0x02, 0x9d, 0xd7, 0x50, 0x04, 0, 0};
/* S-1-5-32-544 */
static const uint8_t admins_sid_bin[16] = {1, 2, 0, 0, 0, 0, 0, 5, 0x20, 0, 0, 0, 0x20, 0x02, 0, 0};
static const uint8_t odd3[3] = {0xde, 0xad, 0xbe};
static const uint8_t odd5[5] = {0x01, 0x00, 0xff, 0x7f, 0x80};

/* alice: every value type in every list; odd-length octet strings leave the
 * next value unaligned (the values are NDR_NOALIGN); a claim without a name,
 * a NULL value pointer and a claim without values. */
static const claim_spec alice_local[] = {
    {"smbcim:int64", CT(INT64), 0, 2, {{.i = -42}, {.i = INT64_MAX}}},
    {"smbcim:uint64", CT(UINT64), 0, 2, {{.i = -1}, {.i = 3}}},
    {"smbcim:string", CT(STRING), CASE_SENSITIVE, 2,
     {{.s = "Finance"}, {.s = "Z\xc3\xbcrich \xe2\x98\x83 \xf0\x9d\x84\x9e"}}},
    {"smbcim:sid", CT(SID), 0, 1, {{.b = alice_sid_bin, .blen = sizeof alice_sid_bin}}},
    {"smbcim:bool", CT(BOOLEAN), 0, 2, {{.i = 1}, {.i = 0}}},
    {"smbcim:octet", CT(OCTET_STRING), 0, 2, {{.b = odd3, .blen = 3}, {.b = odd3, .blen = 0}}},
    {NULL, CT(INT64), 0, 2, {{.i = 0x0102030405060708}, {.null = true}}},
    {"smbcim:empty", CT(STRING), 0, 0, {{0}}},
};
static const claim_spec alice_user[] = {
    {"ad://ext/department:88d9b2f3e1a7c1b2", CT(STRING), 0, 1, {{.s = "Finance"}}},
    {"ad://ext/employeeNumber:88d9b2f3e1a7c1b3", CT(INT64), 0, 1, {{.i = 1104}}},
    {"ad://ext/clearance:88d9b2f3e1a7c1b4", CT(UINT64), 0, 1, {{.i = 5}}},
    {"ad://ext/manager:88d9b2f3e1a7c1b5", CT(SID), 0, 1,
     {{.b = admins_sid_bin, .blen = sizeof admins_sid_bin}}},
    {"ad://ext/badge:88d9b2f3e1a7c1b6", CT(OCTET_STRING), 0, 1, {{.b = odd5, .blen = 5}}},
    {"ad://ext/isContractor:88d9b2f3e1a7c1b7", CT(BOOLEAN), 0, 1, {{.i = 0}}},
};
static const claim_spec alice_device[] = {
    {"ad://ext/cert:88d9b2f3e1a7c1c0", CT(OCTET_STRING), 0, 1, {{.b = odd3, .blen = 3}}},
    {"ad://ext/managed:88d9b2f3e1a7c1c1", CT(BOOLEAN), 0, 1, {{.i = 1}}},
    {"ad://ext/osBuild:88d9b2f3e1a7c1c2", CT(INT64), 0, 1, {{.i = 26100}}},
    {"ad://ext/site:88d9b2f3e1a7c1c3", CT(STRING), 0, 2, {{.s = "HQ"}, {.s = "Lyon"}}},
    {"ad://ext/owner:88d9b2f3e1a7c1c4", CT(SID), 0, 1,
     {{.b = alice_sid_bin, .blen = sizeof alice_sid_bin}}},
    {"ad://ext/patchLevel:88d9b2f3e1a7c1c5", CT(UINT64), 0, 1, {{.i = 202605}}},
};
/* bob: one user claim and one device SID. */
static const claim_spec bob_user[] = {
    {"ad://ext/department:88d9b2f3e1a7c1b2", CT(STRING), 0, 1, {{.s = "Engineering"}}},
};

#define NCLAIMS(a) (sizeof(a) / sizeof((a)[0]))

static void claims_token(struct security_token *t, const user *u)
{
    const uint32_t wks[5] = {DOMAIN_SUBAUTHS, 1201 + (u->uid - 1000)}; /* the workstation */
    const uint32_t dom_computers[5] = {DOMAIN_SUBAUTHS, 515};
    if (u == &alice) {
        t->num_local_claims = NCLAIMS(alice_local);
        t->local_claims = claims(t, alice_local, NCLAIMS(alice_local));
        t->num_user_claims = NCLAIMS(alice_user);
        t->user_claims = claims(t, alice_user, NCLAIMS(alice_user));
        t->num_device_claims = NCLAIMS(alice_device);
        t->device_claims = claims(t, alice_device, NCLAIMS(alice_device));
        t->num_device_sids = 2;
    } else {
        t->num_user_claims = NCLAIMS(bob_user);
        t->user_claims = claims(t, bob_user, NCLAIMS(bob_user));
        t->num_device_sids = 1;
    }
    t->device_sids = talloc_array(t, struct dom_sid, t->num_device_sids);
    t->device_sids[0] = sid(5, 5, wks);
    if (t->num_device_sids > 1)
        t->device_sids[1] = sid(5, 5, dom_computers);
    t->evaluate_claims = CLAIMS_EVALUATION_ALWAYS;
}
#endif

static struct security_token *token(TALLOC_CTX *mem, const user *u)
{
    struct security_token *t = talloc_zero(mem, struct security_token);
    const uint32_t usr[5] = {DOMAIN_SUBAUTHS, u->rid};
    const uint32_t dom_users[5] = {DOMAIN_SUBAUTHS, 513};
    const uint32_t ugid[2] = {2, u->gid};                 /* S-1-22-2-gid */
    const uint32_t ugrp[2] = {2, u->group};               /* S-1-22-2-group */
    const uint32_t world[1] = {0};                        /* S-1-1-0 */
    const uint32_t network[1] = {2};                      /* S-1-5-2 */
    const uint32_t authusers[1] = {11};                   /* S-1-5-11 */
    const uint32_t uuid_[2] = {1, u->uid};                /* S-1-22-1-uid */
    t->num_sids = 8;
    t->sids = talloc_array(t, struct dom_sid, t->num_sids);
    t->sids[0] = sid(5, 5, usr);
    t->sids[1] = sid(5, 5, dom_users);
    t->sids[2] = sid(2, 22, ugid);
    t->sids[3] = sid(2, 22, ugrp);
    t->sids[4] = sid(1, 1, world);
    t->sids[5] = sid(1, 5, network);
    t->sids[6] = sid(1, 5, authusers);
    t->sids[7] = sid(2, 22, uuid_);
    t->privilege_mask = 0;
    t->rights_mask = 0;
#ifdef IDLR_TOKEN_CLAIMS
    t->evaluate_claims = CLAIMS_EVALUATION_NEVER;
    if (claims_mode)
        claims_token(t, u);
#endif
    return t;
}

static struct security_unix_token *utoken(TALLOC_CTX *mem, const user *u)
{
    struct security_unix_token *t = talloc_zero(mem, struct security_unix_token);
    t->uid = u->uid;
    t->gid = u->gid;
    t->ngroups = 1;
    t->groups = talloc_array(t, gid_t, 1);
    t->groups[0] = u->group;
    return t;
}

static DATA_BLOB key16(TALLOC_CTX *mem, uint8_t seed)
{
    DATA_BLOB b = data_blob_talloc(mem, NULL, 16);
    for (int i = 0; i < 16; i++)
        b.data[i] = (uint8_t)(seed * 37 + i * 11 + 5);
    return b;
}

/* ---- sessions --------------------------------------------------------- */

typedef struct sess_spec {
    const user *u;
    uint32_t id;
    uint16_t dialect, signing_algo, cipher;
    uint8_t signing_flags, encryption_flags;
    uint64_t created;  /* unix seconds */
    uint32_t created_frac;
    const char *local, *remote, *remote_name;
    uint32_t seqnum;
} sess_spec;

static const sess_spec sessions[] = {
    {&alice, 0x6d3f0a21u, 0x0311, 2, 2, 0x02, 0x04, 1778577247, 3141592,
     "ipv4:192.168.10.5:445", "ipv4:192.168.10.37:50122", "192.168.10.37", 6},
    {&bob, 0x9a4b77c3u, 0x0302, 1, 1, 0x06, 0x0c, 1778577311, 271828,
     "ipv4:192.168.10.5:445", "ipv4:192.168.10.61:49731", "ws-bob.corp.example", 4},
};

static void build_session(const char *dir, const sess_spec *sp)
{
    TALLOC_CTX *mem = talloc_new(NULL);
    const user *u = sp->u;
    NTTIME created = nt(sp->created, sp->created_frac);

    struct auth_user_info *info = talloc_zero(mem, struct auth_user_info);
    info->account_name = u->name;
    info->user_principal_name = NULL;
    info->user_principal_constructed = 0;
    info->domain_name = "FILESRV";
    info->dns_domain_name = NULL;
    info->full_name = u->full_name;
    info->logon_script = "";
    info->profile_path = talloc_asprintf(mem, "\\\\FILESRV\\%s\\profile", u->name);
    info->home_directory = talloc_asprintf(mem, "\\\\FILESRV\\%s", u->name);
    info->home_drive = "";
    info->logon_server = "FILESRV";
    info->last_logon = 0;
    info->last_logoff = NTTIME_INFINITY;
    info->acct_expiry = NTTIME_INFINITY;
    info->last_password_change = nt(1767950000 + u->uid, 0);
    info->allow_password_change = info->last_password_change;
    info->force_password_change = NTTIME_INFINITY;
    info->logon_count = 0;
    info->bad_password_count = 0;
    info->acct_flags = 0x10; /* ACB_NORMAL */
#ifdef IDLR_USER_FLAGS
    info->user_flags = 0x120; /* NETLOGON_EXTRA_SIDS | NETLOGON_NTLMV2_ENABLED */
#else
    info->authenticated = 1;
#endif

    struct auth_user_info_unix *uinfo = talloc_zero(mem, struct auth_user_info_unix);
    uinfo->unix_name = u->name;
    uinfo->sanitized_username = u->name;

    struct auth_session_info *si = talloc_zero(mem, struct auth_session_info);
    si->security_token = token(si, u);
    si->unix_token = utoken(si, u);
    si->info = info;
    si->unix_info = uinfo;
    si->session_key = key16(si, 1 + (uint8_t)u->uid);
    si->unique_session_token = (struct GUID){sp->id ^ 0x5a5a1234u, 0x1c2d, 0x4e3f,
                                             {0xa4, 0xb5}, {0x01, 0x23, 0x45, 0x67, 0x89, (uint8_t)sp->id}};
#ifdef IDLR_TICKET_TYPE
    si->ticket_type = TICKET_TYPE_UNKNOWN;
#endif

    chan_global_t *ch = talloc_zero(mem, chan_global_t);
    ch->server_id = u->proc;
    ch->channel_id = 1;
    ch->creation_time = created;
    ch->local_address = sp->local;
    ch->remote_address = sp->remote;
    ch->remote_name = sp->remote_name;
    ch->signing_key_blob = key16(ch, 2 + (uint8_t)u->uid);
    ch->auth_session_info_seqnum = 1;
    ch->signing_algo = sp->signing_algo;
    ch->encryption_cipher = sp->cipher;
#ifdef IDLR_TRANSPORT_TYPE
    ch->transport_type = 2; /* SMB_TRANSPORT_TYPE_TCP */
#endif

    sess_global_t *g = talloc_zero(mem, sess_global_t);
    g->session_global_id = sp->id;
    g->session_wire_id = sp->id;
    g->creation_time = created;
    g->expiration_time = NTTIME_INFINITY;
    g->auth_time = created;
    g->auth_session_info_seqnum = 1;
    g->auth_session_info = si;
    g->connection_dialect = sp->dialect;
#ifdef IDLR_CLIENT_GUID
    g->client_guid = u->client_guid;
#endif
    g->signing_flags = sp->signing_flags;
    g->signing_algo = sp->signing_algo;
    g->encryption_flags = sp->encryption_flags;
    g->encryption_cipher = sp->cipher;
    g->signing_key_blob = key16(g, 3 + (uint8_t)u->uid);
    g->encryption_key_blob = key16(g, 4 + (uint8_t)u->uid);
    g->decryption_key_blob = key16(g, 5 + (uint8_t)u->uid);
    g->application_key_blob = key16(g, 6 + (uint8_t)u->uid);
    g->num_channels = 1;
    g->channels = ch;

    struct smbXsrv_session_globalB gb = {.version = IDLR_VERSION, .seqnum = sp->seqnum};
    gb.info.INFO = g;

    DATA_BLOB blob;
    enum ndr_err_code e = ndr_push_struct_blob(&blob, mem, &gb,
                                               (ndr_push_flags_fn_t)ndr_push_smbXsrv_session_globalB);
    if (!NDR_ERR_CODE_IS_SUCCESS(e))
        die("ndr_push_smbXsrv_session_globalB", e);

    buf b = {0};
    put_u32(&b, 0); /* dbwrap_watch: no watchers */
    put(&b, blob.data, blob.length);
    char name[64];
    snprintf(name, sizeof name, "session-%u.hex", sp->id);
    write_hex(dir, name, &b);
    printf("%s\tsession_id=%u\tpid=%llu\tuid=%u\tunix_name=%s\tremote_address=%s\tremote_name=%s"
           "\tdialect=%u\tcreation=%llu\n",
           name, sp->id, (unsigned long long)u->proc.pid, u->uid, u->name, sp->remote,
           sp->remote_name, sp->dialect, (unsigned long long)sp->created);
    free(b.p);
    talloc_free(mem);
}

/* ---- tree connects ---------------------------------------------------- */

typedef struct tcon_spec {
    const sess_spec *s;
    uint32_t id;
    const char *share;
    uint32_t after; /* seconds after the session was created */
    uint8_t encryption_flags, signing_flags;
} tcon_spec;

static const tcon_spec tcons[] = {
    {&sessions[0], 0x1f2e3d4cu, "Finance Data", 1, 0x00, 0x02},
    {&sessions[0], 0x2b7a1c09u, "IPC$", 0, 0x00, 0x02},
    {&sessions[1], 0x4c5d6e7fu, "Projects", 2, 0x04, 0x02},
    {&sessions[1], 0x7e8f9a0bu, "Finance Data", 5, 0x04, 0x02},
};

static void build_tcon(const char *dir, const tcon_spec *tp)
{
    TALLOC_CTX *mem = talloc_new(NULL);
    tcon_global_t *g = talloc_zero(mem, tcon_global_t);
    g->tcon_global_id = tp->id;
    g->tcon_wire_id = tp->id;
    g->server_id = tp->s->u->proc;
    g->creation_time = nt(tp->s->created + tp->after, 1618033);
    g->share_name = tp->share;
    g->encryption_flags = tp->encryption_flags;
    g->session_global_id = tp->s->id;
    g->signing_flags = tp->signing_flags;

    struct smbXsrv_tcon_globalB gb = {.version = IDLR_VERSION, .seqnum = 2};
    gb.info.INFO = g;
    DATA_BLOB blob;
    enum ndr_err_code e = ndr_push_struct_blob(&blob, mem, &gb,
                                               (ndr_push_flags_fn_t)ndr_push_smbXsrv_tcon_globalB);
    if (!NDR_ERR_CODE_IS_SUCCESS(e))
        die("ndr_push_smbXsrv_tcon_globalB", e);
    buf b = {0};
    put(&b, blob.data, blob.length);
    char name[64];
    snprintf(name, sizeof name, "tcon-%u.hex", tp->id);
    write_hex(dir, name, &b);
    printf("%s\ttcon_id=%u\tsession_id=%u\tpid=%llu\tshare_name=%s\tcreation=%llu\n", name, tp->id,
           tp->s->id, (unsigned long long)tp->s->u->proc.pid, tp->share,
           (unsigned long long)(tp->s->created + tp->after));
    free(b.p);
    talloc_free(mem);
}

/* ---- locking.tdb ------------------------------------------------------ */

typedef struct open_spec {
    const user *u;
    uint64_t mid;
    uint32_t access, share_access;
    uint32_t private_options;
    uint64_t share_file_id;
    uint64_t t_sec;
    uint32_t t_usec;
    bool lease;
} open_spec;

typedef struct file_spec {
    const char *servicepath, *base_name, *stream_name;
    uint64_t devid, inode;
    uint32_t name_hash;
    uint16_t flags; /* share_mode_flags */
    const user *delete_by; /* a delete token of this user, or none */
    uint64_t content_epoch, lock_epoch, data_epoch;
    size_t nopens;
    open_spec opens[2];
} file_spec;

static const file_spec files[] = {
    {"/srv/samba/finance", "Q3 budget.xlsx", NULL, 0xfd01, 1310722, 0x8c41d2e7u, 0x01c3, NULL,
     0x3f9a6c21d8e05b17ull, 0x6b1e0c9f2a7d4e53ull, 0x6b1e0c9f2a7d4e54ull, 1,
     {{&alice, 14, 0x0012019f, 7, 0x00000040, 3, 1778577260, 482113, true}}},
    {"/srv/samba/projects", "plan.txt", NULL, 0xfd01, 1441795, 0x1a77f05cu, 0x01f8, NULL,
     0x52e8b07c3d1f9a46ull, 0x0d4c8a7e61b3f295ull, 0x0d4c8a7e61b3f296ull, 2,
     {{&alice, 22, 0x00120089, 7, 0x00000040, 5, 1778577302, 90877, false},
      {&bob, 9, 0x0012019f, 3, 0x00000040, 2, 1778577330, 715004, false}}},
    {"/srv/samba/finance", "old report.docx", NULL, 0xfd01, 1310730, 0xe2093b6au, 0x01e8, &alice,
     0x7c05e3a9b1d64f28ull, 0x41f7d29c8e0a3b65ull, 0x41f7d29c8e0a3b66ull, 1,
     {{&alice, 31, 0x0013019f, 7, 0x00000040, 7, 1778577355, 250961, false}}},
    {"/srv/samba/projects", "notes.txt", ":Zone.Identifier:$DATA", 0xfd01, 1441801, 0x5d3c8b10u,
     0x0048, NULL, 0x19b4e7d2a06c3f85ull, 0x2e6a91c4f7b05d38ull, 0x2e6a91c4f7b05d39ull, 1,
     {{&bob, 12, 0x00120089, 1, 0x00000040, 4, 1778577340, 33502, false}}},
};

static struct share_mode_entry entry(const file_spec *f, const open_spec *o)
{
    struct share_mode_entry e = {0};
    e.pid = o->u->proc;
    e.op_mid = o->mid;
    e.op_type = o->lease ? 0x100 : 0; /* LEASE_OPLOCK (SHARE_MODE_ENTRY_OP_TYPE_LEASE), NO_OPLOCK */
    if (o->lease) {
        e.client_guid = o->u->client_guid;
        e.lease_key.data[0] = 0x4a6f1e2d3c5b7a89ull ^ f->inode;
        e.lease_key.data[1] = 0x0123456789abcdefull;
    }
#ifdef IDLR_CREATE_GUID
    e.create_guid = (struct GUID){(uint32_t)f->inode, 0x3a3a, 0x4b4b, {0x8c, 0x8c},
                                  {0, 0, 0, 0, 0, (uint8_t)o->mid}};
#endif
    e.access_mask = o->access;
    e.share_access = o->share_access;
#ifdef IDLR_PRIVATE_OPTIONS
    e.private_options = o->private_options;
#endif
    e.time.tv_sec = (time_t)o->t_sec;
    e.time.tv_usec = o->t_usec;
    e.share_file_id = o->share_file_id;
    e.uid = o->u->uid;
    e.flags = 0;
    e.name_hash = f->name_hash;
    return e;
}

static void build_locking(const char *dir, const file_spec *f)
{
    TALLOC_CTX *mem = talloc_new(NULL);
    struct share_mode_data *d = talloc_zero(mem, struct share_mode_data);
    d->unique_content_epoch = f->content_epoch;
    d->flags = f->flags;
    d->servicepath = f->servicepath;
    d->base_name = f->base_name;
    d->stream_name = f->stream_name;
#ifdef IDLR_NUM_PERSISTENT
    d->num_persistent = 0;
#endif
    if (f->delete_by) {
        d->num_delete_tokens = 1;
        d->delete_tokens = talloc_zero_array(d, struct delete_token, 1);
        struct delete_token *t = &d->delete_tokens[0];
        t->name_hash = f->name_hash;
#ifdef IDLR_PARENT_LEASE_KEY
        t->parent_lease_key.data[0] = 0x9d8c7b6a59483726ull;
        t->parent_lease_key.data[1] = 0x1504f3e2d1c0b0a0ull;
#endif
#ifdef IDLR_OPEN_PERSISTENT_ID
        t->open_persistent_id = 0;
#endif
        t->delete_nt_token = token(t, f->delete_by);
        t->delete_token = utoken(t, f->delete_by);
    }
#ifdef IDLR_WRITE_TIMES
    d->old_write_time = nt(1778570000, 1234567);
    d->changed_write_time = 0;
#endif
    d->id.devid = f->devid;
    d->id.inode = f->inode;
    d->id.extid = 0;

    DATA_BLOB blob;
    enum ndr_err_code e;
#ifdef IDLR_SHARE_MODE_DATAB
    struct share_mode_dataB db = {
        .version = SHARE_MODE_DATA_VERSION_1,
        .unique_content_epoch = d->unique_content_epoch,
        .flags = d->flags,
    };
    db.data.data1 = d;
    e = ndr_push_struct_blob(&blob, mem, &db, (ndr_push_flags_fn_t)ndr_push_share_mode_dataB);
#else
    e = ndr_push_struct_blob(&blob, mem, d, (ndr_push_flags_fn_t)ndr_push_share_mode_data);
#endif
    if (!NDR_ERR_CODE_IS_SUCCESS(e))
        die("ndr_push_share_mode_data", e);

    buf b = {0};
    put_u32(&b, 0); /* dbwrap_watch: no watchers */
    static const uint8_t nobody[24];
    put(&b, nobody, sizeof nobody); /* g_lock: no exclusive holder */
#if IDLR_GLOCK_EPOCHS == 2
    put_u64(&b, f->lock_epoch);
#endif
    put_u64(&b, f->data_epoch);
    put_u32(&b, 0); /* num_shared */
    put_u32(&b, (uint32_t)blob.length);
    put(&b, blob.data, blob.length);

    char opens[256] = "";
    for (size_t i = 0; i < f->nopens; i++) {
        /* files[] lists the opens in share_mode_entry_cmp order */
        struct share_mode_entry se = entry(f, &f->opens[i]);
        uint8_t fixed[IDLR_ENTRY_SIZE];
        DATA_BLOB fb = {.data = fixed, .length = sizeof fixed};
        e = ndr_push_struct_into_fixed_blob(&fb, &se, (ndr_push_flags_fn_t)ndr_push_share_mode_entry);
        if (!NDR_ERR_CODE_IS_SUCCESS(e))
            die("ndr_push_struct_into_fixed_blob(share_mode_entry)", e);
        put(&b, fixed, sizeof fixed);
        snprintf(opens + strlen(opens), sizeof opens - strlen(opens), "%s%llu/%u/%u", i ? ";" : "",
                 (unsigned long long)f->opens[i].u->proc.pid, f->opens[i].u->uid,
                 f->opens[i].access);
    }
    char name[64];
    snprintf(name, sizeof name, "locking-%llu.hex", (unsigned long long)f->inode);
    write_hex(dir, name, &b);
    printf("%s\tservice_path=%s\tbase_name=%s\tinode=%llu\topens=%s\n", name, f->servicepath,
           f->base_name, (unsigned long long)f->inode, opens);
    free(b.p);
    talloc_free(mem);
}

/* ---- repush: the pipeline against records smbd wrote ------------------- */

static uint8_t *load_hex(const char *path, size_t *len)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        perror(path);
        exit(1);
    }
    size_t cap = 1 << 20, n = 0;
    uint8_t *p = malloc(cap);
    int hi = -1, c;
    while ((c = fgetc(f)) != EOF) {
        int v;
        if (c >= '0' && c <= '9')
            v = c - '0';
        else if (c >= 'a' && c <= 'f')
            v = c - 'a' + 10;
        else
            continue;
        if (hi < 0) {
            hi = v;
        } else {
            if (n == cap)
                abort();
            p[n++] = (uint8_t)(hi << 4 | v);
            hi = -1;
        }
    }
    fclose(f);
    *len = n;
    return p;
}

static uint32_t le32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* Pulls blob with pull, pushes the result with push; 0 when identical. */
static int repush_one(const char *what, const uint8_t *p, size_t n, size_t fixed_size,
                      ndr_pull_flags_fn_t pull, ndr_push_flags_fn_t push, size_t size)
{
    TALLOC_CTX *mem = talloc_new(NULL);
    void *st = talloc_zero_size(mem, size);
    DATA_BLOB in = {.data = (uint8_t *)p, .length = n};
    enum ndr_err_code e = ndr_pull_struct_blob_all(&in, mem, st, pull);
    if (!NDR_ERR_CODE_IS_SUCCESS(e)) {
        printf("  %s: pull failed (NDR error %d)\n", what, (int)e);
        talloc_free(mem);
        return 1;
    }
    DATA_BLOB out;
    uint8_t *fixed = NULL;
    if (fixed_size) {
        fixed = talloc_zero_size(mem, fixed_size);
        out = (DATA_BLOB){.data = fixed, .length = fixed_size};
        e = ndr_push_struct_into_fixed_blob(&out, st, push);
    } else {
        e = ndr_push_struct_blob(&out, mem, st, push);
    }
    if (!NDR_ERR_CODE_IS_SUCCESS(e)) {
        printf("  %s: push failed (NDR error %d)\n", what, (int)e);
        talloc_free(mem);
        return 1;
    }
    int bad = out.length != n || memcmp(out.data, p, n) != 0;
    if (bad) {
        size_t i = 0;
        while (i < n && i < out.length && out.data[i] == p[i])
            i++;
        printf("  %s: pushed %zu bytes, captured %zu; first difference at byte %zu\n", what,
               out.length, n, i);
    } else {
        printf("  %s: %zu bytes identical\n", what, n);
    }
    talloc_free(mem);
    return bad;
}

#ifdef IDLR_TOKEN_CLAIMS
/* The claims variant cannot be pulled whole by any release (4.20 to
 * master): pidl's pull of a [relative] pointer puts the offset back where
 * it was after reading the data, so once a security_token with claims has
 * been read, the member after it (the unix token) is read from the start
 * of the claims' data.  Push writes that data right after the token's
 * scalars (NDR_BUFFERS), and that is what the records hold.  Instead, each
 * claims token is found in the blob (pushed at each 8-aligned offset until
 * the bytes match: the relative pointers are offsets from the start of the
 * blob), pulled there by the release's own ndr_pull_security_token over the
 * whole blob, must end exactly where its bytes end, and is pushed again at
 * the same offset to the same bytes. */
static bool push_token_at(TALLOC_CTX *mem, const struct security_token *t, uint32_t at,
                          DATA_BLOB *out)
{
    struct ndr_push *ndr = ndr_push_init_ctx(mem);
    if (!ndr)
        abort();
    for (uint32_t i = 0; i < at; i++)
        if (!NDR_ERR_CODE_IS_SUCCESS(ndr_push_uint8(ndr, NDR_SCALARS, 0)))
            return false;
    if (!NDR_ERR_CODE_IS_SUCCESS(ndr_push_security_token(ndr, NDR_SCALARS | NDR_BUFFERS, t)))
        return false;
    *out = (DATA_BLOB){.data = ndr->data + at, .length = ndr->offset - at};
    return true;
}

static int claims_tokens(const char *what, const uint8_t *p, size_t n)
{
    static const user *const users[] = {&alice, &bob};
    TALLOC_CTX *mem = talloc_new(NULL);
    DATA_BLOB whole = {.data = (uint8_t *)p, .length = n};
    int found = 0, bad = 0;
    for (size_t k = 0; k + 8 <= n; k += 8) {
        for (size_t ui = 0; ui < 2; ui++) {
            struct security_token *t = token(mem, users[ui]);
            DATA_BLOB b;
            if (!push_token_at(mem, t, (uint32_t)k, &b) || k + b.length > n ||
                memcmp(b.data, p + k, b.length) != 0)
                continue;
            struct ndr_pull *pl = ndr_pull_init_blob(&whole, mem);
            struct security_token *t2 = talloc_zero(mem, struct security_token);
            pl->offset = (uint32_t)k;
            enum ndr_err_code e = ndr_pull_security_token(pl, NDR_SCALARS | NDR_BUFFERS, t2);
            uint32_t end = pl->offset > pl->relative_highest_offset ? pl->offset
                                                                    : pl->relative_highest_offset;
            DATA_BLOB b2;
            bool ok = NDR_ERR_CODE_IS_SUCCESS(e) && end == k + b.length &&
                      push_token_at(mem, t2, (uint32_t)k, &b2) && b2.length == b.length &&
                      memcmp(b2.data, p + k, b.length) == 0;
            printf("  %s: %s's claims token at byte %zu, %zu bytes: %s\n", what, users[ui]->name, k,
                   b.length,
                   ok ? "pulled there (to its last byte) and pushed again: same bytes"
                      : "the release's pull disagrees");
            found++;
            bad |= !ok;
        }
    }
    if (!found)
        printf("  %s: no claims token found\n", what);
    else if (!bad)
        printf("  %s: (a whole-record pull cannot read past a token with claims; see records.c)\n",
               what);
    talloc_free(mem);
    return bad || !found;
}
#endif

/* repush_one for a blob that may hold security tokens (claims variant). */
static int repush_tokens(const char *what, const uint8_t *p, size_t n, ndr_pull_flags_fn_t pull,
                         ndr_push_flags_fn_t push, size_t size)
{
    int bad = repush_one(what, p, n, 0, pull, push, size);
#ifdef IDLR_TOKEN_CLAIMS
    if (bad && claims_mode)
        bad = claims_tokens(what, p, n);
#endif
    return bad;
}

static int repush(const char *kind, const char *path)
{
    size_t n;
    uint8_t *p = load_hex(path, &n);
    int bad = 0;
    printf("%s\n", path);
    size_t off = 0;
    if (strcmp(kind, "tcon") != 0)
        off = 4 + 32 * (size_t)(le32(p) & 0x7fffffffu); /* dbwrap_watch */
    if (strcmp(kind, "session") == 0) {
        bad = repush_tokens("smbXsrv_session_globalB", p + off, n - off,
                            (ndr_pull_flags_fn_t)ndr_pull_smbXsrv_session_globalB,
                            (ndr_push_flags_fn_t)ndr_push_smbXsrv_session_globalB,
                            sizeof(struct smbXsrv_session_globalB));
    } else if (strcmp(kind, "tcon") == 0) {
        bad = repush_one("smbXsrv_tcon_globalB", p, n, 0,
                         (ndr_pull_flags_fn_t)ndr_pull_smbXsrv_tcon_globalB,
                         (ndr_push_flags_fn_t)ndr_push_smbXsrv_tcon_globalB,
                         sizeof(struct smbXsrv_tcon_globalB));
    } else {
        off += 24 + 8 * IDLR_GLOCK_EPOCHS;
        uint32_t nshared = le32(p + off);
        off += 4 + 24 * (size_t)nshared;
        uint32_t sl = le32(p + off);
        off += 4;
#ifdef IDLR_SHARE_MODE_DATAB
        bad |= repush_tokens("share_mode_dataB", p + off, sl,
                             (ndr_pull_flags_fn_t)ndr_pull_share_mode_dataB,
                             (ndr_push_flags_fn_t)ndr_push_share_mode_dataB,
                             sizeof(struct share_mode_dataB));
#else
        bad |= repush_tokens("share_mode_data", p + off, sl,
                             (ndr_pull_flags_fn_t)ndr_pull_share_mode_data,
                             (ndr_push_flags_fn_t)ndr_push_share_mode_data,
                             sizeof(struct share_mode_data));
#endif
        off += sl;
        if ((n - off) % IDLR_ENTRY_SIZE != 0) {
            printf("  share_mode_entry: %zu bytes of entries, not a multiple of %d\n", n - off,
                   IDLR_ENTRY_SIZE);
            bad = 1;
        }
        for (; off + IDLR_ENTRY_SIZE <= n; off += IDLR_ENTRY_SIZE)
            bad |= repush_one("share_mode_entry", p + off, IDLR_ENTRY_SIZE, IDLR_ENTRY_SIZE,
                              (ndr_pull_flags_fn_t)ndr_pull_share_mode_entry,
                              (ndr_push_flags_fn_t)ndr_push_share_mode_entry,
                              sizeof(struct share_mode_entry));
    }
    free(p);
    return bad;
}

int main(int argc, char **argv)
{
    const char *cm = getenv("IDLR_CLAIMS");
    claims_mode = cm && *cm && strcmp(cm, "0") != 0;
#ifndef IDLR_TOKEN_CLAIMS
    if (claims_mode) {
        fprintf(stderr, "records: IDLR_CLAIMS: this release's security_token has no claims\n");
        return 1;
    }
#endif
    if (argc == 3 && strcmp(argv[1], "build") == 0) {
        for (size_t i = 0; i < sizeof sessions / sizeof sessions[0]; i++)
            build_session(argv[2], &sessions[i]);
        for (size_t i = 0; i < sizeof tcons / sizeof tcons[0]; i++)
            build_tcon(argv[2], &tcons[i]);
        for (size_t i = 0; i < sizeof files / sizeof files[0]; i++)
            build_locking(argv[2], &files[i]);
        return 0;
    }
    if (argc >= 4 && strcmp(argv[1], "repush") == 0) {
        int bad = 0;
        for (int i = 3; i < argc; i++)
            bad |= repush(argv[2], argv[i]);
        return bad;
    }
    fprintf(stderr, "usage: records build OUTDIR | records repush session|tcon|locking FILE..\n");
    return 2;
}
