/* db.h - the keyspace: 16 databases of versioned keys, expiry and tombstones.
 *
 * Every change to a key goes through dbKeyChanged() (called by the few
 * mutators below): it stamps nothing itself but is the single place where a
 * change becomes visible to the rest of the system - WATCH, the dirty counter,
 * and later the Merkle tree, peer streaming and persistence.
 *
 * A key's value carries the version (hlc stamp, node id) of the write that made
 * it.  A deleted key leaves a tombstone with the version of the delete, kept in
 * a separate table so that reads, DBSIZE and SCAN never see it, until it can be
 * collected (see dbCollectTombstones). */
#ifndef LATTICE_DB_H
#define LATTICE_DB_H

#include <stddef.h>
#include <stdint.h>

#include "dict.h"
#include "hlc.h"
#include "object.h"
#include "crdt_key.h"

enum { OBJ_STRING = 0, OBJ_LIST = 1, OBJ_SET = 2, OBJ_ZSET = 3, OBJ_HASH = 4 };
enum { ENC_RAW = 0, ENC_INT = 1, ENC_COUNTER = 2, ENC_CRDT = 3 };

/* A key.  ver is the version that created the current incarnation of the key
 * (for a plain string: its last base write, as an LWW register); it decides
 * type clashes.  The value by type and encoding:
 *   OBJ_STRING ENC_INT      v.i     plain LWW string holding an integer
 *   OBJ_STRING ENC_RAW      v.s     plain LWW string, bytes
 *   OBJ_STRING ENC_COUNTER  v.ptr   strCounter: register with counter totals
 *   OBJ_SET    ENC_CRDT     v.ptr   orset
 *   OBJ_HASH   ENC_CRDT     v.ptr   ormap */
typedef struct kv {
    dictLink link;
    version ver;
    uint32_t type : 4;
    uint32_t enc : 2;
    uint32_t outboxQueued : 1;    /* noted for the next peer stream flush (sync.c) */
    uint32_t outboxTotalOnly : 1; /* ...and only for this node's increments of a counter (sync.c) */
    uint32_t lru : 24;          /* seconds clock, for OBJECT IDLETIME */
    uint32_t keylen : 29;
    uint32_t hasExpire : 1;
    uint32_t editedInPlace : 1;   /* string bytes edited by SETRANGE/APPEND/SETBIT...: OBJECT ENCODING says raw */
    uint32_t merkleDirty : 1;     /* queued for its Merkle contribution (sync.c) */
    uint64_t mhash;               /* its contribution to the Merkle tree now, 0 = none (sync.c owns it) */
    union {
        int64_t i;
        sval *s;
        void *ptr;
    } v;
    char key[];
} kv;


/* A key's deadline.  when = -1 marks "no deadline, written at ver" (PERSIST,
 * or a merge whose winning side had none): the key then has hasExpire set
 * but getExpire() says -1, so that the removal keeps its version against an
 * older deadline still held by a peer.  Such markers are not counted as keys
 * with an expire and are never expired. */
typedef struct expireEntry {
    dictLink link;
    kv *k;
    int64_t when;               /* absolute unix time in ms, -1 = persisted marker */
    version ver;                /* the deadline is an LWW attribute */
} expireEntry;

typedef struct db {
    int id;
    dict keys;
    dict expires;
    dict tombs;
    dict watched;               /* key -> clients WATCHing it (multi.c) */
    long long avgTtl;
    uint64_t expiresCursor;
    long long persisted;        /* expireEntry markers with when = -1 */
    uint64_t tombCursor;        /* where tombstone collection goes on */
} db;

void dbInitAll(int count);
int dbCount(void);
db *dbAt(int id);

/* Lookups.  The Read/Write variants expire the key first if its deadline has
 * passed; Read also counts a hit or miss and refreshes the access clock. */
kv *dbFind(db *d, const char *key, size_t len);

/* A batch of lookups about to happen (the commands read in one loop
 * iteration): their buckets, then their nodes, then their values are
 * prefetched, each pass over the whole batch, so the cache misses overlap
 * instead of each lookup waiting for its own; then, for a ref naming a member
 * of a set or a field of a hash, that member's bucket, node and value in the
 * same way.  A hint: nothing changes. */
#define DB_PREFETCH_MAX 1024
typedef struct dbKeyRef {
    db *d;
    const char *key;
    size_t len;
    const char *member;     /* NULL, or a member/field of the key the command names */
    size_t mlen;
} dbKeyRef;
void dbPrefetchValue(db *d, const char *key, size_t len, uint64_t hash, int stage);
void dbPrefetchKeys(const dbKeyRef *refs, int n);
kv *lookupKeyRead(db *d, const char *key, size_t len);
kv *lookupKeyWrite(db *d, const char *key, size_t len);
kv *lookupKeyNoTouch(db *d, const char *key, size_t len);
/* lookupKeyRead with flags: NOTOUCH keeps the access clock (EXISTS, TYPE, TTL,
 * OBJECT look at a key without using it), NONOTIFY sends no keymiss event. */
#define LOOKUP_NOTOUCH  (1 << 0)
#define LOOKUP_NONOTIFY (1 << 1)
kv *lookupKeyReadFlags(db *d, const char *key, size_t len, int flags);

/* Creates an empty key of the given type (the caller fills the value and, for
 * types other than strings, sets k->ver to the creating version). */
kv *dbCreate(db *d, const char *key, size_t len, int type);
/* A string's whole value was (re)written - stored with kvSetInt/kvSetBytes or
 * edited through kvMakeRaw: records the base write at ver (LWW) and feeds the
 * change hook.  For other types: the value changed, feeds the change hook. */
void dbWritten(db *d, kv *k, version ver);
/* A CRDT operation was applied to k's value (counter, set, hash), or only its
 * deadline changed: feeds the change hook without a base write. */
void dbTouched(db *d, kv *k, version ver);
/* Only k's deadline changed (EXPIRE, PERSIST): dbTouched with dbDeadlineOnly. */
void dbDeadlineTouched(db *d, kv *k, version ver);
/* Only this node's running total of counter k changed (the INCR family on a
 * key that was a counter already): dbTouched with dbTotalOnly. */
void dbIncremented(db *d, kv *k, version ver);
/* Deletes k and leaves a tombstone at ver.  For a counter, set or hash the
 * tombstone keeps the value emptied by an observed remove (crdt_key.h). */
void dbDelete(db *d, kv *k, version ver);
/* Hands the payload of key's tombstone (kind TOMB_REG/SET/HASH) to a key
 * being re-created, so that its dots and totals continue the deleted ones;
 * NULL if there is none of that kind. */
void *dbTombPayload(db *d, const char *key, size_t len, int kind);
/* A key was just created (or a string base-written) with its value in
 * place, at version v.  A set or hash is rebuilt on top of what its
 * tombstone kept (if one remains) with every dot this node minted up to v's
 * stamp marked seen (crdt_orset.h, orsetObserveUpTo); a string over a
 * counter's tombstone becomes a counter whose base observes the old totals.
 * So the new incarnation removes the old one wherever that is still held,
 * and never reuses its dots or counter sequences. */
void dbNewIncarnation(db *d, kv *k, version v);
/* Deletes by name; returns 1 if the key existed (and was not expired). */
int dbDeleteKey(db *d, const char *key, size_t len, version ver);
/* Releases a value's memory according to its type (no tombstone, no hook). */
void freeValue(kv *k);
/* String values (object.c).  Replace the value of k with an integer / bytes;
 * the base write is recorded by the dbWritten that must follow. */
void kvSetInt(kv *k, int64_t v);
void kvSetBytes(kv *k, const char *p, size_t len);
/* String view of a string value: for ints formats into buf (>= 24 bytes). */
const char *kvStringView(const kv *k, char *buf, size_t *len);
/* Turns a string value into editable raw bytes (dbWritten must follow). */
sval *kvMakeRaw(kv *k);
/* Stores back the buffer from kvMakeRaw after svalGrow may have moved it. */
void kvRawUpdated(kv *k, sval *s);
/* The counter form of a string key, converting a plain string (its bytes
 * become the register's base at k->ver) or an empty new key (whose view is
 * NULL until the counter operation that follows writes it). */
strCounter *kvCounter(kv *k);
/* Recomputes a counter's view after its register changed. */
void kvCounterRefresh(kv *k);
/* Deep copy of k's value into dst (a new key of the same type). */
void kvCopyValue(kv *dst, const kv *src);
/* Approximate bytes used by the value (MEMORY USAGE, INFO). */
size_t kvValueMemory(const kv *k);
const char *kvEncodingName(const kv *k);

/* Expiry (ms since epoch). */
int64_t getExpire(db *d, const kv *k);         /* -1 if none */
/* Sets k's deadline, written at version ver (the deadline is an LWW attribute).
 * when = -1 records "no deadline" at ver (see expireEntry). */
void setExpire(db *d, kv *k, int64_t when, version ver);
/* Drops k's deadline (and any marker); returns 1 if it had a real deadline. */
int removeExpire(db *d, kv *k);
/* The deadline with its version: a real one, a marker, or none written at k->ver. */
keyDeadline getDeadline(db *d, const kv *k);
int keyIsExpired(db *d, const kv *k);
/* Active expiry: samples keys with deadlines, a bounded slice per call. */
void activeExpireCycle(int64_t budgetUs);

/* Whole-db operations. */
long long emptyDb(int dbid);                  /* -1 = all; returns keys removed */
int dbSwap(int a, int b);
long long dbTotalKeys(void);
long long dbTotalExpires(void);
kv *dbRandomKey(db *d);
void dbCron(void);                            /* incremental rehash, shrink */

/* The one change hook: every key change ends here.  k is the key after the
 * change (NULL once deleted); prevMerkle is the contribution the key had in
 * the Merkle tree before it (kv.mhash), which the tree must take back. */
void dbKeyChanged(db *d, const char *key, size_t len, kv *k, uint64_t prevMerkle, version ver);
/* Registered observers of dbKeyChanged: WATCH (multi.c), the Merkle tree and
 * the peer stream (sync.c). */
typedef void (*keyChangeObserver)(db *d, const char *key, size_t len, kv *k, uint64_t prevMerkle, version ver);
void dbAddObserver(keyChangeObserver fn);
/* 1 while changes being applied come from a peer (sync.c sets it), so that
 * they are not streamed back. */
extern int dbApplyingRemote;
/* 1 while the change being reported only moved the key's deadline (EXPIRE,
 * PERSIST: dbDeadlineTouched), so that the stream need not ship its value. */
extern int dbDeadlineOnly;
/* 1 while the change being reported only added to this node's running total
 * of a counter (dbIncremented), so that the stream can ship that total alone. */
extern int dbTotalOnly;
/* Called after SWAPDB exchanged two databases' contents (sync.c rebuilds
 * its tree, whose hashes include the db). */
extern void (*dbSwapHook)(void);
/* The delta a set or hash operation on k should also write (its CRDT
 * operation's delta parameter: an orset * or ormap *), or NULL when nothing
 * downstream wants deltas.  The change hook that follows the operation then
 * ships that delta rather than the whole value (sync.c provides it). */
void *dbDeltaFor(db *d, kv *k);
extern void *(*dbDeltaProvider)(db *d, kv *k);

/* Tombstones: collected once every known peer has synced past them.
 * syncedStamp is that minimum over peers (UINT64_MAX with no peers).
 * Each call looks at about `max` of them; returns how many were collected. */
size_t dbCollectTombstones(db *d, uint64_t syncedStamp, size_t max);
tombstone *dbFindTombstone(db *d, const char *key, size_t len);
long long dbTotalTombstones(void);

/* DEBUG DIGEST (digest.c): 40 hex digits of the logical contents. */
void dbDigest(char hex[41]);
void dbDigestKey(db *d, const char *key, size_t len, char hex[41]);

#endif
