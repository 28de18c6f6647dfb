/* crdt_key.c - the tombstone table (see crdt_key.h). */
#include "crdt_key.h"

#include <stdlib.h>
#include <string.h>

static const char *tombKeyOf(const dictLink *n, size_t *len) {
    const tombstone *t = (const tombstone *)n;
    *len = t->keylen;
    return t->key;
}

void tombsInit(dict *t) { dictInit(t, tombKeyOf); }

void tombsRecord(dict *t, const char *key, size_t len, version ver) {
    tombstone *ts = (tombstone *)dictFind(t, key, len);
    if (ts) {
        if (versionCmp(ver, ts->ver) > 0) ts->ver = ver;
        return;
    }
    ts = malloc(sizeof(tombstone) + len);
    if (!ts) abort();
    ts->ver = ver;
    ts->keylen = (uint32_t)len;
    memcpy(ts->key, key, len);
    dictAdd(t, &ts->link);
}

void tombsForget(dict *t, const char *key, size_t len) {
    if (dictSize(t) == 0) return;
    free(dictUnlink(t, key, len));
}

tombstone *tombsFind(dict *t, const char *key, size_t len) {
    return (tombstone *)dictFind(t, key, len);
}

size_t tombsCollect(dict *t, uint64_t ackedStamp, size_t max) {
    size_t n = 0;
    if (dictSize(t) == 0) return 0;
    dictIter it;
    dictIterSafe(&it, t);
    dictLink *l;
    while (n < max && (l = dictNext(&it))) {
        tombstone *ts = (tombstone *)l;
        if (ts->ver.stamp <= ackedStamp) {
            dictUnlink(t, ts->key, ts->keylen);
            free(ts);
            n++;
        }
    }
    dictIterEnd(&it);
    return n;
}

static void freeTomb(dictLink *l, void *ctx) {
    (void)ctx;
    free(l);
}

void tombsClear(dict *t) { dictClear(t, freeTomb, NULL); }
