/* STUN codec micro-benchmark: ns and cycles per operation for what the planes do per
 * message — the fast path's ChannelData and Send indication recognition, full parses,
 * integrity checks and signatures (SHA-1, SHA-256), FINGERPRINT — and the alternatives we
 * measured before choosing (zlib's crc32(), EVP_MAC_CTX_dup(), EVP_MAC_init() with a kept
 * key, a one-shot HMAC()). Each operation is a function of its own (noinline) so that
 * callgrind can count it alone: valgrind --tool=callgrind --toggle-collect=op_<name>.
 * Usage: bench_stun [iterations]   (BENCH_OP=<name> runs one operation only) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>
#include <zlib.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/params.h>

#include "stun.h"

static uint8_t alloc_req[512], send_ind[512], cd[256], signed256[512], big[1500];
static int alloc_len, send_len, signed256_len;
static struct stun_key key, key256;
static EVP_MAC_CTX *mac_kept;
static volatile uint64_t sink;

#define NOINLINE __attribute__((noinline))

/* ---- the fast path ---- */

NOINLINE static void op_channel_data(void)
{
	uint16_t ch, len;

	if (stun_fast_channel_data(cd, 176, &ch, &len) == 0)
		sink += ch + len;
}

NOINLINE static void op_send_fast(void)
{
	struct stun_addr peer;
	uint16_t off, len;

	if (stun_fast_send_indication(send_ind, (size_t)send_len, &peer, &off, &len) == 0)
		sink += off + len + peer.port;
}

/* ---- full parses ---- */

NOINLINE static void op_send_parse(void)
{
	struct stun_msg m;
	struct stun_addr a;

	if (stun_parse(send_ind, (size_t)send_len, &m) == 0 && stun_get_peer(&m, 0, &a) == 0)
		sink += m.alen[STUN_AI_DATA] + a.port;
}

NOINLINE static void op_allocate_parse(void)
{
	struct stun_msg m;
	uint8_t proto;
	uint32_t life;

	if (stun_parse(alloc_req, (size_t)alloc_len, &m) == 0 &&
		stun_get_transport(&m, &proto) == 0 &&
		stun_get_u32(&m, STUN_AI_LIFETIME, &life) == 0)
		sink += proto + life + m.n_unknown;
}

/* ---- integrity and fingerprint (each includes the parse that finds the attribute) ---- */

NOINLINE static void op_integrity_check(void)
{
	struct stun_msg m;

	if (stun_parse(alloc_req, (size_t)alloc_len, &m) == 0)
		sink += stun_check_integrity(&m, &key) == 0;
}

NOINLINE static void op_integrity_check_sha256(void)
{
	struct stun_msg m;

	if (stun_parse(signed256, (size_t)signed256_len, &m) == 0)
		sink += stun_check_integrity_sha256(&m, &key256) == 0;
}

NOINLINE static void op_sign_sha1(void)
{
	uint8_t out[512];
	struct stun_builder b;

	stun_build(&b, out, sizeof(out), STUN_ALLOCATE, STUN_SUCCESS, alloc_req + 8);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_add_integrity(&b, &key);
	sink += (uint64_t)stun_build_end(&b);
}

NOINLINE static void op_sign_sha256(void)
{
	uint8_t out[512];
	struct stun_builder b;

	stun_build(&b, out, sizeof(out), STUN_ALLOCATE, STUN_SUCCESS, alloc_req + 8);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_add_integrity_sha256(&b, &key256);
	sink += (uint64_t)stun_build_end(&b);
}

NOINLINE static void op_fingerprint(void)
{
	struct stun_msg m;

	if (stun_parse(alloc_req, (size_t)alloc_len, &m) == 0)
		sink += stun_check_fingerprint(&m) == 0;
}

NOINLINE static void op_long_term_key(void)
{
	uint8_t k[16];

	if (stun_long_term_key("edge", "lab.example", "edge-lab-password", k) == 0)
		sink += k[0];
}

/* ---- the alternatives, on the same ~100 bytes (the Allocate request up to its MI) ---- */

NOINLINE static void op_crc_ours(void)
{
	sink += stun_crc32(0, alloc_req, 100);
}

NOINLINE static void op_crc_zlib(void)
{
	sink += crc32(0, alloc_req, 100);
}

NOINLINE static void op_crc_ours_1200(void)
{
	sink += stun_crc32(0, big, sizeof(big) - 300);
}

NOINLINE static void op_crc_zlib_1200(void)
{
	sink += crc32(0, big, sizeof(big) - 300);
}

NOINLINE static void op_mac_mdctx(void)
{
	const void *p[1] = { alloc_req };
	size_t l[1] = { 100 };
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int ol;

	stun_key_mac(&key, p, l, 1, out, &ol);
	sink += out[0];
}

NOINLINE static void op_mac_dup(void)
{
	EVP_MAC_CTX *c = EVP_MAC_CTX_dup(mac_kept);
	uint8_t out[EVP_MAX_MD_SIZE];
	size_t ol;

	EVP_MAC_update(c, alloc_req, 100);
	EVP_MAC_final(c, out, &ol, sizeof(out));
	EVP_MAC_CTX_free(c);
	sink += out[0];
}

NOINLINE static void op_mac_reinit(void)
{
	uint8_t out[EVP_MAX_MD_SIZE];
	size_t ol;

	EVP_MAC_init(mac_kept, NULL, 0, NULL); /* NULL key: reuse the one set at set-up */
	EVP_MAC_update(mac_kept, alloc_req, 100);
	EVP_MAC_final(mac_kept, out, &ol, sizeof(out));
	sink += out[0];
}

NOINLINE static void op_oneshot_hmac(void)
{
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int ol;

	HMAC(EVP_sha1(), "0123456789abcdef", 16, alloc_req, 100, out, &ol);
	sink += out[0];
}

static int setup(void)
{
	uint8_t tid[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 }, lt[16], data[172] = { 0 };
	struct stun_addr peer = { .family = 4, .port = 0x1234, .ip = { 198, 18, 200, 2 } };
	struct stun_builder b;
	OSSL_PARAM params[] = { OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, "SHA1", 0),
		OSSL_PARAM_construct_end() };
	EVP_MAC *hmac = EVP_MAC_fetch(NULL, "HMAC", NULL);

	if (stun_long_term_key("edge", "lab.example", "edge-lab-password", lt) < 0 ||
		stun_key_init(&key, STUN_MAC_SHA1, lt, 16) < 0 ||
		stun_key_init(&key256, STUN_MAC_SHA256, lt, 16) < 0 || !hmac)
		return -1;
	mac_kept = EVP_MAC_CTX_new(hmac);
	EVP_MAC_free(hmac);
	if (!mac_kept || !EVP_MAC_init(mac_kept, lt, 16, params))
		return -1;
	/* an Allocate request as a client sends it after the 401: 7 attributes */
	stun_build(&b, alloc_req, sizeof(alloc_req), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add_transport(&b, 17);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_add_str(&b, STUN_ATTR_USERNAME, "edge");
	stun_add_str(&b, STUN_ATTR_REALM, "lab.example");
	stun_add_str(&b, STUN_ATTR_NONCE, "0123456789abcdef0123456789abcdef");
	stun_add_str(&b, STUN_ATTR_SOFTWARE, "bench client");
	stun_add_integrity(&b, &key);
	stun_add_fingerprint(&b);
	alloc_len = stun_build_end(&b);
	/* the same request, up to its MESSAGE-INTEGRITY, signed with MI-SHA256 instead */
	stun_build(&b, signed256, sizeof(signed256), STUN_ALLOCATE, STUN_REQUEST, tid);
	stun_add_transport(&b, 17);
	stun_add_u32(&b, STUN_ATTR_LIFETIME, 600);
	stun_add_str(&b, STUN_ATTR_USERNAME, "edge");
	stun_add_str(&b, STUN_ATTR_REALM, "lab.example");
	stun_add_str(&b, STUN_ATTR_NONCE, "0123456789abcdef0123456789abcdef");
	stun_add_str(&b, STUN_ATTR_SOFTWARE, "bench client");
	stun_add_integrity_sha256(&b, &key256);
	signed256_len = stun_build_end(&b);
	/* a Send indication with a 172-byte payload (one 20 ms Opus/G.711 frame) */
	stun_build(&b, send_ind, sizeof(send_ind), STUN_SEND, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	stun_add(&b, STUN_ATTR_DATA, data, sizeof(data));
	send_len = stun_build_end(&b);
	stun_channel_data_hdr(cd, 0x4001, 172);
	for (size_t i = 0; i < sizeof(big); i++)
		big[i] = (uint8_t)(i * 31);
	return alloc_len > 0 && send_len > 0 && signed256_len > 0 ? 0 : -1;
}

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name; /* the table's label */
		const char *op;	  /* BENCH_OP and callgrind's op_<op> */
		void (*fn)(void);
		long scale; /* fewer iterations for the slow ones */
	} ops[] = {
		{ "ChannelData recognition (fast)", "channel_data", op_channel_data, 1 },
		{ "Send indication (fast path)", "send_fast", op_send_fast, 1 },
		{ "Send indication full parse (+peer)", "send_parse", op_send_parse, 1 },
		{ "Allocate request parse (7 attrs)", "allocate_parse", op_allocate_parse, 1 },
		{ "FINGERPRINT check (parse+CRC-32)", "fingerprint", op_fingerprint, 10 },
		{ "MESSAGE-INTEGRITY check (SHA-1)", "integrity_check", op_integrity_check, 10 },
		{ "MI-SHA256 check", "integrity_check_sha256", op_integrity_check_sha256, 10 },
		{ "sign: LIFETIME + MI (SHA-1)", "sign_sha1", op_sign_sha1, 10 },
		{ "sign: LIFETIME + MI-SHA256", "sign_sha256", op_sign_sha256, 10 },
		{ "long-term key MD5(u:r:p)", "long_term_key", op_long_term_key, 100 },
		{ "CRC-32 100 B: ours (slice-by-8)", "crc_ours", op_crc_ours, 10 },
		{ "CRC-32 100 B: zlib crc32()", "crc_zlib", op_crc_zlib, 10 },
		{ "CRC-32 1200 B: stun_crc32 (zlib)", "crc_ours_1200", op_crc_ours_1200, 10 },
		{ "CRC-32 1200 B: zlib crc32()", "crc_zlib_1200", op_crc_zlib_1200, 10 },
		{ "HMAC-SHA1 100 B: stun_key (ours)", "mac_mdctx", op_mac_mdctx, 10 },
		{ "HMAC-SHA1 100 B: EVP_MAC_CTX_dup", "mac_dup", op_mac_dup, 10 },
		{ "HMAC-SHA1 100 B: EVP_MAC_init kept", "mac_reinit", op_mac_reinit, 10 },
		{ "HMAC-SHA1 100 B: one-shot HMAC()", "oneshot_hmac", op_oneshot_hmac, 100 },
	};
	long iters = argc > 1 ? atol(argv[1]) : 20000000;
	const char *only = getenv("BENCH_OP");

	if (setup() < 0) {
		fprintf(stderr, "bench_stun: set-up failed\n");
		return 1;
	}
	printf("%-36s %10s %10s %12s\n", "operation", "ns/op", "cycles/op", "ops/s/core");
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		long n = iters / ops[i].scale;
		double t0, t1;
		uint64_t c0, c1;

		if (only && strcmp(only, ops[i].op) && strcmp(only, ops[i].name))
			continue;
		for (long k = 0; k < n / 100 + 1; k++)
			ops[i].fn();
		t0 = now_ns();
		c0 = __rdtsc();
		for (long k = 0; k < n; k++)
			ops[i].fn();
		c1 = __rdtsc();
		t1 = now_ns();
		printf("%-36s %10.1f %10.1f %12.0f\n", ops[i].name, (t1 - t0) / n,
			(double)(c1 - c0) / n, n / ((t1 - t0) / 1e9));
	}
	stun_key_free(&key);
	stun_key_free(&key256);
	EVP_MAC_CTX_free(mac_kept);
	return sink == 0xdeadbeef; /* keeps the work observable */
}
