/* The transport-cc feedback encoder (twcc.h): statuses as run-length chunks where a run is
 * long, else status vector chunks (14 one-bit symbols when they need no large delta, else
 * 7 two-bit ones), then the receive deltas, padded to 32 bits as RFC 3550 pads. */
#include <errno.h>
#include <string.h>

#include "twcc.h"

enum { ST_LOST = 0, ST_SMALL = 1, ST_LARGE = 2 };

#define RUN_MIN 7    /* shorter runs go in a vector chunk */
#define RUN_MAX 8191 /* 13 bits */

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

/* floor(@us / @unit) for any sign: arrival clocks start anywhere */
static int64_t floordiv(int64_t us, int64_t unit)
{
	int64_t q = us / unit;

	return q * unit > us ? q - 1 : q;
}

int twcc_build(uint8_t *out, size_t cap, uint32_t sender_ssrc, uint32_t media_ssrc, uint16_t base,
	const int64_t *arrival_us, unsigned int n, uint8_t fb_count, unsigned int *covered)
{
	uint8_t st[TWCC_WINDOW];
	int16_t delta[TWCC_WINDOW];
	unsigned int f = 0, m, len, i;
	int64_t ref, prev;

	*covered = 0;
	if (!out || !arrival_us || n == 0 || n > TWCC_WINDOW)
		return -EINVAL;
	while (f < n && arrival_us[f] == TWCC_LOST)
		f++;
	if (f == n) {
		*covered = n;
		return 0;
	}
	ref = floordiv(arrival_us[f], 64000); /* 64 ms units */
	prev = ref * 256;		      /* in 250 us units */
	for (m = 0; m < n; m++) {
		int64_t t, d;

		if (arrival_us[m] == TWCC_LOST) {
			st[m] = ST_LOST;
			continue;
		}
		t = floordiv(arrival_us[m], 250);
		d = t - prev;
		if (d < INT16_MIN || d > INT16_MAX)
			break; /* the next feedback starts here */
		st[m] = d >= 0 && d <= 255 ? ST_SMALL : ST_LARGE;
		delta[m] = (int16_t)d;
		prev = t;
	}
	/* m >= f + 1: the first arrival's delta is below 256 */
	if (cap < TWCC_FB_MAX(m))
		return -ENOSPC;
	out[0] = 0x80 | 15; /* V=2, FMT=15 */
	out[1] = 205;	    /* RTPFB */
	put32(out + 4, sender_ssrc);
	put32(out + 8, media_ssrc);
	put16(out + 12, base);
	put16(out + 14, (uint16_t)m);
	put32(out + 16, (uint32_t)(ref & 0xffffff) << 8 | fb_count);
	len = 20;
	for (i = 0; i < m;) {
		unsigned int run = 1, k, one_bit = 1;

		while (i + run < m && run < RUN_MAX && st[i + run] == st[i])
			run++;
		if (run >= RUN_MIN || i + run == m) {
			put16(out + len, (uint16_t)(st[i] << 13 | run));
			len += 2;
			i += run;
			continue;
		}
		for (k = 0; k < 14 && i + k < m; k++)
			one_bit &= st[i + k] != ST_LARGE;
		uint16_t c = 0x8000;

		if (one_bit) {
			for (k = 0; k < 14 && i < m; k++, i++)
				c |= (uint16_t)(st[i] << (13 - k));
		} else {
			c |= 0x4000;
			for (k = 0; k < 7 && i < m; k++, i++)
				c |= (uint16_t)(st[i] << (12 - 2 * k));
		}
		put16(out + len, c);
		len += 2;
	}
	for (i = 0; i < m; i++) {
		if (st[i] == ST_SMALL) {
			out[len++] = (uint8_t)delta[i];
		} else if (st[i] == ST_LARGE) {
			put16(out + len, (uint16_t)delta[i]);
			len += 2;
		}
	}
	if (len % 4) { /* RFC 3550 padding: zeros, the last byte their count, P set */
		unsigned int pad = 4 - len % 4;

		memset(out + len, 0, pad);
		len += pad;
		out[len - 1] = (uint8_t)pad;
		out[0] |= 0x20;
	}
	put16(out + 2, (uint16_t)(len / 4 - 1));
	*covered = m;
	return (int)len;
}
