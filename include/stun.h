/* The STUN/TURN wire codec (RFC 8489, RFC 8656, RFC 6062, RFC 8445's STUN usage, RFC 7635),
 * shared by both planes: a zero-copy parser into a read-only view of the packet, typed
 * builders into a caller's buffer, MESSAGE-INTEGRITY(-SHA256) and FINGERPRINT, and the
 * credential derivations. No DPDK, no heap on the parse path. Functions return 0 or a
 * negative errno. */
#ifndef EDGE_STUN_H
#define EDGE_STUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define STUN_MAGIC 0x2112a442u
#define STUN_HDR_LEN 20
#define STUN_TID_LEN 12
#define STUN_FINGERPRINT_XOR 0x5354554eu

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
#define STUN_ATTRS(X)                                                                            \
	X(MAPPED_ADDRESS, 0x0001)                                                                \
	X(USERNAME, 0x0006)                                                                      \
	X(MESSAGE_INTEGRITY, 0x0008)                                                             \
	X(ERROR_CODE, 0x0009)                                                                    \
	X(UNKNOWN_ATTRIBUTES, 0x000a)                                                            \
	X(CHANNEL_NUMBER, 0x000c)                                                                \
	X(LIFETIME, 0x000d)                                                                      \
	X(XOR_PEER_ADDRESS, 0x0012)                                                              \
	X(DATA, 0x0013)                                                                          \
	X(REALM, 0x0014)                                                                         \
	X(NONCE, 0x0015)                                                                         \
	X(XOR_RELAYED_ADDRESS, 0x0016)                                                           \
	X(REQUESTED_ADDRESS_FAMILY, 0x0017)                                                      \
	X(EVEN_PORT, 0x0018)                                                                     \
	X(REQUESTED_TRANSPORT, 0x0019)                                                           \
	X(DONT_FRAGMENT, 0x001a)                                                                 \
	X(ACCESS_TOKEN, 0x001b)                                                                  \
	X(MESSAGE_INTEGRITY_SHA256, 0x001c)                                                      \
	X(PASSWORD_ALGORITHM, 0x001d)                                                            \
	X(USERHASH, 0x001e)                                                                      \
	X(XOR_MAPPED_ADDRESS, 0x0020)                                                            \
	X(RESERVATION_TOKEN, 0x0022)                                                             \
	X(PRIORITY, 0x0024)                                                                      \
	X(USE_CANDIDATE, 0x0025)                                                                 \
	X(CONNECTION_ID, 0x002a)                                                                 \
	X(ADDITIONAL_ADDRESS_FAMILY, 0x8000)                                                     \
	X(ADDRESS_ERROR_CODE, 0x8001)                                                            \
	X(PASSWORD_ALGORITHMS, 0x8002)                                                           \
	X(ALTERNATE_DOMAIN, 0x8003)                                                              \
	X(ICMP, 0x8004)                                                                          \
	X(SOFTWARE, 0x8022)                                                                      \
	X(ALTERNATE_SERVER, 0x8023)                                                              \
	X(FINGERPRINT, 0x8028)                                                                   \
	X(ICE_CONTROLLED, 0x8029)                                                                \
	X(ICE_CONTROLLING, 0x802a)                                                               \
	X(THIRD_PARTY_AUTHORIZATION, 0x802e)

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

#define STUN_MAX_PEERS 8	/* XOR-PEER-ADDRESS occurrences kept (CreatePermission) */
#define STUN_MAX_UNKNOWN 16	/* unknown comprehension-required attributes reported */

/* A parsed message: offsets into the caller's buffer, which must outlive it. */
struct stun_msg {
	const uint8_t *buf;
	uint16_t len;			/* STUN_HDR_LEN + the header's length field */
	uint16_t method;
	uint8_t cls;
	const uint8_t *tid;
	uint16_t off[STUN_AI_MAX];	/* value offset of each known attribute's first copy; 0 = absent */
	uint16_t alen[STUN_AI_MAX];
	uint16_t peer_off[STUN_MAX_PEERS];	/* every XOR-PEER-ADDRESS (value offsets) */
	uint16_t peer_len[STUN_MAX_PEERS];
	uint8_t n_peers;
	uint8_t n_unknown;
	uint16_t unknown[STUN_MAX_UNKNOWN];	/* unknown comprehension-required types */
	uint16_t mi_at, mi256_at, fp_at;	/* offsets of those attributes' headers; 0 = absent */
};

/* Why a buffer is not a usable STUN message. */
enum stun_parse_error {
	STUN_E_SHORT = 1,	/* shorter than a header, or than its length field says */
	STUN_E_NOT_STUN,	/* top bits, magic cookie: not STUN at all (RFC 7983 demux) */
	STUN_E_LENGTH,		/* length not a multiple of 4 */
	STUN_E_ATTR,		/* an attribute (or its padding) runs past the message */
	STUN_E_TYPE,		/* a class that the method cannot have */
};

/* Parses @buf[0..@len). The message may be shorter than @len (a stream); m->len says how
 * long it is. Returns 0 or -(enum stun_parse_error). */
int stun_parse(const uint8_t *buf, size_t len, struct stun_msg *m);

/* How a server must answer the problem @err (0 = silently discard: not STUN, or not a
 * request), as the RFC prescribes: 400 for a malformed request. */
int stun_parse_error_code(int err, const uint8_t *buf, size_t len);

static inline uint16_t stun_type(uint16_t method, uint8_t cls)
{
	return (uint16_t)((method & 0x000f) | ((method & 0x0070) << 1) | ((method & 0x0f80) << 2) |
		((cls & 1) << 4) | ((cls & 2) << 7));
}

static inline bool stun_has(const struct stun_msg *m, enum stun_attr_index ai)
{
	return m->off[ai] != 0;
}

static inline const uint8_t *stun_val(const struct stun_msg *m, enum stun_attr_index ai)
{
	return m->buf + m->off[ai];
}

/* Reading attribute values. Each returns -EINVAL for a value of the wrong shape. */
int stun_get_u32(const struct stun_msg *m, enum stun_attr_index ai, uint32_t *v);
int stun_get_u64(const struct stun_msg *m, enum stun_attr_index ai, uint64_t *v);
/* A string attribute: pointer into the message and its length (no terminator). */
int stun_get_str(const struct stun_msg *m, enum stun_attr_index ai, const char **s, size_t *len);

/* An address: IPv4 (family 4, 4 bytes) or IPv6 (family 6, 16 bytes), network byte order. */
struct stun_addr {
	uint8_t family;			/* 4 or 6 */
	uint16_t port;			/* network byte order */
	uint8_t ip[16];
};

/* The @i-th XOR-PEER-ADDRESS (CreatePermission may carry several). */
int stun_get_peer(const struct stun_msg *m, unsigned int i, struct stun_addr *a);
int stun_get_xor_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a);
int stun_get_addr(const struct stun_msg *m, enum stun_attr_index ai, struct stun_addr *a);
/* ERROR-CODE: the number (300..699) and the reason phrase. */
int stun_get_error(const struct stun_msg *m, int *code, const char **reason, size_t *len);
/* CHANNEL-NUMBER (host order), REQUESTED-TRANSPORT (protocol number). */
int stun_get_channel(const struct stun_msg *m, uint16_t *ch);
int stun_get_transport(const struct stun_msg *m, uint8_t *proto);

/* RFC 7983 / 9443: what a datagram's first byte says it is. */
enum stun_demux { DEMUX_STUN, DEMUX_ZRTP, DEMUX_DTLS, DEMUX_TURN_CHANNEL, DEMUX_QUIC, DEMUX_RTP,
	DEMUX_UNKNOWN };

static inline enum stun_demux stun_demux(uint8_t first)
{
	if (first <= 3)
		return DEMUX_STUN;
	if (first >= 16 && first <= 19)
		return DEMUX_ZRTP;
	if (first >= 20 && first <= 63)
		return DEMUX_DTLS;
	if (first >= 64 && first <= 79)
		return DEMUX_TURN_CHANNEL;
	if (first >= 128 && first <= 191)
		return DEMUX_RTP;
	if (first >= 80 && first <= 127)
		return DEMUX_QUIC;
	return DEMUX_UNKNOWN;
}

/* ---- integrity ---- */

enum stun_mac { STUN_MAC_SHA1, STUN_MAC_SHA256 };

/* A key with the HMAC's inner and outer states absorbed once, so each check or signature
 * is two context copies and the message's own hashing (OpenSSL 3's algorithm fetch, which
 * dominates a one-shot HMAC(), happens at init only). */
struct stun_key {
	enum stun_mac mac;
	void *inner, *outer;		/* EVP_MD_CTX */
};

int stun_key_init(struct stun_key *k, enum stun_mac mac, const uint8_t *key, size_t len);
void stun_key_free(struct stun_key *k);
/* HMAC of @n pieces (for callers that sign something other than a STUN message). */
int stun_key_mac(const struct stun_key *k, const void *const *p, const size_t *len, int n,
	uint8_t *out, unsigned int *outlen);

/* 0 when MESSAGE-INTEGRITY (SHA1) or -SHA256 verifies with @k; -EBADMSG when it does not,
 * -ENOENT when the message has none. */
int stun_check_integrity(const struct stun_msg *m, const struct stun_key *k);
int stun_check_integrity_sha256(const struct stun_msg *m, const struct stun_key *k);
/* 0 when the FINGERPRINT is right, -EBADMSG when wrong, -ENOENT when absent. */
int stun_check_fingerprint(const struct stun_msg *m);

/* ---- building ---- */

struct stun_builder {
	uint8_t *buf;
	size_t cap;
	size_t len;
	int err;			/* sticky: the first failure (-ENOSPC, -EINVAL) */
};

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
/* Finishing: each patches the header length to cover itself, as RFC 8489 14.5-14.7 say. */
int stun_add_integrity(struct stun_builder *b, const struct stun_key *k);
int stun_add_integrity_sha256(struct stun_builder *b, const struct stun_key *k);
int stun_add_fingerprint(struct stun_builder *b);
/* The message's length, or the builder's error. */
int stun_build_end(struct stun_builder *b);

/* ChannelData (RFC 8656 12.4): header into @buf; @pad for streams. Returns bytes written
 * before the payload (4). */
static inline void stun_channel_data_hdr(uint8_t *buf, uint16_t ch, uint16_t len)
{
	buf[0] = ch >> 8;
	buf[1] = ch & 0xff;
	buf[2] = len >> 8;
	buf[3] = len & 0xff;
}

/* ---- credentials ---- */

/* RFC 8489 9.2.2: MD5(username ":" OpaqueString(realm) ":" OpaqueString(password)) for
 * MD5, SHA-256 of the same for SHA-256 (32 bytes). Non-ASCII input goes through SASLprep. */
int stun_long_term_key(const char *user, const char *realm, const char *pass, uint8_t out[16]);
int stun_long_term_key_sha256(const char *user, const char *realm, const char *pass,
	uint8_t out[32]);
/* USERHASH: SHA-256(OpaqueString(username) ":" OpaqueString(realm)). */
int stun_userhash(const char *user, const char *realm, uint8_t out[32]);
/* SASLprep (RFC 4013) of @in into @out; -EINVAL for prohibited input. */
int stun_saslprep(const char *in, char *out, size_t outlen);

/* The TURN REST API's time-limited credentials (coturn's use-auth-secret): the password of
 * @username is base64(HMAC-SHA1(@secret, @username)); @username is "expiry[:user]". */
int stun_rest_password(const char *secret, const char *username, char *out, size_t outlen);
/* 0 if "expiry[:user]" has not expired at @now (Unix seconds); -EKEYEXPIRED if it has,
 * -EINVAL if @username does not start with a timestamp. */
int stun_rest_check_expiry(const char *username, size_t len, uint64_t now);

#endif
