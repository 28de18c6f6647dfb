/* hlc.c - hybrid logical clock (Kulkarni et al., "Logical Physical Clocks", 2014).
 *
 * Owns the rules that turn wall-clock readings and remote stamps into
 * strictly increasing 64-bit stamps.  Pure: the caller passes the wall clock
 * in, nothing here reads time, logs or touches globals.
 *
 * With a stamp laid out as (ms << 16 | logical), the paper's rules reduce to
 * integer arithmetic: a stamp that is not a fresh wall-clock reading is the
 * previous maximum plus one, and a logical counter at 0xffff carries into the
 * millisecond part, which is exactly "advance the physical part by 1 ms". */
#include "hlc.h"

#define HLC_PHYSICAL_MAX (((uint64_t)1 << (64 - HLC_LOGICAL_BITS)) - 1)

void hlcInit(hlc *h, uint64_t maxSkewMs) {
    h->last = 0;
    h->maxSkewMs = maxSkewMs;
}

/* The stamp that follows floor: the wall-clock reading when it is ahead of
 * floor (logical 0), otherwise floor + 1. */
static uint64_t hlcAfter(uint64_t floor, uint64_t wallMs) {
    if (wallMs > HLC_PHYSICAL_MAX) wallMs = HLC_PHYSICAL_MAX;
    uint64_t wall = hlcMake(wallMs, 0);
    return wall > floor ? wall : floor + 1;
}

uint64_t hlcNow(hlc *h, uint64_t wallMs) {
    h->last = hlcAfter(h->last, wallMs);
    return h->last;
}

/* Receive rule of the paper: the new stamp exceeds both the local and the
 * remote one, and is the wall clock itself when that is ahead of both.  A
 * remote stamp too far in the future is refused so that one node with a broken
 * clock cannot drag every other clock (and win every later write). */
int hlcObserve(hlc *h, uint64_t remote, uint64_t wallMs) {
    if (hlcPhysical(remote) > wallMs && hlcPhysical(remote) - wallMs > h->maxSkewMs) return -1;
    uint64_t floor = remote > h->last ? remote : h->last;
    h->last = hlcAfter(floor, wallMs);
    return 0;
}
