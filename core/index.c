/* index: open-addressing hash tables with linear probing, grown at 50% load.
 * No deletion: people and met pairs are never forgotten by the state. */
#include "index.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

uint64_t mix64(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ULL;   /* FNV-1a, then mixed */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ULL;
    return mix64(h);
}

void strmap_free(struct strmap *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->keys[i]);
    free(m->keys);
    free(m->vals);
    memset(m, 0, sizeof *m);
}

static size_t strmap_slot(const struct strmap *m, const char *key)
{
    size_t i = hash_str(key) & (m->cap - 1);
    while (m->keys[i] && strcmp(m->keys[i], key) != 0)
        i = (i + 1) & (m->cap - 1);
    return i;
}

static int strmap_grow(struct strmap *m)
{
    struct strmap n = { .cap = m->cap ? m->cap * 2 : 64 };
    n.keys = calloc(n.cap, sizeof *n.keys);
    n.vals = calloc(n.cap, sizeof *n.vals);
    if (!n.keys || !n.vals) {
        free(n.keys);
        free(n.vals);
        return -ENOMEM;
    }
    for (size_t i = 0; i < m->cap; i++) {
        if (!m->keys[i])
            continue;
        size_t j = strmap_slot(&n, m->keys[i]);
        n.keys[j] = m->keys[i];
        n.vals[j] = m->vals[i];
    }
    n.len = m->len;
    free(m->keys);
    free(m->vals);
    *m = n;
    return 0;
}

int strmap_put(struct strmap *m, const char *key, int val)
{
    if ((m->len + 1) * 2 > m->cap && strmap_grow(m) < 0)
        return -ENOMEM;
    size_t i = strmap_slot(m, key);
    if (!m->keys[i]) {
        if (!(m->keys[i] = strdup(key)))
            return -ENOMEM;
        m->len++;
    }
    m->vals[i] = val;
    return 0;
}

int strmap_get(const struct strmap *m, const char *key)
{
    if (m->cap == 0)
        return -1;
    size_t i = strmap_slot(m, key);
    return m->keys[i] ? m->vals[i] : -1;
}

void u64set_free(struct u64set *s)
{
    free(s->keys);
    memset(s, 0, sizeof *s);
}

static size_t u64set_slot(const struct u64set *s, uint64_t key)
{
    size_t i = mix64(key) & (s->cap - 1);
    while (s->keys[i] && s->keys[i] != key)
        i = (i + 1) & (s->cap - 1);
    return i;
}

int u64set_add(struct u64set *s, uint64_t key)
{
    if (key == 0) {
        s->has_zero = true;
        return 0;
    }
    if ((s->len + 1) * 2 > s->cap) {
        struct u64set n = { .cap = s->cap ? s->cap * 2 : 64, .has_zero = s->has_zero };
        if (!(n.keys = calloc(n.cap, sizeof *n.keys)))
            return -ENOMEM;
        for (size_t i = 0; i < s->cap; i++)
            if (s->keys[i])
                n.keys[u64set_slot(&n, s->keys[i])] = s->keys[i];
        n.len = s->len;
        free(s->keys);
        *s = n;
    }
    size_t i = u64set_slot(s, key);
    if (!s->keys[i]) {
        s->keys[i] = key;
        s->len++;
    }
    return 0;
}

bool u64set_has(const struct u64set *s, uint64_t key)
{
    if (key == 0)
        return s->has_zero;
    if (s->cap == 0)
        return false;
    return s->keys[u64set_slot(s, key)] == key;
}
