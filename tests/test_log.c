/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include "tcpd/log.h"

#define S(lit) lit, sizeof(lit) - 1

static void
assert_entry(const char *got, size_t n, const char *expect, size_t len)
{
	cr_assert_eq(n, len, "length %zu, expected %zu", n, len);
	cr_assert_eq(memcmp(got, expect, len), 0);
}

Test(journal, entry_with_fields)
{
	struct log_field f[2] = { { "TCPD_PEER", "10.1.2.3" }, { "TCPD_CONN_ID", "7" } };
	char out[256];
	size_t n = log_journal_entry(out, sizeof(out), LOG_LEVEL_WARNING, "hello", f, 2);

	assert_entry(out, n, S("PRIORITY=4\nSYSLOG_IDENTIFIER=tcpd\nMESSAGE=hello\n"
	    "TCPD_PEER=10.1.2.3\nTCPD_CONN_ID=7\n"));
}

Test(journal, value_with_a_newline_uses_the_binary_form)
{
	char out[256];
	size_t n = log_journal_entry(out, sizeof(out), LOG_LEVEL_DEBUG, "a\nb", NULL, 0);

	assert_entry(out, n, S("PRIORITY=7\nSYSLOG_IDENTIFIER=tcpd\n"
	    "MESSAGE\n\x03\0\0\0\0\0\0\0a\nb\n"));
}

Test(journal, too_small_a_buffer_gives_nothing)
{
	char out[40];

	cr_assert_eq(log_journal_entry(out, sizeof(out), LOG_LEVEL_ERROR,
	    "a message that does not fit", NULL, 0), 0);
}

Test(log, targets_and_levels_parse)
{
	enum log_target t;
	enum log_level l;

	cr_assert_eq(log_target_parse("auto", &t), 0);
	cr_assert_eq(t, LOG_TARGET_AUTO);
	cr_assert_eq(log_target_parse("journal", &t), 0);
	cr_assert_eq(t, LOG_TARGET_JOURNAL);
	cr_assert_eq(log_target_parse("stderr", &t), 0);
	cr_assert_eq(t, LOG_TARGET_STDERR);
	cr_assert_eq(log_target_parse("syslog", &t), -1);
	cr_assert_eq(log_level_parse("WARNING", &l), 0);
	cr_assert_eq(l, LOG_LEVEL_WARNING);
	cr_assert_eq(log_level_parse("verbose", &l), -1);
}

Test(log, escape_peer_bytes)
{
	char out[64];

	cr_assert_str_eq(log_escape(out, sizeof(out), "a\r\n\t\"\\\x01\xff", 8),
	    "a\\r\\n\\t\\\"\\\\\\x01\\xff");
	cr_assert_str_eq(log_escape(out, 12, "abcdefghijklmnop", 16), "abcdefgh...");
}

Test(log_rate, one_line_a_second_with_the_held_back_count)
{
	struct log_rate r = { 0 };
	unsigned held = 99;
	int i;

	cr_assert(log_rate_ok(&r, 1000, &held));
	cr_assert_eq(held, 0);
	for (i = 0; i < 5; i++)
		cr_assert_not(log_rate_ok(&r, 1500, &held));
	cr_assert(log_rate_ok(&r, 2000, &held));
	cr_assert_eq(held, 5);
	cr_assert(log_rate_ok(&r, 3001, &held));
	cr_assert_eq(held, 0);
}
