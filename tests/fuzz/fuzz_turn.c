/* libFuzzer target for the TURN server as clients drive it over UDP and over TCP/TLS
 * streams: whatever they send, framed or not, signed or not, in whatever order, and whatever
 * peers send back, must neither crash nor leak nor read out of bounds (ASan+UBSan watch),
 * and what the server writes must be well-formed STUN or ChannelData.
 *
 * The input is a list of records [op][arg][len][bytes], each one client or peer action:
 *   op % 6 == 0: a frame on stream connection 1 + arg % 4 (unsigned, as sent)
 *   op % 6 == 1: a datagram from UDP client port 40000 + arg % 4, over IPv6 (from
 *                [2001:db8:20::2 + arg / 4 % 2]) when arg & 0x80
 *   op % 6 == 2: a datagram from a peer to one of the relay ports handed out so far, from
 *                the IPv6 peer [2001:db8:10::2] to the IPv6 relayed address when arg & 0x80
 *                (the relay interface has one: REQUESTED-ADDRESS-FAMILY and
 *                ADDITIONAL-ADDRESS-FAMILY among the fuzzed attributes reach it)
 *   op % 6 == 3: a signed request (method from arg, attributes from the bytes as
 *                [type hi][type lo][len][value...]), on a stream or over UDP (op & 0x80);
 *                the target adds USERNAME, REALM, NONCE and a valid MESSAGE-INTEGRITY, so
 *                every handler past authentication is reachable
 *   op % 6 == 4: stream connection 1 + arg % 4 closes
 *   op % 6 == 5: time passes (arg seconds) and the server ticks
 * After each input, two hours pass: every allocation ends, so inputs do not add up. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include "edge_log.h"
#include "stun.h"
#include "turn_server.h"
#include "turn_tables.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct edge_cfg cfg;
static struct turn_server *srv;
static uint64_t clock_ms = 1000000;
static char nonce[64];
static struct stun_key key;
static uint16_t relay_ports[16];
static unsigned int n_relay;
static uint8_t out[4096];
static uint32_t tid_seq;
/* the relay interface's IPv6 address (a), and the IPv6 peer behind it */
static const uint8_t relay6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x10, [15] = 1 };
static uint8_t peer6[16];

static int fake_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	(void)ctx, (void)ifi;
	memset(mac, 2, 6);
	return (ip & 0xff000000) == 0x09000000 ? -EAGAIN : 0; /* x.x.x.9: ARP never answers */
}

static uint64_t fake_ms(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static uint64_t fake_unix(void *ctx)
{
	(void)ctx;
	return 1700000000;
}

static void fake_to_peer(void *ctx, uint8_t ifi, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t mac[6], const uint8_t *d, size_t len)
{
	static uint8_t sink[65536];

	(void)ctx, (void)ifi, (void)relay_ip, (void)relay_port, (void)peer_ip, (void)peer_port;
	(void)mac;
	memcpy(sink, d, len < sizeof(sink) ? len : sizeof(sink)); /* ASan checks every byte */
}

static int fake_resolve6(void *ctx, uint8_t ifi, const uint8_t ip[16], uint8_t mac[6])
{
	(void)ctx, (void)ifi;
	memset(mac, 2, 6);
	return ip[15] == 9 ? -EAGAIN : 0; /* ...::9: neighbour discovery never answers */
}

static void fake_to_peer6(void *ctx, uint8_t ifi, const uint8_t relay_ip[16], uint16_t relay_port,
	const uint8_t peer_ip[16], uint16_t peer_port, const uint8_t mac[6], const uint8_t *d,
	size_t len)
{
	(void)relay_ip, (void)peer_ip;
	fake_to_peer(ctx, ifi, 0, relay_port, 0, peer_port, mac, d, len);
}

static int fake_tcp_listen(void *ctx, uint32_t conn, uint32_t ip, uint16_t port)
{
	(void)ctx, (void)conn, (void)ip;
	return port & 1 ? -EADDRINUSE : 0;
}

static void fake_tcp_unlisten(void *ctx, uint32_t ip, uint16_t port)
{
	(void)ctx, (void)ip, (void)port;
}

static int fake_tcp_connect(void *ctx, uint32_t conn, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t tid[12])
{
	(void)ctx, (void)conn, (void)relay_ip, (void)relay_port, (void)peer_ip, (void)tid;
	return peer_port & 1 ? -EEXIST : 0;
}

static uint32_t fake_tcp_owner(void *ctx, uint32_t cid)
{
	(void)ctx;
	return cid % 5; /* connections 1..4 own some ids */
}

static void fake_tcp_bind(void *ctx, uint32_t conn, uint32_t cid)
{
	(void)ctx, (void)conn, (void)cid;
}

/* What the server wrote must frame as exactly one STUN message or ChannelData. */
static void check_out(size_t n)
{
	struct stun_msg m;
	struct stun_addr a;

	if (!n)
		return;
	if (n > sizeof(out) || stun_frame_len(out, n) != (int)n)
		abort();
	if ((out[0] & 0xc0) == 0 && stun_parse(out, n, &m) != 0) {
		if (getenv("FUZZ_DEBUG")) {
			fprintf(stderr, "bad output (%zu bytes, parse %d):", n,
				stun_parse(out, n, &m));
			for (size_t i = 0; i < n; i++)
				fprintf(stderr, " %02x", out[i]);
			fprintf(stderr, "\n");
		}
		abort();
	}
	if ((out[0] & 0xc0) == 0 && m.method == STUN_ALLOCATE && m.cls == STUN_SUCCESS &&
		stun_get_xor_addr(&m, STUN_AI_XOR_RELAYED_ADDRESS, &a) == 0)
		relay_ports[n_relay++ % 16] = ntohs(a.port);
}

static struct turn_src stream_src(unsigned int arg)
{
	return (struct turn_src){ .ifi = 1,
		.transport = TURN_TLS,
		.ip = inet_addr("198.18.20.2"),
		.port = htons((uint16_t)(41000 + arg % 4)),
		.dst_ip = inet_addr("198.18.20.1"),
		.dst_port = htons(447),
		.conn = 1 + arg % 4 };
}

static size_t udp_in(unsigned int arg, const uint8_t *d, size_t len)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 2 };
	uint8_t c6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 2 },
		s6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 1 };

	if (arg & 0x80) {
		c6[15] += (uint8_t)(arg / 4 % 2);
		return turn_server_input6(srv, 1, c6, htons((uint16_t)(40000 + arg % 4)), s6,
			htons(3478), mac, d, len, out, sizeof(out));
	}
	return turn_server_input(srv, 1, inet_addr("198.18.20.2"),
		htons((uint16_t)(40000 + arg % 4)), inet_addr("198.18.20.1"), htons(3478), d, len,
		out, sizeof(out));
}

static void signed_request(uint8_t op, uint8_t arg, const uint8_t *d, size_t len)
{
	static const uint16_t methods[] = { STUN_ALLOCATE, STUN_REFRESH, STUN_CREATE_PERMISSION,
		STUN_CHANNEL_BIND, STUN_CONNECT, STUN_CONNECTION_BIND, STUN_BINDING };
	uint8_t buf[2048], tid[12] = { 0 };
	struct stun_builder b;
	struct turn_src src = stream_src(arg >> 3);
	int n;

	tid_seq++;
	memcpy(tid, &tid_seq, sizeof(tid_seq));
	stun_build(&b, buf, sizeof(buf), methods[arg % 7], STUN_REQUEST, tid);
	for (size_t i = 0; i + 3 <= len;) {
		uint16_t type = (uint16_t)(d[i] << 8 | d[i + 1]);
		size_t al = d[i + 2];

		if (i + 3 + al > len)
			al = len - i - 3;
		stun_add(&b, type, d + i + 3, al);
		i += 3 + al;
	}
	stun_add_str(&b, STUN_ATTR_USERNAME, "edge");
	stun_add_str(&b, STUN_ATTR_REALM, "lab.example");
	stun_add_str(&b, STUN_ATTR_NONCE, nonce);
	stun_add_integrity(&b, &key);
	if (arg & 0x40)
		stun_add_fingerprint(&b);
	n = stun_build_end(&b);
	if (n <= 0)
		return;
	if (op & 0x80)
		check_out(udp_in(arg, buf, (size_t)n));
	else
		check_out(turn_server_stream_input(srv, &src, buf, (size_t)n, out, sizeof(out)));
}

/* At exit, with the main thread offline, waits for every call_rcu callback. A retired
 * client table may wait in call_rcu's queue behind retired allocations, which live in DPDK
 * memory that LeakSanitizer does not scan: left queued, the table looks leaked to the leak
 * check that runs at exit. */
static void drain_rcu(void)
{
	edge_rcu_offline();
	edge_rcu_barrier();
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz_turn", "-l", "0", "--no-huge", "-m", "128", "--no-pci", "--no-shconf",
		"--log-level=lib.*:error", NULL };
	struct turn_env env = { .resolve = fake_resolve,
		.resolve6 = fake_resolve6,
		.now_ms = fake_ms,
		.unix_s = fake_unix,
		.to_peer = fake_to_peer,
		.to_peer6 = fake_to_peer6,
		.tcp_listen = fake_tcp_listen,
		.tcp_unlisten = fake_tcp_unlisten,
		.tcp_connect = fake_tcp_connect,
		.tcp_owner = fake_tcp_owner,
		.tcp_bind = fake_tcp_bind };
	uint8_t req[64], k16[16];
	struct stun_builder b;
	struct stun_msg m;
	const char *s;
	size_t n, sl;
	char err[200];

	(void)argc, (void)argv;
	memcpy(peer6, relay6, 16);
	peer6[15] = 2;
	if (rte_eal_init(9, eal) < 0 || turn_tables_init(256, 0) < 0)
		abort();
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_EMERG);
	edge_rcu_reader_start();
	if (atexit(drain_rcu) != 0)
		abort();
	cfg_defaults(&cfg);
	cfg.n_ifs = 2;
	snprintf(cfg.ifs[0].name, sizeof(cfg.ifs[0].name), "a");
	snprintf(cfg.ifs[1].name, sizeof(cfg.ifs[1].name), "b");
	cfg_ipv4_add(&cfg, 0, inet_addr("198.18.10.1"), 24, inet_addr("198.18.10.2"), err,
		sizeof(err));
	cfg_ipv4_add(&cfg, 1, inet_addr("198.18.20.1"), 24, inet_addr("198.18.20.2"), err,
		sizeof(err));
	if (cfg_ipv6_add(&cfg, 0, relay6, 64, NULL, err, sizeof(err)) < 0)
		abort();
	cfg.turn.allowed6[0] = cfg_prefix6_of(relay6, 32); /* 2001:db8::/32: the peers */
	cfg.turn.n_allowed6 = 1;
	cfg.turn.enabled = true;
	cfg.turn.listen_mask = 3;
	cfg.turn.max_allocs = 64;
	snprintf(cfg.turn.realm, sizeof(cfg.turn.realm), "lab.example");
	cfg.turn.users[0] = (struct cfg_turn_user){ "edge", "pw" };
	cfg.turn.n_users = 1;
	srv = turn_server_new(&cfg, &env);
	if (!srv)
		abort();
	/* the nonce a client gets from its first 401: the clock for nonces stands still here */
	stun_build(&b, req, sizeof(req), STUN_ALLOCATE, STUN_REQUEST,
		(const uint8_t *)"fuzz-nonce-1");
	stun_add_transport(&b, IPPROTO_UDP);
	n = udp_in(0, req, (size_t)stun_build_end(&b));
	if (!n || stun_parse(out, n, &m) != 0 || stun_get_str(&m, STUN_AI_NONCE, &s, &sl) != 0 ||
		sl >= sizeof(nonce))
		abort();
	memcpy(nonce, s, sl);
	stun_long_term_key("edge", "lab.example", "pw", k16);
	if (stun_key_init(&key, STUN_MAC_SHA1, k16, 16) < 0)
		abort();
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off = 0;

	while (off + 4 <= size) {
		uint8_t op = data[off], arg = data[off + 1];
		size_t len = (size_t)(data[off + 2] << 8 | data[off + 3]);
		const uint8_t *d = data + off + 4;
		uint32_t conn = 0;

		if (len > size - off - 4)
			len = size - off - 4;
		off += 4 + len;
		switch (op % 6) {
		case 0: {
			struct turn_src src = stream_src(arg);

			check_out(turn_server_stream_input(srv, &src, d, len, out, sizeof(out)));
			break;
		}
		case 1:
			check_out(udp_in(arg, d, len));
			break;
		case 2:
			if (!n_relay)
				break;
			if (arg & 0x80)
				check_out(turn_server_from_peer6(srv, relay6,
					relay_ports[arg % (n_relay < 16 ? n_relay : 16)], peer6,
					htons(3480), d, len, out, sizeof(out), &conn));
			else
				check_out(turn_server_from_peer(srv, inet_addr("198.18.10.1"),
					relay_ports[arg % (n_relay < 16 ? n_relay : 16)],
					inet_addr("198.18.10.2"), htons(3480), d, len, out,
					sizeof(out), &conn));
			break;
		case 3:
			signed_request(op, arg, d, len);
			break;
		case 4:
			turn_server_stream_closed(srv, 1 + arg % 4);
			break;
		default:
			clock_ms += arg * 1000ull;
			turn_server_tick(srv);
		}
	}
	for (uint32_t c = 1; c <= 4; c++)
		turn_server_stream_closed(srv, c);
	clock_ms += 2 * 3600 * 1000;
	turn_server_tick(srv);
	edge_rcu_quiescent();
	turn_tables_reclaim();
	n_relay = 0;
	return 0;
}
