/* test_util.c - Redis 7.0's exact parsing and formatting rules.  Expected
 * values marked "redis-server 7.0" were observed on a real server (INCRBY,
 * INCRBYFLOAT, ZADD, KEYS, CONFIG SET, inline commands); the rest follow
 * from the same code paths. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define S(lit) (lit), (sizeof(lit) - 1)   /* a literal and its length, NULs included */

/* ---- string2ll ---- */

static void expectLL(const char *s, size_t len, long long want) {
    long long v = 12345;
    if (!string2ll(s, len, &v)) fail_msg("string2ll refused \"%.*s\"", (int)len, s);
    assert_int_equal(v, want);
}

static void expectNotLL(const char *s, size_t len) {
    long long v = 12345;
    if (string2ll(s, len, &v)) fail_msg("string2ll accepted \"%.*s\"", (int)len, s);
    assert_int_equal(v, 12345);   /* untouched on failure */
}

static void test_string2ll_accepts(void **state) {
    expectLL(S("0"), 0);
    expectLL(S("1"), 1);
    expectLL(S("-1"), -1);
    expectLL(S("10"), 10);
    expectLL(S("1234567890"), 1234567890LL);
    expectLL(S("-1234567890"), -1234567890LL);
    expectLL(S("9223372036854775807"), LLONG_MAX);
    expectLL(S("-9223372036854775808"), LLONG_MIN);
    expectLL(S("9223372036854775806"), LLONG_MAX - 1);
    /* The length decides, not a NUL. */
    expectLL("123", 2, 12);
    assert_true(string2ll(S("42"), NULL));
}

static void test_string2ll_refuses(void **state) {
    expectNotLL(S(""));
    expectNotLL(S("-"));
    expectNotLL(S("-0"));                    /* redis-server 7.0: not an integer */
    expectNotLL(S("00"));
    expectNotLL(S("01"));                    /* redis-server 7.0 */
    expectNotLL(S("-01"));
    expectNotLL(S("+1"));                    /* redis-server 7.0 */
    expectNotLL(S("+0"));
    expectNotLL(S(" 1"));                    /* redis-server 7.0 */
    expectNotLL(S("1 "));                    /* redis-server 7.0 */
    expectNotLL(S("1a"));
    expectNotLL(S("a1"));
    expectNotLL(S("1.0"));
    expectNotLL(S("1e3"));
    expectNotLL(S("0x10"));
    expectNotLL(S("--1"));
    expectNotLL(S("1\0"));
    expectNotLL(S("\0"));
    expectNotLL(S("9223372036854775808"));   /* redis-server 7.0: out of range */
    expectNotLL(S("-9223372036854775809"));  /* redis-server 7.0 */
    expectNotLL(S("18446744073709551615"));
    expectNotLL(S("18446744073709551616"));
    expectNotLL(S("99999999999999999999"));
    expectNotLL(S("-99999999999999999999"));
    expectNotLL(S("100000000000000000000"));
    expectNotLL(S("123456789012345678901234567890"));
}

/* ---- string2d / string2ld ---- */

static void test_string2d(void **state) {
    double d = 0;
    assert_true(string2d(S("1.5"), &d));
    assert_true(d == 1.5);
    assert_true(string2d(S("-2.25"), &d));
    assert_true(d == -2.25);
    assert_true(string2d(S("1e5"), &d));             /* redis-server 7.0 (ZADD) */
    assert_true(d == 100000.0);
    assert_true(string2d(S(".5"), &d));
    assert_true(d == 0.5);
    assert_true(string2d(S("5."), &d));
    assert_true(d == 5.0);
    assert_true(string2d(S("0x10"), &d));            /* strtod reads hex: redis-server 7.0 */
    assert_true(d == 16.0);
    assert_true(string2d(S("-0"), &d));
    assert_true(d == 0 && signbit(d));
    assert_true(string2d(S("inf"), &d));
    assert_true(isinf(d) && d > 0);
    assert_true(string2d(S("+inf"), &d));
    assert_true(isinf(d) && d > 0);
    assert_true(string2d(S("-inf"), &d));
    assert_true(isinf(d) && d < 0);
    assert_true(string2d(S("infinity"), &d));       /* redis-server 7.0 */
    assert_true(isinf(d));
    assert_true(string2d(S("4e-320"), &d));          /* denormal: ERANGE but not zero */
    assert_true(d > 0);
    assert_true(string2d("10", 1, &d));
    assert_true(d == 1.0);
    /* A long but valid number is not cut short. */
    char longNum[300];
    memset(longNum, '0', sizeof(longNum));
    longNum[sizeof(longNum) - 1] = '7';
    assert_true(string2d(longNum, sizeof(longNum), &d));
    assert_true(d == 7.0);

    d = 99;
    assert_false(string2d(S(""), &d));
    assert_false(string2d(S(" 1"), &d));
    assert_false(string2d(S("\t1"), &d));
    assert_false(string2d(S("1 "), &d));
    assert_false(string2d(S("1x"), &d));
    assert_false(string2d(S("1e"), &d));
    assert_false(string2d(S("nan"), &d));            /* redis-server 7.0 */
    assert_false(string2d(S("-nan"), &d));
    assert_false(string2d(S("NaN"), &d));
    assert_false(string2d(S("1e400"), &d));          /* overflow: redis-server 7.0 */
    assert_false(string2d(S("-1e400"), &d));
    assert_false(string2d(S("1e-400"), &d));         /* underflow to zero: redis-server 7.0 */
    assert_false(string2d(S("1\0"), &d));
    assert_false(string2d(S("abc"), &d));
    assert_true(d == 99);
}

static void test_string2ld(void **state) {
    long double v = 0;
    assert_true(string2ld(S("10.5"), &v));
    assert_true(v == 10.5L);
    assert_true(string2ld(S("-0.25"), &v));
    assert_true(v == -0.25L);
    assert_true(string2ld(S("1e400"), &v));          /* fits a long double: redis-server 7.0 */
    assert_true(v > 1e300L);
    assert_true(string2ld(S("1e-4000"), &v));        /* redis-server 7.0 */
    assert_true(v > 0);
    assert_true(string2ld(S("0x1p-2"), &v));         /* redis-server 7.0 */
    assert_true(v == 0.25L);
    assert_true(string2ld(S("inf"), &v));
    assert_true(isinf(v) && v > 0);
    assert_true(string2ld(S("+inf"), &v));
    assert_true(isinf(v) && v > 0);
    assert_true(string2ld(S("-inf"), &v));
    assert_true(isinf(v) && v < 0);
    assert_true(string2ld(S("-.5"), &v));            /* redis-server 7.0 */
    assert_true(v == -0.5L);

    v = 99;
    assert_false(string2ld(S(""), &v));
    assert_false(string2ld(S(" 1"), &v));            /* redis-server 7.0 */
    assert_false(string2ld(S("1 "), &v));
    assert_false(string2ld(S("1e"), &v));            /* redis-server 7.0 */
    assert_false(string2ld(S("nan"), &v));
    assert_false(string2ld(S("1e4933"), &v));        /* overflow: redis-server 7.0 */
    assert_false(string2ld(S("1e5000"), &v));
    assert_false(string2ld(S("1e-5000"), &v));       /* underflow to zero: redis-server 7.0 */
    assert_false(string2ld(S("1\0"), &v));
    assert_false(string2ld(S("1\0" "2"), &v));
    assert_true(v == 99);

    /* Redis refuses strings of 5 KiB or more outright. */
    char *big = malloc(5 * 1024 + 1);
    assert_non_null(big);
    memset(big, '0', 5 * 1024 + 1);
    big[5 * 1024 - 2] = '1';
    assert_true(string2ld(big, 5 * 1024 - 1, &v));
    assert_true(v == 1.0L);
    big[5 * 1024 - 1] = '1';
    assert_false(string2ld(big, 5 * 1024, &v));
    free(big);
}

/* ---- ll2string / ull2string ---- */

static void expectLLString(long long v, const char *want) {
    char buf[21];
    memset(buf, 'x', sizeof(buf));
    int len = ll2string(buf, sizeof(buf), v);
    assert_int_equal(len, strlen(want));
    assert_string_equal(buf, want);
}

static void test_ll2string(void **state) {
    expectLLString(0, "0");
    expectLLString(7, "7");
    expectLLString(-7, "-7");
    expectLLString(10, "10");
    expectLLString(-100, "-100");
    expectLLString(1234567890123LL, "1234567890123");
    expectLLString(LLONG_MAX, "9223372036854775807");
    expectLLString(LLONG_MIN, "-9223372036854775808");

    char buf[21];
    assert_int_equal(ll2string(buf, 4, 1234), 0);    /* needs 5 bytes with the NUL */
    assert_string_equal(buf, "");
    assert_int_equal(ll2string(buf, 5, 1234), 4);
    assert_string_equal(buf, "1234");
    assert_int_equal(ll2string(buf, 4, -123), 0);
    assert_int_equal(ll2string(buf, 5, -123), 4);
    assert_string_equal(buf, "-123");
    assert_int_equal(ll2string(buf, 1, -1), 0);
    assert_int_equal(ll2string(buf, 1, 0), 0);
    assert_int_equal(ll2string(buf, 20, LLONG_MIN), 0);
    assert_int_equal(ll2string(buf, 21, LLONG_MIN), 20);

    /* Round trip with string2ll over a spread of values. */
    long long v = 1;
    for (int i = 0; i < 2000; i++) {
        long long x = (i % 2) ? -v : v, back;
        int len = ll2string(buf, sizeof(buf), x);
        assert_true(len > 0);
        assert_true(string2ll(buf, (size_t)len, &back));
        assert_int_equal(back, x);
        v = (long long)((unsigned long long)v * 6364136223846793005ULL + 1442695040888963407ULL) & LLONG_MAX;
    }
}

static void test_ull2string(void **state) {
    char buf[21];
    assert_int_equal(ull2string(buf, sizeof(buf), 0), 1);
    assert_string_equal(buf, "0");
    assert_int_equal(ull2string(buf, sizeof(buf), ULLONG_MAX), 20);
    assert_string_equal(buf, "18446744073709551615");
    assert_int_equal(ull2string(buf, sizeof(buf), 9223372036854775808ULL), 19);
    assert_string_equal(buf, "9223372036854775808");
    assert_int_equal(ull2string(buf, 20, ULLONG_MAX), 0);
    assert_string_equal(buf, "");
}

/* ---- ld2string / d2string ---- */

static void expectLD(long double v, const char *want) {
    char buf[5 * 1024];
    int len = ld2string(buf, sizeof(buf), v);
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
}

/* The INCRBYFLOAT result for `by` added to `base`, both parsed as Redis does. */
static void expectIncrByFloat(const char *base, const char *by, const char *want) {
    long double a, b;
    assert_true(string2ld(base, strlen(base), &a));
    assert_true(string2ld(by, strlen(by), &b));
    expectLD(a + b, want);
}

static void test_ld2string_incrbyfloat_format(void **state) {
    /* Every expected value below is redis-server 7.0's INCRBYFLOAT reply. */
    expectIncrByFloat("10.5", "0.1", "10.6");
    expectIncrByFloat("10.50", "0.1", "10.6");
    expectIncrByFloat("0", "3.0e3", "3000");
    expectIncrByFloat("0", "1.5e-5", "0.000015");
    expectIncrByFloat("0", "0.1", "0.1");
    expectIncrByFloat("0", "0.3", "0.3");
    expectIncrByFloat("0", "-5.5", "-5.5");
    expectIncrByFloat("0", "-.5", "-0.5");
    expectIncrByFloat("0", "-0.0", "0");
    expectIncrByFloat("0", "1e-30", "0");
    expectIncrByFloat("0", "-1e-30", "0");               /* "-0" after trimming prints as "0" */
    expectIncrByFloat("0", "5e-18", "0");
    expectIncrByFloat("0", "1e-17", "0.00000000000000001");
    expectIncrByFloat("0", "123456789.123456789", "123456789.12345678899873747");
    expectIncrByFloat("0", "3.14159265358979323846", "3.14159265358979324");
    expectIncrByFloat("0", "1e18", "1000000000000000000");
    expectIncrByFloat("0", "1e19", "10000000000000000000");
    expectIncrByFloat("0", "9.99999999999999999e22", "99999999999999999901696");
    expectIncrByFloat("0", "0x1p-2", "0.25");
    expectIncrByFloat("0", "1.7976931348623157e308",
        "179769313486231569995921046774104434048386446944329178485314420765176628523124396354701868608387"
        "085564428793419425520689308708363451136055357897278026477617073498977686288394835618163294045594"
        "434929537447290627480669417384648879122776218333598953852832103282504751611691208117720159985926"
        "376802466863339536384");
    expectLD(0.0L, "0");
    expectLD(-0.0L, "0");
    expectLD(3.0L, "3");
    expectLD(-2.5L, "-2.5");
    expectLD(100.0L, "100");              /* zeros before the dot stay */
    expectLD(1.0L / 0.0L, "inf");
    expectLD(-1.0L / 0.0L, "-inf");
}

static void test_ld2string_huge_and_short_buffers(void **state) {
    long double v;
    assert_true(string2ld(S("1e400"), &v));
    char *buf = malloc(5 * 1024);
    assert_non_null(buf);
    int len = ld2string(buf, 5 * 1024, v);
    assert_int_equal(len, 401);           /* redis-server 7.0 prints all 401 digits */
    assert_int_equal(strncmp(buf, "1000000000000000000028188068394758651458", 40), 0);
    /* No room: 0 and an empty string, never a truncated number. */
    assert_int_equal(ld2string(buf, 401, v), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ld2string(buf, 4, 10.5L), 0);
    assert_string_equal(buf, "");
    assert_int_equal(ld2string(buf, 4, -1.0L / 0.0L), 0);
    assert_int_equal(ld2string(buf, 5, -1.0L / 0.0L), 4);
    assert_string_equal(buf, "-inf");
    free(buf);
}

static void expectD(double v, const char *want) {
    char buf[128];
    int len = d2string(buf, sizeof(buf), v);
    assert_string_equal(buf, want);
    assert_int_equal(len, strlen(want));
}

static void test_d2string(void **state) {
    expectD(1.5, "1.5");
    expectD(3.0, "3");
    expectD(0.0, "0");
    expectD(-0.0, "-0");
    expectD(0.1, "0.10000000000000001");
    expectD(-2.25, "-2.25");
    expectD(1e15, "1000000000000000");
    expectD(1e17, "1e+17");
    expectD(1e300, "1.0000000000000001e+300");
    expectD(4e-320, "3.999955468730732e-320");     /* redis-server 7.0 ZSCORE */
    expectD(1.0 / 0.0, "inf");
    expectD(-1.0 / 0.0, "-inf");
    expectD(nan(""), "nan");
    char buf[4];
    assert_int_equal(d2string(buf, sizeof(buf), 1.5), 3);
    assert_int_equal(d2string(buf, sizeof(buf), 0.1), 0);
    assert_string_equal(buf, "");
}

/* ---- stringmatchlen ---- */

typedef struct globCase {
    const char *pattern, *subject;
    int nocase, want;
} globCase;

/* Redis's rules, quirks included.  The case-sensitive ones agree with
 * redis-server 7.0's KEYS, the nocase ones with its CONFIG GET where that
 * reaches the matcher (the [\\Y] and [Z-a] cases). */
static const globCase globCases[] = {
    {"", "", 0, 1},
    {"", "a", 0, 0},
    {"*", "", 0, 0},            /* an empty subject matches only "" */
    {"**", "", 0, 0},
    {"?", "", 0, 0},
    {"*", "abc", 0, 1},
    {"**", "abc", 0, 1},
    {"a*", "a", 0, 1},
    {"a**", "a", 0, 1},
    {"*a", "a", 0, 1},
    {"a*b", "ab", 0, 1},
    {"a*b", "axxb", 0, 1},
    {"a*b", "axxbx", 0, 0},
    {"*b*", "abc", 0, 1},
    {"h?llo", "hello", 0, 1},
    {"h?llo", "hllo", 0, 0},
    {"h*llo", "heeeello", 0, 1},
    {"h*llo", "hllo", 0, 1},
    {"h[ae]llo", "hallo", 0, 1},
    {"h[ae]llo", "hillo", 0, 0},
    {"h[^e]llo", "hallo", 0, 1},
    {"h[^e]llo", "hello", 0, 0},
    {"h[a-b]llo", "hbllo", 0, 1},
    {"h[a-b]llo", "hcllo", 0, 0},
    {"h[b-a]llo", "hallo", 0, 1},   /* reversed range */
    {"[]", "]", 0, 0},             /* ']' right after '[' closes an empty class */
    {"[]a]", "]", 0, 0},
    {"[]a]", "a]", 0, 0},
    {"[^]", "x", 0, 1},
    {"[^]", "]", 0, 1},
    {"[abc", "b", 0, 1},           /* unterminated class runs to the end */
    {"[abc", "d", 0, 0},
    {"[a-]", "]", 0, 1},           /* "a-]" is the range ']'..'a' */
    {"[a-]", "^", 0, 1},
    {"[a-]", "`", 0, 1},
    {"[a-]", "a", 0, 1},
    {"[a-]", "-", 0, 0},
    {"[\\]]", "]", 0, 1},
    {"[\\-]", "-", 0, 1},
    {"[-a]", "-", 0, 1},
    {"\\*", "*", 0, 1},
    {"\\*", "a", 0, 0},
    {"\\?", "?", 0, 1},
    {"\\?", "x", 0, 0},
    {"a\\", "a\\", 0, 1},         /* trailing backslash is literal */
    {"\\\\", "\\", 0, 1},
    {"\\a", "a", 0, 1},
    {"a\\*", "a", 0, 0},
    {"HELLO", "hello", 0, 0},
    {"HELLO", "hello", 1, 1},
    {"h[A-Z]llo", "hello", 1, 1},
    {"h[A-Z]llo", "hello", 0, 0},
    {"[M]axmemory", "maxmemory", 1, 1},
    {"maxmemor[X-Z]", "maxmemory", 1, 1},
    {"maxmemor[\\Y]", "maxmemory", 1, 0},   /* escaped in a class: case-sensitive */
    {"maxmemor[\\y]", "maxmemory", 1, 1},
    {"maxmemor[Z-a]", "maxmemory", 1, 0},   /* lower-cased after ordering: 'z'..'a' */
    {"maxmemor[a-Z]", "maxmemory", 1, 0},
    {"maxmemor[^Y]", "maxmemory", 1, 0},
    {"[Z-a]", "_", 0, 1},
    {"MAXMEMOR\\Y", "maxmemory", 1, 1},
    {"[\x01-\xff]", "\x80", 0, 0},  /* bytes compare as signed chars: '\xff' is -1 */
    {"[\x01-\xff]", "a", 0, 0},
    {"[\x01-\xff]", "\x01", 0, 1},
    {"\xe9t\xe9", "\xe9t\xe9", 0, 1},
    {"\xc9", "\xe9", 1, 0},          /* only ASCII letters fold */
};

static void test_stringmatch_cases(void **state) {
    for (size_t i = 0; i < sizeof(globCases) / sizeof(globCases[0]); i++) {
        const globCase *c = &globCases[i];
        int got = stringmatchlen(c->pattern, strlen(c->pattern), c->subject, strlen(c->subject), c->nocase);
        if (got != c->want)
            fail_msg("stringmatchlen(\"%s\", \"%s\", nocase=%d) = %d, want %d",
                     c->pattern, c->subject, c->nocase, got, c->want);
    }
}

static void test_stringmatch_binary(void **state) {
    assert_true(stringmatchlen(S("a\0b*"), S("a\0bcd"), 0));
    assert_false(stringmatchlen(S("a\0b*"), S("a\0cbd"), 0));
    assert_true(stringmatchlen(S("a?c"), S("a\0c"), 0));
    assert_true(stringmatchlen(S("[\0]"), S("\0"), 0));
    assert_true(stringmatchlen(S("a\\"), S("a\\"), 0));
    /* The lengths bound the match, not NULs or bytes beyond. */
    assert_true(stringmatchlen("abXX", 2, "abYY", 2, 0));
    assert_false(stringmatchlen("a*", 2, "ba", 2, 0));
    assert_true(stringmatchlen("[ab", 3, "b]", 1, 0));
}

/* Patterns that make a naive backtracking matcher exponential must finish
 * (a regression here shows up as a test that never ends). */
static void test_stringmatch_no_exponential_blowup(void **state) {
    char pattern[256], subject[512];
    size_t plen = 0;
    for (int i = 0; i < 60; i++) {
        pattern[plen++] = 'a';
        pattern[plen++] = '*';
    }
    pattern[plen++] = 'b';
    memset(subject, 'a', sizeof(subject));
    assert_false(stringmatchlen(pattern, plen, subject, sizeof(subject), 0));
    subject[sizeof(subject) - 1] = 'b';
    assert_true(stringmatchlen(pattern, plen, subject, sizeof(subject), 0));
    /* Same with '?' and classes between the stars. */
    plen = 0;
    for (int i = 0; i < 40; i++) {
        memcpy(pattern + plen, "*[a]?", 5);
        plen += 5;
    }
    pattern[plen++] = 'c';
    memset(subject, 'a', sizeof(subject));
    assert_false(stringmatchlen(pattern, plen, subject, sizeof(subject), 0));
}

/* A direct recursive definition over '*', '?' and literals: slow but plainly
 * right.  Random patterns must agree with the fast matcher. */
static int referenceMatch(const char *p, size_t pl, const char *s, size_t sl) {
    if (pl == 0) return sl == 0;
    if (p[0] == '*') return referenceMatch(p + 1, pl - 1, s, sl) || (sl > 0 && referenceMatch(p, pl, s + 1, sl - 1));
    return sl > 0 && (p[0] == '?' || p[0] == s[0]) && referenceMatch(p + 1, pl - 1, s + 1, sl - 1);
}

static void test_stringmatch_against_reference(void **state) {
    uint64_t seed = 7;
    char p[10], s[12];
    for (int round = 0; round < 200000; round++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t pl = (seed >> 10) % 9, sl = (seed >> 20) % 11;
        for (size_t i = 0; i < pl; i++) p[i] = "ab*?"[(seed >> (24 + 2 * i)) % 4];
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        for (size_t i = 0; i < sl; i++) s[i] = "ab"[(seed >> (10 + i)) & 1];
        int want = sl == 0 ? pl == 0 : referenceMatch(p, pl, s, sl);
        int got = stringmatchlen(p, pl, s, sl, 0);
        if (got != want) fail_msg("\"%.*s\" vs \"%.*s\": got %d want %d", (int)pl, p, (int)sl, s, got, want);
    }
}

/* ---- splitArgs ---- */

static void expectSplit(const char *line, size_t len, int want, ...) {
    int argc = -1;
    size_t *lens = NULL;
    char **argv = splitArgs(line, len, &argc, &lens);
    if (argv == NULL) fail_msg("splitArgs refused \"%.*s\"", (int)len, line);
    assert_non_null(lens);
    if (argc != want) fail_msg("splitArgs(\"%.*s\"): %d args, want %d", (int)len, line, argc, want);
    va_list ap;
    va_start(ap, want);
    for (int i = 0; i < argc; i++) {
        const char *arg = va_arg(ap, const char *);
        size_t alen = va_arg(ap, size_t);
        assert_int_equal(lens[i], alen);
        assert_memory_equal(argv[i], arg, alen);
        assert_int_equal(argv[i][alen], '\0');
    }
    va_end(ap);
    freeArgs(argv, lens, argc);
}

static void expectUnbalanced(const char *line, size_t len) {
    int argc = -1;
    size_t *lens = (size_t *)1;
    char **argv = splitArgs(line, len, &argc, &lens);
    if (argv != NULL) fail_msg("splitArgs accepted \"%.*s\"", (int)len, line);
}

static void test_splitargs(void **state) {
    expectSplit(S(""), 0);
    expectSplit(S("   \t "), 0);
    expectSplit(S("set k v"), 3, S("set"), S("k"), S("v"));
    expectSplit(S("  set \t k   v  "), 3, S("set"), S("k"), S("v"));
    expectSplit(S("a\rb\nc"), 3, S("a"), S("b"), S("c"));               /* redis-server 7.0 */
    expectSplit(S("set k \"a b\""), 3, S("set"), S("k"), S("a b"));
    expectSplit(S("'x'"), 1, S("x"));
    expectSplit(S("\"\""), 1, S(""));
    expectSplit(S("'' \"\""), 2, S(""), S(""));
    expectSplit(S("\"\\x41\\x4a\\n\\q\""), 1, S("AJ\nq"));             /* redis-server 7.0 */
    expectSplit(S("\"\\r\\t\\b\\a\\\\\\\"\""), 1, S("\r\t\b\a\\\""));
    expectSplit(S("\"\\x4\""), 1, S("x4"));                              /* redis-server 7.0 */
    expectSplit(S("\"\\xZZ\""), 1, S("xZZ"));
    expectSplit(S("\"a\\x00b\""), 1, S("a\0b"));
    expectSplit(S("\\x41"), 1, S("\\x41"));                              /* no escapes unquoted */
    expectSplit(S("'it\\'s'"), 1, S("it's"));                            /* redis-server 7.0 */
    expectSplit(S("'a\\''"), 1, S("a'"));                                /* redis-server 7.0 */
    expectSplit(S("'a\\nb'"), 1, S("a\\nb"));                            /* only \' in single quotes */
    expectSplit(S("'a\"b'"), 1, S("a\"b"));
    expectSplit(S("\"a'b\""), 1, S("a'b"));
    expectSplit(S("foo\"bar baz\""), 1, S("foobar baz"));                /* redis-server 7.0 */
    expectSplit(S("foo'bar baz'"), 1, S("foobar baz"));
    expectSplit(S("\"a\"\vb"), 2, S("a"), S("b"));                       /* redis-server 7.0 */
    expectSplit(S("a\vb"), 1, S("a\vb"));                                /* \v only separates after a quote */
    expectSplit(S("\v a"), 1, S("a"));                                   /* redis-server 7.0 */
    expectSplit(S("\"a\" 'b'"), 2, S("a"), S("b"));
    expectSplit(S("\"a\"\t\"b\""), 2, S("a"), S("b"));
    /* Length-bounded: bytes past len are not read. */
    expectSplit("ab cd", 4, 2, S("ab"), S("c"));
    expectSplit("\"ab\"XYZ", 4, 1, S("ab"));

    expectUnbalanced(S("\"a"));                                          /* redis-server 7.0 */
    expectUnbalanced(S("'a"));
    expectUnbalanced(S("\"a\"b"));                                       /* redis-server 7.0 */
    expectUnbalanced(S("'a'b"));
    expectUnbalanced(S("\"abc\\\""));                                    /* redis-server 7.0 */
    expectUnbalanced(S("'a\\'"));
    expectUnbalanced(S("set \"\"\"test-key\"\"\" v"));                   /* Redis's own test */
    expectUnbalanced(S("a \"b"));
    expectUnbalanced("\"ab\"", 3);
}

static void test_splitargs_many_args(void **state) {
    char line[4000];
    size_t len = 0;
    for (int i = 0; i < 500; i++) len += (size_t)snprintf(line + len, sizeof(line) - len, "a%d ", i);
    int argc;
    size_t *lens;
    char **argv = splitArgs(line, len, &argc, &lens);
    assert_non_null(argv);
    assert_int_equal(argc, 500);
    char want[16];
    for (int i = 0; i < 500; i++) {
        int wlen = snprintf(want, sizeof(want), "a%d", i);
        assert_int_equal(lens[i], wlen);
        assert_string_equal(argv[i], want);
    }
    freeArgs(argv, lens, argc);
    freeArgs(NULL, NULL, 0);
}

/* ---- strToLower ---- */

static void test_strtolower(void **state) {
    char s[] = "HeLLo-WORLD_09@[`{\xc9\xe9Z";
    strToLower(s, sizeof(s) - 1);
    assert_string_equal(s, "hello-world_09@[`{\xc9\xe9z");
    char t[] = "ABC";
    strToLower(t, 2);
    assert_string_equal(t, "abC");
}

/* ---- memtoull ---- */

static void expectMem(const char *s, size_t len, unsigned long long want) {
    unsigned long long v = 12345;
    if (!memtoull(s, len, &v)) fail_msg("memtoull refused \"%.*s\"", (int)len, s);
    assert_int_equal(v, want);
}

static void expectNotMem(const char *s, size_t len) {
    unsigned long long v = 12345;
    if (memtoull(s, len, &v)) fail_msg("memtoull accepted \"%.*s\"", (int)len, s);
    assert_int_equal(v, 12345);
}

static void test_memtoull(void **state) {
    expectMem(S("0"), 0);
    expectMem(S("100"), 100);
    expectMem(S("100b"), 100);                    /* redis-server 7.0 */
    expectMem(S("100B"), 100);
    expectMem(S("2k"), 2000);                     /* redis-server 7.0 */
    expectMem(S("2K"), 2000);
    expectMem(S("2kb"), 2048);
    expectMem(S("2KB"), 2048);
    expectMem(S("2kB"), 2048);
    expectMem(S("3m"), 3000000);
    expectMem(S("3mb"), 3145728);
    expectMem(S("512mb"), 536870912);
    expectMem(S("5g"), 5000000000ULL);
    expectMem(S("1gb"), 1073741824);
    expectMem(S("1GB"), 1073741824);              /* redis-server 7.0 */
    expectMem(S("1gB"), 1073741824);              /* redis-server 7.0 */
    expectMem(S("007"), 7);
    expectMem(S(""), 0);                          /* redis-server 7.0 accepts it as 0 */
    expectMem(S("kb"), 0);                        /* redis-server 7.0 */
    expectMem(S("18446744073709551615"), ULLONG_MAX);
    expectMem(S("17179869183gb"), 17179869183ULL * 1073741824ULL);
    expectMem(S("100\0junk"), 100);               /* Redis reads a C string */
    expectMem("123456", 3, 123);

    expectNotMem(S("-1"));                        /* redis-server 7.0 */
    expectNotMem(S("+1"));                        /* redis-server 7.0 */
    expectNotMem(S(" 1"));
    expectNotMem(S("1 "));
    expectNotMem(S("1 gb"));                      /* redis-server 7.0 */
    expectNotMem(S("1.5mb"));                     /* redis-server 7.0 */
    expectNotMem(S("1tb"));
    expectNotMem(S("1kbb"));
    expectNotMem(S("1bk"));
    expectNotMem(S("0x10"));
    expectNotMem(S("abc"));
    /* Redis 7.0 wraps or saturates these silently; lattice refuses them. */
    expectNotMem(S("18446744073709551616"));
    expectNotMem(S("99999999999999999999"));
    expectNotMem(S("17179869184gb"));
    expectNotMem(S("18014398509481984kb"));

    /* Redis copies the digits into a 128-byte buffer: 128 digits are too many. */
    char digits[129];
    memset(digits, '0', sizeof(digits));
    digits[126] = '1';
    expectMem(digits, 127, 1);
    digits[127] = '0';
    expectNotMem(digits, 128);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_string2ll_accepts),
        cmocka_unit_test(test_string2ll_refuses),
        cmocka_unit_test(test_string2d),
        cmocka_unit_test(test_string2ld),
        cmocka_unit_test(test_ll2string),
        cmocka_unit_test(test_ull2string),
        cmocka_unit_test(test_ld2string_incrbyfloat_format),
        cmocka_unit_test(test_ld2string_huge_and_short_buffers),
        cmocka_unit_test(test_d2string),
        cmocka_unit_test(test_stringmatch_cases),
        cmocka_unit_test(test_stringmatch_binary),
        cmocka_unit_test(test_stringmatch_no_exponential_blowup),
        cmocka_unit_test(test_stringmatch_against_reference),
        cmocka_unit_test(test_splitargs),
        cmocka_unit_test(test_splitargs_many_args),
        cmocka_unit_test(test_strtolower),
        cmocka_unit_test(test_memtoull),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
