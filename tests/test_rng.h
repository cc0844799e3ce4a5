/* test_rng: the deterministic generator the unit tests draw random instances from
 * (xorshift64; a fixed seed gives the same instances on every machine). */
#ifndef TANDEM_TEST_RNG_H
#define TANDEM_TEST_RNG_H

#include <stdint.h>

/* The next value; *state must start non-zero. */
static inline uint64_t test_rng(uint64_t *state)
{
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    return *state;
}

#endif
