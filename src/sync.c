/* sync.c - streaming local changes to peers and Merkle-tree anti-entropy.
 *
 * Streaming: db.c's change hook notes each changed key in the outbox; set and
 * hash commands also hand their CRDT operations a delta accumulator
 * (syncDeltaFor).  A millisecond after the first change noted (batchTimer),
 * syncFlush encodes every noted key - its accumulated delta, or its whole
 * state when a change was not captured as a delta, or its tombstone - into
 * one batch sent as PEER DELTA to every online peer.  A key written in many
 * loop iterations of that millisecond ships once.  Changes applied from a peer are not
 * noted (dbApplyingRemote), so nothing echoes.
 *
 * The Merkle tree (merkle.h): each live key contributes keystateHash() to the
 * leaf given by the low bits of its name's hash.  The hook takes a changed
 * key's old contribution out at once and queues the key; its new one is
 * computed lazily, when a round needs the tree, so a burst of writes to one
 * big set costs one digest.  Tombstones are not in the tree (a tombstone and
 * no key at all look the same to a reader), but they are listed with the keys
 * of a differing leaf, so a delete reaches a node still holding the value.
 *
 * Anti-entropy, driven on a link by the node with the smaller id: compare
 * node hashes level by level from the root (PEER HASHES), list the keys of
 * differing leaves in slices (PEER LEAVES), push our differing states (PEER
 * MERGE) and fetch theirs (PEER GET).  A completed round tells both sides
 * that the other had merged all they held when it began: the stamp tombstone
 * collection waits for. */
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "crdt_codec.h"
#include "crdt_ormap.h"
#include "crdt_orset.h"
#include "keystate.h"
#include "merkle.h"
#include "server.h"
#include "util.h"

#define BATCH_MAX (1024 * 1024)          /* bytes per PEER DELTA / MERGE / reply */
#define LEAVES_PER_SLICE 256
#define DELTA_OPS_MAX 64                 /* operations one set/hash delta accumulates before it ships */
#define TOMB_COLLECT_PER_CRON 10000
#define AE_FULL_EVERY 10                 /* every 10th round on a link repairs keys in use too */

/* ---------- Merkle bookkeeping ---------- */

static merkle *tree;
static cbuf dirtyKeys;                   /* queued keys: varint db, bytes name */

static uint32_t leafOf(const char *key, size_t len) { return merkleLeafFor(dictHashKey(key, len)); }

static void queueDirty(db *d, kv *k) {
    if (k->merkleDirty) return;
    k->merkleDirty = 1;
    cbufPutVarint(&dirtyKeys, (uint64_t)d->id);
    cbufPutBytes(&dirtyKeys, k->key, k->keylen);
}

/* Queues of key names (merkle's dirty keys, the outbox) are buffers of
 * (varint db, bytes name); this reads the next one.  0 at the end. */
static int nextQueued(creader *r, db **d, const char **key, size_t *len) {
    uint64_t dbid;
    if (creaderLeft(r) == 0 || creaderGetVarint(r, &dbid) || creaderGetBytes(r, key, len)) return 0;
    *d = dbAt((int)dbid);
    return *d != NULL;
}

/* Brings every queued key's contribution into the tree. */
static void merkleRefresh(void) {
    if (!tree || dirtyKeys.len == 0) return;
    creader r;
    creaderInit(&r, dirtyKeys.p, dirtyKeys.len);
    db *d;
    const char *key;
    size_t len;
    while (nextQueued(&r, &d, &key, &len)) {
        kv *k = dbFind(d, key, len);
        if (!k || !k->merkleDirty) continue;
        k->merkleDirty = 0;
        k->mhash = keystateHash(d, k);
        merkleAdd(tree, leafOf(key, len), k->mhash);
    }
    dirtyKeys.len = 0;
}

static void rebuildTree(void) {
    merkleClear(tree);
    dirtyKeys.len = 0;
    for (int i = 0; i < dbCount(); i++) {
        db *d = dbAt(i);
        dictIter it;
        dictIterInit(&it, &d->keys);
        dictLink *l;
        while ((l = dictNext(&it))) {
            kv *k = (kv *)l;
            k->merkleDirty = 0;
            k->mhash = keystateHash(d, k);
            merkleAdd(tree, leafOf(k->key, k->keylen), k->mhash);
        }
        dictIterEnd(&it);
    }
}

/* The first peer: the tree is built by a scan over every database, a slice
 * of about 2 ms per loop iteration, so a large keyspace never stalls
 * clients.  Meanwhile changes keep it exact as usual (a key's contribution
 * is in the tree once mhash is set: the scan skips such keys and the ones
 * queued as dirty), and no anti-entropy round runs against it. */
static int building;
static int drives(const peer *p);
static void startRound(peer *p);
static int buildDb;
static uint64_t buildCursor;
static int64_t buildStartUs;
static ev_prepare buildWatcher;     /* a slice every loop iteration (under load) */
static ev_idle buildIdle;           /* and no blocking in between while idle */

static void buildVisit(dictLink *l, void *ctx) {
    db *d = ctx;
    kv *k = (kv *)l;
    if (k->merkleDirty || k->mhash) return;
    k->mhash = keystateHash(d, k);
    merkleAdd(tree, leafOf(k->key, k->keylen), k->mhash);
}

static void buildSlice(void) {
    int64_t start = ustime();
    int steps = 0;
    while (buildDb < dbCount()) {
        db *d = dbAt(buildDb);
        buildCursor = dictSize(&d->keys) ? dictScan(&d->keys, buildCursor, buildVisit, d) : 0;
        if (buildCursor == 0) buildDb++;
        if ((++steps & 63) == 0 && ustime() - start > 2000) return;
    }
    building = 0;
    ev_prepare_stop(server.loop, &buildWatcher);
    ev_idle_stop(server.loop, &buildIdle);
    for (peer *p = peerList(); p; p = p->next)
        if (p->state == PEER_ONLINE && !p->ae && drives(p)) startRound(p);
    serverLog(LL_NOTICE, "Merkle tree built over %lld keys in %lld ms", dbTotalKeys(),
              (long long)(ustime() - buildStartUs) / 1000);
}

static void onBuildPrepare(struct ev_loop *loop, ev_prepare *w, int revents) {
    (void)loop; (void)w; (void)revents;
    buildSlice();
}

static void onBuildIdle(struct ev_loop *loop, ev_idle *w, int revents) {
    (void)loop; (void)w; (void)revents;
    buildSlice();
}

void syncActivate(void) {
    if (tree) return;
    tree = merkleNew();
    building = 1;
    buildDb = 0;
    buildCursor = 0;
    buildStartUs = ustime();
    ev_prepare_init(&buildWatcher, onBuildPrepare);
    ev_prepare_start(server.loop, &buildWatcher);
    ev_idle_init(&buildIdle, onBuildIdle);
    ev_idle_start(server.loop, &buildIdle);
}

/* ---------- the outbox ---------- */

/* Keys changed since the last flush, as (varint db << 1 | deleted, bytes
 * name): a live key is noted once (kv.outboxQueued), a deletion each time
 * (rare, and shipping a tombstone twice is harmless).  Set and hash writes also keep a delta entry,
 * looked up by name, with the delta their operations accumulated. */
static cbuf outNames;
/* The PEER DELTA being built.  Keys are noted over every loop iteration
 * until batchTimer fires, then encoded and sent together, so that a peer gets
 * one command with many records, decoded and prefetched ahead of each other,
 * rather than one command per iteration (at -P 1 that was two records a
 * command), and a key written in several iterations ships once. */
static cbuf batch;
static ev_timer batchTimer;
#define BATCH_COALESCE_S 0.001

typedef struct deltaEntry {
    dictLink link;
    void *delta;                 /* orset * / ormap * accumulated */
    uint8_t deltaType;           /* OBJ_SET / OBJ_HASH */
    uint8_t full;                /* some change was not captured: ship the whole state */
    uint8_t deadlineOnly;        /* noted for EXPIRE/PERSIST: with no delta, ship the deadline alone */
    uint64_t capturedBy;         /* the command (stat.numcommands + 1) whose next change delta covers; 0 = none */
    uint32_t ops;                /* operations the delta holds */
    uint32_t namelen;            /* 4 bytes of db id, then the key */
    char name[];
} deltaEntry;

static dict deltas;

static const char *deltaKeyOf(const dictLink *n, size_t *len) {
    const deltaEntry *e = (const deltaEntry *)n;
    *len = e->namelen;
    return e->name;
}

/* The name of (d, key) in the deltas table, in buf when it fits. */
static char *deltaName(db *d, const char *key, size_t len, char *buf, size_t size) {
    char *name = len + 4 <= size ? buf : malloc(len + 4);
    if (!name) abort();
    uint32_t id = (uint32_t)d->id;
    memcpy(name, &id, 4);
    memcpy(name + 4, key, len);
    return name;
}

static deltaEntry *deltaFind(db *d, const char *key, size_t len, int create) {
    if (!create && dictSize(&deltas) == 0) return NULL;
    char buf[256];
    char *name = deltaName(d, key, len, buf, sizeof(buf));
    deltaEntry *e = (deltaEntry *)dictFind(&deltas, name, len + 4);
    if (!e && create) {
        e = calloc(1, sizeof(*e) + len + 4);
        if (!e) abort();
        e->namelen = (uint32_t)len + 4;
        memcpy(e->name, name, len + 4);
        dictAdd(&deltas, &e->link);
    }
    if (name != buf) free(name);
    return e;
}

static void deltaEntryFree(dictLink *l, void *ctx) {
    (void)ctx;
    deltaEntry *e = (deltaEntry *)l;
    if (e->delta) {
        if (e->deltaType == OBJ_SET) orsetFree(e->delta);
        else ormapFree(e->delta);
    }
    free(e);
}

void *syncDeltaFor(db *d, kv *k) {
    if (!peerStreaming() || (k->type != OBJ_SET && k->type != OBJ_HASH)) return NULL;
    deltaEntry *e = deltaFind(d, k->key, k->keylen, 0);
    if (!e) {
        e = deltaFind(d, k->key, k->keylen, 1);
        /* a change noted before without an entry (the write that created the
         * key) was not captured: later deltas must not stand in for it */
        if (k->outboxQueued) e->full = 1;
    }
    if (e->full) return NULL;
    if (e->delta && e->deltaType != k->type) {
        e->full = 1;
        return NULL;
    }
    if (e->delta && e->ops >= DELTA_OPS_MAX) {
        /* a long run of writes to one key in one batch ships in chunks:
         * each write adds dots to the delta's context, whose sorted arrays
         * would cost O(run) per write if the delta kept growing */
        keystateEncodeDelta(&batch, d, k, e->delta);
        peerStat.deltasSent++;
        if (e->deltaType == OBJ_SET) orsetFree(e->delta);
        else ormapFree(e->delta);
        e->delta = NULL;
    }
    if (!e->delta) {
        e->deltaType = (uint8_t)k->type;
        e->delta = k->type == OBJ_SET ? (void *)orsetNewDelta() : (void *)ormapNewDelta();
        e->ops = 0;
    }
    e->ops++;
    e->capturedBy = server.stat.numcommands + 1;   /* +1: never 0 */
    return e->delta;
}

/* 1 if a key's Merkle contribution costs little to compute (a string, a
 * small set or hash): then it is computed at once, while the key is in cache,
 * instead of being looked up again later. */
static int cheapToHash(const kv *k) {
    if (k->type == OBJ_SET) return orsetCard(k->v.ptr) <= 32;
    if (k->type == OBJ_HASH) return ormapLen(k->v.ptr) <= 32;
    return 1;
}

static void onKeyChanged(db *d, const char *key, size_t len, kv *k, uint64_t prevMerkle, version ver) {
    (void)ver;
    if (tree) {
        uint32_t leaf = leafOf(key, len);
        if (k && cheapToHash(k)) {
            k->merkleDirty = 0;              /* a queued entry, if any, is skipped */
            k->mhash = keystateHash(d, k);
            merkleReplace(tree, leaf, prevMerkle, k->mhash);
        } else {
            if (prevMerkle) merkleRemove(tree, leaf, prevMerkle);
            if (k) {
                k->mhash = 0;
                queueDirty(d, k);
            }
        }
    }
    if (dbApplyingRemote || !peerStreaming()) return;
    int noted = k && k->outboxQueued;
    if (!noted) {
        if (k) {
            k->outboxQueued = 1;
            k->outboxTotalOnly = dbTotalOnly != 0;
        }
        cbufPutVarint(&outNames, (uint64_t)d->id << 1 | (k == NULL));
        cbufPutBytes(&outNames, key, len);
    } else if (!dbTotalOnly) {
        k->outboxTotalOnly = 0;          /* some other change: the whole state */
    }
    deltaEntry *e = deltaFind(d, key, len, 0);
    if (dbDeadlineOnly && k && (k->type == OBJ_SET || k->type == OBJ_HASH)) {
        /* every record of the key carries its deadline: only a key noted for
         * nothing else ships a deadline record ('D') instead of its value */
        if (!e && !noted) deltaFind(d, key, len, 1)->deadlineOnly = 1;
        return;
    }
    /* covered by a delta only if the same command asked for it (a command
     * that asked but changed nothing must not cover a later command's change) */
    if (!e) return;
    if (k && e->capturedBy == server.stat.numcommands + 1) e->capturedBy = 0;
    else e->full = 1;
}

static void sendBatch(const char *sub, cbuf *b) {
    if (b->len == 0) return;
    const char *argv[3] = {"PEER", sub, b->p};
    size_t lens[3] = {4, strlen(sub), b->len};
    peerBroadcast(3, argv, lens);
    b->len = 0;
}

/* Ships the changes noted since the last flush: one PEER DELTA batch (or a
 * few, if large), written at once. */
static void syncFlush(void) {
    if (outNames.len == 0 && batch.len == 0) return;
    int streaming = peerStreaming();
    creader r;
    creaderInit(&r, outNames.p, outNames.len);
    uint64_t head;
    const char *key;
    size_t len;
    while (creaderLeft(&r) > 0 && creaderGetVarint(&r, &head) == 0 && creaderGetBytes(&r, &key, &len) == 0) {
        db *d = dbAt((int)(head >> 1));
        int deleted = (int)(head & 1);
        if (!d) continue;
        kv *k = dbFind(d, key, len);
        if (k) {
            /* A deletion that finds the key live again (written after it
             * here, or re-created by a peer's record merged over its
             * tombstone, which is not noted) ships the whole state, which
             * carries the deletion: the tombstone itself is gone. */
            if (!k->outboxQueued && !deleted) continue;   /* shipped earlier in this batch */
            k->outboxQueued = 0;
            if (deleted) k->outboxTotalOnly = 0;
        }
        if (!streaming) continue;
        if (k && k->outboxTotalOnly) {
            /* only this node's increments of a counter the peers have: its
             * running total is the delta (their base and other totals are
             * unchanged, or reach them from the nodes that changed them) */
            k->outboxTotalOnly = 0;
            if (keystateEncodeTotal(&batch, d, k, server.nodeId)) {
                peerStat.deltasSent++;
                if (batch.len >= BATCH_MAX) sendBatch("DELTA", &batch);
                continue;
            }
        }
        deltaEntry *e = k && !deleted ? deltaFind(d, key, len, 0) : NULL;
        if (e && !e->full && e->delta && e->deltaType == k->type) keystateEncodeDelta(&batch, d, k, e->delta);
        else if (e && !e->full && !e->delta && e->deadlineOnly && (k->type == OBJ_SET || k->type == OBJ_HASH))
            keystateEncodeDeadline(&batch, d, k);
        else if (k) keystateEncodeLive(&batch, d, k);
        else if (!keystateEncode(&batch, d, key, len)) continue;
        peerStat.deltasSent++;
        if (batch.len >= BATCH_MAX) sendBatch("DELTA", &batch);
    }
    sendBatch("DELTA", &batch);
    peerStreamNow();
    outNames.len = 0;
    if (dictSize(&deltas)) dictClear(&deltas, deltaEntryFree, NULL);
    if (outNames.cap > 4 * BATCH_MAX) {
        cbufFree(&outNames);
        cbufInit(&outNames);
    }
    if (batch.cap > 4 * BATCH_MAX) {
        cbufFree(&batch);
        cbufInit(&batch);
    }
}

static void onBatchTimer(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop; (void)w; (void)revents;
    syncFlush();
}

/* After each loop iteration's commands: the first changes noted start the
 * millisecond after which they ship. */
static void syncIterationDone(void) {
    if ((outNames.len || batch.len) && !ev_is_active(&batchTimer)) {
        ev_timer_set(&batchTimer, BATCH_COALESCE_S, 0.);   /* set again: see peerSend */
        ev_timer_start(server.loop, &batchTimer);
    }
}

/* ---------- applying what peers send ---------- */

/* Applies a blob of records; returns how many changed something, or -1 if
 * the blob is malformed. */
static int refusedSome;               /* a record was refused since the flag was cleared */

/* Records are decoded APPLY_AHEAD ahead of the one being applied: a newly
 * decoded record's bucket is prefetched, and half way to being applied its
 * key's node, so the lookups of a batch of random keys overlap their cache
 * misses instead of waiting for each in turn. */
#define APPLY_AHEAD 8

/* stage 0 the bucket, 1 the first node, 2 the second, 3 the value, 4 a
 * counter's totals */
static void applyPrefetch(const ksRecord *r, uint64_t h, int stage) {
    if (!r->d) return;
    if (stage == 0) dictPrefetchBucket(&r->d->keys, h);
    else if (stage == 1) dictPrefetchNode(&r->d->keys, h);
    else dbPrefetchValue(r->d, r->key, r->keylen, h, stage - 2);
}

static long applyRecords(const char *p, size_t len, uint64_t *received) {
    creader r;
    creaderInit(&r, p, len);
    ksRecord ring[APPLY_AHEAD];
    uint64_t hash[APPLY_AHEAD];
    unsigned head = 0, count = 0;
    long changed = 0;
    int bad = 0;
    for (;;) {
        while (!bad && count < APPLY_AHEAD && creaderLeft(&r) > 0) {
            unsigned slot = (head + count) % APPLY_AHEAD;
            ksRecord *next = &ring[slot];
            if (keystateDecode(&r, next) != 0) {
                bad = 1;                 /* the records before it are still applied */
                break;
            }
            hash[slot] = next->d ? dictHashKey(next->key, next->keylen) : 0;
            applyPrefetch(next, hash[slot], 0);
            count++;
        }
        if (count == 0) break;
        static const unsigned at[5] = {0, 5, 3, 2, 1};
        for (int st = 1; st < 5; st++) {
            unsigned i = (head + at[st]) % APPLY_AHEAD;
            if (count > at[st]) applyPrefetch(&ring[i], hash[i], st);
        }
        int rc = keystateApplyDecoded(&ring[head]);
        head = (head + 1) % APPLY_AHEAD;
        count--;
        if (rc == KS_REFUSED) {
            refusedSome = 1;
            peerStat.recordsRefused++;
        }
        if (received) (*received)++;
        if (rc == KS_CHANGED) changed++;
    }
    return bad ? -1 : changed;
}

static void malformed(client *c, peer *p, const char *what) {
    serverLog(LL_WARNING, "Malformed %s from peer %s:%d: closing its link", what, p->host, p->port);
    addReplyError(c, "ERR PEER: malformed payload");
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* ---------- anti-entropy: the side that answers ---------- */

static void putU32(cbuf *b, uint32_t v) {
    for (int i = 0; i < 4; i++) cbufPutByte(b, (uint8_t)(v >> (8 * i)));
}
static uint32_t getU32(const char *p) {
    const unsigned char *u = (const unsigned char *)p;
    return (uint32_t)u[0] | (uint32_t)u[1] << 8 | (uint32_t)u[2] << 16 | (uint32_t)u[3] << 24;
}
static uint64_t getU64(const char *p) {
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--) v = v << 8 | (unsigned char)p[i];
    return v;
}

/* PEER HASHES <level> <u32 indices>: our node hashes at those indices. */
static void hashesCommand(client *c, peer *p) {
    long long level;
    if (c->argc != 4 || !string2ll(c->argv[2].p, c->argv[2].len, &level) || level < 0 || level > MERKLE_DEPTH ||
        c->argv[3].len % 4) {
        malformed(c, p, "PEER HASHES");
        return;
    }
    if (building) {
        addReplyError(c, "BUILDING the Merkle tree is still being built");
        return;
    }
    if (level == 0) {
        p->aeRoundSeen = hlcNow(&server.clock, (uint64_t)server.mstime);
        p->lastPeerRoundMs = server.mstime;
        p->aeRoundRefused = 0;
    }
    merkleRefresh();
    size_t n = c->argv[3].len / 4;
    cbuf out;
    cbufInit(&out);
    for (size_t i = 0; i < n; i++) {
        uint32_t idx = getU32(c->argv[3].p + 4 * i);
        cbufPutU64(&out, idx < merkleLevelSize((int)level) ? merkleNode(tree, (int)level, idx) : 0);
    }
    addReplyBulk(c, out.p ? out.p : "", out.len);
    cbufFree(&out);
}

typedef struct listCtx {
    db *d;
    cbuf *out;
} listCtx;

static void listLive(dictLink *l, void *ctx) {
    listCtx *lc = ctx;
    kv *k = (kv *)l;
    if (k->merkleDirty) return;          /* cannot happen after merkleRefresh */
    cbufPutByte(lc->out, 1);
    cbufPutVarint(lc->out, (uint64_t)lc->d->id);
    cbufPutBytes(lc->out, k->key, k->keylen);
    cbufPutU64(lc->out, k->mhash);
}

static void listTomb(dictLink *l, void *ctx) {
    listCtx *lc = ctx;
    tombstone *t = (tombstone *)l;
    cbufPutByte(lc->out, 2);
    cbufPutVarint(lc->out, (uint64_t)lc->d->id);
    cbufPutBytes(lc->out, t->key, t->keylen);
    cbufPutU64(lc->out, keystateTombHash(lc->d, t));
}

/* Every key and tombstone of this node in a leaf, as (kind, db, name, hash). */
static void listLeaf(uint32_t leaf, cbuf *out) {
    for (int i = 0; i < dbCount(); i++) {
        listCtx lc = {dbAt(i), out};
        if (dictSize(&lc.d->keys)) dictVisitHashBits(&lc.d->keys, leaf, MERKLE_LEAVES - 1, listLive, &lc);
        if (dictSize(&lc.d->tombs)) dictVisitHashBits(&lc.d->tombs, leaf, MERKLE_LEAVES - 1, listTomb, &lc);
    }
}

/* PEER LEAVES <u32 leaves>: our keys under those leaves with their hashes. */
static void leavesCommand(client *c, peer *p) {
    if (c->argc != 3 || c->argv[2].len % 4) {
        malformed(c, p, "PEER LEAVES");
        return;
    }
    merkleRefresh();
    cbuf out;
    cbufInit(&out);
    for (size_t i = 0; i < c->argv[2].len / 4; i++) listLeaf(getU32(c->argv[2].p + 4 * i) & (MERKLE_LEAVES - 1), &out);
    addReplyBulk(c, out.p ? out.p : "", out.len);
    cbufFree(&out);
}

/* PEER GET <(varint db, bytes name)...>: the records of those keys. */
static void getCommand(client *c, peer *p) {
    if (c->argc != 3) {
        malformed(c, p, "PEER GET");
        return;
    }
    creader r;
    creaderInit(&r, c->argv[2].p, c->argv[2].len);
    cbuf out;
    cbufInit(&out);
    while (creaderLeft(&r) > 0) {
        uint64_t dbid;
        const char *key;
        size_t len;
        if (creaderGetVarint(&r, &dbid) || creaderGetBytes(&r, &key, &len)) {
            cbufFree(&out);
            malformed(c, p, "PEER GET");
            return;
        }
        if (dbid < (uint64_t)dbCount()) keystateEncode(&out, dbAt((int)dbid), key, len);
    }
    addReplyBulk(c, out.p ? out.p : "", out.len);
    cbufFree(&out);
}

int syncPeerCommand(client *c, peer *p) {
    const arg *sub = &c->argv[1];
    if (argEq(sub, "DELTA") || argEq(sub, "MERGE")) {
        int delta = argEq(sub, "DELTA");
        if (c->argc != 3) {
            malformed(c, p, delta ? "PEER DELTA" : "PEER MERGE");
            return 1;
        }
        refusedSome = 0;
        long changed = applyRecords(c->argv[2].p, c->argv[2].len, delta ? &peerStat.deltasReceived : NULL);
        if (refusedSome) p->aeRoundRefused = 1;   /* we do not hold all it has */
        if (changed < 0) malformed(c, p, delta ? "PEER DELTA" : "PEER MERGE");
        else if (!delta) peerStat.aeKeysRepaired += (uint64_t)changed;
        return 1;                        /* no reply: these are streamed */
    }
    if (argEq(sub, "HASHES")) hashesCommand(c, p);
    else if (argEq(sub, "LEAVES")) leavesCommand(c, p);
    else if (argEq(sub, "GET")) getCommand(c, p);
    else if (argEq(sub, "DONE")) {
        /* the round it drove is complete: it holds all we had when it began */
        if (p->aeRoundSeen && !p->aeRoundRefused) p->syncedStamp = p->aeRoundSeen;
        peerStat.aeRounds++;
    } else return 0;
    return 1;
}

/* ---------- anti-entropy: the side that drives ---------- */

typedef struct aeRound {
    uint64_t start;              /* our clock when it began */
    int level;                   /* of the hashes last asked */
    uint32_t *idx;               /* indices last asked */
    size_t nidx;
    uint32_t *leaves;            /* differing leaves, then sliced */
    size_t nleaves, pos;
    size_t sliceFrom, sliceTo;   /* leaves [from, to) being repaired */
    int refused;                 /* some record they sent was refused */
    int partial;                 /* keys in use are left to the stream (see compareLive) */
    uint64_t deferred;           /* differing keys so left */
} aeRound;

static void roundFree(peer *p) {
    if (!p->ae) return;
    free(p->ae->idx);
    free(p->ae->leaves);
    free(p->ae);
    p->ae = NULL;
}

static void roundDone(peer *p) {
    /* a refused record (clock skew) means we do not hold all they had, a key
     * left to the stream that the two may not hold each other's yet: only a
     * complete round counts for tombstone collection, on both sides */
    int complete = !p->ae->refused && p->ae->deferred == 0;
    if (complete) p->syncedStamp = p->ae->start;
    p->lastRoundMs = server.mstime;
    peerStat.aeRounds++;
    roundFree(p);
    if (!complete) return;
    const char *argv[2] = {"PEER", "DONE"};
    size_t lens[2] = {4, 4};
    peerSend(p, 2, argv, lens, NULL, NULL);
}

static void onHashes(peer *p, int type, const char *data, size_t len, void *ctx);
static void nextSlice(peer *p);

static void askHashes(peer *p) {
    aeRound *r = p->ae;
    cbuf b;
    cbufInit(&b);
    for (size_t i = 0; i < r->nidx; i++) putU32(&b, r->idx[i]);
    char level[4];
    snprintf(level, sizeof(level), "%d", r->level);
    const char *argv[4] = {"PEER", "HASHES", level, b.p ? b.p : ""};
    size_t lens[4] = {4, 6, strlen(level), b.len};
    peerSend(p, 4, argv, lens, onHashes, r);
    cbufFree(&b);
}

static void onHashes(peer *p, int type, const char *data, size_t len, void *ctx) {
    aeRound *r = p->ae;
    if (type == 0 || r != ctx) return;
    if (type == '-' && len >= 8 && !memcmp(data, "BUILDING", 8)) {
        roundFree(p);                    /* its tree is not ready: try again in 100 ms */
        p->lastRoundMs = server.mstime - cfg.antiEntropyIntervalMs + 100;
        return;
    }
    if (type != '$' || len != r->nidx * 8) {
        roundFree(p);
        peerDropLink(p, "bad PEER HASHES reply");
        return;
    }
    merkleRefresh();
    size_t ndiff = 0;
    for (size_t i = 0; i < r->nidx; i++)
        if (merkleNode(tree, r->level, r->idx[i]) != getU64(data + 8 * i)) r->idx[ndiff++] = r->idx[i];
    if (ndiff == 0) {
        roundDone(p);
        return;
    }
    if (r->level == MERKLE_DEPTH) {
        r->leaves = r->idx;
        r->nleaves = ndiff;
        r->idx = NULL;
        r->nidx = 0;
        r->pos = 0;
        nextSlice(p);
        return;
    }
    uint32_t *children = malloc(ndiff * MERKLE_FANOUT * sizeof(uint32_t));
    if (!children) abort();
    for (size_t i = 0; i < ndiff; i++)
        for (uint32_t j = 0; j < MERKLE_FANOUT; j++) children[i * MERKLE_FANOUT + j] = r->idx[i] * MERKLE_FANOUT + j;
    free(r->idx);
    r->idx = children;
    r->nidx = ndiff * MERKLE_FANOUT;
    r->level++;
    askHashes(p);
}

static void startRound(peer *p) {
    aeRound *r = calloc(1, sizeof(*r));
    if (!r) abort();
    p->ae = r;
    r->start = hlcNow(&server.clock, (uint64_t)server.mstime);
    r->partial = p->aeRoundsOnLink++ % AE_FULL_EVERY != 0;
    r->level = 0;
    r->idx = calloc(1, sizeof(uint32_t));
    if (!r->idx) abort();
    r->nidx = 1;
    p->lastRoundMs = server.mstime;
    askHashes(p);
}

/* The other side's listing of a slice, as a dict of entries by (db, name). */
typedef struct theirKey {
    dictLink link;
    uint64_t hash;
    uint8_t kind;                /* 1 live, 2 tombstone */
    uint8_t matched;             /* we hold the very same state */
    uint32_t namelen;            /* varint-free: 4 bytes db id + name */
    char name[];
} theirKey;

static const char *theirKeyOf(const dictLink *n, size_t *len) {
    const theirKey *t = (const theirKey *)n;
    *len = t->namelen;
    return t->name;
}

static void freeTheirKey(dictLink *l, void *ctx) {
    (void)ctx;
    free(l);
}

typedef struct compareCtx {
    dict *theirs;
    db *d;
    cbuf *push;                  /* our records to send */
    peer *p;
    uint64_t pushed;
} compareCtx;

static theirKey *findTheirs(dict *theirs, db *d, const char *key, size_t len) {
    char stackbuf[256];
    size_t nlen = len + 4;
    char *name = nlen <= sizeof(stackbuf) ? stackbuf : malloc(nlen);
    if (!name) abort();
    uint32_t id = (uint32_t)d->id;
    memcpy(name, &id, 4);
    memcpy(name + 4, key, len);
    theirKey *t = (theirKey *)dictFind(theirs, name, nlen);
    if (name != stackbuf) free(name);
    return t;
}

static void pushIfNeeded(compareCtx *cc, const char *key, size_t len, uint64_t ours, int live) {
    theirKey *t = findTheirs(cc->theirs, cc->d, key, len);
    if (t && t->hash == ours) {
        t->matched = 1;
        return;
    }
    if (!live && !t) return;             /* a tombstone where they have nothing: nothing to remove */
    keystateEncode(cc->push, cc->d, key, len);
    cc->pushed++;
    if (cc->push->len >= BATCH_MAX) {
        const char *argv[3] = {"PEER", "MERGE", cc->push->p};
        size_t lens[3] = {4, 5, cc->push->len};
        peerSend(cc->p, 3, argv, lens, NULL, NULL);
        cc->push->len = 0;
    }
}

/* A key used in this second or the one before (kv.lru: reads, writes and
 * merged peer writes).  While a link stays up every write reaches the peer
 * through the stream, so a key that differs while it is in use is most
 * likely only in flight, and repairing it would ship its whole state both
 * ways: for a large set or hash written continuously, its size every round.
 * A partial round leaves such keys to the stream; the first round on a link
 * and every AE_FULL_EVERY-th one repair them too, so a real divergence still
 * heals within that many intervals. */
static int inUse(const kv *k) { return ((server.lruclock - k->lru) & 0xffffff) <= 1; }

static void compareLive(dictLink *l, void *ctx) {
    compareCtx *cc = ctx;
    kv *k = (kv *)l;
    if (cc->p->ae->partial && inUse(k)) {
        theirKey *t = findTheirs(cc->theirs, cc->d, k->key, k->keylen);
        if (t) t->matched = 1;           /* neither pushed nor fetched */
        if (t && t->hash == k->mhash) return;
        cc->p->ae->deferred++;
        peerStat.aeKeysDeferred++;
        return;
    }
    pushIfNeeded(cc, k->key, k->keylen, k->mhash, 1);
}

static void compareTomb(dictLink *l, void *ctx) {
    compareCtx *cc = ctx;
    tombstone *t = (tombstone *)l;
    pushIfNeeded(cc, t->key, t->keylen, keystateTombHash(cc->d, t), 0);
}

static void onGet(peer *p, int type, const char *data, size_t len, void *ctx) {
    aeRound *r = p->ae;
    if (type == 0 || r != ctx) return;
    if (type != '$') {
        roundFree(p);
        peerDropLink(p, "bad PEER GET reply");
        return;
    }
    refusedSome = 0;
    long changed = applyRecords(data, len, NULL);
    if (changed < 0) {
        roundFree(p);
        peerDropLink(p, "malformed PEER GET reply");
        return;
    }
    if (refusedSome) r->refused = 1;
    peerStat.aeKeysRepaired += (uint64_t)changed;
    nextSlice(p);
}

static void onLeaves(peer *p, int type, const char *data, size_t len, void *ctx) {
    aeRound *r = p->ae;
    if (type == 0 || r != ctx) return;
    if (type != '$') {
        roundFree(p);
        peerDropLink(p, "bad PEER LEAVES reply");
        return;
    }
    dict theirs;
    dictInit(&theirs, theirKeyOf);
    creader rd;
    creaderInit(&rd, data, len);
    while (creaderLeft(&rd) > 0) {
        uint8_t kind;
        uint64_t dbid, hash;
        const char *key;
        size_t klen;
        if (creaderGetByte(&rd, &kind) || creaderGetVarint(&rd, &dbid) || creaderGetBytes(&rd, &key, &klen) ||
            creaderGetU64(&rd, &hash)) {
            dictClear(&theirs, freeTheirKey, NULL);
            roundFree(p);
            peerDropLink(p, "malformed PEER LEAVES reply");
            return;
        }
        if (dbid >= (uint64_t)dbCount()) continue;          /* a database we do not have */
        theirKey *t = malloc(sizeof(*t) + klen + 4);
        if (!t) abort();
        t->hash = hash;
        t->kind = kind;
        t->matched = 0;
        t->namelen = (uint32_t)klen + 4;
        uint32_t id = (uint32_t)dbid;
        memcpy(t->name, &id, 4);
        memcpy(t->name + 4, key, klen);
        if (dictFind(&theirs, t->name, t->namelen)) free(t);
        else dictAdd(&theirs, &t->link);
    }
    /* push ours where they differ */
    merkleRefresh();
    cbuf push;
    cbufInit(&push);
    compareCtx cc = {&theirs, NULL, &push, p, 0};
    for (size_t i = r->sliceFrom; i < r->sliceTo; i++) {
        for (int j = 0; j < dbCount(); j++) {
            cc.d = dbAt(j);
            if (dictSize(&cc.d->keys)) dictVisitHashBits(&cc.d->keys, r->leaves[i], MERKLE_LEAVES - 1, compareLive, &cc);
            if (dictSize(&cc.d->tombs)) dictVisitHashBits(&cc.d->tombs, r->leaves[i], MERKLE_LEAVES - 1, compareTomb, &cc);
        }
    }
    if (push.len) {
        const char *argv[3] = {"PEER", "MERGE", push.p};
        size_t lens[3] = {4, 5, push.len};
        peerSend(p, 3, argv, lens, NULL, NULL);
    }
    cbufFree(&push);
    /* fetch theirs where we differ (a tombstone of theirs only if we hold the key) */
    cbuf want;
    cbufInit(&want);
    dictIter it;
    dictIterInit(&it, &theirs);
    dictLink *l;
    while ((l = dictNext(&it))) {
        theirKey *t = (theirKey *)l;
        if (t->matched) continue;
        uint32_t id;
        memcpy(&id, t->name, 4);
        if (t->kind == 2 && !dbFind(dbAt((int)id), t->name + 4, t->namelen - 4) &&
            !dbFindTombstone(dbAt((int)id), t->name + 4, t->namelen - 4)) continue;
        cbufPutVarint(&want, id);
        cbufPutBytes(&want, t->name + 4, t->namelen - 4);
    }
    dictIterEnd(&it);
    dictClear(&theirs, freeTheirKey, NULL);
    if (want.len == 0) {
        cbufFree(&want);
        nextSlice(p);
        return;
    }
    const char *argv[3] = {"PEER", "GET", want.p};
    size_t lens[3] = {4, 3, want.len};
    peerSend(p, 3, argv, lens, onGet, r);
    cbufFree(&want);
}

/* Lists the next slice of differing leaves on both sides, or ends the round. */
static void nextSlice(peer *p) {
    aeRound *r = p->ae;
    if (r->pos >= r->nleaves) {
        roundDone(p);
        return;
    }
    r->sliceFrom = r->pos;
    r->sliceTo = r->pos + LEAVES_PER_SLICE < r->nleaves ? r->pos + LEAVES_PER_SLICE : r->nleaves;
    r->pos = r->sliceTo;
    cbuf b;
    cbufInit(&b);
    for (size_t i = r->sliceFrom; i < r->sliceTo; i++) putU32(&b, r->leaves[i]);
    const char *argv[3] = {"PEER", "LEAVES", b.p};
    size_t lens[3] = {4, 6, b.len};
    peerSend(p, 3, argv, lens, onLeaves, r);
    cbufFree(&b);
}

/* The node with the smaller id drives the rounds between two peers; the
 * other takes over when none has reached it for a while (the driver may not
 * be able to reach it: another network path, an address it cannot dial). */
static int drives(const peer *p) {
    if (server.nodeId < p->id) return 1;
    return server.mstime - p->lastPeerRoundMs > 3 * cfg.antiEntropyIntervalMs + cfg.peerTimeoutMs;
}

void syncLinkUp(peer *p) {
    p->lastPeerRoundMs = server.mstime;
    p->aeRoundsOnLink = 0;               /* the first round on a link is complete */
    if (!building && drives(p) && !p->ae) startRound(p);
}

void syncLinkDown(peer *p) { roundFree(p); }

void syncPeerTick(peer *p) {
    if (p->state == PEER_ONLINE && !building && !p->ae && server.mstime - p->lastRoundMs >= cfg.antiEntropyIntervalMs &&
        drives(p))
        startRound(p);
}

/* ---------- the rest ---------- */

void syncCron(void) {
    uint64_t synced = peerSyncedStamp();
    for (int i = 0; i < dbCount(); i++) dbCollectTombstones(dbAt(i), synced, TOMB_COLLECT_PER_CRON);
    if (dirtyKeys.len > 4 * 1024 * 1024) merkleRefresh();
}

/* (SWAPDB is refused while peers exist; a tree kept from earlier peers is
 * rebuilt at once, the hashes of every key of both databases having moved.) */
static void onDbSwapped(void) {
    if (tree && !building) rebuildTree();
}

void syncInit(void) {
    cbufInit(&dirtyKeys);
    cbufInit(&outNames);
    ev_timer_init(&batchTimer, onBatchTimer, BATCH_COALESCE_S, 0.);
    dictInit(&deltas, deltaKeyOf);
    dbAddObserver(onKeyChanged);
    dbSwapHook = onDbSwapped;
    dbDeltaProvider = syncDeltaFor;
    netSetBeforeFlush(syncIterationDone);
}
