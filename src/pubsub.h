/* pubsub.h - channels, patterns and keyspace notifications. */
#ifndef LATTICE_PUBSUB_H
#define LATTICE_PUBSUB_H

#include <stddef.h>
#include "networking.h"

/* notify-keyspace-events flags (Redis's letters) */
#define NOTIFY_KEYSPACE (1 << 0)  /* K */
#define NOTIFY_KEYEVENT (1 << 1)  /* E */
#define NOTIFY_GENERIC  (1 << 2)  /* g */
#define NOTIFY_STRING   (1 << 3)  /* $ */
#define NOTIFY_LIST     (1 << 4)  /* l */
#define NOTIFY_SET      (1 << 5)  /* s */
#define NOTIFY_HASH     (1 << 6)  /* h */
#define NOTIFY_ZSET     (1 << 7)  /* z */
#define NOTIFY_EXPIRED  (1 << 8)  /* x */
#define NOTIFY_EVICTED  (1 << 9)  /* e */
#define NOTIFY_STREAM   (1 << 10) /* t */
#define NOTIFY_KEY_MISS (1 << 11) /* m */
#define NOTIFY_LOADED   (1 << 12) /* module only */
#define NOTIFY_MODULE   (1 << 13) /* d */
#define NOTIFY_NEW      (1 << 14) /* n */
#define NOTIFY_ALL (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | \
                    NOTIFY_ZSET | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)

int keyspaceEventsStringToFlags(const char *s);   /* -1 on a bad letter */
size_t keyspaceEventsFlagsToString(int flags, char *buf, size_t size);
void notifyKeyspaceEvent(int type, const char *event, const char *key, size_t keylen, int dbid);

void pubsubInit(void);
void pubsubFreeClient(client *c);
unsigned pubsubClientChannels(client *c);
unsigned pubsubClientPatterns(client *c);
unsigned pubsubClientShardChannels(client *c);
/* Sends msg to the subscribers of channel ch and of the patterns matching it
 * (not to shard subscribers); returns how many received it. */
long long pubsubPublish(const char *ch, size_t chlen, const char *msg, size_t msglen);
size_t pubsubTotalChannels(void);
size_t pubsubTotalPatterns(void);
size_t pubsubTotalShardChannels(void);

void subscribeCommand(client *c);
void unsubscribeCommand(client *c);
void psubscribeCommand(client *c);
void punsubscribeCommand(client *c);
void publishCommand(client *c);
void pubsubChannelsCommand(client *c);
void pubsubNumsubCommand(client *c);
void pubsubNumpatCommand(client *c);
void pubsubShardchannelsCommand(client *c);
void pubsubShardnumsubCommand(client *c);
void pubsubHelpCommand(client *c);
void ssubscribeCommand(client *c);
void sunsubscribeCommand(client *c);
void spublishCommand(client *c);

#endif
