/* SPDX-License-Identifier: MIT */
/*
 * Where capabilities meet the transport: a peer that leaves while a fault
 * holds its output, a slicing client beside others, a drain under a
 * pipeline, replies larger than the output limit. Each case was a defect.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <criterion/criterion.h>

#include "harness.h"

TestSuite(seams, .fini = tcpd_teardown, .timeout = 120);

/* Closes fd with an RST (a zero linger). */
static void
close_with_rst(int fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	cr_assert_eq(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg)), 0);
	close(fd);
}

/* A value from INFO, e.g. "connected_clients". */
static long
info_value(const char *name)
{
	const char *info = tcpd_info(), *at;
	char key[64];

	snprintf(key, sizeof(key), "\r\n%s:", name);
	cr_assert_not_null(at = strstr(info, key), "no %s in INFO", name);
	return strtol(at + strlen(key), NULL, 10);
}

/* Waits up to 5 s for INFO's connected_clients to be want (the asking one included). */
static void
wait_connected(long want)
{
	long n = -1;
	int i;

	for (i = 0; i < 100 && (n = info_value("connected_clients")) != want; i++)
		poll(NULL, 0, 50);
	cr_assert_eq(n, want, "connected_clients %ld, not %ld", n, want);
}

/* CPU seconds tcpd spends in the next second. */
static double
cpu_in_a_second(void)
{
	double cpu0 = tcpd_cpu_seconds();

	poll(NULL, 0, 1000);
	return tcpd_cpu_seconds() - cpu0;
}

/*
 * A fault holds the reply; the peer half-closes, then resets. The error
 * event is reported whatever the connection watches: it must end the
 * connection, not spin until the fault lets the output go.
 */
Test(seams, a_peer_that_resets_while_a_fault_holds_output_is_closed_at_once)
{
	static const char *const faults[] = {
		"DELAY 86400000\r\n", "SLEEP 86400000\r\n", "SLICE 1 86400000\r\n",
	};
	int fds[3], i;
	char in[8];
	double cpu;

	tcpd_start_with(NULL, "faults = loopback", 0);
	for (i = 0; i < 3; i++) {
		fds[i] = tcp_connect(tcpd.port[P_COMMAND]);
		send_all(fds[i], faults[i], strlen(faults[i]));
		/* The fault's own +OK is read (SLICE's first byte: its gap holds the rest). */
		recv_exact(fds[i], in, 1);
		send_all(fds[i], "PING\r\n", 6);
		shutdown(fds[i], SHUT_WR);
	}
	poll(NULL, 0, 100);
	for (i = 0; i < 3; i++)
		close_with_rst(fds[i]);
	wait_connected(1);
	cr_assert_geq(tcpd_log_count("closed: reset by peer"), 3);
	cpu = cpu_in_a_second();
	cr_assert_lt(cpu, 0.2, "%.2f CPU-s in 1 s after the resets", cpu);
}

/* The same through a listener's profile, which no command gates. */
Test(seams, a_peer_that_resets_during_a_profile_delay_costs_no_cpu)
{
	enum { N = 20 };
	uint16_t ports[2];
	char global[256];
	int fds[N], i;
	double cpu;

	free_ports(ports, 2);
	snprintf(global, sizeof(global), "[listener.slow]\nbind = 127.0.0.1:%u\n"
	    "service = echo\ndelay = 60s\n[listener.gappy]\nbind = 127.0.0.1:%u\n"
	    "service = echo\nslice = 1\nslice_gap = 60s\n", ports[0], ports[1]);
	tcpd_start(global);
	for (i = 0; i < N; i++) {
		fds[i] = tcp_connect(ports[i % 2]);
		send_all(fds[i], "ab", 2);
		shutdown(fds[i], SHUT_WR);
	}
	poll(NULL, 0, 200);
	for (i = 0; i < N; i++)
		close_with_rst(fds[i]);
	wait_connected(1);
	cpu = cpu_in_a_second();
	cr_assert_lt(cpu, 0.2, "%.2f CPU-s in 1 s after the resets", cpu);
}
