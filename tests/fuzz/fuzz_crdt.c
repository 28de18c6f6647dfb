/* fuzz_crdt.c - libFuzzer target for the CRDT decoders, the code that reads
 * bytes from peers: regDecode, orsetDecode, ormapDecode and ccDecode.
 *
 * Input layout:
 *   byte 0    the type: 0 reg, 1 orset, 2 ormap, 3 causal context (mod 4)
 *   the rest  values A, B and C, each decoded from the bytes the one before
 *             left (B and C may be missing)
 *
 * Whatever decodes must be a value the module can live with:
 *   - its invariants hold (canonical context, sorted totals, iteration agrees
 *     with the count and lookups, the numeric views agree with the text);
 *   - it round trips: its encoding decodes, whole, to an equal value with the
 *     same digest, whose encoding has the same bytes (reg, context: their
 *     encodings are canonical) or the same length (orset, ormap: members go
 *     out in table order, which depends on the insertion history); no strict
 *     prefix of the encoding decodes;
 *   - merges: A into B and B into A give values that round trip, equal ones
 *     when both are full states (a touchedOnly delta only promises what its
 *     context covers); merging B again, or A into a copy of A, changes
 *     nothing; with C too, the grouping does not matter when all three are
 *     full states; a digest kept across a merge matches a fresh one;
 *   - local commands run on A (as when a node writes a key a peer sent it,
 *     at a node A's context already knows) keep all of the above (no round
 *     trip if A puts that node's counters ahead of its clock), and each one's
 *     delta merged into A as it was gives A as it became.
 * A refused input leaves a reg untouched and a context empty.  Nothing leaks. */
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt_codec.h"
#include "crdt_dots.h"
#include "crdt_ormap.h"
#include "crdt_orset.h"
#include "crdt_reg.h"
#include "hlc.h"
#include "util.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define DIGEST_SEED 0x66757a7aULL
#define REG_VALUE_BUF 5200   /* what regValue and ormapGet need */
#define LOCAL_NODE 0x5eed5eed5eed5eedULL       /* runs the local commands... */
#define LOCAL_STAMP hlcMake(1ULL << 42, 7)     /* ...at this HLC stamp (year 2109) */
#define LOCAL_OPS 6

#define CHECK(cond, ...)                                                                         \
    do {                                                                                         \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "fuzz_crdt: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                             \
        }                                                                                        \
    } while (0)

#include "../unit/reg_invariants.h"

/* One type's API behind void pointers. */
typedef struct typeOps {
    const char *name;
    void *(*decode)(creader *r);                       /* NULL if refused */
    void (*encode)(const void *v, cbuf *b);
    uint64_t (*digest)(const void *v);
    int (*equal)(const void *a, const void *b);
    void *(*dup)(const void *v);
    void (*merge)(void *v, const void *other);
    void (*check)(const void *v);
    int (*fullState)(const void *v);                   /* merges of two commute */
    int canonical;                                     /* equal values encode alike */
    void (*free)(void *v);
    /* Local command number op (0..LOCAL_OPS-1) at node; 0 if it does not
     * apply to v.  *delta gets its delta, or stays NULL if it has none. */
    int (*local)(void *v, int op, uint64_t node, void **delta);
    uint64_t (*localNode)(const void *v);
    uint64_t (*localCounter)(const void *v, uint64_t node);   /* node's highest counter or seq in v */
} typeOps;

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (!p) abort();
    return p;
}

/* ---------- causal contexts ---------- */

/* crdt_dots.c's canonical form. */
static void ccCheck(const ccontext *c) {
    for (uint32_t i = 0; i < c->nvv; i++) {
        CHECK(c->vv[i].counter >= 1);
        if (i) CHECK(c->vv[i - 1].node < c->vv[i].node);
        CHECK(ccContains(c, c->vv[i]));
        CHECK(ccMax(c, c->vv[i].node) >= c->vv[i].counter);
    }
    uint32_t v = 0;
    for (uint32_t i = 0; i < c->ncloud; i++) {
        dot d = c->cloud[i];
        CHECK(d.counter >= 1);
        if (i) CHECK(dotCmp(c->cloud[i - 1], d) < 0);
        while (v < c->nvv && c->vv[v].node < d.node) v++;
        uint64_t top = v < c->nvv && c->vv[v].node == d.node ? c->vv[v].counter : 0;
        CHECK(d.counter > top && d.counter - top >= 2);   /* neither covered nor contiguous */
        CHECK(ccContains(c, d));
        CHECK(ccMax(c, d.node) >= d.counter);
    }
    uint32_t nn;
    uint64_t *nodes = ccNodes(c, &nn);
    for (uint32_t i = 1; i < nn; i++) CHECK(nodes[i - 1] < nodes[i]);
    free(nodes);
}

static void *ccDecodeV(creader *r) {
    ccontext *c = xmalloc(sizeof(*c));
    ccInit(c);
    if (ccDecode(c, r) == 0) return c;
    CHECK(ccIsEmpty(c));   /* a refused input leaves the context empty */
    ccFree(c);
    free(c);
    return NULL;
}
static void ccEncodeV(const void *v, cbuf *b) { ccEncode(v, b); }
static uint64_t ccDigestV(const void *v) { return ccDigest(v, DIGEST_SEED); }
static int ccEqualV(const void *a, const void *b) { return ccEqual(a, b); }
static void *ccDupV(const void *v) {
    ccontext *c = xmalloc(sizeof(*c));
    ccInit(c);
    ccCopy(c, v);
    return c;
}
static void ccMergeV(void *v, const void *o) { ccMerge(v, o); }
static void ccCheckV(const void *v) { ccCheck(v); }
static int alwaysFull(const void *v) { return 1; }
static void ccFreeV(void *v) {
    ccFree(v);
    free(v);
}

/* A node the context knows, if any: its counters meet local ones. */
static uint64_t ccLocalNode(const ccontext *c) {
    if (c->nvv) return c->vv[c->nvv - 1].node;
    if (c->ncloud) return c->cloud[c->ncloud - 1].node;
    return LOCAL_NODE;
}
static uint64_t ccLocalNodeV(const void *v) { return ccLocalNode(v); }
static uint64_t ccLocalCounterV(const void *v, uint64_t node) { return ccMax(v, node); }

static int ccLocalV(void *v, int op, uint64_t node, void **delta) {
    ccontext *c = v;
    switch (op) {
    case 0: {
        uint64_t max = ccMax(c, node);
        dot d = ccNextDot(c, node);
        CHECK(d.node == node && d.counter == max + 1 && ccContains(c, d));
        return 1;
    }
    case 1:
        ccObserveUpTo(c, node, LOCAL_STAMP);
        CHECK(ccMax(c, node) >= LOCAL_STAMP);
        return 1;
    default:
        return 0;
    }
}

/* ---------- registers ---------- */

/* reg_invariants.h, and regAssign giving an equal register. */
static void regCheck(const reg *r) {
    regCheckInvariants(r);
    reg copy;
    regInit(&copy);
    regSet(&copy, (version){1, 1}, "x", 1, NULL);
    regAssign(&copy, r);
    CHECK(regEqual(&copy, r) && regDigest(&copy, DIGEST_SEED) == regDigest(r, DIGEST_SEED));
    regFree(&copy);
}

static void *regDecodeV(creader *rd) {
    /* Decoded over a register that holds something: a refused input must
     * leave it as it was. */
    reg *r = xmalloc(sizeof(*r)), before;
    regInit(r);
    regInit(&before);
    regSet(r, (version){7, 7}, "sentinel", 8, NULL);
    regIncrBy(r, 3, 5, NULL);
    regCopy(&before, r);
    if (regDecode(r, rd) == 0) {
        regFree(&before);
        return r;
    }
    CHECK(regEqual(r, &before));
    regFree(&before);
    regFree(r);
    free(r);
    return NULL;
}
static void regEncodeV(const void *v, cbuf *b) { regEncode(v, b); }
static uint64_t regDigestV(const void *v) { return regDigest(v, DIGEST_SEED); }
static int regEqualV(const void *a, const void *b) { return regEqual(a, b); }
static void *regDupV(const void *v) {
    reg *r = xmalloc(sizeof(*r));
    regCopy(r, v);
    return r;
}
static void regMergeV(void *v, const void *o) { regMerge(v, o); }
static void regCheckV(const void *v) { regCheck(v); }
static void regFreeV(void *v) {
    regFree(v);
    free(v);
}

static uint64_t regLocalNodeV(const void *v) {
    const reg *r = v;
    return r->ntot ? r->tot[r->ntot - 1].node : LOCAL_NODE;
}
static uint64_t regLocalCounterV(const void *v, uint64_t node) {
    const reg *r = v;
    for (uint32_t i = 0; i < r->ntot; i++)
        if (r->tot[i].node == node) return r->tot[i].seq;
    return 0;
}

/* INCRBY, INCRBYFLOAT, SET, DEL, with t_string.c's checks first. */
static int regLocalV(void *v, int op, uint64_t node, void **delta) {
    reg *r = v, *d = xmalloc(sizeof(*d));
    regInit(d);
    version ver = {LOCAL_STAMP + (uint64_t)op, node};
    long long iv;
    long double fv;
    switch (op) {
    case 0:
        if (!regIntValue(r, &iv) || iv == LLONG_MAX) goto skip;
        regIncrBy(r, node, 1, d);
        break;
    case 1:
        if (!regFloatValue(r, &fv) || !isfinite(fv + 0.5L)) goto skip;
        regIncrByFloat(r, node, 0.5L, d);
        break;
    case 2:
        regSet(r, ver, "v", 1, d);
        break;
    case 3:
        regDelete(r, ver, d);
        break;
    default:
        goto skip;
    }
    *delta = d;
    return 1;
skip:
    regFree(d);
    free(d);
    return 0;
}

/* ---------- orsets ---------- */

static void countVisit(const char *m, size_t len, void *ctx) { (*(size_t *)ctx)++; }

static void orsetCheck(const orset *s) {
    ccCheck(orsetContext(s));
    size_t n = 0;
    orsetIter it;
    orsetIterInit(&it, s);
    const char *m;
    size_t len;
    while (orsetIterNext(&it, &m, &len)) {
        n++;
        CHECK(orsetContains(s, m, len));
    }
    CHECK(n == orsetCard(s));
    size_t visits = 0;
    uint64_t cursor = 0;
    do {
        cursor = orsetScan(s, cursor, countVisit, &visits);
    } while (cursor != 0);
    CHECK(visits >= n);
    CHECK(orsetMemory(s) > 0);
}

/* The flags byte of the encoding says whether s is a touchedOnly delta. */
static int orsetFull(const void *v) {
    cbuf b;
    cbufInit(&b);
    orsetEncode(v, &b);
    int full = b.len >= 2 && b.p[1] == 0;
    cbufFree(&b);
    return full;
}

static void *orsetDecodeV(creader *r) { return orsetDecode(r); }
static void orsetEncodeV(const void *v, cbuf *b) { orsetEncode(v, b); }
static uint64_t orsetDigestV(const void *v) { return orsetDigest(v); }
static int orsetEqualV(const void *a, const void *b) { return orsetEqual(a, b); }
static void *orsetDupV(const void *v) { return orsetDup(v); }
static void orsetMergeV(void *v, const void *o) { orsetMerge(v, o); }
static void orsetCheckV(const void *v) { orsetCheck(v); }
static void orsetFreeV(void *v) { orsetFree(v); }

static uint64_t orsetLocalNodeV(const void *v) { return ccLocalNode(orsetContext(v)); }
static uint64_t orsetLocalCounterV(const void *v, uint64_t node) { return ccMax(orsetContext(v), node); }

/* SADD of a new and of an existing member, SREM, DEL.  The member names
 * point into the set itself, as a command's arguments never do: the API
 * allows it. */
static int orsetLocalV(void *v, int op, uint64_t node, void **delta) {
    orset *s = v, *d = orsetNew();
    orsetIter it;
    orsetIterInit(&it, s);
    const char *m = "a";
    size_t len = 1;
    int has = orsetIterNext(&it, &m, &len);
    switch (op) {
    case 0:
        if (orsetContains(s, "a", 1)) goto skip;
        CHECK(orsetAdd(s, node, "a", 1, d) == 1);
        break;
    case 1:
        if (!has) goto skip;
        CHECK(orsetAdd(s, node, m, len, d) == 0);
        break;
    case 2:
        if (!has) goto skip;
        CHECK(orsetRemove(s, m, len, d) == 1);
        break;
    case 3:
        orsetClear(s, d);
        CHECK(orsetCard(s) == 0);
        break;
    default:
        goto skip;
    }
    *delta = d;
    return 1;
skip:
    orsetFree(d);
    return 0;
}

/* ---------- ormaps ---------- */

static void ormapCheck(const ormap *m) {
    ccCheck(ormapContext(m));
    static char buf[REG_VALUE_BUF];
    size_t n = 0;
    ormapIter it;
    ormapIterInit(&it, m);
    const char *f;
    size_t flen;
    while (ormapIterNext(&it, &f, &flen)) {
        n++;
        CHECK(ormapExists(m, f, flen));
        size_t vlen = 0;
        const char *v = ormapGet(m, f, flen, buf, &vlen);
        CHECK(v != NULL || vlen == 0);
        reg r;
        regInit(&r);
        CHECK(ormapFieldReg(m, f, flen, &r));
        regCheck(&r);
        regFree(&r);
    }
    CHECK(n == ormapLen(m));
    size_t visits = 0;
    uint64_t cursor = 0;
    do {
        cursor = ormapScan(m, cursor, countVisit, &visits);
    } while (cursor != 0);
    CHECK(visits >= n);
    CHECK(ormapMemory(m) > 0);
}

static int ormapFull(const void *v) {
    cbuf b;
    cbufInit(&b);
    ormapEncode(v, &b);
    int full = b.len >= 2 && b.p[1] == 0;
    cbufFree(&b);
    return full;
}

static void *ormapDecodeV(creader *r) { return ormapDecode(r); }
static void ormapEncodeV(const void *v, cbuf *b) { ormapEncode(v, b); }
static uint64_t ormapDigestV(const void *v) { return ormapDigest(v); }
static int ormapEqualV(const void *a, const void *b) { return ormapEqual(a, b); }
static void *ormapDupV(const void *v) { return ormapDup(v); }
static void ormapMergeV(void *v, const void *o) { ormapMerge(v, o); }
static void ormapCheckV(const void *v) { ormapCheck(v); }
static void ormapFreeV(void *v) { ormapFree(v); }

static uint64_t ormapLocalNodeV(const void *v) { return ccLocalNode(ormapContext(v)); }
/* The node's counter in the context, or a seq of its in a field's totals. */
static uint64_t ormapLocalCounterV(const void *v, uint64_t node) {
    uint64_t max = ccMax(ormapContext(v), node);
    ormapIter it;
    ormapIterInit(&it, v);
    const char *f;
    size_t flen;
    while (ormapIterNext(&it, &f, &flen)) {
        reg r;
        regInit(&r);
        ormapFieldReg(v, f, flen, &r);
        uint64_t seq = regLocalCounterV(&r, node);
        if (seq > max) max = seq;
        regFree(&r);
    }
    return max;
}

/* HSET of a new and of an existing field, HINCRBY, HINCRBYFLOAT (with
 * t_hash.c's checks first), HDEL, DEL.  Field names point into the map. */
static int ormapLocalV(void *v, int op, uint64_t node, void **delta) {
    ormap *m = v, *d = ormapNew();
    version ver = {LOCAL_STAMP + (uint64_t)op, node};
    ormapIter it;
    ormapIterInit(&it, m);
    const char *f = "a";
    size_t flen = 1;
    int has = ormapIterNext(&it, &f, &flen);
    reg r;
    regInit(&r);
    long long iv;
    long double fv;
    switch (op) {
    case 0:
        if (ormapExists(m, "a", 1)) goto skip;
        CHECK(ormapSet(m, node, ver, "a", 1, "1", 1, d) == 1);
        break;
    case 1:
        if (!has) goto skip;
        CHECK(ormapSet(m, node, ver, f, flen, "22", 2, d) == 0);
        break;
    case 2:
        if (!has || !ormapFieldReg(m, f, flen, &r) || !regIntValue(&r, &iv) || iv == LLONG_MAX) goto skip;
        ormapIncrBy(m, node, ver, f, flen, 1, d);
        break;
    case 3:
        if (!has || !ormapFieldReg(m, f, flen, &r) || !regFloatValue(&r, &fv) || !isfinite(fv + 0.5L)) goto skip;
        ormapIncrByFloat(m, node, ver, f, flen, 0.5L, d);
        break;
    case 4:
        if (!has) goto skip;
        CHECK(ormapDel(m, f, flen, d) == 1);
        break;
    case 5:
        ormapClear(m, d);
        CHECK(ormapLen(m) == 0);
        break;
    default:
        goto skip;
    }
    regFree(&r);
    *delta = d;
    return 1;
skip:
    regFree(&r);
    ormapFree(d);
    return 0;
}

static const typeOps types[4] = {
    {"reg", regDecodeV, regEncodeV, regDigestV, regEqualV, regDupV, regMergeV, regCheckV, alwaysFull, 1, regFreeV,
     regLocalV, regLocalNodeV, regLocalCounterV},
    {"orset", orsetDecodeV, orsetEncodeV, orsetDigestV, orsetEqualV, orsetDupV, orsetMergeV, orsetCheckV, orsetFull,
     0, orsetFreeV, orsetLocalV, orsetLocalNodeV, orsetLocalCounterV},
    {"ormap", ormapDecodeV, ormapEncodeV, ormapDigestV, ormapEqualV, ormapDupV, ormapMergeV, ormapCheckV, ormapFull,
     0, ormapFreeV, ormapLocalV, ormapLocalNodeV, ormapLocalCounterV},
    {"context", ccDecodeV, ccEncodeV, ccDigestV, ccEqualV, ccDupV, ccMergeV, ccCheckV, alwaysFull, 1, ccFreeV,
     ccLocalV, ccLocalNodeV, ccLocalCounterV},
};

/* ---------- the checks ---------- */

static int same(const typeOps *t, const void *a, const void *b) {
    return t->equal(a, b) && t->equal(b, a) && t->digest(a) == t->digest(b);
}

/* v's invariants, and its round trip through its encoding. */
static void checkValue(const typeOps *t, const void *v) {
    t->check(v);
    void *d = t->dup(v);
    CHECK(same(t, v, d));
    t->free(d);

    cbuf e1, e2;
    cbufInit(&e1);
    cbufInit(&e2);
    t->encode(v, &e1);
    creader r;
    creaderInit(&r, e1.p, e1.len);
    void *w = t->decode(&r);
    CHECK(w != NULL);
    CHECK(creaderDone(&r));
    CHECK(same(t, v, w));
    t->check(w);
    t->encode(w, &e2);
    CHECK(e2.len == e1.len);
    if (t->canonical) CHECK(memcmp(e1.p, e2.p, e1.len) == 0);
    t->free(w);
    /* A strict prefix is a truncated message: refused. */
    size_t cuts[2] = {e1.len - 1, e1.len / 2};
    for (int i = 0; i < 2; i++) {
        if (cuts[i] >= e1.len) continue;
        creaderInit(&r, e1.p, cuts[i]);
        void *x = t->decode(&r);
        if (x) fprintf(stderr, "fuzz_crdt: a %s's encoding cut at %zu of %zu bytes decodes\n", t->name, cuts[i], e1.len);
        CHECK(x == NULL);
    }
    cbufFree(&e1);
    cbufFree(&e2);
}

/* other merged into a copy of v, with v's digest asked for first so that a
 * digest kept up to date by the merge is checked against a fresh one. */
static void *merged(const typeOps *t, const void *v, const void *other) {
    void *m = t->dup(v);
    (void)t->digest(m);
    t->merge(m, other);
    checkValue(t, m);
    return m;
}

/* c may be NULL. */
static void checkMerges(const typeOps *t, const void *a, const void *b, const void *c) {
    void *ab = merged(t, a, b), *ba = merged(t, b, a);
    int full = t->fullState(a) && t->fullState(b);
    if (full) {
        if (!same(t, ab, ba)) fprintf(stderr, "fuzz_crdt: %s merge does not commute\n", t->name);
        CHECK(same(t, ab, ba));
    }
    /* Merged twice, b changes nothing the second time, even if it is a delta
     * that breaks its promise against a: the result must not depend on the
     * form (packed or dict) merged into, which is what the second merge
     * usually meets. */
    void *abb = merged(t, ab, b);
    if (!same(t, abb, ab)) fprintf(stderr, "fuzz_crdt: %s merge of the same value twice changed it\n", t->name);
    CHECK(same(t, abb, ab));
    t->free(abb);
    if (c) {
        void *bc = merged(t, b, c), *ab_c = merged(t, ab, c), *a_bc = merged(t, a, bc);
        if (full && t->fullState(c)) {
            if (!same(t, ab_c, a_bc)) fprintf(stderr, "fuzz_crdt: %s merge is not associative\n", t->name);
            CHECK(same(t, ab_c, a_bc));
        }
        t->free(bc);
        t->free(ab_c);
        t->free(a_bc);
    }
    t->free(ab);
    t->free(ba);
}

/* Runs the local commands one after the other on a copy of a, each checked
 * as any value and against its delta.  A node's own counters never run
 * ahead of its clock, so a copy that says they do was forged by a peer: the
 * node must survive writing to it, but what it writes may not ship (the
 * decoders refuse counters past CC_COUNTER_MAX), so no round trip then. */
static void checkLocalOps(const typeOps *t, const void *a) {
    void *v = t->dup(a);
    uint64_t node = t->localNode(a);
    int forged = t->localCounter(a, node) > LOCAL_STAMP;
    (void)t->digest(v);   /* kept up to date by local writes from now on */
    for (int op = 0; op < LOCAL_OPS; op++) {
        void *before = t->dup(v), *delta = NULL;
        if (t->local(v, op, node, &delta)) {
            if (forged)
                t->check(v);
            else
                checkValue(t, v);
            if (delta) {
                if (forged)
                    t->check(delta);
                else
                    checkValue(t, delta);
                t->merge(before, delta);
                if (!same(t, before, v)) fprintf(stderr, "fuzz_crdt: %s local op %d: its delta does not redo it\n", t->name, op);
                CHECK(same(t, before, v));
                t->free(delta);
            }
        }
        t->free(before);
    }
    t->free(v);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1) return 0;
    const typeOps *t = &types[data[0] % 4];
    creader r;
    creaderInit(&r, data + 1, size - 1);
    void *a = t->decode(&r);
    if (a == NULL) return 0;
    CHECK(!r.err && r.pos <= r.len);
    checkValue(t, a);
    void *aa = merged(t, a, a);
    if (!same(t, aa, a)) fprintf(stderr, "fuzz_crdt: %s merged with itself changed\n", t->name);
    CHECK(same(t, aa, a));
    t->free(aa);
    checkLocalOps(t, a);

    creader rb;
    creaderInit(&rb, data + 1 + r.pos, r.len - r.pos);
    void *b = t->decode(&rb);
    if (b) {
        checkValue(t, b);
        creader rc;
        creaderInit(&rc, rb.p + rb.pos, rb.len - rb.pos);
        void *c = t->decode(&rc);
        if (c) checkValue(t, c);
        checkMerges(t, a, b, c);
        if (c) t->free(c);
        t->free(b);
    }
    t->free(a);
    return 0;
}
