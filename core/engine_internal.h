/* engine_internal: what the engine's own files (engine.c, commands.c, ticks.c) share.
 * Not a door for any other room: the verbs use engine.h only. */
#ifndef TANDEM_ENGINE_INTERNAL_H
#define TANDEM_ENGINE_INTERNAL_H

#include "engine.h"

/* The command in hand: how deep in a cascade it is, and the rule that asked for it. */
struct cmd_ctx {
    struct engine *e;
    int depth;
    const char *rule;     /* FILE:LINE when the command is a rule's action, else NULL */
};

/* engine.c: facts. A fact is made with seq = state seq + 1 and must be committed before
 * the next is made. engine_commit journals, applies and queues it; it takes ownership.
 * type must be a string literal (the fact refers to it without a copy). */
cJSON *engine_fact(struct engine *e, const char *type);
void engine_add_time(cJSON *o, const char *k, tdm_time t);
/* Adds a copy of value (NULL: nothing) under a key that must be a string literal (or outlive
 * o: cJSON keeps the pointer, cJSON_AddItemToObjectCS). */
void engine_add_str(cJSON *o, const char *literal_key, const char *value);
/* Adds value without a copy: key and value must both be string literals (or static). */
void engine_add_literal(cJSON *o, const char *literal_key, const char *literal_value);
/* A fact whose nodes (and their texts) are e's pool's, not cJSON's allocations: for the
 * facts made most (a person added, an enrolment), built only with the engine_pool_* nodes
 * (cJSON_AddItemToObjectCS and cJSON_AddItemToArray link them: they allocate nothing) and
 * never with cJSON's own. engine_commit takes it like any fact; the pool gives its memory
 * back once no event is queued. Each returns NULL when out of memory (the pool's memory is
 * given back with the rest: nothing to free). */
cJSON *engine_pool_fact(struct engine *e, const char *literal_type);
cJSON *engine_pool_string(struct engine *e, const char *s);         /* a copy of s */
cJSON *engine_pool_literal(struct engine *e, const char *literal);  /* s itself: static */
cJSON *engine_pool_number(struct engine *e, double d);
/* Adds item under a literal key; false when item is NULL (out of memory). */
bool engine_pool_add(cJSON *o, const char *literal_key, cJSON *item);
/* Makes pooled nodes for person_to_json_made. */
struct json_maker engine_pool_maker(struct engine *e);
int engine_commit(struct engine *e, cJSON *f, int depth, struct error *err);
int engine_rule_error(struct engine *e, const char *where, long long cause, const char *message, int depth,
                      struct error *err);
const struct program *engine_program_of(const struct engine *e, const struct match *m);
int engine_rules_prog(const struct engine *e, int state_prog);
void engine_rules_context(struct engine *e);
int engine_enroll_person(struct cmd_ctx *x, int person, long long cause, struct error *err);

/* commands.c: the named commands (ctl lines, rule actions, CSV rows). Each validates
 * against the state first and makes facts only when the whole command is acceptable;
 * a refusal is ERR_INPUT with the reason and no fact. */
const char *cmd_str(const cJSON *c, const char *k);
struct match *cmd_match(struct engine *e, const cJSON *c);
int cmd_refuse(struct error *err, const char *fmt, const char *arg);
int commands_exec(struct engine *e, const cJSON *c, int depth, const char *rule, struct error *err);
int commands_close_match(struct cmd_ctx *x, const struct match *m, const char *reason, const char *text,
                         struct error *err);
/* A time a command gives: RFC 3339, or a duration from now ("3d"). ERR_INPUT with why otherwise. */
int cmd_when(struct engine *e, const char *text, tdm_time *out, char *why, size_t why_len);
/* The people a command names under key ("a;b" or a list of ids) as person indices (*out
 * owned by the caller even on a refusal). */
int cmd_people(const struct state *s, const cJSON *c, const char *key, int **out, int *n, struct error *err);
/* commands_life.c: ack, prompt, meeting.reschedule, reup.renew, request, request.accept|decline|withdraw.
 * Returns 1 when name is none of them. */
int commands_life_exec(struct cmd_ctx *x, const char *name, const cJSON *c, struct error *err);

/* ticks.c: what falls due (matching, meetings, reviews, re-ups, approvals). */
int ticks_schedule_meeting(struct cmd_ctx *x, const struct match *m, struct error *err);
/* phase: "held", "missed" or "cancelled"; the match must be active with a meeting scheduled. */
int ticks_meeting_outcome(struct cmd_ctx *x, struct match *m, const char *phase, struct error *err);
/* Takes ownership of decisions ({person id: "renew"|"exit"} for every party). */
/* defaulted (owned too, may be NULL): the ids whose decision the program's reup_default made. */
int ticks_reup_decide(struct cmd_ctx *x, long long id, cJSON *decisions, cJSON *defaulted, struct error *err);
int ticks_answer_proposal(struct cmd_ctx *x, struct match *m, bool yes, struct error *err);
/* Why a group may not be matched in state program sp (roles, already matched, reporting line,
 * met before, ...), or NULL when it may. taken marks people given a group this round. */
const char *ticks_group_invalid(struct engine *e, int sp, const struct rules_program *rp,
                                const struct rules_group *g, const bool *taken);
int ticks_make_match(struct cmd_ctx *x, int sp, const struct rules_group *g, struct error *err);
/* When a match next has something of kind k due (0: nothing), and a request. */
tdm_time ticks_due(const struct engine *e, const struct match *m, int k);
tdm_time ticks_request_due(const struct engine *e, const struct request *r);
bool ticks_current(struct engine *e, const struct due *d);
/* ticks_life.c: acks, check-ins, goals_within, the stagnation signals, the re-up's end, requests. */
int ticks_life_fire(struct cmd_ctx *x, struct match *m, int kind, struct error *err);
int ticks_request_fire(struct cmd_ctx *x, struct request *r, struct error *err);
/* Flags a match with a built-in signal (no rule: `signal` true). */
int ticks_signal(struct cmd_ctx *x, long long match, const char *reason, struct error *err);
/* Schedules the first meeting once every party has acknowledged. */
int ticks_after_ack(struct cmd_ctx *x, long long id, struct error *err);
/* Asks choice r->at + 1, or ends the request expired when none is left. */
int ticks_request_move(struct cmd_ctx *x, struct request *r, const char *why, struct error *err);
/* Makes the match of an accepted request. Returns ERR_INPUT (no fact) when it may not be made. */
int ticks_request_accept(struct cmd_ctx *x, struct request *r, struct error *err);
int ticks_fire(struct engine *e, const struct due *d, struct error *err);

/* engine_plugins.c: the outbox of facts for plugins (kept at engine_commit), the log commit that
 * hands them over once on disk, tandem.x functions into new rules, and freeing it all. */
void engine_plugins_keep(struct engine *e, const cJSON *f);
int engine_log_commit(struct engine *e, enum journal_sync sync, struct error *err);
void engine_plugins_lua(struct engine *e, struct rules *r);
void engine_plugins_free(struct engine *e);

#endif
