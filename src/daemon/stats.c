/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tcpd_build.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"

struct stats stats;

void
stats_reset(time_t monotonic_now)
{
	memset(&stats, 0, sizeof(stats));
	stats.start_time = monotonic_now;
}

struct stats_service *
stats_service(const char *name)
{
	size_t i;

	for (i = 0; i < STATS_MAX_SERVICES; i++) {
		if (stats.services[i].name == NULL)
			stats.services[i].name = name;
		if (strcmp(stats.services[i].name, name) == 0)
			return &stats.services[i];
	}
	return NULL;
}

static bool
section_is(const char *section, size_t seclen, const char *name)
{
	return section == NULL || (seclen == 3 && strncasecmp(section, "all", 3) == 0) ||
	    (seclen == strlen(name) && strncasecmp(section, name, seclen) == 0);
}

int
stats_format_info(struct buf *out, const char *section, size_t seclen,
    time_t monotonic_now)
{
	bool any = false;
	size_t i;
	int rc = 0;

	if (section_is(section, seclen, "server")) {
		any = true;
		rc |= buf_appendf(out, "# Server\r\n"
		    "tcpd_version:%s\r\n"
		    "process_id:%ld\r\n"
		    "multiplexing_api:epoll\r\n"
		    "uptime_in_seconds:%lld\r\n",
		    TCPD_VERSION, (long)getpid(),
		    (long long)(monotonic_now - stats.start_time));
	}
	if (section_is(section, seclen, "clients")) {
		rc |= buf_appendf(out, "%s# Clients\r\n"
		    "connected_clients:%llu\r\n"
		    "max_connections:%u\r\n",
		    any ? "\r\n" : "",
		    (unsigned long long)stats.connected, stats.max_connections);
		any = true;
	}
	if (section_is(section, seclen, "stats")) {
		rc |= buf_appendf(out, "%s# Stats\r\n"
		    "total_connections_received:%llu\r\n"
		    "rejected_connections:%llu\r\n"
		    "denied_connections:%llu\r\n"
		    "idle_timeouts:%llu\r\n"
		    "request_timeouts:%llu\r\n"
		    "output_limit_disconnections:%llu\r\n"
		    "total_commands_processed:%llu\r\n"
		    "total_net_input_bytes:%llu\r\n"
		    "total_net_output_bytes:%llu\r\n"
		    "log_lines_dropped:%llu\r\n",
		    any ? "\r\n" : "",
		    (unsigned long long)stats.connections_received,
		    (unsigned long long)stats.rejected_connections,
		    (unsigned long long)stats.denied_connections,
		    (unsigned long long)stats.idle_timeouts,
		    (unsigned long long)stats.request_timeouts,
		    (unsigned long long)stats.output_limit_disconnections,
		    (unsigned long long)stats.commands_processed,
		    (unsigned long long)stats.net_input_bytes,
		    (unsigned long long)stats.net_output_bytes,
		    (unsigned long long)log_dropped());
		for (i = 0; i < STATS_MAX_SERVICES && stats.services[i].name != NULL; i++)
			rc |= buf_appendf(out, "service_%s:connected=%llu,total=%llu\r\n",
			    stats.services[i].name,
			    (unsigned long long)stats.services[i].connected,
			    (unsigned long long)stats.services[i].total);
		any = true;
	}
	if (!any)
		return 1;
	return rc == 0 ? 0 : -1;
}
