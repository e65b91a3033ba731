/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/acl.h"
#include "daemon/listener.h"
#include "daemon/service.h"

/* Every live listener, newest first. */
static struct listener *all;

struct listener *
listener_new(void)
{
	struct listener *l = calloc(1, sizeof(struct listener));

	if (l != NULL) {
		l->all_next = all;
		if (all != NULL)
			all->all_prev = l;
		all = l;
	}
	return l;
}

bool
name_valid(const char *s, size_t len, size_t max, const char *also)
{
	size_t i;

	if (len == 0 || len >= max)
		return false;
	for (i = 0; i < len; i++)
		if (!isalnum((unsigned char)s[i]) && s[i] != '_' && s[i] != '-' &&
		    (s[i] == '\0' || strchr(also, s[i]) == NULL))
			return false;
	return true;
}

bool
listener_name_valid(const char *s, size_t len)
{
	return name_valid(s, len, CONFIG_NAME_MAX, "");
}

struct listener *
listener_first(void)
{
	return all;
}

const struct listener *
listener_serving(const char *name)
{
	const struct listener *l;

	for (l = all; l != NULL; l = l->all_next)
		if (l->serving && strcmp(l->name, name) == 0)
			return l;
	return NULL;
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
	l->proxy_versions = lc->proxy_protocol;
	l->proxy_trusted = lc->proxy_trusted;
	l->proxy_timeout = lc->proxy_timeout;
	l->faults = lc->faults;
	memcpy(l->requirepass, lc->requirepass, sizeof(l->requirepass));
	l->refaulted = !pace_profile_equal(&l->profile, &lc->profile) ||
	    !pace_profile_equal(&l->upstream, &lc->upstream);
	l->profile = lc->profile;
	l->upstream = lc->upstream;
	l->paced = !pace_profile_empty(&lc->profile) || !pace_profile_empty(&lc->upstream);
	l->upstream_addr = lc->upstream_addr;
	l->connect_timeout = lc->connect_timeout;
	l->upstream_proxy_protocol = lc->upstream_proxy_protocol;
	l->upstream_connect_delay = lc->upstream_connect_delay;
	l->proxy_listen_allow = lc->proxy_listen_allow;
}

static void
counts_of(const struct listener *l, struct stats_listener_counts *c)
{
	*c = (struct stats_listener_counts){ .accepted = l->accepted, .active = l->active,
	    .bytes_in = l->bytes_in, .bytes_out = l->bytes_out };
	memcpy(c->rejected, l->rejected, sizeof(c->rejected));
	memcpy(c->closed, l->closed, sizeof(c->closed));
}

/* The counts as an array: every member is a uint64_t. */
#define NCOUNTS	(sizeof(struct stats_listener_counts) / sizeof(uint64_t))
_Static_assert(sizeof(struct stats_listener_counts) % sizeof(uint64_t) == 0, "only uint64_t");

void
listener_publish(void)
{
	struct stats_listener_counts c;
	struct stats_published *p;
	const struct listener *l;
	uint64_t *dst;
	const uint64_t *base, *v;
	size_t i;

	if (stats_board == NULL)
		return;
	for (l = all; l != NULL; l = l->all_next) {
		if (!l->serving || (p = stats_published(&stats, l->name, true)) == NULL)
			continue;
		counts_of(l, &c);
		dst = (uint64_t *)(void *)&p->now;
		base = (const uint64_t *)(const void *)&p->base;
		v = (const uint64_t *)(const void *)&c;
		/* Whole values: other workers read them meanwhile. */
		for (i = 0; i < NCOUNTS; i++)
			__atomic_store_n(&dst[i], base[i] + v[i], __ATOMIC_RELAXED);
	}
}

void
listener_total(const struct listener *l, struct stats_listener_counts *total)
{
	const struct stats_published *p;
	uint64_t *dst = (uint64_t *)(void *)total;
	const uint64_t *src;
	unsigned w;
	size_t i;

	if (stats_board == NULL) {
		counts_of(l, total);
		return;
	}
	memset(total, 0, sizeof(*total));
	for (w = 0; w < stats_board_size; w++) {
		if ((p = stats_published(&stats_board[w], l->name, false)) == NULL)
			continue;
		src = (const uint64_t *)(const void *)&p->now;
		for (i = 0; i < NCOUNTS; i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	}
}

void
listener_hold(struct listener *l)
{
	l->refs++;
}

void
listener_release(struct listener *l)
{
	if (--l->refs == 0)
		listener_discard(l);
}

void
listener_discard(struct listener *l)
{
	if (l->all_prev != NULL)
		l->all_prev->all_next = l->all_next;
	else
		all = l->all_next;
	if (l->all_next != NULL)
		l->all_next->all_prev = l->all_prev;
	ipcount_free(&l->per_ip);
	free(l);
}

void
listener_attach_fd(struct listener *l, int fd)
{
	if (l->nfds < LISTENER_MAX_FDS)
		l->fds[l->nfds++] = fd;
}

void
listener_detach_fd(struct listener *l, int fd)
{
	size_t i;

	for (i = 0; i < l->nfds; i++) {
		if (l->fds[i] == fd) {
			l->fds[i] = l->fds[--l->nfds];
			return;
		}
	}
}

uint64_t
listener_queue_length(const struct listener *l)
{
	struct tcp_info ti;
	socklen_t len;
	uint64_t n = 0;
	size_t i;

	/* On a listening socket, tcpi_unacked is the accept queue's length. */
	for (i = 0; i < l->nfds; i++) {
		len = sizeof(ti);
		if (getsockopt(l->fds[i], IPPROTO_TCP, TCP_INFO, &ti, &len) == 0)
			n += ti.tcpi_unacked;
	}
	return n;
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

enum reject_reason
listener_admit(struct listener *l, const uint8_t key[16], const struct cidr **rule)
{
	if (!acl_permits(l->allow.v, l->allow.n, l->deny.v, l->deny.n, key, rule))
		return REJECT_ACL;
	if (listener_count_peer(l, key) == -1)
		return errno == EUSERS ? REJECT_PER_IP : REJECT_OUT_OF_MEMORY;
	return REJECT_REASONS;
}

void
listener_uncount_peer(struct listener *l, const uint8_t key[16])
{
	ipcount_dec(&l->per_ip, key);
}
