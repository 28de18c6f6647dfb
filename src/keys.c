/* keys.c - keyspace commands: deleting, finding, renaming, moving and copying
 * keys, their deadlines, and the database selection.  Deletions leave
 * tombstones through db.c; none of these touch the tables directly. */
#include "cmdlist.h"
#include "commands.h"
#include "config.h"
#include "db.h"
#include "peer.h"
#include "networking.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static void delGeneric(client *c) {
    long long n = 0;
    for (int j = 1; j < c->argc; j++) {
        arg *key = &c->argv[j];
        if (dbDeleteKey(c->db, key->p, key->len, nextVersion())) {
            notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key->p, key->len, c->db->id);
            n++;
        }
    }
    addReplyLongLong(c, n);
}

void delCommand(client *c) { delGeneric(c); }
void unlinkCommand(client *c) { delGeneric(c); }

/* EXISTS, TYPE, TTL and OBJECT count as keyspace hits or misses but do not
 * refresh a key's access time: looking at a key is not using it. */
void existsCommand(client *c) {
    long long n = 0;
    for (int j = 1; j < c->argc; j++)
        if (lookupKeyReadFlags(c->db, c->argv[j].p, c->argv[j].len, LOOKUP_NOTOUCH)) n++;
    addReplyLongLong(c, n);
}

void touchCommand(client *c) {
    long long n = 0;
    for (int j = 1; j < c->argc; j++)
        if (lookupKeyRead(c->db, c->argv[j].p, c->argv[j].len)) n++;
    addReplyLongLong(c, n);
}

static const char *typeName(int type) {
    switch (type) {
    case OBJ_STRING: return "string";
    case OBJ_LIST: return "list";
    case OBJ_SET: return "set";
    case OBJ_ZSET: return "zset";
    case OBJ_HASH: return "hash";
    }
    return "unknown";
}

void typeCommand(client *c) {
    kv *k = lookupKeyReadFlags(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOTOUCH);
    addReplyStatus(c, k ? typeName(k->type) : "none");
}

void keysCommand(client *c) {
    arg *pat = &c->argv[1];
    int all = pat->len == 1 && pat->p[0] == '*';
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    dictIter it;
    dictIterSafe(&it, &c->db->keys);
    dictLink *l;
    while ((l = dictNext(&it))) {
        kv *k = (kv *)l;
        if (!all && !stringmatchlen(pat->p, pat->len, k->key, k->keylen, 0)) continue;
        if (keyIsExpired(c->db, k)) continue;
        addReplyBulk(c, k->key, k->keylen);
        n++;
    }
    dictIterEnd(&it);
    setDeferredArrayLen(c, at, n);
}

/* ---------- SCAN ---------- */

typedef struct scanCollect {
    kv **items;
    size_t n, cap;
} scanCollect;

static void scanCallback(dictLink *l, void *ctx) {
    scanCollect *s = ctx;
    if (s->n == s->cap) {
        s->cap = s->cap ? s->cap * 2 : 16;
        s->items = realloc(s->items, s->cap * sizeof(kv *));
        if (!s->items) abort();
    }
    s->items[s->n++] = (kv *)l;
}

/* Parses a SCAN cursor as Redis does (strtoul semantics over the whole arg). */
int parseScanCursor(client *c, const arg *a, unsigned long long *cursor) {
    char buf[64];
    /* strtoul rules over the whole argument: "" is 0, leading space is refused. */
    if (a->len >= sizeof(buf) || (a->len && isspace((unsigned char)a->p[0]))) goto bad;
    memcpy(buf, a->p, a->len);
    buf[a->len] = '\0';
    char *end;
    errno = 0;
    *cursor = strtoull(buf, &end, 10);
    if (*end != '\0' || errno == ERANGE) goto bad;
    return 0;
bad:
    addReplyError(c, "ERR invalid cursor");
    return -1;
}

int parseScanOptions(client *c, int from, long long *count, arg **pat, arg **type) {
    *count = 10;
    *pat = NULL;
    if (type) *type = NULL;
    for (int j = from; j < c->argc; j++) {
        int more = c->argc - j - 1;
        if (argEq(&c->argv[j], "count") && more) {
            if (getLongLongFromArg(c, &c->argv[j + 1], count, NULL) < 0) return -1;
            if (*count < 1) { addReplyErrorSyntax(c); return -1; }
            j++;
        } else if (argEq(&c->argv[j], "match") && more) {
            *pat = &c->argv[++j];
            if ((*pat)->len == 1 && (*pat)->p[0] == '*') *pat = NULL;
        } else if (type && argEq(&c->argv[j], "type") && more) {
            *type = &c->argv[++j];
        } else {
            addReplyErrorSyntax(c);
            return -1;
        }
    }
    return 0;
}

void scanCommand(client *c) {
    unsigned long long cursor;
    if (parseScanCursor(c, &c->argv[1], &cursor) < 0) return;
    long long count;
    arg *pat, *type;
    if (parseScanOptions(c, 2, &count, &pat, &type) < 0) return;
    scanCollect s = {NULL, 0, 0};
    long long maxiter = count * 10;
    do {
        cursor = dictScan(&c->db->keys, cursor, scanCallback, &s);
    } while (cursor && maxiter-- && s.n < (size_t)count);
    char buf[24];
    int len = ull2string(buf, sizeof(buf), cursor);
    addReplyArrayLen(c, 2);
    addReplyBulk(c, buf, (size_t)len);
    size_t at = addReplyDeferredLen(c);
    long n = 0;
    for (size_t i = 0; i < s.n; i++) {
        kv *k = s.items[i];
        if (pat && !stringmatchlen(pat->p, pat->len, k->key, k->keylen, 0)) continue;
        if (type && !argEq(type, typeName(k->type))) continue;
        if (keyIsExpired(c->db, k)) continue;
        addReplyBulk(c, k->key, k->keylen);
        n++;
    }
    free(s.items);
    setDeferredArrayLen(c, at, n);
}

void randomkeyCommand(client *c) {
    kv *k = dbRandomKey(c->db);
    if (!k) addReplyNull(c);
    else addReplyBulk(c, k->key, k->keylen);
}

void dbsizeCommand(client *c) { addReplyLongLong(c, (long long)dictSize(&c->db->keys)); }

static int parseFlushFlags(client *c) {
    if (c->argc > 2 || (c->argc == 2 && !argEq(&c->argv[1], "sync") && !argEq(&c->argv[1], "async"))) {
        addReplyErrorSyntax(c);
        return -1;
    }
    return 0;
}

void flushdbCommand(client *c) {
    if (parseFlushFlags(c) < 0) return;
    emptyDb(c->db->id);
    addReplyOK(c);
}

void flushallCommand(client *c) {
    if (parseFlushFlags(c) < 0) return;
    emptyDb(-1);
    addReplyOK(c);
}

/* ---------- expiry ---------- */

#define EXP_NX 1
#define EXP_XX 2
#define EXP_GT 4
#define EXP_LT 8

static void expireGeneric(client *c, int64_t basetime, int unitSeconds) {
    arg *key = &c->argv[1];
    long long when;
    int flags = 0;
    for (int j = 3; j < c->argc; j++) {
        arg *o = &c->argv[j];
        if (argEq(o, "nx")) flags |= EXP_NX;
        else if (argEq(o, "xx")) flags |= EXP_XX;
        else if (argEq(o, "gt")) flags |= EXP_GT;
        else if (argEq(o, "lt")) flags |= EXP_LT;
        else {
            addReplyErrorFormat(c, "ERR Unsupported option %.*s", (int)o->len, o->p);
            return;
        }
    }
    if ((flags & EXP_NX) && (flags & (EXP_XX | EXP_GT | EXP_LT))) {
        addReplyError(c, "ERR NX and XX, GT or LT options at the same time are not compatible");
        return;
    }
    if ((flags & EXP_GT) && (flags & EXP_LT)) {
        addReplyError(c, "ERR GT and LT options at the same time are not compatible");
        return;
    }
    if (getLongLongFromArg(c, &c->argv[2], &when, NULL) < 0) return;
    char err[96];
    snprintf(err, sizeof(err), "ERR invalid expire time in '%s' command", c->cmd->fullname);
    if (unitSeconds) {
        if (when > LLONG_MAX / 1000 || when < LLONG_MIN / 1000) { addReplyError(c, err); return; }
        when *= 1000;
    }
    if (when > LLONG_MAX - basetime) { addReplyError(c, err); return; }
    when += basetime;
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    if (!k) { addReplyLongLong(c, 0); return; }
    int64_t cur = getExpire(c->db, k);
    if (flags) {
        if ((flags & EXP_NX) && cur != -1) { addReplyLongLong(c, 0); return; }
        if ((flags & EXP_XX) && cur == -1) { addReplyLongLong(c, 0); return; }
        if ((flags & EXP_GT) && (cur == -1 || when <= cur)) { addReplyLongLong(c, 0); return; }
        if ((flags & EXP_LT) && cur != -1 && when >= cur) { addReplyLongLong(c, 0); return; }
    }
    if (when <= server.mstime) {
        dbDelete(c->db, k, nextVersion());
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key->p, key->len, c->db->id);
        addReplyLongLong(c, 1);
        return;
    }
    version v = nextVersion();
    setExpire(c->db, k, when, v);
    dbDeadlineTouched(c->db, k, v);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key->p, key->len, c->db->id);
    addReplyLongLong(c, 1);
}

void expireCommand(client *c) { expireGeneric(c, server.mstime, 1); }
void pexpireCommand(client *c) { expireGeneric(c, server.mstime, 0); }
void expireatCommand(client *c) { expireGeneric(c, 0, 1); }
void pexpireatCommand(client *c) { expireGeneric(c, 0, 0); }

/* output: 0 TTL s, 1 TTL ms, 2 EXPIRETIME s, 3 EXPIRETIME ms */
static void ttlGeneric(client *c, int output) {
    kv *k = lookupKeyReadFlags(c->db, c->argv[1].p, c->argv[1].len, LOOKUP_NOTOUCH);
    if (!k) { addReplyLongLong(c, -2); return; }
    int64_t when = getExpire(c->db, k);
    if (when == -1) { addReplyLongLong(c, -1); return; }
    switch (output) {
    case 0: {
        int64_t ttl = when - server.mstime;
        if (ttl < 0) ttl = 0;
        addReplyLongLong(c, (ttl + 500) / 1000);
        break;
    }
    case 1: {
        int64_t ttl = when - server.mstime;
        addReplyLongLong(c, ttl < 0 ? 0 : ttl);
        break;
    }
    case 2: addReplyLongLong(c, when / 1000 + (when % 1000 >= 500)); break;   /* no overflow near LLONG_MAX */
    default: addReplyLongLong(c, when); break;
    }
}

void ttlCommand(client *c) { ttlGeneric(c, 0); }
void pttlCommand(client *c) { ttlGeneric(c, 1); }
void expiretimeCommand(client *c) { ttlGeneric(c, 2); }
void pexpiretimeCommand(client *c) { ttlGeneric(c, 3); }

void persistCommand(client *c) {
    arg *key = &c->argv[1];
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    if (k && getExpire(c->db, k) != -1) {
        version v = nextVersion();
        setExpire(c->db, k, -1, v);     /* "no deadline" keeps its version (db.h) */
        dbDeadlineTouched(c->db, k, v);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "persist", key->p, key->len, c->db->id);
        addReplyLongLong(c, 1);
    } else {
        addReplyLongLong(c, 0);
    }
}

/* ---------- databases ---------- */

static int parseDbIndex(client *c, const arg *a, int *id) {
    long long v;
    if (getLongLongFromArg(c, a, &v, NULL) < 0) return -1;
    if (v < 0 || v >= dbCount()) {
        addReplyError(c, "ERR DB index is out of range");
        return -1;
    }
    *id = (int)v;
    return 0;
}

void selectCommand(client *c) {
    int id;
    long long v;
    if (!string2ll(c->argv[1].p, c->argv[1].len, &v) || v < INT_MIN || v > INT_MAX) {
        addReplyError(c, "ERR value is not an integer or out of range");
        return;
    }
    if (parseDbIndex(c, &c->argv[1], &id) < 0) return;
    c->dbid = id;
    c->db = dbAt(id);
    addReplyOK(c);
}

void swapdbCommand(client *c) {
    long long a, b;
    if (getLongLongFromArg(c, &c->argv[1], &a, "ERR invalid first DB index") < 0) return;
    if (getLongLongFromArg(c, &c->argv[2], &b, "ERR invalid second DB index") < 0) return;
    if (a < 0 || b < 0 || a >= dbCount() || b >= dbCount()) {
        addReplyError(c, "ERR DB index is out of range");
        return;
    }
    if (peerCount() > 0) {
        /* not a CRDT operation: peers would merge the two databases' keys */
        addReplyError(c, "ERR SWAPDB is not supported while this node has peers");
        return;
    }
    dbSwap((int)a, (int)b);
    server.dirty++;
    addReplyOK(c);
}

/* Makes a new key named `to` in d holding a copy (or, with steal, the value
 * itself) of src's value and deadline. */
static kv *copyValueTo(db *d, const arg *to, kv *src, int64_t expire, int steal) {
    version v = nextVersion();
    kv *k = dbCreate(d, to->p, to->len, src->type);
    if (steal) {
        k->type = src->type;
        k->enc = src->enc;
        k->v = src->v;
        /* The source keeps what its delete must observe, so that its tombstone
         * removes only what it saw where the old value is still held (a
         * concurrent add to the source elsewhere survives). */
        if (src->type == OBJ_SET) src->v.ptr = orsetEmptyLike(k->v.ptr);
        else if (src->type == OBJ_HASH) src->v.ptr = ormapEmptyLike(k->v.ptr);
        else if (src->enc == ENC_COUNTER) kvCopyValue(src, k);
        else src->enc = ENC_INT, src->type = OBJ_STRING, src->v.i = 0;
    } else {
        kvCopyValue(k, src);
    }
    k->ver = v;
    k->editedInPlace = src->editedInPlace;
    if (k->type != OBJ_STRING) dbNewIncarnation(d, k, v);   /* strings: in dbWritten */
    if (expire != -1) setExpire(d, k, expire, v);
    dbWritten(d, k, v);
    return k;
}

static void renameGeneric(client *c, int nx) {
    arg *from = &c->argv[1], *to = &c->argv[2];
    kv *src = lookupKeyWrite(c->db, from->p, from->len);
    if (!src) {
        addReplyError(c, "ERR no such key");
        return;
    }
    if (from->len == to->len && memcmp(from->p, to->p, from->len) == 0) {
        if (nx) addReplyLongLong(c, 0);
        else addReplyOK(c);
        return;
    }
    kv *dst = lookupKeyWrite(c->db, to->p, to->len);
    if (dst) {
        if (nx) { addReplyLongLong(c, 0); return; }
        dbDelete(c->db, dst, nextVersion());
    }
    int64_t expire = getExpire(c->db, src);
    copyValueTo(c->db, to, src, expire, 1);
    dbDelete(c->db, src, nextVersion());
    notifyKeyspaceEvent(NOTIFY_GENERIC, "rename_from", from->p, from->len, c->db->id);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "rename_to", to->p, to->len, c->db->id);
    if (nx) addReplyLongLong(c, 1);
    else addReplyOK(c);
}

void renameCommand(client *c) { renameGeneric(c, 0); }
void renamenxCommand(client *c) { renameGeneric(c, 1); }

void moveCommand(client *c) {
    arg *key = &c->argv[1];
    long long v;
    if (getLongLongFromArg(c, &c->argv[2], &v, NULL) < 0) return;
    if (v < 0 || v >= dbCount() || v > INT_MAX) {
        addReplyError(c, "ERR DB index is out of range");
        return;
    }
    db *dst = dbAt((int)v);
    if (dst == c->db) {
        addReplyError(c, "ERR source and destination objects are the same");
        return;
    }
    kv *src = lookupKeyWrite(c->db, key->p, key->len);
    if (!src || lookupKeyWrite(dst, key->p, key->len)) {
        addReplyLongLong(c, 0);
        return;
    }
    int64_t expire = getExpire(c->db, src);
    copyValueTo(dst, key, src, expire, 1);
    dbDelete(c->db, src, nextVersion());
    notifyKeyspaceEvent(NOTIFY_GENERIC, "move_from", key->p, key->len, c->db->id);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "move_to", key->p, key->len, dst->id);
    addReplyLongLong(c, 1);
}

void copyCommand(client *c) {
    arg *from = &c->argv[1], *to = &c->argv[2];
    db *dst = c->db;
    int replace = 0;
    for (int j = 3; j < c->argc; j++) {
        if (argEq(&c->argv[j], "replace")) {
            replace = 1;
        } else if (argEq(&c->argv[j], "db") && j + 1 < c->argc) {
            long long v;
            if (getLongLongFromArg(c, &c->argv[j + 1], &v, NULL) < 0) return;
            if (v < 0 || v >= dbCount()) {
                addReplyError(c, "ERR DB index is out of range");
                return;
            }
            dst = dbAt((int)v);
            j++;
        } else {
            addReplyErrorSyntax(c);
            return;
        }
    }
    if (dst == c->db && from->len == to->len && memcmp(from->p, to->p, from->len) == 0) {
        addReplyError(c, "ERR source and destination objects are the same");
        return;
    }
    kv *src = lookupKeyRead(c->db, from->p, from->len);
    if (!src) { addReplyLongLong(c, 0); return; }
    kv *old = lookupKeyWrite(dst, to->p, to->len);
    if (old) {
        if (!replace) { addReplyLongLong(c, 0); return; }
        dbDelete(dst, old, nextVersion());
    }
    copyValueTo(dst, to, src, getExpire(c->db, src), 0);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "copy_to", to->p, to->len, dst->id);
    addReplyLongLong(c, 1);
}

/* ---------- OBJECT ---------- */

static kv *objectLookup(client *c) {
    kv *k = lookupKeyReadFlags(c->db, c->argv[2].p, c->argv[2].len, LOOKUP_NOTOUCH | LOOKUP_NONOTIFY);
    if (!k) addReplyNull(c);
    return k;
}

void objectEncodingCommand(client *c) {
    kv *k = objectLookup(c);
    if (!k) return;
    addReplyBulkCString(c, kvEncodingName(k));
}

void objectFreqCommand(client *c) {
    kv *k = objectLookup(c);
    if (!k) return;
    addReplyError(c, "ERR An LFU maxmemory policy is not selected, access frequency not tracked. "
                     "Please note that when switching between policies at runtime LRU and LFU data "
                     "will take some time to adjust.");
}

void objectIdletimeCommand(client *c) {
    kv *k = objectLookup(c);
    if (!k) return;
    long long idle = (long long)((server.lruclock - k->lru) & 0xffffff);
    addReplyLongLong(c, idle);
}

void objectRefcountCommand(client *c) {
    kv *k = objectLookup(c);
    if (!k) return;
    addReplyLongLong(c, 1);
}

void objectHelpCommand(client *c) {
    static const char *help[] = {
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        NULL};
    addReplyHelp(c, help);
}
