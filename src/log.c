/* SPDX-License-Identifier: MIT */
#include <sys/stat.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tcpd/log.h"

static enum log_level	log_threshold = LOG_LEVEL_INFO;
static bool		log_to_journal;

static const char *const level_names[] = {
	[LOG_LEVEL_ERROR]	= "error",
	[LOG_LEVEL_WARNING]	= "warning",
	[LOG_LEVEL_NOTICE]	= "notice",
	[LOG_LEVEL_INFO]	= "info",
	[LOG_LEVEL_DEBUG]	= "debug",
};

/* systemd sets JOURNAL_STREAM=dev:ino for the stream it connected to stderr. */
static bool
stderr_is_journal(void)
{
	const char *env = getenv("JOURNAL_STREAM");
	unsigned long long dev, ino;
	struct stat st;

	if (env == NULL || sscanf(env, "%llu:%llu", &dev, &ino) != 2)
		return false;
	if (fstat(STDERR_FILENO, &st) == -1)
		return false;
	return st.st_dev == dev && st.st_ino == ino;
}

void
log_init(void)
{
	log_to_journal = stderr_is_journal();
}

void
log_set_level(enum log_level level)
{
	log_threshold = level;
}

bool
log_enabled(enum log_level level)
{
	return level <= log_threshold;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	char line[2048];
	int saved = errno;
	size_t n;
	va_list ap;

	if (!log_enabled(level))
		return;
	if (log_to_journal) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>", level);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: ",
		    ts.tv_nsec / 1000000, level_names[level]);
	}
	errno = saved;
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	n = strlen(line);
	line[n++] = '\n';
	/* A lost log line must not stop the daemon; there is nowhere to report it. */
	while (write(STDERR_FILENO, line, n) == -1 && errno == EINTR)
		;
	errno = saved;
}

char *
log_escape(char *dst, size_t size, const void *src, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = src;
	size_t i, o = 0;

	if (size < 4) {
		if (size > 0)
			dst[0] = '\0';
		return dst;
	}
	for (i = 0; i < len; i++) {
		char esc[4];
		size_t elen;

		switch (p[i]) {
		case '\r': memcpy(esc, "\\r", 2); elen = 2; break;
		case '\n': memcpy(esc, "\\n", 2); elen = 2; break;
		case '\t': memcpy(esc, "\\t", 2); elen = 2; break;
		case '\\': memcpy(esc, "\\\\", 2); elen = 2; break;
		case '"': memcpy(esc, "\\\"", 2); elen = 2; break;
		default:
			if (p[i] >= 0x20 && p[i] < 0x7f) {
				esc[0] = (char)p[i];
				elen = 1;
			} else {
				esc[0] = '\\';
				esc[1] = 'x';
				esc[2] = hex[p[i] >> 4];
				esc[3] = hex[p[i] & 0xf];
				elen = 4;
			}
			break;
		}
		/* Keep room for "..." and the NUL in case this is not the end. */
		if (o + elen + 4 > size) {
			memcpy(dst + o, "...", 4);
			return dst;
		}
		memcpy(dst + o, esc, elen);
		o += elen;
	}
	dst[o] = '\0';
	return dst;
}

int
log_level_parse(const char *name, enum log_level *level)
{
	int i;

	for (i = LOG_LEVEL_ERROR; i <= LOG_LEVEL_DEBUG; i++) {
		if (strcasecmp(name, level_names[i]) == 0) {
			*level = (enum log_level)i;
			return 0;
		}
	}
	return -1;
}

const char *
log_level_name(enum log_level level)
{
	return level_names[level];
}

bool
log_rate_ok(struct log_rate *rate, uint64_t now_ms, unsigned *suppressed)
{
	if (now_ms < rate->next_ms) {
		rate->suppressed++;
		return false;
	}
	*suppressed = rate->suppressed;
	rate->suppressed = 0;
	rate->next_ms = now_ms + 1000;
	return true;
}
