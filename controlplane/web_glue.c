/* The appliance's side of webbridge3 and the callbridge: starting their threads by role,
 * and the CLI's restart and live tables. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "appliance.h"
#include "callbridge/cb.h"
#include "edge_log.h"
#include "media/media_server.h"
#include "metrics.h"
#include "webbridge3/wb3.h"

/* webbridge3's thread: the linked callbridges' media ports, for the control loop's tick */
static void media_ports(void *ctx, const struct wb3_media *m, unsigned int n)
{
	struct appliance *app = ctx;

	pthread_mutex_lock(&app->media_lock);
	app->n_media = 0;
	for (unsigned int i = 0; i < n && i < APP_MAX_MEDIA; i++)
		app->media[app->n_media++] =
			(struct turn_media_target){ .ip = m[i].ip, .port = m[i].port };
	__atomic_store_n(&app->media_changed, true, __ATOMIC_RELEASE);
	pthread_mutex_unlock(&app->media_lock);
	if (n > APP_MAX_MEDIA)
		LOG_WARN("webbridge3",
			"%u media ports announced: only the first %d are reachable "
			"by guests",
			n, APP_MAX_MEDIA);
}

/* ---- metrics: webbridge3's and the callbridge's figures ----
 * Collected on the scraper's thread through wb3_figures() and cb_figures(), which take the
 * components' own locks and read their counters atomically. app->wb3 and app->cb are set
 * before the families are registered and freed only after they are unregistered (the
 * registry's mutex: no collect runs past metrics_unregister), so the pointers stay good. */

static const char *const reason_labels[] = { "reason", NULL };

enum web_figure {
	WB3_JOINS,
	WB3_FAILS,
	WB3_GUESTS,
	WB3_LINKS,
	CB_CALLS,
	CB_PARTICIPANTS,
	CB_JOINS,
	CB_FAILS,
	CB_LINKS,
};

static void web_collect(void *ctx, struct metrics_sink *sink, enum web_figure what)
{
	struct appliance *app = ctx;

	if (what <= WB3_LINKS) {
		struct wb3_figures f;

		if (!app->wb3)
			return;
		wb3_figures(app->wb3, &f);
		if (what == WB3_JOINS)
			metrics_sample_u64(sink, NULL, f.joins_ok);
		else if (what == WB3_GUESTS)
			metrics_sample_u64(sink, NULL, f.guests);
		else if (what == WB3_LINKS)
			metrics_sample_u64(sink, NULL, f.links);
		else
			for (unsigned int i = 0; i < WB3_JOIN_FAIL_REASONS; i++) {
				const char *v[] = { wb3_join_fail_reasons[i] };

				metrics_sample_u64(sink, v, f.join_fails[i]);
			}
		return;
	}
	struct cb_figures f;

	if (!app->cb)
		return;
	cb_figures(app->cb, &f);
	if (what == CB_CALLS)
		metrics_sample_u64(sink, NULL, f.calls);
	else if (what == CB_PARTICIPANTS)
		metrics_sample_u64(sink, NULL, f.participants);
	else if (what == CB_JOINS)
		metrics_sample_u64(sink, NULL, f.joins_ok);
	else if (what == CB_LINKS)
		metrics_sample_u64(sink, NULL, f.links);
	else
		for (unsigned int i = 0; i < CB_JOIN_FAIL_REASONS; i++) {
			const char *v[] = { cb_join_fail_reasons[i] };

			metrics_sample_u64(sink, v, f.join_fails[i]);
		}
}

#define WEB_COLLECT(what)                                                                          \
	static void collect_##what(void *ctx, struct metrics_sink *sink)                           \
	{                                                                                          \
		web_collect(ctx, sink, what);                                                      \
	}
WEB_COLLECT(WB3_JOINS)
WEB_COLLECT(WB3_FAILS)
WEB_COLLECT(WB3_GUESTS)
WEB_COLLECT(WB3_LINKS)
WEB_COLLECT(CB_CALLS)
WEB_COLLECT(CB_PARTICIPANTS)
WEB_COLLECT(CB_JOINS)
WEB_COLLECT(CB_FAILS)
WEB_COLLECT(CB_LINKS)

static const struct metrics_family wb3_families[] = {
	{ "edge_webbridge3_guest_joins_total", "Guests' joins answered with a JWT.",
		METRICS_COUNTER, NULL, collect_WB3_JOINS, NULL },
	{ "edge_webbridge3_guest_join_failures_total",
		"Guests' joins refused, by the error "
		"code of the answer (\"other\": a code the callbridge sent that is not known here).",
		METRICS_COUNTER, reason_labels, collect_WB3_FAILS, NULL },
	{ "edge_webbridge3_guests", "Guests connected now (signalling authenticated).",
		METRICS_GAUGE, NULL, collect_WB3_GUESTS, NULL },
	{ "edge_webbridge3_c2w_links", "Callbridges linked over C2W now (hello received).",
		METRICS_GAUGE, NULL, collect_WB3_LINKS, NULL },
};

static const struct metrics_family cb_families[] = {
	{ "edge_callbridge_calls", "Calls (meetings with participants) now.", METRICS_GAUGE, NULL,
		collect_CB_CALLS, NULL },
	{ "edge_callbridge_participants", "Participants (call legs, joining or joined) now.",
		METRICS_GAUGE, NULL, collect_CB_PARTICIPANTS, NULL },
	{ "edge_callbridge_joins_total", "Guests' joins the callbridge accepted.", METRICS_COUNTER,
		NULL, collect_CB_JOINS, NULL },
	{ "edge_callbridge_join_failures_total",
		"Guests' joins the callbridge refused, by "
		"error code.",
		METRICS_COUNTER, reason_labels, collect_CB_FAILS, NULL },
	{ "edge_callbridge_c2w_connections", "C2W links to web bridges up now.", METRICS_GAUGE,
		NULL, collect_CB_LINKS, NULL },
};

#define N_OF(a) (sizeof(a) / sizeof((a)[0]))

static void web_metrics_stop(struct appliance *app)
{
	for (size_t i = 0; app->metrics && i < N_OF(wb3_families); i++)
		metrics_unregister(app->metrics, wb3_families[i].name); /* -ENOENT: never was */
	for (size_t i = 0; app->metrics && i < N_OF(cb_families); i++)
		metrics_unregister(app->metrics, cb_families[i].name);
}

/* The families of the components this appliance runs; without a registry, none. */
static void web_metrics_start(struct appliance *app)
{
	int ret = 0;

	for (size_t i = 0; app->metrics && app->wb3 && !ret && i < N_OF(wb3_families); i++) {
		struct metrics_family f = wb3_families[i];

		f.ctx = app;
		ret = metrics_register(app->metrics, &f);
	}
	for (size_t i = 0; app->metrics && app->cb && !ret && i < N_OF(cb_families); i++) {
		struct metrics_family f = cb_families[i];

		f.ctx = app;
		ret = metrics_register(app->metrics, &f);
	}
	if (ret) /* it runs without them */
		LOG_WARN("webbridge3", "metrics: registering the web counters: %s", strerror(-ret));
}

void app_web_stop(struct appliance *app)
{
	/* the counters first: no collect may run once the components are freed */
	web_metrics_stop(app);
	/* the callbridge first: its guests' legs end while the web bridge still carries them */
	cb_stop(app->cb);
	app->cb = NULL;
	wb3_stop(app->wb3);
	app->wb3 = NULL;
}

static int web_restart(void *ctx, const char *component, FILE *out)
{
	struct appliance *app = ctx;

	if (!strcmp(component, "webbridge3")) {
		if (!app->wb3) {
			fprintf(out, "webbridge3: not on this appliance (role %s)\n",
				cfg_role_name(app->cfg.role));
			return -ENOTSUP;
		}
		return wb3_restart(app->wb3, &app->cfg, out);
	}
	if (!app->cb) {
		fprintf(out, "%s: not on this appliance (role %s)\n", component,
			cfg_role_name(app->cfg.role));
		return -ENOTSUP;
	}
	/* webadmin lives in the callbridge's thread: both restart together */
	return cb_restart(app->cb, &app->cfg, out);
}

static void web_info(void *ctx, const char *what, FILE *out)
{
	struct appliance *app = ctx;

	if (!strcmp(what, "webbridge3 connections") && app->wb3)
		wb3_connections(app->wb3, out);
	else if (!strcmp(what, "callbridge calls") && app->cb)
		cb_show_calls(app->cb, out);
	else if (!strcmp(what, "callbridge participants") && app->cb)
		cb_show_participants(app->cb, out);
	else if (!strcmp(what, "callbridge media") && app->cb)
		media_show(app->mediasrv, out);
	else if (!strcmp(what, "callbridge media rotate") && app->cb) {
		if (!app->mediasrv || media_server_rotate(app->mediasrv) < 0)
			fprintf(out, "callbridge media rotate: no media server to rotate\n");
		else
			fprintf(out,
				"callbridge media rotate: legs made from now on use a new "
				"certificate\n");
	} else
		fprintf(out, "%s: not on this appliance (role %s)\n", what,
			cfg_role_name(app->cfg.role));
}

/* after app->cfg changed: the administrators the web admin knows, and the TLS listeners'
 * certificates where their files changed (a renewal drops no connection) */
static void on_config(void *ctx)
{
	struct appliance *app = ctx;

	if (app->cb) {
		cb_admins(app->cb, &app->cfg);
		cb_certs(app->cb, &app->cfg);
	}
	if (app->wb3)
		wb3_certs(app->wb3, &app->cfg);
}

static bool webadmin_running(void *ctx)
{
	struct appliance *app = ctx;

	return app->cb && cb_webadmin_running(app->cb);
}

int app_web_start(struct appliance *app)
{
	static struct web_cli_ops ops = {
		.restart = web_restart,
		.info = web_info,
		.webadmin_running = webadmin_running,
	};
	int ret;

	ops.ctx = app;
	/* before any service starts: a callbridge database edged cannot use stops the start,
	 * saying why, rather than leaving the spaces behind a callbridge without them */
	{
		char err[1024];

		if ((ret = cb_db_ready(&app->cfg, err, sizeof(err))) < 0) {
			app->db_refused = true;
			LOG_ERRX("callbridge", "database: %s; edged does not start", err);
			if (app->cfg.log_target != LOG_TARGET_STDERR)
				fprintf(stderr, "edged: callbridge database: %s\n", err);
			return ret;
		}
	}
	if ((ret = web_cli_register(&app->cli, &ops)) < 0 ||
		(ret = app_on_config(app, on_config, app)) < 0)
		return ret;
	if (app->cfg.role != EDGE_ROLE_CORE) {
		const struct wb3_services svc = { .ctx = app, .media_ports = media_ports };

		app->wb3 = wb3_start(&app->cfg, &svc);
		if (!app->wb3)
			return -ENOMEM;
	}
	if (app->cfg.role != EDGE_ROLE_EDGE) {
		app->cb = cb_start(&app->cfg, app->mediasrv);
		if (!app->cb)
			return -ENOMEM;
	}
	web_metrics_start(app);
	return 0;
}
