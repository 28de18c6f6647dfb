/* dict.h - an intrusive hash table with incremental rehashing, hashed with XXH3.
 *
 * The table stores dictLink nodes that the caller embeds as the FIRST member of
 * its own struct (a key, a set member, a hash field...).  The table never
 * allocates or frees nodes: it only links and unlinks them.  To find a node's
 * key it calls the keyOf callback given at creation.  It knows nothing of the
 * server.
 *
 * Rehashing: when used reaches size the table doubles (and shrinks below 1/8
 * fill via dictResize), moving a few buckets per operation so that no single
 * call is O(n).  Lookups search both tables while a rehash is under way. */
#ifndef LATTICE_DICT_H
#define LATTICE_DICT_H

#include <stddef.h>
#include <stdint.h>

typedef struct dictLink {
    struct dictLink *next;
} dictLink;

/* Returns a pointer to the key bytes of a node and stores its length. */
typedef const char *(*dictKeyOf)(const dictLink *node, size_t *len);

typedef struct dict {
    dictLink **table[2];
    uint64_t size[2];      /* bucket count, power of two, or 0 */
    uint64_t used[2];
    int64_t rehashidx;     /* -1 when not rehashing */
    dictKeyOf keyOf;
    int pauserehash;       /* >0: no incremental steps (iteration under way) */
    uint8_t nodeLines;     /* cache lines from a node's start its key can reach (dictPrefetchNode) */
} dict;

uint64_t dictHashKey(const char *key, size_t len);    /* XXH3-64 with a fixed seed */
/* A scratch set of hashes (an open-addressed table of size a power of two,
 * zeroed, never filled): adds hash; 1 if it was there already.  Tells which
 * exact lookups a scan for repeated names needs. */
int dictHashNote(uint64_t *table, uint32_t size, uint64_t hash);
/* The table size for noting up to n hashes (at most 128 are ever noted: a
 * packed form's limit): a power of two, at least 2n, at most 256. */
uint32_t dictHashNoteSize(uint64_t n);

void dictInit(dict *d, dictKeyOf keyOf);
/* For nodes whose key sits further in than the second cache line (a large
 * node with the key at its end): how many lines dictPrefetchNode brings in,
 * 2 by default, at most 4. */
void dictSetNodeLines(dict *d, unsigned lines);
/* Unlinks every node; calls freeNode (may be NULL) on each one. */
void dictClear(dict *d, void (*freeNode)(dictLink *node, void *ctx), void *ctx);
static inline uint64_t dictSize(const dict *d) { return d->used[0] + d->used[1]; }

dictLink *dictFind(dict *d, const char *key, size_t len);
/* Same with the hash already computed by dictHashKey. */
dictLink *dictFindHashed(dict *d, const char *key, size_t len, uint64_t hash);
/* Cache hints for a loop about to look up many keys, issued a few lookups
 * ahead: dictPrefetchBucket brings in the bucket slot of a key hash,
 * dictPrefetchNode (issued later, once the slot is cached) the first node in
 * it, and the line after, where a short key ends (or as many lines as
 * dictSetNodeLines says).  They change nothing and
 * are never needed for correctness. */
void dictPrefetchBucket(const dict *d, uint64_t hash);
void dictPrefetchNode(const dict *d, uint64_t hash);
/* The first node in the bucket of a key hash, whatever its key (for hints). */
dictLink *dictBucketHead(const dict *d, uint64_t hash);
/* Links a node whose key the caller knows is absent. */
void dictAdd(dict *d, dictLink *node);
/* Unlinks and returns the node with that key, or NULL. */
dictLink *dictUnlink(dict *d, const char *key, size_t len);
/* Replaces node old (which must be linked) by node new with an equal key, in place. */
void dictReplaceNode(dict *d, dictLink *old, dictLink *new_);

/* A uniformly-ish random node (random bucket, random chain position), or NULL. */
dictLink *dictRandom(dict *d, uint64_t (*rnd)(void));

/* SCAN-style reverse-binary cursor iteration: calls fn for every node of one
 * bucket (both tables while rehashing) and returns the next cursor; 0 ends.
 * Every node present for the whole scan is visited at least once. */
uint64_t dictScan(dict *d, uint64_t cursor, void (*fn)(dictLink *node, void *ctx), void *ctx);
/* The same scan handing fn each node's key (as keyOf gives it) instead of the
 * node.  A scan moves no bucket and fn gets no node, so the dict may be const. */
uint64_t dictScanKeys(const dict *d, uint64_t cursor, void (*fn)(const char *key, size_t len, void *ctx), void *ctx);

/* Calls fn for every node whose key hash (dictHashKey) has (hash & mask) ==
 * bits, in both tables while rehashing.  mask is 2^k - 1; bits with a bit
 * outside mask match no key.  When a table has at least mask+1 buckets, only
 * the buckets with (index & mask) == bits are visited (no hashing); a smaller
 * table's one candidate bucket (bits & (size-1)) is visited with each key
 * re-hashed and filtered.  Moves no bucket (works on a const dict); fn must
 * not modify the dict.  This lists one Merkle leaf's keys (mask 0xFFFF)
 * without scanning the whole table. */
void dictVisitHashBits(const dict *d, uint64_t bits, uint64_t mask, void (*fn)(dictLink *node, void *ctx), void *ctx);

/* Full iteration.  fn may not modify the table, except that it may unlink the
 * node it was given when the iterator was started with dictIterSafe(). */
typedef struct dictIter {
    dict *d;
    int table;
    uint64_t index;
    dictLink *entry, *nextEntry;
    int safe;
} dictIter;
void dictIterInit(dictIter *it, dict *d);
void dictIterSafe(dictIter *it, dict *d);   /* pauses rehashing until dictIterEnd */
dictLink *dictNext(dictIter *it);
void dictIterEnd(dictIter *it);

/* dictFind and dictRandom for a const dict: the same answers, but no rehash
 * step is taken, so no bucket moves under a running dictWalkNext (they pause
 * rehashing for the call; that counter is not the table's logical state). */
dictLink *dictFindReadOnly(const dict *d, const char *key, size_t len);
dictLink *dictRandomReadOnly(const dict *d, uint64_t (*rnd)(void));

/* A read-only walk over every node (table[0], then table[1]) that never moves
 * buckets or pauses rehashing, so it works on a const dict.  The position is
 * *table, *bucket and *next, all zero/NULL to start.  Returns the next node,
 * NULL at the end (and again after).  The dict must not change meanwhile. */
dictLink *dictWalkNext(const dict *d, uint64_t *table, uint64_t *bucket, dictLink **next);

/* Does up to n bucket moves of an ongoing rehash; returns 1 if more remain. */
int dictRehashSteps(dict *d, int n);
/* Shrinks the table when it is under 1/8 full (the server calls this from cron). */
void dictShrinkIfSparse(dict *d);
/* Bytes used by the bucket arrays (for INFO memory). */
size_t dictTableBytes(const dict *d);

#endif
