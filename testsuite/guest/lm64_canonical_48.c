/* lm64_canonical_48: lm64_canonical on a CPU without 5-level paging
 * (lm64_canonical_48.args: -cpu nest86,la57=off), whose maximum
 * linear-address width is 48 bits. */
#define EXPECT_WIDTH 48
#include "lm64_canonical.c"
