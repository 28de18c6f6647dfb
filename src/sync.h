/* sync.h - what peers exchange: every local change streamed to every online
 * peer once per loop iteration (as the delta its CRDT operation returned, or
 * the key's whole state), and Merkle-tree anti-entropy that finds and repairs
 * every difference between two nodes, both ways, shipping only the keys under
 * differing leaves.  It learns of changes through db.c's one change hook and
 * ships and merges key states through keystate.h; peer.c carries the bytes. */
#ifndef LATTICE_SYNC_H
#define LATTICE_SYNC_H

#include "db.h"
#include "networking.h"
#include "peer.h"

void syncInit(void);
/* The first peer was added: the Merkle tree is built and kept from now on. */
void syncActivate(void);

/* The delta accumulator for a set or hash operation on k in this loop
 * iteration (an orset * or ormap *, to pass as the operation's delta), or
 * NULL when no peer is streaming.  The change hook that follows the
 * operation then ships the delta instead of the whole value. */
void *syncDeltaFor(db *d, kv *k);

/* Link events from peer.c. */
void syncLinkUp(peer *p);
void syncLinkDown(peer *p);
void syncPeerTick(peer *p);              /* every heartbeat: starts a due anti-entropy round */
/* PEER subcommands about data (DELTA, MERGE, HASHES, LEAVES, GET, DONE);
 * returns 0 if the subcommand is not one of them. */
int syncPeerCommand(client *c, peer *p);

/* Cron: collects tombstones every peer has synced past. */
void syncCron(void);

#endif
