/* plugin: the table of loaded plugins. Finds a plugin (a built-in by name, or a shared object
 * by path or on TANDEM_PLUGIN_PATH), refuses it before running its code when the entry, the ABI
 * number, the build signature or its name is wrong, opens it with the host table, and hands it
 * the events it subscribed to. It knows nothing of the engine: what the host table does with
 * the state (submit, query, replay) comes from the owner's backend. */
#ifndef TANDEM_PLUGIN_ROOM_H
#define TANDEM_PLUGIN_ROOM_H

#include <stdbool.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "tandem/plugin.h"

struct plugin;    /* one loaded plugin; it is the tandem_ctx the plugin holds */
struct plugins;

/* What the owner does for the host table. ctx is the owner's. */
struct plugin_backend {
    void *ctx;
    int (*submit)(void *ctx, const char *plugin, const cJSON *cmd, char *why, size_t why_len);
    cJSON *(*query)(void *ctx, const char *what, const cJSON *args);
    int (*replay)(void *ctx, long long after_seq, tandem_event_fn fn, void *data);
    long long (*now)(void *ctx);
    int (*run_once)(void *ctx);
    struct uv_loop_s *(*loop)(void *ctx);
    bool simulating;
    const char *state_dir;
    FILE *log;                 /* where plugins' log lines go */
};

/* A function a plugin offered to the rules as tandem.x.name. */
struct plugin_lua_fn {
    char name[40];
    tandem_lua_fn fn;
    void *data;
};

/* A new, empty table. Returns NULL when out of memory. */
struct plugins *plugins_new(const struct plugin_backend *be);

/* Loads and opens a plugin. what is a built-in's name ("ics"), a path (has a '/' or ends in
 * ".so"), or a name looked up as NAME.so in each folder of TANDEM_PLUGIN_PATH (':'-separated),
 * then in PREFIX/lib/tandem/plugins next to the binary. config is an object or NULL (an empty
 * one). Refusals are ERR_INPUT naming the file: not found, not loadable (dlerror), no
 * tandem_plugin_entry, ABI or signature mismatch (both values named), a bad or taken name, or
 * open failed (its message). Nothing of a refused plugin stays loaded. */
int plugins_load(struct plugins *ps, const char *what, const cJSON *config, struct error *err);

/* Checks and opens a plugin from its description, as plugins_load does once it has found it
 * (file names it in messages). For plugins compiled into a program, and for tests. */
int plugins_add(struct plugins *ps, const struct tandem_plugin *def, const char *file, const cJSON *config,
                struct error *err);

/* The loaded plugin with this name, or the one loaded from this request (name or path). */
bool plugins_has(const struct plugins *ps, const char *what);
int plugins_count(const struct plugins *ps);

/* Hands one committed event to every open plugin subscribed to its type whose last seen seq
 * is below the event's. */
void plugins_deliver(struct plugins *ps, const cJSON *event);
/* The end of a batch: flush on every open plugin. */
void plugins_flush(struct plugins *ps);

/* The Lua functions the plugins registered, in order. */
const struct plugin_lua_fn *plugins_lua_fns(const struct plugins *ps, int *n);

/* Closes every open plugin, the last loaded first (their handles may still be closing: run
 * the loop before plugins_free). Idempotent. */
void plugins_close(struct plugins *ps);
/* Closes what is still open, unloads the shared objects and frees the table. ps may be NULL. */
void plugins_free(struct plugins *ps);

/* Writes a line from the host about a plugin ("tandem: plugin NAME: ..."). */
void plugins_log(struct plugins *ps, const char *name, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
