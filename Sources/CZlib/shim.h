#ifndef CORTADO_CZLIB_SHIM_H
#define CORTADO_CZLIB_SHIM_H
// zlib's gz* API reads gzip and plain files alike (MNIST-format IDX files come either way).
#include <zlib.h>
#endif
