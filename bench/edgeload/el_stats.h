/* edgeload's statistics, free of any back-end so that the unit test links them alone: the
 * log-linear latency histogram, the global pacer and the per-second series. */
#ifndef EDGE_EL_STATS_H
#define EDGE_EL_STATS_H

#include <stdbool.h>
#include <stdint.h>

/* HDR-style histogram of nanoseconds: values below 128 are exact, above each power of two
 * is cut into 64 buckets (1/64 = 1.6% wide; a bucket's midpoint is within 0.8%). Up to 2^36
 * ns (68 s); anything longer lands in the last bucket and is counted in @over. */
#define EL_HIST_SUB_BITS 6
#define EL_HIST_SUB (1u << EL_HIST_SUB_BITS)
#define EL_HIST_MAX_BIT 36
#define EL_HIST_BUCKETS ((EL_HIST_MAX_BIT - EL_HIST_SUB_BITS + 1) * EL_HIST_SUB + EL_HIST_SUB)

struct el_hist {
	uint64_t count, sum, min, max, over;
	uint64_t b[EL_HIST_BUCKETS];
};

void el_hist_reset(struct el_hist *h);
unsigned int el_hist_index(uint64_t v);
/* The lowest and highest value bucket @i holds. */
uint64_t el_hist_bucket_lo(unsigned int i);
uint64_t el_hist_bucket_hi(unsigned int i);

static inline void el_hist_record(struct el_hist *h, uint64_t v)
{
	h->b[el_hist_index(v)]++;
	h->over += (v >> (EL_HIST_MAX_BIT + 1)) != 0;
	h->count++;
	h->sum += v;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

/* The value below which a fraction @q (0..1) of the recorded values lie: the midpoint of
 * the bucket holding it, clamped to [min, max]. 0 when empty. */
uint64_t el_hist_quantile(const struct el_hist *h, double q);
void el_hist_merge(struct el_hist *dst, const struct el_hist *src);

/* The global pacer: one for all allocations, so 100 000 of them cost nothing more than one.
 * Units are what the pattern sends at once (a packet, or a video frame's burst). The target
 * is floor(elapsed * rate); when the loop falls behind by more than @max_lag units it skips
 * the excess (counted) instead of bursting it out. */
struct el_pacer {
	double rate; /* units per second; 0: unpaced (as fast as possible) */
	uint64_t start_ns;
	uint64_t done;	  /* units sent */
	uint64_t skipped; /* units given up after a stall */
	uint64_t max_lag; /* units the loop may catch up at once */
};

/* floor(@elapsed_ns * @rate / 1e9): the pure part, for the tests. */
uint64_t el_pacer_target(uint64_t elapsed_ns, double rate);
void el_pacer_init(struct el_pacer *p, double rate, uint64_t now_ns, uint64_t lag_ns);
/* Units due at @now_ns, at most @max (the caller's batch). Skips beyond max_lag. */
uint64_t el_pacer_due(struct el_pacer *p, uint64_t now_ns, uint64_t max);
static inline void el_pacer_sent(struct el_pacer *p, uint64_t n)
{
	p->done += n;
}
/* Nanoseconds until the next unit is due (0: now). */
uint64_t el_pacer_wait_ns(const struct el_pacer *p, uint64_t now_ns);

/* One second of the run. */
struct el_second {
	double t;      /* seconds since the start of the run */
	uint8_t phase; /* enum el_phase */
	uint64_t tx_pps, rx_pps, lost;
	uint64_t p50_ns, p90_ns, p99_ns, p999_ns;
	uint32_t done; /* allocations (or transactions) complete so far */
};

/* The last EL_SERIES_MAX seconds; older ones are overwritten (and counted in @dropped). */
#define EL_SERIES_MAX 4096

struct el_series {
	struct el_second s[EL_SERIES_MAX];
	uint32_t head, n;
	uint64_t dropped;
};

void el_series_reset(struct el_series *r);
void el_series_push(struct el_series *r, const struct el_second *s);
/* The @i-th oldest second kept (i < r->n). */
const struct el_second *el_series_at(const struct el_series *r, uint32_t i);

#endif
