/* pubsub.c - channels, patterns and keyspace notifications.  Messages are
 * pushed into subscribers' reply buffers and leave with the next flush; a
 * subscriber that stops reading is bounded by the pub/sub output limit. */
#include "pubsub.h"
#include "cmdlist.h"
#include "config.h"
#include "dict.h"
#include "server.h"
#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A channel (or pattern) and its subscribers. */
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

unsigned pubsubClientChannels(client *c) { return c->pubsubChannels ? (unsigned)dictSize(c->pubsubChannels) : 0; }
unsigned pubsubClientPatterns(client *c) { return c->pubsubPatterns ? (unsigned)dictSize(c->pubsubPatterns) : 0; }
size_t pubsubTotalChannels(void) { return dictSize(&channels); }
size_t pubsubTotalPatterns(void) { return dictSize(&patterns); }

static unsigned subscriptionCount(client *c) { return pubsubClientChannels(c) + pubsubClientPatterns(c); }

static void updatePubsubFlag(client *c) {
    if (subscriptionCount(c) > 0) c->flags |= CLIENT_PUBSUB;
    else c->flags &= ~CLIENT_PUBSUB;
}

static void replySubscription(client *c, const char *kind, const char *name, size_t len, int isNull) {
    addReplyPushLen(c, 3);
    addReplyBulkCString(c, kind);
    if (isNull) addReplyNull(c);
    else addReplyBulk(c, name, len);
    addReplyLongLong(c, subscriptionCount(c));
}

/* Adds c to the channel/pattern; returns 1 if it was new. */
static int subscribe(client *c, dict **mine, dict *global, const char *name, size_t len) {
    if (!*mine) {
        *mine = malloc(sizeof(dict));
        if (!*mine) abort();
        dictInit(*mine, subKeyOf);
    }
    if (dictFind(*mine, name, len)) return 0;
    channel *ch = (channel *)dictFind(global, name, len);
    if (!ch) {
        ch = calloc(1, sizeof(channel) + len);
        if (!ch) abort();
        ch->len = (uint32_t)len;
        memcpy(ch->name, name, len);
        dictAdd(global, &ch->link);
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

static int unsubscribe(client *c, dict *mine, dict *global, const char *name, size_t len) {
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
        dictUnlink(global, ch->name, ch->len);
        free(ch->subs);
        free(ch);
    }
    free(s);
    return 1;
}

/* Unsubscribes from everything in mine, replying for each unless quiet. */
static void unsubscribeAll(client *c, dict **mine, dict *global, const char *kind, int quiet) {
    int any = 0;
    while (*mine && dictSize(*mine) > 0) {
        dictIter it;
        dictIterInit(&it, *mine);
        subscription *s = (subscription *)dictNext(&it);
        dictIterEnd(&it);
        char name[256];
        size_t len = s->ch->len;
        char *copy = len <= sizeof(name) ? name : malloc(len);
        if (!copy) abort();
        memcpy(copy, s->ch->name, len);
        unsubscribe(c, *mine, global, copy, len);
        updatePubsubFlag(c);
        if (!quiet) replySubscription(c, kind, copy, len, 0);
        if (copy != name) free(copy);
        any = 1;
    }
    if (*mine) {
        free((*mine)->table[0]);
        free((*mine)->table[1]);
        free(*mine);
        *mine = NULL;
    }
    updatePubsubFlag(c);
    if (!any && !quiet) replySubscription(c, kind, NULL, 0, 1);
}

void pubsubFreeClient(client *c) {
    unsubscribeAll(c, &c->pubsubChannels, &channels, "unsubscribe", 1);
    unsubscribeAll(c, &c->pubsubPatterns, &patterns, "punsubscribe", 1);
    c->flags &= ~CLIENT_PUBSUB;
}

static void deliver(client *c, const char *pat, size_t patlen, const char *ch, size_t chlen,
                    const char *msg, size_t msglen) {
    if (pat) {
        addReplyPushLen(c, 4);
        addReplyBulk(c, "pmessage", 8);
        addReplyBulk(c, pat, patlen);
    } else {
        addReplyPushLen(c, 3);
        addReplyBulk(c, "message", 7);
    }
    addReplyBulk(c, ch, chlen);
    addReplyBulk(c, msg, msglen);
}

long long pubsubPublish(const char *ch, size_t chlen, const char *msg, size_t msglen) {
    long long receivers = 0;
    channel *chan = (channel *)dictFind(&channels, ch, chlen);
    if (chan) {
        for (int i = 0; i < chan->nsubs; i++) {
            deliver(chan->subs[i], NULL, 0, ch, chlen, msg, msglen);
            receivers++;
        }
    }
    if (dictSize(&patterns)) {
        dictIter it;
        dictIterInit(&it, &patterns);
        dictLink *l;
        while ((l = dictNext(&it))) {
            channel *p = (channel *)l;
            if (!stringmatchlen(p->name, p->len, ch, chlen, 0)) continue;
            for (int i = 0; i < p->nsubs; i++) {
                deliver(p->subs[i], p->name, p->len, ch, chlen, msg, msglen);
                receivers++;
            }
        }
        dictIterEnd(&it);
    }
    server.stat.pubsubMessages++;
    return receivers;
}

void subscribeCommand(client *c) {
    for (int j = 1; j < c->argc; j++) {
        subscribe(c, &c->pubsubChannels, &channels, c->argv[j].p, c->argv[j].len);
        updatePubsubFlag(c);
        replySubscription(c, "subscribe", c->argv[j].p, c->argv[j].len, 0);
    }
}

void psubscribeCommand(client *c) {
    for (int j = 1; j < c->argc; j++) {
        subscribe(c, &c->pubsubPatterns, &patterns, c->argv[j].p, c->argv[j].len);
        updatePubsubFlag(c);
        replySubscription(c, "psubscribe", c->argv[j].p, c->argv[j].len, 0);
    }
}

void unsubscribeCommand(client *c) {
    if (c->argc == 1) {
        unsubscribeAll(c, &c->pubsubChannels, &channels, "unsubscribe", 0);
        return;
    }
    for (int j = 1; j < c->argc; j++) {
        unsubscribe(c, c->pubsubChannels, &channels, c->argv[j].p, c->argv[j].len);
        updatePubsubFlag(c);
        replySubscription(c, "unsubscribe", c->argv[j].p, c->argv[j].len, 0);
    }
}

void punsubscribeCommand(client *c) {
    if (c->argc == 1) {
        unsubscribeAll(c, &c->pubsubPatterns, &patterns, "punsubscribe", 0);
        return;
    }
    for (int j = 1; j < c->argc; j++) {
        unsubscribe(c, c->pubsubPatterns, &patterns, c->argv[j].p, c->argv[j].len);
        updatePubsubFlag(c);
        replySubscription(c, "punsubscribe", c->argv[j].p, c->argv[j].len, 0);
    }
}

/* Sharded pub/sub has one shard here: it behaves as plain channels of its own namespace. */
void ssubscribeCommand(client *c) {
    addReplyError(c, "ERR SSUBSCRIBE is not supported by lattice yet");
}
void sunsubscribeCommand(client *c) {
    addReplyError(c, "ERR SUNSUBSCRIBE is not supported by lattice yet");
}
void spublishCommand(client *c) { addReplyLongLong(c, 0); }

void publishCommand(client *c) {
    addReplyLongLong(c, pubsubPublish(c->argv[1].p, c->argv[1].len, c->argv[2].p, c->argv[2].len));
}

void pubsubChannelsCommand(client *c) {
    arg *pat = c->argc > 2 ? &c->argv[2] : NULL;
    if (c->argc > 3) { addReplyErrorArity(c); return; }
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    dictIter it;
    dictIterInit(&it, &channels);
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

void pubsubNumsubCommand(client *c) {
    addReplyMapLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        channel *ch = (channel *)dictFind(&channels, c->argv[j].p, c->argv[j].len);
        addReplyBulk(c, c->argv[j].p, c->argv[j].len);
        addReplyLongLong(c, ch ? ch->nsubs : 0);
    }
}

void pubsubNumpatCommand(client *c) { addReplyLongLong(c, (long long)dictSize(&patterns)); }

void pubsubShardchannelsCommand(client *c) {
    if (c->argc > 3) { addReplyErrorArity(c); return; }
    addReplyArrayLen(c, 0);
}

void pubsubShardnumsubCommand(client *c) {
    addReplyMapLen(c, c->argc - 2);
    for (int j = 2; j < c->argc; j++) {
        addReplyBulk(c, c->argv[j].p, c->argv[j].len);
        addReplyLongLong(c, 0);
    }
}

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

size_t keyspaceEventsFlagsToString(int flags, char *buf, size_t size) {
    size_t n = 0;
    if (size == 0) return 0;
    if ((flags & NOTIFY_ALL) == NOTIFY_ALL) {
        if (n + 1 < size) buf[n++] = 'A';
    } else {
        static const char order[] = "g$lshzxetd";
        for (const char *o = order; *o; o++)
            for (int i = 0; eventLetters[i].letter; i++)
                if (eventLetters[i].letter == *o && (flags & eventLetters[i].flag) && n + 1 < size)
                    buf[n++] = *o;
    }
    if ((flags & NOTIFY_KEYSPACE) && n + 1 < size) buf[n++] = 'K';
    if ((flags & NOTIFY_KEYEVENT) && n + 1 < size) buf[n++] = 'E';
    if ((flags & NOTIFY_KEY_MISS) && n + 1 < size) buf[n++] = 'm';
    if ((flags & NOTIFY_NEW) && n + 1 < size) buf[n++] = 'n';
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
