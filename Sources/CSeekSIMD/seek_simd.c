// The kernels are static inline functions in include/seek_simd.h (Swift imports them
// directly); this file only gives SwiftPM a C source to build the module from.
#include "seek_simd.h"
