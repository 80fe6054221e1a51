/*
 * base.c - allocation helpers, the arena, sc_buf, sc_vec, UTF-8 case
 * folding and the case-insensitive hash map.
 */
#include "base/base.h"

#include <errno.h>
#include <setjmp.h>
#include <sys/mman.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- out of memory ---------------------------------------------------------
 * Each thread keeps a stack of sc_oom_call frames; an allocation failure
 * longjmps to the innermost.  The frames live on the callers' stacks. */
typedef struct oom_frame {
    jmp_buf jb;
    struct oom_frame *prev;
    void (*undo)(void *);
    void *undo_arg;
} oom_frame;

static _Thread_local oom_frame *oom_top;
static _Thread_local unsigned long fail_countdown, alloc_count;

bool sc_oom_call(void (*fn)(void *), void *arg)
{
    oom_frame f = {.prev = oom_top};
    if (setjmp(f.jb) != 0)
        return false; /* oom() popped f and ran its undo hook */
    oom_top = &f;
    fn(arg);
    oom_top = f.prev;
    return true;
}

void sc_oom_on_unwind(void (*fn)(void *), void *arg)
{
    if (oom_top) {
        oom_top->undo = fn;
        oom_top->undo_arg = arg;
    }
}

unsigned long sc_oom_fail_after(unsigned long n)
{
    unsigned long made = alloc_count;
    alloc_count = 0;
    fail_countdown = n;
    return made;
}

_Noreturn static void oom(size_t n);

_Noreturn void sc_oom_raise(void)
{
    oom(0);
}

_Noreturn static void oom(size_t n)
{
    oom_frame *f = oom_top;
    if (f) {
        oom_top = f->prev;
        if (f->undo)
            f->undo(f->undo_arg);
        longjmp(f->jb, 1);
    }
    fprintf(stderr, "smbcim: out of memory (allocating %zu bytes)\n", n);
    abort();
}

/* Whether this allocation is the one a test asked to fail. */
static bool injected(void)
{
    alloc_count++;
    return fail_countdown && --fail_countdown == 0;
}

void *sc_xmalloc(size_t n)
{
    void *p = injected() ? NULL : malloc(n ? n : 1);
    if (!p)
        oom(n);
    return p;
}

void *sc_xcalloc(size_t n, size_t size)
{
    void *p = injected() ? NULL : calloc(n ? n : 1, size ? size : 1);
    if (!p)
        oom(n * size);
    return p;
}

void *sc_xrealloc(void *p, size_t n)
{
    void *q = injected() ? NULL : realloc(p, n ? n : 1);
    if (!q)
        oom(n);
    return q;
}

char *sc_xstrdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = sc_xmalloc(n);
    memcpy(d, s, n);
    return d;
}

/* ---- arena ---------------------------------------------------------------
 * A chain of blocks; requests larger than a quarter block get a block of
 * their own so that big arrays do not waste the tail of the current block.
 *
 * An arena that has grown past BIG_ARENA (a context holding a large state)
 * takes its further blocks 2 MiB at a time from mmap, aligned and marked
 * MADV_HUGEPAGE: one page fault per 2 MiB instead of 512.  Measured with
 * bench/live.py at 1,000 clients, where first-touch page faults were the
 * largest cost (expensive in a virtual machine): 51 -> 33 ms per query. */
#define ARENA_BLOCK (64 * 1024)
#define HUGE_BLOCK ((size_t)2 * 1024 * 1024)
#define BIG_ARENA ((size_t)4 * ARENA_BLOCK)

struct arena_block {
    struct arena_block *next;
    size_t size;
    size_t used;
    bool mapped;              /* a HUGE_BLOCK from mmap, not malloc */
    _Alignas(16) unsigned char data[];
};

struct sc_arena {
    struct arena_block *head;
    size_t reserved;
};

sc_arena *sc_arena_new(void)
{
    return sc_xcalloc(1, sizeof(sc_arena));
}

void sc_arena_free(sc_arena *a)
{
    if (!a)
        return;
    struct arena_block *b = a->head;
    while (b) {
        struct arena_block *n = b->next;
        if (b->mapped)
            munmap(b, HUGE_BLOCK);
        else
            free(b);
        b = n;
    }
    free(a);
}

static struct arena_block *huge_block(void)
{
    /* Twice the size, to cut an aligned 2 MiB out of it. */
    char *p = mmap(NULL, 2 * HUGE_BLOCK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                   -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t al = ((uintptr_t)p + HUGE_BLOCK - 1) & ~(uintptr_t)(HUGE_BLOCK - 1);
    size_t pre = al - (uintptr_t)p;
    if (pre)
        munmap(p, pre);
    munmap((char *)al + HUGE_BLOCK, HUGE_BLOCK - pre);
#ifdef MADV_HUGEPAGE
    madvise((void *)al, HUGE_BLOCK, MADV_HUGEPAGE);
#endif
    struct arena_block *b = (struct arena_block *)al;
    b->size = HUGE_BLOCK - sizeof(*b);
    b->mapped = true;
    return b;
}

/* A block of at least size bytes; `chain` blocks (the ones later requests
 * are carved from) of a big arena come from huge_block(). */
static struct arena_block *new_block(sc_arena *a, size_t size, bool chain)
{
    struct arena_block *b = NULL;
    if (chain && a->reserved >= BIG_ARENA)
        b = huge_block();
    if (b) {
        b->used = 0;
        a->reserved += b->size;
        return b;
    }
    b = sc_xmalloc(sizeof(*b) + size);
    b->mapped = false;
    b->size = size;
    b->used = 0;
    a->reserved += size;
    return b;
}

void sc_arena_adopt(sc_arena *a, sc_arena *from)
{
    if (!from)
        return;
    struct arena_block *b = from->head;
    while (b) { /* behind a's current block: a keeps carving from it */
        struct arena_block *n = b->next;
        if (a->head) {
            b->next = a->head->next;
            a->head->next = b;
        } else {
            b->next = NULL;
            a->head = b;
        }
        b = n;
    }
    a->reserved += from->reserved;
    free(from);
}

void *sc_alloc(sc_arena *a, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    struct arena_block *b = a->head;
    if (!b || b->size - b->used < n) {
        if (n > ARENA_BLOCK / 4) {
            struct arena_block *big = new_block(a, n, false);
            big->used = n;
            if (b) { /* keep the current block first */
                big->next = b->next;
                b->next = big;
            } else {
                big->next = NULL;
                a->head = big;
            }
            memset(big->data, 0, n);
            return big->data;
        }
        b = new_block(a, ARENA_BLOCK, true);
        b->next = a->head;
        a->head = b;
    }
    void *p = b->data + b->used;
    b->used += n;
    memset(p, 0, n);
    return p;
}

void *sc_alloc_array(sc_arena *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        oom(SIZE_MAX);
    return sc_alloc(a, n * size);
}

char *sc_strndup(sc_arena *a, const char *s, size_t n)
{
    char *d = sc_alloc(a, n + 1);
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *sc_strdup(sc_arena *a, const char *s)
{
    return s ? sc_strndup(a, s, strlen(s)) : NULL;
}

char *sc_sprintf(sc_arena *a, const char *fmt, ...)
{
    /* One formatting pass for the usual short string; a second only when
     * it does not fit the stack buffer. */
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        n = 0;
    if ((size_t)n < sizeof small)
        return sc_strndup(a, small, (size_t)n);
    char *d = sc_alloc(a, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(d, (size_t)n + 1, fmt, ap);
    va_end(ap);
    return d;
}

char *sc_concat(sc_arena *a, const char *const *parts, size_t n)
{
    size_t len = 0;
    for (size_t i = 0; i < n; i++)
        len += parts[i] ? strlen(parts[i]) : 0;
    char *d = sc_alloc(a, len + 1), *p = d;
    for (size_t i = 0; i < n; i++) {
        if (!parts[i])
            continue;
        size_t l = strlen(parts[i]);
        memcpy(p, parts[i], l);
        p += l;
    }
    *p = '\0';
    return d;
}

/* The digits of v in base, last first, into tmp (24 bytes); their count. */
static inline size_t digits_reversed(char *tmp, uint64_t v, unsigned base)
{
    static const char digits[] = "0123456789abcdef";
    size_t n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    return n;
}

char *sc_u64_text(sc_arena *a, uint64_t v, unsigned base)
{
    char tmp[24];
    /* decimal (every id of the live route) with a constant divisor: the
     * compiler multiplies instead of dividing */
    size_t n = base == 10 ? digits_reversed(tmp, v, 10) : digits_reversed(tmp, v, base);
    char *out = sc_alloc(a, n + 1);
    for (size_t i = 0; i < n; i++)
        out[i] = tmp[n - 1 - i];
    return out;
}

char *sc_i64_text(sc_arena *a, int64_t v)
{
    if (v >= 0)
        return sc_u64_text(a, (uint64_t)v, 10);
    char *digits = sc_u64_text(a, (uint64_t)0 - (uint64_t)v, 10);
    const char *parts[] = {"-", digits};
    return sc_concat(a, parts, 2);
}

bool sc_read_file(const char *path, size_t max, sc_buf *out)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return false;
    char chunk[65536];
    size_t n, total = 0;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        total += n;
        if (total > max) {
            fclose(f);
            errno = EFBIG;
            return false;
        }
        sc_buf_add(out, chunk, n);
    }
    bool ok = !ferror(f);
    int e = errno;
    fclose(f);
    errno = e;
    return ok;
}

size_t sc_arena_bytes(const sc_arena *a)
{
    return a ? a->reserved : 0;
}

/* ---- sc_buf -------------------------------------------------------------- */
void sc_buf_init(sc_buf *b)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void sc_buf_free(sc_buf *b)
{
    free(b->data);
    sc_buf_init(b);
}

void sc_buf_reset(sc_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

static void buf_reserve(sc_buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = sc_xrealloc(b->data, cap);
    b->cap = cap;
}

void sc_buf_add(sc_buf *b, const char *s, size_t n)
{
    buf_reserve(b, n);
    if (n)
        memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

void sc_buf_puts(sc_buf *b, const char *s)
{
    sc_buf_add(b, s, strlen(s));
}

void sc_buf_putc(sc_buf *b, char c)
{
    buf_reserve(b, 1);
    b->data[b->len++] = c;
    b->data[b->len] = '\0';
}

void sc_buf_vprintf(sc_buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    va_copy(ap2, ap);
    int n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n <= 0)
        return;
    buf_reserve(b, (size_t)n);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
}

void sc_buf_printf(sc_buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    sc_buf_vprintf(b, fmt, ap);
    va_end(ap);
}

char *sc_buf_take(sc_buf *b)
{
    if (!b->data)
        return sc_xstrdup("");
    char *d = b->data;
    sc_buf_init(b);
    return d;
}

typedef struct text_call {
    void (*fill)(sc_buf *, const void *);
    const void *arg;
    char *text;
} text_call;

static void text_cb(void *p)
{
    text_call *c = p;
    sc_buf b;
    sc_buf_init(&b);
    c->fill(&b, c->arg);
    c->text = sc_buf_take(&b);
}

char *sc_buf_text(void (*fill)(sc_buf *b, const void *arg), const void *arg)
{
    text_call c = {.fill = fill, .arg = arg};
    return sc_oom_call(text_cb, &c) ? c.text : NULL;
}

bool sc_parse_u64(const char *s, size_t n, uint64_t *out)
{
    if (n == 0)
        return false;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - (unsigned)'0';
        if (d > 9 || v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    *out = v;
    return true;
}

/* ---- sc_vec -------------------------------------------------------------- */
void sc_vec_push(sc_vec *v, void *item)
{
    if (v->len == v->cap) {
        v->cap = v->cap ? v->cap * 2 : 16;
        v->items = sc_xrealloc(v->items, v->cap * sizeof(void *));
    }
    v->items[v->len++] = item;
}

void sc_vec_append(sc_vec *v, sc_vec *from)
{
    if (!v->len) { /* take from's array whole */
        sc_vec t = *v;
        *v = *from;
        *from = t;
        return;
    }
    for (size_t i = 0; i < from->len; i++)
        sc_vec_push(v, from->items[i]);
    from->len = 0;
}

void sc_vec_free(sc_vec *v)
{
    free(v->items);
    v->items = NULL;
    v->len = v->cap = 0;
}

/* ---- UTF-8 ----------------------------------------------------------------- */
uint32_t sc_utf8_next(const char **pp, const char *end)
{
    const unsigned char *p = (const unsigned char *)*pp;
    const unsigned char *e = (const unsigned char *)end;
    uint32_t c = p[0];
    int need = 0;
    uint32_t min = 0;
    if (c < 0x80) {
        *pp += 1;
        return c;
    } else if ((c & 0xE0) == 0xC0) {
        need = 1; c &= 0x1F; min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        need = 2; c &= 0x0F; min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        need = 3; c &= 0x07; min = 0x10000;
    } else {
        *pp += 1;
        return p[0];
    }
    if (e - p <= need)
        goto bad;
    for (int i = 1; i <= need; i++) {
        if ((p[i] & 0xC0) != 0x80)
            goto bad;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < min || c > 0x10FFFF)
        goto bad;
    *pp += need + 1;
    return c;
bad:
    *pp += 1;
    return p[0];
}

uint32_t sc_fold(uint32_t c)
{
    if (c < 0x80)
        return (c >= 'A' && c <= 'Z') ? c + 32 : c;
    if (c >= 0xC0 && c <= 0xDE && c != 0xD7)
        return c + 32;
    if (c >= 0x100 && c <= 0x17F) {
        /* Latin Extended-A: pairs, upper case even, except two runs where
         * upper case is odd. */
        if ((c >= 0x139 && c <= 0x148) || (c >= 0x179 && c <= 0x17E))
            return (c & 1) ? c + 1 : c;
        if (c == 0x130 || c == 0x131 || c == 0x138 || c == 0x149 || c == 0x17F)
            return c;
        if (c == 0x178)
            return 0xFF;
        return (c & 1) ? c : c + 1;
    }
    if (c >= 0x391 && c <= 0x3AB && c != 0x3A2)
        return c + 32;
    if (c >= 0x410 && c <= 0x42F)
        return c + 32;
    if (c >= 0x400 && c <= 0x40F)
        return c + 80;
    return c;
}

int sc_strnicmp_len(const char *a, size_t alen, const char *b, size_t blen)
{
    const char *ae = a + alen, *be = b + blen;
    while (a < ae && b < be) {
        uint32_t ca = sc_fold(sc_utf8_next(&a, ae));
        uint32_t cb = sc_fold(sc_utf8_next(&b, be));
        if (ca != cb)
            return ca < cb ? -1 : 1;
    }
    if (a < ae)
        return 1;
    if (b < be)
        return -1;
    return 0;
}

int sc_stricmp(const char *a, const char *b)
{
    /* fast path: ASCII */
    for (;; a++, b++) {
        unsigned char ca = (unsigned char)*a, cb = (unsigned char)*b;
        if ((ca | cb) & 0x80)
            return sc_strnicmp_len(a, strlen(a), b, strlen(b));
        if (ca >= 'A' && ca <= 'Z')
            ca += 32;
        if (cb >= 'A' && cb <= 'Z')
            cb += 32;
        if (ca != cb)
            return ca < cb ? -1 : 1;
        if (!ca)
            return 0;
    }
}

void sc_upcase_ascii(char *s)
{
    for (; *s; s++)
        if (*s >= 'a' && *s <= 'z')
            *s = (char)(*s - 32);
}

bool sc_streqi(const char *a, const char *b)
{
    if (a == b)
        return true;
    if (!a || !b)
        return false;
    return sc_stricmp(a, b) == 0;
}

uint64_t sc_hash_i(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    const char *end = s + strlen(s);
    while (s < end) {
        uint32_t c;
        if ((unsigned char)*s < 0x80) {
            c = (unsigned char)*s++;
            if (c >= 'A' && c <= 'Z')
                c += 32;
        } else {
            c = sc_fold(sc_utf8_next(&s, end));
        }
        h ^= c;
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static void put_utf8(sc_buf *b, uint32_t c)
{
    char t[4];
    if (c < 0x80) {
        sc_buf_putc(b, (char)c);
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6));
        t[1] = (char)(0x80 | (c & 0x3F));
        sc_buf_add(b, t, 2);
    } else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12));
        t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F));
        sc_buf_add(b, t, 3);
    } else {
        t[0] = (char)(0xF0 | (c >> 18));
        t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[3] = (char)(0x80 | (c & 0x3F));
        sc_buf_add(b, t, 4);
    }
}

void sc_buf_fold(sc_buf *b, const char *s)
{
    const char *end = s + strlen(s);
    while (s < end) {
        const char *start = s;
        uint32_t c = sc_utf8_next(&s, end);
        if (s - start == 1 && (unsigned char)*start >= 0x80) {
            sc_buf_putc(b, *start); /* invalid byte: keep as is */
            continue;
        }
        put_utf8(b, sc_fold(c));
    }
}

/* ---- map ----------------------------------------------------------------- */
struct sc_map_slot {
    const char *key;
    uint64_t hash;
    void *value;
};

void sc_map_init(sc_map *m)
{
    m->slots = NULL;
    m->cap = 0;
    m->len = 0;
    m->exact = false;
}

void sc_map_init_exact(sc_map *m)
{
    sc_map_init(m);
    m->exact = true;
}

static uint64_t hash_exact(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) {
        h ^= (unsigned char)*s;
        h *= 1099511628211ull;
    }
    return h ^ (h >> 29);
}

static uint64_t map_hash(const sc_map *m, const char *key)
{
    return m->exact ? hash_exact(key) : sc_hash_i(key);
}

void sc_map_free(sc_map *m)
{
    free(m->slots);
    m->slots = NULL;
    m->cap = m->len = 0;
}

static struct sc_map_slot *map_find(const sc_map *m, const char *key, uint64_t h)
{
    size_t mask = m->cap - 1;
    for (size_t i = (size_t)h & mask;; i = (i + 1) & mask) {
        struct sc_map_slot *s = &m->slots[i];
        if (!s->key)
            return s;
        if (s->hash == h &&
            (m->exact ? strcmp(s->key, key) : sc_stricmp(s->key, key)) == 0)
            return s;
    }
}

void *sc_map_get(const sc_map *m, const char *key)
{
    if (!m->cap)
        return NULL;
    struct sc_map_slot *s = map_find(m, key, map_hash(m, key));
    return s->key ? s->value : NULL;
}

static void map_grow(sc_map *m)
{
    size_t ncap = m->cap ? m->cap * 2 : 16;
    struct sc_map_slot *old = m->slots;
    size_t ocap = m->cap;
    m->slots = sc_xcalloc(ncap, sizeof(*m->slots));
    m->cap = ncap;
    for (size_t i = 0; i < ocap; i++) {
        if (old[i].key) {
            struct sc_map_slot *s = map_find(m, old[i].key, old[i].hash);
            *s = old[i];
        }
    }
    free(old);
}

void *sc_map_put(sc_map *m, const char *key, void *value)
{
    if ((m->len + 1) * 4 >= m->cap * 3)
        map_grow(m);
    uint64_t h = map_hash(m, key);
    struct sc_map_slot *s = map_find(m, key, h);
    if (s->key) {
        void *prev = s->value;
        s->value = value;
        return prev;
    }
    s->key = key;
    s->hash = h;
    s->value = value;
    m->len++;
    return NULL;
}

const char *sc_file_kind(unsigned m)
{
    if (S_ISDIR(m))
        return "a directory";
    if (S_ISFIFO(m))
        return "a FIFO (named pipe)";
    if (S_ISCHR(m))
        return "a character device";
    if (S_ISBLK(m))
        return "a block device";
    if (S_ISSOCK(m))
        return "a socket";
    if (S_ISLNK(m))
        return "a symbolic link";
    return "not a regular file";
}

bool sc_read_fd(int fd, size_t max, sc_buf *b)
{
    char chunk[1 << 16];
    size_t total = 0;
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof chunk);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            return true;
        if ((size_t)n > max - total) {
            errno = EFBIG;
            return false;
        }
        total += (size_t)n;
        sc_buf_add(b, chunk, (size_t)n);
    }
}

double sc_monotonic(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
