/* Per-address limits: addresses are counted exactly (two that shared a slot in the old
 * 1024-slot table do not share a count), an offender is never forgiven by a flood of other
 * addresses, a table full of offenders refuses newcomers and counts them, refunds and windows
 * work, and a burst of takes lets exactly `max` through. */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "addr_limit.h"
#include "unit.h"

#define MAX 10
#define WIN 60000

static void v4(const char *s, uint8_t out[4])
{
	CU_ASSERT_FATAL(inet_pton(AF_INET, s, out) == 1);
}

/* The slot the old web_fails table gave an address: FNV-1a of its text, mod 1024. */
static unsigned int old_slot(const char *peer)
{
	uint32_t h = 2166136261u;

	for (const char *p = peer; *p; p++)
		h = (h ^ (uint8_t)*p) * 16777619u;
	return h % 1024;
}

static void test_colliding_addresses(void)
{
	char a[32], b[32] = "";
	uint8_t ka[4], kb[4];
	struct addr_limit *l = addr_limit_new(1024, MAX, WIN);

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	snprintf(a, sizeof(a), "198.18.20.2");
	for (unsigned int i = 0; i < 65536 && !*b; i++) {
		char c[32];
		snprintf(c, sizeof(c), "203.0.%u.%u", i >> 8, i & 255);
		if (old_slot(c) == old_slot(a))
			snprintf(b, sizeof(b), "%s", c);
	}
	CU_ASSERT_FATAL(*b != 0);
	v4(a, ka);
	v4(b, kb);
	/* alternating, as the two attackers did: each gets exactly MAX, then both are refused */
	for (int i = 0; i < MAX; i++) {
		CU_ASSERT_TRUE(addr_limit_take(l, ka, 4, 1000 + i));
		CU_ASSERT_TRUE(addr_limit_take(l, kb, 4, 1000 + i));
	}
	CU_ASSERT_FALSE(addr_limit_take(l, ka, 4, 2000));
	CU_ASSERT_FALSE(addr_limit_take(l, kb, 4, 2000));
	CU_ASSERT_TRUE(addr_limit_over(l, ka, 4, 2000));
	CU_ASSERT_TRUE(addr_limit_over(l, kb, 4, 2000));
	CU_ASSERT_EQUAL(addr_limit_keys(l), 2);
	addr_limit_free(l);
}

static void test_flood_does_not_forgive(void)
{
	uint8_t off[4] = { 198, 18, 20, 2 }, k[4];
	struct addr_limit *l = addr_limit_new(64, MAX, WIN);
	uint64_t now = 1000;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (int i = 0; i < MAX; i++)
		CU_ASSERT_TRUE(addr_limit_take(l, off, 4, now));
	CU_ASSERT_FALSE(addr_limit_take(l, off, 4, now));
	/* 100000 other addresses, one event each, far more than the table holds */
	for (uint32_t i = 0; i < 100000; i++) {
		uint32_t a = htonl(0x0a000000u + i);
		memcpy(k, &a, 4);
		CU_ASSERT_TRUE(addr_limit_take(l, k, 4, now + i / 10));
		if (i % 997 == 0)
			CU_ASSERT_FALSE(addr_limit_take(l, off, 4, now + i / 10));
	}
	CU_ASSERT_TRUE(addr_limit_over(l, off, 4, now + 10000));
	CU_ASSERT_FALSE(addr_limit_take(l, off, 4, now + 10000));
	CU_ASSERT(addr_limit_keys(l) <= 64);
	CU_ASSERT_EQUAL(addr_limit_table_full(l), 0);
	/* its block ends one window after the event that reached the limit */
	CU_ASSERT_TRUE(addr_limit_over(l, off, 4, now + WIN - 1));
	CU_ASSERT_FALSE(addr_limit_over(l, off, 4, now + WIN));
	CU_ASSERT_TRUE(addr_limit_take(l, off, 4, now + WIN));
	addr_limit_free(l);
}

static void test_table_full_of_offenders(void)
{
	struct addr_limit *l = addr_limit_new(4, 2, WIN);
	uint8_t k[4] = { 10, 0, 0, 0 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	for (uint8_t i = 0; i < 4; i++) {
		k[3] = i;
		CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 100 + i));
		CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 100 + i));
		CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 100 + i));
	}
	CU_ASSERT_EQUAL(addr_limit_keys(l), 4);
	k[3] = 99;
	CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 200)); /* fail closed */
	CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 300));
	CU_ASSERT_EQUAL(addr_limit_table_full(l), 2);
	for (uint8_t i = 0; i < 4; i++) { /* nobody was evicted */
		uint8_t o[4] = { 10, 0, 0, i };
		CU_ASSERT_TRUE(addr_limit_over(l, o, 4, 300));
	}
	/* the first offender's block ends: the newcomer takes its place, the others stay */
	CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 100 + WIN));
	CU_ASSERT_EQUAL(addr_limit_keys(l), 4);
	for (uint8_t i = 1; i < 4; i++) {
		uint8_t o[4] = { 10, 0, 0, i };
		CU_ASSERT_TRUE(addr_limit_over(l, o, 4, 100 + WIN));
	}
	addr_limit_free(l);
}

static void test_eviction_order(void)
{
	struct addr_limit *l = addr_limit_new(3, 3, WIN);
	uint8_t a[4] = { 1, 1, 1, 1 }, b[4] = { 2, 2, 2, 2 }, c[4] = { 3, 3, 3, 3 };
	uint8_t d[4] = { 4, 4, 4, 4 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	/* a is an offender, b was seen before c */
	for (int i = 0; i < 3; i++)
		CU_ASSERT_TRUE(addr_limit_take(l, a, 4, 10));
	CU_ASSERT_TRUE(addr_limit_take(l, b, 4, 20));
	CU_ASSERT_TRUE(addr_limit_take(l, b, 4, 21));
	CU_ASSERT_TRUE(addr_limit_take(l, c, 4, 30));
	CU_ASSERT_TRUE(addr_limit_take(l, d, 4, 40)); /* evicts b: least recently seen */
	CU_ASSERT_TRUE(addr_limit_over(l, a, 4, 40));
	/* c kept its count: two more and it is over */
	CU_ASSERT_TRUE(addr_limit_take(l, c, 4, 41));
	CU_ASSERT_TRUE(addr_limit_take(l, c, 4, 42));
	CU_ASSERT_FALSE(addr_limit_take(l, c, 4, 43));
	/* b starts again from nothing */
	CU_ASSERT_TRUE(addr_limit_take(l, b, 4, 50)); /* evicts d */
	CU_ASSERT_TRUE(addr_limit_take(l, b, 4, 51));
	CU_ASSERT_TRUE(addr_limit_take(l, b, 4, 52));
	CU_ASSERT_FALSE(addr_limit_take(l, b, 4, 53));
	addr_limit_free(l);
}

static void test_refund(void)
{
	struct addr_limit *l = addr_limit_new(16, 3, WIN);
	uint8_t k[16] = { 0x20, 0x01, 0x0d, 0xb8 }; /* an IPv6 key */

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	/* successes given back never add up */
	for (int i = 0; i < 100; i++) {
		CU_ASSERT_TRUE(addr_limit_take(l, k, 16, 1000 + i));
		addr_limit_refund(l, k, 16, 1000 + i);
	}
	CU_ASSERT_TRUE(addr_limit_take(l, k, 16, 2000));
	CU_ASSERT_TRUE(addr_limit_take(l, k, 16, 2000));
	CU_ASSERT_TRUE(addr_limit_take(l, k, 16, 2000));
	CU_ASSERT_TRUE(addr_limit_over(l, k, 16, 2000));
	/* the third was a success after all: under the limit again, one more may go */
	addr_limit_refund(l, k, 16, 2001);
	CU_ASSERT_FALSE(addr_limit_over(l, k, 16, 2001));
	CU_ASSERT_TRUE(addr_limit_take(l, k, 16, 2002));
	CU_ASSERT_FALSE(addr_limit_take(l, k, 16, 2003));
	/* a refund never goes below zero, nor makes an unknown key */
	uint8_t other[4] = { 9, 9, 9, 9 };
	addr_limit_refund(l, other, 4, 2004);
	CU_ASSERT_EQUAL(addr_limit_keys(l), 1);
	/* a longer key than an address is refused, an empty one too */
	uint8_t big[17] = { 0 };
	CU_ASSERT_FALSE(addr_limit_take(l, big, 17, 2005));
	CU_ASSERT_FALSE(addr_limit_take(l, big, 0, 2005));
	addr_limit_free(l);
}

static void test_windows(void)
{
	struct addr_limit *l = addr_limit_new(16, MAX, WIN);
	uint8_t k[4] = { 198, 18, 20, 3 };

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	/* under the limit, the window ends a window after its first event */
	for (int i = 0; i < MAX - 1; i++)
		CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 1000));
	CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 1000 + WIN - 1)); /* the MAXth */
	CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 1000 + WIN - 1));
	/* blocked for a whole window from the MAXth, not only to the end of the first window */
	CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 1000 + WIN));
	CU_ASSERT_TRUE(addr_limit_over(l, k, 4, 1000 + 2 * WIN - 2));
	CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 1000 + 2 * WIN - 1));
	/* a new window: MAX in all */
	for (int i = 1; i < MAX; i++)
		CU_ASSERT_TRUE(addr_limit_take(l, k, 4, 1000 + 2 * WIN));
	CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 1000 + 2 * WIN));
	/* a clock that steps back does not release anyone */
	CU_ASSERT_FALSE(addr_limit_take(l, k, 4, 0));
	addr_limit_free(l);
}

static void test_burst(void)
{
	struct addr_limit *l = addr_limit_new(1024, MAX, WIN);
	uint8_t k[4] = { 198, 18, 20, 2 };
	int allowed = 0;

	CU_ASSERT_PTR_NOT_NULL_FATAL(l);
	/* 60 joins arrive before any answer: each is checked and counted at once */
	for (int i = 0; i < 60; i++)
		allowed += addr_limit_take(l, k, 4, 5000);
	CU_ASSERT_EQUAL(allowed, MAX);
	addr_limit_free(l);
}

/* A model of one key under the contract, for a table that never needs to evict. */
struct model {
	unsigned int n;
	bool blocked, seen;
	uint64_t until, win_end;
};

static void model_refresh(struct model *m, uint64_t now)
{
	if (!m->seen) {
		m->seen = true;
		m->n = 0;
		m->until = m->win_end = now + 1000;
	} else if (now >= m->until) {
		m->blocked = false;
		m->n = 0;
		m->until = m->win_end = now + 1000;
	}
}

/* Random takes, refunds and checks over 40 keys: a big table matches the model; a small one
 * (8 keys, evicting) never lets a blocked key through before its block ends, and never holds
 * more than its capacity. */
static void test_random_against_model(void)
{
	struct addr_limit *big = addr_limit_new(64, 3, 1000), *small = addr_limit_new(8, 3, 1000);
	struct model m[40] = { { 0 } };
	uint64_t blocked_until[40] = { 0 }, now = 0;
	unsigned int seed = 12345;

	CU_ASSERT_PTR_NOT_NULL_FATAL(big);
	CU_ASSERT_PTR_NOT_NULL_FATAL(small);
	for (int i = 0; i < 200000; i++) {
		unsigned int r = rand_r(&seed), k = r % 40, op = (r >> 8) % 8;
		uint8_t key[6] = { 0xfe, 0x80, 0, 0, 0, (uint8_t)k };

		now += (r >> 12) % 7;
		if (op < 5) {
			bool want, got = addr_limit_take(big, key, sizeof(key), now);
			model_refresh(&m[k], now);
			want = !m[k].blocked;
			if (want && ++m[k].n >= 3) {
				m[k].blocked = true;
				m[k].until = now + 1000;
			}
			CU_ASSERT_EQUAL_FATAL(got, want);
			got = addr_limit_take(small, key, sizeof(key), now);
			if (now < blocked_until[k])
				CU_ASSERT_FALSE_FATAL(got);
			if (got && addr_limit_over(small, key, sizeof(key), now))
				blocked_until[k] = now + 1000;
		} else if (op < 7) {
			addr_limit_refund(big, key, sizeof(key), now);
			if (m[k].seen) {
				model_refresh(&m[k], now);
				if (m[k].n && --m[k].n < 3 && m[k].blocked) {
					m[k].blocked = false;
					m[k].until = m[k].win_end;
				}
			}
			/* a refund on the small table may lift a block: that is its contract */
			addr_limit_refund(small, key, sizeof(key), now);
			if (!addr_limit_over(small, key, sizeof(key), now))
				blocked_until[k] = 0;
		} else {
			bool over = m[k].seen && m[k].blocked && now < m[k].until;
			CU_ASSERT_EQUAL_FATAL(addr_limit_over(big, key, sizeof(key), now), over);
		}
		CU_ASSERT_FATAL(addr_limit_keys(small) <= 8);
	}
	CU_ASSERT_EQUAL(addr_limit_keys(big), 40);
	addr_limit_free(big);
	addr_limit_free(small);
}

static void test_bad_arguments(void)
{
	CU_ASSERT_PTR_NULL(addr_limit_new(0, 1, 1));
	CU_ASSERT_PTR_NULL(addr_limit_new(1, 0, 1));
	CU_ASSERT_PTR_NULL(addr_limit_new(1, 1, 0));
	addr_limit_free(NULL);
}

static const struct unit_test tests[] = {
	{ "addresses that shared a slot are counted apart", test_colliding_addresses },
	{ "a flood of other addresses never forgives an offender", test_flood_does_not_forgive },
	{ "a table full of offenders refuses newcomers and counts them",
		test_table_full_of_offenders },
	{ "when full, the least recently seen non-offender goes", test_eviction_order },
	{ "refunds", test_refund },
	{ "windows and blocks", test_windows },
	{ "60 simultaneous takes let exactly max through", test_burst },
	{ "random workload against a model", test_random_against_model },
	{ "bad arguments", test_bad_arguments },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("addr_limit", tests);
}
