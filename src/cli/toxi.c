/* SPDX-License-Identifier: MIT */
/* The control API's client: an HTTP/1.1 request out, one response in, JSON both ways. */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/toxi.h"
#include "tcpd/buf.h"
#include "tcpd/net.h"
#include "tcpd/num.h"

#define TOXI_CHUNK	(64 * 1024)

static bool
unreserved(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '-' || c == '_' || c == '.' || c == '~';
}

int
toxi_path(char *dst, size_t size, const char *const segments[], size_t n)
{
	static const char hex[] = "0123456789ABCDEF";
	size_t at = 0, i;
	const unsigned char *s;

	for (i = 0; i < n; i++) {
		if (at + 1 >= size)
			return -1;
		dst[at++] = '/';
		for (s = (const unsigned char *)segments[i]; *s != '\0'; s++) {
			if (at + (unreserved(*s) ? 1 : 3) >= size)
				return -1;
			if (unreserved(*s)) {
				dst[at++] = (char)*s;
			} else {
				dst[at++] = '%';
				dst[at++] = hex[*s >> 4];
				dst[at++] = hex[*s & 15];
			}
		}
	}
	if (at >= size)
		return -1;
	dst[at] = '\0';
	return 0;
}

int
toxi_request(struct buf *out, const char *method, const char *path, const char *host,
    const char *body, size_t len)
{
	if (buf_appendf(out, "%s %s HTTP/1.1\r\nHost: %s\r\nConnection: close\r\n%s"
	    "Content-Length: %zu\r\n\r\n", method, path, host,
	    body != NULL ? "Content-Type: application/json\r\n" : "", len) == -1)
		return -1;
	return body != NULL ? buf_append(out, body, len) : 0;
}

/* The header value of line[0..len) when it is the header name, with its blanks trimmed. */
static bool
header_value(const char *line, size_t len, const char *name, const char **value,
    size_t *vlen)
{
	size_t n = strlen(name);

	if (len <= n || line[n] != ':' || strncasecmp(line, name, n) != 0)
		return false;
	line += n + 1;
	len -= n + 1;
	while (len > 0 && (line[0] == ' ' || line[0] == '\t'))
		line++, len--;
	while (len > 0 && (line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	*value = line;
	*vlen = len;
	return true;
}

/*
 * The status line at the front of buf[0..end) (end: its LF), "HTTP/1.x NNN
 * reason" (the reason is not kept: the body says why); -1 with *why when it
 * is not one.
 */
static int
parse_status_line(const char *buf, size_t end, struct toxi_response *r, const char **why)
{
	int64_t status;

	if (end > 0 && buf[end - 1] == '\r')
		end--;
	*why = "the answer is not HTTP/1.x";
	if (end < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || (buf[7] != '0' && buf[7] != '1') ||
	    buf[8] != ' ' || (end > 12 && buf[12] != ' '))
		return -1;
	*why = "the answer's status is not a number from 100 to 599";
	if (num_parse(buf + 9, 3, 100, 599, &status) == -1)
		return -1;
	r->status = (int)status;
	return 0;
}

ssize_t
toxi_response_parse(const char *buf, size_t len, size_t body_max, struct toxi_response *r,
    const char **why)
{
	const char *nl, *v;
	size_t at, end, vlen;
	int64_t length = -1, n;

	/* Not HTTP is said at once: a RESP server's error never ends in a blank line. */
	if (memcmp(buf, "HTTP/", len < 5 ? len : 5) != 0) {
		*why = "the answer is not HTTP/1.x";
		return TOXI_ERROR;
	}
	*r = (struct toxi_response){ 0 };
	for (at = 0;; at = end + 1) {
		if ((nl = memchr(buf + at, '\n', len - at)) == NULL) {
			if (len >= TOXI_HEAD_MAX) {
				*why = "the answer's head is longer than 16384 bytes";
				return TOXI_ERROR;
			}
			return TOXI_INCOMPLETE;
		}
		end = (size_t)(nl - buf);
		if (end + 1 > TOXI_HEAD_MAX) {
			*why = "the answer's head is longer than 16384 bytes";
			return TOXI_ERROR;
		}
		if (at == 0) {
			if (parse_status_line(buf, end, r, why) == -1)
				return TOXI_ERROR;
			continue;
		}
		vlen = end - at - (end > at && buf[end - 1] == '\r');
		if (vlen == 0)
			break;
		if (header_value(buf + at, vlen, "Transfer-Encoding", &v, &vlen)) {
			*why = "the answer has a Transfer-Encoding (only Content-Length is taken)";
			return TOXI_ERROR;
		}
		if (!header_value(buf + at, vlen, "Content-Length", &v, &vlen))
			continue;
		if (num_parse(v, vlen, 0, INT64_MAX, &n) == -1 || (length != -1 && n != length)) {
			*why = "the answer's Content-Length is not one number";
			return TOXI_ERROR;
		}
		length = n;
	}
	r->head_len = end + 1;
	if (length == -1 && r->status >= 200 && r->status != 204 && r->status != 304) {
		*why = "the answer has no Content-Length";
		return TOXI_ERROR;
	}
	if (length > (int64_t)body_max) {
		*why = "the answer's body is larger than the limit";
		return TOXI_ERROR;
	}
	r->body_len = length == -1 ? 0 : (size_t)length;
	if (len - r->head_len < r->body_len)
		return TOXI_INCOMPLETE;
	return (ssize_t)(r->head_len + r->body_len);
}

/* Waits for events on fd; false with err set on timeout or error. */
static bool
wait_fd(int fd, short events, int timeout_ms, char *err, size_t errlen)
{
	struct pollfd p = { .fd = fd, .events = events };
	int rc;

	do
		rc = poll(&p, 1, timeout_ms > 0 ? timeout_ms : -1);
	while (rc == -1 && errno == EINTR);
	if (rc == 0)
		snprintf(err, errlen, "no answer from the control API within %d ms", timeout_ms);
	else if (rc == -1)
		snprintf(err, errlen, "poll: %s", strerror(errno));
	return rc > 0;
}

static int
send_request(int fd, const struct buf *req, int timeout_ms, char *err, size_t errlen)
{
	const char *p = buf_data(req);
	size_t left = buf_len(req);
	ssize_t w;

	while (left > 0) {
		w = send(fd, p, left, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w == -1 && errno == EAGAIN) {
			if (!wait_fd(fd, POLLOUT, timeout_ms, err, errlen))
				return -1;
			continue;
		}
		if (w == -1 && errno == EINTR)
			continue;
		if (w == -1) {
			snprintf(err, errlen, "send: %s", strerror(errno));
			return -1;
		}
		p += w;
		left -= (size_t)w;
	}
	return 0;
}

/* Reads until a whole response is in in; its length, or -1 with err set. */
static ssize_t
read_response(int fd, struct buf *in, int timeout_ms, struct toxi_response *r, char *err,
    size_t errlen)
{
	const char *why;
	ssize_t got = TOXI_INCOMPLETE, n;
	char *dst;

	while (got == TOXI_INCOMPLETE) {
		if (!wait_fd(fd, POLLIN, timeout_ms, err, errlen))
			return -1;
		/* The parse refuses a head or body past the limits first. */
		if ((dst = buf_reserve(in, TOXI_CHUNK)) == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		do
			n = recv(fd, dst, TOXI_CHUNK, MSG_DONTWAIT);
		while (n == -1 && errno == EINTR);
		if (n == -1 && errno == EAGAIN)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "recv: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "the control API closed the connection before its "
			    "answer was complete");
			return -1;
		}
		buf_commit(in, (size_t)n);
		got = toxi_response_parse(buf_data(in), buf_len(in), TOXI_BODY_MAX, r, &why);
		if (got == TOXI_ERROR)
			snprintf(err, errlen, "%s", why);
	}
	return got;
}

int
toxi_call(const struct toxi_server *s, const char *method, const char *path, json_t *body,
    json_t **reply, char *err, size_t errlen)
{
	char *text = NULL, host[NET_ADDRSTRLEN + 16];
	struct toxi_response r;
	struct net_addr used;
	struct buf req, in;
	json_error_t jerr;
	int fd, saved, status = -1;

	*reply = NULL;
	/* Host: names the server as the URL would, an IPv6 address in brackets. */
	snprintf(host, sizeof(host), strchr(s->host, ':') != NULL ? "[%s]:%s" : "%s:%s",
	    s->host, s->port);
	buf_init(&req, SIZE_MAX);
	buf_init(&in, TOXI_HEAD_MAX + TOXI_BODY_MAX + TOXI_CHUNK);
	if ((body != NULL && (text = json_dumps(body, JSON_COMPACT)) == NULL) ||
	    toxi_request(&req, method, path, host, text,
	    text != NULL ? strlen(text) : 0) == -1) {
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if ((fd = net_dial(s->host, s->port, s->connect_timeout_ms, &used, err, errlen)) == -1)
		goto out;
	if (send_request(fd, &req, s->timeout_ms, err, errlen) == 0 &&
	    read_response(fd, &in, s->timeout_ms, &r, err, errlen) > 0) {
		status = r.status;
		if (r.body_len > 0 && (*reply = json_loadb(buf_data(&in) + r.head_len,
		    r.body_len, 0, &jerr)) == NULL) {
			snprintf(err, errlen, "the control API's answer is not JSON: %s", jerr.text);
			status = -1;
		}
	}
	close(fd);
out:
	saved = errno;
	free(text);
	buf_free(&req);
	buf_free(&in);
	errno = saved;
	return status;
}
