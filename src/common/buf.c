/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tcpd/buf.h"

/* Small first allocation: most replies and partial requests are tiny. */
#define BUF_MIN_CAP 256

void
buf_init(struct buf *b, size_t max)
{
	*b = (struct buf){ .max = max };
}

void
buf_free(struct buf *b)
{
	free(b->data);
	b->data = NULL;
	b->start = b->end = b->cap = 0;
	b->error = 0;
}

char *
buf_reserve(struct buf *b, size_t n)
{
	size_t len = buf_len(b);
	size_t need, cap;
	char *p;

	if (n > b->max - len) {
		errno = b->error = ENOBUFS;
		return NULL;
	}
	if (b->cap - b->end >= n)
		return b->data + b->end;

	/*
	 * Compact only when at least half the allocation is consumed space, so
	 * each memmove is paid for by as many appended bytes.
	 */
	need = len + n;
	if (need <= b->cap && b->start >= b->cap / 2) {
		memmove(b->data, b->data + b->start, len);
		b->start = 0;
		b->end = len;
		return b->data + b->end;
	}

	cap = b->cap ? b->cap * 2 : BUF_MIN_CAP;
	while (cap < need)
		cap *= 2;
	if (cap > b->max)
		cap = b->max;
	if ((p = malloc(cap)) == NULL) {
		b->error = errno;
		return NULL;
	}
	if (len > 0)
		memcpy(p, b->data + b->start, len);
	free(b->data);
	b->data = p;
	b->cap = cap;
	b->start = 0;
	b->end = len;
	return b->data + b->end;
}

void
buf_commit(struct buf *b, size_t n)
{
	b->end += n;
}

int
buf_append(struct buf *b, const void *p, size_t n)
{
	char *dst;

	if (n == 0)
		return 0;
	if ((dst = buf_reserve(b, n)) == NULL)
		return -1;
	memcpy(dst, p, n);
	b->end += n;
	return 0;
}

int
buf_vappendf(struct buf *b, const char *fmt, va_list ap)
{
	char small[256], *dst;
	va_list ap2;
	int n;

	va_copy(ap2, ap);
	n = vsnprintf(small, sizeof(small), fmt, ap2);
	va_end(ap2);
	if (n < 0)
		return -1;
	if ((size_t)n < sizeof(small))
		return buf_append(b, small, (size_t)n);
	if ((dst = buf_reserve(b, (size_t)n + 1)) == NULL)
		return -1;
	vsnprintf(dst, (size_t)n + 1, fmt, ap);
	b->end += (size_t)n;
	return 0;
}

int
buf_appendf(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = buf_vappendf(b, fmt, ap);
	va_end(ap);
	return rc;
}

void
buf_consume(struct buf *b, size_t n)
{
	if (n >= buf_len(b))
		b->start = b->end = 0;
	else
		b->start += n;
}

void
buf_shrink(struct buf *b)
{
	if (buf_len(b) == 0)
		buf_free(b);
}

void
buf_unappend(struct buf *b, size_t n)
{
	b->end -= n < buf_len(b) ? n : buf_len(b);
}
