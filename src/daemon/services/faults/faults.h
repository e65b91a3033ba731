/* SPDX-License-Identifier: MIT */
#ifndef TCPD_FAULTS_H
#define TCPD_FAULTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct buf;
struct conn;
struct resp_request;

/* The faults armed on one connection, waiting for their moment. */
struct faults {
	bool		truncate_next;	/* cut the next reply in half, then close */
	uint64_t	stream_left;	/* STREAM: pattern bytes still to make */
	uint64_t	stream_made;
};

/* The longest GARBAGE, so one request cannot ask for unbounded output. */
#define FAULTS_GARBAGE_MAX	(1u << 20)
/* The longest STREAM: made as the socket drains, so memory stays bounded. */
#define FAULTS_STREAM_MAX	(1ull << 40)

/* Names every fault's counter, so INFO and /metrics list them from the start. */
void	faults_register_stats(void);

/*
 * Whether req is a fault command: FAULT NAME ... (DELAY, SLEEP, RATE,
 * SLICE, STREAM, STALL, CLOSE, RESET, HALFCLOSE, TRUNCATE, ERROR, GARBAGE,
 * LIST, CLEAR), or a bare NAME ... of one that shadows no Redis command
 * (all but RESET, which is Redis's; FAULTS [CLEAR] for the list).
 */
bool	faults_is_command(const struct resp_request *req);

/*
 * Runs req, a fault command, for this connection only, where the
 * listener's faults setting allows it; its reply goes to out. *fp is made
 * at the first (most connections never send one), for the caller to free.
 */
void	faults_command(struct conn *c, struct faults **fp, const struct resp_request *req,
	    struct buf *out);

/*
 * After a reply of len bytes at the end of out, when f->truncate_next is
 * armed: cuts the reply in half and finishes the connection.
 */
void	faults_after_reply(struct conn *c, struct faults *f, struct buf *out, size_t len);

/*
 * Only while f->stream_left: the next part of the STREAM reply, as much as
 * the output may take, and its CRLF after the last. Returns 0, or -1 with
 * errno (ENOBUFS).
 */
int	faults_stream(struct conn *c, struct faults *f, struct buf *out);

/* Byte i of a STREAM's payload: '!' to '~', then again, so a reader can check each. */
static inline char
faults_stream_byte(uint64_t i)
{
	return (char)('!' + i % 94);
}

#endif
