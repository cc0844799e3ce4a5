/* lua_api: the tandem module as rules see it, over a state built from events: queries,
 * the assign primitive's exclusions, JSON conversion limits, program time. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <lauxlib.h>

#include "lua_api.h"
#include "rules.h"
#include "state.h"

static struct state st;
static struct rules *r;
static char dir[] = "/tmp/lua_api_test.XXXXXX";

static void apply(const char *json)
{
    cJSON *ev = cJSON_Parse(json);
    cr_assert_not_null(ev, "bad fixture %s", json);
    struct error err = { 0 };
    cJSON_ReplaceItemInObject(ev, "seq", cJSON_CreateNumber((double)(st.seq + 1)));
    cr_assert_eq(state_apply(&st, ev, &err), 0, "%s: %s", json, err.msg);
    cJSON_Delete(ev);
}

static void person(const char *id, int level, const char *dept, const char *manager, const char *skills,
                   const char *wants)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"seq\":0,\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"person\",\"phase\":\"added\","
             "\"person\":{\"id\":\"%s\",\"level\":%d,\"department\":\"%s\"%s%s%s,\"capacity\":1,"
             "\"skills\":[%s],\"wants\":[%s],\"attrs\":{\"q_style\":\"direct\"}}}",
             id, level, dept, manager ? ",\"manager\":\"" : "", manager ? manager : "", manager ? "\"" : "",
             skills, wants);
    apply(buf);
}

static void setup(void)
{
    cr_assert_not_null(mkdtemp(dir));
    char path[256];
    snprintf(path, sizeof path, "%s/r.lua", dir);
    FILE *f = fopen(path, "w");
    fputs("tandem.program { name = \"core\", model = \"one_to_one\" }\n", f);
    fclose(f);
    struct error err = { 0 };
    cr_assert_eq(rules_load(path, "rules", &r, &err), 0, "%s", err.msg);
    state_init(&st);
    apply("{\"seq\":0,\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"rules\",\"phase\":\"loaded\",\"programs\":"
          "[{\"name\":\"core\",\"model\":\"one_to_one\",\"term\":\"6mo\",\"cadence\":\"2w\","
          "\"review_every\":\"3mo\",\"match_every\":\"1w\"}]}");
    person("boss", 12, "Eng", NULL, "\"sql\",\"go\"", "");
    person("lead", 8, "Eng", "boss", "\"sql\"", "");
    person("dev", 3, "Eng", "lead", "", "\"sql\"");
    person("rep", 2, "Sales", NULL, "", "\"sql\",\"go\"");
    person("ops", 7, "Ops", NULL, "\"go\"", "");
    r->state = &st;
    r->now = 1800000000;
}

static void teardown(void)
{
    rules_free(r);
    state_free(&st);
    char cmd[300];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    cr_assert_eq(system(cmd), 0);
}

/* Runs chunk; returns its one result as a string ("" for nil), or "ERR: message". */
static const char *lua(const char *chunk)
{
    static char out[2048];
    lua_State *L = r->sb.L;
    cr_assert_eq(luaL_loadstring(L, chunk), LUA_OK, "%s", lua_tostring(L, -1));
    sandbox_reset(&r->sb, r->budget);
    char where[320];
    if (sandbox_call(&r->sb, 0, 1, where, sizeof where) != LUA_OK)
        snprintf(out, sizeof out, "ERR: %s", lua_tostring(L, -1));
    else
        snprintf(out, sizeof out, "%s", lua_isnil(L, -1) ? "" : luaL_tolstring(L, -1, NULL));
    lua_settop(L, 0);
    return out;
}

TestSuite(lua_api, .init = setup, .fini = teardown);

Test(lua_api, person_query_copies_sets_and_attrs)
{
    cr_assert_str_eq(lua("local p = tandem.person('dev') return p.level .. p.department .. tostring(p.wants.sql)"),
                     "3Engtrue");
    cr_assert_str_eq(lua("local p = tandem.person('rep') return p.attrs.q_style"), "direct");
    cr_assert_str_eq(lua("return tandem.person('nobody')"), "");
    /* A rule that scribbles on its copy changes nothing. */
    lua("local p = tandem.person('dev') p.level = 99");
    cr_assert_str_eq(lua("return tandem.person('dev').level"), "3");
    /* Nor in its sets and attrs: those are copies too, not the shared person table's. */
    lua("local p = tandem.person('dev') p.wants.sql = nil p.wants.go = true p.attrs.q_style = 'x'");
    cr_assert_str_eq(lua("local p = tandem.person('dev') return tostring(p.wants.sql) .. tostring(p.wants.go)"),
                     "truenil");
    lua("local p = tandem.people{}[1] p.skills.cobol = true p.name = 'changed'");
    cr_assert_str_eq(lua("local p = tandem.people{}[1] return tostring(p.skills.cobol) .. tostring(p.name ~= 'changed')"),
                     "niltrue");
    cr_assert_str_eq(lua("return tandem.person('rep').attrs.q_style"), "direct");
    /* A change to the person is seen by the next query (the shared table is built again). */
    apply("{\"seq\":0,\"ts\":\"2027-01-02T00:00:00Z\",\"type\":\"person\",\"phase\":\"updated\","
          "\"person\":{\"id\":\"dev\",\"level\":4,\"department\":\"Ops\",\"capacity\":1,"
          "\"skills\":[],\"wants\":[\"go\"]}}");
    cr_assert_str_eq(lua("local p = tandem.person('dev') return p.level .. p.department .. tostring(p.wants.sql) .."
                         " tostring(p.wants.go)"),
                     "4Opsniltrue");
    /* Two queries give two tables. */
    cr_assert_str_eq(lua("return tostring(tandem.person('dev') ~= tandem.person('dev'))"), "true");
}

Test(lua_api, overlap_counts_shared_keys)
{
    cr_assert_str_eq(lua("return tandem.overlap({a=true,b=true,c=false}, {b=true,c=true,d=true})"), "1");
    cr_assert_str_eq(lua("return tandem.overlap(tandem.person('boss').skills, tandem.person('rep').wants)"), "2");
}

Test(lua_api, assign_excludes_reporting_line_and_respects_capacity)
{
    r->matching = 0;
    const char *got = lua(
        "local ms = { tandem.person('boss'), tandem.person('lead'), tandem.person('ops') }\n"
        "local es = { tandem.person('dev'), tandem.person('rep') }\n"
        "local g = tandem.solve.assign(ms, es, function(m, e) return tandem.overlap(m.skills, e.wants) * 10,"
        "  { s = tandem.overlap(m.skills, e.wants) } end, function(m) return 1 end)\n"
        "local out = {}\n"
        "for _, x in ipairs(g) do out[#out+1] = x.mentors[1].id .. '>' .. x.mentees[1].id .. '=' .. x.score .. "
        "  '/' .. x.why.s end\n"
        "return table.concat(out, ' ')");
    r->matching = -1;
    /* boss and lead are both in dev's chain: dev can only get ops (score 0); rep gets boss (20). */
    cr_assert_str_eq(got, "ops>dev=0.0/0 boss>rep=20.0/2");
}

Test(lua_api, assign_skips_pairs_met_before_in_the_program)
{
    apply("{\"seq\":0,\"ts\":\"2027-01-02T00:00:00Z\",\"type\":\"match\",\"match\":1,\"phase\":\"active\","
          "\"program\":\"core\",\"model\":\"one_to_one\",\"mentors\":[\"boss\"],\"mentees\":[\"rep\"],\"score\":1,"
          "\"term_ends\":\"2027-07-02T00:00:00Z\"}");
    apply("{\"seq\":0,\"ts\":\"2027-01-03T00:00:00Z\",\"type\":\"close\",\"match\":1,\"reason\":\"exited\"}");
    cr_assert_str_eq(lua("return tostring(tandem.met('boss', 'rep')) .. tostring(tandem.met('ops', 'rep'))"),
                     "truefalse");
    r->matching = 0;
    const char *got = lua("local g = tandem.solve.assign({ tandem.person('boss') }, { tandem.person('rep') },"
                          " function() return 5 end, 1) return #g");
    r->matching = -1;
    cr_assert_str_eq(got, "0");
    cr_assert_str_eq(lua("return #tandem.matches{ state = 'closed' } .. #tandem.matches{ state = 'live' }"), "10");
}

Test(lua_api, score_must_be_number_nil_or_false)
{
    const char *got = lua("return tandem.solve.assign({ tandem.person('ops') }, { tandem.person('rep') },"
                          " function() return 'high' end, 1)");
    cr_assert(strstr(got, "ERR: score must return a number"), "%s", got);
}

Test(lua_api, actions_only_inside_handlers_and_declarations_only_at_load)
{
    cr_assert(strstr(lua("tandem.flag(1, 'x')"), "only be used inside a handler"));
    cr_assert(strstr(lua("tandem.program { name = 'x', model = 'one_to_one' }"), "while the rule file loads"));
    cr_assert(strstr(lua("tandem.flag = nil"), "read-only"));
}

Test(lua_api, json_conversion_limits)
{
    lua_State *L = r->sb.L;
    char why[160];
    cr_assert_eq(luaL_dostring(L, "return { b = 1, a = { 1, 2, 3 }, c = 'x' }"), LUA_OK);
    cJSON *j = lua_api_to_json(L, -1, why, sizeof why);
    char *text = cJSON_PrintUnformatted(j);
    cr_assert_str_eq(text, "{\"a\":[1,2,3],\"b\":1,\"c\":\"x\"}");
    free(text);
    cJSON_Delete(j);
    lua_settop(L, 0);
    const char *bad[] = { "local t = {} t.self = t return t", "local t = {} for i = 1, 1000 do t = { t } end return t",
                          "return { 1, 2, x = 3 }", "return { f = print }", "return { n = 0/0 }" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        cr_assert_eq(luaL_dostring(L, bad[i]), LUA_OK, "%s", bad[i]);
        cr_assert_null(lua_api_to_json(L, -1, why, sizeof why), "%s converted", bad[i]);
        cr_assert(why[0], "no reason for %s", bad[i]);
        lua_settop(L, 0);
    }
}

Test(lua_api, os_time_and_date_are_program_time)
{
    cr_assert_str_eq(lua("return os.time()"), "1800000000");
    cr_assert_str_eq(lua("return os.date('!%Y-%m-%d')"), "2027-01-15");
    cr_assert_str_eq(lua("return os.time{ year = 2027, month = 1, day = 15, hour = 8, min = 0, sec = 0 }"),
                     "1800000000");
    cr_assert_str_eq(lua("return tandem.now()"), "1800000000");
    cr_assert_eq(lua("return os.execute")[0], '\0');
}

Test(lua_api, priority_rank_for_scores)
{
    r->priorities[0] = strdup("inclusion");
    r->priorities[1] = strdup("career");
    r->n_priorities = 2;
    cr_assert_str_eq(lua("return tandem.priority('career')"), "2");
    cr_assert_str_eq(lua("return tandem.priority('inclusion')"), "1");
    cr_assert_str_eq(lua("return tandem.priority('culture')"), "");
}

/* tandem.ids { filter }, comma-joined. */
static const char *ids(const char *filter)
{
    char chunk[256];
    snprintf(chunk, sizeof chunk, "return table.concat(tandem.ids { %s }, ',')", filter);
    return lua(chunk);
}

Test(lua_api, department_queries_follow_people_changes)
{
    /* tandem.ids / tandem.people naming a department (and a skill) read an index built on
     * first use: a person added, moved or with new skills afterwards is listed where they
     * are now. */
    cr_assert_str_eq(ids("department = 'Eng'"), "boss,lead,dev");
    cr_assert_str_eq(ids("department = 'Eng', skill = 'sql'"), "boss,lead");
    person("new", 4, "Eng", NULL, "\"sql\"", "");
    person("rep", 2, "Eng", NULL, "", "");   /* an update: rep moves from Sales */
    person("lead", 8, "Eng", "boss", "\"go\"", "");   /* lead now knows go, not sql */
    cr_assert_str_eq(ids("department = 'Eng'"), "boss,lead,dev,rep,new");
    cr_assert_str_eq(ids("department = 'Eng', skill = 'sql'"), "boss,new");
    cr_assert_str_eq(ids("department = 'Eng', skill = 'go'"), "boss,lead");
    cr_assert_str_eq(lua("return #tandem.people { department = 'Sales' }"), "0");
    cr_assert_str_eq(lua("return #tandem.ids { department = 'Nowhere' }"), "0");
    cr_assert_str_eq(lua("return #tandem.ids { department = 'Eng', skill = 'cobol' }"), "0");
    cr_assert_str_eq(lua("return #tandem.ids { department = 'Ops', skill = 'sql' }"), "0");
    /* A department named like the index's department-and-skill key is not mixed up with it,
     * whether someone is in such a department or not. */
    cr_assert_str_eq(lua("return #tandem.ids { department = 'Eng\\31sql' }"), "0");
    cr_assert_str_eq(lua("return #tandem.people { department = 'Eng\\31sql' }"), "0");
    person("odd", 4, "Eng\\u001fsql", NULL, "", "");
    cr_assert_str_eq(ids("department = 'Eng', skill = 'sql'"), "boss,new");
    cr_assert_str_eq(ids("department = 'Eng\\31sql'"), "odd");
}

Test(lua_api, ids_follow_a_new_state)
{
    /* Lists of ids are read from strings made once per person and state: a state built
     * again (a reload, a rebuild after a failed write) with other people at the same places
     * lists its own. */
    cr_assert_str_eq(ids("department = 'Eng'"), "boss,lead,dev");
    cr_assert_str_eq(ids(""), "boss,lead,dev,rep,ops");
    state_free(&st);
    state_init(&st);
    apply("{\"seq\":0,\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"rules\",\"phase\":\"loaded\",\"programs\":"
          "[{\"name\":\"core\",\"model\":\"one_to_one\",\"term\":\"6mo\",\"cadence\":\"2w\","
          "\"review_every\":\"3mo\",\"match_every\":\"1w\"}]}");
    person("ann", 5, "Eng", NULL, "", "");
    person("bob", 4, "Ops", NULL, "", "");
    cr_assert_str_eq(ids(""), "ann,bob");
    cr_assert_str_eq(ids("department = 'Eng'"), "ann");
}
