/* object.c - string value buffers (see object.h). */
#include "object.h"

#include <stdlib.h>
#include <string.h>

static sval *svalAlloc(sval *old, size_t cap) {
    sval *s = realloc(old, sizeof(sval) + cap + 1);
    if (!s) abort();
    s->cap = (uint32_t)cap;
    return s;
}

sval *svalNew(const char *p, size_t len) {
    sval *s = svalAlloc(NULL, len);
    s->len = (uint32_t)len;
    if (len) memcpy(s->buf, p, len);
    s->buf[len] = '\0';
    return s;
}

sval *svalAssign(sval *s, const char *p, size_t len) {
    /* Reuse unless the buffer is far too large for the new value. */
    if (!s || s->cap < len || (s->cap > 64 && s->cap / 4 > len)) {
        free(s);
        return svalNew(p, len);
    }
    memcpy(s->buf, p, len);
    s->len = (uint32_t)len;
    s->buf[len] = '\0';
    return s;
}

sval *svalGrow(sval *s, size_t len) {
    size_t old = s ? s->len : 0;
    if (!s) s = svalNew("", 0);
    if (len <= old) return s;
    if (len > s->cap) {
        size_t cap = len < 1024 * 1024 ? len * 2 : len + 1024 * 1024;
        if (cap > PROTO_MAX_STRING) cap = len;
        s = svalAlloc(s, cap);
    }
    memset(s->buf + old, 0, len - old + 1);
    s->len = (uint32_t)len;
    return s;
}

void svalFree(sval *s) { free(s); }

size_t svalAllocSize(const sval *s) { return s ? sizeof(sval) + s->cap + 1 : 0; }

/* ---------- key values by type (see db.h) ---------- */

#include "db.h"
#include "crdt_orset.h"
#include "crdt_ormap.h"
#include "util.h"

void freeValue(kv *k) {
    switch (k->type) {
    case OBJ_STRING:
        if (k->enc == ENC_RAW) {
            svalFree(k->v.s);
        } else if (k->enc == ENC_COUNTER) {
            strCounter *sc = k->v.ptr;
            regFree(&sc->r);
            svalFree(sc->view);
            free(sc);
        }
        break;
    case OBJ_SET: orsetFree(k->v.ptr); break;
    case OBJ_HASH: ormapFree(k->v.ptr); break;
    }
    k->v.ptr = NULL;
    k->enc = ENC_INT;
}

/* A string's bytes.  A counter keeps its register: the bytes go into its
 * view and become the base at the dbWritten that follows. */
void kvSetBytes(kv *k, const char *p, size_t len) {
    k->editedInPlace = 0;
    if (k->type == OBJ_STRING && k->enc == ENC_COUNTER) {
        strCounter *sc = k->v.ptr;
        sc->view = svalAssign(sc->view, p, len);
        sc->floatView = 0;
        return;
    }
    if (k->type == OBJ_STRING && k->enc == ENC_RAW) {
        k->v.s = svalAssign(k->v.s, p, len);
    } else {
        freeValue(k);
        k->v.s = svalNew(p, len);
    }
    k->type = OBJ_STRING;
    k->enc = ENC_RAW;
}

void kvSetInt(kv *k, int64_t v) {
    k->editedInPlace = 0;
    if (k->type == OBJ_STRING && k->enc == ENC_COUNTER) {
        char buf[24];
        int n = ll2string(buf, sizeof(buf), v);
        kvSetBytes(k, buf, (size_t)n);
        return;
    }
    if (k->type != OBJ_STRING || k->enc != ENC_INT) freeValue(k);
    k->type = OBJ_STRING;
    k->enc = ENC_INT;
    k->v.i = v;
}

const char *kvStringView(const kv *k, char *buf, size_t *len) {
    if (k->enc == ENC_INT) {
        *len = (size_t)ll2string(buf, 24, k->v.i);
        return buf;
    }
    const sval *s = k->enc == ENC_COUNTER ? ((const strCounter *)k->v.ptr)->view : k->v.s;
    *len = s->len;
    return s->buf;
}

sval *kvMakeRaw(kv *k) {
    k->editedInPlace = 1;
    if (k->enc == ENC_COUNTER) return ((strCounter *)k->v.ptr)->view;
    if (k->enc == ENC_INT) {
        char buf[24];
        size_t len;
        const char *p = kvStringView(k, buf, &len);
        k->v.s = svalNew(p, len);
        k->enc = ENC_RAW;
    }
    return k->v.s;
}

void kvRawUpdated(kv *k, sval *s) {
    if (k->enc == ENC_COUNTER) ((strCounter *)k->v.ptr)->view = s;
    else k->v.s = s;
}

void kvCounterRefresh(kv *k) {
    strCounter *sc = k->v.ptr;
    k->editedInPlace = 0;
    char buf[5200];
    size_t len;
    const char *p = regValue(&sc->r, buf, &len);
    sc->view = svalAssign(sc->view, p, len);
}

strCounter *kvCounter(kv *k) {
    if (k->enc == ENC_COUNTER) return k->v.ptr;
    strCounter *sc = calloc(1, sizeof(*sc));
    if (!sc) abort();
    regInit(&sc->r);
    if (k->ver.stamp) {
        /* A plain string: its bytes are the base the counter starts from. */
        char buf[24];
        size_t len;
        const char *p = kvStringView(k, buf, &len);
        regSet(&sc->r, k->ver, p, len, NULL);
        sc->view = svalNew(p, len);
        freeValue(k);
    } else {
        /* A new key: the counter operation that follows writes the view
         * (svalAssign allocates it once, at its final size). */
        sc->view = NULL;
    }
    k->type = OBJ_STRING;
    k->enc = ENC_COUNTER;
    k->v.ptr = sc;
    return sc;
}

void kvCopyValue(kv *dst, const kv *src) {
    dst->type = src->type;
    dst->enc = src->enc;
    switch (src->type) {
    case OBJ_STRING:
        if (src->enc == ENC_INT) {
            dst->v.i = src->v.i;
        } else if (src->enc == ENC_RAW) {
            dst->v.s = svalNew(src->v.s->buf, src->v.s->len);
        } else {
            const strCounter *from = src->v.ptr;
            strCounter *sc = calloc(1, sizeof(*sc));
            if (!sc) abort();
            regInit(&sc->r);
            regCopy(&sc->r, &from->r);
            sc->view = svalNew(from->view->buf, from->view->len);
            sc->floatView = from->floatView;
            dst->v.ptr = sc;
        }
        break;
    case OBJ_SET: dst->v.ptr = orsetDup(src->v.ptr); break;
    case OBJ_HASH: dst->v.ptr = ormapDup(src->v.ptr); break;
    }
}

size_t kvValueMemory(const kv *k) {
    switch (k->type) {
    case OBJ_STRING:
        if (k->enc == ENC_RAW) return svalAllocSize(k->v.s);
        if (k->enc == ENC_COUNTER) {
            const strCounter *sc = k->v.ptr;
            return sizeof(*sc) + regMemory(&sc->r) + svalAllocSize(sc->view);
        }
        return 0;
    case OBJ_SET: return orsetMemory(k->v.ptr);
    case OBJ_HASH: return ormapMemory(k->v.ptr);
    }
    return 0;
}

/* The encoding Redis 7.0 would report for the same contents with default
 * settings (sets: intset up to 512 integers; hashes: listpack up to 128
 * fields of at most 64 bytes), so that tools reading OBJECT ENCODING see
 * familiar names.  lattice's own representation is the CRDT either way. */
const char *kvEncodingName(const kv *k) {
    switch (k->type) {
    case OBJ_STRING: {
        /* As Redis: an integer that reads back identically is "int", bytes
         * edited in place are "raw", other values "embstr" up to 44 bytes. */
        if (k->enc == ENC_INT) return "int";
        if (k->editedInPlace) return "raw";
        const sval *v = k->enc == ENC_COUNTER ? ((const strCounter *)k->v.ptr)->view : k->v.s;
        long long ll;
        if (k->enc == ENC_COUNTER && !((const strCounter *)k->v.ptr)->floatView && v->len <= 20 && v->len > 0 &&
            string2ll(v->buf, v->len, &ll))
            return "int";
        return v->len <= 44 ? "embstr" : "raw";
    }
    case OBJ_SET: {
        if (orsetCard(k->v.ptr) > 512) return "hashtable";
        orsetIter it;
        orsetIterInit(&it, k->v.ptr);
        const char *m;
        size_t len;
        long long ll;
        while (orsetIterNext(&it, &m, &len))
            if (!string2ll(m, len, &ll)) return "hashtable";
        return "intset";
    }
    case OBJ_HASH: {
        if (ormapLen(k->v.ptr) > 128) return "hashtable";
        ormapIter it;
        ormapIterInit(&it, k->v.ptr);
        const char *f;
        size_t flen;
        char buf[5200];
        while (ormapIterNext(&it, &f, &flen)) {
            size_t vlen;
            if (flen > 64 || !ormapGet(k->v.ptr, f, flen, buf, &vlen) || vlen > 64) return "hashtable";
        }
        return "listpack";
    }
    }
    return "raw";
}
