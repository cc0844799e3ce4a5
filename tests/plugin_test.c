/* plugin_test: the plugin table without the engine. A fake backend stands in for the engine;
 * test plugins are descriptions compiled in here (plugins_add), and real shared objects on the
 * system show what dlopen refusals look like. The shipped sqlite and ics plugins run against
 * the fake backend and their files are read back with SQLite and libical. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <criterion/criterion.h>

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <libical/ical.h>
#include <sqlite3.h>

#include "plugin.h"

static char g_dir[64];

/* ---- the fake backend: a log in memory ---- */

static cJSON *g_log;          /* the "committed" events replay hands out */
static cJSON *g_submitted;    /* commands plugins submitted */
static int g_replays;
static long long g_replay_after;

static int fake_submit(void *ctx, const char *plugin, const cJSON *cmd, char *why, size_t why_len)
{
    (void)ctx, (void)plugin;
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(cmd, "cmd");
    if (!cJSON_IsString(name)) {
        snprintf(why, why_len, "no cmd");
        return TANDEM_EREFUSED;
    }
    cJSON_AddItemToArray(g_submitted, cJSON_Duplicate(cmd, 1));
    return TANDEM_OK;
}

static cJSON *fake_query(void *ctx, const char *what, const cJSON *args)
{
    (void)ctx, (void)args;
    if (strcmp(what, "status") != 0)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "seq", cJSON_GetArraySize(g_log));
    return o;
}

static int fake_replay(void *ctx, long long after, tandem_event_fn fn, void *data)
{
    (void)ctx;
    g_replays++;
    g_replay_after = after;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, g_log)
        if (cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "seq")) > after)
            fn(data, ev);
    return TANDEM_OK;
}

static long long fake_now(void *ctx)
{
    (void)ctx;
    return 1800000000;
}

static int fake_run_once(void *ctx)
{
    (void)ctx;
    return TANDEM_EREFUSED;
}

static struct uv_loop_s *fake_loop(void *ctx)
{
    (void)ctx;
    return NULL;
}

static FILE *g_diag;

static struct plugins *table(bool simulating)
{
    struct plugin_backend be = { .submit = fake_submit, .query = fake_query, .replay = fake_replay,
                                 .now = fake_now, .run_once = fake_run_once, .loop = fake_loop,
                                 .simulating = simulating, .state_dir = g_dir, .log = g_diag };
    struct plugins *ps = plugins_new(&be);
    cr_assert_not_null(ps);
    return ps;
}

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void setup(void)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/tandem-plugin-XXXXXX");
    cr_assert_not_null(mkdtemp(g_dir));
    g_log = cJSON_CreateArray();
    g_submitted = cJSON_CreateArray();
    g_replays = 0;
    g_diag = tmpfile();
}

static void teardown(void)
{
    nftw(g_dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
    cJSON_Delete(g_log);
    cJSON_Delete(g_submitted);
    fclose(g_diag);
}

/* An event as the log holds it, from JSON text with seq added. */
static cJSON *event(long long seq, const char *json)
{
    cJSON *body = cJSON_Parse(json);
    cr_assert_not_null(body, "bad test JSON: %s", json);
    cJSON *e = cJSON_CreateObject();
    cJSON_AddNumberToObject(e, "seq", (double)seq);
    cJSON *it;
    while ((it = body->child)) {
        cJSON_DetachItemViaPointer(body, it);
        cJSON_AddItemToObject(e, it->string, it);
    }
    cJSON_Delete(body);
    return e;
}

static void deliver(struct plugins *ps, long long seq, const char *json)
{
    cJSON *e = event(seq, json);
    plugins_deliver(ps, e);
    cJSON_AddItemToArray(g_log, e);
}

TestSuite(plugin, .init = setup, .fini = teardown);

/* ---- refusals before any plugin code runs ---- */

Test(plugin, unknown_name_and_missing_file_are_refused_naming_them)
{
    struct plugins *ps = table(false);
    struct error err = { 0 };
    setenv("TANDEM_PLUGIN_PATH", g_dir, 1);
    cr_assert_eq(plugins_load(ps, "nosuch", NULL, &err), ERR_INPUT);
    cr_assert(strstr(err.msg, "nosuch.so") && strstr(err.msg, "TANDEM_PLUGIN_PATH"), "%s", err.msg);
    char path[128];
    snprintf(path, sizeof path, "%s/absent.so", g_dir);
    cr_assert_eq(plugins_load(ps, path, NULL, &err), ERR_INPUT);
    cr_assert_str_eq(err.file, path);
    cr_assert_eq(plugins_count(ps), 0);
    plugins_free(ps);
}

Test(plugin, a_file_that_is_not_a_shared_object_is_refused)
{
    char path[128];
    snprintf(path, sizeof path, "%s/text.so", g_dir);
    FILE *f = fopen(path, "w");
    fputs("not ELF\n", f);
    fclose(f);
    struct plugins *ps = table(false);
    struct error err = { 0 };
    cr_assert_eq(plugins_load(ps, path, NULL, &err), ERR_INPUT);
    cr_assert_str_eq(err.file, path);
    cr_assert(strstr(err.msg, "cannot load the plugin"), "%s", err.msg);
    plugins_free(ps);
}

Test(plugin, a_shared_object_without_the_entry_is_refused)
{
    /* libm is a real shared object with no tandem_plugin_entry */
    const char *libm = access("/lib/x86_64-linux-gnu/libm.so.6", R_OK) == 0 ? "/lib/x86_64-linux-gnu/libm.so.6"
                                                                              : "/usr/lib64/libm.so.6";
    struct plugins *ps = table(false);
    struct error err = { 0 };
    cr_assert_eq(plugins_load(ps, libm, NULL, &err), ERR_INPUT);
    cr_assert_str_eq(err.file, libm);
    cr_assert(strstr(err.msg, "no tandem_plugin_entry"), "%s", err.msg);
    plugins_free(ps);
}

/* ---- a test plugin ---- */

struct probe {
    tandem_ctx *ctx;
    const struct tandem_host *host;
    long long seqs[64];
    int n, flushes;
};

static int g_opened, g_closed;
static struct probe *g_probe;

static cJSON *probe_fn(void *data, const cJSON *args, char *why, size_t why_len)
{
    (void)data, (void)why, (void)why_len;
    return cJSON_Duplicate(args, 1);
}

static int probe_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data, char *why,
                      size_t why_len)
{
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(config, "fail"))) {
        host->lua_register(ctx, "probe_gone", probe_fn, NULL);
        snprintf(why, why_len, "told to fail");
        return TANDEM_EREFUSED;
    }
    struct probe *p = calloc(1, sizeof *p);
    p->ctx = ctx;
    p->host = host;
    cr_assert_eq(host->abi, TANDEM_PLUGIN_ABI);
    cr_assert_eq(host->size, sizeof(struct tandem_host));
    cr_assert_eq(host->subscribe(ctx, "match"), TANDEM_OK);
    cr_assert_eq(host->subscribe(ctx, "meeting"), TANDEM_OK);
    cr_assert_eq(host->subscribe(ctx, "Bad Type"), TANDEM_EREFUSED);
    cr_assert_eq(host->lua_register(ctx, "probe_echo", probe_fn, p), TANDEM_OK);
    cr_assert_eq(host->lua_register(ctx, "probe_echo", probe_fn, p), TANDEM_EREFUSED, "a taken name");
    cr_assert_eq(host->lua_register(ctx, "Bad-Name", probe_fn, p), TANDEM_EREFUSED);
    cr_assert_str_eq(host->state_dir(ctx), g_dir);
    g_opened++;
    g_probe = p;
    *data = p;
    return TANDEM_OK;
}

static void probe_event(void *data, const cJSON *ev)
{
    struct probe *p = data;
    p->seqs[p->n++] = (long long)cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ev, "seq"));
    cJSON *cmd = cJSON_Parse("{\"cmd\":\"meeting.held\",\"match\":1}");
    cr_assert_eq(p->host->submit(p->ctx, cmd, NULL, 0), TANDEM_OK);
    cJSON_Delete(cmd);
}

static void probe_flush(void *data)
{
    ((struct probe *)data)->flushes++;
}

static void probe_close(void *data)
{
    g_closed++;
    free(data);
}

static struct tandem_plugin probe_def(void)
{
    return (struct tandem_plugin){ .abi = TANDEM_PLUGIN_ABI, .signature = TANDEM_PLUGIN_SIGNATURE,
                                   .name = "probe", .version = "1", .open = probe_open, .event = probe_event,
                                   .flush = probe_flush, .close = probe_close };
}

Test(plugin, wrong_abi_and_signature_are_refused_naming_both_values)
{
    struct plugins *ps = table(false);
    struct error err = { 0 };
    struct tandem_plugin d = probe_def();
    d.abi = TANDEM_PLUGIN_ABI + 41;
    g_opened = 0;
    cr_assert_eq(plugins_add(ps, &d, "probe.so", NULL, &err), ERR_INPUT);
    char want[64];
    snprintf(want, sizeof want, "plugin ABI %d", TANDEM_PLUGIN_ABI + 41);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    snprintf(want, sizeof want, "speaks plugin ABI %d", TANDEM_PLUGIN_ABI);
    cr_assert(strstr(err.msg, want), "%s", err.msg);
    cr_assert_str_eq(err.file, "probe.so");
    d = probe_def();
    d.signature = "tandem-plugin abi 1 ptr 4 cjson 1";
    cr_assert_eq(plugins_add(ps, &d, "probe.so", NULL, &err), ERR_INPUT);
    cr_assert(strstr(err.msg, "ptr 4") && strstr(err.msg, TANDEM_PLUGIN_SIGNATURE), "%s", err.msg);
    d = probe_def();
    d.name = "Probe!";
    cr_assert_eq(plugins_add(ps, &d, "probe.so", NULL, &err), ERR_INPUT);
    cr_assert_eq(g_opened, 0, "open never ran for a refused plugin");
    cr_assert_eq(plugins_count(ps), 0);
    plugins_free(ps);
}

Test(plugin, a_failing_open_is_refused_with_its_reason_and_leaves_nothing)
{
    struct plugins *ps = table(false);
    struct error err = { 0 };
    struct tandem_plugin d = probe_def();
    cJSON *config = cJSON_Parse("{\"fail\":true}");
    g_closed = 0;
    cr_assert_eq(plugins_add(ps, &d, "probe.so", config, &err), ERR_INPUT);
    cJSON_Delete(config);
    cr_assert(strstr(err.msg, "probe failed to open: told to fail"), "%s", err.msg);
    int n;
    plugins_lua_fns(ps, &n);
    cr_assert_eq(n, 0, "the failed plugin's Lua function is forgotten");
    cr_assert_eq(g_closed, 0, "close is not called after a failed open");
    cr_assert_eq(plugins_count(ps), 0);
    plugins_free(ps);
}

Test(plugin, events_reach_subscribers_once_in_order_and_names_are_unique)
{
    struct plugins *ps = table(false);
    struct error err = { 0 };
    struct tandem_plugin d = probe_def();
    g_opened = g_closed = 0;
    cr_assert_eq(plugins_add(ps, &d, "probe.so", NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(plugins_add(ps, &d, "again.so", NULL, &err), ERR_INPUT);
    cr_assert(strstr(err.msg, "loaded already (from probe.so)"), "%s", err.msg);
    cr_assert(plugins_has(ps, "probe"));
    deliver(ps, 1, "{\"type\":\"person\"}");
    deliver(ps, 2, "{\"type\":\"match\",\"match\":1}");
    deliver(ps, 3, "{\"type\":\"meeting\",\"match\":1}");
    deliver(ps, 3, "{\"type\":\"meeting\",\"match\":1}");   /* seen already */
    deliver(ps, 4, "{\"type\":\"review\",\"match\":1}");
    plugins_flush(ps);
    cr_assert_eq(g_probe->n, 2);
    cr_assert_eq(g_probe->seqs[0], 2);
    cr_assert_eq(g_probe->seqs[1], 3);
    cr_assert_eq(g_probe->flushes, 1);
    cr_assert_eq(cJSON_GetArraySize(g_submitted), 2, "submit goes to the backend");
    int n;
    const struct plugin_lua_fn *f = plugins_lua_fns(ps, &n);
    cr_assert_eq(n, 1);
    cr_assert_str_eq(f[0].name, "probe_echo");
    plugins_close(ps);
    plugins_close(ps);
    cr_assert_eq(g_closed, 1, "closed once");
    plugins_free(ps);
}

/* ---- the shipped sqlite plugin against the fake log ---- */

static long long scalar(const char *db, const char *sql)
{
    sqlite3 *h;
    cr_assert_eq(sqlite3_open_v2(db, &h, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st;
    cr_assert_eq(sqlite3_prepare_v2(h, sql, -1, &st, NULL), SQLITE_OK, "%s", sqlite3_errmsg(h));
    cr_assert_eq(sqlite3_step(st), SQLITE_ROW, "%s", sql);
    long long v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    sqlite3_close(h);
    return v;
}

static const char *const HISTORY[] = {
    "{\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"rules\",\"programs\":[{\"name\":\"core\",\"model\":\"one_to_one\"}]}",
    "{\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"person\",\"phase\":\"added\",\"person\":{\"id\":\"m1\",\"name\":\"Mia\","
    "\"email\":\"mia@example.org\",\"level\":8}}",
    "{\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"person\",\"phase\":\"added\",\"person\":{\"id\":\"e1\",\"name\":\"Eve\","
    "\"email\":\"eve@example.org\",\"level\":3,\"skills\":[\"sql\"]}}",
    "{\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"enroll\",\"person\":\"m1\",\"program\":\"core\",\"role\":\"mentor\"}",
    "{\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"match\",\"match\":1,\"phase\":\"active\",\"program\":\"core\","
    "\"model\":\"one_to_one\",\"mentors\":[\"m1\"],\"mentees\":[\"e1\"],\"score\":3,\"why\":{\"skills\":1},"
    "\"term_ends\":\"2027-07-01T00:00:00Z\"}",
    "{\"ts\":\"2027-01-01T00:00:00Z\",\"type\":\"meeting\",\"match\":1,\"phase\":\"scheduled\",\"at\":\"2027-01-15T10:00:00Z\"}",
};

Test(plugin, sqlite_mirrors_the_log_and_catches_up_after_a_restart)
{
    for (int i = 0; i < 6; i++)
        cJSON_AddItemToArray(g_log, event(i + 1, HISTORY[i]));
    struct plugins *ps = table(false);
    struct error err = { 0 };
    cr_assert_eq(plugins_load(ps, "sqlite", NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(g_replays, 1);
    cr_assert_eq(g_replay_after, 0, "a new mirror is built from the whole log");
    deliver(ps, 7, "{\"ts\":\"2027-01-15T10:00:00Z\",\"type\":\"meeting\",\"match\":1,\"phase\":\"held\","
                   "\"at\":\"2027-01-15T10:00:00Z\",\"attendees\":[\"m1\",\"e1\"],\"guests\":[]}");
    deliver(ps, 8, "{\"ts\":\"2027-01-15T10:00:00Z\",\"type\":\"feedback\",\"match\":1,\"from\":\"e1\",\"rating\":4}");
    plugins_flush(ps);
    char db[128];
    snprintf(db, sizeof db, "%s/tandem.sqlite", g_dir);
    cr_assert_eq(scalar(db, "SELECT count(*) FROM people"), 2);
    cr_assert_eq(scalar(db, "SELECT level FROM people WHERE id = 'e1'"), 3);
    cr_assert_eq(scalar(db, "SELECT count(*) FROM matches WHERE program = 'core' AND phase = 'active'"), 1);
    cr_assert_eq(scalar(db, "SELECT count(*) FROM match_people WHERE match = 1"), 2);
    cr_assert_eq(scalar(db, "SELECT count(*) FROM meetings WHERE phase = 'held'"), 1);
    cr_assert_eq(scalar(db, "SELECT rating FROM feedback"), 4);
    cr_assert_eq(scalar(db, "SELECT value FROM meta WHERE key = 'last_seq'"), 8);
    /* Events the mirror has not taken (a crash between the log's commit and the mirror's)
     * come back through replay from its last_seq. */
    plugins_free(ps);
    cJSON_AddItemToArray(g_log, event(9, "{\"ts\":\"2027-01-20T00:00:00Z\",\"type\":\"close\",\"match\":1,"
                                          "\"reason\":\"rule\"}"));
    ps = table(false);
    cr_assert_eq(plugins_load(ps, "sqlite", NULL, &err), 0, "%s", err.msg);
    cr_assert_eq(g_replay_after, 8);
    cr_assert_eq(scalar(db, "SELECT count(*) FROM matches WHERE phase = 'closed' AND close_reason = 'rule'"), 1);
    cr_assert_eq(scalar(db, "SELECT value FROM meta WHERE key = 'last_seq'"), 9);
    plugins_free(ps);
}

Test(plugin, sqlite_refuses_unknown_config_naming_the_key)
{
    struct plugins *ps = table(false);
    struct error err = { 0 };
    cJSON *config = cJSON_Parse("{\"paht\":\"x.db\"}");
    cr_assert_eq(plugins_load(ps, "sqlite", config, &err), ERR_INPUT);
    cJSON_Delete(config);
    cr_assert(strstr(err.msg, "\"paht\""), "%s", err.msg);
    cr_assert_str_eq(err.file, "built-in sqlite");
    plugins_free(ps);
}

/* ---- the shipped ics plugin, read back with libical ---- */

struct vevent {
    char uid[128];
    int sequence;
    icalproperty_status status;
    time_t start;
};

static int read_ics(const char *path, struct vevent *out, int max)
{
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "no %s", path);
    char buf[65536];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    icalcomponent *cal = icalparser_parse_string(buf);
    cr_assert_not_null(cal, "libical cannot parse %s", path);
    cr_assert_eq(icalcomponent_isa(cal), ICAL_VCALENDAR_COMPONENT);
    int k = 0;
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev && k < max;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT), k++) {
        snprintf(out[k].uid, sizeof out[k].uid, "%s", icalcomponent_get_uid(ev));
        out[k].sequence = icalcomponent_get_sequence(ev);
        out[k].status = icalcomponent_get_status(ev);
        out[k].start = icaltime_as_timet(icalcomponent_get_dtstart(ev));
    }
    icalcomponent_free(cal);
    return k;
}

Test(plugin, ics_writes_calendars_that_change_on_reschedule_and_cancel)
{
    for (int i = 0; i < 6; i++)
        cJSON_AddItemToArray(g_log, event(i + 1, HISTORY[i]));
    struct plugins *ps = table(false);
    struct error err = { 0 };
    cJSON *config = cJSON_Parse("{\"domain\":\"example.org\"}");
    cr_assert_eq(plugins_load(ps, "ics", config, &err), 0, "%s", err.msg);
    cJSON_Delete(config);
    char path[128];
    snprintf(path, sizeof path, "%s/ics/e1.ics", g_dir);
    struct vevent v[8];
    cr_assert_eq(read_ics(path, v, 8), 1, "written at open from the history");
    cr_assert_str_eq(v[0].uid, "tandem-match1-meeting1@example.org");
    cr_assert_eq(v[0].sequence, 0);
    cr_assert_eq(v[0].status, ICAL_STATUS_CONFIRMED);
    cr_assert_eq(v[0].start, 1800007200);   /* 2027-01-15T10:00:00Z */
    /* moved: same UID, a higher SEQUENCE, the new time */
    deliver(ps, 7, "{\"ts\":\"2027-01-10T00:00:00Z\",\"type\":\"meeting\",\"match\":1,\"phase\":\"scheduled\","
                   "\"at\":\"2027-01-16T10:00:00Z\"}");
    plugins_flush(ps);
    cr_assert_eq(read_ics(path, v, 8), 1);
    cr_assert_str_eq(v[0].uid, "tandem-match1-meeting1@example.org");
    cr_assert_eq(v[0].sequence, 1);
    cr_assert_eq(v[0].start, 1800007200 + 86400);
    /* called off, then the next one */
    deliver(ps, 8, "{\"ts\":\"2027-01-11T00:00:00Z\",\"type\":\"meeting\",\"match\":1,\"phase\":\"cancelled\","
                   "\"at\":\"2027-01-16T10:00:00Z\"}");
    deliver(ps, 9, "{\"ts\":\"2027-01-11T00:00:00Z\",\"type\":\"meeting\",\"match\":1,\"phase\":\"scheduled\","
                   "\"at\":\"2027-01-30T10:00:00Z\"}");
    plugins_flush(ps);
    cr_assert_eq(read_ics(path, v, 8), 2);
    cr_assert_eq(v[0].status, ICAL_STATUS_CANCELLED);
    cr_assert_eq(v[0].sequence, 2);
    cr_assert_str_eq(v[1].uid, "tandem-match1-meeting2@example.org");
    cr_assert_eq(v[1].status, ICAL_STATUS_CONFIRMED);
    snprintf(path, sizeof path, "%s/ics/m1.ics", g_dir);
    cr_assert_eq(read_ics(path, v, 8), 2, "the mentor's calendar too");
    plugins_free(ps);
}
