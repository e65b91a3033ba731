/* SPDX-License-Identifier: MIT */
#include <string.h>

#include <criterion/criterion.h>

#include "cli/args.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

/* The request a typed line becomes, as RESP text; NULL when refused. */
static const char *
encoded(const char *line)
{
	static char text[512];
	const char *why = NULL;
	struct buf out;
	long n;

	buf_init(&out, sizeof(text) - 1);
	n = args_encode(&out, line, strlen(line), &why);
	if (n == -1) {
		cr_assert_not_null(why);
		buf_free(&out);
		return NULL;
	}
	if (buf_len(&out) > 0)	/* an empty buffer has no memory at all */
		memcpy(text, buf_data(&out), buf_len(&out));
	text[buf_len(&out)] = '\0';
	buf_free(&out);
	return text;
}

Test(args, words_split_on_white_space)
{
	cr_assert_str_eq(encoded("  SET  k\tv "), "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1\r\nv\r\n");
	cr_assert_str_eq(encoded(" \t "), "");
	cr_assert_str_eq(encoded(""), "");
	/* Backslashes outside quotes are bytes like any other. */
	cr_assert_str_eq(encoded("a\\nb"), "*1\r\n$4\r\na\\nb\r\n");
}

Test(args, double_quotes_take_escapes)
{
	cr_assert_str_eq(encoded("ECHO \"a b\\n\\r\\t\\b\\a\\x41\\x7a\\\"\\\\\""),
	    "*2\r\n$4\r\nECHO\r\n$12\r\na b\n\r\t\b\aAz\"\\\r\n");
	/* \x without two hex digits is the letter x, as in redis-cli. */
	cr_assert_str_eq(encoded("\"\\x4\""), "*1\r\n$2\r\nx4\r\n");
	cr_assert_str_eq(encoded("\"\\q\""), "*1\r\n$1\r\nq\r\n");
	cr_assert_str_eq(encoded("\"\" x"), "*2\r\n$0\r\n\r\n$1\r\nx\r\n");
}

Test(args, single_quotes_are_literal_but_for_an_escaped_quote)
{
	cr_assert_str_eq(encoded("'a\\nb' 'it\\'s'"), "*2\r\n$4\r\na\\nb\r\n$4\r\nit's\r\n");
}

Test(args, quotes_may_start_inside_a_word)
{
	cr_assert_str_eq(encoded("a\"b c\""), "*1\r\n$4\r\nab c\r\n");
}

Test(args, unbalanced_or_glued_quotes_are_refused)
{
	cr_assert_null(encoded("ECHO \"open"));
	cr_assert_null(encoded("ECHO 'open"));
	cr_assert_null(encoded("\"a\"b"));
	cr_assert_null(encoded("'a'b"));
	cr_assert_null(encoded("\"ends in backslash\\\""));
}

Test(args, a_full_buffer_is_an_error)
{
	const char *why;
	struct buf out;

	buf_init(&out, 8);
	cr_assert_eq(args_encode(&out, "ECHO hello", 10, &why), -1);
	buf_free(&out);
}

static bool
is_text(const char *line)
{
	const char *why;
	struct buf out;
	bool text;

	buf_init(&out, 4096);
	cr_assert_gt(args_encode(&out, line, strlen(line), &why), 0);
	text = args_request_reply_is_text(buf_data(&out), buf_len(&out));
	buf_free(&out);
	return text;
}

Test(args, text_replies_are_redis_clis_list)
{
	cr_assert(is_text("INFO"));
	cr_assert(is_text("info server"));
	cr_assert(is_text("CLIENT LIST"));
	cr_assert(is_text("memory doctor"));
	cr_assert_not(is_text("CLIENT"));
	cr_assert_not(is_text("CLIENT KILL"));
	cr_assert_not(is_text("ECHO info"));
	cr_assert_not(is_text("INFOS"));
}
