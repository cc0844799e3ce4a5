/* protocol_test: a line read in place (protocol_parse_view) must give what protocol_parse
 * gives: the same tree (printed the same), or the same refusal with the same reason, and a
 * line it leaves to cJSON must reach cJSON unchanged. */
#include <criterion/criterion.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "protocol.h"

/* Parses line both ways and compares; returns whether the in-place reader borrowed it. */
static bool same(const char *line)
{
    size_t len = strlen(line);
    char why_heap[256], why_view[256];
    cJSON *heap = protocol_parse(line, len, why_heap, sizeof why_heap);
    char *buf = malloc(len + 2);
    memcpy(buf, line, len);
    buf[len] = '\n';
    buf[len + 1] = '\0';
    struct protocol_view v;
    bool borrowed = false;
    cJSON *view = protocol_parse_view(buf, len, &v, &borrowed, why_view, sizeof why_view);
    cr_assert_eq(buf[len], '\n', "the byte after the line is restored: %s", line);
    if (!heap) {
        cr_assert_null(view, "refused by protocol_parse (%s), taken in place: %s", why_heap, line);
        cr_assert_str_eq(why_view, why_heap, "%s", line);
    } else {
        cr_assert_not_null(view, "taken by protocol_parse, refused in place (%s): %s", why_view, line);
        char *a = cJSON_PrintUnformatted(heap), *b = cJSON_PrintUnformatted(view);
        cr_assert_str_eq(b, a, "%s", line);
        /* Types, values and links as cJSON makes them, member by member. */
        const cJSON *x = heap->child, *y = view->child;
        cr_assert_eq(view->type, heap->type);
        cr_assert_eq(view->child->prev != NULL, heap->child->prev != NULL);
        for (; x && y; x = x->next, y = y->next) {
            cr_assert_eq(y->type, x->type, "%s", line);
            cr_assert_str_eq(y->string, x->string);
            cr_assert_eq(y->valueint, x->valueint, "%s", line);
            cr_assert(y->valuedouble == x->valuedouble && signbit(y->valuedouble) == signbit(x->valuedouble));
            if (x->valuestring)
                cr_assert_str_eq(y->valuestring, x->valuestring);
        }
        cr_assert(x == NULL && y == NULL);
        cr_assert_eq(view->child->prev, borrowed ? &v.members[cJSON_GetArraySize(view) - 1] : view->child->prev);
        free(a);
        free(b);
        if (!borrowed)
            cJSON_Delete(view);
        cJSON_Delete(heap);
    }
    if (view && !borrowed)
        cr_assert_eq(memcmp(buf, line, len), 0, "a line cJSON parsed was left as it was: %s", line);
    free(buf);
    return borrowed;
}

Test(protocol, common_lines_are_read_in_place_as_cjson_reads_them)
{
    cr_assert(same("{\"cmd\":\"person.add\",\"id\":\"p9\",\"level\":3,\"department\":\"Eng\"}"));
    cr_assert(same("{ \"cmd\" : \"person.add\" , \"id\" : \"p9\", \"level\": 3 }  "));
    cr_assert(same("{\"cmd\":\"meeting.held\",\"match\":17}"));
    cr_assert(same("{\"cmd\":\"meeting.held\",\"match\":-0}"));
    cr_assert(same("{\"cmd\":\"meeting.held\",\"match\":007}"));
    cr_assert(same("{\"cmd\":\"meeting.held\",\"match\":999999999999999}"));
    cr_assert(same("{\"cmd\":\"meeting.held\",\"match\":-2147483649}"));
    cr_assert(same("{\"cmd\":\"meeting.held\",\"match\":2147483648}"));
    cr_assert(same("{\"cmd\":\"status\"}"));
    cr_assert(same("{\"cmd\":\"person.add\",\"id\":\"caf\xc3\xa9\",\"name\":\"Ana Ru\xc3\xadz\"}"));
    /* Refused the same way: unknown command or field, wrong type, a key twice. */
    cr_assert(!same("{\"cmd\":\"nope\"}"));
    cr_assert(!same("{\"cmd\":\"person.add\",\"idd\":\"p9\"}"));
    cr_assert(!same("{\"cmd\":\"person.add\",\"level\":\"3\"}"));
    cr_assert(!same("{\"cmd\":\"person.add\",\"id\":\"a\",\"id\":\"b\"}"));
    cr_assert(!same("{\"Cmd\":\"status\"}"));
    cr_assert(!same("{\"id\":\"p9\"}"));
}

Test(protocol, other_lines_go_to_cjson)
{
    static const char *const lines[] = {
        "{\"cmd\":\"person.add\",\"id\":\"p\\u00e9\"}", "{\"cmd\":\"person.add\",\"id\":\"a\\\"b\"}",
        "{\"cmd\":\"person.add\",\"id\":\"p9\",\"tenure_years\":2.5}", "{\"cmd\":\"meeting.held\",\"match\":1e2}",
        "{\"cmd\":\"meeting.held\",\"match\":9007199254740993}", "{\"cmd\":\"meeting.held\",\"match\":1234567890123456}",
        "{\"cmd\":\"person.update\",\"id\":\"p9\",\"name\":null}", "{\"cmd\":\"person.add\",\"skills\":[\"a\",\"b\"]}",
        "{\"cmd\":\"person.add\",\"attrs\":{\"q\":\"x\"}}", "{\"cmd\":\"status\"} junk", "{\"cmd\":\"status\"}}",
        "{\"cmd\":\"status\",}", "{}", "[]", "", " ", "{", "{\"cmd\"", "{\"cmd\":}", "{\"cmd\":\"status\"",
        "\t{\"cmd\":\"status\"}", "{\"cmd\":\t\"status\"}", "\xef\xbb\xbf{\"cmd\":\"status\"}", "{\"cmd\":\"st\x01us\"}",
        "{\"cmd\":\"meeting.held\",\"match\":-}", "{\"cmd\":\"meeting.held\",\"match\":+1}", "{\"cmd\":\"meeting.held\",\"match\":1.}",
        "{\"cmd\":\"meeting.held\",\"match\":true}", "{\"cmd\":\"person.add\",\"id\":\"\\u0000\"}", "{\"cmd\":\"x\xff\"}",
        "{\"cmd\":\"meeting.held\",\"match\":1 2}", "{\"cmd\":\"meeting.held\" \"match\":1}", "{\"a\":1,\"b\":2,\"c\":3,\"d\":4,\"e\":5,\"f\":6,\"g\":7,\"h\":8,\"i\":9,\"j\":10,\"k\":11,\"l\":12,\"m\":13,\"n\":14,\"o\":15,\"p\":16,\"q\":17,\"r\":18,\"s\":19,\"t\":20,\"u\":21,\"v\":22,\"w\":23,\"x\":24,\"y\":25}",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        same(lines[i]);
}

/* Random lines near the common shape: every mutation must read the same both ways. */
Test(protocol, mutated_lines_read_the_same_both_ways)
{
    static const char base[] = "{\"cmd\":\"person.add\",\"id\":\"c1-42\",\"level\":3,\"department\":\"Eng\",\"capacity\":2}";
    static const char alphabet[] = "{}[]\",: -0123456789.eE+\\u\tabcdnulltrue\x01\x7f\xc3\xa9";
    char line[256];
    srand(5);
    int borrowed = 0;
    for (int n = 0; n < 50000; n++) {
        size_t len = sizeof base - 1;
        memcpy(line, base, len + 1);
        int edits = 1 + rand() % 3;
        for (int k = 0; k < edits; k++) {
            size_t at = (size_t)rand() % (len + 1);
            char ch = alphabet[rand() % (sizeof alphabet - 1)];
            switch (rand() % 3) {
            case 0:   /* replace */
                if (at < len)
                    line[at] = ch;
                break;
            case 1:   /* insert */
                if (len + 1 < sizeof line) {
                    memmove(line + at + 1, line + at, len - at + 1);
                    line[at] = ch;
                    len++;
                }
                break;
            default:  /* delete */
                if (at < len) {
                    memmove(line + at, line + at + 1, len - at);
                    len--;
                }
            }
        }
        line[len] = '\0';
        if (strlen(line) != len)
            continue;
        borrowed += same(line);
    }
    cr_assert_gt(borrowed, 100, "some mutated lines are still of the common shape");
}

/* A NUL byte inside the line (a client's bug, or a fuzzer's) is refused by its offset, by both
 * readers, and neither reads past the line (the fuzzer once found strndup stopping at it). */
Test(protocol, a_nul_byte_is_refused_at_its_offset)
{
    static const char line[] = "{\"cmd\":\"st\0atus\"}";
    size_t len = sizeof line - 1;
    char why[256];
    cr_assert_null(protocol_parse(line, len, why, sizeof why));
    cr_assert_str_eq(why, "invalid UTF-8 or a NUL byte at offset 10");
    char *buf = malloc(len + 1);
    memcpy(buf, line, len);
    buf[len] = '\n';
    struct protocol_view v;
    bool borrowed = false;
    cr_assert_null(protocol_parse_view(buf, len, &v, &borrowed, why, sizeof why));
    cr_assert_str_eq(why, "invalid UTF-8 or a NUL byte at offset 10");
    free(buf);
}
