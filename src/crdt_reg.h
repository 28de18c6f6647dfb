/* crdt_reg.h - a string value under concurrency: a last-writer-wins register
 * (the "base") plus a PN-counter of increments with observed reset.
 *
 * SPEC: SET, APPEND, SETRANGE, DEL... write the whole base at a version; the
 * later version wins.  INCR/INCRBY/DECR/DECRBY/INCRBYFLOAT add to the calling
 * node's own running total; concurrent increments all count.  A base write
 * records the totals it observed, so the value is
 *     winning base + sum over nodes of (their total - what the base observed)
 * i.e. "the winning SET's value plus the increments it had not seen".
 * A base may be a deletion ("absent"): then the register exists only while
 * some increment it had not observed exists, and its numeric base is 0.
 *
 * Per node the running total is (seq, isum, fsum): seq counts that node's
 * increments; isum/fsum are the integer and float parts of their sum.  Merge
 * takes, per node, the entry with the higher seq (each node only ever grows
 * its own entry), and for the base the higher version (with its observed
 * totals).  So merge is commutative, associative and idempotent.
 *
 * Numeric view: if the base parses as a number (Redis's rules), the value is
 * base + unseen increments, formatted as an integer when every part is integral
 * (exactly as INCRBY replies) and as INCRBYFLOAT formats otherwise.  If the
 * base is not a number, unseen increments are ignored and the value is the
 * base bytes (deterministic on every node).
 *
 * Pure: no sockets, no globals, no logging. */
#ifndef LATTICE_CRDT_REG_H
#define LATTICE_CRDT_REG_H

#include <stddef.h>
#include <stdint.h>

#include "crdt_codec.h"
#include "hlc.h"

typedef struct regTotal {
    uint64_t node;
    uint64_t seq;           /* number of increments this node made */
    int64_t isum;           /* their integer sum (wrapping two's complement) */
    long double fsum;       /* their float sum */
} regTotal;

typedef struct reg {
    version ver;            /* of the base write; {0,0}: no base known (a pure increment delta) */
    uint8_t present;        /* the base holds a value (0: a deletion) */
    uint8_t hasFloat;       /* some increment was a float one */
    char *val;              /* base bytes (malloc'd, NUL-terminated), NULL if !present */
    size_t len;
    regTotal *obs;          /* totals the base write observed, sorted by node */
    uint32_t nobs;
    regTotal *tot;          /* all totals known, sorted by node */
    uint32_t ntot;
} reg;

void regInit(reg *r);
void regFree(reg *r);
void regCopy(reg *dst, const reg *src);
/* dst (initialised) becomes a copy of src, reusing its buffers where they fit. */
void regAssign(reg *dst, const reg *src);

/* Local operations.  Each applies to r and, when delta is not NULL, fills
 * *delta (initialised by the caller with regInit) with the smallest reg whose
 * merge into any replica has the same effect. */
void regSet(reg *r, version v, const char *val, size_t len, reg *delta);
void regDelete(reg *r, version v, reg *delta);
/* The caller has checked that the current value is an integer and that the
 * result does not overflow (regIntValue). */
void regIncrBy(reg *r, uint64_t node, int64_t by, reg *delta);
void regIncrByFloat(reg *r, uint64_t node, long double by, reg *delta);

/* Before a node's first increment of this register: its running total
 * starts at seq (with nothing summed) rather than 0, so that its seqs never
 * repeat those of an older incarnation of the key (the creating version's
 * HLC stamp, as for dots: crdt_orset.h).  No effect once the node has a total. */
void regSeqFloor(reg *r, uint64_t node, uint64_t seq);

void regMerge(reg *r, const reg *other);

/* Reading. */
int regExists(const reg *r);
/* 1 and *v if the value is an integer (as INCR requires), else 0. */
int regIntValue(const reg *r, long long *v);
/* 1 and *v if the value is a number (as INCRBYFLOAT requires), else 0. */
int regFloatValue(const reg *r, long double *v);
/* The value's bytes: either r->val or a formatted number written into buf
 * (buf must hold 5200 bytes). */
const char *regValue(const reg *r, char *buf, size_t *len);
/* 1 if the value is just the base (no unseen increments): then r->val is it. */
int regIsPlain(const reg *r);

void regEncode(const reg *r, cbuf *b);
/* Encodes the delta of node's increments: a register holding node's running
 * total alone (what regIncrBy returns as its delta), so that a run of
 * increments ships as one total.  0 if r has no total of node (nothing
 * written). */
int regEncodeTotal(const reg *r, uint64_t node, cbuf *b);
int regDecode(reg *r, creader *rd);          /* 0 or -1; r must be regInit'ed */
/* Digest of the logical state (base, version, totals) - equal on converged replicas. */
uint64_t regDigest(const reg *r, uint64_t seed);
int regEqual(const reg *a, const reg *b);
size_t regMemory(const reg *r);

#endif
