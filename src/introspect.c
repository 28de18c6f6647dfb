/* introspect.c - SLOWLOG and MONITOR: records of commands for operators.
 * The slow log keeps the newest entries in a ring; MONITOR streams every
 * command to the clients that asked for it. */
#include "introspect.h"
#include "cmdlist.h"
#include "commands.h"
#include "config.h"
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SLOWLOG_MAX_ARGC 32
#define SLOWLOG_MAX_ARGLEN 128

typedef struct slowEntry {
    long long id;
    int64_t time;            /* unix seconds */
    int64_t duration;        /* microseconds */
    int argc;
    char **argv;
    size_t *lens;
    char peer[64];
    char name[64];
} slowEntry;

static struct {
    slowEntry *ring;         /* newest at index (head-1) */
    size_t cap, len, head;
    long long nextId;
} slowlog;

static client **monitors;
static int nmonitors, capmonitors;

void slowlogInit(void) {}

static void freeEntry(slowEntry *e) {
    for (int i = 0; i < e->argc; i++) free(e->argv[i]);
    free(e->argv);
    free(e->lens);
    e->argv = NULL;
    e->argc = 0;
}

static void slowlogTrim(void) {
    size_t max = (size_t)cfg.slowlogMaxLen;
    if (slowlog.cap != max) {
        /* Rebuild the ring with the newest `max` entries. */
        slowEntry *n = calloc(max ? max : 1, sizeof(slowEntry));
        if (!n) abort();
        size_t keep = slowlog.len < max ? slowlog.len : max;
        for (size_t i = 0; i < slowlog.len; i++) {
            size_t idx = (slowlog.head + slowlog.cap - 1 - i) % slowlog.cap;
            if (i < keep) n[keep - 1 - i] = slowlog.ring[idx];
            else freeEntry(&slowlog.ring[idx]);
        }
        free(slowlog.ring);
        slowlog.ring = n;
        slowlog.cap = max;
        slowlog.len = keep;
        slowlog.head = max ? keep % max : 0;
    }
}

void slowlogPushEntryIfNeeded(client *c, int64_t duration) {
    if (cfg.slowlogLogSlowerThan < 0 || duration < cfg.slowlogLogSlowerThan) return;
    slowlogTrim();
    if (slowlog.cap == 0) return;
    slowEntry *e = &slowlog.ring[slowlog.head];
    if (slowlog.len == slowlog.cap) freeEntry(e);
    else slowlog.len++;
    slowlog.head = (slowlog.head + 1) % slowlog.cap;
    int argc = c->argc > SLOWLOG_MAX_ARGC ? SLOWLOG_MAX_ARGC : c->argc;
    e->argc = argc;
    e->argv = malloc(sizeof(char *) * (size_t)argc);
    e->lens = malloc(sizeof(size_t) * (size_t)argc);
    for (int j = 0; j < argc; j++) {
        char buf[SLOWLOG_MAX_ARGLEN + 64];
        const char *p = c->argv[j].p;
        size_t len = c->argv[j].len;
        if (argc != c->argc && j == argc - 1) {
            len = (size_t)snprintf(buf, sizeof(buf), "... (%d more arguments)", c->argc - argc + 1);
            p = buf;
        } else if (len > SLOWLOG_MAX_ARGLEN) {
            memcpy(buf, p, SLOWLOG_MAX_ARGLEN);
            len = SLOWLOG_MAX_ARGLEN + (size_t)snprintf(buf + SLOWLOG_MAX_ARGLEN, 64, "... (%zu more bytes)",
                                                        c->argv[j].len - SLOWLOG_MAX_ARGLEN);
            p = buf;
        }
        e->argv[j] = malloc(len + 1);
        memcpy(e->argv[j], p, len);
        e->lens[j] = len;
    }
    e->id = slowlog.nextId++;
    e->time = server.mstime / 1000;
    e->duration = duration;
    snprintf(e->peer, sizeof(e->peer), "%s", c->addr);
    snprintf(e->name, sizeof(e->name), "%s", c->name ? c->name : "");
}

void slowlogGetCommand(client *c) {
    long long count = 10;
    if (c->argc == 3) {
        if (getLongLongFromArg(c, &c->argv[2], &count, "ERR count should be greater than or equal to -1") < 0) return;
        if (count < -1) {
            addReplyError(c, "ERR count should be greater than or equal to -1");
            return;
        }
        if (count == -1) count = (long long)slowlog.len;
    } else if (c->argc > 3) {
        addReplyErrorArity(c);
        return;
    }
    slowlogTrim();
    long long n = count < (long long)slowlog.len ? count : (long long)slowlog.len;
    addReplyArrayLen(c, (long)n);
    for (long long i = 0; i < n; i++) {
        slowEntry *e = &slowlog.ring[(slowlog.head + slowlog.cap - 1 - (size_t)i) % slowlog.cap];
        addReplyArrayLen(c, 6);
        addReplyLongLong(c, e->id);
        addReplyLongLong(c, e->time);
        addReplyLongLong(c, e->duration);
        addReplyArrayLen(c, e->argc);
        for (int j = 0; j < e->argc; j++) addReplyBulk(c, e->argv[j], e->lens[j]);
        addReplyBulkCString(c, e->peer);
        addReplyBulkCString(c, e->name);
    }
}

void slowlogLenCommand(client *c) {
    slowlogTrim();
    addReplyLongLong(c, (long long)slowlog.len);
}

void slowlogResetCommand(client *c) {
    for (size_t i = 0; i < slowlog.cap; i++) freeEntry(&slowlog.ring[i]);
    slowlog.len = 0;
    slowlog.head = 0;
    addReplyOK(c);
}

void slowlogHelpCommand(client *c) {
    static const char *help[] = {
        "GET [<count>]",
        "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
        "    Entries are made of:",
        "    id, timestamp, time in microseconds, arguments array, client IP and port,",
        "    client name",
        "LEN",
        "    Return the length of the slowlog.",
        "RESET",
        "    Reset the slowlog.",
        NULL};
    addReplyHelp(c, help);
}

/* ---------- MONITOR ---------- */

int monitorsActive(void) { return nmonitors > 0; }

void monitorRemove(client *c) {
    if (!(c->flags & CLIENT_MONITOR)) return;
    for (int i = 0; i < nmonitors; i++) {
        if (monitors[i] == c) {
            memmove(&monitors[i], &monitors[i + 1], sizeof(client *) * (size_t)(nmonitors - i - 1));
            nmonitors--;
            break;
        }
    }
    c->flags &= ~CLIENT_MONITOR;
}

void monitorCommand(client *c) {
    if (c->flags & CLIENT_MONITOR) return;
    if (c->flags & CLIENT_MULTI) {
        addReplyError(c, "ERR MONITOR isn't allowed for DENY BLOCKING client");
        return;
    }
    if (nmonitors == capmonitors) {
        capmonitors = capmonitors ? capmonitors * 2 : 4;
        monitors = realloc(monitors, sizeof(client *) * (size_t)capmonitors);
        if (!monitors) abort();
    }
    monitors[nmonitors++] = c;
    c->flags |= CLIENT_MONITOR;
    addReplyOK(c);
}

/* One line per command, sent once the command has run (so that SELECT shows
 * its new db): +<time> [<db> <addr>] "arg" "arg"... with C-style escapes.
 * Arguments the command redacted (passwords) show as "(redacted)". */
void monitorFeed(client *c, int dbid) {
    size_t cap = 128;
    for (int j = 0; j < c->argc; j++) cap += c->argv[j].len * 4 + 3;
    int64_t us = ustime();
    const char *unixPath = cfg.unixsocket ? cfg.unixsocket : "";
    cap += strlen(unixPath) + sizeof(c->addr);
    char *buf = malloc(cap);
    if (!buf) abort();
    size_t n;
    if (c->flags & CLIENT_UNIX)
        n = (size_t)snprintf(buf, cap, "+%lld.%06lld [%d unix:%s]", (long long)(us / 1000000),
                             (long long)(us % 1000000), dbid, unixPath);
    else
        n = (size_t)snprintf(buf, cap, "+%lld.%06lld [%d %s]", (long long)(us / 1000000),
                             (long long)(us % 1000000), dbid, c->addr);
    for (int j = 0; j < c->argc; j++) {
        buf[n++] = ' ';
        buf[n++] = '"';
        for (size_t i = 0; i < c->argv[j].len; i++) {
            unsigned char ch = (unsigned char)c->argv[j].p[i];
            switch (ch) {
            case '\\': buf[n++] = '\\'; buf[n++] = '\\'; break;
            case '"': buf[n++] = '\\'; buf[n++] = '"'; break;
            case '\n': buf[n++] = '\\'; buf[n++] = 'n'; break;
            case '\r': buf[n++] = '\\'; buf[n++] = 'r'; break;
            case '\t': buf[n++] = '\\'; buf[n++] = 't'; break;
            case '\a': buf[n++] = '\\'; buf[n++] = 'a'; break;
            case '\b': buf[n++] = '\\'; buf[n++] = 'b'; break;
            default:
                if (ch < 32 || ch > 126) n += (size_t)sprintf(buf + n, "\\x%02x", ch);
                else buf[n++] = (char)ch;
            }
        }
        buf[n++] = '"';
    }
    buf[n++] = '\r';
    buf[n++] = '\n';
    for (int i = 0; i < nmonitors; i++) addReplyRaw(monitors[i], buf, n);
    free(buf);
}
