/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include "cli/uri.h"
#include "tcpd/num.h"

static int
hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

/* s[0..n) percent-decoded into dst (URI_PART_MAX bytes), NUL-ended; -1 with *why. */
static int
decode(const char *s, size_t n, char *dst, const char **why)
{
	size_t i, k = 0;

	for (i = 0; i < n; i++) {
		if (k + 1 == URI_PART_MAX) {
			*why = "user name or password too long in URI";
			return -1;
		}
		if (s[i] != '%') {
			dst[k++] = s[i];
			continue;
		}
		if (n - i < 3) {
			*why = "Incomplete URI encoding";
			return -1;
		}
		if (hex_digit(s[i + 1]) < 0 || hex_digit(s[i + 2]) < 0) {
			*why = "Illegal character in URI encoding";
			return -1;
		}
		dst[k++] = (char)(hex_digit(s[i + 1]) << 4 | hex_digit(s[i + 2]));
		i += 2;
	}
	dst[k] = '\0';
	return 0;
}

/* host[:port] in s[0..n), [v6] unbracketed; -1 with *why. */
static int
host_port(const char *s, size_t n, struct uri *u, const char **why)
{
	const char *end = s + n, *host = s, *colon, *close;
	size_t hn;
	int64_t v;

	if (n > 0 && s[0] == '[') {
		if ((close = memchr(s, ']', n)) == NULL || (close + 1 < end && close[1] != ':')) {
			*why = "invalid [IPv6 address] in URI";
			return -1;
		}
		host = s + 1;
		hn = (size_t)(close - host);
		colon = close + 1 < end ? close + 1 : NULL;
	} else {
		colon = memchr(s, ':', n);
		hn = (size_t)((colon != NULL ? colon : end) - s);
	}
	if (hn >= sizeof(u->host)) {
		*why = "host too long in URI";
		return -1;
	}
	memcpy(u->host, host, hn);
	u->host[hn] = '\0';
	if (colon == NULL)
		return 0;
	n = (size_t)(end - colon - 1);
	if (n >= sizeof(u->port) || num_parse(colon + 1, n, 1, 65535, &v) == -1) {
		*why = "invalid port in URI (a number from 1 to 65535)";
		return -1;
	}
	memcpy(u->port, colon + 1, n);
	u->port[n] = '\0';
	return 0;
}

int
uri_parse(const char *uri, struct uri *u, const char **why)
{
	static const char scheme[] = "redis://", tls[] = "rediss://";
	const char *s = uri, *end = uri + strlen(uri), *at, *colon, *slash;

	memset(u, 0, sizeof(*u));
	u->db = -1;
	if (strncasecmp(s, tls, sizeof(tls) - 1) == 0) {
		*why = "rediss:// is not supported: tcpd-cli speaks no TLS";
		return -1;
	}
	if (strncasecmp(s, scheme, sizeof(scheme) - 1) != 0) {
		*why = "Invalid URI scheme";
		return -1;
	}
	s += sizeof(scheme) - 1;
	/* The first '@' ends the user information: an '@' in a password is %40. */
	if ((at = strchr(s, '@')) != NULL) {
		if ((colon = memchr(s, ':', (size_t)(at - s))) != NULL) {
			if (decode(s, (size_t)(colon - s), u->user, why) == -1)
				return -1;
			u->has_user = true;
			s = colon + 1;
		}
		if (decode(s, (size_t)(at - s), u->pass, why) == -1)
			return -1;
		u->has_pass = true;
		s = at + 1;
	}
	slash = strchr(s, '/');
	if (host_port(s, (size_t)((slash != NULL ? slash : end) - s), u, why) == -1)
		return -1;
	if (slash == NULL || slash + 1 == end)
		return 0;
	if (num_parse(slash + 1, (size_t)(end - slash - 1), 0, INT32_MAX, &u->db) == -1) {
		*why = "invalid database number in URI";
		return -1;
	}
	return 0;
}
