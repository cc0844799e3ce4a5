/* plugin: loading in nginx's and Redis's order — dlopen(RTLD_NOW | RTLD_LOCAL), the entry
 * symbol, the ABI number, the build signature, a unique name, and only then open() — so a
 * wrong plugin is refused before any of its code but the entry has run. Built-ins go through
 * the same checks from a static table (Knot Resolver's way). */
#include "plugin.h"

#include <dlfcn.h>
#include <libgen.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tandem/version.h"

/* The plugins shipped with tandem, linked in (plugins/NAME/, built with TANDEM_PLUGIN_BUILTIN). */
const struct tandem_plugin *tandem_plugin_entry_exec(void);
const struct tandem_plugin *tandem_plugin_entry_ics(void);
const struct tandem_plugin *tandem_plugin_entry_sqlite(void);

static const struct {
    const char *name;
    const struct tandem_plugin *(*entry)(void);
} BUILTINS[] = {
    { "exec", tandem_plugin_entry_exec },
    { "ics", tandem_plugin_entry_ics },
    { "sqlite", tandem_plugin_entry_sqlite },
};

struct plugin {
    struct plugins *set;
    const struct tandem_plugin *def;
    void *dl;                 /* the dlopen handle; NULL for a built-in */
    char *request;            /* what it was loaded as (name or path) */
    char *file;               /* the file it came from, or "built-in NAME" */
    void *data;               /* the plugin's own, from open */
    char **types;             /* subscribed event types */
    int n_types;
    bool all;                 /* subscribed to "*" */
    bool open;
    long long seen;           /* seq of the last event it was shown */
};

struct plugins {
    struct plugin **v;
    int n;
    struct plugin_lua_fn *fns;
    int n_fns;
    struct plugin_backend be;
    struct tandem_host host;
};

static void vlog(struct plugins *ps, const char *name, const char *fmt, va_list ap)
{
    FILE *out = ps->be.log ? ps->be.log : stderr;
    fprintf(out, "tandem: plugin %s: ", name);
    vfprintf(out, fmt, ap);
    fputc('\n', out);
    fflush(out);
}

void plugins_log(struct plugins *ps, const char *name, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vlog(ps, name, fmt, ap);
    va_end(ap);
}

/* ---- the host table ---- */

static struct plugin *P(tandem_ctx *ctx)
{
    return (struct plugin *)ctx;
}

static void host_log(tandem_ctx *ctx, enum tandem_log_level level, const char *fmt, ...)
{
    struct plugin *p = P(ctx);
    static const char *const prefix[] = { "error: ", "warning: ", "" };
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    unsigned l = (unsigned)level;
    plugins_log(p->set, p->def->name, "%s%s", l < 3 ? prefix[l] : "", buf);
}

static bool type_valid(const char *t)
{
    if (!t || !*t || strlen(t) > 32)
        return false;
    if (strcmp(t, "*") == 0)
        return true;
    for (; *t; t++)
        if (!((*t >= 'a' && *t <= 'z') || *t == '.' || *t == '_'))
            return false;
    return true;
}

static int host_subscribe(tandem_ctx *ctx, const char *type)
{
    struct plugin *p = P(ctx);
    if (!type_valid(type))
        return TANDEM_EREFUSED;
    if (strcmp(type, "*") == 0) {
        p->all = true;
        return TANDEM_OK;
    }
    for (int i = 0; i < p->n_types; i++)
        if (strcmp(p->types[i], type) == 0)
            return TANDEM_OK;
    char **t = realloc(p->types, (size_t)(p->n_types + 1) * sizeof *t);
    if (!t)
        return TANDEM_EFAILED;
    p->types = t;
    if (!(t[p->n_types] = strdup(type)))
        return TANDEM_EFAILED;
    p->n_types++;
    return TANDEM_OK;
}

static int host_submit(tandem_ctx *ctx, const cJSON *cmd, char *why, size_t why_len)
{
    struct plugin *p = P(ctx);
    char dummy[8];
    if (!why) {
        why = dummy;
        why_len = sizeof dummy;
    }
    why[0] = '\0';
    if (!cJSON_IsObject(cmd)) {
        snprintf(why, why_len, "a command is a JSON object");
        return TANDEM_EREFUSED;
    }
    return p->set->be.submit(p->set->be.ctx, p->def->name, cmd, why, why_len);
}

static bool fn_name_valid(const char *s)
{
    if (!s || !(*s >= 'a' && *s <= 'z') || strlen(s) > 32)
        return false;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
            return false;
    return true;
}

static int host_lua_register(tandem_ctx *ctx, const char *name, tandem_lua_fn fn, void *data)
{
    struct plugin *p = P(ctx);
    struct plugins *ps = p->set;
    if (!fn_name_valid(name) || !fn) {
        plugins_log(ps, p->def->name, "error: tandem.x.%s: a name is [a-z][a-z0-9_]{0,31}", name ? name : "(null)");
        return TANDEM_EREFUSED;
    }
    for (int i = 0; i < ps->n_fns; i++)
        if (strcmp(ps->fns[i].name, name) == 0) {
            plugins_log(ps, p->def->name, "error: tandem.x.%s is registered already", name);
            return TANDEM_EREFUSED;
        }
    struct plugin_lua_fn *f = realloc(ps->fns, (size_t)(ps->n_fns + 1) * sizeof *f);
    if (!f)
        return TANDEM_EFAILED;
    ps->fns = f;
    f = &ps->fns[ps->n_fns++];
    snprintf(f->name, sizeof f->name, "%s", name);
    f->fn = fn;
    f->data = data;
    return TANDEM_OK;
}

static cJSON *host_query(tandem_ctx *ctx, const char *what, const cJSON *args)
{
    struct plugin *p = P(ctx);
    return what ? p->set->be.query(p->set->be.ctx, what, args) : NULL;
}

static struct uv_loop_s *host_loop(tandem_ctx *ctx)
{
    struct plugin *p = P(ctx);
    return p->set->be.loop(p->set->be.ctx);
}

/* Events replayed for a plugin count as seen: event() never gets them twice. */
struct replay_ctx {
    struct plugin *p;
    tandem_event_fn fn;
    void *data;
};

static void replay_one(void *ctx, const cJSON *event)
{
    struct replay_ctx *r = ctx;
    long long seq = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(event, "seq"));
    if (seq > r->p->seen)
        r->p->seen = seq;
    r->fn(r->data, event);
}

static int host_replay(tandem_ctx *ctx, long long after_seq, tandem_event_fn fn, void *data)
{
    struct plugin *p = P(ctx);
    if (!fn)
        return TANDEM_EREFUSED;
    struct replay_ctx r = { p, fn, data };
    return p->set->be.replay(p->set->be.ctx, after_seq, replay_one, &r);
}

static bool host_simulating(tandem_ctx *ctx)
{
    return P(ctx)->set->be.simulating;
}

static long long host_now(tandem_ctx *ctx)
{
    struct plugin *p = P(ctx);
    return p->set->be.now(p->set->be.ctx);
}

static const char *host_state_dir(tandem_ctx *ctx)
{
    return P(ctx)->set->be.state_dir;
}

static int host_run_once(tandem_ctx *ctx)
{
    struct plugin *p = P(ctx);
    return p->set->be.run_once(p->set->be.ctx);
}

struct plugins *plugins_new(const struct plugin_backend *be)
{
    struct plugins *ps = calloc(1, sizeof *ps);
    if (!ps)
        return NULL;
    ps->be = *be;
    ps->host = (struct tandem_host){
        .abi = TANDEM_PLUGIN_ABI,
        .size = sizeof(struct tandem_host),
        .version = TANDEM_VERSION,
        .log = host_log,
        .subscribe = host_subscribe,
        .submit = host_submit,
        .lua_register = host_lua_register,
        .query = host_query,
        .loop = host_loop,
        .replay = host_replay,
        .simulating = host_simulating,
        .now = host_now,
        .state_dir = host_state_dir,
        .run_once = host_run_once,
    };
    return ps;
}

/* ---- finding and loading ---- */

static bool is_path(const char *what)
{
    size_t n = strlen(what);
    return strchr(what, '/') || (n > 3 && strcmp(what + n - 3, ".so") == 0);
}

static bool readable(const char *path)
{
    return access(path, R_OK) == 0;
}

/* NAME.so on TANDEM_PLUGIN_PATH, then in PREFIX/lib/tandem/plugins (the binary in PREFIX/bin). */
static bool search(const char *name, char *out, size_t len)
{
    const char *env = getenv("TANDEM_PLUGIN_PATH");
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir; dir = strtok_r(NULL, ":", &save)) {
            snprintf(out, len, "%s/%s.so", dir, name);
            if (readable(out)) {
                free(copy);
                return true;
            }
        }
        free(copy);
    }
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = '\0';
        snprintf(out, len, "%s/../lib/tandem/plugins/%s.so", dirname(exe), name);
        if (readable(out))
            return true;
    }
    return false;
}

static bool name_valid(const char *s)
{
    return fn_name_valid(s);
}

static void plugin_free(struct plugin *p)
{
    if (!p)
        return;
    for (int i = 0; i < p->n_types; i++)
        free(p->types[i]);
    free(p->types);
    if (p->dl)
        dlclose(p->dl);
    free(p->request);
    free(p->file);
    free(p);
}

/* The checks every plugin passes, built-in or not, before its open runs. */
static int check(struct plugins *ps, const struct tandem_plugin *def, const char *file, struct error *err)
{
    if (!def)
        return error_set(err, ERR_INPUT, file, 0, "tandem_plugin_entry returned NULL");
    if (def->abi != TANDEM_PLUGIN_ABI)
        return error_set(err, ERR_INPUT, file, 0,
                         "plugin ABI %d, but this tandem (%s) speaks plugin ABI %d: rebuild the plugin "
                         "against this tandem's tandem/plugin.h",
                         def->abi, TANDEM_VERSION, TANDEM_PLUGIN_ABI);
    if (!def->signature || strcmp(def->signature, TANDEM_PLUGIN_SIGNATURE) != 0)
        return error_set(err, ERR_INPUT, file, 0,
                         "build signature \"%s\", but this tandem's is \"%s\": rebuild the plugin",
                         def->signature ? def->signature : "(none)", TANDEM_PLUGIN_SIGNATURE);
    if (!name_valid(def->name))
        return error_set(err, ERR_INPUT, file, 0, "plugin name \"%s\" is not [a-z][a-z0-9_]{0,31}",
                         def->name ? def->name : "(null)");
    if (!def->open || !def->close)
        return error_set(err, ERR_INPUT, file, 0, "plugin %s has no open or no close function", def->name);
    for (int i = 0; i < ps->n; i++)
        if (strcmp(ps->v[i]->def->name, def->name) == 0)
            return error_set(err, ERR_INPUT, file, 0, "a plugin named %s is loaded already (from %s)", def->name,
                             ps->v[i]->file);
    return 0;
}

static int start(struct plugins *ps, struct plugin *p, const struct tandem_plugin *def, const char *path,
                 const cJSON *config, struct error *err);

int plugins_load(struct plugins *ps, const char *what, const cJSON *config, struct error *err)
{
    struct plugin *p = calloc(1, sizeof *p);
    if (!p)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    p->set = ps;
    p->request = strdup(what);
    const struct tandem_plugin *def = NULL;
    char path[PATH_MAX + 64];
    int rc;
    bool builtin = false;
    if (!is_path(what))
        for (size_t i = 0; i < sizeof BUILTINS / sizeof *BUILTINS; i++)
            if (strcmp(BUILTINS[i].name, what) == 0) {
                snprintf(path, sizeof path, "built-in %s", what);
                def = BUILTINS[i].entry();
                builtin = true;
            }
    if (!builtin) {
        if (is_path(what)) {
            snprintf(path, sizeof path, "%s", what);
        } else if (!search(what, path, sizeof path)) {
            rc = error_set(err, ERR_INPUT, NULL, 0,
                           "plugin %s: no built-in of that name and no %s.so on TANDEM_PLUGIN_PATH or in "
                           "PREFIX/lib/tandem/plugins",
                           what, what);
            goto refused;
        }
        if (!readable(path)) {
            rc = error_set(err, ERR_INPUT, path, 0, "cannot read the plugin");
            goto refused;
        }
        /* A plugin must not bind its symbols to another's (LOCAL), and an unresolved symbol must
         * fail here, not at the first call (NOW). */
        dlerror();
        if (!(p->dl = dlopen(path, RTLD_NOW | RTLD_LOCAL))) {
            const char *why = dlerror();
            rc = error_set(err, ERR_INPUT, path, 0, "cannot load the plugin: %s", why ? why : "dlopen failed");
            goto refused;
        }
        void *sym = dlsym(p->dl, "tandem_plugin_entry");
        if (!sym) {
            rc = error_set(err, ERR_INPUT, path, 0,
                           "not a tandem plugin: no tandem_plugin_entry symbol (declare it with "
                           "TANDEM_PLUGIN_ENTRY from tandem/plugin.h)");
            goto refused;
        }
        const struct tandem_plugin *(*entry)(void);
        memcpy(&entry, &sym, sizeof entry);   /* ISO C has no object-to-function pointer cast */
        def = entry();
    }
    return start(ps, p, def, path, config, err);
refused:
    plugin_free(p);
    return rc;
}

int plugins_add(struct plugins *ps, const struct tandem_plugin *def, const char *file, const cJSON *config,
                struct error *err)
{
    struct plugin *p = calloc(1, sizeof *p);
    if (!p)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    p->set = ps;
    p->request = strdup(file);
    return start(ps, p, def, file, config, err);
}

/* The checks, then open; p (and its dlopen handle) is freed when the plugin is refused. */
static int start(struct plugins *ps, struct plugin *p, const struct tandem_plugin *def, const char *path,
                 const cJSON *config, struct error *err)
{
    int rc;
    p->file = strdup(path);
    if ((rc = check(ps, def, path, err)) < 0)
        goto refused;
    p->def = def;
    /* A consumer that went away must give its writer EPIPE, not kill the engine. */
    signal(SIGPIPE, SIG_IGN);
    cJSON *empty = config ? NULL : cJSON_CreateObject();
    char why[512] = "";
    int fns_before = ps->n_fns;
    int orc = def->open((tandem_ctx *)p, &ps->host, config ? config : empty, &p->data, why, sizeof why);
    cJSON_Delete(empty);
    if (orc != TANDEM_OK) {
        ps->n_fns = fns_before;   /* forget the Lua functions a failed open registered */
        rc = error_set(err, ERR_INPUT, path, 0, "plugin %s failed to open: %s", def->name,
                       why[0] ? why : "(no reason given)");
        goto refused;
    }
    p->open = true;
    struct plugin **v = realloc(ps->v, (size_t)(ps->n + 1) * sizeof *v);
    if (!v) {
        def->close(p->data);
        p->open = false;
        rc = error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
        goto refused;
    }
    ps->v = v;
    ps->v[ps->n++] = p;
    return 0;
refused:
    plugin_free(p);
    return rc;
}

bool plugins_has(const struct plugins *ps, const char *what)
{
    for (int i = 0; ps && i < ps->n; i++)
        if (strcmp(ps->v[i]->def->name, what) == 0 || strcmp(ps->v[i]->request, what) == 0)
            return true;
    return false;
}

int plugins_count(const struct plugins *ps)
{
    return ps ? ps->n : 0;
}

static bool wants(const struct plugin *p, const char *type)
{
    if (p->all)
        return true;
    for (int i = 0; i < p->n_types; i++)
        if (strcmp(p->types[i], type) == 0)
            return true;
    return false;
}

void plugins_deliver(struct plugins *ps, const cJSON *event)
{
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(event, "type");
    long long seq = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(event, "seq"));
    if (!cJSON_IsString(t))
        return;
    for (int i = 0; i < ps->n; i++) {
        struct plugin *p = ps->v[i];
        if (!p->open || seq <= p->seen)
            continue;
        p->seen = seq;
        if (p->def->event && wants(p, t->valuestring))
            p->def->event(p->data, event);
    }
}

void plugins_flush(struct plugins *ps)
{
    for (int i = 0; i < ps->n; i++)
        if (ps->v[i]->open && ps->v[i]->def->flush)
            ps->v[i]->def->flush(ps->v[i]->data);
}

const struct plugin_lua_fn *plugins_lua_fns(const struct plugins *ps, int *n)
{
    *n = ps ? ps->n_fns : 0;
    return ps ? ps->fns : NULL;
}

void plugins_close(struct plugins *ps)
{
    if (!ps)
        return;
    ps->n_fns = 0;   /* their data goes with the plugins */
    for (int i = ps->n - 1; i >= 0; i--) {
        struct plugin *p = ps->v[i];
        if (p->open) {
            p->open = false;
            p->def->close(p->data);
        }
    }
}

void plugins_free(struct plugins *ps)
{
    if (!ps)
        return;
    plugins_close(ps);
    for (int i = 0; i < ps->n; i++)
        plugin_free(ps->v[i]);
    free(ps->v);
    free(ps->fns);
    free(ps);
}
