/* rules_test: loading rule files through rules_load (the shipped example, and one fixture per
 * load-time mistake, each reported as FILE:LINE of the offending line) and running handlers
 * through rules_dispatch (actions delivered only when a handler succeeds). Paths are found from
 * this file's location, so it runs from any checkout; temp files stay in a temp dir. */
#include <criterion/criterion.h>

#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <cjson/cJSON.h>
#include <lauxlib.h>
#include <lualib.h>

#include "rules.h"

static char root[1024], shipped[1100], fixtures[1100];

/* The checkout is the folder above this file's (tests/); TANDEM_SRCDIR overrides. */
static void paths(void)
{
    const char *env = getenv("TANDEM_SRCDIR");
    if (env && *env) {
        snprintf(root, sizeof root, "%s", env);
    } else {
        char file[1024];
        snprintf(file, sizeof file, "%s", __FILE__);
        char *dir = dirname(file);
        snprintf(root, sizeof root, "%s", dir);
        snprintf(file, sizeof file, "%s", root);
        snprintf(root, sizeof root, "%s", dirname(file));
    }
    snprintf(shipped, sizeof shipped, "%s/rules", root);
    snprintf(fixtures, sizeof fixtures, "%s/tests/data/rules", root);
    cr_assert_eq(access(shipped, R_OK), 0, "shipped rules not found at %s", shipped);
}

TestSuite(rules, .init = paths, .timeout = 30);

static char text[2048];

/* Loads fixture name; asserts it fails; returns the error as a person reads it. */
static const char *load_error(const char *name)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/%s", fixtures, name);
    struct rules *r = (struct rules *)1;
    struct error err = { 0 };
    int rc = rules_load(path, shipped, &r, &err);
    cr_assert_eq(rc, ERR_INPUT, "%s loaded (rc %d)", name, rc);
    cr_assert_null(r);
    return error_text(&err, text, sizeof text);
}

/* Asserts the error of fixture name reads "PATH:LINE: ..." and contains want. */
static void assert_load_error(const char *name, int line, const char *want)
{
    load_error(name);
    char prefix[1300];
    snprintf(prefix, sizeof prefix, "%s/%s:%d: ", fixtures, name, line);
    cr_assert(strncmp(text, prefix, strlen(prefix)) == 0, "%s: error was\n  %s\nexpected it to start\n  %s",
              name, text, prefix);
    cr_assert(strstr(text, want) != NULL, "%s: error was\n  %s\nexpected it to contain\n  %s", name, text, want);
}

static struct rules *load_ok(const char *path)
{
    struct rules *r = NULL;
    struct error err = { 0 };
    int rc = rules_load(path, shipped, &r, &err);
    cr_assert_eq(rc, 0, "%s: %s", path, error_text(&err, text, sizeof text));
    cr_assert_not_null(r);
    return r;
}

/* ---- loading ---- */

Test(rules, acme_loads)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/examples/acme.lua", shipped);
    struct rules *r = load_ok(path);
    cr_assert_eq(r->n_programs, 6);
    const char *names[] = { "core", "stretch", "skills", "circles", "firesides", "flip" };
    const char *models[] = { "one_to_one", "external", "micro", "group", "senior_leader", "reverse" };
    for (int i = 0; i < 6; i++) {
        cr_assert_str_eq(r->programs[i].def.name, names[i]);
        cr_assert_str_eq(r->programs[i].def.model, models[i]);
    }
    cr_assert_eq(r->programs[0].def.objective, OBJECTIVE_COVERAGE);
    cr_assert_eq(r->programs[0].def.n_prompts, 4);
    char buf[32];
    duration_format(r->programs[0].def.term, buf, sizeof buf);
    cr_assert_str_eq(buf, "6mo");
    duration_format(r->programs[1].def.cadence, buf, sizeof buf);
    cr_assert_str_eq(buf, "1mo");
    /* stretch gives no review_every: the model's default. */
    duration_format(r->programs[1].def.review_every, buf, sizeof buf);
    cr_assert_str_eq(buf, "3mo");
    /* skills is a micro program: no re-up, and a prefilter evaluated in C. */
    cr_assert_not(r->programs[2].def.reup);
    cr_assert_eq(r->programs[2].pre.shared_mentor, PF_SKILLS);
    cr_assert_eq(r->programs[2].pre.shared_mentee, PF_WANTS);
    cr_assert_eq(r->programs[4].role_mentor, ROLE_LEADER);
    cr_assert_eq(r->programs[4].role_mentee, ROLE_ATTENDEE);
    char where[1300];
    snprintf(where, sizeof where, "%s:16", path);
    cr_assert_str_eq(r->programs[0].where, where);

    cr_assert_eq(r->n_priorities, 3);
    cr_assert_str_eq(r->priorities[0], "development");
    cr_assert_str_eq(r->priorities[1], "inclusion");
    cr_assert_str_eq(r->priorities[2], "career");

    cr_assert(r->simulation_set);
    cr_assert_float_eq(r->sim.attendance, 0.8, 1e-9);
    cr_assert_float_eq(r->sim.rating, 3.9, 1e-9);
    cr_assert_float_eq(r->sim.renew, 0.6, 1e-9);
    cr_assert_float_eq(r->sim.goal_progress, 0.5, 1e-9);
    cr_assert_float_eq(r->sim.spread, 0.6, 1e-9);

    cr_assert_eq(r->n_handlers, 3);
    cr_assert(rules_listens(r, "review", -1));
    cr_assert(rules_listens(r, "reup", -1));
    cr_assert_not(rules_listens(r, "person", -1));
    cr_assert(rules_listens(r, "match", 0), "one_to_one's own match handler");
    cr_assert_eq(strlen(r->sha256), 64);
    rules_free(r);
}

Test(rules, unknown_field)
{
    assert_load_error("unknown_field.lua", 3, "unknown field \"colour\"");
}

Test(rules, unknown_model)
{
    /* The model field's own line (5), as for any field the error is about. */
    assert_load_error("unknown_model.lua", 5, "unknown model \"no_such_model\"");
}

Test(rules, bad_duration)
{
    assert_load_error("bad_duration.lua", 3, "cadence");
    cr_assert(strstr(text, "program \"short\""), "%s", text);
}

Test(rules, unknown_event)
{
    assert_load_error("unknown_event.lua", 4, "unknown event \"birthday\"");
}

Test(rules, a_filter_naming_no_field_of_the_event_is_refused_with_the_nearest)
{
    assert_load_error("filter_unknown_field.lua", 4, "meeting events have no field \"phsae\" to filter on");
    cr_assert(strstr(text, "did you mean \"phase\"?"), "%s", text);
    /* A list field (mentors) is no scalar to compare with. */
    assert_load_error("filter_list_field.lua", 3, "match events have no field \"mentors\"");
    assert_load_error("filter_bad_value.lua", 3, "filter field \"phase\" must be a string, number or boolean");
    assert_load_error("filter_keyed_table.lua", 3, "a table with keys, not a list");
}

Test(rules, a_filter_that_could_never_pass_is_refused_at_its_line)
{
    assert_load_error("filter_bad_type.lua", 3, "feedback events write rating as a number");
    assert_load_error("filter_bad_phase.lua", 3, "meeting events have no phase \"mised\" (did you mean \"missed\"?)");
    /* a program declared later in the file is known: the check runs once the file has run */
    assert_load_error("filter_unknown_program.lua", 2, "no program of the file is named \"cor\" (did you mean \"core\"?)");
}

Test(rules, duplicate_program)
{
    assert_load_error("duplicate_program.lua", 4, "program \"core\" is declared twice");
    /* ...and says where the first one is. */
    char first[1300];
    snprintf(first, sizeof first, "%s/duplicate_program.lua:2", fixtures);
    cr_assert(strstr(text, first), "%s", text);
}

Test(rules, more_than_three_priorities)
{
    assert_load_error("four_priorities.lua", 2, "one to three priorities, got 4");
}

Test(rules, one_to_one_refuses_a_two_year_term)
{
    assert_load_error("term_2y.lua", 5, "term must be from \"6mo\" to \"1y\" for one_to_one (got \"2y\")");
}

Test(rules, syntax_error)
{
    assert_load_error("syntax_error.lua", 5, "unexpected symbol near '='");
}

Test(rules, no_program)
{
    load_error("no_program.lua");
    char want[1300];
    snprintf(want, sizeof want, "%s/no_program.lua: ", fixtures);
    cr_assert(strncmp(text, want, strlen(want)) == 0, "%s", text);
    cr_assert(strstr(text, "declares no program"), "%s", text);
}

Test(rules, tandem_functions_cannot_be_replaced)
{
    assert_load_error("replace_flag.lua", 3, "read-only");
    assert_load_error("replace_flag_rawset.lua", 3, "read-only");
    assert_load_error("replace_flag_pairs.lua", 4, "read-only");
    assert_load_error("replace_solve.lua", 3, "read-only");
}

Test(rules, binary_chunk_as_the_rule_file)
{
    lua_State *H = luaL_newstate();
    luaL_openlibs(H);
    cr_assert_eq(luaL_dostring(H, "return string.dump(load('local t = require \"tandem\" "
                                  "t.program { name = \"core\", model = \"one_to_one\" }'))"),
                 LUA_OK);
    size_t n;
    const char *blob = lua_tolstring(H, -1, &n);
    char dir[] = "/tmp/rules_test_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char path[128];
    snprintf(path, sizeof path, "%s/compiled.lua", dir);
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(blob, 1, n, f), n);
    fclose(f);
    lua_close(H);

    struct rules *r = NULL;
    struct error err = { 0 };
    cr_assert_eq(rules_load(path, shipped, &r, &err), ERR_INPUT);
    cr_assert_null(r);
    error_text(&err, text, sizeof text);
    char want[200];
    snprintf(want, sizeof want, "%s: ", path);
    cr_assert(strncmp(text, want, strlen(want)) == 0, "%s", text);
    cr_assert(strstr(text, "must be Lua text"), "%s", text);
    unlink(path);
    rmdir(dir);
}

Test(rules, missing_file)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/no_such_file.lua", fixtures);
    struct rules *r = NULL;
    struct error err = { 0 };
    cr_assert_eq(rules_load(path, shipped, &r, &err), ERR_INPUT);
    cr_assert_null(r);
    cr_assert(strstr(error_text(&err, text, sizeof text), path), "%s", text);
}

/* ---- dispatch ---- */

struct outcome {
    int calls, failures;
    cJSON *actions;          /* all delivered actions, in order */
    char msg[1024], where[1024];
};

static void done(void *ctx, const cJSON *actions, const char *message, const char *where)
{
    struct outcome *o = ctx;
    o->calls++;
    if (!o->actions)
        o->actions = cJSON_CreateArray();
    if (actions) {
        cr_assert_null(message);
        const cJSON *a;
        cJSON_ArrayForEach(a, actions)
            cJSON_AddItemToArray(o->actions, cJSON_Duplicate(a, 1));
        return;
    }
    o->failures++;
    cr_assert_not_null(message);
    snprintf(o->msg, sizeof o->msg, "%s", message);
    snprintf(o->where, sizeof o->where, "%s", where ? where : "");
}

static char handlers_path[1200];

static struct rules *load_handlers(void)
{
    snprintf(handlers_path, sizeof handlers_path, "%s/handlers.lua", fixtures);
    return load_ok(handlers_path);
}

static int dispatch_prog = -1;   /* the rules program the dispatched events are about */

static struct outcome dispatch(struct rules *r, const char *event_json)
{
    struct outcome o = { 0 };
    cJSON *ev = cJSON_Parse(event_json);
    cr_assert_not_null(ev, "bad test event %s", event_json);
    rules_dispatch(r, ev, dispatch_prog, done, &o);
    cJSON_Delete(ev);
    return o;
}

static void assert_where(const char *where, int line)
{
    char want[1300];
    snprintf(want, sizeof want, "%s:%d", handlers_path, line);
    cr_assert_str_eq(where, want);
}

Test(rules, a_handler_that_succeeds_delivers_its_actions_as_commands)
{
    struct rules *r = load_handlers();
    struct outcome o = dispatch(r, "{\"type\":\"review\",\"match\":7,\"meetings_held\":1}");
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.failures, 0, "%s", o.msg);
    cr_assert_eq(cJSON_GetArraySize(o.actions), 2);

    const cJSON *flag = cJSON_GetArrayItem(o.actions, 0);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(flag, "cmd")->valuestring, "flag");
    assert_where(cJSON_GetObjectItemCaseSensitive(flag, "rule")->valuestring, 5);
    cr_assert_eq(cJSON_GetObjectItemCaseSensitive(flag, "match")->valuedouble, 7);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(flag, "reason")->valuestring, "stagnant");

    const cJSON *note = cJSON_GetArrayItem(o.actions, 1);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(note, "cmd")->valuestring, "note");
    assert_where(cJSON_GetObjectItemCaseSensitive(note, "rule")->valuestring, 6);
    cr_assert_str_eq(cJSON_GetObjectItemCaseSensitive(note, "text")->valuestring, "checked");
    char *fields = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(note, "fields"));
    cr_assert_str_eq(fields, "{\"held\":1,\"match\":7}");
    free(fields);

    /* Events nobody listens to run nothing. */
    struct outcome none = dispatch(r, "{\"type\":\"reup\",\"match\":7}");
    cr_assert_eq(none.calls, 0);
    cJSON_Delete(o.actions);
    rules_free(r);
}

/* The notes' texts the event's handlers queued, joined by "|". */
static const char *notes_of(struct rules *r, const char *event_json)
{
    struct outcome o = dispatch(r, event_json);
    cr_assert_eq(o.failures, 0, "%s", o.msg);
    text[0] = 0;
    const cJSON *a;
    cJSON_ArrayForEach(a, o.actions) {
        if (text[0])
            strcat(text, "|");
        strcat(text, cJSON_GetObjectItemCaseSensitive(a, "text")->valuestring);
    }
    cJSON_Delete(o.actions);
    return text;
}

Test(rules, a_filtered_handler_runs_only_for_events_whose_fields_equal_its_filter)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/filters.lua", fixtures);
    struct rules *r = load_ok(path);
    cr_assert_str_eq(notes_of(r, "{\"type\":\"meeting\",\"phase\":\"missed\",\"match\":3}"), "missed|any meeting");
    cr_assert_str_eq(notes_of(r, "{\"type\":\"meeting\",\"phase\":\"scheduled\",\"match\":7}"), "any meeting");
    /* any of a list, and every field must hold */
    cr_assert_str_eq(notes_of(r, "{\"type\":\"meeting\",\"phase\":\"held\",\"match\":7}"),
                     "held or cancelled at 7|any meeting");
    cr_assert_str_eq(notes_of(r, "{\"type\":\"meeting\",\"phase\":\"cancelled\",\"match\":7}"),
                     "held or cancelled at 7|any meeting");
    cr_assert_str_eq(notes_of(r, "{\"type\":\"meeting\",\"phase\":\"held\",\"match\":8}"), "any meeting");
    /* a value of another type never equals: "7" is not 7 */
    cr_assert_str_eq(notes_of(r, "{\"type\":\"meeting\",\"phase\":\"held\",\"match\":\"7\"}"), "any meeting");
    /* a field the event does not have: not passed */
    cr_assert_str_eq(notes_of(r, "{\"type\":\"flag\",\"reason\":\"stagnant\",\"rule\":\"x.lua:1\"}"), "");
    cr_assert_str_eq(notes_of(r, "{\"type\":\"flag\",\"reason\":\"no_goals\",\"signal\":true}"), "signal no_goals");
    /* program and model: of the match the event is about (a review names only its match) */
    cr_assert_str_eq(notes_of(r, "{\"type\":\"review\",\"match\":7}"), "", "no program known: no filter passes");
    dispatch_prog = 0;
    cr_assert_str_eq(notes_of(r, "{\"type\":\"review\",\"match\":7}"), "core review");
    dispatch_prog = -1;
    rules_free(r);
}

Test(rules, a_handler_that_errors_after_queuing_delivers_nothing)
{
    struct rules *r = load_handlers();
    struct outcome o = dispatch(r, "{\"type\":\"goal\",\"match\":3}");
    cr_assert_eq(o.calls, 1);
    cr_assert_eq(o.failures, 1);
    cr_assert_eq(cJSON_GetArraySize(o.actions), 0, "a failed handler's actions were delivered");
    cr_assert_str_eq(o.msg, "handler gave up");
    assert_where(o.where, 12);
    /* The next handler call starts clean. */
    struct outcome next = dispatch(r, "{\"type\":\"review\",\"match\":7,\"meetings_held\":3}");
    cr_assert_eq(next.failures, 0, "%s", next.msg);
    cr_assert_eq(cJSON_GetArraySize(next.actions), 2);
    cJSON_Delete(o.actions);
    cJSON_Delete(next.actions);
    rules_free(r);
}

Test(rules, declarations_are_refused_at_runtime)
{
    struct rules *r = load_handlers();
    struct outcome o = dispatch(r, "{\"type\":\"intro\",\"match\":3}");
    cr_assert_eq(o.failures, 1);
    cr_assert(strstr(o.msg, "tandem.program can only be called while the rule file loads"), "%s", o.msg);
    assert_where(o.where, 16);
    cr_assert_eq(r->n_programs, 1);
    cJSON_Delete(o.actions);
    rules_free(r);
}

Test(rules, deep_or_cyclic_tables_in_an_action_fail_cleanly)
{
    struct rules *r = load_handlers();
    struct outcome o = dispatch(r, "{\"type\":\"meeting\",\"phase\":\"deep\",\"match\":3}");
    cr_assert_eq(o.failures, 1);
    cr_assert(strstr(o.msg, "nested"), "%s", o.msg);
    assert_where(o.where, 24);
    cr_assert_eq(cJSON_GetArraySize(o.actions), 0);
    cJSON_Delete(o.actions);

    o = dispatch(r, "{\"type\":\"meeting\",\"phase\":\"cycle\",\"match\":3}");
    cr_assert_eq(o.failures, 1);
    cr_assert(strstr(o.msg, "nested"), "%s", o.msg);
    assert_where(o.where, 28);
    cr_assert_eq(cJSON_GetArraySize(o.actions), 0);
    cJSON_Delete(o.actions);
    rules_free(r);
}

Test(rules, limits_end_a_handler_and_the_engine_goes_on)
{
    struct rules *r = load_handlers();
    struct outcome o = dispatch(r, "{\"type\":\"close\",\"match\":3}");
    cr_assert_eq(o.failures, 1);
    cr_assert_str_eq(o.msg, "instruction budget exceeded");
    assert_where(o.where, 38);
    cJSON_Delete(o.actions);

    /* A handler that keeps what it can in a global fills the cap; the engine still builds
     * the next event's arguments (outside any protected call) without aborting. */
    o = dispatch(r, "{\"type\":\"feedback\",\"match\":3,\"n\":1}");
    cr_assert_str_eq(o.msg, "memory cap exceeded");
    cJSON_Delete(o.actions);
    /* The next events are bigger than the room the first one left. */
    char ev[16384];
    int n = snprintf(ev, sizeof ev, "{\"type\":\"feedback\",\"match\":3,\"n\":2,\"comments\":[");
    for (int i = 0; i < 300; i++)
        n += snprintf(ev + n, sizeof ev - n, "%s\"comment %d\"", i ? "," : "", i);
    snprintf(ev + n, sizeof ev - n, "]}");
    for (int i = 0; i < 2; i++) {
        o = dispatch(r, ev);
        cr_assert_eq(o.failures, 1);
        cr_assert_str_eq(o.msg, "memory cap exceeded");
        cJSON_Delete(o.actions);
    }
    rules_free(r);
}

/* A rule that catches an action's own error must not leave a half-built command behind.
 * Fails until lua_api.c's action() queues the command only once its arguments are checked. */
Test(rules, an_action_that_fails_under_pcall_queues_nothing)
{
    struct rules *r = load_handlers();
    struct outcome o = dispatch(r, "{\"type\":\"enroll\",\"match\":3}");
    cr_assert_eq(o.failures, 0, "%s", o.msg);
    char *s = cJSON_PrintUnformatted(o.actions);
    cr_assert_eq(cJSON_GetArraySize(o.actions), 0, "delivered: %s", s);
    free(s);
    cJSON_Delete(o.actions);
    rules_free(r);
}

/* Converting an action's fields must be bounded: a table of many keys is sorted in C, where
 * the budget cannot see it. Fails (takes tens of seconds) until lua_api.c's to_json sorts with
 * qsort and caps the size of what an action may carry. */
Test(rules, a_wide_table_in_an_action_is_handled_quickly)
{
    struct rules *r = load_handlers();
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    struct outcome o = dispatch(r, "{\"type\":\"person\",\"n\":100000}");
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) / 1e9;
    cr_assert_lt(s, 2.0, "took %.1f s (%s)", s, o.failures ? o.msg : "delivered");
    cJSON_Delete(o.actions);
    rules_free(r);
}
