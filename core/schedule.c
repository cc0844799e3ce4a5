/* schedule: a binary min-heap of struct due with an insertion counter as the last
 * tie-break. Must never depend on anything but the items' values and the order
 * they were pushed (no addresses, no time, no randomness). */
#include "schedule.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

struct item {
    struct due due;
    unsigned long long seq;   /* push order; 64 bits never wrap in practice */
};

struct schedule {
    struct item *items;
    size_t len, cap;
    unsigned long long next_seq;
};

static bool before(const struct item *a, const struct item *b)
{
    if (a->due.when != b->due.when)
        return a->due.when < b->due.when;
    if (a->due.kind != b->due.kind)
        return a->due.kind < b->due.kind;
    if (a->due.key != b->due.key)
        return a->due.key < b->due.key;
    return a->seq < b->seq;
}

struct schedule *schedule_new(void)
{
    return calloc(1, sizeof(struct schedule));
}

void schedule_free(struct schedule *s)
{
    if (s == NULL)
        return;
    free(s->items);
    free(s);
}

int schedule_push(struct schedule *s, struct due d)
{
    if (s->len == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        if (cap < s->cap || cap > SIZE_MAX / sizeof(struct item))
            return -ENOMEM;
        struct item *items = realloc(s->items, cap * sizeof(struct item));
        if (items == NULL)
            return -ENOMEM;
        s->items = items;
        s->cap = cap;
    }
    struct item it = { .due = d, .seq = s->next_seq++ };
    size_t i = s->len++;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!before(&it, &s->items[parent]))
            break;
        s->items[i] = s->items[parent];
        i = parent;
    }
    s->items[i] = it;
    return 0;
}

bool schedule_peek(const struct schedule *s, struct due *out)
{
    if (s->len == 0)
        return false;
    *out = s->items[0].due;
    return true;
}

/* Puts it at slot i of the heap's first n slots and sifts it down. */
static void sift_down(struct item *items, size_t n, size_t i, struct item it)
{
    for (;;) {
        size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && before(&items[child + 1], &items[child]))
            child++;
        if (!before(&items[child], &it))
            break;
        items[i] = items[child];
        i = child;
    }
    items[i] = it;
}

bool schedule_pop(struct schedule *s, struct due *out)
{
    if (s->len == 0)
        return false;
    if (out)
        *out = s->items[0].due;
    struct item last = s->items[--s->len];
    if (s->len > 0)
        sift_down(s->items, s->len, 0, last);
    return true;
}

size_t schedule_filter(struct schedule *s, bool (*keep)(const struct due *d, void *ctx), void *ctx)
{
    size_t n = 0, was = s->len;
    for (size_t i = 0; i < was; i++)
        if (keep(&s->items[i].due, ctx))
            s->items[n++] = s->items[i];
    s->len = n;
    /* Floyd: sift down every parent, last first. Items keep their push numbers, so the order
     * (a total one) is the same as before. */
    for (size_t i = n / 2; i-- > 0;)
        sift_down(s->items, n, i, s->items[i]);
    return was - n;
}

size_t schedule_size(const struct schedule *s)
{
    return s->len;
}

void schedule_clear(struct schedule *s)
{
    s->len = 0;
    s->next_seq = 0;
}
