/* TURN allocation tables: what the data plane needs to relay without asking anyone.
 *
 * Written by the control plane only (one thread); read lock-free by worker lcores.
 * - slots[]: one RCU pointer per allocation slot. A published turn_alloc is immutable: a
 *   new permission or channel publishes a new copy in the slot and retires the old one.
 * - by_client: DPDK cuckoo hash (lock-free readers, RW_CONCURRENCY_LF), client 5-tuple ->
 *   slot. Key positions freed only after a grace period.
 * - relay[ifi][k]: per relay address (up to EDGE_MAX_ADDRS an interface, so a box with 16
 *   addresses holds a million allocations), a direct-indexed port -> slot + 1 (0 = free).
 * Readers check every expiry inline against the TSC, so nothing relays past its lifetime even
 * before the control plane's timer wheel reaps it. */
#ifndef EDGE_TURN_TABLES_H
#define EDGE_TURN_TABLES_H

#include <stdbool.h>
#include <stdint.h>

#include <rte_ether.h>
#include <rte_hash.h>
#include <rte_mempool.h>

#include "edge_limits.h"
#include "edge_rcu.h"

#define TURN_MAX_PERMS 8	/* per allocation; more gets 508 from the control plane */
#define TURN_MAX_CHANS 8

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
	uint32_t client_ip, server_ip;		/* network byte order */
	uint16_t client_port, server_port;	/* network byte order */
};

struct turn_perm {
	uint32_t peer_ip;			/* network byte order */
	struct rte_ether_addr nh_mac;		/* next hop towards the peer; zero = unresolved */
	uint16_t reserved;
	uint32_t expires;			/* turn ticks */
};

struct turn_chan {
	uint32_t peer_ip;			/* network byte order */
	uint16_t peer_port;			/* network byte order */
	uint16_t number;			/* host order, 0x4000..0x4FFF */
	uint8_t perm;				/* index of the peer's permission */
	uint8_t reserved[3];
	uint32_t expires;			/* turn ticks */
};

/* Permission i and channel i side by side, so that with one peer (the WebRTC case) a packet
 * reads a single cache line of the allocation. The two indices are otherwise unrelated. */
struct turn_pc {
	struct turn_perm perm;
	struct turn_chan chan;
};

struct turn_alloc {
	/* cache line 0: everything a packet needs when there is one peer */
	struct turn_key key;
	uint32_t relay_ip;			/* the relay interface's real address */
	struct rte_ether_addr client_mac;	/* the client's packets came from there: the way back */
	uint16_t relay_port;			/* network byte order */
	uint32_t expires;			/* turn ticks */
	uint8_t client_if, relay_if;
	uint8_t n_perms, n_chans;
	struct turn_pc pc[TURN_MAX_PERMS];
	/* cold: the writer's */
	uint32_t slot;
	struct rcu_head rcu;
} __rte_cache_aligned;

struct turn_tables {
	struct rte_hash *by_client;
	struct rte_mempool *pool;		/* turn_alloc objects, hugepage-backed when possible */
	struct turn_alloc **slots;
	uint32_t capacity;
	struct turn_relay_addr {
		uint32_t ip;			/* network byte order; set before ports */
		uint32_t *ports;		/* 65536 entries, allocated on first use */
	} relay[EDGE_MAX_IFACES][EDGE_MAX_ADDRS];
	/* control plane only */
	uint32_t *free_slots;
	uint32_t n_free;
	uint32_t n_allocs;
};

extern struct turn_tables turn_tab;

int turn_tables_init(uint32_t capacity, int socket_id);
void turn_tables_fini(void);	/* every reader gone */

/* Writer side (control plane). A zeroed allocation to fill and publish, or NULL when the pool
 * is empty; turn_alloc_discard() gives back one that was not published. */
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
/* Recycles what removals left once their grace period ended (slots, hash positions, memory).
 * Called by the control plane's timer and when slots run out. Returns how many. */
unsigned int turn_tables_reclaim(void);	/* bytes held, for the memory-per-allocation figure */

/* Reader side (workers). */
static inline const struct turn_alloc *turn_by_client(const struct turn_key *key)
{
	void *data;

	if (rte_hash_lookup_data(turn_tab.by_client, key, &data) < 0)
		return NULL;
	return rcu_dereference(turn_tab.slots[(uint32_t)(uintptr_t)data]);
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

static inline const struct turn_alloc *turn_by_relay(uint8_t ifi, uint32_t ip, uint16_t port_be)
{
	const uint32_t *t = turn_relay_ports(ifi, ip);
	uint32_t s = t ? __atomic_load_n(&t[rte_be_to_cpu_16(port_be)], __ATOMIC_RELAXED) : 0;

	return s ? rcu_dereference(turn_tab.slots[s - 1]) : NULL;
}

static inline const struct turn_perm *turn_perm_find(const struct turn_alloc *a, uint32_t peer_ip,
	uint32_t now)
{
	for (unsigned int i = 0; i < a->n_perms; i++)
		if (a->pc[i].perm.peer_ip == peer_ip)
			return turn_live(a->pc[i].perm.expires, now) ? &a->pc[i].perm : NULL;
	return NULL;
}

static inline const struct turn_chan *turn_chan_by_number(const struct turn_alloc *a, uint16_t number,
	uint32_t now)
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

#endif
