/* The STUN/TURN wire codec (RFC 8489, RFC 8656, RFC 6062, RFC 8445's STUN usage, RFC 7635),
 * shared by both planes: a zero-copy parser into a read-only view of the packet, typed
 * builders into a caller's buffer, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT, and the
 * credential derivations. No DPDK, no heap on the parse path. Functions return 0 or a
 * negative errno. */
#ifndef EDGE_STUN_H
#define EDGE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>

#include "edge_bytes.h"

#define STUN_MAGIC 0x2112a442u
#define STUN_HDR_LEN 20
#define STUN_TID_LEN 12
#define STUN_FINGERPRINT_XOR 0x5354554eu
#define STUN_MAX_MSG 65532 /* the longest message, header included, that we parse or build */

enum stun_class {
	STUN_REQUEST = 0,
	STUN_INDICATION = 1,
	STUN_SUCCESS = 2,
	STUN_ERROR = 3,
};

enum stun_method {
	STUN_BINDING = 0x001,
	STUN_ALLOCATE = 0x003,
	STUN_REFRESH = 0x004,
	STUN_SEND = 0x006,
	STUN_DATA = 0x007,
	STUN_CREATE_PERMISSION = 0x008,
	STUN_CHANNEL_BIND = 0x009,
	STUN_CONNECT = 0x00a,
	STUN_CONNECTION_BIND = 0x00b,
	STUN_CONNECTION_ATTEMPT = 0x00c,
};

/* Every attribute we know; X(name, type). Comprehension-required below 0x8000. */
#define STUN_ATTRS(X)                                                                              \
	X(MAPPED_ADDRESS, 0x0001)                                                                  \
	X(USERNAME, 0x0006)                                                                        \
	X(MESSAGE_INTEGRITY, 0x0008)                                                               \
	X(ERROR_CODE, 0x0009)                                                                      \
	X(UNKNOWN_ATTRIBUTES, 0x000a)                                                              \
	X(CHANNEL_NUMBER, 0x000c)                                                                  \
	X(LIFETIME, 0x000d)                                                                        \
	X(XOR_PEER_ADDRESS, 0x0012)                                                                \
	X(DATA, 0x0013)                                                                            \
	X(REALM, 0x0014)                                                                           \
	X(NONCE, 0x0015)                                                                           \
	X(XOR_RELAYED_ADDRESS, 0x0016)                                                             \
	X(REQUESTED_ADDRESS_FAMILY, 0x0017)                                                        \
	X(EVEN_PORT, 0x0018)                                                                       \
	X(REQUESTED_TRANSPORT, 0x0019)                                                             \
	X(DONT_FRAGMENT, 0x001a)                                                                   \
	X(ACCESS_TOKEN, 0x001b)                                                                    \
	X(MESSAGE_INTEGRITY_SHA256, 0x001c)                                                        \
	X(PASSWORD_ALGORITHM, 0x001d)                                                              \
	X(USERHASH, 0x001e)                                                                        \
	X(XOR_MAPPED_ADDRESS, 0x0020)                                                              \
	X(RESERVATION_TOKEN, 0x0022)                                                               \
	X(PRIORITY, 0x0024)                                                                        \
	X(USE_CANDIDATE, 0x0025)                                                                   \
	X(CONNECTION_ID, 0x002a)                                                                   \
	X(ADDITIONAL_ADDRESS_FAMILY, 0x8000)                                                       \
	X(ADDRESS_ERROR_CODE, 0x8001)                                                              \
	X(PASSWORD_ALGORITHMS, 0x8002)                                                             \
	X(ALTERNATE_DOMAIN, 0x8003)                                                                \
	X(ICMP, 0x8004)                                                                            \
	X(SOFTWARE, 0x8022)                                                                        \
	X(ALTERNATE_SERVER, 0x8023)                                                                \
	X(FINGERPRINT, 0x8028)                                                                     \
	X(ICE_CONTROLLED, 0x8029)                                                                  \
	X(ICE_CONTROLLING, 0x802a)                                                                 \
	X(THIRD_PARTY_AUTHORIZATION, 0x802e)                                                       \
	/* draft-ietf-tram-turnbis' code point for ADDITIONAL-ADDRESS-FAMILY, before RFC 8656 \
	 * moved it to 0x8000: coturn's clients still send it (turnutils_uclient -Z) */    \
	X(ADDITIONAL_ADDRESS_FAMILY_DRAFT, 0x8032)

enum stun_attr_type {
#define X(name, type) STUN_ATTR_##name = type,
	STUN_ATTRS(X)
#undef X
};

/* Dense indices of the known attributes, for the parsed view's table. */
enum stun_attr_index {
#define X(name, type) STUN_AI_##name,
	STUN_ATTRS(X)
#undef X
		STUN_AI_MAX
};

#define STUN_MAX_PEERS 8    /* XOR-PEER-ADDRESS occurrences kept (CreatePermission) */
#define STUN_MAX_UNKNOWN 16 /* unknown comprehension-required attributes reported */

/* A parsed message: offsets into the caller's buffer, which must outlive it. */
struct stun_msg {
	const uint8_t *buf;
	uint16_t len; /* STUN_HDR_LEN + the header's length field */
	uint16_t method;
	uint8_t cls;
	const uint8_t *tid;
	uint16_t off[STUN_AI_MAX]; /* value offset of each known attribute's first copy, or 0 */
	uint16_t alen[STUN_AI_MAX];
	uint16_t peer_off[STUN_MAX_PEERS]; /* every XOR-PEER-ADDRESS (value offsets) */
	uint16_t peer_len[STUN_MAX_PEERS];
	uint8_t n_peers;
	uint8_t n_unknown;
	uint16_t unknown[STUN_MAX_UNKNOWN]; /* unknown comprehension-required types */
	uint16_t mi_at, mi256_at, fp_at;    /* offsets of those attributes' headers, or 0 */
};

/* Why a buffer is not a usable STUN message. The values are stable: callers count by them. */
enum stun_parse_error {
	STUN_E_SHORT = 1, /* shorter than a header, or than its length field says */
	STUN_E_NOT_STUN,  /* top bits, magic cookie: not STUN at all (RFC 7983 demux) */
	STUN_E_LENGTH,	  /* length not a multiple of 4, or beyond 16 bits with the header */
	STUN_E_ATTR,	  /* an attribute (or its padding) runs past the message */
	STUN_E_TYPE,	  /* a class that the method cannot have */
	STUN_E_MAX
};

/* Parses @buf[0..@len). The message may be shorter than @len (a stream); m->len says how
 * long it is. Returns 0 or -(enum stun_parse_error). On any error but STUN_E_NOT_STUN and a
 * buffer shorter than a header, @m still holds the header (buf, method, cls, tid; len = 20)
 * so that a server can answer the transaction with stun_build_response(). */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m);

/* How a server must answer the problem @err (0 = silently discard: not STUN, or not a
 * request), as RFC 8489 6.3 prescribes: 400 for a malformed request. */
int stun_parse_error_code(int err, const uint8_t *buf, size_t len);

/* A short name for @err (a stun_parse() result), for counters and rate-limited logs. */
const char *stun_parse_strerror(int err);

/* What a parsed message's unknown comprehension-required attributes call for (RFC 8489
 * 6.3.1-6.3.3): 0 when there are none; 420 for a request (answer with UNKNOWN-ATTRIBUTES:
 * stun_build_response() adds m->unknown); -EPROTO for an indication or a response, which
 * the receiver discards. */
int stun_unknown_answer(const struct stun_msg *m);

/* The message type field (RFC 8489 5): the 12 method bits M11..M0 with the two class bits
 * C1 C0 between them, at bits 8 and 4. The one encoder and decoder of it: nothing else takes
 * a type apart by hand. STUN_TYPE() is a constant expression, for case labels and wire
 * constants. */
#define STUN_TYPE(method, cls)                                                                     \
	((uint16_t)(((method)&0x000f) | (((method)&0x0070) << 1) | (((method)&0x0f80) << 2) |      \
		(((cls)&1) << 4) | (((cls)&2) << 7)))

static inline uint16_t stun_type(uint16_t method, uint8_t cls)
{
	return STUN_TYPE(method, cls);
}

static inline uint16_t stun_type_method(uint16_t type)
{
	return (uint16_t)((type & 0x000f) | ((type & 0x00e0) >> 1) | ((type & 0x3e00) >> 2));
}

static inline uint8_t stun_type_class(uint16_t type)
{
	return (uint8_t)(((type >> 4) & 1) | ((type >> 7) & 2));
}

/* The message types the data plane matches on the wire. */
#define STUN_BINDING_REQUEST STUN_TYPE(STUN_BINDING, STUN_REQUEST) /* 0x0001 */
#define STUN_BINDING_SUCCESS STUN_TYPE(STUN_BINDING, STUN_SUCCESS) /* 0x0101 */
#define STUN_SEND_INDICATION STUN_TYPE(STUN_SEND, STUN_INDICATION) /* 0x0016 */
#define STUN_DATA_INDICATION STUN_TYPE(STUN_DATA, STUN_INDICATION) /* 0x0017 */

static inline bool stun_has(const struct stun_msg *m, enum stun_attr_index ai)
{
	return m->off[ai] != 0;
}

static inline const uint8_t *stun_val(const struct stun_msg *m, enum stun_attr_index ai)
{
	return m->buf + m->off[ai];
}

/* ---- reading attribute values ----
 * Each returns -EINVAL when the attribute is absent or its value has the wrong shape. */

int stun_get_u32(const struct stun_msg *m, enum stun_attr_index ai, uint32_t *v);
int stun_get_u64(const struct stun_msg *m, enum stun_attr_index ai, uint64_t *v);
/* A string or opaque attribute (USERNAME, REALM, NONCE, SOFTWARE, ALTERNATE-DOMAIN,
 * ACCESS-TOKEN, THIRD-PARTY-AUTHORIZATION, DATA...): pointer into the message and its
 * length, no terminator. */
int stun_get_str(const struct stun_msg *m, enum stun_attr_index ai, const char **s, size_t *len);

/* An address: IPv4 (family 4, 4 bytes) or IPv6 (family 6, 16 bytes), network byte order. */
struct stun_addr {
	uint8_t family; /* 4 or 6 */
	uint16_t port;	/* network byte order */
	uint8_t ip[16];
};

/* The @i-th XOR-PEER-ADDRESS (CreatePermission may carry several). */
int stun_get_peer(const struct stun_msg *m, unsigned int i, struct stun_addr *a);
/* XOR-MAPPED-ADDRESS, XOR-PEER-ADDRESS, XOR-RELAYED-ADDRESS (the first of each). */
int stun_get_xor_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a);
/* MAPPED-ADDRESS, ALTERNATE-SERVER. */
int stun_get_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a);
/* ERROR-CODE: the number (300..699) and the reason phrase. */
int stun_get_error(const struct stun_msg *m, int *code, const char **reason, size_t *len);
/* CHANNEL-NUMBER (host order), REQUESTED-TRANSPORT (protocol number). */
int stun_get_channel(const struct stun_msg *m, uint16_t *ch);
int stun_get_transport(const struct stun_msg *m, uint8_t *proto);
/* EVEN-PORT: whether the next port up is to be reserved too. */
int stun_get_even_port(const struct stun_msg *m, bool *reserve_next);
/* REQUESTED-ADDRESS-FAMILY, ADDITIONAL-ADDRESS-FAMILY: 4 or 6. */
int stun_get_family(const struct stun_msg *m, enum stun_attr_index ai, uint8_t *family);
/* ADDRESS-ERROR-CODE (RFC 8656 18.13): the family (4/6) it is about, code and reason. */
int stun_get_address_error(const struct stun_msg *m, uint8_t *family, int *code,
	const char **reason, size_t *len);
/* ICMP (RFC 8656 18.14): type and code as the relay saw them, and the error data. */
int stun_get_icmp(const struct stun_msg *m, uint8_t *type, uint16_t *code, uint32_t *data);
/* UNKNOWN-ATTRIBUTES of an error response: up to @max types; *n says how many there are. */
int stun_get_unknown_list(const struct stun_msg *m, uint16_t *types, unsigned int max,
	unsigned int *n);

/* Password algorithms (RFC 8489 18.5): MD5 and SHA-256, neither with parameters. */
enum stun_pw_alg { STUN_PW_MD5 = 0x0001, STUN_PW_SHA256 = 0x0002 };

/* PASSWORD-ALGORITHMS: up to @max algorithm numbers in the server's order, *n how many
 * there are. The parameters (none defined) are skipped. */
int stun_get_password_algorithms(const struct stun_msg *m, uint16_t *algs, unsigned int max,
	unsigned int *n);
/* PASSWORD-ALGORITHM: the algorithm the client chose. */
int stun_get_password_algorithm(const struct stun_msg *m, uint16_t *alg);

/* ---- demultiplexing (RFC 7983, updated by RFC 9443) ---- */

/* What a datagram's first byte says it is. */
enum stun_demux {
	STUN_DEMUX_STUN,	 /* 0..3 */
	STUN_DEMUX_ZRTP,	 /* 16..19 */
	STUN_DEMUX_DTLS,	 /* 20..63 */
	STUN_DEMUX_TURN_CHANNEL, /* 64..79 */
	STUN_DEMUX_QUIC,	 /* 80..127 and 192..255 */
	STUN_DEMUX_RTP,		 /* 128..191: RTP and RTCP */
	STUN_DEMUX_UNKNOWN,	 /* 4..15: reserved, dropped */
};

static inline enum stun_demux stun_demux(uint8_t first)
{
	if (first <= 3)
		return STUN_DEMUX_STUN;
	if (first < 16)
		return STUN_DEMUX_UNKNOWN;
	if (first < 20)
		return STUN_DEMUX_ZRTP;
	if (first < 64)
		return STUN_DEMUX_DTLS;
	if (first < 80)
		return STUN_DEMUX_TURN_CHANNEL;
	if (first >= 128 && first < 192)
		return STUN_DEMUX_RTP;
	return STUN_DEMUX_QUIC;
}

/* ---- the fast path ----
 * What a relay worker does per packet: recognise ChannelData, or a Send/Data indication and
 * read its XOR-PEER-ADDRESS and DATA, without the full parse. Inline, no table, no call.
 * These agree with stun_parse() wherever they answer 0 (the fuzzer checks it); anything
 * they do not handle (authentication, unknown attributes) they leave to the slow path. */

#define STUN_CHANNEL_MIN 0x4000 /* RFC 8656 12: 0x4000..0x4fff; 0x5000..0x7fff reserved */
#define STUN_CHANNEL_MAX 0x4fff
#define STUN_CHANNEL_HDR_LEN 4

/* ChannelData (RFC 8656 12.4): 0 when @buf starts one whose payload fits in @len, with its
 * channel number and payload length; -EINVAL when it is no ChannelData, -EMSGSIZE when it
 * says it is longer than @len. Over UDP the datagram may carry padding after the payload. */
static inline int stun_fast_channel_data(const uint8_t *buf, size_t len, uint16_t *ch,
	uint16_t *data_len)
{
	if (len < STUN_CHANNEL_HDR_LEN || (buf[0] & 0xf0) != 0x40)
		return -EINVAL;
	*ch = edge_be16(buf);
	*data_len = edge_be16(buf + 2);
	return *data_len <= len - STUN_CHANNEL_HDR_LEN ? 0 : -EMSGSIZE;
}

/* What a Send or Data indication carries for the relay. */
struct stun_fast_ind {
	struct stun_addr peer; /* the first XOR-PEER-ADDRESS, decoded */
	uint16_t data_off;     /* the first DATA's value: offset from the message start */
	uint16_t data_len;
	bool dont_fragment;
	uint16_t len; /* the message's own length (20 + header's length field) */
};

/* The XOR-address decoding, shared with the slow path: -EINVAL unless a well-formed IPv4 (8
 * bytes) or IPv6 (20 bytes) value. @tid is the transaction ID (IPv6 XORs with it). */
static inline int stun_xor_addr_decode(const uint8_t *p, uint16_t len, const uint8_t *tid,
	struct stun_addr *a)
{
	static const uint8_t cookie[4] = { 0x21, 0x12, 0xa4, 0x42 };
	uint8_t port[2];

	if (len != 8 && len != 20)
		return -EINVAL;
	port[0] = p[2] ^ cookie[0];
	port[1] = p[3] ^ cookie[1];
	memcpy(&a->port, port, 2); /* stays in network order */
	if (p[0] == 0 && p[1] == 0x01 && len == 8) {
		a->family = 4;
		for (int i = 0; i < 4; i++)
			a->ip[i] = p[4 + i] ^ cookie[i];
		return 0;
	}
	if (p[0] == 0 && p[1] == 0x02 && len == 20) {
		a->family = 6;
		for (int i = 0; i < 4; i++)
			a->ip[i] = p[4 + i] ^ cookie[i];
		for (int i = 4; i < 16; i++)
			a->ip[i] = p[4 + i] ^ tid[i - 4];
		return 0;
	}
	return -EINVAL;
}

/* A Send (@type STUN_SEND_INDICATION) or Data (STUN_DATA_INDICATION) indication: 0 with @fi filled in; -EINVAL when
 * @buf is not that message type; -EBADMSG when it is malformed (bounds, padding, a bad
 * address) or lacks XOR-PEER-ADDRESS or DATA (RFC 8656 10.2 and 11.4: discard it);
 * -ENOTSUP when it holds something the fast path leaves to stun_parse() (integrity
 * attributes, a comprehension-required attribute other than the three of relaying). */
static inline int stun_fast_indication(const uint8_t *buf, size_t len, uint16_t type,
	struct stun_fast_ind *fi)
{
	uint32_t mlen, off;
	bool peer = false;

	if (len < STUN_HDR_LEN || edge_be16(buf) != type || edge_be32(buf + 4) != STUN_MAGIC)
		return -EINVAL;
	mlen = edge_be16(buf + 2);
	if ((mlen & 3) || mlen + STUN_HDR_LEN > len || mlen + STUN_HDR_LEN > STUN_MAX_MSG)
		return -EBADMSG;
	fi->len = (uint16_t)(mlen + STUN_HDR_LEN);
	fi->data_off = 0;
	fi->dont_fragment = false;
	for (off = STUN_HDR_LEN; off < fi->len;) {
		uint16_t at, al;
		uint32_t next;

		if (fi->len - off < 4)
			return -EBADMSG;
		at = edge_be16(buf + off);
		al = edge_be16(buf + off + 2);
		next = off + 4 + (((uint32_t)al + 3) & ~3u);
		if (next > fi->len)
			return -EBADMSG;
		if (at == STUN_ATTR_XOR_PEER_ADDRESS) { /* the first one counts */
			if (peer)
				goto next;
			if (stun_xor_addr_decode(buf + off + 4, al, buf + 8, &fi->peer) < 0)
				return -EBADMSG;
			peer = true;
		} else if (at == STUN_ATTR_DATA) {
			if (!fi->data_off) {
				fi->data_off = (uint16_t)(off + 4);
				fi->data_len = al;
			}
		} else if (at == STUN_ATTR_DONT_FRAGMENT) {
			fi->dont_fragment = true;
		} else if (at == STUN_ATTR_FINGERPRINT) { /* it ends the message */
			break;
		} else if (at < 0x8000) {
			return -ENOTSUP;
		}
next:
		off = next;
	}
	return peer && fi->data_off ? 0 : -EBADMSG;
}

/* The brief forms the relay uses: client -> relay (Send) and relay -> client (Data). */
static inline int stun_fast_send_indication(const uint8_t *buf, size_t len, struct stun_addr *peer,
	uint16_t *data_off, uint16_t *data_len)
{
	struct stun_fast_ind fi;
	int ret = stun_fast_indication(buf, len, STUN_SEND_INDICATION, &fi);

	if (ret == 0) {
		*peer = fi.peer;
		*data_off = fi.data_off;
		*data_len = fi.data_len;
	}
	return ret;
}

static inline int stun_fast_data_indication(const uint8_t *buf, size_t len, struct stun_addr *peer,
	uint16_t *data_off, uint16_t *data_len)
{
	struct stun_fast_ind fi;
	int ret = stun_fast_indication(buf, len, STUN_DATA_INDICATION, &fi);

	if (ret == 0) {
		*peer = fi.peer;
		*data_off = fi.data_off;
		*data_len = fi.data_len;
	}
	return ret;
}

/* Framing on a stream (TCP, TLS; RFC 8656 12.5, RFC 6062): the length of the frame at @buf,
 * a STUN message (20 + its length) or a ChannelData message (channels 0x4000-0x7fff, as the
 * TURN server binds them) padded to four bytes; 0 when
 * fewer than four bytes are there to tell; -EBADMSG when the stream holds neither (the
 * connection is then beyond saving: close it). */
static inline int stun_frame_len(const uint8_t *buf, size_t len)
{
	if (len < 4)
		return 0;
	if ((buf[0] & 0xc0) == 0)
		return STUN_HDR_LEN + edge_be16(buf + 2);
	if ((buf[0] & 0xc0) == 0x40) /* 0x4000-0x7fff: RFC 5766's numbers are still in use */
		return (STUN_CHANNEL_HDR_LEN + edge_be16(buf + 2) + 3) & ~3;
	return -EBADMSG;
}

/* ---- integrity ---- */

enum stun_mac { STUN_MAC_SHA1, STUN_MAC_SHA256 };

/* A key with the HMAC's inner and outer states absorbed once, so each check or signature
 * is two context copies and the message's own hashing (OpenSSL 3's algorithm fetch, which
 * dominates a one-shot HMAC(), happens at init only). Measured against EVP_MAC_CTX_dup()
 * and EVP_MAC_init() with a kept key in bench/results/stun.md: this is the fastest. One key
 * may be used by several threads at once. */
struct stun_key {
	enum stun_mac mac;
	void *inner, *outer; /* EVP_MD_CTX */
};

int stun_key_init(struct stun_key *k, enum stun_mac mac, const uint8_t *key, size_t len);
void stun_key_free(struct stun_key *k);
/* HMAC of @n pieces (for callers that sign something other than a STUN message). */
int stun_key_mac(const struct stun_key *k, const void *const *p, const size_t *len, int n,
	uint8_t *out, unsigned int *outlen);

/* 0 when MESSAGE-INTEGRITY (SHA1) or -SHA256 verifies with @k; -EBADMSG when it does not,
 * -ENOENT when the message has none, -EINVAL when @k is for the other algorithm. */
int stun_check_integrity(const struct stun_msg *m, const struct stun_key *k);
int stun_check_integrity_sha256(const struct stun_msg *m, const struct stun_key *k);
/* 0 when the FINGERPRINT is right, -EBADMSG when wrong, -ENOENT when absent. */
int stun_check_fingerprint(const struct stun_msg *m);

/* CRC-32 (the IEEE polynomial, as zlib's crc32()): slicing by 8 below 384 bytes, three times
 * zlib's speed there; zlib's own above. Chain calls by passing the previous result; start
 * from 0. */
uint32_t stun_crc32(uint32_t crc, const void *buf, size_t len);

/* ---- building ---- */

struct stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err; /* sticky: the first failure (-ENOSPC, -EINVAL) */
};

/* Starts a message in @buf (an mbuf's data room or a stack buffer) of @cap bytes; nothing
 * is ever written past @cap: a write that does not fit sets -ENOSPC. */
void stun_build(struct stun_builder *b, uint8_t *buf, size_t cap, uint16_t method, uint8_t cls,
	const uint8_t tid[STUN_TID_LEN]);
int stun_add(struct stun_builder *b, uint16_t type, const void *val, size_t len);
/* The same with padding bytes of @pad (RFC 8489 allows any value; the RFC 5769 vectors use
 * spaces). */
int stun_add_pad(struct stun_builder *b, uint16_t type, const void *val, size_t len, uint8_t pad);
int stun_add_u32(struct stun_builder *b, uint16_t type, uint32_t v);
int stun_add_u64(struct stun_builder *b, uint16_t type, uint64_t v);
int stun_add_str(struct stun_builder *b, uint16_t type, const char *s);
int stun_add_xor_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a);
int stun_add_addr(struct stun_builder *b, uint16_t type, const struct stun_addr *a);
int stun_add_error(struct stun_builder *b, int code, const char *reason);
int stun_add_unknown(struct stun_builder *b, const uint16_t *types, unsigned int n);
/* REQUESTED-TRANSPORT, CHANNEL-NUMBER, EVEN-PORT: the fixed-layout ones. */
int stun_add_transport(struct stun_builder *b, uint8_t proto);
int stun_add_channel(struct stun_builder *b, uint16_t ch);
int stun_add_even_port(struct stun_builder *b, bool reserve);
/* REQUESTED-ADDRESS-FAMILY / ADDITIONAL-ADDRESS-FAMILY (@type) of @family 4 or 6. */
int stun_add_family(struct stun_builder *b, uint16_t type, uint8_t family);
int stun_add_address_error(struct stun_builder *b, uint8_t family, int code, const char *reason);
int stun_add_icmp(struct stun_builder *b, uint8_t type, uint16_t code, uint32_t data);
int stun_add_password_algorithms(struct stun_builder *b, const uint16_t *algs, unsigned int n);
int stun_add_password_algorithm(struct stun_builder *b, uint16_t alg);
/* Finishing: each patches the header length to cover itself, as RFC 8489 14.5-14.7 say. */
int stun_add_integrity(struct stun_builder *b, const struct stun_key *k);
int stun_add_integrity_sha256(struct stun_builder *b, const struct stun_key *k);
int stun_add_fingerprint(struct stun_builder *b);
/* The message's length, or the builder's error. */
int stun_build_end(struct stun_builder *b);

/* A server's answer to @req: a success response (@code 0) or an error response with
 * ERROR-CODE @code and its standard reason phrase, and for 420 the UNKNOWN-ATTRIBUTES the
 * request carried. Same method and transaction ID; the caller adds attributes and finishes
 * (integrity, fingerprint). Returns the builder's error. */
int stun_build_response(struct stun_builder *b, uint8_t *buf, size_t cap,
	const struct stun_msg *req, int code);
/* The reason phrase RFC 8489 / 8656 / 6062 give @code ("Bad Request" for 400...). */
const char *stun_reason(int code);

/* ChannelData (RFC 8656 12.4): header into @buf. */
static inline void stun_channel_data_hdr(uint8_t *buf, uint16_t ch, uint16_t len)
{
	buf[0] = ch >> 8;
	buf[1] = ch & 0xff;
	buf[2] = len >> 8;
	buf[3] = len & 0xff;
}

/* A whole ChannelData message into @buf of @cap bytes: header, @len payload bytes and, on a
 * stream (@stream), zero padding to four bytes (RFC 8656 12.5). Returns its length, -ENOSPC,
 * or -EINVAL for a channel number out of 0x4000..0x4fff or a payload over 65535 bytes. */
int stun_channel_data_build(uint8_t *buf, size_t cap, uint16_t ch, const void *data, size_t len,
	bool stream);

/* ---- credentials ---- */

/* RFC 8489 9.2.2: MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)) for
 * MD5, SHA-256 of the same for SHA-256 (32 bytes). Non-ASCII input goes through SASLprep
 * (libidn), which is what the RFC 5769 vectors use. */
int stun_long_term_key(const char *user, const char *realm, const char *pass, uint8_t out[16]);
int stun_long_term_key_sha256(const char *user, const char *realm, const char *pass,
	uint8_t out[32]);
/* USERHASH: SHA-256(OpaqueString(username) ":" OpaqueString(realm)). */
int stun_userhash(const char *user, const char *realm, uint8_t out[32]);
/* SASLprep (RFC 4013) of @in into @out; -EINVAL for prohibited input. */
int stun_saslprep(const char *in, char *out, size_t outlen);
/* A short-term key (RFC 8489 9.1.1): the password after SASLprep, as bytes for
 * stun_key_init(); returns its length or a negative errno. */
int stun_short_term_key(const char *pass, uint8_t *out, size_t outlen);

/* The TURN REST API's time-limited credentials (coturn's use-auth-secret): the password of
 * @username is base64(HMAC-SHA1(@secret, @username)); @username is "expiry[:user]". */
int stun_rest_password(const char *secret, const char *username, char *out, size_t outlen);
/* 0 if "expiry[:user]" has not expired at @now (Unix seconds); -EKEYEXPIRED if it has,
 * -EINVAL if @username does not start with a timestamp. */
int stun_rest_check_expiry(const char *username, size_t len, uint64_t now);
/* The whole server-side check for a request's USERNAME (@user, @len bytes, as in the
 * message): not expired at @now, then the long-term key of that user with its REST
 * password in @realm. 0, -EKEYEXPIRED, -EINVAL. */
int stun_rest_long_term_key(const char *secret, const char *user, size_t len, const char *realm,
	uint64_t now, uint8_t key[16]);

#endif
