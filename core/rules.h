/* rules: one organization's rule files loaded into a sandbox: its programs (each on a model
 * file), priorities, simulation tuning and event handlers. The engine asks it three things:
 * who may enrol, how to match a pool, and what the handlers want done about an event.
 * It reads the state only through lua_api, and never changes it: what rules want comes
 * back as commands. Loading never touches the engine; a failed load leaves nothing behind. */
#ifndef TANDEM_RULES_H
#define TANDEM_RULES_H

#include <stdbool.h>
#include <cjson/cJSON.h>

#include "error.h"
#include "sandbox.h"
#include "state.h"

#define RULES_MAX_PRIORITIES 3

/* A declarative prefilter, evaluated in C before any score call: with `limit`, a large pool
 * costs people x limit score calls instead of people squared (lua_solve.c pf_walk). */
enum prefilter_set { PF_NONE, PF_SKILLS, PF_WANTS, PF_TAGS };
struct prefilter {
    int shared_mentor, shared_mentee;   /* the pair must share an item between these sets */
    bool level_window;                  /* mentor level - mentee level within [level_min, level_max] */
    int level_min, level_max;
    int department;                     /* 0 any, 1 the same, 2 different */
    int prefer_mentor, prefer_mentee;   /* rank by items shared between these sets (not required) */
    int limit;                          /* score at most this many per mentee; 0 = all */
};

struct rules_program {
    struct program def;       /* name, model, durations, objective, approve, prompts */
    char where[320];          /* FILE:LINE of the tandem.program call */
    int table_ref;            /* registry ref: the program table, model defaults merged in */
    int model_ref;            /* registry ref: the model table */
    int candidates;           /* keep the k best-scored candidates per mentee; 0 = all */
    bool repeat_pairs;        /* the same pair may be matched twice in this program */
    int role_mentor;          /* the role the mentor side enrols as (model.roles.mentor), -1 when the
                                 model has one pool (peer) */
    int role_mentee;          /* the role the other side enrols as (model.roles.mentee) */
    struct prefilter pre;
};

struct sim_params {
    double attendance;        /* chance a meeting is held, on average */
    double rating;            /* mean feedback rating, 1-5 */
    double renew;             /* chance a party chooses renew at re-up */
    double goal_progress;     /* chance an open goal moves at a review */
    double spread;            /* how much matches differ from the average (0-1) */
    double approve;           /* chance an admin approves a proposed match (approve = true) */
    double ack;               /* chance a party acknowledges expectations (acknowledge = true) */
    double answer;            /* chance a party answers a re-up, or a requested mentor answers in time */
    double accept;            /* chance a requested mentor accepts */
};

/* A plugin the rule file asks for with tandem.plugin (loaded by the engine, not by rules). */
struct rules_plugin {
    char *name;               /* a built-in's name, a NAME looked up on TANDEM_PLUGIN_PATH, or a path */
    cJSON *config;            /* the table given, as an object, without `optional` */
    bool optional;            /* the engine goes on without it when it cannot be loaded */
    char where[320];          /* FILE:LINE of the call */
};

struct rules_handler {
    char event[16];
    cJSON *filter;            /* NULL, or which events of the type it wants (event_filter.h) */
    int ref;
    char where[320];
};

struct rules {
    struct sandbox sb;
    char *path;               /* the rule file as given */
    char *dir;                /* its folder: require and models look here first */
    char *shipped_dir;        /* tandem's own rules/ folder */
    char sha256[65];
    struct rules_program *programs;
    int n_programs;
    char *priorities[RULES_MAX_PRIORITIES];
    int n_priorities;
    bool priorities_set, simulation_set;
    struct rules_handler *handlers;
    int n_handlers;
    struct sim_params sim;
    struct rules_plugin *plugins;   /* tandem.plugin requests, in order */
    int n_plugins;
    long long budget;         /* instructions per handler call */

    /* Person tables shared between calls (rules treat them as read-only, README), each
     * rebuilt when its person changes: a registry table by person index + 1, and per person
     * the state generation and version + 1 it was built from (lua_api_push_person). */
    int people_ref;
    struct rules_person_built { unsigned generation, version; } *people_built;
    int n_people_built;
    /* Each person's id as a Lua string, by person index + 1, for the state generation it was
     * made in (lua_api.c ids_table): lists of ids read it instead of making each string again. */
    int ids_ref;
    int n_ids;
    unsigned ids_generation;
    /* People by department, and by department and skill, for queries naming one (lua_api.c):
     * "dept" or "dept" US "skill" -> bucket, and bucket b's people (ascending) at
     * dept_people[dept_start[b] .. dept_start[b + 1]); dept_exact: no department's name
     * holds a US, so a bucket holds exactly its people (else queries check both again);
     * valid for the state generation and people_epoch + 1 it was built from. */
    struct strmap dept_map;
    int *dept_start, *dept_people;
    unsigned dept_generation, dept_epoch;
    bool dept_exact;

    /* The context of the call in progress (set by the caller of rules_*). */
    const struct state *state;
    tdm_time now;
    cJSON *actions;           /* commands a handler asked for; NULL outside handlers */
    int matching;             /* program index during a match call, else -1 */
    bool loading;
};

/* Finds tandem's shipped rules/ folder: $TANDEM_RULES_DIR, else next to the binary
 * (build/../rules or PREFIX/share/tandem/rules). Returns a malloc'd path or NULL. */
char *rules_shipped_dir(void);

/* Loads and validates a rule file into a fresh sandbox. On failure returns ERR_INPUT with
 * err naming FILE:LINE, and *out is NULL. shipped_dir may be NULL (found as above). */
int rules_load(const char *path, const char *shipped_dir, struct rules **out, struct error *err);
void rules_free(struct rules *r);

/* The `programs` array of the `rules` event (caller owns it). */
cJSON *rules_programs_json(const struct rules *r);

/* Which roles program prog gives person p (by the program's mentor and mentee functions).
 * A failing predicate counts as false and its message is returned in why (empty when none). */
void rules_roles(struct rules *r, int prog, int person, bool *mentor, bool *mentee,
                 char *why, size_t why_len, char *where, size_t where_len);

/* One group the model's match returned, in person indices of the state. */
struct rules_group {
    int *mentors, n_mentors;
    int *mentees, n_mentees;
    double score;
    cJSON *why;               /* owned; may be NULL */
};

/* Calls the model's match(program, pool) for program prog over the given pool (person
 * indices; mentors carry their current load). Fills *groups (caller frees with
 * rules_groups_free). On a rule failure returns ERR_INPUT with err->msg and err location. */
int rules_match(struct rules *r, int prog, const int *mentors, int n_mentors, const int *mentees,
                int n_mentees, struct rules_group **groups, int *n_groups, struct error *err);
void rules_groups_free(struct rules_group *g, int n);

/* Runs the handlers for one committed event: the model's handler for the event's program
 * (prog >= 0) first, then the organization's, in the order declared. For each handler
 * calls done(ctx, actions, failed, message, where): actions is a cJSON array of commands
 * (owned by rules, NULL when the handler failed; a failed handler's actions are dropped). */
typedef void (*rules_done_fn)(void *ctx, const cJSON *actions, const char *message, const char *where);
void rules_dispatch(struct rules *r, const cJSON *event, int prog, rules_done_fn done, void *ctx);

/* True when some handler listens to this event type. */
bool rules_listens(const struct rules *r, const char *type, int prog);

#endif
