/* t_set.c - set commands.  A set's value is an add-wins OR-set (crdt_orset.h):
 * SADD mints new adds at this node; SREM, SPOP and SMOVE remove only the adds
 * this node has observed, so a concurrent add elsewhere survives.  The *STORE
 * commands overwrite their destination as Redis does: a key delete and a new
 * incarnation.  Random choices (SPOP, SRANDMEMBER) are made here and only
 * their result is applied (SPEC).  Replies, errors and keyspace events are
 * Redis 7.0's.
 *
 * Every change ends in dbTouched() or dbDelete() (db.h), the keyspace's one
 * change hook.  This file never talks to peers and never touches the tables. */
#include "cmdlist.h"
#include "crdt_orset.h"
#include "db.h"
#include "networking.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---------- helpers ---------- */

/* Looks a key up as a set, for writing (write != 0) or reading.  *out is the
 * key, or NULL when it does not exist.  Returns -1 after replying WRONGTYPE
 * when the key holds another type. */
static int findSet(client *c, const arg *key, int write, kv **out) {
    kv *k = write ? lookupKeyWrite(c->db, key->p, key->len) : lookupKeyRead(c->db, key->p, key->len);
    if (k && k->type != OBJ_SET) {
        addReplyErrorWrongType(c);
        return -1;
    }
    *out = k;
    return 0;
}

static orset *setOf(const kv *k) { return k->v.ptr; }

/* Creates key holding the orset s (a new, empty one when s is NULL), as an
 * incarnation created at version v.  The caller ends with dbTouched(). */
static kv *setCreate(db *d, const arg *key, orset *s, version v) {
    kv *k = dbCreate(d, key->p, key->len, OBJ_SET);
    k->enc = ENC_CRDT;
    k->v.ptr = s ? s : orsetNew();
    k->ver = v;
    dbNewIncarnation(d, k, v);
    return k;
}

/* Ends a removal from set k at version v: sends `event`, then, as Redis does,
 * deletes the key once the set is empty (and sends "del"); otherwise records
 * the change. */
static void setRemoved(client *c, kv *k, const arg *key, version v, const char *event) {
    notifyKeyspaceEvent(NOTIFY_SET, event, key->p, key->len, c->db->id);
    if (orsetCard(setOf(k)) == 0) {
        dbDelete(c->db, k, v);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key->p, key->len, c->db->id);
    } else {
        dbTouched(c->db, k, v);
    }
}

/* ---------- walking a set in Redis's order ---------- */

/* Redis 7.0 keeps a set of at most 512 integers (set-max-intset-entries) as a
 * sorted "intset" and walks it in ascending order; every other set is walked
 * in hash order.  A walk gives the same order for a set that fits, so that,
 * say, SMEMBERS of a small set of ids is byte-identical to Redis's reply.
 * (Redis keeps a set it once converted, for holding a non-integer or more
 * than 512 members, in hash order for good; that history is not kept here.) */
#define SET_MAX_INTSET_ENTRIES 512

typedef struct setWalk {
    orsetIter it;
    long long *ints;            /* the members in ascending order, or NULL */
    size_t n, i;
    char buf[24];
} setWalk;

static int cmpLongLong(const void *a, const void *b) {
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* Returns the members of s sorted (malloc'd) if Redis would hold s as an
 * intset: at most 512 members, each an integer in canonical form. */
static long long *setIntsetView(const orset *s) {
    size_t n = orsetCard(s), i = 0;
    if (n == 0 || n > SET_MAX_INTSET_ENTRIES) return NULL;
    long long *v = malloc(n * sizeof(*v));
    if (!v) abort();
    orsetIter it;
    const char *m;
    size_t len;
    orsetIterInit(&it, s);
    while (orsetIterNext(&it, &m, &len)) {
        if (!string2ll(m, len, &v[i++])) { free(v); return NULL; }
    }
    qsort(v, n, sizeof(*v), cmpLongLong);
    return v;
}

static void setWalkInit(setWalk *w, const orset *s) {
    w->ints = setIntsetView(s);
    w->n = orsetCard(s);
    w->i = 0;
    if (!w->ints) orsetIterInit(&w->it, s);
}

/* The next member; *m stays valid until the next call (s must not change). */
static int setWalkNext(setWalk *w, const char **m, size_t *len) {
    if (!w->ints) return orsetIterNext(&w->it, m, len);
    if (w->i == w->n) return 0;
    *len = (size_t)ll2string(w->buf, sizeof(w->buf), w->ints[w->i++]);
    *m = w->buf;
    return 1;
}

static void setWalkEnd(setWalk *w) { free(w->ints); }

/* Replies every member of s as a set (RESP3 "~", RESP2 array), or as an
 * array, in Redis's order. */
static void replyMembers(client *c, const orset *s, int asArray) {
    setWalk w;
    const char *m;
    size_t len;
    if (asArray) addReplyArrayLen(c, (long)orsetCard(s));
    else addReplySetLen(c, (long)orsetCard(s));
    setWalkInit(&w, s);
    while (setWalkNext(&w, &m, &len)) addReplyBulk(c, m, len);
    setWalkEnd(&w);
}

static void replySetMembers(client *c, const orset *s) { replyMembers(c, s, 0); }

/* The empty SCAN reply: cursor "0" and no elements. */
static void replyEmptyScan(client *c) {
    addReplyArrayLen(c, 2);
    addReplyBulk(c, "0", 1);
    addReplyArrayLen(c, 0);
}

/* ---------- single-key commands ---------- */

/* SADD key member...: replies how many members were new.  Every given member
 * gets a fresh add (a new dot), also when it was already there: a concurrent
 * SREM elsewhere removes only the adds it saw, so this SADD wins (add-wins).
 * The "sadd" event is sent only when a member was new, as in Redis. */
void saddCommand(client *c) {
    arg *key = &c->argv[1];
    kv *k;
    if (findSet(c, key, 1, &k) < 0) return;
    version v = nextVersion();
    orset *delta = NULL;         /* a new key ships whole (its context starts at a floor) */
    if (!k) k = setCreate(c->db, key, NULL, v);
    else delta = dbDeltaFor(c->db, k);
    long long added = 0;
    for (int j = 2; j < c->argc; j++)
        added += orsetAdd(setOf(k), server.nodeId, c->argv[j].p, c->argv[j].len, delta);
    dbTouched(c->db, k, v);
    if (added) notifyKeyspaceEvent(NOTIFY_SET, "sadd", key->p, key->len, c->db->id);
    addReplyLongLong(c, added);
}

/* SREM key member...: removes the observed adds of each member; replies how
 * many were present.  Deletes the key when the set becomes empty. */
void sremCommand(client *c) {
    arg *key = &c->argv[1];
    kv *k;
    if (findSet(c, key, 1, &k) < 0) return;
    if (!k) { addReplyLongLong(c, 0); return; }
    long long removed = 0;
    orset *delta = dbDeltaFor(c->db, k);
    for (int j = 2; j < c->argc; j++) {
        removed += orsetRemove(setOf(k), c->argv[j].p, c->argv[j].len, delta);
        if (orsetCard(setOf(k)) == 0) break;
    }
    if (removed) setRemoved(c, k, key, nextVersion(), "srem");
    addReplyLongLong(c, removed);
}

/* SMEMBERS key: every member, as a set reply (empty for a missing key). */
void smembersCommand(client *c) {
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    if (!k) { addReplySetLen(c, 0); return; }
    replySetMembers(c, setOf(k));
}

/* SISMEMBER key member: 1 or 0. */
void sismemberCommand(client *c) {
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    addReplyLongLong(c, k && orsetContains(setOf(k), c->argv[2].p, c->argv[2].len));
}

/* SMISMEMBER key member...: one 1 or 0 per member, in order. */
void smismemberCommand(client *c) {
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++)
        addReplyLongLong(c, k && orsetContains(setOf(k), c->argv[j].p, c->argv[j].len));
}

/* SCARD key: the number of members (0 for a missing key). */
void scardCommand(client *c) {
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    addReplyLongLong(c, k ? (long long)orsetCard(setOf(k)) : 0);
}

/* ---------- random members: chosen here, the result is what changes ---------- */

/* SPOP key count: `count` distinct random members, removed, as a set reply.
 * As Redis 7.0: the whole set when count >= size (the key is deleted); one
 * draw at a time when count is small against the size; otherwise it draws
 * the members that stay and pops the rest. */
static void spopWithCount(client *c) {
    arg *key = &c->argv[1];
    long long count;
    if (getPositiveLongFromArg(c, &c->argv[2], &count, "ERR value is out of range, must be positive") < 0) return;
    kv *k;
    if (findSet(c, key, 1, &k) < 0) return;
    if (!k || count == 0) { addReplySetLen(c, 0); return; }
    orset *s = setOf(k);
    size_t size = orsetCard(s);
    const char *m;
    size_t len;
    if ((unsigned long long)count >= size) {
        lookupKeyRead(c->db, key->p, key->len);   /* Redis answers through SUNION: one keyspace hit */
        replySetMembers(c, s);
        orsetClear(s, NULL);
    } else if ((unsigned long long)count * 5 < size) {
        addReplySetLen(c, (long)count);
        while (count--) {
            orsetRandom(s, randomU64, &m, &len);
            addReplyBulk(c, m, len);          /* m lives in s: reply before removing */
            orsetRemove(s, m, len, NULL);
        }
    } else {
        orset *popped = orsetDup(s);
        for (size_t left = size; left > (size_t)count; left--) {
            orsetRandom(popped, randomU64, &m, &len);
            orsetRemove(popped, m, len, NULL);
        }
        addReplySetLen(c, (long)count);
        setWalk w;
        setWalkInit(&w, popped);
        while (setWalkNext(&w, &m, &len)) {
            addReplyBulk(c, m, len);
            orsetRemove(s, m, len, NULL);
        }
        setWalkEnd(&w);
        orsetFree(popped);
    }
    setRemoved(c, k, key, nextVersion(), "spop");
}

/* SPOP key [count]: one random member, removed (null for a missing key). */
void spopCommand(client *c) {
    if (c->argc == 3) { spopWithCount(c); return; }
    if (c->argc > 3) { addReplyErrorSyntax(c); return; }
    arg *key = &c->argv[1];
    kv *k;
    if (findSet(c, key, 1, &k) < 0) return;
    if (!k) { addReplyNull(c); return; }
    const char *m;
    size_t len;
    orsetRandom(setOf(k), randomU64, &m, &len);
    addReplyBulk(c, m, len);                  /* m lives in the set: reply before removing */
    orsetRemove(setOf(k), m, len, NULL);
    setRemoved(c, k, key, nextVersion(), "spop");
}

/* SRANDMEMBER key count, as an array reply (also in RESP3, as Redis 7.0).  A
 * negative count draws |count| members with repetitions; a positive one
 * returns min(count, size) distinct members: the whole set, or the set less
 * random members when count is close to the size, or distinct draws. */
static void srandmemberWithCount(client *c) {
    long long l;
    if (getLongLongFromArg(c, &c->argv[2], &l, NULL) < 0) return;
    if (l == LLONG_MIN) {
        addReplyErrorFormat(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
        return;
    }
    int distinct = l >= 0;
    unsigned long long count = (unsigned long long)(l < 0 ? -l : l);
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    if (!k || count == 0) { addReplyArrayLen(c, 0); return; }
    orset *s = setOf(k);
    size_t size = orsetCard(s);
    const char *m;
    size_t len;
    if (!distinct || count == 1) {
        addReplyArrayLen(c, (long)count);
        while (count--) {
            orsetRandom(s, randomU64, &m, &len);
            addReplyBulk(c, m, len);
        }
        return;
    }
    orset *pick;
    if (count >= size) {
        pick = NULL;
    } else if (count * 3 > size) {
        pick = orsetDup(s);
        while (orsetCard(pick) > count) {
            orsetRandom(pick, randomU64, &m, &len);
            orsetRemove(pick, m, len, NULL);
        }
    } else {
        pick = orsetNew();
        while (orsetCard(pick) < count) {
            orsetRandom(s, randomU64, &m, &len);
            orsetAdd(pick, server.nodeId, m, len, NULL);
        }
    }
    replyMembers(c, pick ? pick : s, 1);
    if (pick) orsetFree(pick);
}

/* SRANDMEMBER key [count]: one random member, not removed (null if missing). */
void srandmemberCommand(client *c) {
    if (c->argc == 3) { srandmemberWithCount(c); return; }
    if (c->argc > 3) { addReplyErrorSyntax(c); return; }
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    if (!k) { addReplyNull(c); return; }
    const char *m;
    size_t len;
    orsetRandom(setOf(k), randomU64, &m, &len);
    addReplyBulk(c, m, len);
}

/* SMOVE src dst member: removes member's observed adds from src and adds it
 * to dst (created if missing); 1 if it was in src.  As in Redis, dst is left
 * alone when it already holds member (no event, no change: WATCH on dst stays
 * valid), src == dst only answers membership, and a missing src answers 0
 * before dst's type is looked at. */
void smoveCommand(client *c) {
    arg *srcKey = &c->argv[1], *dstKey = &c->argv[2], *m = &c->argv[3];
    kv *src = lookupKeyWrite(c->db, srcKey->p, srcKey->len);
    kv *dst = lookupKeyWrite(c->db, dstKey->p, dstKey->len);
    if (!src) { addReplyLongLong(c, 0); return; }
    if (src->type != OBJ_SET || (dst && dst->type != OBJ_SET)) { addReplyErrorWrongType(c); return; }
    if (src == dst) { addReplyLongLong(c, orsetContains(setOf(src), m->p, m->len)); return; }
    if (!orsetRemove(setOf(src), m->p, m->len, NULL)) { addReplyLongLong(c, 0); return; }
    version v = nextVersion();
    setRemoved(c, src, srcKey, v, "srem");
    if (!dst) dst = setCreate(c->db, dstKey, NULL, v);
    if (!orsetContains(setOf(dst), m->p, m->len)) {
        orsetAdd(setOf(dst), server.nodeId, m->p, m->len, NULL);
        dbTouched(c->db, dst, v);
        notifyKeyspaceEvent(NOTIFY_SET, "sadd", dstKey->p, dstKey->len, c->db->id);
    }
    addReplyLongLong(c, 1);
}

/* ---------- multi-key operations ---------- */

/* Loads the sets named by keys[0..n) into sets[] (NULL for a missing key),
 * looked up as reads (keyspace hits and misses, also for the *STORE forms, as
 * Redis 7.0).  Every key is checked: returns -1 after replying WRONGTYPE if
 * any holds another type, else the number of missing keys. */
static int loadSets(client *c, const arg *keys, int n, orset **sets) {
    int missing = 0;
    for (int j = 0; j < n; j++) {
        kv *k;
        if (findSet(c, &keys[j], 0, &k) < 0) return -1;
        sets[j] = k ? setOf(k) : NULL;
        if (!k) missing++;
    }
    return missing;
}

/* Makes dst a new set holding `result` (consumed), whatever dst held before
 * and of whatever type, as Redis's *STORE commands overwrite: the old key is
 * deleted (a tombstone) and a new incarnation created after it.  An empty
 * result only deletes dst ("del" if it existed).  Replies the new size. */
static void storeSetResult(client *c, const arg *dst, orset *result, const char *event) {
    kv *old = lookupKeyWrite(c->db, dst->p, dst->len);
    size_t n = orsetCard(result);
    if (old) dbDelete(c->db, old, nextVersion());
    if (n == 0) {
        orsetFree(result);
        if (old) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", dst->p, dst->len, c->db->id);
        addReplyLongLong(c, 0);
        return;
    }
    version v = nextVersion();
    kv *k = setCreate(c->db, dst, result, v);
    dbTouched(c->db, k, v);
    addReplyLongLong(c, (long long)n);
    notifyKeyspaceEvent(NOTIFY_SET, event, dst->p, dst->len, c->db->id);
}

static int cmpByCard(const void *a, const void *b) {
    size_t x = orsetCard(*(orset *const *)a), y = orsetCard(*(orset *const *)b);
    return x < y ? -1 : x > y;
}

/* SINTER, SINTERCARD and SINTERSTORE: intersects the sets keys[0..n).  A
 * missing key is an empty set, but every key is type-checked first.  Walks
 * the smallest set and keeps the members every other set holds.  Replies the
 * members as a set, or their count (cardOnly; stops at limit when > 0), or
 * stores them in dst and replies their count. */
static void sinterGeneric(client *c, const arg *keys, int n, const arg *dst, int cardOnly, long long limit) {
    orset **sets = malloc(sizeof(*sets) * (size_t)n);
    if (!sets) abort();
    int missing = loadSets(c, keys, n, sets);
    if (missing < 0) { free(sets); return; }
    orset *result = dst ? orsetNew() : NULL;
    long long found = 0;
    size_t at = 0;
    if (!dst && !cardOnly) at = addReplyDeferredLen(c);
    if (!missing) {
        qsort(sets, (size_t)n, sizeof(*sets), cmpByCard);
        setWalk w;
        const char *m;
        size_t len;
        setWalkInit(&w, sets[0]);
        while (setWalkNext(&w, &m, &len)) {
            int j = 1;
            while (j < n && (sets[j] == sets[0] || orsetContains(sets[j], m, len))) j++;
            if (j < n) continue;
            found++;
            if (result) orsetAdd(result, server.nodeId, m, len, NULL);
            else if (!cardOnly) addReplyBulk(c, m, len);
            else if (limit && found >= limit) break;
        }
        setWalkEnd(&w);
    }
    free(sets);
    if (dst) storeSetResult(c, dst, result, "sinterstore");
    else if (cardOnly) addReplyLongLong(c, found);
    else setDeferredSetLen(c, at, (long)found);
}

void sinterCommand(client *c) { sinterGeneric(c, &c->argv[1], c->argc - 1, NULL, 0, 0); }

void sinterstoreCommand(client *c) { sinterGeneric(c, &c->argv[2], c->argc - 2, &c->argv[1], 0, 0); }

/* SINTERCARD numkeys key... [LIMIT limit]: the size of the intersection,
 * counting stops at limit (0: no limit).  Errors as Redis 7.0. */
void sintercardCommand(client *c) {
    long long numkeys, limit = 0;
    if (getRangeLongFromArg(c, &c->argv[1], 1, LLONG_MAX, &numkeys, "ERR numkeys should be greater than 0") < 0)
        return;
    if (numkeys > c->argc - 2) {
        addReplyError(c, "ERR Number of keys can't be greater than number of args");
        return;
    }
    for (int j = 2 + (int)numkeys; j < c->argc; j++) {
        if (argEq(&c->argv[j], "limit") && j + 1 < c->argc) {
            if (getPositiveLongFromArg(c, &c->argv[++j], &limit, "ERR LIMIT can't be negative") < 0) return;
        } else {
            addReplyErrorSyntax(c);
            return;
        }
    }
    sinterGeneric(c, &c->argv[2], (int)numkeys, NULL, 1, limit);
}

/* SUNION/SDIFF and their STORE forms over keys[0..n) (a missing key is an
 * empty set; every key is type-checked first).  SDIFF keeps the members of
 * the first set that no other set holds.  Replies a set, or stores it in dst
 * and replies its size. */
static void sunionDiffGeneric(client *c, const arg *keys, int n, const arg *dst, int diff) {
    orset **sets = malloc(sizeof(*sets) * (size_t)n);
    if (!sets) abort();
    if (loadSets(c, keys, n, sets) < 0) { free(sets); return; }
    orset *result = orsetNew();
    orsetIter it;
    const char *m;
    size_t len;
    for (int i = 0; i < (diff ? 1 : n); i++) {
        if (!sets[i]) continue;
        orsetIterInit(&it, sets[i]);
        while (orsetIterNext(&it, &m, &len)) {
            int j = 1;
            while (diff && j < n && !(sets[j] && orsetContains(sets[j], m, len))) j++;
            if (!diff || j == n) orsetAdd(result, server.nodeId, m, len, NULL);
        }
    }
    free(sets);
    if (dst) {
        storeSetResult(c, dst, result, diff ? "sdiffstore" : "sunionstore");
    } else {
        replySetMembers(c, result);
        orsetFree(result);
    }
}

void sunionCommand(client *c) { sunionDiffGeneric(c, &c->argv[1], c->argc - 1, NULL, 0); }

void sunionstoreCommand(client *c) { sunionDiffGeneric(c, &c->argv[2], c->argc - 2, &c->argv[1], 0); }

void sdiffCommand(client *c) { sunionDiffGeneric(c, &c->argv[1], c->argc - 1, NULL, 1); }

void sdiffstoreCommand(client *c) { sunionDiffGeneric(c, &c->argv[2], c->argc - 2, &c->argv[1], 1); }

/* ---------- SSCAN ---------- */

typedef struct scanMembers {
    const char **m;
    size_t *len;
    size_t n, cap;
} scanMembers;

static void collectMember(const char *m, size_t len, void *ctx) {
    scanMembers *sm = ctx;
    if (sm->n == sm->cap) {
        sm->cap = sm->cap ? sm->cap * 2 : 16;
        sm->m = realloc(sm->m, sm->cap * sizeof(*sm->m));
        sm->len = realloc(sm->len, sm->cap * sizeof(*sm->len));
        if (!sm->m || !sm->len) abort();
    }
    sm->m[sm->n] = m;
    sm->len[sm->n++] = len;
}

/* Replies m if it matches pat (NULL matches everything); 1 if it did. */
static int replyIfMatch(client *c, const arg *pat, const char *m, size_t len) {
    if (pat && !stringmatchlen(pat->p, pat->len, m, len, 0)) return 0;
    addReplyBulk(c, m, len);
    return 1;
}

/* SSCAN key cursor [MATCH pattern] [COUNT count]: as Redis's SCAN family, the
 * cursor is parsed before the key is looked up (a missing key answers an empty
 * scan without looking at the options), then at least `count` members are
 * gathered (at most count*10 steps), then MATCH filters them.  Every member
 * present for the whole scan is returned at least once.  A set Redis would
 * hold as an intset comes whole, in order, with cursor 0, as in Redis. */
void sscanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursor(c, &c->argv[2], &cursor) < 0) return;
    kv *k;
    if (findSet(c, &c->argv[1], 0, &k) < 0) return;
    if (!k) { replyEmptyScan(c); return; }
    long long count;
    arg *pat;
    if (parseScanOptions(c, 3, &count, &pat, NULL) < 0) return;
    setWalk w;
    setWalkInit(&w, setOf(k));
    scanMembers sm = {NULL, NULL, 0, 0};
    if (w.ints) {
        cursor = 0;                 /* an intset in Redis: all of it in one reply */
    } else {
        long long steps = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
        do {
            cursor = orsetScan(setOf(k), cursor, collectMember, &sm);
        } while (cursor && steps-- && sm.n < (unsigned long long)count);
    }
    char buf[24];
    int blen = ull2string(buf, sizeof(buf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulk(c, buf, (size_t)blen);
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    const char *m;
    size_t len;
    if (w.ints) {
        while (setWalkNext(&w, &m, &len)) n += replyIfMatch(c, pat, m, len);
    } else {
        for (size_t i = 0; i < sm.n; i++) n += replyIfMatch(c, pat, sm.m[i], sm.len[i]);
    }
    setWalkEnd(&w);
    free(sm.m);
    free(sm.len);
    setDeferredArrayLen(c, at, n);
}
