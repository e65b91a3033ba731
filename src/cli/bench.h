/* SPDX-License-Identifier: MIT */
#ifndef TCPD_BENCH_H
#define TCPD_BENCH_H

/*
 * tcpd-cli bench: loads a server from one thread and one epoll loop, checks
 * every reply byte against what the workload expects, and reports requests
 * per second and latency percentiles. argv[0] is "bench". Returns the exit
 * status: 0 when every reply was right, 1 on errors or mismatches, 2 when
 * the server could not be reached, 3 for a usage error.
 */
int	bench_main(int argc, char *argv[]);

#endif
