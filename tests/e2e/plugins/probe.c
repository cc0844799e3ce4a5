/* probe: a test plugin built as a .so by test_plugins.py. Appends "SEQ TYPE" for each event it
 * is shown to config.out; with config.hold, answers every scheduled meeting with a
 * meeting.held command (a cascade the host must bound); with config.fail, refuses to open.
 * tandem.x.probe_seen() returns how many events it has seen. Build variants: -DPROBE_ABI=N
 * claims another ABI, -DPROBE_NO_ENTRY leaves the entry symbol out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tandem/plugin.h>

#ifndef PROBE_ABI
#define PROBE_ABI TANDEM_PLUGIN_ABI
#endif

struct probe {
    tandem_ctx *ctx;
    const struct tandem_host *host;
    FILE *out;
    bool hold;
    long long seen;
};

static void probe_event(void *data, const cJSON *ev)
{
    struct probe *p = data;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
    const char *phase = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "phase"));
    p->seen++;
    if (p->out) {
        fprintf(p->out, "%.0f %s\n", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "seq")), type);
        fflush(p->out);
    }
    if (p->hold && type && !strcmp(type, "meeting") && phase && !strcmp(phase, "scheduled")) {
        cJSON *cmd = cJSON_CreateObject();
        cJSON_AddStringToObject(cmd, "cmd", "meeting.held");
        cJSON_AddNumberToObject(cmd, "match", cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "match")));
        char why[200];
        if (p->host->submit(p->ctx, cmd, why, sizeof why) != TANDEM_OK)
            p->host->log(p->ctx, TANDEM_LOG_ERROR, "submit refused: %s", why);
        cJSON_Delete(cmd);
    }
}

static cJSON *probe_seen(void *data, const cJSON *args, char *why, size_t why_len)
{
    (void)args, (void)why, (void)why_len;
    return cJSON_CreateNumber((double)((struct probe *)data)->seen);
}

static void probe_close(void *data)
{
    struct probe *p = data;
    if (p->out)
        fclose(p->out);
    free(p);
}

static int probe_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data,
                      char *why, size_t why_len)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "fail"))) {
        snprintf(why, why_len, "config says fail");
        return TANDEM_EREFUSED;
    }
    struct probe *p = calloc(1, sizeof *p);
    p->ctx = ctx;
    p->host = host;
    p->hold = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "hold"));
    const char *out = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(config, "out"));
    if (out && !(p->out = fopen(out, "a"))) {
        snprintf(why, why_len, "cannot open %s", out);
        free(p);
        return TANDEM_EREFUSED;
    }
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(config, "types"), *t;
    if (!types)
        host->subscribe(ctx, "*");
    cJSON_ArrayForEach(t, types)
        host->subscribe(ctx, t->valuestring);
    host->lua_register(ctx, "probe_seen", probe_seen, p);
    *data = p;
    return TANDEM_OK;
}

static const struct tandem_plugin probe = {
    .abi = PROBE_ABI,
    .signature = TANDEM_PLUGIN_SIGNATURE,
    .name = "probe",
    .version = "test",
    .open = probe_open,
    .event = probe_event,
    .close = probe_close,
};

#ifndef PROBE_NO_ENTRY
TANDEM_PLUGIN_ENTRY(probe)
{
    return &probe;
}
#else
__attribute__((visibility("default"))) const struct tandem_plugin *not_the_entry(void)
{
    return &probe;
}
#endif
