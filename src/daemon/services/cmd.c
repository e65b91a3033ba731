/* SPDX-License-Identifier: MIT */
/*
 * The command table and the commands that need nothing but their request,
 * the session and the counters. One table: dispatch, arity checks, HELP,
 * COMMAND and the counters all read it.
 */
#include <sys/time.h>

#include <ctype.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "daemon/listener.h"
#include "daemon/services/cmd.h"
#include "daemon/services/session.h"
#include "daemon/services/faults/fault.h"
#include "daemon/runtime.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/num.h"
#include "tcpd/resp.h"

static enum cmd_result cmd_ping(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_echo(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_time(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_whoami(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_info(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_help(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_quit(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_config(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_health(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_select(const struct cmd_client *, const struct resp_request *, struct buf *);
static enum cmd_result cmd_command(const struct cmd_client *, const struct resp_request *, struct buf *);

#define END		{ NULL, NULL, NULL, 0, NULL }
static const struct cmd_arg message_arg[] = {
	{ "message", "string", NULL, CMD_ARG_OPTIONAL, NULL }, END };
static const struct cmd_arg echo_args[] = { { "message", "string", NULL, 0, NULL }, END };
static const struct cmd_arg info_args[] = {
	{ "section", "string", NULL, CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, NULL }, END };
static const struct cmd_arg config_get_args[] = {
	{ "parameter", "string", NULL, CMD_ARG_MULTIPLE, NULL }, END };
static const struct cmd_arg select_args[] = { { "index", "integer", NULL, 0, NULL }, END };
static const struct cmd_arg command_names_args[] = {
	{ "command-name", "string", NULL, CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, NULL }, END };
static const struct cmd_arg no_args[] = { END };

#define CMD(name, min, max, flags, group, summary, since, args, fn, sub) \
	{ name, sizeof(name) - 1, min, max, flags, group, summary, since, args, fn, sub }
#define CMD_END		{ NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL }

static const struct cmd_arg auth_pair[] = {
	{ "username", "string", NULL, 0, NULL },
	{ "password", "string", NULL, 0, NULL }, END };
static const struct cmd_arg hello_block[] = {
	{ "protover", "integer", NULL, 0, NULL },
	{ "username_password", "block", "AUTH", CMD_ARG_OPTIONAL, auth_pair },
	{ "clientname", "string", "SETNAME", CMD_ARG_OPTIONAL, NULL }, END };
static const struct cmd_arg hello_args[] = {
	{ "arguments", "block", NULL, CMD_ARG_OPTIONAL, hello_block }, END };
static const struct cmd_arg auth_args[] = {
	{ "username", "string", NULL, CMD_ARG_OPTIONAL, NULL },
	{ "password", "string", NULL, 0, NULL }, END };

static const struct cmd_arg setname_args[] = {
	{ "connection-name", "string", NULL, 0, NULL }, END };
static const struct cmd_arg lib_args[] = {
	{ "libname", "string", "LIB-NAME", 0, NULL },
	{ "libver", "string", "LIB-VER", 0, NULL }, END };
static const struct cmd_arg setinfo_args[] = {
	{ "attr", "oneof", NULL, 0, lib_args }, END };
static const struct cmd_arg kill_args[] = {
	{ "ip:port", "string", NULL, CMD_ARG_OPTIONAL, NULL },
	{ "client-id", "integer", "ID", CMD_ARG_OPTIONAL, NULL },
	{ "ip:port", "string", "ADDR", CMD_ARG_OPTIONAL, NULL },
	{ "ip:port", "string", "LADDR", CMD_ARG_OPTIONAL, NULL },
	{ "username", "string", "USER", CMD_ARG_OPTIONAL, NULL },
	{ "yes/no", "string", "SKIPME", CMD_ARG_OPTIONAL, NULL }, END };
static const struct cmd_arg list_args[] = {
	{ "type", "string", "TYPE", CMD_ARG_OPTIONAL, NULL },
	{ "client-id", "integer", "ID", CMD_ARG_OPTIONAL | CMD_ARG_MULTIPLE, NULL }, END };
static const struct cmd_arg on_off[] = {
	{ "on", "pure-token", "ON", 0, NULL },
	{ "off", "pure-token", "OFF", 0, NULL }, END };
static const struct cmd_arg on_off_args[] = {
	{ "enabled", "oneof", NULL, 0, on_off }, END };
static const struct cmd_arg reply_actions[] = {
	{ "on", "pure-token", "ON", 0, NULL },
	{ "off", "pure-token", "OFF", 0, NULL },
	{ "skip", "pure-token", "SKIP", 0, NULL }, END };
static const struct cmd_arg reply_args[] = {
	{ "action", "oneof", NULL, 0, reply_actions }, END };

#define F_CLIENT	(CMD_F_NOSCRIPT | CMD_F_LOADING | CMD_F_STALE)
#define SUB(name, min, max, flags, summary, args, fn) \
	{ name, sizeof(name) - 1, min, max, flags, "connection", summary, "2.4.0", args, fn, NULL }

static const struct command client_subcommands[] = {
	SUB("id", 2, 2, F_CLIENT, "Returns the client ID for the current connection", no_args,
	    session_client_id),
	SUB("setname", 3, 3, F_CLIENT, "Set the current connection name", setname_args,
	    session_client_setname),
	SUB("getname", 2, 2, F_CLIENT, "Get the current connection name", no_args,
	    session_client_getname),
	SUB("setinfo", 4, 4, F_CLIENT, "Set client or connection specific info", setinfo_args,
	    session_client_setinfo),
	SUB("info", 2, 2, F_CLIENT, "Returns information about the current client connection.",
	    no_args, session_client_info),
	SUB("list", 2, RESP_MAX_ARGS, F_CLIENT | CMD_F_ADMIN,
	    "Get the list of this process's client connections", list_args, session_client_list),
	SUB("kill", 3, RESP_MAX_ARGS, F_CLIENT | CMD_F_ADMIN, "Kill the connection of a client",
	    kill_args, session_client_kill),
	SUB("no-evict", 3, 3, F_CLIENT | CMD_F_ADMIN, "Set client eviction mode for the current "
	    "connection", on_off_args, session_client_on_off),
	SUB("no-touch", 3, 3, F_CLIENT, "Controls whether commands sent by the client will "
	    "alter the LRU/LFU of the keys they access", on_off_args, session_client_on_off),
	SUB("reply", 3, 3, F_CLIENT, "Instruct the server whether to reply to commands",
	    reply_args, session_client_reply),
	SUB("help", 2, 2, CMD_F_LOADING | CMD_F_STALE, "Show helpful text about the different "
	    "subcommands", no_args, cmd_container_help),
	{ NULL, 0, 0, 0, 0, NULL, NULL, NULL, NULL, NULL, NULL },
};

static const struct command config_subcommands[] = {
	CMD("get", 3, 3, CMD_F_LOADING | CMD_F_STALE | CMD_F_NOSCRIPT, "server",
	    "The settings Redis tools ask for (maxclients, save, appendonly)", "2.0.0",
	    config_get_args, cmd_config, NULL),
	CMD("help", 2, 2, CMD_F_LOADING | CMD_F_STALE, "server", "Show helpful text about the "
	    "different subcommands", "5.0.0", no_args, cmd_container_help, NULL),
	CMD_END,
};

static const struct command command_subcommands[] = {
	CMD("count", 2, 2, CMD_F_LOADING | CMD_F_STALE, "server",
	    "Get total number of commands", "2.8.13", no_args, cmd_command, NULL),
	CMD("info", 2, RESP_MAX_ARGS, CMD_F_LOADING | CMD_F_STALE, "server",
	    "Get array of specific command details, or all when no argument is given",
	    "2.8.13", command_names_args, cmd_command, NULL),
	CMD("docs", 2, RESP_MAX_ARGS, CMD_F_LOADING | CMD_F_STALE, "server",
	    "Get array of specific command documentation", "7.0.0", command_names_args,
	    cmd_command, NULL),
	CMD("list", 2, 2, CMD_F_LOADING | CMD_F_STALE, "server",
	    "Get an array of command names", "7.0.0", no_args, cmd_command, NULL),
	CMD("help", 2, 2, CMD_F_LOADING | CMD_F_STALE, "server", "Show helpful text about the "
	    "different subcommands", "5.0.0", no_args, cmd_container_help, NULL),
	CMD_END,
};

/* Index 0 is no command: a session's last command 0 means none yet. */
static const struct command commands[] = {
	CMD_END,
	CMD("ping", 1, 2, CMD_F_FAST, "connection", "Ping the server", "1.0.0", message_arg,
	    cmd_ping, NULL),
	CMD("echo", 2, 2, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, "connection",
	    "Echo the given string", "1.0.0", echo_args, cmd_echo, NULL),
	CMD("time", 1, 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, "server",
	    "Return the current server time", "2.6.0", no_args, cmd_time, NULL),
	CMD("whoami", 1, 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, "connection",
	    "tcpd: this connection's id, addresses and listener", "tcpd 0.1.0", no_args,
	    cmd_whoami, NULL),
	CMD("info", 1, RESP_MAX_ARGS, CMD_F_LOADING | CMD_F_STALE, "server",
	    "Get information and statistics about the server", "1.0.0", info_args, cmd_info,
	    NULL),
	CMD("help", 1, 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, "connection",
	    "tcpd: this list", "tcpd 0.1.0", no_args, cmd_help, NULL),
	CMD("quit", 1, 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE | CMD_F_NOAUTH |
	    CMD_F_NOSCRIPT, "connection", "Close the connection", "1.0.0", no_args, cmd_quit,
	    NULL),
	CMD("config", 2, RESP_MAX_ARGS, 0, "server", "A container for server configuration "
	    "commands", "2.0.0", no_args, NULL, config_subcommands),
	CMD("health", 1, 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, "server",
	    "tcpd: OK while serving, an error once a stop began", "tcpd 0.1.0", no_args,
	    cmd_health, NULL),
	CMD("hello", 1, 7, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE | CMD_F_NOAUTH |
	    CMD_F_NOSCRIPT, "connection", "Handshake with Redis", "6.0.0", hello_args,
	    session_hello, NULL),
	CMD("auth", 2, 3, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE | CMD_F_NOAUTH |
	    CMD_F_NOSCRIPT, "connection", "Authenticate to the server", "1.0.0",
	    auth_args, session_auth, NULL),
	CMD("reset", 1, 1, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE | CMD_F_NOAUTH |
	    CMD_F_NOSCRIPT, "connection", "Reset the connection", "6.2.0", no_args, session_reset,
	    NULL),
	CMD("select", 2, 2, CMD_F_FAST | CMD_F_LOADING | CMD_F_STALE, "connection",
	    "Change the selected database for the current connection (only 0 here)", "1.0.0",
	    select_args, cmd_select, NULL),
	CMD("client", 2, RESP_MAX_ARGS, 0, "connection", "A container for client connection "
	    "commands", "2.4.0", no_args, NULL, client_subcommands),
	CMD("command", 1, RESP_MAX_ARGS, CMD_F_LOADING | CMD_F_STALE, "server",
	    "Get array of Redis command details", "2.8.13", no_args, cmd_command,
	    command_subcommands),
};
#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))
_Static_assert(NCOMMANDS <= STATS_MAX_COMMANDS, "each command needs its counters");
_Static_assert(NCOMMANDS <= 256, "a session keeps its last command in a byte");

static const char *const flag_names[] = {
	"fast", "loading", "stale", "noscript", "no_auth", "admin",
};

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
	conn_get_info(client->conn, &info);
	/* Behind a load balancer: the client, then the proxy it came through. */
	n = snprintf(text, sizeof(text), "id=%llu addr=%s laddr=%s listener=%s%s%s",
	    (unsigned long long)info.id, info.peer, info.local, info.listener,
	    info.proxy != NULL ? " proxy=" : "", info.proxy != NULL ? info.proxy : "");
	/* A name given with CLIENT SETNAME or HELLO. */
	if (*client->extras != NULL && (*client->extras)->name != NULL && n > 0 &&
	    (size_t)n < sizeof(text))
		n += snprintf(text + n, sizeof(text) - (size_t)n, " name=%s",
		    (*client->extras)->name);
	/* Under a supervisor: which worker answered. */
	if (stats.worker >= 0 && n > 0 && (size_t)n < sizeof(text))
		n += snprintf(text + n, sizeof(text) - (size_t)n, " worker=%d", stats.worker);
	resp_add_bulk(out, text, (size_t)n < sizeof(text) ? (size_t)n : sizeof(text) - 1);
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

	/* Several sections at once, as Redis 7 takes them. */
	for (i = 1; i < req->argc; i++) {
		if ((one = stats_info_section(req->argv[i].ptr, req->argv[i].len)) == 0) {
			resp_add_error(out, "ERR unknown INFO section '%.*s'",
			    (int)(req->argv[i].len < CMD_NAME_IN_ERROR_MAX ?
			    req->argv[i].len : CMD_NAME_IN_ERROR_MAX), req->argv[i].ptr);
			return CMD_CONTINUE;
		}
		sections |= one;
	}
	buf_init(&text, 64 * 1024);
	clock_gettime(CLOCK_MONOTONIC, &now);
	/* Proxies last: the runtime listeners, which the counters know nothing of. */
	if (stats_format_info(&text, sections, now.tv_sec) == -1 || ((sections & INFO_PROXIES) &&
	    (buf_append(&text, "\r\n", buf_len(&text) > 0 ? 2 : 0) == -1 ||
	    runtime_format_info(&text) == -1)))
		resp_add_error(out, "ERR out of memory for the INFO text");
	else
		resp_add_verbatim(out, buf_data(&text), buf_len(&text), client->session->proto);
	buf_free(&text);
	return CMD_CONTINUE;
}

/* name in capitals, as Redis's errors and help write it, cut to fit dst. */
static const char *
capitals(char *dst, size_t size, const char *name)
{
	size_t i;

	for (i = 0; name[i] != '\0' && i < size - 1; i++)
		dst[i] = (char)toupper((unsigned char)name[i]);
	dst[i] = '\0';
	return dst;
}

/* Text written at *pos of dst (size bytes), cut at its end. */
static void
put(char *dst, size_t size, size_t *pos, const char *text)
{
	size_t n = strlen(text);

	if (*pos + 1 >= size)
		return;
	if (n > size - 1 - *pos)
		n = size - 1 - *pos;
	memcpy(dst + *pos, text, n);
	*pos += n;
	dst[*pos] = '\0';
}

/* The arguments as Redis's help shows them: "[message]", "[AUTH username password]". */
static void
usage_of(const struct cmd_arg *args, bool oneof, char *dst, size_t size, size_t *pos)
{
	const struct cmd_arg *a;

	for (a = args; a->name != NULL; a++) {
		if (a != args)
			put(dst, size, pos, oneof ? " | " : " ");
		if (a->flags & CMD_ARG_OPTIONAL)
			put(dst, size, pos, "[");
		if (a->token != NULL)
			put(dst, size, pos, a->token);
		if (a->token != NULL && strcmp(a->type, "pure-token") != 0)
			put(dst, size, pos, " ");
		if (a->args != NULL && strcmp(a->type, "oneof") == 0) {
			put(dst, size, pos, "<");
			usage_of(a->args, true, dst, size, pos);
			put(dst, size, pos, ">");
		} else if (a->args != NULL) {
			usage_of(a->args, false, dst, size, pos);
		} else if (strcmp(a->type, "pure-token") != 0)
			put(dst, size, pos, a->name);
		if (a->flags & CMD_ARG_MULTIPLE) {
			put(dst, size, pos, " [");
			put(dst, size, pos, a->name);
			put(dst, size, pos, " ...]");
		}
		if (a->flags & CMD_ARG_OPTIONAL)
			put(dst, size, pos, "]");
	}
}

/* HELP's line for cmd (a subcommand's under its container's name). */
static void
help_line(const struct command *container, const struct command *cmd, struct buf *out)
{
	char line[256], upper[32];
	size_t pos = 0;

	line[0] = '\0';
	if (container != NULL) {
		put(line, sizeof(line), &pos, capitals(upper, sizeof(upper), container->name));
		put(line, sizeof(line), &pos, " ");
	}
	put(line, sizeof(line), &pos, capitals(upper, sizeof(upper), cmd->name));
	if (cmd->args[0].name != NULL) {
		put(line, sizeof(line), &pos, " ");
		usage_of(cmd->args, false, line, sizeof(line), &pos);
	}
	put(line, sizeof(line), &pos, " - ");
	put(line, sizeof(line), &pos, cmd->summary);
	resp_add_bulk(out, line, pos);
}

/*
 * CONFIG HELP, CLIENT HELP, COMMAND HELP: the container's subcommands, as
 * Redis lays them out, from the table.
 */
enum cmd_result
cmd_container_help(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	const struct command *cmd = &commands[client->session->last], *sub;
	char line[256], upper[32];
	size_t n = 1, pos;

	(void)req;
	for (sub = cmd->subcommands; sub->name != NULL; sub++)
		n += 2;
	resp_add_array(out, n);
	snprintf(line, sizeof(line), "%s <subcommand> [<arg> [value] [opt] ...]. Subcommands "
	    "are:", capitals(upper, sizeof(upper), cmd->name));
	resp_add_simple(out, line);
	for (sub = cmd->subcommands; sub->name != NULL; sub++) {
		pos = 0;
		line[0] = '\0';
		put(line, sizeof(line), &pos, capitals(upper, sizeof(upper), sub->name));
		if (sub->args[0].name != NULL) {
			put(line, sizeof(line), &pos, " ");
			usage_of(sub->args, false, line, sizeof(line), &pos);
		}
		resp_add_simple(out, line);
		/* Redis's help ends each line with a period; a summary may have its own. */
		snprintf(line, sizeof(line), "    %s%s", sub->summary,
		    sub->summary[strlen(sub->summary) - 1] == '.' ? "" : ".");
		resp_add_simple(out, line);
	}
	return CMD_CONTINUE;
}

/* HELP's lines, or only their count when out is NULL. */
static size_t
help_lines(const struct cmd_client *client, struct buf *out)
{
	const struct command *cmd, *sub;
	const struct fault *f;
	char line[160];
	size_t n = 0, i;

	for (cmd = commands + 1; cmd < commands + NCOMMANDS; cmd++) {
		if (cmd->fn != NULL && (n++, out != NULL))
			help_line(NULL, cmd, out);
		for (sub = cmd->subcommands; sub != NULL && sub->name != NULL; sub++)
			if (n++, out != NULL)
				help_line(cmd, sub, out);
	}
	/* The faults, where this listener lets this client use them. */
	for (i = 0; client->faults && (f = faults_entry(i)) != NULL; i++) {
		if (n++, out != NULL)
			resp_add_bulk(out, line, (size_t)snprintf(line, sizeof(line), "FAULT %s",
			    f->usage));
	}
	return n;
}

static enum cmd_result
cmd_help(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	(void)req;
	resp_add_array(out, help_lines(client, NULL));
	help_lines(client, out);
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

	snprintf(pattern, sizeof(pattern), "%.*s", (int)(req->argv[2].len < sizeof(pattern) ?
	    req->argv[2].len : sizeof(pattern) - 1), req->argv[2].ptr);
	snprintf(maxclients, sizeof(maxclients), "%u", stats.max_connections);
	for (i = 0; i < sizeof(settings) / sizeof(settings[0]); i++)
		n += fnmatch(pattern, settings[i].name, FNM_CASEFOLD) == 0;
	resp_add_map(out, n, client->session->proto);
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

/* tcpd keeps no data: database 0 is the only one, so that clients that select it work. */
static enum cmd_result
cmd_select(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	int64_t index;

	(void)client;
	if (num_parse(req->argv[1].ptr, req->argv[1].len, INT64_MIN, INT64_MAX, &index) == -1)
		resp_add_error(out, "ERR value is not an integer or out of range");
	else if (index != 0)
		resp_add_error(out, "ERR DB index is out of range");
	else
		resp_add_simple(out, "OK");
	return CMD_CONTINUE;
}

/* COMMAND's arity: exactly n, or -n for at least n. */
static int64_t
arity_of(const struct command *cmd)
{
	return cmd->min_argc == cmd->max_argc ? (int64_t)cmd->min_argc : -(int64_t)cmd->min_argc;
}

static void
add_word(struct buf *out, const char *prefix, const char *word)
{
	char text[64];

	snprintf(text, sizeof(text), "%s%s", prefix, word);
	resp_add_simple(out, text);
}

/* COMMAND INFO's ten fields for cmd (named "container|name" for a subcommand). */
static void
command_info(const struct command *container, const struct command *cmd, struct buf *out,
    enum resp_proto proto)
{
	char name[64];
	const struct command *sub;
	size_t i, n = 0;

	snprintf(name, sizeof(name), "%s%s%s", container != NULL ? container->name : "",
	    container != NULL ? "|" : "", cmd->name);
	resp_add_array(out, 10);
	resp_add_bulk(out, name, strlen(name));
	resp_add_int(out, arity_of(cmd));
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		n += (cmd->flags >> i) & 1;
	resp_add_set(out, n, proto);
	for (i = 0; i < sizeof(flag_names) / sizeof(flag_names[0]); i++)
		if ((cmd->flags >> i) & 1)
			add_word(out, "", flag_names[i]);
	/* No keys: first, last, step. */
	resp_add_int(out, 0);
	resp_add_int(out, 0);
	resp_add_int(out, 0);
	resp_add_set(out, 2, proto);
	add_word(out, "@", cmd->flags & CMD_F_FAST ? "fast" : "slow");
	add_word(out, "@", cmd->group);
	resp_add_set(out, 0, proto);	/* tips */
	resp_add_set(out, 0, proto);	/* key specs */
	for (n = 0, sub = cmd->subcommands; sub != NULL && sub->name != NULL; sub++)
		n++;
	/* Redis's own shapes: an empty set, or an array of the subcommands' fields. */
	if (n == 0) {
		resp_add_set(out, 0, proto);
		return;
	}
	resp_add_array(out, n);
	for (sub = cmd->subcommands; sub->name != NULL; sub++)
		command_info(cmd, sub, out, proto);
}

static void
arg_docs(const struct cmd_arg *args, struct buf *out, enum resp_proto proto)
{
	const struct cmd_arg *a;
	size_t n = 0, i;

	for (a = args; a->name != NULL; a++)
		n++;
	resp_add_array(out, n);
	for (a = args; a->name != NULL; a++) {
		resp_add_map(out, 2 + (a->token != NULL) + (a->flags != 0) + (a->args != NULL),
		    proto);
		resp_add_bulk(out, "name", 4);
		resp_add_bulk(out, a->name, strlen(a->name));
		resp_add_bulk(out, "type", 4);
		resp_add_bulk(out, a->type, strlen(a->type));
		if (a->token != NULL) {
			resp_add_bulk(out, "token", 5);
			resp_add_bulk(out, a->token, strlen(a->token));
		}
		if (a->flags != 0) {
			resp_add_bulk(out, "flags", 5);
			n = ((a->flags & CMD_ARG_OPTIONAL) != 0) + ((a->flags & CMD_ARG_MULTIPLE) != 0);
			resp_add_set(out, n, proto);
			for (i = 0; i < 2; i++)
				if (a->flags & (1u << i))
					add_word(out, "", i == 0 ? "optional" : "multiple");
		}
		if (a->args != NULL) {
			resp_add_bulk(out, "arguments", 9);
			arg_docs(a->args, out, proto);
		}
	}
}

/* COMMAND DOCS' map for cmd: summary, since, group, complexity, arguments, subcommands. */
static void
command_docs(const struct command *cmd, struct buf *out, enum resp_proto proto)
{
	char name[64];
	const struct command *sub;
	const char *complexity = cmd->subcommands == NULL ? "O(1)" : "Depends on subcommand.";
	size_t n = 0;

	for (sub = cmd->subcommands; sub != NULL && sub->name != NULL; sub++)
		n++;
	resp_add_map(out, 4 + (cmd->args[0].name != NULL) + (n > 0), proto);
	resp_add_bulk(out, "summary", 7);
	resp_add_bulk(out, cmd->summary, strlen(cmd->summary));
	resp_add_bulk(out, "since", 5);
	resp_add_bulk(out, cmd->since, strlen(cmd->since));
	resp_add_bulk(out, "group", 5);
	resp_add_bulk(out, cmd->group, strlen(cmd->group));
	resp_add_bulk(out, "complexity", 10);
	resp_add_bulk(out, complexity, strlen(complexity));
	if (cmd->args[0].name != NULL) {
		resp_add_bulk(out, "arguments", 9);
		arg_docs(cmd->args, out, proto);
	}
	if (n == 0)
		return;
	resp_add_bulk(out, "subcommands", 11);
	resp_add_map(out, n, proto);
	for (sub = cmd->subcommands; sub->name != NULL; sub++) {
		snprintf(name, sizeof(name), "%s|%s", cmd->name, sub->name);
		resp_add_bulk(out, name, strlen(name));
		command_docs(sub, out, proto);
	}
}

/* The index in table (n entries, from first) of the entry called name, or n. */
static size_t
find_in(const struct command *table, size_t first, size_t n, const struct resp_arg *name)
{
	size_t i;

	for (i = first; i < n && table[i].name != NULL; i++)
		if (table[i].len == name->len &&
		    strncasecmp(table[i].name, name->ptr, name->len) == 0)
			return i;
	return n;
}

/*
 * FAULT as COMMAND shows it where the listener lets the client use faults:
 * a container whose subcommands are the faults' table (faults/faults.c),
 * made from it once.
 */
static const struct command *
fault_entry(void)
{
	static struct command subs[STATS_MAX_FAULTS + 3], fault = { "fault", 5, 2, RESP_MAX_ARGS,
	    0, "tcpd", "tcpd: faults on this connection (where the listener allows them)",
	    "tcpd 0.1.0", no_args, NULL, subs };
	static const struct { const char *name, *summary; unsigned max; } own[] = {
		{ "list", "What is armed on this connection", 2 },
		{ "clear", "Disarm every fault on this connection", 2 },
	};
	const struct fault *f;
	size_t i, n = 0;

	if (subs[0].name != NULL)
		return &fault;
	for (i = 0; (f = faults_entry(i)) != NULL; i++)
		subs[n++] = (struct command){ f->name, strlen(f->name), f->min_argc + 1,
		    f->max_argc + 1, 0, "tcpd", f->usage, "tcpd 0.1.0", no_args, NULL, NULL };
	for (i = 0; i < sizeof(own) / sizeof(own[0]); i++)
		subs[n++] = (struct command){ own[i].name, strlen(own[i].name), 2, own[i].max, 0,
		    "tcpd", own[i].summary, "tcpd 0.1.0", no_args, NULL, NULL };
	return &fault;
}

/* The k-th command COMMAND shows this client (0-based), NULL past the last. */
static const struct command *
shown(const struct cmd_client *client, size_t k)
{
	if (k + 1 < NCOMMANDS)
		return &commands[k + 1];
	return k + 1 == NCOMMANDS && client->faults ? fault_entry() : NULL;
}

/* The command called name that COMMAND shows this client, or NULL. */
static const struct command *
shown_named(const struct cmd_client *client, const struct resp_arg *name)
{
	const struct command *cmd;
	size_t k;

	for (k = 0; (cmd = shown(client, k)) != NULL; k++)
		if (cmd->len == name->len && strncasecmp(cmd->name, name->ptr, name->len) == 0)
			return cmd;
	return NULL;
}

/*
 * COMMAND, COMMAND COUNT | LIST | INFO [name ...] | DOCS [name ...]: from
 * the one table, and FAULT where the listener lets this client use faults.
 */
static enum cmd_result
cmd_command(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out)
{
	enum resp_proto proto = client->session->proto;
	const char *sub = req->argc > 1 ? req->argv[1].ptr : "info";
	const struct command *cmd;
	size_t k, count, found, n;

	for (count = 0; shown(client, count) != NULL; count++)
		continue;
	n = req->argc <= 2 ? count : req->argc - 2;
	switch (tolower((unsigned char)sub[0])) {
	case 'c':	/* COUNT */
		resp_add_int(out, (int64_t)count);
		return CMD_CONTINUE;
	case 'l':	/* LIST */
		resp_add_array(out, count);
		for (k = 0; k < count; k++)
			resp_add_bulk(out, shown(client, k)->name, shown(client, k)->len);
		return CMD_CONTINUE;
	case 'd':	/* DOCS: an unknown name is left out, as Redis does */
		for (k = 0, found = 0; k < n; k++)
			found += req->argc <= 2 || shown_named(client, &req->argv[k + 2]) != NULL;
		resp_add_map(out, found, proto);
		for (k = 0; k < n; k++) {
			cmd = req->argc <= 2 ? shown(client, k) : shown_named(client, &req->argv[k + 2]);
			if (cmd == NULL)
				continue;
			resp_add_bulk(out, cmd->name, cmd->len);
			command_docs(cmd, out, proto);
		}
		return CMD_CONTINUE;
	default:	/* INFO, or COMMAND alone: every command's */
		resp_add_array(out, n);
		for (k = 0; k < n; k++) {
			cmd = req->argc <= 2 ? shown(client, k) : shown_named(client, &req->argv[k + 2]);
			if (cmd == NULL)
				resp_add_null(out, proto);
			else
				command_info(NULL, cmd, out, proto);
		}
		return CMD_CONTINUE;
	}
}

void
cmd_register_stats(void)
{
	size_t i;

	for (i = 1; i < NCOMMANDS; i++)
		stats_command(i, commands[i].name);
}

uint64_t
cmd_clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void
cmd_reply_filter(struct cmd_session *session, enum cmd_reply mode, struct buf *out,
    size_t before)
{
	/* CLIENT REPLY ON answers though replies were off; SKIP drops the one after it. */
	if ((mode == CMD_REPLY_OFF && session->reply == CMD_REPLY_OFF) ||
	    mode == CMD_REPLY_SKIP_NEXT)
		buf_unappend(out, buf_len(out) - before);
	if (mode == CMD_REPLY_SKIP_NEXT && session->reply == CMD_REPLY_SKIP_NEXT)
		session->reply = CMD_REPLY_ON;
}

/* The subcommand's entry in cmd's table, or an error answered and NULL. */
static const struct command *
subcommand(const struct command *cmd, const struct resp_arg *name, struct buf *out)
{
	char upper[32];
	size_t n, i;

	for (n = 0; cmd->subcommands[n].name != NULL; n++)
		continue;
	if ((i = find_in(cmd->subcommands, 0, n, name)) < n)
		return &cmd->subcommands[i];
	resp_add_error(out, "ERR unknown subcommand '%.*s'. Try %s HELP.",
	    (int)(name->len < CMD_NAME_IN_ERROR_MAX ? name->len : CMD_NAME_IN_ERROR_MAX),
	    name->ptr, capitals(upper, sizeof(upper), cmd->name));
	return NULL;
}

/*
 * The error reply written to out from before on, counted by its prefix as
 * Redis does (as ERR when a full buffer took none of it).
 */
static void
count_error(const struct buf *out, size_t before)
{
	size_t n = buf_len(out) - before;

	stats.error_replies++;
	stats.errorstats[n > 1 ? stats_error_prefix(buf_data(out) + before + 1, n - 1) :
	    ERROR_ERR]++;
}

enum cmd_result
cmd_execute(const struct cmd_client *client, const struct resp_request *req,
    struct buf *out, uint64_t *since)
{
	const struct resp_arg *name = &req->argv[0];
	int shown = (int)(name->len < CMD_NAME_IN_ERROR_MAX ? name->len : CMD_NAME_IN_ERROR_MAX);
	const struct command *cmd, *run;
	struct stats_command *counters;
	enum cmd_result rc;
	size_t before = buf_len(out), i = find_in(commands, 1, NCOMMANDS, name);
	uint64_t start, ns;

	/* After the lookup's call: one load of the board's pointer serves both counts. */
	stats.commands_processed++;
	if (i == NCOMMANDS) {
		stats.unknown_commands++;
		resp_add_error(out, "ERR unknown command '%.*s'", shown, name->ptr);
		count_error(out, before);
		return CMD_CONTINUE;
	}
	run = cmd = &commands[i];
	counters = &stats.commands[i];
	client->session->last = (uint8_t)i;
	if (!client->session->authed && !(cmd->flags & CMD_F_NOAUTH)) {
		counters->rejected++;
		resp_add_error(out, "NOAUTH Authentication required.");
		count_error(out, before);
		return CMD_CONTINUE;
	}
	/* A container runs its subcommand; COMMAND alone is a command too. */
	if (cmd->subcommands != NULL && req->argc >= 2 &&
	    (run = subcommand(cmd, &req->argv[1], out)) == NULL) {
		count_error(out, before);
		counters->rejected++;
		return CMD_CONTINUE;
	}
	if (req->argc < run->min_argc || req->argc > run->max_argc || run->fn == NULL) {
		counters->rejected++;
		if (run == cmd)
			resp_add_error(out, "ERR wrong number of arguments for '%s' command",
			    cmd->name);
		else
			resp_add_error(out, "ERR wrong number of arguments for '%s|%s' command",
			    cmd->name, run->name);
		count_error(out, before);
		return CMD_CONTINUE;
	}
	start = *since != 0 ? *since : cmd_clock_ns();
	rc = run->fn(client, req, out);
	/* One vDSO clock read a command: its end is the next one's start. */
	*since = cmd_clock_ns();
	ns = *since - start;
	hist_add(&counters->latency, ns);
	stats_observe(&counters->duration, stats_command_bounds, ns);
	if (buf_len(out) > before && buf_data(out)[before] == '-') {
		counters->failed++;
		count_error(out, before);
	}
	return rc;
}
