/* pubsub.c - channels, patterns, shard channels and keyspace notifications.
 *
 * Three namespaces share one implementation (pubsubType): plain channels
 * (SUBSCRIBE/PUBLISH), patterns (PSUBSCRIBE, matched against PUBLISH's
 * channel) and shard channels (SSUBSCRIBE/SPUBLISH).  lattice is one shard, so
 * a shard channel is simply a channel of its own namespace: SPUBLISH reaches
 * only SSUBSCRIBE'd clients, and PUBLISH never reaches them.
 *
 * Messages and subscription confirmations are pushes: they are appended to
 * the subscribers' reply buffers (even under CLIENT REPLY OFF/SKIP) and leave
 * with the next flush.  This file owns no socket and never blocks. */
#include "pubsub.h"
#include "cmdlist.h"
#include "config.h"
#include "dict.h"
#include "server.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A channel (or pattern) and its subscribers, in subscription order. */
typedef struct channel {
    dictLink link;
    client **subs;
    int nsubs, cap;
    uint32_t len;
    char name[];
} channel;

/* A client's own subscription: a node in its per-client dict. */
typedef struct subscription {
    dictLink link;
    channel *ch;
} subscription;

/* One namespace of subscriptions. */
typedef struct pubsubType {
    dict *all;                        /* name -> channel, server-wide */
    dict **(*mine)(client *c);        /* the client's subscriptions in it */
    unsigned (*count)(client *c);     /* the count a confirmation reports */
    const char *subscribeMsg, *unsubscribeMsg;
} pubsubType;

static dict channels, patterns, shardChannels;

static const char *channelKeyOf(const dictLink *n, size_t *len) {
    const channel *c = (const channel *)n;
    *len = c->len;
    return c->name;
}

static const char *subKeyOf(const dictLink *n, size_t *len) {
    const subscription *s = (const subscription *)n;
    *len = s->ch->len;
    return s->ch->name;
}

void pubsubInit(void) {
    dictInit(&channels, channelKeyOf);
    dictInit(&patterns, channelKeyOf);
    dictInit(&shardChannels, channelKeyOf);
}

static unsigned dictCount(const dict *d) { return d ? (unsigned)dictSize(d) : 0; }

unsigned pubsubClientChannels(client *c) { return dictCount(c->pubsubChannels); }
unsigned pubsubClientPatterns(client *c) { return dictCount(c->pubsubPatterns); }
unsigned pubsubClientShardChannels(client *c) { return dictCount(c->pubsubShardChannels); }
size_t pubsubTotalChannels(void) { return dictSize(&channels); }
size_t pubsubTotalPatterns(void) { return dictSize(&patterns); }
size_t pubsubTotalShardChannels(void) { return dictSize(&shardChannels); }

/* Confirmations of channels and patterns count both; shard confirmations
 * count shard channels only (as Redis 7.0 does). */
static unsigned channelsAndPatterns(client *c) { return pubsubClientChannels(c) + pubsubClientPatterns(c); }

static dict **myChannels(client *c) { return &c->pubsubChannels; }
static dict **myPatterns(client *c) { return &c->pubsubPatterns; }
static dict **myShardChannels(client *c) { return &c->pubsubShardChannels; }

static const pubsubType channelType = {&channels, myChannels, channelsAndPatterns, "subscribe", "unsubscribe"};
static const pubsubType patternType = {&patterns, myPatterns, channelsAndPatterns, "psubscribe", "punsubscribe"};
static const pubsubType shardType = {&shardChannels, myShardChannels, pubsubClientShardChannels, "ssubscribe",
                                     "sunsubscribe"};

/* A client is in pub/sub context (RESP2: only the pub/sub commands, PING,
 * QUIT and RESET) while it has any subscription of any kind. */
static void updatePubsubFlag(client *c) {
    if (channelsAndPatterns(c) + pubsubClientShardChannels(c) > 0) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~CLIENT_PUBSUB;
}

/* Marks the replies added until pushEnd as a push: they pass CLIENT REPLY
 * OFF/SKIP.  Returns the previous state for pushEnd. */
static uint32_t pushBegin(client *c) {
    uint32_t was = c->flags & CLIENT_PUSHING;
    c->flags |= CLIENT_PUSHING;
    return was;
}

static void pushEnd(client *c, uint32_t was) {
    if (!was) c->flags &= ~CLIENT_PUSHING;
}

/* Sends [kind, name (or null), count] to c. */
static void replySubscription(client *c, const pubsubType *t, const char *kind, const char *name, size_t len,
                              int isNull) {
    uint32_t was = pushBegin(c);
    addReplyPushLen(c, 3);
    addReplyBulkCString(c, kind);
    if (isNull) addReplyNull(c);
    else addReplyBulk(c, name, len);
    addReplyLongLong(c, t->count(c));
    pushEnd(c, was);
}

/* Adds c to the subscribers of name in namespace t; returns 1 if it was not
 * subscribed yet, 0 if it already was (nothing changes). */
static int subscribe(client *c, const pubsubType *t, const char *name, size_t len) {
    dict **mine = t->mine(c);
    if (!*mine) {
        *mine = malloc(sizeof(dict));
        if (!*mine) abort();
        dictInit(*mine, subKeyOf);
    }
    if (dictFind(*mine, name, len)) return 0;
    channel *ch = (channel *)dictFind(t->all, name, len);
    if (!ch) {
        ch = calloc(1, sizeof(channel) + len);
        if (!ch) abort();
        ch->len = (uint32_t)len;
        memcpy(ch->name, name, len);
        dictAdd(t->all, &ch->link);
    }
    if (ch->nsubs == ch->cap) {
        ch->cap = ch->cap ? ch->cap * 2 : 4;
        ch->subs = realloc(ch->subs, sizeof(client *) * (size_t)ch->cap);
        if (!ch->subs) abort();
    }
    ch->subs[ch->nsubs++] = c;
    subscription *s = malloc(sizeof(*s));
    if (!s) abort();
    s->ch = ch;
    dictAdd(*mine, &s->link);
    return 1;
}

/* Removes c from the subscribers of name in namespace t, and the channel
 * itself once nobody listens.  Returns 1 if c was subscribed. */
static int unsubscribe(client *c, const pubsubType *t, const char *name, size_t len) {
    dict *mine = *t->mine(c);
    if (!mine) return 0;
    subscription *s = (subscription *)dictUnlink(mine, name, len);
    if (!s) return 0;
    channel *ch = s->ch;
    for (int i = 0; i < ch->nsubs; i++) {
        if (ch->subs[i] == c) {
            /* Keep arrival order: deliveries go out in subscription order. */
            memmove(&ch->subs[i], &ch->subs[i + 1], sizeof(client *) * (size_t)(ch->nsubs - i - 1));
            ch->nsubs--;
            break;
        }
    }
    if (ch->nsubs == 0) {
        dictUnlink(t->all, ch->name, ch->len);
        free(ch->subs);
        free(ch);
    }
    free(s);
    return 1;
}

/* Unsubscribes c from everything it has in namespace t, confirming each one
 * unless quiet; with nothing to leave, confirms [kind, null, count] once. */
static void unsubscribeAll(client *c, const pubsubType *t, int quiet) {
    dict **mine = t->mine(c);
    int any = 0;
    if (*mine) {
        dictIter it;
        dictIterSafe(&it, *mine);
        dictLink *l;
        while ((l = dictNext(&it))) {
            /* The name lives in the channel, which may go with the last subscriber. */
            channel *ch = ((subscription *)l)->ch;
            char stackbuf[256];
            size_t len = ch->len;
            char *name = len <= sizeof(stackbuf) ? stackbuf : malloc(len);
            if (!name) abort();
            memcpy(name, ch->name, len);
            unsubscribe(c, t, name, len);
            updatePubsubFlag(c);
            if (!quiet) replySubscription(c, t, t->unsubscribeMsg, name, len, 0);
            if (name != stackbuf) free(name);
            any = 1;
        }
        dictIterEnd(&it);
        dictClear(*mine, NULL, NULL);
        free(*mine);
        *mine = NULL;
    }
    updatePubsubFlag(c);
    if (!any && !quiet) replySubscription(c, t, t->unsubscribeMsg, NULL, 0, 1);
}

void pubsubFreeClient(client *c) {
    unsubscribeAll(c, &channelType, 1);
    unsubscribeAll(c, &patternType, 1);
    unsubscribeAll(c, &shardType, 1);
    c->flags &= ~CLIENT_PUBSUB;
}

/* Pushes one message to c: [kind, channel, message], or for a pattern
 * subscription [pmessage, pattern, channel, message]. */
static void deliver(client *c, const char *kind, const channel *pat, const char *ch, size_t chlen,
                    const char *msg, size_t msglen) {
    uint32_t was = pushBegin(c);
    addReplyPushLen(c, pat ? 4 : 3);
    addReplyBulkCString(c, kind);
    if (pat) addReplyBulk(c, pat->name, pat->len);
    addReplyBulk(c, ch, chlen);
    addReplyBulk(c, msg, msglen);
    pushEnd(c, was);
}

/* Delivers msg to the direct subscribers of ch in namespace all; returns how many. */
static long long publishDirect(dict *all, const char *kind, const char *ch, size_t chlen, const char *msg,
                               size_t msglen) {
    channel *chan = (channel *)dictFind(all, ch, chlen);
    if (!chan) return 0;
    for (int i = 0; i < chan->nsubs; i++) deliver(chan->subs[i], kind, NULL, ch, chlen, msg, msglen);
    return chan->nsubs;
}

long long pubsubPublish(const char *ch, size_t chlen, const char *msg, size_t msglen) {
    long long receivers = publishDirect(&channels, "message", ch, chlen, msg, msglen);
    if (dictSize(&patterns)) {
        dictIter it;
        dictIterInit(&it, &patterns);
        dictLink *l;
        while ((l = dictNext(&it))) {
            channel *p = (channel *)l;
            if (!stringmatchlen(p->name, p->len, ch, chlen, 0)) continue;
            for (int i = 0; i < p->nsubs; i++) deliver(p->subs[i], "pmessage", p, ch, chlen, msg, msglen);
            receivers += p->nsubs;
        }
        dictIterEnd(&it);
    }
    server.stat.pubsubMessages++;
    return receivers;
}

/* ---------- commands ---------- */

/* SUBSCRIBE / PSUBSCRIBE / SSUBSCRIBE: one confirmation per argument, even
 * for a channel the client already had. */
static void subscribeGeneric(client *c, const pubsubType *t) {
    for (int j = 1; j < c->argc; j++) {
        subscribe(c, t, c->argv[j].p, c->argv[j].len);
        updatePubsubFlag(c);
        replySubscription(c, t, t->subscribeMsg, c->argv[j].p, c->argv[j].len, 0);
    }
}

/* UNSUBSCRIBE / PUNSUBSCRIBE / SUNSUBSCRIBE: without arguments leaves every
 * subscription of that kind; one confirmation per argument otherwise, even
 * for a channel the client did not have. */
static void unsubscribeGeneric(client *c, const pubsubType *t) {
    if (c->argc == 1) {
        unsubscribeAll(c, t, 0);
        return;
    }
    for (int j = 1; j < c->argc; j++) {
        unsubscribe(c, t, c->argv[j].p, c->argv[j].len);
        updatePubsubFlag(c);
        replySubscription(c, t, t->unsubscribeMsg, c->argv[j].p, c->argv[j].len, 0);
    }
}

void subscribeCommand(client *c) { subscribeGeneric(c, &channelType); }
void psubscribeCommand(client *c) { subscribeGeneric(c, &patternType); }
void unsubscribeCommand(client *c) { unsubscribeGeneric(c, &channelType); }
void punsubscribeCommand(client *c) { unsubscribeGeneric(c, &patternType); }
void sunsubscribeCommand(client *c) { unsubscribeGeneric(c, &shardType); }

/* Inside EXEC a client expects one reply per command, so, like Redis, a
 * transaction may not open shard subscriptions (SUBSCRIBE stays allowed there
 * for backward compatibility). */
void ssubscribeCommand(client *c) {
    if (c->flags & CLIENT_DENY_BLOCKING) {
        addReplyError(c, "ERR SSUBSCRIBE isn't allowed for a DENY BLOCKING client");
        return;
    }
    subscribeGeneric(c, &shardType);
}

void publishCommand(client *c) {
    addReplyLongLong(c, pubsubPublish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len));
}

/* One shard: the message goes to this node's shard subscribers, never to
 * plain channel or pattern subscribers. */
void spublishCommand(client *c) {
    long long n = publishDirect(&shardChannels, "smessage", c->argv[1].p, c->argv[1].len, c->argv[2].p,
                                c->argv[2].len);
    server.stat.pubsubMessages++;
    addReplyLongLong(c, n);
}

/* PUBSUB subcommands check their own argument count, with Redis's
 * subcommand error rather than the arity one. */
static int pubsubArgsOk(client *c, int maxArgc) {
    if (c->argc <= maxArgc) return 1;
    int len = c->argv[1].len > 128 ? 128 : (int)c->argv[1].len;   /* arguments are not NUL-terminated */
    addReplyErrorFormat(c, "ERR unknown subcommand or wrong number of arguments for '%.*s'. Try PUBSUB HELP.",
                        len, c->argv[1].p);
    return 0;
}

/* Lists the channels of all whose name matches the optional pattern argument. */
static void listChannels(client *c, dict *all) {
    if (!pubsubArgsOk(c, 3)) return;
    arg *pat = c->argc > 2 ? &c->argv[2] : NULL;
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    dictIter it;
    dictIterInit(&it, all);
    dictLink *l;
    while ((l = dictNext(&it))) {
        channel *ch = (channel *)l;
        if (pat && !stringmatchlen(pat->p, pat->len, ch->name, ch->len, 0)) continue;
        addReplyBulk(c, ch->name, ch->len);
        n++;
    }
    dictIterEnd(&it);
    setDeferredArrayLen(c, at, n);
}

/* Replies channel, number of direct subscribers, for each argument: a flat
 * array in RESP3 too (Redis 7.0 does not send a map here). */
static void countSubscribers(client *c, dict *all) {
    addReplyArrayLen(c, (long)(c->argc - 2) * 2);
    for (int j = 2; j < c->argc; j++) {
        channel *ch = (channel *)dictFind(all, c->argv[j].p, c->argv[j].len);
        addReplyBulk(c, c->argv[j].p, c->argv[j].len);
        addReplyLongLong(c, ch ? ch->nsubs : 0);
    }
}

void pubsubChannelsCommand(client *c) { listChannels(c, &channels); }
void pubsubShardchannelsCommand(client *c) { listChannels(c, &shardChannels); }
void pubsubNumsubCommand(client *c) { countSubscribers(c, &channels); }
void pubsubShardnumsubCommand(client *c) { countSubscribers(c, &shardChannels); }
void pubsubNumpatCommand(client *c) { addReplyLongLong(c, (long long)dictSize(&patterns)); }

void pubsubHelpCommand(client *c) {
    static const char *help[] = {
        "CHANNELS [<pattern>]",
        "    Return the currently active channels matching a <pattern> (default: '*').",
        "NUMPAT",
        "    Return number of subscriptions to patterns.",
        "NUMSUB [<channel> ...]",
        "    Return the number of subscribers for the specified channels, excluding",
        "    pattern subscriptions(default: no channels).",
        "SHARDCHANNELS [<pattern>]",
        "    Return the currently active shard level channels matching a <pattern> (default: '*').",
        "SHARDNUMSUB [<shardchannel> ...]",
        "    Return the number of subscribers for the specified shard level channel(s)",
        NULL};
    addReplyHelp(c, help);
}

/* ---------- keyspace notifications ---------- */

static const struct { char letter; int flag; } eventLetters[] = {
    {'g', NOTIFY_GENERIC}, {'$', NOTIFY_STRING}, {'l', NOTIFY_LIST}, {'s', NOTIFY_SET},
    {'h', NOTIFY_HASH}, {'z', NOTIFY_ZSET}, {'x', NOTIFY_EXPIRED}, {'e', NOTIFY_EVICTED},
    {'K', NOTIFY_KEYSPACE}, {'E', NOTIFY_KEYEVENT}, {'t', NOTIFY_STREAM}, {'m', NOTIFY_KEY_MISS},
    {'d', NOTIFY_MODULE}, {'n', NOTIFY_NEW}, {0, 0}};

int keyspaceEventsStringToFlags(const char *s) {
    int flags = 0;
    for (; *s; s++) {
        if (*s == 'A') {
            flags |= NOTIFY_ALL;
            continue;
        }
        int i;
        for (i = 0; eventLetters[i].letter; i++)
            if (eventLetters[i].letter == *s) break;
        if (!eventLetters[i].letter) return -1;
        flags |= eventLetters[i].flag;
    }
    return flags;
}

/* Writes flags as CONFIG GET shows them, the way Redis 7.0 does: "A" when
 * every class is on, else the classes in the order g$lshzxetdn; then K, E, m.
 * (With "A", an 'n' flag is kept but not shown, as in Redis.) */
size_t keyspaceEventsFlagsToString(int flags, char *buf, size_t size) {
    size_t n = 0;
    if (size == 0) return 0;
    if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
        if (n + 1 < size) buf[n++] = 'A';
    } else {
        static const char order[] = "g$lshzxetdn";
        for (const char *o = order; *o; o++)
            for (int i = 0; eventLetters[i].letter; i++)
                if (eventLetters[i].letter == *o && (flags & eventLetters[i].flag) && n + 1 < size)
                    buf[n++] = *o;
    }
    if ((flags & NOTIFY_KEYSPACE) && n + 1 < size) buf[n++] = 'K';
    if ((flags & NOTIFY_KEYEVENT) && n + 1 < size) buf[n++] = 'E';
    if ((flags & NOTIFY_KEY_MISS) && n + 1 < size) buf[n++] = 'm';
    buf[n] = '\0';
    return n;
}

void notifyKeyspaceEvent(int type, const char *event, const char *key, size_t keylen, int dbid) {
    if (!(cfg.notifyFlags & type)) return;
    if (!(cfg.notifyFlags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT))) return;
    char stackbuf[512];
    size_t evlen = strlen(event);
    size_t need = 32 + (keylen > evlen ? keylen : evlen);
    char *buf = need <= sizeof(stackbuf) ? stackbuf : malloc(need);
    if (!buf) abort();
    if (cfg.notifyFlags & NOTIFY_KEYSPACE) {
        int n = snprintf(buf, need, "__keyspace@%d__:", dbid);
        memcpy(buf + n, key, keylen);
        pubsubPublish(buf, (size_t)n + keylen, event, evlen);
    }
    if (cfg.notifyFlags & NOTIFY_KEYEVENT) {
        int n = snprintf(buf, need, "__keyevent@%d__:%s", dbid, event);
        pubsubPublish(buf, (size_t)n, key, keylen);
    }
    if (buf != stackbuf) free(buf);
}
