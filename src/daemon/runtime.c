/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/config.h"
#include "daemon/listener.h"
#include "daemon/runtime.h"
#include "tcpd/buf.h"

static struct {
	runtime_applier		 fn;
	void			*arg;
	struct listener_config	*lcs;
	size_t			 n;
	struct listener_config	 defaults;
} rt;

void
runtime_set_applier(runtime_applier fn, void *arg, const struct listener_config *defaults)
{
	rt.fn = fn;
	rt.arg = arg;
	if (fn != NULL) {
		rt.defaults = *defaults;
	} else {
		free(rt.lcs);
		rt.lcs = NULL;
		rt.n = 0;
	}
}

const struct listener_config *
runtime_defaults(void)
{
	return rt.fn != NULL ? &rt.defaults : NULL;
}

const struct listener_config *
runtime_listeners(size_t *n)
{
	*n = rt.n;
	return rt.lcs;
}

int
runtime_replace(const struct listener_config *lcs, size_t n, char *err, size_t errlen)
{
	struct listener_config *copy = NULL;

	if (rt.fn == NULL) {
		snprintf(err, errlen, "no server to run listeners");
		return -1;
	}
	if (n > 0 && (copy = malloc(n * sizeof(*copy))) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (n > 0)
		memcpy(copy, lcs, n * sizeof(*copy));
	if (rt.fn(rt.arg, copy, n, err, errlen) == -1) {
		free(copy);
		return -1;
	}
	free(rt.lcs);
	rt.lcs = copy;
	rt.n = n;
	return 0;
}

/* lc's address as l (its serving listener, or NULL) is bound to. */
static struct net_addr
bound(const struct listener *l, const struct listener_config *lc)
{
	struct net_addr got;

	if (l != NULL && l->nfds > 0 && net_local_addr(l->fds[0], &got) == 0)
		return got;
	return lc->binds[0];
}

struct net_addr
runtime_bound(const struct listener_config *lc)
{
	return bound(listener_serving(lc->name), lc);
}

int
runtime_format_info(struct buf *out)
{
	char listen[NET_ADDRSTRLEN], upstream[NET_ADDRSTRLEN];
	const struct listener *l;
	struct net_addr at;
	size_t i;
	int rc;

	rc = buf_appendf(out, "# Proxies\r\nproxies:%zu\r\n", rt.n);
	for (i = 0; i < rt.n; i++) {
		l = listener_serving(rt.lcs[i].name);
		at = bound(l, &rt.lcs[i]);
		net_addr_format(&at, listen, sizeof(listen));
		net_addr_format(&rt.lcs[i].upstream_addr, upstream, sizeof(upstream));
		rc |= buf_appendf(out, "proxy_%s:listen=%s,upstream=%s,enabled=%d,blackhole=%d,"
		    "connections=%llu\r\n", rt.lcs[i].name, listen, upstream, !rt.lcs[i].refuse,
		    rt.lcs[i].blackhole, (unsigned long long)(l != NULL ? l->active : 0));
	}
	return rc;
}
