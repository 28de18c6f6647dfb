/* test_dict.c - the intrusive hash table: lookups across growth, shrinking and
 * incremental rehashing, SCAN's guarantee while the table changes between
 * calls, random picks and both kinds of iterator.  Every test checks the
 * table's structural invariants, not just the answers. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dict.h"

typedef struct item {
    dictLink link;      /* first member, as dict.h requires */
    char key[24];
    size_t len;
    int linked;         /* the test's own idea of membership */
    int seen;           /* visits by the scan or iteration under test */
} item;

static const char *itemKey(const dictLink *node, size_t *len) {
    const item *it = (const item *)node;
    *len = it->len;
    return it->key;
}

static item *makeItems(int n) {
    item *items = calloc((size_t)n, sizeof(*items));
    assert_non_null(items);
    for (int i = 0; i < n; i++) items[i].len = (size_t)snprintf(items[i].key, sizeof(items[i].key), "key:%d", i);
    return items;
}

static void addItem(dict *d, item *it) {
    assert_false(it->linked);
    assert_null(dictFind(d, it->key, it->len));
    dictAdd(d, &it->link);
    it->linked = 1;
}

static void unlinkItem(dict *d, item *it) {
    assert_true(it->linked);
    assert_ptr_equal(dictUnlink(d, it->key, it->len), &it->link);
    it->linked = 0;
}

/* splitmix64: deterministic runs.  (Not xorshift64: dictRandom draws the
 * bucket and the chain position from consecutive outputs, and xorshift's low
 * bit is a function of the previous output's low byte.) */
static uint64_t rngState = 1;
static uint64_t rng(void) {
    uint64_t z = (rngState += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static int isPowerOfTwo(uint64_t v) { return v != 0 && (v & (v - 1)) == 0; }

/* Walks both tables: counts agree with used[], every node sits in the bucket
 * its hash selects, buckets of table[0] below rehashidx are empty, sizes are
 * powers of two and a second table exists exactly while rehashing. */
static void checkInvariants(const dict *d) {
    int rehashing = d->rehashidx != -1;
    assert_true(d->size[0] == 0 || isPowerOfTwo(d->size[0]));
    if (rehashing) {
        assert_true(isPowerOfTwo(d->size[1]));
        assert_true((uint64_t)d->rehashidx < d->size[0] || d->used[0] == 0);
    } else {
        assert_int_equal(d->size[1], 0);
        assert_null(d->table[1]);
    }
    for (int t = 0; t < 2; t++) {
        uint64_t count = 0;
        for (uint64_t b = 0; b < d->size[t]; b++) {
            for (const dictLink *n = d->table[t][b]; n; n = n->next) {
                size_t len;
                const char *key = itemKey(n, &len);
                assert_int_equal(dictHashKey(key, len) & (d->size[t] - 1), b);
                if (t == 0 && rehashing) assert_true(b >= (uint64_t)d->rehashidx);
                count++;
            }
        }
        assert_int_equal(count, d->used[t]);
    }
}

static void checkMembership(dict *d, item *items, int n) {
    uint64_t linked = 0;
    for (int i = 0; i < n; i++) {
        dictLink *found = dictFind(d, items[i].key, items[i].len);
        if (items[i].linked) {
            assert_ptr_equal(found, &items[i].link);
            linked++;
        } else {
            assert_null(found);
        }
    }
    assert_int_equal(dictSize(d), linked);
}

static void finishRehash(dict *d) {
    while (dictRehashSteps(d, 100)) {}
    assert_int_equal(d->rehashidx, -1);
}

static void test_empty_dict(void **state) {
    dict d;
    dictInit(&d, itemKey);
    assert_int_equal(dictSize(&d), 0);
    assert_int_equal(dictTableBytes(&d), 0);
    assert_null(dictFind(&d, "x", 1));
    assert_null(dictUnlink(&d, "x", 1));
    assert_null(dictRandom(&d, rng));
    assert_int_equal(dictRehashSteps(&d, 10), 0);
    dictShrinkIfSparse(&d);
    dictIter it;
    dictIterInit(&it, &d);
    assert_null(dictNext(&it));
    dictIterEnd(&it);
    checkInvariants(&d);
    dictClear(&d, NULL, NULL);
}

static void test_hash_is_stable_and_seeded(void **state) {
    assert_int_equal(dictHashKey("abc", 3), dictHashKey("abc", 3));
    assert_int_not_equal(dictHashKey("abc", 3), dictHashKey("abd", 3));
    assert_int_not_equal(dictHashKey("abc", 3), dictHashKey("abc", 2));
    assert_int_equal(dictHashKey("", 0), dictHashKey(NULL, 0));
}

/* The first add creates 4 buckets; the add that finds used == size starts a
 * rehash into twice as many; later operations finish it one bucket at a time. */
static void test_growth_starts_at_four_and_doubles(void **state) {
    dict d;
    item *items = makeItems(5);
    dictInit(&d, itemKey);
    addItem(&d, &items[0]);
    assert_int_equal(d.size[0], 4);
    assert_int_equal(d.rehashidx, -1);
    assert_int_equal(dictTableBytes(&d), 4 * sizeof(dictLink *));
    for (int i = 1; i < 4; i++) addItem(&d, &items[i]);
    assert_int_equal(d.size[0], 4);
    assert_int_equal(d.rehashidx, -1);
    addItem(&d, &items[4]);
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[1], 8);
    assert_int_equal(dictTableBytes(&d), 12 * sizeof(dictLink *));
    checkInvariants(&d);
    checkMembership(&d, items, 5);
    finishRehash(&d);
    assert_int_equal(d.size[0], 8);
    assert_int_equal(d.used[0], 5);
    checkInvariants(&d);
    checkMembership(&d, items, 5);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* Find and unlink call each do one bucket move: a rehash in progress ends
 * after enough of them, without any explicit step. */
static void test_operations_advance_rehash(void **state) {
    enum { N = 1025 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N - 1; i++) addItem(&d, &items[i]);
    finishRehash(&d);
    assert_int_equal(d.size[0], 1024);
    addItem(&d, &items[N - 1]);
    assert_int_equal(d.rehashidx, 0);
    int64_t before = d.rehashidx;
    assert_non_null(dictFind(&d, items[7].key, items[7].len));
    assert_true(d.rehashidx > before);
    int calls = 0;
    while (d.rehashidx != -1) {
        assert_non_null(dictFind(&d, items[calls % N].key, items[calls % N].len));
        calls++;
        assert_true(calls <= 1024);
    }
    assert_int_equal(d.size[0], 2048);
    checkInvariants(&d);
    checkMembership(&d, items, N);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_many_keys_grow_and_shrink(void **state) {
    enum { N = 20000 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) {
        addItem(&d, &items[i]);
        assert_int_equal(dictSize(&d), (uint64_t)i + 1);
        if (i % 997 == 0) checkInvariants(&d);
    }
    checkMembership(&d, items, N);
    finishRehash(&d);
    assert_true(d.size[0] >= N);
    assert_int_equal(d.size[0], 32768);
    /* Remove most keys: the table is now sparse and shrinks on request. */
    for (int i = 0; i < N; i++)
        if (i % 50 != 0) unlinkItem(&d, &items[i]);
    assert_int_equal(dictSize(&d), N / 50);
    assert_int_equal(d.size[0], 32768);   /* unlinking never shrinks by itself */
    dictShrinkIfSparse(&d);
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[1], 512);     /* smallest power of two >= 400 */
    checkInvariants(&d);
    checkMembership(&d, items, N);        /* lookups work mid-shrink */
    finishRehash(&d);
    assert_int_equal(d.size[0], 512);
    assert_int_equal(dictTableBytes(&d), 512 * sizeof(dictLink *));
    checkInvariants(&d);
    checkMembership(&d, items, N);
    /* Unlinking everything and shrinking returns to the initial size. */
    for (int i = 0; i < N; i += 50) unlinkItem(&d, &items[i]);
    dictShrinkIfSparse(&d);
    finishRehash(&d);
    assert_int_equal(d.size[0], 4);
    assert_int_equal(dictSize(&d), 0);
    checkInvariants(&d);
    /* And it grows again. */
    for (int i = 0; i < 100; i++) addItem(&d, &items[i]);
    checkMembership(&d, items, N);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_shrink_only_when_sparse_and_idle(void **state) {
    enum { N = 64 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    finishRehash(&d);
    assert_int_equal(d.size[0], 64);
    for (int i = 0; i < 56; i++) unlinkItem(&d, &items[i]);
    dictShrinkIfSparse(&d);              /* 8 of 64 is exactly 1/8: not under */
    assert_int_equal(d.rehashidx, -1);
    assert_int_equal(d.size[0], 64);
    unlinkItem(&d, &items[56]);
    /* Paused by a safe iterator: no resize starts. */
    dictIter it;
    dictIterSafe(&it, &d);
    dictShrinkIfSparse(&d);
    assert_int_equal(d.rehashidx, -1);
    dictIterEnd(&it);
    assert_int_equal(d.pauserehash, 0);
    dictShrinkIfSparse(&d);              /* 7 of 64 */
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[1], 8);
    dictShrinkIfSparse(&d);              /* already rehashing: no-op */
    assert_int_equal(d.size[1], 8);
    finishRehash(&d);
    assert_int_equal(d.size[0], 8);
    checkInvariants(&d);
    checkMembership(&d, items, N);
    /* A table of 4 buckets never shrinks. */
    for (int i = 57; i < N; i++) unlinkItem(&d, &items[i]);
    dictShrinkIfSparse(&d);
    finishRehash(&d);
    assert_int_equal(d.size[0], 4);
    dictShrinkIfSparse(&d);
    assert_int_equal(d.size[0], 4);
    assert_int_equal(d.rehashidx, -1);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_rehash_steps(void **state) {
    enum { N = 4097 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N - 1; i++) addItem(&d, &items[i]);
    finishRehash(&d);
    addItem(&d, &items[N - 1]);          /* starts 4096 -> 8192 */
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(dictRehashSteps(&d, 1), 1);
    int64_t idx = d.rehashidx;
    assert_true(idx >= 1);
    /* Paused: no bucket moves. */
    dictIter it;
    dictIterSafe(&it, &d);
    assert_int_equal(d.pauserehash, 1);
    dictRehashSteps(&d, 1000);
    assert_int_equal(d.rehashidx, idx);
    assert_non_null(dictFind(&d, items[5].key, items[5].len));
    assert_int_equal(d.rehashidx, idx);
    dictIterEnd(&it);
    assert_int_equal(d.pauserehash, 0);
    /* 100 moves of at most one bucket each (plus skipped empty buckets). */
    uint64_t used0 = d.used[0];
    assert_int_equal(dictRehashSteps(&d, 100), 1);
    assert_true(d.used[0] < used0);
    assert_true(d.rehashidx > idx);
    checkInvariants(&d);
    int calls = 0;
    while (dictRehashSteps(&d, 100)) calls++;
    assert_true(calls < 4096 / 100 + 2);
    assert_int_equal(d.rehashidx, -1);
    assert_int_equal(d.size[0], 8192);
    assert_int_equal(dictRehashSteps(&d, 100), 0);
    checkInvariants(&d);
    checkMembership(&d, items, N);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* A random workload of adds, unlinks, finds, shrinks and cron steps, with the
 * invariants and the whole membership checked along the way. */
static void test_random_workload(void **state) {
    enum { N = 3000, OPS = 60000 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int op = 0; op < OPS; op++) {
        item *it = &items[rng() % N];
        uint64_t r = rng() % 100;
        /* Phases bias towards growth, then towards emptying. */
        int growing = (op / 10000) % 2 == 0;
        if (r < (growing ? 60u : 25u)) {
            if (!it->linked) addItem(&d, it);
        } else if (r < 85) {
            if (it->linked) unlinkItem(&d, it);
        } else if (r < 97) {
            dictLink *found = dictFind(&d, it->key, it->len);
            assert_ptr_equal(found, it->linked ? &it->link : NULL);
        } else if (r < 99) {
            dictShrinkIfSparse(&d);
        } else {
            dictRehashSteps(&d, 1);
        }
        if (op % 5000 == 0) {
            checkInvariants(&d);
            checkMembership(&d, items, N);
        }
    }
    checkInvariants(&d);
    checkMembership(&d, items, N);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_binary_and_empty_keys(void **state) {
    item a = {.key = {'a', '\0', 'b'}, .len = 3};
    item b = {.key = {'a', '\0', 'c'}, .len = 3};
    item c = {.key = {'a'}, .len = 1};
    item e = {.len = 0};
    dict d;
    dictInit(&d, itemKey);
    addItem(&d, &a);
    addItem(&d, &b);
    addItem(&d, &c);
    addItem(&d, &e);
    assert_ptr_equal(dictFind(&d, "a\0b", 3), &a.link);
    assert_ptr_equal(dictFind(&d, "a\0c", 3), &b.link);
    assert_ptr_equal(dictFind(&d, "a", 1), &c.link);
    assert_ptr_equal(dictFind(&d, "", 0), &e.link);
    assert_null(dictFind(&d, "a\0", 2));
    assert_ptr_equal(dictFindHashed(&d, "a\0c", 3, dictHashKey("a\0c", 3)), &b.link);
    assert_ptr_equal(dictUnlink(&d, "", 0), &e.link);
    assert_null(dictFind(&d, "", 0));
    assert_int_equal(dictSize(&d), 3);
    dictClear(&d, NULL, NULL);
}

static void test_replace_node(void **state) {
    enum { N = 600 };
    dict d;
    item *items = makeItems(N);
    item *twins = makeItems(N);        /* same keys, other nodes */
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);   /* 512 -> 1024 under way */
    for (int i = 0; i < N; i += 3) {
        dictReplaceNode(&d, &items[i].link, &twins[i].link);
        assert_ptr_equal(dictFind(&d, items[i].key, items[i].len), &twins[i].link);
    }
    assert_int_equal(dictSize(&d), N);
    checkInvariants(&d);
    finishRehash(&d);
    for (int i = 0; i < N; i++) {
        dictLink *expect = i % 3 == 0 ? &twins[i].link : &items[i].link;
        assert_ptr_equal(dictFind(&d, items[i].key, items[i].len), expect);
    }
    dictReplaceNode(&d, &twins[0].link, &items[0].link);
    assert_ptr_equal(dictFind(&d, "key:0", 5), &items[0].link);
    checkInvariants(&d);
    dictClear(&d, NULL, NULL);
    free(items);
    free(twins);
}

static void countFreed(dictLink *node, void *ctx) {
    item *it = (item *)node;
    assert_true(it->linked);
    it->linked = 0;
    (*(int *)ctx)++;
}

static void test_clear_calls_free_on_every_node(void **state) {
    enum { N = 1025 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);   /* the last add started 1024 -> 2048 */
    assert_int_equal(d.used[1], 1);
    int freed = 0;
    dictClear(&d, countFreed, &freed);
    assert_int_equal(freed, N);
    assert_int_equal(dictSize(&d), 0);
    assert_int_equal(dictTableBytes(&d), 0);
    assert_int_equal(d.rehashidx, -1);
    assert_null(dictFind(&d, "key:1", 5));
    for (int i = 0; i < 10; i++) addItem(&d, &items[i]);   /* reusable */
    checkMembership(&d, items, N);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_random_returns_every_member(void **state) {
    enum { N = 140, DRAWS = 30000 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    for (int pass = 0; pass < 2; pass++) {
        /* pass 0: a rehash (128 -> 256) is under way at the start;
         * pass 1: half the members are gone */
        if (pass == 0) assert_int_not_equal(d.rehashidx, -1);
        for (int i = 0; i < N; i++) items[i].seen = 0;
        for (int k = 0; k < DRAWS; k++) {
            item *it = (item *)dictRandom(&d, rng);
            assert_non_null(it);
            assert_true(it >= items && it < items + N);
            assert_true(it->linked);
            it->seen++;
        }
        for (int i = 0; i < N; i++) {
            if (items[i].linked) assert_true(items[i].seen > 0);
            else assert_int_equal(items[i].seen, 0);
        }
        checkInvariants(&d);
        if (pass == 0)
            for (int i = 0; i < N; i += 2) unlinkItem(&d, &items[i]);
    }
    /* A single member is always the answer. */
    for (int i = 1; i < N - 1; i += 2) unlinkItem(&d, &items[i]);
    for (int k = 0; k < 100; k++) assert_ptr_equal(dictRandom(&d, rng), &items[N - 1].link);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* ---- scan ---- */

typedef struct scanCtx {
    item *items;
    int n;
    uint64_t visits;
} scanCtx;

static void scanVisit(dictLink *node, void *ctx) {
    scanCtx *sc = ctx;
    item *it = (item *)node;
    assert_true(it >= sc->items && it < sc->items + sc->n);
    assert_true(it->linked);   /* only nodes linked at the time are reported */
    it->seen++;
    sc->visits++;
}

static void test_scan_static_table_visits_each_once(void **state) {
    enum { N = 5000 };
    dict d;
    item *items = makeItems(N);
    scanCtx sc = {items, N, 0};
    dictInit(&d, itemKey);
    assert_int_equal(dictScan(&d, 0, scanVisit, &sc), 0);   /* empty: done at once */
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    finishRehash(&d);
    uint64_t cursor = 0;
    int calls = 0;
    do {
        cursor = dictScan(&d, cursor, scanVisit, &sc);
        calls++;
    } while (cursor != 0);
    assert_int_equal(calls, d.size[0]);   /* one bucket per call */
    for (int i = 0; i < N; i++) assert_int_equal(items[i].seen, 1);
    assert_int_equal(sc.visits, N);
    assert_int_equal(d.pauserehash, 0);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* Scans a dict while `mutate` changes it between calls.  Items [0, stable)
 * stay linked for the whole scan and must each be reported at least once;
 * the others come and go. */
static void runScanUnderChange(int stable, int volatileCount, int initialVolatile,
                               void (*mutate)(dict *d, item *vol, int nvol, int call)) {
    int n = stable + volatileCount;
    dict d;
    item *items = makeItems(n);
    scanCtx sc = {items, n, 0};
    dictInit(&d, itemKey);
    for (int i = 0; i < stable; i++) addItem(&d, &items[i]);
    for (int i = 0; i < initialVolatile; i++) addItem(&d, &items[stable + i]);
    uint64_t cursor = 0;
    int call = 0;
    do {
        cursor = dictScan(&d, cursor, scanVisit, &sc);
        mutate(&d, items + stable, volatileCount, call);
        if (call++ % 64 == 0) checkInvariants(&d);
        assert_true(call < 1000000);
    } while (cursor != 0);
    for (int i = 0; i < stable; i++) {
        assert_true(items[i].linked);
        if (items[i].seen == 0) fail_msg("stable item %s never returned by scan", items[i].key);
    }
    dictClear(&d, NULL, NULL);
    free(items);
}

static void growEachCall(dict *d, item *vol, int nvol, int call) {
    for (int i = call * 7; i < call * 7 + 7 && i < nvol; i++) addItem(d, &vol[i]);
}

static void shrinkEachCall(dict *d, item *vol, int nvol, int call) {
    for (int i = call * 40; i < call * 40 + 40 && i < nvol; i++)
        if (vol[i].linked) unlinkItem(d, &vol[i]);
    dictShrinkIfSparse(d);
}

static void churnEachCall(dict *d, item *vol, int nvol, int call) {
    /* Waves: grow a lot, then empty out and shrink, with partial rehashes. */
    int phase = (call / 20) % 2;
    for (int k = 0; k < 60; k++) {
        item *it = &vol[rng() % (uint64_t)nvol];
        if (phase == 0 && !it->linked) addItem(d, it);
        if (phase == 1 && it->linked) unlinkItem(d, it);
    }
    if (phase == 1) dictShrinkIfSparse(d);
    if (rng() % 3 == 0) dictRehashSteps(d, (int)(rng() % 5));
}

static void test_scan_while_growing(void **state) {
    runScanUnderChange(300, 6000, 0, growEachCall);
}

static void test_scan_while_shrinking(void **state) {
    runScanUnderChange(50, 8000, 8000, shrinkEachCall);
}

static void test_scan_while_churning(void **state) {
    for (int round = 0; round < 30; round++) runScanUnderChange(100, 3000, (int)(rng() % 3000), churnEachCall);
}

/* Scanning never moves buckets itself: it must not disturb a rehash. */
static void test_scan_does_not_rehash(void **state) {
    enum { N = 2049 };
    dict d;
    item *items = makeItems(N);
    scanCtx sc = {items, N, 0};
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);
    int64_t idx = d.rehashidx;
    uint64_t cursor = 0;
    do {
        cursor = dictScan(&d, cursor, scanVisit, &sc);
        assert_int_equal(d.rehashidx, idx);
    } while (cursor != 0);
    for (int i = 0; i < N; i++) assert_true(items[i].seen >= 1);
    assert_int_equal(d.pauserehash, 0);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* ---- iterators ---- */

static void iterateAll(dict *d, item *items, int n, int safe, int unlinkEvery) {
    dictIter it;
    if (safe) dictIterSafe(&it, d);
    else dictIterInit(&it, d);
    for (int i = 0; i < n; i++) items[i].seen = 0;
    int64_t idx = d->rehashidx;
    int count = 0;
    dictLink *node;
    while ((node = dictNext(&it)) != NULL) {
        item *x = (item *)node;
        assert_true(x->linked);
        x->seen++;
        if (unlinkEvery && count % unlinkEvery == 0) unlinkItem(d, x);
        assert_int_equal(d->rehashidx, idx);   /* no bucket moves meanwhile */
        count++;
    }
    assert_null(dictNext(&it));               /* stays at the end */
    dictIterEnd(&it);
    assert_int_equal(d->pauserehash, 0);
    for (int i = 0; i < n; i++) assert_true(items[i].seen <= 1);
}

/* 2049 adds start 2048 -> 4096; each later add (and its dictFind) moves up to
 * two of the ~1300 non-empty buckets, so with 2349 the rehash is still on. */
static void test_unsafe_iterator_visits_each_once(void **state) {
    enum { N = 2349 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);   /* both tables populated */
    dictRehashSteps(&d, 100);
    assert_int_not_equal(d.rehashidx, -1);
    iterateAll(&d, items, N, 0, 0);
    for (int i = 0; i < N; i++) assert_int_equal(items[i].seen, 1);
    finishRehash(&d);
    iterateAll(&d, items, N, 0, 0);
    for (int i = 0; i < N; i++) assert_int_equal(items[i].seen, 1);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_safe_iterator_unlinks_current(void **state) {
    enum { N = 2349 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);
    dictRehashSteps(&d, 100);
    assert_int_not_equal(d.rehashidx, -1);
    /* Unlink every third node while iterating, mid-rehash. */
    iterateAll(&d, items, N, 1, 3);
    for (int i = 0; i < N; i++) assert_int_equal(items[i].seen, 1);
    checkInvariants(&d);
    checkMembership(&d, items, N);
    assert_int_equal(dictSize(&d), N - (N + 2) / 3);
    /* Then unlink everything that is left. */
    iterateAll(&d, items, N, 1, 1);
    assert_int_equal(dictSize(&d), 0);
    checkInvariants(&d);
    checkMembership(&d, items, N);
    dictClear(&d, NULL, NULL);
    free(items);
}

static void test_safe_iterators_nest(void **state) {
    dict d;
    item *items = makeItems(10);
    dictInit(&d, itemKey);
    for (int i = 0; i < 10; i++) addItem(&d, &items[i]);
    dictIter a, b;
    dictIterSafe(&a, &d);
    dictIterSafe(&b, &d);
    assert_int_equal(d.pauserehash, 2);
    dictIterEnd(&b);
    dictIterEnd(&b);                  /* a second end is harmless */
    assert_int_equal(d.pauserehash, 1);
    dictIterEnd(&a);
    assert_int_equal(d.pauserehash, 0);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* The read-only calls on a table mid-rehash: the walk visits every node once,
 * find and random answer, the key scan hands over each key, and none of them
 * moves a bucket or leaves rehashing paused. */
static void keyScanVisit(const char *key, size_t len, void *ctx) {
    item *items = ctx;
    int i = atoi(key + 4);
    assert_int_equal(len, items[i].len);
    assert_memory_equal(key, items[i].key, len);
    items[i].seen++;
}

static void test_read_only_calls_do_not_rehash(void **state) {
    enum { N = 2349 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, itemKey);
    for (int i = 0; i < N; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);
    const dict *cd = &d;
    int64_t idx = d.rehashidx;
    uint64_t table = 0, bucket = 0;
    dictLink *next = NULL, *node;
    while ((node = dictWalkNext(cd, &table, &bucket, &next)) != NULL) ((item *)node)->seen++;
    assert_null(dictWalkNext(cd, &table, &bucket, &next));   /* stays at the end */
    for (int i = 0; i < N; i++) {
        assert_int_equal(items[i].seen, 1);
        items[i].seen = 0;
        assert_ptr_equal(dictFindReadOnly(cd, items[i].key, items[i].len), &items[i].link);
    }
    assert_null(dictFindReadOnly(cd, "absent", 6));
    for (int i = 0; i < 100; i++) assert_true(((item *)dictRandomReadOnly(cd, rng))->linked);
    uint64_t cursor = 0;
    do cursor = dictScanKeys(cd, cursor, keyScanVisit, items);
    while (cursor != 0);
    for (int i = 0; i < N; i++) assert_true(items[i].seen >= 1);
    assert_int_equal(d.rehashidx, idx);
    assert_int_equal(d.pauserehash, 0);
    checkInvariants(&d);
    dictClear(&d, NULL, NULL);
    free(items);
}

/* ---- visiting the keys whose hash has given low bits ---- */

static uint64_t keyOfCalls;
static const char *countingItemKey(const dictLink *node, size_t *len) {
    keyOfCalls++;
    return itemKey(node, len);
}

static void hashBitsVisit(dictLink *node, void *ctx) {
    scanCtx *sc = ctx;
    item *it = (item *)node;
    assert_true(it >= sc->items && it < sc->items + sc->n);
    assert_true(it->linked);
    it->seen++;
    sc->visits++;
}

/* Visits bits under mask and checks the visited set is exactly the linked
 * items whose hash matches, each once, with no bucket moved.  Returns how
 * many were visited. */
static uint64_t checkVisitHashBits(const dict *d, item *items, int n, uint64_t bits, uint64_t mask) {
    scanCtx sc = {items, n, 0};
    int64_t idx = d->rehashidx;
    for (int i = 0; i < n; i++) items[i].seen = 0;
    dictVisitHashBits(d, bits, mask, hashBitsVisit, &sc);
    uint64_t expected = 0;
    for (int i = 0; i < n; i++) {
        int match = items[i].linked && (dictHashKey(items[i].key, items[i].len) & mask) == bits;
        if (items[i].seen != match)
            fail_msg("%s visited %d times, hash matches bits %#llx/%#llx: %d", items[i].key, items[i].seen,
                     (unsigned long long)bits, (unsigned long long)mask, match);
        expected += (uint64_t)match;
    }
    assert_int_equal(sc.visits, expected);
    assert_int_equal(d->rehashidx, idx);
    assert_int_equal(d->pauserehash, 0);
    return sc.visits;
}

/* Several bits per mask: some taken from linked keys' hashes (so the answer
 * is not empty), some at random (mostly empty for a wide mask). */
static void checkVisitManyBits(const dict *d, item *items, int n) {
    static const uint64_t masks[] = {0xFFFF, 0xFFF, 0xFF, 0xF, 0, 0x3FFFF};
    for (size_t m = 0; m < sizeof(masks) / sizeof(masks[0]); m++) {
        uint64_t mask = masks[m];
        for (int k = 0; k < 6; k++) {
            item *it;
            do it = &items[rng() % (uint64_t)n];
            while (!it->linked);
            uint64_t bits = dictHashKey(it->key, it->len) & mask;
            assert_true(checkVisitHashBits(d, items, n, bits, mask) >= 1);
            checkVisitHashBits(d, items, n, rng() & mask, mask);
        }
    }
    /* Mask 0 matches every key; bits outside the mask match none. */
    assert_int_equal(checkVisitHashBits(d, items, n, 0, 0), dictSize(d));
    assert_int_equal(checkVisitHashBits(d, items, n, 0x10000, 0xFFFF), 0);
}

static void test_visit_hash_bits(void **state) {
    enum { N = 140000 };
    dict d;
    item *items = makeItems(N);
    dictInit(&d, countingItemKey);
    dictVisitHashBits(&d, 0, 0xFFFF, hashBitsVisit, &(scanCtx){items, N, 0});   /* empty: nothing */

    /* Below 65536 keys: 8192 buckets, fewer than mask+1 for 0xFFFF. */
    for (int i = 0; i < 5000; i++) addItem(&d, &items[i]);
    finishRehash(&d);
    assert_int_equal(d.size[0], 8192);
    checkVisitManyBits(&d, items, N);

    /* Mid-rehash with both tables smaller than 65536 buckets (2048 -> 4096
     * after a fresh start), then with one on each side (32768 -> 65536). */
    dictClear(&d, NULL, NULL);
    for (int i = 0; i < N; i++) items[i].linked = 0;
    for (int i = 0; i < 2349; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[1], 4096);
    checkVisitManyBits(&d, items, N);
    for (int i = 2349; i < 32769; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[0], 32768);
    assert_int_equal(d.size[1], 65536);
    dictRehashSteps(&d, 2000);
    assert_int_not_equal(d.rehashidx, -1);
    checkVisitManyBits(&d, items, N);

    /* Above 65536 keys, mid-rehash with both tables at least 65536 buckets
     * (65536 -> 131072), then settled: matching buckets hold only matching
     * keys, so no key is hashed. */
    for (int i = 32769; i < 65537; i++) addItem(&d, &items[i]);
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[0], 65536);
    assert_int_equal(d.size[1], 131072);
    dictRehashSteps(&d, 5000);
    assert_int_not_equal(d.rehashidx, -1);
    checkVisitManyBits(&d, items, N);
    for (int i = 65537; i < 100000; i++) addItem(&d, &items[i]);
    finishRehash(&d);
    assert_int_equal(d.size[0], 131072);
    checkVisitManyBits(&d, items, N);
    keyOfCalls = 0;   /* checkVisitHashBits hashes items itself, not via keyOf */
    assert_true(checkVisitHashBits(&d, items, N, dictHashKey("key:7", 5) & 0xFFFF, 0xFFFF) >= 1);
    assert_true(checkVisitHashBits(&d, items, N, dictHashKey("key:7", 5) & 0xFF, 0xFF) >= 1);
    assert_true(checkVisitHashBits(&d, items, N, dictHashKey("key:7", 5) & 0x1FFFF, 0x1FFFF) >= 1);
    assert_int_equal(keyOfCalls, 0);

    /* Shrinking: a large table[0] (131072) draining into a small table[1]. */
    for (int i = 0; i < 100000; i++)
        if (i % 64 != 0) unlinkItem(&d, &items[i]);
    dictShrinkIfSparse(&d);
    assert_int_not_equal(d.rehashidx, -1);
    assert_int_equal(d.size[1], 2048);
    dictRehashSteps(&d, 200);
    assert_int_not_equal(d.rehashidx, -1);
    checkVisitManyBits(&d, items, N);
    checkInvariants(&d);
    dictClear(&d, NULL, NULL);
    free(items);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_empty_dict),
        cmocka_unit_test(test_hash_is_stable_and_seeded),
        cmocka_unit_test(test_growth_starts_at_four_and_doubles),
        cmocka_unit_test(test_operations_advance_rehash),
        cmocka_unit_test(test_many_keys_grow_and_shrink),
        cmocka_unit_test(test_shrink_only_when_sparse_and_idle),
        cmocka_unit_test(test_rehash_steps),
        cmocka_unit_test(test_random_workload),
        cmocka_unit_test(test_binary_and_empty_keys),
        cmocka_unit_test(test_replace_node),
        cmocka_unit_test(test_clear_calls_free_on_every_node),
        cmocka_unit_test(test_random_returns_every_member),
        cmocka_unit_test(test_scan_static_table_visits_each_once),
        cmocka_unit_test(test_scan_while_growing),
        cmocka_unit_test(test_scan_while_shrinking),
        cmocka_unit_test(test_scan_while_churning),
        cmocka_unit_test(test_scan_does_not_rehash),
        cmocka_unit_test(test_unsafe_iterator_visits_each_once),
        cmocka_unit_test(test_safe_iterator_unlinks_current),
        cmocka_unit_test(test_safe_iterators_nest),
        cmocka_unit_test(test_read_only_calls_do_not_rehash),
        cmocka_unit_test(test_visit_hash_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
