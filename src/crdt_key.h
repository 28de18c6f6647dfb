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
#include "crdt_orset.h"
#include "crdt_ormap.h"
#include "crdt_reg.h"

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

/* What a tombstone keeps of the deleted value: for the CRDT types, the value
 * emptied by an observed remove (a register deleted at the delete's version
 * with the totals it observed; a set or hash with no members but its whole
 * causal context).  Merged into a replica that still holds the old value it
 * removes exactly what the delete observed, so concurrent adds and
 * increments survive (add wins); handed to a re-created key it makes the new
 * incarnation continue the old one's dots and totals instead of reusing them. */
enum { TOMB_PLAIN = 0, TOMB_REG = 1, TOMB_SET = 2, TOMB_HASH = 3 };

typedef struct tombstone {
    dictLink link;
    version ver;
    uint64_t seen;       /* local stamp when this node last learned something of it */
    void *payload;       /* reg *, orset * or ormap * by kind; NULL for TOMB_PLAIN */
    uint8_t kind;
    uint32_t keylen;
    char key[];
} tombstone;

void tombsInit(dict *t);
/* Records that key was deleted at ver, taking ownership of payload (of the
 * given kind, may be NULL).  Against an existing tombstone: the later
 * version is kept; payloads of one kind are merged, otherwise the later
 * delete's payload stays.  seen becomes the given stamp. */
void tombsRecord(dict *t, const char *key, size_t len, version ver, uint64_t seen, int kind, void *payload);
/* Detaches the payload of a tombstone if it is of the given kind (NULL otherwise). */
void *tombsTakePayload(tombstone *ts, int kind);
void tombPayloadFree(int kind, void *payload);
/* A write re-created the key: its tombstone is no longer needed. */
void tombsForget(dict *t, const char *key, size_t len);
tombstone *tombsFind(dict *t, const char *key, size_t len);
/* Drops the tombstones every peer has synced past (seen < syncedStamp;
 * UINT64_MAX with no peers, 0 when some peer never synced) among the next
 * buckets of a scan from *cursor that visits about maxVisit tombstones, so
 * that a large table costs a bounded slice per call; returns how many. */
size_t tombsCollect(dict *t, uint64_t *cursor, uint64_t syncedStamp, size_t maxVisit);
void tombsClear(dict *t);

#endif
