/* The counters registry: components register their metric families once (name, help, type,
 * label names, a collect callback), and every way out of the box (the `metrics` command in
 * Prometheus text or JSON, later the HTTP /metrics endpoint and remote systems) reads this one
 * registry. Values are gathered at read time by the callbacks, so per-lcore counters are
 * summed on read, as the status pages do, and a read never stalls the data plane.
 *
 * Threads: families are registered and unregistered by the control thread. The writers may
 * run on any thread (the metrics HTTP server will call them from its own): a mutex around
 * the family list is held for a whole write, so a family cannot be unregistered while it is
 * being collected. A family's collect callback therefore runs on the WRITER'S thread, with
 * that mutex held: it must only read (counters summed from per-lcore slots, snapshots), must
 * be safe to run concurrently with the thread that owns the figures, and must not call back
 * into the registry (register, unregister, write: that deadlocks). */
#ifndef EDGE_METRICS_H
#define EDGE_METRICS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

/* Where a collect callback puts its samples (one per label set); opaque. */
struct metrics_sink;

struct metrics_family {
	const char *name; /* [a-zA-Z_:][a-zA-Z0-9_:]* (counters end in _total) */
	const char *help; /* one line or more; escaped by the writers */
	enum metrics_type type;
	/* NULL-terminated label names, [a-zA-Z_][a-zA-Z0-9_]*, not "__..." nor, for histograms,
	 * "le"; NULL for none. */
	const char *const *labels;
	void (*collect)(void *ctx, struct metrics_sink *sink);
	void *ctx;
};

struct metrics_registry;

struct metrics_registry *metrics_registry_new(void);
void metrics_registry_free(struct metrics_registry *r);

/* Adds @f (copied; the strings and the labels array it points to are not, and must outlive
 * the registration: static storage in practice). 0, -EINVAL (a bad name, label name, type or
 * no collect callback), -EEXIST (that name is registered), -ENOMEM. Control thread. */
int metrics_register(struct metrics_registry *r, const struct metrics_family *f);
/* Removes the family named @name: 0 or -ENOENT. Control thread. */
int metrics_unregister(struct metrics_registry *r, const char *name);

/* From a collect callback: one sample of a counter or gauge. @label_values has one value per
 * label name of the family, in the same order (NULL when the family has no labels; a NULL
 * value is written as ""). A sample of the wrong type for its family is ignored. */
void metrics_sample(struct metrics_sink *sink, const char *const *label_values, double value);
void metrics_sample_u64(struct metrics_sink *sink, const char *const *label_values, uint64_t value);
/* From a collect callback: one histogram. @bounds are the @n upper bounds, increasing (the
 * +Inf bucket is implied); @bucket_counts are NOT cumulative: bucket_counts[i] counts the
 * observations in (bounds[i-1], bounds[i]]. The writer makes them cumulative, as the
 * exposition format wants; @count is every observation, those above the last bound included
 * (it is the +Inf bucket), and @sum their sum. */
void metrics_histogram(struct metrics_sink *sink, const char *const *label_values,
	const double *bounds, const uint64_t *bucket_counts, size_t n, double sum, uint64_t count);

/* The Prometheus text exposition format 0.0.4, families in registration order. 0 or -EIO. */
int metrics_write_prometheus(const struct metrics_registry *r, FILE *out);
/* One JSON object: {"families": [{"name", "help", "type", "samples": [{"labels": {...},
 * "value"}]}]}; a histogram's sample has "buckets" [{"le", "count"} cumulative, "+Inf"
 * last], "sum" and "count" instead of "value". Non-finite values are the strings "NaN",
 * "+Inf", "-Inf". 0, -ENOMEM or -EIO. */
int metrics_write_json(const struct metrics_registry *r, FILE *out);
/* The same, of the families whose name starts with one of @prefixes (NULL-terminated; NULL:
 * every family) and, when @label and @value are set, only of the samples whose @label is
 * @value (families without that label left out): `edgectl --json iface a`. @matched (may be
 * NULL) gets how many samples were written. */
int metrics_write_json_filtered(const struct metrics_registry *r, FILE *out,
	const char *const *prefixes, const char *label, const char *value, unsigned int *matched);

#endif
