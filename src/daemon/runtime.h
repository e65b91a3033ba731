/* SPDX-License-Identifier: MIT */
#ifndef TCPD_RUNTIME_H
#define TCPD_RUNTIME_H

#include <stddef.h>

#include "tcpd/net.h"

struct buf;
struct listener_config;

/*
 * Listeners made while tcpd runs (the control service's proxies), kept
 * beside the configuration and gone with the process. The control service
 * sits below the server that binds them, so it changes this set and the
 * server, which installed itself as the applier, makes it the running one:
 * a call that runs up through a pointer, as stats_publish() does.
 */

/*
 * Applies the configuration's listeners plus lcs (n of them), all or
 * nothing: returns 0, or -1 with a message in err.
 */
typedef int (*runtime_applier)(void *arg, const struct listener_config *lcs, size_t n,
	    char *err, size_t errlen);

/*
 * The server's applier, and a listener with every key at its default for
 * new ones to start from (copied); NULL takes it away and frees the set.
 */
void	runtime_set_applier(runtime_applier fn, void *arg,
	    const struct listener_config *defaults);

/* What runtime_set_applier() was given as defaults, or NULL without a server. */
const struct listener_config *runtime_defaults(void);

/*
 * The address runtime listener lc listens on: its socket's, with the port
 * the kernel chose for a port 0 (lc's bind when it has none).
 */
struct net_addr runtime_bound(const struct listener_config *lc);

/*
 * INFO's Proxies section: the runtime listeners, one line each (name,
 * listen, upstream, enabled, blackhole, connections open). Returns 0, or
 * -1 (out full).
 */
int	runtime_format_info(struct buf *out);

/* The runtime listeners now, n of them (NULL for none). */
const struct listener_config *runtime_listeners(size_t *n);

/*
 * Makes lcs (n, copied) the runtime listeners and has the applier run
 * them. Returns 0; or -1 with a message in err and the set unchanged (no
 * applier, out of memory, or the applier's failure).
 */
int	runtime_replace(const struct listener_config *lcs, size_t n, char *err, size_t errlen);

#endif
