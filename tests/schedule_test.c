/* schedule_test: the due heap pops in (when, kind, key) order, ties included,
 * checked against qsort and a naive reference on thousands of random items.
 * Deterministic: a fixed-seed generator, no wall clock. */
#include "schedule.h"

#include <criterion/criterion.h>
#include <stdlib.h>

static unsigned long long rng_next(unsigned long long *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

/* Small ranges so that equal whens, kinds and keys (and whole duplicates) are common. */
static struct due random_due(unsigned long long *seed)
{
    return (struct due){
        .when = (tdm_time)(rng_next(seed) % 40) - 5,   /* negatives too */
        .kind = (int)(rng_next(seed) % 4) - 1,
        .key = (long long)(rng_next(seed) % 6) - 2,
    };
}

static int cmp_due(const void *pa, const void *pb)
{
    const struct due *a = pa, *b = pb;
    if (a->when != b->when)
        return a->when < b->when ? -1 : 1;
    if (a->kind != b->kind)
        return a->kind < b->kind ? -1 : 1;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return 0;
}

static bool same(struct due a, struct due b)
{
    return a.when == b.when && a.kind == b.kind && a.key == b.key;
}

/* Pops s and checks it against the least of ref[0..*len) (a naive queue), removing it. */
static void pop_checked(struct schedule *s, struct due *ref, size_t *len, int step)
{
    size_t min = 0;
    for (size_t i = 1; i < *len; i++)
        if (cmp_due(&ref[i], &ref[min]) < 0)
            min = i;
    struct due want = ref[min], got;
    ref[min] = ref[--*len];
    cr_assert(schedule_pop(s, &got));
    cr_assert(same(got, want), "step %d: {%lld,%d,%lld}, want {%lld,%d,%lld}", step,
              got.when, got.kind, got.key, want.when, want.kind, want.key);
}

Test(schedule, empty)
{
    struct schedule *s = schedule_new();
    cr_assert_not_null(s);
    struct due d = { 7, 7, 7 };
    cr_expect_eq(schedule_size(s), 0);
    cr_expect_not(schedule_peek(s, &d));
    cr_expect_not(schedule_pop(s, &d));
    cr_expect(same(d, (struct due){ 7, 7, 7 }), "an empty schedule wrote *out");
    schedule_free(s);
    schedule_free(NULL);
}

Test(schedule, orders_by_when_then_kind_then_key)
{
    struct schedule *s = schedule_new();
    cr_assert_not_null(s);
    struct due in[] = {
        { 20, 0, 0 }, { 10, 2, 1 }, { 10, 1, 9 }, { 10, 1, 3 }, { 5, 9, 9 }, { 10, 1, -3 }, { -1, 0, 0 },
    };
    struct due want[] = {
        { -1, 0, 0 }, { 5, 9, 9 }, { 10, 1, -3 }, { 10, 1, 3 }, { 10, 1, 9 }, { 10, 2, 1 }, { 20, 0, 0 },
    };
    for (size_t i = 0; i < 7; i++)
        cr_assert_eq(schedule_push(s, in[i]), 0);
    cr_expect_eq(schedule_size(s), 7);
    for (size_t i = 0; i < 7; i++) {
        struct due p, d;
        cr_assert(schedule_peek(s, &p));
        cr_assert(schedule_pop(s, &d));
        cr_expect(same(p, d), "peek and pop disagree at %zu", i);
        cr_expect(same(d, want[i]), "item %zu: {%lld,%d,%lld}, want {%lld,%d,%lld}", i, d.when,
                  d.kind, d.key, want[i].when, want[i].kind, want[i].key);
        cr_expect_eq(schedule_size(s), 6 - i);
    }
    cr_expect_not(schedule_pop(s, NULL));
    schedule_free(s);
}

Test(schedule, thousands_of_random_items_match_sorting)
{
    unsigned long long seed = 0x2545F4914F6CDD1DULL;
    for (int round = 0; round < 20; round++) {
        size_t n = 1000 + (size_t)(rng_next(&seed) % 4000);
        struct due *items = malloc(n * sizeof *items);
        cr_assert_not_null(items);
        struct schedule *s = schedule_new();
        cr_assert_not_null(s);
        for (size_t i = 0; i < n; i++) {
            items[i] = random_due(&seed);
            cr_assert_eq(schedule_push(s, items[i]), 0);
        }
        cr_assert_eq(schedule_size(s), n);
        qsort(items, n, sizeof *items, cmp_due);
        for (size_t i = 0; i < n; i++) {
            struct due d;
            cr_assert(schedule_pop(s, &d), "ran dry at %zu of %zu", i, n);
            cr_assert(same(d, items[i]), "round %d item %zu: {%lld,%d,%lld}, want {%lld,%d,%lld}",
                      round, i, d.when, d.kind, d.key, items[i].when, items[i].kind, items[i].key);
        }
        cr_assert_eq(schedule_size(s), 0);
        schedule_free(s);
        free(items);
    }
}

static bool keep_not_third(const struct due *d, void *ctx);

/* Pushes, pops and (with filters) schedule_filter calls at random against a plain array whose
 * minimum is found by scanning: every pop must give the array's least item. */
static void against_a_naive_queue(unsigned long long seed, int steps, bool filters)
{
    struct schedule *s = schedule_new();
    cr_assert_not_null(s);
    size_t cap = (size_t)steps, len = 0;
    struct due *ref = malloc(cap * sizeof *ref);
    cr_assert_not_null(ref);
    for (int step = 0; step < steps; step++) {
        unsigned long long r = rng_next(&seed) % 50;
        if (filters && r == 0) {
            int asked = 0;
            size_t kept = 0;
            for (size_t i = 0; i < len; i++) {
                int dummy = 0;
                if (keep_not_third(&ref[i], &dummy))
                    ref[kept++] = ref[i];
            }
            size_t dropped = schedule_filter(s, keep_not_third, &asked);
            cr_assert_eq(asked, (int)len, "each item is asked about once");
            cr_assert_eq(dropped, len - kept);
            len = kept;
        } else if (len == 0 || r < 30) {
            struct due d = random_due(&seed);
            cr_assert_eq(schedule_push(s, d), 0);
            ref[len++] = d;
        } else {
            pop_checked(s, ref, &len, step);
        }
        cr_assert_eq(schedule_size(s), len);
    }
    free(ref);
    schedule_free(s);
}

/* Pushes and pops interleaved, as the engine does (pop one, push its successors). */
Test(schedule, interleaved_against_a_naive_queue)
{
    against_a_naive_queue(99, 20000, false);
}

/* FIFO among equal (when, kind, key): equal items are indistinguishable through
 * struct due, so what can be checked is that equal runs come out whole and the
 * order does not depend on how the heap happened to be shaped. */
Test(schedule, duplicates_and_determinism)
{
    struct schedule *a = schedule_new(), *b = schedule_new();
    cr_assert(a && b);
    unsigned long long seed = 5;
    struct due items[3000];
    for (size_t i = 0; i < 3000; i++)
        items[i] = random_due(&seed);
    for (size_t i = 0; i < 3000; i++)
        cr_assert_eq(schedule_push(a, items[i]), 0);
    for (size_t i = 3000; i-- > 0;)     /* the same items, pushed in reverse */
        cr_assert_eq(schedule_push(b, items[i]), 0);
    struct due x, y;
    size_t n = 0;
    while (schedule_pop(b, &y)) {
        cr_assert(schedule_pop(a, &x));
        cr_assert(same(x, y), "item %zu differs with push order", n);
        n++;
    }
    cr_expect_eq(n, 3000);
    cr_expect_eq(schedule_size(a), 0);
    schedule_free(a);
    schedule_free(b);
}

Test(schedule, clear_keeps_it_usable)
{
    struct schedule *s = schedule_new();
    cr_assert_not_null(s);
    for (int i = 0; i < 500; i++)
        cr_assert_eq(schedule_push(s, (struct due){ 500 - i, 0, i }), 0);
    cr_expect_eq(schedule_size(s), 500);
    schedule_clear(s);
    cr_expect_eq(schedule_size(s), 0);
    cr_expect_not(schedule_peek(s, &(struct due){ 0 }));
    cr_assert_eq(schedule_push(s, (struct due){ 3, 0, 0 }), 0);
    cr_assert_eq(schedule_push(s, (struct due){ 2, 0, 0 }), 0);
    struct due d;
    cr_assert(schedule_pop(s, &d));
    cr_expect_eq(d.when, 2, "a cleared schedule still orders");
    cr_expect_eq(schedule_size(s), 1);
    schedule_free(s);
}

static bool keep_not_third(const struct due *d, void *ctx)
{
    int *asked = ctx;
    (*asked)++;
    return ((d->when + 5) * 7 + d->key + 2) % 3 != 0;
}

/* schedule_filter between pushes and pops: what is left pops in the order a naive queue
 * with the same items removed gives, each item is asked about once, and a dropped one never
 * comes back. */
Test(schedule, filter_keeps_the_order_of_what_it_keeps)
{
    against_a_naive_queue(1234, 12000, true);
    struct schedule *s = schedule_new();
    unsigned long long seed = 7;
    for (int i = 0; i < 3000; i++)
        cr_assert_eq(schedule_push(s, random_due(&seed)), 0);
    int asked = 0;
    schedule_filter(s, keep_not_third, &asked);
    struct due d;
    while (schedule_pop(s, &d))
        cr_assert(keep_not_third(&d, &asked), "a dropped item came back");
    schedule_free(s);
}
