/* Per-address event limits: an exact table of addresses (SipHash with a random seed, chained
 * buckets, keys compared in full) with a fixed window per address, and an eviction order that
 * never forgives an address over its limit. See include/addr_limit.h for the contract.
 *
 * Every entry is on one of two lists. `open` holds the entries under their limit, most recently
 * seen first: its tail is the victim when the table is full. `blocked` holds the entries that
 * reached their limit; each is blocked for one window from the event that reached it, so the
 * list is in order of block end (all blocks are equally long and the clock only moves forward):
 * its head is the first to be released. Both give a victim in O(1). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "addr_limit.h"

#define NIL UINT32_MAX

struct al_entry {
	uint8_t key[ADDR_LIMIT_KEY_MAX];
	uint8_t len;	     /* 0: free */
	bool blocked;	     /* on the blocked list */
	unsigned int n;	     /* events in the current window */
	uint64_t until;	     /* open: the window's end; blocked: the block's end */
	uint64_t win_end;    /* the window's end (kept while blocked, for a refund) */
	uint32_t chain;	     /* next in the bucket */
	uint32_t prev, next; /* on `open` or `blocked` (or the free list: next) */
};

struct al_list {
	uint32_t head, tail;
};

struct addr_limit {
	struct al_entry *e;
	uint32_t *bucket;
	uint32_t mask; /* buckets - 1 */
	unsigned int capacity, max, used;
	uint64_t window, now, table_full;
	uint64_t k0, k1; /* the hash's seed */
	uint32_t free;
	struct al_list open, blocked;
};

/* ---- SipHash-2-4 (Aumasson, Bernstein), for keys of at most 16 bytes ---- */

static inline uint64_t rotl(uint64_t x, int b)
{
	return (x << b) | (x >> (64 - b));
}

static inline void sipround(uint64_t v[4])
{
	v[0] += v[1], v[1] = rotl(v[1], 13), v[1] ^= v[0], v[0] = rotl(v[0], 32);
	v[2] += v[3], v[3] = rotl(v[3], 16), v[3] ^= v[2];
	v[0] += v[3], v[3] = rotl(v[3], 21), v[3] ^= v[0];
	v[2] += v[1], v[1] = rotl(v[1], 17), v[1] ^= v[2], v[2] = rotl(v[2], 32);
}

static uint64_t load64(const uint8_t *p)
{
	uint64_t v = 0;

	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];
	return v;
}

static uint64_t al_hash(const struct addr_limit *l, const uint8_t *in, size_t len)
{
	uint64_t v[4] = { l->k0 ^ 0x736f6d6570736575ULL, l->k1 ^ 0x646f72616e646f6dULL,
		l->k0 ^ 0x6c7967656e657261ULL, l->k1 ^ 0x7465646279746573ULL };
	uint8_t tail[8] = { 0 };
	size_t full = len & ~(size_t)7;
	uint64_t m;

	for (size_t i = 0; i < full; i += 8) {
		m = load64(in + i);
		v[3] ^= m;
		sipround(v);
		sipround(v);
		v[0] ^= m;
	}
	memcpy(tail, in + full, len - full);
	m = load64(tail) | ((uint64_t)len << 56);
	v[3] ^= m;
	sipround(v);
	sipround(v);
	v[0] ^= m;
	v[2] ^= 0xff;
	for (int i = 0; i < 4; i++)
		sipround(v);
	return v[0] ^ v[1] ^ v[2] ^ v[3];
}

/* ---- lists ---- */

static void list_del(struct addr_limit *l, struct al_list *li, uint32_t i)
{
	struct al_entry *e = &l->e[i];

	if (e->prev != NIL)
		l->e[e->prev].next = e->next;
	else
		li->head = e->next;
	if (e->next != NIL)
		l->e[e->next].prev = e->prev;
	else
		li->tail = e->prev;
}

static void list_push_head(struct addr_limit *l, struct al_list *li, uint32_t i)
{
	struct al_entry *e = &l->e[i];

	e->prev = NIL;
	e->next = li->head;
	if (li->head != NIL)
		l->e[li->head].prev = i;
	else
		li->tail = i;
	li->head = i;
}

static void list_push_tail(struct addr_limit *l, struct al_list *li, uint32_t i)
{
	struct al_entry *e = &l->e[i];

	e->next = NIL;
	e->prev = li->tail;
	if (li->tail != NIL)
		l->e[li->tail].next = i;
	else
		li->head = i;
	li->tail = i;
}

static struct al_list *list_of(struct addr_limit *l, uint32_t i)
{
	return l->e[i].blocked ? &l->blocked : &l->open;
}

/* ---- the table ---- */

struct addr_limit *addr_limit_new(unsigned int capacity, unsigned int max, unsigned int window_ms)
{
	struct addr_limit *l;
	uint32_t nb = 1;

	if (!capacity || !max || !window_ms || capacity >= NIL / 2)
		return NULL;
	while (nb < capacity)
		nb <<= 1;
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->e = calloc(capacity, sizeof(*l->e));
	l->bucket = malloc(nb * sizeof(*l->bucket));
	if (!l->e || !l->bucket) {
		addr_limit_free(l);
		return NULL;
	}
	memset(l->bucket, 0xff, nb * sizeof(*l->bucket));
	l->mask = nb - 1;
	l->capacity = capacity;
	l->max = max;
	l->window = window_ms;
	if (getrandom(&l->k0, sizeof(l->k0), 0) != sizeof(l->k0) ||
		getrandom(&l->k1, sizeof(l->k1), 0) != sizeof(l->k1)) {
		/* no entropy yet: still exact, only the buckets are guessable */
		l->k0 = (uint64_t)time(NULL) ^ (uint64_t)(uintptr_t)l;
		l->k1 = (uint64_t)clock() ^ ((uint64_t)(uintptr_t)l->e << 7);
	}
	for (uint32_t i = 0; i < capacity; i++)
		l->e[i].next = i + 1 < capacity ? i + 1 : NIL;
	l->free = 0;
	l->open.head = l->open.tail = l->blocked.head = l->blocked.tail = NIL;
	return l;
}

void addr_limit_free(struct addr_limit *l)
{
	if (!l)
		return;
	free(l->e);
	free(l->bucket);
	free(l);
}

static uint32_t *find(const struct addr_limit *l, const void *key, size_t len)
{
	uint32_t *p = &l->bucket[al_hash(l, key, len) & l->mask];

	while (*p != NIL) {
		const struct al_entry *e = &l->e[*p];
		if (e->len == len && !memcmp(e->key, key, len))
			break;
		p = (uint32_t *)&e->chain;
	}
	return p;
}

static void unlink_entry(struct addr_limit *l, uint32_t i)
{
	struct al_entry *e = &l->e[i];
	uint32_t *p = find(l, e->key, e->len);

	*p = e->chain;
	list_del(l, list_of(l, i), i);
	e->len = 0;
	l->used--;
}

/* Brings @i's window and block up to @now: a window that has passed starts again empty, a
 * block that has ended releases the entry with a new, empty window. */
static void refresh(struct addr_limit *l, uint32_t i, uint64_t now)
{
	struct al_entry *e = &l->e[i];

	if (now < e->until)
		return;
	if (e->blocked) {
		list_del(l, &l->blocked, i);
		e->blocked = false;
		list_push_head(l, &l->open, i);
	}
	e->n = 0;
	e->until = e->win_end = now + l->window;
}

/* A slot for a new key: a free one, else a blocked entry whose block has ended, else the least
 * recently seen entry under its limit. NIL when every entry is blocked. */
static uint32_t victim(struct addr_limit *l, uint64_t now)
{
	uint32_t i = l->free;

	if (i != NIL) {
		l->free = l->e[i].next;
		return i;
	}
	if (l->blocked.head != NIL && l->e[l->blocked.head].until <= now)
		i = l->blocked.head;
	else
		i = l->open.tail;
	if (i != NIL)
		unlink_entry(l, i);
	return i;
}

/* The entry for @key, made (with an empty window) when @create; NIL if absent or if the table
 * is full of blocked entries (then counted). */
static uint32_t lookup(struct addr_limit *l, const void *key, size_t len, uint64_t now, bool create)
{
	uint32_t *p, i;
	struct al_entry *e;

	if (!len || len > ADDR_LIMIT_KEY_MAX)
		return NIL;
	p = find(l, key, len);
	if (*p != NIL) {
		refresh(l, *p, now);
		return *p;
	}
	if (!create)
		return NIL;
	i = victim(l, now);
	if (i == NIL) {
		l->table_full++;
		return NIL;
	}
	p = find(l, key, len); /* the victim may have been on this chain */
	e = &l->e[i];
	memcpy(e->key, key, len);
	e->len = (uint8_t)len;
	e->blocked = false;
	e->n = 0;
	e->until = e->win_end = now + l->window;
	e->chain = NIL;
	*p = i;
	list_push_head(l, &l->open, i);
	l->used++;
	return i;
}

static uint64_t clock_of(struct addr_limit *l, uint64_t now_ms)
{
	/* the caller's clock only moves forward here, which keeps `blocked` in order */
	if (now_ms > l->now)
		l->now = now_ms;
	return l->now;
}

bool addr_limit_take(struct addr_limit *l, const void *key, size_t len, uint64_t now_ms)
{
	uint64_t now = clock_of(l, now_ms);
	uint32_t i = lookup(l, key, len, now, true);
	struct al_entry *e;

	if (i == NIL)
		return false;
	e = &l->e[i];
	if (e->blocked)
		return false;
	list_del(l, &l->open, i);
	if (++e->n < l->max) {
		list_push_head(l, &l->open, i);
		return true;
	}
	/* this one is allowed and reaches the limit: blocked for a window from now */
	e->blocked = true;
	e->until = now + l->window;
	list_push_tail(l, &l->blocked, i);
	return true;
}

void addr_limit_refund(struct addr_limit *l, const void *key, size_t len, uint64_t now_ms)
{
	uint64_t now = clock_of(l, now_ms);
	uint32_t i = lookup(l, key, len, now, false);
	struct al_entry *e;

	if (i == NIL || !l->e[i].n)
		return;
	e = &l->e[i];
	e->n--;
	if (e->blocked && e->n < l->max) {
		list_del(l, &l->blocked, i);
		e->blocked = false;
		e->until = e->win_end;
		list_push_head(l, &l->open, i);
	}
}

bool addr_limit_over(const struct addr_limit *l, const void *key, size_t len, uint64_t now_ms)
{
	uint32_t i;

	if (!len || len > ADDR_LIMIT_KEY_MAX)
		return true;
	i = *find(l, key, len);
	return i != NIL && l->e[i].blocked && now_ms < l->e[i].until;
}

unsigned int addr_limit_keys(const struct addr_limit *l)
{
	return l->used;
}

uint64_t addr_limit_table_full(const struct addr_limit *l)
{
	return l->table_full;
}
