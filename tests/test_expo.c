/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/expo.h"
#include "daemon/listener.h"
#include "daemon/services/faults/faults.h"
#include "daemon/services/service.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"

static char *
format(void)
{
	static char text[1 << 17];
	struct buf out;

	buf_init(&out, sizeof(text) - 1);
	cr_assert_eq(expo_format(&out), 0);
	memcpy(text, buf_data(&out), buf_len(&out));
	text[buf_len(&out)] = '\0';
	buf_free(&out);
	return text;
}

/* Label values escaped as the format asks, whatever a name holds. */
Test(expo, label_values_are_escaped)
{
	struct listener *l = listener_new();

	cr_assert_not_null(l);
	listener_hold(l);
	snprintf(l->name, sizeof(l->name), "a\"b\\c\nd");
	l->service = service_find("echo", 4);
	l->serving = true;
	l->accepted = 7;
	cr_assert_not_null(strstr(format(), "\ntcpd_connections_accepted_total{listener="
	    "\"a\\\"b\\\\c\\nd\",service=\"echo\"} 7\n"), "%s", format());
	listener_release(l);
}

/* Buckets are cumulative, end in +Inf, and count and sum follow. */
Test(expo, histograms_are_cumulative)
{
	char *text;

	stats_reset(0);
	stats_observe(&stats.connection_duration, stats_connection_bounds, 500000);	/* 0.5 ms */
	stats_observe(&stats.connection_duration, stats_connection_bounds, 2000000000);	/* 2 s */
	text = format();
	cr_assert_not_null(strstr(text, "\ntcpd_connection_duration_seconds_bucket{le=\"0.001\"} 1\n"
	    "tcpd_connection_duration_seconds_bucket{le=\"0.01\"} 1\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_connection_duration_seconds_bucket{le=\"5\"} 2\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_connection_duration_seconds_bucket{le=\"+Inf\"} 2\n"
	    "tcpd_connection_duration_seconds_sum 2.000500000\n"
	    "tcpd_connection_duration_seconds_count 2\n"), "%s", text);
}

/* INFO's text for sections, NUL-ended. */
static char *
info(unsigned sections)
{
	static char text[1 << 16];
	struct buf out;

	buf_init(&out, sizeof(text) - 1);
	cr_assert_eq(stats_format_info(&out, sections, 0), 0);
	memcpy(text, buf_data(&out), buf_len(&out));
	text[buf_len(&out)] = '\0';
	buf_free(&out);
	return text;
}

/* One table: error replies, unknown commands and faults in INFO and in /metrics alike. */
Test(expo, errors_unknown_commands_and_faults_in_both)
{
	char *text;

	stats_reset(0);
	stats.error_replies = 3;
	stats.errorstats[ERROR_ERR] = 3;
	stats.unknown_commands = 2;
	stats.auth_failures = 5;
	faults_register_stats();
	stats.faults[1] = 4;	/* the faults' table's second: reset */
	stats.ops_per_sec = 9;
	text = format();
	cr_assert_not_null(strstr(text, "\n# TYPE tcpd_error_replies_total counter\n"
	    "tcpd_error_replies_total 3\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_unknown_commands_total 2\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_auth_failures_total 5\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\n# TYPE tcpd_faults_total counter\n"
	    "tcpd_faults_total{kind=\"close\"} 0\ntcpd_faults_total{kind=\"reset\"} 4\n"), "%s",
	    text);
	cr_assert_not_null(strstr(text, "tcpd_faults_total{kind=\"stall\"} 0\n# HELP "), "%s",
	    text);
	cr_assert_not_null(strstr(text, "\n# TYPE tcpd_commands_per_second gauge\n"
	    "tcpd_commands_per_second 9\n"), "%s", text);
	cr_assert_null(strstr(text, "worker"), "no worker series without workers: %s", text);
	text = info(INFO_ALL);
	cr_assert_not_null(strstr(text, "\r\ntotal_error_replies:3\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\r\nunknown_commands:2\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\r\nacl_access_denied_auth:5\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "# Faults\r\nfault_close:0\r\nfault_reset:4\r\n"), "%s",
	    text);
	/* The kinds end with the last fault named, though the array is longer. */
	cr_assert_not_null(strstr(text, "\r\nfault_stall:0\r\nfault_profile_connections:0\r\n"),
	    "%s", text);
	cr_assert_not_null(strstr(text, "\r\nerrorstat_ERR:count=3\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\r\ninstantaneous_ops_per_sec:9\r\n"), "%s", text);
}

/*
 * Workers: any worker shows the sums over the board and each worker's own,
 * and a worker that dies and is restarted takes nothing back but its gauges.
 */
Test(expo, the_board_sums_every_worker_and_never_goes_back)
{
	struct listener *l = listener_new();
	char *text;

	cr_assert_not_null(l);
	listener_hold(l);
	snprintf(l->name, sizeof(l->name), "cmd");
	l->service = service_find("command", 7);
	l->serving = true;
	cr_assert_eq(stats_board_open(2), 0);
	stats_set_publisher(listener_publish);
	stats_worker_started(0, 100);
	stats_worker_started(1, 101);
	stats_start(0, 0);
	stats_command(0, "ping");
	stats_board[1].commands[0].name = "ping";
	stats.commands_processed = 21;
	stats.connected = 2;
	stats.commands[0].duration.count = 20;
	l->accepted = 5;
	l->active = 2;
	/* Worker 1, as its own process would have counted. */
	stats_board[1].commands_processed = 3;
	stats_board[1].connected = 1;
	stats_board[1].commands[0].duration.count = 3;
	snprintf(stats_board[1].listeners[0].name, STATS_NAME_MAX, "cmd");
	stats_board[1].listeners[0].now.accepted = 7;
	stats_board[1].listeners[0].now.active = 1;
	text = format();
	cr_assert_not_null(strstr(text, "\ntcpd_commands_processed_total 24\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_clients_connected 3\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_commands_total{command=\"ping\"} 23\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_connections_accepted_total{listener=\"cmd\","
	    "service=\"command\"} 12\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_connections_active{listener=\"cmd\"} 3\n"), "%s",
	    text);
	cr_assert_not_null(strstr(text, "\n# TYPE tcpd_worker_commands_processed_total counter\n"
	    "tcpd_worker_commands_processed_total{worker=\"0\"} 21\n"
	    "tcpd_worker_commands_processed_total{worker=\"1\"} 3\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_worker_clients_connected{worker=\"1\"} 1\n"), "%s",
	    text);
	text = info(INFO_DEFAULT);
	cr_assert_not_null(strstr(text, "# Clients\r\nconnected_clients:3\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\r\ntotal_commands_processed:24\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\r\nworker_1:pid=101,connected_clients=1,"
	    "total_connections_received=0,total_commands_processed=3\r\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\r\nall_total_commands_processed:24\r\n"), "%s", text);

	/* Worker 0 dies: its connections go, its counts stay (its listener with it). */
	stats_worker_ended(0);
	l->serving = false;
	text = format();
	cr_assert_not_null(strstr(text, "\ntcpd_commands_processed_total 24\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_clients_connected 1\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_commands_total{command=\"ping\"} 23\n"), "%s", text);
	/* Its successor starts from them, with listeners of its own counted from zero. */
	stats_worker_started(0, 102);
	stats_start(0, 0);
	l->serving = true;
	l->accepted = 1;
	l->active = 1;
	stats.commands_processed++;
	text = format();
	cr_assert_not_null(strstr(text, "\ntcpd_commands_processed_total 25\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_connections_accepted_total{listener=\"cmd\","
	    "service=\"command\"} 13\n"), "%s", text);
	cr_assert_not_null(strstr(text, "\ntcpd_connections_active{listener=\"cmd\"} 2\n"), "%s",
	    text);
	stats_board_close();
	stats_start(0, -1);
	listener_release(l);
}
