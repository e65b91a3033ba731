/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <sys/un.h>

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "daemon/notify.h"
#include "tcpd/num.h"

static int notify_fd = -1;
static int channel_fd = -1;	/* the worker's channel: not ours to close */

void
notify_reset(void)
{
	if (notify_fd != -1)
		close(notify_fd);
	notify_fd = -1;
	channel_fd = -1;
}

void
notify_set_fd(int fd)
{
	channel_fd = fd;
}

int
notify_send(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t len;
	socklen_t salen;

	if (channel_fd != -1)
		return send(channel_fd, state, strlen(state), MSG_NOSIGNAL | MSG_DONTWAIT) == -1 ?
		    -errno : 1;
	if (path == NULL || path[0] == '\0')
		return 0;
	len = strlen(path);
	if ((path[0] != '/' && path[0] != '@') || len >= sizeof(sun.sun_path))
		return -EINVAL;
	memcpy(sun.sun_path, path, len);
	/*
	 * An abstract name starts with a NUL and is exactly as long as given:
	 * passing all of sun_path would name a different, NUL-padded socket.
	 */
	if (path[0] == '@')
		sun.sun_path[0] = '\0';
	salen = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len +
	    (path[0] == '/' ? 1 : 0));
	if (notify_fd == -1 && (notify_fd = socket(AF_UNIX,
	    SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -errno;
	if (sendto(notify_fd, state, strlen(state), MSG_NOSIGNAL,
	    (struct sockaddr *)&sun, salen) == -1)
		return -errno;
	return 1;
}

int
notify_reloading(void)
{
	struct timespec now;
	char state[64];

	clock_gettime(CLOCK_MONOTONIC, &now);
	snprintf(state, sizeof(state), "RELOADING=1\nMONOTONIC_USEC=%llu",
	    (unsigned long long)now.tv_sec * 1000000 + (unsigned long long)now.tv_nsec / 1000);
	return notify_send(state);
}

uint64_t
notify_watchdog_usec(void)
{
	const char *usec = getenv("WATCHDOG_USEC"), *pid = getenv("WATCHDOG_PID");
	int64_t v, p;

	if (usec == NULL)
		return 0;
	if (pid != NULL && (num_parse_str(pid, 1, INT32_MAX, &p) == -1 ||
	    p != (int64_t)getpid()))
		return 0;
	if (num_parse_str(usec, 0, INT64_MAX, &v) == -1)
		return 0;
	return (uint64_t)v;
}
