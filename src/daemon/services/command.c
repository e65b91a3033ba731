/* SPDX-License-Identifier: MIT */
/* Redis-protocol commands: RESP2 or inline requests in, RESP2 replies out. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "daemon/conn.h"
#include "daemon/pace.h"
#include "daemon/services/cmd.h"
#include "daemon/services/faults/faults.h"
#include "daemon/services/service.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"
#include "tcpd/resp.h"

/* Bytes of a bad request quoted in the log. */
#define LOG_SAMPLE		64

static void
protocol_error(struct conn *c, const char *why, const char *data, size_t len)
{
	char sample[4 * LOG_SAMPLE + 4];

	if (log_enabled(LOG_LEVEL_DEBUG))
		conn_log(c, LOG_LEVEL_DEBUG, "protocol error: %s; input: \"%s\"",
		    why, log_escape(sample, sizeof(sample), data,
		    len < LOG_SAMPLE ? len : LOG_SAMPLE));
	resp_add_error(conn_output(c), "ERR Protocol error: %s", why);
	conn_finish(c, "protocol error");
}

struct command_state {
	struct resp_state	resp;
	struct faults		*faults;	/* made at the first fault command */
};

static void
describe_client(const void *c, struct conn_info *info)
{
	conn_get_info(c, info);
}

/* Answers complete requests until input or output room runs out. */
static size_t
command_input(struct conn *c, void *state, const char *data, size_t len)
{
	struct command_state *st = state;
	struct buf *out = conn_output(c);
	size_t before;
	const struct cmd_client client = { describe_client, c };
	struct resp_request req;
	struct pace *pace;
	size_t used = 0;
	uint64_t since = 0;	/* read at the first complete request */
	ssize_t n;

	/* A STREAM reply in progress comes whole before the next request is read. */
	while (used < len && !conn_finishing(c) && conn_output_room(c) > 0 &&
	    (st->faults == NULL || st->faults->stream_left == 0)) {
		n = resp_parse(&st->resp, &req, data + used, len - used, conn_max_line(c));
		if (n == RESP_INCOMPLETE) {
			conn_request_partial(c);
			return used;
		}
		if (n == RESP_ERROR) {
			protocol_error(c, req.error, data + used, len - used);
			return len;
		}
		used += (size_t)n;
		conn_request_complete(c);
		if (req.argc == 0)
			continue;
		before = buf_len(out);
		if ((pace = conn_pace(c, false)) != NULL)
			pace_request(pace, conn_output_end(c), conn_now(c));
		if (faults_command(c, &st->faults, &req, out)) {
			/* STALL: the requests behind it wait with the rest. */
			if (conn_reads_held(c))
				return used;
			continue;
		}
		if (since == 0)
			since = cmd_clock_ns();
		if (cmd_execute(&client, &req, out, &since) == CMD_CLOSE)
			conn_finish(c, "QUIT");
		if (st->faults != NULL && st->faults->truncate_next)
			faults_after_reply(c, st->faults, out, buf_len(out) - before);
	}
	return used;
}

static int
command_drained(struct conn *c, void *state)
{
	struct command_state *st = state;

	return st->faults != NULL && st->faults->stream_left > 0 ?
	    faults_stream(c, st->faults, conn_output(c)) : 0;
}

static void
command_release(struct conn *c, void *state)
{
	struct command_state *st = state;

	(void)c;
	free(st->faults);
}

static void
command_input_too_big(struct conn *c, void *state)
{
	(void)state;
	protocol_error(c, "too big request", "", 0);
}

static void
command_request_timeout(struct conn *c, void *state)
{
	(void)state;
	resp_add_error(conn_output(c), "ERR Protocol error: request timeout");
}

const struct service service_command = {
	.name = "command",
	.state_size = sizeof(struct command_state),
	.flags = SERVICE_REQUESTS,
	.refusal = "-ERR max number of clients reached\r\n",
	.input = command_input,
	.drained = command_drained,
	.release = command_release,
	.input_too_big = command_input_too_big,
	.request_timeout = command_request_timeout,
};
