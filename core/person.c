/* person: the person record, its string sets, id/zone/UTF-8 checks and its JSON form.
 * Everything that comes in from JSON is validated before it lands in a struct person;
 * nothing here is ever repaired or guessed. */
#include "person.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

const char *const person_columns[] = {
    "id", "name", "email", "title", "location", "department", "level", "tenure_years",
    "timezone", "skills", "wants", "tags", "capacity", "manager", "plan", NULL,
};

bool person_is_column(const char *name)
{
    for (int i = 0; person_columns[i]; i++)
        if (strcasecmp(name, person_columns[i]) == 0)
            return true;
    return false;
}

void strset_free(struct strset *s)
{
    if (s == NULL)
        return;
    for (int i = 0; i < s->n; i++)
        free(s->v[i]);
    free(s->v);
    s->v = NULL;
    s->n = 0;
}

void person_init(struct person *p)
{
    memset(p, 0, sizeof *p);
    p->capacity = 1;
    p->tenure_years = NAN;
}

/* The optional text fields, in JSON order, so copy/free/json treat them alike. */
#define PERSON_TEXT_FIELDS(X) \
    X(name) X(email) X(title) X(location) X(department) X(timezone) X(manager) X(plan)

void person_free(struct person *p)
{
    if (p == NULL)
        return;
    free(p->id);
#define FREE_FIELD(f) free(p->f);
    PERSON_TEXT_FIELDS(FREE_FIELD)
#undef FREE_FIELD
    strset_free(&p->skills);
    strset_free(&p->wants);
    strset_free(&p->tags);
    for (int i = 0; i < p->n_attrs; i++) {
        free(p->attrs[i].key);
        free(p->attrs[i].value);
    }
    free(p->attrs);
    person_init(p);
}

static int dup_opt(char **dst, const char *src)
{
    *dst = NULL;
    if (src == NULL)
        return 0;
    *dst = strdup(src);
    return *dst ? 0 : ERR_SYSTEM;
}

static int strset_copy(struct strset *dst, const struct strset *src)
{
    dst->v = NULL;
    dst->n = 0;
    if (src->n == 0)
        return 0;
    dst->v = calloc((size_t)src->n, sizeof *dst->v);
    if (dst->v == NULL)
        return ERR_SYSTEM;
    for (int i = 0; i < src->n; i++) {
        dst->v[i] = strdup(src->v[i]);
        if (dst->v[i] == NULL)
            return ERR_SYSTEM;  /* the caller frees what was copied */
        dst->n = i + 1;
    }
    return 0;
}

int person_copy(struct person *dst, const struct person *src)
{
    person_init(dst);
    dst->level = src->level;
    dst->tenure_years = src->tenure_years;
    dst->capacity = src->capacity;
    int rc = dup_opt(&dst->id, src->id);
#define COPY_FIELD(f) if (rc == 0) rc = dup_opt(&dst->f, src->f);
    PERSON_TEXT_FIELDS(COPY_FIELD)
#undef COPY_FIELD
    if (rc == 0)
        rc = strset_copy(&dst->skills, &src->skills);
    if (rc == 0)
        rc = strset_copy(&dst->wants, &src->wants);
    if (rc == 0)
        rc = strset_copy(&dst->tags, &src->tags);
    if (rc == 0 && src->n_attrs > 0) {
        dst->attrs = calloc((size_t)src->n_attrs, sizeof *dst->attrs);
        if (dst->attrs == NULL)
            rc = ERR_SYSTEM;
        for (int i = 0; rc == 0 && i < src->n_attrs; i++) {
            dst->n_attrs = i + 1;
            if (dup_opt(&dst->attrs[i].key, src->attrs[i].key) < 0 ||
                dup_opt(&dst->attrs[i].value, src->attrs[i].value) < 0)
                rc = ERR_SYSTEM;
        }
    }
    if (rc < 0) {
        person_free(dst);
        return ERR_SYSTEM;
    }
    return 0;
}

bool person_id_valid(const char *id)
{
    if (id == NULL)
        return false;
    size_t n = 0;
    for (const char *c = id; *c; c++, n++) {
        if (n >= PERSON_ID_MAX)
            return false;
        if (!(isalnum((unsigned char)*c) && (unsigned char)*c < 0x80) &&
            *c != '.' && *c != '_' && *c != '-')
            return false;
    }
    return n > 0;
}

bool person_utf8_valid(const char *str, size_t len, size_t *bad_at)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < len) {
        unsigned char c = s[i];
        size_t need;
        unsigned min;
        unsigned cp;
        if (c == 0)
            goto bad;
        if (c < 0x80) {
            i++;
            continue;
        } else if (c >= 0xC2 && c <= 0xDF) {
            need = 1, min = 0x80, cp = c & 0x1F;
        } else if (c >= 0xE0 && c <= 0xEF) {
            need = 2, min = 0x800, cp = c & 0x0F;
        } else if (c >= 0xF0 && c <= 0xF4) {
            need = 3, min = 0x10000, cp = c & 0x07;
        } else {
            goto bad;
        }
        if (len - i <= need)
            goto bad;
        for (size_t k = 1; k <= need; k++) {
            if ((s[i + k] & 0xC0) != 0x80)
                goto bad;
            cp = (cp << 6) | (s[i + k] & 0x3F);
        }
        if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
            goto bad;
        i += need + 1;
    }
    return true;
bad:
    if (bad_at)
        *bad_at = i;
    return false;
}

/* Index of item in s, or -(insertion point) - 1 when absent. */
static int strset_find(const struct strset *s, const char *item)
{
    int lo = 0, hi = s->n;
    while (lo < hi) {
        int mid = lo + (hi - lo) / 2;
        int c = strcmp(s->v[mid], item);
        if (c == 0)
            return mid;
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return -lo - 1;
}

bool strset_has(const struct strset *s, const char *item)
{
    return s && item && strset_find(s, item) >= 0;
}

int strset_add(struct strset *s, const char *item)
{
    int at = strset_find(s, item);
    if (at >= 0)
        return 0;
    at = -at - 1;
    char *copy = strdup(item);
    if (copy == NULL)
        return ERR_SYSTEM;
    char **v = realloc(s->v, ((size_t)s->n + 1) * sizeof *v);
    if (v == NULL) {
        free(copy);
        return ERR_SYSTEM;
    }
    memmove(v + at + 1, v + at, ((size_t)s->n - (size_t)at) * sizeof *v);
    v[at] = copy;
    s->v = v;
    s->n++;
    return 0;
}

static bool is_trim_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

int strset_parse(struct strset *s, const char *cell)
{
    if (cell == NULL)
        return 0;
    const char *p = cell;
    for (;;) {
        const char *end = strchr(p, ';');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        const char *a = p, *b = p + len;
        while (a < b && is_trim_space(*a))
            a++;
        while (b > a && is_trim_space(b[-1]))
            b--;
        if (b > a) {
            char *item = strndup(a, (size_t)(b - a));
            if (item == NULL)
                return ERR_SYSTEM;
            int rc = strset_add(s, item);
            free(item);
            if (rc < 0)
                return rc;
        }
        if (end == NULL)
            return 0;
        p = end + 1;
    }
}

const char *person_attr(const struct person *p, const char *key)
{
    if (p == NULL || key == NULL)
        return NULL;
    for (int i = 0; i < p->n_attrs; i++)
        if (strcmp(p->attrs[i].key, key) == 0)
            return p->attrs[i].value;
    return NULL;
}

/* The shape of an IANA zone name, checked before any path is built from it. */
static bool tz_name_ok(const char *name)
{
    if (name == NULL || name[0] == '\0' || name[0] == '/' || strlen(name) > 255)
        return false;
    if (strstr(name, "..") != NULL || strstr(name, "//") != NULL)
        return false;
    for (const char *c = name; *c; c++) {
        unsigned char u = (unsigned char)*c;
        if (!(u < 0x80 && isalnum(u)) && !strchr("/_+.-", u))
            return false;
    }
    return name[strlen(name) - 1] != '/';
}

bool timezone_valid(const char *name)
{
    if (!tz_name_ok(name))
        return false;
    const char *dir = getenv("TZDIR");
    if (dir == NULL || dir[0] == '\0')
        dir = "/usr/share/zoneinfo";
    char path[4096];
    int n = snprintf(path, sizeof path, "%s/%s", dir, name);
    if (n < 0 || (size_t)n >= sizeof path)
        return false;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return false;
    struct stat st;
    char magic[4];
    bool ok = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) &&
              read(fd, magic, sizeof magic) == (ssize_t)sizeof magic &&
              memcmp(magic, "TZif", 4) == 0;
    close(fd);
    return ok;
}

/* ---- JSON ---- */

static cJSON *make_object(void *ctx)
{
    (void)ctx;
    return cJSON_CreateObject();
}

static cJSON *make_array(void *ctx)
{
    (void)ctx;
    return cJSON_CreateArray();
}

static cJSON *make_string(void *ctx, const char *s)
{
    (void)ctx;
    return cJSON_CreateString(s);
}

static cJSON *make_number(void *ctx, double d)
{
    (void)ctx;
    return cJSON_CreateNumber(d);
}

static void make_drop(void *ctx, cJSON *item)
{
    (void)ctx;
    cJSON_Delete(item);
}

static const struct json_maker CJSON_MAKER = { NULL, make_object, make_array, make_string, make_number, make_drop };

static cJSON *strset_to_json(const struct strset *s, const struct json_maker *m)
{
    cJSON *a = m->array(m->ctx);
    for (int i = 0; a && i < s->n; i++) {
        cJSON *item = m->string(m->ctx, s->v[i]);
        if (item == NULL || !cJSON_AddItemToArray(a, item)) {
            if (item)
                m->drop(m->ctx, item);
            m->drop(m->ctx, a);
            return NULL;
        }
    }
    return a;
}

/* Adds item under a literal key; when it cannot, drops it and says false. */
static bool add_cs(const struct json_maker *m, cJSON *o, const char *literal_key, cJSON *item)
{
    if (item && cJSON_AddItemToObjectCS(o, literal_key, item))
        return true;
    if (item)
        m->drop(m->ctx, item);
    return false;
}

static cJSON *to_json(const struct person *p, const struct json_maker *m)
{
    cJSON *o = m->object(m->ctx);
    if (o == NULL)
        return NULL;
    /* The standard keys are literals: cJSON keeps them without a copy (...ToObjectCS). */
    bool ok = add_cs(m, o, "id", m->string(m->ctx, p->id ? p->id : ""));
#define ADD_FIELD(f) if (ok && p->f) ok = add_cs(m, o, #f, m->string(m->ctx, p->f));
    PERSON_TEXT_FIELDS(ADD_FIELD)
#undef ADD_FIELD
    if (ok && p->level != 0)
        ok = add_cs(m, o, "level", m->number(m->ctx, p->level));
    if (ok && !isnan(p->tenure_years)) {
        /* cJSON prints 15 digits whenever they come within an ulp or so (0.1 + 0.2 comes out
         * as 0.3), so the log would not replay to the same double: print it ourselves. */
        char num[32];
        for (int digits = 15; digits <= 17; digits++) {
            snprintf(num, sizeof num, "%.*g", digits, p->tenure_years);
            if (strtod(num, NULL) == p->tenure_years)
                break;
        }
        ok = cJSON_AddRawToObject(o, "tenure_years", num) != NULL;
    }
    if (ok)
        ok = add_cs(m, o, "capacity", m->number(m->ctx, p->capacity));
    const struct { const char *key; const struct strset *set; } sets[] = {
        {"skills", &p->skills}, {"wants", &p->wants}, {"tags", &p->tags},
    };
    for (size_t i = 0; ok && i < sizeof sets / sizeof sets[0]; i++) {
        if (sets[i].set->n == 0)
            continue;
        ok = add_cs(m, o, sets[i].key, strset_to_json(sets[i].set, m));
    }
    if (ok && p->n_attrs > 0) {
        cJSON *attrs = cJSON_AddObjectToObject(o, "attrs");
        ok = attrs != NULL;
        for (int i = 0; ok && i < p->n_attrs; i++)
            ok = cJSON_AddStringToObject(attrs, p->attrs[i].key, p->attrs[i].value) != NULL;
    }
    if (!ok) {
        m->drop(m->ctx, o);
        return NULL;
    }
    return o;
}

cJSON *person_to_json(const struct person *p)
{
    return to_json(p, &CJSON_MAKER);
}

cJSON *person_to_json_made(const struct person *p, const struct json_maker *m)
{
    if (!isnan(p->tenure_years) || p->n_attrs > 0)
        return NULL;   /* a raw number and keys of the person's own: cJSON's nodes */
    return to_json(p, m);
}

static int refuse(struct error *err, const char *field, const char *what)
{
    return error_set(err, ERR_INPUT, NULL, 0, "person: %s %s", field, what);
}

/* A present string must be non-empty UTF-8 without NUL; cJSON lets invalid UTF-8 through. */
static bool text_ok(const cJSON *v)
{
    return cJSON_IsString(v) && v->valuestring && v->valuestring[0] &&
           person_utf8_valid(v->valuestring, strlen(v->valuestring), NULL);
}

static int int_from_json(const cJSON *v, const char *field, int lo, int hi, int *out,
                         struct error *err)
{
    if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || v->valuedouble != floor(v->valuedouble) ||
        v->valuedouble < lo || v->valuedouble > hi) {
        char what[64];
        snprintf(what, sizeof what, "must be a whole number from %d to %d", lo, hi);
        return refuse(err, field, what);
    }
    *out = (int)v->valuedouble;
    return 0;
}

static int strset_from_json(const cJSON *v, const char *field, struct strset *out, struct error *err)
{
    if (!cJSON_IsArray(v))
        return refuse(err, field, "must be an array of strings");
    const cJSON *item;
    cJSON_ArrayForEach(item, v) {
        if (!text_ok(item) || strchr(item->valuestring, ';'))
            return refuse(err, field, "must hold non-empty UTF-8 strings without ';'");
        if (strset_add(out, item->valuestring) < 0)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    return 0;
}

static int attrs_from_json(const cJSON *v, struct person *p, struct error *err)
{
    if (!cJSON_IsObject(v))
        return refuse(err, "attrs", "must be an object of strings");
    int n = cJSON_GetArraySize(v);
    if (n == 0)
        return 0;
    if (n > PERSON_ATTRS_MAX)  /* as many as a CSV may have columns; also keeps the check below short */
        return refuse(err, "attrs", "has more keys than a people file may have columns");
    p->attrs = calloc((size_t)n, sizeof *p->attrs);
    if (p->attrs == NULL)
        return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    const cJSON *item;
    cJSON_ArrayForEach(item, v) {
        const char *key = item->string;
        if (key == NULL || key[0] == '\0' || !person_utf8_valid(key, strlen(key), NULL))
            return refuse(err, "attrs", "has a key that is empty or not UTF-8");
        if (person_is_column(key))
            return error_set(err, ERR_INPUT, NULL, 0,
                             "person: attrs key '%s' is a standard column name", key);
        if (person_attr(p, key) != NULL)
            return error_set(err, ERR_INPUT, NULL, 0, "person: attrs key '%s' appears twice", key);
        if (!text_ok(item))
            return error_set(err, ERR_INPUT, NULL, 0,
                             "person: attrs.%s must be a non-empty UTF-8 string", key);
        struct attr *a = &p->attrs[p->n_attrs];
        a->key = strdup(key);
        a->value = strdup(item->valuestring);
        p->n_attrs++;  /* counted before the check so person_free sees a half-made pair */
        if (a->key == NULL || a->value == NULL)
            return error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    return 0;
}

/* A number node, or the raw number node person_to_json makes for tenure_years (parsing
 * text never makes raw nodes; a tree straight from person_to_json has one). */
static bool number_from_json(const cJSON *v, double *out)
{
    if (cJSON_IsNumber(v)) {
        *out = v->valuedouble;
        return true;
    }
    if (!cJSON_IsRaw(v) || v->valuestring == NULL)
        return false;
    const char *s = v->valuestring;
    if (!(s[0] == '-' || (s[0] >= '0' && s[0] <= '9')))
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= '0' && *c <= '9') || strchr(".eE+-", *c)))
            return false;
    char *end;
    *out = strtod(s, &end);
    return end != s && *end == '\0';
}

/* k is the literal lit: the first bytes first, as most keys differ there (a strcmp call per
 * candidate key was a tenth of reading a person). */
#define KEY_IS(k, lit) ((k)[0] == (lit)[0] && strcmp((k), (lit)) == 0)

/* One key of the person object; a helper so person_from_json can free on any failure. */
static int field_from_json(const cJSON *v, struct person *p, struct error *err)
{
    const char *k = v->string;
    char **text = NULL;
#define MATCH_FIELD(f) else if (KEY_IS(k, #f)) text = &p->f;
    if (KEY_IS(k, "id"))
        text = &p->id;
    PERSON_TEXT_FIELDS(MATCH_FIELD)
#undef MATCH_FIELD
    if (text) {
        if (*text)
            return refuse(err, k, "appears twice");
        if (!text_ok(v))
            return refuse(err, k, "must be a non-empty UTF-8 string without NUL");
        if ((text == &p->id || text == &p->manager) && !person_id_valid(v->valuestring))
            return refuse(err, k, "is not a valid id ([A-Za-z0-9._-], 1 to 64 characters)");
        if (text == &p->timezone && !tz_name_ok(v->valuestring))
            return refuse(err, k, "is not an IANA zone name");
        *text = strdup(v->valuestring);
        return *text ? 0 : error_set(err, ERR_SYSTEM, NULL, 0, "out of memory");
    }
    if (KEY_IS(k, "level"))
        return int_from_json(v, k, 1, PERSON_LEVEL_MAX, &p->level, err);
    if (KEY_IS(k, "capacity"))
        return int_from_json(v, k, 0, PERSON_CAPACITY_MAX, &p->capacity, err);
    if (KEY_IS(k, "tenure_years")) {
        double d;
        if (!number_from_json(v, &d) || !isfinite(d) || d < 0)
            return refuse(err, k, "must be a number >= 0");
        p->tenure_years = d + 0.0;  /* + 0.0 turns -0 into 0 */
        return 0;
    }
    if (KEY_IS(k, "skills"))
        return strset_from_json(v, k, &p->skills, err);
    if (KEY_IS(k, "wants"))
        return strset_from_json(v, k, &p->wants, err);
    if (KEY_IS(k, "tags"))
        return strset_from_json(v, k, &p->tags, err);
    if (KEY_IS(k, "attrs"))
        return attrs_from_json(v, p, err);
    return error_set(err, ERR_INPUT, NULL, 0, "person: unknown field '%s'", k);
}

int person_from_json(const cJSON *obj, struct person *out, struct error *err)
{
    person_init(out);
    if (!cJSON_IsObject(obj))
        return error_set(err, ERR_INPUT, NULL, 0, "person: not an object");
    /* cJSON keeps repeated keys: refuse them, as the numeric and set fields would
     * otherwise silently take the last one. */
    const cJSON *v;
    cJSON_ArrayForEach(v, obj) {
        if (v->string == NULL) {
            person_free(out);
            return error_set(err, ERR_INPUT, NULL, 0, "person: a field has no name");
        }
        for (const cJSON *w = obj->child; w != v; w = w->next)
            if (KEY_IS(w->string, v->string)) {
                person_free(out);
                return refuse(err, v->string, "appears twice");
            }
        int rc = field_from_json(v, out, err);
        if (rc < 0) {
            person_free(out);
            return rc;
        }
    }
    if (out->id == NULL) {
        person_free(out);
        return refuse(err, "id", "is missing");
    }
    if (out->manager && strcmp(out->manager, out->id) == 0) {
        person_free(out);
        return refuse(err, "manager", "is the person's own id");
    }
    return 0;
}
