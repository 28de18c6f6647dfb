/* t_hash.c - hash commands, HSET through HSCAN.
 *
 * A hash is an OR-map (crdt_ormap.h; SPEC "hash"): a field's presence is
 * add-wins and its value is an LWW register that acts as a counter under
 * HINCRBY and HINCRBYFLOAT.  The commands here check arguments and types,
 * turn each Redis write into ormap operations stamped with one fresh version
 * per command, report the change through the keyspace's one hook (dbTouched,
 * or dbDelete when the last field goes) and reply byte for byte as Redis 7.0.
 * They do not talk to peers and do not reach into the keyspace tables.
 *
 * Field order in HKEYS, HVALS, HGETALL, HSCAN and HRANDFIELD is the map's own
 * (Redis's differs too between its encodings); clients must not rely on it. */
#include "cmdlist.h"
#include "crdt_ormap.h"
#include "db.h"
#include "networking.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ormapGet's buffer for values shown as formatted numbers. */
#define HASH_VALBUF 5200

/* A reply whose length the client chooses (HRANDFIELD with a negative count)
 * stops growing here and the client is closed, as Redis closes a client past
 * its output buffer limit: memory per client stays bounded. */
#define HASH_REPLY_LIMIT ((size_t)512 * 1024 * 1024)

/* ---------- lookups and the one place a hash is created ---------- */

/* Finds the hash at key for reading (write = 0) or writing (write = 1).
 * *out is NULL when the key is missing.  Returns -1 after replying WRONGTYPE
 * when the key holds another type. */
static int hashLookup(client *c, const arg *key, int write, kv **out) {
    kv *k = write ? lookupKeyWrite(c->db, key->p, key->len) : lookupKeyRead(c->db, key->p, key->len);
    if (k && k->type != OBJ_HASH) {
        addReplyErrorWrongType(c);
        return -1;
    }
    *out = k;
    return 0;
}

/* Creates an empty hash at key, born at version v (the version of the write
 * that creates it, which also decides type clashes). */
static kv *hashCreate(client *c, const arg *key, version v) {
    kv *k = dbCreate(c->db, key->p, key->len, OBJ_HASH);
    k->enc = ENC_CRDT;
    k->v.ptr = ormapNew();
    k->ver = v;
    dbNewIncarnation(c->db, k, v);
    return k;
}

/* The OR-map a hash key holds. */
static ormap *hashMap(const kv *k) { return k->v.ptr; }

/* ---------- growable list of field names (HRANDFIELD, HSCAN) ---------- */

typedef struct fieldRef {
    const char *p;
    size_t len;
} fieldRef;

typedef struct fieldList {
    fieldRef *v;
    size_t n, cap;
} fieldList;

/* Appends a field; the pointer stays valid while the map is not modified. */
static void fieldListPush(fieldList *l, const char *p, size_t len) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 16;
        l->v = realloc(l->v, l->cap * sizeof(*l->v));
        if (!l->v) abort();
    }
    l->v[l->n].p = p;
    l->v[l->n].len = len;
    l->n++;
}

/* ormapScan's callback: collects the visited fields into a fieldList. */
static void fieldListCollect(const char *f, size_t flen, void *ctx) { fieldListPush(ctx, f, flen); }

/* Every field of m, in iteration order. */
static void fieldListAll(fieldList *l, const ormap *m) {
    ormapIter it;
    const char *f;
    size_t flen;
    ormapIterInit(&it, m);
    while (ormapIterNext(&it, &f, &flen)) fieldListPush(l, f, flen);
}

/* ---------- replies shared by several commands ---------- */

/* Replies the value of field f of m, or a null when m is NULL or the field is
 * missing. */
static void replyFieldValue(client *c, const ormap *m, const char *f, size_t flen) {
    char buf[HASH_VALBUF];
    size_t vlen;
    const char *v = m ? ormapGet(m, f, flen, buf, &vlen) : NULL;
    if (v) addReplyBulk(c, v, vlen);
    else addReplyNull(c);
}

/* Replies one field, or with values the field then its value; in RESP3 a
 * pair is a 2-element array (HRANDFIELD's shape). */
static void replyField(client *c, const ormap *m, const char *f, size_t flen, int withvalues) {
    if (withvalues && c->resp > 2) addReplyArrayLen(c, 2);
    addReplyBulk(c, f, flen);
    if (withvalues) replyFieldValue(c, m, f, flen);
}

/* Replies the header of an HRANDFIELD reply of n elements: RESP2 flattens
 * field/value pairs, RESP3 nests them. */
static void replyRandomHeader(client *c, long long n, int withvalues) {
    addReplyArrayLen(c, (long)(withvalues && c->resp == 2 ? n * 2 : n));
}

/* ---------- HSET, HMSET, HSETNX ---------- */

/* qsort_r order of argument indexes: by the argument's bytes, then index. */
static int argIndexCmp(const void *a, const void *b, void *argv) {
    int i = *(const int *)a, j = *(const int *)b;
    const arg *x = (const arg *)argv + i, *y = (const arg *)argv + j;
    size_t n = x->len < y->len ? x->len : y->len;
    int r = n ? memcmp(x->p, y->p, n) : 0;
    if (r) return r;
    if (x->len != y->len) return x->len < y->len ? -1 : 1;
    return i < j ? -1 : i > j;
}

/* For an HSET of npairs field/value pairs (fields at argv[2 + 2p]), the pairs
 * whose field is written again by a later pair: a malloc'd array with 1 at
 * those, or NULL when there is a single pair.  Redis applies the pairs in
 * order, so the last value wins; here all pairs share one version, and two
 * writes of one field at one version would tie instead, so only the last one
 * is applied. */
static unsigned char *hsetOverwritten(client *c, int npairs) {
    if (npairs < 2) return NULL;
    unsigned char *skip = calloc((size_t)npairs, 1);
    int *idx = malloc((size_t)npairs * sizeof(int));
    if (!skip || !idx) abort();
    for (int p = 0; p < npairs; p++) idx[p] = 2 + 2 * p;
    qsort_r(idx, (size_t)npairs, sizeof(int), argIndexCmp, c->argv);
    for (int i = 0; i + 1 < npairs; i++) {
        const arg *a = &c->argv[idx[i]], *b = &c->argv[idx[i + 1]];
        if (a->len == b->len && memcmp(a->p, b->p, a->len) == 0) skip[(idx[i] - 2) / 2] = 1;
    }
    free(idx);
    return skip;
}

/* HSET key field value [field value ...] (replies how many fields are new)
 * and HMSET (replies +OK).  All fields are written at one version. */
static void hsetGeneric(client *c, int hmset) {
    if (c->argc % 2 == 1) {
        addReplyErrorArity(c);
        return;
    }
    arg *key = &c->argv[1];
    kv *k;
    if (hashLookup(c, key, 1, &k) < 0) return;
    int npairs = (c->argc - 2) / 2;
    unsigned char *skip = hsetOverwritten(c, npairs);
    version v = nextVersion();
    ormap *delta = NULL;         /* a new key ships whole (its context starts at a floor) */
    if (!k) k = hashCreate(c, key, v);
    else delta = dbDeltaFor(c->db, k);
    long long created = 0;
    for (int p = 0; p < npairs; p++) {
        if (skip && skip[p]) continue;
        const arg *f = &c->argv[2 + 2 * p], *val = &c->argv[3 + 2 * p];
        created += ormapSet(hashMap(k), server.nodeId, v, f->p, f->len, val->p, val->len, delta);
    }
    free(skip);
    dbTouched(c->db, k, v);
    if (hmset) addReplyOK(c);
    else addReplyLongLong(c, created);
    notifyKeyspaceEvent(NOTIFY_HASH, "hset", key->p, key->len, c->db->id);
}

/* HSET: replies the number of new fields; HMSET: replies +OK. */
void hsetCommand(client *c) { hsetGeneric(c, 0); }
void hmsetCommand(client *c) { hsetGeneric(c, 1); }

/* HSETNX key field value: writes only a missing field; replies 1 or 0. */
void hsetnxCommand(client *c) {
    arg *key = &c->argv[1], *f = &c->argv[2], *val = &c->argv[3];
    kv *k;
    if (hashLookup(c, key, 1, &k) < 0) return;
    if (k && ormapExists(hashMap(k), f->p, f->len)) {
        addReplyLongLong(c, 0);
        return;
    }
    version v = nextVersion();
    ormap *delta = k ? dbDeltaFor(c->db, k) : NULL;
    if (!k) k = hashCreate(c, key, v);
    ormapSet(hashMap(k), server.nodeId, v, f->p, f->len, val->p, val->len, delta);
    dbTouched(c->db, k, v);
    addReplyLongLong(c, 1);
    notifyKeyspaceEvent(NOTIFY_HASH, "hset", key->p, key->len, c->db->id);
}

/* ---------- reading single fields ---------- */

/* HGET key field: the value or a null. */
void hgetCommand(client *c) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    replyFieldValue(c, k ? hashMap(k) : NULL, c->argv[2].p, c->argv[2].len);
}

/* HMGET key field [field ...]: one value or null per field; a missing key is
 * an empty hash. */
void hmgetCommand(client *c) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    addReplyArrayLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) replyFieldValue(c, k ? hashMap(k) : NULL, c->argv[j].p, c->argv[j].len);
}

/* HLEN key: the number of fields (0 for a missing key). */
void hlenCommand(client *c) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    addReplyLongLong(c, k ? (long long)ormapLen(hashMap(k)) : 0);
}

/* HSTRLEN key field: the length of the value as HGET shows it, 0 if missing. */
void hstrlenCommand(client *c) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    char buf[HASH_VALBUF];
    size_t vlen = 0;
    if (k && !ormapGet(hashMap(k), c->argv[2].p, c->argv[2].len, buf, &vlen)) vlen = 0;
    addReplyLongLong(c, (long long)vlen);
}

/* HEXISTS key field: 1 or 0 (an integer, in RESP3 too). */
void hexistsCommand(client *c) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    addReplyLongLong(c, k && ormapExists(hashMap(k), c->argv[2].p, c->argv[2].len));
}

/* ---------- HDEL ---------- */

/* HDEL key field [field ...]: removes the fields this node observes (a
 * concurrent HSET elsewhere survives: add wins) and replies how many existed.
 * The key goes away with its last field, announced as "hdel" then "del". */
void hdelCommand(client *c) {
    arg *key = &c->argv[1];
    kv *k;
    if (hashLookup(c, key, 1, &k) < 0) return;
    if (!k) {
        addReplyLongLong(c, 0);
        return;
    }
    ormap *m = hashMap(k);
    long long deleted = 0;
    ormap *delta = dbDeltaFor(c->db, k);
    for (int j = 2; j < c->argc && ormapLen(m) > 0; j++) deleted += ormapDel(m, c->argv[j].p, c->argv[j].len, delta);
    if (deleted) {
        version v = nextVersion();
        int emptied = ormapLen(m) == 0;
        if (emptied) dbDelete(c->db, k, v);
        else dbTouched(c->db, k, v);
        notifyKeyspaceEvent(NOTIFY_HASH, "hdel", key->p, key->len, c->db->id);
        if (emptied) notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key->p, key->len, c->db->id);
    }
    addReplyLongLong(c, deleted);
}

/* ---------- HKEYS, HVALS, HGETALL ---------- */

#define HASH_KEYS 1
#define HASH_VALS 2

/* Replies every field, value or both (HGETALL: a map in RESP3).  A missing
 * key replies an empty array or map. */
static void hgetallGeneric(client *c, int what) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    const ormap *m = k ? hashMap(k) : NULL;
    long n = m ? (long)ormapLen(m) : 0;
    if (what == (HASH_KEYS | HASH_VALS)) addReplyMapLen(c, n);
    else addReplyArrayLen(c, n);
    if (!m) return;
    ormapIter it;
    const char *f;
    size_t flen;
    ormapIterInit(&it, m);
    while (ormapIterNext(&it, &f, &flen)) {
        if (what & HASH_KEYS) addReplyBulk(c, f, flen);
        if (what & HASH_VALS) replyFieldValue(c, m, f, flen);
    }
}

/* HKEYS key, HVALS key, HGETALL key. */
void hkeysCommand(client *c) { hgetallGeneric(c, HASH_KEYS); }
void hvalsCommand(client *c) { hgetallGeneric(c, HASH_VALS); }
void hgetallCommand(client *c) { hgetallGeneric(c, HASH_KEYS | HASH_VALS); }

/* ---------- HINCRBY, HINCRBYFLOAT ---------- */

/* The common start of HINCRBY and HINCRBYFLOAT, once the increment is
 * parsed: the hash at argv[1] (*k NULL if missing) and the current value of
 * the field argv[2] as Redis parses the stored string, an integer (isfloat =
 * 0) or a long double (isfloat = 1), 0 for a missing field.  Returns -1 after
 * replying WRONGTYPE or Redis's error for a value that is no such number. */
static int hashIncrBegin(client *c, int isfloat, kv **k, long long *iv, long double *fv) {
    *iv = 0;
    *fv = 0;
    if (hashLookup(c, &c->argv[1], 1, k) < 0) return -1;
    if (!*k) return 0;
    reg r;
    regInit(&r);
    int ok = 1;
    if (ormapFieldReg(hashMap(*k), c->argv[2].p, c->argv[2].len, &r))
        ok = isfloat ? regFloatValue(&r, fv) : regIntValue(&r, iv);
    regFree(&r);
    if (ok) return 0;
    addReplyError(c, isfloat ? "ERR hash value is not a float" : "ERR hash value is not an integer");
    return -1;
}

/* HINCRBY key field increment: adds to the field's counter (concurrent
 * increments on other nodes all count) and replies the new integer.  The
 * checks and their order are Redis's: the increment, the type, the field's
 * value, overflow. */
void hincrbyCommand(client *c) {
    arg *key = &c->argv[1], *f = &c->argv[2];
    long long incr, value;
    long double unused;
    kv *k;
    if (getLongLongFromArg(c, &c->argv[3], &incr, NULL) < 0) return;
    if (hashIncrBegin(c, 0, &k, &value, &unused) < 0) return;
    if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) ||
        (incr > 0 && value > 0 && incr > (LLONG_MAX - value))) {
        addReplyError(c, "ERR increment or decrement would overflow");
        return;
    }
    version v = nextVersion();
    ormap *delta = k ? dbDeltaFor(c->db, k) : NULL;
    if (!k) k = hashCreate(c, key, v);
    ormapIncrBy(hashMap(k), server.nodeId, v, f->p, f->len, incr, delta);
    dbTouched(c->db, k, v);
    addReplyLongLong(c, value + incr);
    notifyKeyspaceEvent(NOTIFY_HASH, "hincrby", key->p, key->len, c->db->id);
}

/* HINCRBYFLOAT key field increment: a float increment of the field's counter.
 * Replies the new value as HGET shows it from then on (INCRBYFLOAT's
 * formatting of the register's sum, which Redis's step-by-step rounding can
 * differ from in the last digits after many increments). */
void hincrbyfloatCommand(client *c) {
    arg *key = &c->argv[1], *f = &c->argv[2];
    long double incr, value;
    long long unused;
    kv *k;
    if (getLongDoubleFromArg(c, &c->argv[3], &incr, NULL) < 0) return;
    if (isnan(incr) || isinf(incr)) {
        addReplyError(c, "ERR value is NaN or Infinity");
        return;
    }
    if (hashIncrBegin(c, 1, &k, &unused, &value) < 0) return;
    if (isnan(value + incr) || isinf(value + incr)) {
        addReplyError(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    version v = nextVersion();
    ormap *delta = k ? dbDeltaFor(c->db, k) : NULL;
    if (!k) k = hashCreate(c, key, v);
    ormapIncrByFloat(hashMap(k), server.nodeId, v, f->p, f->len, incr, delta);
    /* Redis parses, adds and formats at every step.  The register keeps a
     * running float sum per node, which can round differently (or absorb a
     * small increment after a huge one); when it does, write Redis's result
     * as the field's value so that a node answers exactly as Redis. */
    char want[5200], buf[5200];
    int wlen = ld2string(want, sizeof(want), value + incr);
    size_t glen;
    const char *got = ormapGet(hashMap(k), f->p, f->len, buf, &glen);
    if (!got || glen != (size_t)wlen || memcmp(got, want, glen) != 0)
        ormapSet(hashMap(k), server.nodeId, nextVersion(), f->p, f->len, want, (size_t)wlen, delta);
    dbTouched(c->db, k, v);
    replyFieldValue(c, hashMap(k), f->p, f->len);
    notifyKeyspaceEvent(NOTIFY_HASH, "hincrbyfloat", key->p, key->len, c->db->id);
}

/* ---------- HRANDFIELD ---------- */

/* A set of field pointers (the map's own storage, stable while it is not
 * modified), for drawing distinct random fields: open addressing, the
 * capacity a power of two at least twice the number of entries. */
typedef struct ptrSet {
    const void **slot;
    size_t mask;
} ptrSet;

/* An empty set with room for `entries` pointers. */
static void ptrSetInit(ptrSet *s, size_t entries) {
    size_t cap = 16;
    while (cap < entries * 2) cap *= 2;
    s->slot = calloc(cap, sizeof(*s->slot));
    if (!s->slot) abort();
    s->mask = cap - 1;
}

/* Adds p; returns 1 if it was not there yet. */
static int ptrSetAdd(ptrSet *s, const void *p) {
    size_t i = (size_t)(((uint64_t)(uintptr_t)p * 0x9E3779B97F4A7C15ULL) >> 17) & s->mask;
    for (;; i = (i + 1) & s->mask) {
        if (s->slot[i] == p) return 0;
        if (!s->slot[i]) {
            s->slot[i] = p;
            return 1;
        }
    }
}

/* A uniform random index below n. */
static size_t randomBelow(size_t n) { return (size_t)(randomU64() % n); }

/* HRANDFIELD key count [WITHVALUES], count already checked.  A negative
 * count draws with repetition in random order; a positive one draws
 * distinct fields: all of them when count >= size, else by discarding random
 * fields from the whole list (count close to size) or by drawing until
 * `count` distinct ones are found (count small). */
static void hrandfieldWithCount(client *c, long long l, int withvalues) {
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    if (!k || l == 0) {
        addReplyArrayLen(c, 0);
        return;
    }
    const ormap *m = hashMap(k);
    unsigned long long size = ormapLen(m), count = l < 0 ? (unsigned long long)-l : (unsigned long long)l;
    const char *f;
    size_t flen;
    if (l < 0 || count == 1) {
        replyRandomHeader(c, (long long)count, withvalues);
        if (c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) return;   /* nothing to draw for */
        while (count--) {
            ormapRandom(m, randomU64, &f, &flen);
            replyField(c, m, f, flen, withvalues);
            if (c->rlen - c->rsent > HASH_REPLY_LIMIT) freeClientAsync(c);
            if (c->flags & CLIENT_CLOSE_ASAP) break;
        }
        return;
    }
    if (count >= size) {
        replyRandomHeader(c, (long long)size, withvalues);
        ormapIter it;
        ormapIterInit(&it, m);
        while (ormapIterNext(&it, &f, &flen)) replyField(c, m, f, flen, withvalues);
        return;
    }
    replyRandomHeader(c, (long long)count, withvalues);
    if (count * 3 > size) {
        fieldList all = {NULL, 0, 0};
        fieldListAll(&all, m);
        while (all.n > count) {
            size_t drop = randomBelow(all.n);
            all.v[drop] = all.v[--all.n];
        }
        for (size_t i = 0; i < all.n; i++) replyField(c, m, all.v[i].p, all.v[i].len, withvalues);
        free(all.v);
        return;
    }
    ptrSet seen;
    ptrSetInit(&seen, count);
    for (unsigned long long added = 0; added < count;) {
        ormapRandom(m, randomU64, &f, &flen);
        if (!ptrSetAdd(&seen, f)) continue;
        replyField(c, m, f, flen, withvalues);
        added++;
    }
    free(seen.slot);
}

/* HRANDFIELD key [count [WITHVALUES]]: without a count one random field (or
 * a null); the count must be above LLONG_MIN, and with WITHVALUES within
 * half the range so that the flattened reply length fits. */
void hrandfieldCommand(client *c) {
    if (c->argc >= 3) {
        long long l;
        if (getLongLongFromArg(c, &c->argv[2], &l, NULL) < 0) return;
        if (l < -LLONG_MAX) {
            addReplyErrorFormat(c, "ERR value is out of range, value must between %lld and %lld", -LLONG_MAX, LLONG_MAX);
            return;
        }
        if (c->argc > 4 || (c->argc == 4 && !argEq(&c->argv[3], "withvalues"))) {
            addReplyErrorSyntax(c);
            return;
        }
        int withvalues = c->argc == 4;
        if (withvalues && (l < -LLONG_MAX / 2 || l > LLONG_MAX / 2)) {
            addReplyError(c, "ERR value is out of range");
            return;
        }
        hrandfieldWithCount(c, l, withvalues);
        return;
    }
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    const char *f;
    size_t flen;
    if (!k || !ormapRandom(hashMap(k), randomU64, &f, &flen)) {
        addReplyNull(c);
        return;
    }
    addReplyBulk(c, f, flen);
}

/* ---------- HSCAN ---------- */

/* HSCAN key cursor [MATCH pattern] [COUNT count]: field/value pairs.  As in
 * Redis the cursor is checked first, then the key (a missing key is an empty
 * scan), then the options; MATCH filters on the field.  A hash Redis would
 * keep as a listpack (OBJECT ENCODING says which) comes whole, with cursor
 * 0, as in Redis. */
void hscanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursor(c, &c->argv[2], &cursor) < 0) return;
    kv *k;
    if (hashLookup(c, &c->argv[1], 0, &k) < 0) return;
    if (!k) {
        addReplyArrayLen(c, 2);
        addReplyBulk(c, "0", 1);
        addReplyArrayLen(c, 0);
        return;
    }
    long long count;
    arg *pat;
    if (parseScanOptions(c, 3, &count, &pat, NULL) < 0) return;
    const ormap *m = hashMap(k);
    fieldList found = {NULL, 0, 0};
    if (strcmp(kvEncodingName(k), "listpack") == 0) {
        fieldListAll(&found, m);
        cursor = 0;
    } else {
        long long maxiter = count > LLONG_MAX / 10 ? LLONG_MAX : count * 10;
        do {
            cursor = ormapScan(m, cursor, fieldListCollect, &found);
        } while (cursor && maxiter-- && found.n < (size_t)count);
    }
    char buf[24];
    int len = ull2string(buf, sizeof(buf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulk(c, buf, (size_t)len);
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    for (size_t i = 0; i < found.n; i++) {
        const fieldRef *f = &found.v[i];
        if (pat && !stringmatchlen(pat->p, pat->len, f->p, f->len, 0)) continue;
        addReplyBulk(c, f->p, f->len);
        replyFieldValue(c, m, f->p, f->len);
        n += 2;
    }
    free(found.v);
    setDeferredArrayLen(c, at, n);
}
