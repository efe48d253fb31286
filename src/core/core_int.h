/* core internals shared by the files of src/core/ (never included from outside the module):
 * the bucket list of the configuration, which config.c loads and config_buckets.c owns. */
#ifndef LH_CORE_INT_H
#define LH_CORE_INT_H

#include "core/core.h"

/* Sets c's bucket list to the default: primary alone at buckets/primary. */
void lh_config__buckets_init(lh_config *c);
void lh_config__buckets_free(lh_bucket_spec *b, size_t n);
/* Deep copy (n may be 0: NULL). */
lh_bucket_spec *lh_config__buckets_copy(const lh_bucket_spec *b, size_t n);
/* Applies the [buckets] table of a config file: each member a table { root = "..." }
 * (an empty table means the default root buckets/<name>). Unknown keys are errors. */
int lh_config__apply_buckets_doc(lh_config *c, const json_t *table, lh_err *err) LH_MUST_CHECK;
/* {"<name>": {"root": "..."}} in declaration order; new reference. */
json_t *lh_config__buckets_json(const lh_config *c);

#endif
