/* keystate.h - a key's whole replicated state as bytes, and the merge of such
 * bytes into the keyspace: what peers ship, both as streamed deltas and as
 * anti-entropy repairs.
 *
 * A record names (db, key) and carries either a live value - its type, the
 * version that created the incarnation, its deadline with that deadline's
 * version, and the CRDT state (or, for a set or hash, a delta of it) - or a
 * tombstone with what it kept of the deleted value.  Applying a record is a
 * join with the local state (SPEC "Data semantics"):
 *   - strings: the base is an LWW register, counters merge as crdt_reg;
 *   - sets and hashes merge as crdt_orset / crdt_ormap (a delta the same way);
 *   - a type clash keeps the incarnation created later;
 *   - a tombstone removes what its delete observed (a counter's totals, a
 *     set's or hash's context) and, for plain strings, anything older; a
 *     write newer than the tombstone re-creates the key;
 *   - the deadline is an LWW attribute of its own.
 * So applying is idempotent and commutative, and replicas that have applied
 * each other's records hold equal states.
 *
 * keystate.c talks to the keyspace only through db.h; it knows nothing of
 * sockets or peers. */
#ifndef LATTICE_KEYSTATE_H
#define LATTICE_KEYSTATE_H

#include <stddef.h>
#include <stdint.h>

#include "crdt_codec.h"
#include "db.h"

/* Appends the record of the key's current state in d: its live value, else
 * its tombstone.  Returns 0 (and appends nothing) if it has neither. */
int keystateEncode(cbuf *b, db *d, const char *key, size_t len);
/* The same for a live key already looked up. */
void keystateEncodeLive(cbuf *b, db *d, const kv *k);
/* Appends the record of live key k with delta (an orset for a set, an ormap
 * for a hash) in place of its whole value. */
void keystateEncodeDelta(cbuf *b, db *d, const kv *k, const void *delta);
/* Appends a record of set or hash k's deadline alone (after EXPIRE, PERSIST). */
void keystateEncodeDeadline(cbuf *b, db *d, const kv *k);
/* A counter's record with node's running total as its value (the delta of
 * that node's increments); 0, writing nothing, if the key is no counter with
 * such a total. */
int keystateEncodeTotal(cbuf *b, db *d, const kv *k, uint64_t node);

/* Outcome of applying one record. */
enum { KS_UNCHANGED = 0, KS_CHANGED = 1, KS_MALFORMED = -1, KS_REFUSED = -2 };
/* Decodes one record from rd and merges it into the keyspace (the change
 * hook runs with dbApplyingRemote set).  A record whose versions are too far
 * ahead of the local clock, or for a database this node does not have, is
 * refused (KS_REFUSED) and the reader moves past it; on KS_MALFORMED the rest
 * of the input cannot be trusted. */
int keystateApply(creader *rd);

/* The same in two steps, so that a caller can decode a few records ahead and
 * prefetch their keys (dictPrefetch*) before applying them. */
typedef struct ksRecord {
    uint8_t tag;
    db *d;                  /* NULL: a database this node does not have (refused) */
    const char *key;        /* points into the decoded input */
    size_t keylen;
    version ver;
    keyDeadline dl;         /* when = -1 and ver = record ver: none */
    int dlMarker;           /* 1: "none" written at dl.ver */
    const char *bytes;      /* 'S' */
    size_t blen;
    int kind;               /* 'T': TOMB_*; live: the TOMB_* of its CRDT value */
    uint8_t of;             /* 'D': the live tag of the key ('E', 'H') */
    void *value;            /* reg * ('C'), orset * ('E'), ormap * ('H'), payload ('T') */
} ksRecord;
/* Decodes one record: 0, or KS_MALFORMED (nothing left to free). */
int keystateDecode(creader *rd, ksRecord *r);
/* Merges a decoded record, as keystateApply, and frees what it held. */
int keystateApplyDecoded(ksRecord *r);
/* Frees a decoded record that will not be applied. */
void keystateRecordFree(ksRecord *r);

/* The 64-bit contribution of live key k to the Merkle tree: a hash of its
 * db, name and whole state (versions and CRDT metadata included), equal on
 * replicas holding equal states and never 0. */
uint64_t keystateHash(db *d, const kv *k);
/* The same for a tombstone (leaf listings compare tombstones too). */
uint64_t keystateTombHash(db *d, const tombstone *t);

#endif
