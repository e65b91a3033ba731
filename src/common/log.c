/* SPDX-License-Identifier: MIT */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>

#include <errno.h>
#include <poll.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tcpd/log.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"

static enum log_level	log_threshold = LOG_LEVEL_INFO;
static bool		stderr_to_journal;	/* stderr is the journal stream */
static int		journal_fd = -1;	/* the native socket, when in use */
/* What stderr is decides how to write to it without waiting; set by log_init(). */
static enum { STDERR_OTHER, STDERR_SOCKET, STDERR_FILE } stderr_kind;
static uint64_t		dropped;		/* lines nobody would take */
static uint64_t		dropped_told;		/* of those, reported in the log */

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

bool
log_stderr_is_journal(void)
{
	return stderr_to_journal;
}

void
log_init(void)
{
	struct stat st;

	stderr_to_journal = stderr_is_journal();
	stderr_kind = STDERR_OTHER;
	if (fstat(STDERR_FILENO, &st) == 0)
		stderr_kind = S_ISSOCK(st.st_mode) ? STDERR_SOCKET :
		    S_ISREG(st.st_mode) ? STDERR_FILE : STDERR_OTHER;
}

static int
open_journal(const char *path)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	int fd, sndbuf = 8 * 1024 * 1024;

	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(sun.sun_path, path, strlen(path));
	/* Non-blocking: a stalled journal costs dropped lines, never the loop. */
	if ((fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0)) == -1)
		return -1;
	(void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) == -1) {
		int saved = errno;

		close(fd);
		errno = saved;
		return -1;
	}
	return fd;
}

void
log_set_journal(const char *path)
{
	if (journal_fd != -1) {
		close(journal_fd);
		journal_fd = -1;
	}
	if (path != NULL && (journal_fd = open_journal(path)) == -1)
		log_warning("cannot use the journal's socket %s: %m; logging to "
		    "stderr", path);
}

void
log_set_target(enum log_target target)
{
	if (target == LOG_TARGET_STDERR ||
	    (target == LOG_TARGET_AUTO && !stderr_to_journal))
		log_set_journal(NULL);
	else
		log_set_journal(JOURNAL_SOCKET);
}

uint64_t
log_dropped(void)
{
	return dropped;
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

/* KEY=value, or the binary form when value holds a newline. */
static bool
put_field(char *dst, size_t size, size_t *n, const char *key, const char *value)
{
	size_t klen = strlen(key), vlen = strlen(value);
	uint64_t le = vlen;
	int i;

	if (memchr(value, '\n', vlen) == NULL) {
		if (*n + klen + 1 + vlen + 1 > size)
			return false;
		memcpy(dst + *n, key, klen);
		dst[*n + klen] = '=';
		memcpy(dst + *n + klen + 1, value, vlen);
		dst[*n + klen + 1 + vlen] = '\n';
		*n += klen + vlen + 2;
		return true;
	}
	if (*n + klen + 1 + 8 + vlen + 1 > size)
		return false;
	memcpy(dst + *n, key, klen);
	dst[*n + klen] = '\n';
	for (i = 0; i < 8; i++)
		dst[*n + klen + 1 + (size_t)i] = (char)((le >> (8 * i)) & 0xff);
	memcpy(dst + *n + klen + 9, value, vlen);
	dst[*n + klen + 9 + vlen] = '\n';
	*n += klen + vlen + 10;
	return true;
}

/* The worker this process is ("" when none), for every line. */
static char worker[12];

void
log_set_worker(int n)
{
	if (n < 0)
		worker[0] = '\0';
	else
		snprintf(worker, sizeof(worker), "%d", n);
}

size_t
log_journal_entry(char *dst, size_t size, enum log_level level,
    const char *message, const struct log_field *fields, size_t nfields)
{
	char priority[2] = { (char)('0' + level), '\0' };
	size_t n = 0, i;

	if (!put_field(dst, size, &n, "PRIORITY", priority) ||
	    !put_field(dst, size, &n, "SYSLOG_IDENTIFIER", "tcpd") ||
	    !put_field(dst, size, &n, "MESSAGE", message) ||
	    (worker[0] != '\0' && !put_field(dst, size, &n, "TCPD_WORKER", worker)))
		return 0;
	for (i = 0; i < nfields; i++)
		if (!put_field(dst, size, &n, fields[i].name, fields[i].value))
			return 0;
	return n;
}

/*
 * Never waits, with one syscall where one will do: a stream socket
 * (journald's stderr stream) is sent to with MSG_DONTWAIT; a regular file
 * is written; a pipe or terminal only when poll() says it has room, and a
 * line of at most PIPE_BUF bytes then goes in whole. False: not written.
 */
static bool
write_nowait(const char *line, size_t n)
{
	struct pollfd p = { .fd = STDERR_FILENO, .events = POLLOUT };
	ssize_t w;

	if (stderr_kind == STDERR_OTHER &&
	    (poll(&p, 1, 0) != 1 || !(p.revents & POLLOUT)))
		return false;
	do
		w = stderr_kind == STDERR_SOCKET ?
		    send(STDERR_FILENO, line, n, MSG_DONTWAIT | MSG_NOSIGNAL) :
		    write(STDERR_FILENO, line, n);
	while (w == -1 && errno == EINTR);
	return w == (ssize_t)n;
}

static bool
write_stderr(enum log_level level, const char *message)
{
	char line[2200];
	size_t n;

	if (stderr_to_journal) {
		n = (size_t)snprintf(line, sizeof(line), "<%d>%s\n", level, message);
	} else {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		n = strftime(line, sizeof(line), "%Y-%m-%dT%H:%M:%S", &tm);
		n += (size_t)snprintf(line + n, sizeof(line) - n, ".%03ldZ %s: %s\n",
		    ts.tv_nsec / 1000000, level_names[level], message);
	}
	if (n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	return write_nowait(line, n);
}

/* One line to the journal, else to stderr; false when neither took it. */
static bool
deliver(enum log_level level, const char *message, const struct log_field *fields,
    size_t nfields)
{
	char entry[4096];
	size_t n;

	if (journal_fd != -1 && (n = log_journal_entry(entry, sizeof(entry), level,
	    message, fields, nfields)) > 0 &&
	    send(journal_fd, entry, n, MSG_NOSIGNAL | MSG_DONTWAIT) == (ssize_t)n)
		return true;
	/* No journal, or it refused this entry (full): stderr may still take it. */
	return write_stderr(level, message);
}

void
log_fieldsv(enum log_level level, const struct log_field *fields, size_t nfields,
    const char *fmt, va_list ap)
{
	char message[2048];
	int saved = errno, n;

	if (!log_enabled(level))
		return;
	/* The log is reading again: first say how much it missed. */
	if (dropped > dropped_told) {
		uint64_t missed = dropped - dropped_told;

		snprintf(message, sizeof(message), "%llu log lines dropped: the log "
		    "was not reading", (unsigned long long)missed);
		if (deliver(LOG_LEVEL_WARNING, message, NULL, 0))
			dropped_told += missed;
	}
	errno = saved;
	n = worker[0] != '\0' ? snprintf(message, sizeof(message), "worker %s: ", worker) : 0;
	vsnprintf(message + n, sizeof(message) - (size_t)n, fmt, ap);
	if (!deliver(level, message, fields, nfields))
		dropped++;
	errno = saved;
}

void
log_fields(enum log_level level, const struct log_field *fields, size_t nfields,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_fieldsv(level, fields, nfields, fmt, ap);
	va_end(ap);
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_fieldsv(level, NULL, 0, fmt, ap);
	va_end(ap);
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

int
log_target_parse(const char *name, enum log_target *target)
{
	static const char *const names[] = {
		[LOG_TARGET_AUTO] = "auto",
		[LOG_TARGET_JOURNAL] = "journal",
		[LOG_TARGET_STDERR] = "stderr",
	};
	int i;

	for (i = 0; i <= LOG_TARGET_STDERR; i++) {
		if (strcmp(name, names[i]) == 0) {
			*target = (enum log_target)i;
			return 0;
		}
	}
	return -1;
}
