/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/ipcount.h"

struct ipcount_slot {
	uint8_t		key[16];
	unsigned	count;		/* 0 = empty slot */
};

/* FNV-1a: the keys are not secret-dependent, and a peer controls few bits. */
static size_t
hash_key(const uint8_t key[16])
{
	uint64_t h = 14695981039346656037ULL;
	int i;

	for (i = 0; i < 16; i++) {
		h ^= key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

static struct ipcount_slot *
find(const struct ipcount *t, const uint8_t key[16])
{
	size_t i;

	if (t->cap == 0)
		return NULL;
	for (i = hash_key(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
		if (t->slots[i].count == 0)
			return NULL;
		if (memcmp(t->slots[i].key, key, 16) == 0)
			return &t->slots[i];
	}
}

static void
place(struct ipcount_slot *slots, size_t cap, const struct ipcount_slot *s)
{
	size_t i = hash_key(s->key) & (cap - 1);

	while (slots[i].count != 0)
		i = (i + 1) & (cap - 1);
	slots[i] = *s;
}

static int
grow(struct ipcount *t)
{
	size_t cap = t->cap ? t->cap * 2 : 64, i;
	struct ipcount_slot *slots = calloc(cap, sizeof(*slots));

	if (slots == NULL)
		return -1;
	for (i = 0; i < t->cap; i++)
		if (t->slots[i].count != 0)
			place(slots, cap, &t->slots[i]);
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

unsigned
ipcount_get(const struct ipcount *t, const uint8_t key[16])
{
	const struct ipcount_slot *s = find(t, key);

	return s ? s->count : 0;
}

int
ipcount_inc(struct ipcount *t, const uint8_t key[16])
{
	struct ipcount_slot *s = find(t, key), fresh = { .count = 1 };

	if (s != NULL) {
		s->count++;
		return 0;
	}
	/* Keep the load at most one half, so probes stay short. */
	if ((t->used + 1) * 2 > t->cap && grow(t) == -1) {
		errno = ENOMEM;
		return -1;
	}
	memcpy(fresh.key, key, 16);
	place(t->slots, t->cap, &fresh);
	t->used++;
	return 0;
}

void
ipcount_dec(struct ipcount *t, const uint8_t key[16])
{
	struct ipcount_slot *s = find(t, key);
	size_t hole, i, home;

	if (s == NULL || --s->count > 0)
		return;
	/* Backward-shift deletion: no tombstones to slow later lookups. */
	hole = (size_t)(s - t->slots);
	for (i = (hole + 1) & (t->cap - 1); t->slots[i].count != 0;
	    i = (i + 1) & (t->cap - 1)) {
		home = hash_key(t->slots[i].key) & (t->cap - 1);
		/* Move slot i into the hole unless its home lies cyclically in (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			t->slots[hole] = t->slots[i];
			hole = i;
		}
	}
	t->slots[hole].count = 0;
	t->used--;
}

void
ipcount_free(struct ipcount *t)
{
	free(t->slots);
	*t = (struct ipcount){ 0 };
}
