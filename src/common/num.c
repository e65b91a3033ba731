/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "tcpd/num.h"

int
num_parse(const char *s, size_t len, int64_t min, int64_t max, int64_t *out)
{
	bool neg = len > 0 && s[0] == '-' && min < 0;
	/* Accumulate the magnitude unsigned: INT64_MIN has no positive twin. */
	uint64_t v = 0, limit = neg ? (uint64_t)-(min + 1) + 1 : (uint64_t)(max < 0 ? 0 : max);
	/* v * 10 + d <= limit, without a division per digit: protocol lengths come through here. */
	uint64_t most = limit / 10, last = limit % 10;
	size_t i = neg ? 1 : 0;

	if (i == len) {
		errno = EINVAL;
		return -1;
	}
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9') {
			errno = EINVAL;
			return -1;
		}
		if (v > most || (v == most && (uint64_t)(s[i] - '0') > last)) {
			errno = ERANGE;
			return -1;
		}
		v = v * 10 + (uint64_t)(s[i] - '0');
	}
	if (neg) {
		*out = v == 0 ? 0 : -(int64_t)(v - 1) - 1;
		if (*out > max) {
			errno = ERANGE;
			return -1;
		}
		return 0;
	}
	if ((int64_t)v < min) {
		errno = ERANGE;
		return -1;
	}
	*out = (int64_t)v;
	return 0;
}

int
num_parse_str(const char *s, int64_t min, int64_t max, int64_t *out)
{
	return num_parse(s, strlen(s), min, max, out);
}

int
num_parse_real(const char *s, double min, double max, double *out)
{
	const char *dot = strchr(s, '.');
	size_t ilen = dot != NULL ? (size_t)(dot - s) : strlen(s), i;
	double v, scale = 1;
	int64_t whole;

	/* Digits only, so inf, nan, hex and exponents never reach a double. */
	if (num_parse(s, ilen, 0, INT64_MAX, &whole) == -1 &&
	    !(errno == EINVAL && ilen == 0 && dot != NULL))
		return -1;
	v = ilen == 0 ? 0 : (double)whole;
	if (dot != NULL) {
		if (dot[1] == '\0') {
			errno = EINVAL;
			return -1;
		}
		for (i = 1; dot[i] != '\0'; i++) {
			if (dot[i] < '0' || dot[i] > '9') {
				errno = EINVAL;
				return -1;
			}
			scale /= 10;
			v += (dot[i] - '0') * scale;
		}
	}
	if (v < min || v > max) {
		errno = ERANGE;
		return -1;
	}
	*out = v;
	return 0;
}

/* The unit a duration ends with, in ms, and how many bytes it takes; 0 for none. */
static uint64_t
duration_unit(const char *s, size_t len, size_t *unit_len)
{
	static const struct { const char *name; uint64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "min", 60000 }, { "m", 60000 },
		{ "h", 3600000 },
	};
	size_t i, n;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		n = strlen(units[i].name);
		if (len > n && memcmp(s + len - n, units[i].name, n) == 0) {
			*unit_len = n;
			return units[i].ms;
		}
	}
	*unit_len = 0;
	return 0;
}

int
num_parse_duration(const char *s, size_t len, uint64_t bare_ms, uint64_t max_ms,
    uint64_t *ms)
{
	const char *dot;
	size_t unit_len, ilen, flen, i;
	uint64_t scale = duration_unit(s, len, &unit_len), frac = 0, div = 1;
	int64_t whole;

	if (scale == 0)
		scale = bare_ms;
	len -= unit_len;
	dot = memchr(s, '.', len);
	ilen = dot != NULL ? (size_t)(dot - s) : len;
	flen = dot != NULL ? len - ilen - 1 : 0;
	/* Up to 9 decimals, digits only: "1.5s", never "1.", ".5" or "1e3". */
	if (scale == 0 || (dot != NULL && (ilen == 0 || flen == 0 || flen > 9))) {
		errno = EINVAL;
		return -1;
	}
	if (num_parse(s, ilen, 0, (int64_t)(max_ms / scale), &whole) == -1)
		return -1;
	for (i = 0; i < flen; i++) {
		if (dot[1 + i] < '0' || dot[1 + i] > '9') {
			errno = EINVAL;
			return -1;
		}
		frac = frac * 10 + (uint64_t)(dot[1 + i] - '0');
		div *= 10;
	}
	/* A part of a millisecond is no duration tcpd can keep. */
	if (frac * scale % div != 0) {
		errno = EINVAL;
		return -1;
	}
	if ((uint64_t)whole * scale + frac * scale / div > max_ms) {
		errno = ERANGE;
		return -1;
	}
	*ms = (uint64_t)whole * scale + frac * scale / div;
	return 0;
}

bool
num_has_duration_unit(const char *s, size_t len)
{
	size_t unit_len;

	return duration_unit(s, len, &unit_len) != 0;
}

int
num_parse_size(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out)
{
	uint64_t scale = 1;
	int64_t v;

	if (len > 1) {
		switch (s[len - 1]) {
		case 'k': case 'K': scale = 1ull << 10; break;
		case 'm': case 'M': scale = 1ull << 20; break;
		case 'g': case 'G': scale = 1ull << 30; break;
		}
	}
	if (num_parse(s, scale == 1 ? len : len - 1, 0, (int64_t)(max / scale), &v) == -1)
		return -1;
	if ((uint64_t)v * scale < min) {
		errno = ERANGE;
		return -1;
	}
	*out = (uint64_t)v * scale;
	return 0;
}
