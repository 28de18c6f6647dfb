/* crdt_orset.c - the add-wins observed-remove set (ORSWOT) behind Redis sets.
 *
 * Owns the members, their dots and the set's causal context.  Pure: no
 * sockets, no globals, no logging; allocation failure aborts.
 *
 * Two forms hold the members, and the set moves from the first to the second
 * once, never back (except that a clear empties it into the first again):
 *
 *   packed: one buffer, for a small set (at most OS_PACKED_MAX_MEMBERS
 *     members of at most OS_PACKED_MAX_LEN bytes, each with exactly one dot,
 *     from at most OS_PACKED_MAX_NODES nodes), the usual shape of a set that
 *     lives on one node or a quiet mesh.  Lookups are linear, as in Redis's
 *     listpacks; a member costs its bytes plus three or four.
 *       byte nnodes, nnodes x 8-byte node ids (host order, unaligned),
 *       then per member: byte len, the bytes, byte node index, varint counter
 *   dict: an intrusive dict of osMember nodes for everything else.  A member
 *     is one allocation: dictLink, its first dot inline, its length and its
 *     bytes (28 + len bytes).  The rare extra concurrent dots live in an area
 *     after the bytes, flagged by the top bit of the length, and moving to a
 *     bigger area is the only time a member is reallocated.  Re-adding a
 *     member overwrites its dot in place: no allocation.
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
 * of the logical state: equality and the digest ignore them, and so they
 * ignore the form. */
#include "crdt_orset.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ORSET_FORMAT_VERSION 1
#define ORSET_FLAG_TOUCHED_ONLY 1     /* in the encoding */
#define OS_EXTRA_FLAG 0x80000000u     /* in osMember.lenf: an osExtra area follows the bytes */
#define OS_LEN_MASK 0x7fffffffu       /* so a member is at most 2 GiB - 1 bytes */
#define OS_REMOVED_MAX 64             /* names a delta may carry before it becomes a full state */
#define OS_STACK_DOTS 16
#define OS_DIGEST_SEED 0x6f72736574763031ULL   /* "orsetv01" */

#define OS_PACKED_MAX_MEMBERS 128
#define OS_PACKED_MAX_LEN 64          /* fits the record's length byte */
#define OS_PACKED_MAX_NODES 16        /* fits the record's node byte */
#define OS_PACKED_SLACK 128           /* a removal gives back room beyond this */

#define OS_DICT_FORM 1                /* in orset.flags */
#define OS_TOUCHED_ONLY 2

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

/* A dict of osMember nodes and the bytes they take; once orsetDigest has
 * been asked for (peers exist), also the sum of its members' digests, kept
 * by every node created, freed or given new dots, so that the digest of a
 * large set written continuously is not a pass over it each time. */
typedef struct osDict {
    dict d;
    size_t bytes;
    uint64_t dsum;
    int dsumValid;
} osDict;

/* 56 bytes: the context, one pointer to the members, the delta bookkeeping,
 * and the packed buffer's sizes (it is at most a few KiB). */
struct orset {
    ccontext cc;
    union {
        unsigned char *packed;  /* packed form: NULL while empty */
        osDict *big;            /* dict form */
    } u;
    osDict *removed;            /* NULL unless a touchedOnly delta removed members */
    uint16_t used, cap;         /* packed form: bytes of the buffer in use and allocated */
    uint16_t count;             /* packed form: members */
    uint16_t flags;             /* OS_DICT_FORM, OS_TOUCHED_ONLY */
};

/* One member of either form, as lookups and iteration hand it out. */
typedef struct osEntry {
    const char *m;
    size_t len;
    osMember *n;        /* dict form: its node; NULL in the packed form */
    dot d;              /* packed form: its one dot */
    uint32_t off, end;  /* packed form: where its record starts and ends */
} osEntry;

static int isDictForm(const orset *s) { return s->flags & OS_DICT_FORM; }
static int isTouchedOnly(const orset *s) { return (s->flags & OS_TOUCHED_ONLY) != 0; }

/* ---------- member nodes (dict form and removed names) ---------- */

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

static osDict *osDictNew(void) {
    osDict *od = malloc(sizeof(*od));
    if (od == NULL) abort();
    dictInit(&od->d, memberKey);
    od->bytes = 0;
    od->dsum = 0;
    od->dsumValid = 0;
    return od;
}

/* One member's part of orsetDigest: XXH3 of its bytes chained through its
 * sorted dots. */
static uint64_t nodeDigest(const osMember *n) {
    uint64_t h = XXH3_64bits_withSeed(n->m, memberLen(n), OS_DIGEST_SEED);
    for (uint32_t i = 0; i < memberNDots(n); i++) h = ccHashWords(h, memberDot(n, i).node, memberDot(n, i).counter);
    return h;
}

/* A node for m with k sorted dots (k == 0: a removed-name node). */
static osMember *memberNew(osDict *od, const char *m, size_t len, const dot *dots, uint32_t k) {
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
    od->bytes += size;
    if (od->dsumValid) od->dsum += nodeDigest(n);
    return n;
}

static void memberFree(osDict *od, osMember *n) {
    od->bytes -= memberSize(n);
    if (od->dsumValid) od->dsum -= nodeDigest(n);
    free(n);
}

static void freeNodeCb(dictLink *node, void *ctx) { memberFree(ctx, (osMember *)node); }

static void osDictFree(osDict *od) {
    od->dsumValid = 0;   /* no digest upkeep for members about to go */
    dictClear(&od->d, freeNodeCb, od);
    free(od);
}

static size_t osDictMemory(const osDict *od) { return sizeof(*od) + od->bytes + dictTableBytes(&od->d); }

/* Gives a linked member the k >= 1 sorted dots; reallocates (and relinks)
 * only when the extra area is too small. */
static void memberSetDots(osDict *od, osMember *n, const dot *dots, uint32_t k) {
    assert(k >= 1);
    osExtra *x = memberExtra(n);
    if (k == 1 || (x && x->cap >= k - 1)) {
        if (od->dsumValid) od->dsum -= nodeDigest(n);
        n->d = dots[0];
        if (x) {
            x->n = k - 1;
            if (k > 1) memcpy(x->dots, dots + 1, (size_t)(k - 1) * sizeof(dot));
        }
        if (od->dsumValid) od->dsum += nodeDigest(n);
        return;
    }
    osMember *bigger = memberNew(od, n->m, memberLen(n), dots, k);
    dictReplaceNode(&od->d, &n->link, &bigger->link);
    memberFree(od, n);
}

/* Lookups through a const set must not move rehash buckets under a running
 * orsetIter, hence the read-only find. */
static osMember *memberFind(const osDict *od, const char *m, size_t len) {
    return (osMember *)dictFindReadOnly(&od->d, m, len);
}

/* ---------- the packed form ---------- */

static unsigned varintLen(uint64_t v) {
    unsigned n = 1;
    while (v >= 0x80) {
        v >>= 7;
        n++;
    }
    return n;
}

static void varintPut(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p = (unsigned char)v;
}

static unsigned packedNodes(const orset *s) { return s->u.packed ? s->u.packed[0] : 0; }

/* Where the records start (0 while there is no buffer, and no records). */
static uint32_t packedStart(const orset *s) { return s->u.packed ? 1 + 8 * (uint32_t)s->u.packed[0] : 0; }

static uint64_t packedNode(const orset *s, unsigned i) {
    uint64_t node;
    memcpy(&node, s->u.packed + 1 + 8 * (size_t)i, sizeof(node));
    return node;
}

/* The offset of the record after the one at off. */
static uint32_t packedSkip(const unsigned char *p, uint32_t off) {
    off += 2 + (uint32_t)p[off];
    while (p[off++] & 0x80) {}
    return off;
}

static void packedRead(const orset *s, uint32_t off, osEntry *e) {
    const unsigned char *p = s->u.packed;
    e->off = off;
    e->len = p[off];
    e->m = (const char *)p + off + 1;
    e->n = NULL;
    uint32_t i = off + 1 + (uint32_t)e->len;
    e->d.node = packedNode(s, p[i++]);
    uint64_t counter = 0;
    unsigned shift = 0;
    do {
        counter |= (uint64_t)(p[i] & 0x7f) << shift;
        shift += 7;
    } while (p[i++] & 0x80);
    e->d.counter = counter;
    e->end = i;
}

static int packedFind(const orset *s, const char *m, size_t len, osEntry *e) {
    const unsigned char *p = s->u.packed;
    for (uint32_t off = packedStart(s); off < s->used; off = packedSkip(p, off)) {
        if (p[off] == len && memcmp(p + off + 1, m, len) == 0) {
            packedRead(s, off, e);
            return 1;
        }
    }
    return 0;
}

/* Makes room for extra more bytes, creating the buffer (with an empty node
 * table) if there is none.  Rounds the allocation up to what malloc would
 * give anyway. */
static void packedGrow(orset *s, size_t extra) {
    size_t used = s->u.packed ? s->used : 1, need = used + extra;
    if (s->u.packed && need <= s->cap) return;
    assert(need <= UINT16_MAX);
    size_t cap = ((need + 8 + 15) & ~(size_t)15) - 8;
    if (cap > UINT16_MAX) cap = need;
    unsigned char *p = realloc(s->u.packed, cap);
    if (p == NULL) abort();
    if (s->u.packed == NULL) {
        p[0] = 0;
        s->used = 1;
    }
    s->u.packed = p;
    s->cap = (uint16_t)cap;
}

/* The index of node in the node table, added if new (which moves every
 * record 8 bytes on); -1 if the table is full. */
static int packedNodeIndex(orset *s, uint64_t node) {
    unsigned n = packedNodes(s);
    for (unsigned i = 0; i < n; i++)
        if (packedNode(s, i) == node) return (int)i;
    if (n == OS_PACKED_MAX_NODES) return -1;
    packedGrow(s, sizeof(node));
    unsigned char *p = s->u.packed;
    uint32_t at = 1 + 8 * n;
    memmove(p + at + 8, p + at, s->used - at);
    memcpy(p + at, &node, sizeof(node));
    p[0] = (unsigned char)(n + 1);
    s->used += 8;
    return (int)n;
}

/* Appends a member s does not hold, with one dot; 0 (and s unchanged) if
 * the packed form cannot take it. */
static int packedAppend(orset *s, const char *m, size_t len, dot d) {
    if (s->count >= OS_PACKED_MAX_MEMBERS || len > OS_PACKED_MAX_LEN) return 0;
    int idx = packedNodeIndex(s, d.node);
    if (idx < 0) return 0;
    size_t size = 2 + len + varintLen(d.counter);
    packedGrow(s, size);
    unsigned char *p = s->u.packed + s->used;
    p[0] = (unsigned char)len;
    if (len) memcpy(p + 1, m, len);
    p[1 + len] = (unsigned char)idx;
    varintPut(p + 2 + len, d.counter);
    s->used = (uint16_t)(s->used + size);
    s->count++;
    return 1;
}

/* Gives the member at e the dot d in place; 0 (and s unchanged) if the node
 * table is full. */
static int packedSetDot(orset *s, osEntry *e, dot d) {
    unsigned before = packedNodes(s);
    int idx = packedNodeIndex(s, d.node);
    if (idx < 0) return 0;
    if (packedNodes(s) != before) {
        e->off += 8;
        e->end += 8;
    }
    uint32_t at = e->off + 1 + (uint32_t)e->len;   /* the node byte */
    size_t oldSize = e->end - at, newSize = 1 + varintLen(d.counter);
    if (newSize > oldSize) packedGrow(s, newSize - oldSize);
    unsigned char *p = s->u.packed;
    memmove(p + at + newSize, p + e->end, s->used - e->end);
    s->used = (uint16_t)(s->used + newSize - oldSize);
    p[at] = (unsigned char)idx;
    varintPut(p + at + 1, d.counter);
    return 1;
}

static void packedFree(orset *s) {
    free(s->u.packed);
    s->u.packed = NULL;
    s->used = s->cap = s->count = 0;
}

static void packedDelete(orset *s, const osEntry *e) {
    unsigned char *p = s->u.packed;
    memmove(p + e->off, p + e->end, s->used - e->end);
    s->used = (uint16_t)(s->used - (e->end - e->off));
    if (--s->count == 0) {
        packedFree(s);
    } else if (s->cap - s->used > OS_PACKED_SLACK) {
        size_t cap = ((s->used + 8 + 15) & ~(size_t)15) - 8;
        if ((p = realloc(p, cap)) == NULL) abort();
        s->u.packed = p;
        s->cap = (uint16_t)cap;
    }
}

/* ---------- either form ---------- */

static void entryOfMember(osEntry *e, const osMember *n) {
    e->m = n->m;
    e->len = memberLen(n);
    e->n = (osMember *)n;
    e->d = n->d;
}

static uint32_t entryNDots(const osEntry *e) { return e->n ? memberNDots(e->n) : 1; }

static dot entryDot(const osEntry *e, uint32_t i) { return e->n ? memberDot(e->n, i) : e->d; }

static int entryFind(const orset *s, const char *m, size_t len, osEntry *e) {
    if (!isDictForm(s)) return packedFind(s, m, len, e);
    const osMember *n = memberFind(s->u.big, m, len);
    if (n) entryOfMember(e, n);
    return n != NULL;
}

/* Walks table[0] then table[1] (non-empty only while rehashing): a = table,
 * b = next bucket, cur = next node.  In the packed form a is the offset of
 * the next record (0 before the first). */
void orsetIterInit(orsetIter *it, const orset *s) {
    it->s = s;
    it->a = 0;
    it->b = 0;
    it->cur = NULL;
}

static const osMember *iterNextMember(orsetIter *it) {
    dictLink *next = it->cur;
    dictLink *n = dictWalkNext(&it->s->u.big->d, &it->a, &it->b, &next);
    it->cur = next;
    return (const osMember *)n;
}

static int entryNext(orsetIter *it, osEntry *e) {
    const orset *s = it->s;
    if (isDictForm(s)) {
        const osMember *n = iterNextMember(it);
        if (n) entryOfMember(e, n);
        return n != NULL;
    }
    if (it->a == 0) it->a = packedStart(s);
    if (it->a >= s->used) return 0;
    packedRead(s, (uint32_t)it->a, e);
    it->a = e->end;
    return 1;
}

int orsetIterNext(orsetIter *it, const char **m, size_t *len) {
    osEntry e;
    if (!entryNext(it, &e)) return 0;
    *m = e.m;
    *len = e.len;
    return 1;
}

/* Moves the members into the dict form, for good. */
static void packedToDict(orset *s) {
    assert(!isDictForm(s));
    osDict *od = osDictNew();
    orsetIter it;
    osEntry e;
    orsetIterInit(&it, s);
    while (entryNext(&it, &e)) dictAdd(&od->d, &memberNew(od, e.m, e.len, &e.d, 1)->link);
    packedFree(s);
    s->u.big = od;
    s->flags |= OS_DICT_FORM;
}

orset *orsetNewDelta(void) {
    orset *s = orsetNew();
    packedToDict(s);
    return s;
}

/* Links a member the caller knows is absent, with k >= 1 sorted dots, in
 * the packed form if it fits there. */
static void memberInsert(orset *s, const char *m, size_t len, const dot *dots, uint32_t k) {
    if (!isDictForm(s)) {
        if (k == 1 && packedAppend(s, m, len, dots[0])) return;
        packedToDict(s);
    }
    dictAdd(&s->u.big->d, &memberNew(s->u.big, m, len, dots, k)->link);
}

/* Frees every member and leaves s empty in the packed form. */
static void membersFree(orset *s) {
    if (isDictForm(s)) {
        osDictFree(s->u.big);
        s->u.packed = NULL;
        s->flags &= (uint16_t)~OS_DICT_FORM;
    } else {
        packedFree(s);
    }
}

/* ---------- removed names (deltas only) ---------- */

static void removedDrop(orset *s) {
    if (s->removed == NULL) return;
    osDictFree(s->removed);
    s->removed = NULL;
}

/* The set stops promising to list what it touched (see the file comment). */
static void becomeFullState(orset *s) {
    s->flags &= (uint16_t)~OS_TOUCHED_ONLY;
    removedDrop(s);
}

static void removedNote(orset *s, const char *m, size_t len) {
    if (!isTouchedOnly(s)) return;
    if (s->removed == NULL) s->removed = osDictNew();
    if (dictFind(&s->removed->d, m, len)) return;
    if (dictSize(&s->removed->d) >= OS_REMOVED_MAX) {
        becomeFullState(s);
        return;
    }
    dictAdd(&s->removed->d, &memberNew(s->removed, m, len, NULL, 0)->link);
}

static void removedForget(orset *s, const char *m, size_t len) {
    if (s->removed == NULL) return;
    osMember *n = (osMember *)dictUnlink(&s->removed->d, m, len);
    if (n) memberFree(s->removed, n);
}

/* ---------- life cycle and queries ---------- */

orset *orsetNew(void) {
    orset *s = calloc(1, sizeof(*s));
    if (s == NULL) abort();
    ccInit(&s->cc);
    s->flags = OS_TOUCHED_ONLY;   /* empty: trivially lists everything it touched */
    return s;
}

void orsetFree(orset *s) {
    if (s == NULL) return;
    membersFree(s);
    removedDrop(s);
    ccFree(&s->cc);
    free(s);
}

/* Adds a copy of e (a member of another set) to s, which lacks it. */
static void entryCopy(orset *s, const osEntry *e) {
    dot stack[OS_STACK_DOTS], *dots = stack;
    uint32_t k = entryNDots(e);
    if (k > OS_STACK_DOTS && (dots = malloc((size_t)k * sizeof(dot))) == NULL) abort();
    for (uint32_t i = 0; i < k; i++) dots[i] = entryDot(e, i);
    memberInsert(s, e->m, e->len, dots, k);
    if (dots != stack) free(dots);
}

orset *orsetDup(const orset *s) {
    orset *c = orsetNew();
    ccCopy(&c->cc, &s->cc);
    if (!isDictForm(s)) {
        if (s->u.packed) {
            if ((c->u.packed = malloc(s->used)) == NULL) abort();
            memcpy(c->u.packed, s->u.packed, s->used);
            c->used = c->cap = s->used;
            c->count = s->count;
        }
    } else {
        if (orsetCard(s) > OS_PACKED_MAX_MEMBERS) packedToDict(c);
        orsetIter it;
        osEntry e;
        orsetIterInit(&it, s);
        while (entryNext(&it, &e)) entryCopy(c, &e);
    }
    c->flags = (uint16_t)((c->flags & ~OS_TOUCHED_ONLY) | (s->flags & OS_TOUCHED_ONLY));
    if (s->removed) {
        dictIter di;
        dictIterInit(&di, &s->removed->d);
        for (dictLink *l = dictNext(&di); l; l = dictNext(&di)) {
            const osMember *n = (const osMember *)l;
            removedNote(c, n->m, memberLen(n));
        }
        dictIterEnd(&di);
    }
    return c;
}

size_t orsetCard(const orset *s) { return isDictForm(s) ? (size_t)dictSize(&s->u.big->d) : s->count; }

int orsetContains(const orset *s, const char *m, size_t len) {
    osEntry e;
    return entryFind(s, m, len, &e);
}

const ccontext *orsetContext(const orset *s) { return &s->cc; }

void orsetPrefetch(const orset *s, uint64_t hash, int stage) {
    if (!isDictForm(s)) return;
    if (stage == 0) dictPrefetchBucket(&s->u.big->d, hash);
    else if (stage == 1) dictPrefetchNode(&s->u.big->d, hash);
}

size_t orsetMemory(const orset *s) {
    size_t total = sizeof(*s) + ((size_t)s->cc.capvv + s->cc.capcloud) * sizeof(dot);
    total += isDictForm(s) ? osDictMemory(s->u.big) : s->cap;
    if (s->removed) total += osDictMemory(s->removed);
    return total;
}

/* ---------- local operations ---------- */

/* A delta may accumulate several operations (the ops of one batch): a later
 * op on a member replaces what the delta held for it, whose dots the op
 * observed (they were the member's dots in the state it ran on). */
static void deltaDropMember(orset *delta, const char *m, size_t len) {
    osEntry e;
    if (!entryFind(delta, m, len, &e)) return;
    if (!isDictForm(delta)) {
        packedDelete(delta, &e);
    } else {
        dictUnlink(&delta->u.big->d, e.n->m, e.len);
        memberFree(delta->u.big, e.n);
    }
}

/* Records in delta an add of m with the new dot d that observed old (the
 * member's entry before the add, NULL if it was absent). */
static void addDelta(orset *delta, dot d, const osEntry *old, const char *m, size_t len) {
    ccAdd(&delta->cc, d);
    if (old) {
        uint32_t k = entryNDots(old);
        for (uint32_t i = 0; i < k; i++) ccAdd(&delta->cc, entryDot(old, i));
    }
    deltaDropMember(delta, m, len);
    removedForget(delta, m, len);
    memberInsert(delta, m, len, &d, 1);
}

int orsetAdd(orset *s, uint64_t node, const char *m, size_t len, orset *delta) {
    becomeFullState(s);
    dot d = ccNextDot(&s->cc, node);
    osEntry e;
    int found = entryFind(s, m, len, &e);
    if (delta) addDelta(delta, d, found ? &e : NULL, m, len);
    if (!isDictForm(s)) {
        if (found ? packedSetDot(s, &e, d) : packedAppend(s, m, len, d)) return !found;
        char copy[OS_PACKED_MAX_LEN];
        if (found) {   /* m may point into the buffer the move frees; a packed member is short */
            if (len) memcpy(copy, m, len);
            m = copy;
        }
        packedToDict(s);
        osMember *n = memberFind(s->u.big, m, len);
        if (n) e.n = n;
    }
    if (found) {
        memberSetDots(s->u.big, e.n, &d, 1);   /* the old dots were observed: replaced */
        return 0;
    }
    dictAdd(&s->u.big->d, &memberNew(s->u.big, m, len, &d, 1)->link);
    return 1;
}

int orsetRemove(orset *s, const char *m, size_t len, orset *delta) {
    becomeFullState(s);
    osEntry e;
    if (!entryFind(s, m, len, &e)) return 0;
    if (delta) {   /* before the removal: m may point into s */
        uint32_t k = entryNDots(&e);
        for (uint32_t i = 0; i < k; i++) ccAdd(&delta->cc, entryDot(&e, i));
        deltaDropMember(delta, m, len);
        removedNote(delta, m, len);
    }
    if (!isDictForm(s)) {
        packedDelete(s, &e);
    } else {
        dictUnlink(&s->u.big->d, e.n->m, e.len);
        memberFree(s->u.big, e.n);
    }
    return 1;
}

/* The delta's context is the whole context: every dot seen is either held by
 * a member being removed or already dead, so it removes exactly what the
 * clear observed, and a version vector is far smaller than the list of every
 * removed dot. */
void orsetClear(orset *s, orset *delta) {
    becomeFullState(s);
    if (delta) {   /* whatever the delta held came from s: the clear removes it too */
        ccMerge(&delta->cc, &s->cc);
        membersFree(delta);
        becomeFullState(delta);
    }
    membersFree(s);
}

orset *orsetEmptyLike(const orset *s) {
    orset *e = orsetNew();
    ccCopy(&e->cc, &s->cc);
    becomeFullState(e);
    return e;
}

void orsetObserveUpTo(orset *s, uint64_t node, uint64_t floor) {
    becomeFullState(s);      /* its context now holds dots no member lists */
    ccObserveUpTo(&s->cc, node, floor);
}

/* ---------- merge ---------- */

/* The join of one member: s's dots (se, may be NULL) and other's (oe, may be
 * NULL), into kept (room for both lists); returns how many survive.  A dot of
 * s survives if other holds it too or has not seen it; a dot of other
 * survives if s has not seen it (if s holds it, it is in s's context).  s's
 * context is not merged yet when this runs.  Both dot lists are sorted, so
 * the result is a merge of two sorted filtered lists. */
static uint32_t joinDots(const osEntry *se, const ccontext *scc, const osEntry *oe, const ccontext *occ, dot *kept) {
    uint32_t ns = se ? entryNDots(se) : 0, no = oe ? entryNDots(oe) : 0, n = 0, a = 0, b = 0;
    while (a < ns || b < no) {
        dot da = a < ns ? entryDot(se, a) : (dot){0, 0}, db = b < no ? entryDot(oe, b) : (dot){0, 0};
        int cmp = b == no ? -1 : a == ns ? 1 : dotCmp(da, db);
        if (cmp <= 0) {
            if (cmp == 0 || !ccContains(occ, da)) kept[n++] = da;
            a++;
            if (cmp == 0) b++;
        } else {
            if (!ccContains(scc, db)) kept[n++] = db;
            b++;
        }
    }
    return n;
}

/* Room for the join of se and oe: the stack array, or a malloc'd one. */
static dot *joinRoom(const osEntry *se, const osEntry *oe, dot *stack) {
    uint32_t need = (se ? entryNDots(se) : 0) + (oe ? entryNDots(oe) : 0);
    dot *p = stack;
    if (need > OS_STACK_DOTS && (p = malloc((size_t)need * sizeof(dot))) == NULL) abort();
    return p;
}

/* Joins one member into a dict-form s: sm is s's node (may be NULL), oe
 * other's entry (may be NULL). */
static void mergeMember(orset *s, osMember *sm, const osEntry *oe, const ccontext *occ, const char *m, size_t len) {
    osEntry se;
    if (sm) entryOfMember(&se, sm);
    dot stack[OS_STACK_DOTS], *kept = joinRoom(sm ? &se : NULL, oe, stack);
    uint32_t n = joinDots(sm ? &se : NULL, &s->cc, oe, occ, kept);
    osDict *od = s->u.big;
    if (n == 0) {
        removedNote(s, m, len);   /* before the free: m may point into sm */
        if (sm) {
            dictUnlink(&od->d, m, len);
            memberFree(od, sm);
        }
    } else if (sm) {
        memberSetDots(od, sm, kept, n);
    } else {
        dictAdd(&od->d, &memberNew(od, m, len, kept, n)->link);
        removedForget(s, m, len);
    }
    if (kept != stack) free(kept);
}

/* Merges the members a touchedOnly delta lists (oit) into the dict-form s,
 * in order.  Into a large set each lookup is a cache miss or two: members are
 * read MERGE_AHEAD ahead of their merge, their buckets prefetched then and
 * their nodes half way. */
#define MERGE_AHEAD 8
static void mergeListed(orset *s, orsetIter *oit, const ccontext *occ) {
    dict *sd = &s->u.big->d;
    osEntry ring[MERGE_AHEAD];
    uint64_t hash[MERGE_AHEAD];
    uint32_t filled = 0;
    while (filled < MERGE_AHEAD && entryNext(oit, &ring[filled])) {
        hash[filled] = dictHashKey(ring[filled].m, ring[filled].len);
        dictPrefetchBucket(sd, hash[filled]);
        filled++;
    }
    for (uint32_t done = 0; done < filled; done++) {
        uint32_t i = done % MERGE_AHEAD;
        if (done + MERGE_AHEAD / 2 < filled) dictPrefetchNode(sd, hash[(done + MERGE_AHEAD / 2) % MERGE_AHEAD]);
        osEntry *oe = &ring[i];
        mergeMember(s, (osMember *)dictFindHashed(sd, oe->m, oe->len, hash[i]), oe, occ, oe->m, oe->len);
        if (entryNext(oit, &ring[i])) {
            hash[i] = dictHashKey(ring[i].m, ring[i].len);
            dictPrefetchBucket(sd, hash[i]);
            filled++;
        }
    }
}

static void mergeIntoDict(orset *s, const orset *other) {
    dict *sd = &s->u.big->d;
    dictIter it;
    dictLink *l;
    orsetIter oit;
    osEntry oe;
    orsetIterInit(&oit, other);
    if (!isTouchedOnly(other)) {
        becomeFullState(s);
        /* Every member of s may lose dots to other's context. */
        dictIterSafe(&it, sd);
        while ((l = dictNext(&it)) != NULL) {
            osMember *sm = (osMember *)l;
            int found = entryFind(other, sm->m, memberLen(sm), &oe);
            mergeMember(s, sm, found ? &oe : NULL, &other->cc, sm->m, memberLen(sm));
        }
        dictIterEnd(&it);
        /* Members only other holds (or that s just dropped: the join then
         * keeps nothing again, so revisiting them is harmless). */
        while (entryNext(&oit, &oe))
            if (dictFind(sd, oe.m, oe.len) == NULL) mergeMember(s, NULL, &oe, &other->cc, oe.m, oe.len);
    } else {
        /* other's context can only remove dots of the members it lists */
        mergeListed(s, &oit, &other->cc);
        if (other->removed) {
            dictIterInit(&it, &other->removed->d);
            while ((l = dictNext(&it)) != NULL) {
                const osMember *rm = (const osMember *)l;
                osMember *sm = (osMember *)dictFind(sd, rm->m, memberLen(rm));
                if (sm) mergeMember(s, sm, NULL, &other->cc, rm->m, memberLen(rm));
                else removedNote(s, rm->m, memberLen(rm));
            }
            dictIterEnd(&it);
        }
    }
}

/* Joins the member e (of s, or of other when sHas is 0) into the packed
 * result; 0 if the result leaves the packed form. */
static int joinIntoPacked(orset *result, const orset *s, const osEntry *se, const orset *other, const osEntry *oe) {
    dot stack[OS_STACK_DOTS], *kept = joinRoom(se, oe, stack);
    uint32_t n = joinDots(se, &s->cc, oe, &other->cc, kept);
    const osEntry *e = se ? se : oe;
    int fits = n == 0 || (n == 1 && packedAppend(result, e->m, e->len, kept[0]));
    if (kept != stack) free(kept);
    return fits;
}

/* A delta merged into a delta: notes what the join removed from s and
 * forgets names it brought back, as mergeMember does one by one.  result
 * holds the joined members; s still holds its own. */
static void noteTouchedPacked(orset *s, const orset *result, const orset *other) {
    orsetIter it;
    osEntry e, x;
    orsetIterInit(&it, s);
    while (entryNext(&it, &e))
        if (!packedFind(result, e.m, e.len, &x)) removedNote(s, e.m, e.len);
    orsetIterInit(&it, other);
    while (entryNext(&it, &e)) {
        if (packedFind(s, e.m, e.len, &x)) continue;
        if (packedFind(result, e.m, e.len, &x)) removedForget(s, e.m, e.len);
        else removedNote(s, e.m, e.len);
    }
    if (other->removed) {
        dictIter di;
        dictIterInit(&di, &other->removed->d);
        for (dictLink *l = dictNext(&di); l; l = dictNext(&di)) {
            const osMember *rm = (const osMember *)l;
            if (!packedFind(s, rm->m, memberLen(rm), &x)) removedNote(s, rm->m, memberLen(rm));
        }
        dictIterEnd(&di);
    }
}

/* Merges other into a packed s by building the joined members in a new
 * buffer, so s's members stay put while they are read.  Visits what the dict
 * form's merge visits: when other is touchedOnly, a member it does not list
 * is copied as it is, so that the result never depends on the form, not even
 * for a delta that breaks its promise.  Returns 0, with s unchanged, if the
 * result does not fit the packed form. */
static int mergeIntoPacked(orset *s, const orset *other) {
    orset result;
    memset(&result, 0, sizeof(result));
    orsetIter it;
    osEntry se, oe;
    int fits = 1;
    orsetIterInit(&it, s);
    while (fits && entryNext(&it, &se)) {
        int found = entryFind(other, se.m, se.len, &oe);
        if (!found && isTouchedOnly(other) &&
            !(other->removed && dictFindReadOnly(&other->removed->d, se.m, se.len)))
            fits = packedAppend(&result, se.m, se.len, se.d);
        else
            fits = joinIntoPacked(&result, s, &se, other, found ? &oe : NULL);
    }
    orsetIterInit(&it, other);
    while (fits && entryNext(&it, &oe))
        if (!packedFind(s, oe.m, oe.len, &se)) fits = joinIntoPacked(&result, s, NULL, other, &oe);
    if (!fits) {
        packedFree(&result);
        return 0;
    }
    if (!isTouchedOnly(other)) becomeFullState(s);
    else if (isTouchedOnly(s)) noteTouchedPacked(s, &result, other);
    packedFree(s);
    s->u.packed = result.u.packed;
    s->used = result.used;
    s->cap = result.cap;
    s->count = result.count;
    return 1;
}

void orsetMerge(orset *s, const orset *other) {
    if (s == other) return;
    if (isDictForm(s) || !mergeIntoPacked(s, other)) {
        if (!isDictForm(s)) packedToDict(s);
        mergeIntoDict(s, other);
    }
    ccMerge(&s->cc, &other->cc);
}

/* ---------- random, scan ---------- */

int orsetRandom(const orset *s, uint64_t (*rnd)(void), const char **m, size_t *len) {
    if (!isDictForm(s)) {
        if (s->count == 0) return 0;
        uint64_t skip = rnd() % s->count;
        uint32_t off = packedStart(s);
        while (skip--) off = packedSkip(s->u.packed, off);
        osEntry e;
        packedRead(s, off, &e);
        *m = e.m;
        *len = e.len;
        return 1;
    }
    /* as memberFind: no bucket moves under a running iteration */
    const osMember *n = (const osMember *)dictRandomReadOnly(&s->u.big->d, rnd);
    if (n == NULL) return 0;
    *m = n->m;
    *len = memberLen(n);
    return 1;
}

/* A packed set is small: one call visits it all (as Redis does for its
 * intsets and listpacks). */
uint64_t orsetScan(const orset *s, uint64_t cursor, void (*fn)(const char *m, size_t len, void *ctx), void *ctx) {
    if (!isDictForm(s)) {
        orsetIter it;
        osEntry e;
        orsetIterInit(&it, s);
        while (entryNext(&it, &e)) fn(e.m, e.len, ctx);
        return 0;
    }
    return dictScanKeys(&s->u.big->d, cursor, fn, ctx);
}

/* ---------- equality and digest ---------- */

static int entryDotsEqual(const osEntry *a, const osEntry *b) {
    uint32_t k = entryNDots(a);
    if (k != entryNDots(b)) return 0;
    for (uint32_t i = 0; i < k; i++)
        if (!dotEq(entryDot(a, i), entryDot(b, i))) return 0;
    return 1;
}

int orsetEqual(const orset *a, const orset *b) {
    if (orsetCard(a) != orsetCard(b) || !ccEqual(&a->cc, &b->cc)) return 0;
    orsetIter it;
    osEntry ea, eb;
    orsetIterInit(&it, a);
    while (entryNext(&it, &ea))
        if (!entryFind(b, ea.m, ea.len, &eb) || !entryDotsEqual(&ea, &eb)) return 0;
    return 1;
}

/* Members' digests (nodeDigest) are summed, which does not depend on table
 * order or form; the context's canonical digest and the count close it.  The
 * dict form keeps the sum once asked for (osDict.dsum). */
uint64_t orsetDigest(const orset *s) {
    osDict *od = isDictForm(s) ? s->u.big : NULL;   /* the cache is not part of the value */
    if (!od || !od->dsumValid) {
        uint64_t sum = 0;
        orsetIter it;
        osEntry e;
        orsetIterInit(&it, s);
        while (entryNext(&it, &e))   /* a packed member has one dot */
            sum += e.n ? nodeDigest(e.n) : ccHashWords(XXH3_64bits_withSeed(e.m, e.len, OS_DIGEST_SEED), e.d.node, e.d.counter);
        if (!od) return ccHashWords(ccDigest(&s->cc, OS_DIGEST_SEED), sum, orsetCard(s));
        od->dsum = sum;
        od->dsumValid = 1;
    }
    return ccHashWords(ccDigest(&s->cc, OS_DIGEST_SEED), od->dsum, orsetCard(s));
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

void orsetEncode(const orset *s, cbuf *b) {
    cbufPutByte(b, ORSET_FORMAT_VERSION);
    cbufPutByte(b, isTouchedOnly(s) ? ORSET_FLAG_TOUCHED_ONLY : 0);
    ccEncode(&s->cc, b);
    uint32_t nn;
    uint64_t *nodes = ccNodes(&s->cc, &nn);
    cbufPutVarint(b, orsetCard(s));
    orsetIter it;
    osEntry e;
    orsetIterInit(&it, s);
    while (entryNext(&it, &e)) {
        uint32_t k = entryNDots(&e);
        cbufPutBytes(b, e.m, e.len);
        cbufPutVarint(b, k);
        for (uint32_t i = 0; i < k; i++) {
            dot d = entryDot(&e, i);
            cbufPutVarint(b, ccNodeIndex(nodes, nn, d.node));
            cbufPutVarint(b, d.counter);
        }
    }
    free(nodes);
    if (isTouchedOnly(s)) {
        cbufPutVarint(b, s->removed ? dictSize(&s->removed->d) : 0);
        if (s->removed) {
            dictIter di;
            dictIterInit(&di, &s->removed->d);
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
    if (creaderGetVarint(r, &k) < 0 || k == 0 || k > creaderLeft(r) / 2 || k > UINT32_MAX / 2) return 0;
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
    nodes = ccNodes(&s->cc, &nn);
    uint64_t count;
    /* A member takes at least 3 bytes: length, dot count, one 2-byte dot. */
    if (creaderGetVarint(r, &count) < 0 || count > creaderLeft(r) / 3) goto bad;
    if (count > OS_PACKED_MAX_MEMBERS) packedToDict(s);
    /* a repeated member is malformed: in the packed form, where a lookup is a
     * scan, the names' hashes seen so far tell which lookups are needed */
    uint64_t seen[2 * OS_PACKED_MAX_MEMBERS];
    uint32_t seenSize = dictHashNoteSize(count);
    memset(seen, 0, seenSize * sizeof(seen[0]));
    for (uint64_t i = 0; i < count; i++) {
        const char *m;
        size_t len;
        if (creaderGetBytes(r, &m, &len) < 0 || len > OS_LEN_MASK) goto bad;
        if (isDictForm(s)) {
            if (orsetContains(s, m, len)) goto bad;
        } else if (dictHashNote(seen, seenSize, dictHashKey(m, len)) && orsetContains(s, m, len)) {
            goto bad;
        }
        uint32_t k = decodeDots(r, &s->cc, nodes, nn, &dots, &cap);
        if (k == 0) goto bad;
        memberInsert(s, m, len, dots, k);
    }
    if (!(flags & ORSET_FLAG_TOUCHED_ONLY)) becomeFullState(s);
    if (isTouchedOnly(s)) {
        uint64_t nremoved;
        if (creaderGetVarint(r, &nremoved) < 0 || nremoved > creaderLeft(r)) goto bad;
        for (uint64_t i = 0; i < nremoved; i++) {
            const char *m;
            size_t len;
            if (creaderGetBytes(r, &m, &len) < 0 || len > OS_LEN_MASK) goto bad;
            if (orsetContains(s, m, len) || (s->removed && dictFind(&s->removed->d, m, len))) goto bad;
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
