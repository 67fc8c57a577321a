/* Hashed timing wheel (include/twheel.h). */
#include <errno.h>
#include <stdlib.h>

#include "twheel.h"

int tw_init(struct twheel *w, uint32_t n_slots, uint64_t now)
{
	if (n_slots == 0 || (n_slots & (n_slots - 1)))
		return -EINVAL;
	w->slots = calloc(n_slots, sizeof(*w->slots));
	if (!w->slots)
		return -ENOMEM;
	w->n_slots = n_slots;
	w->now = now;
	w->armed = 0;
	return 0;
}

void tw_fini(struct twheel *w)
{
	free(w->slots);
	w->slots = NULL;
}

static void unlink_timer(struct tw_timer *t)
{
	if (t->next)
		t->next->pprev = t->pprev;
	*t->pprev = t->next;
	t->next = NULL;
	t->pprev = NULL;
}

void tw_del(struct twheel *w, struct tw_timer *t)
{
	if (!tw_armed(t))
		return;
	unlink_timer(t);
	w->armed--;
}

void tw_add(struct twheel *w, struct tw_timer *t, uint64_t expires)
{
	struct tw_timer **head;
	uint64_t ticks;

	tw_del(w, t);
	if (expires <= w->now)
		expires = w->now + 1; /* due: the next advance fires it */
	ticks = expires - w->now;
	t->expires = expires;
	t->rounds = (uint32_t)((ticks - 1) / w->n_slots);
	head = &w->slots[expires & (w->n_slots - 1)];
	t->next = *head;
	if (t->next)
		t->next->pprev = &t->next;
	t->pprev = head;
	*head = t;
	w->armed++;
}

unsigned int tw_advance(struct twheel *w, uint64_t now)
{
	unsigned int fired = 0;

	/* second by second: even a day's pause is only 86400 slot visits */
	while (w->now < now) {
		struct tw_timer *due = NULL, *t, *next;

		w->now++;
		/* move what is due onto a local list first: a callback may cancel or free any
		 * other timer, including one due now (tw_del unlinks it from this list too) */
		for (t = w->slots[w->now & (w->n_slots - 1)]; t; t = next) {
			next = t->next;
			if (t->rounds) {
				t->rounds--;
				continue;
			}
			unlink_timer(t);
			t->next = due;
			if (due)
				due->pprev = &t->next;
			t->pprev = &due;
			due = t;
		}
		while ((t = due)) {
			unlink_timer(t);
			w->armed--;
			fired++;
			t->fire(t);
		}
	}
	return fired;
}
