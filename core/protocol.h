/* protocol: the commands of the control protocol, below every room that takes them (the
 * socket server, plugins' submit, ctl's command line). See protocol.c. */
#ifndef TANDEM_PROTOCOL_H
#define TANDEM_PROTOCOL_H

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

/* Builds a command from ctl's words and flags: `meeting held --match 17` ->
 * {"cmd":"meeting.held","match":17}. Returns NULL with a reason in why. */
cJSON *protocol_from_args(int argc, char **argv, char *why, size_t why_len);

/* Prints the usage of every command and its fields (for `tandem ctl --help`). */
void protocol_usage(FILE *out);

#endif
