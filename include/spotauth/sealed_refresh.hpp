// Refresh records for a store whose memory is not trusted to keep each
// record in its place (the nginx zone: any process that can write the
// shared memory could move a record): a settled result is sealed with
// AES-256-GCM under the store's own secret, its additional data naming the
// record kind and the full refresh key it was stored under, so a record
// copied, moved or swapped to another key does not open. The time it was
// stored is sealed with it, so a record replayed from earlier is as old as
// it really is.
#pragma once

#include "spotauth/refresh_store.hpp"

#include <optional>
#include <string>
#include <string_view>

namespace spotauth {

// A record as such a store keeps it. A claim in flight carries no result
// and is not sealed: moved elsewhere it only makes others wait, at most
// until its deadline.
struct SealedRecord {
    bool in_flight = false;
    MilliTime claim_deadline = 0;
    // For the store's housekeeping only (what to forget first): the sealed
    // copy is what decides.
    MilliTime stored_at = 0;
    std::string sealed;  // settled: iv || ciphertext || tag
};

// The records a store keeps, bytes only, seen while it is locked.
class SealedRecords {
public:
    virtual ~SealedRecords() = default;
    virtual std::optional<SealedRecord> find(std::string_view key) = 0;
    // False when the store has no room: the record is then not kept.
    virtual bool put(std::string_view key, const SealedRecord& record) = 0;
    virtual void erase(std::string_view key) = 0;
    virtual void forget_stale(MilliTime /*now*/, MilliTime /*cache_window*/) {}
};

// A fresh secret for a store (32 random bytes); nullopt if randomness fails.
std::optional<std::string> new_record_secret();

// `settled` sealed for `key` alone.
std::optional<std::string> seal_record(std::string_view secret, std::string_view key, const StoredRefresh& settled);

// The settled record sealed for `key`; nullopt for anything else (sealed
// for another key, another kind or another secret, or altered).
std::optional<StoredRefresh> open_record(std::string_view secret, std::string_view key, std::string_view sealed);

// The core's RefreshRecords over sealed ones: what does not open under its
// own key is not there (and is dropped).
class SealingRecords : public RefreshRecords {
public:
    SealingRecords(SealedRecords& records, std::string_view secret) : records_(records), secret_(secret) {}

    std::optional<StoredRefresh> find(std::string_view key) override;
    bool put(std::string_view key, const StoredRefresh& entry) override;
    void erase(std::string_view key) override { records_.erase(key); }
    void forget_stale(MilliTime now, MilliTime cache_window) override { records_.forget_stale(now, cache_window); }

private:
    SealedRecords& records_;
    std::string_view secret_;
};

}  // namespace spotauth
