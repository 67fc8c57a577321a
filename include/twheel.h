/* A hashed timing wheel for the control plane's lifetimes (allocations, permissions,
 * channels, nonces, reservations): O(1) add, cancel and re-arm, with timers embedded in the
 * objects they expire. One-second ticks; a timer further away than one revolution waits
 * out whole rounds in its slot. Single-threaded: the control plane's own. */
#ifndef EDGE_TWHEEL_H
#define EDGE_TWHEEL_H

#include <stdbool.h>
#include <stdint.h>

struct tw_timer {
	struct tw_timer *next, **pprev; /* pprev == NULL: not armed */
	uint64_t expires;		/* seconds, on the wheel's clock */
	uint32_t rounds;		/* revolutions still to wait */
	void (*fire)(struct tw_timer *t);
};

struct twheel {
	struct tw_timer **slots;
	uint32_t n_slots; /* a power of two */
	uint64_t now;	  /* the last second processed */
	uint64_t armed;
};

int tw_init(struct twheel *w, uint32_t n_slots, uint64_t now);
void tw_fini(struct twheel *w);

static inline void tw_timer_init(struct tw_timer *t, void (*fire)(struct tw_timer *t))
{
	t->next = NULL;
	t->pprev = NULL;
	t->fire = fire;
}

static inline bool tw_armed(const struct tw_timer *t)
{
	return t->pprev != NULL;
}

/* Arms (or re-arms) @t to fire at second @expires; a time already past fires at the next
 * advance. */
void tw_add(struct twheel *w, struct tw_timer *t, uint64_t expires);
void tw_del(struct twheel *w, struct tw_timer *t);
/* Fires, in time order by second, every timer due up to @now. A fired timer is disarmed
 * before its callback runs, which may re-arm it or free it. Returns how many fired. */
unsigned int tw_advance(struct twheel *w, uint64_t now);

#endif
