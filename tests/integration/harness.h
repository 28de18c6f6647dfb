/* harness.h - what every integration test shares: starting and stopping a
 * server on a free port, plain assertions that count and print file:line,
 * rendering hiredis replies to one comparable line, and raw sockets with a
 * RESP2/RESP3 framer for tests that need byte-exact replies.
 *
 * Header-only (every function static inline) so that tests/Makefile can build
 * each test source in tests/integration on its own.  The server under test is
 * $LATTICE_SERVER (tests/Makefile sets it); pointing it at a redis-server 7.0
 * checks the tests themselves against the reference.  Every process a test
 * starts is killed on exit, on a fatal signal and, through PR_SET_PDEATHSIG,
 * when the test process dies in a way that runs no handler. */
#ifndef LATTICE_INTEGRATION_HARNESS_H
#define LATTICE_INTEGRATION_HARNESS_H

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ */
/* Growing string buffer                                                */

typedef struct hbuf {
    char *p;
    size_t len, cap;
} hbuf;

static inline void hbufCat(hbuf *b, const char *s, size_t n) {
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1) cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p) abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static inline void hbufPrintf(hbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline void hbufPrintf(hbuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (n < (int)sizeof(tmp)) {
        hbufCat(b, tmp, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    hbufCat(b, big, (size_t)n);
    free(big);
}

/* Appends s[0..n) with \r \n \t \" \\ and non-printable bytes escaped. */
static inline void hbufCatEscaped(hbuf *b, const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)s[i];
        char e[8];
        if (ch == '\r') hbufCat(b, "\\r", 2);
        else if (ch == '\n') hbufCat(b, "\\n", 2);
        else if (ch == '\t') hbufCat(b, "\\t", 2);
        else if (ch == '"' || ch == '\\') {
            e[0] = '\\', e[1] = (char)ch;
            hbufCat(b, e, 2);
        } else if (ch < 32 || ch >= 127) {
            snprintf(e, sizeof(e), "\\x%02x", ch);
            hbufCat(b, e, 4);
        } else hbufCat(b, (const char *)&ch, 1);
    }
}

/* Strings handed out by the harness live in a ring, so that a test can use a
 * few of them at once without freeing anything. */
static inline char *hRing(const char *s, size_t n) {
    static char *ring[32];
    static unsigned next;
    unsigned i = next++ % 32;
    free(ring[i]);
    ring[i] = malloc(n + 1);
    if (!ring[i]) abort();
    memcpy(ring[i], s, n);
    ring[i][n] = '\0';
    return ring[i];
}

static inline char *hEscape(const char *s, size_t n) {
    hbuf b = {0};
    hbufCat(&b, "", 0);
    hbufCatEscaped(&b, s, n);
    char *r = hRing(b.p, b.len);
    free(b.p);
    return r;
}

/* ------------------------------------------------------------------ */
/* Results                                                              */

static struct {
    int passed, failed;
    const char *section;
    char last[256]; /* the last command sent, for the report of a server death */
} H;

static inline void hSection(const char *name) {
    H.section = name;
    printf("-- %s\n", name);
    fflush(stdout);
}

static inline int hReport(const char *file, int line, int ok, const char *what, const char *expected,
                          const char *actual) {
    if (ok) {
        H.passed++;
        return 1;
    }
    H.failed++;
    printf("FAIL %s:%d [%s] %s\n    expected: %s\n    actual:   %s\n", file, line, H.section ? H.section : "",
           what ? what : "", expected ? expected : "(null)", actual ? actual : "(null)");
    fflush(stdout);
    return 0;
}

/* The harness itself cannot go on (no port, no binary, no server): count it
 * as a failure and end with the summary line all the same. */
static inline void hBail(const char *why) {
    H.failed++;
    printf("FAIL harness: %s\n%d passed, %d failed\n", why, H.passed, H.failed);
    fflush(stdout);
    exit(1);
}

#define CHECK(cond) hReport(__FILE__, __LINE__, (cond) ? 1 : 0, #cond, "true", "false")
#define CHECK_MSG(cond, ...)                                                                                   \
    do {                                                                                                       \
        char msg__[512];                                                                                       \
        snprintf(msg__, sizeof(msg__), __VA_ARGS__);                                                           \
        hReport(__FILE__, __LINE__, (cond) ? 1 : 0, #cond, "true", msg__);                                     \
    } while (0)
#define CHECK_STR(actual, expected)                                                                            \
    do {                                                                                                       \
        const char *a__ = (actual), *e__ = (expected);                                                         \
        hReport(__FILE__, __LINE__, a__ && e__ && strcmp(a__, e__) == 0, #actual, e__, a__);                    \
    } while (0)
#define CHECK_INT(actual, expected)                                                                            \
    do {                                                                                                       \
        long long a__ = (long long)(actual), e__ = (long long)(expected);                                      \
        char as__[32], es__[32];                                                                               \
        snprintf(as__, sizeof(as__), "%lld", a__);                                                             \
        snprintf(es__, sizeof(es__), "%lld", e__);                                                             \
        hReport(__FILE__, __LINE__, a__ == e__, #actual, es__, as__);                                           \
    } while (0)
#define CHECK_RANGE(actual, lo, hi)                                                                            \
    do {                                                                                                       \
        long long a__ = (long long)(actual), l__ = (long long)(lo), h__ = (long long)(hi);                     \
        char as__[32], es__[64];                                                                               \
        snprintf(as__, sizeof(as__), "%lld", a__);                                                             \
        snprintf(es__, sizeof(es__), "%lld..%lld", l__, h__);                                                  \
        hReport(__FILE__, __LINE__, a__ >= l__ && a__ <= h__, #actual, es__, as__);                             \
    } while (0)

/* ------------------------------------------------------------------ */
/* Processes                                                            */

#define H_MAX_SERVERS 16

typedef struct hserver {
    pid_t pid;
    int port;
    int exited;       /* reaped: status below is valid */
    int status;
    char log[512];    /* its stdout and stderr */
    char bin[512];
} hserver;

static hserver *hServers[H_MAX_SERVERS];
static char hTmpDir[256];

static inline void hKillAll(void) {
    for (int i = 0; i < H_MAX_SERVERS; i++) {
        hserver *s = hServers[i];
        if (s && s->pid > 0 && !s->exited) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, NULL, 0);
            s->exited = 1;
        }
    }
}

static inline void hRemoveTmpDir(void) {
    if (!hTmpDir[0]) return;
    char cmd[400];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", hTmpDir);
    if (system(cmd) != 0) { /* best effort */ }
    hTmpDir[0] = '\0';
}

static inline void hAtExit(void) {
    hKillAll();
    hRemoveTmpDir();
}

/* Only async-signal-safe calls: kill, waitpid, fork, execve, write. */
static inline void hFatalSignal(int sig) {
    for (int i = 0; i < H_MAX_SERVERS; i++)
        if (hServers[i] && hServers[i]->pid > 0 && !hServers[i]->exited) {
            kill(hServers[i]->pid, SIGKILL);
            waitpid(hServers[i]->pid, NULL, 0);
        }
    if (hTmpDir[0]) {
        pid_t rm = fork();
        if (rm == 0) {
            char *const argv[] = {"/bin/rm", "-rf", hTmpDir, NULL};
            char *const envp[] = {NULL};
            execve("/bin/rm", argv, envp);
            _exit(127);
        }
        if (rm > 0) waitpid(rm, NULL, 0);
    }
    if (sig == SIGALRM) {
        static const char m[] = "FAIL: test timed out (alarm), servers killed\n";
        if (write(1, m, sizeof(m) - 1) < 0) { /* nothing to do */ }
    }
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Called first by every test: cleanup hooks, a global time limit, a
 * scratch directory, and no SIGPIPE (closed sockets are part of the tests). */
static inline void hInit(int timeoutSeconds) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    atexit(hAtExit);
    int sigs[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGSEGV, SIGABRT, SIGBUS, SIGFPE, SIGALRM};
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++) signal(sigs[i], hFatalSignal);
    signal(SIGPIPE, SIG_IGN);
    alarm((unsigned)timeoutSeconds);
    snprintf(hTmpDir, sizeof(hTmpDir), "/tmp/lattice-itest-XXXXXX");
    if (!mkdtemp(hTmpDir)) {
        hBail("mkdtemp failed");
    }
}

/* Prints the required last line and returns the exit code. */
static inline int hDone(void) {
    printf("%d passed, %d failed\n", H.passed, H.failed);
    fflush(stdout);
    return H.failed ? 1 : 0;
}

static inline int hIsExecutable(const char *p) { return p && access(p, X_OK) == 0; }

/* The server under test: $LATTICE_SERVER, else src/lattice-server found from
 * the usual working directories. */
static inline const char *hLatticeBin(void) {
    const char *e = getenv("LATTICE_SERVER");
    if (e && *e) return e;
    static const char *guesses[] = {"../src/lattice-server", "src/lattice-server", "../../src/lattice-server",
                                    "../../../src/lattice-server", NULL};
    for (int i = 0; guesses[i]; i++)
        if (hIsExecutable(guesses[i])) return guesses[i];
    return "../src/lattice-server";
}

/* The reference: $REDIS_SERVER, else redis-server from the usual places, or NULL. */
static inline const char *hRedisBin(void) {
    const char *e = getenv("REDIS_SERVER");
    if (e && *e) return e;
    static const char *guesses[] = {"/usr/bin/redis-server", "/usr/local/bin/redis-server", NULL};
    for (int i = 0; guesses[i]; i++)
        if (hIsExecutable(guesses[i])) return guesses[i];
    return NULL;
}

static inline int hBinIsRedis(const char *bin) {
    const char *base = strrchr(bin, '/');
    base = base ? base + 1 : bin;
    return strstr(base, "redis") != NULL;
}

static inline int hFreePort(void) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;
    socklen_t l = sizeof(a);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || getsockname(fd, (struct sockaddr *)&a, &l) < 0) {
        hBail("no free port");
    }
    int port = ntohs(a.sin_port);
    close(fd);
    if (port == 6379) return hFreePort();
    return port;
}

/* CPU time server s has used so far, in milliseconds (user + system). */
static inline long long hServerCpuMs(const hserver *s) {
    char path[64], buf[1024];
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)s->pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    const char *p = strrchr(buf, ')'); /* the name may hold spaces */
    unsigned long long utime = 0, stime = 0;
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &utime, &stime) != 2) return -1;
    return (long long)((utime + stime) * 1000 / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static inline int hServerReaped(hserver *s) {
    if (s->exited) return 1;
    int st;
    pid_t r = waitpid(s->pid, &st, WNOHANG);
    if (r == s->pid) {
        s->exited = 1;
        s->status = st;
        return 1;
    }
    return 0;
}

/* Connects with a deadline; NULL and no leak if the server is not up. */
static inline redisContext *hConnectPort(int port) {
    struct timeval tv = {5, 0};
    redisContext *c = redisConnectWithTimeout("127.0.0.1", port, tv);
    if (!c) return NULL;
    if (c->err) {
        redisFree(c);
        return NULL;
    }
    struct timeval rt = {20, 0};
    redisSetTimeout(c, rt);
    return c;
}

static inline void hPrintLogTail(hserver *s) {
    FILE *f = fopen(s->log, "r");
    if (!f) return;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, sz > 2000 ? sz - 2000 : 0, SEEK_SET);
    char buf[2048];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    buf[n] = '\0';
    fclose(f);
    printf("---- server log tail (%s) ----\n%s\n----\n", s->log, buf);
}

/* Waits until the server answers PING with PONG (or -NOAUTH / -DENIED, which
 * also prove it is serving). Returns 0 when up. */
static inline int hWaitReady(hserver *s, int ms) {
    for (int waited = 0; waited < ms; waited += 10) {
        if (hServerReaped(s)) return -1;
        redisContext *c = hConnectPort(s->port);
        if (c) {
            redisReply *r = redisCommand(c, "PING");
            int ok = r && ((r->type == REDIS_REPLY_STATUS && strcmp(r->str, "PONG") == 0) ||
                           (r->type == REDIS_REPLY_ERROR &&
                            (strncmp(r->str, "NOAUTH", 6) == 0 || strncmp(r->str, "DENIED", 6) == 0)));
            if (r) freeReplyObject(r);
            redisFree(c);
            if (ok) return 0;
        }
        usleep(10000);
    }
    return -1;
}

/* Forks a server process: argv[0] run from the scratch directory with stdout
 * and stderr to log, stdin from /dev/null, killed if the test dies. */
static inline pid_t hSpawn(const char **argv, const char *log) {
    fflush(stdout);
    pid_t pid = fork();
    if (pid < 0) hBail("fork failed");
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd >= 0) {
            dup2(fd, 1);
            dup2(fd, 2);
            close(fd);
        }
        int devnull = open("/dev/null", O_RDONLY);
        if (devnull >= 0) dup2(devnull, 0);
        if (chdir(hTmpDir) != 0) _exit(126);
        /* run from the scratch directory: a relative bin must still resolve */
        execv(argv[0], (char *const *)argv);
        perror("harness: exec");
        _exit(127);
    }
    return pid;
}

/* Starts bin ([conf] --port P --bind B [extra...]) on a free port and waits
 * until it serves.  extra is NULL-terminated (or NULL).  A redis-server also
 * gets settings that keep it from writing files into the working directory.
 * Exits the test (status 2) if no server comes up after a few ports. */
static inline hserver *hStartServerEx(const char *bin, const char *conf, const char *bindAddr,
                                      const char *const *extra) {
    int slot = -1;
    for (int i = 0; i < H_MAX_SERVERS; i++)
        if (!hServers[i]) {
            slot = i;
            break;
        }
    if (slot < 0) {
        hBail("too many servers");
    }
    hserver *s = calloc(1, sizeof(*s));
    snprintf(s->bin, sizeof(s->bin), "%s", bin);
    hServers[slot] = s;
    for (int attempt = 0; attempt < 5; attempt++) {
        s->port = hFreePort();
        s->exited = 0;
        snprintf(s->log, sizeof(s->log), "%s/server-%d.log", hTmpDir, s->port);
        const char *argv[64];
        int argc = 0;
        char portStr[16];
        snprintf(portStr, sizeof(portStr), "%d", s->port);
        argv[argc++] = bin;
        if (conf) argv[argc++] = conf;
        argv[argc++] = "--port";
        argv[argc++] = portStr;
        argv[argc++] = "--bind";
        argv[argc++] = bindAddr ? bindAddr : "127.0.0.1";
        if (hBinIsRedis(bin)) {
            argv[argc++] = "--save";
            argv[argc++] = "";
            argv[argc++] = "--appendonly";
            argv[argc++] = "no";
            argv[argc++] = "--dir";
            argv[argc++] = hTmpDir;
            argv[argc++] = "--enable-debug-command";
            argv[argc++] = "yes";
        }
        for (int i = 0; extra && extra[i] && argc < 62; i++) argv[argc++] = extra[i];
        argv[argc] = NULL;
        pid_t pid = hSpawn(argv, s->log);
        s->pid = pid;
        if (hWaitReady(s, 10000) == 0) return s;
        if (!hServerReaped(s)) {
            kill(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            s->exited = 1;
        }
        hPrintLogTail(s);
    }
    printf("harness: could not start %s\n", bin);
    hBail("server did not start");
    return NULL;
}

/* Makes a relative binary path absolute (the child runs in the scratch
 * directory) without resolving symlinks: redis-server is a link whose name
 * decides what the program does. */
static inline const char *hAbsBin(const char *bin) {
    static char abs[8][1024];
    static int n;
    if (bin[0] == '/') return bin;
    char cwd[900];
    if (!getcwd(cwd, sizeof(cwd)) || !hIsExecutable(bin)) {
        printf("harness: server binary not found: %s\n", bin);
        hBail("server binary not found (set LATTICE_SERVER)");
    }
    char *r = abs[n++ % 8];
    snprintf(r, 1024, "%s/%s", cwd, bin);
    return r;
}

static inline hserver *hStartServer(const char *const *extra) {
    return hStartServerEx(hAbsBin(hLatticeBin()), NULL, NULL, extra);
}

/* Stops s by SIGTERM, then SIGKILL after 3 s.  A server that had already
 * died, or died by a signal other than ours, is a failure. */
static inline void hStopServerAt(const char *file, int line, hserver *s) {
    if (!s) return;
    char actual[128];
    if (hServerReaped(s)) {
        snprintf(actual, sizeof(actual), "exited before stop (status 0x%x)", s->status);
        hReport(file, line, 0, "server alive until stopped", "running", actual);
        hPrintLogTail(s);
    } else {
        kill(s->pid, SIGTERM);
        int waited = 0;
        while (!hServerReaped(s) && waited < 3000) {
            usleep(5000);
            waited += 5;
        }
        if (!hServerReaped(s)) {
            kill(s->pid, SIGKILL);
            waitpid(s->pid, &s->status, 0);
            s->exited = 1;
            hReport(file, line, 0, "server exits on SIGTERM", "exit within 3s", "needed SIGKILL");
        } else if (WIFSIGNALED(s->status) && WTERMSIG(s->status) != SIGTERM) {
            snprintf(actual, sizeof(actual), "killed by signal %d", WTERMSIG(s->status));
            hReport(file, line, 0, "server clean shutdown", "exit", actual);
            hPrintLogTail(s);
        }
    }
    for (int i = 0; i < H_MAX_SERVERS; i++)
        if (hServers[i] == s) hServers[i] = NULL;
    free(s);
}
#define STOP_SERVER(s) hStopServerAt(__FILE__, __LINE__, (s))

/* After a connection error: if a server has died, everything after would
 * fail for the same reason, so report the death (with its log) and end the
 * test here with the summary line. */
static inline void hAbortIfServerDied(const char *file, int line) {
    for (int i = 0; i < H_MAX_SERVERS; i++) {
        hserver *s = hServers[i];
        if (!s) continue;
        for (int w = 0; w < 20 && !hServerReaped(s); w++) usleep(10000); /* let a dying one finish */
        if (!hServerReaped(s)) continue;
        char actual[160];
        if (WIFSIGNALED(s->status))
            snprintf(actual, sizeof(actual), "server on port %d killed by signal %d", s->port, WTERMSIG(s->status));
        else
            snprintf(actual, sizeof(actual), "server on port %d exited with status %d", s->port, WEXITSTATUS(s->status));
        hReport(file, line, 0, H.last, "server running", actual);
        hPrintLogTail(s);
        printf("%d passed, %d failed\n", H.passed, H.failed);
        fflush(stdout);
        exit(1);
    }
}

static inline redisContext *hConnect(hserver *s) {
    redisContext *c = hConnectPort(s->port);
    if (!c) {
        hAbortIfServerDied(__FILE__, __LINE__);
        hReport(__FILE__, __LINE__, 0, "connect", "connected", "cannot connect");
        hPrintLogTail(s);
        printf("%d passed, %d failed\n", H.passed, H.failed);
        exit(1);
    }
    return c;
}

/* ------------------------------------------------------------------ */
/* Reply rendering                                                      */
/*
 * One line per reply:  +OK   -ERR text   :42   "bulk"   (nil)   [a,b]
 * Bulk strings are quoted with C escapes; arrays nest; an empty array is [].
 */

static inline void hRenderTo(hbuf *b, const redisReply *r) {
    if (!r) {
        hbufCat(b, "<no reply>", 10);
        return;
    }
    switch (r->type) {
    case REDIS_REPLY_STATUS:
        hbufCat(b, "+", 1);
        hbufCat(b, r->str, r->len);
        break;
    case REDIS_REPLY_ERROR:
        hbufCat(b, "-", 1);
        hbufCat(b, r->str, r->len);
        break;
    case REDIS_REPLY_INTEGER:
        hbufPrintf(b, ":%lld", r->integer);
        break;
    case REDIS_REPLY_NIL:
        hbufCat(b, "(nil)", 5);
        break;
    case REDIS_REPLY_STRING:
        hbufCat(b, "\"", 1);
        hbufCatEscaped(b, r->str, r->len);
        hbufCat(b, "\"", 1);
        break;
    case REDIS_REPLY_ARRAY:
        hbufCat(b, "[", 1);
        for (size_t i = 0; i < r->elements; i++) {
            if (i) hbufCat(b, ",", 1);
            hRenderTo(b, r->element[i]);
        }
        hbufCat(b, "]", 1);
        break;
    default:
        hbufPrintf(b, "<type %d>", r->type);
    }
}

static inline char *hRender(const redisReply *r) {
    hbuf b = {0};
    hbufCat(&b, "", 0);
    hRenderTo(&b, r);
    char *s = hRing(b.p, b.len);
    free(b.p);
    return s;
}

/* Renders the reply, or the connection error when there is none. */
static inline char *hRenderOrErr(redisContext *c, redisReply *r) {
    if (r) return hRender(r);
    hAbortIfServerDied(__FILE__, __LINE__);
    char tmp[300];
    snprintf(tmp, sizeof(tmp), "<connection error %d: %s>", c->err, c->errstr);
    return hRing(tmp, strlen(tmp));
}

/* Glob with * and ? only: every other character, [ ] and \ included, is
 * literal, so that patterns can be written like the renderings they match. */
static inline int hGlob(const char *p, const char *s) {
    for (; *p; p++, s++) {
        if (*p == '*') {
            while (p[1] == '*') p++;
            if (!p[1]) return 1;
            for (; *s; s++)
                if (hGlob(p + 1, s)) return 1;
            return hGlob(p + 1, s);
        }
        if (!*s) return 0;
        if (*p == '?') continue;
        if (*p != *s) return 0;
    }
    return *s == '\0';
}

/* Runs a command (hiredis format) and returns its rendering. */
static inline char *hRun(redisContext *c, const char *fmt, ...) {
    snprintf(H.last, sizeof(H.last), "after %s", fmt);
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    char *s = hRenderOrErr(c, r);
    if (r) freeReplyObject(r);
    return s;
}
#define RUN(c, ...) hRun((c), __VA_ARGS__)

/* Runs a command and returns its integer reply, or LLONG_MIN. */
static inline long long hRunInt(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    va_end(ap);
    long long v = (r && r->type == REDIS_REPLY_INTEGER) ? r->integer : (-9223372036854775807LL - 1);
    if (r) freeReplyObject(r);
    return v;
}

static inline int hExpectV(const char *file, int line, int glob, redisContext *c, const char *exp, const char *fmt,
                           va_list ap) {
    char what[256];
    snprintf(what, sizeof(what), "%s", fmt);
    snprintf(H.last, sizeof(H.last), "after %s:%d %s", file, line, fmt);
    redisReply *r = redisvCommand(c, fmt, ap);
    char *got = hRenderOrErr(c, r);
    if (r) freeReplyObject(r);
    int ok = glob ? hGlob(exp, got) : strcmp(exp, got) == 0;
    return hReport(file, line, ok, what, exp, got);
}

static inline int hExpect(const char *file, int line, int glob, redisContext *c, const char *exp, const char *fmt,
                          ...) {
    va_list ap;
    va_start(ap, fmt);
    int ok = hExpectV(file, line, glob, c, exp, fmt, ap);
    va_end(ap);
    return ok;
}

/* EXPECT(c, "+OK", "SET %s %s", "k", "v"): the rendered reply must equal. */
#define EXPECT(c, exp, ...) hExpect(__FILE__, __LINE__, 0, (c), (exp), __VA_ARGS__)
/* EXPECT_GLOB(c, ":*", "TTL k"): the rendered reply must match the glob. */
#define EXPECT_GLOB(c, exp, ...) hExpect(__FILE__, __LINE__, 1, (c), (exp), __VA_ARGS__)

/* Argument vector form, for binary-safe arguments: NULL-terminated strings. */
static inline int hExpectArgs(const char *file, int line, redisContext *c, const char *exp, ...) {
    const char *argv[256];
    size_t lens[256];
    int argc = 0;
    va_list ap;
    va_start(ap, exp);
    const char *a;
    while ((a = va_arg(ap, const char *)) != NULL && argc < 256) {
        argv[argc] = a;
        lens[argc] = strlen(a);
        argc++;
    }
    va_end(ap);
    hbuf what = {0};
    for (int i = 0; i < argc; i++) {
        if (i) hbufCat(&what, " ", 1);
        hbufCat(&what, argv[i], lens[i]);
    }
    snprintf(H.last, sizeof(H.last), "after %s:%d %s", file, line, what.p);
    redisReply *r = redisCommandArgv(c, argc, argv, lens);
    char *got = hRenderOrErr(c, r);
    if (r) freeReplyObject(r);
    int ok = hReport(file, line, strcmp(exp, got) == 0, what.p, exp, got);
    free(what.p);
    return ok;
}
#define EXPECT_ARGS(c, exp, ...) hExpectArgs(__FILE__, __LINE__, (c), (exp), __VA_ARGS__, (const char *)NULL)

/* Sends a command without reading its reply (pipelining, MONITOR, pub/sub). */
static inline void hAppend(redisContext *c, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    redisvAppendCommand(c, fmt, ap);
    va_end(ap);
}

/* Reads the next reply (pipelined or pushed) and renders it. */
static inline char *hNext(redisContext *c) {
    redisReply *r = NULL;
    if (redisGetReply(c, (void **)&r) != REDIS_OK) r = NULL;
    char *s = hRenderOrErr(c, r);
    if (r) freeReplyObject(r);
    return s;
}
#define EXPECT_NEXT(c, exp)                                                                                   \
    do {                                                                                                       \
        const char *e__ = (exp);                                                                               \
        char *g__ = hNext(c);                                                                                  \
        hReport(__FILE__, __LINE__, strcmp(e__, g__) == 0, "next reply", e__, g__);                             \
    } while (0)

/* Sets a read timeout (ms) on a hiredis context. */
static inline void hSetTimeoutMs(redisContext *c, int ms) {
    struct timeval tv = {ms / 1000, (ms % 1000) * 1000};
    redisSetTimeout(c, tv);
}

/* ------------------------------------------------------------------ */
/* Raw sockets and RESP framing                                          */

/* Length of the first complete RESP2/RESP3 reply in p[0..n): >0 length,
 * 0 incomplete, -1 not RESP. */
static inline long hRespFrame(const char *p, size_t n) {
    if (n == 0) return 0;
    const char *crlf = NULL;
    for (size_t i = 1; i + 1 < n; i++)
        if (p[i] == '\r' && p[i + 1] == '\n') {
            crlf = p + i;
            break;
        }
    if (!crlf) return 0;
    size_t hdr = (size_t)(crlf - p) + 2;
    char num[32];
    size_t nl = (size_t)(crlf - p - 1);
    if (nl >= sizeof(num)) nl = sizeof(num) - 1;
    memcpy(num, p + 1, nl);
    num[nl] = '\0';
    long long cnt = atoll(num);
    int pairs = 1;
    switch (p[0]) {
    case '+': case '-': case ':': case '_': case ',': case '#': case '(':
        return (long)hdr;
    case '$': case '=': case '!':
        if (cnt < 0) return (long)hdr;
        if (hdr + (size_t)cnt + 2 > n) return 0;
        return (long)(hdr + (size_t)cnt + 2);
    case '%': case '|':
        pairs = 2;
        /* fall through */
    case '*': case '~': case '>': {
        if (cnt < 0) return (long)hdr;
        size_t off = hdr;
        for (long long i = 0; i < cnt * pairs; i++) {
            long l = hRespFrame(p + off, n - off);
            if (l <= 0) return l;
            off += (size_t)l;
        }
        if (p[0] == '|') { /* an attribute precedes the reply it describes */
            long l = hRespFrame(p + off, n - off);
            if (l <= 0) return l;
            off += (size_t)l;
        }
        return (long)off;
    }
    default:
        return -1;
    }
}

typedef struct hraw {
    int fd;
    int eof;
    char *buf;
    size_t len, cap;
} hraw;

static inline hraw *hRawConnectAddr(const char *ip, int port) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return NULL;
    struct sockaddr_in a = {0};
    a.sin_family = AF_INET;
    a.sin_port = htons((uint16_t)port);
    inet_pton(AF_INET, ip, &a.sin_addr);
    if (connect(fd, (struct sockaddr *)&a, sizeof(a)) < 0) {
        close(fd);
        return NULL;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    hraw *r = calloc(1, sizeof(*r));
    r->fd = fd;
    return r;
}

static inline hraw *hRawConnect(hserver *s) {
    hraw *r = hRawConnectAddr("127.0.0.1", s->port);
    if (!r) {
        printf("harness: raw connect to %d failed: %s\n", s->port, strerror(errno));
        hAbortIfServerDied(__FILE__, __LINE__);
        hBail("raw connect failed");
    }
    return r;
}

static inline void hRawClose(hraw *r) {
    if (!r) return;
    if (r->fd >= 0) close(r->fd);
    free(r->buf);
    free(r);
}

/* Writes everything; returns 0, or -1 if the peer has gone. */
static inline int hRawSend(hraw *r, const void *p, size_t n) {
    const char *q = p;
    while (n) {
        ssize_t w = send(r->fd, q, n, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            return -1;
        }
        q += w;
        n -= (size_t)w;
    }
    return 0;
}
static inline int hRawSendStr(hraw *r, const char *s) { return hRawSend(r, s, strlen(s)); }

/* Reads whatever arrives within ms (at most one read after poll); 1 data,
 * 0 timeout, -1 EOF/error. */
static inline int hRawFill(hraw *r, int ms) {
    if (r->eof) return -1;
    struct pollfd pfd = {r->fd, POLLIN, 0};
    int pr = poll(&pfd, 1, ms);
    if (pr <= 0) return 0;
    if (r->len + 65536 > r->cap) {
        r->cap = r->len + 65536;
        r->buf = realloc(r->buf, r->cap);
    }
    ssize_t n = recv(r->fd, r->buf + r->len, r->cap - r->len, 0);
    if (n <= 0) {
        r->eof = 1;
        return -1;
    }
    r->len += (size_t)n;
    return 1;
}

static inline void hRawConsume(hraw *r, size_t n) {
    memmove(r->buf, r->buf + n, r->len - n);
    r->len -= n;
}

/* The next complete reply as raw bytes (its length in *outLen), or NULL if
 * none arrives within ms.  The bytes live in the ring. */
static inline char *hRawReply(hraw *r, int ms, size_t *outLen) {
    struct timeval start, now;
    gettimeofday(&start, NULL);
    for (;;) {
        long l = hRespFrame(r->buf ? r->buf : "", r->len);
        if (l < 0) { /* not RESP: hand back everything */
            l = (long)r->len;
        }
        if (l > 0) {
            char *s = hRing(r->buf, (size_t)l);
            if (outLen) *outLen = (size_t)l;
            hRawConsume(r, (size_t)l);
            return s;
        }
        gettimeofday(&now, NULL);
        long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_usec - start.tv_usec) / 1000;
        if (el >= ms) return NULL;
        if (hRawFill(r, (int)(ms - el)) < 0) return NULL;
    }
}

/* Reads until the server closes the connection or ms pass: returns what
 * arrived (ring), and whether it closed in *closed. */
static inline char *hRawReadToClose(hraw *r, int ms, int *closed, size_t *outLen) {
    struct timeval start, now;
    gettimeofday(&start, NULL);
    for (;;) {
        gettimeofday(&now, NULL);
        long el = (now.tv_sec - start.tv_sec) * 1000 + (now.tv_usec - start.tv_usec) / 1000;
        if (el >= ms) break;
        if (hRawFill(r, (int)(ms - el)) < 0) break;
    }
    *closed = r->eof;
    char *s = hRing(r->buf ? r->buf : "", r->len);
    if (outLen) *outLen = r->len;
    r->len = 0;
    return s;
}

static inline size_t hStrlen0(const char *s) { return s ? strlen(s) : 0; }

static inline int hRawExpectAt(const char *file, int line, hraw *r, const char *send, size_t sendLen,
                               const char *exp, size_t expLen) {
    if (send && hRawSend(r, send, sendLen) < 0)
        return hReport(file, line, 0, hEscape(send, sendLen), hEscape(exp, expLen), "<send failed>");
    size_t gl = 0;
    char *got = hRawReply(r, 5000, &gl);
    char what[200];
    snprintf(what, sizeof(what), "raw %s", send ? hEscape(send, sendLen > 120 ? 120 : sendLen) : "(read)");
    if (!got) return hReport(file, line, 0, what, hEscape(exp, expLen), r->eof ? "<connection closed>" : "<timeout>");
    return hReport(file, line, gl == expLen && memcmp(got, exp, gl) == 0, what, hEscape(exp, expLen),
                   hEscape(got, gl));
}
/* RAW_EXPECT(r, "*1\r\n$4\r\nPING\r\n", "+PONG\r\n"): send (may be NULL to
 * only read), then the next reply must be exactly exp. */
#define RAW_EXPECT(r, send, exp)                                                                               \
    hRawExpectAt(__FILE__, __LINE__, (r), (send), hStrlen0(send), (exp), strlen(exp))

/* Like RAW_EXPECT, but the pattern is a glob (see hGlob) over the reply as
 * hEscape shows it, CR LF written as the four characters \r\n. */
static inline int hRawExpectGlobAt(const char *file, int line, hraw *r, const char *send, const char *pattern) {
    if (send && hRawSend(r, send, strlen(send)) < 0)
        return hReport(file, line, 0, hEscape(send, strlen(send)), pattern, "<send failed>");
    size_t gl = 0;
    char *got = hRawReply(r, 5000, &gl);
    char what[200];
    snprintf(what, sizeof(what), "raw %s", send ? hEscape(send, strlen(send) > 120 ? 120 : strlen(send)) : "(read)");
    if (!got) return hReport(file, line, 0, what, pattern, r->eof ? "<connection closed>" : "<timeout>");
    char *shown = hEscape(got, gl);
    return hReport(file, line, hGlob(pattern, shown), what, pattern, shown);
}
#define RAW_EXPECT_GLOB(r, send, pattern) hRawExpectGlobAt(__FILE__, __LINE__, (r), (send), (pattern))

/* Sends, then expects exactly exp followed by the server closing the connection. */
static inline int hRawExpectCloseAt(const char *file, int line, hraw *r, const char *send, size_t sendLen,
                                    const char *exp) {
    if (send && hRawSend(r, send, sendLen) < 0) { /* the reply may still be readable */ }
    int closed = 0;
    size_t gl = 0;
    char *got = hRawReadToClose(r, 5000, &closed, &gl);
    char what[200];
    snprintf(what, sizeof(what), "raw then close: %s", send ? hEscape(send, sendLen > 120 ? 120 : sendLen) : "");
    int ok = hReport(file, line, gl == strlen(exp) && memcmp(got, exp, gl) == 0, what, hEscape(exp, strlen(exp)),
                     hEscape(got, gl));
    ok &= hReport(file, line, closed, what, "connection closed by server", "still open after 5s");
    return ok;
}
#define RAW_EXPECT_CLOSE(r, send, exp)                                                                         \
    hRawExpectCloseAt(__FILE__, __LINE__, (r), (send), hStrlen0(send), (exp))


/* Milliseconds since the epoch. */
static inline long long hNowMs(void) {
    struct timeval tv;
    gettimeofday(&tv, NULL);
    return (long long)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

static inline void hSleepMs(int ms) {
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {}
}

/* ------------------------------------------------------------------ */
/* Restarts                                                             */

/* Starts s's binary again on s's own port, once s has died or been killed
 * and reaped (a crash-and-restart test): argv is bin --port P --bind
 * 127.0.0.1 followed by extra (NULL-terminated, or NULL), nothing else, so
 * the caller passes every flag it wants.  The new process logs to a fresh
 * file and stays in hServers, so the usual cleanup covers it.  What the dead
 * process left on the port can refuse the bind for a moment: a start that
 * exits is retried for 5 s.  Returns 0 once it serves, -1 (log printed) if it
 * does not come up. */
static inline int hRestartServer(hserver *s, const char *const *extra) {
    static int restarts;
    if (!hServerReaped(s)) return -1;
    char portStr[16];
    snprintf(portStr, sizeof(portStr), "%d", s->port);
    const char *argv[64];
    int argc = 0;
    argv[argc++] = s->bin;
    argv[argc++] = "--port";
    argv[argc++] = portStr;
    argv[argc++] = "--bind";
    argv[argc++] = "127.0.0.1";
    for (int i = 0; extra && extra[i] && argc < 63; i++) argv[argc++] = extra[i];
    argv[argc] = NULL;
    long long deadline = hNowMs() + 5000;
    do {
        snprintf(s->log, sizeof(s->log), "%s/server-%d-restart%d.log", hTmpDir, s->port, ++restarts);
        pid_t pid = hSpawn(argv, s->log);
        s->pid = pid;
        s->exited = 0;
        if (hWaitReady(s, 10000) == 0) return 0;
        if (!hServerReaped(s)) { /* up but not serving: no point retrying */
            kill(pid, SIGKILL);
            waitpid(pid, &s->status, 0);
            s->exited = 1;
            break;
        }
        hSleepMs(100);
    } while (hNowMs() < deadline);
    hPrintLogTail(s);
    return -1;
}

#endif
