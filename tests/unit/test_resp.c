/* test_resp.c - the RESP request parser against resp.h's contract and Redis
 * 7.0's behaviour (processMultibulkBuffer / processInlineBuffer; cases marked
 * "redis-server 7.0" were observed on a real server).
 *
 * Every input is run three ways and must give the same outcome each time:
 * whole, one byte more per call (each call on a fresh copy of the buffer, so
 * a parser that kept a pointer into an old buffer trips AddressSanitizer),
 * and in random chunks, sometimes calling again with no new byte.  The
 * outcome is written as text: one line per command, "used:[arg][arg]...",
 * then "more:N" (N bytes waiting for the rest of a command) or "error:TEXT".
 * In args, bytes outside printable ASCII and the characters [ ] \ are
 * written \xHH. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resp.h"

#define S(lit) (lit), (sizeof(lit) - 1)
#define MAX_BULK_DEFAULT (512LL * 1024 * 1024)
#define COPY_LIMIT 8192   /* above this, byte-at-a-time feeding reuses one buffer */

typedef struct text {
    char *s;
    size_t len, cap;
} text;

static void textAppend(text *t, const char *s, size_t n) {
    if (t->len + n + 1 > t->cap) {
        t->cap = (t->len + n + 1) * 2;
        t->s = realloc(t->s, t->cap);
        assert_non_null(t->s);
    }
    memcpy(t->s + t->len, s, n);
    t->len += n;
    t->s[t->len] = '\0';
}

static void textPrintf(text *t, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *tmp = malloc((size_t)n + 1);
    assert_non_null(tmp);
    va_start(ap, fmt);
    vsnprintf(tmp, (size_t)n + 1, fmt, ap);
    va_end(ap);
    textAppend(t, tmp, (size_t)n);
    free(tmp);
}

static void textArg(text *t, const char *s, size_t n) {
    textAppend(t, "[", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x20 || c > 0x7e || c == '[' || c == ']' || c == '\\') textPrintf(t, "\\x%02x", c);
        else textAppend(t, s + i, 1);
    }
    textAppend(t, "]", 1);
}

typedef struct config {
    long long maxBulk;
    int unauthenticated;
} config;

static const config defaults = {MAX_BULK_DEFAULT, 0};

/* Records the command just parsed from buf. */
static void recordCommand(text *out, const respParser *p, const char *buf, size_t bufLen, size_t used) {
    assert_true(used > 0);
    assert_true(used <= bufLen);
    assert_true(p->argc >= 0);
    textPrintf(out, "%zu:", used);
    for (int i = 0; i < p->argc; i++) {
        assert_true(p->argv[i].off + p->argv[i].len <= bufLen);
        textArg(out, buf + p->argv[i].off, p->argv[i].len);
    }
    textAppend(out, "\n", 1);
}

static void recordError(text *out, const respParser *p) {
    assert_non_null(p->error);
    textPrintf(out, "error:%s", p->error);
}

/* Feeds `in` to a fresh parser; the stream grows by up to `step` bytes per
 * call (0: everything at once; negative: random chunks of 0..-step bytes).
 * With copy set, each call sees a new copy of the unconsumed bytes. */
static void feed(const char *in, size_t len, const config *cfg, long step, int copy, uint64_t *seed, text *out) {
    respParser p;
    respParserInit(&p, cfg->maxBulk);
    p.unauthenticated = cfg->unauthenticated;
    char *stream = malloc(len + 1);
    assert_non_null(stream);
    memcpy(stream, in, len);
    size_t start = 0, end = 0;
    char *prev = NULL;
    for (;;) {
        if (end == len && start == end) {
            textPrintf(out, "more:0");
            break;
        }
        /* Grow the window (by zero bytes now and then in random mode). */
        if (step == 0) {
            end = len;
        } else if (step > 0) {
            end = end + (size_t)step < len ? end + (size_t)step : len;
        } else {
            *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
            size_t grow = (size_t)((*seed >> 33) % (uint64_t)(-step + 1));
            end = end + grow < len ? end + grow : len;
        }
        if (end == start) continue;
        /* Parse until the window holds no complete command. */
        int rc;
        for (;;) {
            char *buf = stream + start;
            if (copy) {
                buf = malloc(end - start);
                assert_non_null(buf);
                memcpy(buf, stream + start, end - start);
                free(prev);
                prev = buf;
            }
            size_t used = 12345;
            rc = respParse(&p, buf, end - start, &used);
            if (rc == RESP_COMMAND) {
                recordCommand(out, &p, buf, end - start, used);
                if (copy) memcpy(stream + start, buf, used);   /* keep the in-place unescaping */
                start += used;
                if (start == end) break;
                continue;
            }
            assert_true(rc == RESP_NEED_MORE || rc == RESP_ERROR);
            break;
        }
        if (rc == RESP_ERROR) {
            recordError(out, &p);
            break;
        }
        if (end == len && (rc == RESP_NEED_MORE || start == end)) {
            textPrintf(out, "more:%zu", end - start);
            break;
        }
    }
    free(prev);
    free(stream);
    respParserFree(&p);
}

/* Runs in all three ways, checks they agree, and returns the outcome. */
static char *outcome(const char *in, size_t len, const config *cfg) {
    text whole = {0}, bytewise = {0}, chunks = {0};
    uint64_t seed = 0x5eed ^ len;
    feed(in, len, cfg, 0, 0, &seed, &whole);
    feed(in, len, cfg, 1, len <= COPY_LIMIT, &seed, &bytewise);
    feed(in, len, cfg, len > COPY_LIMIT ? -4096 : -7, len <= COPY_LIMIT, &seed, &chunks);
    if (strcmp(whole.s, bytewise.s) != 0)
        fail_msg("fed whole:\n%s\nfed one byte at a time:\n%s", whole.s, bytewise.s);
    if (strcmp(whole.s, chunks.s) != 0)
        fail_msg("fed whole:\n%s\nfed in random chunks:\n%s", whole.s, chunks.s);
    free(bytewise.s);
    free(chunks.s);
    return whole.s;
}

/* A check on the test itself: in an expected outcome that does not end in an
 * error, the bytes used by the commands plus those waiting add up to the input. */
static void checkExpectation(size_t len, const char *want) {
    size_t total = 0;
    for (const char *line = want; *line;) {
        if (strncmp(line, "error:", 6) == 0) return;
        if (strncmp(line, "more:", 5) == 0) {
            total += strtoul(line + 5, NULL, 10);
            break;
        }
        total += strtoul(line, NULL, 10);
        const char *nl = strchr(line, '\n');
        if (!nl) break;
        line = nl + 1;
    }
    if (total != len) fail_msg("bad expectation (accounts for %zu of %zu bytes): %s", total, len, want);
}

static void expectWith(const config *cfg, const char *in, size_t len, const char *want) {
    checkExpectation(len, want);
    char *got = outcome(in, len, cfg);
    if (strcmp(got, want) != 0) {
        text shown = {0};
        textArg(&shown, in, len > 200 ? 200 : len);
        fail_msg("input %s%s\nwant: %s\ngot:  %s", shown.s, len > 200 ? "..." : "", want, got);
    }
    free(got);
}

static void expect(const char *in, size_t len, const char *want) { expectWith(&defaults, in, len, want); }

/* ---- multibulk ---- */

static void test_multibulk_basic(void **state) {
    expect(S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"), "20:[GET][k]\nmore:0");
    expect(S("*1\r\n$4\r\nPING\r\n"), "14:[PING]\nmore:0");
    expect(S("*2\r\n$4\r\nECHO\r\n$0\r\n\r\n"), "20:[ECHO][]\nmore:0");
    expect(S("*3\r\n$3\r\nSET\r\n$10\r\n0123456789\r\n$2\r\nab\r\n"), "38:[SET][0123456789][ab]\nmore:0");
}

static void test_multibulk_binary_safe(void **state) {
    expect(S("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$7\r\na\r\nb\0c\n\r\n"),
           "33:[SET][k][a\\x0d\\x0ab\\x00c\\x0a]\nmore:0");
    expect(S("*1\r\n$4\r\n*1\r\n\r\n"), "14:[*1\\x0d\\x0a]\nmore:0");
    expect(S("*1\r\n$5\r\n$5\r\nx\r\n"), "15:[$5\\x0d\\x0ax]\nmore:0");
}

/* Counts <= 0 mean "nothing to run": argc 0 and the line is consumed. */
static void test_multibulk_empty(void **state) {
    expect(S("*0\r\n"), "4:\nmore:0");
    expect(S("*-1\r\n"), "5:\nmore:0");
    expect(S("*-5\r\nPING\r\n"), "5:\n6:[PING]\nmore:0");        /* redis-server 7.0 */
    expect(S("*-10\r\n*1\r\n$4\r\nPING\r\n"), "6:\n14:[PING]\nmore:0");
}

static void test_multibulk_incomplete(void **state) {
    expect(S("*"), "more:1");
    expect(S("*2"), "more:2");
    expect(S("*2\r"), "more:3");
    expect(S("*2\r\n"), "more:4");
    expect(S("*2\r\n$3\r\nGET\r\n"), "more:13");
    expect(S("*2\r\n$3\r\nGET\r\n$1\r\nk"), "more:18");
    expect(S("*2\r\n$3\r\nGET\r\n$1\r\nk\r"), "more:19");
    /* A huge announced count is accepted and waited for (nothing allocated
     * for it up front). */
    expect(S("*2147483647\r\n"), "more:13");                        /* redis-server 7.0 */
    expect(S("*1\r\n$536870912\r\n"), "more:16");
}

/* Redis reads bulk data by its announced length and skips the two bytes
 * after it without checking that they are "\r\n". */
static void test_multibulk_trailer_not_checked(void **state) {
    expect(S("*1\r\n$4\r\nPINGXY*1\r\n$4\r\nPING\r\n"), "14:[PING]\n14:[PING]\nmore:0");   /* redis-server 7.0 */
}

static void test_multibulk_many_args_then_few(void **state) {
    text in = {0}, want = {0};
    textPrintf(&in, "*300\r\n");
    size_t first = 6;
    for (int i = 0; i < 300; i++) {
        char arg[16];
        int n = snprintf(arg, sizeof(arg), "arg%d", i);
        size_t before = in.len;
        textPrintf(&in, "$%d\r\n%s\r\n", n, arg);
        first += in.len - before;
    }
    textPrintf(&want, "%zu:", first);
    for (int i = 0; i < 300; i++) {
        char arg[16];
        int n = snprintf(arg, sizeof(arg), "arg%d", i);
        textArg(&want, arg, (size_t)n);
    }
    textPrintf(&in, "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n");
    textPrintf(&want, "\n20:[GET][k]\nmore:0");
    expect(in.s, in.len, want.s);
    free(in.s);
    free(want.s);
}

/* Bulk data has no line-length limit: only count lines do. */
static void test_multibulk_large_argument(void **state) {
    enum { N = 200000 };
    text in = {0}, want = {0};
    textPrintf(&in, "*2\r\n$4\r\nECHO\r\n$%d\r\n", N);
    size_t head = in.len;
    char *big = malloc(N);
    assert_non_null(big);
    for (int i = 0; i < N; i++) big[i] = (char)('a' + i % 26);
    textAppend(&in, big, N);
    textAppend(&in, "\r\n", 2);
    textPrintf(&want, "%zu:[ECHO]", head + N + 2);
    textArg(&want, big, N);
    textPrintf(&want, "\nmore:0");
    expect(in.s, in.len, want.s);
    free(big);
    free(in.s);
    free(want.s);
}

/* ---- inline ---- */

static void test_inline_basic(void **state) {
    expect(S("PING\r\n"), "6:[PING]\nmore:0");
    expect(S("PING\n"), "5:[PING]\nmore:0");                       /* redis-server 7.0 */
    expect(S(" PING\t\r\n"), "8:[PING]\nmore:0");
    expect(S("set k v\r\n"), "9:[set][k][v]\nmore:0");
    expect(S("  set   k\t v \r\n"), "15:[set][k][v]\nmore:0");
    expect(S("ECHO a\rb\n"), "9:[ECHO][a][b]\nmore:0");              /* redis-server 7.0 */
    expect(S("ECHO a\r\r\n"), "9:[ECHO][a]\nmore:0");
}

static void test_inline_empty_lines(void **state) {
    expect(S("\r\n"), "2:\nmore:0");
    expect(S("\n"), "1:\nmore:0");
    expect(S("   \r\n"), "5:\nmore:0");
    expect(S(" \t\n"), "3:\nmore:0");
    expect(S("\n\r\nPING\n"), "1:\n2:\n5:[PING]\nmore:0");          /* redis-server 7.0 */
}

static void test_inline_quoting(void **state) {
    expect(S("set k \"a b\"\r\n"), "13:[set][k][a b]\nmore:0");
    expect(S("ECHO 'x'\r\n"), "10:[ECHO][x]\nmore:0");
    expect(S("ECHO \"\\x41\"\r\n"), "13:[ECHO][A]\nmore:0");
    expect(S("ECHO \"\\x41\\x4a\\n\\q\"\r\n"), "21:[ECHO][AJ\\x0aq]\nmore:0");   /* redis-server 7.0 */
    expect(S("ECHO \\x41\r\n"), "11:[ECHO][\\x5cx41]\nmore:0");       /* redis-server 7.0 */
    expect(S("ECHO 'it\\'s'\r\n"), "14:[ECHO][it's]\nmore:0");         /* redis-server 7.0 */
    expect(S("ECHO foo\"bar baz\"\r\n"), "19:[ECHO][foobar baz]\nmore:0");  /* redis-server 7.0 */
    expect(S("ECHO \"\"\r\n"), "9:[ECHO][]\nmore:0");
    expect(S("ECHO \"a\\r\\nb\" c\r\n"), "17:[ECHO][a\\x0d\\x0ab][c]\nmore:0");
    expect(S("ECHO \"\\x00\"\r\n"), "13:[ECHO][\\x00]\nmore:0");
}

static void test_inline_incomplete(void **state) {
    expect(S("PING"), "more:4");
    expect(S("PING\r"), "more:5");
    expect(S("set k \"a b"), "more:10");
}

static void test_inline_unbalanced_quotes(void **state) {
    const char *err = "error:Protocol error: unbalanced quotes in request";
    expect(S("ECHO \"a\r\n"), err);                                 /* redis-server 7.0 */
    expect(S("ECHO 'a\n"), err);
    expect(S("ECHO \"a\"b\r\nPING\r\n"), err);                      /* redis-server 7.0 */
    expect(S("ECHO 'a'x\n"), err);
    expect(S("ECHO \"abc\\\"\r\n"), err);                           /* redis-server 7.0 */
    expect(S("set \"\"\"test-key\"\"\" test-value\r\nping\r\n"), err); /* Redis's protocol.tcl */
    expect(S("PING\r\nECHO \"x\r\n"), "6:[PING]\nerror:Protocol error: unbalanced quotes in request");
}

/* More than 64 KiB without a newline is refused; exactly 64 KiB waits. */
static void test_inline_too_big(void **state) {
    enum { MAX = RESP_INLINE_MAX };
    char *in = malloc(MAX + 16);
    assert_non_null(in);
    memset(in, 'a', MAX + 16);
    expect(in, MAX, "more:65536");
    expect(in, MAX + 1, "error:Protocol error: too big inline request");
    /* Measured from the start of the command, not of the buffer. */
    memcpy(in, "PING\r\n", 6);
    expect(in, 6 + MAX, "6:[PING]\nmore:65536");
    expect(in, 6 + MAX + 1, "6:[PING]\nerror:Protocol error: too big inline request");
    free(in);
}

static void test_mixed_pipeline(void **state) {
    expect(S("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n\r\n*0\r\nECHO x\n*1\r\n$4\r\nPI"),
           "14:[PING]\n6:[PING]\n20:[GET][k]\n2:\n4:\n7:[ECHO][x]\nmore:10");
}

/* ---- protocol errors, with Redis's texts ---- */

static void test_invalid_multibulk_length(void **state) {
    const char *err = "error:Protocol error: invalid multibulk length";
    expect(S("*abc\r\n"), err);
    expect(S("*3000000000\r\n"), err);                              /* Redis's protocol.tcl */
    expect(S("*2147483648\r\n"), err);                              /* redis-server 7.0: > INT_MAX */
    expect(S("*9223372036854775808\r\n"), err);
    expect(S("*\r\n"), err);                                        /* redis-server 7.0 */
    expect(S("*-0\r\n"), err);                                      /* redis-server 7.0 */
    expect(S("*01\r\n"), err);                                      /* redis-server 7.0 */
    expect(S("*+1\r\n"), err);
    expect(S("* 1\r\n"), err);
    expect(S("*1 \r\n"), err);
    expect(S("*1\n$4\r\nPING\r\n"), err);                           /* redis-server 7.0: the count ends at '\r' */
    expect(S("PING\r\n*x\r\n"), "6:[PING]\nerror:Protocol error: invalid multibulk length");
}

static void test_expected_dollar(void **state) {
    expect(S("*1\r\nx\r\n"), "error:Protocol error: expected '$', got 'x'");              /* redis-server 7.0 */
    expect(S("*1\r\nfoo\r\n"), "error:Protocol error: expected '$', got 'f'");            /* protocol.tcl */
    expect(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\nfooz\r\n"), "error:Protocol error: expected '$', got 'f'");
    expect(S("*2\r\n$3\r\nGET\r\n:1\r\n"), "error:Protocol error: expected '$', got ':'");
    expect(S("*2\r\n$3\r\nGET\r\n*1\r\n"), "error:Protocol error: expected '$', got '*'");
}

/* Redis looks at the first byte of a bulk header only once the whole line
 * ("...\r" plus one byte) has arrived, so a header line that never ends is
 * "too big" rather than "expected '$'". */
static void test_expected_dollar_waits_for_the_line(void **state) {
    expect(S("*1\r\nx"), "more:5");                                                       /* redis-server 7.0 */
    expect(S("*2\r\n$3\r\nGET\r\nfoo"), "more:16");
    char *in = malloc(5 + RESP_INLINE_MAX);
    assert_non_null(in);
    memcpy(in, "*1\r\nx", 5);
    memset(in + 5, 'y', RESP_INLINE_MAX);
    expect(in, 5 + RESP_INLINE_MAX, "error:Protocol error: too big bulk count string");  /* redis-server 7.0 */
    free(in);
}

static void test_invalid_bulk_length(void **state) {
    const char *err = "error:Protocol error: invalid bulk length";
    expect(S("*1\r\n$-1\r\n"), err);                                 /* redis-server 7.0 */
    expect(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"), err);       /* protocol.tcl */
    expect(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2000000000\r\n"), err); /* protocol.tcl: > proto-max-bulk-len */
    expect(S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$blabla\r\n"), err);    /* protocol.tcl */
    expect(S("*1\r\n$\r\n"), err);                                   /* redis-server 7.0 */
    expect(S("*1\r\n$01\r\nx\r\n"), err);                            /* redis-server 7.0 */
    expect(S("*1\r\n$+1\r\n"), err);                                 /* redis-server 7.0 */
    expect(S("*1\r\n$ 1\r\n"), err);                                 /* redis-server 7.0 */
    expect(S("*1\r\n$536870913\r\n"), err);                          /* redis-server 7.0 */
    expect(S("*1\r\n$9223372036854775808\r\n"), err);                /* redis-server 7.0 */
}

static void test_max_bulk_is_configurable(void **state) {
    config small = {100, 0};
    char in[200];
    int head = snprintf(in, sizeof(in), "*1\r\n$100\r\n");
    memset(in + head, 'z', 100);
    memcpy(in + head + 100, "\r\n", 2);
    char *got = outcome(in, (size_t)head + 102, &small);
    assert_int_equal(strncmp(got, "112:[zzzz", 9), 0);
    free(got);
    expectWith(&small, S("*1\r\n$101\r\n"), "error:Protocol error: invalid bulk length");
}

/* More than 64 KiB (counted from the '*' or '$') without a "\r": these four
 * boundaries were checked on redis-server 7.0. */
static void test_too_big_count_strings(void **state) {
    enum { MAX = RESP_INLINE_MAX };
    char *in = malloc(MAX + 16);
    assert_non_null(in);
    in[0] = '*';
    memset(in + 1, '1', MAX + 15);
    expect(in, MAX, "more:65536");
    expect(in, MAX + 1, "error:Protocol error: too big mbulk count string");
    memcpy(in, "*1\r\n$", 5);
    expect(in, 4 + MAX, "more:65540");
    expect(in, 4 + MAX + 1, "error:Protocol error: too big bulk count string");
    free(in);
}

static void test_unauthenticated_limits(void **state) {
    config unauth = {MAX_BULK_DEFAULT, 1};
    expectWith(&unauth, S("*10\r\n"), "more:5");                                                  /* redis-server 7.0 */
    expectWith(&unauth, S("*11\r\n"), "error:Protocol error: unauthenticated multibulk length");  /* redis-server 7.0 */
    expectWith(&unauth, S("*100\r\n"), "error:Protocol error: unauthenticated multibulk length"); /* Redis's auth.tcl */
    expectWith(&unauth, S("*1\r\n$16384\r\n"), "more:12");                                        /* redis-server 7.0 */
    expectWith(&unauth, S("*1\r\n$16385\r\n"), "error:Protocol error: unauthenticated bulk length"); /* redis-server 7.0 */
    expectWith(&unauth, S("*1\r\n$100000000\r\n"), "error:Protocol error: unauthenticated bulk length"); /* auth.tcl */
    /* The ordinary checks come first. */
    expectWith(&unauth, S("*3000000000\r\n"), "error:Protocol error: invalid multibulk length");  /* redis-server 7.0 */
    expectWith(&unauth, S("*1\r\n$536870913\r\n"), "error:Protocol error: invalid bulk length");  /* redis-server 7.0 */
    /* Empty requests and small commands are fine. */
    expectWith(&unauth, S("*-1\r\n*2\r\n$4\r\nAUTH\r\n$1\r\np\r\n"), "5:\n21:[AUTH][p]\nmore:0");
    /* And authenticated clients are not limited. */
    expect(S("*11\r\n"), "more:5");
    expect(S("*1\r\n$16385\r\n"), "more:12");
}

/* ---- parser lifecycle ---- */

static void test_reset_after_error_and_partial(void **state) {
    respParser p;
    size_t used;
    respParserInit(&p, MAX_BULK_DEFAULT);
    char bad[] = "*1\r\n$-1\r\n";
    assert_int_equal(respParse(&p, bad, sizeof(bad) - 1, &used), RESP_ERROR);
    assert_string_equal(p.error, "Protocol error: invalid bulk length");
    respParserReset(&p);
    char good[] = "*1\r\n$4\r\nPING\r\n";
    assert_int_equal(respParse(&p, good, sizeof(good) - 1, &used), RESP_COMMAND);
    assert_int_equal(used, 14);
    assert_int_equal(p.argc, 1);
    /* A half-read command is forgotten by a reset. */
    char half[] = "*2\r\n$3\r\nGET\r\n";
    assert_int_equal(respParse(&p, half, sizeof(half) - 1, &used), RESP_NEED_MORE);
    respParserReset(&p);
    char inl[] = "PING\r\n";
    assert_int_equal(respParse(&p, inl, sizeof(inl) - 1, &used), RESP_COMMAND);
    assert_int_equal(used, 6);
    assert_int_equal(p.argc, 1);
    assert_int_equal(p.argv[0].len, 4);
    assert_memory_equal(inl + p.argv[0].off, "PING", 4);
    /* Nothing to parse yet. */
    assert_int_equal(respParse(&p, inl, 0, &used), RESP_NEED_MORE);
    respParserFree(&p);
    respParserFree(&p);   /* freeing twice is harmless */
}

/* The same bytes passed again (no new data) give the same answer. */
static void test_repeated_calls_without_new_bytes(void **state) {
    respParser p;
    size_t used;
    respParserInit(&p, MAX_BULK_DEFAULT);
    char in[] = "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n";
    for (size_t n = 1; n < sizeof(in) - 1; n++) {
        assert_int_equal(respParse(&p, in, n, &used), RESP_NEED_MORE);
        assert_int_equal(respParse(&p, in, n, &used), RESP_NEED_MORE);
    }
    assert_int_equal(respParse(&p, in, sizeof(in) - 1, &used), RESP_COMMAND);
    assert_int_equal(used, 20);
    assert_int_equal(p.argc, 2);
    respParserFree(&p);
}

/* ---- random streams ---- */

static uint64_t next(uint64_t *seed) {
    *seed = *seed * 6364136223846793005ULL + 1442695040888963407ULL;
    return *seed >> 29;
}

/* Random multibulk commands with binary arguments come back exactly. */
static void test_random_multibulk_roundtrip(void **state) {
    uint64_t seed = 42;
    for (int round = 0; round < 200; round++) {
        text in = {0}, want = {0};
        int cmds = 1 + (int)(next(&seed) % 5);
        for (int c = 0; c < cmds; c++) {
            int argc = (int)(next(&seed) % 6);
            size_t start = in.len;
            textPrintf(&in, "*%d\r\n", argc);
            text args = {0};
            textAppend(&args, "", 0);
            for (int a = 0; a < argc; a++) {
                char arg[40];
                size_t alen = next(&seed) % sizeof(arg);
                for (size_t i = 0; i < alen; i++) arg[i] = (char)next(&seed);
                textPrintf(&in, "$%zu\r\n", alen);
                textAppend(&in, arg, alen);
                textAppend(&in, "\r\n", 2);
                textArg(&args, arg, alen);
            }
            textPrintf(&want, "%zu:%s\n", in.len - start, args.s);
            free(args.s);
        }
        textPrintf(&want, "more:0");
        expect(in.s, in.len, want.s);
        free(in.s);
        free(want.s);
    }
}

/* Damaged streams: whatever the outcome, it must not depend on how the bytes
 * were split, and nothing may crash or leak. */
static void test_random_damaged_streams_are_split_invariant(void **state) {
    static const char *pieces[] = {
        "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n", "PING\r\n", "*0\r\n", "*-1\r\n", "\r\n", "\n",
        "set k \"a b\"\n", "ECHO 'x'\r\n", "*1\r\n$4\r\nPING\r\n", "ECHO \"\\x41\"\r\n",
    };
    static const char noise[] = "*$\r\n\"'\\ x0-9";
    uint64_t seed = 4242;
    for (int round = 0; round < 3000; round++) {
        text in = {0};
        textAppend(&in, "", 0);
        int n = 1 + (int)(next(&seed) % 6);
        for (int i = 0; i < n; i++) {
            const char *piece = pieces[next(&seed) % (sizeof(pieces) / sizeof(pieces[0]))];
            textAppend(&in, piece, strlen(piece));
        }
        int damage = (int)(next(&seed) % 4);
        for (int i = 0; i < damage && in.len > 0; i++)
            in.s[next(&seed) % in.len] = noise[next(&seed) % (sizeof(noise) - 1)];
        if (next(&seed) % 3 == 0 && in.len > 0) in.len = next(&seed) % in.len;
        config cfg = {MAX_BULK_DEFAULT, (int)(next(&seed) % 2)};
        free(outcome(in.s, in.len, &cfg));
        free(in.s);
    }
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_multibulk_basic),
        cmocka_unit_test(test_multibulk_binary_safe),
        cmocka_unit_test(test_multibulk_empty),
        cmocka_unit_test(test_multibulk_incomplete),
        cmocka_unit_test(test_multibulk_trailer_not_checked),
        cmocka_unit_test(test_multibulk_many_args_then_few),
        cmocka_unit_test(test_multibulk_large_argument),
        cmocka_unit_test(test_inline_basic),
        cmocka_unit_test(test_inline_empty_lines),
        cmocka_unit_test(test_inline_quoting),
        cmocka_unit_test(test_inline_incomplete),
        cmocka_unit_test(test_inline_unbalanced_quotes),
        cmocka_unit_test(test_inline_too_big),
        cmocka_unit_test(test_mixed_pipeline),
        cmocka_unit_test(test_invalid_multibulk_length),
        cmocka_unit_test(test_expected_dollar),
        cmocka_unit_test(test_expected_dollar_waits_for_the_line),
        cmocka_unit_test(test_invalid_bulk_length),
        cmocka_unit_test(test_max_bulk_is_configurable),
        cmocka_unit_test(test_too_big_count_strings),
        cmocka_unit_test(test_unauthenticated_limits),
        cmocka_unit_test(test_reset_after_error_and_partial),
        cmocka_unit_test(test_repeated_calls_without_new_bytes),
        cmocka_unit_test(test_random_multibulk_roundtrip),
        cmocka_unit_test(test_random_damaged_streams_are_split_invariant),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
