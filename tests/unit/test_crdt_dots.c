/* test_crdt_dots.c - causal contexts against a plain model: a bitmap of the
 * dots seen.  Random histories of ccAdd / ccNextDot / ccMerge in random
 * orders must answer ccContains and ccMax as the model does, stay canonical
 * (sorted vector, cloud never covered or contiguous with it), compare equal
 * and digest equal whenever the models are equal, and survive encode/decode;
 * the decoder must refuse truncated input and survive garbage.
 *
 * Seeded: CRDT_SEED=<n> replays a run; the seed is printed at start and with
 * every failure, along with the failing case number. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crdt_dots.h"

/* ---------- seeded randomness and failure reports ---------- */

static uint64_t seed;
static uint64_t rngState;
static long caseNo;

static uint64_t rng(void) {
    uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t rngBelow(uint64_t n) { return rng() % n; }

/* Every case gets its own stream so one case can be reasoned about alone. */
static void startCase(long n) {
    caseNo = n;
    rngState = seed ^ ((uint64_t)n * 0xd1b54a32d192ed03ULL);
    (void)rng();
}

#define CHECK(cond, ...)                                                                    \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "FAILED: %s (CRDT_SEED=%" PRIu64 " case %ld): ", #cond, seed, caseNo); \
            fprintf(stderr, __VA_ARGS__);                                                   \
            fprintf(stderr, "\n");                                                          \
            fail();                                                                         \
        }                                                                                   \
    } while (0)

/* ---------- the model: a bitmap of dots over a few nodes ---------- */

#define NODES 3
#define MAXC 48

typedef struct model {
    uint8_t seen[NODES][MAXC + 1];
} model;

static uint64_t nodeIds[NODES];

static void pickNodes(void) {
    for (int i = 0; i < NODES; i++) {
        nodeIds[i] = rng();
        /* Sometimes extreme ids, to exercise ordering and encoding edges. */
        if (rngBelow(8) == 0) nodeIds[i] = i == 0 ? 0 : UINT64_MAX - (uint64_t)i;
        for (int j = 0; j < i; j++)
            if (nodeIds[j] == nodeIds[i]) nodeIds[i] ^= 0x5555;
    }
}

static dot randomDot(void) {
    /* Mostly low counters so runs become contiguous and compaction matters. */
    uint64_t ctr = rngBelow(4) == 0 ? 1 + rngBelow(MAXC) : 1 + rngBelow(12);
    return (dot){nodeIds[rngBelow(NODES)], ctr};
}

static int nodeIndex(uint64_t node) {
    for (int i = 0; i < NODES; i++)
        if (nodeIds[i] == node) return i;
    return -1;
}

static void modelAdd(model *m, dot d) { m->seen[nodeIndex(d.node)][d.counter] = 1; }

static uint64_t modelMax(const model *m, int n) {
    for (int c = MAXC; c >= 1; c--)
        if (m->seen[n][c]) return (uint64_t)c;
    return 0;
}

static void checkCanonical(const ccontext *c) {
    for (uint32_t i = 0; i < c->nvv; i++) {
        CHECK(c->vv[i].counter >= 1, "vv counter 0 at %u", i);
        if (i > 0) CHECK(c->vv[i - 1].node < c->vv[i].node, "vv unsorted at %u", i);
    }
    for (uint32_t i = 0; i < c->ncloud; i++) {
        if (i > 0) CHECK(dotCmp(c->cloud[i - 1], c->cloud[i]) < 0, "cloud unsorted at %u", i);
        uint64_t v = 0;
        for (uint32_t k = 0; k < c->nvv; k++)
            if (c->vv[k].node == c->cloud[i].node) v = c->vv[k].counter;
        CHECK(c->cloud[i].counter > v + 1, "cloud dot %u (counter %" PRIu64 ") covered by or contiguous with vv %" PRIu64,
              i, c->cloud[i].counter, v);
    }
    CHECK(c->nvv <= c->capvv && c->ncloud <= c->capcloud, "count above capacity");
}

static void checkAgainstModel(const ccontext *c, const model *m) {
    checkCanonical(c);
    for (int n = 0; n < NODES; n++) {
        for (uint64_t ctr = 1; ctr <= MAXC + 2; ctr++) {
            int want = ctr <= MAXC && m->seen[n][ctr];
            CHECK(ccContains(c, (dot){nodeIds[n], ctr}) == want, "contains node %d counter %" PRIu64 " want %d", n, ctr, want);
        }
        CHECK(ccMax(c, nodeIds[n]) == modelMax(m, n), "max of node %d", n);
    }
}

static int modelEqual(const model *a, const model *b) { return memcmp(a, b, sizeof(*a)) == 0; }

/* Builds a context and its model from random dots added in random order. */
static void randomContext(ccontext *c, model *m, int ndots) {
    for (int i = 0; i < ndots; i++) {
        dot d = randomDot();
        ccAdd(c, d);
        modelAdd(m, d);
    }
}

static void roundTrip(const ccontext *c, ccontext *out) {
    cbuf b;
    cbufInit(&b);
    ccEncode(c, &b);
    creader r;
    creaderInit(&r, b.p, b.len);
    CHECK(ccDecode(out, &r) == 0, "decode of a valid encoding failed");
    CHECK(creaderDone(&r), "decode left bytes");
    cbufFree(&b);
}

/* ---------- tests ---------- */

static void testBasics(void **state) {
    startCase(0);
    ccontext c;
    ccInit(&c);
    CHECK(ccIsEmpty(&c), "new context not empty");
    CHECK(!ccContains(&c, (dot){7, 1}), "empty contains");
    CHECK(ccMax(&c, 7) == 0, "empty max");
    dot d = ccNextDot(&c, 7);
    CHECK(d.node == 7 && d.counter == 1, "first dot");
    d = ccNextDot(&c, 7);
    CHECK(d.counter == 2, "second dot");
    CHECK(c.nvv == 1 && c.ncloud == 0 && c.vv[0].counter == 2, "vector only");
    /* Out of order: 5 and 4 wait in the cloud, 3 folds all three in. */
    ccAdd(&c, (dot){7, 5});
    ccAdd(&c, (dot){7, 4});
    CHECK(c.ncloud == 2 && ccMax(&c, 7) == 5 && !ccContains(&c, (dot){7, 3}), "cloud holds 4,5");
    ccAdd(&c, (dot){7, 3});
    CHECK(c.ncloud == 0 && c.vv[0].counter == 5, "3 folds 4 and 5");
    /* The next local dot after a cloud dot is above it. */
    ccAdd(&c, (dot){9, 10});
    CHECK(ccNextDot(&c, 9).counter == 11, "next dot above the cloud");
    CHECK(ccContains(&c, (dot){9, 10}) && ccContains(&c, (dot){9, 11}) && !ccContains(&c, (dot){9, 1}), "cloud node");
    /* Extreme counters and nodes (the largest counter a decoder accepts). */
    ccontext top;
    ccInit(&top);
    ccAdd(&top, (dot){UINT64_MAX, UINT64_MAX});
    CHECK(ccMax(&top, UINT64_MAX) == UINT64_MAX && ccContains(&top, (dot){UINT64_MAX, UINT64_MAX}), "max dot");
    ccFree(&top);
    ccAdd(&c, (dot){UINT64_MAX, CC_COUNTER_MAX});
    CHECK(ccMax(&c, UINT64_MAX) == CC_COUNTER_MAX && ccContains(&c, (dot){UINT64_MAX, CC_COUNTER_MAX}), "max dot");
    ccAdd(&c, (dot){0, 1});
    CHECK(ccMax(&c, 0) == 1, "node 0");
    checkCanonical(&c);
    ccontext d2;
    ccInit(&d2);
    roundTrip(&c, &d2);
    CHECK(ccEqual(&c, &d2) && ccDigest(&c, 1) == ccDigest(&d2, 1), "round trip of edges");
    CHECK(ccDigest(&c, 1) != ccDigest(&c, 2), "seed ignored");
    ccClear(&c);
    CHECK(ccIsEmpty(&c) && !ccContains(&c, (dot){7, 1}), "clear");
    ccFree(&c);
    ccFree(&d2);
}

/* The same dots added in any order give the same canonical context. */
static void testOrderIndependence(void **state) {
    for (long n = 1; n <= 3000; n++) {
        startCase(n);
        pickNodes();
        int ndots = (int)rngBelow(60);
        dot dots[60];
        for (int i = 0; i < ndots; i++) dots[i] = randomDot();
        ccontext a, b;
        ccInit(&a);
        ccInit(&b);
        model m;
        memset(&m, 0, sizeof(m));
        for (int i = 0; i < ndots; i++) {
            ccAdd(&a, dots[i]);
            modelAdd(&m, dots[i]);
        }
        for (int i = ndots - 1; i > 0; i--) {   /* shuffle */
            int j = (int)rngBelow((uint64_t)i + 1);
            dot t = dots[i];
            dots[i] = dots[j];
            dots[j] = t;
        }
        for (int i = 0; i < ndots; i++) ccAdd(&b, dots[i]);
        checkAgainstModel(&a, &m);
        checkAgainstModel(&b, &m);
        CHECK(ccEqual(&a, &b) && ccEqual(&b, &a), "order changed the context");
        CHECK(ccDigest(&a, 42) == ccDigest(&b, 42), "order changed the digest");
        ccFree(&a);
        ccFree(&b);
    }
}

/* ccNextDot mints fresh dots that never collide with what was seen. */
static void testNextDot(void **state) {
    for (long n = 1; n <= 1000; n++) {
        startCase(n);
        pickNodes();
        ccontext c;
        ccInit(&c);
        model m;
        memset(&m, 0, sizeof(m));
        randomContext(&c, &m, (int)rngBelow(30));
        for (int k = 0; k < 5; k++) {
            int ni = (int)rngBelow(NODES);
            uint64_t before = modelMax(&m, ni);
            if (before >= MAXC) break;
            dot d = ccNextDot(&c, nodeIds[ni]);
            CHECK(d.node == nodeIds[ni] && d.counter == before + 1, "next dot %" PRIu64 " after max %" PRIu64, d.counter, before);
            modelAdd(&m, d);
            checkAgainstModel(&c, &m);
        }
        ccFree(&c);
    }
}

/* Merge is set union: against the model, commutative, associative,
 * idempotent; copying gives an equal context. */
static void testMerge(void **state) {
    for (long n = 1; n <= 3000; n++) {
        startCase(n);
        pickNodes();
        ccontext a, b, c;
        model ma, mb, mc;
        ccInit(&a);
        ccInit(&b);
        ccInit(&c);
        memset(&ma, 0, sizeof(ma));
        memset(&mb, 0, sizeof(mb));
        memset(&mc, 0, sizeof(mc));
        /* Sizes straddle the one-by-one / merge-join threshold of the cloud. */
        randomContext(&a, &ma, (int)rngBelow(40));
        randomContext(&b, &mb, (int)rngBelow(rngBelow(2) ? 6 : 60));
        randomContext(&c, &mc, (int)rngBelow(40));

        model u;
        for (int i = 0; i < NODES; i++)
            for (int k = 0; k <= MAXC; k++) u.seen[i][k] = ma.seen[i][k] | mb.seen[i][k];

        ccontext ab, ba;
        ccInit(&ab);
        ccInit(&ba);
        ccCopy(&ab, &a);
        CHECK(ccEqual(&ab, &a), "copy differs");
        ccMerge(&ab, &b);
        checkAgainstModel(&ab, &u);
        ccCopy(&ba, &b);
        ccMerge(&ba, &a);
        CHECK(ccEqual(&ab, &ba) && ccDigest(&ab, 0) == ccDigest(&ba, 0), "merge not commutative");

        ccontext again;
        ccInit(&again);
        ccCopy(&again, &ab);
        ccMerge(&again, &b);
        ccMerge(&again, &a);
        ccMerge(&again, &again);
        CHECK(ccEqual(&again, &ab), "merge not idempotent");

        ccontext l, r, bc;   /* (a+b)+c == a+(b+c) */
        ccInit(&l);
        ccInit(&r);
        ccInit(&bc);
        ccCopy(&l, &ab);
        ccMerge(&l, &c);
        ccCopy(&bc, &b);
        ccMerge(&bc, &c);
        ccCopy(&r, &a);
        ccMerge(&r, &bc);
        CHECK(ccEqual(&l, &r), "merge not associative");
        checkCanonical(&l);

        model mab = u;
        CHECK(ccEqual(&a, &b) == modelEqual(&ma, &mb), "ccEqual disagrees with the model");
        CHECK(ccEqual(&ab, &a) == modelEqual(&mab, &ma), "ccEqual disagrees with the model (union)");
        if (!modelEqual(&ma, &mb)) CHECK(ccDigest(&a, 3) != ccDigest(&b, 3), "digest collision on different contexts");

        ccFree(&a); ccFree(&b); ccFree(&c); ccFree(&ab); ccFree(&ba);
        ccFree(&again); ccFree(&l); ccFree(&r); ccFree(&bc);
    }
}

/* Hand-made clouds out of order across several nodes, merged in pieces. */
static void testCompactOutOfOrderClouds(void **state) {
    startCase(0);
    ccontext c, piece;
    ccInit(&c);
    ccInit(&piece);
    uint64_t A = 100, B = 50;
    for (uint64_t k = 20; k >= 2; k -= 2) ccAdd(&c, (dot){A, k});   /* evens 2..20 */
    CHECK(c.nvv == 0 && c.ncloud == 10, "evens stay in the cloud");
    for (uint64_t k = 19; k >= 3; k -= 2) ccAdd(&piece, (dot){A, k}); /* odds 3..19 */
    ccAdd(&piece, (dot){B, 3});
    ccMerge(&c, &piece);
    CHECK(c.nvv == 0 && c.ncloud == 20, "no dot 1 yet: nothing folds (%u)", c.ncloud);
    ccClear(&piece);
    ccAdd(&piece, (dot){A, 1});
    ccAdd(&piece, (dot){B, 1});
    ccMerge(&c, &piece);
    CHECK(c.nvv == 2 && c.vv[0].node == B && c.vv[0].counter == 1 && c.vv[1].node == A && c.vv[1].counter == 20,
          "A folds to 20, B to 1");
    CHECK(c.ncloud == 1 && dotEq(c.cloud[0], (dot){B, 3}), "B3 waits");
    /* A direct ccCompact on a hand-built uncompacted context. */
    ccontext raw;
    ccInit(&raw);
    raw.vv = malloc(4 * sizeof(dot));
    raw.capvv = 4;
    raw.vv[0] = (dot){A, 3};
    raw.nvv = 1;
    raw.cloud = malloc(8 * sizeof(dot));
    raw.capcloud = 8;
    /* sorted by (node, counter): B < A here */
    dot sorted[] = {{B, 1}, {B, 2}, {B, 4}, {A, 2}, {A, 4}, {A, 5}, {A, 7}};
    memcpy(raw.cloud, sorted, sizeof(sorted));
    raw.ncloud = 7;
    ccCompact(&raw);
    checkCanonical(&raw);
    CHECK(raw.nvv == 2 && raw.vv[0].counter == 2 && raw.vv[1].counter == 5, "compact folds B to 2, A to 5");
    CHECK(raw.ncloud == 2 && dotEq(raw.cloud[0], (dot){B, 4}) && dotEq(raw.cloud[1], (dot){A, 7}), "compact keeps B4, A7");
    ccFree(&raw);
    ccFree(&c);
    ccFree(&piece);
}

/* Encode/decode round trips; every strict prefix is refused; random byte
 * damage never crashes and anything accepted is canonical and re-encodes. */
static void testEncoding(void **state) {
    for (long n = 1; n <= 2000; n++) {
        startCase(n);
        pickNodes();
        ccontext c, d;
        model m;
        ccInit(&c);
        ccInit(&d);
        memset(&m, 0, sizeof(m));
        randomContext(&c, &m, (int)rngBelow(50));
        roundTrip(&c, &d);
        checkAgainstModel(&d, &m);
        CHECK(ccEqual(&c, &d) && ccDigest(&c, 9) == ccDigest(&d, 9), "round trip changed the context");

        cbuf b;
        cbufInit(&b);
        ccEncode(&c, &b);
        for (size_t cut = 0; cut < b.len; cut++) {
            creader r;
            creaderInit(&r, b.p, cut);
            CHECK(ccDecode(&d, &r) < 0, "accepted a prefix of %zu of %zu bytes", cut, b.len);
            CHECK(ccIsEmpty(&d), "failed decode left contents");
        }
        for (int k = 0; k < 20; k++) {
            char *bad = malloc(b.len + 1);
            memcpy(bad, b.p, b.len);
            int flips = 1 + (int)rngBelow(3);
            for (int f = 0; f < flips; f++) bad[rngBelow(b.len)] ^= (char)(1 + rngBelow(255));
            creader r;
            creaderInit(&r, bad, b.len);
            if (ccDecode(&d, &r) == 0) {
                checkCanonical(&d);
                ccontext e;
                ccInit(&e);
                roundTrip(&d, &e);
                CHECK(ccEqual(&d, &e), "damaged-but-accepted context does not round trip");
                ccFree(&e);
            }
            free(bad);
        }
        cbufFree(&b);
        ccFree(&c);
        ccFree(&d);
    }
    /* Pure garbage, including huge counts that must not allocate. */
    for (long n = 0; n < 20000; n++) {
        startCase(100000 + n);
        unsigned char buf[64];
        size_t len = rngBelow(sizeof(buf) + 1);
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)rng();
        if (len > 0 && rngBelow(2)) buf[0] = (unsigned char)rngBelow(4);
        ccontext d;
        ccInit(&d);
        creader r;
        creaderInit(&r, buf, len);
        if (ccDecode(&d, &r) == 0) checkCanonical(&d);
        ccFree(&d);
    }
    unsigned char huge[] = {0xff, 0xff, 0xff, 0xff, 0x0f};
    ccontext d;
    ccInit(&d);
    creader r;
    creaderInit(&r, huge, sizeof(huge));
    CHECK(ccDecode(&d, &r) < 0, "accepted a huge count");
    ccFree(&d);
}

/* A context of node 7 at vvCounter (none if 0) and a cloud run of node 9:
 * its first counter, then n - 1 more, each gap further on. */
static int decodeCounters(uint64_t vvCounter, uint64_t first, uint64_t gap, int n) {
    cbuf b;
    cbufInit(&b);
    cbufPutVarint(&b, vvCounter ? 1 : 0);
    if (vvCounter) {
        cbufPutU64(&b, 7);
        cbufPutVarint(&b, vvCounter);
    }
    cbufPutVarint(&b, n ? 1 : 0);
    if (n) {
        cbufPutU64(&b, 9);
        cbufPutVarint(&b, (uint64_t)n);
        cbufPutVarint(&b, first);
        for (int i = 1; i < n; i++) cbufPutVarint(&b, gap);
    }
    ccontext c;
    ccInit(&c);
    creader r;
    creaderInit(&r, b.p, b.len);
    int rc = ccDecode(&c, &r);
    if (rc == 0) {
        checkCanonical(&c);
        CHECK(creaderDone(&r), "decode left bytes");
        /* The next local dot of either node is still a counter of its own. */
        CHECK(ccNextDot(&c, 7).counter == (vvCounter ? vvCounter + 1 : 1), "next dot of node 7");
        CHECK(ccNextDot(&c, 9).counter > first, "next dot of node 9");
    } else {
        CHECK(ccIsEmpty(&c), "a refused decode left contents");
    }
    ccFree(&c);
    cbufFree(&b);
    return rc;
}

/* No counter from a peer passes CC_COUNTER_MAX, in the vector, as a cloud
 * run's first counter or through its gaps.  A context holding UINT64_MAX for
 * a node was accepted, and the node's next add then aborted in ccNextDot
 * (found by tests/fuzz/fuzz_crdt.c). */
static void testCounterBound(void **state) {
    startCase(0);
    const uint64_t max = CC_COUNTER_MAX;
    CHECK(max == (1ULL << 60) - 1, "the bound is 2^60 - 1");
    CHECK(decodeCounters(max, 0, 0, 0) == 0, "a vector counter at the bound refused");
    CHECK(decodeCounters(max + 1, 0, 0, 0) < 0, "a vector counter past the bound accepted");
    CHECK(decodeCounters(UINT64_MAX, 0, 0, 0) < 0, "a vector counter of UINT64_MAX accepted");
    CHECK(decodeCounters(0, max, 0, 1) == 0, "a cloud counter at the bound refused");
    CHECK(decodeCounters(0, max + 1, 0, 1) < 0, "a cloud counter past the bound accepted");
    CHECK(decodeCounters(3, 5, max - 6, 2) == 0, "a gap up to the bound refused");
    CHECK(decodeCounters(3, 5, max - 5, 2) < 0, "a gap past the bound accepted");
    CHECK(decodeCounters(3, 5, UINT64_MAX - 6, 2) < 0, "a gap past UINT64_MAX accepted");
}

/* The node table: strictly increasing, exactly the nodes the model has seen
 * something from, and ccNodeIndex finds each at its place. */
static void testNodeTable(void **state) {
    for (long n = 1; n <= 2000; n++) {
        startCase(n);
        pickNodes();
        ccontext c;
        model m;
        ccInit(&c);
        memset(&m, 0, sizeof(m));
        randomContext(&c, &m, (int)rngBelow(50));
        uint32_t nn;
        uint64_t *nodes = ccNodes(&c, &nn);
        uint32_t want = 0;
        for (int i = 0; i < NODES; i++) want += modelMax(&m, i) > 0;
        CHECK(nn == want, "%u nodes, want %u", nn, want);
        for (uint32_t i = 1; i < nn; i++) CHECK(nodes[i - 1] < nodes[i], "table not increasing at %u", i);
        for (int i = 0; i < NODES; i++) {
            if (modelMax(&m, i) == 0) continue;
            uint32_t at = ccNodeIndex(nodes, nn, nodeIds[i]);
            CHECK(at < nn && nodes[at] == nodeIds[i], "node %d not found at its index", i);
        }
        free(nodes);
        ccFree(&c);
    }
}

int main(void) {
    const char *env = getenv("CRDT_SEED");
    seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("test_crdt_dots: CRDT_SEED=%" PRIu64 "\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testBasics),
        cmocka_unit_test(testOrderIndependence),
        cmocka_unit_test(testNextDot),
        cmocka_unit_test(testMerge),
        cmocka_unit_test(testCompactOutOfOrderClouds),
        cmocka_unit_test(testEncoding),
        cmocka_unit_test(testCounterBound),
        cmocka_unit_test(testNodeTable),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
