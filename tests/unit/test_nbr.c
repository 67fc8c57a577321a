/* The neighbour table (IPv4 and IPv6) and the RCU pattern under it: plain operations, the
 * bounded queue of packets waiting for ARP or neighbour discovery, and a hammer test — readers
 * look up entries of both families without locks while the writer replaces and deletes them; run under ASan this catches any use after free,
 * and the final check catches any lost update. */
#include "unit.h"
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "nbr.h"

static const uint8_t mac1[6] = { 2, 0, 0, 0, 0, 1 }, mac2[6] = { 2, 0, 0, 0, 0, 2 };

static void test_basic(void)
{
	const struct nbr_entry *n;

	edge_rcu_reader_start();
	CU_ASSERT_PTR_NULL(nbr_lookup(0, 0x0a000001));
	CU_ASSERT_EQUAL(nbr_update(0, 0x0a000001, mac1, 100), 0);
	n = nbr_lookup(0, 0x0a000001);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(memcmp(n->mac, mac1, 6), 0);
	CU_ASSERT_TRUE(nbr_valid(n, 99));
	CU_ASSERT_FALSE(nbr_valid(n, 100));
	/* same address on another interface is another neighbour */
	CU_ASSERT_PTR_NULL(nbr_lookup(1, 0x0a000001));
	CU_ASSERT_EQUAL(nbr_update(1, 0x0a000001, mac2, 200), 0);
	CU_ASSERT_EQUAL(nbr_count(), 2);
	/* an update replaces, never duplicates */
	CU_ASSERT_EQUAL(nbr_update(0, 0x0a000001, mac2, 300), 0);
	CU_ASSERT_EQUAL(nbr_count(), 2);
	CU_ASSERT_EQUAL(memcmp(nbr_lookup(0, 0x0a000001)->mac, mac2, 6), 0);
	CU_ASSERT_EQUAL(nbr_lookup(0, 0x0a000001)->expires, 300);
	/* expiry reaps only what is due */
	CU_ASSERT_EQUAL(nbr_reap(250, -1), 1);
	CU_ASSERT_PTR_NULL(nbr_lookup(1, 0x0a000001));
	CU_ASSERT_PTR_NOT_NULL(nbr_lookup(0, 0x0a000001));
	/* flushing one interface */
	CU_ASSERT_EQUAL(nbr_reap(0, 0), 1);
	CU_ASSERT_EQUAL(nbr_count(), 0);
	CU_ASSERT_EQUAL(nbr_delete(0, 0x0a000001), -ENOENT);
	edge_rcu_reader_stop();
}

/* Only senders on one of the link's subnets are neighbours: not ours, not the subnet's
 * network or broadcast address, nothing off-subnet. */
static void test_on_link(void)
{
	const uint32_t addr[2] = { htonl(0xc6121401), htonl(0xc6120a00) }; /* .20.1/24, .10.0/31 */
	const uint32_t mask[2] = { htonl(0xffffff00), htonl(0xfffffffe) };

	CU_ASSERT_TRUE(nbr_on_link(addr, mask, 1, htonl(0xc6121402))); /* 198.18.20.2 */
	CU_ASSERT_TRUE(nbr_on_link(addr, mask, 1, htonl(0xc61214fe)));
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 1, htonl(0xc6121501))); /* 198.18.21.1 */
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 1, htonl(0x0a000001))); /* 10.0.0.1 */
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 1, htonl(0xc6121401))); /* ours */
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 1, htonl(0xc6121400))); /* network */
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 1, htonl(0xc61214ff))); /* broadcast */
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 0, htonl(0xc6121402))); /* no address */
	/* a /31 has two hosts and no broadcast (RFC 3021) */
	CU_ASSERT_TRUE(nbr_on_link(addr, mask, 2, htonl(0xc6120a01)));
	CU_ASSERT_FALSE(nbr_on_link(addr, mask, 2, htonl(0xc6120a02)));
}

/* A flood of new senders stops at NBR_UNSOLICITED_MAX; what is known still updates, and the
 * control plane's own resolutions still find room, up to NBR_MAX_ENTRIES and no further. */
static void test_bounded(void)
{
	unsigned int learnt = 0;

	edge_rcu_reader_start();
	for (uint32_t i = 0; i < NBR_MAX_ENTRIES + 100; i++)
		if (nbr_learn(0, 0x0a000000 + i, mac1, 100, false) == 0)
			learnt++;
	CU_ASSERT_EQUAL(learnt, NBR_UNSOLICITED_MAX);
	CU_ASSERT_EQUAL(nbr_count(), NBR_UNSOLICITED_MAX);
	CU_ASSERT_EQUAL(nbr_learn(1, 0x0b000001, mac1, 100, false), -ENOSPC);
	/* a known neighbour still moves */
	CU_ASSERT_EQUAL(nbr_learn(0, 0x0a000005, mac2, 200, false), 0);
	CU_ASSERT_EQUAL(memcmp(nbr_lookup(0, 0x0a000005)->mac, mac2, 6), 0);
	/* the next hops we resolve ourselves: the reserve, then no more */
	for (uint32_t i = 0; i < NBR_PENDING_SLOTS; i++)
		CU_ASSERT_EQUAL(nbr_learn(1, 0x0c000000 + i, mac1, 100, true), 0);
	CU_ASSERT_EQUAL(nbr_count(), NBR_MAX_ENTRIES);
	CU_ASSERT_EQUAL(nbr_learn(1, 0x0d000001, mac1, 100, true), -ENOSPC);
	CU_ASSERT_EQUAL(nbr_update(1, 0x0d000001, mac1, 100), -ENOSPC);
	CU_ASSERT_EQUAL(nbr_count(), NBR_MAX_ENTRIES);
	/* expiry makes room again */
	CU_ASSERT_EQUAL(nbr_reap(150, -1), NBR_MAX_ENTRIES - 1);
	CU_ASSERT_EQUAL(nbr_learn(1, 0x0d000001, mac1, 100, false), 0);
	nbr_reap(0, 0);
	nbr_reap(0, 1);
	CU_ASSERT_EQUAL(nbr_count(), 0);
	edge_rcu_reader_stop();
	edge_rcu_barrier();
}

static int retried, dropped;
static uint8_t retried_ifi, retried_addr[16];
static int retried_family;
static void on_retry(uint8_t ifi, int family, const void *addr, void *arg)
{
	(void)arg;
	retried++;
	retried_ifi = ifi;
	retried_family = family;
	memset(retried_addr, 0, 16);
	memcpy(retried_addr, addr, family == AF_INET6 ? 16 : 4);
}
static void on_drop(void *pkt, void *arg)
{
	(void)pkt, (void)arg;
	dropped++;
}

static void test_pending(void)
{
	int pkts[NBR_PENDING_PKTS + 1];
	void *got[NBR_PENDING_PKTS];

	CU_ASSERT_EQUAL(nbr_pending_add(0, 7, &pkts[0], 10), 1); /* first: send a request */
	for (int i = 1; i < NBR_PENDING_PKTS; i++)
		CU_ASSERT_EQUAL(nbr_pending_add(0, 7, &pkts[i], 10), 0);
	CU_ASSERT_EQUAL(nbr_pending_add(0, 7, &pkts[NBR_PENDING_PKTS], 10), -ENOSPC); /* bounded */
	CU_ASSERT_EQUAL(nbr_pending_take(0, 7, got, 3), 3);
	CU_ASSERT_PTR_EQUAL(got[0], &pkts[0]); /* oldest first */
	CU_ASSERT_PTR_EQUAL(got[2], &pkts[2]);
	CU_ASSERT_EQUAL(nbr_pending_take(0, 7, got, NBR_PENDING_PKTS), NBR_PENDING_PKTS - 3);
	CU_ASSERT_EQUAL(nbr_pending_take(0, 7, got, NBR_PENDING_PKTS), 0);

	/* retries, then the waiting packets are dropped */
	retried = dropped = 0;
	CU_ASSERT_EQUAL(nbr_pending_add(0, 8, &pkts[0], 10), 1);
	CU_ASSERT_EQUAL(nbr_pending_add(0, 8, &pkts[1], 10), 0);
	nbr_pending_tick(5, 3, 20, on_retry, on_drop, NULL); /* not due yet */
	CU_ASSERT_EQUAL(retried, 0);
	nbr_pending_tick(10, 3, 20, on_retry, on_drop, NULL);
	nbr_pending_tick(20, 3, 30, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(retried, 2);
	CU_ASSERT_EQUAL(dropped, 0);
	nbr_pending_tick(30, 3, 40, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(dropped, 2);
	CU_ASSERT_EQUAL(nbr_pending_take(0, 8, got, 8), 0);

	/* the number of next hops in resolution is bounded too */
	for (uint32_t i = 0; i < NBR_PENDING_SLOTS; i++)
		CU_ASSERT_EQUAL(nbr_pending_add(1, 100 + i, &pkts[0], 1), 1);
	CU_ASSERT_EQUAL(nbr_pending_add(1, 999, &pkts[0], 1), -ENOSPC);
	for (uint32_t i = 0; i < NBR_PENDING_SLOTS; i++)
		CU_ASSERT_EQUAL(nbr_pending_take(1, 100 + i, got, 8), 1);
}

/* ---- IPv6 (issue 18) ---- */

static const uint8_t *a6(const char *s)
{
	static uint8_t a[4][16];
	static unsigned int k;
	uint8_t *p = a[k++ % 4];

	CU_ASSERT_FATAL(inet_pton(AF_INET6, s, p) == 1);
	return p;
}

/* An address per @i inside 2001:db8:1::/64. */
static const uint8_t *nth6(uint32_t i)
{
	static uint8_t a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1 };

	a[12] = i >> 24;
	a[13] = i >> 16;
	a[14] = i >> 8;
	a[15] = i;
	return a;
}

struct seen {
	unsigned int v4, v6;
	bool peer6;
};

static void count_row(const struct nbr_entry *n, void *arg)
{
	struct seen *s = arg;

	if (n->family == AF_INET6) {
		s->v6++;
		if (!memcmp(n->ip6, a6("2001:db8:1::2"), 16) && n->ifi == 0 && n->ip == 0)
			s->peer6 = true;
	} else {
		CU_ASSERT_EQUAL(n->family, AF_INET);
		s->v4++;
	}
}

/* IPv6 neighbours: keyed by interface and the whole address, apart from IPv4 ones (even one
 * whose 4 bytes are the IPv6 address's first), expiring, listed and flushed with them. */
static void test_basic6(void)
{
	const uint8_t *peer = a6("2001:db8:1::2");
	uint8_t p[16], first4[16] = { 0x0a, 0, 0, 1 };
	const struct nbr_entry *n;
	struct seen seen = { 0 };

	memcpy(p, peer, 16);
	edge_rcu_reader_start();
	CU_ASSERT_PTR_NULL(nbr6_lookup(0, p));
	CU_ASSERT_EQUAL(nbr6_update(0, p, mac1, 100), 0);
	n = nbr6_lookup(0, p);
	CU_ASSERT_PTR_NOT_NULL_FATAL(n);
	CU_ASSERT_EQUAL(n->family, AF_INET6);
	CU_ASSERT_EQUAL(memcmp(n->ip6, p, 16), 0);
	CU_ASSERT_EQUAL(memcmp(n->mac, mac1, 6), 0);
	CU_ASSERT_TRUE(nbr_valid(n, 99));
	CU_ASSERT_FALSE(nbr_valid(n, 100));
	/* another interface, another address (one bit off at the end): other neighbours */
	CU_ASSERT_PTR_NULL(nbr6_lookup(1, p));
	p[15] ^= 1;
	CU_ASSERT_PTR_NULL(nbr6_lookup(0, p));
	p[15] ^= 1;
	/* the families do not mix: 10.0.0.1 and 0a00:0001:: are two neighbours */
	CU_ASSERT_EQUAL(nbr_update(0, htonl(0x0a000001), mac1, 100), 0);
	CU_ASSERT_PTR_NULL(nbr6_lookup(0, first4));
	CU_ASSERT_EQUAL(nbr6_update(0, first4, mac2, 200), 0);
	CU_ASSERT_EQUAL(memcmp(nbr_lookup(0, htonl(0x0a000001))->mac, mac1, 6), 0);
	CU_ASSERT_EQUAL(memcmp(nbr6_lookup(0, first4)->mac, mac2, 6), 0);
	CU_ASSERT_EQUAL(nbr_count(), 3);
	/* an update replaces */
	CU_ASSERT_EQUAL(nbr6_update(0, p, mac2, 300), 0);
	CU_ASSERT_EQUAL(nbr_count(), 3);
	CU_ASSERT_EQUAL(memcmp(nbr6_lookup(0, p)->mac, mac2, 6), 0);
	CU_ASSERT_EQUAL(nbr6_lookup(0, p)->expires, 300);
	/* the listing has both families */
	nbr_foreach(count_row, &seen);
	CU_ASSERT_EQUAL(seen.v4, 1);
	CU_ASSERT_EQUAL(seen.v6, 2);
	CU_ASSERT_TRUE(seen.peer6);
	/* expiry: what is due, of both families */
	CU_ASSERT_EQUAL(nbr_reap(150, -1), 1);
	CU_ASSERT_PTR_NULL(nbr_lookup(0, htonl(0x0a000001)));
	CU_ASSERT_PTR_NOT_NULL(nbr6_lookup(0, first4));
	/* a family flushed from an interface leaves the other */
	CU_ASSERT_EQUAL(nbr_update(0, htonl(0x0a000001), mac1, 1000), 0);
	CU_ASSERT_EQUAL(nbr_flush(0, AF_INET6), 2);
	CU_ASSERT_PTR_NULL(nbr6_lookup(0, p));
	CU_ASSERT_PTR_NOT_NULL(nbr_lookup(0, htonl(0x0a000001)));
	CU_ASSERT_EQUAL(nbr6_update(0, p, mac2, 1000), 0);
	CU_ASSERT_EQUAL(nbr_flush(0, AF_INET), 1);
	CU_ASSERT_PTR_NOT_NULL(nbr6_lookup(0, p));
	/* delete, and the interface flush takes both */
	CU_ASSERT_EQUAL(nbr6_delete(0, p), 0);
	CU_ASSERT_EQUAL(nbr6_delete(0, p), -ENOENT);
	CU_ASSERT_EQUAL(nbr6_update(0, p, mac2, 1000), 0);
	CU_ASSERT_EQUAL(nbr_update(0, htonl(0x0a000001), mac1, 1000), 0);
	CU_ASSERT_EQUAL(nbr_reap(0, 0), 2);
	CU_ASSERT_EQUAL(nbr_count(), 0);
	edge_rcu_reader_stop();
	edge_rcu_barrier();
}

/* On the link: link-local, or inside one of its prefixes; not ours, not ::, no group. */
static void test_on_link6(void)
{
	uint8_t addr[2][16], ll[16], prefix[2] = { 64, 127 };

	memcpy(addr[0], a6("2001:db8:20::10"), 16);
	memcpy(addr[1], a6("2001:db8:30::"), 16);
	memcpy(ll, a6("fe80::ff:fe00:1"), 16);
	CU_ASSERT_TRUE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("2001:db8:20::2")));
	CU_ASSERT_TRUE(nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll,
		a6("2001:db8:20::ffff:1:2:3")));
	CU_ASSERT_TRUE(nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("fe80::2")));
	CU_ASSERT_FALSE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("2001:db8:21::2")));
	CU_ASSERT_FALSE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("2001:db8:20::10")));
	CU_ASSERT_FALSE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("fe80::ff:fe00:1")));
	CU_ASSERT_FALSE(nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("::")));
	CU_ASSERT_FALSE(nbr6_on_link((const uint8_t(*)[16])addr, prefix, 1, ll, a6("ff02::1")));
	/* a /127: its other address only (bits past a whole byte compare too) */
	CU_ASSERT_TRUE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 2, ll, a6("2001:db8:30::1")));
	CU_ASSERT_FALSE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 2, ll, a6("2001:db8:30::2")));
	CU_ASSERT_FALSE(
		nbr6_on_link((const uint8_t(*)[16])addr, prefix, 2, ll, a6("2001:db8:30::")));
}

/* IPv6 counts against the same bounds as IPv4: unsolicited learning of either family stops
 * at NBR_UNSOLICITED_MAX together, known ones still move, our own resolutions (of either)
 * take the reserve, and nothing passes NBR_MAX_ENTRIES. */
static void test_bounded6(void)
{
	unsigned int learnt = 0;
	uint8_t a[16];

	edge_rcu_reader_start();
	for (uint32_t i = 0; i < NBR_UNSOLICITED_MAX / 2; i++)
		CU_ASSERT_EQUAL(nbr_learn(0, 0x0a000000 + i, mac1, 100, false), 0);
	for (uint32_t i = 0; i < NBR_MAX_ENTRIES; i++)
		if (nbr6_learn(0, nth6(i), mac1, 100, false) == 0)
			learnt++;
	CU_ASSERT_EQUAL(learnt, NBR_UNSOLICITED_MAX - NBR_UNSOLICITED_MAX / 2);
	CU_ASSERT_EQUAL(nbr_count(), NBR_UNSOLICITED_MAX);
	CU_ASSERT_EQUAL(nbr6_learn(1, nth6(1), mac1, 100, false), -ENOSPC);
	CU_ASSERT_EQUAL(nbr_learn(1, 0x0b000001, mac1, 100, false), -ENOSPC);
	/* a known one still moves */
	CU_ASSERT_EQUAL(nbr6_learn(0, nth6(5), mac2, 200, false), 0);
	CU_ASSERT_EQUAL(memcmp(nbr6_lookup(0, nth6(5))->mac, mac2, 6), 0);
	/* the reserve: for solicited answers, then full */
	for (uint32_t i = 0; i < NBR_PENDING_SLOTS; i++)
		CU_ASSERT_EQUAL(nbr6_learn(1, nth6(i), mac1, 100, true), 0);
	CU_ASSERT_EQUAL(nbr_count(), NBR_MAX_ENTRIES);
	memcpy(a, nth6(NBR_PENDING_SLOTS), 16);
	CU_ASSERT_EQUAL(nbr6_learn(1, a, mac1, 100, true), -ENOSPC);
	CU_ASSERT_EQUAL(nbr6_update(1, a, mac1, 100), -ENOSPC);
	CU_ASSERT_EQUAL(nbr_learn(1, 0x0d000001, mac1, 100, true), -ENOSPC);
	/* expiry makes room */
	CU_ASSERT_EQUAL(nbr_reap(150, -1), NBR_MAX_ENTRIES - 1);
	CU_ASSERT_EQUAL(nbr6_learn(1, a, mac1, 100, false), 0);
	nbr_reap(0, 0);
	nbr_reap(0, 1);
	CU_ASSERT_EQUAL(nbr_count(), 0);
	edge_rcu_reader_stop();
	edge_rcu_barrier();
}

/* The queue of packets waiting for a solicitation's answer: bounded, oldest first, keyed by
 * family too, retried with the IPv6 address, then dropped; the slots are IPv4's as well. */
static void test_pending6(void)
{
	int pkts[NBR_PENDING_PKTS + 1];
	void *got[NBR_PENDING_PKTS];
	uint8_t a[16], first4[16] = { 0, 0, 0, 7 };
	uint32_t seven; /* 0.0.0.7, whose 4 bytes are first4's first */

	memcpy(&seven, first4, 4);
	memcpy(a, a6("2001:db8:1::9"), 16);
	CU_ASSERT_FALSE(nbr6_pending_has(0, a));
	CU_ASSERT_EQUAL(nbr6_pending_add(0, a, &pkts[0], 10), 1); /* first: solicit */
	CU_ASSERT_TRUE(nbr6_pending_has(0, a));
	CU_ASSERT_FALSE(nbr6_pending_has(1, a));
	for (int i = 1; i < NBR_PENDING_PKTS; i++)
		CU_ASSERT_EQUAL(nbr6_pending_add(0, a, &pkts[i], 10), 0);
	CU_ASSERT_EQUAL(nbr6_pending_add(0, a, &pkts[NBR_PENDING_PKTS], 10), -ENOSPC);
	CU_ASSERT_EQUAL(nbr6_pending_take(0, a, got, 2), 2);
	CU_ASSERT_PTR_EQUAL(got[0], &pkts[0]);
	CU_ASSERT_PTR_EQUAL(got[1], &pkts[1]);
	CU_ASSERT_EQUAL(nbr6_pending_take(0, a, got, NBR_PENDING_PKTS), NBR_PENDING_PKTS - 2);
	CU_ASSERT_FALSE(nbr6_pending_has(0, a));

	/* an IPv4 next hop with the same first bytes is another resolution */
	CU_ASSERT_EQUAL(nbr6_pending_add(0, first4, &pkts[0], 10), 1);
	CU_ASSERT_FALSE(nbr_pending_has(0, seven));
	CU_ASSERT_EQUAL(nbr_pending_add(0, seven, &pkts[1], 10), 1);
	CU_ASSERT_EQUAL(nbr_pending_take(0, seven, got, 8), 1);
	CU_ASSERT_PTR_EQUAL(got[0], &pkts[1]);
	CU_ASSERT_EQUAL(nbr6_pending_take(0, first4, got, 8), 1);
	CU_ASSERT_PTR_EQUAL(got[0], &pkts[0]);

	/* three tries a second apart (two retries after the first), then the drop */
	retried = dropped = 0;
	CU_ASSERT_EQUAL(nbr6_pending_add(2, a, &pkts[0], 10), 1);
	CU_ASSERT_EQUAL(nbr6_pending_add(2, a, &pkts[1], 10), 0);
	nbr_pending_tick(5, 3, 20, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(retried, 0);
	nbr_pending_tick(10, 3, 20, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(retried, 1);
	CU_ASSERT_EQUAL(retried_family, AF_INET6);
	CU_ASSERT_EQUAL(retried_ifi, 2);
	CU_ASSERT_EQUAL(memcmp(retried_addr, a, 16), 0);
	nbr_pending_tick(20, 3, 30, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(retried, 2);
	CU_ASSERT_EQUAL(dropped, 0);
	CU_ASSERT_TRUE(nbr6_pending_has(2, a));
	nbr_pending_tick(30, 3, 40, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(retried, 2);
	CU_ASSERT_EQUAL(dropped, 2);
	CU_ASSERT_FALSE(nbr6_pending_has(2, a));
	CU_ASSERT_EQUAL(nbr6_pending_take(2, a, got, 8), 0);
	/* an IPv4 retry says so, with its address */
	CU_ASSERT_EQUAL(nbr_pending_add(3, htonl(0x0a000009), &pkts[0], 10), 1);
	nbr_pending_tick(10, 3, 20, on_retry, on_drop, NULL);
	CU_ASSERT_EQUAL(retried_family, AF_INET);
	CU_ASSERT_EQUAL(memcmp(retried_addr, (const uint8_t[]){ 10, 0, 0, 9 }, 4), 0);
	CU_ASSERT_EQUAL(nbr_pending_take(3, htonl(0x0a000009), got, 8), 1);

	/* the slots are shared: IPv4 resolutions leave one for IPv6, then none */
	for (uint32_t i = 0; i + 1 < NBR_PENDING_SLOTS; i++)
		CU_ASSERT_EQUAL(nbr_pending_add(1, 100 + i, &pkts[0], 1), 1);
	CU_ASSERT_EQUAL(nbr6_pending_add(1, a, &pkts[0], 1), 1);
	CU_ASSERT_EQUAL(nbr6_pending_add(1, first4, &pkts[0], 1), -ENOSPC);
	for (uint32_t i = 0; i + 1 < NBR_PENDING_SLOTS; i++)
		CU_ASSERT_EQUAL(nbr_pending_take(1, 100 + i, got, 8), 1);
	CU_ASSERT_EQUAL(nbr6_pending_take(1, a, got, 8), 1);
}

/* ---- hammer ---- */
#define KEYS 256
#define READERS 3

static atomic_bool stop;
static atomic_ulong checks, bad;

/* An entry is consistent when its MAC encodes its own key and its expiry (the version). */
static void fill_mac(uint8_t mac[6], uint32_t key, uint32_t version)
{
	mac[0] = (uint8_t)key;
	memcpy(&mac[1], &version, 4);
	mac[5] = mac[0] ^ mac[1] ^ mac[2] ^ mac[3] ^ mac[4];
}

/* Half the keys are IPv6 neighbours (2001:db8::<key>), half IPv4 (the key itself): both
 * families share the table under the same readers. */
static const uint8_t *key6(uint32_t key, uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0x20, a[1] = 0x01, a[2] = 0x0d, a[3] = 0xb8;
	memcpy(a + 12, &key, 4);
	return a;
}

static const struct nbr_entry *h_lookup(uint32_t key)
{
	uint8_t a[16];

	return key & 1 ? nbr6_lookup(0, key6(key, a)) : nbr_lookup(0, key);
}

static bool h_is(const struct nbr_entry *n, uint32_t key)
{
	uint8_t a[16];

	if (key & 1)
		return n->family == AF_INET6 && !memcmp(n->ip6, key6(key, a), 16) && n->ip == 0;
	return n->family == AF_INET && n->ip == key;
}

static int h_update(uint32_t key, const uint8_t mac[6], uint64_t expires)
{
	uint8_t a[16];

	return key & 1 ? nbr6_update(0, key6(key, a), mac, expires) :
			 nbr_update(0, key, mac, expires);
}

static int h_delete(uint32_t key)
{
	uint8_t a[16];

	return key & 1 ? nbr6_delete(0, key6(key, a)) : nbr_delete(0, key);
}

static void *reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	edge_rcu_reader_start();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			uint32_t key = rand_r(&seed) % KEYS;
			const struct nbr_entry *n = h_lookup(key);
			uint32_t version;

			if (!n)
				continue;
			memcpy(&version, &n->mac[1], 4);
			if (!h_is(n, key) || n->mac[0] != (uint8_t)key || n->expires != version ||
				n->mac[5] !=
					(n->mac[0] ^ n->mac[1] ^ n->mac[2] ^ n->mac[3] ^ n->mac[4]))
				atomic_fetch_add(&bad, 1);
			atomic_fetch_add_explicit(&checks, 1, memory_order_relaxed);
		}
		edge_rcu_quiescent();
	}
	edge_rcu_reader_stop();
	return NULL;
}

static void test_hammer(void)
{
	pthread_t th[READERS];
	uint32_t last[KEYS] = { 0 }; /* 0 = absent */
	uint32_t version = 0;
	unsigned int seed = 42;
	struct timespec t0, t;
	unsigned long writes = 0;

	atomic_store(&stop, false);
	for (int i = 0; i < READERS; i++)
		pthread_create(&th[i], NULL, reader, (void *)(uintptr_t)(i + 1));
	edge_rcu_reader_start();
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 256; i++) {
			uint32_t key = rand_r(&seed) % KEYS;
			uint8_t mac[6];

			if (rand_r(&seed) % 5 == 0) {
				int r = h_delete(key);
				CU_ASSERT_EQUAL(r, last[key] ? 0 : -ENOENT);
				last[key] = 0;
			} else {
				fill_mac(mac, key, ++version);
				CU_ASSERT_EQUAL(h_update(key, mac, version), 0);
				last[key] = version;
			}
			writes++;
		}
		edge_rcu_quiescent();
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 < 1500);
	atomic_store(&stop, true);
	edge_rcu_offline();
	for (int i = 0; i < READERS; i++)
		pthread_join(th[i], NULL);
	edge_rcu_online();

	/* no lost update: the table holds exactly the last write of every key */
	unsigned int present = 0;
	for (uint32_t k = 0; k < KEYS; k++) {
		const struct nbr_entry *n = h_lookup(k);

		if (last[k]) {
			present++;
			CU_ASSERT_PTR_NOT_NULL(n);
			if (n)
				CU_ASSERT_EQUAL(n->expires, last[k]);
		} else {
			CU_ASSERT_PTR_NULL(n);
		}
	}
	CU_ASSERT_EQUAL(nbr_count(), present);
	CU_ASSERT_EQUAL(atomic_load(&bad), 0);
	CU_ASSERT(atomic_load(&checks) > 1000);
	printf("\n    %lu writes, %lu reader checks, %u entries at the end ", writes,
		atomic_load(&checks), present);
	nbr_reap(0, 0);
	edge_rcu_reader_stop();
	edge_rcu_barrier(); /* every retired entry is freed before the leak check at exit */
}

static const struct unit_test tests[] = {
	{ "update, lookup, expiry, delete", test_basic },
	{ "only senders on the link's subnets are neighbours", test_on_link },
	{ "the table is bounded, with room kept for our own resolutions", test_bounded },
	{ "packets waiting for ARP are bounded, retried, dropped", test_pending },
	{ "IPv6: update, lookup, expiry, delete, apart from IPv4", test_basic6 },
	{ "IPv6: only addresses on the link are neighbours", test_on_link6 },
	{ "IPv6: the same bounds, shared with IPv4", test_bounded6 },
	{ "IPv6: packets waiting for neighbour discovery: bounded, retried, dropped",
		test_pending6 },
	{ "readers during replace/delete: no torn entry, no lost update", test_hammer },
	{ NULL, NULL },
};

int main(void)
{
	int failed;

	if (nbr_init(8) < 0)
		return 1;
	failed = unit_run("nbr", tests);
	nbr_fini();
	return failed;
}
