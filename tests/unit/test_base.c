/*
 * test_base.c - the leaf utilities: case folding and comparison, the hash
 * map (both key modes), the arena and the string buffer.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "base/base.h"

static void test_fold(void **state)
{
    (void)state;
    static const struct {
        const char *a, *b;
        int sign;
    } t[] = {
        {"IPC$", "ipc$", 0}, {"Données", "DONNÉES", 0}, {"ŁÓDŹ", "łódź", 0},
        {"ΑΘΗΝΑ", "αθηνα", 0}, {"МОСКВА", "москва", 0}, {"Ёж", "ёж", 0},
        {"a", "b", -1}, {"B", "a", 1}, {"abc", "ab", 1}, {"", "a", -1},
        {"straße", "STRASSE", 1}, /* no multi-character folding */
        {"\xff\xfe", "\xff\xfe", 0}, /* invalid UTF-8 compares bytewise */
    };
    for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
        int r = sc_stricmp(t[i].a, t[i].b);
        r = r < 0 ? -1 : r > 0;
        if (r != t[i].sign)
            fail_msg("%s vs %s: %d", t[i].a, t[i].b, r);
        if (t[i].sign == 0)
            assert_true(sc_hash_i(t[i].a) == sc_hash_i(t[i].b));
    }
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_fold(&b, "Finance DATA Été");
    assert_string_equal(b.data, "finance data été");
    sc_buf_free(&b);
}

static void test_map(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_map m, x;
    sc_map_init(&m);
    sc_map_init_exact(&x);
    for (int i = 0; i < 5000; i++) {
        char *k = sc_sprintf(a, "Key%d", i);
        assert_null(sc_map_put(&m, k, k));
        assert_null(sc_map_put(&x, k, k));
    }
    assert_int_equal(m.len, 5000);
    assert_string_equal(sc_map_get(&m, "KEY4242"), "Key4242");
    assert_null(sc_map_get(&x, "KEY4242"));
    assert_string_equal(sc_map_get(&x, "Key4242"), "Key4242");
    assert_null(sc_map_get(&m, "Key5000"));
    assert_non_null(sc_map_put(&m, "kEy7", "new"));
    assert_string_equal(sc_map_get(&m, "KEY7"), "new");
    assert_int_equal(m.len, 5000);
    sc_map_free(&m);
    sc_map_free(&x);
    sc_arena_free(a);
}

static void test_visible(void **state)
{
    (void)state;
    static const struct {
        smbcim_text_mode mode;
        const char *in, *out;
    } t[] = {
        {SMBCIM_TEXT_VISIBLE, "plain C:\\srv\\a Données 日本", "plain C:\\srv\\a Données 日本"},
        /* a backslash that could pass for an escape */
        {SMBCIM_TEXT_VISIBLE, "C:\\x1b \\u202e", "C:\\x5cx1b \\x5cu202e"},
        {SMBCIM_TEXT_VISIBLE, "a\nb\r\tc", "a\\x0ab\\x0d\\x09c"},
        {SMBCIM_TEXT_VISIBLE, "\x1b[31mred\x1b]0;title\x07", "\\x1b[31mred\\x1b]0;title\\x07"},
        {SMBCIM_TEXT_VISIBLE, "del\x7f", "del\\x7f"},
        {SMBCIM_TEXT_VISIBLE, "\xc2\x9b" "2J", "\\u009b2J"},                 /* C1 CSI */
        {SMBCIM_TEXT_VISIBLE, "abc\xe2\x80\xaetxt.exe", "abc\\u202etxt.exe"}, /* RLO */
        {SMBCIM_TEXT_VISIBLE, "\xe2\x81\xa6x\xe2\x80\x8f\xe2\x80\xa8", "\\u2066x\\u200f\\u2028"},
        {SMBCIM_TEXT_VISIBLE, "bad\xff\xc3", "bad\\xff\\xc3"},               /* not UTF-8 */
        {SMBCIM_TEXT_VISIBLE, "\xc0\x8a\xed\xa0\x80", "\\xc0\\x8a\\xed\\xa0\\x80"}, /* overlong, surrogate */
        {SMBCIM_TEXT_VISIBLE, "", ""},
        {SMBCIM_TEXT_CSV, "a\r\nb\tc\x1b", "a\r\nb\tc\\x1b"},
        {SMBCIM_TEXT_MOF, "say \"hi\"\n\\ \x1b\xe2\x80\xae\xff", "say \\\"hi\\\"\\n\\\\ \\x001B\\x202E\\xFFFD"},
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        char *e = smbcim_escape_text(t[i].in, t[i].mode);
        if (strcmp(e, t[i].out) != 0)
            fail_msg("%zu: got '%s', want '%s'", i, e, t[i].out);
        free(e);
    }
    /* an embedded NUL is shown too, when the length says it is there */
    sc_buf b;
    sc_buf_init(&b);
    sc_buf_put_escaped(&b, "a\0b", 3, SMBCIM_TEXT_VISIBLE);
    assert_string_equal(b.data, "a\\x00b");
    sc_buf_free(&b);
    char *e = smbcim_escape_text(NULL, SMBCIM_TEXT_VISIBLE);
    assert_string_equal(e, "");
    free(e);
}

static void test_arena_and_buf(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    char *big = sc_alloc(a, 1 << 20); /* a block of its own */
    big[(1 << 20) - 1] = 'x';
    for (int i = 0; i < 10000; i++) {
        int *p = sc_alloc(a, sizeof(int) * 3);
        assert_true(((uintptr_t)p & 15) == 0);
        assert_int_equal(p[0] + p[1] + p[2], 0); /* zeroed */
    }
    assert_string_equal(sc_strndup(a, "abcdef", 3), "abc");
    assert_string_equal(sc_sprintf(a, "%s-%d", "x", 42), "x-42");
    assert_true(sc_arena_bytes(a) >= (1 << 20));
    sc_arena_free(a);
    sc_arena_free(NULL);

    sc_buf b;
    sc_buf_init(&b);
    for (int i = 0; i < 1000; i++)
        sc_buf_printf(&b, "%d,", i);
    assert_int_equal(b.len, strlen(b.data));
    sc_buf_putc(&b, '!');
    char *s = sc_buf_take(&b);
    assert_int_equal(s[strlen(s) - 1], '!');
    assert_null(b.data);
    free(s);
    s = sc_buf_take(&b);
    assert_string_equal(s, "");
    free(s);
}

/* Blocks moved from one arena into another outlive the first: they are
 * freed with the second (ASan/valgrind see a leak or a use after free
 * otherwise), and the second keeps carving from its own current block. */
static void test_arena_adopt(void **state)
{
    (void)state;
    sc_arena *a = sc_arena_new();
    sc_arena *b = sc_arena_new();
    char *in_a = sc_strdup(a, "kept");
    char *in_b[300];
    for (int i = 0; i < 300; i++) /* several blocks of b's, one big one */
        in_b[i] = sc_sprintf(b, "%0*d", i == 7 ? 100000 : 200, i);
    size_t bytes = sc_arena_bytes(a) + sc_arena_bytes(b);
    sc_arena_adopt(a, b); /* b is gone */
    sc_arena_adopt(a, NULL);
    assert_int_equal(sc_arena_bytes(a), bytes);
    char *after = sc_strdup(a, "after");
    assert_string_equal(in_a, "kept");
    assert_string_equal(after, "after");
    for (int i = 0; i < 300; i++)
        assert_int_equal(atoi(in_b[i]), i);
    sc_arena_free(a);

    sc_arena *empty = sc_arena_new(); /* into an arena with no block yet */
    sc_arena *c = sc_arena_new();
    char *x = sc_strdup(c, "x");
    sc_arena_adopt(empty, c);
    assert_string_equal(x, "x");
    assert_string_equal(sc_strdup(empty, "y"), "y");
    sc_arena_free(empty);
}

static void test_vec_append(void **state)
{
    (void)state;
    int n[40];
    sc_vec v = {0}, w = {0};
    for (int i = 0; i < 20; i++)
        sc_vec_push(&w, &n[i]);
    sc_vec_append(&v, &w); /* into an empty vector: taken whole */
    assert_int_equal(v.len, 20);
    assert_int_equal(w.len, 0);
    for (int i = 20; i < 40; i++)
        sc_vec_push(&w, &n[i]);
    sc_vec_append(&v, &w);
    assert_int_equal(v.len, 40);
    assert_int_equal(w.len, 0);
    for (int i = 0; i < 40; i++)
        assert_ptr_equal(v.items[i], &n[i]);
    sc_vec_append(&v, &w); /* nothing to move */
    assert_int_equal(v.len, 40);
    sc_vec_free(&v);
    sc_vec_free(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_fold),
        cmocka_unit_test(test_map),
        cmocka_unit_test(test_arena_and_buf),
        cmocka_unit_test(test_arena_adopt),
        cmocka_unit_test(test_vec_append),
        cmocka_unit_test(test_visible),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
