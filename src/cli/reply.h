/* SPDX-License-Identifier: MIT */
#ifndef TCPD_REPLY_H
#define TCPD_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

struct buf;

/* Replies nested deeper than this are refused as malformed. */
#define REPLY_MAX_DEPTH	32

/*
 * The length of the one complete RESP2 reply at the start of buf: returns it
 * (> 0), RESP_INCOMPLETE (-2) when more bytes are needed, or RESP_ERROR (-1)
 * when the bytes are not RESP2.
 */
ssize_t	reply_length(const char *buf, size_t len);

/* True when the complete reply at buf is an error (-...). */
bool	reply_is_error(const char *buf);

/*
 * Appends the complete reply as redis-cli prints it: PONG, "quoted bulk"
 * with escapes, (integer) 5, (error) ERR ..., (nil), numbered and indented
 * arrays, (empty array); then a newline. Returns 0, or -1 when out is full.
 */
int	reply_format(struct buf *out, const char *reply, size_t len);

#endif
