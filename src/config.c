/* config.c - every setting in one table: its name, how to parse and print it,
 * and where the server reads it.  Loads redis.conf syntax, applies
 * "--name value" overrides, and serves CONFIG GET/SET/RESETSTAT/REWRITE.
 *
 * Settings Redis has but lattice does not act on (persistence, replication
 * buffers, encodings...) are kept as inert strings so that tools and test
 * suites that read or write them keep working; they are marked INERT. */
#include "config.h"
#include "commands.h"
#include "networking.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct config cfg;

enum { T_BOOL, T_INT, T_MEM, T_STR, T_ENUM, T_BIND, T_NOTIFY, T_INERT, T_SAVE };
#define IMMUTABLE 1
#define SENSITIVE 2

typedef struct configEntry {
    const char *name;
    const char *alias;
    int type;
    int flags;
    void *ptr;                 /* int*, long long*, char** */
    long long min, max;
    const char *def;           /* default, as text */
    const char **enumNames;
    char *inert;               /* current value for T_INERT */
} configEntry;

static const char *loglevels[] = {"debug", "verbose", "notice", "warning", NULL};   /* 7.0 has no "nothing" */
static char *inertSave;

#define LL_MAX LLONG_MAX
#define CONFIG_MIN_HZ 1
#define CONFIG_MAX_HZ 500
static configEntry table[] = {
    {"port", NULL, T_INT, 0, &cfg.port, 0, 65535, "6379", NULL, NULL},
    {"bind", NULL, T_BIND, 0, NULL, 0, 0, "127.0.0.1 -::1", NULL, NULL},
    {"protected-mode", NULL, T_BOOL, 0, &cfg.protectedMode, 0, 1, "yes", NULL, NULL},
    {"requirepass", NULL, T_STR, SENSITIVE, &cfg.requirepass, 0, 0, "", NULL, NULL},
    {"masterauth", NULL, T_STR, SENSITIVE, &cfg.masterauth, 0, 0, "", NULL, NULL},
    {"masteruser", NULL, T_STR, 0, &cfg.masteruser, 0, 0, "", NULL, NULL},
    {"databases", NULL, T_INT, IMMUTABLE, &cfg.databases, 1, INT_MAX, "16", NULL, NULL},
    {"maxclients", NULL, T_INT, 0, &cfg.maxclients, 1, LL_MAX, "10000", NULL, NULL},
    {"proto-max-bulk-len", NULL, T_MEM, 0, &cfg.protoMaxBulkLen, 1024 * 1024, LL_MAX, "512mb", NULL, NULL},
    {"client-query-buffer-limit", NULL, T_MEM, 0, &cfg.clientQueryBufferLimit, 1024 * 1024, LL_MAX, "1gb", NULL, NULL},
    {"timeout", NULL, T_INT, 0, &cfg.timeout, 0, INT_MAX, "0", NULL, NULL},
    {"tcp-keepalive", NULL, T_INT, 0, &cfg.tcpKeepalive, 0, INT_MAX, "300", NULL, NULL},
    {"tcp-backlog", NULL, T_INT, IMMUTABLE, &cfg.tcpBacklog, 0, INT_MAX, "511", NULL, NULL},
    {"loglevel", NULL, T_ENUM, 0, &cfg.loglevel, 0, 0, "notice", loglevels, NULL},
    {"logfile", NULL, T_STR, IMMUTABLE, &cfg.logfile, 0, 0, "", NULL, NULL},
    {"dir", NULL, T_STR, 0, &cfg.dir, 0, 0, "", NULL, NULL},
    {"notify-keyspace-events", NULL, T_NOTIFY, 0, &cfg.notifyFlags, 0, 0, "", NULL, NULL},
    {"slowlog-log-slower-than", NULL, T_INT, 0, &cfg.slowlogLogSlowerThan, -1, LL_MAX, "10000", NULL, NULL},
    {"slowlog-max-len", NULL, T_INT, 0, &cfg.slowlogMaxLen, 0, LONG_MAX, "128", NULL, NULL},
    {"hz", NULL, T_INT, 0, &cfg.hz, 0, INT_MAX, "10", NULL, NULL},   /* then clamped to 1..500 */
    {"max-clock-skew-ms", NULL, T_INT, 0, &cfg.maxClockSkewMs, 0, LL_MAX, "60000", NULL, NULL},
    {"maxmemory", NULL, T_MEM, 0, &cfg.maxmemory, 0, LL_MAX, "0", NULL, NULL},
    {"daemonize", NULL, T_BOOL, IMMUTABLE, &cfg.daemonize, 0, 1, "no", NULL, NULL},
    {"pidfile", NULL, T_STR, IMMUTABLE, &cfg.pidfile, 0, 0, "", NULL, NULL},
    {"unixsocket", NULL, T_STR, IMMUTABLE, &cfg.unixsocket, 0, 0, "", NULL, NULL},
    {"latency-monitor-threshold", NULL, T_INT, 0, &cfg.latencyMonitorThreshold, 0, LL_MAX, "0", NULL, NULL},
    {"active-expire-effort", NULL, T_INT, 0, &cfg.activeExpireEffort, 1, 10, "1", NULL, NULL},
    {"lazyfree-lazy-user-flush", NULL, T_BOOL, 0, &cfg.lazyfreeLazyUserFlush, 0, 1, "no", NULL, NULL},
    {"save", NULL, T_SAVE, 0, &inertSave, 0, 0, "", NULL, NULL},
    /* Redis settings kept for compatibility; lattice does not act on them (yet). */
    {"appendonly", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"appendfsync", NULL, T_INERT, 0, NULL, 0, 0, "everysec", NULL, NULL},
    {"appendfilename", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "appendonly.aof", NULL, NULL},
    {"appenddirname", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "appendonlydir", NULL, NULL},
    {"dbfilename", NULL, T_INERT, 0, NULL, 0, 0, "dump.rdb", NULL, NULL},
    {"rdbcompression", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"rdbchecksum", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"stop-writes-on-bgsave-error", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"maxmemory-policy", NULL, T_INERT, 0, NULL, 0, 0, "noeviction", NULL, NULL},
    {"maxmemory-samples", NULL, T_INERT, 0, NULL, 0, 0, "5", NULL, NULL},
    {"maxmemory-clients", NULL, T_INERT, 0, NULL, 0, 0, "0", NULL, NULL},
    {"lazyfree-lazy-eviction", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"lazyfree-lazy-expire", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"lazyfree-lazy-server-del", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"lazyfree-lazy-user-del", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"replica-lazy-flush", "slave-lazy-flush", T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"replica-read-only", "slave-read-only", T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"replica-serve-stale-data", "slave-serve-stale-data", T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"replica-priority", "slave-priority", T_INERT, 0, NULL, 0, 0, "100", NULL, NULL},
    {"replicaof", "slaveof", T_INERT, 0, NULL, 0, 0, "", NULL, NULL},
    {"repl-backlog-size", NULL, T_INERT, 0, NULL, 0, 0, "1048576", NULL, NULL},
    {"repl-diskless-sync", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"repl-timeout", NULL, T_INERT, 0, NULL, 0, 0, "60", NULL, NULL},
    {"min-replicas-to-write", "min-slaves-to-write", T_INERT, 0, NULL, 0, 0, "0", NULL, NULL},
    {"min-replicas-max-lag", "min-slaves-max-lag", T_INERT, 0, NULL, 0, 0, "10", NULL, NULL},
    {"client-output-buffer-limit", NULL, T_INERT, 0, NULL, 0, 0, "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60", NULL, NULL},
    {"activerehashing", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"activedefrag", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"dynamic-hz", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"busy-reply-threshold", "lua-time-limit", T_INERT, 0, NULL, 0, 0, "5000", NULL, NULL},
    {"cluster-enabled", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "no", NULL, NULL},
    {"supervised", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "no", NULL, NULL},
    {"syslog-enabled", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "no", NULL, NULL},
    {"always-show-logo", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "no", NULL, NULL},
    {"set-proc-title", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "yes", NULL, NULL},
    {"enable-debug-command", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "yes", NULL, NULL},
    {"enable-protected-configs", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "yes", NULL, NULL},
    {"enable-module-command", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "no", NULL, NULL},
    {"latency-tracking", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"latency-tracking-info-percentiles", NULL, T_INERT, 0, NULL, 0, 0, "50 99 99.9", NULL, NULL},
    {"io-threads", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "1", NULL, NULL},
    {"crash-log-enabled", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"crash-memcheck-enabled", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"list-max-listpack-size", "list-max-ziplist-size", T_INERT, 0, NULL, 0, 0, "-2", NULL, NULL},
    {"list-compress-depth", NULL, T_INERT, 0, NULL, 0, 0, "0", NULL, NULL},
    {"hash-max-listpack-entries", "hash-max-ziplist-entries", T_INERT, 0, NULL, 0, 0, "128", NULL, NULL},
    {"hash-max-listpack-value", "hash-max-ziplist-value", T_INERT, 0, NULL, 0, 0, "64", NULL, NULL},
    {"set-max-intset-entries", NULL, T_INERT, 0, NULL, 0, 0, "512", NULL, NULL},
    {"zset-max-listpack-entries", "zset-max-ziplist-entries", T_INERT, 0, NULL, 0, 0, "128", NULL, NULL},
    {"zset-max-listpack-value", "zset-max-ziplist-value", T_INERT, 0, NULL, 0, 0, "64", NULL, NULL},
    {"stream-node-max-bytes", NULL, T_INERT, 0, NULL, 0, 0, "4096", NULL, NULL},
    {"stream-node-max-entries", NULL, T_INERT, 0, NULL, 0, 0, "100", NULL, NULL},
    {"hll-sparse-max-bytes", NULL, T_INERT, 0, NULL, 0, 0, "3000", NULL, NULL},
    {"lfu-log-factor", NULL, T_INERT, 0, NULL, 0, 0, "10", NULL, NULL},
    {"lfu-decay-time", NULL, T_INERT, 0, NULL, 0, 0, "1", NULL, NULL},
    {"tracking-table-max-keys", NULL, T_INERT, 0, NULL, 0, 0, "1000000", NULL, NULL},
    {"acllog-max-len", NULL, T_INERT, 0, NULL, 0, 0, "128", NULL, NULL},
    {"aclfile", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "", NULL, NULL},
    {"acl-pubsub-default", NULL, T_INERT, 0, NULL, 0, 0, "resetchannels", NULL, NULL},
    {"oom-score-adj", NULL, T_INERT, 0, NULL, 0, 0, "no", NULL, NULL},
    {"oom-score-adj-values", NULL, T_INERT, 0, NULL, 0, 0, "0 200 800", NULL, NULL},
    {"close-on-replica-write", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"shutdown-timeout", NULL, T_INERT, 0, NULL, 0, 0, "10", NULL, NULL},
    {"shutdown-on-sigint", NULL, T_INERT, 0, NULL, 0, 0, "default", NULL, NULL},
    {"shutdown-on-sigterm", NULL, T_INERT, 0, NULL, 0, 0, "default", NULL, NULL},
    {"tls-port", NULL, T_INERT, 0, NULL, 0, 0, "0", NULL, NULL},
    {"cluster-port", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "0", NULL, NULL},
    {"anti-entropy-interval-ms", NULL, T_INT, 0, &cfg.antiEntropyIntervalMs, 10, LL_MAX, "1000", NULL, NULL},
    {"peer-heartbeat-ms", NULL, T_INT, 0, &cfg.peerHeartbeatMs, 10, LL_MAX, "500", NULL, NULL},
    {"busy-poll-us", NULL, T_INT, 0, &cfg.busyPollUs, 0, 100000, "50", NULL, NULL},
    {"peer-timeout-ms", NULL, T_INT, 0, &cfg.peerTimeoutMs, 50, LL_MAX, "3000", NULL, NULL},
    {"peer-output-limit", NULL, T_MEM, 0, &cfg.peerOutputLimit, 1024 * 1024, LL_MAX, "256mb", NULL, NULL},
    {"jemalloc-bg-thread", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"lua-replicate-commands", NULL, T_INERT, 0, NULL, 0, 0, "yes", NULL, NULL},
    {"propagation-error-behavior", NULL, T_INERT, 0, NULL, 0, 0, "ignore", NULL, NULL},
    {"disable-thp", NULL, T_INERT, IMMUTABLE, NULL, 0, 0, "yes", NULL, NULL},
    {"locale-collate", NULL, T_INERT, 0, NULL, 0, 0, "", NULL, NULL},
    {NULL, NULL, 0, 0, NULL, 0, 0, NULL, NULL, NULL},
};

static configEntry *findEntry(const char *name) {
    for (configEntry *e = table; e->name; e++)
        if (strcasecmp(e->name, name) == 0 || (e->alias && strcasecmp(e->alias, name) == 0)) return e;
    return NULL;
}

static int setString(char **dst, const char *v) {
    char *n = strdup(v);
    if (!n) abort();
    free(*dst);
    *dst = n;
    return 0;
}

/* Parses and stores one value.  Returns 0 or -1 with err (Redis's wording). */
static int setValue(configEntry *e, char **argv, int argc, char *err, size_t errlen) {
    const char *v = argc > 0 ? argv[0] : "";
    switch (e->type) {
    case T_BOOL: {
        int b;
        if (!strcasecmp(v, "yes")) b = 1;
        else if (!strcasecmp(v, "no")) b = 0;
        else { snprintf(err, errlen, "argument must be 'yes' or 'no'"); return -1; }
        *(int *)e->ptr = b;
        return 0;
    }
    case T_INT:
    case T_MEM: {
        long long ll;
        unsigned long long ull;
        if (e->type == T_MEM) {
            if (!memtoull(v, strlen(v), &ull) || ull > (unsigned long long)LLONG_MAX) {
                snprintf(err, errlen, "argument must be a memory value");
                return -1;
            }
            ll = (long long)ull;
        } else if (!string2ll(v, strlen(v), &ll)) {
            snprintf(err, errlen, "argument couldn't be parsed into an integer");
            return -1;
        }
        if (ll < e->min || ll > e->max) {
            snprintf(err, errlen, "argument must be between %lld and %lld inclusive", e->min, e->max);
            return -1;
        }
        if (e->ptr == &cfg.hz) ll = ll < CONFIG_MIN_HZ ? CONFIG_MIN_HZ : ll > CONFIG_MAX_HZ ? CONFIG_MAX_HZ : ll;
        if (e->ptr == &cfg.port || e->ptr == &cfg.databases) *(int *)e->ptr = (int)ll;
        else *(long long *)e->ptr = ll;
        return 0;
    }
    case T_STR:
        return setString((char **)e->ptr, v);
    case T_ENUM:
        for (int i = 0; e->enumNames[i]; i++) {
            if (!strcasecmp(v, e->enumNames[i])) {
                *(int *)e->ptr = i;
                return 0;
            }
        }
        {
            size_t n = (size_t)snprintf(err, errlen, "argument(s) must be one of the following: ");
            for (int i = 0; e->enumNames[i] && n < errlen; i++)
                n += (size_t)snprintf(err + n, errlen - n, "%s%s", i ? ", " : "", e->enumNames[i]);
        }
        return -1;
    case T_NOTIFY: {
        int f = keyspaceEventsStringToFlags(v);
        if (f < 0) { snprintf(err, errlen, "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."); return -1; }
        *(int *)e->ptr = f;
        return 0;
    }
    case T_BIND: {
        char buf[1024] = "";
        for (int i = 0; i < argc; i++) {
            strncat(buf, argv[i], sizeof(buf) - strlen(buf) - 2);
            if (i + 1 < argc) strcat(buf, " ");
        }
        int n;
        size_t *lens;
        char **parts = splitArgs(buf, strlen(buf), &n, &lens);
        if (!parts || n == 0 || n > CONFIG_MAX_BIND) {
            if (parts) freeArgs(parts, lens, n);
            snprintf(err, errlen, "Too many bind addresses specified.");
            return -1;
        }
        for (int i = 0; i < cfg.bindCount; i++) free(cfg.bind[i]);
        for (int i = 0; i < n; i++) cfg.bind[i] = strdup(parts[i]);
        cfg.bindCount = n;
        freeArgs(parts, lens, n);
        return 0;
    }
    case T_SAVE:
    case T_INERT: {
        char buf[1024] = "";
        for (int i = 0; i < argc; i++) {
            strncat(buf, argv[i], sizeof(buf) - strlen(buf) - 2);
            if (i + 1 < argc) strcat(buf, " ");
        }
        return setString(e->type == T_SAVE ? (char **)e->ptr : &e->inert, buf);
    }
    }
    return -1;
}

/* Formats the current value of e into buf. */
static void getValue(configEntry *e, char *buf, size_t size) {
    switch (e->type) {
    case T_BOOL: snprintf(buf, size, "%s", *(int *)e->ptr ? "yes" : "no"); break;
    case T_INT:
    case T_MEM:
        if (e->ptr == &cfg.port || e->ptr == &cfg.databases) snprintf(buf, size, "%d", *(int *)e->ptr);
        else snprintf(buf, size, "%lld", *(long long *)e->ptr);
        break;
    case T_STR: snprintf(buf, size, "%s", *(char **)e->ptr ? *(char **)e->ptr : ""); break;
    case T_ENUM: snprintf(buf, size, "%s", e->enumNames[*(int *)e->ptr]); break;
    case T_NOTIFY: keyspaceEventsFlagsToString(*(int *)e->ptr, buf, size); break;
    case T_BIND: {
        buf[0] = '\0';
        for (int i = 0; i < cfg.bindCount; i++) {
            strncat(buf, cfg.bind[i], size - strlen(buf) - 2);
            if (i + 1 < cfg.bindCount) strcat(buf, " ");
        }
        break;
    }
    case T_SAVE: snprintf(buf, size, "%s", inertSave ? inertSave : ""); break;
    case T_INERT: snprintf(buf, size, "%s", e->inert ? e->inert : ""); break;
    }
}

void configInitDefaults(void) {
    char err[256];
    for (configEntry *e = table; e->name; e++) {
        int n;
        size_t *lens;
        char **parts = splitArgs(e->def, strlen(e->def), &n, &lens);
        if (e->type == T_INERT || e->type == T_SAVE || e->type == T_STR) {
            char *one[1] = {(char *)e->def};
            setValue(e, one, 1, err, sizeof(err));
        } else {
            setValue(e, parts, n, err, sizeof(err));
        }
        freeArgs(parts, lens, n);
    }
}

const char *configInertValue(const char *name) {
    configEntry *e = findEntry(name);
    return e && e->type == T_INERT && e->inert ? e->inert : "";
}

int configApply(const char *name, char **argv, int argc, char *err, size_t errlen) {
    configEntry *e = findEntry(name);
    if (!e) {
        snprintf(err, errlen, "Bad directive or wrong number of arguments");
        return -1;
    }
    if (argc < 1 || (argc > 1 && e->type != T_BIND && e->type != T_INERT && e->type != T_SAVE)) {
        snprintf(err, errlen, "wrong number of arguments");
        return -1;
    }
    return setValue(e, argv, argc, err, errlen);
}

int configLoadText(const char *text, char *err, size_t errlen) {
    const char *p = text;
    int lineno = 0;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        lineno++;
        while (len && isspace((unsigned char)*p)) { p++; len--; }
        if (len && *p != '#') {
            int argc;
            size_t *lens;
            char **argv = splitArgs(p, len, &argc, &lens);
            if (!argv) {
                snprintf(err, errlen, "line %d: Unbalanced quotes in configuration line", lineno);
                return -1;
            }
            if (argc > 0) {
                char msg[256];
                if (configApply(argv[0], argv + 1, argc - 1, msg, sizeof(msg)) < 0) {
                    snprintf(err, errlen, "line %d: '%s': %s", lineno, argv[0], msg);
                    freeArgs(argv, lens, argc);
                    return -1;
                }
            }
            freeArgs(argv, lens, argc);
        }
        if (!nl) break;
        p = nl + 1;
    }
    return 0;
}

int configLoadFile(const char *path, char *err, size_t errlen) {
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "Fatal error, can't open config file '%s': %s", path, strerror(errno));
        return -1;
    }
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    size_t n;
    while (buf && (n = fread(buf + len, 1, cap - len - 1, f)) > 0) {
        len += n;
        if (cap - len < 2) buf = realloc(buf, cap *= 2);
    }
    fclose(f);
    if (!buf) abort();
    buf[len] = '\0';
    int r = configLoadText(buf, err, errlen);
    free(buf);
    return r;
}

/* ---------- CONFIG command ---------- */

/* One CONFIG GET answer: the name it is given under, and the setting. */
typedef struct configMatch {
    const char *name;
    size_t len;
    configEntry *e;
} configMatch;

static int matchedAs(const configMatch *m, long n, const char *name, size_t len) {
    for (long i = 0; i < n; i++)
        if (m[i].len == len && strncasecmp(m[i].name, name, len) == 0) return 1;
    return 0;
}

/* CONFIG GET name-or-pattern...  As in Redis 7.0: a name without glob
 * characters is looked up directly (aliases included) and answered under the
 * name as given, in the case given; a pattern is matched against every name
 * and alias, each answered under its own name.  A name answers once however
 * many arguments select it (compared case-insensitively); a setting and its
 * alias are two names, both answered when both are selected. */
void configGetCommand(client *c) {
    size_t count = 0;
    while (table[count].name) count++;
    /* at most one answer per name and alias, plus one per exact argument */
    configMatch *m = calloc(count * 2 + (size_t)c->argc, sizeof(*m));
    if (!m) abort();
    long n = 0;
    for (int i = 2; i < c->argc; i++) {
        arg *pat = &c->argv[i];
        if (!memchr(pat->p, '*', pat->len) && !memchr(pat->p, '?', pat->len) && !memchr(pat->p, '[', pat->len)) {
            if (matchedAs(m, n, pat->p, pat->len)) continue;
            char name[128];
            if (pat->len >= sizeof(name) || memchr(pat->p, '\0', pat->len)) continue;
            memcpy(name, pat->p, pat->len);
            name[pat->len] = '\0';
            configEntry *e = findEntry(name);
            if (e) m[n++] = (configMatch){pat->p, pat->len, e};
            continue;
        }
        for (size_t j = 0; j < count; j++) {
            configEntry *e = &table[j];
            const char *names[2] = {e->name, e->alias};
            for (int k = 0; k < 2; k++) {
                if (!names[k]) continue;
                size_t len = strlen(names[k]);
                if (matchedAs(m, n, names[k], len)) continue;
                if (stringmatchlen(pat->p, pat->len, names[k], len, 1)) m[n++] = (configMatch){names[k], len, e};
            }
        }
    }
    addReplyMapLen(c, n);
    for (long i = 0; i < n; i++) {
        char val[1024];
        getValue(m[i].e, val, sizeof(val));
        addReplyBulk(c, m[i].name, m[i].len);
        addReplyBulkCString(c, val);
    }
    free(m);
}

/* CONFIG SET name value [name value ...]: all or nothing.  As in Redis 7.0
 * every pair is looked at before anything is applied: the values of
 * sensitive settings (passwords) are redacted from MONITOR and SLOWLOG even
 * when the command fails, and the first bad name (unknown, immutable or
 * repeated) is the error.  Then the values are applied in order; the first
 * one refused restores those already applied. */
void configSetCommand(client *c) {
    if (c->argc & 1) {
        addReplyErrorSyntax(c);
        return;
    }
    int pairs = (c->argc - 2) / 2;
    configEntry **entries = calloc((size_t)pairs, sizeof(*entries));
    arg *values = calloc((size_t)pairs, sizeof(*values));
    char **olds = calloc((size_t)pairs, sizeof(*olds));
    if (!entries || !values || !olds) abort();
    char err[512], msg[300];
    const arg *unknown = NULL, *badName = NULL;
    const char *why = NULL;
    int failed = -1, i;
    for (i = 0; i < pairs; i++) {
        char name[128];
        arg *a = &c->argv[2 + i * 2];
        values[i] = c->argv[3 + i * 2];
        snprintf(name, sizeof(name), "%.*s", (int)(a->len < 127 ? a->len : 127), a->p);
        configEntry *e = findEntry(name);
        if (!e) {
            if (!unknown && !badName) unknown = a;
            continue;
        }
        if (e->flags & SENSITIVE) redactClientArg(c, 3 + i * 2);
        if (unknown || badName) continue;
        if (e->flags & IMMUTABLE) {
            why = "can't set immutable config";
            badName = a;
            continue;
        }
        for (int j = 0; j < i; j++) {
            if (entries[j] == e) {
                why = "duplicate parameter";
                badName = a;
                break;
            }
        }
        entries[i] = e;
    }
    if (unknown) {
        snprintf(err, sizeof(err), "ERR Unknown option or number of arguments for CONFIG SET - '%.*s'",
                 (int)(unknown->len < 128 ? unknown->len : 128), unknown->p);
        addReplyError(c, err);
        goto out;
    }
    if (badName) {
        snprintf(err, sizeof(err), "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                 (int)(badName->len < 128 ? badName->len : 128), badName->p, why);
        addReplyError(c, err);
        goto out;
    }
    for (i = 0; i < pairs; i++) {
        char old[1024];
        getValue(entries[i], old, sizeof(old));
        olds[i] = strdup(old);
        char *val = strndup(values[i].p, values[i].len);
        int argc = 1;
        char **argv = &val;
        size_t *lens = NULL;
        int split = entries[i]->type == T_BIND;
        if (split) {
            argv = splitArgs(val, strlen(val), &argc, &lens);
            if (!argv) { argv = &val; argc = 1; split = 0; }
        }
        int r = setValue(entries[i], argv, argc, msg, sizeof(msg));
        if (split) freeArgs(argv, lens, argc);
        free(val);
        if (r < 0) {
            failed = i;
            break;
        }
        if (entries[i]->ptr == &cfg.maxClockSkewMs) server.clock.maxSkewMs = (uint64_t)cfg.maxClockSkewMs;
        /* requirepass: clients connected before a password was set stay authenticated. */
    }
    if (failed >= 0) {
        for (int j = 0; j < failed; j++) {
            char *one[1] = {olds[j]};
            char tmp[256];
            setValue(entries[j], one, 1, tmp, sizeof(tmp));
        }
        arg *a = &c->argv[2 + failed * 2];
        snprintf(err, sizeof(err), "ERR CONFIG SET failed (possibly related to argument '%.*s') - %s",
                 (int)(a->len < 128 ? a->len : 128), a->p, msg);
        addReplyError(c, err);
        goto out;
    }
    addReplyOK(c);
out:
    for (i = 0; i < pairs; i++) free(olds[i]);
    free(olds);
    free(values);
    free(entries);
}

void configResetstatCommand(client *c) {
    memset(&server.stat, 0, sizeof(server.stat));
    resetCommandStats();
    addReplyOK(c);
}

void configRewriteCommand(client *c) {
    if (!server.configFile) {
        addReplyError(c, "ERR The server is running without a config file");
        return;
    }
    addReplyError(c, "ERR Rewriting config file is not supported by lattice yet");
}

void configHelpCommand(client *c) {
    static const char *help[] = {
        "GET <pattern>",
        "    Return parameters matching the glob-like <pattern> and their values.",
        "SET <directive> <value>",
        "    Set the configuration <directive> to <value>.",
        "RESETSTAT",
        "    Reset statistics reported by the INFO command.",
        "REWRITE",
        "    Rewrite the configuration file.",
        NULL};
    addReplyHelp(c, help);
}
