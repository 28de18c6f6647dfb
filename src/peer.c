/* peer.c - the mesh: outbound links to every peer (connect, AUTH, PEER HELLO,
 * heartbeats, reconnect with backoff, bounded output, replies handed back in
 * order), membership (REPLICAOF joins a mesh, the joiner learns every member
 * and members learn the joiner, REPLICAOF NO ONE leaves), and the PEER
 * command that peers' links run here.  What travels on the links - deltas and
 * anti-entropy - is sync.c's; this file never looks inside the keyspace. */
#include "peer.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "commands.h"
#include "config.h"
#include "resolve.h"
#include "server.h"
#include "sync.h"
#include "util.h"

#define PEER_BACKOFF_MIN_MS 50
#define PEER_BACKOFF_MAX_MS 2000
#define PEER_READ_CHUNK (64 * 1024)
/* Streamed batches wait this long for more before they are written, so that
 * a peer is woken once per millisecond rather than once per loop iteration
 * (each wake-up costs both nodes more than the bytes).  Requests that expect a
 * reply are written at once. */
#define PEER_STREAM_COALESCE_S 0.001
#define PEER_STREAM_WRITE_NOW (256 * 1024)
/* A name lookup is given up (and retried with the backoff) after this many
 * times peer-timeout-ms: a resolver that hangs must not hold the peer for
 * good. */
#define PEER_LOOKUP_TIMEOUTS 10

peerStats peerStat;
static peer *peers;
static peer *graveyard;          /* forgotten peers, freed outside any callback */
static ev_timer streamTimer, reaper;

static void peerConnect(peer *p);
static void onReadable(struct ev_loop *loop, ev_io *w, int revents);
static void onWritable(struct ev_loop *loop, ev_io *w, int revents);
static void onTimer(struct ev_loop *loop, ev_timer *w, int revents);
static void sendHello(peer *p);

const char *peerStateName(int state) {
    switch (state) {
    case PEER_ONLINE: return "online";
    case PEER_DOWN: return "down";
    default: return "connecting";
    }
}

peer *peerList(void) { return peers; }

int peerCount(void) {
    int n = 0;
    for (peer *p = peers; p; p = p->next) n++;
    return n;
}

int peerOnlineCount(void) {
    int n = 0;
    for (peer *p = peers; p; p = p->next) n += p->state == PEER_ONLINE;
    return n;
}

int peerStreaming(void) {
    for (peer *p = peers; p; p = p->next)
        if (p->state == PEER_ONLINE) return 1;
    return 0;
}

uint64_t peerSyncedStamp(void) {
    uint64_t min = UINT64_MAX;
    for (peer *p = peers; p; p = p->next)
        if (p->syncedStamp < min) min = p->syncedStamp;
    return min;
}

peer *peerOfClient(const client *c) {
    if (!c->peerId) return NULL;
    for (peer *p = peers; p; p = p->next)
        if (p->id == c->peerId) return p;
    return NULL;
}

static peer *findByAddr(const char *host, int port) {
    for (peer *p = peers; p; p = p->next)
        if (p->port == port && strcasecmp(p->host, host) == 0) return p;
    return NULL;
}

static peer *findById(uint64_t id) {
    for (peer *p = peers; p; p = p->next)
        if (id && p->id == id) return p;
    return NULL;
}

/* ---------- link lifetime ---------- */

static void closeLink(peer *p) {
    if (p->resolving) {
        resolveCancel(p->resolving);
        p->resolving = NULL;
    }
    if (p->fd >= 0) {
        ev_io_stop(server.loop, &p->rio);
        ev_io_stop(server.loop, &p->wio);
        close(p->fd);
        p->fd = -1;
    }
    p->olen = p->opos = 0;
    p->ilen = 0;
    /* requests that will never be answered */
    while (p->phead != p->ptail) {
        peerPending pp = p->pend[p->phead % p->pcap];
        p->phead++;
        if (pp.fn) pp.fn(p, 0, NULL, 0, pp.ctx);
    }
    p->phead = p->ptail = 0;
    syncLinkDown(p);
}

static void scheduleTimer(peer *p, int ms) {
    ev_timer_stop(server.loop, &p->timer);
    ev_timer_set(&p->timer, ms / 1000.0, cfg.peerHeartbeatMs / 1000.0);
    ev_timer_start(server.loop, &p->timer);
}

void peerDropLink(peer *p, const char *why) {
    if (p->state == PEER_ONLINE)
        serverLog(LL_NOTICE, "Peer %s:%d (%016llx) link down: %s", p->host, p->port, (unsigned long long)p->id, why);
    else
        p->addrTry++;                    /* the next try takes the name's next address */
    closeLink(p);
    if (p->state != PEER_DOWN) p->downSinceMs = server.mstime;
    p->state = PEER_DOWN;
    p->backoffMs = p->backoffMs ? p->backoffMs * 2 : PEER_BACKOFF_MIN_MS;
    if (p->backoffMs > PEER_BACKOFF_MAX_MS) p->backoffMs = PEER_BACKOFF_MAX_MS;
    ev_timer_stop(server.loop, &p->timer);
    ev_timer_set(&p->timer, p->backoffMs / 1000.0, 0.);
    ev_timer_start(server.loop, &p->timer);
}

/* Forgets p: it leaves the list at once, its memory is freed by the reaper
 * timer, outside whatever callback chain (a reply being parsed, a round being
 * driven) still holds the pointer. */
static void peerForget(peer *p) {
    if (p->removed) return;
    p->removed = 1;
    peer **pp = &peers;
    while (*pp && *pp != p) pp = &(*pp)->next;
    if (*pp) *pp = p->next;
    closeLink(p);
    p->state = PEER_DOWN;
    ev_timer_stop(server.loop, &p->timer);
    p->next = graveyard;
    graveyard = p;
    if (!ev_is_active(&reaper)) ev_timer_start(server.loop, &reaper);
}

static void onReaper(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop; (void)w; (void)revents;
    while (graveyard) {
        peer *p = graveyard;
        graveyard = p->next;
        free(p->obuf);
        free(p->ibuf);
        free(p->pend);
        free(p);
    }
}

/* Nodes this one left (REPLICAOF NO ONE): a member list still naming us
 * somewhere must not pull us back in; only a REPLICAOF does. */
#define PEER_LEFT_MAX 256
static uint64_t leftIds[PEER_LEFT_MAX];
static int nleft;

static int leftFind(uint64_t id) {
    for (int i = 0; i < nleft; i++)
        if (leftIds[i] == id) return i;
    return -1;
}

static void leftForget(uint64_t id) {
    int i = leftFind(id);
    if (i >= 0) leftIds[i] = leftIds[--nleft];
}

static void leftRemember(uint64_t id) {
    if (!id || leftFind(id) >= 0) return;
    if (nleft == PEER_LEFT_MAX) memmove(leftIds, leftIds + 1, (PEER_LEFT_MAX - 1) * sizeof(uint64_t)), nleft--;
    leftIds[nleft++] = id;
}

static peer *peerAdd(const char *host, int port, uint64_t id) {
    peer *p = calloc(1, sizeof(*p));
    if (!p) abort();
    snprintf(p->host, sizeof(p->host), "%s", host);
    p->port = port;
    p->id = id;
    p->fd = -1;
    p->hello = PEER_HELLO_JOIN;
    p->state = PEER_CONNECTING;
    p->downSinceMs = server.mstime;
    ev_init(&p->timer, onTimer);
    p->timer.data = p;
    p->next = peers;
    peers = p;
    syncActivate();
    serverLog(LL_NOTICE, "Peer %s:%d added", host, port);
    return p;
}

/* 1 if host:port names this very server (a loopback or bound address on our port). */
static int isSelf(const char *host, int port) {
    if (port != cfg.port) return 0;
    if (!strcasecmp(host, "localhost") || !strcmp(host, "::1") || !strncmp(host, "127.", 4) || !strcmp(host, "0.0.0.0"))
        return 1;
    for (int i = 0; i < cfg.bindCount; i++) {
        const char *b = cfg.bind[i][0] == '-' ? cfg.bind[i] + 1 : cfg.bind[i];
        if (!strcasecmp(b, host)) return 1;
    }
    return 0;
}

void peerJoin(const char *host, int port) {
    if (isSelf(host, port)) {
        serverLog(LL_WARNING, "REPLICAOF %s %d is this server itself: ignored", host, port);
        return;
    }
    peer *p = findByAddr(host, port);
    if (p) return;
    p = peerAdd(host, port, 0);
    peerConnect(p);
}

void peerLeaveAll(void) {
    for (peer *p = peers; p; p = p->next) {
        if (p->state != PEER_ONLINE) continue;
        char id[17];
        snprintf(id, sizeof(id), "%016llx", (unsigned long long)server.nodeId);
        const char *argv[3] = {"PEER", "LEAVE", id};
        size_t lens[3] = {4, 5, 16};
        peerSend(p, 3, argv, lens, NULL, NULL);
        /* best effort: push it out before the link closes */
        while (p->opos < p->olen) {
            ssize_t n = write(p->fd, p->obuf + p->opos, p->olen - p->opos);
            if (n <= 0) break;
            p->opos += (size_t)n;
        }
    }
    for (peer *p = peers; p; p = p->next) leftRemember(p->id);
    /* the links peers opened to us go too, so that they notice at once */
    for (client *c = clientList(); c; c = c->next)
        if (c->peerId) freeClientAsync(c);
    while (peers) peerForget(peers);
    serverLog(LL_NOTICE, "Left the mesh (REPLICAOF NO ONE): data kept");
}

/* ---------- output ---------- */

static void outReserve(peer *p, size_t more) {
    if (p->opos > 0 && p->opos == p->olen) p->opos = p->olen = 0;
    if (p->olen + more <= p->ocap) return;
    if (p->opos > 0) {
        memmove(p->obuf, p->obuf + p->opos, p->olen - p->opos);
        p->olen -= p->opos;
        p->opos = 0;
        if (p->olen + more <= p->ocap) return;
    }
    size_t cap = p->ocap ? p->ocap : 16384;
    while (cap < p->olen + more) cap *= 2;
    p->obuf = realloc(p->obuf, cap);
    if (!p->obuf) abort();
    p->ocap = cap;
}

static void outAppend(peer *p, const char *s, size_t len) {
    outReserve(p, len);
    memcpy(p->obuf + p->olen, s, len);
    p->olen += len;
}

static void pendPush(peer *p, peerReplyFn fn, void *ctx) {
    if (p->ptail - p->phead == p->pcap) {
        size_t cap = p->pcap ? p->pcap * 2 : 16;
        peerPending *n = malloc(cap * sizeof(*n));
        if (!n) abort();
        for (size_t i = 0; i < p->pcap; i++) n[i] = p->pend[(p->phead + i) % p->pcap];
        p->ptail -= p->phead;
        p->phead = 0;
        free(p->pend);
        p->pend = n;
        p->pcap = cap;
    }
    p->pend[p->ptail % p->pcap].fn = fn;
    p->pend[p->ptail % p->pcap].ctx = ctx;
    p->ptail++;
}

void peerSend(peer *p, int argc, const char **argv, const size_t *lens, peerReplyFn fn, void *ctx) {
    if (p->fd < 0 || (p->state != PEER_ONLINE && p->state != PEER_HANDSHAKE)) {
        if (fn) fn(p, 0, NULL, 0, ctx);
        return;
    }
    char hdr[32];
    size_t total = 0;
    for (int i = 0; i < argc; i++) total += lens[i] + 32;
    outReserve(p, total + 32);
    outAppend(p, hdr, (size_t)snprintf(hdr, sizeof(hdr), "*%d\r\n", argc));
    for (int i = 0; i < argc; i++) {
        outAppend(p, hdr, (size_t)snprintf(hdr, sizeof(hdr), "$%zu\r\n", lens[i]));
        outAppend(p, argv[i], lens[i]);
        outAppend(p, "\r\n", 2);
    }
    if (fn) pendPush(p, fn, ctx);
    if (p->olen - p->opos > (size_t)cfg.peerOutputLimit) {
        /* dropped from the write path, not here: the caller may be in the
         * middle of a round that the drop would free */
        p->overLimit = 1;
        ev_io_start(server.loop, &p->wio);
        return;
    }
    if (fn || p->state != PEER_ONLINE || p->olen - p->opos >= PEER_STREAM_WRITE_NOW) ev_io_start(server.loop, &p->wio);
    else if (!ev_is_active(&streamTimer)) {
        /* set again each time: libev leaves an expired one-shot timer holding
         * its lateness, so a bare restart would fire at once, every iteration */
        ev_timer_set(&streamTimer, PEER_STREAM_COALESCE_S, 0.);
        ev_timer_start(server.loop, &streamTimer);
    }
}

void peerStreamNow(void) {
    ev_timer_stop(server.loop, &streamTimer);
    for (peer *p = peers; p; p = p->next)
        if (p->fd >= 0 && p->olen > p->opos) ev_io_start(server.loop, &p->wio);
}

static void onStreamTimer(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop; (void)w; (void)revents;
    peerStreamNow();
}

void peerBroadcast(int argc, const char **argv, const size_t *lens) {
    for (peer *p = peers; p; p = p->next)
        if (p->state == PEER_ONLINE) peerSend(p, argc, argv, lens, NULL, NULL);
}

static void onWritable(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop; (void)revents;
    peer *p = w->data;
    if (p->state == PEER_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof(err);
        getsockopt(p->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err) {
            peerDropLink(p, strerror(err));
            return;
        }
        ev_io_stop(server.loop, &p->wio);
        sendHello(p);
        return;
    }
    if (p->overLimit) {
        p->overLimit = 0;
        peerDropLink(p, "output limit reached (the peer is too far behind; anti-entropy will repair it)");
        return;
    }
    while (p->opos < p->olen) {
        ssize_t n = write(p->fd, p->obuf + p->opos, p->olen - p->opos);
        if (n < 0) {
            if (errno == EAGAIN || errno == EINTR) return;
            peerDropLink(p, strerror(errno));
            return;
        }
        p->opos += (size_t)n;
        peerStat.bytesSent += (uint64_t)n;
    }
    p->opos = p->olen = 0;
    ev_io_stop(server.loop, &p->wio);
}

/* ---------- replies ---------- */

/* Parses one reply at the start of ibuf: returns bytes used, 0 if incomplete,
 * -1 if malformed. */
static long parseReply(const char *b, size_t len, int *type, const char **data, size_t *dlen) {
    const char *nl = memchr(b, '\n', len);
    if (!nl) return len > 65536 ? -1 : 0;
    if (nl == b || nl[-1] != '\r') return -1;
    size_t line = (size_t)(nl - b) - 1;     /* without \r */
    *type = b[0];
    if (b[0] == '+' || b[0] == '-' || b[0] == ':') {
        *data = b + 1;
        *dlen = line - 1;
        return (long)(nl - b + 1);
    }
    if (b[0] != '$') return -1;
    long long n;
    if (!string2ll(b + 1, line - 1, &n) || n < -1 || n > cfg.protoMaxBulkLen) return -1;
    if (n == -1) {
        *data = NULL;
        *dlen = 0;
        return (long)(nl - b + 1);
    }
    size_t need = (size_t)(nl - b + 1) + (size_t)n + 2;
    if (len < need) return 0;
    *data = nl + 1;
    *dlen = (size_t)n;
    return (long)need;
}

static void onReadable(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop; (void)revents;
    peer *p = w->data;
    if (p->icap - p->ilen < PEER_READ_CHUNK) {
        size_t cap = p->icap ? p->icap * 2 : PEER_READ_CHUNK * 2;
        while (cap - p->ilen < PEER_READ_CHUNK) cap *= 2;
        p->ibuf = realloc(p->ibuf, cap);
        if (!p->ibuf) abort();
        p->icap = cap;
    }
    ssize_t n = read(p->fd, p->ibuf + p->ilen, p->icap - p->ilen);
    if (n == 0) {
        peerDropLink(p, "connection closed by peer");
        return;
    }
    if (n < 0) {
        if (errno != EAGAIN && errno != EINTR) peerDropLink(p, strerror(errno));
        return;
    }
    p->ilen += (size_t)n;
    p->lastRecvMs = server.mstime;
    peerStat.bytesReceived += (uint64_t)n;
    size_t pos = 0;
    int fd = p->fd;
    while (pos < p->ilen && p->fd == fd) {
        int type;
        const char *data;
        size_t dlen;
        long used = parseReply(p->ibuf + pos, p->ilen - pos, &type, &data, &dlen);
        if (used == 0) break;
        if (used < 0 || p->phead == p->ptail) {
            peerDropLink(p, "protocol error in a reply");
            return;
        }
        peerPending pp = p->pend[p->phead % p->pcap];
        p->phead++;
        pos += (size_t)used;
        if (pp.fn) pp.fn(p, type, data, dlen, pp.ctx);
    }
    if (p->fd != fd) return;            /* a handler dropped the link */
    memmove(p->ibuf, p->ibuf + pos, p->ilen - pos);
    p->ilen -= pos;
}

/* ---------- connecting and the handshake ---------- */

/* Connects to one of the addresses: the (addrTry mod count)th, so that a
 * name with an address that does not answer (an IPv6 one of a node that
 * listens on IPv4 only, say) is not tried for ever. */
static void connectTo(peer *p, const struct addrinfo *res) {
    unsigned n = 0;
    for (const struct addrinfo *a = res; a; a = a->ai_next) n++;
    const struct addrinfo *ai = res;
    for (unsigned i = p->addrTry % n; i > 0; i--) ai = ai->ai_next;
    int fd = socket(ai->ai_family, SOCK_STREAM, 0);
    if (fd < 0) {
        peerDropLink(p, strerror(errno));
        return;
    }
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
        int e = errno;
        close(fd);
        peerDropLink(p, strerror(e));
        return;
    }
    p->fd = fd;
    p->lastRecvMs = server.mstime;
    ev_io_init(&p->rio, onReadable, fd, EV_READ);
    ev_io_init(&p->wio, onWritable, fd, EV_WRITE);
    p->rio.data = p->wio.data = p;
    ev_io_start(server.loop, &p->rio);
    ev_io_start(server.loop, &p->wio);
}

static void lookupFailed(peer *p, const char *why) {
    if (!p->lookupFailing) serverLog(LL_WARNING, "Cannot resolve peer %s: %s (retrying)", p->host, why);
    p->lookupFailing = 1;
    peerDropLink(p, "cannot resolve the address");
}

static void onResolved(void *owner, struct addrinfo *res, int err) {
    peer *p = owner;
    p->resolving = NULL;
    if (!res) {
        lookupFailed(p, gai_strerror(err));
        return;
    }
    if (p->lookupFailing) serverLog(LL_NOTICE, "Peer %s resolves again", p->host);
    p->lookupFailing = 0;
    connectTo(p, res);
    freeaddrinfo(res);
}

/* Connects to p: at once for an address, after a lookup off the loop for a
 * name.  peer-timeout-ms counts from the connect, after the lookup (a slow
 * DNS server would otherwise cut every lookup short); the lookup itself has
 * PEER_LOOKUP_TIMEOUTS times that. */
static void peerConnect(peer *p) {
    p->state = PEER_CONNECTING;
    p->lastRecvMs = server.mstime;
    scheduleTimer(p, (int)cfg.peerHeartbeatMs);
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
    char portstr[16];
    snprintf(portstr, sizeof(portstr), "%d", p->port);
    if (getaddrinfo(p->host, portstr, &hints, &res) == 0 && res) {
        connectTo(p, res);
        freeaddrinfo(res);
        return;
    }
    p->resolving = resolveStart(server.loop, p->host, p->port, onResolved, p);
    if (!p->resolving) peerDropLink(p, "cannot start a name lookup");
}

static void onAuthReply(peer *p, int type, const char *data, size_t len, void *ctx) {
    (void)ctx;
    if (type == '-') serverLog(LL_WARNING, "Peer %s:%d refused our masterauth: %.*s", p->host, p->port, (int)len, data);
}

/* The HELLO reply: the peer's id, then the members it knows, one host:port a line. */
static void onHelloReply(peer *p, int type, const char *data, size_t len, void *ctx) {
    (void)ctx;
    if (type == 0) return;
    if (type != '$') {
        serverLog(LL_WARNING, "Peer %s:%d refused the handshake: %.*s", p->host, p->port, (int)len, data);
        if (data && len >= 10 && (memmem(data, len, "myself", 6) || memmem(data, len, "unknown peer", 12))) {
            peerForget(p);              /* ourselves, or a node that left the mesh */
            return;
        }
        peerDropLink(p, "handshake refused");
        return;
    }
    char *text = strndup(data, len);
    if (!text) abort();
    char *save = NULL;
    char *line = strtok_r(text, "\n", &save);
    uint64_t id = line ? strtoull(line, NULL, 16) : 0;
    peer *dup = findById(id);
    if (!id || id == server.nodeId || (dup && dup != p)) {
        free(text);
        serverLog(LL_WARNING, "Peer %s:%d is %s: forgotten", p->host, p->port,
                  id == server.nodeId ? "this server itself" : "already linked under another address");
        peerForget(p);
        return;
    }
    if (p->id && p->id != id) {         /* the node at that address restarted as a new node */
        p->syncedStamp = 0;
        p->aeRoundSeen = 0;
    }
    p->id = id;
    p->state = PEER_ONLINE;
    p->hello = PEER_HELLO_RECONNECT;
    p->backoffMs = 0;
    leftForget(id);
    p->lastRecvMs = server.mstime;
    serverLog(LL_NOTICE, "Peer %s:%d (%016llx) online", p->host, p->port, (unsigned long long)id);
    while ((line = strtok_r(NULL, "\n", &save))) {
        char *colon = strrchr(line, ':');
        if (!colon) continue;
        *colon = '\0';
        int port = atoi(colon + 1);
        if (port > 0 && port < 65536 && !isSelf(line, port) && !findByAddr(line, port)) {
            peer *m = peerAdd(line, port, 0);
            m->hello = PEER_HELLO_MEMBER;
            peerConnect(m);
        }
    }
    free(text);
    syncLinkUp(p);
}

/* The connection is up: AUTH, then HELLO. */
static void sendHello(peer *p) {
    p->state = PEER_HANDSHAKE;
    if (cfg.masterauth && cfg.masterauth[0]) {
        const char *argv[2] = {"AUTH", cfg.masterauth};
        size_t lens[2] = {4, strlen(cfg.masterauth)};
        peerSend(p, 2, argv, lens, onAuthReply, NULL);
    }
    char id[17], port[16];
    snprintf(id, sizeof(id), "%016llx", (unsigned long long)server.nodeId);
    snprintf(port, sizeof(port), "%d", cfg.port);
    const char *mode = p->hello == PEER_HELLO_JOIN ? "join" : p->hello == PEER_HELLO_MEMBER ? "member" : "reconnect";
    const char *argv[5] = {"PEER", "HELLO", id, port, mode};
    size_t lens[5] = {4, 5, 16, strlen(port), strlen(mode)};
    peerSend(p, 5, argv, lens, onHelloReply, NULL);
}

static void onPing(peer *p, int type, const char *data, size_t len, void *ctx) {
    (void)ctx;
    if (type == '-') {
        serverLog(LL_WARNING, "Peer %s:%d answered PING with: %.*s", p->host, p->port, (int)len, data);
        peerDropLink(p, "the peer no longer knows us");
    }
}

static void onTimer(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop; (void)revents;
    peer *p = w->data;
    if (p->state == PEER_DOWN) {
        peerConnect(p);
        return;
    }
    if (p->resolving) {                 /* lastRecvMs: when the lookup began */
        if (server.mstime - p->lastRecvMs > PEER_LOOKUP_TIMEOUTS * (int64_t)cfg.peerTimeoutMs)
            lookupFailed(p, "the lookup timed out");
        return;
    }
    if (server.mstime - p->lastRecvMs > cfg.peerTimeoutMs) {
        peerDropLink(p, p->state == PEER_ONLINE ? "timeout" : "handshake timeout");
        return;
    }
    if (p->state != PEER_ONLINE) return;
    const char *argv[2] = {"PEER", "PING"};
    size_t lens[2] = {4, 4};
    peerSend(p, 2, argv, lens, onPing, NULL);
    syncPeerTick(p);
}

/* ---------- the PEER command (a peer's link, on our side) ---------- */

/* The host part of a client address "ip:port" or "[ip]:port". */
static void clientHost(const client *c, char *out, size_t size) {
    const char *a = c->addr;
    const char *colon = strrchr(a, ':');
    size_t n = colon ? (size_t)(colon - a) : strlen(a);
    if (n >= 2 && a[0] == '[') {
        a++;
        n -= 2;
    }
    if (n >= size) n = size - 1;
    memcpy(out, a, n);
    out[n] = '\0';
}

/* PEER HELLO <id> <port> <join|reconnect> */
static void peerHelloCommand(client *c) {
    if (c->argc != 5) {
        addReplyErrorArity(c);
        return;
    }
    char idbuf[17];
    size_t idlen = c->argv[2].len < 16 ? c->argv[2].len : 16;
    memcpy(idbuf, c->argv[2].p, idlen);
    idbuf[idlen] = '\0';
    uint64_t id = strtoull(idbuf, NULL, 16);
    long long port;
    if (!id || !string2ll(c->argv[3].p, c->argv[3].len, &port) || port <= 0 || port > 65535) {
        addReplyError(c, "ERR PEER HELLO: bad node id or port");
        return;
    }
    if (id == server.nodeId) {
        addReplyError(c, "ERR PEER HELLO from myself");
        return;
    }
    char host[256];
    clientHost(c, host, sizeof(host));
    peer *p = findById(id);
    if (!p) p = findByAddr(host, (int)port);
    int join = argEq(&c->argv[4], "join");
    if (!p) {
        if (!join && !(argEq(&c->argv[4], "member") && leftFind(id) < 0)) {
            addReplyError(c, "ERR PEER HELLO: unknown peer (this node is not in its mesh)");
            return;
        }
        leftForget(id);
        p = peerAdd(host, (int)port, id);
        p->hello = PEER_HELLO_RECONNECT;
        peerConnect(p);
    } else if (p->id != id) {
        /* the node at that address restarted as a new node: anything it
         * synced before is gone */
        p->id = id;
        p->syncedStamp = 0;
        p->aeRoundSeen = 0;
        if (p->state == PEER_ONLINE) peerDropLink(p, "the node restarted");
    }
    c->peerId = id;
    if (p->state == PEER_DOWN) {        /* it is back: no need to wait for the backoff */
        p->backoffMs = 0;
        ev_timer_stop(server.loop, &p->timer);
        peerConnect(p);
    }
    char line[300];
    snprintf(line, sizeof(line), "%016llx", (unsigned long long)server.nodeId);
    size_t cap = 64;
    for (peer *q = peers; q; q = q->next) cap += strlen(q->host) + 16;
    char *out = malloc(cap);
    if (!out) abort();
    size_t len = (size_t)snprintf(out, cap, "%s", line);
    for (peer *q = peers; q; q = q->next) {
        if (q == p) continue;
        len += (size_t)snprintf(out + len, cap - len, "\n%s:%d", q->host, q->port);
    }
    addReplyBulk(c, out, len);
    free(out);
}

/* PEER LEAVE <id>: that node left the mesh. */
static void peerLeaveCommand(client *c, peer *p) {
    if (p) {
        serverLog(LL_NOTICE, "Peer %s:%d (%016llx) left the mesh", p->host, p->port, (unsigned long long)p->id);
        peerForget(p);
    }
    c->peerId = 0;
    addReplyOK(c);
}

void peerCommand(client *c) {
    const arg *sub = &c->argv[1];
    size_t before = c->rlen;
    for (int i = 0; i < c->argc; i++) peerStat.bytesReceived += c->argv[i].len;
    if (argEq(sub, "HELLO")) {
        peerHelloCommand(c);
    } else {
        peer *p = peerOfClient(c);
        if (!c->peerId) {
            addReplyError(c, "ERR PEER: say PEER HELLO first");
        } else if (argEq(sub, "PING") && p) {
            addReplyStatus(c, "PONG");
        } else if (argEq(sub, "LEAVE")) {
            peerLeaveCommand(c, p);
        } else if (!p) {
            addReplyError(c, "ERR PEER: unknown peer");
        } else if (!syncPeerCommand(c, p)) {
            addReplyErrorFormat(c, "ERR unknown subcommand '%.*s'. Try PEER HELP.", (int)sub->len, sub->p);
        }
    }
    if (c->rlen > before) peerStat.bytesSent += c->rlen - before;
}

void peerInit(void) {
    ev_timer_init(&streamTimer, onStreamTimer, PEER_STREAM_COALESCE_S, 0.);
    ev_timer_init(&reaper, onReaper, 0., 0.);
    const char *r = configInertValue("replicaof");
    if (!r[0]) return;
    char host[256];
    int port;
    if (sscanf(r, "%255s %d", host, &port) == 2 && strcasecmp(host, "no") != 0) peerJoin(host, port);
}

/* ---------- REPLICAOF and ROLE ---------- */

/* REPLICAOF host port | NO ONE.  Unlike Redis, joining keeps local data and
 * both sides keep accepting writes; another REPLICAOF adds another peer. */
void replicaofCommand(client *c) {
    if (argEq(&c->argv[1], "no") && argEq(&c->argv[2], "one")) {
        if (peers) peerLeaveAll();
        addReplyOK(c);
        return;
    }
    long long port;
    if (getRangeLongFromArg(c, &c->argv[2], 0, 65535, &port, "ERR Invalid master port") < 0) return;
    char host[256];
    size_t n = c->argv[1].len < sizeof(host) - 1 ? c->argv[1].len : sizeof(host) - 1;
    memcpy(host, c->argv[1].p, n);
    host[n] = '\0';
    if (findByAddr(host, (int)port)) {
        addReplyStatus(c, "OK Already connected to specified master");
        return;
    }
    serverLog(LL_NOTICE, "REPLICAOF %s:%d enabled (user request from '%s')", host, (int)port, c->addr);
    peerJoin(host, (int)port);
    addReplyOK(c);
}

/* ROLE: a master's reply, one [host, port, offset] entry per peer. */
void roleCommand(client *c) {
    addReplyArrayLen(c, 3);
    addReplyBulkCString(c, "master");
    addReplyLongLong(c, 0);
    addReplyArrayLen(c, peerCount());
    for (peer *p = peers; p; p = p->next) {
        addReplyArrayLen(c, 3);
        addReplyBulkCString(c, p->host);
        addReplyBulkLongLong(c, p->port);
        addReplyBulkCString(c, "0");
    }
}
