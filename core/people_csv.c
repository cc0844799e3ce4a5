/* people_csv: reads an HRIS export with libcsv and turns each good row into a person.
 * libcsv does the RFC 4180 parsing; this file only counts physical lines (libcsv reports
 * no positions) and checks every cell. It must never change a value beyond trimming its
 * ends, nor drop a row without a FILE:LINE saying why. */
#include "people_csv.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <csv.h>

/* Standard columns, in the order of person_columns. */
enum { COL_ID, COL_NAME, COL_EMAIL, COL_TITLE, COL_LOCATION, COL_DEPARTMENT, COL_LEVEL,
       COL_TENURE, COL_TIMEZONE, COL_SKILLS, COL_WANTS, COL_TAGS, COL_CAPACITY, COL_MANAGER,
       COL_PLAN, COL_N };

#define READ_BLOCK   (64 * 1024)
/* libcsv grows its field buffer by this much at a time (128 bytes by default, which makes a
 * 1 MiB field cost thousands of reallocations). */
#define PARSER_BLOCK (1024 * 1024)
#define SHOW_MAX     40   /* bytes of a value quoted in a message */

struct field {
    char *s;         /* NUL-terminated copy, NULL when too long */
    size_t len;
};

/* Ids taken so far, with their line: open addressing, so 200,000 rows stay linear. */
struct idset {
    char **keys;
    int *lines;
    size_t cap, n;
};

struct reader {
    const char *path;
    FILE *errors;
    people_csv_row_fn fn;
    void *ctx;
    struct people_csv_result *res;
    struct error *err;
    struct csv_parser parser;
    bool parser_live;

    int line;           /* physical line being fed */
    bool last_cr;       /* the previous byte was CR: a LF now ends no new line */
    bool in_record;     /* bytes of a record have been fed since the last row end */
    int rec_line;       /* first line of that record */
    bool skipping;      /* after a malformed quote: drop bytes up to the end of the line */
    bool at_break;      /* the last byte fed ended a line */

    struct field *fields;  /* the record's cells, at most the header's width + 1 of them */
    int n_fields;          /* stored */
    int n_total;           /* seen, stored or not */
    int cap_fields;

    bool have_header;
    char **cols;           /* header names as written, trimmed */
    bool *custom;          /* cols[i] is not a standard column: its cells go to attrs */
    int n_cols;
    int col_of[COL_N];     /* header index of each standard column, or -1 */

    struct idset ids;
    char *zones[64];       /* zones already found valid: a file has few, and each check opens a file */
    int n_zones;
    int stop;              /* a negative code once the import must end */
};

/* ---- small helpers ---- */

static bool is_blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Trims s in place (spaces, tabs, CR, LF at both ends) and returns it. */
static char *trim(char *s)
{
    char *a = s;
    while (is_blank((unsigned char)*a))
        a++;
    size_t n = strlen(a);
    while (n > 0 && is_blank((unsigned char)a[n - 1]))
        n--;
    memmove(s, a, n);
    s[n] = '\0';
    return s;
}

/* Quotes v for a message: at most SHOW_MAX bytes (cut on a character boundary), control
 * bytes escaped as \xNN so a cell cannot drive the terminal that shows the error. */
static const char *show(char *out, size_t cap, const char *v)
{
    size_t o = 0, i = 0;
    bool cut = false;
    while (v[i]) {
        unsigned char c = (unsigned char)v[i];
        size_t clen = c < 0x80 ? 1 : c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : 2;
        if (i + clen > SHOW_MAX || o + 4 + 3 + 1 > cap) {
            cut = true;
            break;
        }
        if (c < 0x20 || c == 0x7f) {
            o += (size_t)snprintf(out + o, cap - o, "\\x%02X", c);
        } else {
            memcpy(out + o, v + i, clen);
            o += clen;
        }
        i += clen;
    }
    if (cut)
        o += (size_t)snprintf(out + o, cap - o, "...");
    out[o] = '\0';
    return out;
}

static uint64_t hash(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

/* Line of id in the set, or 0 when absent. */
static int idset_get(const struct idset *set, const char *id)
{
    if (set->cap == 0)
        return 0;
    for (size_t i = hash(id) & (set->cap - 1);; i = (i + 1) & (set->cap - 1)) {
        if (set->keys[i] == NULL)
            return 0;
        if (strcmp(set->keys[i], id) == 0)
            return set->lines[i];
    }
}

static int idset_put(struct idset *set, const char *id, int line)
{
    if ((set->n + 1) * 2 > set->cap) {
        size_t cap = set->cap ? set->cap * 2 : 256;
        char **keys = calloc(cap, sizeof *keys);
        int *lines = calloc(cap, sizeof *lines);
        if (keys == NULL || lines == NULL) {
            free(keys);
            free(lines);
            return ERR_SYSTEM;
        }
        for (size_t k = 0; k < set->cap; k++) {
            if (set->keys[k] == NULL)
                continue;
            size_t i = hash(set->keys[k]) & (cap - 1);
            while (keys[i])
                i = (i + 1) & (cap - 1);
            keys[i] = set->keys[k];
            lines[i] = set->lines[k];
        }
        free(set->keys);
        free(set->lines);
        set->keys = keys;
        set->lines = lines;
        set->cap = cap;
    }
    size_t i = hash(id) & (set->cap - 1);
    while (set->keys[i])
        i = (i + 1) & (set->cap - 1);
    set->keys[i] = strdup(id);
    if (set->keys[i] == NULL)
        return ERR_SYSTEM;
    set->lines[i] = line;
    set->n++;
    return 0;
}

static void idset_free(struct idset *set)
{
    for (size_t i = 0; i < set->cap; i++)
        free(set->keys[i]);
    free(set->keys);
    free(set->lines);
}

/* ---- reporting ---- */

static int fatal(struct reader *r, int code, int line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int fatal(struct reader *r, int code, int line, const char *fmt, ...)
{
    char msg[sizeof r->err->msg];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    error_set(r->err, code, r->path, line, "%s", msg);
    r->stop = code;
    return code;
}

/* The reasons a row is refused, joined by "; " so one line tells all that is wrong with it. */
struct why {
    char text[1536];
    size_t len;
};

static void why_add(struct why *w, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void why_add(struct why *w, const char *fmt, ...)
{
    if (w->len + 3 >= sizeof w->text)
        return;
    if (w->len > 0)
        w->len += (size_t)snprintf(w->text + w->len, sizeof w->text - w->len, "; ");
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(w->text + w->len, sizeof w->text - w->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        w->len += (size_t)n;
    if (w->len >= sizeof w->text)
        w->len = sizeof w->text - 1;
}

static void refuse_row(struct reader *r, int line, const char *why)
{
    if (r->errors)
        fprintf(r->errors, "%s:%d: %s\n", r->path, line, why);
    r->res->refused++;
}

/* "column 'level'" for the cell at index i (which may lie past the header). */
static const char *col_label(const struct reader *r, int i, char *buf, size_t cap)
{
    char name[4 * SHOW_MAX + 8];
    if (r->have_header && i < r->n_cols)
        snprintf(buf, cap, "column '%s'", show(name, sizeof name, r->cols[i]));
    else
        snprintf(buf, cap, "column %d", i + 1);
    return buf;
}

/* ---- the libcsv side ---- */

static void *capped_realloc(void *p, size_t n)
{
    /* Past this, one field would be most of a file: refuse it instead of growing
     * without bound (libcsv then reports CSV_ENOMEM, which becomes a fatal error). */
    if (n > PEOPLE_CSV_FIELD_HARD)
        return NULL;
    return realloc(p, n);
}

static void parser_start(struct reader *r)
{
    if (r->parser_live)
        csv_free(&r->parser);
    /* Strict: a stray quote is an error, not a guess; STRICT_FINI: so is a quote never
     * closed at the end of the file. */
    csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI);
    csv_set_blk_size(&r->parser, PARSER_BLOCK);
    csv_set_realloc_func(&r->parser, capped_realloc);
    r->parser_live = true;
}

static void record_clear(struct reader *r)
{
    for (int i = 0; i < r->n_fields; i++)
        free(r->fields[i].s);
    r->n_fields = 0;
    r->n_total = 0;
}

static void on_field(void *buf, size_t len, void *data)
{
    struct reader *r = data;
    if (r->stop)
        return;
    int keep = r->have_header ? r->n_cols + 1 : PEOPLE_CSV_COLUMNS_MAX + 1;
    r->n_total++;
    if (r->n_fields >= keep)
        return;  /* a ragged row is refused on its count; its extra cells are not needed */
    if (r->n_fields == r->cap_fields) {
        int cap = r->cap_fields ? r->cap_fields * 2 : 32;
        struct field *f = realloc(r->fields, (size_t)cap * sizeof *f);
        if (f == NULL) {
            fatal(r, ERR_SYSTEM, 0, "out of memory");
            return;
        }
        r->fields = f;
        r->cap_fields = cap;
    }
    struct field *f = &r->fields[r->n_fields++];
    f->len = len;
    f->s = NULL;
    if (len > PEOPLE_CSV_FIELD_MAX)
        return;
    f->s = malloc(len + 1);
    if (f->s == NULL) {
        fatal(r, ERR_SYSTEM, 0, "out of memory");
        return;
    }
    if (len)
        memcpy(f->s, buf, len);
    f->s[len] = '\0';
}

/* Checks one cell's bytes. Returns true when it is usable text; otherwise adds why. */
static bool cell_ok(const struct reader *r, int i, struct why *w)
{
    const struct field *f = &r->fields[i];
    size_t at = 0;
    if (f->s && person_utf8_valid(f->s, f->len, &at))
        return true;
    char label[4 * SHOW_MAX + 32];
    col_label(r, i, label, sizeof label);
    if (f->s == NULL)
        why_add(w, "%s: %zu bytes, over the %d KiB limit for one field", label, f->len,
                PEOPLE_CSV_FIELD_MAX / 1024);
    else if (f->s[at] == '\0')
        why_add(w, "%s: contains a NUL byte", label);
    else
        why_add(w, "%s: not valid UTF-8 (byte 0x%02X at offset %zu); the file looks like "
                "Windows-1252 or Latin-1: save it as UTF-8", label, (unsigned char)f->s[at], at);
    return false;
}

static void on_header(struct reader *r)
{
    int line = r->rec_line;
    if (r->n_total > PEOPLE_CSV_COLUMNS_MAX) {
        fatal(r, ERR_INPUT, line, "the header has %d columns; at most %d are supported",
              r->n_total, PEOPLE_CSV_COLUMNS_MAX);
        return;
    }
    for (int i = 0; i < r->n_fields; i++) {
        struct why w = {.len = 0};
        if (!cell_ok(r, i, &w)) {
            fatal(r, ERR_INPUT, line, "header %s", w.text);
            return;
        }
    }
    if (r->n_fields == 1 && strchr(r->fields[0].s, ';')) {
        fatal(r, ERR_INPUT, line, "the header is one column containing ';': the file looks "
              "';'-delimited; save it as comma-separated CSV (RFC 4180)");
        return;
    }
    if (r->n_fields == 1 && strchr(r->fields[0].s, '\t')) {
        fatal(r, ERR_INPUT, line, "the header is one column containing tabs: the file looks "
              "tab-delimited; save it as comma-separated CSV (RFC 4180)");
        return;
    }
    r->cols = calloc((size_t)r->n_fields, sizeof *r->cols);
    r->custom = calloc((size_t)r->n_fields, sizeof *r->custom);
    if (r->cols == NULL || r->custom == NULL) {
        fatal(r, ERR_SYSTEM, line, "out of memory");
        return;
    }
    for (int k = 0; k < COL_N; k++)
        r->col_of[k] = -1;
    for (int i = 0; i < r->n_fields; i++) {
        r->cols[i] = trim(r->fields[i].s);
        r->fields[i].s = NULL;  /* moved */
        r->n_cols = i + 1;
        char a[4 * SHOW_MAX + 8], b[4 * SHOW_MAX + 8];
        if (r->cols[i][0] == '\0') {
            fatal(r, ERR_INPUT, line, "header column %d has no name; every column needs one", i + 1);
            return;
        }
        for (int j = 0; j < i; j++)
            if (strcasecmp(r->cols[j], r->cols[i]) == 0) {
                fatal(r, ERR_INPUT, line, "duplicate column name: column %d '%s' and column %d '%s'",
                      j + 1, show(a, sizeof a, r->cols[j]), i + 1, show(b, sizeof b, r->cols[i]));
                return;
            }
        r->custom[i] = true;
        for (int k = 0; k < COL_N; k++)
            if (strcasecmp(r->cols[i], person_columns[k]) == 0) {
                r->col_of[k] = i;
                r->custom[i] = false;
            }
    }
    if (r->col_of[COL_ID] < 0) {
        fatal(r, ERR_INPUT, line, "the header has no 'id' column");
        return;
    }
    r->have_header = true;
}

/* The trimmed text of standard column k in this row, or NULL when the column is absent or
 * the cell empty. Cells were checked (cell_ok) before this is called. */
static const char *cell(const struct reader *r, int k)
{
    int i = r->col_of[k];
    if (i < 0 || r->fields[i].s == NULL || r->fields[i].s[0] == '\0')
        return NULL;
    return r->fields[i].s;
}

/* A whole number made of digits only, within lo..hi. */
static bool parse_int(const char *s, int lo, int hi, int *out)
{
    long v = 0;
    if (*s == '\0')
        return false;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return false;
        v = v * 10 + (*s - '0');
        if (v > hi)
            return false;
    }
    if (v < lo)
        return false;
    *out = (int)v;
    return true;
}

/* A plain decimal number >= 0 ("3", "2.5", "1e1"): no sign, hex, inf or nan. The C locale's
 * '.' is the decimal point; main never calls setlocale for LC_NUMERIC. */
static bool parse_tenure(const char *s, double *out)
{
    if (!(isdigit((unsigned char)s[0]) || s[0] == '.'))
        return false;
    for (const char *c = s; *c; c++)
        if (!isdigit((unsigned char)*c) && !strchr(".eE+-", *c))
            return false;
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || errno == ERANGE || !isfinite(v) || v < 0)
        return false;
    *out = v;
    return true;
}

/* "1.2E+10": what a spreadsheet makes of a long numeric id. */
static bool looks_scientific(const char *s)
{
    const char *e = strpbrk(s, "eE");
    if (e == NULL || e == s || (e[1] != '+' && e[1] != '-') || !isdigit((unsigned char)e[2]))
        return false;
    for (const char *c = s; c < e; c++)
        if (!isdigit((unsigned char)*c) && *c != '.')
            return false;
    for (const char *c = e + 2; *c; c++)
        if (!isdigit((unsigned char)*c))
            return false;
    return true;
}

static bool zone_ok(struct reader *r, const char *name)
{
    for (int i = 0; i < r->n_zones; i++)
        if (strcmp(r->zones[i], name) == 0)
            return true;
    if (!timezone_valid(name))
        return false;
    if (r->n_zones < (int)(sizeof r->zones / sizeof r->zones[0]) &&
        (r->zones[r->n_zones] = strdup(name)) != NULL)
        r->n_zones++;
    return true;
}

static int set_text(char **dst, const char *v)
{
    if (v == NULL)
        return 0;
    *dst = strdup(v);
    return *dst ? 0 : ERR_SYSTEM;
}

/* Fills p from the row's checked cells, adding to w what is wrong. Returns ERR_SYSTEM on
 * out of memory, else 0 (w empty when the row is good). */
static int build_person(struct reader *r, struct person *p, struct why *w)
{
    char v[4 * SHOW_MAX + 8], l[4 * SHOW_MAX + 32];
    const char *id = cell(r, COL_ID);
#define LABEL(k) col_label(r, r->col_of[k], l, sizeof l)
    if (id == NULL) {
        why_add(w, "missing id");
    } else if (!person_id_valid(id)) {
        why_add(w, "%s: '%s' is not a valid id (1 to 64 of A-Z a-z 0-9 . _ -)%s", LABEL(COL_ID),
                show(v, sizeof v, id), looks_scientific(id)
                    ? "; a spreadsheet turned it into scientific notation: format the column as text"
                    : "");
    } else {
        int first = idset_get(&r->ids, id);
        if (first)
            why_add(w, "duplicate id '%s' (first at line %d)", id, first);
    }
    int rc = set_text(&p->id, id);
    const struct { int k; char **dst; } texts[] = {
        {COL_NAME, &p->name}, {COL_EMAIL, &p->email}, {COL_TITLE, &p->title},
        {COL_LOCATION, &p->location}, {COL_DEPARTMENT, &p->department},
        {COL_TIMEZONE, &p->timezone}, {COL_MANAGER, &p->manager}, {COL_PLAN, &p->plan},
    };
    for (size_t i = 0; rc == 0 && i < sizeof texts / sizeof texts[0]; i++)
        rc = set_text(texts[i].dst, cell(r, texts[i].k));

    const char *s;
    if ((s = cell(r, COL_LEVEL)) && !parse_int(s, 1, PERSON_LEVEL_MAX, &p->level))
        why_add(w, "%s: '%s' is not a whole number from 1 to %d", LABEL(COL_LEVEL),
                show(v, sizeof v, s), PERSON_LEVEL_MAX);
    if ((s = cell(r, COL_TENURE)) && !parse_tenure(s, &p->tenure_years))
        why_add(w, "%s: '%s' is not a number of years >= 0", LABEL(COL_TENURE), show(v, sizeof v, s));
    if ((s = cell(r, COL_CAPACITY)) && !parse_int(s, 0, PERSON_CAPACITY_MAX, &p->capacity))
        why_add(w, "%s: '%s' is not a whole number from 0 to %d", LABEL(COL_CAPACITY),
                show(v, sizeof v, s), PERSON_CAPACITY_MAX);
    if ((s = cell(r, COL_TIMEZONE)) && !zone_ok(r, s))
        why_add(w, "%s: '%s' is not an IANA time zone (like Europe/Berlin)", LABEL(COL_TIMEZONE),
                show(v, sizeof v, s));
    if ((s = cell(r, COL_MANAGER))) {
        if (!person_id_valid(s))
            why_add(w, "%s: '%s' is not a valid id", LABEL(COL_MANAGER), show(v, sizeof v, s));
        else if (id && strcmp(s, id) == 0)
            why_add(w, "%s: '%s' is the person's own id", LABEL(COL_MANAGER), show(v, sizeof v, s));
    }
#undef LABEL
    if (rc == 0)
        rc = strset_parse(&p->skills, cell(r, COL_SKILLS));
    if (rc == 0)
        rc = strset_parse(&p->wants, cell(r, COL_WANTS));
    if (rc == 0)
        rc = strset_parse(&p->tags, cell(r, COL_TAGS));

    int n_custom = 0;
    for (int i = 0; i < r->n_cols; i++)
        n_custom += r->custom[i] && r->fields[i].s[0] != '\0';
    if (rc == 0 && n_custom > 0) {
        p->attrs = calloc((size_t)n_custom, sizeof *p->attrs);
        if (p->attrs == NULL)
            rc = ERR_SYSTEM;
        for (int i = 0; rc == 0 && i < r->n_cols; i++) {
            if (!r->custom[i] || r->fields[i].s[0] == '\0')
                continue;
            struct attr *a = &p->attrs[p->n_attrs++];
            a->key = strdup(r->cols[i]);
            a->value = strdup(r->fields[i].s);
            if (a->key == NULL || a->value == NULL)
                rc = ERR_SYSTEM;
        }
    }
    return rc;
}

static void on_row_data(struct reader *r)
{
    int line = r->rec_line;
    bool empty = r->n_fields == r->n_total;
    for (int i = 0; empty && i < r->n_fields; i++) {
        const char *s = r->fields[i].s;
        if (s == NULL || memchr(s, '\0', r->fields[i].len))
            empty = false;
        else
            empty = trim(r->fields[i].s)[0] == '\0';
    }
    if (empty)
        return;  /* a blank line, or a spreadsheet's row of empty cells */

    struct why w = {.len = 0};
    if (r->n_total != r->n_cols) {
        why_add(&w, "the row has %d fields but the header has %d%s", r->n_total, r->n_cols,
                r->n_total > r->n_cols ? " (an unquoted ',' inside a value?)" : "");
        refuse_row(r, line, w.text);
        return;
    }
    bool ok = true;
    for (int i = 0; i < r->n_fields; i++)
        ok &= cell_ok(r, i, &w);
    if (!ok) {
        refuse_row(r, line, w.text);
        return;
    }
    for (int i = 0; i < r->n_fields; i++)
        trim(r->fields[i].s);

    struct person p;
    person_init(&p);
    if (build_person(r, &p, &w) < 0) {
        person_free(&p);
        fatal(r, ERR_SYSTEM, line, "out of memory");
        return;
    }
    if (w.len > 0) {
        person_free(&p);
        refuse_row(r, line, w.text);
        return;
    }
    if (idset_put(&r->ids, p.id, line) < 0) {
        person_free(&p);
        fatal(r, ERR_SYSTEM, line, "out of memory");
        return;
    }
    r->res->taken++;
    int rc = r->fn ? r->fn(r->ctx, &p, line) : 0;
    person_free(&p);
    if (rc < 0) {
        if (r->err && r->err->code == 0)
            error_set(r->err, rc, r->path, line, "the import stopped at this row");
        r->stop = rc;
    }
}

static void on_row(int c, void *data)
{
    (void)c;
    struct reader *r = data;
    if (r->stop == 0) {
        if (r->have_header)
            on_row_data(r);
        else
            on_header(r);
    }
    record_clear(r);
    r->in_record = false;
}

/* Feeds n bytes that hold no line break, or exactly one CR or LF. */
static void parse(struct reader *r, const unsigned char *s, size_t n)
{
    size_t done = csv_parse(&r->parser, s, n, on_field, on_row, r);
    if (r->stop || done == n)
        return;
    int e = csv_error(&r->parser);
    if (e == CSV_EPARSE) {
        char label[4 * SHOW_MAX + 32];
        col_label(r, r->n_total, label, sizeof label);
        char where[64] = "";
        if (r->line != r->rec_line)
            snprintf(where, sizeof where, " on line %d", r->line);
        if (!r->have_header) {
            fatal(r, ERR_INPUT, r->rec_line, "header column %d: stray '\"'%s; quote the whole "
                  "field and double each quote inside it", r->n_total + 1, where);
            return;
        }
        struct why w = {.len = 0};
        why_add(&w, "%s: stray '\"'%s; a value with quotes must be quoted whole, each quote "
                "inside it doubled (\"\")", label, where);
        refuse_row(r, r->rec_line, w.text);
        /* libcsv cannot resume after an error: start afresh on the next line. */
        record_clear(r);
        r->in_record = false;
        r->skipping = true;
        parser_start(r);
        return;
    }
    if (e == CSV_ENOMEM && csv_get_buffer_size(&r->parser) >= PEOPLE_CSV_FIELD_HARD / 2) {
        fatal(r, ERR_INPUT, r->rec_line, "a field of the record starting here is over %d MiB "
              "(a quote that is never closed?)", PEOPLE_CSV_FIELD_HARD / (1024 * 1024));
        return;
    }
    fatal(r, ERR_SYSTEM, r->rec_line, "CSV parser: %s", csv_strerror(e));
}

static bool has_content(const unsigned char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t')
            return true;
    return false;
}

/* Splits a block at line breaks, so that whenever libcsv calls back the line is known. */
static void feed(struct reader *r, const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n && r->stop == 0) {
        unsigned char c = s[i];
        if (c == '\r' || c == '\n') {
            bool crlf_tail = c == '\n' && r->last_cr;
            r->last_cr = c == '\r';
            r->at_break = true;
            if (!r->skipping)
                parse(r, s + i, 1);
            if (!crlf_tail) {
                r->line++;
                r->skipping = false;
            }
            i++;
            continue;
        }
        r->last_cr = false;
        r->at_break = false;
        size_t j = i;
        while (j < n && s[j] != '\r' && s[j] != '\n')
            j++;
        if (!r->skipping) {
            /* libcsv skips a line of spaces and tabs, and so does the record count. */
            if (!r->in_record && has_content(s + i, j - i)) {
                r->in_record = true;
                r->rec_line = r->line;
            }
            parse(r, s + i, j - i);
        }
        i = j;
    }
}

static void finish(struct reader *r)
{
    if (csv_fini(&r->parser, on_field, on_row, r) == 0 || r->stop)
        return;
    /* Only CSV_STRICT_FINI fails csv_fini: the file ends inside a quoted field. */
    char label[4 * SHOW_MAX + 32];
    if (!r->have_header) {
        fatal(r, ERR_INPUT, r->rec_line, "the header's quoted field in column %d is never closed",
              r->n_total + 1);
        return;
    }
    struct why w = {.len = 0};
    int last = r->at_break ? r->line - 1 : r->line;
    col_label(r, r->n_total, label, sizeof label);
    if (last > r->rec_line)
        why_add(&w, "%s: the quote opened here is never closed; lines %d to %d, the end of the "
                "file, were read as part of it", label, r->rec_line, last);
    else
        why_add(&w, "%s: the quote opened here is never closed (the file ends inside it)", label);
    refuse_row(r, r->rec_line, w.text);
}

/* Refuses what is not UTF-8 text before any byte is parsed. */
static int check_encoding(struct reader *r, const unsigned char *s, size_t n)
{
    if (n >= 2 && ((s[0] == 0xFF && s[1] == 0xFE) || (s[0] == 0xFE && s[1] == 0xFF)))
        return fatal(r, ERR_INPUT, 0, "the file is UTF-16 (it starts with a UTF-16 byte order "
                     "mark); save it as UTF-8 CSV");
    size_t sample = n < 512 ? n : 512, nul = 0;
    for (size_t i = 0; i < sample; i++)
        nul += s[i] == 0;
    if (nul >= 2 && nul * 4 >= sample)
        return fatal(r, ERR_INPUT, 0, "the file is mostly NUL bytes, as UTF-16 text is; save it "
                     "as UTF-8 CSV");
    return 0;
}

int people_csv_read(const char *path, people_csv_row_fn fn, void *ctx, FILE *errors,
                    struct people_csv_result *res, struct error *err)
{
    struct people_csv_result local_res;
    struct error local_err;
    if (res == NULL)
        res = &local_res;
    if (err == NULL)
        err = &local_err;
    res->taken = res->refused = 0;
    memset(err, 0, sizeof *err);

    struct reader r = {
        .path = path, .errors = errors, .fn = fn, .ctx = ctx, .res = res, .err = err, .line = 1,
    };
    FILE *f = fopen(path, "rb");
    if (f == NULL)
        return error_set(err, ERR_INPUT, path, 0, "cannot open: %s", strerror(errno));
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return error_set(err, ERR_INPUT, path, 0, "is a directory, not a CSV file");
    }
    unsigned char *buf = malloc(READ_BLOCK);
    if (buf == NULL) {
        fclose(f);
        return error_set(err, ERR_SYSTEM, path, 0, "out of memory");
    }
    parser_start(&r);
    bool first = true;
    while (r.stop == 0) {
        size_t n = fread(buf, 1, READ_BLOCK, f);
        if (n == 0) {
            if (ferror(f))
                fatal(&r, ERR_SYSTEM, 0, "cannot read: %s", strerror(errno));
            break;
        }
        const unsigned char *s = buf;
        if (first) {
            first = false;
            if (check_encoding(&r, s, n) < 0)
                break;
            if (n >= 3 && s[0] == 0xEF && s[1] == 0xBB && s[2] == 0xBF)
                s += 3, n -= 3;
        }
        feed(&r, s, n);
    }
    if (r.stop == 0)
        finish(&r);
    if (r.stop == 0 && !r.have_header)
        fatal(&r, ERR_INPUT, 0, "no header row (the file is empty)");

    record_clear(&r);
    free(r.fields);
    for (int i = 0; i < r.n_cols; i++)
        free(r.cols[i]);
    free(r.cols);
    free(r.custom);
    idset_free(&r.ids);
    for (int i = 0; i < r.n_zones; i++)
        free(r.zones[i]);
    csv_free(&r.parser);
    free(buf);
    fclose(f);
    return r.stop;
}
