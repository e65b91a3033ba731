/* SPDX-License-Identifier: MIT */
#ifndef TCPD_LISTENER_H
#define TCPD_LISTENER_H

#include <stdint.h>

#include "tcpd/config.h"
#include "tcpd/ipcount.h"
#include "tcpd/log.h"

/*
 * One [listener.NAME]: its service and admission rules, shared by its bound
 * sockets and the connections they accepted. Counted references keep it
 * alive while any of them remains.
 */
struct listener {
	char		 name[CONFIG_NAME_MAX];
	enum service	 service;
	unsigned	 max_connections_per_ip;
	struct cidr_list allow;
	struct cidr_list deny;
	struct ipcount	 per_ip;	/* open connections per peer address */
	unsigned	 refs;
	struct log_rate	 reject_log;
	struct log_rate	 deny_log;
};

/* A connection accepted on l, from the peer with this cidr_key(), has closed. */
void	listener_conn_closed(struct listener *l, const uint8_t key[16]);

#endif
