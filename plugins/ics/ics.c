/* ics: one iCalendar file per person (STATE/ics/ID.ics by default) with the meetings of their
 * matches, written with libical (RFC 5545): each meeting a VEVENT whose UID stays the same for
 * its life, whose SEQUENCE goes up when it changes (rescheduled, cancelled) and whose STATUS
 * becomes CANCELLED when it is called off, so calendar clients update rather than duplicate.
 * A file is rewritten whole and atomically (temp file, fsync, rename) at the end of the batch
 * that changed it. The model is rebuilt from the log at open, so lost files come back. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <libical/ical.h>

#include "tandem/plugin.h"

enum mstatus { M_SCHEDULED, M_HELD, M_MISSED, M_CANCELLED };

struct meeting {
    int n;                    /* 1, 2, ... within its match: the UID's stable part */
    time_t at;
    time_t stamp;             /* program time of its last change (DTSTAMP) */
    int sequence;
    enum mstatus status;
    int *people;              /* attendees when it was scheduled (person indices) */
    int n_people;
};

struct match {
    bool known;
    char *program;
    int *people, n_people;    /* mentors, mentees, then guests */
    int n_mentors;
    struct meeting *meetings;
    int n_meetings;
    int pending;              /* index of the scheduled meeting not resolved yet, or -1 */
};

struct person {
    char *id, *name, *email;
    long long *matches;
    int n_matches;
    bool dirty;
};

struct ics {
    tandem_ctx *ctx;
    const struct tandem_host *host;
    char *dir, *domain;
    int duration_min;
    bool simulate, loading;
    struct person *people;
    int n_people, cap_people;
    int *slots;               /* open addressing: person index + 1, 0 empty */
    int n_slots;
    struct match *matches;    /* by id - 1 */
    long long n_matches;
    long long written, failed;
};

/* ---- people by id ---- */

static unsigned long hash(const char *s)
{
    unsigned long h = 1469598103934665603UL;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211UL;
    return h;
}

static int find_person(struct ics *c, const char *id)
{
    if (!c->n_slots)
        return -1;
    for (unsigned long i = hash(id) & (unsigned long)(c->n_slots - 1);; i = (i + 1) & (unsigned long)(c->n_slots - 1)) {
        int k = c->slots[i];
        if (k == 0)
            return -1;
        if (strcmp(c->people[k - 1].id, id) == 0)
            return k - 1;
    }
}

static void rehash(struct ics *c, int n)
{
    free(c->slots);
    c->n_slots = n;
    c->slots = calloc((size_t)n, sizeof *c->slots);
    for (int p = 0; p < c->n_people; p++) {
        unsigned long i = hash(c->people[p].id) & (unsigned long)(n - 1);
        while (c->slots[i])
            i = (i + 1) & (unsigned long)(n - 1);
        c->slots[i] = p + 1;
    }
}

static int person(struct ics *c, const char *id)
{
    int p = find_person(c, id);
    if (p >= 0)
        return p;
    if (c->n_people == c->cap_people) {
        c->cap_people = c->cap_people ? c->cap_people * 2 : 256;
        c->people = realloc(c->people, (size_t)c->cap_people * sizeof *c->people);
    }
    p = c->n_people++;
    c->people[p] = (struct person){ .id = strdup(id) };
    if (c->n_people * 2 > c->n_slots)
        rehash(c, c->n_slots ? c->n_slots * 2 : 1024);
    else {
        unsigned long i = hash(id) & (unsigned long)(c->n_slots - 1);
        while (c->slots[i])
            i = (i + 1) & (unsigned long)(c->n_slots - 1);
        c->slots[i] = p + 1;
    }
    return p;
}

static void set_text(char **dst, const cJSON *v)
{
    free(*dst);
    *dst = cJSON_IsString(v) && v->valuestring[0] ? strdup(v->valuestring) : NULL;
}

/* ---- the model ---- */

static time_t parse_time(const char *s)
{
    struct tm tm = { 0 };
    if (!s || !strptime(s, "%Y-%m-%dT%H:%M:%SZ", &tm))
        return 0;
    return timegm(&tm);
}

static struct match *match_of(struct ics *c, const cJSON *ev)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "match");
    if (!cJSON_IsNumber(id) || id->valuedouble < 1 || id->valuedouble > 1e9)
        return NULL;
    long long k = (long long)id->valuedouble;
    if (k > c->n_matches) {
        long long n = c->n_matches ? c->n_matches : 256;
        while (n < k)
            n *= 2;
        c->matches = realloc(c->matches, (size_t)n * sizeof *c->matches);
        memset(c->matches + c->n_matches, 0, (size_t)(n - c->n_matches) * sizeof *c->matches);
        c->n_matches = n;
    }
    return &c->matches[k - 1];
}

static void mark(struct ics *c, const int *people, int n)
{
    for (int i = 0; i < n; i++)
        c->people[people[i]].dirty = true;
}

static void add_party(struct ics *c, struct match *m, long long id, const char *who)
{
    int p = person(c, who);
    for (int i = 0; i < m->n_people; i++)
        if (m->people[i] == p)
            return;
    m->people = realloc(m->people, (size_t)(m->n_people + 1) * sizeof *m->people);
    m->people[m->n_people++] = p;
    struct person *pr = &c->people[p];
    pr->matches = realloc(pr->matches, (size_t)(pr->n_matches + 1) * sizeof *pr->matches);
    pr->matches[pr->n_matches++] = id;
}

static void on_match(struct ics *c, const cJSON *ev)
{
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(ev, "phase");
    struct match *m = match_of(c, ev);
    if (!m || m->known || !cJSON_IsString(phase) ||
        (strcmp(phase->valuestring, "active") != 0 && strcmp(phase->valuestring, "proposed") != 0))
        return;
    long long id = (long long)cJSON_GetObjectItemCaseSensitive(ev, "match")->valuedouble;
    m->known = true;
    m->pending = -1;
    set_text(&m->program, cJSON_GetObjectItemCaseSensitive(ev, "program"));
    static const char *const sides[] = { "mentors", "mentees" };
    for (int k = 0; k < 2; k++) {
        const cJSON *who;
        cJSON_ArrayForEach(who, cJSON_GetObjectItemCaseSensitive(ev, sides[k]))
            if (cJSON_IsString(who))
                add_party(c, m, id, who->valuestring);
        if (k == 0)
            m->n_mentors = m->n_people;
    }
}

static void on_meeting(struct ics *c, const cJSON *ev, time_t ts)
{
    struct match *m = match_of(c, ev);
    const cJSON *phase = cJSON_GetObjectItemCaseSensitive(ev, "phase");
    if (!m || !m->known || !cJSON_IsString(phase))
        return;
    const char *ph = phase->valuestring;
    if (strcmp(ph, "scheduled") == 0) {
        time_t at = parse_time(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "at")));
        struct meeting *mt;
        if (m->pending >= 0) {
            mt = &m->meetings[m->pending];   /* a new time for the same meeting */
            if (mt->at == at)
                return;
            mt->sequence++;
        } else {
            m->meetings = realloc(m->meetings, (size_t)(m->n_meetings + 1) * sizeof *m->meetings);
            m->pending = m->n_meetings++;
            mt = &m->meetings[m->pending];
            *mt = (struct meeting){ .n = m->n_meetings };
            mt->people = malloc((size_t)m->n_people * sizeof *mt->people);
            memcpy(mt->people, m->people, (size_t)m->n_people * sizeof *mt->people);
            mt->n_people = m->n_people;
        }
        mt->at = at;
        mt->stamp = ts;
        mt->status = M_SCHEDULED;
        mark(c, mt->people, mt->n_people);
        return;
    }
    if (m->pending < 0)
        return;
    struct meeting *mt = &m->meetings[m->pending];
    m->pending = -1;
    if (strcmp(ph, "cancelled") == 0) {
        mt->status = M_CANCELLED;
        mt->sequence++;
        mt->stamp = ts;
        mark(c, mt->people, mt->n_people);
    } else {
        /* held or missed: it took place as planned; the calendar entry needs no change */
        mt->status = strcmp(ph, "held") == 0 ? M_HELD : M_MISSED;
    }
}

static void on_event(void *data, const cJSON *ev)
{
    struct ics *c = data;
    const char *type = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "type"));
    time_t ts = parse_time(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "ts")));
    if (!type)
        return;
    if (strcmp(type, "person") == 0) {
        const cJSON *p = cJSON_GetObjectItemCaseSensitive(ev, "person");
        const char *id = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(p, "id"));
        if (!id)
            return;
        int idx = person(c, id);   /* may move c->people */
        struct person *pr = &c->people[idx];
        set_text(&pr->name, cJSON_GetObjectItemCaseSensitive(p, "name"));
        set_text(&pr->email, cJSON_GetObjectItemCaseSensitive(p, "email"));
        if (pr->n_matches)
            pr->dirty = true;
    } else if (strcmp(type, "match") == 0) {
        on_match(c, ev);
    } else if (strcmp(type, "meeting") == 0) {
        on_meeting(c, ev, ts);
    } else if (strcmp(type, "intro") == 0) {
        struct match *m = match_of(c, ev);
        const char *who = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(ev, "contact"));
        if (m && m->known && who)
            add_party(c, m, (long long)cJSON_GetObjectItemCaseSensitive(ev, "match")->valuedouble, who);
    } else if (strcmp(type, "close") == 0) {
        /* The engine cancels a pending meeting before it closes a match; this is the backstop. */
        struct match *m = match_of(c, ev);
        if (m && m->known && m->pending >= 0) {
            struct meeting *mt = &m->meetings[m->pending];
            m->pending = -1;
            mt->status = M_CANCELLED;
            mt->sequence++;
            mt->stamp = ts;
            mark(c, mt->people, mt->n_people);
        }
    }
}

/* ---- writing ---- */

static const char *display(const struct person *p)
{
    return p->name ? p->name : p->id;
}

static icalcomponent *vevent(struct ics *c, long long id, const struct match *m, const struct meeting *mt,
                             int self)
{
    char uid[160], summary[512] = "";
    snprintf(uid, sizeof uid, "tandem-match%lld-meeting%d@%s", id, mt->n, c->domain);
    size_t used = (size_t)snprintf(summary, sizeof summary, "Mentoring (%s) with ", m->program ? m->program : "");
    int others = 0;
    for (int i = 0; i < mt->n_people && used < sizeof summary; i++)
        if (mt->people[i] != self)
            used += (size_t)snprintf(summary + used, sizeof summary - used, "%s%s", others++ ? ", " : "",
                                     display(&c->people[mt->people[i]]));
    icalcomponent *ev = icalcomponent_vanew(
        ICAL_VEVENT_COMPONENT, icalproperty_new_uid(uid),
        icalproperty_new_dtstamp(icaltime_from_timet_with_zone(mt->stamp, 0, icaltimezone_get_utc_timezone())),
        icalproperty_new_dtstart(icaltime_from_timet_with_zone(mt->at, 0, icaltimezone_get_utc_timezone())),
        icalproperty_new_duration(icaldurationtype_from_int(c->duration_min * 60)),
        icalproperty_new_summary(summary), icalproperty_new_sequence(mt->sequence),
        icalproperty_new_status(mt->status == M_CANCELLED ? ICAL_STATUS_CANCELLED : ICAL_STATUS_CONFIRMED),
        (void *)0);
    for (int i = 0; i < mt->n_people; i++) {
        const struct person *p = &c->people[mt->people[i]];
        if (!p->email)
            continue;
        char mailto[400];
        snprintf(mailto, sizeof mailto, "mailto:%s", p->email);
        icalproperty *a = icalproperty_new_attendee(mailto);
        icalproperty_add_parameter(a, icalparameter_new_cn(display(p)));
        icalproperty_add_parameter(a, icalparameter_new_role(i < m->n_mentors ? ICAL_ROLE_CHAIR
                                                                               : ICAL_ROLE_REQPARTICIPANT));
        icalcomponent_add_property(ev, a);
    }
    return ev;
}

static int write_file(struct ics *c, int p)
{
    struct person *pr = &c->people[p];
    char name[300];
    snprintf(name, sizeof name, "tandem: %s", display(pr));
    icalcomponent *cal = icalcomponent_vanew(ICAL_VCALENDAR_COMPONENT, icalproperty_new_version("2.0"),
                                             icalproperty_new_prodid("-//tandem//tandem ics plugin//EN"),
                                             icalproperty_new_calscale("GREGORIAN"), (void *)0);
    icalproperty *xname = icalproperty_new_x(name);
    icalproperty_set_x_name(xname, "X-WR-CALNAME");
    icalcomponent_add_property(cal, xname);
    for (int k = 0; k < pr->n_matches; k++) {
        const struct match *m = &c->matches[pr->matches[k] - 1];
        for (int i = 0; i < m->n_meetings; i++) {
            const struct meeting *mt = &m->meetings[i];
            bool in = false;
            for (int j = 0; j < mt->n_people && !in; j++)
                in = mt->people[j] == p;
            if (in)
                icalcomponent_add_component(cal, vevent(c, pr->matches[k], m, mt, p));
        }
    }
    char *text = icalcomponent_as_ical_string_r(cal);
    icalcomponent_free(cal);
    if (!text)
        return -1;
    char path[4400], tmp[4420];
    snprintf(path, sizeof path, "%s/%s.ics", c->dir, pr->id);
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int rc = -1;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd >= 0) {
        size_t n = strlen(text), off = 0;
        while (off < n) {
            ssize_t w = write(fd, text + off, n - off);
            if (w < 0 && errno == EINTR)
                continue;
            if (w <= 0)
                break;
            off += (size_t)w;
        }
        /* rename after the data is on disk, or a crash could leave an empty calendar */
        bool ok = off == n && (c->simulate || fdatasync(fd) == 0);
        ok &= close(fd) == 0;
        if (ok && rename(tmp, path) == 0)
            rc = 0;
        else
            unlink(tmp);
    }
    free(text);
    if (rc < 0 && c->failed++ == 0)
        c->host->log(c->ctx, TANDEM_LOG_ERROR, "cannot write %s: %s", path, strerror(errno));
    c->written += rc == 0;
    return rc;
}

static void write_dirty(struct ics *c)
{
    for (int p = 0; p < c->n_people; p++)
        if (c->people[p].dirty) {
            c->people[p].dirty = false;
            write_file(c, p);
        }
}

/* Simulate writes once, at the end (a year of program time is seconds of real time). */
static void on_flush(void *data)
{
    struct ics *c = data;
    if (!c->simulate)
        write_dirty(c);
}

static void on_close(void *data)
{
    struct ics *c = data;
    write_dirty(c);
    for (int p = 0; p < c->n_people; p++) {
        free(c->people[p].id);
        free(c->people[p].name);
        free(c->people[p].email);
        free(c->people[p].matches);
    }
    free(c->people);
    free(c->slots);
    for (long long i = 0; i < c->n_matches; i++) {
        for (int k = 0; k < c->matches[i].n_meetings; k++)
            free(c->matches[i].meetings[k].people);
        free(c->matches[i].meetings);
        free(c->matches[i].people);
        free(c->matches[i].program);
    }
    free(c->matches);
    free(c->dir);
    free(c->domain);
    free(c);
}

/* tandem.x.ics_file(person_id): the path of a person's calendar file (nil if they have none). */
static cJSON *lua_ics_file(void *data, const cJSON *args, char *why, size_t why_len)
{
    struct ics *c = data;
    const char *id = cJSON_GetStringValue(cJSON_GetArrayItem(args, 0));
    if (!id) {
        snprintf(why, why_len, "expects a person id");
        return NULL;
    }
    int p = find_person(c, id);
    if (p < 0 || c->people[p].n_matches == 0)
        return NULL;
    char path[4400];
    snprintf(path, sizeof path, "%s/%s.ics", c->dir, id);
    return cJSON_CreateString(path);
}

static void remove_old(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    char path[4400];
    for (struct dirent *e; (e = readdir(d));) {
        size_t n = strlen(e->d_name);
        if (n > 4 && strcmp(e->d_name + n - 4, ".ics") == 0) {
            snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
            unlink(path);
        }
    }
    closedir(d);
}

static int ics_open(tandem_ctx *ctx, const struct tandem_host *host, const cJSON *config, void **data, char *why,
                    size_t why_len)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, config)
        if (strcmp(it->string, "dir") && strcmp(it->string, "duration") && strcmp(it->string, "domain")) {
            snprintf(why, why_len, "unknown config key \"%s\" (dir, duration, domain)", it->string);
            return TANDEM_EREFUSED;
        }
    const cJSON *dir = cJSON_GetObjectItemCaseSensitive(config, "dir");
    const cJSON *dur = cJSON_GetObjectItemCaseSensitive(config, "duration");
    const cJSON *dom = cJSON_GetObjectItemCaseSensitive(config, "domain");
    if ((dir && (!cJSON_IsString(dir) || !dir->valuestring[0])) ||
        (dom && (!cJSON_IsString(dom) || !dom->valuestring[0] || strpbrk(dom->valuestring, " \r\n<>@")))) {
        snprintf(why, why_len, "dir (a folder, relative to the state directory) and domain (a host name for UIDs) "
                               "are strings");
        return TANDEM_EREFUSED;
    }
    if (dur && (!cJSON_IsNumber(dur) || dur->valuedouble < 1 || dur->valuedouble > 1440 ||
                dur->valuedouble != (int)dur->valuedouble)) {
        snprintf(why, why_len, "duration: a meeting's length in whole minutes, 1 to 1440");
        return TANDEM_EREFUSED;
    }
    struct ics *c = calloc(1, sizeof *c);
    if (!c)
        return TANDEM_EFAILED;
    c->ctx = ctx;
    c->host = host;
    c->simulate = host->simulating(ctx);
    c->duration_min = dur ? (int)dur->valuedouble : 60;
    c->domain = strdup(dom ? dom->valuestring : "tandem.invalid");
    char buf[4200];
    const char *d = dir ? dir->valuestring : "ics";
    if (d[0] == '/')
        snprintf(buf, sizeof buf, "%s", d);
    else
        snprintf(buf, sizeof buf, "%s/%s", host->state_dir(ctx), d);
    c->dir = strdup(buf);
    if (mkdir(c->dir, 0755) < 0 && errno != EEXIST) {
        snprintf(why, why_len, "%s: cannot create: %s", c->dir, strerror(errno));
        *data = c;
        on_close(c);
        return TANDEM_EREFUSED;
    }
    if (c->simulate)
        remove_old(c->dir);   /* calendars of an earlier simulation */
    /* The meetings so far, from the log: every calendar is rewritten, so a lost file comes back. */
    if (host->replay(ctx, 0, on_event, c) != TANDEM_OK) {
        snprintf(why, why_len, "cannot read the event log");
        on_close(c);
        return TANDEM_EREFUSED;
    }
    for (int p = 0; p < c->n_people; p++)
        c->people[p].dirty = c->people[p].n_matches > 0;
    if (!c->simulate)
        write_dirty(c);
    host->subscribe(ctx, "person");
    host->subscribe(ctx, "match");
    host->subscribe(ctx, "meeting");
    host->subscribe(ctx, "intro");
    host->subscribe(ctx, "close");
    host->lua_register(ctx, "ics_file", lua_ics_file, c);
    *data = c;
    return TANDEM_OK;
}

static const struct tandem_plugin plugin = {
    .abi = TANDEM_PLUGIN_ABI,
    .signature = TANDEM_PLUGIN_SIGNATURE,
    .name = "ics",
    .version = "1.0",
    .open = ics_open,
    .event = on_event,
    .flush = on_flush,
    .close = on_close,
};

TANDEM_PLUGIN_ENTRY(ics)
{
    return &plugin;
}
