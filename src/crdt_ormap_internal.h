/* crdt_ormap_internal.h - what crdt_ormap.c (the map, its dict form) and
 * crdt_ormap_pack.c (the packed form of small maps) share: the map's struct,
 * its field nodes and records, and the helpers each file lends the other.
 * Private to those two files: nothing else may include it. */
#ifndef LATTICE_CRDT_ORMAP_INTERNAL_H
#define LATTICE_CRDT_ORMAP_INTERNAL_H

#include "crdt_ormap.h"
#include "dict.h"

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

struct ormap {
    dict fields;
    ccontext cc;
    dict *removed;      /* NULL unless a touchedOnly delta removed fields */
    size_t bytes;       /* field and name nodes with their entries' heap */
    int touchedOnly;
    int packed;         /* the fields are in pack, not in fields (see crdt_ormap_pack.c) */
    unsigned char *pack;
    uint32_t packLen, packCap, npacked, npnodes;
    uint64_t *pnodes;   /* the nodes packed records name, by index */
    /* A cache, not state: the sum of the fields' digests (see ormapDigest),
     * valid once a digest was asked for, then kept up to date by local
     * writes and delta merges; anything else drops it (dsumValid = 0). */
    uint64_t dsum;
    int dsumValid;
};

/* The packed form's limits (see crdt_ormap_pack.c). */
#define OM_PACK_MAX_FIELDS 128
#define OM_PACK_MAX_NAME 64
#define OM_PACK_MAX_VALUE 64

/* One packed record, decoded: name and value point into the buffer. */
typedef struct omRec {
    uint32_t off, size;     /* where the record starts in the buffer, its bytes */
    dot d;
    version v;
    const char *f, *val;
    uint32_t flen, vlen;
} omRec;

/* Field nodes (crdt_ormap.c). */
omField *fieldNew(const char *f, size_t flen);
size_t fieldFootprint(const omField *n);
void fieldFreeCb(dictLink *node, void *ctx);
const omField *iterNextField(ormapIter *it);

/* The packed form (crdt_ormap_pack.c). */
void packRead(const ormap *m, uint32_t off, omRec *r);
int packFind(const ormap *m, const char *f, size_t flen, omRec *r);
int entryPackable(const omEntry *e, size_t flen);
void packPut(ormap *m, const omRec *old, const char *f, size_t flen, dot d, version v,
             const char *val, size_t vlen);
void packRemove(ormap *m, const omRec *r);
void packReset(ormap *m);
void recEntry(const omRec *r, omEntry *e);
const char *packUnalias(const ormap *m, const char *p, size_t len, char *buf);
void packToDict(ormap *m);
void packIfSmall(ormap *m);

#endif
