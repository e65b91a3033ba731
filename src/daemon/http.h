/* SPDX-License-Identifier: MIT */
#ifndef TCPD_HTTP_H
#define TCPD_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/*
 * HTTP/1.x request heads, as much as /metrics and the control API need: a pure
 * parser over bytes that knows no socket.
 */

#define HTTP_INCOMPLETE	(-2)
#define HTTP_ERROR	(-1)

/* What an HTTP service's listener sends a client it refuses (over a limit). */
#define HTTP_REFUSAL	"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n" \
	"Connection: close\r\n\r\n"

/* The methods a service here tells apart; the rest are HTTP_OTHER. */
enum http_method { HTTP_GET, HTTP_HEAD, HTTP_POST, HTTP_PATCH, HTTP_DELETE, HTTP_OTHER };

/* How far an incomplete head was searched for its end: zero it per request. */
struct http_state {
	size_t		scanned;
};

struct http_request {
	enum http_method method;
	const char	*path;		/* into the buffer: the target up to '?' */
	size_t		 path_len;
	unsigned	 minor;		/* HTTP/1.minor */
	bool		 keep_alive;	/* what the client asked, by version and Connection */
	bool		 length_given;	/* a Content-Length: a second one is refused */
	uint64_t	 content_length;	/* the body after the head, without chunking */
	bool		 chunked;	/* Transfer-Encoding: its length is unknown */
	int		 status;	/* on HTTP_ERROR: 400, 414, 431 or 505 */
	const char	*why;		/* on HTTP_ERROR: a static explanation */
};

/* Whether a body follows the head: a Content-Length over 0, or chunks. */
static inline bool
http_has_body(const struct http_request *req)
{
	return req->content_length > 0 || req->chunked;
}

/*
 * Parses the request head at the start of buf (request line, headers, the
 * empty line; CRLF or a bare LF ending each line). Returns the head's length
 * (> 0) with *req filled; HTTP_INCOMPLETE when more bytes are needed (buf
 * must start with the same bytes next time); or HTTP_ERROR with status and
 * why set. A head longer than max_head is 431, or 414 when its request line
 * alone is. Searching resumes where the last incomplete call stopped, so a
 * head that arrives a byte at a time costs linear time.
 */
ssize_t	http_parse(struct http_state *st, const char *buf, size_t len, size_t max_head,
	    struct http_request *req);

/* The reason phrase of a status this module or its callers use. */
const char *http_reason(int status);

#endif
