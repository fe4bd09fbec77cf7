#ifndef TRIBUTARY_CLIBUV_SHIM_H
#define TRIBUTARY_CLIBUV_SHIM_H
#include <uv.h>
#endif
