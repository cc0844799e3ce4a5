/* json_arena: a bump allocator handed to cJSON for the length of one parse (see the header).
 * Blocks are never freed one by one: cJSON frees a half-built tree when the text turns out
 * not to be JSON, and those frees are simply ignored until the arena goes. */
#include "json_arena.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define CHUNK (1u << 20)            /* bytes a chunk holds, unless one block needs more */
#define ALIGN 16                    /* what malloc would give */

struct chunk {
    struct chunk *next;
    size_t used, size;
    _Alignas(ALIGN) unsigned char data[];
};

struct json_arena {
    struct chunk *head;             /* the chunk blocks come from; older ones follow */
    int failed;                     /* a chunk could not be had: the parse must fail */
};

/* The arena cJSON's hooks allocate from: set only inside json_arena_parse. */
static struct json_arena *current;

static void *arena_malloc(size_t n)
{
    struct json_arena *a = current;
    n = (n + ALIGN - 1) & ~(size_t)(ALIGN - 1);
    struct chunk *c = a->head;
    if (c == NULL || c->size - c->used < n) {
        size_t size = n > CHUNK ? n : CHUNK;
        c = malloc(sizeof *c + size);
        if (c == NULL) {
            a->failed = 1;
            return NULL;
        }
        c->size = size;
        c->used = 0;
        c->next = a->head;
        a->head = c;
    }
    void *p = c->data + c->used;
    c->used += n;
    return p;
}

static void arena_free(void *p)
{
    (void)p;                        /* everything goes with the arena */
}

cJSON *json_arena_parse(const char *text, struct json_arena **arena)
{
    *arena = calloc(1, sizeof **arena);
    if (*arena == NULL)
        return NULL;
    current = *arena;
    cJSON_Hooks hooks = { arena_malloc, arena_free };
    cJSON_InitHooks(&hooks);
    cJSON *doc = cJSON_ParseWithOpts(text, NULL, 1);
    cJSON_InitHooks(NULL);          /* malloc and free again for everyone else */
    current = NULL;
    if (doc == NULL || (*arena)->failed) {
        json_arena_free(*arena);
        *arena = NULL;
        return NULL;
    }
    return doc;
}

void json_arena_free(struct json_arena *a)
{
    if (a == NULL)
        return;
    for (struct chunk *c = a->head, *next; c != NULL; c = next) {
        next = c->next;
        free(c);
    }
    free(a);
}
