/* crdt_codec.c - varints and a bounds-checked reader for CRDT encodings. */
#include "crdt_codec.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cbufInit(cbuf *b) {
    b->p = NULL;
    b->len = b->cap = 0;
}

void cbufFree(cbuf *b) {
    free(b->p);
    cbufInit(b);
}

static void reserve(cbuf *b, size_t n) {
    if (b->cap - b->len >= n) return;
    size_t cap = b->cap ? b->cap : 64;
    while (cap - b->len < n) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) abort();
    b->p = p;
    b->cap = cap;
}

void cbufPutByte(cbuf *b, uint8_t v) {
    reserve(b, 1);
    b->p[b->len++] = (char)v;
}

void cbufPutVarint(cbuf *b, uint64_t v) {
    reserve(b, 10);
    while (v >= 0x80) {
        b->p[b->len++] = (char)((v & 0x7f) | 0x80);
        v >>= 7;
    }
    b->p[b->len++] = (char)v;
}

void cbufPutSvarint(cbuf *b, int64_t v) {
    cbufPutVarint(b, ((uint64_t)v << 1) ^ (uint64_t)(v >> 63));
}

void cbufPutU64(cbuf *b, uint64_t v) {
    reserve(b, 8);
    ccStoreLE64((unsigned char *)b->p + b->len, v);
    b->len += 8;
}

void cbufPutLongDouble(cbuf *b, long double v) {
    char tmp[64];
    int n = snprintf(tmp, sizeof(tmp), "%La", v);
    cbufPutBytes(b, tmp, (size_t)n);
}

void cbufPutBytes(cbuf *b, const void *p, size_t len) {
    cbufPutVarint(b, len);
    reserve(b, len);
    if (len) memcpy(b->p + b->len, p, len);
    b->len += len;
}

void creaderInit(creader *r, const void *p, size_t len) {
    r->p = p;
    r->len = len;
    r->pos = 0;
    r->err = 0;
}

static int bad(creader *r) {
    r->err = 1;
    return -1;
}

int creaderGetByte(creader *r, uint8_t *v) {
    if (r->err || r->pos >= r->len) return bad(r);
    *v = r->p[r->pos++];
    return 0;
}

int creaderGetVarint(creader *r, uint64_t *v) {
    uint64_t out = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        if (r->err || r->pos >= r->len) return bad(r);
        uint8_t byte = r->p[r->pos++];
        if (shift == 63 && byte > 1) return bad(r);
        out |= (uint64_t)(byte & 0x7f) << shift;
        if (!(byte & 0x80)) {
            *v = out;
            return 0;
        }
    }
    return bad(r);
}

int creaderGetSvarint(creader *r, int64_t *v) {
    uint64_t u;
    if (creaderGetVarint(r, &u) < 0) return -1;
    *v = (int64_t)(u >> 1) ^ -(int64_t)(u & 1);
    return 0;
}

int creaderGetU64(creader *r, uint64_t *v) {
    if (r->err || r->len - r->pos < 8) return bad(r);
    uint64_t out = 0;
    for (int i = 0; i < 8; i++) out |= (uint64_t)r->p[r->pos + (size_t)i] << (8 * i);
    r->pos += 8;
    *v = out;
    return 0;
}

int creaderGetLongDouble(creader *r, long double *v) {
    const char *p;
    size_t len;
    if (creaderGetBytes(r, &p, &len) < 0) return -1;
    char tmp[64];
    if (len == 0 || len >= sizeof(tmp)) return bad(r);
    memcpy(tmp, p, len);
    tmp[len] = '\0';
    char *end;
    *v = strtold(tmp, &end);
    if (*end != '\0') return bad(r);
    return 0;
}

int creaderGetBytes(creader *r, const char **p, size_t *len) {
    uint64_t n;
    if (creaderGetVarint(r, &n) < 0) return -1;
    if (n > r->len - r->pos) return bad(r);
    *p = (const char *)r->p + r->pos;
    *len = (size_t)n;
    r->pos += (size_t)n;
    return 0;
}
