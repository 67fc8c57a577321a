/* The SFU's per-packet crypto in memory on one core: unprotect a sender's packet once, then copy
 * and protect it for each of R receivers. Built twice: against the OpenSSL libsrtp2 and Debian's.
 * The OpenSSL build also carries our own GCM (dataplane/srtp_fast.c): "ours" runs only that,
 * on the same packets, still checked by libsrtp's receivers.
 *   bench_srtp [ms-per-case] [ours]    (ms 0: one batch per case, for callgrind) */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <x86intrin.h>

#include <srtp2/srtp.h>

#ifdef BENCH_SRTP_OURS
#include "../dataplane/srtp_fast.h"
#endif

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

#ifndef BENCH_SRTP_LIB
#define BENCH_SRTP_LIB "?"
#endif

enum { HDR = 12, MAXR = 9, BATCH = 1024, SLOT = 1536, SSRC = 0x5501a0b2 };

struct profile {
	const char *name;
	int gcm;
	int key_len;
};

static const struct profile profiles[] = {
	{ "AEAD_AES_128_GCM", 1, 28 },
	{ "AES128_CM_SHA1_80", 0, 30 },
};
static const int payloads[] = { 160, 1200 };
static const int receivers[] = { 1, 4, 9 };

/* Sender leg (sender -> SFU) and one leg per receiver (SFU -> receiver, and the receiver's own
 * inbound session that checks what the SFU sent). */
struct legs {
	srtp_t snd_out, sfu_in;
	srtp_t sfu_out[MAXR], rcv_in[MAXR];
};

static uint8_t in_pkts[BATCH][SLOT]; /* protected by the sender, one batch ahead */
static int in_lens[BATCH];
static uint8_t out_pkts[MAXR][SLOT]; /* one out buffer per receiver, as a tx mbuf */
static uint8_t plain_ref[SLOT];
static uint8_t sample[MAXR][SLOT];
static int sample_len[MAXR];

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/* The master key || salt of the session made from @seed. */
static void bench_key(uint8_t key[32], const struct profile *pr, uint8_t seed)
{
	for (int i = 0; i < pr->key_len; i++)
		key[i] = (uint8_t)(seed * 31 + i * 7 + 1);
}

static int bench_session(srtp_t *s, const struct profile *pr, uint8_t seed, int window)
{
	uint8_t key[32];
	srtp_policy_t p;

	bench_key(key, pr, seed);
	memset(&p, 0, sizeof(p));
	if (pr->gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&p.rtp);
		srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	}
	p.ssrc.type = ssrc_specific;
	p.ssrc.value = SSRC;
	p.key = key;
	p.window_size = window;
	return srtp_create(s, &p) == srtp_err_status_ok ? 0 : -EINVAL;
}

static int legs_make(struct legs *l, const struct profile *pr, int r)
{
	memset(l, 0, sizeof(*l));
	/* The SFU's inbound window is libwebrtc's (1024: libsrtp shifts it per packet, so it
	 * costs); a sending stream only checks for repeats, so the smallest window will do. */
	if (bench_session(&l->snd_out, pr, 1, 64) || bench_session(&l->sfu_in, pr, 1, 1024))
		return -EINVAL;
	for (int i = 0; i < r; i++)
		if (bench_session(&l->sfu_out[i], pr, 10 + i, 64) ||
			bench_session(&l->rcv_in[i], pr, 10 + i, 1024))
			return -EINVAL;
	return 0;
}

static void legs_free(struct legs *l)
{
	srtp_t *all = &l->snd_out;

	for (size_t i = 0; i < sizeof(*l) / sizeof(srtp_t); i++)
		if (all[i])
			srtp_dealloc(all[i]);
}

static void make_plain(uint8_t *p, uint16_t seq, int payload)
{
	p[0] = 0x80;
	p[1] = 0x6f;
	p[2] = seq >> 8;
	p[3] = seq;
	p[4] = 0, p[5] = 0, p[6] = seq >> 8, p[7] = seq;
	for (int i = 0; i < 4; i++)
		p[8 + i] = (uint8_t)((uint32_t)SSRC >> (24 - 8 * i));
	memset(p + HDR, (uint8_t)seq, payload);
}

/* The sender's next BATCH packets; not timed (the sender's cost is not the SFU's). */
static int sender_batch(struct legs *l, uint16_t *seq, int payload)
{
	for (int i = 0; i < BATCH; i++) {
		int n = HDR + payload;

		make_plain(in_pkts[i], (*seq)++, payload);
		if (srtp_protect(l->snd_out, in_pkts[i], &n) != srtp_err_status_ok)
			return -EIO;
		in_lens[i] = n;
	}
	return 0;
}

/* One forwarded packet: what the SFU core does per packet per sender. */
static __attribute__((noinline)) int bench_forward(struct legs *l, uint8_t *pkt, int len, int r)
{
	if (srtp_unprotect(l->sfu_in, pkt, &len) != srtp_err_status_ok)
		return -EIO;
	for (int i = 0; i < r; i++) {
		int n = len;

		memcpy(out_pkts[i], pkt, len);
		if (srtp_protect(l->sfu_out[i], out_pkts[i], &n) != srtp_err_status_ok)
			return -EIO;
		if (i == 0 && n > SLOT)
			return -EMSGSIZE;
	}
	return len;
}

#ifdef BENCH_SRTP_OURS
/* Our contexts in place of the SFU's libsrtp sessions, keyed as those are. */
static struct {
	struct srtp_fast in, out[MAXR];
} ours;

static int ours_make(const struct profile *pr, int r)
{
	uint8_t key[32];

	bench_key(key, pr, 1);
	if (srtp_fast_init(&ours.in, key, key + 16, true))
		return -EINVAL;
	for (int i = 0; i < r; i++) {
		bench_key(key, pr, (uint8_t)(10 + i));
		if (srtp_fast_init(&ours.out[i], key, key + 16, false))
			return -EINVAL;
	}
	return 0;
}

static void ours_free(int r)
{
	srtp_fast_free(&ours.in);
	for (int i = 0; i < r; i++)
		srtp_fast_free(&ours.out[i]);
}

/* bench_forward with our contexts */
static __attribute__((noinline)) int bench_forward_ours(uint8_t *pkt, int len, int r)
{
	if (srtp_fast_unprotect(&ours.in, pkt, &len))
		return -EIO;
	for (int i = 0; i < r; i++) {
		int n = len;

		memcpy(out_pkts[i], pkt, len);
		if (srtp_fast_protect(&ours.out[i], out_pkts[i], &n))
			return -EIO;
		if (i == 0 && n > SLOT)
			return -EMSGSIZE;
	}
	return len;
}
#endif

/* Which code forwards: libsrtp's sessions, or ours keyed the same. */
static int use_ours;

static int forward(struct legs *l, uint8_t *pkt, int len, int r)
{
#ifdef BENCH_SRTP_OURS
	if (use_ours)
		return bench_forward_ours(pkt, len, r);
#endif
	return bench_forward(l, pkt, len, r);
}

struct result {
	double ns, cycles; /* per forwarded packet (one unprotect + r protects) */
	long packets;
};

/* Forward batches until ms have passed (ms 0: one batch). The first packet of every batch is
 * checked after the fact by each receiver's inbound session: a broken setup can't look fast. */
static int run_case(const struct profile *pr, int payload, int r, int ms, const char *tag,
	struct result *res)
{
	struct legs l;
	uint16_t seq = 0xfff0; /* roll over early: the ROC path is part of the work */
	double ns = 0;
	uint64_t cyc = 0;
	long pk = 0;
	int rc;

	if ((rc = legs_make(&l, pr, r)))
		goto out;
#ifdef BENCH_SRTP_OURS
	if (use_ours && (rc = ours_make(pr, r)))
		goto out;
#endif
	do {
		uint64_t t0;
		double n0;

		if ((rc = sender_batch(&l, &seq, payload)))
			goto out;
		n0 = now_ns();
		t0 = __rdtsc();
		CALLGRIND_TOGGLE_COLLECT;
		for (int i = 0; i < BATCH; i++) {
			rc = forward(&l, in_pkts[i], in_lens[i], r);
			if (rc < 0)
				break;
			if (i == 0) {
				memcpy(plain_ref, in_pkts[0], rc);
				for (int j = 0; j < r; j++) {
					/* the protected length: unprotect trimmed the sender's tag */
					sample_len[j] = in_lens[0];
					memcpy(sample[j], out_pkts[j], in_lens[0]);
				}
			}
		}
		CALLGRIND_TOGGLE_COLLECT;
		cyc += __rdtsc() - t0;
		ns += now_ns() - n0;
		if (rc < 0)
			goto out;
		pk += BATCH;
		for (int j = 0; j < r; j++) {
			int n = sample_len[j];

			if (srtp_unprotect(l.rcv_in[j], sample[j], &n) != srtp_err_status_ok ||
				n != HDR + payload || memcmp(sample[j], plain_ref, n) != 0) {
				fprintf(stderr, "bench_srtp: receiver %d got a wrong packet\n", j);
				rc = -EBADMSG;
				goto out;
			}
		}
	} while (ns < ms * 1e6);
	CALLGRIND_DUMP_STATS_AT(tag);
	res->ns = ns / pk;
	res->cycles = (double)cyc / pk;
	res->packets = pk;
	rc = 0;
out:
	legs_free(&l);
#ifdef BENCH_SRTP_OURS
	if (use_ours)
		ours_free(r);
#endif
	return rc;
}

int main(int argc, char **argv)
{
	int ms = argc > 1 ? atoi(argv[1]) : 200;
	const char *lib = BENCH_SRTP_LIB;
	size_t n_profiles = sizeof(profiles) / sizeof(profiles[0]);

	if (argc > 2 && !strcmp(argv[2], "ours")) {
#ifdef BENCH_SRTP_OURS
		use_ours = 1;
		lib = BENCH_SRTP_OURS;
		n_profiles = 1; /* ours is GCM only */
#else
		fprintf(stderr, "bench_srtp: built without our SRTP\n");
		return 2;
#endif
	}
	if (srtp_init() != srtp_err_status_ok)
		return 1;
	printf("# %s, crypto: %s, %d ms per case, checked by each receiver\n",
		srtp_get_version_string(), lib, ms);
	printf("%-6s %-18s %5s %2s %9s %9s %10s %11s %11s %9s\n", "lib", "profile", "bytes", "R",
		"ns/pkt", "ns/rcv", "cyc/pkt", "fwd-pkt/s", "out-pkt/s", "packets");
	for (size_t p = 0; p < n_profiles; p++)
		for (size_t s = 0; s < sizeof(payloads) / sizeof(payloads[0]); s++)
			for (size_t k = 0; k < sizeof(receivers) / sizeof(receivers[0]); k++) {
				const struct profile *pr = &profiles[p];
				int r = receivers[k];
				struct result res = { 0 };
				char tag[64];

				snprintf(tag, sizeof(tag), "%s%s/%d/R%d", use_ours ? "ours/" : "",
					pr->name, payloads[s], r);
				if (run_case(pr, payloads[s], r, ms, tag, &res)) {
					fprintf(stderr, "bench_srtp: %s failed\n", tag);
					return 1;
				}
				printf("%-6s %-18s %5d %2d %9.1f %9.1f %10.0f %11.0f %11.0f %9ld\n",
					lib, pr->name, payloads[s], r, res.ns, res.ns / r,
					res.cycles, 1e9 / res.ns, r * 1e9 / res.ns, res.packets);
				fflush(stdout);
			}
	srtp_shutdown();
	return 0;
}
