/*
 * throttle.c - who may ask PAM now: the failure budgets of smbcimd's
 * logins (issue 11 #8).  Bookkeeping only, with the time passed in, so
 * that the unit tests drive it with their own clock; auth.c asks it before
 * each PAM check of credentials that are not in the login cache and tells
 * it each outcome.  Three budgets:
 *
 *  - per address: after a failure the address gets no PAM check until its
 *    failure delay has passed (0.5 s doubling to 8 s, forgiven after five
 *    quiet minutes).  The failing connection sleeps that delay before its
 *    401; the address's other connections are answered 503 at once
 *    meanwhile, so that 64 connections guess no faster than one.
 *  - per user name: user_lockout_failures failed checks within
 *    user_lockout_window seconds lock the name for user_lockout_seconds:
 *    no PAM check at all, the right password is refused too (as
 *    pam_faillock does).  A name that does not exist is counted the same
 *    way, so a lockout tells nothing about existence.  A success clears
 *    the count.
 *  - per address at once: at most THR_PEER_CHECKS PAM checks of one address
 *    run at the same time; more are answered 503 (retry after a second).
 *    Without it, the first burst of many connections from one address
 *    would all be asked before the first failure sets its delay, and would
 *    spend the budget below that everybody else's first login needs.
 *  - in all: a token bucket of auth_rate checks per second (auth_burst at
 *    once).  When it is empty, only requests that are clean (no recent
 *    failure of the address or the user name) and known (the user name or
 *    the address logged in successfully within a day) still go to PAM:
 *    someone else's guessing does not starve them.  Everything else is
 *    answered 503 at once, so that guessing from many fresh addresses
 *    with fresh user names (password spraying) gets auth_rate checks per
 *    second, not whatever the helpers can do.
 *
 * The tables are fixed arrays (THR_PEERS, THR_USERS) scanned linearly; a
 * full table evicts what matters least (nothing locked or penalized while
 * something else can go).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "smbcimd/smbcimd.h"

#define THR_PEERS 1024
#define THR_USERS 1024
#define THR_GOOD 512
#define PEER_FORGIVE 300.0 /* seconds without a failure: an address is clean again */
#define GOOD_FOR 86400.0   /* a successful login makes its user and address known this long */
#define THR_CHECKING 256   /* addresses with PAM checks running (at most one per request thread) */

typedef struct peer_rec {
    char peer[64];
    unsigned count;    /* failures since it was last clean */
    double last;       /* time of the last failure */
    double until;      /* no PAM check before this */
    double said_until; /* the refusal until then has been logged */
} peer_rec;

typedef struct user_rec {
    char user[256];
    unsigned count;       /* failures within the window */
    double first;         /* start of the window */
    double last;
    double locked_until;
} user_rec;

/* A user name or an address that logged in successfully. */
typedef struct good_rec {
    char name[256];
    double last;       /* 0: free */
} good_rec;

struct srv_throttle {
    const srv_config *cfg;
    pthread_mutex_t lock;
    double tokens;
    double refilled;      /* time of the last refill; < 0: never */
    double budget_said;   /* last time a budget refusal was logged */
    double busy_said;     /* ... a refusal for too many checks at once */
    peer_rec peers[THR_PEERS];
    user_rec users[THR_USERS];
    good_rec good_users[THR_GOOD];
    good_rec good_peers[THR_GOOD];
    struct {
        char peer[64];
        unsigned n;    /* PAM checks running for it; 0: free */
    } checking[THR_CHECKING];
};

srv_throttle *srv_throttle_new(const srv_config *c)
{
    srv_throttle *t = sc_xcalloc(1, sizeof *t);
    t->cfg = c;
    pthread_mutex_init(&t->lock, NULL);
    t->refilled = -1;
    t->budget_said = -1e9;
    return t;
}

void srv_throttle_free(srv_throttle *t)
{
    if (!t)
        return;
    pthread_mutex_destroy(&t->lock);
    free(t);
}

static bool peer_dirty(const peer_rec *p, double now)
{
    return p && p->count && now - p->last <= PEER_FORGIVE;
}

static bool user_dirty(const srv_throttle *t, const user_rec *u, double now)
{
    return u && u->count && now - u->first <= (double)t->cfg->user_lockout_window;
}

static peer_rec *peer_find(srv_throttle *t, const char *peer)
{
    for (size_t i = 0; i < THR_PEERS; i++)
        if (t->peers[i].count && strcmp(t->peers[i].peer, peer) == 0)
            return &t->peers[i];
    return NULL;
}

static user_rec *user_find(srv_throttle *t, const char *user)
{
    for (size_t i = 0; i < THR_USERS; i++)
        if ((t->users[i].count || t->users[i].locked_until > 0) &&
            strcmp(t->users[i].user, user) == 0)
            return &t->users[i];
    return NULL;
}

/* A record for peer: its own, else a free one, else the one whose last
 * failure is oldest among those not penalized now (any, if all are). */
static peer_rec *peer_take(srv_throttle *t, const char *peer, double now)
{
    peer_rec *p = peer_find(t, peer);
    if (p)
        return p;
    peer_rec *best = NULL;
    for (size_t i = 0; i < THR_PEERS; i++) {
        peer_rec *q = &t->peers[i];
        if (!q->count || now - q->last > PEER_FORGIVE) {
            best = q;
            break;
        }
        bool penalized = q->until > now;
        if (!best || (best->until > now && !penalized) ||
            ((best->until > now) == penalized && q->last < best->last))
            best = q;
    }
    memset(best, 0, sizeof *best);
    snprintf(best->peer, sizeof best->peer, "%s", peer);
    return best;
}

static user_rec *user_take(srv_throttle *t, const char *user, double now)
{
    user_rec *u = user_find(t, user);
    if (u)
        return u;
    user_rec *best = NULL;
    for (size_t i = 0; i < THR_USERS; i++) {
        user_rec *q = &t->users[i];
        bool locked = q->locked_until > now;
        if ((!q->count && !locked) || (!locked && !user_dirty(t, q, now))) {
            best = q;
            break;
        }
        if (!best || (best->locked_until > now && !locked) ||
            ((best->locked_until > now) == locked && q->last < best->last))
            best = q;
    }
    memset(best, 0, sizeof *best);
    snprintf(best->user, sizeof best->user, "%s", user);
    return best;
}

static good_rec *good_find(good_rec *g, const char *name, double now)
{
    for (size_t i = 0; i < THR_GOOD; i++)
        if (g[i].last > 0 && now - g[i].last <= GOOD_FOR && strcmp(g[i].name, name) == 0)
            return &g[i];
    return NULL;
}

static void good_note(good_rec *g, const char *name, double now)
{
    good_rec *r = good_find(g, name, now);
    if (!r) {
        r = &g[0];
        for (size_t i = 0; i < THR_GOOD; i++) {
            if (g[i].last <= 0 || now - g[i].last > GOOD_FOR) {
                r = &g[i];
                break;
            }
            if (g[i].last < r->last)
                r = &g[i];
        }
        snprintf(r->name, sizeof r->name, "%s", name);
    }
    r->last = now > 0 ? now : 1e-9;
}

srv_admit srv_throttle_admit(srv_throttle *t, const char *user, const char *peer, double now,
                             srv_admit_info *info)
{
    memset(info, 0, sizeof *info);
    const srv_config *c = t->cfg;
    pthread_mutex_lock(&t->lock);
    user_rec *u = user_find(t, user);
    if (u && u->locked_until > 0 && u->locked_until <= now) {
        /* the lockout is over: a fresh window */
        u->locked_until = 0;
        u->count = 0;
    }
    if (u && u->locked_until > now) {
        info->retry = u->locked_until - now;
        pthread_mutex_unlock(&t->lock);
        return SRV_ADMIT_LOCKED;
    }
    peer_rec *p = peer_find(t, peer);
    if (p && p->until > now) {
        info->retry = p->until - now;
        info->say = p->said_until < p->until;
        p->said_until = p->until;
        pthread_mutex_unlock(&t->lock);
        return SRV_ADMIT_PEER_WAIT;
    }
    int busy = -1, free_slot = -1;
    for (int i = 0; i < THR_CHECKING; i++) {
        if (!t->checking[i].n) {
            if (free_slot < 0)
                free_slot = i;
        } else if (strcmp(t->checking[i].peer, peer) == 0) {
            busy = i;
        }
    }
    if (busy >= 0 && t->checking[busy].n >= THR_PEER_CHECKS) {
        info->retry = 1.0;
        info->say = now - t->busy_said >= 10.0;
        if (info->say)
            t->busy_said = now;
        pthread_mutex_unlock(&t->lock);
        return SRV_ADMIT_PEER_BUSY;
    }
    info->clean = !peer_dirty(p, now) && !user_dirty(t, u, now);
    if (c->auth_rate) {
        double burst = c->auth_burst ? (double)c->auth_burst : 1.0;
        if (t->refilled < 0) {
            t->tokens = burst;
        } else if (now > t->refilled) {
            t->tokens += (now - t->refilled) * (double)c->auth_rate;
            if (t->tokens > burst)
                t->tokens = burst;
        }
        t->refilled = now;
        if (t->tokens >= 1.0) {
            t->tokens -= 1.0;
        } else if (!info->clean || !(good_find(t->good_users, user, now) ||
                                     good_find(t->good_peers, peer, now))) {
            info->retry = (1.0 - t->tokens) / (double)c->auth_rate;
            info->say = now - t->budget_said >= 10.0;
            if (info->say)
                t->budget_said = now;
            pthread_mutex_unlock(&t->lock);
            return SRV_ADMIT_BUDGET;
        }
    }
    /* counted (when the table is full, which takes more checks at once
     * than there are request threads, the check just goes uncounted) */
    if (busy < 0 && free_slot >= 0) {
        busy = free_slot;
        snprintf(t->checking[busy].peer, sizeof t->checking[busy].peer, "%s", peer);
    }
    if (busy >= 0)
        t->checking[busy].n++;
    pthread_mutex_unlock(&t->lock);
    return SRV_ADMIT_OK;
}

void srv_throttle_checked(srv_throttle *t, const char *peer)
{
    pthread_mutex_lock(&t->lock);
    for (int i = 0; i < THR_CHECKING; i++)
        if (t->checking[i].n && strcmp(t->checking[i].peer, peer) == 0) {
            t->checking[i].n--;
            break;
        }
    pthread_mutex_unlock(&t->lock);
}

double srv_throttle_failure(srv_throttle *t, const char *user, const char *peer, double now,
                            srv_admit_info *info)
{
    memset(info, 0, sizeof *info);
    const srv_config *c = t->cfg;
    pthread_mutex_lock(&t->lock);
    peer_rec *p = peer_take(t, peer, now);
    if (p->count && now - p->last > PEER_FORGIVE)
        p->count = 0; /* forgiven after five quiet minutes */
    p->count++;
    p->last = now;
    unsigned n = p->count < 5 ? p->count : 5;
    double delay = 0.5 * (double)(1u << (n - 1)); /* 0.5, 1, 2, 4, 8 s */
    if (p->until < now + delay)
        p->until = now + delay;
    if (user && c->user_lockout_failures) {
        user_rec *u = user_take(t, user, now);
        if (u->locked_until <= now) {
            if (!u->count || now - u->first > (double)c->user_lockout_window) {
                u->count = 0;
                u->first = now;
            }
            u->count++;
            u->last = now;
            if (u->count >= c->user_lockout_failures) {
                u->locked_until = now + (double)c->user_lockout_seconds;
                info->locked = c->user_lockout_seconds > 0;
                info->retry = (double)c->user_lockout_seconds;
                info->failures = u->count;
            }
        }
    }
    pthread_mutex_unlock(&t->lock);
    return delay;
}

void srv_throttle_success(srv_throttle *t, const char *user, const char *peer, double now)
{
    pthread_mutex_lock(&t->lock);
    user_rec *u = user_find(t, user);
    if (u && u->locked_until <= 0) /* a lockout runs its time */
        memset(u, 0, sizeof *u);
    good_note(t->good_users, user, now);
    good_note(t->good_peers, peer, now);
    pthread_mutex_unlock(&t->lock);
}
