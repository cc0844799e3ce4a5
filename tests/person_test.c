/* person_test: the person record's sets, id/UTF-8/zone checks and its JSON round trip.
 * Every refusal is asserted by its message, so a check that silently passes bad data fails here;
 * it must never depend on files outside a temp dir except the system zoneinfo. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "person.h"

static void assert_set(const struct strset *s, int n, const char *const *items)
{
    cr_assert_eq(s->n, n, "set has %d items, expected %d", s->n, n);
    for (int i = 0; i < n; i++)
        cr_assert_str_eq(s->v[i], items[i]);
}

Test(person, init_is_empty_with_defaults)
{
    struct person p;
    memset(&p, 0xAB, sizeof p);
    person_init(&p);
    cr_assert_null(p.id);
    cr_assert_null(p.name);
    cr_assert_null(p.plan);
    cr_assert_eq(p.level, 0);
    cr_assert_eq(p.capacity, 1);
    cr_assert(isnan(p.tenure_years));
    cr_assert_eq(p.skills.n, 0);
    cr_assert_eq(p.n_attrs, 0);
    cr_assert_null(p.attrs);
    person_free(&p);
    person_free(&p);  /* twice is harmless: free leaves it initialized-empty */
    cr_assert_eq(p.capacity, 1);
}

Test(strset, parse_trims_drops_empty_sorts_and_dedups)
{
    struct strset s = {0};
    cr_assert_eq(strset_parse(&s, "sql; go ;;lua"), 0);
    assert_set(&s, 3, (const char *[]){"go", "lua", "sql"});
    cr_assert_eq(strset_parse(&s, " go;\tSQL ; ;\n"), 0);
    assert_set(&s, 4, (const char *[]){"SQL", "go", "lua", "sql"});
    cr_assert_eq(strset_parse(&s, NULL), 0);
    cr_assert_eq(strset_parse(&s, ""), 0);
    cr_assert_eq(strset_parse(&s, " ; ;"), 0);
    cr_assert_eq(s.n, 4);
    strset_free(&s);
    cr_assert_eq(s.n, 0);
    cr_assert_null(s.v);
}

Test(strset, add_and_has)
{
    struct strset s = {0};
    cr_assert_not(strset_has(&s, "x"));
    const char *in[] = {"m", "c", "x", "a", "c", "z", "m"};
    for (size_t i = 0; i < sizeof in / sizeof in[0]; i++)
        cr_assert_eq(strset_add(&s, in[i]), 0);
    assert_set(&s, 5, (const char *[]){"a", "c", "m", "x", "z"});
    cr_assert(strset_has(&s, "a"));
    cr_assert(strset_has(&s, "z"));
    cr_assert(strset_has(&s, "m"));
    cr_assert_not(strset_has(&s, "b"));
    cr_assert_not(strset_has(&s, "A"));
    cr_assert_not(strset_has(&s, NULL));
    /* strset_add copies: the caller's buffer may change afterwards */
    char buf[8] = "tmp";
    strset_add(&s, buf);
    strcpy(buf, "zzz");
    cr_assert(strset_has(&s, "tmp"));
    strset_free(&s);
}

Test(person, id_validation)
{
    const char *good[] = {"a", "alice", "A.b_c-9", "007", "x.y"};
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++)
        cr_assert(person_id_valid(good[i]), "'%s' should be valid", good[i]);
    const char *bad[] = {"", "a b", "1.2E+10", "a/b", "é", "a\nb", "a,b", "a;b", "tab\t", "\x1b"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(person_id_valid(bad[i]), "'%s' should be refused", bad[i]);
    cr_assert_not(person_id_valid(NULL));
    char id[PERSON_ID_MAX + 2];
    memset(id, 'k', PERSON_ID_MAX);
    id[PERSON_ID_MAX] = '\0';
    cr_assert(person_id_valid(id), "64 characters are allowed");
    id[PERSON_ID_MAX] = 'k';
    id[PERSON_ID_MAX + 1] = '\0';
    cr_assert_not(person_id_valid(id), "65 characters are too many");
}

Test(person, utf8_validation)
{
    struct { const char *s; size_t len; bool ok; size_t bad_at; } cases[] = {
        {"plain", 5, true, 0},
        {"Zo\xc3\xab \xe2\x82\xac \xf0\x9f\x98\x80", 13, true, 0},     /* ë € 😀 */
        {"caf\xe9", 4, false, 3},                                      /* Windows-1252 é */
        {"ab\xc0\x80", 4, false, 2},                                   /* overlong NUL */
        {"\xed\xa0\x80", 3, false, 0},                                 /* surrogate */
        {"\xf4\x90\x80\x80", 4, false, 0},                             /* past U+10FFFF */
        {"ok\xe2\x82", 4, false, 2},                                   /* cut short */
        {"a\0b", 3, false, 1},                                         /* NUL */
        {"\x80", 1, false, 0},                                         /* lone continuation */
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        size_t at = 999;
        bool ok = person_utf8_valid(cases[i].s, cases[i].len, &at);
        cr_assert_eq(ok, cases[i].ok, "case %zu", i);
        if (!ok)
            cr_assert_eq(at, cases[i].bad_at, "case %zu: bad at %zu", i, at);
    }
}

Test(person, timezone_validation)
{
    cr_assert(timezone_valid("Europe/Berlin"));
    cr_assert(timezone_valid("America/New_York"));
    cr_assert(timezone_valid("Etc/GMT+5"));
    cr_assert(timezone_valid("UTC"));
    const char *bad[] = {"", "Mars/Olympus", "Europe", "Europe/", "/usr/share/zoneinfo/UTC",
                         "../zoneinfo/UTC", "Europe/../UTC", "Europe/Berlin ", "europe berlin",
                         "zone.tab"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        cr_assert_not(timezone_valid(bad[i]), "'%s' should be refused", bad[i]);
    cr_assert_not(timezone_valid(NULL));
}

Test(person, timezone_follows_tzdir)
{
    char dir[] = "/tmp/tandem_tz_XXXXXX";
    cr_assert_not_null(mkdtemp(dir));
    char sub[256], good[256], bad[256];
    snprintf(sub, sizeof sub, "%s/Test", dir);
    snprintf(good, sizeof good, "%s/Test/Zone", dir);
    snprintf(bad, sizeof bad, "%s/Test/Text", dir);
    cr_assert_eq(mkdir(sub, 0700), 0);
    FILE *f = fopen(good, "w");
    fputs("TZif2 rest does not matter", f);
    fclose(f);
    f = fopen(bad, "w");
    fputs("not a zone", f);
    fclose(f);
    setenv("TZDIR", dir, 1);
    bool zone = timezone_valid("Test/Zone");
    bool text = timezone_valid("Test/Text");
    bool berlin = timezone_valid("Europe/Berlin");
    unsetenv("TZDIR");
    unlink(good);
    unlink(bad);
    rmdir(sub);
    rmdir(dir);
    cr_assert(zone, "a TZif file under $TZDIR is a zone");
    cr_assert_not(text, "a file that is not TZif is not a zone");
    cr_assert_not(berlin, "only $TZDIR is searched when it is set");
}

Test(person, attr_lookup)
{
    struct person p;
    person_init(&p);
    struct attr attrs[] = {{"q_background", "Physics"}, {"Team Size", "12"}};
    p.attrs = attrs;
    p.n_attrs = 2;
    cr_assert_str_eq(person_attr(&p, "q_background"), "Physics");
    cr_assert_str_eq(person_attr(&p, "Team Size"), "12");
    cr_assert_null(person_attr(&p, "team size"));
    cr_assert_null(person_attr(&p, "missing"));
    cr_assert_null(person_attr(&p, NULL));
}

static void full_person(struct person *p)
{
    person_init(p);
    p->id = strdup("alice.a-1_x");
    p->name = strdup("Zoë \"Al\" Ünal");
    p->email = strdup("alice@example.com");
    p->title = strdup("VP");
    p->location = strdup("Berlin");
    p->department = strdup("Eng");
    p->timezone = strdup("Europe/Berlin");
    p->manager = strdup("bob");
    p->plan = strdup("line one\nline two, \"quoted\"\n=HYPERLINK(\"x\")");
    p->level = 15;
    p->tenure_years = 0.1 + 0.2;  /* not a short decimal: needs 17 digits to survive */
    p->capacity = 0;
    strset_parse(&p->skills, "sql;go;lua");
    strset_parse(&p->wants, "public speaking");
    strset_parse(&p->tags, "senior_leader;external");
    p->attrs = calloc(2, sizeof *p->attrs);
    p->attrs[0] = (struct attr){strdup("zz_last_alphabetically"), strdup("first in order")};
    p->attrs[1] = (struct attr){strdup("q_background"), strdup("Physics")};
    p->n_attrs = 2;
}

static void assert_same_person(const struct person *a, const struct person *b)
{
#define SAME_TEXT(f)                                            \
    if (a->f == NULL)                                           \
        cr_assert_null(b->f, #f);                               \
    else                                                        \
        cr_assert_str_eq(b->f, a->f, #f);
    SAME_TEXT(id) SAME_TEXT(name) SAME_TEXT(email) SAME_TEXT(title) SAME_TEXT(location)
    SAME_TEXT(department) SAME_TEXT(timezone) SAME_TEXT(manager) SAME_TEXT(plan)
#undef SAME_TEXT
    cr_assert_eq(b->level, a->level);
    cr_assert_eq(b->capacity, a->capacity);
    if (isnan(a->tenure_years))
        cr_assert(isnan(b->tenure_years));
    else
        cr_assert(memcmp(&a->tenure_years, &b->tenure_years, sizeof(double)) == 0,
                  "tenure %.17g != %.17g", a->tenure_years, b->tenure_years);
    const struct strset *sa[] = {&a->skills, &a->wants, &a->tags};
    const struct strset *sb[] = {&b->skills, &b->wants, &b->tags};
    for (int k = 0; k < 3; k++) {
        cr_assert_eq(sb[k]->n, sa[k]->n);
        for (int i = 0; i < sa[k]->n; i++)
            cr_assert_str_eq(sb[k]->v[i], sa[k]->v[i]);
    }
    cr_assert_eq(b->n_attrs, a->n_attrs);
    for (int i = 0; i < a->n_attrs; i++) {
        cr_assert_str_eq(b->attrs[i].key, a->attrs[i].key);
        cr_assert_str_eq(b->attrs[i].value, a->attrs[i].value);
    }
}

/* person -> JSON text -> parse -> person, as the event log does it. */
static void round_trip(const struct person *p, struct person *out, char **text)
{
    cJSON *j = person_to_json(p);
    cr_assert_not_null(j);
    *text = cJSON_PrintUnformatted(j);
    cJSON_Delete(j);
    cJSON *back = cJSON_ParseWithOpts(*text, NULL, 1);
    cr_assert_not_null(back, "unparsable: %s", *text);
    struct error err = {0};
    int rc = person_from_json(back, out, &err);
    cJSON_Delete(back);
    cr_assert_eq(rc, 0, "refused its own JSON: %s (%s)", err.msg, *text);
}

Test(person_json, full_round_trip_is_exact)
{
    struct person p, q;
    full_person(&p);
    char *text;
    round_trip(&p, &q, &text);
    assert_same_person(&p, &q);
    /* and the second trip prints the same bytes */
    cJSON *j = person_to_json(&q);
    char *again = cJSON_PrintUnformatted(j);
    cr_assert_str_eq(again, text);
    free(again);
    cJSON_Delete(j);
    free(text);
    person_free(&p);
    person_free(&q);
}

Test(person_json, minimal_person_has_only_present_fields)
{
    struct person p, q;
    person_init(&p);
    p.id = strdup("x");
    char *text;
    round_trip(&p, &q, &text);
    cr_assert_str_eq(text, "{\"id\":\"x\",\"capacity\":1}");
    assert_same_person(&p, &q);
    free(text);
    person_free(&p);
    person_free(&q);
}

Test(person_json, shape_of_sets_attrs_and_numbers)
{
    struct person p;
    full_person(&p);
    p.tenure_years = 2.5;
    cJSON *j = person_to_json(&p);
    char *text = cJSON_PrintUnformatted(j);
    cr_assert_str_eq(text,
        "{\"id\":\"alice.a-1_x\",\"name\":\"Zoë \\\"Al\\\" Ünal\",\"email\":\"alice@example.com\","
        "\"title\":\"VP\",\"location\":\"Berlin\",\"department\":\"Eng\","
        "\"timezone\":\"Europe/Berlin\",\"manager\":\"bob\","
        "\"plan\":\"line one\\nline two, \\\"quoted\\\"\\n=HYPERLINK(\\\"x\\\")\","
        "\"level\":15,\"tenure_years\":2.5,\"capacity\":0,"
        "\"skills\":[\"go\",\"lua\",\"sql\"],\"wants\":[\"public speaking\"],"
        "\"tags\":[\"external\",\"senior_leader\"],"
        "\"attrs\":{\"zz_last_alphabetically\":\"first in order\",\"q_background\":\"Physics\"}}");
    free(text);
    cJSON_Delete(j);
    person_free(&p);
}

Test(person_json, tenure_values_round_trip)
{
    const double values[] = {0.0, 1.0 / 3.0, 1e-300, 123456789.123456789, 40.0, 5e-324};
    for (size_t i = 0; i < sizeof values / sizeof values[0]; i++) {
        struct person p, q;
        person_init(&p);
        p.id = strdup("t");
        p.tenure_years = values[i];
        char *text;
        round_trip(&p, &q, &text);
        assert_same_person(&p, &q);
        free(text);
        person_free(&p);
        person_free(&q);
    }
}

Test(person, copy_is_deep)
{
    struct person p, c;
    full_person(&p);
    cr_assert_eq(person_copy(&c, &p), 0);
    assert_same_person(&p, &c);
    cr_assert_neq(c.id, p.id);
    cr_assert_neq(c.skills.v, p.skills.v);
    cr_assert_neq(c.attrs, p.attrs);
    cr_assert_neq(c.attrs[0].value, p.attrs[0].value);
    person_free(&p);
    /* the copy outlives the original (ASan would catch a shared pointer) */
    cr_assert_str_eq(c.plan, "line one\nline two, \"quoted\"\n=HYPERLINK(\"x\")");
    cr_assert_str_eq(c.attrs[1].value, "Physics");
    cr_assert(strset_has(&c.tags, "external"));
    person_free(&c);
}

/* Parses text, runs person_from_json and expects a refusal whose message contains want. */
static void assert_refused(const char *text, const char *want)
{
    cJSON *j = cJSON_ParseWithOpts(text, NULL, 1);
    cr_assert_not_null(j, "test JSON does not parse: %s", text);
    struct person p;
    struct error err = {0};
    int rc = person_from_json(j, &p, &err);
    cJSON_Delete(j);
    cr_assert_eq(rc, ERR_INPUT, "accepted: %s", text);
    cr_assert_eq(err.code, ERR_INPUT);
    cr_assert(strstr(err.msg, want) != NULL, "for %s: message '%s' lacks '%s'", text, err.msg, want);
    /* a refusal leaves nothing behind to free */
    cr_assert_null(p.id);
    cr_assert_null(p.name);
    cr_assert_eq(p.skills.n, 0);
    cr_assert_eq(p.n_attrs, 0);
}

Test(person_json, refusals_name_the_field)
{
    assert_refused("[]", "not an object");
    assert_refused("\"alice\"", "not an object");
    assert_refused("{}", "id is missing");
    assert_refused("{\"name\":\"A\",\"level\":3}", "id is missing");
    assert_refused("{\"id\":\"a b\"}", "id is not a valid id");
    assert_refused("{\"id\":\"1.2E+10\"}", "id is not a valid id");
    assert_refused("{\"id\":17}", "id must be a non-empty UTF-8 string");
    assert_refused("{\"id\":\"\"}", "id must be a non-empty");
    assert_refused("{\"id\":\"a\",\"Id\":\"b\"}", "unknown field 'Id'");
    assert_refused("{\"id\":\"a\",\"id\":\"b\"}", "id appears twice");
    assert_refused("{\"id\":\"a\",\"level\":3,\"level\":4}", "level appears twice");
    assert_refused("{\"id\":\"a\",\"nickname\":\"b\"}", "unknown field 'nickname'");
    assert_refused("{\"id\":\"a\",\"name\":\"\"}", "name must be a non-empty");
    assert_refused("{\"id\":\"a\",\"email\":null}", "email must be a non-empty");
    assert_refused("{\"id\":\"a\",\"plan\":[\"x\"]}", "plan must be");
    assert_refused("{\"id\":\"a\",\"manager\":\"x y\"}", "manager is not a valid id");
    assert_refused("{\"manager\":\"a\",\"id\":\"a\"}", "manager is the person's own id");
    assert_refused("{\"id\":\"a\",\"timezone\":\"../etc/passwd\"}", "timezone is not an IANA");
    assert_refused("{\"id\":\"a\",\"level\":0}", "level must be a whole number from 1 to 15");
    assert_refused("{\"id\":\"a\",\"level\":16}", "level must be a whole number from 1 to 15");
    assert_refused("{\"id\":\"a\",\"level\":3.5}", "level must be a whole number");
    assert_refused("{\"id\":\"a\",\"level\":\"3\"}", "level must be a whole number");
    assert_refused("{\"id\":\"a\",\"capacity\":-1}", "capacity must be a whole number from 0 to 1000");
    assert_refused("{\"id\":\"a\",\"capacity\":1001}", "capacity must be a whole number");
    assert_refused("{\"id\":\"a\",\"capacity\":1e999}", "capacity must be a whole number");
    assert_refused("{\"id\":\"a\",\"tenure_years\":-0.5}", "tenure_years must be a number >= 0");
    assert_refused("{\"id\":\"a\",\"tenure_years\":\"2\"}", "tenure_years must be a number");
    assert_refused("{\"id\":\"a\",\"tenure_years\":1e999}", "tenure_years must be a number");
    assert_refused("{\"id\":\"a\",\"skills\":\"sql\"}", "skills must be an array of strings");
    assert_refused("{\"id\":\"a\",\"skills\":[\"sql\",3]}", "skills must hold non-empty");
    assert_refused("{\"id\":\"a\",\"wants\":[\"\"]}", "wants must hold non-empty");
    assert_refused("{\"id\":\"a\",\"tags\":[\"a;b\"]}", "tags must hold non-empty UTF-8 strings without ';'");
    assert_refused("{\"id\":\"a\",\"attrs\":[]}", "attrs must be an object");
    assert_refused("{\"id\":\"a\",\"attrs\":{\"q\":1}}", "attrs.q must be a non-empty UTF-8 string");
    assert_refused("{\"id\":\"a\",\"attrs\":{\"q\":\"\"}}", "attrs.q must be a non-empty");
    assert_refused("{\"id\":\"a\",\"attrs\":{\"Name\":\"x\"}}", "attrs key 'Name' is a standard column");
    assert_refused("{\"id\":\"a\",\"attrs\":{\"q\":\"x\",\"q\":\"y\"}}", "attrs key 'q' appears twice");
    assert_refused("{\"id\":\"a\",\"attrs\":{\"\":\"x\"}}", "attrs has a key that is empty");
    /* refused after other fields were filled: they must be freed (ASan) */
    assert_refused("{\"id\":\"a\",\"name\":\"A\",\"skills\":[\"x\"],\"attrs\":{\"k\":\"v\"},\"level\":99}",
                   "level must be");
}

Test(person_json, refuses_invalid_utf8_that_cjson_lets_through)
{
    /* cJSON 1.7.15 passes raw bytes through; build the object directly to be sure of them. */
    const char *bad[] = {"Caf\xe9", "\xc0\x80", "\xed\xa0\x80"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        cJSON *j = cJSON_CreateObject();
        cJSON_AddStringToObject(j, "id", "a");
        cJSON_AddStringToObject(j, "name", bad[i]);
        struct person p;
        struct error err = {0};
        cr_assert_eq(person_from_json(j, &p, &err), ERR_INPUT, "case %zu accepted", i);
        cr_assert(strstr(err.msg, "name must be a non-empty UTF-8 string") != NULL, "%s", err.msg);
        cJSON_Delete(j);
    }
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", "a");
    cJSON *attrs = cJSON_AddObjectToObject(j, "attrs");
    cJSON_AddStringToObject(attrs, "k\xff", "v");
    struct person p;
    struct error err = {0};
    cr_assert_eq(person_from_json(j, &p, &err), ERR_INPUT);
    cr_assert(strstr(err.msg, "attrs has a key that is empty or not UTF-8") != NULL, "%s", err.msg);
    cJSON_Delete(j);
}

Test(person_json, attrs_are_capped)
{
    cJSON *j = cJSON_CreateObject();
    cJSON_AddStringToObject(j, "id", "a");
    cJSON *attrs = cJSON_AddObjectToObject(j, "attrs");
    char key[32];
    for (int i = 0; i < PERSON_ATTRS_MAX; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cJSON_AddStringToObject(attrs, key, "v");
    }
    struct person p;
    struct error err = {0};
    cr_assert_eq(person_from_json(j, &p, &err), 0, "%s", err.msg);
    cr_assert_eq(p.n_attrs, PERSON_ATTRS_MAX);
    cr_assert_str_eq(person_attr(&p, "k1023"), "v");
    person_free(&p);
    cJSON_AddStringToObject(attrs, "one_more", "v");
    cr_assert_eq(person_from_json(j, &p, &err), ERR_INPUT);
    cr_assert_str_eq(err.msg, "person: attrs has more keys than a people file may have columns");
    cJSON_Delete(j);
}

Test(person_json, null_object_is_refused)
{
    struct person p;
    struct error err = {0};
    cr_assert_eq(person_from_json(NULL, &p, &err), ERR_INPUT);
    cr_assert_str_eq(err.msg, "person: not an object");
    cr_assert_eq(p.capacity, 1);
}

Test(person_json, tenure_keeps_every_bit_in_text_and_in_the_tree)
{
    struct person p, q;
    person_init(&p);
    p.id = strdup("t");
    p.tenure_years = 0.1 + 0.2;
    cJSON *j = person_to_json(&p);
    char *text = cJSON_PrintUnformatted(j);
    /* cJSON's own printing would say 0.3, which reads back as a different double */
    cr_assert_str_eq(text, "{\"id\":\"t\",\"tenure_years\":0.30000000000000004,\"capacity\":1}");
    /* the tree itself, never printed, is accepted too (the engine may apply it directly) */
    struct error err = {0};
    cr_assert_eq(person_from_json(j, &q, &err), 0, "%s", err.msg);
    cr_assert(q.tenure_years == p.tenure_years);
    free(text);
    cJSON_Delete(j);
    person_free(&p);
    person_free(&q);
}
