/* test_keyspace.c - generic key commands through hiredis: DEL UNLINK EXISTS
 * TYPE KEYS SCAN RANDOMKEY RENAME RENAMENX DBSIZE FLUSHDB FLUSHALL, the
 * EXPIRE family with NX/XX/GT/LT, TTL PTTL EXPIRETIME PEXPIRETIME PERSIST
 * TOUCH OBJECT, SELECT SWAPDB MOVE COPY, lazy and active expiry. */
#include "harness.h"

static redisContext *c;

/* Sorted rendering of an array reply of strings, for order-free compares. */
static int cmpStr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

static char *sortedKeys(redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return hRender(r);
    char **v = malloc(sizeof(char *) * (r->elements + 1));
    for (size_t i = 0; i < r->elements; i++) v[i] = r->element[i]->str;
    qsort(v, r->elements, sizeof(char *), cmpStr);
    hbuf b = {0};
    hbufCat(&b, "[", 1);
    for (size_t i = 0; i < r->elements; i++) {
        if (i) hbufCat(&b, ",", 1);
        hbufCat(&b, v[i], strlen(v[i]));
    }
    hbufCat(&b, "]", 1);
    char *s = hRing(b.p, b.len);
    free(b.p);
    free(v);
    return s;
}

static char *keysSorted(const char *pattern) {
    redisReply *r = redisCommand(c, "KEYS %s", pattern);
    char *s = sortedKeys(r);
    if (r) freeReplyObject(r);
    return s;
}

/* Iterates SCAN to the end with the given extra arguments; returns the sorted
 * union of keys and counts calls. */
static char *scanAll(const char *extra, int *calls) {
    char cursor[32] = "0";
    redisReply *acc = calloc(1, sizeof(*acc));
    acc->type = REDIS_REPLY_ARRAY;
    size_t cap = 0;
    *calls = 0;
    do {
        char cmd[256];
        snprintf(cmd, sizeof(cmd), "SCAN %s %s", cursor, extra);
        redisReply *r = redisCommand(c, cmd);
        (*calls)++;
        if (!r || r->type != REDIS_REPLY_ARRAY || r->elements != 2 || r->element[0]->type != REDIS_REPLY_STRING) {
            char *s = hRender(r);
            if (r) freeReplyObject(r);
            free(acc->element);
            free(acc);
            return s;
        }
        snprintf(cursor, sizeof(cursor), "%s", r->element[0]->str);
        redisReply *keys = r->element[1];
        for (size_t i = 0; i < keys->elements; i++) {
            int dup = 0;
            for (size_t j = 0; j < acc->elements; j++)
                if (!strcmp(acc->element[j]->str, keys->element[i]->str)) dup = 1;
            if (dup) continue;
            if (acc->elements == cap) {
                cap = cap ? cap * 2 : 16;
                acc->element = realloc(acc->element, cap * sizeof(redisReply *));
            }
            redisReply *e = calloc(1, sizeof(*e));
            e->type = REDIS_REPLY_STRING;
            e->str = strdup(keys->element[i]->str);
            e->len = strlen(e->str);
            acc->element[acc->elements++] = e;
        }
        freeReplyObject(r);
    } while (strcmp(cursor, "0") != 0 && *calls < 100000);
    char *s = sortedKeys(acc);
    freeReplyObject(acc);
    return s;
}

static void testBasics(void) {
    hSection("DEL UNLINK EXISTS TYPE DBSIZE");
    EXPECT(c, ":0", "DBSIZE");
    EXPECT(c, "+OK", "MSET a 1 b 2 c 3");
    EXPECT(c, ":3", "DBSIZE");
    EXPECT(c, ":2", "EXISTS a b");
    EXPECT(c, ":3", "EXISTS a a a");
    EXPECT(c, ":0", "EXISTS nosuch");
    EXPECT(c, ":2", "DEL a b nosuch");
    EXPECT(c, ":0", "DEL a");
    EXPECT(c, ":1", "UNLINK c");
    EXPECT(c, ":0", "UNLINK c");
    EXPECT(c, ":0", "DBSIZE");
    EXPECT(c, "+OK", "SET s v");
    EXPECT(c, "+string", "TYPE s");
    EXPECT(c, "+none", "TYPE nosuch");
    EXPECT(c, ":1", "DEL s s");
    EXPECT(c, "-ERR wrong number of arguments for 'del' command", "DEL");
    EXPECT(c, "-ERR wrong number of arguments for 'exists' command", "EXISTS");
    EXPECT(c, "-ERR wrong number of arguments for 'type' command", "TYPE");
    EXPECT(c, "-ERR wrong number of arguments for 'dbsize' command", "DBSIZE x");
}

static void testKeysScan(void) {
    hSection("KEYS SCAN RANDOMKEY");
    EXPECT(c, "+OK", "FLUSHDB");
    EXPECT(c, "[]", "KEYS *");
    EXPECT(c, "(nil)", "RANDOMKEY");
    EXPECT(c, "+OK", "MSET one 1 two 2 three 3 four 4 h[a]llo x hello y hallo z");
    CHECK_STR(keysSorted("*"), "[four,h[a]llo,hallo,hello,one,three,two]");
    CHECK_STR(keysSorted("t*"), "[three,two]");
    CHECK_STR(keysSorted("*o"), "[h[a]llo,hallo,hello,two]");
    CHECK_STR(keysSorted("?ne"), "[one]");
    CHECK_STR(keysSorted("h[ae]llo"), "[hallo,hello]");
    CHECK_STR(keysSorted("h[^e]llo"), "[hallo]");
    CHECK_STR(keysSorted("h[a-b]llo"), "[hallo]");
    CHECK_STR(keysSorted("h\\[a\\]llo"), "[h[a]llo]");
    CHECK_STR(keysSorted("nomatch*"), "[]");
    CHECK_STR(keysSorted("TWO"), "[]");
    EXPECT(c, "[\"two\"]", "KEYS two");
    EXPECT(c, "-ERR wrong number of arguments for 'keys' command", "KEYS");

    int calls;
    CHECK_STR(scanAll("", &calls), "[four,h[a]llo,hallo,hello,one,three,two]");
    CHECK_STR(scanAll("MATCH t*", &calls), "[three,two]");
    CHECK_STR(scanAll("COUNT 1", &calls), "[four,h[a]llo,hallo,hello,one,three,two]");
    CHECK_STR(scanAll("MATCH *llo COUNT 2", &calls), "[h[a]llo,hallo,hello]");
    CHECK_STR(scanAll("TYPE string", &calls), "[four,h[a]llo,hallo,hello,one,three,two]");
    CHECK_STR(scanAll("TYPE set", &calls), "[]");
    CHECK_STR(scanAll("TYPE nosuchtype", &calls), "[]");
    CHECK_STR(scanAll("type STRING match o*", &calls), "[one]");
    /* many keys: iteration is complete, every key exactly once in the union */
    for (int i = 0; i < 1000; i++) hAppend(c, "SET many:%d %d", i, i);
    for (int i = 0; i < 1000; i++) {
        char *g = hNext(c);
        if (strcmp(g, "+OK") != 0) CHECK_STR(g, "+OK");
    }
    {
        char *all = scanAll("MATCH many:* COUNT 7", &calls);
        int n = 0;
        for (char *p = all; *p; p++)
            if (*p == ',') n++;
        CHECK_INT(n + 1, 1000);
        CHECK_RANGE(calls, 2, 1000);
    }
    EXPECT(c, ":1007", "DBSIZE");
    EXPECT_GLOB(c, "[\"*\",[*]]", "SCAN 0");
    EXPECT(c, "-ERR invalid cursor", "SCAN abc");
    EXPECT(c, "-ERR syntax error", "SCAN 0 COUNT 0");
    EXPECT(c, "-ERR value is not an integer or out of range", "SCAN 0 COUNT x");
    EXPECT(c, "-ERR syntax error", "SCAN 0 COUNT");
    EXPECT(c, "-ERR syntax error", "SCAN 0 MATCH");
    EXPECT(c, "-ERR syntax error", "SCAN 0 FOO bar");
    EXPECT(c, "-ERR wrong number of arguments for 'scan' command", "SCAN");
    EXPECT(c, "[\"0\",[]]", "SCAN 0 MATCH nomatch* COUNT 100000");
    {
        redisReply *r = redisCommand(c, "RANDOMKEY");
        CHECK(r && r->type == REDIS_REPLY_STRING);
        if (r && r->type == REDIS_REPLY_STRING) CHECK_INT(hRunInt(c, "EXISTS %s", r->str), 1);
        if (r) freeReplyObject(r);
    }
    EXPECT(c, "-ERR wrong number of arguments for 'randomkey' command", "RANDOMKEY x");
}

static void testRename(void) {
    hSection("RENAME RENAMENX");
    EXPECT(c, "+OK", "FLUSHDB");
    EXPECT(c, "+OK", "SET a 1");
    EXPECT(c, "+OK", "RENAME a b");
    EXPECT(c, "(nil)", "GET a");
    EXPECT(c, "\"1\"", "GET b");
    EXPECT(c, "-ERR no such key", "RENAME a b");
    EXPECT(c, "-ERR no such key", "RENAMENX a b");
    EXPECT(c, "+OK", "RENAME b b");
    EXPECT(c, "\"1\"", "GET b");
    EXPECT(c, "+OK", "SET c 3");
    EXPECT(c, ":0", "RENAMENX b c");
    EXPECT(c, ":0", "RENAMENX b b");
    EXPECT(c, ":1", "RENAMENX b d");
    EXPECT(c, "+OK", "RENAME d c");
    EXPECT(c, "\"1\"", "GET c");
    EXPECT(c, ":1", "DBSIZE");
    /* the TTL moves with the key; the target's TTL is replaced */
    EXPECT(c, "+OK", "SET e v EX 100");
    EXPECT(c, "+OK", "RENAME e f");
    CHECK_RANGE(hRunInt(c, "TTL f"), 99, 100);
    EXPECT(c, "+OK", "SET g v");
    EXPECT(c, "+OK", "RENAME g f");
    EXPECT(c, ":-1", "TTL f");
    EXPECT(c, "-ERR wrong number of arguments for 'rename' command", "RENAME a");
    EXPECT(c, "-ERR wrong number of arguments for 'renamenx' command", "RENAMENX a");
}

static void testExpire(void) {
    hSection("EXPIRE family");
    EXPECT(c, "+OK", "FLUSHDB");
    EXPECT(c, ":-2", "TTL nosuch");
    EXPECT(c, ":-2", "PTTL nosuch");
    EXPECT(c, ":-2", "EXPIRETIME nosuch");
    EXPECT(c, ":-2", "PEXPIRETIME nosuch");
    EXPECT(c, "+OK", "SET k v");
    EXPECT(c, ":-1", "TTL k");
    EXPECT(c, ":-1", "PTTL k");
    EXPECT(c, ":-1", "EXPIRETIME k");
    EXPECT(c, ":-1", "PEXPIRETIME k");
    EXPECT(c, ":0", "EXPIRE nosuch 10");
    EXPECT(c, ":1", "EXPIRE k 100");
    CHECK_RANGE(hRunInt(c, "TTL k"), 99, 100);
    EXPECT(c, ":1", "PEXPIRE k 200000");
    CHECK_RANGE(hRunInt(c, "PTTL k"), 199000, 200000);
    long long now = hNowMs();
    EXPECT(c, ":1", "EXPIREAT k %lld", now / 1000 + 1000);
    CHECK_INT(hRunInt(c, "EXPIRETIME k"), now / 1000 + 1000);
    CHECK_INT(hRunInt(c, "PEXPIRETIME k"), (now / 1000 + 1000) * 1000);
    EXPECT(c, ":1", "PEXPIREAT k %lld", now + 2000000);
    CHECK_INT(hRunInt(c, "PEXPIRETIME k"), now + 2000000);
    CHECK_INT(hRunInt(c, "EXPIRETIME k"), (now + 2000000 + 500) / 1000); /* rounded */
    EXPECT(c, ":1", "PERSIST k");
    EXPECT(c, ":0", "PERSIST k");
    EXPECT(c, ":0", "PERSIST nosuch");
    EXPECT(c, ":-1", "TTL k");
    /* the largest deadline */
    EXPECT(c, ":1", "PEXPIREAT k 9223372036854775807");
    EXPECT(c, ":9223372036854775807", "PEXPIRETIME k");
    EXPECT(c, ":9223372036854776", "EXPIRETIME k");
    EXPECT(c, ":1", "PERSIST k");

    /* NX XX GT LT */
    EXPECT(c, ":0", "EXPIRE k 100 XX");
    EXPECT(c, ":1", "EXPIRE k 100 NX");
    EXPECT(c, ":0", "EXPIRE k 200 NX");
    EXPECT(c, ":1", "EXPIRE k 200 XX");
    EXPECT(c, ":0", "EXPIRE k 100 GT");
    EXPECT(c, ":1", "EXPIRE k 300 GT");
    EXPECT(c, ":0", "EXPIRE k 400 LT");
    EXPECT(c, ":1", "EXPIRE k 50 LT");
    CHECK_RANGE(hRunInt(c, "TTL k"), 49, 50);
    EXPECT(c, ":1", "PERSIST k");
    EXPECT(c, ":0", "EXPIRE k 100 GT"); /* no TTL counts as infinite */
    EXPECT(c, ":1", "EXPIRE k 100 LT");
    EXPECT(c, ":1", "PEXPIRE k 500000 GT");
    EXPECT(c, ":0", "PEXPIREAT k 1 GT");
    EXPECT(c, ":0", "EXPIREAT k %lld NX", now / 1000 + 10);
    EXPECT(c, ":1", "pexpire k 600000 xx gt");
    EXPECT(c, "-ERR NX and XX, GT or LT options at the same time are not compatible", "EXPIRE k 10 NX XX");
    EXPECT(c, "-ERR NX and XX, GT or LT options at the same time are not compatible", "EXPIRE k 10 NX GT");
    EXPECT(c, "-ERR NX and XX, GT or LT options at the same time are not compatible", "PEXPIRE k 10 LT NX");
    EXPECT(c, "-ERR GT and LT options at the same time are not compatible", "EXPIRE k 10 GT LT");
    EXPECT(c, "-ERR Unsupported option FOO", "EXPIRE k 10 FOO");
    EXPECT(c, "-ERR Unsupported option 10", "EXPIRE k 10 10");
    EXPECT(c, "-ERR value is not an integer or out of range", "EXPIRE k abc");
    EXPECT(c, "-ERR value is not an integer or out of range", "EXPIRE k 1.5");
    EXPECT(c, "-ERR invalid expire time in 'expire' command", "EXPIRE k 9223372036854775807");
    EXPECT(c, "-ERR invalid expire time in 'pexpire' command", "PEXPIRE k 9223372036854775807");
    EXPECT(c, "-ERR invalid expire time in 'expireat' command", "EXPIREAT k 9223372036854775807");
    EXPECT(c, "-ERR invalid expire time in 'expire' command", "EXPIRE k -9223372036854775808");
    EXPECT(c, "-ERR wrong number of arguments for 'expire' command", "EXPIRE k");
    EXPECT(c, "-ERR wrong number of arguments for 'ttl' command", "TTL");
    EXPECT(c, ":1", "EXISTS k");

    /* a non-positive TTL deletes at once */
    EXPECT(c, ":1", "EXPIRE k 0");
    EXPECT(c, ":0", "EXISTS k");
    EXPECT(c, "+OK", "SET k v");
    EXPECT(c, ":1", "EXPIRE k -10");
    EXPECT(c, ":-2", "TTL k");
    EXPECT(c, "+OK", "SET k v");
    EXPECT(c, ":1", "PEXPIREAT k 1");
    EXPECT(c, "(nil)", "GET k");
    EXPECT(c, "+OK", "SET k v");
    EXPECT(c, ":1", "EXPIREAT k %lld", now / 1000 - 10);
    EXPECT(c, ":0", "DBSIZE");
}

static void testExpiryHappens(void) {
    hSection("lazy and active expiry");
    EXPECT(c, "+OK", "FLUSHDB");
    EXPECT(c, "+OK", "SET lazy v PX 100");
    EXPECT(c, "\"v\"", "GET lazy");
    hSleepMs(150);
    EXPECT(c, "(nil)", "GET lazy");
    EXPECT(c, ":0", "EXISTS lazy");
    EXPECT(c, ":-2", "TTL lazy");

    /* active expiry: keys nobody touches disappear from DBSIZE */
    for (int i = 0; i < 200; i++) hAppend(c, "SET vol:%d v PX 50", i);
    for (int i = 0; i < 200; i++) hNext(c);
    EXPECT(c, "+OK", "SET keeper v");
    EXPECT(c, ":201", "DBSIZE");
    long long deadline = hNowMs() + 5000;
    long long n = -1;
    while (hNowMs() < deadline) {
        n = hRunInt(c, "DBSIZE");
        if (n == 1) break;
        hSleepMs(50);
    }
    CHECK_INT(n, 1);
    EXPECT(c, "[\"keeper\"]", "KEYS *");

    /* KEYS/SCAN never return expired keys; DEBUG SET-ACTIVE-EXPIRE 0 keeps them
     * in memory but still invisible */
    EXPECT(c, "+OK", "DEBUG SET-ACTIVE-EXPIRE 0");
    EXPECT(c, "+OK", "SET gone v PX 1");
    hSleepMs(20);
    EXPECT(c, "[\"keeper\"]", "KEYS *");
    EXPECT(c, "(nil)", "GET gone");
    EXPECT(c, "+OK", "DEBUG SET-ACTIVE-EXPIRE 1");

    /* an overwrite clears the TTL; SET KEEPTTL keeps it */
    EXPECT(c, "+OK", "SET t v PX 100");
    EXPECT(c, "+OK", "SET t w");
    hSleepMs(150);
    EXPECT(c, "\"w\"", "GET t");
}

static void testTouchObject(void) {
    hSection("TOUCH OBJECT");
    EXPECT(c, "+OK", "FLUSHDB");
    EXPECT(c, "+OK", "MSET a 1 b 2");
    EXPECT(c, ":2", "TOUCH a b nosuch");
    EXPECT(c, "-ERR wrong number of arguments for 'touch' command", "TOUCH");
    EXPECT(c, "+OK", "SET i 12345");
    EXPECT(c, "+OK", "SET e %s", "short");
    EXPECT(c, "+OK", "SET r %s", "a string longer than forty four bytes, so it is raw");
    EXPECT(c, "\"int\"", "OBJECT ENCODING i");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING e");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING r");
    EXPECT(c, "(nil)", "OBJECT ENCODING nosuch");
    /* values changed in place are raw; a fresh SET is embstr again */
    EXPECT(c, ":5", "SETRANGE sr 2 abc");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING sr");
    EXPECT(c, ":5", "SETRANGE e 0 xyz");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING e");
    EXPECT(c, ":1", "APPEND ap x");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING ap"); /* APPEND to nothing is a SET */
    EXPECT(c, ":2", "APPEND ap y");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING ap");
    EXPECT(c, "+OK", "SET ap abc");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING ap");
    EXPECT(c, "+OK", "MSET ap bffdddff");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING ap");
    EXPECT(c, ":0", "SETBIT sb 3 1");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING sb");
    EXPECT(c, ":1", "BITOP NOT bn sb");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING bn");
    EXPECT(c, "\"1.5\"", "INCRBYFLOAT fl 1.5");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING fl");
    EXPECT(c, ":11", "INCRBY in 11");
    EXPECT(c, "\"int\"", "OBJECT ENCODING in");
    EXPECT(c, "+OK", "SET in 007");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING in");
    EXPECT(c, "+OK", "SET in -9223372036854775808");
    EXPECT(c, "\"int\"", "OBJECT ENCODING in");
    EXPECT(c, "+OK", "SET in 123456789012345678901");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING in");
    EXPECT(c, "+OK", "SET in 12345678901234567890123456789012345678901234");
    EXPECT(c, "\"embstr\"", "OBJECT ENCODING in");
    EXPECT(c, "+OK", "SET in 123456789012345678901234567890123456789012345");
    EXPECT(c, "\"raw\"", "OBJECT ENCODING in");
    EXPECT(c, ":0", "OBJECT IDLETIME a");
    EXPECT(c, "(nil)", "OBJECT IDLETIME nosuch");
    EXPECT_GLOB(c, ":*", "OBJECT REFCOUNT a");
    EXPECT(c, "(nil)", "OBJECT REFCOUNT nosuch");
    EXPECT(c, "-ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when "
              "switching between policies at runtime LRU and LFU data will take some time to adjust.",
           "OBJECT FREQ a");
    EXPECT_GLOB(c, "[+OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:,+ENCODING <key>,*,+HELP,+    Prints this help.]", "OBJECT HELP");
    EXPECT(c, "-ERR unknown subcommand 'FOO'. Try OBJECT HELP.", "OBJECT FOO a");
    EXPECT(c, "-ERR wrong number of arguments for 'object|encoding' command", "OBJECT ENCODING");
    EXPECT(c, "-ERR wrong number of arguments for 'object' command", "OBJECT");
}

static void testDatabases(void) {
    hSection("SELECT SWAPDB MOVE COPY FLUSHDB FLUSHALL");
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "+OK", "SET k db0");
    EXPECT(c, "+OK", "SELECT 1");
    EXPECT(c, "(nil)", "GET k");
    EXPECT(c, "+OK", "SET k db1");
    EXPECT(c, ":1", "DBSIZE");
    EXPECT(c, "+OK", "SELECT 0");
    EXPECT(c, "\"db0\"", "GET k");
    EXPECT(c, "-ERR DB index is out of range", "SELECT 16");
    EXPECT(c, "-ERR DB index is out of range", "SELECT -1");
    EXPECT(c, "-ERR value is not an integer or out of range", "SELECT x");
    EXPECT(c, "+OK", "SELECT 15");
    EXPECT(c, "+OK", "SELECT 0");

    EXPECT(c, "+OK", "SWAPDB 0 1");
    EXPECT(c, "\"db1\"", "GET k");
    EXPECT(c, "+OK", "SWAPDB 1 0");
    EXPECT(c, "\"db0\"", "GET k");
    EXPECT(c, "+OK", "SWAPDB 0 0");
    EXPECT(c, "-ERR invalid first DB index", "SWAPDB x 1");
    EXPECT(c, "-ERR invalid second DB index", "SWAPDB 1 x");
    EXPECT(c, "-ERR DB index is out of range", "SWAPDB 0 16");
    EXPECT(c, "-ERR DB index is out of range", "SWAPDB -1 0");

    EXPECT(c, ":0", "MOVE k 1"); /* exists in the target */
    EXPECT(c, "+OK", "SET m v EX 100");
    EXPECT(c, ":1", "MOVE m 2");
    EXPECT(c, ":0", "EXISTS m");
    EXPECT(c, ":0", "MOVE m 2");
    EXPECT(c, "-ERR source and destination objects are the same", "MOVE k 0");
    EXPECT(c, "-ERR DB index is out of range", "MOVE k 16");
    EXPECT(c, "-ERR value is not an integer or out of range", "MOVE k x");
    EXPECT(c, "+OK", "SELECT 2");
    EXPECT(c, "\"v\"", "GET m");
    CHECK_RANGE(hRunInt(c, "TTL m"), 99, 100);
    EXPECT(c, "+OK", "SELECT 0");

    EXPECT(c, ":1", "COPY k k2");
    EXPECT(c, "\"db0\"", "GET k2");
    EXPECT(c, ":0", "COPY k k2");
    EXPECT(c, "+OK", "SET k changed");
    EXPECT(c, ":1", "COPY k k2 REPLACE");
    EXPECT(c, "\"changed\"", "GET k2");
    EXPECT(c, ":0", "COPY nosuch k3");
    EXPECT(c, ":1", "COPY k k DB 3");
    EXPECT(c, ":0", "COPY k k DB 3");
    EXPECT(c, ":1", "COPY k k DB 3 REPLACE");
    EXPECT(c, "+OK", "SET te v EX 100");
    EXPECT(c, ":1", "COPY te te2");
    CHECK_RANGE(hRunInt(c, "TTL te2"), 99, 100);
    EXPECT(c, "-ERR source and destination objects are the same", "COPY k k");
    EXPECT(c, "-ERR source and destination objects are the same", "COPY k k DB 0");
    EXPECT(c, "-ERR syntax error", "COPY k k4 FOO");
    EXPECT(c, "-ERR syntax error", "COPY k k4 DB");
    EXPECT(c, "-ERR value is not an integer or out of range", "COPY k k4 DB x");
    EXPECT(c, "-ERR DB index is out of range", "COPY k k4 DB 16");
    EXPECT(c, "+OK", "SELECT 3");
    EXPECT(c, "\"changed\"", "GET k");
    EXPECT(c, "+OK", "FLUSHDB");
    EXPECT(c, ":0", "DBSIZE");
    EXPECT(c, "+OK", "SELECT 1");
    EXPECT(c, ":1", "DBSIZE");
    EXPECT(c, "+OK", "FLUSHDB ASYNC");
    EXPECT(c, "+OK", "FLUSHDB SYNC");
    EXPECT(c, "-ERR syntax error", "FLUSHDB FOO");
    EXPECT(c, "+OK", "SELECT 0");
    EXPECT(c, "+OK", "FLUSHALL SYNC");
    EXPECT(c, "+OK", "FLUSHALL ASYNC");
    EXPECT(c, "-ERR syntax error", "FLUSHALL FOO");
    EXPECT(c, ":0", "DBSIZE");
    EXPECT(c, "+OK", "SELECT 2");
    EXPECT(c, ":0", "DBSIZE");
    EXPECT(c, "+OK", "SELECT 0");
}

int main(void) {
    hInit(60);
    hserver *s = hStartServer(NULL);
    c = hConnect(s);
    testBasics();
    testKeysScan();
    testRename();
    testExpire();
    testExpiryHappens();
    testTouchObject();
    testDatabases();
    redisFree(c);
    STOP_SERVER(s);
    return hDone();
}
