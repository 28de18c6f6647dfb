/* crdt_ormap.h - an observed-remove map for Redis hashes: field presence is
 * add-wins, a field's value is a crdt_reg (LWW register with counter).
 *
 * Each field holds one or more entries (dot, reg).  HSET mints a new dot and
 * replaces every entry it observed with one entry whose reg is a fresh base
 * write (observing the increments it had seen).  HINCRBY/HINCRBYFLOAT also
 * mint a new dot and replace the observed entries by one entry whose reg is
 * their merge plus the increment, so a concurrent HDEL cannot swallow it.
 * HDEL drops the observed entries (their dots stay in the map's context).
 * Merge is the ORSWOT join on entries (a dot survives if both sides hold it
 * or the other side has not seen it), with entries holding the same dot
 * merged as regs.  A field's value is the merge of the regs of its surviving
 * entries; the field exists while it has at least one entry.
 *
 * So: concurrent HSETs of different fields both survive; concurrent HSETs of
 * one field resolve by the later version; concurrent HINCRBYs all count; an
 * HSET keeps its value plus the increments it had not seen; an HDEL concurrent
 * with an HSET/HINCRBY of the same field loses (add wins).
 *
 * Pure: no sockets, no globals, no logging. */
#ifndef LATTICE_CRDT_ORMAP_H
#define LATTICE_CRDT_ORMAP_H

#include <stddef.h>
#include <stdint.h>

#include "crdt_codec.h"
#include "crdt_dots.h"
#include "crdt_reg.h"
#include "hlc.h"

typedef struct ormap ormap;

ormap *ormapNew(void);
void ormapFree(ormap *m);
/* An empty map in the dict form, to accumulate a batch of deltas (as
 * orsetNewDelta). */
ormap *ormapNewDelta(void);
ormap *ormapDup(const ormap *m);

size_t ormapLen(const ormap *m);
int ormapExists(const ormap *m, const char *f, size_t flen);
/* The field's value (merged over its entries) or NULL; buf holds formatted
 * numbers (5200 bytes). */
const char *ormapGet(const ormap *m, const char *f, size_t flen, char *buf, size_t *vlen);
/* The merged reg of a field for numeric checks (INCR needs regIntValue);
 * fills *out (regInit'ed by the caller, regFree after); 0 if absent. */
int ormapFieldReg(const ormap *m, const char *f, size_t flen, reg *out);

/* Local operations; node = calling node, v = a fresh version for the write.
 * delta, when not NULL, is an ormap (ormapNew) that receives the delta, joined
 * with what it held: one delta may accumulate a batch of operations on m. */
int ormapSet(ormap *m, uint64_t node, version v, const char *f, size_t flen,
             const char *val, size_t vlen, ormap *delta);          /* 1 if the field was new */
int ormapDel(ormap *m, const char *f, size_t flen, ormap *delta);  /* 1 if it existed */
/* The caller has checked the field's value with ormapFieldReg first. */
void ormapIncrBy(ormap *m, uint64_t node, version v, const char *f, size_t flen, int64_t by, ormap *delta);
void ormapIncrByFloat(ormap *m, uint64_t node, version v, const char *f, size_t flen, long double by, ormap *delta);
void ormapClear(ormap *m, ormap *delta);        /* observed-remove of every field */
/* A new incarnation: as orsetObserveUpTo (crdt_orset.h). */
void ormapObserveUpTo(ormap *m, uint64_t node, uint64_t floor);
/* An empty map that has seen what m has (as orsetEmptyLike). */
ormap *ormapEmptyLike(const ormap *m);

void ormapMerge(ormap *m, const ormap *other);

/* Iteration over fields in an unspecified but stable order while unmodified. */
typedef struct ormapIter {
    const ormap *m;
    uint64_t a, b;
    void *cur;
} ormapIter;
void ormapIterInit(ormapIter *it, const ormap *m);
int ormapIterNext(ormapIter *it, const char **f, size_t *flen);

int ormapRandom(const ormap *m, uint64_t (*rnd)(void), const char **f, size_t *flen);
uint64_t ormapScan(const ormap *m, uint64_t cursor, void (*fn)(const char *f, size_t flen, void *ctx), void *ctx);

const ccontext *ormapContext(const ormap *m);
void ormapEncode(const ormap *m, cbuf *b);
ormap *ormapDecode(creader *r);
uint64_t ormapDigest(const ormap *m);
int ormapEqual(const ormap *a, const ormap *b);
size_t ormapMemory(const ormap *m);

/* A cache hint for a coming lookup of the field whose name has dictHashKey
 * hash: stage 0 its bucket, 1 its node, 2 its value.  Nothing changes. */
void ormapPrefetch(const ormap *m, uint64_t hash, int stage);

#endif
