/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli/reply.h"
#include "tcpd/resp.h"

/* Reply lengths: a bulk may be as long as any buffer, arrays nested in arrays. */
#define BULK_MAX	INT64_MAX
#define ELEMENTS_MAX	INT64_MAX

/* A +/- line at buf[pos]: its end, resuming the search for CR at *scanned. */
static ssize_t
text_line_end(const char *buf, size_t len, size_t pos, size_t *scanned)
{
	const char *cr;

	if (*scanned < pos + 1)
		*scanned = pos + 1;
	cr = memchr(buf + *scanned, '\r', len - *scanned);
	if (cr == NULL || (size_t)(cr - buf) + 1 == len) {
		*scanned = cr == NULL ? len : (size_t)(cr - buf);
		return RESP_INCOMPLETE;
	}
	if (cr[1] != '\n')
		return RESP_ERROR;
	return cr - buf + 2;
}

/* One element at buf[pos]: its end, or 0 for an array header whose elements follow. */
static ssize_t
element_end(struct reply_state *st, const char *buf, size_t len, size_t pos)
{
	ssize_t n;
	int64_t v;

	switch (buf[pos]) {
	case '+':
	case '-':
		return text_line_end(buf, len, pos, &st->scanned);
	case ':':
		n = resp_read_int_line(buf + pos, len - pos, INT64_MIN, INT64_MAX, &v);
		return n < 0 ? n : (ssize_t)pos + n;
	case '$':
		if ((n = resp_read_int_line(buf + pos, len - pos, -1, BULK_MAX, &v)) < 0)
			return n;
		if (v == -1)
			return (ssize_t)pos + n;
		if (len - pos - (size_t)n < (uint64_t)v + 2)
			return RESP_INCOMPLETE;
		if (buf[pos + (size_t)n + (size_t)v] != '\r' ||
		    buf[pos + (size_t)n + (size_t)v + 1] != '\n')
			return RESP_ERROR;
		return (ssize_t)(pos + (size_t)n + (size_t)v + 2);
	case '*':
		if ((n = resp_read_int_line(buf + pos, len - pos, -1, ELEMENTS_MAX, &v)) < 0)
			return n;
		if (v <= 0)
			return (ssize_t)pos + n;
		if (st->depth == REPLY_MAX_DEPTH)
			return RESP_ERROR;
		st->left[st->depth++] = v;
		st->pos = pos + (size_t)n;
		return 0;
	default:
		return RESP_ERROR;
	}
}

ssize_t
reply_parse(struct reply_state *st, const char *buf, size_t len)
{
	ssize_t end;

	for (;;) {
		if (st->pos >= len)
			return RESP_INCOMPLETE;
		if ((end = element_end(st, buf, len, st->pos)) < 0) {
			if (end == RESP_ERROR)
				*st = (struct reply_state){ 0 };
			return end;
		}
		if (end == 0)
			continue;
		st->pos = (size_t)end;
		st->scanned = 0;
		/* A finished element may finish the arrays that hold it. */
		while (st->depth > 0 && --st->left[st->depth - 1] == 0)
			st->depth--;
		if (st->depth == 0) {
			*st = (struct reply_state){ 0 };
			return end;
		}
	}
}

ssize_t
reply_length(const char *buf, size_t len)
{
	struct reply_state st = { 0 };

	return reply_parse(&st, buf, len);
}

enum reply_peer
reply_guess_peer(const char *buf, size_t len)
{
	static const char http[] = "HTTP/";

	if (len > 0 && ispunct((unsigned char)buf[0]))
		return REPLY_PEER_RESP;
	if (len > 0 && memcmp(buf, http, len < sizeof(http) - 1 ? len : sizeof(http) - 1) == 0)
		return REPLY_PEER_HTTP;
	return REPLY_PEER_RAW;
}

bool
reply_is_error(const char *buf)
{
	return buf[0] == '-';
}

/* redis-cli's quoting of bulk strings. */
static void
put_quoted(FILE *out, const char *s, size_t n)
{
	size_t i;

	putc('"', out);
	for (i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\\': fputs("\\\\", out); break;
		case '"': fputs("\\\"", out); break;
		case '\n': fputs("\\n", out); break;
		case '\r': fputs("\\r", out); break;
		case '\t': fputs("\\t", out); break;
		case '\a': fputs("\\a", out); break;
		case '\b': fputs("\\b", out); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				putc(c, out);
			else
				fprintf(out, "\\x%02x", c);
			break;
		}
	}
	putc('"', out);
}

/*
 * The header of the validated element at buf[pos]: the offset after its
 * first line, its text's length, and for $, * and : the number.
 */
static size_t
header_at(const char *buf, size_t len, size_t pos, size_t *tlen, int64_t *n)
{
	size_t end;

	*n = 0;
	if (buf[pos] == '$' || buf[pos] == '*' || buf[pos] == ':')
		end = pos + (size_t)resp_read_int_line(buf + pos, len - pos, INT64_MIN,
		    INT64_MAX, n);
	else
		end = (size_t)((const char *)memchr(buf + pos + 1, '\r', len - pos - 1) - buf) + 2;
	*tlen = end - pos - 3;
	return end;
}

/*
 * Prints the reply at buf[pos], already validated; returns the offset after
 * it. Printed as it goes: nested arrays indent every line, so the text can
 * be tens of times the reply, and is never held whole.
 */
static size_t
format_at(FILE *out, const char *buf, size_t len, size_t pos, size_t indent)
{
	size_t text = pos + 1, tlen, width, i;
	int64_t n;
	size_t end = header_at(buf, len, pos, &tlen, &n);

	switch (buf[pos]) {
	case '+':
		fwrite(buf + text, 1, tlen, out);
		putc('\n', out);
		return end;
	case '-':
		fputs("(error) ", out);
		fwrite(buf + text, 1, tlen, out);
		putc('\n', out);
		return end;
	case ':':
		fputs("(integer) ", out);
		fwrite(buf + text, 1, tlen, out);
		putc('\n', out);
		return end;
	case '$':
		if (n == -1) {
			fputs("(nil)\n", out);
			return end;
		}
		put_quoted(out, buf + end, (size_t)n);
		putc('\n', out);
		return end + (size_t)n + 2;
	default:	/* '*', validated by reply_parse() */
		if (n == -1) {
			fputs("(nil)\n", out);
			return end;
		}
		if (n == 0) {
			fputs("(empty array)\n", out);
			return end;
		}
		/* Numbers are right-aligned to the widest; nested lines indent past them. */
		width = (size_t)snprintf(NULL, 0, "%lld", (long long)n);
		for (i = 0; i < (size_t)n; i++) {
			if (i > 0)
				fprintf(out, "%*s", (int)indent, "");
			fprintf(out, "%*zu) ", (int)width, i + 1);
			end = format_at(out, buf, len, end, indent + width + 2);
		}
		return end;
	}
}

/* redis-cli --raw: the bytes of each value, array elements joined by newlines. */
static size_t
plain_at(FILE *out, const char *buf, size_t len, size_t pos)
{
	size_t tlen, i;
	int64_t n;
	size_t end = header_at(buf, len, pos, &tlen, &n);

	switch (buf[pos]) {
	case '+':
	case ':':
		fwrite(buf + pos + 1, 1, tlen, out);
		return end;
	case '-':
		fwrite(buf + pos + 1, 1, tlen, out);
		putc('\n', out);
		return end;
	case '$':
		if (n == -1)
			return end;
		fwrite(buf + end, 1, (size_t)n, out);
		return end + (size_t)n + 2;
	default:	/* '*' */
		for (i = 0; n > 0 && i < (size_t)n; i++) {
			if (i > 0)
				putc('\n', out);
			end = plain_at(out, buf, len, end);
		}
		return end;
	}
}

int
reply_print(FILE *out, const char *reply, size_t len, enum reply_style style)
{
	if (style == REPLY_TTY) {
		format_at(out, reply, len, 0, 0);
	} else {
		plain_at(out, reply, len, 0);
		if (style == REPLY_PLAIN)
			putc('\n', out);
	}
	return ferror(out) ? -1 : 0;
}
