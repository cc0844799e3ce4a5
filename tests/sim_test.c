/* sim_test: the seeded behaviour model. Draws must be pure functions of (seed, subject,
 * occasion) — the same in any call order — differ between seeds, and their rates must
 * track the configured parameters over many draws. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdlib.h>

#include "sim.h"

static struct sim make(unsigned long long seed, double attendance, double rating, double renew,
                       double goal_progress, double spread)
{
    struct sim s = { .seed = seed };
    s.p.attendance = attendance;
    s.p.rating = rating;
    s.p.renew = renew;
    s.p.goal_progress = goal_progress;
    s.p.spread = spread;
    return s;
}

/* One fingerprint of every kind of draw for a subject/occasion. */
static unsigned draw_all(const struct sim *s, long long match, int n)
{
    unsigned v = 0;
    v = v * 2 + sim_meeting_held(s, match, n);
    v = v * 8 + (unsigned)sim_rating(s, match, n % 7, n);
    v = v * 2 + sim_goal_moves(s, match, n);
    v = v * 2 + sim_goal_achieved(s, match, n);
    v = v * 2 + sim_renews(s, match, n % 5, n % 3 + 1);
    return v;
}

Test(sim, same_seed_same_draws_in_any_order)
{
    enum { M = 200, N = 50 };
    struct sim a = make(42, 0.7, 3.5, 0.6, 0.5, 0.5);
    static unsigned fwd[M][N];
    static double chem[M];
    for (int m = 0; m < M; m++) {
        chem[m] = sim_chemistry(&a, m + 1);
        for (int n = 0; n < N; n++)
            fwd[m][n] = draw_all(&a, m + 1, n);
    }
    /* A second model with the same seed, asked backwards and interleaved with unrelated
     * draws, gives the same answers: no hidden stream state. */
    struct sim b = make(42, 0.7, 3.5, 0.6, 0.5, 0.5);
    for (int m = M - 1; m >= 0; m--) {
        for (int n = N - 1; n >= 0; n--) {
            (void)sim_rating(&b, 999999, 3, n);
            cr_assert_eq(draw_all(&b, m + 1, n), fwd[m][n], "match %d occasion %d", m + 1, n);
        }
        cr_assert_eq(sim_chemistry(&b, m + 1), chem[m]);
    }
    /* And asking the same thing twice gives the same thing. */
    for (int m = 0; m < M; m += 17)
        cr_assert_eq(draw_all(&a, m + 1, 3), draw_all(&a, m + 1, 3));
}

Test(sim, different_seeds_differ)
{
    struct sim a = make(1, 0.5, 3.0, 0.5, 0.5, 0.0);
    struct sim b = make(2, 0.5, 3.0, 0.5, 0.5, 0.0);
    int meet_diff = 0, renew_diff = 0, chem_diff = 0, n = 0;
    for (long long m = 1; m <= 100; m++) {
        chem_diff += sim_chemistry(&a, m) != sim_chemistry(&b, m);
        for (int k = 1; k <= 20; k++, n++) {
            meet_diff += sim_meeting_held(&a, m, k) != sim_meeting_held(&b, m, k);
            renew_diff += sim_renews(&a, m, k, 1) != sim_renews(&b, m, k, 1);
        }
    }
    /* Independent fair coins disagree half the time. */
    cr_assert_gt(meet_diff, n * 4 / 10, "meetings: %d of %d differ", meet_diff, n);
    cr_assert_lt(meet_diff, n * 6 / 10);
    cr_assert_gt(renew_diff, n * 4 / 10);
    cr_assert_eq(chem_diff, 100);
    /* Seed 0 is a seed like any other. */
    struct sim z = make(0, 0.5, 3.0, 0.5, 0.5, 0.0);
    int zd = 0;
    for (long long m = 1; m <= 200; m++)
        zd += sim_meeting_held(&z, m, 1) != sim_meeting_held(&a, m, 1);
    cr_assert_gt(zd, 60);
}

Test(sim, occasions_and_subjects_are_independent)
{
    /* Meeting n of match m must not be the same draw as meeting m of match n, nor as the
     * renew draw of the same numbers. */
    struct sim s = make(7, 0.5, 3.0, 0.5, 0.5, 0.0);
    int swap_same = 0, kind_same = 0, n = 0;
    for (int m = 1; m <= 300; m++)
        for (int k = 1; k <= 30; k++, n++) {
            swap_same += sim_meeting_held(&s, m, k) == sim_meeting_held(&s, k, m);
            kind_same += sim_meeting_held(&s, m, k) == sim_renews(&s, m, k, 0);
        }
    cr_assert_lt(swap_same, n * 6 / 10, "symmetric draws: %d of %d", swap_same, n);
    cr_assert_lt(kind_same, n * 6 / 10, "correlated kinds: %d of %d", kind_same, n);
}

static double held_rate(const struct sim *s, int matches, int per_match)
{
    long long held = 0;
    for (int m = 1; m <= matches; m++)
        for (int k = 1; k <= per_match; k++)
            held += sim_meeting_held(s, m, k);
    return (double)held / ((double)matches * per_match);
}

Test(sim, attendance_rate_with_no_spread)
{
    const double att[] = { 0.1, 0.3, 0.5, 0.8, 0.85, 0.95 };
    for (size_t i = 0; i < sizeof att / sizeof *att; i++) {
        struct sim s = make(2027 + i, att[i], 4.0, 0.6, 0.5, 0.0);
        double r = held_rate(&s, 1000, 100);   /* 10^5 draws */
        cr_assert_lt(fabs(r - att[i]), 0.02, "attendance %.2f gave %.4f", att[i], r);
    }
}

Test(sim, attendance_rate_on_average_with_spread)
{
    /* Spread moves matches apart, but the average stays near the configured attendance
     * (within the clamp's small pull near 1). */
    struct sim s = make(5, 0.6, 4.0, 0.6, 0.5, 0.5);
    double r = held_rate(&s, 2000, 50);
    cr_assert_lt(fabs(r - 0.6), 0.03, "got %.4f", r);
}

Test(sim, chemistry_spreads_matches_apart)
{
    /* With spread 1, matches of high chemistry attend much more than those of low. */
    struct sim s = make(11, 0.5, 3.0, 0.5, 0.5, 1.0);
    long long hi_held = 0, hi_n = 0, lo_held = 0, lo_n = 0;
    for (long long m = 1; m <= 2000; m++) {
        double c = sim_chemistry(&s, m);
        cr_assert(c >= 0.0 && c < 1.0, "chemistry %f outside [0,1)", c);
        for (int k = 1; k <= 20; k++) {
            bool h = sim_meeting_held(&s, m, k);
            if (c > 0.75)
                hi_held += h, hi_n++;
            else if (c < 0.25)
                lo_held += h, lo_n++;
        }
    }
    cr_assert_gt(hi_n, 0);
    cr_assert_gt(lo_n, 0);
    double hi = (double)hi_held / hi_n, lo = (double)lo_held / lo_n;
    cr_assert_gt(hi - lo, 0.4, "high chemistry %.3f, low %.3f", hi, lo);

    /* With spread 0 chemistry changes nothing. */
    struct sim z = make(11, 0.5, 3.0, 0.5, 0.5, 0.0);
    hi_held = hi_n = lo_held = lo_n = 0;
    for (long long m = 1; m <= 2000; m++) {
        double c = sim_chemistry(&z, m);
        for (int k = 1; k <= 20; k++) {
            bool h = sim_meeting_held(&z, m, k);
            if (c > 0.5)
                hi_held += h, hi_n++;
            else
                lo_held += h, lo_n++;
        }
    }
    cr_assert_lt(fabs((double)hi_held / hi_n - (double)lo_held / lo_n), 0.03);
}

Test(sim, chemistry_is_uniformish)
{
    struct sim s = make(3, 0.5, 3.0, 0.5, 0.5, 0.5);
    double sum = 0;
    int buckets[10] = { 0 };
    for (long long m = 1; m <= 100000; m++) {
        double c = sim_chemistry(&s, m);
        cr_assert(c >= 0.0 && c < 1.0);
        sum += c;
        buckets[(int)(c * 10)]++;
    }
    cr_assert_lt(fabs(sum / 100000 - 0.5), 0.01);
    for (int b = 0; b < 10; b++)
        cr_assert(buckets[b] > 9000 && buckets[b] < 11000, "bucket %d has %d", b, buckets[b]);
}

Test(sim, ratings_always_within_1_to_5)
{
    const double mean[] = { 1.0, 1.5, 2.5, 4.0, 4.9, 5.0 };
    const double spread[] = { 0.0, 0.5, 1.0 };
    for (size_t i = 0; i < 6; i++)
        for (size_t j = 0; j < 3; j++) {
            struct sim s = make(100 + i * 3 + j, 0.8, mean[i], 0.5, 0.5, spread[j]);
            int seen[6] = { 0 };
            for (long long m = 1; m <= 500; m++)
                for (int who = 0; who < 4; who++)
                    for (int n = 1; n <= 10; n++) {
                        int r = sim_rating(&s, m, who, n);
                        if (r < 1 || r > 5)
                            cr_assert_fail("rating %d for mean %.1f spread %.1f", r, mean[i], spread[j]);
                        seen[r]++;
                    }
            if (mean[i] == 1.0 && spread[j] == 0.0)
                cr_assert_eq(seen[3] + seen[4] + seen[5], 0, "mean 1 with no spread never rates 3+");
            if (mean[i] == 5.0 && spread[j] == 0.0)
                cr_assert_eq(seen[1] + seen[2] + seen[3], 0);
        }
}

Test(sim, rating_mean_tracks_configured_rating)
{
    const double mean[] = { 2.0, 3.0, 3.5, 4.0 };
    for (size_t i = 0; i < 4; i++) {
        struct sim s = make(9, 0.8, mean[i], 0.5, 0.5, 0.0);
        double sum = 0;
        int n = 0;
        for (long long m = 1; m <= 5000; m++)
            for (int k = 1; k <= 20; k++, n++)
                sum += sim_rating(&s, m, k % 2, k);
        cr_assert_lt(fabs(sum / n - mean[i]), 0.05, "mean %.2f gave %.3f", mean[i], sum / n);
    }
}

Test(sim, renew_rate_tracks_renew)
{
    const double renew[] = { 0.1, 0.4, 0.6, 0.9 };
    for (size_t i = 0; i < 4; i++) {
        struct sim s = make(77 + i, 0.8, 4.0, renew[i], 0.5, 0.0);
        long long yes = 0, n = 0;
        for (long long m = 1; m <= 10000; m++)
            for (int who = 0; who < 5; who++)
                for (int term = 1; term <= 2; term++, n++)
                    yes += sim_renews(&s, m, who, term);
        double r = (double)yes / n;
        cr_assert_lt(fabs(r - renew[i]), 0.02, "renew %.2f gave %.4f", renew[i], r);
    }
}

Test(sim, goal_rates_track_goal_progress)
{
    struct sim s = make(13, 0.8, 4.0, 0.5, 0.3, 0.0);
    long long moves = 0, done = 0, n = 0;
    for (long long g = 1; g <= 20000; g++)
        for (int r = 1; r <= 5; r++, n++) {
            moves += sim_goal_moves(&s, g, r);
            done += sim_goal_achieved(&s, g, r);
        }
    cr_assert_lt(fabs((double)moves / n - 0.3), 0.02);
    cr_assert_lt(fabs((double)done / n - 0.5), 0.02);
}

Test(sim, approve_rate_tracks_approve)
{
    const double approve[] = { 0.0, 0.25, 0.75, 1.0 };
    for (size_t i = 0; i < 4; i++) {
        struct sim s = make(31 + i, 0.8, 4.0, 0.5, 0.5, 0.5);
        s.p.approve = approve[i];
        long long yes = 0;
        for (long long m = 1; m <= 100000; m++)
            yes += sim_approves(&s, m);
        cr_assert_lt(fabs((double)yes / 100000 - approve[i]), 0.02, "approve %.2f gave %lld", approve[i], yes);
        if (approve[i] == 0.0)
            cr_assert_eq(yes, 0, "approve 0: never");
        if (approve[i] == 1.0)
            cr_assert_eq(yes, 100000, "approve 1: always");
    }
}

/* BUG? (core/sim.c shifted): the chance is clamped to [0.02, 0.99] even with spread 0, so
 * `tandem.simulation { attendance = 1 }` (accepted: 0..1) still misses about 1 meeting in 100,
 * and attendance = 0 holds 2 in 100; renew = 1 likewise closes some matches. README says
 * attendance is "the chance a meeting is held". Either clamp only the chemistry shift
 * (clamp(base + shift, min(base, .02), max(base, .99))) or document the bounds. */
Test(sim, extreme_attendance_and_renew_are_exact)
{
    struct sim one = make(1, 1.0, 4.0, 1.0, 0.5, 0.0);
    struct sim zero = make(1, 0.0, 4.0, 0.0, 0.5, 0.0);
    for (long long m = 1; m <= 2000; m++)
        for (int k = 1; k <= 10; k++) {
            cr_assert(sim_meeting_held(&one, m, k));
            cr_assert_not(sim_meeting_held(&zero, m, k));
            cr_assert(sim_renews(&one, m, k, 1));
            cr_assert_not(sim_renews(&zero, m, k, 1));
        }
}
