/* test_crdt_ormap.c - the OR-map behind hashes.
 *
 * Examples first: every sentence of crdt_ormap.h's semantics as a scenario
 * between replicas (concurrent HSETs, HINCRBYs, HSET against unseen
 * increments, HDEL and clear against concurrent writes), deltas reused across
 * several operations, iteration, SCAN while the table changes, a large hash
 * fed by deltas, memory.  Then the properties:
 *
 * - histories: random HSET/HDEL/HINCRBY/HINCRBYFLOAT/clear at 3 simulated
 *   replicas with their own skewed HLCs; deltas (sometimes several operations
 *   in one) delivered in random order, duplicated, sometimes through the
 *   codec; whole states sent now and then.  An independent model replays the
 *   history with bit masks over the operations instead of dots: per replica
 *   the writes it holds live and the writes it has seen; per operation the
 *   writes it observed (removed), and per write its register as a plain
 *   struct of per-replica totals.  After every step each touched replica must
 *   show what the model shows; at the end every replica must be equal (by
 *   ormapEqual, the digest and every value) and match the specification
 *   computed from the operations alone:
 *     a write survives iff no operation observed it;
 *     a field is present iff some write of it is outside the transitive
 *       observed past of every HDEL of it and every clear;
 *     its value is the merge of the surviving writes' registers, where a
 *       write's register is the merge of what it observed plus its own effect
 *       (an HSET a new base that observed those totals, an increment its
 *       replica's total advanced to the write's dot counter);
 *     when the survivors are all plain HSETs, the value is the one with the
 *       highest version.
 *   "Observed" is what the acting replica held live for the field: a delta
 *   carries exactly that, not the replica's whole causal past.
 * - algebra: merge commutative, associative, idempotent on states and deltas.
 * - decoding: truncations, mutations and random bytes are refused or decode
 *   to a map that works; nothing crashes (ASan).
 *
 * Seeded: CRDT_SEED=<n> replays a run, CRDT_CASE=<i> only its case i,
 * CRDT_CASES=<n> changes the number of histories.  The seed is printed first
 * and again with any failure. */
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

#include "crdt_ormap.h"
#include "util.h"

#define VALBUF 5200     /* ormapGet's buffer */
#define S(lit) (lit), (sizeof(lit) - 1)

/* ------------------------------------------------------------------------ */
/* Seeds, randomness, failure reports */

#define CHECK_TEST_NAME "test_crdt_ormap"
#define CHECK_DEFAULT_CASES 2500
#include "crdt_check.h"

static rng globalRng = {1};
static uint64_t globalRnd(void) { return rngNext(&globalRng); }   /* for ormapRandom */


/* ------------------------------------------------------------------------ */
/* Reading helpers */

static void expectValue(const ormap *m, const char *f, size_t flen, const char *want) {
    char buf[VALBUF];
    size_t len = 0;
    const char *v = ormapGet(m, f, flen, buf, &len);
    CHECK(v != NULL, "field \"%.*s\": want \"%s\", absent", (int)flen, f, want);
    CHECK(ormapExists(m, f, flen));
    CHECK(len == strlen(want) && memcmp(v, want, len) == 0, "field \"%.*s\": \"%.*s\", want \"%s\"", (int)flen, f,
          (int)len, v, want);
}
#define EXPECT(m, f, want) expectValue((m), S(f), (want))

static void expectAbsent(const ormap *m, const char *f, size_t flen) {
    char buf[VALBUF];
    size_t len = 0;
    CHECK(ormapGet(m, f, flen, buf, &len) == NULL, "field \"%.*s\" should be absent", (int)flen, f);
    CHECK(!ormapExists(m, f, flen));
    reg r;
    regInit(&r);
    CHECK(!ormapFieldReg(m, f, flen, &r));
    regFree(&r);
}
#define ABSENT(m, f) expectAbsent((m), S(f))

/* Merges b into a and a into b (through copies), as two peers would. */
static void sync2(ormap *a, ormap *b) {
    ormap *ca = ormapDup(a);
    ormapMerge(a, b);
    ormapMerge(b, ca);
    ormapFree(ca);
    CHECK(ormapEqual(a, b));
    CHECK(ormapDigest(a) == ormapDigest(b));
}

/* A copy of m through the codec (NULL if it did not decode whole). */
static ormap *roundTrip(const ormap *m) {
    cbuf b;
    cbufInit(&b);
    ormapEncode(m, &b);
    creader r;
    creaderInit(&r, b.p, b.len);
    ormap *d = ormapDecode(&r);
    int whole = d != NULL && creaderDone(&r);
    cbufFree(&b);
    CHECK(whole);
    if (!whole) ormapFree(d);
    return whole ? d : NULL;
}

/* Merges through the codec. */
static void mergeEncoded(ormap *into, const ormap *from) {
    ormap *d = roundTrip(from);
    if (!d) return;
    CHECK(ormapEqual(d, from) && ormapDigest(d) == ormapDigest(from));
    ormapMerge(into, d);
    ormapFree(d);
}

static version V(uint64_t stamp, uint64_t node) { return (version){stamp, node}; }

#define NA 0xa11ce0000000000aULL
#define NB 0xb0b000000000000bULL
#define NC 0xc0c000000000000cULL

/* ------------------------------------------------------------------------ */
/* Examples */

static void test_set_get_del(void **state) {
    curTest = "set_get_del";
    ormap *m = ormapNew();
    CHECK(ormapLen(m) == 0);
    ABSENT(m, "f");
    CHECK(ormapSet(m, NA, V(10, NA), S("f"), S("v1"), NULL) == 1);
    CHECK(ormapSet(m, NA, V(11, NA), S("g"), S(""), NULL) == 1);
    CHECK(ormapSet(m, NA, V(12, NA), S(""), S("empty name"), NULL) == 1);
    CHECK(ormapSet(m, NA, V(13, NA), S("f"), S("v2"), NULL) == 0);
    CHECK(ormapLen(m) == 3);
    EXPECT(m, "f", "v2");
    EXPECT(m, "g", "");
    EXPECT(m, "", "empty name");
    CHECK(ormapDel(m, S("f"), NULL) == 1);
    CHECK(ormapDel(m, S("f"), NULL) == 0);
    CHECK(ormapDel(m, S("nope"), NULL) == 0);
    ABSENT(m, "f");
    CHECK(ormapLen(m) == 2);
    CHECK(ormapSet(m, NA, V(14, NA), S("f"), S("v3"), NULL) == 1);
    EXPECT(m, "f", "v3");
    /* Binary-safe names and values. */
    CHECK(ormapSet(m, NA, V(15, NA), "a\0b", 3, "x\0y", 3, NULL) == 1);
    char buf[VALBUF];
    size_t len;
    const char *v = ormapGet(m, "a\0b", 3, buf, &len);
    CHECK(v && len == 3 && memcmp(v, "x\0y", 3) == 0);
    ABSENT(m, "a");
    ormapClear(m, NULL);
    CHECK(ormapLen(m) == 0);
    ABSENT(m, "g");
    ormapFree(m);
}

/* A plain HSET keeps only base bytes and a version, and reading it returns
 * the stored bytes (no formatting, no copy). */
static void test_plain_value_is_stored_bytes(void **state) {
    curTest = "plain_value_is_stored_bytes";
    ormap *m = ormapNew();
    ormapSet(m, NA, V(10, NA), S("f"), S("hello"), NULL);
    ormapSet(m, NA, V(11, NA), S("f"), S("12"), NULL);
    char buf[VALBUF];
    size_t len;
    const char *v1 = ormapGet(m, S("f"), buf, &len);
    const char *v2 = ormapGet(m, S("f"), buf, &len);
    CHECK(v1 != buf && v1 == v2 && len == 2 && memcmp(v1, "12", 2) == 0);
    reg r;
    regInit(&r);
    CHECK(ormapFieldReg(m, S("f"), &r));
    CHECK(r.ntot == 0 && r.nobs == 0 && r.tot == NULL && r.obs == NULL);
    CHECK(r.present && versionCmp(r.ver, V(11, NA)) == 0);
    regFree(&r);
    /* A value far longer than ormapGet's buffer. */
    size_t big = 100000;
    char *longv = malloc(big);
    memset(longv, 'z', big);
    ormapSet(m, NA, V(12, NA), S("long"), longv, big, NULL);
    const char *lv = ormapGet(m, S("long"), buf, &len);
    CHECK(lv != buf && len == big && memcmp(lv, longv, big) == 0);
    free(longv);
    ormapFree(m);
}

static void test_incr(void **state) {
    curTest = "incr";
    ormap *m = ormapNew();
    ormapIncrBy(m, NA, V(10, NA), S("n"), 5, NULL);
    EXPECT(m, "n", "5");
    CHECK(ormapLen(m) == 1);
    ormapIncrBy(m, NA, V(11, NA), S("n"), -8, NULL);
    EXPECT(m, "n", "-3");
    ormapIncrByFloat(m, NA, V(12, NA), S("n"), 0.5L, NULL);
    EXPECT(m, "n", "-2.5");
    ormapSet(m, NA, V(13, NA), S("n"), S("100"), NULL);
    EXPECT(m, "n", "100");
    ormapIncrBy(m, NA, V(14, NA), S("n"), 1, NULL);
    EXPECT(m, "n", "101");
    reg r;
    regInit(&r);
    long long iv;
    CHECK(ormapFieldReg(m, S("n"), &r) && regIntValue(&r, &iv) && iv == 101);
    regFree(&r);
    ormapIncrByFloat(m, NA, V(15, NA), S("x"), 1.25L, NULL);
    EXPECT(m, "x", "1.25");
    ormapFree(m);
}

/* Concurrent HSETs of different fields both survive; of one field the later
 * version wins, whichever way the merge goes. */
static void test_concurrent_sets(void **state) {
    curTest = "concurrent_sets";
    ormap *a = ormapNew(), *b = ormapNew();
    ormapSet(a, NA, V(10, NA), S("f"), S("from a"), NULL);
    ormapSet(b, NB, V(10, NB), S("g"), S("from b"), NULL);
    ormapSet(a, NA, V(20, NA), S("x"), S("a wrote later"), NULL);
    ormapSet(b, NB, V(15, NB), S("x"), S("b wrote earlier"), NULL);
    sync2(a, b);
    EXPECT(a, "f", "from a");
    EXPECT(a, "g", "from b");
    EXPECT(a, "x", "a wrote later");
    CHECK(ormapLen(a) == 3);
    /* Equal stamps: the node id decides. */
    ormapSet(a, NA, V(30, NA), S("y"), S("a"), NULL);
    ormapSet(b, NB, V(30, NB), S("y"), S("b"), NULL);
    sync2(b, a);
    EXPECT(a, "y", NB > NA ? "b" : "a");
    /* After seeing the conflict, one HSET replaces both entries. */
    ormapSet(b, NB, V(40, NB), S("y"), S("settled"), NULL);
    sync2(a, b);
    EXPECT(a, "y", "settled");
    ormapFree(a);
    ormapFree(b);
}

/* Concurrent HINCRBYs all count; an HSET keeps its value plus the increments
 * it had not seen (and drops those it had). */
static void test_counters(void **state) {
    curTest = "counters";
    ormap *a = ormapNew(), *b = ormapNew(), *c = ormapNew();
    ormapIncrBy(a, NA, V(10, NA), S("n"), 1, NULL);
    ormapIncrBy(b, NB, V(10, NB), S("n"), 10, NULL);
    ormapIncrBy(c, NC, V(10, NC), S("n"), 100, NULL);
    ormapIncrBy(c, NC, V(11, NC), S("n"), 100, NULL);
    sync2(a, b);
    sync2(a, c);
    sync2(b, c);
    EXPECT(a, "n", "211");
    /* a sets 5 having seen 211; concurrently b adds 7 and c adds 0.5. */
    ormapSet(a, NA, V(50, NA), S("n"), S("5"), NULL);
    ormapIncrBy(b, NB, V(20, NB), S("n"), 7, NULL);
    ormapIncrByFloat(c, NC, V(20, NC), S("n"), 0.5L, NULL);
    sync2(a, b);
    sync2(a, c);
    sync2(b, c);
    EXPECT(a, "n", "12.5");
    EXPECT(b, "n", "12.5");
    /* Even an HSET with an older version than a concurrent increment keeps it. */
    ormapSet(b, NB, V(60, NB), S("n"), S("1000"), NULL);
    ormapIncrBy(a, NA, V(70, NA), S("n"), 1, NULL);
    sync2(a, b);
    EXPECT(a, "n", "1001");
    /* A concurrent non-numeric HSET with the higher version hides increments. */
    ormapSet(a, NA, V(80, NA), S("n"), S("text"), NULL);
    ormapIncrBy(b, NB, V(75, NB), S("n"), 1, NULL);
    sync2(a, b);
    EXPECT(a, "n", "text");
    ormapFree(a);
    ormapFree(b);
    ormapFree(c);
}

/* An HDEL concurrent with an HSET or HINCRBY of the same field loses; one
 * that saw them wins; a clear removes only what it saw. */
static void test_add_wins(void **state) {
    curTest = "add_wins";
    ormap *a = ormapNew(), *b = ormapNew();
    ormapSet(a, NA, V(10, NA), S("f"), S("10"), NULL);
    ormapSet(a, NA, V(11, NA), S("g"), S("g0"), NULL);
    ormapSet(a, NA, V(12, NA), S("h"), S("h0"), NULL);
    sync2(a, b);
    CHECK(ormapDel(b, S("f"), NULL) == 1);
    CHECK(ormapDel(b, S("g"), NULL) == 1);
    ormapIncrBy(a, NA, V(20, NA), S("f"), 1, NULL);   /* carries the base it saw */
    ormapSet(a, NA, V(21, NA), S("g"), S("g1"), NULL);
    sync2(a, b);
    EXPECT(b, "f", "11");
    EXPECT(b, "g", "g1");
    EXPECT(b, "h", "h0");
    /* Seen deletes win. */
    CHECK(ormapDel(b, S("f"), NULL) == 1);
    sync2(a, b);
    ABSENT(a, "f");
    /* Clear against concurrent writes: the new field and the rewritten one
     * survive, the untouched one goes. */
    ormapClear(a, NULL);
    ormapSet(b, NB, V(30, NB), S("new"), S("n"), NULL);
    ormapSet(b, NB, V(31, NB), S("g"), S("g2"), NULL);
    sync2(a, b);
    EXPECT(a, "new", "n");
    EXPECT(a, "g", "g2");
    ABSENT(a, "h");
    CHECK(ormapLen(a) == 2);
    ormapFree(a);
    ormapFree(b);
}

/* A node that deleted a field and increments it afresh must not be confused
 * with its own older total still carried by a concurrent entry elsewhere:
 * regIncrBy alone would restart at seq 1 with another sum, and the tie would
 * go to the larger sum (the stale 5 here). */
static void test_counter_after_delete(void **state) {
    curTest = "counter_after_delete";
    ormap *a = ormapNew(), *b = ormapNew();
    ormapIncrBy(a, NA, V(10, NA), S("n"), 5, NULL);
    sync2(a, b);
    ormapIncrBy(b, NB, V(20, NB), S("n"), 1, NULL);    /* carries a's total 5 */
    ormapDel(a, S("n"), NULL);
    ormapIncrBy(a, NA, V(21, NA), S("n"), 1, NULL);    /* a's fresh total 1 */
    EXPECT(a, "n", "1");
    EXPECT(b, "n", "6");
    ormap *ab = ormapDup(a), *ba = ormapDup(b);
    ormapMerge(ab, b);
    ormapMerge(ba, a);
    CHECK(ormapEqual(ab, ba));
    /* a's latest total (1) replaces its old one (5) inside b's entry. */
    EXPECT(ab, "n", "2");
    EXPECT(ba, "n", "2");
    ormapFree(ab);
    ormapFree(ba);
    ormapFree(a);
    ormapFree(b);
}

/* Deltas: what each operation ships, and that merging it has the effect of
 * the operation. */
static void test_deltas(void **state) {
    curTest = "deltas";
    ormap *a = ormapNew(), *b = ormapNew();
    ormap *d1 = ormapNew(), *d2 = ormapNew(), *d3 = ormapNew(), *d4 = ormapNew();
    ormapSet(a, NA, V(10, NA), S("f"), S("v"), d1);
    CHECK(ormapLen(d1) == 1);
    EXPECT(d1, "f", "v");
    ormapSet(a, NA, V(11, NA), S("f"), S("w"), d2);
    CHECK(ormapLen(d2) == 1);
    CHECK(ormapContext(d2)->nvv == 1 && ormapContext(d2)->vv[0].counter == 2);   /* new and observed dot */
    ormapIncrBy(a, NA, V(12, NA), S("n"), 3, d3);
    EXPECT(d3, "n", "3");
    CHECK(ormapDel(a, S("f"), d4) == 1);
    CHECK(ormapLen(d4) == 0);
    CHECK(ccContains(ormapContext(d4), (dot){NA, 2}) && !ccContains(ormapContext(d4), (dot){NA, 1}));
    /* Out of order and duplicated. */
    ormapMerge(b, d4);
    ormapMerge(b, d2);
    ormapMerge(b, d3);
    ormapMerge(b, d1);
    ormapMerge(b, d2);
    mergeEncoded(b, d4);
    CHECK(ormapEqual(a, b) && ormapDigest(a) == ormapDigest(b));
    ABSENT(b, "f");
    EXPECT(b, "n", "3");
    /* A clear's delta. */
    ormap *d5 = ormapNew();
    ormapClear(a, d5);
    mergeEncoded(b, d5);
    CHECK(ormapLen(b) == 0 && ormapEqual(a, b));
    ormapFree(d1);
    ormapFree(d2);
    ormapFree(d3);
    ormapFree(d4);
    ormapFree(d5);
    ormapFree(a);
    ormapFree(b);
}

/* One delta object receiving several operations (MULTI, or HSET with many
 * pairs) is the join of their deltas. */
static void test_delta_reused(void **state) {
    curTest = "delta_reused";
    ormap *a = ormapNew(), *b = ormapNew();
    ormapSet(a, NA, V(1, NA), S("keep"), S("k"), NULL);
    ormapSet(a, NA, V(2, NA), S("f"), S("old"), NULL);
    ormapSet(a, NA, V(3, NA), S("g"), S("old"), NULL);
    sync2(a, b);
    ormap *d = ormapNew();
    ormapSet(a, NA, V(10, NA), S("f"), S("1"), d);
    ormapIncrBy(a, NA, V(11, NA), S("f"), 2, d);
    ormapDel(a, S("g"), d);
    ormapSet(a, NA, V(12, NA), S("h"), S("x"), d);
    ormapDel(a, S("h"), d);
    ormapSet(a, NA, V(13, NA), S("g"), S("back"), d);
    CHECK(ormapLen(d) == 2);
    EXPECT(d, "f", "3");
    EXPECT(d, "g", "back");
    mergeEncoded(b, d);
    CHECK(ormapEqual(a, b));
    EXPECT(b, "keep", "k");
    EXPECT(b, "f", "3");
    ABSENT(b, "h");
    /* A clear in the same batch turns it into a full state. */
    ormapSet(a, NA, V(20, NA), S("z"), S("z"), d);
    ormapClear(a, d);
    ormapSet(a, NA, V(21, NA), S("after"), S("y"), d);
    ormapMerge(b, d);
    CHECK(ormapEqual(a, b));
    CHECK(ormapLen(b) == 1);
    EXPECT(b, "after", "y");
    ormapFree(d);
    ormapFree(a);
    ormapFree(b);
}

/* Past OM_REMOVED_MAX removed names a delta becomes a full state; merging it
 * stays correct either way. */
static void test_delta_many_removes(void **state) {
    curTest = "delta_many_removes";
    ormap *a = ormapNew(), *b = ormapNew();
    char f[32];
    for (int i = 0; i < 200; i++) {
        int n = snprintf(f, sizeof(f), "f%d", i);
        ormapSet(a, NA, V((uint64_t)i + 1, NA), f, (size_t)n, S("v"), NULL);
    }
    sync2(a, b);
    ormapSet(b, NB, V(1000, NB), S("f7"), S("concurrent"), NULL);
    ormap *d = ormapNew();
    for (int i = 0; i < 150; i++) {
        int n = snprintf(f, sizeof(f), "f%d", i);
        ormapDel(a, f, (size_t)n, d);
    }
    ormapMerge(b, d);
    CHECK(ormapLen(b) == 51);
    EXPECT(b, "f7", "concurrent");
    EXPECT(b, "f150", "v");
    ormapFree(d);
    ormapFree(a);
    ormapFree(b);
}

typedef struct seenSet {
    char *seen;     /* per field index, visit count */
    int n;
} seenSet;

static int fieldIndex(const char *f, size_t flen) {
    char tmp[32];
    if (flen == 0 || flen >= sizeof(tmp) || f[0] != 'k') return -1;
    memcpy(tmp, f + 1, flen - 1);
    tmp[flen - 1] = '\0';
    return atoi(tmp);
}

static void scanVisit(const char *f, size_t flen, void *ctx) {
    seenSet *s = ctx;
    int i = fieldIndex(f, flen);
    CHECK(i >= 0 && i < s->n);
    if (s->seen[i] < 100) s->seen[i]++;
}

/* Iteration visits each field once; SCAN visits every field present for the
 * whole scan even while fields come and go (and the table grows, shrinks and
 * rehashes) between calls; random picks are fields. */
static void test_iter_scan_random(void **state) {
    curTest = "iter_scan_random";
    enum { N = 3000 };
    ormap *m = ormapNew();
    char f[32];
    int present[N] = {0}, stable[N] = {0};
    for (int i = 0; i < N; i += 2) {
        int n = snprintf(f, sizeof(f), "k%d", i);
        ormapSet(m, NA, V((uint64_t)i + 1, NA), f, (size_t)n, S("v"), NULL);
        present[i] = stable[i] = 1;
    }
    /* Iteration. */
    char seen[N] = {0};
    ormapIter it;
    ormapIterInit(&it, m);
    const char *fp;
    size_t flen;
    size_t count = 0;
    char buf[VALBUF];
    size_t vlen;
    while (ormapIterNext(&it, &fp, &flen)) {
        int i = fieldIndex(fp, flen);
        CHECK(i >= 0 && i < N && present[i] && !seen[i]);
        seen[i] = 1;
        CHECK(ormapGet(m, fp, flen, buf, &vlen) != NULL);   /* reading must not disturb the walk */
        count++;
    }
    CHECK(count == ormapLen(m));
    /* Random. */
    for (int k = 0; k < 200; k++) {
        CHECK(ormapRandom(m, globalRnd, &fp, &flen));
        int i = fieldIndex(fp, flen);
        CHECK(i >= 0 && i < N && present[i]);
    }
    /* Scan with changes between calls. */
    rng g = caseRng("scan", 0);
    memset(seen, 0, sizeof(seen));
    seenSet ss = {seen, N};
    uint64_t cursor = 0;
    uint64_t stamp = 100000;
    int calls = 0;
    do {
        cursor = ormapScan(m, cursor, scanVisit, &ss);
        for (int k = 0; k < 20; k++) {
            int i = (int)rngBelow(&g, N);
            int n = snprintf(f, sizeof(f), "k%d", i);
            if (present[i]) {
                CHECK(ormapDel(m, f, (size_t)n, NULL) == 1);
                present[i] = 0;
            } else {
                CHECK(ormapSet(m, NB, V(stamp++, NB), f, (size_t)n, S("w"), NULL) == 1);
                present[i] = 1;
            }
            stable[i] = 0;
        }
        calls++;
    } while (cursor != 0 && calls < 100000);
    CHECK(cursor == 0);
    for (int i = 0; i < N; i++) CHECK(!stable[i] || seen[i], "k%d present throughout but not scanned", i);
    ormapFree(m);
}

/* A large hash fed by deltas, as a peer sees it: each delta merge visits only
 * the field it touched (one that walked the whole hash would make this
 * quadratic: 10^10 steps), and memory per field.  Timings are printed, never
 * asserted. */
static void test_large_hash(void **state) {
    curTest = "large_hash";
    enum { N = 100000 };
    ormap *a = ormapNew(), *b = ormapNew();
    char f[32], v[32];
    clock_t t0 = clock();
    uint64_t stamp = 1;
    for (int i = 0; i < N; i++) {
        int fl = snprintf(f, sizeof(f), "field:%06d", i);
        int vl = snprintf(v, sizeof(v), "value-%010d", i);   /* 16 bytes */
        ormap *d = ormapNew();
        CHECK(ormapSet(a, NA, V(stamp++, NA), f, (size_t)fl, v, (size_t)vl, d) == 1);
        ormapMerge(b, d);
        ormapFree(d);
    }
    clock_t t1 = clock();
    size_t mem = ormapMemory(a);
    CHECK(ormapEqual(a, b));
    for (int i = 0; i < N; i++) {
        int fl = snprintf(f, sizeof(f), "field:%06d", i);
        int vl = snprintf(v, sizeof(v), "VALUE-%010d", i);
        ormap *d = ormapNew();
        CHECK(ormapSet(a, NA, V(stamp++, NA), f, (size_t)fl, v, (size_t)vl, d) == 0);
        ormapMerge(b, d);
        ormapFree(d);
    }
    CHECK(ormapMemory(a) == mem, "rewriting values of the same size changed memory: %zu -> %zu", mem, ormapMemory(a));
    for (int i = 0; i < N; i += 10) {
        int fl = snprintf(f, sizeof(f), "field:%06d", i);
        ormap *d = ormapNew();
        CHECK(ormapDel(a, f, (size_t)fl, d) == 1);
        ormapMerge(b, d);
        ormapFree(d);
    }
    clock_t t2 = clock();
    CHECK(ormapEqual(a, b) && ormapDigest(a) == ormapDigest(b));
    CHECK(ormapLen(b) == N - N / 10);
    EXPECT(b, "field:000001", "VALUE-0000000001");
    ABSENT(b, "field:000010");
    printf("  large hash: %d HSET+delta+merge %.0f ms, %d more HSET + %d HDEL %.0f ms; %.1f bytes per field "
           "(11-byte name, 16-byte value)\n",
           N, 1000.0 * (double)(t1 - t0) / CLOCKS_PER_SEC, N, N / 10, 1000.0 * (double)(t2 - t1) / CLOCKS_PER_SEC,
           (double)mem / N);
    CHECK(mem / N < 200, "%zu bytes per field", mem / N);
    /* Accounting returns to nothing once the fields are gone. */
    ormapClear(a, NULL);
    CHECK(ormapMemory(a) < 1024, "%zu bytes after clear", ormapMemory(a));
    for (int i = 0; i < N; i++) {
        int fl = snprintf(f, sizeof(f), "field:%06d", i);
        ormapDel(b, f, (size_t)fl, NULL);
    }
    CHECK(ormapLen(b) == 0 && ormapMemory(b) < 1024, "%zu bytes after deleting every field", ormapMemory(b));
    ormapFree(a);
    ormapFree(b);
}

/* ------------------------------------------------------------------------ */
/* The model */

#define NREP 3
#define NFIELDS 4
#define MAXOPS 64           /* operations per history: bit masks are uint64_t */
#define MAXMSGS 200
#define MAXPENDING 2048
#define BIT(i) ((uint64_t)1 << (i))

static const char *const fieldNames[NFIELDS] = {"a", "bb", "field:c", ""};
static const char *const setValues[] = {"0", "1", "7", "-3", "12", "2.5", "x", "abc"};
static const int64_t intIncrs[] = {1, 2, -1, 5, -7, 100};
static const long double floatIncrs[] = {0.5L, -1.25L, 2.75L, 1.0L};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

typedef enum { OP_SET, OP_DEL, OP_INCR, OP_INCRF, OP_CLEAR } opKind;
static const char *const opNames[] = {"HSET", "HDEL", "HINCRBY", "HINCRBYFLOAT", "CLEAR"};

/* A register as crdt_reg.h describes it, per replica index. */
typedef struct mtot {
    uint64_t seq;
    int64_t isum;
    long double fsum;
} mtot;

typedef struct mreg {
    version ver;            /* {0,0}: no base */
    const char *val;        /* the base's bytes, NULL without a base */
    mtot obs[NREP], tot[NREP];
} mreg;

typedef struct op {
    opKind kind;
    int rep, field;
    const char *val;
    int64_t by;
    long double fby;
    version v;
    uint64_t counter;       /* a write's dot counter at its replica */
    uint64_t observed;      /* the writes it observed: removed, and merged into its reg */
    uint64_t past;          /* observed, transitively */
    mreg r;                 /* a write's register */
} op;

typedef struct msg {
    ormap *m;               /* a delta or a state */
    uint64_t live, seen;    /* the model's view of it */
    uint64_t stamp;         /* the sender's clock when sent */
    int from;
} msg;

typedef struct pendingMsg {
    int msg, to;
} pendingMsg;

typedef struct history {
    rng g;
    uint64_t node[NREP];
    hlc clock[NREP];
    uint64_t skew[NREP], now;
    ormap *rep[NREP];
    uint64_t live[NREP], seen[NREP];   /* the model replicas: writes held live, writes seen */
    uint64_t dots[NREP];               /* writes made at each replica */
    op ops[MAXOPS];
    int nops;
    uint64_t fieldWrites[NFIELDS];
    msg msgs[MAXMSGS];
    int nmsgs;
    pendingMsg pending[MAXPENDING];
    int npending;
} history;

static history *curHist;

static void mregMerge(mreg *a, const mreg *b) {
    for (int i = 0; i < NREP; i++) {
        if (b->tot[i].seq > a->tot[i].seq) {
            a->tot[i] = b->tot[i];
        } else if (b->tot[i].seq == a->tot[i].seq) {
            /* The map's promise: one seq of one node is one total. */
            CHECK(b->tot[i].isum == a->tot[i].isum && b->tot[i].fsum == a->tot[i].fsum,
                  "replica %d has two totals with seq %" PRIu64, i, a->tot[i].seq);
        }
    }
    if (versionCmp(b->ver, a->ver) > 0) {
        a->ver = b->ver;
        a->val = b->val;
        memcpy(a->obs, b->obs, sizeof(a->obs));
    }
}

/* The bytes a register shows: the base plus what it did not observe. */
static void mregFormat(const mreg *r, char *out, size_t cap) {
    int unseen = 0;
    int64_t isum = 0;
    long double fsum = 0;
    for (int i = 0; i < NREP; i++) {
        if (r->tot[i].seq <= r->obs[i].seq) continue;
        unseen = 1;
        isum += r->tot[i].isum - r->obs[i].isum;
        fsum += r->tot[i].fsum - r->obs[i].fsum;
    }
    if (!unseen) {
        snprintf(out, cap, "%s", r->val ? r->val : "");
        return;
    }
    long long ib = 0;
    long double fb = 0;
    int baseInt = 1;
    if (r->val && !string2ll(r->val, strlen(r->val), &ib)) {
        if (!string2ld(r->val, strlen(r->val), &fb)) {
            snprintf(out, cap, "%s", r->val);
            return;
        }
        baseInt = 0;
    }
    if (baseInt && fsum == 0)
        ll2string(out, cap, ib + isum);
    else
        ld2string(out, cap, (baseInt ? (long double)ib : fb) + (long double)isum + fsum);
}

/* The value of field f given the live writes; 0 if absent. */
static int modelValue(const history *h, uint64_t live, int f, char *out, size_t cap) {
    uint64_t ws = live & h->fieldWrites[f];
    if (ws == 0) return 0;
    mreg acc;
    memset(&acc, 0, sizeof(acc));
    for (int i = 0; i < h->nops; i++)
        if (ws & BIT(i)) mregMerge(&acc, &h->ops[i].r);
    mregFormat(&acc, out, cap);
    return 1;
}

/* The join of two (live, seen) pairs: the ORSWOT rule on bit masks. */
static void modelJoin(uint64_t *live, uint64_t *seen, uint64_t olive, uint64_t oseen) {
    *live = (*live & olive) | (*live & ~oseen) | (olive & ~*seen);
    *seen |= oseen;
}

static void dumpHistory(void) {
    const history *h = curHist;
    if (h == NULL) return;
    fprintf(stderr, "  history (%d ops):\n", h->nops);
    for (int i = 0; i < h->nops; i++) {
        const op *o = &h->ops[i];
        fprintf(stderr, "    #%d r%d %s %s", i, o->rep, opNames[o->kind], o->kind == OP_CLEAR ? "" : fieldNames[o->field]);
        if (o->kind == OP_SET) fprintf(stderr, " \"%s\"", o->val);
        if (o->kind == OP_INCR) fprintf(stderr, " %" PRId64, o->by);
        if (o->kind == OP_INCRF) fprintf(stderr, " %Lg", o->fby);
        if (o->kind != OP_DEL && o->kind != OP_CLEAR) fprintf(stderr, " dot %" PRIu64, o->counter);
        fprintf(stderr, " v=%" PRIu64 " observed=%#" PRIx64 "\n", o->v.stamp, o->observed);
    }
    for (int r = 0; r < NREP; r++)
        fprintf(stderr, "    r%d live=%#" PRIx64 " seen=%#" PRIx64 "\n", r, h->live[r], h->seen[r]);
}

static uint64_t wallOf(const history *h, int r) { return h->now + h->skew[r]; }

/* The implementation's replica r shows what the model's shows. */
/* The digest computed from scratch: a decoded copy has no cached field sum. */
static uint64_t freshDigest(const ormap *m) {
    ormap *d = roundTrip(m);
    uint64_t h = d ? ormapDigest(d) : 0;
    ormapFree(d);
    return h;
}

static void checkReplica(history *h, int r) {
    /* the field sum a replica keeps through its writes and merges matches a
     * recomputation (every 4th check: the codec round trip costs) */
    if (rngChance(&h->g, 25))
        CHECK(ormapDigest(h->rep[r]) == freshDigest(h->rep[r]), "replica %d: cached digest is stale", r);
    size_t n = 0;
    char want[VALBUF];
    for (int f = 0; f < NFIELDS; f++) {
        const char *name = fieldNames[f];
        if (modelValue(h, h->live[r], f, want, sizeof(want))) {
            expectValue(h->rep[r], name, strlen(name), want);
            n++;
        } else {
            expectAbsent(h->rep[r], name, strlen(name));
        }
    }
    CHECK(ormapLen(h->rep[r]) == n, "replica %d has %zu fields, model %zu", r, ormapLen(h->rep[r]), n);
}

static void historyInit(history *h, rng g) {
    memset(h, 0, sizeof(*h));
    h->g = g;
    h->now = 1000000;
    for (int r = 0; r < NREP; r++) {
        do {
            h->node[r] = rngNext(&h->g);
        } while (h->node[r] == 0 || (r > 0 && h->node[r] == h->node[0]) || (r > 1 && h->node[r] == h->node[1]));
        hlcInit(&h->clock[r], (uint64_t)1 << 40);
        h->skew[r] = rngBelow(&h->g, 50);
        h->rep[r] = ormapNew();
    }
    curHist = h;
    dumpOnFailure = dumpHistory;
}

static void historyFree(history *h) {
    for (int r = 0; r < NREP; r++) ormapFree(h->rep[r]);
    for (int i = 0; i < h->nmsgs; i++) ormapFree(h->msgs[i].m);
    curHist = NULL;
    dumpOnFailure = NULL;
}

/* HINCRBY's and HINCRBYFLOAT's preconditions, on the model's value; the
 * implementation must agree (as the server checks it: ormapFieldReg). */
static int canIncr(history *h, int r, int f, int isFloat, int has, const char *cur) {
    long long iv;
    long double fv;
    int ok = !has || (isFloat ? string2ld(cur, strlen(cur), &fv) : string2ll(cur, strlen(cur), &iv));
    reg x;
    regInit(&x);
    int implHas = ormapFieldReg(h->rep[r], fieldNames[f], strlen(fieldNames[f]), &x);
    int implOk = !implHas || (isFloat ? regFloatValue(&x, &fv) : regIntValue(&x, &iv));
    regFree(&x);
    CHECK(implHas == has && implOk == ok, "replica %d field %s: numeric checks disagree", r, fieldNames[f]);
    return ok;
}

/* One random operation at replica r into delta (which may hold earlier
 * operations of the same batch); its model delta goes to *dl, *ds. */
static void localOp(history *h, int r, ormap *delta, uint64_t *dl, uint64_t *ds) {
    int idx = h->nops;
    op *o = &h->ops[idx];
    memset(o, 0, sizeof(*o));
    o->rep = r;
    o->field = (int)rngBelow(&h->g, NFIELDS);
    const char *name = fieldNames[o->field];
    size_t nlen = strlen(name);
    char cur[VALBUF];
    int has = modelValue(h, h->live[r], o->field, cur, sizeof(cur));
    unsigned p = (unsigned)rngBelow(&h->g, 100);
    o->kind = p < 40 ? OP_SET : p < 58 ? OP_DEL : p < 84 ? OP_INCR : p < 95 ? OP_INCRF : OP_CLEAR;
    if ((o->kind == OP_INCR || o->kind == OP_INCRF) && !canIncr(h, r, o->field, o->kind == OP_INCRF, has, cur))
        o->kind = OP_SET;
    o->v = (version){hlcNow(&h->clock[r], wallOf(h, r)), h->node[r]};
    uint64_t fw = h->fieldWrites[o->field];
    switch (o->kind) {
    case OP_SET:
    case OP_INCR:
    case OP_INCRF:
        o->observed = h->live[r] & fw;
        o->counter = ++h->dots[r];
        for (int i = 0; i < idx; i++)
            if (o->observed & BIT(i)) mregMerge(&o->r, &h->ops[i].r);
        if (o->kind == OP_SET) {
            o->val = setValues[rngBelow(&h->g, COUNT(setValues))];
            o->r.ver = o->v;
            o->r.val = o->val;
            memcpy(o->r.obs, o->r.tot, sizeof(o->r.obs));
            CHECK(ormapSet(h->rep[r], h->node[r], o->v, name, nlen, o->val, strlen(o->val), delta) == !has);
        } else if (o->kind == OP_INCR) {
            o->by = intIncrs[rngBelow(&h->g, COUNT(intIncrs))];
            o->r.tot[r].seq = o->counter;
            o->r.tot[r].isum += o->by;
            ormapIncrBy(h->rep[r], h->node[r], o->v, name, nlen, o->by, delta);
        } else {
            o->fby = floatIncrs[rngBelow(&h->g, COUNT(floatIncrs))];
            o->r.tot[r].seq = o->counter;
            o->r.tot[r].fsum += o->fby;
            ormapIncrByFloat(h->rep[r], h->node[r], o->v, name, nlen, o->fby, delta);
        }
        h->live[r] = (h->live[r] & ~o->observed) | BIT(idx);
        h->seen[r] |= BIT(idx);
        h->fieldWrites[o->field] |= BIT(idx);
        *dl = BIT(idx);
        *ds = BIT(idx) | o->observed;
        break;
    case OP_DEL:
        o->observed = h->live[r] & fw;
        CHECK(ormapDel(h->rep[r], name, nlen, delta) == (o->observed != 0));
        h->live[r] &= ~o->observed;
        *dl = 0;
        *ds = o->observed;
        break;
    case OP_CLEAR:
        o->observed = h->seen[r];
        ormapClear(h->rep[r], delta);
        h->live[r] = 0;
        *dl = 0;
        *ds = h->seen[r];
        break;
    }
    o->past = o->observed;
    for (int i = 0; i < idx; i++)
        if (o->observed & BIT(i)) o->past |= h->ops[i].past;
    h->nops++;
}

static void queue(history *h, int m, int to) {
    CHECK(h->npending < MAXPENDING);
    h->pending[h->npending++] = (pendingMsg){m, to};
}

/* Sends m (owned by the history from now on) to replica to, or to every
 * other replica when to < 0. */
static void sendMsg(history *h, ormap *m, uint64_t live, uint64_t seen, int from, int to) {
    CHECK(h->nmsgs < MAXMSGS);
    int k = h->nmsgs++;
    h->msgs[k] = (msg){m, live, seen, h->clock[from].last, from};
    for (int r = 0; r < NREP; r++)
        if (r != from && (to < 0 || r == to)) queue(h, k, r);
}

/* A local batch of one to three operations at replica r, one delta. */
static void localBatch(history *h, int r, int maxOps) {
    ormap *d = ormapNew();
    uint64_t live = 0, seen = 0;
    int n = rngChance(&h->g, 15) ? 2 + (int)rngBelow(&h->g, 2) : 1;
    for (int k = 0; k < n && h->nops < maxOps; k++) {
        uint64_t l, s;
        localOp(h, r, d, &l, &s);
        modelJoin(&live, &seen, l, s);
    }
    checkReplica(h, r);
    sendMsg(h, d, live, seen, r, -1);
}

static void deliver(history *h, int k, int to) {
    const msg *ms = &h->msgs[k];
    CHECK(hlcObserve(&h->clock[to], ms->stamp, wallOf(h, to)) == 0);
    if (rngChance(&h->g, 35))
        mergeEncoded(h->rep[to], ms->m);
    else
        ormapMerge(h->rep[to], ms->m);
    modelJoin(&h->live[to], &h->seen[to], ms->live, ms->seen);
    checkReplica(h, to);
}

/* Runs a random history up to nops operations, leaving messages pending. */
static void historyRun(history *h, int nops) {
    while (h->nops < nops) {
        h->now += rngBelow(&h->g, 3);
        unsigned p = (unsigned)rngBelow(&h->g, 100);
        if (p < 45 || h->nmsgs >= MAXMSGS - 1) {
            localBatch(h, (int)rngBelow(&h->g, NREP), nops);
        } else if (p < 92 && h->npending > 0) {
            int i = (int)rngBelow(&h->g, (uint64_t)h->npending);
            pendingMsg pm = h->pending[i];
            if (!rngChance(&h->g, 20)) h->pending[i] = h->pending[--h->npending];   /* else: again later */
            deliver(h, pm.msg, pm.to);
        } else {
            int from = (int)rngBelow(&h->g, NREP), to = (from + 1 + (int)rngBelow(&h->g, NREP - 1)) % NREP;
            sendMsg(h, ormapDup(h->rep[from]), h->live[from], h->seen[from], from, to);
        }
    }
}

/* Everything pending, then every message to every replica again, in random order. */
static void historyFinish(history *h) {
    while (h->npending > 0) {
        int i = (int)rngBelow(&h->g, (uint64_t)h->npending);
        pendingMsg pm = h->pending[i];
        h->pending[i] = h->pending[--h->npending];
        deliver(h, pm.msg, pm.to);
    }
    for (int k = 0; k < h->nmsgs; k++)
        for (int r = 0; r < NREP; r++)
            if (r != h->msgs[k].from) queue(h, k, r);
    for (int i = h->npending - 1; i > 0; i--) {
        int j = (int)rngBelow(&h->g, (uint64_t)i + 1);
        pendingMsg t = h->pending[i];
        h->pending[i] = h->pending[j];
        h->pending[j] = t;
    }
    for (int i = 0; i < h->npending; i++) deliver(h, h->pending[i].msg, h->pending[i].to);
    h->npending = 0;
}

/* The specification, from the operations alone, against every replica. */
static void checkConverged(history *h) {
    uint64_t killed = 0, writes = 0;
    for (int i = 0; i < h->nops; i++) killed |= h->ops[i].observed;
    for (int f = 0; f < NFIELDS; f++) writes |= h->fieldWrites[f];
    uint64_t alive = writes & ~killed;
    for (int r = 0; r < NREP; r++)
        CHECK(h->live[r] == alive, "model replica %d holds %#" PRIx64 ", the unobserved writes are %#" PRIx64, r,
              h->live[r], alive);
    for (int r = 1; r < NREP; r++) {
        CHECK(ormapEqual(h->rep[0], h->rep[r]), "replicas 0 and %d differ", r);
        CHECK(ormapDigest(h->rep[0]) == ormapDigest(h->rep[r]));
    }
    char want[VALBUF];
    for (int f = 0; f < NFIELDS; f++) {
        /* Presence: some write outside the observed past of every HDEL of f and every clear. */
        int present = 0;
        for (int w = 0; w < h->nops; w++) {
            if (!(h->fieldWrites[f] & BIT(w))) continue;
            int deleted = 0;
            for (int d = 0; d < h->nops; d++) {
                const op *o = &h->ops[d];
                if ((o->kind == OP_CLEAR || (o->kind == OP_DEL && o->field == f)) && (o->past & BIT(w))) deleted = 1;
            }
            if (!deleted) present = 1;
        }
        uint64_t survivors = alive & h->fieldWrites[f];
        CHECK(present == (survivors != 0), "field %s: presence by deletes' pasts %d, surviving writes %#" PRIx64,
              fieldNames[f], present, survivors);
        if (!survivors) {
            for (int r = 0; r < NREP; r++) expectAbsent(h->rep[r], fieldNames[f], strlen(fieldNames[f]));
            continue;
        }
        modelValue(h, alive, f, want, sizeof(want));
        for (int r = 0; r < NREP; r++) expectValue(h->rep[r], fieldNames[f], strlen(fieldNames[f]), want);
        /* Only plain HSETs survive: the highest version's value. */
        int plain = 1;
        const op *best = NULL;
        for (int w = 0; w < h->nops; w++) {
            if (!(survivors & BIT(w))) continue;
            const op *o = &h->ops[w];
            if (o->kind != OP_SET) plain = 0;
            for (int i = 0; i < NREP; i++)
                if (o->r.tot[i].seq) plain = 0;
            if (best == NULL || versionCmp(o->v, best->v) > 0) best = o;
        }
        if (plain) CHECK(strcmp(want, best->val) == 0, "field %s: \"%s\", latest HSET \"%s\"", fieldNames[f], want, best->val);
    }
    /* The converged state survives the codec. */
    cbuf b;
    cbufInit(&b);
    ormapEncode(h->rep[0], &b);
    creader rd;
    creaderInit(&rd, b.p, b.len);
    ormap *d = ormapDecode(&rd);
    CHECK(d != NULL && creaderDone(&rd) && ormapEqual(d, h->rep[0]) && ormapDigest(d) == ormapDigest(h->rep[0]));
    ormapFree(d);
    cbufFree(&b);
}

static void test_histories(void **state) {
    curTest = "histories";
    clock_t t0 = clock();
    long ops = 0, msgs = 0;
    for (int i = 0; i < numHistories; i++) {
        if (!runCase(i)) continue;
        curCase = i;
        history *h = malloc(sizeof(*h));
        historyInit(h, caseRng(curTest, i));
        historyRun(h, 4 + (int)rngBelow(&h->g, MAXOPS - 4 + 1));
        historyFinish(h);
        checkConverged(h);
        ops += h->nops;
        msgs += h->nmsgs;
        historyFree(h);
        free(h);
    }
    curCase = -1;
    printf("  histories: %d, %ld operations, %ld messages, %.0f ms\n", numHistories, ops, msgs,
           1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC);
}

/* ------------------------------------------------------------------------ */
/* Algebra */

static ormap *joined(const ormap *a, const ormap *b) {
    ormap *c = ormapDup(a);
    ormapMerge(c, b);
    return c;
}

static void expectSame(const ormap *a, const ormap *b, const char *law) {
    CHECK(ormapEqual(a, b), "%s", law);
    CHECK(ormapDigest(a) == ormapDigest(b), "%s (digest)", law);
    CHECK(ormapLen(a) == ormapLen(b), "%s (len)", law);
}

/* States and deltas of a history cut short: replicas, messages in flight. */
static int collectElements(history *h, const ormap **el, int max) {
    int n = 0;
    for (int r = 0; r < NREP && n < max; r++) el[n++] = h->rep[r];
    for (int k = 0; k < h->nmsgs && n < max; k++)
        if (rngChance(&h->g, 40)) el[n++] = h->msgs[k].m;
    return n;
}

static void test_merge_algebra(void **state) {
    curTest = "merge_algebra";
    int cases = numHistories / 4;
    for (int i = 0; i < cases; i++) {
        if (!runCase(i)) continue;
        curCase = i;
        history *h = malloc(sizeof(*h));
        historyInit(h, caseRng(curTest, i));
        historyRun(h, 4 + (int)rngBelow(&h->g, MAXOPS - 4 + 1));
        const ormap *el[16];
        int n = collectElements(h, el, 16);
        for (int t = 0; t < 6; t++) {
            const ormap *a = el[rngBelow(&h->g, (uint64_t)n)], *b = el[rngBelow(&h->g, (uint64_t)n)],
                        *c = el[rngBelow(&h->g, (uint64_t)n)];
            ormap *ab = joined(a, b), *ba = joined(b, a);
            expectSame(ab, ba, "a+b == b+a");
            ormap *bc = joined(b, c), *ab_c = joined(ab, c), *a_bc = joined(a, bc);
            expectSame(ab_c, a_bc, "(a+b)+c == a+(b+c)");
            ormap *aa = joined(a, a), *abb = joined(ab, b);
            expectSame(aa, a, "a+a == a");
            expectSame(abb, ab, "(a+b)+b == a+b");
            /* Equal maps read alike. */
            char want[VALBUF], got[VALBUF];
            for (int f = 0; f < NFIELDS; f++) {
                size_t wl = 0, gl = 0;
                const char *w = ormapGet(ab, fieldNames[f], strlen(fieldNames[f]), want, &wl);
                const char *g = ormapGet(ba, fieldNames[f], strlen(fieldNames[f]), got, &gl);
                CHECK((w == NULL) == (g == NULL) && (w == NULL || (wl == gl && memcmp(w, g, wl) == 0)));
            }
            ormapFree(ab);
            ormapFree(ba);
            ormapFree(bc);
            ormapFree(ab_c);
            ormapFree(a_bc);
            ormapFree(aa);
            ormapFree(abb);
        }
        historyFree(h);
        free(h);
    }
    curCase = -1;
}

/* ------------------------------------------------------------------------ */
/* Decoding hostile input */

/* Whatever decoded must work: read, iterate, re-encode, merge both ways,
 * take local operations. */
static void exercise(ormap *m, const ormap *valid) {
    char buf[VALBUF];
    size_t len;
    size_t n = 0;
    ormapIter it;
    ormapIterInit(&it, m);
    const char *f;
    size_t flen;
    while (ormapIterNext(&it, &f, &flen)) {
        CHECK(ormapGet(m, f, flen, buf, &len) != NULL);
        reg r;
        regInit(&r);
        CHECK(ormapFieldReg(m, f, flen, &r));
        regFree(&r);
        n++;
    }
    CHECK(n == ormapLen(m));
    (void)ormapDigest(m);
    (void)ormapMemory(m);
    cbuf b;
    cbufInit(&b);
    ormapEncode(m, &b);
    creader rd;
    creaderInit(&rd, b.p, b.len);
    ormap *again = ormapDecode(&rd);
    CHECK(again != NULL && creaderDone(&rd) && ormapEqual(again, m), "a decoded map must re-encode");
    ormapFree(again);
    cbufFree(&b);
    ormap *x = joined(valid, m), *y = joined(m, valid);
    ormapFree(x);
    ormapFree(y);
    ormap *c = ormapDup(m), *d = ormapNew();
    uint64_t node = 0x5eed5eed5eed5eedULL;
    ormapSet(c, node, V(UINT64_MAX / 2, node), S("a"), S("1"), d);
    ormapIterInit(&it, c);
    if (ormapIterNext(&it, &f, &flen)) {
        reg r;
        regInit(&r);
        long long iv;
        if (ormapFieldReg(c, f, flen, &r) && regIntValue(&r, &iv) && iv > -1000000 && iv < 1000000)
            ormapIncrBy(c, node, V(UINT64_MAX / 2 + 1, node), f, flen, 1, d);
        regFree(&r);
    }
    ormapDel(c, S("bb"), d);
    ormapClear(c, d);
    ormapFree(c);
    ormapFree(d);
}

static ormap *decodeBytes(const void *p, size_t len, creader *rd) {
    creaderInit(rd, p, len);
    return ormapDecode(rd);
}

static void test_decode_hostile(void **state) {
    curTest = "decode_hostile";
    int cases = numHistories / 12;
    for (int i = 0; i < cases; i++) {
        if (!runCase(i)) continue;
        curCase = i;
        history *h = malloc(sizeof(*h));
        historyInit(h, caseRng(curTest, i));
        historyRun(h, 4 + (int)rngBelow(&h->g, 30));
        const ormap *el[8];
        int n = collectElements(h, el, 8);
        for (int e = 0; e < n; e++) {
            cbuf b;
            cbufInit(&b);
            ormapEncode(el[e], &b);
            creader rd;
            ormap *m = decodeBytes(b.p, b.len, &rd);
            CHECK(m != NULL && creaderDone(&rd) && ormapEqual(m, el[e]));
            ormapFree(m);
            for (size_t cut = 0; cut < b.len; cut++) {
                m = decodeBytes(b.p, cut, &rd);
                CHECK(m == NULL && rd.err, "a %zu-byte prefix of %zu decoded", cut, b.len);
            }
            unsigned char *mut = malloc(b.len + 1);
            for (int t = 0; t < 40; t++) {
                memcpy(mut, b.p, b.len);
                size_t mlen = b.len;
                int flips = 1 + (int)rngBelow(&h->g, 3);
                for (int k = 0; k < flips; k++) {
                    size_t at = rngBelow(&h->g, mlen);
                    if (rngChance(&h->g, 50))
                        mut[at] ^= (unsigned char)(1u << rngBelow(&h->g, 8));
                    else
                        mut[at] = (unsigned char)rngNext(&h->g);
                }
                if (rngChance(&h->g, 10) && mlen > 1) mlen--;
                m = decodeBytes(mut, mlen, &rd);
                if (m) {
                    exercise(m, h->rep[0]);
                    ormapFree(m);
                }
            }
            free(mut);
            cbufFree(&b);
        }
        historyFree(h);
        free(h);
    }
    curCase = -1;
    /* Random bytes behind a valid version byte, and a wrong version. */
    rng g = caseRng("garbage", 0);
    unsigned char junk[96];
    ormap *valid = ormapNew();
    for (int t = 0; t < 20000; t++) {
        size_t len = rngBelow(&g, sizeof(junk));
        for (size_t k = 0; k < len; k++) junk[k] = (unsigned char)(rngChance(&g, 50) ? rngBelow(&g, 4) : rngNext(&g));
        if (len > 0) junk[0] = 1;
        if (len > 1 && rngChance(&g, 70)) junk[1] = (unsigned char)rngBelow(&g, 2);
        creader rd;
        ormap *m = decodeBytes(junk, len, &rd);
        if (m) {
            exercise(m, valid);
            ormapFree(m);
        }
    }
    ormapFree(valid);
    static const unsigned char wrongVersion[] = {2, 0, 0, 0, 0};
    creader rd;
    CHECK(decodeBytes(wrongVersion, sizeof(wrongVersion), &rd) == NULL && rd.err);
    /* A field listed twice, or both listed and removed, is refused: in a map
     * decoded into the packed form and in one past it.  (The delta holds
     * dup000, dup001, ... and removed dup999; names are renamed in place.) */
    for (int size = 3; size <= 300; size += 297) {
        ormap *base = ormapNew(), *delta = ormapNew();
        char name[16];
        ormapSet(base, NA, V(1, NA), S("dup999"), S("v"), NULL);
        for (int i = 0; i < size; i++) {
            size_t len = (size_t)snprintf(name, sizeof(name), "dup%03d", i);
            ormapSet(base, NA, V(2 + (uint64_t)i, NA), name, len, S("v"), delta);
        }
        ormapDel(base, S("dup999"), delta);
        cbuf b;
        cbufInit(&b);
        ormapEncode(delta, &b);
        ormap *ok = decodeBytes(b.p, b.len, &rd);
        CHECK(ok && ormapEqual(ok, delta), "a %d-field delta round trips", size);
        ormapFree(ok);
        static const char *const renames[][2] = {{"dup001", "dup000"}, {"dup999", "dup002"}};
        for (int k = 0; k < 2; k++) {
            unsigned char *mut = malloc(b.len);
            memcpy(mut, b.p, b.len);
            unsigned char *at = memmem(mut, b.len, renames[k][0], 6);
            CHECK(at != NULL, "the encoding holds %s", renames[k][0]);
            if (at) memcpy(at, renames[k][1], 6);
            CHECK(decodeBytes(mut, b.len, &rd) == NULL && rd.err, "a %d-field delta naming %s twice decoded", size,
                  renames[k][1]);
            free(mut);
        }
        cbufFree(&b);
        ormapFree(base);
        ormapFree(delta);
    }
}


/* ------------------------------------------------------------------------ */
/* The packed form of small maps against the dict form */

#define PK_REPLICAS 3
#define PK_FIELDS 140    /* past the packed form's 128 fields */

/* A map forced into the dict form for good: a long value written and
 * deleted under a node of its own (its dot stays in the context). */
static ormap *dictFormNew(void) {
    ormap *m = ormapNew();
    char longv[100];
    memset(longv, 'L', sizeof(longv));
    ormapSet(m, NC, V(1, NC), S("force"), longv, sizeof(longv), NULL);
    ormapDel(m, S("force"), NULL);
    return m;
}

/* Same fields, same values. */
static void expectSameValues(const ormap *a, const ormap *b) {
    CHECK(ormapLen(a) == ormapLen(b), "len %zu vs %zu", ormapLen(a), ormapLen(b));
    ormapIter it;
    const char *f;
    size_t flen;
    ormapIterInit(&it, a);
    size_t n = 0;
    while (ormapIterNext(&it, &f, &flen)) {
        char ba[VALBUF], bb[VALBUF];
        size_t la, lb;
        const char *va = ormapGet(a, f, flen, ba, &la), *vb = ormapGet(b, f, flen, bb, &lb);
        CHECK(va && vb && la == lb && memcmp(va, vb, la) == 0, "field \"%.*s\"", (int)flen, f);
        n++;
    }
    CHECK(n == ormapLen(a));
}

/* Random HSET/HDEL (sometimes a long value, a long name, an increment, a
 * clear) on replicas that start packed and on twins forced into the dict
 * form, exchanging deltas and full states in the same order: every read
 * agrees, and each world converges. */
static void test_packed_vs_dict(void **state) {
    curTest = "packed_vs_dict";
    static const uint64_t nodes[PK_REPLICAS] = {NA, NB, 0xd0d000000000000dULL};
    for (int c = 0; c < 300; c++) {
        if (!runCase(c)) continue;
        rng g = caseRng(curTest, c);
        ormap *pk[PK_REPLICAS], *dc[PK_REPLICAS];
        for (int r = 0; r < PK_REPLICAS; r++) {
            pk[r] = ormapNew();
            dc[r] = dictFormNew();
            ormapDigest(pk[r]);          /* from now on kept by every write and merge */
            ormapDigest(dc[r]);
        }
        int nfields = rngChance(&g, 50) ? 8 : PK_FIELDS;
        unsigned rare = rngChance(&g, 50) ? 0 : 2;   /* percent of each rare operation */
        uint64_t stamp = 100;
        for (int step = 0; step < 400; step++) {
            int r = (int)rngBelow(&g, PK_REPLICAS);
            ormap *dp = ormapNew(), *dd = ormapNew();
            /* now and then a batch longer than the merge's lookahead */
            int ops = rngChance(&g, 10) ? 1 + (int)rngBelow(&g, 40) : 1 + (int)rngBelow(&g, 3);
            for (int o = 0; o < ops; o++) {
                char name[80], val[80];
                int fi = (int)rngBelow(&g, (uint64_t)nfields);
                size_t nlen = (size_t)snprintf(name, sizeof(name), "f%d", fi);
                if (rngChance(&g, rare)) {
                    memset(name + nlen, 'n', 70);
                    nlen += 70;
                }
                size_t vlen = (size_t)snprintf(val, sizeof(val), "%" PRIu64, rngBelow(&g, 1000));
                if (rngChance(&g, rare)) {
                    memset(val + vlen, 'v', 70);
                    vlen += 70;
                }
                version v = V(++stamp, nodes[r]);
                unsigned p = (unsigned)rngBelow(&g, 100);
                if (p < rare) {
                    reg cur;
                    regInit(&cur);
                    long long iv;
                    int ok = !ormapFieldReg(pk[r], name, nlen, &cur) || regIntValue(&cur, &iv);
                    regFree(&cur);
                    if (ok) {
                        ormapIncrBy(pk[r], nodes[r], v, name, nlen, 3, dp);
                        ormapIncrBy(dc[r], nodes[r], v, name, nlen, 3, dd);
                    }
                } else if (p < 2 * rare) {
                    ormapClear(pk[r], dp);
                    ormapClear(dc[r], dd);
                } else if (p < 70) {
                    int a = ormapSet(pk[r], nodes[r], v, name, nlen, val, vlen, dp);
                    CHECK(a == ormapSet(dc[r], nodes[r], v, name, nlen, val, vlen, dd));
                } else {
                    int a = ormapDel(pk[r], name, nlen, dp);
                    CHECK(a == ormapDel(dc[r], name, nlen, dd));
                }
            }
            expectSameValues(pk[r], dc[r]);
            expectSameValues(dp, dd);
            /* Deliver the delta (or now and then a full state) to another replica. */
            int to = (int)rngBelow(&g, PK_REPLICAS);
            if (rngChance(&g, 10)) {
                if (rngChance(&g, 50)) {
                    ormapMerge(pk[to], pk[r]);
                    ormapMerge(dc[to], dc[r]);
                } else {
                    mergeEncoded(pk[to], pk[r]);
                    mergeEncoded(dc[to], dc[r]);
                }
            } else if (rngChance(&g, 50)) {
                ormapMerge(pk[to], dp);
                ormapMerge(dc[to], dd);
            } else {
                mergeEncoded(pk[to], dp);
                mergeEncoded(dc[to], dd);
            }
            expectSameValues(pk[to], dc[to]);
            if (rngChance(&g, 20)) {
                CHECK(ormapDigest(pk[to]) == freshDigest(pk[to]), "packed replica %d: cached digest is stale", to);
                CHECK(ormapDigest(dc[to]) == freshDigest(dc[to]), "dict replica %d: cached digest is stale", to);
            }
            ormapFree(dp);
            ormapFree(dd);
        }
        /* Converge each world, and a packed world into the dict one. */
        for (int r = 1; r < PK_REPLICAS; r++) {
            sync2(pk[0], pk[r]);
            sync2(dc[0], dc[r]);
        }
        for (int r = 0; r < PK_REPLICAS; r++) {
            expectSameValues(pk[r], dc[r]);
            ormap *x = ormapDup(dc[r]);
            ormapMerge(x, pk[r]);
            expectSameValues(x, dc[r]);
            ormapFree(x);
            ormap *y = ormapDup(pk[r]);
            CHECK(ormapEqual(y, pk[r]) && ormapDigest(y) == ormapDigest(pk[r]));
            ormapMerge(y, dc[r]);
            expectSameValues(y, dc[r]);
            ormapFree(y);
        }
        for (int r = 0; r < PK_REPLICAS; r++) {
            ormapFree(pk[r]);
            ormapFree(dc[r]);
        }
    }
}

/* A small hash of plain fields costs a few bytes over its names and values;
 * reads point into it; scan returns everything at once; a field that does
 * not fit moves the map to the dict form with every value intact. */
static void scanVisitCount(const char *f, size_t flen, void *ctx) { (*(int *)ctx)++; }

static void test_packed_small_hash(void **state) {
    curTest = "packed_small_hash";
    ormap *m = ormapNew();
    char name[16], val[16];
    for (int i = 0; i < 100; i++) {
        size_t nlen = (size_t)snprintf(name, sizeof(name), "field:%03d", i);
        size_t vlen = (size_t)snprintf(val, sizeof(val), "value:%04d", i);
        CHECK(ormapSet(m, NA, V(10 + (uint64_t)i, NA), name, nlen, val, vlen, NULL) == 1);
    }
    size_t perField = ormapMemory(m) / 100;
    printf("  packed: %zu bytes per field (9-byte name, 10-byte value)\n", perField);
    CHECK(perField < 50, "%zu bytes per field", perField);
    int visited = 0;
    CHECK(ormapScan(m, 0, scanVisitCount, &visited) == 0 && visited == 100);
    const char *f;
    size_t flen;
    CHECK(ormapRandom(m, globalRnd, &f, &flen) && ormapExists(m, f, flen));
    EXPECT(m, "field:042", "value:0042");
    /* One long value: the dict form, every field kept. */
    char longv[200];
    memset(longv, 'x', sizeof(longv));
    CHECK(ormapSet(m, NA, V(500, NA), S("field:007"), longv, sizeof(longv), NULL) == 0);
    CHECK(ormapMemory(m) / 100 > perField);
    for (int i = 0; i < 100; i++) {
        size_t nlen = (size_t)snprintf(name, sizeof(name), "field:%03d", i);
        snprintf(val, sizeof(val), "value:%04d", i);
        if (i != 7) expectValue(m, name, nlen, val);
    }
    /* Decoding a small map of plain fields packs it again. */
    CHECK(ormapSet(m, NA, V(501, NA), S("field:007"), S("short"), NULL) == 0);
    ormap *back = ormapNew();
    mergeEncoded(back, m);
    CHECK(ormapEqual(back, m) && ormapDigest(back) == ormapDigest(m));
    CHECK(ormapMemory(back) < ormapMemory(m));
    EXPECT(back, "field:007", "short");
    ormapFree(back);
    ormapFree(m);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_set_get_del),
        cmocka_unit_test(test_plain_value_is_stored_bytes),
        cmocka_unit_test(test_incr),
        cmocka_unit_test(test_concurrent_sets),
        cmocka_unit_test(test_counters),
        cmocka_unit_test(test_add_wins),
        cmocka_unit_test(test_counter_after_delete),
        cmocka_unit_test(test_deltas),
        cmocka_unit_test(test_delta_reused),
        cmocka_unit_test(test_delta_many_removes),
        cmocka_unit_test(test_iter_scan_random),
        cmocka_unit_test(test_large_hash),
        cmocka_unit_test(test_histories),
        cmocka_unit_test(test_merge_algebra),
        cmocka_unit_test(test_decode_hostile),
        cmocka_unit_test(test_packed_vs_dict),
        cmocka_unit_test(test_packed_small_hash),
    };
    return cmocka_run_group_tests(tests, setupRun, NULL);
}
