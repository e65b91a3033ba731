/* SPDX-License-Identifier: MIT */
/*
 * tcpd-cli's -u URI parser: anything it accepts is well formed (a port of
 * 1 to 65535 or none, a database of 0 or more or none, every part ended
 * within its buffer), and anything it refuses says why.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli/uri.h"
#include "tcpd/num.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct uri u;
	const char *why = NULL;
	char *text;
	int64_t port;

	/* A command-line argument: NUL-ended, no NUL inside. */
	if ((text = malloc(size + 1)) == NULL)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (uri_parse(text, &u, &why) == 0) {
		if (memchr(u.host, '\0', sizeof(u.host)) == NULL ||
		    memchr(u.user, '\0', sizeof(u.user)) == NULL ||
		    memchr(u.pass, '\0', sizeof(u.pass)) == NULL ||
		    memchr(u.port, '\0', sizeof(u.port)) == NULL || u.db < -1 ||
		    (u.port[0] != '\0' &&
		    num_parse(u.port, strlen(u.port), 1, 65535, &port) == -1))
			abort();
	} else if (why == NULL) {
		abort();
	}
	free(text);
	return 0;
}
