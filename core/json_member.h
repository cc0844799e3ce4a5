/* json_member: cJSON_GetObjectItemCaseSensitive for the hot paths (facts are looked up several
 * times each as they are committed, applied and dispatched, mostly for keys they do not have):
 * the first character is compared before strcmp is called. Same answer in every case: the
 * first member named k, NULL when there is none, the search ending at a member without a name
 * as cJSON's does. It must never answer differently from cJSON. */
#ifndef TANDEM_JSON_MEMBER_H
#define TANDEM_JSON_MEMBER_H

#include <string.h>

#include <cjson/cJSON.h>

static inline cJSON *json_member(const cJSON *o, const char *k)
{
    if (o == NULL || k == NULL)
        return NULL;
    for (cJSON *it = o->child; it != NULL && it->string != NULL; it = it->next)
        if (it->string[0] == k[0] && strcmp(it->string, k) == 0)
            return it;
    return NULL;
}

#endif
