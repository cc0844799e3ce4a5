/* example: a small tandem plugin, built out of tree against tandem/plugin.h only. It counts
 * the events it sees by type, offers the counts to rules as tandem.x.example_count(type),
 * writes them to STATE/example-counts.json at the end of each batch, and logs a summary every
 * `every` seconds from a libuv timer. Read it as a template: each host service once.
 *
 *   tandem.plugin("example", { types = { "match", "meeting" }, every = 60 })
 *   tandem.on("review", function(ev) tandem.note("matches so far", { n = tandem.x.example_count("match") }) end)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <uv.h>

#include <tandem/plugin.h>

#define TYPES_MAX 32

struct example {
    tandem_ctx *ctx;
    const struct tandem_host *host;
    char types[TYPES_MAX][33];
    long long counts[TYPES_MAX];
    int n_types;
    char path[4200];
    uv_timer_t timer;         /* owned: closed in example_close, freed in its close callback */
    bool dirty;
};

static int slot(struct example *x, const char *type)
{
    for (int i = 0; i < x->n_types; i++)
        if (strcmp(x->types[i], type) == 0)
            return i;
    if (x->n_types == TYPES_MAX)
        return -1;
    snprintf(x->types[x->n_types], sizeof x->types[0], "%s", type);
    return x->n_types++;
}

/* event: called once per committed event of a subscribed type, in log order. */
static void example_event(void *data, const cJSON *event)
{
    struct example *x = data;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(event, "type"));
    int i = type ? slot(x, type) : -1;
    if (i >= 0) {
        x->counts[i]++;
        x->dirty = true;
    }
}

/* flush: the end of a batch (one group commit) — the moment for file writes. */
static void example_flush(void *data)
{
    struct example *x = data;
    if (!x->dirty)
        return;
    x->dirty = false;
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; i < x->n_types; i++)
        cJSON_AddNumberToObject(o, x->types[i], (double)x->counts[i]);
    char *text = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    char tmp[4300];
    snprintf(tmp, sizeof tmp, "%s.tmp", x->path);
    FILE *f = fopen(tmp, "w");
    if (f && text) {
        fprintf(f, "%s\n", text);
        if (fclose(f) == 0 && rename(tmp, x->path) == 0)
            f = NULL;
        else
            x->host->log(x->ctx, TANDEM_LOG_ERROR, "cannot write %s", x->path);
    } else if (f) {
        fclose(f);
    }
    free(text);
}

/* tandem.x.example_count(type): how many events of that type this plugin has seen. */
static cJSON *lua_count(void *data, const cJSON *args, char *why, size_t why_len)
{
    struct example *x = data;
    const char *type = cJSON_GetStringValue(cJSON_GetArrayItem(args, 0));
    if (!type) {
        snprintf(why, why_len, "expects an event type, like \"match\"");
        return NULL;
    }
    for (int i = 0; i < x->n_types; i++)
        if (strcmp(x->types[i], type) == 0)
            return cJSON_CreateNumber((double)x->counts[i]);
    return cJSON_CreateNumber(0);
}

static void on_tick(uv_timer_t *t)
{
    struct example *x = t->data;
    long long all = 0;
    for (int i = 0; i < x->n_types; i++)
        all += x->counts[i];
    x->host->log(x->ctx, TANDEM_LOG_INFO, "%lld event(s) seen so far", all);
}

static void on_timer_closed(uv_handle_t *h)
{
    free(h->data);   /* the last thing the plugin owned */
}

static void example_close(void *data)
{
    struct example *x = data;
    example_flush(x);
    uv_close((uv_handle_t *)&x->timer, on_timer_closed);
}

static int example_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data,
                        char *why, size_t why_len)
{
    const cJSON *types = cJSON_GetObjectItemCaseSensitive(config, "types");
    const cJSON *every = cJSON_GetObjectItemCaseSensitive(config, "every");
    if (types && !cJSON_IsArray(types)) {
        snprintf(why, why_len, "types: a list of event types, like { \"match\", \"meeting\" }");
        return TANDEM_EREFUSED;
    }
    if (every && (!cJSON_IsNumber(every) || every->valuedouble < 0)) {
        snprintf(why, why_len, "every: seconds between summaries (0: none)");
        return TANDEM_EREFUSED;
    }
    struct example *x = calloc(1, sizeof *x);
    if (!x)
        return TANDEM_EFAILED;
    x->ctx = ctx;
    x->host = host;
    snprintf(x->path, sizeof x->path, "%s/example-counts.json", host->state_dir(ctx));
    if (!types) {
        host->subscribe(ctx, "*");
    } else {
        const cJSON *t;
        cJSON_ArrayForEach(t, types) {
            if (!cJSON_IsString(t) || host->subscribe(ctx, t->valuestring) != TANDEM_OK) {
                snprintf(why, why_len, "types: \"%s\" is not an event type", cJSON_IsString(t) ? t->valuestring : "?");
                free(x);
                return TANDEM_EREFUSED;
            }
        }
    }
    host->lua_register(ctx, "example_count", lua_count, x);
    uv_timer_init(host->loop(ctx), &x->timer);
    x->timer.data = x;
    uint64_t ms = every ? (uint64_t)(every->valuedouble * 1000) : 0;
    if (ms > 0) {
        uv_timer_start(&x->timer, on_tick, ms, ms);
        uv_unref((uv_handle_t *)&x->timer);   /* a summary timer alone must not keep a loop running */
    }
    host->log(ctx, TANDEM_LOG_INFO, "counting events into %s", x->path);
    *data = x;
    return TANDEM_OK;
}

static const struct tandem_plugin plugin = {
    .abi = TANDEM_PLUGIN_ABI,
    .signature = TANDEM_PLUGIN_SIGNATURE,
    .name = "example",
    .version = "1.0",
    .open = example_open,
    .event = example_event,
    .flush = example_flush,
    .close = example_close,
};

TANDEM_PLUGIN_ENTRY(example)
{
    return &plugin;
}
