/* gen_corpus.c - writes the fuzz targets' seed corpus: a few small valid
 * inputs per target, made by encoding real values with the modules' own API
 * (so the seeds follow the encodings when they change).
 *
 *   gen_corpus DIR     writes the seeds into DIR/resp/ and DIR/crdt/ (make -C tests fuzz-corpus)
 *
 * Input layouts are described in fuzz_resp.c and fuzz_crdt.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "crdt_codec.h"
#include "crdt_dots.h"
#include "crdt_ormap.h"
#include "crdt_orset.h"
#include "crdt_reg.h"

#define S(lit) (lit), (sizeof(lit) - 1)

enum { T_REG = 0, T_ORSET = 1, T_ORMAP = 2, T_CC = 3 };

static const char *outDir;

static void writeFile(const char *target, const char *name, const void *p, size_t len) {
    char path[1024];
    snprintf(path, sizeof(path), "%s/%s/%s", outDir, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (len && fwrite(p, 1, len, f) != len) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
}

/* ---------- resp: setup byte, 4-byte chunk plan, stream ---------- */

static void respSeed(const char *name, uint8_t setup, const char *plan, const char *stream, size_t len) {
    cbuf b;
    cbufInit(&b);
    cbufPutByte(&b, setup);
    for (int i = 0; i < 4; i++) cbufPutByte(&b, (uint8_t)plan[i]);
    for (size_t i = 0; i < len; i++) cbufPutByte(&b, (uint8_t)stream[i]);
    writeFile("resp", name, b.p, b.len);
    cbufFree(&b);
}

static void respSeeds(void) {
    respSeed("multibulk", 0, "\1\3\7\0", S("*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"));
    respSeed("binary", 0, "\2\2\2\2", S("*2\r\n$4\r\nECHO\r\n$7\r\na\r\nb\0c\n\r\n*0\r\n*-1\r\n"));
    respSeed("inline", 0, "\5\0\1\11", S("set k \"a b\"\r\nECHO 'it\\'s'\r\nECHO \"\\x41\\n\"\n\r\n  PING \t\n"));
    respSeed("pipeline", 0, "\3\1\4\1",
             S("*1\r\n$4\r\nPING\r\nPING\r\n*2\r\n$3\r\nGET\r\n$1\r\nk\r\n\r\n*0\r\nECHO x\n*1\r\n$4\r\nPI"));
    respSeed("unauthenticated", 1, "\4\4\4\4", S("*2\r\n$4\r\nAUTH\r\n$1\r\np\r\n*11\r\n"));
    respSeed("small-max-bulk", 2 << 1, "\1\1\1\1", S("*1\r\n$3\r\nabc\r\n*1\r\n$4\r\nabcd\r\n"));
    respSeed("bad-dollar", 0, "\1\2\3\4", S("*2\r\n$3\r\nGET\r\n:1\r\n"));
    respSeed("bad-bulk-length", 0, "\7\0\0\1", S("*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$-10\r\n"));
    respSeed("unbalanced-quotes", 0, "\1\1\2\3", S("PING\r\nECHO \"a\"b\r\n"));
}

/* ---------- crdt: type byte, value A, value B ---------- */

static void crdtSeed3(const char *name, uint8_t type, const cbuf *a, const cbuf *b, const cbuf *c) {
    cbuf out;
    cbufInit(&out);
    cbufPutByte(&out, type);
    const cbuf *parts[3] = {a, b, c};
    for (int k = 0; k < 3; k++)
        if (parts[k])
            for (size_t i = 0; i < parts[k]->len; i++) cbufPutByte(&out, (uint8_t)parts[k]->p[i]);
    writeFile("crdt", name, out.p, out.len);
    cbufFree(&out);
}

static void crdtSeed(const char *name, uint8_t type, const cbuf *a, const cbuf *b) { crdtSeed3(name, type, a, b, NULL); }

static void regSeeds(void) {
    reg a, b, d;
    regInit(&a);
    regInit(&b);
    regInit(&d);
    cbuf ea, eb;
    cbufInit(&ea);
    cbufInit(&eb);

    regSet(&a, (version){100, 1}, S("hello"), NULL);
    regEncode(&a, &ea);
    crdtSeed("reg-set", T_REG, &ea, NULL);

    /* A counter from two nodes, then a concurrent SET that saw part of it. */
    regSet(&a, (version){200, 1}, S("10"), NULL);
    regIncrBy(&a, 1, 5, NULL);
    regIncrBy(&a, 2, -3, &d);
    regCopy(&b, &a);
    regSet(&b, (version){300, 2}, S("7"), NULL);
    regIncrBy(&a, 1, 4, NULL);
    cbufFree(&ea);
    regEncode(&a, &ea);
    regEncode(&b, &eb);
    crdtSeed("reg-counters", T_REG, &ea, &eb);

    /* An increment delta and a float total. */
    cbufFree(&ea);
    cbufFree(&eb);
    regEncode(&d, &ea);
    regIncrByFloat(&b, 3, 1.5L, NULL);
    regEncode(&b, &eb);
    crdtSeed("reg-delta-float", T_REG, &ea, &eb);

    /* A deletion against an increment it had not seen. */
    cbufFree(&ea);
    cbufFree(&eb);
    regFree(&b);
    regInit(&b);
    regDelete(&a, (version){400, 1}, NULL);
    regIncrBy(&b, 4, 1, NULL);
    regEncode(&a, &ea);
    regEncode(&b, &eb);
    crdtSeed("reg-delete", T_REG, &ea, &eb);

    cbufFree(&ea);
    cbufFree(&eb);
    regFree(&a);
    regFree(&b);
    regFree(&d);
}

static void orsetSeeds(void) {
    orset *a = orsetNew(), *b = orsetNew(), *d = orsetNew();
    cbuf ea, eb;
    cbufInit(&ea);
    cbufInit(&eb);

    orsetAdd(a, 1, S("apple"), NULL);
    orsetAdd(a, 1, S("pear"), NULL);
    orsetAdd(a, 2, S("plum"), d);
    orsetEncode(a, &ea);
    orsetEncode(d, &eb);
    crdtSeed("orset-small-and-delta", T_ORSET, &ea, &eb);

    /* Concurrent adds of one member (two dots), and a remove's delta. */
    orset *c = orsetDup(a);
    orsetAdd(c, 3, S("apple"), NULL);
    orsetAdd(a, 1, S("apple"), NULL);
    orsetMerge(a, c);
    orsetFree(d);
    d = orsetNew();
    orsetRemove(c, S("pear"), d);
    cbufFree(&ea);
    cbufFree(&eb);
    orsetEncode(a, &ea);
    orsetEncode(d, &eb);
    crdtSeed("orset-concurrent-and-remove", T_ORSET, &ea, &eb);

    /* Three replicas' full states after concurrent adds and removes. */
    orset *r1 = orsetDup(a), *r2 = orsetDup(a), *r3 = orsetDup(a);
    orsetAdd(r1, 5, S("fig"), NULL);
    orsetRemove(r1, S("plum"), NULL);
    orsetAdd(r2, 6, S("plum"), NULL);
    orsetAdd(r2, 6, S("kiwi"), NULL);
    orsetRemove(r3, S("apple"), NULL);
    orsetAdd(r3, 8, S("fig"), NULL);
    cbuf ec;
    cbufInit(&ec);
    cbufFree(&ea);
    cbufFree(&eb);
    orsetEncode(r1, &ea);
    orsetEncode(r2, &eb);
    orsetEncode(r3, &ec);
    crdtSeed3("orset-three-replicas", T_ORSET, &ea, &eb, &ec);
    orsetFree(r1);
    orsetFree(r2);
    orsetFree(r3);
    cbufFree(&ec);

    /* A set past the packed form's limits, and one a clear emptied. */
    char name[16];
    for (int i = 0; i < 130; i++) orsetAdd(b, 4, name, (size_t)snprintf(name, sizeof(name), "m%d", i), NULL);
    orsetClear(c, NULL);
    cbufFree(&ea);
    cbufFree(&eb);
    orsetEncode(b, &ea);
    orsetEncode(c, &eb);
    crdtSeed("orset-large-and-cleared", T_ORSET, &ea, &eb);

    /* A batch delta of adds and removes into the large set: more members than
     * a merge reads ahead, and as many removed names as a delta keeps. */
    orsetFree(d);
    d = orsetNew();
    for (int i = 0; i < 12; i++) orsetAdd(b, 9, name, (size_t)snprintf(name, sizeof(name), "m%d", i), d);
    for (int i = 12; i < 12 + 64; i++) orsetRemove(b, name, (size_t)snprintf(name, sizeof(name), "m%d", i), d);
    cbufFree(&ea);
    cbufFree(&eb);
    orsetEncode(b, &ea);
    orsetEncode(d, &eb);
    crdtSeed("orset-large-and-batch-delta", T_ORSET, &eb, &ea);

    cbufFree(&ea);
    cbufFree(&eb);
    orsetFree(a);
    orsetFree(b);
    orsetFree(c);
    orsetFree(d);
}

static void ormapSeeds(void) {
    ormap *a = ormapNew(), *b = ormapNew(), *d = ormapNew();
    cbuf ea, eb;
    cbufInit(&ea);
    cbufInit(&eb);

    ormapSet(a, 1, (version){100, 1}, S("name"), S("lattice"), NULL);
    ormapSet(a, 1, (version){101, 1}, S("lang"), S("c"), d);
    ormapEncode(a, &ea);
    ormapEncode(d, &eb);
    crdtSeed("ormap-small-and-delta", T_ORMAP, &ea, &eb);

    /* Counters, a float, concurrent writes of one field, a delete's delta. */
    ormapIncrBy(b, 2, (version){200, 2}, S("hits"), 5, NULL);
    ormap *c = ormapDup(a);
    ormapSet(c, 3, (version){300, 3}, S("name"), S("other"), NULL);
    ormapIncrByFloat(c, 3, (version){301, 3}, S("ratio"), 0.25L, NULL);
    ormapMerge(b, a);
    ormapMerge(b, c);
    ormapSet(a, 1, (version){302, 1}, S("name"), S("mine"), NULL);
    ormapMerge(b, a);
    ormapFree(d);
    d = ormapNew();
    ormapDel(c, S("lang"), d);
    cbufFree(&ea);
    cbufFree(&eb);
    ormapEncode(b, &ea);
    ormapEncode(d, &eb);
    crdtSeed("ormap-counters-and-delete", T_ORMAP, &ea, &eb);

    /* Three replicas' full states: concurrent writes, increments, deletes. */
    ormap *r1 = ormapDup(b), *r2 = ormapDup(b), *r3 = ormapDup(b);
    ormapSet(r1, 6, (version){500, 6}, S("name"), S("left"), NULL);
    ormapIncrBy(r1, 6, (version){501, 6}, S("hits"), 2, NULL);
    ormapDel(r1, S("ratio"), NULL);
    ormapSet(r2, 7, (version){502, 7}, S("name"), S("right"), NULL);
    ormapIncrBy(r2, 7, (version){503, 7}, S("hits"), -1, NULL);
    ormapSet(r2, 7, (version){504, 7}, S("new"), S("x"), NULL);
    ormapIncrByFloat(r3, 8, (version){505, 8}, S("ratio"), 0.5L, NULL);
    ormapDel(r3, S("hits"), NULL);
    cbuf ec;
    cbufInit(&ec);
    cbufFree(&ea);
    cbufFree(&eb);
    ormapEncode(r1, &ea);
    ormapEncode(r2, &eb);
    ormapEncode(r3, &ec);
    crdtSeed3("ormap-three-replicas", T_ORMAP, &ea, &eb, &ec);

    /* A stale copy and the state after a later write to one of its fields. */
    ormap *newer = ormapDup(r1);
    ormapSet(newer, 9, (version){600, 9}, S("lang"), S("rust"), NULL);
    cbufFree(&ea);
    cbufFree(&eb);
    ormapEncode(r1, &ea);
    ormapEncode(newer, &eb);
    crdtSeed("ormap-stale-and-newer", T_ORMAP, &ea, &eb);
    ormapFree(newer);
    ormapFree(r1);
    ormapFree(r2);
    ormapFree(r3);
    cbufFree(&ec);

    /* A hash past the packed form's limits. */
    ormap *big = ormapNew();
    char f[16];
    for (int i = 0; i < 130; i++)
        ormapSet(big, 5, (version){1000 + (uint64_t)i, 5}, f, (size_t)snprintf(f, sizeof(f), "f%d", i), S("v"), NULL);
    cbufFree(&ea);
    ormapEncode(big, &ea);
    crdtSeed("ormap-large", T_ORMAP, &ea, NULL);

    /* A batch delta of writes and deletes into the large hash: more fields
     * than a merge reads ahead, and as many removed names as a delta keeps. */
    ormapFree(d);
    d = ormapNew();
    for (int i = 0; i < 12; i++)
        ormapSet(big, 10, (version){2000 + (uint64_t)i, 10}, f, (size_t)snprintf(f, sizeof(f), "f%d", i), S("w"), d);
    for (int i = 12; i < 12 + 64; i++) ormapDel(big, f, (size_t)snprintf(f, sizeof(f), "f%d", i), d);
    cbufFree(&eb);
    ormapEncode(d, &eb);
    crdtSeed("ormap-batch-delta-and-large", T_ORMAP, &eb, &ea);

    cbufFree(&ea);
    cbufFree(&eb);
    ormapFree(a);
    ormapFree(b);
    ormapFree(c);
    ormapFree(d);
    ormapFree(big);
}

static void ccSeeds(void) {
    ccontext a, b;
    ccInit(&a);
    ccInit(&b);
    cbuf ea, eb;
    cbufInit(&ea);
    cbufInit(&eb);
    for (uint64_t i = 1; i <= 5; i++) ccAdd(&a, (dot){1, i});
    ccAdd(&a, (dot){1, 9});
    ccAdd(&a, (dot){1, 11});
    ccAdd(&a, (dot){7, 3});
    ccAdd(&b, (dot){1, 6});
    ccAdd(&b, (dot){2, 1});
    ccAdd(&b, (dot){7, 1});
    ccAdd(&b, (dot){7, 2});
    ccEncode(&a, &ea);
    ccEncode(&b, &eb);
    crdtSeed("context-vector-and-cloud", T_CC, &ea, &eb);
    cbufFree(&ea);
    cbufFree(&eb);
    ccFree(&a);
    ccFree(&b);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s DIR\n", argv[0]);
        return 2;
    }
    outDir = argv[1];
    respSeeds();
    regSeeds();
    orsetSeeds();
    ormapSeeds();
    ccSeeds();
    return 0;
}
