/*
 * test_srvd_metrics.c - smbcimd's Prometheus metrics without the network:
 * content negotiation, label escaping (hostile share names, invalid UTF-8),
 * the text 0.0.4 and OpenMetrics spellings of each kind of family, the
 * started/ended diff of successive reads, the views (admin or not,
 * per-user), and srv_metrics_answer over the fs01 and hostile snapshots
 * (per-share figures, /healthz, the counters across a change of state).
 */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "smbcimd/metrics_int.h"
#include "smbcimd/smbcimd.h"

static const char *srcdir(void)
{
    const char *d = getenv("SMBCIM_SRCDIR");
    return d ? d : ".";
}

/* ---- negotiation ---------------------------------------------------------- */

static srvm_format neg(const char *accept, const char **ct)
{
    return srvm_negotiate(accept, ct);
}

static void test_negotiate(void **state)
{
    (void)state;
    const char *ct;
    assert_int_equal(neg(NULL, &ct), SRVM_TEXT);
    assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(neg("", &ct), SRVM_TEXT);
    /* what Prometheus 2.x sends */
    assert_int_equal(neg("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                         "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1", &ct),
                     SRVM_OPENMETRICS);
    assert_string_equal(ct, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    /* older Prometheus: 0.0.1 only */
    assert_int_equal(neg("application/openmetrics-text; version=0.0.1,text/plain;version=0.0.4;"
                         "q=0.5,*/*;q=0.1", &ct), SRVM_OPENMETRICS);
    assert_string_equal(ct, "application/openmetrics-text; version=0.0.1; charset=utf-8");
    assert_int_equal(neg("application/openmetrics-text", &ct), SRVM_OPENMETRICS);
    assert_string_equal(ct, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    assert_int_equal(neg(" Application/OpenMetrics-Text ; Version=1.0.0 ; q=0.9", &ct),
                     SRVM_OPENMETRICS);
    /* text asked for, or preferred */
    assert_int_equal(neg("text/plain;version=0.0.4", &ct), SRVM_TEXT);
    assert_int_equal(neg("text/plain;q=0.6,application/openmetrics-text;q=0.5", &ct), SRVM_TEXT);
    assert_int_equal(neg("text/plain;q=0.5,application/openmetrics-text;q=0.6", &ct),
                     SRVM_OPENMETRICS);
    /* ties: the first listed */
    assert_int_equal(neg("application/openmetrics-text,text/plain", &ct), SRVM_OPENMETRICS);
    assert_int_equal(neg("text/plain,application/openmetrics-text", &ct), SRVM_TEXT);
    assert_int_equal(neg("*/*,application/openmetrics-text", &ct), SRVM_TEXT);
    /* q=0 is "not acceptable"; unknown versions and types fall back to text */
    assert_int_equal(neg("application/openmetrics-text;q=0,text/plain", &ct), SRVM_TEXT);
    assert_int_equal(neg("application/openmetrics-text;version=2.0.0", &ct), SRVM_TEXT);
    assert_int_equal(neg("application/json", &ct), SRVM_TEXT);
    assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
    assert_int_equal(neg("application/openmetrics-text;q=abc", &ct), SRVM_TEXT);
    assert_int_equal(neg(",,;;,=;q=,", &ct), SRVM_TEXT);
}

/* ---- escaping ----------------------------------------------------------------- */

static char *label(const char *s)
{
    sc_buf b;
    sc_buf_init(&b);
    srvm_put_label_value(&b, s);
    sc_buf_putc(&b, '\0');
    return sc_buf_take(&b);
}

static void expect_label(const char *in, const char *want)
{
    char *got = label(in);
    assert_string_equal(got, want);
    free(got);
}

static void test_escape(void **state)
{
    (void)state;
    expect_label("Projects", "Projects");
    expect_label("", "");
    expect_label("back\\slash", "back\\\\slash");
    expect_label("quote\"q", "quote\\\"q");
    expect_label("two\nlines", "two\\nlines");
    expect_label("\\\"\n", "\\\\\\\"\\n");
    /* other controls and bidi stay: valid UTF-8, allowed in a label value */
    expect_label("red\x1b[31mALERT\x1b[0m", "red\x1b[31mALERT\x1b[0m");
    expect_label("report\xe2\x80\xaetxt.exe", "report\xe2\x80\xaetxt.exe");
    expect_label("Donn\xc3\xa9" "es", "Donn\xc3\xa9" "es");
    expect_label("\xf0\x9f\x98\x80", "\xf0\x9f\x98\x80");
    /* invalid UTF-8: each bad byte U+FFFD, so that Prometheus takes the scrape */
    expect_label("a\xff" "b", "a\xef\xbf\xbd" "b");
    expect_label("\xc0\xaf", "\xef\xbf\xbd\xef\xbf\xbd");           /* overlong '/' */
    expect_label("\xed\xa0\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd"); /* surrogate */
    expect_label("\xf4\x90\x80\x80", "\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd");
    expect_label("x\xe2\x82", "x\xef\xbf\xbd\xef\xbf\xbd");          /* cut short */
    expect_label("\xe9\"", "\xef\xbf\xbd\\\"");
    /* put_utf8 repairs without escaping */
    sc_buf b;
    sc_buf_init(&b);
    srvm_put_utf8(&b, "q\"\\\n\x80");
    sc_buf_putc(&b, '\0');
    assert_string_equal(b.data, "q\"\\\n\xef\xbf\xbd");
    sc_buf_free(&b);
}

/* ---- families and samples --------------------------------------------------------- */

static void test_families(void **state)
{
    (void)state;
    sc_buf b;
    sc_buf_init(&b);
    srvm_family(&b, SRVM_TEXT, "x_things", SRVM_COUNTER, "seconds", "Things.");
    srvm_sample_u64(&b, "x_things", SRVM_COUNTER, NULL, 0, 42);
    sc_buf_putc(&b, '\0');
    assert_string_equal(b.data, "# HELP x_things_total Things.\n# TYPE x_things_total counter\n"
                                "x_things_total 42\n");
    sc_buf_reset(&b);
    srvm_family(&b, SRVM_OPENMETRICS, "x_things", SRVM_COUNTER, NULL, "Things.");
    srvm_sample_u64(&b, "x_things", SRVM_COUNTER, NULL, 0, 42);
    sc_buf_putc(&b, '\0');
    assert_string_equal(b.data, "# HELP x_things Things.\n# TYPE x_things counter\n"
                                "x_things_total 42\n");
    sc_buf_reset(&b);
    const char *labels[] = {"version", "1.2\"3"};
    srvm_family(&b, SRVM_TEXT, "x_build", SRVM_INFO, NULL, "Build.");
    srvm_sample_u64(&b, "x_build", SRVM_INFO, labels, 1, 1);
    srvm_family(&b, SRVM_OPENMETRICS, "x_build", SRVM_INFO, NULL, "Build.");
    sc_buf_putc(&b, '\0');
    assert_string_equal(b.data, "# HELP x_build_info Build.\n# TYPE x_build_info gauge\n"
                                "x_build_info{version=\"1.2\\\"3\"} 1\n"
                                "# HELP x_build Build.\n# TYPE x_build info\n");
    sc_buf_reset(&b);
    srvm_family(&b, SRVM_OPENMETRICS, "x_age_seconds", SRVM_GAUGE, "seconds", "Age.");
    srvm_family(&b, SRVM_TEXT, "x_age_seconds", SRVM_GAUGE, "seconds", "Age.");
    const char *two[] = {"share", "a\nb", "user", "\\"};
    srvm_sample_f64(&b, "x_age_seconds", SRVM_GAUGE, two, 2, 1.5);
    srvm_sample_f64(&b, "x_age_seconds", SRVM_GAUGE, NULL, 0, NAN);
    srvm_sample_f64(&b, "x_age_seconds", SRVM_GAUGE, NULL, 0, -INFINITY);
    sc_buf_putc(&b, '\0');
    assert_string_equal(b.data, "# HELP x_age_seconds Age.\n# TYPE x_age_seconds gauge\n"
                                "# UNIT x_age_seconds seconds\n"
                                "# HELP x_age_seconds Age.\n# TYPE x_age_seconds gauge\n"
                                "x_age_seconds{share=\"a\\nb\",user=\"\\\\\"} 1.500000\n"
                                "x_age_seconds NaN\nx_age_seconds -Inf\n");
    sc_buf_free(&b);
}

/* ---- successive reads ------------------------------------------------------------- */

static void test_diff(void **state)
{
    (void)state;
    const char *keys[] = {"c", "a", "b", "a", "c", "d"};
    assert_int_equal(srvm_sort_keys(keys, 6), 4);
    assert_string_equal(keys[0], "a");
    assert_string_equal(keys[1], "b");
    assert_string_equal(keys[2], "c");
    assert_string_equal(keys[3], "d");
    assert_int_equal(srvm_sort_keys(keys, 0), 0);

    uint64_t st = 0, en = 0;
    srvm_diff(NULL, 0, NULL, 0, &st, &en);
    assert_true(st == 0 && en == 0);
    const char *prev[] = {"a", "b", "c", "d"};
    const char *cur[] = {"b", "d", "e", "f", "g"};
    srvm_diff(prev, 4, cur, 5, &st, &en);
    assert_int_equal(st, 3); /* e f g */
    assert_int_equal(en, 2); /* a c */
    srvm_diff(prev, 4, prev, 4, &st, &en); /* the same state: nothing */
    assert_int_equal(st, 3);
    assert_int_equal(en, 2);
    srvm_diff(NULL, 0, cur, 5, &st, &en);
    assert_int_equal(st, 8);
    srvm_diff(cur, 5, NULL, 0, &st, &en);
    assert_int_equal(en, 7);
    /* disjoint, interleaved */
    const char *x[] = {"a", "c", "e"}, *y[] = {"b", "d", "f", "h"};
    st = en = 0;
    srvm_diff(x, 3, y, 4, &st, &en);
    assert_int_equal(st, 4);
    assert_int_equal(en, 3);
    /* a large one stays linear after the sort: 20,000 keys, half replaced */
    enum { N = 20000 };
    char(*buf)[16] = malloc(2 * N * sizeof *buf);
    const char **p = malloc(N * sizeof *p), **c = malloc(N * sizeof *c);
    for (int i = 0; i < N; i++) {
        snprintf(buf[i], 16, "k%07d", i);
        snprintf(buf[N + i], 16, "k%07d", i % 2 ? i : N + i);
        p[i] = buf[i];
        c[i] = buf[N + i];
    }
    assert_int_equal(srvm_sort_keys(p, N), N);
    assert_int_equal(srvm_sort_keys(c, N), N);
    st = en = 0;
    srvm_diff(p, N, c, N, &st, &en);
    assert_int_equal(st, N / 2);
    assert_int_equal(en, N / 2);
    free(buf);
    free(p);
    free(c);
}

/* ---- one state rendered ------------------------------------------------------------ */

static char *render(const srvm_state *st, srvm_format f, bool full, bool per_user)
{
    sc_buf b;
    sc_buf_init(&b);
    srvm_render_state(&b, f, st, full, per_user);
    sc_buf_putc(&b, '\0');
    return sc_buf_take(&b);
}

static void test_render_state(void **state)
{
    (void)state;
    srvm_share shares[] = {
        {"Projects", true, 2, 3, 2, 5},
        {"quote\"q", true, 1, 1, 1, 0},
        {"dave", false, 1, 1, 1, 0}, /* a [homes] share in use: names a user */
    };
    srvm_user_conn uc[] = {{&shares[0], "alice", 1}, {&shares[0], "bob\nx", 1},
                           {&shares[1], "alice", 1}, {&shares[2], "dave", 1}};
    srvm_state st = {.ok = true, .source = "live", .route = "tdb", .shares = shares,
                     .nshares = 3, .user_conns = uc, .nuser_conns = 4, .listed_shares = 2,
                     .sessions = 3, .connections = 4, .tree_connects = 5, .open_files = 6,
                     .users = 3, .oldest_session = 3600, .conns_started = 7, .conns_ended = 8,
                     .sessions_started = 9, .sessions_ended = 10, .read_seconds = 0.25};
    char *t = render(&st, SRVM_TEXT, true, true);
    assert_null(strstr(t, "smbcim_node_")); /* a single server: no node families */
    free(t);
    smbcim_node_load nodes[] = {{.node = 0, .sessions = 2, .tree_connects = 3, .open_files = 1},
                                {.node = 2, .sessions = 1, .tree_connects = 2, .open_files = 5}};
    st.nodes = nodes;
    st.nnodes = 2;
    t = render(&st, SRVM_TEXT, true, true);
    assert_non_null(strstr(t, "# TYPE smbcim_node_sessions gauge\n"
                              "smbcim_node_sessions{node=\"0\"} 2\n"
                              "smbcim_node_sessions{node=\"2\"} 1\n"));
    assert_non_null(strstr(t, "\nsmbcim_node_tree_connects{node=\"2\"} 2\n"));
    assert_non_null(strstr(t, "\nsmbcim_node_open_files{node=\"2\"} 5\n"));
    assert_non_null(strstr(t, "\nsmbcim_source_up 1\n"));
    assert_non_null(strstr(t, "# TYPE smbcim_source_info gauge\n"
                              "smbcim_source_info{source=\"live\",route=\"tdb\"} 1\n"));
    assert_non_null(strstr(t, "\nsmbcim_sessions 3\n"));
    assert_non_null(strstr(t, "\nsmbcim_connections 4\n"));
    assert_non_null(strstr(t, "\nsmbcim_tree_connects 5\n"));
    assert_non_null(strstr(t, "\nsmbcim_open_files 6\n"));
    assert_non_null(strstr(t, "\nsmbcim_users 3\n"));
    assert_non_null(strstr(t, "\nsmbcim_shares 2\n"));
    assert_non_null(strstr(t, "\nsmbcim_oldest_session_age_seconds 3600.000000\n"));
    assert_non_null(strstr(t, "# TYPE smbcim_connections_started_total counter\n"
                              "smbcim_connections_started_total 7\n"));
    assert_non_null(strstr(t, "\nsmbcim_connections_ended_total 8\n"));
    assert_non_null(strstr(t, "\nsmbcim_sessions_started_total 9\n"));
    assert_non_null(strstr(t, "\nsmbcim_sessions_ended_total 10\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_connections{share=\"Projects\"} 2\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_tree_connects{share=\"Projects\"} 3\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_users{share=\"Projects\"} 2\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_open_files{share=\"Projects\"} 5\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_connections{share=\"quote\\\"q\"} 1\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_connections{share=\"dave\"} 1\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_user_connections{share=\"Projects\","
                              "user=\"bob\\nx\"} 1\n"));
    assert_non_null(strstr(t, "\nsmbcim_share_user_connections{share=\"dave\",user=\"dave\"} 1\n"));
    assert_null(strstr(t, "# EOF"));
    assert_null(strstr(t, "# UNIT"));
    /* no raw newline inside any sample line: every line is a comment or a sample */
    for (const char *l = t; *l; l = strchr(l, '\n') + 1)
        assert_true(l[0] == '#' || strncmp(l, "smbcim_", 7) == 0);
    free(t);

    /* a reader who is not an admin: no per-user series, no unlisted share */
    t = render(&st, SRVM_TEXT, false, true);
    assert_null(strstr(t, "smbcim_share_user_connections"));
    assert_null(strstr(t, "dave"));
    assert_non_null(strstr(t, "\nsmbcim_share_connections{share=\"Projects\"} 2\n"));
    assert_non_null(strstr(t, "\nsmbcim_connections 4\n")); /* totals keep everything */
    free(t);
    /* per-user off: none even for an admin */
    t = render(&st, SRVM_TEXT, true, false);
    assert_null(strstr(t, "smbcim_share_user_connections"));
    assert_non_null(strstr(t, "{share=\"dave\"}"));
    free(t);

    /* OpenMetrics: counters and infos named by family, units */
    t = render(&st, SRVM_OPENMETRICS, true, true);
    assert_non_null(strstr(t, "# TYPE smbcim_source info\n"
                              "smbcim_source_info{source=\"live\",route=\"tdb\"} 1\n"));
    assert_non_null(strstr(t, "# HELP smbcim_connections_started Connections"));
    assert_non_null(strstr(t, "# TYPE smbcim_connections_started counter\n"
                              "smbcim_connections_started_total 7\n"));
    assert_non_null(strstr(t, "# UNIT smbcim_oldest_session_age_seconds seconds\n"));
    assert_null(strstr(t, "# TYPE smbcim_connections_started_total"));
    free(t);

    /* the source down: up 0, the info, nothing else of the state */
    srvm_state down = {.ok = false, .why = "smbd is not running", .source = "live",
                       .route = "none"};
    t = render(&down, SRVM_TEXT, true, true);
    assert_non_null(strstr(t, "\nsmbcim_source_up 0\n"));
    assert_non_null(strstr(t, "route=\"none\""));
    assert_null(strstr(t, "smbcim_sessions"));
    assert_null(strstr(t, "smbcim_share_"));
    free(t);
}

/* ---- the whole thing over snapshots ---------------------------------------------------- */

typedef struct fx {
    srv_config cfg;
    srv *s;
    srv_metrics *m;
    char snap[64];
} fx;

static void copy_file(const char *from, const char *to)
{
    sc_buf b;
    sc_buf_init(&b);
    assert_true(sc_read_file(from, 1 << 20, &b));
    char tmp[80];
    snprintf(tmp, sizeof tmp, "%s.new", to);
    FILE *f = fopen(tmp, "w");
    assert_non_null(f);
    assert_int_equal(fwrite(b.data, 1, b.len, f), b.len);
    fclose(f);
    assert_int_equal(rename(tmp, to), 0); /* a new file: the state is read again */
    sc_buf_free(&b);
}

static int load(srv_config *c, int argc, const char **args)
{
    char path[] = "/tmp/smbcimd-mconf.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    char *argv[32] = {"smbcimd", "--config", path};
    int n = 3;
    for (int i = 0; i < argc; i++)
        argv[n++] = (char *)args[i];
    int rc = srv_config_load(c, n, argv);
    unlink(path);
    return rc;
}

static int setup(void **state)
{
    fx *f = calloc(1, sizeof *f);
    snprintf(f->snap, sizeof f->snap, "/tmp/smbcimd-msnap.XXXXXX");
    int fd = mkstemp(f->snap);
    assert_true(fd >= 0);
    close(fd);
    char fs01[512];
    snprintf(fs01, sizeof fs01, "%s/tests/fixtures/fs01.json", srcdir());
    copy_file(fs01, f->snap);
    const char *args[] = {"--https", "none", "--snapshot", f->snap, "--metrics",
                          "127.0.0.1:9979", "--metrics-per-user"};
    assert_int_equal(load(&f->cfg, 7, args), 0);
    /* no subscriptions of this machine's (indicate.c) */
    f->cfg.state_dir = "/nonexistent/smbcim-unit-test";
    f->s = srv_new(&f->cfg);
    f->m = srv_metrics_new(&f->cfg, f->s);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fx *f = *state;
    srv_metrics_free(f->m);
    srv_free(f->s);
    srv_config_free(&f->cfg);
    unlink(f->snap);
    free(f);
    return 0;
}

static char *answer(fx *f, const char *path, const char *accept, bool full, unsigned *status,
                    const char **ct)
{
    sc_buf b;
    sc_buf_init(&b);
    srv_metrics_answer(f->m, path, accept, full, status, ct, &b);
    sc_buf_putc(&b, '\0');
    return sc_buf_take(&b);
}

/* The value of the sample that starts with `line` ("name{...} "), or -1. */
static long long value_of(const char *text, const char *line)
{
    char pat[512];
    snprintf(pat, sizeof pat, "\n%s ", line);
    const char *p = strstr(text, pat);
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static void test_answer_fs01(void **state)
{
    fx *f = *state;
    unsigned st;
    const char *ct;
    char *t = answer(f, "/metrics", NULL, true, &st, &ct);
    assert_int_equal(st, 200);
    assert_string_equal(ct, "text/plain; version=0.0.4; charset=utf-8");
    /* the smbcim CLI over fs01: 8 connections, 5 sessions, Projects 2 tree
     * connects and 3 files, Données (UTF-8) 1 */
    assert_int_equal(value_of(t, "smbcim_connections"), 8);
    assert_int_equal(value_of(t, "smbcim_sessions"), 5);
    assert_int_equal(value_of(t, "smbcim_share_connections{share=\"Projects\"}"), 1);
    assert_int_equal(value_of(t, "smbcim_share_tree_connects{share=\"Projects\"}"), 2);
    assert_int_equal(value_of(t, "smbcim_share_open_files{share=\"Projects\"}"), 3);
    assert_int_equal(value_of(t, "smbcim_share_connections{share=\"Donn\xc3\xa9" "es\"}"), 1);
    assert_int_equal(value_of(t, "smbcim_share_connections{share=\"scratch\"}"), 0);
    assert_int_equal(value_of(t, "smbcim_share_connections{share=\"dave\"}"), 1);
    assert_int_equal(value_of(t, "smbcim_source_up"), 1);
    /* fs01's six Samba sessions: three 3.1.1, one each of 3.0.2, 2.1 and SMB1 */
    assert_int_equal(value_of(t, "smbcim_dialect_sessions{dialect=\"3.1.1\"}"), 3);
    assert_int_equal(value_of(t, "smbcim_dialect_sessions{dialect=\"3.0.2\"}"), 1);
    assert_int_equal(value_of(t, "smbcim_dialect_sessions{dialect=\"2.1\"}"), 1);
    assert_int_equal(value_of(t, "smbcim_dialect_sessions{dialect=\"1.5\"}"), 1);
    assert_null(strstr(t, "smbcim_node_")); /* not a cluster */
    assert_non_null(strstr(t, "smbcim_source_info{source=\"snapshot\",route=\"snapshot\"} 1"));
    assert_non_null(strstr(t, "smbcim_build_info{version=\""));
    assert_int_equal(value_of(t, "smbcim_connections_started_total"), 0); /* the baseline */
    assert_non_null(strstr(t, "smbcim_share_user_connections{share=\"Projects\""));
    free(t);
    /* a non-admin reader: the [homes] share "dave" and the per-user series are left out */
    t = answer(f, "/metrics", NULL, false, &st, &ct);
    assert_null(strstr(t, "share=\"dave\""));
    assert_null(strstr(t, "smbcim_share_user_connections"));
    assert_int_equal(value_of(t, "smbcim_connections"), 8);
    free(t);
    /* OpenMetrics when asked, ending with # EOF */
    t = answer(f, "/metrics", "application/openmetrics-text; version=1.0.0", true, &st, &ct);
    assert_string_equal(ct, "application/openmetrics-text; version=1.0.0; charset=utf-8");
    size_t n = strlen(t);
    assert_true(n > 6 && strcmp(t + n - 6, "# EOF\n") == 0);
    assert_non_null(strstr(t, "# TYPE smbcim_requests counter\n"));
    free(t);
    t = answer(f, "/healthz", NULL, true, &st, &ct);
    assert_int_equal(st, 200);
    assert_string_equal(t, "ok\n");
    free(t);
    t = answer(f, "/other", NULL, true, &st, &ct);
    assert_int_equal(st, 404);
    free(t);
}

static void test_answer_changes(void **state)
{
    fx *f = *state;
    unsigned st;
    const char *ct;
    free(answer(f, "/metrics", NULL, true, &st, &ct)); /* baseline: fs01 */
    /* the same state again: the same figures (and the cached text) */
    char *a = answer(f, "/metrics", NULL, true, &st, &ct);
    char *b = answer(f, "/metrics", NULL, true, &st, &ct);
    char *cut_a = strstr(a, "# HELP smbcim_requests"), *cut_b = strstr(b, "# HELP smbcim_requests");
    assert_non_null(cut_a);
    assert_non_null(cut_b);
    *cut_a = *cut_b = '\0';
    /* the read duration is the same number: the state was not read again */
    assert_string_equal(a, b);
    free(a);
    free(b);
    /* now the hostile server: every fs01 connection (8) and session (5)
     * ended, its 11 connections and 1 session started */
    char hostile[512];
    snprintf(hostile, sizeof hostile, "%s/tests/fixtures/hostile.json", srcdir());
    copy_file(hostile, f->snap);
    char *t = answer(f, "/metrics", NULL, true, &st, &ct);
    assert_int_equal(value_of(t, "smbcim_connections_ended_total"), 8);
    assert_int_equal(value_of(t, "smbcim_connections_started_total"), 11);
    assert_int_equal(value_of(t, "smbcim_sessions_ended_total"), 5);
    assert_int_equal(value_of(t, "smbcim_sessions_started_total"), 1);
    assert_int_equal(value_of(t, "smbcim_connections"), 11);
    /* hostile names, escaped */
    assert_int_equal(value_of(t, "smbcim_share_connections{share=\"back\\\\slash\"}"), 1);
    assert_int_equal(value_of(t, "smbcim_share_connections{share=\"quote\\\"q\"}"), 1);
    assert_non_null(strstr(t, "user=\"evil\x1b]0;owned\a\\nName=x\"} 1\n"));
    for (const char *l = t; *l; l = strchr(l, '\n') + 1)
        assert_true(l[0] == '#' || strncmp(l, "smbcim_", 7) == 0);
    free(t);
    /* and back: the counters only grow */
    char fs01[512];
    snprintf(fs01, sizeof fs01, "%s/tests/fixtures/fs01.json", srcdir());
    copy_file(fs01, f->snap);
    t = answer(f, "/metrics", NULL, true, &st, &ct);
    assert_int_equal(value_of(t, "smbcim_connections_ended_total"), 19);
    assert_int_equal(value_of(t, "smbcim_connections_started_total"), 19);
    free(t);
    /* the file gone bad: up 0, /healthz 503 with one line; the counters stay */
    FILE *fp = fopen(f->snap, "w");
    fputs("{\"smbcim_snapshot\": 1, \"oops\n", fp);
    fclose(fp);
    t = answer(f, "/healthz", NULL, true, &st, &ct);
    assert_int_equal(st, 503);
    assert_non_null(strstr(t, "cannot be read"));
    assert_ptr_equal(strchr(t, '\n'), t + strlen(t) - 1);
    free(t);
    t = answer(f, "/metrics", NULL, true, &st, &ct);
    assert_int_equal(st, 200);
    assert_int_equal(value_of(t, "smbcim_source_up"), 0);
    assert_null(strstr(t, "smbcim_share_connections{"));
    free(t);
    copy_file(hostile, f->snap);
    t = answer(f, "/metrics", NULL, true, &st, &ct);
    assert_int_equal(value_of(t, "smbcim_source_up"), 1);
    assert_int_equal(value_of(t, "smbcim_connections_started_total"), 30); /* 19 + 11 */
    free(t);
}

static void test_counters(void **state)
{
    fx *f = *state;
    assert_string_equal(srv_metrics_cim_status(0), "OK");
    assert_string_equal(srv_metrics_cim_status(6), "CIM_ERR_NOT_FOUND");
    assert_string_equal(srv_metrics_cim_status(27), "CIM_ERR_SERVER_LIMITS_EXCEEDED");
    assert_string_equal(srv_metrics_cim_status(999), "CIM_ERR_OTHER");
    assert_string_equal(srv_metrics_cim_status(-1), "CIM_ERR_OTHER");
    /* through dispatch: one answered request, one refused */
    static const srv_identity root = {.user = "root", .admin = true};
    const char *req =
        "<?xml version=\"1.0\" encoding=\"utf-8\" ?><CIM CIMVERSION=\"2.0\" DTDVERSION=\"2.0\">"
        "<MESSAGE ID=\"9\" PROTOCOLVERSION=\"1.0\"><SIMPLEREQ><IMETHODCALL NAME=\"GetInstance\">"
        "<LOCALNAMESPACEPATH><NAMESPACE NAME=\"root\"/><NAMESPACE NAME=\"cimv2\"/>"
        "</LOCALNAMESPACEPATH><IPARAMVALUE NAME=\"InstanceName\"><INSTANCENAME "
        "CLASSNAME=\"Win32_Share\"><KEYBINDING NAME=\"Name\"><KEYVALUE>nope</KEYVALUE>"
        "</KEYBINDING></INSTANCENAME></IPARAMVALUE></IMETHODCALL></SIMPLEREQ></MESSAGE></CIM>";
    srv_response r;
    srv_handle(f->s, &root, "GetInstance", "root/cimv2", req, strlen(req), &r);
    sc_buf_free(&r.body);
    srv_handle(f->s, &root, "GetInstance", "root/cimv2", "<CIM", 4, &r);
    sc_buf_free(&r.body);
    srv_metrics_login_failed();
    srv_metrics_login_failed();
    unsigned st;
    const char *ct;
    char *t = answer(f, "/metrics", NULL, true, &st, &ct);
    assert_true(value_of(t, "smbcim_requests_total{operation=\"GetInstance\","
                            "status=\"CIM_ERR_NOT_FOUND\"}") >= 1);
    assert_true(value_of(t, "smbcim_requests_total{operation=\"other\",status=\"HTTP_400\"}") >=
                1);
    assert_true(value_of(t, "smbcim_login_failures_total") >= 2);
    assert_int_equal(value_of(t, "smbcim_open_enumerations"), 0);
    free(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate),
        cmocka_unit_test(test_escape),
        cmocka_unit_test(test_families),
        cmocka_unit_test(test_diff),
        cmocka_unit_test(test_render_state),
        cmocka_unit_test_setup_teardown(test_answer_fs01, setup, teardown),
        cmocka_unit_test_setup_teardown(test_answer_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_counters, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
