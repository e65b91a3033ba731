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

/* RESP3, as redis-cli 7 prints it on a terminal (DEBUG PROTOCOL's replies and HGETALL's). */
Test(reply, resp3_types_on_a_terminal)
{
	cr_assert_str_eq(format(S("_\r\n")), "(nil)\n");
	cr_assert_str_eq(format(S("#t\r\n")), "(true)\n");
	cr_assert_str_eq(format(S("#f\r\n")), "(false)\n");
	cr_assert_str_eq(format(S(",3.141\r\n")), "(double) 3.141\n");
	cr_assert_str_eq(format(S(",-inf\r\n")), "(double) -inf\n");
	cr_assert_str_eq(format(S("(12345678901234567890123\r\n")),
	    "(big number) 12345678901234567890123\n");
	cr_assert_str_eq(format(S("=29\r\ntxt:This is a verbatim\nstring\r\n")),
	    "This is a verbatim\nstring\n");
	cr_assert_str_eq(format(S("!21\r\nSYNTAX invalid syntax\r\n")),
	    "(error) SYNTAX invalid syntax\n");
	cr_assert_str_eq(format(S("!3\r\na\0b\r\n")), "(error) a\n");
	cr_assert_str_eq(format(S("~3\r\n:0\r\n:1\r\n:2\r\n")),
	    "1~ (integer) 0\n2~ (integer) 1\n3~ (integer) 2\n");
	cr_assert_str_eq(format(S("%2\r\n$1\r\na\r\n$1\r\n1\r\n$1\r\nb\r\n#f\r\n")),
	    "1# \"a\" => \"1\"\n2# \"b\" => (false)\n");
	cr_assert_str_eq(format(S("%0\r\n")), "(empty hash)\n");
	cr_assert_str_eq(format(S("~0\r\n")), "(empty set)\n");
	cr_assert_str_eq(format(S(">0\r\n")), "(empty push)\n");
	cr_assert_str_eq(format(S(">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n")),
	    "1) \"server-cpu-usage\"\n2) (integer) 42\n");
}

/*
 * A map's value of more than one line starts on a line of its own, indented
 * past the number; one of a line stays after "=> " (EVAL "return {map={a={1,2},
 * b={map={c=1,d={set={'x'}}}}}}" with redis-cli 7.0.15).
 */
Test(reply, nested_maps_as_redis_cli)
{
	cr_assert_str_eq(format(S("%2\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n"
	    "$1\r\nb\r\n%2\r\n$1\r\nc\r\n:1\r\n$1\r\nd\r\n~1\r\n:1\r\n")),
	    "1# \"a\" => \n   1) (integer) 1\n   2) (integer) 2\n"
	    "2# \"b\" => \n   1# \"c\" => (integer) 1\n   2# \"d\" => 1~ (integer) 1\n");
	/* One element holding one pair: one line, so no line of its own. */
	cr_assert_str_eq(format(S("%1\r\n+k\r\n*1\r\n%1\r\n+x\r\n:1\r\n")),
	    "1# k => 1) 1# x => (integer) 1\n");
	/* ... unless what it holds takes more. */
	cr_assert_str_eq(format(S("%1\r\n+k\r\n*1\r\n*2\r\n:1\r\n:2\r\n")),
	    "1# k => \n   1) 1) (integer) 1\n      2) (integer) 2\n");
	/* A key of more lines ends with " => " where its last line ended. */
	cr_assert_str_eq(format(S("%1\r\n*2\r\n:1\r\n:2\r\n+v\r\n")),
	    "1# 1) (integer) 1\n   2) (integer) 2 => v\n");
	/* Ten pairs: numbers two wide, nested lines indented four. */
	cr_assert_str_eq(format(S("*1\r\n%10\r\n:1\r\n:1\r\n:2\r\n:2\r\n:3\r\n:3\r\n:4\r\n"
	    ":4\r\n:5\r\n:5\r\n:6\r\n:6\r\n:7\r\n:7\r\n:8\r\n:8\r\n:9\r\n:9\r\n:10\r\n~2\r\n"
	    "#t\r\n#f\r\n")),
	    "1)  1# (integer) 1 => (integer) 1\n    2# (integer) 2 => (integer) 2\n"
	    "    3# (integer) 3 => (integer) 3\n    4# (integer) 4 => (integer) 4\n"
	    "    5# (integer) 5 => (integer) 5\n    6# (integer) 6 => (integer) 6\n"
	    "    7# (integer) 7 => (integer) 7\n    8# (integer) 8 => (integer) 8\n"
	    "    9# (integer) 9 => (integer) 9\n   10# (integer) 10 => \n"
	    "       1~ (true)\n       2~ (false)\n");
}

/* Into a pipe, as redis-cli 7 --raw: a map's pair on a line, key and value a space apart. */
Test(reply, resp3_types_into_a_pipe)
{
	cr_assert_str_eq(plain(S("_\r\n")), "\n");
	cr_assert_str_eq(plain(S("#t\r\n")), "(true)\n");
	cr_assert_str_eq(plain(S(",1.5\r\n")), "1.5\n");
	cr_assert_str_eq(plain(S("(-12\r\n")), "-12\n");
	cr_assert_str_eq(plain(S("=7\r\ntxt:a\nb\r\n")), "a\nb\n");
	cr_assert_str_eq(plain(S("!5\r\nERR x\r\n")), "ERR x\n\n");
	cr_assert_str_eq(plain(S("~2\r\n$1\r\nx\r\n:1\r\n")), "x\n1\n");
	cr_assert_str_eq(plain(S("%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n")),
	    "0 (false)\n1 (true)\n2 (false)\n");
	cr_assert_str_eq(plain(S("%2\r\n$1\r\na\r\n*2\r\n:1\r\n:2\r\n$1\r\nb\r\n%1\r\n"
	    "$1\r\nc\r\n:1\r\n")), "a 1\n2\nb c 1\n");
	cr_assert_str_eq(plain(S("%0\r\n")), "\n");
	cr_assert_str_eq(format_as(REPLY_VERBATIM, S("=15\r\ntxt:# Server\r\na\r\n")),
	    "# Server\r\na");
}

/* Attributes go with the value after them, are never a reply alone, and are not printed. */
Test(reply, attributes_are_skipped)
{
	static const char top[] = "|1\r\n+key-popularity\r\n%2\r\n$1\r\na\r\n,0.19\r\n"
	    "$1\r\nb\r\n,0.54\r\n*2\r\n:2039123\r\n:9543892\r\n";
	static const char inner[] = "*2\r\n:1\r\n|1\r\n+ttl\r\n:3600\r\n:2\r\n";
	size_t cut;

	for (cut = 0; cut < sizeof(top) - 1; cut++)
		cr_assert_eq(reply_length(top, cut), RESP_INCOMPLETE, "cut %zu", cut);
	cr_assert_str_eq(format(top, sizeof(top) - 1),
	    "1) (integer) 2039123\n2) (integer) 9543892\n");
	cr_assert_str_eq(plain(top, sizeof(top) - 1), "2039123\n9543892\n");
	for (cut = 0; cut < sizeof(inner) - 1; cut++)
		cr_assert_eq(reply_length(inner, cut), RESP_INCOMPLETE, "cut %zu", cut);
	cr_assert_str_eq(format(inner, sizeof(inner) - 1), "1) (integer) 1\n2) (integer) 2\n");
	/* An empty attribute, and one inside an attribute. */
	cr_assert_str_eq(format(S("|0\r\n+OK\r\n")), "OK\n");
	cr_assert_eq(reply_length(S("|0\r\n")), RESP_INCOMPLETE);
	cr_assert_str_eq(format(S("|1\r\n|1\r\n:1\r\n:2\r\n+a\r\n+b\r\n:7\r\n")), "(integer) 7\n");
	cr_assert_eq(reply_type(S("|1\r\n+a\r\n+b\r\n-ERR x\r\n")), '-');
	cr_assert(reply_is_error(S("|1\r\n+a\r\n+b\r\n-ERR x\r\n")));
	cr_assert(reply_is_error(S("!1\r\nx\r\n")));
	cr_assert_eq(reply_type(S(">1\r\n:1\r\n")), '>');
}

Test(reply, resp3_text_of_a_reply)
{
	const char *t;

	cr_assert_eq(reply_text(S("-WRONGPASS no\r\n"), &t), 12);
	cr_assert_eq(strncmp(t, "WRONGPASS no", 12), 0);
	cr_assert_eq(reply_text(S("!4\r\nE ab\r\n"), &t), 4);
	cr_assert_eq(strncmp(t, "E ab", 4), 0);
	cr_assert_eq(reply_text(S("=6\r\ntxt:hi\r\n"), &t), 2);
	cr_assert_eq(strncmp(t, "hi", 2), 0);
	cr_assert_eq(reply_text(S("%0\r\n"), &t), 0);
	cr_assert_eq(reply_text(S("$-1\r\n"), &t), 0);
}

/* Every RESP3 type cut anywhere is incomplete; each type's own rule refuses what breaks it. */
Test(reply, resp3_incomplete_and_malformed)
{
	static const char whole[] = "*9\r\n_\r\n#t\r\n,1.5\r\n(-7\r\n=5\r\ntxt:x\r\n!1\r\ne\r\n"
	    "~1\r\n:1\r\n%1\r\n+k\r\n+v\r\n>1\r\n$0\r\n\r\n";
	static const char *const bad[] = {
		"_x\r\n", "#\r\n", "#x\r\n", "#tt\r\n", ",\r\n", "(\r\n", "(-\r\n", "(1x\r\n",
		"(1.5\r\n", "=3\r\ntxt\r\n", "=4\r\ntxt;\r\n", "=-1\r\n", "!-1\r\n", "~-1\r\n",
		"%-1\r\n", ">-1\r\n", "|-1\r\n", "$?\r\n", "*?\r\n",
		"%4611686018427387904\r\n", "|4611686018427387904\r\n",
	};
	size_t cut, i;

	for (cut = 0; cut < sizeof(whole) - 1; cut++)
		cr_assert_eq(reply_length(whole, cut), RESP_INCOMPLETE, "cut %zu", cut);
	cr_assert_eq(reply_length(whole, sizeof(whole) - 1), (ssize_t)sizeof(whole) - 1);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(reply_length(bad[i], strlen(bad[i])), RESP_ERROR, "'%s'", bad[i]);
	/* The largest map count whose element count fits. */
	cr_assert_eq(reply_length(S("%4611686018427387903\r\n")), RESP_INCOMPLETE);
	cr_assert_eq(reply_length(S("=4\r\ntxt:\r\n")), 10);
	cr_assert_str_eq(format(S("=4\r\ntxt:\r\n")), "\n");
}

/* An attribute in every level counts toward the depth limit like any aggregate. */
Test(reply, resp3_nesting_is_bounded)
{
	char deep[8 * (REPLY_MAX_DEPTH + 2) + 8];
	size_t n = 0;
	int i;

	for (i = 0; i < REPLY_MAX_DEPTH; i++) {
		memcpy(deep + n, i % 2 ? "%1\r\n:1\r\n" : "~1\r\n", i % 2 ? 8 : 4);
		n += i % 2 ? 8 : 4;
	}
	memcpy(deep + n, ":1\r\n", 4);
	cr_assert_eq(reply_length(deep, n + 4), (ssize_t)n + 4);
	memcpy(deep + n, "|1\r\n:1\r\n:1\r\n:1\r\n", 16);
	cr_assert_eq(reply_length(deep, n + 16), RESP_ERROR);
}
