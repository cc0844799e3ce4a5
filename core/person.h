/* person: one member of the organization, as the HRIS export and the event log
 * describe them, with its sets, validation and JSON form. It never reads files
 * other than the zoneinfo database, and never repairs a bad value: it refuses it. */
#ifndef TANDEM_PERSON_H
#define TANDEM_PERSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "error.h"

#define PERSON_ID_MAX    64     /* bytes in an id */
#define PERSON_LEVEL_MAX 15
#define PERSON_CAPACITY_MAX 1000
#define PERSON_ATTRS_MAX 1024   /* custom fields; the people CSV allows no more columns */

/* A sorted (strcmp order), duplicate-free set of strings; owns v and every v[i].
 * The zero value {NULL, 0} is the empty set. */
struct strset { char **v; int n; };

/* A custom column, e.g. key "q_background". Both strings owned by the person. */
struct attr { char *key; char *value; };

struct person {
    char *id;                  /* required, [A-Za-z0-9._-]{1,64} */
    char *name, *email, *title, *location, *department, *timezone, *manager, *plan; /* NULL when absent or empty */
    int level;                 /* 1..15, 0 when not given */
    double tenure_years;       /* >= 0, NAN when not given */
    int capacity;              /* mentees at once, 0..1000, default 1 */
    struct strset skills, wants, tags; /* from ';'-separated cells, trimmed, empty items dropped */
    struct attr *attrs; int n_attrs;   /* every other column, in header order, only non-empty cells */
};

/* Sets every field empty: strings NULL, sets empty, level 0, capacity 1, tenure NAN. Never fails. */
void person_init(struct person *p);

/* Frees everything p owns and leaves it as person_init does. NULL is a no-op. */
void person_free(struct person *p);

/* Deep copy of src into dst (dst is overwritten, not freed first: pass an initialized-empty
 * or uninitialized one). Returns 0, or ERR_SYSTEM when out of memory, leaving dst empty. */
int person_copy(struct person *dst, const struct person *src);

/* True when id is 1..64 bytes of [A-Za-z0-9._-]. NULL is not valid. */
bool person_id_valid(const char *id);

/* True when s[0..len) is well-formed UTF-8 (no overlong forms, surrogates or code points past
 * U+10FFFF) and holds no NUL byte. When false and bad_at is not NULL, *bad_at is the offset of
 * the first offending byte. */
bool person_utf8_valid(const char *s, size_t len, size_t *bad_at);

/* True when item is in s. */
bool strset_has(const struct strset *s, const char *item);

/* Adds a copy of item (the caller keeps item), keeping s sorted and unique; adding an item
 * already present does nothing. Returns 0, or ERR_SYSTEM when out of memory (s unchanged). */
int strset_add(struct strset *s, const char *item);

/* Adds the items of a ';'-separated cell to s: each is trimmed of spaces, tabs, CR and LF,
 * empty ones are dropped ("sql; go ;;lua" -> {go, lua, sql}). cell may be NULL (nothing added).
 * Returns 0, or ERR_SYSTEM when out of memory (s keeps the items added so far). */
int strset_parse(struct strset *s, const char *cell);

/* Frees s's items and leaves it empty. */
void strset_free(struct strset *s);

/* The value of the custom column key (exact, case-sensitive match), or NULL when absent.
 * The string belongs to p. */
const char *person_attr(const struct person *p, const char *key);

/* True when name is an IANA zone: it names a TZif file under $TZDIR (or /usr/share/zoneinfo
 * when TZDIR is unset or empty). Absolute names, ".." and characters outside
 * [A-Za-z0-9/_+.-] are refused without touching the file system. */
bool timezone_valid(const char *name);

/* The JSON form used in the event log's `person` field (SPEC 3): only present fields
 * (strings that are not NULL, level when not 0, tenure_years when not NAN, skills/wants/tags
 * when not empty, attrs when any); capacity always. skills/wants/tags are arrays of strings,
 * attrs an object in column order, level/capacity/tenure_years numbers. tenure_years is a
 * raw node (cJSON_IsRaw) holding the fewest digits that read back to the same double, as
 * cJSON's own printing can lose the last bit; person_from_json accepts either form.
 * The caller owns the result (cJSON_Delete). Returns NULL when out of memory. */
cJSON *person_to_json(const struct person *p);

/* How person_to_json_made makes its nodes (a caller's own memory, say). Each function
 * returns a new node (NULL when out of memory); string gives one whose text outlives the
 * tree. drop undoes a node that could not be linked. */
struct json_maker {
    void *ctx;
    cJSON *(*object)(void *ctx);
    cJSON *(*array)(void *ctx);
    cJSON *(*string)(void *ctx, const char *s);
    cJSON *(*number)(void *ctx, double d);
    void (*drop)(void *ctx, cJSON *item);
};

/* person_to_json with m's nodes, for a person without tenure_years and attrs (whose nodes
 * only cJSON makes: NULL for such a person); the same tree, member for member. NULL when out
 * of memory. */
cJSON *person_to_json_made(const struct person *p, const struct json_maker *m);

/* The inverse of person_to_json, validating every field: the object's keys are case-sensitive
 * and unknown or repeated ones are refused; id (and manager) must be valid ids, the manager
 * not the person's own id; strings must be non-empty valid UTF-8 without NUL (a "\u0000"
 * has already cut the string inside cJSON: the caller checks raw text for it); level an
 * integer 1..15, capacity an integer 0..1000 (absent: 1), tenure_years a finite number >= 0
 * (absent: NAN); skills/wants/tags arrays of
 * non-empty strings without ';'; attrs an object of at most PERSON_ATTRS_MAX non-empty
 * strings whose keys are unique and not standard column names. The timezone is checked for form only, not against this machine's
 * zoneinfo, so a log replays the same everywhere.
 * Fills *out (uninitialized is fine); the caller frees it with person_free. Returns 0, or
 * ERR_INPUT with err->msg ("person: level must be ...") naming the field, or ERR_SYSTEM when
 * out of memory; on failure out is left empty (person_free on it is harmless). err may be NULL. */
int person_from_json(const cJSON *obj, struct person *out, struct error *err);

/* The standard column names of SPEC 1 in order, NULL-terminated ("id", "name", ..., "plan").
 * Custom columns are every other name (compared case-insensitively). */
extern const char *const person_columns[];

/* True when name (already trimmed) is one of person_columns, ignoring ASCII case. */
bool person_is_column(const char *name);

#endif
