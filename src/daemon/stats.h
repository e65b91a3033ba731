/* SPDX-License-Identifier: MIT */
#ifndef TCPD_STATS_H
#define TCPD_STATS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "tcpd/hist.h"

struct buf;

/* Why a connection ended, for the counters (the log says it in words). */
enum close_reason {
	CLOSE_CLIENT,		/* the peer closed */
	CLOSE_RESET,		/* the peer reset */
	CLOSE_IDLE_TIMEOUT,
	CLOSE_REQUEST_TIMEOUT,
	CLOSE_OUTPUT_LIMIT,
	CLOSE_SERVER,		/* tcpd ended it after its last reply: QUIT, daytime, an error */
	CLOSE_SHUTDOWN,		/* a stop closed it */
	CLOSE_ERROR,		/* a socket or memory error */
	CLOSE_REASONS
};
extern const char *const stats_close_reasons[CLOSE_REASONS];

/* Why a connection was refused at accept. */
enum reject_reason {
	REJECT_MAX_CONNECTIONS,
	REJECT_PER_IP,		/* max_connections_per_ip */
	REJECT_ACL,		/* allow/deny */
	REJECT_DESCRIPTORS,	/* shed while out of file descriptors */
	REJECT_OUT_OF_MEMORY,
	REJECT_PROXY_UNTRUSTED,	/* a PROXY listener's peer not in proxy_trusted */
	REJECT_PROXY_INVALID,	/* a header that is not one */
	REJECT_PROXY_TIMEOUT,	/* no whole header within proxy_timeout */
	REJECT_REASONS
};
extern const char *const stats_reject_reasons[REJECT_REASONS];

/*
 * A Prometheus histogram: counts under fixed upper bounds (ns), the last
 * +Inf. An observation is a few comparisons and two increments.
 */
#define STATS_BUCKETS	17
struct stats_histogram {
	uint64_t	count;
	uint64_t	sum_ns;
	uint64_t	le[STATS_BUCKETS];	/* not cumulative: each its own range */
};
/* The bounds of command durations (10 us to 1 s) and of connection durations. */
extern const uint64_t stats_command_bounds[STATS_BUCKETS];
extern const uint64_t stats_connection_bounds[STATS_BUCKETS];

void	stats_observe(struct stats_histogram *h, const uint64_t bounds[STATS_BUCKETS],
	    uint64_t ns);

/* One command's calls, as Redis's INFO commandstats and latencystats count them. */
struct stats_command {
	const char	*name;		/* NULL: a free slot */
	uint64_t	 failed;	/* answered with an error while running */
	uint64_t	 rejected;	/* refused before running: wrong arity */
	struct hist	 latency;	/* ns, for percentiles */
	struct stats_histogram duration;	/* its count is the calls, its sum the time */
};

#define STATS_MAX_COMMANDS	16

/* Faults a client asked for on its own connection. */
enum fault_kind { FAULT_CLOSE, FAULT_RESET, FAULT_HALFCLOSE, FAULT_TRUNCATE, FAULT_ERROR,
	FAULT_GARBAGE, FAULT_DELAY, FAULT_SLEEP, FAULT_RATE, FAULT_SLICE, FAULT_STREAM,
	FAULT_STALL, FAULT_KINDS };
extern const char *const stats_fault_names[FAULT_KINDS];

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
	time_t		start_realtime;		/* CLOCK_REALTIME seconds */
	bool		ready;			/* serving: listeners up, not draining */
	int		worker;			/* this worker's number, or -1: no workers */
	bool		draining;
	uint64_t	ops_per_sec;		/* commands, over the last sample */
	uint64_t	error_replies;		/* -ERR replies: Redis's errorstat_ERR */
	uint64_t	faults[FAULT_KINDS];
	uint64_t	fault_profile_connections;	/* given their listener's fault profile */
	uint64_t	fault_timed_ends;	/* closes and resets at their byte or moment */
	struct stats_histogram connection_duration;
	struct stats_service services[STATS_MAX_SERVICES];	/* in INFO's order */
	struct stats_command commands[STATS_MAX_COMMANDS];	/* the command table's order */
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

/* The counters of the i-th command of the command table, named name. */
struct stats_command *stats_command(size_t i, const char *name);

/*
 * Under a supervisor, each worker's headline counters on a board in memory
 * all of them share: INFO in any worker shows every worker and the sums,
 * and the supervisor's STATUS= reads it. Each worker writes only its own
 * slot (stats_publish()); readers may see a slot one update behind.
 */
struct stats_worker_slot {
	int32_t		pid;		/* 0: not running */
	uint64_t	connected;
	uint64_t	connections;	/* accepted since it started */
	uint64_t	commands;
};
extern struct stats_worker_slot *stats_board;	/* NULL without workers */
extern unsigned stats_board_size;

/* Copies this worker's counters to its slot of the board (when there is one). */
void	stats_publish(void);

/* INFO's sections, as flags: what one INFO request asks for. */
enum {
	INFO_SERVER = 1, INFO_CLIENTS = 2, INFO_STATS = 4, INFO_COMMANDSTATS = 8,
	INFO_LATENCYSTATS = 16, INFO_ERRORSTATS = 32, INFO_FAULTS = 64, INFO_WORKERS = 128,
	INFO_DEFAULT = INFO_SERVER | INFO_CLIENTS | INFO_STATS | INFO_ERRORSTATS | INFO_FAULTS |
	    INFO_WORKERS,
	INFO_ALL = INFO_DEFAULT | INFO_COMMANDSTATS | INFO_LATENCYSTATS,
};

/*
 * The flags for one section name, as Redis 7 takes them ("default", "all"
 * and "everything" included), case-insensitively; 0 for an unknown name.
 */
unsigned stats_info_section(const char *name, size_t len);

/*
 * Appends INFO text for the sections in flags: "# Section" headers and
 * "key:value" lines, CRLF-ended. Returns 0, or -1 with errno (buf full).
 */
int	stats_format_info(struct buf *out, unsigned sections, time_t monotonic_now);

#endif
