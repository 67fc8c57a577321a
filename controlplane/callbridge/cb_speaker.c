/* The active speaker of each call, chosen with hysteresis from the legs' audio levels (see
 * cb_speaker.h for the rule and its constants). One thread (the callbridge's) owns it. */
#include <stdlib.h>
#include <string.h>

#include "cb_speaker.h"

/* One call's choice. @speaker is the current choice, @told what the guests were last told:
 * they differ until the change fits in an update's @out. */
struct speaker_call {
	char call[MEDIA_ID_LEN];
	char speaker[MEDIA_ID_LEN];   /* "" = nobody */
	char told[MEDIA_ID_LEN];      /* "" = nobody */
	char candidate[MEDIA_ID_LEN]; /* "" = nobody qualifies now */
	uint64_t candidate_since_ms;  /* its first qualifying sample */
	uint64_t candidate_last_ms;   /* its last one */
	uint64_t speaker_audio_ms;    /* the speaker's last sample with packets */
	int dbov;		      /* the speaker's level when chosen */
	bool seen;		      /* scratch: the sample had a leg of it */
};

struct cb_speaker {
	unsigned int max_calls, n_calls;
	struct speaker_call *calls;
	unsigned int max_legs;
	struct media_level *prev; /* cb_speaker_levels()' previous sums */
	unsigned int n_prev;
	struct cb_speaker_sample *smp; /* the last sample (cb_speaker_levels()' or a copy) */
	unsigned int n_smp;
};

struct cb_speaker *cb_speaker_new(unsigned int max_calls, unsigned int max_legs)
{
	struct cb_speaker *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->max_calls = max_calls;
	s->max_legs = max_legs;
	s->calls = calloc(max_calls ? max_calls : 1, sizeof(*s->calls));
	s->prev = calloc(max_legs ? max_legs : 1, sizeof(*s->prev));
	s->smp = calloc(max_legs ? max_legs : 1, sizeof(*s->smp));
	if (!s->calls || !s->prev || !s->smp) {
		cb_speaker_free(s);
		return NULL;
	}
	return s;
}

void cb_speaker_free(struct cb_speaker *s)
{
	if (!s)
		return;
	free(s->calls);
	free(s->prev);
	free(s->smp);
	free(s);
}

static struct speaker_call *call_find(struct cb_speaker *s, const char *call)
{
	for (unsigned int i = 0; i < s->n_calls; i++)
		if (!strcmp(s->calls[i].call, call))
			return &s->calls[i];
	return NULL;
}

static void set_id(char *dst, const char *src)
{
	size_t n = strnlen(src, MEDIA_ID_LEN - 1);

	memmove(dst, src, n);
	dst[n] = '\0';
}

/* One call's sample: drop a speaker that left, then let the loudest leg take over if it has
 * qualified for CB_SPEAKER_HOLD_MS. */
static void call_update(struct speaker_call *c, const struct cb_speaker_sample *smp, unsigned int n,
	uint64_t now_ms)
{
	const struct cb_speaker_sample *cur = NULL, *loud = NULL, *cand = NULL;
	int cur_dbov;

	for (unsigned int i = 0; i < n; i++) {
		if (strcmp(smp[i].call, c->call))
			continue;
		c->seen = true;
		if (c->speaker[0] && !strcmp(smp[i].id, c->speaker))
			cur = &smp[i];
		if (c->candidate[0] && !strcmp(smp[i].id, c->candidate))
			cand = &smp[i];
		if (smp[i].audio && smp[i].dbov >= CB_SPEAKER_FLOOR_DBOV &&
			(!loud || smp[i].dbov > loud->dbov))
			loud = &smp[i];
	}
	if (c->speaker[0] && !cur)
		c->speaker[0] = '\0'; /* left: nobody is shown speaking for someone gone */
	/* a gap in the packets of the candidate or the speaker: the run neither grows nor ends */
	if (cand && !cand->audio && now_ms - c->candidate_last_ms <= CB_SPEAKER_GAP_MS)
		return;
	if (cur && cur->audio)
		c->speaker_audio_ms = now_ms;
	else if (cur && now_ms - c->speaker_audio_ms <= CB_SPEAKER_GAP_MS)
		return;
	/* a silent or muted speaker is as loud as silence: anyone above the floor beats it */
	cur_dbov = cur && cur->audio ? cur->dbov : -127;
	if (!loud || loud == cur || (cur && loud->dbov < cur_dbov + CB_SPEAKER_MARGIN_DB)) {
		c->candidate[0] = '\0';
		return;
	}
	if (strcmp(c->candidate, loud->id)) {
		/* a new candidate (or another one louder than the last): its time starts now */
		set_id(c->candidate, loud->id);
		c->candidate_since_ms = now_ms;
	}
	c->candidate_last_ms = now_ms;
	if (now_ms - c->candidate_since_ms >= CB_SPEAKER_HOLD_MS) {
		set_id(c->speaker, loud->id);
		c->dbov = loud->dbov;
		c->speaker_audio_ms = now_ms;
		c->candidate[0] = '\0';
	}
}

unsigned int cb_speaker_update(struct cb_speaker *s, const struct cb_speaker_sample *smp,
	unsigned int n, uint64_t now_ms, struct cb_speaker_change *out, unsigned int max)
{
	unsigned int k = 0;

	if (n > s->max_legs)
		n = s->max_legs;
	if (smp != s->smp)
		memcpy(s->smp, smp, n * sizeof(*smp));
	s->n_smp = n;
	smp = s->smp;
	/* calls new in this sample (beyond max_calls: not followed, nobody highlighted there) */
	for (unsigned int i = 0; i < n; i++)
		if (!call_find(s, smp[i].call) && s->n_calls < s->max_calls) {
			struct speaker_call *c = &s->calls[s->n_calls++];
			memset(c, 0, sizeof(*c));
			set_id(c->call, smp[i].call);
		}
	for (unsigned int i = 0; i < s->n_calls; i++) {
		struct speaker_call *c = &s->calls[i];
		c->seen = false;
		call_update(c, smp, n, now_ms);
		if (!c->seen)
			c->speaker[0] = c->candidate[0] = '\0'; /* the call is gone */
	}
	for (unsigned int i = 0; i < s->n_calls && k < max; i++) {
		struct speaker_call *c = &s->calls[i];
		if (!strcmp(c->speaker, c->told))
			continue;
		set_id(out[k].call, c->call);
		set_id(out[k].speaker, c->speaker);
		set_id(out[k].previous, c->told);
		out[k].dbov = c->speaker[0] ? c->dbov : -127;
		set_id(c->told, c->speaker);
		k++;
	}
	/* a call without legs whose guests know that is forgotten (its slot goes to the last) */
	for (unsigned int i = 0; i < s->n_calls;) {
		struct speaker_call *c = &s->calls[i];
		if (!c->seen && !c->told[0])
			*c = s->calls[--s->n_calls];
		else
			i++;
	}
	return k;
}

static const struct media_level *prev_find(const struct cb_speaker *s, unsigned int hint,
	const char *id)
{
	/* media_levels() lists legs in slot order: mostly where they were last time */
	if (hint < s->n_prev && !strcmp(s->prev[hint].id, id))
		return &s->prev[hint];
	for (unsigned int i = 0; i < s->n_prev; i++)
		if (!strcmp(s->prev[i].id, id))
			return &s->prev[i];
	return NULL;
}

unsigned int cb_speaker_levels(struct cb_speaker *s, const struct media_level *lv, unsigned int n,
	uint64_t now_ms, struct cb_speaker_change *out, unsigned int max)
{
	if (n > s->max_legs)
		n = s->max_legs;
	for (unsigned int i = 0; i < n; i++) {
		const struct media_level *p = prev_find(s, i, lv[i].id);
		struct cb_speaker_sample *x = &s->smp[i];

		set_id(x->id, lv[i].id);
		set_id(x->call, lv[i].call);
		x->audio = p && lv[i].pkts > p->pkts && lv[i].sum >= p->sum;
		x->dbov = -127;
		if (x->audio) {
			uint64_t dp = lv[i].pkts - p->pkts, ds = lv[i].sum - p->sum;
			uint64_t mean = (ds + dp / 2) / dp; /* dB above -127 dBov */
			x->dbov = mean > 127 ? 0 : (int)mean - 127;
		}
	}
	memcpy(s->prev, lv, n * sizeof(*lv));
	s->n_prev = n;
	return cb_speaker_update(s, s->smp, n, now_ms, out, max);
}

const char *cb_speaker_of(const struct cb_speaker *s, const char *call)
{
	if (!s)
		return NULL;
	for (unsigned int i = 0; i < s->n_calls; i++)
		if (!strcmp(s->calls[i].call, call))
			return s->calls[i].speaker[0] ? s->calls[i].speaker : NULL;
	return NULL;
}

bool cb_speaker_level_of(const struct cb_speaker *s, const char *id, int *dbov)
{
	if (!s)
		return false;
	for (unsigned int i = 0; i < s->n_smp; i++)
		if (!strcmp(s->smp[i].id, id)) {
			if (s->smp[i].audio)
				*dbov = s->smp[i].dbov;
			return s->smp[i].audio;
		}
	return false;
}
