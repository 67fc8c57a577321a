/* The counters registry and its two writers (Prometheus text exposition 0.0.4, JSON). The
 * control thread registers; writers run on any thread under the registry's mutex, calling
 * each family's collect callback, which emits its samples into a sink that writes them. */
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* JSON through jansson (already linked for the web components): its encoder escapes
 * strings correctly (control characters, quotes, invalid UTF-8 refused), and the tests parse
 * the output back with the same library. */
#include <jansson.h>

#include "metrics.h"

#define METRICS_MAX_LABELS 8

struct metrics_entry {
	struct metrics_family f;
	size_t n_labels;
	struct metrics_entry *next;
};

struct metrics_registry {
	pthread_mutex_t lock; /* the list, and a whole write */
	struct metrics_entry *head, *tail;
};

enum sink_kind { SINK_PROM, SINK_JSON };

struct metrics_sink {
	enum sink_kind kind;
	const struct metrics_entry *e;
	FILE *out;	 /* SINK_PROM */
	json_t *samples; /* SINK_JSON: the family's array */
	int err;
	/* SINK_JSON: only the samples whose label number @label_idx is @value (filtered writer) */
	int label_idx;
	const char *value;
	unsigned int matched;
};

struct metrics_registry *metrics_registry_new(void)
{
	struct metrics_registry *r = calloc(1, sizeof(*r));

	if (r)
		pthread_mutex_init(&r->lock, NULL);
	return r;
}

void metrics_registry_free(struct metrics_registry *r)
{
	if (!r)
		return;
	for (struct metrics_entry *e = r->head, *n; e; e = n) {
		n = e->next;
		free(e);
	}
	pthread_mutex_destroy(&r->lock);
	free(r);
}

static bool name_ok(const char *s, bool colon)
{
	if (!s || !*s)
		return false;
	for (const char *p = s; *p; p++) {
		char c = *p;
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
			(colon && c == ':');

		if (!alpha && (p == s || c < '0' || c > '9'))
			return false;
	}
	return true;
}

/* Label names per the data model; "__" is reserved, "le" is the histograms' own. */
static int labels_check(const struct metrics_family *f, size_t *n)
{
	*n = 0;
	for (const char *const *l = f->labels; l && *l; l++, (*n)++) {
		if (*n == METRICS_MAX_LABELS || !name_ok(*l, false) || !strncmp(*l, "__", 2))
			return -EINVAL;
		if (f->type == METRICS_HISTOGRAM && !strcmp(*l, "le"))
			return -EINVAL;
		for (const char *const *m = f->labels; m < l; m++)
			if (!strcmp(*m, *l))
				return -EINVAL;
	}
	return 0;
}

static struct metrics_entry *find(const struct metrics_registry *r, const char *name)
{
	for (struct metrics_entry *e = r->head; e; e = e->next)
		if (!strcmp(e->f.name, name))
			return e;
	return NULL;
}

int metrics_register(struct metrics_registry *r, const struct metrics_family *f)
{
	struct metrics_entry *e;
	size_t n;
	int ret = 0;

	if (!r || !f || !name_ok(f->name, true) || !f->help || !f->collect ||
		(f->type != METRICS_COUNTER && f->type != METRICS_GAUGE &&
			f->type != METRICS_HISTOGRAM) ||
		labels_check(f, &n))
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	if (find(r, f->name)) {
		ret = -EEXIST;
	} else if (!(e = calloc(1, sizeof(*e)))) {
		ret = -ENOMEM;
	} else {
		e->f = *f;
		e->n_labels = n;
		if (r->tail)
			r->tail->next = e;
		else
			r->head = e;
		r->tail = e;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

int metrics_unregister(struct metrics_registry *r, const char *name)
{
	struct metrics_entry **pp, *prev = NULL;
	int ret = -ENOENT;

	if (!r || !name)
		return -EINVAL;
	pthread_mutex_lock(&r->lock);
	for (pp = &r->head; *pp; prev = *pp, pp = &(*pp)->next) {
		struct metrics_entry *e = *pp;

		if (strcmp(e->f.name, name))
			continue;
		*pp = e->next;
		if (r->tail == e)
			r->tail = prev;
		free(e);
		ret = 0;
		break;
	}
	pthread_mutex_unlock(&r->lock);
	return ret;
}

/* ---------------- Prometheus text ---------------- */

/* The shortest of %.15g..%.17g that reads back as @v; non-finite values as the format
 * spells them. */
static void fmt_double(double v, char *buf, size_t len)
{
	if (isnan(v)) {
		snprintf(buf, len, "NaN");
		return;
	}
	if (isinf(v)) {
		snprintf(buf, len, "%s", v > 0 ? "+Inf" : "-Inf");
		return;
	}
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, len, "%.*g", prec, v);
		if (strtod(buf, NULL) == v)
			return;
	}
}

/* HELP escapes backslash and newline; label values also the double quote. */
static void put_escaped(FILE *out, const char *s, bool quote)
{
	for (; s && *s; s++) {
		if (*s == '\\')
			fputs("\\\\", out);
		else if (*s == '\n')
			fputs("\\n", out);
		else if (quote && *s == '"')
			fputs("\\\"", out);
		else
			fputc(*s, out);
	}
}

/* name{l1="v1",...[,le="x"]} */
static void prom_series(const struct metrics_sink *k, const char *suffix, const char *const *values,
	const char *le)
{
	const struct metrics_entry *e = k->e;

	fprintf(k->out, "%s%s", e->f.name, suffix);
	if (!e->n_labels && !le)
		return;
	fputc('{', k->out);
	for (size_t i = 0; i < e->n_labels; i++) {
		fprintf(k->out, "%s%s=\"", i ? "," : "", e->f.labels[i]);
		put_escaped(k->out, values ? values[i] : NULL, true);
		fputc('"', k->out);
	}
	if (le)
		fprintf(k->out, "%sle=\"%s\"", e->n_labels ? "," : "", le);
	fputc('}', k->out);
}

static const char *type_name(enum metrics_type t)
{
	return t == METRICS_COUNTER ? "counter" : t == METRICS_GAUGE ? "gauge" : "histogram";
}

/* ---------------- JSON ---------------- */

static json_t *json_number(double v)
{
	char buf[32];

	if (isfinite(v))
		return json_real(v);
	fmt_double(v, buf, sizeof(buf));
	return json_string(buf);
}

static json_t *json_labels(const struct metrics_entry *e, const char *const *values)
{
	json_t *o = json_object();

	for (size_t i = 0; o && i < e->n_labels; i++)
		json_object_set_new(o, e->f.labels[i],
			json_string(values && values[i] ? values[i] : ""));
	return o;
}

static void json_add(struct metrics_sink *k, json_t *sample)
{
	if (!sample || json_array_append_new(k->samples, sample))
		k->err = -ENOMEM;
	else
		k->matched++;
}

/* Whether the filtered writer keeps a sample with these label values. */
static bool json_wanted(const struct metrics_sink *k, const char *const *values)
{
	return k->label_idx < 0 ||
		(values && values[k->label_idx] && !strcmp(values[k->label_idx], k->value));
}

/* ---------------- samples ---------------- */

static void sample_out(struct metrics_sink *k, const char *const *values, const char *text,
	json_t *jv)
{
	if (k->kind == SINK_PROM) {
		prom_series(k, "", values, NULL);
		fprintf(k->out, " %s\n", text);
		json_decref(jv);
		return;
	}
	if (!json_wanted(k, values)) {
		json_decref(jv);
		return;
	}
	json_add(k, json_pack("{s:o, s:o}", "labels", json_labels(k->e, values), "value", jv));
}

void metrics_sample(struct metrics_sink *k, const char *const *values, double value)
{
	char buf[32];

	if (!k || k->e->f.type == METRICS_HISTOGRAM)
		return;
	fmt_double(value, buf, sizeof(buf));
	sample_out(k, values, buf, k->kind == SINK_JSON ? json_number(value) : NULL);
}

void metrics_sample_u64(struct metrics_sink *k, const char *const *values, uint64_t value)
{
	char buf[24];

	if (!k || k->e->f.type == METRICS_HISTOGRAM)
		return;
	snprintf(buf, sizeof(buf), "%llu", (unsigned long long)value);
	/* json_int_t is signed 64-bit: beyond it (never, for a counter) the value goes as a real */
	sample_out(k, values, buf,
		k->kind != SINK_JSON		     ? NULL :
			value <= (uint64_t)INT64_MAX ? json_integer((json_int_t)value) :
						       json_real((double)value));
}

void metrics_histogram(struct metrics_sink *k, const char *const *values, const double *bounds,
	const uint64_t *bucket_counts, size_t n, double sum, uint64_t count)
{
	char le[32], s[32];
	uint64_t cum = 0;
	json_t *buckets = NULL;

	if (!k || k->e->f.type != METRICS_HISTOGRAM)
		return;
	if (k->kind == SINK_JSON && !json_wanted(k, values))
		return;
	if (k->kind == SINK_JSON && !(buckets = json_array()))
		k->err = -ENOMEM;
	for (size_t i = 0; i <= n; i++) {
		if (i < n) {
			cum += bucket_counts[i];
			fmt_double(bounds[i], le, sizeof(le));
		} else {
			cum = count;
			snprintf(le, sizeof(le), "+Inf");
		}
		if (k->kind == SINK_PROM) {
			prom_series(k, "_bucket", values, le);
			fprintf(k->out, " %llu\n", (unsigned long long)cum);
		} else if (buckets) {
			json_array_append_new(buckets,
				json_pack("{s:s, s:I}", "le", le, "count", (json_int_t)cum));
		}
	}
	fmt_double(sum, s, sizeof(s));
	if (k->kind == SINK_PROM) {
		prom_series(k, "_sum", values, NULL);
		fprintf(k->out, " %s\n", s);
		prom_series(k, "_count", values, NULL);
		fprintf(k->out, " %llu\n", (unsigned long long)count);
		return;
	}
	if (buckets)
		json_add(k,
			json_pack("{s:o, s:o, s:o, s:I}", "labels", json_labels(k->e, values),
				"buckets", buckets, "sum", json_number(sum), "count",
				(json_int_t)count));
}

/* ---------------- writers ---------------- */

int metrics_write_prometheus(const struct metrics_registry *r, FILE *out)
{
	struct metrics_registry *rw = (struct metrics_registry *)r; /* the lock only */
	struct metrics_sink k = { .kind = SINK_PROM, .out = out };

	pthread_mutex_lock(&rw->lock);
	for (const struct metrics_entry *e = r->head; e; e = e->next) {
		k.e = e;
		fprintf(out, "# HELP %s ", e->f.name);
		put_escaped(out, e->f.help, false);
		fprintf(out, "\n# TYPE %s %s\n", e->f.name, type_name(e->f.type));
		e->f.collect(e->f.ctx, &k);
	}
	pthread_mutex_unlock(&rw->lock);
	return ferror(out) ? -EIO : 0;
}

/* The family's index of label @name, or -1. */
static int label_index(const struct metrics_entry *e, const char *name)
{
	for (size_t i = 0; i < e->n_labels; i++)
		if (!strcmp(e->f.labels[i], name))
			return (int)i;
	return -1;
}

static bool prefixed(const char *name, const char *const *prefixes)
{
	if (!prefixes)
		return true;
	for (; *prefixes; prefixes++)
		if (!strncmp(name, *prefixes, strlen(*prefixes)))
			return true;
	return false;
}

int metrics_write_json_filtered(const struct metrics_registry *r, FILE *out,
	const char *const *prefixes, const char *label, const char *value, unsigned int *matched)
{
	struct metrics_registry *rw = (struct metrics_registry *)r; /* the lock only */
	struct metrics_sink k = { .kind = SINK_JSON, .out = out, .label_idx = -1 };
	json_t *families = json_array(), *root;
	int ret = 0;

	root = families ? json_pack("{s:o}", "families", families) : NULL;
	if (!root)
		return -ENOMEM;
	pthread_mutex_lock(&rw->lock);
	for (const struct metrics_entry *e = r->head; e && !k.err; e = e->next) {
		json_t *fam;

		if (!prefixed(e->f.name, prefixes))
			continue;
		k.label_idx = label && value ? label_index(e, label) : -1;
		k.value = value;
		if (label && value && k.label_idx < 0)
			continue; /* a family without the label has nothing of that one */
		k.e = e;
		k.samples = json_array();
		fam = k.samples ?
			json_pack("{s:s, s:s, s:s, s:o}", "name", e->f.name, "help", e->f.help,
				"type", type_name(e->f.type), "samples", k.samples) :
			NULL;
		if (!fam || json_array_append_new(families, fam)) {
			k.err = -ENOMEM;
			break;
		}
		e->f.collect(e->f.ctx, &k);
	}
	pthread_mutex_unlock(&rw->lock);
	if (matched)
		*matched = k.matched;
	if (k.err)
		ret = k.err;
	else if (json_dumpf(root, out, JSON_COMPACT) || fputc('\n', out) == EOF || ferror(out))
		ret = -EIO;
	json_decref(root);
	return ret;
}

int metrics_write_json(const struct metrics_registry *r, FILE *out)
{
	return metrics_write_json_filtered(r, out, NULL, NULL, NULL, NULL);
}
