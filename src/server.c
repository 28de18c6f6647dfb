/* server.c - process start-up and the loop's timers: reads the configuration,
 * binds, starts libev, and runs cron (expiry, timeouts, rehashing, tombstone
 * collection).  Holds the HLC and the node id.  Commands live elsewhere. */
#include "server.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "introspect.h"
#include "multi.h"
#include "networking.h"
#include "peer.h"
#include "pubsub.h"
#include "sync.h"
#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct server server;

static ev_timer cronTimer;
static ev_signal sigtermWatcher, sigintWatcher;

int64_t ustime(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000000 + tv.tv_usec;
}

int64_t mstime(void) { return ustime() / 1000; }

void updateCachedTime(void) { updateCachedTimeWith(ustime()); }

void updateCachedTimeWith(int64_t us) {
    server.ustime = us;
    server.mstime = us / 1000;
    server.lruclock = (uint32_t)((server.mstime / 1000) & 0xffffff);
}

version nextVersion(void) {
    version v;
    /* the cached clock: call() refreshes it before each command */
    v.stamp = hlcNow(&server.clock, (uint64_t)(server.mstime + server.clockSkewMs));
    v.node = server.nodeId;
    return v;
}

static uint64_t rngState[2];

/* xorshift128+: fast, not cryptographic; seeded from /dev/urandom. */
uint64_t randomU64(void) {
    uint64_t s1 = rngState[0];
    const uint64_t s0 = rngState[1];
    rngState[0] = s0;
    s1 ^= s1 << 23;
    rngState[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return rngState[1] + s0;
}

static void seedRandom(void) {
    int fd = open("/dev/urandom", O_RDONLY);
    if (fd < 0 || read(fd, rngState, sizeof(rngState)) != sizeof(rngState)) {
        rngState[0] = (uint64_t)ustime() ^ (uint64_t)getpid();
        rngState[1] = rngState[0] * 0x9E3779B97F4A7C15ULL + 1;
    }
    if (fd >= 0) close(fd);
    if (!rngState[0] && !rngState[1]) rngState[1] = 1;
}

size_t usedMemory(void) {
    struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
}

void serverLog(int level, const char *fmt, ...) {
    if (level < cfg.loglevel) return;
    char msg[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    struct timeval tv;
    gettimeofday(&tv, NULL);
    char ts[64];
    struct tm tm;
    localtime_r(&tv.tv_sec, &tm);
    size_t off = strftime(ts, sizeof(ts), "%d %b %Y %H:%M:%S.", &tm);
    snprintf(ts + off, sizeof(ts) - off, "%03d", (int)(tv.tv_usec / 1000));
    const char *marks = ".-*#";
    FILE *out = stdout;
    int opened = 0;
    if (cfg.logfile && cfg.logfile[0]) {
        out = fopen(cfg.logfile, "a");
        if (!out) return;
        opened = 1;
    }
    fprintf(out, "%d:M %s %c %s\n", (int)getpid(), ts, marks[level & 3], msg);
    fflush(out);
    if (opened) fclose(out);
}

void prepareShutdown(int exitCode) {
    server.shutdownAsap = 1;
    server.shutdownExitCode = exitCode;
    ev_break(server.loop, EVBREAK_ALL);
}

static void closeTimedoutClients(void) {
    if (cfg.timeout <= 0) return;
    int64_t now = server.mstime / 1000;
    client *c = clientList();
    while (c) {
        client *next = c->next;
        if (!(c->flags & (CLIENT_PUBSUB | CLIENT_MONITOR | CLIENT_PAUSED)) &&
            now - c->lastinteraction > cfg.timeout) {
            serverLog(LL_VERBOSE, "Closing idle client");
            freeClient(c);
        }
        c = next;
    }
}

/* Runs cfg.hz times a second. */
static void cron(struct ev_loop *loop, ev_timer *w, int revents) {
    (void)loop; (void)revents;
    updateCachedTime();
    int64_t budget = 25000 / (cfg.hz ? cfg.hz : 10) * (int64_t)cfg.activeExpireEffort;
    activeExpireCycle(budget);
    closeTimedoutClients();
    pauseCron();
    dbCron();
    syncCron();
    size_t mem = usedMemory();
    if (mem > server.statPeakMemory) server.statPeakMemory = mem;
    double interval = 1.0 / (double)(cfg.hz ? cfg.hz : 10);
    w->repeat = interval;
    ev_timer_again(server.loop, w);
}

static void onSignal(struct ev_loop *loop, ev_signal *w, int revents) {
    (void)loop; (void)revents;
    serverLog(LL_WARNING, "Received %s scheduling shutdown...", w->signum == SIGINT ? "SIGINT" : "SIGTERM");
    prepareShutdown(0);
}

/* Wall clock and loop time are refreshed before each batch of events. */
static ev_check timeRefresh;
static void refreshTime(struct ev_loop *loop, ev_check *w, int revents) {
    (void)loop; (void)w; (void)revents;
    updateCachedTime();
}
static ev_prepare timeRefreshPrep;
static void refreshTimePrep(struct ev_loop *loop, ev_prepare *w, int revents) {
    (void)loop; (void)w; (void)revents;
}

static void usage(void) {
    fprintf(stderr,
            "Usage: ./lattice-server [/path/to/lattice.conf] [options]\n"
            "       ./lattice-server -v or --version\n"
            "       ./lattice-server -h or --help\n\n"
            "Examples:\n"
            "       ./lattice-server (run the server with default conf)\n"
            "       ./lattice-server /etc/lattice/6379.conf\n"
            "       ./lattice-server --port 7777\n"
            "       ./lattice-server /etc/mylattice.conf --loglevel verbose\n");
    exit(1);
}

/* "--port 7000 --bind a b" becomes "port 7000\nbind a b\n", quoting each argument. */
static char *argsToConfig(int argc, char **argv, int start) {
    size_t cap = 256, len = 0;
    char *out = malloc(cap);
    if (!out) abort();
    out[0] = '\0';
    for (int i = start; i < argc; i++) {
        const char *a = argv[i];
        int directive = a[0] == '-' && a[1] == '-' && a[2];
        size_t need = strlen(a) * 4 + 8;
        while (cap - len < need) out = realloc(out, cap *= 2);
        if (directive) {
            if (len) out[len++] = '\n';
            len += (size_t)sprintf(out + len, "%s", a + 2);
        } else {
            out[len++] = ' ';
            out[len++] = '"';
            for (const char *p = a; *p; p++) {
                if (*p == '"' || *p == '\\') out[len++] = '\\';
                out[len++] = *p;
            }
            out[len++] = '"';
        }
        out[len] = '\0';
    }
    return out;
}

int main(int argc, char **argv) {
    seedRandom();
    updateCachedTime();
    configInitDefaults();
    int argstart = 1;
    if (argc >= 2) {
        if (!strcmp(argv[1], "-v") || !strcmp(argv[1], "--version")) {
            printf("lattice server v=%s (Redis protocol %s)\n", LATTICE_OWN_VERSION, LATTICE_VERSION);
            return 0;
        }
        if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) usage();
        if (argv[1][0] != '-') {
            char err[512];
            char *path = realpath(argv[1], NULL);
            server.configFile = path ? path : strdup(argv[1]);
            if (configLoadFile(argv[1], err, sizeof(err)) < 0) {
                fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR ***\n%s\n", err);
                return 1;
            }
            argstart = 2;
        }
    }
    if (argstart < argc) {
        char *text = argsToConfig(argc, argv, argstart);
        char err[512];
        if (configLoadText(text, err, sizeof(err)) < 0) {
            fprintf(stderr, "\n*** FATAL CONFIG FILE ERROR ***\n%s\n", err);
            return 1;
        }
        free(text);
    }
    if (cfg.dir && cfg.dir[0] && chdir(cfg.dir) < 0) {
        fprintf(stderr, "Can't chdir to '%s': %s\n", cfg.dir, strerror(errno));
        return 1;
    }
    signal(SIGPIPE, SIG_IGN);
    server.executable = argv[0];
    server.startTime = server.mstime / 1000;
    server.lastsave = server.startTime;
    server.nodeId = randomU64();
    for (int i = 0; i < 40; i++) server.runid[i] = "0123456789abcdef"[randomU64() & 15];
    server.runid[40] = '\0';
    hlcInit(&server.clock, (uint64_t)cfg.maxClockSkewMs);
    server.loop = ev_default_loop(EVFLAG_AUTO);

    dbInitAll(cfg.databases);
    commandsInit();
    multiInit();
    pubsubInit();
    slowlogInit();
    netInit();
    syncInit();

    char err[512];
    for (int i = 0; i < cfg.bindCount; i++) {
        if (netListen(cfg.bind[i], cfg.port, err, sizeof(err)) < 0) {
            serverLog(LL_WARNING, "Warning: %s", err);
            serverLog(LL_WARNING, "Failed listening on port %d (tcp), aborting.", cfg.port);
            return 1;
        }
    }
    if (cfg.unixsocket && cfg.unixsocket[0] && netListen(cfg.unixsocket, 0, err, sizeof(err)) < 0) {
        serverLog(LL_WARNING, "%s", err);
        return 1;
    }
    if (cfg.pidfile && cfg.pidfile[0]) {
        FILE *f = fopen(cfg.pidfile, "w");
        if (f) {
            fprintf(f, "%d\n", (int)getpid());
            fclose(f);
        }
    }

    ev_timer_init(&cronTimer, cron, 0.1, 0.1);
    ev_timer_start(server.loop, &cronTimer);
    ev_signal_init(&sigtermWatcher, onSignal, SIGTERM);
    ev_signal_start(server.loop, &sigtermWatcher);
    ev_signal_init(&sigintWatcher, onSignal, SIGINT);
    ev_signal_start(server.loop, &sigintWatcher);
    ev_check_init(&timeRefresh, refreshTime);
    ev_check_start(server.loop, &timeRefresh);
    ev_prepare_init(&timeRefreshPrep, refreshTimePrep);

    serverLog(LL_NOTICE, "lattice %s starting, node id %016llx, port %d", LATTICE_OWN_VERSION,
              (unsigned long long)server.nodeId, cfg.port);
    serverLog(LL_NOTICE, "Ready to accept connections tcp");
    peerInit();                 /* replicaof from the config or command line */

    ev_run(server.loop, 0);

    netFlushAll();
    netCloseListeners();
    if (cfg.pidfile && cfg.pidfile[0]) unlink(cfg.pidfile);
    serverLog(LL_WARNING, "lattice is now ready to exit, bye bye...");
    return server.shutdownExitCode;
}
