import Foundation
import CFuzzerDriver

// libFuzzer's loop with `fuzzOne` as the target (see CFuzzerDriver.h).
var argc = CommandLine.argc
var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in
    guard let data else { return 0 }
    return fuzzOne(data, size)
})
