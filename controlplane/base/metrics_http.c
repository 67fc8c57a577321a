/* The Prometheus endpoint (include/metrics_http.h): the request-head parser (sans I/O, the
 * fuzz target's), and the server: one thread, one poll loop over a listener, an eventfd that
 * stops it and at most METRICS_HTTP_MAX_CONNS non-blocking connections, plain or TLS. The
 * thread reads the registry and nothing else of the appliance's; it never logs (the log is
 * the control thread's): what happens is counted in its stats. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "metrics_http.h"
#include "tls_policy.h"

#define METHOD_MAX 16	 /* longer than any we know: 405 without reading on */
#define VERSION_LEN 8	 /* "HTTP/1.1" */
#define LINGER_MS 2000	 /* after a last answer, for the client's close */
#define LINGER_MAX 65536 /* bytes discarded meanwhile */
#define ACCEPTS_PER_WAKE 64
#define ACCEPT_PAUSE_MS 1000 /* out of descriptors: try again later, not in a busy loop */

/* ---- the parser ---- */

static bool tchar(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		(c && strchr("!#$%&'*+-.^_`|~", c));
}

/* A request target's bytes: visible ASCII (RFC 3986 has no room for more). */
static bool target_char(unsigned char c)
{
	return c > 0x20 && c < 0x7f;
}

/* A field value's bytes: visible, obs-text, SP and HT; no CTL (NUL, CR, LF, DEL...). */
static bool field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* "HTTP/" DIGIT "." DIGIT, byte @k of it. */
static bool version_char(size_t k, unsigned char c)
{
	if (k < 5)
		return c == (unsigned char)"HTTP/"[k];
	if (k == 6)
		return c == '.';
	return c >= '0' && c <= '9';
}

static bool name_is(const char *s, size_t n, const char *name)
{
	return strlen(name) == n && !strncasecmp(s, name, n);
}

/* The path of an origin-form ("/p?q") or absolute-form ("http://host/p") target: 0 or -400. */
static int target_path(const char *t, size_t n, struct metrics_http_req *req)
{
	size_t skip = 0, k;

	if (t[0] != '/') {
		if (n > 7 && !strncasecmp(t, "http://", 7))
			skip = 7;
		else if (n > 8 && !strncasecmp(t, "https://", 8))
			skip = 8;
		else
			return -400; /* the asterisk and authority forms are not for GET */
		for (k = skip; k < n && t[k] != '/' && t[k] != '?' && t[k] != '#'; k++)
			;
		if (k == skip)
			return -400; /* no host */
		t += k;
		n -= k;
	}
	for (k = 0; k < n && t[k] != '?' && t[k] != '#'; k++)
		;
	if (k == 0) {
		strcpy(req->path, "/");
	} else {
		memcpy(req->path, t, k);
		req->path[k] = '\0';
	}
	return 0;
}

/* The request line @s (@n bytes, its CRLF off), whole or the start of one (@whole false):
 * 0 when nothing is wrong so far, or a negative status. */
static int request_line(const char *s, size_t n, bool whole, struct metrics_http_req *req)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, m, t, tn, v;
	int rc;

	while (i < n && tchar(u[i]))
		i++;
	m = i;
	if (m > METHOD_MAX)
		return -405;
	if (i == n)
		return whole ? -400 : 0;
	if (u[i] != ' ' || m == 0)
		return -400;
	t = ++i;
	while (i < n && target_char(u[i]))
		i++;
	tn = i - t;
	if (tn > METRICS_HTTP_MAX_URI)
		return -414;
	if (i == n)
		return whole ? -400 : 0;
	if (u[i] != ' ' || tn == 0)
		return -400;
	v = ++i;
	for (; i < n; i++)
		if (i - v >= VERSION_LEN || !version_char(i - v, u[i]))
			return -400;
	if (!whole)
		return 0;
	if (n - v != VERSION_LEN)
		return -400;
	if (s[v + 5] != '1')
		return -505; /* HTTP/0.9, 2 and 3 are not spoken here; 1.x is 1.1 (RFC 9110 2.5) */
	req->minor = s[v + 7] - '0';
	if (m == 3 && !memcmp(s, "GET", 3))
		req->method = METRICS_HTTP_GET;
	else if (m == 4 && !memcmp(s, "HEAD", 4))
		req->method = METRICS_HTTP_HEAD;
	else
		return -405;
	rc = target_path(s + t, tn, req);
	return rc;
}

struct head {
	int hosts;
	bool close, keep_alive;
};

static void connection_tokens(const char *s, size_t n, struct head *h)
{
	size_t i = 0, a, b;

	while (i < n) {
		for (a = i; a < n && (s[a] == ' ' || s[a] == '\t' || s[a] == ','); a++)
			;
		for (b = a; b < n && s[b] != ','; b++)
			;
		i = b;
		while (b > a && (s[b - 1] == ' ' || s[b - 1] == '\t'))
			b--;
		if (name_is(s + a, b - a, "close"))
			h->close = true;
		else if (name_is(s + a, b - a, "keep-alive"))
			h->keep_alive = true;
	}
}

/* One header field line (its CRLF off): 0 or -400. */
static int header_line(const char *s, size_t n, struct head *h)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0, v, e;

	while (i < n && tchar(u[i]))
		i++;
	/* no name, space before the colon, or obs-fold (a line that starts with a space) */
	if (i == 0 || i == n || u[i] != ':')
		return -400;
	for (v = i + 1; v < n && (u[v] == ' ' || u[v] == '\t'); v++)
		;
	for (e = n; e > v && (u[e - 1] == ' ' || u[e - 1] == '\t'); e--)
		;
	for (size_t k = v; k < e; k++)
		if (!field_char(u[k]))
			return -400;
	if (name_is(s, i, "host")) {
		if (++h->hosts > 1)
			return -400;
	} else if (name_is(s, i, "connection")) {
		connection_tokens(s + v, e - v, h);
	} else if (name_is(s, i, "content-length")) {
		/* a body we would not read would be taken for the next request: refused */
		if (e == v)
			return -400;
		for (size_t k = v; k < e; k++)
			if (u[k] != '0')
				return -400;
	} else if (name_is(s, i, "transfer-encoding")) {
		return -400;
	}
	return 0;
}

int metrics_http_parse(const char *buf, size_t len, struct metrics_http_req *req)
{
	struct head h = { 0 };
	const char *lf;
	size_t off = 0, n, end;
	int rc;

	req->method = METRICS_HTTP_GET;
	req->path[0] = '\0';
	req->minor = 0;
	req->keep_alive = false;
	/* one empty line before a request is tolerated (RFC 9112 2.2): a client's stray CRLF */
	if (len && buf[0] == '\n') {
		off = 1;
	} else if (len && buf[0] == '\r') {
		if (len == 1)
			return 0;
		if (buf[1] != '\n')
			return -400;
		off = 2;
	}
	lf = memchr(buf + off, '\n', len - off);
	if (!lf) {
		n = len - off;
		if (n && buf[len - 1] == '\r')
			n--; /* its LF may be next */
		rc = request_line(buf + off, n, false, req);
		return rc ? rc : len >= METRICS_HTTP_MAX_HEAD ? -431 : 0;
	}
	n = (size_t)(lf - (buf + off));
	if (n && lf[-1] == '\r')
		n--;
	rc = request_line(buf + off, n, true, req);
	if (rc)
		return rc;
	for (off = (size_t)(lf + 1 - buf);; off = end) {
		lf = memchr(buf + off, '\n', len - off);
		if (!lf)
			return len >= METRICS_HTTP_MAX_HEAD ? -431 : 0;
		end = (size_t)(lf + 1 - buf);
		if (end > METRICS_HTTP_MAX_HEAD)
			return -431;
		n = (size_t)(lf - (buf + off));
		if (n && lf[-1] == '\r')
			n--;
		if (n == 0)
			break;
		rc = header_line(buf + off, n, &h);
		if (rc)
			return rc;
	}
	if (req->minor >= 1 && h.hosts != 1)
		return -400; /* RFC 9112 3.2: a 1.1 request without its Host */
	req->keep_alive = req->minor >= 1 ? !h.close : h.keep_alive && !h.close;
	return (int)end;
}

/* ---- the server ---- */

/* HANDSHAKE: TLS under way; READ: waiting for, or reading, a request head; WRITE: an answer
 * going out; LINGER: the last answer is out and our side shut: reading what the client still
 * sends until it closes, so that our close does not reset the answer away. */
enum conn_state { C_FREE, C_HANDSHAKE, C_READ, C_WRITE, C_LINGER };

struct conn {
	enum conn_state state;
	int fd;
	SSL *ssl;	  /* NULL over plain HTTP */
	short events;	  /* what poll waits for */
	bool close_after; /* the answer going out is the last */
	unsigned requests;
	uint64_t deadline; /* ms, monotonic: the current state's */
	uint64_t idle_seq; /* when it last became idle: the oldest is closed first */
	char *out;
	size_t out_len, out_off;
	size_t discarded; /* LINGER */
	size_t in_len;
	char in[METRICS_HTTP_MAX_HEAD];
};

struct metrics_http {
	struct metrics_registry *reg;
	SSL_CTX *tls; /* NULL: plain HTTP */
	int lfd, efd;
	uint16_t port;
	int n_allow;
	uint32_t allow_net[METRICS_HTTP_MAX_ALLOW], allow_mask[METRICS_HTTP_MAX_ALLOW];
	pthread_t thread;
	uint64_t seq;
	uint64_t accept_pause_until;
	unsigned n_conns;
	struct metrics_http_stats st; /* written by the thread, read atomically */
	struct conn conns[METRICS_HTTP_MAX_CONNS];
};

#define STAT_ADD(h, f, n) __atomic_fetch_add(&(h)->st.f, (n), __ATOMIC_RELAXED)

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void conn_close(struct metrics_http *h, struct conn *c)
{
	if (c->ssl) {
		SSL_free(c->ssl); /* no close_notify: the answer, if any, went with LINGER */
		ERR_clear_error();
	}
	close(c->fd);
	free(c->out);
	c->ssl = NULL;
	c->out = NULL;
	c->state = C_FREE;
	h->n_conns--;
	__atomic_store_n(&h->st.connections_now, h->n_conns, __ATOMIC_RELAXED);
}

/* Up to @room bytes: their count, 0 when none now (c->events says what to wait for), -1 when
 * the connection is gone. */
static ssize_t conn_read(struct conn *c, char *dst, size_t room)
{
	ssize_t n;

	if (c->ssl) {
		int r, e;

		ERR_clear_error();
		r = SSL_read(c->ssl, dst, (int)room);
		if (r > 0)
			return r;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			c->events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return 0;
		}
		return -1;
	}
	n = recv(c->fd, dst, room, 0);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		c->events = POLLIN;
		return 0;
	}
	return -1;
}

static ssize_t conn_write(struct conn *c, const char *src, size_t len)
{
	ssize_t n;

	if (c->ssl) {
		int r, e;

		ERR_clear_error();
		r = SSL_write(c->ssl, src, len > INT32_MAX ? INT32_MAX : (int)len);
		if (r > 0)
			return r;
		e = SSL_get_error(c->ssl, r);
		if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
			c->events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
			return 0;
		}
		return -1;
	}
	n = send(c->fd, src, len, MSG_NOSIGNAL);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
		c->events = POLLOUT;
		return 0;
	}
	return -1;
}

static const char *status_text(int status)
{
	switch (status) {
	case 200:
		return "OK";
	case 400:
		return "Bad Request";
	case 404:
		return "Not Found";
	case 405:
		return "Method Not Allowed";
	case 414:
		return "URI Too Long";
	case 431:
		return "Request Header Fields Too Large";
	case 505:
		return "HTTP Version Not Supported";
	default:
		return "Internal Server Error";
	}
}

static const char index_html[] =
	"<!DOCTYPE html>\n<html><head><title>Edge metrics</title></head>\n"
	"<body><h1>Edge metrics</h1><p><a href=\"/metrics\">/metrics</a></p></body></html>\n";

#define PROM_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* The registry in the exposition format, into a buffer of ours: 0 or -1. */
static int render_metrics(struct metrics_http *h, char **body, size_t *len)
{
	FILE *f = open_memstream(body, len);
	int rc;

	if (!f)
		return -1;
	rc = metrics_write_prometheus(h->reg, f);
	if (fclose(f) != 0 || rc < 0) {
		free(*body);
		*body = NULL;
		return -1;
	}
	return 0;
}

/* The answer to a parse result @rc (a head's length or a negative status) into c->out. */
static void respond(struct metrics_http *h, struct conn *c, int rc,
	const struct metrics_http_req *req)
{
	char head[320], *body = NULL, text[64];
	const char *ctype = "text/plain; charset=utf-8", *extra = "", *conn = "";
	const char *content = NULL;
	size_t blen = 0, hlen;
	int status = rc < 0 ? -rc : 200;
	bool send_body = rc < 0 || req->method == METRICS_HTTP_GET;

	if (rc < 0) {
		STAT_ADD(h, bad_requests, 1);
		if (status == 405)
			extra = "Allow: GET, HEAD\r\n";
	} else if (!strcmp(req->path, "/metrics")) {
		if (render_metrics(h, &body, &blen) == 0) {
			ctype = PROM_TYPE;
			content = body;
			STAT_ADD(h, scrapes, 1);
		} else {
			status = 500;
		}
	} else if (!strcmp(req->path, "/")) {
		ctype = "text/html; charset=utf-8";
		content = index_html;
		blen = sizeof(index_html) - 1;
	} else {
		status = 404;
		STAT_ADD(h, not_found, 1);
	}
	if (!content) {
		blen = (size_t)snprintf(text, sizeof(text), "%s\n", status_text(status));
		content = text;
	}
	if (status != 200 && status != 404)
		c->close_after = true; /* a request we did not read to its end */
	if (c->close_after)
		conn = "Connection: close\r\n";
	else if (req->minor == 0)
		conn = "Connection: keep-alive\r\n";
	hlen = (size_t)snprintf(head, sizeof(head),
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\n%s%s\r\n",
		status, status_text(status), ctype, blen, extra, conn);
	if (!send_body)
		blen = 0;
	c->out = malloc(hlen + blen);
	if (c->out) {
		memcpy(c->out, head, hlen);
		memcpy(c->out + hlen, content, blen);
		c->out_len = hlen + blen;
	} else {
		c->out_len = 0; /* nothing to say: the connection closes */
		c->close_after = true;
	}
	c->out_off = 0;
	free(body);
}

static void linger_start(struct conn *c, uint64_t now)
{
	if (c->ssl) {
		ERR_clear_error();
		SSL_shutdown(c->ssl); /* close_notify, best effort: not waited for */
		ERR_clear_error();
	}
	shutdown(c->fd, SHUT_WR);
	c->state = C_LINGER;
	c->events = POLLIN;
	c->deadline = now + LINGER_MS;
	c->discarded = 0;
}

/* Each step returns true when @c moved to another state to run, false when it waits (or
 * closed). */
static bool step_handshake(struct metrics_http *h, struct conn *c)
{
	int r, e;

	ERR_clear_error();
	r = SSL_do_handshake(c->ssl);
	if (r == 1) {
		c->state = C_READ;
		return true;
	}
	e = SSL_get_error(c->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		c->events = e == SSL_ERROR_WANT_READ ? POLLIN : POLLOUT;
		return false;
	}
	/* a TLS error (plain HTTP on this port, the client refusing our certificate); a
	 * client that only connected and left is not one */
	if (e == SSL_ERROR_SSL)
		STAT_ADD(h, tls_failures, 1);
	conn_close(h, c);
	return false;
}

static bool step_read(struct metrics_http *h, struct conn *c, uint64_t now)
{
	struct metrics_http_req req;
	ssize_t n;
	int rc;

	for (;;) {
		if (c->in_len) {
			rc = metrics_http_parse(c->in, c->in_len, &req);
			if (rc != 0)
				break;
		}
		n = conn_read(c, c->in + c->in_len, sizeof(c->in) - c->in_len);
		if (n == 0)
			return false;
		if (n < 0) {
			conn_close(h, c);
			return false;
		}
		/* a kept-alive connection's next head: its clock starts with its first byte (the
		 * first request's started at accept, the TLS handshake included) */
		if (c->in_len == 0 && c->requests)
			c->deadline = now + METRICS_HTTP_HEAD_MS;
		c->in_len += (size_t)n;
	}
	c->requests++;
	c->close_after = rc < 0 || !req.keep_alive || c->requests >= METRICS_HTTP_MAX_REQUESTS;
	respond(h, c, rc, &req);
	if (rc > 0) {
		c->in_len -= (size_t)rc; /* what follows is the next request */
		memmove(c->in, c->in + rc, c->in_len);
	} else {
		c->in_len = 0;
	}
	c->state = C_WRITE;
	c->deadline = now + METRICS_HTTP_WRITE_MS;
	return true;
}

static bool step_write(struct metrics_http *h, struct conn *c, uint64_t now)
{
	while (c->out_off < c->out_len) {
		ssize_t n = conn_write(c, c->out + c->out_off, c->out_len - c->out_off);

		if (n == 0)
			return false;
		if (n < 0) {
			conn_close(h, c);
			return false;
		}
		c->out_off += (size_t)n;
		STAT_ADD(h, bytes_out, (uint64_t)n);
	}
	free(c->out);
	c->out = NULL;
	if (c->close_after) {
		linger_start(c, now);
		return true;
	}
	c->state = C_READ;
	c->deadline = now + (c->in_len ? METRICS_HTTP_HEAD_MS : METRICS_HTTP_IDLE_MS);
	c->idle_seq = ++h->seq;
	return true;
}

static void step_linger(struct metrics_http *h, struct conn *c)
{
	char sink[4096];

	for (;;) {
		ssize_t n = recv(c->fd, sink, sizeof(sink), 0);

		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		if (n <= 0 || (c->discarded += (size_t)n) > LINGER_MAX) {
			conn_close(h, c);
			return;
		}
	}
}

static void conn_run(struct metrics_http *h, struct conn *c, uint64_t now)
{
	bool more = true;

	while (more) {
		switch (c->state) {
		case C_HANDSHAKE:
			more = step_handshake(h, c);
			break;
		case C_READ:
			more = step_read(h, c, now);
			break;
		case C_WRITE:
			more = step_write(h, c, now);
			break;
		case C_LINGER:
			step_linger(h, c);
			/* fall through */
		default:
			more = false;
		}
	}
}

static bool allowed(const struct metrics_http *h, uint32_t ip)
{
	if (!h->n_allow)
		return true;
	for (int i = 0; i < h->n_allow; i++)
		if ((ip & h->allow_mask[i]) == h->allow_net[i])
			return true;
	return false;
}

/* A slot for a new connection: a free one, else the one the longest idle (lingering ones
 * first: they are done), closed; NULL when every one is busy with a request. */
static struct conn *conn_slot(struct metrics_http *h)
{
	struct conn *best = NULL;
	uint64_t best_seq = UINT64_MAX;

	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++) {
		struct conn *c = &h->conns[i];
		uint64_t seq;

		if (c->state == C_FREE)
			return c;
		if (c->state == C_LINGER)
			seq = 0;
		else if (c->state == C_HANDSHAKE || (c->state == C_READ && !c->in_len))
			seq = c->idle_seq;
		else
			continue;
		if (seq < best_seq) {
			best = c;
			best_seq = seq;
		}
	}
	if (best) {
		conn_close(h, best);
		STAT_ADD(h, over_limit, 1);
	}
	return best;
}

static void accept_some(struct metrics_http *h, uint64_t now)
{
	for (int k = 0; k < ACCEPTS_PER_WAKE; k++) {
		struct sockaddr_in sa;
		socklen_t sl = sizeof(sa);
		struct conn *c;
		int fd = accept4(h->lfd, (struct sockaddr *)&sa, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (fd < 0) {
			if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
				errno == ENOMEM)
				h->accept_pause_until = now + ACCEPT_PAUSE_MS;
			return;
		}
		if (!allowed(h, sa.sin_addr.s_addr)) {
			close(fd); /* not a byte read, not a byte said */
			STAT_ADD(h, refused, 1);
			continue;
		}
		c = conn_slot(h);
		if (!c) {
			close(fd);
			STAT_ADD(h, over_limit, 1);
			continue;
		}
		c->fd = fd;
		c->ssl = NULL;
		if (h->tls) {
			c->ssl = SSL_new(h->tls);
			if (!c->ssl || SSL_set_fd(c->ssl, fd) != 1) {
				SSL_free(c->ssl);
				ERR_clear_error();
				close(fd);
				STAT_ADD(h, tls_failures, 1);
				continue;
			}
			SSL_set_accept_state(c->ssl);
		}
		c->state = c->ssl ? C_HANDSHAKE : C_READ;
		c->events = POLLIN;
		c->close_after = false;
		c->requests = 0;
		c->in_len = 0;
		c->out = NULL;
		c->out_len = c->out_off = 0;
		c->deadline = now + METRICS_HTTP_HEAD_MS;
		c->idle_seq = ++h->seq;
		h->n_conns++;
		__atomic_store_n(&h->st.connections_now, h->n_conns, __ATOMIC_RELAXED);
		conn_run(h, c, now); /* the request may be there already */
	}
}

/* Closes the connections whose time is up; returns the next deadline (UINT64_MAX: none). */
static uint64_t expire(struct metrics_http *h, uint64_t now)
{
	uint64_t next = UINT64_MAX;

	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++) {
		struct conn *c = &h->conns[i];

		if (c->state == C_FREE)
			continue;
		if (c->deadline > now) {
			next = c->deadline < next ? c->deadline : next;
			continue;
		}
		/* a kept-alive connection left idle, or a linger done, is no timeout */
		if (c->state == C_HANDSHAKE || c->state == C_WRITE ||
			(c->state == C_READ && (c->in_len || !c->requests)))
			STAT_ADD(h, timeouts, 1);
		conn_close(h, c);
	}
	if (h->accept_pause_until > now && h->accept_pause_until < next)
		next = h->accept_pause_until;
	return next;
}

static void *serve(void *arg)
{
	struct metrics_http *h = arg;
	struct pollfd pfd[2 + METRICS_HTTP_MAX_CONNS];
	struct conn *who[2 + METRICS_HTTP_MAX_CONNS];

	for (;;) {
		uint64_t now = mono_ms(), next = expire(h, now);
		int n = 2,
		    timeout = next == UINT64_MAX ? -1 :
			next - now > 60000	 ? 60000 :
						   (int)(next - now);

		pfd[0] = (struct pollfd){ .fd = h->efd, .events = POLLIN };
		pfd[1] = (struct pollfd){ .fd = h->lfd,
			.events = h->accept_pause_until > now ? 0 : POLLIN };
		for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++) {
			struct conn *c = &h->conns[i];

			if (c->state == C_FREE)
				continue;
			pfd[n] = (struct pollfd){ .fd = c->fd, .events = c->events };
			who[n++] = c;
		}
		if (poll(pfd, (nfds_t)n, timeout) < 0 && errno != EINTR)
			break; /* EFAULT, EINVAL, ENOMEM: nothing a retry would mend */
		if (pfd[0].revents)
			break;
		now = mono_ms();
		/* connections first: accepting may close an idle one and reuse its slot */
		for (int i = 2; i < n; i++)
			if (pfd[i].revents && who[i]->state != C_FREE)
				conn_run(h, who[i], now);
		if (pfd[1].revents & POLLIN)
			accept_some(h, now);
	}
	for (int i = 0; i < METRICS_HTTP_MAX_CONNS; i++)
		if (h->conns[i].state != C_FREE)
			conn_close(h, &h->conns[i]);
	return NULL;
}

/* "@path: why", OpenSSL's reason when it has one. */
static void tls_err(char *err, size_t errlen, const char *path, const char *what)
{
	unsigned long e = ERR_get_error();
	const char *why = e ? ERR_reason_error_string(e) : NULL;

	ERR_clear_error();
	snprintf(err, errlen, "%s: %s%s%s%s", path, what, why ? " (" : "", why ? why : "",
		why ? ")" : "");
}

static SSL_CTX *tls_load(const struct metrics_http_cfg *cfg, char *err, size_t errlen)
{
	const char *files[] = { cfg->cert_file, cfg->key_file };
	SSL_CTX *ctx;
	X509 *x;

	/* the system's reason first: "No such file or directory" says more than OpenSSL's */
	for (int i = 0; i < 2; i++) {
		FILE *f = fopen(files[i], "r");

		if (!f) {
			snprintf(err, errlen, "%s: %s", files[i], strerror(errno));
			return NULL;
		}
		fclose(f);
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (!ctx) {
		snprintf(err, errlen, "cannot make a TLS context");
		return NULL;
	}
	if (tls_policy_apply(ctx) < 0) { /* the appliance's one policy */
		snprintf(err, errlen, "cannot apply the TLS policy (OpenSSL refused it)");
		goto fail;
	}
	SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF);
	SSL_CTX_set_mode(ctx,
		SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			SSL_MODE_RELEASE_BUFFERS);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->cert_file) != 1) {
		tls_err(err, errlen, cfg->cert_file, "not a PEM certificate chain");
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->key_file, SSL_FILETYPE_PEM) != 1) {
		if (ERR_GET_REASON(ERR_peek_last_error()) != X509_R_KEY_VALUES_MISMATCH) {
			tls_err(err, errlen, cfg->key_file, "not a PEM private key");
			goto fail;
		}
		ERR_clear_error(); /* a good key, another certificate's: said below */
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		ERR_clear_error();
		snprintf(err, errlen, "%s: not the key of the certificate in %s", cfg->key_file,
			cfg->cert_file);
		goto fail;
	}
	x = SSL_CTX_get0_certificate(ctx);
	if (X509_cmp_current_time(X509_get0_notAfter(x)) < 0 ||
		X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
		snprintf(err, errlen, "%s: the certificate is expired or not yet valid",
			cfg->cert_file);
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static int listen_on(struct metrics_http *h, const struct metrics_http_cfg *cfg, char *err,
	size_t errlen)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = cfg->addr,
		.sin_port = htons(cfg->port) };
	socklen_t sl = sizeof(sa);
	char a[INET_ADDRSTRLEN];
	int one = 1;

	h->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (h->lfd < 0 || setsockopt(h->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
		bind(h->lfd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(h->lfd, 64) < 0 ||
		getsockname(h->lfd, (struct sockaddr *)&sa, &sl) < 0) {
		snprintf(err, errlen, "%s:%u: %s", inet_ntop(AF_INET, &cfg->addr, a, sizeof(a)),
			cfg->port, strerror(errno));
		return -1;
	}
	h->port = ntohs(sa.sin_port);
	return 0;
}

static void teardown(struct metrics_http *h)
{
	if (h->lfd >= 0)
		close(h->lfd);
	if (h->efd >= 0)
		close(h->efd);
	SSL_CTX_free(h->tls);
	free(h);
}

struct metrics_http *metrics_http_start(struct metrics_registry *r,
	const struct metrics_http_cfg *cfg, char *err, size_t errlen)
{
	struct metrics_http *h;
	sigset_t all, old;
	int rc;

	if (cfg->n_allow < 0 || cfg->n_allow > METRICS_HTTP_MAX_ALLOW) {
		snprintf(err, errlen, "allow-list: %d entries, at most %d", cfg->n_allow,
			METRICS_HTTP_MAX_ALLOW);
		return NULL;
	}
	for (int i = 0; i < cfg->n_allow; i++)
		if (cfg->allow[i].prefix > 32) {
			snprintf(err, errlen, "allow-list: prefix /%u: must be 0..32",
				cfg->allow[i].prefix);
			return NULL;
		}
	if (!cfg->key_file != !cfg->cert_file) {
		snprintf(err, errlen, "TLS needs both a key and a certificate file (%s missing)",
			cfg->key_file ? "certificate" : "key");
		return NULL;
	}
	h = calloc(1, sizeof(*h));
	if (!h) {
		snprintf(err, errlen, "%s", strerror(ENOMEM));
		return NULL;
	}
	h->reg = r;
	h->lfd = h->efd = -1;
	h->n_allow = cfg->n_allow;
	for (int i = 0; i < cfg->n_allow; i++) {
		uint8_t p = cfg->allow[i].prefix;

		h->allow_mask[i] = p ? htonl(~0u << (32 - p)) : 0;
		h->allow_net[i] = cfg->allow[i].net & h->allow_mask[i];
	}
	if (cfg->key_file && !(h->tls = tls_load(cfg, err, errlen)))
		goto fail;
	if (listen_on(h, cfg, err, errlen) < 0)
		goto fail;
	h->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (h->efd < 0) {
		snprintf(err, errlen, "eventfd: %s", strerror(errno));
		goto fail;
	}
	/* the process's signals are for the control thread, not this one (a fault's stay
	 * deliverable, for the sanitizers' and the crash handler's report) */
	sigfillset(&all);
	sigdelset(&all, SIGSEGV);
	sigdelset(&all, SIGBUS);
	sigdelset(&all, SIGFPE);
	sigdelset(&all, SIGILL);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	rc = pthread_create(&h->thread, NULL, serve, h);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc) {
		snprintf(err, errlen, "cannot start the metrics thread: %s", strerror(rc));
		goto fail;
	}
	return h;
fail:
	teardown(h);
	return NULL;
}

void metrics_http_stop(struct metrics_http *h)
{
	uint64_t one = 1;
	ssize_t w;

	if (!h)
		return;
	/* an eventfd's counter cannot overflow from one write of 1: it does not fail */
	w = write(h->efd, &one, sizeof(one));
	(void)w;
	pthread_join(h->thread, NULL);
	teardown(h);
}

uint16_t metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

void metrics_http_get_stats(struct metrics_http *h, struct metrics_http_stats *st)
{
#define LOAD(f) (st->f = __atomic_load_n(&h->st.f, __ATOMIC_RELAXED))
	LOAD(scrapes);
	LOAD(refused);
	LOAD(bad_requests);
	LOAD(not_found);
	LOAD(tls_failures);
	LOAD(over_limit);
	LOAD(timeouts);
	LOAD(bytes_out);
	LOAD(connections_now);
#undef LOAD
}
