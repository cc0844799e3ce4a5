/* smallpool: a free-list allocator for the many small blocks of one Lua state (tables, strings,
 * closures, upvalues). Lua tells its allocator the size of every block it frees, so a block
 * needs no header and can go back on the free list of its size class; glibc's malloc, which
 * must find the size itself and keeps only a few blocks per size in its fast caches, spent
 * about a tenth of a simulated year on these. Blocks come from 64 KiB chunks, which the pool
 * keeps (for reuse by blocks of the same class) until smallpool_destroy; at most `limit` bytes
 * of them: past that, small blocks come from malloc like large ones, so what a state frees and
 * never asks for again costs at most that much. Not thread-safe: one pool per Lua state.
 *
 * Built with AddressSanitizer, or run under valgrind (smallpool_new gives NULL there), every
 * request goes to malloc, so ASan and memcheck keep seeing each block on its own. */
#ifndef TANDEM_SMALLPOOL_H
#define TANDEM_SMALLPOOL_H

#include <stddef.h>

#define SMALLPOOL_MAX 256   /* larger blocks go to malloc */

struct smallpool;

/* NULL when out of memory or under valgrind: smallpool_realloc with a NULL pool is realloc. */
struct smallpool *smallpool_new(void);
/* Frees every chunk: every block the pool handed out is gone. NULL is a no-op. */
void smallpool_destroy(struct smallpool *p);

/* realloc with the old block's size given (0 for a new block); nsize 0 frees and returns NULL.
 * Blocks of at most SMALLPOOL_MAX bytes come from the pool while its chunks take at most limit
 * bytes, the others from malloc; a block keeps its contents up to the smaller size across a
 * move. A shrink never fails (the old block serves). NULL when out of memory, with ptr left as
 * it was. */
void *smallpool_realloc(struct smallpool *p, void *ptr, size_t osize, size_t nsize, size_t limit);

/* Bytes of chunks the pool holds. */
size_t smallpool_bytes(const struct smallpool *p);

#endif
