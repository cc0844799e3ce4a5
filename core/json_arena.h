/* json_arena: parse one large JSON text with cJSON into a bump arena instead of a malloc per
 * node and string, and drop the whole tree at once. A snapshot of a big organization is
 * millions of nodes: their malloc and free were two thirds of a restart from it.
 * cJSON's allocator is process-wide (cJSON_InitHooks), so the arena is in force only inside
 * json_arena_parse, on one thread; the tree it returns must never reach cJSON_Delete, nor any
 * of its items be detached and kept: json_arena_free releases them all. */
#ifndef TANDEM_JSON_ARENA_H
#define TANDEM_JSON_ARENA_H

#include <cjson/cJSON.h>

struct json_arena;

/* Parses text (NUL-terminated, nothing after the value: cJSON_ParseWithOpts with
 * require_null_terminated) into a new arena. Returns the tree, or NULL when the text is not
 * JSON or memory ran out (then *arena is NULL too). The tree lives until
 * json_arena_free(*arena). */
cJSON *json_arena_parse(const char *text, struct json_arena **arena);

/* Frees the arena and every node of the tree parsed into it. NULL is fine. */
void json_arena_free(struct json_arena *a);

#endif
