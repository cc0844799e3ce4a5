/* libFuzzer: a snapshot loaded as a restart loads it. The input is a log, a NUL byte, then
 * a snapshot file (the first byte picks whether both are re-sealed first, so the fuzzer gets
 * past the CRCs). snapshot_load checks the file against the log; the "state" member also goes
 * straight to snapshot_state_from_json. Whatever state is accepted must write out and read
 * back to the same JSON. */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "snapshot.h"
#include "fuzz_util.h"

/* s must be a state snapshot_state_from_json accepted: out and back in must be a fixed point. */
static void round_trip(const struct state *s)
{
    cJSON *a = snapshot_state_to_json(s);
    if (!a)
        return;                         /* a value no event can make: refused, fine */
    struct state t;
    state_init(&t);
    struct error err = { 0 };
    if (snapshot_state_from_json(a, &t, &err) != 0) {
        fprintf(stderr, "a written state does not read back: %s\n", err.msg);
        abort();
    }
    cJSON *b = snapshot_state_to_json(&t);
    if (!b || !cJSON_Compare(a, b, 1))
        abort();
    cJSON_Delete(a);
    cJSON_Delete(b);
    state_free(&t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    size_t n = size - 1;
    char *buf = malloc(n + 1);
    if (!buf)
        return 0;
    memcpy(buf, data + 1, n);
    buf[n] = '\0';
    char *nul = memchr(buf, '\0', n);
    size_t log_len = nul ? (size_t)(nul - buf) : n;
    char *snap = nul ? nul + 1 : buf + n;
    size_t snap_len = nul ? n - log_len - 1 : 0;
    if (data[0] & 1) {
        fuzz_reseal(buf, log_len);
        fuzz_reseal(snap, snap_len);
    }
    fuzz_clean();
    const char *dir = fuzz_dir();
    char log[512], file[512];
    snprintf(log, sizeof log, "%s/events.jsonl", dir);
    snprintf(file, sizeof file, "%s/snapshot-000000000001.json", dir);
    fuzz_write(log, buf, log_len);
    fuzz_write(file, snap, snap_len);

    struct state s;
    state_init(&s);
    long long off = -1;
    struct error err = { 0 };
    int rc = snapshot_load(dir, log, &s, &off, NULL, &err);
    if (rc == 1) {
        if (off < 0 || off > (long long)log_len)
            abort();
        round_trip(&s);
    }
    state_free(&s);

    /* The state member on its own, past the envelope. */
    cJSON *doc = cJSON_ParseWithOpts(snap, NULL, 0);
    const cJSON *st = cJSON_GetObjectItemCaseSensitive(doc, "state");
    if (st) {
        struct state t;
        state_init(&t);
        if (snapshot_state_from_json(st, &t, &err) == 0)
            round_trip(&t);
        state_free(&t);
    }
    cJSON_Delete(doc);
    free(buf);
    return 0;
}
