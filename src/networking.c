/* networking.c - accepting clients, reading and parsing requests, batching and
 * writing replies.  Knows nothing of what commands do: a parsed request is
 * handed to processCommand() (commands.c).
 *
 * Hot path: read into a reusable query buffer, parse every complete command in
 * it, point argv into the buffer, run, append replies to a reusable reply
 * buffer; an ev_prepare watcher writes every client's output once per loop
 * iteration.  Nothing is allocated per request once buffers have grown. */
#include "networking.h"
#include "commands.h"
#include "config.h"
#include "server.h"
#include "db.h"
#include "multi.h"
#include "pubsub.h"
#include "introspect.h"
#include "util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <limits.h>

#define READ_CHUNK (16 * 1024)
#define REPLY_KEEP (32 * 1024)       /* reply buffer kept after a flush */
#define QBUF_KEEP (32 * 1024)

static struct {
    int fds[CONFIG_MAX_BIND + 1];
    ev_io watchers[CONFIG_MAX_BIND + 1];
    int count;
    client *all, *allTail;      /* every connected client, oldest (lowest id) first */
    uint64_t numClients;
    uint64_t nextId;
    client *pending;            /* clients with output to write */
    client *current;
    client *closing;            /* freed at the next prepare */
    client *pendingInput;       /* read this iteration, in arrival order */
    ev_prepare flusher;
} net;

static void readHandler(struct ev_loop *loop, ev_io *w, int revents);
static void writeHandler(struct ev_loop *loop, ev_io *w, int revents);
static int writeToClient(client *c);

client *clientList(void) { return net.all; }
uint64_t clientCount(void) { return net.numClients; }
client *currentClient(void) { return net.current; }

/* ---------- replies ---------- */

static void replyReserve(client *c, size_t need) {
    if (c->rcap - c->rlen >= need) return;
    size_t cap = c->rcap ? c->rcap : 1024;
    while (cap - c->rlen < need) cap *= 2;
    char *n = realloc(c->rbuf, cap);
    if (!n) abort();
    c->rbuf = n;
    c->rcap = cap;
}

/* Replies are dropped for a client being closed, and under CLIENT REPLY
 * OFF/SKIP unless they are pushes (pub/sub messages and confirmations). */
static inline int replyAllowed(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return 0;
    return !(c->flags & (CLIENT_REPLY_OFF | CLIENT_REPLY_SKIP)) || (c->flags & CLIENT_PUSHING);
}

static void markPending(client *c) {
    if (c->flags & (CLIENT_PENDING_WRITE | CLIENT_FAKE)) return;
    c->flags |= CLIENT_PENDING_WRITE;
    c->pendPrev = NULL;
    c->pendNext = net.pending;
    if (net.pending) net.pending->pendPrev = c;
    net.pending = c;
}

void addReplyRaw(client *c, const char *s, size_t len) {
    if (!replyAllowed(c)) return;
    replyReserve(c, len);
    memcpy(c->rbuf + c->rlen, s, len);
    c->rlen += len;
    markPending(c);
}

/* Appends "<prefix><n>\r\n". */
static void addReplyPrefixed(client *c, char prefix, long long n) {
    if (!replyAllowed(c)) return;
    replyReserve(c, 32);
    char *p = c->rbuf + c->rlen;
    *p++ = prefix;
    p += ll2string(p, 24, n);
    *p++ = '\r';
    *p++ = '\n';
    c->rlen = (size_t)(p - c->rbuf);
    markPending(c);
}

void addReplyStatusLen(client *c, const char *s, size_t len) {
    if (!replyAllowed(c)) return;
    replyReserve(c, len + 3);
    char *p = c->rbuf + c->rlen;
    *p++ = '+';
    memcpy(p, s, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    c->rlen = (size_t)(p - c->rbuf);
    markPending(c);
}

void addReplyStatus(client *c, const char *s) { addReplyStatusLen(c, s, strlen(s)); }
void addReplyOK(client *c) { addReplyRaw(c, "+OK\r\n", 5); }

void addReplyError(client *c, const char *err) {
    size_t len = strlen(err);
    commandErrorReplied(c, err, len);
    if (!replyAllowed(c)) return;
    replyReserve(c, len + 3);
    char *p = c->rbuf + c->rlen;
    *p++ = '-';
    for (size_t i = 0; i < len; i++) *p++ = (err[i] == '\r' || err[i] == '\n') ? ' ' : err[i];
    *p++ = '\r';
    *p++ = '\n';
    c->rlen = (size_t)(p - c->rbuf);
    markPending(c);
}

void addReplyErrorFormat(client *c, const char *fmt, ...) {
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof(buf), fmt, ap);
    va_end(ap);
    addReplyError(c, buf);
}

void addReplyErrorArity(client *c) {
    addReplyErrorFormat(c, "ERR wrong number of arguments for '%s' command",
                        c->cmd ? c->cmd->fullname : "unknown");
}
void addReplyErrorSyntax(client *c) { addReplyError(c, "ERR syntax error"); }
void addReplyErrorWrongType(client *c) {
    addReplyError(c, "WRONGTYPE Operation against a key holding the wrong kind of value");
}
void addReplyErrorNotInt(client *c) { addReplyError(c, "ERR value is not an integer or out of range"); }
void addReplyErrorNotFloat(client *c) { addReplyError(c, "ERR value is not a valid float"); }

void addReplyLongLong(client *c, long long v) {
    if (v == 0) { addReplyRaw(c, ":0\r\n", 4); return; }
    if (v == 1) { addReplyRaw(c, ":1\r\n", 4); return; }
    addReplyPrefixed(c, ':', v);
}

void addReplyBulk(client *c, const char *s, size_t len) {
    if (!replyAllowed(c)) return;
    replyReserve(c, len + 32);
    char *p = c->rbuf + c->rlen;
    *p++ = '$';
    p += ll2string(p, 24, (long long)len);
    *p++ = '\r';
    *p++ = '\n';
    memcpy(p, s, len);
    p += len;
    *p++ = '\r';
    *p++ = '\n';
    c->rlen = (size_t)(p - c->rbuf);
    markPending(c);
}

void addReplyBulkCString(client *c, const char *s) {
    if (!s) addReplyNull(c);
    else addReplyBulk(c, s, strlen(s));
}

void addReplyBulkLongLong(client *c, long long v) {
    char buf[24];
    int n = ll2string(buf, sizeof(buf), v);
    addReplyBulk(c, buf, (size_t)n);
}

void addReplyNull(client *c) {
    if (c->resp >= 3) addReplyRaw(c, "_\r\n", 3);
    else addReplyRaw(c, "$-1\r\n", 5);
}

void addReplyNullArray(client *c) {
    if (c->resp >= 3) addReplyRaw(c, "_\r\n", 3);
    else addReplyRaw(c, "*-1\r\n", 5);
}

void addReplyArrayLen(client *c, long n) { addReplyPrefixed(c, '*', n); }
void addReplyMapLen(client *c, long n) {
    if (c->resp >= 3) addReplyPrefixed(c, '%', n);
    else addReplyPrefixed(c, '*', n * 2);
}
void addReplySetLen(client *c, long n) { addReplyPrefixed(c, c->resp >= 3 ? '~' : '*', n); }
void addReplyPushLen(client *c, long n) { addReplyPrefixed(c, c->resp >= 3 ? '>' : '*', n); }
void addReplyAttributeLen(client *c, long n) { addReplyPrefixed(c, '|', n); }

void addReplyDouble(client *c, double d) {
    char buf[64];
    int n = d2string(buf, sizeof(buf), d);
    if (c->resp >= 3) {
        char out[80];
        int m = snprintf(out, sizeof(out), ",%.*s\r\n", n, buf);
        addReplyRaw(c, out, (size_t)m);
    } else {
        addReplyBulk(c, buf, (size_t)n);
    }
}

void addReplyBool(client *c, int b) {
    if (c->resp >= 3) addReplyRaw(c, b ? "#t\r\n" : "#f\r\n", 4);
    else addReplyLongLong(c, b ? 1 : 0);
}

void addReplyBigNum(client *c, const char *s, size_t len) {
    if (c->resp < 3) { addReplyBulk(c, s, len); return; }
    addReplyRaw(c, "(", 1);
    addReplyRaw(c, s, len);
    addReplyRaw(c, "\r\n", 2);
}

void addReplyVerbatim(client *c, const char *s, size_t len, const char *ext) {
    if (c->resp < 3) { addReplyBulk(c, s, len); return; }
    addReplyPrefixed(c, '=', (long long)len + 4);
    addReplyRaw(c, ext, 3);
    addReplyRaw(c, ":", 1);
    addReplyRaw(c, s, len);
    addReplyRaw(c, "\r\n", 2);
}

void addReplyHelp(client *c, const char **lines) {
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "%s", c->cmd && c->cmd->parent ? c->cmd->parent->name : (c->cmd ? c->cmd->name : "?"));
    for (char *p = cmd; *p; p++) if (*p >= 'a' && *p <= 'z') *p -= 32;
    long n = 0;
    while (lines[n]) n++;
    addReplyArrayLen(c, n + 3);
    char head[128];
    snprintf(head, sizeof(head), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands are:", cmd);
    addReplyStatus(c, head);
    for (long i = 0; i < n; i++) addReplyStatus(c, lines[i]);
    addReplyStatus(c, "HELP");
    addReplyStatus(c, "    Prints this help.");
}

/* Deferred lengths: we remember where the header goes and insert it when the
 * count is known, moving the (usually short) tail once. */
size_t addReplyDeferredLen(client *c) { return c->rlen; }

static void setDeferred(client *c, size_t at, char prefix, long n) {
    if (!replyAllowed(c)) return;
    char hdr[32];
    hdr[0] = prefix;
    int len = 1 + ll2string(hdr + 1, 24, n);
    hdr[len++] = '\r';
    hdr[len++] = '\n';
    replyReserve(c, (size_t)len);
    memmove(c->rbuf + at + len, c->rbuf + at, c->rlen - at);
    memcpy(c->rbuf + at, hdr, (size_t)len);
    c->rlen += (size_t)len;
    markPending(c);
}
void setDeferredArrayLen(client *c, size_t at, long n) { setDeferred(c, at, '*', n); }
void setDeferredMapLen(client *c, size_t at, long n) {
    if (c->resp >= 3) setDeferred(c, at, '%', n);
    else setDeferred(c, at, '*', n * 2);
}
void setDeferredSetLen(client *c, size_t at, long n) { setDeferred(c, at, c->resp >= 3 ? '~' : '*', n); }

/* ---------- argument helpers ---------- */

int argEq(const arg *a, const char *s) {
    size_t n = strlen(s);
    return a->len == n && strncasecmp(a->p, s, n) == 0;
}

int getLongLongFromArg(client *c, const arg *a, long long *v, const char *msg) {
    if (string2ll(a->p, a->len, v)) return 0;
    if (msg) addReplyError(c, msg);
    else addReplyErrorNotInt(c);
    return -1;
}

int getRangeLongFromArg(client *c, const arg *a, long long min, long long max, long long *v, const char *msg) {
    long long x;
    if (!string2ll(a->p, a->len, &x) || x < min || x > max) {
        if (msg) addReplyError(c, msg);
        else addReplyErrorNotInt(c);
        return -1;
    }
    *v = x;
    return 0;
}

int getPositiveLongFromArg(client *c, const arg *a, long long *v, const char *msg) {
    return getRangeLongFromArg(c, a, 0, LLONG_MAX, v, msg);
}

int getDoubleFromArg(client *c, const arg *a, double *v, const char *msg) {
    if (string2d(a->p, a->len, v)) return 0;
    if (msg) addReplyError(c, msg);
    else addReplyErrorNotFloat(c);
    return -1;
}

int getLongDoubleFromArg(client *c, const arg *a, long double *v, const char *msg) {
    if (string2ld(a->p, a->len, v)) return 0;
    if (msg) addReplyError(c, msg);
    else addReplyErrorNotFloat(c);
    return -1;
}

/* The bytes behind a redacted argument; never written to. */
static char redactedText[] = "(redacted)";

void redactClientArg(client *c, int j) {
    if (j < 0 || j >= c->argc) return;
    c->argv[j].p = redactedText;
    c->argv[j].len = sizeof(redactedText) - 1;
}

/* ---------- client lifetime ---------- */

static client *newClient(int fd) {
    client *c = calloc(1, sizeof(*c));
    if (!c) abort();
    c->id = ++net.nextId;
    c->fd = fd;
    c->resp = 2;
    c->db = dbAt(0);
    c->dbid = 0;
    c->ctime = c->lastinteraction = server.mstime / 1000;
    respParserInit(&c->parser, cfg.protoMaxBulkLen);
    if (!cfg.requirepass || !cfg.requirepass[0]) c->flags |= CLIENT_AUTHENTICATED;
    if (fd >= 0) {
        ev_io_init(&c->rio, readHandler, fd, EV_READ);
        ev_io_init(&c->wio, writeHandler, fd, EV_WRITE);
        c->rio.data = c->wio.data = c;
        ev_io_start(server.loop, &c->rio);
        /* Appended: the list stays in ascending id order, as CLIENT LIST shows it. */
        c->prev = net.allTail;
        c->next = NULL;
        if (net.allTail) net.allTail->next = c;
        else net.all = c;
        net.allTail = c;
        net.numClients++;
    }
    return c;
}

client *createFakeClient(void) {
    client *c = newClient(-1);
    c->flags |= CLIENT_FAKE | CLIENT_AUTHENTICATED;
    return c;
}

static void unlinkPending(client *c) {
    if (!(c->flags & CLIENT_PENDING_WRITE)) return;
    if (c->pendPrev) c->pendPrev->pendNext = c->pendNext;
    else net.pending = c->pendNext;
    if (c->pendNext) c->pendNext->pendPrev = c->pendPrev;
    c->flags &= ~CLIENT_PENDING_WRITE;
}

static void unlinkPendingInput(client *c) {
    if (!(c->flags & CLIENT_PENDING_INPUT)) return;
    client **p = &net.pendingInput;
    while (*p != c) p = &(*p)->inputNext;
    *p = c->inputNext;
    c->inputNext = NULL;
    c->flags &= ~CLIENT_PENDING_INPUT;
}

void freeClient(client *c) {
    if (c == net.current && (c->flags & CLIENT_EXECUTING)) {
        /* Never free a client under its own command: finish after it. */
        freeClientAsync(c);
        return;
    }
    unlinkPending(c);
    unlinkPendingInput(c);
    multiFreeClient(c);
    pubsubFreeClient(c);
    monitorRemove(c);
    if (c->fd >= 0) {
        ev_io_stop(server.loop, &c->rio);
        ev_io_stop(server.loop, &c->wio);
        close(c->fd);
        if (c->prev) c->prev->next = c->next;
        else net.all = c->next;
        if (c->next) c->next->prev = c->prev;
        else net.allTail = c->prev;
        c->prev = c->next = NULL;
        net.numClients--;
    }
    if (c->flags & CLIENT_PAUSED) unpauseRemove(c);
    respParserFree(&c->parser);
    free(c->qbuf);
    free(c->rbuf);
    free(c->argv);
    free(c->name);
    free(c->lib_name);
    free(c->lib_ver);
    free(c);
}

void freeClientAsync(client *c) {
    if (c->flags & CLIENT_CLOSE_ASAP) return;
    c->flags |= CLIENT_CLOSE_ASAP;
    if (c->fd >= 0) ev_io_stop(server.loop, &c->rio);
    unlinkPending(c);
    c->pendNext = net.closing;
    net.closing = c;
}

static void freeClosing(void) {
    while (net.closing) {
        client *c = net.closing;
        net.closing = c->pendNext;
        c->flags &= ~CLIENT_EXECUTING;
        c->pendNext = NULL;
        freeClient(c);
    }
}

/* ---------- output ---------- */

int clientHasPendingOutput(const client *c) { return c->rlen > c->rsent; }

/* Writes as much as the socket takes; returns -1 if the client was freed. */
static int writeToClient(client *c) {
    while (c->rsent < c->rlen) {
        ssize_t n = write(c->fd, c->rbuf + c->rsent, c->rlen - c->rsent);
        if (n < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) break;
            freeClient(c);
            return -1;
        }
        c->rsent += (size_t)n;
        server.stat.netOutputBytes += (uint64_t)n;
    }
    if (c->rsent == c->rlen) {
        c->rsent = c->rlen = 0;
        if (c->rcap > REPLY_KEEP * 4) {
            free(c->rbuf);
            c->rbuf = NULL;
            c->rcap = 0;
        }
        ev_io_stop(server.loop, &c->wio);
        if (c->flags & CLIENT_CLOSE_AFTER_REPLY) {
            freeClient(c);
            return -1;
        }
    } else {
        if (c->rlen - c->rsent > c->rpeak) c->rpeak = c->rlen - c->rsent;
        if ((c->flags & CLIENT_PUBSUB) && cfg.pubsubOutbufHardLimit &&
            (long long)(c->rlen - c->rsent) > cfg.pubsubOutbufHardLimit) {
            server.stat.clientOutbufLimitDisconnections++;
            freeClient(c);
            return -1;
        }
        ev_io_start(server.loop, &c->wio);
    }
    return 0;
}

static void writeHandler(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop; (void)revents;
    client *c = w->data;
    writeToClient(c);
}

/* Once per loop iteration: write every client that has output. */
static void flushPending(struct ev_loop *loop, ev_prepare *w, int revents) {
    (void)loop; (void)w; (void)revents;
    freeClosing();
    while (net.pending) {
        client *c = net.pending;
        unlinkPending(c);
        if (c->flags & CLIENT_FAKE) continue;
        if (!ev_is_active(&c->wio)) writeToClient(c);
    }
}

void netFlushAll(void) {
    flushPending(server.loop, &net.flusher, 0);
}

static void processInputBuffer(client *c);

/* Runs the commands read in this loop iteration, client by client in the
 * order their data arrived, as Redis does.  libev calls the read callbacks of
 * one iteration in reverse order of readiness (its pending queue is a stack),
 * so readHandler pushes each client on a stack too: popping it restores
 * arrival order.  That matters when a client sends a command and another one
 * a command that depends on it (UNSUBSCRIBE, then PUBLISH). */
static void processPendingInput(void) {
    while (net.pendingInput) {
        client *c = net.pendingInput;
        net.pendingInput = c->inputNext;
        c->inputNext = NULL;
        c->flags &= ~CLIENT_PENDING_INPUT;
        clientResumeReading(c);
    }
}

/* Before the loop waits again: run what was read, then write the replies. */
static void (*beforeFlush)(void);

void netSetBeforeFlush(void (*fn)(void)) { beforeFlush = fn; }

/* Reads a decimal length ending in CRLF at p; the byte after it, or NULL. */
static const char *scanLength(const char *p, const char *end, long long *v) {
    long long n = 0;
    const char *start = p;
    while (p < end && *p >= '0' && *p <= '9' && p - start < 10) n = n * 10 + (*p++ - '0');
    if (p == start || end - p < 2 || p[0] != '\r' || p[1] != '\n') return NULL;
    *v = n;
    return p + 2;
}

/* Adds the keys of the complete multibulk commands at the start of c's query
 * buffer to refs (for dbPrefetchKeys), as the command table places them;
 * stops at anything else.  The real parse comes later and decides. */
static int scanKeys(client *c, dbKeyRef *refs, int n) {
    const char *p = c->qbuf + c->qpos, *end = c->qbuf + c->qlen;
    db *d = dbAt(c->dbid);
    command *cmd = NULL;
    while (d && n < DB_PREFETCH_MAX && p < end && *p == '*') {
        long long argc, len;
        if (!(p = scanLength(p + 1, end, &argc)) || argc < 1 || argc > 64) break;
        int keys = 0, keyRef = -1;
        for (long long a = 0; a < argc; a++) {
            if (p >= end || *p != '$' || !(p = scanLength(p + 1, end, &len)) || end - p < len + 2) return n;
            if (a == 0) {
                if (!cmd || strlen(cmd->name) != (size_t)len || strncasecmp(cmd->name, p, (size_t)len))
                    cmd = lookupCommandByName(p, (size_t)len);
                keys = cmd && cmd->firstkey > 0;
            } else if (keys && a >= cmd->firstkey && (cmd->lastkey < 0 ? a <= argc + cmd->lastkey : a <= cmd->lastkey) &&
                       (a - cmd->firstkey) % (cmd->keystep > 0 ? cmd->keystep : 1) == 0 && n < DB_PREFETCH_MAX) {
                if (a == 1) keyRef = n;
                refs[n++] = (dbKeyRef){d, p, (size_t)len, NULL, 0};
            } else if (a == 2 && keyRef >= 0 && (cmd->flags & CMD_MEMBER_ARG)) {
                refs[keyRef].member = p;
                refs[keyRef].mlen = (size_t)len;
            }
            p += len + 2;
        }
    }
    return n;
}

/* The keys of every command read in this iteration, prefetched before any
 * of them runs (see dbPrefetchKeys). */
static void prefetchPendingKeys(void) {
    static dbKeyRef refs[DB_PREFETCH_MAX];
    int n = 0;
    for (client *c = net.pendingInput; c && n < DB_PREFETCH_MAX; c = c->inputNext) n = scanKeys(c, refs, n);
    if (n > 1) dbPrefetchKeys(refs, n);
}

/* ---------- busy polling ----------
 *
 * After an iteration that read requests, the loop polls without blocking for
 * up to busy-poll-us before it sleeps. A client on another core mostly sends
 * its next request within that window, and finding it there spares both sides
 * a wakeup (on a virtual machine an interrupt between cores, the costliest part
 * of a small request): see bench/README.md for what it buys. Each empty poll
 * yields the core, so a process sharing it (a client on the same core) runs
 * first. An idle server does not poll: the window starts only with input from
 * a client, not from a peer's stream, whose batches come a millisecond apart. */

static ev_idle pollWatcher;
static int64_t lastInputUs;

static int64_t monotonicUs(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void onPollIdle(struct ev_loop *loop, ev_idle *w, int revents) {
    (void)revents;
    if (monotonicUs() - lastInputUs >= cfg.busyPollUs) ev_idle_stop(loop, w);
    else sched_yield();
}

static void notePolling(struct ev_loop *loop) {
    if (cfg.busyPollUs <= 0) return;
    client *c = net.pendingInput;
    while (c && c->peerId) c = c->inputNext;
    if (!c) return;
    lastInputUs = monotonicUs();
    if (!ev_is_active(&pollWatcher)) ev_idle_start(loop, &pollWatcher);
}

static void beforeSleep(struct ev_loop *loop, ev_prepare *w, int revents) {
    notePolling(loop);
    prefetchPendingKeys();
    processPendingInput();
    if (beforeFlush) beforeFlush();
    flushPending(loop, w, revents);
}

/* ---------- input ---------- */

static void setProtocolError(client *c) {
    char msg[160];
    snprintf(msg, sizeof(msg), "ERR %s", c->parser.error);
    serverLog(LL_VERBOSE, "Protocol error (%s) from client: id=%llu addr=%s",
              c->parser.error, (unsigned long long)c->id, c->addr);
    addReplyError(c, msg);
    c->flags |= CLIENT_CLOSE_AFTER_REPLY;
}

/* Parses and runs every complete command in the query buffer. */
static void processInputBuffer(client *c) {
    while (c->qpos < c->qlen) {
        if (c->flags & (CLIENT_CLOSE_AFTER_REPLY | CLIENT_CLOSE_ASAP | CLIENT_PAUSED)) break;
        size_t used;
        c->parser.unauthenticated = !(c->flags & CLIENT_AUTHENTICATED);
        char *start = c->qbuf + c->qpos;
        int pr = respParse(&c->parser, start, c->qlen - c->qpos, &used);
        if (pr == RESP_NEED_MORE) break;
        if (pr == RESP_ERROR) {
            setProtocolError(c);
            c->qpos = c->qlen;
            break;
        }
        if (c->parser.argc == 0) { c->qpos += used; continue; }
        if (c->parser.argc > c->argvcap) {
            c->argvcap = c->parser.argc;
            free(c->argv);
            c->argv = malloc(sizeof(arg) * (size_t)c->argvcap);
            if (!c->argv) abort();
        }
        c->argc = c->parser.argc;
        for (int i = 0; i < c->argc; i++) {
            c->argv[i].p = start + c->parser.argv[i].off;
            c->argv[i].len = c->parser.argv[i].len;
        }
        int r = processCommand(c);
        if (r == CMD_CLIENT_FREED) return;
        c->argc = 0;
        if (r == CMD_CLIENT_PAUSED) break;  /* parsed again when unpaused */
        c->qpos += used;
    }
    if (c->qpos == c->qlen) {
        c->qpos = c->qlen = 0;
        if (c->qcap > QBUF_KEEP * 4 && !(c->flags & CLIENT_CLOSE_ASAP)) {
            free(c->qbuf);
            c->qbuf = NULL;
            c->qcap = 0;
        }
    } else if (c->qpos > 0) {
        memmove(c->qbuf, c->qbuf + c->qpos, c->qlen - c->qpos);
        c->qlen -= c->qpos;
        c->qpos = 0;
    }
}

static void readHandler(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop; (void)revents;
    client *c = w->data;
    size_t want = READ_CHUNK;
    /* A big bulk argument under way: read it whole rather than in chunks. */
    if (c->parser.bulklen > 0 && (size_t)c->parser.bulklen + 2 > want) {
        size_t have = c->qlen - c->qpos - c->parser.pos;
        size_t need = (size_t)c->parser.bulklen + 2;
        if (need > have && need - have > want) want = need - have;
    }
    if (c->qcap - c->qlen < want) {
        size_t cap = c->qlen + want;
        if (cap < c->qcap * 2 && c->qcap * 2 <= c->qlen + want + 1024 * 1024) cap = c->qcap * 2;
        char *n = realloc(c->qbuf, cap);
        if (!n) abort();
        c->qbuf = n;
        c->qcap = cap;
    }
    ssize_t n = read(c->fd, c->qbuf + c->qlen, c->qcap - c->qlen);
    if (n < 0) {
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) return;
        freeClient(c);
        return;
    }
    if (n == 0) {
        freeClient(c);
        return;
    }
    c->qlen += (size_t)n;
    if (c->qlen > c->qpeak) c->qpeak = c->qlen;
    server.stat.netInputBytes += (uint64_t)n;
    server.stat.totalReadsProcessed++;
    c->lastinteraction = server.mstime / 1000;
    /* The limit counts what is not parsed yet (the argument being read and
     * what follows), not the finished arguments of the command under way
     * that argv will point to: Redis moves those out of its query buffer as
     * it parses them, so a command of many arguments may exceed the limit
     * in total, one bigger argument may not. */
    size_t unparsed = c->qlen - c->qpos;
    unparsed = unparsed > c->parser.pos ? unparsed - c->parser.pos : 0;
    if ((long long)unparsed > cfg.clientQueryBufferLimit) {
        serverLog(LL_WARNING, "Closing client that reached max query buffer length: id=%llu addr=%s",
                  (unsigned long long)c->id, c->addr);
        server.stat.clientQbufLimitDisconnections++;
        freeClient(c);
        return;
    }
    if (!(c->flags & CLIENT_PENDING_INPUT)) {
        c->flags |= CLIENT_PENDING_INPUT;
        c->inputNext = net.pendingInput;
        net.pendingInput = c;
    }
}

void clientResumeReading(client *c) {
    if (c->fd < 0 || (c->flags & CLIENT_CLOSE_ASAP)) return;
    net.current = c;
    processInputBuffer(c);
    net.current = NULL;
}

/* ---------- accepting ---------- */

/* Redis 7.0's text, word for word (its "Setup a an" included). */
static const char *protectedModeMessage =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set "
    "for the default user. In this mode connections are only accepted from the loopback interface. If you "
    "want to connect from external computers to Redis you may adopt one of the following solutions: 1) Just "
    "disable protected mode sending the command 'CONFIG SET protected-mode no' from the loopback interface by "
    "connecting to Redis from the same host the server is running, however MAKE SURE Redis is not publicly "
    "accessible from internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
    "you can just disable the protected mode by editing the Redis configuration file, and setting the protected "
    "mode option to 'no', and then restarting the server. 3) If you started the server manually just for "
    "testing, restart it with the '--protected-mode no' option. 4) Setup a an authentication password for the "
    "default user. NOTE: You only need to do one of the above things in order for the server to start "
    "accepting connections from the outside.\r\n";

static void formatAddr(const struct sockaddr_storage *sa, char *out, size_t size) {
    char ip[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        inet_ntop(AF_INET, &s->sin_addr, ip, sizeof(ip));
        port = ntohs(s->sin_port);
        snprintf(out, size, "%s:%d", ip, port);
    } else if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        inet_ntop(AF_INET6, &s->sin6_addr, ip, sizeof(ip));
        port = ntohs(s->sin6_port);
        snprintf(out, size, "%s:%d", ip, port);
    } else {
        snprintf(out, size, "%s:0", cfg.unixsocket ? cfg.unixsocket : "");
    }
}

static int isLoopback(const struct sockaddr_storage *sa) {
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)sa;
        return (ntohl(s->sin_addr.s_addr) >> 24) == 127;
    }
    if (sa->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)sa;
        if (IN6_IS_ADDR_LOOPBACK(&s->sin6_addr)) return 1;
        if (IN6_IS_ADDR_V4MAPPED(&s->sin6_addr)) return s->sin6_addr.s6_addr[12] == 127;
        return 0;
    }
    return 1;   /* unix socket */
}

static void acceptHandler(struct ev_loop *loop, ev_io *w, int revents) {
    (void)loop; (void)revents;
    for (int i = 0; i < 1000; i++) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        int fd = accept4(w->fd, (struct sockaddr *)&sa, &salen, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                serverLog(LL_WARNING, "Accepting client connection: %s", strerror(errno));
            return;
        }
        if (sa.ss_family != AF_UNIX) {
            int one = 1;
            setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
            if (cfg.tcpKeepalive > 0) setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
        }
        if ((long long)net.numClients >= cfg.maxclients) {
            static const char *msg = "-ERR max number of clients reached\r\n";
            if (write(fd, msg, strlen(msg)) < 0) { /* best effort */ }
            close(fd);
            server.stat.rejectedConn++;
            continue;
        }
        if (cfg.protectedMode && (!cfg.requirepass || !cfg.requirepass[0]) && !isLoopback(&sa)) {
            if (write(fd, protectedModeMessage, strlen(protectedModeMessage)) < 0) { /* best effort */ }
            close(fd);
            server.stat.rejectedConn++;
            continue;
        }
        client *c = newClient(fd);
        if (sa.ss_family == AF_UNIX) c->flags |= CLIENT_UNIX;
        formatAddr(&sa, c->addr, sizeof(c->addr));
        struct sockaddr_storage la;
        socklen_t lalen = sizeof(la);
        if (getsockname(fd, (struct sockaddr *)&la, &lalen) == 0) formatAddr(&la, c->laddr, sizeof(c->laddr));
        server.stat.numconnections++;
    }
}

static int listenOn(const char *addr, int port, char *err, size_t errlen) {
    int fd;
    if (port == 0 && addr[0] == '/') {
        struct sockaddr_un sun;
        memset(&sun, 0, sizeof(sun));
        sun.sun_family = AF_UNIX;
        snprintf(sun.sun_path, sizeof(sun.sun_path), "%s", addr);
        unlink(addr);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 || listen(fd, (int)cfg.tcpBacklog) < 0) {
            snprintf(err, errlen, "Could not create server unix socket %s: %s", addr, strerror(errno));
            if (fd >= 0) close(fd);
            return -1;
        }
    } else {
        struct sockaddr_storage ss;
        socklen_t len;
        memset(&ss, 0, sizeof(ss));
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        if (strcmp(addr, "*") == 0 || strcmp(addr, "0.0.0.0") == 0) {
            s4->sin_family = AF_INET;
            s4->sin_addr.s_addr = htonl(INADDR_ANY);
            s4->sin_port = htons((uint16_t)port);
            len = sizeof(*s4);
        } else if (strcmp(addr, "::*") == 0) {
            s6->sin6_family = AF_INET6;
            s6->sin6_addr = in6addr_any;
            s6->sin6_port = htons((uint16_t)port);
            len = sizeof(*s6);
        } else if (inet_pton(AF_INET, addr, &s4->sin_addr) == 1) {
            s4->sin_family = AF_INET;
            s4->sin_port = htons((uint16_t)port);
            len = sizeof(*s4);
        } else if (inet_pton(AF_INET6, addr, &s6->sin6_addr) == 1) {
            s6->sin6_family = AF_INET6;
            s6->sin6_port = htons((uint16_t)port);
            len = sizeof(*s6);
        } else {
            snprintf(err, errlen, "Invalid bind address '%s'", addr);
            return -1;
        }
        fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (fd < 0) {
            snprintf(err, errlen, "socket: %s", strerror(errno));
            return -1;
        }
        int one = 1;
        setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (ss.ss_family == AF_INET6) setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        if (bind(fd, (struct sockaddr *)&ss, len) < 0 || listen(fd, (int)cfg.tcpBacklog) < 0) {
            snprintf(err, errlen, "Could not create server TCP listening socket %s:%d: %s", addr, port, strerror(errno));
            close(fd);
            return -1;
        }
    }
    ev_io_init(&net.watchers[net.count], acceptHandler, fd, EV_READ);
    ev_io_start(server.loop, &net.watchers[net.count]);
    net.fds[net.count++] = fd;
    return 0;
}

/* Binds one address ("-addr" marks an address whose failure is tolerated). */
int netListen(const char *addr, int port, char *err, size_t errlen) {
    int optional = addr[0] == '-';
    if (optional) addr++;
    if (net.count >= CONFIG_MAX_BIND + 1) return 0;
    if (listenOn(addr, port, err, errlen) < 0) {
        if (optional) {
            serverLog(LL_VERBOSE, "%s (ignored)", err);
            return 0;
        }
        return -1;
    }
    return 0;
}

void netCloseListeners(void) {
    for (int i = 0; i < net.count; i++) {
        ev_io_stop(server.loop, &net.watchers[i]);
        close(net.fds[i]);
    }
    net.count = 0;
    if (cfg.unixsocket) unlink(cfg.unixsocket);
}

void netInit(void) {
    ev_prepare_init(&net.flusher, beforeSleep);
    ev_prepare_start(server.loop, &net.flusher);
    ev_idle_init(&pollWatcher, onPollIdle);
}

/* ---------- CLIENT LIST line ---------- */

size_t catClientInfo(char *buf, size_t size, client *c) {
    char flags[16], *f = flags;
    if (c->flags & CLIENT_MULTI) *f++ = 'x';
    if (c->flags & CLIENT_DIRTY_CAS) *f++ = 'd';
    if (c->flags & CLIENT_CLOSE_AFTER_REPLY) *f++ = 'c';
    if (c->flags & CLIENT_CLOSE_ASAP) *f++ = 'A';
    if (c->flags & CLIENT_UNIX) *f++ = 'U';
    if (c->flags & CLIENT_PUBSUB) *f++ = 'P';
    if (c->flags & CLIENT_MONITOR) *f++ = 'O';
    if (c->flags & CLIENT_NO_EVICT) *f++ = 'e';
    if (f == flags) *f++ = 'N';
    *f = '\0';
    int64_t now = server.mstime / 1000;
    const char *cmd = c->lastcmd ? c->lastcmd->fullname : "NULL";
    int n = snprintf(buf, size,
        "id=%llu addr=%s laddr=%s fd=%d name=%s age=%lld idle=%lld flags=%s db=%d sub=%u psub=%u ssub=%u "
        "multi=%d qbuf=%zu qbuf-free=%zu argv-mem=%zu multi-mem=0 rbs=%zu rbp=%zu obl=%zu oll=0 omem=%zu "
        "tot-mem=%zu events=r%s cmd=%s user=default redir=-1 resp=%d",
        (unsigned long long)c->id, c->addr, c->laddr, c->fd, c->name ? c->name : "",
        (long long)(now - c->ctime), (long long)(now - c->lastinteraction), flags, c->dbid,
        pubsubClientChannels(c), pubsubClientPatterns(c), pubsubClientShardChannels(c),
        c->mstate ? multiQueuedCount(c) : -1, c->qlen - c->qpos, c->qcap - c->qlen, (size_t)0,
        c->rcap, c->rpeak, c->rlen - c->rsent, c->rcap,
        sizeof(client) + c->qcap + c->rcap, ev_is_active(&c->wio) ? "w" : "", cmd, c->resp);
    if (n < 0) return 0;
    return (size_t)n < size ? (size_t)n : size - 1;
}
