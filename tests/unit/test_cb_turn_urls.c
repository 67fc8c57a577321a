/* The TURN URLs guests' browsers are handed (controlplane/callbridge/cb_turn_urls.h): our own
 * server's 3478 and browser port 443, the other types' ports, and never a port below 1024
 * but 53, 80 and 443, which Chromium would not try (tcpPortNumberOverride 447). */
#include <string.h>

#include "../../controlplane/callbridge/cb_turn_urls.h"
#include "unit.h"

static bool has(const struct cb_turn_urls *u, const char *url)
{
	for (int i = 0; i < u->n; i++)
		if (!strcmp(u->url[i], url))
			return true;
	return false;
}

/* No URL on a port below 1024 other than 53, 80, 443. */
static bool all_usable(const struct cb_turn_urls *u)
{
	for (int i = 0; i < u->n; i++) {
		char url[300], *q;
		int port;

		snprintf(url, sizeof(url), "%s", u->url[i]);
		if ((q = strchr(url, '?')))
			*q = '\0';
		port = atoi(strrchr(url, ':') + 1); /* the last colon: an IPv6 host has others */

		if (!cb_turn_port_ok(port))
			return false;
	}
	return true;
}

static void test_ours_with_tls_447(void)
{
	struct cb_turn_urls u;

	cb_turn_urls("turn.example.com", "acano", 447, &u);
	CU_ASSERT_EQUAL(u.n, 4);
	CU_ASSERT(has(&u, "turn:turn.example.com:3478?transport=udp"));
	CU_ASSERT(has(&u, "turn:turn.example.com:3478?transport=tcp"));
	CU_ASSERT(has(&u, "turn:turn.example.com:443?transport=udp"));
	CU_ASSERT(has(&u, "turns:turn.example.com:443?transport=tcp"));
	CU_ASSERT(!has(&u, "turns:turn.example.com:447?transport=tcp"));
	CU_ASSERT_EQUAL(u.dropped_port, 447);
	CU_ASSERT(all_usable(&u));
}

static void test_ours_plain(void)
{
	struct cb_turn_urls u;

	cb_turn_urls("192.0.2.1", "cms", 0, &u); /* and the General page's, untyped */
	CU_ASSERT_EQUAL(u.n, 4);
	CU_ASSERT(has(&u, "turns:192.0.2.1:443?transport=tcp"));
	CU_ASSERT_EQUAL(u.dropped_port, 0);
	cb_turn_urls("192.0.2.1:3478", "", 0, &u);
	CU_ASSERT_EQUAL(u.n, 4);
	CU_ASSERT(has(&u, "turn:192.0.2.1:443?transport=udp"));
	/* a TLS override on 443 is the browser port's: once */
	cb_turn_urls("192.0.2.1", "acano", 443, &u);
	CU_ASSERT_EQUAL(u.n, 4);
	/* one that browsers use is kept */
	cb_turn_urls("192.0.2.1", "acano", 5349, &u);
	CU_ASSERT_EQUAL(u.n, 5);
	CU_ASSERT(has(&u, "turns:192.0.2.1:5349?transport=tcp"));
}

static void test_other_types(void)
{
	struct cb_turn_urls u;

	cb_turn_urls("exp.example.com", "expressway", 3478, &u);
	CU_ASSERT_EQUAL(u.n, 2);
	CU_ASSERT(has(&u, "turn:exp.example.com:3478?transport=udp"));
	CU_ASSERT(has(&u, "turn:exp.example.com:3478?transport=tcp"));
	cb_turn_urls("edge.example.com", "standard", 0, &u);
	CU_ASSERT_EQUAL(u.n, 2);
	CU_ASSERT(has(&u, "turn:edge.example.com:443?transport=udp"));
	cb_turn_urls("lync.example.com", "lyncEdge", 0, &u);
	CU_ASSERT(has(&u, "turn:lync.example.com:443?transport=tcp"));
}

static void test_port_rule(void)
{
	struct cb_turn_urls u;

	CU_ASSERT(cb_turn_port_ok(53) && cb_turn_port_ok(80) && cb_turn_port_ok(443));
	CU_ASSERT(cb_turn_port_ok(1024) && cb_turn_port_ok(3478) && cb_turn_port_ok(65535));
	CU_ASSERT(!cb_turn_port_ok(447) && !cb_turn_port_ok(1023) && !cb_turn_port_ok(0) &&
		!cb_turn_port_ok(65536) && !cb_turn_port_ok(22));
	/* a server address on such a port: its own URLs go, ours on 443 stay */
	cb_turn_urls("192.0.2.1:447", "acano", 0, &u);
	CU_ASSERT_EQUAL(u.n, 2);
	CU_ASSERT(has(&u, "turn:192.0.2.1:443?transport=udp"));
	CU_ASSERT(has(&u, "turns:192.0.2.1:443?transport=tcp"));
	CU_ASSERT_EQUAL(u.dropped_port, 447);
	cb_turn_urls("198.51.100.7:500", "standard", 993, &u);
	CU_ASSERT_EQUAL(u.n, 0);
	CU_ASSERT(u.dropped_port == 993 || u.dropped_port == 500);
	cb_turn_urls("198.51.100.7:80", "standard", 0, &u);
	CU_ASSERT_EQUAL(u.n, 2);
	CU_ASSERT(all_usable(&u));
}

/* An IPv6 TURN server address, bare or in brackets, with a port or not: bracketed in every
 * URL (RFC 7065 3.1), the port read after the bracket only (issue 18). */
static void test_ipv6(void)
{
	struct cb_turn_urls u;

	cb_turn_urls("2001:db8:20::1", "acano", 447, &u);
	CU_ASSERT_EQUAL(u.n, 4);
	CU_ASSERT(has(&u, "turn:[2001:db8:20::1]:3478?transport=udp"));
	CU_ASSERT(has(&u, "turn:[2001:db8:20::1]:3478?transport=tcp"));
	CU_ASSERT(has(&u, "turns:[2001:db8:20::1]:443?transport=tcp"));
	CU_ASSERT(all_usable(&u));
	cb_turn_urls("[2001:db8:20::1]", "", 0, &u);
	CU_ASSERT(has(&u, "turn:[2001:db8:20::1]:3478?transport=tcp"));
	cb_turn_urls("[2001:db8:20::1]:3479", "cms", 0, &u);
	CU_ASSERT(has(&u, "turn:[2001:db8:20::1]:3479?transport=udp"));
	CU_ASSERT(has(&u, "turns:[2001:db8:20::1]:443?transport=tcp"));
	cb_turn_urls("[2001:db8::7]:447", "standard", 0, &u);
	CU_ASSERT_EQUAL(u.n, 0);
	CU_ASSERT_EQUAL(u.dropped_port, 447);
	/* the IPv4 forms are as they were */
	cb_turn_urls("192.0.2.1:3479", "cms", 0, &u);
	CU_ASSERT(has(&u, "turn:192.0.2.1:3479?transport=udp"));
}

/* Our own TURN server named by an IPv4 address of ours: the same interface's IPv6 address,
 * with the port if one was named; nothing for another server, an interface TURN does not
 * listen on, one with no IPv6 address, or TURN off. */
static void test_own_ipv6(void)
{
	struct edge_cfg c;
	char out[80], err[120];
	const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x20, [15] = 1 };

	memset(&c, 0, sizeof(c));
	c.n_ifs = 2;
	c.ifs[0].addrs[0].addr = inet_addr("198.18.10.1");
	c.ifs[0].n_addrs = 1;
	c.ifs[1].addrs[0].addr = inet_addr("198.18.20.1");
	c.ifs[1].n_addrs = 1;
	CU_ASSERT_EQUAL_FATAL(cfg_ipv6_add(&c, 1, v6, 64, NULL, err, sizeof(err)), 0);
	c.turn.enabled = true;
	c.turn.listen_mask = 3;
	CU_ASSERT(cb_turn_own_ipv6(&c, "198.18.20.1", out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "[2001:db8:20::1]");
	CU_ASSERT(cb_turn_own_ipv6(&c, "198.18.20.1:3479", out, sizeof(out)));
	CU_ASSERT_STRING_EQUAL(out, "[2001:db8:20::1]:3479");
	CU_ASSERT(!cb_turn_own_ipv6(&c, "198.18.10.1", out, sizeof(out))); /* no IPv6 on a */
	CU_ASSERT(!cb_turn_own_ipv6(&c, "203.0.113.5", out, sizeof(out)));
	CU_ASSERT(!cb_turn_own_ipv6(&c, "turn.example.com", out, sizeof(out)));
	CU_ASSERT(!cb_turn_own_ipv6(&c, "2001:db8:20::1", out, sizeof(out)));
	CU_ASSERT(!cb_turn_own_ipv6(&c, "[2001:db8:20::1]:3478", out, sizeof(out)));
	c.turn.listen_mask = 1;
	CU_ASSERT(!cb_turn_own_ipv6(&c, "198.18.20.1", out, sizeof(out)));
	c.turn.listen_mask = 3;
	c.turn.enabled = false;
	CU_ASSERT(!cb_turn_own_ipv6(&c, "198.18.20.1", out, sizeof(out)));
}

static const struct unit_test tests[] = {
	{ "ours with turn tls 447: 3478 and 443, never 447", test_ours_with_tls_447 },
	{ "ours: UDP and TLS on the browser port; a usable TLS override kept", test_ours_plain },
	{ "expressway 3478, standard and lyncEdge 443: as they listen", test_other_types },
	{ "WebRTC's TURN port rule: below 1024 only 53, 80, 443", test_port_rule },
	{ "an IPv6 server address: bracketed, its port after the bracket", test_ipv6 },
	{ "our own server by an IPv4 address: its interface's IPv6 address too", test_own_ipv6 },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("cb_turn_urls", tests);
}
