/* Observability in the appliance: the Prometheus endpoint (metrics_http.h) and remote syslog
 * (syslog_fwd.h) follow the configuration (`metrics ...`, `syslog ...`), register their
 * commands and their own counters, and show their state on their status pages. Both run on
 * threads of their own; this file runs on the control thread. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "appliance.h"
#include "edge_log.h"
#include "metrics_http.h"
#include "pki.h"
#include "syslog_fwd.h"

static struct {
	struct appliance *app;
	struct metrics_http *http;	 /* the endpoint now, or NULL */
	struct metrics_http_cfg running; /* what it was started with */
	char key[512], cert[512];	 /* its TLS files (running's pointers) */
	char why[256];			 /* why it is not running, when enabled */
	struct metrics_http_stats last;	 /* figures of endpoints stopped since start */
	struct syslog_fwd *fwd;		 /* remote syslog, while enabled with servers */
	pthread_mutex_t fwd_lock;	 /* fwd's replacement against the scrape thread's reads */
	char syslog_why[256];
} obs = { .fwd_lock = PTHREAD_MUTEX_INITIALIZER };

static void fwd_free(void)
{
	if (!obs.fwd)
		return;
	edge_log_set_remote(NULL, NULL);
	pthread_mutex_lock(&obs.fwd_lock);
	syslog_fwd_free(obs.fwd);
	obs.fwd = NULL;
	pthread_mutex_unlock(&obs.fwd_lock);
}

/* ---------------- the Prometheus endpoint ---------------- */

static void stats_add(struct metrics_http_stats *sum, const struct metrics_http_stats *s)
{
	sum->scrapes += s->scrapes;
	sum->refused += s->refused;
	sum->bad_requests += s->bad_requests;
	sum->not_found += s->not_found;
	sum->tls_failures += s->tls_failures;
	sum->over_limit += s->over_limit;
	sum->timeouts += s->timeouts;
	sum->bytes_out += s->bytes_out;
}

/* The figures since edged started: those of the endpoints stopped, and the running one's. */
static void http_stats(struct metrics_http_stats *st)
{
	struct metrics_http *h = __atomic_load_n(&obs.http, __ATOMIC_ACQUIRE);
	struct metrics_http_stats now = { 0 };

	*st = obs.last;
	st->connections_now = 0;
	if (h) {
		metrics_http_get_stats(h, &now);
		stats_add(st, &now);
		st->connections_now = now.connections_now;
	}
}

static void http_stop(void)
{
	struct metrics_http_stats now;

	if (!obs.http)
		return;
	metrics_http_get_stats(obs.http, &now);
	stats_add(&obs.last, &now);
	metrics_http_stop(obs.http);
	__atomic_store_n(&obs.http, NULL, __ATOMIC_RELEASE);
}

static bool same_http(const struct metrics_http_cfg *a, const struct metrics_http_cfg *b)
{
	return a->addr == b->addr && a->port == b->port && a->n_allow == b->n_allow &&
		!memcmp(a->allow, b->allow, sizeof(a->allow[0]) * (size_t)a->n_allow) &&
		!a->key_file == !b->key_file &&
		(!a->key_file ||
			(!strcmp(a->key_file, b->key_file) && !strcmp(a->cert_file, b->cert_file)));
}

static void http_config(struct appliance *app)
{
	const struct cfg_metrics *m = &app->cfg.metrics;
	struct metrics_http_cfg want = { 0 };
	char key[512] = "", cert[512] = "", err[256], a[16];

	if (!m->enabled || m->ifi < 0 || !app->metrics) {
		http_stop();
		obs.why[0] = '\0';
		return;
	}
	if (!app->cfg.ifs[m->ifi].n_addrs) {
		http_stop();
		snprintf(obs.why, sizeof(obs.why), "interface %s has no address",
			app->cfg.ifs[m->ifi].name);
		return;
	}
	want.addr = app->cfg.ifs[m->ifi].addrs[0].addr;
	want.port = m->port;
	want.n_allow = m->n_allow;
	for (int i = 0; i < m->n_allow; i++) {
		want.allow[i].net = m->allow[i].addr;
		want.allow[i].prefix = m->allow[i].len;
	}
	if (m->key[0] &&
		(pki_path(app->cfg.cert_dir, m->key, key, sizeof(key)) < 0 ||
			pki_path(app->cfg.cert_dir, m->cert, cert, sizeof(cert)) < 0)) {
		http_stop();
		snprintf(obs.why, sizeof(obs.why), "key or certificate name too long");
		return;
	}
	if (key[0]) {
		want.key_file = key;
		want.cert_file = cert;
	}
	if (obs.http && same_http(&want, &obs.running))
		return;
	http_stop();
	obs.http = metrics_http_start(app->metrics, &want, err, sizeof(err));
	if (!obs.http) {
		snprintf(obs.why, sizeof(obs.why), "%s", err);
		LOG_ERRX("mgmt", "metrics: cannot serve on %s:%u: %s", cfg_ipv4_str(want.addr, a),
			want.port, err);
		return;
	}
	obs.why[0] = '\0';
	snprintf(obs.key, sizeof(obs.key), "%s", key);
	snprintf(obs.cert, sizeof(obs.cert), "%s", cert);
	obs.running = want;
	obs.running.key_file = key[0] ? obs.key : NULL;
	obs.running.cert_file = key[0] ? obs.cert : NULL;
	LOG_INFO_("mgmt", "metrics: serving %s://%s:%u/metrics%s", key[0] ? "https" : "http",
		cfg_ipv4_str(want.addr, a), want.port,
		want.n_allow ? " to the allowed prefixes" : "");
}

static void metrics_status(void *ctx, FILE *out)
{
	const struct cfg_metrics *m = &((struct appliance *)ctx)->cfg.metrics;
	struct metrics_http_stats st;
	char a[16];

	http_stats(&st);
	if (obs.http)
		fprintf(out, "STATUS                  : serving %s://%s:%u/metrics\n",
			obs.running.key_file ? "https" : "http", cfg_ipv4_str(obs.running.addr, a),
			obs.running.port);
	else
		fprintf(out, "STATUS                  : not running%s%s\n", m->enabled ? ": " : "",
			m->enabled ? obs.why : "");
	fprintf(out, "Scrapes                 : %lu\n", (unsigned long)st.scrapes);
	fprintf(out, "Refused (not allowed)   : %lu\n", (unsigned long)st.refused);
	fprintf(out, "Bad requests            : %lu (404: %lu)\n", (unsigned long)st.bad_requests,
		(unsigned long)st.not_found);
	fprintf(out, "TLS handshakes failed   : %lu\n", (unsigned long)st.tls_failures);
	fprintf(out, "Connections             : %u (closed over the limit: %lu, too slow: %lu)\n",
		st.connections_now, (unsigned long)st.over_limit, (unsigned long)st.timeouts);
}

/* ---------------- remote syslog ---------------- */

static void syslog_config(struct appliance *app)
{
	const struct cfg_syslog *sl = &app->cfg.syslog;
	struct syslog_server servers[CFG_SYSLOG_MAX_SERVERS];
	char ca[512] = "", err[256];

	if (!sl->enabled || !sl->n_servers) {
		if (obs.fwd) {
			fwd_free();
			LOG_INFO_("mgmt", "syslog: remote logging stopped");
		}
		obs.syslog_why[0] = '\0';
		return;
	}
	for (int i = 0; i < sl->n_servers; i++) {
		memset(&servers[i], 0, sizeof(servers[i]));
		snprintf(servers[i].host, sizeof(servers[i].host), "%s", sl->servers[i].host);
		servers[i].port = sl->servers[i].port;
		servers[i].transport = (enum syslog_transport)sl->servers[i].transport;
	}
	if (sl->ca[0] && pki_path(app->cfg.cert_dir, sl->ca, ca, sizeof(ca)) < 0)
		ca[0] = '\0';
	if (!obs.fwd) {
		struct syslog_fwd *f = syslog_fwd_new();

		pthread_mutex_lock(&obs.fwd_lock);
		obs.fwd = f;
		pthread_mutex_unlock(&obs.fwd_lock);
	}
	if (!obs.fwd) {
		snprintf(obs.syslog_why, sizeof(obs.syslog_why), "cannot start its thread");
		LOG_ERRX("mgmt", "syslog: cannot start the sender thread");
		return;
	}
	if (syslog_fwd_configure(obs.fwd, servers, sl->n_servers, ca[0] ? ca : NULL, err,
		    sizeof(err)) < 0) {
		snprintf(obs.syslog_why, sizeof(obs.syslog_why), "%s", err);
		LOG_ERRX("mgmt", "syslog: %s", err);
		return;
	}
	obs.syslog_why[0] = '\0';
	edge_log_set_remote(syslog_fwd_log_hook, obs.fwd);
}

static void syslog_status(void *ctx, FILE *out)
{
	struct syslog_server_stats st[CFG_SYSLOG_MAX_SERVERS];
	int n;

	(void)ctx;
	if (!obs.fwd) {
		fprintf(out, "STATUS                  : not running%s%s\n",
			obs.syslog_why[0] ? ": " : "", obs.syslog_why);
		return;
	}
	n = syslog_fwd_stats(obs.fwd, st, CFG_SYSLOG_MAX_SERVERS);
	if (obs.syslog_why[0])
		fprintf(out, "STATUS                  : not applied: %s\n", obs.syslog_why);
	for (int i = 0; i < n && i < CFG_SYSLOG_MAX_SERVERS; i++)
		fprintf(out,
			"Server                  : %s:%u %s: %s, %lu sent, %lu queued, %lu lost\n",
			st[i].server.host, st[i].server.port,
			syslog_transport_name(st[i].server.transport), st[i].state,
			(unsigned long)st[i].sent, (unsigned long)st[i].queued,
			(unsigned long)st[i].lost);
}

/* ---------------- their counters ---------------- */

#define HTTP_COUNTER(fn, field)                                                                    \
	static void fn(void *ctx, struct metrics_sink *sink)                                       \
	{                                                                                          \
		struct metrics_http_stats st;                                                      \
                                                                                                   \
		(void)ctx;                                                                         \
		http_stats(&st);                                                                   \
		metrics_sample_u64(sink, NULL, st.field);                                          \
	}
HTTP_COUNTER(mh_scrapes, scrapes)
HTTP_COUNTER(mh_refused, refused)
HTTP_COUNTER(mh_bad, bad_requests)
HTTP_COUNTER(mh_tls, tls_failures)

static const char *const server_labels[] = { "server", "transport", NULL };

/* per server; on the scrape's thread, under fwd_lock (the forwarder cannot go meanwhile) */
static void sl_collect(void *ctx, struct metrics_sink *sink)
{
	struct syslog_server_stats st[CFG_SYSLOG_MAX_SERVERS];
	size_t off = (size_t)(uintptr_t)ctx;
	int n;

	pthread_mutex_lock(&obs.fwd_lock);
	n = obs.fwd ? syslog_fwd_stats(obs.fwd, st, CFG_SYSLOG_MAX_SERVERS) : 0;
	pthread_mutex_unlock(&obs.fwd_lock);

	for (int i = 0; i < n && i < CFG_SYSLOG_MAX_SERVERS; i++) {
		char hp[300];
		const char *v[] = { hp, syslog_transport_name(st[i].server.transport) };

		snprintf(hp, sizeof(hp), "%.255s:%u", st[i].server.host, st[i].server.port);
		metrics_sample_u64(sink, v, *(const uint64_t *)((const char *)&st[i] + off));
	}
}

#define SL_FAMILY(n, h, type, field)                                                               \
	{                                                                                          \
		n, h, type, server_labels, sl_collect,                                             \
			(void *)(uintptr_t)offsetof(struct syslog_server_stats, field)             \
	}

static const struct metrics_family obs_families[] = {
	{ "edge_metrics_scrapes_total", "Scrapes of /metrics answered.", METRICS_COUNTER, NULL,
		mh_scrapes, NULL },
	{ "edge_metrics_refused_total",
		"Connections to the metrics endpoint from outside its "
		"allow-list (closed unanswered).",
		METRICS_COUNTER, NULL, mh_refused, NULL },
	{ "edge_metrics_bad_requests_total",
		"Requests to the metrics endpoint answered 4xx or "
		"505.",
		METRICS_COUNTER, NULL, mh_bad, NULL },
	{ "edge_metrics_tls_failures_total",
		"TLS handshakes with the metrics endpoint that "
		"failed.",
		METRICS_COUNTER, NULL, mh_tls, NULL },
	SL_FAMILY("edge_syslog_sent_total",
		"Log lines a syslog server took (TCP/TLS: "
		"acknowledged).",
		METRICS_COUNTER, sent),
	SL_FAMILY("edge_syslog_lost_total",
		"Log lines lost for a syslog server (queue full, "
		"refused).",
		METRICS_COUNTER, lost),
	SL_FAMILY("edge_syslog_queued", "Log lines waiting for a syslog server.", METRICS_GAUGE,
		queued),
};

/* ---------------- the component ---------------- */

static void on_config(void *ctx)
{
	http_config(ctx);
	syslog_config(ctx);
}

int app_obs_start(struct appliance *app)
{
	static struct obs_cli_ops ops = { .metrics_status = metrics_status,
		.syslog_status = syslog_status };
	int ret;

	obs.app = app;
	ops.ctx = app;
	if ((ret = obs_cli_register(&app->cli, &ops)) < 0 ||
		(ret = app_on_config(app, on_config, app)) < 0)
		return ret;
	for (size_t i = 0; app->metrics && i < sizeof(obs_families) / sizeof(obs_families[0]); i++)
		if ((ret = metrics_register(app->metrics, &obs_families[i])) < 0)
			LOG_WARN("mgmt", "metrics: %s: %s", obs_families[i].name, strerror(-ret));
	on_config(app);
	return 0;
}

void app_obs_stop(struct appliance *app)
{
	(void)app;
	http_stop();
	fwd_free();
}
