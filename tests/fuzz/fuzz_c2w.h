/* fuzz_api's C2W halves (fuzz_c2w_cb.c, fuzz_c2w_wb3.c): each end's C2W receive path fed
 * one fragment at a time. begin, fragments, end per input; end checks the link still reads. */
#ifndef FUZZ_C2W_H
#define FUZZ_C2W_H

#include <stdbool.h>
#include <stddef.h>

struct cb_db;

void fuzz_c2w_cb_init(void);
void fuzz_c2w_cb_begin(struct cb_db *db);
void fuzz_c2w_cb_fragment(const void *data, size_t len, bool final);
void fuzz_c2w_cb_end(void);

void fuzz_c2w_wb3_init(void);
void fuzz_c2w_wb3_begin(void);
void fuzz_c2w_wb3_fragment(const void *data, size_t len, bool final);
void fuzz_c2w_wb3_end(void);

#endif
