/* SPDX-License-Identifier: MIT */
#ifndef TCPD_STATS_H
#define TCPD_STATS_H

#include <stdint.h>
#include <time.h>

#include "tcpd/config.h"

struct buf;

/* The daemon's counters: one process, one thread, so one global. */
struct stats {
	time_t		start_time;		/* CLOCK_MONOTONIC seconds */
	unsigned	max_connections;
	uint64_t	connected;
	uint64_t	connections_received;
	uint64_t	rejected_connections;	/* over max_connections[_per_ip] */
	uint64_t	denied_connections;	/* by allow/deny */
	uint64_t	idle_timeouts;
	uint64_t	request_timeouts;
	uint64_t	output_limit_disconnections;
	uint64_t	commands_processed;
	uint64_t	net_input_bytes;
	uint64_t	net_output_bytes;
	uint64_t	service_connected[SERVICE_COUNT];
	uint64_t	service_total[SERVICE_COUNT];
};

extern struct stats stats;

/* Zeroes the counters and sets the start time. */
void	stats_reset(time_t monotonic_now);

/*
 * Appends INFO text: "# Section" headers and "key:value" lines, CRLF-ended.
 * section is "server", "clients", "stats", "all" or NULL for all; returns 0,
 * -1 with errno (buf full), or 1 for an unknown section.
 */
int	stats_format_info(struct buf *out, const char *section, size_t seclen,
	    time_t monotonic_now);

#endif
