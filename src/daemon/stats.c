/* SPDX-License-Identifier: MIT */
#include <stdbool.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "tcpd_build.h"
#include "daemon/stats.h"
#include "tcpd/buf.h"
#include "tcpd/log.h"

struct stats stats = { .worker = -1 };

const char *const stats_close_reasons[CLOSE_REASONS] = {
	[CLOSE_CLIENT] = "client",
	[CLOSE_RESET] = "reset",
	[CLOSE_IDLE_TIMEOUT] = "idle_timeout",
	[CLOSE_REQUEST_TIMEOUT] = "request_timeout",
	[CLOSE_OUTPUT_LIMIT] = "output_limit",
	[CLOSE_SERVER] = "server",
	[CLOSE_SHUTDOWN] = "shutdown",
	[CLOSE_ERROR] = "error",
};

const char *const stats_reject_reasons[REJECT_REASONS] = {
	[REJECT_MAX_CONNECTIONS] = "max_connections",
	[REJECT_PER_IP] = "per_ip",
	[REJECT_ACL] = "acl",
	[REJECT_DESCRIPTORS] = "descriptors",
	[REJECT_OUT_OF_MEMORY] = "out_of_memory",
	[REJECT_PROXY_UNTRUSTED] = "proxy_untrusted",
	[REJECT_PROXY_INVALID] = "proxy_invalid",
	[REJECT_PROXY_TIMEOUT] = "proxy_timeout",
};

const char *const stats_fault_names[FAULT_KINDS] = {
	[FAULT_CLOSE] = "close",
	[FAULT_RESET] = "reset",
	[FAULT_HALFCLOSE] = "halfclose",
	[FAULT_TRUNCATE] = "truncate",
	[FAULT_ERROR] = "error",
	[FAULT_GARBAGE] = "garbage",
	[FAULT_DELAY] = "delay",
	[FAULT_SLEEP] = "sleep",
	[FAULT_RATE] = "rate",
	[FAULT_SLICE] = "slice",
	[FAULT_STREAM] = "stream",
	[FAULT_STALL] = "stall",
};

#define US	1000ull
#define MS	1000000ull
#define S	1000000000ull

const uint64_t stats_command_bounds[STATS_BUCKETS] = {
	10 * US, 25 * US, 50 * US, 100 * US, 250 * US, 500 * US, MS, 2500 * US,
	5 * MS, 10 * MS, 25 * MS, 50 * MS, 100 * MS, 250 * MS, 500 * MS, S, UINT64_MAX,
};

const uint64_t stats_connection_bounds[STATS_BUCKETS] = {
	MS, 10 * MS, 100 * MS, 500 * MS, S, 5 * S, 10 * S, 30 * S, 60 * S, 300 * S,
	600 * S, 1800 * S, 3600 * S, 7200 * S, 21600 * S, 86400 * S, UINT64_MAX,
};

void
stats_observe(struct stats_histogram *h, const uint64_t bounds[STATS_BUCKETS], uint64_t ns)
{
	size_t i = 0;

	while (ns > bounds[i])
		i++;		/* the last bound is UINT64_MAX: always found */
	h->le[i]++;
	h->count++;
	h->sum_ns += ns;
}

struct stats_command *
stats_command(size_t i, const char *name)
{
	if (i >= STATS_MAX_COMMANDS)
		return NULL;
	stats.commands[i].name = name;
	return &stats.commands[i];
}

void
stats_reset(time_t monotonic_now)
{
	memset(&stats, 0, sizeof(stats));
	stats.start_time = monotonic_now;
	stats.worker = -1;
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

struct stats_worker_slot *stats_board;
unsigned stats_board_size;

void
stats_publish(void)
{
	struct stats_worker_slot *slot;

	if (stats_board == NULL || stats.worker < 0 || (unsigned)stats.worker >= stats_board_size)
		return;
	slot = &stats_board[stats.worker];
	__atomic_store_n(&slot->connected, stats.connected, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->connections, stats.connections_received, __ATOMIC_RELAXED);
	__atomic_store_n(&slot->commands, stats.commands_processed, __ATOMIC_RELAXED);
}

/* INFO's "# Workers": each worker, then the sums (skew shows at a glance). */
static int
workers_section(struct buf *out)
{
	uint64_t connected = 0, connections = 0, commands = 0, c, t, k;
	int rc = 0;
	unsigned i;

	stats_publish();
	rc |= buf_appendf(out, "workers:%u\r\nworker_id:%d\r\n", stats_board_size,
	    stats.worker);
	for (i = 0; i < stats_board_size; i++) {
		c = __atomic_load_n(&stats_board[i].connected, __ATOMIC_RELAXED);
		t = __atomic_load_n(&stats_board[i].connections, __ATOMIC_RELAXED);
		k = __atomic_load_n(&stats_board[i].commands, __ATOMIC_RELAXED);
		rc |= buf_appendf(out, "worker_%u:pid=%d,connected_clients=%llu,"
		    "total_connections_received=%llu,total_commands_processed=%llu\r\n", i,
		    (int)__atomic_load_n(&stats_board[i].pid, __ATOMIC_RELAXED),
		    (unsigned long long)c, (unsigned long long)t, (unsigned long long)k);
		connected += c;
		connections += t;
		commands += k;
	}
	rc |= buf_appendf(out, "all_connected_clients:%llu\r\nall_total_connections_received:"
	    "%llu\r\nall_total_commands_processed:%llu\r\n", (unsigned long long)connected,
	    (unsigned long long)connections, (unsigned long long)commands);
	return rc;
}

unsigned
stats_info_section(const char *name, size_t len)
{
	static const struct { const char *name; unsigned flags; } sections[] = {
		{ "server", INFO_SERVER }, { "clients", INFO_CLIENTS }, { "stats", INFO_STATS },
		{ "commandstats", INFO_COMMANDSTATS }, { "latencystats", INFO_LATENCYSTATS },
		{ "errorstats", INFO_ERRORSTATS }, { "faults", INFO_FAULTS },
		{ "workers", INFO_WORKERS },
		{ "default", INFO_DEFAULT },
		{ "all", INFO_ALL }, { "everything", INFO_ALL },
	};
	size_t i;

	for (i = 0; i < sizeof(sections) / sizeof(sections[0]); i++)
		if (strlen(sections[i].name) == len && strncasecmp(sections[i].name, name, len) == 0)
			return sections[i].flags;
	return 0;
}

/* "# Name" after an empty line when another section came before. */
static int
section(struct buf *out, bool *any, const char *name)
{
	int rc = buf_appendf(out, "%s# %s\r\n", *any ? "\r\n" : "", name);

	*any = true;
	return rc;
}

static int
format_commands(struct buf *out, unsigned sections, bool *any)
{
	const struct stats_command *c;
	size_t i;
	int rc = 0;

	if (sections & INFO_COMMANDSTATS) {
		rc |= section(out, any, "Commandstats");
		for (i = 0; i < STATS_MAX_COMMANDS; i++) {
			uint64_t calls, usec;

			if ((c = &stats.commands[i])->name == NULL ||
			    c->duration.count + c->rejected == 0)
				continue;
			calls = c->duration.count;
			usec = c->duration.sum_ns / 1000;
			rc |= buf_appendf(out, "cmdstat_%s:calls=%llu,usec=%llu,usec_per_call=%.2f,"
			    "rejected_calls=%llu,failed_calls=%llu\r\n", c->name,
			    (unsigned long long)calls, (unsigned long long)usec,
			    calls > 0 ? (double)usec / (double)calls : 0.0,
			    (unsigned long long)c->rejected, (unsigned long long)c->failed);
		}
	}
	if (sections & INFO_LATENCYSTATS) {
		rc |= section(out, any, "Latencystats");
		for (i = 0; i < STATS_MAX_COMMANDS; i++) {
			if ((c = &stats.commands[i])->name == NULL || c->latency.count == 0)
				continue;
			rc |= buf_appendf(out, "latency_percentiles_usec_%s:p50=%.3f,p99=%.3f,"
			    "p99.9=%.3f\r\n", c->name,
			    (double)hist_quantile(&c->latency, 0.5) / 1e3,
			    (double)hist_quantile(&c->latency, 0.99) / 1e3,
			    (double)hist_quantile(&c->latency, 0.999) / 1e3);
		}
	}
	if (sections & INFO_FAULTS) {
		rc |= section(out, any, "Faults");
		for (i = 0; i < FAULT_KINDS; i++)
			rc |= buf_appendf(out, "fault_%s:%llu\r\n", stats_fault_names[i],
			    (unsigned long long)stats.faults[i]);
		rc |= buf_appendf(out, "fault_profile_connections:%llu\r\nfault_timed_ends:%llu\r\n",
		    (unsigned long long)stats.fault_profile_connections,
		    (unsigned long long)stats.fault_timed_ends);
	}
	if ((sections & INFO_WORKERS) && stats_board != NULL) {
		rc |= section(out, any, "Workers");
		rc |= workers_section(out);
	}
	if (sections & INFO_ERRORSTATS) {
		rc |= section(out, any, "Errorstats");
		if (stats.error_replies > 0)
			rc |= buf_appendf(out, "errorstat_ERR:count=%llu\r\n",
			    (unsigned long long)stats.error_replies);
	}
	return rc;
}

int
stats_format_info(struct buf *out, unsigned sections, time_t monotonic_now)
{
	bool any = false;
	size_t i;
	int rc = 0;

	if (sections & INFO_SERVER) {
		rc |= section(out, &any, "Server");
		rc |= buf_appendf(out,
		    "tcpd_version:%s\r\n"
		    "process_id:%ld\r\n"
		    "multiplexing_api:epoll\r\n"
		    "uptime_in_seconds:%lld\r\n",
		    TCPD_VERSION, (long)getpid(),
		    (long long)(monotonic_now - stats.start_time));
	}
	if (sections & INFO_CLIENTS) {
		/* maxclients is what Redis's own tools read; max_connections is tcpd's name. */
		rc |= section(out, &any, "Clients");
		rc |= buf_appendf(out,
		    "connected_clients:%llu\r\n"
		    "maxclients:%u\r\n"
		    "max_connections:%u\r\n",
		    (unsigned long long)stats.connected, stats.max_connections,
		    stats.max_connections);
	}
	if (sections & INFO_STATS) {
		rc |= section(out, &any, "Stats");
		rc |= buf_appendf(out,
		    "total_connections_received:%llu\r\n"
		    "rejected_connections:%llu\r\n"
		    "denied_connections:%llu\r\n"
		    "idle_timeouts:%llu\r\n"
		    "request_timeouts:%llu\r\n"
		    "output_limit_disconnections:%llu\r\n"
		    "total_commands_processed:%llu\r\n"
		    "instantaneous_ops_per_sec:%llu\r\n"
		    "total_net_input_bytes:%llu\r\n"
		    "total_net_output_bytes:%llu\r\n"
		    "total_error_replies:%llu\r\n"
		    "log_lines_dropped:%llu\r\n",
		    (unsigned long long)stats.connections_received,
		    (unsigned long long)stats.rejected_connections,
		    (unsigned long long)stats.denied_connections,
		    (unsigned long long)stats.idle_timeouts,
		    (unsigned long long)stats.request_timeouts,
		    (unsigned long long)stats.output_limit_disconnections,
		    (unsigned long long)stats.commands_processed,
		    (unsigned long long)stats.ops_per_sec,
		    (unsigned long long)stats.net_input_bytes,
		    (unsigned long long)stats.net_output_bytes,
		    (unsigned long long)stats.error_replies,
		    (unsigned long long)log_dropped());
		for (i = 0; i < STATS_MAX_SERVICES && stats.services[i].name != NULL; i++)
			rc |= buf_appendf(out, "service_%s:connected=%llu,total=%llu\r\n",
			    stats.services[i].name,
			    (unsigned long long)stats.services[i].connected,
			    (unsigned long long)stats.services[i].total);
	}
	rc |= format_commands(out, sections, &any);
	return rc == 0 ? 0 : -1;
}
