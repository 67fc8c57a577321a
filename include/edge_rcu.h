/* The one place liburcu is included: QSBR flavour, and the publish/retire pattern every
 * table uses. Writers (the control plane) publish a new immutable object with one pointer
 * store and retire the old one after a grace period; readers (worker lcores) take no lock. */
#ifndef EDGE_RCU_H
#define EDGE_RCU_H

/* the lock-free stack before _LGPL_SOURCE: the library's stack functions, not its inline
 * ones (whose push does member access through a NULL head, which UBSan stops on) */
#include <urcu/lfstack.h>

#define _LGPL_SOURCE
#include <urcu-qsbr.h>
#include <urcu/rculfhash.h>
#include <stdlib.h>

/* Reader side, for worker lcores: register once, report a quiescent state once per poll
 * loop, and go offline around any sleep so grace periods never wait on an idle core. */
static inline void edge_rcu_reader_start(void)
{
	rcu_register_thread();
}

static inline void edge_rcu_reader_stop(void)
{
	rcu_unregister_thread();
}

static inline void edge_rcu_quiescent(void)
{
	rcu_quiescent_state();
}

static inline void edge_rcu_offline(void)
{
	rcu_thread_offline();
}

static inline void edge_rcu_online(void)
{
	rcu_thread_online();
}

/* Writer side. edge_rcu_publish() makes @obj visible to readers and returns what it
 * replaced; edge_rcu_retire() frees that after every reader has moved on. */
#define edge_rcu_publish(slot, obj) rcu_xchg_pointer((slot), (obj))
#define edge_rcu_read(slot) rcu_dereference(slot)
/* The same store for a writer that already holds the old pointer (or has none to retire). */
#define edge_rcu_assign(slot, obj) rcu_assign_pointer(slot, obj)

typedef void (*edge_rcu_free_fn)(void *obj);

/* Frees @obj with @fn after a grace period. Allocates a small tracker off the fast path;
 * if that fails it waits for the grace period here instead, so nothing leaks. */
void edge_rcu_retire(void *obj, edge_rcu_free_fn fn);

/* The allocation-free retire, for an object that embeds its struct rcu_head (the tables'
 * entries): @fn gets @head after a grace period. Never fails, never waits. */
static inline void edge_rcu_retire_head(struct rcu_head *head, void (*fn)(struct rcu_head *head))
{
	call_rcu(head, fn);
}

/* Waits until everything retired so far has been freed (shutdown, tests). */
void edge_rcu_barrier(void);

#endif
