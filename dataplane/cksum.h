/* Internet checksum helpers for the fast path. The IPv4 header without options is five
 * 32-bit words: summing them in 64 bits and folding costs a handful of instructions, a
 * fraction of the generic byte-range loop. Sums are of the words as they lie in memory. */
#ifndef EDGE_CKSUM_H
#define EDGE_CKSUM_H

#include <stdint.h>
#include <string.h>

static inline uint16_t cksum_fold64(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ones' complement sum of an IPv4 header of @ihl bytes (20..60, a multiple of 4). */
static inline uint16_t cksum_ipv4_sum(const void *hdr, unsigned int ihl)
{
	const uint8_t *p = hdr;
	uint64_t s = 0;
	uint32_t w[5];

	if (__builtin_expect(ihl == 20, 1)) {	/* no options: five loads, four adds */
		memcpy(w, p, 20);
		return cksum_fold64((uint64_t)w[0] + w[1] + w[2] + w[3] + w[4]);
	}
	for (unsigned int i = 0; i < ihl; i += 4) {
		memcpy(&w[0], p + i, 4);
		s += w[0];
	}
	return cksum_fold64(s);
}

/* True when the header's checksum is right. */
static inline int cksum_ipv4_ok(const void *hdr, unsigned int ihl)
{
	return cksum_ipv4_sum(hdr, ihl) == 0xffff;
}

/* The checksum to store in a 20-byte header whose checksum field is zero. */
static inline uint16_t cksum_ipv4_20(const void *hdr)
{
	return (uint16_t)~cksum_ipv4_sum(hdr, 20);
}

#endif
