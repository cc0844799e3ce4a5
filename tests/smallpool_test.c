/* smallpool_test: blocks keep their contents through every kind of move (pool to pool,
 * pool to malloc and back, same class), never overlap, and are reused once freed; checked
 * on a random walk of allocations, reallocations and frees against a byte pattern per block. */
#include "smallpool.h"
#include "test_rng.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#define SLOTS 600
#define LIMIT ((size_t)1 << 30)   /* no limit reached but where a test sets one */

struct slot {
    unsigned char *p;
    size_t size;
    unsigned char fill;
};

static void fill(struct slot *s, size_t from)
{
    for (size_t i = from; i < s->size; i++)
        s->p[i] = (unsigned char)(s->fill + i);
}

static void check(const struct slot *s, size_t upto)
{
    for (size_t i = 0; i < upto; i++)
        cr_assert_eq(s->p[i], (unsigned char)(s->fill + i), "byte %zu of a %zu-byte block changed", i, s->size);
}

/* Sizes around the class edges and the pool's limit, and some well past it. */
static size_t random_size(uint64_t *seed)
{
    switch (test_rng(seed) % 4) {
    case 0: return 1 + test_rng(seed) % 48;
    case 1: return SMALLPOOL_MAX - 20 + test_rng(seed) % 40;
    case 2: return 1 + test_rng(seed) % SMALLPOOL_MAX;
    default: return 1 + test_rng(seed) % 3000;
    }
}

static void random_walk(size_t limit);

Test(smallpool, random_walk_keeps_every_block_intact)
{
    random_walk(LIMIT);
}

/* Past its limit the pool hands out malloc's blocks, and frees each where it came from. */
Test(smallpool, random_walk_under_a_limit_stays_within_it)
{
    random_walk((size_t)64 << 10);   /* one chunk: reached early in the walk */
}

static void random_walk(size_t limit)
{
    struct smallpool *pool = smallpool_new();
    cr_assert_not_null(pool);
    struct slot slots[SLOTS] = { 0 };
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int step = 0; step < 200000; step++) {
        struct slot *s = &slots[test_rng(&seed) % SLOTS];
        if (s->p == NULL) {
            s->size = random_size(&seed);
            s->p = smallpool_realloc(pool, NULL, 0, s->size, limit);
            cr_assert_not_null(s->p);
            s->fill = (unsigned char)test_rng(&seed);
            fill(s, 0);
        } else if (test_rng(&seed) % 3 == 0) {
            check(s, s->size);
            cr_assert_null(smallpool_realloc(pool, s->p, s->size, 0, limit));
            s->p = NULL;
        } else {
            size_t n = random_size(&seed);
            unsigned char *p = smallpool_realloc(pool, s->p, s->size, n, limit);
            cr_assert_not_null(p);
            size_t kept = s->size < n ? s->size : n;
            s->p = p;
            s->size = n;
            check(s, kept);
            fill(s, kept);
        }
    }
    /* Every live block whole, and no two overlapping. */
    for (int i = 0; i < SLOTS; i++)
        if (slots[i].p)
            check(&slots[i], slots[i].size);
    for (int i = 0; i < SLOTS; i++)
        for (int j = i + 1; j < SLOTS; j++)
            if (slots[i].p && slots[j].p)
                cr_assert(slots[i].p + slots[i].size <= slots[j].p || slots[j].p + slots[j].size <= slots[i].p,
                          "blocks %d and %d overlap", i, j);
    cr_assert_leq(smallpool_bytes(pool), limit);
#if !defined(__SANITIZE_ADDRESS__)
    if (limit < LIMIT)
        cr_assert_eq(smallpool_bytes(pool), limit, "the limit was reached: malloc served the rest");
#endif
    for (int i = 0; i < SLOTS; i++)   /* under ASan each block is malloc's own */
        if (slots[i].p)
            smallpool_realloc(pool, slots[i].p, slots[i].size, 0, limit);
    smallpool_destroy(pool);
}

#if !defined(__SANITIZE_ADDRESS__)
Test(smallpool, a_freed_block_is_handed_out_again_and_same_class_stays_in_place)
{
    struct smallpool *pool = smallpool_new();
    void *a = smallpool_realloc(pool, NULL, 0, 40, LIMIT);
    cr_assert_eq(smallpool_realloc(pool, a, 40, 48, LIMIT), a, "40 and 48 bytes share a class: no move");
    cr_assert_null(smallpool_realloc(pool, a, 48, 0, LIMIT));
    cr_assert_eq(smallpool_realloc(pool, NULL, 0, 33, LIMIT), a, "the freed block of the class comes back first");
    smallpool_realloc(pool, a, 33, 0, LIMIT);
    smallpool_destroy(pool);
}
#endif

Test(smallpool, no_pool_falls_back_to_malloc)
{
    char *p = smallpool_realloc(NULL, NULL, 0, 10, LIMIT);
    cr_assert_not_null(p);
    memcpy(p, "abcdefghi", 10);
    p = smallpool_realloc(NULL, p, 10, 5000, LIMIT);
    cr_assert_str_eq(p, "abcdefghi");
    cr_assert_null(smallpool_realloc(NULL, p, 5000, 0, LIMIT));
    smallpool_destroy(NULL);
}
