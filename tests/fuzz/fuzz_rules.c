/* libFuzzer: a rule file's source loaded by rules_load in the sandbox (instruction budget and
 * memory cap on), with tandem's shipped rules/ for the models. A load either succeeds or
 * names FILE:LINE; it never crashes, hangs or leaks. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rules.h"
#include "fuzz_util.h"

#ifndef FUZZ_RULES_DIR
#define FUZZ_RULES_DIR "rules"
#endif

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/rules.lua", fuzz_dir());
    fuzz_write(path, data, size);
    struct rules *r = NULL;
    struct error err = { 0 };
    int rc = rules_load(path, FUZZ_RULES_DIR, &r, &err);
    if (rc == 0) {
        cJSON *p = rules_programs_json(r);
        cJSON_Delete(p);
        rules_free(r);
    } else if (r != NULL || err.msg[0] == '\0') {
        abort();                        /* a failed load leaves nothing and says why */
    }
    return 0;
}
