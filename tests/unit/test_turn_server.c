/* The TURN server's request handling with a clock of our own: challenges, every error the
 * RFC names, retransmissions, stale nonces, lifetimes, quotas, reservations, and what it
 * publishes to the data plane's tables. Messages are built and read with the codec. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_cycles.h>
#include <rte_eal.h>

#include "edge_log.h"
#include "metrics.h"
#include "stun.h"
#include "turn_server.h"
#include "turn_tables.h"
#include "unit.h"

/* TURN's metric families as edged registers them, read from this test's server (the file is
 * edged's, not a library's: taken in whole) */
#include "../../controlplane/turn_metrics.c"

static uint64_t clock_ms = 1000000, clock_unix = 1700000000;
static struct edge_cfg cfg;
static struct turn_server *srv;
static uint8_t out[2048];
static struct stun_msg resp;
static char nonce[64];

static uint32_t arp_silent;   /* this address does not answer ARP (yet) */
static uint8_t mac_shift;     /* added to every MAC's last byte: next hops moved */
static unsigned int resolves; /* calls, to see the tick's pace */

static int fake_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	(void)ctx, (void)ifi;
	resolves++;
	if (ip == arp_silent)
		return -EAGAIN;
	memset(mac, 0x02, 6);
	mac[5] = (uint8_t)(((const uint8_t *)&ip)[3] + mac_shift); /* the address's last octet */
	return 0;
}

/* An IPv6 next hop's MAC: 02:02:02:02:02:<the address's last byte> */
static int fake_resolve6(void *ctx, uint8_t ifi, const uint8_t ip[16], uint8_t mac[6])
{
	(void)ctx, (void)ifi;
	resolves++;
	memset(mac, 0x02, 6);
	mac[5] = ip[15];
	return 0;
}

static uint64_t fake_ms(void *ctx)
{
	(void)ctx;
	return clock_ms;
}

static uint64_t fake_unix(void *ctx)
{
	(void)ctx;
	return clock_unix;
}

#define CLIENT "198.18.20.2"
#define SERVER "198.18.20.1"

struct req {
	struct stun_builder b;
	uint8_t buf[1024];
	uint8_t tid[12];
};

static void req_start(struct req *r, uint16_t method)
{
	for (int i = 0; i < 12; i++)
		r->tid[i] = (uint8_t)rand();
	stun_build(&r->b, r->buf, sizeof(r->buf), method, STUN_REQUEST, r->tid);
}

/* Adds USERNAME, REALM, NONCE and MESSAGE-INTEGRITY with @user's long-term key. */
static void req_auth(struct req *r, const char *user, const char *pw)
{
	uint8_t k16[16];
	struct stun_key k;

	stun_add_str(&r->b, STUN_ATTR_USERNAME, user);
	stun_add_str(&r->b, STUN_ATTR_REALM, "lab.example");
	stun_add_str(&r->b, STUN_ATTR_NONCE, nonce);
	stun_long_term_key(user, "lab.example", pw, k16);
	stun_key_init(&k, STUN_MAC_SHA1, k16, 16);
	stun_add_integrity(&r->b, &k);
	stun_key_free(&k);
}

/* Sends @r from CLIENT:@port; parses the answer into resp. Returns the error code, 0 for
 * success, -1 for no answer. */
static int send_req(struct req *r, uint16_t port)
{
	int len = stun_build_end(&r->b);
	size_t n;
	int code;
	const char *reason, *s;
	size_t rl;

	CU_ASSERT_FATAL(len > 0);
	n = turn_server_input(srv, 1, inet_addr(CLIENT), htons(port), inet_addr(SERVER),
		htons(3478), r->buf, (size_t)len, out, sizeof(out));
	if (n == 0)
		return -1;
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
	CU_ASSERT_EQUAL(memcmp(resp.tid, r->tid, 12), 0);
	if (stun_get_str(&resp, STUN_AI_NONCE, &s, &rl) == 0 && rl < sizeof(nonce)) {
		memcpy(nonce, s, rl);
		nonce[rl] = '\0';
	}
	if (resp.cls == STUN_SUCCESS)
		return 0;
	CU_ASSERT_EQUAL_FATAL(stun_get_error(&resp, &code, &reason, &rl), 0);
	return code;
}

static int allocate(uint16_t port, const char *user, const char *pw, uint8_t proto)
{
	struct req r;

	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, proto);
	req_auth(&r, user, pw);
	return send_req(&r, port);
}

static void test_challenge_and_allocate(void)
{
	struct req r;
	struct stun_addr a;
	uint32_t life;
	uint8_t k16[16];
	struct stun_key k;
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(40000), htons(3478) };

	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_req(&r, 40000), 401);
	CU_ASSERT(stun_has(&resp, STUN_AI_REALM) && stun_has(&resp, STUN_AI_NONCE));
	CU_ASSERT_EQUAL(strlen(nonce), 20);

	CU_ASSERT_EQUAL(allocate(40000, "edge", "pw", IPPROTO_UDP), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(memcmp(a.ip, "\xc6\x12\x0a\x01", 4), 0); /* 198.18.10.1: interface a */
	CU_ASSERT(ntohs(a.port) >= 49152);
	CU_ASSERT_EQUAL(stun_get_u32(&resp, STUN_AI_LIFETIME, &life), 0);
	CU_ASSERT_EQUAL(life, 600);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 40000);
	stun_long_term_key("edge", "lab.example", "pw", k16);
	stun_key_init(&k, STUN_MAC_SHA1, k16, 16);
	CU_ASSERT_EQUAL(stun_check_integrity(&resp, &k), 0); /* the answer is signed */
	stun_key_free(&k);
	edge_rcu_quiescent();
	CU_ASSERT_PTR_NOT_NULL(turn_by_client(&key)); /* and the data plane knows it */
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 1);
}

/* Sends @r from [@client]:@port to [2001:db8:20::1]:3478 from MAC 02:..:66; parses the answer
 * into resp: the error code, 0 for success, -1 for no answer. */
static int send_req6(struct req *r, const char *client, uint16_t port)
{
	static const uint8_t mac[6] = { 2, 0, 0, 0, 0, 0x66 };
	uint8_t c6[16], s6[16];
	int len = stun_build_end(&r->b);
	const char *reason, *s;
	size_t n, rl;
	int code;

	inet_pton(AF_INET6, client, c6);
	inet_pton(AF_INET6, "2001:db8:20::1", s6);
	n = turn_server_input6(srv, 1, c6, htons(port), s6, htons(3478), mac, r->buf, (size_t)len,
		out, sizeof(out));
	if (n == 0)
		return -1;
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
	if (stun_get_str(&resp, STUN_AI_NONCE, &s, &rl) == 0 && rl < sizeof(nonce)) {
		memcpy(nonce, s, rl);
		nonce[rl] = '\0';
	}
	if (resp.cls == STUN_SUCCESS)
		return 0;
	CU_ASSERT_EQUAL_FATAL(stun_get_error(&resp, &code, &reason, &rl), 0);
	return code;
}

/* An IPv6 client over UDP (issue 18): challenged, then allocated an IPv4 relayed address;
 * XOR-MAPPED-ADDRESS is its IPv6 address; the data plane's copy is filed under turn_key6 with
 * both IPv6 addresses and the request's MAC; an IPv6 relayed address is refused with 440;
 * another IPv6 client's Refresh on the same ports finds no allocation (437). */
static void test_ipv6_client_udp(void)
{
	const char *c6 = "2001:db8:20::2";
	uint8_t a6[16], s6[16];
	const struct turn_alloc *d;
	struct stun_addr a;
	struct turn_key key;
	struct req r;

	inet_pton(AF_INET6, c6, a6);
	inet_pton(AF_INET6, "2001:db8:20::1", s6);
	key = turn_key6(a6, s6, htons(41000), htons(3478));
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_req6(&r, c6, 41000), 401);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add_family(&r.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, 6);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req6(&r, c6, 41000), 440);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL_FATAL(send_req6(&r, c6, 41000), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(a.family, 4);
	CU_ASSERT_EQUAL(memcmp(a.ip, "\xc6\x12\x0a\x01", 4), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(a.family, 6);
	CU_ASSERT(memcmp(a.ip, a6, 16) == 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 41000);
	edge_rcu_quiescent();
	d = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(turn_key_is6(&d->key));
	CU_ASSERT(memcmp(d->client_ip6, a6, 16) == 0);
	CU_ASSERT(memcmp(d->server_ip6, s6, 16) == 0);
	CU_ASSERT_EQUAL(d->client_mac.addr_bytes[5], 0x66);
	CU_ASSERT_EQUAL(d->client_if, 1);
	/* a retransmission is answered the same; an Allocate on the live 5-tuple is 437 */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req6(&r, c6, 41000), 437);
	/* another client, the same ports: a nonce is its client's (401 with one of its own),
	 * then no allocation */
	req_start(&r, STUN_REFRESH);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req6(&r, "2001:db8:20::3", 41000), 401);
	req_start(&r, STUN_REFRESH);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req6(&r, "2001:db8:20::3", 41000), 437);
	/* the client removes its allocation (with a nonce of its own again) */
	req_start(&r, STUN_REFRESH);
	stun_add_u32(&r.b, STUN_ATTR_LIFETIME, 0);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req6(&r, c6, 41000), 401);
	req_start(&r, STUN_REFRESH);
	stun_add_u32(&r.b, STUN_ATTR_LIFETIME, 0);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req6(&r, c6, 41000), 0);
	edge_rcu_quiescent();
	CU_ASSERT_PTR_NULL(turn_by_client(&key));
}

/* The last byte of the next-hop MAC the data plane has for @key's permission to @peer: 0
 * while unresolved, -1 when there is no such allocation or permission. */
static int nh_of(const struct turn_key *key, uint32_t peer)
{
	const struct turn_alloc *a;

	edge_rcu_quiescent();
	a = turn_by_client(key);
	for (unsigned int i = 0; a && i < a->n_perms; i++)
		if (a->pc[i].perm.peer_ip == peer)
			return rte_is_zero_ether_addr(&a->pc[i].perm.nh_mac) ?
				0 :
				a->pc[i].perm.nh_mac.addr_bytes[5];
	return -1;
}

/* A peer that answers ARP late is published when it does, asked once a second meanwhile;
 * when addresses or routes change, next hops are looked up again and republished. */
static void test_next_hops(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(40050), htons(3478) };
	struct stun_addr peer = { .family = 4, .port = htons(3480) };
	uint32_t peer_ip = inet_addr("198.18.10.7");
	struct edge_cfg routed = cfg;
	unsigned int before;
	char err[200];
	struct req r;

	arp_silent = peer_ip;
	CU_ASSERT_EQUAL_FATAL(allocate(40050, "edge", "pw", IPPROTO_UDP), 0);
	memcpy(peer.ip, &peer_ip, 4);
	req_start(&r, STUN_CREATE_PERMISSION);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40050), 0);
	turn_server_tick(srv);			  /* still silent: asked, no progress */
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 0); /* unresolved: the data plane waits */
	before = resolves;
	clock_ms += 100;
	turn_server_tick(srv); /* within the second: not asked again */
	CU_ASSERT_EQUAL(resolves, before);
	arp_silent = 0; /* it answers */
	clock_ms += 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 7);
	/* a route is added: next hops are asked again, and the moved one is published */
	CU_ASSERT_EQUAL(cfg_route_add(&routed, 0, inet_addr("198.18.30.0"), 24,
				inet_addr("198.18.10.4"), err, sizeof(err)),
		0);
	mac_shift = 100;
	before = resolves;
	turn_server_config(srv, &cfg); /* nothing changed: nothing asked */
	CU_ASSERT_EQUAL(resolves, before);
	turn_server_config(srv, &routed);
	CU_ASSERT(resolves > before);
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 107);
	mac_shift = 0;
	turn_server_config(srv, &cfg); /* and back */
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 7);
}

static void test_retransmission_and_mismatch(void)
{
	struct req r;
	uint8_t first[2048];
	size_t n1, n2;
	int len;

	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, "edge", "pw");
	len = stun_build_end(&r.b);
	n1 = turn_server_input(srv, 1, inet_addr(CLIENT), htons(40001), inet_addr(SERVER),
		htons(3478), r.buf, (size_t)len, first, sizeof(first));
	n2 = turn_server_input(srv, 1, inet_addr(CLIENT), htons(40001), inet_addr(SERVER),
		htons(3478), r.buf, (size_t)len, out, sizeof(out));
	CU_ASSERT(n1 > 0 && n1 == n2);
	CU_ASSERT_EQUAL(memcmp(first, out, n1), 0); /* the same answer, not a second allocation */
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 2);
	CU_ASSERT_EQUAL(allocate(40001, "edge", "pw", IPPROTO_UDP), 437); /* a new transaction */
}

static void test_errors(void)
{
	struct req r;

	CU_ASSERT_EQUAL(allocate(40002, "edge", "wrong", IPPROTO_UDP), 401);
	CU_ASSERT_EQUAL(allocate(40002, "nobody", "pw", IPPROTO_UDP), 401);
	CU_ASSERT_EQUAL(allocate(40002, "edge", "pw", IPPROTO_TCP),
		400);						/* RFC 6062 5.1: not over UDP */
	CU_ASSERT_EQUAL(allocate(40002, "edge", "pw", 1), 442); /* ICMP: no such relay */
	req_start(&r, STUN_ALLOCATE);				/* no REQUESTED-TRANSPORT */
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40002), 400);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add(&r.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "\x02\x00\x00\x00", 4);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40002), 440);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add_even_port(&r.b, false);
	stun_add(&r.b, STUN_ATTR_RESERVATION_TOKEN, "12345678", 8);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40002), 400); /* both at once */
	req_start(&r, STUN_REFRESH);		   /* no allocation on this 5-tuple */
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40099), 437);
	req_start(&r, STUN_ALLOCATE); /* REALM but no NONCE */
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add_str(&r.b, STUN_ATTR_USERNAME, "edge");
	stun_add_str(&r.b, STUN_ATTR_REALM, "lab.example");
	{
		struct stun_key k;
		stun_key_init(&k, STUN_MAC_SHA1, (const uint8_t *)"x", 1);
		stun_add_integrity(&r.b, &k);
		stun_key_free(&k);
	}
	CU_ASSERT_EQUAL(send_req(&r, 40002), 400);
	/* a Send indication is not the server's: no answer */
	stun_build(&r.b, r.buf, sizeof(r.buf), STUN_SEND, STUN_INDICATION, r.tid);
	CU_ASSERT_EQUAL(send_req(&r, 40002), -1);
	{ /* nor with bytes after it, nor a Send "request" (fuzz_turn found both answered) */
		uint8_t d[24] = { 0x00, 0x16, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

		CU_ASSERT_EQUAL(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40002),
					inet_addr(SERVER), htons(3478), d, sizeof(d), out,
					sizeof(out)),
			0);
		d[1] = 0x06;
		CU_ASSERT_EQUAL(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40002),
					inet_addr(SERVER), htons(3478), d, 20, out, sizeof(out)),
			0);
		d[1] = 0x03; /* an Allocate with bytes after it: 400 */
		CU_ASSERT(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40002),
				  inet_addr(SERVER), htons(3478), d, sizeof(d), out,
				  sizeof(out)) > 0);
	}
}

static void test_stale_nonce(void)
{
	clock_unix += 601;
	CU_ASSERT_EQUAL(allocate(40003, "edge", "pw", IPPROTO_UDP), 438);
	CU_ASSERT(stun_has(&resp, STUN_AI_NONCE)); /* a fresh one to retry with */
	CU_ASSERT_EQUAL(allocate(40003, "edge", "pw", IPPROTO_UDP), 0);
}

static void test_permissions_and_channels(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(40000), htons(3478) };
	struct stun_addr peer = { .family = 4, .port = htons(3480) }, lo = { .family = 4 };
	const struct turn_alloc *a;
	struct req r;

	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4); /* 198.18.10.2 */
	memcpy(lo.ip, "\x7f\x00\x00\x01", 4);
	req_start(&r, STUN_CREATE_PERMISSION);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &lo);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 403); /* loopback: never */
	req_start(&r, STUN_CREATE_PERMISSION);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 400); /* no peer */
	req_start(&r, STUN_CREATE_PERMISSION);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 0);
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 0);
	edge_rcu_quiescent();
	a = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->n_perms, 1);
	CU_ASSERT_EQUAL(a->n_chans, 1);
	CU_ASSERT_EQUAL(a->pc[0].chan.number, 0x4001);
	CU_ASSERT_EQUAL(a->pc[0].perm.nh_mac.addr_bytes[5], 2); /* resolved next hop */
	peer.port = htons(3481); /* the channel to another peer: 400 */
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 400);
	req_start(&r, STUN_CHANNEL_BIND); /* out of range */
	stun_add_channel(&r.b, 0x3fff);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 400);
	/* another user may not touch it */
	req_start(&r, STUN_REFRESH);
	req_auth(&r, "other", "pw2");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 441);
}

static void test_refresh_delete_and_expiry(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(40003), htons(3478) };
	unsigned int before = turn_server_allocations(srv);
	struct req r;

	req_start(&r, STUN_REFRESH);
	stun_add_u32(&r.b, STUN_ATTR_LIFETIME, 0);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40003), 0);
	CU_ASSERT_EQUAL(turn_server_allocations(srv), before - 1);
	edge_rcu_quiescent();
	CU_ASSERT_PTR_NULL(turn_by_client(&key));
	/* the rest expire when their lifetime runs out, not before */
	clock_ms += 599 * 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(turn_server_allocations(srv), before - 1);
	clock_ms += 5 * 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 0);
	CU_ASSERT(turn_server_stats(srv)->allocations_expired >= 2);
	/* once the grace period has run, the next tick hands the data plane's slots and objects
	 * back: none is held for an allocation that is gone (the soak found them held) */
	edge_rcu_offline();
	edge_rcu_barrier();
	edge_rcu_online();
	turn_server_tick(srv);
	{
		uint32_t slots, objs;

		turn_tables_in_use(&slots, &objs);
		CU_ASSERT_EQUAL(slots, 0);
		CU_ASSERT_EQUAL(objs, 0);
	}
}

static void test_quota_and_reservation(void)
{
	struct req r;
	struct stun_addr a;
	uint16_t even_port;
	uint8_t token[8];

	cfg.turn.max_allocs_per_user = 1;
	turn_server_config(srv, &cfg);
	clock_unix += 601;
	CU_ASSERT_EQUAL(allocate(41000, "edge", "pw", IPPROTO_UDP), 438); /* nonce aged */
	CU_ASSERT_EQUAL(allocate(41000, "edge", "pw", IPPROTO_UDP), 0);
	CU_ASSERT_EQUAL(allocate(41001, "edge", "pw", IPPROTO_UDP), 486);
	CU_ASSERT_EQUAL(allocate(41001, "other", "pw2", IPPROTO_UDP), 0); /* per user */
	/* the count goes down with the allocation: deleted, the user may allocate again */
	req_start(&r, STUN_REFRESH);
	stun_add_u32(&r.b, STUN_ATTR_LIFETIME, 0);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 41000), 0);
	CU_ASSERT_EQUAL(allocate(41010, "edge", "pw", IPPROTO_UDP), 0);
	CU_ASSERT_EQUAL(allocate(41011, "edge", "pw", IPPROTO_UDP), 486);
	cfg.turn.max_allocs_per_user = 0;
	turn_server_config(srv, &cfg);
	/* EVEN-PORT with R: an even port, and a token for the next one */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add_even_port(&r.b, true);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL_FATAL(send_req(&r, 41002), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	even_port = ntohs(a.port);
	CU_ASSERT_EQUAL(even_port % 2, 0);
	CU_ASSERT_EQUAL_FATAL(resp.alen[STUN_AI_RESERVATION_TOKEN], 8);
	memcpy(token, stun_val(&resp, STUN_AI_RESERVATION_TOKEN), 8);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add(&r.b, STUN_ATTR_RESERVATION_TOKEN, token, 8);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL_FATAL(send_req(&r, 41003), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), even_port + 1);
	req_start(&r, STUN_ALLOCATE); /* a token is good once */
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add(&r.b, STUN_ATTR_RESERVATION_TOKEN, token, 8);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 41004), 508);
	/* disabling TURN ends them all */
	cfg.turn.enabled = false;
	turn_server_config(srv, &cfg);
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 0);
}

static void test_short_term_and_rest(void)
{
	struct req r;
	struct stun_key k;
	char user[64], pw[64];

	cfg.turn.enabled = true;
	cfg.turn.short_term = true;
	snprintf(cfg.turn.shared_secret, sizeof(cfg.turn.shared_secret), "north-secret");
	turn_server_config(srv, &cfg);
	/* short-term (RFC 8489 9.1): USERNAME and an HMAC keyed with the password itself */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	stun_add_str(&r.b, STUN_ATTR_USERNAME, "edge");
	stun_key_init(&k, STUN_MAC_SHA1, (const uint8_t *)"pw", 2);
	stun_add_integrity(&r.b, &k);
	CU_ASSERT_EQUAL(send_req(&r, 42000), 0);
	CU_ASSERT_EQUAL(stun_check_integrity(&resp, &k), 0);
	stun_key_free(&k);
	/* TURN REST API: "expiry:user", password base64(HMAC-SHA1(secret, username)) */
	snprintf(user, sizeof(user), "%llu:dora", (unsigned long long)clock_unix + 3600);
	CU_ASSERT_EQUAL(stun_rest_password("north-secret", user, pw, sizeof(pw)), 0);
	req_start(&r, STUN_ALLOCATE); /* get a nonce first */
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_req(&r, 42001), 401);
	CU_ASSERT_EQUAL(allocate(42001, user, pw, IPPROTO_UDP), 0);
	snprintf(user, sizeof(user), "%llu:dora", (unsigned long long)clock_unix - 1); /* expired */
	CU_ASSERT_EQUAL(stun_rest_password("north-secret", user, pw, sizeof(pw)), 0);
	CU_ASSERT_EQUAL(allocate(42002, user, pw, IPPROTO_UDP), 401);
	cfg.turn.short_term = false;
	cfg.turn.shared_secret[0] = '\0';
	turn_server_config(srv, &cfg);
}

/* ---- stream clients (TCP, TLS) and TCP relays (RFC 6062), with a fake stream layer ---- */

static struct {
	int calls;
	uint32_t relay_ip, peer_ip;
	uint16_t relay_port, peer_port;
	uint8_t data[64];
	size_t len;
	uint8_t relay_ip6[16], peer_ip6[16]; /* to_peer6's */
	int calls6;
} sent;

static void fake_to_peer6(void *ctx, uint8_t ifi, const uint8_t relay_ip[16], uint16_t relay_port,
	const uint8_t peer_ip[16], uint16_t peer_port, const uint8_t mac[6], const uint8_t *data,
	size_t len)
{
	(void)ctx, (void)ifi, (void)mac;
	sent.calls6++;
	memcpy(sent.relay_ip6, relay_ip, 16);
	memcpy(sent.peer_ip6, peer_ip, 16);
	sent.relay_port = relay_port;
	sent.peer_port = peer_port;
	sent.len = len < sizeof(sent.data) ? len : sizeof(sent.data);
	memcpy(sent.data, data, sent.len);
}

static struct {
	int listens, unlistens, connects, binds;
	uint32_t owner_of_cid, bound_conn, bound_cid;
	uint8_t tid[12];
} tcp;

static void fake_to_peer(void *ctx, uint8_t ifi, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t mac[6], const uint8_t *data, size_t len)
{
	(void)ctx, (void)ifi, (void)mac;
	sent.calls++;
	sent.relay_ip = relay_ip;
	sent.relay_port = relay_port;
	sent.peer_ip = peer_ip;
	sent.peer_port = peer_port;
	sent.len = len < sizeof(sent.data) ? len : sizeof(sent.data);
	memcpy(sent.data, data, sent.len);
}

static int fake_tcp_listen(void *ctx, uint32_t conn, uint32_t ip, uint16_t port)
{
	(void)ctx, (void)conn, (void)ip, (void)port;
	tcp.listens++;
	return 0;
}

static void fake_tcp_unlisten(void *ctx, uint32_t ip, uint16_t port)
{
	(void)ctx, (void)ip, (void)port;
	tcp.unlistens++;
}

static int fake_tcp_connect(void *ctx, uint32_t conn, uint32_t relay_ip, uint16_t relay_port,
	uint32_t peer_ip, uint16_t peer_port, const uint8_t tid[12])
{
	(void)ctx, (void)conn, (void)relay_ip, (void)relay_port, (void)peer_ip, (void)peer_port;
	memcpy(tcp.tid, tid, 12);
	return tcp.connects++ ? -EEXIST : 0; /* the second one to the same peer: 446 */
}

static uint32_t fake_tcp_owner(void *ctx, uint32_t cid)
{
	(void)ctx;
	return cid == 0x00010005 ? tcp.owner_of_cid : 0;
}

static void fake_tcp_bind(void *ctx, uint32_t conn, uint32_t cid)
{
	(void)ctx;
	tcp.binds++;
	tcp.bound_conn = conn;
	tcp.bound_cid = cid;
}

/* Sends @r on stream connection @conn (from CLIENT:@port); the answer as send_req's. */
static int send_stream(struct req *r, uint32_t conn, uint16_t port)
{
	struct turn_src src = { .ifi = 1,
		.transport = TURN_TCP,
		.ip = inet_addr(CLIENT),
		.port = htons(port),
		.dst_ip = inet_addr(SERVER),
		.dst_port = htons(3478),
		.conn = conn };
	int len = stun_build_end(&r->b), code;
	const char *reason, *s;
	size_t n, rl;

	CU_ASSERT_FATAL(len > 0);
	n = turn_server_stream_input(srv, &src, r->buf, (size_t)len, out, sizeof(out));
	if (n == 0)
		return -1;
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
	if (stun_get_str(&resp, STUN_AI_NONCE, &s, &rl) == 0 && rl < sizeof(nonce)) {
		memcpy(nonce, s, rl);
		nonce[rl] = '\0';
	}
	if (resp.cls == STUN_SUCCESS)
		return 0;
	CU_ASSERT_EQUAL_FATAL(stun_get_error(&resp, &code, &reason, &rl), 0);
	return code;
}

static size_t stream_raw(uint32_t conn, const uint8_t *buf, size_t len)
{
	struct turn_src src = { .ifi = 1,
		.transport = TURN_TCP,
		.ip = inet_addr(CLIENT),
		.port = htons(41000),
		.dst_ip = inet_addr(SERVER),
		.dst_port = htons(3478),
		.conn = conn };

	return turn_server_stream_input(srv, &src, buf, len, out, sizeof(out));
}

static void test_stream_client(void)
{
	struct turn_key key = turn_stream_key(7);
	const struct turn_alloc *d;
	struct stun_addr a, peer = { .family = 4, .port = htons(3480) };
	uint8_t cd[12] = { 0x40, 0x01, 0x00, 0x05, 'h', 'e', 'l', 'l', 'o', 0, 0, 0 };
	uint16_t relay_port;
	unsigned int before = turn_server_allocations(srv);
	uint32_t conn = 0;
	struct req r;
	size_t n;

	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4); /* 198.18.10.2 */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_stream(&r, 7, 41000), 401);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 7, 41000), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 41000); /* the client's own address, not the key's */
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	relay_port = ntohs(a.port);
	edge_rcu_quiescent();
	d = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->client_if, TURN_CLIENT_STREAM); /* peers' data: to the control plane */
	CU_ASSERT(turn_server_stream_allocated(srv, 7));

	/* a channel, then ChannelData (padded on the stream) goes to the peer */
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 7, 41000), 0);
	sent.calls = 0;
	CU_ASSERT_EQUAL(stream_raw(7, cd, sizeof(cd)), 0);
	CU_ASSERT_EQUAL(sent.calls, 1);
	CU_ASSERT(sent.len == 5 && !memcmp(sent.data, "hello", 5));
	CU_ASSERT(sent.peer_ip == inet_addr("198.18.10.2") && sent.peer_port == htons(3480));
	CU_ASSERT(
		sent.relay_ip == inet_addr("198.18.10.1") && sent.relay_port == htons(relay_port));
	cd[1] = 0x02; /* an unbound channel: dropped */
	CU_ASSERT_EQUAL(stream_raw(7, cd, sizeof(cd)), 0);
	CU_ASSERT_EQUAL(sent.calls, 1);
	CU_ASSERT_EQUAL(stream_raw(8, cd, sizeof(cd)), 0); /* no allocation on that connection */
	CU_ASSERT_EQUAL(sent.calls, 1);
	/* a Send indication too */
	stun_build(&r.b, r.buf, sizeof(r.buf), STUN_SEND, STUN_INDICATION, r.tid);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	stun_add(&r.b, STUN_ATTR_DATA, "indicated", 9);
	n = (size_t)stun_build_end(&r.b);
	CU_ASSERT_EQUAL(stream_raw(7, r.buf, n), 0);
	CU_ASSERT(sent.calls == 2 && sent.len == 9 && !memcmp(sent.data, "indicated", 9));

	/* peer -> client: ChannelData padded to 4 on a bound channel, else a Data indication */
	n = turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port,
		inet_addr("198.18.10.2"), htons(3480), (const uint8_t *)"abcde", 5, out,
		sizeof(out), &conn);
	CU_ASSERT_EQUAL(n, 12);
	CU_ASSERT_EQUAL(conn, 7);
	CU_ASSERT(out[0] == 0x40 && out[1] == 0x01 && out[3] == 5 && !memcmp(out + 4, "abcde", 5));
	CU_ASSERT(out[9] == 0 && out[10] == 0 && out[11] == 0);
	n = turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port,
		inet_addr("198.18.10.2"), htons(3999), (const uint8_t *)"abcde", 5, out,
		sizeof(out), &conn);
	CU_ASSERT_FATAL(n > 20);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
	CU_ASSERT(resp.method == STUN_DATA && resp.cls == STUN_INDICATION);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_PEER_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 3999);
	CU_ASSERT_EQUAL(turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port,
				inet_addr("198.18.10.9"), htons(3480), (const uint8_t *)"x", 1, out,
				sizeof(out), &conn),
		0);

	/* the connection closes: so does its allocation */
	turn_server_stream_closed(srv, 7);
	CU_ASSERT_FALSE(turn_server_stream_allocated(srv, 7));
	CU_ASSERT_EQUAL(turn_server_allocations(srv), before);
}

static void test_tcp_relay(void)
{
	struct stun_addr peer = { .family = 4, .port = htons(8080) };
	struct stun_key k;
	uint8_t k16[16];
	uint32_t cid;
	struct req r;

	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4);
	memset(&tcp, 0, sizeof(tcp));
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_TCP);
	stun_add_even_port(&r.b, false);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), 400); /* no port pairs for TCP */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_TCP);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), 0);
	CU_ASSERT_EQUAL(tcp.listens, 1);
	/* Connect: answered later, by the stream layer */
	req_start(&r, STUN_CONNECT);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), -1);
	CU_ASSERT_EQUAL(memcmp(tcp.tid, r.tid, 12), 0);
	req_start(&r, STUN_CONNECT);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), 446);
	req_start(&r, STUN_CHANNEL_BIND); /* channels are for UDP relays */
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), 400);
	{
		size_t n =
			turn_server_connect_done(srv, 9, tcp.tid, 0x00010005, 0, out, sizeof(out));

		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
		CU_ASSERT(resp.method == STUN_CONNECT && resp.cls == STUN_SUCCESS);
		CU_ASSERT(
			stun_get_u32(&resp, STUN_AI_CONNECTION_ID, &cid) == 0 && cid == 0x00010005);
		stun_long_term_key("edge", "lab.example", "pw", k16);
		stun_key_init(&k, STUN_MAC_SHA1, k16, 16);
		CU_ASSERT_EQUAL(stun_check_integrity(&resp, &k), 0);
		stun_key_free(&k);
		n = turn_server_connect_done(srv, 9, tcp.tid, 0, ETIMEDOUT, out, sizeof(out));
		CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
		CU_ASSERT(resp.cls == STUN_ERROR);
	}
	/* ConnectionBind on a new connection: the same user only, and a known id */
	tcp.owner_of_cid = 9;
	req_start(&r, STUN_CONNECTION_BIND);
	stun_add_u32(&r.b, STUN_ATTR_CONNECTION_ID, 0x00010005);
	req_auth(&r, "other", "pw2");
	CU_ASSERT_EQUAL(send_stream(&r, 10, 42001), 441);
	req_start(&r, STUN_CONNECTION_BIND);
	stun_add_u32(&r.b, STUN_ATTR_CONNECTION_ID, 0x00099999);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 10, 42001), 400);
	CU_ASSERT_EQUAL(tcp.binds, 0);
	req_start(&r, STUN_CONNECTION_BIND);
	stun_add_u32(&r.b, STUN_ATTR_CONNECTION_ID, 0x00010005);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 10, 42001), 0);
	CU_ASSERT(tcp.binds == 1 && tcp.bound_conn == 10 && tcp.bound_cid == 0x00010005);
	/* Connect over UDP is no method of ours */
	req_start(&r, STUN_CONNECT);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40077), 400);
	turn_server_stream_closed(srv, 9);
	CU_ASSERT_EQUAL(tcp.unlistens, 1);
}

/* ---- issue 12 (h6): EVEN-PORT reservations, challenge size and rate, channels whose
 * permission expired ---- */

/* Ends every allocation and reservation (TURN off and on again): the tests below start clean. */
static void turn_restart(void)
{
	cfg.turn.enabled = false;
	turn_server_config(srv, &cfg);
	cfg.turn.enabled = true;
	cfg.turn.max_allocs_per_user = 0;
	turn_server_config(srv, &cfg);
	clock_ms += 1000; /* a new window for the challenge limit */
	/* the data plane's objects come back after a grace period: wait for them */
	edge_rcu_offline();
	edge_rcu_barrier();
	edge_rcu_online();
}

/* Allocate from CLIENT:@port as @user, with EVEN-PORT (R=@r) or RESERVATION-TOKEN @tok_in;
 * the relay port into *@relay and any token into @tok_out. Returns the error code or 0. */
static int allocate_resv(uint16_t port, const char *user, const char *pw, int r,
	const uint8_t *tok_in, uint8_t *tok_out, uint16_t *relay)
{
	struct req q;
	struct stun_addr a;
	int code;

	req_start(&q, STUN_ALLOCATE);
	stun_add_transport(&q.b, IPPROTO_UDP);
	if (r >= 0)
		stun_add_even_port(&q.b, r);
	if (tok_in)
		stun_add(&q.b, STUN_ATTR_RESERVATION_TOKEN, tok_in, 8);
	req_auth(&q, user, pw);
	code = send_req(&q, port);
	if (code == 0 && relay && stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a) == 0)
		*relay = ntohs(a.port);
	if (code == 0 && tok_out && resp.alen[STUN_AI_RESERVATION_TOKEN] == 8)
		memcpy(tok_out, stun_val(&resp, STUN_AI_RESERVATION_TOKEN), 8);
	return code;
}

/* A reserved port comes back when its 30 s are up (it used to stay taken for ever). */
static void test_h6_reservation_expires(void)
{
	uint8_t tok[8];
	uint16_t relay = 0, relay2 = 0;

	turn_restart();
	cfg.turn.relay_lo = 60000, cfg.turn.relay_hi = 60001; /* one pair: nothing else free */
	turn_server_config(srv, &cfg);
	CU_ASSERT_EQUAL_FATAL(allocate_resv(42100, "edge", "pw", 1, NULL, tok, &relay), 0);
	CU_ASSERT_EQUAL(relay, 60000);
	CU_ASSERT_EQUAL(allocate_resv(42101, "edge", "pw", -1, NULL, NULL, NULL), 508); /* held */
	clock_ms += 29 * 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(allocate_resv(42102, "edge", "pw", -1, NULL, NULL, NULL),
		508); /* 29 s: still */
	clock_ms += 1001;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(turn_server_stats(srv)->reservations_expired, 1);
	CU_ASSERT_EQUAL(allocate_resv(42103, "edge", "pw", -1, tok, NULL, NULL), 508);	 /* gone */
	CU_ASSERT_EQUAL(allocate_resv(42104, "edge", "pw", -1, NULL, NULL, &relay2), 0); /* free */
	CU_ASSERT_EQUAL(relay2, 60001);
	cfg.turn.relay_lo = 49152, cfg.turn.relay_hi = 65535;
	turn_restart();
}

/* A token is good once, for the user that got it, from any address (RFC 8656 7.2); another
 * user's Allocate with it gets 508 and leaves it to its owner. */
static void test_h6_token_bound_to_user(void)
{
	uint8_t tok[8];
	uint16_t even = 0, odd = 0;

	turn_restart();
	CU_ASSERT_EQUAL_FATAL(allocate_resv(42200, "edge", "pw", 1, NULL, tok, &even), 0);
	CU_ASSERT_EQUAL(allocate_resv(42201, "other", "pw2", -1, tok, NULL, NULL), 508);
	CU_ASSERT_EQUAL(allocate_resv(42202, "edge", "pw", -1, tok, NULL, &odd), 0);
	CU_ASSERT_EQUAL(odd, even + 1);
	CU_ASSERT_EQUAL(allocate_resv(42203, "edge", "pw", -1, tok, NULL, NULL), 508); /* once */
	turn_restart();
}

/* With every reservation live, EVEN-PORT R=1 gets 508: the 65th used to overwrite the first
 * entry's token, so the first token named nothing and the new one another client's port. */
static void test_h6_full_table_refuses(void)
{
	uint8_t tok[65][8];
	uint16_t relay[65];
	int ok = 0;

	turn_restart();
	for (int i = 0; i < 64; i++)
		ok += allocate_resv((uint16_t)(43000 + i), "edge", "pw", 1, NULL, tok[i],
			      &relay[i]) == 0;
	CU_ASSERT_EQUAL_FATAL(ok, 64);
	CU_ASSERT_EQUAL(allocate_resv(43064, "edge", "pw", 1, NULL, tok[64], &relay[64]), 508);
	CU_ASSERT(turn_server_stats(srv)->reservations_refused >= 1);
	CU_ASSERT_EQUAL(allocate_resv(43065, "edge", "pw", 0, NULL, NULL, NULL),
		0);			   /* R=0 is fine */
	for (int i = 0; i < 64; i += 63) { /* the first and the last still hold their ports */
		uint16_t odd = 0;

		CU_ASSERT_EQUAL(allocate_resv((uint16_t)(43100 + i), "edge", "pw", -1, tok[i], NULL,
					&odd),
			0);
		CU_ASSERT_EQUAL(odd, relay[i] + 1);
	}
	turn_restart();
}

/* An unauthenticated 20-byte request: a 401 of REALM, NONCE and ERROR-CODE only (no
 * SOFTWARE, a 20-character nonce), at most 20 a second per source over UDP, none of it
 * limited over a stream. */
static void test_h6_challenge_size_and_rate(void)
{
	uint8_t req[20] = { 0x00, 0x03, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 }; /* Allocate */
	uint32_t spoofed = inet_addr("198.18.20.77");
	uint64_t dropped = turn_server_stats(srv)->challenges_dropped;
	struct turn_src tcp = { .ifi = 1,
		.transport = TURN_TCP,
		.ip = spoofed,
		.dst_ip = inet_addr(SERVER),
		.port = htons(5000),
		.dst_port = htons(3478),
		.conn = 77 };
	size_t n, answered = 0;
	const char *s;
	size_t sl;

	clock_ms += 1000;
	for (int i = 0; i < 25; i++) {
		req[19] = (uint8_t)i; /* a new transaction each time */
		n = turn_server_input(srv, 1, spoofed, htons(4000), inet_addr(SERVER), htons(3478),
			req, sizeof(req), out, sizeof(out));
		if (i == 0) {
			CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
			CU_ASSERT_EQUAL(resp.cls, STUN_ERROR);
			CU_ASSERT(!stun_has(&resp, STUN_AI_SOFTWARE));
			CU_ASSERT(stun_get_str(&resp, STUN_AI_NONCE, &s, &sl) == 0 && sl == 20);
			CU_ASSERT(n <= 80); /* was 116: 5.8x a 20-byte request, now 4x */
		}
		answered += n > 0;
	}
	CU_ASSERT_EQUAL(answered, 20);
	CU_ASSERT_EQUAL(turn_server_stats(srv)->challenges_dropped, dropped + 5);
	/* another source is not held back, nor a stream client (no spoofing over TCP) */
	CU_ASSERT(turn_server_input(srv, 1, inet_addr("198.18.20.78"), htons(4000),
			  inet_addr(SERVER), htons(3478), req, sizeof(req), out, sizeof(out)) > 0);
	CU_ASSERT(turn_server_stream_input(srv, &tcp, req, sizeof(req), out, sizeof(out)) > 0);
	clock_ms += 1000; /* the next second: answered again */
	CU_ASSERT(turn_server_input(srv, 1, spoofed, htons(4000), inet_addr(SERVER), htons(3478),
			  req, sizeof(req), out, sizeof(out)) > 0);
	clock_ms += 1000;
}

/* Permission and channel side by side: the channel index of each published channel names its
 * own peer's permission, whatever the pruning did. */
static bool h6_chans_consistent(const struct turn_alloc *a)
{
	for (unsigned int i = 0; i < a->n_chans; i++)
		if (a->pc[a->pc[i].chan.perm].perm.peer_ip != a->pc[i].chan.peer_ip)
			return false;
	return true;
}

static int h6_perm(uint16_t port, const char *ip)
{
	struct stun_addr p = { .family = 4, .port = htons(3480) };
	uint32_t a = inet_addr(ip);
	struct req r;

	memcpy(p.ip, &a, 4);
	req_start(&r, STUN_CREATE_PERMISSION);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &p);
	req_auth(&r, "edge", "pw");
	return send_req(&r, port);
}

/* A channel (600 s) outlives its permission (300 s): once that permission is pruned, the
 * channel used to point at another peer's permission and relay under it. */
static void test_h6_channel_without_permission(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(42300), htons(3478) };
	struct stun_addr peer = { .family = 4, .port = htons(3480) };
	const struct turn_alloc *a;
	struct req r;
	int n_allowed = cfg.turn.n_allowed;

	/* the peers are in 198.18/15, which the peer policy refuses unless allowed */
	cfg.turn.allowed[cfg.turn.n_allowed++] =
		(struct cfg_prefix){ inet_addr("198.18.10.0"), 24 };
	turn_restart();
	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4); /* 198.18.10.2: A */
	CU_ASSERT_EQUAL_FATAL(allocate(42300, "edge", "pw", IPPROTO_UDP), 0);
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4002);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL_FATAL(send_req(&r, 42300), 0);
	clock_ms += 200 * 1000;
	CU_ASSERT_EQUAL(h6_perm(42300, "198.18.10.5"), 0); /* B, until 500 s */
	clock_ms += 101 * 1000; /* 301 s: A's permission is over, its channel is not */
	CU_ASSERT_EQUAL(h6_perm(42300, "198.18.10.5"), 0); /* prunes A, publishes */
	edge_rcu_quiescent();
	a = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->n_perms, 1);
	CU_ASSERT(h6_chans_consistent(a));
	CU_ASSERT_PTR_NULL(turn_chan_by_number(a, 0x4002, turn_ticks(rte_get_tsc_cycles())));
	/* a permission for A again: the channel relays again, under A's permission */
	CU_ASSERT_EQUAL(h6_perm(42300, "198.18.10.2"), 0);
	edge_rcu_quiescent();
	a = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(h6_chans_consistent(a));
	CU_ASSERT_PTR_NOT_NULL(turn_chan_by_number(a, 0x4002, turn_ticks(rte_get_tsc_cycles())));
	cfg.turn.n_allowed = n_allowed;
	turn_restart();
}

/* Permissions that ran out and the last place (the fuzzer found both writing perms[8]): a
 * CreatePermission naming a peer whose permission expired counted it as known, pruned it, then
 * installed it anew; a channel refreshed after its permission ran out and its place was taken
 * installed one more. Both get 508 now, and the allocation keeps 8. */
static void test_h6_permissions_full(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(42400), htons(3478) };
	struct stun_addr peer = { .family = 4, .port = htons(3480) };
	const struct turn_alloc *a;
	char ip[16];
	struct req r;
	int n_allowed = cfg.turn.n_allowed;

	cfg.turn.allowed[cfg.turn.n_allowed++] =
		(struct cfg_prefix){ inet_addr("198.18.10.0"), 24 };
	turn_restart();
	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4); /* 198.18.10.2 */
	CU_ASSERT_EQUAL_FATAL(allocate(42400, "edge", "pw", IPPROTO_UDP), 0);
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4003);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL_FATAL(send_req(&r, 42400), 0);
	clock_ms += 301 * 1000; /* .2's permission is over, its channel is not */
	for (int i = 0; i < 8; i++) {
		snprintf(ip, sizeof(ip), "198.18.10.%d", 20 + i);
		CU_ASSERT_EQUAL(h6_perm(42400, ip), 0);
	}
	/* the channel refreshed: no place for its permission */
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4003);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 42400), 508);
	clock_ms += 301 * 1000; /* all 8 over */
	for (int i = 0; i < 7; i++) {
		snprintf(ip, sizeof(ip), "198.18.10.%d", 40 + i);
		CU_ASSERT_EQUAL(h6_perm(42400, ip), 0);
	}
	/* .20's ran out: it is not "known", and takes the 8th place; a 9th is refused */
	CU_ASSERT_EQUAL(h6_perm(42400, "198.18.10.20"), 0);
	CU_ASSERT_EQUAL(h6_perm(42400, "198.18.10.21"), 508);
	edge_rcu_quiescent();
	a = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->n_perms, 8);
	cfg.turn.n_allowed = n_allowed;
	turn_restart();
}

/* ---- the peer policy (cfg_turn_peer_verdict) and guests' media targets ---- */

static enum cfg_peer_verdict verdict(const struct edge_cfg *c, const char *ip, uint16_t port)
{
	return cfg_turn_peer_verdict(c, inet_addr(ip), htons(port));
}

/* Each default range refused, one address inside each boundary and one just outside; the
 * never-relayed ones whatever is allowed; deny over allow over the defaults. */
static void test_peer_policy(void)
{
	static const struct {
		const char *in[2], *out[2];
	} ranges[] = {
		{ { "10.0.0.0", "10.255.255.255" }, { "9.255.255.255", "11.0.0.0" } },
		{ { "100.64.0.0", "100.127.255.255" }, { "100.63.255.255", "100.128.0.0" } },
		{ { "169.254.0.1", "169.254.255.254" }, { "169.253.255.255", "169.255.0.0" } },
		{ { "172.16.0.0", "172.31.255.255" }, { "172.15.255.255", "172.32.0.0" } },
		{ { "192.0.0.0", "192.0.0.255" }, { "191.255.255.255", "192.0.1.0" } },
		{ { "192.0.2.0", "192.0.2.255" }, { "192.0.1.255", "192.0.3.0" } },
		{ { "192.168.0.0", "192.168.255.255" }, { "192.167.255.255", "192.169.0.0" } },
		{ { "198.18.0.0", "198.19.255.255" }, { "198.17.255.255", "198.20.0.0" } },
		{ { "198.51.100.0", "198.51.100.255" }, { "198.51.99.255", "198.51.101.0" } },
		{ { "203.0.113.0", "203.0.113.255" }, { "203.0.112.255", "203.0.114.0" } },
		{ { "240.0.0.0", "255.255.255.254" }, { "223.255.255.255", "1.0.0.0" } },
	};
	static const char *const never[] = { "0.0.0.0", "0.255.255.255", "127.0.0.1",
		"127.255.255.255", "224.0.0.1", "239.255.255.255", "255.255.255.255", "198.18.10.1",
		"198.18.20.1", "198.18.10.0", "198.18.10.255", "198.18.20.255" };
	static const char *const open_[] = { "1.0.0.0", "126.255.255.255", "128.0.0.0", "8.8.8.8",
		"223.255.255.254" };
	struct edge_cfg c = cfg;
	char err[200];

	c.turn.n_allowed = c.turn.n_denied = 0;
	c.default_if = 1; /* b (198.18.20.1/24) is public, a (198.18.10.1/24) internal */
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++)
		for (int k = 0; k < 2; k++) {
			CU_ASSERT_EQUAL(verdict(&c, ranges[i].in[k], 3480), CFG_PEER_SPECIAL);
			CU_ASSERT_EQUAL(verdict(&c, ranges[i].out[k], 3480), CFG_PEER_OK);
			if (verdict(&c, ranges[i].in[k], 3480) != CFG_PEER_SPECIAL ||
				verdict(&c, ranges[i].out[k], 3480) != CFG_PEER_OK)
				fprintf(stderr, "\n   range %zu: %s / %s", i, ranges[i].in[k],
					ranges[i].out[k]);
		}
	for (size_t i = 0; i < sizeof(open_) / sizeof(open_[0]); i++)
		CU_ASSERT_EQUAL(verdict(&c, open_[i], 3480), CFG_PEER_OK);
	/* allowing everything opens neither our addresses nor loopback, 0/8, multicast,
	 * broadcast, or a subnet's network and broadcast address */
	c.turn.allowed[c.turn.n_allowed++] = (struct cfg_prefix){ 0, 0 };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		CU_ASSERT_EQUAL(verdict(&c, never[i], 3480), CFG_PEER_NEVER);
		if (verdict(&c, never[i], 3480) != CFG_PEER_NEVER)
			fprintf(stderr, "\n   %s is not refused", never[i]);
	}
	CU_ASSERT_EQUAL(verdict(&c, "10.1.2.3", 3480), CFG_PEER_ALLOWED);
	/* our own relay address: a hairpin to a relay port only, then the policy as for anyone */
	CU_ASSERT_EQUAL(verdict(&c, "198.18.10.1", 3478), CFG_PEER_NEVER);
	CU_ASSERT_EQUAL(verdict(&c, "198.18.10.1", 0), CFG_PEER_NEVER);
	CU_ASSERT_EQUAL(verdict(&c, "198.18.10.1", 50000), CFG_PEER_ALLOWED);
	CU_ASSERT_EQUAL(verdict(&c, "198.18.20.1", 50000), CFG_PEER_NEVER); /* not the relay's */
	c.turn.public_ip = inet_addr("203.0.113.9");
	CU_ASSERT_EQUAL(verdict(&c, "203.0.113.9", 443), CFG_PEER_NEVER);
	CU_ASSERT_EQUAL(verdict(&c, "203.0.113.9", 50000), CFG_PEER_ALLOWED);
	c.turn.public_ip = 0;
	/* allow over the defaults, deny over allow */
	c.turn.n_allowed = 0;
	c.turn.allowed[c.turn.n_allowed++] = (struct cfg_prefix){ inet_addr("10.1.0.0"), 16 };
	CU_ASSERT_EQUAL(verdict(&c, "10.1.2.3", 3480), CFG_PEER_ALLOWED);
	CU_ASSERT_EQUAL(verdict(&c, "10.2.0.0", 3480), CFG_PEER_SPECIAL);
	c.turn.denied[c.turn.n_denied++] = (struct cfg_prefix){ inet_addr("10.1.2.0"), 24 };
	CU_ASSERT_EQUAL(verdict(&c, "10.1.2.3", 3480), CFG_PEER_DENIED);
	CU_ASSERT_EQUAL(verdict(&c, "10.1.3.3", 3480), CFG_PEER_ALLOWED);
	c.turn.denied[c.turn.n_denied++] = (struct cfg_prefix){ inet_addr("8.8.8.0"), 24 };
	CU_ASSERT_EQUAL(verdict(&c, "8.8.8.8", 3480), CFG_PEER_DENIED);
	/* the subnets and routes behind a non-public interface, though public addresses */
	c = cfg;
	c.turn.n_allowed = 0;
	c.ifs[0].n_addrs = c.ifs[1].n_addrs = 0;
	CU_ASSERT_EQUAL_FATAL(cfg_ipv4_add(&c, 0, inet_addr("5.5.5.1"), 24, inet_addr("5.5.5.2"),
				      err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL_FATAL(cfg_ipv4_add(&c, 1, inet_addr("6.6.6.1"), 24, inet_addr("6.6.6.2"),
				      err, sizeof(err)),
		0);
	CU_ASSERT_EQUAL_FATAL(cfg_route_add(&c, 0, inet_addr("7.7.0.0"), 16, inet_addr("5.5.5.9"),
				      err, sizeof(err)),
		0);
	c.default_if = 1;
	CU_ASSERT_EQUAL(verdict(&c, "5.5.5.7", 3480), CFG_PEER_INTERNAL);
	CU_ASSERT_EQUAL(verdict(&c, "7.7.1.1", 3480), CFG_PEER_INTERNAL);
	CU_ASSERT_EQUAL(verdict(&c, "6.6.6.7", 3480), CFG_PEER_OK); /* the public side's */
	CU_ASSERT_EQUAL(verdict(&c, "5.5.6.1", 3480), CFG_PEER_OK);
	CU_ASSERT_EQUAL(verdict(&c, "6.6.6.0", 3480), CFG_PEER_NEVER);
	CU_ASSERT_EQUAL(verdict(&c, "6.6.6.255", 3480), CFG_PEER_NEVER);
	CU_ASSERT_EQUAL(verdict(&c, "5.5.5.255", 3480), CFG_PEER_NEVER);
	c.default_if = -1; /* no default route: nothing is public */
	CU_ASSERT_EQUAL(verdict(&c, "6.6.6.7", 3480), CFG_PEER_INTERNAL);
	c.turn.allowed[c.turn.n_allowed++] = (struct cfg_prefix){ inet_addr("5.5.5.0"), 24 };
	CU_ASSERT_EQUAL(verdict(&c, "5.5.5.7", 3480), CFG_PEER_ALLOWED);
	CU_ASSERT_EQUAL(verdict(&c, "5.5.5.0", 3480), CFG_PEER_NEVER);
}

static int peer_req(uint16_t method, uint16_t port, const char *user, const char *pw,
	const char *ip, uint16_t peer_port, uint32_t conn)
{
	struct stun_addr p = { .family = 4, .port = htons(peer_port) };
	uint32_t a = inet_addr(ip);
	struct req r;

	memcpy(p.ip, &a, 4);
	req_start(&r, method);
	if (method == STUN_CHANNEL_BIND)
		stun_add_channel(&r.b, 0x4010);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &p);
	req_auth(&r, user, pw);
	return conn ? send_stream(&r, conn, port) : send_req(&r, port);
}

/* The XOR-RELAYED-ADDRESSes of the last answer (a dual allocation has two; the parser keeps
 * the first of a kind), decoded by hand from the bytes: how many, up to 2. */
static int relayed_addrs(struct stun_addr a[2])
{
	const uint8_t *m = out;
	size_t len = 20 + (((size_t)m[2] << 8) | m[3]);
	int n = 0;

	for (size_t off = 20; off + 4 <= len && n < 2;) {
		uint16_t type = (uint16_t)(m[off] << 8 | m[off + 1]);
		uint16_t al = (uint16_t)(m[off + 2] << 8 | m[off + 3]);
		const uint8_t *v = m + off + 4;

		if (type == STUN_ATTR_XOR_RELAYED_ADDRESS) {
			a[n].family = v[1] == 1 ? 4 : 6;
			a[n].port = htons((uint16_t)((v[2] << 8 | v[3]) ^ 0x2112));
			for (int i = 0; i < (a[n].family == 4 ? 4 : 16); i++)
				a[n].ip[i] = v[4 + i] ^ m[4 + i]; /* magic cookie, then the ID */
			n++;
		}
		off += 4 + ((al + 3u) & ~3u);
	}
	return n;
}

/* A CreatePermission (or ChannelBind on 0x4011) from CLIENT:@port to IPv6 peer @ip. */
static int peer_req6(uint16_t method, uint16_t port, const char *ip, uint16_t peer_port)
{
	struct stun_addr p = { .family = 6, .port = htons(peer_port) };
	struct req r;

	inet_pton(AF_INET6, ip, p.ip);
	req_start(&r, method);
	if (method == STUN_CHANNEL_BIND)
		stun_add_channel(&r.b, 0x4011);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &p);
	req_auth(&r, "edge", "pw");
	return send_req(&r, port);
}

static int allocate_family(uint16_t port, uint16_t attr, const void *val)
{
	struct req r;

	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	if (attr)
		stun_add(&r.b, attr, val, 4);
	req_auth(&r, "edge", "pw");
	return send_req(&r, port);
}

/* IPv6 relayed addresses (RFC 8656 7.2, issue 18) once the relay interface has an IPv6
 * address: REQUESTED-ADDRESS-FAMILY IPv6 relays from it alone, ADDITIONAL-ADDRESS-FAMILY
 * makes a dual allocation (both relayed addresses, one port); the wrong family's peer is 443;
 * the IPv6 peer policy answers 403 for the forbidden forms; IPv6 permissions and channels
 * reach the data plane's copy (from the top of the places, two each; 508 past them); a
 * Refresh naming a family the allocation lacks is 443. Without an IPv6 relay address: an
 * IPv6-only request is 440, a dual one gets its IPv4 half and ADDRESS-ERROR-CODE 440. */
static void test_ipv6_relay(void)
{
	static const char *forbidden[] = { "::1", "::", "fe80::1", "ff02::1", "::ffff:198.18.10.7",
		"::198.18.10.7", "64:ff9b::7f00:1", "2002:7f00:1::1", "fd00::5", "2001:db8:10::1",
		"2001:db8:10::" };
	struct turn_key k6 = { inet_addr(CLIENT), inet_addr(SERVER), htons(45000), htons(3478) };
	struct turn_key kd = { inet_addr(CLIENT), inet_addr(SERVER), htons(45001), htons(3478) };
	struct edge_cfg c = cfg;
	const struct turn_alloc *d;
	struct stun_addr ra[2];
	uint8_t relay6[16], peer6[16];
	const char *reason;
	size_t rl;
	uint8_t fam;
	int code;
	char err[200];

	/* none yet: an IPv6-only allocation is refused, a dual one is half made */
	CU_ASSERT_EQUAL(allocate_family(45000, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
				"\x02\x00\x00\x00"),
		440);
	CU_ASSERT_EQUAL_FATAL(allocate_family(45002, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
				      "\x02\x00\x00\x00"),
		0);
	CU_ASSERT_EQUAL(relayed_addrs(ra), 1);
	CU_ASSERT_EQUAL(ra[0].family, 4);
	CU_ASSERT_EQUAL(stun_get_address_error(&resp, &fam, &code, &reason, &rl), 0);
	CU_ASSERT_EQUAL(fam, 6);
	CU_ASSERT_EQUAL(code, 440);
	/* malformed: a family other than IPv6 as the additional one, both attributes at once */
	CU_ASSERT_EQUAL(allocate_family(45003, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
				"\x01\x00\x00\x00"),
		400);
	CU_ASSERT_EQUAL(allocate_family(45003, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
				"\x03\x00\x00\x00"),
		440);

	/* the relay interface gets an IPv6 address; documentation addresses are allowed as the
	 * lab allows them */
	CU_ASSERT_EQUAL_FATAL(cfg_ipv6_add(&c, 0,
				      (const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8, 0,
					      0x10, [15] = 1 },
				      64, NULL, err, sizeof(err)),
		0);
	c.turn.allowed6[0] = cfg_prefix6_of((const uint8_t[16]){ 0x20, 0x01, 0x0d, 0xb8 }, 32);
	c.turn.n_allowed6 = 1;
	turn_server_config(srv, &c);
	inet_pton(AF_INET6, "2001:db8:10::1", relay6);

	CU_ASSERT_EQUAL_FATAL(allocate_family(45000, STUN_ATTR_REQUESTED_ADDRESS_FAMILY,
				      "\x02\x00\x00\x00"),
		0);
	CU_ASSERT_EQUAL(relayed_addrs(ra), 1);
	CU_ASSERT_EQUAL(ra[0].family, 6);
	CU_ASSERT(memcmp(ra[0].ip, relay6, 16) == 0);
	edge_rcu_quiescent();
	d = turn_by_client(&k6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(d->relay6 && d->relay_ip == 0 && memcmp(d->relay_ip6, relay6, 16) == 0);
	CU_ASSERT_EQUAL(d->relay_port, ra[0].port);
	/* its relay port is in the IPv6 table, not the IPv4 one */
	CU_ASSERT_PTR_NOT_NULL_FATAL(turn_relay6_ports(0, relay6));
	CU_ASSERT_NOT_EQUAL(turn_relay6_ports(0, relay6)[ntohs(ra[0].port)], 0);
	CU_ASSERT(!turn_relay_ports(0, inet_addr("198.18.10.1")) ||
		turn_relay_ports(0, inet_addr("198.18.10.1"))[ntohs(ra[0].port)] == 0);

	/* the wrong family; the forbidden IPv6 forms; a Refresh naming IPv4 */
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 45000, "edge", "pw", "198.18.10.7", 3480,
				0),
		443);
	for (unsigned int i = 0; i < sizeof(forbidden) / sizeof(forbidden[0]); i++) {
		code = peer_req6(STUN_CREATE_PERMISSION, 45000, forbidden[i], 3480);
		if (code != 403)
			fprintf(stderr, "peer %s: %d\n", forbidden[i], code);
		CU_ASSERT_EQUAL(code, 403);
	}
	CU_ASSERT_EQUAL(allocate_family(45000, 0, NULL), 437);
	{
		struct req r;

		req_start(&r, STUN_REFRESH);
		stun_add(&r.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "\x01\x00\x00\x00", 4);
		req_auth(&r, "edge", "pw");
		CU_ASSERT_EQUAL(send_req(&r, 45000), 443);
	}

	/* IPv6 permissions: two places each, from the top; the fifth is 508 */
	CU_ASSERT_EQUAL(peer_req6(STUN_CREATE_PERMISSION, 45000, "2001:db8:10::7", 3480), 0);
	CU_ASSERT_EQUAL(peer_req6(STUN_CHANNEL_BIND, 45000, "2001:db8:10::8", 3481), 0);
	edge_rcu_quiescent();
	d = turn_by_client(&k6);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->n_perms, 0);
	CU_ASSERT_EQUAL(d->n_perms6, 2);
	inet_pton(AF_INET6, "2001:db8:10::7", peer6);
	CU_ASSERT(memcmp(turn_perm6_addr(d, TURN_PERM6_HEAD(0)), peer6, 16) == 0);
	CU_ASSERT_EQUAL(d->pc[TURN_PERM6_HEAD(0)].perm.peer_ip, 0);
	CU_ASSERT_EQUAL(d->pc[TURN_PERM6_HEAD(0)].perm.nh_mac.addr_bytes[5], 7); /* resolved */
	inet_pton(AF_INET6, "2001:db8:10::8", peer6);
	{
		unsigned int head = 0;
		const struct turn_perm *pm =
			turn_perm6_find(d, peer6, turn_ticks(rte_rdtsc()), &head);
		const struct turn_chan *ch;

		CU_ASSERT_PTR_NOT_NULL_FATAL(pm);
		CU_ASSERT_EQUAL(head, TURN_PERM6_HEAD(1));
		CU_ASSERT_EQUAL(d->n_chans, 1);
		ch = turn_chan_by_peer6(d, head, htons(3481), turn_ticks(rte_rdtsc()));
		CU_ASSERT_PTR_NOT_NULL_FATAL(ch);
		CU_ASSERT(turn_chan_is6(ch));
		CU_ASSERT_EQUAL(ch->number, 0x4011);
		/* an IPv4 lookup never finds it: the IPv4 permissions' places hold none of it
		 * (its head's peer_ip is 0, the channel's too) */
		CU_ASSERT_PTR_NULL(turn_perm_find(d, 0, turn_ticks(rte_rdtsc())));
	}
	CU_ASSERT_EQUAL(peer_req6(STUN_CREATE_PERMISSION, 45000, "2001:db8:10::9", 3480), 0);
	CU_ASSERT_EQUAL(peer_req6(STUN_CREATE_PERMISSION, 45000, "2001:db8:10::a", 3480), 0);
	CU_ASSERT_EQUAL(peer_req6(STUN_CREATE_PERMISSION, 45000, "2001:db8:10::b", 3480), 508);
	CU_ASSERT_EQUAL(peer_req6(STUN_CREATE_PERMISSION, 45000, "2001:db8:10::a", 3480), 0);

	/* a dual allocation: both relayed addresses, one port; peers of either family */
	CU_ASSERT_EQUAL_FATAL(allocate_family(45001, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY,
				      "\x02\x00\x00\x00"),
		0);
	CU_ASSERT_EQUAL_FATAL(relayed_addrs(ra), 2);
	CU_ASSERT_EQUAL(ra[0].family, 4);
	CU_ASSERT_EQUAL(ra[1].family, 6);
	CU_ASSERT_EQUAL(memcmp(ra[0].ip, "\xc6\x12\x0a\x01", 4), 0);
	CU_ASSERT(memcmp(ra[1].ip, relay6, 16) == 0);
	CU_ASSERT_EQUAL(ra[0].port, ra[1].port);
	CU_ASSERT(!stun_has(&resp, STUN_AI_ADDRESS_ERROR_CODE));
	CU_ASSERT_EQUAL(peer_req(STUN_CHANNEL_BIND, 45001, "edge", "pw", "198.18.10.7", 3480, 0),
		0);
	CU_ASSERT_EQUAL(peer_req6(STUN_CHANNEL_BIND, 45001, "2001:db8:10::7", 3480), 0);
	edge_rcu_quiescent();
	d = turn_by_client(&kd);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT(d->relay6 && d->relay_ip == inet_addr("198.18.10.1"));
	CU_ASSERT_EQUAL(d->n_perms, 1);
	CU_ASSERT_EQUAL(d->n_perms6, 1);
	CU_ASSERT_EQUAL(d->pc[0].perm.peer_ip, inet_addr("198.18.10.7"));
	CU_ASSERT_EQUAL(d->n_chans, 2); /* 0x4010 to the IPv4 peer, 0x4011 to the IPv6 one */
	CU_ASSERT_EQUAL(turn_relay_ports(0, inet_addr("198.18.10.1"))[ntohs(ra[0].port)],
		turn_relay6_ports(0, relay6)[ntohs(ra[0].port)]);

	/* a stream client's IPv6 relayed address: its Send indications leave through to_peer6,
	 * an IPv6 peer's datagrams come back as a Data indication naming it; an RFC 6062 TCP
	 * relay is IPv4 only (440) */
	{
		struct stun_addr pa = { .family = 6, .port = htons(3482) };
		uint8_t tid[12] = { 1, 2, 3 }, buf[128], frame[256];
		struct stun_builder b;
		uint32_t conn = 0;
		struct req r;
		size_t n;
		int len;

		req_start(&r, STUN_ALLOCATE);
		stun_add_transport(&r.b, IPPROTO_UDP);
		stun_add(&r.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "\x02\x00\x00\x00", 4);
		req_auth(&r, "edge", "pw");
		CU_ASSERT_EQUAL_FATAL(send_stream(&r, 77, 45010), 0);
		CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &ra[0]), 0);
		CU_ASSERT_EQUAL(ra[0].family, 6);
		req_start(&r, STUN_CREATE_PERMISSION);
		inet_pton(AF_INET6, "2001:db8:10::7", pa.ip);
		stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &pa);
		req_auth(&r, "edge", "pw");
		CU_ASSERT_EQUAL(send_stream(&r, 77, 45010), 0);
		stun_build(&b, buf, sizeof(buf), STUN_SEND, STUN_INDICATION, tid);
		stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &pa);
		stun_add(&b, STUN_ATTR_DATA, "hello6", 6);
		len = stun_build_end(&b);
		sent.calls6 = 0;
		CU_ASSERT_EQUAL(stream_raw(77, buf, (size_t)len), 0);
		CU_ASSERT_EQUAL(sent.calls6, 1);
		CU_ASSERT(memcmp(sent.relay_ip6, relay6, 16) == 0);
		CU_ASSERT(memcmp(sent.peer_ip6, pa.ip, 16) == 0);
		CU_ASSERT_EQUAL(sent.relay_port, ra[0].port);
		CU_ASSERT_EQUAL(sent.peer_port, htons(3482));
		CU_ASSERT(sent.len == 6 && !memcmp(sent.data, "hello6", 6));
		n = turn_server_from_peer6(srv, relay6, ntohs(ra[0].port), pa.ip, htons(3482),
			(const uint8_t *)"back", 4, frame, sizeof(frame), &conn);
		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_EQUAL(conn, 77);
		CU_ASSERT_EQUAL_FATAL(stun_parse(frame, n, &resp), 0);
		CU_ASSERT_EQUAL(stun_get_peer(&resp, 0, &ra[1]), 0);
		CU_ASSERT(ra[1].family == 6 && !memcmp(ra[1].ip, pa.ip, 16));
		/* from another IPv6 address, or to the IPv4 relayed address: nothing */
		CU_ASSERT_EQUAL(turn_server_from_peer6(srv, relay6, ntohs(ra[0].port), peer6,
					htons(3482), (const uint8_t *)"x", 1, frame, sizeof(frame),
					&conn),
			0);
		CU_ASSERT_EQUAL(turn_server_from_peer(srv, inet_addr("198.18.10.1"),
					ntohs(ra[0].port), inet_addr("198.18.10.7"), htons(3482),
					(const uint8_t *)"x", 1, frame, sizeof(frame), &conn),
			0);
		req_start(&r, STUN_ALLOCATE);
		stun_add_transport(&r.b, IPPROTO_TCP);
		stun_add(&r.b, STUN_ATTR_REQUESTED_ADDRESS_FAMILY, "\x02\x00\x00\x00", 4);
		req_auth(&r, "edge", "pw");
		CU_ASSERT_EQUAL(send_stream(&r, 78, 45011), 440);
		turn_server_stream_closed(srv, 77);
	}

	/* the draft's code point for ADDITIONAL-ADDRESS-FAMILY, which coturn's clients send
	 * (0x8032), makes a dual allocation too; EVEN-PORT may go with it */
	{
		struct req r;

		CU_ASSERT_EQUAL(allocate_family(45004, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY_DRAFT,
					"\x02\x00\x00\x00"),
			0);
		CU_ASSERT_EQUAL(relayed_addrs(ra), 2);
		req_start(&r, STUN_ALLOCATE);
		stun_add_transport(&r.b, IPPROTO_UDP);
		stun_add_even_port(&r.b, false);
		stun_add(&r.b, STUN_ATTR_ADDITIONAL_ADDRESS_FAMILY, "\x02\x00\x00\x00", 4);
		req_auth(&r, "edge", "pw");
		CU_ASSERT_EQUAL(send_req(&r, 45005), 0);
		CU_ASSERT_EQUAL(relayed_addrs(ra), 2);
		CU_ASSERT_EQUAL(ntohs(ra[0].port) % 2, 0);
	}

	/* the relay interface loses its IPv6 address: allocations relaying from it end */
	turn_server_config(srv, &cfg);
	edge_rcu_quiescent();
	CU_ASSERT_PTR_NULL(turn_by_client(&k6));
	CU_ASSERT_PTR_NULL(turn_by_client(&kd));
}

/* The port of @key's published permission to @ip (host order), or -1 when there is none. */
static int perm_port(const struct turn_key *key, const char *ip)
{
	const struct turn_alloc *a;

	edge_rcu_quiescent();
	a = turn_by_client(key);
	for (unsigned int i = 0; a && i < a->n_perms; i++)
		if (a->pc[i].perm.peer_ip == inet_addr(ip))
			return ntohs(a->pc[i].perm.port);
	return -1;
}

/* The operator's policy through the server: 403 counted, allowed ranges relayed, and
 * permissions to peers the policy no longer allows withdrawn when it changes. */
static void test_peer_policy_server(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(44000), htons(3478) };
	uint64_t forbidden;
	int n_allowed = cfg.turn.n_allowed;

	turn_restart();
	CU_ASSERT_EQUAL_FATAL(allocate(44000, "edge", "pw", IPPROTO_UDP), 0);
	forbidden = turn_server_stats(srv)->forbidden_peers;
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44000, "edge", "pw", "10.0.0.5", 3480, 0),
		403);
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44000, "edge", "pw", "198.18.10.1", 3480,
				0),
		403);
	CU_ASSERT_EQUAL(peer_req(STUN_CHANNEL_BIND, 44000, "edge", "pw", "198.18.10.255", 3480, 0),
		403);
	CU_ASSERT_EQUAL(turn_server_stats(srv)->forbidden_peers, forbidden + 3);
	CU_ASSERT_EQUAL(turn_server_stats(srv)->guest_refusals, 0);
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44000, "edge", "pw", "198.18.10.2", 3480,
				0),
		0);
	CU_ASSERT_EQUAL(perm_port(&key, "198.18.10.2"), 0); /* an operator's: any port */
	/* a hairpin to another allocation's relay port; our other ports never */
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44000, "edge", "pw", "198.18.10.1", 3478,
				0),
		403);
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44000, "edge", "pw", "198.18.10.1", 50001,
				0),
		0);
	/* ... and a second relay port of the same address: both pass (browsers pair several
	 * relayed candidates of one server), so the permission holds no port */
	CU_ASSERT_EQUAL(peer_req(STUN_CHANNEL_BIND, 44000, "edge", "pw", "198.18.10.1", 50003, 0),
		0);
	CU_ASSERT_EQUAL(perm_port(&key, "198.18.10.1"), 0);
	/* the allow range goes: the permissions it let in go too */
	cfg.turn.n_allowed = 0;
	turn_server_config(srv, &cfg);
	CU_ASSERT_EQUAL(perm_port(&key, "198.18.10.2"), -1);
	CU_ASSERT_EQUAL(perm_port(&key, "198.18.10.1"), -1);
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44000, "edge", "pw", "198.18.10.2", 3480,
				0),
		403);
	cfg.turn.n_allowed = n_allowed;
	turn_server_config(srv, &cfg);
	turn_restart();
}

/* Guests (TURN REST API credentials) reach the media targets only: 403 elsewhere, for
 * another port on a channel, and for any Connect; their permissions carry the target's port;
 * operators' static credentials keep the policy; a new list withdraws what it no longer has. */
static void test_guest_media_targets(void)
{
	struct turn_key gkey = { inet_addr(CLIENT), inet_addr(SERVER), htons(44100), htons(3478) };
	struct turn_key okey = { inet_addr(CLIENT), inet_addr(SERVER), htons(44101), htons(3478) };
	struct turn_media_target t[2] = { { inet_addr("198.18.10.3"), htons(50000) },
		{ inet_addr("198.18.10.6"), htons(50010) } };
	const struct turn_alloc *a;
	char user[64], pw[64];
	uint64_t forbidden, refused;
	uint32_t conn = 0;
	size_t n;
	struct req r;

	turn_restart();
	snprintf(cfg.turn.shared_secret, sizeof(cfg.turn.shared_secret), "north-secret");
	turn_server_config(srv, &cfg);
	turn_server_set_media_targets(srv, t, 2);
	snprintf(user, sizeof(user), "%llu:guest", (unsigned long long)clock_unix + 3600);
	CU_ASSERT_EQUAL_FATAL(stun_rest_password("north-secret", user, pw, sizeof(pw)), 0);
	CU_ASSERT_EQUAL_FATAL(allocate(44100, user, pw, IPPROTO_UDP), 0);
	CU_ASSERT_EQUAL_FATAL(allocate(44101, "edge", "pw", IPPROTO_UDP), 0);
	forbidden = turn_server_stats(srv)->forbidden_peers;
	refused = turn_server_stats(srv)->guest_refusals;
	/* 198.18.0.0/15 is allowed for operators: the guest is refused all the same */
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44100, user, pw, "198.18.10.2", 3480, 0),
		403);
	CU_ASSERT_EQUAL(peer_req(STUN_CHANNEL_BIND, 44100, user, pw, "198.18.10.3", 443, 0), 403);
	CU_ASSERT_EQUAL(turn_server_stats(srv)->guest_refusals, refused + 2);
	CU_ASSERT_EQUAL(turn_server_stats(srv)->forbidden_peers, forbidden + 2);
	CU_ASSERT_EQUAL(perm_port(&gkey, "198.18.10.3"), -1);
	/* the target: a permission by address carries its port (whatever port was named) */
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44100, user, pw, "198.18.10.3", 3480, 0),
		0);
	CU_ASSERT_EQUAL(perm_port(&gkey, "198.18.10.3"), 50000);
	CU_ASSERT_EQUAL(peer_req(STUN_CHANNEL_BIND, 44100, user, pw, "198.18.10.6", 50010, 0), 0);
	CU_ASSERT_EQUAL(perm_port(&gkey, "198.18.10.6"), 50010);
	/* the operator's static credentials: the policy, unchanged */
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44101, "edge", "pw", "198.18.10.2", 3480,
				0),
		0);
	CU_ASSERT_EQUAL(perm_port(&okey, "198.18.10.2"), 0);
	/* a TCP allocation (RFC 6062) for a guest: 403 (media is UDP), so no listener of ours
	 * and no Connect, even to a target */
	memset(&tcp, 0, sizeof(tcp));
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_TCP);
	req_auth(&r, user, pw);
	CU_ASSERT_EQUAL_FATAL(send_stream(&r, 30, 44102), 403);
	CU_ASSERT_EQUAL(peer_req(STUN_CONNECT, 44102, user, pw, "198.18.10.3", 50000, 30), 437);
	CU_ASSERT_EQUAL(tcp.connects, 0);
	CU_ASSERT_EQUAL(tcp.listens, 0);
	turn_server_stream_closed(srv, 30);
	/* a guest on a stream: Send only to the target's port, peers' data only from it */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, user, pw);
	CU_ASSERT_EQUAL_FATAL(send_stream(&r, 31, 44103), 0);
	{
		struct stun_addr ra;
		struct stun_addr peer = { .family = 4, .port = htons(443) };
		uint16_t relay_port;

		CU_ASSERT_EQUAL_FATAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &ra),
			0);
		relay_port = ntohs(ra.port);
		CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44103, user, pw, "198.18.10.3",
					50000, 31),
			0);
		memcpy(peer.ip, "\xc6\x12\x0a\x03", 4);
		sent.calls = 0;
		for (int port = 443; port; port = port == 443 ? 50000 : 0) {
			peer.port = htons((uint16_t)port);
			stun_build(&r.b, r.buf, sizeof(r.buf), STUN_SEND, STUN_INDICATION, r.tid);
			stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
			stun_add(&r.b, STUN_ATTR_DATA, "x", 1);
			n = (size_t)stun_build_end(&r.b);
			stream_raw(31, r.buf, n);
		}
		CU_ASSERT(sent.calls == 1 && sent.peer_port == htons(50000));
		CU_ASSERT_EQUAL(turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port,
					inet_addr("198.18.10.3"), htons(443), (const uint8_t *)"x",
					1, out, sizeof(out), &conn),
			0);
		CU_ASSERT(turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port,
				  inet_addr("198.18.10.3"), htons(50000), (const uint8_t *)"x", 1,
				  out, sizeof(out), &conn) > 0);
	}
	turn_server_stream_closed(srv, 31);
	/* a new list without 198.18.10.3: the guest's permission to it goes, the rest stays */
	t[0].ip = inet_addr("198.18.10.4");
	turn_server_set_media_targets(srv, t, 2);
	CU_ASSERT_EQUAL(perm_port(&gkey, "198.18.10.3"), -1);
	CU_ASSERT_EQUAL(perm_port(&gkey, "198.18.10.6"), 50010);
	CU_ASSERT_EQUAL(perm_port(&okey, "198.18.10.2"), 0);
	edge_rcu_quiescent();
	a = turn_by_client(&gkey);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT(a->n_perms == 1 && a->n_chans == 1 && a->pc[0].chan.peer_port == htons(50010));
	/* a port heard twice (the own callbridge's and over C2W) is one target */
	{
		struct turn_media_target d[3] = { t[1], t[0], t[1] };
		char *page = NULL;
		size_t len = 0;
		FILE *f = open_memstream(&page, &len);

		turn_server_set_media_targets(srv, d, 3);
		turn_server_print_guest_peers(srv, f);
		fclose(f);
		CU_ASSERT_STRING_EQUAL(page,
			"Guest peers             : 198.18.10.6:50010, 198.18.10.4:50000\n");
		free(page);
	}
	/* and none at all: the guest keeps its allocation, with no peer */
	turn_server_set_media_targets(srv, NULL, 0);
	CU_ASSERT_EQUAL(perm_port(&gkey, "198.18.10.6"), -1);
	CU_ASSERT_EQUAL(peer_req(STUN_CREATE_PERMISSION, 44100, user, pw, "198.18.10.6", 50010, 0),
		403);
	cfg.turn.shared_secret[0] = '\0';
	turn_restart();
}

static uint64_t alloc_count(enum turn_alloc_result res, uint64_t *bucket_sum, double *sum_s)
{
	uint64_t b[TURN_ALLOC_BOUNDS + 1], n;

	n = turn_server_alloc_latency(srv, res, b, sum_s);
	*bucket_sum = 0;
	for (int i = 0; i <= TURN_ALLOC_BOUNDS; i++)
		*bucket_sum += b[i];
	return n;
}

/* The Allocate histogram counts each answer once by result, and no retransmission; through
 * the registry (turn_metrics.c's families) the exposition is what promtool accepts. */
static void test_alloc_latency(void)
{
	static struct appliance app; /* what turn_metrics.c reads: ->turn, ->cfg */
	struct metrics_registry *reg;
	uint64_t ok, ch, er, n, bsum;
	double sum;
	struct req r;
	int len;
	char *text = NULL;
	size_t tlen = 0;
	FILE *f;

	turn_restart();
	ok = alloc_count(TURN_ALLOC_OK, &bsum, &sum);
	ch = alloc_count(TURN_ALLOC_CHALLENGE, &bsum, &sum);
	er = alloc_count(TURN_ALLOC_ERROR, &bsum, &sum);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_req(&r, 40900), 401);
	CU_ASSERT_EQUAL(alloc_count(TURN_ALLOC_CHALLENGE, &bsum, &sum), ch + 1);

	req_start(&r, STUN_ALLOCATE); /* success, then its retransmission: counted once */
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, "edge", "pw");
	len = stun_build_end(&r.b);
	for (int i = 0; i < 2; i++)
		CU_ASSERT(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40900),
				  inet_addr(SERVER), htons(3478), r.buf, (size_t)len, out,
				  sizeof(out)) > 0);
	n = alloc_count(TURN_ALLOC_OK, &bsum, &sum);
	CU_ASSERT_EQUAL(n, ok + 1);
	CU_ASSERT_EQUAL(bsum, n);
	CU_ASSERT(sum > 0 && sum < 10);

	CU_ASSERT_EQUAL(allocate(40900, "edge", "pw", IPPROTO_UDP), 437);
	CU_ASSERT_EQUAL(alloc_count(TURN_ALLOC_ERROR, &bsum, &sum), er + 1);
	CU_ASSERT_EQUAL(alloc_count(TURN_ALLOC_CHALLENGE, &bsum, &sum), ch + 1);

	/* the families edged registers, written and checked as a scraper would */
	app.cfg = cfg;
	app.turn = srv;
	reg = metrics_registry_new();
	CU_ASSERT_PTR_NOT_NULL_FATAL(reg);
	CU_ASSERT_EQUAL_FATAL(turn_metrics_register(reg, &app), 0);
	f = open_memstream(&text, &tlen);
	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	CU_ASSERT_EQUAL(metrics_write_prometheus(reg, f), 0);
	fclose(f);
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "# TYPE edge_turn_allocate_seconds histogram\n"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text,
		"edge_turn_allocate_seconds_bucket{result=\"success\","
		"le=\"1e-05\"}"));
	CU_ASSERT_PTR_NOT_NULL(strstr(text, "edge_turn_stream_connections{transport=\"tls\"} 0\n"));
	CU_ASSERT_PTR_NOT_NULL(
		strstr(text, "edge_turn_tls_handshakes_total{result=\"timeout\"} 0\n"));
	if (getenv("HCNT_DUMP")) /* the exposition, for a look by hand */
		fputs(text, stderr);
	if (!system("command -v promtool >/dev/null 2>&1")) {
		FILE *p = popen("promtool check metrics", "w");

		CU_ASSERT_PTR_NOT_NULL_FATAL(p);
		fputs(text, p);
		CU_ASSERT_EQUAL(pclose(p), 0);
	}
	free(text);
	metrics_registry_free(reg);
}

static const struct unit_test tests[] = {
	{ "an IPv6 client over UDP: IPv4 relay, IPv6 mapped address, filed under turn_key6",
		test_ipv6_client_udp },
	{ "over TCP: allocate, ChannelData and Send out, peer data framed in, close ends it",
		test_stream_client },
	{ "TCP relays (RFC 6062): Allocate, Connect (446), answer, ConnectionBind (441, 400)",
		test_tcp_relay },
	{ "401 challenge, then an allocation, signed and published", test_challenge_and_allocate },
	{ "retransmission gets the same answer; a new Allocate gets 437",
		test_retransmission_and_mismatch },
	{ "401, 442, 400, 440, 437, and indications unanswered", test_errors },
	{ "a stale nonce gets 438 and a fresh one", test_stale_nonce },
	{ "permissions (403 for loopback), channels, 441 for another user",
		test_permissions_and_channels },
	{ "next hops: a late ARP answer, routes changing", test_next_hops },
	{ "Refresh with LIFETIME 0 deletes; lifetimes expire on time",
		test_refresh_delete_and_expiry },
	{ "quota per user (486), EVEN-PORT and RESERVATION-TOKEN", test_quota_and_reservation },
	{ "short-term credentials; TURN REST API usernames, and their expiry",
		test_short_term_and_rest },
	{ "h6: a reserved port comes back after 30 s", test_h6_reservation_expires },
	{ "h6: a token is used once, by its user only (508 for another)",
		test_h6_token_bound_to_user },
	{ "h6: a full reservation table refuses (508), overwrites nothing",
		test_h6_full_table_refuses },
	{ "h6: a 401 is small and rate-limited per source over UDP",
		test_h6_challenge_size_and_rate },
	{ "h6: a channel whose permission expired is not published",
		test_h6_channel_without_permission },
	{ "H6: permissions that ran out and the last place", test_h6_permissions_full },
	{ "peer policy: default ranges at their boundaries, never-relayed, deny > allow > defaults, "
	  "internal subnets",
		test_peer_policy },
	{ "peer policy in the server: 403 counted, hairpin port, withdrawn when it changes",
		test_peer_policy_server },
	{ "guests reach media targets only: 403 elsewhere, port carried, Connect refused, list "
	  "replaced",
		test_guest_media_targets },
	{ "IPv6 relayed addresses: REQUESTED- and ADDITIONAL-ADDRESS-FAMILY, 440/443/403, IPv6 "
	  "permissions and channels in the data plane's copy",
		test_ipv6_relay },
	{ "Allocate latency: challenge, success, error counted once each; promtool accepts it",
		test_alloc_latency },
	{ NULL, NULL },
};

int main(void)
{
	char *eal[] = { "test_turn_server", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--log-level=lib.*:error", NULL };
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
	char err[200];
	int failed;

	if (rte_eal_init(9, eal) < 0 || turn_tables_init(64, 0) < 0)
		return 1;
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_ERR);
	cfg_defaults(&cfg);
	cfg.n_ifs = 2;
	snprintf(cfg.ifs[0].name, sizeof(cfg.ifs[0].name), "a");
	snprintf(cfg.ifs[1].name, sizeof(cfg.ifs[1].name), "b");
	cfg_ipv4_add(&cfg, 0, inet_addr("198.18.10.1"), 24, inet_addr("198.18.10.2"), err,
		sizeof(err));
	cfg_ipv4_add(&cfg, 1, inet_addr("198.18.20.1"), 24, inet_addr("198.18.20.2"), err,
		sizeof(err));
	cfg.turn.enabled = true;
	cfg.turn.listen_mask = 3;
	snprintf(cfg.turn.realm, sizeof(cfg.turn.realm), "lab.example");
	cfg.turn.users[0] = (struct cfg_turn_user){ "edge", "pw" };
	cfg.turn.users[1] = (struct cfg_turn_user){ "other", "pw2" };
	cfg.turn.n_users = 2;
	/* the tests' peers are in the benchmarking range, refused by default: allowed as the lab
	 * does (config/lab.conf); test_peer_policy checks the policy itself */
	cfg.turn.allowed[0] = (struct cfg_prefix){ inet_addr("198.18.0.0"), 15 };
	cfg.turn.n_allowed = 1;
	edge_rcu_reader_start();
	srv = turn_server_new(&cfg, &env);
	if (!srv)
		return 1;
	failed = unit_run("turn_server", tests);
	turn_server_free(srv);
	edge_rcu_reader_stop();
	edge_rcu_barrier();
	turn_tables_fini();
	rte_eal_cleanup();
	return failed;
}
