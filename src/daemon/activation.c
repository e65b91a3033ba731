/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "daemon/activation.h"
#include "tcpd/log.h"
#include "tcpd/num.h"

static int
parse_count(const char *s, long *out)
{
	int64_t v;

	if (num_parse_str(s, 0, INT32_MAX, &v) == -1)
		return -1;
	*out = (long)v;
	return 0;
}

static void
forget(void)
{
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
}

int
activation_take(struct activation *a)
{
	const char *pid = getenv("LISTEN_PID"), *fds = getenv("LISTEN_FDS");
	const char *names = getenv("LISTEN_FDNAMES");
	long lpid, count, i;

	a->n = 0;
	if (pid == NULL || fds == NULL)
		return 0;
	if (parse_count(pid, &lpid) == -1 || parse_count(fds, &count) == -1) {
		forget();
		return -EINVAL;
	}
	/* Meant for another process (we were exec'd by the one it named). */
	if (lpid != (long)getpid()) {
		forget();
		return 0;
	}
	if (count > ACTIVATION_MAX) {
		forget();
		return -E2BIG;
	}
	for (i = 0; i < count; i++) {
		int fd = ACTIVATION_FD_START + (int)i;
		size_t len = 0;

		if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
			forget();
			return -errno;
		}
		a->fds[i] = fd;
		if (names != NULL)
			len = strcspn(names, ":");
		if (len == 0)
			snprintf(a->names[i], ACTIVATION_NAME_MAX, "unknown");
		else	/* Outside text, bound for the log: printable, and short. */
			log_escape(a->names[i], ACTIVATION_SHOWN_MAX + 1, names, len);
		if (names != NULL) {
			names += strcspn(names, ":");
			if (*names == ':')
				names++;
		}
	}
	a->n = (size_t)count;
	forget();
	return (int)count;
}
