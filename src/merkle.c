/* merkle.c - the Merkle tree that peers compare for anti-entropy.
 *
 * Owns one fixed block: every node's hash, level by level (the root, its 16
 * children, 256, 4096, then the 65536 leaves), and one stale flag per interior
 * node.  Updates touch a leaf and flag its ancestors; hashing happens only
 * when merkleNode is asked.  Invariant: every ancestor of a stale node is
 * stale, so a node that is not stale has nothing stale below it and its
 * stored hash is current.
 *
 * A leaf update is not written at once: the leaf's cache line is prefetched
 * and the update queued, and queued updates are written when the queue is
 * full or a node is read.  Leaves are spread over 512 KB, so writing each at
 * once would wait for a cache miss per changed key; a leaf is a wrapping
 * sum, so the order of updates does not matter.
 *
 * Pure: no sockets, no globals, no logging; allocates only in merkleNew. */
#include "merkle.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

/* First node of a level in the flat array: (16^level - 1) / 15. */
#define MERKLE_LEVEL_START(level) (((1u << (MERKLE_FANOUT_BITS * (level))) - 1) / (MERKLE_FANOUT - 1))
#define MERKLE_INTERIOR MERKLE_LEVEL_START(MERKLE_DEPTH)   /* 4369 */
#define MERKLE_NODES (MERKLE_INTERIOR + MERKLE_LEAVES)     /* 69905 */

#define MERKLE_PENDING 256          /* leaf updates held back, their lines prefetched */

struct merkle {
    uint64_t hash[MERKLE_NODES];      /* interior nodes first, leaves from MERKLE_INTERIOR */
    uint8_t stale[MERKLE_INTERIOR];   /* 1: hash[] of that interior node is out of date */
    uint32_t npending;
    uint32_t pendingLeaf[MERKLE_PENDING];
    uint64_t pendingDelta[MERKLE_PENDING];
};

static uint32_t merklePos(int level, uint32_t idx) {
    assert(level >= 0 && level <= MERKLE_DEPTH);
    assert(idx < merkleLevelSize(level));
    return MERKLE_LEVEL_START(level) + idx;
}

/* The interior hash over 16 child hashes, as little-endian bytes whatever the
 * host's byte order. */
static uint64_t merkleHashChildren(const uint64_t *child) {
    unsigned char buf[MERKLE_FANOUT * 8];
    for (uint32_t c = 0; c < MERKLE_FANOUT; c++)
        for (int b = 0; b < 8; b++) buf[c * 8 + b] = (unsigned char)(child[c] >> (8 * b));
    return XXH3_64bits(buf, sizeof(buf));
}

merkle *merkleNew(void) {
    merkle *t = malloc(sizeof(*t));
    if (t == NULL) abort();
    merkleClear(t);
    return t;
}

void merkleFree(merkle *t) {
    free(t);
}

/* Every node gets the hash of an empty subtree of its height, computed once
 * per level from the one below, so nothing is left stale. */
void merkleClear(merkle *t) {
    uint64_t empty = 0, children[MERKLE_FANOUT];
    memset(t->hash + MERKLE_INTERIOR, 0, MERKLE_LEAVES * sizeof(uint64_t));
    for (int level = MERKLE_DEPTH - 1; level >= 0; level--) {
        for (uint32_t c = 0; c < MERKLE_FANOUT; c++) children[c] = empty;
        empty = merkleHashChildren(children);
        uint32_t start = MERKLE_LEVEL_START(level);
        for (uint32_t i = 0; i < merkleLevelSize(level); i++) t->hash[start + i] = empty;
    }
    memset(t->stale, 0, sizeof(t->stale));
    t->npending = 0;
}

/* Flags the leaf's ancestors from the bottom up, stopping at the first that
 * is already stale: by the invariant, those above it are too. */
static void merkleMarkPath(merkle *t, uint32_t leaf) {
    uint32_t idx = leaf;
    for (int level = MERKLE_DEPTH - 1; level >= 0; level--) {
        idx >>= MERKLE_FANOUT_BITS;
        uint8_t *flag = &t->stale[MERKLE_LEVEL_START(level) + idx];
        if (*flag) return;
        *flag = 1;
    }
}

/* Writes the queued leaf updates. */
static void merkleDrain(merkle *t) {
    for (uint32_t i = 0; i < t->npending; i++) {
        t->hash[MERKLE_INTERIOR + t->pendingLeaf[i]] += t->pendingDelta[i];
        merkleMarkPath(t, t->pendingLeaf[i]);
    }
    t->npending = 0;
}

/* Adds delta to a leaf: queued, its line prefetched for the write. */
static void merkleUpdate(merkle *t, uint32_t leaf, uint64_t delta) {
    uint32_t pos = merklePos(MERKLE_DEPTH, leaf);
    __builtin_prefetch(&t->hash[pos], 1);
    if (t->npending == MERKLE_PENDING) merkleDrain(t);
    t->pendingLeaf[t->npending] = leaf;
    t->pendingDelta[t->npending++] = delta;
}

void merkleAdd(merkle *t, uint32_t leaf, uint64_t contribution) { merkleUpdate(t, leaf, contribution); }

void merkleRemove(merkle *t, uint32_t leaf, uint64_t contribution) { merkleUpdate(t, leaf, 0 - contribution); }

void merkleReplace(merkle *t, uint32_t leaf, uint64_t old, uint64_t contribution) {
    merkleUpdate(t, leaf, contribution - old);
}

/* Recurses only into stale children (at most 4 levels deep), so the work is
 * proportional to the number of stale nodes under the one asked for. */
uint64_t merkleNode(merkle *t, int level, uint32_t idx) {
    if (t->npending) merkleDrain(t);
    uint32_t pos = merklePos(level, idx);
    if (level == MERKLE_DEPTH || !t->stale[pos]) return t->hash[pos];
    uint64_t children[MERKLE_FANOUT];
    uint32_t first = idx << MERKLE_FANOUT_BITS;
    for (uint32_t c = 0; c < MERKLE_FANOUT; c++) children[c] = merkleNode(t, level + 1, first + c);
    t->hash[pos] = merkleHashChildren(children);
    t->stale[pos] = 0;
    return t->hash[pos];
}

size_t merkleMemory(const merkle *t) {
    return sizeof(*t);
}
