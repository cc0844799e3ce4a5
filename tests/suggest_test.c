/* suggest_test: the edit distance on known pairs, and which names are suggested (and which,
 * too far off to be slips, are not). */
#include <criterion/criterion.h>

#include <string.h>

#include "suggest.h"

Test(suggest, distance_counts_each_kind_of_edit_once)
{
    cr_assert_eq(suggest_distance("", ""), 0);
    cr_assert_eq(suggest_distance("abc", ""), 3);
    cr_assert_eq(suggest_distance("", "abc"), 3);
    cr_assert_eq(suggest_distance("one_to_one", "one_to_one"), 0);
    cr_assert_eq(suggest_distance("one_to_ne", "one_to_one"), 1, "a deletion");
    cr_assert_eq(suggest_distance("one_to_oone", "one_to_one"), 1, "an insertion");
    cr_assert_eq(suggest_distance("one_to_onx", "one_to_one"), 1, "a substitution");
    cr_assert_eq(suggest_distance("one_to_oen", "one_to_one"), 1, "a swap of neighbours");
    cr_assert_eq(suggest_distance("kitten", "sitting"), 3);
    cr_assert_eq(suggest_distance("ca", "abc"), 3, "optimal string alignment, not full Damerau");
    cr_assert_eq(suggest_distance("Meeting", "meeting"), 0, "ASCII case is ignored");
}

Test(suggest, distance_is_symmetric_and_bounded_by_the_longer)
{
    const char *w[] = { "match", "meeting", "mentor", "review", "reup", "", "m" };
    for (int i = 0; i < 7; i++)
        for (int j = 0; j < 7; j++) {
            int d = suggest_distance(w[i], w[j]);
            cr_assert_eq(d, suggest_distance(w[j], w[i]), "%s/%s", w[i], w[j]);
            size_t longer = strlen(w[i]) > strlen(w[j]) ? strlen(w[i]) : strlen(w[j]);
            cr_assert_leq((size_t)d, longer);
        }
}

Test(suggest, long_strings_are_cut_not_overrun)
{
    char a[400], b[400];
    memset(a, 'a', sizeof a - 1);
    a[sizeof a - 1] = '\0';
    memset(b, 'a', sizeof b - 1);
    b[sizeof b - 1] = '\0';
    b[300] = 'b';   /* past the compared prefix */
    cr_assert_eq(suggest_distance(a, b), 0);
    b[3] = 'b';
    cr_assert_eq(suggest_distance(a, b), 1);
}

static const char *const EVENTS[] = { "person", "enroll", "match", "meeting", "intro", "goal", "feedback",
                                      "review", "reup", "close", "flag", "note" };

Test(suggest, nearest_names_the_slip)
{
    cr_assert_str_eq(suggest_nearest("meting", EVENTS, 12), "meeting");
    cr_assert_str_eq(suggest_nearest("mach", EVENTS, 12), "match");
    cr_assert_str_eq(suggest_nearest("feedbak", EVENTS, 12), "feedback");
    cr_assert_str_eq(suggest_nearest("Review", EVENTS, 12), "review");
    const char *models[] = { "diversity", "exchange", "one_to_one", "peer", NULL, "rotational" };
    cr_assert_str_eq(suggest_nearest("one_to_ne", models, 6), "one_to_one");
    cr_assert_str_eq(suggest_nearest("rotatonal", models, 6), "rotational");
}

Test(suggest, nothing_for_a_word_too_far_off_or_exact)
{
    cr_assert_null(suggest_nearest("banana", EVENTS, 12));
    cr_assert_null(suggest_nearest("xyz", EVENTS, 12));
    cr_assert_null(suggest_nearest("match", EVENTS, 12), "an exact name is not a slip");
    cr_assert_null(suggest_nearest("", EVENTS, 12));
    cr_assert_null(suggest_nearest(NULL, EVENTS, 12));
    cr_assert_null(suggest_nearest("match", NULL, 0));
}

Test(suggest, ties_go_to_the_first)
{
    const char *c[] = { "goal", "goad" };
    cr_assert_str_eq(suggest_nearest("goax", c, 2), "goal");
}
