/* SPDX-License-Identifier: MIT */
#ifndef TCPD_RESP_H
#define TCPD_RESP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct buf;

/*
 * Requests in Redis's wire protocol: RESP2 arrays of bulk strings
 * ("*2\r\n$4\r\nECHO\r\n$2\r\nhi\r\n") or inline lines ("ECHO hi\r\n", LF
 * alone accepted, words split on spaces and tabs, "double quotes" group).
 */

#define RESP_INCOMPLETE		(-2)
#define RESP_ERROR		(-1)

/* Arguments kept per request; more are counted in argc but not stored. */
#define RESP_MAX_ARGS		8
/* Largest element count accepted in a RESP array header. */
#define RESP_MAX_ELEMENTS	(1024 * 1024)

/*
 * What the parser has already checked of an incomplete request, so the next
 * call resumes instead of rescanning. Zero it before a connection's first
 * request; resp_parse() resets it after each complete request or error.
 */
struct resp_state {
	uint32_t	pos;		/* bytes already validated: a request is under 4 GiB */
	uint32_t	nelems;		/* array size, once its header is read */
	uint32_t	done;		/* array elements validated */
};

struct resp_arg {
	const char	*ptr;		/* into the caller's buffer, not NUL-terminated */
	size_t		 len;
};

struct resp_request {
	size_t		 argc;		/* 0 for an empty line or array */
	struct resp_arg	 argv[RESP_MAX_ARGS];
	char		 error[64];	/* why, on RESP_ERROR */
};

/*
 * Parses one request from the start of buf. Returns the bytes it used (> 0)
 * with *req filled and pointing into buf; RESP_INCOMPLETE when more input is
 * needed; RESP_ERROR with req->error set (the text after "Protocol error: ").
 * len is under 4 GiB (a connection's input buffer).
 * No line and no bulk string may exceed max_len bytes: an inline line that
 * reaches it without a newline is an error before the newline arrives.
 */
ssize_t	resp_parse(struct resp_state *st, struct resp_request *req,
	    const char *buf, size_t len, size_t max_len);

/* "$" or "*" plus a sign, 19 digits and CRLF fits; anything longer is junk. */
#define RESP_INT_LINE_MAX	32

/*
 * The one reader of RESP integer lines, "<type><integer>\r\n", for requests
 * and replies alike: buf[0] is the type byte, whatever it is. Returns the
 * line's length (> 0) with *value set; RESP_INCOMPLETE; or RESP_ERROR when
 * it is not CRLF-ended within RESP_INT_LINE_MAX bytes or not an integer in
 * [min, max] (never overflowing).
 */
ssize_t	resp_read_int_line(const char *buf, size_t len, int64_t min, int64_t max,
	    int64_t *value);

/* Reply writers. Each appends one RESP2 value; 0, or -1 with errno (buf full). */
int	resp_add_simple(struct buf *out, const char *s);
/* "-" + text; CR and LF in the text become spaces so the reply stays one line. */
int	resp_add_error(struct buf *out, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	resp_add_bulk(struct buf *out, const void *p, size_t n);
int	resp_add_array(struct buf *out, size_t n);
int	resp_add_int(struct buf *out, int64_t v);

/*
 * The protocol a connection speaks: RESP2 until it asks for RESP3 (HELLO 3).
 * The writers below give RESP3's type to a RESP3 connection and RESP2's
 * nearest to the other, as redis-server 7 does.
 */
enum resp_proto { RESP2 = 2, RESP3 = 3 };

/* n key-value pairs follow: "%n", or a flat array of 2n. */
int	resp_add_map(struct buf *out, size_t n, enum resp_proto proto);
/* n members follow: "~n", or an array. */
int	resp_add_set(struct buf *out, size_t n, enum resp_proto proto);
/* "_", or the null bulk string "$-1". */
int	resp_add_null(struct buf *out, enum resp_proto proto);
/* Text for people (INFO, CLIENT INFO): a verbatim "txt" string, or a bulk string. */
int	resp_add_verbatim(struct buf *out, const void *p, size_t n, enum resp_proto proto);

#endif
