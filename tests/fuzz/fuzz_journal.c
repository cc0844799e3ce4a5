/* libFuzzer: an event log opened as the daemon opens it (journal_open_at: verify every line,
 * apply each event to a state, repair a torn tail), then replayed read-only, then appended
 * to. The first byte picks whether the lines are re-sealed first (so the checks behind the
 * CRC are reached) and the rest is the file. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "journal.h"
#include "state.h"
#include "fuzz_util.h"

struct applied {
    struct state s;
    bool refused;                       /* the state refused an event: the open stops there */
};

static int apply(void *ctx, const cJSON *event, long long line)
{
    struct applied *a = ctx;
    (void)line;
    struct error err = { 0 };
    a->refused = state_apply(&a->s, event, &err) < 0;
    return a->refused ? ERR_INPUT : 0;
}

static int count(void *ctx, const cJSON *event, long long line)
{
    (void)event;
    long long *n = ctx;
    if (line != *n + 1)
        abort();                        /* line N holds seq N */
    *n = line;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *buf = malloc(size);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, size - 1);
    if (data[0] & 1)
        fuzz_reseal(buf, size - 1);
    fuzz_clean();
    char path[512];
    snprintf(path, sizeof path, "%s/events.jsonl", fuzz_dir());
    fuzz_write(path, buf, size - 1);
    free(buf);

    struct applied a = { .refused = false };
    state_init(&a.s);
    struct journal *j = NULL;
    struct error err = { 0 };
    FILE *report = fopen("/dev/null", "w");
    int rc = journal_open_at(path, false, 0, apply, &a, report, &j, &err);
    if (rc == 0) {
        long long seq = journal_last_seq(j);
        /* What journal_open kept must replay as the same number of verified lines. */
        long long n = 0, end = 0;
        struct error rerr = { 0 };
        if (journal_replay(path, 0, count, &n, NULL, &end, &rerr) != 0 || n != seq || end != journal_end_offset(j))
            abort();
        /* And the log takes the next event. */
        cJSON *ev = cJSON_CreateObject();
        cJSON_AddNumberToObject(ev, "seq", (double)(seq + 1));
        const char *ts = journal_last_ts(j);
        cJSON_AddStringToObject(ev, "ts", ts[0] ? ts : "2027-01-01T00:00:00Z");
        cJSON_AddStringToObject(ev, "type", "note");
        if (journal_append(j, ev, &err) != 0 || journal_commit(j, JOURNAL_SYNC_OFF, &err) != 0)
            abort();
        cJSON_Delete(ev);
        journal_close(j);
        n = 0;
        if (journal_replay(path, 0, count, &n, NULL, NULL, &rerr) != 0 || n != seq + 1)
            abort();
    } else if (!a.refused && err.msg[0] == '\0') {
        abort();
    }
    if (report)
        fclose(report);
    state_free(&a.s);
    return 0;
}
