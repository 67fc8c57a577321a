/* libFuzzer target for the metrics endpoint's request-head parser (metrics_http_parse): on any
 * bytes it must neither crash nor read out of bounds (ASan+UBSan watch), return only a head's
 * length within the input and the head limit, 0 below the limit, or one of its statuses; a head
 * it accepts must hold a GET or HEAD of a bounded, terminated path, and parse the same without
 * what follows it, while every shorter prefix of it needs more bytes. Seed it with
 * tests/fuzz/corpus/http. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct metrics_http_req req, again;

static void check_req(const struct metrics_http_req *r)
{
	size_t n = strnlen(r->path, sizeof(r->path));

	if (n == 0 || n > METRICS_HTTP_MAX_URI || r->path[0] != '/' || strpbrk(r->path, "?# \r\n"))
		abort();
	if (r->method != METRICS_HTTP_GET && r->method != METRICS_HTTP_HEAD)
		abort();
	if (r->minor < 0 || r->minor > 9)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data;
	int rc = metrics_http_parse(buf, size, &req);
	size_t step;

	if (rc < 0) {
		if (rc != -400 && rc != -405 && rc != -414 && rc != -431 && rc != -505)
			abort();
		return 0;
	}
	if (rc == 0) {
		if (size >= METRICS_HTTP_MAX_HEAD)
			abort(); /* the server's buffer would be full, waiting forever */
		return 0;
	}
	if ((size_t)rc > size || rc > METRICS_HTTP_MAX_HEAD)
		abort();
	check_req(&req);
	/* the head alone parses the same: nothing after it was looked at */
	if (metrics_http_parse(buf, (size_t)rc, &again) != rc || again.method != req.method ||
		again.minor != req.minor || again.keep_alive != req.keep_alive ||
		strcmp(again.path, req.path))
		abort();
	/* a head arriving in pieces is never refused early: a prefix needs more bytes */
	step = rc > 512 ? (size_t)rc / 64 : 1;
	for (size_t n = 0; n < (size_t)rc; n += step)
		if (metrics_http_parse(buf, n, &again) != 0)
			abort();
	if (metrics_http_parse(buf, (size_t)rc - 1, &again) != 0)
		abort();
	return 0;
}
