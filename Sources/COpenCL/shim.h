#ifndef CORTADO_COPENCL_SHIM_H
#define CORTADO_COPENCL_SHIM_H
// Cortado targets the OpenCL 1.2 host API: every vendor (NVIDIA, AMD, Intel, PoCL) implements it.
#define CL_TARGET_OPENCL_VERSION 120
#include <CL/cl.h>
#endif
