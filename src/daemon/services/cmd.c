/* SPDX-License-Identifier: MIT */
#include <sys/time.h>

#include <fnmatch.h>
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
	size_t		 len;		/* of the name: a lookup calls no strlen() */
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
static enum cmd_result cmd_config(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_health(const struct cmd_client *, const struct resp_request *, struct buf *);

#define CMD(name, min, max, help, fn)	{ name, sizeof(name) - 1, min, max, help, fn }
static const struct command commands[] = {
	CMD("ping",   1, 2, "PING [message] - reply PONG, or the message", cmd_ping),
	CMD("echo",   2, 2, "ECHO message - reply the message", cmd_echo),
	CMD("time",   1, 1, "TIME - unix time: seconds and microseconds", cmd_time),
	CMD("whoami", 1, 1, "WHOAMI - this connection's id, addresses and listener", cmd_whoami),
	CMD("info",   1, RESP_MAX_ARGS, "INFO [section ...] - server information and counters", cmd_info),
	CMD("help",   1, 1, "HELP - this list", cmd_help),
	CMD("quit",   1, 1, "QUIT - reply OK and close the connection", cmd_quit),
	CMD("config", 3, 3, "CONFIG GET pattern - the settings Redis tools ask for", cmd_config),
	CMD("health", 1, 1, "HEALTH - OK while serving, an error once a stop began", cmd_health),
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
	struct conn_info info;
	char text[256];
	int n;

	(void)req;
	client->describe(client->ctx, &info);
	/* Behind a load balancer: the client, then the proxy it came through. */
	n = snprintf(text, sizeof(text), "id=%llu addr=%s laddr=%s listener=%s%s%s",
	    (unsigned long long)info.id, info.peer, info.local, info.listener,
	    info.proxy != NULL ? " proxy=" : "", info.proxy != NULL ? info.proxy : "");
	/* Under a supervisor: which worker answered. */
	if (stats.worker >= 0 && n > 0 && (size_t)n < sizeof(text))
		n += snprintf(text + n, sizeof(text) - (size_t)n, " worker=%d", stats.worker);
	resp_add_bulk(out, text, (size_t)n);
	return CMD_CONTINUE;
}

static enum cmd_result
cmd_info(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	unsigned sections = req->argc == 1 ? INFO_DEFAULT : 0, one;
	struct buf text;
	struct timespec now;
	size_t i;

	(void)client;
	/* Several sections at once, as Redis 7 takes them. */
	for (i = 1; i < req->argc; i++) {
		if ((one = stats_info_section(req->argv[i].ptr, req->argv[i].len)) == 0) {
			resp_add_error(out, "ERR unknown INFO section '%.*s'",
			    (int)(req->argv[i].len < NAME_IN_ERROR_MAX ?
			    req->argv[i].len : NAME_IN_ERROR_MAX), req->argv[i].ptr);
			return CMD_CONTINUE;
		}
		sections |= one;
	}
	buf_init(&text, 64 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (stats_format_info(&text, sections, now.tv_sec) == -1)
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

/*
 * CONFIG GET: the settings redis-benchmark and redis_exporter ask for, from
 * tcpd's configuration where it has one (maxclients); Redis's persistence
 * settings are answered as off, which is what tcpd does.
 */
static enum cmd_result
cmd_config(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	char pattern[64], maxclients[16];
	const struct { const char *name, *value; } settings[] = {
		{ "maxclients", maxclients }, { "save", "" }, { "appendonly", "no" },
	};
	size_t i, n = 0;

	(void)client;
	if (req->argv[1].len != 3 || strncasecmp(req->argv[1].ptr, "get", 3) != 0) {
		resp_add_error(out, "ERR CONFIG takes GET only");
		return CMD_CONTINUE;
	}
	snprintf(pattern, sizeof(pattern), "%.*s", (int)(req->argv[2].len < sizeof(pattern) ?
	    req->argv[2].len : sizeof(pattern) - 1), req->argv[2].ptr);
	snprintf(maxclients, sizeof(maxclients), "%u", stats.max_connections);
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		n += fnmatch(pattern, settings[i].name, FNM_CASEFOLD) == 0;
	resp_add_array(out, 2 * n);
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++) {
		if (fnmatch(pattern, settings[i].name, FNM_CASEFOLD) != 0)
			continue;
		resp_add_bulk(out, settings[i].name, strlen(settings[i].name));
		resp_add_bulk(out, settings[i].value, strlen(settings[i].value));
	}
	return CMD_CONTINUE;
}

/* For a load balancer's tcp-check: an error from SIGTERM on, during shutdown_delay too. */
static enum cmd_result
cmd_health(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	(void)client;
	(void)req;
	if (stats.ready)
		resp_add_simple(out, "OK");
	else
		resp_add_error(out, "ERR draining: tcpd is stopping");
	return CMD_CONTINUE;
}

void
cmd_register_stats(void)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		stats_command(i, commands[i].name);
}

/* The index in commands[] of the command called name, or NCOMMANDS. */
static size_t
find_command(const struct resp_arg *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (commands[i].len == name->len &&
		    strncasecmp(commands[i].name, name->ptr, name->len) == 0)
			break;
	return i;
}

uint64_t
cmd_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

enum cmd_result
cmd_execute(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out, uint64_t *since)
{
	const struct resp_arg *name = &req->argv[0];
	int shown = (int)(name->len < NAME_IN_ERROR_MAX ? name->len : NAME_IN_ERROR_MAX);
	const struct command *cmd;
	struct stats_command *counters;
	enum cmd_result rc;
	size_t before = buf_len(out), i = find_command(name);
	uint64_t start, ns;

	/* After the lookup's call: one load of the board's pointer serves both counts. */
	stats.commands_processed++;
	if (i == NCOMMANDS) {
		stats.error_replies++;
		stats.unknown_commands++;
		resp_add_error(out, "ERR unknown command '%.*s'", shown, name->ptr);
		return CMD_CONTINUE;
	}
	cmd = &commands[i];
	counters = &stats.commands[i];
	if (req->argc < cmd->min_argc || req->argc > cmd->max_argc) {
		stats.error_replies++;
		counters->rejected++;
		resp_add_error(out, "ERR wrong number of arguments for '%s' "
		    "command", cmd->name);
		return CMD_CONTINUE;
	}
	start = *since != 0 ? *since : cmd_clock_ns();
	rc = cmd->fn(client, req, out);
	/* One vDSO clock read a command: its end is the next one's start. */
	*since = cmd_clock_ns();
	ns = *since - start;
	hist_add(&counters->latency, ns);
	stats_observe(&counters->duration, stats_command_bounds, ns);
	if (buf_len(out) > before && buf_data(out)[before] == '-') {
		counters->failed++;
		stats.error_replies++;
	}
	return rc;
}
