/* test_hlc.c - the hybrid logical clock: strict monotonicity whatever the wall
 * clock does, the receive rule, refusal of stamps from too far in the future,
 * the logical counter's overflow, and version ordering. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "hlc.h"

#define SKEW 60000

static void test_stamp_layout(void **state) {
    uint64_t s = hlcMake(1700000000123ULL, 42);
    assert_int_equal(hlcPhysical(s), 1700000000123ULL);
    assert_int_equal(hlcLogical(s), 42);
    assert_int_equal(s, (1700000000123ULL << 16) | 42);
    /* Stamps order as integers: physical first, then logical. */
    assert_true(hlcMake(5, 0xffff) < hlcMake(6, 0));
    assert_true(hlcMake(5, 1) < hlcMake(5, 2));
    /* The logical part is masked to 16 bits. */
    assert_int_equal(hlcMake(5, 0x10001), hlcMake(5, 1));
}

static void test_init(void **state) {
    hlc h;
    memset(&h, 0xab, sizeof(h));
    hlcInit(&h, SKEW);
    assert_int_equal(h.last, 0);
    assert_int_equal(h.maxSkewMs, SKEW);
}

static void test_now_follows_wall_clock(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1000, 0));
    assert_int_equal(hlcNow(&h, 1001), hlcMake(1001, 0));
    assert_int_equal(hlcNow(&h, 5000), hlcMake(5000, 0));
    assert_int_equal(h.last, hlcMake(5000, 0));
}

static void test_now_ties_bump_counter(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1000, 0));
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1000, 1));
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1000, 2));
    /* A new millisecond resets the counter. */
    assert_int_equal(hlcNow(&h, 1001), hlcMake(1001, 0));
}

static void test_now_wall_clock_going_backwards(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    hlcNow(&h, 10000);
    /* The wall clock jumps back 5 s: stamps keep the old millisecond and count. */
    assert_int_equal(hlcNow(&h, 5000), hlcMake(10000, 1));
    assert_int_equal(hlcNow(&h, 5001), hlcMake(10000, 2));
    assert_int_equal(hlcNow(&h, 9999), hlcMake(10000, 3));
    assert_int_equal(hlcNow(&h, 10000), hlcMake(10000, 4));
    /* Until it catches up. */
    assert_int_equal(hlcNow(&h, 10001), hlcMake(10001, 0));
}

static void test_now_strictly_monotonic_under_random_wall(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    uint64_t wall = 1000000, prev = 0, seed = 12345, maxWall = 0;
    for (int i = 0; i < 200000; i++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int step = (int)((seed >> 33) % 6) - 2;   /* -2..3 ms: often backwards, drifting on */
        wall = (uint64_t)((int64_t)wall + step);
        if (wall > maxWall) maxWall = wall;
        uint64_t s = hlcNow(&h, wall);
        assert_true(s > prev);
        /* Never ahead of the largest wall reading (no overflow carry here:
         * fewer than 65536 events share a millisecond). */
        assert_true(hlcPhysical(s) <= maxWall);
        assert_true(hlcPhysical(s) >= wall);
        prev = s;
    }
}

static void test_now_logical_overflow_advances_millisecond(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    h.last = hlcMake(1000, 0xfffe);
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1000, 0xffff));
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1001, 0));
    assert_int_equal(hlcNow(&h, 1000), hlcMake(1001, 1));
    assert_int_equal(hlcNow(&h, 1001), hlcMake(1001, 2));
    assert_int_equal(hlcNow(&h, 1002), hlcMake(1002, 0));
}

static void test_now_65536_events_in_one_millisecond(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    uint64_t prev = 0;
    for (uint64_t i = 0; i <= 0xffff; i++) {
        uint64_t s = hlcNow(&h, 7);
        assert_int_equal(s, hlcMake(7, i));
        assert_true(s > prev);
        prev = s;
    }
    assert_int_equal(hlcNow(&h, 7), hlcMake(8, 0));
}

/* Remote behind local and wall: the clock only counts up. */
static void test_observe_remote_behind(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    hlcNow(&h, 5000);
    hlcNow(&h, 5000);                                   /* last = 5000.1 */
    assert_int_equal(hlcObserve(&h, hlcMake(3000, 9), 4000), 0);
    assert_int_equal(h.last, hlcMake(5000, 2));
    assert_int_equal(hlcNow(&h, 4000), hlcMake(5000, 3));
}

/* Remote ahead of local and wall (within the skew): the clock jumps past it. */
static void test_observe_remote_ahead(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    hlcNow(&h, 5000);
    assert_int_equal(hlcObserve(&h, hlcMake(8000, 4), 5000), 0);
    assert_int_equal(h.last, hlcMake(8000, 5));
    uint64_t next = hlcNow(&h, 5001);
    assert_true(next > hlcMake(8000, 4));
    assert_int_equal(next, hlcMake(8000, 6));
}

/* Wall ahead of both: the wall clock wins with a zero counter. */
static void test_observe_wall_ahead_of_both(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    hlcNow(&h, 5000);
    assert_int_equal(hlcObserve(&h, hlcMake(6000, 77), 9000), 0);
    assert_int_equal(h.last, hlcMake(9000, 0));
    assert_int_equal(hlcNow(&h, 9000), hlcMake(9000, 1));
}

/* Same millisecond on both sides: the larger counter plus one. */
static void test_observe_same_millisecond(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    h.last = hlcMake(5000, 3);
    assert_int_equal(hlcObserve(&h, hlcMake(5000, 10), 5000), 0);
    assert_int_equal(h.last, hlcMake(5000, 11));
    assert_int_equal(hlcObserve(&h, hlcMake(5000, 2), 4999), 0);
    assert_int_equal(h.last, hlcMake(5000, 12));
    /* Receiving its own latest stamp still moves the clock on. */
    assert_int_equal(hlcObserve(&h, h.last, 5000), 0);
    assert_int_equal(h.last, hlcMake(5000, 13));
}

static void test_observe_logical_overflow(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    hlcNow(&h, 1000);
    assert_int_equal(hlcObserve(&h, hlcMake(2000, 0xffff), 1500), 0);
    assert_int_equal(h.last, hlcMake(2001, 0));
}

static void test_observe_refuses_beyond_max_skew(void **state) {
    hlc h;
    hlcInit(&h, SKEW);
    hlcNow(&h, 100000);
    hlcNow(&h, 100000);
    hlc before = h;
    /* One millisecond past the allowed skew: refused, clock untouched. */
    assert_int_equal(hlcObserve(&h, hlcMake(100000 + SKEW + 1, 0), 100000), -1);
    assert_memory_equal(&h, &before, sizeof(h));
    assert_int_equal(hlcObserve(&h, hlcMake(UINT64_C(0xffffffffffff), 0xffff), 100000), -1);
    assert_memory_equal(&h, &before, sizeof(h));
    assert_int_equal(hlcNow(&h, 100000), hlcMake(100000, 2));
    /* Exactly the allowed skew ahead is accepted, whatever the counter. */
    assert_int_equal(hlcObserve(&h, hlcMake(100000 + SKEW, 0xfff0), 100000), 0);
    assert_int_equal(h.last, hlcMake(100000 + SKEW, 0xfff1));
    /* The skew is measured from the wall clock passed in, not from the
     * clock's own (possibly advanced) state. */
    hlcInit(&h, SKEW);
    h.last = hlcMake(500000, 0);
    assert_int_equal(hlcObserve(&h, hlcMake(400000 + SKEW + 1, 0), 400000), -1);
    assert_int_equal(h.last, hlcMake(500000, 0));
}

static void test_observe_zero_skew(void **state) {
    hlc h;
    hlcInit(&h, 0);
    assert_int_equal(hlcObserve(&h, hlcMake(1001, 0), 1000), -1);
    assert_int_equal(h.last, 0);
    assert_int_equal(hlcObserve(&h, hlcMake(1000, 5), 1000), 0);
    assert_int_equal(h.last, hlcMake(1000, 6));
}

/* Three nodes with skewed wall clocks exchanging messages: every stamp a node
 * issues after receiving a message is greater than the message's stamp
 * (causality), and no stamp runs ahead of the fastest wall clock. */
static void test_causality_across_nodes(void **state) {
    enum { NODES = 3 };
    hlc clocks[NODES];
    int64_t offset[NODES] = {0, -250, 400};
    for (int i = 0; i < NODES; i++) hlcInit(&clocks[i], SKEW);
    uint64_t seed = 99, now = 1000000, maxWall = 0;
    for (int round = 0; round < 50000; round++) {
        seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
        int from = (int)((seed >> 20) % NODES), to = (int)((seed >> 40) % NODES);
        now += (seed >> 60) % 2;
        uint64_t wallFrom = (uint64_t)((int64_t)now + offset[from]);
        uint64_t wallTo = (uint64_t)((int64_t)now + offset[to]);
        if (wallFrom > maxWall) maxWall = wallFrom;
        if (wallTo > maxWall) maxWall = wallTo;
        uint64_t sent = hlcNow(&clocks[from], wallFrom);
        assert_int_equal(hlcObserve(&clocks[to], sent, wallTo), 0);
        uint64_t after = hlcNow(&clocks[to], wallTo);
        assert_true(after > sent);
        assert_true(hlcPhysical(after) <= maxWall);
    }
}

static void test_version_order(void **state) {
    version a = {hlcMake(10, 0), 5}, b = {hlcMake(10, 1), 1}, c = {hlcMake(10, 1), 2};
    assert_int_equal(versionCmp(a, b), -1);
    assert_int_equal(versionCmp(b, a), 1);
    assert_int_equal(versionCmp(b, c), -1);   /* tie on stamp: node id decides */
    assert_int_equal(versionCmp(c, b), 1);
    assert_int_equal(versionCmp(c, c), 0);
    version big = {UINT64_MAX, 0}, bigNode = {0, UINT64_MAX};
    assert_int_equal(versionCmp(bigNode, big), -1);   /* unsigned comparison */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_stamp_layout),
        cmocka_unit_test(test_init),
        cmocka_unit_test(test_now_follows_wall_clock),
        cmocka_unit_test(test_now_ties_bump_counter),
        cmocka_unit_test(test_now_wall_clock_going_backwards),
        cmocka_unit_test(test_now_strictly_monotonic_under_random_wall),
        cmocka_unit_test(test_now_logical_overflow_advances_millisecond),
        cmocka_unit_test(test_now_65536_events_in_one_millisecond),
        cmocka_unit_test(test_observe_remote_behind),
        cmocka_unit_test(test_observe_remote_ahead),
        cmocka_unit_test(test_observe_wall_ahead_of_both),
        cmocka_unit_test(test_observe_same_millisecond),
        cmocka_unit_test(test_observe_logical_overflow),
        cmocka_unit_test(test_observe_refuses_beyond_max_skew),
        cmocka_unit_test(test_observe_zero_skew),
        cmocka_unit_test(test_causality_across_nodes),
        cmocka_unit_test(test_version_order),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
