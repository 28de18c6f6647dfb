/* resolve.c - host name lookups off the event loop (see resolve.h).
 *
 * One detached thread per lookup (peers are few and lookups rare: a join or
 * a reconnect).  The thread touches only its own request: it fills in the
 * result, puts the request on the finished list under a mutex and wakes the
 * loop through an ev_async.  Everything else (calling back, cancelling,
 * freeing) happens on the loop. */
#include "resolve.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct resolveReq {
    char host[256];
    char port[8];
    resolveDone *done;
    void *owner;
    int cancelled;              /* loop side only */
    struct addrinfo *res;       /* thread side until finished */
    int err;
    resolveReq *next;           /* on the finished list */
};

/* Lookups (threads) at once, at most: a resolver that hangs keeps its
 * threads, and retries must not add more without bound. */
#define RESOLVE_MAX_PENDING 32

static int pending;                     /* loop side: started and not yet finished */
static pthread_mutex_t finishedLock = PTHREAD_MUTEX_INITIALIZER;
static resolveReq *finished;
static ev_async wakeup;
static struct ev_loop *wakeupLoop;

static void onFinished(struct ev_loop *loop, ev_async *w, int revents) {
    (void)loop; (void)w; (void)revents;
    pthread_mutex_lock(&finishedLock);
    resolveReq *list = finished;
    finished = NULL;
    pthread_mutex_unlock(&finishedLock);
    while (list) {
        resolveReq *r = list;
        list = r->next;
        pending--;
        if (r->cancelled) {
            if (r->res) freeaddrinfo(r->res);
        } else {
            r->done(r->owner, r->res, r->err);
        }
        free(r);
    }
}

static void *lookup(void *arg) {
    resolveReq *r = arg;
    struct addrinfo hints;
    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    r->res = NULL;
    r->err = getaddrinfo(r->host, r->port, &hints, &r->res);
    if (r->err == 0 && !r->res) r->err = EAI_NONAME;
    pthread_mutex_lock(&finishedLock);
    r->next = finished;
    finished = r;
    pthread_mutex_unlock(&finishedLock);
    ev_async_send(wakeupLoop, &wakeup);
    return NULL;
}

resolveReq *resolveStart(struct ev_loop *loop, const char *host, int port, resolveDone *done, void *owner) {
    if (!wakeupLoop) {
        wakeupLoop = loop;
        ev_async_init(&wakeup, onFinished);
        ev_async_start(loop, &wakeup);
        ev_unref(loop);          /* a pending lookup alone does not keep the loop running */
    }
    if (pending >= RESOLVE_MAX_PENDING) return NULL;
    resolveReq *r = calloc(1, sizeof(*r));
    if (!r) abort();
    snprintf(r->host, sizeof(r->host), "%s", host);
    snprintf(r->port, sizeof(r->port), "%d", port);
    r->done = done;
    r->owner = owner;
    pthread_attr_t attr;
    pthread_t t;
    int ok = pthread_attr_init(&attr) == 0;
    if (ok) {
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        ok = pthread_create(&t, &attr, lookup, r) == 0;
        pthread_attr_destroy(&attr);
    }
    if (!ok) {
        free(r);
        return NULL;
    }
    pending++;
    return r;
}

void resolveCancel(resolveReq *r) {
    if (r) r->cancelled = 1;
}
