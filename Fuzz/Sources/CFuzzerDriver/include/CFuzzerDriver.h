#ifndef TRIBUTARY_C_FUZZER_DRIVER_H
#define TRIBUTARY_C_FUZZER_DRIVER_H
#include <stddef.h>
#include <stdint.h>

// libFuzzer's driver (compiler-rt, linked by -sanitize=fuzzer): runs the fuzzing loop with
// `callback` as the target. Called from a fuzz target's own `main`, so SwiftPM can build the
// target as an ordinary executable.
int LLVMFuzzerRunDriver(int *argc, char ***argv, int (*callback)(const uint8_t *data, size_t size));

#endif
