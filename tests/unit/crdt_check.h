/* crdt_check.h - the seeded-run scaffolding shared by the CRDT property tests:
 * a splitmix64 generator, per-case seeds derived from one run seed, and a
 * failure report that prints the seed and the command that replays the case.
 *
 * A test file defines CHECK_TEST_NAME (its binary's name) and
 * CHECK_DEFAULT_CASES before including this header (after cmocka.h), and
 * registers setupRun as its group setup.  Environment: CRDT_SEED=<n> replays a
 * run, CRDT_CASE=<i> runs only case i, CRDT_CASES=<n> sets the case count. */
#ifndef LATTICE_TEST_CRDT_CHECK_H
#define LATTICE_TEST_CRDT_CHECK_H

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rngNext(rng *g) {   /* splitmix64 */
    uint64_t z = (g->s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}
static uint64_t rngBelow(rng *g, uint64_t n) { return rngNext(g) % n; }
static int rngChance(rng *g, unsigned percent) { return rngBelow(g, 100) < percent; }

static uint64_t runSeed;
static int onlyCase = -1;                        /* CRDT_CASE */
static int numHistories = CHECK_DEFAULT_CASES;   /* CRDT_CASES */
static const char *curTest = "";
static int curCase = -1;
static void (*dumpOnFailure)(void);

static int setupRun(void **state) {
    (void)state;
    const char *s = getenv("CRDT_SEED");
    runSeed = s && *s ? strtoull(s, NULL, 10) : (uint64_t)time(NULL) ^ ((uint64_t)clock() << 32);
    if ((s = getenv("CRDT_CASE")) && *s) onlyCase = atoi(s);
    if ((s = getenv("CRDT_CASES")) && *s) numHistories = atoi(s);
    printf(CHECK_TEST_NAME ": CRDT_SEED=%" PRIu64 " (%d histories)\n", runSeed, numHistories);
    return 0;
}

/* The generator of case i of a test: depends only on the run seed, the test's
 * name and i, so one case replays alone. */
static rng caseRng(const char *test, int i) {
    rng g = {runSeed};
    for (const char *p = test; *p; p++) g.s = g.s * 31 + (unsigned char)*p;
    g.s ^= (uint64_t)i * 0xd1342543de82ef95ULL;
    rngNext(&g);
    return g;
}

static int runCase(int i) { return onlyCase < 0 || onlyCase == i; }

static void caseFailed(const char *file, int line, const char *what, const char *fmt, ...) {
    fprintf(stderr, "\n%s:%d: %s: check failed: %s\n", file, line, curTest, what);
    if (fmt && *fmt) {
        va_list ap;
        va_start(ap, fmt);
        fputs("  ", stderr);
        vfprintf(stderr, fmt, ap);
        fputs("\n", stderr);
        va_end(ap);
    }
    if (curCase >= 0) {
        if (dumpOnFailure) dumpOnFailure();
        fprintf(stderr, "  case %d of seed %" PRIu64 "; reproduce with\n"
                        "  CRDT_SEED=%" PRIu64 " CRDT_CASE=%d tests/build/unit/" CHECK_TEST_NAME "\n",
                curCase, runSeed, runSeed, curCase);
    } else {
        fprintf(stderr, "  seed %" PRIu64 "\n", runSeed);
    }
    fail();
}

#define CHECK(cond, ...)                                                    \
    do {                                                                    \
        if (!(cond)) caseFailed(__FILE__, __LINE__, #cond, "" __VA_ARGS__); \
    } while (0)

#endif
