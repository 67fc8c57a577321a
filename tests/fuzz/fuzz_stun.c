/* libFuzzer target for the STUN codec: whatever a stranger sends, parsing, every getter,
 * the integrity and fingerprint checks, and building a response from what was parsed must
 * neither crash nor read out of bounds (ASan+UBSan watch); and the fast path must agree
 * with the full parser wherever it says yes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

static struct stun_key key1, key256;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The relay's fast path against stun_parse(): what it accepts, the parser accepts, with the
 * same first peer and DATA; and a plain indication the parser accepts, it accepts. */
static void check_fast_path(const uint8_t *data, size_t size)
{
	struct stun_fast_ind fi;
	struct stun_msg m;
	struct stun_addr a;
	uint16_t ch, dlen, doff;
	int fast, full, frame;

	if (stun_fast_channel_data(data, size, &ch, &dlen) == 0 &&
		(ch < 0x4000 || ch > 0x4fff || 4u + dlen > size))
		abort();
	frame = stun_frame_len(data, size);
	if (frame > 0 && size >= 20 && (data[0] & 0xc0) == 0 && stun_parse(data, size, &m) == 0 &&
		frame != m.len)
		abort();
	(void)stun_fast_data_indication(data, size, &a, &doff, &dlen);
	fast = stun_fast_indication(data, size, 0x0016, &fi);
	full = stun_parse(data, size, &m);
	if (fast == 0) {
		if (full != 0 || m.method != STUN_SEND || m.cls != STUN_INDICATION ||
			m.len != fi.len || m.off[STUN_AI_DATA] != fi.data_off ||
			m.alen[STUN_AI_DATA] != fi.data_len || stun_get_peer(&m, 0, &a) != 0 ||
			a.family != fi.peer.family || a.port != fi.peer.port ||
			memcmp(a.ip, fi.peer.ip, a.family == 4 ? 4 : 16) || m.n_unknown)
			abort();
		if (fi.data_off + fi.data_len > fi.len)
			abort();
	} else if (full == 0 && m.method == STUN_SEND && m.cls == STUN_INDICATION && !m.n_unknown &&
		!m.mi_at && !m.mi256_at && stun_get_peer(&m, 0, &a) == 0 &&
		stun_has(&m, STUN_AI_DATA)) {
		/* the parser is happy and nothing needs the slow path: the fast path must be too,
		 * unless a known attribute other than the relaying ones is present */
		bool others = false;

		for (int ai = 0; ai < STUN_AI_MAX; ai++)
			others |= stun_has(&m, ai) && ai != STUN_AI_XOR_PEER_ADDRESS &&
				ai != STUN_AI_DATA && ai != STUN_AI_DONT_FRAGMENT &&
				ai != STUN_AI_FINGERPRINT && m.buf[m.off[ai] - 4] < 0x80;
		if (!others && fast == -ENOTSUP)
			abort();
		if (fast == -EINVAL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct stun_msg m;
	struct stun_builder b;
	struct stun_addr a;
	uint8_t out[2048];
	const char *s;
	size_t sl;
	uint32_t v32;
	uint64_t v64;
	uint16_t ch, u16[8];
	uint8_t u8;
	unsigned int n;
	bool flag;
	int code, r;

	if (!key1.inner) {
		stun_key_init(&key1, STUN_MAC_SHA1, (const uint8_t *)"fuzz", 4);
		stun_key_init(&key256, STUN_MAC_SHA256, (const uint8_t *)"fuzz", 4);
	}
	(void)stun_demux(size ? data[0] : 0);
	check_fast_path(data, size);
	r = stun_parse(data, size, &m);
	(void)stun_parse_strerror(r);
	if (r < 0) {
		code = stun_parse_error_code(r, data, size);
		if (code) {
			/* a broken request is answered from its header alone */
			if (stun_build_response(&b, out, sizeof(out), &m, code) != 0)
				abort();
		}
		return 0;
	}
	if (m.len > size || m.len < STUN_HDR_LEN || m.n_unknown > STUN_MAX_UNKNOWN)
		abort();
	for (int ai = 0; ai < STUN_AI_MAX; ai++) {
		if (stun_has(&m, ai) && m.off[ai] + m.alen[ai] > m.len)
			abort(); /* every value lies inside the message */
		(void)stun_get_u32(&m, ai, &v32);
		(void)stun_get_u64(&m, ai, &v64);
		(void)stun_get_str(&m, ai, &s, &sl);
		(void)stun_get_xor_addr(&m, ai, &a);
		(void)stun_get_addr(&m, ai, &a);
		(void)stun_get_family(&m, ai, &u8);
	}
	for (int i = 0; i < m.n_peers; i++)
		(void)stun_get_peer(&m, i, &a);
	(void)stun_get_error(&m, &code, &s, &sl);
	(void)stun_get_address_error(&m, &u8, &code, &s, &sl);
	(void)stun_get_channel(&m, &ch);
	(void)stun_get_transport(&m, &u8);
	(void)stun_get_even_port(&m, &flag);
	(void)stun_get_icmp(&m, &u8, &ch, &v32);
	(void)stun_get_unknown_list(&m, u16, 8, &n);
	(void)stun_get_password_algorithms(&m, u16, 8, &n);
	(void)stun_get_password_algorithm(&m, u16);
	(void)stun_unknown_answer(&m);
	(void)stun_check_integrity(&m, &key1);
	(void)stun_check_integrity_sha256(&m, &key256);
	(void)stun_check_fingerprint(&m);
	if (stun_get_str(&m, STUN_AI_USERNAME, &s, &sl) == 0) {
		uint8_t lt[16];

		(void)stun_rest_check_expiry(s, sl, 1700000000);
		(void)stun_rest_long_term_key("secret", s, sl, "realm", 1700000000, lt);
	}
	if (stun_get_str(&m, STUN_AI_REALM, &s, &sl) == 0 && sl < 200) {
		char realm[256], prepped[256];

		memcpy(realm, s, sl);
		realm[sl] = '\0';
		(void)stun_saslprep(realm, prepped, sizeof(prepped));
	}
	/* answer it as a server would: echo the transaction, the peers, the unknowns, the data */
	if (m.cls == STUN_REQUEST)
		stun_build_response(&b, out, sizeof(out), &m, m.n_unknown ? 420 : 0);
	else
		stun_build(&b, out, sizeof(out), STUN_DATA, STUN_INDICATION, m.tid);
	for (int i = 0; i < m.n_peers; i++)
		if (stun_get_peer(&m, i, &a) == 0)
			stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &a);
	if (stun_has(&m, STUN_AI_DATA))
		stun_add(&b, STUN_ATTR_DATA, stun_val(&m, STUN_AI_DATA), m.alen[STUN_AI_DATA]);
	stun_add_integrity(&b, &key1);
	stun_add_integrity_sha256(&b, &key256);
	stun_add_fingerprint(&b);
	r = stun_build_end(&b);
	if (r > 0) {
		struct stun_msg back;

		/* what we build must parse and verify */
		if (stun_parse(out, (size_t)r, &back) != 0 || back.len != r ||
			stun_check_integrity(&back, &key1) != 0 ||
			stun_check_integrity_sha256(&back, &key256) != 0 ||
			stun_check_fingerprint(&back) != 0)
			abort();
	}
	/* and the payload relayed as ChannelData, on a stream */
	if (stun_has(&m, STUN_AI_DATA)) {
		r = stun_channel_data_build(out, sizeof(out), 0x4000, stun_val(&m, STUN_AI_DATA),
			m.alen[STUN_AI_DATA], true);
		if (r > 0 &&
			(stun_frame_len(out, (size_t)r) != r ||
				stun_fast_channel_data(out, (size_t)r, &ch, u16) != 0 ||
				u16[0] != m.alen[STUN_AI_DATA]))
			abort();
	}
	return 0;
}
