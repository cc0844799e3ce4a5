/* json_print: prints a cJSON tree byte for byte as cJSON_PrintUnformatted does, only faster
 * (integers without cJSON's sprintf("%1.15g") + sscanf round trip, straight into the caller's
 * buffer, no allocation of its own). The event log's bytes are cJSON's; this must never print
 * anything cJSON would print differently: what it cannot vouch for it leaves to cJSON. */
#ifndef TANDEM_JSON_PRINT_H
#define TANDEM_JSON_PRINT_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* A growing text buffer: s[0..len) is the text, cap bytes are allocated. The zero value is
 * empty. Owned by the caller (free(s)). */
struct json_buf {
    char *s;
    size_t len, cap;
};

/* Appends item's print (item alone, not its siblings: what cJSON_PrintUnformatted(item)
 * returns) to b, followed by a '\0' that is not counted in len. Numbers that are not
 * integers below 10^15 in magnitude are printed by cJSON itself.
 * Returns 0; or -1 with b->len as it was when out of memory or when the tree holds what
 * cJSON would refuse or what this printer does not take on (an invalid type, a raw item
 * without text, nesting deeper than JSON_PRINT_DEPTH): print those with cJSON. */
/* Appends s[0..n) to b (kept '\0'-ended). Returns 0, or -1 when out of memory (b unchanged). */
int json_buf_put(struct json_buf *b, const char *s, size_t n);

#define JSON_PRINT_DEPTH 200
int json_print(const cJSON *item, struct json_buf *b);

#endif
