/* tandem/plugin.h: the plugin ABI, and the only header a tandem plugin needs.
 *
 * A plugin is C code that sees the events tandem commits and may ask for more, without
 * touching the core: mail or chat glue, calendars, mirrors into a database. It is a shared
 * object (or, for the plugins shipped with tandem, the same code linked in) that exports one
 * function, tandem_plugin_entry, returning a description of itself.
 *
 *     #include <tandem/plugin.h>
 *
 *     static int my_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config,
 *                        void **data, char *why, size_t why_len) { ... host->subscribe(ctx, "match"); ... }
 *     static void my_event(void *data, const cJSON *event) { ... }
 *     static void my_close(void *data) { ... }
 *
 *     static const struct tandem_plugin me = {
 *         .abi = TANDEM_PLUGIN_ABI, .signature = TANDEM_PLUGIN_SIGNATURE,
 *         .name = "mine", .version = "1.0",
 *         .open = my_open, .event = my_event, .close = my_close,
 *     };
 *     TANDEM_PLUGIN_ENTRY(mine) { return &me; }
 *
 * Build it with  cc -shared -fPIC mine.c -o mine.so $(pkg-config --cflags --libs tandem-plugin)
 * and load it with  tandem run RULES.lua --plugin ./mine.so  or, from the rules,
 * tandem.plugin("mine", { key = "value" })  (found as mine.so on TANDEM_PLUGIN_PATH, then in
 * PREFIX/lib/tandem/plugins).
 *
 * What the host guarantees:
 *  - Loading refuses a plugin before running any of its code but tandem_plugin_entry: the
 *    entry symbol must exist, abi must equal the host's TANDEM_PLUGIN_ABI, signature must
 *    equal the host's TANDEM_PLUGIN_SIGNATURE, name must be unique; only then is open called.
 *  - event() sees every event of the types it subscribed to, once, in log order (seq), and
 *    only after the event is committed to STATE/events.jsonl (on disk per --fsync). Events
 *    replayed at start are not shown again; ask for them with host->replay.
 *  - Everything runs on one thread, tandem's: open, event, flush, close, Lua functions and
 *    your libuv callbacks never run at the same time. Never block in them: in `tandem run`
 *    the daemon serves every client from this thread.
 *  - The host needs no symbol from your plugin but the entry, and your plugin needs no
 *    symbol from the host: every service is a function pointer in struct tandem_host.
 *    You may link cJSON (and libuv, for the loop) yourself; they are the same shared
 *    libraries the host uses.
 *  - tandem ignores SIGPIPE once a plugin is loaded: a write to a dead pipe fails with EPIPE.
 *
 * Compatibility: TANDEM_PLUGIN_ABI changes when these structs change meaning. struct
 * tandem_host only ever grows at its end; a member added later says "ABI n" and a plugin
 * checks host->size before using it. Same major version of tandem = same ABI. */
#ifndef TANDEM_PLUGIN_H
#define TANDEM_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

#define TANDEM_PLUGIN_ABI 1

#define TANDEM_PLUGIN_STR_(x) #x
#define TANDEM_PLUGIN_STR(x) TANDEM_PLUGIN_STR_(x)

/* What must agree, beyond the ABI number, for host and plugin to read the same structs:
 * the pointer size and cJSON's major version (events and config are cJSON trees). */
#define TANDEM_PLUGIN_SIGNATURE                                                                 \
    "tandem-plugin abi " TANDEM_PLUGIN_STR(TANDEM_PLUGIN_ABI) " ptr " TANDEM_PLUGIN_STR(       \
        __SIZEOF_POINTER__) " cjson " TANDEM_PLUGIN_STR(CJSON_VERSION_MAJOR)

/* Return codes of host functions and of open. */
#define TANDEM_OK 0
#define TANDEM_EREFUSED (-1)   /* bad input; `why` says what */
#define TANDEM_EFAILED (-3)    /* the system failed (memory, I/O) */

/* Log levels for host->log. */
enum tandem_log_level { TANDEM_LOG_ERROR, TANDEM_LOG_WARN, TANDEM_LOG_INFO };

/* The host's handle for one loaded plugin: passed to open, given back to every host call. */
typedef struct tandem_ctx tandem_ctx;

struct uv_loop_s;   /* uv_loop_t, from <uv.h> */

/* A function a plugin offers to rule files as tandem.x.NAME(...). args is a JSON array of the
 * Lua arguments, converted as action fields are (tables with keys 1..n become arrays, other
 * tables objects, nil null; functions are refused). Return a new JSON value, which the host
 * converts to Lua and frees, or NULL: with why empty the Lua call returns nil, with why set it
 * raises that message as a rule error. Runs inside a rule's handler: be quick, never block. */
typedef cJSON *(*tandem_lua_fn)(void *data, const cJSON *args, char *why, size_t why_len);

/* Called by host->replay for each committed event, in order. event belongs to the host. */
typedef void (*tandem_event_fn)(void *data, const cJSON *event);

/* The host's services, handed to open. Valid until close returns; ctx is the plugin's own. */
struct tandem_host {
    int abi;                  /* the host's TANDEM_PLUGIN_ABI */
    size_t size;              /* sizeof(struct tandem_host) in the host */
    const char *version;      /* tandem's version, "0.1.0" */

    /* Writes "tandem: plugin NAME: message" on tandem's stderr. printf-style. */
    void (*log)(tandem_ctx *ctx, enum tandem_log_level level, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));

    /* Asks for the events of one type ("match", "meeting", ... as in the log's `type`), or
     * "*" for all. Returns TANDEM_OK or TANDEM_EREFUSED for a malformed type. */
    int (*subscribe)(tandem_ctx *ctx, const char *type);

    /* Submits one command, as `tandem ctl` would send it: {"cmd":"meeting.held","match":17}.
     * It goes through the same validation and the same engine door as a ctl line (engine
     * command -> facts -> journal); status, reload and snapshot are the daemon's, not
     * commands. Called from event() or flush(), the command is checked now and executed after
     * the current batch of events (so a plugin cannot recurse into itself; cascades stop at 8
     * rounds); called from a libuv callback, it runs at once. Returns TANDEM_OK (done or
     * queued), TANDEM_EREFUSED with the reason in why (nothing happened), or TANDEM_EFAILED.
     * A queued command that is refused later is logged. Does not take ownership of cmd. */
    int (*submit)(tandem_ctx *ctx, const cJSON *cmd, char *why, size_t why_len);

    /* Offers fn to rule files as tandem.x.NAME (NAME: [a-z][a-z0-9_]{0,31}, unique across
     * plugins). Call it in open: rules loaded or reloaded later see it too. Returns TANDEM_OK or
     * TANDEM_EREFUSED (bad or taken name). */
    int (*lua_register)(tandem_ctx *ctx, const char *name, tandem_lua_fn fn, void *data);

    /* Read-only state queries. Returns a new JSON value the caller frees with cJSON_Delete, or
     * NULL when there is no such thing:
     *   "person"  {"id":"p9"}              the person as in a `person` event, plus "left"
     *   "match"   {"id":17}                id, program, model, phase, mentors, mentees, score,
     *                                      started, term_ends, next_meeting, held, missed, closed_at
     *   "matches" {"program":..., "person":..., "state":"live"|"active"|"proposed"|"closed"}
     *                                      an array of matches (every field optional)
     *   "status"  {}                       seq (last committed), now, people, live_matches, simulating */
    cJSON *(*query)(tandem_ctx *ctx, const char *what, const cJSON *args);

    /* The libuv loop the plugin's timers and I/O run on. In `tandem run` it is the daemon's
     * loop. In `tandem simulate` it is a loop tandem runs without blocking after each batch
     * of events and to completion after close: its timers run on the real clock, not program
     * time. Close every handle you open on it in close(). */
    struct uv_loop_s *(*loop)(tandem_ctx *ctx);

    /* Hands fn every committed event with seq > after_seq, in order, read from the log on disk
     * (to rebuild what a plugin keeps from the history, e.g. after its file was lost). Events
     * from it are not shown to event() again. Returns TANDEM_OK or TANDEM_EFAILED. */
    int (*replay)(tandem_ctx *ctx, long long after_seq, tandem_event_fn fn, void *data);

    /* True in `tandem simulate` (virtual time; the log was just started afresh). */
    bool (*simulating)(tandem_ctx *ctx);

    /* Program time: seconds since the epoch, UTC (virtual in simulate). */
    long long (*now)(tandem_ctx *ctx);

    /* The state directory (STATE), where a plugin may keep its files. */
    const char *(*state_dir)(tandem_ctx *ctx);

    /* In simulate only: runs one turn of the loop, waiting for I/O, so that a plugin can wait
     * for a slow consumer instead of dropping events. Returns TANDEM_OK, or TANDEM_EREFUSED in
     * `tandem run` (the daemon must never wait on a plugin) or when called from inside the loop. */
    int (*run_once)(tandem_ctx *ctx);
};

/* What a plugin is. Returned by tandem_plugin_entry; must stay valid until the process ends. */
struct tandem_plugin {
    int abi;                  /* TANDEM_PLUGIN_ABI: always first, checked before anything else */
    const char *signature;    /* TANDEM_PLUGIN_SIGNATURE */
    const char *name;         /* [a-z][a-z0-9_]{0,31}, unique in a process */
    const char *version;      /* the plugin's own version, free text */

    /* Starts the plugin. config is the table given to tandem.plugin (or --plugin-config),
     * as JSON (an object, never NULL; owned by the host, valid during open only). Store your
     * state in *data: it is passed to every other callback. Returns TANDEM_OK, or an error
     * with a message in why (for a person: name the key that is wrong); then close is not
     * called and the plugin is refused. */
    int (*open)(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data,
                char *why, size_t why_len);

    /* One committed event (owned by the host, valid during the call only). */
    void (*event)(void *data, const cJSON *event);

    /* Called after the last event of a batch (one group commit): the moment to commit a
     * transaction or rewrite files. May be NULL. */
    void (*flush)(void *data);

    /* The host is stopping. Stop timers and close every libuv handle you own (the host keeps
     * running the loop until they are closed, so a close callback may free data), finish
     * or abandon I/O, free what you own. No other callback follows but your handles' close
     * callbacks. */
    void (*close)(void *data);
};

/* Declares the entry point. A plugin built as a shared object exports tandem_plugin_entry;
 * a plugin linked into tandem (built with -DTANDEM_PLUGIN_BUILTIN) gets a name of its own,
 * tandem_plugin_entry_NAME, listed in tandem's table of built-ins. */
#ifdef TANDEM_PLUGIN_BUILTIN
#define TANDEM_PLUGIN_ENTRY(name) const struct tandem_plugin *tandem_plugin_entry_##name(void)
#else
#define TANDEM_PLUGIN_ENTRY(name)                                                               \
    __attribute__((visibility("default"))) const struct tandem_plugin *tandem_plugin_entry(void)
#endif

#endif
