/* edgeload's statistics: the latency histogram, the pacer and the per-second series (see
 * el_stats.h). Nothing here allocates or talks to the network. */
#include <string.h>
#include <time.h>

#include "el.h"
#include "el_stats.h"

uint64_t el_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void el_hist_reset(struct el_hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min = UINT64_MAX;
}

/* Values below 2*SUB map to themselves; above, the top SUB_BITS+1 bits pick the bucket. */
unsigned int el_hist_index(uint64_t v)
{
	unsigned int msb, shift;

	if (v < 2 * EL_HIST_SUB)
		return (unsigned int)v;
	msb = 63 - (unsigned int)__builtin_clzll(v);
	if (msb > EL_HIST_MAX_BIT)
		return EL_HIST_BUCKETS - 1;
	shift = msb - EL_HIST_SUB_BITS;
	return (shift + 1) * EL_HIST_SUB + (unsigned int)(v >> shift) - EL_HIST_SUB;
}

uint64_t el_hist_bucket_lo(unsigned int i)
{
	unsigned int shift;

	if (i < 2 * EL_HIST_SUB)
		return i;
	shift = i / EL_HIST_SUB - 1;
	return (uint64_t)(i % EL_HIST_SUB + EL_HIST_SUB) << shift;
}

uint64_t el_hist_bucket_hi(unsigned int i)
{
	if (i + 1 >= EL_HIST_BUCKETS)
		return UINT64_MAX;
	return el_hist_bucket_lo(i + 1) - 1;
}

uint64_t el_hist_quantile(const struct el_hist *h, double q)
{
	uint64_t rank, seen = 0, v;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return h->min;
	if (q >= 1)
		return h->max;
	rank = (uint64_t)(q * (double)h->count + 0.5);
	if (rank == 0)
		rank = 1;
	for (unsigned int i = 0; i < EL_HIST_BUCKETS; i++) {
		seen += h->b[i];
		if (seen < rank)
			continue;
		if (i + 1 >= EL_HIST_BUCKETS)
			return h->max;
		v = el_hist_bucket_lo(i) + (el_hist_bucket_hi(i) - el_hist_bucket_lo(i)) / 2;
		return v < h->min ? h->min : v > h->max ? h->max : v;
	}
	return h->max;
}

void el_hist_merge(struct el_hist *dst, const struct el_hist *src)
{
	if (src->count == 0)
		return;
	for (unsigned int i = 0; i < EL_HIST_BUCKETS; i++)
		dst->b[i] += src->b[i];
	dst->count += src->count;
	dst->sum += src->sum;
	dst->over += src->over;
	if (src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
}

uint64_t el_pacer_target(uint64_t elapsed_ns, double rate)
{
	/* long double keeps 64 bits of mantissa: exact for a day at 100 M units/s */
	return (uint64_t)((long double)elapsed_ns * (long double)rate / 1e9L);
}

void el_pacer_init(struct el_pacer *p, double rate, uint64_t now_ns, uint64_t lag_ns)
{
	memset(p, 0, sizeof(*p));
	p->rate = rate;
	p->start_ns = now_ns;
	p->max_lag = el_pacer_target(lag_ns, rate);
	if (p->max_lag < 1)
		p->max_lag = 1;
}

uint64_t el_pacer_due(struct el_pacer *p, uint64_t now_ns, uint64_t max)
{
	uint64_t target, behind;

	if (p->rate <= 0)
		return max;
	target = el_pacer_target(now_ns > p->start_ns ? now_ns - p->start_ns : 0, p->rate);
	if (target <= p->done + p->skipped)
		return 0;
	behind = target - p->done - p->skipped;
	if (behind > p->max_lag) {
		p->skipped += behind - p->max_lag;
		behind = p->max_lag;
	}
	return behind < max ? behind : max;
}

uint64_t el_pacer_wait_ns(const struct el_pacer *p, uint64_t now_ns)
{
	uint64_t next = p->done + p->skipped + 1, at;

	if (p->rate <= 0)
		return 0;
	at = p->start_ns + (uint64_t)((long double)next * 1e9L / (long double)p->rate);
	return at > now_ns ? at - now_ns : 0;
}

void el_series_reset(struct el_series *r)
{
	r->head = r->n = 0;
	r->dropped = 0;
}

void el_series_push(struct el_series *r, const struct el_second *s)
{
	r->s[(r->head + r->n) % EL_SERIES_MAX] = *s;
	if (r->n < EL_SERIES_MAX) {
		r->n++;
		return;
	}
	r->head = (r->head + 1) % EL_SERIES_MAX;
	r->dropped++;
}

const struct el_second *el_series_at(const struct el_series *r, uint32_t i)
{
	return &r->s[(r->head + i) % EL_SERIES_MAX];
}
