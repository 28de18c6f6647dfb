/* t_string.c - string commands.  Each write replaces the whole value of an LWW
 * register (SPEC: SET, APPEND, SETRANGE, INCR... write the resulting value) and
 * is stamped through dbWritten(), the keyspace's one change hook. */
#include "cmdlist.h"
#include "config.h"
#include "db.h"
#include "networking.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SET_NX (1 << 0)
#define SET_XX (1 << 1)
#define SET_GET (1 << 2)
#define SET_KEEPTTL (1 << 3)
#define SET_EX (1 << 4)
#define SET_PX (1 << 5)
#define SET_EXAT (1 << 6)
#define SET_PXAT (1 << 7)
#define SET_PERSIST (1 << 8)

/* Stores a value in k, as an integer when it reads back byte-identical. */
static void storeString(kv *k, const char *p, size_t len) {
    long long ll;
    if (len <= 20 && len > 0 && string2ll(p, len, &ll)) kvSetInt(k, ll);
    else kvSetBytes(k, p, len);
}

/* Writes key = val (a whole new register value) at one new version, with its
 * deadline: kept (keepttl), set to `when` (> 0), or cleared.  Returns the key. */
static kv *setString(db *d, kv *k, const arg *key, const char *p, size_t len, int keepttl, int64_t when) {
    version v = nextVersion();
    if (!k) k = dbCreate(d, key->p, key->len, OBJ_STRING);
    else if (k->type != OBJ_STRING) { freeValue(k); k->type = OBJ_STRING; k->ver.stamp = 0; }
    storeString(k, p, len);
    if (when > 0) setExpire(d, k, when, v);
    else if (!keepttl) removeExpire(d, k);
    dbWritten(d, k, v);
    return k;
}

static void replyStringValue(client *c, const kv *k) {
    char buf[24];
    size_t len;
    const char *p = kvStringView(k, buf, &len);
    addReplyBulk(c, p, len);
}

#define SET_EXPIRE_KINDS (SET_EX | SET_PX | SET_EXAT | SET_PXAT)

/* Parses EX/PX/EXAT/PXAT/KEEPTTL/PERSIST/NX/XX/GET options from argv[from..],
 * with Redis's rules: an option may repeat (the last expire value counts) but
 * may not be combined with one it excludes.  `allowed` masks which options the
 * command takes; *expireArg is the expire value, if any.  Returns 0, or -1
 * after replying with the error. */
static int parseExpireOptions(client *c, int from, int allowed, int *flags, arg **expireArg) {
    *flags = 0;
    *expireArg = NULL;
    for (int j = from; j < c->argc; j++) {
        arg *a = &c->argv[j];
        int hasNext = j + 1 < c->argc;
        int kind = 0;
        if (argEq(a, "ex")) kind = SET_EX;
        else if (argEq(a, "px")) kind = SET_PX;
        else if (argEq(a, "exat")) kind = SET_EXAT;
        else if (argEq(a, "pxat")) kind = SET_PXAT;
        if ((allowed & SET_NX) && argEq(a, "nx") && !(*flags & SET_XX)) *flags |= SET_NX;
        else if ((allowed & SET_XX) && argEq(a, "xx") && !(*flags & SET_NX)) *flags |= SET_XX;
        else if ((allowed & SET_GET) && argEq(a, "get")) *flags |= SET_GET;
        else if ((allowed & SET_KEEPTTL) && argEq(a, "keepttl") && !(*flags & (SET_PERSIST | SET_EXPIRE_KINDS)))
            *flags |= SET_KEEPTTL;
        else if ((allowed & SET_PERSIST) && argEq(a, "persist") && !(*flags & (SET_KEEPTTL | SET_EXPIRE_KINDS)))
            *flags |= SET_PERSIST;
        else if (kind && hasNext && !(*flags & (SET_KEEPTTL | SET_PERSIST | (SET_EXPIRE_KINDS & ~kind)))) {
            *flags |= kind;
            *expireArg = &c->argv[++j];
        } else {
            addReplyErrorSyntax(c);
            return -1;
        }
    }
    return 0;
}

/* Turns the expire value of EX/PX/EXAT/PXAT into an absolute deadline in ms.
 * Returns 0, or -1 after replying with Redis's error. */
static int expireArgToDeadline(client *c, int flags, arg *expireArg, const char *cmdname, int64_t *when) {
    long long v;
    if (getLongLongFromArg(c, expireArg, &v, NULL) < 0) return -1;
    char err[96];
    snprintf(err, sizeof(err), "ERR invalid expire time in '%s' command", cmdname);
    if (v <= 0 || ((flags & (SET_EX | SET_EXAT)) && v > LLONG_MAX / 1000)) {
        addReplyError(c, err);
        return -1;
    }
    if (flags & (SET_EX | SET_EXAT)) v *= 1000;
    if (flags & (SET_EX | SET_PX)) {
        if (v > LLONG_MAX - server.mstime) { addReplyError(c, err); return -1; }
        v += server.mstime;
    }
    *when = v;
    return 0;
}

void setCommand(client *c) {
    int flags;
    int64_t when = 0;
    arg *expireArg;
    if (parseExpireOptions(c, 3, SET_NX | SET_XX | SET_GET | SET_KEEPTTL, &flags, &expireArg) < 0) return;
    if (expireArg && expireArgToDeadline(c, flags, expireArg, "set", &when) < 0) return;
    arg *key = &c->argv[1], *val = &c->argv[2];
    /* SET ... GET reads the old value as GET does (hit/miss, keymiss event). */
    kv *k = (flags & SET_GET) ? lookupKeyRead(c->db, key->p, key->len) : lookupKeyWrite(c->db, key->p, key->len);
    if ((flags & SET_GET) && k && k->type != OBJ_STRING) {
        addReplyErrorWrongType(c);
        return;
    }
    if ((k && (flags & SET_NX)) || (!k && (flags & SET_XX))) {
        if (flags & SET_GET) {
            if (k) replyStringValue(c, k);
            else addReplyNull(c);
        } else {
            addReplyNull(c);
        }
        return;
    }
    if (flags & SET_GET) {
        if (k) replyStringValue(c, k);
        else addReplyNull(c);
    }
    int expiring = (flags & SET_EXPIRE_KINDS) != 0;
    setString(c->db, k, key, val->p, val->len, flags & SET_KEEPTTL, expiring ? when : 0);
    notifyKeyspaceEvent(NOTIFY_STRING, "set", key->p, key->len, c->db->id);
    if (expiring) {
        notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key->p, key->len, c->db->id);
    }
    if (!(flags & SET_GET)) addReplyOK(c);
}

void setnxCommand(client *c) {
    arg *key = &c->argv[1];
    if (lookupKeyWrite(c->db, key->p, key->len)) {
        addReplyLongLong(c, 0);
        return;
    }
    setString(c->db, NULL, key, c->argv[2].p, c->argv[2].len, 0, 0);
    notifyKeyspaceEvent(NOTIFY_STRING, "set", key->p, key->len, c->db->id);
    addReplyLongLong(c, 1);
}

static void setWithTtl(client *c, int unitMs, const char *name) {
    long long v;
    if (getLongLongFromArg(c, &c->argv[2], &v, NULL) < 0) return;
    char err[96];
    snprintf(err, sizeof(err), "ERR invalid expire time in '%s' command", name);
    if (v <= 0 || (!unitMs && v > LLONG_MAX / 1000)) { addReplyError(c, err); return; }
    if (!unitMs) v *= 1000;
    if (v > LLONG_MAX - server.mstime) { addReplyError(c, err); return; }
    arg *key = &c->argv[1];
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    setString(c->db, k, key, c->argv[3].p, c->argv[3].len, 0, server.mstime + v);
    notifyKeyspaceEvent(NOTIFY_STRING, "set", key->p, key->len, c->db->id);
    notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key->p, key->len, c->db->id);
    addReplyOK(c);
}

void setexCommand(client *c) { setWithTtl(c, 0, "setex"); }
void psetexCommand(client *c) { setWithTtl(c, 1, "psetex"); }

/* Replies with the value of a string key; returns the key, or NULL when it
 * is missing (null reply) or of another type (error reply). */
static kv *getGeneric(client *c, int *failed) {
    kv *k = lookupKeyRead(c->db, c->argv[1].p, c->argv[1].len);
    *failed = 0;
    if (!k) { addReplyNull(c); return NULL; }
    if (k->type != OBJ_STRING) { addReplyErrorWrongType(c); *failed = 1; return NULL; }
    replyStringValue(c, k);
    return k;
}

void getCommand(client *c) {
    int failed;
    getGeneric(c, &failed);
}

void getsetCommand(client *c) {
    int failed;
    arg *key = &c->argv[1];
    kv *k = getGeneric(c, &failed);
    if (failed) return;
    setString(c->db, k, key, c->argv[2].p, c->argv[2].len, 0, 0);
    notifyKeyspaceEvent(NOTIFY_STRING, "set", key->p, key->len, c->db->id);
}

void getdelCommand(client *c) {
    int failed;
    arg *key = &c->argv[1];
    kv *k = getGeneric(c, &failed);
    if (!k) return;
    dbDelete(c->db, k, nextVersion());
    notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key->p, key->len, c->db->id);
}

void getexCommand(client *c) {
    int flags;
    int64_t when = 0;
    arg *expireArg;
    if (parseExpireOptions(c, 2, SET_PERSIST, &flags, &expireArg) < 0) return;
    arg *key = &c->argv[1];
    /* As Redis: the key first (a missing one answers nil), then the expire value. */
    kv *k = lookupKeyRead(c->db, key->p, key->len);
    if (!k) { addReplyNull(c); return; }
    if (k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
    if (expireArg && expireArgToDeadline(c, flags, expireArg, "getex", &when) < 0) return;
    replyStringValue(c, k);
    if ((flags & (SET_EXAT | SET_PXAT)) && when <= server.mstime) {
        dbDelete(c->db, k, nextVersion());
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", key->p, key->len, c->db->id);
    } else if (flags & (SET_EX | SET_PX | SET_EXAT | SET_PXAT)) {
        version v = nextVersion();
        setExpire(c->db, k, when, v);
        dbTouched(c->db, k, v);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "expire", key->p, key->len, c->db->id);
    } else if ((flags & SET_PERSIST) && getExpire(c->db, k) != -1) {
        version v = nextVersion();
        setExpire(c->db, k, -1, v);
        dbTouched(c->db, k, v);
        notifyKeyspaceEvent(NOTIFY_GENERIC, "persist", key->p, key->len, c->db->id);
    }
}

void mgetCommand(client *c) {
    addReplyArrayLen(c, c->argc - 1);
    for (int j = 1; j < c->argc; j++) {
        kv *k = lookupKeyRead(c->db, c->argv[j].p, c->argv[j].len);
        if (!k || k->type != OBJ_STRING) addReplyNull(c);
        else replyStringValue(c, k);
    }
}

static void msetGeneric(client *c, int nx) {
    if ((c->argc % 2) == 0) {
        addReplyErrorArity(c);
        return;
    }
    if (nx) {
        for (int j = 1; j < c->argc; j += 2) {
            if (lookupKeyWrite(c->db, c->argv[j].p, c->argv[j].len)) {
                addReplyLongLong(c, 0);
                return;
            }
        }
    }
    for (int j = 1; j < c->argc; j += 2) {
        arg *key = &c->argv[j];
        kv *k = lookupKeyWrite(c->db, key->p, key->len);
        setString(c->db, k, key, c->argv[j + 1].p, c->argv[j + 1].len, 0, 0);
        notifyKeyspaceEvent(NOTIFY_STRING, "set", key->p, key->len, c->db->id);
    }
    if (nx) addReplyLongLong(c, 1);
    else addReplyOK(c);
}

void msetCommand(client *c) { msetGeneric(c, 0); }
void msetnxCommand(client *c) { msetGeneric(c, 1); }

static int checkStringLength(client *c, long long size) {
    if (size > cfg.protoMaxBulkLen) {
        addReplyError(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return -1;
    }
    return 0;
}

void appendCommand(client *c) {
    arg *key = &c->argv[1], *val = &c->argv[2];
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    if (!k) {
        k = setString(c->db, NULL, key, val->p, val->len, 0, 0);
        /* APPEND creates raw bytes even when they look numeric, as Redis. */
        notifyKeyspaceEvent(NOTIFY_STRING, "append", key->p, key->len, c->db->id);
        addReplyLongLong(c, (long long)val->len);
        return;
    }
    if (k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
    sval *s = kvMakeRaw(k);
    size_t old = s->len;
    if (checkStringLength(c, (long long)(old + val->len)) < 0) return;
    s = svalGrow(s, old + val->len);
    memcpy(s->buf + old, val->p, val->len);
    kvRawUpdated(k, s);
    dbWritten(c->db, k, nextVersion());
    notifyKeyspaceEvent(NOTIFY_STRING, "append", key->p, key->len, c->db->id);
    addReplyLongLong(c, (long long)s->len);
}

void strlenCommand(client *c) {
    kv *k = lookupKeyRead(c->db, c->argv[1].p, c->argv[1].len);
    if (!k) { addReplyLongLong(c, 0); return; }
    if (k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
    char buf[24];
    size_t len;
    kvStringView(k, buf, &len);
    addReplyLongLong(c, (long long)len);
}

void getrangeCommand(client *c) {
    long long start, end;
    if (getLongLongFromArg(c, &c->argv[2], &start, NULL) < 0) return;
    if (getLongLongFromArg(c, &c->argv[3], &end, NULL) < 0) return;
    kv *k = lookupKeyRead(c->db, c->argv[1].p, c->argv[1].len);
    if (!k) { addReplyBulk(c, "", 0); return; }
    if (k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
    char buf[24];
    size_t len;
    const char *p = kvStringView(k, buf, &len);
    long long strlen_ = (long long)len;
    if (start < 0 && end < 0 && start > end) { addReplyBulk(c, "", 0); return; }
    if (start < 0) start = strlen_ + start;
    if (end < 0) end = strlen_ + end;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= strlen_) end = strlen_ - 1;
    if (start > end || strlen_ == 0) { addReplyBulk(c, "", 0); return; }
    addReplyBulk(c, p + start, (size_t)(end - start + 1));
}

void setrangeCommand(client *c) {
    long long offset;
    arg *key = &c->argv[1], *val = &c->argv[3];
    if (getLongLongFromArg(c, &c->argv[2], &offset, NULL) < 0) return;
    if (offset < 0) { addReplyError(c, "ERR offset is out of range"); return; }
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    if (k && k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
    if (!k && val->len == 0) { addReplyLongLong(c, 0); return; }
    if (offset > cfg.protoMaxBulkLen - (long long)val->len) {
        checkStringLength(c, LLONG_MAX);
        return;
    }
    if (k && val->len == 0) {
        char buf[24];
        size_t len;
        kvStringView(k, buf, &len);
        addReplyLongLong(c, (long long)len);
        return;
    }
    if (!k) {
        k = dbCreate(c->db, key->p, key->len, OBJ_STRING);
        kvSetBytes(k, "", 0);
    }
    sval *s = kvMakeRaw(k);
    s = svalGrow(s, (size_t)offset + val->len);
    memcpy(s->buf + offset, val->p, val->len);
    kvRawUpdated(k, s);
    dbWritten(c->db, k, nextVersion());
    notifyKeyspaceEvent(NOTIFY_STRING, "setrange", key->p, key->len, c->db->id);
    addReplyLongLong(c, (long long)s->len);
}

/* ---------- counters ---------- */

/* The integer value of a string key for INCR: 1 with *v, or 0 if the value
 * is not an integer (Redis's rules).  A missing key counts as 0. */
static int stringIntValue(const kv *k, long long *v) {
    if (!k) { *v = 0; return 1; }
    if (k->enc == ENC_INT) { *v = k->v.i; return 1; }
    if (k->enc == ENC_COUNTER) {
        /* As Redis: the value as stored (the view GET shows) must be an integer. */
        const sval *view = ((const strCounter *)k->v.ptr)->view;
        return string2ll(view->buf, view->len, v);
    }
    return string2ll(k->v.s->buf, k->v.s->len, v);
}

/* A counter operation on a string key, creating it if needed: the key turns
 * into its counter form (SPEC: INCR family = PN-counter with observed reset). */
static strCounter *counterFor(client *c, kv **kp, const arg *key, version v) {
    if (!*kp) {
        *kp = dbCreate(c->db, key->p, key->len, OBJ_STRING);
        (*kp)->ver = v;
        dbNewIncarnation(c->db, *kp, v);   /* a deleted counter's totals continue */
    }
    return kvCounter(*kp);
}

/* 1 if adding `by` to this node's running total in r would overflow int64. */
static int ownTotalWouldWrap(const reg *r, long long by) {
    for (uint32_t i = 0; i < r->ntot; i++) {
        long long out;
        if (r->tot[i].node == server.nodeId) return __builtin_add_overflow(r->tot[i].isum, by, &out);
    }
    return 0;
}

static void incrDecr(client *c, long long incr) {
    arg *key = &c->argv[1];
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    long long value;
    if (k && k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
    if (!stringIntValue(k, &value)) { addReplyErrorNotInt(c); return; }
    if ((incr < 0 && value < 0 && incr < (LLONG_MIN - value)) ||
        (incr > 0 && value > 0 && incr > (LLONG_MAX - value))) {
        addReplyError(c, "ERR increment or decrement would overflow");
        return;
    }
    version v = nextVersion();
    int wasCounter = k && k->enc == ENC_COUNTER;   /* else the key or its counter form is new */
    strCounter *sc = counterFor(c, &k, key, v);
    value += incr;
    if (ownTotalWouldWrap(&sc->r, incr)) {
        /* This node's running total would leave int64 although the value
         * fits: write the value as a base instead (it observes every total). */
        kvSetInt(k, value);
        dbWritten(c->db, k, v);
        notifyKeyspaceEvent(NOTIFY_STRING, "incrby", key->p, key->len, c->db->id);
        addReplyLongLong(c, value);
        return;
    }
    regSeqFloor(&sc->r, server.nodeId, v.stamp);   /* seqs never repeat an old incarnation's */
    regIncrBy(&sc->r, server.nodeId, incr, NULL);
    k->editedInPlace = 0;
    sc->floatView = 0;
    /* The register's value is now exactly `value`: format it directly. */
    char buf[24];
    sc->view = svalAssign(sc->view, buf, (size_t)ll2string(buf, sizeof(buf), value));
    if (wasCounter) dbIncremented(c->db, k, v);
    else dbTouched(c->db, k, v);
    notifyKeyspaceEvent(NOTIFY_STRING, "incrby", key->p, key->len, c->db->id);
    addReplyLongLong(c, value);
}

void incrCommand(client *c) { incrDecr(c, 1); }
void decrCommand(client *c) { incrDecr(c, -1); }

void incrbyCommand(client *c) {
    long long incr;
    if (getLongLongFromArg(c, &c->argv[2], &incr, NULL) < 0) return;
    incrDecr(c, incr);
}

void decrbyCommand(client *c) {
    long long incr;
    if (getLongLongFromArg(c, &c->argv[2], &incr, NULL) < 0) return;
    if (incr == LLONG_MIN) {
        addReplyError(c, "ERR decrement would overflow");
        return;
    }
    incrDecr(c, -incr);
}

void incrbyfloatCommand(client *c) {
    arg *key = &c->argv[1];
    long double incr, value = 0;
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    if (k) {
        if (k->type != OBJ_STRING) { addReplyErrorWrongType(c); return; }
        char buf[24];
        size_t len;
        const char *p = kvStringView(k, buf, &len);
        if (!string2ld(p, len, &value)) { addReplyErrorNotFloat(c); return; }
    }
    if (getLongDoubleFromArg(c, &c->argv[2], &incr, NULL) < 0) return;
    if (isnan(value + incr) || isinf(value + incr)) {
        addReplyError(c, "ERR increment would produce NaN or Infinity");
        return;
    }
    version v = nextVersion();
    int wasCounter = k && k->enc == ENC_COUNTER;
    strCounter *sc = counterFor(c, &k, key, v);
    regSeqFloor(&sc->r, server.nodeId, v.stamp);
    regIncrByFloat(&sc->r, server.nodeId, incr, NULL);
    /* Locally the value steps exactly as Redis's does (parse, add, format), so
     * a single node answers byte for byte like Redis; the register's own sum
     * (used when remote increments merge in) can differ in the last digits. */
    char out[5200];
    int len = ld2string(out, sizeof(out), value + incr);
    sc->view = svalAssign(sc->view, out, (size_t)len);
    sc->floatView = 1;
    k->editedInPlace = 0;
    if (wasCounter) dbIncremented(c->db, k, v);
    else dbTouched(c->db, k, v);
    notifyKeyspaceEvent(NOTIFY_STRING, "incrbyfloat", key->p, key->len, c->db->id);
    addReplyBulk(c, out, (size_t)len);
}

/* ---------- LCS ---------- */

void lcsCommand(client *c) {
    long long minmatchlen = 0;
    int getlen = 0, getidx = 0, withmatchlen = 0;
    const char *a = "", *b = "";
    size_t alen = 0, blen = 0;
    char abuf[24], bbuf[24];
    kv *ka = lookupKeyRead(c->db, c->argv[1].p, c->argv[1].len);
    kv *kb = lookupKeyRead(c->db, c->argv[2].p, c->argv[2].len);
    if ((ka && ka->type != OBJ_STRING) || (kb && kb->type != OBJ_STRING)) {
        addReplyError(c, "ERR The specified keys must contain string values");
        return;
    }
    if (ka) a = kvStringView(ka, abuf, &alen);
    if (kb) b = kvStringView(kb, bbuf, &blen);
    for (int j = 3; j < c->argc; j++) {
        arg *o = &c->argv[j];
        int more = c->argc - j - 1;
        if (argEq(o, "idx")) getidx = 1;
        else if (argEq(o, "len")) getlen = 1;
        else if (argEq(o, "withmatchlen")) withmatchlen = 1;
        else if (argEq(o, "minmatchlen") && more) {
            if (getLongLongFromArg(c, &c->argv[j + 1], &minmatchlen, NULL) < 0) return;
            if (minmatchlen < 0) minmatchlen = 0;
            j++;
        } else {
            addReplyErrorSyntax(c);
            return;
        }
    }
    if (getidx && getlen) {
        addReplyError(c, "ERR If you want both the length and indexes, please just use IDX.");
        return;
    }
    if (alen >= UINT32_MAX - 1 || blen >= UINT32_MAX - 1) {
        addReplyError(c, "ERR String too long for LCS");
        return;
    }
    unsigned long long cells = (unsigned long long)(alen + 1) * (blen + 1);
    if (cells * sizeof(uint32_t) > (unsigned long long)cfg.protoMaxBulkLen) {
        addReplyError(c, "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len");
        return;
    }
    uint32_t *dp = malloc(cells * sizeof(uint32_t));
    if (!dp) { addReplyError(c, "ERR Insufficient memory, failed allocating transient memory for LCS"); return; }
#define DP(i, j) dp[(size_t)(i) * (blen + 1) + (j)]
    for (size_t i = 0; i <= alen; i++) {
        for (size_t j = 0; j <= blen; j++) {
            if (i == 0 || j == 0) DP(i, j) = 0;
            else if (a[i - 1] == b[j - 1]) DP(i, j) = DP(i - 1, j - 1) + 1;
            else DP(i, j) = DP(i - 1, j) > DP(i, j - 1) ? DP(i - 1, j) : DP(i, j - 1);
        }
    }
    uint32_t idx = DP(alen, blen);
    char *result = NULL;
    if (!getlen && !getidx) {
        result = malloc((size_t)idx + 1);
        if (!result) abort();
    }
    size_t at = 0;
    long arraylen = 0;
    if (getidx) {
        addReplyMapLen(c, 2);
        addReplyBulkCString(c, "matches");
        at = addReplyDeferredLen(c);
    }
    /* Walk back from the end, collecting the LCS and, for IDX, its ranges:
     * a range grows while matches stay contiguous in both strings. */
    size_t i = alen, j = blen;
    uint32_t pos = idx;
    int inRange = 0;
    long long aStart = 0, aEnd = 0, bStart = 0, bEnd = 0;
    for (;;) {
        int match = i > 0 && j > 0 && a[i - 1] == b[j - 1];
        int contiguous = match && inRange && aStart == (long long)i && bStart == (long long)j;
        if (inRange && !contiguous) {
            long long matchlen = aEnd - aStart + 1;
            if (getidx && (minmatchlen == 0 || matchlen >= minmatchlen)) {
                addReplyArrayLen(c, 2 + withmatchlen);
                addReplyArrayLen(c, 2);
                addReplyLongLong(c, aStart);
                addReplyLongLong(c, aEnd);
                addReplyArrayLen(c, 2);
                addReplyLongLong(c, bStart);
                addReplyLongLong(c, bEnd);
                if (withmatchlen) addReplyLongLong(c, matchlen);
                arraylen++;
            }
            inRange = 0;
        }
        if (i == 0 || j == 0) break;
        if (match) {
            if (result) result[--pos] = a[i - 1];
            if (contiguous) {
                aStart--;
                bStart--;
            } else {
                inRange = 1;
                aStart = aEnd = (long long)i - 1;
                bStart = bEnd = (long long)j - 1;
            }
            i--;
            j--;
        } else if (DP(i - 1, j) > DP(i, j - 1)) {
            i--;
        } else {
            j--;
        }
    }
#undef DP
    free(dp);
    if (getidx) {
        setDeferredArrayLen(c, at, arraylen);
        addReplyBulkCString(c, "len");
        addReplyLongLong(c, idx);
    } else if (getlen) {
        addReplyLongLong(c, idx);
    } else {
        addReplyBulk(c, result, idx);
        free(result);
    }
}
