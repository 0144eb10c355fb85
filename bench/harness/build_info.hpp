// build_info.hpp: the build's fingerprint, defined in build_info.cpp (library cp_build_info).
//
//   build_git_revision - `git describe --always --dirty` when cmake last configured, or "unknown".
//   build_type_name    - CMAKE_BUILD_TYPE, or "unknown".
#pragma once

namespace cp::bench {

const char* build_git_revision();
const char* build_type_name();

}  // namespace cp::bench
