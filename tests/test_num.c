/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tcpd/num.h"

static int
parse(const char *s, int64_t min, int64_t max, int64_t *v)
{
	errno = 0;
	return num_parse(s, strlen(s), min, max, v);
}

Test(num, integers_in_range)
{
	int64_t v;

	cr_assert_eq(parse("0", 0, 10, &v), 0);
	cr_assert_eq(v, 0);
	cr_assert_eq(parse("65535", 1, 65535, &v), 0);
	cr_assert_eq(v, 65535);
	cr_assert_eq(parse("9223372036854775807", 0, INT64_MAX, &v), 0);
	cr_assert_eq(v, INT64_MAX);
	cr_assert_eq(parse("-9223372036854775808", INT64_MIN, INT64_MAX, &v), 0);
	cr_assert_eq(v, INT64_MIN);
	cr_assert_eq(parse("-1", -1, 5, &v), 0);
	cr_assert_eq(v, -1);
	cr_assert_eq(parse("007", 0, 10, &v), 0);
	cr_assert_eq(v, 7);
}

Test(num, out_of_range_is_erange_without_overflow)
{
	static const struct { const char *s; int64_t min, max; } cases[] = {
		{ "65536", 1, 65535 }, { "70000", 1, 65535 }, { "0", 1, 65535 },
		{ "4294967297", 1, 100000 }, { "9223372036854775808", 0, INT64_MAX },
		{ "99999999999999999999", 0, INT64_MAX }, { "18446744073709551615", -1, INT64_MAX },
		{ "-9223372036854775809", INT64_MIN, 0 }, { "-2", -1, 5 }, { "5", 0, 0 },
		{ "3", -5, -1 },
	};
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(parse(cases[i].s, cases[i].min, cases[i].max, &v), -1, "%s",
		    cases[i].s);
		cr_assert_eq(errno, ERANGE, "%s", cases[i].s);
	}
}

Test(num, malformed_is_einval)
{
	static const char *const bad[] = { "", "-", "+1", " 1", "1 ", "0x10", "1e3",
	    "1.5", "--1", "nan", "inf", "-1" };
	size_t i;
	int64_t v;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i], 0, 100, &v), -1, "'%s'", bad[i]);
		cr_assert_eq(errno, EINVAL, "'%s'", bad[i]);
	}
	cr_assert_eq(num_parse("12x", 2, 0, 100, &v), 0, "only len bytes are read");
	cr_assert_eq(v, 12);
}

Test(num, reals_are_finite_decimals)
{
	static const char *const bad[] = { "nan", "inf", "-1", "1e3", "0x1p3", ".", "1.",
	    "", "1.2.3", " 1" };
	double d;
	size_t i;

	cr_assert_eq(num_parse_real("2", 0, 10, &d), 0);
	cr_assert_float_eq(d, 2.0, 1e-9);
	cr_assert_eq(num_parse_real("0.25", 0, 10, &d), 0);
	cr_assert_float_eq(d, 0.25, 1e-9);
	cr_assert_eq(num_parse_real(".5", 0, 10, &d), 0);
	cr_assert_float_eq(d, 0.5, 1e-9);
	cr_assert_eq(num_parse_real("10.5", 0, 10, &d), -1);
	cr_assert_eq(errno, ERANGE);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(num_parse_real(bad[i], 0, 1e9, &d), -1, "'%s'", bad[i]);
}
