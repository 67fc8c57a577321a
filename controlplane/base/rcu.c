/* The writer half of the publish/retire pattern (include/edge_rcu.h). */
#include "edge_rcu.h"

struct retired {
	struct rcu_head head;
	void *obj;
	edge_rcu_free_fn fn;
};

static void retired_free(struct rcu_head *head)
{
	struct retired *r = caa_container_of(head, struct retired, head);

	r->fn(r->obj);
	free(r);
}

void edge_rcu_retire(void *obj, edge_rcu_free_fn fn)
{
	struct retired *r;

	if (!obj)
		return;
	r = malloc(sizeof(*r));
	if (!r) {
		/* the caller is the registered control-plane thread: wait out of line */
		rcu_thread_offline();
		synchronize_rcu();
		rcu_thread_online();
		fn(obj);
		return;
	}
	r->obj = obj;
	r->fn = fn;
	call_rcu(&r->head, retired_free);
}

void edge_rcu_barrier(void)
{
	rcu_barrier();
}
