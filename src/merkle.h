/* merkle.h - a Merkle tree over the key space, for anti-entropy between peers.
 *
 * 65536 leaves under a fixed 16-ary tree of depth 4.  A key belongs to the
 * leaf given by the low 16 bits of its dictHashKey; the caller hashes the
 * key's db, name and state into a 64-bit contribution and adds it to (or
 * removes it from) that leaf.  A leaf's value is the wrapping sum of its
 * contributions, so two trees holding the same multiset of (leaf,
 * contribution) agree at every node whatever the order of updates.  Two peers
 * compare roots, then walk down the children that differ to find the leaves
 * whose keys they must exchange.
 *
 * Pure: no sockets, no globals, no logging; one allocation in merkleNew.
 * It knows nothing of keys: the caller computes leaves and contributions. */
#ifndef LATTICE_MERKLE_H
#define LATTICE_MERKLE_H

#include <stddef.h>
#include <stdint.h>

#define MERKLE_LEAF_BITS 16
#define MERKLE_LEAVES (1u << MERKLE_LEAF_BITS)   /* 65536 */
#define MERKLE_FANOUT_BITS 4                      /* 16 children per node */
#define MERKLE_FANOUT (1u << MERKLE_FANOUT_BITS)
#define MERKLE_DEPTH 4                            /* levels 0 (root, 1 node) .. 4 (leaves, 65536 nodes) */

typedef struct merkle merkle;

/* A tree with every leaf empty.  Allocation failure aborts. */
merkle *merkleNew(void);
void merkleFree(merkle *t);
/* Every leaf back to empty: the tree then equals a new one. */
void merkleClear(merkle *t);

/* The leaf a key belongs to, from its 64-bit key hash (dictHashKey): the LOW 16 bits. */
static inline uint32_t merkleLeafFor(uint64_t keyHash) { return (uint32_t)(keyHash & (MERKLE_LEAVES - 1)); }
/* Number of nodes at a level: 16^level. */
static inline uint32_t merkleLevelSize(int level) { return 1u << (MERKLE_FANOUT_BITS * level); }

/* A key's contribution (a 64-bit hash of its db, name and state, computed by
 * the caller) enters or leaves a leaf (leaf < MERKLE_LEAVES).  O(1):
 * only the leaf's ancestors are marked stale, nothing is hashed.  Removing a
 * contribution that was never added is not detected; the caller keeps the
 * tree in step with its keys. */
void merkleAdd(merkle *t, uint32_t leaf, uint64_t contribution);
void merkleRemove(merkle *t, uint32_t leaf, uint64_t contribution);
/* merkleRemove(old) then merkleAdd(contribution), in one step (a key changed). */
void merkleReplace(merkle *t, uint32_t leaf, uint64_t old, uint64_t contribution);

/* The hash of node idx at level (0..MERKLE_DEPTH, idx < merkleLevelSize(level)).
 * At level MERKLE_DEPTH it is the leaf's value (0 when empty).  An interior
 * node's hash is XXH3-64 (seed 0) over its 16 children's hashes, each as 8
 * little-endian bytes, so a peer can check a node against the children it was
 * sent, and an empty subtree hashes the same on every host.  Interior nodes
 * are recomputed lazily: this call recomputes what is stale below the asked
 * node, and is O(1) when nothing under it changed. */
uint64_t merkleNode(merkle *t, int level, uint32_t idx);
/* Children of node idx at level are idx*16 .. idx*16+15 at level+1. */

/* Bytes held by the tree (a constant: everything is allocated in merkleNew). */
size_t merkleMemory(const merkle *t);

#endif
