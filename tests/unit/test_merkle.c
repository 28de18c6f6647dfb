/* test_merkle.c - the anti-entropy Merkle tree: node hashes depend only on the
 * multiset of (leaf, contribution) and not on the order of updates; removal
 * undoes addition; one differing contribution shows up on exactly the path
 * from its leaf to the root, so a walk from the root finds that leaf; lazy
 * recomputation agrees with a reference tree hashed from scratch, which also
 * pins the hash format peers rely on (XXH3-64 over 16 little-endian children). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "merkle.h"

#define INTERIOR_NODES 4369u   /* 1 + 16 + 256 + 4096 */

/* splitmix64: deterministic runs. */
static uint64_t rngState = 1;
static uint64_t rng(void) {
    uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

typedef struct update {
    uint32_t leaf;
    uint64_t contribution;
} update;

/* n random updates; leaves are drawn from a range of `spread` so that some
 * leaves get many contributions and sums wrap. */
static update *randomUpdates(int n, uint32_t spread) {
    update *u = malloc((size_t)n * sizeof(*u));
    assert_non_null(u);
    for (int i = 0; i < n; i++) {
        u[i].leaf = (uint32_t)(rng() % spread);
        u[i].contribution = rng();
    }
    return u;
}

static void shuffle(update *u, int n) {
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(rng() % (uint64_t)(i + 1));
        update tmp = u[i];
        u[i] = u[j];
        u[j] = tmp;
    }
}

/* Every node of a and b, level by level, is equal. */
static void assertTreesEqual(merkle *a, merkle *b) {
    for (int level = 0; level <= MERKLE_DEPTH; level++)
        for (uint32_t i = 0; i < merkleLevelSize(level); i++)
            if (merkleNode(a, level, i) != merkleNode(b, level, i))
                fail_msg("trees differ at level %d node %u", level, i);
}

/* The hash format, written out independently: XXH3-64, seed 0, over the 16
 * children as 8 little-endian bytes each. */
static uint64_t refHashChildren(const uint64_t *child) {
    unsigned char buf[16 * 8];
    for (int c = 0; c < 16; c++)
        for (int b = 0; b < 8; b++) buf[c * 8 + b] = (unsigned char)(child[c] >> (8 * b));
    return XXH3_64bits(buf, sizeof(buf));
}

/* A reference tree built from scratch from leaf values: ref[level] has
 * 16^level entries. */
typedef struct refTree {
    uint64_t *level[MERKLE_DEPTH + 1];
} refTree;

static void refBuild(refTree *r, const uint64_t *leaves) {
    for (int level = 0; level <= MERKLE_DEPTH; level++) {
        r->level[level] = malloc(((size_t)1 << (4 * level)) * sizeof(uint64_t));
        assert_non_null(r->level[level]);
    }
    memcpy(r->level[MERKLE_DEPTH], leaves, 65536 * sizeof(uint64_t));
    for (int level = MERKLE_DEPTH - 1; level >= 0; level--)
        for (uint32_t i = 0; i < (1u << (4 * level)); i++)
            r->level[level][i] = refHashChildren(&r->level[level + 1][i * 16]);
}

static void refFree(refTree *r) {
    for (int level = 0; level <= MERKLE_DEPTH; level++) free(r->level[level]);
}

static void assertTreeMatchesRef(merkle *t, const refTree *r) {
    for (int level = 0; level <= MERKLE_DEPTH; level++)
        for (uint32_t i = 0; i < merkleLevelSize(level); i++)
            if (merkleNode(t, level, i) != r->level[level][i])
                fail_msg("level %d node %u differs from the reference", level, i);
}

static void test_level_sizes_and_leaf_for(void **state) {
    assert_int_equal(MERKLE_LEAVES, 65536);
    assert_int_equal(MERKLE_FANOUT, 16);
    assert_int_equal(merkleLevelSize(0), 1);
    assert_int_equal(merkleLevelSize(1), 16);
    assert_int_equal(merkleLevelSize(2), 256);
    assert_int_equal(merkleLevelSize(3), 4096);
    assert_int_equal(merkleLevelSize(4), 65536);
    assert_int_equal(merkleLevelSize(MERKLE_DEPTH), MERKLE_LEAVES);
    /* The low 16 bits of the key hash. */
    assert_int_equal(merkleLeafFor(0), 0);
    assert_int_equal(merkleLeafFor(0xFFFF), 0xFFFF);
    assert_int_equal(merkleLeafFor(0x10000), 0);
    assert_int_equal(merkleLeafFor(0x123456789abcdef0ULL), 0xdef0);
    assert_int_equal(merkleLeafFor(UINT64_MAX), 0xFFFF);
    assert_int_equal(merkleLeafFor(0xFFFFFFFFFFFF0001ULL), 1);
}

/* An empty tree hashes to a fixed value on every host: zero leaves, and each
 * level the hash of 16 copies of the level below.  New and cleared trees are
 * that tree, and nothing in it needs recomputing first. */
static void test_empty_tree_is_deterministic(void **state) {
    uint64_t *zero = calloc(65536, sizeof(uint64_t));
    assert_non_null(zero);
    refTree r;
    refBuild(&r, zero);
    merkle *a = merkleNew(), *b = merkleNew();
    assertTreeMatchesRef(a, &r);
    assertTreesEqual(a, b);
    uint64_t children[16] = {0};
    uint64_t expect = refHashChildren(children);
    assert_int_equal(merkleNode(a, 3, 4095), expect);
    for (int c = 0; c < 16; c++) children[c] = expect;
    assert_int_equal(merkleNode(a, 2, 0), refHashChildren(children));
    assert_int_not_equal(merkleNode(a, 0, 0), 0);
    /* Clear after updates returns to the empty tree. */
    for (int i = 0; i < 5000; i++) merkleAdd(b, (uint32_t)(rng() % MERKLE_LEAVES), rng());
    assert_int_not_equal(merkleNode(b, 0, 0), merkleNode(a, 0, 0));
    merkleClear(b);
    assertTreeMatchesRef(b, &r);
    /* Updates after a clear done without reading in between. */
    merkleAdd(b, 7, 99);
    merkleClear(b);
    assertTreeMatchesRef(b, &r);
    refFree(&r);
    free(zero);
    merkleFree(a);
    merkleFree(b);
}

/* A leaf is the wrapping sum of its contributions. */
static void test_leaf_is_wrapping_sum(void **state) {
    merkle *t = merkleNew();
    merkleAdd(t, 42, UINT64_MAX);
    merkleAdd(t, 42, 2);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 42), 1);
    merkleRemove(t, 42, 5);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 42), UINT64_MAX - 3);
    merkleAdd(t, 65535, 10);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 65535), 10);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 41), 0);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 0), 0);
    merkleFree(t);
}

/* Updates are held back until a read or a full queue: a clear drops the
 * queued ones too, and a read after more updates than the queue holds sees
 * them all. */
static void test_queued_updates(void **state) {
    merkle *t = merkleNew(), *empty = merkleNew();
    for (uint32_t i = 0; i < 10; i++) merkleAdd(t, i * 7, i + 1);
    merkleClear(t);
    assert_int_equal(merkleNode(t, 0, 0), merkleNode(empty, 0, 0));
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 7), 0);
    for (uint32_t i = 0; i < 1000; i++) merkleAdd(t, 5, 3);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 5), 3000);
    merkleReplace(t, 5, 3000, 1);
    assert_int_equal(merkleNode(t, MERKLE_DEPTH, 5), 1);
    merkleFree(t);
    merkleFree(empty);
}

static void test_order_does_not_matter(void **state) {
    enum { N = 40000 };
    uint32_t spreads[] = {MERKLE_LEAVES, 300};   /* sparse leaves; crowded leaves */
    for (int s = 0; s < 2; s++) {
        update *u = randomUpdates(N, spreads[s]);
        merkle *a = merkleNew(), *b = merkleNew();
        for (int i = 0; i < N; i++) merkleAdd(a, u[i].leaf, u[i].contribution);
        shuffle(u, N);
        for (int i = 0; i < N; i++) {
            merkleAdd(b, u[i].leaf, u[i].contribution);
            if (i % 1000 == 0) merkleNode(b, 0, 0);   /* recompute midway in one tree only */
        }
        assertTreesEqual(a, b);
        merkle *e = merkleNew();
        assert_int_not_equal(merkleNode(a, 0, 0), merkleNode(e, 0, 0));
        merkleFree(e);
        merkleFree(a);
        merkleFree(b);
        free(u);
    }
}

/* Removing every contribution, in another order and interleaved with reads,
 * brings every node back to the empty tree's hash; removing only some leaves
 * the tree equal to one that never saw them. */
static void test_add_then_remove_restores(void **state) {
    enum { N = 30000, KEEP = 1000 };
    update *u = randomUpdates(N, MERKLE_LEAVES);
    merkle *t = merkleNew(), *empty = merkleNew(), *kept = merkleNew();
    for (int i = 0; i < N; i++) merkleAdd(t, u[i].leaf, u[i].contribution);
    assert_int_not_equal(merkleNode(t, 0, 0), merkleNode(empty, 0, 0));
    shuffle(u, N);
    for (int i = 0; i < KEEP; i++) merkleAdd(kept, u[i].leaf, u[i].contribution);
    for (int i = KEEP; i < N; i++) {
        merkleRemove(t, u[i].leaf, u[i].contribution);
        if (i % 777 == 0) merkleNode(t, (int)(rng() % (MERKLE_DEPTH + 1)), 0);
    }
    assertTreesEqual(t, kept);
    for (int i = 0; i < KEEP; i++) merkleRemove(t, u[i].leaf, u[i].contribution);
    assertTreesEqual(t, empty);
    /* Add and remove of the same contribution with no read in between. */
    merkleAdd(t, 1234, 0xdeadbeef);
    merkleRemove(t, 1234, 0xdeadbeef);
    assertTreesEqual(t, empty);
    merkleFree(t);
    merkleFree(empty);
    merkleFree(kept);
    free(u);
}

/* ---- finding differences as anti-entropy will ---- */

typedef struct diffWalk {
    uint32_t found[64];
    int nfound;
    int visited[MERKLE_DEPTH + 1];   /* differing nodes met per level */
} diffWalk;

/* Descends from node (level, idx), which differs, into the children that
 * differ, down to the leaves. */
static void walkDiff(merkle *a, merkle *b, int level, uint32_t idx, diffWalk *w) {
    w->visited[level]++;
    if (level == MERKLE_DEPTH) {
        assert_true(w->nfound < 64);
        w->found[w->nfound++] = idx;
        return;
    }
    for (uint32_t c = idx * MERKLE_FANOUT; c < (idx + 1) * MERKLE_FANOUT; c++)
        if (merkleNode(a, level + 1, c) != merkleNode(b, level + 1, c)) walkDiff(a, b, level + 1, c, w);
}

static void findDifferences(merkle *a, merkle *b, diffWalk *w) {
    memset(w, 0, sizeof(*w));
    if (merkleNode(a, 0, 0) != merkleNode(b, 0, 0)) walkDiff(a, b, 0, 0, w);
}

/* Two trees share many contributions; b has one more.  At each level exactly
 * one node differs, the leaf's ancestor, and the walk from the root meets
 * just those and finds just that leaf. */
static void test_single_difference_is_one_path(void **state) {
    enum { N = 20000 };
    update *u = randomUpdates(N, MERKLE_LEAVES);
    uint32_t leaves[] = {0, 65535, 0x1234, (uint32_t)(rng() % MERKLE_LEAVES), (uint32_t)u[5].leaf};
    for (size_t k = 0; k < sizeof(leaves) / sizeof(leaves[0]); k++) {
        uint32_t leaf = leaves[k];
        merkle *a = merkleNew(), *b = merkleNew();
        for (int i = 0; i < N; i++) {
            merkleAdd(a, u[i].leaf, u[i].contribution);
            merkleAdd(b, u[i].leaf, u[i].contribution);
        }
        merkleNode(a, 0, 0);
        merkleNode(b, 0, 0);   /* both fully computed: the difference arrives as an update */
        if (k % 2 == 0) {
            merkleAdd(b, leaf, rng() | 1);
        } else {
            /* A key whose state differs: same leaf, other contribution. */
            merkleAdd(a, leaf, 1111);
            merkleAdd(b, leaf, 2222);
        }
        for (int level = 0; level <= MERKLE_DEPTH; level++) {
            uint32_t ancestor = leaf >> (MERKLE_FANOUT_BITS * (MERKLE_DEPTH - level));
            int differing = 0;
            for (uint32_t i = 0; i < merkleLevelSize(level); i++) {
                if (merkleNode(a, level, i) == merkleNode(b, level, i)) continue;
                assert_int_equal(i, ancestor);
                differing++;
            }
            assert_int_equal(differing, 1);
        }
        diffWalk w;
        findDifferences(a, b, &w);
        assert_int_equal(w.nfound, 1);
        assert_int_equal(w.found[0], leaf);
        for (int level = 0; level <= MERKLE_DEPTH; level++) assert_int_equal(w.visited[level], 1);
        /* Bringing a into line with b makes the trees equal again. */
        if (k % 2 == 0) {
            merkleAdd(a, leaf, merkleNode(b, MERKLE_DEPTH, leaf) - merkleNode(a, MERKLE_DEPTH, leaf));
        } else {
            merkleRemove(a, leaf, 1111);
            merkleAdd(a, leaf, 2222);
        }
        findDifferences(a, b, &w);
        assert_int_equal(w.nfound, 0);
        assertTreesEqual(a, b);
        merkleFree(a);
        merkleFree(b);
    }
    free(u);
}

/* A few differing leaves, two of them under one level-3 node: the walk finds
 * exactly that set. */
static void test_walk_finds_exactly_differing_leaves(void **state) {
    uint32_t leaves[] = {3, 4, 0x8000, 0xABCD, 0xFFF0};   /* in leaf order */
    merkle *a = merkleNew(), *b = merkleNew();
    for (int i = 0; i < 10000; i++) {
        uint32_t leaf = (uint32_t)(rng() % MERKLE_LEAVES);
        uint64_t c = rng();
        merkleAdd(a, leaf, c);
        merkleAdd(b, leaf, c);
    }
    for (size_t k = 0; k < 5; k++) merkleAdd(a, leaves[k], k + 1);
    diffWalk w;
    findDifferences(a, b, &w);
    assert_int_equal(w.nfound, 5);
    for (size_t k = 0; k < 5; k++) assert_int_equal(w.found[k], leaves[k]);   /* walk order is leaf order */
    assert_int_equal(w.visited[0], 1);
    assert_int_equal(w.visited[3], 4);   /* 3 and 4 share node 0 at level 3 */
    merkleFree(a);
    merkleFree(b);
}

/* Many random updates with reads of random nodes at random levels in between
 * (so parts of the tree are recomputed while others stay stale): the result
 * equals a reference tree hashed from scratch from the final leaves, at
 * checkpoints and at the end. */
static void test_lazy_recompute_matches_rebuild(void **state) {
    enum { OPS = 200000, CHECKPOINTS = 3 };
    uint64_t *leaves = calloc(65536, sizeof(uint64_t));
    assert_non_null(leaves);
    merkle *t = merkleNew();
    for (int round = 0; round < CHECKPOINTS; round++) {
        for (int op = 0; op < OPS / CHECKPOINTS; op++) {
            uint64_t r = rng();
            /* Bias towards a few hot regions so paths are re-marked after partial recomputes. */
            uint32_t leaf = (r & 1) ? (uint32_t)(rng() % MERKLE_LEAVES) : (uint32_t)(rng() % 512) * 128;
            uint64_t c = rng();
            if ((r >> 1) % 3 == 0) {
                merkleRemove(t, leaf, c);
                leaves[leaf] -= c;
            } else {
                merkleAdd(t, leaf, c);
                leaves[leaf] += c;
            }
            if ((r >> 8) % 16 == 0) {
                int level = (int)(rng() % (MERKLE_DEPTH + 1));
                merkleNode(t, level, (uint32_t)(rng() % merkleLevelSize(level)));
            }
        }
        refTree ref;
        refBuild(&ref, leaves);
        /* Ask bottom-up on even rounds, root first on odd ones. */
        if (round % 2 == 0) {
            for (int level = MERKLE_DEPTH; level >= 0; level--)
                for (uint32_t i = 0; i < merkleLevelSize(level); i++)
                    assert_int_equal(merkleNode(t, level, i), ref.level[level][i]);
        }
        assertTreeMatchesRef(t, &ref);
        /* And a tree built afresh from the net leaf values agrees. */
        merkle *fresh = merkleNew();
        for (uint32_t i = 0; i < MERKLE_LEAVES; i++)
            if (leaves[i]) merkleAdd(fresh, i, leaves[i]);
        assertTreesEqual(t, fresh);
        merkleFree(fresh);
        refFree(&ref);
    }
    merkleFree(t);
    free(leaves);
}

/* Everything is allocated up front: 8 bytes per node, a flag per interior
 * node, and the queue of up to 256 held-back leaf updates (12 bytes each). */
static void test_memory_is_fixed(void **state) {
    merkle *t = merkleNew();
    size_t m = merkleMemory(t);
    size_t need = (MERKLE_LEAVES + INTERIOR_NODES) * 8 + INTERIOR_NODES;
    assert_true(m >= need);
    assert_true(m <= need + 256 * 12 + 64);
    for (int i = 0; i < 1000; i++) merkleAdd(t, (uint32_t)(rng() % MERKLE_LEAVES), rng());
    merkleNode(t, 0, 0);
    assert_int_equal(merkleMemory(t), m);
    merkleFree(t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_level_sizes_and_leaf_for),
        cmocka_unit_test(test_empty_tree_is_deterministic),
        cmocka_unit_test(test_leaf_is_wrapping_sum),
        cmocka_unit_test(test_queued_updates),
        cmocka_unit_test(test_order_does_not_matter),
        cmocka_unit_test(test_add_then_remove_restores),
        cmocka_unit_test(test_single_difference_is_one_path),
        cmocka_unit_test(test_walk_finds_exactly_differing_leaves),
        cmocka_unit_test(test_lazy_recompute_matches_rebuild),
        cmocka_unit_test(test_memory_is_fixed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
