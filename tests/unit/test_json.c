/*
 * test_json.c - the streaming JSON reader: token sequences, strictness
 * (RFC 8259), escapes and UTF-8, error offsets, skipping, integers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "json/json.h"

/* Tokens of a document as a compact string: { } [ ] k:name s:text n:num
 * T F N, separated by spaces; "ERR@off" on an error. */
static void tokens(const char *doc, char *out, size_t cap)
{
    jp_reader r;
    jp_init(&r, doc, strlen(doc));
    out[0] = '\0';
    size_t n = 0;
    for (;;) {
        jp_tok t = jp_next(&r);
        char item[128];
        switch (t) {
        case JP_EOF: jp_free(&r); return;
        case JP_ERROR:
            snprintf(item, sizeof item, "ERR@%zu", r.err_off);
            snprintf(out + n, cap - n, "%s%s", n ? " " : "", item);
            jp_free(&r);
            return;
        case JP_OBJ_BEGIN: strcpy(item, "{"); break;
        case JP_OBJ_END: strcpy(item, "}"); break;
        case JP_ARR_BEGIN: strcpy(item, "["); break;
        case JP_ARR_END: strcpy(item, "]"); break;
        case JP_KEY: snprintf(item, sizeof item, "k:%.*s", (int)r.len, r.str); break;
        case JP_STRING: snprintf(item, sizeof item, "s:%.*s", (int)r.len, r.str); break;
        case JP_NUMBER: snprintf(item, sizeof item, "n:%.*s", (int)r.len, r.str); break;
        case JP_TRUE: strcpy(item, "T"); break;
        case JP_FALSE: strcpy(item, "F"); break;
        case JP_NULL: strcpy(item, "N"); break;
        }
        n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? " " : "", item);
    }
}

static const struct {
    const char *doc;
    const char *want;
} cases[] = {
    {"{}", "{ }"},
    {" [ ] ", "[ ]"},
    {"{\"a\":1,\"b\":[true,false,null]}", "{ k:a n:1 k:b [ T F N ] }"},
    {"[-0.5e+10, 0, 12]", "[ n:-0.5e+10 n:0 n:12 ]"},
    {"\"x\\n\\u00e9\\ud83d\\ude00\"", "s:x\n\xc3\xa9\xf0\x9f\x98\x80"},
    {"{\"k\\\"q\":\"v\"}", "{ k:k\"q s:v }"},
    {"\"Donn\xc3\xa9" "es\"", "s:Donn\xc3\xa9" "es"},
    /* errors, with the byte offset */
    {"", "ERR@0"},
    {"{", "{ ERR@1"},
    {"[1,]", "[ n:1 ERR@3"},
    {"{\"a\" 1}", "{ ERR@5"},
    {"{\"a\":1,}", "{ k:a n:1 ERR@7"},
    {"[01]", "[ n:0 ERR@2"},
    {"[1.]", "[ ERR@1"},
    {"[+1]", "[ ERR@1"},
    {"{'a':1}", "{ ERR@1"},
    {"\"a\tb\"", "ERR@2"},
    {"\"\\x\"", "ERR@1"},
    {"\"\\ud800\"", "ERR@1"},
    {"\"\xff\"", "ERR@1"},
    {"\"\xc0\xaf\"", "ERR@1"},
    {"[1] 2", "[ n:1 ] ERR@4"},
    {"[1}", "[ n:1 ERR@2"},
    {"tru", "ERR@0"},
    {"\"abc", "ERR@0"},
    {"nul", "ERR@0"},
};

static void test_token_table(void **state)
{
    (void)state;
    char out[1024];
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        tokens(cases[i].doc, out, sizeof out);
        if (strcmp(out, cases[i].want) != 0)
            fail_msg("case %zu %s: got '%s', want '%s'", i, cases[i].doc, out, cases[i].want);
    }
}

static void test_depth_limit(void **state)
{
    (void)state;
    char doc[200];
    memset(doc, '[', 100);
    doc[100] = '\0';
    char out[2048];
    tokens(doc, out, sizeof out);
    assert_non_null(strstr(out, "ERR@64"));
}

static void test_skip(void **state)
{
    (void)state;
    const char *doc = "{\"skip\":{\"a\":[1,{\"b\":2}],\"c\":\"}\"},\"keep\":7}";
    jp_reader r;
    jp_init(&r, doc, strlen(doc));
    assert_int_equal(jp_next(&r), JP_OBJ_BEGIN);
    assert_int_equal(jp_next(&r), JP_KEY);
    assert_int_equal(jp_next(&r), JP_OBJ_BEGIN);
    assert_true(jp_skip(&r));
    assert_int_equal(jp_next(&r), JP_KEY);
    assert_int_equal(r.len, 4);
    assert_int_equal(jp_next(&r), JP_NUMBER);
    int64_t v;
    assert_true(jp_int(&r, &v));
    assert_int_equal(v, 7);
    assert_int_equal(jp_next(&r), JP_OBJ_END);
    assert_int_equal(jp_next(&r), JP_EOF);
    jp_free(&r);
}

static void test_int(void **state)
{
    (void)state;
    static const struct {
        const char *doc;
        bool ok;
        int64_t v;
    } t[] = {
        {"0", true, 0}, {"-1", true, -1}, {"9223372036854775807", true, INT64_MAX},
        {"-9223372036854775808", true, INT64_MIN}, {"9223372036854775808", false, 0},
        {"1.0", false, 0}, {"1e3", false, 0}, {"4294967295", true, 4294967295},
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        jp_reader r;
        jp_init(&r, t[i].doc, strlen(t[i].doc));
        assert_int_equal(jp_next(&r), JP_NUMBER);
        int64_t v = 0;
        assert_int_equal(jp_int(&r, &v), t[i].ok);
        if (t[i].ok)
            assert_true(v == t[i].v);
        jp_free(&r);
    }
}

static void test_line_col(void **state)
{
    (void)state;
    const char *doc = "{\n  \"a\": 1,\n  \"b\" 2\n}";
    jp_reader r;
    jp_init(&r, doc, strlen(doc));
    while (jp_next(&r) > JP_EOF)
        ;
    assert_int_equal(r.tok, JP_ERROR);
    unsigned line, col;
    jp_line_col(&r, r.err_off, &line, &col);
    assert_int_equal(line, 3);
    assert_int_equal(col, 7);
    jp_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_token_table),
        cmocka_unit_test(test_depth_limit),
        cmocka_unit_test(test_skip),
        cmocka_unit_test(test_int),
        cmocka_unit_test(test_line_col),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
