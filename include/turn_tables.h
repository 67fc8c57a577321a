/* TURN allocation tables: what the data plane needs to relay without asking anyone.
 *
 * Written by the control plane only (one thread); read lock-free by worker lcores.
 * - slots[]: one RCU pointer per allocation slot. A published turn_alloc is immutable: a
 *   new permission or channel publishes a new copy in the slot and retires the old one.
 * - by_client: our own open-addressing table, client 5-tuple -> allocation: 64-byte buckets of
 *   three keys and their allocation pointers, so a hit costs one cache line and leads straight
 *   to the allocation (DPDK's cuckoo
 *   hash keeps keys apart from buckets: one more dependent miss per packet, measured in
 *   bench/results/relay.md). Keyed hash (a random seed per table) against chosen collisions.
 *   Deletes leave tombstones; the writer rebuilds the table off-line and swaps it by RCU.
 * - relay[ifi][k]: per relay address (up to EDGE_MAX_ADDRS an interface, so a box with 16
 *   addresses holds a million allocations), a direct-indexed port -> slot + 1 (0 = free).
 * Readers check every expiry inline against the TSC, so nothing relays past its lifetime even
 * before the control plane's timer wheel reaps it. */
#ifndef EDGE_TURN_TABLES_H
#define EDGE_TURN_TABLES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <rte_ether.h>

#include "edge_bytes.h"
#include "edge_limits.h"
#include "edge_rcu.h"

#define TURN_MAX_PERMS 8 /* per allocation; more gets 508 from the control plane */
#define TURN_MAX_CHANS 8
/* Channel numbers: RFC 8656 allows 0x4000-0x4FFF; we also take RFC 5766's 0x5000-0x7FFF,
 * which deployed clients (coturn's among them) still pick, as coturn itself does. */
#define TURN_CHANNEL_MIN 0x4000
#define TURN_CHANNEL_MAX 0x7fff

/* Expiry times are 32-bit "turn ticks" of 2^20 TSC cycles (~0.4 ms at 2.6 GHz), compared with
 * wrap-around arithmetic: entries live hours, the counter wraps after weeks. */
#define TURN_TICK_SHIFT 20

static inline uint32_t turn_ticks(uint64_t tsc)
{
	return (uint32_t)(tsc >> TURN_TICK_SHIFT);
}

static inline bool turn_live(uint32_t expires, uint32_t now)
{
	return (int32_t)(expires - now) > 0;
}

struct turn_key {
	uint32_t client_ip, server_ip;	   /* network byte order */
	uint16_t client_port, server_port; /* network byte order */
};

/* A stream (TCP, TLS) client's allocation: its key names the connection, with server address
 * 0, which no datagram can carry (the data plane only takes packets for its own addresses),
 * and its client interface is TURN_CLIENT_STREAM: what peers send it goes to the control
 * plane, which writes it into the client's stream. */
#define TURN_CLIENT_STREAM 0xff

static inline struct turn_key turn_stream_key(uint32_t conn)
{
	return (struct turn_key){ .client_ip = conn };
}

/* An IPv6 client's (over UDP, issue 18): the key's server address is TURN_KEY6_MARK, which is
 * no IPv4 address of ours (a broadcast), its client address a keyed 32-bit hash of both IPv6
 * addresses (turn_key6), its ports the real ones. The allocation holds both addresses
 * (client_ip6, server_ip6): the fast path checks them, so two clients whose hashes meet are
 * never taken for one another (the second is refused its allocation, 508, and retries). */
#define TURN_KEY6_MARK 0xffffffffu

static inline bool turn_key_is6(const struct turn_key *k)
{
	return k->server_ip == TURN_KEY6_MARK;
}

struct turn_perm {
	uint32_t peer_ip;	      /* network byte order; 0 in an IPv6 peer's (turn_perm6_*) */
	struct rte_ether_addr nh_mac; /* next hop towards the peer; zero = unresolved */
	uint16_t port;		      /* network order; 0 = any (RFC 8656: by IP only);
						 * a guest's: its media target's port */
	uint32_t expires;	      /* turn ticks */
};

struct turn_chan {
	uint32_t peer_ip;   /* network byte order; 0: an IPv6 peer's (turn_chan_is6) */
	uint16_t peer_port; /* network byte order */
	uint16_t number;    /* host order, TURN_CHANNEL_MIN..MAX */
	uint8_t perm;	    /* index of the peer's permission (an IPv6 peer's: its head) */
	uint8_t reserved[3];
	uint32_t expires; /* turn ticks */
};

/* Permission i and channel i side by side, so that with one peer (the WebRTC case) a packet
 * reads a single cache line of the allocation. The two indices are otherwise unrelated.
 *
 * IPv6 peers (issue 18) take two permission places each, from the top down, so that an
 * allocation keeps its size (at most 512 bytes each with the tables, bench/results/relay.md):
 * the k-th one's permission (peer_ip 0) at TURN_PERM6_HEAD(k) and its 16-byte address in the
 * permission place below it. IPv4 peers fill the places from the bottom, so their search is
 * unchanged; n_perms + 2 * n_perms6 <= TURN_MAX_PERMS. A channel to an IPv6 peer has
 * peer_ip 0 and names its permission's head. */
struct turn_pc {
	union {
		struct turn_perm perm;
		uint8_t peer_ip6[16]; /* the address of the IPv6 peer whose head is above */
	};
	struct turn_chan chan;
};

#define TURN_PERM6_HEAD(k) (TURN_MAX_PERMS - 1 - 2 * (k))

struct turn_alloc {
	/* cache line 0: everything a packet needs when there is one peer */
	struct turn_key key;
	uint32_t relay_ip;		  /* the relay interface's real address */
	struct rte_ether_addr client_mac; /* the client's packets came from there: the way back */
	uint16_t relay_port;		  /* network byte order */
	uint32_t expires;		  /* turn ticks */
	uint8_t client_if, relay_if;
	uint8_t n_perms : 4, n_perms6 : 4; /* IPv4 peers' permissions, IPv6 peers' */
	uint8_t n_chans;
	struct turn_pc pc[TURN_MAX_PERMS];
	/* line 4 (with pc[7], the first IPv6 peer's head): the IPv6 relayed address (relay6), if
	 * any, on relay_if with the same relay_port as the IPv4 one (relay_ip, 0 when the
	 * allocation has none), and its ones' complement sum (cksum.h) taken at publication:
	 * only packets to and from IPv6 peers read them */
	uint8_t relay_ip6[16];
	uint32_t relay6_sum;
	/* cold: the writer's */
	uint32_t slot;
	bool release_slot; /* retired by a removal, not by a newer version */
	bool relay6;	   /* has an IPv6 relayed address */
	/* line 5: an IPv6 client's addresses (turn_key_is6(&key)) and their sum, taken at
	 * publication: what every packet of an IPv6 client reads besides line 0, in one line */
	uint8_t client_ip6[16] __rte_cache_aligned, server_ip6[16];
	uint32_t client6_sum;
	/* cold: the writer's */
	struct cds_lfs_node node;
	struct rcu_head rcu;
} __rte_cache_aligned;
/* six lines: the memory per allocation (issue 4's target) counts on it, relay_run's
 * prefetches on the lines named above */
_Static_assert(sizeof(struct turn_alloc) == 6 * RTE_CACHE_LINE_SIZE,
	"struct turn_alloc: six lines");
_Static_assert(offsetof(struct turn_alloc, relay_ip6) / RTE_CACHE_LINE_SIZE == 4 &&
		offsetof(struct turn_alloc, client6_sum) / RTE_CACHE_LINE_SIZE == 5,
	"struct turn_alloc: the IPv6 relayed address in line 4, the client's sum in line 5");

#define TURN_CTAB_WAYS 3
#define TURN_CTAB_TOMB ((struct turn_alloc *)1)

/* a[i] is NULL (empty: ends a probe), TURN_CTAB_TOMB (deleted) or the allocation of key[i]. */
struct turn_cbucket {
	struct turn_alloc *a[TURN_CTAB_WAYS];
	struct turn_key key[TURN_CTAB_WAYS];
	uint32_t reserved;
} __rte_cache_aligned;

struct turn_ctab {
	struct turn_cbucket *b;
	uint32_t mask;	    /* buckets - 1 */
	uint32_t max_probe; /* longest probe a key needed (buckets) */
	uint64_t seed0, seed1;
	/* writer only */
	uint32_t used, tombs;
	struct rcu_head rcu;
};

struct turn_tables {
	struct turn_ctab *by_client; /* RCU pointer: rebuilt tables replace it */
	struct turn_alloc *objs;     /* every allocation object, in DPDK (hugepage) memory */
	uint32_t n_objs;
	/* per lcore (each writes only its own), per allocation object: one cache line with the
	 * bandwidth cap's token buckets and the traffic counters, both ways (0: to the peer) */
	struct turn_lcore_obj {
		struct turn_bucket {
			uint64_t tokens; /* bytes << 32 */
			uint64_t last;	 /* TSC of the last refill */
		} bucket[2];
		uint64_t pkts[2], bytes[2];
	} __rte_cache_aligned *buckets[RTE_MAX_LCORE];
	struct turn_alloc **slots;
	uint32_t capacity;
	struct turn_relay_addr {
		uint32_t ip;	 /* network byte order; set before ports */
		uint32_t *ports; /* 65536 entries, allocated on first use */
	} relay[EDGE_MAX_IFACES][EDGE_MAX_ADDRS];
	struct turn_relay_addr6 { /* the same for IPv6 relayed addresses */
		uint8_t ip[16];
		uint32_t *ports;
	} relay6[EDGE_MAX_IFACES][EDGE_MAX_ADDRS];
	/* control plane only */
	uint32_t *free_slots;
	uint32_t n_free;
	uint32_t *free_objs;
	uint32_t n_free_objs;
	uint32_t n_allocs;
	uint64_t key6_seed[2]; /* turn_key6's, random, set at init */
};

extern struct turn_tables turn_tab;

/* Takes @bytes from token bucket @b (refilled at @rate bytes per TSC tick << 32, @burst
 * deep): true if they may pass. A fresh bucket, or one quiet for a second, starts full. */
static inline bool turn_bucket_take(struct turn_bucket *b, uint64_t rate, uint32_t burst,
	uint32_t bytes, uint64_t tsc, uint64_t tsc_hz)
{
	uint64_t full = (uint64_t)burst << 32, tokens = b->tokens + (tsc - b->last) * rate;

	if (tokens > full || tsc - b->last > tsc_hz || b->last == 0)
		tokens = full; /* full, and no overflow after a long quiet */
	b->last = tsc;
	if (tokens < (uint64_t)bytes << 32) {
		b->tokens = tokens;
		return false;
	}
	b->tokens = tokens - ((uint64_t)bytes << 32);
	return true;
}

int turn_tables_init(uint32_t capacity, int socket_id);
/* Gives lcore @lcore its token buckets (call for every worker before it relays). */
int turn_tables_add_lcore(unsigned int lcore);
void turn_tables_fini(void); /* every reader gone */

/* Writer side (control plane). A zeroed allocation to fill and publish, or NULL when none is
 * free; turn_alloc_discard() gives back one that was not published. */
struct turn_alloc *turn_alloc_new(void);
void turn_alloc_discard(struct turn_alloc *a);
/* Publishes @a (which the tables then own): a new allocation
 * if its key is new, else a replacement of the allocation in that slot. -ENOSPC when full,
 * -EADDRINUSE when its relay port is taken by another allocation. */
int turn_alloc_publish(struct turn_alloc *a);
/* Removes the allocation with @key; its memory and hash position go after a grace period. */
int turn_alloc_remove(const struct turn_key *key);
/* A copy of the allocation with @key for editing (caller frees or publishes it), or NULL. */
struct turn_alloc *turn_alloc_copy(const struct turn_key *key);
size_t turn_tables_memory(void);
/* What the tables hold now, readable from any thread (the control plane writes the counts):
 * *slots the allocations' slots taken, *objs the allocation objects not free (live ones,
 * copies being published, and removed ones waiting out their grace period). A soak reads
 * them back to their baseline. */
void turn_tables_in_use(uint32_t *slots, uint32_t *objs);
/* Recycles what removals left once their grace period ended (slots, hash positions, memory).
 * Called by the control plane's timer and when slots run out. Returns how many. */
unsigned int turn_tables_reclaim(void);
/* Traffic of the allocation with @key, summed over the lcores ([0]: towards the peer). */
int turn_alloc_traffic(const struct turn_key *key, uint64_t pkts[2],
	uint64_t bytes[2]); /* bytes held, for the memory-per-allocation figure */

/* The key of an IPv6 client on UDP: @client and @server its and our IPv6 address, the ports
 * network order (see TURN_KEY6_MARK). Both sides use it: the control plane when it files the
 * allocation, a worker per packet. */
static inline struct turn_key turn_key6(const uint8_t client[16], const uint8_t server[16],
	uint16_t client_port, uint16_t server_port)
{
	uint64_t w[4], h;

	memcpy(w, client, 16);
	memcpy(w + 2, server, 16);
	h = (w[0] ^ turn_tab.key6_seed[0]) * 0x9e3779b97f4a7c15ULL;
	h = (h ^ (h >> 29) ^ w[1]) * 0xff51afd7ed558ccdULL;
	h = (h ^ (h >> 32) ^ w[2] ^ turn_tab.key6_seed[1]) * 0xc4ceb9fe1a85ec53ULL;
	h = (h ^ (h >> 29) ^ w[3]) * 0x9e3779b97f4a7c15ULL;
	return (struct turn_key){ .client_ip = (uint32_t)(h ^ (h >> 32)),
		.server_ip = TURN_KEY6_MARK,
		.client_port = client_port,
		.server_port = server_port };
}

/* Reader side (workers). The key is taken field by field, not as two words read through
 * memory: a worker hashes the key it has just made (relay_run), and a word load across two
 * fresh field stores cannot be forwarded from the store buffer: it waits for the stores to
 * reach the cache, behind every older store (at a million IPv6 clients that cost their
 * first stage 100 cycles a packet). */
static inline uint32_t turn_ctab_hash(const struct turn_ctab *t, const struct turn_key *k)
{
	uint64_t a = k->client_ip | (uint64_t)k->server_ip << 32, h;
	uint32_t c = k->client_port | (uint32_t)k->server_port << 16;

	h = (a ^ t->seed0) * 0x9e3779b97f4a7c15ULL;
	h ^= (c ^ t->seed1) + (h >> 29);
	h *= 0xff51afd7ed558ccdULL;
	return (uint32_t)(h ^ (h >> 32));
}

static inline bool turn_key_eq(const struct turn_key *a, const struct turn_key *b)
{
	uint64_t x, y;
	uint32_t p, q;

	memcpy(&x, a, 8);
	memcpy(&y, b, 8);
	memcpy(&p, (const uint8_t *)a + 8, 4); /* both ports in one compare */
	memcpy(&q, (const uint8_t *)b + 8, 4);
	return x == y && p == q;
}

/* The allocation of @k (hashed to @h), or NULL. */
static inline const struct turn_alloc *turn_ctab_find(const struct turn_ctab *t,
	const struct turn_key *k, uint32_t h)
{
	uint32_t b = h & t->mask;

	for (uint32_t probe = 0; probe <= t->max_probe; probe++, b = (b + 1) & t->mask) {
		const struct turn_cbucket *bk = &t->b[b];

		for (unsigned int i = 0; i < TURN_CTAB_WAYS; i++) {
			const struct turn_alloc *a = __atomic_load_n(&bk->a[i], __ATOMIC_ACQUIRE);

			if (!a)
				return NULL;
			if (a != TURN_CTAB_TOMB && turn_key_eq(&bk->key[i], k))
				return a;
		}
	}
	return NULL;
}

static inline const struct turn_alloc *turn_by_client(const struct turn_key *key)
{
	const struct turn_ctab *t = edge_rcu_read(turn_tab.by_client);

	return turn_ctab_find(t, key, turn_ctab_hash(t, key));
}

/* The port table of relay address @ip on interface @ifi, or NULL. */
static inline const uint32_t *turn_relay_ports(uint8_t ifi, uint32_t ip)
{
	const struct turn_relay_addr *r = turn_tab.relay[ifi];

	for (unsigned int k = 0; k < EDGE_MAX_ADDRS; k++) {
		const uint32_t *t = __atomic_load_n(&r[k].ports, __ATOMIC_ACQUIRE);

		if (!t || r[k].ip == ip)
			return t;
	}
	return NULL;
}

/* The same for IPv6 relay address @ip. */
static inline const uint32_t *turn_relay6_ports(uint8_t ifi, const uint8_t ip[16])
{
	const struct turn_relay_addr6 *r = turn_tab.relay6[ifi];

	for (unsigned int k = 0; k < EDGE_MAX_ADDRS; k++) {
		const uint32_t *t = __atomic_load_n(&r[k].ports, __ATOMIC_ACQUIRE);

		if (!t || edge_ip6_eq(r[k].ip, ip))
			return t;
	}
	return NULL;
}

static inline const struct turn_alloc *turn_by_relay(uint8_t ifi, uint32_t ip, uint16_t port_be)
{
	const uint32_t *t = turn_relay_ports(ifi, ip);
	uint32_t s = t ? __atomic_load_n(&t[rte_be_to_cpu_16(port_be)], __ATOMIC_RELAXED) : 0;

	return s ? edge_rcu_read(turn_tab.slots[s - 1]) : NULL;
}

static inline const struct turn_perm *turn_perm_find(const struct turn_alloc *a, uint32_t peer_ip,
	uint32_t now)
{
	for (unsigned int i = 0; i < a->n_perms; i++)
		if (a->pc[i].perm.peer_ip == peer_ip)
			return turn_live(a->pc[i].perm.expires, now) ? &a->pc[i].perm : NULL;
	return NULL;
}

/* The address of the IPv6 peer whose permission's head is place @head. */
static inline const uint8_t *turn_perm6_addr(const struct turn_alloc *a, unsigned int head)
{
	return a->pc[head - 1].peer_ip6;
}

/* The permission of IPv6 peer @ip (its head's place in *@head), or NULL (none, or expired). */
static inline const struct turn_perm *turn_perm6_find(const struct turn_alloc *a,
	const uint8_t ip[16], uint32_t now, unsigned int *head)
{
	for (unsigned int k = 0; k < a->n_perms6; k++) {
		unsigned int h = TURN_PERM6_HEAD(k);

		if (edge_ip6_eq(turn_perm6_addr(a, h), ip)) {
			*head = h;
			return turn_live(a->pc[h].perm.expires, now) ? &a->pc[h].perm : NULL;
		}
	}
	return NULL;
}

static inline bool turn_chan_is6(const struct turn_chan *ch)
{
	return ch->peer_ip == 0;
}

static inline const struct turn_chan *turn_chan_by_number(const struct turn_alloc *a,
	uint16_t number, uint32_t now)
{
	for (unsigned int i = 0; i < a->n_chans; i++)
		if (a->pc[i].chan.number == number)
			return turn_live(a->pc[i].chan.expires, now) ? &a->pc[i].chan : NULL;
	return NULL;
}

static inline const struct turn_chan *turn_chan_by_peer(const struct turn_alloc *a, uint32_t ip,
	uint16_t port, uint32_t now)
{
	for (unsigned int i = 0; i < a->n_chans; i++)
		if (a->pc[i].chan.peer_ip == ip && a->pc[i].chan.peer_port == port)
			return turn_live(a->pc[i].chan.expires, now) ? &a->pc[i].chan : NULL;
	return NULL;
}

/* The channel to IPv6 peer (permission head @head, port @port), or NULL. */
static inline const struct turn_chan *turn_chan_by_peer6(const struct turn_alloc *a,
	unsigned int head, uint16_t port, uint32_t now)
{
	for (unsigned int i = 0; i < a->n_chans; i++)
		if (a->pc[i].chan.peer_ip == 0 && a->pc[i].chan.perm == head &&
			a->pc[i].chan.peer_port == port)
			return turn_live(a->pc[i].chan.expires, now) ? &a->pc[i].chan : NULL;
	return NULL;
}

#endif
