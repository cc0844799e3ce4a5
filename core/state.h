/* state: everything the program knows, rebuilt from facts alone. state_apply is a pure
 * function of the state and one fact (an event of the log): it never runs Lua, never does I/O
 * and never reads the clock, so a replay of events.jsonl rebuilds exactly the same state. */
#ifndef TANDEM_STATE_H
#define TANDEM_STATE_H

#include <stdbool.h>
#include <stdint.h>
#include <cjson/cJSON.h>

#include "clock.h"
#include "error.h"
#include "index.h"
#include "lifecycle.h"
#include "person.h"

enum role { ROLE_MENTOR, ROLE_MENTEE, ROLE_PEER, ROLE_LEADER, ROLE_ATTENDEE, ROLE_COUNT };
enum objective { OBJECTIVE_COVERAGE, OBJECTIVE_QUALITY };
enum match_phase { MATCH_PROPOSED, MATCH_ACTIVE, MATCH_CLOSED, MATCH_REJECTED };
enum goal_phase { GOAL_SET, GOAL_ACHIEVED, GOAL_DROPPED };

/* A program as declared by the rules and recorded in the `rules` event, so that the
 * scheduler can be rebuilt from the log without Lua. */
struct program {
    char *name;
    char *model;
    struct duration term, cadence, review_every, match_every;
    enum objective objective;
    bool approve;
    bool reup;            /* false: a term's end completes the match, with no re-up */
    bool rotate;          /* a term's end rotates: the match closes (rotated), the mentee moves on */
    char **prompts;
    int n_prompts;
    struct lifecycle life; /* stagnation, re-up window, goals, acks, check-ins, hours, requests */
    bool live;            /* declared by the rules in force */
    tdm_time since;       /* when the rules first declared it: its matching ticks count from here */
};

struct enrollment {
    int person, program;
    enum role role;
    tdm_time waiting_since;   /* when this person (a mentee) last entered the pool */
};

/* A growable list of indices. */
struct idlist {
    int *v;
    int n, cap;
};

struct goal {
    long long id;
    long long match;
    char *text, *measure;
    tdm_time due;             /* 0 when none */
    enum goal_phase phase;
    int progress_n;
};

/* What shows whether a match is alive: the stagnation signals, acknowledgements, the next
 * meeting's prompt and check-ins. */
struct match_life {
    tdm_time last_activity;   /* the start, or the last meeting held, goal step, feedback, intro, ack or answer */
    tdm_time last_held;       /* the start, or the last meeting held */
    bool idle_flagged;        /* flagged no_meetings since last_held */
    bool stalled_flagged;     /* flagged stalled (on_stalled = "flag") since last_activity */
    bool goals_flagged;       /* flagged no_goals */
    int goal_steps, goal_steps_at_review;      /* goal events set/progress/achieved */
    double feedback_sum_at_review;
    int feedback_n_at_review;
    double last_period_rating;  /* the average rating of the last review period with any, or -1 */
    signed char *acks;        /* per party (mentors, then mentees): 1 acknowledged; NULL: none asked */
    int acked;
    char *prompt;             /* the scheduled meeting's discussion prompt, or NULL */
    int checkins;             /* check-ins done */
};

struct match {
    long long id;
    int program;
    enum match_phase phase;
    int *mentors, n_mentors;  /* person indices */
    int *mentees, n_mentees;
    double score;
    tdm_time started, term_ends, closed_at;
    char *close_reason;
    int terms;                /* 1 for the first term, +1 per renewal */
    tdm_time next_meeting;    /* the scheduled meeting, 0 when none */
    int meeting_n;            /* meetings scheduled so far (drives the cadence) */
    int held, missed, cancelled;
    int held_at_review, missed_at_review;  /* totals when the last review ran */
    int reviews;
    bool reup_open;
    int *guests, n_guests;    /* contacts introduced to the match (network): they join its meetings */
    struct idlist goals;      /* derived: the ids of this match's goals */
    signed char *answers;     /* during a re-up, per party (mentors, then mentees): 0 none, 1 renew, 2 exit */
    double feedback_sum;
    int feedback_n;
    int flags;
    struct match_life life;
};

enum request_phase { REQUEST_OPEN, REQUEST_ACCEPTED, REQUEST_EXPIRED, REQUEST_WITHDRAWN };

/* A mentee's request for a mentor: asked one choice at a time, each with respond_within. */
struct request {
    long long id;
    int program, mentee;
    int *choices, n_choices;  /* person indices, in the mentee's order */
    int at;                   /* the choice asked now */
    tdm_time asked_at;        /* when they were asked */
    enum request_phase phase;
    long long match;          /* accepted: the match it made */
};

struct person_rec {
    struct person p;
    bool left;
    int flags;
    /* Derived indexes (state_reindex rebuilds them), so lookups stay linear in what a person has. */
    struct idlist enrollments;      /* indices into state.enrollments */
    struct idlist matches;          /* match ids this person is a party of */
    struct idlist live;             /* ... of those, the live ones (proposed or active), any order:
                                     * a tick asks of every person in a pool, and a history grows */
    uint64_t met_sig[4];            /* a 256-bit filter of whom they have met: a clear bit says
                                     * "never", sparing most state_met lookups a cache miss */
    unsigned version;               /* the people_epoch of this person's last person event */
};

struct state {
    struct person_rec *people;
    int n_people, cap_people;
    struct strmap person_index;

    struct program *programs;
    int n_programs;

    struct enrollment *enrollments;
    int n_enrollments, cap_enrollments;

    struct match *matches;          /* matches[i].id == i + 1 */
    int n_matches, cap_matches;

    struct goal *goals;             /* goals[i].id == i + 1 */
    int n_goals, cap_goals;

    struct request *requests;       /* requests[i].id == i + 1 */
    int n_requests, cap_requests;

    struct u64set met;              /* unordered person pairs matched in any program */
    struct u64set met_in_program;   /* the same, per program */

    char **priorities;
    int n_priorities;
    char *rules_file, *rules_sha256;
    bool simulated;                 /* the log was written by `simulate` (a virtual clock) */

    unsigned people_epoch;          /* +1 whenever someone is added or changes (manager caches) */
    /* Cache of the management chains (state_reporting_line), valid while chains_epoch is
     * people_epoch + 1: each person's manager's index (-1 none) and steps to the top of the
     * chain (-1: the chain runs into a cycle), in arrays of their own so a walk stays in them. */
    int *chain_up, *chain_depth;
    unsigned chains_epoch;
    unsigned generation;            /* differs between any two states of the process (caches) */
    long long seq;                  /* last applied */
    tdm_time now;                   /* ts of the last applied event */

    /* Counters the report reads. */
    long long n_events;
    long long reviews, reups_renewed, reups_closed, flags, notes, rule_errors, feedback_n;
    double feedback_sum;
    long long goals_set, goals_achieved, goals_dropped;
    long long closes_by_reason[8];

    /* A person already read, offered for the fact whose "person" object is offer_json
     * (state_offer_person); NULL when none. */
    const cJSON *offer_json;
    struct person offer;
};

extern const char *const role_names[ROLE_COUNT];
extern const char *const close_reasons[8];   /* completed exited rotated cancelled left stalled rule + NULL */

void state_init(struct state *s);
/* Frees what a program owns (not the struct itself). */
void program_free(struct program *p);
void state_free(struct state *s);

/* Applies one committed event. Returns 0, or ERR_INPUT with err->msg when the event
 * contradicts the state (a log that was not written by this engine). */
int state_apply(struct state *s, const cJSON *event, struct error *err);

/* The engine made a fact's "person" object json with person_to_json(p) from a p it had just
 * read with person_from_json: reading json back gives p again, so the next state_apply of a
 * `person` added/updated fact whose "person" is json (that very object) takes p instead of
 * reading it (the same state as without the offer, less the parsing). Takes ownership of p
 * (json NULL: p is freed). state_offer_clear frees an offer no fact took; call it once the
 * fact is applied or dropped. */
void state_offer_person(struct state *s, const cJSON *json, struct person *p);
void state_offer_clear(struct state *s);

/* Rebuilds every derived index (per-person enrolments and matches, per-match goals, the
 * met-pair sets) from the primary arrays: for a state filled other than by state_apply
 * (a snapshot). Returns 0 or ERR_SYSTEM. */
int state_reindex(struct state *s);

/* Lookups: NULL / -1 when absent. */
int state_person(const struct state *s, const char *id);
int state_program(const struct state *s, const char *name);
struct match *state_match(const struct state *s, long long id);
int state_enrollment(const struct state *s, int person, int program, enum role role);
int role_parse(const char *name);   /* -1 when unknown */

/* How many people are present (not left) and how many matches are live (status counts). */
void state_counts(const struct state *s, int *people, int *live_matches);
/* True when a and b were matched before: in program prog, or in any program when prog < 0. */
bool state_met(const struct state *s, int a, int b, int prog);
/* True when one of a, b is the other's manager or above them in the reporting line. */
bool state_reporting_line(const struct state *s, int a, int b);
/* Active (or proposed) matches in prog where person is a mentor. */
int state_mentor_load(const struct state *s, int person, int prog);
/* True when person has a live (proposed or active) match in prog as a mentee/peer/attendee. */
bool state_is_matched(const struct state *s, int person, int prog);
/* The index of person among the match's parties (mentors first, then mentees), or -1. */
int match_party(const struct match *m, int person);
/* The open request of person (as the mentee) in prog, or NULL. */
struct request *state_open_request(const struct state *s, int person, int prog);
struct request *state_request(const struct state *s, long long id);
extern const char *const request_phases[];   /* open accepted expired withdrawn + NULL */
static inline bool match_live(const struct match *m)
{
    return m->phase == MATCH_ACTIVE || m->phase == MATCH_PROPOSED;
}

#endif
