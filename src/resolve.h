/* resolve.h - host name lookups off the event loop.
 *
 * getaddrinfo on a name can wait for DNS for seconds; the loop that serves
 * clients must not (SPEC: a node serves its clients whatever its peers do).
 * resolveStart runs the lookup on a short-lived thread of its own and calls
 * back on the loop once it is done.  Numeric addresses need no lookup: the
 * caller tries those first (AI_NUMERICHOST never blocks). */
#ifndef LATTICE_RESOLVE_H
#define LATTICE_RESOLVE_H

#include <ev.h>
#include <netdb.h>

typedef struct resolveReq resolveReq;

/* Called on the loop with the addresses (the callee frees them with
 * freeaddrinfo) or res NULL and err a getaddrinfo error code. */
typedef void resolveDone(void *owner, struct addrinfo *res, int err);

/* Starts looking up host:port (TCP) for owner; NULL if no thread could be
 * started, or too many lookups are still under way (then nothing will be
 * called back).  done is never called from
 * within resolveStart. */
resolveReq *resolveStart(struct ev_loop *loop, const char *host, int port, resolveDone *done, void *owner);
/* The owner is going away: done will not be called for r (its result is
 * freed when the lookup ends). */
void resolveCancel(resolveReq *r);

#endif
