/* libFuzzer: one control protocol line through protocol_parse (strict JSON, UTF-8, field
 * types), as the daemon's socket hands it over. A valid command is printed back and parsed
 * again: what the parser accepts must survive a round trip. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "protocol.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[512];
    cJSON *c = protocol_parse((const char *)data, size, why, sizeof why);
    if (c == NULL) {
        if (why[0] == '\0')
            abort();                    /* a refusal always says why */
        return 0;
    }
    char *again = cJSON_PrintUnformatted(c);
    if (again) {
        cJSON *c2 = protocol_parse(again, strlen(again), why, sizeof why);
        if (c2 == NULL)
            abort();                    /* accepted once, refused after printing */
        cJSON_Delete(c2);
        cJSON_free(again);
    }
    cJSON_Delete(c);
    return 0;
}
