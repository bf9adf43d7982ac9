// Sealing refresh records to the key they were stored under (see
// sealed_refresh.hpp).
#include "spotauth/sealed_refresh.hpp"

#include "spotauth/crypto.hpp"

#include <nlohmann/json.hpp>

namespace spotauth {
namespace {

using json = nlohmann::json;

// The record kind and the full key: a record opens only where it was put.
std::string additional_data(std::string_view key) {
    std::string aad = "spotauth/refresh-result/1";
    aad.push_back('\0');
    aad.append(key);
    return aad;
}

bool settled_outcome(int outcome) {
    return outcome == static_cast<int>(TokenOutcome::ok) || outcome == static_cast<int>(TokenOutcome::permanent);
}

}  // namespace

std::optional<std::string> new_record_secret() { return random_bytes(kAesKeyBytes); }

std::optional<std::string> seal_record(std::string_view secret, std::string_view key, const StoredRefresh& settled) {
    const RefreshResult& r = settled.result;
    if (settled.in_flight || !settled_outcome(static_cast<int>(r.outcome))) {
        return std::nullopt;
    }
    const json doc = {{"stored_at", settled.stored_at},
                      {"outcome", static_cast<int>(r.outcome)},
                      {"access_token", r.access_token},
                      {"refresh_token", r.refresh_token},
                      {"access_expires_at", r.access_expires_at},
                      {"access_issued_at", r.access_issued_at},
                      {"error", r.error}};
    const auto iv = random_bytes(kGcmIvBytes);
    if (!iv) {
        return std::nullopt;
    }
    const auto sealed = aes256gcm_seal(secret, *iv, additional_data(key), doc.dump());
    if (!sealed) {
        return std::nullopt;
    }
    return *iv + sealed->ciphertext + sealed->tag;
}

std::optional<StoredRefresh> open_record(std::string_view secret, std::string_view key, std::string_view sealed) {
    if (sealed.size() < kGcmIvBytes + kGcmTagBytes) {
        return std::nullopt;
    }
    const std::string_view iv = sealed.substr(0, kGcmIvBytes);
    const std::string_view ciphertext = sealed.substr(kGcmIvBytes, sealed.size() - kGcmIvBytes - kGcmTagBytes);
    const std::string_view tag = sealed.substr(sealed.size() - kGcmTagBytes);
    std::string plaintext;
    if (!aes256gcm_open(secret, iv, additional_data(key), ciphertext, tag, plaintext)) {
        return std::nullopt;
    }
    const json doc = json::parse(plaintext, nullptr, false);
    if (!doc.is_object() || !settled_outcome(doc.value("outcome", -1))) {
        return std::nullopt;
    }
    StoredRefresh s;
    s.stored_at = doc.value("stored_at", MilliTime{0});
    RefreshResult& r = s.result;
    r.outcome = static_cast<TokenOutcome>(doc.value("outcome", -1));
    r.access_token = doc.value("access_token", "");
    r.refresh_token = doc.value("refresh_token", "");
    r.access_expires_at = doc.value("access_expires_at", UnixTime{0});
    r.access_issued_at = doc.value("access_issued_at", UnixTime{0});
    r.error = doc.value("error", "");
    if (r.outcome == TokenOutcome::permanent) {
        r.description = "refresh token refused (remembered from an earlier attempt)";
    }
    return s;
}

std::optional<StoredRefresh> SealingRecords::find(std::string_view key) {
    const std::optional<SealedRecord> record = records_.find(key);
    if (!record) {
        return std::nullopt;
    }
    if (record->in_flight) {
        StoredRefresh claim;
        claim.in_flight = true;
        claim.claim_deadline = record->claim_deadline;
        return claim;
    }
    std::optional<StoredRefresh> opened = open_record(secret_, key, record->sealed);
    if (!opened) {
        records_.erase(key);  // not this key's: as good as absent
    }
    return opened;
}

bool SealingRecords::put(std::string_view key, const StoredRefresh& entry) {
    SealedRecord record;
    record.in_flight = entry.in_flight;
    record.claim_deadline = entry.claim_deadline;
    record.stored_at = entry.stored_at;
    if (!entry.in_flight) {
        const auto sealed = seal_record(secret_, key, entry);
        if (!sealed) {
            records_.erase(key);
            return false;
        }
        record.sealed = *sealed;
    }
    return records_.put(key, record);
}

}  // namespace spotauth
