/* test_pubsub.c - PUBLISH SUBSCRIBE PSUBSCRIBE UNSUBSCRIBE PUNSUBSCRIBE, PUBSUB
 * CHANNELS|NUMSUB|NUMPAT, the subscribed context in RESP2 and RESP3 (push
 * messages), and keyspace notifications set by CONFIG SET
 * notify-keyspace-events. */
#include "harness.h"

static hserver *srv;

static void testSubscribe(void) {
    hSection("SUBSCRIBE PUBLISH UNSUBSCRIBE");
    redisContext *sub = hConnect(srv);
    redisContext *pub = hConnect(srv);
    hSetTimeoutMs(sub, 3000);
    EXPECT(pub, ":0", "PUBLISH ch1 nobody");
    hAppend(sub, "SUBSCRIBE ch1 ch2");
    EXPECT_NEXT(sub, "[\"subscribe\",\"ch1\",:1]");
    EXPECT_NEXT(sub, "[\"subscribe\",\"ch2\",:2]");
    EXPECT(pub, ":1", "PUBLISH ch1 hello");
    EXPECT_NEXT(sub, "[\"message\",\"ch1\",\"hello\"]");
    EXPECT_ARGS(pub, ":1", "PUBLISH", "ch2", "bin\r\n\x01");
    EXPECT_NEXT(sub, "[\"message\",\"ch2\",\"bin\\r\\n\\x01\"]");
    EXPECT(pub, ":0", "PUBLISH CH1 case-sensitive");
    /* subscribing twice to a channel keeps one subscription */
    hAppend(sub, "SUBSCRIBE ch1");
    EXPECT_NEXT(sub, "[\"subscribe\",\"ch1\",:2]");
    EXPECT(pub, ":1", "PUBLISH ch1 once");
    EXPECT_NEXT(sub, "[\"message\",\"ch1\",\"once\"]");

    /* patterns */
    hAppend(sub, "PSUBSCRIBE h?llo news.*");
    EXPECT_NEXT(sub, "[\"psubscribe\",\"h?llo\",:3]");
    EXPECT_NEXT(sub, "[\"psubscribe\",\"news.*\",:4]");
    EXPECT(pub, ":1", "PUBLISH hello world");
    EXPECT_NEXT(sub, "[\"pmessage\",\"h?llo\",\"hello\",\"world\"]");
    EXPECT(pub, ":1", "PUBLISH news.tech x");
    EXPECT_NEXT(sub, "[\"pmessage\",\"news.*\",\"news.tech\",\"x\"]");
    /* a channel and a pattern that both match: delivered (and counted) twice */
    hAppend(sub, "PSUBSCRIBE ch*");
    EXPECT_NEXT(sub, "[\"psubscribe\",\"ch*\",:5]");
    EXPECT(pub, ":2", "PUBLISH ch1 twice");
    EXPECT_NEXT(sub, "[\"message\",\"ch1\",\"twice\"]");
    EXPECT_NEXT(sub, "[\"pmessage\",\"ch*\",\"ch1\",\"twice\"]");

    /* PUBSUB introspection from another client */
    EXPECT(pub, "[\"ch1\",:1,\"ch2\",:1,\"nosuch\",:0]", "PUBSUB NUMSUB ch1 ch2 nosuch");
    EXPECT(pub, "[]", "PUBSUB NUMSUB");
    EXPECT(pub, ":3", "PUBSUB NUMPAT");
    {
        redisReply *r = redisCommand(pub, "PUBSUB CHANNELS");
        int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 2 &&
                 ((!strcmp(r->element[0]->str, "ch1") && !strcmp(r->element[1]->str, "ch2")) ||
                  (!strcmp(r->element[0]->str, "ch2") && !strcmp(r->element[1]->str, "ch1")));
        CHECK_MSG(ok, "%s", hRender(r));
        if (r) freeReplyObject(r);
    }
    EXPECT(pub, "[\"ch2\"]", "PUBSUB CHANNELS *2");
    EXPECT(pub, "[]", "PUBSUB CHANNELS x*");
    EXPECT(pub, "-ERR unknown subcommand or wrong number of arguments for 'CHANNELS'. Try PUBSUB HELP.",
           "PUBSUB CHANNELS a b");
    EXPECT(pub, "-ERR unknown subcommand 'foo'. Try PUBSUB HELP.", "PUBSUB foo");
    EXPECT(pub, "-ERR wrong number of arguments for 'pubsub|numpat' command", "PUBSUB NUMPAT x");
    EXPECT_GLOB(pub, "[+PUBSUB <subcommand> [<arg> [value] [opt] ...]. Subcommands are:,*,+HELP,+    Prints this help.]",
                "PUBSUB HELP");
    EXPECT(pub, "-ERR wrong number of arguments for 'publish' command", "PUBLISH ch1");
    EXPECT_GLOB(pub, "\"id=* flags=P * sub=2 psub=3 *\"", "CLIENT LIST TYPE pubsub");

    /* the subscribed context (RESP2) allows only a few commands */
    hAppend(sub, "GET k");
    EXPECT_NEXT(sub, "-ERR Can't execute 'get': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                     "allowed in this context");
    hAppend(sub, "PING");
    EXPECT_NEXT(sub, "[\"pong\",\"\"]");
    hAppend(sub, "PING hi");
    EXPECT_NEXT(sub, "[\"pong\",\"hi\"]");
    hAppend(sub, "MULTI");
    EXPECT_NEXT(sub, "-ERR Can't execute 'multi': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET are "
                     "allowed in this context");
    hAppend(sub, "CLIENT REPLY OFF");
    EXPECT_NEXT(sub, "-ERR Can't execute 'client|reply': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / RESET "
                     "are allowed in this context");

    /* unsubscribing */
    hAppend(sub, "UNSUBSCRIBE ch2 nosuch");
    EXPECT_NEXT(sub, "[\"unsubscribe\",\"ch2\",:4]");
    EXPECT_NEXT(sub, "[\"unsubscribe\",\"nosuch\",:4]");
    hAppend(sub, "PUNSUBSCRIBE news.*");
    EXPECT_NEXT(sub, "[\"punsubscribe\",\"news.*\",:3]");
    EXPECT(pub, ":0", "PUBLISH news.x y");
    hAppend(sub, "UNSUBSCRIBE");
    EXPECT_NEXT(sub, "[\"unsubscribe\",\"ch1\",:2]");
    hAppend(sub, "UNSUBSCRIBE");
    EXPECT_NEXT(sub, "[\"unsubscribe\",(nil),:2]");
    hAppend(sub, "PUNSUBSCRIBE");
    {
        char *a = hNext(sub), *b = hNext(sub);
        int ok = (!strcmp(a, "[\"punsubscribe\",\"h?llo\",:1]") && !strcmp(b, "[\"punsubscribe\",\"ch*\",:0]")) ||
                 (!strcmp(a, "[\"punsubscribe\",\"ch*\",:1]") && !strcmp(b, "[\"punsubscribe\",\"h?llo\",:0]"));
        CHECK_MSG(ok, "%s %s", a, b);
    }
    hAppend(sub, "PUNSUBSCRIBE");
    EXPECT_NEXT(sub, "[\"punsubscribe\",(nil),:0]");
    /* out of the subscribed context: ordinary commands again */
    EXPECT(sub, "(nil)", "GET nosuchkey");
    EXPECT(sub, "+PONG", "PING");
    EXPECT(pub, ":0", "PUBSUB NUMPAT");
    EXPECT(pub, "[]", "PUBSUB CHANNELS");
    EXPECT(sub, "-ERR wrong number of arguments for 'subscribe' command", "SUBSCRIBE");
    EXPECT(sub, "-ERR wrong number of arguments for 'psubscribe' command", "PSUBSCRIBE");
    /* a closed subscriber is forgotten */
    hAppend(sub, "SUBSCRIBE gone");
    EXPECT_NEXT(sub, "[\"subscribe\",\"gone\",:1]");
    EXPECT(pub, "[\"gone\",:1]", "PUBSUB NUMSUB gone");
    redisFree(sub);
    hSleepMs(100);
    EXPECT(pub, "[\"gone\",:0]", "PUBSUB NUMSUB gone");
    EXPECT(pub, ":0", "PUBLISH gone x");

    /* many subscribers */
    redisContext *subs[20];
    for (int i = 0; i < 20; i++) {
        subs[i] = hConnect(srv);
        hSetTimeoutMs(subs[i], 3000);
        hAppend(subs[i], "SUBSCRIBE fan");
        EXPECT_NEXT(subs[i], "[\"subscribe\",\"fan\",:1]");
    }
    EXPECT(pub, ":20", "PUBLISH fan out");
    for (int i = 0; i < 20; i++) {
        EXPECT_NEXT(subs[i], "[\"message\",\"fan\",\"out\"]");
        redisFree(subs[i]);
    }
    redisFree(pub);
}

static void testResp3Push(void) {
    hSection("RESP3 push messages");
    hraw *r = hRawConnect(srv);
    redisContext *pub = hConnect(srv);
    hRawSendStr(r, "HELLO 3\r\n");
    CHECK(hRawReply(r, 5000, NULL) != NULL);
    RAW_EXPECT(r, "SUBSCRIBE ch\r\n", ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    RAW_EXPECT(r, "PSUBSCRIBE p*\r\n", ">3\r\n$10\r\npsubscribe\r\n$2\r\np*\r\n:2\r\n");
    EXPECT(pub, ":1", "PUBLISH ch hi");
    RAW_EXPECT(r, NULL, ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n");
    EXPECT(pub, ":1", "PUBLISH pq there");
    RAW_EXPECT(r, NULL, ">4\r\n$8\r\npmessage\r\n$2\r\np*\r\n$2\r\npq\r\n$5\r\nthere\r\n");
    /* RESP3 clients may run any command while subscribed */
    RAW_EXPECT(r, "SET k v\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET k\r\n", "$1\r\nv\r\n");
    RAW_EXPECT(r, "GET nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "PING\r\n", "+PONG\r\n");
    /* a message published by the subscriber itself arrives before its reply */
    RAW_EXPECT(r, "PUBLISH ch self\r\n", ">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$4\r\nself\r\n");
    RAW_EXPECT(r, NULL, ":1\r\n");
    RAW_EXPECT(r, "UNSUBSCRIBE\r\n", ">3\r\n$11\r\nunsubscribe\r\n$2\r\nch\r\n:1\r\n");
    RAW_EXPECT(r, "PUNSUBSCRIBE\r\n", ">3\r\n$12\r\npunsubscribe\r\n$2\r\np*\r\n:0\r\n");
    RAW_EXPECT(r, "UNSUBSCRIBE\r\n", ">3\r\n$11\r\nunsubscribe\r\n_\r\n:0\r\n");
    RAW_EXPECT(r, "DEL k\r\n", ":1\r\n");
    hRawClose(r);
    redisFree(pub);
}

/* Subscribes to every notification and returns the context. */
static redisContext *notifySubscriber(void) {
    redisContext *s = hConnect(srv);
    hSetTimeoutMs(s, 3000);
    hAppend(s, "PSUBSCRIBE __key*__:*");
    EXPECT_NEXT(s, "[\"psubscribe\",\"__key*__:*\",:1]");
    return s;
}

/* Expects the keyspace and keyevent pair for one event on one key. */
#define EXPECT_EVENT(s, db, event, key)                                                                        \
    do {                                                                                                       \
        char e1__[256], e2__[256];                                                                             \
        snprintf(e1__, sizeof(e1__), "[\"pmessage\",\"__key*__:*\",\"__keyspace@%d__:%s\",\"%s\"]", db, key,     \
                 event);                                                                                       \
        snprintf(e2__, sizeof(e2__), "[\"pmessage\",\"__key*__:*\",\"__keyevent@%d__:%s\",\"%s\"]", db, event,   \
                 key);                                                                                         \
        EXPECT_NEXT(s, e1__);                                                                                  \
        EXPECT_NEXT(s, e2__);                                                                                  \
    } while (0)

static void testNotifications(void) {
    hSection("keyspace notifications");
    redisContext *c = hConnect(srv);
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events KEA");
    redisContext *s = notifySubscriber();
    EXPECT(c, "+OK", "SET foo bar");
    EXPECT_EVENT(s, 0, "set", "foo");
    EXPECT(c, "+OK", "SET foo bar EX 100");
    EXPECT_EVENT(s, 0, "set", "foo");
    EXPECT_EVENT(s, 0, "expire", "foo");
    EXPECT(c, ":1", "PERSIST foo");
    EXPECT_EVENT(s, 0, "persist", "foo");
    EXPECT(c, ":1", "EXPIRE foo 100");
    EXPECT_EVENT(s, 0, "expire", "foo");
    EXPECT(c, ":6", "APPEND foo baz");
    EXPECT_EVENT(s, 0, "append", "foo");
    EXPECT(c, ":6", "SETRANGE foo 0 B");
    EXPECT_EVENT(s, 0, "setrange", "foo");
    EXPECT(c, ":1", "INCR n");
    EXPECT_EVENT(s, 0, "incrby", "n");
    EXPECT(c, ":-4", "DECRBY n 5");
    EXPECT_EVENT(s, 0, "incrby", "n");
    EXPECT(c, "\"-3.5\"", "INCRBYFLOAT n 0.5");
    EXPECT_EVENT(s, 0, "incrbyfloat", "n");
    EXPECT(c, "+OK", "RENAME n m");
    EXPECT_EVENT(s, 0, "rename_from", "n");
    EXPECT_EVENT(s, 0, "rename_to", "m");
    EXPECT(c, ":1", "COPY m m2");
    EXPECT_EVENT(s, 0, "copy_to", "m2");
    EXPECT(c, ":1", "MOVE m2 1");
    EXPECT_EVENT(s, 0, "move_from", "m2");
    EXPECT_EVENT(s, 1, "move_to", "m2");
    EXPECT(c, ":2", "DEL m foo nosuch");
    EXPECT_EVENT(s, 0, "del", "m");
    EXPECT_EVENT(s, 0, "del", "foo");
    EXPECT(c, "+OK", "MSET a 1 b 2");
    EXPECT_EVENT(s, 0, "set", "a");
    EXPECT_EVENT(s, 0, "set", "b");
    EXPECT(c, "\"1\"", "GETDEL a");
    EXPECT_EVENT(s, 0, "del", "a");
    EXPECT(c, "\"2\"", "GETEX b EX 50");
    EXPECT_EVENT(s, 0, "expire", "b");
    EXPECT(c, "\"2\"", "GETEX b PERSIST");
    EXPECT_EVENT(s, 0, "persist", "b");
    EXPECT(c, ":0", "SETBIT bits 1 1");
    EXPECT_EVENT(s, 0, "setbit", "bits");
    EXPECT(c, ":1", "BITOP NOT dest bits");
    EXPECT_EVENT(s, 0, "set", "dest");
    EXPECT(c, "[:0]", "BITFIELD bf SET u8 0 1");
    EXPECT_EVENT(s, 0, "setbit", "bf");
    EXPECT(c, ":1", "UNLINK bf");
    EXPECT_EVENT(s, 0, "del", "bf");
    EXPECT(c, "+OK", "SETEX sx 100 v");
    EXPECT_EVENT(s, 0, "set", "sx");
    EXPECT_EVENT(s, 0, "expire", "sx");
    EXPECT(c, "\"v\"", "GETSET sx w");
    EXPECT_EVENT(s, 0, "set", "sx");
    /* nothing for failed or read-only commands */
    EXPECT(c, "(nil)", "SET sx v NX");
    EXPECT(c, "\"w\"", "GET sx");
    EXPECT(c, ":0", "EXPIRE nosuch 10");
    /* expiry: "expired" when a key goes, actively or on access */
    EXPECT(c, "+OK", "SET tmp v PX 30");
    EXPECT_EVENT(s, 0, "set", "tmp");
    EXPECT_EVENT(s, 0, "expire", "tmp");
    hSleepMs(60);
    EXPECT(c, "(nil)", "GET tmp");
    EXPECT_EVENT(s, 0, "expired", "tmp");
    EXPECT(c, "+OK", "SET tmp2 v PX 10");
    EXPECT_EVENT(s, 0, "set", "tmp2");
    EXPECT_EVENT(s, 0, "expire", "tmp2");
    EXPECT_EVENT(s, 0, "expired", "tmp2"); /* by the active cycle, nobody asks */
    /* an expire time in the past deletes at once: "del" */
    EXPECT(c, ":1", "EXPIRE sx -1");
    EXPECT_EVENT(s, 0, "del", "sx");
    /* FLUSHALL sends none per key */
    EXPECT(c, "+OK", "SELECT 3");
    EXPECT(c, "+OK", "SET indb3 v");
    EXPECT_EVENT(s, 3, "set", "indb3");
    EXPECT(c, "+OK", "SELECT 0");

    /* class filtering: only keyevent for string commands */
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events E$");
    EXPECT(c, "+OK", "SET only e");
    EXPECT_NEXT(s, "[\"pmessage\",\"__key*__:*\",\"__keyevent@0__:set\",\"only\"]");
    EXPECT(c, ":1", "EXPIRE only 100"); /* generic class: not enabled */
    EXPECT(c, ":1", "DEL only");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events Kg");
    EXPECT(c, "+OK", "SET only e"); /* string class: not enabled */
    EXPECT(c, ":1", "DEL only");
    EXPECT_NEXT(s, "[\"pmessage\",\"__key*__:*\",\"__keyspace@0__:only\",\"del\"]");
    /* new-key events (n is not part of A) */
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events En");
    EXPECT(c, "+OK", "SET brandnew v");
    EXPECT(c, "+OK", "SET brandnew w");
    EXPECT_NEXT(s, "[\"pmessage\",\"__key*__:*\",\"__keyevent@0__:new\",\"brandnew\"]");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events Ex");
    EXPECT(c, "+OK", "SET gone v PX 10");
    EXPECT_NEXT(s, "[\"pmessage\",\"__key*__:*\",\"__keyevent@0__:expired\",\"gone\"]");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events %s", "");
    EXPECT(c, "+OK", "SET quiet v");
    EXPECT(c, ":1", "PUBLISH __keyevent@0__:probe x");
    EXPECT_NEXT(s, "[\"pmessage\",\"__key*__:*\",\"__keyevent@0__:probe\",\"x\"]");
    redisFree(s);
    redisFree(c);
}

int main(void) {
    hInit(60);
    srv = hStartServer(NULL);
    testSubscribe();
    testResp3Push();
    testNotifications();
    STOP_SERVER(srv);
    return hDone();
}
