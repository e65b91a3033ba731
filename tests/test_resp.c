/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "tcpd/buf.h"
#include "tcpd/resp.h"

#define MAX 64

struct parsed {
	ssize_t	rc;
	size_t	argc;
	char	args[RESP_MAX_ARGS][128];
	size_t	lens[RESP_MAX_ARGS];
	char	error[64];
};

/* Copies what a request points at, so results can be compared afterwards. */
static void
keep(struct parsed *p, const struct resp_request *req)
{
	size_t i;

	p->argc = req->argc;
	for (i = 0; i < req->argc && i < RESP_MAX_ARGS; i++) {
		memcpy(p->args[i], req->argv[i].ptr, req->argv[i].len);
		p->lens[i] = req->argv[i].len;
	}
	memcpy(p->error, req->error, sizeof(p->error));
}

static struct parsed
parse(const char *in, size_t len)
{
	struct resp_state st = { 0 };
	struct resp_request req;
	struct parsed p = { 0 };

	p.rc = resp_parse(&st, &req, in, len, MAX);
	keep(&p, &req);
	return p;
}

/*
 * Feeds in as a connection would receive it, cut at the given points: each
 * call sees everything received so far, with the state carried over.
 */
static struct parsed
parse_split(const char *in, size_t len, const size_t *cuts, size_t ncuts)
{
	struct resp_state st = { 0 };
	struct resp_request req;
	struct parsed p = { 0 };
	size_t i, have;

	for (i = 0; i <= ncuts; i++) {
		have = i < ncuts ? cuts[i] : len;
		p.rc = resp_parse(&st, &req, in, have, MAX);
		if (i < ncuts && p.rc != RESP_INCOMPLETE)
			break;
	}
	keep(&p, &req);
	return p;
}

static void
assert_args(const struct parsed *p, size_t argc, const char *const *args)
{
	size_t i;

	cr_assert_eq(p->argc, argc, "argc %zu, expected %zu", p->argc, argc);
	for (i = 0; i < argc; i++) {
		cr_assert_eq(p->lens[i], strlen(args[i]), "arg %zu length", i);
		cr_assert_eq(memcmp(p->args[i], args[i], p->lens[i]), 0,
		    "arg %zu is '%.*s', expected '%s'", i, (int)p->lens[i],
		    p->args[i], args[i]);
	}
}

#define ARGS(...) (const char *const[]){ __VA_ARGS__ }
#define NARGS(...) (sizeof(ARGS(__VA_ARGS__)) / sizeof(char *))
#define S(lit) lit, sizeof(lit) - 1

Test(resp_inline, crlf_and_lf)
{
	struct parsed p = parse(S("PING\r\n"));

	cr_assert_eq(p.rc, 6);
	assert_args(&p, 1, ARGS("PING"));
	p = parse(S("ECHO hi\nrest"));
	cr_assert_eq(p.rc, 8);
	assert_args(&p, 2, ARGS("ECHO", "hi"));
}

Test(resp_inline, spaces_tabs_and_quotes)
{
	struct parsed p = parse(S("  ECHO\t \"hello  world\"  x\r\n"));

	cr_assert_gt(p.rc, 0);
	assert_args(&p, 3, ARGS("ECHO", "hello  world", "x"));
	p = parse(S("ECHO \"\"\r\n"));
	assert_args(&p, 2, ARGS("ECHO", ""));
}

Test(resp_inline, empty_line_has_no_arguments)
{
	struct parsed p = parse(S("\r\n"));

	cr_assert_eq(p.rc, 2);
	cr_assert_eq(p.argc, 0);
	p = parse(S(" \t\n"));
	cr_assert_eq(p.rc, 3);
	cr_assert_eq(p.argc, 0);
}

Test(resp_inline, lone_cr_is_part_of_the_line)
{
	struct parsed p = parse(S("A\rB\r\n"));

	cr_assert_eq(p.rc, 5);
	assert_args(&p, 1, ARGS("A\rB"));
}

Test(resp_inline, unbalanced_quotes)
{
	struct parsed p = parse(S("ECHO \"abc\r\n"));

	cr_assert_eq(p.rc, RESP_ERROR);
	cr_assert_str_eq(p.error, "unbalanced quotes in request");
	p = parse(S("ECHO \"a\"b\r\n"));
	cr_assert_eq(p.rc, RESP_ERROR);
	cr_assert_str_eq(p.error, "unbalanced quotes in request");
}

Test(resp_inline, too_long_before_newline_arrives)
{
	char line[MAX + 1];
	struct parsed p;

	memset(line, 'a', sizeof(line));
	p = parse(line, MAX);
	cr_assert_eq(p.rc, RESP_INCOMPLETE, "exactly max is still allowed");
	p = parse(line, MAX + 1);
	cr_assert_eq(p.rc, RESP_ERROR);
	cr_assert_str_eq(p.error, "too big inline request");
}

Test(resp_inline, too_long_with_newline)
{
	char line[MAX + 3];
	struct parsed p;

	memset(line, 'a', MAX + 1);
	memcpy(line + MAX + 1, "\r\n", 2);
	p = parse(line, sizeof(line));
	cr_assert_eq(p.rc, RESP_ERROR);
	cr_assert_str_eq(p.error, "too big inline request");
	line[MAX] = '\r';
	line[MAX + 1] = '\n';
	p = parse(line, MAX + 2);
	cr_assert_eq(p.rc, MAX + 2, "a line of exactly max bytes is accepted");
}

Test(resp_inline, a_line_of_exactly_max_whose_cr_and_lf_arrive_apart)
{
	char line[MAX + 2];
	const size_t cut = MAX + 1;
	struct parsed p;

	memset(line, 'a', MAX);
	memcpy(line + MAX, "\r\n", 2);
	p = parse_split(line, sizeof(line), &cut, 1);
	cr_assert_eq(p.rc, MAX + 2, "the same as when CR and LF arrive together");
	line[MAX + 1] = 'b';
	p = parse_split(line, sizeof(line), &cut, 1);
	cr_assert_eq(p.rc, RESP_ERROR, "a lone CR past max is still too long");
}

/* Requests (or the error) of a whole stream as a connection gets it: first
 * the bytes up to cut, then all of them; each call sees what is unused. */
static size_t
stream_outcome(const char *in, size_t len, size_t cut, char *out, size_t size)
{
	struct resp_state st = { 0 };
	struct resp_request req;
	size_t used = 0, have = cut, n = 0, i;
	ssize_t rc;

	for (;;) {
		rc = resp_parse(&st, &req, in + used, have - used, MAX);
		if (rc == RESP_INCOMPLETE) {
			if (have == len)
				break;
			have = len;
			continue;
		}
		if (rc == RESP_ERROR) {
			n += (size_t)snprintf(out + n, size - n, "error %s at %zu\n",
			    req.error, used);
			break;
		}
		n += (size_t)snprintf(out + n, size - n, "%zu args:", req.argc);
		for (i = 0; i < req.argc && i < RESP_MAX_ARGS; i++)
			n += (size_t)snprintf(out + n, size - n, " %.*s",
			    (int)req.argv[i].len, req.argv[i].ptr);
		n += (size_t)snprintf(out + n, size - n, "\n");
		used += (size_t)rc;
		cr_assert_lt(n, size);
	}
	return n;
}

Test(resp_split, every_offset_of_a_stream_gives_the_same_requests)
{
	static char stream[16384], whole[65536], split[65536];
	size_t len = 0, wlen, cut, i;
	int k;

	for (k = 0; k < 40; k++)
		len += (size_t)snprintf(stream + len, sizeof(stream) - len,
		    k % 2 ? "PING %d\r\n" : "*2\r\n$4\r\nECHO\r\n$2\r\n%02d\r\n", k);
	/* Lines and bulks of exactly the limit, CR and LF included. */
	memcpy(stream + len, "ECHO ", 5);
	memset(stream + len + 5, 'x', MAX - 5);
	memcpy(stream + len + MAX, "\r\n", 2);
	len += MAX + 2;
	len += (size_t)snprintf(stream + len, sizeof(stream) - len, "*1\r\n$%d\r\n", MAX);
	memset(stream + len, 'y', MAX);
	memcpy(stream + len + MAX, "\r\n", 2);
	len += MAX + 2;
	memset(stream + len, 'z', MAX);
	stream[len + MAX] = '\n';
	len += MAX + 1;
	for (k = 0; k < 10; k++)
		len += (size_t)snprintf(stream + len, sizeof(stream) - len,
		    "ECHO \"a b\" %d\n", k);
	/* And a line one over the limit: the error ends the stream the same way. */
	memset(stream + len, 'w', MAX + 1);
	memcpy(stream + len + MAX + 1, "\r\n", 2);
	len += MAX + 3;

	wlen = stream_outcome(stream, len, len, whole, sizeof(whole));
	cr_assert_not_null(strstr(whole, "error too big inline request"));
	for (cut = 0; cut <= len; cut++) {
		size_t slen = stream_outcome(stream, len, cut, split, sizeof(split));

		for (i = 0; i < wlen && i < slen && whole[i] == split[i]; i++)
			;
		cr_assert(slen == wlen && i == wlen, "cut at %zu of %zu differs at %zu: "
		    "\"%.60s\" vs \"%.60s\"", cut, len, i, whole + i, split + i);
	}
}

Test(resp_inline, more_words_than_stored_are_counted)
{
	struct parsed p = parse(S("a b c d e f g h i j\n"));

	cr_assert_eq(p.argc, 10);
	p.argc = RESP_MAX_ARGS;
	assert_args(&p, RESP_MAX_ARGS, ARGS("a", "b", "c", "d", "e", "f", "g", "h"));
}

Test(resp_array, basic)
{
	struct parsed p = parse(S("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n"));

	cr_assert_eq(p.rc, 25);
	assert_args(&p, 2, ARGS("ECHO", "hello"));
}

Test(resp_array, binary_safe)
{
	static const char in[] = "*2\r\n$4\r\nECHO\r\n$6\r\na\0\r\n\nb\r\n";
	struct parsed p = parse(in, sizeof(in) - 1);

	cr_assert_eq(p.rc, (ssize_t)sizeof(in) - 1);
	cr_assert_eq(p.lens[1], 6);
	cr_assert_eq(memcmp(p.args[1], "a\0\r\n\nb", 6), 0);
}

Test(resp_array, empty_and_null_arrays)
{
	struct parsed p = parse(S("*0\r\nPING\r\n"));

	cr_assert_eq(p.rc, 4);
	cr_assert_eq(p.argc, 0);
	p = parse(S("*-1\r\n"));
	cr_assert_eq(p.rc, 5);
	cr_assert_eq(p.argc, 0);
}

Test(resp_array, errors)
{
	static const struct {
		const char *in;
		const char *why;
	} cases[] = {
		{ "*x\r\n", "invalid multibulk length" },
		{ "*\r\n", "invalid multibulk length" },
		{ "*1048577\r\n", "invalid multibulk length" },
		{ "*1000000000\r\n", "invalid multibulk length" },
		{ "*99999999999999999999999999\r\n", "invalid multibulk length" },
		{ "*1\r$", "invalid multibulk length" },
		{ "*1\r\n+PING\r\n", "expected '$', got '+'" },
		{ "*1\r\n*1\r\n$4\r\nPING\r\n", "expected '$', got '*'" },
		{ "*1\r\n\x01", "expected '$', got byte 0x01" },
		{ "*1\r\n$-1\r\n", "invalid bulk length" },
		{ "*1\r\n$abc\r\n", "invalid bulk length" },
		{ "*1\r\n$1099511627776\r\n", "invalid bulk length" },
		{ "*1\r\n$65\r\n", "invalid bulk length" },
		{ "*1\r\n$4\r\nPINGxx", "bulk string not followed by CRLF" },
		{ "*1\r\n$0000000000000000000000000000000000000004\r\n", "invalid bulk length" },
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct parsed p = parse(cases[i].in, strlen(cases[i].in));

		cr_assert_eq(p.rc, RESP_ERROR, "case %zu: rc %zd", i, p.rc);
		cr_assert_str_eq(p.error, cases[i].why, "case %zu", i);
	}
}

Test(resp_array, bulk_of_exactly_max)
{
	char in[MAX + 32];
	int n = snprintf(in, sizeof(in), "*1\r\n$%d\r\n", MAX);
	struct parsed p;

	memset(in + n, 'q', MAX);
	memcpy(in + n + MAX, "\r\n", 2);
	p = parse(in, (size_t)n + MAX + 2);
	cr_assert_eq(p.rc, n + MAX + 2);
	cr_assert_eq(p.lens[0], MAX);
}

/* Every request must parse the same however the bytes are cut. */
static const char *const split_inputs[] = {
	"PING\r\n",
	"ECHO \"hello world\"\n",
	"*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n",
	"*3\r\n$0\r\n\r\n$1\r\n\n\r\n$2\r\n\r\n\r\n",
	"*0\r\n",
};

Test(resp_split, every_single_cut_point)
{
	size_t i, cut;

	for (i = 0; i < sizeof(split_inputs) / sizeof(split_inputs[0]); i++) {
		const char *in = split_inputs[i];
		size_t len = strlen(in);
		struct parsed whole = parse(in, len);

		cr_assert_gt(whole.rc, 0);
		for (cut = 0; cut < len; cut++) {
			struct parsed p = parse_split(in, len, &cut, 1);

			cr_assert_eq(p.rc, whole.rc, "input %zu cut at %zu", i, cut);
			cr_assert_eq(p.argc, whole.argc);
			cr_assert_eq(memcmp(p.args, whole.args, sizeof(p.args)), 0);
		}
	}
}

Test(resp_split, all_two_way_cuts)
{
	size_t i, a, b;

	for (i = 0; i < sizeof(split_inputs) / sizeof(split_inputs[0]); i++) {
		const char *in = split_inputs[i];
		size_t len = strlen(in);
		struct parsed whole = parse(in, len);

		for (a = 0; a < len; a++) {
			for (b = a; b < len; b++) {
				size_t cuts[2] = { a, b };
				struct parsed p = parse_split(in, len, cuts, 2);

				cr_assert_eq(p.rc, whole.rc, "input %zu cut %zu,%zu", i, a, b);
				cr_assert_eq(memcmp(p.args, whole.args, sizeof(p.args)), 0);
			}
		}
	}
}

Test(resp_split, byte_at_a_time)
{
	size_t i, k;

	for (i = 0; i < sizeof(split_inputs) / sizeof(split_inputs[0]); i++) {
		const char *in = split_inputs[i];
		size_t len = strlen(in), cuts[64];
		struct parsed whole = parse(in, len), p;

		for (k = 0; k < len; k++)
			cuts[k] = k;
		p = parse_split(in, len, cuts, len);
		cr_assert_eq(p.rc, whole.rc, "input %zu", i);
		cr_assert_eq(memcmp(p.args, whole.args, sizeof(p.args)), 0);
	}
}

Test(resp_split, pipelined_requests_one_after_another)
{
	static const char in[] = "PING\r\n*1\r\n$4\r\nPING\r\nECHO x\n";
	struct resp_state st = { 0 };
	struct resp_request req;
	size_t off = 0;
	ssize_t n;
	int count = 0;

	while ((n = resp_parse(&st, &req, in + off, sizeof(in) - 1 - off, MAX)) > 0) {
		off += (size_t)n;
		count++;
	}
	cr_assert_eq(count, 3);
	cr_assert_eq(off, sizeof(in) - 1);
	cr_assert_eq(n, RESP_INCOMPLETE);
}

static void
assert_buf(struct buf *b, const char *expect, size_t len)
{
	cr_assert_eq(buf_len(b), len, "got %zu bytes: '%.*s'", buf_len(b),
	    (int)buf_len(b), buf_data(b));
	cr_assert_eq(memcmp(buf_data(b), expect, len), 0, "got '%.*s'",
	    (int)buf_len(b), buf_data(b));
	buf_free(b);
}

Test(resp_write, each_type)
{
	struct buf b;

	buf_init(&b, 1024);
	resp_add_simple(&b, "PONG");
	assert_buf(&b, S("+PONG\r\n"));
	resp_add_error(&b, "ERR bad '%s'", "x\r\ny");
	assert_buf(&b, S("-ERR bad 'x  y'\r\n"));
	resp_add_bulk(&b, "a\0b", 3);
	assert_buf(&b, S("$3\r\na\0b\r\n"));
	resp_add_bulk(&b, "", 0);
	assert_buf(&b, S("$0\r\n\r\n"));
	resp_add_array(&b, 2);
	assert_buf(&b, S("*2\r\n"));
	resp_add_int(&b, 0);
	resp_add_int(&b, -1);
	resp_add_int(&b, INT64_MIN);
	resp_add_int(&b, INT64_MAX);
	assert_buf(&b, S(":0\r\n:-1\r\n:-9223372036854775808\r\n:9223372036854775807\r\n"));
}

/* Each RESP3 type, and what a RESP2 connection gets instead, as redis-server 7 sends them. */
Test(resp_write, resp3_types_and_their_resp2_shapes)
{
	struct buf b;

	buf_init(&b, 1024);
	resp_add_map(&b, 2, RESP3);
	resp_add_set(&b, 3, RESP3);
	resp_add_null(&b, RESP3);
	resp_add_verbatim(&b, "a\r\nb", 4, RESP3);
	resp_add_verbatim(&b, "", 0, RESP3);
	assert_buf(&b, S("%2\r\n~3\r\n_\r\n=8\r\ntxt:a\r\nb\r\n=4\r\ntxt:\r\n"));
	resp_add_map(&b, 2, RESP2);
	resp_add_set(&b, 3, RESP2);
	resp_add_null(&b, RESP2);
	resp_add_verbatim(&b, "a\r\nb", 4, RESP2);
	assert_buf(&b, S("*4\r\n*3\r\n$-1\r\n$4\r\na\r\nb\r\n"));
}
