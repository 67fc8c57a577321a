/* The active speaker selector (controlplane/callbridge/cb_speaker.c): its hysteresis fed with
 * made-up levels every CB_SPEAKER_TICK_MS: the hold time, the floor, the margin, no flapping
 * on alternating bursts, silence, a speaker leaving, calls apart, and media_levels()' sums. */
#include <string.h>

#include "../../controlplane/callbridge/cb_speaker.h"
#include "unit.h"

#define MUTED 1 /* a leg without audio in the sample */
#define TICK CB_SPEAKER_TICK_MS

static struct cb_speaker *sel;
static struct cb_speaker_change chg[8];
static unsigned int n_chg, total_changes;

static struct cb_speaker_sample leg(const char *call, const char *id, int dbov)
{
	struct cb_speaker_sample x;

	memset(&x, 0, sizeof(x));
	strcpy(x.call, call);
	strcpy(x.id, id);
	x.audio = dbov != MUTED;
	x.dbov = x.audio ? dbov : -127;
	return x;
}

/* One sample at @t ms: legs A, B, C of call "X" at the given levels (0 = absent). */
static void abc(uint64_t t, int a, int b, int c)
{
	struct cb_speaker_sample s[3];
	unsigned int n = 0;

	if (a)
		s[n++] = leg("X", "A", a);
	if (b)
		s[n++] = leg("X", "B", b);
	if (c)
		s[n++] = leg("X", "C", c);
	n_chg = cb_speaker_update(sel, s, n, t, chg, 8);
	total_changes += n_chg;
}

static const char *speaker(void)
{
	const char *s = cb_speaker_of(sel, "X");

	return s ? s : "";
}

static void setup(void)
{
	cb_speaker_free(sel);
	sel = cb_speaker_new(16, 64);
	CU_ASSERT_PTR_NOT_NULL_FATAL(sel);
	total_changes = 0;
}

/* Nobody speaks at first; someone loud for the hold time becomes the speaker, once. */
static void test_hold_time(void)
{
	uint64_t t = 1000;

	setup();
	abc(t, -127, -127, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "");
	/* A talks from t+200: qualifies at t+200, t+400, t+600, takes over at t+800 */
	for (int i = 1; i <= 3; i++) {
		abc(t + i * TICK, -30, -127, 0);
		CU_ASSERT_EQUAL(n_chg, 0);
		CU_ASSERT_STRING_EQUAL(speaker(), "");
	}
	abc(t + 4 * TICK, -30, -127, 0);
	CU_ASSERT_EQUAL_FATAL(n_chg, 1);
	CU_ASSERT_STRING_EQUAL(chg[0].call, "X");
	CU_ASSERT_STRING_EQUAL(chg[0].speaker, "A");
	CU_ASSERT_STRING_EQUAL(chg[0].previous, "");
	CU_ASSERT_EQUAL(chg[0].dbov, -30);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
	/* and it stays, without news, while it talks */
	for (int i = 5; i < 50; i++)
		abc(t + i * TICK, -30, -127, 0);
	CU_ASSERT_EQUAL(total_changes, 1);
}

/* Below the floor nobody is chosen, however long. */
static void test_floor(void)
{
	setup();
	for (int i = 0; i < 50; i++)
		abc(i * TICK, CB_SPEAKER_FLOOR_DBOV - 1, -127, -90);
	CU_ASSERT_STRING_EQUAL(speaker(), "");
	CU_ASSERT_EQUAL(total_changes, 0);
	/* at the floor: chosen */
	for (int i = 50; i < 55; i++)
		abc(i * TICK, CB_SPEAKER_FLOOR_DBOV, -127, -90);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
}

/* Louder than the speaker by less than the margin: the speaker stays; by the margin: the
 * other takes over after the hold time. */
static void test_margin(void)
{
	int i = 0;

	setup();
	for (; i < 5; i++)
		abc(i * TICK, -30, -127, 0);
	CU_ASSERT_STRING_EQUAL_FATAL(speaker(), "A");
	for (; i < 60; i++)
		abc(i * TICK, -30, -30 + CB_SPEAKER_MARGIN_DB - 1, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
	CU_ASSERT_EQUAL(total_changes, 1);
	int from = i;
	for (; speaker()[0] == 'A' && i < 100; i++)
		abc(i * TICK, -30, -30 + CB_SPEAKER_MARGIN_DB, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "B");
	/* took the hold time, and no more than a sample beyond it */
	CU_ASSERT((i - 1 - from) * TICK >= CB_SPEAKER_HOLD_MS);
	CU_ASSERT((i - 1 - from) * TICK <= CB_SPEAKER_HOLD_MS + TICK);
	CU_ASSERT_EQUAL_FATAL(n_chg, 1);
	CU_ASSERT_STRING_EQUAL(chg[0].speaker, "B");
	CU_ASSERT_STRING_EQUAL(chg[0].previous, "A");
	CU_ASSERT_EQUAL(total_changes, 2);
}

/* Two people taking turns in bursts shorter than the hold time: no flapping, both from nobody
 * and from a speaker. */
static void test_no_flapping(void)
{
	setup();
	for (int i = 0; i < 100; i++) /* 400 ms each */
		abc(i * TICK, (i / 2) % 2 ? -127 : -25, (i / 2) % 2 ? -25 : -127, -127);
	CU_ASSERT_STRING_EQUAL(speaker(), "");
	CU_ASSERT_EQUAL(total_changes, 0);
	/* C becomes the speaker, then A and B interrupt in 400 ms bursts over its talk */
	for (int i = 100; i < 105; i++)
		abc(i * TICK, -127, -127, -35);
	CU_ASSERT_STRING_EQUAL_FATAL(speaker(), "C");
	for (int i = 105; i < 205; i++)
		abc(i * TICK, (i / 2) % 2 ? -35 : -20, (i / 2) % 2 ? -20 : -35, -35);
	CU_ASSERT_STRING_EQUAL(speaker(), "C");
	CU_ASSERT_EQUAL(total_changes, 1);
	/* a candidate whose run is broken by one sample within the margin starts over */
	abc(205 * TICK, -127, -127, -35);
	abc(206 * TICK, -20, -127, -35);
	abc(207 * TICK, -20, -127, -35);
	abc(208 * TICK, -20, -127, -35);
	abc(209 * TICK, -50, -127, -35);
	abc(210 * TICK, -20, -127, -35);
	abc(211 * TICK, -20, -127, -35);
	abc(212 * TICK, -20, -127, -35);
	CU_ASSERT_STRING_EQUAL(speaker(), "C");
	abc(213 * TICK, -20, -127, -35);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
}

/* The speaker stays through silence and while muted, while nobody else talks. */
static void test_silence(void)
{
	int i = 0;

	setup();
	for (; i < 5; i++)
		abc(i * TICK, -30, -127, 0);
	CU_ASSERT_STRING_EQUAL_FATAL(speaker(), "A");
	for (; i < 100; i++)
		abc(i * TICK, i % 2 ? -127 : MUTED, i < 50 ? -127 : MUTED, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
	/* someone quiet but above the floor beats a muted speaker: once the speaker's packets
	 * have stopped for longer than a gap, and after the hold */
	int from = i;
	for (; speaker()[0] == 'A' && i < 200; i++)
		abc(i * TICK, MUTED, CB_SPEAKER_FLOOR_DBOV + 1, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "B");
	/* A's last packets came at from - 1: B's run starts with the first sample past the gap */
	CU_ASSERT_EQUAL((i - 1 - from) * TICK,
		CB_SPEAKER_GAP_MS / TICK * TICK + CB_SPEAKER_HOLD_MS);
	CU_ASSERT_EQUAL(total_changes, 2);
}

/* A sample without a candidate's packets (delivery in bunches) neither breaks its run nor
 * counts towards it; packets stopped for longer than CB_SPEAKER_GAP_MS do end it. */
static void test_gaps(void)
{
	int i = 0;

	setup();
	for (; i < 5; i++)
		abc(i * TICK, -30, -127, 0);
	CU_ASSERT_STRING_EQUAL_FATAL(speaker(), "A");
	abc(10 * TICK, -30, -20, 0);
	abc(11 * TICK, -30, -20, 0);
	abc(12 * TICK, -30, MUTED, 0);
	CU_ASSERT_EQUAL(n_chg, 0);
	abc(13 * TICK, -30, -20, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "B");
	/* A back, with a gap of three samples (600 ms) in its run: starts over */
	abc(20 * TICK, -20, -127, 0);
	abc(21 * TICK, -20, -127, 0);
	abc(22 * TICK, MUTED, -127, 0);
	abc(23 * TICK, MUTED, -127, 0);
	abc(24 * TICK, MUTED, -127, 0);
	abc(25 * TICK, -20, -127, 0);
	abc(26 * TICK, -20, -127, 0);
	abc(27 * TICK, -20, -127, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "B");
	abc(28 * TICK, -20, -127, 0);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
	CU_ASSERT_EQUAL(total_changes, 3);
}

/* A speaker who leaves is dropped at once; the others' silence chooses nobody. */
static void test_speaker_leaves(void)
{
	int i = 0;

	setup();
	for (; i < 5; i++)
		abc(i * TICK, -127, -30, -127);
	CU_ASSERT_STRING_EQUAL_FATAL(speaker(), "B");
	abc(i++ * TICK, -127, 0, -127);
	CU_ASSERT_EQUAL_FATAL(n_chg, 1);
	CU_ASSERT_STRING_EQUAL(chg[0].speaker, "");
	CU_ASSERT_STRING_EQUAL(chg[0].previous, "B");
	CU_ASSERT_STRING_EQUAL(speaker(), "");
	for (; i < 30; i++)
		abc(i * TICK, -127, 0, -127);
	CU_ASSERT_EQUAL(total_changes, 2);
	/* the next one needs the hold time like the first */
	for (; i < 33; i++)
		abc(i * TICK, -127, 0, -40);
	CU_ASSERT_STRING_EQUAL(speaker(), "");
	abc(i++ * TICK, -127, 0, -40);
	CU_ASSERT_STRING_EQUAL(speaker(), "C");
	/* everyone leaves: the call's news is "nobody", then it is forgotten */
	abc(i++ * TICK, 0, 0, 0);
	CU_ASSERT_EQUAL_FATAL(n_chg, 1);
	CU_ASSERT_STRING_EQUAL(chg[0].speaker, "");
	abc(i++ * TICK, 0, 0, 0);
	CU_ASSERT_EQUAL(n_chg, 0);
	CU_ASSERT_PTR_NULL(cb_speaker_of(sel, "X"));
}

/* Calls choose apart: a loud leg in one does not touch the other's speaker or hold time. */
static void test_calls_apart(void)
{
	struct cb_speaker_sample s[4];
	int x = 0, y = 0;

	setup();
	for (int i = 0; i < 20; i++) {
		/* call X: A from the start; call Y: D from 1 s on, E (louder than anyone in X) */
		s[0] = leg("X", "A", -30);
		s[1] = leg("X", "B", -127);
		s[2] = leg("Y", "D", i >= 5 ? -40 : -127);
		s[3] = leg("Y", "E", i >= 12 ? -10 : MUTED);
		n_chg = cb_speaker_update(sel, s, 4, i * TICK, chg, 8);
		for (unsigned int k = 0; k < n_chg; k++) {
			if (!strcmp(chg[k].call, "X")) {
				CU_ASSERT_STRING_EQUAL(chg[k].speaker, "A");
				CU_ASSERT_EQUAL(i, 3);
				x++;
			} else {
				CU_ASSERT_STRING_EQUAL(chg[k].call, "Y");
				CU_ASSERT_STRING_EQUAL(chg[k].speaker, y ? "E" : "D");
				CU_ASSERT_EQUAL(i, y ? 15 : 8);
				y++;
			}
		}
	}
	CU_ASSERT_EQUAL(x, 1);
	CU_ASSERT_EQUAL(y, 2);
	CU_ASSERT_STRING_EQUAL(cb_speaker_of(sel, "X"), "A");
	CU_ASSERT_STRING_EQUAL(cb_speaker_of(sel, "Y"), "E");
	/* and changes that do not fit the caller's room are told on the next update */
	s[0] = leg("X", "A", -127);
	s[1] = leg("X", "B", -127);
	s[2] = leg("Y", "D", -127);
	s[3] = leg("Y", "E", -127);
	CU_ASSERT_EQUAL(cb_speaker_update(sel, s + 1, 1, 20 * TICK, chg, 1), 1);
	CU_ASSERT_EQUAL(cb_speaker_update(sel, s + 1, 1, 21 * TICK, chg, 1), 1);
	CU_ASSERT_EQUAL(cb_speaker_update(sel, s + 1, 1, 22 * TICK, chg, 1), 0);
}

/* From media_levels()' running sums: the mean since the last sample; no new packets is no
 * audio; a leg's first appearance has no audio yet. */
static void test_levels(void)
{
	struct media_level lv[2];
	int dbov = 0;

	setup();
	memset(lv, 0, sizeof(lv));
	strcpy(lv[0].id, "A");
	strcpy(lv[0].call, "X");
	strcpy(lv[1].id, "B");
	strcpy(lv[1].call, "X");
	lv[0].sum = 5000, lv[0].pkts = 100;
	lv[1].sum = 0, lv[1].pkts = 100;
	cb_speaker_levels(sel, lv, 2, 0, chg, 8);
	CU_ASSERT(!cb_speaker_level_of(sel, "A", &dbov));
	uint64_t t = 0;
	for (int i = 0; i < 5; i++) {
		/* A: ten packets at -30 dBov (97 above -127); B: ten of silence */
		lv[0].sum += 10 * 97, lv[0].pkts += 10;
		lv[1].pkts += 10;
		n_chg = cb_speaker_levels(sel, lv, 2, t += TICK, chg, 8);
	}
	CU_ASSERT(cb_speaker_level_of(sel, "A", &dbov));
	CU_ASSERT_EQUAL(dbov, -30);
	CU_ASSERT(cb_speaker_level_of(sel, "B", &dbov));
	CU_ASSERT_EQUAL(dbov, -127);
	CU_ASSERT_STRING_EQUAL(speaker(), "A");
	/* A mutes (no packets); B is the order of the list swapped */
	struct media_level sw[2] = { lv[1], lv[0] };
	sw[0].sum += 5 * 100 + 5 * 80, sw[0].pkts += 10; /* mean 90: -37 dBov */
	cb_speaker_levels(sel, sw, 2, t += TICK, chg, 8);
	CU_ASSERT(!cb_speaker_level_of(sel, "A", &dbov));
	CU_ASSERT(cb_speaker_level_of(sel, "B", &dbov));
	CU_ASSERT_EQUAL(dbov, -37);
}

int main(void)
{
	static const struct unit_test tests[] = {
		{ "hold time", test_hold_time },
		{ "floor", test_floor },
		{ "margin", test_margin },
		{ "no flapping", test_no_flapping },
		{ "silence and mute", test_silence },
		{ "gaps in the packets", test_gaps },
		{ "speaker leaves", test_speaker_leaves },
		{ "calls apart", test_calls_apart },
		{ "levels from sums", test_levels },
		{ NULL, NULL },
	};
	int rc = unit_run("cb_speaker", tests);

	cb_speaker_free(sel);
	return rc;
}
