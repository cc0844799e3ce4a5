/* protocol: the commands of the control protocol, below every room that takes them (the
 * socket server, plugins' submit, ctl's command line). See protocol.c. */
#ifndef TANDEM_PROTOCOL_H
#define TANDEM_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <cjson/cJSON.h>

#define PROTOCOL_LINE_MAX (64 * 1024)    /* bytes in one command line, newline excluded */

/* Parses and validates one line: strict JSON (no trailing bytes, no duplicate keys, valid
 * UTF-8, no \u0000, integers within 2^53), an object with a known "cmd" and only that
 * command's fields, each of its type. Returns the object (caller owns it) or NULL with a
 * reason in why. */
cJSON *protocol_parse(const char *line, size_t len, char *why, size_t why_len);

/* protocol_parse without a copy of the line: line[len] must be writable (the socket's read
 * buffer, say); it is borrowed for a '\0' and restored before returning. */
cJSON *protocol_parse_in(char *line, size_t len, char *why, size_t why_len);

/* Room for a command read in place (protocol_parse_view): a tree of at most
 * PROTOCOL_VIEW_MAX members without allocating. */
#define PROTOCOL_VIEW_MAX 24
struct protocol_view {
    cJSON root;
    cJSON members[PROTOCOL_VIEW_MAX];
};

/* protocol_parse_in without allocating for the lines clients send most: a flat object
 * whose values are strings without escapes or control bytes and whole numbers of at most 15
 * digits, spaces the only whitespace. Such a line is read in place: its strings are ended
 * with NULs written in line (over their closing quotes), the tree is made of v's nodes as
 * cJSON_Parse would make it, and *borrowed is true: the command is valid while line and v
 * are, and never goes to cJSON_Delete (when such a line is refused, NULL, its bytes are
 * changed all the same). Any other line is parsed, unchanged, by protocol_parse_in
 * (*borrowed false: the caller owns the result). Same results and reasons as protocol_parse;
 * line[len] must be writable. */
cJSON *protocol_parse_view(char *line, size_t len, struct protocol_view *v, bool *borrowed, char *why,
                           size_t why_len);

/* Builds a command from ctl's words and flags: `meeting held --match 17` ->
 * {"cmd":"meeting.held","match":17}. Returns NULL with a reason in why. */
cJSON *protocol_from_args(int argc, char **argv, char *why, size_t why_len);

/* Prints the usage of every command and its fields (for `tandem ctl --help`). */
void protocol_usage(FILE *out);

#endif
