/* dict.c - the intrusive hash table behind the keyspace, sets and hashes.
 *
 * Owns only the bucket arrays: nodes belong to the caller, which embeds a
 * dictLink as the first member of its own struct.  Knows nothing of the
 * server: no logging, no globals, no allocation per node.
 *
 * Two tables exist only while a resize is under way: table[0] is being
 * emptied into table[1] one bucket at a time (rehashidx is the next bucket of
 * table[0] to move, every bucket below it is already empty).  Each find, add,
 * unlink and random pick moves one bucket unless an iteration paused
 * rehashing, and the server's cron moves more with dictRehashSteps, so no
 * single call does O(n) work. */
#include "dict.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define DICT_INITIAL_SIZE 4
/* "lattice1": fixed, and part of the replicated digest format (a hash field's
 * digest starts from its name's dictHashKey, see crdt_ormap.c): every node
 * must hash with the same seed. */
#define DICT_HASH_SEED 0x6c61747469636531ULL
#define DICT_EMPTY_VISITS 10                   /* empty buckets skipped per bucket move */

uint64_t dictHashKey(const char *key, size_t len) {
    return XXH3_64bits_withSeed(key, len, DICT_HASH_SEED);
}

int dictHashNote(uint64_t *table, uint32_t size, uint64_t hash) {
    hash |= 1;   /* 0 marks a free slot */
    for (uint32_t i = (uint32_t)hash & (size - 1);; i = (i + 1) & (size - 1)) {
        if (table[i] == hash) return 1;
        if (table[i] == 0) {
            table[i] = hash;
            return 0;
        }
    }
}

uint32_t dictHashNoteSize(uint64_t n) {
    uint32_t size = 8;
    while (size < 2 * n && size < 256) size *= 2;
    return size;
}

static int dictIsRehashing(const dict *d) { return d->rehashidx != -1; }

static uint64_t dictMask(const dict *d, int t) { return d->size[t] - 1; }

static uint64_t dictNodeHash(const dict *d, const dictLink *node) {
    size_t len;
    const char *key = d->keyOf(node, &len);
    return dictHashKey(key, len);
}

static int dictNodeHasKey(const dict *d, const dictLink *node, const char *key, size_t len) {
    size_t nlen;
    const char *nkey = d->keyOf(node, &nlen);
    return nlen == len && (len == 0 || memcmp(nkey, key, len) == 0);
}

/* The bucket count for n elements: a power of two, at least the initial size. */
static uint64_t dictSizeFor(uint64_t n) {
    uint64_t size = DICT_INITIAL_SIZE;
    while (size < n && size < ((uint64_t)1 << 62)) size <<= 1;
    return size;
}

static void dictResetTable(dict *d, int t) {
    d->table[t] = NULL;
    d->size[t] = 0;
    d->used[t] = 0;
}

void dictInit(dict *d, dictKeyOf keyOf) {
    dictResetTable(d, 0);
    dictResetTable(d, 1);
    d->rehashidx = -1;
    d->keyOf = keyOf;
    d->pauserehash = 0;
    d->nodeLines = 2;
}

void dictSetNodeLines(dict *d, unsigned lines) {
    d->nodeLines = (uint8_t)(lines < 1 ? 1 : lines > 4 ? 4 : lines);
}

void dictClear(dict *d, void (*freeNode)(dictLink *node, void *ctx), void *ctx) {
    for (int t = 0; t < 2; t++) {
        for (uint64_t i = 0; i < d->size[t]; i++) {
            dictLink *node = d->table[t][i];
            while (node) {
                dictLink *next = node->next;
                node->next = NULL;
                if (freeNode) freeNode(node, ctx);
                node = next;
            }
        }
        free(d->table[t]);
        dictResetTable(d, t);
    }
    d->rehashidx = -1;   /* pauserehash is kept: it belongs to running iterators */
}

/* Gives the dict a table of newSize buckets: directly when it has none yet,
 * otherwise as table[1], the target of an incremental rehash. */
static void dictStartResize(dict *d, uint64_t newSize) {
    dictLink **buckets = calloc(newSize, sizeof(*buckets));
    if (buckets == NULL) abort();
    if (d->table[0] == NULL) {
        d->table[0] = buckets;
        d->size[0] = newSize;
        d->used[0] = 0;
        return;
    }
    assert(!dictIsRehashing(d));
    d->table[1] = buckets;
    d->size[1] = newSize;
    d->used[1] = 0;
    d->rehashidx = 0;
}

static void dictFinishRehash(dict *d) {
    assert(d->used[0] == 0);
    free(d->table[0]);
    d->table[0] = d->table[1];
    d->size[0] = d->size[1];
    d->used[0] = d->used[1];
    dictResetTable(d, 1);
    d->rehashidx = -1;
}

static void dictMoveBucket(dict *d, uint64_t idx) {
    dictLink *node = d->table[0][idx];
    while (node) {
        dictLink *next = node->next;
        uint64_t h = dictNodeHash(d, node) & dictMask(d, 1);
        node->next = d->table[1][h];
        d->table[1][h] = node;
        d->used[0]--;
        d->used[1]++;
        node = next;
    }
    d->table[0][idx] = NULL;
}

/* Moves up to n non-empty buckets, skipping at most 10*n empty ones so that a
 * sparse table cannot make one call long.  Returns 1 if buckets remain. */
static int dictRehash(dict *d, int n) {
    int emptyVisits = n * DICT_EMPTY_VISITS;
    if (!dictIsRehashing(d)) return 0;
    while (n-- > 0 && d->used[0] != 0) {
        /* used[0] != 0 guarantees a non-empty bucket at or after rehashidx. */
        assert((uint64_t)d->rehashidx < d->size[0]);
        while (d->table[0][d->rehashidx] == NULL) {
            d->rehashidx++;
            if (--emptyVisits == 0) return 1;
        }
        dictMoveBucket(d, (uint64_t)d->rehashidx);
        d->rehashidx++;
    }
    if (d->used[0] == 0) {
        dictFinishRehash(d);
        return 0;
    }
    return 1;
}

static void dictRehashStep(dict *d) {
    if (d->pauserehash == 0) dictRehash(d, 1);
}

/* Paused (an iteration is under way): nothing can be done now, so it returns
 * 0 rather than inviting the caller to spin. */
int dictRehashSteps(dict *d, int n) {
    if (d->pauserehash > 0) return 0;
    return dictRehash(d, n);
}

static void dictExpandIfNeeded(dict *d) {
    if (dictIsRehashing(d)) return;
    if (d->size[0] == 0)
        dictStartResize(d, DICT_INITIAL_SIZE);
    else if (d->used[0] >= d->size[0])
        dictStartResize(d, dictSizeFor(d->used[0] + 1));
}

void dictShrinkIfSparse(dict *d) {
    if (dictIsRehashing(d) || d->pauserehash > 0) return;
    if (d->size[0] <= DICT_INITIAL_SIZE || d->used[0] * 8 >= d->size[0]) return;
    dictStartResize(d, dictSizeFor(d->used[0]));
    if (d->used[0] == 0) dictFinishRehash(d);
}

size_t dictTableBytes(const dict *d) {
    return (size_t)(d->size[0] + d->size[1]) * sizeof(dictLink *);
}

dictLink *dictFindHashed(dict *d, const char *key, size_t len, uint64_t hash) {
    if (dictSize(d) == 0) return NULL;
    if (dictIsRehashing(d)) dictRehashStep(d);
    for (int t = 0; t < 2; t++) {
        for (dictLink *node = d->table[t][hash & dictMask(d, t)]; node; node = node->next)
            if (dictNodeHasKey(d, node, key, len)) return node;
        if (!dictIsRehashing(d)) break;
    }
    return NULL;
}

/* The bucket a key hash is in now: table[1] for one already moved. */
static dictLink *const *dictBucketOf(const dict *d, uint64_t hash) {
    if (d->size[0] == 0) return NULL;
    uint64_t idx = hash & dictMask(d, 0);
    if (dictIsRehashing(d) && idx < (uint64_t)d->rehashidx) return &d->table[1][hash & dictMask(d, 1)];
    return &d->table[0][idx];
}

void dictPrefetchBucket(const dict *d, uint64_t hash) {
    dictLink *const *b = dictBucketOf(d, hash);
    if (b) __builtin_prefetch(b);
}

void dictPrefetchNode(const dict *d, uint64_t hash) {
    dictLink *const *b = dictBucketOf(d, hash);
    if (!b || !*b) return;
    const char *n = (const char *)*b;
    __builtin_prefetch(n);
    for (unsigned i = 1; i < d->nodeLines; i++) __builtin_prefetch(n + 64 * i);
}

dictLink *dictBucketHead(const dict *d, uint64_t hash) {
    dictLink *const *b = dictBucketOf(d, hash);
    return b ? *b : NULL;
}

dictLink *dictFind(dict *d, const char *key, size_t len) {
    if (dictSize(d) == 0) return NULL;
    return dictFindHashed(d, key, len, dictHashKey(key, len));
}

void dictAdd(dict *d, dictLink *node) {
    if (dictIsRehashing(d)) dictRehashStep(d);
    dictExpandIfNeeded(d);
    int t = dictIsRehashing(d) ? 1 : 0;
    uint64_t idx = dictNodeHash(d, node) & dictMask(d, t);
    node->next = d->table[t][idx];
    d->table[t][idx] = node;
    d->used[t]++;
}

dictLink *dictUnlink(dict *d, const char *key, size_t len) {
    if (dictSize(d) == 0) return NULL;
    uint64_t hash = dictHashKey(key, len);
    if (dictIsRehashing(d)) dictRehashStep(d);
    for (int t = 0; t < 2; t++) {
        dictLink **link = &d->table[t][hash & dictMask(d, t)];
        for (; *link; link = &(*link)->next) {
            dictLink *node = *link;
            if (!dictNodeHasKey(d, node, key, len)) continue;
            *link = node->next;
            node->next = NULL;
            d->used[t]--;
            return node;
        }
        if (!dictIsRehashing(d)) break;
    }
    return NULL;
}

void dictReplaceNode(dict *d, dictLink *old, dictLink *new_) {
    uint64_t hash = dictNodeHash(d, old);
    for (int t = 0; t < 2 && d->size[t] != 0; t++) {
        for (dictLink **link = &d->table[t][hash & dictMask(d, t)]; *link; link = &(*link)->next) {
            if (*link != old) continue;
            new_->next = old->next;
            *link = new_;
            old->next = NULL;
            return;
        }
    }
    assert(0 && "dictReplaceNode: node not linked");
}

/* Uniform over entries while no chain is longer than MAXCHAIN: a slot is drawn
 * (empty ones too) and then position rnd() % MAXCHAIN in its chain, retrying
 * when that position is empty, so every entry has the same chance. */
dictLink *dictRandom(dict *d, uint64_t (*rnd)(void)) {
    if (dictSize(d) == 0) return NULL;
    if (dictIsRehashing(d)) dictRehashStep(d);
    enum { MAXCHAIN = 8 };
    for (;;) {
        dictLink *head;
        if (dictIsRehashing(d)) {
            uint64_t start = (uint64_t)d->rehashidx;
            uint64_t span = d->size[0] + d->size[1] - start;
            uint64_t h = start + rnd() % span;
            head = h < d->size[0] ? d->table[0][h] : d->table[1][h - d->size[0]];
        } else {
            head = d->table[0][rnd() & dictMask(d, 0)];
        }
        uint64_t chainLen = 0;
        for (dictLink *node = head; node; node = node->next) chainLen++;
        if (chainLen == 0) continue;
        uint64_t pick = rnd() % (chainLen > MAXCHAIN ? chainLen : MAXCHAIN);
        if (pick >= chainLen) continue;
        while (pick--) head = head->next;
        return head;
    }
}

static uint64_t reverseBits(uint64_t v) {
    v = ((v >> 1) & 0x5555555555555555ULL) | ((v & 0x5555555555555555ULL) << 1);
    v = ((v >> 2) & 0x3333333333333333ULL) | ((v & 0x3333333333333333ULL) << 2);
    v = ((v >> 4) & 0x0f0f0f0f0f0f0f0fULL) | ((v & 0x0f0f0f0f0f0f0f0fULL) << 4);
    v = ((v >> 8) & 0x00ff00ff00ff00ffULL) | ((v & 0x00ff00ff00ff00ffULL) << 8);
    v = ((v >> 16) & 0x0000ffff0000ffffULL) | ((v & 0x0000ffff0000ffffULL) << 16);
    return (v >> 32) | (v << 32);
}

/* The cursor's next value: increments the bits under mask starting from the
 * most significant one.  Because a bucket index of a larger table extends the
 * index of a smaller one with higher bits, walking in this order visits, for
 * any table size the dict has in between calls, every bucket whose contents
 * were not already covered by the buckets visited before. */
static uint64_t scanNextCursor(uint64_t cursor, uint64_t mask) {
    cursor |= ~mask;
    cursor = reverseBits(cursor);
    cursor++;
    return reverseBits(cursor);
}

static void scanBucket(dictLink *node, void (*fn)(dictLink *node, void *ctx), void *ctx) {
    while (node) {
        dictLink *next = node->next;   /* fn may unlink node */
        fn(node, ctx);
        node = next;
    }
}

/* While rehashing, the bucket of the smaller table is visited together with
 * every bucket of the larger table that its elements can move to. */
uint64_t dictScan(dict *d, uint64_t cursor, void (*fn)(dictLink *node, void *ctx), void *ctx) {
    if (dictSize(d) == 0) return 0;
    d->pauserehash++;
    if (!dictIsRehashing(d)) {
        uint64_t m0 = dictMask(d, 0);
        scanBucket(d->table[0][cursor & m0], fn, ctx);
        cursor = scanNextCursor(cursor, m0);
    } else {
        int small = d->size[0] <= d->size[1] ? 0 : 1;
        int large = 1 - small;
        uint64_t m0 = dictMask(d, small), m1 = dictMask(d, large);
        scanBucket(d->table[small][cursor & m0], fn, ctx);
        do {
            scanBucket(d->table[large][cursor & m1], fn, ctx);
            cursor = scanNextCursor(cursor, m1);
        } while (cursor & (m0 ^ m1));
    }
    d->pauserehash--;
    return cursor;
}

typedef struct dictKeyScan {
    const dict *d;
    void (*fn)(const char *key, size_t len, void *ctx);
    void *ctx;
} dictKeyScan;

static void dictKeyScanCb(dictLink *node, void *ctx) {
    const dictKeyScan *ks = ctx;
    size_t len;
    const char *key = ks->d->keyOf(node, &len);
    ks->fn(key, len, ks->ctx);
}

uint64_t dictScanKeys(const dict *d, uint64_t cursor, void (*fn)(const char *key, size_t len, void *ctx), void *ctx) {
    dictKeyScan ks = {d, fn, ctx};
    return dictScan((dict *)d, cursor, dictKeyScanCb, &ks);
}

/* A node sits in bucket hash & (size-1).  When size-1 covers mask, the
 * bucket index carries the hash's masked bits, so the matching buckets are
 * bits, bits + mask+1, ... and every node in them matches.  Otherwise all
 * matching nodes share the one bucket bits & (size-1), among others that
 * do not match. */
void dictVisitHashBits(const dict *d, uint64_t bits, uint64_t mask, void (*fn)(dictLink *node, void *ctx), void *ctx) {
    assert((mask & (mask + 1)) == 0);
    if ((bits & ~mask) != 0) return;
    dict *w = (dict *)d;     /* the pause counter is not the table's logical state */
    w->pauserehash++;        /* fn may look keys up: no bucket may move under the walk */
    for (int t = 0; t < 2; t++) {
        if (d->size[t] == 0) continue;
        uint64_t m = dictMask(d, t);
        if (m >= mask) {
            for (uint64_t idx = bits; idx <= m; idx += mask + 1)
                for (dictLink *node = d->table[t][idx]; node; node = node->next) fn(node, ctx);
        } else {
            for (dictLink *node = d->table[t][bits & m]; node; node = node->next)
                if ((dictNodeHash(d, node) & mask) == bits) fn(node, ctx);
        }
    }
    w->pauserehash--;
}

void dictIterInit(dictIter *it, dict *d) {
    it->d = d;
    it->table = 0;
    it->index = 0;
    it->entry = NULL;
    it->nextEntry = NULL;
    it->safe = 0;
}

void dictIterSafe(dictIter *it, dict *d) {
    dictIterInit(it, d);
    it->safe = 1;
    d->pauserehash++;
}

/* Walks table[0] then, while rehashing, table[1].  The successor of a node
 * is read before the node is returned, so a safe iteration may unlink it. */
dictLink *dictNext(dictIter *it) {
    dict *d = it->d;
    while (it->nextEntry == NULL) {
        if (it->index >= d->size[it->table]) {
            if (it->table == 0 && dictIsRehashing(d)) {
                it->table = 1;
                it->index = 0;
                continue;
            }
            it->entry = NULL;
            return NULL;
        }
        it->nextEntry = d->table[it->table][it->index++];
    }
    it->entry = it->nextEntry;
    it->nextEntry = it->entry->next;
    return it->entry;
}

dictLink *dictFindReadOnly(const dict *d, const char *key, size_t len) {
    dict *m = (dict *)d;
    m->pauserehash++;
    dictLink *n = dictFind(m, key, len);
    m->pauserehash--;
    return n;
}

dictLink *dictRandomReadOnly(const dict *d, uint64_t (*rnd)(void)) {
    dict *m = (dict *)d;
    m->pauserehash++;
    dictLink *n = dictRandom(m, rnd);
    m->pauserehash--;
    return n;
}

dictLink *dictWalkNext(const dict *d, uint64_t *table, uint64_t *bucket, dictLink **next) {
    while (*next == NULL) {
        if (*table >= 2) return NULL;
        if (*bucket >= d->size[*table]) {
            (*table)++;
            *bucket = 0;
            continue;
        }
        *next = d->table[*table][(*bucket)++];
    }
    dictLink *n = *next;
    *next = n->next;
    return n;
}

void dictIterEnd(dictIter *it) {
    if (it->safe) {
        assert(it->d->pauserehash > 0);
        it->d->pauserehash--;
        it->safe = 0;
    }
}
