/*
 * escape.c - text made safe to show: one table of what steers a terminal,
 * forges a line or reorders what is seen, and how each output escapes it.
 * Used by the CLI's formats and messages (smbcim_escape_text), the MOF
 * writer and smbcimd's log (sc_buf_put_escaped).  The rules are in
 * docs/decisions.md, "Control characters in output":
 *
 *   SMBCIM_TEXT_VISIBLE (table, list, names, messages, logs): C0 controls,
 *     DEL and bytes that are not UTF-8 -> \xNN; C1 controls, the bidi
 *     controls (U+061C, U+200E/F, U+202A..E, U+2066..9) and the line and
 *     paragraph separators U+2028/9 -> \uNNNN; a backslash -> \x5c only
 *     where an x or u follows it (so that text cannot pass for an escape),
 *     any other backslash (C:\srv, \\FS01\root) as it is.
 *   SMBCIM_TEXT_CSV: the same, except that TAB, CR and LF are kept (data,
 *     inside quotes).
 *   SMBCIM_TEXT_MOF (inside a DSP0004 string literal): \n \r \t \b \f \"
 *     \\; the other characters VISIBLE escapes -> \xNNNN (UCS-2); a byte
 *     that is not UTF-8 -> \xFFFD (MOF has no byte escape).
 */
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NOT_UTF8 UINT32_MAX

/* The character at p (before end) and its length in *n.  A byte that does
 * not start a valid UTF-8 sequence (RFC 3629: no overlong forms, no
 * surrogates, at most U+10FFFF) is NOT_UTF8 with *n 1. */
static uint32_t utf8_at(const unsigned char *p, const unsigned char *end, size_t *n)
{
    static const uint32_t least[] = {0, 0x80, 0x800, 0x10000};
    unsigned char b = p[0];
    int more = b < 0x80 ? 0 : (b & 0xE0) == 0xC0 ? 1 : (b & 0xF0) == 0xE0 ? 2
             : (b & 0xF8) == 0xF0 ? 3 : -1;
    *n = 1;
    if (more < 0 || end - p <= more)
        return more == 0 ? b : NOT_UTF8;
    uint32_t c = more ? b & (0x3Fu >> more) : b;
    for (int i = 1; i <= more; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return NOT_UTF8;
        c = (c << 6) | (p[i] & 0x3F);
    }
    if (c < least[more] || c > 0x10FFFF || (c >= 0xD800 && c <= 0xDFFF))
        return NOT_UTF8;
    *n = (size_t)more + 1;
    return c;
}

/* C1 controls, the bidirectional formatting characters and the Unicode
 * line and paragraph separators: invisible, yet they move or reorder what
 * a terminal or an editor shows. */
static bool invisible_control(uint32_t c)
{
    return (c >= 0x80 && c <= 0x9F) || c == 0x061C || c == 0x200E || c == 0x200F ||
           c == 0x2028 || c == 0x2029 || (c >= 0x202A && c <= 0x202E) ||
           (c >= 0x2066 && c <= 0x2069);
}

/* Appends the escape of the character at p (n bytes, code point c), or
 * the character itself. */
static void put_char(sc_buf *b, const unsigned char *p, const unsigned char *end, size_t n,
                     uint32_t c, smbcim_text_mode mode)
{
    bool c0 = c < 0x20 || c == 0x7F;
    if (mode == SMBCIM_TEXT_MOF) {
        const char *named = NULL;
        switch (c) {
        case '\n': named = "\\n"; break;
        case '\r': named = "\\r"; break;
        case '\t': named = "\\t"; break;
        case '\b': named = "\\b"; break;
        case '\f': named = "\\f"; break;
        case '"': named = "\\\""; break;
        case '\\': named = "\\\\"; break;
        }
        if (named) {
            sc_buf_puts(b, named);
            return;
        }
        if (c == NOT_UTF8) {
            sc_buf_puts(b, "\\xFFFD");
            return;
        }
        if (c0 || invisible_control(c)) {
            sc_buf_printf(b, "\\x%04X", (unsigned)c);
            return;
        }
    } else if (c == NOT_UTF8 ||
               (c0 && !(mode == SMBCIM_TEXT_CSV && (c == '\t' || c == '\r' || c == '\n')))) {
        sc_buf_printf(b, "\\x%02x", p[0]);
        return;
    } else if (invisible_control(c)) {
        sc_buf_printf(b, "\\u%04x", (unsigned)c);
        return;
    } else if (c == '\\' && p + 1 < end && (p[1] == 'x' || p[1] == 'u')) {
        sc_buf_puts(b, "\\x5c");
        return;
    }
    sc_buf_add(b, (const char *)p, n);
}

void sc_buf_put_escaped(sc_buf *b, const char *s, size_t len, smbcim_text_mode mode)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        /* a run of printable ASCII that no mode escapes, added at once */
        const unsigned char *q = p;
        while (q < end && *q >= 0x20 && *q < 0x7F && *q != '\\' && *q != '"')
            q++;
        if (q > p) {
            sc_buf_add(b, (const char *)p, (size_t)(q - p));
            p = q;
            if (p == end)
                break;
        }
        size_t n;
        uint32_t c = utf8_at(p, end, &n);
        put_char(b, p, end, n, c, mode);
        p += n;
    }
}

typedef struct escape_arg {
    const char *s;
    smbcim_text_mode mode;
} escape_arg;

static void escape_fill(sc_buf *b, const void *p)
{
    const escape_arg *e = p;
    if (e->s)
        sc_buf_put_escaped(b, e->s, strlen(e->s), e->mode);
}

char *smbcim_escape_text(const char *s, smbcim_text_mode mode)
{
    escape_arg e = {.s = s, .mode = mode};
    return sc_buf_text(escape_fill, &e); /* NULL: out of memory */
}
