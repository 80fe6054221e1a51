/*
 * test_srvd_ops.c - smbcimd's login budgets and its operator's side,
 * without the network: throttle.c driven by a fake clock (the per-address
 * delay, the per-user lockout, the global budget and who passes it), the
 * helper pool, the queue, coalesced checks, the failure time and the login
 * cache of auth.c against a fake PAM helper (this program, run as
 * "smbcimd-auth"), the new settings and a reload (config.c), the checks
 * before starting, the pid file and srv_tls_check (daemon.c, http.c).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <syslog.h>
#include <unistd.h>
#include <cmocka.h>

#include "smbcimd/smbcimd.h"

/* ---- the fake PAM helper ---------------------------------------------------- */

/* The protocol of src/smbcimd-auth: u32 length, "service\0user\0password\0
 * rhost\0"; answer u32 length, "0" or "1" and a message.  The service
 * "sleep:MS" makes it take MS milliseconds; a password starting with
 * "good" is accepted. */
static int fake_helper(void)
{
    for (;;) {
        unsigned char lb[4];
        if (fread(lb, 1, 4, stdin) != 4)
            return 0;
        size_t len = (size_t)lb[0] | (size_t)lb[1] << 8 | (size_t)lb[2] << 16 |
                     (size_t)lb[3] << 24;
        char req[4096];
        if (len == 0 || len >= sizeof req || fread(req, 1, len, stdin) != len)
            return 2;
        req[len] = '\0';
        const char *service = req;
        const char *user = service + strlen(service) + 1;
        const char *pass = user + strlen(user) + 1;
        if (strncmp(service, "sleep:", 6) == 0)
            usleep((useconds_t)atoi(service + 6) * 1000);
        bool ok = strncmp(pass, "good", 4) == 0;
        const char *msg = ok ? "0" : "1Authentication failure";
        size_t n = strlen(msg);
        unsigned char out[4] = {(unsigned char)n, 0, 0, 0};
        fwrite(out, 1, 4, stdout);
        fwrite(msg, 1, n, stdout);
        fflush(stdout);
    }
}

/* ---- throttle.c --------------------------------------------------------------- */

static srv_config thr_cfg(void)
{
    srv_config c;
    memset(&c, 0, sizeof c);
    c.auth_rate = 0;
    c.auth_burst = 0;
    c.user_lockout_failures = 5;
    c.user_lockout_window = 300;
    c.user_lockout_seconds = 300;
    return c;
}

static void test_peer_delay(void **state)
{
    (void)state;
    srv_config c = thr_cfg();
    srv_throttle *t = srv_throttle_new(&c);
    srv_admit_info i;
    assert_int_equal(srv_throttle_admit(t, "bob", "10.0.0.1", 100, &i), SRV_ADMIT_OK);
    assert_true(i.clean);
    /* the delay doubles: 0.5, 1, 2, 4, 8, 8 */
    double want[] = {0.5, 1, 2, 4, 8, 8};
    double now = 100;
    for (int k = 0; k < 6; k++) {
        double d = srv_throttle_failure(t, NULL, "10.0.0.1", now, &i);
        srv_throttle_checked(t, "10.0.0.1");
        assert_true(d > want[k] - 1e-9 && d < want[k] + 1e-9);
        /* meanwhile that address gets no PAM check: 503 at once */
        assert_int_equal(srv_throttle_admit(t, "bob", "10.0.0.1", now + d / 2, &i),
                         SRV_ADMIT_PEER_WAIT);
        assert_true(i.retry > d / 2 - 1e-6 && i.retry < d / 2 + 1e-6);
        /* another address is not held up, and is still clean */
        assert_int_equal(srv_throttle_admit(t, "bob", "10.0.0.2", now + d / 2, &i),
                         SRV_ADMIT_OK);
        srv_throttle_checked(t, "10.0.0.2");
        assert_true(i.clean);
        now += d;
        assert_int_equal(srv_throttle_admit(t, "bob", "10.0.0.1", now + 0.001, &i),
                         SRV_ADMIT_OK);
        assert_false(i.clean);
    }
    /* refusals are worth a log line once per delay, not each */
    srv_throttle_failure(t, NULL, "10.0.0.1", now, &i);
    assert_int_equal(srv_throttle_admit(t, "x", "10.0.0.1", now + 1, &i), SRV_ADMIT_PEER_WAIT);
    assert_true(i.say);
    assert_int_equal(srv_throttle_admit(t, "x", "10.0.0.1", now + 2, &i), SRV_ADMIT_PEER_WAIT);
    assert_false(i.say);
    /* five quiet minutes forgive the address */
    assert_int_equal(srv_throttle_admit(t, "bob", "10.0.0.1", now + 301, &i), SRV_ADMIT_OK);
    assert_true(i.clean);
    double d = srv_throttle_failure(t, NULL, "10.0.0.1", now + 302, &i);
    assert_true(d > 0.49 && d < 0.51);
    srv_throttle_free(t);
}

static void test_user_lockout(void **state)
{
    (void)state;
    srv_config c = thr_cfg();
    srv_throttle *t = srv_throttle_new(&c);
    srv_admit_info i;
    double now = 1000;
    /* four failures from four addresses: not yet */
    for (int k = 0; k < 4; k++) {
        char peer[32];
        snprintf(peer, sizeof peer, "10.1.0.%d", k);
        assert_int_equal(srv_throttle_admit(t, "alice", peer, now, &i), SRV_ADMIT_OK);
        srv_throttle_failure(t, "alice", peer, now, &i);
        assert_false(i.locked);
        now += 10;
    }
    assert_int_equal(srv_throttle_admit(t, "alice", "10.1.1.1", now, &i), SRV_ADMIT_OK);
    assert_false(i.clean); /* the name has recent failures */
    srv_throttle_failure(t, "alice", "10.1.1.1", now, &i);
    assert_true(i.locked); /* the fifth locks it, said once */
    assert_int_equal(i.failures, 5);
    assert_true(i.retry > 299 && i.retry < 301);
    /* locked: from anywhere, whatever the password (not asked) */
    assert_int_equal(srv_throttle_admit(t, "alice", "192.168.9.9", now + 1, &i),
                     SRV_ADMIT_LOCKED);
    assert_true(i.retry > 298 && i.retry < 300);
    /* a failure while locked (the peer is counted) does not extend it */
    srv_throttle_failure(t, "alice", "192.168.9.9", now + 2, &i);
    assert_false(i.locked);
    /* a success meanwhile (a cached login) does not end it either */
    srv_throttle_success(t, "alice", "192.168.9.8", now + 3);
    assert_int_equal(srv_throttle_admit(t, "alice", "192.168.9.7", now + 299, &i),
                     SRV_ADMIT_LOCKED);
    /* after the lockout: a fresh window */
    assert_int_equal(srv_throttle_admit(t, "alice", "192.168.9.7", now + 301, &i), SRV_ADMIT_OK);
    srv_throttle_failure(t, "alice", "192.168.9.7", now + 301, &i);
    assert_false(i.locked);
    /* failures spread beyond the window do not add up */
    now += 400;
    for (int k = 0; k < 10; k++) {
        char peer[32];
        snprintf(peer, sizeof peer, "10.2.0.%d", k);
        srv_throttle_failure(t, "carol", peer, now + 100.0 * k, &i);
        assert_false(i.locked);
        srv_throttle_failure(t, "carol", peer, now + 100.0 * k + 1, &i);
        assert_false(i.locked);
        srv_throttle_success(t, "carol", peer, now + 100.0 * k + 2); /* clears the count */
    }
    /* user-lockout-failures 0: no lockout */
    c.user_lockout_failures = 0;
    for (int k = 0; k < 20; k++) {
        srv_throttle_failure(t, "dave", "10.3.0.1", now + k, &i);
        assert_false(i.locked);
    }
    assert_int_equal(srv_throttle_admit(t, "dave", "10.3.0.2", now + 30, &i), SRV_ADMIT_OK);
    srv_throttle_free(t);
}

static void test_budget(void **state)
{
    (void)state;
    srv_config c = thr_cfg();
    c.auth_rate = 2;
    c.auth_burst = 3;
    srv_throttle *t = srv_throttle_new(&c);
    srv_admit_info i;
    double now = 50;
    /* known: "mon" logged in from 10.9.0.1 */
    srv_throttle_success(t, "mon", "10.9.0.1", now);
    /* the burst */
    for (int k = 0; k < 3; k++) {
        char peer[32], user[32];
        snprintf(peer, sizeof peer, "10.4.0.%d", k);
        snprintf(user, sizeof user, "spray%d", k);
        assert_int_equal(srv_throttle_admit(t, user, peer, now, &i), SRV_ADMIT_OK);
    }
    /* spent: a fresh address with a fresh name (spraying) gets 503 */
    assert_int_equal(srv_throttle_admit(t, "spray9", "10.4.0.9", now, &i), SRV_ADMIT_BUDGET);
    assert_true(i.retry > 0.4 && i.retry <= 0.5 + 1e-9);
    assert_true(i.say);
    assert_int_equal(srv_throttle_admit(t, "spray8", "10.4.0.8", now, &i), SRV_ADMIT_BUDGET);
    assert_false(i.say); /* logged at most every 10 s */
    /* a known user, or anyone from a known address, still goes through */
    assert_int_equal(srv_throttle_admit(t, "mon", "10.5.0.1", now, &i), SRV_ADMIT_OK);
    assert_int_equal(srv_throttle_admit(t, "newbie", "10.9.0.1", now, &i), SRV_ADMIT_OK);
    /* ... unless it has recent failures */
    srv_throttle_failure(t, "mon", "10.5.0.2", now, &i);
    assert_int_equal(srv_throttle_admit(t, "mon", "10.5.0.3", now + 0.1, &i), SRV_ADMIT_BUDGET);
    /* refilled at auth-rate: one token after 0.5 s */
    assert_int_equal(srv_throttle_admit(t, "spray7", "10.4.0.7", now + 0.5, &i), SRV_ADMIT_OK);
    assert_int_equal(srv_throttle_admit(t, "spray6", "10.4.0.6", now + 0.5, &i),
                     SRV_ADMIT_BUDGET);
    /* never more than the burst */
    int ok = 0;
    for (int k = 0; k < 10; k++) {
        char user[32];
        snprintf(user, sizeof user, "later%d", k);
        ok += srv_throttle_admit(t, user, "10.4.1.1", now + 1000, &i) == SRV_ADMIT_OK;
    }
    assert_int_equal(ok, 3);
    /* auth-rate 0: no budget */
    c.auth_rate = 0;
    for (int k = 0; k < 50; k++) {
        assert_int_equal(srv_throttle_admit(t, "x", "10.6.0.1", now + 1000, &i), SRV_ADMIT_OK);
        srv_throttle_checked(t, "10.6.0.1");
    }
    srv_throttle_free(t);
}

/* At most THR_PEER_CHECKS checks of one address at once: a burst of
 * connections from one address cannot spend the budget before its first
 * failure gives it a delay (the CI flake of 2026-11: a first login got
 * 503 while 64 connections from one address guessed). */
static void test_peer_busy(void **state)
{
    (void)state;
    srv_config c = thr_cfg();
    c.auth_rate = 5;
    c.auth_burst = 20;
    srv_throttle *t = srv_throttle_new(&c);
    srv_admit_info i;
    double now = 10;
    for (int k = 0; k < THR_PEER_CHECKS; k++) {
        char user[32];
        snprintf(user, sizeof user, "guess%d", k);
        assert_int_equal(srv_throttle_admit(t, user, "10.8.0.1", now, &i), SRV_ADMIT_OK);
    }
    assert_int_equal(srv_throttle_admit(t, "guess9", "10.8.0.1", now, &i), SRV_ADMIT_PEER_BUSY);
    assert_true(i.say && i.retry > 0.99 && i.retry < 1.01);
    for (int k = 0; k < 60; k++)
        assert_int_equal(srv_throttle_admit(t, "guess9", "10.8.0.1", now, &i),
                         SRV_ADMIT_PEER_BUSY);
    assert_false(i.say); /* logged at most every 10 s */
    /* the rest of the burst is left for others: a first login from
     * elsewhere, unknown and clean, goes through */
    for (int k = 0; k < 20 - THR_PEER_CHECKS; k++) {
        char peer[32];
        snprintf(peer, sizeof peer, "10.9.1.%d", k);
        assert_int_equal(srv_throttle_admit(t, "newbie", peer, now, &i), SRV_ADMIT_OK);
        srv_throttle_checked(t, peer);
    }
    /* the first failure is recorded before its check ends: the address's
     * next request finds the delay, not a free place */
    srv_throttle_failure(t, "guess0", "10.8.0.1", now + 0.1, &i);
    srv_throttle_checked(t, "10.8.0.1");
    assert_int_equal(srv_throttle_admit(t, "guess9", "10.8.0.1", now + 0.2, &i),
                     SRV_ADMIT_PEER_WAIT);
    /* ended checks free their places; another address was never affected */
    for (int k = 1; k < THR_PEER_CHECKS; k++)
        srv_throttle_checked(t, "10.8.0.1");
    srv_throttle_checked(t, "10.8.0.1"); /* one too many: harmless */
    assert_int_equal(srv_throttle_admit(t, "guess9", "10.8.0.1", now + 60, &i), SRV_ADMIT_OK);
    srv_throttle_checked(t, "10.8.0.1");
    srv_throttle_free(t);
}

static void test_tables_full(void **state)
{
    (void)state;
    srv_config c = thr_cfg();
    c.user_lockout_failures = 2;
    srv_throttle *t = srv_throttle_new(&c);
    srv_admit_info i;
    /* "victim" locked, then thousands of other names and addresses fail */
    srv_throttle_failure(t, "victim", "10.7.0.1", 10, &i);
    srv_throttle_failure(t, "victim", "10.7.0.1", 11, &i);
    assert_true(i.locked);
    for (int k = 0; k < 5000; k++) {
        char peer[32], user[32];
        snprintf(peer, sizeof peer, "10.8.%d.%d", k / 250, k % 250);
        snprintf(user, sizeof user, "u%d", k);
        srv_throttle_failure(t, user, peer, 12 + k * 0.001, &i);
    }
    /* the lockout survived the churn */
    assert_int_equal(srv_throttle_admit(t, "victim", "10.7.0.9", 20, &i), SRV_ADMIT_LOCKED);
    srv_throttle_free(t);
}

/* ---- auth.c with the fake helper ------------------------------------------------- */

static char self_path[4096];

typedef struct fx_auth {
    srv_config c;
    srv_auth *a;
} fx_auth;

static void auth_setup(fx_auth *f, unsigned helpers, unsigned queue, const char *service)
{
    memset(f, 0, sizeof *f);
    f->c.pam_service = service;
    f->c.admin_group = "";
    f->c.auth_timeout = 5;
    f->c.auth_cache_seconds = 60;
    f->c.auth_helpers = helpers;
    f->c.auth_queue = queue;
    f->c.auth_failure_ms = 200;
    f->c.user_lockout_failures = 3;
    f->c.user_lockout_window = 300;
    f->c.user_lockout_seconds = 300;
    f->a = srv_auth_new(&f->c);
    srv_auth_set_helper(f->a, self_path);
}

static char *basic(const char *user, const char *pass)
{
    static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    char in[512];
    snprintf(in, sizeof in, "%s:%s", user, pass);
    size_t n = strlen(in);
    char *out = malloc(16 + 4 * (n / 3 + 1));
    strcpy(out, "Basic ");
    char *o = out + 6;
    for (size_t i = 0; i < n; i += 3) {
        unsigned v = (unsigned char)in[i] << 16;
        if (i + 1 < n)
            v |= (unsigned char)in[i + 1] << 8;
        if (i + 2 < n)
            v |= (unsigned char)in[i + 2];
        *o++ = b64[v >> 18 & 63];
        *o++ = b64[v >> 12 & 63];
        *o++ = i + 1 < n ? b64[v >> 6 & 63] : '=';
        *o++ = i + 2 < n ? b64[v & 63] : '=';
    }
    *o = '\0';
    return out;
}

typedef struct job {
    srv_auth *a;
    const char *user, *pass, *peer;
    srv_auth_result r;
    double took;
    srv_identity who;
    unsigned retry;
} job;

static job mkjob(srv_auth *a, const char *user, const char *pass, const char *peer)
{
    return (job){.a = a, .user = user, .pass = pass, .peer = peer};
}

static void *run_job(void *arg)
{
    job *j = arg;
    char *h = basic(j->user, j->pass);
    double t0 = srv_now();
    j->r = srv_auth_check_retry(j->a, h, j->peer, &j->who, &j->retry);
    j->took = srv_now() - t0;
    free(h);
    return NULL;
}

static double run_jobs(job *jobs, int n)
{
    pthread_t th[32];
    double t0 = srv_now();
    for (int i = 0; i < n; i++)
        pthread_create(&th[i], NULL, run_job, &jobs[i]);
    for (int i = 0; i < n; i++)
        pthread_join(th[i], NULL);
    return srv_now() - t0;
}

static void test_pool(void **state)
{
    (void)state;
    fx_auth f;
    /* 4 helpers: 4 checks of 400 ms run side by side */
    auth_setup(&f, 4, 16, "sleep:400");
    job jobs[4];
    char pw[4][24];
    for (int i = 0; i < 4; i++) {
        snprintf(pw[i], sizeof pw[i], "good%d", i);
        jobs[i] = mkjob(f.a, "root", pw[i], "10.0.0.1");
    }
    double took = run_jobs(jobs, 4);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(jobs[i].r, SRV_AUTH_OK);
        assert_string_equal(jobs[i].who.user, "root");
        assert_true(jobs[i].who.admin); /* root is always an admin */
    }
    assert_true(took < 1.2); /* serially: 1.6 s */
    /* cached now: no helper asked */
    double t0 = srv_now();
    run_job(&jobs[0]);
    assert_int_equal(jobs[0].r, SRV_AUTH_OK);
    assert_true(srv_now() - t0 < 0.3);
    /* SIGHUP empties the cache: asked again */
    srv_auth_clear_cache(f.a);
    t0 = srv_now();
    run_job(&jobs[0]);
    assert_int_equal(jobs[0].r, SRV_AUTH_OK);
    assert_true(srv_now() - t0 >= 0.35);
    srv_auth_free(f.a);
}

static void test_queue_full(void **state)
{
    (void)state;
    fx_auth f;
    /* one helper, two places in the queue: of 6 at once, 3 are checked
     * and 3 refused at once with a Retry-After */
    auth_setup(&f, 1, 2, "sleep:300");
    job jobs[6];
    char pw[6][24], peer[6][24];
    for (int i = 0; i < 6; i++) {
        snprintf(pw[i], sizeof pw[i], "good%d", i);
        snprintf(peer[i], sizeof peer[i], "10.0.1.%d", i);
        jobs[i] = mkjob(f.a, "root", pw[i], peer[i]);
    }
    run_jobs(jobs, 6);
    int ok = 0, busy = 0;
    for (int i = 0; i < 6; i++) {
        if (jobs[i].r == SRV_AUTH_OK) {
            ok++;
        } else {
            assert_int_equal(jobs[i].r, SRV_AUTH_UNAVAILABLE);
            assert_true(jobs[i].took < 0.25); /* fast, not after the others */
            assert_true(jobs[i].retry >= 1);
            busy++;
        }
    }
    assert_int_equal(ok, 3);
    assert_int_equal(busy, 3);
    srv_auth_free(f.a);
}

static void test_coalesced(void **state)
{
    (void)state;
    fx_auth f;
    /* many keep-alive clients of one user when its cache entry is gone:
     * one question to PAM, not eight (one helper, 300 ms each) */
    auth_setup(&f, 1, 2, "sleep:300");
    job jobs[8];
    for (int i = 0; i < 8; i++)
        jobs[i] = mkjob(f.a, "root", "good-same", "10.0.2.1");
    double took = run_jobs(jobs, 8);
    for (int i = 0; i < 8; i++)
        assert_int_equal(jobs[i].r, SRV_AUTH_OK);
    assert_true(took < 1.0); /* one after the other: 2.4 s, or 503s */
    srv_auth_free(f.a);
}

/* A login whose cache entry expired is cached again when PAM accepts it
 * anew (it once kept its old expiry: from then on every request asked PAM,
 * found by bench/server.py as 503s under load). */
static void test_cache_renewed(void **state)
{
    (void)state;
    fx_auth f;
    auth_setup(&f, 1, 4, "sleep:200");
    f.c.auth_cache_seconds = 1;
    job j[4];
    for (int i = 0; i < 4; i++)
        j[i] = mkjob(f.a, "root", "good-renew", "10.0.2.9");
    run_job(&j[0]); /* PAM */
    run_job(&j[1]); /* cached */
    usleep(1300 * 1000);
    run_job(&j[2]); /* expired: PAM again */
    run_job(&j[3]); /* cached again */
    for (int i = 0; i < 4; i++)
        assert_int_equal(j[i].r, SRV_AUTH_OK);
    assert_true(j[0].took >= 0.19);
    assert_true(j[1].took < 0.1);
    assert_true(j[2].took >= 0.19);
    if (j[3].took >= 0.1)
        fail_msg("the renewed login was not cached: %.3f s", j[3].took);
    srv_auth_free(f.a);
}

static void test_failures(void **state)
{
    (void)state;
    fx_auth f;
    auth_setup(&f, 2, 8, "sleep:0");
    /* a failure takes auth-failure-ms (200) from the start, then the
     * address's delay (0.5 s): whether or not the name exists */
    job j = mkjob(f.a, "no-such-user-xyz", "bad", "10.0.3.1");
    run_job(&j);
    assert_int_equal(j.r, SRV_AUTH_FAILED);
    assert_true(j.took >= 0.69 && j.took < 1.5);
    job k = mkjob(f.a, "root", "bad", "10.0.3.2");
    run_job(&k);
    assert_int_equal(k.r, SRV_AUTH_FAILED);
    assert_true(k.took >= 0.69 && k.took < 1.5);
    /* the same address again while the failing connection sleeps its
     * delay: 503 at once, without asking (not a guess) */
    job k2 = mkjob(f.a, "root", "bad2", "10.0.3.9");
    pthread_t th;
    pthread_create(&th, NULL, run_job, &k2);
    usleep(400 * 1000); /* k2 failed (200 ms) and sleeps its 0.5 s */
    srv_identity who;
    char *h = basic("root", "another-guess");
    double t0 = srv_now();
    unsigned retry = 0;
    assert_int_equal(srv_auth_check_retry(f.a, h, "10.0.3.9", &who, &retry),
                     SRV_AUTH_UNAVAILABLE);
    assert_true(srv_now() - t0 < 0.1);
    assert_true(retry >= 1);
    free(h);
    pthread_join(th, NULL);
    assert_int_equal(k2.r, SRV_AUTH_FAILED);
    /* three failures lock "root" (user-lockout-failures 3 here): the right
     * password is refused too, without asking, in the failure's time */
    job l = mkjob(f.a, "root", "bad3", "10.0.3.3");
    run_job(&l);
    assert_int_equal(l.r, SRV_AUTH_FAILED);
    job w = mkjob(f.a, "root", "good", "10.0.3.4");
    run_job(&w);
    assert_int_equal(w.r, SRV_AUTH_FAILED);
    assert_true(w.took >= 0.19);
    /* malformed credentials are failures too */
    t0 = srv_now();
    assert_int_equal(srv_auth_check(f.a, "Basic !!!", "10.0.3.5", &who), SRV_AUTH_MALFORMED);
    assert_true(srv_now() - t0 >= 0.69);
    assert_int_equal(srv_auth_check(f.a, NULL, "10.0.3.5", &who), SRV_AUTH_MISSING);
    srv_auth_free(f.a);
}

static void test_accounts(void **state)
{
    (void)state;
    bool admin = true;
    /* root: an admin whatever the group */
    assert_true(srv_account("root", "", &admin));
    assert_true(admin);
    assert_true(srv_user_in_group("root", "no-such-group-xyz"));
    /* a name that does not exist */
    assert_false(srv_account("no-such-user-xyz", "root", &admin));
    assert_false(admin);
    assert_false(srv_user_in_group("no-such-user-xyz", "root"));
}

/* ---- configuration, checks, pid file, TLS ------------------------------------------ */

static int load(srv_config *c, const char *text, int argc, const char **args, char *path)
{
    strcpy(path, "/tmp/smbcimd-ops.XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    static char *argv[32];
    argv[0] = "smbcimd";
    argv[1] = "--config";
    argv[2] = path;
    int n = 3;
    for (int i = 0; i < argc; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    return srv_config_load(c, n, argv);
}

static void test_settings(void **state)
{
    (void)state;
    srv_config c;
    char path[64];
    const char *none[] = {"--https", "none"};
    assert_int_equal(load(&c, "", 2, none, path), 0);
    assert_int_equal(c.auth_helpers, 4);
    assert_int_equal(c.auth_queue, 16);
    assert_int_equal(c.auth_rate, 5);
    assert_int_equal(c.auth_burst, 20);
    assert_int_equal(c.user_lockout_failures, 5);
    assert_int_equal(c.user_lockout_window, 300);
    assert_int_equal(c.user_lockout_seconds, 300);
    assert_int_equal(c.auth_failure_ms, 250);
    assert_int_equal(c.auth_cache_seconds, 10);
    assert_int_equal(c.log_level, LOG_INFO);
    assert_null(c.pid_file);
    assert_false(c.check_config);
    srv_config_free(&c);
    unlink(path);
    const char *a2[] = {"--https", "none", "--log-level", "debug", "--check-config"};
    assert_int_equal(load(&c, "auth-helpers = 2\nauth_rate = 9\nlog-level = warning\n"
                              "pid-file = /tmp/x.pid\nuser-lockout-failures = 0\n",
                          5, a2, path), 0);
    assert_int_equal(c.auth_helpers, 2);
    assert_int_equal(c.auth_rate, 9);
    assert_int_equal(c.log_level, LOG_DEBUG); /* the command line wins */
    assert_string_equal(c.pid_file, "/tmp/x.pid");
    assert_int_equal(c.user_lockout_failures, 0);
    assert_true(c.check_config);
    srv_config_free(&c);
    unlink(path);
    assert_int_equal(load(&c, "log-level = loud\n", 2, none, path), 2);
    srv_config_free(&c);
    unlink(path);
}

static void test_reload(void **state)
{
    (void)state;
    srv_config c, next;
    char path[64];
    const char *args[] = {"--https", "none", "--log-level", "error"};
    assert_int_equal(load(&c, "http = 127.0.0.1:7001\nauth-rate = 3\nadmin-group = a\n"
                              "auth-helpers = 2\n", 4, args, path), 0);
    const char *group_before = c.admin_group;
    /* the file changes: a setting that can change, a string, a listener */
    FILE *fp = fopen(path, "w");
    fputs("http = 127.0.0.1:7002\nauth-rate = 8\nadmin-group = b\nauth-helpers = 6\n", fp);
    fclose(fp);
    assert_int_equal(srv_config_reread(&c, &next), 0);
    unsigned changed = srv_config_apply(&c, &next);
    assert_int_equal(changed, 2); /* auth-rate, admin-group */
    assert_int_equal(c.auth_rate, 8);
    assert_string_equal(c.admin_group, "b");
    assert_string_equal(group_before, "a"); /* the old text stays valid */
    assert_string_equal(c.http, "127.0.0.1:7001"); /* needs a restart */
    assert_int_equal(c.auth_helpers, 2);
    assert_int_equal(c.log_level, LOG_ERR); /* the command line still wins */
    /* a broken file: an error, nothing taken */
    fp = fopen(path, "w");
    fputs("auth-rate = many\n", fp);
    fclose(fp);
    assert_int_equal(srv_config_reread(&c, &next), 2);
    srv_config_free(&next);
    assert_int_equal(c.auth_rate, 8);
    srv_config_free(&c);
    unlink(path);
}

typedef struct lines {
    char text[8][1024];
    int n;
} lines;

static void collect(const char *line, void *arg)
{
    lines *l = arg;
    if (l->n < 8)
        snprintf(l->text[l->n++], sizeof l->text[0], "%s", line);
}

static bool has_line(const lines *l, const char *part)
{
    for (int i = 0; i < l->n; i++)
        if (strstr(l->text[i], part))
            return true;
    return false;
}

static void test_preflight(void **state)
{
    (void)state;
    srv_config c;
    char path[64];
    const char *args[] = {"--https", "127.0.0.1:7003", "--cert", "/nonexistent/cert.pem",
                          "--key", "/nonexistent/key.pem"};
    assert_int_equal(load(&c, "admin-group = no-such-group-xyz\npam-service = no-such-svc-xyz\n"
                              "snapshot = /nonexistent/fs.json\nuser = root\n", 6, args,
                     path), 0);
    lines l = {0};
    unsigned bad = srv_preflight(&c, collect, &l);
    assert_true(bad >= 4); /* (+1 when no helper is installed) */
    assert_true(has_line(&l, "the admin group 'no-such-group-xyz' does not exist"));
    assert_true(has_line(&l, "the PAM service 'no-such-svc-xyz' does not exist"));
    assert_true(has_line(&l, "the snapshot /nonexistent/fs.json cannot be read"));
    char want[300];
    struct passwd *me = getpwuid(geteuid()); /* user = root: checked as who runs it */
    snprintf(want, sizeof want, "https (as the user '%s'): cannot read the certificate "
             "/nonexistent/cert.pem", me ? me->pw_name : "?");
    assert_true(has_line(&l, want));
    for (int i = 0; i < l.n; i++)
        assert_null(strchr(l.text[i], '\n')); /* one line each */
    srv_config_free(&c);
    unlink(path);
    /* a directory is not a snapshot; a service name with a slash is not one */
    const char *a2[] = {"--https", "none", "--snapshot", "/tmp", "--pam-service", "../x",
                        "--admin-group", "root", "--user", "root"};
    assert_int_equal(load(&c, "", 10, a2, path), 0);
    l.n = 0;
    srv_preflight(&c, collect, &l);
    assert_true(has_line(&l, "the snapshot /tmp is not a regular file"));
    assert_true(has_line(&l, "pam-service '../x' is not a PAM service name"));
    assert_false(has_line(&l, "admin group"));
    srv_config_free(&c);
    unlink(path);
    /* started as root, the worker's user must exist (priv.c) */
    const char *a3[] = {"--https", "none", "--user", "no-such-user-xyz"};
    assert_int_equal(load(&c, "", 4, a3, path), 0);
    l.n = 0;
    srv_preflight(&c, collect, &l);
    assert_true(has_line(&l, "the user 'no-such-user-xyz' (user =) does not exist") ==
                (geteuid() == 0));
    srv_config_free(&c);
    unlink(path);
}

static void test_tls_check(void **state)
{
    (void)state;
    char why[512];
    char dir[] = "/tmp/smbcimd-tls.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char p1[128], p2[128];
    snprintf(p1, sizeof p1, "%s/empty.pem", dir);
    snprintf(p2, sizeof p2, "%s/junk.pem", dir);
    FILE *f = fopen(p1, "w");
    fclose(f);
    f = fopen(p2, "w");
    fputs("-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n", f);
    fclose(f);
    assert_false(srv_tls_check(p1, p1, why, sizeof why));
    assert_non_null(strstr(why, "is not PEM"));
    assert_false(srv_tls_check(p2, p1, why, sizeof why));
    assert_non_null(strstr(why, "cannot load the certificate"));
    assert_false(srv_tls_check("/nonexistent/c.pem", p1, why, sizeof why));
    assert_non_null(strstr(why, "cannot read the certificate /nonexistent/c.pem"));
    assert_false(srv_tls_check(NULL, NULL, why, sizeof why));
    unlink(p1);
    unlink(p2);
    rmdir(dir);
}

static void test_pidfile(void **state)
{
    (void)state;
    char path[] = "/tmp/smbcimd-pid.XXXXXX";
    int tmp = mkstemp(path);
    close(tmp);
    int fd = srv_pidfile_open(path);
    assert_true(fd >= 0);
    assert_true(srv_pidfile_write(fd, path));
    FILE *f = fopen(path, "r");
    long pid = 0;
    assert_int_equal(fscanf(f, "%ld", &pid), 1);
    fclose(f);
    assert_int_equal(pid, (long)getpid());
    /* held: a second server is refused */
    assert_int_equal(srv_pidfile_open(path), -1);
    srv_pidfile_remove(fd, path);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_listen_check(void **state)
{
    (void)state;
    char why[256];
    /* a port in use, named once */
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    assert_int_equal(listen(fd, 1), 0);
    socklen_t sl = sizeof sa;
    getsockname(fd, (struct sockaddr *)&sa, &sl);
    char spec[64], want[128];
    snprintf(spec, sizeof spec, "127.0.0.1:%u", (unsigned)ntohs(sa.sin_port));
    snprintf(want, sizeof want, "cannot listen on %s (https): Address already in use", spec);
    assert_false(srv_listen_check(spec, "https", why, sizeof why));
    assert_string_equal(why, want);
    close(fd);
    assert_true(srv_listen_check(spec, "https", why, sizeof why)); /* free again */
    assert_false(srv_listen_check("256.0.0.1:80", "http", why, sizeof why));
    assert_non_null(strstr(why, "cannot listen on 256.0.0.1:80 (http)"));
}

int main(int argc, char **argv)
{
    (void)argc;
    if (strcmp(argv[0], "smbcimd-auth") == 0)
        return fake_helper();
    ssize_t n = readlink("/proc/self/exe", self_path, sizeof self_path - 1);
    self_path[n > 0 ? n : 0] = '\0';
    srv_log_set_level(LOG_CRIT); /* the failures these tests make are not news */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_peer_delay),
        cmocka_unit_test(test_user_lockout),
        cmocka_unit_test(test_budget),
        cmocka_unit_test(test_peer_busy),
        cmocka_unit_test(test_tables_full),
        cmocka_unit_test(test_pool),
        cmocka_unit_test(test_queue_full),
        cmocka_unit_test(test_coalesced),
        cmocka_unit_test(test_cache_renewed),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_accounts),
        cmocka_unit_test(test_settings),
        cmocka_unit_test(test_reload),
        cmocka_unit_test(test_preflight),
        cmocka_unit_test(test_tls_check),
        cmocka_unit_test(test_pidfile),
        cmocka_unit_test(test_listen_check),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
