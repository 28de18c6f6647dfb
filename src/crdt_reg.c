/* crdt_reg.c - the string register: a last-writer-wins base plus a PN-counter
 * of per-node running totals with observed reset (see crdt_reg.h for the
 * semantics).
 *
 * Owns the register's state, its merge, its numeric view (what GET shows and
 * what INCR/INCRBYFLOAT accept), its encoding and its digest.  Pure: no
 * sockets, no globals, no logging.
 *
 * Invariants every function keeps (and regDecode enforces on its input):
 * - tot and obs are sorted by node, without duplicates, every seq >= 1;
 * - every obs entry has a tot entry of the same node with a seq at least as
 *   high (what a base observed is also known), so the unseen part of a node is
 *   tot - obs and never negative;
 * - ver {0,0} ("no base known") goes with an absent base and an empty obs;
 * - hasFloat is 1 exactly when some tot or obs entry has a non-zero fsum.  It
 *   lets the integer path skip the float parts; the value never depends on it
 *   otherwise (an integral long double prints as ld2string exactly as the same
 *   int64 prints with ll2string, so either format gives the same bytes). */
#include "crdt_reg.h"

#include <assert.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

#define XXH_INLINE_ALL
#include <xxhash.h>

#define REG_FORMAT 1            /* first byte of every encoding */
#define REG_VALUE_BUF 5200      /* what regValue's caller provides */

/* Encoding flags. */
#define REG_ENC_BASE 1          /* a base version follows */
#define REG_ENC_PRESENT 2       /* the base holds a value (its bytes follow) */
/* Per total, a varint "head" = seq << 3 | hasFloat << 2 | what the base observed. */
#define REG_OBS_NONE 0          /* nothing from this node */
#define REG_OBS_SAME 1          /* exactly this total */
#define REG_OBS_OWN 2           /* an older total of this node, encoded next */
#define REG_SEQ_MAX (UINT64_MAX >> 3)
/* The highest seq regDecode accepts (2^60 - 1, as CC_COUNTER_MAX for the dot
 * counters crdt_ormap.c makes seqs of): seqs start past an HLC stamp
 * (regSeqFloor) and grow by one per local increment, so no peer can bring a
 * local total near REG_SEQ_MAX, past which it could not be encoded. */
#define REG_SEQ_PEER_MAX (REG_SEQ_MAX >> 1)
/* Smallest encoded total: 8 bytes of node, a head byte, an isum byte. */
#define REG_MIN_TOTAL_BYTES 10

static void *xrealloc(void *p, size_t n) {
    p = realloc(p, n);
    if (p == NULL) abort();
    return p;
}

static char *copyBytes(const char *s, size_t len) {
    char *p = xrealloc(NULL, len + 1);
    if (len) memcpy(p, s, len);
    p[len] = '\0';
    return p;
}

/* ------------------------------------------------------------------------ */
/* Totals */

/* Order of two totals of the same node: the one with more increments is the
 * newer.  Equal seqs are the same total on every legitimate replica; the sums
 * only break the tie so that merge stays commutative on any input. */
static int totalCmp(const regTotal *a, const regTotal *b) {
    if (a->seq != b->seq) return a->seq < b->seq ? -1 : 1;
    if (a->isum != b->isum) return a->isum < b->isum ? -1 : 1;
    if (a->fsum < b->fsum) return -1;
    if (a->fsum > b->fsum) return 1;
    return 0;
}

static int totalSame(const regTotal *a, const regTotal *b) {
    return a->node == b->node && totalCmp(a, b) == 0;
}

/* Index of node in a sorted array, or where it would be inserted. */
static uint32_t totalSearch(const regTotal *a, uint32_t n, uint64_t node) {
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (a[mid].node < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Replaces *dst (which holds *ndst entries, so has room for that many) by a
 * copy of src.  Reuses the array when it is large enough. */
static void totalsAssign(regTotal **dst, uint32_t *ndst, const regTotal *src, uint32_t n) {
    if (n == 0) {
        free(*dst);
        *dst = NULL;
    } else {
        if (n > *ndst || *dst == NULL) *dst = xrealloc(*dst, n * sizeof(regTotal));
        memcpy(*dst, src, n * sizeof(regTotal));
    }
    *ndst = n;
}

static int totalsHaveFloat(const regTotal *a, uint32_t n) {
    for (uint32_t i = 0; i < n; i++)
        if (a[i].fsum != 0) return 1;
    return 0;
}

static void refreshHasFloat(reg *r) {
    r->hasFloat = (uint8_t)(totalsHaveFloat(r->tot, r->ntot) || totalsHaveFloat(r->obs, r->nobs));
}

/* The entry of node in r->tot, created (with seq 0) if missing.  Allocates
 * only when the node is new to this register. */
static regTotal *totalFor(reg *r, uint64_t node) {
    uint32_t i = totalSearch(r->tot, r->ntot, node);
    if (i < r->ntot && r->tot[i].node == node) return &r->tot[i];
    r->tot = xrealloc(r->tot, (r->ntot + 1) * sizeof(regTotal));
    memmove(r->tot + i + 1, r->tot + i, (r->ntot - i) * sizeof(regTotal));
    r->ntot++;
    r->tot[i] = (regTotal){.node = node, .seq = 0, .isum = 0, .fsum = 0};
    return &r->tot[i];
}

/* Per node the newer total.  In place (no allocation) when other brings no
 * node that r lacks. */
static void totalsMerge(reg *r, const regTotal *o, uint32_t no) {
    uint32_t extra = 0;
    for (uint32_t i = 0, j = 0; j < no;) {
        if (i < r->ntot && r->tot[i].node < o[j].node) {
            i++;
        } else if (i < r->ntot && r->tot[i].node == o[j].node) {
            if (totalCmp(&o[j], &r->tot[i]) > 0) r->tot[i] = o[j];
            i++, j++;
        } else {
            extra++, j++;
        }
    }
    if (extra == 0) return;

    uint32_t n = r->ntot + extra, k = 0;
    regTotal *m = xrealloc(NULL, n * sizeof(regTotal));
    for (uint32_t i = 0, j = 0; i < r->ntot || j < no;) {
        if (j == no || (i < r->ntot && r->tot[i].node < o[j].node))
            m[k++] = r->tot[i++];
        else if (i == r->ntot || o[j].node < r->tot[i].node)
            m[k++] = o[j++];
        else
            m[k++] = r->tot[i++], j++;   /* already the newer of the two */
    }
    assert(k == n);
    free(r->tot);
    r->tot = m;
    r->ntot = n;
}

/* ------------------------------------------------------------------------ */
/* Lifecycle */

void regInit(reg *r) {
    memset(r, 0, sizeof(*r));
}

void regFree(reg *r) {
    free(r->val);
    free(r->obs);
    free(r->tot);
    regInit(r);
}

/* dst is overwritten as by regInit: whatever it held is not freed. */
void regCopy(reg *dst, const reg *src) {
    if (dst == src) return;
    regInit(dst);
    dst->ver = src->ver;
    dst->present = src->present;
    dst->hasFloat = src->hasFloat;
    if (src->present) {
        dst->val = copyBytes(src->val, src->len);
        dst->len = src->len;
    }
    totalsAssign(&dst->obs, &dst->nobs, src->obs, src->nobs);
    totalsAssign(&dst->tot, &dst->ntot, src->tot, src->ntot);
}

/* ------------------------------------------------------------------------ */
/* Base writes and merge */

/* A total order on bases of the same version.  Two different writes never
 * share a version on legitimate replicas; the order only keeps merge
 * deterministic whatever it is given. */
static int baseTieCmp(const reg *a, const reg *b) {
    if (a->present != b->present) return a->present < b->present ? -1 : 1;
    if (a->len != b->len) return a->len < b->len ? -1 : 1;
    if (a->len) {
        int c = memcmp(a->val, b->val, a->len);
        if (c) return c < 0 ? -1 : 1;
    }
    if (a->nobs != b->nobs) return a->nobs < b->nobs ? -1 : 1;
    for (uint32_t i = 0; i < a->nobs; i++) {
        if (a->obs[i].node != b->obs[i].node) return a->obs[i].node < b->obs[i].node ? -1 : 1;
        int c = totalCmp(&a->obs[i], &b->obs[i]);
        if (c) return c;
    }
    return 0;
}

/* Makes r's base the given one.  A value of the same length is written over
 * the old one (overwrites of a fixed-size value are common: no allocator
 * round trip).  val may point into r->val, obs into r->tot. */
static void baseAssign(reg *r, version v, int present, const char *val, size_t len,
                       const regTotal *obs, uint32_t nobs) {
    if (present && r->present && r->val && r->len == len) {
        memmove(r->val, val, len);
    } else {
        char *copy = present ? copyBytes(val, len) : NULL;
        free(r->val);
        r->val = copy;
    }
    r->len = present ? len : 0;
    r->present = (uint8_t)(present != 0);
    r->ver = v;
    totalsAssign(&r->obs, &r->nobs, obs, nobs);
}

void regAssign(reg *dst, const reg *src) {
    if (dst == src) return;
    baseAssign(dst, src->ver, src->present, src->val, src->len, src->obs, src->nobs);
    totalsAssign(&dst->tot, &dst->ntot, src->tot, src->ntot);
    dst->hasFloat = src->hasFloat;
}

void regMerge(reg *r, const reg *other) {
    if (r == other) return;
    totalsMerge(r, other->tot, other->ntot);
    int c = versionCmp(other->ver, r->ver);
    if (c > 0 || (c == 0 && baseTieCmp(other, r) > 0))
        baseAssign(r, other->ver, other->present, other->val, other->len, other->obs, other->nobs);
    if (r->hasFloat || other->hasFloat) refreshHasFloat(r);
}

/* The delta of a base write at v: the same write as a register of its own,
 * the base, what it observed (every total r knows) and those totals, so that
 * a replica that had not seen them learns they were reset. */
static void baseDelta(const reg *r, version v, int present, const char *val, size_t len, reg *d) {
    regFree(d);
    d->ver = v;
    d->present = (uint8_t)(present != 0);
    if (present) {
        d->val = copyBytes(val, len);
        d->len = len;
    }
    totalsAssign(&d->obs, &d->nobs, r->tot, r->ntot);
    totalsAssign(&d->tot, &d->ntot, r->tot, r->ntot);
    d->hasFloat = (uint8_t)totalsHaveFloat(r->tot, r->ntot);
}

static void baseWrite(reg *r, version v, int present, const char *val, size_t len, reg *delta) {
    if (delta) baseDelta(r, v, present, val, len, delta);
    if (versionCmp(v, r->ver) > 0) {
        /* The usual case: a fresh local version beats the current base.
         * (baseAssign copies val before freeing, so val may be r->val.) */
        baseAssign(r, v, present, val, len, r->tot, r->ntot);
        refreshHasFloat(r);
        return;
    }
    /* The clock did not get past the current base (a remote version it
     * refused to follow): the write loses, or ties, exactly as it will on
     * every other replica. */
    reg tmp;
    regInit(&tmp);
    if (!delta) baseDelta(r, v, present, val, len, &tmp);
    regMerge(r, delta ? delta : &tmp);
    regFree(&tmp);
}

void regSet(reg *r, version v, const char *val, size_t len, reg *delta) {
    baseWrite(r, v, 1, val, len, delta);
}

void regDelete(reg *r, version v, reg *delta) {
    baseWrite(r, v, 0, NULL, 0, delta);
}

/* ------------------------------------------------------------------------ */
/* Increments */

/* The delta of an increment is the node's new running total alone.  A delta
 * reused from an earlier call keeps its one-entry array (a register with
 * ntot >= 1 has room for at least one total), so a caller that recycles its
 * delta increments without allocating. */
static void totalDelta(reg *delta, const regTotal *t) {
    free(delta->val);
    free(delta->obs);
    regTotal *keep = delta->tot;
    regInit(delta);
    delta->tot = keep ? keep : xrealloc(NULL, sizeof(regTotal));
    delta->tot[0] = *t;
    delta->ntot = 1;
    delta->hasFloat = (uint8_t)(t->fsum != 0);
}

void regSeqFloor(reg *r, uint64_t node, uint64_t seq) {
    uint32_t i = totalSearch(r->tot, r->ntot, node);
    if (i < r->ntot && r->tot[i].node == node) return;
    totalFor(r, node)->seq = seq;
}

void regIncrBy(reg *r, uint64_t node, int64_t by, reg *delta) {
    regTotal *t = totalFor(r, node);
    t->seq++;
    t->isum = (int64_t)((uint64_t)t->isum + (uint64_t)by);   /* wraps, never UB */
    if (delta) totalDelta(delta, t);
}

void regIncrByFloat(reg *r, uint64_t node, long double by, reg *delta) {
    regTotal *t = totalFor(r, node);
    t->seq++;
    t->fsum += by;
    if (t->fsum != 0)
        r->hasFloat = 1;
    else if (r->hasFloat)
        refreshHasFloat(r);
    if (delta) totalDelta(delta, t);
}

/* ------------------------------------------------------------------------ */
/* Reading */

/* What the winning base did not observe, summed over nodes in node order. */
typedef struct regUnseen {
    int any;                /* some increment the base did not observe */
    int floats;             /* some unseen float part is non-zero */
    int overflow;           /* the integer parts do not add up in an int64 */
    int64_t isum;           /* their integer sum (valid unless overflow) */
    long double iwide;      /* the same sum in long double (used on overflow) */
    long double fsum;       /* their float sum */
} regUnseen;

static void regUnseenSum(const reg *r, regUnseen *u) {
    memset(u, 0, sizeof(*u));
    uint32_t j = 0;
    for (uint32_t i = 0; i < r->ntot; i++) {
        const regTotal *t = &r->tot[i];
        while (j < r->nobs && r->obs[j].node < t->node) j++;
        const regTotal *o = (j < r->nobs && r->obs[j].node == t->node) ? &r->obs[j] : NULL;
        if (o && o->seq >= t->seq) continue;     /* all of this node's increments observed */
        u->any = 1;
        /* The node's unseen integer part, modulo 2^64 like its running total. */
        int64_t idiff = (int64_t)((uint64_t)t->isum - (o ? (uint64_t)o->isum : 0));
        if (__builtin_add_overflow(u->isum, idiff, &u->isum)) u->overflow = 1;
        u->iwide += (long double)idiff;
        if (r->hasFloat) {
            long double fdiff = t->fsum - (o ? o->fsum : 0);
            if (fdiff != 0) u->floats = 1;
            u->fsum += fdiff;
        }
    }
}

int regExists(const reg *r) {
    if (r->present) return 1;
    regUnseen u;
    regUnseenSum(r, &u);
    return u.any;
}

int regIsPlain(const reg *r) {
    regUnseen u;
    regUnseenSum(r, &u);
    return !u.any;
}

/* The value of a register with unseen increments. */
typedef enum { REG_TEXT, REG_INT, REG_FLOAT } regNumKind;

static regNumKind regNumber(const reg *r, const regUnseen *u, long long *iv, long double *fv) {
    long long ibase = 0;
    long double fbase = 0;
    int baseIsInt = 1;
    if (r->present && !string2ll(r->val, r->len, &ibase)) {
        if (!string2ld(r->val, r->len, &fbase)) return REG_TEXT;
        baseIsInt = 0;
    }
    if (baseIsInt && !u->floats && !u->overflow && !__builtin_add_overflow(ibase, u->isum, iv))
        return REG_INT;
    long double ipart = u->overflow ? u->iwide : (long double)u->isum;
    long double base = baseIsInt ? (long double)ibase : fbase;
    *fv = (base + ipart) + u->fsum;
    return REG_FLOAT;
}

const char *regValue(const reg *r, char *buf, size_t *len) {
    regUnseen u;
    regUnseenSum(r, &u);
    if (!u.any) {
        *len = r->present ? r->len : 0;
        return r->present ? r->val : "";
    }
    long long iv = 0;
    long double fv = 0;
    switch (regNumber(r, &u, &iv, &fv)) {
    case REG_TEXT:
        *len = r->len;
        return r->val;
    case REG_INT:
        *len = (size_t)ll2string(buf, REG_VALUE_BUF, iv);
        return buf;
    case REG_FLOAT:
    default:
        *len = (size_t)ld2string(buf, REG_VALUE_BUF, fv);
        return buf;
    }
}

/* The value as a number, exactly as Redis parses what regValue shows: with
 * string2ll when iv is given (INCR), else with string2ld into fv
 * (INCRBYFLOAT reads the stored text, so a computed sum is read back through
 * its formatting).  A missing value reads as 0, as for a missing key. */
static int regParseValue(const reg *r, long long *iv, long double *fv) {
    regUnseen u;
    regUnseenSum(r, &u);
    if (!u.any && !r->present) {
        if (iv)
            *iv = 0;
        else
            *fv = 0;
        return 1;
    }
    if (!u.any) return iv ? string2ll(r->val, r->len, iv) : string2ld(r->val, r->len, fv);
    long long i = 0;
    long double f = 0;
    switch (regNumber(r, &u, &i, &f)) {
    case REG_TEXT:
        return 0;
    case REG_INT:
        if (iv)
            *iv = i;
        else
            *fv = (long double)i;
        return 1;
    case REG_FLOAT:
    default: {
        char tmp[REG_VALUE_BUF];
        int n = ld2string(tmp, sizeof(tmp), f);
        if (n <= 0) return 0;
        return iv ? string2ll(tmp, (size_t)n, iv) : string2ld(tmp, (size_t)n, fv);
    }
    }
}

int regIntValue(const reg *r, long long *v) { return regParseValue(r, v, NULL); }

int regFloatValue(const reg *r, long double *v) { return regParseValue(r, NULL, v); }

/* ------------------------------------------------------------------------ */
/* Encoding
 *
 *   u8 format (1)  u8 flags (REG_ENC_*)
 *   [u64 stamp, u64 node]            if REG_ENC_BASE
 *   [bytes value]                    if REG_ENC_PRESENT
 *   varint ntot, then per total, by increasing node:
 *     u64 node  varint head  svarint isum  [long double fsum if head's float bit]
 *     [varint oseq << 1 | float bit, svarint isum, [long double fsum]]  if REG_OBS_OWN
 *
 * Node ids and stamps are uniformly large 64-bit numbers, cheaper fixed than
 * as varints; counts and sums are small, hence varints. */

static void encodeTotalTail(cbuf *b, const regTotal *t) {
    cbufPutSvarint(b, t->isum);
    if (t->fsum != 0) cbufPutLongDouble(b, t->fsum);
}

void regEncode(const reg *r, cbuf *b) {
    int hasBase = r->ver.stamp != 0 || r->ver.node != 0;
    cbufPutByte(b, REG_FORMAT);
    cbufPutByte(b, (uint8_t)((hasBase ? REG_ENC_BASE : 0) | (r->present ? REG_ENC_PRESENT : 0)));
    if (hasBase) {
        cbufPutU64(b, r->ver.stamp);
        cbufPutU64(b, r->ver.node);
    }
    if (r->present) cbufPutBytes(b, r->val, r->len);
    cbufPutVarint(b, r->ntot);
    uint32_t j = 0;
    for (uint32_t i = 0; i < r->ntot; i++) {
        const regTotal *t = &r->tot[i];
        while (j < r->nobs && r->obs[j].node < t->node) {
            assert(!"an observed total without its total");
            j++;
        }
        const regTotal *o = (j < r->nobs && r->obs[j].node == t->node) ? &r->obs[j++] : NULL;
        unsigned kind = !o ? REG_OBS_NONE : totalSame(o, t) ? REG_OBS_SAME : REG_OBS_OWN;
        assert(t->seq >= 1 && t->seq <= REG_SEQ_MAX);
        cbufPutU64(b, t->node);
        cbufPutVarint(b, t->seq << 3 | (uint64_t)(t->fsum != 0) << 2 | kind);
        encodeTotalTail(b, t);
        if (kind == REG_OBS_OWN) {
            cbufPutVarint(b, o->seq << 1 | (uint64_t)(o->fsum != 0));
            encodeTotalTail(b, o);
        }
    }
}

int regEncodeTotal(const reg *r, uint64_t node, cbuf *b) {
    uint32_t i = totalSearch(r->tot, r->ntot, node);
    if (i == r->ntot || r->tot[i].node != node) return 0;
    regTotal one = r->tot[i];
    reg d;
    regInit(&d);
    d.tot = &one;
    d.ntot = 1;
    regEncode(&d, b);
    return 1;
}

static int decodeTotalTail(creader *rd, regTotal *t, int hasFloat) {
    if (creaderGetSvarint(rd, &t->isum) < 0) return -1;
    t->fsum = 0;
    if (hasFloat) {
        if (creaderGetLongDouble(rd, &t->fsum) < 0) return -1;
        if (isnan(t->fsum) || t->fsum == 0) return -1;   /* the float bit means non-zero */
    }
    return 0;
}

/* On failure r is left untouched. */
int regDecode(reg *r, creader *rd) {
    reg d;
    regInit(&d);
    uint8_t format, flags;
    if (creaderGetByte(rd, &format) < 0 || format != REG_FORMAT) goto bad;
    if (creaderGetByte(rd, &flags) < 0) goto bad;
    if (flags & ~(REG_ENC_BASE | REG_ENC_PRESENT)) goto bad;
    int hasBase = (flags & REG_ENC_BASE) != 0;
    if ((flags & REG_ENC_PRESENT) && !hasBase) goto bad;
    if (hasBase) {
        if (creaderGetU64(rd, &d.ver.stamp) < 0 || creaderGetU64(rd, &d.ver.node) < 0) goto bad;
        if (d.ver.stamp == 0 && d.ver.node == 0) goto bad;   /* that means "no base" */
    }
    if (flags & REG_ENC_PRESENT) {
        const char *p;
        size_t len;
        if (creaderGetBytes(rd, &p, &len) < 0) goto bad;
        d.val = copyBytes(p, len);
        d.len = len;
        d.present = 1;
    }
    uint64_t n;
    if (creaderGetVarint(rd, &n) < 0) goto bad;
    if (n > (rd->len - rd->pos) / REG_MIN_TOTAL_BYTES) goto bad;   /* before allocating */
    if (n) d.tot = xrealloc(NULL, (size_t)n * sizeof(regTotal));   /* obs: at its first total */
    for (uint64_t i = 0; i < n; i++) {
        regTotal *t = &d.tot[i];
        uint64_t head;
        if (creaderGetU64(rd, &t->node) < 0 || creaderGetVarint(rd, &head) < 0) goto bad;
        if (i > 0 && t->node <= d.tot[i - 1].node) goto bad;
        t->seq = head >> 3;
        unsigned kind = head & 3;
        if (t->seq == 0 || t->seq > REG_SEQ_PEER_MAX || kind > REG_OBS_OWN || (kind != REG_OBS_NONE && !hasBase))
            goto bad;
        if (decodeTotalTail(rd, t, (head >> 2) & 1) < 0) goto bad;
        d.ntot++;
        if (kind != REG_OBS_NONE && d.obs == NULL) d.obs = xrealloc(NULL, (size_t)n * sizeof(regTotal));
        if (kind == REG_OBS_SAME) {
            d.obs[d.nobs++] = *t;
        } else if (kind == REG_OBS_OWN) {
            regTotal *o = &d.obs[d.nobs];
            o->node = t->node;
            if (creaderGetVarint(rd, &head) < 0) goto bad;
            o->seq = head >> 1;
            if (o->seq == 0 || o->seq > t->seq) goto bad;
            if (decodeTotalTail(rd, o, head & 1) < 0) goto bad;
            d.nobs++;
        }
    }
    refreshHasFloat(&d);
    regFree(r);
    *r = d;
    return 0;
bad:
    regFree(&d);
    return -1;
}

/* ------------------------------------------------------------------------ */
/* Identity */

/* Fields are written little endian into a small buffer hashed in chunks, each
 * chunk's hash seeding the next: the same on every node, no big hash state. */
typedef struct regDigester {
    uint64_t h;
    size_t n;
    unsigned char buf[256];
} regDigester;

static void digestFlush(regDigester *d) {
    if (d->n) d->h = XXH3_64bits_withSeed(d->buf, d->n, d->h);
    d->n = 0;
}

static void digestU64(regDigester *d, uint64_t v) {
    if (sizeof(d->buf) - d->n < 8) digestFlush(d);
    ccStoreLE64(d->buf + d->n, v);
    d->n += 8;
}

static void digestBytes(regDigester *d, const void *p, size_t len) {
    digestFlush(d);
    d->h = XXH3_64bits_withSeed(p, len, d->h);
}

/* A long double by value, whatever its padding bytes hold: sign, exponent
 * and up to 128 bits of mantissa.  Both zeros hash alike (they compare equal). */
static void digestLongDouble(regDigester *d, long double v) {
    uint64_t sign = 0, exp = 0, hi = 0, lo = 0;
    if (isinf(v)) {
        sign = v < 0;
        exp = UINT64_MAX;
    } else if (v != 0) {
        int e;
        long double m = frexpl(fabsl(v), &e);
        long double top = ldexpl(m, 64);
        sign = v < 0;
        exp = (uint64_t)(int64_t)e;
        hi = (uint64_t)top;
        lo = (uint64_t)ldexpl(top - (long double)hi, 64);
    }
    digestU64(d, sign);
    digestU64(d, exp);
    digestU64(d, hi);
    digestU64(d, lo);
}

static void digestTotals(regDigester *d, const regTotal *a, uint32_t n) {
    digestU64(d, n);
    for (uint32_t i = 0; i < n; i++) {
        digestU64(d, a[i].node);
        digestU64(d, a[i].seq);
        digestU64(d, (uint64_t)a[i].isum);
        digestLongDouble(d, a[i].fsum);
    }
}

uint64_t regDigest(const reg *r, uint64_t seed) {
    regDigester d = {.h = seed, .n = 0};
    digestU64(&d, r->ver.stamp);
    digestU64(&d, r->ver.node);
    digestU64(&d, r->present);
    digestU64(&d, r->len);
    if (r->present && r->len) digestBytes(&d, r->val, r->len);
    digestTotals(&d, r->obs, r->nobs);
    digestTotals(&d, r->tot, r->ntot);
    digestFlush(&d);
    return d.h;
}

static int totalsEqual(const regTotal *a, uint32_t na, const regTotal *b, uint32_t nb) {
    if (na != nb) return 0;
    for (uint32_t i = 0; i < na; i++)
        if (!totalSame(&a[i], &b[i])) return 0;
    return 1;
}

int regEqual(const reg *a, const reg *b) {
    return versionCmp(a->ver, b->ver) == 0 && a->present == b->present && a->len == b->len &&
           (a->len == 0 || memcmp(a->val, b->val, a->len) == 0) &&
           totalsEqual(a->obs, a->nobs, b->obs, b->nobs) &&
           totalsEqual(a->tot, a->ntot, b->tot, b->ntot);
}

/* Heap bytes the register owns (not counting the struct itself). */
size_t regMemory(const reg *r) {
    return (r->present ? r->len + 1 : 0) + ((size_t)r->nobs + r->ntot) * sizeof(regTotal);
}
