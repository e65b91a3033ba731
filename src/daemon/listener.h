/* SPDX-License-Identifier: MIT */
#ifndef TCPD_LISTENER_H
#define TCPD_LISTENER_H

#include <stdbool.h>
#include <stdint.h>

#include "daemon/config.h"
#include "daemon/ipcount.h"
#include "daemon/stats.h"
#include "tcpd/log.h"

struct service;

/*
 * One [listener.NAME]: its service and admission rules, shared by its bound
 * sockets and the connections they accepted. Counted references keep it
 * alive while any of them remains; it sits below both server.c and conn.c.
 */
/* Listening sockets one listener may serve: its binds, or what systemd passed. */
#define LISTENER_MAX_FDS	64

struct listener {
	char		 name[CONFIG_NAME_MAX];
	const struct service *service;
	struct stats_service *counters;	/* the service's INFO counters */
	unsigned	 max_connections_per_ip;
	struct cidr_list allow;
	struct cidr_list deny;
	bool		 log_connections;	/* each close at info */
	unsigned	 proxy_versions;	/* 0: no PROXY header */
	struct cidr_list proxy_trusted;
	unsigned	 proxy_timeout;
	unsigned	 faults;		/* enum faults_gate */
	char		 requirepass[CONFIG_SECRET_MAX + 1];	/* "" for none */
	struct pace_profile profile;	/* faults for every connection */
	struct pace_profile upstream;	/* on the bytes toward the service */
	bool		 paced;		/* either profile has any */
	bool		 refaulted;	/* either profile changed at the last configure */
	struct net_addr	 upstream_addr;	/* service = proxy: its server */
	unsigned	 connect_timeout;	/* ms, for the connect to upstream_addr */
	unsigned	 upstream_proxy_protocol;	/* the header it sends first: 0, PROXY_V1 or PROXY_V2 */
	unsigned	 upstream_connect_delay;	/* ms from a client's accept to its connect */
	struct cidr_list proxy_listen_allow;	/* service = control: besides loopback */
	struct ipcount	 per_ip;	/* open connections per peer address */
	unsigned	 refs;
	struct log_rate	 reject_log;
	struct log_rate	 deny_log;
	struct log_rate	 upstream_log;	/* a proxy's failed connects */

	/* For /metrics: every live listener, and those the server has configured. */
	struct listener	*all_prev, *all_next;
	bool		 serving;
	int		 fds[LISTENER_MAX_FDS];	/* its listening sockets */
	size_t		 nfds;
	uint64_t	 accepted;
	uint64_t	 active;
	uint64_t	 bytes_in;
	uint64_t	 bytes_out;
	uint64_t	 rejected[REJECT_REASONS];
	uint64_t	 closed[CLOSE_REASONS];
};

/*
 * Whether s (len bytes) is a name that goes into logs, journal fields,
 * labels and URL paths as it is: 1 to max - 1 letters, digits, '-', '_'
 * or a byte of also.
 */
bool	name_valid(const char *s, size_t len, size_t max, const char *also);
/* A listener's: name_valid() up to CONFIG_NAME_MAX, nothing else. */
bool	listener_name_valid(const char *s, size_t len);

/* A new listener with no reference yet, or NULL (ENOMEM). */
struct listener *listener_new(void);

/* Takes lc's name, service and rules; per-IP counts stay. */
void	listener_configure(struct listener *l, const struct listener_config *lc);

void	listener_hold(struct listener *l);
/* Drops a reference; the last one frees l. */
void	listener_release(struct listener *l);
/* Frees a listener nobody ever held (a plan given up). */
void	listener_discard(struct listener *l);

/*
 * Counts a connection from the peer with this cidr_key() against
 * max_connections_per_ip. Returns 0 (counted), or -1 with errno EUSERS
 * (the peer is at its limit) or ENOMEM.
 */
int	listener_count_peer(struct listener *l, const uint8_t key[16]);
/*
 * Admits a peer with this cidr_key(): allow/deny (*rule as acl_permits()
 * sets it), then the per-IP count. REJECT_REASONS: admitted and counted;
 * else why not.
 */
enum reject_reason listener_admit(struct listener *l, const uint8_t key[16],
	    const struct cidr **rule);

/* Undoes listener_count_peer(). */
void	listener_uncount_peer(struct listener *l, const uint8_t key[16]);

/* The first of every live listener (then ->all_next), for /metrics. */
struct listener *listener_first(void);
/* The serving listener named name, or NULL. */
const struct listener *listener_serving(const char *name);

/* The listening sockets l serves, for its queue length. */
void	listener_attach_fd(struct listener *l, int fd);
void	listener_detach_fd(struct listener *l, int fd);

/*
 * Under a supervisor, copies every serving listener's counters to this
 * worker's slot of the board (on top of what its predecessors there counted),
 * where the other workers sum them: the publisher of stats_publish().
 */
void	listener_publish(void);

/* l's counters summed over every worker's slot; l's own without workers. */
void	listener_total(const struct listener *l, struct stats_listener_counts *total);

/* Connections waiting in l's accept queues now (TCP_INFO, as ss -lt shows). */
uint64_t listener_queue_length(const struct listener *l);

#endif
