/* test_peers_fuzz.c - seeded randomized convergence of a three-node mesh.
 *
 * Each round picks a partition pattern (none; one node stopped; two nodes
 * stopped in turn; two nodes stopped together; a split where one node writes
 * alone, then the other two write without having seen it; a node is
 * sometimes stopped part-way through a pipelined burst), and issues a random
 * mix of writes on the nodes that are running: strings, counters, sets, hashes,
 * expiry, RENAME/COPY, SPOP/SMOVE/S*STORE, type clashes, a rare FLUSHDB,
 * MULTI/EXEC blocks, pipelined bursts, and bursts sent to every running node
 * before any reply is read.  The keys are few (50 per db, dbs 0..2, a small
 * member and field universe) so that conflicts are frequent.  Db 3 holds the
 * keys the rules below are checked on, and a big set and a big hash written
 * to in bursts, so that set and hash deltas are streamed while links are up.
 *
 * A partition is made with SIGSTOP, as in test_peers.c: a stopped node reads
 * and writes nothing, and once stopped for longer than --peer-timeout-ms its
 * peers see the link down.  After each round every node is continued; then
 * DEBUG DIGEST must be equal everywhere within CONVERGE_MS, and the contents
 * must be equal: per db, KEYS * and, per key, TYPE, the value (GET, SMEMBERS
 * sorted, HGETALL sorted) and PEXPIRETIME.  Rules that hold whatever the
 * interleaving, checked after every round:
 *   - a counter only ever INCRBYed (and a hash field only ever HINCRBYed)
 *     equals the sum of every increment issued;
 *   - a set only ever SADDed holds every member ever added, and only those;
 *   - a string only ever SET holds the value of the last SET issued, which
 *     is issued on a random running node 5 ms after every other SET of it.
 *
 * The random choices depend only on the seed (never on replies or timing),
 * so a seed replays the same commands, partitions and nodes; the timing of
 * the servers is not replayed.  Environment:
 *   LATTICE_PEERS_SEED    the seed (default: from the clock); printed first
 *   LATTICE_PEERS_ROUNDS  rounds (default ROUNDS_DEFAULT, about 25 s)
 *   LATTICE_PEERS_VERBOSE 1: print every command and reply as it is read
 * A failure prints the seed, the round, the key, each node's view of it and
 * every command of the run that named that key, and ends the run. */
#include "harness.h"

#define NODES 3
#define RANDOM_DBS 3     /* dbs 0..2: random writes over the small key space, FLUSHDB */
#define RULE_DB 3        /* db 3: the rule keys, the big set and the big hash; never flushed */
#define ALL_DBS 4
#define KEYS 50          /* k0..k49 in each random db; k<i> is mostly of type i % 3 */
#define HOT_KEYS 10      /* half the picks go to k0..k9: conflicts are frequent */
#define MEMBERS 8        /* m0..m7 */
#define FIELDS 6         /* f0..f5 */
#define GROW_MEMBERS 300 /* g0..g299, the add-only set */
#define BIG_LOADED 3000  /* big:set and big:hash start with this many members / fields */
#define BIG_UNIVERSE 4000
#define ROUNDS_DEFAULT 20

#define CONVERGE_MS 10000 /* DEBUG DIGEST equal everywhere */
#define LINK_MS 5000      /* links seen down, or the mesh back online */
#define POLL_MS 50
#define LWW_GAP_MS 5      /* the final SET of the LWW key is issued this much after every other */
#define FAR_DEADLINE 4102444800000LL /* 2100-01-01 in ms: PEXPIREAT never fires during the test */

static const char *const PEER_FLAGS[] = {"--anti-entropy-interval-ms", "200", "--peer-heartbeat-ms", "100",
                                         "--peer-timeout-ms", "1000", NULL};

/* ------------------------------------------------------------------ */
/* The random source: splitmix64, so a seed replays on any platform.    */

static uint64_t rngState;

static uint64_t rnd64(void) {
    uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int rnd(int n) { return (int)(rnd64() % (uint64_t)n); }
static int chance(int pct) { return rnd(100) < pct; }

/* ------------------------------------------------------------------ */
/* Nodes                                                                */

typedef struct node {
    char name;     /* 'A', 'B', 'C' */
    hserver *s;
    redisContext *c;
    int stopped;   /* SIGSTOPped: send it nothing */
    int db;        /* the db its connection has selected */
    int pending;   /* replies sent for and not read yet */
    int logOf[4096]; /* per pending reply: its log entry, -1 (SELECT, MULTI) or EXEC_ENTRY */
    long ops;      /* commands issued this round */
} node;

static node N[NODES];
static uint64_t seed;
static int rounds, round_, verbose, failedRound;

static void nodeStop(node *n) {
    if (!n->s) return;
    if (n->stopped) kill(n->s->pid, SIGCONT);
    n->stopped = 0;
    if (n->c) redisFree(n->c);
    STOP_SERVER(n->s);
    n->s = NULL;
    n->c = NULL;
}

/* ------------------------------------------------------------------ */
/* The log of everything issued, for the report of a failure            */

typedef struct logEntry {
    int round, node, db; /* node -1: a partition event */
    char *text;          /* "SADD k5 m1 m2" or "SIGSTOP B" */
    char *reply;         /* filled when the reply is read */
} logEntry;

static logEntry *logv;
static int logn, logcap;

static int logAdd(int node, int db, const char *text) {
    if (logn == logcap) {
        logcap = logcap ? logcap * 2 : 4096;
        logv = realloc(logv, (size_t)logcap * sizeof(*logv));
        if (!logv) abort();
    }
    logv[logn] = (logEntry){round_, node, db, strdup(text), NULL};
    return logn++;
}

static void logEvent(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logEvent(const char *fmt, ...) {
    char buf[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    logAdd(-1, -1, buf);
    if (verbose) printf("   r%d ---- %s\n", round_, buf);
}

static void logPrint(const logEntry *e) {
    if (e->node < 0) printf("   r%-3d ---- %s\n", e->round, e->text);
    else
        printf("   r%-3d %c db%d: %s -> %s\n", e->round, N[e->node].name, e->db, e->text,
               e->reply ? e->reply : "(no reply read)");
}

/* Does the command text name key as one of its arguments? */
static int textNames(const char *text, const char *key) {
    size_t kl = strlen(key);
    for (const char *p = text; (p = strstr(p, key)) != NULL; p += kl)
        if ((p == text || p[-1] == ' ') && (p[kl] == ' ' || p[kl] == '\0')) return 1;
    return 0;
}

/* Every partition event and every command that named key in db (a COPY ...
 * DB db from another db included) or flushed db, up to the failing round. */
static void logPrintFor(int db, const char *key) {
    char dbArg[16];
    snprintf(dbArg, sizeof(dbArg), " DB %d", db);
    int shown = 0;
    printf("   commands of the run that touched %s in db %d, and the partitions:\n", key, db);
    for (int i = 0; i < logn && shown < 400; i++) {
        const logEntry *e = &logv[i];
        int touches = e->node < 0 ||
                      (e->db == db && (textNames(e->text, key) || !strcmp(e->text, "FLUSHDB"))) ||
                      (strstr(e->text, dbArg) && textNames(e->text, key));
        if (touches) {
            logPrint(e);
            shown++;
        }
    }
}

/* ------------------------------------------------------------------ */
/* Commands                                                             */

#define MAX_ARGS 16
#define EXEC_ENTRY -2 /* logOf marks EXEC's reply with this */

typedef struct cmd {
    int db;
    int argc;
    char argv[MAX_ARGS][40];
} cmd;

static void cmdInit(cmd *c, int db) {
    c->db = db;
    c->argc = 0;
}

static void arg(cmd *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void arg(cmd *c, const char *fmt, ...) {
    if (c->argc == MAX_ARGS) abort();
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->argv[c->argc++], sizeof(c->argv[0]), fmt, ap);
    va_end(ap);
}

static void cmdText(const cmd *c, char *buf, size_t cap) {
    size_t off = 0;
    buf[0] = '\0';
    for (int i = 0; i < c->argc && off < cap; i++)
        off += (size_t)snprintf(buf + off, cap - off, "%s%s", i ? " " : "", c->argv[i]);
}

/* Errors a random command may rightly get; any other is a failure. */
static int errorExpected(const char *e) {
    static const char *const ok[] = {"WRONGTYPE",
                                     "ERR value is not an integer",
                                     "ERR value is not a valid float",
                                     "ERR hash value is not an integer",
                                     "ERR hash value is not a float",
                                     "ERR no such key",
                                     "ERR increment or decrement would overflow",
                                     "ERR increment would produce NaN or Infinity",
                                     "ERR source and destination objects are the same",
                                     NULL};
    for (int i = 0; ok[i]; i++)
        if (!strncmp(e, ok[i], strlen(ok[i]))) return 1;
    return 0;
}

static int unexpectedErrors;

static void noteErrors(node *n, const redisReply *r, int entry) {
    if (r->type == REDIS_REPLY_ERROR && !errorExpected(r->str)) {
        if (unexpectedErrors++ < 10)
            printf("   unexpected error from %c: %s -> -%s\n", n->name, entry >= 0 ? logv[entry].text : "?", r->str);
    }
    if (r->type == REDIS_REPLY_ARRAY)
        for (size_t i = 0; i < r->elements; i++) noteErrors(n, r->element[i], entry);
}

/* Sends argv without reading the reply; entry is its log entry or -1. */
static void sendArgv(node *n, int argc, const char **argv, int entry) {
    size_t lens[MAX_ARGS];
    for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
    redisAppendCommandArgv(n->c, argc, argv, lens);
    if (n->pending == (int)(sizeof(n->logOf) / sizeof(n->logOf[0]))) abort();
    n->logOf[n->pending++] = entry;
}

static void sendWord(node *n, const char *word) {
    const char *argv[] = {word};
    sendArgv(n, 1, argv, strcmp(word, "EXEC") ? -1 : EXEC_ENTRY);
}

static void selectDb(node *n, int db) {
    if (n->db == db) return;
    char dbs[8];
    snprintf(dbs, sizeof(dbs), "%d", db);
    const char *argv[] = {"SELECT", dbs};
    sendArgv(n, 2, argv, -1);
    n->db = db;
}

/* Sends c (after a SELECT if its db is not the connection's), logging it. */
static void sendCmd(node *n, const cmd *c) {
    selectDb(n, c->db);
    char text[700];
    cmdText(c, text, sizeof(text));
    int entry = logAdd((int)(n - N), c->db, text);
    const char *argv[MAX_ARGS];
    for (int i = 0; i < c->argc; i++) argv[i] = c->argv[i];
    sendArgv(n, c->argc, argv, entry);
    n->ops++;
}

static void logReply(int entry, const redisReply *r) {
    free(logv[entry].reply);
    logv[entry].reply = strdup(hRender(r));
    if (verbose) logPrint(&logv[entry]);
}

/* Reads every pending reply of n, fills the log (a command queued in MULTI
 * gets its element of EXEC's reply), notes unexpected errors. */
static void drain(node *n) {
    int queued[64], nq = 0;
    for (int i = 0; i < n->pending; i++) {
        redisReply *r = NULL;
        int entry = n->logOf[i];
        snprintf(H.last, sizeof(H.last), "round %d: %s", round_, entry >= 0 ? logv[entry].text : "SELECT/MULTI/EXEC");
        if (redisGetReply(n->c, (void **)&r) != REDIS_OK) r = NULL;
        if (!r) {
            hRenderOrErr(n->c, r);
            hBail("lost a connection to a node");
        }
        if (entry >= 0 && r->type == REDIS_REPLY_STATUS && !strcmp(r->str, "QUEUED") && nq < 64)
            queued[nq++] = entry;
        else if (entry == EXEC_ENTRY && r->type == REDIS_REPLY_ARRAY) {
            for (size_t k = 0; k < r->elements && (int)k < nq; k++) {
                noteErrors(n, r->element[k], queued[k]);
                logReply(queued[k], r->element[k]);
            }
            nq = 0;
        } else {
            noteErrors(n, r, entry);
            if (entry >= 0) logReply(entry, r);
        }
        freeReplyObject(r);
    }
    n->pending = 0;
}

/* ------------------------------------------------------------------ */
/* What the rules expect                                                */

static long long ctrSum, hctrSum;   /* inv:ctr (INCRBY only), inv:hctr n (HINCRBY only) */
static int ctrTouched, hctrTouched;
static char growAdded[GROW_MEMBERS]; /* inv:grow (SADD only) */
static char lwwLast[40];            /* inv:lww (SET only): the value of the last SET issued */
static long valueSeq;               /* makes every written string value unique */

/* ------------------------------------------------------------------ */
/* Random commands                                                      */

enum { T_STRING, T_SET, T_HASH };

static int pickKey(void) { return chance(50) ? rnd(HOT_KEYS) : rnd(KEYS); }

/* Mostly a key whose index says type t, sometimes any key. */
static int pickKeyOfType(int t) { return chance(80) ? rnd(KEYS / 3) * 3 + t : pickKey(); }

static void argValue(cmd *c) {
    if (chance(40)) arg(c, "%d", rnd(2001) - 1000);
    else arg(c, "s%ld", ++valueSeq);
}

/* A multiple of 0.25 in [-4, 4]: exact in binary, so sums do not depend on order. */
static void argFloat(cmd *c) {
    int q = rnd(33) - 16;
    arg(c, "%s%d.%02d", q < 0 ? "-" : "", abs(q) / 4, abs(q) % 4 * 25);
}

static void genString(cmd *c, int k) {
    int k2 = pickKeyOfType(T_STRING);
    switch (rnd(21)) {
    case 0: case 1: case 2:
        arg(c, "SET"), arg(c, "k%d", k), argValue(c);
        break;
    case 3: /* SET with an option */
        arg(c, "SET"), arg(c, "k%d", k), argValue(c);
        switch (rnd(5)) {
        case 0: arg(c, "EX"), arg(c, "%d", 100000 + rnd(100000)); break;
        case 1: arg(c, "KEEPTTL"); break;
        case 2: arg(c, "NX"); break;
        case 3: arg(c, "XX"); break;
        default: arg(c, "GET"); break;
        }
        break;
    case 4: arg(c, "SETEX"), arg(c, "k%d", k), arg(c, "%d", 100000 + rnd(100000)), argValue(c); break;
    case 5: arg(c, "GETSET"), arg(c, "k%d", k), argValue(c); break;
    case 6: arg(c, "APPEND"), arg(c, "k%d", k), arg(c, "+%d", rnd(100)); break;
    case 7: arg(c, "SETRANGE"), arg(c, "k%d", k), arg(c, "%d", rnd(8)), arg(c, "r%d", rnd(10)); break;
    case 8:
        arg(c, "DEL"), arg(c, "k%d", k);
        if (chance(30)) arg(c, "k%d", pickKey());
        break;
    case 9: arg(c, "UNLINK"), arg(c, "k%d", k); break;
    case 10: case 11: arg(c, "INCRBY"), arg(c, "k%d", k), arg(c, "%d", rnd(201) - 100); break;
    case 12: arg(c, "DECRBY"), arg(c, "k%d", k), arg(c, "%d", rnd(201) - 100); break;
    case 13: arg(c, "INCRBYFLOAT"), arg(c, "k%d", k), argFloat(c); break;
    case 14: arg(c, "GETDEL"), arg(c, "k%d", k); break;
    case 15: arg(c, "EXPIRE"), arg(c, "k%d", k), arg(c, "%d", 100000 + rnd(100000)); break;
    case 16: arg(c, "PEXPIREAT"), arg(c, "k%d", k), arg(c, "%lld", FAR_DEADLINE + rnd(1000000)); break;
    case 17: arg(c, "PERSIST"), arg(c, "k%d", k); break;
    case 18: arg(c, "RENAME"), arg(c, "k%d", k), arg(c, "k%d", chance(90) ? k2 : k); break;
    default: /* COPY, sometimes into another random db */
        arg(c, "COPY"), arg(c, "k%d", k), arg(c, "k%d", k2);
        if (chance(40)) arg(c, "REPLACE");
        if (chance(30)) arg(c, "DB"), arg(c, "%d", rnd(RANDOM_DBS));
        break;
    }
}

static void genSet(cmd *c, int k) {
    int r = rnd(100), n;
    if (r < 35) {
        arg(c, "SADD"), arg(c, "k%d", k);
        for (n = 1 + rnd(3); n > 0; n--) arg(c, "m%d", rnd(MEMBERS));
    } else if (r < 55) {
        arg(c, "SREM"), arg(c, "k%d", k);
        for (n = 1 + rnd(2); n > 0; n--) arg(c, "m%d", rnd(MEMBERS));
    } else if (r < 65) {
        arg(c, "SPOP"), arg(c, "k%d", k);
        if (chance(50)) arg(c, "%d", 1 + rnd(3));
    } else if (r < 80) {
        arg(c, "SMOVE"), arg(c, "k%d", k), arg(c, "k%d", pickKeyOfType(T_SET)), arg(c, "m%d", rnd(MEMBERS));
    } else {
        arg(c, r < 90 ? "SINTERSTORE" : "SUNIONSTORE"), arg(c, "k%d", k);
        arg(c, "k%d", pickKeyOfType(T_SET)), arg(c, "k%d", pickKeyOfType(T_SET));
    }
}

static void genHash(cmd *c, int k) {
    int r = rnd(100);
    if (r < 35) {
        arg(c, "HSET"), arg(c, "k%d", k);
        for (int n = 1 + rnd(2); n > 0; n--) arg(c, "f%d", rnd(FIELDS)), argValue(c);
    } else if (r < 55) {
        arg(c, "HDEL"), arg(c, "k%d", k), arg(c, "f%d", rnd(FIELDS));
        if (chance(30)) arg(c, "f%d", rnd(FIELDS));
    } else if (r < 70) {
        arg(c, "HINCRBY"), arg(c, "k%d", k), arg(c, "f%d", rnd(FIELDS)), arg(c, "%d", rnd(201) - 100);
    } else if (r < 80) {
        arg(c, "HINCRBYFLOAT"), arg(c, "k%d", k), arg(c, "f%d", rnd(FIELDS)), argFloat(c);
    } else {
        arg(c, "HSETNX"), arg(c, "k%d", k), arg(c, "f%d", rnd(FIELDS)), argValue(c);
    }
}

/* One write to the small key space of a random db: mostly of the key's own
 * type, a quarter of the time of another (a type clash), rarely FLUSHDB. */
static void genRandom(cmd *c, int db) {
    cmdInit(c, db);
    if (rnd(1000) < 2) {
        arg(c, "FLUSHDB");
        return;
    }
    int k = pickKey();
    int t = chance(75) ? k % 3 : rnd(3);
    if (t == T_STRING) genString(c, k);
    else if (t == T_SET) genSet(c, k);
    else genHash(c, k);
}

/* One write to the big set or the big hash. */
static void genBig(cmd *c) {
    cmdInit(c, RULE_DB);
    int m = rnd(BIG_UNIVERSE);
    switch (rnd(4)) {
    case 0: arg(c, "SADD"), arg(c, "big:set"), arg(c, "b%d", m), arg(c, "b%d", rnd(BIG_UNIVERSE)); break;
    case 1: arg(c, "SREM"), arg(c, "big:set"), arg(c, "b%d", m); break;
    case 2: arg(c, "HSET"), arg(c, "big:hash"), arg(c, "f%d", m), argValue(c); break;
    default: arg(c, "HDEL"), arg(c, "big:hash"), arg(c, "f%d", m); break;
    }
}

/* One write to a rule key of db 3 (or the big keys); records what it implies. */
static void genRule(cmd *c) {
    cmdInit(c, RULE_DB);
    int r = rnd(10), d = rnd(201) - 100;
    switch (r) {
    case 0: case 1: case 2:
        arg(c, "INCRBY"), arg(c, "inv:ctr"), arg(c, "%d", d);
        ctrSum += d, ctrTouched = 1;
        break;
    case 3: case 4:
        arg(c, "SADD"), arg(c, "inv:grow");
        for (int n = 1 + rnd(2); n > 0; n--) {
            int g = rnd(GROW_MEMBERS);
            arg(c, "g%d", g);
            growAdded[g] = 1;
        }
        break;
    case 5:
        arg(c, "HINCRBY"), arg(c, "inv:hctr"), arg(c, "n"), arg(c, "%d", d);
        hctrSum += d, hctrTouched = 1;
        break;
    case 6: case 7:
        snprintf(lwwLast, sizeof(lwwLast), "w%ld", ++valueSeq);
        arg(c, "SET"), arg(c, "inv:lww"), arg(c, "%s", lwwLast);
        break;
    default: genBig(c); break;
    }
}

/* Any write: 80% the small key space, 20% db 3. */
static void genAny(cmd *c) {
    if (chance(80)) genRandom(c, rnd(RANDOM_DBS));
    else genRule(c);
}

/* ------------------------------------------------------------------ */
/* Steps: how the writes reach the running nodes                        */

static node *running[NODES];
static int nRunning;

static void updateRunning(void) {
    nRunning = 0;
    for (int i = 0; i < NODES; i++)
        if (!N[i].stopped) running[nRunning++] = &N[i];
}

static node *pickRunning(void) { return running[rnd(nRunning)]; }

/* MULTI/EXEC of 2..5 writes to one db. */
static int stepMulti(node *n) {
    int count = 2 + rnd(4), db = rnd(RANDOM_DBS + 1);
    selectDb(n, db);
    sendWord(n, "MULTI");
    for (int i = 0; i < count; i++) {
        cmd c;
        if (db == RULE_DB) genRule(&c);
        else genRandom(&c, db);
        sendCmd(n, &c);
    }
    sendWord(n, "EXEC");
    drain(n);
    return count;
}

static int stepBurst(node *n, int count, int big) {
    for (int i = 0; i < count; i++) {
        cmd c;
        if (big) genBig(&c);
        else genAny(&c);
        sendCmd(n, &c);
    }
    drain(n);
    return count;
}

/* Every running node gets its burst before any reply is read: the nodes
 * apply them at the same time, and their deltas cross. */
static int stepConcurrent(void) {
    int total = 0;
    for (int i = 0; i < nRunning; i++) {
        int count = 3 + rnd(10);
        for (int j = 0; j < count; j++) {
            cmd c;
            genAny(&c);
            sendCmd(running[i], &c);
        }
        total += count;
    }
    for (int i = 0; i < nRunning; i++) drain(running[i]);
    return total;
}

/* Issues about budget writes on the running nodes. */
static void runSteps(int budget) {
    updateRunning();
    while (budget > 0) {
        int kind = rnd(100);
        node *n = pickRunning();
        if (kind < 45) {
            cmd c;
            genAny(&c);
            sendCmd(n, &c);
            drain(n);
            budget--;
        } else if (kind < 58) budget -= stepMulti(n);
        else if (kind < 73) budget -= stepBurst(n, 5 + rnd(21), 0);
        else if (kind < 88) budget -= stepConcurrent();
        else budget -= stepBurst(n, 10 + rnd(31), 1);
    }
}

/* The last SET of the LWW key this round: LWW_GAP_MS after every other. */
static void finalLwwSet(void) {
    updateRunning();
    node *n = pickRunning();
    cmd c;
    cmdInit(&c, RULE_DB);
    snprintf(lwwLast, sizeof(lwwLast), "final%ld", ++valueSeq);
    arg(&c, "SET"), arg(&c, "inv:lww"), arg(&c, "%s", lwwLast);
    hSleepMs(LWW_GAP_MS);
    sendCmd(n, &c);
    drain(n);
}

/* ------------------------------------------------------------------ */
/* Links                                                                */

static char *infoReplication(node *n) {
    redisReply *r = redisCommand(n->c, "INFO replication");
    char *s = (r && r->type == REDIS_REPLY_STRING) ? hRing(r->str, r->len) : hRenderOrErr(n->c, r);
    if (r) freeReplyObject(r);
    return s;
}

/* Is n's link to the node on port online, per n's INFO replication? */
static int linkOnline(node *n, int port) {
    char addr[40];
    snprintf(addr, sizeof(addr), "addr=127.0.0.1:%d,", port);
    for (char *line = infoReplication(n); line && *line;) {
        char *end = strstr(line, "\r\n");
        if (end) *end = '\0';
        if (!strncmp(line, "peer", 4) && strstr(line, addr)) return strstr(line, "state=online") != NULL;
        line = end ? end + 2 : NULL;
    }
    return 0;
}

/* Waits until every running node has every other node's link online (want
 * 1), or has stopped node x's link not online (want 0). */
static int linksCond(node *x, int want) {
    for (int i = 0; i < NODES; i++) {
        if (N[i].stopped) continue;
        for (int j = 0; j < NODES; j++) {
            if (j == i || (x && &N[j] != x)) continue;
            if (linkOnline(&N[i], N[j].s->port) != want) return 0;
        }
    }
    return 1;
}

static int waitLinks(node *x, int want) {
    long long end = hNowMs() + LINK_MS;
    while (!linksCond(x, want)) {
        if (hNowMs() >= end) return 0;
        hSleepMs(POLL_MS);
    }
    return 1;
}

static void pauseNode(node *n) {
    kill(n->s->pid, SIGSTOP);
    n->stopped = 1;
    logEvent("SIGSTOP %c", n->name);
}

/* Continues n, then reads the replies of a burst it was stopped in. */
static void resumeNode(node *n) {
    kill(n->s->pid, SIGCONT);
    n->stopped = 0;
    logEvent("SIGCONT %c", n->name);
    drain(n);
}

/* Sends x a burst of writes (the small key space and the big keys, never the
 * LWW key: its order must stay known) and stops x without waiting for a
 * reply, so that it is stopped part-way through them: some applied and
 * streamed, some applied and not streamed, some not read yet.  resumeNode
 * reads the replies. */
static void pauseInBurst(node *x) {
    int count = 20 + rnd(60);
    for (int i = 0; i < count; i++) {
        cmd c;
        if (chance(25)) genBig(&c);
        else genRandom(&c, rnd(RANDOM_DBS));
        sendCmd(x, &c);
    }
    int done = 0;
    while (!done)
        if (redisBufferWrite(x->c, &done) != REDIS_OK) hBail("lost a connection to a node");
    logEvent("%c stopped during a burst of %d writes", x->name, count);
    pauseNode(x);
}

/* Waits until the running nodes see stopped x's link down (longer than
 * --peer-timeout-ms); a failure if they never do. */
static void waitDown(node *x) {
    int ok = waitLinks(x, 0);
    CHECK_MSG(ok, "seed %llu round %d: the running nodes see stopped %c's link down within %d ms",
              (unsigned long long)seed, round_, x->name, LINK_MS);
}

/* ------------------------------------------------------------------ */
/* Convergence                                                          */

static char *digestOf(node *n) {
    redisReply *r = redisCommand(n->c, "DEBUG DIGEST");
    char *s = (r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING)) ? hRing(r->str, r->len)
                                                                                     : hRenderOrErr(n->c, r);
    if (r) freeReplyObject(r);
    return s;
}

static int digestsEqual(void) {
    char first[64] = "";
    for (int i = 0; i < NODES; i++) {
        char *d = digestOf(&N[i]);
        if (strlen(d) != 40) return 0;
        if (i == 0) snprintf(first, sizeof(first), "%s", d);
        else if (strcmp(first, d)) return 0;
    }
    return 1;
}

/* Milliseconds until the digests were equal, or -1 after CONVERGE_MS. */
static long long waitConverged(void) {
    long long t0 = hNowMs();
    while (!digestsEqual()) {
        if (hNowMs() - t0 >= CONVERGE_MS) return -1;
        hSleepMs(POLL_MS);
    }
    return hNowMs() - t0;
}

/* ------------------------------------------------------------------ */
/* Contents                                                             */

static int cmpStr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* Joins the strings sorted, as [a,b,c]; frees them. */
static char *joinSorted(char **v, size_t n) {
    qsort(v, n, sizeof(char *), cmpStr);
    hbuf b = {0};
    hbufCat(&b, "[", 1);
    for (size_t i = 0; i < n; i++) {
        if (i) hbufCat(&b, ",", 1);
        hbufCat(&b, v[i], strlen(v[i]));
        free(v[i]);
    }
    hbufCat(&b, "]", 1);
    return b.p;
}

/* An array reply with its elements sorted (pairs: field=value, sorted), so
 * that sets and hashes held in different orders compare equal.  Malloc'd. */
static char *renderSorted(redisContext *c, redisReply *r, int pairs) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return strdup(hRenderOrErr(c, r));
    size_t n = pairs ? r->elements / 2 : r->elements;
    char **v = calloc(n + 1, sizeof(char *));
    for (size_t i = 0; i < n; i++) {
        if (!pairs) {
            v[i] = strdup(hRender(r->element[i]));
            continue;
        }
        hbuf b = {0};
        hbufPrintf(&b, "%s=", hRender(r->element[2 * i]));
        hbufPrintf(&b, "%s", hRender(r->element[2 * i + 1]));
        v[i] = b.p;
    }
    char *s = joinSorted(v, n);
    free(v);
    return s;
}

static void selectSync(node *n, int db) {
    if (n->db == db) return;
    redisReply *r = redisCommand(n->c, "SELECT %d", db);
    if (r) freeReplyObject(r);
    n->db = db;
}

/* n's view of key in db: its type, value and PEXPIRETIME, one line, malloc'd. */
static char *viewOf(node *n, int db, const char *key) {
    selectSync(n, db);
    redisReply *r = redisCommand(n->c, "TYPE %s", key);
    char type[32];
    snprintf(type, sizeof(type), "%s", hRenderOrErr(n->c, r));
    if (r) freeReplyObject(r);
    char *value;
    if (!strcmp(type, "+string")) {
        r = redisCommand(n->c, "GET %s", key);
        value = strdup(hRenderOrErr(n->c, r));
    } else if (!strcmp(type, "+set")) {
        r = redisCommand(n->c, "SMEMBERS %s", key);
        value = renderSorted(n->c, r, 0);
    } else if (!strcmp(type, "+hash")) {
        r = redisCommand(n->c, "HGETALL %s", key);
        value = renderSorted(n->c, r, 1);
    } else {
        r = NULL;
        value = strdup("-");
    }
    if (r) freeReplyObject(r);
    r = redisCommand(n->c, "PEXPIRETIME %s", key);
    hbuf b = {0};
    hbufPrintf(&b, "type=%s pexpiretime=%s value=", type, hRenderOrErr(n->c, r));
    hbufCat(&b, value, strlen(value));
    if (r) freeReplyObject(r);
    free(value);
    return b.p;
}

static int reported; /* divergences printed in full this round */

/* Prints the seed, the round, the key and each node's view of it. */
static void reportKey(int db, const char *key, const char *what) {
    failedRound = round_;
    hReport(__FILE__, __LINE__, 0, what, "equal on all nodes", key);
    if (reported++ >= 3) return;
    printf("DIVERGENCE seed=%llu round=%d db=%d key=%s: %s\n", (unsigned long long)seed, round_, db, key, what);
    for (int i = 0; i < NODES; i++) {
        char *v = viewOf(&N[i], db, key);
        printf("   %c (port %d): %.3000s%s\n", N[i].name, N[i].s->port, v, strlen(v) > 3000 ? "..." : "");
        free(v);
    }
    logPrintFor(db, key);
}

typedef struct keyList {
    char **k;
    size_t n;
} keyList;

static void keysOf(node *n, int db, keyList *l) {
    selectSync(n, db);
    redisReply *r = redisCommand(n->c, "KEYS *");
    l->n = 0;
    l->k = NULL;
    if (!r || r->type != REDIS_REPLY_ARRAY) {
        printf("   KEYS * on %c: %s\n", n->name, hRenderOrErr(n->c, r));
        if (r) freeReplyObject(r);
        return;
    }
    l->k = calloc(r->elements + 1, sizeof(char *));
    for (size_t i = 0; i < r->elements; i++) l->k[i] = strdup(r->element[i]->str);
    l->n = r->elements;
    qsort(l->k, l->n, sizeof(char *), cmpStr);
    freeReplyObject(r);
}

static void keysFree(keyList *l) {
    for (size_t i = 0; i < l->n; i++) free(l->k[i]);
    free(l->k);
}

static int listed(const keyList *l, const char *key) {
    return bsearch(&key, l->k, l->n, sizeof(char *), cmpStr) != NULL;
}

/* Compares db on every node: the key lists, then each key's view.  Returns
 * the number of keys compared, or -1 if something differed. */
static long compareDb(int db) {
    keyList l[NODES];
    for (int i = 0; i < NODES; i++) keysOf(&N[i], db, &l[i]);
    int ok = 1;
    for (int i = 0; i < NODES; i++)
        for (size_t j = 0; j < l[i].n; j++) {
            int everywhere = 1;
            for (int o = 0; o < NODES; o++) everywhere &= listed(&l[o], l[i].k[j]);
            if (!everywhere) {
                reportKey(db, l[i].k[j], "KEYS *: a key some nodes list and others do not");
                ok = 0;
            }
        }
    for (size_t j = 0; ok && j < l[0].n; j++) {
        char *v0 = viewOf(&N[0], db, l[0].k[j]);
        for (int i = 1; i < NODES; i++) {
            char *v = viewOf(&N[i], db, l[0].k[j]);
            int same = !strcmp(v0, v);
            free(v);
            if (!same) {
                reportKey(db, l[0].k[j], "TYPE, value or PEXPIRETIME differs between nodes");
                ok = 0;
                break;
            }
        }
        free(v0);
    }
    long n = (long)l[0].n;
    for (int i = 0; i < NODES; i++) keysFree(&l[i]);
    return ok ? n : -1;
}

/* The rules that hold whatever the interleaving, on every node. */
static void checkRules(void) {
    char ctr[32] = "(nil)", hctr[32] = "(nil)", lww[64] = "(nil)";
    if (ctrTouched) snprintf(ctr, sizeof(ctr), "\"%lld\"", ctrSum);
    if (hctrTouched) snprintf(hctr, sizeof(hctr), "\"%lld\"", hctrSum);
    if (lwwLast[0]) snprintf(lww, sizeof(lww), "\"%s\"", lwwLast);
    char **members = calloc(GROW_MEMBERS, sizeof(char *));
    size_t nm = 0;
    for (int g = 0; g < GROW_MEMBERS; g++)
        if (growAdded[g]) {
            char m[16];
            snprintf(m, sizeof(m), "\"g%d\"", g);
            members[nm++] = strdup(m);
        }
    char *growExp = joinSorted(members, nm);
    free(members);

    struct {
        const char *key, *cmd, *rule, *exp;
        int sorted;
    } rules[] = {
        {"inv:ctr", "GET inv:ctr", "a counter only INCRBYed is the sum of every increment issued", ctr, 0},
        {"inv:hctr", "HGET inv:hctr n", "a hash field only HINCRBYed is the sum of every increment issued", hctr, 0},
        {"inv:grow", "SMEMBERS inv:grow", "a set only SADDed holds every member ever added (add-wins union)",
         growExp, 1},
        {"inv:lww", "GET inv:lww", "a string only SET holds the last SET issued, 5 ms after every other", lww, 0},
    };
    for (size_t k = 0; k < sizeof(rules) / sizeof(rules[0]); k++)
        for (int i = 0; i < NODES; i++) {
            selectSync(&N[i], RULE_DB);
            redisReply *r = redisCommand(N[i].c, rules[k].cmd);
            char *got = rules[k].sorted ? renderSorted(N[i].c, r, 0) : strdup(hRenderOrErr(N[i].c, r));
            if (r) freeReplyObject(r);
            char what[300];
            snprintf(what, sizeof(what), "seed %llu round %d, on %c: %s [%s]", (unsigned long long)seed, round_,
                     N[i].name, rules[k].cmd, rules[k].rule);
            if (!hReport(__FILE__, __LINE__, !strcmp(got, rules[k].exp), what, rules[k].exp, got) &&
                failedRound != round_) {
                failedRound = round_;
                logPrintFor(RULE_DB, rules[k].key);
            }
            free(got);
        }
    free(growExp);
}

/* ------------------------------------------------------------------ */
/* Rounds                                                               */

enum { P_NONE, P_ONE, P_IN_TURN, P_TWO_TOGETHER, P_SIDES };
static const char *const patternName[] = {"no partition", "one node stopped", "two nodes stopped in turn",
                                          "two nodes stopped together", "split, each side in turn"};

/* none 20%, one 20%, in turn 20%, together 15%, sides 25% */
static int pickPattern(void) {
    int r = rnd(100);
    return r < 20 ? P_NONE : r < 40 ? P_ONE : r < 60 ? P_IN_TURN : r < 75 ? P_TWO_TOGETHER : P_SIDES;
}

/* A stopped phase: some writes at once (their deltas queue towards the
 * stopped node, or are lost with its links), the rest once the running
 * nodes have seen its link down. */
static void stoppedPhase(node *x, int budget) {
    runSteps(budget / 3);
    waitDown(x);
    runSteps(budget - budget / 3);
}

static void runRound(void) {
    int pattern = pickPattern();
    int budget = 80 + rnd(120);
    int x = rnd(NODES), y = (x + 1 + rnd(NODES - 1)) % NODES;
    for (int i = 0; i < NODES; i++) N[i].ops = 0;
    reported = 0;
    unexpectedErrors = 0;
    long long t0 = hNowMs();
    char desc[80];
    switch (pattern) {
    case P_ONE: snprintf(desc, sizeof(desc), "%s (%c)", patternName[pattern], N[x].name); break;
    case P_IN_TURN: case P_TWO_TOGETHER:
        snprintf(desc, sizeof(desc), "%s (%c, %c)", patternName[pattern], N[x].name, N[y].name);
        break;
    case P_SIDES:
        snprintf(desc, sizeof(desc), "split ({%c} then {%c, %c})", N[3 - x - y].name, N[x].name, N[y].name);
        break;
    default: snprintf(desc, sizeof(desc), "%s", patternName[pattern]);
    }
    logEvent("round %d: %s, about %d writes", round_, desc, budget);

    runSteps(pattern == P_NONE ? budget : budget / 5); /* every node online */
    switch (pattern) {
    case P_ONE:
        if (chance(50)) pauseInBurst(&N[x]);
        else pauseNode(&N[x]);
        stoppedPhase(&N[x], budget);
        finalLwwSet();
        resumeNode(&N[x]);
        break;
    case P_IN_TURN:
        pauseNode(&N[x]);
        stoppedPhase(&N[x], budget / 2);
        resumeNode(&N[x]);
        pauseNode(&N[y]);
        stoppedPhase(&N[y], budget / 2);
        finalLwwSet();
        resumeNode(&N[y]);
        break;
    case P_TWO_TOGETHER:
        pauseNode(&N[x]);
        runSteps(budget / 5);
        pauseNode(&N[y]);
        runSteps(budget / 5);
        waitDown(&N[x]);
        waitDown(&N[y]);
        runSteps(budget / 2);
        finalLwwSet();
        if (chance(50)) resumeNode(&N[x]), resumeNode(&N[y]);
        else resumeNode(&N[y]), resumeNode(&N[x]);
        break;
    case P_SIDES: { /* {z} writes, then {x, y} write without having seen any of it */
        node *z = &N[3 - x - y];
        pauseNode(&N[x]);
        pauseNode(&N[y]);
        runSteps(budget / 5);
        waitDown(&N[x]);
        waitDown(&N[y]);
        runSteps(budget / 3);
        if (chance(50)) pauseInBurst(z);
        else pauseNode(z);
        resumeNode(&N[x]);
        resumeNode(&N[y]);
        stoppedPhase(z, budget / 2);
        finalLwwSet();
        resumeNode(z);
        break;
    }
    default:
        finalLwwSet();
        break;
    }
    updateRunning();

    long long tw = hNowMs();
    long long converged = waitConverged();
    long long tc = hNowMs();
    if (converged < 0) {
        failedRound = round_;
        hbuf b = {0};
        hbufCat(&b, "", 0);
        for (int i = 0; i < NODES; i++)
            hbufPrintf(&b, "%c:%d digest=%s dbsize(db0)=%lld; ", N[i].name, N[i].s->port, digestOf(&N[i]),
                       (selectSync(&N[i], 0), hRunInt(N[i].c, "DBSIZE")));
        char what[128];
        snprintf(what, sizeof(what), "seed %llu round %d: DEBUG DIGEST equal on all nodes within %d ms",
                 (unsigned long long)seed, round_, CONVERGE_MS);
        hReport(__FILE__, __LINE__, 0, what, "one digest everywhere", b.p);
        free(b.p);
    }
    int meshOk = waitLinks(NULL, 1);
    CHECK_MSG(meshOk, "seed %llu round %d: the mesh is back online after the heal", (unsigned long long)seed,
              round_);
    long keys = 0;
    for (int db = 0; db < ALL_DBS; db++) {
        long n = compareDb(db);
        if (n < 0) keys = -1;
        else if (keys >= 0) keys += n;
    }
    checkRules();
    CHECK_MSG(unexpectedErrors == 0, "seed %llu round %d: %d replies were errors no random command should get",
              (unsigned long long)seed, round_, unexpectedErrors);
    if (unexpectedErrors) failedRound = round_;
    printf("   round %2d: %-34s %4ld writes (A %ld, B %ld, C %ld)  converged %5lld ms  %5ld keys equal  round %lld ms\n",
           round_, desc, N[0].ops + N[1].ops + N[2].ops, N[0].ops, N[1].ops, N[2].ops,
           converged < 0 ? -1 : tc - tw, keys, hNowMs() - t0);
}

/* ------------------------------------------------------------------ */
/* Setup                                                                */

static void startMesh(void) {
    for (int i = 0; i < NODES; i++) {
        N[i].name = (char)('A' + i);
        N[i].s = hStartServer(PEER_FLAGS);
        N[i].c = hConnect(N[i].s);
    }
    for (int i = 1; i < NODES; i++) EXPECT(N[i].c, "+OK", "REPLICAOF 127.0.0.1 %d", N[0].s->port);
    int ok = waitLinks(NULL, 1);
    CHECK_MSG(ok, "the three nodes form a mesh within %d ms", LINK_MS);
    if (!ok) {
        for (int i = 0; i < NODES; i++) nodeStop(&N[i]);
        exit(hDone());
    }
}

/* The big set and the big hash, written on A while the mesh is online, in
 * commands of 500 members: streamed to B and C as deltas. */
static void loadBig(void) {
    node *a = &N[0];
    selectDb(a, RULE_DB);
    for (int start = 0; start < BIG_LOADED; start += 500) {
        const char *argv[1002];
        static char words[1002][16];
        size_t lens[1002];
        int argc = 0;
        argv[argc++] = "SADD", argv[argc++] = "big:set";
        for (int m = start; m < start + 500; m++) {
            snprintf(words[argc], sizeof(words[0]), "b%d", m);
            argv[argc] = words[argc], argc++;
        }
        for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
        redisAppendCommandArgv(a->c, argc, argv, lens);
        a->logOf[a->pending++] = -1;
        argc = 0;
        argv[argc++] = "HSET", argv[argc++] = "big:hash";
        for (int m = start; m < start + 500; m++) {
            snprintf(words[argc], sizeof(words[0]), "f%d", m);
            argv[argc] = words[argc], argc++;
            snprintf(words[argc], sizeof(words[0]), "v%d", m);
            argv[argc] = words[argc], argc++;
        }
        for (int i = 0; i < argc; i++) lens[i] = strlen(argv[i]);
        redisAppendCommandArgv(a->c, argc, argv, lens);
        a->logOf[a->pending++] = -1;
    }
    drain(a);
    logEvent("A: big:set and big:hash loaded with %d members each", BIG_LOADED);
    long long ms = waitConverged();
    CHECK_MSG(ms >= 0, "the big set and hash written on A reach B and C within %d ms", CONVERGE_MS);
    printf("   big:set and big:hash (%d each) streamed to B and C in %lld ms\n", BIG_LOADED, ms);
}

static unsigned long long envNumber(const char *name, unsigned long long dflt) {
    const char *e = getenv(name);
    if (!e || !*e) return dflt;
    return strtoull(e, NULL, 0);
}

int main(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    seed = envNumber("LATTICE_PEERS_SEED", ((unsigned long long)tv.tv_sec * 1000003ULL) ^ (unsigned long long)tv.tv_usec ^
                                               ((unsigned long long)getpid() << 20));
    rounds = (int)envNumber("LATTICE_PEERS_ROUNDS", ROUNDS_DEFAULT);
    verbose = (int)envNumber("LATTICE_PEERS_VERBOSE", 0);
    rngState = seed;
    hInit(60 + 20 * rounds);
    printf("seed %llu, %d rounds (replay: LATTICE_PEERS_SEED=%llu LATTICE_PEERS_ROUNDS=%d)\n",
           (unsigned long long)seed, rounds, (unsigned long long)seed, rounds);
    long long t0 = hNowMs();
    hSection("three peers, random writes under random partitions, converged and equal after every round");
    startMesh();
    loadBig();
    for (round_ = 1; round_ <= rounds && !failedRound; round_++) runRound();
    if (failedRound)
        printf("FAILED in round %d: replay with LATTICE_PEERS_SEED=%llu LATTICE_PEERS_ROUNDS=%d\n", failedRound,
               (unsigned long long)seed, failedRound);
    for (int i = 0; i < NODES; i++) nodeStop(&N[i]);
    printf("   seed %llu: %d rounds took %lld ms\n", (unsigned long long)seed, round_ - 1, hNowMs() - t0);
    for (int i = 0; i < logn; i++) free(logv[i].text), free(logv[i].reply);
    free(logv);
    return hDone();
}
