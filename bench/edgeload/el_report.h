/* edgeload's output: the live progress line, the summary (text and JSON), the per-second CSV
 * and the plot (el_plot.py over the JSON). */
#ifndef EDGE_EL_REPORT_H
#define EDGE_EL_REPORT_H

#include <stdio.h>
#include <jansson.h>

#include "el_engine.h"

const char *el_phase_name(unsigned int phase);
/* One second's line on stderr: \r-updated on a tty, a line of its own otherwise. */
void el_report_progress(const struct el_second *s, uint32_t total, bool tty);
void el_report_summary(FILE *f, const struct el_cfg *cfg, const struct el_result *r);
/* 0 or a negative errno with @err naming the file. */
int el_report_json(const char *path, const struct el_cfg *cfg, const struct el_result *r, char *err,
	size_t errlen);
int el_report_csv(const char *path, const struct el_result *r, char *err, size_t errlen);
/* The summary as a JSON object (the caller's reference). */
json_t *el_report_json_obj(const struct el_cfg *cfg, const struct el_result *r);
/* Runs el_plot.py on the JSON @json_path into @png; says why not if it cannot. */
int el_report_plot(const char *argv0, const char *json_path, const char *png, char *err,
	size_t errlen);

#endif
