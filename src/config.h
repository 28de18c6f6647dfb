/* config.h - configuration: defaults, redis.conf-syntax files, command-line
 * overrides and CONFIG GET/SET/RESETSTAT.  Every setting lives in one table in
 * config.c; typed fields below are what the rest of the server reads. */
#ifndef LATTICE_CONFIG_H
#define LATTICE_CONFIG_H

#include <stddef.h>

#define CONFIG_MAX_BIND 16

struct config {
    int port;
    char *bind[CONFIG_MAX_BIND];
    int bindCount;
    int protectedMode;
    char *requirepass;            /* NULL or "" = none */
    char *masterauth;
    char *masteruser;
    int databases;
    long long maxclients;
    long long protoMaxBulkLen;
    long long clientQueryBufferLimit;
    long long timeout;            /* seconds, 0 = never */
    long long tcpKeepalive;
    long long tcpBacklog;
    int loglevel;
    char *logfile;
    char *dir;
    int notifyFlags;              /* notify.h flags */
    long long slowlogLogSlowerThan;
    long long slowlogMaxLen;
    long long hz;
    long long busyPollUs;             /* poll this long after input before sleeping */
    long long maxClockSkewMs;
    long long antiEntropyIntervalMs;  /* peers compare Merkle trees this often */
    long long peerHeartbeatMs;        /* a peer link is pinged this often */
    long long peerTimeoutMs;          /* a link silent this long is down */
    long long peerOutputLimit;        /* bytes queued to a peer before the link is dropped */
    long long maxmemory;
    int daemonize;
    char *pidfile;
    char *unixsocket;
    long long latencyMonitorThreshold;
    long long pubsubOutbufHardLimit;
    long long activeExpireEffort;
    int lazyfreeLazyUserFlush;
};

extern struct config cfg;

void configInitDefaults(void);
/* Applies a whole redis.conf-style text (file content or "--a b --c d"
 * joined as lines).  Returns 0, or -1 with a message in err. */
int configLoadText(const char *text, char *err, size_t errlen);
int configLoadFile(const char *path, char *err, size_t errlen);
/* Applies one directive with its arguments. Returns 0 or -1 with err set. */
int configApply(const char *name, char **argv, int argc, char *err, size_t errlen);
/* The current text of a setting lattice keeps as given (e.g. "replicaof"), "" if unset. */
const char *configInertValue(const char *name);


#endif
