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

void tombPayloadFree(int kind, void *payload) {
    if (!payload) return;
    switch (kind) {
    case TOMB_REG: regFree(payload); free(payload); break;
    case TOMB_SET: orsetFree(payload); break;
    case TOMB_HASH: ormapFree(payload); break;
    default: break;
    }
}

static void payloadMerge(int kind, void *into, const void *from) {
    switch (kind) {
    case TOMB_REG: regMerge(into, from); break;
    case TOMB_SET: orsetMerge(into, from); break;
    case TOMB_HASH: ormapMerge(into, from); break;
    default: break;
    }
}

void tombsRecord(dict *t, const char *key, size_t len, version ver, uint64_t seen, int kind, void *payload) {
    if (!payload) kind = TOMB_PLAIN;
    tombstone *ts = (tombstone *)dictFind(t, key, len);
    if (ts) {
        if (ts->kind == kind && payload) {
            payloadMerge(kind, ts->payload, payload);
            tombPayloadFree(kind, payload);
        } else if (versionCmp(ver, ts->ver) >= 0) {
            tombPayloadFree(ts->kind, ts->payload);
            ts->kind = (uint8_t)kind;
            ts->payload = payload;
        } else {
            tombPayloadFree(kind, payload);
        }
        if (versionCmp(ver, ts->ver) > 0) ts->ver = ver;
        if (seen > ts->seen) ts->seen = seen;
        return;
    }
    ts = malloc(sizeof(tombstone) + len);
    if (!ts) abort();
    ts->ver = ver;
    ts->seen = seen;
    ts->kind = (uint8_t)kind;
    ts->payload = payload;
    ts->keylen = (uint32_t)len;
    memcpy(ts->key, key, len);
    dictAdd(t, &ts->link);
}

void *tombsTakePayload(tombstone *ts, int kind) {
    if (!ts || ts->kind != kind) return NULL;
    void *p = ts->payload;
    ts->payload = NULL;
    ts->kind = TOMB_PLAIN;
    return p;
}

static void tombFree(tombstone *ts) {
    tombPayloadFree(ts->kind, ts->payload);
    free(ts);
}

void tombsForget(dict *t, const char *key, size_t len) {
    if (dictSize(t) == 0) return;
    tombstone *ts = (tombstone *)dictUnlink(t, key, len);
    if (ts) tombFree(ts);
}

tombstone *tombsFind(dict *t, const char *key, size_t len) {
    return (tombstone *)dictFind(t, key, len);
}

typedef struct collectCtx {
    uint64_t synced;
    tombstone **dead;
    size_t ndead, visited;
} collectCtx;

static void collectVisit(dictLink *l, void *ctx) {
    collectCtx *cc = ctx;
    tombstone *ts = (tombstone *)l;
    cc->visited++;
    if (ts->seen < cc->synced) {
        cc->dead = realloc(cc->dead, (cc->ndead + 1) * sizeof(*cc->dead));
        if (!cc->dead) abort();
        cc->dead[cc->ndead++] = ts;
    }
}

size_t tombsCollect(dict *t, uint64_t *cursor, uint64_t syncedStamp, size_t maxVisit) {
    if (dictSize(t) == 0 || syncedStamp == 0) return 0;
    collectCtx cc = {syncedStamp, NULL, 0, 0};
    do {
        *cursor = dictScan(t, *cursor, collectVisit, &cc);
    } while (*cursor != 0 && cc.visited < maxVisit);
    for (size_t i = 0; i < cc.ndead; i++) {
        dictUnlink(t, cc.dead[i]->key, cc.dead[i]->keylen);
        tombFree(cc.dead[i]);
    }
    free(cc.dead);
    return cc.ndead;
}

static void freeTomb(dictLink *l, void *ctx) {
    (void)ctx;
    tombFree((tombstone *)l);
}

void tombsClear(dict *t) { dictClear(t, freeTomb, NULL); }
