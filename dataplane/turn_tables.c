/* Writer side of the TURN tables (include/turn_tables.h): slots, the client hash and the
 * relay-port arrays, all changed by the control plane alone and retired through RCU. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <rte_jhash.h>
#include <rte_malloc.h>
#include <urcu/lfstack.h>

#include "turn_tables.h"

struct turn_tables turn_tab;
static struct cds_lfs_stack reclaimed;	/* see turn_alloc_remove() */
static bool reclaimed_init;

int turn_tables_init(uint32_t capacity, int socket_id)
{
	struct rte_hash_parameters hp = {
		.name = "turn_by_client",
		.entries = capacity < 8 ? 8 : capacity,
		.key_len = sizeof(struct turn_key),
		.hash_func = rte_jhash,
		.socket_id = socket_id,
		/* lock-free readers, one writer; key slots are freed by us after a grace period */
		.extra_flag = RTE_HASH_EXTRA_FLAGS_RW_CONCURRENCY_LF | RTE_HASH_EXTRA_FLAGS_EXT_TABLE,
	};

	memset(&turn_tab, 0, sizeof(turn_tab));
	if (!reclaimed_init) {
		cds_lfs_init(&reclaimed);
		reclaimed_init = true;
	}
	turn_tab.by_client = rte_hash_create(&hp);
	/* one object per allocation, plus spares for the copies that changes publish */
	turn_tab.pool = rte_mempool_create("turn_allocs", capacity + capacity / 8 + 64,
		sizeof(struct turn_alloc), 0, 0, NULL, NULL, NULL, NULL, socket_id, 0);
	turn_tab.slots = rte_zmalloc_socket("turn_slots", capacity * sizeof(*turn_tab.slots),
		RTE_CACHE_LINE_SIZE, socket_id);
	turn_tab.free_slots = malloc(capacity * sizeof(uint32_t));
	if (!turn_tab.by_client || !turn_tab.pool || !turn_tab.slots || !turn_tab.free_slots) {
		turn_tables_fini();
		return -ENOMEM;
	}
	turn_tab.capacity = capacity;
	for (uint32_t i = 0; i < capacity; i++)
		turn_tab.free_slots[i] = capacity - 1 - i;	/* slot 0 is handed out first */
	turn_tab.n_free = capacity;
	return 0;
}

void turn_tables_fini(void)
{
	for (uint32_t i = 0; turn_tab.slots && i < turn_tab.capacity; i++)
		if (turn_tab.slots[i])
			rte_mempool_put(turn_tab.pool, turn_tab.slots[i]);
	for (int i = 0; i < EDGE_MAX_IFACES; i++)
		for (int k = 0; k < EDGE_MAX_ADDRS; k++)
			rte_free(turn_tab.relay[i][k].ports);
	rte_hash_free(turn_tab.by_client);
	rte_free(turn_tab.slots);
	rte_mempool_free(turn_tab.pool);
	free(turn_tab.free_slots);
	memset(&turn_tab, 0, sizeof(turn_tab));
}

struct turn_alloc *turn_alloc_new(void)
{
	void *obj;

	if (rte_mempool_get(turn_tab.pool, &obj) < 0)
		return NULL;
	memset(obj, 0, sizeof(struct turn_alloc));
	return obj;
}

void turn_alloc_discard(struct turn_alloc *a)
{
	if (a)
		rte_mempool_put(turn_tab.pool, a);
}

static void alloc_free_rcu(struct rcu_head *h)
{
	/* the pool's ring takes puts from any thread, so call_rcu's own thread may do this */
	rte_mempool_put(turn_tab.pool, caa_container_of(h, struct turn_alloc, rcu));
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

int turn_alloc_publish(struct turn_alloc *a)
{
	uint16_t port = rte_be_to_cpu_16(a->relay_port);
	uint32_t *relay;
	void *data;
	int32_t pos;

	if (a->relay_if >= EDGE_MAX_IFACES || a->n_perms > TURN_MAX_PERMS ||
		a->n_chans > TURN_MAX_CHANS)
		return -EINVAL;
	relay = relay_ports(a->relay_if, a->relay_ip);
	if (!relay)
		return -ENOMEM;

	if (rte_hash_lookup_data(turn_tab.by_client, &a->key, &data) >= 0) {
		/* a new version of an existing allocation: same slot, same relay port */
		struct turn_alloc *old = turn_tab.slots[(uint32_t)(uintptr_t)data];

		if (old->relay_port != a->relay_port || old->relay_if != a->relay_if ||
			old->relay_ip != a->relay_ip)
			return -EINVAL;
		a->slot = old->slot;
		rcu_assign_pointer(turn_tab.slots[a->slot], a);
		call_rcu(&old->rcu, alloc_free_rcu);
		return 0;
	}
	if (relay[port])
		return -EADDRINUSE;
	if (turn_tab.n_free == 0 && turn_tables_reclaim() == 0)
		return -ENOSPC;
	a->slot = turn_tab.free_slots[--turn_tab.n_free];
	/* publish the object before anything that leads to it */
	rcu_assign_pointer(turn_tab.slots[a->slot], a);
	pos = rte_hash_add_key_data(turn_tab.by_client, &a->key, (void *)(uintptr_t)a->slot);
	if (pos < 0) {
		turn_tab.slots[a->slot] = NULL;
		turn_tab.free_slots[turn_tab.n_free++] = a->slot;
		return pos;
	}
	__atomic_store_n(&relay[port], a->slot + 1, __ATOMIC_RELEASE);
	turn_tab.n_allocs++;
	return 0;
}

/* What a removal leaves for after the grace period. call_rcu's own thread only moves it to
 * the reclaimed stack; the control plane (the tables' only writer) recycles it from there,
 * so the hash and the free-slot list keep a single writer. */
struct retired_alloc {
	struct rcu_head rcu;
	struct cds_lfs_node node;
	struct turn_alloc *a;
	int32_t key_pos;
};

static void alloc_remove_rcu(struct rcu_head *h)
{
	struct retired_alloc *r = caa_container_of(h, struct retired_alloc, rcu);

	cds_lfs_push(&reclaimed, &r->node);
}

unsigned int turn_tables_reclaim(void)
{
	struct cds_lfs_head *head = __cds_lfs_pop_all(&reclaimed);
	struct cds_lfs_node *n, *next;
	unsigned int count = 0;

	cds_lfs_for_each_safe(head, n, next) {
		struct retired_alloc *r = caa_container_of(n, struct retired_alloc, node);

		rte_hash_free_key_with_position(turn_tab.by_client, r->key_pos);
		turn_tab.free_slots[turn_tab.n_free++] = r->a->slot;
		rte_mempool_put(turn_tab.pool, r->a);
		free(r);
		count++;
	}
	return count;
}

int turn_alloc_remove(const struct turn_key *key)
{
	struct retired_alloc *r = malloc(sizeof(*r));
	struct turn_alloc *a;
	void *data;
	int32_t pos;

	if (!r)
		return -ENOMEM;
	if (rte_hash_lookup_data(turn_tab.by_client, key, &data) < 0) {
		free(r);
		return -ENOENT;
	}
	a = turn_tab.slots[(uint32_t)(uintptr_t)data];
	/* unreachable first (port, then hash), then the slot; readers that already hold the
	 * pointer keep a valid object until the grace period ends */
	__atomic_store_n(&relay_ports(a->relay_if, a->relay_ip)[rte_be_to_cpu_16(a->relay_port)], 0,
		__ATOMIC_RELEASE);
	pos = rte_hash_del_key(turn_tab.by_client, key);
	rcu_assign_pointer(turn_tab.slots[a->slot], NULL);
	r->a = a;
	r->key_pos = pos;
	cds_lfs_node_init(&r->node);
	call_rcu(&r->rcu, alloc_remove_rcu);
	turn_tab.n_allocs--;
	return 0;
}

struct turn_alloc *turn_alloc_copy(const struct turn_key *key)
{
	void *data;
	struct turn_alloc *c;

	if (rte_hash_lookup_data(turn_tab.by_client, key, &data) < 0)
		return NULL;
	c = turn_alloc_new();
	if (c)
		memcpy(c, turn_tab.slots[(uint32_t)(uintptr_t)data], sizeof(*c));
	return c;
}

size_t turn_tables_memory(void)
{
	/* everything else (pool, slots, hash, port tables) is rte_malloc'd: callers count it
	 * from rte_malloc's statistics */
	return (size_t)turn_tab.capacity * sizeof(uint32_t);
}
