/* SPDX-License-Identifier: MIT */
#ifndef TCPD_CMD_H
#define TCPD_CMD_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "daemon/conn.h"
#include "tcpd/resp.h"

struct buf;
struct faults;

/* CLIENT REPLY: whether replies are sent. */
enum cmd_reply { CMD_REPLY_ON, CMD_REPLY_OFF, CMD_REPLY_SKIP_NEXT };

/*
 * What a connection has said about itself (HELLO, AUTH, CLIENT, RESET),
 * kept in four bytes: every command connection has one.
 */
struct cmd_session {
	uint8_t		 proto;		/* enum resp_proto */
	uint8_t		 reply;		/* enum cmd_reply */
	uint8_t		 last;		/* the last command run, for CLIENT LIST; 0 = none */
	bool		 authed;	/* AUTH done, or no password to give */
};

/* What few connections set: made at the first, freed with the connection. */
struct cmd_extras {
	char		*name;		/* CLIENT SETNAME, HELLO SETNAME */
	char		*lib_name;	/* CLIENT SETINFO LIB-NAME */
	char		*lib_ver;
	struct faults	*faults;	/* made at the first fault command */
};

/* A command connection's state: its requests' parser, its session, its extras. */
struct cmd_state {
	struct resp_state	 resp;
	struct cmd_session	 session;
	struct cmd_extras	*extras;
};

/* The connection a request came on: commands about it reach the transport. */
struct cmd_client {
	struct conn		*conn;
	struct cmd_session	*session;
	struct cmd_extras	**extras;	/* *extras NULL until needed */
	bool			 faults;	/* the listener lets it use fault commands */
};

enum cmd_result {
	CMD_CONTINUE,
	CMD_CLOSE,		/* close the connection once the reply is sent */
};

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t cmd_clock_ns(void);

/*
 * Runs one parsed request (argc > 0) and appends its reply, in the
 * session's protocol, to out. *since is when this request's handling began
 * (the read that brought it, or the end of the request before it, 0 when
 * unknown): the command's duration is counted from there, and *since is
 * set to now, so a batch of pipelined requests costs one clock read each.
 * Before AUTH, only the commands that may come first run. Returns
 * CMD_CLOSE for QUIT, CMD_CONTINUE otherwise; if out is full the reply is
 * cut short and the caller sees it in buf_len(out).
 */
enum cmd_result cmd_execute(const struct cmd_client *client,
	    const struct resp_request *req, struct buf *out, uint64_t *since);

/*
 * After a request whose reply starts at before in out, with the session's
 * reply mode mode as it was before the request: takes the reply back when
 * CLIENT REPLY OFF or SKIP says so.
 */
void	cmd_reply_filter(struct cmd_session *session, enum cmd_reply mode, struct buf *out,
	    size_t before);

/* Names every command's counters, so INFO and /metrics list them from the start. */
void	cmd_register_stats(void);

/* For the session's commands (session.c): the command table's entries. */
struct cmd_arg {
	const char	*name;
	const char	*type;		/* Redis's: string, integer, pure-token, block, oneof */
	const char	*token;		/* the word before it, or NULL */
	unsigned	 flags;		/* CMD_ARG_* */
	const struct cmd_arg *args;	/* a block's or oneof's, ended by a NULL name */
};
#define CMD_ARG_OPTIONAL	(1u << 0)
#define CMD_ARG_MULTIPLE	(1u << 1)

typedef enum cmd_result (*cmd_fn)(const struct cmd_client *, const struct resp_request *,
    struct buf *);

struct command {
	const char	*name;		/* lowercase, as Redis names commands in errors */
	size_t		 len;		/* of the name: a lookup calls no strlen() */
	unsigned	 min_argc;	/* counting the name (and a subcommand's container) */
	unsigned	 max_argc;	/* COMMAND's arity: min_argc, or -min_argc when they differ */
	unsigned	 flags;		/* CMD_F_* */
	const char	*group;		/* COMMAND DOCS' group */
	const char	*summary;
	const char	*since;		/* the tcpd version that added it */
	const struct cmd_arg *args;	/* ended by a NULL name */
	cmd_fn		 fn;		/* NULL for a container: its subcommands run */
	const struct command *subcommands;	/* ended by a NULL name, or NULL */
};
#define CMD_F_FAST	(1u << 0)	/* COMMAND's "fast" */
#define CMD_F_LOADING	(1u << 1)
#define CMD_F_STALE	(1u << 2)
#define CMD_F_NOSCRIPT	(1u << 3)
#define CMD_F_NOAUTH	(1u << 4)	/* runs before AUTH: "no_auth" */
#define CMD_F_ADMIN	(1u << 5)

/* A container's HELP subcommand: its subcommands from the table. */
enum cmd_result cmd_container_help(const struct cmd_client *, const struct resp_request *,
	    struct buf *);


/* A name as Redis shows it in errors: cut, so a huge one cannot bloat a reply. */
#define CMD_NAME_IN_ERROR_MAX 128

#endif
