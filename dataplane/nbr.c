/* Neighbour table on a liburcu lock-free hash table (QSBR), plus the control plane's
 * private queue of packets waiting for ARP. See include/nbr.h for who may call what. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nbr.h"

static struct cds_lfht *nbr_ht;
static unsigned int nbr_n; /* entries in nbr_ht: the writer's own count, for the bound */

static inline uint64_t nbr_key(uint8_t ifi, uint32_t ip)
{
	return (uint64_t)ifi << 32 | ip;
}

/* murmur3's 64-bit finaliser: cheap, and mixes the interface byte into the low bits */
static inline unsigned long nbr_hash(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (unsigned long)k;
}

static int nbr_match(struct cds_lfht_node *node, const void *key)
{
	const struct nbr_entry *n = caa_container_of(node, struct nbr_entry, node);

	return nbr_key(n->ifi, n->ip) == *(const uint64_t *)key;
}

int nbr_init(unsigned int buckets_log2)
{
	unsigned long size = 1UL << buckets_log2;

	/* fixed size: no resize thread, so lookups never race a table swap */
	nbr_ht = cds_lfht_new(size, size, size, 0, NULL);
	return nbr_ht ? 0 : -ENOMEM;
}

static void nbr_free_rcu(struct rcu_head *head)
{
	free(caa_container_of(head, struct nbr_entry, rcu));
}

void nbr_fini(void)
{
	struct cds_lfht_iter it;
	struct nbr_entry *n;

	if (!nbr_ht)
		return;
	cds_lfht_for_each_entry (nbr_ht, &it, n, node) {
		cds_lfht_del(nbr_ht, &n->node);
		free(n); /* no reader is left: see the header */
	}
	cds_lfht_destroy(nbr_ht, NULL);
	nbr_ht = NULL;
	nbr_n = 0;
}

const struct nbr_entry *nbr_lookup(uint8_t ifi, uint32_t ip)
{
	uint64_t key = nbr_key(ifi, ip);
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	cds_lfht_lookup(nbr_ht, nbr_hash(key), nbr_match, &key, &it);
	node = cds_lfht_iter_get_node(&it);
	return node ? caa_container_of(node, struct nbr_entry, node) : NULL;
}

/* @limit: how many entries a new neighbour may find in the table. */
static int nbr_put(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires,
	unsigned int limit)
{
	uint64_t key = nbr_key(ifi, ip);
	struct nbr_entry *n;
	struct cds_lfht_node *old;

	if (nbr_n >= limit && !nbr_lookup(ifi, ip))
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->ip = ip;
	n->ifi = ifi;
	memcpy(n->mac, mac, 6);
	n->expires = expires;
	cds_lfht_node_init(&n->node);
	old = cds_lfht_add_replace(nbr_ht, nbr_hash(key), nbr_match, &key, &n->node);
	if (old)
		edge_rcu_retire_head(&caa_container_of(old, struct nbr_entry, node)->rcu,
			nbr_free_rcu);
	else
		nbr_n++;
	return 0;
}

int nbr_update(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires)
{
	return nbr_put(ifi, ip, mac, expires, NBR_MAX_ENTRIES);
}

int nbr_learn(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires, bool solicited)
{
	return nbr_put(ifi, ip, mac, expires, solicited ? NBR_MAX_ENTRIES : NBR_UNSOLICITED_MAX);
}

static int nbr_remove(struct nbr_entry *n)
{
	if (cds_lfht_del(nbr_ht, &n->node) != 0)
		return -ENOENT;
	nbr_n--;
	edge_rcu_retire_head(&n->rcu, nbr_free_rcu);
	return 0;
}

int nbr_delete(uint8_t ifi, uint32_t ip)
{
	struct nbr_entry *n = (struct nbr_entry *)nbr_lookup(ifi, ip);

	return n ? nbr_remove(n) : -ENOENT;
}

unsigned int nbr_reap(uint64_t now, int ifi)
{
	struct cds_lfht_iter it;
	struct nbr_entry *n;
	unsigned int gone = 0;

	cds_lfht_for_each_entry (nbr_ht, &it, n, node) {
		bool dead = ifi >= 0 && now == 0 ? n->ifi == ifi : n->expires <= now;

		if (dead && nbr_remove(n) == 0)
			gone++;
	}
	return gone;
}

unsigned int nbr_count(void)
{
	long split_before, split_after;
	unsigned long count;

	cds_lfht_count_nodes(nbr_ht, &split_before, &count, &split_after);
	return (unsigned int)count;
}

void nbr_foreach(void (*fn)(const struct nbr_entry *n, void *arg), void *arg)
{
	struct cds_lfht_iter it;
	struct nbr_entry *n;

	cds_lfht_for_each_entry (nbr_ht, &it, n, node)
		fn(n, arg);
}

/* ---- packets waiting for resolution: the control plane's own, no sharing ---- */

static struct nbr_pending {
	bool used;
	uint8_t ifi;
	uint32_t ip;
	unsigned int tries;
	uint64_t started;
	unsigned int n;
	void *pkts[NBR_PENDING_PKTS];
} pending[NBR_PENDING_SLOTS];

static struct nbr_pending *pending_find(uint8_t ifi, uint32_t ip)
{
	for (int i = 0; i < NBR_PENDING_SLOTS; i++)
		if (pending[i].used && pending[i].ifi == ifi && pending[i].ip == ip)
			return &pending[i];
	return NULL;
}

bool nbr_pending_has(uint8_t ifi, uint32_t ip)
{
	return pending_find(ifi, ip) != NULL;
}

int nbr_pending_add(uint8_t ifi, uint32_t ip, void *pkt, uint64_t now)
{
	struct nbr_pending *p = pending_find(ifi, ip);

	if (p) {
		if (p->n == NBR_PENDING_PKTS)
			return -ENOSPC;
		p->pkts[p->n++] = pkt;
		return 0;
	}
	for (int i = 0; i < NBR_PENDING_SLOTS; i++) {
		if (pending[i].used)
			continue;
		pending[i] = (struct nbr_pending){ .used = true,
			.ifi = ifi,
			.ip = ip,
			.tries = 1,
			.started = now,
			.n = 1,
			.pkts = { pkt } };
		return 1;
	}
	return -ENOSPC;
}

unsigned int nbr_pending_take(uint8_t ifi, uint32_t ip, void **pkts, unsigned int max)
{
	struct nbr_pending *p = pending_find(ifi, ip);
	unsigned int n;

	if (!p)
		return 0;
	n = p->n < max ? p->n : max;
	memcpy(pkts, p->pkts, n * sizeof(void *));
	memmove(p->pkts, p->pkts + n, (p->n - n) * sizeof(void *));
	p->n -= n;
	if (p->n == 0)
		p->used = false;
	return n;
}

void nbr_pending_tick(uint64_t deadline, unsigned int max_tries, uint64_t now,
	void (*retry)(uint8_t ifi, uint32_t ip, void *arg), void (*drop)(void *pkt, void *arg),
	void *arg)
{
	for (int i = 0; i < NBR_PENDING_SLOTS; i++) {
		struct nbr_pending *p = &pending[i];

		if (!p->used || p->started > deadline)
			continue;
		if (p->tries < max_tries) {
			p->tries++;
			p->started = now;
			retry(p->ifi, p->ip, arg);
			continue;
		}
		for (unsigned int k = 0; k < p->n; k++)
			drop(p->pkts[k], arg);
		p->used = false;
	}
}
