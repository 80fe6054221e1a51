/*
 * compat.c - the few lib/util functions that a Samba release's NDR runtime
 * calls on the push and pull paths of the records tools/idl-records.sh
 * builds, written for glibc instead of compiling Samba's charset, debug
 * and replace libraries.  Everything else the runtime refers to is linked
 * to a stub that aborts (tools/idl-records.sh generates those), so a call
 * this file does not cover cannot go unnoticed.
 *
 * Strings: smbd's default "unix charset" is UTF-8, so CH_UNIX <-> CH_UTF8
 * is the identity, as iconv makes it in smbd; UTF-16LE is converted for
 * completeness.  Lengths follow lib/util/charset/util_str.c
 * (strlen_m_ext_handle).
 *
 * Compiled without Samba's headers (their prototypes vary a little
 * between releases); charset_t is an int: CH_UTF16LE 0, CH_UNIX 1, CH_DOS 2,
 * CH_UTF8 3, CH_UTF16BE 4, CH_UTF16MUNGED 5 in every release 4.15 .. 4.25.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <talloc.h>

enum { CH_UTF16LE = 0, CH_UNIX = 1, CH_DOS = 2, CH_UTF8 = 3, CH_UTF16BE = 4, CH_UTF16MUNGED = 5 };

static bool is_utf8ish(int cs) { return cs == CH_UNIX || cs == CH_UTF8 || cs == CH_DOS; }
static bool is_utf16(int cs) { return cs == CH_UTF16LE || cs == CH_UTF16MUNGED; }

/* One code point of UTF-8 at s (n bytes left); 0xFFFFFFFF when invalid. */
static uint32_t utf8_next(const unsigned char *s, size_t n, size_t *len)
{
    uint32_t c = s[0];
    size_t k = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
    if (k == 0 || k > n)
        return 0xFFFFFFFFu;
    if (k > 1)
        c &= 0x7F >> k;
    for (size_t i = 1; i < k; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0xFFFFFFFFu;
        c = c << 6 | (s[i] & 0x3F);
    }
    *len = k;
    return c;
}

size_t strlen_m_ext(const char *s, int src, int dst)
{
    size_t count = 0;
    if (!s)
        return 0;
    if (!is_utf8ish(src))
        abort();
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s);
    while (*p) {
        size_t k;
        uint32_t c = utf8_next(p, n, &k);
        if (c == 0xFFFFFFFFu) {
            c = 0xFFFD; /* smbd's iconv: INVALID_CODEPOINT, one byte */
            k = 1;
        }
        p += k;
        n -= k;
        if (is_utf16(dst) || dst == CH_UTF16BE)
            count += c < 0x10000 ? 1 : 2;
        else if (dst == CH_UTF8)
            count += c < 0x80 ? 1 : c < 0x800 ? 2 : c < 0x10000 ? 3 : 4;
        else
            count += 1;
    }
    return count;
}

size_t strlen_m_ext_term(const char *s, int src, int dst)
{
    return s ? strlen_m_ext(s, src, dst) + 1 : 0;
}

size_t strlen_m_ext_term_null(const char *s, int src, int dst)
{
    size_t l;
    if (!s)
        return 0;
    l = strlen_m_ext(s, src, dst);
    return l ? l + 1 : 0;
}

size_t strlen_m(const char *s) { return strlen_m_ext(s, CH_UNIX, CH_UTF16LE); }
size_t strlen_m_term(const char *s) { return strlen_m_ext_term(s, CH_UNIX, CH_UTF16LE); }
size_t strlen_m_term_null(const char *s) { return strlen_m_ext_term_null(s, CH_UNIX, CH_UTF16LE); }

/* Converts srclen bytes; *out must hold the result (NULL: only count). */
static bool conv(int from, int to, const void *src, size_t srclen, uint8_t *out, size_t outlen,
                 size_t *done)
{
    const unsigned char *s = src;
    size_t o = 0;
    if (is_utf8ish(from) && is_utf8ish(to)) {
        if (from == CH_DOS || to == CH_DOS)
            for (size_t i = 0; i < srclen; i++)
                if (s[i] & 0x80)
                    return false; /* CH_DOS would be the "dos charset": not needed */
        if (out && srclen > outlen)
            return false;
        if (out)
            memcpy(out, s, srclen);
        *done = srclen;
        return true;
    }
    if (is_utf8ish(from) && to == CH_UTF16LE) {
        for (size_t i = 0; i < srclen;) {
            size_t k;
            uint32_t c = utf8_next(s + i, srclen - i, &k);
            if (c == 0xFFFFFFFFu)
                return false;
            i += k;
            uint16_t u[2];
            int nu = 1;
            if (c >= 0x10000) {
                c -= 0x10000;
                u[0] = (uint16_t)(0xD800 | (c >> 10));
                u[1] = (uint16_t)(0xDC00 | (c & 0x3FF));
                nu = 2;
            } else {
                u[0] = (uint16_t)c;
            }
            for (int j = 0; j < nu; j++) {
                if (out && o + 2 > outlen)
                    return false;
                if (out) {
                    out[o] = (uint8_t)(u[j] & 0xFF);
                    out[o + 1] = (uint8_t)(u[j] >> 8);
                }
                o += 2;
            }
        }
        *done = o;
        return true;
    }
    if (from == CH_UTF16LE && is_utf8ish(to)) {
        if (srclen % 2)
            return false;
        for (size_t i = 0; i < srclen; i += 2) {
            uint32_t c = s[i] | (uint32_t)s[i + 1] << 8;
            if (c >= 0xD800 && c < 0xDC00) {
                if (i + 4 > srclen)
                    return false;
                uint32_t d = s[i + 2] | (uint32_t)s[i + 3] << 8;
                if (d < 0xDC00 || d >= 0xE000)
                    return false;
                c = 0x10000 + ((c - 0xD800) << 10) + (d - 0xDC00);
                i += 2;
            } else if (c >= 0xDC00 && c < 0xE000) {
                return false;
            }
            if (to == CH_DOS && c >= 0x80)
                return false;
            uint8_t b[4];
            size_t k;
            if (c < 0x80) {
                b[0] = (uint8_t)c;
                k = 1;
            } else if (c < 0x800) {
                b[0] = (uint8_t)(0xC0 | c >> 6);
                b[1] = (uint8_t)(0x80 | (c & 0x3F));
                k = 2;
            } else if (c < 0x10000) {
                b[0] = (uint8_t)(0xE0 | c >> 12);
                b[1] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
                b[2] = (uint8_t)(0x80 | (c & 0x3F));
                k = 3;
            } else {
                b[0] = (uint8_t)(0xF0 | c >> 18);
                b[1] = (uint8_t)(0x80 | ((c >> 12) & 0x3F));
                b[2] = (uint8_t)(0x80 | ((c >> 6) & 0x3F));
                b[3] = (uint8_t)(0x80 | (c & 0x3F));
                k = 4;
            }
            if (out && o + k > outlen)
                return false;
            if (out)
                memcpy(out + o, b, k);
            o += k;
        }
        *done = o;
        return true;
    }
    fprintf(stderr, "idl-records compat: no conversion from charset %d to %d\n", from, to);
    abort();
}

/* As lib/util/charset/convert_string.c: the result is talloc'd with two
 * zero bytes after it; an empty input gives one (two for UTF-16) zero. */
bool convert_string_talloc(TALLOC_CTX *ctx, int from, int to, const void *src, size_t srclen,
                           void *dest, size_t *converted_size)
{
    void **d = dest;
    size_t n;
    *d = NULL;
    if (srclen == 0) {
        size_t l = (is_utf16(to) || to == CH_UTF16BE) ? 2 : 1;
        *d = talloc_zero_size(ctx, l);
        if (*d == NULL)
            return false;
        *converted_size = l;
        return true;
    }
    if (!conv(from, to, src, srclen, NULL, 0, &n))
        return false;
    uint8_t *b = talloc_zero_size(ctx, n + 2);
    if (b == NULL || !conv(from, to, src, srclen, b, n, &n))
        return false;
    *d = b;
    *converted_size = n;
    return true;
}

bool convert_string(int from, int to, const void *src, size_t srclen, void *dest, size_t destlen,
                    size_t *converted_size)
{
    size_t n;
    if (srclen == 0) {
        *converted_size = 0;
        return true;
    }
    if (!conv(from, to, src, srclen, dest, destlen, &n)) {
        errno = E2BIG;
        return false;
    }
    *converted_size = n;
    return true;
}

bool all_zero(const uint8_t *ptr, size_t size)
{
    for (size_t i = 0; i < size; i++)
        if (ptr[i])
            return false;
    return true;
}

int rep_memset_s(void *dest, size_t destsz, int ch, size_t count)
{
    if (dest == NULL)
        return EINVAL;
    if (count > destsz)
        return ERANGE;
    memset(dest, ch, count);
    return 0;
}

void *rep_memset_explicit(void *block, int c, size_t size)
{
    void *p = memset(block, c, size);
    __asm__ volatile("" : : "g"(block) : "memory");
    return p;
}

/* DEBUG(): level 0, messages to stderr. */
int debuglevel_get_class(size_t idx) { (void)idx; return 0; }
bool dbghdrclass(int level, int cls, const char *location, const char *func)
{
    (void)level; (void)cls; (void)location; (void)func;
    return true;
}
bool dbghdr(int level, const char *location, const char *func)
{
    (void)level; (void)location; (void)func;
    return true;
}
void dbgsetclass(int level, int cls) { (void)level; (void)cls; }
bool dbgtext(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    return true;
}
bool dbgtext_va(const char *fmt, va_list ap)
{
    vfprintf(stderr, fmt, ap);
    return true;
}

void smb_panic(const char *why)
{
    fprintf(stderr, "idl-records: smb_panic: %s\n", why);
    abort();
}
