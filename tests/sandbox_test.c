/* sandbox_test: every door of the rules sandbox, each proved shut by a test that fails when it
 * opens: missing libraries, binary chunks, the instruction budget (also under pcall and in
 * coroutines), the memory cap, read-only libraries, C code a rule could make run for minutes,
 * and FILE:LINE of errors. It must never leave files outside its own temp dir. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <lauxlib.h>
#include <lualib.h>

#include "sandbox.h"

static struct sandbox sb;

static void setup(void)
{
    cr_assert_eq(sandbox_open(&sb, 0), 0);
}

static void teardown(void)
{
    sandbox_close(&sb);
}

TestSuite(sandbox, .init = setup, .fini = teardown, .timeout = 20);

static char msg[4096], where[512];

/* Runs code as one budgeted call (budget 0 = the default); returns the call's code. On success
 * msg holds tostring of the first result, on failure the error message; where the location. */
static int run_budget(const char *code, long long budget)
{
    lua_State *L = sb.L;
    int top = lua_gettop(L);
    cr_assert_eq(luaL_loadbufferx(L, code, strlen(code), "=test", "t"), LUA_OK, "test chunk: %s",
                 lua_tostring(L, -1));
    sandbox_reset(&sb, budget ? budget : SANDBOX_DEFAULT_BUDGET);
    int rc = sandbox_call(&sb, 0, 1, where, sizeof where);
    const char *s = rc == LUA_OK ? luaL_tolstring(L, -1, NULL) : lua_tostring(L, -1);
    snprintf(msg, sizeof msg, "%s", s ? s : "(nil)");
    lua_settop(L, top);
    return rc;
}

static int run(const char *code)
{
    return run_budget(code, 0);
}

/* Asserts success and returns the first result as text. */
static const char *ok(const char *code)
{
    int rc = run(code);
    cr_assert_eq(rc, LUA_OK, "expected success: %s\n  error: %s", code, msg);
    return msg;
}

/* Asserts failure with a message containing want. */
static void fails(const char *code, const char *want)
{
    int rc = run(code);
    cr_assert_neq(rc, LUA_OK, "expected an error from: %s\n  got: %s", code, msg);
    cr_assert(strstr(msg, want) != NULL, "error from: %s\n  was: %s\n  expected it to contain: %s", code,
              msg, want);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The state still works after a failed call: a small call succeeds and sees its globals. */
static void assert_usable(void)
{
    cr_assert_str_eq(ok("return 1 + 1"), "2");
    cr_assert_str_eq(ok("local t = {} for i = 1, 1000 do t[i] = i end return #t"), "1000");
    cr_assert_str_eq(ok("return (\"abc\"):upper()"), "ABC");
}

/* A binary chunk made by a host Lua state (the sandbox has no string.dump). */
static char *dumped_chunk(size_t *len)
{
    lua_State *H = luaL_newstate();
    luaL_openlibs(H);
    cr_assert_eq(luaL_dostring(H, "return string.dump(function() return 42 end)"), LUA_OK);
    size_t n;
    const char *s = lua_tolstring(H, -1, &n);
    char *copy = malloc(n);
    memcpy(copy, s, n);
    *len = n;
    lua_close(H);
    return copy;
}

/* ---- what is left out ---- */

Test(sandbox, dangerous_libraries_are_absent)
{
    const char *names[] = { "io", "os", "debug", "package", "require", "loadstring", "module", NULL };
    for (int i = 0; names[i]; i++) {
        char code[96];
        snprintf(code, sizeof code, "return type(%s)", names[i]);
        cr_assert_str_eq(ok(code), "nil", "%s is reachable", names[i]);
    }
    fails("return io.open('/etc/passwd')", "attempt to index a nil value");
    fails("return os.execute('true')", "attempt to index a nil value");
    fails("return debug.getregistry()", "attempt to index a nil value");
}

Test(sandbox, forbidden_functions_error_by_name)
{
    fails("return dofile('/etc/passwd')", "dofile is not available");
    fails("return loadfile('/etc/passwd')", "loadfile is not available");
    fails("return string.dump(function() end)", "string.dump is not available");
    fails("return (\"\").dump(function() end)", "string.dump is not available");
    fails("return collectgarbage('count')", "collectgarbage is not available");
    cr_assert_str_eq(ok("return type(coroutine.close)"), "nil");
}

Test(sandbox, load_refuses_binary_chunks_in_every_mode)
{
    size_t n;
    char *blob = dumped_chunk(&n);
    lua_pushlstring(sb.L, blob, n);
    lua_setglobal(sb.L, "blob");
    free(blob);
    const char *codes[] = {
        "return select(2, load(blob))",
        "return select(2, load(blob, 'x', 'b'))",
        "return select(2, load(blob, 'x', 'bt', {}))",
        "local done; return select(2, load(function() if done then return nil end done = true "
        "return blob end, 'reader', 'b'))",
    };
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++)
        cr_assert(strstr(ok(codes[i]), "binary") != NULL, "%s -> %s", codes[i], msg);
    cr_assert_str_eq(ok("return tostring(load(blob, 'x', 'b'))"), "nil");
}

Test(sandbox, load_of_text_works)
{
    cr_assert_str_eq(ok("return load('return 1 + 2')()"), "3");
    cr_assert_str_eq(ok("return load('return x', 'c', 't', { x = 5 })()"), "5");
    cr_assert_str_eq(ok("y = 7 return load('return y')()"), "7");
    cr_assert(strstr(ok("return select(2, load('return +'))"), "unexpected symbol"), "%s", msg);
}

/* ---- the instruction budget ---- */

Test(sandbox, budget_stops_an_infinite_loop)
{
    double t0 = now_s();
    fails("while true do end", "instruction budget exceeded");
    cr_assert_str_eq(msg, "instruction budget exceeded");
    cr_assert_lt(now_s() - t0, 2.0);
    assert_usable();
}

Test(sandbox, budget_survives_the_rules_own_pcall)
{
    fails("while true do pcall(function() while true do end end) end", "instruction budget exceeded");
    assert_usable();
    fails("local n = 0 while true do n = n + 1 pcall(error, 'x') end", "instruction budget exceeded");
    fails("while true do xpcall(function() while true do end end, function(e) return e end) end",
          "instruction budget exceeded");
    /* Caught once, then a quick return: the limit still wins. */
    fails("local ok = pcall(function() while true do end end) return ok", "instruction budget exceeded");
    assert_usable();
}

Test(sandbox, budget_reaches_coroutines)
{
    fails("local co = coroutine.create(function() while true do end end) "
          "return coroutine.resume(co)", "instruction budget exceeded");
    assert_usable();
    fails("local f = coroutine.wrap(function() while true do end end) return pcall(f)",
          "instruction budget exceeded");
    assert_usable();
    fails("local co = coroutine.create(function() while true do end end) "
          "local ok = coroutine.resume(co) return 'swallowed'", "instruction budget exceeded");
    assert_usable();
    fails("while true do coroutine.resume(coroutine.create(function() while true do end end)) end",
          "instruction budget exceeded");
    assert_usable();
}

Test(sandbox, budget_reaches_coroutines_made_in_an_earlier_call)
{
    /* Made while loading (one call), resumed in a later budgeted call. */
    ok("co = coroutine.create(function() while true do end end) "
       "gen = coroutine.wrap(function() while true do end end) "
       "step = coroutine.wrap(function() local i = 0 while true do i = i + 1 coroutine.yield(i) end end)");
    fails("return coroutine.resume(co)", "instruction budget exceeded");
    assert_usable();
    fails("return gen()", "instruction budget exceeded");
    assert_usable();
    cr_assert_str_eq(ok("step() return step()"), "2");
    fails("while true do step() end", "instruction budget exceeded");
    assert_usable();
}

Test(sandbox, fresh_coroutines_do_not_run_free)
{
    /* Each coroutine runs a little less than a hook period: counted all the same. */
    double t0 = now_s();
    fails("for i = 1, 1e9 do coroutine.wrap(function() for j = 1, 300 do end end)() end",
          "instruction budget exceeded");
    cr_assert_lt(now_s() - t0, 1.5, "took %.1f s", now_s() - t0);
    assert_usable();
}

Test(sandbox, budget_is_per_call)
{
    /* Many calls of moderate work each succeed: the count starts over. */
    for (int i = 0; i < 20; i++)
        cr_assert_str_eq(ok("local s = 0 for i = 1, 1e6 do s = s + i end return s"), "500000500000");
}

/* ---- the memory cap ---- */

/* The same door with less to fill: a 16 MiB cap. */
static void small_cap(void)
{
    sandbox_close(&sb);
    cr_assert_eq(sandbox_open(&sb, 16u << 20), 0);
}

Test(sandbox, memory_cap_stops_string_rep)
{
    small_cap();
    fails("return #string.rep('x', 2^30)", "memory cap exceeded");
    cr_assert_str_eq(msg, "memory cap exceeded");
    assert_usable();
    fails("local ok = pcall(string.rep, 'x', 2^30) return ok", "memory cap exceeded");
    assert_usable();
    fails("while true do pcall(string.rep, 'x', 2^30) end", "memory cap exceeded");
    assert_usable();
}

Test(sandbox, memory_cap_stops_a_growing_table)
{
    small_cap();
    fails("local t = {} while true do t[#t + 1] = ('x'):rep(40) .. #t end", "memory cap exceeded");
    assert_usable();
    fails("while true do pcall(function() local t = {} while true do t[#t + 1] = {} end end) end",
          "memory cap exceeded");
    assert_usable();
    fails("local ok = pcall(function() local t = {} while true do t[#t + 1] = {} end end) return ok",
          "memory cap exceeded");
    assert_usable();
    cr_assert_lt(sb.mem_used, 4u << 20, "garbage left after the trips: %zu bytes", sb.mem_used);
}

Test(sandbox, garbage_near_the_cap_is_collected_not_fatal)
{
    /* 3 MiB kept and 1 MiB strings and tables thrown away under an 8 MiB cap: the collector
     * frees them when the allocator first says no, and Lua asks again. */
    sandbox_close(&sb);
    cr_assert_eq(sandbox_open(&sb, 8u << 20), 0);
    cr_assert_str_eq(ok("local keep = ('k'):rep(3 * 2^20) local g = ('g'):rep(2^19) local n = 0 "
                        "for i = 1, 100 do n = n + #(g .. i .. g) end "
                        "for i = 1, 20 do local t = {} for j = 1, 2^15 do t[j] = j end n = n + #t end "
                        "return #keep"),
                     "3145728");
    /* Still a cap: keeping it all is refused. */
    fails("local keep = {} for i = 1, 100 do keep[i] = ('g'):rep(2^19) .. i end", "memory cap exceeded");
}

Test(sandbox, host_pushes_after_the_rules_filled_the_cap_do_not_abort)
{
    small_cap();
    /* The rules keep everything they can get in a global... */
    fails("local s = ('x'):rep(100) while true do hoard = { hoard, s .. #s } end", "memory cap exceeded");
    /* ...then the host builds the next call's arguments outside any protected call. */
    lua_State *L = sb.L;
    lua_createtable(L, 0, 64);
    for (int i = 0; i < 2000; i++) {
        lua_pushfstring(L, "value %d of an event the engine passes to a handler", i);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setglobal(L, "ev");
    fails("hoard = { hoard, ev }", "memory cap exceeded");
    ok("hoard = nil");
    assert_usable();
}

/* ---- what rules must not change ---- */

Test(sandbox, gc_metamethods_are_refused)
{
    fails("setmetatable({}, { __gc = function() end })", "__gc metamethods are not available");
    fails("setmetatable({}, { __gc = false })", "__gc");
    cr_assert_str_eq(ok("return getmetatable(setmetatable({}, { __index = { a = 1 } })).__index.a"), "1");
}

Test(sandbox, string_metatable_is_hidden)
{
    cr_assert_str_eq(ok("return tostring(getmetatable(''))"), "false");
    fails("getmetatable('').__index = {}", "attempt to index a boolean value");
    fails("getmetatable('').__index.upper = nil", "attempt to index a boolean value");
    cr_assert_str_eq(ok("return ('abc'):upper() .. ('x'):rep(3)"), "ABCxxx");
}

Test(sandbox, libraries_are_read_only)
{
    const char *libs[] = { "string", "table", "math", "utf8", "coroutine", NULL };
    for (int i = 0; libs[i]; i++) {
        char code[160];
        snprintf(code, sizeof code, "%s.x = 1", libs[i]);
        fails(code, "read-only");
        snprintf(code, sizeof code, "rawset(%s, 'x', 1)", libs[i]);
        fails(code, "read-only");
        snprintf(code, sizeof code, "setmetatable(%s, {})", libs[i]);
        fails(code, "protected metatable");
        snprintf(code, sizeof code, "return tostring(getmetatable(%s))", libs[i]);
        cr_assert_str_eq(ok(code), "false");
    }
    fails("string.format = nil", "read-only");
    fails("table.insert(string, 'x')", "read-only");
    cr_assert_str_eq(ok("return string.format('%d-%s', 4, 'x')"), "4-x");
    /* A rule's own globals stay its own. */
    cr_assert_str_eq(ok("mine = {} mine.x = 1 rawset(mine, 'y', 2) return mine.x + mine.y"), "3");
}

Test(sandbox, pairs_over_a_library_does_not_hand_out_the_real_table)
{
    cr_assert_str_eq(ok("local n = 0 for k, v in pairs(string) do n = n + 1 end return n >= 15"), "true");
    cr_assert_str_eq(ok("local seen = {} for k in pairs(math) do seen[#seen + 1] = k end "
                        "table.sort(seen) return seen[1]"), "abs");
    fails("local f, t = pairs(string) t.upper = nil", "read-only");
    fails("local f, t = pairs(string) rawset(t, 'upper', nil)", "read-only");
    cr_assert_str_eq(ok("return ('abc'):upper()"), "ABC");
    cr_assert_str_eq(ok("return type(table.insert)"), "function");
}

/* ---- C code a rule could make run for minutes ---- */

Test(sandbox, backtracking_patterns_are_refused_quickly)
{
    double t0 = now_s();
    fails("return string.find(('a'):rep(80), ('a-'):rep(6) .. 'b')", "pattern too complex");
    fails("return (('a'):rep(80)):find(('a-'):rep(6) .. 'b')", "pattern too complex");
    fails("return (('a'):rep(80)):match(('a-'):rep(6) .. 'b')", "pattern too complex");
    fails("return (('a'):rep(80)):gsub(('a-'):rep(6) .. 'b', '')", "pattern too complex");
    fails("for m in (('a'):rep(80)):gmatch(('a-'):rep(6) .. 'b') do end", "pattern too complex");
    cr_assert_lt(now_s() - t0, 0.5, "took %.2f s", now_s() - t0);
    assert_usable();
}

Test(sandbox, patterns_that_are_linear_in_lua_terms_but_not_in_c_are_refused)
{
    double t0 = now_s();
    /* gmatch has no anchor: '^' is a plain character there, so every start is tried. */
    fails("for m in string.gmatch(('^'):rep(1e5), '^.-b') do end", "");
    /* %b scans to the end from every start. */
    fails("return string.find(('('):rep(3e5), '%b()')", "");
    /* A long literal pattern is compared from every start (plain or not). */
    fails("return string.find(('a'):rep(2e6), ('a'):rep(1e6) .. 'b', 1, true)", "");
    fails("return string.find(('a'):rep(2e6), ('a'):rep(1e6) .. 'b')", "");
    cr_assert_lt(now_s() - t0, 1.0, "took %.2f s", now_s() - t0);
    assert_usable();
}

Test(sandbox, patterns_allowed_one_at_a_time_still_count_against_the_budget)
{
    double t0 = now_s();
    fails("local s = ('a'):rep(300) for i = 1, 1e7 do string.find(s, 'a-a-b') end",
          "instruction budget exceeded");
    cr_assert_lt(now_s() - t0, 2.0, "took %.2f s", now_s() - t0);
    assert_usable();
}

Test(sandbox, normal_patterns_and_plain_find_work)
{
    cr_assert_str_eq(ok("return ('key=value'):match('^(%w+)=(%w+)$')"), "key");
    cr_assert_str_eq(ok("return select(2, ('a b  c'):gsub('%s+', ' '))"), "2");
    cr_assert_str_eq(ok("local n = 0 for w in ('one two three'):gmatch('%a+') do n = n + 1 end return n"), "3");
    cr_assert_str_eq(ok("return string.find('x.y', '.', 1, true)"), "2");
    cr_assert_str_eq(ok("local s = ('a'):rep(1e6) .. 'b' return s:find('ab', 1, true)"), "1000000");
    cr_assert_str_eq(ok("local s = ('a'):rep(1e6) .. 'b' return s:find('b')"), "1000001");
    cr_assert_str_eq(ok("return ('  trim me  '):match('^%s*(.-)%s*$')"), "trim me");
    cr_assert_str_eq(ok("return ('f(a(b)c)'):match('%b()')"), "(a(b)c)");
}

Test(sandbox, c_loops_driven_by_a_count_are_bounded)
{
    double t0 = now_s();
    fails("return #string.rep('', 2^53)", "");
    fails("return #string.rep('', 2^53, '')", "");
    fails("return table.move({}, 1, 2^53, 2)", "");
    fails("return table.insert(setmetatable({}, { __len = function() return 2^53 end }), 1, 'x')", "");
    fails("return table.remove(setmetatable({}, { __len = function() return 2^53 end }), 1)", "");
    cr_assert_lt(now_s() - t0, 1.0, "took %.2f s", now_s() - t0);
    assert_usable();
    cr_assert_str_eq(ok("return #string.rep('ab', 3, ',')"), "8");
    cr_assert_str_eq(ok("return table.concat(table.move({1, 2, 3}, 1, 3, 2), ',')"), "1,1,2,3");
    cr_assert_str_eq(ok("local t = {1, 2, 3} table.insert(t, 1, 0) table.remove(t, 2) "
                        "return table.concat(t, ',')"), "0,2,3");
}

Test(sandbox, big_moves_in_a_loop_count_against_the_budget)
{
    double t0 = now_s();
    fails("local t = {} for i = 1, 1e5 do t[i] = i end "
          "for i = 1, 1e9 do table.insert(t, 1, i) table.remove(t, 1) end",
          "instruction budget exceeded");
    fails("local s = ('x'):rep(1e6) for i = 1, 1e9 do local u = s:upper() end", "instruction budget exceeded");
    cr_assert_lt(now_s() - t0, 4.0, "took %.2f s", now_s() - t0);
    assert_usable();
}

static int costly(lua_State *L)
{
    sandbox_charge(L, luaL_checknumber(L, 1));
    lua_pushboolean(L, 1);
    return 1;
}

Test(sandbox, host_functions_can_charge_their_work)
{
    lua_register(sb.L, "costly", costly);
    cr_assert_str_eq(ok("return costly(1000)"), "true");
    fails("return costly(2e7)", "instruction budget exceeded");
    fails("for i = 1, 1e9 do costly(1e5) end", "instruction budget exceeded");
    fails("local ok = pcall(costly, 2e7) return ok", "instruction budget exceeded");
    /* Outside a call there is no budget to charge (and no protected call to unwind to). */
    lua_getglobal(sb.L, "costly");
    lua_pushnumber(sb.L, 1e12);
    lua_call(sb.L, 1, 1);
    cr_assert(lua_toboolean(sb.L, -1));
    lua_pop(sb.L, 1);
    assert_usable();
}

Test(sandbox, work_no_count_sees_meets_the_time_limit)
{
    /* Comparing two distinct 8 MiB strings is one VM instruction and no allocation: only the
     * wall clock sees it. With a budget of 1e6 this would run for minutes. */
    double t0 = now_s();
    int rc = run_budget("local a, b = ('x'):rep(2^23), ('x'):rep(2^23) while a == b do end", 1000000);
    cr_assert_neq(rc, LUA_OK);
    cr_assert_str_eq(msg, "time limit exceeded");
    cr_assert_lt(now_s() - t0, 4.0, "took %.2f s", now_s() - t0);
    assert_usable();
}

/* ---- recursion ---- */

Test(sandbox, unbounded_recursion_is_an_error_not_a_crash)
{
    int rc = run("local function f() return 1 + f() end return f()");
    cr_assert_neq(rc, LUA_OK);
    cr_assert(strstr(msg, "stack overflow") || strstr(msg, "memory cap exceeded"), "%s", msg);
    assert_usable();
    rc = run("local function f(s) return (s:gsub('.', f)) end return f('ab')");
    cr_assert_neq(rc, LUA_OK);
    cr_assert(strstr(msg, "stack overflow") || strstr(msg, "memory cap exceeded"), "%s", msg);
    assert_usable();
    rc = run("local t = setmetatable({}, {}) getmetatable(t).__index = function(t, k) return t[k] end "
             "return t.x");
    cr_assert_neq(rc, LUA_OK);
    assert_usable();
}

/* ---- where errors come from ---- */

static char tmpdir[256], longdir[512];

static void make_dirs(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/sandbox_test_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(longdir, sizeof longdir, "%s/a_directory_name_long_enough_that_lua_would_cut_the_chunk_name",
             tmpdir);
    cr_assert_eq(mkdir(longdir, 0700), 0);
}

static void remove_dirs(void)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpdir);
    cr_assert_eq(system(cmd), 0);
}

static const char *write_file(const char *name, const void *text, size_t len)
{
    static char path[700];
    snprintf(path, sizeof path, "%s/%s", longdir, name);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(text, 1, len, f), len);
    fclose(f);
    cr_assert_gt(strlen(path), 60);
    return path;
}

static const char *write_text(const char *name, const char *text)
{
    return write_file(name, text, strlen(text));
}

/* Loads path and calls it as one budgeted call. */
static int run_file(const char *path)
{
    lua_State *L = sb.L;
    int top = lua_gettop(L);
    int rc = sandbox_loadfile(&sb, path);
    if (rc == LUA_OK) {
        sandbox_reset(&sb, SANDBOX_DEFAULT_BUDGET);
        rc = sandbox_call(&sb, 0, 0, where, sizeof where);
    }
    snprintf(msg, sizeof msg, "%s", rc == LUA_OK ? "" : lua_tostring(L, -1));
    lua_settop(L, top);
    return rc;
}

Test(sandbox, runtime_errors_name_the_full_file_and_line)
{
    make_dirs();
    const char *path = write_text("rule.lua", "local x = 1\n"
                                              "local function f(t)\n"
                                              "  return t.field + 1\n"
                                              "end\n"
                                              "f({})\n");
    cr_assert_neq(run_file(path), LUA_OK);
    char want[800];
    snprintf(want, sizeof want, "%s:3", path);
    cr_assert_str_eq(where, want);
    cr_assert(strstr(msg, "attempt to perform arithmetic on a nil value (field 'field')") == msg, "%s", msg);

    path = write_text("err.lua", "\n\nerror('gave up')\n");
    cr_assert_neq(run_file(path), LUA_OK);
    snprintf(want, sizeof want, "%s:3", path);
    cr_assert_str_eq(where, want);
    cr_assert_str_eq(msg, "gave up");

    path = write_text("loop.lua", "local n = 0\nwhile true do\n  n = n + 1\nend\n");
    cr_assert_neq(run_file(path), LUA_OK);
    cr_assert_str_eq(msg, "instruction budget exceeded");
    cr_assert(strncmp(where, path, strlen(path)) == 0, "where = %s", where);
    remove_dirs();
}

Test(sandbox, syntax_errors_name_the_full_path_and_line)
{
    make_dirs();
    const char *path = write_text("bad.lua", "local ok = 1\nlocal x = = 2\n");
    cr_assert_neq(run_file(path), LUA_OK);
    char want[800];
    snprintf(want, sizeof want, "%s:2: ", path);
    cr_assert(strncmp(msg, want, strlen(want)) == 0, "message: %s\nexpected to start: %s", msg, want);
    cr_assert(strstr(msg, "unexpected symbol near '='"), "%s", msg);
    remove_dirs();
}

Test(sandbox, loadfile_refuses_binary_chunks_and_missing_files)
{
    make_dirs();
    size_t n;
    char *blob = dumped_chunk(&n);
    const char *path = write_file("compiled.lua", blob, n);
    free(blob);
    cr_assert_neq(run_file(path), LUA_OK);
    cr_assert(strstr(msg, path) == msg, "%s", msg);
    cr_assert(strstr(msg, "must be Lua text"), "%s", msg);

    char missing[800];
    snprintf(missing, sizeof missing, "%s/nope.lua", longdir);
    cr_assert_eq(run_file(missing), LUA_ERRFILE);
    cr_assert(strstr(msg, missing) == msg && strstr(msg, "cannot open"), "%s", msg);
    remove_dirs();
}

Test(sandbox, loadfile_of_an_endless_file_is_refused_not_fatal)
{
    cr_assert_neq(run_file("/dev/zero"), LUA_OK);
    cr_assert(strstr(msg, "/dev/zero") == msg, "%s", msg);
    assert_usable();
}

Test(sandbox, loadfile_accepts_a_bom_and_a_shebang_like_lua)
{
    make_dirs();
    const char *path = write_text("bom.lua", "\xEF\xBB\xBF" "answer = 42\n");
    cr_assert_eq(run_file(path), LUA_OK, "%s", msg);
    path = write_text("bang.lua", "#!/usr/bin/env lua\nanswer = answer + 1\nerror('line three')\n");
    cr_assert_neq(run_file(path), LUA_OK);
    char want[800];
    snprintf(want, sizeof want, "%s:3", path);
    cr_assert_str_eq(where, want);
    cr_assert_str_eq(ok("return answer"), "43");
    remove_dirs();
}
