/* SPDX-License-Identifier: MIT */
#ifndef TCPD_BUF_H
#define TCPD_BUF_H

#include <stdarg.h>
#include <stddef.h>

/*
 * A byte queue: bytes are appended at end and consumed from start. Memory is
 * allocated on first use and released by buf_free(), so an idle connection
 * holds no heap buffer. The buffer never grows past max bytes of content.
 */
struct buf {
	char	*data;
	size_t	 start;		/* first unconsumed byte */
	size_t	 end;		/* one past the last byte */
	size_t	 cap;		/* allocated size of data */
	size_t	 max;		/* hard limit on buf_len() */
	/*
	 * The errno of the first append that failed since the buffer was
	 * initialised or freed, 0 if none: a writer of many small pieces can
	 * check once at the end.
	 */
	int	 error;
};

/* An empty buffer that will hold at most max bytes; allocates nothing. */
void	buf_init(struct buf *b, size_t max);

/* Releases the memory and clears error; the buffer stays usable and empty. */
void	buf_free(struct buf *b);

static inline size_t
buf_len(const struct buf *b)
{
	return b->end - b->start;
}

static inline const char *
buf_data(const struct buf *b)
{
	return b->data + b->start;
}

/*
 * Makes room for n more bytes and returns where to write them, or NULL with
 * errno ENOBUFS (over max) or ENOMEM. Call buf_commit() with what was written.
 */
char	*buf_reserve(struct buf *b, size_t n);
void	 buf_commit(struct buf *b, size_t n);

/* Appends n bytes; 0 on success, -1 with errno as for buf_reserve(). */
int	 buf_append(struct buf *b, const void *p, size_t n);

/* Appends printf-formatted text; 0 or -1 with errno as for buf_reserve(). */
int	 buf_appendf(struct buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vappendf(struct buf *b, const char *fmt, va_list ap)
	    __attribute__((format(printf, 2, 0)));

/* Drops the last n bytes (at most buf_len()): an append taken back. */
void	 buf_unappend(struct buf *b, size_t n);

/* Drops n bytes (at most buf_len()) from the front, keeping the memory. */
void	 buf_consume(struct buf *b, size_t n);

/* Releases the memory if the buffer is empty, so an idle owner holds none. */
void	 buf_shrink(struct buf *b);

#endif
