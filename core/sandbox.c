/* sandbox: the Lua state rules run in, after Suricata's design: a capped allocator, a count
 * hook with a per-call budget that re-arms itself once tripped (so a rule's pcall cannot
 * swallow the limit, as Redis does), only safe libraries, and stubs for what is left out. */
#include "sandbox.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <lauxlib.h>
#include <lualib.h>

#define HOOK_EVERY 1000
/* The most backtracking steps a pattern call may be estimated to take; see pattern_check. */
#define PATTERN_LIMIT 1e8

static const char PROTECTED_KEY[] = "tandem.protected";
static const char *const TRIP_TEXT[] = { "", "instruction budget exceeded", "memory cap exceeded" };

static struct sandbox *sb_of(lua_State *L)
{
    return *(struct sandbox **)lua_getextraspace(L);
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct sandbox *sb = ud;
    if (ptr == NULL)
        osize = 0;   /* for a new block osize encodes its type, not a size */
    if (nsize == 0) {
        free(ptr);
        sb->mem_used -= osize;
        return NULL;
    }
    if (nsize > osize && sb->mem_used + (nsize - osize) > sb->mem_cap) {
        if (sb->tripped == TRIP_NONE)
            sb->tripped = TRIP_MEMORY;
        return NULL;
    }
    void *n = realloc(ptr, nsize);
    if (n == NULL)
        return NULL;
    sb->mem_used = sb->mem_used - osize + nsize;
    return n;
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct sandbox *sb = sb_of(L);
    if (sb->tripped == TRIP_NONE) {
        if (lua_gethookcount(L) != HOOK_EVERY) {
            /* Re-armed by an earlier trip on this coroutine: back to the normal pace. */
            lua_sethook(L, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
            return;
        }
        sb->used += HOOK_EVERY;
        if (sb->used <= sb->budget)
            return;
        sb->tripped = TRIP_INSTRUCTIONS;
    }
    /* Fire on every instruction from now on, so a pcall in the rule cannot go on. */
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
    luaL_error(L, "%s", TRIP_TEXT[sb->tripped]);
}

void sandbox_hook_thread(struct sandbox *sb, lua_State *co)
{
    (void)sb;
    lua_sethook(co, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

void sandbox_reset(struct sandbox *sb, long long budget)
{
    sb->used = 0;
    sb->budget = budget;
    sb->tripped = TRIP_NONE;
    lua_sethook(sb->L, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
}

/* ---- replacements for what the standard libraries would let a rule do ---- */

static int sb_forbidden(lua_State *L)
{
    return luaL_error(L, "%s is not available to rules", lua_tostring(L, lua_upvalueindex(1)));
}

static int sb_load(lua_State *L)
{
    /* load(chunk [, chunkname [, mode [, env]]]) with mode forced to text. */
    int top = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 1);
    if (top >= 2) lua_pushvalue(L, 2); else lua_pushnil(L);
    lua_pushliteral(L, "t");
    if (top >= 4) lua_pushvalue(L, 4); else lua_pushglobaltable(L);
    lua_call(L, 4, LUA_MULTRET);
    return lua_gettop(L) - top;
}

static int sb_print(lua_State *L)
{
    int n = lua_gettop(L);
    fputs("rules:", stderr);
    for (int i = 1; i <= n; i++)
        fprintf(stderr, " %s", luaL_tolstring(L, i, NULL));
    fputc('\n', stderr);
    return 0;
}

static bool is_protected(lua_State *L, int idx)
{
    idx = lua_absindex(L, idx);
    lua_getfield(L, LUA_REGISTRYINDEX, PROTECTED_KEY);
    lua_pushvalue(L, idx);
    bool p = lua_rawget(L, -2) != LUA_TNIL;
    lua_pop(L, 2);
    return p;
}

static int sb_rawset(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    if (is_protected(L, 1))
        return luaL_error(L, "this table is read-only");
    luaL_checkany(L, 2);
    luaL_checkany(L, 3);
    lua_settop(L, 3);
    lua_rawset(L, 1);
    return 1;
}

static int sb_setmetatable(lua_State *L)
{
    if (lua_istable(L, 2) && lua_getfield(L, 2, "__gc") != LUA_TNIL)
        return luaL_error(L, "__gc metamethods are not available to rules");
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, 2, 1);
    return 1;
}

static int sb_cocreate(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TFUNCTION);
    lua_State *co = lua_newthread(L);
    sandbox_hook_thread(sb_of(L), co);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return 1;
}

/* Lua's matcher runs in C, out of reach of the count hook: a backtracking pattern on a
 * short subject can run for minutes. Estimate the worst case before running it: each
 * unbounded quantifier can try every position of the subject, and an unanchored search
 * tries every start. Refuse when that estimate passes PATTERN_LIMIT. */
static void pattern_check(lua_State *L, int subject, int pattern, bool plain_allowed)
{
    size_t n, plen;
    luaL_checklstring(L, subject, &n);
    const char *p = luaL_checklstring(L, pattern, &plen);
    if (plain_allowed && lua_toboolean(L, 4))
        return;   /* string.find(s, p, init, true): no pattern at all */
    double cost = 1, len = (double)n + 1;
    bool anchored = plen > 0 && p[0] == '^';
    for (size_t i = anchored; i < plen; i++) {
        if (p[i] == '%') {
            i++;
        } else if (p[i] == '[') {
            for (i++; i < plen && p[i] != ']'; i++)
                if (p[i] == '%')
                    i++;
        } else if (p[i] == '*' || p[i] == '+' || p[i] == '-') {
            cost *= len;
        } else if (p[i] == '?') {
            cost *= 2;
        }
    }
    if (!anchored)
        cost *= len;
    if (cost > PATTERN_LIMIT)
        luaL_error(L, "pattern too complex for a subject of %d bytes (it could backtrack for minutes)",
                   (int)n);
}

static int sb_pattern_call(lua_State *L, bool plain_allowed)
{
    pattern_check(L, 1, 2, plain_allowed);
    int top = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, top, LUA_MULTRET);
    return lua_gettop(L);
}

static int sb_find(lua_State *L) { return sb_pattern_call(L, true); }
static int sb_other_pattern(lua_State *L) { return sb_pattern_call(L, false); }

static void wrap_field(lua_State *L, const char *name, lua_CFunction fn)
{
    lua_getfield(L, -1, name);
    lua_pushcclosure(L, fn, 1);
    lua_setfield(L, -2, name);
}

static void forbid(lua_State *L, int table, const char *field, const char *shown)
{
    table = lua_absindex(L, table);
    lua_pushstring(L, shown);
    lua_pushcclosure(L, sb_forbidden, 1);
    lua_setfield(L, table, field);
}

static const char PRELUDE[] =
    "local create, resume = coroutine.create, coroutine.resume\n"
    "local pack, unpack = table.pack, table.unpack\n"
    "coroutine.wrap = function(f)\n"
    "  local co = create(f)\n"
    "  return function(...)\n"
    "    local r = pack(resume(co, ...))\n"
    "    if not r[1] then error(r[2], 0) end\n"
    "    return unpack(r, 2, r.n)\n"
    "  end\n"
    "end\n";

static int proxy_next(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 2);
    if (lua_next(L, 1))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* pairs(proxy) walks the real table. */
static int proxy_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_pushcfunction(L, proxy_next);
    lua_getfield(L, -2, "__index");
    lua_pushnil(L);
    return 3;
}

static int proxy_newindex(lua_State *L)
{
    return luaL_error(L, "attempt to change a read-only library (field '%s')", luaL_tolstring(L, 2, NULL));
}

void sandbox_protect(struct sandbox *sb)
{
    lua_State *L = sb->L;
    lua_getfield(L, LUA_REGISTRYINDEX, PROTECTED_KEY);
    lua_newtable(L);                         /* the proxy */
    lua_pushvalue(L, -1);
    lua_pushboolean(L, 1);
    lua_rawset(L, -4);                       /* protected[proxy] = true */
    lua_newtable(L);                         /* its metatable */
    lua_pushvalue(L, -4);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, proxy_newindex);
    lua_setfield(L, -2, "__newindex");
    lua_pushcfunction(L, proxy_pairs);
    lua_setfield(L, -2, "__pairs");
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_setmetatable(L, -2);
    lua_remove(L, -2);                       /* the registry set */
    lua_remove(L, -2);                       /* the real table */
}

int sandbox_open(struct sandbox *sb, size_t mem_cap)
{
    memset(sb, 0, sizeof *sb);
    sb->mem_cap = mem_cap ? mem_cap : SANDBOX_DEFAULT_MEMORY;
    sb->budget = SANDBOX_DEFAULT_BUDGET;
    lua_State *L = lua_newstate(sb_alloc, sb);
    if (!L)
        return -ENOMEM;
    sb->L = L;
    *(struct sandbox **)lua_getextraspace(L) = sb;

    static const luaL_Reg libs[] = {
        { LUA_GNAME, luaopen_base },         { LUA_TABLIBNAME, luaopen_table },
        { LUA_STRLIBNAME, luaopen_string },  { LUA_MATHLIBNAME, luaopen_math },
        { LUA_UTF8LIBNAME, luaopen_utf8 },   { LUA_COLIBNAME, luaopen_coroutine },
        { NULL, NULL },
    };
    for (const luaL_Reg *lib = libs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
    lua_newtable(L);
    lua_newtable(L);
    lua_pushliteral(L, "k");
    lua_setfield(L, -2, "__mode");
    lua_setmetatable(L, -2);
    lua_setfield(L, LUA_REGISTRYINDEX, PROTECTED_KEY);

    lua_pushglobaltable(L);
    forbid(L, -1, "dofile", "dofile");
    forbid(L, -1, "loadfile", "loadfile");
    forbid(L, -1, "collectgarbage", "collectgarbage");
    wrap_field(L, "load", sb_load);
    wrap_field(L, "setmetatable", sb_setmetatable);
    lua_pushcfunction(L, sb_rawset);
    lua_setfield(L, -2, "rawset");
    lua_pushcfunction(L, sb_print);
    lua_setfield(L, -2, "print");
    for (const char *const *name = (const char *const[]){ "io", "os", "debug", "package", NULL }; *name; name++) {
        lua_pushnil(L);
        lua_setfield(L, -2, *name);
    }
    lua_pop(L, 1);

    lua_getglobal(L, LUA_STRLIBNAME);
    forbid(L, -1, "dump", "string.dump");
    wrap_field(L, "find", sb_find);
    wrap_field(L, "match", sb_other_pattern);
    wrap_field(L, "gmatch", sb_other_pattern);
    wrap_field(L, "gsub", sb_other_pattern);
    lua_pop(L, 1);

    lua_getglobal(L, LUA_COLIBNAME);
    lua_pushnil(L);
    lua_setfield(L, -2, "close");       /* 5.4.4 segfaults on long close chains */
    lua_pushcfunction(L, sb_cocreate);
    lua_setfield(L, -2, "create");
    lua_pop(L, 1);
    if (luaL_dostring(L, PRELUDE) != LUA_OK) {
        lua_close(L);
        return -ENOMEM;
    }

    /* Strings share one metatable: hide it so a rule cannot repoint every string method. */
    lua_pushliteral(L, "");
    lua_getmetatable(L, -1);
    lua_pushboolean(L, 0);
    lua_setfield(L, -2, "__metatable");
    lua_pop(L, 2);

    /* The standard libraries are seen read-only. */
    static const char *const shared_libs[] = { LUA_STRLIBNAME, LUA_TABLIBNAME, LUA_MATHLIBNAME,
                                               LUA_UTF8LIBNAME, LUA_COLIBNAME, NULL };
    for (const char *const *name = shared_libs; *name; name++) {
        lua_getglobal(L, *name);
        sandbox_protect(sb);
        lua_setglobal(L, *name);
    }
    sandbox_reset(sb, SANDBOX_DEFAULT_BUDGET);
    return 0;
}

void sandbox_close(struct sandbox *sb)
{
    if (sb->L)
        lua_close(sb->L);
    sb->L = NULL;
}

/* Finds the innermost Lua frame for FILE:LINE and adds a traceback. */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_Debug ar;
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0 && ar.source[0] == '@') {
            lua_pushfstring(L, "%s:%d", ar.source + 1, ar.currentline);
            lua_setfield(L, LUA_REGISTRYINDEX, "tandem.where");
            break;
        }
    }
    luaL_traceback(L, L, msg, 1);
    return 1;
}

/* Drops Lua's own "chunk:line: " prefix (its chunk names are cut at 60 bytes). */
static void strip_position(lua_State *L)
{
    const char *m = lua_tostring(L, -1);
    if (!m)
        return;
    for (const char *c = strchr(m, ':'); c; c = strchr(c + 1, ':')) {
        const char *d = c + 1;
        while (*d >= '0' && *d <= '9')
            d++;
        if (d > c + 1 && d[0] == ':' && d[1] == ' ') {
            lua_pushstring(L, d + 2);
            lua_remove(L, -2);
            return;
        }
        if (c - m > 80)
            return;
    }
}

int sandbox_call(struct sandbox *sb, int nargs, int nresults, char *where, size_t where_len)
{
    lua_State *L = sb->L;
    int base = lua_gettop(L) - nargs;
    lua_pushnil(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "tandem.where");
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    int rc = lua_pcall(L, nargs, nresults, base);
    lua_remove(L, base);
    if (where)
        where[0] = '\0';
    if (rc == LUA_OK)
        return rc;
    if (where) {
        lua_getfield(L, LUA_REGISTRYINDEX, "tandem.where");
        snprintf(where, where_len, "%s", lua_isstring(L, -1) ? lua_tostring(L, -1) : "");
        lua_pop(L, 1);
    }
    if (sb->tripped != TRIP_NONE) {
        lua_pop(L, 1);
        lua_pushstring(L, TRIP_TEXT[sb->tripped]);
        /* Let the state breathe again: the hook back to its pace, garbage collected. */
        sandbox_reset(sb, sb->budget);
        lua_gc(L, LUA_GCCOLLECT);
    } else {
        /* Keep the first line of the message (the traceback follows), without position. */
        const char *m = lua_tostring(L, -1);
        const char *nl = m ? strchr(m, '\n') : NULL;
        if (nl) {
            lua_pushlstring(L, m, (size_t)(nl - m));
            lua_remove(L, -2);
        }
        strip_position(L);
    }
    return rc;
}

int sandbox_loadfile(struct sandbox *sb, const char *path)
{
    lua_State *L = sb->L;
    FILE *f = fopen(path, "rb");
    if (!f) {
        lua_pushfstring(L, "%s: cannot open: %s", path, strerror(errno));
        return LUA_ERRFILE;
    }
    luaL_Buffer b;
    luaL_buffinit(L, &b);
    char chunk[8192];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        luaL_addlstring(&b, chunk, n);
    bool failed = ferror(f);
    fclose(f);
    luaL_pushresult(&b);
    if (failed) {
        lua_pop(L, 1);
        lua_pushfstring(L, "%s: cannot read", path);
        return LUA_ERRFILE;
    }
    size_t len;
    const char *text = lua_tolstring(L, -1, &len);
    lua_pushfstring(L, "@%s", path);
    int rc = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
    lua_remove(L, -2);   /* chunkname */
    lua_remove(L, -2);   /* text */
    if (rc != LUA_OK) {
        /* Lua says "<chunk cut at 60 bytes>:LINE: reason"; name the whole path instead. */
        const char *m = lua_tostring(L, -1);
        const char *c = m ? strstr(m, ":") : NULL;
        int line = 0;
        const char *rest = m;
        while (c) {
            char *end;
            long v = strtol(c + 1, &end, 10);
            if (end > c + 1 && end[0] == ':' && end[1] == ' ') {
                line = (int)v;
                rest = end + 2;
                break;
            }
            c = strchr(c + 1, ':');
        }
        if (line > 0)
            lua_pushfstring(L, "%s:%d: %s", path, line, rest);
        else if (strstr(m ? m : "", "binary chunk"))
            lua_pushfstring(L, "%s: a rule file must be Lua text, not a compiled chunk", path);
        else
            lua_pushfstring(L, "%s: %s", path, m ? m : "cannot load");
        lua_remove(L, -2);
    }
    return rc;
}
