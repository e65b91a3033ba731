/* SPDX-License-Identifier: MIT */
#include <string.h>
#include <strings.h>

#include "daemon/http.h"
#include "tcpd/num.h"

static ssize_t
fail(struct http_request *req, int status, const char *why)
{
	req->status = status;
	req->why = why;
	return HTTP_ERROR;
}

/* The end of the head (after its empty line), or 0 when it has not arrived. */
static size_t
head_end(struct http_state *st, const char *buf, size_t len)
{
	size_t i = st->scanned, k;
	const char *nl;

	while (i < len && (nl = memchr(buf + i, '\n', len - i)) != NULL) {
		k = (size_t)(nl - buf);
		/* An empty line follows: LF LF or LF CR LF. */
		if (k + 1 < len && buf[k + 1] == '\n')
			return k + 2;
		if (k + 2 < len && buf[k + 1] == '\r' && buf[k + 2] == '\n')
			return k + 3;
		if (k + 1 == len || (k + 2 == len && buf[k + 1] == '\r')) {
			st->scanned = k;	/* what follows this LF is still to come */
			return 0;
		}
		i = k + 1;
	}
	st->scanned = len;
	return 0;
}

static bool
is_tchar(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* Whether a comma-separated header value holds token, case-insensitively. */
static bool
has_token(const char *v, size_t n, const char *token)
{
	size_t tlen = strlen(token), i = 0, start, end;

	while (i < n) {
		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		start = i;
		while (i < n && v[i] != ',')
			i++;
		end = i;
		while (end > start && (v[end - 1] == ' ' || v[end - 1] == '\t'))
			end--;
		if (end - start == tlen && strncasecmp(v + start, token, tlen) == 0)
			return true;
	}
	return false;
}

/* One "Name: value" line (without its line end). */
static ssize_t
header(struct http_request *req, const char *s, size_t n, bool *close, bool *keep)
{
	const char *colon = memchr(s, ':', n), *v;
	size_t name_len, vlen, i;
	int64_t length;

	if (n > 0 && (s[0] == ' ' || s[0] == '\t'))
		return fail(req, 400, "folded header lines are not accepted");
	if (colon == NULL || colon == s)
		return fail(req, 400, "a header line without a name and ':'");
	name_len = (size_t)(colon - s);
	for (i = 0; i < name_len; i++)
		if (!is_tchar(s[i]))
			return fail(req, 400, "invalid character in a header name");
	v = colon + 1;
	vlen = n - name_len - 1;
	while (vlen > 0 && (*v == ' ' || *v == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;
	if (name_len == 10 && strncasecmp(s, "connection", 10) == 0) {
		*close |= has_token(v, vlen, "close");
		*keep |= has_token(v, vlen, "keep-alive");
	} else if (name_len == 14 && strncasecmp(s, "content-length", 14) == 0) {
		/* Two lengths: which one a proxy in front of us took is unknown (RFC 9112 6.3). */
		if (req->length_given)
			return fail(req, 400, "more than one Content-Length");
		if (num_parse(v, vlen, 0, INT64_MAX, &length) == -1)
			return fail(req, 400, "invalid Content-Length");
		req->length_given = true;
		req->content_length = (uint64_t)length;
	} else if (name_len == 17 && strncasecmp(s, "transfer-encoding", 17) == 0) {
		req->chunked = true;
	}
	return 0;
}

/* "METHOD /target HTTP/1.x" (without its line end). */
static ssize_t
request_line(struct http_request *req, const char *s, size_t n)
{
	const char *sp1 = memchr(s, ' ', n), *sp2, *target, *q;
	size_t mlen, tlen;

	if (sp1 == NULL || (sp2 = memchr(sp1 + 1, ' ', n - (size_t)(sp1 + 1 - s))) == NULL)
		return fail(req, 400, "the request line is not METHOD TARGET HTTP/1.x");
	mlen = (size_t)(sp1 - s);
	target = sp1 + 1;
	tlen = (size_t)(sp2 - target);
	if (mlen == 0 || tlen == 0)
		return fail(req, 400, "the request line is not METHOD TARGET HTTP/1.x");
	req->method = mlen == 3 && memcmp(s, "GET", 3) == 0 ? HTTP_GET :
	    mlen == 4 && memcmp(s, "HEAD", 4) == 0 ? HTTP_HEAD :
	    mlen == 4 && memcmp(s, "POST", 4) == 0 ? HTTP_POST :
	    mlen == 5 && memcmp(s, "PATCH", 5) == 0 ? HTTP_PATCH :
	    mlen == 6 && memcmp(s, "DELETE", 6) == 0 ? HTTP_DELETE : HTTP_OTHER;
	if ((size_t)(s + n - (sp2 + 1)) != 8 || memcmp(sp2 + 1, "HTTP/", 5) != 0 ||
	    sp2[7] != '.' || sp2[6] < '0' || sp2[6] > '9' || sp2[8] < '0' || sp2[8] > '9')
		return fail(req, 400, "the request line is not METHOD TARGET HTTP/1.x");
	if (sp2[6] != '1')
		return fail(req, 505, "only HTTP/1.0 and HTTP/1.1 are spoken here");
	req->minor = (unsigned)(sp2[8] - '0');
	if (target[0] != '/')
		return fail(req, 400, "the target must be a path starting with '/'");
	q = memchr(target, '?', tlen);
	req->path = target;
	req->path_len = q != NULL ? (size_t)(q - target) : tlen;
	return 0;
}

ssize_t
http_parse(struct http_state *st, const char *buf, size_t len, size_t max_head,
    struct http_request *req)
{
	size_t end, pos, n;
	bool close = false, keep = false;
	const char *nl;

	memset(req, 0, sizeof(*req));
	if ((end = head_end(st, buf, len > max_head ? max_head : len)) == 0) {
		if (len < max_head)
			return HTTP_INCOMPLETE;
		*st = (struct http_state){ 0 };
		return memchr(buf, '\n', max_head) == NULL ?
		    fail(req, 414, "the request line is longer than the limit (max_line)") :
		    fail(req, 431, "the request head is longer than the limit (max_line)");
	}
	*st = (struct http_state){ 0 };
	for (pos = 0; pos < end; pos += n + 1) {
		nl = memchr(buf + pos, '\n', end - pos);
		n = (size_t)(nl - (buf + pos));
		/* The line's own length, without a CR before its LF. */
		size_t line = n > 0 && buf[pos + n - 1] == '\r' ? n - 1 : n;

		if (line == 0 && pos == 0)
			return fail(req, 400, "an empty request line");
		if (line == 0)
			break;		/* the empty line that ends the head */
		if (memchr(buf + pos, '\r', line) != NULL || memchr(buf + pos, '\0', line) != NULL)
			return fail(req, 400, "a stray CR or NUL in the request head");
		if ((pos == 0 ? request_line(req, buf, line) :
		    header(req, buf + pos, line, &close, &keep)) == HTTP_ERROR)
			return HTTP_ERROR;
	}
	req->keep_alive = req->minor >= 1 ? !close : keep && !close;
	return (ssize_t)end;
}

const char *
http_reason(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 408: return "Request Timeout";
	case 409: return "Conflict";
	case 411: return "Length Required";
	case 413: return "Content Too Large";
	case 414: return "URI Too Long";
	case 431: return "Request Header Fields Too Large";
	case 500: return "Internal Server Error";
	case 503: return "Service Unavailable";
	case 505: return "HTTP Version Not Supported";
	default: return "Unknown";
	}
}
