/* Compiles an interface's ordered rules into the immutable table the workers read: a verdict
 * per (protocol, destination port), so that a packet costs one load whatever the rule count,
 * and for the ports where `from` rules decide, a sorted list of source-address intervals.
 *
 * How: the rules' port bounds cut 0..65535 into intervals where the same rules apply. In each
 * interval the first rule without `from` ends the search (it or the default decides); the
 * `from` rules before it form a chain, and a chain's prefixes cut the source address space
 * into intervals with one first-matching rule each. Identical chains are shared.
 *
 * IPv6 sources get tables of their own, built the same way from the rules without `from` and
 * those from IPv6 prefixes (IPv4 ones from the others), over 128-bit addresses. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "fw.h"

/* Beyond this many source intervals in all chains the set is refused: it can only come from
 * hundreds of overlapping `from` rules over overlapping port ranges. */
#define FW_MAX_INTERVALS (1u << 22)

struct fw_build {
	const struct fw_if_config *cfg;
	/* chains, their intervals, and the rule lists that made them (to share equal ones) */
	struct fw_chain *chains;
	uint32_t n_chains, cap_chains;
	uint32_t *bounds;
	uint16_t *ent;
	uint32_t n_iv, cap_iv, cap_ent;
	uint16_t *keys;	   /* per chain: its rule indices, then its fallback entry */
	uint32_t *key_off; /* per chain: where its key starts; key_off[n_chains] = end */
	uint32_t n_keys, cap_keys;
	int32_t *index; /* open addressing on the key's hash: chain number or -1 */
	uint32_t index_mask;
	/* scratch for one chain */
	uint32_t *cut;
	uint16_t *paint;
	/* the IPv6 build: its intervals in bounds6 (bounds unused), its cuts in cut6 */
	int family; /* FW_SRC_IPV4 or FW_SRC_IPV6 */
	struct fw_addr6 *bounds6;
	uint32_t cap_iv6;
	unsigned __int128 *cut6;
};

typedef unsigned __int128 fw_u128;

static fw_u128 fw_u128_of(const uint8_t a[16])
{
	fw_u128 x = 0;

	for (int i = 0; i < 16; i++)
		x = x << 8 | a[i];
	return x;
}

static uint16_t fw_ent(const struct fw_rule *r)
{
	return (uint16_t)(r->slot << 1 | (r->action == FW_ALLOW));
}

static int fw_grow(void **p, uint32_t *cap, uint32_t need, size_t size)
{
	uint32_t n = *cap ? *cap : 64;
	void *q;

	if (need <= *cap)
		return 0;
	while (n < need)
		n *= 2;
	q = realloc(*p, (size_t)n * size);
	if (!q)
		return -ENOMEM;
	*p = q;
	*cap = n;
	return 0;
}

static int fw_cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static int fw_cmp_u128(const void *a, const void *b)
{
	fw_u128 x = *(const fw_u128 *)a, y = *(const fw_u128 *)b;

	return x < y ? -1 : x > y;
}

static uint32_t fw_key_hash(const uint16_t *key, uint32_t n)
{
	uint32_t h = 2166136261u;

	for (uint32_t i = 0; i < n; i++)
		h = (h ^ key[i]) * 16777619u;
	return h;
}

/* Tabulates the chain of `from` rules @list[0..@n) ending in @fallback: appends its source
 * intervals and returns its number, or a negative errno. */
static int fw_chain_make(struct fw_build *b, const uint16_t *list, uint32_t n, uint16_t fallback)
{
	const struct fw_rule *rules = b->cfg->rules;
	uint32_t m = 0, first, out;
	int rc;

	/* every prefix is an aligned interval: its start and the address after its end cut */
	b->cut[m++] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct fw_rule *r = &rules[list[i]];
		uint32_t size = r->src_len ? 1u << (32 - r->src_len) : 0;

		b->cut[m++] = r->src_addr;
		if (size && r->src_addr + size != 0)
			b->cut[m++] = r->src_addr + size;
	}
	qsort(b->cut, m, sizeof(b->cut[0]), fw_cmp_u32);
	for (uint32_t i = 1, u = 1; i <= m; i++) {
		if (i == m)
			m = u;
		else if (b->cut[i] != b->cut[u - 1])
			b->cut[u++] = b->cut[i];
	}
	/* paint the last rule first, so that the first matching rule is what remains */
	for (uint32_t i = 0; i < m; i++)
		b->paint[i] = fallback;
	for (uint32_t i = n; i-- > 0;) {
		const struct fw_rule *r = &rules[list[i]];
		uint64_t end = (uint64_t)r->src_addr +
			(r->src_len ? 1ull << (32 - r->src_len) : 1ull << 32);
		uint32_t lo = 0, hi = m;

		while (lo < hi) { /* the cut at the prefix's start */
			uint32_t mid = (lo + hi) / 2;

			if (b->cut[mid] < r->src_addr)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (uint32_t j = lo; j < m && b->cut[j] < end; j++)
			b->paint[j] = fw_ent(r);
	}
	/* neighbours with the same verdict are one interval */
	if (b->n_iv + m > FW_MAX_INTERVALS)
		return -E2BIG;
	rc = fw_grow((void **)&b->bounds, &b->cap_iv, b->n_iv + m, sizeof(uint32_t));
	if (!rc)
		rc = fw_grow((void **)&b->ent, &b->cap_ent, b->n_iv + m, sizeof(uint16_t));
	if (rc)
		return rc;
	first = out = b->n_iv;
	for (uint32_t i = 0; i < m; i++) {
		if (out > first && b->ent[out - 1] == b->paint[i])
			continue;
		b->bounds[out] = b->cut[i];
		b->ent[out++] = b->paint[i];
	}
	b->n_iv = out;
	rc = fw_grow((void **)&b->chains, &b->cap_chains, b->n_chains + 1, sizeof(b->chains[0]));
	if (rc)
		return rc;
	b->chains[b->n_chains].off = first;
	b->chains[b->n_chains].n = out - first;
	return (int)b->n_chains++;
}

/* fw_chain_make for IPv6 prefixes. */
static int fw_chain_make6(struct fw_build *b, const uint16_t *list, uint32_t n, uint16_t fallback)
{
	const struct fw_rule *rules = b->cfg->rules;
	uint32_t m = 0, first, out;
	int rc;

	b->cut6[m++] = 0;
	for (uint32_t i = 0; i < n; i++) {
		const struct fw_rule *r = &rules[list[i]];
		fw_u128 start = fw_u128_of(r->src6);

		b->cut6[m++] = start;
		/* src_len is 1..128 here (a /0 ends the chain): the size fits */
		if (start + ((fw_u128)1 << (128 - r->src_len)) != 0)
			b->cut6[m++] = start + ((fw_u128)1 << (128 - r->src_len));
	}
	qsort(b->cut6, m, sizeof(b->cut6[0]), fw_cmp_u128);
	for (uint32_t i = 1, u = 1; i <= m; i++) {
		if (i == m)
			m = u;
		else if (b->cut6[i] != b->cut6[u - 1])
			b->cut6[u++] = b->cut6[i];
	}
	for (uint32_t i = 0; i < m; i++)
		b->paint[i] = fallback;
	for (uint32_t i = n; i-- > 0;) {
		const struct fw_rule *r = &rules[list[i]];
		fw_u128 start = fw_u128_of(r->src6);
		fw_u128 last = start + (((fw_u128)1 << (128 - r->src_len)) - 1);
		uint32_t lo = 0, hi = m;

		while (lo < hi) {
			uint32_t mid = (lo + hi) / 2;

			if (b->cut6[mid] < start)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (uint32_t j = lo; j < m && b->cut6[j] <= last; j++)
			b->paint[j] = fw_ent(r);
	}
	if (b->n_iv + m > FW_MAX_INTERVALS)
		return -E2BIG;
	rc = fw_grow((void **)&b->bounds6, &b->cap_iv6, b->n_iv + m, sizeof(b->bounds6[0]));
	if (!rc)
		rc = fw_grow((void **)&b->ent, &b->cap_ent, b->n_iv + m, sizeof(uint16_t));
	if (rc)
		return rc;
	first = out = b->n_iv;
	for (uint32_t i = 0; i < m; i++) {
		if (out > first && b->ent[out - 1] == b->paint[i])
			continue;
		b->bounds6[out].hi = (uint64_t)(b->cut6[i] >> 64);
		b->bounds6[out].lo = (uint64_t)b->cut6[i];
		b->ent[out++] = b->paint[i];
	}
	b->n_iv = out;
	rc = fw_grow((void **)&b->chains, &b->cap_chains, b->n_chains + 1, sizeof(b->chains[0]));
	if (rc)
		return rc;
	b->chains[b->n_chains].off = first;
	b->chains[b->n_chains].n = out - first;
	return (int)b->n_chains++;
}

/* The chain for @list ending in @fallback: an equal one made before, or a new one. */
static int fw_chain_get(struct fw_build *b, uint16_t *list, uint32_t n, uint16_t fallback)
{
	uint32_t klen = n + 1, h, slot;
	int c, rc;

	list[n] = fallback; /* the caller leaves room: the key is the list and its fallback */
	h = fw_key_hash(list, klen);
	for (slot = h & b->index_mask; b->index[slot] >= 0; slot = (slot + 1) & b->index_mask) {
		uint32_t k = (uint32_t)b->index[slot];
		uint32_t off = b->key_off[k], kn = b->key_off[k + 1] - off;

		if (kn == klen && !memcmp(b->keys + off, list, klen * sizeof(list[0])))
			return (int)k;
	}
	c = b->family == FW_SRC_IPV6 ? fw_chain_make6(b, list, n, fallback) :
				       fw_chain_make(b, list, n, fallback);
	if (c < 0)
		return c;
	if (c >= (int)(FW_ENT_CHAIN - 1))
		return -E2BIG;
	rc = fw_grow((void **)&b->keys, &b->cap_keys, b->n_keys + klen, sizeof(uint16_t));
	if (rc)
		return rc;
	memcpy(b->keys + b->n_keys, list, klen * sizeof(list[0]));
	b->n_keys += klen;
	b->key_off[c + 1] = b->n_keys;
	b->index[slot] = c;
	return c;
}

static int fw_check(const struct fw_if_config *cfg)
{
	uint64_t used[FW_MAX_RULES / 64] = { 0 };

	if (cfg->n_rules > FW_MAX_RULES)
		return -EINVAL;
	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		const struct fw_rule *r = &cfg->rules[i];

		if (r->slot >= FW_MAX_RULES || (used[r->slot / 64] & 1ull << (r->slot % 64)) ||
			!r->protos || r->protos > FW_PROTO_BOTH || r->port_lo > r->port_hi ||
			(r->has_src && r->src_family > FW_SRC_IPV6) ||
			r->src_len > (r->has_src && r->src_family == FW_SRC_IPV6 ? 128 : 32))
			return -EINVAL;
		used[r->slot / 64] |= 1ull << (r->slot % 64);
	}
	return 0;
}

/* Whether @r applies to packets of @b's family: no `from`, or a prefix of that family. */
static bool fw_applies(const struct fw_build *b, const struct fw_rule *r)
{
	return !r->has_src || r->src_family == b->family;
}

/* One protocol's 65536 entries, for @b's family, into @port. */
static int fw_compile_proto(struct fw_build *b, uint16_t *port, int p, uint16_t def, uint16_t *list)
{
	const struct fw_if_config *cfg = b->cfg;
	unsigned int bit = p ? FW_PROTO_UDP : FW_PROTO_TCP;
	uint32_t cuts[2 * FW_MAX_RULES + 2], m = 0;

	cuts[m++] = 0;
	for (unsigned int i = 0; i < cfg->n_rules; i++) {
		if (!(cfg->rules[i].protos & bit) || !fw_applies(b, &cfg->rules[i]))
			continue;
		cuts[m++] = cfg->rules[i].port_lo;
		cuts[m++] = (uint32_t)cfg->rules[i].port_hi + 1;
	}
	cuts[m++] = 65536;
	qsort(cuts, m, sizeof(cuts[0]), fw_cmp_u32);
	for (uint32_t c = 0; c + 1 < m; c++) {
		uint32_t lo = cuts[c], hi = cuts[c + 1], n = 0;
		uint16_t e = def;

		if (lo == hi)
			continue;
		for (unsigned int i = 0; i < cfg->n_rules; i++) {
			const struct fw_rule *r = &cfg->rules[i];

			if (!(r->protos & bit) || lo < r->port_lo || lo > r->port_hi ||
				!fw_applies(b, r))
				continue;
			if (!r->has_src || r->src_len == 0) {
				e = fw_ent(r);
				break;
			}
			list[n++] = (uint16_t)i;
		}
		if (n) {
			int ch = fw_chain_get(b, list, n, e);

			if (ch < 0)
				return ch;
			e = (uint16_t)(FW_ENT_CHAIN | (uint32_t)ch);
		}
		for (uint32_t k = lo; k < hi; k++)
			port[k] = e;
	}
	return 0;
}

static int fw_build_init(struct fw_build *b, const struct fw_if_config *cfg, int family)
{
	memset(b, 0, sizeof(*b));
	b->cfg = cfg;
	b->family = family;
	/* at most 2 * 1025 port intervals per protocol, so at most that many chains */
	b->index_mask = 8191;
	b->index = malloc((b->index_mask + 1) * sizeof(b->index[0]));
	b->key_off = calloc(2 * (2 * FW_MAX_RULES + 2) + 1, sizeof(b->key_off[0]));
	if (family == FW_SRC_IPV6)
		b->cut6 = malloc((2 * FW_MAX_RULES + 1) * sizeof(b->cut6[0]));
	else
		b->cut = malloc((2 * FW_MAX_RULES + 1) * sizeof(b->cut[0]));
	b->paint = malloc((2 * FW_MAX_RULES + 1) * sizeof(b->paint[0]));
	if (!b->index || !b->key_off || !(b->cut || b->cut6) || !b->paint)
		return -ENOMEM;
	memset(b->index, 0xff, (b->index_mask + 1) * sizeof(b->index[0]));
	return 0;
}

static void fw_build_free(struct fw_build *b)
{
	free(b->chains);
	free(b->bounds);
	free(b->bounds6);
	free(b->ent);
	free(b->keys);
	free(b->key_off);
	free(b->index);
	free(b->cut);
	free(b->cut6);
	free(b->paint);
}

struct fw_ruleset *fw_compile(const struct fw_if_config *cfg)
{
	struct fw_build b, b6;
	struct fw_ruleset *rs = NULL;
	uint16_t def, *list = NULL;
	size_t head, size;
	int rc = fw_check(cfg);

	memset(&b, 0, sizeof(b));
	memset(&b6, 0, sizeof(b6));
	if (rc)
		goto out;
	rc = fw_build_init(&b, cfg, FW_SRC_IPV4);
	if (!rc)
		rc = fw_build_init(&b6, cfg, FW_SRC_IPV6);
	if (rc)
		goto out;
	rc = -ENOMEM;
	list = malloc((FW_MAX_RULES + 1) * sizeof(list[0]));
	if (!list)
		goto out;

	/* built in a scratch set, then copied with its chains into one block */
	rs = aligned_alloc(64, (sizeof(*rs) + 63) & ~(size_t)63);
	if (!rs)
		goto out;
	memset(rs, 0, sizeof(*rs));
	def = cfg->default_action == FW_ALLOW ? FW_V(FW_SLOT_DEFAULT_ALLOW, 1) :
						FW_V(FW_SLOT_DEFAULT_DENY, 0);
	rs->other = def;
	for (unsigned int i = 0; i < cfg->n_rules; i++)
		rs->serial[cfg->rules[i].slot] = cfg->rules[i].serial;
	for (int p = 0; p < 2; p++) {
		rc = fw_compile_proto(&b, rs->port[p], p, def, list);
		if (!rc)
			rc = fw_compile_proto(&b6, rs->port6[p], p, def, list);
		if (rc)
			goto out;
	}

	/* the block: the set, its chains, then the intervals, widest first (all aligned) */
	head = (sizeof(*rs) + 63) & ~(size_t)63;
	size = head + (b.n_chains + b6.n_chains) * sizeof(struct fw_chain) +
		b6.n_iv * (sizeof(struct fw_addr6) + 2) + b.n_iv * (sizeof(uint32_t) + 2);
	{
		struct fw_ruleset *set = aligned_alloc(64, (size + 63) & ~(size_t)63);
		struct fw_chain *chains, *chains6;
		struct fw_addr6 *bounds6;
		uint32_t *bounds;
		uint16_t *ent, *ent6;

		rc = -ENOMEM;
		if (!set)
			goto out;
		memcpy(set, rs, sizeof(*rs));
		chains = (struct fw_chain *)((char *)set + head);
		chains6 = chains + b.n_chains;
		bounds6 = (struct fw_addr6 *)(chains6 + b6.n_chains);
		bounds = (uint32_t *)(bounds6 + b6.n_iv);
		ent = (uint16_t *)(bounds + b.n_iv);
		ent6 = ent + b.n_iv;
		if (b.n_chains) {
			memcpy(chains, b.chains, b.n_chains * sizeof(*chains));
			memcpy(bounds, b.bounds, b.n_iv * sizeof(*bounds));
			memcpy(ent, b.ent, b.n_iv * sizeof(*ent));
		}
		if (b6.n_chains) {
			memcpy(chains6, b6.chains, b6.n_chains * sizeof(*chains6));
			memcpy(bounds6, b6.bounds6, b6.n_iv * sizeof(*bounds6));
			memcpy(ent6, b6.ent, b6.n_iv * sizeof(*ent6));
		}
		set->n_chains = b.n_chains;
		set->chains = chains;
		set->bounds = bounds;
		set->ent = ent;
		set->n_chains6 = b6.n_chains;
		set->chains6 = chains6;
		set->bounds6 = bounds6;
		set->ent6 = ent6;
		free(rs);
		rs = set;
		rc = 0;
	}
out:
	fw_build_free(&b);
	fw_build_free(&b6);
	free(list);
	if (rc) {
		free(rs);
		errno = -rc;
		return NULL;
	}
	return rs;
}

void fw_ruleset_free(struct fw_ruleset *rs)
{
	free(rs);
}
