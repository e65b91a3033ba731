/* SPDX-License-Identifier: MIT */
#include "tcpd/hist.h"

/* Values below HIST_SUB are their own bucket; above, log2 picks the group. */
static unsigned
bucket_of(uint64_t v)
{
	unsigned msb, shift;

	if (v < HIST_SUB)
		return (unsigned)v;
	msb = 63u - (unsigned)__builtin_clzll(v);
	shift = msb - HIST_SUB_BITS;
	return (shift + 1) * HIST_SUB + (unsigned)((v >> shift) & (HIST_SUB - 1));
}

/* The largest value that falls in bucket b. */
static uint64_t
bucket_top(unsigned b)
{
	unsigned group = b / HIST_SUB, sub = b % HIST_SUB, shift;

	if (group == 0)
		return b;
	shift = group - 1;
	return (((uint64_t)(HIST_SUB + sub) + 1) << shift) - 1;
}

void
hist_add(struct hist *h, uint64_t value)
{
	h->n[bucket_of(value)]++;
	h->count++;
	h->sum += value;
	if (value > h->max)
		h->max = value;
}

uint64_t
hist_quantile(const struct hist *h, double q)
{
	uint64_t want, seen = 0;
	unsigned b;

	if (h->count == 0)
		return 0;
	want = (uint64_t)(q * (double)h->count + 0.5);
	if (want < 1)
		want = 1;
	for (b = 0; b < HIST_BUCKETS; b++) {
		seen += h->n[b];
		if (seen >= want)
			return bucket_top(b) < h->max ? bucket_top(b) : h->max;
	}
	return h->max;
}
