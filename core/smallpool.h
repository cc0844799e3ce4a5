/* smallpool: a free-list allocator for the many small blocks of one Lua state (tables, strings,
 * closures, upvalues). Lua tells its allocator the size of every block it frees, so a block
 * needs no header and can go back on the free list of its size class; glibc's malloc, which
 * must find the size itself and keeps only a few blocks per size in its fast caches, spent
 * about a tenth of a simulated year on these. Blocks come from 64 KiB chunks that are returned
 * only by smallpool_destroy. Not thread-safe: one pool per Lua state.
 *
 * Built with AddressSanitizer the pool passes every request to malloc, so ASan keeps seeing
 * each block on its own. */
#ifndef TANDEM_SMALLPOOL_H
#define TANDEM_SMALLPOOL_H

#include <stddef.h>

#define SMALLPOOL_MAX 256   /* larger blocks go to malloc */

struct smallpool;

/* NULL when out of memory. */
struct smallpool *smallpool_new(void);
/* Frees every chunk: every block the pool handed out is gone. NULL is a no-op. */
void smallpool_destroy(struct smallpool *p);

/* realloc with the old block's size given (0 for a new block); nsize 0 frees and returns NULL.
 * Blocks of at most SMALLPOOL_MAX bytes come from the pool, larger ones from malloc; a block
 * keeps its contents up to the smaller size across a move between the two. NULL when out of
 * memory, with ptr left as it was. */
void *smallpool_realloc(struct smallpool *p, void *ptr, size_t osize, size_t nsize);

#endif
