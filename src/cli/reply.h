/* SPDX-License-Identifier: MIT */
#ifndef TCPD_REPLY_H
#define TCPD_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

/* Replies nested deeper than this are refused as malformed. */
#define REPLY_MAX_DEPTH	32

/*
 * How far reply_parse() has validated an incomplete reply, so the next call
 * resumes there instead of rescanning from the start: intake stays linear in
 * the reply's size. Zero it before each reply.
 */
struct reply_state {
	size_t		pos;		/* start of the first element not yet validated */
	size_t		scanned;	/* of a +/- line at pos: bytes searched for CR */
	unsigned	depth;		/* open aggregates */
	uint64_t	attrs;		/* bit d: the aggregate at depth d is an attribute */
	int64_t		left[REPLY_MAX_DEPTH];	/* elements still due in each */
};

/*
 * The length of the one complete RESP2 or RESP3 reply at the start of buf:
 * returns it (> 0) and zeroes *st; RESP_INCOMPLETE (-2) when more bytes are
 * needed (buf must then start with the same bytes next time, plus more); or
 * RESP_ERROR (-1) when the bytes are not RESP (lengths are checked integers:
 * a bulk length of 2^64 - 1 is an error, not a nil). RESP3's attributes
 * (|) belong to the value after them: they are part of its length, never a
 * reply alone. A push (>) is a reply of its own, told apart by
 * reply_type(). Streamed strings and aggregates (?) are refused: no server
 * sends them.
 */
ssize_t	reply_parse(struct reply_state *st, const char *buf, size_t len);

/* reply_parse() from a fresh state: for a reply held whole. */
ssize_t	reply_length(const char *buf, size_t len);

/*
 * Who sent bytes that reply_parse() refused, judged by their start (len > 0):
 * a RESP server gone wrong when the first byte is punctuation, as every
 * RESP2 and RESP3 type is (tcpd's GARBAGE starts with one no version uses);
 * an HTTP server when they begin "HTTP/" (or as much of it as came); else
 * a service that speaks no protocol of the kind, as daytime or chargen.
 */
enum reply_peer { REPLY_PEER_RESP, REPLY_PEER_HTTP, REPLY_PEER_RAW };
enum reply_peer reply_guess_peer(const char *buf, size_t len);

/* The type byte of the complete reply at buf (len bytes), after any attributes. */
char	reply_type(const char *buf, size_t len);

/* True when the complete reply at buf is an error (- or !). */
bool	reply_is_error(const char *buf, size_t len);

/*
 * The text of a complete simple or blob reply (+ - : , ( $ ! =): *text
 * points into buf, the length is returned; a verbatim string's "txt:" is
 * left out. 0 for other types.
 */
size_t	reply_text(const char *buf, size_t len, const char **text);

/* How a reply is printed: redis-cli's output formats. */
enum reply_style {
	/* On a terminal: PONG, "quoted bulk" with escapes, (integer) 5,
	 * (error) ERR ..., (nil), numbered and indented arrays, (empty array);
	 * RESP3's (double) 1.5, (big number) 12, (true), maps as 1# key => value,
	 * sets as 1~ value, verbatim text as it is; then a newline. */
	REPLY_TTY,
	/* Into a pipe (--raw): each value's bytes, array elements one a line,
	 * an error's text followed by an empty line, nil and (empty array) as
	 * nothing, a map's pairs one a line as key and value with a space
	 * between, booleans as (true) and (false); then a newline: what
	 * scripts parse. */
	REPLY_PLAIN,
	/* REPLY_PLAIN without the final newline, in both modes: for replies
	 * that are text of their own, like INFO's CRLF lines. */
	REPLY_VERBATIM,
};

/*
 * Prints the complete reply to out in style, as it formats it: no more
 * memory than out's own buffer, however much text a reply makes (nested
 * arrays indent each line, so a terminal's text can be tens of times the
 * reply). Attributes are not printed (redis-cli 7.0 refuses them). 0,
 * or -1 when out has an error (ferror).
 */
int	reply_print(FILE *out, const char *reply, size_t len, enum reply_style style);

#endif
