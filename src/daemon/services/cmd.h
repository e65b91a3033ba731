/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CMD_H
#define TCPD_CMD_H

#include <stdint.h>
#include <time.h>

#include "daemon/conn.h"

struct buf;
struct resp_request;

/*
 * Who sent a request: worked out (the addresses in text) only for the
 * commands that tell it, not for every request.
 */
struct cmd_client {
	void		(*describe)(const void *ctx, struct conn_info *info);
	const void	*ctx;
};

enum cmd_result {
	CMD_CONTINUE,
	CMD_CLOSE,		/* close the connection once the reply is sent */
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t cmd_clock_ns(void);

/*
 * Runs one parsed request (argc > 0) and appends its RESP2 reply to out.
 * No I/O: replies depend only on the request, the client, the global stats
 * and the clocks. *since is when this request's handling began (the read
 * that brought it, or the end of the request before it, 0 when unknown):
 * the command's duration is counted from there, and *since is set to now,
 * so a batch of pipelined requests costs one clock read each. Returns
 * CMD_CLOSE for QUIT, CMD_CONTINUE otherwise; if out is full the reply is
 * cut short and the caller sees it in buf_len(out).
 */
enum cmd_result cmd_execute(const struct cmd_client *client,
	    const struct resp_request *req, struct buf *out, uint64_t *since);

/* Names every command's counters, so INFO and /metrics list them from the start. */
void	cmd_register_stats(void);

#endif
