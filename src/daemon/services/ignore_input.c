/* SPDX-License-Identifier: MIT */
/* The input callback of the services that send and never listen. */
#include "daemon/services/service.h"

size_t
service_ignore_input(struct conn *c, void *state, const char *data, size_t len)
{
	(void)c;
	(void)state;
	(void)data;
	return len;
}
