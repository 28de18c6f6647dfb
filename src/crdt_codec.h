/* crdt_codec.h - the byte-level building blocks of the CRDT encodings: a
 * growable output buffer and a bounds-checked reader, with LEB128 varints.
 * Pure: no server state.  Every encoding starts with a one-byte format version
 * so that nodes of different releases can tell what they read. */
#ifndef LATTICE_CRDT_CODEC_H
#define LATTICE_CRDT_CODEC_H

#include <stddef.h>
#include <stdint.h>

typedef struct cbuf {
    char *p;
    size_t len, cap;
} cbuf;

void cbufInit(cbuf *b);
void cbufFree(cbuf *b);
void cbufPutByte(cbuf *b, uint8_t v);
void cbufPutVarint(cbuf *b, uint64_t v);
void cbufPutSvarint(cbuf *b, int64_t v);          /* zig-zag */
void cbufPutU64(cbuf *b, uint64_t v);             /* fixed 8 bytes, little endian */
void cbufPutLongDouble(cbuf *b, long double v);   /* as text, exact round trip */
void cbufPutBytes(cbuf *b, const void *p, size_t len);   /* varint length + bytes */

/* A reader over an encoded buffer.  Every get returns 0 on success and -1
 * (and sets r->err) when the input is truncated or malformed; after an error
 * every further get fails too, so callers may check once at the end. */
typedef struct creader {
    const unsigned char *p;
    size_t len, pos;
    int err;
} creader;

void creaderInit(creader *r, const void *p, size_t len);
int creaderGetByte(creader *r, uint8_t *v);
int creaderGetVarint(creader *r, uint64_t *v);
int creaderGetSvarint(creader *r, int64_t *v);
int creaderGetU64(creader *r, uint64_t *v);
int creaderGetLongDouble(creader *r, long double *v);
/* Points *p into the input (no copy). */
int creaderGetBytes(creader *r, const char **p, size_t *len);
/* Bytes not yet read (an upper bound for counts read from the input). */
/* v as 8 little-endian bytes at p, whatever the host's byte order. */
static inline void ccStoreLE64(unsigned char *p, uint64_t v) {
#if defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    __builtin_memcpy(p, &v, 8);
#else
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
#endif
}

static inline size_t creaderLeft(const creader *r) { return r->len - r->pos; }
static inline int creaderDone(const creader *r) { return !r->err && r->pos == r->len; }

#endif
