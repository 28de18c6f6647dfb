/* crdt_dots.c - causal contexts: which adds (dots) a replica has seen.
 *
 * Owns the two sorted arrays of a ccontext and keeps them canonical after
 * every call that changes them:
 *   - vv: strictly increasing nodes, each counter >= 1 (a node absent from vv
 *     has seen nothing contiguous from 1);
 *   - cloud: strictly increasing (node, counter); every cloud dot has a
 *     counter above vv[node] + 1 (a dot at vv[node] + 1 would have been folded
 *     into the vector).
 * Canonical form is what makes ccEqual a plain array comparison and ccDigest
 * independent of the order in which dots arrived.
 *
 * A ccontext passed to any function must have been initialised (ccInit, or
 * all-zero memory such as calloc's); ccCopy and ccDecode replace the old
 * contents of their target, reusing its buffers.
 *
 * Pure: no sockets, no globals, no logging.  Allocation failure aborts. */
#include "crdt_dots.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#define CC_CLOUD_INSERT_MAX 8   /* up to this many incoming cloud dots are inserted one by one */

static void *ccRealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (p == NULL && n != 0) abort();
    return p;
}

/* Makes room for extra more entries in an array of *cap dots holding n. */
static void ccReserve(dot **arr, uint32_t *cap, uint32_t n, uint64_t extra) {
    uint64_t need = (uint64_t)n + extra;
    if (need <= *cap) return;
    if (need > UINT32_MAX) abort();
    uint64_t ncap = *cap ? *cap : 4;
    while (ncap < need) ncap *= 2;
    if (ncap > UINT32_MAX) ncap = UINT32_MAX;
    *arr = ccRealloc(*arr, (size_t)ncap * sizeof(dot));
    *cap = (uint32_t)ncap;
}

/* ---------- lookups ---------- */

/* First vv index whose node is >= node. */
static uint32_t vvLowerBound(const ccontext *c, uint64_t node) {
    uint32_t lo = 0, hi = c->nvv;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (c->vv[mid].node < node) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static uint64_t vvGet(const ccontext *c, uint64_t node) {
    uint32_t i = vvLowerBound(c, node);
    return i < c->nvv && c->vv[i].node == node ? c->vv[i].counter : 0;
}

/* Sets vv[node] = counter, inserting the node at index i (its lower bound). */
static void vvSetAt(ccontext *c, uint32_t i, uint64_t node, uint64_t counter) {
    if (i < c->nvv && c->vv[i].node == node) {
        c->vv[i].counter = counter;
        return;
    }
    ccReserve(&c->vv, &c->capvv, c->nvv, 1);
    memmove(c->vv + i + 1, c->vv + i, (size_t)(c->nvv - i) * sizeof(dot));
    c->vv[i] = (dot){node, counter};
    c->nvv++;
}

/* First cloud index whose dot is >= d. */
static uint32_t cloudLowerBound(const ccontext *c, dot d) {
    uint32_t lo = 0, hi = c->ncloud;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (dotCmp(c->cloud[mid], d) < 0) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

static int cloudHas(const ccontext *c, dot d) {
    uint32_t i = cloudLowerBound(c, d);
    return i < c->ncloud && dotEq(c->cloud[i], d);
}

/* ---------- life cycle ---------- */

void ccInit(ccontext *c) { memset(c, 0, sizeof(*c)); }

void ccFree(ccontext *c) {
    free(c->vv);
    free(c->cloud);
    ccInit(c);
}

void ccCopy(ccontext *dst, const ccontext *src) {
    if (dst == src) return;
    dst->nvv = dst->ncloud = 0;
    ccReserve(&dst->vv, &dst->capvv, 0, src->nvv);
    ccReserve(&dst->cloud, &dst->capcloud, 0, src->ncloud);
    if (src->nvv) memcpy(dst->vv, src->vv, (size_t)src->nvv * sizeof(dot));
    if (src->ncloud) memcpy(dst->cloud, src->cloud, (size_t)src->ncloud * sizeof(dot));
    dst->nvv = src->nvv;
    dst->ncloud = src->ncloud;
}

void ccClear(ccontext *c) { c->nvv = c->ncloud = 0; }

int ccIsEmpty(const ccontext *c) { return c->nvv == 0 && c->ncloud == 0; }

/* ---------- queries ---------- */

int ccContains(const ccontext *c, dot d) {
    if (d.counter <= vvGet(c, d.node)) return 1;
    return c->ncloud != 0 && cloudHas(c, d);
}

uint64_t ccMax(const ccontext *c, uint64_t node) {
    uint64_t max = vvGet(c, node);
    /* The node's last cloud dot sits just before the first dot of a later node. */
    uint32_t i = cloudLowerBound(c, (dot){node, UINT64_MAX});
    if (i < c->ncloud && dotEq(c->cloud[i], (dot){node, UINT64_MAX})) return UINT64_MAX;
    if (i > 0 && c->cloud[i - 1].node == node && c->cloud[i - 1].counter > max) max = c->cloud[i - 1].counter;
    return max;
}

/* ---------- updates ---------- */

dot ccNextDot(ccontext *c, uint64_t node) {
    uint64_t max = ccMax(c, node);
    if (max == UINT64_MAX) abort();   /* 2^64 events at one node: cannot happen */
    dot d = {node, max + 1};
    ccAdd(c, d);
    return d;
}

/* Fast path for one dot: O(log n) search, one memmove when the dot lands in
 * the cloud or extends the vector past cloud dots it absorbs. */
void ccObserveUpTo(ccontext *c, uint64_t node, uint64_t counter) {
    uint32_t i = vvLowerBound(c, node);
    uint64_t v = i < c->nvv && c->vv[i].node == node ? c->vv[i].counter : 0;
    if (counter <= v) return;
    vvSetAt(c, i, node, counter);
    ccCompact(c);
}

void ccAdd(ccontext *c, dot d) {
    assert(d.counter >= 1);
    uint32_t i = vvLowerBound(c, d.node);
    uint64_t v = i < c->nvv && c->vv[i].node == d.node ? c->vv[i].counter : 0;
    if (d.counter <= v) return;
    if (d.counter == v + 1) {
        /* Extends the vector; cloud dots of the node right after it follow. */
        uint64_t top = d.counter;
        uint32_t j = cloudLowerBound(c, (dot){d.node, top + 1}), k = j;
        while (k < c->ncloud && c->cloud[k].node == d.node && c->cloud[k].counter == top + 1) {
            top++;
            k++;
        }
        if (k > j) {
            memmove(c->cloud + j, c->cloud + k, (size_t)(c->ncloud - k) * sizeof(dot));
            c->ncloud -= k - j;
        }
        vvSetAt(c, i, d.node, top);
        return;
    }
    uint32_t j = cloudLowerBound(c, d);
    if (j < c->ncloud && dotEq(c->cloud[j], d)) return;
    ccReserve(&c->cloud, &c->capcloud, c->ncloud, 1);
    memmove(c->cloud + j + 1, c->cloud + j, (size_t)(c->ncloud - j) * sizeof(dot));
    c->cloud[j] = d;
    c->ncloud++;
}

/* Per node: drops cloud dots the vector covers and folds those that extend
 * it.  The cloud is sorted, so a node's dots are one run and a dot extends the
 * vector only if every earlier dot of its run was folded or dropped. */
void ccCompact(ccontext *c) {
    uint32_t r = 0, w = 0;
    while (r < c->ncloud) {
        uint64_t node = c->cloud[r].node;
        uint32_t i = vvLowerBound(c, node);
        uint64_t v0 = i < c->nvv && c->vv[i].node == node ? c->vv[i].counter : 0, v = v0;
        for (; r < c->ncloud && c->cloud[r].node == node; r++) {
            uint64_t ctr = c->cloud[r].counter;
            if (ctr <= v) continue;
            if (ctr == v + 1) {
                v++;
                continue;
            }
            c->cloud[w++] = c->cloud[r];
        }
        if (v != v0) vvSetAt(c, i, node, v);
    }
    c->ncloud = w;
}

/* Vector: per-node maximum, in place when other's nodes are all known here.
 * Cloud: few incoming dots are inserted one by one, many are merge-joined.
 * Then one compaction restores canonical form. */
void ccMerge(ccontext *c, const ccontext *other) {
    if (c == other) return;
    uint32_t missing = 0;
    for (uint32_t k = 0; k < other->nvv; k++) {
        uint32_t i = vvLowerBound(c, other->vv[k].node);
        if (i < c->nvv && c->vv[i].node == other->vv[k].node) {
            if (other->vv[k].counter > c->vv[i].counter) c->vv[i].counter = other->vv[k].counter;
        } else {
            missing++;
        }
    }
    if (missing) {
        uint32_t n = c->nvv + missing, a = 0, b = 0, w = 0;
        dot *vv = ccRealloc(NULL, (size_t)n * sizeof(dot));
        while (a < c->nvv || b < other->nvv) {
            if (b == other->nvv || (a < c->nvv && c->vv[a].node < other->vv[b].node)) vv[w++] = c->vv[a++];
            else if (a == c->nvv || other->vv[b].node < c->vv[a].node) vv[w++] = other->vv[b++];
            else { vv[w++] = c->vv[a++]; b++; }   /* counter already maximised above */
        }
        assert(w == n);
        free(c->vv);
        c->vv = vv;
        c->nvv = c->capvv = n;
    }
    if (other->ncloud <= CC_CLOUD_INSERT_MAX) {
        for (uint32_t k = 0; k < other->ncloud; k++) {
            dot d = other->cloud[k];
            if (d.counter <= vvGet(c, d.node)) continue;
            uint32_t j = cloudLowerBound(c, d);
            if (j < c->ncloud && dotEq(c->cloud[j], d)) continue;
            ccReserve(&c->cloud, &c->capcloud, c->ncloud, 1);
            memmove(c->cloud + j + 1, c->cloud + j, (size_t)(c->ncloud - j) * sizeof(dot));
            c->cloud[j] = d;
            c->ncloud++;
        }
    } else {
        uint64_t n = (uint64_t)c->ncloud + other->ncloud;
        if (n > UINT32_MAX) abort();
        dot *cloud = ccRealloc(NULL, (size_t)n * sizeof(dot));
        uint32_t a = 0, b = 0, w = 0;
        while (a < c->ncloud || b < other->ncloud) {
            int cmp = b == other->ncloud ? -1 : a == c->ncloud ? 1 : dotCmp(c->cloud[a], other->cloud[b]);
            if (cmp < 0) cloud[w++] = c->cloud[a++];
            else if (cmp > 0) cloud[w++] = other->cloud[b++];
            else { cloud[w++] = c->cloud[a++]; b++; }
        }
        free(c->cloud);
        c->cloud = cloud;
        c->ncloud = w;
        c->capcloud = (uint32_t)n;
    }
    ccCompact(c);
}

int ccEqual(const ccontext *a, const ccontext *b) {
    if (a->nvv != b->nvv || a->ncloud != b->ncloud) return 0;
    for (uint32_t i = 0; i < a->nvv; i++)
        if (!dotEq(a->vv[i], b->vv[i])) return 0;
    for (uint32_t i = 0; i < a->ncloud; i++)
        if (!dotEq(a->cloud[i], b->cloud[i])) return 0;
    return 1;
}

/* ---------- encoding ----------
 *
 * No version byte of its own: a context is always part of an enclosing
 * encoding (orset, ormap) whose first byte is the format version.
 *
 *   varint nvv, then per entry: u64 node, varint counter
 *   varint ngroups (cloud runs of one node), then per group:
 *     u64 node, varint count, varint first counter, (count-1) x varint (gap-1)
 *
 * Nodes are random 64-bit ids, so a fixed 8 bytes beats a varint. */
void ccEncode(const ccontext *c, cbuf *b) {
    cbufPutVarint(b, c->nvv);
    for (uint32_t i = 0; i < c->nvv; i++) {
        cbufPutU64(b, c->vv[i].node);
        cbufPutVarint(b, c->vv[i].counter);
    }
    uint64_t groups = 0;
    for (uint32_t i = 0; i < c->ncloud; i++)
        if (i == 0 || c->cloud[i].node != c->cloud[i - 1].node) groups++;
    cbufPutVarint(b, groups);
    for (uint32_t i = 0; i < c->ncloud;) {
        uint32_t j = i;
        while (j < c->ncloud && c->cloud[j].node == c->cloud[i].node) j++;
        cbufPutU64(b, c->cloud[i].node);
        cbufPutVarint(b, j - i);
        cbufPutVarint(b, c->cloud[i].counter);
        for (uint32_t k = i + 1; k < j; k++) cbufPutVarint(b, c->cloud[k].counter - c->cloud[k - 1].counter - 1);
        i = j;
    }
}

/* Strict about order (nodes and dots strictly increasing, counters from 1 to
 * CC_COUNTER_MAX) and bounds every count by the bytes left before allocating;
 * then compacts, so a valid but uncompacted context is accepted in canonical
 * form. */
int ccDecode(ccontext *c, creader *r) {
    ccClear(c);
    uint64_t n;
    if (creaderGetVarint(r, &n) < 0 || n > creaderLeft(r) / 9) goto bad;
    ccReserve(&c->vv, &c->capvv, 0, n);
    for (uint64_t i = 0; i < n; i++) {
        uint64_t node, ctr;
        if (creaderGetU64(r, &node) < 0 || creaderGetVarint(r, &ctr) < 0) goto bad;
        if (ctr == 0 || ctr > CC_COUNTER_MAX || (i > 0 && node <= c->vv[i - 1].node)) goto bad;
        c->vv[c->nvv++] = (dot){node, ctr};
    }
    uint64_t groups;
    if (creaderGetVarint(r, &groups) < 0 || groups > creaderLeft(r) / 10) goto bad;
    for (uint64_t g = 0; g < groups; g++) {
        uint64_t node, count, ctr;
        if (creaderGetU64(r, &node) < 0 || creaderGetVarint(r, &count) < 0) goto bad;
        if (count == 0 || count > creaderLeft(r) || (uint64_t)c->ncloud + count > UINT32_MAX) goto bad;
        if (c->ncloud > 0 && node <= c->cloud[c->ncloud - 1].node) goto bad;
        if (creaderGetVarint(r, &ctr) < 0 || ctr == 0 || ctr > CC_COUNTER_MAX) goto bad;
        ccReserve(&c->cloud, &c->capcloud, c->ncloud, count);
        c->cloud[c->ncloud++] = (dot){node, ctr};
        for (uint64_t k = 1; k < count; k++) {
            uint64_t gap;
            if (creaderGetVarint(r, &gap) < 0 || gap >= CC_COUNTER_MAX - ctr) goto bad;
            ctr += gap + 1;
            c->cloud[c->ncloud++] = (dot){node, ctr};
        }
    }
    ccCompact(c);
    return 0;
bad:
    r->err = 1;
    ccClear(c);
    return -1;
}

/* ---------- digest ---------- */

uint64_t ccHashWords(uint64_t h, uint64_t a, uint64_t b) {
    unsigned char buf[16];
    ccStoreLE64(buf, a);
    ccStoreLE64(buf + 8, b);
    return XXH3_64bits_withSeed(buf, sizeof(buf), h);
}

/* Chains one dot into h. */
static uint64_t ccHashDot(uint64_t h, dot d) { return ccHashWords(h, d.node, d.counter); }

uint64_t ccDigest(const ccontext *c, uint64_t seed) {
    uint64_t h = ccHashDot(seed, (dot){c->nvv, c->ncloud});
    for (uint32_t i = 0; i < c->nvv; i++) h = ccHashDot(h, c->vv[i]);
    for (uint32_t i = 0; i < c->ncloud; i++) h = ccHashDot(h, c->cloud[i]);
    return h;
}

/* ---------- node tables (for the types' encodings) ---------- */

/* Merges the node columns of vv and cloud (both sorted by node), dropping repeats. */
uint64_t *ccNodes(const ccontext *c, uint32_t *n) {
    uint64_t *nodes = ccRealloc(NULL, ((size_t)c->nvv + c->ncloud + 1) * sizeof(uint64_t));
    uint32_t a = 0, b = 0, w = 0;
    while (a < c->nvv || b < c->ncloud) {
        uint64_t next;
        if (b == c->ncloud || (a < c->nvv && c->vv[a].node <= c->cloud[b].node)) next = c->vv[a++].node;
        else next = c->cloud[b++].node;
        if (w == 0 || nodes[w - 1] != next) nodes[w++] = next;
    }
    *n = w;
    return nodes;
}

uint32_t ccNodeIndex(const uint64_t *nodes, uint32_t n, uint64_t node) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nodes[mid] < node) lo = mid + 1;
        else hi = mid;
    }
    assert(lo < n && nodes[lo] == node);
    return lo;
}
