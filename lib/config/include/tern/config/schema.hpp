/**
 * @file
 * The configuration's key table: every key of every section described once
 * (YAML name, type, accepted range, documentation and the struct member it
 * fills; defaults are the structs' member initializers in config.hpp).
 *
 * lib/config parses, validates and prints (to_yaml()) the scalar keys by
 * walking these tables, generates the key reference of docs/config.md from
 * them (reference_markdown(), update_reference(), `tern-config-doc`), and
 * lib/stack maps them into the engine's parameters with engine_value().
 * Lists and structured values (addresses, MACs, devargs) are `custom` keys:
 * listed here for the key set and the docs, read and printed by hand-written
 * hooks in lib/config.
 */
#pragma once

#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>

#include "tern/config/config.hpp"

namespace tern::config::schema {

/** An unsigned integer rule: min..max, optionally 0 as "off", optionally a power of two. */
struct IntRule {
  uint64_t min = 0;            ///< smallest accepted value
  uint64_t max = 0;            ///< largest accepted value
  bool zero_disables = false;  ///< 0 is accepted as "disabled" outside min..max
  bool pow2 = false;           ///< the value must be a power of two
  const char* unit = "";       ///< appended to the accepted text in messages, e.g. " (bytes)"
};

/** The unit of an integer key: engine_value() scales it to nanoseconds or bytes. */
enum class Unit : uint8_t {
  none,  ///< a count: scale 1
  us,    ///< microseconds: x 1000 to ns
  ms,    ///< milliseconds: x 1000000 to ns
  s,     ///< seconds: x 1000000000 to ns
  kib,   ///< KiB: x 1024 to bytes
};

/** The factor engine_value() applies for @p u. */
constexpr uint64_t engine_scale(Unit u) noexcept {
  switch (u) {
    case Unit::us:
      return 1'000;
    case Unit::ms:
      return 1'000'000;
    case Unit::s:
      return 1'000'000'000;
    case Unit::kib:
      return 1024;
    case Unit::none:
      break;
  }
  return 1;
}

/**
 * The member a scalar key fills; its alternative is the key's type: bool is a
 * boolean, double a probability in [0, 1], std::string a string (a choice
 * when Key::choices is set), the unsigned ones integers. monostate: a custom key.
 */
template <class S>
using Field = std::variant<std::monostate, bool S::*, uint8_t S::*, uint16_t S::*, uint32_t S::*,
                           uint64_t S::*, double S::*, std::string S::*>;

struct Reader;   ///< lib/config internal: one present key of a YAML map being read
struct Writer;   ///< lib/config internal: the YAML being printed
struct Checker;  ///< lib/config internal: validate() at one key path
struct DocOut;   ///< lib/config internal: the reference being generated

/** Hand-written handling of a custom key (a list, a sub-section, an address...). */
template <class S>
struct Custom {
  void (*read)(Reader&, S&) = nullptr;          ///< parse the present key into the struct
  void (*write)(Writer&, const S&) = nullptr;   ///< print the key (may print nothing when unset)
  void (*check)(Checker&, const S&) = nullptr;  ///< validate it (null: validate_config() does)
  void (*docs)(DocOut&) = nullptr;              ///< a sub-section: emit its own reference table
};

/** One key of a section: everything about it but its default. */
template <class S>
struct Key {
  std::string_view name;                        ///< the YAML key
  Field<S> field{};                             ///< the member it fills (monostate: custom)
  IntRule range{};                              ///< integers: accepted values
  Unit unit = Unit::none;                       ///< integers: what engine_value() scales by
  std::span<const std::string_view> choices{};  ///< strings: the accepted names (empty: any string)
  std::string_view noun{};                      ///< choices: "a log level", for "'x' is not a log level"
  std::string_view accepted{};        ///< strings: the accepted text in messages (choices: "a, b or c")
  std::string_view required{};        ///< required keys: an example value for the message
  std::string_view doc{};             ///< Markdown for the reference's Meaning column
  std::string_view doc_type{};        ///< custom keys: the Type column
  std::string_view doc_default{};     ///< custom keys (or to annotate): the Default column
  std::string_view doc_accepted{};    ///< more for the Accepted column, e.g. ">= `rto_min_ms`"
  const Custom<S>* custom = nullptr;  ///< custom keys: the hand-written handling
};

/** The keys of one map, in the order they are printed and documented. */
template <class S>
struct Section {
  std::span<const Key<S>> keys;  ///< every key the map accepts
  std::string_view example;      ///< a one-line flow map for "expected a map" messages
};

/** The table of the map type @p S (StackConfig, PortConfig, TcpConfig, ...). */
template <class S>
const Section<S>& section();

template <>
const Section<StackConfig>& section<StackConfig>();
template <>
const Section<MempoolConfig>& section<MempoolConfig>();
template <>
const Section<CoresConfig>& section<CoresConfig>();
template <>
const Section<PortConfig>& section<PortConfig>();
template <>
const Section<FaultConfig>& section<FaultConfig>();
template <>
const Section<RouteConfig>& section<RouteConfig>();
template <>
const Section<ArpConfig>& section<ArpConfig>();
template <>
const Section<Ipv4Config>& section<Ipv4Config>();
template <>
const Section<IcmpConfig>& section<IcmpConfig>();
template <>
const Section<UdpConfig>& section<UdpConfig>();
template <>
const Section<TcpConfig>& section<TcpConfig>();
template <>
const Section<TcpKeepaliveConfig>& section<TcpKeepaliveConfig>();
template <>
const Section<EchoConfig>& section<EchoConfig>();

/** The table entry of the member @p m of @p S; nullptr if no key fills it. */
template <class S, class T>
const Key<S>* key_of(T S::*m) {
  for (const Key<S>& k : section<S>().keys) {
    if (const auto* f = std::get_if<T S::*>(&k.field); f != nullptr && *f == m) return &k;
  }
  return nullptr;
}

/**
 * The value of @p s.*m in the engine's units: times engine_scale() of the
 * key's unit (ms and s to ns, KiB to bytes); a boolean is 0 or 1.
 */
template <class S, class T>
uint64_t engine_value(const S& s, T S::*m) {
  const Key<S>* k = key_of(m);
  return static_cast<uint64_t>(s.*m) * engine_scale(k != nullptr ? k->unit : Unit::none);
}

/**
 * The generated key reference of the section at @p path ("top-level" (or "")
 * for the document's own keys, "mempool", "ports[]", "ports[].fault", "tcp.keepalive", ...): a
 * Markdown table, one row per key. std::nullopt for an unknown path.
 */
std::optional<std::string> reference_table(std::string_view path);

/**
 * @p markdown with every generated block brought up to date. A block runs
 * from a line `<!-- BEGIN GENERATED KEYS path -->` to `<!-- END GENERATED KEYS -->`
 * and holds reference_table(path). std::nullopt (with @p error set) for an
 * unknown path or an unterminated block.
 */
std::optional<std::string> update_reference(std::string_view markdown, std::string* error = nullptr);

}  // namespace tern::config::schema
