/* server_cmds.c - commands about the server process itself: INFO, TIME,
 * LASTSAVE, SHUTDOWN, DEBUG, SAVE/BGSAVE, FUNCTION, MEMORY, WAIT, LOLWUT. */
#include "cmdlist.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "introspect.h"
#include "networking.h"
#include "peer.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

/* ---------- INFO ---------- */

typedef struct sbuf {
    char *p;
    size_t len, cap;
} sbuf;

static void sbPrintf(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sbPrintf(sbuf *b, const char *fmt, ...) {
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < b->cap - b->len) {
            b->len += (size_t)n;
            return;
        }
        b->cap = b->cap * 2 + (size_t)(n > 0 ? n : 0) + 256;
        b->p = realloc(b->p, b->cap);
        if (!b->p) abort();
    }
}

static void bytesToHuman(char *s, size_t size, unsigned long long n) {
    double d = (double)n;
    if (n < 1024) snprintf(s, size, "%lluB", n);
    else if (n < 1024ULL * 1024) snprintf(s, size, "%.2fK", d / 1024);
    else if (n < 1024ULL * 1024 * 1024) snprintf(s, size, "%.2fM", d / (1024 * 1024));
    else snprintf(s, size, "%.2fG", d / (1024.0 * 1024 * 1024));
}

static long residentMemory(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, rss = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &rss) != 2) rss = 0;
        fclose(f);
    }
    return rss * sysconf(_SC_PAGESIZE);
}

/* Says whether INFO, called with the section names req[0..nreq), prints
 * section.  As in Redis 7.0: no argument or "default" means the default
 * sections (all but commandstats and latencystats), "all" and "everything"
 * mean every section, any other name (case-insensitive) that one section;
 * unknown names select nothing.  Each section is printed at most once, however
 * often it is asked for. */
static int wants(const char *section, char **req, int nreq) {
    int isDefault = strcmp(section, "commandstats") != 0 && strcmp(section, "latencystats") != 0;
    if (nreq == 0) return isDefault;
    for (int i = 0; i < nreq; i++) {
        if (!strcasecmp(req[i], section)) return 1;
        if (!strcasecmp(req[i], "all") || !strcasecmp(req[i], "everything")) return 1;
        if (!strcasecmp(req[i], "default") && isDefault) return 1;
    }
    return 0;
}

static void commandStatLine(sbuf *b, command *c) {
    if (!c->calls && !c->failedCalls && !c->rejectedCalls) return;
    sbPrintf(b, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,rejected_calls=%llu,failed_calls=%llu\r\n",
             c->fullname, (unsigned long long)c->calls, (unsigned long long)c->usec,
             c->calls ? (double)c->usec / (double)c->calls : 0.0, (unsigned long long)c->rejectedCalls,
             (unsigned long long)c->failedCalls);
}

void genInfo(sbuf *b, char **req, int nreq) {
    int sections = 0;
    int64_t uptime = server.mstime / 1000 - server.startTime;
    if (wants("server", req, nreq)) {
        struct utsname name;
        uname(&name);
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Server\r\n"
                 "redis_version:%s\r\nlattice_version:%s\r\nredis_git_sha1:00000000\r\nredis_git_dirty:0\r\n"
                 "redis_build_id:0\r\nredis_mode:standalone\r\nos:%s %s %s\r\narch_bits:%d\r\n"
                 "monotonic_clock:POSIX clock_gettime\r\nmultiplexing_api:libev\r\natomicvar_api:c11-builtin\r\n"
                 "gcc_version:%d.%d.%d\r\nprocess_id:%d\r\nprocess_supervised:no\r\nrun_id:%s\r\n"
                 "node_id:%016llx\r\ntcp_port:%d\r\nserver_time_usec:%lld\r\nuptime_in_seconds:%lld\r\n"
                 "uptime_in_days:%lld\r\nhz:%lld\r\nconfigured_hz:%lld\r\nlru_clock:%u\r\nexecutable:%s\r\n"
                 "config_file:%s\r\nio_threads_active:0\r\n",
                 LATTICE_VERSION, LATTICE_OWN_VERSION, name.sysname, name.release, name.machine,
                 (int)sizeof(void *) * 8,
#ifdef __GNUC__
                 __GNUC__, __GNUC_MINOR__, __GNUC_PATCHLEVEL__,
#else
                 0, 0, 0,
#endif
                 (int)getpid(), server.runid, (unsigned long long)server.nodeId, cfg.port,
                 (long long)ustime(), (long long)uptime, (long long)(uptime / 86400), cfg.hz, cfg.hz,
                 server.lruclock, server.executable ? server.executable : "",
                 server.configFile ? server.configFile : "");
    }
    if (wants("clients", req, nreq)) {
        size_t maxIn = 0, maxOut = 0;
        long pubsubClients = 0;
        for (client *c = clientList(); c; c = c->next) {
            if (c->qlen > maxIn) maxIn = c->qlen;
            if (c->rlen - c->rsent > maxOut) maxOut = c->rlen - c->rsent;
            if (c->flags & CLIENT_PUBSUB) pubsubClients++;
        }
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Clients\r\nconnected_clients:%llu\r\ncluster_connections:0\r\nmaxclients:%lld\r\n"
                 "client_recent_max_input_buffer:%zu\r\nclient_recent_max_output_buffer:%zu\r\n"
                 "blocked_clients:0\r\ntracking_clients:0\r\nclients_in_timeout_table:0\r\n"
                 "pubsub_clients:%ld\r\n",
                 (unsigned long long)clientCount(), cfg.maxclients, maxIn, maxOut, pubsubClients);
    }
    if (wants("memory", req, nreq)) {
        size_t used = usedMemory();
        long rss = residentMemory();
        if (used > server.statPeakMemory) server.statPeakMemory = used;
        char h1[32], h2[32], h3[32], h4[32];
        bytesToHuman(h1, sizeof(h1), used);
        bytesToHuman(h2, sizeof(h2), (unsigned long long)rss);
        bytesToHuman(h3, sizeof(h3), server.statPeakMemory);
        bytesToHuman(h4, sizeof(h4), (unsigned long long)cfg.maxmemory);
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Memory\r\nused_memory:%zu\r\nused_memory_human:%s\r\nused_memory_rss:%ld\r\n"
                 "used_memory_rss_human:%s\r\nused_memory_peak:%llu\r\nused_memory_peak_human:%s\r\n"
                 "used_memory_dataset:%zu\r\nmaxmemory:%lld\r\nmaxmemory_human:%s\r\nmaxmemory_policy:noeviction\r\n"
                 "mem_fragmentation_ratio:%.2f\r\nmem_allocator:libc\r\nlazyfree_pending_objects:0\r\n"
                 "lazyfreed_objects:0\r\n",
                 used, h1, rss, h2, (unsigned long long)server.statPeakMemory, h3, used, cfg.maxmemory, h4,
                 used ? (double)rss / (double)used : 0.0);
    }
    if (wants("persistence", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Persistence\r\nloading:0\r\nasync_loading:0\r\ncurrent_cow_peak:0\r\ncurrent_cow_size:0\r\n"
                 "current_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\ncurrent_save_keys_processed:0\r\n"
                 "current_save_keys_total:0\r\nrdb_changes_since_last_save:%lld\r\nrdb_bgsave_in_progress:0\r\n"
                 "rdb_last_save_time:%lld\r\nrdb_last_bgsave_status:ok\r\nrdb_last_bgsave_time_sec:-1\r\n"
                 "rdb_current_bgsave_time_sec:-1\r\naof_enabled:0\r\naof_rewrite_in_progress:0\r\n"
                 "aof_rewrite_scheduled:0\r\naof_last_rewrite_time_sec:-1\r\naof_current_rewrite_time_sec:-1\r\n"
                 "aof_last_bgrewrite_status:ok\r\naof_rewrites:0\r\naof_last_write_status:ok\r\n"
                 "module_fork_in_progress:0\r\nmodule_fork_last_cow_size:0\r\n",
                 server.dirty, (long long)server.lastsave);
    }
    if (wants("stats", req, nreq)) {
        serverStats *s = &server.stat;
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Stats\r\ntotal_connections_received:%llu\r\ntotal_commands_processed:%llu\r\n"
                 "instantaneous_ops_per_sec:0\r\ntotal_net_input_bytes:%llu\r\ntotal_net_output_bytes:%llu\r\n"
                 "total_net_repl_input_bytes:0\r\ntotal_net_repl_output_bytes:0\r\n"
                 "instantaneous_input_kbps:0.00\r\ninstantaneous_output_kbps:0.00\r\n"
                 "rejected_connections:%llu\r\nsync_full:0\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n"
                 "expired_keys:%llu\r\nexpired_stale_perc:0.00\r\nexpired_time_cap_reached_count:%llu\r\n"
                 "expire_cycle_cpu_milliseconds:0\r\nevicted_keys:%llu\r\nevicted_clients:0\r\n"
                 "total_eviction_exceeded_time:0\r\ncurrent_eviction_exceeded_time:0\r\n"
                 "keyspace_hits:%llu\r\nkeyspace_misses:%llu\r\npubsub_channels:%zu\r\npubsub_patterns:%zu\r\n"
                 "pubsubshard_channels:%zu\r\nlatest_fork_usec:0\r\ntotal_forks:0\r\nmigrate_cached_sockets:0\r\n"
                 "slave_expires_tracked_keys:0\r\nactive_defrag_hits:0\r\nactive_defrag_misses:0\r\n"
                 "active_defrag_key_hits:0\r\nactive_defrag_key_misses:0\r\ntotal_active_defrag_time:0\r\n"
                 "current_active_defrag_time:0\r\ntracking_total_keys:0\r\ntracking_total_items:0\r\n"
                 "tracking_total_prefixes:0\r\nunexpected_error_replies:%llu\r\ntotal_error_replies:%llu\r\n"
                 "dump_payload_sanitizations:0\r\ntotal_reads_processed:%llu\r\ntotal_writes_processed:%llu\r\n"
                 "io_threaded_reads_processed:0\r\nio_threaded_writes_processed:0\r\n"
                 "client_query_buffer_limit_disconnections:%llu\r\nclient_output_buffer_limit_disconnections:%llu\r\n"
                 "reply_buffer_shrinks:0\r\nreply_buffer_expands:0\r\ntombstones:%lld\r\n"
                 "peer_deltas_sent:%llu\r\npeer_deltas_received:%llu\r\npeer_bytes_sent:%llu\r\n"
                 "peer_bytes_received:%llu\r\nanti_entropy_rounds:%llu\r\nanti_entropy_keys_repaired:%llu\r\nanti_entropy_keys_deferred:%llu\r\n"
                 "peer_records_refused:%llu\r\n",
                 (unsigned long long)s->numconnections, (unsigned long long)s->numcommands,
                 (unsigned long long)s->netInputBytes, (unsigned long long)s->netOutputBytes,
                 (unsigned long long)s->rejectedConn, (unsigned long long)s->expiredkeys,
                 (unsigned long long)s->expiredTimeCapReached, (unsigned long long)s->evictedkeys,
                 (unsigned long long)s->keyspaceHits, (unsigned long long)s->keyspaceMisses,
                 pubsubTotalChannels(), pubsubTotalPatterns(), pubsubTotalShardChannels(), (unsigned long long)s->unexpectedErrorReplies,
                 (unsigned long long)s->totalErrorReplies, (unsigned long long)s->totalReadsProcessed,
                 (unsigned long long)s->totalWritesProcessed, (unsigned long long)s->clientQbufLimitDisconnections,
                 (unsigned long long)s->clientOutbufLimitDisconnections, dbTotalTombstones(),
                 (unsigned long long)peerStat.deltasSent, (unsigned long long)peerStat.deltasReceived,
                 (unsigned long long)peerStat.bytesSent, (unsigned long long)peerStat.bytesReceived,
                 (unsigned long long)peerStat.aeRounds, (unsigned long long)peerStat.aeKeysRepaired,
                 (unsigned long long)peerStat.aeKeysDeferred, (unsigned long long)peerStat.recordsRefused);
    }
    if (wants("replication", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nconnected_peers:%d\r\n", peerOnlineCount());
        int n = 0;
        for (peer *p = peerList(); p; p = p->next, n++) {
            long long lag = p->state == PEER_ONLINE ? (long long)(server.mstime - p->lastRecvMs) : (long long)(server.mstime - p->downSinceMs);
            sbPrintf(b, "peer%d:id=%016llx,addr=%s:%d,state=%s,lag_ms=%lld\r\n", n, (unsigned long long)p->id,
                     p->host, p->port, peerStateName(p->state), lag < 0 ? 0 : lag);
        }
        sbPrintf(b, "master_failover_state:no-failover\r\nmaster_replid:%s\r\n"
                 "master_replid2:0000000000000000000000000000000000000000\r\nmaster_repl_offset:0\r\n"
                 "second_repl_offset:-1\r\nrepl_backlog_active:0\r\nrepl_backlog_size:1048576\r\n"
                 "repl_backlog_first_byte_offset:0\r\nrepl_backlog_histlen:0\r\n",
                 server.runid);
    }
    if (wants("cpu", req, nreq)) {
        struct rusage self, kids;
        getrusage(RUSAGE_SELF, &self);
        getrusage(RUSAGE_CHILDREN, &kids);
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# CPU\r\nused_cpu_sys:%ld.%06ld\r\nused_cpu_user:%ld.%06ld\r\nused_cpu_sys_children:%ld.%06ld\r\n"
                 "used_cpu_user_children:%ld.%06ld\r\nused_cpu_sys_main_thread:%ld.%06ld\r\n"
                 "used_cpu_user_main_thread:%ld.%06ld\r\n",
                 (long)self.ru_stime.tv_sec, (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec,
                 (long)self.ru_utime.tv_usec, (long)kids.ru_stime.tv_sec, (long)kids.ru_stime.tv_usec,
                 (long)kids.ru_utime.tv_sec, (long)kids.ru_utime.tv_usec, (long)self.ru_stime.tv_sec,
                 (long)self.ru_stime.tv_usec, (long)self.ru_utime.tv_sec, (long)self.ru_utime.tv_usec);
    }
    if (wants("modules", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Modules\r\n");
    }
    if (wants("commandstats", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Commandstats\r\n");
        /* A container has a line of its own when it was called or refused
         * itself (COMMAND, CONFIG with no subcommand), then its subcommands. */
        command *t = commandTable();
        for (size_t i = 0; i < commandTableSize(); i++) {
            commandStatLine(b, &t[i]);
            for (command *s = t[i].subcommands; s && s->name; s++) commandStatLine(b, s);
        }
    }
    if (wants("errorstats", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Errorstats\r\n");
        for (size_t i = 0; i < errorStatsCount(); i++) {
            uint64_t count;
            const char *name = errorStatsName(i, &count);
            sbPrintf(b, "errorstat_%s:count=%llu\r\n", name, (unsigned long long)count);
        }
    }
    if (wants("latencystats", req, nreq)) {
        /* Redis prints latency_percentiles_usec_<cmd>:p50=...,p99=...,p99.9=...
         * per command called; lattice keeps no latency histograms yet, so the
         * section is only its header. */
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Latencystats\r\n");
    }
    if (wants("cluster", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Cluster\r\ncluster_enabled:0\r\n");
    }
    if (wants("keyspace", req, nreq)) {
        if (sections++) sbPrintf(b, "\r\n");
        sbPrintf(b, "# Keyspace\r\n");
        for (int i = 0; i < dbCount(); i++) {
            db *d = dbAt(i);
            uint64_t keys = dictSize(&d->keys);
            if (!keys) continue;
            sbPrintf(b, "db%d:keys=%llu,expires=%llu,avg_ttl=%lld\r\n", i, (unsigned long long)keys,
                     (unsigned long long)(dictSize(&d->expires) - (uint64_t)d->persisted), d->avgTtl);
        }
    }
}

void infoCommand(client *c) {
    char **req = NULL;
    int nreq = c->argc - 1;
    if (nreq) {
        req = malloc(sizeof(char *) * (size_t)nreq);
        for (int i = 0; i < nreq; i++) req[i] = strndup(c->argv[i + 1].p, c->argv[i + 1].len);
    }
    sbuf b = {malloc(4096), 0, 4096};
    genInfo(&b, req, nreq);
    addReplyVerbatim(c, b.p, b.len, "txt");
    free(b.p);
    for (int i = 0; i < nreq; i++) free(req[i]);
    free(req);
}

/* ---------- small server commands ---------- */

void timeCommand(client *c) {
    int64_t us = ustime();
    addReplyArrayLen(c, 2);
    addReplyBulkLongLong(c, us / 1000000);
    addReplyBulkLongLong(c, us % 1000000);
}

void lastsaveCommand(client *c) { addReplyLongLong(c, server.lastsave); }

void saveCommand(client *c) {
    server.lastsave = server.mstime / 1000;
    server.dirty = 0;
    addReplyOK(c);
}

void bgsaveCommand(client *c) {
    server.lastsave = server.mstime / 1000;
    server.dirty = 0;
    addReplyStatus(c, "Background saving started");
}

void shutdownCommand(client *c) {
    for (int j = 1; j < c->argc; j++) {
        arg *a = &c->argv[j];
        if (!argEq(a, "nosave") && !argEq(a, "save") && !argEq(a, "now") && !argEq(a, "force") &&
            !argEq(a, "abort")) {
            addReplyErrorSyntax(c);
            return;
        }
        if (argEq(a, "abort")) {
            addReplyError(c, "ERR No shutdown in progress.");
            return;
        }
    }
    serverLog(LL_WARNING, "User requested shutdown...");
    prepareShutdown(0);
}

void functionFlushCommand(client *c) {
    if (c->argc > 3 || (c->argc == 3 && !argEq(&c->argv[2], "sync") && !argEq(&c->argv[2], "async"))) {
        addReplyError(c, "ERR FUNCTION FLUSH only supports SYNC|ASYNC option");
        return;
    }
    addReplyOK(c);
}

void functionHelpCommand(client *c) {
    static const char *help[] = {
        "FLUSH [ASYNC|SYNC]",
        "    Delete all the libraries. lattice has no functions: the library is always empty.",
        NULL};
    addReplyHelp(c, help);
}

void memoryUsageCommand(client *c) {
    kv *k = lookupKeyNoTouch(c->db, c->argv[2].p, c->argv[2].len);
    if (!k) {
        addReplyNull(c);
        return;
    }
    size_t n = sizeof(kv) + k->keylen + 8 + kvValueMemory(k);
    addReplyLongLong(c, (long long)n);
}

void memoryHelpCommand(client *c) {
    static const char *help[] = {
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        NULL};
    addReplyHelp(c, help);
}

void waitCommand(client *c) {
    long long n, t;
    if (getLongLongFromArg(c, &c->argv[1], &n, NULL) < 0) return;
    if (getLongLongFromArg(c, &c->argv[2], &t, "ERR timeout is not an integer or out of range") < 0) return;
    addReplyLongLong(c, 0);
}

void lolwutCommand(client *c) {
    char buf[128];
    int n = snprintf(buf, sizeof(buf), "lattice ver. %s\n", LATTICE_OWN_VERSION);
    addReplyVerbatim(c, buf, (size_t)n, "txt");
}

void readonlyCommand(client *c) { addReplyError(c, "ERR This instance has cluster support disabled"); }

/* ---------- DEBUG ---------- */

static int activeExpireEnabled = 1;
int debugActiveExpireEnabled(void) { return activeExpireEnabled; }


/* DEBUG PROTOCOL <type>: one reply of each RESP type, for client tests, as
 * Redis 7.0 sends them (RESP2 gets each type's RESP2 form; a push has none). */
static void debugProtocol(client *c, const arg *type) {
    if (argEq(type, "string")) {
        addReplyBulkCString(c, "Hello World");
    } else if (argEq(type, "integer")) {
        addReplyLongLong(c, 12345);
    } else if (argEq(type, "double")) {
        addReplyDouble(c, 3.141);
    } else if (argEq(type, "bignum")) {
        static const char big[] = "1234567999999999999999999999999999999";
        addReplyBigNum(c, big, sizeof(big) - 1);
    } else if (argEq(type, "null")) {
        addReplyNull(c);
    } else if (argEq(type, "array")) {
        addReplyArrayLen(c, 3);
        for (int j = 0; j < 3; j++) addReplyLongLong(c, j);
    } else if (argEq(type, "set")) {
        addReplySetLen(c, 3);
        for (int j = 0; j < 3; j++) addReplyLongLong(c, j);
    } else if (argEq(type, "map")) {
        addReplyMapLen(c, 3);
        for (int j = 0; j < 3; j++) {
            addReplyLongLong(c, j);
            addReplyBool(c, j == 1);
        }
    } else if (argEq(type, "attrib")) {
        if (c->resp >= 3) {
            addReplyAttributeLen(c, 1);
            addReplyBulkCString(c, "key-popularity");
            addReplyArrayLen(c, 2);
            addReplyBulkCString(c, "key:123");
            addReplyLongLong(c, 90);
        }
        /* An attribute is no reply by itself: a real one follows. */
        addReplyBulkCString(c, "Some real reply following the attribute");
    } else if (argEq(type, "push")) {
        if (c->resp < 3) {
            addReplyError(c, "ERR RESP2 is not supported by this command");
            return;
        }
        addReplyPushLen(c, 2);
        addReplyBulkCString(c, "server-cpu-usage");
        addReplyLongLong(c, 42);
        /* A push is out of band: the command's reply follows. */
        addReplyBulkCString(c, "Some real reply following the push reply");
    } else if (argEq(type, "verbatim")) {
        static const char text[] = "This is a verbatim\nstring";
        addReplyVerbatim(c, text, sizeof(text) - 1, "txt");
    } else if (argEq(type, "true")) {
        addReplyBool(c, 1);
    } else if (argEq(type, "false")) {
        addReplyBool(c, 0);
    } else {
        addReplyError(c, "ERR Wrong protocol type name. Please use one of the following: "
                         "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false");
    }
}

/* a as a C string in buf (cut to fit), for the libc parsers Redis uses. */
static void argToCString(const arg *a, char *buf, size_t size) {
    size_t n = a->len < size - 1 ? a->len : size - 1;
    memcpy(buf, a->p, n);
    buf[n] = '\0';
}

/* DEBUG SLEEP <seconds>: read as strtod does (Redis's way), so anything that
 * is not a number sleeps 0 seconds and still answers OK. */
static void debugSleep(client *c, const arg *a) {
    char buf[64];
    argToCString(a, buf, sizeof(buf));
    double secs = strtod(buf, NULL);
    /* Negative, NaN or beyond any sensible sleep: Redis's nanosleep fails at
     * once on what these convert to, so they do not sleep either. */
    if (secs > 0 && secs < 1e12) {
        long long us = (long long)(secs * 1000000);
        struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
        nanosleep(&ts, NULL);
    }
    updateCachedTime();
    addReplyOK(c);
}

void debugCommand(client *c) {
    arg *sub = &c->argv[1];
    if (argEq(sub, "help") && c->argc == 2) {
        static const char *help[] = {
            "DIGEST",
            "    Output a hex signature representing the current DB content.",
            "DIGEST-VALUE <key> [<key> ...]",
            "    Output a hex signature of the values of all the specified keys.",
            "OBJECT <key>",
            "    Show low level info about `key` and associated value.",
            "PROTOCOL <type>",
            "    Reply with a test value of the specified type. <type> can be: string,",
            "    integer, double, bignum, null, array, set, map, attrib, push, verbatim,",
            "    true, false.",
            "SET-ACTIVE-EXPIRE <0|1>",
            "    Setting it to 0 disables expiring keys in background when they are not",
            "    accessed (otherwise the Redis behavior). Setting it to 1 reenables back the",
            "    default.",
            "QUICKLIST-PACKED-THRESHOLD <size>",
            "    Accepted and ignored: lattice has no quicklists.",
            "SLEEP <seconds>",
            "    Stop the server for <seconds>. Decimals allowed.",
            "CLOCK-SKEW <ms>",
            "    lattice: stamp this node's writes as if its clock were <ms> ahead (tests",
            "    the refusal of stamps too far ahead by peers). 0 restores it.",
            NULL};
        addReplyHelp(c, help);
    } else if (argEq(sub, "sleep") && c->argc == 3) {
        debugSleep(c, &c->argv[2]);
    } else if (argEq(sub, "clock-skew") && c->argc == 3) {
        long long ms;
        if (getLongLongFromArg(c, &c->argv[2], &ms, NULL) < 0) return;
        server.clockSkewMs = ms;
        addReplyOK(c);
    } else if (argEq(sub, "set-active-expire") && c->argc == 3) {
        char buf[32];
        argToCString(&c->argv[2], buf, sizeof(buf));
        activeExpireEnabled = atoi(buf) != 0;   /* atoi, as Redis */
        addReplyOK(c);
    } else if (argEq(sub, "digest") && c->argc == 2) {
        char hex[41];
        dbDigest(hex);
        addReplyStatus(c, hex);
    } else if (argEq(sub, "digest-value")) {
        addReplyArrayLen(c, c->argc - 2);
        for (int j = 2; j < c->argc; j++) {
            char hex[41];
            dbDigestKey(c->db, c->argv[j].p, c->argv[j].len, hex);
            addReplyStatus(c, hex);
        }
    } else if (argEq(sub, "object") && c->argc == 3) {
        kv *k = lookupKeyNoTouch(c->db, c->argv[2].p, c->argv[2].len);
        if (!k) {
            addReplyError(c, "ERR no such key");
            return;
        }
        char buf[256];
        snprintf(buf, sizeof(buf), "Value at:%p refcount:1 encoding:%s serializedlength:0 lru:%u lru_seconds_idle:%u",
                 (void *)k, kvEncodingName(k), k->lru,
                 (server.lruclock - k->lru) & 0xffffff);
        addReplyStatus(c, buf);
    } else if (argEq(sub, "protocol") && c->argc == 3) {
        debugProtocol(c, &c->argv[2]);
    } else if (argEq(sub, "quicklist-packed-threshold") && c->argc == 3) {
        unsigned long long sz;
        if (!memtoull(c->argv[2].p, c->argv[2].len, &sz) || sz > (1ULL << 32) - (1ULL << 20))
            addReplyError(c, "ERR argument must be a memory value bigger than 1 and smaller than 4gb");
        else
            addReplyOK(c);
    } else if ((argEq(sub, "listpack") && c->argc == 3) || (argEq(sub, "replybuffer") && c->argc == 4) ||
               (argEq(sub, "set-disable-deny-scripts") && c->argc == 3)) {
        addReplyOK(c);
    } else if (argEq(sub, "reload") || argEq(sub, "loadaof")) {
        addReplyError(c, "ERR DEBUG RELOAD is not supported: lattice has no persistence yet");
    } else {
        addReplyErrorFormat(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try DEBUG HELP.",
                            (int)(sub->len > 128 ? 128 : sub->len), sub->p);
    }
}
