/* smallpool: size classes of 16 bytes up to SMALLPOOL_MAX, each a singly linked free list
 * threaded through the free blocks themselves; new blocks are cut from the current chunk. */
#include "smallpool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

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

#define GRAIN 16
#define N_CLASSES (SMALLPOOL_MAX / GRAIN)
#define CHUNK_BYTES (64u << 10)

struct chunk {
    struct chunk *next;
    /* then the blocks, from offset GRAIN so they keep malloc's 16-byte alignment */
};

struct smallpool {
    void *free[N_CLASSES];     /* class c holds blocks of (c + 1) * GRAIN bytes */
    struct chunk *chunks;
    char *cut, *end;           /* the part of the newest chunk not handed out yet */
};

struct smallpool *smallpool_new(void)
{
    return calloc(1, sizeof(struct smallpool));
}

void smallpool_destroy(struct smallpool *p)
{
    if (!p)
        return;
    for (struct chunk *c = p->chunks, *next; c; c = next) {
        next = c->next;
        free(c);
    }
    free(p);
}

static inline int class_of(size_t size)
{
    return (int)((size - 1) / GRAIN);
}

static void *pool_get(struct smallpool *p, size_t size)
{
    int c = class_of(size);
    void *b = p->free[c];
    if (b) {
        memcpy(&p->free[c], b, sizeof(void *));
        return b;
    }
    size_t bytes = (size_t)(c + 1) * GRAIN;
    if ((size_t)(p->end - p->cut) < bytes) {
        /* The old chunk's tail (less than one block of this class) is left unused. */
        struct chunk *ch = malloc(CHUNK_BYTES);
        if (!ch)
            return NULL;
        ch->next = p->chunks;
        p->chunks = ch;
        p->cut = (char *)ch + GRAIN;
        p->end = (char *)ch + CHUNK_BYTES;
    }
    b = p->cut;
    p->cut += bytes;
    return b;
}

static inline void pool_put(struct smallpool *p, void *b, size_t size)
{
    int c = class_of(size);
    memcpy(b, &p->free[c], sizeof(void *));
    p->free[c] = b;
}

void *smallpool_realloc(struct smallpool *p, void *ptr, size_t osize, size_t nsize)
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
    bool old_small = ptr && osize <= SMALLPOOL_MAX, new_small = nsize <= SMALLPOOL_MAX;
    if (nsize == 0) {
        if (old_small)
            pool_put(p, ptr, osize);
        else
            free(ptr);
        return NULL;
    }
    if (ptr && !old_small && !new_small)
        return realloc(ptr, nsize);
    if (old_small && new_small && class_of(osize) == class_of(nsize))
        return ptr;
    void *n = new_small ? pool_get(p, nsize) : malloc(nsize);
    if (!n) {
        /* Lua counts on a shrink never failing: the big block serves as the small one (and is
         * lost to malloc when it is freed into the pool: only ever when memory ran out). */
        return ptr && nsize < osize ? ptr : NULL;
    }
    if (ptr) {
        memcpy(n, ptr, osize < nsize ? osize : nsize);
        if (old_small)
            pool_put(p, ptr, osize);
        else
            free(ptr);
    }
    return n;
}
