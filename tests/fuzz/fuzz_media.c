/* libFuzzer target for a media port's input: whatever a browser or a stranger sends there must
 * neither crash, leak an mbuf or memory, nor read out of bounds (ASan+UBSan watch), in the
 * SFU's fast path (RFC 7983 demux, SRTP/SRTCP unprotect, the RTCP parser, the fan-out) and in
 * the media server's parsers for what the fast path hands it (ICE-lite checks, DTLS records).
 *
 * Each input goes, as it is, to every stage:
 *   1. as a UDP payload from leg A's 5-tuple, then from leg B's, to the media port, through
 *      dp_port_input();
 *   2. when it looks like RTP/RTCP, protected first with the leg's key as its browser would, so
 *      the SSRC check, sfu_rtcp_targets() and the fan-out to the other leg run on authenticated
 *      input;
 *   3. to sfu_rtcp_targets() directly;
 *   4. to mice_parse() and, when it parses, mice_answer();
 *   5. to mdtls_input() on a fresh DTLS leg, drained with mdtls_output();
 *   6. (issue 18) as stage 1 and 2 from leg C, an IPv6 leg, through sfu_is_media_port6 and
 *      sfu_input6 as ipv6_input dispatches them: C sends to A (IPv4 headers written on an
 *      IPv6 packet), B sends to C as well as A (IPv6 headers on IPv4 packets, copies and in
 *      place).
 * A is AES128_CM_SHA1_80 (libsrtp2), B AEAD_AES_128_GCM (our srtp_fast), both as the media
 * server makes them (media_srtp_new): A's input is unprotected by libsrtp2 and protected for B
 * by srtp_fast, B's the other way round; on odd-sized inputs B sends simulcast (its layers
 * learnt from the rid extension, renumbered for A, PLIs for the layer A waits for). Every
 * context is made anew for every input, so no input depends on the ones before it. */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/sha.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <srtp2/srtp.h>

#include "dp.h"
#include "edge_rcu.h"
#include "media_dtls.h"
#include "media_ice.h"
#include "media_tables.h"
#include "sfu.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* RTE_IPV4() shifts an int into the sign bit: UBSan would stop every run */
#define IP4(a, b, c, d)                                                                            \
	RTE_BE32((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define OUR_IP IP4(198, 18, 32, 1)
#define MEDIA_PORT 5004
#define A_IP IP4(198, 18, 32, 11)
#define A_PORT 40001
#define B_IP IP4(198, 18, 32, 12)
#define B_PORT 40002
#define C_PORT 40003 /* C: IPv6, 2001:db8:32::13, to our 2001:db8:32::1 */
#define MAX_PAYLOAD 8192
#define ICE_PWD "fuzzfuzzfuzzfuzzfuzzfu"

static struct rte_mempool *mp;
static struct dp_l3 l3;
static struct media_tab tab;
static struct media_leg leg_a, leg_b, leg_c;
static srtp_t a_send, b_send, c_send; /* the browsers: protect what they send */
static const uint8_t our_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x32, [15] = 1 };
static const uint8_t c_ip6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0x32, [15] = 0x13 };
static struct mdtls_ctx *dtls;
static uint8_t remote_fp[MDTLS_FP_LEN];
static const struct rte_ether_addr our_mac = { { 2, 0, 0, 0, 0x32, 1 } };
static const uint8_t key_a[30] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18,
	19, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 30 };
static const uint8_t key_b[30] = { 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb,
	0xbc, 0xbd, 0xbe, 0xbf, 0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7, 0xc8, 0xc9, 0xca,
	0xcb, 0xcc, 0xcd, 0xce };
static const uint8_t key_c[30] = { 0xc1, 0x11, 0xc2, 0x22, 0xc3, 0x33, 0xc4, 0x44, 0xc5, 0x55, 0xc6,
	0x66, 0xc7, 0x77, 0xc8, 0x88, 0xc9, 0x99, 0xca, 0xaa, 0xcb, 0xbb, 0xcc, 0xcc, 0xcd, 0xdd,
	0xce, 0xee, 0xcf, 0xff };

/* A browser's own context (libsrtp2). */
static srtp_t mk_ctx(const uint8_t *key, bool gcm, bool inbound)
{
	srtp_policy_t p;
	uint8_t k[30];
	srtp_t s;

	memset(&p, 0, sizeof(p));
	if (gcm) {
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtp);
		srtp_crypto_policy_set_aes_gcm_128_16_auth(&p.rtcp);
	} else {
		srtp_crypto_policy_set_rtp_default(&p.rtp);
		srtp_crypto_policy_set_rtcp_default(&p.rtcp);
	}
	memcpy(k, key, sizeof(k));
	p.key = k;
	p.ssrc.type = inbound ? ssrc_any_inbound : ssrc_any_outbound;
	p.window_size = 1024;
	p.allow_repeat_tx = 1;
	if (srtp_create(&s, &p) != srtp_err_status_ok)
		abort();
	return s;
}

static void leg_init(struct media_leg *l, uint16_t slot, uint32_t ip, uint16_t port, uint32_t audio,
	uint32_t video, const struct media_leg *to, uint8_t pt_shift)
{
	struct media_out *o = &l->out[0];

	l->slot = slot;
	l->ifi = 0;
	memset(l->mac, 2, 6);
	l->local_ip = OUR_IP;
	l->local_port = htons(MEDIA_PORT);
	l->remote_ip = ip;
	l->remote_port = htons(port);
	l->audio_ssrc = audio;
	l->video_ssrc = video;
	l->rtx = media_rtx_get(slot); /* video kept, NACKs served from it */
	l->n_out = 1;
	o->dst = to->slot;
	o->fwd_audio = o->fwd_video = o->takes = true;
	o->dst_audio_ssrc = to->audio_ssrc;
	o->dst_video_ssrc = to->video_ssrc;
	for (int pt = 0; pt < 128; pt++) /* most types map, a few do not */
		o->pt_map[pt] = pt % 7 == 3 ? 0xff : (uint8_t)((pt + pt_shift) & 0x7f);
}

static void index_add(const struct media_leg *e)
{
	uint32_t h = media_leg_hash(&tab, e);

	while (tab.index[h & (MEDIA_INDEX_SIZE - 1)])
		h++;
	tab.index[h & (MEDIA_INDEX_SIZE - 1)] = (uint16_t)(e->slot + 1);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char *eal[] = { "fuzz_media", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
		"--no-shconf", "--log-level=lib.*:error", NULL };
	char err[128];

	(void)argc, (void)argv;
	if (rte_eal_init(9, eal) < 0 || srtp_init() != srtp_err_status_ok ||
		media_tables_add_lcore(rte_lcore_id()) < 0)
		abort();
	mp = rte_pktmbuf_pool_create("fuzz", 255, 0, 0,
		RTE_PKTMBUF_HEADROOM + 14 + 60 + 8 + MAX_PAYLOAD + 64, 0);
	if (!mp)
		abort();
	edge_rcu_reader_start();
	l3.ifs[0] = (struct dp_if){ .present = true,
		.up = true,
		.mac = our_mac,
		.n_addrs = 1,
		.addr = { OUR_IP },
		.mask = { htonl(0xffffff00) },
		.v6 = true,
		.n_addrs6 = 1,
		.prefix6 = { 64 } };
	memcpy(l3.ifs[0].addr6[0], our_ip6, 16);
	l3.default_if = 0;
	l3.relay_if = -1;
	l3.media_port[0] = htons(MEDIA_PORT);
	l3.media_ip[0] = OUR_IP;

	/* A (AES-CM) sends to B (GCM) and B to A; A's SSRCs are 1 and 2, B's 3 and 4, so that
	 * short mutated RTCP finds them */
	tab.seed = 0x1234;
	leg_init(&leg_a, 3, A_IP, A_PORT, 1, 2, &leg_b, 0);
	leg_init(&leg_b, 7, B_IP, B_PORT, 3, 4, &leg_a, 1);
	leg_init(&leg_a, 3, A_IP, A_PORT, 1, 2, &leg_b, 0); /* now that B's SSRCs are set */
	/* C (IPv6, AES-CM, SSRCs 5 and 6) sends to A; B to C as well */
	leg_init(&leg_c, 11, 0, C_PORT, 5, 6, &leg_a, 2);
	leg_c.local_ip = 0;
	leg_c.v6 = true;
	memcpy(leg_c.local_ip6, our_ip6, 16);
	memcpy(leg_c.remote_ip6, c_ip6, 16);
	leg_b.out[1] = leg_b.out[0];
	leg_b.out[1].dst = leg_c.slot;
	leg_b.out[1].dst_audio_ssrc = leg_c.audio_ssrc;
	leg_b.out[1].dst_video_ssrc = leg_c.video_ssrc;
	leg_b.n_out = 2;
	tab.legs[leg_a.slot] = &leg_a;
	tab.legs[leg_b.slot] = &leg_b;
	tab.legs[leg_c.slot] = &leg_c;
	tab.n_legs = 3;
	for (int k = 0; k < 4; k++)
		tab.key6[k] = 0x9e3779b97f4a7c15ull * (uint64_t)(k + 1);
	index_add(&leg_a);
	index_add(&leg_b);
	index_add(&leg_c);
	media_tab_current = &tab;

	dtls = mdtls_ctx_new(err, sizeof(err));
	if (!dtls)
		abort();
	SHA256((const uint8_t *)"a browser's certificate", 24, remote_fp);
	return 0;
}

/* C's datagram: Ethernet, IPv6 (no extension headers), UDP with its checksum */
static struct rte_mbuf *frame6(const uint8_t *pl, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eth;
	struct rte_ipv6_hdr *ip;
	struct rte_udp_hdr *u;

	if (!m || !rte_pktmbuf_append(m, (uint16_t)(14 + 40 + 8 + len)))
		abort();
	eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	ip = (struct rte_ipv6_hdr *)(eth + 1);
	u = (struct rte_udp_hdr *)(ip + 1);
	memset(eth, 0, 14 + 40 + 8);
	eth->dst_addr = our_mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 9, 9, 9, 9, 0x13 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV6);
	ip->vtc_flow = htonl(6u << 28);
	ip->payload_len = htons((uint16_t)(8 + len));
	ip->proto = IPPROTO_UDP;
	ip->hop_limits = 64;
	memcpy(ip->src_addr, c_ip6, 16);
	memcpy(ip->dst_addr, our_ip6, 16);
	u->src_port = htons(C_PORT);
	u->dst_port = htons(MEDIA_PORT);
	u->dgram_len = htons((uint16_t)(8 + len));
	memcpy(u + 1, pl, len);
	u->dgram_cksum = rte_ipv6_udptcp_cksum(ip, u);
	return m;
}

static struct rte_mbuf *frame(const struct media_leg *from, const uint8_t *pl, size_t len)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	if (!m)
		abort(); /* the pool empties only if an earlier input leaked */
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + 8 + len));
	if (!eth)
		abort();
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	u = (struct rte_udp_hdr *)(ip + 1);
	memset(eth, 0, 14 + 20 + 8);
	eth->dst_addr = our_mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 9, 9, 9, 9, 9 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	ip->version_ihl = 0x45;
	ip->total_length = htons((uint16_t)(20 + 8 + len));
	ip->time_to_live = 64;
	ip->next_proto_id = IPPROTO_UDP;
	ip->src_addr = from->remote_ip;
	ip->dst_addr = OUR_IP;
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	u->src_port = from->remote_port;
	u->dst_port = htons(MEDIA_PORT);
	u->dgram_len = htons((uint16_t)(8 + len));
	memcpy(u + 1, pl, len);
	return m;
}

/* What the fast path sent is a well-formed datagram from the media port to @to (or to @from:
 * our own feedback to a sender, a PLI for a simulcast layer). */
static void check_sent(struct rte_mbuf *m, const struct media_leg *to, const struct media_leg *from)
{
	struct rte_ether_hdr *eth = rte_pktmbuf_mtod(m, struct rte_ether_hdr *);
	struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv4_hdr *, 14);
	struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

	if (eth->ether_type == htons(RTE_ETHER_TYPE_IPV6)) { /* for C, the only IPv6 leg */
		struct rte_ipv6_hdr *ip6 = (struct rte_ipv6_hdr *)(eth + 1);

		u = (struct rte_udp_hdr *)(ip6 + 1);
		if (from == &leg_a || /* A sends to B only */
			m->data_len < 14 + 40 + 8 || m->pkt_len != m->data_len ||
			ntohs(ip6->payload_len) != m->data_len - 14 - 40 ||
			ip6->vtc_flow != htonl(6u << 28) || ip6->proto != IPPROTO_UDP ||
			memcmp(ip6->dst_addr, c_ip6, 16) || memcmp(ip6->src_addr, our_ip6, 16) ||
			u->src_port != htons(MEDIA_PORT) || u->dst_port != htons(C_PORT) ||
			ntohs(u->dgram_len) != ntohs(ip6->payload_len) || !u->dgram_cksum ||
			rte_ipv6_udptcp_cksum_verify(ip6, u) != 0)
			abort();
		return;
	}

	if (ip->dst_addr == from->remote_ip && u->dst_port == from->remote_port)
		to = from;
	if (m->data_len < 14 + 20 + 8 || m->pkt_len != m->data_len ||
		ntohs(ip->total_length) != m->data_len - 14 || ip->dst_addr != to->remote_ip ||
		ip->src_addr != OUR_IP || u->src_port != htons(MEDIA_PORT) ||
		u->dst_port != to->remote_port || rte_ipv4_cksum(ip) != 0 ||
		rte_ipv4_udptcp_cksum_verify(ip, u) != 0)
		abort();
}

static void run(const struct media_leg *from, const struct media_leg *to, const uint8_t *pl,
	size_t len)
{
	struct dp_burst_out out;
	struct dp_if_stats st;
	struct rte_mbuf *m = from->v6 ? frame6(pl, len) : frame(from, pl, len);

	memset(&out, 0, sizeof(out));
	memset(&st, 0, sizeof(st));
	if (from->v6) { /* as ipv6_input dispatches UDP to our address (issue 18) */
		struct rte_ipv6_hdr *ip = rte_pktmbuf_mtod_offset(m, struct rte_ipv6_hdr *, 14);
		struct rte_udp_hdr *u = (struct rte_udp_hdr *)(ip + 1);

		if (!sfu_is_media_port6(&l3, 0, ip->dst_addr, u->dst_port))
			abort();
		if (!sfu_input6(&l3, m, ip, u, ntohs(u->dgram_len), rte_rdtsc(), &out, &st))
			rte_pktmbuf_free(m); /* the kernel's */
	} else {
		dp_port_input(&l3, 0, &m, 1, &out, &st);
	}
	for (unsigned int i = 0; i < out.n_fwd[0]; i++)
		check_sent(out.fwd[0][i], to, from);
	dp_burst_out_free(&out);
	if (rte_mempool_in_use_count(mp) != 0)
		abort(); /* an mbuf the fast path neither queued nor freed */
}

/* Ours, as the media server's make_srtp() makes them: GCM in srtp_fast, AES-CM in libsrtp2. */
static struct media_srtp *mk_ours(const uint8_t *key, bool gcm, bool inbound)
{
	struct media_srtp *s;

	if (media_srtp_new(&s, gcm ? MEDIA_SRTP_AEAD_AES_128_GCM : MEDIA_SRTP_AES128_CM_SHA1_80,
		    key, key + 16, inbound, 0) < 0 ||
		s->fast != gcm)
		abort();
	return s;
}

/* The input from @from's 5-tuple as it is, then protected by @send as @from's browser would
 * (twice: the second is a replay). */
static void fuzz_from(const struct media_leg *from, const struct media_leg *to, srtp_t send,
	const uint8_t *data, size_t size)
{
	static uint8_t buf[MAX_PAYLOAD + SRTP_MAX_TRAILER_LEN + 16];
	int n = (int)size;

	run(from, to, data, size);
	if (size >= 12 && (data[0] & 0xc0) == 0x80) {
		bool rtcp = data[1] >= 192 && data[1] <= 223;

		memcpy(buf, data, size);
		if ((rtcp ? srtp_protect_rtcp(send, buf, &n) : srtp_protect(send, buf, &n)) ==
				srtp_err_status_ok &&
			(size_t)n <= MAX_PAYLOAD + 32) {
			run(from, to, buf, (size_t)n);
			run(from, to, buf, (size_t)n); /* once more: a replay */
		}
	}
}

static void fuzz_fast_path(const uint8_t *data, size_t size)
{
	struct media_srtp *a_rx = mk_ours(key_a, false, true), *a_tx = mk_ours(key_b, true, false);
	struct media_srtp *b_rx = mk_ours(key_b, true, true), *b_tx = mk_ours(key_a, false, false);
	struct media_srtp *b_tx_c = mk_ours(key_c, false, false);
	struct media_srtp *c_rx = mk_ours(key_c, false, true), *c_tx = mk_ours(key_a, false, false);
	/* every odd-sized input: B sends simulcast, layers "a" and "b" named in extension 1, A
	 * is to get one of them; our PLIs to B under a context of their own */
	bool sim = size & 1;
	struct media_srtp *b_fb = sim ? mk_ours(key_b, true, false) : NULL;

	if (sim) {
		leg_b.sim = media_sim_get(leg_b.slot, 2);
		if (!leg_b.sim)
			abort();
		leg_b.n_layers = 2;
		leg_b.rid_ext = 1;
		strcpy(leg_b.rid[0], "a");
		strcpy(leg_b.rid[1], "b");
		leg_b.vp8_pt = 96;
		leg_b.rtx = NULL;
		leg_b.twcc_ssrc = 0x7c5f0001;
		leg_b.twcc_tx = *b_fb;
		leg_b.sim->rx[leg_a.slot].want = size % 3 == 0 ? 0 : 1;
	}
	/* replay windows and rollover counters start from zero */
	leg_a.rx = *a_rx;
	leg_a.out[0].tx = *a_tx;
	leg_b.rx = *b_rx;
	leg_b.out[0].tx = *b_tx;
	leg_b.out[1].tx = *b_tx_c;
	leg_c.rx = *c_rx;
	leg_c.out[0].tx = *c_tx;
	a_send = mk_ctx(key_a, false, false);
	b_send = mk_ctx(key_b, true, false);
	c_send = mk_ctx(key_c, false, false);

	fuzz_from(&leg_a, &leg_b, a_send, data, size);
	fuzz_from(&leg_b, &leg_a, b_send, data, size);
	fuzz_from(&leg_c, &leg_a, c_send, data, size);

	media_srtp_free(a_rx);
	media_srtp_free(a_tx);
	media_srtp_free(b_rx);
	media_srtp_free(b_tx);
	media_srtp_free(b_tx_c);
	media_srtp_free(c_rx);
	media_srtp_free(c_tx);
	srtp_dealloc(a_send);
	srtp_dealloc(b_send);
	srtp_dealloc(c_send);
	media_leg_counters_reset(leg_a.slot);
	media_leg_counters_reset(leg_c.slot);
	media_leg_counters_reset(leg_b.slot); /* its last_pli: every input may ask again */
	if (sim) {			      /* (its layers were forgotten with its counters) */
		leg_b.sim = NULL;
		leg_b.n_layers = leg_b.rid_ext = leg_b.vp8_pt = 0;
		leg_b.rtx = media_rtx_get(leg_b.slot);
		leg_b.twcc_ssrc = 0;
		media_srtp_free(b_fb);
	}
}

static void fuzz_ice(const uint8_t *data, size_t size)
{
	struct mice_check c;
	uint8_t out[512];

	if (mice_parse(data, size, &c) != 0)
		return;
	if (memchr(c.local_ufrag, 0, sizeof(c.local_ufrag)) == NULL ||
		memchr(c.remote_ufrag, 0, sizeof(c.remote_ufrag)) == NULL)
		abort();
	(void)mice_answer(data, size, &c, ICE_PWD, A_IP, A_PORT, out, sizeof(out));
	(void)mice_answer(data, size, &c, ICE_PWD, A_IP, A_PORT, out, 40); /* too small */
}

static void fuzz_dtls(const uint8_t *data, size_t size)
{
	struct mdtls *d = mdtls_new(dtls, remote_fp, sizeof(remote_fp));
	uint8_t out[MDTLS_MTU];
	int n;

	if (!d)
		abort();
	(void)mdtls_input(d, data, size);
	while ((n = mdtls_output(d, out, sizeof(out))) > 0)
		if (n > MDTLS_MTU)
			abort();
	(void)mdtls_timeout_ms(d);
	(void)mdtls_input(d, data, size); /* the same record again */
	while (mdtls_output(d, out, sizeof(out)) > 0)
		;
	mdtls_free(d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t copy[MAX_PAYLOAD];
	struct sfu_nacks nk;
	uint32_t keyframe;
	uint16_t len;

	if (size > MAX_PAYLOAD)
		return 0;
	fuzz_fast_path(data, size);
	/* it rewrites the packet (NACKs taken out): on a copy, each leg's from the input */
	for (int k = 0; k < 2; k++) {
		memcpy(copy, data, size);
		len = (uint16_t)size;
		if (sfu_rtcp_targets(k ? &leg_b : &leg_a, copy, &len, &keyframe, &nk, k == 0) >=
				0 &&
			(len > size || nk.n > SFU_NACK_FCI_MAX))
			abort();
	}
	fuzz_ice(data, size);
	fuzz_dtls(data, size);
	return 0;
}
