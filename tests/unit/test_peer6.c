/* TURN's peer policy for IPv6 (cfg_turn_peer6_verdict, issue 18): every step of its order
 * on the lab's configuration, and the IPv6 prefixes of denied_peers/allowed_peers through
 * the file (load, save, load again). The CLI's `turn peers` is in test_cli.c. */
#include "unit.h"
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "edge_config.h"

static char path_buf[512];

static const char *src(const char *rel)
{
	const char *root = getenv("EDGE_SRCDIR");

	snprintf(path_buf, sizeof(path_buf), "%s/%s", root ? root : EDGE_SRCDIR, rel);
	return path_buf;
}

static const uint8_t *a6(const char *s)
{
	static uint8_t bufs[4][16];
	static int next;
	uint8_t *b = bufs[next++ % 4];

	CU_ASSERT_EQUAL_FATAL(inet_pton(AF_INET6, s, b), 1);
	return b;
}

static struct cfg_prefix6 p6(const char *s, uint8_t len)
{
	struct cfg_prefix6 p = { .len = len };

	memcpy(p.addr, a6(s), 16);
	return p;
}

static const char *const names[] = { "OK", "NEVER", "DENIED", "ALLOWED", "SPECIAL", "INTERNAL" };

/* Asserts the verdict on @ip at @port, naming the address when it is not @want. */
#define EXPECT(c, ip, port, want) expect(c, ip, port, want, __LINE__)
static void expect(const struct edge_cfg *c, const char *ip, uint16_t port,
	enum cfg_peer_verdict want, int line)
{
	enum cfg_peer_verdict v = cfg_turn_peer6_verdict(c, a6(ip), htons(port));

	CU_ASSERT_EQUAL(v, want);
	if (v != want)
		fprintf(stderr, "\n   line %d: [%s]:%u is %s, not %s", line, ip, port, names[v],
			names[want]);
}

/* lab.conf: a 2001:db8:10::1/64 (internal, the relay: first listen interface), b
 * 2001:db8:20::1/64 (the default route); relay ports 49152-65535. No allow ranges. */
static void lab(struct edge_cfg *c)
{
	char err[256] = "";

	CU_ASSERT_EQUAL_FATAL(cfg_load(src("config/lab.conf"), c, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL_FATAL(cfg_turn_relay_if(&c->turn), 0);
	CU_ASSERT_EQUAL_FATAL(c->default_if, 1);
	CU_ASSERT_EQUAL_FATAL(c->ifs[0].n_addrs6, 1);
	c->turn.n_allowed = c->turn.n_denied = c->turn.n_allowed6 = c->turn.n_denied6 = 0;
}

/* Never: whatever is allowed (::/0 and 0.0.0.0/0 here); the boundaries just outside are
 * allowed. */
static void test_never(void)
{
	static const char *const never[] = { "::", "::1", "::2", "::a00:1", "::808:808",
		"::ffff:ffff",					    /* ::/96 */
		"::ffff:0:0", "::ffff:8.8.8.8", "::ffff:ffff:ffff", /* IPv4-mapped */
		"ff00::", "ff02::1", "ff0e::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		"fe80::", "fe80::1", "fe80::5054:ff:fe12:3456",
		"febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		/* our own, and our prefixes' subnet-router anycast */
		"2001:db8:20::1", "2001:db8:10::", "2001:db8:20::",
		/* NAT64 and 6to4 of never-relayed IPv4: 0/8, loopback, multicast, broadcast, our
		 * addresses (no hairpin through them), a subnet's network and broadcast */
		"64:ff9b::", "64:ff9b::7f00:1", "64:ff9b::e000:1", "64:ff9b::ffff:ffff",
		"64:ff9b::c612:a01", "64:ff9b::c612:1401", "64:ff9b::c612:a00", "64:ff9b::c612:aff",
		"2002::", "2002:7f00:1::", "2002:7fff:ffff:1:2:3:4:5",
		"2002:efff:ffff::", "2002:c612:a01::", "2002:c612:14ff::1" };
	static const char *const outside[] = { "::1:0:0:0", "::fffe:a00:1", "::1:ffff:0:0",
		"fe7f:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fec0::", "feff::1", "2001:db8:10::2",
		"2001:db8:20::ffff", "64:ff9b::808:808", "64:ff9b::c612:a02",
		"2002:808:808::", "2002:c612:a02::", "64:ff9b:0:1::7f00:1", "2003:7f00:1::" };
	struct edge_cfg c;

	lab(&c);
	c.turn.allowed6[c.turn.n_allowed6++] = p6("::", 0);
	c.turn.allowed[c.turn.n_allowed++] = (struct cfg_prefix){ 0, 0 };
	for (size_t i = 0; i < sizeof(never) / sizeof(never[0]); i++) {
		EXPECT(&c, never[i], 3480, CFG_PEER_NEVER);
		EXPECT(&c, never[i], 50000, CFG_PEER_NEVER);
	}
	for (size_t i = 0; i < sizeof(outside) / sizeof(outside[0]); i++)
		EXPECT(&c, outside[i], 3480, CFG_PEER_ALLOWED);
	/* the relay interface's first address: a hairpin to a relay port only */
	EXPECT(&c, "2001:db8:10::1", 0, CFG_PEER_NEVER);
	EXPECT(&c, "2001:db8:10::1", 3478, CFG_PEER_NEVER);
	EXPECT(&c, "2001:db8:10::1", 49151, CFG_PEER_NEVER);
	EXPECT(&c, "2001:db8:10::1", 49152, CFG_PEER_ALLOWED);
	EXPECT(&c, "2001:db8:10::1", 65535, CFG_PEER_ALLOWED);
	c.turn.relay_hi = 60000;
	EXPECT(&c, "2001:db8:10::1", 60001, CFG_PEER_NEVER);
	/* the relay's second address is not the relay address */
	{
		char err[200];

		CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 0, a6("2a02:1:2:3::1"), 64, NULL, err,
					sizeof(err)),
			0);
	}
	EXPECT(&c, "2a02:1:2:3::1", 50000, CFG_PEER_NEVER);
	EXPECT(&c, "2a02:1:2:3::", 50000, CFG_PEER_NEVER);
	EXPECT(&c, "2a02:1:2:3::2", 50000, CFG_PEER_ALLOWED);
	/* /127 and /128 have no subnet-router anycast address */
	c.ifs[0].addrs6[1].prefix = 127;
	EXPECT(&c, "2a02:1:2:3::", 50000, CFG_PEER_ALLOWED);
	/* the relay on b: b's first address is the hairpin, a's is ours */
	c.turn.listen_mask = 2;
	EXPECT(&c, "2001:db8:20::1", 50000, CFG_PEER_ALLOWED);
	EXPECT(&c, "2001:db8:10::1", 50000, CFG_PEER_NEVER);
	/* a deny range does not change never into denied */
	c.turn.denied6[c.turn.n_denied6++] = p6("::", 0);
	EXPECT(&c, "::1", 3480, CFG_PEER_NEVER);
	EXPECT(&c, "2001:db8:10::1", 3480, CFG_PEER_NEVER);
	EXPECT(&c, "2001:db8:10::2", 3480, CFG_PEER_DENIED);
}

/* Refused by default: each range of cfg_turn_special6, its first and last addresses, and its
 * neighbours outside (which may be never-relayed themselves). */
static void test_special(void)
{
	static const struct {
		const char *ip;
		enum cfg_peer_verdict v;
	} rows[] = {
		/* unique-local fc00::/7 */
		{ "fc00::", CFG_PEER_SPECIAL },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "fbff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_OK },
		{ "fe00::", CFG_PEER_OK },
		/* site-local fec0::/10, between link-local and multicast */
		{ "fec0::", CFG_PEER_SPECIAL },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_NEVER },
		{ "ff00::", CFG_PEER_NEVER },
		/* documentation 2001:db8::/32 */
		{ "2001:db8::", CFG_PEER_SPECIAL },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_OK },
		{ "2001:db9::", CFG_PEER_OK },
		/* documentation 3fff::/20 */
		{ "3fff::", CFG_PEER_SPECIAL },
		{ "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_OK },
		{ "3fff:1000::", CFG_PEER_OK },
		/* discard-only 100::/64 */
		{ "100::", CFG_PEER_SPECIAL },
		{ "100::ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_OK },
		{ "100:0:0:1::", CFG_PEER_OK },
		/* IETF protocol assignments 2001::/23: Teredo, benchmarking, ORCHIDv2 */
		{ "2001::", CFG_PEER_SPECIAL },
		{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", CFG_PEER_SPECIAL },
		{ "2001:2::1", CFG_PEER_SPECIAL },
		{ "2001:20::1", CFG_PEER_SPECIAL },
		{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", CFG_PEER_OK },
		{ "2001:200::", CFG_PEER_OK },
		/* local-use NAT64 64:ff9b:1::/48: not the well-known prefix's embedding */
		{ "64:ff9b:1::", CFG_PEER_SPECIAL },
		{ "64:ff9b:1::7f00:1", CFG_PEER_SPECIAL },
		{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", CFG_PEER_SPECIAL },
		{ "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", CFG_PEER_OK },
		{ "64:ff9b:2::", CFG_PEER_OK },
		/* public */
		{ "2606:4700:4700::1111", CFG_PEER_OK },
		{ "2a00:1450:4001:82b::200e", CFG_PEER_OK },
	};
	struct edge_cfg c;

	lab(&c);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		EXPECT(&c, rows[i].ip, 3480, rows[i].v);
	/* unique-local unless allowed; an allow range opens only what it covers */
	c.turn.allowed6[c.turn.n_allowed6++] = p6("fd00::", 8);
	EXPECT(&c, "fd12:3456::1", 3480, CFG_PEER_ALLOWED);
	EXPECT(&c, "fc00::1", 3480, CFG_PEER_SPECIAL);
}

/* Deny over allow over the defaults; the NAT64 and 6to4 embeddings take their IPv4 verdict
 * unless an IPv6 range decides first. */
static void test_order(void)
{
	struct edge_cfg c;

	lab(&c);
	c.turn.allowed6[c.turn.n_allowed6++] = p6("2001:db8:10::", 48);
	EXPECT(&c, "2001:db8:10::2", 3480, CFG_PEER_ALLOWED);
	EXPECT(&c, "2001:db8:11::2", 3480, CFG_PEER_SPECIAL);
	c.turn.denied6[c.turn.n_denied6++] = p6("2001:db8:10:0:1::", 80);
	EXPECT(&c, "2001:db8:10:0:1::5", 3480, CFG_PEER_DENIED);
	EXPECT(&c, "2001:db8:10:0:2::5", 3480, CFG_PEER_ALLOWED);
	c.turn.denied6[c.turn.n_denied6++] = p6("2606:4700::", 32);
	EXPECT(&c, "2606:4700:4700::1111", 3480, CFG_PEER_DENIED);
	EXPECT(&c, "2606:4701::1", 3480, CFG_PEER_OK);
	/* IPv4 ranges are not IPv6 ones */
	c.turn.denied[c.turn.n_denied++] = (struct cfg_prefix){ 0, 0 };
	EXPECT(&c, "2606:4701::1", 3480, CFG_PEER_OK);
	c.turn.n_denied = 0;

	/* the embedded IPv4 address's verdict */
	EXPECT(&c, "64:ff9b::a00:1", 3480, CFG_PEER_SPECIAL); /* 10.0.0.1 */
	EXPECT(&c, "2002:a00:1::", 3480, CFG_PEER_SPECIAL);
	EXPECT(&c, "2002:a00:1:ffff:ffff:ffff:ffff:ffff", 3480, CFG_PEER_SPECIAL);
	EXPECT(&c, "64:ff9b::c612:a02", 3480, CFG_PEER_SPECIAL); /* 198.18.10.2 */
	EXPECT(&c, "64:ff9b::808:808", 3480, CFG_PEER_OK);
	EXPECT(&c, "2002:808:808::1", 3480, CFG_PEER_OK);
	c.turn.allowed[c.turn.n_allowed++] = (struct cfg_prefix){ inet_addr("10.0.0.0"), 8 };
	EXPECT(&c, "64:ff9b::a00:1", 3480, CFG_PEER_ALLOWED);
	EXPECT(&c, "2002:a00:1::", 3480, CFG_PEER_ALLOWED);
	c.turn.denied[c.turn.n_denied++] = (struct cfg_prefix){ inet_addr("8.8.8.0"), 24 };
	EXPECT(&c, "64:ff9b::808:808", 3480, CFG_PEER_DENIED);
	EXPECT(&c, "2002:808:808::", 3480, CFG_PEER_DENIED);
	EXPECT(&c, "64:ff9b::808:908", 3480, CFG_PEER_OK);
	/* an IPv4 network behind the internal interface, embedded */
	{
		char err[200] = "";

		CU_ASSERT_EQUAL(cfg_route_add(&c, 0, inet_addr("8.8.4.0"), 24,
					inet_addr("198.18.10.2"), err, sizeof(err)),
			0);
	}
	EXPECT(&c, "64:ff9b::808:401", 3480, CFG_PEER_INTERNAL);
	EXPECT(&c, "2002:808:401::", 3480, CFG_PEER_INTERNAL);
	/* an IPv6 range decides before the embedded address */
	c.turn.denied6[c.turn.n_denied6++] = p6("64:ff9b::", 96);
	EXPECT(&c, "64:ff9b::a00:1", 3480, CFG_PEER_DENIED);
	c.turn.allowed6[c.turn.n_allowed6++] = p6("2002::", 16);
	EXPECT(&c, "2002:808:808::", 3480, CFG_PEER_ALLOWED);
	/* but never what the IPv4 rules never relay to */
	EXPECT(&c, "2002:7f00:1::", 3480, CFG_PEER_NEVER);
	EXPECT(&c, "64:ff9b::7f00:1", 3480, CFG_PEER_NEVER);
}

/* The prefixes and routes of an interface without the default route are internal. */
static void test_internal(void)
{
	struct edge_cfg c;
	char err[200] = "";

	lab(&c);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 0, a6("2a02:1:2:3::1"), 64, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_route6_add(&c, 0, a6("2a02:9::"), 32, a6("2a02:1:2:3::9"), err,
				sizeof(err)),
		0);
	CU_ASSERT_EQUAL(cfg_ipv6_add(&c, 1, a6("2a03:5::1"), 64, NULL, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(cfg_route6_add(&c, 1, a6("2a03:9::"), 32, a6("2a03:5::9"), err,
				sizeof(err)),
		0);
	EXPECT(&c, "2a02:1:2:3::7", 3480, CFG_PEER_INTERNAL);
	EXPECT(&c, "2a02:1:2:3:ffff:ffff:ffff:ffff", 3480, CFG_PEER_INTERNAL);
	EXPECT(&c, "2a02:1:2:4::7", 3480, CFG_PEER_OK);
	EXPECT(&c, "2a02:9:1::1", 3480, CFG_PEER_INTERNAL);
	EXPECT(&c, "2a02:a::1", 3480, CFG_PEER_OK);
	EXPECT(&c, "2a03:5::7", 3480, CFG_PEER_OK); /* b holds the default route */
	EXPECT(&c, "2a03:9::7", 3480, CFG_PEER_OK);
	/* special before internal: a's documentation prefix */
	EXPECT(&c, "2001:db8:10::2", 3480, CFG_PEER_SPECIAL);
	c.turn.allowed6[c.turn.n_allowed6++] = p6("2a02:9::", 32);
	EXPECT(&c, "2a02:9:1::1", 3480, CFG_PEER_ALLOWED);
	c.default_if = 0;
	EXPECT(&c, "2a02:1:2:3::7", 3480, CFG_PEER_OK);
	EXPECT(&c, "2a03:5::7", 3480, CFG_PEER_INTERNAL);
	EXPECT(&c, "2a03:9::7", 3480, CFG_PEER_INTERNAL);
	c.default_if = -1;
	EXPECT(&c, "2a02:1:2:3::7", 3480, CFG_PEER_INTERNAL);
}

/* Writes @text into a new temporary file named in @tmp ("...XXXXXX"). */
static void write_tmp(char *tmp, const char *text)
{
	int fd = mkstemp(tmp);
	FILE *f;

	CU_ASSERT_FATAL(fd >= 0);
	f = fdopen(fd, "w");
	fputs(text, f);
	fclose(f);
}

/* lab.conf with its allowed_peers line replaced by @allowed (and @denied added). */
static char *lab_text(const char *allowed, const char *denied)
{
	static const char line[] = "allowed_peers = [ \"198.18.0.0/15\" ];";
	static char text[16384];
	char in[16384], *at;
	FILE *f = fopen(src("config/lab.conf"), "r");
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(in, 1, sizeof(in) - 1, f);
	fclose(f);
	in[n] = '\0';
	at = strstr(in, line);
	CU_ASSERT_PTR_NOT_NULL_FATAL(at);
	snprintf(text, sizeof(text), "%.*s%s\n\t%s%s", (int)(at - in), in, allowed, denied,
		at + strlen(line));
	return text;
}

/* The lab with allowed_peers = [ "198.18.0.0/15", "2001:db8::/32" ] from the file. */
static void test_lab_allowed(void)
{
	char tmp[] = "/tmp/edge-peer6-XXXXXX", err[256] = "";
	struct edge_cfg c;

	write_tmp(tmp, lab_text("allowed_peers = [ \"198.18.0.0/15\", \"2001:db8::/32\" ];", ""));
	CU_ASSERT_EQUAL_FATAL(cfg_load(tmp, &c, err, sizeof(err)), 0);
	unlink(tmp);
	CU_ASSERT_EQUAL(c.turn.n_allowed, 1);
	CU_ASSERT_EQUAL_FATAL(c.turn.n_allowed6, 1);
	CU_ASSERT_EQUAL(c.turn.allowed6[0].len, 32);
	CU_ASSERT_EQUAL(memcmp(c.turn.allowed6[0].addr, a6("2001:db8::"), 16), 0);
	/* the relay interface is a, the first listen interface */
	CU_ASSERT_EQUAL(cfg_turn_relay_if(&c.turn), 0);
	EXPECT(&c, "2001:db8:10::2", 3480, CFG_PEER_ALLOWED); /* the internal host */
	EXPECT(&c, "2001:db8:20::2", 3480, CFG_PEER_ALLOWED); /* the public host */
	EXPECT(&c, "2001:db8:20::1", 3480, CFG_PEER_NEVER);   /* b's, ours */
	EXPECT(&c, "2001:db8:20::1", 50000, CFG_PEER_NEVER);  /* and not the relay's */
	EXPECT(&c, "2001:db8:10::1", 3480, CFG_PEER_NEVER);
	EXPECT(&c, "2001:db8:10::1", 50000, CFG_PEER_ALLOWED); /* the hairpin */
	EXPECT(&c, "fd00::1", 3480, CFG_PEER_SPECIAL);
	CU_ASSERT_EQUAL(cfg_turn_peer_verdict(&c, inet_addr("198.18.10.2"), htons(3480)),
		CFG_PEER_ALLOWED);
	/* relaying from b instead (listen = [ "b" ]): b's address is the hairpin */
	c.turn.listen_mask = 2;
	EXPECT(&c, "2001:db8:20::1", 50000, CFG_PEER_ALLOWED);
	EXPECT(&c, "2001:db8:10::1", 50000, CFG_PEER_NEVER);
}

static void text_of(const char *path, char *buf, size_t cap)
{
	FILE *f = fopen(path, "r");
	size_t n;

	CU_ASSERT_PTR_NOT_NULL_FATAL(f);
	n = fread(buf, 1, cap - 1, f);
	fclose(f);
	buf[n] = '\0';
}

/* Mixed lists load into both families, save back, and load to the same model. */
static void test_file_roundtrip(void)
{
	char t1[] = "/tmp/edge-peer6-XXXXXX", t2[] = "/tmp/edge-peer6-XXXXXX",
	     t3[] = "/tmp/edge-peer6-XXXXXX", err[256] = "", s1[16384], s2[16384];
	struct edge_cfg a, b;

	write_tmp(t1,
		lab_text("allowed_peers = [ \"2001:db8::/32\", \"198.18.0.0/15\", "
			 "\"fd00::/8\", \"::/0\", \"2001:db8:10::2/128\" ];",
			"denied_peers = [ \"2001:DB8:30::/48\", \"198.18.30.0/24\", "
			"\"64:ff9b::/96\" ];"));
	CU_ASSERT_EQUAL_FATAL(cfg_load(t1, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.turn.n_allowed, 1);
	CU_ASSERT_EQUAL_FATAL(a.turn.n_allowed6, 4);
	CU_ASSERT_EQUAL(a.turn.n_denied, 1);
	CU_ASSERT_EQUAL_FATAL(a.turn.n_denied6, 2);
	CU_ASSERT_EQUAL(memcmp(&a.turn.allowed6[1], &(struct cfg_prefix6){ { 0xfd }, 8 }, 17), 0);
	CU_ASSERT_EQUAL(a.turn.allowed6[2].len, 0);
	CU_ASSERT_EQUAL(a.turn.allowed6[3].len, 128);
	CU_ASSERT_EQUAL(memcmp(a.turn.denied6[0].addr, a6("2001:db8:30::"), 16), 0);
	CU_ASSERT_EQUAL(a.turn.denied6[1].len, 96);
	CU_ASSERT_EQUAL(a.turn.denied[0].addr, inet_addr("198.18.30.0"));
	write_tmp(t2, "");
	CU_ASSERT_EQUAL_FATAL(cfg_save(t2, &a, err, sizeof(err)), 0);
	text_of(t2, s1, sizeof(s1));
	CU_ASSERT_PTR_NOT_NULL(strstr(s1, "\"2001:db8:30::/48\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s1, "\"::/0\""));
	CU_ASSERT_PTR_NOT_NULL(strstr(s1, "\"198.18.30.0/24\""));
	CU_ASSERT_EQUAL_FATAL(cfg_load(t2, &b, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(memcmp(&a.turn, &b.turn, sizeof(a.turn)), 0);
	write_tmp(t3, "");
	CU_ASSERT_EQUAL_FATAL(cfg_save(t3, &b, err, sizeof(err)), 0);
	text_of(t3, s2, sizeof(s2));
	CU_ASSERT_STRING_EQUAL(s1, s2);
	/* IPv6 only, and an empty list */
	unlink(t1);
	strcpy(t1, "/tmp/edge-peer6-XXXXXX");
	write_tmp(t1, "turn: { allowed_peers = [ ]; denied_peers = [ \"2001:db8::/32\" ]; };\n");
	CU_ASSERT_EQUAL_FATAL(cfg_load(t1, &a, err, sizeof(err)), 0);
	CU_ASSERT_EQUAL(a.turn.n_allowed + a.turn.n_allowed6, 0);
	CU_ASSERT_EQUAL(a.turn.n_denied, 0);
	CU_ASSERT_EQUAL(a.turn.n_denied6, 1);
	unlink(t1);
	unlink(t2);
	unlink(t3);
}

/* Loading "turn: { <key> = [ <list> ]; };" fails with @needle in the error. */
static void refused(const char *key, const char *list, const char *needle)
{
	char tmp[] = "/tmp/edge-peer6-XXXXXX", err[512] = "", text[8192];
	struct edge_cfg c;

	snprintf(text, sizeof(text), "turn: { %s = [ %s ]; };\n", key, list);
	write_tmp(tmp, text);
	CU_ASSERT_EQUAL(cfg_load(tmp, &c, err, sizeof(err)), -EINVAL);
	if (!strstr(err, needle)) {
		fprintf(stderr, "\n  expected '%s' in: %s\n", needle, err);
		CU_FAIL("error message does not name the problem");
	}
	unlink(tmp);
}

static void test_file_malformed(void)
{
	char list[4096] = "", *p = list;

	refused("allowed_peers", "\"2001:db8::1/32\"", "'2001:db8::1/32': host bits set");
	refused("allowed_peers", "\"2001:db8::1/32\"", "2001:db8::/32?");
	refused("denied_peers", "\"198.18.0.0/15\", \"2001:db8::/129\"",
		"line 1: turn.denied_peers: '2001:db8::/129': an IPv6 prefix length is 0..128");
	refused("denied_peers", "\"2001:db8::zz/32\"", "'2001:db8::zz/32': expected an IPv6");
	refused("denied_peers", "\"2001:db8::\"", "'2001:db8::'");
	refused("denied_peers", "\"2001:db8::/\"", "'2001:db8::/'");
	refused("denied_peers", "\"2001:db8::/-1\"", "'2001:db8::/-1'");
	refused("denied_peers", "\"fe80::1%eth0/64\"", "'fe80::1%eth0/64'");
	refused("denied_peers", "\"2001:db8::/32 \"", "'2001:db8::/32 '");
	refused("denied_peers", "\"peers\"", "'peers': expected a.b.c.d/n or an IPv6 prefix");
	/* bounded per family: 32 of each, not 33 */
	for (int i = 0; i < TURN_MAX_PEER_RULES; i++)
		p += sprintf(p, "\"2001:db8:%x::/48\", \"198.18.%d.0/24\", ", i, i);
	{
		char tmp[] = "/tmp/edge-peer6-XXXXXX", err[256] = "", text[8192];
		struct edge_cfg c;

		snprintf(text, sizeof(text), "turn: { allowed_peers = [ %s\"::/0\" ]; };\n", list);
		/* the last one over the IPv6 bound */
		write_tmp(tmp, text);
		CU_ASSERT_EQUAL(cfg_load(tmp, &c, err, sizeof(err)), -EINVAL);
		CU_ASSERT_PTR_NOT_NULL(strstr(err, "more than 32 IPv6"));
		unlink(tmp);
		strcpy(tmp, "/tmp/edge-peer6-XXXXXX");
		list[strlen(list) - 2] = '\0'; /* without the trailing ", " */
		snprintf(text, sizeof(text), "turn: { allowed_peers = [ %s ]; };\n", list);
		write_tmp(tmp, text);
		CU_ASSERT_EQUAL(cfg_load(tmp, &c, err, sizeof(err)), 0);
		CU_ASSERT_EQUAL(c.turn.n_allowed, 32);
		CU_ASSERT_EQUAL(c.turn.n_allowed6, 32);
		unlink(tmp);
	}
}

/* The word parser both the CLI and the file use. */
static void test_parse_word(void)
{
	struct cfg_prefix p4 = { 0 };
	struct cfg_prefix6 p;
	char why[96];

	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("2001:db8::/32", &p4, &p, why, sizeof(why)), 6);
	CU_ASSERT_EQUAL(p.len, 32);
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("::/0", &p4, &p, why, sizeof(why)), 6);
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("::1/128", &p4, &p, why, sizeof(why)), 6);
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("2001:db8::8000/113", &p4, &p, why, sizeof(why)), 6);
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("2001:db8::4000/113", &p4, &p, why, sizeof(why)),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "host bits set (2001:db8::/113?)");
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("198.18.30.7/16", &p4, &p, why, sizeof(why)), 4);
	CU_ASSERT_EQUAL(p4.addr, inet_addr("198.18.0.0")); /* IPv4: host bits cleared, as ever */
	CU_ASSERT_EQUAL(p4.len, 16);
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("198.18.0.0/33", &p4, &p, why, sizeof(why)), -EINVAL);
	CU_ASSERT_EQUAL(cfg_parse_peer_prefix("2001:db8::/129", &p4, &p, why, sizeof(why)),
		-EINVAL);
	CU_ASSERT_STRING_EQUAL(why, "an IPv6 prefix length is 0..128");
	/* cfg_prefix6_of clears the host bits */
	p = cfg_prefix6_of(a6("2001:db8:10::1"), 63);
	CU_ASSERT_EQUAL(memcmp(p.addr, a6("2001:db8:10::"), 16), 0);
	p = cfg_prefix6_of(a6("2001:fdb8:ffff::1"), 20);
	CU_ASSERT_EQUAL(memcmp(p.addr, a6("2001:f000::"), 16), 0);
}

static const struct unit_test tests[] = {
	{ "never: unspecified, loopback, mapped, multicast, link-local, ours, embedded",
		test_never },
	{ "refused by default: each special range at its bounds", test_special },
	{ "deny over allow over defaults; NAT64/6to4 take the IPv4 verdict", test_order },
	{ "internal: prefixes and routes of interfaces without the default route", test_internal },
	{ "the lab: allowed_peers with 2001:db8::/32, our addresses, the hairpin",
		test_lab_allowed },
	{ "file: mixed lists load, save and load again the same", test_file_roundtrip },
	{ "file: bad IPv6 words are refused, naming them", test_file_malformed },
	{ "the peer-prefix word, both families", test_parse_word },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("peer6", tests);
}
