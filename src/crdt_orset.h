/* crdt_orset.h - an add-wins observed-remove set without per-element
 * tombstones (ORSWOT, as in Riak; delta-state form after Almeida et al.).
 *
 * State: every member carries the dots of the adds that put it there, and the
 * set carries a causal context of every dot it has seen.  Adding mints a new
 * dot at the calling node, replacing the member's dots (they were observed).
 * Removing drops the member's dots; the context remembers them, so a merge
 * with a replica that still holds them removes them there too, while a
 * concurrent add (a dot the remover never saw) survives: add wins.
 *
 * Merge (join): a dot survives if both sides hold it, or if one side holds it
 * and the other side's context has not seen it.  Contexts are united.  A
 * delta is itself an orset (only the touched members, and a context of the
 * dots the operation saw), so the same merge applies states and deltas.
 *
 * Pure: no sockets, no globals, no logging. */
#ifndef LATTICE_CRDT_ORSET_H
#define LATTICE_CRDT_ORSET_H

#include <stddef.h>
#include <stdint.h>

#include "crdt_codec.h"
#include "crdt_dots.h"

typedef struct orset orset;

orset *orsetNew(void);
void orsetFree(orset *s);
/* An empty set in the dict form, to accumulate a batch of operations'
 * deltas: each one then finds its member by hash, not by a linear scan of
 * the packed form. */
orset *orsetNewDelta(void);
orset *orsetDup(const orset *s);

size_t orsetCard(const orset *s);
int orsetContains(const orset *s, const char *m, size_t len);

/* Local operations.  node is the calling node's id.  When delta is not NULL it
 * is an orset (orsetNew) that receives the operation's delta, joined with
 * what it held: one delta may accumulate a batch of operations on s. */
int orsetAdd(orset *s, uint64_t node, const char *m, size_t len, orset *delta);   /* 1 if m was absent */
int orsetRemove(orset *s, const char *m, size_t len, orset *delta);             /* 1 if m was present */
void orsetClear(orset *s, orset *delta);        /* observed-remove of every member */
/* A new incarnation of a key: marks every dot of node up to floor as seen, so
 * that the dots it mints from now on (floor + 1, ...) were never minted for
 * an older incarnation, and merging a stale copy of an older one removes what
 * this node had added to it.  lattice passes the creating version's HLC
 * stamp, which grows faster (65,536 a millisecond) than any key gets adds. */
void orsetObserveUpTo(orset *s, uint64_t node, uint64_t floor);
/* An empty set that has seen what s has (its context): what removing every
 * member of s leaves, without touching s (RENAME's source tombstone). */
orset *orsetEmptyLike(const orset *s);

void orsetMerge(orset *s, const orset *other);

/* Iteration in an unspecified but stable order while the set is not modified. */
typedef struct orsetIter {
    const orset *s;
    uint64_t a, b;
    void *cur;
} orsetIter;
void orsetIterInit(orsetIter *it, const orset *s);
int orsetIterNext(orsetIter *it, const char **m, size_t *len);

/* A uniformly random member (rnd returns 64 random bits); 0 if empty. */
int orsetRandom(const orset *s, uint64_t (*rnd)(void), const char **m, size_t *len);
/* SSCAN: visits some members, returns the next cursor (0 = done); every member
 * present for the whole scan is visited at least once. */
uint64_t orsetScan(const orset *s, uint64_t cursor, void (*fn)(const char *m, size_t len, void *ctx), void *ctx);

const ccontext *orsetContext(const orset *s);
void orsetEncode(const orset *s, cbuf *b);
orset *orsetDecode(creader *r);                /* NULL on malformed input */
uint64_t orsetDigest(const orset *s);          /* members, their dots, and the context */
int orsetEqual(const orset *a, const orset *b);
size_t orsetMemory(const orset *s);

/* A cache hint for a coming lookup of the member whose name has dictHashKey
 * hash: stage 0 its bucket, 1 its node (2: nothing).  Nothing changes. */
void orsetPrefetch(const orset *s, uint64_t hash, int stage);

#endif
