/* lua_x: tandem.plugin and tandem.x. A plugin's Lua function is called through one trampoline
 * that turns the arguments into JSON (as actions' fields are, charged to the rule's budget)
 * and the result back into Lua; a refusal becomes a rule error naming the function. */
#include "lua_x.h"

#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>

#include "lua_api_internal.h"

#define X_KEY "tandem.x"   /* registry: the real table behind the read-only tandem.x */
#define PLUGINS_MAX 64

struct xfn {
    tandem_lua_fn fn;
    void *data;
    char name[40];
};

static int x_call(lua_State *L)
{
    const struct xfn *x = lua_touserdata(L, lua_upvalueindex(1));
    int n = lua_gettop(L);
    cJSON *args = cJSON_CreateArray();
    char why[512] = "";
    for (int i = 1; i <= n; i++) {
        cJSON *v = lua_api_to_json(L, i, why, sizeof why);
        if (!v) {
            cJSON_Delete(args);
            return lua_api_raise(L, "tandem.x.%s: argument %d: %s", x->name, i, why);
        }
        cJSON_AddItemToArray(args, v);
    }
    cJSON *res = x->fn(x->data, args, why, sizeof why);
    cJSON_Delete(args);
    if (!res) {
        if (why[0])
            return lua_api_raise(L, "tandem.x.%s: %s", x->name, why);
        return 0;
    }
    /* Small (a plugin answers a question, not a data set): pushed well under the cap. */
    lua_api_push_json(L, res);
    cJSON_Delete(res);
    return 1;
}

void lua_x_add(struct rules *r, const char *name, tandem_lua_fn fn, void *data)
{
    lua_State *L = r->sb.L;
    lua_getfield(L, LUA_REGISTRYINDEX, X_KEY);
    struct xfn *x = lua_newuserdatauv(L, sizeof *x, 0);
    x->fn = fn;
    x->data = data;
    snprintf(x->name, sizeof x->name, "%s", name);
    lua_pushcclosure(L, x_call, 1);
    lua_setfield(L, -2, name);
    lua_pop(L, 1);
}

/* tandem.plugin("name" or "path.so", {config, optional = true}): asks for a plugin while the
 * rule file loads; the engine loads it before the rules run. `optional` is tandem's, the rest
 * is the plugin's config. */
static int api_plugin(lua_State *L)
{
    struct rules *r = lua_api_rules(L);
    if (!r->loading)
        return lua_api_raise(L, "tandem.plugin can only be called while the rule file loads");
    const char *name = luaL_checkstring(L, 1);
    if (!*name || strlen(name) > 1024)
        return lua_api_raise(L, "tandem.plugin: a plugin name or path of 1 to 1024 bytes");
    if (!lua_isnoneornil(L, 2))
        luaL_checktype(L, 2, LUA_TTABLE);
    for (int i = 0; i < r->n_plugins; i++)
        if (strcmp(r->plugins[i].name, name) == 0)
            return lua_api_raise(L, "tandem.plugin: %s is asked for twice", name);
    if (r->n_plugins >= PLUGINS_MAX)
        return lua_api_raise(L, "tandem.plugin: more than %d plugins", PLUGINS_MAX);
    char why[200];
    cJSON *config = lua_isnoneornil(L, 2) ? cJSON_CreateObject() : lua_api_to_json(L, 2, why, sizeof why);
    if (!config)
        return lua_api_raise(L, "tandem.plugin: config: %s", why);
    if (!cJSON_IsObject(config)) {
        cJSON_Delete(config);
        return lua_api_raise(L, "tandem.plugin: config must be a table of named fields");
    }
    cJSON *opt = cJSON_DetachItemFromObjectCaseSensitive(config, "optional");
    bool optional = cJSON_IsTrue(opt);
    bool bad = opt && !cJSON_IsBool(opt);
    cJSON_Delete(opt);
    if (bad) {
        cJSON_Delete(config);
        return lua_api_raise(L, "tandem.plugin: optional must be true or false");
    }
    struct rules_plugin *p = realloc(r->plugins, (size_t)(r->n_plugins + 1) * sizeof *p);
    if (!p) {
        cJSON_Delete(config);
        return lua_api_raise(L, "out of memory");
    }
    r->plugins = p;
    p = &r->plugins[r->n_plugins++];
    memset(p, 0, sizeof *p);
    p->name = strdup(name);
    p->config = config;
    p->optional = optional;
    lua_Debug ar;
    if (lua_getstack(L, 1, &ar) && lua_getinfo(L, "Sl", &ar) && ar.source[0] == '@')
        snprintf(p->where, sizeof p->where, "%s:%d", ar.source + 1, ar.currentline);
    else
        snprintf(p->where, sizeof p->where, "%s:0", r->path);
    return 0;
}

void lua_x_open(lua_State *L, struct rules *r)
{
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, api_plugin, 1);
    lua_setfield(L, -2, "plugin");
    lua_newtable(L);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, X_KEY);
    sandbox_protect(&r->sb);
    lua_setfield(L, -2, "x");
}
