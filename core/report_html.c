/* report_html: the report as one HTML file an admin can open or mail: inline style, four SVG
 * charts (meetings per week, the re-up funnel, the model mix, match health over time) and the
 * tables. It must never reference anything outside itself (no script, no font, no image URL). */
#include "report_html.h"

#include <math.h>
#include <string.h>

void html_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&#39;", out); break;
        default:
            if ((unsigned char)*s < 0x20 && *s != '\n' && *s != '\t')
                fprintf(out, "&#xFFFD;");   /* control characters have no place in a page */
            else
                fputc(*s, out);
        }
    }
}

static const cJSON *item(const cJSON *o, const char *k)
{
    return cJSON_GetObjectItemCaseSensitive(o, k);
}

static double num(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const char *text(const cJSON *o, const char *k)
{
    const cJSON *v = item(o, k);
    return cJSON_IsString(v) ? v->valuestring : "";
}

/* A cell: "-" for null, a percentage for a share, else the number. */
static void cell(FILE *out, const cJSON *v, int kind)
{
    fputs("<td>", out);
    if (!cJSON_IsNumber(v))
        fputs("-", out);
    else if (kind == 1)
        fprintf(out, "%.0f%%", v->valuedouble * 100);
    else if (kind == 2)
        fprintf(out, "%.2f", v->valuedouble);
    else
        fprintf(out, "%.0f", v->valuedouble);
    fputs("</td>", out);
}

static const char *const COLORS[] = { "#3366cc", "#dc3912", "#ff9900", "#109618", "#990099", "#0099c6",
                                      "#dd4477", "#66aa00", "#b82e2e", "#316395", "#994499", "#22aa99" };
#define N_COLORS (sizeof COLORS / sizeof *COLORS)

#define CW 760       /* chart width */
#define CH 240       /* chart height */
#define PL 48        /* plot left margin (axis labels) */
#define PB 28        /* plot bottom margin */
#define PT 16

static double nice_max(double v)
{
    if (v <= 0)
        return 1;
    double p = pow(10, floor(log10(v)));
    for (double m = 1; m <= 10; m += m < 2 ? 1 : m < 5 ? 3 : 5)
        if (m * p >= v)
            return m * p;
    return 10 * p;
}

static void axis(FILE *out, double max, const cJSON *weeks, int n)
{
    int ph = CH - PB - PT;
    for (int i = 0; i <= 4; i++) {
        double y = PT + ph - ph * i / 4.0;
        fprintf(out, "<line x1=\"%d\" y1=\"%.1f\" x2=\"%d\" y2=\"%.1f\" stroke=\"#ddd\"/>", PL, y, CW - 8, y);
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"11\" text-anchor=\"end\">%g</text>", PL - 4, y + 4,
                max * i / 4);
    }
    /* Week labels: about eight across. */
    int step = n > 8 ? (n + 7) / 8 : 1;
    double bw = (double)(CW - 8 - PL) / (n ? n : 1);
    for (int i = 0; i < n; i += step) {
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" font-size=\"11\">", PL + i * bw, CH - 8);
        html_escape(out, text(cJSON_GetArrayItem(weeks, i), "week"));
        fputs("</text>", out);
    }
}

static void chart_open(FILE *out, const char *id, const char *title)
{
    fprintf(out, "<figure><figcaption>%s</figcaption>\n<svg id=\"%s\" class=\"chart\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
                 "role=\"img\"><title>%s</title>", title, id, CW, CH, CW, CH, title);
}

static void chart_close(FILE *out, const char *const *labels, const char *const *colors, int n)
{
    fputs("</svg>\n<p class=\"legend\">", out);
    for (int i = 0; i < n; i++)
        fprintf(out, "<span><i style=\"background:%s\"></i>%s</span> ", colors[i], labels[i]);
    fputs("</p></figure>\n", out);
}

static void no_data(FILE *out)
{
    fprintf(out, "<text x=\"%d\" y=\"%d\" font-size=\"14\" text-anchor=\"middle\" fill=\"#888\">no data in "
                 "this window</text>", CW / 2, CH / 2);
}

/* Meetings held (and missed, stacked above) per week. */
static void chart_meetings(FILE *out, const cJSON *weeks)
{
    int n = cJSON_GetArraySize(weeks);
    double max = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, weeks)
        if (num(w, "held") + num(w, "missed") > max)
            max = num(w, "held") + num(w, "missed");
    chart_open(out, "chart-meetings", "Meetings per week");
    if (max <= 0) {
        no_data(out);
    } else {
        max = nice_max(max);
        axis(out, max, weeks, n);
        int ph = CH - PB - PT;
        double bw = (double)(CW - 8 - PL) / n;
        int i = 0;
        cJSON_ArrayForEach(w, weeks) {
            double hh = ph * num(w, "held") / max, mh = ph * num(w, "missed") / max;
            double x = PL + i * bw + bw * 0.1;
            if (hh > 0)
                fprintf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                             "<title>%s: %.0f held</title></rect>", x, PT + ph - hh, bw * 0.8, hh, COLORS[0],
                        text(w, "week"), num(w, "held"));
            if (mh > 0)
                fprintf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                             "<title>%s: %.0f missed</title></rect>", x, PT + ph - hh - mh, bw * 0.8, mh, COLORS[1],
                        text(w, "week"), num(w, "missed"));
            i++;
        }
    }
    const char *labels[] = { "held", "missed" }, *colors[] = { COLORS[0], COLORS[1] };
    chart_close(out, labels, colors, 2);
}

/* Horizontal bars, one a row, with the value at the end. */
static void hbars(FILE *out, const char *const *labels, const double *values, int n)
{
    double max = 0;
    for (int i = 0; i < n; i++)
        if (values[i] > max)
            max = values[i];
    if (max <= 0) {
        no_data(out);
        return;
    }
    int left = 150, row = (CH - 2 * PT) / (n ? n : 1);
    if (row > 40)
        row = 40;
    for (int i = 0; i < n; i++) {
        double wd = (CW - left - 70) * values[i] / max;
        double y = PT + i * row;
        fprintf(out, "<text x=\"%d\" y=\"%.1f\" font-size=\"12\" text-anchor=\"end\">", left - 6, y + row * 0.6);
        html_escape(out, labels[i]);
        fputs("</text>", out);
        fprintf(out, "<rect class=\"bar\" x=\"%d\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>", left,
                y + row * 0.15, wd > 0 ? wd : 0, row * 0.7, COLORS[(size_t)i % N_COLORS]);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" font-size=\"12\">%.0f</text>", left + wd + 6, y + row * 0.6,
                values[i]);
    }
}

static void chart_funnel(FILE *out, const cJSON *funnel)
{
    const char *labels[] = { "re-up opened", "decided", "renewed" };
    double values[] = { num(funnel, "opened"), num(funnel, "decided"), num(funnel, "renewed") };
    chart_open(out, "chart-funnel", "Re-up funnel");
    hbars(out, labels, values, 3);
    chart_close(out, NULL, NULL, 0);
}

static void chart_models(FILE *out, const cJSON *models)
{
    const char *labels[32];
    double values[32];
    int n = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, models) {
        if (n == 32)
            break;
        labels[n] = text(m, "model");
        values[n++] = num(m, "matches");
    }
    chart_open(out, "chart-models", "Model mix (matches made)");
    hbars(out, labels, values, n);
    chart_close(out, NULL, NULL, 0);
}

static void polyline(FILE *out, const cJSON *weeks, const char *k, double max, const char *color)
{
    int n = cJSON_GetArraySize(weeks), ph = CH - PB - PT, i = 0;
    double bw = (double)(CW - 8 - PL) / n;
    fprintf(out, "<polyline class=\"line\" fill=\"none\" stroke=\"%s\" stroke-width=\"2\" points=\"", color);
    const cJSON *w;
    cJSON_ArrayForEach(w, weeks) {
        fprintf(out, "%s%.1f,%.1f", i ? " " : "", PL + (i + 0.5) * bw, PT + ph - ph * num(w, k) / max);
        i++;
    }
    fputs("\"/>", out);
}

/* Live matches at each week's end, those of them flagged, and stalled closes that week. */
static void chart_health(FILE *out, const cJSON *weeks)
{
    int n = cJSON_GetArraySize(weeks);
    double max = 0;
    const cJSON *w;
    cJSON_ArrayForEach(w, weeks) {
        if (num(w, "live") > max)
            max = num(w, "live");
        if (num(w, "stalled") > max)
            max = num(w, "stalled");
    }
    chart_open(out, "chart-health", "Match health over time");
    if (max <= 0) {
        no_data(out);
    } else {
        max = nice_max(max);
        axis(out, max, weeks, n);
        int ph = CH - PB - PT, i = 0;
        double bw = (double)(CW - 8 - PL) / n;
        cJSON_ArrayForEach(w, weeks) {
            double sh = ph * num(w, "stalled") / max;
            if (sh > 0)
                fprintf(out, "<rect class=\"bar\" x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\"/>",
                        PL + i * bw + bw * 0.2, PT + ph - sh, bw * 0.6, sh, COLORS[1]);
            i++;
        }
        polyline(out, weeks, "live", max, COLORS[3]);
        polyline(out, weeks, "flagged_live", max, COLORS[2]);
    }
    const char *labels[] = { "live matches", "of them flagged", "stalled closes" };
    const char *colors[] = { COLORS[3], COLORS[2], COLORS[1] };
    chart_close(out, labels, colors, 3);
}

struct column {
    const char *key, *head;
    int kind;                  /* 0 count, 1 share, 2 two decimals, 3 a member of time_to_match_days */
};

static const struct column COLUMNS[] = {
    { "model", "model", -1 },
    { "enrolled", "enrolled", 0 },
    { "matched_share", "matched", 1 },
    { "median", "median days to match", 3 },
    { "matches", "matches", 0 },
    { "live", "live", 0 },
    { "meetings_held", "held", 0 },
    { "meetings_missed", "missed", 0 },
    { "held_per_match", "held / match", 2 },
    { "missed_per_match", "missed / match", 2 },
    { "goals_set", "goals set", 0 },
    { "goals_achieved", "achieved", 0 },
    { "feedback_from_mentees", "feedback from mentees", 2 },
    { "feedback_from_mentors", "from mentors", 2 },
    { "feedback_program", "on the program", 2 },
    { "renew_rate", "renew rate", 1 },
    { "stalled", "stalled", 0 },
    { "flagged_matches", "flagged", 0 },
    { "cross_department_share", "cross-dept", 1 },
    { "diversity_share", "diversity", 1 },
    { "rule_errors", "rule errors", 0 },
    { NULL, NULL, 0 },
};

static void row(FILE *out, const cJSON *p, const char *name)
{
    fputs("<tr><th>", out);
    html_escape(out, name);
    fputs("</th>", out);
    for (int i = 0; COLUMNS[i].key; i++) {
        if (COLUMNS[i].kind < 0) {
            fputs("<td>", out);
            html_escape(out, text(p, COLUMNS[i].key));
            fputs("</td>", out);
        } else if (COLUMNS[i].kind == 3) {
            const cJSON *v = item(item(p, "time_to_match_days"), COLUMNS[i].key);
            fputs("<td>", out);
            if (cJSON_IsNumber(v))
                fprintf(out, "%.1f", v->valuedouble);
            else
                fputs("-", out);
            fputs("</td>", out);
        } else {
            cell(out, item(p, COLUMNS[i].key), COLUMNS[i].kind);
        }
    }
    fputs("</tr>\n", out);
}

static void priorities(FILE *out, const cJSON *bp)
{
    if (cJSON_GetArraySize(bp) == 0)
        return;
    fputs("<h2>Priorities</h2>\n<table class=\"prio\"><tr><th>priority</th><th>value</th><th>measured as</th></tr>\n",
          out);
    const cJSON *p;
    cJSON_ArrayForEach(p, bp) {
        fputs("<tr><th>", out);
        html_escape(out, text(p, "priority"));
        fputs("</th>", out);
        cell(out, item(p, "value"), strcmp(text(p, "priority"), "culture") == 0 ? 2 : 1);
        fputs("<td>", out);
        html_escape(out, cJSON_IsString(item(p, "measure")) ? text(p, "measure") : "no measure for this priority");
        fputs("</td></tr>\n", out);
    }
    fputs("</table>\n", out);
}

void report_html(const cJSON *r, FILE *out)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
          "<title>tandem report</title>\n<style>\n"
          "body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1200px}\n"
          "h1{font-size:22px}h2{font-size:17px;margin-top:28px}\n"
          "table{border-collapse:collapse;font-size:13px}td,th{border-bottom:1px solid #ddd;padding:3px 7px;"
          "text-align:right}th:first-child,.programs td:nth-child(2),.prio td:last-child,.prio th{text-align:left}\n"
          ".wide{overflow-x:auto}\n"
          "figure{margin:18px 0}figcaption{font-weight:600;margin-bottom:4px}.chart{background:#fafafa;"
          "border:1px solid #eee}\n.legend span{margin-right:14px}.legend i{display:inline-block;width:11px;"
          "height:11px;margin-right:4px}\n.meta{color:#555}\n</style></head><body>\n",
          out);
    fputs("<h1>tandem report</h1>\n<p class=\"meta\">as of ", out);
    html_escape(out, text(r, "as_of"));
    fprintf(out, " &middot; %.0f events", num(r, "events"));
    if (cJSON_IsString(item(r, "since")) || cJSON_IsString(item(r, "until"))) {
        fputs(" &middot; window ", out);
        html_escape(out, cJSON_IsString(item(r, "since")) ? text(r, "since") : "start");
        fputs(" to ", out);
        html_escape(out, cJSON_IsString(item(r, "until")) ? text(r, "until") : "end");
        fprintf(out, " (%.0f events in it)", num(r, "events_in_window"));
    }
    if (cJSON_IsString(item(r, "program"))) {
        fputs(" &middot; program ", out);
        html_escape(out, text(r, "program"));
    }
    if (cJSON_IsString(item(r, "rules"))) {
        fputs(" &middot; rules ", out);
        html_escape(out, text(r, "rules"));
    }
    fprintf(out, " &middot; %.0f people</p>\n", num(r, "people"));
    priorities(out, item(r, "by_priority"));

    fputs("<h2>Programs</h2>\n<div class=\"wide\"><table class=\"programs\"><tr><th>program</th>", out);
    for (int i = 0; COLUMNS[i].key; i++)
        fprintf(out, "<th>%s</th>", COLUMNS[i].head);
    fputs("</tr>\n", out);
    const cJSON *p;
    cJSON_ArrayForEach(p, item(r, "programs"))
        row(out, p, text(p, "name"));
    row(out, item(r, "totals"), "all");
    fputs("</table></div>\n", out);

    const cJSON *weeks = item(r, "weeks");
    fputs("<h2>Charts</h2>\n", out);
    chart_meetings(out, weeks);
    chart_funnel(out, item(r, "reup_funnel"));
    chart_models(out, item(r, "models"));
    chart_health(out, weeks);

    const cJSON *tot = item(r, "totals");
    fputs("<h2>Closes by reason</h2>\n<table><tr>", out);
    const cJSON *c;
    cJSON_ArrayForEach(c, item(tot, "closed_by_reason")) {
        fputs("<th>", out);
        html_escape(out, c->string);
        fputs("</th>", out);
    }
    fputs("</tr><tr>", out);
    cJSON_ArrayForEach(c, item(tot, "closed_by_reason"))
        cell(out, c, 0);
    fprintf(out, "</tr></table>\n<p class=\"meta\">notes %.0f &middot; introductions %.0f &middot; rule errors "
                 "%.0f &middot; flags %.0f</p>\n</body></html>\n",
            num(tot, "notes"), num(tot, "intros"), num(tot, "rule_errors"), num(tot, "flags"));
}
