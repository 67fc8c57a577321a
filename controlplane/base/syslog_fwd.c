/* Remote syslog (RFC 5424 over UDP, TCP with octet counting, TLS): per-server bounded queues
 * filled by any thread, emptied by one sender thread that owns every socket.
 *
 * Who touches what: fwd->lock guards the server list, each server's queue, counters and state
 * text; a server's connection (fd, SSL, phase, timers) belongs to the sender thread alone.
 * A server removed by configure goes to the graveyard and the sender thread frees it, so a
 * server the sender is working on never disappears under it. Nothing here logs through
 * edge_log: the forwarder is edge_log's sink, and its lock sits under edge_log's. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/sockios.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "syslog_fwd.h"
#include "tls_policy.h"

#define SYSLOG_BACKOFF_MIN_MS 200
#define SYSLOG_BACKOFF_MAX_MS 5000
#define SYSLOG_CONNECT_MS 5000	     /* TCP connect and TLS handshake, each */
#define SYSLOG_ACK_POLL_MS 20	     /* acknowledgements raise no event: look this often */
#define SYSLOG_FLUSH_MS 1000	     /* syslog_fwd_free()'s last chance */
#define SYSLOG_USER_TIMEOUT_MS 30000 /* unacknowledged this long: the connection is dead */
#define SYSLOG_IDLE_POLL_MS 5000     /* every change wakes the sender; this is a safety net */

_Static_assert(SYSLOG_MAX_LINE + 16 <= SYSLOG_QUEUE_BYTES, "a queue holds at least a line");

struct sl_line {
	TAILQ_ENTRY(sl_line) link;
	uint64_t wire_end; /* the connection's byte count at this line's end; 0: not sent */
	size_t len;
	char buf[]; /* TCP/TLS: with its "LEN " prefix */
};

enum sl_phase {
	SL_IDLE,       /* no connection; the next attempt at @when */
	SL_CONNECTING, /* TCP connect under way, given up at @when */
	SL_HANDSHAKE,  /* TLS handshake under way, given up at @when */
	SL_UP,
};

struct sl_server {
	TAILQ_ENTRY(sl_server) link;
	struct syslog_server cfg;

	/* under fwd->lock */
	TAILQ_HEAD(, sl_line) q;
	unsigned int qlines;
	size_t qbytes;
	struct sl_line *cursor; /* first line not wholly handed to the kernel, NULL: none */
	size_t cur_off;		/* TCP: bytes of @cursor sent; TLS: 1 while SSL_write is to retry */
	uint64_t sent, lost, connects, connect_failures;
	char state[160];

	/* the sender thread's */
	enum sl_phase phase;
	int fd;
	SSL *ssl;
	uint64_t wire; /* TCP: bytes sent on this connection */
	int64_t when;
	unsigned int backoff;
	unsigned int attempt; /* picks among a name's addresses */
	short events;	      /* POLLOUT when a write or the handshake waits for room */
	short revents;
};

TAILQ_HEAD(sl_list, sl_server);

struct syslog_fwd {
	pthread_mutex_t lock;
	struct sl_list servers;
	struct sl_list graveyard;
	SSL_CTX *ctx; /* for new TLS connections; a connection holds its own reference */
	bool stop;
	int efd; /* submit and configure wake the sender through it */
	pthread_t thread;
	long pid;
	char hostname[256];
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void seterr(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void seterr(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || !errlen)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}

const char *syslog_transport_name(enum syslog_transport t)
{
	switch (t) {
	case SYSLOG_UDP:
		return "udp";
	case SYSLOG_TCP:
		return "tcp";
	case SYSLOG_TLS:
		return "tls";
	}
	return "?";
}

static bool is_ip_literal(const char *host)
{
	unsigned char a[16];

	return inet_pton(AF_INET, host, a) == 1 || inet_pton(AF_INET6, host, a) == 1;
}

/* ---- formatting and parsing ---- */

size_t syslog_format(char *dst, size_t dstlen, const char *hostname, long pid, int facility,
	int severity, const struct timeval *tv, const char *component, const char *msg)
{
	struct tm tm;
	int n;

	if (!dstlen)
		return 0;
	gmtime_r(&tv->tv_sec, &tm);
	/* <syslog.h>'s facilities are already multiplied by 8: PRI is facility | severity */
	n = snprintf(dst, dstlen,
		"<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06ldZ %s edge %ld - - %s%s%s",
		(facility & LOG_FACMASK) | (severity & LOG_PRIMASK), tm.tm_year + 1900,
		tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (long)tv->tv_usec,
		hostname && *hostname ? hostname : "-", pid, component ? component : "",
		component ? ": " : "", msg ? msg : "");
	if (n < 0) {
		dst[0] = '\0';
		return 0;
	}
	return (size_t)n < dstlen ? (size_t)n : dstlen - 1;
}

/* ---- queues (under fwd->lock) ---- */

static void set_state(struct sl_server *s, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void set_state(struct sl_server *s, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(s->state, sizeof(s->state), fmt, ap);
	va_end(ap);
}

static void q_unlink(struct sl_server *s, struct sl_line *l)
{
	if (s->cursor == l)
		s->cursor = TAILQ_NEXT(l, link);
	TAILQ_REMOVE(&s->q, l, link);
	s->qlines--;
	s->qbytes -= l->len;
	free(l);
}

/* The line to drop for room: the oldest the kernel does not hold yet (one it holds is closer
 * to delivery), else the oldest it holds unacknowledged; never the one half written, whose
 * rest the stream owes. NULL: only that one is queued. */
static struct sl_line *q_victim(struct sl_server *s)
{
	struct sl_line *l = s->cursor;

	if (l && s->cur_off)
		l = TAILQ_NEXT(l, link);
	if (l)
		return l;
	l = TAILQ_FIRST(&s->q);
	return l && l != s->cursor ? l : NULL;
}

static void q_push(struct sl_server *s, struct sl_line *l)
{
	struct sl_line *v;

	while (s->qlines >= SYSLOG_QUEUE_LINES || s->qbytes + l->len > SYSLOG_QUEUE_BYTES) {
		s->lost++;
		if (!(v = q_victim(s))) {
			free(l);
			return;
		}
		q_unlink(s, v);
	}
	TAILQ_INSERT_TAIL(&s->q, l, link);
	s->qlines++;
	s->qbytes += l->len;
	if (!s->cursor)
		s->cursor = l;
}

/* The connection is gone: whatever it held unacknowledged goes again on the next one. */
static void q_rewind(struct sl_server *s)
{
	struct sl_line *l;

	TAILQ_FOREACH (l, &s->q, link)
		l->wire_end = 0;
	s->cursor = TAILQ_FIRST(&s->q);
	s->cur_off = 0;
}

/* ---- connections (the sender thread) ---- */

static void close_conn(struct sl_server *s)
{
	static const struct timespec zero;
	sigset_t sigpipe;

	if (s->ssl) {
		SSL_shutdown(s->ssl); /* one try at close_notify, it may not get out */
		SSL_free(s->ssl);
		s->ssl = NULL;
	}
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
	s->wire = 0;
	s->events = 0;
	/* OpenSSL writes without MSG_NOSIGNAL: a SIGPIPE may be pending on this thread */
	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	while (sigtimedwait(&sigpipe, NULL, &zero) == SIGPIPE)
		;
}

static void go_down(struct syslog_fwd *fwd, struct sl_server *s, bool failed_attempt,
	const char *reason)
{
	close_conn(s);
	pthread_mutex_lock(&fwd->lock);
	q_rewind(s);
	if (failed_attempt)
		s->connect_failures++;
	set_state(s, "down: %s", reason);
	pthread_mutex_unlock(&fwd->lock);
	s->phase = SL_IDLE;
	s->when = now_ms() + s->backoff;
	s->backoff = s->backoff * 2 > SYSLOG_BACKOFF_MAX_MS ? SYSLOG_BACKOFF_MAX_MS :
							      s->backoff * 2;
}

static void go_up(struct syslog_fwd *fwd, struct sl_server *s)
{
	s->phase = SL_UP;
	s->backoff = SYSLOG_BACKOFF_MIN_MS;
	s->events = 0;
	pthread_mutex_lock(&fwd->lock);
	s->connects++;
	set_state(s, "connected");
	pthread_mutex_unlock(&fwd->lock);
}

static void set_state_locked(struct syslog_fwd *fwd, struct sl_server *s, const char *text)
{
	pthread_mutex_lock(&fwd->lock);
	set_state(s, "%s", text);
	pthread_mutex_unlock(&fwd->lock);
}

/* Numeric hosts never wait; a name is looked up here, in the sender thread, with no lock. */
static int resolve(struct sl_server *s, struct sockaddr_storage *ss, socklen_t *sslen, char *why,
	size_t whylen)
{
	struct addrinfo hints = {
		.ai_socktype = s->cfg.transport == SYSLOG_UDP ? SOCK_DGRAM : SOCK_STREAM,
		.ai_flags = AI_NUMERICSERV,
	}, *res, *ai;
	char port[8];
	unsigned int n = 0, pick;
	int rc;

	snprintf(port, sizeof(port), "%u", s->cfg.port);
	if (is_ip_literal(s->cfg.host))
		hints.ai_flags |= AI_NUMERICHOST;
	rc = getaddrinfo(s->cfg.host, port, &hints, &res);
	if (rc) {
		snprintf(why, whylen, "cannot resolve '%s': %s", s->cfg.host, gai_strerror(rc));
		return -1;
	}
	for (ai = res; ai; ai = ai->ai_next)
		n++;
	pick = s->attempt++ % n; /* each attempt the next address */
	for (ai = res; pick--; ai = ai->ai_next)
		;
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*sslen = ai->ai_addrlen;
	freeaddrinfo(res);
	return 0;
}

static void stream_options(int fd)
{
	int one = 1, idle = 30, intvl = 10, cnt = 3;
	unsigned int uto = SYSLOG_USER_TIMEOUT_MS;

	/* a server that vanished without a reset is noticed, and its lines go again elsewhere */
	setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
	setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
	setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &uto, sizeof(uto));
}

static void start_connect(struct syslog_fwd *fwd, struct sl_server *s)
{
	struct sockaddr_storage ss;
	socklen_t sslen;
	char why[320];
	bool udp = s->cfg.transport == SYSLOG_UDP;

	set_state_locked(fwd, s, "connecting");
	if (resolve(s, &ss, &sslen, why, sizeof(why)) < 0) {
		go_down(fwd, s, true, why);
		return;
	}
	s->fd = socket(ss.ss_family,
		(udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (s->fd < 0) {
		snprintf(why, sizeof(why), "socket: %s", strerror(errno));
		go_down(fwd, s, true, why);
		return;
	}
	if (!udp)
		stream_options(s->fd);
	if (connect(s->fd, (struct sockaddr *)&ss, sslen) < 0 && errno != EINPROGRESS) {
		go_down(fwd, s, true, strerror(errno));
		return;
	}
	if (udp) {
		go_up(fwd, s);
		return;
	}
	s->phase = SL_CONNECTING;
	s->events = POLLOUT;
	s->when = now_ms() + SYSLOG_CONNECT_MS;
}

static void start_tls(struct syslog_fwd *fwd, struct sl_server *s)
{
	X509_VERIFY_PARAM *vp;
	bool ok;

	pthread_mutex_lock(&fwd->lock);
	s->ssl = fwd->ctx ? SSL_new(fwd->ctx) : NULL; /* the SSL holds its own reference */
	pthread_mutex_unlock(&fwd->lock);
	if (!s->ssl) {
		go_down(fwd, s, true, "TLS: no context (CA bundle not loaded)");
		return;
	}
	vp = SSL_get0_param(s->ssl);
	X509_VERIFY_PARAM_set_hostflags(vp, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
	if (is_ip_literal(s->cfg.host))
		ok = X509_VERIFY_PARAM_set1_ip_asc(vp, s->cfg.host);
	else
		ok = SSL_set_tlsext_host_name(s->ssl, s->cfg.host) &&
			SSL_set1_host(s->ssl, s->cfg.host);
	if (!ok || !SSL_set_fd(s->ssl, s->fd)) {
		go_down(fwd, s, true, "TLS: cannot set up the connection");
		return;
	}
	SSL_set_mode(s->ssl, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	s->phase = SL_HANDSHAKE;
	s->when = now_ms() + SYSLOG_CONNECT_MS;
}

/* Why an OpenSSL call on @s failed with @r, for the state text. */
static void tls_why(struct sl_server *s, int r, char *why, size_t whylen)
{
	int e = SSL_get_error(s->ssl, r);
	long vr = SSL_get_verify_result(s->ssl);
	unsigned long ec = ERR_peek_last_error();

	if (vr != X509_V_OK)
		snprintf(why, whylen, "TLS: certificate: %s", X509_verify_cert_error_string(vr));
	else if (e == SSL_ERROR_ZERO_RETURN)
		snprintf(why, whylen, "closed by the server");
	else if (ec)
		snprintf(why, whylen, "TLS: %s",
			ERR_reason_error_string(ec) ? ERR_reason_error_string(ec) : "error");
	else if (e == SSL_ERROR_SYSCALL && errno)
		snprintf(why, whylen, "%s", strerror(errno));
	else
		snprintf(why, whylen, "closed by the server");
	ERR_clear_error();
}

static void step_connecting(struct syslog_fwd *fwd, struct sl_server *s, int64_t now)
{
	int soerr = 0;
	socklen_t len = sizeof(soerr);

	if (!(s->revents & (POLLOUT | POLLERR | POLLHUP))) {
		if (now >= s->when)
			go_down(fwd, s, true, "connect timed out");
		return;
	}
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr) {
		go_down(fwd, s, true, strerror(soerr));
		return;
	}
	s->events = 0;
	if (s->cfg.transport == SYSLOG_TLS)
		start_tls(fwd, s);
	else
		go_up(fwd, s);
}

static void step_handshake(struct syslog_fwd *fwd, struct sl_server *s, int64_t now)
{
	char why[200];
	int r, e;

	ERR_clear_error();
	r = SSL_connect(s->ssl);
	if (r == 1) {
		go_up(fwd, s);
		return;
	}
	e = SSL_get_error(s->ssl, r);
	if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE) {
		s->events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
		if (now >= s->when)
			go_down(fwd, s, true, "TLS handshake timed out");
		return;
	}
	tls_why(s, r, why, sizeof(why));
	go_down(fwd, s, true, why);
}

/* What the server sends (nothing but TLS records, or its close) is read and dropped; 0, or
 * -1 with @why when the connection is over. */
static int drain_input(struct sl_server *s, char *why, size_t whylen)
{
	char buf[512];

	for (int i = 0; i < 64; i++) {
		ssize_t n;

		if (s->ssl) {
			int r, e;

			ERR_clear_error();
			r = SSL_read(s->ssl, buf, sizeof(buf));
			if (r > 0)
				continue;
			e = SSL_get_error(s->ssl, r);
			if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
				return 0;
			tls_why(s, r, why, whylen);
			return -1;
		}
		n = recv(s->fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return 0;
		snprintf(why, whylen, "%s", n ? strerror(errno) : "closed by the server");
		return -1;
	}
	return 0;
}

/* Lines leave the queue once the peer's kernel acknowledged their last byte: what we wrote
 * on this connection less what the socket still holds (SIOCOUTQ: unsent + unacknowledged). */
static void reap_acked(struct sl_server *s)
{
	struct sl_line *l;
	uint64_t wire, acked;
	int outq;

	if (ioctl(s->fd, SIOCOUTQ, &outq) < 0 || outq < 0)
		return;
	wire = s->ssl ? BIO_number_written(SSL_get_wbio(s->ssl)) : s->wire;
	acked = wire >= (uint64_t)outq ? wire - outq : 0;
	while ((l = TAILQ_FIRST(&s->q)) && l != s->cursor && l->wire_end && l->wire_end <= acked) {
		s->sent++;
		q_unlink(s, l);
	}
}

/* Hands queued lines to the kernel until it takes no more; -1 with @why when the connection
 * broke. Under fwd->lock: submit may drop lines meanwhile. */
static int write_stream(struct sl_server *s, char *why, size_t whylen)
{
	struct sl_line *l;

	while ((l = s->cursor)) {
		if (s->ssl) {
			int r, e;

			ERR_clear_error();
			r = SSL_write(s->ssl, l->buf, (int)l->len);
			if (r <= 0) {
				e = SSL_get_error(s->ssl, r);
				if (e == SSL_ERROR_WANT_WRITE || e == SSL_ERROR_WANT_READ) {
					s->cur_off = 1; /* the retry must pass this line again */
					s->events = e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
					return 0;
				}
				tls_why(s, r, why, whylen);
				return -1;
			}
			l->wire_end = BIO_number_written(SSL_get_wbio(s->ssl));
		} else {
			ssize_t n = send(s->fd, l->buf + s->cur_off, l->len - s->cur_off,
				MSG_NOSIGNAL | MSG_DONTWAIT);

			if (n < 0) {
				if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
					s->events = POLLOUT;
					return 0;
				}
				snprintf(why, whylen, "%s", strerror(errno));
				return -1;
			}
			s->wire += n;
			s->cur_off += n;
			if (s->cur_off < l->len)
				continue;
			l->wire_end = s->wire;
		}
		s->cursor = TAILQ_NEXT(l, link);
		s->cur_off = 0;
	}
	s->events = 0;
	return 0;
}

/* UDP: a line is sent or lost, at once; a refusal the kernel learnt from ICMP comes back on
 * the next send and costs that line. */
static void write_dgram(struct sl_server *s)
{
	struct sl_line *l;

	s->events = 0;
	while ((l = TAILQ_FIRST(&s->q))) {
		if (send(s->fd, l->buf, l->len, MSG_NOSIGNAL | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR) {
				s->events = POLLOUT;
				return;
			}
			s->lost++;
			set_state(s, "down: %s", strerror(errno));
		} else {
			s->sent++;
			if (strcmp(s->state, "connected"))
				set_state(s, "connected");
		}
		q_unlink(s, l);
	}
}

static void step_up(struct syslog_fwd *fwd, struct sl_server *s)
{
	char why[200];
	int rc = 0;

	if (s->cfg.transport != SYSLOG_UDP && (s->revents & (POLLIN | POLLERR | POLLHUP)) &&
		drain_input(s, why, sizeof(why)) < 0) {
		go_down(fwd, s, false, why);
		return;
	}
	pthread_mutex_lock(&fwd->lock);
	if (s->cfg.transport == SYSLOG_UDP) {
		write_dgram(s);
	} else {
		reap_acked(s);
		rc = write_stream(s, why, sizeof(why));
		if (!rc)
			reap_acked(s);
	}
	pthread_mutex_unlock(&fwd->lock);
	if (rc < 0)
		go_down(fwd, s, false, why);
}

static void step(struct syslog_fwd *fwd, struct sl_server *s, int64_t now)
{
	if (s->phase == SL_IDLE && now >= s->when)
		start_connect(fwd, s);
	if (s->phase == SL_CONNECTING)
		step_connecting(fwd, s, now);
	if (s->phase == SL_HANDSHAKE)
		step_handshake(fwd, s, now);
	if (s->phase == SL_UP)
		step_up(fwd, s);
	s->revents = 0;
}

/* When @s next needs the sender without an event: its timer, or the acknowledgement check
 * while lines are in flight. -1: never. */
static int64_t wake_at(struct syslog_fwd *fwd, struct sl_server *s, int64_t now)
{
	bool in_flight;

	if (s->phase != SL_UP)
		return s->when;
	if (s->cfg.transport == SYSLOG_UDP)
		return -1;
	pthread_mutex_lock(&fwd->lock);
	in_flight = TAILQ_FIRST(&s->q) && TAILQ_FIRST(&s->q) != s->cursor;
	pthread_mutex_unlock(&fwd->lock);
	return in_flight ? now + SYSLOG_ACK_POLL_MS : -1;
}

static void server_free(struct sl_server *s)
{
	struct sl_line *l;

	close_conn(s);
	while ((l = TAILQ_FIRST(&s->q))) {
		TAILQ_REMOVE(&s->q, l, link);
		free(l);
	}
	free(s);
}

static void *sender_main(void *arg)
{
	struct syslog_fwd *fwd = arg;
	struct sl_server *snap[SYSLOG_MAX_SERVERS], *s;
	struct pollfd pfd[1 + SYSLOG_MAX_SERVERS];
	int64_t flush_until = -1;
	sigset_t sigpipe;

	sigemptyset(&sigpipe);
	sigaddset(&sigpipe, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &sigpipe, NULL);
	for (;;) {
		struct sl_list dead = TAILQ_HEAD_INITIALIZER(dead);
		int64_t now = now_ms(), next = -1, w;
		int n = 0, timeout;
		bool pending = false, stop;

		pthread_mutex_lock(&fwd->lock);
		stop = fwd->stop;
		TAILQ_CONCAT(&dead, &fwd->graveyard, link);
		TAILQ_FOREACH (s, &fwd->servers, link) {
			snap[n++] = s;
			pending |= s->qlines > 0;
		}
		pthread_mutex_unlock(&fwd->lock);
		while ((s = TAILQ_FIRST(&dead))) {
			TAILQ_REMOVE(&dead, s, link);
			server_free(s);
		}
		if (stop) {
			if (flush_until < 0)
				flush_until = now + SYSLOG_FLUSH_MS;
			if (!pending || now >= flush_until)
				break;
			next = flush_until;
		}

		pfd[0] = (struct pollfd){ .fd = fwd->efd, .events = POLLIN };
		for (int i = 0; i < n; i++) {
			s = snap[i];
			step(fwd, s, now);
			w = wake_at(fwd, s, now);
			if (w >= 0 && (next < 0 || w < next))
				next = w;
			/* UDP is polled only when it waits for room: a pending ICMP error would
			 * otherwise wake us (POLLERR) for nothing until the next send takes it */
			pfd[1 + i].fd = s->fd >= 0 &&
					(s->cfg.transport != SYSLOG_UDP || s->events) ?
				s->fd :
				-1;
			pfd[1 + i].events = POLLIN | s->events;
			pfd[1 + i].revents = 0;
		}
		if (next < 0 || next > now + SYSLOG_IDLE_POLL_MS)
			next = now + SYSLOG_IDLE_POLL_MS;
		timeout = next <= now ? 0 : (int)(next - now);
		if (poll(pfd, 1 + n, timeout) > 0) {
			uint64_t v;

			if (pfd[0].revents && read(fwd->efd, &v, sizeof(v)) < 0)
				(void)0; /* EAGAIN: another wake took it */
			for (int i = 0; i < n; i++)
				snap[i]->revents = pfd[1 + i].revents;
		}
	}
	return NULL;
}

/* ---- the API ---- */

static void wake(struct syslog_fwd *fwd)
{
	uint64_t one = 1;

	if (write(fwd->efd, &one, sizeof(one)) < 0)
		(void)0; /* EAGAIN: the counter is already non-zero, the sender will run */
}

struct syslog_fwd *syslog_fwd_new(void)
{
	struct syslog_fwd *fwd = calloc(1, sizeof(*fwd));

	if (!fwd)
		return NULL;
	pthread_mutex_init(&fwd->lock, NULL);
	TAILQ_INIT(&fwd->servers);
	TAILQ_INIT(&fwd->graveyard);
	fwd->pid = (long)getpid();
	/* RFC 5424's HOSTNAME is printable US-ASCII without spaces, or "-" */
	if (gethostname(fwd->hostname, sizeof(fwd->hostname) - 1) < 0)
		fwd->hostname[0] = '\0';
	for (char *p = fwd->hostname; *p; p++)
		if (*p < 33 || *p > 126)
			*p = '_';
	if (!fwd->hostname[0])
		strcpy(fwd->hostname, "-");
	fwd->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (fwd->efd < 0)
		goto fail;
	if (pthread_create(&fwd->thread, NULL, sender_main, fwd)) {
		close(fwd->efd);
		goto fail;
	}
	return fwd;
fail:
	pthread_mutex_destroy(&fwd->lock);
	free(fwd);
	return NULL;
}

void syslog_fwd_free(struct syslog_fwd *fwd)
{
	struct sl_server *s;

	if (!fwd)
		return;
	pthread_mutex_lock(&fwd->lock);
	fwd->stop = true;
	pthread_mutex_unlock(&fwd->lock);
	wake(fwd);
	pthread_join(fwd->thread, NULL);
	TAILQ_CONCAT(&fwd->graveyard, &fwd->servers, link);
	while ((s = TAILQ_FIRST(&fwd->graveyard))) {
		TAILQ_REMOVE(&fwd->graveyard, s, link);
		server_free(s);
	}
	SSL_CTX_free(fwd->ctx);
	close(fwd->efd);
	pthread_mutex_destroy(&fwd->lock);
	free(fwd);
}

static SSL_CTX *client_ctx(const char *ca_file, char *err, size_t errlen)
{
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
	unsigned long ec;

	if (!ctx || tls_policy_apply(ctx) < 0) {
		seterr(err, errlen, "syslog: cannot make a TLS context");
		SSL_CTX_free(ctx);
		return NULL;
	}
	ERR_clear_error();
	if (!SSL_CTX_load_verify_locations(ctx, ca_file, NULL)) {
		ec = ERR_peek_last_error();
		seterr(err, errlen, "syslog: CA bundle '%s': %s", ca_file,
			ec && ERR_reason_error_string(ec) ? ERR_reason_error_string(ec) :
							    "cannot load it");
		ERR_clear_error();
		SSL_CTX_free(ctx);
		return NULL;
	}
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	return ctx;
}

static bool same_server(const struct syslog_server *a, const struct syslog_server *b)
{
	return a->port == b->port && a->transport == b->transport && !strcmp(a->host, b->host);
}

static int check_servers(const struct syslog_server *servers, int n, char *err, size_t errlen)
{
	if (n < 0 || n > SYSLOG_MAX_SERVERS || (n && !servers)) {
		seterr(err, errlen, "syslog: %d servers: at most %d", n, SYSLOG_MAX_SERVERS);
		return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		const struct syslog_server *v = &servers[i];

		if (!memchr(v->host, '\0', sizeof(v->host)) || !v->host[0] || !v->port ||
			(unsigned int)v->transport > SYSLOG_TLS) {
			seterr(err, errlen,
				"syslog: server %d: needs a host, a port and udp, tcp or tls",
				i + 1);
			return -EINVAL;
		}
		for (int j = 0; j < i; j++)
			if (same_server(&servers[j], v)) {
				seterr(err, errlen, "syslog: '%s:%u' (%s) is listed twice", v->host,
					v->port, syslog_transport_name(v->transport));
				return -EINVAL;
			}
	}
	return 0;
}

int syslog_fwd_configure(struct syslog_fwd *fwd, const struct syslog_server *servers, int n,
	const char *ca_file, char *err, size_t errlen)
{
	struct sl_server *fresh[SYSLOG_MAX_SERVERS] = { 0 }, *s;
	struct sl_list next = TAILQ_HEAD_INITIALIZER(next);
	SSL_CTX *ctx = NULL, *old;
	int tls = -1;

	if (check_servers(servers, n, err, errlen) < 0)
		return -EINVAL;
	for (int i = 0; i < n; i++)
		if (servers[i].transport == SYSLOG_TLS && tls < 0)
			tls = i;
	if (tls >= 0) {
		if (!ca_file || !*ca_file) {
			seterr(err, errlen,
				"syslog: tls server '%s' needs a CA bundle to verify it",
				servers[tls].host);
			return -EINVAL;
		}
		if (!(ctx = client_ctx(ca_file, err, errlen)))
			return -EINVAL;
	}
	for (int i = 0; i < n; i++) {
		if (!(fresh[i] = calloc(1, sizeof(*fresh[i])))) {
			seterr(err, errlen, "syslog: out of memory");
			for (int j = 0; j < i; j++)
				free(fresh[j]);
			SSL_CTX_free(ctx);
			return -ENOMEM;
		}
		fresh[i]->cfg = servers[i];
		TAILQ_INIT(&fresh[i]->q);
		fresh[i]->fd = -1;
		fresh[i]->backoff = SYSLOG_BACKOFF_MIN_MS;
		snprintf(fresh[i]->state, sizeof(fresh[i]->state), "connecting");
	}

	pthread_mutex_lock(&fwd->lock);
	for (int i = 0; i < n; i++) {
		TAILQ_FOREACH (s, &fwd->servers, link)
			if (same_server(&s->cfg, &servers[i]))
				break;
		if (s) {
			TAILQ_REMOVE(&fwd->servers, s, link); /* kept, queue and connection */
		} else {
			s = fresh[i];
			fresh[i] = NULL;
		}
		TAILQ_INSERT_TAIL(&next, s, link);
	}
	TAILQ_CONCAT(&fwd->graveyard, &fwd->servers, link); /* what was not kept */
	TAILQ_CONCAT(&fwd->servers, &next, link);
	old = fwd->ctx;
	fwd->ctx = ctx;
	pthread_mutex_unlock(&fwd->lock);

	wake(fwd);
	SSL_CTX_free(old);
	for (int i = 0; i < n; i++)
		free(fresh[i]);
	return 0;
}

void syslog_fwd_submit(struct syslog_fwd *fwd, int facility, int severity, const struct timeval *tv,
	const char *component, const char *msg)
{
	char line[SYSLOG_MAX_LINE], prefix[16];
	struct timeval now;
	struct sl_server *s;
	size_t len;
	int plen;

	if (!fwd)
		return;
	if (!tv) {
		gettimeofday(&now, NULL);
		tv = &now;
	}
	len = syslog_format(line, sizeof(line), fwd->hostname, fwd->pid, facility, severity, tv,
		component, msg);
	plen = snprintf(prefix, sizeof(prefix), "%zu ", len); /* RFC 6587 octet counting */

	pthread_mutex_lock(&fwd->lock);
	TAILQ_FOREACH (s, &fwd->servers, link) {
		size_t pl = s->cfg.transport == SYSLOG_UDP ? 0 : (size_t)plen;
		struct sl_line *l = malloc(sizeof(*l) + pl + len);

		if (!l) {
			s->lost++;
			continue;
		}
		l->wire_end = 0;
		l->len = pl + len;
		memcpy(l->buf, prefix, pl);
		memcpy(l->buf + pl, line, len);
		q_push(s, l);
	}
	pthread_mutex_unlock(&fwd->lock);
	wake(fwd);
}

void syslog_fwd_log_hook(void *ctx, int facility, int severity, const struct timeval *tv,
	const char *component, const char *msg)
{
	syslog_fwd_submit(ctx, facility, severity, tv, component, msg);
}

int syslog_fwd_stats(struct syslog_fwd *fwd, struct syslog_server_stats *out, int max)
{
	struct sl_server *s;
	int n = 0;

	pthread_mutex_lock(&fwd->lock);
	TAILQ_FOREACH (s, &fwd->servers, link) {
		if (n < max) {
			struct syslog_server_stats *o = &out[n];

			o->server = s->cfg;
			o->queued = s->qlines;
			o->sent = s->sent;
			o->lost = s->lost;
			o->connects = s->connects;
			o->connect_failures = s->connect_failures;
			snprintf(o->state, sizeof(o->state), "%s", s->state);
		}
		n++;
	}
	pthread_mutex_unlock(&fwd->lock);
	return n;
}
