/* report_html: the report as one self-contained HTML page (inline CSS and SVG charts, no
 * script, no network fetch), rendered from the JSON report so it never disagrees with it.
 * Every string from the log is escaped. */
#ifndef TANDEM_REPORT_HTML_H
#define TANDEM_REPORT_HTML_H

#include <stdio.h>
#include <cjson/cJSON.h>

/* Writes the page for report (report_json's object) to out. Never fails but for out's errors. */
void report_html(const cJSON *report, FILE *out);

/* Writes s with & < > " ' escaped for HTML text and attribute values. */
void html_escape(FILE *out, const char *s);

#endif
