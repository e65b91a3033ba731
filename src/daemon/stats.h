/* SPDX-License-Identifier: MIT */
#ifndef TCPD_STATS_H
#define TCPD_STATS_H

#include <sys/types.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "daemon/pace.h"
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

/*
 * Faults a client asked for on its own connection, by kind: the names, in
 * the faults' table order, given at start by faults_register_stats(); a
 * NULL name ends them.
 */
#define STATS_MAX_FAULTS	16
extern const char *stats_fault_names[STATS_MAX_FAULTS];

/* Connections of one service, over all its listeners. */
struct stats_service {
	const char	*name;		/* NULL: a free slot */
	uint64_t	 connected;
	uint64_t	 total;
};

#define STATS_MAX_SERVICES	16

/* One listener's counters, as struct listener keeps them (conn.c and server.c count there). */
struct stats_listener_counts {
	uint64_t	accepted;
	uint64_t	active;		/* a gauge: zeroed when its worker ends */
	uint64_t	bytes_in;
	uint64_t	bytes_out;
	uint64_t	rejected[REJECT_REASONS];
	uint64_t	closed[CLOSE_REASONS];
};

/*
 * A worker's listener counters copied where the other workers read them
 * (stats_publish()); base holds what the worker's predecessors counted.
 */
#define STATS_NAME_MAX		32	/* CONFIG_NAME_MAX */
#define STATS_MAX_LISTENERS	64
struct stats_published {
	char		name[STATS_NAME_MAX];	/* "": a free slot */
	struct stats_listener_counts now;
	struct stats_listener_counts base;
};

/*
 * The counters of one process: the daemon's, or under a supervisor one
 * worker's slot of the board. A worker only ever writes its own slot; any
 * worker reads them all and shows the sums. One thread, so no atomics on
 * the request path; readers of another slot may see it one update behind.
 */
/* The first words of tcpd's error replies, each counted as Redis's INFO errorstats does. */
enum error_prefix { ERROR_ERR, ERROR_NOAUTH, ERROR_NOPROTO, ERROR_WRONGPASS, ERROR_PREFIXES };

/*
 * The prefix of an error reply's text (after its '-', len bytes): its
 * first word, ERR for one tcpd does not send.
 */
enum error_prefix stats_error_prefix(const char *text, size_t len);

struct stats_slot {
	int32_t		pid;			/* on the board: 0 while not running */
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
	uint64_t	error_replies;		/* every error reply to a command */
	uint64_t	errorstats[ERROR_PREFIXES];	/* ...by its prefix: Redis's errorstat_ */
	uint64_t	unknown_commands;
	uint64_t	auth_failures;	/* AUTH and HELLO AUTH refused */
	uint64_t	log_lines_dropped;	/* log_dropped(), as of the last publish */
	uint64_t	faults[STATS_MAX_FAULTS];
	uint64_t	fault_profile_connections;	/* given their listener's fault profile */
	uint64_t	fault_timed_ends;	/* closes and resets at their byte or moment */
	/* Faults listeners' profiles gave connections: [0] downstream, [1] upstream. */
	uint64_t	faults_applied[2][PACE_FAULTS];
	/* service = proxy: connects to the upstream made, failed (enum stats_upstream_failure), bytes. */
	uint64_t	upstream_connects;
	uint64_t	upstream_connect_failures[3];
	uint64_t	upstream_output_bytes;	/* written to upstreams */
	uint64_t	upstream_input_bytes;	/* read from upstreams */
	uint64_t	listeners_refusing;	/* refuse = on */
	uint64_t	listeners_blackholed;	/* blackhole = on, refuse off */
	struct stats_histogram connection_duration;
	struct stats_service services[STATS_MAX_SERVICES];	/* in INFO's order */
	struct stats_command commands[STATS_MAX_COMMANDS];	/* the command table's order */
	struct stats_published listeners[STATS_MAX_LISTENERS];
};

/*
 * This process's counters: a private slot, or its slot of the board once
 * stats_start() put it there. Every module counts with stats.FIELD.
 */
extern struct stats_slot *stats_live;
#define stats (*stats_live)

/* Zeroes the counters, forgets the services and sets the start time. */
void	stats_reset(time_t monotonic_now);

/*
 * Sets up the counters of a daemon starting at monotonic_now, as worker
 * number worker (-1: none). On the board, a worker counts in its slot and
 * keeps what a predecessor there counted, so the sums never go backwards
 * when a worker is restarted; only the gauges start again from zero.
 */
void	stats_start(time_t monotonic_now, int worker);

/*
 * The counters of the service called name (a string that outlives them),
 * made on first use so INFO lists it from then on; NULL when
 * STATS_MAX_SERVICES are taken.
 */
struct stats_service *stats_service(const char *name);

/* The counters of the i-th command of the command table, named name. */
struct stats_command *stats_command(size_t i, const char *name);

/*
 * Under a supervisor, the board: one slot a worker, in memory they all
 * share (mapped before the fork). INFO and /metrics in any worker show the
 * sums over it, and the supervisor's STATUS= reads it.
 */
extern struct stats_slot *stats_board;	/* NULL without workers */
extern unsigned stats_board_size;

/* Maps a board of n zeroed slots. Returns 0, or -1 with errno. */
int	stats_board_open(unsigned n);
void	stats_board_close(void);
/* The supervisor: worker index started as pid, or ended (its gauges zeroed, its counters kept). */
void	stats_worker_started(unsigned index, pid_t pid);
void	stats_worker_ended(unsigned index);

/*
 * Brings this worker's slot of the board up to date with the counters kept
 * outside it: log_dropped(), and through the publisher (listener_publish(),
 * set by the daemon: listeners sit above stats) the listeners'. server.c
 * calls stats_publish() before each sleep of the loop: it copies when a
 * connection opened or closed since the last copy, else every
 * STATS_PUBLISH_EVERY calls, so the request path pays two comparisons.
 * stats_publish_now() copies at once: rendering does, and the status timer,
 * for a worker gone idle.
 */
#define STATS_PUBLISH_EVERY	32
void	stats_set_publisher(void (*fn)(void));
void	stats_publish(void);
void	stats_publish_now(void);

/* s's entry for the listener called name, made when make is set and there is room; or NULL. */
struct stats_published *stats_published(struct stats_slot *s, const char *name, bool make);

/* The sums over the board of each command's, and of the connections', counters. */
void	stats_command_total(size_t i, struct stats_command *total);
void	stats_duration_total(struct stats_histogram *total);

/*
 * The metrics table: each counter once, with its INFO key, its Prometheus
 * name, type and help, and for an array its label. INFO and /metrics both
 * render it, summed over the workers; a new metric is one line in stats.c.
 */
enum stats_type { STATS_COUNTER, STATS_GAUGE };
enum {
	STATS_PER_WORKER = 1,	/* also shown for each worker */
	STATS_SAME = 2,		/* of the configuration, alike in every worker: not summed */
};
/* Why a proxy's connect to its upstream failed: the index of upstream_connect_failures. */
enum stats_upstream_failure { UPSTREAM_REFUSED, UPSTREAM_TIMEOUT, UPSTREAM_OTHER };

struct stats_field {
	unsigned	 section;	/* INFO_CLIENTS, INFO_STATS or INFO_FAULTS */
	unsigned	 flags;
	const char	*info;		/* INFO's key; for an array, its prefix */
	const char	*metric;	/* the Prometheus family */
	enum stats_type	 type;
	size_t		 offset;	/* of a uint64_t in struct stats_slot */
	const char	*help;
	const char	*label;		/* NULL, or the label an array's index is */
	const char *const *values;	/* that label's values */
	size_t		 n;		/* 1, or the array's length */
	/* NULL, or a label every series has: rows of one family in a row, one per value. */
	const char	*fixed;
};
extern const struct stats_field stats_fields[];
extern const size_t stats_nfields;

/* Field f's element k: summed over the board, or of slot s when s is not NULL. */
uint64_t stats_value(const struct stats_field *f, size_t k, const struct stats_slot *s);

/* INFO's sections, as flags: what one INFO request asks for. */
enum {
	INFO_SERVER = 1, INFO_CLIENTS = 2, INFO_STATS = 4, INFO_COMMANDSTATS = 8,
	INFO_LATENCYSTATS = 16, INFO_ERRORSTATS = 32, INFO_FAULTS = 64, INFO_WORKERS = 128,
	INFO_PROXIES = 256,	/* the control API's (runtime.h), not the counters' */
	INFO_DEFAULT = INFO_SERVER | INFO_CLIENTS | INFO_STATS | INFO_ERRORSTATS | INFO_FAULTS |
	    INFO_WORKERS,
	INFO_ALL = INFO_DEFAULT | INFO_COMMANDSTATS | INFO_LATENCYSTATS | INFO_PROXIES,
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
