/* state_internal: what state.c shares with the other files that apply facts (state_life.c).
 * Not for any other room. */
#ifndef TANDEM_STATE_INTERNAL_H
#define TANDEM_STATE_INTERNAL_H

#include "state.h"

int grow(void *arr, int *cap, int n, size_t elem);
const char *str_field(const cJSON *o, const char *k);
bool num_field(const cJSON *o, const char *k, double *out);
int time_field(const cJSON *o, const char *k, tdm_time *out);
char *dup_or_null(const char *s);
int bad(struct error *err, const char *type, const char *what);
struct match *event_match(const struct state *s, const cJSON *ev);

/* state_life.c: acknowledgements, prompts, check-ins and requests. */
int apply_ack(struct state *s, const cJSON *ev, struct error *err);
int apply_prompt(struct state *s, const cJSON *ev, struct error *err);
int apply_checkin(struct state *s, const cJSON *ev, struct error *err);
int apply_request(struct state *s, const cJSON *ev, struct error *err);
/* A match's activity: meetings held, goal steps, feedback, intros, acks, re-up answers. */
void life_activity(struct state *s, struct match *m);
void life_free(struct match_life *l);
void request_free(struct request *r);

#endif
