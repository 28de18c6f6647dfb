/* test_bitmaps.c - bitmap commands through hiredis: SETBIT GETBIT BITCOUNT
 * BITPOS BITOP BITFIELD BITFIELD_RO, exact replies and Redis 7.0 errors. */
#include "harness.h"

static redisContext *c;

static void testSetGetBit(void) {
    hSection("SETBIT GETBIT");
    EXPECT(c, ":0", "SETBIT b 7 1");
    EXPECT(c, "\"\\x01\"", "GET b");
    EXPECT(c, ":1", "SETBIT b 7 0");
    EXPECT(c, "\"\\x00\"", "GET b");
    EXPECT(c, ":0", "SETBIT b 0 1");
    EXPECT(c, ":0", "SETBIT b 17 1");
    EXPECT(c, "\"\\x80\\x00@\"", "GET b");
    EXPECT(c, ":1", "GETBIT b 0");
    EXPECT(c, ":0", "GETBIT b 1");
    EXPECT(c, ":1", "GETBIT b 17");
    EXPECT(c, ":0", "GETBIT b 1000000");
    EXPECT(c, ":0", "GETBIT nosuch 5");
    EXPECT(c, "-ERR bit is not an integer or out of range", "SETBIT b 1 2");
    EXPECT(c, "-ERR bit is not an integer or out of range", "SETBIT b 1 -1");
    EXPECT(c, "-ERR bit is not an integer or out of range", "SETBIT b 1 x");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "SETBIT b -1 1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "SETBIT b 4294967296 1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "SETBIT b x 1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "GETBIT b -1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "GETBIT b 4294967296");
    EXPECT(c, ":0", "GETBIT b 4294967295");
    EXPECT(c, "-ERR wrong number of arguments for 'setbit' command", "SETBIT b 1");
    EXPECT(c, "-ERR wrong number of arguments for 'getbit' command", "GETBIT b");
    EXPECT(c, "+OK", "SET s a");
    EXPECT(c, ":1", "GETBIT s 1");
    EXPECT(c, ":0", "SETBIT s 6 1");
    EXPECT(c, "\"c\"", "GET s");
    EXPECT(c, "+OK", "SET num 12");
    EXPECT(c, ":0", "SETBIT num 15 1");
    EXPECT(c, "\"13\"", "GET num");
    EXPECT(c, ":14", "INCR num");
}

static void testBitcount(void) {
    hSection("BITCOUNT");
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "+OK", "SET mykey foobar");
    EXPECT(c, ":26", "BITCOUNT mykey");
    EXPECT(c, ":4", "BITCOUNT mykey 0 0");
    EXPECT(c, ":6", "BITCOUNT mykey 1 1");
    EXPECT(c, ":6", "BITCOUNT mykey 1 1 BYTE");
    EXPECT(c, ":17", "BITCOUNT mykey 5 30 BIT");
    EXPECT(c, ":26", "BITCOUNT mykey 0 -1");
    EXPECT(c, ":26", "BITCOUNT mykey -100 100");
    EXPECT(c, ":0", "BITCOUNT mykey 3 2");
    EXPECT(c, ":4", "BITCOUNT mykey -1 -1");
    EXPECT(c, ":0", "BITCOUNT mykey -1 -1 BIT");
    EXPECT(c, ":1", "BITCOUNT mykey -2 -2 BIT");
    EXPECT(c, ":0", "BITCOUNT mykey 100 200");
    EXPECT(c, ":0", "BITCOUNT nosuch");
    EXPECT(c, ":0", "BITCOUNT nosuch 0 1");
    EXPECT(c, "-ERR syntax error", "BITCOUNT mykey 0");
    EXPECT(c, "-ERR syntax error", "BITCOUNT mykey 0 1 FOO");
    EXPECT(c, "-ERR syntax error", "BITCOUNT mykey 0 1 BIT extra");
    EXPECT(c, "-ERR value is not an integer or out of range", "BITCOUNT mykey a b");
    EXPECT(c, "-ERR wrong number of arguments for 'bitcount' command", "BITCOUNT");
}

static void testBitpos(void) {
    hSection("BITPOS");
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT_ARGS(c, "+OK", "SET", "mykey", "\xff\xf0");
    {
        const char *argv[] = {"SET", "z", "\x00\xff\xf0"};
        size_t lens[] = {3, 1, 3};
        redisReply *r = redisCommandArgv(c, 3, argv, lens);
        CHECK_STR(hRender(r), "+OK");
        freeReplyObject(r);
    }
    EXPECT(c, ":12", "BITPOS mykey 0");
    EXPECT(c, ":0", "BITPOS mykey 1");
    EXPECT(c, ":8", "BITPOS z 1");
    EXPECT(c, ":16", "BITPOS z 1 2");
    EXPECT(c, ":16", "BITPOS z 1 2 -1 BYTE");
    EXPECT(c, ":-1", "BITPOS z 1 0 0 BYTE");
    EXPECT(c, ":0", "BITPOS z 0");
    EXPECT(c, ":12", "BITPOS mykey 0 1");
    EXPECT(c, ":-1", "BITPOS mykey 0 0 0");
    EXPECT(c, ":12", "BITPOS mykey 0 0 -1");
    EXPECT(c, ":7", "BITPOS mykey 1 7 15 BIT");
    EXPECT(c, ":12", "BITPOS mykey 0 7 15 BIT");
    EXPECT(c, ":-1", "BITPOS mykey 0 0 11 BIT");
    EXPECT(c, "+OK", "SET ones %s", "\xff\xff\xff");
    EXPECT(c, ":24", "BITPOS ones 0");
    EXPECT(c, ":-1", "BITPOS ones 0 0 -1");
    EXPECT(c, ":-1", "BITPOS ones 0 0 2");
    EXPECT(c, ":0", "BITPOS nosuch 0");
    EXPECT(c, ":-1", "BITPOS nosuch 1");
    EXPECT(c, "-ERR The bit argument must be 1 or 0.", "BITPOS mykey 2");
    EXPECT(c, "-ERR value is not an integer or out of range", "BITPOS mykey x");
    EXPECT(c, "-ERR syntax error", "BITPOS mykey 1 0 1 FOO");
    EXPECT(c, "-ERR syntax error", "BITPOS mykey 1 0 1 BIT x");
    EXPECT(c, "-ERR value is not an integer or out of range", "BITPOS mykey 1 a");
    EXPECT(c, "-ERR wrong number of arguments for 'bitpos' command", "BITPOS mykey");
}

static void testBitop(void) {
    hSection("BITOP");
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "+OK", "SET key1 foobar");
    EXPECT(c, "+OK", "SET key2 abcdef");
    EXPECT(c, ":6", "BITOP AND dest key1 key2");
    EXPECT(c, "\"`bc`ab\"", "GET dest");
    EXPECT(c, ":6", "BITOP OR dest key1 key2");
    EXPECT(c, "\"goofev\"", "GET dest");
    EXPECT(c, ":6", "BITOP XOR dest key1 key2");
    EXPECT(c, "\"\\x07\\r\\x0c\\x06\\x04\\x14\"", "GET dest");
    EXPECT(c, ":6", "BITOP NOT dest key1");
    EXPECT(c, "\"\\x99\\x90\\x90\\x9d\\x9e\\x8d\"", "GET dest");
    EXPECT(c, "+OK", "SET short ab");
    EXPECT(c, ":6", "BITOP AND dest key1 short");
    EXPECT(c, "\"`b\\x00\\x00\\x00\\x00\"", "GET dest");
    EXPECT(c, ":6", "BITOP OR dest short nosuch key1");
    EXPECT(c, ":0", "BITOP AND dest nosuch nosuch2");
    EXPECT(c, ":0", "EXISTS dest");
    EXPECT(c, ":6", "bitop xor dest key1");
    EXPECT(c, "\"foobar\"", "GET dest");
    EXPECT(c, "-ERR BITOP NOT must be called with a single source key.", "BITOP NOT dest key1 key2");
    EXPECT(c, "-ERR syntax error", "BITOP NAND dest key1");
    EXPECT(c, "-ERR wrong number of arguments for 'bitop' command", "BITOP AND dest");
}

static void testBitfield(void) {
    hSection("BITFIELD BITFIELD_RO");
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "[:1,:0]", "BITFIELD mykey INCRBY i5 100 1 GET u4 0");
    EXPECT(c, "[:0,:100]", "BITFIELD bf SET i8 0 100 GET i8 0");
    EXPECT(c, "[:100]", "BITFIELD bf GET i8 0");
    EXPECT(c, "[:100,:-56]", "BITFIELD bf SET u8 0 200 GET i8 0");
    EXPECT(c, "[:200]", "BITFIELD bf GET u8 #0");
    EXPECT(c, "[:0,:255]", "BITFIELD bf SET u8 #1 255 GET u8 8");
    EXPECT(c, "[]", "BITFIELD bf");
    /* overflow policies */
    EXPECT(c, ":0", "DEL ov");
    EXPECT(c, "[:0]", "BITFIELD ov SET u2 0 3");
    EXPECT(c, "[:0]", "BITFIELD ov INCRBY u2 0 1");
    EXPECT(c, "[:3]", "BITFIELD ov OVERFLOW SAT INCRBY u2 0 5");
    EXPECT(c, "[(nil)]", "BITFIELD ov OVERFLOW FAIL INCRBY u2 0 1");
    EXPECT(c, "[:0]", "BITFIELD ov OVERFLOW WRAP INCRBY u2 0 1");
    EXPECT(c, "[:127]", "BITFIELD ov2 OVERFLOW SAT INCRBY i8 0 200");
    EXPECT(c, "[:-128]", "BITFIELD ov2 OVERFLOW SAT INCRBY i8 0 -300");
    EXPECT(c, "[(nil),:-128]", "BITFIELD ov2 OVERFLOW FAIL INCRBY i8 0 -1 GET i8 0");
    EXPECT(c, "[:127]", "BITFIELD ov2 INCRBY i8 0 -1");
    EXPECT(c, "[:0,:-9223372036854775808]", "BITFIELD ov3 SET i64 0 -9223372036854775808 GET i64 0");
    EXPECT(c, "[:2147483648,:4294967295]", "BITFIELD ov3 SET u32 0 4294967295 GET u32 0");
    EXPECT(c, "[:9223372034707292160,:9223372036854775807]", "BITFIELD ov3 SET u63 0 9223372036854775807 GET u63 0");
    /* errors */
    EXPECT(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
           "BITFIELD bf GET u64 0");
    EXPECT(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
           "BITFIELD bf GET i65 0");
    EXPECT(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
           "BITFIELD bf GET x8 0");
    EXPECT(c, "-ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is.",
           "BITFIELD bf GET i0 0");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "BITFIELD bf GET u8 -1");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "BITFIELD bf GET u8 x");
    EXPECT(c, "-ERR bit offset is not an integer or out of range", "BITFIELD bf GET u8 4294967296");
    EXPECT(c, "-ERR value is not an integer or out of range", "BITFIELD bf SET u8 0 x");
    EXPECT(c, "-ERR value is not an integer or out of range", "BITFIELD bf INCRBY u8 0 x");
    EXPECT(c, "-ERR Invalid OVERFLOW type specified", "BITFIELD bf OVERFLOW FOO GET u8 0");
    EXPECT(c, "-ERR syntax error", "BITFIELD bf GET u8");
    EXPECT(c, "-ERR syntax error", "BITFIELD bf FOO");
    EXPECT(c, "-ERR syntax error", "BITFIELD bf SET u8 0");
    EXPECT(c, "-ERR wrong number of arguments for 'bitfield' command", "BITFIELD");

    EXPECT(c, "[:200,:255]", "BITFIELD_RO bf GET u8 0 GET u8 8");
    EXPECT(c, "[]", "BITFIELD_RO bf");
    EXPECT(c, "[:0]", "BITFIELD_RO nosuch GET i16 100");
    EXPECT(c, "-ERR BITFIELD_RO only supports the GET subcommand", "BITFIELD_RO bf SET u8 0 1");
    EXPECT(c, "-ERR BITFIELD_RO only supports the GET subcommand", "BITFIELD_RO bf INCRBY u8 0 1");
    EXPECT(c, "[:200]", "BITFIELD_RO bf OVERFLOW SAT GET u8 0");
    EXPECT(c, ":0", "EXISTS nosuch");
}

int main(void) {
    hInit(60);
    hserver *s = hStartServer(NULL);
    c = hConnect(s);
    testSetGetBit();
    testBitcount();
    testBitpos();
    testBitop();
    testBitfield();
    redisFree(c);
    STOP_SERVER(s);
    return hDone();
}
