/* index_test: the string map and the 64-bit set against simple references (sorted arrays,
 * direct tables), across many growths, and mix64 as a bijection. Every lookup result is
 * compared with what the reference says, present and absent alike. */
#include <criterion/criterion.h>

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

/* ---- strmap ---------------------------------------------------------------------------- */

Test(strmap, zeroed_map_is_empty)
{
    struct strmap m = { 0 };
    cr_assert_eq(strmap_get(&m, "anything"), -1);
    cr_assert_eq(strmap_get(&m, ""), -1);
    strmap_free(&m);   /* freeing an empty map is harmless */
    cr_assert_eq(m.cap, 0);
}

Test(strmap, put_get_replace_across_growth_against_reference)
{
    enum { N = 100000 };
    struct strmap m = { 0 };
    int *ref = malloc(N * sizeof *ref);   /* the reference: key "k<i>" -> ref[i] */
    cr_assert_not_null(ref);
    char key[32];
    size_t last_cap = 0;
    int growths = 0;
    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%d", i);
        ref[i] = i * 7 + 3;
        cr_assert_eq(strmap_put(&m, key, ref[i]), 0);
        if (m.cap != last_cap) {
            growths++;
            last_cap = m.cap;
        }
        if (m.cap != 0 && (m.cap & (m.cap - 1)) != 0)
            cr_assert_fail("cap %zu is not a power of two", m.cap);
    }
    cr_assert_geq(growths, 10, "10^5 keys from empty must grow the table many times");
    cr_assert_eq(m.len, (size_t)N);
    cr_assert_leq(m.len * 2, m.cap, "load must stay at or under 50%%");

    /* Replace every third value: no new keys, new values visible. */
    for (int i = 0; i < N; i += 3) {
        snprintf(key, sizeof key, "k%d", i);
        ref[i] = i + 1000000;
        cr_assert_eq(strmap_put(&m, key, ref[i]), 0);
    }
    cr_assert_eq(m.len, (size_t)N, "a replace must not add a key");

    for (int i = 0; i < N; i++) {
        snprintf(key, sizeof key, "k%d", i);
        int got = strmap_get(&m, key);
        if (got != ref[i])
            cr_assert_fail("get(%s) = %d, reference says %d", key, got, ref[i]);
    }
    /* Absent keys: near misses of present ones. */
    const char *absent[] = { "k", "k-1", "k100000", "K1", "k01", "k1 ", " k1", "" };
    for (size_t i = 0; i < sizeof absent / sizeof *absent; i++)
        cr_assert_eq(strmap_get(&m, absent[i]), -1, "\"%s\" is absent", absent[i]);
    for (int i = N; i < N + 1000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cr_assert_eq(strmap_get(&m, key), -1);
    }
    strmap_free(&m);
    cr_assert_eq(m.len, 0);
    cr_assert_eq(strmap_get(&m, "k1"), -1);
    free(ref);
}

Test(strmap, keys_are_copied)
{
    struct strmap m = { 0 };
    char buf[16] = "alice";
    cr_assert_eq(strmap_put(&m, buf, 1), 0);
    strcpy(buf, "bobby");
    cr_assert_eq(strmap_get(&m, "alice"), 1, "the map must own a copy of the key");
    cr_assert_eq(strmap_get(&m, "bobby"), -1);
    strmap_free(&m);
}

Test(strmap, prefixes_empty_key_and_value_zero)
{
    struct strmap m = { 0 };
    cr_assert_eq(strmap_put(&m, "", 0), 0);
    cr_assert_eq(strmap_put(&m, "a", 1), 0);
    cr_assert_eq(strmap_put(&m, "ab", 2), 0);
    cr_assert_eq(strmap_put(&m, "abc", 3), 0);
    cr_assert_eq(strmap_get(&m, ""), 0, "value 0 is a value, not absence");
    cr_assert_eq(strmap_get(&m, "a"), 1);
    cr_assert_eq(strmap_get(&m, "ab"), 2);
    cr_assert_eq(strmap_get(&m, "abc"), 3);
    cr_assert_eq(strmap_get(&m, "abcd"), -1);
    cr_assert_eq(m.len, 4);
    cr_assert_eq(strmap_put(&m, "ab", 20), 0);
    cr_assert_eq(strmap_get(&m, "ab"), 20);
    cr_assert_eq(m.len, 4);
    strmap_free(&m);
}

/* ---- u64set ---------------------------------------------------------------------------- */

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static bool ref_has(const uint64_t *sorted, size_t n, uint64_t k)
{
    return bsearch(&k, sorted, n, sizeof *sorted, cmp_u64) != NULL;
}

Test(u64set, zero_key_is_a_member_like_any_other)
{
    struct u64set s = { 0 };
    cr_assert_not(u64set_has(&s, 0), "an empty set has no 0");
    cr_assert_not(u64set_has(&s, 1));
    cr_assert_eq(u64set_add(&s, 0), 0);
    cr_assert(u64set_has(&s, 0));
    cr_assert_not(u64set_has(&s, 1), "adding 0 must not make other keys present");
    cr_assert_not(u64set_has(&s, UINT64_MAX));
    /* 0 survives growth of the slot table. */
    for (uint64_t k = 1; k <= 1000; k++)
        cr_assert_eq(u64set_add(&s, k * 0x100000001ULL), 0);
    cr_assert(u64set_has(&s, 0));
    cr_assert_eq(u64set_add(&s, 0), 0);
    cr_assert(u64set_has(&s, 0));
    u64set_free(&s);
    cr_assert_not(u64set_has(&s, 0), "free empties the set, 0 included");

    struct u64set t = { 0 };
    cr_assert_eq(u64set_add(&t, 5), 0);
    cr_assert_not(u64set_has(&t, 0), "0 is absent until added");
    u64set_free(&t);
}

Test(u64set, colliding_keys_all_found)
{
    /* Keys whose home slot is the same in a table of 64 and of 1024 slots: a long probe run
     * at the start, and still clustered after growth. */
    enum { WANT = 200 };
    uint64_t keys[WANT];
    int n = 0;
    uint64_t target = mix64(12345) & 1023;
    uint64_t others[WANT];   /* same home slot, never added */
    int no = 0;
    for (uint64_t k = 1; n < WANT || no < WANT; k++) {
        if ((mix64(k) & 1023) != target)
            continue;
        if (n <= no && n < WANT)
            keys[n++] = k;
        else if (no < WANT)
            others[no++] = k;
    }
    struct u64set s = { 0 };
    for (int i = 0; i < n; i++) {
        cr_assert_eq(u64set_add(&s, keys[i]), 0);
        /* Everything added so far is present after each add (and the growths it caused). */
        for (int j = 0; j <= i; j++)
            if (!u64set_has(&s, keys[j]))
                cr_assert_fail("key %llu lost after adding %d keys", (unsigned long long)keys[j], i + 1);
    }
    cr_assert_eq(s.len, (size_t)n);
    for (int i = 0; i < no; i++)
        cr_assert_not(u64set_has(&s, others[i]), "a colliding key that was never added is absent");
    /* Adding again changes nothing. */
    for (int i = 0; i < n; i++)
        cr_assert_eq(u64set_add(&s, keys[i]), 0);
    cr_assert_eq(s.len, (size_t)n);
    u64set_free(&s);
}

Test(u64set, many_keys_against_sorted_reference)
{
    enum { N = 100000 };
    uint64_t *ref = malloc(N * sizeof *ref);
    cr_assert_not_null(ref);
    struct u64set s = { 0 };
    /* Pseudo-random keys, with duplicates, that share low bits often (pair_key-like). */
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < N; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;   /* xorshift64: independent of mix64 */
        ref[i] = (i % 5 == 0) ? (uint64_t)(i / 5) << 24 : x % 50000 + ((x & 1) << 48);
        cr_assert_eq(u64set_add(&s, ref[i]), 0);
    }
    qsort(ref, N, sizeof *ref, cmp_u64);
    size_t uniq = 0;
    for (size_t i = 0; i < N; i++)
        if (i == 0 || ref[i] != ref[i - 1])
            ref[uniq++] = ref[i];
    bool zero = uniq && ref[0] == 0;
    cr_assert(zero, "the sample includes key 0 (i = 0)");
    cr_assert_eq(s.len + (zero ? 1 : 0), uniq, "len counts each distinct non-zero key once");
    for (size_t i = 0; i < uniq; i++)
        if (!u64set_has(&s, ref[i]))
            cr_assert_fail("added key %llu missing", (unsigned long long)ref[i]);
    /* Probe a range of keys, present or not, and compare with the reference. */
    for (uint64_t k = 0; k < 60000; k++) {
        for (uint64_t hi = 0; hi < 2; hi++) {
            uint64_t key = k + (hi << 48);
            if (u64set_has(&s, key) != ref_has(ref, uniq, key))
                cr_assert_fail("has(%llu) disagrees with the reference", (unsigned long long)key);
        }
    }
    u64set_free(&s);
    free(ref);
}

/* ---- mix64 ----------------------------------------------------------------------------- */

Test(mix64, known_answers_of_splitmix64)
{
    /* splitmix64 (Vigna) seeded with 0: its outputs are mix64 of 0, 1*golden, 2*golden.
     * Published first outputs: e220a8397b1dcdaf, 6e789e6aa1b965f4, 06c45d188009454f. */
    const uint64_t golden = 0x9e3779b97f4a7c15ULL;
    cr_assert_eq(mix64(0), 0xe220a8397b1dcdafULL);
    cr_assert_eq(mix64(golden), 0x6e789e6aa1b965f4ULL);
    cr_assert_eq(mix64(2 * golden), 0x06c45d188009454fULL);
}

static void assert_no_collisions(uint64_t start, size_t n)
{
    uint64_t *out = malloc(n * sizeof *out);
    cr_assert_not_null(out);
    for (size_t i = 0; i < n; i++)
        out[i] = mix64(start + i);   /* wraps past 2^64 - 1 on purpose */
    qsort(out, n, sizeof *out, cmp_u64);
    for (size_t i = 1; i < n; i++)
        if (out[i] == out[i - 1])
            cr_assert_fail("mix64 collision from start %llu: %llx", (unsigned long long)start,
                     (unsigned long long)out[i]);
    free(out);
}

Test(mix64, no_collisions_on_consecutive_inputs)
{
    assert_no_collisions(0, 1000000);
    assert_no_collisions(UINT64_MAX - 500000, 1000000);   /* across the wrap */
}

Test(mix64, mixes_low_bits)
{
    /* Consecutive inputs must not land in consecutive slots: in a table of 1024 slots,
     * 1024 consecutive keys should fill well over half of them (a random function: ~63%). */
    bool used[1024] = { false };
    int filled = 0;
    for (uint64_t k = 1; k <= 1024; k++) {
        size_t slot = mix64(k) & 1023;
        filled += !used[slot];
        used[slot] = true;
    }
    cr_assert_gt(filled, 560);
    cr_assert_lt(filled, 1024, "a perfect spread would be suspicious of identity");
    cr_assert_neq(mix64(1), 1);
}
