/* suggest: "did you mean" for names a person typed: the nearest of a list of known names by
 * edit distance (Damerau-Levenshtein, adjacent swaps count one). Pure; no I/O. */
#ifndef TANDEM_SUGGEST_H
#define TANDEM_SUGGEST_H

#include <stddef.h>

/* The optimal-string-alignment distance between a and b, ignoring ASCII case: insertions,
 * deletions, substitutions and swaps of two adjacent characters each cost 1. Strings longer
 * than SUGGEST_MAX_LEN bytes are compared by their first SUGGEST_MAX_LEN bytes. */
#define SUGGEST_MAX_LEN 128
int suggest_distance(const char *a, const char *b);

/* The candidate nearest to word when it is near enough to be a slip (distance 1 for names up
 * to 4 characters, 2 up to 8, 3 beyond) and not word itself; the first of equals wins.
 * NULL when none is. Returns one of the candidates (not a copy). NULL entries are skipped. */
const char *suggest_nearest(const char *word, const char *const *candidates, int n);

/* The same as a hint to append to a message: " (did you mean \"NAME\"?)" written in buf and
 * returned, or "" when no candidate is near enough. */
const char *suggest_hint(const char *word, const char *const *candidates, int n, char *buf, size_t len);

#endif
