/* crdt_ormap_pack.c - the packed form of small OR-maps (see crdt_ormap.c):
 * its record format, lookup, in-place writes and the conversions to and from
 * the dict form.  Knows nothing of merge, deltas or encoding; pure like the
 * rest of the map: no sockets, no globals, no logging; allocation failure
 * aborts.
 *
 * A map of at most OM_PACK_MAX_FIELDS fields, each holding one plain entry
 * (a present base, no observed or running totals) with a short name and
 * value, keeps them in one buffer of records, looked up linearly:
 *
 *   varint dot node index, varint dot counter, 8 bytes version stamp (LE),
 *   varint version node index, varint flen, name, varint vlen, value, NUL
 *
 * A node index points into the map's small table pnodes.  The first write or
 * merge result that does not fit turns the map into the dict form for good
 * (packToDict); only a decode or a full-state merge of a map that was packed
 * packs it again (packIfSmall).  Pointers into the buffer (names, values)
 * are valid until the map is modified. */
#include "crdt_ormap_internal.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>

#define OM_PACK_MAX_RECORD (4 * 10 + 8 + OM_PACK_MAX_NAME + OM_PACK_MAX_VALUE + 1)

static unsigned char *packVarint(unsigned char *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    *p++ = (unsigned char)v;
    return p;
}

/* The buffer is the map's own, so it is well formed: no bounds checks. */
static const unsigned char *unpackVarint(const unsigned char *p, uint64_t *v) {
    uint64_t x = 0;
    for (int shift = 0;; shift += 7) {
        unsigned char c = *p++;
        x |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80)) break;
    }
    *v = x;
    return p;
}

void packRead(const ormap *m, uint32_t off, omRec *r) {
    const unsigned char *p = m->pack + off;
    uint64_t x;
    p = unpackVarint(p, &x);
    r->d.node = m->pnodes[x];
    p = unpackVarint(p, &r->d.counter);
    uint64_t stamp = 0;
    for (int i = 0; i < 8; i++) stamp |= (uint64_t)p[i] << (8 * i);
    p += 8;
    r->v.stamp = stamp;
    p = unpackVarint(p, &x);
    r->v.node = m->pnodes[x];
    p = unpackVarint(p, &x);
    r->flen = (uint32_t)x;
    r->f = (const char *)p;
    p += x;
    p = unpackVarint(p, &x);
    r->vlen = (uint32_t)x;
    r->val = (const char *)p;
    p += x + 1;
    r->off = off;
    r->size = (uint32_t)(p - (m->pack + off));
}

int packFind(const ormap *m, const char *f, size_t flen, omRec *r) {
    for (uint32_t off = 0; off < m->packLen; off += r->size) {
        packRead(m, off, r);
        if (r->flen == flen && (flen == 0 || memcmp(r->f, f, flen) == 0)) return 1;
    }
    return 0;
}

/* Whether a field with this one entry may live in the packed form. */
int entryPackable(const omEntry *e, size_t flen) {
    const reg *r = &e->r;
    return flen <= OM_PACK_MAX_NAME && r->present && r->len <= OM_PACK_MAX_VALUE && r->nobs == 0 &&
           r->ntot == 0 && !r->hasFloat;
}

static uint64_t packNodeIndex(ormap *m, uint64_t node) {
    for (uint32_t i = 0; i < m->npnodes; i++)
        if (m->pnodes[i] == node) return i;
    m->pnodes = realloc(m->pnodes, ((size_t)m->npnodes + 1) * sizeof(uint64_t));
    if (m->pnodes == NULL) abort();
    m->pnodes[m->npnodes] = node;
    return m->npnodes++;
}

/* Replaces the record old (NULL: appends a new one) by the given field.  The
 * record is built aside first, so f and val may point into the buffer. */
void packPut(ormap *m, const omRec *old, const char *f, size_t flen, dot d, version v,
             const char *val, size_t vlen) {
    assert(flen <= OM_PACK_MAX_NAME && vlen <= OM_PACK_MAX_VALUE);
    unsigned char rec[OM_PACK_MAX_RECORD], *p = rec;
    p = packVarint(p, packNodeIndex(m, d.node));
    p = packVarint(p, d.counter);
    for (int i = 0; i < 8; i++) *p++ = (unsigned char)(v.stamp >> (8 * i));
    p = packVarint(p, packNodeIndex(m, v.node));
    p = packVarint(p, flen);
    if (flen) memcpy(p, f, flen);
    p += flen;
    p = packVarint(p, vlen);
    if (vlen) memcpy(p, val, vlen);
    p += vlen;
    *p++ = 0;
    uint32_t size = (uint32_t)(p - rec), off = old ? old->off : m->packLen, oldSize = old ? old->size : 0;
    uint32_t len = m->packLen - oldSize + size;
    if (len > m->packCap) {
        uint32_t cap = m->packCap + m->packCap / 8;
        cap = (len > cap ? len : cap) + 15;
        cap &= ~15u;
        m->pack = realloc(m->pack, cap);
        if (m->pack == NULL) abort();
        m->packCap = cap;
    }
    if (old) memmove(m->pack + off + size, m->pack + off + oldSize, m->packLen - off - oldSize);
    memcpy(m->pack + off, rec, size);
    m->packLen = len;
    if (!old) m->npacked++;
}

void packRemove(ormap *m, const omRec *r) {
    memmove(m->pack + r->off, m->pack + r->off + r->size, m->packLen - r->off - r->size);
    m->packLen -= r->size;
    m->npacked--;
    if (m->packLen == 0) {
        free(m->pack);
        m->pack = NULL;
        m->packCap = 0;
    } else if (m->packCap > 2 * m->packLen + 256) {
        m->packCap = m->packLen;
        m->pack = realloc(m->pack, m->packCap);
        if (m->pack == NULL) abort();
    }
}

/* Empties the packed form (the map stays packed). */
void packReset(ormap *m) {
    free(m->pack);
    free(m->pnodes);
    m->pack = NULL;
    m->pnodes = NULL;
    m->packLen = m->packCap = m->npacked = m->npnodes = 0;
}

/* A packed record's entry; its value points into the buffer (not owned). */
void recEntry(const omRec *r, omEntry *e) {
    e->d = r->d;
    regInit(&e->r);
    e->r.ver = r->v;
    e->r.present = 1;
    e->r.val = (char *)r->val;
    e->r.len = r->vlen;
}

/* p, or a copy in buf (OM_PACK_MAX_VALUE bytes) when it points into m's
 * buffer, which the caller is about to change or free. */
const char *packUnalias(const ormap *m, const char *p, size_t len, char *buf) {
    if (m->pack == NULL || p < (const char *)m->pack || p >= (const char *)m->pack + m->packLen) return p;
    assert(len <= OM_PACK_MAX_VALUE);
    if (len) memcpy(buf, p, len);
    return buf;
}

/* Turns a packed map into the dict form, for good. */
void packToDict(ormap *m) {
    if (!m->packed) return;
    omRec r;
    for (uint32_t off = 0; off < m->packLen; off += r.size) {
        packRead(m, off, &r);
        omField *n = fieldNew(r.f, r.flen);
        omEntry e;
        recEntry(&r, &e);
        n->e.d = e.d;
        regCopy(&n->e.r, &e.r);
        m->bytes += fieldFootprint(n);
        dictAdd(&m->fields, &n->link);
    }
    packReset(m);
    m->packed = 0;
}

/* Packs a dict-form map when every field fits. */
void packIfSmall(ormap *m) {
    if (m->packed || dictSize(&m->fields) > OM_PACK_MAX_FIELDS) return;
    ormapIter it;
    ormapIterInit(&it, m);
    for (const omField *n = iterNextField(&it); n; n = iterNextField(&it))
        if (n->nextra || !entryPackable(&n->e, n->flen)) return;
    ormapIterInit(&it, m);
    for (const omField *n = iterNextField(&it); n; n = iterNextField(&it))
        packPut(m, NULL, n->f, n->flen, n->e.d, n->e.r.ver, n->e.r.val, n->e.r.len);
    dictClear(&m->fields, fieldFreeCb, m);
    m->packed = 1;
}
