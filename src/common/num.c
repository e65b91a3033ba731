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
		if ((uint64_t)(s[i] - '0') > limit ||
		    v > (limit - (uint64_t)(s[i] - '0')) / 10) {
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
