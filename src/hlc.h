/* hlc.h - hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
 *
 * A stamp is 64 bits: the high 48 bits are wall-clock milliseconds, the low 16
 * a logical counter.  Stamps are totally ordered as plain integers.  The module
 * is pure: the caller passes the wall clock in, so tests drive time by hand. */
#ifndef LATTICE_HLC_H
#define LATTICE_HLC_H

#include <stdint.h>

#define HLC_LOGICAL_BITS 16
#define HLC_LOGICAL_MASK ((uint64_t)0xffff)

typedef struct hlc {
    uint64_t last;          /* the latest stamp issued or observed */
    uint64_t maxSkewMs;     /* remote stamps further ahead of wall than this are refused */
} hlc;

static inline uint64_t hlcMake(uint64_t ms, uint64_t logical) {
    return (ms << HLC_LOGICAL_BITS) | (logical & HLC_LOGICAL_MASK);
}
static inline uint64_t hlcPhysical(uint64_t stamp) { return stamp >> HLC_LOGICAL_BITS; }
static inline uint64_t hlcLogical(uint64_t stamp) { return stamp & HLC_LOGICAL_MASK; }

void hlcInit(hlc *h, uint64_t maxSkewMs);
/* Stamp for a local event at wall time wallMs: strictly greater than every
 * stamp issued or observed before.  When the logical counter would overflow,
 * the physical part is advanced by one millisecond instead. */
uint64_t hlcNow(hlc *h, uint64_t wallMs);
/* Merges a remote stamp on receipt. Returns 0 and advances the clock past
 * remote, or -1 (clock untouched) when remote is more than maxSkewMs ahead of wallMs. */
int hlcObserve(hlc *h, uint64_t remote, uint64_t wallMs);

/* A version orders writes: by stamp, then by node id. */
typedef struct version {
    uint64_t stamp;
    uint64_t node;
} version;

static inline int versionCmp(version a, version b) {
    if (a.stamp != b.stamp) return a.stamp < b.stamp ? -1 : 1;
    if (a.node != b.node) return a.node < b.node ? -1 : 1;
    return 0;
}

#endif
