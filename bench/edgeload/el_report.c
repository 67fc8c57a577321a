/* edgeload's output: the progress line while it runs, then the summary as text on stdout
 * and as JSON, the per-second series as CSV, and the plot (el_plot.py reads the JSON). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <jansson.h>

#include "el_report.h"

#ifndef EL_SRCDIR
#define EL_SRCDIR "."
#endif
#ifndef EL_DATADIR
#define EL_DATADIR "/usr/local/share/edge"
#endif

static const char *const el_phase_names[EL_PH_MAX] = {
	"allocate",
	"bind",
	"traffic",
	"drain",
	"release",
};

static const char *const el_pattern_names[] = { "audio", "video", "max", "custom" };

const char *el_phase_name(unsigned int phase)
{
	return phase < EL_PH_MAX ? el_phase_names[phase] : "?";
}

static double us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

void el_report_progress(const struct el_second *s, uint32_t total, bool tty)
{
	fprintf(stderr,
		"%s%7.1fs %-8s %7u/%-7u tx %9" PRIu64 " pps  rx %9" PRIu64 " pps  lost %" PRIu64
		"  p50 %.0f us  p99 %.0f us%s",
		tty ? "\r" : "", s->t, el_phase_name(s->phase), s->done, total, s->tx_pps,
		s->rx_pps, s->lost, us(s->p50_ns), us(s->p99_ns), tty ? "   " : "\n");
	fflush(stderr);
}

/* ---- text ---- */

static void print_latency(FILE *f, const char *what, const struct el_hist *h)
{
	if (!h->count) {
		fprintf(f, "  %-10s none measured\n", what);
		return;
	}
	fprintf(f,
		"  %-10s us: p50 %.1f  p90 %.1f  p99 %.1f  p99.9 %.1f  max %.1f  (%" PRIu64
		" samples)\n",
		what, us(el_hist_quantile(h, 0.5)), us(el_hist_quantile(h, 0.9)),
		us(el_hist_quantile(h, 0.99)), us(el_hist_quantile(h, 0.999)), us(h->max),
		h->count);
}

static void print_phase(FILE *f, const char *name, const char *unit,
	const struct el_phase_result *p)
{
	double rate = p->seconds > 0 ? (double)p->ok / p->seconds : 0;

	fprintf(f,
		"%-9s %" PRIu64 " ok, %" PRIu64 " failed (%" PRIu64 " timed out, %" PRIu64
		" retransmissions, %" PRIu64 " stale nonces) in %.3f s: %.0f %s/s\n",
		name, p->ok, p->failed, p->timeouts, p->retransmits, p->stale_nonce, p->seconds,
		rate, unit);
	if (p->n_err) {
		fprintf(f, "  errors:");
		for (unsigned int i = 0; i < p->n_err; i++)
			fprintf(f, " %u x%" PRIu64, p->err[i].code, p->err[i].n);
		fputc('\n', f);
	}
	print_latency(f, "latency", &p->lat);
}

static double per_s(uint64_t n, double s)
{
	return s > 0 ? (double)n / s : 0;
}

static void print_traffic(FILE *f, const struct el_cfg *cfg, const struct el_result *r)
{
	double t = r->traffic_s;

	fprintf(f, "traffic   %u allocations for %.2f s: sent %" PRIu64 " (%.0f pps)\n", r->active,
		t, r->sent, per_s(r->sent, t));
	fprintf(f,
		"  relayed  client->peer %" PRIu64
		" (%.0f pps, at the peers), peer->client %" PRIu64 " (%.0f pps, at the clients)\n",
		r->rx_peer, per_s(r->rx_peer, t), r->rx_client, per_s(r->rx_client, t));
	fprintf(f,
		"  lost     %" PRIu64 " (%.4f%%, %s)  reordered %" PRIu64 "  duplicated %" PRIu64
		"  pacer skipped %" PRIu64 "\n",
		r->lost, r->sent ? 100.0 * (double)r->lost / (double)r->sent : 0,
		cfg->peer_mode == EL_PEER_ECHO ? "round trips" : "at the peers", r->reordered,
		r->duplicated, r->pacer_skipped);
	if (r->tx_refused || r->bad_payload || r->unmatched || r->relay_outside)
		fprintf(f,
			"  refused by the back-end %" PRIu64 ", bad payloads %" PRIu64
			", unmatched answers %" PRIu64 ", relay addresses outside the lab %" PRIu64
			"\n",
			r->tx_refused, r->bad_payload, r->unmatched, r->relay_outside);
	if (r->refreshes || r->refresh_failed)
		fprintf(f, "  renewals %" PRIu64 " ok, %" PRIu64 " failed\n", r->refreshes,
			r->refresh_failed);
	print_latency(f, cfg->peer_mode == EL_PEER_ECHO ? "round trip" : "one way", &r->lat);
}

static void print_cpu(FILE *f, const struct el_result *r)
{
	fprintf(f, "cpu       edgeload %.2f s (%.2f s in the traffic phase)", r->cpu_self_s,
		r->cpu_self_traffic_s);
	if (r->cpu_server_valid)
		fprintf(f,
			"; server %.2f s over the traffic phase: %.0f relayed packets per "
			"server CPU-second",
			r->cpu_server_s,
			r->cpu_server_s > 0 ?
				(double)(r->rx_peer + r->rx_client) / r->cpu_server_s :
				0);
	fputc('\n', f);
}

void el_report_summary(FILE *f, const struct el_cfg *cfg, const struct el_result *r)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &cfg->net.server_ip, ip, sizeof(ip));
	fprintf(f,
		"edgeload: %u allocations on %s:%u (%s back-end), %s, %u-byte payloads, %s "
		"peers%s\n",
		r->n_allocs, ip, cfg->net.server_port, cfg->backend, el_pattern_names[cfg->pattern],
		cfg->size, cfg->peer_mode == EL_PEER_ECHO ? "echo" : "sink",
		cfg->send_ind ? ", Send indications" : "");
	print_phase(f, "allocate", "Allocate", &r->alloc);
	print_phase(f, cfg->send_ind ? "permit" : "bind",
		cfg->send_ind ? "CreatePermission" : "ChannelBind", &r->bind);
	print_traffic(f, cfg, r);
	if (!cfg->keep)
		print_phase(f, "release", "Refresh", &r->release);
	fprintf(f,
		"back-end  tx dropped %" PRIu64 ", rx dropped %" PRIu64 ", rx other %" PRIu64 "\n",
		r->be.tx_dropped, r->be.rx_dropped, r->be.rx_other);
	print_cpu(f, r);
	if (r->auth_failed)
		fprintf(f,
			"authentication failed for %" PRIu64 " allocations: check --user/"
			"--password/--secret\n",
			r->auth_failed);
	if (r->aborted)
		fprintf(f, "stopped early (a signal or the run's time bound)\n");
}

/* ---- JSON ---- */

static json_t *latency_json(const struct el_hist *h)
{
	return json_pack("{s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f}", "count", (json_int_t)h->count,
		"min_us", h->count ? us(h->min) : 0.0, "mean_us",
		h->count ? us(h->sum) / (double)h->count : 0.0, "p50_us",
		us(el_hist_quantile(h, 0.5)), "p90_us", us(el_hist_quantile(h, 0.9)), "p99_us",
		us(el_hist_quantile(h, 0.99)), "p999_us", us(el_hist_quantile(h, 0.999)), "max_us",
		us(h->count ? h->max : 0));
}

/* The nonzero buckets: [lowest ns, highest ns, count]. */
static json_t *histogram_json(const struct el_hist *h)
{
	json_t *a = json_array();

	for (unsigned int i = 0; i < EL_HIST_BUCKETS; i++)
		if (h->b[i])
			json_array_append_new(a,
				json_pack("[I, I, I]", (json_int_t)el_hist_bucket_lo(i),
					(json_int_t)(i + 1 < EL_HIST_BUCKETS ?
							el_hist_bucket_hi(i) :
							h->max),
					(json_int_t)h->b[i]));
	return a;
}

static json_t *phase_json(const struct el_phase_result *p)
{
	json_t *errs = json_object();
	char code[8];

	for (unsigned int i = 0; i < p->n_err; i++) {
		snprintf(code, sizeof(code), "%u", p->err[i].code);
		json_object_set_new(errs, code, json_integer((json_int_t)p->err[i].n));
	}
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:f, s:f, s:o, s:o}", "ok", (json_int_t)p->ok,
		"failed", (json_int_t)p->failed, "timeouts", (json_int_t)p->timeouts, "retransmits",
		(json_int_t)p->retransmits, "stale_nonce", (json_int_t)p->stale_nonce, "seconds",
		p->seconds, "per_second", per_s(p->ok, p->seconds), "errors", errs, "latency",
		latency_json(&p->lat));
}

static json_t *traffic_json(const struct el_result *r)
{
	double t = r->traffic_s;
	json_t *o = json_pack("{s:I, s:f, s:I, s:I, s:I, s:f, s:f, s:f, s:I, s:f}", "allocations",
		(json_int_t)r->active, "seconds", t, "sent", (json_int_t)r->sent, "rx_peer",
		(json_int_t)r->rx_peer, "rx_client", (json_int_t)r->rx_client, "sent_pps",
		per_s(r->sent, t), "c2p_pps", per_s(r->rx_peer, t), "p2c_pps",
		per_s(r->rx_client, t), "lost", (json_int_t)r->lost, "loss_pct",
		r->sent ? 100.0 * (double)r->lost / (double)r->sent : 0.0);

	json_object_set_new(o, "reordered", json_integer((json_int_t)r->reordered));
	json_object_set_new(o, "duplicated", json_integer((json_int_t)r->duplicated));
	json_object_set_new(o, "pacer_skipped", json_integer((json_int_t)r->pacer_skipped));
	json_object_set_new(o, "tx_refused", json_integer((json_int_t)r->tx_refused));
	json_object_set_new(o, "bad_payload", json_integer((json_int_t)r->bad_payload));
	json_object_set_new(o, "unmatched", json_integer((json_int_t)r->unmatched));
	json_object_set_new(o, "echoed", json_integer((json_int_t)r->echoed));
	json_object_set_new(o, "renewals", json_integer((json_int_t)r->refreshes));
	json_object_set_new(o, "renewals_failed", json_integer((json_int_t)r->refresh_failed));
	json_object_set_new(o, "latency", latency_json(&r->lat));
	json_object_set_new(o, "histogram", histogram_json(&r->lat));
	return o;
}

static json_t *series_json(const struct el_series *s)
{
	json_t *a = json_array();

	for (uint32_t i = 0; i < s->n; i++) {
		const struct el_second *x = el_series_at(s, i);

		json_array_append_new(a,
			json_pack("{s:f, s:s, s:I, s:I, s:I, s:I, s:f, s:f, s:f, s:f}", "t", x->t,
				"phase", el_phase_name(x->phase), "done", (json_int_t)x->done,
				"tx_pps", (json_int_t)x->tx_pps, "rx_pps", (json_int_t)x->rx_pps,
				"lost", (json_int_t)x->lost, "p50_us", us(x->p50_ns), "p90_us",
				us(x->p90_ns), "p99_us", us(x->p99_ns), "p999_us", us(x->p999_ns)));
	}
	return a;
}

static json_t *config_json(const struct el_cfg *cfg)
{
	char ip[INET_ADDRSTRLEN];

	inet_ntop(AF_INET, &cfg->net.server_ip, ip, sizeof(ip));
	return json_pack("{s:s, s:s, s:i, s:i, s:i, s:s, s:i, s:i, s:I, s:f, s:s, s:b, s:i, s:i}",
		"backend", cfg->backend, "server", ip, "port", cfg->net.server_port, "allocations",
		(int)cfg->net.n_clients, "peers", (int)cfg->net.n_peers, "pattern",
		el_pattern_names[cfg->pattern], "size", (int)cfg->size, "pps", (int)cfg->pps,
		"rate", (json_int_t)cfg->rate, "duration_s", cfg->duration_s, "peer",
		cfg->peer_mode == EL_PEER_ECHO ? "echo" : "sink", "send_indications", cfg->send_ind,
		"alloc_rate", (int)cfg->alloc_rate, "window", (int)cfg->window);
}

static json_t *cpu_json(const struct el_result *r)
{
	json_t *o = json_pack("{s:f, s:f}", "edgeload_s", r->cpu_self_s, "edgeload_traffic_s",
		r->cpu_self_traffic_s);

	if (r->cpu_server_valid) {
		json_object_set_new(o, "server_traffic_s", json_real(r->cpu_server_s));
		json_object_set_new(o, "relayed_per_server_cpu_s",
			json_real(r->cpu_server_s > 0 ?
					(double)(r->rx_peer + r->rx_client) / r->cpu_server_s :
					0));
	}
	return o;
}

json_t *el_report_json_obj(const struct el_cfg *cfg, const struct el_result *r)
{
	json_t *o = json_object();

	json_object_set_new(o, "config", config_json(cfg));
	json_object_set_new(o, "allocate", phase_json(&r->alloc));
	json_object_set_new(o, "bind", phase_json(&r->bind));
	json_object_set_new(o, "traffic", traffic_json(r));
	json_object_set_new(o, "release", phase_json(&r->release));
	json_object_set_new(o, "auth_failed", json_integer((json_int_t)r->auth_failed));
	json_object_set_new(o, "aborted", json_boolean(r->aborted));
	json_object_set_new(o, "backend",
		json_pack("{s:I, s:I, s:I}", "tx_dropped", (json_int_t)r->be.tx_dropped,
			"rx_dropped", (json_int_t)r->be.rx_dropped, "rx_other",
			(json_int_t)r->be.rx_other));
	json_object_set_new(o, "cpu", cpu_json(r));
	json_object_set_new(o, "series", series_json(&r->series));
	return o;
}

int el_report_json(const char *path, const struct el_cfg *cfg, const struct el_result *r, char *err,
	size_t errlen)
{
	json_t *o = el_report_json_obj(cfg, r);
	int ret = o ? json_dump_file(o, path, JSON_INDENT(1) | JSON_REAL_PRECISION(9)) : -1;

	json_decref(o);
	if (ret < 0) {
		snprintf(err, errlen, "--json %s: cannot write it", path);
		return -EIO;
	}
	return 0;
}

/* ---- CSV ---- */

int el_report_csv(const char *path, const struct el_result *r, char *err, size_t errlen)
{
	FILE *f = fopen(path, "w");

	if (!f) {
		snprintf(err, errlen, "--csv %s: %s", path, strerror(errno));
		return -errno;
	}
	fprintf(f, "t,phase,tx_pps,rx_pps,lost,p50_us,p90_us,p99_us,p999_us\n");
	for (uint32_t i = 0; i < r->series.n; i++) {
		const struct el_second *x = el_series_at(&r->series, i);

		fprintf(f, "%.3f,%s,%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%.1f,%.1f,%.1f,%.1f\n",
			x->t, el_phase_name(x->phase), x->tx_pps, x->rx_pps, x->lost, us(x->p50_ns),
			us(x->p90_ns), us(x->p99_ns), us(x->p999_ns));
	}
	if (fclose(f) != 0) {
		snprintf(err, errlen, "--csv %s: %s", path, strerror(errno));
		return -EIO;
	}
	return 0;
}

/* ---- the plot ---- */

/* el_plot.py: $EDGELOAD_PLOT, beside the sources (a build tree), or installed. */
static const char *plot_script(void)
{
	static const char *const where[] = { EL_SRCDIR "/el_plot.py", EL_DATADIR "/el_plot.py" };
	const char *env = getenv("EDGELOAD_PLOT");

	if (env && access(env, R_OK) == 0)
		return env;
	for (unsigned int i = 0; i < sizeof(where) / sizeof(where[0]); i++)
		if (access(where[i], R_OK) == 0)
			return where[i];
	return NULL;
}

int el_report_plot(const char *argv0, const char *json_path, const char *png, char *err,
	size_t errlen)
{
	const char *script = plot_script();
	int status;
	pid_t pid;

	(void)argv0;
	if (!script) {
		snprintf(err, errlen, "--plot %s: el_plot.py not found (set EDGELOAD_PLOT)", png);
		return -ENOENT;
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "--plot %s: fork: %s", png, strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		/* Debian's python3 first: python3-matplotlib is installed for it, not for a
		 * python3 of pyenv or a venv that may come first in PATH */
		execl("/usr/bin/python3", "python3", script, json_path, png, (char *)NULL);
		execlp("python3", "python3", script, json_path, png, (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		snprintf(err, errlen, "--plot %s: %s failed (%s)", png, script,
			WIFEXITED(status) && WEXITSTATUS(status) == 2 ?
				"python3-matplotlib is missing" :
				"see its message above");
		return -EIO;
	}
	return 0;
}
