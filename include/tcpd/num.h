/* SPDX-License-Identifier: MIT */
#ifndef TCPD_NUM_H
#define TCPD_NUM_H

#include <stdbool.h>
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

/*
 * The one duration syntax of every config key and fault: a number, up to 9
 * decimals, then a unit: ms, s, m or min (minutes), h ("250ms", "1.5s",
 * "5m"). A bare number is in bare_ms units (1000 for a key in seconds), or
 * refused when bare_ms is 0. Returns 0 with *ms set, or -1: EINVAL for a
 * malformed duration or one not a whole number of milliseconds, ERANGE past
 * max_ms.
 */
int	num_parse_duration(const char *s, size_t len, uint64_t bare_ms, uint64_t max_ms,
	    uint64_t *ms);

/* Whether s[0..len) ends in a duration's unit (as num_parse_duration() reads it). */
bool	num_has_duration_unit(const char *s, size_t len);

/*
 * The one size syntax: an integer, then optionally k, m or g (either case)
 * for KiB, MiB or GiB, powers of 1024 ("64k", "1M"). Returns 0 with *out in
 * [min, max], or -1 as num_parse().
 */
int	num_parse_size(const char *s, size_t len, uint64_t min, uint64_t max, uint64_t *out);

#endif
