/* The SFU's whole fast path in memory on one core: frames from one sender go through
 * dp_port_input() (L2/IPv4 checks, media-port demux, leg lookup, unprotect, fan-out, protect per
 * receiver, fresh headers and checksums) with a published media_tab, and what it sends is freed.
 *   bench_sfu [ms-per-case]    (ms 0: one batch per case, for callgrind)
 * One line per case: implementation, profile, RTP payload bytes (after the 12-byte header), R. */
#include <arpa/inet.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ip.h>
#include <rte_lcore.h>
#include <rte_mbuf.h>
#include <rte_udp.h>
#include <srtp2/srtp.h>

#include "dp.h"
#include "edge_rcu.h"
#include "media_tables.h"

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#else
#define CALLGRIND_TOGGLE_COLLECT
#define CALLGRIND_DUMP_STATS_AT(s) ((void)(s))
#endif

enum { MAXR = 9, BATCH = 1024, BURST = EDGE_DEFAULT_BURST, POOL = 8191, IF0 = 0, PORT = 5004 };
#define OUR_IP "198.18.40.1"
#define SRC_IP "198.18.40.100"
#define SRC_PORT 41000

struct impl {
	const char *name;
	int profile;
	unsigned int flags;
	bool notes; /* the media-quality work: video kept for NACKs (rtx.h), the uplink's
		     * sequence numbers followed, the audio level read (packets carry it),
		     * VP8 key frames looked for, frames counted */
	bool sim;   /* and the video is a simulcast layer (simulcast.h): its rid in every packet
		     * (as Chromium sends it), each receiver's numbering rewritten; no cache */
};

static const struct impl impls[] = {
	{ "ours-gcm", MEDIA_SRTP_AEAD_AES_128_GCM, 0, false, false },
	{ "ours-gcm+nack", MEDIA_SRTP_AEAD_AES_128_GCM, 0, true, false },
	{ "ours-gcm+sim", MEDIA_SRTP_AEAD_AES_128_GCM, 0, true, true },
	{ "libsrtp2-gcm", MEDIA_SRTP_AEAD_AES_128_GCM, MEDIA_SRTP_LIBSRTP, false, false },
	{ "libsrtp2-cm", MEDIA_SRTP_AES128_CM_SHA1_80, 0, false, false },
};
static const int payloads[] = { 160, 1200 };
static const int receivers[] = { 1, 4, 9 };

static struct rte_mempool *mp;
static struct dp_l3 l3;
static struct dp_if_stats st;
static struct dp_burst_out out;
static const struct rte_ether_addr our_mac = { { 2, 0, 0, 0, 0x40, 1 } };
static uint64_t sent; /* packets the fast path handed out (flushed or in fwd[]) */

/* One case's legs: the sender (slot 0) and R receivers (slots 1..R), with the browsers' own
 * libsrtp2 contexts: the sender's to protect, each receiver's to check what it got. */
struct bench {
	struct media_tab *tab;
	struct media_srtp *rx, *tx[MAXR];
	srtp_t snd, rcv[MAXR];
	uint16_t seq;
	uint32_t ts;
	bool notes, sim;
	bool key; /* the next video packet starts a key frame */
};
#define SIM_SSRC 0x5501c000u /* the sender's layer "h", learnt from its rid */

static void flush(void *ctx, uint8_t ifi, struct rte_mbuf **pkts, uint16_t n)
{
	(void)ctx, (void)ifi;
	sent += n;
	rte_pktmbuf_free_bulk(pkts, n);
}

static int lib_ctx(srtp_t *s, int profile, const uint8_t *key, bool inbound)
{
	srtp_policy_t p;
	uint8_t k[30];

	memset(&p, 0, sizeof(p));
	if (profile == MEDIA_SRTP_AEAD_AES_128_GCM) {
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
	return srtp_create(s, &p) == srtp_err_status_ok ? 0 : -1;
}

static void leg_addr(struct media_leg *e, uint16_t slot, uint32_t ip, uint16_t port)
{
	e->slot = slot;
	e->ifi = IF0;
	memset(e->mac, 2, 6);
	e->mac[5] = (uint8_t)slot;
	e->local_ip = inet_addr(OUR_IP);
	e->local_port = htons(PORT);
	e->remote_ip = ip;
	e->remote_port = htons(port);
}

static void index_add(struct media_tab *t, const struct media_leg *e)
{
	uint32_t h = media_hash(t->seed, e->remote_ip, e->remote_port, e->local_ip, e->local_port);

	while (t->index[h & (MEDIA_INDEX_SIZE - 1)])
		h++;
	t->index[h & (MEDIA_INDEX_SIZE - 1)] = (uint16_t)(e->slot + 1);
}

static int bench_init(struct bench *b, const struct impl *im, int r)
{
	uint8_t key[30];
	struct media_leg *e;

	memset(b, 0, sizeof(*b));
	b->seq = 0xfff0; /* the ROC rolls over in the first batch */
	b->tab = calloc(1, sizeof(*b->tab));
	if (!b->tab)
		return -1;
	b->tab->seed = 0x5eed;
	for (int i = 0; i < 30; i++)
		key[i] = (uint8_t)(i * 7 + 1);
	if (media_srtp_new(&b->rx, im->profile, key, key + 16, true, im->flags) < 0 ||
		lib_ctx(&b->snd, im->profile, key, false) < 0)
		return -1;
	for (int y = 0; y <= r; y++) {
		if (!(e = calloc(1, sizeof(*e))))
			return -1;
		leg_addr(e, (uint16_t)y, htonl(0xc6122800u + 10 + (uint32_t)y),
			(uint16_t)(SRC_PORT + y));
		e->audio_ssrc = 0x5501a000u + (uint32_t)y;
		e->video_ssrc = 0x5501b000u + (uint32_t)y;
		b->tab->legs[y] = e;
		b->tab->n_legs++;
	}
	e = b->tab->legs[0];
	e->remote_ip = inet_addr(SRC_IP);
	e->remote_port = htons(SRC_PORT);
	e->rx = *b->rx;
	if ((b->notes = im->notes)) {
		if (!(e->rtx = media_rtx_get(0)))
			return -1;
		e->level_ext = 1;
		e->vp8_pt = 96;
	}
	if ((b->sim = im->sim)) { /* the receivers start on "h" at its first key frame */
		e->rtx = NULL;
		e->n_layers = 2;
		e->rid_ext = 3;
		strcpy(e->rid[0], "h");
		strcpy(e->rid[1], "l");
		if (!(e->sim = media_sim_get(0, 2)))
			return -1;
		for (int y = 1; y <= r; y++)
			e->sim->rx[y].want = 0;
		b->key = true;
	}
	for (int y = 1; y <= r; y++) {
		struct media_out *o = &e->out[e->n_out++];

		for (int i = 0; i < 30; i++)
			key[i] = (uint8_t)(0x80 + y * 31 + i * 3);
		if (media_srtp_new(&b->tx[y - 1], im->profile, key, key + 16, false, im->flags) <
				0 ||
			lib_ctx(&b->rcv[y - 1], im->profile, key, true) < 0)
			return -1;
		o->tx = *b->tx[y - 1];
		o->dst = (uint16_t)y;
		o->sim_serial = (uint32_t)y;
		o->fwd_audio = o->fwd_video = true;
		o->dst_audio_ssrc = b->tab->legs[y]->audio_ssrc;
		o->dst_video_ssrc = b->tab->legs[y]->video_ssrc;
		memset(o->pt_map, 0xff, sizeof(o->pt_map));
		o->pt_map[111] = 111; /* Opus */
		o->pt_map[96] = 96;   /* VP8 */
	}
	for (int y = 0; y <= r; y++)
		index_add(b->tab, b->tab->legs[y]);
	media_tab_current = b->tab; /* one thread: no grace period to wait for */
	return 0;
}

static void bench_fini(struct bench *b, int r)
{
	media_tab_current = NULL;
	media_srtp_free(b->rx);
	if (b->snd)
		srtp_dealloc(b->snd);
	for (int y = 0; y < r; y++) {
		media_srtp_free(b->tx[y]);
		if (b->rcv[y])
			srtp_dealloc(b->rcv[y]);
	}
	for (int y = 0; b->tab && y <= r; y++)
		free(b->tab->legs[y]);
	free(b->tab);
	media_leg_counters_reset(0); /* the cache too: the next case starts empty */
}

/* The next RTP packet of the sender (audio at 160 B, video else), plaintext into @pl. */
static uint16_t next_rtp(struct bench *b, uint8_t *pl, int payload)
{
	const struct media_leg *s = b->tab->legs[0];
	uint32_t ssrc = payload <= 200 ? s->audio_ssrc : b->sim ? SIM_SSRC : s->video_ssrc;
	unsigned int h = 12;

	pl[0] = 0x80;
	pl[1] = payload <= 200 ? 111 : 96;
	pl[2] = (uint8_t)(b->seq >> 8), pl[3] = (uint8_t)b->seq;
	pl[4] = (uint8_t)(b->ts >> 24), pl[5] = (uint8_t)(b->ts >> 16);
	pl[6] = (uint8_t)(b->ts >> 8), pl[7] = (uint8_t)b->ts;
	pl[8] = (uint8_t)(ssrc >> 24), pl[9] = (uint8_t)(ssrc >> 16);
	pl[10] = (uint8_t)(ssrc >> 8), pl[11] = (uint8_t)ssrc;
	if (b->notes && payload <= 200) { /* the audio level, as browsers send it (id 1) */
		static const uint8_t ext[8] = { 0xbe, 0xde, 0, 1, 0x10, 0x80 | 35, 0, 0 };

		pl[0] |= 0x10;
		memcpy(pl + h, ext, sizeof(ext));
		h += sizeof(ext);
	}
	if (b->sim && payload > 200) { /* rid "h" (id 3); a VP8 payload descriptor, frame tag */
		static const uint8_t ext[8] = { 0xbe, 0xde, 0, 1, 0x30, 'h', 0, 0 };
		static const uint8_t vp8[11] = { 0x10, 0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80,
			0x02, 0xe0, 0x01 }; /* a key frame's first packet, 640x480 */

		pl[0] |= 0x10;
		memcpy(pl + h, ext, sizeof(ext));
		h += sizeof(ext);
		memcpy(pl + h, vp8, sizeof(vp8));
		if (!b->key)
			pl[h + 1] |= 1; /* an inter frame */
		b->key = false;
		h += sizeof(vp8);
		payload -= (int)sizeof(vp8);
	}
	for (int i = 0; i < payload; i++)
		pl[h + i] = (uint8_t)(i * 13 + b->seq);
	b->seq++;
	b->ts += 960;
	return (uint16_t)(h + payload);
}

/* A frame as the NIC would hand it over, the sender's packet protected by its browser. */
static struct rte_mbuf *frame(struct bench *b, int payload, uint8_t *plain, uint16_t *plen)
{
	struct rte_mbuf *m = rte_pktmbuf_alloc(mp);
	uint8_t pl[2048];
	uint16_t len = next_rtp(b, pl, payload);
	int n = len;
	struct rte_ether_hdr *eth;
	struct rte_ipv4_hdr *ip;
	struct rte_udp_hdr *u;

	if (plain) {
		memcpy(plain, pl, len);
		*plen = len;
	}
	if (!m || srtp_protect(b->snd, pl, &n) != srtp_err_status_ok)
		return NULL;
	eth = (struct rte_ether_hdr *)rte_pktmbuf_append(m, (uint16_t)(14 + 20 + 8 + n));
	if (!eth)
		return NULL;
	ip = (struct rte_ipv4_hdr *)(eth + 1);
	u = (struct rte_udp_hdr *)(ip + 1);
	eth->dst_addr = our_mac;
	eth->src_addr = (struct rte_ether_addr){ { 2, 9, 9, 9, 9, 9 } };
	eth->ether_type = htons(RTE_ETHER_TYPE_IPV4);
	*ip = (struct rte_ipv4_hdr){ .version_ihl = 0x45,
		.time_to_live = 64,
		.next_proto_id = IPPROTO_UDP,
		.src_addr = inet_addr(SRC_IP),
		.dst_addr = inet_addr(OUR_IP),
		.total_length = htons((uint16_t)(20 + 8 + n)) };
	ip->hdr_checksum = rte_ipv4_cksum(ip);
	*u = (struct rte_udp_hdr){ .src_port = htons(SRC_PORT),
		.dst_port = htons(PORT),
		.dgram_len = htons((uint16_t)(8 + n)) };
	memcpy(u + 1, pl, (size_t)n);
	u->dgram_cksum = rte_ipv4_udptcp_cksum(ip, u);
	return m;
}

static void out_reset(void)
{
	out.n_tx = out.n_kernel = out.n_punt = out.n_data = 0;
	out.fwd_mask = 0;
}

static uint64_t drops(void)
{
	uint64_t n = out.flush_drops;

	for (int i = 0; i < DP_DROP_MAX; i++)
		n += st.drops[i];
	return n;
}

/* One packet through, each receiver's browser decrypting what it got: a broken setup fails
 * here instead of printing numbers. */
static int check(struct bench *b, int payload, int r)
{
	uint8_t plain[2048];
	uint16_t plen;
	struct rte_mbuf *m = frame(b, payload, plain, &plen);
	int got = 0;

	if (!m)
		return -1;
	out_reset();
	dp_port_input(&l3, IF0, &m, 1, &out, &st);
	for (unsigned int i = 0; i < out.n_fwd[IF0]; i++) {
		struct rte_mbuf *c = out.fwd[IF0][i];
		struct rte_ipv4_hdr *ip = rte_pktmbuf_mtod_offset(c, struct rte_ipv4_hdr *, 14);
		uint8_t *p = rte_pktmbuf_mtod_offset(c, uint8_t *, 42);
		int n = (int)c->data_len - 42, y = (int)(ntohl(ip->dst_addr) - 0xc6122800u - 10);

		if (b->sim && plen > 200) /* the SSRC its answer names */
			edge_put_be32(plain + 8, b->tab->legs[0]->video_ssrc);
		if (y >= 1 && y <= r &&
			srtp_unprotect(b->rcv[y - 1], p, &n) == srtp_err_status_ok && n == plen &&
			!memcmp(p + 2, plain + 2, plen - 2u))
			got |= 1 << y;
	}
	rte_pktmbuf_free_bulk(out.fwd[IF0], out.n_fwd[IF0]);
	out.n_fwd[IF0] = 0;
	return got == ((1 << (r + 1)) - 2) && !drops() ? 0 : -1;
}

struct result {
	uint64_t in, out, cyc;
	double ns;
};

static double now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return t.tv_sec * 1e9 + t.tv_nsec;
}

/* Batches until @ms have passed (0: one). Building a batch's frames (the sender's protect,
 * headers, checksums) is not timed; handing them to dp_port_input in bursts of BURST and
 * freeing what it sends (as the TX ring's completion would) is. */
static int run_case(const struct impl *im, int payload, int r, int ms, const char *tag,
	struct result *res)
{
	static struct rte_mbuf *pkts[BATCH];
	struct bench b;
	int rc = -1;

	memset(res, 0, sizeof(*res));
	if (bench_init(&b, im, r) < 0)
		goto done;
	do {
		if (check(&b, payload, r) < 0) {
			fprintf(stderr, "%s: receivers did not get the packet\n", tag);
			goto done;
		}
		for (int i = 0; i < BATCH; i++)
			if (!(pkts[i] = frame(&b, payload, NULL, NULL)))
				goto done;
		uint64_t s0 = sent;
		double t0 = now_ns();
		uint64_t c0 = rte_rdtsc();

		CALLGRIND_TOGGLE_COLLECT;
		for (int i = 0; i < BATCH; i += BURST) {
			out_reset();
			dp_port_input(&l3, IF0, pkts + i, BURST, &out, &st);
			sent += out.n_fwd[IF0];
			rte_pktmbuf_free_bulk(out.fwd[IF0], out.n_fwd[IF0]);
			out.n_fwd[IF0] = 0;
		}
		CALLGRIND_TOGGLE_COLLECT;
		res->cyc += rte_rdtsc() - c0;
		res->ns += now_ns() - t0;
		res->in += BATCH;
		res->out += sent - s0;
		if (drops() || sent - s0 != (uint64_t)BATCH * r) {
			fprintf(stderr, "%s: %lu drops, %lu sent\n", tag, (unsigned long)drops(),
				(unsigned long)(sent - s0));
			goto done;
		}
	} while (res->ns < ms * 1e6);
	CALLGRIND_DUMP_STATS_AT(tag);
	rc = 0;
done:
	bench_fini(&b, r);
	return rc;
}

int main(int argc, char **argv)
{
	int ms = argc > 1 ? atoi(argv[1]) : 300;
	char lcore[16],
		*eal[] = { "bench_sfu", "-l", lcore, "--no-huge", "-m", "256", "--no-pci",
			"--no-shconf", "--log-level=lib.*:error", NULL };
	cpu_set_t cs;
	int cpu = 0;

	/* EAL pins the lcore: to the first CPU taskset gave us */
	if (sched_getaffinity(0, sizeof(cs), &cs) == 0)
		while (cpu < CPU_SETSIZE - 1 && !CPU_ISSET(cpu, &cs))
			cpu++;
	snprintf(lcore, sizeof(lcore), "%d", cpu);
	if (rte_eal_init(9, eal) < 0 || srtp_init() != srtp_err_status_ok ||
		media_tables_add_lcore(rte_lcore_id()) < 0)
		return 1;
	mp = rte_pktmbuf_pool_create("bench_sfu", POOL, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE,
		(int)rte_socket_id());
	if (!mp)
		return 1;
	l3.ifs[IF0] = (struct dp_if){ .present = true,
		.up = true,
		.mac = our_mac,
		.n_addrs = 1,
		.addr = { inet_addr(OUR_IP) },
		.mask = { htonl(0xffffff00) } };
	l3.default_if = IF0;
	l3.relay_if = -1;
	l3.media_port[IF0] = htons(PORT);
	l3.media_ip[IF0] = inet_addr(OUR_IP);
	out.flush = flush;
	edge_rcu_reader_start();
	printf("# %s, lcore %u, TSC %lu Hz, %d ms per case, burst %d, batch %d\n",
		srtp_get_version_string(), rte_lcore_id(), (unsigned long)rte_get_tsc_hz(), ms,
		BURST, BATCH);
	printf("# +nack: a video stream's cache is %zu bytes (%d packets of up to %d bytes)\n",
		sizeof(struct rtx_stream), RTX_SLOTS, RTX_MAX_PKT);
	printf("# +sim: a simulcast source's receivers' state is %zu bytes\n",
		sizeof(struct sim_stream));
	printf("# impl profile payload R in_pkts out_pkts ns/in ns/out cyc/in in/s out/s\n");
	for (size_t s = 0; s < RTE_DIM(payloads); s++)
		for (size_t k = 0; k < RTE_DIM(receivers); k++)
			for (size_t i = 0; i < RTE_DIM(impls); i++) {
				const struct impl *im = &impls[i];
				int r = receivers[k];
				char tag[64];
				struct result res;

				snprintf(tag, sizeof(tag), "%s/%d/R%d", im->name, payloads[s], r);
				if (run_case(im, payloads[s], r, ms, tag, &res) < 0)
					return 1;
				bool gcm = im->profile == MEDIA_SRTP_AEAD_AES_128_GCM;

				printf("%s %s %d %d %lu %lu %.1f %.1f %.0f %.0f %.0f\n", im->name,
					gcm ? "AEAD_AES_128_GCM" : "AES128_CM_SHA1_80", payloads[s],
					r, (unsigned long)res.in, (unsigned long)res.out,
					res.ns / res.in, res.ns / res.out, (double)res.cyc / res.in,
					res.in / res.ns * 1e9, res.out / res.ns * 1e9);
				fflush(stdout);
			}
	edge_rcu_reader_stop();
	media_tables_fini();
	srtp_shutdown();
	rte_mempool_free(mp);
	rte_eal_cleanup();
	return 0;
}
