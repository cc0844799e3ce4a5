/* people_csv: the HRIS import (SPEC 1), RFC 4180 CSV through libcsv, one good row at a time.
 * It never guesses: a bad row is reported as FILE:LINE and skipped, a file it cannot
 * read as a whole is refused, and no value is rewritten (neutralizing is the exporter's job). */
#ifndef TANDEM_PEOPLE_CSV_H
#define TANDEM_PEOPLE_CSV_H

#include <stdio.h>

#include "error.h"
#include "person.h"

#define PEOPLE_CSV_FIELD_MAX   (64 * 1024)        /* a longer field refuses its row */
#define PEOPLE_CSV_FIELD_HARD  (16 * 1024 * 1024) /* a longer field refuses the file */
#define PEOPLE_CSV_COLUMNS_MAX PERSON_ATTRS_MAX  /* a wider header refuses the file */

/* Called once per good row, in file order. line is the physical line where the record
 * starts, counted from 1 (the header's line; a BOM does not count; CRLF, LF and lone CR each
 * end one line, inside quoted fields too).
 * p is complete and valid; the callback may keep its contents by moving them out
 * (`*mine = *p; person_init(p);`). Whatever is left in *p is freed by the reader with
 * person_free after the call. Return 0 to go on, or a negative code to stop the import. */
typedef int (*people_csv_row_fn)(void *ctx, struct person *p, int line);

struct people_csv_result {
    int taken;    /* rows handed to the callback */
    int refused;  /* rows reported to `errors` and skipped */
};

/* Reads the people CSV at path and calls fn for each good row.
 * Each bad row is written to errors (when not NULL) as "FILE:LINE: reason\n", FILE being path
 * as given and LINE the record's first line, and counted in res->refused; a row is checked
 * in full and all its problems are given on that one line, "; "-separated. A duplicate id is
 * one already taken from an earlier row; whether a manager exists is left to the caller
 * (the manager may come later in the file). Cells are trimmed of spaces, tabs, CR and LF at
 * both ends and otherwise kept as written. Blank lines and rows whose cells are all empty
 * are skipped silently.
 * Returns 0 when the file could be read, even if rows were refused (the caller decides
 * about --lenient from res->refused). Returns ERR_INPUT with err set (file, and line when
 * there is one) for a file it cannot take at all: missing, unreadable or a directory, UTF-16
 * (by BOM, or NUL bytes making up a quarter of its start), no header,
 * no `id` column, a duplicate or empty column name, a ';'- or tab-delimited header, a
 * broken header row, more than PEOPLE_CSV_COLUMNS_MAX columns, or a field longer than
 * PEOPLE_CSV_FIELD_HARD. Returns ERR_SYSTEM (err set) on a read error or out of memory.
 * When fn returns a negative code the import stops and that code is returned. err is cleared
 * when the import starts; if it is still clear when fn stops the import (fn may set it itself,
 * through ctx), it is set to that code with FILE:LINE of the row. res may be NULL; it holds
 * the counts so far whatever the outcome. errors, err and fn may be NULL (fn NULL: rows are
 * only checked and counted). errors is only written to, never closed. */
int people_csv_read(const char *path, people_csv_row_fn fn, void *ctx, FILE *errors,
                    struct people_csv_result *res, struct error *err);

#endif
