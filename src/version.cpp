// The build's version, compiled in from the header CMakeLists.txt generates
// (so a new version recompiles this file alone), and its metric.
#include "spotauth/version.hpp"

namespace spotauth {
namespace {

constexpr std::string_view kVersion =
#include "version.inc"
    ;

// A Prometheus label value: backslash, double quote and newline escaped.
std::string label_value(std::string_view text) {
    std::string out;
    for (const char c : text) {
        switch (c) {
            case '\\': out += "\\\\"; break;
            case '"': out += "\\\""; break;
            case '\n': out += "\\n"; break;
            default: out += c;
        }
    }
    return out;
}

}  // namespace

std::string_view version() { return kVersion; }

std::string build_info_metric(std::string_view nginx) {
    return "# HELP spotauth_build_info The spotauth build this server runs (always 1).\n"
           "# TYPE spotauth_build_info gauge\n"
           "spotauth_build_info{version=\"" +
           label_value(kVersion) + "\",nginx=\"" + label_value(nginx) + "\"} 1\n";
}

}  // namespace spotauth
