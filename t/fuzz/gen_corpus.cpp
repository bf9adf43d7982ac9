// Writes the sealed-cookie seeds of corpus/fuzz_session_cookie (and the
// login cookie seed of fuzz_callback_query) with the fuzzers' fixed keys.
// Not part of the fuzz run; the output is checked in:
//   cmake --build build/fuzz --target fuzz_gen_corpus
//   build/fuzz/fuzz_gen_corpus t/fuzz/corpus
#include "fuzz_common.hpp"

#include <fstream>
#include <iostream>

namespace {

std::string dir;

void write(const std::string& target, const std::string& name, std::string_view bytes) {
    std::ofstream out(dir + "/" + target + "/" + name, std::ios::binary);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    if (!out) {
        std::cerr << "cannot write " << dir << "/" << target << "/" << name << "\n";
        std::exit(1);
    }
}

std::string seal_with(const spotauth::Key& key, const spotauth::Session& s) {
    return *spotauth::seal_session(spotauth::KeyRing({key}), s);
}

std::string header(std::string_view json) { return spotauth::base64url_encode(json); }

}  // namespace

int main(int argc, char** argv) {
    if (argc != 2) {
        std::cerr << "usage: " << argv[0] << " CORPUS_DIR\n";
        return 2;
    }
    dir = argv[1];
    const std::string t = "fuzz_session_cookie";
    using fuzz::kNow;

    spotauth::Session s{"alice",     "Alice Ä", "BQAccessToken",  "AQRefreshToken",
                        kNow + 3600, kNow - 60, kNow + 30 * 86400};
    const std::string valid = seal_with(fuzz::key_a(), s);
    write(t, "session_valid", valid);
    write(t, "session_second_key", seal_with(fuzz::key_b(), s));
    write(t, "session_unknown_key", seal_with(fuzz::key_c(), s));
    spotauth::Session old = s;
    old.expires_at = kNow - 1;
    write(t, "session_expired", seal_with(fuzz::key_a(), old));

    spotauth::LoginTransaction login{"state-123", "verifier-456", "/back?to=here", kNow + 600};
    write(t, "login_valid", *spotauth::seal_login(fuzz::ring(), login));
    login.expires_at = kNow;
    write(t, "login_expired", *spotauth::seal_login(fuzz::ring(), login));

    write(t, "truncated_half", valid.substr(0, valid.size() / 2));
    write(t, "truncated_no_tag", valid.substr(0, valid.rfind('.') + 1));
    std::string flipped = valid;
    flipped[flipped.size() / 2] = flipped[flipped.size() / 2] == 'A' ? 'B' : 'A';
    write(t, "flipped", flipped);
    write(t, "six_parts", valid + ".AAAA");

    const std::string kid = fuzz::key_a().id;
    const std::string rest = valid.substr(valid.find('.'));
    write(t, "alg_none", header(R"({"alg":"none","enc":"A256GCM","kid":")" + kid + "\"}") + rest);
    write(t, "enc_a128gcm", header(R"({"alg":"dir","enc":"A128GCM","kid":")" + kid + "\"}") + rest);
    write(t, "alg_a256kw",
          header(R"({"alg":"A256KW","enc":"A256GCM","kid":")" + kid + "\"}") +
              ".AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" + rest.substr(1));
    write(t, "zip_def", header(R"({"alg":"dir","enc":"A256GCM","kid":")" + kid + R"(","zip":"DEF"})") + rest);
    write(t, "kid_number", header(R"({"alg":"dir","enc":"A256GCM","kid":7})") + rest);
    write(t, "jws_alg_none", header(R"({"alg":"none","typ":"JWT"})") + "." + header(R"({"sub":"x"})") + ".");

    // Claims for the sealed-input path (the input sealed under a ring key).
    write(t, "claims_session",
          R"({"typ":"session","sub":"u","name":"U","access_token":"a","refresh_token":"r",)"
          R"("access_expires_at":1700003600,"iat":1700000000,"exp":1800000000})");
    write(t, "claims_login", R"({"typ":"login","state":"s","code_verifier":"v","return_to":"/","exp":1700000600})");

    write("fuzz_callback_query", "login_state",
          "code=AQD-code&state=" + fuzz::fixed_login().state + "&return_to=%2Fapp%3Fx%3D1");
    std::cout << "wrote seeds under " << dir << "\n";
    return 0;
}
