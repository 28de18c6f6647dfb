/* multi.c - transactions: MULTI queues commands (their arguments copied out of
 * the query buffer), EXEC runs them back to back, WATCH aborts EXEC when a
 * watched key changed.  Watched keys learn of changes through the keyspace's
 * one change hook (an observer registered in multiInit). */
#include "multi.h"
#include "cmdlist.h"
#include "commands.h"
#include "db.h"
#include "server.h"

#include <stdlib.h>
#include <string.h>

typedef struct queuedCommand {
    command *cmd;
    int argc;
    arg *argv;           /* one allocation: array then the bytes */
} queuedCommand;

typedef struct multiState {
    queuedCommand *cmds;
    int count, cap;
} multiState;

/* One node per (db, key) in db->watched, listing the clients that watch it. */
typedef struct watchedKey {
    dictLink link;
    client **clients;
    int nclients, cap;
    uint32_t keylen;
    char key[];
} watchedKey;

/* Per client: the keys it watches. */
typedef struct watched {
    struct watched *next;
    db *d;
    watchedKey *wk;
    int expiredAtWatch;   /* already logically expired when WATCHed */
} watched;

const char *watchedKeyOf(const dictLink *n, size_t *len) {
    const watchedKey *w = (const watchedKey *)n;
    *len = w->keylen;
    return w->key;
}

static void touchWatchedKey(db *d, const char *key, size_t len) {
    if (dictSize(&d->watched) == 0) return;
    watchedKey *wk = (watchedKey *)dictFind(&d->watched, key, len);
    if (!wk) return;
    for (int i = 0; i < wk->nclients; i++) wk->clients[i]->flags |= CLIENT_DIRTY_CAS;
}

static void onKeyChanged(db *d, const char *key, size_t len, kv *k, uint64_t prevMerkle, version ver) {
    (void)k; (void)prevMerkle; (void)ver;
    touchWatchedKey(d, key, len);
}

void multiInit(void) { dbAddObserver(onKeyChanged); }

/* SWAPDB: a client watching key K in d now sees other's K. */
void touchAllWatchedKeysInDb(db *d, db *other) {
    if (dictSize(&d->watched) == 0) return;
    dictIter it;
    dictIterInit(&it, &d->watched);
    dictLink *l;
    while ((l = dictNext(&it))) {
        watchedKey *wk = (watchedKey *)l;
        int inD = dbFind(d, wk->key, wk->keylen) != NULL;
        int inOther = other && dbFind(other, wk->key, wk->keylen) != NULL;
        if (inD || inOther)
            for (int i = 0; i < wk->nclients; i++) wk->clients[i]->flags |= CLIENT_DIRTY_CAS;
    }
    dictIterEnd(&it);
}

int multiQueuedCount(client *c) { return c->mstate ? c->mstate->count : 0; }

void queueMultiCommand(client *c, command *cmd) {
    if (c->flags & CLIENT_DIRTY_EXEC) return;   /* EXEC will fail anyway */
    multiState *m = c->mstate;
    if (m->count == m->cap) {
        m->cap = m->cap ? m->cap * 2 : 8;
        m->cmds = realloc(m->cmds, sizeof(queuedCommand) * (size_t)m->cap);
        if (!m->cmds) abort();
    }
    size_t bytes = 0;
    for (int i = 0; i < c->argc; i++) bytes += c->argv[i].len + 1;
    arg *argv = malloc(sizeof(arg) * (size_t)c->argc + bytes);
    if (!argv) abort();
    char *p = (char *)(argv + c->argc);
    for (int i = 0; i < c->argc; i++) {
        memcpy(p, c->argv[i].p, c->argv[i].len);
        p[c->argv[i].len] = '\0';
        argv[i].p = p;
        argv[i].len = c->argv[i].len;
        p += c->argv[i].len + 1;
    }
    queuedCommand *q = &m->cmds[m->count++];
    q->cmd = cmd;
    q->argc = c->argc;
    q->argv = argv;
}

void discardTransaction(client *c) {
    multiState *m = c->mstate;
    if (m) {
        for (int i = 0; i < m->count; i++) free(m->cmds[i].argv);
        free(m->cmds);
        free(m);
        c->mstate = NULL;
    }
    c->flags &= ~(CLIENT_MULTI | CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
    unwatchAllKeys(c);
}

void unwatchAllKeys(client *c) {
    while (c->watched) {
        watched *w = c->watched;
        c->watched = w->next;
        watchedKey *wk = w->wk;
        for (int i = 0; i < wk->nclients; i++) {
            if (wk->clients[i] == c) {
                wk->clients[i] = wk->clients[--wk->nclients];
                break;
            }
        }
        if (wk->nclients == 0) {
            dictUnlink(&w->d->watched, wk->key, wk->keylen);
            free(wk->clients);
            free(wk);
        }
        free(w);
    }
}

void multiFreeClient(client *c) { discardTransaction(c); }

void multiCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        addReplyError(c, "ERR MULTI calls can not be nested");
        return;
    }
    c->mstate = calloc(1, sizeof(multiState));
    if (!c->mstate) abort();
    c->flags |= CLIENT_MULTI;
    addReplyOK(c);
}

void discardCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        addReplyError(c, "ERR DISCARD without MULTI");
        return;
    }
    discardTransaction(c);
    addReplyOK(c);
}

void execCommand(client *c) {
    if (!(c->flags & CLIENT_MULTI)) {
        addReplyError(c, "ERR EXEC without MULTI");
        return;
    }
    /* A watched key that expired since WATCH counts as changed. */
    for (watched *w = c->watched; w; w = w->next) {
        kv *k = dbFind(w->d, w->wk->key, w->wk->keylen);
        if (k && !w->expiredAtWatch && keyIsExpired(w->d, k)) c->flags |= CLIENT_DIRTY_CAS;
    }
    if (c->flags & CLIENT_DIRTY_EXEC) {
        addReplyError(c, "EXECABORT Transaction discarded because of previous errors.");
        discardTransaction(c);
        return;
    }
    if (c->flags & CLIENT_DIRTY_CAS) {
        addReplyNullArray(c);
        discardTransaction(c);
        return;
    }
    multiState *m = c->mstate;
    c->mstate = NULL;
    c->flags &= ~CLIENT_MULTI;
    unwatchAllKeys(c);
    /* MONITOR: MULTI was shown when it ran, each queued command is shown by
     * call() below, and EXEC by the call() that runs this function, after. */
    addReplyArrayLen(c, m->count);
    int savedArgc = c->argc;
    arg *savedArgv = c->argv;
    command *savedCmd = c->cmd;
    for (int i = 0; i < m->count; i++) {
        c->argc = m->cmds[i].argc;
        c->argv = m->cmds[i].argv;
        c->flags |= CLIENT_DENY_BLOCKING;
        call(c, m->cmds[i].cmd);
        c->flags &= ~CLIENT_DENY_BLOCKING;
    }
    c->argc = savedArgc;
    c->argv = savedArgv;
    c->cmd = savedCmd;
    for (int i = 0; i < m->count; i++) free(m->cmds[i].argv);
    free(m->cmds);
    free(m);
    c->flags &= ~(CLIENT_DIRTY_CAS | CLIENT_DIRTY_EXEC);
}

void watchCommand(client *c) {
    if (c->flags & CLIENT_MULTI) {
        addReplyError(c, "ERR WATCH inside MULTI is not allowed");
        return;
    }
    for (int j = 1; j < c->argc; j++) {
        arg *key = &c->argv[j];
        int already = 0;
        for (watched *w = c->watched; w; w = w->next) {
            if (w->d == c->db && w->wk->keylen == key->len && memcmp(w->wk->key, key->p, key->len) == 0) {
                already = 1;
                break;
            }
        }
        if (already) continue;
        watchedKey *wk = (watchedKey *)dictFind(&c->db->watched, key->p, key->len);
        if (!wk) {
            wk = calloc(1, sizeof(watchedKey) + key->len);
            if (!wk) abort();
            wk->keylen = (uint32_t)key->len;
            memcpy(wk->key, key->p, key->len);
            dictAdd(&c->db->watched, &wk->link);
        }
        if (wk->nclients == wk->cap) {
            wk->cap = wk->cap ? wk->cap * 2 : 4;
            wk->clients = realloc(wk->clients, sizeof(client *) * (size_t)wk->cap);
            if (!wk->clients) abort();
        }
        wk->clients[wk->nclients++] = c;
        watched *w = malloc(sizeof(*w));
        if (!w) abort();
        w->d = c->db;
        w->wk = wk;
        kv *k = dbFind(c->db, key->p, key->len);
        w->expiredAtWatch = k && keyIsExpired(c->db, k);
        w->next = c->watched;
        c->watched = w;
    }
    addReplyOK(c);
}

void unwatchCommand(client *c) {
    unwatchAllKeys(c);
    c->flags &= ~CLIENT_DIRTY_CAS;
    addReplyOK(c);
}
