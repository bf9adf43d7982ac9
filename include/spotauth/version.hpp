// Which build of spotauth runs: its version (the VERSION file, or the
// package version ./build.sh passes to CMake, e.g. 0.1.0+git20261204.904f395)
// and the Prometheus sample that tells an operator so.
#pragma once

#include <string>
#include <string_view>

namespace spotauth {

// The version this core was built as.
std::string_view version();

// `spotauth_build_info{version="…",nginx="…"} 1`, with its HELP and TYPE
// lines: `nginx` is the nginx version the module was built for (and, since
// nginx refuses a module of another version, the one it runs in).
std::string build_info_metric(std::string_view nginx);

}  // namespace spotauth
