/* util.c - string and number helpers that must accept and print exactly what
 * Redis 7.0 does, since clients see the difference in replies and errors.
 *
 * Pure: no server state, no logging.  Where Redis reads a C string (and so
 * stops at an embedded NUL) the comment above the function says so and the
 * function does the same. */
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LONG_STR_SIZE 21                    /* digits of LLONG_MIN plus sign and NUL */
#define MAX_LONG_DOUBLE_CHARS (5 * 1024)    /* Redis's limit for a long double string */
#define MEMTOULL_MAX_DIGITS 127             /* Redis copies the digits into a 128-byte buffer */

static int isBlank(char c) { return isspace((unsigned char)c) != 0; }
static int asciiLower(int c) { return (c >= 'A' && c <= 'Z') ? c + ('a' - 'A') : c; }

/* ------------------------------------------------------------------------ */
/* Integers */

int string2ll(const char *s, size_t len, long long *out) {
    /* Anything that long is not a canonical long long: refuse before parsing. */
    if (len == 0 || len >= LONG_STR_SIZE) return 0;
    if (len == 1 && s[0] == '0') {
        if (out) *out = 0;
        return 1;
    }
    size_t i = 0;
    int negative = s[0] == '-';
    if (negative) i++;
    /* The first digit is 1-9: this refuses "-", "-0", "007", "+1", " 1". */
    if (i == len || s[i] < '1' || s[i] > '9') return 0;
    unsigned long long v = 0;
    for (; i < len; i++) {
        if (s[i] < '0' || s[i] > '9') return 0;
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - digit) / 10) return 0;
        v = v * 10 + digit;
    }
    if (negative) {
        if (v > (unsigned long long)LLONG_MAX + 1) return 0;
        if (out) *out = -(long long)(v - 1) - 1;   /* v >= 1: no overflow even for LLONG_MIN */
    } else {
        if (v > (unsigned long long)LLONG_MAX) return 0;
        if (out) *out = (long long)v;
    }
    return 1;
}

int ull2string(char *buf, size_t size, unsigned long long v) {
    char digits[LONG_STR_SIZE];
    int n = 0;
    do {
        digits[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    if ((size_t)n + 1 > size) {
        if (size > 0) buf[0] = '\0';
        return 0;
    }
    for (int i = 0; i < n; i++) buf[i] = digits[n - 1 - i];
    buf[n] = '\0';
    return n;
}

int ll2string(char *buf, size_t size, long long v) {
    if (v >= 0) return ull2string(buf, size, (unsigned long long)v);
    if (size < 2) {
        if (size > 0) buf[0] = '\0';
        return 0;
    }
    /* Magnitude computed in unsigned arithmetic so LLONG_MIN does not overflow. */
    unsigned long long magnitude = (unsigned long long)(-(v + 1)) + 1;
    buf[0] = '-';
    int n = ull2string(buf + 1, size - 1, magnitude);
    if (n == 0) {
        buf[0] = '\0';
        return 0;
    }
    return n + 1;
}

/* ------------------------------------------------------------------------ */
/* Floating point */

/* The checks Redis applies after strtod/strtold: the whole string consumed, no
 * leading blank, no overflow to infinity or underflow to zero, not NaN.
 * "inf", "-inf", "+inf" and "infinity" parse without ERANGE and are accepted. */
static int floatParseOk(const char *buf, size_t len, const char *end, int rangeErr, long double v) {
    if (isBlank(buf[0]) || (size_t)(end - buf) != len) return 0;
    if (rangeErr && (isinf(v) || v == 0)) return 0;
    return !isnan(v);
}

int string2d(const char *s, size_t len, double *out) {
    char stackbuf[128];
    if (len == 0) return 0;
    char *buf = len < sizeof(stackbuf) ? stackbuf : malloc(len + 1);
    if (buf == NULL) abort();
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    double v = strtod(buf, &end);
    int ok = floatParseOk(buf, len, end, errno == ERANGE, v);
    if (buf != stackbuf) free(buf);
    if (ok && out) *out = v;
    return ok;
}

int string2ld(const char *s, size_t len, long double *out) {
    char buf[MAX_LONG_DOUBLE_CHARS];
    if (len == 0 || len >= sizeof(buf)) return 0;
    memcpy(buf, s, len);
    buf[len] = '\0';
    char *end;
    errno = 0;
    long double v = strtold(buf, &end);
    if (errno == EINVAL || !floatParseOk(buf, len, end, errno == ERANGE, v)) return 0;
    if (out) *out = v;
    return 1;
}

/* INCRBYFLOAT's format.  17 fractional digits are enough for an 80-bit long
 * double to print most short decimals the way the user typed them (10.5 + 0.1
 * gives "10.6").  A huge value needs up to ~5000 bytes; 0 is returned, with buf
 * empty, when it does not fit.  A negative zero prints as "0", as in Redis. */
int ld2string(char *buf, size_t size, long double v) {
    const char *special = isnan(v) ? "nan" : isinf(v) ? (v > 0 ? "inf" : "-inf") : NULL;
    int len;
    if (special)
        len = snprintf(buf, size, "%s", special);
    else
        len = snprintf(buf, size, "%.17Lf", v);
    if (len < 0 || (size_t)len + 1 > size) {
        if (size > 0) buf[0] = '\0';
        return 0;
    }
    if (special) return len;
    if (memchr(buf, '.', (size_t)len)) {
        while (buf[len - 1] == '0') len--;
        if (buf[len - 1] == '.') len--;
    }
    if (len == 2 && buf[0] == '-' && buf[1] == '0') {
        buf[0] = '0';
        len = 1;
    }
    buf[len] = '\0';
    return len;
}

int d2string(char *buf, size_t size, double v) {
    int len;
    if (isnan(v))
        len = snprintf(buf, size, "nan");
    else if (isinf(v))
        len = snprintf(buf, size, v > 0 ? "inf" : "-inf");
    else
        len = snprintf(buf, size, "%.17g", v);
    if (len < 0 || (size_t)len + 1 > size) {
        if (size > 0) buf[0] = '\0';
        return 0;
    }
    return len;
}

/* ------------------------------------------------------------------------ */
/* Glob matching */

/* Redis compares pattern and subject bytes as (signed on x86-64) chars and
 * lower-cases only ASCII letters, which matters for ranges over bytes >= 0x80. */
static int globByte(char c) { return (signed char)c; }
static int globSame(int a, int b, int nocase) {
    return nocase ? asciiLower(a) == asciiLower(b) : a == b;
}

/* Matches c against the class that starts at p[0] == '['; *span is the number
 * of pattern bytes it covers.  Redis's rules: '^' first negates; a ']' right
 * after '[' (or '^') closes an empty class; "\x" is x compared case-sensitively
 * even under nocase; "a-z" is a range, reversed ends are swapped (and then
 * lower-cased under nocase); a class with no ']' runs to the pattern's end. */
static int globClassMatches(const char *p, size_t plen, int c, int nocase, size_t *span) {
    size_t i = 1;
    int negate = 0, match = 0;
    if (i < plen && p[i] == '^') {
        negate = 1;
        i++;
    }
    while (i < plen) {
        if (p[i] == '\\' && plen - i >= 2) {
            if (globByte(p[i + 1]) == c) match = 1;
            i += 2;
        } else if (p[i] == ']') {
            i++;
            break;
        } else if (plen - i >= 3 && p[i + 1] == '-') {
            int lo = globByte(p[i]), hi = globByte(p[i + 2]), x = c;
            if (lo > hi) {
                int t = lo;
                lo = hi;
                hi = t;
            }
            if (nocase) {
                lo = asciiLower(lo);
                hi = asciiLower(hi);
                x = asciiLower(x);
            }
            if (x >= lo && x <= hi) match = 1;
            i += 3;
        } else {
            if (globSame(globByte(p[i]), c, nocase)) match = 1;
            i++;
        }
    }
    *span = i;
    return negate ? !match : match;
}

/* Matches c against the single-character element at p[0] (anything but '*'). */
static int globElementMatches(const char *p, size_t plen, int c, int nocase, size_t *span) {
    switch (p[0]) {
    case '?':
        *span = 1;
        return 1;
    case '[':
        return globClassMatches(p, plen, c, nocase, span);
    case '\\':
        if (plen >= 2) {   /* a trailing backslash is a literal backslash */
            *span = 2;
            return globSame(globByte(p[1]), c, nocase);
        }
        break;
    }
    *span = 1;
    return globSame(globByte(p[0]), c, nocase);
}

/* Every element but '*' consumes exactly one subject byte, so when the
 * pattern after a star fails, only the latest star needs to absorb one more
 * byte: earlier stars could only push the rest further right.  This keeps the
 * match O(patlen * slen) where Redis's recursion can go exponential on
 * patterns like "a*a*a*a*...b".  As in Redis, an empty subject matches only
 * the empty pattern (not even "*"). */
/* Redis refuses, as a protection against abusive patterns, any match that
 * has to go through more than 1000 nested stars (a final star costs no
 * nesting).  We keep that observable rule without the recursion. */
#define GLOB_MAX_NESTING 1000
static int globTooNested(const char *pattern, size_t patlen) {
    size_t groups = 0;
    for (size_t p = 0; p < patlen; p++) {
        if (pattern[p] == '\\') { p++; continue; }
        if (pattern[p] != '*') continue;
        while (p + 1 < patlen && pattern[p + 1] == '*') p++;
        if (p + 1 < patlen) groups++;
    }
    return groups > GLOB_MAX_NESTING;
}

int stringmatchlen(const char *pattern, size_t patlen, const char *s, size_t slen, int nocase) {
    size_t p = 0, i = 0, starP = 0, starI = 0;
    int haveStar = 0;
    if (slen == 0) return patlen == 0;
    if (patlen > GLOB_MAX_NESTING && globTooNested(pattern, patlen)) return 0;
    while (i < slen) {
        if (p < patlen && pattern[p] == '*') {
            while (p < patlen && pattern[p] == '*') p++;
            if (p == patlen) return 1;
            haveStar = 1;
            starP = p;
            starI = i;
            continue;
        }
        size_t span;
        if (p < patlen && globElementMatches(pattern + p, patlen - p, globByte(s[i]), nocase, &span)) {
            p += span;
            i++;
            continue;
        }
        if (!haveStar) return 0;
        p = starP;
        i = ++starI;
    }
    while (p < patlen && pattern[p] == '*') p++;
    return p == patlen;
}

/* ------------------------------------------------------------------------ */
/* Argument splitting */

static int hexValue(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

static char unescapeChar(char c) {
    switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
    }
}

static void *xrealloc(void *p, size_t size) {
    p = realloc(p, size);
    if (p == NULL) abort();
    return p;
}

/* Reads one argument starting at line[*pos] (not a blank) into tok.  Returns
 * its length, or -1 on unbalanced quotes.  Redis splits a C string, so a NUL
 * byte ends the line: at() returns '\0' there and past the end alike. */
static char lineAt(const char *line, size_t len, size_t k) { return k < len ? line[k] : '\0'; }
#define at(k) lineAt(line, len, (k))
static long splitOneArg(const char *line, size_t len, size_t *pos, char *tok) {
    size_t i = *pos, n = 0;
    int inDouble = 0, inSingle = 0, done = 0;
    while (!done) {
        char c = at(i);
        if (inDouble) {
            if (c == '\\' && at(i + 1) == 'x' && hexValue(at(i + 2)) >= 0 && hexValue(at(i + 3)) >= 0) {
                tok[n++] = (char)(hexValue(at(i + 2)) * 16 + hexValue(at(i + 3)));
                i += 3;
            } else if (c == '\\' && at(i + 1) != '\0') {
                i++;
                tok[n++] = unescapeChar(at(i));
            } else if (c == '"') {
                /* A closing quote must be followed by a blank or the end. */
                if (at(i + 1) != '\0' && !isBlank(at(i + 1))) return -1;
                done = 1;
            } else if (c == '\0') {
                return -1;
            } else {
                tok[n++] = c;
            }
        } else if (inSingle) {
            if (c == '\\' && at(i + 1) == '\'') {
                tok[n++] = '\'';
                i++;
            } else if (c == '\'') {
                if (at(i + 1) != '\0' && !isBlank(at(i + 1))) return -1;
                done = 1;
            } else if (c == '\0') {
                return -1;
            } else {
                tok[n++] = c;
            }
        } else {
            switch (c) {
            case ' ': case '\n': case '\r': case '\t': case '\0': done = 1; break;
            case '"': inDouble = 1; break;      /* a quote may open mid-word: foo"bar" */
            case '\'': inSingle = 1; break;
            default: tok[n++] = c; break;
            }
        }
        if (at(i) != '\0') i++;
    }
    *pos = i;
    return (long)n;
}

char **splitArgs(const char *line, size_t len, int *argc, size_t **lens) {
    char **argv = NULL;
    size_t *argl = NULL;
    int n = 0, cap = 0;
    size_t pos = 0;
    char *tok = malloc(len + 1);    /* an argument is never longer than its source */
    if (tok == NULL) abort();
    for (;;) {
        while (at(pos) != '\0' && isBlank(at(pos))) pos++;
        if (at(pos) == '\0') break;
        long toklen = splitOneArg(line, len, &pos, tok);
        if (toklen < 0) {
            free(tok);
            freeArgs(argv, argl, n);
            *argc = 0;
            *lens = NULL;
            return NULL;
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            argv = xrealloc(argv, sizeof(*argv) * (size_t)cap);
            argl = xrealloc(argl, sizeof(*argl) * (size_t)cap);
        }
        argv[n] = malloc((size_t)toklen + 1);
        if (argv[n] == NULL) abort();
        memcpy(argv[n], tok, (size_t)toklen);
        argv[n][toklen] = '\0';
        argl[n++] = (size_t)toklen;
    }
    free(tok);
    if (argv == NULL) {   /* no arguments is not an error: return empty arrays */
        argv = xrealloc(NULL, sizeof(*argv));
        argl = xrealloc(NULL, sizeof(*argl));
    }
    *argc = n;
    *lens = argl;
    return argv;
}

#undef at

void freeArgs(char **argv, size_t *lens, int argc) {
    if (argv)
        for (int i = 0; i < argc; i++) free(argv[i]);
    free(argv);
    free(lens);
}

/* ------------------------------------------------------------------------ */
/* Misc */

void strToLower(char *s, size_t len) {
    for (size_t i = 0; i < len; i++) s[i] = (char)asciiLower(s[i]);
}

static int unitIs(const char *u, size_t ulen, const char *unit) {
    if (ulen != strlen(unit)) return 0;
    for (size_t i = 0; i < ulen; i++)
        if (asciiLower((unsigned char)u[i]) != unit[i]) return 0;
    return 1;
}

/* Redis's rules: digits then an optional unit among b, k (1000), kb (1024),
 * m, mb, g, gb in any case; nothing else, not even a blank or a sign.  As in
 * Redis, "" and a bare unit give 0 and a NUL byte ends the string.  Unlike
 * Redis 7.0, which wraps or saturates silently, a value that does not fit in
 * 64 bits is refused. */
int memtoull(const char *s, size_t len, unsigned long long *out) {
    const char *nul = memchr(s, '\0', len);
    if (nul) len = (size_t)(nul - s);
    size_t digits = 0;
    while (digits < len && s[digits] >= '0' && s[digits] <= '9') digits++;
    const char *unit = s + digits;
    size_t ulen = len - digits;
    unsigned long long mul;
    if (ulen == 0 || unitIs(unit, ulen, "b")) mul = 1;
    else if (unitIs(unit, ulen, "k")) mul = 1000ULL;
    else if (unitIs(unit, ulen, "kb")) mul = 1024ULL;
    else if (unitIs(unit, ulen, "m")) mul = 1000ULL * 1000;
    else if (unitIs(unit, ulen, "mb")) mul = 1024ULL * 1024;
    else if (unitIs(unit, ulen, "g")) mul = 1000ULL * 1000 * 1000;
    else if (unitIs(unit, ulen, "gb")) mul = 1024ULL * 1024 * 1024;
    else return 0;
    if (digits > MEMTOULL_MAX_DIGITS) return 0;
    unsigned long long v = 0;
    for (size_t i = 0; i < digits; i++) {
        unsigned digit = (unsigned)(s[i] - '0');
        if (v > (ULLONG_MAX - digit) / 10) return 0;
        v = v * 10 + digit;
    }
    if (v > ULLONG_MAX / mul) return 0;
    if (out) *out = v * mul;
    return 1;
}
