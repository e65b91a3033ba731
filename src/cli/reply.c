/* SPDX-License-Identifier: MIT */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cli/reply.h"
#include "tcpd/resp.h"

/* Reply lengths: a bulk may be as long as any buffer, arrays nested in arrays. */
#define BULK_MAX	INT64_MAX
#define ELEMENTS_MAX	INT64_MAX

/* A line type's line at buf[pos]: its end, resuming the search for CR at *scanned. */
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

/* RESP3's one-line values: null is "_", a boolean "t" or "f", a big number digits. */
static bool
line_is_valid(char type, const char *text, size_t n)
{
	size_t i = 0;

	switch (type) {
	case '_':
		return n == 0;
	case '#':
		return n == 1 && (text[0] == 't' || text[0] == 'f');
	case ',':
		return n > 0;
	case '(':
		if (n > 0 && text[0] == '-')
			i++;
		if (i == n)
			return false;
		for (; i < n; i++)
			if (text[i] < '0' || text[i] > '9')
				return false;
		return true;
	default:
		return true;
	}
}

/*
 * One element at buf[pos]: its end, or 0 for an aggregate header whose
 * elements follow. *counts is false for a whole attribute, which goes with
 * the value after it and is no element of its own.
 */
static ssize_t
element_end(struct reply_state *st, const char *buf, size_t len, size_t pos, bool *counts)
{
	char type = buf[pos];
	int64_t v, least = type == '$' || type == '*' ? -1 : 0;
	/* A map's and an attribute's count is of pairs. */
	int64_t most = type == '%' || type == '|' ? ELEMENTS_MAX / 2 : ELEMENTS_MAX;
	ssize_t n;

	*counts = true;
	switch (type) {
	case '+':
	case '-':
	case ',':
	case '(':
	case '#':
	case '_':
		if ((n = text_line_end(buf, len, pos, &st->scanned)) < 0)
			return n;
		if (!line_is_valid(type, buf + pos + 1, (size_t)n - pos - 3))
			return RESP_ERROR;
		return n;
	case ':':
		n = resp_read_int_line(buf + pos, len - pos, INT64_MIN, INT64_MAX, &v);
		return n < 0 ? n : (ssize_t)pos + n;
	case '$':
	case '!':
	case '=':
		if ((n = resp_read_int_line(buf + pos, len - pos, least, BULK_MAX, &v)) < 0)
			return n;
		if (v == -1)
			return (ssize_t)pos + n;
		/* A verbatim string starts with its format: "txt:". */
		if (type == '=' && v < 4)
			return RESP_ERROR;
		if (len - pos - (size_t)n < (uint64_t)v + 2)
			return RESP_INCOMPLETE;
		if (buf[pos + (size_t)n + (size_t)v] != '\r' ||
		    buf[pos + (size_t)n + (size_t)v + 1] != '\n' ||
		    (type == '=' && buf[pos + (size_t)n + 3] != ':'))
			return RESP_ERROR;
		return (ssize_t)(pos + (size_t)n + (size_t)v + 2);
	case '*':
	case '~':
	case '>':
	case '%':
	case '|':
		if ((n = resp_read_int_line(buf + pos, len - pos, least, most, &v)) < 0)
			return n;
		if (v <= 0) {
			*counts = type != '|';
			return (ssize_t)pos + n;
		}
		if (st->depth == REPLY_MAX_DEPTH)
			return RESP_ERROR;
		if (type == '|')
			st->attrs |= UINT64_C(1) << st->depth;
		else
			st->attrs &= ~(UINT64_C(1) << st->depth);
		st->left[st->depth++] = type == '%' || type == '|' ? 2 * v : v;
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
	bool counts;

	for (;;) {
		if (st->pos >= len)
			return RESP_INCOMPLETE;
		if ((end = element_end(st, buf, len, st->pos, &counts)) < 0) {
			if (end == RESP_ERROR)
				*st = (struct reply_state){ 0 };
			return end;
		}
		if (end == 0)
			continue;
		st->pos = (size_t)end;
		st->scanned = 0;
		/*
		 * A finished element may finish the aggregates that hold it; a
		 * finished attribute is no element, and the reply goes on after it.
		 */
		while (counts) {
			if (st->depth == 0) {
				*st = (struct reply_state){ 0 };
				return end;
			}
			if (--st->left[st->depth - 1] > 0)
				break;
			st->depth--;
			counts = !(st->attrs & UINT64_C(1) << st->depth);
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

static bool
is_bulk(char type)
{
	return type == '$' || type == '!' || type == '=';
}

static bool
is_aggregate(char type)
{
	return type == '*' || type == '~' || type == '>' || type == '%' || type == '|';
}

/*
 * The header of the validated element at buf[pos]: the offset after its
 * first line, its line's text length, and for the types that carry one
 * the number (a map's and an attribute's count of pairs).
 */
static size_t
header_at(const char *buf, size_t len, size_t pos, size_t *tlen, int64_t *n)
{
	size_t end;

	*n = 0;
	if (buf[pos] == ':' || is_bulk(buf[pos]) || is_aggregate(buf[pos]))
		end = pos + (size_t)resp_read_int_line(buf + pos, len - pos, INT64_MIN,
		    INT64_MAX, n);
	else
		end = (size_t)((const char *)memchr(buf + pos + 1, '\r', len - pos - 1) - buf) + 2;
	*tlen = end - pos - 3;
	return end;
}

static size_t skip_value(const char *buf, size_t len, size_t pos);

/* Past the attributes at buf[pos], if any: where the value they go with starts. */
static size_t
skip_attributes(const char *buf, size_t len, size_t pos)
{
	size_t tlen;
	int64_t n, i;

	while (buf[pos] == '|') {
		pos = header_at(buf, len, pos, &tlen, &n);
		for (i = 0; i < 2 * n; i++)
			pos = skip_value(buf, len, pos);
	}
	return pos;
}

/* Past the validated value at buf[pos], its attributes and elements included. */
static size_t
skip_value(const char *buf, size_t len, size_t pos)
{
	size_t tlen, end;
	int64_t n, i;

	pos = skip_attributes(buf, len, pos);
	end = header_at(buf, len, pos, &tlen, &n);
	if (is_bulk(buf[pos]))
		return n < 0 ? end : end + (size_t)n + 2;
	if (!is_aggregate(buf[pos]))
		return end;
	for (i = 0; i < (buf[pos] == '%' ? 2 * n : n); i++)
		end = skip_value(buf, len, end);
	return end;
}

char
reply_type(const char *buf, size_t len)
{
	return buf[skip_attributes(buf, len, 0)];
}

bool
reply_is_error(const char *buf, size_t len)
{
	char type = reply_type(buf, len);

	return type == '-' || type == '!';
}

size_t
reply_text(const char *buf, size_t len, const char **text)
{
	size_t pos = skip_attributes(buf, len, 0), tlen, end;
	int64_t n;

	end = header_at(buf, len, pos, &tlen, &n);
	if (is_aggregate(buf[pos]) || buf[pos] == '#' || buf[pos] == '_' ||
	    (is_bulk(buf[pos]) && n < 0)) {
		*text = buf + end;
		return 0;
	}
	if (!is_bulk(buf[pos])) {
		*text = buf + pos + 1;
		return tlen;
	}
	*text = buf + end + (buf[pos] == '=' ? 4 : 0);
	return (size_t)n - (buf[pos] == '=' ? 4 : 0);
}

/*
 * Whether redis-cli's terminal format takes more than one line for the
 * value at buf[pos]: a map's value that does starts on a line of its own.
 */
static bool
is_multiline(const char *buf, size_t len, size_t pos)
{
	size_t tlen, end;
	int64_t n;

	pos = skip_attributes(buf, len, pos);
	end = header_at(buf, len, pos, &tlen, &n);
	switch (buf[pos]) {
	case '*':
	case '~':
	case '>':
		return n > 1 || (n == 1 && is_multiline(buf, len, end));
	case '%':
		return n > 1 || (n == 1 && is_multiline(buf, len, skip_value(buf, len, end)));
	default:
		return false;
	}
}

/* An error's text as redis-cli shows it on a terminal: up to a NUL (printf's %s). */
static void
put_error(FILE *out, const char *text, size_t n, const char *eol)
{
	const char *nul = memchr(text, '\0', n);

	fputs("(error) ", out);
	fwrite(text, 1, nul != NULL ? (size_t)(nul - text) : n, out);
	fputs(eol, out);
}

/*
 * Prints the value at buf[pos], already validated, ending its last line with
 * eol (a map's key ends with " => " instead of a newline); returns the offset
 * after it. Printed as it goes: nested aggregates indent every line, so the
 * text can be tens of times the reply, and is never held whole.
 */
static size_t
format_at(FILE *out, const char *buf, size_t len, size_t pos, size_t indent,
    const char *eol)
{
	static const char *const empty[] = { ['*'] = "(empty array)", ['~'] = "(empty set)",
	    ['%'] = "(empty hash)", ['>'] = "(empty push)" };
	size_t tlen, width, i, count;
	int64_t n;
	size_t end, text;
	char sep;

	pos = skip_attributes(buf, len, pos);
	end = header_at(buf, len, pos, &tlen, &n);
	text = pos + 1;
	switch (buf[pos]) {
	case '+':
		fwrite(buf + text, 1, tlen, out);
		fputs(eol, out);
		return end;
	case '-':
		put_error(out, buf + text, tlen, eol);
		return end;
	case '!':
		put_error(out, buf + end, (size_t)n, eol);
		return end + (size_t)n + 2;
	case ':':
	case ',':
	case '(':
		fputs(buf[pos] == ':' ? "(integer) " : buf[pos] == ',' ? "(double) " :
		    "(big number) ", out);
		fwrite(buf + text, 1, tlen, out);
		fputs(eol, out);
		return end;
	case '#':
		fputs(buf[text] == 't' ? "(true)" : "(false)", out);
		fputs(eol, out);
		return end;
	case '_':
		fputs("(nil)", out);
		fputs(eol, out);
		return end;
	case '=':
		fwrite(buf + end + 4, 1, (size_t)n - 4, out);
		fputs(eol, out);
		return end + (size_t)n + 2;
	case '$':
		if (n == -1) {
			fputs("(nil)", out);
			fputs(eol, out);
			return end;
		}
		put_quoted(out, buf + end, (size_t)n);
		fputs(eol, out);
		return end + (size_t)n + 2;
	default:	/* * ~ % >, validated by reply_parse() */
		if (n == -1) {
			fputs("(nil)", out);
			fputs(eol, out);
			return end;
		}
		if (n == 0) {
			fputs(empty[(unsigned char)buf[pos]], out);
			fputs(eol, out);
			return end;
		}
		/* Numbers are right-aligned to the widest; nested lines indent past them. */
		sep = buf[pos] == '~' ? '~' : buf[pos] == '%' ? '#' : ')';
		count = (size_t)n;
		width = (size_t)snprintf(NULL, 0, "%zu", count);
		for (i = 0; i < count; i++) {
			bool last = i + 1 == count;

			if (i > 0)
				fprintf(out, "%*s", (int)indent, "");
			fprintf(out, "%*zu%c ", (int)width, i + 1, sep);
			if (buf[pos] != '%') {
				end = format_at(out, buf, len, end, indent + width + 2,
				    last ? eol : "\n");
				continue;
			}
			end = format_at(out, buf, len, end, indent + width + 2, " => ");
			if (is_multiline(buf, len, end))
				fprintf(out, "\n%*s", (int)(indent + width + 2), "");
			end = format_at(out, buf, len, end, indent + width + 2,
			    last ? eol : "\n");
		}
		return end;
	}
}

/*
 * redis-cli --raw: the bytes of each value, aggregate elements joined by
 * newlines, a map's key and value by a space.
 */
static size_t
plain_at(FILE *out, const char *buf, size_t len, size_t pos)
{
	size_t tlen, i;
	int64_t n;
	size_t end;

	pos = skip_attributes(buf, len, pos);
	end = header_at(buf, len, pos, &tlen, &n);
	switch (buf[pos]) {
	case '+':
	case ':':
	case ',':
	case '(':
		fwrite(buf + pos + 1, 1, tlen, out);
		return end;
	case '-':
		fwrite(buf + pos + 1, 1, tlen, out);
		putc('\n', out);
		return end;
	case '#':
		fputs(buf[pos + 1] == 't' ? "(true)" : "(false)", out);
		return end;
	case '_':
		return end;
	case '!':
		fwrite(buf + end, 1, (size_t)n, out);
		putc('\n', out);
		return end + (size_t)n + 2;
	case '=':
		fwrite(buf + end + 4, 1, (size_t)n - 4, out);
		return end + (size_t)n + 2;
	case '$':
		if (n == -1)
			return end;
		fwrite(buf + end, 1, (size_t)n, out);
		return end + (size_t)n + 2;
	default:	/* * ~ > % */
		for (i = 0; n > 0 && i < (size_t)n; i++) {
			if (i > 0)
				putc('\n', out);
			end = plain_at(out, buf, len, end);
			if (buf[pos] == '%') {
				putc(' ', out);
				end = plain_at(out, buf, len, end);
			}
		}
		return end;
	}
}

int
reply_print(FILE *out, const char *reply, size_t len, enum reply_style style)
{
	if (style == REPLY_TTY) {
		format_at(out, reply, len, 0, 0, "\n");
	} else {
		plain_at(out, reply, len, 0);
		if (style == REPLY_PLAIN)
			putc('\n', out);
	}
	return ferror(out) ? -1 : 0;
}
