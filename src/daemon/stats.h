/* SPDX-License-Identifier: MIT */
#ifndef TCPD_STATS_H
#define TCPD_STATS_H

#include <stdint.h>
#include <time.h>


struct buf;

/* Connections of one service, over all its listeners. */
struct stats_service {
	const char	*name;		/* NULL: a free slot */
	uint64_t	 connected;
	uint64_t	 total;
};

#define STATS_MAX_SERVICES	16

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
	struct stats_service services[STATS_MAX_SERVICES];	/* in INFO's order */
};

extern struct stats stats;

/* Zeroes the counters, forgets the services and sets the start time. */
void	stats_reset(time_t monotonic_now);

/*
 * The counters of the service called name (a string that outlives them),
 * made on first use so INFO lists it from then on; NULL when
 * STATS_MAX_SERVICES are taken.
 */
struct stats_service *stats_service(const char *name);

/*
 * Appends INFO text: "# Section" headers and "key:value" lines, CRLF-ended.
 * section is "server", "clients", "stats", "all" or NULL for all; returns 0,
 * -1 with errno (buf full), or 1 for an unknown section.
 */
int	stats_format_info(struct buf *out, const char *section, size_t seclen,
	    time_t monotonic_now);

#endif
