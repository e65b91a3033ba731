/* SPDX-License-Identifier: MIT */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "tcpd/buf.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

static ssize_t
fail(struct resp_state *st, struct resp_request *req, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static ssize_t
fail(struct resp_state *st, struct resp_request *req, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(req->error, sizeof(req->error), fmt, ap);
	va_end(ap);
	*st = (struct resp_state){ 0 };
	return RESP_ERROR;
}

static void
add_arg(struct resp_request *req, const char *p, size_t n)
{
	if (req->argc < RESP_MAX_ARGS)
		req->argv[req->argc] = (struct resp_arg){ p, n };
	req->argc++;
}

/* Splits one inline line into words; false on an unbalanced quote. */
static bool
split_inline(struct resp_request *req, const char *s, size_t n)
{
	size_t i = 0, start;

	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		if (s[i] == '"') {
			start = ++i;
			while (i < n && s[i] != '"')
				i++;
			if (i == n)
				return false;
			add_arg(req, s + start, i - start);
			i++;
			/* A closing quote must end the word: "a"b is ambiguous. */
			if (i < n && s[i] != ' ' && s[i] != '\t')
				return false;
			continue;
		}
		start = i;
		while (i < n && s[i] != ' ' && s[i] != '\t')
			i++;
		add_arg(req, s + start, i - start);
	}
	return true;
}

static ssize_t
parse_inline(struct resp_state *st, struct resp_request *req, const char *buf,
    size_t len, size_t max_len)
{
	const char *nl = memchr(buf + st->pos, '\n', len - st->pos);
	size_t linelen;

	if (nl == NULL) {
		/* The CR of a line of exactly max_len may come before its LF. */
		if (len > max_len && !(len == max_len + 1 && buf[max_len] == '\r'))
			return fail(st, req, "too big inline request");
		st->pos = (uint32_t)len;
		return RESP_INCOMPLETE;
	}
	linelen = (size_t)(nl - buf);
	if (linelen > 0 && buf[linelen - 1] == '\r')
		linelen--;
	if (linelen > max_len)
		return fail(st, req, "too big inline request");
	if (!split_inline(req, buf, linelen))
		return fail(st, req, "unbalanced quotes in request");
	*st = (struct resp_state){ 0 };
	return nl - buf + 1;
}

ssize_t
resp_read_int_line(const char *buf, size_t len, int64_t min, int64_t max,
    int64_t *value)
{
	size_t end = len < RESP_INT_LINE_MAX ? len : RESP_INT_LINE_MAX;
	const char *cr = end > 1 ? memchr(buf + 1, '\r', end - 1) : NULL;

	if (cr == NULL)
		return len < RESP_INT_LINE_MAX ? RESP_INCOMPLETE : RESP_ERROR;
	if ((size_t)(cr - buf) + 1 == len)
		return RESP_INCOMPLETE;
	if (cr[1] != '\n' ||
	    num_parse(buf + 1, (size_t)(cr - buf) - 1, min, max, value) == -1)
		return RESP_ERROR;
	return cr - buf + 2;
}

/* A header line at buf[pos]: the position after it, 0 when incomplete, -1 when bad. */
static ssize_t
read_header(const char *buf, size_t len, size_t pos, int64_t min, int64_t max,
    int64_t *value)
{
	ssize_t n = resp_read_int_line(buf + pos, len - pos, min, max, value);

	if (n == RESP_INCOMPLETE)
		return 0;
	return n < 0 ? -1 : (ssize_t)pos + n;
}

static ssize_t
parse_array(struct resp_state *st, struct resp_request *req, const char *buf,
    size_t len, size_t max_len)
{
	int64_t n;
	ssize_t next;
	size_t pos;
	/* Whole in this call, as nearly every request is: one pass takes the arguments. */
	bool one_pass = st->pos == 0;

	if (st->pos == 0) {
		if ((next = read_header(buf, len, 0, INT64_MIN, RESP_MAX_ELEMENTS,
		    &n)) == 0)
			return RESP_INCOMPLETE;
		if (next < 0)
			return fail(st, req, "invalid multibulk length");
		if (n <= 0) {
			*st = (struct resp_state){ 0 };
			return next;
		}
		st->nelems = (uint32_t)n;
		st->pos = (uint32_t)next;
	}
	while (st->done < st->nelems) {
		pos = st->pos;
		if (pos == len)
			return RESP_INCOMPLETE;
		if (buf[pos] != '$') {
			if (buf[pos] >= 0x21 && buf[pos] <= 0x7e)
				return fail(st, req, "expected '$', got '%c'", buf[pos]);
			return fail(st, req, "expected '$', got byte 0x%02x",
			    (unsigned char)buf[pos]);
		}
		if ((next = read_header(buf, len, pos, 0, (int64_t)max_len, &n)) == 0)
			return RESP_INCOMPLETE;
		if (next < 0)
			return fail(st, req, "invalid bulk length");
		if (len - (size_t)next < (size_t)n + 2)
			return RESP_INCOMPLETE;
		if (buf[next + n] != '\r' || buf[next + n + 1] != '\n')
			return fail(st, req, "bulk string not followed by CRLF");
		if (one_pass)
			add_arg(req, buf + next, (size_t)n);
		st->pos = (uint32_t)((size_t)next + (size_t)n + 2);
		st->done++;
	}
	if (one_pass) {
		pos = st->pos;
		*st = (struct resp_state){ 0 };
		return (ssize_t)pos;
	}

	/* Complete over several calls: a second, unchecked pass collects the arguments. */
	pos = (size_t)read_header(buf, len, 0, INT64_MIN, INT64_MAX, &n);
	while (req->argc < st->nelems) {
		next = read_header(buf, len, pos, 0, INT64_MAX, &n);
		add_arg(req, buf + next, (size_t)n);
		pos = (size_t)next + (size_t)n + 2;
	}
	*st = (struct resp_state){ 0 };
	return (ssize_t)pos;
}

ssize_t
resp_parse(struct resp_state *st, struct resp_request *req, const char *buf,
    size_t len, size_t max_len)
{
	req->argc = 0;
	req->error[0] = '\0';
	if (len == 0)
		return RESP_INCOMPLETE;
	if (buf[0] == '*')
		return parse_array(st, req, buf, len, max_len);
	return parse_inline(st, req, buf, len, max_len);
}

/*
 * A type byte, n in decimal and CRLF at dst (room for RESP_HEADER_MAX);
 * the length written. Replies are made for every request: no printf.
 */
#define RESP_HEADER_MAX	24

static size_t
put_header(char *dst, char type, uint64_t n)
{
	char digits[20];
	size_t k = 0, len;

	do
		digits[k++] = (char)('0' + n % 10);
	while ((n /= 10) != 0);
	dst[0] = type;
	for (len = 1; k > 0; len++)
		dst[len] = digits[--k];
	dst[len++] = '\r';
	dst[len++] = '\n';
	return len;
}

static int add_header(struct buf *out, char type, uint64_t n);

int
resp_add_simple(struct buf *out, const char *s)
{
	size_t n = strlen(s);
	char *dst;

	if ((dst = buf_reserve(out, n + 3)) == NULL)
		return -1;
	dst[0] = '+';
	memcpy(dst + 1, s, n);
	memcpy(dst + 1 + n, "\r\n", 2);
	buf_commit(out, n + 3);
	return 0;
}

int
resp_add_error(struct buf *out, const char *fmt, ...)
{
	char text[256], *p;
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	for (p = text; *p != '\0'; p++)
		if (*p == '\r' || *p == '\n')
			*p = ' ';
	return buf_appendf(out, "-%s\r\n", text);
}

int
resp_add_bulk(struct buf *out, const void *p, size_t n)
{
	char *dst;
	size_t hdr;

	if ((dst = buf_reserve(out, RESP_HEADER_MAX + n + 2)) == NULL)
		return -1;
	hdr = put_header(dst, '$', n);
	if (n > 0)	/* an empty bulk may come from a buffer never allocated */
		memcpy(dst + hdr, p, n);
	memcpy(dst + hdr + n, "\r\n", 2);
	buf_commit(out, hdr + n + 2);
	return 0;
}

int
resp_add_array(struct buf *out, size_t n)
{
	return add_header(out, '*', n);
}

int
resp_add_int(struct buf *out, int64_t v)
{
	char *dst;
	size_t len;

	if ((dst = buf_reserve(out, RESP_HEADER_MAX)) == NULL)
		return -1;
	if (v >= 0) {
		len = put_header(dst, ':', (uint64_t)v);
	} else {
		/* The magnitude of INT64_MIN has no int64_t: negate as unsigned. */
		len = put_header(dst + 1, '-', -(uint64_t)v) + 1;
		dst[0] = ':';
	}
	buf_commit(out, len);
	return 0;
}

static int
add_header(struct buf *out, char type, uint64_t n)
{
	char *dst;

	if ((dst = buf_reserve(out, RESP_HEADER_MAX)) == NULL)
		return -1;
	buf_commit(out, put_header(dst, type, n));
	return 0;
}

int
resp_add_map(struct buf *out, size_t n, enum resp_proto proto)
{
	return proto == RESP3 ? add_header(out, '%', n) : add_header(out, '*', 2 * (uint64_t)n);
}

int
resp_add_set(struct buf *out, size_t n, enum resp_proto proto)
{
	return add_header(out, proto == RESP3 ? '~' : '*', n);
}

int
resp_add_null(struct buf *out, enum resp_proto proto)
{
	return proto == RESP3 ? buf_append(out, "_\r\n", 3) : buf_append(out, "$-1\r\n", 5);
}

int
resp_add_verbatim(struct buf *out, const void *p, size_t n, enum resp_proto proto)
{
	char *dst;
	size_t hdr;

	if (proto != RESP3)
		return resp_add_bulk(out, p, n);
	if ((dst = buf_reserve(out, RESP_HEADER_MAX + 4 + n + 2)) == NULL)
		return -1;
	hdr = put_header(dst, '=', 4 + (uint64_t)n);
	memcpy(dst + hdr, "txt:", 4);
	if (n > 0)
		memcpy(dst + hdr + 4, p, n);
	memcpy(dst + hdr + 4 + n, "\r\n", 2);
	buf_commit(out, hdr + 4 + n + 2);
	return 0;
}
