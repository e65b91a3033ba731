/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "daemon/acl.h"
#include "daemon/ipcount.h"
#include "tcpd/net.h"

static struct cidr
block(const char *s)
{
	struct cidr c;
	const char *why = NULL;

	cr_assert_eq(cidr_parse(&c, s, strlen(s), &why), 0, "%s: %s", s, why);
	return c;
}

static void
key_of(const char *addr, uint8_t key[16])
{
	struct net_addr a;
	const char *why;
	char text[80];

	snprintf(text, sizeof(text), strchr(addr, ':') ? "[%s]:1" : "%s:1", addr);
	cr_assert_eq(net_addr_parse(&a, text, strlen(text), &why), 0, "%s", text);
	cidr_key(&a, key);
}

static bool
matches(const char *cidr, const char *addr)
{
	struct cidr c = block(cidr);
	uint8_t key[16];

	key_of(addr, key);
	return cidr_match(&c, key);
}

Test(cidr, ipv4_blocks)
{
	cr_assert(matches("10.0.0.0/8", "10.255.1.2"));
	cr_assert_not(matches("10.0.0.0/8", "11.0.0.1"));
	cr_assert(matches("192.168.1.128/25", "192.168.1.200"));
	cr_assert_not(matches("192.168.1.128/25", "192.168.1.127"));
	cr_assert(matches("127.0.0.2", "127.0.0.2"), "a bare address is one host");
	cr_assert_not(matches("127.0.0.2", "127.0.0.1"));
	cr_assert(matches("0.0.0.0/0", "8.8.8.8"));
	cr_assert_not(matches("0.0.0.0/0", "::1"), "an IPv4 block never matches IPv6");
}

Test(cidr, ipv6_blocks)
{
	cr_assert(matches("::1/128", "::1"));
	cr_assert_not(matches("::1/128", "::2"));
	cr_assert(matches("2001:db8::/32", "2001:db8:ffff::1"));
	cr_assert_not(matches("2001:db8::/32", "2001:db9::1"));
	cr_assert(matches("::/0", "::1"));
	cr_assert_not(matches("::/0", "10.0.0.1"), "::/0 means every IPv6 peer, no IPv4 one");
	cr_assert_not(matches("::/95", "10.0.0.1"), "wider than the mapped space");
	cr_assert(matches("::ffff:0:0/96", "10.0.0.1"), "the mapped space, written as such");
	cr_assert_not(matches("::ffff:0:0/96", "::1"));
}

/* "No IPv6" keeps IPv4 clients, "no IPv4" keeps IPv6 ones. */
Test(acl, one_familys_deny_all_leaves_the_other_in)
{
	struct cidr no6[1] = { block("::/0") }, no4[1] = { block("0.0.0.0/0") };
	const struct cidr *rule;
	uint8_t k[16];

	key_of("127.0.0.1", k);
	cr_assert(acl_permits(NULL, 0, no6, 1, k, &rule), "deny = ::/0 lets 127.0.0.1 in");
	cr_assert_not(acl_permits(NULL, 0, no4, 1, k, &rule));
	cr_assert_eq(rule, &no4[0]);
	key_of("::ffff:127.0.0.1", k);
	cr_assert(acl_permits(NULL, 0, no6, 1, k, &rule), "a mapped peer is an IPv4 one");
	key_of("::1", k);
	cr_assert(acl_permits(NULL, 0, no4, 1, k, &rule), "deny = 0.0.0.0/0 lets ::1 in");
	cr_assert_not(acl_permits(NULL, 0, no6, 1, k, &rule));
	cr_assert_eq(rule, &no6[0]);
	cr_assert_not(acl_permits(no6, 1, NULL, 0, (key_of("10.0.0.1", k), k), &rule),
	    "allow = ::/0 alone admits no IPv4 peer");
}

Test(cidr, ipv4_mapped_peers_match_ipv4_rules)
{
	cr_assert(matches("10.0.0.0/8", "::ffff:10.1.2.3"));
	cr_assert_not(matches("10.0.0.0/8", "::ffff:11.1.2.3"));
	cr_assert(matches("::ffff:10.0.0.0/104", "10.9.9.9"));
}

Test(cidr, rejects)
{
	static const struct {
		const char *in, *why;
	} bad[] = {
		{ "", "expected an address or ADDRESS/PREFIX" },
		{ "/8", "expected an address or ADDRESS/PREFIX" },
		{ "10.0.0.0/", "prefix must be 0-32" },
		{ "10.0.0.0/33", "prefix must be 0-32" },
		{ "10.0.0.0/-1", "prefix must be 0-32" },
		{ "10.0.0.0/8x", "prefix must be 0-32" },
		{ "::/129", "prefix must be 0-128" },
		{ "::/1000", "prefix must be 0-128" },
		{ "10.0.0.1/8", "address has bits set beyond the prefix" },
		{ "2001:db8::1/32", "address has bits set beyond the prefix" },
		{ "10.0.0", "invalid IPv4 or IPv6 address" },
		{ "example.com/8", "invalid IPv4 or IPv6 address" },
	};
	struct cidr c;
	const char *why;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why = NULL;
		cr_assert_eq(cidr_parse(&c, bad[i].in, strlen(bad[i].in), &why), -1,
		    "accepted '%s'", bad[i].in);
		cr_assert_str_eq(why, bad[i].why, "for '%s'", bad[i].in);
	}
}

Test(acl, deny_wins_and_empty_allow_means_everyone)
{
	struct cidr allow[2] = { block("127.0.0.0/8"), block("::1") };
	struct cidr deny[1] = { block("127.0.0.2") };
	const struct cidr *rule;
	uint8_t k[16];

	key_of("127.0.0.1", k);
	cr_assert(acl_permits(allow, 2, deny, 1, k, &rule));
	cr_assert_eq(rule, &allow[0]);
	key_of("127.0.0.2", k);
	cr_assert_not(acl_permits(allow, 2, deny, 1, k, &rule), "deny wins over allow");
	cr_assert_eq(rule, &deny[0], "the rule that matched");
	key_of("10.0.0.1", k);
	cr_assert_not(acl_permits(allow, 2, deny, 1, k, &rule), "not in allow");
	cr_assert_null(rule);
	cr_assert(acl_permits(NULL, 0, deny, 1, k, &rule), "no allow list: everyone");
	key_of("::1", k);
	cr_assert(acl_permits(allow, 2, NULL, 0, k, &rule));
	cr_assert(acl_permits(NULL, 0, NULL, 0, k, &rule));
}

Test(acl, blocks_print_as_they_are_written)
{
	static const char *const blocks[] = { "10.0.0.0/8", "127.0.0.2/32", "0.0.0.0/0",
	    "::1/128", "2001:db8::/32", "::/0" };
	char text[CIDR_STRLEN];
	struct cidr c;
	size_t i;

	for (i = 0; i < sizeof(blocks) / sizeof(blocks[0]); i++) {
		c = block(blocks[i]);
		cidr_format(&c, text, sizeof(text));
		cr_assert_str_eq(text, blocks[i]);
	}
}

Test(ipcount, counts_follow_a_reference_through_collisions)
{
	enum { KEYS = 3000, OPS = 60000 };
	static unsigned ref[KEYS];
	struct ipcount t = { 0 };
	uint8_t key[16];
	unsigned seed = 12345;
	int i, k;

	memset(ref, 0, sizeof(ref));
	for (i = 0; i < OPS; i++) {
		seed = seed * 1103515245 + 12345;
		k = (int)((seed >> 8) % KEYS);
		memset(key, 0, sizeof(key));
		memcpy(key + 12, &k, sizeof(k));
		if ((seed >> 4) % 3 != 0) {
			cr_assert_eq(ipcount_inc(&t, key), 0);
			ref[k]++;
		} else if (ref[k] > 0) {
			ipcount_dec(&t, key);
			ref[k]--;
		}
	}
	for (k = 0; k < KEYS; k++) {
		memset(key, 0, sizeof(key));
		memcpy(key + 12, &k, sizeof(k));
		cr_assert_eq(ipcount_get(&t, key), ref[k], "key %d", k);
		while (ref[k] > 0) {
			ipcount_dec(&t, key);
			ref[k]--;
		}
	}
	cr_assert_eq(t.used, 0, "a key leaves the table at 0");
	ipcount_free(&t);
}

/* The unkeyed FNV-1a the table once used: what an attacker could aim at. */
static size_t
fnv1a(const uint8_t key[16])
{
	uint64_t h = 14695981039346656037ULL;
	int i;

	for (i = 0; i < 16; i++) {
		h ^= key[i];
		h *= 1099511628211ULL;
	}
	return (size_t)(h ^ (h >> 32));
}

Test(ipcount, addresses_crafted_to_collide_stay_fast)
{
	enum { KEYS = 1000 };
	struct ipcount t = { 0 };
	uint8_t key[16] = { 0x20, 0x01, 0x0d, 0xb8 };	/* one /64: the low 8 bytes are the peer's */
	uint64_t n = 0;
	int found = 0;

	/* Every key shares its home slot in a table of up to 4096 under FNV-1a. */
	while (found < KEYS) {
		memcpy(key + 8, &n, sizeof(n));
		n++;
		if ((fnv1a(key) & 4095) != 0)
			continue;
		cr_assert_eq(ipcount_inc(&t, key), 0);
		found++;
	}
	cr_assert_eq(t.used, KEYS);
	cr_assert_lt(ipcount_longest_probe(&t), 40, "longest probe %zu",
	    ipcount_longest_probe(&t));
	ipcount_free(&t);
}

/* A key whose home slot in a 64-slot table is home, and not in skip. */
static void
key_homed_at(size_t home, uint8_t key[16], uint32_t *n)
{
	memset(key, 0, 16);
	do {
		(*n)++;
		memcpy(key + 12, n, sizeof(*n));
	} while ((ipcount_hash(key) & 63) != home);
}

Test(ipcount, deletion_shifts_back_across_the_end_of_the_table)
{
	struct ipcount t = { 0 };
	uint8_t a[16], b[16], c[16];
	uint32_t n = 0;

	/* a sits in the last slot; b and c, homed there too, wrap to slots 0 and 1. */
	key_homed_at(63, a, &n);
	key_homed_at(63, b, &n);
	key_homed_at(63, c, &n);
	cr_assert_eq(ipcount_inc(&t, a), 0);
	cr_assert_eq(ipcount_inc(&t, b), 0);
	cr_assert_eq(ipcount_inc(&t, c), 0);
	cr_assert_eq(t.cap, 64);
	cr_assert_eq(ipcount_longest_probe(&t), 2);
	ipcount_dec(&t, a);
	cr_assert_eq(ipcount_get(&t, a), 0);
	cr_assert_eq(ipcount_get(&t, b), 1, "b moved back into the last slot");
	cr_assert_eq(ipcount_get(&t, c), 1, "c moved back into slot 0");
	cr_assert_eq(ipcount_longest_probe(&t), 1);
	ipcount_free(&t);
}
