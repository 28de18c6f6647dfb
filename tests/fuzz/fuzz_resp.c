/* fuzz_resp.c - libFuzzer target for the RESP request parser (src/resp.c).
 *
 * Input layout:
 *   byte 0      parser setup: bit 0 unauthenticated, bits 1-3 pick maxBulk
 *   bytes 1..4  a chunk plan: the stream grows by plan[i % 4] bytes per call
 *               (0: call again with no new byte)
 *   the rest    the byte stream a client sends
 *
 * The stream is parsed three ways: whole, one byte more per call, and in the
 * planned chunks with every call on a fresh malloc'd copy of the unconsumed
 * bytes (a parser keeping a pointer into an old buffer trips ASan).  Each way
 * writes a log (per command: bytes used and the arguments; then the error
 * text or how many bytes wait), and the three logs must be equal.  Each call
 * must also keep resp.h's contract: used within the bytes given, every
 * argument within the bytes the command used, a multibulk command's
 * arguments within the bulk limits, an error text on RESP_ERROR.
 *
 * Splitting only changes the outcome for a line longer than RESP_INLINE_MAX
 * (as in Redis, where such a line is refused once that much has arrived
 * without its end), so longer streams skip the comparison. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define PLAN_LEN 4

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const long long maxBulks[8] = {512LL * 1024 * 1024, 0, 1, 3, 100, 16384, 16385, 1 << 20};

#define CHECK(cond)                                                                  \
    do {                                                                             \
        if (!(cond)) {                                                               \
            fprintf(stderr, "fuzz_resp: %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
            abort();                                                                 \
        }                                                                            \
    } while (0)

typedef struct outcomeLog {
    char *p;
    size_t len, cap;
} outcomeLog;

static void logAppend(outcomeLog *l, const void *p, size_t n) {
    if (l->len + n > l->cap) {
        size_t cap = l->cap ? l->cap : 256;
        while (cap < l->len + n) cap *= 2;
        l->p = realloc(l->p, cap);
        if (!l->p) abort();
        l->cap = cap;
    }
    if (n) memcpy(l->p + l->len, p, n);
    l->len += n;
}

static void logNum(outcomeLog *l, char tag, size_t v) {
    char tmp[32];
    int n = snprintf(tmp, sizeof(tmp), "%c%zu;", tag, v);
    logAppend(l, tmp, (size_t)n);
}

typedef struct setup {
    long long maxBulk;
    int unauthenticated;
    uint8_t plan[PLAN_LEN];   /* mode "chunks"; all zero is taken as all one */
} setup;

/* Checks one RESP_COMMAND against the contract and logs it.  first is the
 * byte the command started with before the call (an inline command is
 * unescaped in place, which may change it). */
static void logCommand(outcomeLog *l, const setup *s, const respParser *p, const char *buf, size_t len, size_t used,
                       char first) {
    CHECK(used > 0 && used <= len);
    CHECK(p->argc >= 0);
    CHECK(p->argc == 0 || p->argv != NULL);
    logNum(l, 'C', used);
    logNum(l, 'n', (size_t)p->argc);
    for (int i = 0; i < p->argc; i++) {
        const respArg *a = &p->argv[i];
        CHECK(a->off <= used && a->len <= used - a->off);
        if (first == '*') {
            CHECK((long long)a->len <= s->maxBulk);
            if (s->unauthenticated) CHECK(a->len <= 16384);
        }
        logNum(l, 'a', a->len);
        logAppend(l, buf + a->off, a->len);
    }
    if (first == '*' && s->unauthenticated) CHECK(p->argc <= 10);
}

/* Feeds stream[0..len) to a fresh parser.  mode 0: whole; 1: one byte more
 * per call, in place; 2: the plan's chunks, each call on a fresh copy. */
static void feed(const setup *s, const uint8_t *in, size_t len, int mode, outcomeLog *out) {
    respParser p;
    respParserInit(&p, s->maxBulk);
    p.unauthenticated = s->unauthenticated;
    char *stream = malloc(len + 1);   /* +1: malloc(0) may return NULL */
    if (!stream) abort();
    if (len) memcpy(stream, in, len);
    int allZero = 1;
    for (int i = 0; i < PLAN_LEN; i++) allZero &= s->plan[i] == 0;
    size_t start = 0, end = 0, step = 0, idle = 0;
    for (;;) {
        if (mode == 0) {
            end = len;
        } else if (mode == 1) {
            end = end < len ? end + 1 : len;
        } else {
            size_t grow = allZero ? 1 : s->plan[step++ % PLAN_LEN];
            end = end + grow < len ? end + grow : len;
        }
        int rc;
        for (;;) {
            char *buf = stream + start, *copy = NULL;
            size_t avail = end - start;
            if (mode == 2) {
                copy = malloc(avail + 1);
                if (!copy) abort();
                if (avail) memcpy(copy, buf, avail);
                buf = copy;
            }
            char first = avail ? buf[0] : 0;
            size_t used = (size_t)-1;
            rc = respParse(&p, buf, avail, &used);
            CHECK(rc == RESP_NEED_MORE || rc == RESP_COMMAND || rc == RESP_ERROR);
            CHECK(used <= avail);
            if (rc == RESP_COMMAND) {
                logCommand(out, s, &p, buf, avail, used, first);
                start += used;
            } else if (rc == RESP_ERROR) {
                CHECK(p.error != NULL && p.error[0] != '\0');
                logAppend(out, "E", 1);
                logAppend(out, p.error, strlen(p.error));
            } else {
                CHECK(used == 0);
            }
            free(copy);
            if (rc != RESP_COMMAND || start == end) break;
        }
        if (rc == RESP_ERROR) break;
        if (end == len) {
            /* Nothing more will come: the parser must keep asking for it. */
            if (start < end) {
                size_t used;
                CHECK(respParse(&p, stream + start, end - start, &used) == RESP_NEED_MORE);
            }
            logNum(out, 'M', end - start);
            break;
        }
        /* A plan of mostly zeros makes many idle calls: bounded anyway. */
        if (++idle > 16 * (len + PLAN_LEN)) abort();
    }
    free(stream);
    respParserFree(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (size < 1 + PLAN_LEN) return 0;
    setup s;
    s.unauthenticated = data[0] & 1;
    s.maxBulk = maxBulks[(data[0] >> 1) & 7];
    memcpy(s.plan, data + 1, PLAN_LEN);
    const uint8_t *in = data + 1 + PLAN_LEN;
    size_t len = size - 1 - PLAN_LEN;

    outcomeLog whole = {0}, bytewise = {0}, chunks = {0};
    feed(&s, in, len, 0, &whole);
    feed(&s, in, len, 1, &bytewise);
    feed(&s, in, len, 2, &chunks);
    if (len <= RESP_INLINE_MAX) {
        if (whole.len != bytewise.len || memcmp(whole.p, bytewise.p, whole.len) != 0) {
            fprintf(stderr, "fuzz_resp: fed whole and one byte at a time differ:\n%.*s\n%.*s\n", (int)whole.len,
                    whole.p, (int)bytewise.len, bytewise.p);
            abort();
        }
        if (whole.len != chunks.len || memcmp(whole.p, chunks.p, whole.len) != 0) {
            fprintf(stderr, "fuzz_resp: fed whole and in chunks differ:\n%.*s\n%.*s\n", (int)whole.len, whole.p,
                    (int)chunks.len, chunks.p);
            abort();
        }
    }
    free(whole.p);
    free(bytewise.p);
    free(chunks.p);
    return 0;
}
