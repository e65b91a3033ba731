/* SPDX-License-Identifier: MIT */
#ifndef TCPD_LOG_H
#define TCPD_LOG_H

#include <stdarg.h>
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

enum log_target {
	LOG_TARGET_AUTO,	/* the journal when stderr is the journal stream */
	LOG_TARGET_JOURNAL,	/* the journal's native socket */
	LOG_TARGET_STDERR,
};

/* A structured field for the journal, NAME in capitals (TCPD_PEER). */
struct log_field {
	const char	*name;
	const char	*value;
};

/*
 * Starts on stderr: "<N>message" lines when stderr is the journal stream
 * named by $JOURNAL_STREAM, timestamped lines with the level otherwise.
 */
void	log_init(void);

/*
 * True when stderr is journald's stream (JOURNAL_STREAM, checked by
 * log_init()): a line written there directly is priority info unless it
 * starts with a "<N>" level prefix.
 */
bool	log_stderr_is_journal(void);

/*
 * Where lines go from now on. The journal target writes one datagram per
 * entry to the journal's native socket, with PRIORITY, SYSLOG_IDENTIFIER
 * and the lines' structured fields; when that socket cannot be used, lines
 * go to stderr as log_init() set up, and a warning says why.
 */
void	log_set_target(enum log_target target);

/*
 * Sends entries to the journal's native socket at path from now on, or to
 * stderr alone when path is NULL (log_set_target() calls this).
 */
void	log_set_journal(const char *path);

/*
 * Lines are never waited for: one that neither the journal nor stderr takes
 * at once is dropped and counted here; the next line that gets through is
 * preceded by a warning with the count.
 */
uint64_t log_dropped(void);
void	log_set_level(enum log_level level);
/*
 * In a worker process (n >= 0): each line starts "worker N: " and carries
 * the journal field TCPD_WORKER=N; -1 undoes it.
 */
void	log_set_worker(int n);
bool	log_enabled(enum log_level level);

/* One line to stderr if level is enabled; %m is strerror(errno). */
void	log_msg(enum log_level level, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));

/* The same, with structured fields that the journal target records. */
void	log_fields(enum log_level level, const struct log_field *fields,
	    size_t nfields, const char *fmt, ...)
	    __attribute__((format(printf, 4, 5)));
void	log_fieldsv(enum log_level level, const struct log_field *fields,
	    size_t nfields, const char *fmt, va_list ap)
	    __attribute__((format(printf, 4, 0)));

/*
 * Encodes one entry of the journal's native protocol into dst: KEY=value
 * lines, or for a value holding a newline, KEY, a newline, its length as 64
 * bits little-endian, the value and a newline. Returns the length, or 0 when
 * it does not fit.
 */
size_t	log_journal_entry(char *dst, size_t size, enum log_level level,
	    const char *message, const struct log_field *fields, size_t nfields);

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
/* Parses "auto", "journal" or "stderr"; returns 0, or -1. */
int	 log_target_parse(const char *name, enum log_target *target);

#endif
