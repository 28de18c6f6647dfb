/* test_multi.c - MULTI EXEC DISCARD WATCH UNWATCH: queueing, errors at queue
 * time (EXECABORT) and at run time (in the EXEC array), optimistic locking
 * against other clients, FLUSHALL, SWAPDB and the client's own writes. */
#include "harness.h"

static hserver *srv;

static void testBasics(redisContext *c) {
    hSection("MULTI EXEC DISCARD");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SET a 1");
    EXPECT(c, "+QUEUED", "INCR a");
    EXPECT(c, "+QUEUED", "GET a");
    EXPECT(c, "+QUEUED", "INCR nosuchkey-m");
    EXPECT(c, "[+OK,:2,\"2\",:1]", "EXEC");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "[]", "EXEC");
    EXPECT(c, "-ERR EXEC without MULTI", "EXEC");
    EXPECT(c, "-ERR DISCARD without MULTI", "DISCARD");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "-ERR MULTI calls can not be nested", "MULTI");
    EXPECT(c, "+QUEUED", "SET a 5");
    EXPECT(c, "+OK", "DISCARD");
    EXPECT(c, "\"2\"", "GET a");
    /* runtime errors are returned in place, the rest runs */
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SET s abc");
    EXPECT(c, "+QUEUED", "INCR s");
    EXPECT(c, "+QUEUED", "SET t 1");
    EXPECT(c, "+QUEUED", "SELECT 100");
    EXPECT(c, "[+OK,-ERR value is not an integer or out of range,+OK,-ERR DB index is out of range]", "EXEC");
    EXPECT(c, "\"1\"", "GET t");
    /* errors at queue time abort the whole transaction */
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SET t 2");
    EXPECT(c, "-ERR unknown command 'NOSUCH', with args beginning with: 'x' ", "NOSUCH x");
    EXPECT(c, "-ERR wrong number of arguments for 'get' command", "GET");
    EXPECT(c, "-EXECABORT Transaction discarded because of previous errors.", "EXEC");
    EXPECT(c, "\"1\"", "GET t");
    EXPECT(c, "-ERR EXEC without MULTI", "EXEC");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "-ERR WATCH inside MULTI is not allowed", "WATCH t");
    EXPECT(c, "+QUEUED", "SET t 3");
    EXPECT(c, "[+OK]", "EXEC");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SET t 4");
    EXPECT(c, "-EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command", "EXEC x");
    EXPECT(c, "-ERR DISCARD without MULTI", "DISCARD");
    EXPECT(c, "\"3\"", "GET t");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "-ERR wrong number of arguments for 'discard' command", "DISCARD x");
    EXPECT(c, "+OK", "DISCARD");
    EXPECT(c, "-ERR wrong number of arguments for 'multi' command", "MULTI x");
    /* SELECT inside MULTI changes the db for the rest of the transaction */
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SELECT 1");
    EXPECT(c, "+QUEUED", "SET indb1 x");
    EXPECT(c, "[+OK,+OK]", "EXEC");
    EXPECT(c, "\"x\"", "GET indb1");
    EXPECT(c, "+OK", "SELECT 0");
    EXPECT(c, "(nil)", "GET indb1");
    /* the transaction is atomic: another client sees all or nothing */
    redisContext *o = hConnect(srv);
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SET x1 1");
    EXPECT(o, "(nil)", "GET x1");
    EXPECT(c, "+QUEUED", "SET x2 2");
    EXPECT(c, "[+OK,+OK]", "EXEC");
    EXPECT(o, "[\"1\",\"2\"]", "MGET x1 x2");
    redisFree(o);
}

static void testWatch(redisContext *c) {
    hSection("WATCH UNWATCH");
    redisContext *o = hConnect(srv);
    EXPECT(c, "+OK", "SET w 1");
    /* untouched: EXEC runs */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "INCR w");
    EXPECT(c, "[:2]", "EXEC");
    /* touched by another client: EXEC returns nil */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "SET w 10");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "INCR w");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(c, "\"10\"", "GET w");
    /* EXEC unwatches */
    EXPECT(o, "+OK", "SET w 11");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "INCR w");
    EXPECT(c, "[:12]", "EXEC");
    /* touched between MULTI and EXEC */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "INCR w");
    EXPECT(o, ":13", "INCR w");
    EXPECT(c, "(nil)", "EXEC");
    /* a missing key that gets created */
    EXPECT(c, "+OK", "WATCH newkey");
    EXPECT(o, "+OK", "SET newkey 1");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "GET newkey");
    EXPECT(c, "(nil)", "EXEC");
    /* a deleted key */
    EXPECT(c, "+OK", "WATCH newkey");
    EXPECT(o, ":1", "DEL newkey");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    /* deleting a missing key touches nothing */
    EXPECT(c, "+OK", "WATCH newkey");
    EXPECT(o, ":0", "DEL newkey");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "[]", "EXEC");
    /* UNWATCH and DISCARD forget the watch */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(c, "+OK", "UNWATCH");
    EXPECT(o, "+OK", "SET w 20");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "GET w");
    EXPECT(c, "[\"20\"]", "EXEC");
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+OK", "DISCARD");
    EXPECT(o, "+OK", "SET w 21");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "GET w");
    EXPECT(c, "[\"21\"]", "EXEC");
    /* the watching client's own write counts too */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(c, "+OK", "SET w 22");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "GET w");
    EXPECT(c, "(nil)", "EXEC");
    /* a write that leaves the value equal still counts */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "SET w 22");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    /* reads do not count */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "\"22\"", "GET w");
    EXPECT(o, ":1", "EXISTS w");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "[]", "EXEC");
    /* expire, persist, rename, flushdb, flushall, swapdb */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, ":1", "EXPIRE w 100");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "RENAME w w2");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(c, "+OK", "WATCH w2");
    EXPECT(o, "+OK", "FLUSHALL");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(c, "+OK", "SET w 1");
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "FLUSHDB");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(c, "+OK", "SET w 1");
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "SELECT 1");
    EXPECT(o, "+OK", "FLUSHDB"); /* another db: nothing watched there */
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "[]", "EXEC");
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "SWAPDB 0 1");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(o, "+OK", "SWAPDB 0 1");
    EXPECT(o, "+OK", "SELECT 0");
    /* a key in another db with the same name is another key */
    EXPECT(c, "+OK", "WATCH w");
    EXPECT(o, "+OK", "SELECT 2");
    EXPECT(o, "+OK", "SET w other");
    EXPECT(o, "+OK", "SELECT 0");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "[]", "EXEC");
    /* several keys, one touched */
    EXPECT(c, "+OK", "WATCH a b w");
    EXPECT(c, "+OK", "WATCH c");
    EXPECT(o, "+OK", "SET c 1");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "(nil)", "EXEC");
    EXPECT(c, "-ERR wrong number of arguments for 'watch' command", "WATCH");
    EXPECT(c, "-ERR wrong number of arguments for 'unwatch' command", "UNWATCH x");
    EXPECT(c, "+OK", "UNWATCH");
    redisFree(o);
}

static void testExpiredWatch(redisContext *c) {
    hSection("WATCH and expiry");
    redisContext *o = hConnect(srv);
    EXPECT(c, "+OK", "SET e v PX 50");
    EXPECT(c, "+OK", "WATCH e");
    hSleepMs(120);
    EXPECT(o, "(nil)", "GET e"); /* expires it */
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "GET e");
    EXPECT(c, "(nil)", "EXEC");
    redisFree(o);
}

int main(void) {
    hInit(60);
    srv = hStartServer(NULL);
    redisContext *c = hConnect(srv);
    testBasics(c);
    testWatch(c);
    testExpiredWatch(c);
    redisFree(c);
    STOP_SERVER(srv);
    return hDone();
}
