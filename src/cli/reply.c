/* SPDX-License-Identifier: MIT */
#include <stdio.h>
#include <string.h>

#include "cli/reply.h"
#include "tcpd/buf.h"
#include "tcpd/resp.h"

/* "<type><integer>\r\n" or "<type><text>\r\n": returns the offset after it. */
static ssize_t
line_end(const char *buf, size_t len, size_t pos)
{
	const char *cr = memchr(buf + pos, '\r', len - pos);

	if (cr == NULL || (size_t)(cr - buf) + 1 >= len)
		return RESP_INCOMPLETE;
	if (cr[1] != '\n')
		return RESP_ERROR;
	return cr - buf + 2;
}

static int
read_int(const char *s, size_t n, long long *v)
{
	size_t i = 0;
	bool neg = false;

	*v = 0;
	if (n > 0 && s[0] == '-') {
		neg = true;
		i = 1;
	}
	if (i == n || n > 20)
		return -1;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		*v = *v * 10 + (s[i] - '0');
	}
	if (neg)
		*v = -*v;
	return 0;
}

static ssize_t
length_at(const char *buf, size_t len, size_t pos, int depth)
{
	ssize_t end;
	long long n, i;

	if (pos >= len)
		return RESP_INCOMPLETE;
	if (depth > REPLY_MAX_DEPTH)
		return RESP_ERROR;
	if ((end = line_end(buf, len, pos)) < 0)
		return end;
	switch (buf[pos]) {
	case '+':
	case '-':
		return end;
	case ':':
		return read_int(buf + pos + 1, (size_t)end - pos - 3, &n) == 0 ?
		    end : RESP_ERROR;
	case '$':
		if (read_int(buf + pos + 1, (size_t)end - pos - 3, &n) == -1 || n < -1)
			return RESP_ERROR;
		if (n == -1)
			return end;
		if (len - (size_t)end < (size_t)n + 2)
			return RESP_INCOMPLETE;
		if (buf[end + n] != '\r' || buf[end + n + 1] != '\n')
			return RESP_ERROR;
		return end + n + 2;
	case '*':
		if (read_int(buf + pos + 1, (size_t)end - pos - 3, &n) == -1 || n < -1)
			return RESP_ERROR;
		for (i = 0; i < n; i++)
			if ((end = length_at(buf, len, (size_t)end, depth + 1)) < 0)
				return end;
		return end;
	default:
		return RESP_ERROR;
	}
}

ssize_t
reply_length(const char *buf, size_t len)
{
	return length_at(buf, len, 0, 0);
}

bool
reply_is_error(const char *buf)
{
	return buf[0] == '-';
}

/* redis-cli's quoting of bulk strings. */
static int
add_quoted(struct buf *out, const char *s, size_t n)
{
	size_t i;
	int rc = buf_append(out, "\"", 1);

	for (i = 0; i < n && rc == 0; i++) {
		unsigned char c = (unsigned char)s[i];

		switch (c) {
		case '\\': rc = buf_append(out, "\\\\", 2); break;
		case '"': rc = buf_append(out, "\\\"", 2); break;
		case '\n': rc = buf_append(out, "\\n", 2); break;
		case '\r': rc = buf_append(out, "\\r", 2); break;
		case '\t': rc = buf_append(out, "\\t", 2); break;
		case '\a': rc = buf_append(out, "\\a", 2); break;
		case '\b': rc = buf_append(out, "\\b", 2); break;
		default:
			if (c >= 0x20 && c < 0x7f)
				rc = buf_append(out, s + i, 1);
			else
				rc = buf_appendf(out, "\\x%02x", c);
			break;
		}
	}
	return rc == 0 ? buf_append(out, "\"", 1) : rc;
}

/* Formats the reply at buf[pos], already validated; returns the offset after it. */
static size_t
format_at(struct buf *out, const char *buf, size_t len, size_t pos, size_t indent,
    int *rc)
{
	size_t end = (size_t)line_end(buf, len, pos), text = pos + 1;
	size_t tlen = end - pos - 3, width, i;
	long long n;

	switch (buf[pos]) {
	case '+':
		*rc |= buf_append(out, buf + text, tlen);
		*rc |= buf_append(out, "\n", 1);
		return end;
	case '-':
		*rc |= buf_appendf(out, "(error) %.*s\n", (int)tlen, buf + text);
		return end;
	case ':':
		*rc |= buf_appendf(out, "(integer) %.*s\n", (int)tlen, buf + text);
		return end;
	case '$':
		read_int(buf + text, tlen, &n);
		if (n == -1) {
			*rc |= buf_append(out, "(nil)\n", 6);
			return end;
		}
		*rc |= add_quoted(out, buf + end, (size_t)n);
		*rc |= buf_append(out, "\n", 1);
		return end + (size_t)n + 2;
	default:	/* '*', validated by reply_length() */
		read_int(buf + text, tlen, &n);
		if (n == -1) {
			*rc |= buf_append(out, "(nil)\n", 6);
			return end;
		}
		if (n == 0) {
			*rc |= buf_append(out, "(empty array)\n", 14);
			return end;
		}
		/* Numbers are right-aligned to the widest; nested lines indent past them. */
		width = (size_t)snprintf(NULL, 0, "%lld", n);
		for (i = 0; i < (size_t)n; i++) {
			if (i > 0)
				*rc |= buf_appendf(out, "%*s", (int)indent, "");
			*rc |= buf_appendf(out, "%*zu) ", (int)width, i + 1);
			end = format_at(out, buf, len, end, indent + width + 2, rc);
		}
		return end;
	}
}

int
reply_format(struct buf *out, const char *reply, size_t len)
{
	int rc = 0;

	format_at(out, reply, len, 0, 0, &rc);
	return rc == 0 ? 0 : -1;
}
