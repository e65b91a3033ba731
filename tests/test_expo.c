/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/expo.h"
#include "daemon/listener.h"
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
