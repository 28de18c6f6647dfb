/* test_differential.c - lattice against redis-server 7.0, reply for reply.
 *
 * A seeded random stream of string, bitmap, set, hash and key commands (random keys from
 * a small key space, random values including numbers and binary, random
 * options, some invalid arguments and wrong arities) goes to both servers
 * over raw sockets; the RESP2 replies must be byte-identical.  Only replies
 * that are nondeterministic by nature are normalised: TTL/PTTL/EXPIRETIME/
 * PEXPIRETIME within a tolerance, RANDOMKEY by type, KEYS sorted, SCAN by full
 * iteration compared as sets, DBSIZE after touching every key (so that keys
 * already past their deadline are gone in both); SMEMBERS, SINTER, SUNION,
 * SDIFF, HKEYS, HVALS sorted, HGETALL as sorted pairs, SSCAN/HSCAN by full
 * iteration, SRANDMEMBER/HRANDFIELD/SPOP by reply shape (after an SPOP redis
 * is made to pop what lattice popped), OBJECT ENCODING of a set or hash
 * allowing Redis's "hashtable" where lattice names the compact encoding
 * (Redis never converts back).  After the stream the two keyspaces must hold
 * the same keys, types, values (sets and hashes exactly) and TTLs.  A second part compares, for every command lattice
 * lists, COMMAND INFO (name, arity, flags, first/last/step and the number of
 * subcommands; key specs, tips and ACL categories are not compared yet) and the
 * reply to the command without arguments, and checks that COMMAND DOCS gives
 * it a summary, a since and a group (the docs' contents are not compared).
 *
 *   LATTICE_DIFF_SEED=n    replay a run (the seed is printed)
 *   LATTICE_DIFF_COUNT=n   commands in the stream (default 4000)
 *   LATTICE_DIFF_TRACE=1   print every command with redis's reply
 *   REDIS_SERVER=path      the reference (default /usr/bin/redis-server)
 *
 * On a mismatch the command, both replies and the seed are printed; both
 * servers are then flushed so that one difference is reported once, not as
 * a cascade. */
#include "harness.h"
#include <hiredis/read.h>

static hraw *L, *R;           /* lattice, redis */
static unsigned long long rng; /* xorshift64* state */
static int mismatches;
static unsigned long long seed;
static long long baseMs;      /* time reference for absolute expiry values */
static int haveLists;         /* lattice has LPUSH */
static int trace;             /* LATTICE_DIFF_TRACE */

static unsigned long long nextRand(void) {
    rng ^= rng >> 12;
    rng ^= rng << 25;
    rng ^= rng >> 27;
    return rng * 2685821657736338717ULL;
}
static int rnd(int n) { return (int)(nextRand() % (unsigned long long)n); }
static int chance(int percent) { return rnd(100) < percent; }

/* ------------------------------------------------------------------ */
/* Commands as argument vectors                                         */

typedef struct cmd {
    int argc;
    char *argv[64];
    size_t len[64];
} cmd;

static void add(cmd *c, const char *s, size_t n) {
    if (c->argc >= 64) return;
    c->argv[c->argc] = malloc(n + 1);
    memcpy(c->argv[c->argc], s, n);
    c->argv[c->argc][n] = '\0';
    c->len[c->argc] = n;
    c->argc++;
}
static void adds(cmd *c, const char *s) { add(c, s, strlen(s)); }
static void addf(cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void addf(cmd *c, const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    add(c, buf, (size_t)n);
}
static void freeCmd(cmd *c) {
    for (int i = 0; i < c->argc; i++) free(c->argv[i]);
    c->argc = 0;
}

static char *encode(const cmd *c, size_t *len) {
    hbuf b = {0};
    hbufPrintf(&b, "*%d\r\n", c->argc);
    for (int i = 0; i < c->argc; i++) {
        hbufPrintf(&b, "$%zu\r\n", c->len[i]);
        hbufCat(&b, c->argv[i], c->len[i]);
        hbufCat(&b, "\r\n", 2);
    }
    *len = b.len;
    return b.p;
}

static char *showCmd(const cmd *c) {
    hbuf b = {0};
    hbufCat(&b, "", 0);
    for (int i = 0; i < c->argc; i++) {
        if (i) hbufCat(&b, " ", 1);
        hbufCat(&b, "\"", 1);
        hbufCatEscaped(&b, c->argv[i], c->len[i] > 80 ? 80 : c->len[i]);
        if (c->len[i] > 80) hbufPrintf(&b, "...(%zu bytes)", c->len[i]);
        hbufCat(&b, "\"", 1);
    }
    char *s = hRing(b.p, b.len);
    free(b.p);
    return s;
}

/* Sends c to one server and returns its raw reply (ring), or a marker. */
static char *ask(hraw *r, const cmd *c, size_t *len) {
    size_t n;
    char *req = encode(c, &n);
    int sent = hRawSend(r, req, n);
    free(req);
    if (sent < 0) {
        *len = 13;
        return "<send failed>";
    }
    char *rep = hRawReply(r, 10000, len);
    if (!rep) {
        *len = 10;
        return r->eof ? "<closed>  " : "<timeout> ";
    }
    return rep;
}

static redisReply *parse(const char *p, size_t n) {
    redisReader *rd = redisReaderCreate();
    redisReaderFeed(rd, p, n);
    void *out = NULL;
    if (redisReaderGetReply(rd, &out) != REDIS_OK) out = NULL;
    redisReaderFree(rd);
    return out;
}

/* ------------------------------------------------------------------ */
/* Random arguments                                                     */

static const char *keyNames[] = {"k0", "k1", "k2", "k3", "k4", "k5", "counter", "bits",
                                 "s0", "s1", "s2", "h0", "h1", "h2"};
#define NKEYS ((int)(sizeof(keyNames) / sizeof(keyNames[0])))
static int haveSets, haveHashes; /* lattice has SADD / HSET */
/* The set and hash keys are in the key space only when lattice has them. */
static int keyCount(void) { return haveSets || haveHashes ? NKEYS : 8; }
/* Mostly the string keys; s0 and h0, the sets and hashes left to grow (past
 * 128 and 512 members), are hit less often than s1, s2, h1, h2. */
static void addKey(cmd *c) {
    int i = chance(75) ? rnd(8) : rnd(keyCount());
    if ((i == 8 || i == 11) && chance(70)) i++;
    adds(c, keyNames[i]);
}

static const char *ints[] = {"0", "1", "-1", "2", "7", "42", "100", "-100", "1000", "9223372036854775807",
                             "-9223372036854775808", "9223372036854775806", "9223372036854775808", "007", "+5",
                             " 5", "5 ", "1e3", "3.5", "-0", "abc", "", "18446744073709551616", "-3"};
static void addInt(cmd *c) {
    if (chance(60)) addf(c, "%d", rnd(200) - 50);
    else adds(c, ints[rnd((int)(sizeof(ints) / sizeof(ints[0])))]);
}

static const char *floats[] = {"0.1", "1.5", "-2.25", "1e10", "5e-3", "inf", "-inf", "nan", "1.1e4932", "1e308",
                               "10.0", "3.0e3", "0", "-0", "abc", "", " 1", "0x10", "1.7976931348623157e308",
                               "17", "-1e-300"};
static void addFloat(cmd *c) {
    if (chance(40)) addf(c, "%d.%d", rnd(100) - 50, rnd(1000));
    else adds(c, floats[rnd((int)(sizeof(floats) / sizeof(floats[0])))]);
}

static void addValue(cmd *c) {
    int k = rnd(10);
    if (k < 3) {
        addInt(c);
    } else if (k < 4) {
        addFloat(c);
    } else if (k < 5) {
        static const char *s[] = {"", "a", "hello", "foobar", "ohmytext", "mynewtext", "xyz", "\xff\xf0", "@"};
        adds(c, s[rnd(9)]);
    } else if (k < 6) {
        char bin[16];
        int n = 1 + rnd(15);
        for (int i = 0; i < n; i++) bin[i] = (char)rnd(256);
        add(c, bin, (size_t)n);
    } else if (k < 7) {
        int n = 40 + rnd(300);
        char *s = malloc((size_t)n);
        for (int i = 0; i < n; i++) s[i] = (char)('a' + rnd(4));
        add(c, s, (size_t)n);
        free(s);
    } else {
        char s[12];
        int n = 1 + rnd(10);
        for (int i = 0; i < n; i++) s[i] = (char)('a' + rnd(6));
        add(c, s, (size_t)n);
    }
}

/* A bit or byte offset, mostly small, sometimes out of range. */
static void addOffset(cmd *c, int bits) {
    int k = rnd(20);
    if (k == 0) adds(c, "-1");
    else if (k == 1) adds(c, bits ? "4294967296" : "536870912");
    else if (k == 2) adds(c, "x");
    else if (k < 6) addf(c, "%d", rnd(bits ? 20000 : 2000));
    else addf(c, "%d", rnd(bits ? 80 : 12));
}

/* Expiry options for SET/GETEX: deterministic on both servers (far future or
 * past, never a race), sometimes invalid. */
static void addExpiry(cmd *c, int allowKeepttl, int allowPersist) {
    int k = rnd(allowKeepttl || allowPersist ? 9 : 8);
    switch (k) {
    case 0: adds(c, "EX"); addf(c, "%d", 100 + rnd(100000)); break;
    case 1: adds(c, "PX"); addf(c, "%d", 100000 + rnd(10000000)); break;
    case 2: adds(c, "EXAT"); addf(c, "%lld", baseMs / 1000 + 1000 + rnd(100000)); break;
    case 3: adds(c, "PXAT"); addf(c, "%lld", baseMs + 1000000 + rnd(10000000)); break;
    case 4: adds(c, rnd(2) ? "EXAT" : "PXAT"); addf(c, "%d", 1 + rnd(1000)); break; /* in the past */
    case 5: adds(c, rnd(2) ? "EX" : "PX"); adds(c, rnd(2) ? "0" : "-5"); break;
    case 6: adds(c, rnd(2) ? "ex" : "px"); adds(c, rnd(3) ? "abc" : "9223372036854775807"); break;
    case 7: adds(c, rnd(2) ? "EX" : "PXAT"); break; /* missing value */
    default: adds(c, allowKeepttl ? "KEEPTTL" : "PERSIST"); break;
    }
}

static void addExpireTime(cmd *c, int abs, int ms) {
    int k = rnd(10);
    if (k < 6) {
        if (abs) addf(c, "%lld", ms ? baseMs + 1000000 + rnd(100000000) : baseMs / 1000 + 1000 + rnd(100000));
        else addf(c, "%d", ms ? 100000 + rnd(10000000) : 100 + rnd(100000));
    } else if (k < 8) {
        addf(c, "%d", rnd(2) ? 0 : -rnd(1000)); /* deletes at once */
    } else if (k < 9) {
        adds(c, rnd(2) ? "9223372036854775807" : "-9223372036854775808");
    } else {
        adds(c, "1.5");
    }
}

static const char *expireFlags[] = {"NX", "XX", "GT", "LT", "nx", "FOO"};

/* ------------------------------------------------------------------ */
/* The generator                                                        */

typedef enum {
    NORM_NONE, NORM_TTL, NORM_PTTL, NORM_SORT, NORM_RANDOMKEY, NORM_SCAN,
    NORM_PAIRS,    /* HGETALL: sorted field/value pairs */
    NORM_SHAPE,    /* SRANDMEMBER/HRANDFIELD: reply type and length */
    NORM_POP,      /* SPOP: shape, then redis is made to pop what lattice popped */
    NORM_SSCAN,    /* full SSCAN iteration, as a set */
    NORM_HSCAN,    /* full HSCAN iteration, as a set of pairs */
    NORM_ENCODING  /* OBJECT ENCODING: Redis never converts back (see sameReply) */
} norm;

static norm genStringCommand(cmd *c) {
    const char *name;
    int k = rnd(100);
    norm n = NORM_NONE;
    if (k < 8) {
        name = "SET";
        adds(c, name);
        addKey(c);
        addValue(c);
        int opts = rnd(4);
        for (int i = 0; i < opts; i++) {
            int o = rnd(5);
            if (o == 0) adds(c, rnd(2) ? "NX" : "XX");
            else if (o == 1) adds(c, "GET");
            else if (o == 4 && chance(20)) adds(c, "BOGUS");
            else addExpiry(c, 1, 0);
        }
    } else if (k < 14) {
        adds(c, "GET");
        addKey(c);
    } else if (k < 16) {
        adds(c, rnd(2) ? "SETNX" : "GETSET");
        addKey(c);
        addValue(c);
    } else if (k < 18) {
        adds(c, rnd(2) ? "SETEX" : "PSETEX");
        addKey(c);
        if (chance(80)) {
            addf(c, "%d", 100000 + rnd(1000000));
        } else { /* invalid, never a short TTL that would race the two servers */
            static const char *bad[] = {"0", "-1", "-100", "abc", "1.5", "", "9223372036854775807", "+5"};
            adds(c, bad[rnd(8)]);
        }
        addValue(c);
    } else if (k < 20) {
        adds(c, "GETDEL");
        addKey(c);
    } else if (k < 23) {
        adds(c, "GETEX");
        addKey(c);
        int opts = rnd(3);
        for (int i = 0; i < opts; i++) addExpiry(c, 0, 1);
    } else if (k < 26) {
        adds(c, "MGET");
        int m = 1 + rnd(5);
        for (int i = 0; i < m; i++) addKey(c);
    } else if (k < 28) {
        adds(c, rnd(3) ? "MSET" : "MSETNX");
        int m = 1 + rnd(3);
        for (int i = 0; i < m; i++) {
            addKey(c);
            addValue(c);
        }
    } else if (k < 31) {
        adds(c, "APPEND");
        addKey(c);
        addValue(c);
    } else if (k < 32) {
        adds(c, "STRLEN");
        addKey(c);
    } else if (k < 35) {
        adds(c, rnd(4) ? "GETRANGE" : "SUBSTR");
        addKey(c);
        addf(c, "%d", rnd(40) - 20);
        addf(c, "%d", rnd(40) - 20);
    } else if (k < 37) {
        adds(c, "SETRANGE");
        addKey(c);
        addOffset(c, 0);
        addValue(c);
    } else if (k < 39) {
        adds(c, "LCS");
        addKey(c);
        addKey(c);
        int o = rnd(6);
        if (o == 1) adds(c, "LEN");
        if (o >= 2) adds(c, "IDX");
        if (o >= 3) {
            adds(c, "MINMATCHLEN");
            addf(c, "%d", rnd(5));
        }
        if (o >= 4) adds(c, "WITHMATCHLEN");
        if (o == 5 && chance(30)) adds(c, "LEN");
    } else if (k < 47) {
        static const char *ops[] = {"INCR", "DECR", "INCRBY", "DECRBY", "INCRBYFLOAT"};
        int o = rnd(5);
        adds(c, ops[o]);
        adds(c, chance(60) ? "counter" : keyNames[rnd(keyCount())]);
        if (o == 2 || o == 3) addInt(c);
        if (o == 4) addFloat(c);
    } else if (k < 50) {
        adds(c, "SETBIT");
        adds(c, chance(60) ? "bits" : keyNames[rnd(keyCount())]);
        addOffset(c, 1);
        adds(c, chance(90) ? (rnd(2) ? "1" : "0") : "2");
    } else if (k < 52) {
        adds(c, "GETBIT");
        adds(c, chance(60) ? "bits" : keyNames[rnd(keyCount())]);
        addOffset(c, 1);
    } else if (k < 54) {
        adds(c, "BITCOUNT");
        addKey(c);
        if (chance(60)) {
            addf(c, "%d", rnd(20) - 10);
            addf(c, "%d", rnd(40) - 10);
            if (chance(50)) adds(c, rnd(2) ? "BIT" : "BYTE");
        }
    } else if (k < 56) {
        adds(c, "BITPOS");
        addKey(c);
        adds(c, chance(90) ? (rnd(2) ? "1" : "0") : "3");
        if (chance(60)) {
            addf(c, "%d", rnd(20) - 10);
            if (chance(70)) {
                addf(c, "%d", rnd(40) - 10);
                if (chance(50)) adds(c, rnd(2) ? "BIT" : "BYTE");
            }
        }
    } else if (k < 58) {
        static const char *ops[] = {"AND", "OR", "XOR", "NOT", "nand"};
        adds(c, "BITOP");
        adds(c, ops[rnd(5)]);
        addKey(c);
        int m = 1 + rnd(3);
        for (int i = 0; i < m; i++) addKey(c);
    } else if (k < 60) {
        int ro = chance(25);
        adds(c, ro ? "BITFIELD_RO" : "BITFIELD");
        adds(c, chance(60) ? "bits" : keyNames[rnd(keyCount())]);
        int ops = rnd(4);
        for (int i = 0; i < ops; i++) {
            static const char *types[] = {"u8", "i8", "u1", "i5", "u16", "i64", "u63", "u64", "x3", "i16"};
            int o = ro ? (chance(85) ? 0 : rnd(4)) : rnd(4);
            if (o == 3) {
                adds(c, "OVERFLOW");
                static const char *ov[] = {"WRAP", "SAT", "FAIL", "fail", "BAD"};
                adds(c, ov[rnd(5)]);
                continue;
            }
            adds(c, o == 0 ? "GET" : o == 1 ? "SET" : "INCRBY");
            adds(c, types[rnd(10)]);
            if (chance(20)) addf(c, "#%d", rnd(10));
            else addOffset(c, 1);
            if (o) addInt(c);
        }
    } else if (k < 63) {
        adds(c, rnd(2) ? "DEL" : "UNLINK");
        int m = 1 + rnd(3);
        for (int i = 0; i < m; i++) addKey(c);
    } else if (k < 65) {
        adds(c, rnd(2) ? "EXISTS" : "TOUCH");
        int m = 1 + rnd(3);
        for (int i = 0; i < m; i++) addKey(c);
    } else if (k < 66) {
        adds(c, "TYPE");
        addKey(c);
    } else if (k < 72) {
        static const char *ops[] = {"EXPIRE", "PEXPIRE", "EXPIREAT", "PEXPIREAT"};
        int o = rnd(4);
        adds(c, ops[o]);
        addKey(c);
        addExpireTime(c, o >= 2, o == 1 || o == 3);
        int f = rnd(4);
        for (int i = 0; i < f && i < 2; i++) adds(c, expireFlags[rnd(6)]);
    } else if (k < 76) {
        static const char *ops[] = {"TTL", "PTTL", "EXPIRETIME", "PEXPIRETIME"};
        int o = rnd(4);
        adds(c, ops[o]);
        addKey(c);
        n = (o == 0 || o == 2) ? NORM_TTL : NORM_PTTL;
    } else if (k < 77) {
        adds(c, "PERSIST");
        addKey(c);
    } else if (k < 80) {
        adds(c, rnd(2) ? "RENAME" : "RENAMENX");
        addKey(c);
        addKey(c);
    } else if (k < 82) {
        adds(c, "COPY");
        addKey(c);
        addKey(c);
        if (chance(40)) {
            adds(c, "DB");
            addf(c, "%d", rnd(3));
        }
        if (chance(40)) adds(c, "REPLACE");
    } else if (k < 83) {
        adds(c, "MOVE");
        addKey(c);
        addf(c, "%d", rnd(3));
    } else if (k < 84) {
        adds(c, "SELECT");
        addf(c, "%d", rnd(10) ? rnd(2) : 16);
    } else if (k < 85 && chance(30)) {
        adds(c, "SWAPDB");
        addf(c, "%d", rnd(2));
        addf(c, "%d", rnd(2));
    } else if (k < 86) {
        adds(c, "DBSIZE");
    } else if (k < 87) {
        adds(c, "KEYS");
        static const char *pats[] = {"*", "k*", "k[0-2]", "?", "*t*", "counter", "[^k]*"};
        adds(c, pats[rnd(7)]);
        n = NORM_SORT;
    } else if (k < 88) {
        adds(c, "SCAN");
        adds(c, "0");
        if (chance(50)) {
            adds(c, "MATCH");
            adds(c, rnd(2) ? "k*" : "*");
        }
        if (chance(50)) {
            adds(c, "COUNT");
            addf(c, "%d", 1 + rnd(5));
        }
        if (chance(30)) {
            adds(c, "TYPE");
            {
                static const char *types[] = {"string", "set", "hash"};
                adds(c, types[rnd(3)]);
            }
        }
        n = NORM_SCAN;
    } else if (k < 89) {
        adds(c, "RANDOMKEY");
        n = NORM_RANDOMKEY;
    } else if (k < 90) {
        adds(c, "OBJECT");
        if (rnd(3)) {
            adds(c, "ENCODING");
            n = NORM_ENCODING;      /* the key may hold a set or hash */
        } else {
            adds(c, "FREQ");
        }
        addKey(c);
    } else if (k < 91 && chance(15)) {
        adds(c, rnd(2) ? "FLUSHDB" : "FLUSHALL");
    } else if (k < 94 && haveSets && haveHashes) {
        static const char *ops[] = {"SADD", "HSET", "LPUSH"};
        int o = rnd(haveLists ? 3 : 2);
        adds(c, ops[o]);
        addKey(c);
        addValue(c);
        if (o == 1) addValue(c);
    } else {
        adds(c, "GET");
        addKey(c);
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Sets and hashes                                                      */

/* A set key: mostly s0..s2, sometimes any key (wrong types both ways). */
static void addSetKey(cmd *c) { adds(c, chance(85) ? keyNames[8 + rnd(3)] : keyNames[rnd(NKEYS)]); }
static void addHashKey(cmd *c) { adds(c, chance(85) ? keyNames[11 + rnd(3)] : keyNames[rnd(NKEYS)]); }

/* A set member: small integers (intset in Redis), short names, odd numbers
 * ("007", "-0", 2^63...) that are not canonical integers, or any value.  s0
 * gets mostly integers so that it stays an intset and can pass 512. */
static void addMember(cmd *c, const char *key) {
    int intsOnly = key && !strcmp(key, "s0") && chance(90);
    int k = intsOnly ? 0 : rnd(10);
    if (k < 5) addf(c, "%d", rnd(intsOnly ? 700 : 300) - 20);
    else if (k < 8) addf(c, "m%d", rnd(200));
    else if (k < 9) adds(c, ints[rnd((int)(sizeof(ints) / sizeof(ints[0])))]);
    else addValue(c);
}
static void addField(cmd *c) {
    int k = rnd(10);
    if (k < 6) addf(c, "f%d", rnd(200));
    else if (k < 8) addf(c, "%d", rnd(100));
    else if (k < 9) addf(c, "n%d", rnd(5)); /* a few hot fields for HINCRBY */
    else addValue(c);
}
static void addHashValue(cmd *c) {
    if (chance(40)) addInt(c);
    else if (chance(10)) addFloat(c);
    else addValue(c);
}
/* A count for SPOP/SRANDMEMBER/HRANDFIELD: mostly small, sometimes
 * negative, zero, large or not a number. */
static void addCount(cmd *c, int allowNegative) {
    /* (never a huge negative count such as -2^63+1: Redis would try to
     * build a reply that large) */
    static const char *bad[] = {"abc", "", "1.5", "9223372036854775807", "-9223372036854775808",
                                "4611686018427387904", "+3", "0"};
    int k = rnd(10);
    if (k < 6) addf(c, "%d", rnd(12));
    else if (k < 7) addf(c, "%d", 100 + rnd(500));
    else if (k < 9 && allowNegative) addf(c, "%d", -rnd(30));
    else adds(c, bad[rnd(8)]);
}
static void addScanOptions(cmd *c, int hash) {
    if (chance(40)) {
        static const char *sp[] = {"*", "1*", "m*", "*[0-4]", "m1?", "[a-f]*"};
        static const char *hp[] = {"*", "f1*", "n*", "*[0-4]", "f?", "[a-f]*"};
        adds(c, rnd(8) ? "MATCH" : "match");
        adds(c, (hash ? hp : sp)[rnd(6)]);
    }
    if (chance(40)) {
        adds(c, "COUNT");
        addf(c, "%d", 1 + rnd(20));
    }
    if (chance(3)) adds(c, rnd(2) ? "COUNT" : "NOVALUES");
}

static norm genSetCommand(cmd *c) {
    int k = rnd(100);
    norm n = NORM_NONE;
    if (k < 22) {
        adds(c, "SADD");
        if (chance(40)) adds(c, "s0");
        else addSetKey(c);
        int m = chance(30) ? 20 + rnd(42) : 1 + rnd(4);
        for (int i = 0; i < m; i++) addMember(c, c->argv[1]);
    } else if (k < 30) {
        adds(c, "SREM");
        addSetKey(c);
        int m = chance(10) ? 5 + rnd(30) : 1 + rnd(3);
        for (int i = 0; i < m; i++) addMember(c, c->argv[1]);
    } else if (k < 34) {
        adds(c, "SMEMBERS");
        addSetKey(c);
        n = NORM_SORT;
    } else if (k < 38) {
        adds(c, "SISMEMBER");
        addSetKey(c);
        addMember(c, c->argv[1]);
    } else if (k < 41) {
        adds(c, "SMISMEMBER");
        addSetKey(c);
        int m = 1 + rnd(4);
        for (int i = 0; i < m; i++) addMember(c, c->argv[1]);
    } else if (k < 45) {
        adds(c, "SCARD");
        addSetKey(c);
    } else if (k < 50) {
        adds(c, "SPOP");
        addSetKey(c);
        if (chance(50)) addCount(c, 1);
        n = NORM_POP;
    } else if (k < 55) {
        adds(c, "SRANDMEMBER");
        addSetKey(c);
        if (chance(60)) addCount(c, 1);
        n = NORM_SHAPE;
    } else if (k < 60) {
        adds(c, "SMOVE");
        addSetKey(c);
        addSetKey(c);
        addMember(c, c->argv[1]);
    } else if (k < 75) {
        static const char *ops[] = {"SINTER", "SUNION", "SDIFF", "SINTERSTORE", "SUNIONSTORE", "SDIFFSTORE"};
        int o = rnd(6);
        adds(c, ops[o]);
        int m = (o >= 3 ? 2 : 1) + rnd(3);
        for (int i = 0; i < m; i++) {
            if (i == 0 && o >= 3 && chance(70)) adds(c, "s2"); /* destinations spare s0 mostly */
            else addSetKey(c);
        }
        if (o < 3) n = NORM_SORT;
    } else if (k < 80) {
        adds(c, "SINTERCARD");
        int m = 1 + rnd(3);
        int k2 = rnd(10);
        if (k2 < 8) addf(c, "%d", m);
        else if (k2 < 9) addf(c, "%d", m + 1);
        else adds(c, rnd(2) ? "0" : (rnd(2) ? "-1" : "abc"));
        for (int i = 0; i < m; i++) addSetKey(c);
        if (chance(40)) {
            adds(c, rnd(4) ? "LIMIT" : "limit");
            if (chance(90)) {
                static const char *lim[] = {"0", "1", "2", "5", "-1", "abc", "100"};
                adds(c, lim[rnd(7)]);
            }
        }
    } else if (k < 88) {
        adds(c, "SSCAN");
        addSetKey(c);
        if (chance(8)) {        /* a bad cursor, compared as such */
            /* a leading blank is refused; "" is left out: it is a valid
             * cursor 0 for Redis (strtoul), not a bad one */
            static const char *cur[] = {"abc", "18446744073709551616", "1.5", "\t1", "1x", "0x1", " 1"};
            adds(c, cur[rnd(7)]);
            addScanOptions(c, 0);
        } else {
            adds(c, "0");
            addScanOptions(c, 0);
            n = NORM_SSCAN;
        }
    } else if (k < 92) {
        adds(c, "OBJECT");
        adds(c, "ENCODING");
        addSetKey(c);
        n = NORM_ENCODING;
    } else {
        adds(c, "TYPE");
        addSetKey(c);
    }
    return n;
}

static norm genHashCommand(cmd *c) {
    int k = rnd(100);
    norm n = NORM_NONE;
    if (k < 20) {
        adds(c, rnd(4) ? "HSET" : "HMSET");
        if (chance(40)) adds(c, "h0");
        else addHashKey(c);
        int m = chance(30) ? 10 + rnd(21) : 1 + rnd(3);
        for (int i = 0; i < m; i++) {
            addField(c);
            addHashValue(c);
        }
    } else if (k < 24) {
        adds(c, "HSETNX");
        addHashKey(c);
        addField(c);
        addHashValue(c);
    } else if (k < 31) {
        adds(c, "HGET");
        addHashKey(c);
        addField(c);
    } else if (k < 35) {
        adds(c, "HMGET");
        addHashKey(c);
        int m = 1 + rnd(4);
        for (int i = 0; i < m; i++) addField(c);
    } else if (k < 42) {
        adds(c, "HDEL");
        addHashKey(c);
        int m = chance(10) ? 5 + rnd(30) : 1 + rnd(3);
        for (int i = 0; i < m; i++) addField(c);
    } else if (k < 45) {
        adds(c, "HLEN");
        addHashKey(c);
    } else if (k < 48) {
        adds(c, "HSTRLEN");
        addHashKey(c);
        addField(c);
    } else if (k < 51) {
        adds(c, "HEXISTS");
        addHashKey(c);
        addField(c);
    } else if (k < 58) {
        static const char *ops[] = {"HKEYS", "HVALS", "HGETALL"};
        int o = rnd(3);
        adds(c, ops[o]);
        addHashKey(c);
        n = o == 2 ? NORM_PAIRS : NORM_SORT;
    } else if (k < 68) {
        adds(c, "HINCRBY");
        addHashKey(c);
        if (chance(60)) addf(c, "n%d", rnd(5));
        else addField(c);
        addInt(c);
    } else if (k < 74) {
        adds(c, "HINCRBYFLOAT");
        addHashKey(c);
        if (chance(60)) addf(c, "n%d", rnd(5));
        else addField(c);
        addFloat(c);
    } else if (k < 80) {
        adds(c, "HRANDFIELD");
        addHashKey(c);
        if (chance(60)) {
            addCount(c, 1);
            if (chance(40)) adds(c, rnd(5) ? "WITHVALUES" : "WITHSCORES");
        }
        n = NORM_SHAPE;
    } else if (k < 88) {
        adds(c, "HSCAN");
        addHashKey(c);
        if (chance(8)) {
            /* a leading blank is refused; "" is left out: it is a valid
             * cursor 0 for Redis (strtoul), not a bad one */
            static const char *cur[] = {"abc", "18446744073709551616", "1.5", "\t1", "1x", "0x1", " 1"};
            adds(c, cur[rnd(7)]);
            addScanOptions(c, 1);
        } else {
            adds(c, "0");
            addScanOptions(c, 1);
            n = NORM_HSCAN;
        }
    } else if (k < 92) {
        adds(c, "OBJECT");
        adds(c, "ENCODING");
        addHashKey(c);
        n = NORM_ENCODING;
    } else {
        adds(c, "TYPE");
        addHashKey(c);
    }
    return n;
}

static norm genCommand(cmd *c) {
    int f = rnd(100);
    norm n;
    if (haveSets && f < 20) n = genSetCommand(c);
    else if (haveHashes && f >= 20 && f < 40) n = genHashCommand(c);
    else n = genStringCommand(c);
    /* wrong arity, unknown commands, odd case */
    int w = rnd(100);
    if (w < 2 && c->argc > 1) {
        free(c->argv[--c->argc]);
    } else if (w < 4) {
        addValue(c);
    } else if (w < 5) {
        free(c->argv[0]);
        c->argv[0] = strdup("NOSUCHCMD");
        c->len[0] = 9;
    } else if (w < 10) {
        for (size_t i = 0; i < c->len[0]; i++)
            if (rnd(2)) c->argv[0][i] = (char)tolower((unsigned char)c->argv[0][i]);
    }
    return n;
}

/* ------------------------------------------------------------------ */
/* Normalisation of nondeterministic replies                           */

static long long intReply(const char *p, size_t n, int *ok) {
    *ok = n > 3 && p[0] == ':';
    return *ok ? atoll(p + 1) : 0;
}

static int cmpStr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Sorted, rendered elements of an array reply. */
static char *sortedArray(redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return hRender(r);
    char **v = malloc(sizeof(char *) * (r->elements + 1));
    for (size_t i = 0; i < r->elements; i++) v[i] = strdup(hRender(r->element[i]));
    qsort(v, r->elements, sizeof(char *), cmpStr);
    hbuf b = {0};
    hbufCat(&b, "{", 1);
    for (size_t i = 0; i < r->elements; i++) {
        if (i) hbufCat(&b, ",", 1);
        hbufCat(&b, v[i], strlen(v[i]));
        free(v[i]);
    }
    hbufCat(&b, "}", 1);
    free(v);
    char *s = hRing(b.p, b.len);
    free(b.p);
    return s;
}

/* Sorted field/value pairs of a flat array reply (HGETALL, HRANDFIELD
 * WITHVALUES). */
static char *sortedPairs(redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2) return hRender(r);
    redisReply *pairs = calloc(1, sizeof(*pairs));
    pairs->type = REDIS_REPLY_ARRAY;
    pairs->elements = r->elements / 2;
    pairs->element = calloc(pairs->elements + 1, sizeof(redisReply *));
    redisReply *strs = calloc(pairs->elements + 1, sizeof(redisReply));
    for (size_t i = 0; i < pairs->elements; i++) {
        char *f = strdup(hRender(r->element[2 * i]));
        char *v = hRender(r->element[2 * i + 1]);
        hbuf b = {0};
        hbufPrintf(&b, "%s=>%s", f, v);
        free(f);
        strs[i].type = REDIS_REPLY_STATUS; /* rendered as is */
        strs[i].str = b.p;
        strs[i].len = b.len;
        pairs->element[i] = &strs[i];
    }
    char *out = sortedArray(pairs);
    for (size_t i = 0; i < pairs->elements; i++) free(strs[i].str);
    free(strs);
    free(pairs->element);
    free(pairs);
    return out;
}

/* Full SCAN/SSCAN/HSCAN iteration from cursor 0 (at argument cur) with the
 * options of c; the union of keys or members (or, pairs=1, field/value
 * pairs), sorted (or the first error). */
static char *scanAllAt(hraw *srv, const cmd *c, int cur, int pairs) {
    cmd it = *c;
    char *cursor = strdup("0");
    redisReply *all = calloc(1, sizeof(*all));
    all->type = REDIS_REPLY_ARRAY;
    size_t cap = 0;
    char *result = NULL;
    for (int calls = 0; calls < 10000; calls++) {
        it.argv[cur] = cursor;
        it.len[cur] = strlen(cursor);
        size_t n;
        char *raw = ask(srv, &it, &n);
        redisReply *r = parse(raw, n);
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2) {
            result = hEscape(raw, n);
            if (r) freeReplyObject(r);
            break;
        }
        if (pairs && r->element[1]->elements % 2) {
            result = hEscape(raw, n);
            freeReplyObject(r);
            break;
        }
        for (size_t i = 0; i < r->element[1]->elements; i += pairs ? 2 : 1) {
            redisReply *e = r->element[1]->element[i], pe = {0};
            hbuf pb = {0};
            if (pairs) {
                char *f = strdup(hRender(e));
                hbufPrintf(&pb, "%s=>%s", f, hRender(r->element[1]->element[i + 1]));
                free(f);
                pe.type = REDIS_REPLY_STRING;
                pe.str = pb.p;
                pe.len = pb.len;
                e = &pe;
            }
            int dup = 0;
            for (size_t j = 0; j < all->elements && !dup; j++)
                dup = all->element[j]->len == e->len && memcmp(all->element[j]->str, e->str, e->len) == 0;
            if (dup) {
                free(pb.p);
                continue;
            }
            if (all->elements == cap) {
                cap = cap ? cap * 2 : 16;
                all->element = realloc(all->element, cap * sizeof(redisReply *));
            }
            redisReply *k = calloc(1, sizeof(*k));
            k->type = REDIS_REPLY_STRING;
            k->str = malloc(e->len + 1);
            memcpy(k->str, e->str, e->len + 1);
            k->len = e->len;
            all->element[all->elements++] = k;
            free(pb.p);
        }
        free(cursor);
        cursor = strdup(r->element[0]->str);
        freeReplyObject(r);
        if (!strcmp(cursor, "0")) {
            result = sortedArray(all);
            break;
        }
    }
    if (!result) result = "<SCAN did not finish>";
    free(cursor);
    freeReplyObject(all);
    return result;
}

/* Two replies to SRANDMEMBER/SPOP/HRANDFIELD: errors and nils exactly, bulk
 * strings as "a member", arrays by length; an array for a positive count must
 * not repeat a member (field). */
static int sameShape(const cmd *c, redisReply *x, redisReply *y) {
    if (!x || !y || x->type != y->type) return 0;
    if (x->type == REDIS_REPLY_STRING) return 1;
    if (x->type != REDIS_REPLY_ARRAY) return 0;  /* errors, nil: compared as bytes */
    if (x->elements != y->elements) return 0;
    int withValues = c->argc > 3 && !strcasecmp(c->argv[3], "WITHVALUES");
    int positive = c->argc > 2 && c->argv[2][0] != '-';
    for (size_t i = 0; positive && i < y->elements; i += withValues ? 2 : 1)
        for (size_t j = i + (withValues ? 2 : 1); j < y->elements; j += withValues ? 2 : 1)
            if (y->element[i]->len == y->element[j]->len &&
                memcmp(y->element[i]->str, y->element[j]->str, y->element[i]->len) == 0)
                return 0;
    return 1;
}

/* Compares the two replies to c under normalisation n; 1 if equal. The
 * shown forms are returned for the report. */
static int sameReply(const cmd *c, norm n, const char *a, size_t al, const char *b, size_t bl, char **showA,
                     char **showB) {
    *showA = hEscape(a, al);
    *showB = hEscape(b, bl);
    if (al == bl && memcmp(a, b, al) == 0) return 1;
    if (n == NORM_TTL || n == NORM_PTTL) {
        int oka, okb;
        long long x = intReply(a, al, &oka), y = intReply(b, bl, &okb);
        if (!oka || !okb) return 0;
        if (x < 0 || y < 0) return x == y;
        long long tol = n == NORM_TTL ? 1 : 50;
        return llabs(x - y) <= tol;
    }
    if (n == NORM_RANDOMKEY) {
        /* both nil, or both a key */
        return (al == 5 && bl == 5) || (a[0] == '$' && b[0] == '$' && al > 5 && bl > 5);
    }
    if (n == NORM_SHAPE || n == NORM_POP) {
        redisReply *x = parse(a, al), *y = parse(b, bl);
        int eq = sameShape(c, x, y);
        if (x) freeReplyObject(x);
        if (y) freeReplyObject(y);
        return eq;
    }
    if (n == NORM_ENCODING) {
        /* Redis converts a set (hash) from intset (listpack) to hashtable and
         * never back; lattice names the encoding Redis would choose for the
         * current contents.  So after removals Redis may say hashtable where
         * lattice says intset/listpack; never the other way round. */
        static const char ht[] = "$9\r\nhashtable\r\n", is[] = "$6\r\nintset\r\n", lp[] = "$8\r\nlistpack\r\n";
        return al == sizeof(ht) - 1 && memcmp(a, ht, al) == 0 &&
               ((bl == sizeof(is) - 1 && memcmp(b, is, bl) == 0) || (bl == sizeof(lp) - 1 && memcmp(b, lp, bl) == 0));
    }
    if (n == NORM_SORT || n == NORM_PAIRS) {
        redisReply *x = parse(a, al), *y = parse(b, bl);
        char *sa = strdup(n == NORM_SORT ? sortedArray(x) : sortedPairs(x));
        *showB = n == NORM_SORT ? sortedArray(y) : sortedPairs(y);
        int eq = strcmp(sa, *showB) == 0;
        *showA = hRing(sa, strlen(sa));
        free(sa);
        if (x) freeReplyObject(x);
        if (y) freeReplyObject(y);
        return eq;
    }
    (void)c;
    return 0;
}

static void resync(void) {
    cmd f = {0};
    adds(&f, "FLUSHALL");
    size_t n;
    ask(L, &f, &n);
    ask(R, &f, &n);
    freeCmd(&f);
    adds(&f, "SELECT");
    adds(&f, "0");
    ask(L, &f, &n);
    ask(R, &f, &n);
    freeCmd(&f);
}

/* Sends "op key member" to redis for each member of an SPOP reply (a bulk
 * string or an array). */
static void eachPopped(const char *op, const cmd *c, redisReply *r) {
    size_t n = r->type == REDIS_REPLY_ARRAY ? r->elements : 1;
    for (size_t i = 0; i < n; i++) {
        redisReply *e = r->type == REDIS_REPLY_ARRAY ? r->element[i] : r;
        if (e->type != REDIS_REPLY_STRING) continue;
        cmd f = {0};
        size_t len;
        adds(&f, op);
        add(&f, c->argv[1], c->len[1]);
        add(&f, e->str, e->len);
        ask(R, &f, &len);
        freeCmd(&f);
    }
}

/* After an SPOP that both servers answered alike, each popped its own random
 * members: redis gets back what it popped (SADD) and loses what lattice
 * popped (SREM), so that the two sets are equal again.  (When every member
 * was popped both popped the same ones and the key is gone on both.) */
static void popLikeLattice(const cmd *c, const char *a, size_t al, const char *b, size_t bl) {
    redisReply *x = parse(a, al), *y = parse(b, bl);
    if (x && y && c->argc >= 2 &&
        (x->type == REDIS_REPLY_STRING || (x->type == REDIS_REPLY_ARRAY && x->elements > 0))) {
        char *sx = strdup(x->type == REDIS_REPLY_ARRAY ? sortedArray(x) : hRender(x));
        char *sy = y->type == REDIS_REPLY_ARRAY ? sortedArray(y) : hRender(y);
        if (strcmp(sx, sy) != 0) {
            eachPopped("SADD", c, x);
            eachPopped("SREM", c, y);
        }
        free(sx);
    }
    if (x) freeReplyObject(x);
    if (y) freeReplyObject(y);
}

static void reportMismatch(int index, const cmd *c, const char *a, const char *b) {
    mismatches++;
    H.failed++;
    if (mismatches <= 12) {
        printf("MISMATCH #%d at command %d (seed %llu):\n    command: %s\n    redis:   %s\n    lattice: %s\n",
               mismatches, index, seed, showCmd(c), a, b);
    } else if (mismatches == 13) {
        printf("(further mismatches are counted, not shown)\n");
    }
}

static void runStream(int count) {
    hSection("random command stream");
    for (int i = 0; i < count; i++) {
        cmd c = {0};
        norm n = genCommand(&c);
        char *sa, *sb, *popA = NULL, *popB = NULL;
        size_t popAl = 0, popBl = 0;
        int eq;
        if (n == NORM_SCAN || n == NORM_SSCAN || n == NORM_HSCAN) {
            int cur = n == NORM_SCAN ? 1 : 2, pairs = n == NORM_HSCAN;
            char *x = strdup(c.argc > cur ? scanAllAt(R, &c, cur, pairs) : "");
            char *y = c.argc > cur ? scanAllAt(L, &c, cur, pairs) : "";
            if (c.argc <= cur) {  /* lost its cursor to the wrong-arity mutation */
                size_t al, bl;
                free(x);
                char *a = ask(R, &c, &al);
                x = strdup(hEscape(a, al));
                char *b = ask(L, &c, &bl);
                y = hEscape(b, bl);
            }
            eq = strcmp(x, y) == 0;
            sa = hRing(x, strlen(x));
            sb = y;
            free(x);
        } else {
            size_t al, bl;
            if (!strcasecmp(c.argv[0], "DBSIZE")) {
                /* A key written with a deadline in the past stays in Redis's
                 * table (and in DBSIZE) until touched or found by the active
                 * cycle: touch every key first so that DBSIZE is exact. */
                cmd t = {0};
                adds(&t, "EXISTS");
                for (int j = 0; j < NKEYS; j++) adds(&t, keyNames[j]);
                ask(R, &t, &al);
                ask(L, &t, &bl);
                freeCmd(&t);
            }
            char *a = ask(R, &c, &al);
            char *acopy = malloc(al + 1);
            memcpy(acopy, a, al);
            char *b = ask(L, &c, &bl);
            eq = sameReply(&c, n, acopy, al, b, bl, &sa, &sb);
            if (eq && n == NORM_POP) {  /* after the report: it reuses the reply ring */
                popA = acopy;
                popAl = al;
                popB = malloc(bl + 1);
                memcpy(popB, b, bl);
                popBl = bl;
            } else {
                free(acopy);
            }
        }
        if (trace) printf("%d: %s -> %s%s%s\n", i, showCmd(&c), sa, eq ? "" : " | lattice: ", eq ? "" : sb);
        if (eq) {
            H.passed++;
        } else {
            reportMismatch(i, &c, sa, sb);
            hAbortIfServerDied(__FILE__, __LINE__);
            resync();
        }
        if (popA) {
            popLikeLattice(&c, popA, popAl, popB, popBl);
            free(popA);
            free(popB);
        }
        freeCmd(&c);
        if (L->eof || R->eof) {
            printf("a connection closed at command %d (lattice %s, redis %s)\n", i, L->eof ? "closed" : "open",
                   R->eof ? "closed" : "open");
            hAbortIfServerDied(__FILE__, __LINE__);
            H.failed++;
            return;
        }
    }
}

/* The keyspaces after the stream: same keys, values and (roughly) TTLs. */
static void compareContents(void) {
    hSection("final contents");
    for (int db = 0; db < 3; db++) {
        cmd c = {0};
        adds(&c, "SELECT");
        addf(&c, "%d", db);
        size_t n;
        ask(L, &c, &n);
        ask(R, &c, &n);
        freeCmd(&c);
        adds(&c, "KEYS");
        adds(&c, "*");
        size_t al, bl;
        char *a = ask(R, &c, &al);
        redisReply *ka = parse(a, al);
        char *b = ask(L, &c, &bl);
        redisReply *kb = parse(b, bl);
        char *sa = strdup(sortedArray(ka)), *sb = sortedArray(kb);
        if (strcmp(sa, sb) == 0) H.passed++;
        else reportMismatch(-1, &c, sa, sb);
        freeCmd(&c);
        free(sa);
        for (size_t i = 0; ka && ka->type == REDIS_REPLY_ARRAY && i < ka->elements; i++) {
            /* TYPE, then the whole value by type, the TTL and the encoding */
            adds(&c, "TYPE");
            add(&c, ka->element[i]->str, ka->element[i]->len);
            char *t = ask(R, &c, &al);
            const char *get = al == 9 && !memcmp(t, "+set\r\n", 6)    ? "SMEMBERS"
                              : al == 10 && !memcmp(t, "+hash\r\n", 7) ? "HGETALL"
                                                                       : "GET";
            norm getNorm = !strcmp(get, "SMEMBERS") ? NORM_SORT : !strcmp(get, "HGETALL") ? NORM_PAIRS : NORM_NONE;
            freeCmd(&c);
            const char *ops[] = {"TYPE", get, "PTTL", "OBJECT"};
            for (int o = 0; o < 4; o++) {
                if (o == 3 && getNorm == NORM_NONE) break;
                adds(&c, ops[o]);
                if (o == 3) adds(&c, "ENCODING");
                add(&c, ka->element[i]->str, ka->element[i]->len);
                char *x = ask(R, &c, &al);
                char *xc = malloc(al);
                memcpy(xc, x, al);
                char *y = ask(L, &c, &bl);
                char *s1, *s2;
                norm on = o == 1 ? getNorm : o == 2 ? NORM_PTTL : o == 3 ? NORM_ENCODING : NORM_NONE;
                if (sameReply(&c, on, xc, al, y, bl, &s1, &s2)) H.passed++;
                else reportMismatch(-1, &c, s1, s2);
                free(xc);
                freeCmd(&c);
            }
        }
        if (ka) freeReplyObject(ka);
        if (kb) freeReplyObject(kb);
    }
}

/* One command's INFO array (10 fields, the 10th its subcommands), reduced to
 * what lattice's metadata covers so far: name, arity, flags, first key, last
 * key and step (each subcommand lattice has is compared under its own name;
 * Redis subcommands lattice lacks, such as CLIENT TRACKING or FUNCTION LOAD,
 * are not required).  Left out until the command table carries them: ACL
 * categories (7th field), tips (8th), key specs (9th). */
static char *canonicalInfo(redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 10 || r->element[9]->type != REDIS_REPLY_ARRAY)
        return strdup(hRender(r));
    hbuf b = {0};
    hbufCat(&b, "[", 1);
    for (size_t i = 0; i < 6; i++) {
        char *e = hRender(r->element[i]);
        hbufCat(&b, e, strlen(e));
        hbufCat(&b, ",", 1);
    }
    hbufCat(&b, "]", 1);
    char *s = strdup(b.p);
    free(b.p);
    return s;
}

/* COMMAND DOCS replies nest deeper than hiredis 0.14's reader accepts, so
 * they are walked by hand.  Reads the header line at *p ("<type><n>\r\n"):
 * returns the type and sets *n, or 0 at a malformed or short line. */
static char respHeader(const char **p, const char *end, long long *n) {
    const char *nl = *p < end ? memchr(*p, '\n', (size_t)(end - *p)) : NULL;
    if (!nl || nl - *p < 2 || nl[-1] != '\r') return 0;
    char type = **p;
    *n = strtoll(*p + 1, NULL, 10);
    *p = nl + 1;
    return type;
}

/* Skips one RESP2/RESP3 element; NULL if it is malformed or cut short. */
static const char *respSkip(const char *p, const char *end) {
    long long n;
    char t = respHeader(&p, end, &n);
    switch (t) {
    case '$': case '=': case '!':
        if (n < 0) return p;
        return end - p >= n + 2 ? p + n + 2 : NULL;
    case '*': case '~': case '>': case '%': case '|':
        if (t == '%' || t == '|') n *= 2;
        for (long long i = 0; i < n && p; i++) p = respSkip(p, end);
        return p;
    case 0:
        return NULL;
    default:                    /* + - : _ , # ( : the header was all */
        return p;
    }
}

/* NULL if lattice's COMMAND DOCS reply for name documents it with a
 * non-empty summary, since and group; else what is wrong. */
static const char *docsProblem(const char *name, const char *raw, size_t len) {
    const char *p = raw, *end = raw + len;
    long long n;
    char t = respHeader(&p, end, &n);
    if (!((t == '*' && n == 2) || (t == '%' && n == 1))) return "not a one-command map";
    if (respHeader(&p, end, &n) != '$' || n < 0 || end - p < n + 2 || (size_t)n != strlen(name) ||
        strncasecmp(p, name, (size_t)n) != 0)
        return "documents another name";
    p += n + 2;
    t = respHeader(&p, end, &n);
    if (t == '%') n *= 2;
    else if (t != '*') return "no field map";
    static const char *fields[] = {"summary", "since", "group"};
    static const char *missing[] = {"no summary", "no since", "no group"};
    int found[3] = {0, 0, 0};
    for (long long i = 0; i + 1 < n && p; i += 2) {
        long long kl, vl;
        if (respHeader(&p, end, &kl) != '$' || kl < 0 || end - p < kl + 2) return "malformed";
        const char *key = p;
        p += kl + 2;
        const char *v = p;
        if (respHeader(&v, end, &vl) == '$' && vl > 0)
            for (int f = 0; f < 3; f++)
                if ((size_t)kl == strlen(fields[f]) && memcmp(key, fields[f], (size_t)kl) == 0) found[f] = 1;
        p = respSkip(p, end);
    }
    if (!p) return "malformed";
    for (int f = 0; f < 3; f++)
        if (!found[f]) return missing[f];
    return NULL;
}

/* A COMMAND INFO reply (an array of commands) with each command reduced as
 * above. */
static char *canonical(redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return strdup(hRender(r));
    hbuf b = {0};
    hbufCat(&b, "[", 1);
    for (size_t i = 0; i < r->elements; i++) {
        char *e = canonicalInfo(r->element[i]);
        hbufCat(&b, e, strlen(e));
        hbufCat(&b, ",", 1);
        free(e);
    }
    hbufCat(&b, "]", 1);
    char *s = strdup(b.p);
    free(b.p);
    return s;
}

/* The names lattice lists in COMMAND LIST. */
static redisReply *latticeCommands(void) {
    cmd c = {0};
    adds(&c, "COMMAND");
    adds(&c, "LIST");
    size_t n;
    char *raw = ask(L, &c, &n);
    freeCmd(&c);
    return parse(raw, n);
}

/* COMMAND INFO, COMMAND DOCS, and the bare command, for every command. */
static void compareIntrospection(void) {
    hSection("COMMAND INFO / DOCS / bare command, per command");
    redisReply *names = latticeCommands();
    if (!names || names->type != REDIS_REPLY_ARRAY) {
        CHECK_MSG(0, "COMMAND LIST failed");
        return;
    }
    static const char *skipBare[] = {"shutdown", "monitor", "quit", "reset", "multi", "save", "bgsave", "sync",
                                     "psync", "replicaof", "slaveof", "failover", "bgrewriteaof", "flushall",
                                     "flushdb", "debug", "exec", "discard", "unwatch", "readonly", "readwrite",
                                     "lolwut", "randomkey", "time", "lastsave", "dbsize", "hello", "role", "info",
                                     "command", "keys", "subscribe", "psubscribe", "unsubscribe", "punsubscribe",
                                     "ssubscribe", "sunsubscribe", NULL};
    int shown = 0, differ[3] = {0, 0, 0}, total = 0;
    hbuf diffNames[3] = {{0}, {0}, {0}};
    for (size_t i = 0; i < names->elements; i++) {
        const char *name = names->element[i]->str;
        if (!strcmp(name, "peer")) continue;     /* lattice's own: what peers send each other */
        for (int kind = 0; kind < 3; kind++) {
            cmd c = {0};
            if (kind == 0) {
                adds(&c, "COMMAND");
                adds(&c, "INFO");
                adds(&c, name);
            } else if (kind == 1) {
                adds(&c, "COMMAND");
                adds(&c, "DOCS");
                adds(&c, name);
            } else {
                int skip = strchr(name, '|') != NULL;
                for (int s = 0; skipBare[s] && !skip; s++) skip = !strcasecmp(skipBare[s], name);
                if (skip) continue;
                adds(&c, name);
            }
            size_t al = 0, bl;
            char *acopy = NULL;
            if (kind != 1) {    /* DOCS: only lattice's reply is checked */
                char *a = ask(R, &c, &al);
                acopy = malloc(al + 1);
                memcpy(acopy, a, al);
            }
            char *b = ask(L, &c, &bl);
            total++;
            const char *why = NULL;     /* how lattice's reply falls short */
            char *showA = NULL, *showB = NULL;
            if (kind == 1) {
                why = docsProblem(name, b, bl);
            } else if (!(al == bl && memcmp(acopy, b, al) == 0)) {
                why = "differs";
                if (kind == 0) {
                    redisReply *x = parse(acopy, al), *y = parse(b, bl);
                    char *cx = canonical(x), *cy = canonical(y);
                    if (strcmp(cx, cy) == 0) why = NULL;
                    showA = hRing(cx, strlen(cx));
                    showB = hRing(cy, strlen(cy));
                    free(cx);
                    free(cy);
                    if (x) freeReplyObject(x);
                    if (y) freeReplyObject(y);
                }
            }
            if (!why) {
                H.passed++;
            } else {
                H.failed++;
                differ[kind]++;
                hbufPrintf(&diffNames[kind], " %s", name);
                if (shown < 6) {
                    shown++;
                    if (kind == 1)
                        printf("DOCS %s: %s\n    lattice: %s\n", showCmd(&c), why, hEscape(b, bl > 600 ? 600 : bl));
                    else
                        printf("DIFF %s:\n    redis:   %s\n    lattice: %s\n", showCmd(&c),
                               showA ? showA : hEscape(acopy, al > 600 ? 600 : al),
                               showB ? showB : hEscape(b, bl > 600 ? 600 : bl));
                }
            }
            free(acopy);
            freeCmd(&c);
            if (L->eof) {
                printf("lattice closed the connection after %s\n", name);
                hAbortIfServerDied(__FILE__, __LINE__);
                freeReplyObject(names);
                return;
            }
        }
    }
    static const char *kinds[] = {"COMMAND INFO differs", "COMMAND DOCS lacks summary/since/group",
                                  "bare command differs"};
    for (int k = 0; k < 3; k++) {
        if (differ[k]) printf("%s for %d commands:%s\n", kinds[k], differ[k], diffNames[k].p);
        free(diffNames[k].p);
    }
    printf("introspection: %d comparisons\n", total);
    freeReplyObject(names);
}

int main(void) {
    hInit(110);
    const char *redisBin = hRedisBin();
    if (!redisBin) {
        printf("note: no redis-server found (set REDIS_SERVER), differential test skipped\n");
        return hDone();
    }
    const char *s = getenv("LATTICE_DIFF_SEED");
    seed = s && *s ? strtoull(s, NULL, 10) : (unsigned long long)time(NULL) ^ ((unsigned long long)getpid() << 16);
    const char *cnt = getenv("LATTICE_DIFF_COUNT");
    int count = cnt && *cnt ? atoi(cnt) : 4000;
    trace = getenv("LATTICE_DIFF_TRACE") && *getenv("LATTICE_DIFF_TRACE") == '1';
    printf("differential seed %llu (replay with LATTICE_DIFF_SEED=%llu), %d commands\n", seed, seed, count);
    rng = seed ? seed : 88172645463325252ULL;
    baseMs = hNowMs();

    hserver *ls = hStartServer(NULL);
    hserver *rs = hStartServerEx(redisBin, NULL, NULL, NULL);
    L = hRawConnect(ls);
    R = hRawConnect(rs);
    {
        cmd c = {0};
        adds(&c, "COMMAND");
        adds(&c, "INFO");
        adds(&c, "sadd");
        adds(&c, "hset");
        adds(&c, "lpush");
        size_t n;
        char *raw = ask(L, &c, &n);
        redisReply *r = parse(raw, n);
        int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3;
        haveSets = ok && r->element[0]->type == REDIS_REPLY_ARRAY;
        haveHashes = ok && r->element[1]->type == REDIS_REPLY_ARRAY;
        haveLists = ok && r->element[2]->type == REDIS_REPLY_ARRAY;
        if (r) freeReplyObject(r);
        freeCmd(&c);
        if (!haveSets || !haveHashes || !haveLists)
            printf("note: lattice lacks%s%s%s, not generated\n", haveSets ? "" : " sets", haveHashes ? "" : " hashes",
                   haveLists ? "" : " lists");
    }
    runStream(count);
    compareContents();
    compareIntrospection();
    if (mismatches) printf("%d stream mismatches (seed %llu)\n", mismatches, seed);
    hRawClose(L);
    hRawClose(R);
    STOP_SERVER(ls);
    STOP_SERVER(rs);
    return hDone();
}
