/* SPDX-License-Identifier: MIT */
#include <sys/time.h>

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon/services/cmd.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

typedef enum cmd_result (*cmd_fn)(const struct cmd_client *,
    const struct resp_request *, struct buf *);

struct command {
	const char	*name;		/* lowercase, as Redis names commands in errors */
	size_t		 min_argc;	/* counting the name */
	size_t		 max_argc;
	const char	*help;
	cmd_fn		 fn;
};

static enum cmd_result cmd_ping(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_echo(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_time(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_whoami(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_info(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_help(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_quit(const struct cmd_client *, const struct resp_request *, struct buf *);

static const struct command commands[] = {
	{ "ping",   1, 2, "PING [message] - reply PONG, or the message", cmd_ping },
	{ "echo",   2, 2, "ECHO message - reply the message", cmd_echo },
	{ "time",   1, 1, "TIME - unix time: seconds and microseconds", cmd_time },
	{ "whoami", 1, 1, "WHOAMI - this connection's id, addresses and listener", cmd_whoami },
	{ "info",   1, 2, "INFO [server|clients|stats|all] - server information and counters", cmd_info },
	{ "help",   1, 1, "HELP - this list", cmd_help },
	{ "quit",   1, 1, "QUIT - reply OK and close the connection", cmd_quit },
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

/* Names in errors are cut like Redis does, so a huge name cannot bloat a reply. */
#define NAME_IN_ERROR_MAX 128

static enum cmd_result
cmd_ping(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	(void)client;
	if (req->argc == 2)
		resp_add_bulk(out, req->argv[1].ptr, req->argv[1].len);
	else
		resp_add_simple(out, "PONG");
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_echo(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	(void)client;
	resp_add_bulk(out, req->argv[1].ptr, req->argv[1].len);
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_time(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	char sec[24], usec[8];
	struct timeval tv;
	int n;

	(void)client;
	(void)req;
	gettimeofday(&tv, NULL);
	resp_add_array(out, 2);
	n = snprintf(sec, sizeof(sec), "%lld", (long long)tv.tv_sec);
	resp_add_bulk(out, sec, (size_t)n);
	n = snprintf(usec, sizeof(usec), "%ld", (long)tv.tv_usec);
	resp_add_bulk(out, usec, (size_t)n);
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_whoami(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	char text[256];
	int n;

	(void)req;
	n = snprintf(text, sizeof(text), "id=%llu addr=%s laddr=%s listener=%s",
	    (unsigned long long)client->id, client->peer, client->local,
	    client->listener);
	resp_add_bulk(out, text, (size_t)n);
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_info(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	struct buf text;
	struct timespec now;
	int rc;

	(void)client;
	buf_init(&text, 64 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &now);
	rc = stats_format_info(&text, req->argc == 2 ? req->argv[1].ptr : NULL,
	    req->argc == 2 ? req->argv[1].len : 0, now.tv_sec);
	if (rc == 1)
		resp_add_error(out, "ERR unknown INFO section '%.*s'",
		    (int)(req->argv[1].len < NAME_IN_ERROR_MAX ?
		    req->argv[1].len : NAME_IN_ERROR_MAX), req->argv[1].ptr);
	else if (rc == -1)
		resp_add_error(out, "ERR out of memory for the INFO text");
	else
		resp_add_bulk(out, buf_data(&text), buf_len(&text));
	buf_free(&text);
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_help(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	size_t i;

	(void)client;
	(void)req;
	resp_add_array(out, NCOMMANDS);
	for (i = 0; i < NCOMMANDS; i++)
		resp_add_bulk(out, commands[i].help, strlen(commands[i].help));
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_quit(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	(void)client;
	(void)req;
	resp_add_simple(out, "OK");
	return CMD_CLOSE;
}

static const struct command *
find_command(const struct resp_arg *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (strlen(commands[i].name) == name->len &&
		    strncasecmp(commands[i].name, name->ptr, name->len) == 0)
			return &commands[i];
	return NULL;
}

enum cmd_result
cmd_execute(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	const struct resp_arg *name = &req->argv[0];
	int shown = (int)(name->len < NAME_IN_ERROR_MAX ? name->len : NAME_IN_ERROR_MAX);
	const struct command *cmd;

	stats.commands_processed++;
	if ((cmd = find_command(name)) == NULL) {
		resp_add_error(out, "ERR unknown command '%.*s'", shown, name->ptr);
		return CMD_CONTINUE;
	}
	if (req->argc < cmd->min_argc || req->argc > cmd->max_argc) {
		resp_add_error(out, "ERR wrong number of arguments for '%s' "
		    "command", cmd->name);
		return CMD_CONTINUE;
	}
	return cmd->fn(client, req, out);
}
