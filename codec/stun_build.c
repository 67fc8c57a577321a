/* STUN building into a caller's buffer: typed attribute writers that pad to four bytes and
 * keep the header's length current; the first failure sticks, so a caller checks once.
 * Nothing is written past the capacity the caller gave: an mbuf's data room is safe. */
#include <arpa/inet.h>
#include <errno.h>

#include "stun.h"

void stun_build(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls,
	const uint8_t tid[STUN_TID_LEN])
{
	b->buf = buf;
	b->cap = cap;
	b->len = STUN_HDR_LEN;
	b->err = cap < STUN_HDR_LEN ? -ENOSPC : 0;
	if (b->err)
		return;
	edge_put_be16(buf, stun_type(method, cls));
	edge_put_be16(buf + 2, 0);
	buf[4] = 0x21, buf[5] = 0x12, buf[6] = 0xa4, buf[7] = 0x42;
	memmove(buf + 8, tid, STUN_TID_LEN); /* an answer may be built over its request */
}

/* Reserves an attribute of @len value bytes (zero padding written); returns its value. */
static uint8_t *reserve(struct stun_builder *b, uint16_t type, size_t len)
{
	size_t padded = (len + 3) & ~(size_t)3;
	uint8_t *p;

	if (b->err)
		return NULL;
	/* the parser's views are 16-bit: a message, header included, stays under 64 KiB */
	if (len > 0xffff || b->len + 4 + padded > b->cap || b->len + 4 + padded > STUN_MAX_MSG) {
		b->err = -ENOSPC;
		return NULL;
	}
	p = b->buf + b->len;
	edge_put_be16(p, type);
	edge_put_be16(p + 2, (uint16_t)len);
	memset(p + 4 + len, 0, padded - len);
	b->len += 4 + padded;
	edge_put_be16(b->buf + 2, (uint16_t)(b->len - STUN_HDR_LEN));
	return p + 4;
}

int stun_add(struct stun_builder *b, uint16_t type, const void *val, size_t len)
{
	uint8_t *p = reserve(b, type, len);

	if (!p)
		return b->err;
	if (len)
		memcpy(p, val, len);
	return 0;
}

int stun_add_pad(struct stun_builder *b, uint16_t type, const void *val, size_t len, uint8_t pad)
{
	uint8_t *p = reserve(b, type, len);

	if (!p)
		return b->err;
	if (len)
		memcpy(p, val, len);
	memset(p + len, pad, ((len + 3) & ~(size_t)3) - len);
	return 0;
}

int stun_add_u32(struct stun_builder *b, uint16_t type, uint32_t v)
{
	uint32_t be = htonl(v);

	return stun_add(b, type, &be, 4);
}

int stun_add_u64(struct stun_builder *b, uint16_t type, uint64_t v)
{
	uint32_t be[2] = { htonl((uint32_t)(v >> 32)), htonl((uint32_t)v) };

	return stun_add(b, type, be, 8);
}

int stun_add_str(struct stun_builder *b, uint16_t type, const char *s)
{
	return stun_add(b, type, s, strlen(s));
}

static int put_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a, bool use_xor)
{
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
	size_t n = a->family == 4 ? 4 : a->family == 6 ? 16 : 0;
	uint8_t *p;
	uint16_t port = a->port;

	if (!n)
		return b->err = b->err ? b->err : -EINVAL;
	p = reserve(b, type, 4 + n);
	if (!p)
		return b->err;
	if (use_xor)
		port ^= htons(STUN_MAGIC >> 16);
	p[0] = 0;
	p[1] = a->family == 4 ? 0x01 : 0x02;
	wr16(p + 2, port);
	for (size_t i = 0; i < n; i++)
		p[4 + i] = a->ip[i] ^ (!use_xor ? 0 : i < 4 ? cookie[i] : b->buf[8 + i - 4]);
	return 0;
}

int stun_add_xor_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a)
{
	return put_addr(b, type, a, true);
}

int stun_add_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a)
{
	return put_addr(b, type, a, false);
}

/* ERROR-CODE and ADDRESS-ERROR-CODE: @first is the leading byte (0, or the family). */
static int put_error(struct stun_builder *b, uint16_t type, uint8_t first, int code,
	const char *reason)
{
	size_t rl = strlen(reason);
	uint8_t *p;

	if (code < 300 || code > 699)
		return b->err = b->err ? b->err : -EINVAL;
	if (rl > 763) /* RFC 8489 14.8: fewer than 128 characters, up to 763 bytes */
		rl = 763;
	p = reserve(b, type, 4 + rl);
	if (!p)
		return b->err;
	p[0] = first;
	p[1] = 0;
	p[2] = (uint8_t)(code / 100);
	p[3] = (uint8_t)(code % 100);
	memcpy(p + 4, reason, rl);
	return 0;
}

int stun_add_error(struct stun_builder *b, int code, const char *reason)
{
	return put_error(b, STUN_ATTR_ERROR_CODE, 0, code, reason);
}

static int wire_family(struct stun_builder *b, uint8_t family)
{
	if (family != 4 && family != 6)
		return b->err = b->err ? b->err : -EINVAL;
	return family == 4 ? 0x01 : 0x02;
}

int stun_add_address_error(struct stun_builder *b, uint8_t family, int code, const char *reason)
{
	int wf = wire_family(b, family);

	return wf < 0 ? wf : put_error(b, STUN_ATTR_ADDRESS_ERROR_CODE, (uint8_t)wf, code, reason);
}

int stun_add_family(struct stun_builder *b, uint16_t type, uint8_t family)
{
	int wf = wire_family(b, family);
	uint8_t v[4] = { (uint8_t)wf, 0, 0, 0 };

	return wf < 0 ? wf : stun_add(b, type, v, 4);
}

int stun_add_icmp(struct stun_builder *b, uint8_t type, uint16_t code, uint32_t data)
{
	/* RFC 8656 18.14: 16 reserved bits, a 7-bit type, a 9-bit code, 32 bits of data */
	uint16_t tc = (uint16_t)((type & 0x7f) << 9 | (code & 0x1ff));
	uint8_t v[8] = { 0, 0, tc >> 8, tc & 0xff, data >> 24, (data >> 16) & 0xff,
		(data >> 8) & 0xff, data & 0xff };

	if (type > 0x7f || code > 0x1ff)
		return b->err = b->err ? b->err : -EINVAL;
	return stun_add(b, STUN_ATTR_ICMP, v, 8);
}

int stun_add_password_algorithms(struct stun_builder *b, const uint16_t *algs, unsigned int n)
{
	uint8_t *p = reserve(b, STUN_ATTR_PASSWORD_ALGORITHMS, 4 * (size_t)n);

	if (!p)
		return b->err;
	for (unsigned int i = 0; i < n; i++) { /* no algorithm defined so far has parameters */
		edge_put_be16(p + 4 * i, algs[i]);
		edge_put_be16(p + 4 * i + 2, 0);
	}
	return 0;
}

int stun_add_password_algorithm(struct stun_builder *b, uint16_t alg)
{
	uint8_t v[4] = { alg >> 8, alg & 0xff, 0, 0 };

	return stun_add(b, STUN_ATTR_PASSWORD_ALGORITHM, v, 4);
}

int stun_add_unknown(struct stun_builder *b, const uint16_t *types, unsigned int n)
{
	uint8_t *p = reserve(b, STUN_ATTR_UNKNOWN_ATTRIBUTES, 2 * n);

	if (!p)
		return b->err;
	for (unsigned int i = 0; i < n; i++)
		edge_put_be16(p + 2 * i, types[i]);
	return 0;
}

int stun_add_transport(struct stun_builder *b, uint8_t proto)
{
	uint8_t v[4] = { proto, 0, 0, 0 };

	return stun_add(b, STUN_ATTR_REQUESTED_TRANSPORT, v, 4);
}

int stun_add_channel(struct stun_builder *b, uint16_t ch)
{
	uint8_t v[4] = { ch >> 8, ch & 0xff, 0, 0 };

	return stun_add(b, STUN_ATTR_CHANNEL_NUMBER, v, 4);
}

int stun_add_even_port(struct stun_builder *b, bool reserve_next)
{
	uint8_t v = reserve_next ? 0x80 : 0;

	return stun_add(b, STUN_ATTR_EVEN_PORT, &v, 1);
}

int stun_build_end(struct stun_builder *b)
{
	return b->err ? b->err : (int)b->len;
}

const char *stun_reason(int code)
{
	static const struct {
		int code;
		const char *reason;
	} reasons[] = {
		{ 300, "Try Alternate" },
		{ 400, "Bad Request" },
		{ 401, "Unauthorized" },
		{ 403, "Forbidden" },
		{ 405, "Mobility Forbidden" },
		{ 420, "Unknown Attribute" },
		{ 437, "Allocation Mismatch" },
		{ 438, "Stale Nonce" },
		{ 440, "Address Family not Supported" },
		{ 441, "Wrong Credentials" },
		{ 442, "Unsupported Transport Protocol" },
		{ 443, "Peer Address Family Mismatch" },
		{ 446, "Connection Already Exists" },
		{ 447, "Connection Timeout or Failure" },
		{ 486, "Allocation Quota Reached" },
		{ 487, "Role Conflict" },
		{ 500, "Server Error" },
		{ 508, "Insufficient Capacity" },
	};

	for (size_t i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].code == code)
			return reasons[i].reason;
	return "Error";
}

int stun_build_response(struct stun_builder *b, uint8_t *buf, size_t cap,
	const struct stun_msg *req, int code)
{
	stun_build(b, buf, cap, req->method, code ? STUN_ERROR : STUN_SUCCESS, req->tid);
	if (!code)
		return b->err;
	stun_add_error(b, code, stun_reason(code));
	if (code == 420 && req->n_unknown)
		stun_add_unknown(b, req->unknown, req->n_unknown);
	return b->err;
}

int stun_channel_data_build(uint8_t *buf, size_t cap, uint16_t ch, const void *data, size_t len,
	bool stream)
{
	size_t total = STUN_CHANNEL_HDR_LEN + len;
	size_t padded = stream ? (total + 3) & ~(size_t)3 : total;

	if (ch < STUN_CHANNEL_MIN || ch > STUN_CHANNEL_MAX || len > 0xffff)
		return -EINVAL;
	if (padded > cap)
		return -ENOSPC;
	stun_channel_data_hdr(buf, ch, (uint16_t)len);
	if (len && buf + STUN_CHANNEL_HDR_LEN != data) /* the payload may already be in place */
		memmove(buf + STUN_CHANNEL_HDR_LEN, data, len);
	memset(buf + total, 0, padded - total);
	return (int)padded;
}
