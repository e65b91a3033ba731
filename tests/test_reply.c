/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cli/reply.h"
#include "tcpd/resp.h"

#define S(lit) lit, sizeof(lit) - 1

static const char *
format_as(enum reply_style style, const char *reply, size_t len)
{
	static char *text;
	size_t size;
	FILE *out;

	cr_assert_eq(reply_length(reply, len), (ssize_t)len, "not one whole reply");
	free(text);
	cr_assert_not_null(out = open_memstream(&text, &size));
	cr_assert_eq(reply_print(out, reply, len, style), 0);
	cr_assert_eq(fclose(out), 0);
	return text;
}

static const char *
format(const char *reply, size_t len)
{
	return format_as(REPLY_TTY, reply, len);
}

static const char *
plain(const char *reply, size_t len)
{
	return format_as(REPLY_PLAIN, reply, len);
}

Test(reply, each_type_as_redis_cli_prints_it)
{
	cr_assert_str_eq(format(S("+PONG\r\n")), "PONG\n");
	cr_assert_str_eq(format(S("-ERR no\r\n")), "(error) ERR no\n");
	cr_assert_str_eq(format(S(":-42\r\n")), "(integer) -42\n");
	cr_assert_str_eq(format(S("$5\r\nhello\r\n")), "\"hello\"\n");
	cr_assert_str_eq(format(S("$-1\r\n")), "(nil)\n");
	cr_assert_str_eq(format(S("*0\r\n")), "(empty array)\n");
	cr_assert_str_eq(format(S("*-1\r\n")), "(nil)\n");
	cr_assert_str_eq(format(S("$8\r\n\"\\\n\r\t\x01\xff\x7f\r\n")),
	    "\"\\\"\\\\\\n\\r\\t\\x01\\xff\\x7f\"\n");
}

Test(reply, nested_arrays_are_numbered_and_indented)
{
	cr_assert_str_eq(format(S("*3\r\n$1\r\na\r\n*2\r\n:1\r\n$1\r\nb\r\n+c\r\n")),
	    "1) \"a\"\n2) 1) (integer) 1\n   2) \"b\"\n3) c\n");
	cr_assert_str_eq(format(S("*10\r\n:1\r\n:2\r\n:3\r\n:4\r\n:5\r\n:6\r\n:7\r\n"
	    ":8\r\n:9\r\n*1\r\n:10\r\n")),
	    " 1) (integer) 1\n 2) (integer) 2\n 3) (integer) 3\n 4) (integer) 4\n"
	    " 5) (integer) 5\n 6) (integer) 6\n 7) (integer) 7\n 8) (integer) 8\n"
	    " 9) (integer) 9\n10) 1) (integer) 10\n");
}

Test(reply, incomplete_at_every_cut_and_malformed)
{
	static const char whole[] = "*2\r\n$3\r\nabc\r\n*1\r\n:7\r\n";
	static const char *const bad[] = {
		"?\r\n", ":x\r\n", "$-2\r\n", "$3\r\nabcd\r\n", "*-2\r\n", "+a\rb",
	};
	size_t cut, i;

	for (cut = 0; cut < sizeof(whole) - 1; cut++)
		cr_assert_eq(reply_length(whole, cut), RESP_INCOMPLETE, "cut %zu", cut);
	cr_assert_eq(reply_length(whole, sizeof(whole) - 1), (ssize_t)sizeof(whole) - 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(reply_length(bad[i], strlen(bad[i])), RESP_ERROR, "'%s'", bad[i]);
}

Test(reply, nesting_is_bounded)
{
	char deep[4 * (REPLY_MAX_DEPTH + 2) + 8];
	size_t n = 0;
	int i;

	for (i = 0; i < REPLY_MAX_DEPTH + 2; i++) {
		memcpy(deep + n, "*1\r\n", 4);
		n += 4;
	}
	memcpy(deep + n, ":1\r\n", 4);
	cr_assert_eq(reply_length(deep, n + 4), RESP_ERROR);
}

Test(reply, integers_are_checked_not_overflowed)
{
	static const char *const bad[] = {
		":99999999999999999999\r\n",
		"$18446744073709551615\r\n",
		"*18446744073709551615\r\n",
		"$99999999999999999999\r\n",
		":9223372036854775808\r\n",
		":+1\r\n",
		": 1\r\n",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(reply_length(bad[i], strlen(bad[i])), RESP_ERROR, "'%s'", bad[i]);
	cr_assert_str_eq(format(S(":-9223372036854775808\r\n")),
	    "(integer) -9223372036854775808\n");
	cr_assert_str_eq(format(S(":9223372036854775807\r\n")),
	    "(integer) 9223372036854775807\n");
}

Test(reply, a_large_reply_is_resumed_not_rescanned)
{
	enum { N = 100000 };
	static char big[16 + 4 * N];
	struct reply_state st = { 0 };
	size_t len, have;
	int i;

	len = (size_t)sprintf(big, "*%d\r\n", N);
	for (i = 0; i < N; i++) {
		memcpy(big + len, ":1\r\n", 4);
		len += 4;
	}
	for (have = 1; have < len; have += 4093) {
		cr_assert_eq(reply_parse(&st, big, have), RESP_INCOMPLETE);
		/* Everything whole before the last few bytes is already checked. */
		cr_assert_geq(st.pos + 8, have, "at %zu validated only %zu", have, st.pos);
	}
	cr_assert_eq(reply_parse(&st, big, len), (ssize_t)len);
	cr_assert_eq(st.pos, 0, "the state is reset for the next reply");
}

Test(reply, a_long_status_line_is_searched_once)
{
	static char line[70000];
	struct reply_state st = { 0 };

	line[0] = '+';
	memset(line + 1, 'x', sizeof(line) - 3);
	memcpy(line + sizeof(line) - 2, "\r\n", 2);
	cr_assert_eq(reply_parse(&st, line, 40000), RESP_INCOMPLETE);
	cr_assert_eq(st.scanned, 40000);
	cr_assert_eq(reply_parse(&st, line, sizeof(line)), (ssize_t)sizeof(line));
}

/* The bytes redis-cli 7.0 prints into a pipe for the same replies. */
Test(reply, plain_as_redis_cli_prints_into_a_pipe)
{
	cr_assert_str_eq(plain(S("+PONG\r\n")), "PONG\n");
	cr_assert_str_eq(plain(S("-ERR no\r\n")), "ERR no\n\n");
	cr_assert_str_eq(plain(S(":-42\r\n")), "-42\n");
	cr_assert_str_eq(plain(S("$7\r\na \"b\"\n\x01\r\n")), "a \"b\"\n\x01\n");
	cr_assert_str_eq(plain(S("$-1\r\n")), "\n");
	cr_assert_str_eq(plain(S("*0\r\n")), "\n");
	cr_assert_str_eq(plain(S("*-1\r\n")), "\n");
	/* EVAL "return {1,{2,'x'},{},'y'}" and an error inside an array. */
	cr_assert_str_eq(plain(S("*4\r\n:1\r\n*2\r\n:2\r\n$1\r\nx\r\n*0\r\n$1\r\ny\r\n")),
	    "1\n2\nx\n\ny\n");
	cr_assert_str_eq(plain(S("*3\r\n:1\r\n-ERR boom\r\n:3\r\n")), "1\nERR boom\n\n3\n");
}

Test(reply, verbatim_text_as_it_came)
{
	cr_assert_str_eq(format_as(REPLY_VERBATIM, S("$15\r\n# Server\r\na:1\r\n\r\n")),
	    "# Server\r\na:1\r\n");
	cr_assert_str_eq(format_as(REPLY_VERBATIM, S("*2\r\n$1\r\na\r\n$-1\r\n")), "a\n");
	cr_assert_str_eq(format_as(REPLY_VERBATIM, S("-ERR x\r\n")), "ERR x\n");
}

/* Which message a reply that is not RESP gets: the way out of pipe only for a raw service. */
Test(reply, a_peer_that_is_not_resp_is_told_apart)
{
	cr_assert_eq(reply_guess_peer(S("!tcpd garbage, not RESP~")), REPLY_PEER_RESP);
	cr_assert_eq(reply_guess_peer(S("@tcpd garbage, not RESP \r\n")), REPLY_PEER_RESP);
	cr_assert_eq(reply_guess_peer(S("$99999999999999999999\r\n")), REPLY_PEER_RESP);
	cr_assert_eq(reply_guess_peer(S("|1\r\n")), REPLY_PEER_RESP);
	cr_assert_eq(reply_guess_peer(S("HTTP/1.1 400 Bad Request\r\n")), REPLY_PEER_HTTP);
	cr_assert_eq(reply_guess_peer(S("HTT")), REPLY_PEER_HTTP);
	cr_assert_eq(reply_guess_peer(S("HTTPS")), REPLY_PEER_RAW);
	cr_assert_eq(reply_guess_peer(S("Monday, December 7, 2026 01:10:39-UTC\r\n")),
	    REPLY_PEER_RAW);
	cr_assert_eq(reply_guess_peer(S(" !\"#$%&")), REPLY_PEER_RAW);
	cr_assert_eq(reply_guess_peer(S("\0")), REPLY_PEER_RAW);
}
