/* Neighbour table on a liburcu lock-free hash table (QSBR), plus the control plane's
 * private queue of packets waiting for ARP or neighbour discovery. See include/nbr.h for who may call what. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "nbr.h"

static struct cds_lfht *nbr_ht;
static unsigned int nbr_n; /* entries in nbr_ht: the writer's own count, for the bound */

/* What an entry or a pending resolution is keyed by: the interface and one address of
 * either family (an IPv4 one in the first 4 bytes, the rest zero). */
struct nbr_key {
	uint8_t family;
	uint8_t ifi;
	uint8_t a[16];
};

static inline struct nbr_key key4(uint8_t ifi, uint32_t ip)
{
	struct nbr_key k = { .family = AF_INET, .ifi = ifi };

	memcpy(k.a, &ip, 4);
	return k;
}

static inline struct nbr_key key6(uint8_t ifi, const uint8_t ip[16])
{
	struct nbr_key k = { .family = AF_INET6, .ifi = ifi };

	memcpy(k.a, ip, 16);
	return k;
}

static inline bool key_eq(const struct nbr_key *a, const struct nbr_key *b)
{
	return a->family == b->family && a->ifi == b->ifi && !memcmp(a->a, b->a, 16);
}

static inline bool entry_is(const struct nbr_entry *n, const struct nbr_key *k)
{
	if (n->family != k->family || n->ifi != k->ifi)
		return false;
	return k->family == AF_INET ? !memcmp(&n->ip, k->a, 4) : !memcmp(n->ip6, k->a, 16);
}

/* murmur3's 64-bit finaliser: cheap, and mixes the interface byte into the low bits */
static inline unsigned long mix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdULL;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ULL;
	k ^= k >> 33;
	return (unsigned long)k;
}

static inline unsigned long nbr_hash(const struct nbr_key *k)
{
	uint32_t ip;
	uint64_t hi, lo;

	if (k->family == AF_INET) {
		memcpy(&ip, k->a, 4);
		return mix64((uint64_t)k->ifi << 32 | ip);
	}
	memcpy(&hi, k->a, 8);
	memcpy(&lo, k->a + 8, 8);
	return mix64(hi ^ mix64(lo ^ ((uint64_t)k->ifi << 56 | 6)));
}

static int nbr_match(struct cds_lfht_node *node, const void *key)
{
	return entry_is(caa_container_of(node, struct nbr_entry, node), key);
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

static const struct nbr_entry *lookup(const struct nbr_key *key)
{
	struct cds_lfht_iter it;
	struct cds_lfht_node *node;

	cds_lfht_lookup(nbr_ht, nbr_hash(key), nbr_match, key, &it);
	node = cds_lfht_iter_get_node(&it);
	return node ? caa_container_of(node, struct nbr_entry, node) : NULL;
}

const struct nbr_entry *nbr_lookup(uint8_t ifi, uint32_t ip)
{
	struct nbr_key k = key4(ifi, ip);

	return lookup(&k);
}

const struct nbr_entry *nbr6_lookup(uint8_t ifi, const uint8_t ip[16])
{
	struct nbr_key k = key6(ifi, ip);

	return lookup(&k);
}

/* @limit: how many entries a new neighbour may find in the table. */
static int nbr_put(const struct nbr_key *key, const uint8_t mac[6], uint64_t expires,
	unsigned int limit)
{
	struct nbr_entry *n;
	struct cds_lfht_node *old;

	if (nbr_n >= limit && !lookup(key))
		return -ENOSPC;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->family = key->family;
	if (key->family == AF_INET)
		memcpy(&n->ip, key->a, 4);
	else
		memcpy(n->ip6, key->a, 16);
	n->ifi = key->ifi;
	memcpy(n->mac, mac, 6);
	n->expires = expires;
	cds_lfht_node_init(&n->node);
	old = cds_lfht_add_replace(nbr_ht, nbr_hash(key), nbr_match, key, &n->node);
	if (old)
		edge_rcu_retire_head(&caa_container_of(old, struct nbr_entry, node)->rcu,
			nbr_free_rcu);
	else
		nbr_n++;
	return 0;
}

int nbr_update(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires)
{
	struct nbr_key k = key4(ifi, ip);

	return nbr_put(&k, mac, expires, NBR_MAX_ENTRIES);
}

int nbr_learn(uint8_t ifi, uint32_t ip, const uint8_t mac[6], uint64_t expires, bool solicited)
{
	struct nbr_key k = key4(ifi, ip);

	return nbr_put(&k, mac, expires, solicited ? NBR_MAX_ENTRIES : NBR_UNSOLICITED_MAX);
}

int nbr6_update(uint8_t ifi, const uint8_t ip[16], const uint8_t mac[6], uint64_t expires)
{
	struct nbr_key k = key6(ifi, ip);

	return nbr_put(&k, mac, expires, NBR_MAX_ENTRIES);
}

int nbr6_learn(uint8_t ifi, const uint8_t ip[16], const uint8_t mac[6], uint64_t expires,
	bool solicited)
{
	struct nbr_key k = key6(ifi, ip);

	return nbr_put(&k, mac, expires, solicited ? NBR_MAX_ENTRIES : NBR_UNSOLICITED_MAX);
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

int nbr6_delete(uint8_t ifi, const uint8_t ip[16])
{
	struct nbr_entry *n = (struct nbr_entry *)nbr6_lookup(ifi, ip);

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

unsigned int nbr_flush(uint8_t ifi, int family)
{
	struct cds_lfht_iter it;
	struct nbr_entry *n;
	unsigned int gone = 0;

	cds_lfht_for_each_entry (nbr_ht, &it, n, node)
		if (n->ifi == ifi && n->family == family && nbr_remove(n) == 0)
			gone++;
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
	struct nbr_key key;
	unsigned int tries;
	uint64_t started;
	unsigned int n;
	void *pkts[NBR_PENDING_PKTS];
} pending[NBR_PENDING_SLOTS];

static struct nbr_pending *pending_find(const struct nbr_key *k)
{
	for (int i = 0; i < NBR_PENDING_SLOTS; i++)
		if (pending[i].used && key_eq(&pending[i].key, k))
			return &pending[i];
	return NULL;
}

static int pending_add(const struct nbr_key *k, void *pkt, uint64_t now)
{
	struct nbr_pending *p = pending_find(k);

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
			.key = *k,
			.tries = 1,
			.started = now,
			.n = 1,
			.pkts = { pkt } };
		return 1;
	}
	return -ENOSPC;
}

static unsigned int pending_take(const struct nbr_key *k, void **pkts, unsigned int max)
{
	struct nbr_pending *p = pending_find(k);
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

bool nbr_pending_has(uint8_t ifi, uint32_t ip)
{
	struct nbr_key k = key4(ifi, ip);

	return pending_find(&k) != NULL;
}

int nbr_pending_add(uint8_t ifi, uint32_t ip, void *pkt, uint64_t now)
{
	struct nbr_key k = key4(ifi, ip);

	return pending_add(&k, pkt, now);
}

unsigned int nbr_pending_take(uint8_t ifi, uint32_t ip, void **pkts, unsigned int max)
{
	struct nbr_key k = key4(ifi, ip);

	return pending_take(&k, pkts, max);
}

bool nbr6_pending_has(uint8_t ifi, const uint8_t ip[16])
{
	struct nbr_key k = key6(ifi, ip);

	return pending_find(&k) != NULL;
}

int nbr6_pending_add(uint8_t ifi, const uint8_t ip[16], void *pkt, uint64_t now)
{
	struct nbr_key k = key6(ifi, ip);

	return pending_add(&k, pkt, now);
}

unsigned int nbr6_pending_take(uint8_t ifi, const uint8_t ip[16], void **pkts, unsigned int max)
{
	struct nbr_key k = key6(ifi, ip);

	return pending_take(&k, pkts, max);
}

void nbr_pending_tick(uint64_t deadline, unsigned int max_tries, uint64_t now,
	void (*retry)(uint8_t ifi, int family, const void *addr, void *arg),
	void (*drop)(void *pkt, void *arg), void *arg)
{
	for (int i = 0; i < NBR_PENDING_SLOTS; i++) {
		struct nbr_pending *p = &pending[i];

		if (!p->used || p->started > deadline)
			continue;
		if (p->tries < max_tries) {
			p->tries++;
			p->started = now;
			retry(p->key.ifi, p->key.family, p->key.a, arg);
			continue;
		}
		for (unsigned int k = 0; k < p->n; k++)
			drop(p->pkts[k], arg);
		p->used = false;
	}
}
