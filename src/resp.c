/* resp.c - RESP request parser (see resp.h).  Owns only parsing state; it never
 * reads a socket or writes a reply. */
#include "resp.h"
#include "util.h"

#include <stdlib.h>
#include <string.h>
#include <stdio.h>
#include <limits.h>

enum { ST_START, ST_MB_COUNT, ST_BULK_LEN, ST_BULK_DATA, ST_INLINE };

#define UNAUTH_MAX_MULTIBULK 10
#define UNAUTH_MAX_BULK 16384

void respParserInit(respParser *p, long long maxBulk) {
    memset(p, 0, sizeof(*p));
    p->maxBulk = maxBulk;
    respParserReset(p);
}

void respParserFree(respParser *p) {
    free(p->argv);
    p->argv = NULL;
    p->argcap = 0;
}

void respParserReset(respParser *p) {
    p->state = ST_START;
    p->multibulk = 0;
    p->bulklen = -1;
    p->pos = 0;
    p->argc = 0;
    p->error = NULL;
}

static int fail(respParser *p, const char *msg) {
    p->error = msg;
    return RESP_ERROR;
}

static void pushArg(respParser *p, size_t off, size_t len) {
    if (p->argc == p->argcap) {
        int cap = p->argcap ? p->argcap * 2 : 8;
        respArg *n = realloc(p->argv, sizeof(*n) * (size_t)cap);
        if (!n) abort();
        p->argv = n;
        p->argcap = cap;
    }
    p->argv[p->argc].off = off;
    p->argv[p->argc].len = len;
    p->argc++;
}

/* Makes room for the announced argument count up front, bounded so that a
 * forged huge count cannot make us allocate before the bytes arrive. */
static void reserveArgs(respParser *p, long long n) {
    if (n > 1024) n = 1024;
    if (n > p->argcap) {
        respArg *a = realloc(p->argv, sizeof(*a) * (size_t)n);
        if (!a) abort();
        p->argv = a;
        p->argcap = (int)n;
    }
}

static int done(respParser *p, size_t used, size_t *usedOut) {
    *usedOut = used;
    p->state = ST_START;
    p->pos = 0;
    p->bulklen = -1;
    p->multibulk = 0;
    return RESP_COMMAND;
}

/* Inline request: one line, split with Redis's quoting rules, unescaped in place. */
static int parseInline(respParser *p, char *buf, size_t len, size_t *used) {
    char *nl = memchr(buf + p->pos, '\n', len - p->pos);
    if (!nl) {
        if (len > RESP_INLINE_MAX) return fail(p, "Protocol error: too big inline request");
        p->pos = len;
        return RESP_NEED_MORE;
    }
    size_t linelen = (size_t)(nl - buf);
    size_t consumed = linelen + 1;
    if (linelen && buf[linelen - 1] == '\r') linelen--;
    int argc;
    size_t *lens;
    char **args = splitArgs(buf, linelen, &argc, &lens);
    if (!args) return fail(p, "Protocol error: unbalanced quotes in request");
    /* Each unescaped argument is no longer than its source text and the
     * arguments appear in order, so copying them to the front never overtakes
     * unread input. */
    size_t w = 0;
    p->argc = 0;
    for (int i = 0; i < argc; i++) {
        memmove(buf + w, args[i], lens[i]);
        pushArg(p, w, lens[i]);
        w += lens[i];
    }
    freeArgs(args, lens, argc);
    return done(p, consumed, used);
}

/* Reads a "<prefix><number>\r\n" line starting at buf[p->pos]; returns 1 with
 * the value, 0 if the line is incomplete, -1 on a too-long line. */
static int readCountLine(respParser *p, const char *buf, size_t len, long long *val, int *ok) {
    const char *start = buf + p->pos + 1;
    size_t avail = len - p->pos - 1;
    const char *cr = memchr(start, '\r', avail);
    if (!cr || (size_t)(cr - start) + 1 >= avail) {
        /* The prefix byte counts toward the limit, as in Redis. */
        if (avail + 1 > RESP_INLINE_MAX) return -1;
        return 0;
    }
    *ok = string2ll(start, (size_t)(cr - start), val);
    p->pos = (size_t)(cr - buf) + 2;
    return 1;
}

int respParse(respParser *p, char *buf, size_t len, size_t *used) {
    *used = 0;
    for (;;) {
        switch (p->state) {
        case ST_START:
            if (len == 0) return RESP_NEED_MORE;
            p->argc = 0;
            p->pos = 0;
            if (buf[0] == '*') {
                p->state = ST_MB_COUNT;
            } else {
                p->state = ST_INLINE;
            }
            break;
        case ST_INLINE:
            return parseInline(p, buf, len, used);
        case ST_MB_COUNT: {
            long long n;
            int ok = 0, r = readCountLine(p, buf, len, &n, &ok);
            if (r < 0) return fail(p, "Protocol error: too big mbulk count string");
            if (r == 0) return RESP_NEED_MORE;
            if (!ok || n > INT_MAX) return fail(p, "Protocol error: invalid multibulk length");
            if (n > UNAUTH_MAX_MULTIBULK && p->unauthenticated)
                return fail(p, "Protocol error: unauthenticated multibulk length");
            if (n <= 0) return done(p, p->pos, used);
            p->multibulk = n;
            reserveArgs(p, n);
            p->state = ST_BULK_LEN;
            break;
        }
        case ST_BULK_LEN: {
            if (p->pos >= len) return RESP_NEED_MORE;
            /* Like Redis, look at the header's first byte only once the whole
             * line is here. */
            size_t lineStart = p->pos;
            long long n;
            int ok = 0, r = readCountLine(p, buf, len, &n, &ok);
            if (r < 0) return fail(p, "Protocol error: too big bulk count string");
            if (r == 0) return RESP_NEED_MORE;
            if (buf[lineStart] != '$') {
                snprintf(p->errbuf, sizeof(p->errbuf), "Protocol error: expected '$', got '%c'", buf[lineStart]);
                return fail(p, p->errbuf);
            }
            if (!ok || n < 0 || n > p->maxBulk) return fail(p, "Protocol error: invalid bulk length");
            if (n > UNAUTH_MAX_BULK && p->unauthenticated)
                return fail(p, "Protocol error: unauthenticated bulk length");
            p->bulklen = n;
            p->state = ST_BULK_DATA;
            break;
        }
        case ST_BULK_DATA: {
            size_t need = (size_t)p->bulklen + 2;
            if (len - p->pos < need) return RESP_NEED_MORE;
            pushArg(p, p->pos, (size_t)p->bulklen);
            p->pos += need;
            p->bulklen = -1;
            if (p->argc == p->multibulk) return done(p, p->pos, used);
            p->state = ST_BULK_LEN;
            break;
        }
        }
    }
}
