/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/services/inetd.h"

Test(inetd, chargen_rfc864_lines)
{
	char out[3 * CHARGEN_LINE_LEN + 10];
	unsigned line = 0;
	size_t n = inetd_chargen(out, sizeof(out), &line);

	cr_assert_eq(n, 3 * CHARGEN_LINE_LEN, "only whole lines");
	cr_assert_eq(line, 3);
	cr_assert_eq(memcmp(out, " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n", CHARGEN_LINE_LEN), 0);
	cr_assert_eq(memcmp(out + CHARGEN_LINE_LEN, "!\"#$%&'()*+,-./0123456789:;"
	    "<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n", CHARGEN_LINE_LEN), 0);
}

Test(inetd, chargen_wraps_around_the_ring)
{
	char out[CHARGEN_LINE_LEN];
	unsigned line = 94;

	cr_assert_eq(inetd_chargen(out, sizeof(out), &line), CHARGEN_LINE_LEN);
	cr_assert_eq(line, 0);
	cr_assert_eq(memcmp(out, "~ !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJ"
	    "KLMNOPQRSTUVWXYZ[\\]^_`abcdef\r\n", CHARGEN_LINE_LEN), 0);
	cr_assert_eq(inetd_chargen(out, CHARGEN_LINE_LEN - 1, &line), 0);
}

Test(inetd, daytime)
{
	char out[DAYTIME_MAX];
	size_t n = inetd_daytime(out, 383247463);	/* 1982-02-22 17:37:43 UTC */

	cr_assert_eq(n, strlen("Monday, February 22, 1982 17:37:43-UTC\r\n"));
	cr_assert_eq(memcmp(out, "Monday, February 22, 1982 17:37:43-UTC\r\n", n), 0);
}

Test(inetd, time_rfc868)
{
	unsigned char out[4];

	inetd_time(out, 0);
	cr_assert_eq(memcmp(out, "\x83\xaa\x7e\x80", 4), 0, "2208988800");
	/* 2036-02-07 06:28:16 UTC wraps the 32-bit count to 0. */
	inetd_time(out, 2085978496);
	cr_assert_eq(memcmp(out, "\0\0\0\0", 4), 0);
}
