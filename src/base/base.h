/*
 * base.h - leaf utilities shared by every module: the request arena,
 * a growable string buffer, case-insensitive UTF-8 comparison and a small
 * hash map.  Includes nothing else from src/.
 *
 * Out of memory: inside sc_oom_call (every public function of smbcim.h
 * runs its work there) an allocation failure unwinds to that call, which
 * reports it (WBEM_E_OUT_OF_MEMORY); outside one (smbcimd's own code) it
 * is reported on stderr and aborts the process.  Code that holds
 * something an unwind would leak for good (a child process, a worker
 * thread, a database lock) runs its part under a nested sc_oom_call and
 * cleans up itself.  docs/decisions.md, "Out of memory".
 */
#ifndef SMBCIM_BASE_H
#define SMBCIM_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "smbcim.h" /* smbcim_text_mode */

/* Runs fn(arg); true when it returned, false when an allocation failed
 * inside it (in this thread) and unwound to here.  Nests.  After false,
 * what fn had allocated outside arenas freed by the undo hook is lost. */
bool sc_oom_call(void (*fn)(void *), void *arg);
/* Out of memory again, after a landing pad of sc_oom_call cleaned up:
 * unwinds to the next sc_oom_call out (aborts when there is none). */
_Noreturn void sc_oom_raise(void);
/* The undo hook of the innermost sc_oom_call of this thread: called with
 * arg when an allocation fails before the hook is cleared (fn NULL). */
void sc_oom_on_unwind(void (*fn)(void *), void *arg);
/* Tests only: the n-th allocation from now (in this thread) fails, as if
 * memory had run out; 0 turns it off.  Returns how many allocations were
 * made since the last call (to size a sweep). */
unsigned long sc_oom_fail_after(unsigned long n);

void *sc_xmalloc(size_t n);
void *sc_xcalloc(size_t n, size_t size);
void *sc_xrealloc(void *p, size_t n);
char *sc_xstrdup(const char *s);

/* ---- arena: one per request; everything is freed at once ---------------- */
typedef struct sc_arena sc_arena;
sc_arena *sc_arena_new(void);
void sc_arena_free(sc_arena *a);           /* NULL is fine */
/* Moves every block of `from` into `a` and frees `from` (NULL is fine):
 * what was allocated in `from` now lives as long as `a`.  For work done
 * in another thread with an arena of its own. */
void sc_arena_adopt(sc_arena *a, sc_arena *from);
void *sc_alloc(sc_arena *a, size_t n);     /* zeroed, 16-byte aligned */
void *sc_alloc_array(sc_arena *a, size_t n, size_t size); /* overflow-checked */
char *sc_strdup(sc_arena *a, const char *s);
char *sc_strndup(sc_arena *a, const char *s, size_t n);
char *sc_sprintf(sc_arena *a, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* The n strings of parts joined (NULL parts count as ""), in the arena:
 * the fast path for keys and paths built in loops. */
char *sc_concat(sc_arena *a, const char *const *parts, size_t n);
size_t sc_arena_bytes(const sc_arena *a);  /* bytes reserved, for benchmarks */
/* The n decimal digits at s (no sign, no space) as a number; false on
 * anything else and on overflow. */
bool sc_parse_u64(const char *s, size_t n, uint64_t *out);
/* v as text in base 10 or 16 (lower case), in the arena; no printf. */
char *sc_u64_text(sc_arena *a, uint64_t v, unsigned base);
/* Seconds on CLOCK_MONOTONIC: for durations and deadlines. */
double sc_monotonic(void);
char *sc_i64_text(sc_arena *a, int64_t v);

/* ---- growable heap buffer (always NUL-terminated) ------------------------ */
typedef struct sc_buf {
    char *data;
    size_t len;
    size_t cap;
} sc_buf;
void sc_buf_init(sc_buf *b);
void sc_buf_free(sc_buf *b);
void sc_buf_reset(sc_buf *b);
void sc_buf_add(sc_buf *b, const char *s, size_t n);
void sc_buf_puts(sc_buf *b, const char *s);
void sc_buf_putc(sc_buf *b, char c);
void sc_buf_printf(sc_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
void sc_buf_vprintf(sc_buf *b, const char *fmt, va_list ap);
/* Hands the string to the caller (malloc()ed) and resets b. */
char *sc_buf_take(sc_buf *b);
/* The text fill(b, arg) writes into a new buffer, malloc()ed, under
 * sc_oom_call: NULL when memory runs out (the public text calls). */
char *sc_buf_text(void (*fill)(sc_buf *b, const void *arg), const void *arg);
/* Appends the whole file at path to b; false with errno set on failure
 * (EFBIG when it holds more than max bytes). */
bool sc_read_file(const char *path, size_t max, sc_buf *b);

/* ---- vector of pointers (heap) ------------------------------------------- */
typedef struct sc_vec {
    void **items;
    size_t len;
    size_t cap;
} sc_vec;
void sc_vec_push(sc_vec *v, void *item);
/* Moves from's items to the end of v; from is left empty (still to be
 * freed). */
void sc_vec_append(sc_vec *v, sc_vec *from);
void sc_vec_free(sc_vec *v);

/* ---- UTF-8 and case-insensitive comparison ------------------------------ */
/* Decodes one code point at *p and advances; invalid bytes decode as
 * themselves (0x80..0xFF) one at a time, so any byte string compares. */
uint32_t sc_utf8_next(const char **p, const char *end);
/* Simple case folding (to lower case) for ASCII, Latin-1, Latin Extended-A,
 * Greek and Cyrillic: the letters Windows admins meet in share and user
 * names.  Other code points fold to themselves. */
uint32_t sc_fold(uint32_t cp);
/* strcmp-like, case-insensitive, by folded code point. */
int sc_stricmp(const char *a, const char *b);
/* Upper-cases ASCII letters in place (names Samba and WMI keep upper case). */
void sc_upcase_ascii(char *s);
int sc_strnicmp_len(const char *a, size_t alen, const char *b, size_t blen);
bool sc_streqi(const char *a, const char *b);
/* Hash of the folded string; equal for strings sc_streqi() calls equal. */
uint64_t sc_hash_i(const char *s);
/* Appends the folded form of s to b. */
void sc_buf_fold(sc_buf *b, const char *s);
/* Appends all of fd (a file, a pipe, a socket; blocking) to b, at most
 * max bytes in all: false with errno set on failure, EFBIG when there is
 * more. */
bool sc_read_fd(int fd, size_t max, sc_buf *b);

/* What a file of mode m (st_mode) is, for messages: "a directory", "a
 * FIFO (named pipe)", "a character device", ... */
const char *sc_file_kind(unsigned m);

/* Appends s[0..len) escaped for mode (escape.c, docs/decisions.md):
 * nothing in it can move a terminal's cursor, start a line or reorder
 * text.  smbcim_escape_text() is the same for NUL-terminated text. */
void sc_buf_put_escaped(sc_buf *b, const char *s, size_t len, smbcim_text_mode mode);

/* ---- hash map: string key (case-insensitive) -> void* ------------------- */
/* Keys are not copied: they must outlive the map (arena strings). */
typedef struct sc_map {
    struct sc_map_slot *slots;
    size_t cap;  /* power of two */
    size_t len;
    bool exact;  /* keys compare byte for byte (sc_map_init_exact) */
} sc_map;
void sc_map_init(sc_map *m);
void sc_map_init_exact(sc_map *m);
void sc_map_free(sc_map *m);
/* Returns the existing value for key, or NULL. */
void *sc_map_get(const sc_map *m, const char *key);
/* Inserts or replaces; returns the previous value or NULL. */
void *sc_map_put(sc_map *m, const char *key, void *value);

#endif
