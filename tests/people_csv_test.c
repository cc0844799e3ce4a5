/* people_csv_test: the HRIS import against fixture files (tests/data/csv) and generated
 * byte-exact files (UTF-16, Windows-1252, NUL, huge fields, CR/CRLF endings) in a temp dir.
 * Each test asserts exact counts, exact FILE:LINE messages and field values; none may
 * write outside its own temp dir. */
#include <criterion/criterion.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "people_csv.h"

/* ---- helpers ---- */

/* Fixtures live next to this file, whatever the working directory is relative to it. */
static const char *fixture(char *buf, size_t len, const char *name)
{
    const char *slash = strrchr(__FILE__, '/');
    if (slash)
        snprintf(buf, len, "%.*s/data/csv/%s", (int)(slash - __FILE__), __FILE__, name);
    else
        snprintf(buf, len, "data/csv/%s", name);
    return buf;
}

struct run {
    int rc;
    struct people_csv_result res;
    struct error err;
    char *errors;            /* everything written to the errors stream */
    size_t errors_len;
    struct person rows[64];  /* moved out of the reader by the callback */
    int lines[64];
    int n;
    int stop_at;             /* when > 0, the callback returns -7 on that row (1-based) */
};

static int collect(void *ctx, struct person *p, int line)
{
    struct run *r = ctx;
    cr_assert_lt(r->n, 64);
    cr_assert_not_null(p->id, "the reader hands over only rows with an id");
    r->rows[r->n] = *p;  /* move: the reader must not free what we keep */
    person_init(p);
    r->lines[r->n] = line;
    r->n++;
    return r->stop_at == r->n ? -7 : 0;
}

static void run_path(struct run *r, const char *path)
{
    FILE *errors = open_memstream(&r->errors, &r->errors_len);
    cr_assert_not_null(errors);
    r->rc = people_csv_read(path, collect, r, errors, &r->res, &r->err);
    fclose(errors);
}

static void run_free(struct run *r)
{
    for (int i = 0; i < r->n; i++)
        person_free(&r->rows[i]);
    free(r->errors);
}

static const struct person *row(const struct run *r, const char *id)
{
    for (int i = 0; i < r->n; i++)
        if (strcmp(r->rows[i].id, id) == 0)
            return &r->rows[i];
    cr_assert_fail("no row with id '%s'", id);
    return NULL;
}

/* A temp dir per test, removed by the suite's fini even when an assertion fails (Criterion
 * runs each test in its own process, so this one static is per test). */
struct tmp {
    char dir[64];
    char path[256];
};
static struct tmp tmp_dir;

static const char *tmp_write(const char *name, const void *bytes, size_t len)
{
    struct tmp *t = &tmp_dir;
    if (t->dir[0] == '\0') {
        strcpy(t->dir, "/tmp/tandem_csv_XXXXXX");
        cr_assert_not_null(mkdtemp(t->dir));
    }
    snprintf(t->path, sizeof t->path, "%.63s/%.100s", t->dir, name);
    FILE *f = fopen(t->path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(bytes, 1, len, f), len);
    fclose(f);
    return t->path;
}

static void tmp_fini(void)
{
    if (tmp_dir.dir[0] == '\0')
        return;
    DIR *d = opendir(tmp_dir.dir);
    struct dirent *e;
    char p[384];
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", tmp_dir.dir, e->d_name);
        unlink(p);
    }
    if (d)
        closedir(d);
    rmdir(tmp_dir.dir);
    tmp_dir.dir[0] = '\0';
}

TestSuite(people_csv, .fini = tmp_fini);

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    cr_assert_not_null(f, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *buf = malloc((size_t)n + 1);
    cr_assert_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    buf[n] = '\0';
    *len = (size_t)n;
    return buf;
}

/* text with every "\n" replaced by eol. */
static char *with_eol(const char *text, size_t len, const char *eol, size_t *out_len)
{
    size_t el = strlen(eol);
    char *out = malloc(len * el + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i++) {
        if (text[i] == '\n') {
            memcpy(out + o, eol, el);
            o += el;
        } else {
            out[o++] = text[i];
        }
    }
    *out_len = o;
    return out;
}

/* Replaces each "@" in fmt by path: the expected error text of a file. */
static char *expect(const char *fmt, const char *path)
{
    size_t n = 0;
    for (const char *c = fmt; *c; c++)
        n += *c == '@' ? strlen(path) : 1;
    char *out = malloc(n + 1), *o = out;
    for (const char *c = fmt; *c; c++) {
        if (*c == '@') {
            strcpy(o, path);
            o += strlen(path);
        } else {
            *o++ = *c;
        }
    }
    *o = '\0';
    return out;
}

/* ---- good files ---- */

static void assert_good_rows(const struct run *r, const char *eol)
{
    cr_assert_eq(r->rc, 0, "rc %d: %s", r->rc, r->err.msg);
    cr_assert_eq(r->res.taken, 5);
    cr_assert_eq(r->res.refused, 0);
    cr_assert_eq(r->n, 5);
    cr_assert_str_eq(r->errors, "");
    const int lines[] = {2, 5, 7, 9, 10};
    const char *ids[] = {"alice", "bob", "carol", "dave", "eve"};
    for (int i = 0; i < 5; i++) {
        cr_assert_str_eq(r->rows[i].id, ids[i], "row %d in file order", i);
        cr_assert_eq(r->lines[i], lines[i], "%s starts on line %d, not %d", ids[i], lines[i],
                     r->lines[i]);
    }

    const struct person *a = row(r, "alice");
    cr_assert_str_eq(a->name, "Alice Adams");
    cr_assert_str_eq(a->email, "alice@example.com");
    cr_assert_str_eq(a->title, "VP Engineering");
    cr_assert_str_eq(a->location, "Berlin");
    cr_assert_str_eq(a->department, "Engineering");
    cr_assert_eq(a->level, 12);
    cr_assert(a->tenure_years == 8.5);
    cr_assert_str_eq(a->timezone, "Europe/Berlin");
    cr_assert_eq(a->skills.n, 3);
    cr_assert_str_eq(a->skills.v[0], "go");
    cr_assert_str_eq(a->skills.v[1], "lua");
    cr_assert_str_eq(a->skills.v[2], "sql");
    cr_assert_eq(a->wants.n, 1);
    cr_assert(strset_has(&a->wants, "public speaking"));
    cr_assert_eq(a->tags.n, 2);
    cr_assert(strset_has(&a->tags, "senior_leader"));
    cr_assert(strset_has(&a->tags, "ambassador"));
    cr_assert_eq(a->capacity, 3);
    cr_assert_null(a->manager);
    char plan[128];
    snprintf(plan, sizeof plan, "Grow the%splatform team, \"fast\"%sand well", eol, eol);
    cr_assert_str_eq(a->plan, plan);
    cr_assert_eq(a->n_attrs, 1, "empty custom cells are not attrs");
    cr_assert_str_eq(person_attr(a, "q_background"), "Physics");

    const struct person *b = row(r, "bob");
    cr_assert_str_eq(b->name, "Bob, Jr.");
    cr_assert_eq(b->level, 4);
    cr_assert(b->tenure_years == 0.0);
    cr_assert_eq(b->capacity, 0);
    cr_assert_str_eq(b->manager, "alice");
    cr_assert_str_eq(b->timezone, "America/New_York");
    cr_assert_null(b->plan);
    cr_assert_eq(b->n_attrs, 1);
    cr_assert_str_eq(b->attrs[0].key, "Team Size", "header names are trimmed, case kept");
    cr_assert_str_eq(b->attrs[0].value, "12");

    const struct person *c = row(r, "carol");
    cr_assert_str_eq(c->name, "=HYPERLINK(\"http://evil.example/\",\"click\")",
                     "formulas stay text, unchanged");
    cr_assert_eq(c->level, 0);
    cr_assert(isnan(c->tenure_years));
    cr_assert_eq(c->capacity, 1, "capacity defaults to 1");
    cr_assert_null(c->email);
    cr_assert_eq(c->skills.n, 0);
    cr_assert_eq(c->n_attrs, 0);

    const struct person *d = row(r, "dave");
    cr_assert_str_eq(d->name, "Dave Doe", "quoted cells are trimmed too");
    cr_assert_eq(d->capacity, 1000);
    cr_assert_str_eq(d->manager, "carol");
    cr_assert_str_eq(person_attr(d, "q_background"), "CS, Maths");

    const struct person *e = row(r, "eve");
    cr_assert_str_eq(e->name, "Zoë Ünal");
    cr_assert_eq(e->level, 15);
    cr_assert_str_eq(e->timezone, "Etc/GMT+5");
}

Test(people_csv, good_file_values_and_lines)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, "good.csv"));
    assert_good_rows(&r, "\n");
    run_free(&r);
}

Test(people_csv, taken_rows_round_trip_through_the_log_form)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, "good.csv"));
    cr_assert_eq(r.n, 5);
    for (int i = 0; i < r.n; i++) {
        cJSON *j = person_to_json(&r.rows[i]);
        char *text = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        cJSON *back = cJSON_ParseWithOpts(text, NULL, 1);
        struct person q;
        struct error err = {0};
        cr_assert_eq(person_from_json(back, &q, &err), 0, "%s: %s", r.rows[i].id, err.msg);
        cJSON_Delete(back);
        j = person_to_json(&q);
        char *again = cJSON_PrintUnformatted(j);
        cJSON_Delete(j);
        cr_assert_str_eq(again, text);
        free(again);
        free(text);
        person_free(&q);
    }
    run_free(&r);
}

Test(people_csv, crlf_and_lone_cr_read_the_same)
{
    char path[512];
    size_t len;
    char *lf = slurp(fixture(path, sizeof path, "good.csv"), &len);
    const char *eols[] = {"\r\n", "\r"};
    for (int k = 0; k < 2; k++) {
        size_t n;
        char *text = with_eol(lf, len, eols[k], &n);
        struct run r = {0};
        run_path(&r, tmp_write("good.csv", text, n));
        assert_good_rows(&r, eols[k]);
        run_free(&r);
        free(text);
    }
    free(lf);
}

Test(people_csv, bom_is_accepted)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, "bom.csv"));
    cr_assert_eq(r.rc, 0, "%s", r.err.msg);
    cr_assert_eq(r.res.taken, 1);
    cr_assert_eq(r.res.refused, 0);
    cr_assert_str_eq(r.rows[0].id, "x", "the BOM is not part of the first column name");
    cr_assert_str_eq(r.rows[0].name, "X");
    cr_assert_eq(r.rows[0].n_attrs, 0);
    cr_assert_eq(r.lines[0], 2);
    run_free(&r);
}

Test(people_csv, header_only_takes_nothing)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, "header_only.csv"));
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(r.res.taken, 0);
    cr_assert_eq(r.res.refused, 0);
    cr_assert_str_eq(r.errors, "");
    run_free(&r);
}

Test(people_csv, header_names_match_ignoring_case_and_spaces)
{
    static const char text[] = " ID ,\"Name \",LEVEL,Skills,Q_Background,q_other\nx,X,7,Go;SQL,Arts,\n";
    struct run r = {0};
    const char *p = tmp_write("case.csv", text, sizeof text - 1);
    run_path(&r, p);
    cr_assert_eq(r.rc, 0, "%s", r.err.msg);
    cr_assert_eq(r.res.taken, 1, "%s", r.errors);
    cr_assert_str_eq(r.rows[0].id, "x");
    cr_assert_str_eq(r.rows[0].name, "X");
    cr_assert_eq(r.rows[0].level, 7);
    cr_assert(strset_has(&r.rows[0].skills, "Go"), "set items keep their case");
    cr_assert(strset_has(&r.rows[0].skills, "SQL"));
    cr_assert_eq(r.rows[0].n_attrs, 1);
    cr_assert_str_eq(r.rows[0].attrs[0].key, "Q_Background", "custom keys keep the header's spelling");
    cr_assert_str_eq(r.rows[0].attrs[0].value, "Arts");
    run_free(&r);
}

/* ---- bad rows ---- */

static const char bad_rows_errors[] =
    "@:6: missing id\n"
    "@:7: column 'id': 'a b' is not a valid id (1 to 64 of A-Z a-z 0-9 . _ -)\n"
    "@:8: column 'id': '1.2E+10' is not a valid id (1 to 64 of A-Z a-z 0-9 . _ -); a spreadsheet "
    "turned it into scientific notation: format the column as text\n"
    "@:9: duplicate id 'ok1' (first at line 2)\n"
    "@:10: column 'level': '3.0' is not a whole number from 1 to 15\n"
    "@:11: column 'level': '0' is not a whole number from 1 to 15\n"
    "@:12: column 'level': '16' is not a whole number from 1 to 15\n"
    "@:13: column 'level': 'x' is not a whole number from 1 to 15\n"
    "@:14: column 'tenure_years': '-1' is not a number of years >= 0\n"
    "@:15: column 'tenure_years': 'abc' is not a number of years >= 0\n"
    "@:16: column 'capacity': '-1' is not a whole number from 0 to 1000\n"
    "@:17: column 'capacity': '1001' is not a whole number from 0 to 1000\n"
    "@:18: column 'timezone': 'Mars/Olympus' is not an IANA time zone (like Europe/Berlin)\n"
    "@:19: column 'timezone': '../../etc/passwd' is not an IANA time zone (like Europe/Berlin)\n"
    "@:20: column 'manager': 'me' is the person's own id\n"
    "@:21: the row has 3 fields but the header has 8\n"
    "@:22: the row has 10 fields but the header has 8 (an unquoted ',' inside a value?)\n"
    "@:24: column 'level': '0' is not a whole number from 1 to 15; column 'capacity': '-1' is not "
    "a whole number from 0 to 1000; column 'timezone': 'Mars/Olympus' is not an IANA time zone "
    "(like Europe/Berlin)\n"
    "@:25: column 'name': stray '\"'; a value with quotes must be quoted whole, each quote "
    "inside it doubled (\"\")\n"
    "@:27: column 'manager': 'x y' is not a valid id\n"
    "@:31: duplicate id 'ok3' (first at line 28)\n";

static void assert_bad_rows(const struct run *r, const char *path, const char *eol)
{
    cr_assert_eq(r->rc, 0, "rows refused is not a fatal error: %s", r->err.msg);
    char *want = expect(bad_rows_errors, path);
    cr_assert_str_eq(r->errors, want);
    free(want);
    cr_assert_eq(r->res.refused, 21);
    cr_assert_eq(r->res.taken, 3);
    cr_assert_eq(r->n, 3);
    cr_assert_str_eq(r->rows[0].id, "ok1");
    cr_assert_eq(r->lines[0], 2);
    cr_assert_str_eq(r->rows[1].id, "ok2");
    cr_assert_eq(r->lines[1], 26, "lines stay right after multi-line records and a stray quote");
    cr_assert_str_eq(r->rows[2].id, "ok3");
    cr_assert_eq(r->lines[2], 28);

    char text[128];
    snprintf(text, sizeof text, "Multi%sline", eol);
    cr_assert_str_eq(r->rows[0].name, text);
    snprintf(text, sizeof text, "plan%s%swith a blank line inside", eol, eol);
    cr_assert_str_eq(r->rows[0].plan, text);
    cr_assert_eq(r->rows[0].level, 3);
    cr_assert(r->rows[0].tenure_years == 1.5);
    cr_assert_eq(r->rows[0].capacity, 2);
    cr_assert_eq(r->rows[1].level, 15);
    cr_assert(r->rows[1].tenure_years == 0);
    cr_assert_eq(r->rows[1].capacity, 1000);
    cr_assert_str_eq(r->rows[1].manager, "ok1");
    cr_assert_str_eq(r->rows[1].plan, "=HYPERLINK(\"x\")");
}

Test(people_csv, bad_rows_are_refused_with_file_and_line)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, "bad_rows.csv"));
    assert_bad_rows(&r, path, "\n");
    run_free(&r);
}

Test(people_csv, bad_rows_lines_hold_with_crlf_and_cr)
{
    char path[512];
    size_t len;
    char *lf = slurp(fixture(path, sizeof path, "bad_rows.csv"), &len);
    const char *eols[] = {"\r\n", "\r"};
    for (int k = 0; k < 2; k++) {
        size_t n;
        char *text = with_eol(lf, len, eols[k], &n);
        struct run r = {0};
        const char *p = tmp_write("bad_rows.csv", text, n);
        run_path(&r, p);
        assert_bad_rows(&r, p, eols[k]);
        run_free(&r);
        free(text);
    }
    free(lf);
}

Test(people_csv, mixed_line_endings_count_each_break_once)
{
    /* LF, CRLF, lone CR, then a CRLF split across... one file, each ends one line */
    static const char text[] = "id,name\na,A\r\nb,B\rc,\"C1\r\nC2\rC3\nC4\"\r\n\r\nd,D\n x y ,E\n";
    struct run r = {0};
    const char *p = tmp_write("mixed.csv", text, sizeof text - 1);
    run_path(&r, p);
    cr_assert_eq(r.res.taken, 4);
    cr_assert_eq(r.res.refused, 1);
    const int lines[] = {2, 3, 4, 9};
    for (int i = 0; i < 4; i++)
        cr_assert_eq(r.lines[i], lines[i], "row %d: line %d", i, r.lines[i]);
    cr_assert_str_eq(r.rows[2].name, "C1\r\nC2\rC3\nC4");
    char *want = expect("@:10: column 'id': 'x y' is not a valid id (1 to 64 of A-Z a-z 0-9 . _ -)\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    run_free(&r);
}

Test(people_csv, unterminated_quote_is_reported_at_its_first_line)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, "unterminated.csv"));
    cr_assert_eq(r.rc, 0);
    cr_assert_eq(r.res.taken, 1);
    cr_assert_eq(r.res.refused, 1);
    char *want = expect("@:3: column 'plan': the quote opened here is never closed; lines 3 to 5, "
                        "the end of the file, were read as part of it\n", path);
    cr_assert_str_eq(r.errors, want);
    free(want);
    cr_assert_str_eq(r.rows[0].id, "a");
    run_free(&r);
}

Test(people_csv, stray_quote_on_a_later_line_of_a_record)
{
    static const char text[] = "id,plan,name\nq,\"two\nlines\"x,Q\nok,,OK\n";
    struct run r = {0};
    const char *p = tmp_write("sq.csv", text, sizeof text - 1);
    run_path(&r, p);
    char *want = expect("@:2: column 'plan': stray '\"' on line 3; a value with quotes must be "
                        "quoted whole, each quote inside it doubled (\"\")\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    cr_assert_eq(r.res.refused, 1);
    cr_assert_eq(r.res.taken, 1);
    cr_assert_eq(r.lines[0], 4);
    run_free(&r);
}

Test(people_csv, stray_quote_in_a_line_longer_than_a_read_block)
{
    /* the reader gets the file in 64 KiB blocks; the rest of a broken line that lies in the
     * next block must be dropped with it, not read as a new record */
    size_t pad = 70000;
    char *text = malloc(pad + 64);
    size_t n = (size_t)sprintf(text, "id,name\nsq,\"a\"b");
    memset(text + n, 'x', pad);
    n += pad;
    n += (size_t)sprintf(text + n, ",y\nok,OK\n");
    struct run r = {0};
    const char *p = tmp_write("long.csv", text, n);
    free(text);
    run_path(&r, p);
    char *want = expect("@:2: column 'name': stray '\"'; a value with quotes must be quoted whole, "
                        "each quote inside it doubled (\"\")\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    cr_assert_eq(r.res.refused, 1);
    cr_assert_eq(r.res.taken, 1);
    cr_assert_str_eq(r.rows[0].id, "ok");
    cr_assert_eq(r.lines[0], 3);
    run_free(&r);
}

Test(people_csv, number_forms)
{
    static const char text[] =
        "id,level,tenure_years,capacity\n"
        "g1,03,.5,0\n"              /* good: leading zero, bare fraction, zero capacity */
        "g2,15,1e1,1000\n"          /* good: exponent */
        "g3,1,\" 2.25 \",\"7\"\n"   /* good: quoted and padded */
        "b1,+3,,\n"
        "b2,,+2,\n"
        "b3,,-0,\n"
        "b4,,0x10,\n"
        "b5,,inf,\n"
        "b6,,nan,\n"
        "b7,,1e999,\n"
        "b8,,\"2,5\",\n"
        "b9,,,1e2\n"
        "b10,1 5,,\n"
        "b11,99999999999999999999,,\n";
    struct run r = {0};
    const char *p = tmp_write("numbers.csv", text, sizeof text - 1);
    run_path(&r, p);
    cr_assert_eq(r.res.taken, 3, "%s", r.errors);
    cr_assert_eq(r.res.refused, 11, "%s", r.errors);
    cr_assert_eq(r.rows[0].level, 3);
    cr_assert(r.rows[0].tenure_years == 0.5);
    cr_assert_eq(r.rows[0].capacity, 0);
    cr_assert(r.rows[1].tenure_years == 10.0);
    cr_assert_eq(r.rows[1].capacity, 1000);
    cr_assert(r.rows[2].tenure_years == 2.25);
    cr_assert_eq(r.rows[2].capacity, 7);
    char *want = expect(
        "@:5: column 'level': '+3' is not a whole number from 1 to 15\n"
        "@:6: column 'tenure_years': '+2' is not a number of years >= 0\n"
        "@:7: column 'tenure_years': '-0' is not a number of years >= 0\n"
        "@:8: column 'tenure_years': '0x10' is not a number of years >= 0\n"
        "@:9: column 'tenure_years': 'inf' is not a number of years >= 0\n"
        "@:10: column 'tenure_years': 'nan' is not a number of years >= 0\n"
        "@:11: column 'tenure_years': '1e999' is not a number of years >= 0\n"
        "@:12: column 'tenure_years': '2,5' is not a number of years >= 0\n"
        "@:13: column 'capacity': '1e2' is not a whole number from 0 to 1000\n"
        "@:14: column 'level': '1 5' is not a whole number from 1 to 15\n"
        "@:15: column 'level': '99999999999999999999' is not a whole number from 1 to 15\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    run_free(&r);
}

/* ---- encodings and bytes ---- */

Test(people_csv, utf16_is_refused_whole_with_a_hint)
{
    static const char le_bom[] = "\xff\xfei\0d\0,\0n\0a\0m\0e\0\n\0x\0,\0X\0\n\0";
    static const char be_bom[] = "\xfe\xff\0i\0d\0,\0n\0a\0m\0e\0\n\0x\0,\0X\0\n";
    static const char le_no_bom[] = "i\0d\0,\0n\0a\0m\0e\0\n\0x\0,\0X\0\n\0";
    const struct { const char *bytes; size_t len; const char *msg; } cases[] = {
        {le_bom, sizeof le_bom - 1,
         "the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8 CSV"},
        {be_bom, sizeof be_bom - 1,
         "the file is UTF-16 (it starts with a UTF-16 byte order mark); save it as UTF-8 CSV"},
        {le_no_bom, sizeof le_no_bom - 1,
         "the file is mostly NUL bytes, as UTF-16 text is; save it as UTF-8 CSV"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct run r = {0};
        const char *p = tmp_write("u16.csv", cases[i].bytes, cases[i].len);
        run_path(&r, p);
        cr_assert_eq(r.rc, ERR_INPUT, "case %zu", i);
        cr_assert_eq(r.err.code, ERR_INPUT);
        cr_assert_str_eq(r.err.file, p);
        cr_assert_str_eq(r.err.msg, cases[i].msg);
        cr_assert_eq(r.res.taken, 0);
        cr_assert_eq(r.n, 0);
        run_free(&r);
    }
}

Test(people_csv, windows_1252_refuses_the_row_naming_the_column)
{
    static const char text[] = "id,name,city\nok,Ok,K\xc3\xb6ln\nbad,Caf\xe9,Paris\nok2,Ok2,\n";
    struct run r = {0};
    const char *p = tmp_write("cp1252.csv", text, sizeof text - 1);
    run_path(&r, p);
    cr_assert_eq(r.rc, 0);
    char *want = expect("@:3: column 'name': not valid UTF-8 (byte 0xE9 at offset 3); the file looks "
                        "like Windows-1252 or Latin-1: save it as UTF-8\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    cr_assert_eq(r.res.taken, 2);
    cr_assert_eq(r.res.refused, 1);
    cr_assert_str_eq(person_attr(&r.rows[0], "city"), "Köln");
    run_free(&r);
}

Test(people_csv, nul_byte_refuses_the_row)
{
    static const char text[] = "id,name\na,A\0B\nb,B\n";
    struct run r = {0};
    const char *p = tmp_write("nul.csv", text, sizeof text - 1);
    run_path(&r, p);
    cr_assert_eq(r.rc, 0);
    char *want = expect("@:2: column 'name': contains a NUL byte\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    cr_assert_eq(r.res.taken, 1);
    cr_assert_eq(r.res.refused, 1);
    cr_assert_str_eq(r.rows[0].id, "b");
    cr_assert_eq(r.lines[0], 3);
    run_free(&r);
}

Test(people_csv, control_bytes_in_messages_are_escaped)
{
    static const char text[] = "id,name\n\x1b[31mred,A\n";
    struct run r = {0};
    const char *p = tmp_write("esc.csv", text, sizeof text - 1);
    run_path(&r, p);
    char *want = expect("@:2: column 'id': '\\x1B[31mred' is not a valid id (1 to 64 of A-Z a-z "
                        "0-9 . _ -)\n", p);
    cr_assert_str_eq(r.errors, want);
    free(want);
    cr_assert_null(memchr(r.errors, 0x1b, r.errors_len));
    run_free(&r);
}

/* ---- sizes ---- */

static char *big_file(size_t field, bool quoted_lines, size_t *len)
{
    char *s = malloc(field + 64);
    size_t n = (size_t)sprintf(s, "id,plan\nbig,%s", quoted_lines ? "\"" : "");
    for (size_t i = 0; i < field; i++)
        s[n++] = quoted_lines && i % 1000 == 999 ? '\n' : 'x';
    n += (size_t)sprintf(s + n, "%s\nnext,ok\n", quoted_lines ? "\"" : "");
    *len = n;
    return s;
}

Test(people_csv, one_mib_field_refuses_its_row_quickly)
{
    for (int quoted = 0; quoted < 2; quoted++) {
        size_t len;
        char *text = big_file(1024 * 1024, quoted, &len);
        const char *p = tmp_write("big.csv", text, len);
        free(text);
        struct run r = {0};
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        run_path(&r, p);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        double secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
        cr_assert_lt(secs, 3.0, "took %.2f s", secs);
        cr_assert_eq(r.rc, 0);
        char *want = expect("@:2: column 'plan': 1048576 bytes, over the 64 KiB limit for one field\n", p);
        cr_assert_str_eq(r.errors, want);
        free(want);
        cr_assert_eq(r.res.refused, 1);
        cr_assert_eq(r.res.taken, 1);
        cr_assert_str_eq(r.rows[0].id, "next");
        cr_assert_eq(r.lines[0], quoted ? 3 + 1048 : 3, "line after the big field: %d", r.lines[0]);
        run_free(&r);
    }
}

Test(people_csv, field_limit_is_64_kib_exactly)
{
    size_t sizes[] = {PEOPLE_CSV_FIELD_MAX, PEOPLE_CSV_FIELD_MAX + 1};
    for (int k = 0; k < 2; k++) {
        size_t len;
        char *text = big_file(sizes[k], false, &len);
        const char *p = tmp_write("edge.csv", text, len);
        free(text);
        struct run r = {0};
        run_path(&r, p);
        cr_assert_eq(r.res.taken, k == 0 ? 2 : 1, "size %zu", sizes[k]);
        cr_assert_eq(r.res.refused, k == 0 ? 0 : 1, "size %zu", sizes[k]);
        if (k == 0)
            cr_assert_eq(strlen(r.rows[0].plan), (size_t)PEOPLE_CSV_FIELD_MAX);
        run_free(&r);
    }
}

Test(people_csv, endless_quoted_field_refuses_the_file)
{
    size_t field = PEOPLE_CSV_FIELD_HARD + 1024 * 1024;
    char *text = malloc(field + 32);
    size_t n = (size_t)sprintf(text, "id,plan\na,A\nb,\"");
    memset(text + n, 'z', field);
    n += field;
    const char *p = tmp_write("huge.csv", text, n);
    free(text);
    struct run r = {0};
    run_path(&r, p);
    cr_assert_eq(r.rc, ERR_INPUT);
    cr_assert_eq(r.err.line, 3);
    cr_assert_str_eq(r.err.msg, "a field of the record starting here is over 16 MiB (a quote that "
                     "is never closed?)");
    cr_assert_eq(r.res.taken, 1);
    run_free(&r);
}

Test(people_csv, too_many_columns_refuse_the_file)
{
    char *text = malloc(16 * 2000);
    size_t n = 0;
    n += (size_t)sprintf(text, "id");
    for (int i = 1; i <= PEOPLE_CSV_COLUMNS_MAX; i++)
        n += (size_t)sprintf(text + n, ",c%d", i);
    text[n++] = '\n';
    const char *p = tmp_write("wide.csv", text, n);
    free(text);
    struct run r = {0};
    run_path(&r, p);
    cr_assert_eq(r.rc, ERR_INPUT);
    cr_assert_str_eq(r.err.msg, "the header has 1025 columns; at most 1024 are supported");
    run_free(&r);
}

/* ---- files it cannot take at all ---- */

static void assert_fatal(const char *name, int line, const char *msg)
{
    char path[512];
    struct run r = {0};
    run_path(&r, fixture(path, sizeof path, name));
    cr_assert_eq(r.rc, ERR_INPUT, "%s: rc %d", name, r.rc);
    cr_assert_eq(r.err.code, ERR_INPUT);
    cr_assert_str_eq(r.err.file, path);
    cr_assert_eq(r.err.line, line, "%s: line %d", name, r.err.line);
    cr_assert_str_eq(r.err.msg, msg);
    cr_assert_eq(r.res.taken, 0, "%s", name);
    cr_assert_eq(r.n, 0);
    run_free(&r);
}

Test(people_csv, semicolon_file_is_fatal_with_a_hint)
{
    assert_fatal("semicolon.csv", 1, "the header is one column containing ';': the file looks "
                 "';'-delimited; save it as comma-separated CSV (RFC 4180)");
}

Test(people_csv, tab_file_is_fatal_with_a_hint)
{
    assert_fatal("tabs.csv", 1, "the header is one column containing tabs: the file looks "
                 "tab-delimited; save it as comma-separated CSV (RFC 4180)");
}

Test(people_csv, duplicate_header_names_both_columns)
{
    assert_fatal("dup_header.csv", 1, "duplicate column name: column 2 'Name' and column 4 'name'");
}

Test(people_csv, no_id_column_is_fatal)
{
    assert_fatal("no_id.csv", 1, "the header has no 'id' column");
}

Test(people_csv, empty_and_blank_files_have_no_header)
{
    assert_fatal("empty.csv", 0, "no header row (the file is empty)");
    assert_fatal("blank_only.csv", 0, "no header row (the file is empty)");
}

Test(people_csv, empty_column_name_is_fatal)
{
    assert_fatal("empty_colname.csv", 1, "header column 2 has no name; every column needs one");
}

Test(people_csv, broken_header_quote_is_fatal)
{
    assert_fatal("header_quote.csv", 1, "the header's quoted field in column 2 is never closed");
}

Test(people_csv, missing_file_is_fatal)
{
    struct run r = {0};
    run_path(&r, "/nonexistent/tandem/people.csv");
    cr_assert_eq(r.rc, ERR_INPUT);
    cr_assert_str_eq(r.err.file, "/nonexistent/tandem/people.csv");
    cr_assert_str_eq(r.err.msg, "cannot open: No such file or directory");
    char buf[1024];
    cr_assert_str_eq(error_text(&r.err, buf, sizeof buf),
                     "/nonexistent/tandem/people.csv: cannot open: No such file or directory");
    run_free(&r);
}

Test(people_csv, directory_is_fatal)
{
    char path[512];
    fixture(path, sizeof path, "");
    struct run r = {0};
    run_path(&r, path);
    cr_assert_eq(r.rc, ERR_INPUT);
    cr_assert_str_eq(r.err.msg, "is a directory, not a CSV file");
    run_free(&r);
}

/* ---- the callback ---- */

Test(people_csv, callback_can_stop_the_import)
{
    char path[512];
    struct run r = {.stop_at = 2};
    run_path(&r, fixture(path, sizeof path, "good.csv"));
    cr_assert_eq(r.rc, -7);
    cr_assert_eq(r.n, 2);
    cr_assert_eq(r.res.taken, 2);
    cr_assert_eq(r.err.code, -7);
    cr_assert_eq(r.err.line, 5, "the row that stopped it");
    cr_assert_str_eq(r.err.msg, "the import stopped at this row");
    run_free(&r);
}

static int count_only(void *ctx, struct person *p, int line)
{
    (void)line;
    (*(int *)ctx)++;
    cr_assert_not_null(p->id);
    return 0;  /* keeps nothing: the reader frees p (ASan would report a leak otherwise) */
}

Test(people_csv, optional_outputs_may_be_null)
{
    char path[512];
    int count = 0;
    int rc = people_csv_read(fixture(path, sizeof path, "bad_rows.csv"), count_only, &count,
                             NULL, NULL, NULL);
    cr_assert_eq(rc, 0);
    cr_assert_eq(count, 3);
    rc = people_csv_read(fixture(path, sizeof path, "no_id.csv"), count_only, &count, NULL, NULL, NULL);
    cr_assert_eq(rc, ERR_INPUT);
}
