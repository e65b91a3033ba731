/* SPDX-License-Identifier: MIT */
#ifndef TCPD_TOXI_H
#define TCPD_TOXI_H

#include <sys/types.h>

#include <jansson.h>
#include <stddef.h>

struct buf;

/*
 * tcpd-cli's side of tcpd's control API (Toxiproxy's HTTP API): one
 * HTTP/1.1 request, one response with a Content-Length body, JSON through
 * jansson.
 */

#define TOXI_HEAD_MAX	(16 * 1024)	/* a response's status line and headers */
#define TOXI_BODY_MAX	(8u << 20)	/* a response's body */

enum { TOXI_ERROR = -1, TOXI_INCOMPLETE = -2 };

struct toxi_response {
	int	 status;	/* 100 to 599 */
	size_t	 head_len;	/* status line and headers, the blank line included */
	size_t	 body_len;	/* Content-Length (0 for a 1xx, 204 or 304 without one) */
};

/* Where the control API listens and how long to wait for it. */
struct toxi_server {
	const char	*host;
	const char	*port;
	int		 connect_timeout_ms;	/* 0: the system's own */
	int		 timeout_ms;		/* for each read and write; 0: no limit */
};

/*
 * "/" and each of the n segments joined by "/" into dst (size bytes), every
 * byte of a segment but RFC 3986's unreserved ones percent-encoded, so a
 * name cannot step into another path. Returns 0, or -1 when it does not fit.
 */
int	toxi_path(char *dst, size_t size, const char *const segments[], size_t n);

/*
 * Appends to out a request: method and path, Host: host, Connection:
 * close, Content-Length: len, and with a body (len bytes, NULL for none)
 * Content-Type: application/json. Returns 0, or -1 with errno when out is
 * full.
 */
int	toxi_request(struct buf *out, const char *method, const char *path, const char *host,
	    const char *body, size_t len);

/*
 * Parses the response at the front of buf[0..len): the status line
 * ("HTTP/1.0" or "HTTP/1.1", a 3-digit status, a reason), headers up to an
 * empty line (lines end in LF or CRLF) and a body of Content-Length bytes.
 * Returns head and body's length once all have come, with *r filled;
 * TOXI_INCOMPLETE when more is needed; TOXI_ERROR with *why for bytes that
 * are not HTTP, a head over TOXI_HEAD_MAX, a body over body_max (known
 * from the head, before the body comes), no Content-Length where a body is
 * due, two that differ, or a Transfer-Encoding.
 */
ssize_t	toxi_response_parse(const char *buf, size_t len, size_t body_max,
	    struct toxi_response *r, const char **why);

/*
 * One request to the control API on a connection of its own: body (NULL
 * for none) sent as JSON. Returns the response's status with its body
 * parsed into *reply (NULL when empty; json_decref() it), or -1 with a
 * message in err: the server not reached (errno kept from the connect), the
 * connection lost or timed out, or an answer that is not HTTP, too large or
 * not JSON.
 */
int	toxi_call(const struct toxi_server *s, const char *method, const char *path,
	    json_t *body, json_t **reply, char *err, size_t errlen);

#endif
