/* crdt_dots.h - dots and causal contexts, the bookkeeping behind add-wins
 * (observed-remove) types.
 *
 * A dot (node, counter) names one add made at one node: the node's counter-th
 * event.  A causal context is the set of dots a replica has seen, kept as a
 * version vector (per node, every counter 1..max seen) plus a "cloud" of dots
 * seen out of order (deltas arrive out of order); ccCompact folds cloud dots
 * into the vector once they become contiguous.
 *
 * Pure: no sockets, no globals, no logging. */
#ifndef LATTICE_CRDT_DOTS_H
#define LATTICE_CRDT_DOTS_H

#include <stddef.h>
#include <stdint.h>

#include "crdt_codec.h"

typedef struct dot {
    uint64_t node;
    uint64_t counter;       /* >= 1 */
} dot;

/* The highest counter ccDecode accepts (2^60 - 1).  A node's counters start
 * past an HLC stamp (crdt_orset.h), under 2^60 until the year 2500, and grow
 * by one per local add: refusing more from a peer keeps ccNextDot far from
 * overflowing, and crdt_ormap.c's counter seqs within crdt_reg's 61 bits. */
#define CC_COUNTER_MAX (UINT64_MAX >> 4)

static inline int dotEq(dot a, dot b) { return a.node == b.node && a.counter == b.counter; }
static inline int dotCmp(dot a, dot b) {
    if (a.node != b.node) return a.node < b.node ? -1 : 1;
    if (a.counter != b.counter) return a.counter < b.counter ? -1 : 1;
    return 0;
}

typedef struct ccontext {
    dot *vv;                /* sorted by node; .counter = highest contiguous counter */
    uint32_t nvv, capvv;
    dot *cloud;             /* sorted by (node, counter); never covered by vv */
    uint32_t ncloud, capcloud;
} ccontext;

void ccInit(ccontext *c);
void ccFree(ccontext *c);
void ccCopy(ccontext *dst, const ccontext *src);
void ccClear(ccontext *c);
int ccIsEmpty(const ccontext *c);
/* 1 if the dot has been seen. */
int ccContains(const ccontext *c, dot d);
/* The highest counter seen from node (vector part and cloud). */
uint64_t ccMax(const ccontext *c, uint64_t node);
/* Mints the next dot for a local event at node and records it. */
dot ccNextDot(ccontext *c, uint64_t node);
/* Records a dot (then compacts). */
void ccAdd(ccontext *c, dot d);
/* Records every dot of node up to counter as seen (a new incarnation of a
 * key starting its dots past every dot the node may have minted for an older
 * one; see crdt_orset.h). */
void ccObserveUpTo(ccontext *c, uint64_t node, uint64_t counter);
/* Union of two contexts (then compacts). */
void ccMerge(ccontext *c, const ccontext *other);
/* Folds cloud dots that extend the vector into it. */
void ccCompact(ccontext *c);
/* Logical equality (after compaction both sides are canonical). */
int ccEqual(const ccontext *a, const ccontext *b);
void ccEncode(const ccontext *c, cbuf *b);
int ccDecode(ccontext *c, creader *r);     /* 0, or -1 on malformed input */
uint64_t ccDigest(const ccontext *c, uint64_t seed);
/* Chains two 64-bit words into the hash h (XXH3 of their 16 little-endian
 * bytes, seeded with h): the same value on every host, for the types' digests. */
uint64_t ccHashWords(uint64_t h, uint64_t a, uint64_t b);

/* Node tables for encodings that write a dot's node as a small index.
 * ccNodes returns the sorted distinct nodes of a canonical context (a
 * malloc'd array the caller frees; *n gets the count); every dot the context
 * contains has its node there.  ccNodeIndex returns node's index in such a
 * table, which must hold it (asserted). */
uint64_t *ccNodes(const ccontext *c, uint32_t *n);
uint32_t ccNodeIndex(const uint64_t *nodes, uint32_t n, uint64_t node);

#endif
