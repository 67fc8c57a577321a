/* The Prometheus endpoint on 127.0.0.1, an ephemeral port: scrapes (GET, HEAD, a query string,
 * keep-alive, a head trickled byte by byte), every error status, the allow-list, the
 * connection limit with 40 clients, TLS with a throwaway CA and an OpenSSL client, timeouts,
 * stop with clients connected; and the request parser on its own, status by status. Every
 * socket has 5 s timeouts, and every wait on the server's stats is bounded. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#include "metrics.h"
#include "metrics_http.h"
#include "test_certs.h"
#include "unit.h"

#define LOOPBACK htonl(INADDR_LOOPBACK)
#define PROM_TYPE "Content-Type: text/plain; version=0.0.4; charset=utf-8\r\n"

static struct metrics_registry *reg;
static struct metrics_http *srv;
static char err[256];

static void thing_collect(void *ctx, struct metrics_sink *sink)
{
	(void)ctx;
	metrics_sample_u64(sink, NULL, 42);
}

static const struct metrics_family thing = {
	.name = "edge_test_things_total",
	.help = "Things seen by the test.",
	.type = METRICS_COUNTER,
	.collect = thing_collect,
};

/* A big answer (about 10 MB) for a reader too slow to take it. */
static void big_collect(void *ctx, struct metrics_sink *sink)
{
	char v[16];
	const char *lv[] = { v };

	(void)ctx;
	for (int i = 0; i < 300000; i++) {
		snprintf(v, sizeof(v), "%d", i);
		metrics_sample_u64(sink, lv, (uint64_t)i);
	}
}

static const char *const big_labels[] = { "n", NULL };

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

	nanosleep(&ts, NULL);
}

static struct metrics_http_stats stats(void)
{
	struct metrics_http_stats st;

	metrics_http_get_stats(srv, &st);
	return st;
}

/* Waits up to @ms for @field of the stats to reach @want; whether it did. */
#define WAIT_STAT(field, want, ms)                                                                 \
	({                                                                                         \
		bool ok_ = false;                                                                  \
		for (int i_ = 0; i_ < (ms) / 10 && !(ok_ = stats().field == (want)); i_++)         \
			msleep(10);                                                                \
		ok_;                                                                               \
	})

static void start(const struct metrics_http_cfg *cfg)
{
	srv = metrics_http_start(reg, cfg, err, sizeof(err));
	if (!srv)
		fprintf(stderr, "metrics_http_start: %s\n", err);
	CU_ASSERT_PTR_NOT_NULL_FATAL(srv);
}

static void start_plain(void)
{
	struct metrics_http_cfg cfg = { .addr = LOOPBACK };

	start(&cfg);
}

static void stop(void)
{
	metrics_http_stop(srv);
	srv = NULL;
}

/* A client: a TCP socket, and OpenSSL over it for TLS. */
struct cli {
	int fd;
	SSL *ssl;
	SSL_CTX *ctx;
};

static int tcp_connect(uint16_t port, int rcvbuf)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_addr.s_addr = LOOPBACK,
		.sin_port = htons(port) };
	struct timeval tv = { 5, 0 };
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	CU_ASSERT_FATAL(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (rcvbuf)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	CU_ASSERT_FATAL(connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static struct cli cli_open(void)
{
	return (struct cli){ .fd = tcp_connect(metrics_http_port(srv), 0) };
}

static void cli_close(struct cli *c)
{
	if (c->ssl) {
		SSL_free(c->ssl);
		SSL_CTX_free(c->ctx);
	}
	close(c->fd);
	c->ssl = NULL;
}

static ssize_t cli_read(struct cli *c, char *buf, size_t n)
{
	if (c->ssl) {
		int r = SSL_read(c->ssl, buf, (int)n);

		ERR_clear_error();
		return r > 0 ? r : SSL_get_error(c->ssl, r) == SSL_ERROR_ZERO_RETURN ? 0 : -1;
	}
	return recv(c->fd, buf, n, 0);
}

static void cli_send(struct cli *c, const char *s, size_t n)
{
	ssize_t sent = c->ssl ? SSL_write(c->ssl, s, (int)n) : send(c->fd, s, n, MSG_NOSIGNAL);

	CU_ASSERT_EQUAL(sent, (ssize_t)n);
}

static void cli_puts(struct cli *c, const char *s)
{
	cli_send(c, s, strlen(s));
}

struct resp {
	int status; /* -1: none, the connection closed or timed out */
	char head[2048];
	char *body;
	size_t body_len;
};

static void resp_free(struct resp *r)
{
	free(r->body);
	r->body = NULL;
}

/* One answer: its head, then Content-Length bytes of body unless @head_only. */
static struct resp cli_resp(struct cli *c, bool head_only)
{
	struct resp r = { .status = -1 };
	size_t len = 0, clen;
	char *end = NULL, *cl;

	while (!end && len < sizeof(r.head) - 1) {
		ssize_t n = cli_read(c, r.head + len, 1); /* byte by byte: no more than the head */

		if (n <= 0)
			return r;
		r.head[++len] = '\0';
		end = strstr(r.head, "\r\n\r\n");
	}
	if (!end || sscanf(r.head, "HTTP/1.1 %d ", &r.status) != 1)
		return r;
	cl = strcasestr(r.head, "\r\nContent-Length: ");
	clen = cl ? strtoul(cl + 18, NULL, 10) : 0;
	if (head_only)
		return r;
	r.body = calloc(1, clen + 1);
	while (r.body_len < clen) {
		ssize_t n = cli_read(c, r.body + r.body_len, clen - r.body_len);

		if (n <= 0) {
			r.status = -1;
			break;
		}
		r.body_len += (size_t)n;
	}
	return r;
}

/* Whether the server closed (EOF or reset) within the socket's timeout, nothing more said. */
static bool closed_by_server(struct cli *c)
{
	char b[64];
	ssize_t n = cli_read(c, b, sizeof(b));

	return n == 0 || (n < 0 && errno == ECONNRESET);
}

/* @req on a new connection: its one answer, the connection closed after it when @closes. */
static struct resp one(const char *req, bool closes)
{
	struct cli c = cli_open();
	struct resp r;

	cli_puts(&c, req);
	r = cli_resp(&c, false);
	if (closes)
		CU_ASSERT(closed_by_server(&c));
	cli_close(&c);
	return r;
}

static void test_scrape(void)
{
	struct resp r;

	start_plain();
	r = one("GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\n" PROM_TYPE));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nConnection: close\r\n"));
	CU_ASSERT(r.body &&
		strstr(r.body,
			"# TYPE edge_test_things_total counter\nedge_test_things_total 42\n"));
	resp_free(&r);
	/* a query string is ignored; the absolute form is understood */
	r = one("GET /metrics?name[]=x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.body && strstr(r.body, "edge_test_things_total 42\n"));
	resp_free(&r);
	r = one("GET http://127.0.0.1/metrics HTTP/1.0\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	r = one("GET / HTTP/1.0\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nContent-Type: text/html; charset=utf-8\r\n"));
	CU_ASSERT(r.body && strstr(r.body, "<a href=\"/metrics\">"));
	resp_free(&r);
	CU_ASSERT(WAIT_STAT(connections_now, 0, 3000));
	CU_ASSERT_EQUAL(stats().scrapes, 3);
	CU_ASSERT(stats().bytes_out > 200);
	stop();
}

/* HEAD: the same head, Content-Length included, and no body: the next answer follows. */
static void test_head(void)
{
	struct cli c;
	struct resp r, g;

	start_plain();
	c = cli_open();
	cli_puts(&c, "HEAD /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	r = cli_resp(&c, true);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\n" PROM_TYPE));
	cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	g = cli_resp(&c, false);
	CU_ASSERT_EQUAL(g.status, 200); /* the first bytes after HEAD's head are GET's */
	CU_ASSERT_PTR_NOT_NULL(strcasestr(r.head, "Content-Length: "));
	CU_ASSERT_EQUAL(strtoul(strcasestr(r.head, "Content-Length: ") + 16, NULL, 10), g.body_len);
	resp_free(&g);
	cli_close(&c);
	stop();
}

static void test_errors(void)
{
	char big[10240];
	struct resp r;
	struct cli c;

	start_plain();
	/* 404 keeps the connection */
	c = cli_open();
	cli_puts(&c, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n");
	r = cli_resp(&c, false);
	CU_ASSERT_EQUAL(r.status, 404);
	CU_ASSERT_PTR_NULL(strstr(r.head, "Connection: close"));
	resp_free(&r);
	cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	r = cli_resp(&c, false);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	cli_close(&c);
	/* the others close it, answered */
	r = one("POST /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc", true);
	CU_ASSERT_EQUAL(r.status, 405);
	CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nAllow: GET, HEAD\r\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nConnection: close\r\n"));
	resp_free(&r);
	r = one("GET /metrics HTTP/1.1\r\nHost x\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 400);
	resp_free(&r);
	r = one("GET /metrics HTTP/1.1\r\n\r\n", true); /* no Host */
	CU_ASSERT_EQUAL(r.status, 400);
	resp_free(&r);
	r = one("GET /metrics HTTP/2.0\r\nHost: x\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 505);
	resp_free(&r);
	snprintf(big, sizeof(big), "GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: %09000d\r\n\r\n", 0);
	r = one(big, true);
	CU_ASSERT_EQUAL(r.status, 431);
	resp_free(&r);
	snprintf(big, sizeof(big), "GET /%03000d HTTP/1.1\r\nHost: x\r\n\r\n", 0);
	r = one(big, true);
	CU_ASSERT_EQUAL(r.status, 414);
	resp_free(&r);
	CU_ASSERT(WAIT_STAT(connections_now, 0, 3000));
	CU_ASSERT_EQUAL(stats().not_found, 1);
	CU_ASSERT_EQUAL(stats().bad_requests, 6);
	stop();
}

/* Two requests on one connection, then a pipelined pair; HTTP/1.0 with keep-alive too. */
static void test_keep_alive(void)
{
	struct cli c;
	struct resp r;

	start_plain();
	c = cli_open();
	for (int i = 0; i < 2; i++) {
		cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
		r = cli_resp(&c, false);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NULL(strstr(r.head, "Connection:"));
		resp_free(&r);
	}
	cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\nGET / HTTP/1.1\r\nHost: x\r\n\r\n");
	for (int i = 0; i < 2; i++) {
		r = cli_resp(&c, false);
		CU_ASSERT_EQUAL(r.status, 200);
		resp_free(&r);
	}
	CU_ASSERT_EQUAL(stats().connections_now, 1);
	cli_close(&c);
	c = cli_open();
	for (int i = 0; i < 2; i++) {
		cli_puts(&c, "GET /metrics HTTP/1.0\r\nConnection: keep-alive\r\n\r\n");
		r = cli_resp(&c, false);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nConnection: keep-alive\r\n"));
		resp_free(&r);
	}
	cli_close(&c);
	CU_ASSERT_EQUAL(stats().scrapes, 5);
	stop();
}

/* The last request a connection may make is answered with close. */
static void test_request_limit(void)
{
	struct cli c;
	struct resp r;

	start_plain();
	c = cli_open();
	for (int i = 1; i <= METRICS_HTTP_MAX_REQUESTS; i++) {
		cli_puts(&c, "GET / HTTP/1.1\r\nHost: x\r\n\r\n");
		r = cli_resp(&c, false);
		CU_ASSERT_EQUAL(r.status, 200);
		if (i == METRICS_HTTP_MAX_REQUESTS)
			CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\nConnection: close\r\n"));
		resp_free(&r);
		if (r.status != 200)
			break;
	}
	CU_ASSERT(closed_by_server(&c));
	cli_close(&c);
	stop();
}

static void test_allow_list(void)
{
	struct metrics_http_cfg cfg = { .addr = LOOPBACK,
		.n_allow = 2,
		.allow = { { htonl(0x0a000000), 8 }, { htonl(0xc6120000), 15 } } };
	struct cli c;
	struct resp r;

	start(&cfg);
	c = cli_open();
	cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(closed_by_server(&c)); /* no answer */
	cli_close(&c);
	CU_ASSERT(WAIT_STAT(refused, 1, 3000));
	CU_ASSERT_EQUAL(stats().scrapes, 0);
	CU_ASSERT_EQUAL(stats().bytes_out, 0);
	stop();
	/* and the loopback let in once listed */
	cfg.allow[1].net = htonl(0x7f000000);
	cfg.allow[1].prefix = 8;
	start(&cfg);
	r = one("GET /metrics HTTP/1.0\r\n\r\n", true);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	CU_ASSERT_EQUAL(stats().refused, 0);
	stop();
}

static void test_trickle(void)
{
	static const char req[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nUser-Agent: t\r\n\r\n";
	struct cli c;
	struct resp r;

	start_plain();
	c = cli_open();
	for (size_t i = 0; i < sizeof(req) - 1; i++) {
		cli_send(&c, req + i, 1);
		msleep(2);
	}
	r = cli_resp(&c, false);
	CU_ASSERT_EQUAL(r.status, 200);
	CU_ASSERT(r.body && strstr(r.body, "edge_test_things_total 42\n"));
	resp_free(&r);
	cli_close(&c);
	stop();
}

/* 40 clients connect and say nothing: 32 stay, the 8 oldest idle ones are closed; the 32
 * are then all answered. */
static void test_connection_limit(void)
{
	struct cli c[40];
	int ok = 0, closed = 0;

	start_plain();
	for (int i = 0; i < 40; i++) {
		c[i] = cli_open();
		/* one at a time, so that "oldest" has a meaning */
		CU_ASSERT(WAIT_STAT(connections_now, (unsigned)(i < 32 ? i + 1 : 32), 3000));
	}
	CU_ASSERT(WAIT_STAT(over_limit, 8, 3000));
	CU_ASSERT_EQUAL(stats().connections_now, 32);
	for (int i = 0; i < 40; i++)
		cli_puts(&c[i], "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	for (int i = 0; i < 40; i++) {
		struct resp r = cli_resp(&c[i], false);

		if (i < 8) {
			closed += r.status == -1;
		} else {
			ok += r.status == 200;
		}
		resp_free(&r);
		cli_close(&c[i]);
	}
	CU_ASSERT_EQUAL(closed, 8);
	CU_ASSERT_EQUAL(ok, 32);
	CU_ASSERT(WAIT_STAT(connections_now, 0, 3000));
	CU_ASSERT_EQUAL(stats().scrapes, 32);
	stop();
}

/* A client that sends nothing, one that stops mid-head, one that does not read a 10 MB
 * answer: all closed after 10 s, counted. */
static void test_timeouts(void)
{
	struct metrics_family big = { .name = "edge_test_big_total",
		.help = "Big.",
		.type = METRICS_COUNTER,
		.labels = big_labels,
		.collect = big_collect };
	struct cli quiet, half, slow;
	struct timespec t0, t1;
	bool done;

	CU_ASSERT_EQUAL_FATAL(metrics_register(reg, &big), 0);
	start_plain();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	quiet = cli_open();
	half = cli_open();
	cli_puts(&half, "GET /metrics HTTP/1.1\r\nHo");
	slow = (struct cli){ .fd = tcp_connect(metrics_http_port(srv), 4096) };
	cli_puts(&slow, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	done = WAIT_STAT(timeouts, 3, METRICS_HTTP_HEAD_MS + 5000);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT(done);
	CU_ASSERT(t1.tv_sec - t0.tv_sec >= METRICS_HTTP_HEAD_MS / 1000 - 1);
	CU_ASSERT(WAIT_STAT(connections_now, 0, 3000));
	CU_ASSERT(closed_by_server(&quiet));
	cli_close(&quiet);
	cli_close(&half);
	cli_close(&slow);
	stop();
	CU_ASSERT_EQUAL(metrics_unregister(reg, "edge_test_big_total"), 0);
}

/* Stop returns at once with clients connected, idle and mid-head; they see the close. */
static void test_stop_with_clients(void)
{
	struct cli idle, half;
	struct timespec t0, t1;
	struct resp r;

	start_plain();
	idle = cli_open();
	cli_puts(&idle, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	r = cli_resp(&idle, false);
	CU_ASSERT_EQUAL(r.status, 200);
	resp_free(&r);
	half = cli_open();
	cli_puts(&half, "GET /met");
	CU_ASSERT(WAIT_STAT(connections_now, 2, 3000));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	stop();
	clock_gettime(CLOCK_MONOTONIC, &t1);
	CU_ASSERT((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000 < 1000);
	CU_ASSERT(closed_by_server(&idle));
	CU_ASSERT(closed_by_server(&half));
	cli_close(&idle);
	cli_close(&half);
}

static void test_start_errors(void)
{
	struct metrics_http_cfg cfg = { .addr = LOOPBACK };
	struct metrics_http *second;
	char want[64];

	start_plain();
	cfg.port = metrics_http_port(srv);
	second = metrics_http_start(reg, &cfg, err, sizeof(err));
	CU_ASSERT_PTR_NULL(second);
	snprintf(want, sizeof(want), "127.0.0.1:%u: Address already in use", cfg.port);
	CU_ASSERT_STRING_EQUAL(err, want);
	metrics_http_stop(second);
	stop();
	cfg.port = 0;
	cfg.key_file = "/nonexistent/key.pem";
	cfg.cert_file = "/nonexistent/cert.pem";
	CU_ASSERT_PTR_NULL(metrics_http_start(reg, &cfg, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "/nonexistent/cert.pem: No such file or directory");
	cfg.cert_file = NULL;
	CU_ASSERT_PTR_NULL(metrics_http_start(reg, &cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "certificate"));
	cfg.key_file = NULL;
	cfg.n_allow = 1;
	cfg.allow[0].prefix = 33;
	CU_ASSERT_PTR_NULL(metrics_http_start(reg, &cfg, err, sizeof(err)));
	CU_ASSERT_STRING_EQUAL(err, "allow-list: prefix /33: must be 0..32");
}

static bool tls_connect(struct cli *c, const char *ca)
{
	int r;

	c->ctx = SSL_CTX_new(TLS_client_method());
	CU_ASSERT_FATAL(c->ctx != NULL);
	CU_ASSERT_FATAL(SSL_CTX_load_verify_locations(c->ctx, ca, NULL) == 1);
	SSL_CTX_set_verify(c->ctx, SSL_VERIFY_PEER, NULL);
	c->ssl = SSL_new(c->ctx);
	SSL_set1_host(c->ssl, "edge.lab.example");
	SSL_set_tlsext_host_name(c->ssl, "edge.lab.example");
	SSL_set_fd(c->ssl, c->fd);
	r = SSL_connect(c->ssl); /* blocking, bounded by the socket's timeouts */
	ERR_clear_error();
	return r == 1;
}

static void test_tls(void)
{
	struct tc_lab lab;
	char key[128], chain[128], ca[128];
	struct metrics_http_cfg cfg = { .addr = LOOPBACK, .key_file = key, .cert_file = chain };
	const struct tc_spec other_ca = { .cn = "Other CA", .ca = true, .serial = 7 };
	EVP_PKEY *other_key;
	X509 *other;
	struct cli c;
	struct resp r;

	CU_ASSERT_EQUAL_FATAL(tc_lab_make(&lab), 0);
	snprintf(key, sizeof(key), "%s/edge.key", lab.dir);
	snprintf(chain, sizeof(chain), "%s/cmsedge-fullchain.cer", lab.dir);
	snprintf(ca, sizeof(ca), "%s/ca.pem", lab.dir);
	start(&cfg);
	c = cli_open();
	CU_ASSERT_FATAL(tls_connect(&c, ca));
	CU_ASSERT(SSL_version(c.ssl) >= TLS1_2_VERSION);
	for (int i = 0; i < 2; i++) { /* kept alive under TLS too */
		cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: edge.lab.example\r\n\r\n");
		r = cli_resp(&c, false);
		CU_ASSERT_EQUAL(r.status, 200);
		CU_ASSERT_PTR_NOT_NULL(strstr(r.head, "\r\n" PROM_TYPE));
		CU_ASSERT(r.body && strstr(r.body, "edge_test_things_total 42\n"));
		resp_free(&r);
	}
	cli_puts(&c, "GET /x HTTP/1.1\r\nHost: edge.lab.example\r\nConnection: close\r\n\r\n");
	r = cli_resp(&c, false);
	CU_ASSERT_EQUAL(r.status, 404);
	resp_free(&r);
	CU_ASSERT(closed_by_server(&c)); /* close_notify */
	cli_close(&c);
	/* plain HTTP on the TLS port: a failed handshake, counted, no answer */
	c = cli_open();
	cli_puts(&c, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n");
	CU_ASSERT(closed_by_server(&c));
	cli_close(&c);
	CU_ASSERT(WAIT_STAT(tls_failures, 1, 3000));
	/* a client that does not trust our CA: its alert fails the handshake too */
	other_key = tc_key();
	other = tc_cert(&other_ca, other_key, NULL, NULL);
	CU_ASSERT_FATAL(other && tc_write(lab.dir, "other.pem", NULL, &other, 1) == 0);
	snprintf(ca, sizeof(ca), "%s/other.pem", lab.dir);
	c = cli_open();
	CU_ASSERT(!tls_connect(&c, ca));
	cli_close(&c);
	CU_ASSERT(WAIT_STAT(tls_failures, 2, 3000));
	X509_free(other);
	EVP_PKEY_free(other_key);
	CU_ASSERT(WAIT_STAT(connections_now, 0, 3000));
	CU_ASSERT_EQUAL(stats().scrapes, 2);
	stop();
	/* a key that is not the certificate's */
	snprintf(chain, sizeof(chain), "%s/ca.pem", lab.dir);
	CU_ASSERT_PTR_NULL(metrics_http_start(reg, &cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "not the key of the certificate in"));
	/* a file that is no key */
	snprintf(chain, sizeof(chain), "%s/cmsedge-fullchain.cer", lab.dir);
	snprintf(key, sizeof(key), "%s/ca.pem", lab.dir);
	CU_ASSERT_PTR_NULL(metrics_http_start(reg, &cfg, err, sizeof(err)));
	CU_ASSERT_PTR_NOT_NULL(strstr(err, "ca.pem: not a PEM private key"));
	tc_lab_free(&lab);
}

/* ---- the parser ---- */

static struct metrics_http_req req;

static int parse(const char *s)
{
	return metrics_http_parse(s, strlen(s), &req);
}

static void test_parse_ok(void)
{
	static const char get[] = "GET /metrics?x=1 HTTP/1.1\r\nHost: a\r\nAccept: */*\r\n\r\n";

	CU_ASSERT_EQUAL(parse(get), (int)strlen(get));
	CU_ASSERT_EQUAL(req.method, METRICS_HTTP_GET);
	CU_ASSERT_STRING_EQUAL(req.path, "/metrics");
	CU_ASSERT_EQUAL(req.minor, 1);
	CU_ASSERT(req.keep_alive);
	/* what follows the head is not the parser's */
	CU_ASSERT_EQUAL(metrics_http_parse("HEAD / HTTP/1.0\n\nGET", 20, &req), 17);
	CU_ASSERT_EQUAL(req.method, METRICS_HTTP_HEAD);
	CU_ASSERT_STRING_EQUAL(req.path, "/");
	CU_ASSERT_EQUAL(req.minor, 0);
	CU_ASSERT(!req.keep_alive);
	CU_ASSERT(parse("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") > 0 && req.keep_alive);
	CU_ASSERT(parse("GET / HTTP/1.1\r\nHost: a\r\nConnection: te, close\r\n\r\n") > 0);
	CU_ASSERT(!req.keep_alive);
	CU_ASSERT(parse("GET http://h:9100/metrics?a HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CU_ASSERT_STRING_EQUAL(req.path, "/metrics");
	CU_ASSERT(parse("GET HTTP://h HTTP/1.1\r\nHost: h\r\n\r\n") > 0);
	CU_ASSERT_STRING_EQUAL(req.path, "/");
	CU_ASSERT(parse("\r\nGET / HTTP/1.9\r\nHost:a\r\nContent-Length: 0\r\n\r\n") > 0);
	CU_ASSERT_EQUAL(req.minor, 9);
}

/* Every prefix of a good head needs more bytes, byte by byte and CR by CR. */
static void test_parse_incomplete(void)
{
	static const char get[] = "\r\nGET /metrics HTTP/1.1\r\nHost: a\r\nX: \t y \r\n\r\n";

	for (size_t n = 0; n < sizeof(get) - 1; n++)
		CU_ASSERT_EQUAL(metrics_http_parse(get, n, &req), 0);
	CU_ASSERT_EQUAL(metrics_http_parse(get, sizeof(get) - 1, &req), (int)sizeof(get) - 1);
}

static void test_parse_errors(void)
{
	static char big[METRICS_HTTP_MAX_HEAD + 64], uri[METRICS_HTTP_MAX_URI + 64];
	static const char *const bad[] = {
		"GARBAGE\r\n\r\n",
		" GET / HTTP/1.1\r\n",
		"GET  / HTTP/1.1\r\n",
		"GET /\r\n",
		"GET / HTTP/1.1 \r\n",
		"GET / http/1.1\r\n",
		"GET / HTTP/1.10\r\n",
		"GET / HTTP/1.1\r\rHost: a\r\n\r\n",
		"GET metrics HTTP/1.1\r\n",
		"GET * HTTP/1.1\r\n",
		"GET http:///x HTTP/1.1\r\n",
		"GET /\x01 HTTP/1.1\r\n",
		"GET /\xc3\xa9 HTTP/1.1\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n",
		"GET / HTTP/1.1\r\nHost : a\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n",
		"GET / HTTP/1.1\r\nHost: a\x7f\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n",
		"GET / HTTP/1.1\r\n\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n",
		"GET / HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n",
		"\rGET",
		"G\rET",
	};
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int rc = parse(bad[i]);

		if (rc != -400)
			fprintf(stderr, "\n  bad[%zu]: %d\n", i, rc);
		CU_ASSERT_EQUAL(rc, -400);
	}
	/* with its NUL: strlen would stop there */
	CU_ASSERT_EQUAL(metrics_http_parse("GET / HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n", 35,
				&req),
		-400);
	CU_ASSERT_EQUAL(parse("POST /metrics HTTP/1.1\r\n"), -405);
	CU_ASSERT_EQUAL(parse("get /metrics HTTP/1.1\r\n"), -405);
	CU_ASSERT_EQUAL(parse("AVERYLONGMETHODNAME"), -405); /* before its end */
	CU_ASSERT_EQUAL(parse("GET / HTTP/2.0\r\n"), -505);
	CU_ASSERT_EQUAL(parse("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), -505);
	CU_ASSERT_EQUAL(parse("GET / HTTP/0.9\r\n"), -505);
	memset(uri, 'a', sizeof(uri));
	memcpy(uri, "GET /", 5);
	CU_ASSERT_EQUAL(metrics_http_parse(uri, sizeof(uri), &req), -414); /* no end yet */
	memcpy(uri + sizeof(uri) - 12, " HTTP/1.1\r\n", 11);
	CU_ASSERT_EQUAL(metrics_http_parse(uri, sizeof(uri) - 1, &req), -414);
	/* a head of exactly the limit is fine, a byte more is not; unfinished, the same */
	memset(big, 'a', sizeof(big));
	i = (size_t)snprintf(big, sizeof(big), "GET / HTTP/1.1\r\nHost: a\r\nX: ");
	big[i] = 'a'; /* snprintf's NUL */
	memcpy(big + METRICS_HTTP_MAX_HEAD - 4, "\r\n\r\n", 4);
	CU_ASSERT_EQUAL(metrics_http_parse(big, METRICS_HTTP_MAX_HEAD, &req),
		METRICS_HTTP_MAX_HEAD);
	memset(big + METRICS_HTTP_MAX_HEAD - 4, 'a', 4);
	memcpy(big + METRICS_HTTP_MAX_HEAD - 3, "\r\n\r\n", 4);
	CU_ASSERT_EQUAL(metrics_http_parse(big, METRICS_HTTP_MAX_HEAD + 1, &req), -431);
	memset(big + i, 'a', sizeof(big) - i);
	CU_ASSERT_EQUAL(metrics_http_parse(big, METRICS_HTTP_MAX_HEAD - 1, &req), 0);
	CU_ASSERT_EQUAL(metrics_http_parse(big, METRICS_HTTP_MAX_HEAD, &req), -431);
}

static const struct unit_test tests[] = {
	{ "parse: good heads, keep-alive, paths", test_parse_ok },
	{ "parse: every prefix of a head needs more", test_parse_incomplete },
	{ "parse: 400, 405, 414, 431, 505", test_parse_errors },
	{ "GET /metrics, a query string, absolute form, /", test_scrape },
	{ "HEAD: the head without the body", test_head },
	{ "404 kept alive; 405, 400, 505, 431, 414 closed", test_errors },
	{ "keep-alive: two requests, a pipelined pair, HTTP/1.0", test_keep_alive },
	{ "keep-alive: bounded requests per connection", test_request_limit },
	{ "allow-list: refused at accept, unanswered, counted", test_allow_list },
	{ "a head trickled byte by byte", test_trickle },
	{ "40 clients: 32 kept, the oldest idle closed", test_connection_limit },
	{ "TLS: a scrape verified against the CA, failures counted", test_tls },
	{ "start: address in use, TLS files, allow-list", test_start_errors },
	{ "stop with clients connected", test_stop_with_clients },
	{ "timeouts: silent, half a head, a reader too slow", test_timeouts },
	{ NULL, NULL },
};

int main(void)
{
	int ret;

	reg = metrics_registry_new();
	if (!reg || metrics_register(reg, &thing) != 0)
		return 1;
	ret = unit_run("metrics_http", tests);
	metrics_registry_free(reg);
	return ret;
}
