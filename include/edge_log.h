/* Logging for the control plane, in the guide's syslog style:
 *   "Nov 24 07:12:01.123 local0.info edge mgmt: interface b up"
 * to stderr, a file or syslog(3), with the last lines kept for `edgectl log`.
 * The data plane never logs: it counts. */
#ifndef EDGE_LOG_H
#define EDGE_LOG_H

#include <stddef.h>
#include <stdio.h>
#include <sys/time.h>
#include <syslog.h>

#include "edge_config.h"

int edge_log_open(enum log_target target, const char *file, int level);
void edge_log_close(void);

void edge_log(int level, const char *component, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Copies @src to @dst (always terminated, cut to fit) with every control character (C0,
 * DEL, C1, tabs too) and every byte that is not part of valid UTF-8 written as "\xNN", so a
 * log line can never move a terminal's cursor or retitle its window. Returns the length. */
size_t edge_log_sanitize(char *dst, size_t dstlen, const char *src);

/* A second sink for every line at or above the configured level (remote syslog): @facility
 * as <syslog.h> has it (LOG_LOCAL0), @msg already sanitized. Called with the log's lock held,
 * so it must queue and return, never wait on the network nor log; NULL removes it. */
typedef void (*edge_log_remote_fn)(void *ctx, int facility, int severity, const struct timeval *tv,
	const char *component, const char *msg);
void edge_log_set_remote(edge_log_remote_fn fn, void *ctx);

/* Writes the last @n remembered lines (oldest first) to @out. */
void edge_log_dump(FILE *out, int n);

#define LOG_ERRX(comp, ...) edge_log(LOG_ERR, comp, __VA_ARGS__)
#define LOG_WARN(comp, ...) edge_log(LOG_WARNING, comp, __VA_ARGS__)
#define LOG_NOTE(comp, ...) edge_log(LOG_NOTICE, comp, __VA_ARGS__)
#define LOG_INFO_(comp, ...) edge_log(LOG_INFO, comp, __VA_ARGS__)

#endif
