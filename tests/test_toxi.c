/* SPDX-License-Identifier: MIT */
/* tcpd-cli's control API client: its paths, requests and response parser, without a socket. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "cli/toxi.h"
#include "tcpd/buf.h"

static struct toxi_response r;
static const char *why;

static ssize_t
parse(const char *text, size_t max)
{
	why = NULL;
	return toxi_response_parse(text, strlen(text), max, &r, &why);
}

static void
parse_bad(const char *text, const char *expect)
{
	cr_assert_eq(parse(text, TOXI_BODY_MAX), TOXI_ERROR, "'%s' taken", text);
	cr_assert_str_eq(why, expect, "'%s'", text);
}

Test(toxi, a_path_escapes_every_byte_but_the_unreserved)
{
	const char *segs[] = { "proxies", "a b/c%", "toxics", "lat-1_x.y~" };
	char path[64];

	cr_assert_eq(toxi_path(path, sizeof(path), segs, 4), 0);
	cr_assert_str_eq(path, "/proxies/a%20b%2Fc%25/toxics/lat-1_x.y~");
	cr_assert_eq(toxi_path(path, sizeof(path), (const char *[]){ "proxies", "\xff" }, 2), 0);
	cr_assert_str_eq(path, "/proxies/%FF");
	/* "/proxies/a%20" and its NUL: 14 bytes fit, 13 do not. */
	cr_assert_eq(toxi_path(path, 14, (const char *[]){ "proxies", "a " }, 2), 0);
	cr_assert_str_eq(path, "/proxies/a%20");
	cr_assert_eq(toxi_path(path, 13, (const char *[]){ "proxies", "a " }, 2), -1);
	cr_assert_eq(toxi_path(path, 9, (const char *[]){ "proxies" }, 1), 0);
	cr_assert_eq(toxi_path(path, 8, (const char *[]){ "proxies" }, 1), -1);
}

Test(toxi, a_request_has_its_length_and_says_json_only_with_a_body)
{
	static const char body[] = "{\"enabled\":false}";
	struct buf out;

	buf_init(&out, SIZE_MAX);
	cr_assert_eq(toxi_request(&out, "POST", "/proxies/r", "[::1]:8474", body,
	    sizeof(body) - 1), 0);
	cr_assert_eq(toxi_request(&out, "GET", "/proxies", "127.0.0.1:8474", NULL, 0), 0);
	cr_assert_eq(buf_append(&out, "", 1), 0);
	cr_assert_str_eq(buf_data(&out), "POST /proxies/r HTTP/1.1\r\nHost: [::1]:8474\r\n"
	    "Connection: close\r\nContent-Type: application/json\r\nContent-Length: 17\r\n\r\n"
	    "{\"enabled\":false}"
	    "GET /proxies HTTP/1.1\r\nHost: 127.0.0.1:8474\r\nConnection: close\r\n"
	    "Content-Length: 0\r\n\r\n");
	buf_free(&out);
	/* A full buffer says so. */
	buf_init(&out, 20);
	cr_assert_eq(toxi_request(&out, "GET", "/proxies", "127.0.0.1:8474", NULL, 0), -1);
	buf_free(&out);
}

Test(toxi, a_response_is_whole_only_with_all_its_body)
{
	static const char text[] = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
	    "content-length:  7 \r\n\r\n{\"a\":1}";
	size_t n = sizeof(text) - 1, i;

	cr_assert_eq(toxi_response_parse(text, n, TOXI_BODY_MAX, &r, &why), (ssize_t)n);
	cr_assert_eq(r.status, 201);
	cr_assert_eq(r.head_len, n - 7);
	cr_assert_eq(r.body_len, 7);
	/* Every prefix waits for more. */
	for (i = 0; i < n; i++)
		cr_assert_eq(toxi_response_parse(text, i, TOXI_BODY_MAX, &r, &why),
		    TOXI_INCOMPLETE, "at %zu", i);
	/* What follows is not taken. */
	cr_assert_eq(parse("HTTP/1.0 200 OK\nContent-Length: 2\n\n[]trailing", 2), 37);
	cr_assert_eq(r.body_len, 2);
}

Test(toxi, no_content_where_no_body_is_due)
{
	cr_assert_eq(parse("HTTP/1.1 204 No Content\r\n\r\n", 0), 27);
	cr_assert_eq(r.status, 204);
	cr_assert_eq(r.body_len, 0);
	cr_assert_eq(parse("HTTP/1.1 204\r\nContent-Length: 0\r\n\r\n", 0), 35);
	parse_bad("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}",
	    "the answer has no Content-Length");
}

Test(toxi, the_body_limit_is_known_from_the_head)
{
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n", 100),
	    TOXI_INCOMPLETE);
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 101\r\n\r\n", 100), TOXI_ERROR);
	cr_assert_str_eq(why, "the answer's body is larger than the limit");
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 99999999999999999999\r\n\r\n",
	    100), TOXI_ERROR);
	cr_assert_str_eq(why, "the answer's Content-Length is not one number");
}

Test(toxi, the_head_limit)
{
	char *text = malloc(TOXI_HEAD_MAX + 64);
	size_t used = (size_t)sprintf(text, "HTTP/1.1 204 No Content\r\nX: "), pad;

	/* A head of exactly TOXI_HEAD_MAX bytes is taken, one more is not. */
	pad = TOXI_HEAD_MAX - used - 4;
	memset(text + used, 'x', pad);
	strcpy(text + used + pad, "\r\n\r\n");
	cr_assert_eq(parse(text, 0), TOXI_HEAD_MAX);
	memset(text + used, 'x', pad + 1);
	strcpy(text + used + pad + 1, "\r\n\r\n");
	parse_bad(text, "the answer's head is longer than 16384 bytes");
	/* Without any line's end, once the limit has come. */
	memset(text, 'x', TOXI_HEAD_MAX);
	memcpy(text, "HTTP/1.1 200 OK\r\nX: ", 20);
	text[TOXI_HEAD_MAX] = '\0';
	parse_bad(text, "the answer's head is longer than 16384 bytes");
	text[TOXI_HEAD_MAX - 1] = '\0';
	cr_assert_eq(parse(text, 0), TOXI_INCOMPLETE);
	free(text);
}

Test(toxi, what_is_not_http_is_said_at_once)
{
	parse_bad("-ERR unknown command 'GET'\r\n", "the answer is not HTTP/1.x");
	parse_bad("+", "the answer is not HTTP/1.x");
	cr_assert_eq(parse("HTT", 0), TOXI_INCOMPLETE);
	parse_bad("HTTP/2 200 OK\r\n\r\n", "the answer is not HTTP/1.x");
	parse_bad("HTTP/1.1 20 OK\r\n\r\n", "the answer is not HTTP/1.x");
	parse_bad("HTTP/1.1 2000 OK\r\n\r\n", "the answer is not HTTP/1.x");
	parse_bad("HTTP/1.1 099 Low\r\n\r\n",
	    "the answer's status is not a number from 100 to 599");
	parse_bad("HTTP/1.1 600 High\r\n\r\n",
	    "the answer's status is not a number from 100 to 599");
	cr_assert_eq(parse("HTTP/1.1 599\r\nContent-Length: 0\r\n\r\n", 0), 35);
	cr_assert_eq(r.status, 599);
	cr_assert_eq(parse("HTTP/1.1 100 Continue\r\n\r\n", 0), 25);
}

Test(toxi, one_content_length_and_no_transfer_encoding)
{
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\n{}",
	    2), 59);
	parse_bad("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}",
	    "the answer's Content-Length is not one number");
	parse_bad("HTTP/1.1 200 OK\r\nContent-Length: +2\r\n\r\n{}",
	    "the answer's Content-Length is not one number");
	parse_bad("HTTP/1.1 200 OK\r\nContent-Length: \r\n\r\n{}",
	    "the answer's Content-Length is not one number");
	parse_bad("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	    "the answer has a Transfer-Encoding (only Content-Length is taken)");
	/* A header that only starts like it is another header. */
	cr_assert_eq(parse("HTTP/1.1 200 OK\r\nContent-Lengthy: 9\r\nContent-Length: 2\r\n\r\n"
	    "{}", 2), 60);
}
