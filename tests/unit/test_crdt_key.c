/* test_crdt_key.c - key-level rules and the tombstone table. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "crdt_key.h"

static version V(uint64_t stamp, uint64_t node) {
    version v = {stamp, node};
    return v;
}

static void test_type_clash_later_creation_wins(void **state) {
    (void)state;
    assert_true(keyCreationWins(V(200, 1), V(100, 2)));
    assert_false(keyCreationWins(V(100, 2), V(200, 1)));
    /* equal stamps: the node id decides, the same way on every node */
    assert_true(keyCreationWins(V(100, 9), V(100, 3)));
    assert_false(keyCreationWins(V(100, 3), V(100, 9)));
}

static void test_later_write_recreates(void **state) {
    (void)state;
    assert_true(keyWriteSurvivesDelete(V(101, 1), V(100, 1)));
    assert_false(keyWriteSurvivesDelete(V(99, 5), V(100, 1)));
    assert_false(keyWriteSurvivesDelete(V(100, 1), V(100, 1)));
}

static void test_deadline_lww(void **state) {
    (void)state;
    keyDeadline a = {5000, V(10, 1)}, b = {-1, V(20, 2)};
    assert_int_equal(keyDeadlineMerge(a, b).when, -1);
    assert_int_equal(keyDeadlineMerge(b, a).when, -1);
    keyDeadline c = {7000, V(30, 1)};
    assert_int_equal(keyDeadlineMerge(b, c).when, 7000);
    assert_int_equal(keyDeadlineMerge(c, b).when, 7000);
}

static void test_tombstones_record_keep_later(void **state) {
    (void)state;
    dict t;
    tombsInit(&t);
    tombsRecord(&t, "k", 1, V(100, 1), V(100, 1).stamp, TOMB_PLAIN, NULL);
    tombsRecord(&t, "k", 1, V(50, 2), V(50, 2).stamp, TOMB_PLAIN, NULL);
    tombstone *ts = tombsFind(&t, "k", 1);
    assert_non_null(ts);
    assert_int_equal(ts->ver.stamp, 100);
    tombsRecord(&t, "k", 1, V(150, 2), V(150, 2).stamp, TOMB_PLAIN, NULL);
    assert_int_equal(tombsFind(&t, "k", 1)->ver.stamp, 150);
    tombsForget(&t, "k", 1);
    assert_null(tombsFind(&t, "k", 1));
    tombsClear(&t);
}

/* Collection drops exactly the tombstones seen before the synced
 * stamp, at most `max` per call, and never a newer one. */
static void test_tombstone_collection(void **state) {
    (void)state;
    dict t;
    tombsInit(&t);
    char key[32];
    for (int i = 1; i <= 1000; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        tombsRecord(&t, key, (size_t)n, V((uint64_t)i, 7), (uint64_t)i, TOMB_PLAIN, NULL);
    }
    assert_int_equal(dictSize(&t), 1000);
    uint64_t cur = 0;
    assert_int_equal(tombsCollect(&t, &cur, 0, 10000), 0);          /* some peer never synced */
    size_t first = tombsCollect(&t, &cur, 301, 100);                /* a bounded slice per call */
    assert_true(first <= 150);
    size_t total = first;
    for (int i = 0; i < 100; i++) total += tombsCollect(&t, &cur, 301, 100);
    assert_int_equal(total, 300);
    assert_int_equal(dictSize(&t), 700);
    for (int i = 1; i <= 1000; i++) {
        int n = snprintf(key, sizeof(key), "key:%d", i);
        if (i <= 300) assert_null(tombsFind(&t, key, (size_t)n));
        else assert_non_null(tombsFind(&t, key, (size_t)n));
    }
    total = 0;
    for (int i = 0; i < 100; i++) total += tombsCollect(&t, &cur, UINT64_MAX, 1000);  /* no peers: all */
    assert_int_equal(total, 700);
    assert_int_equal(dictSize(&t), 0);
    tombsClear(&t);
}

/* A set's tombstone keeps the emptied set: two deletes of one key merge their
 * contexts, a later plain delete replaces the payload, and a re-created key
 * takes the payload (once) so that its dots continue the old ones. */
static void test_tombstone_payloads(void **state) {
    (void)state;
    dict t;
    tombsInit(&t);
    orset *a = orsetNew(), *b = orsetNew();
    orsetAdd(a, 1, "x", 1, NULL);
    orsetAdd(b, 2, "y", 1, NULL);
    orsetClear(a, NULL);
    orsetClear(b, NULL);
    tombsRecord(&t, "k", 1, V(10, 1), 10, TOMB_SET, a);
    tombsRecord(&t, "k", 1, V(5, 2), 12, TOMB_SET, b);
    tombstone *ts = tombsFind(&t, "k", 1);
    assert_int_equal(ts->ver.stamp, 10);
    assert_int_equal(ts->seen, 12);
    assert_int_equal(ts->kind, TOMB_SET);
    const ccontext *cc = orsetContext(ts->payload);
    assert_int_equal(ccMax(cc, 1), 1);
    assert_int_equal(ccMax(cc, 2), 1);
    assert_null(tombsTakePayload(ts, TOMB_HASH));
    orset *s = tombsTakePayload(ts, TOMB_SET);
    assert_non_null(s);
    assert_null(tombsTakePayload(ts, TOMB_SET));
    orsetAdd(s, 1, "z", 1, NULL);          /* the new incarnation's dot follows the old */
    assert_int_equal(ccMax(orsetContext(s), 1), 2);
    orsetFree(s);
    /* a later delete of another kind replaces what an earlier one kept */
    reg *r = malloc(sizeof(*r));
    regInit(r);
    tombsRecord(&t, "k", 1, V(20, 1), 20, TOMB_REG, r);
    assert_int_equal(tombsFind(&t, "k", 1)->kind, TOMB_REG);
    tombsRecord(&t, "k", 1, V(30, 1), 30, TOMB_PLAIN, NULL);
    assert_int_equal(tombsFind(&t, "k", 1)->kind, TOMB_PLAIN);
    tombsClear(&t);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_type_clash_later_creation_wins),
        cmocka_unit_test(test_later_write_recreates),
        cmocka_unit_test(test_deadline_lww),
        cmocka_unit_test(test_tombstones_record_keep_later),
        cmocka_unit_test(test_tombstone_collection),
        cmocka_unit_test(test_tombstone_payloads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
