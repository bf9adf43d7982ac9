// The input is an answer of the provider: the first two bytes choose the
// HTTP status (big-endian, modulo 1000; 0 is a failed transfer), the rest is
// the body, for parse_token_response and parse_profile. What the module does
// with an ok answer (new_session at login, refresh_result on refresh) runs
// too, with the fixed clock.
#include "fuzz_common.hpp"

#include "spotauth/oauth.hpp"
#include "spotauth/provider_text.hpp"
#include "spotauth/refresh.hpp"

#include <cstddef>
#include <cstdint>

namespace {

using spotauth::TokenOutcome;

constexpr std::size_t kMaxDescription = 256;
constexpr spotauth::UnixTime kSessionLifetime = 30 * 86400;

bool printable_and_bounded(std::string_view text) {
    if (text.size() > kMaxDescription) {
        return false;
    }
    for (const char c : text) {
        if (c < 0x20 || c > 0x7E) {
            return false;
        }
    }
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size < 2) {
        return 0;
    }
    const long status = ((long{data[0]} << 8) | long{data[1]}) % 1000;
    const std::string_view body(reinterpret_cast<const char*>(data) + 2, size - 2);
    const bool success = status >= 200 && status < 300;

    const auto tokens = spotauth::parse_token_response(status, body);
    FUZZ_CHECK(printable_and_bounded(tokens.description));
    FUZZ_CHECK(printable_and_bounded(tokens.error));
    if (tokens.outcome == TokenOutcome::ok) {
        FUZZ_CHECK(success);
        FUZZ_CHECK(!tokens.access_token.empty());
        FUZZ_CHECK(tokens.expires_in > 0);
        FUZZ_CHECK(tokens.error.empty() && tokens.description.empty());
        FUZZ_CHECK(spotauth::is_token_text(tokens.access_token));
        FUZZ_CHECK(!tokens.refresh_token || spotauth::is_token_text(*tokens.refresh_token));
    } else {
        FUZZ_CHECK(!tokens.error.empty());
        FUZZ_CHECK(tokens.access_token.empty() && !tokens.refresh_token);
    }
    if (status == 0) {
        FUZZ_CHECK(tokens.outcome == TokenOutcome::transient);
    }
    if (!success && tokens.error == "invalid_grant") {
        FUZZ_CHECK(tokens.outcome == TokenOutcome::permanent);
    }
    if (tokens.outcome == TokenOutcome::permanent) {
        FUZZ_CHECK(tokens.error == "invalid_grant");
    }

    const auto profile = spotauth::parse_profile(status, body);
    if (profile) {
        FUZZ_CHECK(success);
        FUZZ_CHECK(!profile->id.empty() && !profile->display_name.empty());
        FUZZ_CHECK(profile->id.size() <= spotauth::kMaxUserIdBytes);
        FUZZ_CHECK(profile->display_name.size() <= spotauth::kMaxDisplayNameBytes);
        for (const std::string* text : {&profile->id, &profile->display_name}) {
            FUZZ_CHECK(text->find_first_of(std::string("\r\n\0\x7f", 4)) == std::string::npos);
            FUZZ_CHECK(spotauth::clean_text(*text, text->size()) == *text);  // clean is a fixed point
        }
    }

    if (tokens.outcome == TokenOutcome::ok) {
        // What the module does with it: a session at login...
        const spotauth::Profile who = profile ? *profile : spotauth::Profile{"user", "User"};
        const auto session = spotauth::new_session(who, tokens, fuzz::kNow, kSessionLifetime);
        FUZZ_CHECK(session.access_expires_at > fuzz::kNow);
        const auto sealed = spotauth::seal_session(fuzz::ring(), session);
        FUZZ_CHECK(sealed.has_value());
        const auto opened = spotauth::open_session(fuzz::ring(), *sealed, fuzz::kNow);
        FUZZ_CHECK(opened.status == spotauth::CookieStatus::valid);
        FUZZ_CHECK(opened.session.access_token == tokens.access_token);
        // ...and new tokens on refresh.
        const auto refreshed = spotauth::refresh_result(tokens, "old-refresh-token", fuzz::kNow);
        FUZZ_CHECK(refreshed.outcome == TokenOutcome::ok);
        FUZZ_CHECK(refreshed.access_expires_at > fuzz::kNow);
        FUZZ_CHECK(!refreshed.refresh_token.empty());
    }
    return 0;
}
