/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CONFIG_H
#define TCPD_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "daemon/acl.h"
#include "daemon/pace.h"
#include "tcpd/log.h"
#include "tcpd/net.h"

struct service;

#define CONFIG_MAX_BINDS	16
#define CONFIG_MAX_CIDRS	64
#define CONFIG_NAME_MAX		32	/* listener name, with the NUL */
#define CONFIG_MAX_WORKERS	256	/* the most workers = N takes */

struct cidr_list {
	struct cidr	v[CONFIG_MAX_CIDRS];
	size_t		n;
};

/* The longest password requirepass takes. */
#define CONFIG_SECRET_MAX	255

struct listener_config {
	char		 name[CONFIG_NAME_MAX];
	unsigned	 line;			/* of the [listener.NAME] header; 0
						   for one from --listen */
	struct net_addr	 binds[CONFIG_MAX_BINDS];
	bool		 bind_optional[CONFIG_MAX_BINDS];	/* "-ADDR:PORT" */
	size_t		 nbinds;
	unsigned	 bind_line;		/* 0 = no bind key */
	unsigned	 service_line;		/* 0 = no service key */
	const struct service *service;
	unsigned	 backlog;
	unsigned	 max_connections_per_ip;	/* 0 = unlimited */
	struct cidr_list allow;				/* empty = everyone */
	struct cidr_list deny;
	bool		 log_connections;	/* each close at info, or at debug */
	const char	*file;			/* an included file's name, the
						   "--listen ADDR" it came from, or NULL */
	unsigned	 proxy_protocol;	/* 0 off, or enum proxy_versions */
	unsigned	 proxy_line;
	struct cidr_list proxy_trusted;		/* who may send the header */
	unsigned	 proxy_timeout;		/* seconds for the header */
	unsigned	 faults;		/* enum faults_gate */
	/* AUTH's password on a command listener, "" for none (requirepass, requirepass_file). */
	char		 requirepass[CONFIG_SECRET_MAX + 1];
	struct pace_profile profile;		/* faults for every connection */
	/* The same faults on the bytes toward the service (upstream_ keys). */
	struct pace_profile upstream;
	/* service = proxy: the server it connects each client to, and how long it waits. */
	struct net_addr	 upstream_addr;
	unsigned	 upstream_line;		/* 0 = no upstream key */
	unsigned	 connect_timeout;	/* ms */
	/* Connection setup: not listening (ECONNREFUSED), or listening but never accepting. */
	bool		 refuse;
	bool		 blackhole;
	unsigned	 upstream_proxy_protocol;	/* 0 off, PROXY_V1 or PROXY_V2 */
	unsigned	 upstream_connect_delay;	/* ms before each connect */
	/* service = control: where its proxies may listen besides loopback. */
	struct cidr_list proxy_listen_allow;
};

/* Who may inject faults on a command listener. */
enum faults_gate { FAULTS_OFF, FAULTS_LOOPBACK, FAULTS_ON };

struct config {
	enum log_level		 log_level;
	enum log_target		 log_target;
	unsigned		 max_connections;
	unsigned		 idle_timeout;	/* seconds, 0 = never */
	unsigned		 request_timeout; /* seconds, 0 = never */
	unsigned		 shutdown_timeout; /* seconds */
	unsigned		 shutdown_delay;	/* seconds not ready, still accepting */
	unsigned		 max_line;	/* bytes */
	unsigned		 output_limit;	/* bytes */
	unsigned		 workers;	/* processes, 0 = one per CPU (auto) */
	struct listener_config	*listeners;
	size_t			 nlisteners;
	char			**files;	/* included, in the order read; or
						   the --listen options */
	size_t			 nfiles;
};

/* Files include = may add in all, and the longest name kept for a message. */
#define CONFIG_MAX_INCLUDES	64
#define CONFIG_FILE_MAX		256

#define CONFIG_MAX_ERRORS	32
#define CONFIG_ERRLEN		192

/*
 * Errors found in one parse, in the order found; line 0 = the whole file.
 * file is "" for the file given, or the included file the error is in,
 * escaped as log_escape() does (a file's name is outside text).
 */
struct config_errors {
	struct {
		char		file[CONFIG_FILE_MAX];
		unsigned	line;
		char		msg[CONFIG_ERRLEN];
	}		 err[CONFIG_MAX_ERRORS];
	size_t		 count;		/* may exceed CONFIG_MAX_ERRORS */
	const char	*current;	/* while parsing: the included file, or NULL */
};

/*
 * Parses and validates a config file (or text). Returns 0 with *cfg filled,
 * or -1 with at least one error in *errs and *cfg left empty. Either way the
 * caller ends with config_free().
 */
int	config_load_file(struct config *cfg, const char *path,
	    struct config_errors *errs);
int	config_load_string(struct config *cfg, const char *text,
	    struct config_errors *errs);

/*
 * One command-line option that builds the configuration, in the order given:
 * name is "listen" (starts listener cliN on one ADDR:PORT, a bare port
 * meaning 127.0.0.1), "control" (a "listen" with service control),
 * "service", "set" (KEY=VALUE, any listener key), "fault" (K=V[,K=V...],
 * fault keys only), "upstream" or "seed"; each option after a "listen"
 * sets a key of that listener.
 */
struct config_option {
	const char	*name;
	const char	*value;
};

/*
 * The configuration the options describe, every other setting at its
 * default, each value through the same parser and checks as the file's.
 * Built directly, never through ini text, so no byte of an option can add
 * a key or a section. Errors have line 0 and, as their file, the option
 * they are about ("--listen TEXT", "--set TEXT"). Returns 0 or -1 as
 * config_load_file().
 */
int	config_load_options(struct config *cfg, const struct config_option *opts,
	    size_t n, struct config_errors *errs);
void	config_free(struct config *cfg);

/*
 * A listener's seed (seed = N; seeded false: none), for both directions:
 * connection k draws the same faults on every run.
 */
void	config_seed(struct listener_config *lc, bool seeded, uint64_t seed);

/* A listener with every key at its default (no name, bind or service). */
void	config_listener_defaults(struct listener_config *lc);

/*
 * lc's fault profile in one line, each key as the config names it
 * ("downstream delay=100ms jitter=10ms; upstream limit_data=1000; seed 7"),
 * or "" for a listener without faults. Returns its length (cut to size - 1).
 */
size_t	config_format_faults(const struct listener_config *lc, char *buf, size_t size);

#endif
