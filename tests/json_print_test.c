/* json_print_test: json_print must give cJSON_PrintUnformatted's bytes for every tree, since
 * the event log's lines (and their CRCs) are cJSON's print. Each case prints with both and
 * compares; seeded random trees cover what the hand-made cases miss. */
#include <criterion/criterion.h>

#include <float.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_print.h"

/* Prints item both ways and asserts the same bytes; returns json_print's result. */
static int same(const cJSON *item)
{
    char *want = cJSON_PrintUnformatted(item);
    struct json_buf b = { 0 };
    cr_assert(json_buf_put(&b, "prefix", 6) == 0);
    int rc = json_print(item, &b);
    if (want == NULL) {
        cr_assert_eq(rc, -1, "cJSON refuses this tree, json_print took it: %s", b.s + 6);
    } else {
        cr_assert_eq(rc, 0, "json_print refused what cJSON prints as %s", want);
        cr_assert_eq(b.len, 6 + strlen(want));
        cr_assert_str_eq(b.s + 6, want);
    }
    cr_assert_eq(strncmp(b.s, "prefix", 6), 0);
    free(b.s);
    /* Again into a roomy buffer, where short strings take their one-pass path. */
    struct json_buf roomy = { malloc(8192), 0, 8192 };
    cr_assert(json_buf_put(&roomy, "prefix", 6) == 0);
    cr_assert_eq(json_print(item, &roomy), rc);
    if (want != NULL)
        cr_assert_str_eq(roomy.s + 6, want);
    free(roomy.s);
    cJSON_free(want);
    return rc;
}

static void same_number(double d)
{
    cJSON *n = cJSON_CreateNumber(d);
    same(n);
    cJSON *o = cJSON_CreateObject();
    cJSON_AddNumberToObject(o, "n", d);   /* and inside an object, where the log has them */
    same(o);
    cJSON_Delete(o);
    cJSON_Delete(n);
}

Test(json_print, numbers_print_as_cjson_prints_them)
{
    static const double cases[] = {
        0, 1, -1, 2, 3, 7, 10, 15, 100, 1000, 12345, -12345, 2147483647.0, -2147483648.0, 2147483648.0,
        -2147483649.0, 4294967296.0, 9007199254740991.0, 9007199254740992.0, 9007199254740993.0,
        999999999999999.0, -999999999999999.0, 1e15, -1e15, 1e15 + 1, 1e16, 1e17, 1e21, 1e300, -1e300,
        0.5, -0.5, 0.1, 0.2, 0.3, 1.0 / 3, 2.0 / 3, 3.14159, 4.35, 1e-7, 1e-300, 5e-324, DBL_MIN, DBL_MAX,
        -DBL_MAX, 123456.789, 0.000001, 1.5e10, 2.5, 99.99, 4.2, 3.7, -0.0,
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        same_number(cases[i]);
    same_number(NAN);
    same_number(INFINITY);
    same_number(-INFINITY);
    for (long long v = -1100; v <= 1100; v++)
        same_number((double)v);
    srand(7);
    for (int i = 0; i < 20000; i++) {
        long long big = ((long long)rand() << 31) ^ rand();
        same_number((double)(big % 2000000000000000LL) - 1e15);       /* around the 10^15 edge */
        same_number((double)rand() / ((double)rand() + 1));
        same_number(ldexp((double)rand(), rand() % 200 - 100));
    }
}

Test(json_print, strings_escape_as_cjson_escapes_them)
{
    char s[300];
    for (int c = 1; c < 256; c++) {
        snprintf(s, sizeof s, "a%cb", c);
        cJSON *v = cJSON_CreateString(s);
        same(v);
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, s, cJSON_CreateString(s));   /* keys are escaped the same way */
        same(o);
        cJSON_Delete(o);
        cJSON_Delete(v);
    }
    for (int i = 0; i < 255; i++)
        s[i] = (char)(i + 1);
    s[255] = '\0';
    cJSON *all = cJSON_CreateString(s);
    same(all);
    cJSON_Delete(all);
    static char big[100001];                     /* long strings take the counted path */
    for (int i = 0; i < 100000; i++)
        big[i] = (char)(i % 7 == 0 ? '\n' : i % 11 == 0 ? 0x01 : i % 13 == 0 ? '"' : 'a' + i % 26);
    cJSON *bigs = cJSON_CreateString(big);
    same(bigs);
    cJSON_Delete(bigs);
    static const char *const texts[] = { "", "\"", "\\", "\"\\\"", "caf\xc3\xa9", "\xff\xfe", "<script>", "\x7f",
                                         "line\nbreak\r\n\ttab", "\x01\x1f" };
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        cJSON *v = cJSON_CreateString(texts[i]);
        same(v);
        cJSON_Delete(v);
    }
}

/* Strings are copied eight bytes at a time while no byte needs escaping: every byte that
 * does (and bytes near them: above 0x7f, 0x20, 0x21, 0x23, 0x5b, 0x5d) at every position of
 * strings of every length around the 8-byte steps. */
Test(json_print, escapes_at_every_position_of_longer_strings)
{
    static const unsigned char special[] = { 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20, 0x21, '"', 0x23,
                                             '\\', 0x5b, 0x5d, 0x7f, 0x80, 0xa2, 0xdc, 0xff };
    char s[64];
    for (int len = 1; len <= 40; len++)
        for (int at = 0; at < len; at++)
            for (size_t k = 0; k < sizeof special; k++) {
                for (int i = 0; i < len; i++)
                    s[i] = (char)('a' + (i * 7) % 26);
                s[at] = (char)special[k];
                s[len] = '\0';
                cJSON *v = cJSON_CreateString(s);
                same(v);
                cJSON_Delete(v);
            }
    srand(11);
    for (int n = 0; n < 20000; n++) {
        int len = rand() % 48;
        for (int i = 0; i < len; i++) {
            int r = rand() % 8;
            s[i] = (char)(r == 0 ? special[rand() % sizeof special] : r == 1 ? 1 + rand() % 255 : 'A' + rand() % 58);
        }
        s[len] = '\0';
        cJSON *o = cJSON_CreateObject();
        cJSON_AddItemToObject(o, s, cJSON_CreateString(s));
        same(o);
        cJSON_Delete(o);
    }
}

Test(json_print, edge_nodes_print_or_fail_as_in_cjson)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "raw", cJSON_CreateRaw("4.35"));
    cJSON_AddItemToObject(o, "empty_a", cJSON_CreateArray());
    cJSON_AddItemToObject(o, "empty_o", cJSON_CreateObject());
    cJSON_AddNullToObject(o, "null");
    cJSON_AddTrueToObject(o, "t");
    cJSON_AddFalseToObject(o, "f");
    cJSON *nameless = cJSON_CreateString("v");   /* a member without a key prints as "" */
    cJSON_AddItemToArray(o, nameless);
    cJSON *textless = cJSON_CreateString("x");   /* a string without its text prints as "" */
    cJSON_AddItemToObject(o, "textless", textless);
    cJSON_free(textless->valuestring);
    textless->valuestring = NULL;
    cr_assert_eq(same(o), 0);
    cJSON *raw = cJSON_CreateRaw("1");          /* a raw item without text: cJSON refuses */
    cJSON_free(raw->valuestring);
    raw->valuestring = NULL;
    cJSON_AddItemToObject(o, "bad", raw);
    cr_assert_eq(same(o), -1);
    cJSON_Delete(o);
    cJSON *inv = cJSON_CreateNull();
    inv->type = cJSON_Invalid;
    cr_assert_eq(same(inv), -1);
    cJSON_Delete(inv);
    cr_assert_eq(json_print(NULL, &(struct json_buf){ 0 }), -1);
}

Test(json_print, deep_trees_are_left_to_cjson)
{
    cJSON *root = cJSON_CreateArray(), *at = root;
    for (int i = 0; i < JSON_PRINT_DEPTH + 5; i++) {
        cJSON *next = cJSON_CreateArray();
        cJSON_AddItemToArray(at, next);
        at = next;
    }
    struct json_buf b = { 0 };
    cr_assert_eq(json_print(root, &b), -1);
    cr_assert_eq(b.len, 0);
    free(b.s);
    cJSON_Delete(root);
}

/* Seeded random trees of every node kind, a few levels deep. */
static cJSON *random_tree(int depth)
{
    int kind = rand() % (depth > 4 ? 6 : 8);
    char key[16];
    switch (kind) {
    case 0: return cJSON_CreateNull();
    case 1: return cJSON_CreateBool(rand() % 2);
    case 2: return cJSON_CreateNumber(rand() % 3 ? (double)(rand() % 100000 - 50000) : rand() / 7.0);
    case 3: {
        char s[12];
        for (int i = 0; i < 11; i++)
            s[i] = (char)(1 + rand() % 255);
        s[11] = '\0';
        return cJSON_CreateString(s);
    }
    case 4: return cJSON_CreateRaw("[1,2]");
    case 5: return cJSON_CreateString("plain");
    case 6: {
        cJSON *a = cJSON_CreateArray();
        for (int n = rand() % 5; n > 0; n--)
            cJSON_AddItemToArray(a, random_tree(depth + 1));
        return a;
    }
    default: {
        cJSON *o = cJSON_CreateObject();
        for (int n = rand() % 5; n > 0; n--) {
            snprintf(key, sizeof key, "k%d\t", rand() % 100);
            cJSON_AddItemToObject(o, key, random_tree(depth + 1));
        }
        return o;
    }
    }
}

Test(json_print, random_trees_print_as_in_cjson)
{
    srand(11);
    for (int i = 0; i < 3000; i++) {
        cJSON *t = random_tree(0);
        same(t);
        cJSON_Delete(t);
    }
}
