/* db.c - the keyspace: databases of versioned keys, their deadlines and the
 * tombstones of deleted keys.  Every change to a key ends in dbKeyChanged(),
 * the one hook through which WATCH (and later the Merkle tree, peers and
 * persistence) learn of it.  Commands never touch the tables directly. */
#include "db.h"
#include "config.h"
#include "multi.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>

#define MAX_OBSERVERS 8

static db *dbs;
static int ndbs;
static keyChangeObserver observers[MAX_OBSERVERS];
static int nobservers;

static const char *kvKeyOf(const dictLink *n, size_t *len) {
    const kv *k = (const kv *)n;
    *len = k->keylen;
    return k->key;
}

static const char *expireKeyOf(const dictLink *n, size_t *len) {
    const expireEntry *e = (const expireEntry *)n;
    *len = e->k->keylen;
    return e->k->key;
}


const char *watchedKeyOf(const dictLink *n, size_t *len);

void dbInitAll(int count) {
    ndbs = count;
    dbs = calloc((size_t)count, sizeof(db));
    if (!dbs) abort();
    for (int i = 0; i < count; i++) {
        dbs[i].id = i;
        dictInit(&dbs[i].keys, kvKeyOf);
        dictInit(&dbs[i].expires, expireKeyOf);
        tombsInit(&dbs[i].tombs);
        dictInit(&dbs[i].watched, watchedKeyOf);
    }
}

int dbCount(void) { return ndbs; }
db *dbAt(int id) { return (id >= 0 && id < ndbs) ? &dbs[id] : NULL; }

void dbAddObserver(keyChangeObserver fn) {
    if (nobservers < MAX_OBSERVERS) observers[nobservers++] = fn;
}

int dbApplyingRemote;
int dbDeadlineOnly;
int dbTotalOnly;
void (*dbSwapHook)(void);
void *(*dbDeltaProvider)(db *d, kv *k);

void *dbDeltaFor(db *d, kv *k) { return dbDeltaProvider ? dbDeltaProvider(d, k) : NULL; }

/* The one change hook. */
void dbKeyChanged(db *d, const char *key, size_t len, kv *k, uint64_t prevMerkle, version ver) {
    server.dirty++;
    for (int i = 0; i < nobservers; i++) observers[i](d, key, len, k, prevMerkle, ver);
}

/* ---------- lookups ---------- */

kv *dbFind(db *d, const char *key, size_t len) {
    return (kv *)dictFind(&d->keys, key, len);
}

void dbPrefetchKeys(const dbKeyRef *refs, int n) {
    uint64_t hash[DB_PREFETCH_MAX];
    if (n > DB_PREFETCH_MAX) n = DB_PREFETCH_MAX;
    for (int i = 0; i < n; i++) {
        hash[i] = dictHashKey(refs[i].key, refs[i].len);
        dictPrefetchBucket(&refs[i].d->keys, hash[i]);
    }
    for (int i = 0; i < n; i++) dictPrefetchNode(&refs[i].d->keys, hash[i]);
    int members = 0;
    for (int i = 0; i < n; i++) {
        const kv *k = (const kv *)dictBucketHead(&refs[i].d->keys, hash[i]);
        if (k && k->enc != ENC_INT) __builtin_prefetch(k->v.ptr);
        members |= refs[i].member != NULL;
    }
    if (!members) return;
    /* the member's lookups in the (large) set or hash: hash[i] becomes the
     * member's hash, or 0 where there is nothing to prefetch */
    const void *val[DB_PREFETCH_MAX];
    uint8_t type[DB_PREFETCH_MAX];
    for (int i = 0; i < n; i++) {
        const kv *k = (const kv *)dictBucketHead(&refs[i].d->keys, hash[i]);
        hash[i] = 0;
        if (!refs[i].member || !k || k->keylen != refs[i].len || memcmp(k->key, refs[i].key, refs[i].len) != 0 ||
            (k->type != OBJ_SET && k->type != OBJ_HASH))
            continue;
        hash[i] = dictHashKey(refs[i].member, refs[i].mlen);
        val[i] = k->v.ptr;
        type[i] = (uint8_t)k->type;
    }
    for (int stage = 0; stage < 3; stage++) {
        for (int i = 0; i < n; i++) {
            if (!hash[i]) continue;
            if (type[i] == OBJ_SET) orsetPrefetch(val[i], hash[i], stage);
            else ormapPrefetch(val[i], hash[i], stage);
        }
    }
}

static int kvIs(const kv *k, const char *key, size_t len) {
    return k->keylen == len && memcmp(k->key, key, len) == 0;
}

/* A peer record's key, ahead of its merge (sync.c), one stage per loop
 * iteration so that each finds the previous one's lines cached: stage 0
 * brings in the second node of the key's chain when the first is another
 * key's, stage 1 the value the key's node holds, stage 2 a counter's totals,
 * base and view, what its merge and the new view read. */
void dbPrefetchValue(db *d, const char *key, size_t len, uint64_t hash, int stage) {
    const kv *k = (const kv *)dictBucketHead(&d->keys, hash);
    if (stage == 0) {
        if (k && k->link.next && !kvIs(k, key, len)) __builtin_prefetch(k->link.next);
        return;
    }
    while (k && !kvIs(k, key, len)) k = (const kv *)k->link.next;
    if (!k || k->enc == ENC_INT) return;
    if (stage == 1) {
        __builtin_prefetch(k->v.ptr);
    } else if (k->type == OBJ_STRING && k->enc == ENC_COUNTER) {
        const strCounter *sc = k->v.ptr;
        __builtin_prefetch(sc->r.tot);
        __builtin_prefetch(sc->r.val);
        __builtin_prefetch(sc->view);
    }
}

static expireEntry *findExpire(db *d, const kv *k) {
    return (expireEntry *)dictFind(&d->expires, k->key, k->keylen);
}

int64_t getExpire(db *d, const kv *k) {
    if (!k->hasExpire) return -1;
    expireEntry *e = findExpire(d, k);
    return e ? e->when : -1;
}

keyDeadline getDeadline(db *d, const kv *k) {
    keyDeadline dl = {-1, k->ver};
    expireEntry *e = k->hasExpire ? findExpire(d, k) : NULL;
    if (e) {
        dl.when = e->when;
        dl.ver = e->ver;
    }
    return dl;
}

int keyIsExpired(db *d, const kv *k) {
    if (!k->hasExpire) return 0;
    int64_t when = getExpire(d, k);
    return when >= 0 && when <= server.mstime;
}

/* The deletion that expiry makes is stamped at the deadline itself, so that
 * every node that expires the key makes the same tombstone. */
static void expireKeyNow(db *d, kv *k) {
    int64_t when = getExpire(d, k);
    version v = k->ver;
    uint64_t atDeadline = hlcMake((uint64_t)when, 0);
    v.stamp = atDeadline > k->ver.stamp ? atDeadline : k->ver.stamp + 1;
    /* a write right after must be stamped past the expiry, or it would lose to it */
    hlcObserve(&server.clock, v.stamp, (uint64_t)server.mstime);
    char keybuf[256];
    size_t len = k->keylen;
    char *key = len <= sizeof(keybuf) ? keybuf : malloc(len);
    if (!key) abort();
    memcpy(key, k->key, len);
    dbDelete(d, k, v);
    server.stat.expiredkeys++;
    notifyKeyspaceEvent(NOTIFY_EXPIRED, "expired", key, len, d->id);
    if (key != keybuf) free(key);
}

static kv *lookupExpiring(db *d, const char *key, size_t len) {
    kv *k = dbFind(d, key, len);
    if (k && k->hasExpire && keyIsExpired(d, k)) {
        expireKeyNow(d, k);
        return NULL;
    }
    return k;
}

kv *lookupKeyWrite(db *d, const char *key, size_t len) { return lookupExpiring(d, key, len); }

kv *lookupKeyNoTouch(db *d, const char *key, size_t len) { return lookupExpiring(d, key, len); }

kv *lookupKeyReadFlags(db *d, const char *key, size_t len, int flags) {
    kv *k = lookupExpiring(d, key, len);
    if (k) {
        server.stat.keyspaceHits++;
        if (!(flags & LOOKUP_NOTOUCH)) k->lru = server.lruclock;
    } else {
        server.stat.keyspaceMisses++;
        if (!(flags & LOOKUP_NONOTIFY)) notifyKeyspaceEvent(NOTIFY_KEY_MISS, "keymiss", key, len, d->id);
    }
    return k;
}

kv *lookupKeyRead(db *d, const char *key, size_t len) { return lookupKeyReadFlags(d, key, len, 0); }

/* ---------- mutation ---------- */

kv *dbCreate(db *d, const char *key, size_t len, int type) {
    kv *k = malloc(sizeof(kv) + len);
    if (!k) abort();
    memset(k, 0, sizeof(kv));
    k->type = (uint32_t)type;
    k->enc = ENC_INT;
    k->keylen = (uint32_t)len;
    k->lru = server.lruclock;
    memcpy(k->key, key, len);
    dictAdd(&d->keys, &k->link);
    notifyKeyspaceEvent(NOTIFY_NEW, "new", k->key, len, d->id);   /* before the command's own event */
    return k;
}

void dbTouched(db *d, kv *k, version ver) {
    k->lru = server.lruclock;
    tombsForget(&d->tombs, k->key, k->keylen);
    dbKeyChanged(d, k->key, k->keylen, k, k->mhash, ver);
}

void dbDeadlineTouched(db *d, kv *k, version ver) {
    dbDeadlineOnly = 1;
    dbTouched(d, k, ver);
    dbDeadlineOnly = 0;
}

void dbIncremented(db *d, kv *k, version ver) {
    dbTotalOnly = 1;
    dbTouched(d, k, ver);
    dbTotalOnly = 0;
}

void dbWritten(db *d, kv *k, version ver) {
    if (k->type == OBJ_STRING) {
        if (dictSize(&d->tombs)) dbNewIncarnation(d, k, ver);
        if (k->enc == ENC_COUNTER) {
            strCounter *sc = k->v.ptr;
            regSet(&sc->r, ver, sc->view->buf, sc->view->len, NULL);
        }
        k->ver = ver;
    }
    dbTouched(d, k, ver);
}

static void unlinkKey(db *d, kv *k) {
    removeExpire(d, k);
    dictUnlink(&d->keys, k->key, k->keylen);
}

/* Takes a deleted key's value for its tombstone: the value emptied by an
 * observed remove at ver (a counter's register, a set, a hash); returns its
 * tombstone kind and leaves k holding nothing to free. */
static int tombPayloadOf(kv *k, version ver, void **payload) {
    int kind = TOMB_PLAIN;
    *payload = NULL;
    if (k->type == OBJ_SET && k->v.ptr) {
        orsetClear(k->v.ptr, NULL);
        kind = TOMB_SET;
    } else if (k->type == OBJ_HASH && k->v.ptr) {
        ormapClear(k->v.ptr, NULL);
        kind = TOMB_HASH;
    } else if (k->type == OBJ_STRING && k->enc == ENC_COUNTER) {
        strCounter *sc = k->v.ptr;
        reg *r = malloc(sizeof(*r));
        if (!r) abort();
        regDelete(&sc->r, ver, NULL);
        *r = sc->r;
        svalFree(sc->view);
        free(sc);
        *payload = r;
        k->type = OBJ_STRING;
        k->enc = ENC_INT;
        k->v.ptr = NULL;
        return TOMB_REG;
    } else {
        return TOMB_PLAIN;
    }
    *payload = k->v.ptr;
    k->type = OBJ_STRING;
    k->enc = ENC_INT;
    k->v.ptr = NULL;
    return kind;
}

/* The stamp a tombstone is seen at: past every version this node knows. */
static uint64_t seenNow(void) { return server.clock.last; }

void dbDelete(db *d, kv *k, version ver) {
    unlinkKey(d, k);
    void *payload;
    int kind = tombPayloadOf(k, ver, &payload);
    tombsRecord(&d->tombs, k->key, k->keylen, ver, seenNow(), kind, payload);
    dbKeyChanged(d, k->key, k->keylen, NULL, k->mhash, ver);
    freeValue(k);
    free(k);
}

void *dbTombPayload(db *d, const char *key, size_t len, int kind) {
    if (dictSize(&d->tombs) == 0) return NULL;
    return tombsTakePayload(tombsFind(&d->tombs, key, len), kind);
}

void dbNewIncarnation(db *d, kv *k, version v) {
    if (k->type == OBJ_SET) {
        orset *seed = dbTombPayload(d, k->key, k->keylen, TOMB_SET);
        if (!seed) seed = orsetNew();
        orsetObserveUpTo(seed, server.nodeId, v.stamp);
        orsetIter it;
        const char *m;
        size_t len;
        orsetIterInit(&it, k->v.ptr);
        while (orsetIterNext(&it, &m, &len)) orsetAdd(seed, server.nodeId, m, len, NULL);
        orsetFree(k->v.ptr);
        k->v.ptr = seed;
    } else if (k->type == OBJ_HASH) {
        ormap *seed = dbTombPayload(d, k->key, k->keylen, TOMB_HASH);
        if (!seed) seed = ormapNew();
        ormapObserveUpTo(seed, server.nodeId, v.stamp);
        ormapIter it;
        const char *f;
        size_t flen;
        ormapIterInit(&it, k->v.ptr);
        while (ormapIterNext(&it, &f, &flen)) {
            char buf[5200];
            size_t vlen;
            const char *val = ormapGet(k->v.ptr, f, flen, buf, &vlen);
            ormapSet(seed, server.nodeId, v, f, flen, val, vlen, NULL);
        }
        ormapFree(k->v.ptr);
        k->v.ptr = seed;
    } else if (k->type == OBJ_STRING) {
        reg *seed = dictSize(&d->tombs) ? dbTombPayload(d, k->key, k->keylen, TOMB_REG) : NULL;
        if (!seed) return;
        /* the command that wrote k may still hold its sval: it becomes the view */
        sval *view;
        if (k->enc == ENC_RAW) {
            view = k->v.s;
        } else {
            char buf[24];
            size_t len;
            const char *p = kvStringView(k, buf, &len);
            view = svalNew(p, len);
            freeValue(k);
        }
        strCounter *sc = calloc(1, sizeof(*sc));
        if (!sc) abort();
        sc->r = *seed;
        free(seed);
        regSet(&sc->r, v, view->buf, view->len, NULL);
        sc->view = view;
        k->type = OBJ_STRING;
        k->enc = ENC_COUNTER;
        k->v.ptr = sc;
    }
}

int dbDeleteKey(db *d, const char *key, size_t len, version ver) {
    kv *k = lookupKeyWrite(d, key, len);
    if (!k) return 0;
    dbDelete(d, k, ver);
    return 1;
}

tombstone *dbFindTombstone(db *d, const char *key, size_t len) { return tombsFind(&d->tombs, key, len); }

size_t dbCollectTombstones(db *d, uint64_t syncedStamp, size_t max) {
    return tombsCollect(&d->tombs, &d->tombCursor, syncedStamp, max);
}

long long dbTotalTombstones(void) {
    long long n = 0;
    for (int i = 0; i < ndbs; i++) n += (long long)dictSize(&dbs[i].tombs);
    return n;
}

/* ---------- expiry ---------- */

void setExpire(db *d, kv *k, int64_t when, version ver) {
    expireEntry *e = k->hasExpire ? findExpire(d, k) : NULL;
    if (!e) {
        e = malloc(sizeof(*e));
        if (!e) abort();
        e->k = k;
        e->when = 0;
        dictAdd(&d->expires, &e->link);
        k->hasExpire = 1;
    }
    if (e->when == -1) d->persisted--;
    if (when == -1) d->persisted++;
    e->when = when;
    e->ver = ver;
}

int removeExpire(db *d, kv *k) {
    if (!k->hasExpire) return 0;
    expireEntry *e = (expireEntry *)dictUnlink(&d->expires, k->key, k->keylen);
    k->hasExpire = 0;
    if (!e) return 0;
    int real = e->when != -1;
    if (!real) d->persisted--;
    free(e);
    return real;
}

typedef struct expireSample {
    db *d;
    kv *expired[64];
    int nexpired;
    int sampled;
} expireSample;

static void sampleExpire(dictLink *l, void *ctx) {
    expireSample *s = ctx;
    expireEntry *e = (expireEntry *)l;
    s->sampled++;
    if (e->when >= 0 && e->when <= server.mstime && s->nexpired < 64) s->expired[s->nexpired++] = e->k;
}

/* Like Redis's active expiry: walk each db's deadlines with a SCAN cursor,
 * deleting what is due, until the time budget is used or a round finds few
 * expired keys. */
void activeExpireCycle(int64_t budgetUs) {
    static int nextDb;
    int64_t start = ustime();
    for (int j = 0; j < ndbs; j++) {
        db *d = &dbs[(nextDb + j) % ndbs];
        int rounds = 0;
        while (dictSize(&d->expires) > 0) {
            expireSample s = {d, {0}, 0, 0};
            int buckets = 0;
            do {
                d->expiresCursor = dictScan(&d->expires, d->expiresCursor, sampleExpire, &s);
                buckets++;
            } while (d->expiresCursor != 0 && s.sampled < 20 && buckets < 400);
            for (int i = 0; i < s.nexpired; i++) {
                /* Re-check: an earlier deletion in this batch may not affect it,
                 * but be safe against duplicates from the scan. */
                kv *k = s.expired[i];
                int dup = 0;
                for (int x = 0; x < i; x++) if (s.expired[x] == k) dup = 1;
                if (!dup && keyIsExpired(d, k)) expireKeyNow(d, k);
            }
            rounds++;
            if (s.sampled == 0 || s.nexpired * 10 < s.sampled) break;
            if ((rounds & 15) == 0 && ustime() - start > budgetUs) {
                server.stat.expiredTimeCapReached++;
                nextDb = (nextDb + j) % ndbs;
                return;
            }
        }
    }
    nextDb = (nextDb + 1) % ndbs;
}

/* ---------- whole-db operations ---------- */

static void freeKvNode(dictLink *l, void *ctx) {
    (void)ctx;
    kv *k = (kv *)l;
    freeValue(k);
    free(k);
}

static void freePlainNode(dictLink *l, void *ctx) {
    (void)ctx;
    free(l);
}

typedef struct flushCtx {
    db *d;
    version ver;
} flushCtx;

/* FLUSHDB deletes every key this node holds: each leaves a tombstone so that
 * peers delete the same keys, and concurrent writes elsewhere survive. */
static void flushOne(dictLink *l, void *ctx) {
    flushCtx *f = ctx;
    kv *k = (kv *)l;
    void *payload;
    int kind = tombPayloadOf(k, f->ver, &payload);
    tombsRecord(&f->d->tombs, k->key, k->keylen, f->ver, seenNow(), kind, payload);
    dbKeyChanged(f->d, k->key, k->keylen, NULL, k->mhash, f->ver);
}

static long long emptyOne(db *d, version ver) {
    long long n = (long long)dictSize(&d->keys);
    if (nobservers > 0 || n) {
        dictIter it;
        dictIterInit(&it, &d->keys);
        flushCtx f = {d, ver};
        dictLink *l;
        while ((l = dictNext(&it))) flushOne(l, &f);
        dictIterEnd(&it);
    }
    dictClear(&d->expires, freePlainNode, NULL);
    dictClear(&d->keys, freeKvNode, NULL);
    d->avgTtl = 0;
    d->expiresCursor = 0;
    d->persisted = 0;
    return n;
}

long long emptyDb(int dbid) {
    long long removed = 0;
    version ver = nextVersion();
    for (int i = 0; i < ndbs; i++) {
        if (dbid != -1 && i != dbid) continue;
        removed += emptyOne(&dbs[i], ver);
    }
    return removed;
}

/* Swaps contents; the dicts' callbacks are identical so the structs swap whole.
 * Watched-key tables stay with their db number. */
int dbSwap(int a, int b) {
    if (a < 0 || b < 0 || a >= ndbs || b >= ndbs) return -1;
    if (a == b) return 0;
    db *x = &dbs[a], *y = &dbs[b];
    dict tk = x->keys, te = x->expires, tt = x->tombs;
    x->keys = y->keys; x->expires = y->expires; x->tombs = y->tombs;
    y->keys = tk; y->expires = te; y->tombs = tt;
    long long ta = x->avgTtl; x->avgTtl = y->avgTtl; y->avgTtl = ta;
    long long tp = x->persisted; x->persisted = y->persisted; y->persisted = tp;
    x->expiresCursor = y->expiresCursor = 0;
    touchAllWatchedKeysInDb(x, y);
    touchAllWatchedKeysInDb(y, x);
    if (dbSwapHook) dbSwapHook();
    return 0;
}

long long dbTotalKeys(void) {
    long long n = 0;
    for (int i = 0; i < ndbs; i++) n += (long long)dictSize(&dbs[i].keys);
    return n;
}

long long dbTotalExpires(void) {
    long long n = 0;
    for (int i = 0; i < ndbs; i++) n += (long long)dictSize(&dbs[i].expires) - dbs[i].persisted;
    return n;
}

/* A random live key; gives up after a bounded number of expired picks, as Redis does. */
kv *dbRandomKey(db *d) {
    for (int tries = 0; tries < 100; tries++) {
        kv *k = (kv *)dictRandom(&d->keys, randomU64);
        if (!k) return NULL;
        if (!k->hasExpire || !keyIsExpired(d, k)) return k;
        if (dictSize(&d->keys) == dictSize(&d->expires) && tries > 50) return k;
        expireKeyNow(d, k);
    }
    return NULL;
}

void dbCron(void) {
    for (int i = 0; i < ndbs; i++) {
        db *d = &dbs[i];
        dictShrinkIfSparse(&d->keys);
        dictShrinkIfSparse(&d->expires);
        dictShrinkIfSparse(&d->tombs);
        dictRehashSteps(&d->keys, 100);
        dictRehashSteps(&d->expires, 100);
        dictRehashSteps(&d->tombs, 100);
    }
}
