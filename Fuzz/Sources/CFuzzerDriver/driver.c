// The declaration is all this module provides (see include/CFuzzerDriver.h); SwiftPM wants a source file.
#include "CFuzzerDriver.h"
