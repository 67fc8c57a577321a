/* Internet checksum helpers for the fast path, the one place they are written: IPv4 header
 * checksums made and checked, UDP and ICMP checksums patched incrementally (RFC 1624), the
 * IPv6 pseudo-header summed. The IPv4 header without options is five 32-bit words: summing
 * them in 64 bits and folding costs a handful of instructions, a fraction of the generic
 * byte-range loop. Sums are of the words as they lie in memory. All static inline: they
 * compile into the stage. */
#ifndef EDGE_CKSUM_H
#define EDGE_CKSUM_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <rte_byteorder.h>
#include <rte_ip.h>

static inline uint16_t cksum_fold64(uint64_t s)
{
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffffffff) + (s >> 32);
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (uint16_t)s;
}

/* Ones' complement sum of one IPv6 address's words as in memory: two 64-bit adds with the
 * carry added back (end-around carry), one fold. */
static inline uint32_t cksum_ip6(const uint8_t a[16])
{
	uint64_t w[2], s;

	memcpy(w, a, 16);
	s = w[0] + w[1];
	s += s < w[1];
	return cksum_fold64(s);
}

/* The same of two addresses (a pseudo-header's): four 64-bit adds, one fold. */
static inline uint32_t cksum_ip6x2(const uint8_t a[16], const uint8_t b[16])
{
	uint64_t w[4], s, t;

	memcpy(w, a, 16);
	memcpy(w + 2, b, 16);
	s = w[0] + w[1];
	s += s < w[1];
	t = w[2] + w[3];
	t += t < w[3];
	s += t;
	s += s < t;
	return cksum_fold64(s);
}

/* Ones' complement sum of an IPv4 header of @ihl bytes (20..60, a multiple of 4). */
static inline uint16_t cksum_ipv4_sum(const void *hdr, unsigned int ihl)
{
	const uint8_t *p = hdr;
	uint64_t s = 0;
	uint32_t w;

	if (__builtin_expect(ihl == 20, 1)) {
		/* no options: three loads straight into registers (a 20-byte memcpy to an array
		 * went through the stack) */
		uint64_t a, b;

		memcpy(&a, p, 8);
		memcpy(&b, p + 8, 8);
		memcpy(&w, p + 16, 4);
		return cksum_fold64(
			(a & 0xffffffff) + (a >> 32) + (b & 0xffffffff) + (b >> 32) + w);
	}
	for (unsigned int i = 0; i < ihl; i += 4) {
		memcpy(&w, p + i, 4);
		s += w;
	}
	return cksum_fold64(s);
}

/* True when the header's checksum is right. */
static inline int cksum_ipv4_ok(const void *hdr, unsigned int ihl)
{
	return cksum_ipv4_sum(hdr, ihl) == 0xffff;
}

/* The checksum of a 20-byte header written with version 4, TOS 0, ID 0, no fragment bits and
 * these values (network order, as stored), computed from the values themselves: reading back
 * a header just written by narrower stores defeats store-to-load forwarding and stalls (11 ns
 * of the relay's 87 a packet, bench/results/relay.md). */
static inline uint16_t cksum_ipv4_20_of(uint8_t ttl, uint8_t proto, rte_be16_t total_len,
	uint32_t src, uint32_t dst)
{
	uint64_t s = (uint64_t)RTE_BE16(0x4500) + rte_cpu_to_be_16((uint16_t)(ttl << 8 | proto)) +
		total_len + src + dst;

	return (uint16_t)~cksum_fold64(s);
}

/* The checksum to store in a 20-byte header whose checksum field is zero. */
static inline uint16_t cksum_ipv4_20(const void *hdr)
{
	return (uint16_t)~cksum_ipv4_sum(hdr, 20);
}

/* --- incremental UDP checksums (RFC 1624), for rewriting packets in place --- */

/* Folds a 32-bit partial sum into 16 bits (the carries added back in). */
static inline uint32_t cksum_fold(uint32_t s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return s;
}

/* One's complement sum of a 32-bit field's two 16-bit words, as they lie in memory. */
static inline uint32_t cksum_w32(uint32_t v)
{
	return (v & 0xffff) + (v >> 16);
}

/* Sum of a UDP pseudo-header and UDP header (checksum field taken as 0), as in memory. */
static inline uint32_t cksum_udp_hdrs(uint32_t src, uint32_t dst, uint16_t sport, uint16_t dport,
	uint16_t len_be)
{
	return cksum_w32(src) + cksum_w32(dst) + RTE_BE16(IPPROTO_UDP) + 2u * len_be + sport +
		dport;
}

/* From an old UDP checksum, the sum of what it covered minus @removed (a partial sum). */
static inline uint32_t cksum_remove(uint16_t old_ck, uint32_t removed)
{
	return cksum_fold((uint16_t)~old_ck + (uint16_t)~cksum_fold(removed));
}

/* The UDP checksum field for a partial @sum. */
static inline uint16_t cksum_final(uint32_t sum)
{
	uint16_t ck = (uint16_t)~cksum_fold(sum);

	return ck ? ck : 0xffff; /* 0 would mean "no checksum" */
}

/* Sum of an IPv6 pseudo-header (RFC 8200 8.1), as in memory: @addrs is the source address
 * followed by the destination (as in the IPv6 header), @len the upper-layer length. */
static inline uint16_t cksum_ipv6_phdr(const void *addrs, uint32_t len, uint8_t proto)
{
	const uint8_t *p = addrs;
	uint64_t s = (uint64_t)rte_cpu_to_be_32(len) + rte_cpu_to_be_32(proto);
	uint32_t w;

	for (unsigned int i = 0; i < 32; i += 4) {
		memcpy(&w, p + i, 4);
		s += w;
	}
	return cksum_fold64(s);
}

/* Whether the checksum of the @len bytes of upper-layer protocol @proto at @l4 verifies over
 * IPv6 (@addrs: the source and destination addresses, as in the header). @len is the upper
 * layer's own length (RFC 8200 8.1): a UDP datagram's is its length field, not the IPv6
 * payload length, which may hold bytes past it. */
static inline bool cksum_ipv6_l4_ok(const void *addrs, const void *l4, uint32_t len, uint8_t proto)
{
	return cksum_fold((uint32_t)cksum_ipv6_phdr(addrs, len, proto) + rte_raw_cksum(l4, len)) ==
		0xffff;
}

/* One's complement sum of @len bytes that start at an odd offset of the checksummed data. */
static inline uint32_t cksum_odd(const void *p, size_t len)
{
	return rte_bswap16(rte_raw_cksum(p, len));
}

/* A checksum (host order) patched for one 16-bit word of what it covers changing from @from
 * to @to (host order): RFC 1624's HC' = ~(~HC + ~m + m'). */
static inline uint16_t cksum_patch16(uint16_t ck, uint16_t from, uint16_t to)
{
	uint32_t sum = (uint16_t)~ck + (uint32_t)(~from & 0xffff) + to;

	return (uint16_t)~cksum_fold(sum);
}

#endif
