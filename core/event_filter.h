/* event_filter: which events a handler declared with a filter wants, as in
 * tandem.on("meeting", { phase = "missed" }, fn). A filter is a cJSON object mapping an event
 * field to an array of allowed values (strings, numbers, booleans); an event passes when each
 * named field is present and equal to one of its values. Checked in C before the event is
 * converted for Lua, so a handler that wants one phase costs nothing for the others. */
#ifndef TANDEM_EVENT_FILTER_H
#define TANDEM_EVENT_FILTER_H

#include <stdbool.h>
#include <stddef.h>
#include <cjson/cJSON.h>

/* The fields of events of this type that a filter may name (those with one scalar value:
 * not lists or objects), NULL-terminated; NULL for an unknown type. */
const char *const *event_filter_fields(const char *type);

/* NULL when a filter on this field of this type's events may be given value; otherwise why
 * not, written in buf: a value of another type than the log writes (a rating is a number, a
 * match's program a string), or a phase the type does not have (with the nearest one). */
const char *event_filter_value_error(const char *type, const char *field, const cJSON *value, char *buf,
                                     size_t len);

/* Whether event passes filter; a NULL filter passes everything. program and model name the
 * program the event is about (its match's; NULL when none): a filter on either compares with
 * them when the event itself has no such field (a review names only its match). */
bool event_filter_match(const cJSON *filter, const cJSON *event, const char *program, const char *model);

#endif
