/* crdt_ormap.c - the observed-remove map behind Redis hashes (semantics in
 * crdt_ormap.h): per field a set of entries (dot, reg), add-wins presence,
 * the value the merge of the entries' registers.
 *
 * Owns the fields (an intrusive dict of omField nodes), their entries and the
 * map's causal context.  Pure: no sockets, no globals, no logging; allocation
 * failure aborts.
 *
 * Memory.  A small map of plain fields (at most 128, names and values of at
 * most 64 bytes, one entry each with no counter totals) is packed: one buffer
 * of records, scanned linearly, about 15 bytes plus name and value per field
 * (see crdt_ormap_pack.c).  Every other map is in the dict form, where a
 * field is one allocation: dictLink, its entry with the smallest
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
#include "crdt_ormap_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

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

/* A field a touchedOnly delta removed (no entries). */
typedef struct omName {
    dictLink link;
    uint32_t flen;
    char f[];
} omName;

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
size_t fieldFootprint(const omField *n) {
    size_t size = offsetof(omField, f) + n->flen + (size_t)n->nextra * sizeof(omEntry);
    for (uint32_t i = 0; i < fieldNEntries(n); i++) size += regMemory(&fieldEntryC(n, i)->r);
    return size;
}

/* A node with one empty entry (dot {0,0}, regInit), not linked, not counted. */
omField *fieldNew(const char *f, size_t flen) {
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
 * ormapIter, hence the read-only find. */
static omField *fieldFind(const ormap *m, const char *f, size_t flen) {
    return (omField *)dictFindReadOnly(&m->fields, f, flen);
}

void fieldFreeCb(dictLink *node, void *ctx) {
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

const omField *iterNextField(ormapIter *it) {
    dictLink *next = it->cur;
    dictLink *n = dictWalkNext(&it->m->fields, &it->a, &it->b, &next);
    it->cur = next;
    return (const omField *)n;
}

/* ---------- field views: one field of either form, read-only ---------- */

typedef struct omView {
    const char *f;
    size_t flen;
    uint32_t n;             /* entries */
    const omEntry *e0;      /* the first */
    const omEntry *extra;   /* the others */
    omEntry one;            /* a packed field's entry (e0 points here: do not copy views) */
} omView;

static const omEntry *viewEntry(const omView *v, uint32_t i) { return i == 0 ? v->e0 : &v->extra[i - 1]; }

static void viewOfField(omView *v, const omField *n) {
    v->f = n->f;
    v->flen = n->flen;
    v->n = fieldNEntries(n);
    v->e0 = &n->e;
    v->extra = n->extra;
}

static void viewOfRec(omView *v, const omRec *r) {
    v->f = r->f;
    v->flen = r->flen;
    v->n = 1;
    recEntry(r, &v->one);
    v->e0 = &v->one;
    v->extra = NULL;
}

static int viewFind(const ormap *m, const char *f, size_t flen, omView *v) {
    if (m->packed) {
        omRec r;
        if (!packFind(m, f, flen, &r)) return 0;
        viewOfRec(v, &r);
        return 1;
    }
    const omField *n = fieldFind(m, f, flen);
    if (n == NULL) return 0;
    viewOfField(v, n);
    return 1;
}

static int iterNextView(ormapIter *it, omView *v) {
    if (it->m->packed) {
        if (it->b >= it->m->packLen) return 0;
        omRec r;
        packRead(it->m, (uint32_t)it->b, &r);
        it->b += r.size;
        viewOfRec(v, &r);
        return 1;
    }
    const omField *n = iterNextField(it);
    if (n == NULL) return 0;
    viewOfField(v, n);
    return 1;
}

int ormapIterNext(ormapIter *it, const char **f, size_t *flen) {
    if (it->m->packed) {
        if (it->b >= it->m->packLen) return 0;
        omRec r;
        packRead(it->m, (uint32_t)it->b, &r);
        it->b += r.size;
        *f = r.f;
        *flen = r.flen;
        return 1;
    }
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
    dictSetNodeLines(&m->fields, 3);   /* the name follows a whole entry: past 112 bytes */
    ccInit(&m->cc);
    m->touchedOnly = 1;   /* empty: trivially lists everything it touched */
    m->packed = 1;        /* dsumValid = 0: nobody asked for the digest yet */
    return m;
}

ormap *ormapNewDelta(void) {
    ormap *m = ormapNew();
    packToDict(m);
    return m;
}

void ormapFree(ormap *m) {
    if (m == NULL) return;
    dictClear(&m->fields, fieldFreeCb, m);
    packReset(m);
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
    c->touchedOnly = m->touchedOnly;
    c->dsum = m->dsum;
    c->dsumValid = m->dsumValid;
    removedEach(m, removedNoteCb, c);
    if (m->packed) {
        if (m->packLen) {
            c->pack = xmalloc(m->packLen);
            memcpy(c->pack, m->pack, m->packLen);
            c->pnodes = xmalloc((size_t)m->npnodes * sizeof(uint64_t));
            memcpy(c->pnodes, m->pnodes, (size_t)m->npnodes * sizeof(uint64_t));
        }
        c->packLen = c->packCap = m->packLen;
        c->npacked = m->npacked;
        c->npnodes = m->packLen ? m->npnodes : 0;
        return c;
    }
    c->packed = 0;
    ormapIter it;
    ormapIterInit(&it, m);
    for (const omField *n = iterNextField(&it); n; n = iterNextField(&it)) {
        omField *nc = fieldCopy(n);
        c->bytes += fieldFootprint(nc);
        dictAdd(&c->fields, &nc->link);
    }
    return c;
}

size_t ormapLen(const ormap *m) { return m->packed ? m->npacked : (size_t)dictSize(&m->fields); }

int ormapExists(const ormap *m, const char *f, size_t flen) {
    omView v;
    return viewFind(m, f, flen, &v);
}

/* The merge of a field's regs into out (regInit'ed: the bottom of the join). */
static void fieldMergedReg(const omView *v, reg *out) {
    for (uint32_t i = 0; i < v->n; i++) regMerge(out, &viewEntry(v, i)->r);
}

/* One entry (the usual case): its reg's value, the stored bytes when plain.
 * Several: their merge; bytes that regValue takes from the merged base are
 * those of the entry that wrote it, so the answer never points into the
 * temporary merge (and never needs the value to fit in buf). */
const char *ormapGet(const ormap *m, const char *f, size_t flen, char *buf, size_t *vlen) {
    if (m->packed) {
        omRec r;
        if (!packFind(m, f, flen, &r)) return NULL;
        *vlen = r.vlen;
        return r.val;
    }
    const omField *n = fieldFind(m, f, flen);
    if (n == NULL) return NULL;
    if (n->nextra == 0) return regValue(&n->e.r, buf, vlen);
    reg merged;
    regInit(&merged);
    omView view;
    viewOfField(&view, n);
    fieldMergedReg(&view, &merged);
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
    omView v;
    if (!viewFind(m, f, flen, &v)) return 0;
    fieldMergedReg(&v, out);
    return 1;
}

const ccontext *ormapContext(const ormap *m) { return &m->cc; }

void ormapPrefetch(const ormap *m, uint64_t hash, int stage) {
    if (m->packed) return;
    if (stage == 0) {
        dictPrefetchBucket(&m->fields, hash);
    } else if (stage == 1) {
        dictPrefetchNode(&m->fields, hash);
    } else {
        const omField *n = (const omField *)dictBucketHead(&m->fields, hash);
        if (n && n->e.r.val) __builtin_prefetch(n->e.r.val - 16);   /* malloc's header: a write frees it */
    }
}

size_t ormapMemory(const ormap *m) {
    size_t total = sizeof(*m) + m->bytes + dictTableBytes(&m->fields);
    total += m->packCap + (size_t)m->npnodes * sizeof(uint64_t);
    total += ((size_t)m->cc.capvv + m->cc.capcloud) * sizeof(dot);
    if (m->removed) total += sizeof(dict) + dictTableBytes(m->removed);
    return total;
}

/* ---------- local operations ---------- */

/* Puts the field's (only) entry into the delta, replacing whatever the delta
 * held for it: that was written by earlier operations of this map on the
 * field, which the new write observed. */
static void deltaPut(ormap *delta, const char *f, size_t flen, const omEntry *e) {
    delta->dsumValid = 0;
    ccAdd(&delta->cc, e->d);
    if (delta->packed) {
        omRec r;
        int found = packFind(delta, f, flen, &r);
        if (entryPackable(e, flen) && (found || delta->npacked < OM_PACK_MAX_FIELDS)) {
            packPut(delta, found ? &r : NULL, f, flen, e->d, e->r.ver, e->r.val, e->r.len);
            if (!found) removedForget(delta, f, flen);
            return;
        }
        packToDict(delta);
    }
    omField *dn = (omField *)dictFind(&delta->fields, f, flen);
    if (dn) {
        delta->bytes -= fieldFootprint(dn);
        fieldFreeEntries(dn);
    } else {
        dn = fieldNew(f, flen);
        dictAdd(&delta->fields, &dn->link);
        removedForget(delta, f, flen);
    }
    dn->e.d = e->d;
    regCopy(&dn->e.r, &e->r);
    delta->bytes += fieldFootprint(dn);
}

/* Drops field f of a delta (either form), if it holds it. */
static void deltaDrop(ormap *delta, const char *f, size_t flen) {
    delta->dsumValid = 0;
    if (delta->packed) {
        omRec r;
        if (packFind(delta, f, flen, &r)) packRemove(delta, &r);
        return;
    }
    omField *dn = (omField *)dictFind(&delta->fields, f, flen);
    if (dn) fieldUnlinkFree(delta, dn);
}

/* One field's part of ormapDigest: its name's hash (the fields table's own,
 * dictHashKey, so that a write that looked the field up has it already)
 * chained through its sorted entries' dots and base versions.  An entry's
 * content is fixed by its dot - each write mints a new dot, and merges copy
 * entries whole (equal dots meet only as copies of one write) - so the value
 * bytes and counter totals behind pointers are left out: reading them cost a
 * cache miss per write to a large hash for the part taken out before it. */
static uint64_t entriesDigest(uint64_t nameHash, const omView *v) {
    uint64_t h = nameHash;
    for (uint32_t i = 0; i < v->n; i++) {
        const omEntry *e = viewEntry(v, i);
        unsigned char words[32];   /* little-endian, so hosts agree */
        ccStoreLE64(words, e->d.node);
        ccStoreLE64(words + 8, e->d.counter);
        ccStoreLE64(words + 16, e->r.ver.stamp);
        ccStoreLE64(words + 24, e->r.ver.node);
        h = XXH3_64bits_withSeed(words, sizeof(words), h);
    }
    return h;
}

static uint64_t viewDigest(const omView *v) { return entriesDigest(dictHashKey(v->f, v->flen), v); }

/* Field f's part of the digest sum now (0 if absent). */
static uint64_t fieldDigest(const ormap *m, const char *f, size_t flen) {
    omView v;
    return m->dsumValid && viewFind(m, f, flen, &v) ? viewDigest(&v) : 0;
}

/* The upkeep of m->dsum across a change of one field, from the views of it
 * that the change has at hand anyway: its part before comes out, its part
 * after goes in (dsumBefore is not called if the field was absent; NULL
 * after: it is gone).  Nothing is computed while no digest is kept. */
typedef struct dsumUp {
    int on;
    uint64_t hash;      /* the name's dictHashKey */
    uint64_t before;
} dsumUp;

static void dsumOpen(dsumUp *u, const ormap *m, uint64_t hash) {
    u->on = m->dsumValid;
    u->hash = hash;
    u->before = 0;
}

static void dsumBefore(dsumUp *u, const omView *v) {
    if (u->on) u->before = entriesDigest(u->hash, v);
}

static void dsumClose(dsumUp *u, ormap *m, const omView *after) {
    if (u->on && m->dsumValid) m->dsum += (after ? entriesDigest(u->hash, after) : 0) - u->before;
}

/* The start of a local write of f: the field's node with its observed
 * entries folded into the inline one (a new node if absent), uncounted in
 * m->bytes until writeEnd.  *isNew tells whether the field was absent. */
static omField *writeBegin(ormap *m, const char *f, size_t flen, ormap *delta, dsumUp *u, int *isNew) {
    char fbuf[OM_PACK_MAX_VALUE];
    becomeFullState(m);
    f = packUnalias(m, f, flen, fbuf);
    packToDict(m);
    omField *n = (omField *)dictFindHashed(&m->fields, f, flen, u->hash);
    *isNew = n == NULL;
    if (n) {
        omView v;
        viewOfField(&v, n);
        dsumBefore(u, &v);
    }
    if (n == NULL) {
        n = fieldNew(f, flen);
        dictAdd(&m->fields, &n->link);
    } else {
        m->bytes -= fieldFootprint(n);
        fieldTakeObserved(n, delta ? &delta->cc : NULL);
    }
    return n;
}

static void writeEnd(ormap *m, omField *n, dot d, ormap *delta, dsumUp *u) {
    n->e.d = d;
    m->bytes += fieldFootprint(n);
    if (delta) deltaPut(delta, n->f, n->flen, &n->e);
    omView v;
    viewOfField(&v, n);
    dsumClose(u, m, &v);
}

/* A packed map keeps a plain write packed when it fits and its version beats
 * the field's (always, unless the clock refused to follow a remote version:
 * the dict form then resolves it as regSet does). */
int ormapSet(ormap *m, uint64_t node, version v, const char *f, size_t flen,
             const char *val, size_t vlen, ormap *delta) {
    dsumUp u;
    dsumOpen(&u, m, dictHashKey(f, flen));
    if (m->packed) {
        omRec r;
        int found = packFind(m, f, flen, &r);
        if (flen <= OM_PACK_MAX_NAME && vlen <= OM_PACK_MAX_VALUE && (found || m->npacked < OM_PACK_MAX_FIELDS) &&
            (!found || versionCmp(v, r.v) > 0)) {
            becomeFullState(m);
            if (found && delta) ccAdd(&delta->cc, r.d);
            omView was, now;
            if (found) {
                viewOfRec(&was, &r);
                dsumBefore(&u, &was);
            }
            omEntry e;
            e.d = ccNextDot(&m->cc, node);
            regInit(&e.r);
            e.r.ver = v;
            e.r.present = 1;
            e.r.val = (char *)val;
            e.r.len = vlen;
            now = (omView){.f = f, .flen = flen, .n = 1, .e0 = &e};
            dsumClose(&u, m, &now);             /* before packPut: val may point into the pack */
            if (delta) deltaPut(delta, f, flen, &e);
            packPut(m, found ? &r : NULL, f, flen, e.d, v, val, vlen);
            return !found;
        }
    }
    char vbuf[OM_PACK_MAX_VALUE];
    val = packUnalias(m, val, vlen, vbuf);
    int isNew;
    omField *n = writeBegin(m, f, flen, delta, &u, &isNew);
    dot d = ccNextDot(&m->cc, node);
    regSet(&n->e.r, v, val, vlen, NULL);
    writeEnd(m, n, d, delta, &u);
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
    dsumUp u;
    dsumOpen(&u, m, dictHashKey(f, flen));
    int isNew;
    omField *n = writeBegin(m, f, flen, delta, &u, &isNew);
    dot d = ccNextDot(&m->cc, node);
    regIncrBy(&n->e.r, node, by, NULL);
    totalClaimSeq(&n->e.r, node, d.counter);
    writeEnd(m, n, d, delta, &u);
}

void ormapIncrByFloat(ormap *m, uint64_t node, version v, const char *f, size_t flen, long double by, ormap *delta) {
    dsumUp u;
    dsumOpen(&u, m, dictHashKey(f, flen));
    int isNew;
    omField *n = writeBegin(m, f, flen, delta, &u, &isNew);
    dot d = ccNextDot(&m->cc, node);
    regIncrByFloat(&n->e.r, node, by, NULL);
    totalClaimSeq(&n->e.r, node, d.counter);
    writeEnd(m, n, d, delta, &u);
}

int ormapDel(ormap *m, const char *f, size_t flen, ormap *delta) {
    becomeFullState(m);
    if (m->dsumValid) m->dsum -= fieldDigest(m, f, flen);   /* the field goes, if it is there */
    if (m->packed) {
        omRec r;
        if (!packFind(m, f, flen, &r)) return 0;
        if (delta) {
            ccAdd(&delta->cc, r.d);
            deltaDrop(delta, f, flen);
            removedNote(delta, f, flen);
        }
        packRemove(m, &r);
        return 1;
    }
    omField *n = (omField *)dictFind(&m->fields, f, flen);
    if (n == NULL) return 0;
    if (delta) {
        for (uint32_t i = 0; i < fieldNEntries(n); i++) ccAdd(&delta->cc, fieldEntry(n, i)->d);
        deltaDrop(delta, f, flen);
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
        packReset(delta);
        delta->packed = 1;
        becomeFullState(delta);
    }
    dictClear(&m->fields, fieldFreeCb, m);
    packReset(m);
    m->packed = 1;
    m->dsumValid = 0;
    if (delta) delta->dsumValid = 0;
}

ormap *ormapEmptyLike(const ormap *m) {
    ormap *e = ormapNew();
    ccCopy(&e->cc, &m->cc);
    becomeFullState(e);
    return e;
}

void ormapObserveUpTo(ormap *m, uint64_t node, uint64_t floor) {
    becomeFullState(m);
    ccObserveUpTo(&m->cc, node, floor);
}

/* ---------- merge ---------- */

/* The join of one field's entries: mine (nm, owned: each ends in kept or is
 * freed) and other's (the view on, may be NULL), into kept; returns how many
 * were kept.  An entry of m survives if other holds its dot too (their regs
 * are merged) or has not seen it; an entry of other survives if m has not
 * seen it (if m holds it, it is in m's context, mcc).  Both lists are sorted
 * by dot, so this is a merge of two sorted filtered lists. */
static uint32_t joinEntries(omEntry *e0, omEntry *extra, uint32_t nm, const omView *on, const ccontext *occ,
                            const ccontext *mcc, omEntry *kept) {
    uint32_t no = on ? on->n : 0, a = 0, b = 0, k = 0;
    while (a < nm || b < no) {
        omEntry *ea = a < nm ? (a == 0 ? e0 : &extra[a - 1]) : NULL;
        int cmp = b == no ? -1 : a == nm ? 1 : dotCmp(ea->d, viewEntry(on, b)->d);
        if (cmp <= 0) {
            a++;
            if (cmp == 0) regMerge(&ea->r, &viewEntry(on, b++)->r);
            if (cmp == 0 || !ccContains(occ, ea->d))
                kept[k++] = *ea;
            else
                regFree(&ea->r);
        } else {
            const omEntry *eb = viewEntry(on, b++);
            if (ccContains(mcc, eb->d)) continue;
            kept[k].d = eb->d;
            regCopy(&kept[k].r, &eb->r);
            k++;
        }
    }
    return k;
}

/* The join of one field of a dict-form m (n, may be NULL) with other's (on,
 * may be NULL).  m's context is not merged yet when this runs.  Returns the
 * field's node afterwards, NULL if the field is gone. */
static omField *mergeField(ormap *m, omField *n, const omView *on, const ccontext *occ, const char *f, size_t flen) {
    uint32_t nm = n ? fieldNEntries(n) : 0, no = on ? on->n : 0;
    if (nm == 1 && no == 1 && dotEq(n->e.d, on->e0->d)) {   /* the usual case: the same write */
        m->bytes -= fieldFootprint(n);
        regMerge(&n->e.r, &on->e0->r);
        m->bytes += fieldFootprint(n);
        return n;
    }
    if (nm == 1 && no == 0 && !ccContains(occ, n->e.d)) return n;
    if (nm == 1 && no == 1 && ccContains(occ, n->e.d) && !ccContains(&m->cc, on->e0->d)) {
        /* the usual delta: a later write of the field replaces the one here */
        m->bytes -= fieldFootprint(n);
        n->e.d = on->e0->d;
        regAssign(&n->e.r, &on->e0->r);
        m->bytes += fieldFootprint(n);
        return n;
    }
    if (n) m->bytes -= fieldFootprint(n);
    omEntry stack[OM_STACK_ENTRIES], *kept = stack;
    if (nm + no > OM_STACK_ENTRIES) kept = xmalloc((size_t)(nm + no) * sizeof(omEntry));
    uint32_t k = joinEntries(n ? &n->e : NULL, n ? n->extra : NULL, nm, on, occ, &m->cc, kept);
    if (k == 0) {
        if (n) {
            removedNote(m, n->f, n->flen);   /* before n (which f may point into) goes */
            dictUnlink(&m->fields, n->f, n->flen);
            free(n->extra);                  /* its regs were freed above */
            free(n);
            n = NULL;
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
    return n;
}

/* The same join for a packed m: the result stays packed if it fits, else m
 * turns into the dict form.  f is not m's. */
static void mergeFieldPacked(ormap *m, const omView *on, const ccontext *occ, const char *f, size_t flen) {
    omRec r;
    int found = packFind(m, f, flen, &r);
    uint32_t no = on ? on->n : 0;
    if (found && no == 0 && !ccContains(occ, r.d)) return;
    if (found && no == 1 && dotEq(r.d, on->e0->d)) {   /* the same write, usually as it is here */
        omEntry here;
        recEntry(&r, &here);
        if (regEqual(&here.r, &on->e0->r)) return;
    }
    omEntry mine, stack[OM_STACK_ENTRIES], *kept = stack;
    if (1 + no > OM_STACK_ENTRIES) kept = xmalloc((size_t)(1 + no) * sizeof(omEntry));
    if (found) {
        omEntry borrowed;
        recEntry(&r, &borrowed);
        mine.d = borrowed.d;
        regCopy(&mine.r, &borrowed.r);
    }
    uint32_t k = joinEntries(found ? &mine : NULL, NULL, found ? 1 : 0, on, occ, &m->cc, kept);
    if (k == 0) {
        if (found) packRemove(m, &r);
        removedNote(m, f, flen);
    } else if (k == 1 && entryPackable(&kept[0], flen) && (found || m->npacked < OM_PACK_MAX_FIELDS)) {
        packPut(m, found ? &r : NULL, f, flen, kept[0].d, kept[0].r.ver, kept[0].r.val, kept[0].r.len);
        regFree(&kept[0].r);
        if (!found) removedForget(m, f, flen);
    } else {
        if (found) packRemove(m, &r);
        packToDict(m);
        omField *n = fieldNew(f, flen);
        fieldSetEntries(n, kept, k);
        m->bytes += fieldFootprint(n);
        dictAdd(&m->fields, &n->link);
        removedForget(m, f, flen);
    }
    if (kept != stack) free(kept);
}

/* Merges other's field (on, NULL if other removed it; hash: dictHashKey of
 * its name f) into m, either form. */
static void mergeOne(ormap *m, const omView *on, const ccontext *occ, const char *f, size_t flen, uint64_t hash) {
    dsumUp u;
    dsumOpen(&u, m, hash);
    omView v;
    if (m->packed) {
        if (u.on && viewFind(m, f, flen, &v)) dsumBefore(&u, &v);
        mergeFieldPacked(m, on, occ, f, flen);
        if (u.on) dsumClose(&u, m, viewFind(m, f, flen, &v) ? &v : NULL);
        return;
    }
    omField *n = (omField *)dictFindHashed(&m->fields, f, flen, hash);
    if (n && u.on) {
        viewOfField(&v, n);
        dsumBefore(&u, &v);
    }
    n = mergeField(m, n, on, occ, f, flen);
    if (n && u.on) viewOfField(&v, n);
    dsumClose(&u, m, n ? &v : NULL);
}

/* Merges every field a touchedOnly other lists, in its order.  Into a large
 * map each field's lookup is a cache miss or two: the views are read
 * MERGE_AHEAD ahead of their merge, their buckets prefetched then, and their
 * nodes (name and first entry) half way. */
#define MERGE_AHEAD 8
static void mergeListed(ormap *m, const ormap *other) {
    omView ring[MERGE_AHEAD];           /* filled in place: a view may point into itself */
    uint64_t hash[MERGE_AHEAD];
    ormapIter it;
    ormapIterInit(&it, other);
    uint32_t filled = 0;
    while (filled < MERGE_AHEAD && iterNextView(&it, &ring[filled])) {
        hash[filled] = dictHashKey(ring[filled].f, ring[filled].flen);
        if (!m->packed) dictPrefetchBucket(&m->fields, hash[filled]);
        filled++;
    }
    for (uint32_t done = 0; done < filled; done++) {
        uint32_t i = done % MERGE_AHEAD, half = (done + MERGE_AHEAD / 2) % MERGE_AHEAD;
        if (done + MERGE_AHEAD / 2 < filled && !m->packed) dictPrefetchNode(&m->fields, hash[half]);
        mergeOne(m, &ring[i], &other->cc, ring[i].f, ring[i].flen, hash[i]);
        if (iterNextView(&it, &ring[i])) {
            hash[i] = dictHashKey(ring[i].f, ring[i].flen);
            if (!m->packed) dictPrefetchBucket(&m->fields, hash[i]);
            filled++;
        }
    }
}

typedef struct mergeRemovedCtx {
    ormap *m;
    const ccontext *occ;
} mergeRemovedCtx;

/* A field other removed: m's entries of it other has seen go. */
static void mergeRemovedCb(const char *f, size_t flen, void *ctx) {
    mergeRemovedCtx *mc = ctx;
    mergeOne(mc->m, NULL, mc->occ, f, flen, dictHashKey(f, flen));
}

/* A full state's merge works on the dict form; a map that was packed is
 * packed again afterwards if it still fits. */
void ormapMerge(ormap *m, const ormap *other) {
    if (m == other) return;
    ormapIter oit;
    omView ov;
    if (!other->touchedOnly) {
        int wasPacked = m->packed;
        becomeFullState(m);
        m->dsumValid = 0;      /* any field may change: recomputed when asked */
        packToDict(m);
        /* Every field of m may lose entries to other's context. */
        dictIter it;
        dictLink *l;
        dictIterSafe(&it, &m->fields);
        while ((l = dictNext(&it)) != NULL) {
            omField *n = (omField *)l;
            int has = viewFind(other, n->f, n->flen, &ov);
            mergeField(m, n, has ? &ov : NULL, &other->cc, n->f, n->flen);
        }
        dictIterEnd(&it);
        /* Fields only other holds (or that m just dropped: the join then
         * keeps nothing again, so revisiting them is harmless). */
        ormapIterInit(&oit, other);
        while (iterNextView(&oit, &ov))
            if (dictFind(&m->fields, ov.f, ov.flen) == NULL) mergeField(m, NULL, &ov, &other->cc, ov.f, ov.flen);
        dictShrinkIfSparse(&m->fields);
        ccMerge(&m->cc, &other->cc);
        if (wasPacked) packIfSmall(m);
        return;
    }
    /* other's context can only remove entries of the fields it lists. */
    mergeListed(m, other);
    mergeRemovedCtx mc = {m, &other->cc};
    removedEach(other, mergeRemovedCb, &mc);
    ccMerge(&m->cc, &other->cc);
}

/* ---------- random, scan ---------- */

int ormapRandom(const ormap *m, uint64_t (*rnd)(void), const char **f, size_t *flen) {
    if (m->packed) {
        if (m->npacked == 0) return 0;
        uint64_t i = rnd() % m->npacked;
        omRec r;
        uint32_t off = 0;
        for (;; i--) {
            packRead(m, off, &r);
            if (i == 0) break;
            off += r.size;
        }
        *f = r.f;
        *flen = r.flen;
        return 1;
    }
    /* as fieldFind: no bucket moves under a running iteration */
    const omField *n = (const omField *)dictRandomReadOnly(&m->fields, rnd);
    if (n == NULL) return 0;
    *f = n->f;
    *flen = n->flen;
    return 1;
}

/* A packed map is visited whole in one call (cursor 0 back), as Redis does
 * for a listpack. */
uint64_t ormapScan(const ormap *m, uint64_t cursor, void (*fn)(const char *f, size_t flen, void *ctx), void *ctx) {
    if (m->packed) {
        ormapIter it;
        const char *f;
        size_t flen;
        ormapIterInit(&it, m);
        while (ormapIterNext(&it, &f, &flen)) fn(f, flen, ctx);
        return 0;
    }
    return dictScanKeys(&m->fields, cursor, fn, ctx);
}

/* ---------- equality and digest ---------- */

int ormapEqual(const ormap *a, const ormap *b) {
    if (ormapLen(a) != ormapLen(b) || !ccEqual(&a->cc, &b->cc)) return 0;
    ormapIter it;
    omView va, vb;
    ormapIterInit(&it, a);
    while (iterNextView(&it, &va)) {
        if (!viewFind(b, va.f, va.flen, &vb) || va.n != vb.n) return 0;
        for (uint32_t i = 0; i < va.n; i++) {
            const omEntry *ea = viewEntry(&va, i), *eb = viewEntry(&vb, i);
            if (!dotEq(ea->d, eb->d) || !regEqual(&ea->r, &eb->r)) return 0;
        }
    }
    return 1;
}

/* The fields' digests (viewDigest) are summed, which does not depend on table
 * order; the context's digest and the count close it.  Once asked for (while
 * peers exist: the Merkle tree hashes every changed key), the sum is kept in
 * the map (dsum) and adjusted by each write, so a write to a large hash does
 * not cost a pass over it; a map whose digest nobody asks for pays nothing. */
uint64_t ormapDigest(const ormap *m) {
    if (!m->dsumValid) {
        uint64_t sum = 0;
        ormapIter it;
        omView v;
        ormapIterInit(&it, m);
        while (iterNextView(&it, &v)) sum += viewDigest(&v);
        ormap *cache = (ormap *)m;      /* the cache is not part of the value */
        cache->dsum = sum;
        cache->dsumValid = 1;
    }
    return ccHashWords(ccDigest(&m->cc, OM_DIGEST_SEED), m->dsum, ormapLen(m));
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

static void encodeNameCb(const char *f, size_t flen, void *ctx) { cbufPutBytes(ctx, f, flen); }

void ormapEncode(const ormap *m, cbuf *b) {
    cbufPutByte(b, ORMAP_FORMAT_VERSION);
    cbufPutByte(b, m->touchedOnly ? ORMAP_FLAG_TOUCHED_ONLY : 0);
    ccEncode(&m->cc, b);
    uint32_t nn;
    uint64_t *nodes = ccNodes(&m->cc, &nn);
    cbufPutVarint(b, ormapLen(m));
    ormapIter it;
    omView v;
    ormapIterInit(&it, m);
    while (iterNextView(&it, &v)) {
        cbufPutBytes(b, v.f, v.flen);
        cbufPutVarint(b, v.n);
        for (uint32_t i = 0; i < v.n; i++) {
            const omEntry *e = viewEntry(&v, i);
            cbufPutVarint(b, ccNodeIndex(nodes, nn, e->d.node));
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

/* Reads one field's entries into n (a fresh node): at least one, dots
 * strictly increasing and seen by the context.  0, or -1 on malformed input
 * (n then holds only what it can free). */
static int decodeEntries(creader *r, omField *n, const ccontext *cc, const uint64_t *nodes, uint32_t nn) {
    uint64_t k;
    if (creaderGetVarint(r, &k) < 0 || k == 0 || k > creaderLeft(r) / OM_MIN_ENTRY_BYTES) return -1;
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
    ormap *m = ormapNew();   /* packed while every field fits, as packIfSmall would leave it */
    uint64_t *nodes = NULL;
    uint32_t nn = 0;
    uint64_t count;
    if (ccDecode(&m->cc, r) < 0) goto bad;
    nodes = ccNodes(&m->cc, &nn);
    if (creaderGetVarint(r, &count) < 0 || count > creaderLeft(r) / OM_MIN_FIELD_BYTES) goto bad;
    if (count > OM_PACK_MAX_FIELDS) packToDict(m);
    uint64_t seen[2 * OM_PACK_MAX_FIELDS];   /* the packed names' hashes (dictHashNote) */
    uint32_t seenSize = dictHashNoteSize(count);
    memset(seen, 0, seenSize * sizeof(seen[0]));
    for (uint64_t i = 0; i < count; i++) {
        const char *f;
        size_t flen;
        omRec dup;
        if (creaderGetBytes(r, &f, &flen) < 0 || flen > UINT32_MAX) goto bad;
        omField one = {0};       /* the entries, before the field has a home */
        if (decodeEntries(r, &one, &m->cc, nodes, nn) < 0) {
            fieldFreeEntries(&one);
            goto bad;
        }
        if (m->packed && one.nextra == 0 && entryPackable(&one.e, flen)) {
            if (dictHashNote(seen, seenSize, dictHashKey(f, flen)) && packFind(m, f, flen, &dup)) {
                fieldFreeEntries(&one);
                goto bad;
            }
            packPut(m, NULL, f, flen, one.e.d, one.e.r.ver, one.e.r.val, one.e.r.len);
            fieldFreeEntries(&one);
            continue;
        }
        packToDict(m);
        if (dictFind(&m->fields, f, flen)) {
            fieldFreeEntries(&one);
            goto bad;
        }
        omField *n = fieldNew(f, flen);
        n->e = one.e;
        n->extra = one.extra;
        n->nextra = one.nextra;
        m->bytes += fieldFootprint(n);
        dictAdd(&m->fields, &n->link);
    }
    m->touchedOnly = flags & ORMAP_FLAG_TOUCHED_ONLY;
    if (m->touchedOnly) {
        uint64_t nremoved;
        if (creaderGetVarint(r, &nremoved) < 0 || nremoved > creaderLeft(r)) goto bad;
        for (uint64_t i = 0; i < nremoved; i++) {
            const char *f;
            size_t flen;
            if (creaderGetBytes(r, &f, &flen) < 0 || flen > UINT32_MAX) goto bad;
            omRec dup;
            if ((m->packed ? packFind(m, f, flen, &dup) : dictFind(&m->fields, f, flen) != NULL) ||
                (m->removed && dictFind(m->removed, f, flen)))
                goto bad;
            removedNote(m, f, flen);
        }
    }
    free(nodes);
    packIfSmall(m);
    return m;
bad:
    free(nodes);
    ormapFree(m);
    r->err = 1;
    return NULL;
}
