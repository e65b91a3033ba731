/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <criterion/criterion.h>

#include "daemon/services/cmd.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

/*
 * A session without a connection: the commands tested here need none
 * (WHOAMI, HELLO and CLIENT are tested over loopback, in test_command.c).
 */
static struct cmd_session session = { .proto = RESP2, .authed = true };
static struct cmd_extras *extras;
static const struct cmd_client client = { NULL, &session, &extras, false };

/* Runs every request in text and returns all replies as one string. */
static char *
run(const char *text, size_t len, enum cmd_result *last)
{
	static char out_text[8192];
	struct resp_state st = { 0 };
	struct resp_request req;
	struct buf out;
	size_t off = 0;
	uint64_t since = 0;
	ssize_t n;

	buf_init(&out, sizeof(out_text) - 1);
	while ((n = resp_parse(&st, &req, text + off, len - off, 1024)) > 0) {
		off += (size_t)n;
		if (req.argc > 0)
			*last = cmd_execute(&client, &req, &out, &since);
	}
	cr_assert_eq(off, len, "all input is consumed");
	memcpy(out_text, buf_data(&out), buf_len(&out));
	out_text[buf_len(&out)] = '\0';
	buf_free(&out);
	return out_text;
}

#define RUN(lit) run(lit, sizeof(lit) - 1, &result)

Test(cmd, ping)
{
	enum cmd_result result;

	cr_assert_str_eq(RUN("PING\r\n"), "+PONG\r\n");
	cr_assert_str_eq(RUN("ping hello\r\n"), "$5\r\nhello\r\n");
	cr_assert_str_eq(RUN("*2\r\n$4\r\nPiNg\r\n$0\r\n\r\n"), "$0\r\n\r\n");
	cr_assert_eq(result, CMD_CONTINUE);
}

Test(cmd, echo_is_binary_safe)
{
	enum cmd_result result;
	static const char in[] = "*2\r\n$4\r\necho\r\n$5\r\na\r\n\0b\r\n";
	char *out = run(in, sizeof(in) - 1, &result);

	cr_assert_eq(memcmp(out, "$5\r\na\r\n\0b\r\n", 12), 0);
	cr_assert_str_eq(RUN("ECHO \"two words\"\n"), "$9\r\ntwo words\r\n");
}

Test(cmd, pipelined_replies_in_order)
{
	enum cmd_result result;

	cr_assert_str_eq(RUN("PING\r\nECHO a\r\nPING b\r\n"),
	    "+PONG\r\n$1\r\na\r\n$1\r\nb\r\n");
}

Test(cmd, time_is_now)
{
	enum cmd_result result;
	long long sec, usec;
	int slen, ulen;
	struct timeval tv;
	char *out = RUN("TIME\r\n");

	gettimeofday(&tv, NULL);
	cr_assert_eq(sscanf(out, "*2\r\n$%d\r\n%lld\r\n$%d\r\n%lld\r\n", &slen,
	    &sec, &ulen, &usec), 4, "reply: %s", out);
	cr_assert_leq(llabs(sec - (long long)tv.tv_sec), 2);
	cr_assert(usec >= 0 && usec < 1000000);
}

Test(cmd, help_lists_every_command)
{
	static const char first[] = "*31\r\n$32\r\nPING [message] - Ping the server\r\n";
	enum cmd_result result;
	char *out = RUN("HELP\r\n");

	cr_assert_eq(strncmp(out, first, sizeof(first) - 1), 0, "reply: %s", out);
	cr_assert_not_null(strstr(out, "$27\r\nQUIT - Close the connection\r\n"), "%s", out);
	/* Arguments from the table: blocks, tokens, repeats; a container's subcommands. */
	cr_assert_not_null(strstr(out, "HELLO [protover [AUTH username password] [SETNAME "
	    "clientname]] - Handshake with Redis\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "CONFIG GET parameter [parameter ...] - "), "%s", out);
	cr_assert_not_null(strstr(out, "CLIENT LIST [TYPE type] [ID client-id [client-id ...]]"
	    " - "), "%s", out);
	cr_assert_not_null(strstr(out, "CLIENT REPLY <ON | OFF | SKIP> - "), "%s", out);
	/* The faults only where the listener lets this client use them. */
	cr_assert_null(strstr(out, "FAULT"), "%s", out);
}

Test(cmd, quit_replies_ok_and_asks_to_close)
{
	enum cmd_result result;

	cr_assert_str_eq(RUN("QUIT\r\n"), "+OK\r\n");
	cr_assert_eq(result, CMD_CLOSE);
}

Test(cmd, unknown_and_arity_errors)
{
	enum cmd_result result;

	cr_assert_str_eq(RUN("FLUSHALL\r\n"), "-ERR unknown command 'FLUSHALL'\r\n");
	cr_assert_str_eq(RUN("*1\r\n$6\r\nbad\r\nx\r\n"),
	    "-ERR unknown command 'bad  x'\r\n");
	cr_assert_str_eq(RUN("ECHO\r\n"),
	    "-ERR wrong number of arguments for 'echo' command\r\n");
	cr_assert_str_eq(RUN("PING a b\r\n"),
	    "-ERR wrong number of arguments for 'ping' command\r\n");
	cr_assert_str_eq(RUN("QUIT now\r\n"),
	    "-ERR wrong number of arguments for 'quit' command\r\n");
	cr_assert_eq(result, CMD_CONTINUE);
}

Test(cmd, unknown_name_is_cut_in_the_reply)
{
	enum cmd_result result;
	char in[400], expect[200];
	char *out;

	memset(in, 'X', 300);
	memcpy(in + 300, "\r\n", 3);
	out = run(in, 302, &result);
	snprintf(expect, sizeof(expect), "-ERR unknown command '%.128s'\r\n", in);
	cr_assert_str_eq(out, expect);
}

Test(cmd, info_has_sections_and_counters)
{
	enum cmd_result result;
	char *out;

	stats_reset(0);
	stats_service("echo")->total = 5;
	stats_service("command");
	stats.connected = 3;
	stats.connections_received = 11;
	stats.rejected_connections = 2;
	out = RUN("INFO\r\n");
	cr_assert_eq(out[0], '$');
	cr_assert_not_null(strstr(out, "# Server\r\ntcpd_version:"));
	cr_assert_not_null(strstr(out, "uptime_in_seconds:"));
	cr_assert_not_null(strstr(out, "# Clients\r\nconnected_clients:3\r\n"));
	cr_assert_not_null(strstr(out, "# Stats\r\ntotal_connections_received:11\r\n"
	    "rejected_connections:2\r\ndenied_connections:0\r\nidle_timeouts:0\r\n"
	    "request_timeouts:0\r\noutput_limit_disconnections:0\r\n"
	    "total_commands_processed:1\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "total_net_input_bytes:"));
	cr_assert_not_null(strstr(out, "total_net_output_bytes:"));
	cr_assert_not_null(strstr(out, "\r\nlog_lines_dropped:0\r\n"));
	cr_assert_not_null(strstr(out, "service_echo:connected=0,total=5\r\n"));
	cr_assert_not_null(strstr(out, "service_command:connected=0,total=0\r\n"));
}

Test(cmd, info_section)
{
	enum cmd_result result;
	char *out = RUN("INFO clients\r\n");

	cr_assert_null(strstr(out, "# Server"));
	cr_assert_not_null(strstr(out, "# Clients\r\nconnected_clients:"));
	cr_assert_not_null(strstr(out, "\r\nmaxclients:"), "what Redis tools read");
	cr_assert_str_eq(RUN("INFO nope\r\n"), "-ERR unknown INFO section 'nope'\r\n");
	/* Several at once, as Redis 7 takes them. */
	out = RUN("INFO CLIENTS server\r\n");
	cr_assert_not_null(strstr(out, "# Server"));
	cr_assert_not_null(strstr(out, "\r\n\r\n# Clients"));
	cr_assert_null(strstr(out, "# Stats"));
}

/* Redis-shaped sections: what redis_exporter and people used to Redis read. */
Test(cmd, info_commandstats_latencystats_errorstats)
{
	enum cmd_result result;
	char *out;

	stats_reset(0);
	cmd_register_stats();
	RUN("PING\r\n");
	RUN("PING\r\n");
	RUN("ECHO\r\n");		/* refused: arity */
	RUN("INFO nope\r\n");		/* failed while running */
	RUN("NOPE\r\n");		/* unknown: an error, no command's */
	out = RUN("INFO everything\r\n");
	cr_assert_not_null(strstr(out, "\r\n# Commandstats\r\ncmdstat_ping:calls=2,usec="),
	    "%s", out);
	cr_assert_not_null(strstr(out, ",rejected_calls=0,failed_calls=0\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "cmdstat_echo:calls=0,usec=0,usec_per_call=0.00,"
	    "rejected_calls=1,failed_calls=0\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "cmdstat_info:calls=1,"), "%s", out);
	cr_assert_not_null(strstr(out, ",rejected_calls=0,failed_calls=1\r\n"), "%s", out);
	cr_assert_not_null(strstr(out, "\r\n# Latencystats\r\nlatency_percentiles_usec_ping:p50="),
	    "%s", out);
	cr_assert_not_null(strstr(out, "\r\n# Errorstats\r\nerrorstat_ERR:count=3\r\n"),
	    "%s", out);
	cr_assert_not_null(strstr(out, "total_error_replies:3\r\n"), "%s", out);
	cr_assert_str_eq(RUN("INFO errorstats\r\n"), "$37\r\n# Errorstats\r\n"
	    "errorstat_ERR:count=3\r\n\r\n");
	/* The default leaves the per-command sections out, as Redis does. */
	out = RUN("INFO\r\n");
	cr_assert_null(strstr(out, "# Commandstats"));
	cr_assert_not_null(strstr(out, "# Errorstats"));
	/* Each prefix on its own line, as Redis counts them. */
	session.authed = false;
	RUN("PING\r\n");
	session.authed = true;
	RUN("HELLO 4\r\n");
	cr_assert_str_eq(RUN("INFO errorstats\r\n"), "$90\r\n# Errorstats\r\n"
	    "errorstat_ERR:count=3\r\nerrorstat_NOAUTH:count=1\r\nerrorstat_NOPROTO:count=1\r\n"
	    "\r\n");
	cr_assert_not_null(strstr(RUN("INFO stats\r\n"), "total_error_replies:5\r\n"));
}

Test(cmd, config_get_answers_what_redis_tools_ask)
{
	enum cmd_result result;

	stats.max_connections = 77;
	cr_assert_str_eq(RUN("CONFIG GET maxclients\r\n"),
	    "*2\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n");
	cr_assert_str_eq(RUN("CONFIG GET save\r\n"), "*2\r\n$4\r\nsave\r\n$0\r\n\r\n");
	cr_assert_str_eq(RUN("config get APPEND*\r\n"),
	    "*2\r\n$10\r\nappendonly\r\n$2\r\nno\r\n");
	cr_assert_str_eq(RUN("CONFIG GET nosuch\r\n"), "*0\r\n");
	cr_assert_str_eq(RUN("CONFIG SET save x\r\n"),
	    "-ERR unknown subcommand 'SET'. Try CONFIG HELP.\r\n");
	cr_assert_str_eq(RUN("CONFIG GET\r\n"),
	    "-ERR wrong number of arguments for 'config|get' command\r\n");
	cr_assert_str_eq(RUN("CONFIG\r\n"),
	    "-ERR wrong number of arguments for 'config' command\r\n");
	cr_assert_str_eq(RUN("CONFIG HELP\r\n"), "*5\r\n+CONFIG <subcommand> [<arg> [value] "
	    "[opt] ...]. Subcommands are:\r\n+GET parameter [parameter ...]\r\n+    The settings "
	    "Redis tools ask for (maxclients, save, appendonly).\r\n+HELP\r\n+    Show helpful "
	    "text about the different subcommands.\r\n");
	/* RESP3: a map. */
	session.proto = RESP3;
	cr_assert_str_eq(RUN("CONFIG GET maxclients\r\n"),
	    "%1\r\n$10\r\nmaxclients\r\n$2\r\n77\r\n");
	session.proto = RESP2;
}

Test(cmd, health_is_ok_while_serving_and_an_error_when_stopping)
{
	enum cmd_result result;

	stats.ready = true;
	cr_assert_str_eq(RUN("HEALTH\r\n"), "+OK\r\n");
	stats.ready = false;
	cr_assert_str_eq(RUN("HEALTH\r\n"), "-ERR draining: tcpd is stopping\r\n");
}

Test(cmd, select_takes_database_0_only)
{
	enum cmd_result result;

	cr_assert_str_eq(RUN("SELECT 0\r\nSELECT 1\r\nSELECT -1\r\nSELECT x\r\n"),
	    "+OK\r\n-ERR DB index is out of range\r\n-ERR DB index is out of range\r\n"
	    "-ERR value is not an integer or out of range\r\n");
}

/* Before AUTH, where a password is set, only the commands that may come first run. */
Test(cmd, noauth_before_auth)
{
	enum cmd_result result;

	session.authed = false;
	cr_assert_str_eq(RUN("PING\r\nSELECT 0\r\nQUIT\r\n"),
	    "-NOAUTH Authentication required.\r\n-NOAUTH Authentication required.\r\n"
	    "+OK\r\n");
	session.authed = true;
}

/* CLIENT REPLY OFF takes every reply back until ON; SKIP the next one only. */
Test(cmd, reply_filter)
{
	struct cmd_session s = { .proto = RESP2, .reply = CMD_REPLY_OFF };
	struct buf out;

	buf_init(&out, 1024);
	buf_append(&out, "+A\r\n", 4);
	cmd_reply_filter(&s, CMD_REPLY_OFF, &out, 0);
	cr_assert_eq(buf_len(&out), 0);
	s.reply = CMD_REPLY_ON;	/* CLIENT REPLY ON: its +OK goes */
	buf_append(&out, "+OK\r\n", 5);
	cmd_reply_filter(&s, CMD_REPLY_OFF, &out, 0);
	cr_assert_eq(buf_len(&out), 5);
	s.reply = CMD_REPLY_SKIP_NEXT;
	buf_append(&out, "+B\r\n", 4);
	cmd_reply_filter(&s, CMD_REPLY_SKIP_NEXT, &out, 5);
	cr_assert_eq(buf_len(&out), 5);
	cr_assert_eq(s.reply, CMD_REPLY_ON);
	buf_free(&out);
}

/* COMMAND from the one table, in Redis 7's shapes. */
Test(cmd, command_count_info_docs)
{
	enum cmd_result result;
	char *out;

	cr_assert_str_eq(RUN("COMMAND COUNT\r\n"), ":15\r\n");
	cr_assert_str_eq(RUN("COMMAND INFO ping nosuch\r\n"), "*2\r\n*10\r\n$4\r\nping\r\n"
	    ":-1\r\n*1\r\n+fast\r\n:0\r\n:0\r\n:0\r\n*2\r\n+@fast\r\n+@connection\r\n"
	    "*0\r\n*0\r\n*0\r\n$-1\r\n");
	cr_assert_str_eq(RUN("COMMAND DOCS ping\r\n"), "*2\r\n$4\r\nping\r\n*10\r\n"
	    "$7\r\nsummary\r\n$15\r\nPing the server\r\n$5\r\nsince\r\n$5\r\n1.0.0\r\n"
	    "$5\r\ngroup\r\n$10\r\nconnection\r\n$10\r\ncomplexity\r\n$4\r\nO(1)\r\n"
	    "$9\r\narguments\r\n*1\r\n*6\r\n$4\r\nname\r\n$7\r\nmessage\r\n$4\r\ntype\r\n"
	    "$6\r\nstring\r\n$5\r\nflags\r\n*1\r\n+optional\r\n");
	session.proto = RESP3;
	cr_assert_str_eq(RUN("COMMAND INFO echo\r\n"), "*1\r\n*10\r\n$4\r\necho\r\n:2\r\n"
	    "~3\r\n+fast\r\n+loading\r\n+stale\r\n:0\r\n:0\r\n:0\r\n~2\r\n+@fast\r\n"
	    "+@connection\r\n~0\r\n~0\r\n~0\r\n");
	session.proto = RESP2;
	/* A container lists its subcommands, named container|name. */
	out = RUN("COMMAND INFO client\r\n");
	cr_assert_not_null(strstr(out, "$11\r\nclient|list\r\n:-2\r\n"), "%s", out);
	cr_assert_str_eq(RUN("COMMAND FOO\r\n"),
	    "-ERR unknown subcommand 'FOO'. Try COMMAND HELP.\r\n");
}
