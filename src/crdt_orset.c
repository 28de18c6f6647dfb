/* crdt_orset.c - the add-wins observed-remove set (ORSWOT) behind Redis sets.
 *
 * Owns the members (an intrusive dict of osMember nodes), their dots and the
 * set's causal context.  Pure: no sockets, no globals, no logging; allocation
 * failure aborts.
 *
 * Memory.  A member is one allocation: dictLink, its first dot inline, its
 * length and its bytes (28 + len bytes).  Almost every member holds exactly
 * one dot; the rare extra concurrent dots live in an area after the bytes,
 * flagged by the top bit of the length, and moving to a bigger area is the
 * only time a member is reallocated.  Re-adding a member overwrites its dot in
 * place: no allocation.
 *
 * Deltas.  A delta is an orset like any other, with one extra promise that
 * lets a merge visit only what the delta touched instead of every member of a
 * large set: when touchedOnly is set, every dot of its context that can still
 * be live anywhere belongs to a member it lists, either in members or in
 * removed (names of members it removed, with no dots).  The dots of one add
 * belong to one member everywhere, so the promise holds for the deltas of
 * orsetAdd and orsetRemove and for merges of such deltas; a full state, a
 * clear's delta (whose context is the whole context it cleared) and anything
 * merged with them do not keep it, and their merge visits every member.
 * removed is bounded (OS_REMOVED_MAX): past it the promise is dropped, so a
 * set built by merging deltas cannot accumulate names.  Neither field is part
 * of the logical state: equality and the digest ignore them. */
#include "crdt_orset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ORSET_FORMAT_VERSION 1
#define ORSET_FLAG_TOUCHED_ONLY 1
#define OS_EXTRA_FLAG 0x80000000u     /* in osMember.lenf: an osExtra area follows the bytes */
#define OS_LEN_MASK 0x7fffffffu       /* so a member is at most 2 GiB - 1 bytes */
#define OS_REMOVED_MAX 64             /* names a delta may carry before it becomes a full state */
#define OS_STACK_DOTS 16
#define OS_DIGEST_SEED 0x6f72736574763031ULL   /* "orsetv01" */

typedef struct osMember {
    dictLink link;      /* first, as dict.h requires */
    dot d;              /* the smallest dot; counter 0 only in a removed-name node */
    uint32_t lenf;      /* length | OS_EXTRA_FLAG */
    char m[];
} osMember;

typedef struct osExtra {
    uint32_t n, cap;    /* dots after d, in use and room */
    dot dots[];         /* sorted, all above d */
} osExtra;

struct orset {
    dict members;
    ccontext cc;
    dict *removed;      /* NULL unless a touchedOnly delta removed members */
    size_t bytes;       /* member and removed-name nodes */
    int touchedOnly;
};

/* ---------- member nodes ---------- */

static size_t memberLen(const osMember *n) { return n->lenf & OS_LEN_MASK; }

static size_t extraOffset(size_t len) { return (offsetof(osMember, m) + len + 7) & ~(size_t)7; }

static osExtra *memberExtra(const osMember *n) {
    if (!(n->lenf & OS_EXTRA_FLAG)) return NULL;
    return (osExtra *)((char *)n + extraOffset(memberLen(n)));
}

static size_t memberSize(const osMember *n) {
    const osExtra *x = memberExtra(n);
    if (x == NULL) return offsetof(osMember, m) + memberLen(n);
    return extraOffset(memberLen(n)) + sizeof(osExtra) + (size_t)x->cap * sizeof(dot);
}

static uint32_t memberNDots(const osMember *n) {
    const osExtra *x = memberExtra(n);
    return 1 + (x ? x->n : 0);
}

static dot memberDot(const osMember *n, uint32_t i) { return i == 0 ? n->d : memberExtra(n)->dots[i - 1]; }

static const char *memberKey(const dictLink *node, size_t *len) {
    const osMember *n = (const osMember *)node;
    *len = memberLen(n);
    return n->m;
}

/* A node for m with k sorted dots (k == 0: a removed-name node). */
static osMember *memberNew(orset *s, const char *m, size_t len, const dot *dots, uint32_t k) {
    if (len > OS_LEN_MASK) abort();
    size_t size = k > 1 ? extraOffset(len) + sizeof(osExtra) + (size_t)(k - 1) * sizeof(dot)
                        : offsetof(osMember, m) + len;
    osMember *n = malloc(size);
    if (n == NULL) abort();
    n->link.next = NULL;
    n->d = k ? dots[0] : (dot){0, 0};
    n->lenf = (uint32_t)len | (k > 1 ? OS_EXTRA_FLAG : 0);
    if (len) memcpy(n->m, m, len);
    if (k > 1) {
        osExtra *x = memberExtra(n);
        x->n = x->cap = k - 1;
        memcpy(x->dots, dots + 1, (size_t)(k - 1) * sizeof(dot));
    }
    s->bytes += size;
    return n;
}

static void memberFree(orset *s, osMember *n) {
    s->bytes -= memberSize(n);
    free(n);
}

/* Gives a linked member the k >= 1 sorted dots; reallocates (and relinks)
 * only when the extra area is too small. */
static void memberSetDots(orset *s, osMember *n, const dot *dots, uint32_t k) {
    assert(k >= 1);
    osExtra *x = memberExtra(n);
    if (k == 1 || (x && x->cap >= k - 1)) {
        n->d = dots[0];
        if (x) {
            x->n = k - 1;
            if (k > 1) memcpy(x->dots, dots + 1, (size_t)(k - 1) * sizeof(dot));
        }
        return;
    }
    osMember *bigger = memberNew(s, n->m, memberLen(n), dots, k);
    dictReplaceNode(&s->members, &n->link, &bigger->link);
    memberFree(s, n);
}

/* Lookups through a const set must not move rehash buckets under a running
 * orsetIter, so they pause rehashing (a counter in the dict, not logical state). */
static osMember *memberFind(const orset *s, const char *m, size_t len) {
    dict *d = (dict *)&s->members;
    d->pauserehash++;
    osMember *n = (osMember *)dictFind(d, m, len);
    d->pauserehash--;
    return n;
}

static void freeNodeCb(dictLink *node, void *ctx) { memberFree(ctx, (osMember *)node); }

/* ---------- iteration ---------- */

/* Walks table[0] then table[1] (non-empty only while rehashing): a = table,
 * b = next bucket, cur = next node. */
void orsetIterInit(orsetIter *it, const orset *s) {
    it->s = s;
    it->a = 0;
    it->b = 0;
    it->cur = NULL;
}

static const osMember *iterNextMember(orsetIter *it) {
    const dict *d = &it->s->members;
    while (it->cur == NULL) {
        if (it->a >= 2) return NULL;
        if (it->b >= d->size[it->a]) {
            it->a++;
            it->b = 0;
            continue;
        }
        it->cur = d->table[it->a][it->b++];
    }
    const osMember *n = it->cur;
    it->cur = n->link.next;
    return n;
}

int orsetIterNext(orsetIter *it, const char **m, size_t *len) {
    const osMember *n = iterNextMember(it);
    if (n == NULL) return 0;
    *m = n->m;
    *len = memberLen(n);
    return 1;
}

/* ---------- removed names (deltas only) ---------- */

static void removedDrop(orset *s) {
    if (s->removed == NULL) return;
    dictClear(s->removed, freeNodeCb, s);
    free(s->removed);
    s->removed = NULL;
}

/* The set stops promising to list what it touched (see the file comment). */
static void becomeFullState(orset *s) {
    s->touchedOnly = 0;
    removedDrop(s);
}

static void removedNote(orset *s, const char *m, size_t len) {
    if (!s->touchedOnly) return;
    if (s->removed == NULL) {
        s->removed = malloc(sizeof(dict));
        if (s->removed == NULL) abort();
        dictInit(s->removed, memberKey);
    }
    if (dictFind(s->removed, m, len)) return;
    if (dictSize(s->removed) >= OS_REMOVED_MAX) {
        becomeFullState(s);
        return;
    }
    dictAdd(s->removed, &memberNew(s, m, len, NULL, 0)->link);
}

static void removedForget(orset *s, const char *m, size_t len) {
    if (s->removed == NULL) return;
    osMember *n = (osMember *)dictUnlink(s->removed, m, len);
    if (n) memberFree(s, n);
}

/* ---------- life cycle and queries ---------- */

orset *orsetNew(void) {
    orset *s = calloc(1, sizeof(*s));
    if (s == NULL) abort();
    dictInit(&s->members, memberKey);
    ccInit(&s->cc);
    s->touchedOnly = 1;   /* empty: trivially lists everything it touched */
    return s;
}

void orsetFree(orset *s) {
    if (s == NULL) return;
    dictClear(&s->members, freeNodeCb, s);
    removedDrop(s);
    ccFree(&s->cc);
    free(s);
}

static osMember *memberCopy(orset *dst, const osMember *n) {
    dot stack[OS_STACK_DOTS], *dots = stack;
    uint32_t k = memberNDots(n);
    if (k > OS_STACK_DOTS && (dots = malloc((size_t)k * sizeof(dot))) == NULL) abort();
    for (uint32_t i = 0; i < k; i++) dots[i] = memberDot(n, i);
    osMember *c = memberNew(dst, n->m, memberLen(n), dots, k);
    if (dots != stack) free(dots);
    return c;
}

orset *orsetDup(const orset *s) {
    orset *c = orsetNew();
    ccCopy(&c->cc, &s->cc);
    orsetIter it;
    orsetIterInit(&it, s);
    for (const osMember *n = iterNextMember(&it); n; n = iterNextMember(&it))
        dictAdd(&c->members, &memberCopy(c, n)->link);
    c->touchedOnly = s->touchedOnly;
    if (s->removed) {
        dictIter di;
        dictIterInit(&di, s->removed);
        for (dictLink *l = dictNext(&di); l; l = dictNext(&di)) {
            const osMember *n = (const osMember *)l;
            removedNote(c, n->m, memberLen(n));
        }
        dictIterEnd(&di);
    }
    return c;
}

size_t orsetCard(const orset *s) { return (size_t)dictSize(&s->members); }

int orsetContains(const orset *s, const char *m, size_t len) { return memberFind(s, m, len) != NULL; }

const ccontext *orsetContext(const orset *s) { return &s->cc; }

size_t orsetMemory(const orset *s) {
    size_t total = sizeof(*s) + s->bytes + dictTableBytes(&s->members);
    total += ((size_t)s->cc.capvv + s->cc.capcloud) * sizeof(dot);
    if (s->removed) total += sizeof(dict) + dictTableBytes(s->removed);
    return total;
}

/* ---------- local operations ---------- */

int orsetAdd(orset *s, uint64_t node, const char *m, size_t len, orset *delta) {
    becomeFullState(s);
    dot d = ccNextDot(&s->cc, node);
    osMember *n = (osMember *)dictFind(&s->members, m, len);
    if (delta) {
        ccAdd(&delta->cc, d);
        if (n) {
            uint32_t k = memberNDots(n);
            for (uint32_t i = 0; i < k; i++) ccAdd(&delta->cc, memberDot(n, i));
        }
        dictAdd(&delta->members, &memberNew(delta, m, len, &d, 1)->link);
    }
    if (n) {
        memberSetDots(s, n, &d, 1);   /* the old dots were observed: replaced */
        return 0;
    }
    dictAdd(&s->members, &memberNew(s, m, len, &d, 1)->link);
    return 1;
}

int orsetRemove(orset *s, const char *m, size_t len, orset *delta) {
    becomeFullState(s);
    osMember *n = (osMember *)dictUnlink(&s->members, m, len);
    if (n == NULL) return 0;
    if (delta) {
        uint32_t k = memberNDots(n);
        for (uint32_t i = 0; i < k; i++) ccAdd(&delta->cc, memberDot(n, i));
        removedNote(delta, m, len);
    }
    memberFree(s, n);
    return 1;
}

/* The delta's context is the whole context: every dot seen is either held by
 * a member being removed or already dead, so it removes exactly what the
 * clear observed, and a version vector is far smaller than the list of every
 * removed dot. */
void orsetClear(orset *s, orset *delta) {
    becomeFullState(s);
    if (delta) {
        ccCopy(&delta->cc, &s->cc);
        becomeFullState(delta);
    }
    dictClear(&s->members, freeNodeCb, s);
}

/* ---------- merge ---------- */

/* The join of one member: s's dots (sm, may be NULL) and other's (om, may be
 * NULL).  A dot of s survives if other holds it too or has not seen it; a dot
 * of other survives if s has not seen it (if s holds it, it is in s's
 * context).  s's context is not merged yet when this runs.  Both dot lists
 * are sorted, so the result is a merge of two sorted filtered lists. */
static void mergeMember(orset *s, osMember *sm, const osMember *om, const ccontext *occ, const char *m, size_t len) {
    uint32_t ns = sm ? memberNDots(sm) : 0, no = om ? memberNDots(om) : 0, n = 0;
    dot stack[OS_STACK_DOTS], *kept = stack;
    if (ns + no > OS_STACK_DOTS && (kept = malloc((size_t)(ns + no) * sizeof(dot))) == NULL) abort();
    uint32_t a = 0, b = 0;
    while (a < ns || b < no) {
        dot da = a < ns ? memberDot(sm, a) : (dot){0, 0}, db = b < no ? memberDot(om, b) : (dot){0, 0};
        int cmp = b == no ? -1 : a == ns ? 1 : dotCmp(da, db);
        if (cmp <= 0) {
            if (cmp == 0 || !ccContains(occ, da)) kept[n++] = da;
            a++;
            if (cmp == 0) b++;
        } else {
            if (!ccContains(&s->cc, db)) kept[n++] = db;
            b++;
        }
    }
    if (n == 0) {
        removedNote(s, m, len);   /* before the free: m may point into sm */
        if (sm) {
            dictUnlink(&s->members, m, len);
            memberFree(s, sm);
        }
    } else if (sm) {
        memberSetDots(s, sm, kept, n);
    } else {
        dictAdd(&s->members, &memberNew(s, m, len, kept, n)->link);
        removedForget(s, m, len);
    }
    if (kept != stack) free(kept);
}

void orsetMerge(orset *s, const orset *other) {
    if (s == other) return;
    dictIter it;
    dictLink *l;
    if (!other->touchedOnly) {
        becomeFullState(s);
        /* Every member of s may lose dots to other's context. */
        dictIterSafe(&it, &s->members);
        while ((l = dictNext(&it)) != NULL) {
            osMember *sm = (osMember *)l;
            mergeMember(s, sm, memberFind(other, sm->m, memberLen(sm)), &other->cc, sm->m, memberLen(sm));
        }
        dictIterEnd(&it);
        /* Members only other holds (or that s just dropped: the join then
         * keeps nothing again, so revisiting them is harmless). */
        dictIterInit(&it, (dict *)&other->members);
        while ((l = dictNext(&it)) != NULL) {
            const osMember *om = (const osMember *)l;
            if (dictFind(&s->members, om->m, memberLen(om)) == NULL)
                mergeMember(s, NULL, om, &other->cc, om->m, memberLen(om));
        }
        dictIterEnd(&it);
    } else {
        /* other's context can only remove dots of the members it lists. */
        dictIterInit(&it, (dict *)&other->members);
        while ((l = dictNext(&it)) != NULL) {
            const osMember *om = (const osMember *)l;
            osMember *sm = (osMember *)dictFind(&s->members, om->m, memberLen(om));
            mergeMember(s, sm, om, &other->cc, om->m, memberLen(om));
        }
        dictIterEnd(&it);
        if (other->removed) {
            dictIterInit(&it, other->removed);
            while ((l = dictNext(&it)) != NULL) {
                const osMember *rm = (const osMember *)l;
                osMember *sm = (osMember *)dictFind(&s->members, rm->m, memberLen(rm));
                if (sm) mergeMember(s, sm, NULL, &other->cc, rm->m, memberLen(rm));
                else removedNote(s, rm->m, memberLen(rm));
            }
            dictIterEnd(&it);
        }
    }
    ccMerge(&s->cc, &other->cc);
}

/* ---------- random, scan ---------- */

int orsetRandom(const orset *s, uint64_t (*rnd)(void), const char **m, size_t *len) {
    dict *d = (dict *)&s->members;
    d->pauserehash++;   /* as memberFind: no bucket moves under a running iteration */
    const osMember *n = (const osMember *)dictRandom(d, rnd);
    d->pauserehash--;
    if (n == NULL) return 0;
    *m = n->m;
    *len = memberLen(n);
    return 1;
}

typedef struct scanCtx {
    void (*fn)(const char *m, size_t len, void *ctx);
    void *ctx;
} scanCtx;

static void scanCb(dictLink *node, void *ctx) {
    const scanCtx *sc = ctx;
    const osMember *n = (const osMember *)node;
    sc->fn(n->m, memberLen(n), sc->ctx);
}

uint64_t orsetScan(const orset *s, uint64_t cursor, void (*fn)(const char *m, size_t len, void *ctx), void *ctx) {
    scanCtx sc = {fn, ctx};
    return dictScan((dict *)&s->members, cursor, scanCb, &sc);
}

/* ---------- equality and digest ---------- */

static int memberDotsEqual(const osMember *a, const osMember *b) {
    uint32_t k = memberNDots(a);
    if (k != memberNDots(b)) return 0;
    for (uint32_t i = 0; i < k; i++)
        if (!dotEq(memberDot(a, i), memberDot(b, i))) return 0;
    return 1;
}

int orsetEqual(const orset *a, const orset *b) {
    if (orsetCard(a) != orsetCard(b) || !ccEqual(&a->cc, &b->cc)) return 0;
    orsetIter it;
    orsetIterInit(&it, a);
    for (const osMember *na = iterNextMember(&it); na; na = iterNextMember(&it)) {
        const osMember *nb = memberFind(b, na->m, memberLen(na));
        if (nb == NULL || !memberDotsEqual(na, nb)) return 0;
    }
    return 1;
}

/* Per member: XXH3 of its bytes chained through its sorted dots (as
 * little-endian bytes, so hosts agree); members are summed, which does not
 * depend on table order; the context's canonical digest and the count close it. */
static uint64_t hashWords(uint64_t h, uint64_t a, uint64_t b) {
    unsigned char buf[16];
    for (int i = 0; i < 8; i++) {
        buf[i] = (unsigned char)(a >> (8 * i));
        buf[8 + i] = (unsigned char)(b >> (8 * i));
    }
    return XXH3_64bits_withSeed(buf, sizeof(buf), h);
}

uint64_t orsetDigest(const orset *s) {
    uint64_t sum = 0;
    orsetIter it;
    orsetIterInit(&it, s);
    for (const osMember *n = iterNextMember(&it); n; n = iterNextMember(&it)) {
        uint64_t h = XXH3_64bits_withSeed(n->m, memberLen(n), OS_DIGEST_SEED);
        uint32_t k = memberNDots(n);
        for (uint32_t i = 0; i < k; i++) h = hashWords(h, memberDot(n, i).node, memberDot(n, i).counter);
        sum += h;
    }
    return hashWords(ccDigest(&s->cc, OS_DIGEST_SEED), sum, orsetCard(s));
}

/* ---------- encoding ----------
 *
 *   byte version (1), byte flags (bit 0: touchedOnly)
 *   context (ccEncode)
 *   varint nmembers, then per member:
 *     bytes member, varint ndots, per dot: varint node index, varint counter
 *   if touchedOnly: varint nremoved, then per name: bytes
 *
 * A dot's node is written as its index among the context's distinct nodes
 * (every member dot is in the context): one byte instead of eight. */

/* The sorted distinct nodes of a (canonical) context; *n gets the count. */
static uint64_t *contextNodes(const ccontext *c, uint32_t *n) {
    uint64_t *nodes = malloc(((size_t)c->nvv + c->ncloud + 1) * sizeof(uint64_t));
    if (nodes == NULL) abort();
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

static uint32_t nodeIndex(const uint64_t *nodes, uint32_t n, uint64_t node) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nodes[mid] < node) lo = mid + 1;
        else hi = mid;
    }
    assert(lo < n && nodes[lo] == node);
    return lo;
}

void orsetEncode(const orset *s, cbuf *b) {
    cbufPutByte(b, ORSET_FORMAT_VERSION);
    cbufPutByte(b, s->touchedOnly ? ORSET_FLAG_TOUCHED_ONLY : 0);
    ccEncode(&s->cc, b);
    uint32_t nn;
    uint64_t *nodes = contextNodes(&s->cc, &nn);
    cbufPutVarint(b, orsetCard(s));
    orsetIter it;
    orsetIterInit(&it, s);
    for (const osMember *n = iterNextMember(&it); n; n = iterNextMember(&it)) {
        uint32_t k = memberNDots(n);
        cbufPutBytes(b, n->m, memberLen(n));
        cbufPutVarint(b, k);
        for (uint32_t i = 0; i < k; i++) {
            dot d = memberDot(n, i);
            cbufPutVarint(b, nodeIndex(nodes, nn, d.node));
            cbufPutVarint(b, d.counter);
        }
    }
    free(nodes);
    if (s->touchedOnly) {
        cbufPutVarint(b, s->removed ? dictSize(s->removed) : 0);
        if (s->removed) {
            dictIter di;
            dictIterInit(&di, s->removed);
            for (dictLink *l = dictNext(&di); l; l = dictNext(&di)) {
                const osMember *n = (const osMember *)l;
                cbufPutBytes(b, n->m, memberLen(n));
            }
            dictIterEnd(&di);
        }
    }
}

/* Reads one member's dots: at least one, strictly increasing, each a dot the
 * context has seen.  Returns the count, 0 on malformed input. */
static uint32_t decodeDots(creader *r, const ccontext *cc, const uint64_t *nodes, uint32_t nn, dot **dots, uint32_t *cap) {
    uint64_t k;
    if (creaderGetVarint(r, &k) < 0 || k == 0 || k > (r->len - r->pos) / 2 || k > UINT32_MAX / 2) return 0;
    if (k > *cap) {
        dot *p = realloc(*dots, (size_t)k * sizeof(dot));
        if (p == NULL) abort();
        *dots = p;
        *cap = (uint32_t)k;
    }
    for (uint64_t i = 0; i < k; i++) {
        uint64_t idx, ctr;
        if (creaderGetVarint(r, &idx) < 0 || creaderGetVarint(r, &ctr) < 0) return 0;
        if (idx >= nn || ctr == 0) return 0;
        dot d = {nodes[idx], ctr};
        if ((i > 0 && dotCmp((*dots)[i - 1], d) >= 0) || !ccContains(cc, d)) return 0;
        (*dots)[i] = d;
    }
    return (uint32_t)k;
}

orset *orsetDecode(creader *r) {
    uint8_t version, flags;
    if (creaderGetByte(r, &version) < 0 || version != ORSET_FORMAT_VERSION) return NULL;
    if (creaderGetByte(r, &flags) < 0 || (flags & ~ORSET_FLAG_TOUCHED_ONLY)) return NULL;
    orset *s = orsetNew();
    uint64_t *nodes = NULL;
    dot *dots = NULL;   /* one member's dots, grown by decodeDots */
    uint32_t cap = 0, nn = 0;
    if (ccDecode(&s->cc, r) < 0) goto bad;
    nodes = contextNodes(&s->cc, &nn);
    uint64_t count;
    /* A member takes at least 3 bytes: length, dot count, one 2-byte dot. */
    if (creaderGetVarint(r, &count) < 0 || count > (r->len - r->pos) / 3) goto bad;
    for (uint64_t i = 0; i < count; i++) {
        const char *m;
        size_t len;
        if (creaderGetBytes(r, &m, &len) < 0 || len > OS_LEN_MASK) goto bad;
        if (dictFind(&s->members, m, len)) goto bad;
        uint32_t k = decodeDots(r, &s->cc, nodes, nn, &dots, &cap);
        if (k == 0) goto bad;
        dictAdd(&s->members, &memberNew(s, m, len, dots, k)->link);
    }
    s->touchedOnly = flags & ORSET_FLAG_TOUCHED_ONLY;
    if (s->touchedOnly) {
        uint64_t nremoved;
        if (creaderGetVarint(r, &nremoved) < 0 || nremoved > r->len - r->pos) goto bad;
        for (uint64_t i = 0; i < nremoved; i++) {
            const char *m;
            size_t len;
            if (creaderGetBytes(r, &m, &len) < 0 || len > OS_LEN_MASK) goto bad;
            if (dictFind(&s->members, m, len) || (s->removed && dictFind(s->removed, m, len))) goto bad;
            removedNote(s, m, len);
        }
    }
    free(dots);
    free(nodes);
    return s;
bad:
    r->err = 1;
    free(dots);
    free(nodes);
    orsetFree(s);
    return NULL;
}
