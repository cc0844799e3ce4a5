/* lua_x: what plugins add to the rules' `tandem` module: the tandem.plugin("name", {config})
 * declaration, and tandem.x, the table of functions plugins offer (tandem.x.NAME(...)). A
 * plugin's function sees JSON, never the Lua state, so it cannot reach around the sandbox. */
#ifndef TANDEM_LUA_X_H
#define TANDEM_LUA_X_H

#include <lua.h>

#include "rules.h"
#include "tandem/plugin.h"

/* Adds `plugin` and the (read-only) `x` table to the module table on top of L's stack. */
void lua_x_open(lua_State *L, struct rules *r);

/* Offers fn as tandem.x.name in r's sandbox (replacing one of the same name). */
void lua_x_add(struct rules *r, const char *name, tandem_lua_fn fn, void *data);

#endif
