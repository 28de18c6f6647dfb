/* peer.h - links to the other nodes of the mesh: joining (REPLICAOF), the
 * handshake, heartbeats, reconnects with backoff, bounded output, and the
 * PEER command through which peers talk to us over the client port.
 *
 * Each pair of nodes has two TCP connections: each node dials every peer (its
 * outbound link) and sends its own writes and requests there; the peer's
 * outbound link arrives here as an ordinary client that has said PEER HELLO.
 * What is sent (deltas, anti-entropy) is sync.c's business; peer.c only
 * carries RESP commands out and hands their replies back in order. */
#ifndef LATTICE_PEER_H
#define LATTICE_PEER_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>

#include "networking.h"

enum { PEER_CONNECTING = 0, PEER_HANDSHAKE = 1, PEER_ONLINE = 2, PEER_DOWN = 3 };
/* A HELLO joins (a user's REPLICAOF), introduces a member learned from another
 * node's member list, or reconnects a link the other side already knows. */
enum { PEER_HELLO_RECONNECT = 0, PEER_HELLO_JOIN = 1, PEER_HELLO_MEMBER = 2 };

struct peer;
/* A reply to a request: type is the RESP type byte ('+', '-', ':', '$'),
 * p/len its payload (a bulk string's bytes, a status or error line); type 0
 * when the link went down before the reply came. */
typedef void (*peerReplyFn)(struct peer *p, int type, const char *data, size_t len, void *ctx);

typedef struct peerPending {
    peerReplyFn fn;
    void *ctx;
} peerPending;

typedef struct peer {
    uint64_t id;                   /* 0 until the handshake tells it */
    char host[256];
    int port;
    int state;
    int fd;
    struct resolveReq *resolving;  /* the name lookup under way, or NULL */
    unsigned addrTry;              /* which of the name's addresses to connect to: one further per failed try */
    int lookupFailing;             /* the last lookup failed (logged once per streak) */
    ev_io rio, wio;
    ev_timer timer;                /* heartbeat when online, reconnect otherwise */
    int hello;                     /* what HELLO says: PEER_HELLO_* */
    int removed;                   /* forgotten, waiting to be freed */
    int overLimit;                 /* output passed peer-output-limit: drop at the next write */
    int64_t lastPeerRoundMs;       /* sync.c: when it last drove a round with us */
    char *obuf;                    /* output: [opos, olen) not yet written */
    size_t olen, opos, ocap;
    char *ibuf;                    /* replies: [0, ilen) not yet parsed */
    size_t ilen, icap;
    peerPending *pend;             /* FIFO of requests awaiting replies */
    size_t phead, ptail, pcap;
    int64_t lastRecvMs;
    int64_t downSinceMs;
    int backoffMs;
    uint64_t syncedStamp;          /* our clock when the last completed anti-entropy round with it began; 0 = none */
    struct aeRound *ae;            /* sync.c: the round we drive on this link */
    unsigned aeRoundsOnLink;       /* sync.c: rounds driven since the link came up */
    uint64_t aeRoundSeen;          /* sync.c: our clock when the round it drives with us began */
    int aeRoundRefused;            /* sync.c: a record it sent since was refused (clock skew) */
    int64_t lastRoundMs;
    struct peer *next;
} peer;

void peerInit(void);
/* Joins the mesh of host:port (REPLICAOF, --replicaof). */
void peerJoin(const char *host, int port);
/* Leaves the mesh: tells every peer and forgets them (REPLICAOF NO ONE). */
void peerLeaveAll(void);

peer *peerList(void);
int peerCount(void);
int peerOnlineCount(void);
/* 1 if some peer is online, so that changes must be streamed. */
int peerStreaming(void);
const char *peerStateName(int state);

/* Queues a command (argc byte strings) on p's link; fn (may be NULL: no reply
 * is expected) gets its reply.  Does nothing unless p is online (or, for the
 * handshake, connected). */
void peerSend(peer *p, int argc, const char **argv, const size_t *lens, peerReplyFn fn, void *ctx);
/* Sends the same fire-and-forget command to every online peer. */
void peerBroadcast(int argc, const char **argv, const size_t *lens);
/* Writes what is queued for the peers in this iteration instead of after the
 * coalescing delay (sync.c, when its own batch went out after one). */
void peerStreamNow(void);
/* Drops p's link (it will reconnect): a protocol error or a slow peer. */
void peerDropLink(peer *p, const char *why);

/* The minimum over known peers of syncedStamp (UINT64_MAX with no peers):
 * tombstones this node saw before it are known everywhere. */
uint64_t peerSyncedStamp(void);

/* The peer a client speaks for (it said PEER HELLO), or NULL. */
peer *peerOfClient(const client *c);

/* INFO replication's peer lines, and counters for INFO stats. */
typedef struct peerStats {
    uint64_t deltasSent, deltasReceived;
    uint64_t bytesSent, bytesReceived;
    uint64_t aeRounds, aeKeysRepaired;
    uint64_t aeKeysDeferred;       /* differing keys in use, left to the stream by a partial round */
    uint64_t recordsRefused;       /* stamped too far ahead of our clock */
} peerStats;
extern peerStats peerStat;

#endif
