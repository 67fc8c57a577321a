/* edgeload's command line: parsed into struct el_cfg by a function the unit test can call. */
#ifndef EDGE_EL_ARGS_H
#define EDGE_EL_ARGS_H

#include <stddef.h>
#include <stdio.h>

#include "el_engine.h"

/* 0 with @cfg filled; 1 when --help was asked for (usage printed by the caller); -EINVAL with
 * @err naming the option and what is wrong with it. */
int el_args_parse(int argc, char **argv, struct el_cfg *cfg, char *err, size_t errlen);
void el_args_usage(FILE *f);

#endif
