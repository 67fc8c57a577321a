/* The neighbour table: IPv4 (ARP) and IPv6 (neighbour discovery) next hop -> MAC, per
 * interface. One table for both families: one bound, one expiry, one reaper.
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
#include <string.h>

#include "edge_rcu.h"

struct nbr_entry {
	struct cds_lfht_node node;
	struct rcu_head rcu;
	uint32_t ip;	 /* IPv4, network byte order; 0 in an IPv6 entry */
	uint8_t ip6[16]; /* IPv6 (family AF_INET6); all zero in an IPv4 entry */
	uint8_t family;	 /* AF_INET or AF_INET6 */
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

/* IPv6: a registered, online RCU thread. NULL when absent. */
const struct nbr_entry *nbr6_lookup(uint8_t ifi, const uint8_t ip[16]);

/* The table is bounded: a stranger's ARP cannot grow it without limit. Senders nobody asked
 * for (ARP requests, unsolicited replies) are learnt only up to NBR_UNSOLICITED_MAX, so the
 * rest stays for the resolutions the control plane starts itself (the TURN server's and
 * the relay's next hops): those are never crowded out, and nothing is evicted for them.
 * IPv4 and IPv6 entries count against the same bounds (and share the pending slots), so
 * that reserve holds for both families together. */
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

/* Whether @ip may be an IPv6 neighbour on a link whose addresses and prefixes are
 * @addr/@prefix: link-local (fe80::/10), or inside one of its prefixes, and not one of its
 * addresses (nor @ll, its link-local, when not NULL); never unspecified or multicast. */
static inline bool nbr6_on_link(const uint8_t (*addr)[16], const uint8_t *prefix, unsigned int n,
	const uint8_t *ll, const uint8_t ip[16])
{
	static const uint8_t zero[16];
	bool on = ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;

	if (ip[0] == 0xff || !memcmp(ip, zero, 16) || (ll && !memcmp(ip, ll, 16)))
		return false;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int bytes = prefix[i] / 8, bits = prefix[i] % 8;

		if (!memcmp(ip, addr[i], 16))
			return false;
		if (memcmp(ip, addr[i], bytes) == 0 &&
			(!bits || ((ip[bytes] ^ addr[i][bytes]) & (0xff00 >> bits)) == 0))
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
/* The same for IPv6 neighbours (what neighbour discovery taught, RFC 4861 7.2.5). */
int nbr6_update(uint8_t ifi, const uint8_t ip[16], const uint8_t mac[6], uint64_t expires);
int nbr6_learn(uint8_t ifi, const uint8_t ip[16], const uint8_t mac[6], uint64_t expires,
	bool solicited);
int nbr6_delete(uint8_t ifi, const uint8_t ip[16]);
/* Deletes every entry (both families) expired at @now, or every entry of @ifi when ifi >= 0
 * and now == 0. */
unsigned int nbr_reap(uint64_t now, int ifi);
/* Deletes every entry of @ifi of one @family (AF_INET or AF_INET6): the link lost it. */
unsigned int nbr_flush(uint8_t ifi, int family);
unsigned int nbr_count(void); /* both families */
/* Calls @fn for each entry, both families (writer side, for listings). */
void nbr_foreach(void (*fn)(const struct nbr_entry *n, void *arg), void *arg);

/* Packets waiting for a resolution (control plane only), IPv4 and IPv6 alike: the slots and
 * the per-next-hop bound are shared. */
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
/* The same for an IPv6 next hop (1 from nbr6_pending_add: send a neighbour solicitation). */
int nbr6_pending_add(uint8_t ifi, const uint8_t ip[16], void *pkt, uint64_t now);
bool nbr6_pending_has(uint8_t ifi, const uint8_t ip[16]);
unsigned int nbr6_pending_take(uint8_t ifi, const uint8_t ip[16], void **pkts, unsigned int max);
/* For resolutions of either family started before @deadline: calls @retry for those with
 * tries left (and counts a try) with the next hop's @family and address (@addr: a uint32_t
 * in network byte order for AF_INET, 16 bytes for AF_INET6; unaligned: copy it out), and
 * @drop(pkt) for the packets of those out of tries. */
void nbr_pending_tick(uint64_t deadline, unsigned int max_tries, uint64_t now,
	void (*retry)(uint8_t ifi, int family, const void *addr, void *arg),
	void (*drop)(void *pkt, void *arg), void *arg);

#endif
