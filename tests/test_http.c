/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/http.h"

#define S(lit) lit, sizeof(lit) - 1

static struct http_request req;

/* Parses text whole, and again fed a byte at a time: both must agree. */
static ssize_t
parse(const char *text, size_t len, size_t max)
{
	struct http_state st = { 0 };
	struct http_request split;
	ssize_t whole, n = HTTP_INCOMPLETE;
	size_t cut;

	whole = http_parse(&st, text, len, max, &req);
	memset(&st, 0, sizeof(st));
	for (cut = 1; cut <= len && n == HTTP_INCOMPLETE; cut++)
		n = http_parse(&st, text, cut, max, &split);
	cr_assert_eq(n, whole, "byte at a time: %zd, whole: %zd", n, whole);
	if (whole == HTTP_ERROR)
		cr_assert_eq(split.status, req.status);
	return whole;
}

Test(http, a_get_with_headers)
{
	static const char r[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\nNEXT";

	cr_assert_eq(parse(S(r), 8192), (ssize_t)sizeof(r) - 1 - 4);
	cr_assert_eq(req.method, HTTP_GET);
	cr_assert_eq(req.path_len, 8);
	cr_assert_eq(memcmp(req.path, "/metrics", 8), 0);
	cr_assert_eq(req.minor, 1);
	cr_assert(req.keep_alive);
	cr_assert_not(http_has_body(&req));
}

Test(http, bare_lf_lines_and_head)
{
	cr_assert_eq(parse(S("HEAD / HTTP/1.0\n\n"), 8192), 17);
	cr_assert_eq(req.method, HTTP_HEAD);
	cr_assert_not(req.keep_alive, "1.0 closes unless asked");
}

Test(http, connection_header_decides_keep_alive)
{
	parse(S("GET / HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n"), 8192);
	cr_assert_not(req.keep_alive);
	parse(S("GET / HTTP/1.0\r\nconnection:Keep-Alive\r\n\r\n"), 8192);
	cr_assert(req.keep_alive);
}

Test(http, a_body_is_noted)
{
	parse(S("POST /x HTTP/1.1\r\nContent-Length: 3\r\n\r\n"), 8192);
	cr_assert_eq(req.method, HTTP_POST);
	cr_assert(http_has_body(&req));
	cr_assert_eq(req.content_length, 3);
	cr_assert_not(req.chunked);
	parse(S("GET / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"), 8192);
	cr_assert(http_has_body(&req));
	cr_assert(req.chunked);
	parse(S("DELETE /x HTTP/1.1\r\n\r\n"), 8192);
	cr_assert_eq(req.method, HTTP_DELETE);
	parse(S("PATCH /x HTTP/1.1\r\n\r\n"), 8192);
	cr_assert_eq(req.method, HTTP_PATCH);
	parse(S("PUT /x HTTP/1.1\r\n\r\n"), 8192);
	cr_assert_eq(req.method, HTTP_OTHER);
	parse(S("GET / HTTP/1.1\r\nContent-Length: 0\r\n\r\n"), 8192);
	cr_assert_not(http_has_body(&req));
}

Test(http, malformed_heads_and_their_status)
{
	static const struct { const char *text; int status; } bad[] = {
		{ "GET /\r\n\r\n", 400 },
		{ "GET / HTTP/2.0\r\n\r\n", 505 },
		{ "GET / HTTP/1.1x\r\n\r\n", 400 },
		{ "GET http://a/ HTTP/1.1\r\n\r\n", 400 },
		{ "\r\nGET / HTTP/1.1\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nNoColon\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\n folded: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 400 },
		{ "POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 0\r\n\r\n", 400 },
		{ "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", 400 },
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(parse(bad[i].text, strlen(bad[i].text), 8192), HTTP_ERROR, "%s",
		    bad[i].text);
		cr_assert_eq(req.status, bad[i].status, "%s: %d", bad[i].text, req.status);
		cr_assert_not_null(req.why);
	}
}

/* At the limit: a head of exactly max bytes is taken; one more is refused before its end. */
Test(http, the_head_limit)
{
	char head[128];
	size_t n = (size_t)snprintf(head, sizeof(head), "GET / HTTP/1.1\r\nX: %s\r\n\r\n",
	    "0123456789");

	cr_assert_eq(parse(head, n, n), (ssize_t)n);
	cr_assert_eq(parse(head, n, n - 1), HTTP_ERROR);
	cr_assert_eq(req.status, 431);
	memset(head, 'a', sizeof(head));
	memcpy(head, "GET /", 5);
	cr_assert_eq(parse(head, sizeof(head), 64), HTTP_ERROR);
	cr_assert_eq(req.status, 414, "no line end within the limit: the request line");
	cr_assert_eq(parse(head, 63, 64), HTTP_INCOMPLETE);
}
