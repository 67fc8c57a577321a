/* Loads and stores at any alignment: packet fields sit wherever the packet puts them. The
 * one helper for it: nothing else reads a wire field by hand (no memcpy into an integer, no
 * cast of packet bytes to a wider pointer, no shifts and ors). The edge_be* / edge_put_be*
 * functions decode and encode big-endian (network order) bytes as host-order values; the
 * rd / wr ones move bytes as they are (values stay in network order, as DPDK's headers keep
 * them). All are static inline and compile to one load or store (a bswap with it for be). */
#ifndef EDGE_BYTES_H
#define EDGE_BYTES_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t edge_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

static inline uint32_t edge_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static inline uint64_t edge_be64(const uint8_t *p)
{
	return (uint64_t)edge_be32(p) << 32 | edge_be32(p + 4);
}

static inline void edge_put_be16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static inline void edge_put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static inline void edge_put_be64(uint8_t *p, uint64_t v)
{
	edge_put_be32(p, (uint32_t)(v >> 32));
	edge_put_be32(p + 4, (uint32_t)v);
}

static inline uint16_t rd16(const void *p)
{
	uint16_t v;

	memcpy(&v, p, 2);
	return v;
}

static inline uint32_t rd32(const void *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return v;
}

static inline uint64_t rd64(const void *p)
{
	uint64_t v;

	memcpy(&v, p, 8);
	return v;
}

static inline void wr16(void *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static inline void wr32(void *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static inline void wr64(void *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* Whether two IPv6 addresses (16 bytes each, any alignment) are equal: two 64-bit compares
 * inline, where memcmp is a library call of some 15 instructions. */
static inline bool edge_ip6_eq(const uint8_t a[16], const uint8_t b[16])
{
	return ((rd64(a) ^ rd64(b)) | (rd64(a + 8) ^ rd64(b + 8))) == 0;
}

#endif
