/*
 * json.h - a strict (RFC 8259), streaming pull reader for JSON.
 *
 * Why not a tree library: a 257 MB snapshot (10,000 shares, 50,000
 * sessions, 100,000 tree connects, 200,000 opens) took jansson 9.6 s and
 * 2.3 GB to load as a tree on the reference machine, for data of which the
 * providers keep a few percent.  This reader hands out one token at a time
 * from the caller's buffer, copies nothing it does not have to (strings
 * without escapes point into the buffer) and needs memory only for the
 * nesting stack.  See docs/decisions.md.
 *
 * Use:
 *     jp_reader r;
 *     jp_init(&r, buf, len);
 *     while ((t = jp_next(&r)) > JP_EOF) ...   // JP_ERROR: r.err, r.err_off
 * A value that is not needed is skipped with jp_skip() right after its
 * first token.  After the top-level value, jp_next() returns JP_EOF, or
 * JP_ERROR if anything but whitespace follows.
 */
#ifndef SMBCIM_JSON_H
#define SMBCIM_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "base/base.h"

#define JP_MAX_DEPTH 64

typedef enum jp_tok {
    JP_ERROR = -1,
    JP_EOF = 0,
    JP_OBJ_BEGIN,
    JP_OBJ_END,
    JP_ARR_BEGIN,
    JP_ARR_END,
    JP_KEY,     /* an object member's name: str/len */
    JP_STRING,  /* str/len (decoded; may contain NUL bytes from \u0000) */
    JP_NUMBER,  /* raw text in str/len, validated against the grammar */
    JP_TRUE,
    JP_FALSE,
    JP_NULL,
} jp_tok;

typedef struct jp_reader {
    const char *buf;
    const char *p;
    const char *end;
    jp_tok tok;
    const char *str;      /* current key, string or number text */
    size_t len;
    size_t tok_off;       /* byte offset of the current token */
    /* nesting: 'o' object, 'a' array */
    char stack[JP_MAX_DEPTH];
    int depth;
    int state;            /* internal: what may come next */
    sc_buf scratch;       /* decoded strings with escapes */
    const char *err;      /* set with JP_ERROR */
    size_t err_off;
} jp_reader;

void jp_init(jp_reader *r, const char *buf, size_t len);
void jp_free(jp_reader *r);
jp_tok jp_next(jp_reader *r);
/* Skips the rest of the value whose first token was just returned (no-op
 * for scalars).  false on a syntax error (r->err set). */
bool jp_skip(jp_reader *r);
/* 1-based line and column of a byte offset. */
void jp_line_col(const jp_reader *r, size_t off, unsigned *line, unsigned *col);
/* Human name of a token kind: "an object", "a string", ... */
const char *jp_tok_name(jp_tok t);
/* The current JP_NUMBER as an integer; false if it has a fraction or
 * exponent or does not fit. */
bool jp_int(const jp_reader *r, int64_t *out);

/* Writing: s as a JSON string ("null" for NULL), with '"', '\\' and the
 * control characters escaped; other bytes (UTF-8) as they are. */
void jp_put_str(sc_buf *b, const char *s);

#endif
