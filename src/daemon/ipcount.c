/* SPDX-License-Identifier: MIT */
#include <sys/random.h>

#include <endian.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/ipcount.h"

struct ipcount_slot {
	uint8_t		key[16];
	unsigned	count;		/* 0 = empty slot */
};

static uint64_t sip_key[2];
static bool sip_keyed;

static uint64_t
rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static void
sip_round(uint64_t v[4])
{
	v[0] += v[1]; v[1] = rotl(v[1], 13); v[1] ^= v[0]; v[0] = rotl(v[0], 32);
	v[2] += v[3]; v[3] = rotl(v[3], 16); v[3] ^= v[2];
	v[0] += v[3]; v[3] = rotl(v[3], 21); v[3] ^= v[0];
	v[2] += v[1]; v[1] = rotl(v[1], 17); v[1] ^= v[2]; v[2] = rotl(v[2], 32);
}

/* A per-process random key, so no peer can know which addresses collide. */
static void
seed_key(void)
{
	struct timespec ts;

	if (getrandom(sip_key, sizeof(sip_key), GRND_NONBLOCK) != (ssize_t)sizeof(sip_key)) {
		/* Early boot without entropy: still different per process and start. */
		clock_gettime(CLOCK_MONOTONIC, &ts);
		sip_key[0] = (uint64_t)ts.tv_nsec ^ ((uint64_t)getpid() << 32);
		sip_key[1] = (uint64_t)ts.tv_sec ^ (uint64_t)(uintptr_t)&ts;
	}
	sip_keyed = true;
}

/*
 * SipHash-1-3 of the 16-byte key: a peer with an IPv6 /64 picks 64 bits of
 * it, and an unkeyed hash would let it pick colliding addresses.
 */
uint64_t
ipcount_hash(const uint8_t key[16])
{
	uint64_t v[4], m;
	int w;

	if (!sip_keyed)
		seed_key();
	v[0] = sip_key[0] ^ 0x736f6d6570736575ULL;
	v[1] = sip_key[1] ^ 0x646f72616e646f6dULL;
	v[2] = sip_key[0] ^ 0x6c7967656e657261ULL;
	v[3] = sip_key[1] ^ 0x7465646279746573ULL;
	for (w = 0; w < 2; w++) {
		memcpy(&m, key + 8 * w, 8);
		m = le64toh(m);
		v[3] ^= m;
		sip_round(v);
		v[0] ^= m;
	}
	m = (uint64_t)16 << 56;
	v[3] ^= m;
	sip_round(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	sip_round(v);
	sip_round(v);
	sip_round(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

static size_t
hash_key(const uint8_t key[16])
{
	return (size_t)ipcount_hash(key);
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

size_t
ipcount_longest_probe(const struct ipcount *t)
{
	size_t i, home, probe, longest = 0;

	for (i = 0; i < t->cap; i++) {
		if (t->slots[i].count == 0)
			continue;
		home = hash_key(t->slots[i].key) & (t->cap - 1);
		probe = (i - home) & (t->cap - 1);
		if (probe > longest)
			longest = probe;
	}
	return longest;
}
