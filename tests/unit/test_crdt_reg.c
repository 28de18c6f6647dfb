/* test_crdt_reg.c - the string register (LWW base + PN-counter with observed
 * reset).
 *
 * Examples first (formatting as Redis's INCRBY/INCRBYFLOAT reply, observed
 * reset, deletion against concurrent increments, encoding shape), then the
 * properties:
 *
 * - histories: random SET/DEL/INCRBY/INCRBYFLOAT ops run at 3 simulated
 *   replicas with their own skewed HLCs; deltas delivered in random order,
 *   duplicated, sometimes through the codec; whole states merged now and then.
 *   After every step the touched replica must show what an independent model
 *   says, and at the end all replicas must be equal and match the model.  The
 *   model knows nothing of totals: per op it keeps the set of increments the
 *   executing replica held (a bit mask over the history), and the value is the
 *   highest-versioned base write plus the increments outside that set.
 * - algebra: merge commutative, associative, idempotent on states and deltas
 *   of histories, also across histories (conflicting same-version writes).
 * - decoding: truncations, mutations and random bytes are refused or decode to
 *   a register that keeps every invariant; nothing crashes (ASan).
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
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "crdt_reg.h"
#include "hlc.h"
#include "util.h"

#define VALBUF 5200     /* regValue's buffer */
#define S(lit) (lit), (sizeof(lit) - 1)

/* ------------------------------------------------------------------------ */
/* Seeds, randomness, failure reports */

#define CHECK_TEST_NAME "test_crdt_reg"
#define CHECK_DEFAULT_CASES 3000
#include "crdt_check.h"
#include "reg_invariants.h"

static version V(uint64_t stamp, uint64_t node) { return (version){stamp, node}; }

/* initRegs(&a, &b, NULL), freeRegs(&a, &b, NULL) */
static void initRegs(reg *r, ...) {
    va_list ap;
    va_start(ap, r);
    for (; r; r = va_arg(ap, reg *)) regInit(r);
    va_end(ap);
}

static void freeRegs(reg *r, ...) {
    va_list ap;
    va_start(ap, r);
    for (; r; r = va_arg(ap, reg *)) regFree(r);
    va_end(ap);
}

/* ------------------------------------------------------------------------ */
/* Reading helpers and the invariants every register must keep */

static const char *value(const reg *r, char *buf, size_t *len) { return regValue(r, buf, len); }

static void expectValue(const reg *r, const char *want) {
    char buf[VALBUF];
    size_t len;
    const char *v = value(r, buf, &len);
    CHECK(regExists(r), "want \"%s\", register does not exist", want);
    CHECK(len == strlen(want) && memcmp(v, want, len) == 0, "value \"%.*s\", want \"%s\"", (int)len, v, want);
}

static void expectMissing(const reg *r) {
    char buf[VALBUF];
    size_t len = 99;
    CHECK(!regExists(r));
    value(r, buf, &len);
    CHECK(len == 0);
}

static void encode(const reg *r, cbuf *b) {
    cbufInit(b);
    regEncode(r, b);
}

/* Decodes a whole buffer: 0, or -1 with *r untouched. */
static int decodeAll(reg *r, const void *p, size_t len) {
    creader rd;
    creaderInit(&rd, p, len);
    return regDecode(r, &rd);
}

/* The invariants (reg_invariants.h) and a canonical codec round trip. */
static void checkInvariants(const reg *r) {
    regCheckInvariants(r);

    cbuf b;
    encode(r, &b);
    CHECK(b.len >= 3 && (uint8_t)b.p[0] == 1, "format byte");
    reg d;
    regInit(&d);
    creader rd;
    creaderInit(&rd, b.p, b.len);
    CHECK(regDecode(&d, &rd) == 0 && creaderDone(&rd), "own encoding refused");
    CHECK(regEqual(&d, r) && regDigest(&d, 7) == regDigest(r, 7));
    CHECK(d.hasFloat == r->hasFloat);
    cbuf b2;
    encode(&d, &b2);
    CHECK(b2.len == b.len && memcmp(b.p, b2.p, b.len) == 0, "encoding not canonical");
    cbufFree(&b2);
    cbufFree(&b);
    regFree(&d);
}

static void expectSame(const reg *a, const reg *b) {
    CHECK(regEqual(a, b));
    CHECK(regDigest(a, 1) == regDigest(b, 1));
    CHECK(regDigest(a, 99) == regDigest(b, 99));
    char ba[VALBUF], bb[VALBUF];
    size_t la, lb;
    const char *va = value(a, ba, &la), *vb = value(b, bb, &lb);
    CHECK(regExists(a) == regExists(b));
    CHECK(la == lb && memcmp(va, vb, la) == 0, "\"%.*s\" vs \"%.*s\"", (int)la, va, (int)lb, vb);
}

/* ------------------------------------------------------------------------ */
/* Examples */

static void test_plain_set_and_delete(void **state) {
    curTest = "plain";
    reg r;
    regInit(&r);
    expectMissing(&r);
    regSet(&r, V(10, 1), S("hello"), NULL);
    expectValue(&r, "hello");
    CHECK(regIsPlain(&r));
    regSet(&r, V(11, 1), S(""), NULL);   /* an empty string exists */
    expectValue(&r, "");
    regDelete(&r, V(12, 1), NULL);
    expectMissing(&r);
    regSet(&r, V(13, 1), S("again"), NULL);
    expectValue(&r, "again");
    /* A write whose version is not ahead of the base loses, on this node as
     * it will on every other. */
    regSet(&r, V(5, 9), S("late"), NULL);
    expectValue(&r, "again");
    regDelete(&r, V(13, 0), NULL);
    expectValue(&r, "again");
    /* Same stamp, higher node: wins. */
    regSet(&r, V(13, 2), S("tie"), NULL);
    expectValue(&r, "tie");
    /* The value may alias the register's own bytes. */
    regSet(&r, V(14, 1), r.val, r.len, NULL);
    expectValue(&r, "tie");
    checkInvariants(&r);
    regFree(&r);
}

static void test_counter_formatting(void **state) {
    curTest = "formatting";
    reg r;
    long long iv;
    long double fv;

    /* INCR on nothing counts from 0. */
    regInit(&r);
    CHECK(regIntValue(&r, &iv) && iv == 0);
    regIncrBy(&r, 1, 5, NULL);
    expectValue(&r, "5");
    regIncrBy(&r, 1, -7, NULL);
    expectValue(&r, "-2");
    CHECK(regIntValue(&r, &iv) && iv == -2);
    checkInvariants(&r);
    regFree(&r);

    /* "10" + 0.5 as INCRBYFLOAT shows it; then back to an integer. */
    regInit(&r);
    regSet(&r, V(1, 1), S("10"), NULL);
    regIncrByFloat(&r, 1, 0.5L, NULL);
    expectValue(&r, "10.5");
    CHECK(!regIntValue(&r, &iv));
    CHECK(regFloatValue(&r, &fv) && fv == 10.5L);
    regIncrByFloat(&r, 1, 0.5L, NULL);
    expectValue(&r, "11");
    CHECK(regIntValue(&r, &iv) && iv == 11, "an integral float result is an integer for INCR");
    regIncrBy(&r, 1, 1, NULL);
    expectValue(&r, "12");
    checkInvariants(&r);
    regFree(&r);

    /* "10" + 0.1: Redis replies 10.1. */
    regInit(&r);
    regSet(&r, V(1, 1), S("10"), NULL);
    regIncrByFloat(&r, 1, 0.1L, NULL);
    expectValue(&r, "10.1");
    checkInvariants(&r);
    regFree(&r);

    /* A float base plus integer increments is computed as a long double. */
    regInit(&r);
    regSet(&r, V(1, 1), S("10.5"), NULL);
    CHECK(!regIntValue(&r, &iv));
    regIncrBy(&r, 2, 1, NULL);   /* e.g. a concurrent INCR elsewhere */
    expectValue(&r, "11.5");
    checkInvariants(&r);
    regFree(&r);

    /* "10.0" is not an integer for INCR, though INCRBYFLOAT takes it; with
     * an increment the value is formatted, and "11" is an integer again. */
    regInit(&r);
    regSet(&r, V(1, 1), S("10.0"), NULL);
    CHECK(!regIntValue(&r, &iv));
    CHECK(regFloatValue(&r, &fv) && fv == 10);
    expectValue(&r, "10.0");
    regIncrBy(&r, 2, 1, NULL);
    expectValue(&r, "11");
    CHECK(regIntValue(&r, &iv) && iv == 11);
    checkInvariants(&r);
    regFree(&r);

    /* Redis parses "007" and "1e2" as floats only. */
    regInit(&r);
    regSet(&r, V(1, 1), S("007"), NULL);
    CHECK(!regIntValue(&r, &iv));
    regIncrBy(&r, 2, 1, NULL);
    expectValue(&r, "8");
    regSet(&r, V(2, 1), S("1e2"), NULL);
    regIncrByFloat(&r, 2, 0.25L, NULL);
    expectValue(&r, "100.25");
    checkInvariants(&r);
    regFree(&r);

    /* A base that is no number ignores unseen increments, on every node. */
    regInit(&r);
    regIncrBy(&r, 2, 3, NULL);
    regSet(&r, V(1, 1), S("abc"), NULL);   /* observes the 3 */
    regIncrBy(&r, 2, 4, NULL);             /* e.g. concurrent */
    CHECK(!regIsPlain(&r));
    expectValue(&r, "abc");
    CHECK(!regIntValue(&r, &iv) && !regFloatValue(&r, &fv));
    checkInvariants(&r);
    regFree(&r);

    /* Concurrent increments past LLONG_MAX: the true sum shows, and INCR
     * refuses it as Redis refuses that string. */
    regInit(&r);
    regSet(&r, V(1, 1), S("9223372036854775806"), NULL);
    regIncrBy(&r, 1, 1, NULL);
    expectValue(&r, "9223372036854775807");
    CHECK(regIntValue(&r, &iv) && iv == LLONG_MAX);
    regIncrBy(&r, 2, 1, NULL);
    expectValue(&r, "9223372036854775808");
    CHECK(!regIntValue(&r, &iv));
    CHECK(regFloatValue(&r, &fv));
    checkInvariants(&r);
    regFree(&r);

    /* A running total wraps across resets; what the base did not see is
     * still exact. */
    regInit(&r);
    regIncrBy(&r, 1, LLONG_MAX, NULL);
    regSet(&r, V(1, 2), S("0"), NULL);
    regIncrBy(&r, 1, 5, NULL);
    CHECK(r.tot[0].isum < 0, "the total wrapped");
    expectValue(&r, "5");
    checkInvariants(&r);
    regFree(&r);
}

/* Node a and node b start from the same SET; a increments, b increments,
 * then b SETs having seen only its own increments. */
static void test_observed_reset(void **state) {
    curTest = "observed reset";
    reg a, b, da, db, ds;
    initRegs(&a, &b, &da, &db, &ds, NULL);
    regSet(&a, V(100, 1), S("10"), &ds);
    regMerge(&b, &ds);
    expectValue(&b, "10");

    regIncrBy(&a, 1, 5, &da);      /* a: 15 */
    regIncrBy(&b, 2, 7, &db);      /* b: 17, concurrently */
    expectValue(&a, "15");
    expectValue(&b, "17");
    regMerge(&a, &db);
    expectValue(&a, "22");         /* concurrent increments both count */

    /* b SETs 100, having seen its own +7 but not a's +5. */
    regSet(&b, V(200, 2), S("100"), &ds);
    expectValue(&b, "100");
    CHECK(regIsPlain(&b));
    regMerge(&b, &da);
    expectValue(&b, "105");        /* the SET's value plus what it had not seen */
    regMerge(&a, &ds);
    expectValue(&a, "105");
    expectSame(&a, &b);

    /* A SET that has seen everything is plain again. */
    regSet(&a, V(300, 1), S("1"), &ds);
    regMerge(&b, &ds);
    expectValue(&b, "1");
    CHECK(regIsPlain(&b));
    expectSame(&a, &b);

    /* Re-delivering old deltas changes nothing. */
    regMerge(&b, &da);
    regMerge(&b, &db);
    expectSame(&a, &b);
    checkInvariants(&a);
    freeRegs(&a, &b, &da, &db, &ds, NULL);
}

/* A SET delta carries the totals it observed, so a replica that receives
 * the increment after the SET does not count it twice. */
static void test_set_delta_carries_observed(void **state) {
    curTest = "set delta";
    reg a, b, dinc, dset;
    initRegs(&a, &b, &dinc, &dset, NULL);
    regIncrBy(&a, 1, 5, &dinc);
    regSet(&a, V(10, 1), S("3"), &dset);
    regMerge(&b, &dset);           /* b gets the SET first */
    expectValue(&b, "3");
    regMerge(&b, &dinc);           /* then the older increment */
    expectValue(&b, "3");
    expectSame(&a, &b);
    freeRegs(&a, &b, &dinc, &dset, NULL);
}

static void test_delete_against_concurrent_increment(void **state) {
    curTest = "delete";
    reg a, b, da, db;
    initRegs(&a, &b, &da, &db, NULL);
    regSet(&a, V(10, 1), S("10"), &da);
    regMerge(&b, &da);
    regDelete(&a, V(20, 1), &da);  /* a deletes */
    regIncrBy(&b, 2, 1, &db);      /* b increments concurrently: 11 */
    expectMissing(&a);
    regMerge(&a, &db);
    regMerge(&b, &da);
    /* The deletion removed what it saw (the 10); the unseen +1 survives. */
    expectValue(&a, "1");
    expectSame(&a, &b);
    /* A deletion that has seen it removes it. */
    regDelete(&b, V(30, 2), &db);
    regMerge(&a, &db);
    expectMissing(&a);
    expectSame(&a, &b);
    /* An increment after that starts from 0. */
    regIncrBy(&a, 1, 2, &da);
    regMerge(&b, &da);
    expectValue(&b, "2");
    expectSame(&a, &b);
    checkInvariants(&b);
    freeRegs(&a, &b, &da, &db, NULL);
}

static void test_delta_shapes_and_hot_path(void **state) {
    curTest = "deltas";
    reg r, d;
    initRegs(&r, &d, NULL);
    regIncrBy(&r, 7, 1, &d);
    regIncrBy(&r, 3, 1, NULL);
    regSet(&r, V(50, 7), S("5"), NULL);

    /* The increment's delta is the node's running total and nothing else. */
    regTotal *tot = r.tot, *obs = r.obs;
    char *val = r.val;
    regIncrBy(&r, 7, 2, &d);
    CHECK(d.ntot == 1 && d.nobs == 0 && !d.present && d.ver.stamp == 0 && d.ver.node == 0);
    CHECK(d.tot[0].node == 7 && d.tot[0].seq == 2 && d.tot[0].isum == 3);
    /* Known node: r's arrays stay where they were (no reallocation), and a
     * recycled delta keeps its buffer. */
    regTotal *dbuf = d.tot;
    for (int i = 0; i < 100; i++) regIncrBy(&r, 7, 1, &d);
    CHECK(r.tot == tot && r.obs == obs && r.val == val && d.tot == dbuf);
    CHECK(r.ntot == 2 && d.tot[0].seq == 102);
    expectValue(&r, "107");

    /* A base write's delta: the write, and what it observed as its totals. */
    regSet(&r, V(60, 3), S("x"), &d);
    CHECK(d.present && d.len == 1 && d.ver.stamp == 60 && d.nobs == 2 && d.ntot == 2);
    CHECK(memcmp(d.obs, d.tot, 2 * sizeof(regTotal)) == 0 || (d.obs[0].seq == d.tot[0].seq && d.obs[1].seq == d.tot[1].seq));
    reg e;
    regInit(&e);
    regMerge(&e, &d);
    expectSame(&e, &r);
    regFree(&e);
    checkInvariants(&d);
    checkInvariants(&r);

    /* Copy is deep; merging with itself changes nothing. */
    reg c;
    regCopy(&c, &r);
    CHECK(c.tot != r.tot && c.val != r.val);
    expectSame(&c, &r);
    regMerge(&c, &c);
    expectSame(&c, &r);
    CHECK(regMemory(&c) >= c.len + 2 * sizeof(regTotal));
    freeRegs(&c, &r, &d, NULL);
}

/* regEncodeTotal ships a run of one node's increments as that node's running
 * total: it decodes to the increment's own delta, and a replica that had the
 * register before the run ends equal to the writer after merging it. */
static void test_encode_total(void **state) {
    curTest = "encode total";
    reg w, d, peer, got;
    initRegs(&w, &d, &peer, &got, NULL);
    regSet(&w, V(10, 3), S("1000000000000000000"), NULL);
    regIncrBy(&w, 3, 5, NULL);
    regIncrBy(&w, 9, 2, NULL);
    regCopy(&peer, &w);                          /* what the peer had */
    for (int i = 0; i < 4; i++) regIncrBy(&w, 9, -1, &d);
    regIncrByFloat(&w, 9, 0.5L, &d);

    cbuf b, full;
    cbufInit(&b);
    CHECK(regEncodeTotal(&w, 9, &b) == 1);
    creader rd;
    creaderInit(&rd, b.p, b.len);
    CHECK(regDecode(&got, &rd) == 0 && creaderLeft(&rd) == 0);
    expectSame(&got, &d);                        /* the last increment's delta */
    encode(&w, &full);
    CHECK(b.len < full.len / 2, "total alone %zu bytes, register %zu", b.len, full.len);
    regMerge(&peer, &got);
    expectSame(&peer, &w);
    expectValue(&peer, "1000000000000000003.5");

    /* A node without a total writes nothing. */
    size_t before = b.len;
    CHECK(regEncodeTotal(&w, 4, &b) == 0 && b.len == before);
    cbufFree(&b);
    cbufFree(&full);
    freeRegs(&w, &d, &peer, &got, NULL);
}

static void test_encoding_examples(void **state) {
    curTest = "encoding";
    reg r, d;
    regInit(&r);
    cbuf b;

    /* An empty register: format byte, flags, no totals. */
    encode(&r, &b);
    CHECK(b.len == 3 && b.p[0] == 1);
    cbufFree(&b);

    /* A plain string: 1 + 1 + 16 (version) + 1 + 3 + 1 bytes. */
    regSet(&r, V(hlcMake(1700000000000ULL, 3), 0x1234567890abcdefULL), S("abc"), NULL);
    encode(&r, &b);
    CHECK(b.len == 23, "plain string encodes in %zu bytes", b.len);
    cbufFree(&b);

    /* A counter node costs 8 + a few bytes, and once more only if the base
     * observed an older total of it. */
    regIncrBy(&r, 0xfedcba9876543210ULL, 5, NULL);
    encode(&r, &b);
    CHECK(b.len == 23 + 8 + 1 + 1, "%zu", b.len);
    cbufFree(&b);
    regSet(&r, V(hlcMake(1700000000001ULL, 0), 1), S("7"), NULL);   /* observes it */
    encode(&r, &b);
    CHECK(b.len == 21 + 8 + 1 + 1, "%zu", b.len);
    cbufFree(&b);
    regIncrByFloat(&r, 0xfedcba9876543210ULL, 0.5L, NULL);
    checkInvariants(&r);
    expectValue(&r, "7.5");

    /* Every strict prefix is refused, and the target is left untouched. */
    encode(&r, &b);
    regInit(&d);
    regSet(&d, V(1, 1), S("sentinel"), NULL);
    for (size_t n = 0; n < b.len; n++) CHECK(decodeAll(&d, b.p, n) == -1, "prefix of %zu bytes accepted", n);
    expectValue(&d, "sentinel");
    CHECK(decodeAll(&d, b.p, b.len) == 0);
    expectSame(&d, &r);

    /* An unknown format version, unknown flags, a value without a base. */
    b.p[0] = 2;
    CHECK(decodeAll(&d, b.p, b.len) == -1);
    b.p[0] = 1;
    b.p[1] |= 4;
    CHECK(decodeAll(&d, b.p, b.len) == -1);
    CHECK(decodeAll(&d, "\x01\x02\x00", 3) == -1);
    CHECK(decodeAll(&d, "\x01\x00\x00", 3) == 0);
    expectMissing(&d);
    /* A version of {0,0} is how "no base" is said, never spelled out. */
    CHECK(decodeAll(&d, "\x01\x01" "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\0\0\0" "\x00", 19) == -1);
    /* Totals out of order or with seq 0. */
    CHECK(decodeAll(&d, "\x01\x00\x02" "\x02\0\0\0\0\0\0\0" "\x08\x02" "\x01\0\0\0\0\0\0\0" "\x08\x02", 23) == -1);
    CHECK(decodeAll(&d, "\x01\x00\x01" "\x02\0\0\0\0\0\0\0" "\x00\x02", 13) == -1);
    CHECK(decodeAll(&d, "\x01\x00\x01" "\x02\0\0\0\0\0\0\0" "\x08\x02", 13) == 0);
    expectValue(&d, "1");
    /* An observation without a base. */
    CHECK(decodeAll(&d, "\x01\x00\x01" "\x02\0\0\0\0\0\0\0" "\x09\x02", 13) == -1);
    /* A count of totals the input cannot hold. */
    CHECK(decodeAll(&d, "\x01\x00\xff\xff\xff\xff\x0f", 7) == -1);
    /* ... also when the allocation it implies would overflow or is absurd,
     * with a well-formed first total behind it. */
    static const unsigned char huge[][20] = {
        {1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10, 2, 0, 0, 0, 0, 0, 0, 0, 8},
        {1, 0, 0x80, 0x80, 0x80, 0x80, 0x80, 0x20, 2, 0, 0, 0, 0, 0, 0, 0, 8, 2, 0, 0},
    };
    for (size_t i = 0; i < sizeof(huge) / sizeof(huge[0]); i++) CHECK(decodeAll(&d, huge[i], sizeof(huge[i])) == -1);
    cbufFree(&b);
    freeRegs(&r, &d, NULL);
}

/* ------------------------------------------------------------------------ */
/* Histories */

#define NREP 3
#define MAXOPS 56           /* op sets are bit masks */
#define MAXMSGS 512
#define POOLMAX 32

typedef enum { OP_SET, OP_DEL, OP_INCR, OP_INCRF } opKind;

typedef struct op {
    opKind kind;
    int rep;
    version ver;            /* base writes */
    const char *val;        /* OP_SET */
    long long by;           /* OP_INCR */
    long double fby;        /* OP_INCRF */
    uint64_t past;          /* increments whose effect the replica held before this op */
    uint64_t carries;       /* increments whose effect its delta carries */
    reg delta;
} op;

typedef struct replica {
    reg r;
    hlc clock;
    int64_t skewMs;
    uint64_t node;
    uint64_t bases;         /* base writes whose effect it holds */
    uint64_t incrs;         /* increments whose effect it holds */
    uint64_t own;           /* its own increments */
} replica;

typedef struct message {
    int op, to;
} message;

typedef struct world {
    rng g;
    replica rep[NREP];
    op ops[MAXOPS];
    int nops;
    message msgs[MAXMSGS];
    int nmsgs;
    uint64_t now;
    int observeClocks;
    reg scratch;            /* a recycled increment delta */
    reg pool[POOLMAX];      /* snapshots of states and deltas for the algebra checks */
    int npool;
} world;

static world W;             /* one at a time; static for the failure dump */

static const char *const setValues[] = {
    "0", "1", "-1", "7", "10", "42", "-13", "100", "10.5", "-2.25", "0.75", "10.0", "007",
    "1e2", "-0", " 5", "5 ", "abc", "", "hello world", "inf", "0x10", "3.0e1",
    "9223372036854775800", "-9223372036854775800", "9223372036854775807",
};
#define NSETVALUES (sizeof(setValues) / sizeof(setValues[0]))

static void dumpWorld(void) {
    world *w = &W;
    fprintf(stderr, "  history (%d ops, clocks %s):\n", w->nops, w->observeClocks ? "observed" : "independent");
    for (int i = 0; i < w->nops; i++) {
        const op *o = &w->ops[i];
        fprintf(stderr, "   #%-2d rep %d ", i, o->rep);
        switch (o->kind) {
        case OP_SET: fprintf(stderr, "SET \"%s\" @%" PRIu64 ".%" PRIu64, o->val, o->ver.stamp, o->ver.node); break;
        case OP_DEL: fprintf(stderr, "DEL @%" PRIu64 ".%" PRIu64, o->ver.stamp, o->ver.node); break;
        case OP_INCR: fprintf(stderr, "INCRBY %lld", o->by); break;
        case OP_INCRF: fprintf(stderr, "INCRBYFLOAT %Lg", o->fby); break;
        }
        fprintf(stderr, "  past=%#" PRIx64 "\n", o->past);
    }
    for (int k = 0; k < NREP; k++) {
        char buf[VALBUF];
        size_t len;
        const char *v = regValue(&w->rep[k].r, buf, &len);
        fprintf(stderr, "   replica %d (node %" PRIu64 "): bases=%#" PRIx64 " incrs=%#" PRIx64 " exists=%d value=\"%.*s\"\n",
                k, w->rep[k].node, w->rep[k].bases, w->rep[k].incrs, regExists(&w->rep[k].r), (int)len, v);
    }
}

/* The specification: the base write with the highest version wins; the value
 * is its value (0 when it is a deletion or there is none) plus the increments
 * it had not seen, formatted as Redis's INCRBY (all integers) or INCRBYFLOAT
 * reply; a base that is no number shows as is. */
typedef struct model {
    int exists, plain;
    char val[VALBUF];
    size_t len;
} model;

static void modelOf(const world *w, uint64_t bases, uint64_t incrs, model *m) {
    int win = -1;
    for (int i = 0; i < w->nops; i++)
        if ((bases >> i & 1) && (win < 0 || versionCmp(w->ops[i].ver, w->ops[win].ver) > 0)) win = i;
    uint64_t unseen = incrs & ~(win >= 0 ? w->ops[win].past : 0);
    const char *base = win >= 0 && w->ops[win].kind == OP_SET ? w->ops[win].val : NULL;
    m->exists = base != NULL || unseen != 0;
    m->plain = unseen == 0;
    m->len = 0;
    if (!m->exists) return;
    size_t blen = base ? strlen(base) : 0;
    long long ibase = 0;
    long double fbase = 0;
    int baseIsInt = 1;
    if (unseen == 0 || (base && !string2ll(base, blen, &ibase) && !string2ld(base, blen, &fbase))) {
        memcpy(m->val, base, blen);   /* a plain base, or one that is no number */
        m->len = blen;
        return;
    }
    if (base && !string2ll(base, blen, &ibase)) baseIsInt = 0;
    __int128 isum = 0;
    long double fsum = 0;
    int anyFloat = 0;
    for (int i = 0; i < w->nops; i++) {
        if (!(unseen >> i & 1)) continue;
        if (w->ops[i].kind == OP_INCR)
            isum += w->ops[i].by;
        else
            fsum += w->ops[i].fby, anyFloat = 1;   /* multiples of 1/4: exact */
    }
    __int128 itotal = (__int128)ibase + isum;
    if (baseIsInt && !anyFloat && itotal >= LLONG_MIN && itotal <= LLONG_MAX) {
        m->len = (size_t)ll2string(m->val, sizeof(m->val), (long long)itotal);
    } else {
        /* Integer parts are exact; the float part is added once. */
        long double v = baseIsInt ? (long double)itotal : fbase + (long double)isum;
        m->len = (size_t)ld2string(m->val, sizeof(m->val), v + fsum);
    }
}

static void checkAgainstModel(const world *w, const reg *r, uint64_t bases, uint64_t incrs) {
    model m;
    modelOf(w, bases, incrs, &m);
    char buf[VALBUF];
    size_t len;
    const char *v = regValue(r, buf, &len);
    CHECK(regExists(r) == m.exists, "exists %d, model %d (value \"%.*s\", model \"%.*s\")", regExists(r), m.exists,
          (int)len, v, (int)m.len, m.val);
    CHECK(regIsPlain(r) == m.plain, "plain %d, model %d", regIsPlain(r), m.plain);
    CHECK(len == m.len && memcmp(v, m.val, len) == 0, "value \"%.*s\", model \"%.*s\"", (int)len, v, (int)m.len,
          m.val);
    checkInvariants(r);
}

static void checkReplica(world *w, int k) {
    checkAgainstModel(w, &w->rep[k].r, w->rep[k].bases, w->rep[k].incrs);
}

static uint64_t wallOf(world *w, int k) { return (uint64_t)((int64_t)w->now + w->rep[k].skewMs); }

static void poolAdd(world *w, const reg *r) {
    if (w->npool < POOLMAX) {
        regCopy(&w->pool[w->npool++], r);
    } else {
        int i = (int)rngBelow(&w->g, POOLMAX);
        regFree(&w->pool[i]);
        regCopy(&w->pool[i], r);
    }
}

/* Runs one op at a random replica, unless the replica refuses it as Redis
 * would (INCR on a non-integer, overflow, a float result that is no number). */
static void execute(world *w) {
    int k = (int)rngBelow(&w->g, NREP);
    replica *R = &w->rep[k];
    op *o = &w->ops[w->nops];
    uint64_t bit = (uint64_t)1 << w->nops;
    w->now += rngBelow(&w->g, 3);
    unsigned dice = (unsigned)rngBelow(&w->g, 100);
    memset(o, 0, sizeof(*o));
    regInit(&o->delta);
    o->rep = k;
    o->kind = dice < 30 ? OP_SET : dice < 40 ? OP_DEL : dice < 88 ? OP_INCR : OP_INCRF;
    if (o->kind == OP_INCR) {
        long long cur, sum;
        o->by = rngChance(&w->g, 90) ? (long long)rngBelow(&w->g, 9) - 4 : (long long)rngBelow(&w->g, 2001) - 1000;
        if (!regIntValue(&R->r, &cur) || __builtin_add_overflow(cur, o->by, &sum)) return;
        if (rngChance(&w->g, 50)) {
            regIncrBy(&R->r, R->node, o->by, &w->scratch);
            regCopy(&o->delta, &w->scratch);
        } else {
            regIncrBy(&R->r, R->node, o->by, &o->delta);
        }
    } else if (o->kind == OP_INCRF) {
        long double cur;
        o->fby = (long double)((int)rngBelow(&w->g, 17) - 8) / 4;
        if (!regFloatValue(&R->r, &cur) || !isfinite(cur + o->fby)) return;
        regIncrByFloat(&R->r, R->node, o->fby, &o->delta);
    } else {
        o->ver = V(hlcNow(&R->clock, wallOf(w, k)), R->node);
        o->val = setValues[rngBelow(&w->g, NSETVALUES)];
        int recycle = rngChance(&w->g, 30);
        reg *d = recycle ? &w->scratch : &o->delta;
        if (o->kind == OP_SET)
            regSet(&R->r, o->ver, o->val, strlen(o->val), d);
        else
            regDelete(&R->r, o->ver, d);
        if (recycle) regCopy(&o->delta, &w->scratch);
    }
    o->past = R->incrs;
    if (o->kind == OP_INCR || o->kind == OP_INCRF) {
        R->own |= bit;
        R->incrs |= bit;
        o->carries = R->own;         /* the node's running total */
    } else {
        R->bases |= bit;
        o->carries = R->incrs;       /* the totals the write observed */
    }
    w->nops++;
    for (int j = 0; j < NREP; j++)
        if (j != k) w->msgs[w->nmsgs++] = (message){w->nops - 1, j};
    checkInvariants(&o->delta);
    checkReplica(w, k);
    if (rngChance(&w->g, 10)) poolAdd(w, &o->delta);
}

/* Merges src into replica k: directly, through the codec, or (to exercise the
 * other argument order) as merge(copy of src, replica). */
static void mergeInto(world *w, int k, const reg *src) {
    reg *r = &w->rep[k].r;
    unsigned how = (unsigned)rngBelow(&w->g, 100);
    if (how < 30) {
        cbuf b;
        encode(src, &b);
        reg d;
        regInit(&d);
        CHECK(decodeAll(&d, b.p, b.len) == 0);
        CHECK(regEqual(&d, src));
        regMerge(r, &d);
        regFree(&d);
        cbufFree(&b);
    } else if (how < 45) {
        reg d;
        regCopy(&d, src);
        regMerge(&d, r);
        regFree(r);
        *r = d;
    } else {
        regMerge(r, src);
    }
}

static void deliver(world *w, int mi, int keep) {
    message m = w->msgs[mi];
    if (!keep) w->msgs[mi] = w->msgs[--w->nmsgs];
    const op *o = &w->ops[m.op];
    replica *Q = &w->rep[m.to];
    mergeInto(w, m.to, &o->delta);
    Q->incrs |= o->carries;
    if (o->kind == OP_SET || o->kind == OP_DEL) {
        Q->bases |= (uint64_t)1 << m.op;
        if (w->observeClocks) hlcObserve(&Q->clock, o->ver.stamp, wallOf(w, m.to));
    }
    checkReplica(w, m.to);
}

static void syncState(world *w, int from, int to) {
    replica *P = &w->rep[from], *Q = &w->rep[to];
    mergeInto(w, to, &P->r);
    Q->bases |= P->bases;
    Q->incrs |= P->incrs;
    if (w->observeClocks && P->r.ver.stamp) hlcObserve(&Q->clock, P->r.ver.stamp, wallOf(w, to));
    checkReplica(w, to);
}

static void worldInit(world *w, rng g) {
    memset(w, 0, sizeof(*w));
    w->g = g;
    int smallIds = rngChance(&w->g, 50);
    w->observeClocks = rngChance(&w->g, 70);
    w->now = 1700000000000ULL + rngBelow(&w->g, 4);
    for (int k = 0; k < NREP; k++) {
        replica *R = &w->rep[k];
        regInit(&R->r);
        hlcInit(&R->clock, 60000);
        R->skewMs = (int64_t)rngBelow(&w->g, 41) - 20;
        R->node = smallIds ? (uint64_t)k + 1 : rngNext(&w->g);
        for (int j = 0; j < k; j++)
            if (R->node == w->rep[j].node) R->node++;
    }
    regInit(&w->scratch);
}

static void worldFree(world *w) {
    for (int k = 0; k < NREP; k++) regFree(&w->rep[k].r);
    for (int i = 0; i < w->nops; i++) regFree(&w->ops[i].delta);
    for (int i = 0; i < w->npool; i++) regFree(&w->pool[i]);
    regFree(&w->scratch);
}

/* One random history, every message delivered by its end. */
static void runHistory(world *w, rng g) {
    worldInit(w, g);
    int target = 1 + (int)rngBelow(&w->g, 40);
    int attempts = 0;
    while (w->nops < target && attempts < 4 * MAXOPS) {
        unsigned dice = (unsigned)rngBelow(&w->g, 100);
        if (dice < 45) {
            attempts++;
            execute(w);
        } else if (dice < 80 && w->nmsgs) {
            deliver(w, (int)rngBelow(&w->g, (uint64_t)w->nmsgs), rngChance(&w->g, 20));
        } else if (dice < 90) {
            int from = (int)rngBelow(&w->g, NREP), to = (int)((from + 1 + rngBelow(&w->g, NREP - 1)) % NREP);
            syncState(w, from, to);
        } else if (dice < 95) {
            w->rep[rngBelow(&w->g, NREP)].skewMs = (int64_t)rngBelow(&w->g, 41) - 20;   /* clocks jump */
        } else {
            poolAdd(w, &w->rep[rngBelow(&w->g, NREP)].r);
        }
    }
    /* Deliver everything everywhere, in random order, some twice. */
    while (w->nmsgs) deliver(w, (int)rngBelow(&w->g, (uint64_t)w->nmsgs), rngChance(&w->g, 10));
}

static void test_histories_converge_to_the_model(void **state) {
    curTest = "histories";
    dumpOnFailure = dumpWorld;
    long checks = 0, ops = 0;
    for (int c = 0; c < numHistories; c++) {
        if (!runCase(c)) continue;
        curCase = c;
        world *w = &W;
        runHistory(w, caseRng(curTest, c));
        uint64_t allBases = 0, allIncrs = 0;
        for (int i = 0; i < w->nops; i++) {
            if (w->ops[i].kind == OP_SET || w->ops[i].kind == OP_DEL)
                allBases |= (uint64_t)1 << i;
            else
                allIncrs |= (uint64_t)1 << i;
        }
        for (int k = 0; k < NREP; k++) {
            CHECK(w->rep[k].bases == allBases && w->rep[k].incrs == allIncrs, "replica %d missed ops", k);
            checkAgainstModel(w, &w->rep[k].r, allBases, allIncrs);
            if (k) expectSame(&w->rep[0].r, &w->rep[k].r);
        }
        ops += w->nops;
        checks++;
        worldFree(w);
    }
    curCase = -1;
    printf("  histories: %ld histories, %ld ops, all replicas converged to the model\n", checks, ops);
}

/* ------------------------------------------------------------------------ */
/* Merge algebra */

static void merged(reg *out, const reg *a, const reg *b) {
    regCopy(out, a);
    regMerge(out, b);
    checkInvariants(out);
}

static void checkAlgebra(const reg *a, const reg *b, const reg *c) {
    reg ab, ba, abc1, bc, abc2, aa, abb;
    merged(&ab, a, b);
    merged(&ba, b, a);
    expectSame(&ab, &ba);                    /* commutative */
    merged(&abc1, &ab, c);
    merged(&bc, b, c);
    merged(&abc2, a, &bc);
    expectSame(&abc1, &abc2);                /* associative */
    merged(&aa, a, a);
    expectSame(&aa, a);                      /* idempotent */
    merged(&abb, &ab, b);
    expectSame(&abb, &ab);                   /* re-delivery changes nothing */
    freeRegs(&ab, &ba, &abc1, &bc, &abc2, &aa, &abb, NULL);
}

static void test_merge_algebra(void **state) {
    curTest = "algebra";
    dumpOnFailure = NULL;
    /* States left over from earlier histories: with node ids 1..3 and close
     * clocks they share versions with different contents, which only the
     * tie-break orders. */
    reg foreign[POOLMAX];
    int nforeign = 0;
    long triples = 0;
    int n = numHistories / 3 + 1;
    for (int c = 0; c < n; c++) {
        if (!runCase(c)) continue;
        curCase = c;
        world *w = &W;
        runHistory(w, caseRng(curTest, c));
        for (int k = 0; k < NREP; k++) poolAdd(w, &w->rep[k].r);
        for (int t = 0; t < 12; t++) {
            const reg *x[3];
            for (int i = 0; i < 3; i++) {
                int j = (int)rngBelow(&w->g, (uint64_t)w->npool);
                x[i] = (t % 4 == 3 && nforeign && i == 1) ? &foreign[rngBelow(&w->g, (uint64_t)nforeign)] : &w->pool[j];
            }
            checkAlgebra(x[0], x[1], x[2]);
            triples++;
        }
        const reg *keep = &w->pool[rngBelow(&w->g, (uint64_t)w->npool)];
        if (nforeign < POOLMAX) {
            regCopy(&foreign[nforeign++], keep);
        } else {
            int i = (int)rngBelow(&w->g, POOLMAX);
            regFree(&foreign[i]);
            regCopy(&foreign[i], keep);
        }
        worldFree(w);
    }
    for (int i = 0; i < nforeign; i++) regFree(&foreign[i]);
    curCase = -1;
    printf("  algebra: %ld triples (commutative, associative, idempotent)\n", triples);
}

/* ------------------------------------------------------------------------ */
/* Decoding hostile input */

/* Whatever decodes must keep every invariant and survive use. */
static void useDecoded(const reg *d, const reg *other) {
    checkInvariants(d);
    reg m;
    merged(&m, other, d);
    regFree(&m);
    merged(&m, d, other);
    regFree(&m);
}

static void test_decode_hostile_input(void **state) {
    curTest = "decode fuzz";
    dumpOnFailure = NULL;
    long refused = 0, accepted = 0;
    int n = numHistories / 10 + 1;
    for (int c = 0; c < n; c++) {
        if (!runCase(c)) continue;
        curCase = c;
        world *w = &W;
        runHistory(w, caseRng(curTest, c));
        for (int k = 0; k < NREP; k++) poolAdd(w, &w->rep[k].r);
        reg sentinel;
        regInit(&sentinel);
        regSet(&sentinel, V(1, 1), S("sentinel"), NULL);
        for (int p = 0; p < w->npool; p++) {
            cbuf b;
            encode(&w->pool[p], &b);
            /* Truncations: every strict prefix refused, target untouched. */
            for (size_t len = 0; len < b.len; len++) {
                CHECK(decodeAll(&sentinel, b.p, len) == -1, "prefix %zu of %zu accepted", len, b.len);
                refused++;
            }
            expectValue(&sentinel, "sentinel");
            /* Mutations: 1-3 random bytes changed. */
            for (int t = 0; t < 8; t++) {
                char *mut = malloc(b.len);
                memcpy(mut, b.p, b.len);
                int flips = 1 + (int)rngBelow(&w->g, 3);
                for (int f = 0; f < flips; f++) mut[rngBelow(&w->g, b.len)] = (char)rngNext(&w->g);
                reg d;
                regInit(&d);
                if (decodeAll(&d, mut, b.len) == 0) {
                    useDecoded(&d, &w->pool[p]);
                    accepted++;
                } else {
                    refused++;
                }
                regFree(&d);
                free(mut);
            }
            cbufFree(&b);
        }
        /* Random bytes, mostly with a valid format byte and flags. */
        for (int t = 0; t < 40; t++) {
            unsigned char buf[96];
            size_t len = rngBelow(&w->g, sizeof(buf) + 1);
            for (size_t i = 0; i < len; i++) {
                uint64_t x = rngNext(&w->g);
                /* Small bytes make plausible varints and counts. */
                buf[i] = (unsigned char)(rngChance(&w->g, 50) ? x % 16 : x);
            }
            if (len > 0 && rngChance(&w->g, 90)) buf[0] = 1;
            if (len > 1 && rngChance(&w->g, 80)) buf[1] = (unsigned char)rngBelow(&w->g, 4);
            reg d;
            regInit(&d);
            if (decodeAll(&d, buf, len) == 0) {
                useDecoded(&d, &w->pool[0]);
                accepted++;
            } else {
                refused++;
            }
            regFree(&d);
        }
        regFree(&sentinel);
        worldFree(w);
    }
    curCase = -1;
    printf("  decode: %ld inputs refused, %ld accepted and checked\n", refused, accepted);
}

/* A node's first increment of a register starts at a floor: a stale copy of
 * an older incarnation (seq 5, sum 100) no longer wins over the new total. */
static void test_seq_floor(void **state) {
    (void)state;
    reg old, fresh;
    regInit(&old);
    regInit(&fresh);
    for (int i = 0; i < 5; i++) regIncrBy(&old, 7, 20, NULL);
    regSeqFloor(&fresh, 7, 1000);
    regIncrBy(&fresh, 7, 1, NULL);
    regSeqFloor(&fresh, 7, 5000);              /* no effect once the node has a total */
    regIncrBy(&fresh, 7, 1, NULL);
    long long v;
    assert_true(regIntValue(&fresh, &v));
    assert_int_equal(v, 2);
    regMerge(&fresh, &old);
    assert_true(regIntValue(&fresh, &v));
    assert_int_equal(v, 2);
    regMerge(&old, &fresh);
    assert_true(regEqual(&old, &fresh));
    regFree(&old);
    regFree(&fresh);
}

/* A total's seq from a peer is at most 2^60 - 1 (REG_SEQ_PEER_MAX), far
 * below the 2^61 - 1 the encoding holds.  A total at 2^61 - 1 was accepted,
 * and the node's next INCR made one the encoder asserted on
 * (tests/fuzz/crashes/crdt/reg-seq-at-encoding-limit). */
static void test_decode_seq_bound(void **state) {
    (void)state;
    const uint64_t peerMax = (1ULL << 60) - 1, encodable = (1ULL << 61) - 1;
    uint64_t seqs[] = {peerMax, peerMax + 1, encodable};
    for (int i = 0; i < 3; i++) {
        reg r, d;
        initRegs(&r, &d, NULL);
        regSeqFloor(&r, 7, seqs[i] - 1);
        regIncrBy(&r, 7, 1, NULL);
        assert_int_equal(r.tot[0].seq, seqs[i]);
        cbuf b;
        encode(&r, &b);
        if (seqs[i] > peerMax) {
            assert_int_equal(decodeAll(&d, b.p, b.len), -1);
        } else {
            assert_int_equal(decodeAll(&d, b.p, b.len), 0);
            assert_true(regEqual(&d, &r));
            /* A local INCR after it still encodes, within the encoder's 61
             * bits (peers would refuse the result: a forged total confines
             * the damage to its key). */
            regIncrBy(&d, 7, 1, NULL);
            assert_int_equal(d.tot[0].seq, peerMax + 1);
            cbuf again;
            encode(&d, &again);
            cbufFree(&again);
        }
        cbufFree(&b);
        freeRegs(&r, &d, NULL);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_plain_set_and_delete),
        cmocka_unit_test(test_seq_floor),
        cmocka_unit_test(test_counter_formatting),
        cmocka_unit_test(test_observed_reset),
        cmocka_unit_test(test_set_delta_carries_observed),
        cmocka_unit_test(test_delete_against_concurrent_increment),
        cmocka_unit_test(test_delta_shapes_and_hot_path),
        cmocka_unit_test(test_encoding_examples),
        cmocka_unit_test(test_encode_total),
        cmocka_unit_test(test_histories_converge_to_the_model),
        cmocka_unit_test(test_merge_algebra),
        cmocka_unit_test(test_decode_hostile_input),
        cmocka_unit_test(test_decode_seq_bound),
    };
    return cmocka_run_group_tests(tests, setupRun, NULL);
}
