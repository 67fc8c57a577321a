/* libFuzzer target for the STUN codec: whatever a stranger sends, parsing, every getter,
 * the integrity and fingerprint checks, and building a response from what was parsed must
 * neither crash nor read out of bounds (ASan+UBSan watch). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stun.h"

static struct stun_key key1, key256;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
	uint16_t ch;
	uint8_t proto;
	int code, r;

	if (!key1.inner) {
		stun_key_init(&key1, STUN_MAC_SHA1, (const uint8_t *)"fuzz", 4);
		stun_key_init(&key256, STUN_MAC_SHA256, (const uint8_t *)"fuzz", 4);
	}
	(void)stun_demux(size ? data[0] : 0);
	r = stun_parse(data, size, &m);
	if (r < 0) {
		(void)stun_parse_error_code(r, data, size);
		return 0;
	}
	for (int ai = 0; ai < STUN_AI_MAX; ai++) {
		(void)stun_get_u32(&m, ai, &v32);
		(void)stun_get_u64(&m, ai, &v64);
		(void)stun_get_str(&m, ai, &s, &sl);
		(void)stun_get_xor_addr(&m, ai, &a);
		(void)stun_get_addr(&m, ai, &a);
	}
	for (int i = 0; i < m.n_peers; i++)
		(void)stun_get_peer(&m, i, &a);
	(void)stun_get_error(&m, &code, &s, &sl);
	(void)stun_get_channel(&m, &ch);
	(void)stun_get_transport(&m, &proto);
	(void)stun_check_integrity(&m, &key1);
	(void)stun_check_integrity_sha256(&m, &key256);
	(void)stun_check_fingerprint(&m);
	if (stun_get_str(&m, STUN_AI_USERNAME, &s, &sl) == 0)
		(void)stun_rest_check_expiry(s, sl, 1700000000);
	if (stun_get_str(&m, STUN_AI_REALM, &s, &sl) == 0 && sl < 200) {
		char realm[256], prepped[256];

		memcpy(realm, s, sl);
		realm[sl] = '\0';
		(void)stun_saslprep(realm, prepped, sizeof(prepped));
	}
	/* answer it as a server would: echo the transaction, the peers, the unknowns */
	stun_build(&b, out, sizeof(out), m.method,
		m.method == STUN_SEND || m.method == STUN_DATA ? STUN_INDICATION : STUN_ERROR, m.tid);
	stun_add_error(&b, 420, "Unknown Attribute");
	if (m.n_unknown)
		stun_add_unknown(&b, m.unknown, m.n_unknown);
	for (int i = 0; i < m.n_peers; i++)
		if (stun_get_peer(&m, i, &a) == 0)
			stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &a);
	if (stun_has(&m, STUN_AI_DATA))
		stun_add(&b, STUN_ATTR_DATA, stun_val(&m, STUN_AI_DATA), m.alen[STUN_AI_DATA]);
	stun_add_integrity(&b, &key1);
	stun_add_fingerprint(&b);
	r = stun_build_end(&b);
	if (r > 0) {
		struct stun_msg back;

		if (stun_parse(out, (size_t)r, &back) != 0 || stun_check_integrity(&back, &key1) != 0 ||
			stun_check_fingerprint(&back) != 0)
			abort();	/* what we build must parse and verify */
	}
	return 0;
}
