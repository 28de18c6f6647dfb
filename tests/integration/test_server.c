/* test_server.c - server commands: INFO sections, CONFIG GET/SET/RESETSTAT
 * with globs, COMMAND COUNT/INFO/DOCS/GETKEYS/LIST, TIME, LASTSAVE, SLOWLOG,
 * MONITOR, DEBUG SLEEP/DIGEST/DIGEST-VALUE, FUNCTION FLUSH. */
#include "harness.h"

static hserver *srv;
static redisContext *c;

/* The text of a bulk reply (INFO, CLIENT INFO), in the ring. */
static char *bulk(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char *s = (r && r->type == REDIS_REPLY_STRING) ? hRing(r->str, r->len) : hRenderOrErr(c, r);
    if (r) freeReplyObject(r);
    return s;
}

/* The "# Section" headers of an INFO text, space-separated. */
static char *sections(const char *info) {
    hbuf b = {0};
    hbufCat(&b, "", 0);
    for (const char *p = info; (p = strstr(p, "# ")) != NULL; p++) {
        if (p != info && p[-1] != '\n') continue;
        const char *e = strstr(p, "\r\n");
        if (!e) break;
        if (b.len) hbufCat(&b, " ", 1);
        hbufCat(&b, p + 2, (size_t)(e - p - 2));
    }
    char *s = hRing(b.p, b.len);
    free(b.p);
    return s;
}

/* The value of field name in an INFO text, or "(absent)". */
static char *infoField(const char *info, const char *name) {
    size_t n = strlen(name);
    for (const char *p = info; p && *p; p = strchr(p, '\n'), p = p ? p + 1 : NULL) {
        if (strncmp(p, name, n) == 0 && p[n] == ':') {
            const char *e = strstr(p, "\r\n");
            return hRing(p + n + 1, e ? (size_t)(e - p - n - 1) : strlen(p + n + 1));
        }
    }
    return "(absent)";
}

static int cmpPair(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* CONFIG GET with the pairs sorted by name (Redis's order is its hash
 * table's), rendered as name=value,... */
static char *configGet(const char *args) {
    char cmd[256];
    snprintf(cmd, sizeof(cmd), "CONFIG GET %s", args);
    redisReply *r = redisCommand(c, cmd);
    if (!r || r->type != REDIS_REPLY_ARRAY || r->elements % 2) {
        char *s = hRenderOrErr(c, r);
        if (r) freeReplyObject(r);
        return s;
    }
    size_t n = r->elements / 2;
    char **pairs = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        size_t l = r->element[2 * i]->len + r->element[2 * i + 1]->len + 2;
        pairs[i] = malloc(l);
        snprintf(pairs[i], l, "%s=%s", r->element[2 * i]->str, r->element[2 * i + 1]->str);
    }
    qsort(pairs, n, sizeof(char *), cmpPair);
    hbuf b = {0};
    hbufCat(&b, "", 0);
    for (size_t i = 0; i < n; i++) {
        if (i) hbufCat(&b, ",", 1);
        hbufCat(&b, pairs[i], strlen(pairs[i]));
        free(pairs[i]);
    }
    free(pairs);
    freeReplyObject(r);
    char *s = hRing(b.p, b.len);
    free(b.p);
    return s;
}

static void testInfo(void) {
    hSection("INFO");
    const char *defaults = "Server Clients Memory Persistence Stats Replication CPU Modules Errorstats Cluster Keyspace";
    CHECK_STR(sections(bulk("INFO")), defaults);
    CHECK_STR(sections(bulk("INFO default")), defaults);
    CHECK_STR(sections(bulk("INFO all")), "Server Clients Memory Persistence Stats Replication CPU Modules "
                                          "Commandstats Errorstats Latencystats Cluster Keyspace");
    CHECK_STR(sections(bulk("INFO everything")), "Server Clients Memory Persistence Stats Replication CPU Modules "
                                                 "Commandstats Errorstats Latencystats Cluster Keyspace");
    CHECK_STR(sections(bulk("INFO server")), "Server");
    CHECK_STR(sections(bulk("INFO SERVER")), "Server");
    CHECK_STR(sections(bulk("INFO server clients")), "Server Clients");
    CHECK_STR(sections(bulk("INFO commandstats")), "Commandstats");
    CHECK_STR(sections(bulk("INFO latencystats")), "Latencystats");
    CHECK_STR(sections(bulk("INFO default commandstats")),
              "Server Clients Memory Persistence Stats Replication CPU Modules Commandstats Errorstats Cluster "
              "Keyspace");
    EXPECT(c, "\"\"", "INFO nosuchsection");

    char *info = bulk("INFO server");
    CHECK_STR(infoField(info, "redis_version"), "7.0.15");
    CHECK_STR(infoField(info, "redis_mode"), "standalone");
    char port[16];
    snprintf(port, sizeof(port), "%d", srv->port);
    CHECK_STR(infoField(info, "tcp_port"), port);
    CHECK(atoi(infoField(info, "process_id")) == srv->pid);
    CHECK_STR(infoField(info, "arch_bits"), "64");
    CHECK(strlen(infoField(info, "run_id")) == 40);
    info = bulk("INFO clients");
    CHECK_STR(infoField(info, "connected_clients"), "1");
    CHECK_STR(infoField(info, "maxclients"), "10000");
    CHECK_STR(infoField(info, "blocked_clients"), "0");
    redisContext *c2 = hConnect(srv);
    CHECK_STR(infoField(bulk("INFO clients"), "connected_clients"), "2");
    redisFree(c2);
    info = bulk("INFO replication");
    CHECK_STR(infoField(info, "role"), "master");
    CHECK_STR(infoField(info, "connected_slaves"), "0");
    info = bulk("INFO persistence");
    CHECK_STR(infoField(info, "loading"), "0");
    info = bulk("INFO memory");
    CHECK(atoll(infoField(info, "used_memory")) > 0);
    info = bulk("INFO cluster");
    CHECK_STR(infoField(info, "cluster_enabled"), "0");

    /* keyspace */
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "\"# Keyspace\\r\\n\"", "INFO keyspace");
    EXPECT(c, "+OK", "MSET a 1 b 2");
    EXPECT(c, "+OK", "SET e 1 EX 1000");
    EXPECT(c, "+OK", "SELECT 2");
    EXPECT(c, "+OK", "SET x 1");
    EXPECT(c, "+OK", "SELECT 0");
    info = bulk("INFO keyspace");
    CHECK_MSG(hGlob("# Keyspace\r\ndb0:keys=3,expires=1,avg_ttl=*\r\ndb2:keys=1,expires=0,avg_ttl=0\r\n", info),
              "%s", hEscape(info, strlen(info)));
    EXPECT(c, "+OK", "FLUSHALL");

    /* stats follow commands */
    EXPECT(c, "+OK", "CONFIG RESETSTAT");
    EXPECT(c, "+OK", "SET k v");
    EXPECT(c, "\"v\"", "GET k");
    EXPECT(c, "(nil)", "GET nosuch");
    EXPECT(c, "-ERR wrong number of arguments for 'get' command", "GET");
    EXPECT(c, "-ERR value is not an integer or out of range", "INCR k");
    info = bulk("INFO stats");
    CHECK_STR(infoField(info, "keyspace_hits"), "1"); /* a write's lookup is no hit */
    CHECK_STR(infoField(info, "keyspace_misses"), "1");
    CHECK_STR(infoField(info, "total_error_replies"), "2");
    CHECK_STR(infoField(info, "total_commands_processed"), "5"); /* RESETSTAT itself, not the rejected GET */
    info = bulk("INFO commandstats");
    CHECK_MSG(hGlob("calls=1,usec=*,usec_per_call=*,rejected_calls=0,failed_calls=0", infoField(info, "cmdstat_set")),
              "cmdstat_set:%s", infoField(info, "cmdstat_set"));
    CHECK_MSG(hGlob("calls=2,usec=*,usec_per_call=*,rejected_calls=1,failed_calls=0", infoField(info, "cmdstat_get")),
              "cmdstat_get:%s", infoField(info, "cmdstat_get"));
    CHECK_MSG(hGlob("calls=1,usec=*,usec_per_call=*,rejected_calls=0,failed_calls=1", infoField(info, "cmdstat_incr")),
              "cmdstat_incr:%s", infoField(info, "cmdstat_incr"));
    info = bulk("INFO errorstats");
    CHECK_STR(infoField(info, "errorstat_ERR"), "count=2");
    EXPECT(c, "+OK", "CONFIG RESETSTAT");
    info = bulk("INFO everything");
    CHECK_STR(infoField(info, "errorstat_ERR"), "(absent)");
    CHECK_STR(infoField(info, "cmdstat_set"), "(absent)");
    CHECK_STR(infoField(info, "keyspace_hits"), "0");
    CHECK_STR(infoField(info, "total_error_replies"), "0");
    EXPECT(c, "-ERR wrong number of arguments for 'config|resetstat' command", "CONFIG RESETSTAT x");
}

static void testConfig(void) {
    hSection("CONFIG GET SET");
    char port[64];
    snprintf(port, sizeof(port), "port=%d", srv->port);
    CHECK_STR(configGet("port"), port);
    {
        char upper[64]; /* an exact name comes back as it was asked for */
        snprintf(upper, sizeof(upper), "PORT=%d", srv->port);
        CHECK_STR(configGet("PORT"), upper);
    }
    CHECK_STR(configGet("maxclients"), "maxclients=10000");
    CHECK_STR(configGet("databases"), "databases=16");
    CHECK_STR(configGet("bind"), "bind=127.0.0.1");
    CHECK_STR(configGet("protected-mode"), "protected-mode=yes");
    CHECK_STR(configGet("proto-max-bulk-len"), "proto-max-bulk-len=536870912");
    CHECK_STR(configGet("client-query-buffer-limit"), "client-query-buffer-limit=1073741824");
    CHECK_STR(configGet("timeout"), "timeout=0");
    CHECK_STR(configGet("loglevel"), "loglevel=notice");
    CHECK_STR(configGet("notify-keyspace-events"), "notify-keyspace-events=");
    CHECK_STR(configGet("slowlog-*"), "slowlog-log-slower-than=10000,slowlog-max-len=128");
    CHECK_STR(configGet("*max*len*"), "acllog-max-len=128,proto-max-bulk-len=536870912,slowlog-max-len=128");
    {
        char want[128];
        snprintf(want, sizeof(want), "maxclients=10000,%s", port);
        CHECK_STR(configGet("maxclients port"), want);
        CHECK_STR(configGet("port maxclients port"), want);
        CHECK_STR(configGet("maxclient? p?rt"), want);
    }
    CHECK_STR(configGet("nosuchparam"), "");
    CHECK_STR(configGet("slave-read-only"), "slave-read-only=yes");
    CHECK_STR(configGet("replica-read-only"), "replica-read-only=yes");
    {
        redisReply *r = redisCommand(c, "CONFIG GET *");
        CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements >= 100 && r->elements % 2 == 0);
        if (r) freeReplyObject(r);
    }
    EXPECT(c, "-ERR wrong number of arguments for 'config|get' command", "CONFIG GET");
    EXPECT(c, "-ERR unknown subcommand 'foo'. Try CONFIG HELP.", "CONFIG foo");
    EXPECT(c, "-ERR wrong number of arguments for 'config' command", "CONFIG");

    EXPECT(c, "+OK", "CONFIG SET maxclients 5000");
    CHECK_STR(configGet("maxclients"), "maxclients=5000");
    EXPECT(c, "+OK", "CONFIG SET MAXCLIENTS 10000 slowlog-max-len 64");
    CHECK_STR(configGet("maxclients slowlog-max-len"), "maxclients=10000,slowlog-max-len=64");
    EXPECT(c, "+OK", "CONFIG SET slowlog-max-len 128");
    EXPECT(c, "+OK", "CONFIG SET maxmemory 1mb");
    CHECK_STR(configGet("maxmemory"), "maxmemory=1048576");
    EXPECT(c, "+OK", "CONFIG SET maxmemory 2GB");
    CHECK_STR(configGet("maxmemory"), "maxmemory=2147483648");
    EXPECT(c, "+OK", "CONFIG SET maxmemory 0");
    EXPECT(c, "+OK", "CONFIG SET loglevel warning");
    CHECK_STR(configGet("loglevel"), "loglevel=warning");
    EXPECT(c, "+OK", "CONFIG SET loglevel notice");
    EXPECT(c, "+OK", "CONFIG SET save %s", "");
    CHECK_STR(configGet("save"), "save=");
    EXPECT(c, "+OK", "CONFIG SET hz 1000");
    CHECK_STR(configGet("hz"), "hz=500"); /* clamped */
    EXPECT(c, "+OK", "CONFIG SET hz 10");
    EXPECT(c, "-ERR Unknown option or number of arguments for CONFIG SET - 'nosuch'", "CONFIG SET nosuch 1");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'maxclients') - argument couldn't be parsed into "
              "an integer",
           "CONFIG SET maxclients x");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
           "CONFIG SET maxmemory 1x");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'protected-mode') - argument must be 'yes' or "
              "'no'",
           "CONFIG SET protected-mode maybe");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'loglevel') - argument(s) must be one of the "
              "following: debug, verbose, notice, warning",
           "CONFIG SET loglevel foo");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'databases') - can't set immutable config",
           "CONFIG SET databases 3");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'hz') - duplicate parameter",
           "CONFIG SET hz 20 hz 30");
    EXPECT(c, "-ERR syntax error", "CONFIG SET maxclients 100 hz");
    EXPECT(c, "-ERR wrong number of arguments for 'config|set' command", "CONFIG SET maxclients");
    /* a failed multi-parameter SET changes nothing */
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'maxmemory') - argument must be a memory value",
           "CONFIG SET maxclients 100 maxmemory bad");
    CHECK_STR(configGet("maxclients"), "maxclients=10000");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'notify-keyspace-events') - Invalid event class "
              "character. Use 'Ag$lshzxeKEtmdn'.",
           "CONFIG SET notify-keyspace-events Q");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events KEA");
    CHECK_STR(configGet("notify-keyspace-events"), "notify-keyspace-events=AKE");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events Kg$");
    CHECK_STR(configGet("notify-keyspace-events"), "notify-keyspace-events=g$K");
    EXPECT(c, "+OK", "CONFIG SET notify-keyspace-events %s", "");
    CHECK_STR(configGet("notify-keyspace-events"), "notify-keyspace-events=");
}

static void testCommand(void) {
    hSection("COMMAND");
    long long count = hRunInt(c, "COMMAND COUNT");
    CHECK(count > 50);
    redisReply *list = redisCommand(c, "COMMAND LIST");
    CHECK(list && list->type == REDIS_REPLY_ARRAY && (long long)list->elements > count); /* with subcommands */
    if (list) freeReplyObject(list);
    EXPECT(c, "-ERR wrong number of arguments for 'command|count' command", "COMMAND COUNT x");

    /* Name, arity, flags and key positions are Redis's; key-spec flags, tips
     * and the docs' complexity/arguments are not filled in yet (see notes). */
    EXPECT_GLOB(c, "[[\"get\",:2,[+readonly,+fast],:1,:1,:1,[+@read,+@string,+@fast],*]]", "COMMAND INFO get");
    EXPECT_GLOB(c, "[[\"mset\",:-3,[+write,+denyoom],:1,:-1,:2,[+@write,+@string,+@slow],*]]", "COMMAND INFO mset");
    EXPECT(c,
           "[[\"config|get\",:-3,[+admin,+noscript,+loading,+stale],:0,:0,:0,[+@admin,+@slow,+@dangerous],[],[],[]]]",
           "COMMAND INFO config|get");
    EXPECT_GLOB(c, "[[\"ping\",:-1,[+fast],:0,:0,:0,[+@fast,+@connection],*]]", "COMMAND INFO ping");
    EXPECT_GLOB(c, "[(nil),[\"get\",:2,*]]", "COMMAND INFO nosuch GET");
    {
        redisReply *r = redisCommand(c, "COMMAND INFO");
        CHECK(r && r->type == REDIS_REPLY_ARRAY && (long long)r->elements == count);
        if (r) freeReplyObject(r);
    }

    EXPECT(c, "[\"k\"]", "COMMAND GETKEYS get k");
    EXPECT(c, "[\"a\"]", "COMMAND GETKEYS set a b ex 10");
    EXPECT(c, "[\"a\",\"b\"]", "COMMAND GETKEYS mset a 1 b 2");
    EXPECT(c, "[\"a\",\"b\"]", "COMMAND GETKEYS copy a b");
    EXPECT(c, "[\"d\",\"a\",\"b\"]", "COMMAND GETKEYS bitop and d a b");
    EXPECT(c, "[\"k\"]", "COMMAND GETKEYS object encoding k");
    EXPECT(c, "[\"a\",\"b\"]", "COMMAND GETKEYS lcs a b");
    EXPECT(c, "-ERR Invalid command specified", "COMMAND GETKEYS nosuch a");
    EXPECT(c, "-ERR The command has no key arguments", "COMMAND GETKEYS ping x");
    EXPECT(c, "-ERR Invalid number of arguments specified for command", "COMMAND GETKEYS get a b");
    EXPECT(c, "-ERR Invalid number of arguments specified for command", "COMMAND GETKEYS set a");
    EXPECT(c, "-ERR wrong number of arguments for 'command|getkeys' command", "COMMAND GETKEYS get");
    EXPECT(c, "-ERR wrong number of arguments for 'command|getkeys' command", "COMMAND GETKEYS");

    EXPECT_GLOB(c, "[\"get\",[\"summary\",*,\"since\",\"1.0.0\",\"group\",\"string\"*]]", "COMMAND DOCS get");
    EXPECT(c, "[]", "COMMAND DOCS nosuch");

    {
        redisReply *r = redisCommand(c, "COMMAND LIST FILTERBY PATTERN get*");
        char *names[16];
        size_t n = 0;
        for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements && n < 16; i++)
            names[n++] = r->element[i]->str;
        qsort(names, n, sizeof(char *), cmpPair);
        hbuf b = {0};
        hbufCat(&b, "", 0);
        for (size_t i = 0; i < n; i++) hbufPrintf(&b, "%s%s", i ? "," : "", names[i]);
        CHECK_STR(b.p, "get,getbit,getdel,getex,getrange,getset");
        free(b.p);
        if (r) freeReplyObject(r);
    }
    EXPECT_GLOB(c, "[*\"object|encoding\"*]", "COMMAND LIST FILTERBY ACLCAT keyspace");
    EXPECT(c, "[]", "COMMAND LIST FILTERBY MODULE x");
    EXPECT(c, "-ERR syntax error", "COMMAND LIST FILTERBY foo x");
    EXPECT(c, "-ERR syntax error", "COMMAND LIST x");
    EXPECT(c, "-ERR unknown subcommand 'foo'. Try COMMAND HELP.", "COMMAND foo");
}

static void testTimeLastsave(void) {
    hSection("TIME LASTSAVE");
    redisReply *r = redisCommand(c, "TIME");
    CHECK(r && r->type == REDIS_REPLY_ARRAY && r->elements == 2);
    if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2) {
        long long secs = atoll(r->element[0]->str), usec = atoll(r->element[1]->str);
        long long now = hNowMs();
        CHECK_RANGE(secs * 1000 + usec / 1000, now - 2000, now + 2000);
        CHECK_RANGE(usec, 0, 999999);
    }
    if (r) freeReplyObject(r);
    EXPECT(c, "-ERR wrong number of arguments for 'time' command", "TIME x");
    CHECK_RANGE(hRunInt(c, "LASTSAVE"), hNowMs() / 1000 - 120, hNowMs() / 1000 + 1);
    EXPECT(c, "-ERR wrong number of arguments for 'lastsave' command", "LASTSAVE x");
}

static void testSlowlog(void) {
    hSection("SLOWLOG");
    EXPECT(c, "+OK", "SLOWLOG RESET");
    EXPECT(c, ":0", "SLOWLOG LEN");
    EXPECT(c, "[]", "SLOWLOG GET");
    EXPECT(c, "+OK", "CLIENT SETNAME slowpoke");
    EXPECT(c, "+OK", "CONFIG SET slowlog-log-slower-than 0");
    EXPECT(c, "+OK", "SET slowkey %s", "value");
    char pat[512];
    snprintf(pat, sizeof(pat), "[[:*,:*,:*,[\"SET\",\"slowkey\",\"value\"],\"127.0.0.1:*\",\"slowpoke\"]]");
    EXPECT_GLOB(c, pat, "SLOWLOG GET 1");
    EXPECT_GLOB(c, "[[:*,:*,:*,[\"SLOWLOG\",\"GET\",\"1\"],*],[:*,:*,:*,[\"SET\",\"slowkey\",\"value\"],*]]", "SLOWLOG GET 2");
    CHECK_RANGE(hRunInt(c, "SLOWLOG LEN"), 3, 6);
    /* long arguments are cut at 128 bytes, long argument lists at 32 */
    {
        char big[300];
        memset(big, 'x', 200);
        big[200] = '\0';
        EXPECT(c, "+OK", "SET big %s", big);
        EXPECT_GLOB(c, "[[:*,:*,:*,[\"SET\",\"big\",\"xxxxxxxx*xxxx... (72 more bytes)\"],*]]", "SLOWLOG GET 1");
        hbuf cmd = {0};
        hbufCat(&cmd, "DEL", 3);
        for (int i = 0; i < 40; i++) hbufPrintf(&cmd, " k%d", i);
        EXPECT(c, ":0", cmd.p);
        free(cmd.p);
        EXPECT_GLOB(c, "[[:*,:*,:*,[\"DEL\",\"k0\",*,\"k28\",\"k29\",\"... (10 more arguments)\"],*]]",
                    "SLOWLOG GET 1");
    }
    EXPECT(c, "+OK", "CONFIG SET slowlog-max-len 3");
    EXPECT(c, "+PONG", "PING");
    EXPECT(c, ":3", "SLOWLOG LEN");
    EXPECT(c, "+OK", "CONFIG SET slowlog-log-slower-than -1");
    EXPECT(c, "+OK", "SLOWLOG RESET");
    EXPECT(c, "+PONG", "PING");
    EXPECT(c, ":0", "SLOWLOG LEN");
    EXPECT(c, "+OK", "CONFIG SET slowlog-log-slower-than 100000");
    EXPECT(c, "+OK", "DEBUG SLEEP 0.2");
    EXPECT_GLOB(c, "[[:*,:*,:*,[\"DEBUG\",\"SLEEP\",\"0.2\"],*]]", "SLOWLOG GET");
    {
        redisReply *r = redisCommand(c, "SLOWLOG GET 1");
        if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 1 && r->element[0]->elements >= 3)
            CHECK_RANGE(r->element[0]->element[2]->integer, 190000, 2000000);
        else
            CHECK(0);
        if (r) freeReplyObject(r);
    }
    EXPECT(c, "+OK", "CONFIG SET slowlog-log-slower-than 10000");
    EXPECT(c, "+OK", "CONFIG SET slowlog-max-len 128");
    EXPECT(c, "[]", "SLOWLOG GET 0");
    EXPECT_GLOB(c, "[[*]]", "SLOWLOG GET -1");
    EXPECT(c, "-ERR count should be greater than or equal to -1", "SLOWLOG GET -2");
    EXPECT(c, "-ERR count should be greater than or equal to -1", "SLOWLOG GET x");
    EXPECT(c, "-ERR unknown subcommand 'foo'. Try SLOWLOG HELP.", "SLOWLOG foo");
    EXPECT_GLOB(c, "[+SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:,*,+HELP,+    Prints this help.]",
                "SLOWLOG HELP");
    EXPECT(c, "+OK", "CLIENT SETNAME %s", "");
}

static void testMonitor(void) {
    hSection("MONITOR");
    redisContext *m = hConnect(srv);
    EXPECT(m, "+OK", "MONITOR");
    redisContext *w = hConnect(srv);
    EXPECT_ARGS(w, "+OK", "SET", "mon", "a \"quoted\"\\ \x01value");
    EXPECT(w, "+OK", "SELECT 2");
    EXPECT(w, "(nil)", "GET mon");
    EXPECT(w, "-ERR AUTH <password> called without any password configured for the default user. Are you sure your "
              "configuration is correct?",
           "AUTH secretpass");
    EXPECT(w, "+OK", "SELECT 0");
    EXPECT(w, "+OK", "MULTI");
    EXPECT(w, "+QUEUED", "INCR mc");
    EXPECT(w, "[:1]", "EXEC");
    hSetTimeoutMs(m, 3000);
    const char *want[] = {
        "+* [0 127.0.0.1:*] \"SET\" \"mon\" \"a \\\"quoted\\\"\\\\ \\x01value\"",
        "+* [2 127.0.0.1:*] \"SELECT\" \"2\"",
        "+* [2 127.0.0.1:*] \"GET\" \"mon\"",
        "+* [2 127.0.0.1:*] \"AUTH\" \"(redacted)\"",
        "+* [0 127.0.0.1:*] \"SELECT\" \"0\"",
        "+* [0 127.0.0.1:*] \"MULTI\"",
        "+* [0 127.0.0.1:*] \"INCR\" \"mc\"",
        "+* [0 127.0.0.1:*] \"EXEC\"",
    };
    for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
        char *got = hNext(m);
        hReport(__FILE__, __LINE__, hGlob(want[i], got), "monitor line", want[i], got);
    }
    /* the timestamp is seconds.microseconds */
    EXPECT(w, "+PONG", "PING");
    {
        char *got = hNext(m);
        long sec = 0, usec = 0;
        int n = sscanf(got, "+%ld.%6ld [", &sec, &usec);
        CHECK_MSG(n == 2 && labs(sec - (long)(hNowMs() / 1000)) < 5, "%s", got);
    }
    redisFree(w);
    redisFree(m);
    EXPECT(c, ":1", "DEL mon");
    EXPECT(c, ":1", "DEL mc");
}

static void testDebug(void) {
    hSection("DEBUG FUNCTION");
    EXPECT(c, "+OK", "FLUSHALL");
    EXPECT(c, "+0000000000000000000000000000000000000000", "DEBUG DIGEST");
    EXPECT(c, "+OK", "SET a 1");
    redisReply *r = redisCommand(c, "DEBUG DIGEST");
    char d1[64] = "";
    if (r && r->type == REDIS_REPLY_STATUS) snprintf(d1, sizeof(d1), "%s", r->str);
    if (r) freeReplyObject(r);
    CHECK(strlen(d1) == 40 && strspn(d1, "0123456789abcdef") == 40 && strcmp(d1, "0000000000000000000000000000000000000000"));
    EXPECT(c, "+OK", "SET b 2");
    EXPECT_GLOB(c, "+????????????????????????????????????????", "DEBUG DIGEST");
    CHECK(strcmp(RUN(c, "DEBUG DIGEST") + 1, d1) != 0);
    EXPECT(c, ":1", "DEL b");
    CHECK_STR(RUN(c, "DEBUG DIGEST") + 1, d1);
    EXPECT(c, "+OK", "SET a 2");
    CHECK(strcmp(RUN(c, "DEBUG DIGEST") + 1, d1) != 0);
    EXPECT(c, "+OK", "SET a 1");
    CHECK_STR(RUN(c, "DEBUG DIGEST") + 1, d1);
    EXPECT(c, ":1", "EXPIRE a 100");
    EXPECT_GLOB(c, "[+????????????????????????????????????????,+0000000000000000000000000000000000000000]",
                "DEBUG DIGEST-VALUE a nosuch");
    EXPECT(c, "[]", "DEBUG DIGEST-VALUE");

    /* the digest is of the contents: another server holding the same keys,
     * written in another order and another way, has the same digest */
    {
        hserver *s2 = hStartServer(NULL);
        redisContext *c2 = hConnect(s2);
        EXPECT(c, "+OK", "FLUSHALL");
        EXPECT(c, "+OK", "MSET a 1 b hello c 3");
        EXPECT(c, "+OK", "SELECT 1");
        EXPECT(c, "+OK", "SET x y");
        EXPECT(c, "+OK", "SELECT 0");
        EXPECT(c2, "+OK", "SELECT 1");
        EXPECT(c2, "+OK", "SET x y");
        EXPECT(c2, "+OK", "SELECT 0");
        EXPECT(c2, ":1", "INCR c");
        EXPECT(c2, ":5", "APPEND b hello");
        EXPECT(c2, ":3", "INCRBY c 2");
        EXPECT(c2, "+OK", "SET a 1");
        char *d1 = strdup(RUN(c, "DEBUG DIGEST"));
        CHECK_STR(RUN(c2, "DEBUG DIGEST"), d1);
        EXPECT(c2, "+OK", "SET a 2");
        CHECK(strcmp(RUN(c2, "DEBUG DIGEST"), d1) != 0);
        EXPECT(c2, "+OK", "SET a 1");
        CHECK_STR(RUN(c2, "DEBUG DIGEST"), d1);
        EXPECT(c2, "+OK", "SELECT 1");
        EXPECT(c2, ":1", "DEL x");
        CHECK(strcmp(RUN(c2, "DEBUG DIGEST"), d1) != 0);
        free(d1);
        redisFree(c2);
        STOP_SERVER(s2);
    }

    /* DEBUG SLEEP blocks the whole server */
    redisContext *other = hConnect(srv);
    hAppend(c, "DEBUG SLEEP 0.3");
    int done = 0;
    redisBufferWrite(c, &done);
    hSleepMs(50);
    long long t0 = hNowMs();
    EXPECT(other, "+PONG", "PING");
    CHECK_RANGE(hNowMs() - t0, 150, 3000);
    EXPECT_NEXT(c, "+OK");
    redisFree(other);
    EXPECT(c, "+OK", "DEBUG SLEEP 0");
    EXPECT(c, "+OK", "DEBUG SLEEP x"); /* Redis takes it as 0 */
    EXPECT(c, "-ERR unknown subcommand or wrong number of arguments for 'foo'. Try DEBUG HELP.", "DEBUG foo");
    EXPECT(c, "-ERR wrong number of arguments for 'debug' command", "DEBUG");

    EXPECT(c, "+OK", "FUNCTION FLUSH");
    EXPECT(c, "+OK", "FUNCTION FLUSH SYNC");
    EXPECT(c, "+OK", "FUNCTION FLUSH ASYNC");
    EXPECT(c, "-ERR FUNCTION FLUSH only supports SYNC|ASYNC option", "FUNCTION FLUSH foo");
    EXPECT(c, "-ERR wrong number of arguments for 'function' command", "FUNCTION");
}

/* busy-poll-us: after input the loop keeps polling for that long, then sleeps. */
static void testBusyPoll(void) {
    hSection("busy-poll-us");
    CHECK_STR(configGet("busy-poll-us"), "busy-poll-us=50");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'busy-poll-us') - argument must be between 0 "
              "and 100000 inclusive",
           "CONFIG SET busy-poll-us -1");
    EXPECT(c, "-ERR CONFIG SET failed (possibly related to argument 'busy-poll-us') - argument must be between 0 "
              "and 100000 inclusive",
           "CONFIG SET busy-poll-us 100001");

    /* A 100 ms window: three requests 200 ms apart keep the server busy for
     * about 300 ms of the 600 (less if the machine is loaded). */
    EXPECT(c, "+OK", "CONFIG SET busy-poll-us 100000");
    long long t0 = hServerCpuMs(srv);
    for (int i = 0; i < 3; i++) {
        EXPECT(c, "+PONG", "PING");
        usleep(200 * 1000);
    }
    long long polled = hServerCpuMs(srv) - t0;
    CHECK_RANGE(polled, 100, 450);

    /* 0: it sleeps at once. */
    EXPECT(c, "+OK", "CONFIG SET busy-poll-us 0");
    t0 = hServerCpuMs(srv);
    for (int i = 0; i < 3; i++) {
        EXPECT(c, "+PONG", "PING");
        usleep(200 * 1000);
    }
    CHECK_RANGE(hServerCpuMs(srv) - t0, 0, 40);

    /* The default window ends: once requests stop, an idle server uses no CPU. */
    EXPECT(c, "+OK", "CONFIG SET busy-poll-us 50");
    for (int i = 0; i < 2000; i++) {
        redisReply *r = redisCommand(c, "PING");
        if (r) freeReplyObject(r);
    }
    usleep(50 * 1000);
    t0 = hServerCpuMs(srv);
    usleep(1000 * 1000);
    CHECK_RANGE(hServerCpuMs(srv) - t0, 0, 40);
}

/* Last: it has crashed the server before. */
static void testCommandAlone(void) {
    hSection("COMMAND without subcommand");
    long long count = hRunInt(c, "COMMAND COUNT");
    redisReply *all = redisCommand(c, "COMMAND");
    CHECK_MSG(all && all->type == REDIS_REPLY_ARRAY && (long long)all->elements == count, "%s",
              all ? "wrong reply" : "no reply");
    if (all) freeReplyObject(all);
    hAbortIfServerDied(__FILE__, __LINE__);
    EXPECT(c, "+PONG", "PING");
}

int main(void) {
    hInit(90);
    srv = hStartServer(NULL);
    c = hConnect(srv);
    testInfo();
    testConfig();
    testCommand();
    testTimeLastsave();
    testSlowlog();
    testMonitor();
    testDebug();
    testBusyPoll();
    testCommandAlone();
    redisFree(c);
    STOP_SERVER(srv);
    return hDone();
}
