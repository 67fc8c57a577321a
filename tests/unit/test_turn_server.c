/* The TURN server's request handling with a clock of our own: challenges, every error the
 * RFC names, retransmissions, stale nonces, lifetimes, quotas, reservations, and what it
 * publishes to the data plane's tables. Messages are built and read with the codec. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_eal.h>

#include "edge_log.h"
#include "stun.h"
#include "turn_server.h"
#include "turn_tables.h"
#include "unit.h"

static uint64_t clock_ms = 1000000, clock_unix = 1700000000;
static struct edge_cfg cfg;
static struct turn_server *srv;
static uint8_t out[2048];
static struct stun_msg resp;
static char nonce[64];

static uint32_t arp_silent;		/* this address does not answer ARP (yet) */
static uint8_t mac_shift;		/* added to every MAC's last byte: next hops moved */
static unsigned int resolves;		/* calls, to see the tick's pace */

static int fake_resolve(void *ctx, uint8_t ifi, uint32_t ip, uint8_t mac[6])
{
	(void)ctx, (void)ifi;
	resolves++;
	if (ip == arp_silent)
		return -EAGAIN;
	memset(mac, 0x02, 6);
	mac[5] = (uint8_t)(((const uint8_t *)&ip)[3] + mac_shift);	/* the address's last octet */
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
	n = turn_server_input(srv, 1, inet_addr(CLIENT), htons(port), inet_addr(SERVER), htons(3478),
		r->buf, (size_t)len, out, sizeof(out));
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
	CU_ASSERT_EQUAL(strlen(nonce), 40);

	CU_ASSERT_EQUAL(allocate(40000, "edge", "pw", IPPROTO_UDP), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(memcmp(a.ip, "\xc6\x12\x0a\x01", 4), 0);	/* 198.18.10.1: interface a */
	CU_ASSERT(ntohs(a.port) >= 49152);
	CU_ASSERT_EQUAL(stun_get_u32(&resp, STUN_AI_LIFETIME, &life), 0);
	CU_ASSERT_EQUAL(life, 600);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 40000);
	stun_long_term_key("edge", "lab.example", "pw", k16);
	stun_key_init(&k, STUN_MAC_SHA1, k16, 16);
	CU_ASSERT_EQUAL(stun_check_integrity(&resp, &k), 0);	/* the answer is signed */
	stun_key_free(&k);
	rcu_quiescent_state();
	CU_ASSERT_PTR_NOT_NULL(turn_by_client(&key));	/* and the data plane knows it */
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 1);
}

/* The last byte of the next-hop MAC the data plane has for @key's permission to @peer: 0
 * while unresolved, -1 when there is no such allocation or permission. */
static int nh_of(const struct turn_key *key, uint32_t peer)
{
	const struct turn_alloc *a;

	rcu_quiescent_state();
	a = turn_by_client(key);
	for (unsigned int i = 0; a && i < a->n_perms; i++)
		if (a->pc[i].perm.peer_ip == peer)
			return rte_is_zero_ether_addr(&a->pc[i].perm.nh_mac) ? 0 :
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
	turn_server_tick(srv);			/* still silent: asked, no progress */
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 0);	/* unresolved: the data plane waits */
	before = resolves;
	clock_ms += 100;
	turn_server_tick(srv);			/* within the second: not asked again */
	CU_ASSERT_EQUAL(resolves, before);
	arp_silent = 0;				/* it answers */
	clock_ms += 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 7);
	/* a route is added: next hops are asked again, and the moved one is published */
	CU_ASSERT_EQUAL(cfg_route_add(&routed, 0, inet_addr("198.18.30.0"), 24,
		inet_addr("198.18.10.4"), err, sizeof(err)), 0);
	mac_shift = 100;
	before = resolves;
	turn_server_config(srv, &cfg);		/* nothing changed: nothing asked */
	CU_ASSERT_EQUAL(resolves, before);
	turn_server_config(srv, &routed);
	CU_ASSERT(resolves > before);
	CU_ASSERT_EQUAL(nh_of(&key, peer_ip), 107);
	mac_shift = 0;
	turn_server_config(srv, &cfg);		/* and back */
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
	n1 = turn_server_input(srv, 1, inet_addr(CLIENT), htons(40001), inet_addr(SERVER), htons(3478),
		r.buf, (size_t)len, first, sizeof(first));
	n2 = turn_server_input(srv, 1, inet_addr(CLIENT), htons(40001), inet_addr(SERVER), htons(3478),
		r.buf, (size_t)len, out, sizeof(out));
	CU_ASSERT(n1 > 0 && n1 == n2);
	CU_ASSERT_EQUAL(memcmp(first, out, n1), 0);	/* the same answer, not a second allocation */
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 2);
	CU_ASSERT_EQUAL(allocate(40001, "edge", "pw", IPPROTO_UDP), 437);	/* a new transaction */
}

static void test_errors(void)
{
	struct req r;

	CU_ASSERT_EQUAL(allocate(40002, "edge", "wrong", IPPROTO_UDP), 401);
	CU_ASSERT_EQUAL(allocate(40002, "nobody", "pw", IPPROTO_UDP), 401);
	CU_ASSERT_EQUAL(allocate(40002, "edge", "pw", IPPROTO_TCP), 400);	/* RFC 6062 5.1: not over UDP */
	CU_ASSERT_EQUAL(allocate(40002, "edge", "pw", 1), 442);	/* ICMP: no such relay */
	req_start(&r, STUN_ALLOCATE);	/* no REQUESTED-TRANSPORT */
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
	CU_ASSERT_EQUAL(send_req(&r, 40002), 400);	/* both at once */
	req_start(&r, STUN_REFRESH);	/* no allocation on this 5-tuple */
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40099), 437);
	req_start(&r, STUN_ALLOCATE);	/* REALM but no NONCE */
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
	{	/* nor with bytes after it, nor a Send "request" (fuzz_turn found both answered) */
		uint8_t d[24] = { 0x00, 0x16, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42 };

		CU_ASSERT_EQUAL(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40002),
			inet_addr(SERVER), htons(3478), d, sizeof(d), out, sizeof(out)), 0);
		d[1] = 0x06;
		CU_ASSERT_EQUAL(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40002),
			inet_addr(SERVER), htons(3478), d, 20, out, sizeof(out)), 0);
		d[1] = 0x03;	/* an Allocate with bytes after it: 400 */
		CU_ASSERT(turn_server_input(srv, 1, inet_addr(CLIENT), htons(40002),
			inet_addr(SERVER), htons(3478), d, sizeof(d), out, sizeof(out)) > 0);
	}
}

static void test_stale_nonce(void)
{
	clock_unix += 601;
	CU_ASSERT_EQUAL(allocate(40003, "edge", "pw", IPPROTO_UDP), 438);
	CU_ASSERT(stun_has(&resp, STUN_AI_NONCE));	/* a fresh one to retry with */
	CU_ASSERT_EQUAL(allocate(40003, "edge", "pw", IPPROTO_UDP), 0);
}

static void test_permissions_and_channels(void)
{
	struct turn_key key = { inet_addr(CLIENT), inet_addr(SERVER), htons(40000), htons(3478) };
	struct stun_addr peer = { .family = 4, .port = htons(3480) }, lo = { .family = 4 };
	const struct turn_alloc *a;
	struct req r;

	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4);	/* 198.18.10.2 */
	memcpy(lo.ip, "\x7f\x00\x00\x01", 4);
	req_start(&r, STUN_CREATE_PERMISSION);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &lo);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 403);	/* loopback: never */
	req_start(&r, STUN_CREATE_PERMISSION);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 400);	/* no peer */
	req_start(&r, STUN_CREATE_PERMISSION);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 0);
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 0);
	rcu_quiescent_state();
	a = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(a);
	CU_ASSERT_EQUAL(a->n_perms, 1);
	CU_ASSERT_EQUAL(a->n_chans, 1);
	CU_ASSERT_EQUAL(a->pc[0].chan.number, 0x4001);
	CU_ASSERT_EQUAL(a->pc[0].perm.nh_mac.addr_bytes[5], 2);	/* resolved next hop */
	peer.port = htons(3481);	/* the channel to another peer: 400 */
	req_start(&r, STUN_CHANNEL_BIND);
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_req(&r, 40000), 400);
	req_start(&r, STUN_CHANNEL_BIND);	/* out of range */
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
	rcu_quiescent_state();
	CU_ASSERT_PTR_NULL(turn_by_client(&key));
	/* the rest expire when their lifetime runs out, not before */
	clock_ms += 599 * 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(turn_server_allocations(srv), before - 1);
	clock_ms += 5 * 1000;
	turn_server_tick(srv);
	CU_ASSERT_EQUAL(turn_server_allocations(srv), 0);
	CU_ASSERT(turn_server_stats(srv)->allocations_expired >= 2);
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
	CU_ASSERT_EQUAL(allocate(41000, "edge", "pw", IPPROTO_UDP), 438);	/* nonce aged */
	CU_ASSERT_EQUAL(allocate(41000, "edge", "pw", IPPROTO_UDP), 0);
	CU_ASSERT_EQUAL(allocate(41001, "edge", "pw", IPPROTO_UDP), 486);
	CU_ASSERT_EQUAL(allocate(41001, "other", "pw2", IPPROTO_UDP), 0);	/* per user */
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
	req_start(&r, STUN_ALLOCATE);	/* a token is good once */
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
	req_start(&r, STUN_ALLOCATE);	/* get a nonce first */
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_req(&r, 42001), 401);
	CU_ASSERT_EQUAL(allocate(42001, user, pw, IPPROTO_UDP), 0);
	snprintf(user, sizeof(user), "%llu:dora", (unsigned long long)clock_unix - 1);	/* expired */
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
} sent;

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
	return tcp.connects++ ? -EEXIST : 0;	/* the second one to the same peer: 446 */
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
	struct turn_src src = { .ifi = 1, .transport = TURN_TCP, .ip = inet_addr(CLIENT),
		.port = htons(port), .dst_ip = inet_addr(SERVER), .dst_port = htons(3478), .conn = conn };
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
	struct turn_src src = { .ifi = 1, .transport = TURN_TCP, .ip = inet_addr(CLIENT),
		.port = htons(41000), .dst_ip = inet_addr(SERVER), .dst_port = htons(3478), .conn = conn };

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

	memcpy(peer.ip, "\xc6\x12\x0a\x02", 4);	/* 198.18.10.2 */
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	CU_ASSERT_EQUAL(send_stream(&r, 7, 41000), 401);
	req_start(&r, STUN_ALLOCATE);
	stun_add_transport(&r.b, IPPROTO_UDP);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 7, 41000), 0);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_MAPPED_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 41000);	/* the client's own address, not the key's */
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_RELAYED_ADDRESS, &a), 0);
	relay_port = ntohs(a.port);
	rcu_quiescent_state();
	d = turn_by_client(&key);
	CU_ASSERT_PTR_NOT_NULL_FATAL(d);
	CU_ASSERT_EQUAL(d->client_if, TURN_CLIENT_STREAM);	/* peers' data: to the control plane */
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
	CU_ASSERT(sent.relay_ip == inet_addr("198.18.10.1") && sent.relay_port == htons(relay_port));
	cd[1] = 0x02;	/* an unbound channel: dropped */
	CU_ASSERT_EQUAL(stream_raw(7, cd, sizeof(cd)), 0);
	CU_ASSERT_EQUAL(sent.calls, 1);
	CU_ASSERT_EQUAL(stream_raw(8, cd, sizeof(cd)), 0);	/* no allocation on that connection */
	CU_ASSERT_EQUAL(sent.calls, 1);
	/* a Send indication too */
	stun_build(&r.b, r.buf, sizeof(r.buf), STUN_SEND, STUN_INDICATION, r.tid);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	stun_add(&r.b, STUN_ATTR_DATA, "indicated", 9);
	n = (size_t)stun_build_end(&r.b);
	CU_ASSERT_EQUAL(stream_raw(7, r.buf, n), 0);
	CU_ASSERT(sent.calls == 2 && sent.len == 9 && !memcmp(sent.data, "indicated", 9));

	/* peer -> client: ChannelData padded to 4 on a bound channel, else a Data indication */
	n = turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port, inet_addr("198.18.10.2"),
		htons(3480), (const uint8_t *)"abcde", 5, out, sizeof(out), &conn);
	CU_ASSERT_EQUAL(n, 12);
	CU_ASSERT_EQUAL(conn, 7);
	CU_ASSERT(out[0] == 0x40 && out[1] == 0x01 && out[3] == 5 && !memcmp(out + 4, "abcde", 5));
	CU_ASSERT(out[9] == 0 && out[10] == 0 && out[11] == 0);
	n = turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port, inet_addr("198.18.10.2"),
		htons(3999), (const uint8_t *)"abcde", 5, out, sizeof(out), &conn);
	CU_ASSERT_FATAL(n > 20);
	CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
	CU_ASSERT(resp.method == STUN_DATA && resp.cls == STUN_INDICATION);
	CU_ASSERT_EQUAL(stun_get_xor_addr(&resp, STUN_AI_XOR_PEER_ADDRESS, &a), 0);
	CU_ASSERT_EQUAL(ntohs(a.port), 3999);
	CU_ASSERT_EQUAL(turn_server_from_peer(srv, inet_addr("198.18.10.1"), relay_port,
		inet_addr("198.18.10.9"), htons(3480), (const uint8_t *)"x", 1, out, sizeof(out), &conn), 0);

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
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), 400);	/* no port pairs for TCP */
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
	req_start(&r, STUN_CHANNEL_BIND);	/* channels are for UDP relays */
	stun_add_channel(&r.b, 0x4001);
	stun_add_xor_addr(&r.b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	req_auth(&r, "edge", "pw");
	CU_ASSERT_EQUAL(send_stream(&r, 9, 42000), 400);
	{
		size_t n = turn_server_connect_done(srv, 9, tcp.tid, 0x00010005, 0, out, sizeof(out));

		CU_ASSERT_FATAL(n > 0);
		CU_ASSERT_EQUAL_FATAL(stun_parse(out, n, &resp), 0);
		CU_ASSERT(resp.method == STUN_CONNECT && resp.cls == STUN_SUCCESS);
		CU_ASSERT(stun_get_u32(&resp, STUN_AI_CONNECTION_ID, &cid) == 0 && cid == 0x00010005);
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

static const struct unit_test tests[] = {
	{ "over TCP: allocate, ChannelData and Send out, peer data framed in, close ends it",
		test_stream_client },
	{ "TCP relays (RFC 6062): Allocate, Connect (446), answer, ConnectionBind (441, 400)",
		test_tcp_relay },
	{ "401 challenge, then an allocation, signed and published", test_challenge_and_allocate },
	{ "retransmission gets the same answer; a new Allocate gets 437", test_retransmission_and_mismatch },
	{ "401, 442, 400, 440, 437, and indications unanswered", test_errors },
	{ "a stale nonce gets 438 and a fresh one", test_stale_nonce },
	{ "permissions (403 for loopback), channels, 441 for another user", test_permissions_and_channels },
	{ "next hops: a late ARP answer, routes changing", test_next_hops },
	{ "Refresh with LIFETIME 0 deletes; lifetimes expire on time", test_refresh_delete_and_expiry },
	{ "quota per user (486), EVEN-PORT and RESERVATION-TOKEN", test_quota_and_reservation },
	{ "short-term credentials; TURN REST API usernames, and their expiry", test_short_term_and_rest },
	{ NULL, NULL },
};

int main(void)
{
	char *eal[] = { "test_turn_server", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--log-level=lib.*:error", NULL };
	struct turn_env env = { .resolve = fake_resolve, .now_ms = fake_ms, .unix_s = fake_unix,
		.to_peer = fake_to_peer, .tcp_listen = fake_tcp_listen, .tcp_unlisten = fake_tcp_unlisten,
		.tcp_connect = fake_tcp_connect, .tcp_owner = fake_tcp_owner, .tcp_bind = fake_tcp_bind };
	char err[200];
	int failed;

	if (rte_eal_init(9, eal) < 0 || turn_tables_init(64, 0) < 0)
		return 1;
	edge_log_open(LOG_TARGET_STDERR, NULL, LOG_ERR);
	cfg_defaults(&cfg);
	cfg.n_ifs = 2;
	snprintf(cfg.ifs[0].name, sizeof(cfg.ifs[0].name), "a");
	snprintf(cfg.ifs[1].name, sizeof(cfg.ifs[1].name), "b");
	cfg_ipv4_add(&cfg, 0, inet_addr("198.18.10.1"), 24, inet_addr("198.18.10.2"), err, sizeof(err));
	cfg_ipv4_add(&cfg, 1, inet_addr("198.18.20.1"), 24, inet_addr("198.18.20.2"), err, sizeof(err));
	cfg.turn.enabled = true;
	cfg.turn.listen_mask = 3;
	snprintf(cfg.turn.realm, sizeof(cfg.turn.realm), "lab.example");
	cfg.turn.users[0] = (struct cfg_turn_user){ "edge", "pw" };
	cfg.turn.users[1] = (struct cfg_turn_user){ "other", "pw2" };
	cfg.turn.n_users = 2;
	rcu_register_thread();
	srv = turn_server_new(&cfg, &env);
	if (!srv)
		return 1;
	failed = unit_run("turn_server", tests);
	turn_server_free(srv);
	rcu_unregister_thread();
	rcu_barrier();
	turn_tables_fini();
	rte_eal_cleanup();
	return failed;
}
