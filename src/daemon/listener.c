/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/listener.h"
#include "daemon/services/service.h"

struct listener *
listener_new(void)
{
	return calloc(1, sizeof(struct listener));
}

void
listener_configure(struct listener *l, const struct listener_config *lc)
{
	snprintf(l->name, sizeof(l->name), "%s", lc->name);
	l->service = lc->service;
	l->counters = stats_service(lc->service->name);
	l->max_connections_per_ip = lc->max_connections_per_ip;
	l->allow = lc->allow;
	l->deny = lc->deny;
	l->log_connections = lc->log_connections;
}

void
listener_hold(struct listener *l)
{
	l->refs++;
}

void
listener_release(struct listener *l)
{
	if (--l->refs > 0)
		return;
	ipcount_free(&l->per_ip);
	free(l);
}

int
listener_count_peer(struct listener *l, const uint8_t key[16])
{
	if (l->max_connections_per_ip != 0 &&
	    ipcount_get(&l->per_ip, key) >= l->max_connections_per_ip) {
		errno = EUSERS;
		return -1;
	}
	return ipcount_inc(&l->per_ip, key);
}

void
listener_uncount_peer(struct listener *l, const uint8_t key[16])
{
	ipcount_dec(&l->per_ip, key);
}
