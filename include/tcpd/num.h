/* SPDX-License-Identifier: MIT */
#ifndef TCPD_NUM_H
#define TCPD_NUM_H

#include <stddef.h>
#include <stdint.h>

/*
 * The one checked decimal reader for options, config values and protocol
 * lengths. s[0..len) must be all digits, with a leading '-' only when min
 * is negative: no blanks, no '+', no hex, nothing after. Returns 0 with
 * *out set, or -1: EINVAL for a malformed number, ERANGE outside
 * [min, max] (never overflowing on the way).
 */
int	num_parse(const char *s, size_t len, int64_t min, int64_t max, int64_t *out);

/* num_parse() over a NUL-terminated string. */
int	num_parse_str(const char *s, int64_t min, int64_t max, int64_t *out);

/*
 * A finite decimal number, fractions allowed ("0.5", "2"), in [min, max]:
 * never "inf", "nan", hex or exponents. Returns 0, or -1 as num_parse().
 */
int	num_parse_real(const char *s, double min, double max, double *out);

#endif
