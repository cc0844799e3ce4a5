/* lua_api_internal: what the tandem module's C files (lua_api.c, lua_solve.c) share.
 * Not a door for other rooms. */
#ifndef TANDEM_LUA_API_INTERNAL_H
#define TANDEM_LUA_API_INTERNAL_H

#include <lua.h>

#include "lua_api.h"

/* The rules a module function belongs to (its first upvalue). */
struct rules *lua_api_rules(lua_State *L);
/* The state the call may read; raises when there is none (while the rule file loads). */
const struct state *lua_api_state(lua_State *L);
/* Raises msg as is: the sandbox's message handler adds the rule's FILE:LINE. Never returns. */
int lua_api_raise(lua_State *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The person index of a person table (its id) or id string at idx, or -1. */
int lua_api_person_arg(lua_State *L, const struct state *s, int idx);
/* A string field of the table at t, or NULL (also when t is not a table). */
const char *lua_api_opt_field(lua_State *L, int t, const char *k);

/* lua_solve.c: pushes the tandem.solve table (assign, pairs, groups, rounds). */
void lua_solve_push(lua_State *L, struct rules *r);

#endif
