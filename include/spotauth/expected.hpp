// A value or a human-readable error (or an error of type E that says more,
// such as which directive it is about): the core reports failures this way
// instead of throwing across the C boundary of the nginx glue.
#pragma once

#include <optional>
#include <string>
#include <utility>

namespace spotauth {

template <typename T, typename E = std::string>
class Expected {
public:
    Expected(T value) : value_(std::move(value)) {}  // NOLINT(google-explicit-constructor)

    static Expected failure(E error) {
        Expected e;
        e.error_ = std::move(error);
        return e;
    }

    explicit operator bool() const { return value_.has_value(); }
    const T& operator*() const { return *value_; }
    T& operator*() { return *value_; }
    const T* operator->() const { return &*value_; }
    const E& error() const { return error_; }

private:
    Expected() = default;
    std::optional<T> value_;
    E error_;
};

}  // namespace spotauth
