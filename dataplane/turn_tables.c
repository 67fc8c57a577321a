/* Writer side of the TURN tables (include/turn_tables.h): slots, the client hash and the
 * relay-port arrays, all changed by the control plane alone and retired through RCU. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_random.h>

#include "cksum.h"
#include "turn_tables.h"

struct turn_tables turn_tab;
static struct cds_lfs_stack reclaimed; /* see turn_alloc_remove() */
static bool reclaimed_init;

/* ---- the client table (see include/turn_tables.h) ---- */

static struct turn_ctab *ctab_create(uint32_t buckets)
{
	struct turn_ctab *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->b = rte_zmalloc("turn_ctab", (size_t)buckets * sizeof(*t->b), RTE_CACHE_LINE_SIZE);
	if (!t->b) {
		free(t);
		return NULL;
	}
	t->mask = buckets - 1;
	t->seed0 = rte_rand();
	t->seed1 = rte_rand();
	return t;
}

static void ctab_free(struct turn_ctab *t)
{
	if (t) {
		rte_free(t->b);
		free(t);
	}
}

static void ctab_free_rcu(struct rcu_head *h)
{
	ctab_free(caa_container_of(h, struct turn_ctab, rcu));
}

/* Writer: where the allocation pointer of @k lies, or NULL. */
static struct turn_alloc **ctab_entry(struct turn_ctab *t, const struct turn_key *k)
{
	uint32_t b = turn_ctab_hash(t, k) & t->mask;

	for (uint32_t probe = 0; probe <= t->max_probe; probe++, b = (b + 1) & t->mask)
		for (unsigned int i = 0; i < TURN_CTAB_WAYS; i++) {
			struct turn_cbucket *bk = &t->b[b];

			if (!bk->a[i])
				return NULL;
			if (bk->a[i] != TURN_CTAB_TOMB && turn_key_eq(&bk->key[i], k))
				return &bk->a[i];
		}
	return NULL;
}

/* Writer: adds @k (not present) in the first empty way of its probe sequence. The key is
 * written before the pointer is released, and a way's key never changes once it is used, so
 * a reader that sees the pointer sees the whole key. */
static int ctab_insert(struct turn_ctab *t, const struct turn_key *k, struct turn_alloc *a)
{
	uint32_t b = turn_ctab_hash(t, k) & t->mask;

	for (uint32_t probe = 0; probe <= t->mask; probe++, b = (b + 1) & t->mask)
		for (unsigned int i = 0; i < TURN_CTAB_WAYS; i++) {
			struct turn_cbucket *bk = &t->b[b];

			if (bk->a[i])
				continue;
			bk->key[i] = *k;
			if (probe > t->max_probe)
				__atomic_store_n(&t->max_probe, probe, __ATOMIC_RELEASE);
			__atomic_store_n(&bk->a[i], a, __ATOMIC_RELEASE);
			t->used++;
			return 0;
		}
	return -ENOSPC;
}

/* Writer: a clean copy of @old (no tombstones) with @buckets buckets and a fresh seed. */
static struct turn_ctab *ctab_rebuild(const struct turn_ctab *old, uint32_t buckets)
{
	struct turn_ctab *t = ctab_create(buckets);

	if (!t)
		return NULL;
	for (uint32_t b = 0; b <= old->mask; b++)
		for (unsigned int i = 0; i < TURN_CTAB_WAYS; i++) {
			struct turn_alloc *a = old->b[b].a[i];

			if (a && a != TURN_CTAB_TOMB && ctab_insert(t, &old->b[b].key[i], a) < 0) {
				ctab_free(t);
				return NULL;
			}
		}
	return t;
}

/* Keeps the table at most 3/4 full counting tombstones: rebuilds (growing if live entries
 * alone pass 2/3) and swaps the new table in; readers finish on the old one. */
static int ctab_make_room(void)
{
	struct turn_ctab *t = turn_tab.by_client, *n;
	uint32_t entries = (t->mask + 1) * TURN_CTAB_WAYS;

	if ((t->used + t->tombs + 1) * 4 <= entries * 3)
		return 0;
	n = ctab_rebuild(t, (t->used + 1) * 3 > entries * 2 ? (t->mask + 1) * 2 : t->mask + 1);
	if (!n)
		return -ENOMEM;
	edge_rcu_assign(turn_tab.by_client, n);
	edge_rcu_retire_head(&t->rcu, ctab_free_rcu);
	return 0;
}

int turn_tables_init(uint32_t capacity, int socket_id)
{
	uint32_t buckets = 16;

	memset(&turn_tab, 0, sizeof(turn_tab));
	turn_tab.key6_seed[0] = rte_rand();
	turn_tab.key6_seed[1] = rte_rand();
	if (!reclaimed_init) {
		cds_lfs_init(&reclaimed);
		reclaimed_init = true;
	}
	while (buckets * TURN_CTAB_WAYS * 2 < capacity * 3) /* at most 2/3 full */
		buckets *= 2;
	turn_tab.by_client = ctab_create(buckets);
	/* one object per allocation, plus spares for the copies that changes publish and that
	 * wait out a grace period (a grace period is milliseconds: at a million allocations,
	 * 15 600 changes in flight at once; when they run out, a change waits for the next
	 * reclaim, see publish()). 1/64, not 1/32: with the IPv6 addresses an object is six
	 * lines, and the tables stay within 512 bytes an allocation (bench/results/relay.md) */
	turn_tab.n_objs = capacity + capacity / 64 + 64;
	turn_tab.objs = rte_zmalloc_socket("turn_allocs",
		(size_t)turn_tab.n_objs * sizeof(struct turn_alloc), RTE_CACHE_LINE_SIZE,
		socket_id);
	turn_tab.free_objs = malloc(turn_tab.n_objs * sizeof(uint32_t));
	turn_tab.slots = rte_zmalloc_socket("turn_slots", capacity * sizeof(*turn_tab.slots),
		RTE_CACHE_LINE_SIZE, socket_id);
	turn_tab.free_slots = malloc(capacity * sizeof(uint32_t));
	if (!turn_tab.by_client || !turn_tab.objs || !turn_tab.free_objs || !turn_tab.slots ||
		!turn_tab.free_slots) {
		turn_tables_fini();
		return -ENOMEM;
	}
	turn_tab.capacity = capacity;
	for (uint32_t i = 0; i < capacity; i++)
		turn_tab.free_slots[i] = capacity - 1 - i; /* slot 0 is handed out first */
	turn_tab.n_free = capacity;
	for (uint32_t i = 0; i < turn_tab.n_objs; i++)
		turn_tab.free_objs[i] = turn_tab.n_objs - 1 - i;
	turn_tab.n_free_objs = turn_tab.n_objs;
	return 0;
}

int turn_tables_add_lcore(unsigned int lcore)
{
	if (lcore >= RTE_MAX_LCORE)
		return -EINVAL;
	if (!turn_tab.buckets[lcore])
		turn_tab.buckets[lcore] = rte_zmalloc("turn_buckets",
			(size_t)turn_tab.n_objs * sizeof(*turn_tab.buckets[lcore]),
			RTE_CACHE_LINE_SIZE);
	return turn_tab.buckets[lcore] ? 0 : -ENOMEM;
}

void turn_tables_fini(void)
{
	for (int l = 0; l < RTE_MAX_LCORE; l++)
		rte_free(turn_tab.buckets[l]);
	for (int i = 0; i < EDGE_MAX_IFACES; i++)
		for (int k = 0; k < EDGE_MAX_ADDRS; k++) {
			rte_free(turn_tab.relay[i][k].ports);
			rte_free(turn_tab.relay6[i][k].ports);
		}
	ctab_free(turn_tab.by_client);
	rte_free(turn_tab.slots);
	rte_free(turn_tab.objs);
	free(turn_tab.free_objs);
	free(turn_tab.free_slots);
	memset(&turn_tab, 0, sizeof(turn_tab));
}

struct turn_alloc *turn_alloc_new(void)
{
	struct turn_alloc *a;

	if (turn_tab.n_free_objs == 0 && turn_tables_reclaim() == 0)
		return NULL;
	a = &turn_tab.objs[turn_tab.free_objs[--turn_tab.n_free_objs]];
	memset(a, 0, sizeof(*a));
	return a;
}

void turn_alloc_discard(struct turn_alloc *a)
{
	if (a)
		turn_tab.free_objs[turn_tab.n_free_objs++] = (uint32_t)(a - turn_tab.objs);
}

/* After a grace period, call_rcu's own thread only moves a retired allocation onto the
 * reclaimed stack; the control plane (the tables' only writer) recycles it from there, so
 * the free lists keep a single writer. */
static void alloc_retired_rcu(struct rcu_head *h)
{
	cds_lfs_push(&reclaimed, &caa_container_of(h, struct turn_alloc, rcu)->node);
}

static void alloc_retire(struct turn_alloc *a, bool release_slot)
{
	a->release_slot = release_slot;
	cds_lfs_node_init(&a->node);
	edge_rcu_retire_head(&a->rcu, alloc_retired_rcu);
}

unsigned int turn_tables_reclaim(void)
{
	struct cds_lfs_head *head = __cds_lfs_pop_all(&reclaimed);
	struct cds_lfs_node *n, *next;
	unsigned int count = 0;

	if (!head) /* cds_lfs_for_each_safe reads through the head: UB on NULL */
		return 0;
	cds_lfs_for_each_safe(head, n, next)
	{
		struct turn_alloc *a = caa_container_of(n, struct turn_alloc, node);

		if (a->release_slot)
			turn_tab.free_slots[turn_tab.n_free++] = a->slot;
		turn_alloc_discard(a);
		count++;
	}
	return count;
}

/* The port table of relay address @ip on @ifi, made on first use. */
static uint32_t *relay_ports(uint8_t ifi, uint32_t ip)
{
	struct turn_relay_addr *r = turn_tab.relay[ifi];

	for (int k = 0; k < EDGE_MAX_ADDRS; k++) {
		if (r[k].ports && r[k].ip == ip)
			return r[k].ports;
		if (!r[k].ports) {
			uint32_t *t = rte_zmalloc("turn_relay_ports", 65536 * sizeof(uint32_t),
				RTE_CACHE_LINE_SIZE);

			if (!t)
				return NULL;
			r[k].ip = ip;
			__atomic_store_n(&r[k].ports, t, __ATOMIC_RELEASE);
			return t;
		}
	}
	return NULL;
}

/* The same for IPv6 relay address @ip. */
static uint32_t *relay6_ports(uint8_t ifi, const uint8_t ip[16])
{
	struct turn_relay_addr6 *r = turn_tab.relay6[ifi];

	for (int k = 0; k < EDGE_MAX_ADDRS; k++) {
		if (r[k].ports && edge_ip6_eq(r[k].ip, ip))
			return r[k].ports;
		if (!r[k].ports) {
			uint32_t *t = rte_zmalloc("turn_relay6_ports", 65536 * sizeof(uint32_t),
				RTE_CACHE_LINE_SIZE);

			if (!t)
				return NULL;
			memcpy(r[k].ip, ip, 16);
			__atomic_store_n(&r[k].ports, t, __ATOMIC_RELEASE);
			return t;
		}
	}
	return NULL;
}

/* The port tables of @a's relayed addresses, IPv4 ([0]) and IPv6 ([1]), NULL where it has
 * none; false when one cannot be had. */
static bool alloc_port_tables(const struct turn_alloc *a, uint32_t *t[2])
{
	t[0] = a->relay_ip ? relay_ports(a->relay_if, a->relay_ip) : NULL;
	t[1] = a->relay6 ? relay6_ports(a->relay_if, a->relay_ip6) : NULL;
	return (t[0] || !a->relay_ip) && (t[1] || !a->relay6) && (t[0] || t[1]);
}

int turn_alloc_publish(struct turn_alloc *a)
{
	uint16_t port = rte_be_to_cpu_16(a->relay_port);
	struct turn_alloc **e;
	uint32_t *relay[2];
	int ret;

	if (a->relay_if >= EDGE_MAX_IFACES || a->n_perms + 2 * a->n_perms6 > TURN_MAX_PERMS ||
		a->n_chans > TURN_MAX_CHANS)
		return -EINVAL;
	if (!alloc_port_tables(a, relay))
		return a->relay_ip || a->relay6 ? -ENOMEM : -EINVAL;
	a->client6_sum = turn_key_is6(&a->key) ? cksum_ip6x2(a->client_ip6, a->server_ip6) : 0;
	a->relay6_sum = a->relay6 ? cksum_ip6(a->relay_ip6) : 0;

	e = ctab_entry(turn_tab.by_client, &a->key);
	if (e) {
		/* a new version of an existing allocation: same slot, same relay port */
		struct turn_alloc *old = *e;

		if (old->relay_port != a->relay_port || old->relay_if != a->relay_if ||
			old->relay_ip != a->relay_ip || old->relay6 != a->relay6 ||
			memcmp(old->relay_ip6, a->relay_ip6, 16))
			return -EINVAL;
		a->slot = old->slot;
		/* the new object inherits the buckets' state (approximately: workers race) */
		for (int l = 0; l < RTE_MAX_LCORE; l++)
			if (turn_tab.buckets[l])
				memcpy(&turn_tab.buckets[l][a - turn_tab.objs],
					&turn_tab.buckets[l][old - turn_tab.objs],
					sizeof(turn_tab.buckets[l][0]));
		edge_rcu_assign(turn_tab.slots[a->slot], a);
		edge_rcu_assign(*e, a);
		alloc_retire(old, false);
		return 0;
	}
	if ((relay[0] && relay[0][port]) || (relay[1] && relay[1][port]))
		return -EADDRINUSE;
	if (turn_tab.n_free == 0)
		turn_tables_reclaim();
	if (turn_tab.n_free == 0)
		return -ENOSPC;
	ret = ctab_make_room();
	if (ret < 0)
		return ret;
	a->slot = turn_tab.free_slots[--turn_tab.n_free];
	/* a new allocation starts with full buckets (tokens 0 and last 0 refill at once) */
	for (int l = 0; l < RTE_MAX_LCORE; l++)
		if (turn_tab.buckets[l])
			memset(&turn_tab.buckets[l][a - turn_tab.objs], 0,
				sizeof(turn_tab.buckets[l][0]));
	/* publish the object before anything that leads to it */
	edge_rcu_assign(turn_tab.slots[a->slot], a);
	ret = ctab_insert(turn_tab.by_client, &a->key, a);
	if (ret < 0) {
		turn_tab.slots[a->slot] = NULL;
		turn_tab.free_slots[turn_tab.n_free++] = a->slot;
		return ret;
	}
	for (int f = 0; f < 2; f++)
		if (relay[f])
			__atomic_store_n(&relay[f][port], a->slot + 1, __ATOMIC_RELEASE);
	turn_tab.n_allocs++;
	return 0;
}

int turn_alloc_remove(const struct turn_key *key)
{
	struct turn_alloc **e = ctab_entry(turn_tab.by_client, key);
	struct turn_alloc *a;
	uint32_t *relay[2];

	if (!e)
		return -ENOENT;
	a = *e;
	/* unreachable first (ports, then hash), then the slot; readers that already hold the
	 * pointer keep a valid object until the grace period ends (the tables exist: its
	 * publication made them) */
	alloc_port_tables(a, relay);
	for (int f = 0; f < 2; f++)
		if (relay[f])
			__atomic_store_n(&relay[f][rte_be_to_cpu_16(a->relay_port)], 0,
				__ATOMIC_RELEASE);
	__atomic_store_n(e, TURN_CTAB_TOMB, __ATOMIC_RELEASE);
	turn_tab.by_client->tombs++;
	turn_tab.by_client->used--;
	edge_rcu_assign(turn_tab.slots[a->slot], NULL);
	alloc_retire(a, true);
	turn_tab.n_allocs--;
	return 0;
}

struct turn_alloc *turn_alloc_copy(const struct turn_key *key)
{
	struct turn_alloc **e = ctab_entry(turn_tab.by_client, key);
	struct turn_alloc *c;

	if (!e)
		return NULL;
	c = turn_alloc_new();
	if (c)
		memcpy(c, *e, sizeof(*c));
	return c;
}

int turn_alloc_traffic(const struct turn_key *key, uint64_t pkts[2], uint64_t bytes[2])
{
	struct turn_alloc **e = ctab_entry(turn_tab.by_client, key);
	size_t obj;

	if (!e)
		return -ENOENT;
	obj = (size_t)(*e - turn_tab.objs);
	pkts[0] = pkts[1] = bytes[0] = bytes[1] = 0;
	for (int l = 0; l < RTE_MAX_LCORE; l++) {
		const volatile struct turn_lcore_obj *c = &turn_tab.buckets[l][obj];

		if (!turn_tab.buckets[l])
			continue;
		for (int d = 0; d < 2; d++) {
			pkts[d] += c->pkts[d];
			bytes[d] += c->bytes[d];
		}
	}
	return 0;
}

void turn_tables_in_use(uint32_t *slots, uint32_t *objs)
{
	*slots = turn_tab.capacity - __atomic_load_n(&turn_tab.n_free, __ATOMIC_RELAXED);
	*objs = turn_tab.n_objs - __atomic_load_n(&turn_tab.n_free_objs, __ATOMIC_RELAXED);
}

size_t turn_tables_memory(void)
{
	/* everything else (objects, slots, client table, port tables) is rte_malloc'd: callers
	 * count it from rte_malloc's statistics */
	return (size_t)turn_tab.capacity * sizeof(uint32_t) +
		(size_t)turn_tab.n_objs * sizeof(uint32_t) + sizeof(struct turn_ctab);
}
