/*
 * json.c - the streaming JSON reader (see json.h).  A state machine over
 * the buffer: every byte is looked at once; strings are decoded only when
 * they hold escapes.
 */
#include "json/json.h"

#include <string.h>

enum {
    ST_VALUE,        /* a value must come (top level, after ':' or '[') */
    ST_VALUE_OR_END, /* after '[': a value or ']' */
    ST_KEY_OR_END,   /* after '{': a key or '}' */
    ST_KEY,          /* after ',' in an object */
    ST_COLON,        /* after a key */
    ST_COMMA_OR_END, /* after a value inside a container */
    ST_DONE,         /* the top-level value is complete */
};

void jp_init(jp_reader *r, const char *buf, size_t len)
{
    memset(r, 0, sizeof(*r));
    r->buf = buf;
    r->p = buf;
    r->end = buf + len;
    r->state = ST_VALUE;
    sc_buf_init(&r->scratch);
}

void jp_free(jp_reader *r)
{
    sc_buf_free(&r->scratch);
}

const char *jp_tok_name(jp_tok t)
{
    switch (t) {
    case JP_OBJ_BEGIN: return "an object";
    case JP_ARR_BEGIN: return "an array";
    case JP_STRING: return "a string";
    case JP_NUMBER: return "a number";
    case JP_TRUE: case JP_FALSE: return "a boolean";
    case JP_NULL: return "null";
    case JP_KEY: return "a key";
    case JP_OBJ_END: return "'}'";
    case JP_ARR_END: return "']'";
    case JP_EOF: return "the end of the document";
    case JP_ERROR: break;
    }
    return "an error";
}

static jp_tok fail(jp_reader *r, const char *p, const char *msg)
{
    r->err = msg;
    r->err_off = (size_t)(p - r->buf);
    r->tok = JP_ERROR;
    r->state = ST_DONE;
    r->p = r->end;
    return JP_ERROR;
}

static void skip_ws(jp_reader *r)
{
    const char *p = r->p;
    while (p < r->end && (*p == ' ' || *p == '\n' || *p == '\r' || *p == '\t'))
        p++;
    r->p = p;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool read_hex4(const char *p, const char *end, uint32_t *out)
{
    if (end - p < 4)
        return false;
    uint32_t v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hexval(p[i]);
        if (h < 0)
            return false;
        v = (v << 4) | (uint32_t)h;
    }
    *out = v;
    return true;
}

static void put_utf8(sc_buf *b, uint32_t c)
{
    char t[4];
    size_t n;
    if (c < 0x80) {
        t[0] = (char)c; n = 1;
    } else if (c < 0x800) {
        t[0] = (char)(0xC0 | (c >> 6)); t[1] = (char)(0x80 | (c & 0x3F)); n = 2;
    } else if (c < 0x10000) {
        t[0] = (char)(0xE0 | (c >> 12)); t[1] = (char)(0x80 | ((c >> 6) & 0x3F));
        t[2] = (char)(0x80 | (c & 0x3F)); n = 3;
    } else {
        t[0] = (char)(0xF0 | (c >> 18)); t[1] = (char)(0x80 | ((c >> 12) & 0x3F));
        t[2] = (char)(0x80 | ((c >> 6) & 0x3F)); t[3] = (char)(0x80 | (c & 0x3F)); n = 4;
    }
    sc_buf_add(b, t, n);
}

/* Length of a valid UTF-8 sequence at p (RFC 3629), 0 if invalid. */
static size_t utf8_len(const unsigned char *p, const unsigned char *end)
{
    unsigned char c = p[0];
    if (c < 0x80)
        return 1;
    size_t n;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) { n = 2; cp = c & 0x1F; min = 0x80; }
    else if ((c & 0xF0) == 0xE0) { n = 3; cp = c & 0x0F; min = 0x800; }
    else if ((c & 0xF8) == 0xF0) { n = 4; cp = c & 0x07; min = 0x10000; }
    else return 0;
    if ((size_t)(end - p) < n)
        return 0;
    for (size_t i = 1; i < n; i++) {
        if ((p[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return n;
}

/* r->p is at the opening quote. */
static jp_tok read_string(jp_reader *r, jp_tok kind)
{
    const unsigned char *p = (const unsigned char *)r->p + 1;
    const unsigned char *end = (const unsigned char *)r->end;
    const unsigned char *start = p;
    /* fast path: no escapes */
    while (p < end && *p != '"' && *p != '\\') {
        if (*p < 0x20)
            return fail(r, (const char *)p, "control character in a string");
        if (*p < 0x80) {
            p++;
            continue;
        }
        size_t n = utf8_len(p, end);
        if (!n)
            return fail(r, (const char *)p, "invalid UTF-8 in a string");
        p += n;
    }
    if (p >= end)
        return fail(r, r->p, "unterminated string");
    if (*p == '"') {
        r->str = (const char *)start;
        r->len = (size_t)(p - start);
        r->p = (const char *)p + 1;
        return r->tok = kind;
    }
    sc_buf_reset(&r->scratch);
    sc_buf_add(&r->scratch, (const char *)start, (size_t)(p - start));
    while (p < end && *p != '"') {
        if (*p == '\\') {
            if (p + 1 >= end)
                return fail(r, r->p, "unterminated string");
            unsigned char e = p[1];
            p += 2;
            switch (e) {
            case '"': sc_buf_putc(&r->scratch, '"'); break;
            case '\\': sc_buf_putc(&r->scratch, '\\'); break;
            case '/': sc_buf_putc(&r->scratch, '/'); break;
            case 'b': sc_buf_putc(&r->scratch, '\b'); break;
            case 'f': sc_buf_putc(&r->scratch, '\f'); break;
            case 'n': sc_buf_putc(&r->scratch, '\n'); break;
            case 'r': sc_buf_putc(&r->scratch, '\r'); break;
            case 't': sc_buf_putc(&r->scratch, '\t'); break;
            case 'u': {
                uint32_t cp;
                if (!read_hex4((const char *)p, (const char *)end, &cp))
                    return fail(r, (const char *)p - 2, "bad \\u escape");
                p += 4;
                if (cp >= 0xD800 && cp <= 0xDBFF) {
                    uint32_t lo;
                    if (end - p < 6 || p[0] != '\\' || p[1] != 'u' ||
                        !read_hex4((const char *)p + 2, (const char *)end, &lo) ||
                        lo < 0xDC00 || lo > 0xDFFF)
                        return fail(r, (const char *)p - 6, "unpaired UTF-16 surrogate in \\u escape");
                    p += 6;
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                } else if (cp >= 0xDC00 && cp <= 0xDFFF) {
                    return fail(r, (const char *)p - 6, "unpaired UTF-16 surrogate in \\u escape");
                }
                put_utf8(&r->scratch, cp);
                break;
            }
            default:
                return fail(r, (const char *)p - 2, "unknown escape in a string");
            }
            continue;
        }
        if (*p < 0x20)
            return fail(r, (const char *)p, "control character in a string");
        size_t n = *p < 0x80 ? 1 : utf8_len(p, end);
        if (!n)
            return fail(r, (const char *)p, "invalid UTF-8 in a string");
        sc_buf_add(&r->scratch, (const char *)p, n);
        p += n;
    }
    if (p >= end)
        return fail(r, r->p, "unterminated string");
    r->str = r->scratch.data ? r->scratch.data : "";
    r->len = r->scratch.len;
    r->p = (const char *)p + 1;
    return r->tok = kind;
}

static bool digit(const char *p, const char *end)
{
    return p < end && *p >= '0' && *p <= '9';
}

static jp_tok read_number(jp_reader *r)
{
    const char *p = r->p, *end = r->end;
    if (*p == '-')
        p++;
    if (!digit(p, end))
        return fail(r, r->p, "invalid number");
    if (*p == '0') {
        p++;
    } else {
        while (digit(p, end))
            p++;
    }
    if (p < end && *p == '.') {
        p++;
        if (!digit(p, end))
            return fail(r, r->p, "invalid number");
        while (digit(p, end))
            p++;
    }
    if (p < end && (*p == 'e' || *p == 'E')) {
        p++;
        if (p < end && (*p == '+' || *p == '-'))
            p++;
        if (!digit(p, end))
            return fail(r, r->p, "invalid number");
        while (digit(p, end))
            p++;
    }
    r->str = r->p;
    r->len = (size_t)(p - r->p);
    r->p = p;
    return r->tok = JP_NUMBER;
}

static jp_tok read_word(jp_reader *r, const char *w, jp_tok t)
{
    size_t n = strlen(w);
    if ((size_t)(r->end - r->p) < n || memcmp(r->p, w, n) != 0)
        return fail(r, r->p, "unexpected character");
    r->p += n;
    return r->tok = t;
}

/* After a complete value: what may follow depends on the container. */
static void after_value(jp_reader *r)
{
    r->state = r->depth ? ST_COMMA_OR_END : ST_DONE;
}

static jp_tok read_value(jp_reader *r)
{
    char c = *r->p;
    jp_tok t;
    switch (c) {
    case '{':
    case '[':
        if (r->depth >= JP_MAX_DEPTH)
            return fail(r, r->p, "nesting too deep");
        r->stack[r->depth++] = c == '{' ? 'o' : 'a';
        r->p++;
        r->state = c == '{' ? ST_KEY_OR_END : ST_VALUE_OR_END;
        return r->tok = c == '{' ? JP_OBJ_BEGIN : JP_ARR_BEGIN;
    case '"':
        t = read_string(r, JP_STRING);
        break;
    case 't':
        t = read_word(r, "true", JP_TRUE);
        break;
    case 'f':
        t = read_word(r, "false", JP_FALSE);
        break;
    case 'n':
        t = read_word(r, "null", JP_NULL);
        break;
    default:
        if (c == '-' || (c >= '0' && c <= '9'))
            t = read_number(r);
        else
            return fail(r, r->p, "unexpected character, expected a value");
    }
    if (t != JP_ERROR)
        after_value(r);
    return t;
}

static jp_tok close_container(jp_reader *r, char want)
{
    if (r->depth == 0 || r->stack[r->depth - 1] != want)
        return fail(r, r->p, "mismatched bracket");
    r->depth--;
    r->p++;
    after_value(r);
    return r->tok = want == 'o' ? JP_OBJ_END : JP_ARR_END;
}

jp_tok jp_next(jp_reader *r)
{
    if (r->tok == JP_ERROR)
        return JP_ERROR;
    skip_ws(r);
    r->tok_off = (size_t)(r->p - r->buf);
    if (r->state == ST_DONE) {
        if (r->p < r->end)
            return fail(r, r->p, "text after the end of the document");
        return r->tok = JP_EOF;
    }
    if (r->p >= r->end)
        return fail(r, r->p, "unexpected end of the document");
    char c = *r->p;
    switch (r->state) {
    case ST_VALUE:
        return read_value(r);
    case ST_VALUE_OR_END:
        if (c == ']')
            return close_container(r, 'a');
        return read_value(r);
    case ST_KEY_OR_END:
        if (c == '}')
            return close_container(r, 'o');
        /* fall through */
    case ST_KEY:
        if (c != '"')
            return fail(r, r->p, "expected a key in double quotes");
        if (read_string(r, JP_KEY) == JP_ERROR)
            return JP_ERROR;
        r->state = ST_COLON;
        skip_ws(r);
        if (r->p >= r->end || *r->p != ':')
            return fail(r, r->p, "expected ':' after a key");
        r->p++;
        r->state = ST_VALUE;
        return JP_KEY;
    case ST_COMMA_OR_END:
        if (c == ',') {
            r->p++;
            r->state = r->stack[r->depth - 1] == 'o' ? ST_KEY : ST_VALUE;
            return jp_next(r);
        }
        if (c == '}')
            return close_container(r, 'o');
        if (c == ']')
            return close_container(r, 'a');
        return fail(r, r->p, "expected ',' or a closing bracket");
    default:
        return fail(r, r->p, "internal state error");
    }
}

bool jp_skip(jp_reader *r)
{
    if (r->tok != JP_OBJ_BEGIN && r->tok != JP_ARR_BEGIN)
        return r->tok != JP_ERROR;
    int depth = r->depth - 1;
    while (r->depth > depth) {
        if (jp_next(r) == JP_ERROR)
            return false;
    }
    return true;
}

void jp_line_col(const jp_reader *r, size_t off, unsigned *line, unsigned *col)
{
    unsigned l = 1, c = 1;
    const char *end = r->buf + (off < (size_t)(r->end - r->buf) ? off : (size_t)(r->end - r->buf));
    for (const char *p = r->buf; p < end; p++) {
        if (*p == '\n') {
            l++;
            c = 1;
        } else if (((unsigned char)*p & 0xC0) != 0x80) {
            c++;
        }
    }
    *line = l;
    *col = c;
}

bool jp_int(const jp_reader *r, int64_t *out)
{
    if (r->tok != JP_NUMBER || r->len == 0 || r->len > 20)
        return false;
    bool neg = r->str[0] == '-';
    uint64_t v;
    if (!sc_parse_u64(r->str + neg, r->len - neg, &v))
        return false;
    if (neg) {
        if (v > (uint64_t)INT64_MAX + 1)
            return false;
        *out = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
    } else {
        if (v > (uint64_t)INT64_MAX)
            return false;
        *out = (int64_t)v;
    }
    return true;
}

void jp_put_str(sc_buf *b, const char *s)
{
    if (!s) {
        sc_buf_puts(b, "null");
        return;
    }
    sc_buf_putc(b, '"');
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        switch (*p) {
        case '"': sc_buf_puts(b, "\\\""); break;
        case '\\': sc_buf_puts(b, "\\\\"); break;
        case '\n': sc_buf_puts(b, "\\n"); break;
        case '\r': sc_buf_puts(b, "\\r"); break;
        case '\t': sc_buf_puts(b, "\\t"); break;
        default:
            if (*p < 0x20)
                sc_buf_printf(b, "\\u%04x", *p);
            else
                sc_buf_putc(b, (char)*p);
        }
    }
    sc_buf_putc(b, '"');
}
