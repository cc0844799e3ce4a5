/* json_member_test: json_member must find what cJSON_GetObjectItemCaseSensitive finds, for
 * every key, in objects with repeated keys, keys that share a first letter, empty keys, a
 * member without a name, arrays and NULL. */
#include <criterion/criterion.h>

#include <stdio.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "json_member.h"

static const char *const KEYS[] = { "", "m", "match", "matches", "Match", "mentors", "seq", "s", "ts", "type", "t",
                                    "request", "person", "program", "phase", "x" };
#define N_KEYS (sizeof KEYS / sizeof *KEYS)

static void same_answers(const cJSON *o)
{
    for (size_t k = 0; k < N_KEYS; k++)
        cr_assert_eq(json_member(o, KEYS[k]), cJSON_GetObjectItemCaseSensitive(o, KEYS[k]), "key \"%s\"", KEYS[k]);
    cr_assert_eq(json_member(o, NULL), cJSON_GetObjectItemCaseSensitive(o, NULL));
}

Test(json_member, finds_what_cjson_finds)
{
    srand(5);
    for (int round = 0; round < 2000; round++) {
        cJSON *o = cJSON_CreateObject();
        for (int n = rand() % 8; n > 0; n--)
            cJSON_AddNumberToObject(o, KEYS[rand() % N_KEYS], n);   /* repeats allowed */
        same_answers(o);
        if (o->child && rand() % 3 == 0) {
            cJSON *mid = o->child->next ? o->child->next : o->child;
            char *name = mid->string;                                   /* a member without a name */
            mid->string = NULL;
            same_answers(o);
            mid->string = name;
        }
        cJSON_Delete(o);
    }
    cJSON *a = cJSON_CreateArray();
    cJSON_AddItemToArray(a, cJSON_CreateNumber(1));
    same_answers(a);
    same_answers(NULL);
    cJSON_Delete(a);
}
