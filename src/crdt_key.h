/* crdt_key.h - the rules that apply to a key as a whole, whatever its type
 * (SPEC, "Data semantics"), as pure functions, and the tombstone table.
 *
 *  - Delete: DEL, UNLINK, GETDEL, RENAME's source and expiry leave a tombstone
 *    at the delete's version; a write with a later version re-creates the key.
 *  - Type clash: a key written concurrently as two types keeps the one whose
 *    incarnation was created later (by version, so every node picks the same).
 *  - Expiry: the deadline is an LWW attribute (later version wins); a SET
 *    without KEEPTTL writes "no deadline" at its own version.
 *  - Tombstone collection: a tombstone may be dropped once every known peer
 *    has acknowledged a version at or past it (no peers: at once), so that a
 *    deleted value cannot come back through a peer that had not seen the delete.
 *
 * Pure: no sockets, no server state, no logging. */
#ifndef LATTICE_CRDT_KEY_H
#define LATTICE_CRDT_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "hlc.h"

/* 1 if an incarnation created at `a` wins a type clash against one created at `b`. */
static inline int keyCreationWins(version a, version b) { return versionCmp(a, b) > 0; }
/* 1 if a write at version w re-creates a key deleted at version t. */
static inline int keyWriteSurvivesDelete(version w, version t) { return versionCmp(w, t) > 0; }

typedef struct keyDeadline {
    int64_t when;        /* ms since epoch, -1 = none */
    version ver;         /* version of the write that set (or cleared) it */
} keyDeadline;

/* LWW merge of two deadlines: the later-written one. */
static inline keyDeadline keyDeadlineMerge(keyDeadline a, keyDeadline b) {
    return versionCmp(a.ver, b.ver) >= 0 ? a : b;
}

/* ---------- tombstones ---------- */

typedef struct tombstone {
    dictLink link;
    version ver;
    uint32_t keylen;
    char key[];
} tombstone;

void tombsInit(dict *t);
/* Records that key was deleted at ver (keeps the later of two deletes). */
void tombsRecord(dict *t, const char *key, size_t len, version ver);
/* A write re-created the key: its tombstone is no longer needed. */
void tombsForget(dict *t, const char *key, size_t len);
tombstone *tombsFind(dict *t, const char *key, size_t len);
/* Drops up to max tombstones whose version every peer has acknowledged
 * (stamp <= ackedStamp); returns how many. */
size_t tombsCollect(dict *t, uint64_t ackedStamp, size_t max);
void tombsClear(dict *t);

#endif
