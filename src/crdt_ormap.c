/* crdt_ormap.c - the observed-remove map behind Redis hashes (semantics in
 * crdt_ormap.h): per field a set of entries (dot, reg), add-wins presence,
 * the value the merge of the entries' registers.
 *
 * Owns the fields (an intrusive dict of omField nodes), their entries and the
 * map's causal context.  Pure: no sockets, no globals, no logging; allocation
 * failure aborts.
 *
 * Memory.  A field is one allocation: dictLink, its entry with the smallest
 * dot inline (the dot and a reg, which for a plain value is the version and a
 * pointer to the value bytes), its length and its bytes.  The rare extra
 * concurrent entries live in a separate array.  HSET of an existing field
 * rewrites the inline entry in place: the only allocation is the new value.
 *
 * Counters.  A reg keeps per node a running total (seq, sums) and takes the
 * total with the higher seq, which assumes a node's totals for one register
 * only ever grow.  A map breaks that assumption: after HDEL a node starts a
 * field afresh, while a concurrent entry elsewhere may still carry its old
 * total, and regIncrBy alone would reuse seq 1 with another sum.  So every
 * increment here claims the new entry's dot counter as the node's seq: seqs of
 * one node are then unique and grow across every register of the map, and the
 * latest total of a node wins wherever the two meet.
 *
 * Deltas.  A delta is an ormap like any other, with the promise orset's deltas
 * make (see crdt_orset.c) so that merging it into a large hash visits only
 * what it touched: when touchedOnly is set, every dot of its context that can
 * still be live anywhere belongs to a field it lists, either in fields or in
 * removed (names of fields it removed, with no entries).  The dots of one
 * write belong to one field everywhere, so the promise holds for the deltas of
 * HSET, HDEL, HINCRBY and merges of such deltas; a full state, a clear's delta
 * and anything merged with them do not keep it.  removed is bounded
 * (OM_REMOVED_MAX): past it the promise is dropped, so a map built by merging
 * deltas cannot accumulate names.  Neither is part of the logical state:
 * equality and the digest ignore them. */
#include "crdt_ormap.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define ORMAP_FORMAT_VERSION 1
#define ORMAP_FLAG_TOUCHED_ONLY 1
#define OM_REMOVED_MAX 64           /* names a delta may carry before it becomes a full state */
#define OM_STACK_ENTRIES 8
#define OM_DIGEST_SEED 0x6f726d6170763031ULL   /* "ormapv01" */
/* Smallest encodings, to bound counts by the bytes left before looping:
 * an entry is a node index, a counter and a reg (format, flags, ntot). */
#define OM_MIN_ENTRY_BYTES 5
#define OM_MIN_FIELD_BYTES (2 + OM_MIN_ENTRY_BYTES)

typedef struct omEntry {
    dot d;
    reg r;
} omEntry;

typedef struct omField {
    dictLink link;      /* first, as dict.h requires */
    uint32_t flen;
    uint32_t nextra;    /* entries in extra */
    omEntry *extra;     /* entries after e, sorted by dot, NULL if none */
    omEntry e;          /* the entry with the smallest dot */
    char f[];
} omField;

/* A field a touchedOnly delta removed (no entries). */
typedef struct omName {
    dictLink link;
    uint32_t flen;
    char f[];
} omName;

struct ormap {
    dict fields;
    ccontext cc;
    dict *removed;      /* NULL unless a touchedOnly delta removed fields */
    size_t bytes;       /* field and name nodes with their entries' heap */
    int touchedOnly;
};

static void *xmalloc(size_t n) {
    void *p = malloc(n);
    if (p == NULL) abort();
    return p;
}

/* ---------- field nodes ---------- */

static const char *fieldKey(const dictLink *node, size_t *len) {
    const omField *n = (const omField *)node;
    *len = n->flen;
    return n->f;
}

static const char *nameKey(const dictLink *node, size_t *len) {
    const omName *n = (const omName *)node;
    *len = n->flen;
    return n->f;
}

static uint32_t fieldNEntries(const omField *n) { return 1 + n->nextra; }

static omEntry *fieldEntry(omField *n, uint32_t i) { return i == 0 ? &n->e : &n->extra[i - 1]; }

static const omEntry *fieldEntryC(const omField *n, uint32_t i) { return i == 0 ? &n->e : &n->extra[i - 1]; }

/* Bytes a field accounts for: its node, its extra entries, its regs' heap. */
static size_t fieldFootprint(const omField *n) {
    size_t size = offsetof(omField, f) + n->flen + (size_t)n->nextra * sizeof(omEntry);
    for (uint32_t i = 0; i < fieldNEntries(n); i++) size += regMemory(&fieldEntryC(n, i)->r);
    return size;
}

/* A node with one empty entry (dot {0,0}, regInit), not linked, not counted. */
static omField *fieldNew(const char *f, size_t flen) {
    if (flen > UINT32_MAX) abort();
    omField *n = xmalloc(offsetof(omField, f) + flen);
    n->link.next = NULL;
    n->flen = (uint32_t)flen;
    n->nextra = 0;
    n->extra = NULL;
    n->e.d = (dot){0, 0};
    regInit(&n->e.r);
    if (flen) memcpy(n->f, f, flen);
    return n;
}

/* Leaves the node with one empty entry. */
static void fieldFreeEntries(omField *n) {
    for (uint32_t i = 0; i < fieldNEntries(n); i++) regFree(&fieldEntry(n, i)->r);
    free(n->extra);
    n->extra = NULL;
    n->nextra = 0;
}

static void fieldFree(omField *n) {
    fieldFreeEntries(n);
    free(n);
}

/* Gives a field the k >= 1 sorted entries (taking over their regs). */
static void fieldSetEntries(omField *n, const omEntry *ents, uint32_t k) {
    assert(k >= 1);
    n->e = ents[0];
    if (k - 1 != n->nextra) {
        if (k == 1) {
            free(n->extra);
            n->extra = NULL;
        } else {
            n->extra = realloc(n->extra, (size_t)(k - 1) * sizeof(omEntry));
            if (n->extra == NULL) abort();
        }
        n->nextra = k - 1;
    }
    if (k > 1) memcpy(n->extra, ents + 1, (size_t)(k - 1) * sizeof(omEntry));
}

/* A local write observes every entry of the field: their regs are merged
 * into the inline one, which the write then overwrites with its own dot.
 * Observed dots go to cc (the delta's context) when it is not NULL. */
static void fieldTakeObserved(omField *n, ccontext *cc) {
    if (cc && n->e.d.counter) ccAdd(cc, n->e.d);
    for (uint32_t i = 0; i < n->nextra; i++) {
        if (cc) ccAdd(cc, n->extra[i].d);
        regMerge(&n->e.r, &n->extra[i].r);
        regFree(&n->extra[i].r);
    }
    free(n->extra);
    n->extra = NULL;
    n->nextra = 0;
}

/* Lookups through a const map must not move rehash buckets under a running
 * ormapIter, so they pause rehashing (a counter in the dict, not logical state). */
static omField *fieldFind(const ormap *m, const char *f, size_t flen) {
    dict *d = (dict *)&m->fields;
    d->pauserehash++;
    omField *n = (omField *)dictFind(d, f, flen);
    d->pauserehash--;
    return n;
}

static void fieldFreeCb(dictLink *node, void *ctx) {
    ormap *m = ctx;
    omField *n = (omField *)node;
    m->bytes -= fieldFootprint(n);
    fieldFree(n);
}

static void fieldUnlinkFree(ormap *m, omField *n) {
    dictUnlink(&m->fields, n->f, n->flen);
    fieldFreeCb(&n->link, m);
}

/* ---------- iteration ---------- */

/* Walks table[0] then table[1] (non-empty only while rehashing): a = table,
 * b = next bucket, cur = next node. */
void ormapIterInit(ormapIter *it, const ormap *m) {
    it->m = m;
    it->a = 0;
    it->b = 0;
    it->cur = NULL;
}

static const omField *iterNextField(ormapIter *it) {
    const dict *d = &it->m->fields;
    while (it->cur == NULL) {
        if (it->a >= 2) return NULL;
        if (it->b >= d->size[it->a]) {
            it->a++;
            it->b = 0;
            continue;
        }
        it->cur = d->table[it->a][it->b++];
    }
    const omField *n = it->cur;
    it->cur = n->link.next;
    return n;
}

int ormapIterNext(ormapIter *it, const char **f, size_t *flen) {
    const omField *n = iterNextField(it);
    if (n == NULL) return 0;
    *f = n->f;
    *flen = n->flen;
    return 1;
}

/* ---------- removed names (deltas only) ---------- */

static void nameFreeCb(dictLink *node, void *ctx) {
    ormap *m = ctx;
    omName *n = (omName *)node;
    m->bytes -= offsetof(omName, f) + n->flen;
    free(n);
}

static void removedDrop(ormap *m) {
    if (m->removed == NULL) return;
    dictClear(m->removed, nameFreeCb, m);
    free(m->removed);
    m->removed = NULL;
}

/* The map stops promising to list what it touched (see the file comment). */
static void becomeFullState(ormap *m) {
    m->touchedOnly = 0;
    removedDrop(m);
}

static void removedNote(ormap *m, const char *f, size_t flen) {
    if (!m->touchedOnly) return;
    if (m->removed == NULL) {
        m->removed = xmalloc(sizeof(dict));
        dictInit(m->removed, nameKey);
    }
    if (dictFind(m->removed, f, flen)) return;
    if (dictSize(m->removed) >= OM_REMOVED_MAX) {
        becomeFullState(m);
        return;
    }
    omName *n = xmalloc(offsetof(omName, f) + flen);
    n->link.next = NULL;
    n->flen = (uint32_t)flen;
    if (flen) memcpy(n->f, f, flen);
    m->bytes += offsetof(omName, f) + flen;
    dictAdd(m->removed, &n->link);
}

static void removedForget(ormap *m, const char *f, size_t flen) {
    if (m->removed == NULL) return;
    dictLink *n = dictUnlink(m->removed, f, flen);
    if (n) nameFreeCb(n, m);
}

/* Calls fn on every removed name (the dict is not modified meanwhile). */
static void removedEach(const ormap *m, void (*fn)(const char *f, size_t flen, void *ctx), void *ctx) {
    if (m->removed == NULL) return;
    dictIter it;
    dictIterInit(&it, m->removed);
    for (dictLink *l = dictNext(&it); l; l = dictNext(&it)) fn(((omName *)l)->f, ((omName *)l)->flen, ctx);
    dictIterEnd(&it);
}

static void removedNoteCb(const char *f, size_t flen, void *ctx) { removedNote(ctx, f, flen); }

/* ---------- life cycle and queries ---------- */

ormap *ormapNew(void) {
    ormap *m = calloc(1, sizeof(*m));
    if (m == NULL) abort();
    dictInit(&m->fields, fieldKey);
    ccInit(&m->cc);
    m->touchedOnly = 1;   /* empty: trivially lists everything it touched */
    return m;
}

void ormapFree(ormap *m) {
    if (m == NULL) return;
    dictClear(&m->fields, fieldFreeCb, m);
    removedDrop(m);
    ccFree(&m->cc);
    free(m);
}

static omField *fieldCopy(const omField *n) {
    omField *c = fieldNew(n->f, n->flen);
    uint32_t k = fieldNEntries(n);
    if (k > 1) {
        c->extra = xmalloc((size_t)(k - 1) * sizeof(omEntry));
        c->nextra = k - 1;
    }
    for (uint32_t i = 0; i < k; i++) {
        fieldEntry(c, i)->d = fieldEntryC(n, i)->d;
        regCopy(&fieldEntry(c, i)->r, &fieldEntryC(n, i)->r);
    }
    return c;
}

ormap *ormapDup(const ormap *m) {
    ormap *c = ormapNew();
    ccCopy(&c->cc, &m->cc);
    ormapIter it;
    ormapIterInit(&it, m);
    for (const omField *n = iterNextField(&it); n; n = iterNextField(&it)) {
        omField *nc = fieldCopy(n);
        c->bytes += fieldFootprint(nc);
        dictAdd(&c->fields, &nc->link);
    }
    c->touchedOnly = m->touchedOnly;
    removedEach(m, removedNoteCb, c);
    return c;
}

size_t ormapLen(const ormap *m) { return (size_t)dictSize(&m->fields); }

int ormapExists(const ormap *m, const char *f, size_t flen) { return fieldFind(m, f, flen) != NULL; }

/* The merge of a field's regs into out (regInit'ed: the bottom of the join). */
static void fieldMergedReg(const omField *n, reg *out) {
    for (uint32_t i = 0; i < fieldNEntries(n); i++) regMerge(out, &fieldEntryC(n, i)->r);
}

/* One entry (the usual case): its reg's value, the stored bytes when plain.
 * Several: their merge; bytes that regValue takes from the merged base are
 * those of the entry that wrote it, so the answer never points into the
 * temporary merge (and never needs the value to fit in buf). */
const char *ormapGet(const ormap *m, const char *f, size_t flen, char *buf, size_t *vlen) {
    const omField *n = fieldFind(m, f, flen);
    if (n == NULL) return NULL;
    if (n->nextra == 0) return regValue(&n->e.r, buf, vlen);
    reg merged;
    regInit(&merged);
    fieldMergedReg(n, &merged);
    const char *v = regValue(&merged, buf, vlen);
    if (merged.val != NULL && v == merged.val) {
        v = NULL;
        for (uint32_t i = 0; i < fieldNEntries(n) && v == NULL; i++) {
            const reg *r = &fieldEntryC(n, i)->r;
            if (r->present && versionCmp(r->ver, merged.ver) == 0 && r->len == merged.len &&
                (r->len == 0 || memcmp(r->val, merged.val, r->len) == 0))
                v = r->val;
        }
        assert(v != NULL);   /* a merged base is a copy of one of the entries' */
    }
    regFree(&merged);
    return v;
}

int ormapFieldReg(const ormap *m, const char *f, size_t flen, reg *out) {
    const omField *n = fieldFind(m, f, flen);
    if (n == NULL) return 0;
    fieldMergedReg(n, out);
    return 1;
}

const ccontext *ormapContext(const ormap *m) { return &m->cc; }

size_t ormapMemory(const ormap *m) {
    size_t total = sizeof(*m) + m->bytes + dictTableBytes(&m->fields);
    total += ((size_t)m->cc.capvv + m->cc.capcloud) * sizeof(dot);
    if (m->removed) total += sizeof(dict) + dictTableBytes(m->removed);
    return total;
}

/* ---------- local operations ---------- */

/* Puts the field's (only) entry into the delta, replacing whatever the delta
 * held for it: that was written by earlier operations of this map on the
 * field, which the new write observed. */
static void deltaPut(ormap *delta, const omField *n) {
    assert(n->nextra == 0);
    ccAdd(&delta->cc, n->e.d);
    omField *dn = (omField *)dictFind(&delta->fields, n->f, n->flen);
    if (dn) {
        delta->bytes -= fieldFootprint(dn);
        fieldFreeEntries(dn);
    } else {
        dn = fieldNew(n->f, n->flen);
        dictAdd(&delta->fields, &dn->link);
        removedForget(delta, n->f, n->flen);
    }
    dn->e.d = n->e.d;
    regCopy(&dn->e.r, &n->e.r);
    delta->bytes += fieldFootprint(dn);
}

/* The start of a local write of f: the field's node with its observed
 * entries folded into the inline one (a new node if absent), uncounted in
 * m->bytes until writeEnd.  *isNew tells whether the field was absent. */
static omField *writeBegin(ormap *m, const char *f, size_t flen, ormap *delta, int *isNew) {
    becomeFullState(m);
    omField *n = (omField *)dictFind(&m->fields, f, flen);
    *isNew = n == NULL;
    if (n == NULL) {
        n = fieldNew(f, flen);
        dictAdd(&m->fields, &n->link);
    } else {
        m->bytes -= fieldFootprint(n);
        fieldTakeObserved(n, delta ? &delta->cc : NULL);
    }
    return n;
}

static void writeEnd(ormap *m, omField *n, dot d, ormap *delta) {
    n->e.d = d;
    m->bytes += fieldFootprint(n);
    if (delta) deltaPut(delta, n);
}

int ormapSet(ormap *m, uint64_t node, version v, const char *f, size_t flen,
             const char *val, size_t vlen, ormap *delta) {
    int isNew;
    omField *n = writeBegin(m, f, flen, delta, &isNew);
    dot d = ccNextDot(&m->cc, node);
    regSet(&n->e.r, v, val, vlen, NULL);
    writeEnd(m, n, d, delta);
    return isNew;
}

/* The node's total in r (which the increment just created or advanced) takes
 * the dot counter as its seq; see "Counters" in the file comment. */
static void totalClaimSeq(reg *r, uint64_t node, uint64_t seq) {
    for (uint32_t i = 0; i < r->ntot; i++) {
        if (r->tot[i].node != node) continue;
        if (r->tot[i].seq < seq) r->tot[i].seq = seq;
        return;
    }
    assert(!"the increment's total is missing");
}

/* The version is not needed: an increment is no base write, and its order
 * against other increments is the node's seq. */
void ormapIncrBy(ormap *m, uint64_t node, version v, const char *f, size_t flen, int64_t by, ormap *delta) {
    int isNew;
    omField *n = writeBegin(m, f, flen, delta, &isNew);
    dot d = ccNextDot(&m->cc, node);
    regIncrBy(&n->e.r, node, by, NULL);
    totalClaimSeq(&n->e.r, node, d.counter);
    writeEnd(m, n, d, delta);
}

void ormapIncrByFloat(ormap *m, uint64_t node, version v, const char *f, size_t flen, long double by, ormap *delta) {
    int isNew;
    omField *n = writeBegin(m, f, flen, delta, &isNew);
    dot d = ccNextDot(&m->cc, node);
    regIncrByFloat(&n->e.r, node, by, NULL);
    totalClaimSeq(&n->e.r, node, d.counter);
    writeEnd(m, n, d, delta);
}

int ormapDel(ormap *m, const char *f, size_t flen, ormap *delta) {
    becomeFullState(m);
    omField *n = (omField *)dictFind(&m->fields, f, flen);
    if (n == NULL) return 0;
    if (delta) {
        for (uint32_t i = 0; i < fieldNEntries(n); i++) ccAdd(&delta->cc, fieldEntry(n, i)->d);
        omField *dn = (omField *)dictFind(&delta->fields, f, flen);
        if (dn) fieldUnlinkFree(delta, dn);
        removedNote(delta, f, flen);
    }
    fieldUnlinkFree(m, n);
    dictShrinkIfSparse(&m->fields);
    return 1;
}

/* The delta's context is the whole context: every dot seen is either held by
 * a field being removed or already dead, so it removes exactly what the
 * clear observed, and a version vector is far smaller than every removed dot.
 * Whatever the delta held came from this map, so the clear removes it too. */
void ormapClear(ormap *m, ormap *delta) {
    becomeFullState(m);
    if (delta) {
        ccMerge(&delta->cc, &m->cc);
        dictClear(&delta->fields, fieldFreeCb, delta);
        becomeFullState(delta);
    }
    dictClear(&m->fields, fieldFreeCb, m);
}

/* ---------- merge ---------- */

/* The join of one field: m's entries (n, may be NULL) and other's (on, may be
 * NULL).  An entry of m survives if other holds its dot too (their regs are
 * merged) or has not seen it; an entry of other survives if m has not seen it
 * (if m holds it, it is in m's context).  m's context is not merged yet when
 * this runs.  Both entry lists are sorted by dot, so this is a merge of two
 * sorted filtered lists. */
static void mergeField(ormap *m, omField *n, const omField *on, const ccontext *occ, const char *f, size_t flen) {
    uint32_t nm = n ? fieldNEntries(n) : 0, no = on ? fieldNEntries(on) : 0, k = 0;
    if (nm == 1 && no == 1 && dotEq(n->e.d, on->e.d)) {   /* the usual case: the same write */
        m->bytes -= fieldFootprint(n);
        regMerge(&n->e.r, &on->e.r);
        m->bytes += fieldFootprint(n);
        return;
    }
    if (nm == 1 && no == 0 && !ccContains(occ, n->e.d)) return;
    if (n) m->bytes -= fieldFootprint(n);
    omEntry stack[OM_STACK_ENTRIES], *kept = stack;
    if (nm + no > OM_STACK_ENTRIES) kept = xmalloc((size_t)(nm + no) * sizeof(omEntry));
    uint32_t a = 0, b = 0;
    while (a < nm || b < no) {
        int cmp = b == no ? -1 : a == nm ? 1 : dotCmp(fieldEntry(n, a)->d, fieldEntryC(on, b)->d);
        if (cmp <= 0) {
            omEntry *ea = fieldEntry(n, a++);
            if (cmp == 0) regMerge(&ea->r, &fieldEntryC(on, b++)->r);
            if (cmp == 0 || !ccContains(occ, ea->d))
                kept[k++] = *ea;
            else
                regFree(&ea->r);
        } else {
            const omEntry *eb = fieldEntryC(on, b++);
            if (ccContains(&m->cc, eb->d)) continue;
            kept[k].d = eb->d;
            regCopy(&kept[k].r, &eb->r);
            k++;
        }
    }
    if (k == 0) {
        if (n) {
            removedNote(m, n->f, n->flen);   /* before n (which f may point into) goes */
            dictUnlink(&m->fields, n->f, n->flen);
            free(n->extra);                  /* its regs were freed above */
            free(n);
        } else {
            removedNote(m, f, flen);
        }
    } else if (n) {
        fieldSetEntries(n, kept, k);
        m->bytes += fieldFootprint(n);
    } else {
        n = fieldNew(f, flen);
        fieldSetEntries(n, kept, k);
        m->bytes += fieldFootprint(n);
        dictAdd(&m->fields, &n->link);
        removedForget(m, f, flen);
    }
    if (kept != stack) free(kept);
}

typedef struct mergeRemovedCtx {
    ormap *m;
    const ccontext *occ;
} mergeRemovedCtx;

/* A field other removed: m's entries of it other has seen go. */
static void mergeRemovedCb(const char *f, size_t flen, void *ctx) {
    mergeRemovedCtx *mc = ctx;
    mergeField(mc->m, (omField *)dictFind(&mc->m->fields, f, flen), NULL, mc->occ, f, flen);
}

void ormapMerge(ormap *m, const ormap *other) {
    if (m == other) return;
    if (!other->touchedOnly) {
        becomeFullState(m);
        /* Every field of m may lose entries to other's context. */
        dictIter it;
        dictLink *l;
        dictIterSafe(&it, &m->fields);
        while ((l = dictNext(&it)) != NULL) {
            omField *n = (omField *)l;
            mergeField(m, n, fieldFind(other, n->f, n->flen), &other->cc, n->f, n->flen);
        }
        dictIterEnd(&it);
        /* Fields only other holds (or that m just dropped: the join then
         * keeps nothing again, so revisiting them is harmless). */
        ormapIter oit;
        ormapIterInit(&oit, other);
        for (const omField *on = iterNextField(&oit); on; on = iterNextField(&oit))
            if (dictFind(&m->fields, on->f, on->flen) == NULL) mergeField(m, NULL, on, &other->cc, on->f, on->flen);
        dictShrinkIfSparse(&m->fields);
    } else {
        /* other's context can only remove entries of the fields it lists. */
        ormapIter oit;
        ormapIterInit(&oit, other);
        for (const omField *on = iterNextField(&oit); on; on = iterNextField(&oit))
            mergeField(m, (omField *)dictFind(&m->fields, on->f, on->flen), on, &other->cc, on->f, on->flen);
        mergeRemovedCtx mc = {m, &other->cc};
        removedEach(other, mergeRemovedCb, &mc);
    }
    ccMerge(&m->cc, &other->cc);
}

/* ---------- random, scan ---------- */

int ormapRandom(const ormap *m, uint64_t (*rnd)(void), const char **f, size_t *flen) {
    dict *d = (dict *)&m->fields;
    d->pauserehash++;   /* as fieldFind: no bucket moves under a running iteration */
    const omField *n = (const omField *)dictRandom(d, rnd);
    d->pauserehash--;
    if (n == NULL) return 0;
    *f = n->f;
    *flen = n->flen;
    return 1;
}

typedef struct scanCtx {
    void (*fn)(const char *f, size_t flen, void *ctx);
    void *ctx;
} scanCtx;

static void scanCb(dictLink *node, void *ctx) {
    const scanCtx *sc = ctx;
    const omField *n = (const omField *)node;
    sc->fn(n->f, n->flen, sc->ctx);
}

uint64_t ormapScan(const ormap *m, uint64_t cursor, void (*fn)(const char *f, size_t flen, void *ctx), void *ctx) {
    scanCtx sc = {fn, ctx};
    return dictScan((dict *)&m->fields, cursor, scanCb, &sc);
}

/* ---------- equality and digest ---------- */

int ormapEqual(const ormap *a, const ormap *b) {
    if (ormapLen(a) != ormapLen(b) || !ccEqual(&a->cc, &b->cc)) return 0;
    ormapIter it;
    ormapIterInit(&it, a);
    for (const omField *na = iterNextField(&it); na; na = iterNextField(&it)) {
        const omField *nb = fieldFind(b, na->f, na->flen);
        if (nb == NULL || fieldNEntries(na) != fieldNEntries(nb)) return 0;
        for (uint32_t i = 0; i < fieldNEntries(na); i++) {
            const omEntry *ea = fieldEntryC(na, i), *eb = fieldEntryC(nb, i);
            if (!dotEq(ea->d, eb->d) || !regEqual(&ea->r, &eb->r)) return 0;
        }
    }
    return 1;
}

static uint64_t hashWords(uint64_t h, uint64_t a, uint64_t b) {
    unsigned char buf[16];
    for (int i = 0; i < 8; i++) {
        buf[i] = (unsigned char)(a >> (8 * i));
        buf[8 + i] = (unsigned char)(b >> (8 * i));
    }
    return XXH3_64bits_withSeed(buf, sizeof(buf), h);
}

/* Per field: XXH3 of its name chained through its sorted entries (dot, then
 * the reg's digest seeded with the chain so far); fields are summed, which
 * does not depend on table order; the context's digest and the count close it. */
uint64_t ormapDigest(const ormap *m) {
    uint64_t sum = 0;
    ormapIter it;
    ormapIterInit(&it, m);
    for (const omField *n = iterNextField(&it); n; n = iterNextField(&it)) {
        uint64_t h = XXH3_64bits_withSeed(n->f, n->flen, OM_DIGEST_SEED);
        for (uint32_t i = 0; i < fieldNEntries(n); i++) {
            const omEntry *e = fieldEntryC(n, i);
            h = regDigest(&e->r, hashWords(h, e->d.node, e->d.counter));
        }
        sum += h;
    }
    return hashWords(ccDigest(&m->cc, OM_DIGEST_SEED), sum, ormapLen(m));
}

/* ---------- encoding ----------
 *
 *   byte version (1), byte flags (bit 0: touchedOnly)
 *   context (ccEncode)
 *   varint nfields, then per field:
 *     bytes name, varint nentries, per entry (sorted by dot):
 *       varint node index, varint counter, reg (regEncode)
 *   if touchedOnly: varint nremoved, then per name: bytes
 *
 * An entry's node is written as its index among the context's distinct nodes
 * (every entry's dot is in the context): one byte instead of eight. */

/* The sorted distinct nodes of a (canonical) context; *n gets the count. */
static uint64_t *contextNodes(const ccontext *c, uint32_t *n) {
    uint64_t *nodes = xmalloc(((size_t)c->nvv + c->ncloud + 1) * sizeof(uint64_t));
    uint32_t a = 0, b = 0, w = 0;
    while (a < c->nvv || b < c->ncloud) {
        uint64_t next;
        if (b == c->ncloud || (a < c->nvv && c->vv[a].node <= c->cloud[b].node))
            next = c->vv[a++].node;
        else
            next = c->cloud[b++].node;
        if (w == 0 || nodes[w - 1] != next) nodes[w++] = next;
    }
    *n = w;
    return nodes;
}

static uint32_t nodeIndex(const uint64_t *nodes, uint32_t n, uint64_t node) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (nodes[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    assert(lo < n && nodes[lo] == node);
    return lo;
}

static void encodeNameCb(const char *f, size_t flen, void *ctx) { cbufPutBytes(ctx, f, flen); }

void ormapEncode(const ormap *m, cbuf *b) {
    cbufPutByte(b, ORMAP_FORMAT_VERSION);
    cbufPutByte(b, m->touchedOnly ? ORMAP_FLAG_TOUCHED_ONLY : 0);
    ccEncode(&m->cc, b);
    uint32_t nn;
    uint64_t *nodes = contextNodes(&m->cc, &nn);
    cbufPutVarint(b, ormapLen(m));
    ormapIter it;
    ormapIterInit(&it, m);
    for (const omField *n = iterNextField(&it); n; n = iterNextField(&it)) {
        cbufPutBytes(b, n->f, n->flen);
        cbufPutVarint(b, fieldNEntries(n));
        for (uint32_t i = 0; i < fieldNEntries(n); i++) {
            const omEntry *e = fieldEntryC(n, i);
            cbufPutVarint(b, nodeIndex(nodes, nn, e->d.node));
            cbufPutVarint(b, e->d.counter);
            regEncode(&e->r, b);
        }
    }
    free(nodes);
    if (m->touchedOnly) {
        cbufPutVarint(b, m->removed ? dictSize(m->removed) : 0);
        removedEach(m, encodeNameCb, b);
    }
}

static size_t readerLeft(const creader *r) { return r->len - r->pos; }

/* Reads one field's entries into n (a fresh node): at least one, dots
 * strictly increasing and seen by the context.  0, or -1 on malformed input
 * (n then holds only what it can free). */
static int decodeEntries(creader *r, omField *n, const ccontext *cc, const uint64_t *nodes, uint32_t nn) {
    uint64_t k;
    if (creaderGetVarint(r, &k) < 0 || k == 0 || k > readerLeft(r) / OM_MIN_ENTRY_BYTES) return -1;
    if (k > 1) n->extra = xmalloc((size_t)(k - 1) * sizeof(omEntry));
    for (uint64_t i = 0; i < k; i++) {
        uint64_t idx, ctr;
        if (creaderGetVarint(r, &idx) < 0 || creaderGetVarint(r, &ctr) < 0) return -1;
        if (idx >= nn || ctr == 0) return -1;
        dot d = {nodes[idx], ctr};
        if ((i > 0 && dotCmp(fieldEntry(n, (uint32_t)i - 1)->d, d) >= 0) || !ccContains(cc, d)) return -1;
        omEntry *e = fieldEntry(n, (uint32_t)i);
        if (i > 0) {
            regInit(&e->r);
            n->nextra++;
        }
        e->d = d;
        if (regDecode(&e->r, r) < 0) return -1;
    }
    return 0;
}

ormap *ormapDecode(creader *r) {
    uint8_t version, flags;
    if (creaderGetByte(r, &version) < 0 || version != ORMAP_FORMAT_VERSION || creaderGetByte(r, &flags) < 0 ||
        (flags & ~ORMAP_FLAG_TOUCHED_ONLY)) {
        r->err = 1;
        return NULL;
    }
    ormap *m = ormapNew();
    uint64_t *nodes = NULL;
    uint32_t nn = 0;
    uint64_t count;
    if (ccDecode(&m->cc, r) < 0) goto bad;
    nodes = contextNodes(&m->cc, &nn);
    if (creaderGetVarint(r, &count) < 0 || count > readerLeft(r) / OM_MIN_FIELD_BYTES) goto bad;
    for (uint64_t i = 0; i < count; i++) {
        const char *f;
        size_t flen;
        if (creaderGetBytes(r, &f, &flen) < 0 || flen > UINT32_MAX) goto bad;
        if (dictFind(&m->fields, f, flen)) goto bad;
        omField *n = fieldNew(f, flen);
        if (decodeEntries(r, n, &m->cc, nodes, nn) < 0) {
            fieldFree(n);
            goto bad;
        }
        m->bytes += fieldFootprint(n);
        dictAdd(&m->fields, &n->link);
    }
    m->touchedOnly = flags & ORMAP_FLAG_TOUCHED_ONLY;
    if (m->touchedOnly) {
        uint64_t nremoved;
        if (creaderGetVarint(r, &nremoved) < 0 || nremoved > readerLeft(r)) goto bad;
        for (uint64_t i = 0; i < nremoved; i++) {
            const char *f;
            size_t flen;
            if (creaderGetBytes(r, &f, &flen) < 0 || flen > UINT32_MAX) goto bad;
            if (dictFind(&m->fields, f, flen) || (m->removed && dictFind(m->removed, f, flen))) goto bad;
            removedNote(m, f, flen);
        }
    }
    free(nodes);
    return m;
bad:
    free(nodes);
    ormapFree(m);
    r->err = 1;
    return NULL;
}
