/* keystate.c - encoding a key's replicated state and merging it into the
 * keyspace (see keystate.h for the rules).
 *
 * Record layout (crdt_codec varints unless noted):
 *   tag byte: 'S' plain string, 'C' counter, 'E' set, 'H' hash, 'T' tombstone,
 *   'D' deadline only
 *   db, key (bytes), version (stamp varint, node u64)
 *   live:  deadline byte (0 none at the key's version, 1 deadline, 2 "none"
 *          marker), then for 1: when (svarint) and version; for 2: version;
 *          then the value: bytes ('S'), regEncode ('C'), orsetEncode ('E'),
 *          ormapEncode ('H')
 *   'T':   kind byte (crdt_key.h TOMB_*), then the payload's encoding
 *   'D':   the live tag of the key ('E' or 'H'), then the deadline as above:
 *          EXPIRE or PERSIST of a set or hash, without its value. */
#include "keystate.h"

#include <stdlib.h>
#include <string.h>

#define XXH_INLINE_ALL
#include <xxhash.h>

#include "crdt_ormap.h"
#include "crdt_orset.h"
#include "server.h"
#include "util.h"

#define KS_HASH_SEED 0x6b65797374617465ULL   /* "keystate" */

/* ---------- encoding ---------- */

static void putVersion(cbuf *b, version v) {
    cbufPutVarint(b, v.stamp);
    cbufPutU64(b, v.node);
}

static int getVersion(creader *r, version *v) {
    creaderGetVarint(r, &v->stamp);
    return creaderGetU64(r, &v->node);
}

static uint8_t liveTag(const kv *k) {
    if (k->type == OBJ_SET) return 'E';
    if (k->type == OBJ_HASH) return 'H';
    return k->enc == ENC_COUNTER ? 'C' : 'S';
}

static void putHead(cbuf *b, uint8_t tag, db *d, const char *key, size_t len, version v) {
    cbufPutByte(b, tag);
    cbufPutVarint(b, (uint64_t)d->id);
    cbufPutBytes(b, key, len);
    putVersion(b, v);
}

static void putDeadline(cbuf *b, db *d, const kv *k) {
    keyDeadline dl = getDeadline(d, k);
    if (!k->hasExpire) {
        cbufPutByte(b, 0);
    } else if (dl.when >= 0) {
        cbufPutByte(b, 1);
        cbufPutSvarint(b, dl.when);
        putVersion(b, dl.ver);
    } else {
        cbufPutByte(b, 2);
        putVersion(b, dl.ver);
    }
}

static void putLiveValue(cbuf *b, const kv *k, const void *delta) {
    if (k->type == OBJ_SET) {
        orsetEncode(delta ? delta : k->v.ptr, b);
    } else if (k->type == OBJ_HASH) {
        ormapEncode(delta ? delta : k->v.ptr, b);
    } else if (k->enc == ENC_COUNTER) {
        regEncode(&((const strCounter *)k->v.ptr)->r, b);
    } else {
        char buf[24];
        size_t len;
        const char *p = kvStringView(k, buf, &len);
        cbufPutBytes(b, p, len);
    }
}

static void encodeLive(cbuf *b, db *d, const kv *k, const void *delta) {
    putHead(b, liveTag(k), d, k->key, k->keylen, k->ver);
    putDeadline(b, d, k);
    putLiveValue(b, k, delta);
}

static void encodeTomb(cbuf *b, db *d, const tombstone *t) {
    putHead(b, 'T', d, t->key, t->keylen, t->ver);
    cbufPutByte(b, t->kind);
    if (t->kind == TOMB_REG) regEncode(t->payload, b);
    else if (t->kind == TOMB_SET) orsetEncode(t->payload, b);
    else if (t->kind == TOMB_HASH) ormapEncode(t->payload, b);
}

int keystateEncode(cbuf *b, db *d, const char *key, size_t len) {
    kv *k = dbFind(d, key, len);
    if (k) {
        encodeLive(b, d, k, NULL);
        return 1;
    }
    tombstone *t = dbFindTombstone(d, key, len);
    if (!t) return 0;
    encodeTomb(b, d, t);
    return 1;
}

void keystateEncodeLive(cbuf *b, db *d, const kv *k) { encodeLive(b, d, k, NULL); }

void keystateEncodeDelta(cbuf *b, db *d, const kv *k, const void *delta) { encodeLive(b, d, k, delta); }

void keystateEncodeDeadline(cbuf *b, db *d, const kv *k) {
    putHead(b, 'D', d, k->key, k->keylen, k->ver);
    cbufPutByte(b, liveTag(k));
    putDeadline(b, d, k);
}

int keystateEncodeTotal(cbuf *b, db *d, const kv *k, uint64_t node) {
    if (k->type != OBJ_STRING || k->enc != ENC_COUNTER) return 0;
    size_t mark = b->len;
    putHead(b, 'C', d, k->key, k->keylen, k->ver);
    putDeadline(b, d, k);
    if (regEncodeTotal(&((const strCounter *)k->v.ptr)->r, node, b)) return 1;
    b->len = mark;
    return 0;
}

/* ---------- digests ---------- */

static uint64_t mixVersion(uint64_t h, version v) { return ccHashWords(h, v.stamp, v.node); }

/* The words of a live key's state hashed after its name (little-endian, so
 * every host agrees): one XXH3 over them instead of a chain of small hashes,
 * as this runs for every write while peers exist. */
static uint64_t hashStateWords(uint64_t seed, const uint64_t *w, int n) {
    unsigned char buf[8 * 8];
    for (int i = 0; i < n; i++) ccStoreLE64(buf + 8 * i, w[i]);
    return XXH3_64bits_withSeed(buf, (size_t)(8 * n), seed);
}

uint64_t keystateHash(db *d, const kv *k) {
    uint64_t h = XXH3_64bits_withSeed(k->key, k->keylen, KS_HASH_SEED ^ (uint64_t)d->id);
    keyDeadline dl = getDeadline(d, k);
    uint64_t v;
    if (k->type == OBJ_SET) {
        v = orsetDigest(k->v.ptr);
    } else if (k->type == OBJ_HASH) {
        v = ormapDigest(k->v.ptr);
    } else if (k->enc == ENC_COUNTER) {
        v = regDigest(&((const strCounter *)k->v.ptr)->r, 0);
    } else {
        char buf[24];
        size_t len;
        const char *p = kvStringView(k, buf, &len);
        v = XXH3_64bits(p, len);
    }
    uint64_t w[8] = {liveTag(k), k->ver.stamp, k->ver.node, (uint64_t)dl.when, k->hasExpire, dl.ver.stamp, dl.ver.node, v};
    h = hashStateWords(h, w, 8);
    return h ? h : 1;
}

uint64_t keystateTombHash(db *d, const tombstone *t) {
    uint64_t h = XXH3_64bits_withSeed(t->key, t->keylen, KS_HASH_SEED ^ (uint64_t)d->id);
    h = ccHashWords(h, 'T', t->kind);
    h = mixVersion(h, t->ver);
    uint64_t v = 0;
    if (t->kind == TOMB_REG) v = regDigest(t->payload, 0);
    else if (t->kind == TOMB_SET) v = orsetDigest(t->payload);
    else if (t->kind == TOMB_HASH) v = ormapDigest(t->payload);
    h = ccHashWords(h, v, 2);
    return h ? h : 1;
}

/* ---------- decoding ---------- */

static void recordFreeValue(ksRecord *r) {
    tombPayloadFree(r->kind, r->value);
    r->value = NULL;
}

static reg *decodeReg(creader *rd) {
    reg *r = malloc(sizeof(*r));
    if (!r) abort();
    regInit(r);
    if (regDecode(r, rd) != 0) {
        regFree(r);
        free(r);
        return NULL;
    }
    return r;
}

static void *decodeValue(int kind, creader *rd) {
    if (kind == TOMB_REG) return decodeReg(rd);
    if (kind == TOMB_SET) return orsetDecode(rd);
    if (kind == TOMB_HASH) return ormapDecode(rd);
    return NULL;
}

static int tagKind(uint8_t tag) {
    switch (tag) {
    case 'C': return TOMB_REG;
    case 'E': return TOMB_SET;
    case 'H': return TOMB_HASH;
    default: return TOMB_PLAIN;
    }
}

static int decodeRecord(creader *rd, ksRecord *r) {
    memset(r, 0, sizeof(*r));
    uint64_t dbid;
    if (creaderGetByte(rd, &r->tag) || creaderGetVarint(rd, &dbid) ||
        creaderGetBytes(rd, &r->key, &r->keylen) || getVersion(rd, &r->ver)) return -1;
    if (r->keylen >= PROTO_MAX_STRING) return -1;
    r->d = dbid < (uint64_t)dbCount() ? dbAt((int)dbid) : NULL;   /* NULL: skipped after decoding */
    if (r->tag == 'T') {
        uint8_t kind;
        if (creaderGetByte(rd, &kind) || kind > TOMB_HASH) return -1;
        r->kind = kind;
        if (kind != TOMB_PLAIN && !(r->value = decodeValue(kind, rd))) return -1;
        return 0;
    }
    if (r->tag == 'D' && (creaderGetByte(rd, &r->of) || (r->of != 'E' && r->of != 'H'))) return -1;
    if (r->tag != 'S' && r->tag != 'C' && r->tag != 'E' && r->tag != 'H' && r->tag != 'D') return -1;
    uint8_t dk;
    if (creaderGetByte(rd, &dk) || dk > 2) return -1;
    r->dl.when = -1;
    r->dl.ver = r->ver;
    if (dk == 1) {
        int64_t when;
        if (creaderGetSvarint(rd, &when) || when < 0 || getVersion(rd, &r->dl.ver)) return -1;
        r->dl.when = when;
    } else if (dk == 2) {
        if (getVersion(rd, &r->dl.ver)) return -1;
        r->dlMarker = 1;
    }
    if (r->tag == 'D') return 0;
    r->kind = tagKind(r->tag);
    if (r->tag == 'S') return creaderGetBytes(rd, &r->bytes, &r->blen);
    return (r->value = decodeValue(r->kind, rd)) ? 0 : -1;
}

/* ---------- merging ---------- */

/* The kind of CRDT value a live key holds (TOMB_PLAIN for a plain string). */
static int liveKind(const kv *k) { return tagKind(liveTag(k)); }

/* 1 if the value (of the record's kind) holds nothing: an emptied set or
 * hash, a counter whose base is a deletion with no unseen increment. */
static int valueEmpty(int kind, const void *v) {
    if (kind == TOMB_SET) return orsetCard(v) == 0;
    if (kind == TOMB_HASH) return ormapLen(v) == 0;
    if (kind == TOMB_REG) return !regExists(v);
    return 0;
}

static void valueMerge(int kind, void *into, const void *from) {
    if (kind == TOMB_SET) orsetMerge(into, from);
    else if (kind == TOMB_HASH) ormapMerge(into, from);
    else if (kind == TOMB_REG) regMerge(into, from);
}

/* Stores a plain string's bytes as the string commands do. */
static void storePlain(kv *k, const char *p, size_t len) {
    long long ll;
    if (len > 0 && len <= 20 && string2ll(p, len, &ll)) kvSetInt(k, ll);
    else kvSetBytes(k, p, len);
}

/* Installs the record's value (taking it) into k, whose old value is freed. */
static void installValue(kv *k, ksRecord *r) {
    freeValue(k);
    k->editedInPlace = 0;
    if (r->tag == 'S') {
        k->type = OBJ_STRING;
        storePlain(k, r->bytes, r->blen);
    } else if (r->tag == 'C') {
        k->type = OBJ_STRING;
        k->ver.stamp = 0;                   /* kvCounter: a new key, no base of its own */
        strCounter *sc = kvCounter(k);
        regFree(&sc->r);
        sc->r = *(reg *)r->value;
        free(r->value);
        kvCounterRefresh(k);
    } else {
        k->type = r->tag == 'E' ? OBJ_SET : OBJ_HASH;
        k->enc = ENC_CRDT;
        k->v.ptr = r->value;
    }
    r->value = NULL;
    k->ver = r->ver;
}

/* Writes the deadline dl into k: a real one, a marker, or nothing when "none"
 * was written at the key's own version. */
static void storeDeadline(db *d, kv *k, keyDeadline dl) {
    if (dl.when >= 0) setExpire(d, k, dl.when, dl.ver);
    else if (versionCmp(dl.ver, k->ver) == 0) removeExpire(d, k);
    else setExpire(d, k, -1, dl.ver);
}

/* LWW of two deadlines; equal versions (one write) prefer the later deadline
 * so that the choice does not depend on the order of merging. */
static keyDeadline deadlineJoin(keyDeadline a, keyDeadline b) {
    int c = versionCmp(a.ver, b.ver);
    if (c != 0) return c > 0 ? a : b;
    return a.when >= b.when ? a : b;
}

/* The record replaces whatever the key held (a newer incarnation). */
static kv *createFrom(ksRecord *r) {
    kv *k = dbFind(r->d, r->key, r->keylen);
    if (!k) k = dbCreate(r->d, r->key, r->keylen, OBJ_STRING);
    else removeExpire(r->d, k);
    installValue(k, r);
    storeDeadline(r->d, k, r->dl);
    return k;
}

/* Records the (merged) deletion of a key at ver with payload, deleting the
 * live key if there is one. */
static void deleteTo(db *d, const char *key, size_t len, version ver, int kind, void *payload) {
    kv *k = dbFind(d, key, len);
    if (k) dbDelete(d, k, ver);           /* leaves the key's own emptied value */
    /* merge what the record kept into the tombstone (later version wins) */
    tombsRecord(&d->tombs, key, len, ver, server.clock.last, kind, payload);
}

/* The record's value becomes the key's (a newer incarnation, or the first
 * one here); an empty CRDT value is a deletion. */
static int installNew(ksRecord *r) {
    if (r->kind != TOMB_PLAIN && valueEmpty(r->kind, r->value)) {
        deleteTo(r->d, r->key, r->keylen, r->ver, r->kind, r->value);
        r->value = NULL;
        return KS_CHANGED;
    }
    kv *k = createFrom(r);
    dbTouched(r->d, k, r->ver);
    return KS_CHANGED;
}

/* A tombstone record against the local state. */
static int applyTomb(ksRecord *r) {
    db *d = r->d;
    kv *k = dbFind(d, r->key, r->keylen);
    if (!k) {
        tombstone *t = dbFindTombstone(d, r->key, r->keylen);
        if (t && t->kind == r->kind && versionCmp(t->ver, r->ver) >= 0 && r->kind == TOMB_PLAIN) return KS_UNCHANGED;
        uint64_t before = t ? keystateTombHash(d, t) : 0;
        tombsRecord(&d->tombs, r->key, r->keylen, r->ver, server.clock.last, r->kind, r->value);
        r->value = NULL;
        t = dbFindTombstone(d, r->key, r->keylen);
        return keystateTombHash(d, t) != before ? KS_CHANGED : KS_UNCHANGED;
    }
    int kind = liveKind(k);
    if (kind != TOMB_PLAIN && kind == r->kind) {
        /* an observed remove: drops what the delete saw, keeps concurrent adds */
        void *v = kind == TOMB_REG ? (void *)&((strCounter *)k->v.ptr)->r : k->v.ptr;
        valueMerge(kind, v, r->value);
        if (valueEmpty(kind, v)) {
            version ver = versionCmp(r->ver, k->ver) > 0 ? r->ver : k->ver;
            deleteTo(d, r->key, r->keylen, ver, r->kind, r->value);
            r->value = NULL;
            return KS_CHANGED;
        }
        if (kind == TOMB_REG) kvCounterRefresh(k);
        dbTouched(d, k, r->ver);
        return KS_CHANGED;
    }
    if (!keyWriteSurvivesDelete(k->ver, r->ver)) {
        deleteTo(d, r->key, r->keylen, r->ver, r->kind, r->value);
        r->value = NULL;
        return KS_CHANGED;
    }
    return KS_UNCHANGED;
}

/* A live record against a tombstone (no live key). */
static int applyOverTomb(ksRecord *r, tombstone *t) {
    if (keyWriteSurvivesDelete(r->ver, t->ver)) return installNew(r);
    if (t->kind == TOMB_PLAIN || t->kind != r->kind) return KS_UNCHANGED;
    /* concurrent with the delete: what the delete did not observe survives */
    valueMerge(r->kind, r->value, t->payload);
    if (valueEmpty(r->kind, r->value)) {
        uint64_t before = keystateTombHash(r->d, t);
        tombsRecord(&r->d->tombs, r->key, r->keylen, t->ver, server.clock.last, r->kind, r->value);
        r->value = NULL;
        return keystateTombHash(r->d, dbFindTombstone(r->d, r->key, r->keylen)) != before ? KS_CHANGED : KS_UNCHANGED;
    }
    return installNew(r);
}

/* Two live strings: the base is LWW, counters merge their registers.
 * Returns 0 when a plain string kept its own, newer or equal, value. */
static int mergeStrings(kv *k, ksRecord *r) {
    if (r->tag == 'S' && k->enc != ENC_COUNTER) {
        if (versionCmp(r->ver, k->ver) <= 0) return 0;
        storePlain(k, r->bytes, r->blen);
        k->editedInPlace = 0;
        k->ver = r->ver;
        return 1;
    }
    strCounter *sc = kvCounter(k);          /* a plain string becomes a base at k->ver */
    if (r->tag == 'S') {
        reg tmp;
        regInit(&tmp);
        regSet(&tmp, r->ver, r->bytes, r->blen, NULL);
        regMerge(&sc->r, &tmp);
        regFree(&tmp);
    } else {
        regMerge(&sc->r, r->value);
    }
    if (versionCmp(r->ver, k->ver) > 0) k->ver = r->ver;
    kvCounterRefresh(k);
    return 1;
}

/* A counter record without a base write: some node's running total alone,
 * what a run of increments of a key that node already had streams (sync.c).
 * Every whole counter has a base, so the sender assumed this node holds the
 * key; one that does not (a peer that has just come online, a key deleted
 * or retyped here) would make the total alone its value.  It is left to
 * anti-entropy, which brings the whole key. */
static int isTotalOnly(const ksRecord *r) {
    const reg *v = r->value;
    return r->tag == 'C' && v->ver.stamp == 0 && v->ver.node == 0 && !v->present;
}

static int applyLive(ksRecord *r) {
    db *d = r->d;
    kv *k = dbFind(d, r->key, r->keylen);
    if ((!k || k->type != OBJ_STRING) && isTotalOnly(r)) return KS_UNCHANGED;
    if (!k) {
        tombstone *t = dbFindTombstone(d, r->key, r->keylen);
        return t ? applyOverTomb(r, t) : installNew(r);
    }
    int sameType = (k->type == OBJ_STRING && (r->tag == 'S' || r->tag == 'C')) ||
                   (k->type == OBJ_SET && r->tag == 'E') || (k->type == OBJ_HASH && r->tag == 'H');
    if (!sameType) {
        if (!keyCreationWins(r->ver, k->ver)) return KS_UNCHANGED;
        return installNew(r);
    }
    keyDeadline local = getDeadline(d, k);
    int changed = 1;
    if (k->type == OBJ_STRING) {
        changed = mergeStrings(k, r);
    } else {
        valueMerge(r->kind, k->v.ptr, r->value);
        if (versionCmp(r->ver, k->ver) < 0) k->ver = r->ver;   /* the earliest creation */
        if (valueEmpty(r->kind, k->v.ptr)) {
            dbDelete(d, k, r->ver);
            return KS_CHANGED;
        }
    }
    keyDeadline joined = deadlineJoin(local, r->dl);
    storeDeadline(d, k, joined);         /* also when k->ver moved: "none" is written at a version */
    if (joined.when != local.when || versionCmp(joined.ver, local.ver) != 0) changed = 1;
    /* A CRDT merge is reported as a change without comparing digests (that
     * would cost O(size) per delta on a large set); the tree recomputes the
     * key's contribution lazily anyway. */
    if (!changed) return KS_UNCHANGED;
    dbTouched(d, k, r->ver);
    return KS_CHANGED;
}

/* A deadline-only record: joined into the key when this node holds it with
 * the same type; otherwise nothing (the key comes later with its deadline, in
 * a record of its value or through anti-entropy). */
static int applyDeadline(ksRecord *r) {
    kv *k = dbFind(r->d, r->key, r->keylen);
    if (!k || liveTag(k) != r->of) return KS_UNCHANGED;
    keyDeadline local = getDeadline(r->d, k), joined = deadlineJoin(local, r->dl);
    if (joined.when == local.when && versionCmp(joined.ver, local.ver) == 0) return KS_UNCHANGED;
    storeDeadline(r->d, k, joined);
    dbTouched(r->d, k, r->ver);
    return KS_CHANGED;
}

int keystateDecode(creader *rd, ksRecord *r) {
    if (decodeRecord(rd, r) == 0) return 0;
    recordFreeValue(r);
    return KS_MALFORMED;
}

void keystateRecordFree(ksRecord *r) { recordFreeValue(r); }

int keystateApply(creader *rd) {
    ksRecord r;
    if (keystateDecode(rd, &r) != 0) return KS_MALFORMED;
    return keystateApplyDecoded(&r);
}

int keystateApplyDecoded(ksRecord *rec) {
    ksRecord r = *rec;
    rec->value = NULL;
    if (!r.d) {
        serverLog(LL_WARNING, "Skipping a peer's write to a database this node does not have (check 'databases')");
        recordFreeValue(&r);
        return KS_REFUSED;
    }
    uint64_t now = (uint64_t)server.mstime;     /* cached per event: a clock read per record costs */
    if (hlcObserve(&server.clock, r.ver.stamp, now) != 0 || hlcObserve(&server.clock, r.dl.ver.stamp, now) != 0) {
        static int64_t lastLogMs;       /* a skewed peer must not flood the log */
        if (server.mstime - lastLogMs >= 1000) {
            lastLogMs = server.mstime;
            serverLog(LL_WARNING, "Refusing a peer's write to '%.*s': its clock is more than %llu ms ahead of ours",
                      (int)(r.keylen > 64 ? 64 : r.keylen), r.key, (unsigned long long)server.clock.maxSkewMs);
        }
        recordFreeValue(&r);
        return KS_REFUSED;
    }
    dbApplyingRemote = 1;
    int rc = r.tag == 'T' ? applyTomb(&r) : r.tag == 'D' ? applyDeadline(&r) : applyLive(&r);
    dbApplyingRemote = 0;
    recordFreeValue(&r);
    return rc;
}
