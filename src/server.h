/* server.h - process-wide runtime state: the loop, the clock, the node id,
 * counters.  Configuration lives in config.h, the keyspace in db.h, clients in
 * networking.h; this header holds only what belongs to the running process. */
#ifndef LATTICE_SERVER_H
#define LATTICE_SERVER_H

#include <ev.h>
#include <stdint.h>
#include <stddef.h>

#include "hlc.h"

#define LATTICE_VERSION "7.0.15"     /* the Redis version whose protocol we speak */
#define LATTICE_OWN_VERSION "0.1.0"

typedef struct serverStats {
    uint64_t numcommands;
    uint64_t numconnections;
    uint64_t rejectedConn;
    uint64_t expiredkeys;
    uint64_t expiredStalePerc;
    uint64_t expiredTimeCapReached;
    uint64_t evictedkeys;
    uint64_t keyspaceHits, keyspaceMisses;
    uint64_t pubsubMessages;
    uint64_t netInputBytes, netOutputBytes;
    uint64_t totalErrorReplies;
    uint64_t unexpectedErrorReplies;
    uint64_t totalReadsProcessed, totalWritesProcessed;
    uint64_t clientQbufLimitDisconnections;
    uint64_t clientOutbufLimitDisconnections;
    uint64_t ioThreadedReads;
} serverStats;

struct server {
    struct ev_loop *loop;
    hlc clock;
    uint64_t nodeId;
    char runid[41];
    int64_t startTime;        /* unix seconds */
    int64_t mstime;           /* cached at each event, ms */
    int64_t ustime;
    uint32_t lruclock;
    long long dirty;
    int64_t lastsave;
    int shutdownAsap;
    int shutdownExitCode;
    char *configFile;
    char *executable;
    serverStats stat;
    uint64_t pauseEndMs;      /* CLIENT PAUSE: until this time */
    int pauseAll;             /* 1: ALL, 0: WRITE */
    uint64_t statPeakMemory;
    const char *lastCmdName;
    int64_t clockSkewMs;      /* DEBUG CLOCK-SKEW: added to the wall clock of local versions */
};

extern struct server server;

int64_t mstime(void);
int64_t ustime(void);
void updateCachedTime(void);
void updateCachedTimeWith(int64_t us);   /* the same with a clock read the caller made */
/* A version for a local write, now. */
version nextVersion(void);
/* Logging at Redis levels: 0 debug, 1 verbose, 2 notice, 3 warning. */
void serverLog(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define LL_DEBUG 0
#define LL_VERBOSE 1
#define LL_NOTICE 2
#define LL_WARNING 3
uint64_t randomU64(void);
size_t usedMemory(void);
void prepareShutdown(int exitCode);
int clientsArePaused(int forWrite);

#endif
