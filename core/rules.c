/* rules: loading a rule file into a fresh sandbox and calling into it with a budget per call.
 * A load that fails frees everything it made; the engine keeps whatever rules it had. */
#include "rules.h"
#include "event_filter.h"
#include "suggest.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <lauxlib.h>
#include <nettle/sha2.h>

#include "lua_api.h"

/* Lua memory allowed per person in the organization, for matching over large pools. */
#define RULES_MEMORY_PER_PERSON (8u << 10)

/* A match call scores whole pools: it gets this many handler budgets. */
#define MATCH_BUDGET_FACTOR 100

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

char *rules_shipped_dir(void)
{
    const char *env = getenv("TANDEM_RULES_DIR");
    if (env && *env)
        return strdup(env);
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return NULL;
    exe[n] = '\0';
    char *dir = dirname(exe);
    char buf[PATH_MAX + 64];
    const char *tries[] = { "%s/../rules", "%s/../share/tandem/rules" };
    for (int i = 0; i < 2; i++) {
        snprintf(buf, sizeof buf, tries[i], dir);
        if (is_dir(buf)) {
            char *real = realpath(buf, NULL);
            return real ? real : strdup(buf);
        }
    }
    return NULL;
}

static int sha256_file(const char *path, char out[65])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -errno;
    struct sha256_ctx ctx;
    sha256_init(&ctx);
    unsigned char buf[65536];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        sha256_update(&ctx, n, buf);
    fclose(f);
    unsigned char d[SHA256_DIGEST_SIZE];
    sha256_digest(&ctx, sizeof d, d);
    for (int i = 0; i < SHA256_DIGEST_SIZE; i++)
        sprintf(out + 2 * i, "%02x", d[i]);
    return 0;
}

/* "FILE:LINE" -> file and line of an error. */
static int located(struct error *err, const char *where, const char *msg)
{
    char file[256] = "";
    int line = 0;
    const char *colon = strrchr(where, ':');
    if (colon && colon[1]) {
        snprintf(file, sizeof file, "%.*s", (int)(colon - where), where);
        line = atoi(colon + 1);
    }
    return error_set(err, ERR_INPUT, file[0] ? file : NULL, line, "%s", msg);
}

/* A handler's filter on program or model names one the file declares (known only once the
 * whole file has run): true with why written when a value names none, as it could never pass. */
static bool filter_names_unknown(const struct rules *r, const cJSON *filter, char *why, size_t len)
{
    static const char *const keys[] = { "program", "model" };
    for (int k = 0; k < 2; k++) {
        const cJSON *v;
        cJSON_ArrayForEach(v, cJSON_GetObjectItemCaseSensitive(filter, keys[k])) {
            bool found = false;
            for (int i = 0; i < r->n_programs && !found; i++)
                found = strcmp(k == 0 ? r->programs[i].def.name : r->programs[i].def.model, v->valuestring) == 0;
            if (found)
                continue;
            const char **names = malloc((size_t)r->n_programs * sizeof *names);
            for (int i = 0; names && i < r->n_programs; i++)
                names[i] = k == 0 ? r->programs[i].def.name : r->programs[i].def.model;
            char hint[96];
            snprintf(why, len, "tandem.on: filter on \"%s\": no program of the file %s \"%s\"%s: the "
                     "handler could never run", keys[k], k == 0 ? "is named" : "has the model", v->valuestring,
                     names ? suggest_hint(v->valuestring, names, r->n_programs, hint, sizeof hint) : "");
            free(names);
            return true;
        }
    }
    return false;
}

void rules_free(struct rules *r)
{
    if (!r)
        return;
    sandbox_close(&r->sb);
    free(r->people_built);
    strmap_free(&r->dept_map);
    free(r->dept_start);
    free(r->dept_people);
    for (int i = 0; i < r->n_programs; i++)
        program_free(&r->programs[i].def);
    free(r->programs);
    for (int i = 0; i < r->n_priorities; i++)
        free(r->priorities[i]);
    for (int i = 0; i < r->n_handlers; i++)
        cJSON_Delete(r->handlers[i].filter);
    free(r->handlers);
    for (int i = 0; i < r->n_plugins; i++) {
        free(r->plugins[i].name);
        cJSON_Delete(r->plugins[i].config);
    }
    free(r->plugins);
    free(r->path);
    free(r->dir);
    free(r->shipped_dir);
    free(r);
}

int rules_load(const char *path, const char *shipped_dir, struct rules **out, struct error *err)
{
    *out = NULL;
    struct rules *r = calloc(1, sizeof *r);
    if (!r)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    r->path = strdup(path);
    char *copy = strdup(path);
    r->dir = strdup(dirname(copy));
    free(copy);
    r->shipped_dir = shipped_dir ? strdup(shipped_dir) : rules_shipped_dir();
    r->matching = -1;
    r->people_ref = LUA_NOREF;
    r->ids_ref = LUA_NOREF;
    r->budget = SANDBOX_DEFAULT_BUDGET;
    r->sim = (struct sim_params){ .attendance = 0.85, .rating = 4.0, .renew = 0.6,
                                  .goal_progress = 0.5, .spread = 0.5, .approve = 0.9,
                                  .ack = 0.95, .answer = 0.9, .accept = 0.6 };
    if (sha256_file(path, r->sha256) < 0) {
        int e = errno;
        rules_free(r);
        return error_set(err, ERR_INPUT, path, 0, "cannot read: %s", strerror(e));
    }
    if (sandbox_open(&r->sb, 0) < 0) {
        rules_free(r);
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    lua_State *L = r->sb.L;
    lua_api_open(r);

    if (sandbox_loadfile(&r->sb, path) != LUA_OK) {
        /* The message reads "PATH:LINE: reason" or "PATH: reason": keep the parts apart. */
        const char *m = lua_tostring(L, -1);
        size_t n = strlen(path);
        int line = 0, rc;
        char *end = NULL;
        if (m && strncmp(m, path, n) == 0 && m[n] == ':') {
            line = (int)strtol(m + n + 1, &end, 10);
            if (line > 0 && end[0] == ':' && end[1] == ' ')
                rc = error_set(err, ERR_INPUT, path, line, "%s", end + 2);
            else if (m[n + 1] == ' ')
                rc = error_set(err, ERR_INPUT, path, 0, "%s", m + n + 2);
            else
                rc = error_set(err, ERR_INPUT, NULL, 0, "%s", m);
        } else {
            rc = error_set(err, ERR_INPUT, NULL, 0, "%s", m ? m : "cannot load");
        }
        rules_free(r);
        return rc;
    }
    r->loading = true;
    sandbox_reset(&r->sb, r->budget);
    char where[320];
    if (sandbox_call(&r->sb, 0, 0, where, sizeof where) != LUA_OK) {
        int rc = where[0] ? located(err, where, lua_tostring(L, -1))
                          : error_set(err, ERR_INPUT, path, 0, "%s", lua_tostring(L, -1));
        rules_free(r);
        return rc;
    }
    r->loading = false;
    if (r->n_programs == 0) {
        rules_free(r);
        return error_set(err, ERR_INPUT, path, 0, "declares no program (call tandem.program{...})");
    }
    char why[400];
    for (int i = 0; i < r->n_handlers; i++) {
        if (filter_names_unknown(r, r->handlers[i].filter, why, sizeof why)) {
            int rc = located(err, r->handlers[i].where, why);
            rules_free(r);
            return rc;
        }
    }
    *out = r;
    return 0;
}

cJSON *rules_programs_json(const struct rules *r)
{
    cJSON *arr = cJSON_CreateArray();
    for (int i = 0; i < r->n_programs; i++) {
        const struct program *p = &r->programs[i].def;
        cJSON *o = cJSON_CreateObject();
        char buf[32];
        cJSON_AddStringToObject(o, "name", p->name);
        cJSON_AddStringToObject(o, "model", p->model);
        duration_format(p->term, buf, sizeof buf);
        cJSON_AddStringToObject(o, "term", buf);
        duration_format(p->cadence, buf, sizeof buf);
        cJSON_AddStringToObject(o, "cadence", buf);
        duration_format(p->review_every, buf, sizeof buf);
        cJSON_AddStringToObject(o, "review_every", buf);
        duration_format(p->match_every, buf, sizeof buf);
        cJSON_AddStringToObject(o, "match_every", buf);
        cJSON_AddStringToObject(o, "objective", p->objective == OBJECTIVE_QUALITY ? "quality" : "coverage");
        cJSON_AddBoolToObject(o, "approve", p->approve);
        cJSON_AddBoolToObject(o, "reup", p->reup);
        cJSON_AddBoolToObject(o, "rotate", p->rotate);
        cJSON *pr = cJSON_AddArrayToObject(o, "prompts");
        for (int k = 0; k < p->n_prompts; k++)
            cJSON_AddItemToArray(pr, cJSON_CreateString(p->prompts[k]));
        lifecycle_to_json(&p->life, o);
        cJSON_AddItemToArray(arr, o);
    }
    return arr;
}

static bool call_predicate(struct rules *r, int prog, const char *field, int person, char *why,
                           size_t why_len, char *where, size_t where_len)
{
    lua_State *L = r->sb.L;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->programs[prog].table_ref);
    lua_getfield(L, -1, field);
    lua_remove(L, -2);
    lua_api_push_person(L, r, r->state, person);
    sandbox_reset(&r->sb, r->budget);
    if (sandbox_call(&r->sb, 1, 1, where, where_len) != LUA_OK) {
        snprintf(why, why_len, "%s: %s", field, lua_tostring(L, -1));
        lua_pop(L, 1);
        return false;
    }
    bool yes = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return yes;
}

void rules_roles(struct rules *r, int prog, int person, bool *mentor, bool *mentee, char *why,
                 size_t why_len, char *where, size_t where_len)
{
    why[0] = '\0';
    *mentor = r->programs[prog].role_mentor >= 0 &&
              call_predicate(r, prog, "mentor", person, why, why_len, where, where_len);
    if (why[0]) {
        *mentee = false;
        return;
    }
    *mentee = call_predicate(r, prog, "mentee", person, why, why_len, where, where_len);
}

void rules_groups_free(struct rules_group *g, int n)
{
    for (int i = 0; i < n; i++) {
        free(g[i].mentors);
        free(g[i].mentees);
        cJSON_Delete(g[i].why);
    }
    free(g);
}

/* Reads a list of person tables (by id) into person indices. */
static int read_side(lua_State *L, const struct state *s, int t, const char *k, int **out, int *n)
{
    *out = NULL;
    *n = 0;
    if (lua_getfield(L, t, k) != LUA_TTABLE) {
        lua_pop(L, 1);
        return 0;
    }
    int len = (int)lua_rawlen(L, -1);
    *out = calloc((size_t)len + 1, sizeof **out);
    for (int i = 1; i <= len; i++) {
        lua_rawgeti(L, -1, i);
        const char *id = NULL;
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "id");
            id = lua_tostring(L, -1);
            lua_pop(L, 1);
        } else if (lua_type(L, -1) == LUA_TSTRING) {
            id = lua_tostring(L, -1);
        }
        int p = id ? state_person(s, id) : -1;
        lua_pop(L, 1);
        if (p < 0) {
            lua_pop(L, 1);
            return ERR_INPUT;
        }
        (*out)[(*n)++] = p;
    }
    lua_pop(L, 1);
    return 0;
}

/* The pool's `load` and `waiting_since` are set on the shared person tables for one match
 * call: taken off again so no other call sees them. */
static void pool_fields_clear(struct rules *r, const int *people, int n, const char *field)
{
    lua_State *L = r->sb.L;
    for (int i = 0; i < n; i++) {
        lua_api_push_person(L, r, r->state, people[i]);
        lua_pushnil(L);
        lua_setfield(L, -2, field);
        lua_pop(L, 1);
    }
}

int rules_match(struct rules *r, int prog, const int *mentors, int n_mentors, const int *mentees,
                int n_mentees, struct rules_group **groups, int *n_groups, struct error *err)
{
    lua_State *L = r->sb.L;
    const struct state *s = r->state;
    int sprog = state_program(s, r->programs[prog].def.name);
    *groups = NULL;
    *n_groups = 0;
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->programs[prog].model_ref);
    lua_getfield(L, -1, "match");
    lua_remove(L, -2);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->programs[prog].table_ref);
    lua_createtable(L, 0, 3);
    lua_createtable(L, n_mentors, 0);
    for (int i = 0; i < n_mentors; i++) {
        lua_api_push_person(L, r, s, mentors[i]);
        lua_pushinteger(L, state_mentor_load(s, mentors[i], sprog));
        lua_setfield(L, -2, "load");
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "mentors");
    lua_createtable(L, n_mentees, 0);
    for (int i = 0; i < n_mentees; i++) {
        lua_api_push_person(L, r, s, mentees[i]);
        int e = state_enrollment(s, mentees[i], sprog, (enum role)r->programs[prog].role_mentee);
        if (e >= 0) {
            lua_pushinteger(L, s->enrollments[e].waiting_since);
            lua_setfield(L, -2, "waiting_since");
        }
        lua_rawseti(L, -2, i + 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, "people");     /* one-pool models (peer) read pool.people */
    lua_setfield(L, -2, "mentees");
    lua_pushstring(L, r->programs[prog].def.name);
    lua_setfield(L, -2, "program");

    r->matching = prog;
    /* A pool's person tables live in the Lua state: the cap grows with the organization
     * (64 MiB, or 8 KiB a person when that is more), never shrinks below the default. */
    size_t want = (size_t)s->n_people * RULES_MEMORY_PER_PERSON;
    if (want > r->sb.mem_cap)
        r->sb.mem_cap = want;
    sandbox_reset(&r->sb, r->budget * MATCH_BUDGET_FACTOR);
    char where[320];
    int rc = sandbox_call(&r->sb, 2, 1, where, sizeof where);
    r->matching = -1;
    pool_fields_clear(r, mentors, n_mentors, "load");
    pool_fields_clear(r, mentees, n_mentees, "waiting_since");
    if (rc != LUA_OK) {
        int e = where[0] ? located(err, where, lua_tostring(L, -1))
                         : error_set(err, ERR_INPUT, NULL, 0, "%s", lua_tostring(L, -1));
        lua_pop(L, 1);
        return e;
    }
    if (!lua_istable(L, -1)) {
        lua_pop(L, 1);
        return error_set(err, ERR_INPUT, NULL, 0, "model %s: match must return a list of groups",
                         r->programs[prog].def.model);
    }
    int t = lua_gettop(L);
    int n = (int)lua_rawlen(L, t);
    struct rules_group *g = calloc((size_t)n + 1, sizeof *g);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, t, i + 1);
        int gt = lua_gettop(L);
        if (!lua_istable(L, gt) || read_side(L, s, gt, "mentors", &g[i].mentors, &g[i].n_mentors) < 0 ||
            read_side(L, s, gt, "mentees", &g[i].mentees, &g[i].n_mentees) < 0) {
            rules_groups_free(g, i + 1);
            lua_settop(L, t - 1);
            return error_set(err, ERR_INPUT, NULL, 0, "model %s: group %d names unknown people",
                             r->programs[prog].def.model, i + 1);
        }
        lua_getfield(L, gt, "score");
        g[i].score = lua_isnumber(L, -1) ? lua_tonumber(L, -1) : 0;
        lua_pop(L, 1);
        lua_getfield(L, gt, "why");
        if (!lua_isnil(L, -1)) {
            char why[160];
            g[i].why = lua_api_to_json(L, -1, why, sizeof why);
        }
        lua_pop(L, 2);
    }
    lua_settop(L, t - 1);
    *groups = g;
    *n_groups = n;
    return 0;
}

bool rules_listens(const struct rules *r, const char *type, int prog)
{
    for (int i = 0; i < r->n_handlers; i++)
        if (strcmp(r->handlers[i].event, type) == 0)
            return true;
    if (prog < 0)
        return false;
    lua_State *L = r->sb.L;
    int top = lua_gettop(L);
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->programs[prog].model_ref);
    bool yes = lua_getfield(L, -1, "on") == LUA_TTABLE && lua_getfield(L, -1, type) == LUA_TFUNCTION;
    lua_settop(L, top);
    return yes;
}

/* Calls the function on top of the stack with the event (and the program table when
 * prog >= 0), collecting its actions. An error with no Lua frame to name (the memory cap, a
 * limit hit inside a coroutine made elsewhere) is placed at `declared`, where the handler
 * was declared, so a rule.error always names a FILE:LINE. */
static void run_handler(struct rules *r, const cJSON *event, int prog, const char *declared, rules_done_fn done,
                        void *ctx)
{
    lua_State *L = r->sb.L;
    lua_api_push_json(L, event);
    int nargs = 1;
    if (prog >= 0) {
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->programs[prog].table_ref);
        nargs = 2;
    }
    r->actions = cJSON_CreateArray();
    sandbox_reset(&r->sb, r->budget);
    char where[320];
    if (sandbox_call(&r->sb, nargs, 0, where, sizeof where) != LUA_OK) {
        done(ctx, NULL, lua_tostring(L, -1), where[0] ? where : declared);
        lua_pop(L, 1);
    } else {
        done(ctx, r->actions, NULL, NULL);
    }
    cJSON_Delete(r->actions);
    r->actions = NULL;
}

void rules_dispatch(struct rules *r, const cJSON *event, int prog, rules_done_fn done, void *ctx)
{
    lua_State *L = r->sb.L;
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(event, "type");
    if (!cJSON_IsString(t))
        return;
    if (prog >= 0) {
        int top = lua_gettop(L);
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->programs[prog].model_ref);
        if (lua_getfield(L, -1, "on") == LUA_TTABLE && lua_getfield(L, -1, t->valuestring) == LUA_TFUNCTION) {
            lua_replace(L, top + 1);
            lua_settop(L, top + 1);
            run_handler(r, event, prog, r->programs[prog].where, done, ctx);
        } else {
            lua_settop(L, top);
        }
    }
    const char *program = prog >= 0 ? r->programs[prog].def.name : NULL;
    const char *model = prog >= 0 ? r->programs[prog].def.model : NULL;
    for (int i = 0; i < r->n_handlers; i++) {
        if (strcmp(r->handlers[i].event, t->valuestring) != 0 ||
            !event_filter_match(r->handlers[i].filter, event, program, model))
            continue;
        lua_rawgeti(L, LUA_REGISTRYINDEX, r->handlers[i].ref);
        run_handler(r, event, -1, r->handlers[i].where, done, ctx);
    }
}
