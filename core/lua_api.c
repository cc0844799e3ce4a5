/* lua_api: the C side of the `tandem` module. Declarations are accepted only while the rule
 * file loads, actions only inside a handler; both name the rule's FILE:LINE. Queries push
 * fresh copies, so a rule that scribbles on a table changes nothing but its copy. */
#include "lua_api.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/stat.h>
#include <time.h>
#include <lauxlib.h>

#include "lua_api_internal.h"
#include "event_filter.h"
#include "suggest.h"
#include "lua_x.h"

#define R(L) lua_api_rules(L)
#define S(L) lua_api_state(L)
#define raise lua_api_raise
#define person_arg lua_api_person_arg
#define opt_field lua_api_opt_field

#define JSON_MAX_DEPTH 32
#define JSON_MAX_NODES 10000      /* values in one action's fields */
#define ACTIONS_MAX 1000          /* actions one handler call may queue */

static const char *const KNOWN_EVENTS[] = { "person", "enroll", "match", "meeting", "intro", "goal",
                                            "feedback", "review", "reup", "close", "flag", "note", "ack",
                                            "prompt", "checkin", "request", NULL };
static const char *const CORE_FIELDS[] = { "name", "model", "description", "term", "cadence",
                                           "review_every", "match_every", "mentor", "mentee", "score",
                                           "capacity", "prompts", "objective", "approve", "candidates",
                                           "repeat_pairs", "reup", "rotate", "prefilter", NULL };

struct rules *lua_api_rules(lua_State *L)
{
    return lua_touserdata(L, lua_upvalueindex(1));
}

/* Raises msg as is: the sandbox's message handler adds the rule's FILE:LINE. */
int lua_api_raise(lua_State *L, const char *fmt, ...)
{
    char buf[768];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lua_pushstring(L, buf);
    return lua_error(L);
}

static bool is_ident(char c)
{
    return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* True when line has `word` as a whole word followed (after blanks) by one of `after`. */
static bool has_word(const char *line, const char *word, const char *after)
{
    size_t n = strlen(word);
    for (const char *p = strstr(line, word); p; p = strstr(p + 1, word)) {
        if (p > line && is_ident(p[-1]))
            continue;
        const char *q = p + n;
        while (*q == ' ' || *q == '\t')
            q++;
        if (*q && strchr(after, *q) && !(q[0] == '=' && q[1] == '='))
            return true;
    }
    return false;
}

/* The line where `field = ...` is written in the declaration called at line `call`: Lua
 * knows only the line of the call, and a table constructor spans many. Searches from the
 * call down to the next declaration; falls back to the call's line. */
static int field_line(const char *path, int call, const char *field)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return call;
    char line[4096];
    int at = 0, found = call;
    while (fgets(line, sizeof line, f)) {
        if (++at < call)
            continue;
        if (at > call + 400 || (at > call && has_word(line, "program", "{(")))
            break;
        if (has_word(line, field, "=")) {
            found = at;
            break;
        }
    }
    fclose(f);
    return found;
}

static void caller_where(lua_State *L, char *buf, size_t len);

/* Raises an error about one field of the table passed to the calling declaration, located
 * at the field's own line. */
static int raise_field(lua_State *L, const char *field, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void mark_field_line(lua_State *L, const char *field)
{
    char where[320];
    caller_where(L, where, sizeof where);
    char *colon = strrchr(where, ':');
    if (colon) {
        *colon = '\0';
        lua_pushfstring(L, "%s:%d", where, field_line(where, atoi(colon + 1), field));
        lua_setfield(L, LUA_REGISTRYINDEX, "tandem.where");
    }
}

static int raise_field(lua_State *L, const char *field, const char *fmt, ...)
{
    char buf[768];
    mark_field_line(L, field);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    lua_pushstring(L, buf);
    return lua_error(L);
}

static void caller_where(lua_State *L, char *buf, size_t len)
{
    lua_Debug ar;
    buf[0] = '\0';
    for (int level = 1; lua_getstack(L, level, &ar); level++) {
        lua_getinfo(L, "Sl", &ar);
        if (ar.currentline > 0 && ar.source[0] == '@') {
            snprintf(buf, len, "%s:%d", ar.source + 1, ar.currentline);
            return;
        }
    }
}

/* ---- JSON <-> Lua ---- */

void lua_api_push_json(lua_State *L, const cJSON *v)
{
    luaL_checkstack(L, 4, "nesting");
    if (cJSON_IsString(v)) {
        lua_pushstring(L, v->valuestring);
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d == floor(d) && fabs(d) < 9007199254740992.0)
            lua_pushinteger(L, (lua_Integer)d);
        else
            lua_pushnumber(L, d);
    } else if (cJSON_IsBool(v)) {
        lua_pushboolean(L, cJSON_IsTrue(v));
    } else if (cJSON_IsArray(v)) {
        lua_createtable(L, cJSON_GetArraySize(v), 0);
        int i = 1;
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            lua_api_push_json(L, it);
            lua_rawseti(L, -2, i++);
        }
    } else if (cJSON_IsObject(v)) {
        lua_createtable(L, 0, cJSON_GetArraySize(v));   /* sized once: no rehash as it fills */
        const cJSON *it;
        cJSON_ArrayForEach(it, v) {
            if (cJSON_IsNull(it))
                continue;
            lua_api_push_json(L, it);
            lua_setfield(L, -2, it->string);
        }
    } else {
        lua_pushnil(L);
    }
}

struct jctx {
    int nodes;            /* converted so far: capped, and charged to the rule's budget */
    char *why;
    size_t len;
};

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static cJSON *to_json(lua_State *L, int idx, int depth, struct jctx *j)
{
    idx = lua_absindex(L, idx);
    if (++j->nodes > JSON_MAX_NODES) {
        snprintf(j->why, j->len, "more than %d values in one action", JSON_MAX_NODES);
        return NULL;
    }
    switch (lua_type(L, idx)) {
    case LUA_TNIL: return cJSON_CreateNull();
    case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TSTRING: return cJSON_CreateString(lua_tostring(L, idx));
    case LUA_TNUMBER: {
        double d = lua_tonumber(L, idx);
        if (!isfinite(d)) {
            snprintf(j->why, j->len, "a number that is not finite");
            return NULL;
        }
        return cJSON_CreateNumber(d);
    }
    case LUA_TTABLE: break;
    default:
        snprintf(j->why, j->len, "a %s value cannot be recorded", luaL_typename(L, idx));
        return NULL;
    }
    if (depth >= JSON_MAX_DEPTH) {
        snprintf(j->why, j->len, "tables nested deeper than %d (or a cycle)", JSON_MAX_DEPTH);
        return NULL;
    }
    luaL_checkstack(L, 6, "nesting");
    lua_Integer n = (lua_Integer)lua_rawlen(L, idx);
    lua_Integer keys = 0;
    bool strings_only = true;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        keys++;
        if (lua_type(L, -2) != LUA_TSTRING)
            strings_only = false;
        lua_pop(L, 1);
        if (keys > JSON_MAX_NODES) {
            lua_pop(L, 1);
            snprintf(j->why, j->len, "more than %d values in one action", JSON_MAX_NODES);
            return NULL;
        }
    }
    bool array = keys > 0 && keys == n;
    if (!array && !strings_only) {
        snprintf(j->why, j->len, "a table mixing list items and fields (or with non-string keys)");
        return NULL;
    }
    cJSON *out = array ? cJSON_CreateArray() : cJSON_CreateObject();
    if (array) {
        for (lua_Integer i = 1; i <= n; i++) {
            lua_rawgeti(L, idx, i);
            cJSON *item = to_json(L, -1, depth + 1, j);
            lua_pop(L, 1);
            if (!item) {
                cJSON_Delete(out);
                return NULL;
            }
            cJSON_AddItemToArray(out, item);
        }
        return out;
    }
    /* Objects in key order, so the log is the same from run to run. */
    const char **names = malloc((size_t)(keys ? keys : 1) * sizeof *names);
    if (!names) {
        cJSON_Delete(out);
        snprintf(j->why, j->len, "out of memory");
        return NULL;
    }
    int nk = 0;
    lua_pushnil(L);
    while (lua_next(L, idx)) {
        names[nk++] = lua_tostring(L, -2);   /* stays alive: the key is in the table */
        lua_pop(L, 1);
    }
    qsort(names, (size_t)nk, sizeof *names, cmp_names);
    for (int i = 0; i < nk; i++) {
        lua_getfield(L, idx, names[i]);
        cJSON *item = to_json(L, -1, depth + 1, j);
        lua_pop(L, 1);
        if (!item) {
            free(names);
            cJSON_Delete(out);
            return NULL;
        }
        cJSON_AddItemToObject(out, names[i], item);
    }
    free(names);
    return out;
}

cJSON *lua_api_to_json(lua_State *L, int idx, char *why, size_t why_len)
{
    struct jctx j = { 0, why, why_len };
    cJSON *out = to_json(L, idx, 0, &j);
    sandbox_charge(L, j.nodes);
    return out;
}

/* ---- people and matches as tables ---- */

static void set_string(lua_State *L, const char *k, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, k);
    }
}

static void push_set(lua_State *L, const struct strset *s)
{
    lua_createtable(L, 0, s->n);
    for (int i = 0; i < s->n; i++) {
        lua_pushboolean(L, 1);
        lua_setfield(L, -2, s->v[i]);
    }
}

static void build_person(lua_State *L, const struct state *s, int idx)
{
    const struct person *p = &s->people[idx].p;
    /* Sized exactly: a hash part rounds up to a power of two, so 20 slots became 32, and one
     * short makes Lua rehash at the last field. id, capacity, the three sets, attrs, left. */
    const char *texts[] = { p->name, p->email, p->title, p->location, p->department, p->timezone, p->manager,
                            p->plan };
    int fields = 7 + (p->level > 0) + !isnan(p->tenure_years);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        fields += texts[i] != NULL;
    lua_createtable(L, 0, fields);
    set_string(L, "id", p->id);
    set_string(L, "name", p->name);
    set_string(L, "email", p->email);
    set_string(L, "title", p->title);
    set_string(L, "location", p->location);
    set_string(L, "department", p->department);
    set_string(L, "timezone", p->timezone);
    set_string(L, "manager", p->manager);
    set_string(L, "plan", p->plan);
    if (p->level > 0) {
        lua_pushinteger(L, p->level);
        lua_setfield(L, -2, "level");
    }
    if (!isnan(p->tenure_years)) {
        lua_pushnumber(L, p->tenure_years);
        lua_setfield(L, -2, "tenure_years");
    }
    lua_pushinteger(L, p->capacity);
    lua_setfield(L, -2, "capacity");
    push_set(L, &p->skills);
    lua_setfield(L, -2, "skills");
    push_set(L, &p->wants);
    lua_setfield(L, -2, "wants");
    push_set(L, &p->tags);
    lua_setfield(L, -2, "tags");
    lua_createtable(L, 0, p->n_attrs);
    for (int i = 0; i < p->n_attrs; i++) {
        lua_pushstring(L, p->attrs[i].value);
        lua_setfield(L, -2, p->attrs[i].key);
    }
    lua_setfield(L, -2, "attrs");
    lua_pushboolean(L, s->people[idx].left);
    lua_setfield(L, -2, "left");
}

void lua_api_push_person(lua_State *L, struct rules *r, const struct state *s, int idx)
{
    if (r->people_ref == LUA_NOREF) {
        lua_newtable(L);
        r->people_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    }
    if (idx >= r->n_people_built) {
        /* Doubling: people are added one at a time, and growing by one each time copied the
         * whole array per new person (quadratic in the headcount). */
        int n = r->n_people_built ? r->n_people_built : 64;
        while (n <= idx || n < s->n_people)
            n *= 2;
        struct rules_person_built *nb = realloc(r->people_built, (size_t)n * sizeof *nb);
        if (!nb) {
            build_person(L, s, idx);   /* no room to remember it: a copy of its own */
            return;
        }
        memset(nb + r->n_people_built, 0, (size_t)(n - r->n_people_built) * sizeof *nb);
        r->people_built = nb;
        r->n_people_built = n;
    }
    struct rules_person_built *b = &r->people_built[idx];
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->people_ref);
    if (b->generation == s->generation && b->version == s->people[idx].version + 1) {
        lua_rawgeti(L, -1, idx + 1);
    } else {
        build_person(L, s, idx);
        lua_pushvalue(L, -1);
        lua_rawseti(L, -3, idx + 1);
        *b = (struct rules_person_built){ s->generation, s->people[idx].version + 1 };
    }
    lua_remove(L, -2);
}

static const char *const MATCH_PHASES[] = { "proposed", "active", "closed", "rejected" };

/* Pushes the table of every person's id as a Lua string (index + 1) and returns its stack
 * index. A list of ids copies from it: lua_pushstring would hash each id again, and each
 * lives at its own address, so Lua's string cache by address misses every time. */
static int ids_table(lua_State *L, const struct state *s)
{
    struct rules *r = R(L);
    if (r->ids_ref == LUA_NOREF || r->ids_generation != s->generation) {
        if (r->ids_ref != LUA_NOREF)
            luaL_unref(L, LUA_REGISTRYINDEX, r->ids_ref);
        lua_createtable(L, s->n_people, 0);
        r->ids_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        r->n_ids = 0;
        r->ids_generation = s->generation;
    }
    lua_rawgeti(L, LUA_REGISTRYINDEX, r->ids_ref);
    for (; r->n_ids < s->n_people; r->n_ids++) {   /* people are only ever added */
        lua_pushstring(L, s->people[r->n_ids].p.id);
        lua_rawseti(L, -2, r->n_ids + 1);
    }
    return lua_gettop(L);
}

static void push_ids(lua_State *L, const struct state *s, const int *idx, int n)
{
    int ids = ids_table(L, s);
    lua_createtable(L, n, 0);
    for (int i = 0; i < n; i++) {
        lua_rawgeti(L, ids, idx[i] + 1);
        lua_rawseti(L, -2, i + 1);
    }
    lua_remove(L, ids);
}

static void set_int(lua_State *L, const char *k, long long v)
{
    lua_pushinteger(L, v);
    lua_setfield(L, -2, k);
}

static void push_match(lua_State *L, const struct state *s, const struct match *m)
{
    lua_createtable(L, 0, 20);
    set_int(L, "id", m->id);
    set_string(L, "program", s->programs[m->program].name);
    set_string(L, "model", s->programs[m->program].model);
    set_string(L, "state", MATCH_PHASES[m->phase]);
    push_ids(L, s, m->mentors, m->n_mentors);
    lua_setfield(L, -2, "mentors");
    push_ids(L, s, m->mentees, m->n_mentees);
    lua_setfield(L, -2, "mentees");
    lua_pushnumber(L, m->score);
    lua_setfield(L, -2, "score");
    set_int(L, "started", m->started);
    set_int(L, "term_ends", m->term_ends);
    set_int(L, "terms", m->terms);
    set_int(L, "meetings_held", m->held);
    set_int(L, "meetings_missed", m->missed);
    set_int(L, "reviews", m->reviews);
    set_int(L, "flags", m->flags);
    set_string(L, "close_reason", m->close_reason);
    push_ids(L, s, m->guests, m->n_guests);
    lua_setfield(L, -2, "guests");
}

/* ---- declarations ---- */

static void check_loading(lua_State *L, struct rules *r, const char *what)
{
    if (!r->loading)
        raise(L, "tandem.%s can only be called while the rule file loads", what);
}

static bool name_valid(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 64)
        return false;
    for (; *s; s++)
        if (!(*s == '_' || *s == '-' || *s == '.' || (*s >= '0' && *s <= '9') ||
              (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return false;
    return true;
}

static int api_priorities(lua_State *L)
{
    struct rules *r = R(L);
    check_loading(L, r, "priorities");
    luaL_checktype(L, 1, LUA_TTABLE);
    if (r->priorities_set)
        return raise(L, "tandem.priorities is declared twice");
    lua_Integer n = (lua_Integer)lua_rawlen(L, 1);
    if (n < 1 || n > RULES_MAX_PRIORITIES)
        return raise(L, "tandem.priorities takes one to three priorities, got %d", (int)n);
    for (lua_Integer i = 1; i <= n; i++) {
        lua_rawgeti(L, 1, i);
        const char *p = lua_tostring(L, -1);
        if (lua_type(L, -1) != LUA_TSTRING || !name_valid(p))
            return raise(L, "priority %d must be a short name like \"inclusion\"", (int)i);
        for (int k = 0; k < r->n_priorities; k++)
            if (strcmp(r->priorities[k], p) == 0)
                return raise(L, "priority \"%s\" is named twice", p);
        r->priorities[r->n_priorities++] = strdup(p);
        lua_pop(L, 1);
    }
    r->priorities_set = true;
    return 0;
}

/* tandem.priority(name): its rank (1-3) among the organization's priorities, or nil; for
 * scores that weigh what the organization said matters. */
static int api_priority(lua_State *L)
{
    struct rules *r = R(L);
    const char *name = luaL_checkstring(L, 1);
    for (int i = 0; i < r->n_priorities; i++)
        if (strcmp(r->priorities[i], name) == 0) {
            lua_pushinteger(L, i + 1);
            return 1;
        }
    return 0;
}

static double sim_number(lua_State *L, const char *k, double def, double lo, double hi)
{
    int t = lua_getfield(L, 1, k);
    double v = def;
    if (t != LUA_TNIL) {
        if (t != LUA_TNUMBER)
            raise(L, "tandem.simulation: %s must be a number", k);
        v = lua_tonumber(L, -1);
        if (!(v >= lo && v <= hi))
            raise(L, "tandem.simulation: %s must be between %g and %g", k, lo, hi);
    }
    lua_pop(L, 1);
    return v;
}

static int api_simulation(lua_State *L)
{
    struct rules *r = R(L);
    check_loading(L, r, "simulation");
    luaL_checktype(L, 1, LUA_TTABLE);
    static const char *const known[] = { "attendance", "rating", "renew", "goal_progress", "spread", "approve",
                                         "ack", "answer", "accept", NULL };
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        bool ok = false;
        for (int i = 0; known[i]; i++)
            ok |= strcmp(known[i], k) == 0;
        if (!ok)
            return raise(L, "tandem.simulation: unknown field \"%s\" (known: attendance, rating, renew, "
                            "goal_progress, spread, approve, ack, answer, accept)", k);
        lua_pop(L, 1);
    }
    r->sim.attendance = sim_number(L, "attendance", r->sim.attendance, 0, 1);
    r->sim.rating = sim_number(L, "rating", r->sim.rating, 1, 5);
    r->sim.renew = sim_number(L, "renew", r->sim.renew, 0, 1);
    r->sim.goal_progress = sim_number(L, "goal_progress", r->sim.goal_progress, 0, 1);
    r->sim.spread = sim_number(L, "spread", r->sim.spread, 0, 1);
    r->sim.approve = sim_number(L, "approve", r->sim.approve, 0, 1);
    r->sim.ack = sim_number(L, "ack", r->sim.ack, 0, 1);
    r->sim.answer = sim_number(L, "answer", r->sim.answer, 0, 1);
    r->sim.accept = sim_number(L, "accept", r->sim.accept, 0, 1);
    r->simulation_set = true;
    return 0;
}

/* A filter value: a string, a finite number or a boolean; NULL (with *why set) otherwise. */
static cJSON *filter_value(lua_State *L, int idx, const char **why)
{
    switch (lua_type(L, idx)) {
    case LUA_TSTRING: return cJSON_CreateString(lua_tostring(L, idx));
    case LUA_TBOOLEAN: return cJSON_CreateBool(lua_toboolean(L, idx));
    case LUA_TNUMBER:
        if (isfinite(lua_tonumber(L, idx)))
            return cJSON_CreateNumber(lua_tonumber(L, idx));
        *why = "a number that is not finite";
        return NULL;
    default: *why = luaL_typename(L, idx); return NULL;
    }
}

/* The filter table at idx as an event_filter (field -> array of values); raises on a field the
 * events of this type do not have (with the nearest one) or a value no event field can equal. */
static cJSON *filter_parse(lua_State *L, int idx, const char *ev)
{
    const char *const *fields = event_filter_fields(ev);
    int n_fields = 0;
    while (fields && fields[n_fields])
        n_fields++;
    cJSON *filter = cJSON_CreateObject();   /* deleted before each raise below */
    lua_pushnil(L);
    while (lua_next(L, idx) != 0) {
        if (lua_type(L, -2) != LUA_TSTRING) {
            cJSON_Delete(filter);
            return raise(L, "tandem.on: a filter's keys are event fields (got a %s key)", luaL_typename(L, -2)), NULL;
        }
        const char *key = lua_tostring(L, -2);
        bool known = false;
        for (int i = 0; i < n_fields && !known; i++)
            known = strcmp(fields[i], key) == 0;
        if (!known) {
            char msg[200];
            const char *near = suggest_nearest(key, fields, n_fields);
            snprintf(msg, sizeof msg, "tandem.on: %s events have no field \"%s\" to filter on", ev, key);
            cJSON_Delete(filter);
            if (near)
                return raise(L, "%s (did you mean \"%s\"?)", msg, near), NULL;
            return raise(L, "%s", msg), NULL;
        }
        cJSON *values = cJSON_CreateArray();
        cJSON_AddItemToObject(filter, key, values);
        const char *why = NULL;
        if (lua_type(L, -1) == LUA_TTABLE) {
            lua_Integer n = (lua_Integer)lua_rawlen(L, -1);
            lua_pushnil(L);
            bool any = lua_next(L, -2) != 0;   /* pushes a key and its value when there is one */
            if (any)
                lua_pop(L, 2);
            if (n == 0)
                why = any ? "a table with keys, not a list" : "an empty list";
            for (lua_Integer i = 1; i <= n && !why; i++) {
                lua_rawgeti(L, -1, i);
                cJSON *v = filter_value(L, -1, &why);
                lua_pop(L, 1);
                if (v)
                    cJSON_AddItemToArray(values, v);
            }
        } else {
            cJSON *v = filter_value(L, -1, &why);
            if (v)
                cJSON_AddItemToArray(values, v);
        }
        if (why) {
            cJSON_Delete(filter);
            return raise(L, "tandem.on: filter field \"%s\" must be a string, number or boolean, or a list of "
                            "them (got %s)", key, why), NULL;
        }
        char buf[200];
        const cJSON *v;
        cJSON_ArrayForEach(v, values) {
            const char *bad = event_filter_value_error(ev, key, v, buf, sizeof buf);
            if (bad) {
                cJSON_Delete(filter);
                return raise(L, "tandem.on: filter on \"%s\": %s: the handler could never run", key, bad), NULL;
            }
        }
        lua_pop(L, 1);
    }
    return filter;
}

/* tandem.on(event, fn) or tandem.on(event, filter, fn): fn runs for every committed event of
 * that type, or only for those whose fields equal the filter's (a value, or any of a list). */
static int api_on(lua_State *L)
{
    struct rules *r = R(L);
    check_loading(L, r, "on");
    const char *ev = luaL_checkstring(L, 1);
    bool filtered = lua_type(L, 2) == LUA_TTABLE;
    int fn = filtered ? 3 : 2;
    luaL_checktype(L, fn, LUA_TFUNCTION);
    bool known = false;
    for (int i = 0; KNOWN_EVENTS[i]; i++)
        known |= strcmp(KNOWN_EVENTS[i], ev) == 0;
    const char *near = known ? NULL : suggest_nearest(ev, KNOWN_EVENTS, (int)(sizeof KNOWN_EVENTS / sizeof *KNOWN_EVENTS) - 1);
    if (near)
        return raise(L, "unknown event \"%s\" (did you mean \"%s\"?)", ev, near);
    if (!known)
        return raise(L, "unknown event \"%s\" (events: person, enroll, match, meeting, intro, goal, "
                        "feedback, review, reup, close, flag, note)", ev);
    cJSON *filter = filtered ? filter_parse(L, 2, ev) : NULL;
    struct rules_handler *h = realloc(r->handlers, (size_t)(r->n_handlers + 1) * sizeof *h);
    if (!h) {
        cJSON_Delete(filter);
        return raise(L, "out of memory");
    }
    r->handlers = h;
    h = &r->handlers[r->n_handlers++];
    snprintf(h->event, sizeof h->event, "%s", ev);
    h->filter = filter;
    caller_where(L, h->where, sizeof h->where);
    lua_pushvalue(L, fn);
    h->ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 0;
}

/* ---- require and models ---- */

static bool file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static bool module_path(struct rules *r, const char *name, char *out, size_t len)
{
    char rel[256];
    size_t n = strlen(name);
    if (n == 0 || n > 200)
        return false;
    for (size_t i = 0; i <= n; i++) {
        char c = name[i];
        if (c && c != '.' && c != '_' && !(c >= '0' && c <= '9') && !(c >= 'a' && c <= 'z') &&
            !(c >= 'A' && c <= 'Z'))
            return false;
        rel[i] = c == '.' ? '/' : c;
    }
    const char *dirs[] = { r->dir, r->shipped_dir };
    for (int i = 0; i < 2; i++) {
        if (!dirs[i])
            continue;
        snprintf(out, len, "%s/%s.lua", dirs[i], rel);
        if (file_exists(out))
            return true;
    }
    return false;
}

void lua_api_require(lua_State *L, struct rules *r, const char *name)
{
    if (strcmp(name, "tandem") == 0) {
        /* The module itself, even if a rule file has reassigned the global. */
        lua_getfield(L, LUA_REGISTRYINDEX, "tandem.module");
        return;
    }
    lua_getfield(L, LUA_REGISTRYINDEX, "tandem.loaded");
    if (lua_getfield(L, -1, name) != LUA_TNIL) {
        lua_remove(L, -2);
        return;
    }
    lua_pop(L, 1);
    char path[1024];
    if (!module_path(r, name, path, sizeof path))
        raise(L, "module \"%s\" not found in %s or %s", name, r->dir ? r->dir : "?",
              r->shipped_dir ? r->shipped_dir : "(no shipped rules folder)");
    if (sandbox_loadfile(&r->sb, path) != LUA_OK)
        lua_error(L);
    lua_pushstring(L, name);
    lua_call(L, 1, 1);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        lua_pushboolean(L, 1);
    }
    lua_pushvalue(L, -1);
    lua_setfield(L, -3, name);
    lua_remove(L, -2);
}

static int api_require(lua_State *L)
{
    lua_api_require(L, R(L), luaL_checkstring(L, 1));
    return 1;
}

static bool in_list(const char *const *list, const char *s)
{
    for (int i = 0; list[i]; i++)
        if (strcmp(list[i], s) == 0)
            return true;
    return false;
}

static void program_duration(lua_State *L, int t, const char *prog, const char *k, struct duration *out)
{
    if (lua_getfield(L, t, k) != LUA_TSTRING)
        raise_field(L, k, "program \"%s\": %s must be a duration like \"2w\" or \"6mo\"", prog, k);
    char why[160];
    if (duration_parse(lua_tostring(L, -1), out, why, sizeof why) < 0)
        raise_field(L, k, "program \"%s\": %s: %s", prog, k, why);
    lua_pop(L, 1);
}

static void program_function(lua_State *L, int t, const char *prog, const char *k, bool number_ok)
{
    int ty = lua_getfield(L, t, k);
    if (ty != LUA_TFUNCTION && !(number_ok && ty == LUA_TNUMBER))
        raise_field(L, k, "program \"%s\": %s must be a function%s", prog, k, number_ok ? " or a number" : "");
    lua_pop(L, 1);
}

static void free_prompts(struct program *p)
{
    for (int i = 0; i < p->n_prompts; i++)
        free(p->prompts[i]);
    free(p->prompts);
    p->prompts = NULL;
    p->n_prompts = 0;
}

/* Calls the model's validate(program) in protected mode, so the prompts copied so far are
 * freed whatever it does. Returns a message (kept on the Lua stack) or NULL; *field gets the
 * field the model blames (its second result), or NULL. */
static const char *model_validate(lua_State *L, int model_t, int prog_t, const char **field)
{
    *field = NULL;
    if (lua_getfield(L, model_t, "validate") != LUA_TFUNCTION) {
        lua_pop(L, 1);
        return NULL;
    }
    lua_pushvalue(L, prog_t);
    if (lua_pcall(L, 1, 2, 0) != LUA_OK)
        return lua_tostring(L, -1) ? lua_tostring(L, -1) : "validate failed";
    if (lua_isstring(L, -2)) {
        *field = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : NULL;
        return lua_tostring(L, -2);
    }
    lua_pop(L, 2);
    return NULL;
}

static int set_name(const char *s)
{
    if (!s) return -1;
    if (strcmp(s, "skills") == 0) return PF_SKILLS;
    if (strcmp(s, "wants") == 0) return PF_WANTS;
    if (strcmp(s, "tags") == 0) return PF_TAGS;
    return -1;
}

/* prefilter = { shared = {"skills", "wants"} or prefer = {...}, level_gap = {min = 1, max = 5},
 *               department = "different", limit = 60 }: every key optional. */
static void parse_prefilter(lua_State *L, int t, const char *prog, struct prefilter *pf)
{
    memset(pf, 0, sizeof *pf);
    if (lua_getfield(L, t, "prefilter") == LUA_TNIL) {
        lua_pop(L, 1);
        return;
    }
    int p = lua_gettop(L);
    if (!lua_istable(L, p))
        raise_field(L, "prefilter", "program \"%s\": prefilter must be a table", prog);
    lua_pushnil(L);
    while (lua_next(L, p)) {
        const char *k = lua_type(L, -2) == LUA_TSTRING ? lua_tostring(L, -2) : "?";
        if (strcmp(k, "shared") && strcmp(k, "prefer") && strcmp(k, "level_gap") && strcmp(k, "department") &&
            strcmp(k, "limit"))
            raise_field(L, "prefilter", "program \"%s\": prefilter has no \"%s\" (shared, prefer, level_gap, "
                        "department, limit)", prog, k);
        lua_pop(L, 1);
    }
    static const char *const sets[2] = { "shared", "prefer" };
    int *mentor_set[2] = { &pf->shared_mentor, &pf->prefer_mentor };
    int *mentee_set[2] = { &pf->shared_mentee, &pf->prefer_mentee };
    for (int w = 0; w < 2; w++) {
        if (lua_getfield(L, p, sets[w]) != LUA_TNIL) {
            if (!lua_istable(L, -1))
                raise_field(L, "prefilter", "program \"%s\": prefilter.%s must name two of skills, wants, "
                            "tags: {\"skills\", \"wants\"}", prog, sets[w]);
            lua_rawgeti(L, -1, 1);
            lua_rawgeti(L, -2, 2);
            *mentor_set[w] = set_name(lua_tostring(L, -2));
            *mentee_set[w] = set_name(lua_tostring(L, -1));
            if (*mentor_set[w] <= 0 || *mentee_set[w] <= 0)
                raise_field(L, "prefilter", "program \"%s\": prefilter.%s must name two of skills, wants, tags: "
                            "{\"skills\", \"wants\"}", prog, sets[w]);
            lua_pop(L, 2);
        }
        lua_pop(L, 1);
    }
    if (pf->shared_mentor && pf->prefer_mentor)
        raise_field(L, "prefilter", "program \"%s\": prefilter takes shared or prefer, not both (shared "
                    "already ranks by the items shared)", prog);
    if (lua_getfield(L, p, "limit") != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 1000000)
            raise_field(L, "prefilter", "program \"%s\": prefilter.limit must be a whole number from 1 to "
                        "1000000 (mentors scored per mentee)", prog);
        pf->limit = (int)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, p, "level_gap") != LUA_TNIL) {
        lua_getfield(L, -1, "min");
        lua_getfield(L, -2, "max");
        if (!lua_isinteger(L, -2) || !lua_isinteger(L, -1) || lua_tointeger(L, -2) > lua_tointeger(L, -1))
            raise_field(L, "prefilter", "program \"%s\": prefilter.level_gap must be {min = n, max = m} with "
                        "min <= max (mentor level minus mentee level)", prog);
        pf->level_window = true;
        pf->level_min = (int)lua_tointeger(L, -2);
        pf->level_max = (int)lua_tointeger(L, -1);
        lua_pop(L, 2);
    }
    lua_pop(L, 1);
    if (lua_getfield(L, p, "department") != LUA_TNIL) {
        const char *d = lua_tostring(L, -1);
        pf->department = d && strcmp(d, "same") == 0 ? 1 : d && strcmp(d, "different") == 0 ? 2 : -1;
        if (pf->department < 0)
            raise_field(L, "prefilter", "program \"%s\": prefilter.department must be \"same\" or \"different\"",
                        prog);
    }
    lua_pop(L, 2);
}

/* The lifecycle fields (lifecycle.h) go through JSON so the log, snapshots and the rule file
 * share one parser. On an error, leaves the message (at the field's line) on the stack and
 * returns -1 for the caller to raise once it has freed what it holds. */
static int parse_lifecycle(lua_State *L, int prog_t, const char *prog, struct lifecycle *life)
{
    char why[200];
    cJSON *o = cJSON_CreateObject();
    for (int i = 0; o && lifecycle_fields[i]; i++) {
        if (lua_getfield(L, prog_t, lifecycle_fields[i]) != LUA_TNIL) {
            cJSON *v = lua_api_to_json(L, -1, why, sizeof why);
            if (!v) {
                cJSON_Delete(o);
                lua_pop(L, 1);
                lua_pushfstring(L, "program \"%s\": %s: %s", prog, lifecycle_fields[i], why);
                return -1;
            }
            cJSON_AddItemToObject(o, lifecycle_fields[i], v);
        }
        lua_pop(L, 1);
    }
    const char *field = NULL;
    int rc = o ? lifecycle_from_json(life, o, &field, why, sizeof why) : ERR_SYSTEM;
    cJSON_Delete(o);
    if (rc == 0)
        return 0;
    if (field) {
        mark_field_line(L, field);
        lua_pushfstring(L, "program \"%s\": %s %s", prog, field, why);
    } else {
        lua_pushfstring(L, "program \"%s\": %s", prog, why);
    }
    return -1;
}

/* Did you mean: the nearest model file name (models/NAME.lua beside the rules or shipped). */
static bool nearest_model(struct rules *r, const char *model, char *out, size_t len)
{
    enum { MAX_MODELS = 256 };
    char names[MAX_MODELS][64];
    const char *list[MAX_MODELS];
    int n = 0;
    const char *dirs[] = { r->dir, r->shipped_dir };
    for (int i = 0; i < 2; i++) {
        char dir[1024];
        if (!dirs[i])
            continue;
        snprintf(dir, sizeof dir, "%s/models", dirs[i]);
        DIR *d = opendir(dir);
        for (struct dirent *de; d && n < MAX_MODELS && (de = readdir(d));) {
            size_t l = strlen(de->d_name);
            if (l > 4 && l - 4 < sizeof names[n] && strcmp(de->d_name + l - 4, ".lua") == 0) {
                snprintf(names[n], sizeof names[n], "%.*s", (int)(l - 4), de->d_name);
                list[n] = names[n];
                n++;
            }
        }
        if (d)
            closedir(d);
    }
    const char *near = suggest_nearest(model, list, n);
    if (near)
        snprintf(out, len, "%s", near);
    return near != NULL;
}

/* Did you mean: the nearest program field the core or the model (its fields table at fields_t)
 * knows. The name returned lives in CORE_FIELDS or in that table. */
static const char *nearest_field(lua_State *L, int fields_t, const char *k)
{
    enum { MAX_FIELDS = 128 };
    const char *list[MAX_FIELDS];
    int n = 0;
    for (int i = 0; CORE_FIELDS[i] && n < MAX_FIELDS; i++)
        list[n++] = CORE_FIELDS[i];
    for (int i = 0; lifecycle_fields[i] && n < MAX_FIELDS; i++)
        list[n++] = lifecycle_fields[i];
    if (lua_istable(L, fields_t)) {
        lua_pushnil(L);
        while (lua_next(L, fields_t)) {
            lua_pop(L, 1);
            if (lua_type(L, -1) == LUA_TSTRING && n < MAX_FIELDS)
                list[n++] = lua_tostring(L, -1);   /* the key stays alive in the table */
        }
    }
    return suggest_nearest(k, list, n);
}

static int api_program(lua_State *L)
{
    struct rules *r = R(L);
    check_loading(L, r, "program");
    luaL_checktype(L, 1, LUA_TTABLE);
    if (lua_getfield(L, 1, "name") != LUA_TSTRING || !name_valid(lua_tostring(L, -1)))
        return raise(L, "tandem.program needs a name: letters, digits, '_', '-' or '.', at most 64");
    const char *name = lua_tostring(L, -1);
    for (int i = 0; i < r->n_programs; i++)
        if (strcmp(r->programs[i].def.name, name) == 0)
            return raise(L, "program \"%s\" is declared twice (first at %s)", name, r->programs[i].where);
    if (lua_getfield(L, 1, "model") != LUA_TSTRING || !name_valid(lua_tostring(L, -1)))
        return raise(L, "program \"%s\": model must name a model file, like \"one_to_one\"", name);
    const char *model = lua_tostring(L, -1);
    char modname[128], path[1024];
    snprintf(modname, sizeof modname, "models.%s", model);
    if (!module_path(r, modname, path, sizeof path)) {
        char near[128];
        if (nearest_model(r, model, near, sizeof near))
            return raise_field(L, "model", "program \"%s\": unknown model \"%s\" (did you mean \"%s\"?)", name,
                               model, near);
        return raise_field(L, "model", "program \"%s\": unknown model \"%s\" (no models/%s.lua in %s or %s)", name,
                           model, model, r->dir, r->shipped_dir ? r->shipped_dir : "(no shipped rules)");
    }
    lua_api_require(L, r, modname);
    int model_t = lua_gettop(L);
    if (!lua_istable(L, model_t) || lua_getfield(L, model_t, "match") != LUA_TFUNCTION)
        return raise(L, "model \"%s\" (%s) must return a table with a match function", model, path);
    lua_pop(L, 1);

    /* Every field must be known to the core or declared by the model. */
    lua_getfield(L, model_t, "fields");
    int fields_t = lua_gettop(L);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_type(L, -2) != LUA_TSTRING)
            return raise(L, "program \"%s\": field names must be strings", name);
        const char *k = lua_tostring(L, -2);
        bool model_field = false;
        if (lua_istable(L, fields_t)) {
            model_field = lua_getfield(L, fields_t, k) != LUA_TNIL;
            lua_pop(L, 1);
        }
        if (!in_list(CORE_FIELDS, k) && !in_list(lifecycle_fields, k) && !model_field) {
            const char *near = nearest_field(L, fields_t, k);
            if (near)
                return raise_field(L, k, "program \"%s\": unknown field \"%s\" for model %s (did you mean \"%s\"?)",
                                   name, k, model, near);
            return raise_field(L, k, "program \"%s\": unknown field \"%s\" for model %s", name, k, model);
        }
        lua_pop(L, 1);
    }

    /* The program table: the model's defaults, then what the rule file says. */
    lua_newtable(L);
    int prog_t = lua_gettop(L);
    if (lua_getfield(L, model_t, "defaults") == LUA_TTABLE) {
        lua_pushnil(L);
        while (lua_next(L, -2)) {
            lua_pushvalue(L, -2);
            lua_insert(L, -2);
            lua_rawset(L, prog_t);
        }
    }
    lua_pop(L, 1);
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pushvalue(L, -2);
        lua_insert(L, -2);
        lua_rawset(L, prog_t);
    }

    struct rules_program rp;
    memset(&rp, 0, sizeof rp);
    /* The roles each side enrols as: mentor/mentee unless the model says otherwise
     * (senior_leader: leader/attendee; peer: one pool of peers, no mentor side). */
    rp.role_mentor = ROLE_MENTOR;
    rp.role_mentee = ROLE_MENTEE;
    if (lua_getfield(L, model_t, "roles") == LUA_TTABLE) {
        lua_getfield(L, -1, "mentor");
        rp.role_mentor = lua_isnil(L, -1) ? -1 : role_parse(lua_tostring(L, -1));
        lua_getfield(L, -2, "mentee");
        rp.role_mentee = role_parse(lua_tostring(L, -1));
        lua_pop(L, 2);
        if (rp.role_mentee < 0 || (rp.role_mentor < 0 && rp.role_mentee != ROLE_PEER))
            return raise(L, "model \"%s\": roles must name mentor/mentee roles (mentor, mentee, peer, leader, "
                            "attendee)", model);
    }
    lua_pop(L, 1);
    program_duration(L, prog_t, name, "term", &rp.def.term);
    program_duration(L, prog_t, name, "cadence", &rp.def.cadence);
    program_duration(L, prog_t, name, "review_every", &rp.def.review_every);
    program_duration(L, prog_t, name, "match_every", &rp.def.match_every);
    if (rp.role_mentor >= 0)
        program_function(L, prog_t, name, "mentor", false);
    program_function(L, prog_t, name, "mentee", false);
    program_function(L, prog_t, name, "score", false);
    program_function(L, prog_t, name, "capacity", true);
    lua_getfield(L, prog_t, "objective");
    const char *obj = lua_isnil(L, -1) ? "coverage" : lua_tostring(L, -1);
    if (!obj || (strcmp(obj, "coverage") != 0 && strcmp(obj, "quality") != 0))
        return raise(L, "program \"%s\": objective must be \"coverage\" or \"quality\"", name);
    rp.def.objective = strcmp(obj, "quality") == 0 ? OBJECTIVE_QUALITY : OBJECTIVE_COVERAGE;
    lua_pop(L, 1);
    int ty = lua_getfield(L, prog_t, "approve");
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        return raise(L, "program \"%s\": approve must be true or false", name);
    rp.def.approve = lua_toboolean(L, -1);
    lua_pop(L, 1);
    ty = lua_getfield(L, prog_t, "reup");
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        return raise(L, "program \"%s\": reup must be true or false", name);
    rp.def.reup = ty == LUA_TNIL || lua_toboolean(L, -1);
    lua_pop(L, 1);
    ty = lua_getfield(L, prog_t, "rotate");
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        return raise(L, "program \"%s\": rotate must be true or false", name);
    rp.def.rotate = lua_toboolean(L, -1);
    lua_pop(L, 1);
    ty = lua_getfield(L, prog_t, "repeat_pairs");
    if (ty != LUA_TNIL && ty != LUA_TBOOLEAN)
        return raise(L, "program \"%s\": repeat_pairs must be true or false", name);
    rp.repeat_pairs = lua_toboolean(L, -1);
    lua_pop(L, 1);
    parse_prefilter(L, prog_t, name, &rp.pre);
    ty = lua_getfield(L, prog_t, "candidates");
    if (ty != LUA_TNIL) {
        if (!lua_isinteger(L, -1) || lua_tointeger(L, -1) < 1 || lua_tointeger(L, -1) > 100000)
            return raise(L, "program \"%s\": candidates must be a whole number from 1 to 100000", name);
        rp.candidates = (int)lua_tointeger(L, -1);
    }
    lua_pop(L, 1);
    ty = lua_getfield(L, prog_t, "prompts");
    if (ty != LUA_TNIL) {
        if (ty != LUA_TTABLE)
            return raise(L, "program \"%s\": prompts must be a list of strings", name);
        int n = (int)lua_rawlen(L, -1);
        rp.def.prompts = calloc((size_t)(n ? n : 1), sizeof *rp.def.prompts);
        for (int i = 1; i <= n; i++) {
            if (lua_rawgeti(L, -1, i) != LUA_TSTRING) {
                free_prompts(&rp.def);
                return raise(L, "program \"%s\": prompts must be a list of strings", name);
            }
            rp.def.prompts[rp.def.n_prompts++] = strdup(lua_tostring(L, -1));
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);

    if (parse_lifecycle(L, prog_t, name, &rp.def.life) != 0) {
        free_prompts(&rp.def);
        return lua_error(L);
    }

    /* The model checks what only it knows (one_to_one's term, say). */
    const char *field;
    const char *bad = model_validate(L, model_t, prog_t, &field);
    if (bad) {
        free_prompts(&rp.def);
        lifecycle_free(&rp.def.life);
        if (field)
            return raise_field(L, field, "program \"%s\": %s", name, bad);
        return raise(L, "program \"%s\": %s", name, bad);
    }

    struct rules_program *np = realloc(r->programs, (size_t)(r->n_programs + 1) * sizeof *np);
    if (!np) {
        free_prompts(&rp.def);
        lifecycle_free(&rp.def.life);
        return raise(L, "out of memory");
    }
    r->programs = np;
    rp.def.name = strdup(name);
    rp.def.model = strdup(model);
    rp.def.live = true;
    caller_where(L, rp.where, sizeof rp.where);
    lua_pushvalue(L, model_t);
    rp.model_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    lua_pushvalue(L, prog_t);
    rp.table_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    r->programs[r->n_programs++] = rp;
    return 0;
}

/* ---- queries ---- */

const struct state *lua_api_state(lua_State *L)
{
    const struct state *s = R(L)->state;
    if (!s)
        raise(L, "the program's state is not available while the rule file loads");
    return s;
}

int lua_api_person_arg(lua_State *L, const struct state *s, int idx)
{
    const char *id = NULL;
    if (lua_type(L, idx) == LUA_TSTRING) {
        id = lua_tostring(L, idx);
    } else if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "id");
        id = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    return id ? state_person(s, id) : -1;
}

static int api_person(lua_State *L)
{
    const struct state *s = S(L);
    int p = person_arg(L, s, 1);
    if (p < 0)
        return 0;
    build_person(L, s, p);   /* a copy: a query's table is the rule's own */
    return 1;
}

static long long match_arg(lua_State *L, int idx)
{
    if (lua_isinteger(L, idx))
        return lua_tointeger(L, idx);
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "id");
        long long id = lua_isinteger(L, -1) ? lua_tointeger(L, -1) : 0;
        lua_pop(L, 1);
        return id;
    }
    return 0;
}

static int api_match(lua_State *L)
{
    const struct state *s = S(L);
    const struct match *m = state_match(s, match_arg(L, 1));
    if (!m)
        return 0;
    push_match(L, s, m);
    return 1;
}

const char *lua_api_opt_field(lua_State *L, int t, const char *k)
{
    if (!lua_istable(L, t))
        return NULL;
    lua_getfield(L, t, k);
    const char *v = lua_tostring(L, -1);
    lua_pop(L, 1);   /* the string stays alive: it is also in the table */
    return v;
}

/* tandem.matches{program=, state=, person=}: with person, only that person's matches (read
 * from their own index, so it stays cheap in a large organization). */
static bool match_wanted(const struct match *m, int prog, const char *st)
{
    if (prog >= 0 && m->program != prog)
        return false;
    return !st || strcmp(st, MATCH_PHASES[m->phase]) == 0 || (strcmp(st, "live") == 0 && match_live(m));
}

static int api_matches(lua_State *L)
{
    const struct state *s = S(L);
    const char *prog = opt_field(L, 1, "program");
    const char *st = opt_field(L, 1, "state");
    const char *person = opt_field(L, 1, "person");
    int p = prog ? state_program(s, prog) : -1;
    lua_newtable(L);
    if (prog && p < 0)
        return 1;
    int n = 0;
    if (person) {
        int who = state_person(s, person);
        const struct idlist *l = who >= 0 ? &s->people[who].matches : NULL;
        for (int k = 0; l && k < l->n; k++) {
            const struct match *m = &s->matches[l->v[k] - 1];
            if (match_wanted(m, p, st)) {
                push_match(L, s, m);
                lua_rawseti(L, -2, ++n);
            }
        }
        return 1;
    }
    for (int i = 0; i < s->n_matches; i++) {
        if (match_wanted(&s->matches[i], p, st)) {
            push_match(L, s, &s->matches[i]);
            lua_rawseti(L, -2, ++n);
        }
    }
    return 1;
}

/* The index's key for the people of a department with a skill ("Eng", US, "sql") in *buf,
 * grown as needed; NULL when there is no memory. */
static const char *dept_skill_key(char **buf, size_t *cap, const char *dept, const char *skill)
{
    size_t nd = strlen(dept), ns = strlen(skill);
    if (nd + ns + 2 > *cap) {
        char *nb = realloc(*buf, nd + ns + 2);
        if (!nb)
            return NULL;
        *buf = nb;
        *cap = nd + ns + 2;
    }
    memcpy(*buf, dept, nd);
    (*buf)[nd] = '\x1f';
    memcpy(*buf + nd + 1, skill, ns + 1);
    return *buf;
}

/* Rebuilds the department index: a bucket per department and one per department and skill,
 * bucket b's people (ascending) at dept_people[dept_start[b] .. dept_start[b + 1]).
 * Returns false when memory ran out (the index is then empty). */
static bool dept_index_build(struct rules *r, const struct state *s)
{
    strmap_free(&r->dept_map);
    memset(&r->dept_map, 0, sizeof r->dept_map);
    free(r->dept_start);
    free(r->dept_people);
    r->dept_start = r->dept_people = NULL;
    r->dept_generation = 0;
    size_t total = 0;
    for (int i = 0; i < s->n_people; i++)
        if (s->people[i].p.department)
            total += 1 + (size_t)s->people[i].p.skills.n;
    r->dept_start = calloc(total + 2, sizeof *r->dept_start);
    r->dept_people = malloc((total + 1) * sizeof *r->dept_people);
    int *bucket = malloc((total + 1) * sizeof *bucket);
    char *buf = NULL;
    size_t cap = 0, at = 0;
    int nb = 0;
    bool failed = !bucket || !r->dept_start || !r->dept_people;
    r->dept_exact = true;
    for (int i = 0; !failed && i < s->n_people; i++) {
        const struct person *p = &s->people[i].p;
        if (!p->department)
            continue;
        if (strchr(p->department, '\x1f'))
            r->dept_exact = false;   /* its bucket could be some department-and-skill's */
        for (int k = -1; !failed && k < p->skills.n; k++) {
            const char *key = k < 0 ? p->department : dept_skill_key(&buf, &cap, p->department, p->skills.v[k]);
            int b = key ? strmap_get(&r->dept_map, key) : -1;
            if (key && b < 0) {
                b = nb++;
                failed = strmap_put(&r->dept_map, key, b) < 0;
            }
            failed = failed || !key;
            if (!failed) {
                bucket[at++] = b;
                r->dept_start[b + 2]++;
            }
        }
    }
    free(buf);
    if (failed) {
        free(bucket);
        strmap_free(&r->dept_map);
        memset(&r->dept_map, 0, sizeof r->dept_map);
        return false;
    }
    for (int b = 0; b < nb; b++)
        r->dept_start[b + 2] += r->dept_start[b + 1];
    at = 0;
    for (int i = 0; i < s->n_people; i++)
        if (s->people[i].p.department)
            for (int k = -1; k < s->people[i].p.skills.n; k++)
                r->dept_people[r->dept_start[bucket[at++] + 1]++] = i;
    free(bucket);
    r->dept_generation = s->generation;
    r->dept_epoch = s->people_epoch + 1;
    return true;
}

/* The people of one department, or of one department with a skill (skill not NULL),
 * ascending, from the index (rebuilt when anyone changed): *n of them from the returned
 * array (NULL and 0 when there is none); *ok false when there was no memory for the index
 * (the caller then scans everyone). */
static const int *department_people(struct rules *r, const struct state *s, const char *dept, const char *skill,
                                    int *n, bool *ok)
{
    *n = 0;
    *ok = (r->dept_generation == s->generation && r->dept_epoch == s->people_epoch + 1) || dept_index_build(r, s);
    char *buf = NULL;
    size_t cap = 0;
    const char *key = !*ok ? NULL : skill ? dept_skill_key(&buf, &cap, dept, skill) : dept;
    if (!key) {
        *ok = false;   /* no memory for the index or the key: the caller scans */
        return NULL;
    }
    int b = strmap_get(&r->dept_map, key);
    free(buf);
    if (b < 0)
        return NULL;
    *n = r->dept_start[b + 1] - r->dept_start[b];
    return r->dept_people + r->dept_start[b];
}

/* The people tandem.people and tandem.ids list (filters in the table at stack index 1):
 * pushes a list of each one's table (copies) or, with ids, of their ids. */
static int list_people(lua_State *L, bool ids)
{
    const struct state *s = S(L);
    const char *prog = opt_field(L, 1, "program");
    const char *role = opt_field(L, 1, "role");
    const char *tag = opt_field(L, 1, "tag");
    const char *dept = opt_field(L, 1, "department");
    const char *skill = opt_field(L, 1, "skill");
    int p = prog ? state_program(s, prog) : -1;
    int ro = role ? role_parse(role) : -1;
    if (role && ro < 0)
        return raise(L, "%s: unknown role \"%s\"", ids ? "tandem.ids" : "tandem.people", role);
    if (prog && p < 0) {
        lua_newtable(L);
        return 1;
    }
    /* A department (with a skill) names its people through the index; everyone is scanned
     * otherwise. An exact index lists only people who have both. */
    int count = s->n_people;
    bool indexed = false;
    const int *only = dept ? department_people(R(L), s, dept, skill, &count, &indexed) : NULL;
    if (dept && !indexed)
        count = s->n_people;
    /* A department naming the separator could hit a department-and-skill bucket. */
    bool exact = indexed && R(L)->dept_exact && !strchr(dept, '\x1f');
    int id_at = ids ? ids_table(L, s) : 0;
    lua_createtable(L, indexed ? count : 0, 0);
    int n = 0;
    for (int k = 0; k < count; k++) {
        int i = indexed ? only[k] : k;
        const struct person *pe = &s->people[i].p;
        /* the department first: one comparison that turns most people away */
        if (s->people[i].left || (dept && !exact && (!pe->department || strcmp(dept, pe->department) != 0)) ||
            (tag && !strset_has(&pe->tags, tag)) || (skill && !exact && !strset_has(&pe->skills, skill)))
            continue;
        if (prog) {
            bool any = false;
            for (int r = 0; r < ROLE_COUNT && !any; r++)
                if (ro < 0 || ro == r)
                    any = state_enrollment(s, i, p, (enum role)r) >= 0;
            if (!any)
                continue;
        }
        if (ids)
            lua_rawgeti(L, id_at, i + 1);
        else
            build_person(L, s, i);
        lua_rawseti(L, -2, ++n);
    }
    if (ids)
        lua_remove(L, id_at);
    return 1;
}

static int api_people(lua_State *L)
{
    return list_people(L, false);
}

/* tandem.ids{...}: tandem.people's ids only, for rules that look at a few of many. */
static int api_ids(lua_State *L)
{
    return list_people(L, true);
}

/* tandem.enrolled(id, program [, role]): whether the person is enrolled in the program (in
 * that role), without building the program's people. */
static int api_enrolled(lua_State *L)
{
    const struct state *s = S(L);
    int who = state_person(s, luaL_checkstring(L, 1));
    int p = state_program(s, luaL_checkstring(L, 2));
    const char *role = luaL_optstring(L, 3, NULL);
    int ro = role ? role_parse(role) : -1;
    if (role && ro < 0)
        return raise(L, "tandem.enrolled: unknown role \"%s\"", role);
    bool any = false;
    for (int r = 0; who >= 0 && p >= 0 && r < ROLE_COUNT && !any; r++)
        if (ro < 0 || ro == r)
            any = state_enrollment(s, who, p, (enum role)r) >= 0;
    lua_pushboolean(L, any);
    return 1;
}

static int api_now(lua_State *L)
{
    lua_pushinteger(L, R(L)->now);
    return 1;
}

static int api_overlap(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_Integer n = 0;
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        if (lua_toboolean(L, -1)) {
            lua_pushvalue(L, -2);
            if (lua_gettable(L, 2) != LUA_TNIL && lua_toboolean(L, -1))
                n++;
            lua_pop(L, 1);
        }
        lua_pop(L, 1);
    }
    lua_pushinteger(L, n);
    return 1;
}

/* tandem.met(a, b [, program]): matched before, in any program or in the one named. */
static int api_met(lua_State *L)
{
    const struct state *s = S(L);
    int a = person_arg(L, s, 1), b = person_arg(L, s, 2);
    int prog = -1;
    if (!lua_isnoneornil(L, 3) && (prog = state_program(s, luaL_checkstring(L, 3))) < 0) {
        lua_pushboolean(L, 0);
        return 1;
    }
    lua_pushboolean(L, a >= 0 && b >= 0 && state_met(s, a, b, prog));
    return 1;
}

/* tandem.in_line(a, b): whether one is above the other on a management chain (the walk the
 * engine's own exclusion makes). */
static int api_in_line(lua_State *L)
{
    const struct state *s = S(L);
    int a = person_arg(L, s, 1), b = person_arg(L, s, 2);
    lua_pushboolean(L, a >= 0 && b >= 0 && state_reporting_line(s, a, b));
    return 1;
}

/* ---- actions: each queues a command for the engine ---- */

/* Every argument is checked before anything is built, so a failing call (even under the
 * rule's pcall) queues nothing and leaks nothing. */
static void check_handler(lua_State *L, const char *cmd)
{
    struct rules *r = R(L);
    if (!r->actions)
        raise(L, "tandem.%s can only be used inside a handler", cmd);
    if (cJSON_GetArraySize(r->actions) >= ACTIONS_MAX)
        raise(L, "more than %d actions in one handler call", ACTIONS_MAX);
}

/* A match (its id, or its table) or, when person_ok, a person (id or table). */
struct target { long long match; const char *person; };

static struct target target_arg(lua_State *L, int idx, bool person_ok)
{
    struct target t = { match_arg(L, idx), NULL };
    if (t.match > 0)
        return t;
    if (person_ok && lua_type(L, idx) == LUA_TSTRING) {
        t.person = lua_tostring(L, idx);
    } else if (person_ok && lua_istable(L, idx)) {
        lua_getfield(L, idx, "id");
        t.person = lua_tostring(L, -1);   /* alive while the table holds it */
        lua_pop(L, 1);
    }
    if (!t.person)
        raise(L, "expected a match%s", person_ok ? " or a person" : "");
    return t;
}

static void queue(lua_State *L, cJSON *c, const char *cmd)
{
    char where[320];
    caller_where(L, where, sizeof where);
    cJSON_AddStringToObject(c, "rule", where);
    cJSON *named = cJSON_CreateObject();
    cJSON_AddStringToObject(named, "cmd", cmd);
    for (cJSON *it = c->child; it;) {   /* "cmd" first, then the fields in order */
        cJSON *next = it->next;
        cJSON_AddItemToObject(named, it->string, cJSON_DetachItemViaPointer(c, it));
        it = next;
    }
    cJSON_Delete(c);
    cJSON_AddItemToArray(R(L)->actions, named);
}

static void add_target(cJSON *c, struct target t)
{
    if (t.match > 0)
        cJSON_AddNumberToObject(c, "match", (double)t.match);
    else
        cJSON_AddStringToObject(c, "person", t.person);
}

static int api_flag(lua_State *L)
{
    check_handler(L, "flag");
    struct target t = target_arg(L, 1, true);
    const char *reason = luaL_checkstring(L, 2);
    cJSON *c = cJSON_CreateObject();
    add_target(c, t);
    cJSON_AddStringToObject(c, "reason", reason);
    queue(L, c, "flag");
    return 0;
}

static int api_note(lua_State *L)
{
    check_handler(L, "note");
    const char *text = luaL_checkstring(L, 1);
    cJSON *fields = NULL;
    if (!lua_isnoneornil(L, 2)) {
        char why[160];
        luaL_checktype(L, 2, LUA_TTABLE);
        if (!(fields = lua_api_to_json(L, 2, why, sizeof why)))
            return raise(L, "tandem.note: fields: %s", why);
    }
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "text", text);
    if (fields)
        cJSON_AddItemToObject(c, "fields", fields);
    queue(L, c, "note");
    return 0;
}

static int api_close(lua_State *L)
{
    check_handler(L, "close");
    struct target t = target_arg(L, 1, false);
    const char *text = lua_isnoneornil(L, 2) ? NULL : luaL_checkstring(L, 2);
    cJSON *c = cJSON_CreateObject();
    add_target(c, t);
    cJSON_AddStringToObject(c, "reason", "rule");
    if (text)
        cJSON_AddStringToObject(c, "text", text);
    queue(L, c, "close");
    return 0;
}

static int api_goal(lua_State *L)
{
    check_handler(L, "goal");
    struct target t = target_arg(L, 1, false);
    const char *text = luaL_checkstring(L, 2);
    const char *due = opt_field(L, 3, "due");
    const char *measure = opt_field(L, 3, "measure");
    const char *priority = opt_field(L, 3, "priority");
    cJSON *c = cJSON_CreateObject();
    add_target(c, t);
    cJSON_AddStringToObject(c, "text", text);
    if (due)
        cJSON_AddStringToObject(c, "due", due);
    if (measure)
        cJSON_AddStringToObject(c, "measure", measure);
    if (priority)
        cJSON_AddStringToObject(c, "priority", priority);
    queue(L, c, "goal.set");
    return 0;
}

/* tandem.propose(program, {mentors = {...}, mentees = {...}, why = {...}}): a match made by
 * a rule (flash's follow-up), checked like any matching tick's. */
/* The ids of a Lua list at idx (of ids, or of person tables) into a new JSON array under key. */
static void add_ids(lua_State *L, int idx, cJSON *c, const char *key)
{
    cJSON *list = cJSON_AddArrayToObject(c, key);
    if (!lua_istable(L, idx))
        return;
    int n = (int)lua_rawlen(L, idx);
    for (int i = 1; i <= n && i <= 1000; i++) {
        lua_rawgeti(L, idx, i);
        const char *id = lua_tostring(L, -1);
        if (lua_istable(L, -1)) {
            lua_getfield(L, -1, "id");
            id = lua_tostring(L, -1);
            lua_pop(L, 1);
        }
        if (id)
            cJSON_AddItemToArray(list, cJSON_CreateString(id));
        lua_pop(L, 1);
    }
}

static int api_propose(lua_State *L)
{
    check_handler(L, "propose");
    const char *program = luaL_checkstring(L, 1);
    luaL_checktype(L, 2, LUA_TTABLE);
    lua_settop(L, 2);
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "program", program);
    static const char *const sides[2] = { "mentors", "mentees" };
    for (int k = 0; k < 2; k++) {
        lua_getfield(L, 2, sides[k]);
        add_ids(L, -1, c, sides[k]);
        lua_pop(L, 1);
    }
    if (lua_getfield(L, 2, "why") == LUA_TTABLE) {
        char why[160];
        cJSON *w = lua_api_to_json(L, -1, why, sizeof why);
        if (!w) {
            cJSON_Delete(c);
            return raise(L, "tandem.propose: why: %s", why);
        }
        cJSON_AddItemToObject(c, "why", w);
    }
    lua_pop(L, 1);
    queue(L, c, "match.propose");
    return 0;
}

/* tandem.NAME(match[, text]): the command cmd on a match, with the text as its field (if any). */
static int match_action(lua_State *L, const char *name, const char *cmd, const char *field)
{
    check_handler(L, name);
    struct target t = target_arg(L, 1, false);
    const char *text = field ? luaL_checkstring(L, 2) : NULL;
    cJSON *c = cJSON_CreateObject();
    add_target(c, t);
    if (field)
        cJSON_AddStringToObject(c, field, text);
    queue(L, c, cmd);
    return 0;
}

static int api_prompt(lua_State *L) { return match_action(L, "prompt", "prompt", "text"); }
static int api_renew(lua_State *L) { return match_action(L, "renew", "reup.renew", NULL); }
/* tandem.schedule(match, when): when is a time ("2027-03-01T10:00:00Z") or a duration from now. */
static int api_schedule(lua_State *L) { return match_action(L, "schedule", "meeting.reschedule", "at"); }

/* tandem.request(mentee, program, {mentor, ...}): the mentee asks the mentors in order. */
static int api_request(lua_State *L)
{
    check_handler(L, "request");
    struct target who = target_arg(L, 1, true);
    const char *program = luaL_checkstring(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    if (!who.person)
        return raise(L, "tandem.request: the first argument must be the mentee");
    cJSON *c = cJSON_CreateObject();
    cJSON_AddStringToObject(c, "person", who.person);
    cJSON_AddStringToObject(c, "program", program);
    add_ids(L, 3, c, "mentors");
    queue(L, c, "request");
    return 0;
}

static int api_introduce(lua_State *L)
{
    check_handler(L, "introduce");
    struct target t = target_arg(L, 1, false);
    struct target who = target_arg(L, 2, true);
    if (!who.person)
        return raise(L, "tandem.introduce: the contact must be a person");
    cJSON *c = cJSON_CreateObject();
    add_target(c, t);
    cJSON_AddStringToObject(c, "contact", who.person);
    queue(L, c, "introduce");
    return 0;
}

/* ---- os.time and os.date in program time ---- */

static int api_os_time(lua_State *L)
{
    struct rules *r = R(L);
    if (lua_isnoneornil(L, 1)) {
        lua_pushinteger(L, r->now);
        return 1;
    }
    luaL_checktype(L, 1, LUA_TTABLE);
    int f[6];
    const char *k[6] = { "year", "month", "day", "hour", "min", "sec" };
    int def[6] = { -1, -1, -1, 12, 0, 0 };
    for (int i = 0; i < 6; i++) {
        lua_getfield(L, 1, k[i]);
        if (lua_isinteger(L, -1))
            f[i] = (int)lua_tointeger(L, -1);
        else if (def[i] >= 0)
            f[i] = def[i];
        else
            return raise(L, "os.time: field '%s' missing in date table", k[i]);
        lua_pop(L, 1);
    }
    lua_pushinteger(L, days_from_civil(f[0], f[1], f[2]) * 86400LL + f[3] * 3600LL + f[4] * 60LL + f[5]);
    return 1;
}

static int api_os_date(lua_State *L)
{
    struct rules *r = R(L);
    const char *fmt = luaL_optstring(L, 1, "%c");
    time_t t = (time_t)luaL_optinteger(L, 2, r->now);
    if (*fmt == '!')
        fmt++;   /* program time is always UTC */
    struct tm tm;
    gmtime_r(&t, &tm);
    if (strcmp(fmt, "*t") == 0) {
        lua_createtable(L, 0, 9);
        set_int(L, "year", tm.tm_year + 1900);
        set_int(L, "month", tm.tm_mon + 1);
        set_int(L, "day", tm.tm_mday);
        set_int(L, "hour", tm.tm_hour);
        set_int(L, "min", tm.tm_min);
        set_int(L, "sec", tm.tm_sec);
        set_int(L, "wday", tm.tm_wday + 1);
        set_int(L, "yday", tm.tm_yday + 1);
        lua_pushboolean(L, 0);
        lua_setfield(L, -2, "isdst");
        return 1;
    }
    if (strlen(fmt) > 200)
        return raise(L, "os.date: format too long");
    char buf[512];
    size_t n = strftime(buf, sizeof buf, fmt, &tm);
    lua_pushlstring(L, buf, n);
    return 1;
}

void lua_api_open(struct rules *r)
{
    lua_State *L = r->sb.L;
    static const luaL_Reg fns[] = {
        { "priorities", api_priorities }, { "program", api_program },   { "on", api_on },
        { "priority", api_priority },
        { "simulation", api_simulation }, { "person", api_person },     { "match", api_match },
        { "matches", api_matches },       { "people", api_people },     { "now", api_now },
        { "enrolled", api_enrolled },     { "ids", api_ids },           { "in_line", api_in_line },
        { "overlap", api_overlap },       { "met", api_met },           { "flag", api_flag },
        { "note", api_note },             { "close", api_close },       { "goal", api_goal },
        { "introduce", api_introduce },   { "propose", api_propose },   { "prompt", api_prompt },
        { "renew", api_renew },           { "schedule", api_schedule }, { "request", api_request },
        { NULL, NULL },
    };
    lua_newtable(L);
    lua_pushlightuserdata(L, r);
    luaL_setfuncs(L, fns, 1);
    lua_x_open(L, r);   /* tandem.plugin and tandem.x */
    lua_solve_push(L, r);
    sandbox_protect(&r->sb);
    lua_setfield(L, -2, "solve");
    sandbox_protect(&r->sb);
    lua_pushvalue(L, -1);
    lua_setfield(L, LUA_REGISTRYINDEX, "tandem.module");
    lua_setglobal(L, "tandem");

    lua_newtable(L);
    lua_setfield(L, LUA_REGISTRYINDEX, "tandem.loaded");
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, api_require, 1);
    lua_setglobal(L, "require");

    lua_newtable(L);
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, api_os_time, 1);
    lua_setfield(L, -2, "time");
    lua_pushlightuserdata(L, r);
    lua_pushcclosure(L, api_os_date, 1);
    lua_setfield(L, -2, "date");
    sandbox_protect(&r->sb);
    lua_setglobal(L, "os");
}
