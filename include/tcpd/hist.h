/* SPDX-License-Identifier: MIT */
#ifndef TCPD_HIST_H
#define TCPD_HIST_H

#include <stdint.h>

/*
 * A latency histogram with fixed memory: values (ns) fall in buckets of a
 * power of two split into HIST_SUB linear parts, so any reported percentile
 * is within 1/HIST_SUB (about 3%) of the true value; the maximum is exact.
 */
#define HIST_SUB_BITS	5
#define HIST_SUB	(1u << HIST_SUB_BITS)
#define HIST_BUCKETS	(64u * HIST_SUB)

struct hist {
	uint64_t	count;
	uint64_t	max;
	uint64_t	sum;
	uint64_t	n[HIST_BUCKETS];
};

void	 hist_add(struct hist *h, uint64_t value);
/* The value at or below which q (0..1) of the values fall; 0 when empty. */
uint64_t hist_quantile(const struct hist *h, double q);

#endif
