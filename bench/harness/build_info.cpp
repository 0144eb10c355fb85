// build_info.cpp: the build's fingerprint (git revision, build type), in one small translation
// unit of its own. The build type is a compile definition set at configure time, the revision
// comes from git_revision.h, regenerated at every build (bench/CMakeLists.txt,
// cmake/git_revision.cmake); keeping them out of the headers means a new commit recompiles
// this file only, not `compare` and the tests (declared in harness/report.hpp).
#include "bench/harness/build_info.hpp"

#include "git_revision.h"

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
