/* EVEN-PORT reservations: tokens held 30 s and their ports handed back when they expire, a
 * full table that refuses instead of overwriting, tokens used once and only by their user. */
#include <errno.h>
#include <string.h>

#include "turn_resv.h"
#include "unit.h"

static unsigned char released[65536]; /* times each port was handed back */

static void release(void *ctx, uint16_t port)
{
	(void)ctx;
	released[port]++;
}

static void test_take_once_by_its_user(void)
{
	struct turn_resv_table t = { 0 };
	uint8_t tok[TURN_RESV_TOKEN_LEN], zero[TURN_RESV_TOKEN_LEN] = { 0 };

	CU_ASSERT_EQUAL_FATAL(turn_resv_add(&t, 50001, "alice", 1000, tok), 0);
	CU_ASSERT(memcmp(tok, zero, sizeof(tok)) != 0);
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok, "mallory", 2000), -EACCES); /* another user's */
	CU_ASSERT_EQUAL(turn_resv_take(&t, zero, "alice", 2000), -ENOENT);  /* not a token */
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok, "alice", 2000), 50001);
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok, "alice", 2000), -ENOENT); /* once */
	CU_ASSERT_EQUAL(t.n, 0);
	/* used, it is the allocation's port: expiry must not hand it back */
	CU_ASSERT_EQUAL(turn_resv_expire(&t, 1000000, release, NULL), 0);
	CU_ASSERT_EQUAL(released[50001], 0);
}

static void test_expiry_releases_the_port(void)
{
	struct turn_resv_table t = { 0 };
	uint8_t tok[TURN_RESV_TOKEN_LEN];

	CU_ASSERT_EQUAL_FATAL(turn_resv_add(&t, 50003, "alice", 1000, tok), 0);
	CU_ASSERT_EQUAL(turn_resv_expire(&t, 1000 + TURN_RESV_LIFETIME_MS - 1, release, NULL), 0);
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok, "alice", 1000 + TURN_RESV_LIFETIME_MS), -ENOENT);
	CU_ASSERT_EQUAL(released[50003], 0); /* the tick reaps it, once */
	CU_ASSERT_EQUAL(turn_resv_expire(&t, 1000 + TURN_RESV_LIFETIME_MS, release, NULL), 1);
	CU_ASSERT_EQUAL(released[50003], 1);
	CU_ASSERT_EQUAL(turn_resv_expire(&t, 5000000, release, NULL), 0);
	CU_ASSERT_EQUAL(released[50003], 1);
	CU_ASSERT_EQUAL(t.n, 0);
}

static void test_full_table_refuses(void)
{
	struct turn_resv_table t = { 0 };
	uint8_t tok[TURN_RESV_MAX][TURN_RESV_TOKEN_LEN], extra[TURN_RESV_TOKEN_LEN];

	for (int i = 0; i < TURN_RESV_MAX; i++)
		CU_ASSERT_EQUAL_FATAL(turn_resv_add(&t, (uint16_t)(51001 + 2 * i), "alice",
					      1000 + i, tok[i]),
			0);
	CU_ASSERT_EQUAL(turn_resv_add(&t, 53001, "bob", 2000, extra), -ENOSPC);
	/* every token still names its own port: nothing was written over */
	for (int i = 0; i < TURN_RESV_MAX; i++)
		for (int k = 0; k < i; k++)
			CU_ASSERT(memcmp(tok[i], tok[k], TURN_RESV_TOKEN_LEN) != 0);
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok[0], "alice", 3000), 51001);
	CU_ASSERT_EQUAL(turn_resv_add(&t, 53001, "bob", 3000, extra), 0); /* a freed entry */
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok[TURN_RESV_MAX - 1], "alice", 3000),
		51001 + 2 * (TURN_RESV_MAX - 1));
	CU_ASSERT_EQUAL(turn_resv_take(&t, extra, "bob", 3000), 53001);
	/* the rest expire and every port comes back */
	CU_ASSERT_EQUAL(turn_resv_expire(&t, 1000000, release, NULL), TURN_RESV_MAX - 2);
	for (int i = 1; i < TURN_RESV_MAX - 1; i++)
		CU_ASSERT_EQUAL(released[51001 + 2 * i], 1);
	CU_ASSERT_EQUAL(t.n, 0);
}

static void test_clear(void)
{
	struct turn_resv_table t = { 0 };
	uint8_t tok[TURN_RESV_TOKEN_LEN];

	CU_ASSERT_EQUAL_FATAL(turn_resv_add(&t, 54001, "alice", 1000, tok), 0);
	CU_ASSERT_EQUAL_FATAL(turn_resv_add(&t, 54003, "alice", 1000, tok), 0);
	turn_resv_clear(&t, release, NULL);
	CU_ASSERT_EQUAL(released[54001], 1);
	CU_ASSERT_EQUAL(released[54003], 1);
	CU_ASSERT_EQUAL(t.n, 0);
	CU_ASSERT_EQUAL(turn_resv_take(&t, tok, "alice", 1000), -ENOENT);
}

static const struct unit_test tests[] = {
	{ "a token is used once, and only by the user that got it", test_take_once_by_its_user },
	{ "an expired reservation is refused and its port handed back once",
		test_expiry_releases_the_port },
	{ "a full table refuses a new reservation, overwrites none", test_full_table_refuses },
	{ "clearing hands every port back", test_clear },
	{ NULL, NULL },
};

int main(void)
{
	return unit_run("turn_resv", tests);
}
