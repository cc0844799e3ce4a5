/* json_arena_test: a tree parsed into the arena is the tree cJSON parses (printed the same),
 * bad text gives NULL and no arena, and cJSON allocates with malloc again afterwards. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_arena.h"

static void same_as_cjson(const char *text)
{
    struct json_arena *a = NULL;
    cJSON *doc = json_arena_parse(text, &a);
    cJSON *ref = cJSON_ParseWithOpts(text, NULL, 1);
    cr_assert_not_null(ref, "the test's text is JSON: %.80s", text);
    cr_assert_not_null(doc, "%.80s", text);
    cr_assert_not_null(a);
    char *x = cJSON_PrintUnformatted(doc), *y = cJSON_PrintUnformatted(ref);
    cr_assert_str_eq(x, y);
    cr_assert(cJSON_Compare(doc, ref, 1));
    free(x);
    free(y);
    cJSON_Delete(ref);
    json_arena_free(a);
}

Test(json_arena, trees_are_cjsons)
{
    same_as_cjson("{}");
    same_as_cjson("[1,2.5,-3e10,\"a\\u00e9\\n\",true,false,null,{\"k\":[[],{}]}]");
    same_as_cjson("{\"state\":{\"people\":[{\"id\":\"p1\",\"skills\":[\"sql\",\"go\"]}],\"seq\":12}}");
}

/* Larger than a chunk, and a string larger than a chunk on its own. */
Test(json_arena, big_documents_and_big_strings)
{
    size_t n = 200000;
    char *text = malloc(n * 40 + 64), *p = text;
    p += sprintf(p, "[");
    for (size_t i = 0; i < n; i++)
        p += sprintf(p, "%s{\"id\":\"p%zu\",\"v\":%zu}", i ? "," : "", i, i);
    sprintf(p, "]");
    same_as_cjson(text);
    free(text);
    size_t big = (3u << 20) + 7;
    text = malloc(big + 8);
    text[0] = '"';
    memset(text + 1, 'x', big);
    strcpy(text + 1 + big, "\"");
    same_as_cjson(text);
    free(text);
}

Test(json_arena, bad_text_gives_nothing)
{
    static const char *const bad[] = { "", "{", "[1,2", "{\"a\":}", "{} x", "[\"\\u00\"]", "nul" };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        struct json_arena *a = (struct json_arena *)&a;   /* anything but NULL */
        cr_assert_null(json_arena_parse(bad[i], &a), "%s", bad[i]);
        cr_assert_null(a, "no arena is left for \"%s\"", bad[i]);
    }
    json_arena_free(NULL);
}

/* The hooks are cJSON's again once the parse is over: a node made afterwards is malloc's
 * (free() on it is right, which ASan checks), and a tree parsed by cJSON deletes as usual. */
Test(json_arena, cjson_allocates_with_malloc_after_a_parse)
{
    struct json_arena *a = NULL;
    cJSON *doc = json_arena_parse("{\"a\":[1,2,3]}", &a);
    cr_assert_not_null(doc);
    cJSON *s = cJSON_CreateString("made after");
    cr_assert_not_null(s);
    cr_assert_str_eq(s->valuestring, "made after");
    free(s->valuestring);
    free(s);
    cJSON *t = cJSON_Parse("{\"b\":\"c\"}");
    cr_assert_not_null(t);
    cJSON_Delete(t);
    json_arena_free(a);
    /* And after a failed parse too. */
    cr_assert_null(json_arena_parse("{", &a));
    s = cJSON_CreateString("after a failure");
    free(s->valuestring);
    free(s);
}
