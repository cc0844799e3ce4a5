/* libFuzzer: an HRIS export through people_csv_read, from a file as the import reads it.
 * Every good row must be a valid person; the counts must add up. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "people_csv.h"
#include "fuzz_util.h"

static int row(void *ctx, struct person *p, int line)
{
    int *rows = ctx;
    if (line < 1 || p->id == NULL || p->id[0] == '\0')
        abort();
    ++*rows;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/people.csv", fuzz_dir());
    fuzz_write(path, data, size);
    FILE *errors = fopen("/dev/null", "w");
    struct people_csv_result res = { 0 };
    struct error err = { 0 };
    int rows = 0;
    int rc = people_csv_read(path, row, &rows, errors, &res, &err);
    if (errors)
        fclose(errors);
    if (rc != 0 && err.msg[0] == '\0')
        abort();                        /* a refusal always says why */
    if (rows != res.taken || res.refused < 0)
        abort();
    return 0;
}
