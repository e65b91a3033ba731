/* SPDX-License-Identifier: MIT */
#ifndef TCPD_LOG_H
#define TCPD_LOG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Severities are syslog's, so they double as journald priorities. */
enum log_level {
	LOG_LEVEL_ERROR		= 3,
	LOG_LEVEL_WARNING	= 4,
	LOG_LEVEL_NOTICE	= 5,
	LOG_LEVEL_INFO		= 6,
	LOG_LEVEL_DEBUG		= 7,
};

/*
 * Chooses the output format: "<N>message" lines when stderr is the journal
 * stream named by $JOURNAL_STREAM, timestamped lines with the level otherwise.
 */
void	log_init(void);
void	log_set_level(enum log_level level);
bool	log_enabled(enum log_level level);

/* One line to stderr if level is enabled; %m is strerror(errno). */
void	log_msg(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

#define log_error(...)	 log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warning(...) log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_notice(...)	 log_msg(LOG_LEVEL_NOTICE, __VA_ARGS__)
#define log_info(...)	 log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
/* The test keeps the per-connection hot path from formatting unseen lines. */
#define log_debug(...) do {						\
	if (log_enabled(LOG_LEVEL_DEBUG))				\
		log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__);			\
} while (0)

/*
 * Writes a printable, C-escaped copy of up to len peer bytes into dst (always
 * NUL-terminated), ending in "..." when truncated. Returns dst.
 */
char	*log_escape(char *dst, size_t size, const void *src, size_t len);

/*
 * Rate limiting for lines that can repeat with every connection: at most one
 * per second, and the next one says how many were held back meanwhile.
 */
struct log_rate {
	uint64_t	next_ms;
	unsigned	suppressed;
};

/*
 * Returns true when a line may be written at now_ms, with *suppressed set to
 * the lines held back since the last one; false counts this one as held back.
 */
bool	log_rate_ok(struct log_rate *rate, uint64_t now_ms, unsigned *suppressed);

/* Parses "debug".."error"; returns 0, or -1 for an unknown name. */
int	 log_level_parse(const char *name, enum log_level *level);
const char *log_level_name(enum log_level level);

#endif
