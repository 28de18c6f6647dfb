/* t_bitmap.c - the bitmap commands: SETBIT GETBIT BITCOUNT BITPOS BITOP
 * BITFIELD BITFIELD_RO, over string values.
 *
 * Owns bit addressing inside a string (bit 0 is the most significant bit of
 * byte 0), Redis 7.0's range, offset and overflow rules, and the exact replies
 * and error texts of these commands.  A bitmap is an ordinary string value:
 * every write is a whole-value LWW write, recorded through dbWritten().  This
 * file keeps no state and never talks to peers. */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cmdlist.h"
#include "config.h"
#include "db.h"
#include "networking.h"
#include "object.h"
#include "pubsub.h"
#include "server.h"
#include "util.h"

#define ERR_BIT_OFFSET "ERR bit offset is not an integer or out of range"
#define ERR_BIT_VALUE "ERR bit is not an integer or out of range"
#define ERR_BF_TYPE "ERR Invalid bitfield type. Use something like i16 u8. " \
                    "Note that u64 is not supported but i64 is."

/* ---------- pure helpers over byte buffers ---------- */

static int bitAt(const uint8_t *p, size_t len, uint64_t bit) {
    uint64_t byte = bit >> 3;
    if (byte >= len) return 0;
    return (p[byte] >> (7 - (bit & 7))) & 1;
}

/* Number of set bits in p[0..n). */
static long long bitmapPopcount(const uint8_t *p, size_t n) {
    long long count = 0;
    size_t i = 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, 8);
        count += __builtin_popcountll(w);
    }
    for (; i < n; i++) count += __builtin_popcount(p[i]);
    return count;
}

/* Set bits among bits [from, to] of p (inclusive, both inside the buffer). */
static long long bitmapCountRange(const uint8_t *p, uint64_t from, uint64_t to) {
    uint64_t fb = from >> 3, tb = to >> 3;
    uint8_t head = (uint8_t)(0xFF >> (from & 7));          /* bits >= from in byte fb */
    uint8_t tail = (uint8_t)(0xFF << (7 - (to & 7)));      /* bits <= to in byte tb */
    if (fb == tb) return __builtin_popcount(p[fb] & head & tail);
    return __builtin_popcount(p[fb] & head) + bitmapPopcount(p + fb + 1, tb - fb - 1) +
           __builtin_popcount(p[tb] & tail);
}

/* Position of the first bit equal to `bit` among bits [from, to] of p
 * (inclusive, inside the buffer), or -1 if there is none. */
static long long bitmapFind(const uint8_t *p, uint64_t from, uint64_t to, int bit) {
    uint8_t skip = bit ? 0x00 : 0xFF;       /* a byte that cannot hold a match */
    uint64_t pos = from;
    /* Bit by bit up to a byte boundary. */
    while (pos <= to && (pos & 7)) {
        if (bitAt(p, SIZE_MAX, pos) == bit) return (long long)pos;
        pos++;
    }
    /* Skip whole words, then whole bytes, that cannot contain a match. */
    uint64_t word = bit ? 0 : UINT64_MAX;
    while (pos + 64 <= to + 1) {
        uint64_t w;
        memcpy(&w, p + (pos >> 3), 8);
        if (w != word) break;
        pos += 64;
    }
    while (pos + 8 <= to + 1 && p[pos >> 3] == skip) pos += 8;
    for (; pos <= to; pos++)
        if (bitAt(p, SIZE_MAX, pos) == bit) return (long long)pos;
    return -1;
}

/* Reads a `bits` wide unsigned field starting at bit `off`; bits past len
 * read as zero. */
static uint64_t bitfieldRead(const uint8_t *p, size_t len, uint64_t off, int bits) {
    uint64_t v = 0;
    for (int i = 0; i < bits; i++) v = (v << 1) | (uint64_t)bitAt(p, len, off + (uint64_t)i);
    return v;
}

static int64_t bitfieldReadSigned(const uint8_t *p, size_t len, uint64_t off, int bits) {
    uint64_t v = bitfieldRead(p, len, off, bits);
    if (bits < 64 && (v >> (bits - 1)) & 1) v |= UINT64_MAX << bits;
    return (int64_t)v;
}

/* Writes the low `bits` bits of v at bit `off`; the buffer must hold them. */
static void bitfieldWrite(uint8_t *p, uint64_t off, int bits, uint64_t v) {
    for (int i = 0; i < bits; i++) {
        uint64_t bit = off + (uint64_t)i;
        uint8_t mask = (uint8_t)(1 << (7 - (bit & 7)));
        if ((v >> (bits - 1 - i)) & 1) p[bit >> 3] |= mask;
        else p[bit >> 3] &= (uint8_t)~mask;
    }
}

enum { OVERFLOW_WRAP, OVERFLOW_SAT, OVERFLOW_FAIL };

/* Whether value + incr leaves the signed `bits` wide range: 0 if not, 1
 * upwards, -1 downwards; on overflow *res receives the wrapped or saturated
 * result.  The tests deliberately do the arithmetic as Redis 7.0 does (with
 * two's complement wrap-around), so that even SET of a value near INT64_MIN
 * into a narrow field saturates exactly as it does there. */
static int bitfieldSignedOverflow(int64_t value, int64_t incr, int bits, int ow, int64_t *res) {
    int64_t max = bits == 64 ? INT64_MAX : (int64_t)((UINT64_C(1) << (bits - 1)) - 1);
    int64_t min = -max - 1;
    int64_t roomUp = (int64_t)((uint64_t)max - (uint64_t)value);
    int64_t roomDown = (int64_t)((uint64_t)min - (uint64_t)value);
    int dir = 0;
    if (value > max || (bits != 64 && incr > roomUp) || (value >= 0 && incr > 0 && incr > roomUp))
        dir = 1;
    else if (value < min || (bits != 64 && incr < roomDown) || (value < 0 && incr < 0 && incr < roomDown))
        dir = -1;
    if (!dir) return 0;
    if (ow == OVERFLOW_SAT) {
        *res = dir > 0 ? max : min;
    } else if (ow == OVERFLOW_WRAP) {
        uint64_t sum = (uint64_t)value + (uint64_t)incr;
        if (bits < 64) {
            uint64_t high = UINT64_MAX << bits;
            sum = (sum >> (bits - 1)) & 1 ? sum | high : sum & ~high;
        }
        *res = (int64_t)sum;
    }
    return dir;
}

/* The same for unsigned fields (bits <= 63).  A negative SET value is seen as
 * a huge unsigned one, so it overflows upwards, as in Redis. */
static int bitfieldUnsignedOverflow(uint64_t value, int64_t incr, int bits, int ow, uint64_t *res) {
    uint64_t max = (UINT64_C(1) << bits) - 1;
    int64_t roomUp = (int64_t)(max - value);
    int64_t roomDown = (int64_t)(0 - value);
    int dir = 0;
    if (value > max || (incr > 0 && incr > roomUp)) dir = 1;
    else if (incr < 0 && incr < roomDown) dir = -1;
    if (!dir) return 0;
    if (ow == OVERFLOW_SAT) *res = dir > 0 ? max : 0;
    else if (ow == OVERFLOW_WRAP) *res = (value + (uint64_t)incr) & max;
    return dir;
}

/* ---------- argument parsing ---------- */

/* Parses a bit offset.  With allowHash, "#N" means N * bits (multiplied with
 * wrap-around, as Redis does).  The offset must address a byte below
 * proto-max-bulk-len.  Replies the error itself and returns -1. */
static int parseBitOffset(client *c, const arg *a, int allowHash, int bits, uint64_t *out) {
    int hash = allowHash && a->len > 0 && a->p[0] == '#';
    long long off;
    if (!string2ll(a->p + hash, a->len - (size_t)hash, &off)) goto err;
    if (hash) off = (long long)((unsigned long long)off * (unsigned long long)bits);
    if (off < 0 || (off >> 3) >= cfg.protoMaxBulkLen) goto err;
    *out = (uint64_t)off;
    return 0;
err:
    addReplyError(c, ERR_BIT_OFFSET);
    return -1;
}

/* Parses a BITFIELD type such as i16 or u8 (i1..i64, u1..u63; lower case
 * only, as in Redis 7.0).  Like Redis, the width is read up to the first NUL
 * byte. */
static int parseBitfieldType(client *c, const arg *a, int *sign, int *bits) {
    long long n;
    if (a->len == 0 || (a->p[0] != 'i' && a->p[0] != 'u')) goto err;
    *sign = a->p[0] == 'i';
    size_t wlen = strnlen(a->p + 1, a->len - 1);
    if (!string2ll(a->p + 1, wlen, &n) || n < 1 || n > (*sign ? 64 : 63)) goto err;
    *bits = (int)n;
    return 0;
err:
    addReplyError(c, ERR_BF_TYPE);
    return -1;
}

/* Turns a [start, end] range given in bytes or bits (negative counts from
 * the end) into an inclusive bit range over a string of len bytes, with
 * Redis's clamping.  Returns 0 when the range is empty. */
static int bitRangeResolve(long long start, long long end, int isbit, long long len,
                           uint64_t *from, uint64_t *to) {
    long long total = isbit ? len * 8 : len;
    if (start < 0) start += total;
    if (end < 0) end += total;
    if (start < 0) start = 0;
    if (end < 0) end = 0;
    if (end >= total) end = total - 1;
    if (start > end) return 0;
    *from = isbit ? (uint64_t)start : (uint64_t)start * 8;
    *to = isbit ? (uint64_t)end : (uint64_t)end * 8 + 7;
    return 1;
}

/* Parses an optional BYTE|BIT unit; returns -1 (syntax error replied) else 0/1. */
static int parseBitUnit(client *c, const arg *a) {
    if (argEq(a, "bit")) return 1;
    if (argEq(a, "byte")) return 0;
    addReplyErrorSyntax(c);
    return -1;
}

/* Looks up a key for reading as a string: NULL with *missing set when absent,
 * NULL after replying WRONGTYPE, else the kv. */
static kv *lookupBitmapRead(client *c, const arg *key, int *missing) {
    kv *k = lookupKeyRead(c->db, key->p, key->len);
    *missing = k == NULL;
    if (k && k->type != OBJ_STRING) {
        addReplyErrorWrongType(c);
        return NULL;
    }
    return k;
}

/* Looks up (creating if absent) the string at argv[1] and makes it hold at
 * least the byte that contains bit maxbit, zero-filled.  *bytes is the value
 * to edit in place (from kvMakeRaw: whatever the encoding, a counter's
 * included, never k->v.s directly); *grown tells whether the key was created
 * or lengthened.  NULL after replying WRONGTYPE. */
static kv *lookupBitmapWrite(client *c, uint64_t maxbit, int *grown, sval **bytes) {
    const arg *key = &c->argv[1];
    size_t need = (size_t)(maxbit >> 3) + 1;
    kv *k = lookupKeyWrite(c->db, key->p, key->len);
    if (k && k->type != OBJ_STRING) {
        addReplyErrorWrongType(c);
        return NULL;
    }
    if (need > UINT32_MAX - 8) {        /* only if proto-max-bulk-len was raised past 4GB */
        addReplyError(c, "ERR string exceeds maximum allowed size (proto-max-bulk-len)");
        return NULL;
    }
    if (!k) {
        k = dbCreate(c->db, key->p, key->len, OBJ_STRING);
        kvSetBytes(k, "", 0);
        *grown = 1;
    } else {
        *grown = 0;
    }
    sval *s = kvMakeRaw(k);
    if (s->len < need) {
        s = svalGrow(s, need);
        kvRawUpdated(k, s);
        *grown = 1;
    }
    *bytes = s;
    return k;
}

/* ---------- SETBIT / GETBIT ---------- */

/* SETBIT key offset 0|1: replies the previous bit.  The key changes (and an
 * event fires) only when it was created, lengthened or the bit flipped. */
void setbitCommand(client *c) {
    uint64_t off;
    long long on;
    int grown;
    sval *bytes;
    if (parseBitOffset(c, &c->argv[2], 0, 0, &off) < 0) return;
    if (getLongLongFromArg(c, &c->argv[3], &on, ERR_BIT_VALUE) < 0) return;
    if (on & ~1LL) {
        addReplyError(c, ERR_BIT_VALUE);
        return;
    }
    kv *k = lookupBitmapWrite(c, off, &grown, &bytes);
    if (!k) return;
    uint8_t *p = (uint8_t *)bytes->buf;
    int old = bitAt(p, bytes->len, off);
    if (grown || old != on) {
        bitfieldWrite(p, off, 1, (uint64_t)on);
        dbWritten(c->db, k, nextVersion());
        notifyKeyspaceEvent(NOTIFY_STRING, "setbit", c->argv[1].p, c->argv[1].len, c->db->id);
    }
    addReplyLongLong(c, old);
}

/* GETBIT key offset: bits past the end of the string (or of a missing key)
 * are 0. */
void getbitCommand(client *c) {
    uint64_t off;
    int missing;
    char buf[24];
    size_t len;
    if (parseBitOffset(c, &c->argv[2], 0, 0, &off) < 0) return;
    kv *k = lookupBitmapRead(c, &c->argv[1], &missing);
    if (!k) {
        if (missing) addReplyLongLong(c, 0);
        return;
    }
    const char *p = kvStringView(k, buf, &len);
    addReplyLongLong(c, bitAt((const uint8_t *)p, len, off));
}

/* ---------- BITCOUNT / BITPOS ---------- */

/* BITCOUNT key [start end [BYTE|BIT]].  As in Redis 7.0 the key is looked up
 * before the range is parsed: a missing key answers 0 whatever follows. */
void bitcountCommand(client *c) {
    int missing, isbit = 0;
    long long start, end;
    uint64_t from, to;
    char buf[24];
    size_t len;
    kv *k = lookupBitmapRead(c, &c->argv[1], &missing);
    if (!k) {
        if (missing) addReplyLongLong(c, 0);
        return;
    }
    const uint8_t *p = (const uint8_t *)kvStringView(k, buf, &len);
    if (c->argc == 2) {
        addReplyLongLong(c, bitmapPopcount(p, len));
        return;
    }
    if (c->argc != 4 && c->argc != 5) {
        addReplyErrorSyntax(c);
        return;
    }
    if (getLongLongFromArg(c, &c->argv[2], &start, NULL) < 0) return;
    if (getLongLongFromArg(c, &c->argv[3], &end, NULL) < 0) return;
    /* Both negative and reversed is empty, even if clamping would make it
     * one element.  Redis 7.0 decides this before it reads the unit, so a
     * bad unit after such a range is no syntax error. */
    if (start < 0 && end < 0 && start > end) {
        addReplyLongLong(c, 0);
        return;
    }
    if (c->argc == 5 && (isbit = parseBitUnit(c, &c->argv[4])) < 0) return;
    if (!bitRangeResolve(start, end, isbit, (long long)len, &from, &to)) {
        addReplyLongLong(c, 0);
        return;
    }
    addReplyLongLong(c, bitmapCountRange(p, from, to));
}

/* BITPOS key bit [start [end [BYTE|BIT]]].  A missing key is an endless run
 * of zeros.  Without an explicit end, a string of all ones has its first
 * clear bit just past its end; with one, the answer is -1. */
void bitposCommand(client *c) {
    long long bit, start, end = 0;
    int missing, isbit = 0, endGiven = 0;
    uint64_t from, to;
    char buf[24];
    size_t len;
    if (getLongLongFromArg(c, &c->argv[2], &bit, NULL) < 0) return;
    if (bit != 0 && bit != 1) {
        addReplyError(c, "ERR The bit argument must be 1 or 0.");
        return;
    }
    kv *k = lookupBitmapRead(c, &c->argv[1], &missing);
    if (!k) {
        if (missing) addReplyLongLong(c, bit ? -1 : 0);
        return;
    }
    const uint8_t *p = (const uint8_t *)kvStringView(k, buf, &len);
    if (c->argc == 3) {
        start = 0;
        end = -1;
    } else if (c->argc <= 6) {
        if (getLongLongFromArg(c, &c->argv[3], &start, NULL) < 0) return;
        if (c->argc == 6 && (isbit = parseBitUnit(c, &c->argv[5])) < 0) return;
        if (c->argc >= 5) {
            if (getLongLongFromArg(c, &c->argv[4], &end, NULL) < 0) return;
            endGiven = 1;
        } else {
            end = -1;
        }
    } else {
        addReplyErrorSyntax(c);
        return;
    }
    if (!bitRangeResolve(start, end, isbit, (long long)len, &from, &to)) {
        addReplyLongLong(c, -1);
        return;
    }
    long long pos = bitmapFind(p, from, to, (int)bit);
    if (pos < 0 && bit == 0 && !endGiven) pos = (long long)((to >> 3) + 1) * 8;
    addReplyLongLong(c, pos);
}

/* ---------- BITOP ---------- */

typedef struct bitopSource {
    const uint8_t *p;
    size_t len;
    char buf[24];               /* digits of an integer-encoded value */
} bitopSource;

/* BITOP AND|OR|XOR|NOT dest key...: stores the result (as long as the
 * longest source, shorter ones padded with zeros) into dest, replacing any
 * value and TTL, or deletes dest when every source is empty or missing.
 * Replies the result's length. */
void bitopCommand(client *c) {
    const arg *op = &c->argv[1], *dest = &c->argv[2];
    int kind;
    enum { OP_AND, OP_OR, OP_XOR, OP_NOT };
    if (argEq(op, "and")) kind = OP_AND;
    else if (argEq(op, "or")) kind = OP_OR;
    else if (argEq(op, "xor")) kind = OP_XOR;
    else if (argEq(op, "not")) kind = OP_NOT;
    else {
        addReplyErrorSyntax(c);
        return;
    }
    if (kind == OP_NOT && c->argc != 4) {
        addReplyError(c, "ERR BITOP NOT must be called with a single source key.");
        return;
    }

    int n = c->argc - 3;
    size_t maxlen = 0;
    bitopSource *src = malloc(sizeof(*src) * (size_t)n);
    if (!src) abort();
    for (int i = 0; i < n; i++) {
        const arg *a = &c->argv[3 + i];
        kv *k = lookupKeyRead(c->db, a->p, a->len);
        src[i].p = NULL;
        src[i].len = 0;
        if (!k) continue;
        if (k->type != OBJ_STRING) {
            free(src);
            addReplyErrorWrongType(c);
            return;
        }
        src[i].p = (const uint8_t *)kvStringView(k, src[i].buf, &src[i].len);
        if (src[i].len > maxlen) maxlen = src[i].len;
    }

    uint8_t *res = NULL;
    if (maxlen) {
        res = calloc(1, maxlen);
        if (!res) abort();
        if (src[0].len) memcpy(res, src[0].p, src[0].len);
        if (kind == OP_NOT) {
            for (size_t j = 0; j < maxlen; j++) res[j] = (uint8_t)~res[j];
        }
        for (int i = 1; i < n; i++) {
            const uint8_t *s = src[i].p;
            size_t l = src[i].len, j;
            if (kind == OP_AND) {
                for (j = 0; j < l; j++) res[j] &= s[j];
                memset(res + l, 0, maxlen - l);
            } else if (kind == OP_OR) {
                for (j = 0; j < l; j++) res[j] |= s[j];
            } else {
                for (j = 0; j < l; j++) res[j] ^= s[j];
            }
        }
    }
    free(src);

    kv *k = lookupKeyWrite(c->db, dest->p, dest->len);
    if (maxlen) {
        if (!k) k = dbCreate(c->db, dest->p, dest->len, OBJ_STRING);
        else removeExpire(c->db, k);
        kvSetBytes(k, (const char *)res, maxlen);
        k->editedInPlace = 1;   /* BITOP builds its result as raw bytes, as Redis reports */
        dbWritten(c->db, k, nextVersion());
        notifyKeyspaceEvent(NOTIFY_STRING, "set", dest->p, dest->len, c->db->id);
    } else if (k) {
        dbDelete(c->db, k, nextVersion());
        notifyKeyspaceEvent(NOTIFY_GENERIC, "del", dest->p, dest->len, c->db->id);
    }
    free(res);
    addReplyLongLong(c, (long long)maxlen);
}

/* ---------- BITFIELD ---------- */

enum { BF_GET, BF_SET, BF_INCRBY };

typedef struct bitfieldOp {
    uint64_t offset;
    int64_t value;              /* SET value or INCRBY increment */
    int opcode;
    int overflow;               /* OVERFLOW_* in force for this op */
    int bits;
    int sign;
} bitfieldOp;

/* Executes one SET or INCRBY on the (large enough) buffer p, replying the
 * old value (SET), the new one (INCRBY) or null when OVERFLOW FAIL refuses.
 * Returns 1 if a value was written, with *changed telling whether it differs. */
static int bitfieldApply(client *c, uint8_t *p, const bitfieldOp *op, int *changed) {
    int overflow;
    if (op->sign) {
        int64_t old = bitfieldReadSigned(p, SIZE_MAX, op->offset, op->bits), nv, limit = 0;
        if (op->opcode == BF_INCRBY) {
            overflow = bitfieldSignedOverflow(old, op->value, op->bits, op->overflow, &limit);
            nv = overflow ? limit : (int64_t)((uint64_t)old + (uint64_t)op->value);
        } else {
            overflow = bitfieldSignedOverflow(op->value, 0, op->bits, op->overflow, &limit);
            nv = overflow ? limit : op->value;
        }
        if (overflow && op->overflow == OVERFLOW_FAIL) goto fail;
        addReplyLongLong(c, op->opcode == BF_INCRBY ? nv : old);
        bitfieldWrite(p, op->offset, op->bits, (uint64_t)nv);
        *changed = nv != old;
    } else {
        uint64_t old = bitfieldRead(p, SIZE_MAX, op->offset, op->bits), nv, limit = 0;
        if (op->opcode == BF_INCRBY) {
            overflow = bitfieldUnsignedOverflow(old, op->value, op->bits, op->overflow, &limit);
            nv = overflow ? limit : old + (uint64_t)op->value;
        } else {
            overflow = bitfieldUnsignedOverflow((uint64_t)op->value, 0, op->bits, op->overflow, &limit);
            nv = overflow ? limit : (uint64_t)op->value;
        }
        if (overflow && op->overflow == OVERFLOW_FAIL) goto fail;
        addReplyLongLong(c, (long long)(op->opcode == BF_INCRBY ? nv : old));
        bitfieldWrite(p, op->offset, op->bits, nv);
        *changed = nv != old;
    }
    return 1;
fail:
    addReplyNull(c);
    *changed = 0;
    return 0;
}

/* Parses every subcommand first (any error answers before the key is
 * touched), then runs them in order, replying one element per GET, SET and
 * INCRBY.  A key that a write reaches is created or lengthened even if every
 * write then fails under OVERFLOW FAIL; the "setbit" event fires only when a
 * write went through on a new, lengthened or actually changed value. */
static void bitfieldGeneric(client *c, int readonlyCommand) {
    bitfieldOp *ops = malloc(sizeof(*ops) * (size_t)c->argc);
    if (!ops) abort();
    int numops = 0, overflow = OVERFLOW_WRAP, writes = 0;
    uint64_t highest = 0;

    for (int j = 2; j < c->argc; j++) {
        int remaining = c->argc - j - 1;
        const arg *sub = &c->argv[j];
        bitfieldOp *op = &ops[numops];
        if (argEq(sub, "get") && remaining >= 2) {
            op->opcode = BF_GET;
        } else if (argEq(sub, "set") && remaining >= 3) {
            op->opcode = BF_SET;
        } else if (argEq(sub, "incrby") && remaining >= 3) {
            op->opcode = BF_INCRBY;
        } else if (argEq(sub, "overflow") && remaining >= 1) {
            const arg *how = &c->argv[++j];
            if (argEq(how, "wrap")) overflow = OVERFLOW_WRAP;
            else if (argEq(how, "sat")) overflow = OVERFLOW_SAT;
            else if (argEq(how, "fail")) overflow = OVERFLOW_FAIL;
            else {
                addReplyError(c, "ERR Invalid OVERFLOW type specified");
                goto done;
            }
            continue;
        } else {
            addReplyErrorSyntax(c);
            goto done;
        }
        if (parseBitfieldType(c, &c->argv[j + 1], &op->sign, &op->bits) < 0) goto done;
        if (parseBitOffset(c, &c->argv[j + 2], 1, op->bits, &op->offset) < 0) goto done;
        op->value = 0;
        if (op->opcode != BF_GET) {
            long long v;
            writes = 1;
            if (op->offset + (uint64_t)op->bits - 1 > highest) highest = op->offset + (uint64_t)op->bits - 1;
            if (getLongLongFromArg(c, &c->argv[j + 3], &v, NULL) < 0) goto done;
            op->value = v;
        }
        op->overflow = overflow;
        numops++;
        j += op->opcode == BF_GET ? 2 : 3;
    }

    kv *k;
    sval *bytes = NULL;
    int grown = 0, notify = 0;
    if (!writes) {
        int missing;
        k = lookupBitmapRead(c, &c->argv[1], &missing);
        if (!k && !missing) goto done;
    } else {
        if (readonlyCommand) {
            addReplyError(c, "ERR BITFIELD_RO only supports the GET subcommand");
            goto done;
        }
        if (!(k = lookupBitmapWrite(c, highest, &grown, &bytes))) goto done;
    }

    addReplyArrayLen(c, numops);
    for (int i = 0; i < numops; i++) {
        const bitfieldOp *op = &ops[i];
        if (op->opcode == BF_GET) {
            char buf[24];
            size_t len = 0;
            const uint8_t *p = k ? (const uint8_t *)kvStringView(k, buf, &len) : NULL;
            if (op->sign) addReplyLongLong(c, bitfieldReadSigned(p, len, op->offset, op->bits));
            else addReplyLongLong(c, (long long)bitfieldRead(p, len, op->offset, op->bits));
        } else {
            int changed;
            if (bitfieldApply(c, (uint8_t *)bytes->buf, op, &changed) && (grown || changed)) notify = 1;
        }
    }
    /* Record any change of the stored value, even one Redis keeps silent
     * (a key created or lengthened by writes that all failed), so that peers
     * see the same bytes. */
    if (notify || grown) dbWritten(c->db, k, nextVersion());
    if (notify) notifyKeyspaceEvent(NOTIFY_STRING, "setbit", c->argv[1].p, c->argv[1].len, c->db->id);
done:
    free(ops);
}

/* BITFIELD key [GET type offset] [SET type offset value]
 *              [INCRBY type offset increment] [OVERFLOW WRAP|SAT|FAIL] ... */
void bitfieldCommand(client *c) { bitfieldGeneric(c, 0); }

/* BITFIELD_RO key [GET type offset] ...: only GET (and OVERFLOW) allowed. */
void bitfieldroCommand(client *c) { bitfieldGeneric(c, 1); }
