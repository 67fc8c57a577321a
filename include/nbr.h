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

#include <arpa/inet.h>
#include <stdbool.h>
#include <stdint.h>

#include "edge_rcu.h"

struct nbr_entry {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint32_t ip; /* network byte order */
	uint8_t ifi;
	uint8_t mac[6];
	uint64_t expires; /* in the caller's clock (TSC ticks in edged) */
};

int nbr_init(unsigned int buckets_log2);
void nbr_fini(void); /* call with every reader gone and the caller offline */

/* Reader: a registered, online RCU thread. NULL when absent. */
const struct nbr_entry *nbr_lookup(uint8_t ifi, uint32_t ip);

static inline bool nbr_valid(const struct nbr_entry *n, uint64_t now)
{
	return n && n->expires > now;
}

/* The table is bounded: a stranger's ARP cannot grow it without limit. Senders nobody asked
 * for (ARP requests, unsolicited replies) are learnt only up to NBR_UNSOLICITED_MAX, so the
 * rest stays for the resolutions the control plane starts itself (the TURN server's and
 * the relay's next hops): those are never crowded out, and nothing is evicted for them. */
#define NBR_MAX_ENTRIES 4096

/* Whether @ip may be a neighbour on a link whose addresses and masks (network byte order)
 * are @addr/@mask: inside one of its subnets, and neither ours nor the subnet's network or
 * broadcast address. ARP from anyone else is not learnt. */
static inline bool nbr_on_link(const uint32_t *addr, const uint32_t *mask, unsigned int n,
	uint32_t ip)
{
	bool on = false;

	for (unsigned int i = 0; i < n; i++) {
		if (ip == addr[i])
			return false;
		if ((ip & mask[i]) != (addr[i] & mask[i]))
			continue;
		/* /31 (RFC 3021) has no network or broadcast address; /32 has no neighbour */
		if (mask[i] == 0xffffffff ||
			(mask[i] != htonl(0xfffffffe) &&
				((ip & ~mask[i]) == 0 || (ip | mask[i]) == 0xffffffff)))
			continue;
		on = true;
	}
	return on;
}

/* Writer (control plane). 0, -ENOMEM, or -ENOSPC when @ip is new and the table holds
 * NBR_MAX_ENTRIES. A known neighbour is always updated. */
int nbr_update(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires);
/* nbr_update for what ARP taught: @solicited when the control plane is resolving @ip (see
 * nbr_pending_add); otherwise a new neighbour is refused (-ENOSPC) past NBR_UNSOLICITED_MAX. */
int nbr_learn(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires, bool solicited);
int nbr_delete(uint8_t ifi, uint32_t ip);
/* Deletes every entry expired at @now, or every entry of @ifi when ifi >= 0 and now == 0. */
unsigned int nbr_reap(uint64_t now, int ifi);
unsigned int nbr_count(void);
/* Calls @fn for each entry (writer side, for listings). */
void nbr_foreach(void (*fn)(const struct nbr_entry *n, void *arg), void *arg);

/* Packets waiting for a resolution (control plane only). */
#define NBR_PENDING_SLOTS 64 /* next hops being resolved at once */
#define NBR_PENDING_PKTS 8   /* packets held per next hop */

/* Queues @pkt for (ifi, ip). Returns 1 if this is a new resolution (send an ARP request
 * now), 0 if queued behind one in progress, -ENOSPC when full (the caller drops it). */
int nbr_pending_add(uint8_t ifi, uint32_t ip, void *pkt, uint64_t now);
#define NBR_UNSOLICITED_MAX (NBR_MAX_ENTRIES - NBR_PENDING_SLOTS)

/* Whether a resolution of (ifi, ip) is in progress. */
bool nbr_pending_has(uint8_t ifi, uint32_t ip);
/* Removes and returns up to @max queued packets for (ifi, ip), oldest first. */
unsigned int nbr_pending_take(uint8_t ifi, uint32_t ip, void **pkts, unsigned int max);
/* For resolutions started before @deadline: calls @retry(ifi, ip) for those with tries left
 * (and counts a try), and @drop(pkt) for the packets of those out of tries. */
void nbr_pending_tick(uint64_t deadline, unsigned int max_tries, uint64_t now,
	void (*retry)(uint8_t ifi, uint32_t ip, void *arg), void (*drop)(void *pkt, void *arg),
	void *arg);

#endif
