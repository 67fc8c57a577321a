/* Per-address event limits (failed joins, failed logins, TURN 401s): an exact keyed table of
 * at most `capacity` addresses, each with a fixed window of `window_ms` allowing `max` events.
 * Sans-I/O: the caller gives the time. One thread per instance (no locking inside); every
 * call is O(1) expected.
 *
 * Keys are compared in full (up to ADDR_LIMIT_KEY_MAX bytes: an IPv4 or IPv6 address), hashed
 * with a per-table random seed, so two addresses never share a count and a stranger cannot
 * aim at a bucket. An address is blocked from the event that reaches @max for one whole
 * window. When the table is full a new key takes, in this order: the entry whose block ended
 * first, else the least recently seen entry that is not blocked (its count is forgotten: it
 * was under the limit, and the least recently seen is the likeliest to be idle). A blocked
 * entry is never evicted before its block ends; when every entry is blocked the new key is
 * refused (fail closed) and counted in addr_limit_table_full. Size @capacity for the
 * offenders the table must hold at once. */
#ifndef EDGE_ADDR_LIMIT_H
#define EDGE_ADDR_LIMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADDR_LIMIT_KEY_MAX 16

struct addr_limit; /* opaque */

/* At most @max events per @window_ms per key; at most @capacity keys tracked. NULL on ENOMEM
 * (or EINVAL: zero capacity, max or window). */
struct addr_limit *addr_limit_new(unsigned int capacity, unsigned int max, unsigned int window_ms);
void addr_limit_free(struct addr_limit *l);

/* Check and count in one step: true if the event may proceed (it is counted), false if the key
 * is over its limit (refused). A key longer than ADDR_LIMIT_KEY_MAX is refused. */
bool addr_limit_take(struct addr_limit *l, const void *key, size_t len, uint64_t now_ms);

/* Gives back one event taken by addr_limit_take (e.g. a join that succeeded was not a
 * failure). */
void addr_limit_refund(struct addr_limit *l, const void *key, size_t len, uint64_t now_ms);

/* Whether @key is over its limit now (no counting). */
bool addr_limit_over(const struct addr_limit *l, const void *key, size_t len, uint64_t now_ms);

/* Keys tracked, and keys refused because the table was full of active offenders. */
unsigned int addr_limit_keys(const struct addr_limit *l);
uint64_t addr_limit_table_full(const struct addr_limit *l);

#endif
