/* SPDX-License-Identifier: MIT */
/*
 * Address and CIDR parsers. An accepted address must format to text that
 * parses back to the same address; an accepted block must match its own base.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/acl.h"
#include "tcpd/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_addr a, b;
	struct cidr c;
	const char *why;
	char text[NET_ADDRSTRLEN];

	if (net_addr_parse(&a, (const char *)data, size, &why) == 0) {
		net_addr_format(&a, text, sizeof(text));
		if (net_addr_parse(&b, text, strlen(text), &why) != 0 ||
		    !net_addr_equal(&a, &b))
			abort();
	}
	if (cidr_parse(&c, (const char *)data, size, &why) == 0) {
		if (c.prefix > 128 || !cidr_match(&c, c.addr))
			abort();
	}
	return 0;
}
