// build_info.cpp: the build's fingerprint (git revision, build type), in one small translation
// unit of its own. The values come from compile definitions set at configure time
// (bench/CMakeLists.txt); keeping them out of the headers means a new commit recompiles this
// file only, not `compare` and the tests (declared in harness/report.hpp).
#include "bench/harness/build_info.hpp"

#ifndef CP_BUILD_TYPE
#define CP_BUILD_TYPE "unknown"
#endif
#ifndef CP_GIT_REVISION
#define CP_GIT_REVISION "unknown"
#endif

namespace cp::bench {

const char* build_git_revision() { return CP_GIT_REVISION; }
const char* build_type_name() { return CP_BUILD_TYPE; }

}  // namespace cp::bench
