/* test_connections.c - many clients at once: thousands of concurrent sockets
 * while the server keeps serving everyone, maxclients with Redis's error
 * text, clients coming and going, and protected mode (a non-loopback client
 * without a password is refused with Redis's DENIED text). */
#include "harness.h"

/* Raises the soft fd limit to the hard one; returns the soft limit. */
static long raiseFdLimit(void) {
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0) return 1024;
    if (rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max;
        if (want.rlim_cur > 65536 && rl.rlim_max != RLIM_INFINITY) want.rlim_cur = rl.rlim_max;
        if (want.rlim_cur == RLIM_INFINITY) want.rlim_cur = 65536;
        if (setrlimit(RLIMIT_NOFILE, &want) == 0) rl = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? 65536 : (long)rl.rlim_cur;
}

static int connectedClients(redisContext *c) {
    redisReply *r = redisCommand(c, "INFO clients");
    int n = -1;
    if (r && r->type == REDIS_REPLY_STRING) {
        char *p = strstr(r->str, "connected_clients:");
        if (p) n = atoi(p + 18);
    }
    if (r) freeReplyObject(r);
    return n;
}

static void testThousands(void) {
    hSection("thousands of concurrent connections");
    long limit = raiseFdLimit();
    /* the server (our child) inherits the limit; keep room for both sides */
    int n = 2000;
    if (limit - 64 < n) n = (int)(limit - 64);
    if (n < 100) {
        printf("note: fd limit %ld too low, skipping the many-connections test\n", limit);
        return;
    }
    if (n < 2000) printf("note: fd limit %ld, using %d connections instead of 2000\n", limit, n);
    hserver *s = hStartServer(NULL);
    redisContext *c = hConnect(s);
    int *fds = malloc(sizeof(int) * (size_t)n);
    int opened = 0;
    for (int i = 0; i < n; i++) {
        hraw *r = hRawConnectAddr("127.0.0.1", s->port);
        if (!r) break;
        fds[opened++] = r->fd;
        free(r);
        if (i % 500 == 499) EXPECT(c, "+PONG", "PING"); /* others are served meanwhile */
    }
    CHECK_INT(opened, n);
    /* every socket sends one command in the same burst */
    const char *incr = "*2\r\n$4\r\nINCR\r\n$7\r\ncounter\r\n";
    for (int i = 0; i < opened; i++)
        if (send(fds[i], incr, strlen(incr), MSG_NOSIGNAL) < 0) break;
    long long t0 = hNowMs();
    EXPECT(c, "+PONG", "PING");
    CHECK_RANGE(hNowMs() - t0, 0, 2000);
    /* every one gets exactly one integer reply */
    int good = 0;
    for (int i = 0; i < opened; i++) {
        struct pollfd p = {fds[i], POLLIN, 0};
        if (poll(&p, 1, 5000) != 1) continue;
        char buf[64];
        ssize_t l = recv(fds[i], buf, sizeof(buf) - 1, 0);
        if (l > 3 && buf[0] == ':' && buf[l - 2] == '\r' && buf[l - 1] == '\n') good++;
    }
    CHECK_INT(good, opened);
    {
        char want[32];
        snprintf(want, sizeof(want), "\"%d\"", opened);
        EXPECT(c, want, "GET counter");
    }
    CHECK_INT(connectedClients(c), opened + 1);
    /* a second round on every connection, pipelined two commands each */
    const char *two = "PING\r\nGET counter\r\n";
    for (int i = 0; i < opened; i++) send(fds[i], two, strlen(two), MSG_NOSIGNAL);
    good = 0;
    char want2[64];
    snprintf(want2, sizeof(want2), "+PONG\r\n$%d\r\n%d\r\n", (int)snprintf(NULL, 0, "%d", opened), opened);
    for (int i = 0; i < opened; i++) {
        char buf[64];
        size_t got = 0;
        while (got < strlen(want2)) {
            struct pollfd p = {fds[i], POLLIN, 0};
            if (poll(&p, 1, 5000) != 1) break;
            ssize_t l = recv(fds[i], buf + got, sizeof(buf) - 1 - got, 0);
            if (l <= 0) break;
            got += (size_t)l;
        }
        if (got == strlen(want2) && memcmp(buf, want2, got) == 0) good++;
    }
    CHECK_INT(good, opened);
    /* half of them go away abruptly (RST), half politely */
    for (int i = 0; i < opened; i++) {
        if (i % 2) {
            struct linger lg = {1, 0};
            setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
        }
        close(fds[i]);
    }
    free(fds);
    long long deadline = hNowMs() + 5000;
    int left = -1;
    while (hNowMs() < deadline && (left = connectedClients(c)) != 1) hSleepMs(50);
    CHECK_INT(left, 1);
    EXPECT(c, "+PONG", "PING");
    redisFree(c);
    STOP_SERVER(s);
}

static void testMaxclients(void) {
    hSection("maxclients");
    const char *extra[] = {"--maxclients", "10", NULL};
    hserver *s = hStartServer(extra);
    hraw *conns[10];
    for (int i = 0; i < 10; i++) {
        conns[i] = hRawConnect(s);
        RAW_EXPECT(conns[i], "PING\r\n", "+PONG\r\n");
    }
    hraw *over = hRawConnect(s);
    RAW_EXPECT_CLOSE(over, NULL, "-ERR max number of clients reached\r\n");
    hRawClose(over);
    over = hRawConnect(s);
    RAW_EXPECT_CLOSE(over, "PING\r\n", "-ERR max number of clients reached\r\n");
    hRawClose(over);
    /* one leaves, one more fits */
    hRawClose(conns[9]);
    hSleepMs(100);
    conns[9] = hRawConnect(s);
    RAW_EXPECT(conns[9], "PING\r\n", "+PONG\r\n");
    RAW_EXPECT(conns[0], "CONFIG GET maxclients\r\n", "*2\r\n$10\r\nmaxclients\r\n$2\r\n10\r\n");
    /* raised at run time */
    RAW_EXPECT(conns[0], "CONFIG SET maxclients 11\r\n", "+OK\r\n");
    over = hRawConnect(s);
    RAW_EXPECT(over, "PING\r\n", "+PONG\r\n");
    hraw *over2 = hRawConnect(s);
    RAW_EXPECT_CLOSE(over2, NULL, "-ERR max number of clients reached\r\n");
    hRawClose(over2);
    RAW_EXPECT_GLOB(conns[0], "INFO clients\r\n", "$*\\r\\n# Clients\\r\\nconnected_clients:11\\r\\n*");
    RAW_EXPECT_GLOB(conns[0], "INFO stats\r\n", "$*\\r\\nrejected_connections:3\\r\\n*");
    hRawClose(over);
    for (int i = 0; i < 10; i++) hRawClose(conns[i]);
    STOP_SERVER(s);
}

/* A local IPv4 address that is not loopback, or 0 if there is none. */
static int nonLoopbackAddress(char *out, size_t len) {
    struct ifaddrs *ifs, *i;
    if (getifaddrs(&ifs) != 0) return 0;
    int found = 0;
    for (i = ifs; i && !found; i = i->ifa_next) {
        if (!i->ifa_addr || i->ifa_addr->sa_family != AF_INET) continue;
        struct sockaddr_in *a = (struct sockaddr_in *)i->ifa_addr;
        if ((ntohl(a->sin_addr.s_addr) >> 24) == 127) continue;
        inet_ntop(AF_INET, &a->sin_addr, out, (socklen_t)len);
        found = 1;
    }
    freeifaddrs(ifs);
    return found;
}

static const char *deniedText =
    "-DENIED Redis is running in protected mode because protected mode is enabled and no password is set for the "
    "default user. In this mode connections are only accepted from the loopback interface. If you want to connect "
    "from external computers to Redis you may adopt one of the following solutions: 1) Just disable protected mode "
    "sending the command 'CONFIG SET protected-mode no' from the loopback interface by connecting to Redis from the "
    "same host the server is running, however MAKE SURE Redis is not publicly accessible from internet if you do "
    "so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively you can just disable the protected mode "
    "by editing the Redis configuration file, and setting the protected mode option to 'no', and then restarting the "
    "server. 3) If you started the server manually just for testing, restart it with the '--protected-mode no' "
    "option. 4) Setup a an authentication password for the default user. NOTE: You only need to do one of the above "
    "things in order for the server to start accepting connections from the outside.\r\n";

static void testProtectedMode(void) {
    hSection("protected mode");
    char ip[64];
    if (!nonLoopbackAddress(ip, sizeof(ip))) {
        printf("note: no non-loopback IPv4 address, protected mode test skipped\n");
        return;
    }
    hserver *s = hStartServerEx(hAbsBin(hLatticeBin()), NULL, "0.0.0.0", NULL);
    hraw *outside = hRawConnectAddr(ip, s->port);
    CHECK(outside != NULL);
    if (!outside) {
        STOP_SERVER(s);
        return;
    }
    RAW_EXPECT_CLOSE(outside, "PING\r\n", deniedText);
    hRawClose(outside);
    /* loopback is always allowed */
    hraw *local = hRawConnect(s);
    RAW_EXPECT(local, "PING\r\n", "+PONG\r\n");
    /* a password lifts protected mode */
    RAW_EXPECT(local, "CONFIG SET requirepass pw\r\n", "+OK\r\n");
    outside = hRawConnectAddr(ip, s->port);
    RAW_EXPECT(outside, "PING\r\n", "-NOAUTH Authentication required.\r\n");
    RAW_EXPECT(outside, "AUTH pw\r\n", "+OK\r\n");
    RAW_EXPECT(outside, "PING\r\n", "+PONG\r\n");
    hRawClose(outside);
    RAW_EXPECT(local, "CONFIG SET requirepass \"\"\r\n", "+OK\r\n");
    outside = hRawConnectAddr(ip, s->port);
    RAW_EXPECT_CLOSE(outside, "PING\r\n", deniedText);
    hRawClose(outside);
    /* and so does protected-mode no */
    RAW_EXPECT(local, "CONFIG SET protected-mode no\r\n", "+OK\r\n");
    outside = hRawConnectAddr(ip, s->port);
    RAW_EXPECT(outside, "PING\r\n", "+PONG\r\n");
    hRawClose(outside);
    hRawClose(local);
    STOP_SERVER(s);

    /* started with --protected-mode no */
    const char *extra[] = {"--protected-mode", "no", NULL};
    s = hStartServerEx(hAbsBin(hLatticeBin()), NULL, "0.0.0.0", extra);
    outside = hRawConnectAddr(ip, s->port);
    RAW_EXPECT(outside, "PING\r\n", "+PONG\r\n");
    hRawClose(outside);
    STOP_SERVER(s);
}

int main(void) {
    hInit(90);
    testThousands();
    testMaxclients();
    testProtectedMode();
    return hDone();
}
