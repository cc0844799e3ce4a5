/* ics_dump FILE.ics: parses an iCalendar file with libical and prints one line per VEVENT,
 * "UID SEQUENCE STATUS DTSTART(unix)"; exits 1 if libical cannot parse it. For test_plugins.py. */
#include <stdio.h>
#include <libical/ical.h>

int main(int argc, char **argv)
{
    if (argc != 2)
        return 2;
    FILE *f = fopen(argv[1], "r");
    if (!f)
        return 1;
    static char buf[1 << 20];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    icalcomponent *cal = icalparser_parse_string(buf);
    if (!cal || icalcomponent_isa(cal) != ICAL_VCALENDAR_COMPONENT)
        return 1;
    for (icalcomponent *ev = icalcomponent_get_first_component(cal, ICAL_VEVENT_COMPONENT); ev;
         ev = icalcomponent_get_next_component(cal, ICAL_VEVENT_COMPONENT))
        printf("%s %d %s %lld\n", icalcomponent_get_uid(ev), icalcomponent_get_sequence(ev),
               icalproperty_status_to_string(icalcomponent_get_status(ev)),
               (long long)icaltime_as_timet(icalcomponent_get_dtstart(ev)));
    icalcomponent_free(cal);
    return 0;
}
