/* reg_invariants.h - what every crdt_reg register must keep, for the tests
 * that check registers (test_crdt_reg.c, tests/fuzz/fuzz_crdt.c): the
 * invariants listed at the top of crdt_reg.c, and the numeric views agreeing
 * with the text view (regIntValue/regFloatValue are string2ll/string2ld of
 * what GET shows).  The includer defines CHECK(cond, ...) first; what follows
 * cond is a printf format and its arguments, which it may ignore. */
#ifndef LATTICE_TEST_REG_INVARIANTS_H
#define LATTICE_TEST_REG_INVARIANTS_H

#include <inttypes.h>
#include <math.h>
#include <stdint.h>

#include "crdt_reg.h"
#include "util.h"

static void regCheckTotals(const regTotal *a, uint32_t n) {
    for (uint32_t i = 0; i < n; i++) {
        CHECK(a[i].seq >= 1);
        CHECK(!isnan(a[i].fsum));
        if (i) CHECK(a[i - 1].node < a[i].node, "totals not sorted at %u", i);
    }
}

static void regCheckInvariants(const reg *r) {
    regCheckTotals(r->tot, r->ntot);
    regCheckTotals(r->obs, r->nobs);
    int floats = 0;
    for (uint32_t i = 0; i < r->ntot; i++) floats |= r->tot[i].fsum != 0;
    for (uint32_t i = 0; i < r->nobs; i++) {
        floats |= r->obs[i].fsum != 0;
        const regTotal *t = NULL;
        for (uint32_t j = 0; j < r->ntot; j++)
            if (r->tot[j].node == r->obs[i].node) t = &r->tot[j];
        CHECK(t != NULL, "observed node %" PRIu64 " has no total", r->obs[i].node);
        CHECK(t->seq >= r->obs[i].seq, "observed more than known");
    }
    CHECK(r->hasFloat == floats, "hasFloat %d but totals say %d", r->hasFloat, floats);
    if (r->ver.stamp == 0 && r->ver.node == 0) CHECK(!r->present && r->nobs == 0);
    if (r->present)
        CHECK(r->val != NULL && r->val[r->len] == '\0');
    else
        CHECK(r->val == NULL && r->len == 0);

    char buf[5200];   /* what regValue needs */
    size_t len;
    const char *v = regValue(r, buf, &len);
    long long iv = 424242, want;
    long double fv = 4242, fwant;
    if (!regExists(r)) {
        CHECK(len == 0 && regIsPlain(r));
        CHECK(regIntValue(r, &iv) && iv == 0, "a missing value is 0 for INCR");
        CHECK(regFloatValue(r, &fv) && fv == 0);
    } else {
        if (regIsPlain(r)) CHECK(r->present && v == r->val && len == r->len);
        int isInt = string2ll(v, len, &want);
        CHECK(regIntValue(r, &iv) == isInt, "regIntValue disagrees with \"%.*s\"", (int)len, v);
        if (isInt) CHECK(iv == want, "\"%.*s\": regIntValue %lld", (int)len, v, iv);
        int isNum = string2ld(v, len, &fwant);
        CHECK(regFloatValue(r, &fv) == isNum, "regFloatValue disagrees with \"%.*s\"", (int)len, v);
        if (isNum) CHECK(fv == fwant || (isnan(fv) && isnan(fwant)), "\"%.*s\": regFloatValue %.21Lg", (int)len, v, fv);
    }
}

#endif
