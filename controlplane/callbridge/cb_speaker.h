/* The active speaker of each call: who the web app highlights. Pure (no I/O, no clock of its
 * own): the callbridge feeds it the media server's audio levels (media_levels(), RFC 6464)
 * every CB_SPEAKER_TICK_MS and tells a call's guests when its speaker changes; the unit test
 * feeds it made-up levels and times.
 *
 * The rule, per call: the loudest leg replaces the current speaker only when it is above
 * CB_SPEAKER_FLOOR_DBOV and at least CB_SPEAKER_MARGIN_DB louder than the current one in
 * every sample for CB_SPEAKER_HOLD_MS (a short gap in its packets neither counts nor breaks
 * the run, CB_SPEAKER_GAP_MS); otherwise the current speaker stays (through pauses and a muted
 * microphone too); a speaker whose leg is gone is dropped at once. The hysteresis is what
 * keeps the highlight (and the log line and message per change) from flapping. */
#ifndef EDGE_CB_SPEAKER_H
#define EDGE_CB_SPEAKER_H

#include <stdbool.h>
#include <stdint.h>

#include "media.h"

/* How often cb.c samples: a 200 ms mean is ten 20 ms Opus packets, short enough that a switch
 * takes under a second, long enough that one loud packet does not decide. */
#define CB_SPEAKER_TICK_MS 200

/* Loud enough to be speaking, as a mean over a sample. The mean is of levels in dB, and the
 * pauses between words count as silence (-127 dBov) unless DTX drops them: speech at a usual
 * -25 dBov for half the sample averages -76, for three quarters -50; a microphone left open
 * on a quiet room is at -80 or below, a disabled track at -127 (in the lab, a guest whose
 * echo canceller was removing the others' voices from it sat at -60..-70). -55 needs speech
 * through about 70% of the sample. */
#define CB_SPEAKER_FLOOR_DBOV (-55)

/* How much louder than the current speaker a candidate must be: 6 dB is twice the amplitude,
 * clearly someone else talking over them, not two people at about the same level taking turns
 * at being a little louder (which would flap every sample). */
#define CB_SPEAKER_MARGIN_DB 6

/* How long a candidate must qualify, in every sample, before it takes over: longer than a
 * word or a cough or a "mm-hm" (200-500 ms), short enough to follow a conversation. */
#define CB_SPEAKER_HOLD_MS 600

/* How long a candidate's run survives samples in which no packet of it came (not silence:
 * a muted track sends packets at -127 dBov): under load the browser and the data path deliver
 * in bunches, and a 200 ms sample now and then has none; a longer gap is a pause. */
#define CB_SPEAKER_GAP_MS 500

/* One leg's loudness over the last sample. */
struct cb_speaker_sample {
	char id[MEDIA_ID_LEN];	 /* the call leg */
	char call[MEDIA_ID_LEN]; /* its call */
	bool audio;		 /* false: no level came (muted, or no packets) */
	int dbov;		 /* the mean level, -127 (silence) .. 0; with audio only */
};

/* A call whose active speaker changed. */
struct cb_speaker_change {
	char call[MEDIA_ID_LEN];
	char speaker[MEDIA_ID_LEN];  /* the new one; "" = nobody (the speaker left) */
	char previous[MEDIA_ID_LEN]; /* "" = nobody */
	int dbov;		     /* the new speaker's level in the deciding sample */
};

struct cb_speaker;

/* A selector for at most @max_calls calls and @max_legs legs (what media_levels() can return);
 * NULL: out of memory. */
struct cb_speaker *cb_speaker_new(unsigned int max_calls, unsigned int max_legs);
void cb_speaker_free(struct cb_speaker *s);

/* One sample of every leg that sends audio (a leg not in it has left), taken at @now_ms
 * (any monotonic clock): the calls whose speaker changed since they were last reported go
 * into @out (at most @max; the rest on a later call). Returns how many. */
unsigned int cb_speaker_update(struct cb_speaker *s, const struct cb_speaker_sample *smp,
	unsigned int n, uint64_t now_ms, struct cb_speaker_change *out, unsigned int max);

/* The same from media_levels()' running sums: each leg's mean level since the previous call
 * (a leg seen for the first time has no audio yet), then cb_speaker_update(). @n at most
 * @max_legs: more are ignored. */
unsigned int cb_speaker_levels(struct cb_speaker *s, const struct media_level *lv, unsigned int n,
	uint64_t now_ms, struct cb_speaker_change *out, unsigned int max);

/* Call @call's active speaker (a leg id), or NULL: none yet (or no selector, @s NULL). */
const char *cb_speaker_of(const struct cb_speaker *s, const char *call);

/* The last sample's level of leg @id: true and *dbov set if it had audio (for the log and
 * `show`-style figures). */
bool cb_speaker_level_of(const struct cb_speaker *s, const char *id, int *dbov);

#endif
