/* json_print: cJSON_PrintUnformatted's bytes without its per-number sprintf + sscanf (which
 * was over a quarter of printing an event). Strings are escaped exactly as cJSON 1.7 escapes
 * them (", \, \b \f \n \r \t, other bytes below 0x20 as \u00xx, every other byte as it is);
 * integer-valued numbers below 10^15 print as their digits, which is what cJSON's "%1.15g"
 * (or its "%d" for int-sized values) gives for them; any other number is printed by cJSON.
 * tests/json_print_test.c holds the two printers to the same bytes. */
#include "json_print.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

static bool grow(struct json_buf *b, size_t more);

static inline bool reserve(struct json_buf *b, size_t more)
{
    return b->cap - b->len > more || grow(b, more);   /* room for more bytes and the '\0' */
}

static bool grow(struct json_buf *b, size_t more)
{
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len <= more) {
        if (cap > ((size_t)-1) / 2)
            return false;
        cap *= 2;
    }
    char *s = realloc(b->s, cap);
    if (!s)
        return false;
    b->s = s;
    b->cap = cap;
    return true;
}

static bool put(struct json_buf *b, const char *s, size_t n)
{
    if (!reserve(b, n))
        return false;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    return true;
}

/* What cJSON writes for each byte of a string: 0 the byte itself, else the letter after a
 * backslash ('u' for \u00xx). */
static const char ESCAPE[256] = {
    [0x00] = '0',                         /* not a character of a string: its end (put_short_string) */
    ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['"'] = '"', ['\\'] = '\\',
    [0x01] = 'u', [0x02] = 'u', [0x03] = 'u', [0x04] = 'u', [0x05] = 'u', [0x06] = 'u', [0x07] = 'u',
    [0x0b] = 'u', [0x0e] = 'u', [0x0f] = 'u', [0x10] = 'u', [0x11] = 'u', [0x12] = 'u', [0x13] = 'u',
    [0x14] = 'u', [0x15] = 'u', [0x16] = 'u', [0x17] = 'u', [0x18] = 'u', [0x19] = 'u', [0x1a] = 'u',
    [0x1b] = 'u', [0x1c] = 'u', [0x1d] = 'u', [0x1e] = 'u', [0x1f] = 'u',
};

static inline bool put_char(struct json_buf *b, char c)
{
    if (!reserve(b, 1))
        return false;
    b->s[b->len++] = c;
    return true;
}

/* Writes c (a byte ESCAPE gives e for) escaped at o; returns the end. */
static inline char *put_escape(char *o, unsigned char c, char e)
{
    static const char hex[] = "0123456789abcdef";
    *o++ = '\\';
    *o++ = e;
    if (e == 'u') {
        *o++ = '0';
        *o++ = '0';
        *o++ = hex[c >> 4];
        *o++ = hex[c & 15];
    }
    return o;
}

/* Short strings (keys, ids, names: nearly all), when the buffer has room for 64 bytes each
 * printed as \u00xx: copied and escaped in one pass, without measuring them first. False,
 * having written nothing that counts, for a longer one. */
#define SHORT_STRING 64
static bool put_short_string(struct json_buf *b, const unsigned char *s)
{
    char *o = b->s + b->len;
    *o++ = '"';
    for (int i = 0; i < SHORT_STRING; i++) {
        unsigned char c = s[i];
        char e = ESCAPE[c];
        if (!e) {
            *o++ = (char)c;
        } else if (c == 0) {
            *o++ = '"';
            b->len = (size_t)(o - b->s);
            return true;
        } else {
            o = put_escape(o, c, e);
        }
    }
    return false;
}

/* Room for the escaped text first: for a short string the worst case (every byte as \u00xx),
 * for a long one (which may be megabytes) its exact size, counted. Then copy and escape. */
static bool put_string(struct json_buf *b, const char *str)
{
    if (str == NULL)
        return put(b, "\"\"", 2);         /* cJSON prints a missing text as "" */
    const unsigned char *s = (const unsigned char *)str;
    if (b->cap - b->len > 6 * SHORT_STRING + 2 && put_short_string(b, s))
        return true;
    size_t n = strlen(str), room = 6 * n;
    if (n > 256) {
        room = n;
        for (size_t i = 0; i < n; i++)
            if (ESCAPE[s[i]])
                room += ESCAPE[s[i]] == 'u' ? 5 : 1;
    }
    if (!reserve(b, room + 2))
        return false;
    char *o = b->s + b->len;
    *o++ = '"';
    for (size_t i = 0; i < n; i++) {
        unsigned char c = s[i];
        char e = ESCAPE[c];
        if (!e)
            *o++ = (char)c;
        else
            o = put_escape(o, c, e);
    }
    *o++ = '"';
    b->len = (size_t)(o - b->s);
    return true;
}

/* Integers of magnitude below 10^15: "%1.15g" prints them in full, without an exponent, and
 * reads back exactly. Negative zero is left to cJSON ("-0" or "0" depending on its version). */
static bool put_number(struct json_buf *b, const cJSON *item)
{
    double d = item->valuedouble;
    if (!(d > -1e15 && d < 1e15) || d != floor(d) || (d == 0 && signbit(d))) {
        char *t = cJSON_PrintUnformatted(item);   /* a non-root item prints alone */
        if (!t)
            return false;
        bool ok = put(b, t, strlen(t));
        cJSON_free(t);
        return ok;
    }
    long long v = (long long)d;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    char digits[24], *p = digits + sizeof digits;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        *--p = '-';
    return put(b, p, (size_t)(digits + sizeof digits - p));
}

static bool print_value(const cJSON *item, struct json_buf *b, int depth);

int json_buf_put(struct json_buf *b, const char *s, size_t n)
{
    if (!put(b, s, n))
        return -1;
    b->s[b->len] = '\0';
    return 0;
}

/* The children of an array or object, comma-separated, object members with their keys. */
static bool print_children(const cJSON *item, struct json_buf *b, int depth, bool members)
{
    for (const cJSON *c = item->child; c; c = c->next) {
        if (members && (!put_string(b, c->string) || !put_char(b, ':')))
            return false;
        if (!print_value(c, b, depth + 1))
            return false;
        if (c->next && !put_char(b, ','))
            return false;
    }
    return true;
}

static bool print_value(const cJSON *item, struct json_buf *b, int depth)
{
    switch (item->type & 0xFF) {
    case cJSON_NULL: return put(b, "null", 4);
    case cJSON_False: return put(b, "false", 5);
    case cJSON_True: return put(b, "true", 4);
    case cJSON_Number: return put_number(b, item);
    case cJSON_Raw: return item->valuestring != NULL && put(b, item->valuestring, strlen(item->valuestring));
    case cJSON_String: return put_string(b, item->valuestring);
    case cJSON_Array:
        return depth < JSON_PRINT_DEPTH && put_char(b, '[') && print_children(item, b, depth, false) && put_char(b, ']');
    case cJSON_Object:
        return depth < JSON_PRINT_DEPTH && put_char(b, '{') && print_children(item, b, depth, true) && put_char(b, '}');
    default:
        return false;                     /* cJSON refuses it too */
    }
}

int json_print(const cJSON *item, struct json_buf *b)
{
    size_t start = b->len;
    if (item == NULL || !print_value(item, b, 0) || !reserve(b, 0)) {
        b->len = start;
        if (b->s && b->cap > start)
            b->s[start] = '\0';
        return -1;
    }
    b->s[b->len] = '\0';
    return 0;
}
