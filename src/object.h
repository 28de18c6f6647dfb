/* object.h - value representations shared by the keyspace and the commands.
 *
 * A string value is either an integer kept in the key's slot (no allocation)
 * or an sval: a length-prefixed, capacity-tracked byte buffer that SET reuses
 * when the new value fits. */
#ifndef LATTICE_OBJECT_H
#define LATTICE_OBJECT_H

#include <stddef.h>
#include <stdint.h>

#include "crdt_reg.h"

#define PROTO_MAX_STRING (512ULL * 1024 * 1024)

typedef struct sval {
    uint32_t len;
    uint32_t cap;
    char buf[];
} sval;

sval *svalNew(const char *p, size_t len);
/* Stores p[0..len) in s, reusing it when it is large enough; returns the
 * (possibly moved) value.  s may be NULL. */
sval *svalAssign(sval *s, const char *p, size_t len);
/* Grows s to at least len bytes (new bytes zeroed), keeping its content;
 * over-allocates geometrically for repeated APPEND/SETRANGE. */
sval *svalGrow(sval *s, size_t len);
void svalFree(sval *s);
size_t svalAllocSize(const sval *s);

/* A string that has seen counter operations (INCR family): the CRDT register
 * with its per-node totals, plus its current value as bytes (the view) so
 * that reads never format. */
typedef struct strCounter {
    reg r;
    sval *view;
    uint8_t floatView;      /* the view came from INCRBYFLOAT (OBJECT ENCODING: not int) */
} strCounter;

#endif
