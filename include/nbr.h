/* The neighbour (ARP) table: IPv4 next hop -> MAC, per interface.
 *
 * Written by the control plane only (one thread, registered with RCU and online while it
 * writes); read lock-free by worker lcores. A published entry is immutable: an update
 * publishes a new entry in its place and frees the old one after a grace period. Readers
 * check expiry inline (a stale entry reads as a miss) before the reaper gets to it.
 *
 * The control plane also holds, privately, a bounded queue of packets waiting for a
 * resolution; it owns that queue alone, so it takes no RCU at all. */
#ifndef EDGE_NBR_H
#define EDGE_NBR_H

#include <stdbool.h>
#include <stdint.h>

#include "edge_rcu.h"

struct nbr_entry {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint32_t ip;		/* network byte order */
	uint8_t ifi;
	uint8_t mac[6];
	uint64_t expires;	/* in the caller's clock (TSC ticks in edged) */
};

int nbr_init(unsigned int buckets_log2);
void nbr_fini(void);	/* call with every reader gone and the caller offline */

/* Reader: a registered, online RCU thread. NULL when absent. */
const struct nbr_entry *nbr_lookup(uint8_t ifi, uint32_t ip);

static inline bool nbr_valid(const struct nbr_entry *n, uint64_t now)
{
	return n && n->expires > now;
}

/* Writer (control plane). 0 or -ENOMEM. */
int nbr_update(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires);
int nbr_delete(uint8_t ifi, uint32_t ip);
/* Deletes every entry expired at @now, or every entry of @ifi when ifi >= 0 and now == 0. */
unsigned int nbr_reap(uint64_t now, int ifi);
unsigned int nbr_count(void);
/* Calls @fn for each entry (writer side, for listings). */
void nbr_foreach(void (*fn)(const struct nbr_entry *n, void *arg), void *arg);

/* Packets waiting for a resolution (control plane only). */
#define NBR_PENDING_SLOTS 64	/* next hops being resolved at once */
#define NBR_PENDING_PKTS 8	/* packets held per next hop */

/* Queues @pkt for (ifi, ip). Returns 1 if this is a new resolution (send an ARP request
 * now), 0 if queued behind one in progress, -ENOSPC when full (the caller drops it). */
int nbr_pending_add(uint8_t ifi, uint32_t ip, void *pkt, uint64_t now);
/* Removes and returns up to @max queued packets for (ifi, ip), oldest first. */
unsigned int nbr_pending_take(uint8_t ifi, uint32_t ip, void **pkts, unsigned int max);
/* For resolutions started before @deadline: calls @retry(ifi, ip) for those with tries left
 * (and counts a try), and @drop(pkt) for the packets of those out of tries. */
void nbr_pending_tick(uint64_t deadline, unsigned int max_tries, uint64_t now,
	void (*retry)(uint8_t ifi, uint32_t ip, void *arg), void (*drop)(void *pkt, void *arg),
	void *arg);

#endif
