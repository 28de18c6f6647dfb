/* test_peers.c - peering across several nodes, through the surface users
 * see: REPLICAOF (and SLAVEOF) joining a mesh and leaving it, the full mesh,
 * INFO replication, ROLE, DEBUG DIGEST and the peer counters of INFO stats;
 * every rule of SPEC's CRDT table under writes made concurrently on the two
 * sides of a partition; anti-entropy after a partition with many keys; a node
 * killed with SIGKILL and restarted empty; masterauth.
 *
 * A partition is made with SIGSTOP: a stopped node reads and writes nothing,
 * and once it has been stopped for longer than --peer-timeout-ms its peers
 * mark the link down.  Writes on the running side cannot reach the stopped
 * side before it is continued, so they are concurrent with what that side
 * wrote before it was stopped.  A stopped node is always continued before it
 * is stopped for good (SIGTERM waits on a stopped process).
 *
 * Each test asserts convergence (DEBUG DIGEST equal on all nodes within
 * CONVERGE_MS), then the contents on every node, each check naming the rule
 * that decided it. */
#include <limits.h>

#include "harness.h"

#define CONVERGE_MS 10000 /* DEBUG DIGEST equal everywhere */
#define LINK_MS 5000      /* links up, or seen down, as expected */
#define QUIET_MS 1500     /* waiting for something that must not happen: > peer timeout */
#define POLL_MS 50

/* Fast timers so that a test waits hundreds of milliseconds, not seconds. */
static const char *const PEER_FLAGS[] = {"--anti-entropy-interval-ms", "200", "--peer-heartbeat-ms", "100",
                                         "--peer-timeout-ms", "1000", NULL};

typedef struct node {
    const char *name; /* A, B, C: for messages */
    const char *pass; /* AUTH with it on connect, or NULL */
    hserver *s;
    redisContext *c;
    int paused;       /* SIGSTOPped: send it nothing */
} node;

/* A wait in this test has timed out: the nodes are not doing their part, and
 * ten more seconds per later wait would only delay the report. */
static int waitFailed;

static void testBegin(const char *name) {
    hSection(name);
    waitFailed = 0;
}

static void nodeConnect(node *n) {
    n->c = hConnect(n->s);
    if (n->pass) EXPECT(n->c, "+OK", "AUTH %s", n->pass);
}

/* Fills argv with the peering flags, then more (NULL-terminated, or NULL). */
static void peerArgs(const char **argv, int max, const char *const *more) {
    int k = 0;
    for (int i = 0; PEER_FLAGS[i] && k < max - 1; i++) argv[k++] = PEER_FLAGS[i];
    for (int i = 0; more && more[i] && k < max - 1; i++) argv[k++] = more[i];
    argv[k] = NULL;
}

static void nodeStart(node *n, const char *name, const char *pass, const char *const *more) {
    const char *argv[32];
    peerArgs(argv, 32, more);
    memset(n, 0, sizeof(*n));
    n->name = name;
    n->pass = pass;
    n->s = hStartServer(argv);
    nodeConnect(n);
}

static void nodePause(node *n) {
    kill(n->s->pid, SIGSTOP);
    n->paused = 1;
}

static void nodeResume(node *n) {
    kill(n->s->pid, SIGCONT);
    n->paused = 0;
}

static void nodeStop(node *n) {
    if (!n->s) return;
    if (n->paused) nodeResume(n);
    if (n->c) redisFree(n->c);
    STOP_SERVER(n->s);
    n->s = NULL;
    n->c = NULL;
}

static void nodeStopAll(node **ns, int n) {
    for (int i = 0; i < n; i++) nodeStop(ns[i]);
}

static int nodePort(const node *n) { return n->s->port; }

/* ------------------------------------------------------------------ */
/* INFO                                                                 */

static char *infoOf(node *n, const char *section) {
    redisReply *r = redisCommand(n->c, "INFO %s", section);
    char *s = (r && r->type == REDIS_REPLY_STRING) ? hRing(r->str, r->len) : hRenderOrErr(n->c, r);
    if (r) freeReplyObject(r);
    return s;
}

/* The value after "field:" in an INFO section (ring), or NULL. */
static char *infoField(node *n, const char *section, const char *field) {
    char *info = infoOf(n, section);
    size_t fl = strlen(field);
    for (char *line = info; line && *line;) {
        char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > fl && strncmp(line, field, fl) == 0 && line[fl] == ':') return hRing(line + fl + 1, len - fl - 1);
        line = end ? end + 2 : NULL;
    }
    return NULL;
}

static long long infoInt(node *n, const char *section, const char *field) {
    char *v = infoField(n, section, field);
    return v ? atoll(v) : -1;
}

static int isHex(const char *s, size_t want) {
    if (strlen(s) != want) return 0;
    for (size_t i = 0; i < want; i++)
        if (!isxdigit((unsigned char)s[i])) return 0;
    return 1;
}

/* One peerN:id=...,addr=...,state=...,lag_ms=... line of INFO replication. */
typedef struct peerInfo {
    char id[32];
    int port;
    char state[16];
    long long lag;
    int wellFormed; /* 16-hex id, addr 127.0.0.1:port, a known state, a lag */
} peerInfo;

#define MAX_PEERS 8

typedef struct peerView {
    int connected; /* connected_peers, or -1 */
    int n;
    peerInfo p[MAX_PEERS];
} peerView;

static void parsePeerLine(const char *line, size_t len, peerInfo *p) {
    char buf[256];
    if (len >= sizeof(buf)) len = sizeof(buf) - 1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    memset(p, 0, sizeof(*p));
    p->port = -1;
    p->lag = -1;
    int haveId = 0, haveAddr = 0, haveState = 0, haveLag = 0;
    char *save = NULL;
    for (char *tok = strtok_r(strchr(buf, ':') + 1, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(tok, '=');
        if (!eq) continue;
        *eq = '\0';
        const char *v = eq + 1;
        if (!strcmp(tok, "id")) {
            snprintf(p->id, sizeof(p->id), "%s", v);
            haveId = isHex(v, 16);
        } else if (!strcmp(tok, "addr")) {
            const char *colon = strrchr(v, ':');
            if (colon) p->port = atoi(colon + 1);
            haveAddr = colon && strncmp(v, "127.0.0.1:", 10) == 0;
        } else if (!strcmp(tok, "state")) {
            snprintf(p->state, sizeof(p->state), "%s", v);
            haveState = !strcmp(v, "online") || !strcmp(v, "connecting") || !strcmp(v, "down");
        } else if (!strcmp(tok, "lag_ms")) {
            p->lag = atoll(v);
            haveLag = isdigit((unsigned char)v[0]);
        }
    }
    p->wellFormed = haveId && haveAddr && haveState && haveLag;
}

/* connected_peers and the peer lines of n's INFO replication. */
static void peerViewOf(node *n, peerView *v) {
    memset(v, 0, sizeof(*v));
    v->connected = -1;
    char *info = infoOf(n, "replication");
    for (char *line = info; line && *line;) {
        char *end = strstr(line, "\r\n");
        size_t len = end ? (size_t)(end - line) : strlen(line);
        size_t d = 4;
        while (d < len && isdigit((unsigned char)line[d])) d++;
        if (!strncmp(line, "connected_peers:", 16)) v->connected = atoi(line + 16);
        else if (len > 5 && !strncmp(line, "peer", 4) && d > 4 && d < len && line[d] == ':' && v->n < MAX_PEERS)
            parsePeerLine(line, len, &v->p[v->n++]);
        line = end ? end + 2 : NULL;
    }
}

static int peerLinesFor(const peerView *v, int port) {
    int k = 0;
    for (int i = 0; i < v->n; i++) k += v->p[i].port == port;
    return k;
}

static const peerInfo *peerOnline(const peerView *v, int port) {
    for (int i = 0; i < v->n; i++)
        if (v->p[i].port == port && !strcmp(v->p[i].state, "online")) return &v->p[i];
    return NULL;
}

/* "A:1234 connected_peers=1 [1235 online, 1236 down]" */
static void peerSummary(hbuf *b, node *n) {
    if (n->paused) {
        hbufPrintf(b, "%s:%d (stopped) ", n->name, nodePort(n));
        return;
    }
    peerView v;
    peerViewOf(n, &v);
    hbufPrintf(b, "%s:%d connected_peers=%d [", n->name, nodePort(n), v.connected);
    for (int i = 0; i < v.n; i++) hbufPrintf(b, "%s%d %s", i ? ", " : "", v.p[i].port, v.p[i].state);
    hbufCat(b, "] ", 2);
}

/* ------------------------------------------------------------------ */
/* Waiting                                                              */

/* Polls cond until it holds or ms pass; 1 if it held. */
static int waitFor(int ms, int (*cond)(void *), void *ctx) {
    if (waitFailed && ms > 1000) ms = 1000;
    long long end = hNowMs() + ms;
    for (;;) {
        if (cond(ctx)) return 1;
        if (hNowMs() >= end) {
            waitFailed = 1;
            return 0;
        }
        hSleepMs(POLL_MS);
    }
}

typedef struct group {
    node **ns;
    int n;
} group;

/* Every node has the others online, and connected_peers counts them. */
static int meshCond(void *p) {
    group *g = p;
    for (int i = 0; i < g->n; i++) {
        peerView v;
        peerViewOf(g->ns[i], &v);
        if (v.connected != g->n - 1) return 0;
        for (int j = 0; j < g->n; j++)
            if (j != i && !peerOnline(&v, nodePort(g->ns[j]))) return 0;
    }
    return 1;
}

static int waitMeshAt(const char *file, int line, node **ns, int n) {
    group g = {ns, n};
    long long t0 = hNowMs();
    int ok = waitFor(LINK_MS, meshCond, &g);
    hbuf b = {0};
    hbufCat(&b, "", 0);
    if (ok) printf("   mesh of %d online after %lld ms\n", n, hNowMs() - t0);
    else
        for (int i = 0; i < n; i++) peerSummary(&b, ns[i]);
    hReport(file, line, ok, "full mesh", "every node: connected_peers = others, each other's port state=online", b.p);
    free(b.p);
    return ok;
}
#define WAIT_MESH(ns, n) waitMeshAt(__FILE__, __LINE__, (ns), (n))

/* n's DEBUG DIGEST if it is 40 hex (ring), or what it answered. */
static char *digestOf(node *n) {
    redisReply *r = redisCommand(n->c, "DEBUG DIGEST");
    char *s;
    if (r && (r->type == REDIS_REPLY_STATUS || r->type == REDIS_REPLY_STRING)) s = hRing(r->str, r->len);
    else s = hRenderOrErr(n->c, r);
    if (r) freeReplyObject(r);
    return s;
}

static int digestsEqual(void *p) {
    group *g = p;
    char first[64];
    for (int i = 0; i < g->n; i++) {
        char *d = digestOf(g->ns[i]);
        if (!isHex(d, 40)) return 0;
        if (i == 0) snprintf(first, sizeof(first), "%s", d);
        else if (strcmp(first, d)) return 0;
    }
    return 1;
}

static int convergedAt(const char *file, int line, node **ns, int n) {
    group g = {ns, n};
    long long t0 = hNowMs();
    int ok = waitFor(CONVERGE_MS, digestsEqual, &g);
    hbuf b = {0};
    hbufCat(&b, "", 0);
    if (ok) printf("   %d nodes converged after %lld ms\n", n, hNowMs() - t0);
    else
        for (int i = 0; i < n; i++)
            hbufPrintf(&b, "%s:%d digest=%s dbsize=%lld; ", ns[i]->name, nodePort(ns[i]), digestOf(ns[i]),
                       hRunInt(ns[i]->c, "DBSIZE"));
    hReport(file, line, ok, "DEBUG DIGEST equal on all nodes", "one 40-hex digest everywhere within 10 s", b.p);
    free(b.p);
    return ok;
}
#define CONVERGED(ns, n) convergedAt(__FILE__, __LINE__, (ns), (n))

enum linkWant { LINK_ONLINE, LINK_NOT_ONLINE, LINK_DOWN, LINK_ABSENT };
static const char *const linkWantName[] = {"a line state=online", "no line state=online", "a line, not online",
                                           "no peer line"};

typedef struct linkCheck {
    node *x;
    int port; /* with LINK_ABSENT, 0 means no peer line at all */
    enum linkWant want;
} linkCheck;

static int linkCond(void *p) {
    linkCheck *l = p;
    peerView v;
    peerViewOf(l->x, &v);
    switch (l->want) {
    case LINK_ONLINE: return peerOnline(&v, l->port) != NULL;
    case LINK_NOT_ONLINE: return peerOnline(&v, l->port) == NULL;
    case LINK_DOWN: return peerLinesFor(&v, l->port) > 0 && peerOnline(&v, l->port) == NULL;
    case LINK_ABSENT: return l->port ? peerLinesFor(&v, l->port) == 0 : v.n == 0;
    }
    return 0;
}

/* Waits until x's INFO replication shows what want says about port. */
static int waitLinkAt(const char *file, int line, node *x, int port, enum linkWant want, const char *why) {
    linkCheck l = {x, port, want};
    int ok = waitFor(LINK_MS, linkCond, &l);
    hbuf b = {0};
    hbufCat(&b, "", 0);
    peerSummary(&b, x);
    char what[256], exp[128];
    snprintf(what, sizeof(what), "%s: peer %d on %s", why, port, x->name);
    snprintf(exp, sizeof(exp), "%s for port %d", linkWantName[want], port);
    hReport(file, line, ok, what, exp, b.p);
    free(b.p);
    return ok;
}
#define WAIT_LINK(x, port, want, why) waitLinkAt(__FILE__, __LINE__, (x), (port), (want), (why))

/* ------------------------------------------------------------------ */
/* Contents on every node                                               */

static int cmpStr(const void *a, const void *b) { return strcmp(*(char *const *)a, *(char *const *)b); }

/* An array reply rendered with its elements sorted, so that sets held in
 * different orders by different nodes compare equal. */
static char *renderSorted(redisContext *c, redisReply *r) {
    if (!r || r->type != REDIS_REPLY_ARRAY) return hRenderOrErr(c, r);
    char **v = calloc(r->elements + 1, sizeof(char *));
    for (size_t i = 0; i < r->elements; i++) v[i] = strdup(hRender(r->element[i]));
    qsort(v, r->elements, sizeof(char *), cmpStr);
    hbuf b = {0};
    hbufCat(&b, "[", 1);
    for (size_t i = 0; i < r->elements; i++) {
        if (i) hbufCat(&b, ",", 1);
        hbufCat(&b, v[i], strlen(v[i]));
        free(v[i]);
    }
    hbufCat(&b, "]", 1);
    char *s = hRing(b.p, b.len);
    free(b.p);
    free(v);
    return s;
}

/* Runs the command on every node; each reply must render as exp.  rule says
 * what decides the expected value, for the report. */
static int expectAll(const char *file, int line, node **ns, int n, int sorted, const char *rule, const char *exp,
                     const char *fmt, ...) __attribute__((format(printf, 8, 9)));
static int expectAll(const char *file, int line, node **ns, int n, int sorted, const char *rule, const char *exp,
                     const char *fmt, ...) {
    int ok = 1;
    for (int i = 0; i < n; i++) {
        va_list ap;
        va_start(ap, fmt);
        snprintf(H.last, sizeof(H.last), "after %s:%d %s", file, line, fmt);
        redisReply *r = redisvCommand(ns[i]->c, fmt, ap);
        va_end(ap);
        char *got = sorted ? renderSorted(ns[i]->c, r) : hRenderOrErr(ns[i]->c, r);
        if (r) freeReplyObject(r);
        char what[512];
        snprintf(what, sizeof(what), "on %s (port %d): %s  [%s]", ns[i]->name, nodePort(ns[i]), fmt, rule);
        ok &= hReport(file, line, strcmp(exp, got) == 0, what, exp, got);
    }
    return ok;
}
#define EXPECT_ALL(ns, n, rule, exp, ...) expectAll(__FILE__, __LINE__, (ns), (n), 0, (rule), (exp), __VA_ARGS__)
#define EXPECT_ALL_SORTED(ns, n, rule, exp, ...)                                                               \
    expectAll(__FILE__, __LINE__, (ns), (n), 1, (rule), (exp), __VA_ARGS__)

/* Writes count keys prefix:<i> into db (then selects 0 again), pipelined:
 * in turn a string v<i>, a set {m<i>, m<i+1>}, a hash {f<i>: v<i>, g: x} and
 * a counter at i.  Returns how many replies were errors. */
static int loadKeys(node *x, int db, const char *prefix, int count) {
    hAppend(x->c, "SELECT %d", db);
    for (int i = 0; i < count; i++) {
        switch (i % 4) {
        case 0: hAppend(x->c, "SET %s:%d v%d", prefix, i, i); break;
        case 1: hAppend(x->c, "SADD %s:%d m%d m%d", prefix, i, i, i + 1); break;
        case 2: hAppend(x->c, "HSET %s:%d f%d v%d g x", prefix, i, i, i); break;
        default: hAppend(x->c, "INCRBY %s:%d %d", prefix, i, i); break;
        }
    }
    hAppend(x->c, "SELECT 0");
    int errors = 0;
    for (int i = 0; i < count + 2; i++) {
        redisReply *r = NULL;
        if (redisGetReply(x->c, (void **)&r) != REDIS_OK) {
            hAbortIfServerDied(__FILE__, __LINE__);
            return errors + count + 2 - i;
        }
        errors += r->type == REDIS_REPLY_ERROR;
        freeReplyObject(r);
    }
    return errors;
}

/* Spot-checks every step-th key loadKeys wrote, on every node. */
static void checkKeysAt(const char *file, int line, node **ns, int n, int db, const char *prefix, int count,
                        int step) {
    const char *rule = "a write on one node reaches every node";
    char exp[64];
    expectAll(file, line, ns, n, 0, rule, "+OK", "SELECT %d", db);
    for (int i = 0; i < count; i += step) {
        switch (i % 4) {
        case 0:
            snprintf(exp, sizeof(exp), "\"v%d\"", i);
            expectAll(file, line, ns, n, 0, rule, exp, "GET %s:%d", prefix, i);
            break;
        case 1:
            snprintf(exp, sizeof(exp), "[\"m%d\",\"m%d\"]", i, i + 1);
            expectAll(file, line, ns, n, 1, rule, exp, "SMEMBERS %s:%d", prefix, i);
            break;
        case 2:
            snprintf(exp, sizeof(exp), "[\"v%d\",\"x\"]", i);
            expectAll(file, line, ns, n, 0, rule, exp, "HMGET %s:%d f%d g", prefix, i, i);
            break;
        default:
            snprintf(exp, sizeof(exp), "\"%d\"", i);
            expectAll(file, line, ns, n, 0, rule, exp, "GET %s:%d", prefix, i);
            break;
        }
    }
    expectAll(file, line, ns, n, 0, rule, "+OK", "SELECT 0");
}
#define CHECK_KEYS(ns, n, db, prefix, count, step) checkKeysAt(__FILE__, __LINE__, (ns), (n), (db), (prefix), (count), (step))

/* ROLE on x: ["master", offset, [[ip, port, offset], ...]] with one entry for
 * each node of peers, in any order. */
static void checkRoleAt(const char *file, int line, node *x, node **peers, int n) {
    redisReply *r = redisCommand(x->c, "ROLE");
    char *shown = hRenderOrErr(x->c, r);
    int ok = r && r->type == REDIS_REPLY_ARRAY && r->elements == 3 && r->element[0]->type == REDIS_REPLY_STRING &&
             !strcmp(r->element[0]->str, "master") && r->element[1]->type == REDIS_REPLY_INTEGER &&
             r->element[2]->type == REDIS_REPLY_ARRAY && r->element[2]->elements == (size_t)n;
    int seen[MAX_PEERS] = {0};
    for (size_t i = 0; ok && i < r->element[2]->elements; i++) {
        redisReply *e = r->element[2]->element[i];
        ok = e->type == REDIS_REPLY_ARRAY && e->elements == 3 && e->element[0]->type == REDIS_REPLY_STRING &&
             e->element[1]->type == REDIS_REPLY_STRING && e->element[2]->type == REDIS_REPLY_STRING &&
             !strcmp(e->element[0]->str, "127.0.0.1") && isdigit((unsigned char)e->element[2]->str[0]);
        for (int j = 0; ok && j < n && j < MAX_PEERS; j++)
            if (atoi(e->element[1]->str) == nodePort(peers[j])) seen[j]++;
    }
    for (int j = 0; ok && j < n && j < MAX_PEERS; j++) ok = seen[j] == 1;
    if (r) freeReplyObject(r);
    hbuf exp = {0};
    hbufPrintf(&exp, "[\"master\",:<offset>,[ one [\"127.0.0.1\",\"<port>\",\"<offset>\"] for each of ports");
    for (int j = 0; j < n; j++) hbufPrintf(&exp, " %d", nodePort(peers[j]));
    hbufCat(&exp, " ]]", 3);
    char what[64];
    snprintf(what, sizeof(what), "ROLE on %s", x->name);
    hReport(file, line, ok, what, exp.p, shown);
    free(exp.p);
}
#define CHECK_ROLE(x, peers, n) checkRoleAt(__FILE__, __LINE__, (x), (peers), (n))

static long long sumStat(node **ns, int n, const char *field) {
    long long s = 0;
    for (int i = 0; i < n; i++) s += infoInt(ns[i], "stats", field);
    return s;
}

/* Starts three nodes, and joins B and C to A (C with the SLAVEOF alias). */
static int startMesh3(node *a, node *b, node *c, node **all) {
    nodeStart(a, "A", NULL, NULL);
    nodeStart(b, "B", NULL, NULL);
    nodeStart(c, "C", NULL, NULL);
    EXPECT(b->c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(a));
    EXPECT(c->c, "+OK", "SLAVEOF 127.0.0.1 %d", nodePort(a));
    return WAIT_MESH(all, 3);
}

/* ------------------------------------------------------------------ */
/* 1. Join                                                              */

static void testJoin(void) {
    testBegin("join: three nodes with their own data become one full mesh");
    node A, B, C;
    node *all[] = {&A, &B, &C};
    nodeStart(&A, "A", NULL, NULL);
    nodeStart(&B, "B", NULL, NULL);
    nodeStart(&C, "C", NULL, NULL);

    /* each node's own data before joining, some of it under shared keys */
    EXPECT(A.c, "+OK", "SET a:str from-a");
    EXPECT(A.c, ":2", "SADD shared:set a1 a2");
    EXPECT(A.c, ":1", "INCRBY shared:ctr 1");
    EXPECT(A.c, ":1", "HSET shared:h fa va");
    EXPECT(B.c, "+OK", "SET b:str from-b");
    EXPECT(B.c, ":1", "SADD shared:set b1");
    EXPECT(B.c, ":10", "INCRBY shared:ctr 10");
    EXPECT(B.c, ":1", "HSET shared:h fb vb");
    EXPECT(B.c, "+OK", "SELECT 3");
    EXPECT(B.c, "+OK", "SET db3:str three");
    EXPECT(B.c, ":1", "SADD db3:set b");
    EXPECT(B.c, "+OK", "SELECT 0");
    EXPECT(C.c, "+OK", "SET c:str from-c");
    EXPECT(C.c, ":1", "SADD shared:set c1");
    EXPECT(C.c, ":100", "INCRBY shared:ctr 100");
    EXPECT(C.c, ":1", "HSET shared:h fc vc");
    EXPECT(C.c, "+OK", "SELECT 3");
    EXPECT(C.c, ":1", "SADD db3:set c");
    EXPECT(C.c, "+OK", "SELECT 0");

    EXPECT(B.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    EXPECT(C.c, "+OK", "SLAVEOF 127.0.0.1 %d", nodePort(&A));
    if (!WAIT_MESH(all, 3)) goto done;
    WAIT_LINK(&C, nodePort(&B), LINK_ONLINE, "C learned B through A");
    WAIT_LINK(&B, nodePort(&C), LINK_ONLINE, "B learned C through A");

    /* INFO replication: role, and each peer line names the node on that
     * port by the node_id that node shows in INFO server */
    char ids[3][32];
    for (int i = 0; i < 3; i++) {
        char *id = infoField(all[i], "server", "node_id");
        snprintf(ids[i], sizeof(ids[i]), "%s", id ? id : "(none)");
        CHECK_MSG(isHex(ids[i], 16), "INFO server node_id of %s is 16 hex: %s", all[i]->name, ids[i]);
    }
    for (int i = 0; i < 3; i++) {
        CHECK_STR(infoField(all[i], "replication", "role"), "master");
        peerView v;
        peerViewOf(all[i], &v);
        CHECK_INT(v.connected, 2);
        CHECK_INT(v.n, 2);
        for (int k = 0; k < v.n; k++)
            CHECK_MSG(v.p[k].wellFormed, "%s: peer line %d: id=%s port=%d state=%s lag_ms=%lld", all[i]->name, k,
                      v.p[k].id, v.p[k].port, v.p[k].state, v.p[k].lag);
        for (int j = 0; j < 3; j++) {
            if (j == i) continue;
            const peerInfo *p = peerOnline(&v, nodePort(all[j]));
            CHECK_MSG(p && !strcmp(p->id, ids[j]), "%s lists %s (port %d) with id %s, got %s", all[i]->name,
                      all[j]->name, nodePort(all[j]), ids[j], p ? p->id : "(no online line)");
        }
        node *others[2];
        for (int j = 0, k = 0; j < 3; j++)
            if (j != i) others[k++] = all[j];
        CHECK_ROLE(all[i], others, 2);
    }

    /* the union of what each node had: nothing is lost when joining */
    CONVERGED(all, 3);
    const char *rule = "join keeps and merges local data";
    EXPECT_ALL(all, 3, rule, ":6", "DBSIZE");
    EXPECT_ALL(all, 3, rule, "\"from-a\"", "GET a:str");
    EXPECT_ALL(all, 3, rule, "\"from-b\"", "GET b:str");
    EXPECT_ALL(all, 3, rule, "\"from-c\"", "GET c:str");
    EXPECT_ALL_SORTED(all, 3, "sets: adds on different nodes all survive", "[\"a1\",\"a2\",\"b1\",\"c1\"]",
                      "SMEMBERS shared:set");
    EXPECT_ALL(all, 3, "counters: increments on every node count", "\"111\"", "GET shared:ctr");
    EXPECT_ALL_SORTED(all, 3, "hashes: different fields all survive", "[\"fa\",\"fb\",\"fc\"]",
                      "HKEYS shared:h");
    EXPECT_ALL(all, 3, rule, "+OK", "SELECT 3");
    EXPECT_ALL(all, 3, rule, ":2", "DBSIZE");
    EXPECT_ALL(all, 3, rule, "\"three\"", "GET db3:str");
    EXPECT_ALL_SORTED(all, 3, rule, "[\"b\",\"c\"]", "SMEMBERS db3:set");
    EXPECT_ALL(all, 3, rule, "+OK", "SELECT 0");

    /* writes on any node reach the others, in any db */
    long long sentC = infoInt(&C, "stats", "peer_deltas_sent");
    long long recvA = infoInt(&A, "stats", "peer_deltas_received");
    EXPECT(C.c, "+OK", "SET late:c 1");
    EXPECT(A.c, "+OK", "SELECT 3");
    EXPECT(A.c, ":1", "SADD late:set x");
    EXPECT(A.c, "+OK", "SELECT 0");
    EXPECT(B.c, ":5", "HINCRBY shared:h n 5");
    CONVERGED(all, 3);
    rule = "a write on one node reaches every node";
    EXPECT_ALL(all, 3, rule, "\"1\"", "GET late:c");
    EXPECT_ALL(all, 3, rule, "\"5\"", "HGET shared:h n");
    EXPECT_ALL(all, 3, rule, "+OK", "SELECT 3");
    EXPECT_ALL(all, 3, rule, "[\"x\"]", "SMEMBERS late:set");
    EXPECT_ALL(all, 3, rule, "+OK", "SELECT 0");

    /* INFO stats counts the traffic */
    static const char *const stats[] = {"peer_deltas_sent", "peer_deltas_received", "peer_bytes_sent",
                                        "peer_bytes_received", "anti_entropy_rounds", "anti_entropy_keys_repaired",
                                        NULL};
    for (int i = 0; i < 3; i++)
        for (int k = 0; stats[k]; k++) {
            long long v = infoInt(all[i], "stats", stats[k]);
            CHECK_MSG(v >= 0, "INFO stats of %s has %s: %lld", all[i]->name, stats[k], v);
        }
    long long sentC2 = infoInt(&C, "stats", "peer_deltas_sent");
    long long recvA2 = infoInt(&A, "stats", "peer_deltas_received");
    long long bytesSent = infoInt(&C, "stats", "peer_bytes_sent");
    long long bytesRecv = infoInt(&A, "stats", "peer_bytes_received");
    long long rounds = sumStat(all, 3, "anti_entropy_rounds");
    CHECK_MSG(sentC2 > sentC, "C's peer_deltas_sent grew: %lld -> %lld", sentC, sentC2);
    CHECK_MSG(recvA2 > recvA, "A's peer_deltas_received grew: %lld -> %lld", recvA, recvA2);
    CHECK_MSG(bytesSent > 0, "C's peer_bytes_sent > 0: %lld", bytesSent);
    CHECK_MSG(bytesRecv > 0, "A's peer_bytes_received > 0: %lld", bytesRecv);
    CHECK_MSG(rounds > 0, "anti_entropy_rounds > 0 somewhere: %lld", rounds);
done:
    nodeStopAll(all, 3);
}

/* ------------------------------------------------------------------ */
/* 2. Concurrent conflicting writes                                     */

/* Partition {B} | {A, C}: B writes first, while A and C are stopped and B has
 * seen them down; then B is stopped and A writes, later in wall time and
 * without having seen anything B wrote.  Each pair of writes is concurrent;
 * every conflict is arranged so that the rule SPEC names and a plain "last
 * writer wins" would give different answers wherever they differ. */
static void testConcurrentWrites(void) {
    testBegin("concurrent conflicting writes across a partition, by CRDT rule");
    node A, B, C;
    node *all[] = {&A, &B, &C};
    if (!startMesh3(&A, &B, &C, all)) goto done;

    EXPECT(A.c, "+OK", "SET lww orig");
    EXPECT(A.c, "+OK", "SET ctr 10");
    EXPECT(A.c, "+OK", "SET fctr 1.5");
    EXPECT(A.c, "+OK", "SET rst 1");
    EXPECT(A.c, ":2", "SADD s:readd x y");
    EXPECT(A.c, ":1", "SADD s:union base");
    EXPECT(A.c, ":2", "SADD s:del a b");
    EXPECT(A.c, ":4", "HSET h f0 v0 same orig n 1 fd old");
    EXPECT(A.c, "+OK", "SET delset v0");
    EXPECT(A.c, "+OK", "SET setdel v0");
    EXPECT(A.c, "+OK", "SET ek v");
    EXPECT(A.c, "+OK", "SET ek2 v");
    EXPECT(A.c, "+OK", "SELECT 3");
    EXPECT(A.c, "+OK", "SET lww3 orig");
    EXPECT(A.c, "+OK", "SELECT 0");
    if (!CONVERGED(all, 3)) goto done;

    /* side 1, earlier: B alone */
    nodePause(&A);
    nodePause(&C);
    WAIT_LINK(&B, nodePort(&A), LINK_NOT_ONLINE, "partition: B sees stopped A down");
    WAIT_LINK(&B, nodePort(&C), LINK_NOT_ONLINE, "partition: B sees stopped C down");
    long long d1 = hNowMs() + 200000, d2 = d1 - 50000; /* the later-written deadline is the nearer one */
    EXPECT(B.c, "+OK", "SET lww fromB");
    EXPECT(B.c, ":15", "INCRBY ctr 5");
    EXPECT(B.c, "\"1.75\"", "INCRBYFLOAT fctr 0.25");
    EXPECT(B.c, ":6", "INCRBY rst 5");
    EXPECT(B.c, ":0", "SADD s:readd x"); /* already there: re-added with a new dot */
    EXPECT(B.c, ":1", "SREM s:readd y");
    EXPECT(B.c, ":1", "SADD s:union fromB");
    EXPECT(B.c, ":1", "SADD s:del c");
    EXPECT(B.c, ":1", "HSET h fb vb");
    EXPECT(B.c, ":0", "HSET h same fromB");
    EXPECT(B.c, ":3", "HINCRBY h n 2");
    EXPECT(B.c, ":0", "HSET h fd new");
    EXPECT(B.c, ":1", "DEL delset");
    EXPECT(B.c, "+OK", "SET setdel newer");
    EXPECT(B.c, "+OK", "SET tclash1 str");
    EXPECT(B.c, ":1", "SADD tclash2 m");
    EXPECT(B.c, ":1", "PEXPIREAT ek %lld", d1);
    EXPECT(B.c, ":1", "PEXPIREAT ek2 %lld", d1);
    EXPECT(B.c, "+OK", "SELECT 3");
    EXPECT(B.c, "+OK", "SET lww3 fromB");
    EXPECT(B.c, "+OK", "SELECT 0");

    /* side 2, later: A (with C), B frozen */
    nodePause(&B);
    nodeResume(&A);
    nodeResume(&C);
    hSleepMs(5); /* strictly later in wall time, whatever the clock's grain */
    CHECK_MSG(!strcmp(RUN(A.c, "GET lww"), "\"orig\""),
              "partition holds: A has not seen B's writes before its own (GET lww = %s)", RUN(A.c, "GET lww"));
    EXPECT(A.c, "+OK", "SET lww fromA");
    EXPECT(A.c, ":17", "INCRBY ctr 7");
    EXPECT(A.c, "\"2\"", "INCRBYFLOAT fctr 0.5");
    EXPECT(A.c, "+OK", "SET rst 100");
    EXPECT(A.c, ":1", "SREM s:readd x");
    EXPECT(A.c, ":0", "SADD s:readd y"); /* already there: re-added with a new dot */
    EXPECT(A.c, ":1", "SADD s:union fromA");
    EXPECT(A.c, ":1", "DEL s:del");
    EXPECT(A.c, ":1", "HSET h fa va");
    EXPECT(A.c, ":0", "HSET h same fromA");
    EXPECT(A.c, ":4", "HINCRBY h n 3");
    EXPECT(A.c, ":1", "HDEL h fd");
    EXPECT(A.c, "+OK", "SET delset after");
    EXPECT(A.c, ":1", "DEL setdel");
    EXPECT(A.c, ":1", "SADD tclash1 m");
    EXPECT(A.c, "+OK", "SET tclash2 str");
    EXPECT(A.c, ":1", "PEXPIREAT ek %lld", d2);
    EXPECT(A.c, "+OK", "SET ek2 v2");
    EXPECT(A.c, "+OK", "SELECT 3");
    EXPECT(A.c, "+OK", "SET lww3 fromA");
    EXPECT(A.c, "+OK", "SELECT 0");

    /* heal */
    nodeResume(&B);
    CONVERGED(all, 3);
    WAIT_MESH(all, 3);
    EXPECT_ALL(all, 3, "string LWW: the later SET wins", "\"fromA\"", "GET lww");
    EXPECT_ALL(all, 3, "string LWW in db 3", "+OK", "SELECT 3");
    EXPECT_ALL(all, 3, "string LWW in db 3: the later SET wins", "\"fromA\"", "GET lww3");
    EXPECT_ALL(all, 3, "string LWW in db 3", "+OK", "SELECT 0");
    EXPECT_ALL(all, 3, "counter: concurrent INCRBYs all count, 10+5+7", "\"22\"", "GET ctr");
    EXPECT_ALL(all, 3, "counter: concurrent INCRBYFLOATs all count, 1.5+0.25+0.5", "\"2.25\"", "GET fctr");
    EXPECT_ALL(all, 3, "counter: SET replaces only what it observed, 100 + unseen 5", "\"105\"", "GET rst");
    EXPECT_ALL(all, 3, "add-wins: a re-add of x survives a later concurrent SREM x", ":1", "SISMEMBER s:readd x");
    EXPECT_ALL(all, 3, "add-wins: an SREM y loses to a concurrent re-add of y", ":1", "SISMEMBER s:readd y");
    EXPECT_ALL(all, 3, "add-wins: nothing else in the set", ":2", "SCARD s:readd");
    EXPECT_ALL_SORTED(all, 3, "add-wins: concurrent SADDs of distinct members: union",
                      "[\"base\",\"fromA\",\"fromB\"]", "SMEMBERS s:union");
    EXPECT_ALL_SORTED(all, 3, "add-wins: DEL of a set removes only the adds it observed", "[\"c\"]",
                      "SMEMBERS s:del");
    EXPECT_ALL(all, 3, "hash: untouched field kept", "\"v0\"", "HGET h f0");
    EXPECT_ALL(all, 3, "hash: concurrent HSETs of different fields both survive", "[\"va\",\"vb\"]",
               "HMGET h fa fb");
    EXPECT_ALL(all, 3, "hash: same field, the later HSET wins", "\"fromA\"", "HGET h same");
    EXPECT_ALL(all, 3, "hash: concurrent HINCRBYs all count, 1+2+3", "\"6\"", "HGET h n");
    EXPECT_ALL(all, 3, "hash: a later HDEL loses to a concurrent HSET of the field", "\"new\"", "HGET h fd");
    EXPECT_ALL(all, 3, "hash: exactly those fields", ":6", "HLEN h");
    EXPECT_ALL(all, 3, "delete vs update: a SET later than a concurrent DEL re-creates", "\"after\"", "GET delset");
    EXPECT_ALL(all, 3, "delete vs update: a DEL later than a concurrent SET removes", ":0", "EXISTS setdel");
    EXPECT_ALL(all, 3, "type clash: the later creating write (SADD) wins", "+set", "TYPE tclash1");
    EXPECT_ALL(all, 3, "type clash: the winner's value", "[\"m\"]", "SMEMBERS tclash1");
    EXPECT_ALL(all, 3, "type clash: the later creating write (SET) wins", "+string", "TYPE tclash2");
    EXPECT_ALL(all, 3, "type clash: the winner's value", "\"str\"", "GET tclash2");
    char exp[64];
    snprintf(exp, sizeof(exp), ":%lld", d2);
    EXPECT_ALL(all, 3, "expiry: the deadline is LWW (the later-written, nearer one)", exp, "PEXPIRETIME ek");
    EXPECT_ALL(all, 3, "expiry: the value is untouched", "\"v\"", "GET ek");
    EXPECT_ALL(all, 3, "expiry: a later SET without KEEPTTL clears a concurrent deadline", ":-1", "PEXPIRETIME ek2");
    EXPECT_ALL(all, 3, "expiry: the later SET's value", "\"v2\"", "GET ek2");

    /* a short TTL: one absolute deadline everywhere, and gone everywhere */
    EXPECT(C.c, "+OK", "SET short v PX 2000");
    long long deadline = hRunInt(C.c, "PEXPIRETIME short");
    CHECK_RANGE(deadline, hNowMs() + 1000, hNowMs() + 2000);
    CONVERGED(all, 3);
    snprintf(exp, sizeof(exp), ":%lld", deadline);
    EXPECT_ALL(all, 3, "expiry: the same absolute deadline on every node", exp, "PEXPIRETIME short");
    long long wait = deadline - 400 - hNowMs();
    if (wait > 0) {
        hSleepMs((int)wait);
        EXPECT_ALL(all, 3, "expiry: still there before the deadline", ":1", "EXISTS short");
    }
    wait = deadline + 50 - hNowMs();
    if (wait > 0) hSleepMs((int)wait);
    EXPECT_ALL(all, 3, "expiry: gone on every node once the deadline passed", ":0", "EXISTS short");
    CONVERGED(all, 3);
done:
    nodeStopAll(all, 3);
}

/* ------------------------------------------------------------------ */
/* 3. Partition and heal with many keys                                 */

static void testPartitionHeal(void) {
    testBegin("partition with 2,100 keys written on the other side, then heal");
    node A, B, C;
    node *all[] = {&A, &B, &C}, *ab[] = {&A, &B};
    if (!startMesh3(&A, &B, &C, all)) goto done;
    EXPECT(A.c, "+OK", "SET seed 1");
    CONVERGED(all, 3);

    long long repairedBefore = sumStat(all, 3, "anti_entropy_keys_repaired");
    long long bytesC = infoInt(&C, "stats", "peer_bytes_received");
    nodePause(&C);
    WAIT_LINK(&A, nodePort(&C), LINK_NOT_ONLINE, "partition: A sees stopped C down");
    WAIT_LINK(&B, nodePort(&C), LINK_NOT_ONLINE, "partition: B sees stopped C down");
    CHECK_INT(loadKeys(&A, 0, "pa", 900), 0);
    CHECK_INT(loadKeys(&A, 5, "pa5", 100), 0);
    CHECK_INT(loadKeys(&B, 0, "pb", 900), 0);
    CHECK_INT(loadKeys(&B, 5, "pb5", 100), 0);
    for (int i = 0; i < 100; i++) {
        hAppend(A.c, "SADD both:%d a", i);
        hAppend(B.c, "SADD both:%d b", i);
    }
    for (int i = 0; i < 100; i++) {
        EXPECT_NEXT(A.c, ":1");
        EXPECT_NEXT(B.c, ":1");
    }
    printf("   wrote 2,100 keys on A and B while C is stopped\n");
    CONVERGED(ab, 2); /* the running side keeps replicating */

    long long t0 = hNowMs();
    nodeResume(&C);
    int ok = CONVERGED(all, 3);
    if (ok) printf("   C caught up %lld ms after SIGCONT\n", hNowMs() - t0);
    WAIT_MESH(all, 3);
    EXPECT_ALL(all, 3, "partition heal: every key everywhere", ":1901", "DBSIZE");
    EXPECT_ALL(all, 3, "partition heal", "+OK", "SELECT 5");
    EXPECT_ALL(all, 3, "partition heal: every key everywhere, db 5", ":200", "DBSIZE");
    EXPECT_ALL(all, 3, "partition heal", "+OK", "SELECT 0");
    CHECK_KEYS(all, 3, 0, "pa", 900, 37);
    CHECK_KEYS(all, 3, 0, "pb", 900, 41);
    CHECK_KEYS(all, 3, 5, "pa5", 100, 13);
    CHECK_KEYS(all, 3, 5, "pb5", 100, 11);
    EXPECT_ALL_SORTED(all, 3, "add-wins: SADDs on two nodes: union", "[\"a\",\"b\"]", "SMEMBERS both:0");
    EXPECT_ALL_SORTED(all, 3, "add-wins: SADDs on two nodes: union", "[\"a\",\"b\"]", "SMEMBERS both:99");
    long long repairedAfter = sumStat(all, 3, "anti_entropy_keys_repaired");
    CHECK_MSG(repairedAfter > repairedBefore, "anti_entropy_keys_repaired grew (sum of A, B, C): %lld -> %lld",
              repairedBefore, repairedAfter);
    long long v = infoInt(&C, "stats", "peer_bytes_received");
    CHECK_MSG(v > bytesC, "C's peer_bytes_received grew: %lld -> %lld", bytesC, v);
done:
    nodeStopAll(all, 3);
}

/* ------------------------------------------------------------------ */
/* 4. kill -9 and restart empty                                         */

static void testKillRestart(void) {
    testBegin("kill -9 a node, restart it empty on its port: it refills from its peers");
    node A, B, C;
    node *all[] = {&A, &B, &C};
    if (!startMesh3(&A, &B, &C, all)) goto done;
    CHECK_INT(loadKeys(&A, 0, "ka", 200), 0);
    CHECK_INT(loadKeys(&A, 2, "ka2", 60), 0);
    CHECK_INT(loadKeys(&B, 0, "kb", 200), 0); /* B's own writes must come back to it */
    EXPECT(A.c, "+OK", "SET gone:1 x");
    EXPECT(A.c, ":1", "SADD gone:2 y");
    if (!CONVERGED(all, 3)) goto done;
    EXPECT(C.c, ":2", "DEL gone:1 gone:2");
    CONVERGED(all, 3);

    kill(B.s->pid, SIGKILL);
    while (!hServerReaped(B.s)) hSleepMs(5);
    redisFree(B.c);
    B.c = NULL;
    EXPECT(A.c, "+OK", "SET while:down yes");
    EXPECT(C.c, ":1", "SADD while:set m");

    char aPort[16];
    snprintf(aPort, sizeof(aPort), "%d", nodePort(&A));
    const char *const more[] = {"--replicaof", "127.0.0.1", aPort, NULL};
    const char *argv[32];
    peerArgs(argv, 32, more);
    if (hRestartServer(B.s, argv) != 0) {
        CHECK_MSG(0, "B restarts on port %d", nodePort(&B));
        goto done;
    }
    nodeConnect(&B);
    printf("   B restarted on port %d with --replicaof 127.0.0.1 %s\n", nodePort(&B), aPort);
    WAIT_MESH(all, 3);
    CONVERGED(all, 3);
    const char *rule = "a restarted empty node refills from its peers";
    EXPECT_ALL(all, 3, rule, ":402", "DBSIZE");
    EXPECT_ALL(all, 3, rule, "+OK", "SELECT 2");
    EXPECT_ALL(all, 3, rule, ":60", "DBSIZE");
    EXPECT_ALL(all, 3, rule, "+OK", "SELECT 0");
    CHECK_KEYS(all, 3, 0, "ka", 200, 17);
    CHECK_KEYS(all, 3, 0, "kb", 200, 19);
    CHECK_KEYS(all, 3, 2, "ka2", 60, 7);
    EXPECT_ALL(all, 3, "writes made while B was dead reach it", "\"yes\"", "GET while:down");
    EXPECT_ALL(all, 3, "writes made while B was dead reach it", "[\"m\"]", "SMEMBERS while:set");
    EXPECT_ALL(all, 3, "deleted keys stay deleted", ":0", "EXISTS gone:1 gone:2");
done:
    nodeStopAll(all, 3);
}

/* ------------------------------------------------------------------ */
/* 5. REPLICAOF NO ONE                                                  */

static void testLeave(void) {
    testBegin("REPLICAOF NO ONE: a node leaves the mesh and keeps its data");
    node A, B, C;
    node *all[] = {&A, &B, &C}, *ab[] = {&A, &B};
    if (!startMesh3(&A, &B, &C, all)) goto done;
    EXPECT(A.c, "+OK", "SET k1 a");
    EXPECT(B.c, ":2", "SADD s1 x y");
    EXPECT(C.c, ":1", "HSET h1 f v");
    if (!CONVERGED(all, 3)) goto done;

    EXPECT(C.c, "+OK", "REPLICAOF NO ONE");
    WAIT_LINK(&C, 0, LINK_ABSENT, "C left: it has no peers");
    WAIT_LINK(&A, nodePort(&C), LINK_ABSENT, "C left: A no longer lists it");
    WAIT_LINK(&B, nodePort(&C), LINK_ABSENT, "C left: B no longer lists it");
    CHECK_INT(infoInt(&C, "replication", "connected_peers"), 0);
    CHECK_INT(infoInt(&A, "replication", "connected_peers"), 1);
    CHECK_INT(infoInt(&B, "replication", "connected_peers"), 1);
    EXPECT_GLOB(C.c, "[\"master\",:*,[]]", "ROLE");
    CHECK_STR(infoField(&C, "replication", "role"), "master");
    EXPECT_ALL(all, 3, "leaving keeps the data", ":3", "DBSIZE");
    EXPECT_ALL(all, 3, "leaving keeps the data", "\"a\"", "GET k1");
    EXPECT_ALL(all, 3, "leaving keeps the data", "\"v\"", "HGET h1 f");

    /* nothing flows either way any more; A and B still replicate */
    EXPECT(C.c, "+OK", "SET left:c 1");
    EXPECT(C.c, ":1", "SREM s1 x");
    EXPECT(A.c, "+OK", "SET stay:a 1");
    EXPECT(B.c, ":1", "SADD stay:set b");
    CONVERGED(ab, 2);
    hSleepMs(QUIET_MS); /* many anti-entropy rounds and heartbeats */
    EXPECT_ALL(ab, 2, "A and B still replicate", "\"1\"", "GET stay:a");
    EXPECT_ALL(ab, 2, "a node that left sends nothing", ":0", "EXISTS left:c");
    EXPECT_ALL(ab, 2, "a node that left sends nothing", ":1", "SISMEMBER s1 x");
    EXPECT(C.c, ":0", "EXISTS stay:a stay:set");
    char *dA = strdup(digestOf(&A));
    CHECK_MSG(strcmp(dA, digestOf(&C)) != 0, "C's digest differs from A's after writing apart (%s)", dA);
    free(dA);
    CHECK_INT(infoInt(&C, "replication", "connected_peers"), 0);
    WAIT_LINK(&A, nodePort(&C), LINK_ABSENT, "nobody reconnects to a node that left");

    /* rejoining merges what each side wrote apart */
    EXPECT(C.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&B));
    WAIT_MESH(all, 3);
    CONVERGED(all, 3);
    EXPECT_ALL(all, 3, "rejoin merges both sides", ":6", "DBSIZE");
    EXPECT_ALL(all, 3, "rejoin merges both sides", "\"1\"", "GET left:c");
    EXPECT_ALL(all, 3, "rejoin merges both sides", "[\"b\"]", "SMEMBERS stay:set");
    EXPECT_ALL(all, 3, "SREM made apart removes the add it observed", "[\"y\"]", "SMEMBERS s1");
done:
    nodeStopAll(all, 3);
}

/* ------------------------------------------------------------------ */
/* 6. Edge cases                                                        */

static void testEdgeCases(void) {
    testBegin("REPLICAOF edge cases: arity, bad port, itself, twice, an absent node");
    node A, B;
    node *ab[] = {&A, &B};
    nodeStart(&A, "A", NULL, NULL);
    nodeStart(&B, "B", NULL, NULL);

    EXPECT(A.c, "-ERR wrong number of arguments for 'replicaof' command", "REPLICAOF");
    EXPECT(A.c, "-ERR wrong number of arguments for 'replicaof' command", "REPLICAOF 127.0.0.1");
    EXPECT(A.c, "-ERR wrong number of arguments for 'replicaof' command", "REPLICAOF 127.0.0.1 1 2");
    EXPECT(A.c, "-ERR wrong number of arguments for 'slaveof' command", "SLAVEOF");
    EXPECT(A.c, "-ERR Invalid master port", "REPLICAOF 127.0.0.1 notaport");
    EXPECT(A.c, "-ERR Invalid master port", "REPLICAOF 127.0.0.1 99999");
    EXPECT(A.c, "+OK", "REPLICAOF NO ONE");
    EXPECT(A.c, "+OK", "SLAVEOF no one");

    /* itself: an error, or +OK without becoming its own peer */
    char *r = RUN(A.c, "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    CHECK_MSG(!strcmp(r, "+OK") || r[0] == '-', "REPLICAOF itself: +OK or an error, got %s", r);
    hSleepMs(QUIET_MS);
    peerView v;
    peerViewOf(&A, &v);
    CHECK_MSG(v.n == 0 && v.connected == 0, "REPLICAOF itself adds no peer: %d peer lines, connected_peers=%d",
              v.n, v.connected);
    EXPECT(A.c, "+PONG", "PING");
    EXPECT(A.c, "+OK", "SET self ok");
    EXPECT(A.c, "\"ok\"", "GET self");

    /* the same peer twice, and the reverse join: still one link each way.
     * Redis answers a REPLICAOF of the master it already has with this status. */
    EXPECT(A.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&B));
    EXPECT(A.c, "+OK Already connected to specified master", "REPLICAOF 127.0.0.1 %d", nodePort(&B));
    if (WAIT_MESH(ab, 2)) {
        EXPECT(B.c, "+OK Already connected to specified master", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
        hSleepMs(500);
        WAIT_MESH(ab, 2);
        for (int i = 0; i < 2; i++) {
            peerViewOf(ab[i], &v);
            CHECK_MSG(v.n == 1 && peerLinesFor(&v, nodePort(ab[1 - i])) == 1,
                      "joining the same peer twice gives one peer line on %s: %d lines", ab[i]->name, v.n);
        }
        CONVERGED(ab, 2);
        EXPECT_ALL(ab, 2, "join keeps and merges local data", "\"ok\"", "GET self");
    }

    /* a node that is not there: A keeps serving, and keeps B */
    int absent = hFreePort();
    r = RUN(A.c, "REPLICAOF 127.0.0.1 %d", absent);
    CHECK_MSG(!strcmp(r, "+OK") || r[0] == '-', "REPLICAOF an absent node: +OK or an error, got %s", r);
    if (!strcmp(r, "+OK")) WAIT_LINK(&A, absent, LINK_DOWN, "an absent node is listed, never online");
    long long t0 = hNowMs();
    EXPECT(A.c, "+PONG", "PING");
    EXPECT(A.c, "+OK", "SET still serving");
    CHECK_RANGE(hNowMs() - t0, 0, 500);
    hSleepMs(300);
    peerViewOf(&A, &v);
    CHECK_MSG(!peerOnline(&v, absent) && peerOnline(&v, nodePort(&B)) && v.connected == 1,
              "an absent peer is not online, B still is: connected_peers=%d", v.connected);

    /* leaving drops every peer, the absent one too */
    EXPECT(A.c, "+OK", "REPLICAOF NO ONE");
    WAIT_LINK(&A, 0, LINK_ABSENT, "REPLICAOF NO ONE drops every peer");
    WAIT_LINK(&B, nodePort(&A), LINK_ABSENT, "B forgets A once it left");
    nodeStopAll(ab, 2);
}

/* ------------------------------------------------------------------ */
/* 7. masterauth                                                        */

static void testMasterauth(void) {
    testBegin("masterauth: nodes with the password join; one without it cannot");
    static const char *const secured[] = {"--requirepass", "secret", "--masterauth", "secret", NULL};
    node A, B, C;
    node *ab[] = {&A, &B}, *all[] = {&A, &B, &C};
    nodeStart(&A, "A", "secret", secured);
    nodeStart(&B, "B", "secret", secured);
    nodeStart(&C, "C", NULL, NULL);
    EXPECT(A.c, "+OK", "SET auth:a 1");
    EXPECT(B.c, "+OK", "SELECT 3");
    EXPECT(B.c, ":1", "SADD auth:set b");
    EXPECT(B.c, "+OK", "SELECT 0");
    EXPECT(B.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    if (WAIT_MESH(ab, 2)) {
        EXPECT(A.c, ":1", "HSET auth:h f v");
        CONVERGED(ab, 2);
        const char *rule = "peers authenticate with masterauth";
        EXPECT_ALL(ab, 2, rule, "\"1\"", "GET auth:a");
        EXPECT_ALL(ab, 2, rule, "\"v\"", "HGET auth:h f");
        EXPECT_ALL(ab, 2, rule, "+OK", "SELECT 3");
        EXPECT_ALL(ab, 2, rule, "[\"b\"]", "SMEMBERS auth:set");
        EXPECT_ALL(ab, 2, rule, "+OK", "SELECT 0");
    }

    /* C has no masterauth: A refuses it */
    EXPECT(C.c, "+OK", "SET c:only 1");
    char *r = RUN(C.c, "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    CHECK_MSG(!strcmp(r, "+OK") || r[0] == '-', "REPLICAOF without masterauth: +OK or an error, got %s", r);
    hSleepMs(QUIET_MS);
    peerView v;
    peerViewOf(&C, &v);
    CHECK_MSG(v.connected == 0 && !peerOnline(&v, nodePort(&A)),
              "C without masterauth has no online peer: connected_peers=%d", v.connected);
    if (!strcmp(r, "+OK"))
        CHECK_MSG(peerLinesFor(&v, nodePort(&A)) == 1, "C lists A (not online): %d lines for A's port",
                  peerLinesFor(&v, nodePort(&A)));
    peerViewOf(&A, &v);
    CHECK_MSG(v.connected == 1 && !peerOnline(&v, nodePort(&C)),
              "A does not take C as a peer: connected_peers=%d", v.connected);
    EXPECT(A.c, ":0", "EXISTS c:only");
    EXPECT(B.c, ":0", "EXISTS c:only");
    EXPECT(C.c, ":0", "EXISTS auth:a auth:h");
    EXPECT(C.c, "+PONG", "PING");
    nodeStopAll(all, 3);
}

/* ------------------------------------------------------------------ */
/* 8. Regressions from the review of the first peering code             */

/* The empty key replicates (it once closed the link for good); the same node
 * joined under a second name, or this node as "0", is forgotten without a
 * crash; SWAPDB, which is no CRDT operation, is refused while peers exist. */
static void testReviewRegressions(void) {
    testBegin("regressions: empty key, one node under two names, SWAPDB with peers");
    node A, B;
    node *ab[] = {&A, &B};
    nodeStart(&A, "A", NULL, NULL);
    nodeStart(&B, "B", NULL, NULL);
    EXPECT(A.c, "+OK", "SET %b empty-key", "", (size_t)0);
    EXPECT(B.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    if (WAIT_MESH(ab, 2)) {
        EXPECT(A.c, "+OK", "SET after-empty 1");
        CONVERGED(ab, 2);
        for (int i = 0; i < 2; i++) EXPECT(ab[i]->c, "\"empty-key\"", "GET %b", "", (size_t)0);  /* the empty key replicates */
        EXPECT_ALL(ab, 2, "writes after it still stream", "\"1\"", "GET after-empty");
        /* B again under another name for the same address: forgotten, no crash */
        EXPECT(A.c, "+OK", "REPLICAOF localhost %d", nodePort(&B));
        char *r = RUN(A.c, "REPLICAOF 0 %d", nodePort(&A));
        CHECK_MSG(!strcmp(r, "+OK") || r[0] == '-', "REPLICAOF 0 <own port>: +OK or an error, got %s", r);
        hSleepMs(500);
        EXPECT(A.c, "+PONG", "PING");
        peerView v;
        peerViewOf(&A, &v);
        CHECK_MSG(v.n == 1 && peerOnline(&v, nodePort(&B)),
                  "one line for B, none for a second name or itself: %d lines", v.n);
        EXPECT(A.c, "-ERR SWAPDB is not supported while this node has peers", "SWAPDB 0 1");
        EXPECT(A.c, "+OK", "SET after-swap 2");
        CONVERGED(ab, 2);
        EXPECT_ALL(ab, 2, "still streaming", "\"2\"", "GET after-swap");

        /* a key deleted and re-created while a peer was away (its tombstone
         * collected meanwhile) must not collide with the peer's stale copy:
         * the new incarnation's dots and counter seqs start past the old */
        EXPECT(A.c, ":1", "SADD reborn x");
        EXPECT(A.c, ":5", "INCRBY reborn-ctr 5");
        CONVERGED(ab, 2);
        EXPECT(B.c, "+OK", "REPLICAOF NO ONE");
        WAIT_LINK(&A, nodePort(&B), LINK_ABSENT, "A forgets B once it left");
        EXPECT(A.c, ":2", "DEL reborn reborn-ctr");
        hSleepMs(300);                              /* no peers: tombstones collected */
        EXPECT(A.c, ":1", "SADD reborn y");
        EXPECT(A.c, ":1", "SADD reborn z");
        EXPECT(A.c, ":1", "INCR reborn-ctr");
        EXPECT(B.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
        if (WAIT_MESH(ab, 2)) {
            CONVERGED(ab, 2);
            EXPECT_ALL_SORTED(ab, 2, "the re-created set keeps both new members, the deleted one stays gone",
                              "[\"y\",\"z\"]", "SMEMBERS reborn");
            EXPECT_ALL(ab, 2, "the re-created counter counts only its own increments", "\"1\"", "GET reborn-ctr");

            /* RENAME's source is deleted as an observed remove: an add made to
             * the source concurrently on the other node survives there */
            EXPECT(A.c, ":2", "SADD ren:src a b");
            CONVERGED(ab, 2);
            nodePause(&A);
            WAIT_LINK(&B, nodePort(&A), LINK_DOWN, "B sees A down");
            EXPECT(B.c, ":1", "SADD ren:src c");
            nodePause(&B);
            nodeResume(&A);
            WAIT_LINK(&A, nodePort(&B), LINK_DOWN, "A sees B down");
            EXPECT(A.c, "+OK", "RENAME ren:src ren:dst");
            nodeResume(&B);
            CONVERGED(ab, 2);
            EXPECT_ALL_SORTED(ab, 2, "RENAME moved what it saw", "[\"a\",\"b\"]", "SMEMBERS ren:dst");
            EXPECT_ALL_SORTED(ab, 2, "an add RENAME did not see stays at the source", "[\"c\"]", "SMEMBERS ren:src");
        }
    }
    nodeStopAll(ab, 2);
}

/* A node leaves while a peer is stopped (it misses the LEAVE): once that peer
 * is back, member lists still naming the leaver must not pull it back in. */
static void testLeaveWhileStopped(void) {
    testBegin("REPLICAOF NO ONE while a peer is stopped: the leaver stays out");
    node A, B, C;
    node *all[] = {&A, &B, &C}, *bc[] = {&B, &C};
    if (startMesh3(&A, &B, &C, all)) {
        nodePause(&B);
        hSleepMs(QUIET_MS);
        EXPECT(A.c, "+OK", "REPLICAOF NO ONE");
        hSleepMs(300);
        nodeResume(&B);
        hSleepMs(2000);
        CHECK_INT(infoInt(&A, "replication", "connected_peers"), 0);
        WAIT_LINK(&B, nodePort(&A), LINK_ABSENT, "B forgets the node that left");
        WAIT_LINK(&C, nodePort(&A), LINK_ABSENT, "C forgets the node that left");
        EXPECT(A.c, "+OK", "SET only:a 1");
        hSleepMs(500);
        for (int i = 0; i < 2; i++) EXPECT(bc[i]->c, "(nil)", "GET only:a");
        WAIT_MESH(bc, 2);
    }
    nodeStopAll(all, 3);
}

/* A node whose clock runs far ahead cannot win every future write: its peer
 * refuses stamps more than max-clock-skew-ms ahead of its own clock. */
static void testClockSkew(void) {
    testBegin("clock skew: stamps too far ahead are refused");
    node A, B;
    node *ab[] = {&A, &B};
    nodeStart(&A, "A", NULL, NULL);
    nodeStart(&B, "B", NULL, NULL);
    EXPECT(B.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    if (WAIT_MESH(ab, 2)) {
        EXPECT(A.c, "+OK", "SET skew:k good");
        CONVERGED(ab, 2);
        long long before = infoInt(&B, "stats", "peer_records_refused");
        EXPECT(A.c, "+OK", "DEBUG CLOCK-SKEW 120000");
        EXPECT(A.c, "+OK", "SET skew:k from-the-future");
        hSleepMs(800);
        EXPECT(B.c, "\"good\"", "GET skew:k");
        CHECK_MSG(infoInt(&B, "stats", "peer_records_refused") > before,
                  "B counts the refused record: peer_records_refused did not grow");
        EXPECT(B.c, "+OK", "SET skew:other fine");       /* B itself is unaffected */
        EXPECT(B.c, "\"fine\"", "GET skew:other");
    }
    nodeStopAll(ab, 2);
}

/* A connection that says PEER HELLO as a node with a made-up id, listening
 * on a port nobody serves (the node's link back to it never comes up). */
static redisContext *fakePeer(node *n, const char *id) {
    redisContext *c = hConnect(n->s);
    char *r = RUN(c, "PEER HELLO %s %d join", id, hFreePort());
    CHECK_MSG(r[0] != '-', "PEER HELLO from a new node is accepted, got %s", r);
    return c;
}

/* A PEER DELTA that is good up to some point and then garbage or cut short:
 * the node applies the whole records before the bad one (records are decoded
 * ahead of the one applied, which must not lose or leak them), answers the
 * peer with an error, closes that link, and keeps serving. */
static void testMalformedPeerInput(void) {
    testBegin("a malformed PEER DELTA: the good records before it count, the link closes");
    enum { N = 20 };
    node S, A, B;                 /* records from S; garbage after them to A, cut short to B */
    nodeStart(&S, "S", NULL, NULL);
    nodeStart(&A, "A", NULL, NULL);
    nodeStart(&B, "B", NULL, NULL);
    hbuf want = {0};
    for (int i = 0; i < N; i++) {
        EXPECT(S.c, "+OK", "SET bad:%d v%d", i, i);
        char name[16];
        int len = snprintf(name, sizeof(name), "bad:%d", i);
        char head[2] = {0, (char)len};            /* db 0, a one-byte varint length */
        hbufCat(&want, head, 2);
        hbufCat(&want, name, (size_t)len);
    }
    redisContext *src = fakePeer(&S, "5eed000000000001");
    redisReply *rec = redisCommand(src, "PEER GET %b", want.p, want.len);
    CHECK_MSG(rec && rec->type == REDIS_REPLY_STRING && rec->len > N * 10,
              "PEER GET returns the %d records as one blob", N);
    if (rec && rec->type == REDIS_REPLY_STRING) {
        /* whole records then garbage; then the same cut inside the last record */
        for (int cut = 0; cut < 2; cut++) {
            node *to = cut ? &B : &A;
            redisContext *fake = fakePeer(to, "5eed000000000002");
            hbuf blob = {0};
            hbufCat(&blob, rec->str, cut ? rec->len - 3 : rec->len);
            if (!cut) hbufCat(&blob, "\xffgarbage", 8);
            redisReply *r = redisCommand(fake, "PEER DELTA %b", blob.p, blob.len);
            CHECK_MSG(r && r->type == REDIS_REPLY_ERROR && !strcmp(r->str, "ERR PEER: malformed payload"),
                      "a malformed DELTA (%s) is answered with ERR PEER: malformed payload", cut ? "cut" : "garbage");
            if (r) freeReplyObject(r);
            r = redisCommand(fake, "PEER PING");
            CHECK_MSG(r == NULL || r->type == REDIS_REPLY_ERROR, "the link that sent it is closed");
            if (r) freeReplyObject(r);
            redisFree(fake);
            free(blob.p);
            for (int i = 0; i < (cut ? N - 1 : N); i++) {
                char exp[16];
                snprintf(exp, sizeof(exp), "\"v%d\"", i);
                EXPECT(to->c, exp, "GET bad:%d", i);
            }
            if (cut) EXPECT(to->c, "(nil)", "GET bad:%d", N - 1);   /* the record cut short */
            EXPECT(to->c, "+PONG", "PING");
        }
    }
    if (rec) freeReplyObject(rec);
    redisFree(src);
    free(want.p);
    node *all[] = {&S, &A, &B};
    nodeStopAll(all, 3);
}

typedef struct cardWant {
    node *x;
    const char *cmd;  /* SCARD, HLEN */
    const char *key;
    long long want;
} cardWant;

static int cardReached(void *p) {
    cardWant *w = p;
    redisReply *r = redisCommand(w->x->c, "%s %s", w->cmd, w->key);
    int ok = r && r->type == REDIS_REPLY_INTEGER && r->integer == w->want;
    if (r) freeReplyObject(r);
    return ok;
}

/* SADDs to one set, pipelined in batches, for ms milliseconds; returns the
 * members written (member:0 .. member:n-1, from first). */
static int writeHot(node *x, const char *key, int first, int ms) {
    int n = first;
    long long until = hNowMs() + ms;
    while (hNowMs() < until) {
        for (int i = 0; i < 200; i++) hAppend(x->c, "SADD %s member:%d", key, n + i);
        for (int i = 0; i < 200; i++) {
            redisReply *r = NULL;
            if (redisGetReply(x->c, (void **)&r) != REDIS_OK) {
                hAbortIfServerDied(__FILE__, __LINE__);
                return n;
            }
            freeReplyObject(r);
        }
        n += 200;
    }
    return n;
}

/* A large set written continuously can differ between the nodes only because
 * the stream has not delivered yet: partial rounds leave it to the stream
 * (anti_entropy_keys_deferred counts such keys) instead of shipping its whole
 * state both ways, which slowed the writer and fed itself (with every round
 * complete, each one repaired the set: 6 repairs in 6 rounds), and the nodes
 * still converge. */
static void testHotKeyLeftToStream(void) {
    testBegin("anti-entropy leaves a key in use to the stream");
    node A, B;
    node *ab[] = {&A, &B};
    nodeStart(&A, "A", NULL, NULL);
    nodeStart(&B, "B", NULL, NULL);
    int n = writeHot(&A, "hot:set", 0, 1);        /* at least one batch */
    while (n < 20000) n = writeHot(&A, "hot:set", n, 1);
    EXPECT(B.c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(&A));
    if (WAIT_MESH(ab, 2) && CONVERGED(ab, 2)) {
        long long repaired = sumStat(ab, 2, "anti_entropy_keys_repaired");
        long long deferred = sumStat(ab, 2, "anti_entropy_keys_deferred");
        long long rounds = sumStat(ab, 2, "anti_entropy_rounds");
        n = writeHot(&A, "hot:set", n, 2500);
        /* the stream alone delivers every SADD at once (a round may not
         * repair the set while it is in use): 200 SADDs an iteration ship
         * in chunks of a few dozen operations, none may be lost */
        cardWant w = {&B, "SCARD", "hot:set", n};
        CHECK_MSG(waitFor(500, cardReached, &w), "B holds all %d members within 500 ms of the last SADD", n);
        long long r2 = sumStat(ab, 2, "anti_entropy_rounds") - rounds;
        long long rep2 = sumStat(ab, 2, "anti_entropy_keys_repaired") - repaired;
        printf("   %d members; %lld rounds, %lld repaired, %lld deferred while written\n", n, r2, rep2,
               sumStat(ab, 2, "anti_entropy_keys_deferred") - deferred);
        CHECK_MSG(r2 >= 3, "rounds ran while the set was written: %lld", r2);
        CHECK_MSG(infoInt(&A, "stats", "anti_entropy_keys_deferred") >= 0, "INFO stats has anti_entropy_keys_deferred");
        CHECK_MSG(rep2 <= 4, "the set in use was repaired whole %lld times in %lld rounds (at most by the 1 in %d full rounds)",
                  rep2, r2, 10);
        CONVERGED(ab, 2);
        /* the stream alone carried it: 200 SADDs a batch ship in chunks of a
         * few dozen operations, and none may be lost on the way */
        CHECK_MSG(sumStat(ab, 2, "anti_entropy_keys_repaired") - repaired <= 4,
                  "converged without repairing the set (repaired %lld times)",
                  sumStat(ab, 2, "anti_entropy_keys_repaired") - repaired);
        char exp[32];
        snprintf(exp, sizeof(exp), ":%d", n);
        EXPECT_ALL(ab, 2, "every SADD reached both nodes through the stream", exp, "SCARD hot:set");
    }
    nodeStopAll(ab, 2);
}

static int roundsRan(void *p) { return sumStat(p, 2, "anti_entropy_rounds") >= 1; }

/* Starts ab[0] and ab[1] joined, with anti-entropy only when the link comes
 * up: 1 once that first round ran, so that what the nodes exchange after it
 * travels by the stream alone. */
static int startStreamOnly(node **ab) {
    const char *const slowAe[] = {"--anti-entropy-interval-ms", "600000", NULL};
    nodeStart(ab[0], "A", NULL, slowAe);
    nodeStart(ab[1], "B", NULL, slowAe);
    EXPECT(ab[1]->c, "+OK", "REPLICAOF 127.0.0.1 %d", nodePort(ab[0]));
    int ran = WAIT_MESH(ab, 2) && waitFor(LINK_MS, roundsRan, ab);
    CHECK_MSG(ran, "joined, and the first anti-entropy round ran");
    return ran;
}

/* Pipelines n commands made by fmt (one %d: 0..n-1) on x and reads the replies. */
static void pipeline(node *x, int n, const char *fmt) {
    for (int i = 0; i < n; i++) hAppend(x->c, fmt, i);
    for (int i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (redisGetReply(x->c, (void **)&r) != REDIS_OK) {
            hAbortIfServerDied(__FILE__, __LINE__);
            return;
        }
        freeReplyObject(r);
    }
}

/* The write that creates a set or hash ships the whole new value (its causal
 * context starts at a floor, see dbNewIncarnation); later writes to the key in
 * the same loop iteration ship deltas.  Those deltas once stood in for the
 * creating write: the peer missed its members, and the floor, until an
 * anti-entropy round repaired the key, and meanwhile every dot it received
 * stayed out of order in the key's context, a sorted array that grew with
 * each write and was copied by each merge.  Here anti-entropy runs only when
 * the link comes up, before the writes: the stream alone must deliver. */
static void testCreatingWriteStreams(void) {
    testBegin("the write creating a key reaches the peer with the writes after it");
    node A, B;
    node *ab[] = {&A, &B};
    if (startStreamOnly(ab)) {
        long long repaired = sumStat(ab, 2, "anti_entropy_keys_repaired");
        /* per key one pipeline, read by A in one iteration: creation, then
         * 100 more writes (more than one 64-operation delta chunk) */
        pipeline(&A, 101, "SADD new:set m%d");
        pipeline(&A, 101, "HSET new:hash f%d v");
        cardWant ws = {&B, "SCARD", "new:set", 101}, wh = {&B, "HLEN", "new:hash", 101};
        CHECK_MSG(waitFor(LINK_MS, cardReached, &ws), "B holds all 101 members of the set created in a pipeline");
        CHECK_MSG(waitFor(LINK_MS, cardReached, &wh), "B holds all 101 fields of the hash created in a pipeline");
        EXPECT_ALL(ab, 2, "the creating SADD streamed", ":1", "SISMEMBER new:set m0");
        EXPECT_ALL(ab, 2, "the creating HSET streamed", "\"v\"", "HGET new:hash f0");
        CONVERGED(ab, 2);
        CHECK_MSG(sumStat(ab, 2, "anti_entropy_keys_repaired") == repaired, "no anti-entropy repair was needed");
    }
    nodeStopAll(ab, 2);
}

typedef struct ttlWant {
    node *x;
    const char *key;
    int positive;     /* 1: a TTL > 0; 0: no TTL (-1) */
} ttlWant;

static int ttlReached(void *p) {
    ttlWant *w = p;
    redisReply *r = redisCommand(w->x->c, "PTTL %s", w->key);
    int ok = r && r->type == REDIS_REPLY_INTEGER && (w->positive ? r->integer > 0 : r->integer == -1);
    if (r) freeReplyObject(r);
    return ok;
}

/* EXPIRE and PERSIST of a set or hash reach the peer as the deadline alone,
 * and a write to the key in the same loop iteration (before or after) still
 * ships as its delta: the stream costs bytes for the change, not for the
 * key's size (once it shipped the whole 4,000-member value each time). */
static void testDeadlineStreams(void) {
    testBegin("EXPIRE and PERSIST of a large set or hash stream the deadline alone");
    node A, B;
    node *ab[] = {&A, &B};
    if (startStreamOnly(ab)) {
        pipeline(&A, 4000, "SADD big:set member:%06d");
        pipeline(&A, 4000, "HSET big:hash field:%06d 0123456789");
        cardWant ws = {&B, "SCARD", "big:set", 4000}, wh = {&B, "HLEN", "big:hash", 4000};
        CHECK_MSG(waitFor(LINK_MS, cardReached, &ws) && waitFor(LINK_MS, cardReached, &wh), "B holds both keys");
        static const char *const keys[] = {"big:set", "big:hash"};
        for (int i = 0; i < 2; i++) {
            long long before = infoInt(&A, "stats", "peer_bytes_sent");
            EXPECT(A.c, ":1", "EXPIRE %s 1000", keys[i]);
            ttlWant t = {&B, keys[i], 1};
            CHECK_MSG(waitFor(LINK_MS, ttlReached, &t), "B has the TTL EXPIRE gave %s", keys[i]);
            EXPECT(A.c, ":1", "PERSIST %s", keys[i]);
            t.positive = 0;
            CHECK_MSG(waitFor(LINK_MS, ttlReached, &t), "B has %s without a TTL after PERSIST", keys[i]);
            long long sent = infoInt(&A, "stats", "peer_bytes_sent") - before;
            CHECK_MSG(sent < 4000, "EXPIRE and PERSIST of %s sent %lld bytes (its value is over 40,000)", keys[i], sent);
        }
        /* a write and an EXPIRE of the key in one iteration, in either order */
        long long before = infoInt(&A, "stats", "peer_bytes_sent");
        hAppend(A.c, "SADD big:set extra1");
        hAppend(A.c, "EXPIRE big:set 2000");
        hAppend(A.c, "HSET big:hash extra1 v");
        hAppend(A.c, "PEXPIRE big:hash 3000000");
        hAppend(A.c, "HSET big:hash extra2 v");
        for (int i = 0; i < 5; i++) {
            redisReply *r = NULL;
            if (redisGetReply(A.c, (void **)&r) == REDIS_OK) freeReplyObject(r);
        }
        ws.want = 4001;
        wh.want = 4002;
        ttlWant ts = {&B, "big:set", 1}, th = {&B, "big:hash", 1};
        CHECK_MSG(waitFor(LINK_MS, cardReached, &ws) && waitFor(LINK_MS, ttlReached, &ts),
                  "B has the SADD and the EXPIRE that followed it");
        CHECK_MSG(waitFor(LINK_MS, cardReached, &wh) && waitFor(LINK_MS, ttlReached, &th),
                  "B has the HSETs around the PEXPIRE and its TTL");
        long long sent = infoInt(&A, "stats", "peer_bytes_sent") - before;
        CHECK_MSG(sent < 4000, "writes with an EXPIRE sent %lld bytes", sent);
        CONVERGED(ab, 2);
    }
    nodeStopAll(ab, 2);
}

typedef struct strWant {
    node *x;
    const char *key;
    const char *want;
} strWant;

static int strReached(void *p) {
    strWant *w = p;
    redisReply *r = redisCommand(w->x->c, "GET %s", w->key);
    int ok = r && r->type == REDIS_REPLY_STRING && strcmp(r->str, w->want) == 0;
    if (r) freeReplyObject(r);
    return ok;
}

/* An INCR-family write to a key that is a counter already reaches the peer as
 * this node's running total alone, not the whole register with its base and
 * observed totals; any other change of the key in the same loop iteration
 * (a SET, a DEL) still ships the whole state. */
static void testIncrStreamsTotal(void) {
    testBegin("INCR of an existing counter streams the node's running total alone");
    node A, B;
    node *ab[] = {&A, &B};
    if (startStreamOnly(ab)) {
        pipeline(&A, 200, "SET ctr:%06d 1000000000000000000");
        pipeline(&A, 200, "INCR ctr:%06d");      /* become counters: whole state */
        strWant w = {&B, "ctr:000199", "1000000000000000001"};
        CHECK_MSG(waitFor(LINK_MS, strReached, &w), "B has the counters");
        long long before = infoInt(&A, "stats", "peer_bytes_sent");
        pipeline(&A, 200, "INCRBY ctr:%06d 2");
        pipeline(&A, 200, "INCRBYFLOAT ctr:%06d 0.5");
        w.want = "1000000000000000003.5";
        CHECK_MSG(waitFor(LINK_MS, strReached, &w), "B has the increments");
        long long sent = infoInt(&A, "stats", "peer_bytes_sent") - before;
        printf("   400 increments of existing counters sent %lld bytes\n", sent);
        CHECK_MSG(sent < 400 * 70, "400 increments sent %lld bytes (whole registers: about 36,000)", sent);

        /* Other changes of a counter in the iteration of an increment, each
         * group in one MULTI (one iteration).  The counters are integers and
         * were counters before, so the first INCR of each group is noted for
         * its total alone; what follows must turn that into the whole state. */
        pipeline(&A, 4, "SET mix:%d 100");
        pipeline(&A, 4, "INCR mix:%d");
        strWant m = {&B, "mix:3", "101"};
        CHECK_MSG(waitFor(LINK_MS, strReached, &m), "B has the mix counters");
        EXPECT(A.c, "+OK", "MULTI");
        EXPECT(A.c, "+QUEUED", "INCR mix:0");
        EXPECT(A.c, "+QUEUED", "SET mix:0 7");
        EXPECT(A.c, "+QUEUED", "INCR mix:0");
        EXPECT(A.c, "[:102,+OK,:8]", "EXEC");
        EXPECT(A.c, "+OK", "MULTI");
        EXPECT(A.c, "+QUEUED", "INCR mix:1");
        EXPECT(A.c, "+QUEUED", "DEL mix:1");
        EXPECT(A.c, "[:102,:1]", "EXEC");
        EXPECT(A.c, "+OK", "MULTI");
        EXPECT(A.c, "+QUEUED", "INCR mix:2");
        EXPECT(A.c, "+QUEUED", "DEL mix:2");
        EXPECT(A.c, "+QUEUED", "INCR mix:2");
        EXPECT(A.c, "[:102,:1,:1]", "EXEC");
        EXPECT(A.c, "+OK", "MULTI");
        EXPECT(A.c, "+QUEUED", "INCR mix:3");
        EXPECT(A.c, "+QUEUED", "DECRBY mix:3 50");
        EXPECT(A.c, "[:102,:52]", "EXEC");
        strWant w0 = {&B, "mix:0", "8"}, w2 = {&B, "mix:2", "1"}, w3 = {&B, "mix:3", "52"};
        CHECK_MSG(waitFor(LINK_MS, strReached, &w0), "B has INCR, SET 7, INCR as 8");
        CHECK_MSG(waitFor(LINK_MS, strReached, &w2), "B has INCR, DEL, INCR as 1");
        CHECK_MSG(waitFor(LINK_MS, strReached, &w3), "B has INCR, DECRBY 50 as 52");
        EXPECT_ALL(ab, 2, "DEL after INCR streamed", "(nil)", "GET mix:1");
        CONVERGED(ab, 2);
    }
    nodeStopAll(ab, 2);
}

static void putVarint(hbuf *b, uint64_t v) {
    char c;
    for (; v >= 0x80; v >>= 7) {
        c = (char)((v & 0x7f) | 0x80);
        hbufCat(b, &c, 1);
    }
    c = (char)v;
    hbufCat(b, &c, 1);
}

static void putLE64(hbuf *b, uint64_t v) {
    for (int i = 0; i < 8; i++) {
        char c = (char)(v >> (8 * i));
        hbufCat(b, &c, 1);
    }
}

/* A streamed counter record holding one node's running total alone
 * (src/keystate.c, src/crdt_reg.c encodings): 'C', db 0, the key, the key's
 * version, no deadline, then a register without base with one total. */
static void putTotalOnly(hbuf *b, const char *key, uint64_t node, uint64_t seq, int64_t isum) {
    hbufCat(b, "C", 1);
    putVarint(b, 0);
    putVarint(b, strlen(key));
    hbufCat(b, key, strlen(key));
    putVarint(b, 1000);                          /* version stamp: long ago */
    putLE64(b, node);
    hbufCat(b, "\0\1\0", 3);                    /* no deadline; register format 1, no base */
    putVarint(b, 1);
    putLE64(b, node);
    putVarint(b, seq << 3);
    putVarint(b, ((uint64_t)isum << 1) ^ (uint64_t)(isum >> 63));
}

/* A running total alone merges into a string the node holds; for a key it
 * lacks, or holds with another type, it would become the whole value (the
 * increments without the base they add to): such a record is left to
 * anti-entropy, which brings the whole key. */
static void testTotalOnlyNeedsTheKey(void) {
    testBegin("a counter's running total alone merges only into a string the node holds");
    node S;
    nodeStart(&S, "S", NULL, NULL);
    EXPECT(S.c, "+OK", "SET have 10");
    EXPECT(S.c, ":11", "INCR have");
    EXPECT(S.c, "+OK", "SET plain 20");
    EXPECT(S.c, ":1", "SADD aset m");
    redisContext *fake = fakePeer(&S, "5eed000000000003");
    hbuf blob = {0};
    const uint64_t node = 0x5eed000000000003ULL;
    putTotalOnly(&blob, "have", node, 3, 5);
    putTotalOnly(&blob, "plain", node, 3, 5);
    putTotalOnly(&blob, "missing", node, 3, 5);
    putTotalOnly(&blob, "aset", node, 3, 5);
    hAppend(fake, "PEER DELTA %b", blob.p, blob.len);   /* streamed: no reply */
    EXPECT(fake, "+PONG", "PEER PING");               /* answered once the DELTA is applied */
    EXPECT(S.c, "\"16\"", "GET have");
    EXPECT(S.c, "\"25\"", "GET plain");
    EXPECT(S.c, "(nil)", "GET missing");
    EXPECT(S.c, "[\"m\"]", "SMEMBERS aset");
    redisFree(fake);
    free(blob.p);
    nodeStop(&S);
}

/* Starts n with the slowdns shim preloaded (tests/shim/slowdns.c): names
 * ending in .slow.test take 1.5 s to resolve, .fail.test ones never do. */
static int nodeStartSlowDns(node *n, const char *name, const char *const *more) {
    char exe[PATH_MAX], shim[PATH_MAX + 32];   /* next to this program: build/integration/.. */
    ssize_t got = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    exe[got > 0 ? got : 0] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    snprintf(shim, sizeof(shim), "%s/../shim/slowdns.so", exe);
    if (access(shim, R_OK) != 0) {
        CHECK_MSG(0, "build/shim/slowdns.so next to the test programs (built by make -C tests)");
        return 0;
    }
    const char *asan = getenv("ASAN_OPTIONS");
    char *saved = asan ? strdup(asan) : NULL;
    char opts[1024];   /* a sanitized server must accept a library loaded before its runtime */
    snprintf(opts, sizeof(opts), "%s%sverify_asan_link_order=0", saved ? saved : "", saved && *saved ? ":" : "");
    setenv("ASAN_OPTIONS", opts, 1);
    setenv("LD_PRELOAD", shim, 1);
    nodeStart(n, name, NULL, more);
    unsetenv("LD_PRELOAD");
    if (saved) setenv("ASAN_OPTIONS", saved, 1);
    else unsetenv("ASAN_OPTIONS");
    free(saved);
    return 1;
}

typedef struct logWant {
    node *x;
    const char *text;
} logWant;

/* The node's log holds the text. */
static int logHas(void *p) {
    logWant *w = p;
    FILE *f = fopen(w->x->s->log, "r");
    if (!f) return 0;
    char line[1024];
    int found = 0;
    while (!found && fgets(line, sizeof(line), f)) found = strstr(line, w->text) != NULL;
    fclose(f);
    return found;
}

typedef struct stateWant {
    node *x;
    int port;
    const char *state;
} stateWant;

static int peerStateIs(void *p) {
    stateWant *w = p;
    peerView v;
    peerViewOf(w->x, &v);
    for (int i = 0; i < v.n; i++)
        if (v.p[i].port == w->port && !strcmp(v.p[i].state, w->state)) return 1;
    return 0;
}

/* A peer named by a host name is looked up off the event loop: while DNS
 * takes its time the node answers its clients at once (SPEC: a node serves
 * its clients whatever its peers do), then links when the name resolves; a
 * name that does not resolve leaves that peer down and nothing else; a lookup
 * that outlives ten link timeouts is given up and retried; leaving the mesh
 * during a lookup drops it (its late result must not touch the peer). */
static void testSlowNameLookup(void) {
    testBegin("a peer's host name is looked up without stopping the node");
    node A, B, C;
    nodeStart(&A, "A", NULL, NULL);
    if (nodeStartSlowDns(&B, "B", NULL)) {
        long long t0 = hNowMs();
        EXPECT(B.c, "+OK", "REPLICAOF a.slow.test %d", nodePort(&A));
        long long worst = hNowMs() - t0;
        while (hNowMs() - t0 < 1000) {          /* the lookup sleeps 1.5 s */
            long long s = hNowMs();
            EXPECT(B.c, "+PONG", "PING");
            if (hNowMs() - s > worst) worst = hNowMs() - s;
            usleep(20000);
        }
        CHECK_MSG(worst < 300, "REPLICAOF and each PING during the lookup answered in under 300 ms (worst %lld)",
                  worst);
        node *ab[] = {&A, &B};
        WAIT_MESH(ab, 2);
        EXPECT(B.c, "+OK", "SET named:key v");
        strWant w = {&A, "named:key", "v"};
        CHECK_MSG(waitFor(LINK_MS, strReached, &w), "A has B's write: the link from the name works");

        EXPECT(B.c, "+OK", "REPLICAOF nowhere.fail.test 7");
        stateWant down = {&B, 7, "down"};
        logWant failed = {&B, "Cannot resolve peer nowhere.fail.test"};
        CHECK_MSG(waitFor(LINK_MS, peerStateIs, &down) && waitFor(LINK_MS, logHas, &failed),
                  "the peer whose name does not resolve goes down, and the log says why");
        peerView v;
        peerViewOf(&B, &v);
        CHECK_MSG(peerOnline(&v, nodePort(&A)) != NULL, "the other peer stays online");

        /* a name whose first address does not answer: the next try takes the next one */
        node E;
        nodeStart(&E, "E", NULL, NULL);
        EXPECT(B.c, "+OK", "REPLICAOF e.two.test %d", nodePort(&E));
        stateWant online = {&B, nodePort(&E), "online"};
        CHECK_MSG(waitFor(LINK_MS, peerStateIs, &online), "the peer at the name's second address comes online");
        nodeStop(&E);

        /* leaving the mesh while a lookup is under way */
        EXPECT(B.c, "+OK", "REPLICAOF late.slow.test 9");
        EXPECT(B.c, "+OK", "REPLICAOF NO ONE");
        usleep(1800 * 1000);                    /* the lookup ends meanwhile */
        EXPECT(B.c, "+PONG", "PING");
        peerViewOf(&B, &v);
        CHECK_MSG(v.connected == 0 && v.n == 0, "no peer left after REPLICAOF NO ONE (%d listed)", v.n);
        nodeStop(&B);
    }
    const char *const quick[] = {"--peer-timeout-ms", "100", "--peer-heartbeat-ms", "50", NULL};
    if (nodeStartSlowDns(&C, "C", quick)) {
        /* a 1.5 s lookup against a 10 x 100 ms limit, checked every 50 ms */
        EXPECT(C.c, "+OK", "REPLICAOF hung.slow.test %d", nodePort(&A));
        logWant gaveUp = {&C, "Cannot resolve peer hung.slow.test: the lookup timed out"};
        CHECK_MSG(waitFor(LINK_MS, logHas, &gaveUp), "a lookup longer than ten link timeouts is given up");
        EXPECT(C.c, "+PONG", "PING");
        nodeStop(&C);
    }
    nodeStop(&A);
}

/* PEER commands node x has run (INFO commandstats cmdstat_peer calls). */
static long long peerCalls(node *x) {
    char *v = infoField(x, "commandstats", "cmdstat_peer");
    return v && !strncmp(v, "calls=", 6) ? atoll(v + 6) : -1;
}

/* The records of many loop iterations go out together, one PEER DELTA per
 * coalescing interval (a millisecond): the peer decodes and prefetches them
 * ahead of each other, and a key written in several of those iterations
 * ships once.  One command per iteration carried about two records
 * at redis-benchmark -P 1, and the receiver's look-ahead had nothing to work
 * on. */
static void testStreamBatchesIterations(void) {
    testBegin("writes of many loop iterations reach the peer in one PEER DELTA");
    node A, B;
    node *ab[] = {&A, &B};
    if (startStreamOnly(ab)) {
        long long calls = peerCalls(&B), recs = infoInt(&B, "stats", "peer_deltas_received");
        for (int i = 0; i < 400; i++) EXPECT(A.c, "+OK", "SET one:%d v", i);   /* one iteration each */
        strWant w = {&B, "one:399", "v"};
        CHECK_MSG(waitFor(LINK_MS, strReached, &w), "B has the 400 writes");
        calls = peerCalls(&B) - calls;
        recs = infoInt(&B, "stats", "peer_deltas_received") - recs;
        printf("   400 single writes reached B as %lld records in %lld PEER commands\n", recs, calls);
        CHECK_MSG(recs >= 400 && calls > 0 && calls <= 200,
                  "400 writes, one a loop iteration, arrived in %lld PEER commands (one per iteration: 400)", calls);

        /* one key written in many iterations of a batch ships once per batch */
        recs = infoInt(&B, "stats", "peer_deltas_received");
        for (int i = 0; i < 400; i++) EXPECT(A.c, ":1", "SADD hot:set m%d", i);
        cardWant c = {&B, "SCARD", "hot:set", 400};
        CHECK_MSG(waitFor(LINK_MS, cardReached, &c), "B has the 400 members");
        recs = infoInt(&B, "stats", "peer_deltas_received") - recs;
        printf("   400 single SADDs to one set reached B as %lld records\n", recs);
        CHECK_MSG(recs > 0 && recs <= 200, "400 SADDs to one key, one a loop iteration, arrived as %lld records", recs);
        CONVERGED(ab, 2);
    }
    nodeStopAll(ab, 2);
}

/* busy-poll-us: the window after input opens for clients, not for a peer's
 * stream, whose batches come a millisecond or more apart. */
static void testStreamDoesNotPoll(void) {
    testBegin("a peer's stream does not keep the receiver polling");
    node A, B;
    node *ab[] = {&A, &B};
    if (startStreamOnly(ab)) {
        EXPECT(B.c, "+OK", "CONFIG SET busy-poll-us 100000");
        usleep(150 * 1000); /* the window that CONFIG SET opened ends */
        long long t0 = hServerCpuMs(B.s);
        for (int i = 0; i < 100; i++) {
            EXPECT(A.c, "+OK", "SET polled:%d v", i);
            usleep(10 * 1000);
        }
        long long used = hServerCpuMs(B.s) - t0;
        strWant w = {&B, "polled:99", "v"};
        CHECK_MSG(waitFor(LINK_MS, strReached, &w), "B has the 100 writes");
        CHECK_MSG(used >= 0 && used < 400, "B used %lld ms of CPU receiving 100 writes over a second", used);
        EXPECT(B.c, "+OK", "CONFIG SET busy-poll-us 50");
        CONVERGED(ab, 2);
    }
    nodeStopAll(ab, 2);
}

int main(void) {
    hInit(180);
    long long t0 = hNowMs();
    testJoin();
    testConcurrentWrites();
    testPartitionHeal();
    testKillRestart();
    testLeave();
    testEdgeCases();
    testMasterauth();
    testReviewRegressions();
    testLeaveWhileStopped();
    testClockSkew();
    testMalformedPeerInput();
    testHotKeyLeftToStream();
    testCreatingWriteStreams();
    testDeadlineStreams();
    testIncrStreamsTotal();
    testTotalOnlyNeedsTheKey();
    testSlowNameLookup();
    testStreamBatchesIterations();
    testStreamDoesNotPoll();
    printf("   all peering tests took %lld ms\n", hNowMs() - t0);
    return hDone();
}
