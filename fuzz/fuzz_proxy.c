/* SPDX-License-Identifier: MIT */
/*
 * PROXY headers: fed whole or cut in two, the parser must agree with itself;
 * a header it takes, written again by proxy_format(), parses to the same addresses.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/proxy.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
round_trip(const struct proxy_header *h)
{
	static struct proxy_parser again;
	uint8_t out[PROXY_FORMAT_MAX];
	enum proxy_status s;
	size_t n = proxy_format(out, h->version, h->local ? NULL : &h->src,
	    h->local ? NULL : &h->dst);

	proxy_init(&again, h->version);
	if (n > PROXY_FORMAT_MAX || proxy_feed(&again, out, n, &s) != n || s != PROXY_DONE ||
	    again.h.local != h->local)
		abort();
	if (!h->local && (!net_addr_equal(&again.h.src, &h->src) ||
	    !net_addr_equal(&again.h.dst, &h->dst)))
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct proxy_parser whole, split;
	enum proxy_status s1, s2 = PROXY_MORE;
	size_t len, cut, u1, u2 = 0;
	const uint8_t *buf;

	/* Two bytes pick the cut, one the versions accepted; the rest is the stream. */
	if (size < 4)
		return 0;
	buf = data + 3;
	len = size - 3;
	cut = ((size_t)data[0] | (size_t)data[1] << 8) % (len + 1);
	proxy_init(&whole, 1u + data[2] % 3u);
	proxy_init(&split, 1u + data[2] % 3u);
	u1 = proxy_feed(&whole, buf, len, &s1);
	u2 = proxy_feed(&split, buf, cut, &s2);
	if (s2 == PROXY_MORE)
		u2 += proxy_feed(&split, buf + cut, len - cut, &s2);
	if (s1 != s2 || u1 != u2 || u1 > len)
		abort();
	if (s1 == PROXY_DONE && memcmp(&whole.h, &split.h, sizeof(whole.h)) != 0)
		abort();
	if (s1 == PROXY_DONE)
		round_trip(&whole.h);
	if (s1 == PROXY_INVALID && whole.why == NULL)
		abort();
	return 0;
}
