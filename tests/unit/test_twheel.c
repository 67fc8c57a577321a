/* The timing wheel: timers fire at their second, not before, once; cancel and re-arm work
 * from anywhere, including from another timer's callback; long timers wait whole rounds;
 * and a random workload matches a brute-force model. */
#include <stdlib.h>

#include "twheel.h"
#include "unit.h"

struct obj {
	struct tw_timer t;
	int fired;
	uint64_t fired_at;
	uint64_t want;
};

static struct twheel w;
static struct obj *victim; /* a timer some callback cancels */

static void on_fire(struct tw_timer *t)
{
	struct obj *o = (struct obj *)t;

	o->fired++;
	o->fired_at = w.now;
	if (victim && victim != o) {
		tw_del(&w, &victim->t);
		victim = NULL;
	}
}

static void test_basic(void)
{
	struct obj a = { 0 }, b = { 0 }, c = { 0 };

	CU_ASSERT_EQUAL_FATAL(tw_init(&w, 64, 1000), 0);
	tw_timer_init(&a.t, on_fire);
	tw_timer_init(&b.t, on_fire);
	tw_timer_init(&c.t, on_fire);
	tw_add(&w, &a.t, 1005);
	tw_add(&w, &b.t, 1005 + 64 * 3); /* same slot, three rounds later */
	tw_add(&w, &c.t, 900);		 /* in the past: next second */
	CU_ASSERT_EQUAL(w.armed, 3);
	CU_ASSERT_EQUAL(tw_advance(&w, 1001), 1);
	CU_ASSERT_EQUAL(c.fired, 1);
	CU_ASSERT_EQUAL(tw_advance(&w, 1004), 0);
	CU_ASSERT_EQUAL(tw_advance(&w, 1005), 1);
	CU_ASSERT_EQUAL(a.fired, 1);
	CU_ASSERT_EQUAL(a.fired_at, 1005);
	CU_ASSERT_FALSE(tw_armed(&a.t));
	CU_ASSERT_EQUAL(tw_advance(&w, 1005 + 64 * 3 - 1), 0);
	CU_ASSERT_EQUAL(b.fired, 0);
	CU_ASSERT_EQUAL(tw_advance(&w, 1005 + 64 * 3), 1);
	CU_ASSERT_EQUAL(b.fired_at, 1005 + 64 * 3);
	/* re-arm moves it; cancel stops it; both are idempotent */
	tw_add(&w, &a.t, w.now + 10);
	tw_add(&w, &a.t, w.now + 20);
	tw_del(&w, &c.t);
	CU_ASSERT_EQUAL(w.armed, 1);
	CU_ASSERT_EQUAL(tw_advance(&w, w.now + 15), 0);
	tw_del(&w, &a.t);
	tw_del(&w, &a.t);
	CU_ASSERT_EQUAL(tw_advance(&w, w.now + 100), 0);
	CU_ASSERT_EQUAL(w.armed, 0);
	tw_fini(&w);
}

static void test_cancel_from_callback(void)
{
	struct obj a = { 0 }, b = { 0 };

	CU_ASSERT_EQUAL_FATAL(tw_init(&w, 8, 0), 0);
	tw_timer_init(&a.t, on_fire);
	tw_timer_init(&b.t, on_fire);
	tw_add(&w, &a.t, 5);
	tw_add(&w, &b.t, 5); /* due in the same second as a */
	victim = &b;	     /* whichever fires first cancels b (or a cancels b) */
	tw_advance(&w, 5);
	CU_ASSERT_EQUAL(a.fired + b.fired, 1);
	CU_ASSERT_EQUAL(w.armed, 0);
	tw_fini(&w);
}

static void test_against_model(void)
{
	enum { N = 2000 };
	struct obj *o = calloc(N, sizeof(*o));
	unsigned int seed = 7;

	CU_ASSERT_EQUAL_FATAL(tw_init(&w, 256, 0), 0);
	for (int i = 0; i < N; i++) {
		tw_timer_init(&o[i].t, on_fire);
		o[i].want = 1 + rand_r(&seed) % 5000;
		tw_add(&w, &o[i].t, o[i].want);
	}
	for (uint64_t now = 0; now < 6000;) {
		now += 1 + rand_r(&seed) % 300; /* uneven steps, some longer than a revolution */
		tw_advance(&w, now);
		/* now and then re-arm or cancel a pending one, as refreshes do */
		for (int k = 0; k < 20; k++) {
			struct obj *x = &o[rand_r(&seed) % N];
			if (x->fired || !tw_armed(&x->t))
				continue;
			if (rand_r(&seed) % 4 == 0) {
				tw_del(&w, &x->t);
				x->want = 0;
			} else {
				x->want = now + 1 + rand_r(&seed) % 2000;
				tw_add(&w, &x->t, x->want);
			}
		}
	}
	tw_advance(&w, 10000);
	for (int i = 0; i < N; i++) {
		if (o[i].want == 0) {
			CU_ASSERT_EQUAL(o[i].fired, 0);
			continue;
		}
		CU_ASSERT_EQUAL(o[i].fired, 1);
		/* never early; late only by the advance step that covered it */
		CU_ASSERT(o[i].fired_at >= o[i].want);
	}
	CU_ASSERT_EQUAL(w.armed, 0);
	tw_fini(&w);
	free(o);
}

static const struct unit_test tests[] = {
	{ "fire at the second, rounds, re-arm, cancel", test_basic },
	{ "a callback cancels a timer due in the same second", test_cancel_from_callback },
	{ "random adds, re-arms and cancels match a model", test_against_model },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("twheel", tests);
}
