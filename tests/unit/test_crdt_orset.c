/* test_crdt_orset.c - the ORSWOT set against two independent oracles.
 *
 * Random histories run on three simulated replicas (random 64-bit node ids):
 * SADD/SREM of members from a small alphabet and occasional CLEAR, each at a
 * random replica, each producing a delta.  Deltas reach the other replicas in
 * random order, with duplicates, sometimes merged into a delta group first,
 * sometimes through encode/decode; sometimes a whole state is shipped
 * (orsetDup + merge).  At the end everything is delivered everywhere.
 *
 * Oracle 1, the specification, computed from the history alone: each op's
 * causal past is the set of ops its replica had received when it ran; a
 * member is present iff some add of it is in the causal past of no remove of
 * it and no clear.  This is the add-wins rule when delivery is causal, so in
 * "causal" runs a delta is delivered only after everything its op had seen
 * (a causal broadcast; any order among concurrent ops, duplicates allowed).
 *
 * Oracle 2, the join written on plain sets (Almeida et al.'s ORSWOT): every
 * add is an id; a replica holds, per member, the set of live add ids and the
 * set of every add id seen; merge keeps an id held by both, or by one side and
 * unseen by the other.  It has no version vectors, no compaction, no
 * shortcuts, and is checked in every run, causal or not, after every step
 * (cardinality, membership) and at random steps and the end exactly (dots and
 * context, by building the expected orset through the decoder).
 *
 * Plus: merge is commutative, associative and idempotent on states and deltas
 * drawn from the histories; iteration, SSCAN and random picks; digests
 * independent of insertion order and table layout; the decoder refuses
 * truncated input and survives garbage; a 100k-member set re-adds without
 * growing and stays near 28 bytes + member + table pointer per member; a
 * small set stays packed (a few bytes per member) until it outgrows that
 * form, and sets of either form merge alike; one member of the alphabet is
 * too long for the packed form, so histories mix both.
 *
 * Seeded: CRDT_SEED=<n> replays a run; the seed is printed at start and, with
 * the case number and its history, on every failure. */
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

#include "crdt_orset.h"

/* ---------- seeded randomness and failure reports ---------- */

static uint64_t seed;
static uint64_t rngState;
static long caseNo;
static void dumpHistory(void);

static uint64_t rng(void) {
    uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t rngBelow(uint64_t n) { return rng() % n; }
static int chance(int percent) { return (int)rngBelow(100) < percent; }

static void startCase(long n) {
    caseNo = n;
    rngState = seed ^ ((uint64_t)n * 0xd1b54a32d192ed03ULL);
    (void)rng();
}

#define CHECK(cond, ...)                                                                           \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "FAILED: %s (CRDT_SEED=%" PRIu64 " case %ld): ", #cond, seed, caseNo); \
            fprintf(stderr, __VA_ARGS__);                                                          \
            fprintf(stderr, "\n");                                                                 \
            dumpHistory();                                                                         \
            fail();                                                                                \
        }                                                                                          \
    } while (0)

/* ---------- the alphabet ---------- */

#define NMEMB 6
static const char *alphabet[NMEMB] = {
    "a", "b", "", "a member name long enough to move the extra dots further out", "e",
    "a member too long for the packed form of a small set: it moves the set to the dict form"};
static size_t alen(int e) { return strlen(alphabet[e]); }

/* ---------- bit sets over op ids ---------- */

#define MAXOPS 128
typedef struct bits {
    uint64_t w[MAXOPS / 64];
} bits;

static void bset(bits *b, int i) { b->w[i / 64] |= 1ULL << (i % 64); }
static int bhas(const bits *b, int i) { return (int)(b->w[i / 64] >> (i % 64)) & 1; }
static void bor(bits *b, const bits *o) {
    for (int k = 0; k < MAXOPS / 64; k++) b->w[k] |= o->w[k];
}
static int bsubset(const bits *a, const bits *b) {
    for (int k = 0; k < MAXOPS / 64; k++)
        if (a->w[k] & ~b->w[k]) return 0;
    return 1;
}
static int bempty(const bits *b) {
    for (int k = 0; k < MAXOPS / 64; k++)
        if (b->w[k]) return 0;
    return 1;
}
static int bequal(const bits *a, const bits *b) { return memcmp(a, b, sizeof(*a)) == 0; }

/* ---------- the history ---------- */

#define NREP 3
enum { OP_ADD, OP_REM, OP_CLEAR };

typedef struct op {
    int type, member, replica;
    dot d;          /* adds: the dot the oracle expects (node, adds at that node so far) */
    bits past;      /* ops the replica had received when this op ran */
} op;

static op ops[MAXOPS];
static int nops;
static uint64_t nodeOf[NREP];
static int causalRun;

static void dumpHistory(void) {
    fprintf(stderr, "history (%s delivery), nodes %016" PRIx64 " %016" PRIx64 " %016" PRIx64 ":\n",
            causalRun ? "causal" : "any-order", nodeOf[0], nodeOf[1], nodeOf[2]);
    for (int i = 0; i < nops; i++) {
        const op *o = &ops[i];
        fprintf(stderr, "  #%d @%d %s", i, o->replica, o->type == OP_ADD ? "SADD" : o->type == OP_REM ? "SREM" : "DEL");
        if (o->type != OP_CLEAR) fprintf(stderr, " '%.12s'", alphabet[o->member]);
        if (o->type == OP_ADD) fprintf(stderr, " dot %" PRIu64, o->d.counter);
        fprintf(stderr, " past {");
        for (int j = 0; j < i; j++)
            if (bhas(&o->past, j)) fprintf(stderr, " %d", j);
        fprintf(stderr, " }\n");
    }
}

/* ---------- oracle 2: the join on plain sets ---------- */

typedef struct naive {
    bits live[NMEMB];   /* add ids holding each member */
    bits seen;          /* every add id seen */
} naive;

static void naiveMerge(naive *x, const naive *y) {
    for (int e = 0; e < NMEMB; e++) {
        bits out;
        for (int k = 0; k < MAXOPS / 64; k++)
            out.w[k] = (x->live[e].w[k] & y->live[e].w[k]) | (x->live[e].w[k] & ~y->seen.w[k]) |
                       (y->live[e].w[k] & ~x->seen.w[k]);
        x->live[e] = out;
    }
    bor(&x->seen, &y->seen);
}

/* The orset the plain model describes, built through the decoder (format in
 * crdt_orset.c): so orsetEqual compares dots and context exactly. */
static orset *naiveToOrset(const naive *n) {
    ccontext cc;
    ccInit(&cc);
    for (int i = 0; i < nops; i++)
        if (bhas(&n->seen, i)) ccAdd(&cc, ops[i].d);
    uint64_t nodes[64];
    uint32_t nn = 0;
    for (uint32_t i = 0; i < cc.nvv; i++) nodes[nn++] = cc.vv[i].node;
    for (uint32_t i = 0; i < cc.ncloud; i++) {
        uint32_t k = 0;
        while (k < nn && nodes[k] != cc.cloud[i].node) k++;
        if (k == nn) nodes[nn++] = cc.cloud[i].node;
    }
    for (uint32_t i = 1; i < nn; i++)   /* sort */
        for (uint32_t k = i; k > 0 && nodes[k - 1] > nodes[k]; k--) {
            uint64_t t = nodes[k];
            nodes[k] = nodes[k - 1];
            nodes[k - 1] = t;
        }
    cbuf b;
    cbufInit(&b);
    cbufPutByte(&b, 1);
    cbufPutByte(&b, 0);
    ccEncode(&cc, &b);
    int card = 0;
    for (int e = 0; e < NMEMB; e++) card += !bempty(&n->live[e]);
    cbufPutVarint(&b, (uint64_t)card);
    for (int e = 0; e < NMEMB; e++) {
        if (bempty(&n->live[e])) continue;
        dot ds[MAXOPS];
        int k = 0;
        for (int i = 0; i < nops; i++)
            if (bhas(&n->live[e], i)) ds[k++] = ops[i].d;
        for (int i = 1; i < k; i++)
            for (int j = i; j > 0 && dotCmp(ds[j - 1], ds[j]) > 0; j--) {
                dot t = ds[j];
                ds[j] = ds[j - 1];
                ds[j - 1] = t;
            }
        cbufPutBytes(&b, alphabet[e], alen(e));
        cbufPutVarint(&b, (uint64_t)k);
        for (int i = 0; i < k; i++) {
            uint32_t idx = 0;
            while (nodes[idx] != ds[i].node) idx++;
            cbufPutVarint(&b, idx);
            cbufPutVarint(&b, ds[i].counter);
        }
    }
    creader r;
    creaderInit(&r, b.p, b.len);
    orset *s = orsetDecode(&r);
    CHECK(s != NULL, "the oracle's state does not decode");
    cbufFree(&b);
    ccFree(&cc);
    return s;
}

/* ---------- checks ---------- */

static void checkIteration(const orset *s) {
    size_t n = 0;
    int seen[NMEMB] = {0};
    orsetIter it;
    orsetIterInit(&it, s);
    const char *m;
    size_t len;
    while (orsetIterNext(&it, &m, &len)) {
        n++;
        CHECK(orsetContains(s, m, len), "iterated member not contained");
        for (int e = 0; e < NMEMB; e++)
            if (len == alen(e) && memcmp(m, alphabet[e], len) == 0) {
                CHECK(!seen[e], "member '%s' iterated twice", alphabet[e]);
                seen[e] = 1;
            }
    }
    CHECK(n == orsetCard(s), "iteration gave %zu members, card %zu", n, orsetCard(s));
}

/* Cheap, after every step: cardinality and membership against oracle 2. */
static void checkMembers(const orset *s, const naive *n, const char *what) {
    size_t card = 0;
    for (int e = 0; e < NMEMB; e++) {
        int want = !bempty(&n->live[e]);
        card += (size_t)want;
        CHECK(orsetContains(s, alphabet[e], alen(e)) == want, "%s: member '%s' present %d, oracle says %d", what,
              alphabet[e], !want, want);
    }
    CHECK(orsetCard(s) == card, "%s: card %zu, oracle %zu", what, orsetCard(s), card);
}

/* Exact: members, their dots and the context. */
static void checkExact(const orset *s, const naive *n, const char *what) {
    orset *want = naiveToOrset(n);
    CHECK(orsetEqual(s, want) && orsetEqual(want, s), "%s: state differs from the plain-set join", what);
    CHECK(orsetDigest(s) == orsetDigest(want), "%s: digest differs from the oracle state's", what);
    orsetFree(want);
}

/* Oracle 1 over the ops a replica has received (all of them at the end). */
static int specPresent(int e, const bits *known) {
    bits killed = {{0}};
    for (int i = 0; i < nops; i++) {
        if (!bhas(known, i)) continue;
        if ((ops[i].type == OP_REM && ops[i].member == e) || ops[i].type == OP_CLEAR) bor(&killed, &ops[i].past);
    }
    for (int i = 0; i < nops; i++)
        if (bhas(known, i) && ops[i].type == OP_ADD && ops[i].member == e && !bhas(&killed, i)) return 1;
    return 0;
}

static void checkSpec(const orset *s, const bits *known, const char *what) {
    for (int e = 0; e < NMEMB; e++) {
        int want = specPresent(e, known);
        CHECK(orsetContains(s, alphabet[e], alen(e)) == want, "%s: member '%s' present %d, specification says %d",
              what, alphabet[e], !want, want);
    }
}

/* ---------- one simulated history ---------- */

typedef struct message {
    int opId;
    orset *delta;
    naive nd;
    bits deliveredTo;   /* replicas that got it at least once */
} message;

typedef struct replica {
    orset *s;
    naive n;
    bits known;         /* ops received, including its own */
} replica;

static replica reps[NREP];
static message msgs[MAXOPS];

/* s through its encoding: the same set, in the form the decoder picks. */
static orset *roundTrip(const orset *s) {
    cbuf b;
    cbufInit(&b);
    orsetEncode(s, &b);
    creader r;
    creaderInit(&r, b.p, b.len);
    orset *c = orsetDecode(&r);
    CHECK(c != NULL && creaderDone(&r), "decode of an encoding failed");
    CHECK(orsetEqual(c, s) && orsetDigest(c) == orsetDigest(s), "round trip changed the set");
    cbufFree(&b);
    return c;
}

/* What reaches a peer: a copy, the same through encode/decode, or a set
 * that started empty and merged it (as a replica creating a key from a delta,
 * which then keeps it as its only content). */
static orset *maybeRoundTrip(const orset *s) {
    int roll = (int)rngBelow(100);
    if (roll < 50) return orsetDup(s);
    if (roll < 70) {
        orset *fresh = orsetNew();
        orsetMerge(fresh, s);
        CHECK(orsetEqual(fresh, s), "a fresh set merged with s differs from s");
        return fresh;
    }
    return roundTrip(s);
}

static int ready(const message *m, int to) { return !causalRun || bsubset(&ops[m->opId].past, &reps[to].known); }

/* Delivers one or a group of messages (merged into one delta first) to a replica. */
static int deliverSome(int to, int allowDuplicates) {
    int cand[MAXOPS], nc = 0;
    for (int i = 0; i < nops; i++) {
        if (msgs[i].delta == NULL || ops[i].replica == to) continue;
        if (!allowDuplicates && bhas(&msgs[i].deliveredTo, to)) continue;
        if (ready(&msgs[i], to)) cand[nc++] = i;
    }
    if (nc == 0) return 0;
    int group = chance(20) ? 1 + (int)rngBelow(4) : 1;
    orset *acc = NULL;
    naive nacc;
    memset(&nacc, 0, sizeof(nacc));
    for (int g = 0; g < group && nc > 0; g++) {
        int pick = (int)rngBelow((uint64_t)nc);
        message *m = &msgs[cand[pick]];
        cand[pick] = cand[--nc];
        if (acc == NULL) acc = orsetDup(m->delta);
        else orsetMerge(acc, m->delta);
        naiveMerge(&nacc, &m->nd);
        bset(&m->deliveredTo, to);
        bset(&reps[to].known, m->opId);
        if (causalRun) break;   /* a group could hold an op before its past */
    }
    orset *wire = maybeRoundTrip(acc);
    orsetMerge(reps[to].s, wire);
    naiveMerge(&reps[to].n, &nacc);
    orsetFree(wire);
    orsetFree(acc);
    return 1;
}

static void shipState(int from, int to) {
    orset *wire = maybeRoundTrip(reps[from].s);
    orsetMerge(reps[to].s, wire);
    orsetFree(wire);
    naiveMerge(&reps[to].n, &reps[from].n);
    bor(&reps[to].known, &reps[from].known);
}

static void runOp(int r) {
    op *o = &ops[nops];
    message *m = &msgs[nops];
    replica *R = &reps[r];
    int id = nops;
    memset(o, 0, sizeof(*o));
    memset(m, 0, sizeof(*m));
    o->replica = r;
    o->member = (int)rngBelow(NMEMB);
    o->past = R->known;
    int roll = (int)rngBelow(100);
    o->type = roll < 55 ? OP_ADD : roll < 93 ? OP_REM : OP_CLEAR;
    m->opId = id;
    m->delta = orsetNew();
    int wasPresent = !bempty(&R->n.live[o->member]);
    const char *e = alphabet[o->member];
    size_t elen = alen(o->member);
    nops++;
    if (o->type == OP_ADD) {
        uint64_t adds = 0;
        for (int i = 0; i < id; i++) adds += ops[i].type == OP_ADD && ops[i].replica == r;
        o->d = (dot){nodeOf[r], adds + 1};
        bset(&m->nd.live[o->member], id);
        bset(&m->nd.seen, id);
        bor(&m->nd.seen, &R->n.live[o->member]);
        int added = orsetAdd(R->s, nodeOf[r], e, elen, m->delta);
        CHECK(added == !wasPresent, "SADD returned %d", added);
        CHECK(orsetContains(m->delta, e, elen) && orsetCard(m->delta) == 1, "add delta lacks the member");
    } else if (o->type == OP_REM) {
        m->nd.seen = R->n.live[o->member];
        int removed = orsetRemove(R->s, e, elen, m->delta);
        CHECK(removed == wasPresent, "SREM returned %d", removed);
        CHECK(orsetCard(m->delta) == 0, "remove delta has members");
    } else {
        m->nd.seen = R->n.seen;
        orsetClear(R->s, m->delta);
        CHECK(orsetCard(R->s) == 0 && orsetCard(m->delta) == 0, "clear left members");
    }
    naiveMerge(&R->n, &m->nd);
    bset(&R->known, id);
    checkExact(m->delta, &m->nd, "the op's delta");
    if (causalRun && o->type != OP_CLEAR) {
        int want = specPresent(o->member, &R->known);
        CHECK(orsetContains(R->s, e, elen) == want, "after the op, present %d, specification %d", !want, want);
    }
}

/* Merge laws on states and deltas of this history, against oracle 2 too. */
static void checkMergeLaws(orset **pool, naive *npool, int npool_) {
    for (int t = 0; t < 12; t++) {
        int ia = (int)rngBelow((uint64_t)npool_), ib = (int)rngBelow((uint64_t)npool_), ic = (int)rngBelow((uint64_t)npool_);
        orset *a = pool[ia], *b = pool[ib], *c = pool[ic];
        orset *ab = orsetDup(a), *ba = orsetDup(b);
        orsetMerge(ab, b);
        orsetMerge(ba, a);
        CHECK(orsetEqual(ab, ba) && orsetDigest(ab) == orsetDigest(ba), "merge not commutative (%d, %d)", ia, ib);
        naive nab = npool[ia];
        naiveMerge(&nab, &npool[ib]);
        checkExact(ab, &nab, "a merge of two pool entries");

        orset *abc = orsetDup(ab), *bc = orsetDup(b), *a_bc = orsetDup(a);
        orsetMerge(abc, c);
        orsetMerge(bc, c);
        orsetMerge(a_bc, bc);
        CHECK(orsetEqual(abc, a_bc), "merge not associative (%d, %d, %d)", ia, ib, ic);

        orset *again = orsetDup(ab), *acopy = orsetDup(a);
        orsetMerge(again, acopy);
        orsetMerge(again, b);
        orsetMerge(again, again);
        CHECK(orsetEqual(again, ab), "merge not idempotent (%d, %d)", ia, ib);
        orsetMerge(acopy, a);
        CHECK(orsetEqual(acopy, a), "a merge with itself changed it (%d)", ia);

        /* A set that only ever merged (no local op) must merge into others
         * exactly as what it merged. */
        orset *viaFresh = orsetNew(), *x = orsetDup(b);
        orsetMerge(viaFresh, a);
        orsetMerge(x, viaFresh);
        CHECK(orsetEqual(x, ba), "merging through a fresh set differs (%d, %d)", ia, ib);
        orsetFree(viaFresh);
        orsetFree(x);
        orsetFree(ab); orsetFree(ba); orsetFree(abc); orsetFree(bc);
        orsetFree(a_bc); orsetFree(again); orsetFree(acopy);
    }
}

static void runHistory(long n, int causal) {
    startCase(n);
    causalRun = causal;
    nops = 0;
    for (int r = 0; r < NREP; r++) {
        nodeOf[r] = rng();
        for (int k = 0; k < r; k++)
            if (nodeOf[k] == nodeOf[r]) nodeOf[r]++;
        memset(&reps[r], 0, sizeof(reps[r]));
        reps[r].s = orsetNew();
    }
    int target = 4 + (int)rngBelow(56);
    while (nops < target) {
        int roll = (int)rngBelow(100);
        if (roll < 45) {
            runOp((int)rngBelow(NREP));
        } else if (roll < 92) {
            deliverSome((int)rngBelow(NREP), chance(15));
        } else {
            int from = (int)rngBelow(NREP), to = (int)((from + 1 + rngBelow(NREP - 1)) % NREP);
            shipState(from, to);
        }
        for (int r = 0; r < NREP; r++) {
            checkMembers(reps[r].s, &reps[r].n, "replica during the run");
            if (causal) checkSpec(reps[r].s, &reps[r].known, "replica during the run");
        }
        if (chance(10)) {
            int r = (int)rngBelow(NREP);
            checkExact(reps[r].s, &reps[r].n, "replica during the run");
        }
    }

    /* A pool of states and deltas of this history for the merge laws (taken
     * before the end, while replicas still differ). */
    orset *pool[NREP + MAXOPS];
    naive npool[NREP + MAXOPS];
    int np = 0;
    for (int r = 0; r < NREP; r++) {
        pool[np] = reps[r].s;
        npool[np++] = reps[r].n;
    }
    for (int i = 0; i < nops && np < NREP + 8; i++) {
        int k = (int)rngBelow((uint64_t)nops);
        pool[np] = msgs[k].delta;
        npool[np++] = msgs[k].nd;
    }
    orset *snap[NREP + 8];
    for (int i = 0; i < np; i++) pool[i] = snap[i] = orsetDup(pool[i]);
    checkMergeLaws(pool, npool, np);
    for (int i = 0; i < np; i++) orsetFree(snap[i]);

    /* Deliver everything everywhere. */
    for (;;) {
        int any = 0;
        for (int r = 0; r < NREP; r++)
            while (deliverSome(r, 0)) any = 1;
        if (!any) break;
    }
    bits all = {{0}};
    for (int i = 0; i < nops; i++) bset(&all, i);
    for (int r = 0; r < NREP; r++) {
        CHECK(bequal(&reps[r].known, &all), "replica %d did not receive every op", r);
        checkExact(reps[r].s, &reps[r].n, "replica at the end");
        if (causal) checkSpec(reps[r].s, &all, "replica at the end");
        checkIteration(reps[r].s);
        CHECK(orsetEqual(reps[r].s, reps[0].s), "replicas 0 and %d differ", r);
        CHECK(orsetDigest(reps[r].s) == orsetDigest(reps[0].s), "digests of replicas 0 and %d differ", r);
    }

    for (int r = 0; r < NREP; r++) orsetFree(reps[r].s);
    for (int i = 0; i < nops; i++) orsetFree(msgs[i].delta);
    nops = 0;
}

static void testCausalHistories(void **state) {
    for (long n = 1; n <= 2500; n++) runHistory(n, 1);
}

static void testAnyOrderHistories(void **state) {
    for (long n = 1; n <= 2500; n++) runHistory(100000 + n, 0);
}

/* ---------- fixed scenarios ---------- */

static void testAddWins(void **state) {
    startCase(0);
    orset *a = orsetNew(), *b = orsetNew();
    orset *d1 = orsetNew(), *d2 = orsetNew(), *d3 = orsetNew();
    CHECK(orsetAdd(a, 1, "x", 1, d1) == 1, "first add");
    orsetMerge(b, d1);
    CHECK(orsetContains(b, "x", 1), "delta carried x");
    /* Concurrently: a removes x, b re-adds it. */
    CHECK(orsetRemove(a, "x", 1, d2) == 1, "remove");
    CHECK(orsetAdd(b, 2, "x", 1, d3) == 0, "re-add of a present member returns 0");
    orsetMerge(a, d3);
    orsetMerge(b, d2);
    CHECK(orsetContains(a, "x", 1) && orsetContains(b, "x", 1), "the concurrent add must win");
    CHECK(orsetEqual(a, b), "converged");
    /* A remove that observed the re-add removes it everywhere. */
    orset *d4 = orsetNew();
    CHECK(orsetRemove(a, "x", 1, d4) == 1, "remove after observing");
    orsetMerge(b, d4);
    CHECK(!orsetContains(b, "x", 1) && orsetEqual(a, b), "observed remove");
    CHECK(orsetRemove(a, "x", 1, NULL) == 0, "remove of an absent member");
    orsetFree(a); orsetFree(b); orsetFree(d1); orsetFree(d2); orsetFree(d3); orsetFree(d4);
}

/* Concurrent adds give a member several dots (the extra-dots area), of
 * members of several lengths; one re-add folds them back to one. */
static void testConcurrentDots(void **state) {
    startCase(0);
    const char *names[] = {"", "m", "1234567", "12345678", "a longer member, over the inline thirty bytes"};
    for (int k = 0; k < 5; k++) {
        const char *m = names[k];
        size_t len = strlen(m);
        orset *r[5];
        orset *d[5];
        for (int i = 0; i < 5; i++) {
            r[i] = orsetNew();
            d[i] = orsetNew();
            orsetAdd(r[i], 100 + (uint64_t)i, m, len, d[i]);
        }
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++)
                if (i != j) orsetMerge(r[i], d[j]);
        for (int i = 1; i < 5; i++) CHECK(orsetEqual(r[0], r[i]), "concurrent adds, replica %d", i);
        size_t before = orsetMemory(r[0]);
        orset *dd = orsetNew();
        orsetAdd(r[0], 100, m, len, dd);
        CHECK(orsetMemory(r[0]) == before, "re-add reallocated");
        for (int i = 1; i < 5; i++) {
            orsetMerge(r[i], dd);
            CHECK(orsetEqual(r[0], r[i]), "re-add observed all five dots");
        }
        cbuf b;
        cbufInit(&b);
        orsetEncode(r[3], &b);
        CHECK(b.len < 60 + len, "encoding of one member with a 5-node context is %zu bytes", b.len);
        cbufFree(&b);
        for (int i = 0; i < 5; i++) {
            orsetFree(r[i]);
            orsetFree(d[i]);
        }
        orsetFree(dd);
    }
}

static uint64_t rngFn(void) { return rng(); }

/* The number of a "mem:<k>" member, -1 for any other (members are not NUL-terminated). */
static int memIndex(const char *m, size_t len) {
    char tmp[32];
    if (len < 5 || len >= sizeof(tmp) || memcmp(m, "mem:", 4) != 0) return -1;
    memcpy(tmp, m, len);
    tmp[len] = '\0';
    return atoi(tmp + 4);
}

static void scanCollect(const char *m, size_t len, void *ctx) {
    int k = memIndex(m, len);
    if (k >= 0) ((int *)ctx)[k]++;
}

/* Iteration, random picks and SSCAN while the set changes between calls;
 * digest and equality independent of insertion order and table layout. */
static void testIterationScanDigest(void **state) {
    for (long n = 1; n <= 30; n++) {
        startCase(n);
        int N = 1 + (int)rngBelow(3000);
        orset *a = orsetNew(), *b = orsetNew();
        char buf[32];
        for (int i = 0; i < N; i++) {
            int len = snprintf(buf, sizeof(buf), "mem:%d", i);
            orsetAdd(a, 7, buf, (size_t)len, NULL);
        }
        /* b: same logical state reached by merging a copy, so a fresh table. */
        orsetMerge(b, a);
        CHECK(orsetEqual(a, b) && orsetDigest(a) == orsetDigest(b), "merged copy differs");
        /* Digest depends on content. */
        orset *c = orsetDup(a);
        orsetRemove(c, "mem:0", 5, NULL);
        CHECK(orsetDigest(c) != orsetDigest(a) && !orsetEqual(a, c), "digest ignores a removal");
        orsetAdd(c, 7, "mem:0", 5, NULL);
        CHECK(!orsetEqual(a, c) && orsetDigest(c) != orsetDigest(a), "a re-add has a new dot");
        orsetFree(c);

        /* Iteration while lookups and random picks run on the same set. */
        int *seen = calloc((size_t)N, sizeof(int));
        orsetIter it;
        orsetIterInit(&it, a);
        const char *m;
        size_t len;
        size_t count = 0;
        while (orsetIterNext(&it, &m, &len)) {
            count++;
            int k = memIndex(m, len);
            CHECK(k >= 0 && k < N, "unexpected member");
            seen[k]++;
            CHECK(orsetContains(a, "mem:1", 5) == (N > 1), "contains during iteration");
            const char *rm;
            size_t rlen;
            CHECK(orsetRandom(a, rngFn, &rm, &rlen) && orsetContains(a, rm, rlen), "random during iteration");
        }
        CHECK(count == (size_t)N, "iterated %zu of %d", count, N);
        for (int i = 0; i < N; i++) CHECK(seen[i] == 1, "member %d iterated %d times", i, seen[i]);

        /* SSCAN: the set grows and shrinks between calls; members present
         * throughout are seen at least once. */
        memset(seen, 0, (size_t)N * sizeof(int));
        int *stable = calloc((size_t)N, sizeof(int));
        for (int i = 0; i < N; i++) stable[i] = 1;
        uint64_t cursor = 0;
        int extra = 0, calls = 0;
        do {
            cursor = orsetScan(a, cursor, scanCollect, seen);
            calls++;
            if (chance(30)) {
                int k = (int)rngBelow((uint64_t)N);
                int l = snprintf(buf, sizeof(buf), "mem:%d", k);
                orsetRemove(a, buf, (size_t)l, NULL);
                stable[k] = 0;
            }
            if (chance(30)) {
                int l = snprintf(buf, sizeof(buf), "new:%d", extra++);
                orsetAdd(a, 7, buf, (size_t)l, NULL);
            }
            CHECK(calls < 1000000, "scan does not end");
        } while (cursor != 0);
        for (int i = 0; i < N; i++) CHECK(!stable[i] || seen[i] >= 1, "SSCAN missed stable member %d", i);
        free(seen);
        free(stable);

        orset *empty = orsetNew();
        const char *rm;
        size_t rlen;
        CHECK(!orsetRandom(empty, rngFn, &rm, &rlen), "random of an empty set");
        CHECK(orsetScan(empty, 0, scanCollect, NULL) == 0, "scan of an empty set");
        orsetIterInit(&it, empty);
        CHECK(!orsetIterNext(&it, &m, &len), "iteration of an empty set");
        orsetFree(empty);
        orsetFree(a);
        orsetFree(b);
    }
}

/* ---------- encoding ---------- */

static orset *randomDelta(orset *s, uint64_t node) {
    orset *d = orsetNew();
    int roll = (int)rngBelow(10);
    char buf[16];
    int len = snprintf(buf, sizeof(buf), "k%d", (int)rngBelow(20));
    if (roll < 6) orsetAdd(s, node, buf, (size_t)len, d);
    else if (roll < 9) orsetRemove(s, buf, (size_t)len, d);
    else orsetClear(s, d);
    return d;
}

static void testEncoding(void **state) {
    for (long n = 1; n <= 600; n++) {
        startCase(n);
        /* A state with clouds and multi-dot members: three replicas,
         * deltas delivered out of order and partly. */
        orset *r[3] = {orsetNew(), orsetNew(), orsetNew()};
        int steps = (int)rngBelow(40);
        for (int i = 0; i < steps; i++) {
            int at = (int)rngBelow(3);
            orset *d = randomDelta(r[at], 1 + (uint64_t)at);
            if (chance(60)) orsetMerge(r[(at + 1) % 3], d);
            if (chance(30)) orsetMerge(r[(at + 2) % 3], d);
            orsetFree(d);
        }
        orset *subjects[4] = {r[0], r[1], r[2], NULL};
        orset *delta = randomDelta(r[0], 1);
        subjects[3] = delta;
        for (int k = 0; k < 4; k++) {
            cbuf b;
            cbufInit(&b);
            orsetEncode(subjects[k], &b);
            CHECK(b.len >= 1 && (unsigned char)b.p[0] == 1, "first byte is the format version");
            creader rd;
            creaderInit(&rd, b.p, b.len);
            orset *c = orsetDecode(&rd);
            CHECK(c && creaderDone(&rd) && orsetEqual(c, subjects[k]), "round trip");
            /* A decoded delta merges like the original. */
            orset *x = orsetDup(r[1]), *y = orsetDup(r[1]);
            orsetMerge(x, subjects[k]);
            orsetMerge(y, c);
            CHECK(orsetEqual(x, y), "decoded copy merges differently");
            orsetFree(x);
            orsetFree(y);
            orsetFree(c);
            for (size_t cut = 0; cut < b.len; cut++) {
                creaderInit(&rd, b.p, cut);
                orset *t = orsetDecode(&rd);
                CHECK(t == NULL, "accepted a prefix of %zu of %zu bytes", cut, b.len);
            }
            for (int f = 0; f < 30; f++) {
                char *bad = malloc(b.len);
                memcpy(bad, b.p, b.len);
                int flips = 1 + (int)rngBelow(3);
                for (int i = 0; i < flips; i++) bad[rngBelow(b.len)] ^= (char)(1 + rngBelow(255));
                creaderInit(&rd, bad, b.len);
                orset *t = orsetDecode(&rd);
                if (t) {   /* accepted: must be a usable set */
                    checkIteration(t);
                    orset *u = orsetDup(r[2]);
                    orsetMerge(u, t);
                    orsetMerge(t, r[2]);
                    cbuf b2;
                    cbufInit(&b2);
                    orsetEncode(t, &b2);
                    creader r2;
                    creaderInit(&r2, b2.p, b2.len);
                    orset *v = orsetDecode(&r2);
                    CHECK(v && orsetEqual(v, t), "a damaged-but-accepted set does not round trip");
                    orsetFree(v);
                    cbufFree(&b2);
                    orsetFree(u);
                    orsetFree(t);
                }
                free(bad);
            }
            cbufFree(&b);
        }
        for (int k = 0; k < 3; k++) orsetFree(r[k]);
        orsetFree(delta);
    }
    for (long n = 0; n < 30000; n++) {
        startCase(200000 + n);
        unsigned char buf[96];
        size_t len = rngBelow(sizeof(buf) + 1);
        for (size_t i = 0; i < len; i++) buf[i] = (unsigned char)(chance(50) ? rngBelow(4) : rng());
        if (len > 0) buf[0] = 1;
        if (len > 1) buf[1] = (unsigned char)rngBelow(3);
        creader rd;
        creaderInit(&rd, buf, len);
        orset *t = orsetDecode(&rd);
        if (t) checkIteration(t);
        orsetFree(t);
    }
    unsigned char wrongVersion[] = {2, 0, 0, 0, 0};
    creader rd;
    creaderInit(&rd, wrongVersion, sizeof(wrongVersion));
    CHECK(orsetDecode(&rd) == NULL, "accepted format version 2");
    /* a member listed twice is refused, in a small (packed) set and a large one */
    for (int size = 3; size <= 300; size += 297) {
        orset *s = orsetNew();
        char name[16];
        for (int i = 0; i < size; i++) orsetAdd(s, 1, name, (size_t)snprintf(name, sizeof(name), "dup%03d", i), NULL);
        cbuf b;
        cbufInit(&b);
        orsetEncode(s, &b);
        char *second = memmem(b.p, b.len, "dup001", 6);
        CHECK(second != NULL, "the encoding holds the names");
        creaderInit(&rd, b.p, b.len);
        orset *ok = orsetDecode(&rd);
        CHECK(ok && orsetEqual(ok, s), "a %d-member set round trips", size);
        orsetFree(ok);
        if (second) memcpy(second, "dup000", 6);
        creaderInit(&rd, b.p, b.len);
        CHECK(orsetDecode(&rd) == NULL, "accepted a %d-member set listing a member twice", size);
        cbufFree(&b);
        orsetFree(s);
    }
}

/* Deltas merged into a group before shipping: a group that removed more
 * names than a delta keeps (OS_REMOVED_MAX) must still remove them all, and
 * a group holding a clear must act as one. */
static void testDeltaGroups(void **state) {
    for (long n = 1; n <= 40; n++) {
        startCase(n);
        orset *a = orsetNew(), *b;
        char buf[32];
        int N = 50 + (int)rngBelow(300);
        for (int i = 0; i < N; i++) orsetAdd(a, 1, buf, (size_t)snprintf(buf, sizeof(buf), "g%d", i), NULL);
        b = orsetDup(a);
        orset *group = orsetNew();
        int ops = 1 + (int)rngBelow(200);
        for (int i = 0; i < ops; i++) {
            orset *d = orsetNew();
            int len = snprintf(buf, sizeof(buf), "g%d", (int)rngBelow((uint64_t)N + 20));
            int roll = (int)rngBelow(100);
            if (roll < 70) orsetRemove(a, buf, (size_t)len, d);
            else if (roll < 99) orsetAdd(a, 1, buf, (size_t)len, d);
            else orsetClear(a, d);
            orsetMerge(group, d);
            orsetFree(d);
        }
        orset *wire = maybeRoundTrip(group);
        orsetMerge(b, wire);
        CHECK(orsetEqual(a, b), "a group of %d deltas did not reproduce the state", ops);
        orsetFree(wire);
        orsetFree(group);
        orsetFree(a);
        orsetFree(b);
    }
}

/* ---------- the packed form of small sets ---------- */

/* What a packed set may take: the set itself and its context, a node table,
 * and per member its bytes plus a length byte, a node byte and a varint
 * counter (two bytes here), rounded up to malloc's 16. */
static size_t packedBound(const orset *s, size_t memberBytes, size_t nodes) {
    const ccontext *cc = orsetContext(s);
    return 64 + ((size_t)cc->capvv + cc->capcloud) * sizeof(dot) + 1 + 8 * nodes + memberBytes + 4 * orsetCard(s) + 16;
}

static void checkSame(const orset *a, const orset *b, const char *what) {
    CHECK(orsetEqual(a, b) && orsetEqual(b, a), "%s: states differ", what);
    CHECK(orsetDigest(a) == orsetDigest(b), "%s: digests differ", what);
    CHECK(orsetCard(a) == orsetCard(b), "%s: cards differ", what);
    checkIteration(a);
    orsetIter it;
    orsetIterInit(&it, a);
    const char *m;
    size_t len, n = 0;
    while (orsetIterNext(&it, &m, &len)) {
        n++;
        CHECK(orsetContains(b, m, len), "%s: a member of one is missing from the other", what);
    }
    CHECK(n == orsetCard(a), "%s: iterated %zu of %zu", what, n, orsetCard(a));
}

/* a grows past the packed form in one of four ways (member count, a long
 * member, a 17th node, concurrent dots of one member), then lives on with
 * adds and removes from several nodes.  Each op's delta also reaches b (which
 * so changes form at its own moments) and twin, a copy of a re-made now and
 * then through encode/decode (so often packed while a is a dict): every merge
 * mixes forms, and all three must stay equal. */
static void testPackedGrowth(void **state) {
    for (long n = 1; n <= 200; n++) {
        startCase(n);
        int how = (int)(n % 4);
        orset *a = orsetNew(), *b = orsetNew(), *twin = orsetNew();
        orset *peers[20];
        for (int i = 0; i < 20; i++) peers[i] = orsetNew();
        char buf[96];
        size_t bytes = 0;
        int steps = 150 + (int)rngBelow(250);
        for (int step = 0; step < steps; step++) {
            orset *d = orsetNew();
            int roll = (int)rngBelow(100);
            int len;
            if (step < 140) {   /* the growth, one way */
                len = snprintf(buf, sizeof(buf), "p:%d", step);
                if (how == 0) {
                    bytes += (size_t)len;
                    orsetAdd(a, 1, buf, (size_t)len, d);
                } else if (how == 1 && step == 60) {
                    memset(buf, 'L', 65);
                    orsetAdd(a, 1, buf, 65, d);
                } else if (how == 2 && step < 20) {
                    orsetAdd(peers[step], 1000 + (uint64_t)step, buf, (size_t)len, d);
                    orsetMerge(a, d);
                } else if (how == 3 && step == 30) {
                    orset *d2 = orsetNew();
                    orsetAdd(peers[0], 500, "twice", 5, d);
                    orsetAdd(peers[1], 501, "twice", 5, d2);
                    orsetMerge(a, d2);
                    orsetMerge(b, d2);
                    orsetMerge(twin, d2);
                    orsetFree(d2);
                    orsetMerge(a, d);
                } else if (step < 50) {
                    bytes += (size_t)len;
                    orsetAdd(a, 1, buf, (size_t)len, d);
                }
            } else {            /* life after it */
                len = snprintf(buf, sizeof(buf), "p:%d", (int)rngBelow(160));
                int peer = (int)rngBelow(4);
                if (roll < 40) {
                    orsetAdd(a, 1, buf, (size_t)len, d);
                } else if (roll < 80) {
                    orsetRemove(a, buf, (size_t)len, d);
                } else if (roll < 95) {
                    orsetMerge(peers[peer], a);
                    orsetAdd(peers[peer], 2000 + (uint64_t)peer, buf, (size_t)len, d);
                    orsetMerge(a, d);
                } else {
                    const char *m;
                    size_t ml;
                    if (orsetRandom(a, rngFn, &m, &ml)) orsetRemove(a, m, ml, d);   /* m points into a */
                }
            }
            orsetMerge(b, d);
            orsetMerge(twin, d);
            orsetFree(d);
            if (how == 0 && step < 140) {
                size_t mem = orsetMemory(a), bound = packedBound(a, bytes, 1);
                if (orsetCard(a) <= 128) CHECK(mem <= bound, "%zu members: %zu bytes, over %zu", orsetCard(a), mem, bound);
                else CHECK(mem > bound + 20 * orsetCard(a), "%zu members, still %zu bytes", orsetCard(a), mem);
            }
            if (chance(10)) checkSame(a, b, "a and the set of its deltas");
            if (chance(10)) checkSame(a, twin, "a and its re-made copy");
            if (chance(5)) {
                orsetFree(twin);
                twin = roundTrip(a);
                checkSame(a, twin, "a and its decoded copy");
            }
            if (chance(3)) {   /* a full state merged both ways */
                orset *x = orsetDup(b), *y = orsetDup(twin);
                orsetMerge(x, twin);
                orsetMerge(y, b);
                checkSame(x, y, "full states merged both ways");
                checkSame(x, a, "a merged with its equals");
                orsetFree(x);
                orsetFree(y);
            }
        }
        checkSame(a, b, "a and the set of its deltas, at the end");
        checkSame(a, twin, "a and its re-made copy, at the end");
        orset *fresh = orsetNew();
        orsetMerge(fresh, twin);
        checkSame(a, fresh, "a fresh set merged with the copy");
        orsetFree(fresh);
        /* A clear empties into the packed form again. */
        orset *d = orsetNew();
        orsetClear(a, d);
        orsetMerge(b, d);
        orsetFree(d);
        checkSame(a, b, "after a clear");
        orsetAdd(a, 1, "again", 5, NULL);
        CHECK(orsetMemory(a) <= packedBound(a, 5, 1), "a cleared set is not packed: %zu bytes", orsetMemory(a));
        orsetFree(a);
        orsetFree(b);
        orsetFree(twin);
        for (int i = 0; i < 20; i++) orsetFree(peers[i]);
    }
}

/* Ops whose member points into the set itself (SPOP removes what
 * orsetRandom returned; a re-add of an iterated member from a 17th node moves
 * the set to the dict form under that pointer). */
static void testPackedSelfPointers(void **state) {
    startCase(0);
    orset *a = orsetNew(), *b = orsetNew();
    char buf[16];
    for (int i = 0; i < 16; i++) {
        orset *d = orsetNew();
        orsetAdd(a, 300 + (uint64_t)i, buf, (size_t)snprintf(buf, sizeof(buf), "node%d", i), d);
        orsetMerge(b, d);
        orsetFree(d);
    }
    orsetIter it;
    const char *m;
    size_t len;
    orsetIterInit(&it, a);
    CHECK(orsetIterNext(&it, &m, &len), "iterate");
    orset *d = orsetNew();
    CHECK(orsetAdd(a, 999, m, len, d) == 0, "a re-add of an iterated member");
    orsetMerge(b, d);
    orsetFree(d);
    checkSame(a, b, "after the re-add from a 17th node");
    while (orsetCard(a) > 0) {
        CHECK(orsetRandom(a, rngFn, &m, &len), "random");
        d = orsetNew();
        CHECK(orsetRemove(a, m, len, d) == 1, "remove of a random member");
        orsetMerge(b, d);
        orsetFree(d);
        checkSame(a, b, "after a random removal");
    }
    orsetFree(a);
    orsetFree(b);
}

/* A packed set's random picks are uniform (Redis's SRANDMEMBER histogram
 * tests), and SSCAN visits it all in one call. */
static void testPackedRandomScan(void **state) {
    startCase(0);
    enum { N = 20, DRAWS = 200000 };
    orset *a = orsetNew();
    char buf[16];
    for (int i = 0; i < N; i++) orsetAdd(a, 5, buf, (size_t)snprintf(buf, sizeof(buf), "mem:%d", i), NULL);
    int hist[N] = {0};
    for (int i = 0; i < DRAWS; i++) {
        const char *m;
        size_t len;
        CHECK(orsetRandom(a, rngFn, &m, &len), "random");
        int k = memIndex(m, len);
        CHECK(k >= 0 && k < N, "random gave a stranger");
        hist[k]++;
    }
    for (int i = 0; i < N; i++)
        CHECK(hist[i] > DRAWS / N * 9 / 10 && hist[i] < DRAWS / N * 11 / 10, "member %d drawn %d times", i, hist[i]);
    int seen[N] = {0};
    CHECK(orsetScan(a, 0, scanCollect, seen) == 0, "a packed set scans in one call");
    for (int i = 0; i < N; i++) CHECK(seen[i] == 1, "scan saw member %d %d times", i, seen[i]);
    orsetFree(a);
}

/* ---------- a large set ---------- */

static void testLargeSet(void **state) {
    startCase(0);
    enum { N = 100000 };
    orset *a = orsetNew();
    char buf[32];
    size_t bytes = 0;
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof(buf), "member:%d", i);
        bytes += (size_t)len;
        CHECK(orsetAdd(a, 11, buf, (size_t)len, NULL) == 1, "add %d", i);
    }
    size_t mem = orsetMemory(a);
    double perMember = (double)(mem - bytes) / N;
    printf("    %d members of %.1f bytes on average: %zu bytes, %.1f bytes per member beyond its bytes\n", N,
           (double)bytes / N, mem, perMember);
    CHECK(perMember <= 28 + 8 * 2 + 1, "%.1f bytes per member", perMember);
    /* Re-adding every member mints new dots and allocates nothing. */
    for (int i = 0; i < N; i++) {
        int len = snprintf(buf, sizeof(buf), "member:%d", i);
        CHECK(orsetAdd(a, 11, buf, (size_t)len, NULL) == 0, "re-add %d", i);
    }
    CHECK(orsetMemory(a) == mem, "re-adds grew the set");
    CHECK(orsetContext(a)->nvv == 1 && orsetContext(a)->vv[0].counter == 2 * N && orsetContext(a)->ncloud == 0,
          "a local context stays one vector entry");
    /* Deltas of SREM and SADD from another replica, applied to the large set. */
    orset *b = orsetDup(a);
    for (int i = 0; i < 2000; i++) {
        orset *d = orsetNew();
        int len = snprintf(buf, sizeof(buf), "member:%d", (int)rngBelow(N));
        if (i % 2) orsetRemove(b, buf, (size_t)len, d);
        else orsetAdd(b, 12, buf, (size_t)len, d);
        orsetMerge(a, d);
        orsetFree(d);
    }
    CHECK(orsetEqual(a, b), "deltas applied to the large set");
    orsetFree(a);
    orsetFree(b);
}

/* One delta accumulating a batch of operations (the peer stream passes the
 * same delta to every operation on a key in one loop iteration): merged into
 * a replica that held the state before the batch - and into one that also
 * holds a concurrent add - it gives exactly the state after the batch. */
static void testAccumulatedDelta(void **state) {
    (void)state;
    for (long n = 1; n <= 200; n++) {
        startCase(n);
        orset *s = orsetNew();
        char buf[32];
        /* half the cases past the packed form, where a long delta merges
         * with lookahead */
        int range = chance(50) ? 60 : 400, base = (int)rngBelow(range == 60 ? 200 : 600);
        for (int i = 0; i < base; i++) orsetAdd(s, 1, buf, (size_t)snprintf(buf, sizeof(buf), "m%d", (int)rngBelow(range)), NULL);
        orset *before = orsetDup(s), *other = orsetDup(s);
        orsetAdd(other, 2, "concurrent", 10, NULL);
        orset *acc = orsetNew();
        int ops = 1 + (int)rngBelow(100);
        for (int i = 0; i < ops; i++) {
            size_t len = (size_t)snprintf(buf, sizeof(buf), "m%d", (int)rngBelow(range));
            int r = (int)rngBelow(100);
            if (r < 55) orsetAdd(s, 1, buf, len, acc);
            else if (r < 97) orsetRemove(s, buf, len, acc);
            else orsetClear(s, acc);
        }
        orsetMerge(before, acc);
        assert_true(orsetEqual(before, s));
        orsetMerge(other, acc);
        assert_true(orsetContains(other, "concurrent", 10));
        assert_int_equal(orsetCard(other), orsetCard(s) + 1);
        orsetFree(s);
        orsetFree(before);
        orsetFree(other);
        orsetFree(acc);
    }
}

/* A new incarnation starts its dots past a floor: merged with a stale copy of
 * the old incarnation (whose tombstone is gone), it removes what its node had
 * added there, keeps what other nodes added unseen, and never collides. */
static void testIncarnationFloor(void **state) {
    (void)state;
    orset *old = orsetNew();
    orsetAdd(old, 1, "x", 1, NULL);            /* dot (1,1) */
    orsetAdd(old, 2, "w", 1, NULL);            /* another node's add, never seen by the new one */
    orset *fresh = orsetNew();
    orsetObserveUpTo(fresh, 1, 1000);
    orsetAdd(fresh, 1, "y", 1, NULL);          /* dot (1,1001), not (1,1) */
    assert_int_equal(ccMax(orsetContext(fresh), 1), 1001);
    orset *a = orsetDup(fresh), *b = orsetDup(old);
    orsetMerge(a, old);
    orsetMerge(b, fresh);
    assert_true(orsetEqual(a, b));
    assert_true(orsetContains(a, "y", 1));
    assert_true(orsetContains(a, "w", 1));
    assert_false(orsetContains(a, "x", 1));
    assert_int_equal(orsetCard(a), 2);
    orsetFree(old);
    orsetFree(fresh);
    orsetFree(a);
    orsetFree(b);
}

/* The member-digest sum a large set keeps once its digest was asked for
 * matches a recomputation (orsetDup starts without it) through local adds
 * and removes, concurrent adds on a second node (members with two dots),
 * delta and full-state merges both ways, and clears. */
static void testKeptDigest(void **state) {
    (void)state;
    for (long n = 1; n <= 40; n++) {
        startCase(n);
        orset *s[2] = {orsetNew(), orsetNew()};
        char buf[16];
        for (int i = 0; i < 300; i++) {
            size_t len = (size_t)snprintf(buf, sizeof(buf), "m%d", i);
            orsetAdd(s[0], 1, buf, len, NULL);
        }
        orsetMerge(s[1], s[0]);
        orsetDigest(s[0]);
        orsetDigest(s[1]);
        for (int step = 0; step < 300; step++) {
            int at = (int)rngBelow(2), roll = (int)rngBelow(100);
            orset *d = orsetNewDelta();
            int ops = 1 + (int)rngBelow(20);
            for (int o = 0; o < ops; o++) {
                size_t len = (size_t)snprintf(buf, sizeof(buf), "m%d", (int)rngBelow(400));
                if (roll < 1) orsetClear(s[at], d);
                else if (rngBelow(100) < 60) orsetAdd(s[at], 1 + (uint64_t)at, buf, len, d);
                else orsetRemove(s[at], buf, len, d);
            }
            if (chance(50)) orsetMerge(s[1 - at], chance(10) ? s[at] : d);
            orsetFree(d);
            for (int r = 0; r < 2; r++) {
                orset *fresh = orsetDup(s[r]);
                CHECK(orsetDigest(s[r]) == orsetDigest(fresh), "step %d: replica %d's kept digest is stale", step, r);
                orsetFree(fresh);
            }
        }
        orsetMerge(s[0], s[1]);
        orsetMerge(s[1], s[0]);
        CHECK(orsetEqual(s[0], s[1]) && orsetDigest(s[0]) == orsetDigest(s[1]), "converged replicas differ");
        orsetFree(s[0]);
        orsetFree(s[1]);
    }
}

/* A set decoded from a hand-written encoding: a context of node 7 up to 5,
 * and n members each with one dot of node 7. */
static orset *handSet(int touchedOnly, const char *const *names, const uint64_t *counters, int n) {
    cbuf b;
    cbufInit(&b);
    cbufPutByte(&b, 1);
    cbufPutByte(&b, (uint8_t)touchedOnly);
    ccontext cc;
    ccInit(&cc);
    ccObserveUpTo(&cc, 7, 5);
    ccEncode(&cc, &b);
    ccFree(&cc);
    cbufPutVarint(&b, (uint64_t)n);
    for (int i = 0; i < n; i++) {
        cbufPutBytes(&b, names[i], strlen(names[i]));
        cbufPutVarint(&b, 1);
        cbufPutVarint(&b, 0);   /* node 7's index */
        cbufPutVarint(&b, counters[i]);
    }
    if (touchedOnly) cbufPutVarint(&b, 0);
    creader r;
    creaderInit(&r, b.p, b.len);
    orset *s = orsetDecode(&r);
    CHECK(s != NULL && creaderDone(&r), "a hand-written encoding refused");
    cbufFree(&b);
    return s;
}

/* A delta merged into a packed set visits what it would in the dict form:
 * a member the delta does not list keeps its dots, even when the delta's
 * context has seen them (which an honest delta's never has).  The packed
 * merge joined every member against the context, so its result depended on
 * the form, and merging the same delta twice could change the set
 * (tests/fuzz/crashes/crdt/orset-packed-merge-*). */
static void testPackedMergeVisitsListedOnly(void **state) {
    startCase(0);
    const char *names[] = {"x", "y"};
    const uint64_t counters[] = {1, 3};
    orset *packed = handSet(0, names, counters, 2);
    orset *dict = orsetNewDelta();    /* the dict form, from the start */
    orsetMerge(dict, packed);
    orset *delta = handSet(1, names + 1, counters + 1, 1);   /* lists y alone, has seen x's dot */
    orsetMerge(packed, delta);
    orsetMerge(dict, delta);
    CHECK(orsetContains(packed, "x", 1) && orsetContains(dict, "x", 1), "an unlisted member dropped");
    CHECK(orsetEqual(packed, dict) && orsetDigest(packed) == orsetDigest(dict), "the forms merged differently");
    orset *again = orsetDup(packed);
    orsetMerge(again, delta);
    CHECK(orsetEqual(again, packed), "the same delta merged twice changed the set");
    orsetFree(again);
    orsetFree(delta);
    orsetFree(dict);
    orsetFree(packed);
}

int main(void) {
    const char *env = getenv("CRDT_SEED");
    seed = env ? strtoull(env, NULL, 10) : (uint64_t)time(NULL);
    printf("test_crdt_orset: CRDT_SEED=%" PRIu64 "\n", seed);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(testAddWins),
        cmocka_unit_test(testConcurrentDots),
        cmocka_unit_test(testCausalHistories),
        cmocka_unit_test(testAnyOrderHistories),
        cmocka_unit_test(testDeltaGroups),
        cmocka_unit_test(testAccumulatedDelta),
        cmocka_unit_test(testIncarnationFloor),
        cmocka_unit_test(testIterationScanDigest),
        cmocka_unit_test(testEncoding),
        cmocka_unit_test(testPackedGrowth),
        cmocka_unit_test(testPackedSelfPointers),
        cmocka_unit_test(testPackedRandomScan),
        cmocka_unit_test(testPackedMergeVisitsListedOnly),
        cmocka_unit_test(testLargeSet),
        cmocka_unit_test(testKeptDigest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
