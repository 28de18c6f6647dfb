/* test_protocol.c - the wire, byte-exact over raw sockets: pipelining, inline
 * commands as typed in telnet, requests cut in half or sent byte by byte,
 * garbage, negative and huge lengths, oversize requests, and protocol errors
 * that close only the offending client with Redis's exact text. */
#include "harness.h"

static hserver *srv;

/* A fresh raw connection per case, so that one closed socket does not hide
 * the next case. */
#define ERR_CLOSE(send, text)                                                                                  \
    do {                                                                                                       \
        hraw *r__ = hRawConnect(srv);                                                                          \
        hRawExpectCloseAt(__FILE__, __LINE__, r__, (send), sizeof(send) - 1, (text));                           \
        hRawClose(r__);                                                                                        \
    } while (0)

static void testPipelining(void) {
    hSection("pipelining");
    hraw *r = hRawConnect(srv);
    /* 10000 commands in one write, replies in order */
    hbuf req = {0}, want = {0};
    for (int i = 1; i <= 10000; i++) {
        hbufCat(&req, "*2\r\n$4\r\nINCR\r\n$4\r\npipe\r\n", 24);
        hbufPrintf(&want, ":%d\r\n", i);
    }
    hRawSend(r, req.p, req.len);
    hbuf got = {0};
    hbufCat(&got, "", 0);
    while (got.len < want.len) {
        size_t l;
        char *one = hRawReply(r, 5000, &l);
        if (!one) break;
        hbufCat(&got, one, l);
    }
    CHECK_INT(got.len, want.len);
    CHECK(got.len == want.len && memcmp(got.p, want.p, want.len) == 0);
    free(req.p);
    free(want.p);
    free(got.p);
    /* mixed commands, inline and multibulk, in one write */
    RAW_EXPECT(r, "SET p1 a\r\n*2\r\n$3\r\nGET\r\n$2\r\np1\r\nPING\r\n*1\r\n$4\r\nPING\r\nGET nosuch\r\nDEL p1 pipe\r\n",
               "+OK\r\n");
    RAW_EXPECT(r, NULL, "$1\r\na\r\n");
    RAW_EXPECT(r, NULL, "+PONG\r\n");
    RAW_EXPECT(r, NULL, "+PONG\r\n");
    RAW_EXPECT(r, NULL, "$-1\r\n");
    RAW_EXPECT(r, NULL, ":2\r\n");
    /* errors in the middle of a pipeline do not disturb the rest */
    RAW_EXPECT(r, "SET a 1\r\nNOSUCH\r\nGET\r\nINCR a\r\n", "+OK\r\n");
    RAW_EXPECT(r, NULL, "-ERR unknown command 'NOSUCH', with args beginning with: \r\n");
    RAW_EXPECT(r, NULL, "-ERR wrong number of arguments for 'get' command\r\n");
    RAW_EXPECT(r, NULL, ":2\r\n");
    hRawClose(r);

    /* hiredis pipelining: many appends, then the replies */
    redisContext *c = hConnect(srv);
    for (int i = 0; i < 2000; i++) hAppend(c, "SET pk:%d %d", i, i);
    for (int i = 0; i < 2000; i++) hAppend(c, "GET pk:%d", i);
    int bad = 0;
    for (int i = 0; i < 2000; i++)
        if (strcmp(hNext(c), "+OK") != 0) bad++;
    for (int i = 0; i < 2000; i++) {
        char want1[32];
        snprintf(want1, sizeof(want1), "\"%d\"", i);
        if (strcmp(hNext(c), want1) != 0) bad++;
    }
    CHECK_INT(bad, 0);
    EXPECT(c, "+OK", "FLUSHALL");
    redisFree(c);

    /* a big pipelined reply to a client that does not read for a while */
    c = hConnect(srv);
    char *big = malloc(100000);
    memset(big, 'v', 100000);
    redisReply *rr = redisCommand(c, "SET bigv %b", big, (size_t)100000);
    freeReplyObject(rr);
    hraw *slow = hRawConnect(srv);
    hbuf many = {0};
    for (int i = 0; i < 300; i++) hbufCat(&many, "GET bigv\r\n", 10);
    hRawSend(slow, many.p, many.len);
    free(many.p);
    long long t0 = hNowMs();
    EXPECT(c, "+PONG", "PING"); /* the server keeps serving others */
    CHECK_RANGE(hNowMs() - t0, 0, 1000);
    size_t total = 0;
    for (int i = 0; i < 300; i++) {
        size_t l = 0;
        char *one = hRawReply(slow, 5000, &l);
        if (!one) break;
        if (l == 100000 + 11 && memcmp(one, "$100000\r\n", 9) == 0 && one[9] == 'v') total++;
    }
    CHECK_INT(total, 300);
    hRawClose(slow);
    free(big);
    EXPECT(c, ":1", "DEL bigv");
    redisFree(c);
}

static void testInline(void) {
    hSection("inline commands");
    hraw *r = hRawConnect(srv);
    RAW_EXPECT(r, "SET a b\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$1\r\nb\r\n");
    RAW_EXPECT(r, "get a\n", "$1\r\nb\r\n"); /* LF alone ends a line */
    RAW_EXPECT(r, "  SET   a    c  \r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$1\r\nc\r\n");
    RAW_EXPECT(r, "\r\n\r\n\nPING\r\n", "+PONG\r\n"); /* empty lines are skipped */
    RAW_EXPECT(r, "SET a \"b c\"\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$3\r\nb c\r\n");
    RAW_EXPECT(r, "SET a 'single \"quoted\"'\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$15\r\nsingle \"quoted\"\r\n");
    RAW_EXPECT(r, "SET a \"\\x41\\n\\t\\\\\\\"\"\r\n", "+OK\r\n");
    RAW_EXPECT(r, "STRLEN a\r\n", ":5\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$5\r\nA\n\t\\\"\r\n");
    RAW_EXPECT(r, "SET a 'it\\'s'\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$4\r\nit's\r\n");
    RAW_EXPECT(r, "SET a \"\"\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$0\r\n\r\n");
    RAW_EXPECT(r, "ECHO \xc3\xa9t\xc3\xa9\r\n", "$5\r\n\xc3\xa9t\xc3\xa9\r\n");
    RAW_EXPECT(r, "\xff\xfe garbage\r\n", "-ERR unknown command '\xff\xfe', with args beginning with: 'garbage' \r\n");
    RAW_EXPECT(r, "NOSUCH a b\r\n", "-ERR unknown command 'NOSUCH', with args beginning with: 'a' 'b' \r\n");
    /* an inline command split over several writes */
    hRawSendStr(r, "SE");
    hSleepMs(30);
    hRawSendStr(r, "T a sp");
    hSleepMs(30);
    RAW_EXPECT(r, "lit\r\n", "+OK\r\n");
    RAW_EXPECT(r, "GET a\r\n", "$5\r\nsplit\r\n");
    RAW_EXPECT(r, "DEL a\r\n", ":1\r\n");
    hRawClose(r);
    /* unbalanced quotes are a protocol error */
    ERR_CLOSE("SET a \"b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
    ERR_CLOSE("SET a 'b\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
    ERR_CLOSE("SET a \"b\"c\r\n", "-ERR Protocol error: unbalanced quotes in request\r\n");
    ERR_CLOSE("PING\r\nSET a \"b\r\nPING\r\n", "+PONG\r\n-ERR Protocol error: unbalanced quotes in request\r\n");
    /* an inline line without end over 64 KB */
    {
        hraw *b = hRawConnect(srv);
        char *line = malloc(70000);
        memset(line, 'A', 70000);
        hRawExpectCloseAt(__FILE__, __LINE__, b, line, 70000, "-ERR Protocol error: too big inline request\r\n");
        hRawClose(b);
        /* a long but complete inline line is fine */
        b = hRawConnect(srv);
        memcpy(line, "SET long ", 9);
        memcpy(line + 60000, "\r\n", 2);
        hRawSend(b, line, 60002);
        RAW_EXPECT(b, NULL, "+OK\r\n");
        RAW_EXPECT(b, "STRLEN long\r\n", ":59991\r\n");
        RAW_EXPECT(b, "DEL long\r\n", ":1\r\n");
        hRawClose(b);
        free(line);
    }
}

static void testSplit(void) {
    hSection("requests split and completed later");
    const char *req = "*3\r\n$3\r\nSET\r\n$5\r\nsplit\r\n$11\r\nhello world\r\n";
    size_t n = strlen(req);
    /* cut at every position */
    for (size_t cut = 1; cut < n; cut++) {
        hraw *r = hRawConnect(srv);
        hRawSend(r, req, cut);
        hSleepMs(cut % 8 == 0 ? 20 : 1);
        int closed = 0;
        size_t gl = 0;
        char *early = hRawReadToClose(r, 1, &closed, &gl);
        if (gl || closed) hReport(__FILE__, __LINE__, 0, "reply before the request is complete", "", early);
        hRawSend(r, req + cut, n - cut);
        if (!RAW_EXPECT(r, NULL, "+OK\r\n")) printf("    (cut at %zu)\n", cut);
        hRawClose(r);
    }
    /* byte by byte, several commands */
    hraw *r = hRawConnect(srv);
    const char *two = "*2\r\n$3\r\nGET\r\n$5\r\nsplit\r\nPING\r\n*2\r\n$4\r\nECHO\r\n$0\r\n\r\n";
    for (const char *p = two; *p; p++) {
        hRawSend(r, p, 1);
        usleep(500);
    }
    RAW_EXPECT(r, NULL, "$11\r\nhello world\r\n");
    RAW_EXPECT(r, NULL, "+PONG\r\n");
    RAW_EXPECT(r, NULL, "$0\r\n\r\n");
    /* a big bulk in uneven chunks with pauses */
    size_t big = 3 * 1024 * 1024 + 7;
    hbuf b = {0};
    hbufPrintf(&b, "*3\r\n$3\r\nSET\r\n$3\r\nbig\r\n$%zu\r\n", big);
    for (size_t i = 0; i < big; i++) {
        char ch = (char)('a' + i % 23);
        hbufCat(&b, &ch, 1);
    }
    hbufCat(&b, "\r\n", 2);
    size_t off = 0, step = 1;
    while (off < b.len) {
        size_t l = step < b.len - off ? step : b.len - off;
        hRawSend(r, b.p + off, l);
        off += l;
        step = step * 3 + 1;
        if (step > 500000) step = 7;
        if (off % 5 == 0) hSleepMs(2);
    }
    RAW_EXPECT(r, NULL, "+OK\r\n");
    RAW_EXPECT(r, "STRLEN big\r\n", ":3145735\r\n");
    RAW_EXPECT(r, "GETRANGE big 3145728 -1\r\n", "$7\r\nstuvwab\r\n"); /* 'a' + i % 23 */
    RAW_EXPECT(r, "DEL big split\r\n", ":2\r\n");
    free(b.p);
    hRawClose(r);
}

static void testBadInput(void) {
    hSection("garbage and bad lengths");
    /* ignored, not errors */
    hraw *r = hRawConnect(srv);
    RAW_EXPECT(r, "*-1\r\nPING\r\n", "+PONG\r\n");
    RAW_EXPECT(r, "*-10\r\nPING\r\n", "+PONG\r\n");
    RAW_EXPECT(r, "*0\r\nPING\r\n", "+PONG\r\n");
    RAW_EXPECT(r, "*1\r\n$4\r\nPING\r\n\r\n*1\r\n$4\r\nPING\r\n", "+PONG\r\n");
    RAW_EXPECT(r, NULL, "+PONG\r\n");
    RAW_EXPECT(r, "*2\r\n$4\r\nECHO\r\n$0\r\n\r\n", "$0\r\n\r\n");
    {
        static const char set0[] = "*3\r\n$3\r\nSET\r\n$2\r\nbk\r\n$3\r\n\x00\r\n\r\n";
        static const char got0[] = "$3\r\n\x00\r\n\r\n";
        hRawExpectAt(__FILE__, __LINE__, r, set0, sizeof(set0) - 1, "+OK\r\n", 5);
        hRawExpectAt(__FILE__, __LINE__, r, "GET bk\r\n", 8, got0, sizeof(got0) - 1);
        RAW_EXPECT(r, "DEL bk\r\n", ":1\r\n");
    }
    hRawClose(r);

    ERR_CLOSE("*abc\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*+1\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*01\r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*1 \r\n$4\r\nPING\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*2147483648\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*99999999999999999999\r\n", "-ERR Protocol error: invalid multibulk length\r\n");
    ERR_CLOSE("*1\r\n$-1\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$-5\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$abc\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$04\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$+4\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$ 4\r\nPING\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$536870913\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$2147483648\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\n$999999999999999999999999999999\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    ERR_CLOSE("*1\r\nfoo\r\n", "-ERR Protocol error: expected '$', got 'f'\r\n");
    ERR_CLOSE("*1\r$4\r\nPING\r\n", "-ERR Protocol error: expected '$', got '4'\r\n");
    ERR_CLOSE("*1\r\n$4\r\nPING\r\n*1\r\n:1\r\n", "+PONG\r\n-ERR Protocol error: expected '$', got ':'\r\n");
    ERR_CLOSE("*2\r\n$4\r\nECHO\r\n*1\r\n", "-ERR Protocol error: expected '$', got '*'\r\n");
    /* commands after the error in the same write are not run */
    ERR_CLOSE("SET after1 x\r\n*1\r\n$x\r\nSET after2 y\r\n", "+OK\r\n-ERR Protocol error: invalid bulk length\r\n");
    {
        redisContext *c = hConnect(srv);
        EXPECT(c, "[\"x\",(nil)]", "MGET after1 after2");
        EXPECT(c, ":1", "DEL after1");
        redisFree(c);
    }
    /* over-long length lines */
    {
        char buf[70010];
        buf[0] = '*';
        memset(buf + 1, '1', 70000);
        hraw *b = hRawConnect(srv);
        hRawExpectCloseAt(__FILE__, __LINE__, b, buf, 70001, "-ERR Protocol error: too big mbulk count string\r\n");
        hRawClose(b);
        memcpy(buf, "*1\r\n$", 5);
        memset(buf + 5, '1', 70000);
        b = hRawConnect(srv);
        hRawExpectCloseAt(__FILE__, __LINE__, b, buf, 70005, "-ERR Protocol error: too big bulk count string\r\n");
        hRawClose(b);
    }
    /* a huge declared multibulk that never arrives: the server waits, others go on */
    {
        hraw *h = hRawConnect(srv);
        hRawSendStr(h, "*1048576\r\n$4\r\nPING\r\n");
        redisContext *c = hConnect(srv);
        EXPECT(c, "+PONG", "PING");
        redisFree(c);
        int closed = 0;
        size_t gl;
        char *got = hRawReadToClose(h, 200, &closed, &gl);
        CHECK_MSG(gl == 0 && !closed, "got %s closed=%d", hEscape(got, gl), closed);
        hRawClose(h);
    }
    /* random garbage never crashes the server */
    {
        unsigned seed = 12345;
        for (int i = 0; i < 200; i++) {
            hraw *g = hRawConnect(srv);
            char junk[512];
            size_t len = 1 + (size_t)(rand_r(&seed) % (int)sizeof(junk));
            for (size_t j = 0; j < len; j++) {
                int k = rand_r(&seed) % 10;
                junk[j] = k < 2 ? "*$\r\n-:+0123456789"[rand_r(&seed) % 18] : (char)(rand_r(&seed) & 0xff);
            }
            hRawSend(g, junk, len);
            hRawClose(g);
        }
        redisContext *c = hConnect(srv);
        EXPECT(c, "+PONG", "PING");
        redisFree(c);
    }
}

/* Protocol errors close only the offender; other clients keep their state. */
static void testIsolation(void) {
    hSection("a protocol error closes only that client");
    redisContext *a = hConnect(srv);
    EXPECT(a, "+OK", "SELECT 3");
    EXPECT(a, "+OK", "CLIENT SETNAME bystander");
    EXPECT(a, "+OK", "MULTI");
    EXPECT(a, "+QUEUED", "SET iso 1");
    hraw *subscriber = hRawConnect(srv);
    RAW_EXPECT(subscriber, "SUBSCRIBE isoch\r\n", "*3\r\n$9\r\nsubscribe\r\n$5\r\nisoch\r\n:1\r\n");
    for (int i = 0; i < 20; i++) ERR_CLOSE("*1\r\n$-3\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    EXPECT(a, "[+OK]", "EXEC");
    EXPECT(a, "\"bystander\"", "CLIENT GETNAME");
    EXPECT(a, "\"1\"", "GET iso");
    EXPECT(a, ":1", "PUBLISH isoch still-here");
    RAW_EXPECT(subscriber, NULL, "*3\r\n$7\r\nmessage\r\n$5\r\nisoch\r\n$10\r\nstill-here\r\n");
    hRawClose(subscriber);
    EXPECT(a, ":1", "DEL iso");
    redisFree(a);
}

static void testLimits(void) {
    hSection("oversize requests (proto-max-bulk-len, client-query-buffer-limit)");
    const char *extra[] = {"--proto-max-bulk-len", "1mb", NULL};
    hserver *s = hStartServer(extra);
    hserver *saved = srv;
    srv = s;
    redisContext *c = hConnect(s);
    EXPECT(c, "[\"proto-max-bulk-len\",\"1048576\"]", "CONFIG GET proto-max-bulk-len");
    ERR_CLOSE("*1\r\n$1048577\r\n", "-ERR Protocol error: invalid bulk length\r\n");
    {
        /* exactly the limit is allowed */
        hraw *r = hRawConnect(s);
        hbuf b = {0};
        hbufPrintf(&b, "*3\r\n$3\r\nSET\r\n$2\r\nmx\r\n$%d\r\n", 1048576);
        for (int i = 0; i < 1048576; i++) hbufCat(&b, "z", 1);
        hbufCat(&b, "\r\n", 2);
        hRawSend(r, b.p, b.len);
        free(b.p);
        RAW_EXPECT(r, NULL, "+OK\r\n");
        RAW_EXPECT(r, "STRLEN mx\r\n", ":1048576\r\n");
        /* growing a string past proto-max-bulk-len is refused */
        RAW_EXPECT(r, "APPEND mx z\r\n", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
        RAW_EXPECT(r, "SETRANGE mx 1048576 z\r\n", "-ERR string exceeds maximum allowed size (proto-max-bulk-len)\r\n");
        RAW_EXPECT(r, "SETBIT mx 8388608 1\r\n", "-ERR bit offset is not an integer or out of range\r\n");
        RAW_EXPECT(r, "DEL mx\r\n", ":1\r\n");
        hRawClose(r);
    }
    EXPECT(c, "+OK", "CONFIG SET proto-max-bulk-len 8mb client-query-buffer-limit 1mb");
    {
        /* one argument bigger than client-query-buffer-limit: that client
         * is closed without a reply, nobody else is */
        hraw *r = hRawConnect(s);
        hbuf b = {0};
        hbufPrintf(&b, "*2\r\n$4\r\nECHO\r\n$%d\r\n", 3 * 1048576);
        for (int i = 0; i < 3 * 1048576; i++) hbufCat(&b, "e", 1);
        hbufCat(&b, "\r\n", 2);
        hRawSend(r, b.p, b.len);
        free(b.p);
        int closed = 0;
        size_t gl;
        char *got = hRawReadToClose(r, 3000, &closed, &gl);
        CHECK_MSG(closed && gl == 0, "closed=%d, got %s", closed, hEscape(got, gl > 80 ? 80 : gl));
        hRawClose(r);
        EXPECT(c, "+PONG", "PING");
    }
    {
        /* many arguments that together exceed the limit are consumed one by
         * one, as Redis does */
        hraw *r = hRawConnect(s);
        hbuf b = {0};
        int args = 40;
        hbufPrintf(&b, "*%d\r\n$3\r\nDEL\r\n", args + 1);
        for (int i = 0; i < args; i++) {
            hbufPrintf(&b, "$%d\r\n", 60000);
            for (int j = 0; j < 60000; j++) hbufCat(&b, "q", 1);
            hbufCat(&b, "\r\n", 2);
        }
        hRawSend(r, b.p, b.len);
        free(b.p);
        RAW_EXPECT(r, NULL, ":0\r\n");
        hRawClose(r);
    }
    {
        /* a pipeline of small commands larger than the limit is fine too */
        hraw *r = hRawConnect(s);
        hbuf b = {0};
        for (int i = 0; i < 100000; i++) hbufCat(&b, "*2\r\n$4\r\nINCR\r\n$2\r\nqq\r\n", 22);
        /* write from a child so that replies are read meanwhile */
        fflush(stdout);
        pid_t pid = fork();
        if (pid == 0) {
            hRawSend(r, b.p, b.len);
            _exit(0);
        }
        size_t n = 0;
        while (n < 100000 && hRawReply(r, 5000, NULL)) n++;
        waitpid(pid, NULL, 0);
        CHECK_INT(n, 100000);
        free(b.p);
        hRawClose(r);
        EXPECT(c, "\"100000\"", "GET qq");
    }
    redisFree(c);
    srv = saved;
    STOP_SERVER(s);
}

static void testUnauthenticated(void) {
    hSection("limits before AUTH");
    const char *extra[] = {"--requirepass", "pw", NULL};
    hserver *s = hStartServer(extra);
    hserver *saved = srv;
    srv = s;
    ERR_CLOSE("*11\r\n", "-ERR Protocol error: unauthenticated multibulk length\r\n");
    ERR_CLOSE("*1\r\n$16385\r\n", "-ERR Protocol error: unauthenticated bulk length\r\n");
    {
        hraw *r = hRawConnect(s);
        RAW_EXPECT(r, "*10\r\n$4\r\nPING\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
                   "-NOAUTH Authentication required.\r\n");
        RAW_EXPECT(r, "AUTH pw\r\n", "+OK\r\n");
        RAW_EXPECT(r, "*11\r\n$4\r\nMSET\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n$1\r\na\r\n",
                   "+OK\r\n");
        hRawClose(r);
    }
    srv = saved;
    STOP_SERVER(s);
}

int main(void) {
    hInit(100);
    srv = hStartServer(NULL);
    testPipelining();
    testInline();
    testSplit();
    testBadInput();
    testIsolation();
    testLimits();
    testUnauthenticated();
    STOP_SERVER(srv);
    return hDone();
}
