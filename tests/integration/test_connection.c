/* test_connection.c - connection commands: PING ECHO QUIT RESET SELECT, AUTH
 * with requirepass (from a config file and from CONFIG SET), HELLO 2/3 with
 * AUTH and SETNAME, and every CLIENT subcommand lattice serves: ID SETNAME
 * GETNAME LIST INFO KILL REPLY PAUSE UNPAUSE NO-EVICT. */
#include "harness.h"

static hserver *srv;

static void testPingEcho(redisContext *c) {
    hSection("PING ECHO SELECT");
    EXPECT(c, "+PONG", "PING");
    EXPECT(c, "\"hello\"", "PING hello");
    EXPECT(c, "\"\"", "PING %s", "");
    EXPECT(c, "-ERR wrong number of arguments for 'ping' command", "PING a b");
    EXPECT(c, "\"x y\"", "ECHO %s", "x y");
    EXPECT(c, "\"\"", "ECHO %s", "");
    EXPECT(c, "-ERR wrong number of arguments for 'echo' command", "ECHO");
    EXPECT(c, "-ERR wrong number of arguments for 'echo' command", "ECHO a b");
    EXPECT(c, "+OK", "SELECT 5");
    EXPECT(c, "-ERR wrong number of arguments for 'select' command", "SELECT");
    EXPECT(c, "+OK", "SELECT 0");
}

static void testQuit(void) {
    hSection("QUIT");
    hraw *r = hRawConnect(srv);
    RAW_EXPECT_CLOSE(r, "QUIT\r\n", "+OK\r\n");
    hRawClose(r);
    r = hRawConnect(srv);
    /* commands pipelined after QUIT are not executed */
    RAW_EXPECT_CLOSE(r, "SET quitkey 1\r\nQUIT\r\nSET quitkey 2\r\n", "+OK\r\n+OK\r\n");
    hRawClose(r);
    redisContext *c = hConnect(srv);
    EXPECT(c, "\"1\"", "GET quitkey");
    EXPECT(c, ":1", "DEL quitkey");
    redisFree(c);
}

static void testClientBasics(redisContext *c) {
    hSection("CLIENT ID SETNAME GETNAME INFO LIST");
    long long id = hRunInt(c, "CLIENT ID");
    CHECK(id > 0);
    redisContext *c2 = hConnect(srv);
    long long id2 = hRunInt(c2, "CLIENT ID");
    CHECK(id2 > id);
    EXPECT(c, "(nil)", "CLIENT GETNAME");
    EXPECT(c, "+OK", "CLIENT SETNAME first");
    EXPECT(c, "\"first\"", "CLIENT GETNAME");
    EXPECT(c, "+OK", "CLIENT SETNAME %s", "");
    EXPECT(c, "(nil)", "CLIENT GETNAME");
    EXPECT(c, "-ERR Client names cannot contain spaces, newlines or special characters.", "CLIENT SETNAME %s",
           "a b");
    EXPECT(c, "-ERR Client names cannot contain spaces, newlines or special characters.", "CLIENT SETNAME %s",
           "a\nb");
    EXPECT(c, "-ERR wrong number of arguments for 'client|setname' command", "CLIENT SETNAME");
    EXPECT(c, "-ERR wrong number of arguments for 'client|setname' command", "CLIENT SETNAME a b");
    EXPECT(c, "-ERR wrong number of arguments for 'client|id' command", "CLIENT ID x");
    EXPECT(c, "-ERR unknown subcommand 'foo'. Try CLIENT HELP.", "CLIENT foo");
    EXPECT(c, "-ERR wrong number of arguments for 'client' command", "CLIENT");
    EXPECT(c, "+OK", "CLIENT SETNAME me");
    EXPECT(c, "+OK", "client setname Me-2");
    EXPECT(c, "\"Me-2\"", "CLIENT GETNAME");

    char pat[1024];
    snprintf(pat, sizeof(pat),
             "\"id=%lld addr=127.0.0.1:* laddr=127.0.0.1:%d fd=* name=Me-2 age=* idle=* flags=N db=0 sub=0 psub=0 "
             "ssub=0 multi=-1 qbuf=* qbuf-free=* argv-mem=* multi-mem=0 rbs=* rbp=* obl=0 oll=0 omem=* tot-mem=* "
             "events=r cmd=client|info user=default redir=-1 resp=2\\n\"",
             id, srv->port);
    EXPECT_GLOB(c, pat, "CLIENT INFO");
    snprintf(pat, sizeof(pat), "\"id=%lld addr=* name=Me-2 * cmd=client|list user=default redir=-1 resp=2\\nid=%lld "
                               "addr=* name= * cmd=client|id user=default redir=-1 resp=2\\n\"",
             id, id2);
    EXPECT_GLOB(c, pat, "CLIENT LIST");
    snprintf(pat, sizeof(pat), "\"id=%lld addr=* cmd=client|id *\\n\"", id2);
    EXPECT_GLOB(c, pat, "CLIENT LIST ID %lld", id2);
    EXPECT_GLOB(c, "\"id=* cmd=client|list *\\nid=* cmd=client|id *\\n\"", "CLIENT LIST ID %lld %lld 999999", id, id2);
    EXPECT_GLOB(c, "\"id=*\\nid=*\\n\"", "CLIENT LIST TYPE normal");
    EXPECT(c, "\"\"", "CLIENT LIST TYPE pubsub");
    EXPECT(c, "\"\"", "CLIENT LIST TYPE master");
    EXPECT(c, "\"\"", "CLIENT LIST TYPE replica");
    EXPECT(c, "-ERR Unknown client type 'foo'", "CLIENT LIST TYPE foo");
    EXPECT(c, "-ERR Invalid client ID", "CLIENT LIST ID x");
    EXPECT(c, "\"\"", "CLIENT LIST ID 0");
    EXPECT(c, "-ERR syntax error", "CLIENT LIST x");
    EXPECT(c, "-ERR syntax error", "CLIENT LIST TYPE");
    /* flags and counters follow the connection's state */
    EXPECT(c2, "+OK", "SELECT 3");
    EXPECT(c2, "+OK", "MULTI");
    EXPECT(c2, "+QUEUED", "PING");
    snprintf(pat, sizeof(pat), "\"id=%lld * flags=x db=3 sub=0 psub=0 ssub=0 multi=1 *\\n\"", id2);
    EXPECT_GLOB(c, pat, "CLIENT LIST ID %lld", id2);
    EXPECT(c2, "[+PONG]", "EXEC");
    EXPECT(c, "-ERR wrong number of arguments for 'client|info' command", "CLIENT INFO x");
    EXPECT(c, "+OK", "CLIENT NO-EVICT on");
    EXPECT(c, "+OK", "CLIENT NO-EVICT OFF");
    EXPECT(c, "-ERR syntax error", "CLIENT NO-EVICT maybe");
    EXPECT(c, "-ERR wrong number of arguments for 'client|no-evict' command", "CLIENT NO-EVICT");
    EXPECT_GLOB(c, "[+CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:,+CACHING (YES|NO),*,+HELP,+    "
                   "Prints this help.]",
                "CLIENT HELP");
    redisFree(c2);
}

static void testClientKill(redisContext *c) {
    hSection("CLIENT KILL");
    redisContext *victim = hConnect(srv);
    long long vid = hRunInt(victim, "CLIENT ID");
    EXPECT(c, ":0", "CLIENT KILL ID 999999");
    EXPECT(c, ":1", "CLIENT KILL ID %lld", vid);
    {
        redisReply *r = redisCommand(victim, "PING");
        CHECK_MSG(r == NULL, "killed client still got %s", hRender(r));
        if (r) freeReplyObject(r);
    }
    redisFree(victim);

    victim = hConnect(srv);
    EXPECT(victim, "+OK", "CLIENT SETNAME victim");
    redisReply *r = redisCommand(victim, "CLIENT INFO");
    char addr[64] = "";
    if (r && r->type == REDIS_REPLY_STRING) {
        char *a = strstr(r->str, " addr=");
        if (a) sscanf(a + 6, "%63s", addr);
    }
    if (r) freeReplyObject(r);
    CHECK(addr[0] != '\0');
    EXPECT(c, "+OK", "CLIENT KILL %s", addr); /* the old form */
    EXPECT(c, "-ERR No such client", "CLIENT KILL %s", addr);
    redisFree(victim);

    victim = hConnect(srv);
    EXPECT(victim, "+PONG", "PING");
    EXPECT(c, ":0", "CLIENT KILL ADDR 127.0.0.1:1");
    EXPECT(c, ":0", "CLIENT KILL LADDR 127.0.0.1:1");
    /* TYPE normal with SKIPME yes (the default) kills everyone else */
    EXPECT(c, ":1", "CLIENT KILL TYPE normal");
    {
        redisReply *r2 = redisCommand(victim, "PING");
        CHECK(r2 == NULL);
        if (r2) freeReplyObject(r2);
    }
    redisFree(victim);
    EXPECT(c, "+PONG", "PING");
    EXPECT(c, ":0", "CLIENT KILL TYPE pubsub");
    EXPECT(c, "-ERR Unknown client type 'foo'", "CLIENT KILL TYPE foo");
    EXPECT(c, "-ERR No such user 'nobody'", "CLIENT KILL USER nobody");
    EXPECT(c, ":0", "CLIENT KILL USER default");
    EXPECT(c, "-ERR syntax error", "CLIENT KILL SKIPME maybe");
    EXPECT(c, "-ERR syntax error", "CLIENT KILL foo bar");
    EXPECT(c, "-ERR No such client", "CLIENT KILL ID"); /* the old form, ID taken as an address */
    EXPECT(c, "-ERR client-id should be greater than 0", "CLIENT KILL ID 0");
    EXPECT(c, "-ERR client-id should be greater than 0", "CLIENT KILL ID x");
    EXPECT(c, "-ERR wrong number of arguments for 'client|kill' command", "CLIENT KILL");
    /* SKIPME no: a client can kill itself; it still gets the reply */
    redisContext *self = hConnect(srv);
    long long sid = hRunInt(self, "CLIENT ID");
    EXPECT(self, ":1", "CLIENT KILL ID %lld SKIPME no", sid);
    {
        redisReply *r3 = redisCommand(self, "PING");
        CHECK(r3 == NULL);
        if (r3) freeReplyObject(r3);
    }
    redisFree(self);
}

static void testClientReply(void) {
    hSection("CLIENT REPLY");
    hraw *r = hRawConnect(srv);
    RAW_EXPECT(r, "CLIENT REPLY OFF\r\nSET rk 1\r\nPING\r\nCLIENT REPLY ON\r\n", "+OK\r\n");
    RAW_EXPECT(r, "CLIENT REPLY SKIP\r\nGET rk\r\nGET rk\r\n", "$1\r\n1\r\n");
    RAW_EXPECT(r, "CLIENT REPLY SKIP\r\nCLIENT REPLY ON\r\nPING\r\n", "+OK\r\n"); /* ON always answers */
    RAW_EXPECT(r, NULL, "+PONG\r\n");
    RAW_EXPECT(r, "CLIENT REPLY maybe\r\n", "-ERR syntax error\r\n");
    RAW_EXPECT(r, "CLIENT REPLY\r\n", "-ERR wrong number of arguments for 'client|reply' command\r\n");
    /* errors are silenced too */
    RAW_EXPECT(r, "CLIENT REPLY OFF\r\nNOSUCH\r\nGET\r\nCLIENT REPLY ON\r\n", "+OK\r\n");
    RAW_EXPECT(r, "DEL rk\r\n", ":1\r\n");
    hRawClose(r);
}

static void testClientPause(redisContext *c) {
    hSection("CLIENT PAUSE UNPAUSE");
    redisContext *other = hConnect(srv);
    EXPECT(c, "+OK", "SET pk 1");
    EXPECT(c, "+OK", "CLIENT PAUSE 300 WRITE");
    long long t0 = hNowMs();
    EXPECT(other, "\"1\"", "GET pk");
    CHECK_RANGE(hNowMs() - t0, 0, 150);
    t0 = hNowMs();
    EXPECT(other, "+OK", "SET pk 2");
    CHECK_RANGE(hNowMs() - t0, 200, 2000);
    EXPECT(other, "\"2\"", "GET pk");

    EXPECT(c, "+OK", "CLIENT PAUSE 300");
    t0 = hNowMs();
    EXPECT(other, "\"2\"", "GET pk");
    CHECK_RANGE(hNowMs() - t0, 200, 2000);

    /* UNPAUSE releases paused clients at once (WRITE mode: under ALL the
     * UNPAUSE itself would wait) */
    EXPECT(c, "+OK", "CLIENT PAUSE 5000 WRITE");
    hAppend(other, "INCR pk");
    redisBufferWrite(other, &(int){0});
    hSleepMs(100);
    t0 = hNowMs();
    EXPECT(c, "+OK", "CLIENT UNPAUSE");
    EXPECT_NEXT(other, ":3");
    CHECK_RANGE(hNowMs() - t0, 0, 1000);
    EXPECT(c, "+OK", "CLIENT UNPAUSE");

    EXPECT(c, "-ERR timeout is not an integer or out of range", "CLIENT PAUSE x");
    EXPECT(c, "-ERR timeout is negative", "CLIENT PAUSE -1");
    EXPECT(c, "-ERR CLIENT PAUSE mode must be WRITE or ALL", "CLIENT PAUSE 10 foo");
    EXPECT(c, "-ERR wrong number of arguments for 'client|pause' command", "CLIENT PAUSE");
    EXPECT(c, "-ERR wrong number of arguments for 'client|unpause' command", "CLIENT UNPAUSE x");
    redisFree(other);
}

static void testHello(redisContext *c) {
    hSection("HELLO");
    EXPECT_GLOB(c,
                "[\"server\",\"redis\",\"version\",\"7.0.15\",\"proto\",:2,\"id\",:*,\"mode\",\"standalone\","
                "\"role\",\"master\",\"modules\",[]]",
                "HELLO");
    EXPECT_GLOB(c, "[\"server\",\"redis\",*,\"proto\",:2,*]", "HELLO 2");
    EXPECT(c, "-NOPROTO unsupported protocol version", "HELLO 4");
    EXPECT(c, "-NOPROTO unsupported protocol version", "HELLO 1");
    EXPECT(c, "-ERR Protocol version is not an integer or out of range", "HELLO x");
    EXPECT(c, "-ERR Syntax error in HELLO option 'foo'", "HELLO 2 foo");
    EXPECT(c, "-ERR Syntax error in HELLO option 'AUTH'", "HELLO 2 AUTH default");
    EXPECT(c, "-ERR Syntax error in HELLO option 'SETNAME'", "HELLO 2 SETNAME");
    EXPECT(c, "-ERR Client names cannot contain spaces, newlines or special characters.", "HELLO 2 SETNAME %s",
           "a b");
    EXPECT_GLOB(c, "[\"server\",*]", "HELLO 2 SETNAME viahello");
    EXPECT(c, "\"viahello\"", "CLIENT GETNAME");
    /* without requirepass any password is accepted for default */
    EXPECT_GLOB(c, "[\"server\",*]", "HELLO 2 AUTH default whatever");
    EXPECT(c, "-WRONGPASS invalid username-password pair or user is disabled.", "HELLO 2 AUTH nobody x");
}

static void testReset(void) {
    hSection("RESET");
    redisContext *c = hConnect(srv);
    EXPECT(c, "+OK", "SELECT 4");
    EXPECT(c, "+OK", "SET inreset v");
    EXPECT(c, "+OK", "CLIENT SETNAME before");
    EXPECT(c, "+OK", "WATCH inreset");
    EXPECT(c, "+OK", "MULTI");
    EXPECT(c, "+QUEUED", "SET inreset w");
    EXPECT(c, "+RESET", "RESET");
    EXPECT(c, "(nil)", "CLIENT GETNAME");
    EXPECT(c, "(nil)", "GET inreset"); /* back in db 0 */
    EXPECT(c, "-ERR EXEC without MULTI", "EXEC");
    EXPECT(c, "+OK", "SELECT 4");
    EXPECT(c, "\"v\"", "GET inreset");
    EXPECT(c, ":1", "DEL inreset");
    EXPECT(c, "+OK", "SELECT 0");
    EXPECT(c, "-ERR wrong number of arguments for 'reset' command", "RESET x");
    redisFree(c);
    /* RESET also leaves RESP3, subscriptions and CLIENT REPLY OFF */
    hraw *r = hRawConnect(srv);
    hRawSendStr(r, "HELLO 3\r\n");
    CHECK(hRawReply(r, 5000, NULL) != NULL);
    RAW_EXPECT(r, "GET nosuch\r\n", "_\r\n");
    RAW_EXPECT(r, "SUBSCRIBE ch\r\n", ">3\r\n$9\r\nsubscribe\r\n$2\r\nch\r\n:1\r\n");
    RAW_EXPECT(r, "RESET\r\n", "+RESET\r\n");
    RAW_EXPECT(r, "GET nosuch\r\n", "$-1\r\n");
    RAW_EXPECT(r, "CLIENT REPLY OFF\r\nRESET\r\nPING\r\n", "+RESET\r\n");
    RAW_EXPECT(r, NULL, "+PONG\r\n");
    hRawClose(r);
    redisContext *c2 = hConnect(srv);
    EXPECT(c2, "[\"ch\",:0]", "PUBSUB NUMSUB ch");
    redisFree(c2);
}

static void testAuthWithConfigFile(void) {
    hSection("AUTH with requirepass from a config file");
    char conf[512];
    snprintf(conf, sizeof(conf), "%s/auth.conf", hTmpDir);
    FILE *f = fopen(conf, "w");
    fprintf(f, "# a test config\nrequirepass \"s3cret pass\"\ndatabases 4\n");
    fclose(f);
    hserver *s = hStartServerEx(hAbsBin(hLatticeBin()), conf, NULL, NULL);
    redisContext *c = hConnect(s);
    EXPECT(c, "-NOAUTH Authentication required.", "PING");
    EXPECT(c, "-NOAUTH Authentication required.", "GET k");
    EXPECT(c, "-NOAUTH Authentication required.", "CLIENT SETNAME x");
    EXPECT(c, "-ERR unknown command 'NOSUCHCOMMAND', with args beginning with: ", "NOSUCHCOMMAND");
    EXPECT(c,
           "-NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO AUTH <user> "
           "<pass> option can be used to authenticate the client and select the RESP protocol version at the same "
           "time",
           "HELLO 2");
    EXPECT(c, "-WRONGPASS invalid username-password pair or user is disabled.", "AUTH wrong");
    EXPECT(c, "-WRONGPASS invalid username-password pair or user is disabled.", "AUTH default wrong");
    EXPECT(c, "-WRONGPASS invalid username-password pair or user is disabled.", "AUTH other %s", "s3cret pass");
    EXPECT(c, "-ERR wrong number of arguments for 'auth' command", "AUTH");
    EXPECT(c, "-ERR syntax error", "AUTH a b c");
    EXPECT(c, "-NOAUTH Authentication required.", "PING");
    EXPECT(c, "+OK", "AUTH %s", "s3cret pass");
    EXPECT(c, "+PONG", "PING");
    EXPECT(c, "+OK", "AUTH default %s", "s3cret pass");
    EXPECT(c, "-WRONGPASS invalid username-password pair or user is disabled.", "AUTH nope");
    EXPECT(c, "+PONG", "PING"); /* a failed AUTH does not log out */
    EXPECT(c, "[\"databases\",\"4\"]", "CONFIG GET databases");
    EXPECT(c, "-ERR DB index is out of range", "SELECT 4");
    EXPECT(c, "[\"requirepass\",\"s3cret pass\"]", "CONFIG GET requirepass");
    EXPECT(c, "+RESET", "RESET");
    EXPECT(c, "-NOAUTH Authentication required.", "PING"); /* RESET logs out */
    EXPECT(c, "+OK", "QUIT");
    redisFree(c);

    c = hConnect(s);
    EXPECT_GLOB(c, "[\"server\",\"redis\",*,\"proto\",:2,*]", "HELLO 2 AUTH default %s SETNAME hi", "s3cret pass");
    EXPECT(c, "\"hi\"", "CLIENT GETNAME");
    {
        hraw *r = hRawConnect(s);
        RAW_EXPECT(r, "HELLO 3 AUTH default wrong\r\n",
                   "-WRONGPASS invalid username-password pair or user is disabled.\r\n");
        RAW_EXPECT(r, "GET k\r\n", "-NOAUTH Authentication required.\r\n");
        RAW_EXPECT_GLOB(r, "HELLO 3 AUTH default \"s3cret pass\" SETNAME r3\r\n",
                        "%7\\r\\n$6\\r\\nserver\\r\\n$5\\r\\nredis\\r\\n*$5\\r\\nproto\\r\\n:3\\r\\n*");
        RAW_EXPECT(r, "GET nosuch\r\n", "_\r\n");
        RAW_EXPECT(r, "CLIENT GETNAME\r\n", "$2\r\nr3\r\n");
        hRawClose(r);
    }
    EXPECT(c, "+OK", "CONFIG SET requirepass %s", "");
    redisFree(c);
    c = hConnect(s);
    EXPECT(c, "+PONG", "PING");
    EXPECT(c, "-ERR AUTH <password> called without any password configured for the default user. Are you sure "
              "your configuration is correct?",
           "AUTH x");
    EXPECT(c, "+OK", "AUTH default anything");
    EXPECT(c, "+OK", "CONFIG SET requirepass newpass");
    EXPECT(c, "+PONG", "PING"); /* already authenticated connections stay so */
    redisContext *c2 = hConnect(s);
    EXPECT(c2, "-NOAUTH Authentication required.", "PING");
    EXPECT(c2, "+OK", "AUTH newpass");
    EXPECT(c2, "+OK", "CONFIG SET requirepass %s", "");
    redisFree(c2);
    redisFree(c);
    STOP_SERVER(s);
}

int main(void) {
    hInit(90);
    srv = hStartServer(NULL);
    redisContext *c = hConnect(srv);
    testPingEcho(c);
    testQuit();
    testClientBasics(c);
    testClientKill(c);
    testClientReply();
    testClientPause(c);
    testHello(c);
    redisFree(c);
    testReset();
    testAuthWithConfigFile();
    STOP_SERVER(srv);
    return hDone();
}
