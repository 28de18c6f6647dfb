/* networking.h - clients: accepting, reading, batching replies, writing.
 *
 * A client owns its socket watchers, its query buffer and its reply buffer.
 * Arguments of the command being executed point into the query buffer (no copy,
 * no allocation per request); they are valid until the command returns.
 * Replies are appended to one growable buffer per client and written once per
 * loop iteration, for every client that has output, from an ev_prepare watcher. */
#ifndef LATTICE_NETWORKING_H
#define LATTICE_NETWORKING_H

#include <ev.h>
#include <stddef.h>
#include <stdint.h>
#include <stdarg.h>

#include "resp.h"

struct db;
struct command;
struct multiState;

typedef struct arg {
    char *p;
    size_t len;
} arg;

/* client flags */
#define CLIENT_CLOSE_AFTER_REPLY (1u << 0)
#define CLIENT_CLOSE_ASAP        (1u << 1)
#define CLIENT_MULTI             (1u << 2)
#define CLIENT_DIRTY_CAS         (1u << 3)
#define CLIENT_DIRTY_EXEC        (1u << 4)
#define CLIENT_PUBSUB            (1u << 5)
#define CLIENT_MONITOR           (1u << 6)
#define CLIENT_PENDING_WRITE     (1u << 7)
#define CLIENT_AUTHENTICATED     (1u << 8)
#define CLIENT_REPLY_OFF         (1u << 9)
#define CLIENT_REPLY_SKIP_NEXT   (1u << 10)
#define CLIENT_REPLY_SKIP        (1u << 11)
#define CLIENT_NO_EVICT          (1u << 12)
#define CLIENT_PAUSED            (1u << 13)
#define CLIENT_EXECUTING         (1u << 14)
#define CLIENT_UNIX              (1u << 15)
#define CLIENT_FAKE              (1u << 16)
#define CLIENT_PUSHING           (1u << 17) /* writing a push (pub/sub): passes CLIENT REPLY OFF/SKIP */
#define CLIENT_DENY_BLOCKING     (1u << 18) /* running EXEC's commands: one reply each, no SSUBSCRIBE */
#define CLIENT_PENDING_INPUT     (1u << 19) /* read this iteration, commands not run yet */

typedef struct client {
    uint64_t id;
    int fd;
    ev_io rio, wio;
    uint32_t flags;
    int resp;                      /* 2 or 3 */
    int dbid;
    struct db *db;

    char *qbuf;                    /* query buffer: [qpos, qlen) not yet parsed */
    size_t qlen, qcap, qpos;
    size_t qpeak;
    respParser parser;
    int argc, argvcap;
    arg *argv;
    struct command *cmd, *lastcmd;

    char *rbuf;                    /* reply buffer: [rsent, rlen) not yet written */
    size_t rlen, rcap, rsent;
    size_t rpeak;

    char *name;                    /* CLIENT SETNAME, NULL if none */
    char *lib_name, *lib_ver;
    char addr[64], laddr[64];
    int64_t ctime, lastinteraction;    /* seconds */
    uint64_t totalCommands;
    uint64_t peerId;               /* a peer's link (it said PEER HELLO): its node id; 0 otherwise */

    struct multiState *mstate;     /* MULTI queue, NULL when not in MULTI */
    struct watched *watched;       /* keys under WATCH */
    struct dict *pubsubChannels;   /* channel -> node; NULL when none */
    struct dict *pubsubPatterns;
    struct dict *pubsubShardChannels;

    struct client *prev, *next;                 /* all clients */
    struct client *pendPrev, *pendNext;         /* clients with output */
    struct client *pausedNext;
    struct client *inputNext;                   /* clients with input to process */
} client;

/* lifetime */
void netInit(void);
int netListen(const char *addr, int port, char *err, size_t errlen);
void netCloseListeners(void);
void freeClient(client *c);
void freeClientAsync(client *c);
client *createFakeClient(void);
void clientResumeReading(client *c);
int clientHasPendingOutput(const client *c);
void netFlushAll(void);          /* write pending output now (SHUTDOWN, DEBUG) */
/* fn runs once per loop iteration after the commands read in it ran and
 * before replies are written (sync.c ships the iteration's changes there). */
void netSetBeforeFlush(void (*fn)(void));
client *clientList(void);        /* head of the list of all clients */
uint64_t clientCount(void);
client *currentClient(void);

/* replies: every reply goes through these */
void addReplyRaw(client *c, const char *s, size_t len);
void addReplyStatus(client *c, const char *s);              /* "+s\r\n" */
void addReplyStatusLen(client *c, const char *s, size_t len);
void addReplyOK(client *c);
/* err is the whole message with its code, e.g. "ERR syntax error" or
 * "WRONGTYPE Operation ...".  Newlines in it are replaced by spaces. */
void addReplyError(client *c, const char *err);
void addReplyErrorFormat(client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void addReplyErrorArity(client *c);
void addReplyErrorSyntax(client *c);
void addReplyErrorWrongType(client *c);
void addReplyErrorNotInt(client *c);
void addReplyErrorNotFloat(client *c);
void addReplyLongLong(client *c, long long v);
void addReplyBulk(client *c, const char *p, size_t len);
void addReplyBulkCString(client *c, const char *s);
void addReplyBulkLongLong(client *c, long long v);
/* RESP3 form / RESP2 form, as Redis 7.0 sends them: */
void addReplyNull(client *c);                /* _ / $-1 */
void addReplyNullArray(client *c);           /* _ / *-1 */
void addReplyArrayLen(client *c, long n);
void addReplyMapLen(client *c, long n);      /* %n / *2n */
void addReplySetLen(client *c, long n);      /* ~n / *n */
void addReplyPushLen(client *c, long n);     /* >n / *n (a pub/sub message is a plain array in RESP2) */
/* |n: RESP3 only (Redis asserts it); in RESP2 the caller sends no attribute at all. */
void addReplyAttributeLen(client *c, long n);
void addReplyDouble(client *c, double d);    /* ,%.17g / the same digits as a bulk string */
void addReplyBool(client *c, int b);         /* #t #f / :1 :0 */
void addReplyBigNum(client *c, const char *s, size_t len);   /* (digits / bulk string */
/* =len\r\next:text / the text as a bulk string; ext is 3 bytes ("txt", "mkd"). */
void addReplyVerbatim(client *c, const char *s, size_t len, const char *ext);
void addReplyHelp(client *c, const char **lines);
/* Deferred aggregate length: reserve, then fill in once the count is known. */
size_t addReplyDeferredLen(client *c);
void setDeferredArrayLen(client *c, size_t at, long n);
void setDeferredMapLen(client *c, size_t at, long n);
void setDeferredSetLen(client *c, size_t at, long n);

/* argument helpers */
int argEq(const arg *a, const char *s);      /* case-insensitive equality */
int getLongLongFromArg(client *c, const arg *a, long long *v, const char *msg);
int getPositiveLongFromArg(client *c, const arg *a, long long *v, const char *msg);
int getRangeLongFromArg(client *c, const arg *a, long long min, long long max, long long *v, const char *msg);
int getDoubleFromArg(client *c, const arg *a, double *v, const char *msg);
int getLongDoubleFromArg(client *c, const arg *a, long double *v, const char *msg);

/* Hides argument j of the running command from MONITOR and SLOWLOG, which
 * then show "(redacted)", as Redis does for passwords.  Only argv[j] is
 * repointed: a command that still needs the value keeps its own copy of the
 * arg (the bytes it points to stay valid until the command returns). */
void redactClientArg(client *c, int j);

/* client description for CLIENT LIST / INFO / MONITOR */
size_t catClientInfo(char *buf, size_t size, client *c);

#endif
