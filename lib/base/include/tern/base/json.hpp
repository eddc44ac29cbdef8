/**
 * @file
 * A minimal JSON writer for counters and reports (one line, no allocation
 * beyond the output string). Not for parsing.
 */
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace tern {

/** Builds one JSON value incrementally: begin/end objects and arrays, keys, values. */
class JsonWriter {
 public:
  JsonWriter& begin_object() {
    sep();
    out_ += '{';
    first_ = true;
    return *this;
  }
  JsonWriter& end_object() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  JsonWriter& begin_array() {
    sep();
    out_ += '[';
    first_ = true;
    return *this;
  }
  JsonWriter& end_array() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  /** Write a key; the next value call belongs to it. */
  JsonWriter& key(std::string_view k) {
    sep();
    str(k);
    out_ += ':';
    first_ = true;
    return *this;
  }
  JsonWriter& value(uint64_t v) {
    sep();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& value(int64_t v) {
    sep();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& value(int v) { return value(static_cast<int64_t>(v)); }
  JsonWriter& value(unsigned v) { return value(static_cast<uint64_t>(v)); }
  JsonWriter& value(double v);
  JsonWriter& value(bool v) {
    sep();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& value(std::string_view v) {
    sep();
    str(v);
    return *this;
  }
  JsonWriter& value(const char* v) { return value(std::string_view(v)); }
  /** key + value in one call. */
  template <typename T>
  JsonWriter& kv(std::string_view k, const T& v) {
    key(k);
    return value(v);
  }
  /** A value that is already JSON (another writer's str()), copied as is. */
  JsonWriter& raw(std::string_view json) {
    sep();
    out_ += json;
    return *this;
  }
  const std::string& str() const { return out_; }

 private:
  void sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  void str(std::string_view s);
  std::string out_;
  bool first_ = true;
};

}  // namespace tern
