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
