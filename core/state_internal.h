/* state_internal: what state.c shares with the other files that apply facts (state_life.c).
 * Not for any other room. */
#ifndef TANDEM_STATE_INTERNAL_H
#define TANDEM_STATE_INTERNAL_H

#include "state.h"

int state_grow(void *arr, int *cap, int n, size_t elem);
const char *fact_str(const cJSON *o, const char *k);
bool fact_num(const cJSON *o, const char *k, double *out);
int fact_time(const cJSON *o, const char *k, tdm_time *out);
char *state_strdup(const char *s);   /* NULL stays NULL */
int fact_refused(struct error *err, const char *type, const char *what);
struct match *fact_match(const struct state *s, const cJSON *ev);

/* state_life.c: acknowledgements, prompts, check-ins and requests. */
int state_apply_ack(struct state *s, const cJSON *ev, struct error *err);
int state_apply_prompt(struct state *s, const cJSON *ev, struct error *err);
int state_apply_checkin(struct state *s, const cJSON *ev, struct error *err);
int state_apply_request(struct state *s, const cJSON *ev, struct error *err);
/* A match's activity: meetings held, goal steps, feedback, intros, acks, re-up answers. */
void match_life_touch(struct state *s, struct match *m);
void match_life_free(struct match_life *l);
void state_request_free(struct request *r);

#endif
