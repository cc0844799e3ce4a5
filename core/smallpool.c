/* smallpool: size classes of 16 bytes up to SMALLPOOL_MAX, each a singly linked free list
 * threaded through the free blocks themselves; new blocks are cut from the current chunk.
 * Chunks are aligned to their size, so a block's chunk is its address rounded down, and a set
 * of the chunks' addresses tells a pooled block from malloc's whatever its size. */
#include "smallpool.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "index.h"

#if defined(__SANITIZE_ADDRESS__)
#define POOL_OFF 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define POOL_OFF 1
#endif
#endif
#ifndef POOL_OFF
#define POOL_OFF 0
#endif

#if defined(__has_include)
#if __has_include(<valgrind/valgrind.h>)
#include <valgrind/valgrind.h>
#endif
#endif
#ifndef RUNNING_ON_VALGRIND
#define RUNNING_ON_VALGRIND 0
#endif

#define GRAIN 16
#define N_CLASSES (SMALLPOOL_MAX / GRAIN)
#define CHUNK_BYTES ((size_t)64 << 10)

struct smallpool {
    void *free[N_CLASSES];     /* class c holds blocks of (c + 1) * GRAIN bytes */
    struct u64set chunks;      /* the chunks' addresses */
    void **all;                /* the same, to free them */
    size_t n_chunks, cap_chunks;
    char *cut, *end;           /* the part of the newest chunk not handed out yet */
};

struct smallpool *smallpool_new(void)
{
    if (RUNNING_ON_VALGRIND)
        return NULL;   /* every block malloc's own, for memcheck to see each */
    return calloc(1, sizeof(struct smallpool));
}

void smallpool_destroy(struct smallpool *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n_chunks; i++)
        free(p->all[i]);
    free(p->all);
    u64set_free(&p->chunks);
    free(p);
}

size_t smallpool_bytes(const struct smallpool *p)
{
    return p ? p->n_chunks * CHUNK_BYTES : 0;
}

static inline int class_of(size_t size)
{
    return (int)((size - 1) / GRAIN);
}

static inline bool pooled(const struct smallpool *p, const void *b)
{
    return p->n_chunks > 0 && u64set_has(&p->chunks, (uint64_t)((uintptr_t)b & ~(uintptr_t)(CHUNK_BYTES - 1)));
}

static bool new_chunk(struct smallpool *p)
{
    if (p->n_chunks == p->cap_chunks) {
        size_t cap = p->cap_chunks ? 2 * p->cap_chunks : 16;
        void **all = realloc(p->all, cap * sizeof *all);
        if (!all)
            return false;
        p->all = all;
        p->cap_chunks = cap;
    }
    char *ch = aligned_alloc(CHUNK_BYTES, CHUNK_BYTES);
    if (!ch || u64set_add(&p->chunks, (uint64_t)(uintptr_t)ch) != 0) {
        free(ch);
        return false;
    }
    p->all[p->n_chunks++] = ch;
    p->cut = ch;   /* the old chunk's tail (less than one block of this class) is left unused */
    p->end = ch + CHUNK_BYTES;
    return true;
}

/* A block of the size's class: from its free list, the current chunk, a new chunk, or, with
 * limit bytes of chunks taken, malloc. */
static void *pool_get(struct smallpool *p, size_t size, size_t limit)
{
    int c = class_of(size);
    void *b = p->free[c];
    if (b) {
        memcpy(&p->free[c], b, sizeof(void *));
        return b;
    }
    size_t bytes = (size_t)(c + 1) * GRAIN;
    if ((size_t)(p->end - p->cut) < bytes &&
        ((p->n_chunks + 1) * CHUNK_BYTES > limit || !new_chunk(p)))
        return malloc(size);
    b = p->cut;
    p->cut += bytes;
    return b;
}

/* Frees a block of Lua's size `size`: onto its class's list when it is the pool's. */
static void release(struct smallpool *p, void *b, size_t size)
{
    if (!pooled(p, b)) {
        free(b);
        return;
    }
    int c = class_of(size);
    memcpy(b, &p->free[c], sizeof(void *));
    p->free[c] = b;
}

void *smallpool_realloc(struct smallpool *p, void *ptr, size_t osize, size_t nsize, size_t limit)
{
    if (POOL_OFF || p == NULL) {
        if (nsize == 0) {
            free(ptr);
            return NULL;
        }
        return realloc(ptr, nsize);
    }
    if (ptr == NULL)
        osize = 0;
    if (nsize == 0) {
        if (ptr)
            release(p, ptr, osize);
        return NULL;
    }
    bool was_pooled = ptr && pooled(p, ptr);
    if (ptr && !was_pooled && nsize > SMALLPOOL_MAX)
        return realloc(ptr, nsize);
    if (was_pooled && nsize <= SMALLPOOL_MAX && class_of(osize) == class_of(nsize))
        return ptr;
    void *n = nsize <= SMALLPOOL_MAX ? pool_get(p, nsize, limit) : malloc(nsize);
    if (!n)
        return ptr && nsize < osize ? ptr : NULL;   /* Lua counts on a shrink never failing */
    if (ptr) {
        memcpy(n, ptr, osize < nsize ? osize : nsize);
        release(p, ptr, osize);
    }
    return n;
}
