/* The neighbour table and the RCU pattern under it: plain operations, the bounded queue of
 * packets waiting for ARP, and a hammer test — readers look up without locks while the
 * writer replaces and deletes entries; run under ASan this catches any use after free,
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
static void on_retry(uint8_t ifi, uint32_t ip, void *arg)
{
	(void)ifi, (void)ip, (void)arg;
	retried++;
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

static void *reader(void *arg)
{
	unsigned int seed = (unsigned int)(uintptr_t)arg;

	edge_rcu_reader_start();
	while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
		for (int i = 0; i < 64; i++) {
			uint32_t key = rand_r(&seed) % KEYS;
			const struct nbr_entry *n = nbr_lookup(0, key);
			uint32_t version;

			if (!n)
				continue;
			memcpy(&version, &n->mac[1], 4);
			if (n->ip != key || n->mac[0] != (uint8_t)key || n->expires != version ||
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
				int r = nbr_delete(0, key);
				CU_ASSERT_EQUAL(r, last[key] ? 0 : -ENOENT);
				last[key] = 0;
			} else {
				fill_mac(mac, key, ++version);
				CU_ASSERT_EQUAL(nbr_update(0, key, mac, version), 0);
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
		const struct nbr_entry *n = nbr_lookup(0, k);

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
