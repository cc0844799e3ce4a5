/* sandbox: the Lua state rules run in, after Suricata's design: a capped allocator, a count
 * hook with a per-call budget that re-arms itself once tripped (so a rule's pcall cannot
 * swallow the limit, as Redis does), only safe libraries, and stubs for what is left out.
 * C functions whose cost the count hook cannot see (pattern matching, counted loops) are
 * wrapped so that their work is estimated first, refused when absurd, and charged. */
#include "sandbox.h"
#include "smallpool.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <lauxlib.h>
#include <lualib.h>

#define HOOK_EVERY 1000
/* A new coroutine's first hook comes sooner: it may end before a full period and its count
 * would be lost, so creating one is charged this much up front. */
#define HOOK_FIRST 100
/* The most backtracking steps a pattern call may be estimated to take; see pattern_cost. */
#define PATTERN_LIMIT 1e8
/* Rates at which C work is charged to the budget, in budget units (about one VM instruction). */
#define BYTES_PER_UNIT 64          /* allocation */
#define PATTERN_STEPS_PER_UNIT 64  /* estimated matcher steps */
#define REP_PER_UNIT 16            /* string.rep copies */
#define PUSHES_PER_UNIT 4          /* values table.unpack or string.byte push */
/* Once a limit has tripped, only allocations this small go through: enough for the error
 * message and its traceback, not for more work. */
#define TRIPPED_SLACK (64u << 10)
/* Wall-clock backstop: a call may take this long per budget unit, and at least the minimum.
 * Far above what the budget needs, so only work no count sees (comparing two long strings in
 * a loop, say) ever meets it. */
#define NS_PER_UNIT 1000.0
#define MIN_SECONDS 1.0
/* Rule files larger than this are refused before parsing. */
#define SOURCE_MAX (16u << 20)

static const char PROTECTED_KEY[] = "tandem.protected";
static const char *const TRIP_TEXT[] = { "", "instruction budget exceeded", "memory cap exceeded",
                                         "time limit exceeded" };

static struct sandbox *sb_of(lua_State *L)
{
    return *(struct sandbox **)lua_getextraspace(L);
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *sb_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    struct sandbox *sb = ud;
    size_t old = ptr ? osize : 0;   /* for a new block osize encodes its type, not a size */
    if (nsize == 0) {
        smallpool_realloc(sb->pool, ptr, old, 0, sb->mem_cap);
        sb->mem_used -= old;
        return NULL;
    }
    if (nsize > old && sb->in_call > 0) {
        /* After a refusal Lua runs a full collection and asks again for the same block
         * (luaM_); only a second refusal means the rules really hold that much, so garbage
         * near the cap is collected, not fatal. lauxlib's buffers (string.rep, concat, gsub)
         * never ask again: when the next request is another one, the refusal was final. */
        bool retry = sb->refused.nsize != 0 && sb->refused.ptr == ptr && sb->refused.osize == osize &&
                     sb->refused.nsize == nsize;
        if (sb->refused.nsize != 0 && !retry && sb->tripped == TRIP_NONE)
            sb->tripped = TRIP_MEMORY;
        sb->refused.nsize = 0;
        size_t grow = nsize - old;
        if (sb->tripped != TRIP_NONE && grow > TRIPPED_SLACK)
            return NULL;
        if (sb->mem_used + grow > sb->mem_cap) {
            if (retry) {
                if (sb->tripped == TRIP_NONE)
                    sb->tripped = TRIP_MEMORY;
            } else {
                sb->refused.ptr = ptr;
                sb->refused.osize = osize;
                sb->refused.nsize = nsize;
            }
            return NULL;
        }
        sb->used += (long long)(grow / BYTES_PER_UNIT);
        if (sb->used > sb->budget && sb->tripped == TRIP_NONE) {
            sb->tripped = TRIP_INSTRUCTIONS;
            if (grow > TRIPPED_SLACK)
                return NULL;
        }
    }
    void *n = smallpool_realloc(sb->pool, ptr, old, nsize, sb->mem_cap);
    if (n == NULL)
        return NULL;
    sb->mem_used = sb->mem_used - old + nsize;
    return n;
}

static void sb_hook(lua_State *L, lua_Debug *ar);

/* A refusal not yet followed by another request is final once the rule runs on. */
static void settle_refusal(struct sandbox *sb)
{
    if (sb->refused.nsize != 0 && sb->tripped == TRIP_NONE)
        sb->tripped = TRIP_MEMORY;
    sb->refused.nsize = 0;
}

/* Raises the tripped limit and makes the hook fire on every instruction of this thread from
 * now on, so a pcall in the rule cannot go on. */
static int stop(lua_State *L, struct sandbox *sb)
{
    lua_sethook(L, sb_hook, LUA_MASKCOUNT, 1);
    return luaL_error(L, "%s", TRIP_TEXT[sb->tripped]);
}

static void sb_hook(lua_State *L, lua_Debug *ar)
{
    (void)ar;
    struct sandbox *sb = sb_of(L);
    if (sb->in_call == 0)
        return;   /* no protected call to unwind to: never raise here */
    settle_refusal(sb);
    if (sb->tripped == TRIP_NONE) {
        /* The count that just ran out: HOOK_EVERY, HOOK_FIRST on a new coroutine, or 1 left
         * from an earlier trip on this thread; back to the normal pace either way. */
        int ran = lua_gethookcount(L);
        if (ran != HOOK_EVERY)
            lua_sethook(L, sb_hook, LUA_MASKCOUNT, HOOK_EVERY);
        sb->used += ran;
        if (sb->used > sb->budget)
            sb->tripped = TRIP_INSTRUCTIONS;
        else if (now_seconds() > sb->deadline)
            sb->tripped = TRIP_TIME;
        else
            return;
    }
    stop(L, sb);
}

/* Charges C work done for the rule against the budget, as that many instructions. */
static void charge(lua_State *L, double units)
{
    struct sandbox *sb = sb_of(L);
    if (sb->in_call == 0)
        return;
    settle_refusal(sb);
    if (sb->tripped == TRIP_NONE) {
        if (units <= (double)(sb->budget - sb->used)) {
            sb->used += (long long)units;
            return;
        }
        sb->used = sb->budget + 1;
        sb->tripped = TRIP_INSTRUCTIONS;
    }
    stop(L, sb);
}

void sandbox_charge(lua_State *L, double units)
{
    charge(L, units);
}

void sandbox_reset(struct sandbox *sb, long long budget)
{
    sb->used = 0;
    sb->budget = budget;
    sb->tripped = TRIP_NONE;
    sb->refused.nsize = 0;
    double limit = (double)budget * NS_PER_UNIT / 1e9;
    sb->deadline = now_seconds() + (limit > MIN_SECONDS ? limit : MIN_SECONDS);
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
    charge(L, HOOK_FIRST);
    lua_State *co = lua_newthread(L);
    lua_sethook(co, sb_hook, LUA_MASKCOUNT, HOOK_FIRST);
    lua_pushvalue(L, 1);
    lua_xmove(L, co, 1);
    return 1;
}

/* Calls the original function (upvalue 1) with the arguments as given. */
static int call_original(lua_State *L)
{
    int top = lua_gettop(L);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_insert(L, 1);
    lua_call(L, top, LUA_MULTRET);
    return lua_gettop(L);
}

/* Lua's matcher runs in C, out of reach of the count hook: a backtracking pattern on a
 * short subject can run for minutes. Estimate the worst case before running it, in matcher
 * steps: k quantifiers (* + -) can split a subject of n bytes C(n+k, k) ways, each '?' doubles
 * that, %b and back references (%1) scan up to n bytes at every try, every try walks the
 * pattern, and an unanchored search tries every start. gmatch has no anchor: there '^' is a
 * plain character. A literal pattern (or a plain find) is the same sum: starts times length. */
static double pattern_cost(const char *p, size_t plen, size_t n, bool anchor_allowed)
{
    double len = (double)n + 1;
    bool anchored = anchor_allowed && plen > 0 && p[0] == '^';
    double tries = 1, scans = 1;
    int k = 0;
    for (size_t i = anchored; i < plen; i++) {
        if (p[i] == '%') {
            if (++i >= plen)
                break;
            if (p[i] == 'b') {
                i += 2;
                scans *= len;
            } else if (p[i] >= '0' && p[i] <= '9') {
                scans *= len;
            }
        } else if (p[i] == '[') {
            /* As Lua's classEnd: the first character of a set (even ']') belongs to it. */
            size_t j = i + 1;
            if (j < plen && p[j] == '^')
                j++;
            do {
                if (j >= plen)
                    break;
                if (p[j++] == '%' && j < plen)
                    j++;
            } while (j < plen && p[j] != ']');
            i = j;
        } else if (p[i] == '*' || p[i] == '+' || p[i] == '-') {
            k++;
            tries = tries * (len + k) / k;
        } else if (p[i] == '?') {
            tries *= 2;
        }
    }
    return (anchored ? 1 : len) * tries * scans * ((double)plen + 1);
}

enum pattern_fn { PATTERN_FIND, PATTERN_MATCH, PATTERN_GMATCH, PATTERN_GSUB };

static int sb_pattern_call(lua_State *L, enum pattern_fn fn)
{
    size_t n, plen;
    luaL_checklstring(L, 1, &n);
    const char *p = luaL_checklstring(L, 2, &plen);
    double cost;
    if (fn == PATTERN_FIND && lua_toboolean(L, 4))   /* find(s, p, init, true): no pattern */
        cost = plen == 0 || plen > n ? 1 : ((double)n - (double)plen + 1) * (double)plen;
    else
        cost = pattern_cost(p, plen, n, fn != PATTERN_GMATCH);
    if (cost > PATTERN_LIMIT)
        return luaL_error(L, "pattern too complex for a subject of %d bytes (it could backtrack for minutes)",
                          (int)n);
    charge(L, cost / PATTERN_STEPS_PER_UNIT);
    return call_original(L);
}

static int sb_find(lua_State *L) { return sb_pattern_call(L, PATTERN_FIND); }
static int sb_match(lua_State *L) { return sb_pattern_call(L, PATTERN_MATCH); }
static int sb_gmatch(lua_State *L) { return sb_pattern_call(L, PATTERN_GMATCH); }
static int sb_gsub(lua_State *L) { return sb_pattern_call(L, PATTERN_GSUB); }

/* string.rep loops n times in C even when nothing is copied: rep("", 2^53) never returns.
 * When something is copied, the allocator's cap and charge bound the loop already. */
static int sb_rep(lua_State *L)
{
    size_t l, lsep;
    luaL_checklstring(L, 1, &l);
    lua_Integer n = luaL_checkinteger(L, 2);
    luaL_optlstring(L, 3, "", &lsep);
    if (n > 0 && l + lsep == 0)
        charge(L, (double)n / REP_PER_UNIT);
    return call_original(L);
}

/* string.byte and utf8.codepoint push up to one value per byte. */
static int sb_per_byte(lua_State *L)
{
    size_t n;
    luaL_checklstring(L, 1, &n);
    charge(L, (double)n / PUSHES_PER_UNIT);
    return call_original(L);
}

/* #t as table.insert/remove/sort will see it (its __len if any: a rule's __len can claim
 * 2^53 entries, and those functions then loop that far in C). */
static double table_len(lua_State *L)
{
    if (lua_type(L, 1) != LUA_TTABLE)
        return 0;
    if (luaL_getmetafield(L, 1, "__len") == LUA_TNIL)
        return (double)lua_rawlen(L, 1);
    lua_pop(L, 1);
    return (double)luaL_len(L, 1);
}

/* table.insert(t, pos, v) and table.remove(t, pos) shift every element after pos. */
static int sb_tinsert(lua_State *L)
{
    if (lua_gettop(L) == 3 && lua_isinteger(L, 2)) {
        double shift = table_len(L) + 1 - (double)lua_tointeger(L, 2);
        if (shift > 0)
            charge(L, shift);
    }
    return call_original(L);
}

static int sb_tremove(lua_State *L)
{
    if (lua_gettop(L) >= 2 && lua_isinteger(L, 2)) {
        double shift = table_len(L) - (double)lua_tointeger(L, 2);
        if (shift > 0)
            charge(L, shift);
    }
    return call_original(L);
}

/* table.move(a1, f, e, t) copies e - f + 1 values, present or not. */
static int sb_tmove(lua_State *L)
{
    lua_Integer f = luaL_checkinteger(L, 2), e = luaL_checkinteger(L, 3);
    if (e >= f)
        charge(L, (double)e - (double)f + 1);
    return call_original(L);
}

static int sb_tsort(lua_State *L)
{
    double n = table_len(L);
    if (n > 1)
        charge(L, n * log2(n));
    return call_original(L);
}

static int sb_tunpack(lua_State *L)
{
    double n;
    if (!lua_isnoneornil(L, 3))
        n = (double)luaL_checkinteger(L, 3) - (double)luaL_optinteger(L, 2, 1) + 1;
    else
        n = lua_type(L, 1) == LUA_TTABLE ? (double)lua_rawlen(L, 1) : 0;
    if (n > 0)
        charge(L, n / PUSHES_PER_UNIT);
    return call_original(L);
}

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

/* next over the real table (upvalue 1), which the rule never sees. */
static int proxy_next(lua_State *L)
{
    lua_settop(L, 2);
    lua_pushvalue(L, lua_upvalueindex(1));
    lua_pushvalue(L, 2);
    if (lua_next(L, 3))
        return 2;
    lua_pushnil(L);
    return 1;
}

/* pairs(proxy) walks the real table. The real table must not be the state pairs returns
 * (the second value is the rule's to keep, and rawset on it would change the library): it
 * stays an upvalue of the iterator, and the state is the proxy. */
static int proxy_pairs(lua_State *L)
{
    lua_getmetatable(L, 1);
    lua_getfield(L, -1, "__index");
    lua_pushcclosure(L, proxy_next, 1);
    lua_pushvalue(L, 1);
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
    sb->pool = smallpool_new();   /* NULL: every block from malloc */
    lua_State *L = lua_newstate(sb_alloc, sb);
    if (!L) {
        smallpool_destroy(sb->pool);
        sb->pool = NULL;
        return -ENOMEM;
    }
    sb->L = L;
    *(struct sandbox **)lua_getextraspace(L) = sb;
    /* Generational: the state keeps large long-lived data (the shared person tables) and
     * makes short-lived garbage (pools, match tables); incremental cycles would walk the
     * former again and again for the latter. */
    lua_gc(L, LUA_GCGEN, 0, 0);

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
    wrap_field(L, "match", sb_match);
    wrap_field(L, "gmatch", sb_gmatch);
    wrap_field(L, "gsub", sb_gsub);
    wrap_field(L, "rep", sb_rep);
    wrap_field(L, "byte", sb_per_byte);
    lua_pop(L, 1);

    lua_getglobal(L, LUA_TABLIBNAME);
    wrap_field(L, "insert", sb_tinsert);
    wrap_field(L, "remove", sb_tremove);
    wrap_field(L, "move", sb_tmove);
    wrap_field(L, "sort", sb_tsort);
    wrap_field(L, "unpack", sb_tunpack);
    lua_pop(L, 1);

    lua_getglobal(L, LUA_UTF8LIBNAME);
    wrap_field(L, "codepoint", sb_per_byte);
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
    smallpool_destroy(sb->pool);
    sb->pool = NULL;
}

/* Finds the innermost Lua frame for FILE:LINE and adds a traceback. */
static int msghandler(lua_State *L)
{
    const char *msg = lua_tostring(L, 1);
    if (msg == NULL)
        msg = lua_pushfstring(L, "(error object is a %s value)", luaL_typename(L, 1));
    lua_Debug ar;
    /* An API function that knows better (the line of a program's field) has set it already. */
    bool known = lua_getfield(L, LUA_REGISTRYINDEX, "tandem.where") == LUA_TSTRING;
    lua_pop(L, 1);
    for (int level = 1; !known && lua_getstack(L, level, &ar); level++) {
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
    if (lua_getfield(L, LUA_REGISTRYINDEX, "tandem.where") != LUA_TNIL) {   /* a read costs less */
        lua_pushnil(L);
        lua_setfield(L, LUA_REGISTRYINDEX, "tandem.where");
    }
    lua_pop(L, 1);
    lua_pushcfunction(L, msghandler);
    lua_insert(L, base);
    sb->in_call++;
    int rc = lua_pcall(L, nargs, nresults, base);
    sb->in_call--;
    settle_refusal(sb);
    lua_remove(L, base);
    if (where)
        where[0] = '\0';
    if (rc == LUA_OK && sb->tripped == TRIP_NONE)
        return rc;
    if (rc == LUA_OK) {
        /* The rule's own pcall caught the limit and the call ended before the hook came
         * back: the limit still wins, the results are dropped. */
        lua_settop(L, base - 1);
        lua_pushnil(L);
        rc = LUA_ERRRUN;
    } else if (where) {
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
    } else if (rc == LUA_ERRMEM) {
        /* Refused once without the collector's second try (it does not always get one). */
        lua_pop(L, 1);
        lua_pushstring(L, TRIP_TEXT[TRIP_MEMORY]);
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

/* Reads a whole file of at most SOURCE_MAX bytes with malloc, not Lua's allocator: this runs
 * outside protected calls, where a Lua allocation failure would abort. On failure returns
 * NULL with the reason in why. */
static char *read_source(const char *path, size_t *len, char *why, size_t why_len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(why, why_len, "cannot open: %s", strerror(errno));
        return NULL;
    }
    size_t cap = 1u << 14, n = 0;
    char *buf = malloc(cap);
    snprintf(why, why_len, "out of memory");
    while (buf) {
        if (n == cap) {
            if (cap > SOURCE_MAX) {
                snprintf(why, why_len, "larger than %u MiB: not a rule file", SOURCE_MAX >> 20);
                break;
            }
            char *nb = realloc(buf, cap * 2);
            if (!nb)
                break;
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        n += got;
        if (got > 0)
            continue;
        if (ferror(f)) {
            snprintf(why, why_len, "cannot read: %s", strerror(errno));
        } else if (n > SOURCE_MAX) {
            snprintf(why, why_len, "larger than %u MiB: not a rule file", SOURCE_MAX >> 20);
        } else {
            fclose(f);
            *len = n;
            return buf;
        }
        break;
    }
    fclose(f);
    free(buf);
    return NULL;
}

int sandbox_loadfile(struct sandbox *sb, const char *path)
{
    lua_State *L = sb->L;
    size_t len;
    char why[160];
    char *buf = read_source(path, &len, why, sizeof why);
    if (!buf) {
        lua_pushfstring(L, "%s: %s", path, why);
        return LUA_ERRFILE;
    }
    /* As luaL_loadfile: skip a UTF-8 byte order mark, and blank a first line starting with
     * '#' (a shebang) so that line numbers stay right. */
    char *text = buf;
    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) {
        text += 3;
        len -= 3;
    }
    if (len > 0 && text[0] == '#')
        for (size_t i = 0; i < len && text[i] != '\n'; i++)
            text[i] = ' ';
    lua_pushfstring(L, "@%s", path);
    int rc = luaL_loadbufferx(L, text, len, lua_tostring(L, -1), "t");
    free(buf);
    lua_remove(L, -2);   /* chunkname */
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
