/* index: the two hash tables the state needs for lookups that must not be linear:
 * a string key -> int value map (person ids) and a set of 64-bit keys (pairs that met).
 * Keys are copied; nothing here knows what the keys mean. */
#ifndef TANDEM_INDEX_H
#define TANDEM_INDEX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct strmap {
    char **keys;
    int *vals;
    size_t cap, len;   /* cap is 0 or a power of two */
};

/* A zeroed struct strmap is an empty map. */
void strmap_free(struct strmap *m);
/* Inserts or replaces. Returns 0 or -ENOMEM. */
int strmap_put(struct strmap *m, const char *key, int val);
/* Returns the value, or -1 when absent (values stored are >= 0). */
int strmap_get(const struct strmap *m, const char *key);

struct u64set {
    uint64_t *keys;    /* 0 marks an empty slot; key 0 is stored as a flag */
    size_t cap, len;
    bool has_zero;
};

void u64set_free(struct u64set *s);
int u64set_add(struct u64set *s, uint64_t key);   /* 0 or -ENOMEM */
bool u64set_has(const struct u64set *s, uint64_t key);

/* A well-mixed 64-bit hash (splitmix64 finalizer); also the simulation's random source. */
uint64_t mix64(uint64_t x);

#endif
