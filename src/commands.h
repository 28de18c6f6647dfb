/* commands.h - the command table and the path from a parsed request to a
 * command function: lookup, arity, auth, MULTI queueing, pause, stats.
 * Each command family lives in its own file and only exports its functions
 * here; the table in commands.c names them. */
#ifndef LATTICE_COMMANDS_H
#define LATTICE_COMMANDS_H

#include <stdint.h>
#include "networking.h"

/* command flags (a subset of Redis's, same meanings) */
#define CMD_WRITE        (1u << 0)
#define CMD_READONLY     (1u << 1)
#define CMD_DENYOOM      (1u << 2)
#define CMD_ADMIN        (1u << 3)
#define CMD_PUBSUB       (1u << 4)
#define CMD_NOSCRIPT     (1u << 5)
#define CMD_BLOCKING     (1u << 6)
#define CMD_LOADING      (1u << 7)
#define CMD_STALE        (1u << 8)
#define CMD_SKIP_MONITOR (1u << 9)
#define CMD_SKIP_SLOWLOG (1u << 10)
#define CMD_FAST         (1u << 11)
#define CMD_NO_AUTH      (1u << 12)
#define CMD_MAY_REPLICATE (1u << 13)
#define CMD_NO_MULTI     (1u << 14)
#define CMD_ALLOW_BUSY   (1u << 15)
#define CMD_SENTINEL     (1u << 16)
#define CMD_NO_ASYNC_LOADING (1u << 17)
#define CMD_MOVABLE_KEYS (1u << 18)   /* keys found by parsing arguments (numkeys) */
#define CMD_MEMBER_ARG   (1u << 19)   /* argv[2] is a member/field of the key argv[1]: prefetched (not in COMMAND) */

typedef void commandProc(client *c);

typedef struct command {
    const char *name;            /* lower case; for subcommands the subcommand name */
    commandProc *proc;
    int arity;                   /* >0 exact, <0 at least -arity */
    uint32_t flags;
    const char *acl;             /* ACL categories, space-separated, e.g. "@string @fast" */
    int firstkey, lastkey, keystep;
    const char *summary;
    const char *since;
    const char *group;
    const char *complexity;
    const char *args;            /* argument syntax for COMMAND DOCS, see commands.c */
    struct command *subcommands; /* NULL-name terminated array */
    struct command *parent;
    /* stats */
    char fullname[48];
    uint64_t calls, failedCalls, rejectedCalls;
    uint64_t usec;
} command;

void commandsInit(void);
command *lookupCommand(arg *argv, int argc);
command *lookupCommandByName(const char *name, size_t len);
/* Runs one parsed command for c: checks, queues in MULTI, or calls.
 * CMD_DONE: consumed; CMD_CLIENT_PAUSED: not run (CLIENT PAUSE), keep it in the
 * buffer; CMD_CLIENT_FREED: the client is gone and must not be touched. */
enum { CMD_DONE = 1, CMD_CLIENT_PAUSED = 2, CMD_CLIENT_FREED = 0 };
int processCommand(client *c);
/* CLIENT PAUSE bookkeeping. */
void pauseClients(int64_t untilMs, int all);
void unpauseClients(void);
void unpauseRemove(client *c);
void pauseCron(void);
void pauseClientNow(client *c);
/* INFO errorstats */
size_t errorStatsCount(void);
const char *errorStatsName(size_t i, uint64_t *count);
/* Calls cmd for c now, updating stats, slowlog and monitors. */
void call(client *c, command *cmd);
void resetCommandStats(void);
/* Iteration over the table (COMMAND, INFO commandstats). */
command *commandTable(void);
size_t commandTableSize(void);
/* A reply from the current command was an error: counts it. */
void commandErrorReplied(client *c, const char *err, size_t len);

#endif
