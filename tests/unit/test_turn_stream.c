/* The TCP/TLS layer of the TURN server on loopback, with real sockets and OpenSSL: frames
 * coalesced and split byte by byte, a stream of garbage, TLS with the client verifying our
 * certificate and ALPN stun.turn, a stalled handshake, the per-address limit, and certificate
 * files that change on disk (the next handshake takes the new one, a broken file leaves the
 * last good one); the browser port, TLS and TURN over TCP on one port told apart by the
 * first byte. Binding requests need no allocation, so they are what the clients send. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/ssl.h>
#include <rte_eal.h>

#include "edge_log.h"
#include "stun.h"
#include "test_certs.h"
#include "turn_server.h"
#include "turn_stream.h"
#include "turn_tables.h"
#include "unit.h"

static struct edge_cfg cfg;
static struct turn_server *srv;
static struct tstreams *ts;
static struct tstream_cfg tcfg;
static struct tc_lab lab;
static uint16_t port;

static int fake_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	(void)ctx, (void)ifi, (void)ip;
	memset(mac, 2, 6);
	return 0;
}

static uint64_t real_ms(void *ctx)
{
	struct timespec t;

	(void)ctx;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000 + (uint64_t)t.tv_nsec / 1000000;
}

static uint64_t real_unix(void *ctx)
{
	(void)ctx;
	return (uint64_t)time(NULL);
}

static int loopback_only(void *ctx, int family, const void *addr)
{
	uint32_t ip;

	(void)ctx;
	if (family == AF_INET6)
		return memcmp(addr, &in6addr_loopback, 16) ? -1 : 0; /* @addr may be unaligned */
	memcpy(&ip, addr, 4);
	return ip == htonl(INADDR_LOOPBACK) ? 0 : -1;
}

static bool have_ipv6; /* ::1 works here: the browser port listens there too */

/* Serves the stream layer for @ms milliseconds (its tick too). */
static void pump(int ms)
{
	uint64_t end = real_ms(NULL) + (uint64_t)ms, tick = 0;

	while (real_ms(NULL) < end) {
		tstreams_serve(ts);
		if (real_ms(NULL) >= tick) {
			tstreams_tick(ts);
			tick = real_ms(NULL) + 100;
		}
		usleep(1000);
	}
}

static int dial(uint16_t p)
{
	struct sockaddr_in sa = { .sin_family = AF_INET,
		.sin_port = htons(p),
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	struct timeval tv = { 2, 0 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CU_ASSERT_FATAL(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	return fd;
}

static size_t binding(uint8_t *buf, uint8_t id)
{
	struct stun_builder b;
	uint8_t tid[12] = { id };

	stun_build(&b, buf, 64, STUN_BINDING, STUN_REQUEST, tid);
	return (size_t)stun_build_end(&b);
}

/* Reads the answers on @fd (the server being pumped meanwhile) until @n came: how many did,
 * each a Binding success for transaction IDs @first, @first + 1, ... in order. */
static int answers(int fd, int first, int n)
{
	uint8_t buf[4096];
	size_t have = 0;
	int got = 0;

	for (int round = 0; round < 100 && got < n; round++) {
		ssize_t r;

		pump(10);
		r = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (r > 0)
			have += (size_t)r;
		while (have >= 20 && (size_t)stun_frame_len(buf, have) <= have) {
			size_t fl = (size_t)stun_frame_len(buf, have);
			struct stun_msg m;

			if (stun_parse(buf, fl, &m) == 0 && m.method == STUN_BINDING &&
				m.cls == STUN_SUCCESS && m.tid[0] == first + got)
				got++;
			memmove(buf, buf + fl, have - fl);
			have -= fl;
		}
	}
	return got;
}

static void test_framing(void)
{
	uint8_t two[128], one[64];
	size_t l1 = binding(two, 1), l2 = binding(two + l1, 2), l3 = binding(one, 3);
	int fd = dial(port);

	CU_ASSERT_EQUAL(send(fd, two, l1 + l2, 0), (ssize_t)(l1 + l2)); /* two in one write */
	CU_ASSERT_EQUAL(answers(fd, 1, 2), 2);
	for (size_t i = 0; i < l3; i++) { /* one, a byte at a time */
		CU_ASSERT_EQUAL(send(fd, one + i, 1, 0), 1);
		pump(2);
	}
	CU_ASSERT_EQUAL(answers(fd, 3, 1), 1);
	close(fd);
}

static void test_garbage_closes(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t before = st->framing_errors;
	uint8_t junk[64], c;
	int fd = dial(port);

	memset(junk, 0xff, sizeof(junk)); /* neither STUN nor ChannelData */
	CU_ASSERT_EQUAL(send(fd, junk, sizeof(junk), 0), (ssize_t)sizeof(junk));
	pump(50);
	CU_ASSERT_EQUAL(recv(fd, &c, 1, 0), 0); /* closed, no answer */
	CU_ASSERT_EQUAL(st->framing_errors, before + 1);
	close(fd);
}

/* A TLS client trusting the lab CA, offering ALPN stun.turn: its SSL, or NULL. */
static SSL *tls_dial_to(uint16_t p, SSL_CTX **ctx, int *fd)
{
	static const unsigned char alpn[] = "\x09stun.turn";
	char ca[128];
	SSL *s;

	snprintf(ca, sizeof(ca), "%s/ca.pem", lab.dir);
	*ctx = SSL_CTX_new(TLS_client_method());
	SSL_CTX_set_verify(*ctx, SSL_VERIFY_PEER, NULL);
	CU_ASSERT_FATAL(SSL_CTX_load_verify_locations(*ctx, ca, NULL) == 1);
	SSL_CTX_set_alpn_protos(*ctx, alpn, sizeof(alpn) - 1);
	*fd = dial(p);
	s = SSL_new(*ctx);
	SSL_set_fd(s, *fd);
	SSL_set1_host(s, "edge.lab.example");
	/* the server is served between the client's steps: connect in non-blocking turns */
	{
		struct timeval tv = { 0, 20000 };

		setsockopt(*fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	for (int i = 0; i < 100; i++) {
		int r = SSL_connect(s);

		if (r == 1)
			return s;
		if (SSL_get_error(s, r) != SSL_ERROR_WANT_READ &&
			SSL_get_error(s, r) != SSL_ERROR_SYSCALL)
			break;
		pump(5);
	}
	SSL_free(s);
	close(*fd);
	SSL_CTX_free(*ctx);
	return NULL;
}

static SSL *tls_dial(SSL_CTX **ctx, int *fd)
{
	return tls_dial_to(tcfg.tls_port, ctx, fd);
}

static long served_serial(void)
{
	SSL_CTX *ctx;
	int fd;
	SSL *s = tls_dial(&ctx, &fd);
	long serial = -1;

	if (s) {
		X509 *x = SSL_get1_peer_certificate(s);

		serial = x ? ASN1_INTEGER_get(X509_get0_serialNumber(x)) : -1;
		X509_free(x);
		SSL_free(s);
		close(fd);
		SSL_CTX_free(ctx);
	}
	return serial;
}

static void test_tls(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t hs = st->handshakes, alpn = st->alpn_turn;
	const unsigned char *proto;
	unsigned int plen;
	uint8_t req[64], buf[256];
	int fd, n = 0;
	SSL_CTX *ctx;
	SSL *s = tls_dial(&ctx, &fd);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(SSL_get_verify_result(s), X509_V_OK);
	SSL_get0_alpn_selected(s, &proto, &plen);
	CU_ASSERT(plen == 9 && !memcmp(proto, "stun.turn", 9));
	CU_ASSERT(SSL_version(s) >= TLS1_2_VERSION);
	CU_ASSERT_EQUAL(SSL_write(s, req, (int)binding(req, 1)), 20);
	for (int i = 0; i < 100 && n <= 0; i++) {
		pump(5);
		n = SSL_read(s, buf, sizeof(buf));
	}
	CU_ASSERT_FATAL(n >= 20);
	CU_ASSERT_EQUAL(stun_frame_len(buf, (size_t)n), n);
	pump(20);
	CU_ASSERT_EQUAL(st->handshakes, hs + 1);
	CU_ASSERT_EQUAL(st->alpn_turn, alpn + 1);
	SSL_free(s);
	close(fd);
	SSL_CTX_free(ctx);
}

static void test_stalled_handshake(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t before = st->handshake_timeouts;
	uint8_t half[] = { 0x16, 0x03, 0x01, 0x02, 0x00, 0x01 }; /* a ClientHello's start */
	uint8_t c;
	int fd = dial(tcfg.tls_port);

	CU_ASSERT_EQUAL(send(fd, half, sizeof(half), 0), (ssize_t)sizeof(half));
	pump(1300); /* the handshake timeout is 1 s here */
	CU_ASSERT_EQUAL(st->handshake_timeouts, before + 1);
	CU_ASSERT(recv(fd, &c, 1, 0) <= 0);
	close(fd);
}

static void test_per_address_limit(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t before = st->refused_addr;
	uint8_t c, req[64];
	int fd[3];

	for (int i = 0; i < 3; i++) {
		fd[i] = dial(port);
		pump(20);
	}
	CU_ASSERT_EQUAL(st->refused_addr, before + 1); /* the limit is 2 here */
	CU_ASSERT_EQUAL(recv(fd[2], &c, 1, 0), 0);     /* the third one: closed at once */
	CU_ASSERT_EQUAL(send(fd[0], req, binding(req, 1), 0), 20);
	CU_ASSERT_EQUAL(answers(fd[0], 1, 1), 1); /* the first ones are served */
	for (int i = 0; i < 3; i++)
		close(fd[i]);
	pump(50);
}

static void test_certificate_changes(void)
{
	struct tc_spec spec = { .cn = "edge.lab.example",
		.san = "DNS:edge.lab.example",
		.serial = 4242 };
	X509 *chain[2] = { NULL, lab.ca };

	CU_ASSERT_EQUAL(served_serial(), 1000);
	/* renewed in place, as an operator's upload would */
	chain[0] = tc_cert(&spec, lab.key, lab.ca, lab.ca_key);
	usleep(20000); /* a new modification time, even on a coarse clock */
	CU_ASSERT_EQUAL_FATAL(tc_write(lab.dir, "cmsedge-fullchain.cer", NULL, chain, 2), 0);
	pump(300);
	CU_ASSERT_EQUAL(served_serial(), 4242);
	/* broken on disk: the last good one stays */
	usleep(20000);
	CU_ASSERT_EQUAL(tc_write_text(lab.dir, "cmsedge-fullchain.cer", "not a certificate\n"), 0);
	pump(300);
	CU_ASSERT_EQUAL(served_serial(), 4242);
	X509_free(chain[0]);
}

static void test_first_byte(void)
{
	CU_ASSERT_EQUAL(tstream_first_byte(0x16), TSTREAM_TLS); /* a ClientHello's record */
	for (int b = 0; b < 4; b++)
		CU_ASSERT_EQUAL(tstream_first_byte((uint8_t)b), TSTREAM_TURN); /* STUN */
	for (int b = 0x40; b < 0x80; b++)
		CU_ASSERT_EQUAL(tstream_first_byte((uint8_t)b), TSTREAM_TURN); /* ChannelData */
	CU_ASSERT_EQUAL(tstream_first_byte('G'), TSTREAM_TURN); /* 0x47: a channel number */
	CU_ASSERT(tstream_first_byte(0x04) < 0);
	CU_ASSERT(tstream_first_byte(0x14) < 0); /* a TLS record, but not a handshake */
	CU_ASSERT(tstream_first_byte(0x17) < 0);
	CU_ASSERT(tstream_first_byte(0x80) < 0); /* RTP */
	CU_ASSERT(tstream_first_byte(0xff) < 0);
}

/* The browser port takes TURN over TCP: a Binding answered, frames split as they come. */
static void test_mux_tcp(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t tcp = st->mux_tcp, acc = st->accepted[0];
	uint8_t req[64];
	size_t l = binding(req, 7);
	int fd = dial(tcfg.mux_port);

	CU_ASSERT_EQUAL(send(fd, req, 1, 0), 1); /* the first byte alone decides */
	pump(20);
	CU_ASSERT_EQUAL(st->mux_tcp, tcp + 1);
	CU_ASSERT_EQUAL(send(fd, req + 1, l - 1, 0), (ssize_t)(l - 1));
	CU_ASSERT_EQUAL(answers(fd, 7, 1), 1);
	CU_ASSERT_EQUAL(st->accepted[0], acc + 1);
	close(fd);
}

/* ... and TLS on the same port: verified, ALPN stun.turn, a Binding answered. */
static void test_mux_tls(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t tls = st->mux_tls, hs = st->handshakes;
	const unsigned char *proto;
	unsigned int plen;
	uint8_t req[64], buf[256];
	int fd, n = 0;
	SSL_CTX *ctx;
	SSL *s = tls_dial_to(tcfg.mux_port, &ctx, &fd);

	CU_ASSERT_PTR_NOT_NULL_FATAL(s);
	CU_ASSERT_EQUAL(SSL_get_verify_result(s), X509_V_OK);
	SSL_get0_alpn_selected(s, &proto, &plen);
	CU_ASSERT(plen == 9 && !memcmp(proto, "stun.turn", 9));
	CU_ASSERT_EQUAL(SSL_write(s, req, (int)binding(req, 9)), 20);
	for (int i = 0; i < 100 && n <= 0; i++) {
		pump(5);
		n = SSL_read(s, buf, sizeof(buf));
	}
	CU_ASSERT_FATAL(n >= 20);
	CU_ASSERT_EQUAL(stun_frame_len(buf, (size_t)n), n);
	CU_ASSERT_EQUAL(st->mux_tls, tls + 1);
	CU_ASSERT_EQUAL(st->handshakes, hs + 1);
	SSL_free(s);
	close(fd);
	SSL_CTX_free(ctx);
}

/* Neither (here 0x80, RTP's; an HTTP request's letters fall among the channel numbers and
 * are skipped as oversize ChannelData, as on the TCP port): closed, counted; and a client that
 * connects and says nothing is closed at the handshake timeout. */
/* The browser port on ::1: an IPv6 client's Binding over TCP is answered with its own IPv6
 * address and port as XOR-MAPPED-ADDRESS (issue 18). */
static void test_mux_ipv6(void)
{
	struct sockaddr_in6 sa = { .sin6_family = AF_INET6,
		.sin6_port = htons(tcfg.mux_port),
		.sin6_addr = IN6ADDR_LOOPBACK_INIT },
			    me;
	socklen_t ml = sizeof(me);
	struct timeval tv = { 2, 0 };
	uint8_t req[64], buf[512];
	size_t l = binding(req, 9), have = 0;
	struct stun_addr mapped;
	struct stun_msg m;
	int fd;

	if (!have_ipv6) {
		fprintf(stderr, "(no ::1 here: skipped) ");
		return;
	}
	fd = socket(AF_INET6, SOCK_STREAM, 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	CU_ASSERT_FATAL(fd >= 0 && connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0);
	getsockname(fd, (struct sockaddr *)&me, &ml);
	CU_ASSERT_EQUAL(send(fd, req, l, 0), (ssize_t)l);
	for (int round = 0; round < 100 && (have < 20 || (size_t)stun_frame_len(buf, have) > have);
		round++) {
		ssize_t r;

		pump(10);
		r = recv(fd, buf + have, sizeof(buf) - have, MSG_DONTWAIT);
		if (r > 0)
			have += (size_t)r;
	}
	CU_ASSERT_FATAL(have >= 20 && stun_parse(buf, (size_t)stun_frame_len(buf, have), &m) == 0);
	CU_ASSERT_EQUAL(m.cls, STUN_SUCCESS);
	CU_ASSERT_FATAL(stun_get_xor_addr(&m, STUN_AI_XOR_MAPPED_ADDRESS, &mapped) == 0);
	CU_ASSERT_EQUAL(mapped.family, 6);
	CU_ASSERT(memcmp(mapped.ip, &in6addr_loopback, 16) == 0);
	CU_ASSERT_EQUAL(mapped.port, me.sin6_port);
	close(fd);
}

static void test_mux_neither(void)
{
	const struct tstream_stats *st = tstreams_stats(ts);
	uint64_t fe = st->framing_errors, hto = st->handshake_timeouts;
	static const char post[] = "\x80POST / HTTP/1.1\r\n";
	uint8_t c;
	int fd = dial(tcfg.mux_port), quiet;

	CU_ASSERT_EQUAL(send(fd, post, sizeof(post) - 1, 0), (ssize_t)(sizeof(post) - 1));
	pump(50);
	CU_ASSERT(recv(fd, &c, 1, 0) <= 0); /* a reset: its bytes were never read */
	CU_ASSERT_EQUAL(st->framing_errors, fe + 1);
	close(fd);
	quiet = dial(tcfg.mux_port);
	pump(1300); /* 1 s here */
	CU_ASSERT_EQUAL(st->handshake_timeouts, hto + 1);
	CU_ASSERT(recv(quiet, &c, 1, 0) <= 0);
	close(quiet);
	pump(20);
}

static const struct unit_test tests[] = {
	{ "frames coalesced in one write, and split a byte at a time", test_framing },
	{ "a stream of neither STUN nor ChannelData is closed, and counted", test_garbage_closes },
	{ "TLS: the client verifies us, ALPN stun.turn, a request answered", test_tls },
	{ "a handshake that stalls is closed at the timeout, and counted", test_stalled_handshake },
	{ "over the per-address limit a connection is closed; the others are served",
		test_per_address_limit },
	{ "a certificate renewed on disk is taken; a broken one leaves the last good one",
		test_certificate_changes },
	{ "the browser port's first byte: 0x16 TLS, STUN and ChannelData TURN, else neither",
		test_first_byte },
	{ "the browser port: TURN over TCP, told by its first byte alone", test_mux_tcp },
	{ "the browser port: TLS verified with ALPN stun.turn, a request answered", test_mux_tls },
	{ "the browser port over IPv6: XOR-MAPPED-ADDRESS is the client's IPv6 address",
		test_mux_ipv6 },
	{ "the browser port: neither is closed and counted; silence at the handshake timeout",
		test_mux_neither },
	{ NULL, NULL },
};

int main(void)
{
	char *eal[] = { "test_turn_stream", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--log-level=lib.*:error", NULL };
	struct turn_env env = { .resolve = fake_resolve, .now_ms = real_ms, .unix_s = real_unix };
	char err[256];
	int failed = 1;

	signal(SIGPIPE, SIG_IGN); /* as edged does: OpenSSL writes to sockets with write() */
	if (rte_eal_init(9, eal) < 0 || turn_tables_init(64, 0) < 0 || tc_lab_make(&lab) < 0)
		return 1;
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_CRIT);
	edge_rcu_reader_start();
	cfg_defaults(&cfg);
	cfg.turn.enabled = true;
	srv = turn_server_new(&cfg, &env);
	ts = srv ? tstreams_new(srv, loopback_only, NULL) : NULL;
	if (!ts)
		return 1;
	tcfg = (struct tstream_cfg){ .bind_ip = htonl(INADDR_LOOPBACK),
		.max_conns = 100,
		.max_per_addr = 2,
		.handshake_s = 1,
		.idle_s = 60 };
	snprintf(tcfg.key, sizeof(tcfg.key), "%s/edge.key", lab.dir);
	snprintf(tcfg.cert, sizeof(tcfg.cert), "%s/cmsedge-fullchain.cer", lab.dir);
	/* three free loopback ports: TCP, TLS, and the browser port's */
	tcfg.mux_ip[0] = htonl(INADDR_LOOPBACK);
	tcfg.n_mux = 1;
	{
		int fd6 = socket(AF_INET6, SOCK_STREAM, 0);
		struct sockaddr_in6 a6 = { .sin6_family = AF_INET6,
			.sin6_addr = IN6ADDR_LOOPBACK_INIT };

		have_ipv6 = fd6 >= 0 && bind(fd6, (struct sockaddr *)&a6, sizeof(a6)) == 0;
		if (fd6 >= 0)
			close(fd6);
		if (have_ipv6) {
			memcpy(tcfg.mux_ip6[0], &in6addr_loopback, 16);
			tcfg.n_mux6 = 1;
		}
	}
	for (int i = 0; i < 200; i++) {
		port = (uint16_t)(40000 + (getpid() * 7 + i * 3) % 9000);
		tcfg.tcp_port = port;
		tcfg.tls_port = (uint16_t)(port + 1);
		tcfg.mux_port = (uint16_t)(port + 2);
		if (tstreams_config(ts, &tcfg, err, sizeof(err)) == 0)
			break;
		tcfg.tcp_port = tcfg.tls_port = tcfg.mux_port = 0;
	}
	if (tcfg.tcp_port)
		failed = unit_run("turn_stream", tests);
	else
		fprintf(stderr, "no free loopback ports: %s\n", err);
	tstreams_free(ts);
	turn_server_free(srv);
	tc_lab_free(&lab);
	edge_rcu_reader_stop();
	edge_rcu_barrier();
	turn_tables_fini();
	rte_eal_cleanup();
	return failed;
}
