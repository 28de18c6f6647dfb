/* slowdns.c - an LD_PRELOAD shim for test_peers: host names ending in
 * ".slow.test" take 1.5 s to resolve (to 127.0.0.1), names ending in
 * ".fail.test" do not resolve, names ending in ".two.test" resolve to
 * 127.0.0.2 then 127.0.0.1 (a first address nobody listens on), everything
 * else goes to the real getaddrinfo.  It stands in for a slow or broken DNS server, so that a test
 * can check that a node keeps serving clients while it looks up a peer. */
#include <dlfcn.h>
#include <netdb.h>
#include <string.h>
#include <unistd.h>

typedef int gaiFn(const char *, const char *, const struct addrinfo *, struct addrinfo **);

static int endsWith(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints, struct addrinfo **res) {
    gaiFn *real = (gaiFn *)dlsym(RTLD_NEXT, "getaddrinfo");
    int numericOnly = hints && (hints->ai_flags & AI_NUMERICHOST);
    if (node && !numericOnly) {
        if (endsWith(node, ".slow.test")) {
            usleep(1500 * 1000);
            node = "127.0.0.1";
        } else if (endsWith(node, ".fail.test")) {
            return EAI_NONAME;
        } else if (endsWith(node, ".two.test")) {
            struct addrinfo *first = NULL, *second = NULL;
            int rc = real("127.0.0.2", service, hints, &first);
            if (rc != 0) return rc;
            rc = real("127.0.0.1", service, hints, &second);
            if (rc != 0) {
                freeaddrinfo(first);
                return rc;
            }
            struct addrinfo *last = first;
            while (last->ai_next) last = last->ai_next;
            last->ai_next = second;      /* glibc frees a list node by node */
            *res = first;
            return 0;
        }
    }
    return real(node, service, hints, res);
}
