/* SPDX-License-Identifier: MIT */
#include <criterion/criterion.h>

#include "tcpd/hist.h"

static struct hist h;

Test(hist, small_values_are_exact)
{
	uint64_t v;

	h = (struct hist){ 0 };
	for (v = 1; v <= 20; v++)
		hist_add(&h, v);
	cr_assert_eq(hist_quantile(&h, 0.5), 10);
	cr_assert_eq(hist_quantile(&h, 1.0), 20);
	cr_assert_eq(h.max, 20);
	cr_assert_eq(h.count, 20);
}

Test(hist, quantiles_within_the_bucket_error)
{
	uint64_t v, q;
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	unsigned i;

	h = (struct hist){ 0 };
	/* 1..100000 ns evenly: the q-quantile is q * 100000. */
	for (v = 1; v <= 100000; v++)
		hist_add(&h, v);
	for (i = 0; i < 4; i++) {
		double want = qs[i] * 100000;

		q = hist_quantile(&h, qs[i]);
		cr_assert(q >= want && q <= want * (1 + 1.0 / HIST_SUB) + 1,
		    "q%.3f = %llu, want about %.0f", qs[i], (unsigned long long)q, want);
	}
	cr_assert_eq(hist_quantile(&h, 1.0), 100000, "the maximum is exact");
}

Test(hist, huge_values_and_empty)
{
	h = (struct hist){ 0 };
	cr_assert_eq(hist_quantile(&h, 0.5), 0);
	hist_add(&h, UINT64_MAX / 2);
	cr_assert_eq(hist_quantile(&h, 0.5), UINT64_MAX / 2);
}
