/* multi.h - MULTI/EXEC/DISCARD/WATCH/UNWATCH: queued commands per client and
 * optimistic locking on keys.  A WATCHed key is touched through the keyspace's
 * change hook, so every path that changes a key invalidates watchers. */
#ifndef LATTICE_MULTI_H
#define LATTICE_MULTI_H

#include "networking.h"

struct command;
struct db;

void multiInit(void);
void queueMultiCommand(client *c, struct command *cmd);
void multiFreeClient(client *c);      /* discards the queue and unwatches */
int multiQueuedCount(client *c);
void discardTransaction(client *c);
void unwatchAllKeys(client *c);
/* Marks every client watching a key of db (or of every db if d is NULL) dirty. */
void touchAllWatchedKeysInDb(struct db *d, struct db *other);

void multiCommand(client *c);
void execCommand(client *c);
void discardCommand(client *c);
void watchCommand(client *c);
void unwatchCommand(client *c);

#endif
