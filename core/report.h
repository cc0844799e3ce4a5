/* report: program health computed from the state alone (so from the log alone), as text for
 * people or JSON for tools. It never runs rules and never changes the state. */
#ifndef TANDEM_REPORT_H
#define TANDEM_REPORT_H

#include <stdio.h>
#include <cjson/cJSON.h>

#include "state.h"

/* The report as a JSON object (schema in README "Report"). Caller owns it. */
cJSON *report_json(const struct state *s);
/* The same, laid out for a terminal, at most 100 columns wide. */
void report_text(const struct state *s, FILE *out);

#endif
