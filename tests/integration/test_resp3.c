/* test_resp3.c - RESP3 after HELLO 3, byte-exact: the HELLO map, null "_",
 * maps from CONFIG GET and LCS IDX, verbatim strings from INFO and CLIENT
 * INFO, the types of DEBUG PROTOCOL (double, bignum, booleans, set,
 * attribute, push), and the way back to RESP2 with HELLO 2 and RESET. */
#include "harness.h"

static hserver *srv;

static void testHello(hraw *r) {
    hSection("HELLO 3");
    RAW_EXPECT_GLOB(r, "HELLO 3\r\n",
                    "%7\\r\\n$6\\r\\nserver\\r\\n$5\\r\\nredis\\r\\n$7\\r\\nversion\\r\\n$6\\r\\n7.0.15\\r\\n$5\\r\\nproto\\r\\n:3\\r\\n"
                    "$2\\r\\nid\\r\\n:*\\r\\n$4\\r\\nmode\\r\\n$10\\r\\nstandalone\\r\\n$4\\r\\nrole\\r\\n$6\\r\\nmaster\\r\\n"
                    "$7\\r\\nmodules\\r\\n*0\\r\\n");
    /* HELLO again (any version) answers in the version asked for */
    RAW_EXPECT_GLOB(r, "HELLO 3 SETNAME r3\r\n", "%7\\r\\n$6\\r\\nserver*:3\\r\\n*");
    RAW_EXPECT(r, "CLIENT GETNAME\r\n", "$2\r\nr3\r\n");
    RAW_EXPECT(r, "HELLO 4\r\n", "-NOPROTO unsupported protocol version\r\n");
}

static void testTypes(hraw *r) {
    hSection("RESP3 replies");
    RAW_EXPECT(r, "GET nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "SET k v\r\n", "+OK\r\n");
    RAW_EXPECT(r, "SET k v NX\r\n", "_\r\n");
    RAW_EXPECT(r, "SET k w GET\r\n", "$1\r\nv\r\n");
    RAW_EXPECT(r, "MGET k nosuch\r\n", "*2\r\n$1\r\nw\r\n_\r\n");
    RAW_EXPECT(r, "GETDEL nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "GETEX nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "INCR n\r\n", ":1\r\n");
    RAW_EXPECT(r, "INCRBYFLOAT f 1.5\r\n", "$3\r\n1.5\r\n"); /* still a bulk string in 7.0 */
    RAW_EXPECT(r, "TTL k\r\n", ":-1\r\n");
    RAW_EXPECT(r, "OBJECT ENCODING nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "CLIENT GETNAME\r\n", "$2\r\nr3\r\n");
    RAW_EXPECT(r, "ECHO x\r\n", "$1\r\nx\r\n");
    RAW_EXPECT(r, "PING\r\n", "+PONG\r\n");
    RAW_EXPECT(r, "NOSUCH\r\n", "-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    RAW_EXPECT(r, "EXISTS k n f\r\n", ":3\r\n");
    RAW_EXPECT(r, "BITFIELD bf OVERFLOW FAIL INCRBY u2 0 5\r\n", "*1\r\n_\r\n");
    RAW_EXPECT(r, "COMMAND INFO nosuch\r\n", "*1\r\n_\r\n");
    RAW_EXPECT(r, "CONFIG GET maxclients\r\n", "%1\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    RAW_EXPECT(r, "CONFIG GET nosuch\r\n", "%0\r\n");
    RAW_EXPECT(r, "MSET key1 ohmytext key2 mynewtext\r\n", "+OK\r\n");
    RAW_EXPECT(r, "LCS key1 key2 IDX MINMATCHLEN 4 WITHMATCHLEN\r\n",
               "%2\r\n$7\r\nmatches\r\n*1\r\n*3\r\n*2\r\n:4\r\n:7\r\n*2\r\n:5\r\n:8\r\n:4\r\n$3\r\nlen\r\n:6\r\n");
    RAW_EXPECT(r, "CLIENT TRACKINGINFO\r\n",
               "%3\r\n$5\r\nflags\r\n~1\r\n$3\r\noff\r\n$8\r\nredirect\r\n:-1\r\n$8\r\nprefixes\r\n*0\r\n");
    RAW_EXPECT(r, "PUBSUB NUMSUB a\r\n", "*2\r\n$1\r\na\r\n:0\r\n");
    RAW_EXPECT(r, "SLOWLOG GET 0\r\n", "*0\r\n");
    RAW_EXPECT(r, "SCAN 0 MATCH nomatch*\r\n", "*2\r\n$1\r\n0\r\n*0\r\n");
    RAW_EXPECT(r, "FLUSHALL\r\n", "+OK\r\n");
    RAW_EXPECT(r, "INFO keyspace\r\n", "=16\r\ntxt:# Keyspace\r\n\r\n");
    RAW_EXPECT(r, "SET k v\r\n", "+OK\r\n");
    RAW_EXPECT(r, "INFO keyspace\r\n", "=48\r\ntxt:# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n");
    RAW_EXPECT_GLOB(r, "INFO server\r\n", "=*\\r\\ntxt:# Server\\r\\nredis_version:7.0.15\\r\\n*\\r\\n\\r\\n");
    RAW_EXPECT_GLOB(r, "CLIENT INFO\r\n", "=*\\r\\ntxt:id=* name=r3 * cmd=client|info user=default redir=-1 resp=3\\n\\r\\n");
    RAW_EXPECT_GLOB(r, "CLIENT LIST\r\n", "=*\\r\\ntxt:id=* resp=3\\n\\r\\n");
    /* transactions */
    RAW_EXPECT(r, "MULTI\r\nGET k\r\nGET nosuch\r\nEXEC\r\n", "+OK\r\n");
    RAW_EXPECT(r, NULL, "+QUEUED\r\n");
    RAW_EXPECT(r, NULL, "+QUEUED\r\n");
    RAW_EXPECT(r, NULL, "*2\r\n$1\r\nv\r\n_\r\n");
    {
        hraw *other = hRawConnect(srv);
        RAW_EXPECT(r, "WATCH k\r\n", "+OK\r\n");
        RAW_EXPECT(other, "SET k changed\r\n", "+OK\r\n");
        RAW_EXPECT(r, "MULTI\r\nEXEC\r\n", "+OK\r\n");
        RAW_EXPECT(r, NULL, "_\r\n"); /* an aborted EXEC is null */
        RAW_EXPECT(other, "WATCH k\r\nSET k again\r\nMULTI\r\nEXEC\r\n", "+OK\r\n");
        RAW_EXPECT(other, NULL, "+OK\r\n");
        RAW_EXPECT(other, NULL, "+OK\r\n");
        RAW_EXPECT(other, NULL, "*-1\r\n"); /* the same in RESP2 */
        hRawClose(other);
    }
}

static void testDebugProtocol(hraw *r) {
    hSection("DEBUG PROTOCOL (every RESP3 type)");
    RAW_EXPECT(r, "DEBUG PROTOCOL string\r\n", "$11\r\nHello World\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL integer\r\n", ":12345\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL double\r\n", ",3.141\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL bignum\r\n", "(1234567999999999999999999999999999999\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL null\r\n", "_\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL true\r\n", "#t\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL false\r\n", "#f\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL array\r\n", "*3\r\n:0\r\n:1\r\n:2\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL set\r\n", "~3\r\n:0\r\n:1\r\n:2\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL map\r\n", "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL verbatim\r\n", "=29\r\ntxt:This is a verbatim\nstring\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL attrib\r\n",
               "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the "
               "attribute\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL push\r\n", ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n");
    RAW_EXPECT(r, NULL, "$40\r\nSome real reply following the push reply\r\n");
    /* the same in RESP2 */
    RAW_EXPECT_GLOB(r, "HELLO 2\r\n", "*14*");
    RAW_EXPECT(r, "DEBUG PROTOCOL double\r\n", "$5\r\n3.141\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL true\r\n", ":1\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL null\r\n", "$-1\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL map\r\n", "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n");
    RAW_EXPECT(r, "DEBUG PROTOCOL set\r\n", "*3\r\n:0\r\n:1\r\n:2\r\n");
}

static void testBackToResp2(hraw *r) {
    hSection("HELLO 2 and RESET leave RESP3");
    RAW_EXPECT_GLOB(r, "HELLO 2\r\n", "*14\\r\\n$6\\r\\nserver*$5\\r\\nproto\\r\\n:2\\r\\n*");
    RAW_EXPECT(r, "GET nosuch\r\n", "$-1\r\n");
    RAW_EXPECT(r, "CONFIG GET maxclients\r\n", "*2\r\n$10\r\nmaxclients\r\n$5\r\n10000\r\n");
    RAW_EXPECT(r, "INFO keyspace\r\n", "$44\r\n# Keyspace\r\ndb0:keys=1,expires=0,avg_ttl=0\r\n\r\n");
    RAW_EXPECT_GLOB(r, "HELLO 3\r\n", "%7*");
    RAW_EXPECT(r, "GET nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "RESET\r\n", "+RESET\r\n");
    RAW_EXPECT(r, "GET nosuch\r\n", "$-1\r\n");
    /* HELLO with no version keeps the current protocol */
    RAW_EXPECT_GLOB(r, "HELLO\r\n", "*14\\r\\n*:2\\r\\n*");
}

static void testNotificationsPush(void) {
    hSection("RESP3 keyspace notifications");
    hraw *r = hRawConnect(srv);
    redisContext *c = hConnect(srv);
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events E$");
    hRawSendStr(r, "HELLO 3\r\n");
    CHECK(hRawReply(r, 5000, NULL) != NULL);
    RAW_EXPECT(r, "SUBSCRIBE __keyevent@0__:set\r\n",
               ">3\r\n$9\r\nsubscribe\r\n$18\r\n__keyevent@0__:set\r\n:1\r\n");
    EXPECT(c, "+OK", "SET pushed 1");
    RAW_EXPECT(r, NULL, ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$6\r\npushed\r\n");
    /* the subscriber's own write: the push comes before the reply */
    RAW_EXPECT(r, "SET mine 1\r\n", ">3\r\n$7\r\nmessage\r\n$18\r\n__keyevent@0__:set\r\n$4\r\nmine\r\n");
    RAW_EXPECT(r, NULL, "+OK\r\n");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events %s", "");
    hRawClose(r);
    redisFree(c);
}

int main(void) {
    hInit(60);
    srv = hStartServer(NULL);
    hraw *r = hRawConnect(srv);
    testHello(r);
    testTypes(r);
    testBackToResp2(r);
    hRawClose(r);
    testNotificationsPush();
    /* last: lattice has no DEBUG PROTOCOL yet */
    r = hRawConnect(srv);
    hRawSendStr(r, "HELLO 3\r\n");
    CHECK(hRawReply(r, 5000, NULL) != NULL);
    testDebugProtocol(r);
    hRawClose(r);
    STOP_SERVER(srv);
    return hDone();
}
