/* digest.c - a digest of the logical contents of the keyspace (DEBUG DIGEST):
 * independent of insertion order, table layout and encodings, so that nodes
 * holding the same data give the same 40 hex digits.  An empty keyspace gives
 * forty zeros, as in Redis. */
#define XXH_INLINE_ALL
#include <xxhash.h>

#include "db.h"
#include "crdt_orset.h"
#include "crdt_ormap.h"

#include <stdio.h>
#include <string.h>

/* Hash of one key's logical state: db, name, type, value and deadline. */
static XXH128_hash_t keyHash(db *d, const kv *k) {
    XXH3_state_t st;
    XXH3_128bits_reset(&st);
    int32_t id = d->id;
    XXH3_128bits_update(&st, &id, sizeof(id));
    uint32_t len = k->keylen;
    XXH3_128bits_update(&st, &len, sizeof(len));
    XXH3_128bits_update(&st, k->key, k->keylen);
    uint8_t type = (uint8_t)k->type;
    XXH3_128bits_update(&st, &type, 1);
    if (k->type == OBJ_STRING) {
        char buf[24];
        size_t vlen;
        const char *p = kvStringView(k, buf, &vlen);
        XXH3_128bits_update(&st, p, vlen);
    } else {
        /* Members (and values) in any order: combine their hashes commutatively. */
        uint64_t sum = 0, x = 0;
        const char *m;
        size_t mlen;
        if (k->type == OBJ_SET) {
            orsetIter it;
            orsetIterInit(&it, k->v.ptr);
            while (orsetIterNext(&it, &m, &mlen)) {
                uint64_t h = XXH3_64bits(m, mlen);
                sum += h;
                x ^= h * 0x9E3779B97F4A7C15ULL;
            }
        } else if (k->type == OBJ_HASH) {
            ormapIter it;
            ormapIterInit(&it, k->v.ptr);
            char vbuf[5200];
            while (ormapIterNext(&it, &m, &mlen)) {
                size_t vlen;
                const char *v = ormapGet(k->v.ptr, m, mlen, vbuf, &vlen);
                uint64_t h = XXH3_64bits_withSeed(m, mlen, 0) ^ XXH3_64bits_withSeed(v, vlen, mlen + 1);
                sum += h;
                x ^= h * 0x9E3779B97F4A7C15ULL;
            }
        }
        XXH3_128bits_update(&st, &sum, sizeof(sum));
        XXH3_128bits_update(&st, &x, sizeof(x));
    }
    int64_t when = getExpire(d, k);
    XXH3_128bits_update(&st, &when, sizeof(when));
    return XXH3_128bits_digest(&st);
}

static void toHex(uint64_t a, uint64_t b, uint32_t c, char hex[41]) {
    snprintf(hex, 41, "%016llx%016llx%08x", (unsigned long long)a, (unsigned long long)b, c);
}

void dbDigest(char hex[41]) {
    uint64_t hi = 0, lo = 0;
    uint32_t mix = 0;
    long long n = 0;
    for (int i = 0; i < dbCount(); i++) {
        db *d = dbAt(i);
        dictIter it;
        dictIterInit(&it, &d->keys);
        dictLink *l;
        while ((l = dictNext(&it))) {
            kv *k = (kv *)l;
            if (keyIsExpired(d, k)) continue;
            XXH128_hash_t h = keyHash(d, k);
            hi ^= h.high64;
            lo ^= h.low64;
            mix += (uint32_t)(h.high64 >> 32) ^ (uint32_t)h.low64;
            n++;
        }
        dictIterEnd(&it);
    }
    if (n == 0) {
        memset(hex, '0', 40);
        hex[40] = '\0';
        return;
    }
    toHex(hi, lo, mix, hex);
}

void dbDigestKey(db *d, const char *key, size_t len, char hex[41]) {
    kv *k = lookupKeyNoTouch(d, key, len);
    if (!k) {
        memset(hex, '0', 40);
        hex[40] = '\0';
        return;
    }
    XXH128_hash_t h = keyHash(d, k);
    toHex(h.high64, h.low64, (uint32_t)h.low64 ^ (uint32_t)(h.high64 >> 32), hex);
}
