/* STUN codec micro-benchmark: ns and cycles per operation for what the planes do per
 * message — ChannelData recognition, Send indication parse, a full Allocate request parse,
 * integrity check and signature (SHA-1, SHA-256), FINGERPRINT — beside a one-shot OpenSSL
 * HMAC() for scale. Each operation is a function of its own (noinline) so that callgrind
 * can count it alone: valgrind --tool=callgrind --toggle-collect=op_<name>.
 * Usage: bench_stun [iterations] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "stun.h"

static uint8_t alloc_req[512], send_ind[512], cd[256], signed_msg[512];
static int alloc_len, send_len, signed_len;
static struct stun_key key, key256;
static volatile uint64_t sink;

#define NOINLINE __attribute__((noinline))

NOINLINE static void op_channel_data(void)
{
	/* what the data plane does: demultiplex, read number and length, bound-check */
	if (stun_demux(cd[0]) == DEMUX_TURN_CHANNEL) {
		uint16_t ch = (uint16_t)(cd[0] << 8 | cd[1]), len = (uint16_t)(cd[2] << 8 | cd[3]);
		sink += ch <= 0x4fff && len <= sizeof(cd) - 4 ? len : 0;
	}
}

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

	if (stun_parse(alloc_req, (size_t)alloc_len, &m) == 0 && stun_get_transport(&m, &proto) == 0 &&
		stun_get_u32(&m, STUN_AI_LIFETIME, &life) == 0)
		sink += proto + life + m.n_unknown;
}

NOINLINE static void op_integrity_check(void)
{
	struct stun_msg m;

	if (stun_parse(signed_msg, (size_t)signed_len, &m) == 0)
		sink += stun_check_integrity(&m, &key) == 0;
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

NOINLINE static void op_oneshot_hmac(void)
{
	uint8_t out[EVP_MAX_MD_SIZE];
	unsigned int ol;

	HMAC(EVP_sha1(), "0123456789abcdef", 16, signed_msg, 100, out, &ol);
	sink += out[0];
}

static void setup(void)
{
	uint8_t tid[12] = { 9, 8, 7, 6, 5, 4, 3, 2, 1, 0, 1, 2 }, lt[16], data[172] = { 0 };
	struct stun_addr peer = { .family = 4, .port = 0x1234, .ip = { 198, 18, 200, 2 } };
	struct stun_builder b;

	stun_long_term_key("edge", "lab.example", "edge-lab-password", lt);
	stun_key_init(&key, STUN_MAC_SHA1, lt, 16);
	stun_key_init(&key256, STUN_MAC_SHA256, lt, 16);
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
	memcpy(signed_msg, alloc_req, (size_t)alloc_len);
	signed_len = alloc_len;
	stun_build(&b, send_ind, sizeof(send_ind), STUN_SEND, STUN_INDICATION, tid);
	stun_add_xor_addr(&b, STUN_ATTR_XOR_PEER_ADDRESS, &peer);
	stun_add(&b, STUN_ATTR_DATA, data, sizeof(data));
	send_len = stun_build_end(&b);
	stun_channel_data_hdr(cd, 0x4001, 172);
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
		const char *name;
		void (*fn)(void);
		long scale;	/* fewer iterations for the slow ones */
	} ops[] = {
		{ "ChannelData recognition", op_channel_data, 1 },
		{ "Send indication parse (+peer)", op_send_parse, 1 },
		{ "Allocate request parse (7 attrs)", op_allocate_parse, 1 },
		{ "FINGERPRINT check (parse+CRC-32)", op_fingerprint, 10 },
		{ "MESSAGE-INTEGRITY check (SHA-1)", op_integrity_check, 10 },
		{ "sign: LIFETIME + MI (SHA-1)", op_sign_sha1, 10 },
		{ "sign: LIFETIME + MI-SHA256", op_sign_sha256, 10 },
		{ "one-shot OpenSSL HMAC() (scale)", op_oneshot_hmac, 100 },
	};
	long iters = argc > 1 ? atol(argv[1]) : 20000000;
	const char *only = getenv("BENCH_OP");

	setup();
	if (alloc_len <= 0 || send_len <= 0) {
		fprintf(stderr, "bench_stun: set-up failed\n");
		return 1;
	}
	printf("%-36s %10s %10s %12s\n", "operation", "ns/op", "cycles/op", "ops/s/core");
	for (unsigned int i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		long n = iters / ops[i].scale;
		double t0, t1;
		uint64_t c0, c1;

		if (only && strcmp(only, ops[i].name))
			continue;
		for (long k = 0; k < n / 100 + 1; k++)
			ops[i].fn();
		t0 = now_ns();
		c0 = __rdtsc();
		for (long k = 0; k < n; k++)
			ops[i].fn();
		c1 = __rdtsc();
		t1 = now_ns();
		printf("%-36s %10.1f %10.1f %12.0f\n", ops[i].name, (t1 - t0) / n, (double)(c1 - c0) / n,
			n / ((t1 - t0) / 1e9));
	}
	stun_key_free(&key);
	stun_key_free(&key256);
	return sink == 0xdeadbeef;	/* keeps the work observable */
}
