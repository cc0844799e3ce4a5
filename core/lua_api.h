/* lua_api: the `tandem` module rules see: declarations (program, priorities, on, simulation),
 * queries that read the state, actions that queue commands, and the solver primitives.
 * Everything it gives Lua is a copy: rules never hold a pointer into the state, and they change
 * it only through the commands their actions queue. */
#ifndef TANDEM_LUA_API_H
#define TANDEM_LUA_API_H

#include <lua.h>
#include <cjson/cJSON.h>

#include "rules.h"

/* Installs `tandem` (global and require "tandem"), `require` and `os.time`/`os.date`
 * for program time into r's sandbox. */
void lua_api_open(struct rules *r);

/* Pushes a person's table (sets as {item = true}, attrs in p.attrs): one table per person
 * shared by every call until the person changes (r->people_ref), so a pool of thousands
 * costs no copies. Rules treat it as read-only. */
void lua_api_push_person(lua_State *L, struct rules *r, const struct state *s, int person);

/* Pushes a JSON value as Lua (objects and arrays become tables, null becomes nil). */
void lua_api_push_json(lua_State *L, const cJSON *v);

/* Converts the Lua value at idx to JSON: tables with keys 1..n are arrays, tables with string
 * keys objects; nested at most 32 deep; no functions, no NaN. Returns NULL and a reason in
 * why when it cannot. The caller owns the result. */
cJSON *lua_api_to_json(lua_State *L, int idx, char *why, size_t why_len);

/* Loads module `name` ("models.one_to_one") from the rule file's folder, then the shipped
 * rules folder, once per state; pushes its value. On failure raises a Lua error. */
void lua_api_require(lua_State *L, struct rules *r, const char *name);

#endif
