/**
 * @file
 * YAML loading, validation and printing of StackConfig. Runs once at start-up;
 * allocation and (internal) exceptions are fine here, none leave the API.
 */
#include "tern/config/config.hpp"

#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <fstream>
#include <limits>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <type_traits>
#include <utility>

#include "tern/config/schema.hpp"

namespace tern::config {

namespace {

// Limits of the DPDK build the stack links against (rte_config.h /
// rte_build_config.h). Repeated here so that config does not depend on DPDK.
constexpr uint32_t kMaxLcore = 128;         // RTE_MAX_LCORE
constexpr uint32_t kMbufHeadroom = 128;     // RTE_PKTMBUF_HEADROOM
constexpr uint32_t kMempoolCacheMax = 512;  // RTE_MEMPOOL_CACHE_MAX_SIZE
constexpr uint32_t kEtherHeaderLen = 14;    // IEEE 802.3 header without VLAN tag or FCS
constexpr size_t kPortNameMax = 32;

using schema::Custom;
using schema::IntRule;
using schema::Key;
using schema::Section;
using schema::Unit;

std::string accepted_text(const IntRule& r) {
  std::string s;
  if (r.pow2) {
    s = "a power of two in " + std::to_string(r.min) + ".." + std::to_string(r.max);
  } else if (r.min == 0 && r.max == std::numeric_limits<uint64_t>::max()) {
    s = "an integer 0..18446744073709551615";
  } else {
    s = "an integer " + std::to_string(r.min) + ".." + std::to_string(r.max);
  }
  if (r.zero_disables) s = "0 (disabled) or " + s;
  return s + r.unit;
}

/** What is wrong with @p v under @p r, or empty if nothing. */
std::string int_problem(uint64_t v, const IntRule& r) {
  if (v == 0 && r.zero_disables) return {};
  if (v < r.min || v > r.max) return std::to_string(v) + " is out of range";
  if (r.pow2 && (v & (v - 1)) != 0) return std::to_string(v) + " is not a power of two";
  return {};
}

std::string join(const std::vector<std::string>& items, std::string_view sep = ", ") {
  std::string s;
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) s += sep;
    s += items[i];
  }
  return s;
}

std::string quoted(std::string_view s) { return "'" + std::string(s) + "'"; }

/** Levenshtein distance, for "did you mean" hints on unknown keys. */
size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      const size_t sub = prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1);
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, sub});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// ---------------------------------------------------------------------------
// Positions and errors.

/** A 1-based source position; line 0 means unknown. */
struct Pos {
  int line = 0;
  int col = 0;
};

Pos pos_of(const YAML::Mark& m) {
  if (m.is_null() || m.line < 0) return {};
  return Pos{m.line + 1, m.column + 1};
}

/** Where each key path was found, so cross-field errors can point at the text. */
class Marks {
 public:
  void set(const std::string& path, Pos p) {
    if (p.line > 0) map_[path] = p;
  }
  /** True when @p path itself was recorded (the key is in the input). */
  bool has(const std::string& path) const { return map_.count(path) != 0; }
  /** The position of @p path, or of its nearest recorded parent. */
  Pos find(std::string path) const {
    for (;;) {
      auto it = map_.find(path);
      if (it != map_.end()) return it->second;
      if (path.empty()) return {};
      const size_t cut = path.find_last_of(".[");
      path.resize(cut == std::string::npos ? 0 : cut);
    }
  }

 private:
  std::map<std::string, Pos> map_;
};

/** Internal: thrown to unwind to the API boundary, where it becomes a ConfigError. */
struct Failure {
  ConfigError error;
};

/** The input being loaded (or nothing, for validate() on a config built in code). */
struct Source {
  std::string name;  // empty: no positions
  Marks marks;

  ConfigError error(const std::string& path, Pos pos, const std::string& what,
                    const std::string& accepted) const {
    ConfigError e;
    e.path = path;
    if (!name.empty()) {
      e.message = name + ":";
      if (pos.line > 0) {
        e.line = pos.line;
        e.column = pos.col;
        e.message += std::to_string(pos.line) + ":" + std::to_string(pos.col) + ":";
      }
      e.message += " ";
    }
    if (!path.empty()) e.message += path + ": ";
    e.message += what;
    if (!accepted.empty()) e.message += "; accepted: " + accepted;
    return e;
  }
  [[noreturn]] void fail(const std::string& path, Pos pos, const std::string& what,
                         const std::string& accepted) const {
    throw Failure{error(path, pos, what, accepted)};
  }
  /** " (the default)" when a file is being loaded and it does not set @p path. */
  std::string default_note(const std::string& path) const {
    return !name.empty() && !marks.has(path) ? " (the default)" : "";
  }
  /** Fail at the recorded position of @p path. */
  [[noreturn]] void fail_at(const std::string& path, const std::string& what,
                            const std::string& accepted) const {
    fail(path, marks.find(path), what, accepted);
  }
};

std::string join_path(const std::string& parent, std::string_view key) {
  return parent.empty() ? std::string(key) : parent + "." + std::string(key);
}
std::string index_path(const std::string& parent, size_t i) { return parent + "[" + std::to_string(i) + "]"; }

// ---------------------------------------------------------------------------
// YAML readers.

std::string describe(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Null:
      return "no value";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Map:
      return "a map";
    case YAML::NodeType::Scalar:
      return quoted(n.Scalar());
    default:
      return "nothing";
  }
}

/** A YAML map whose keys have been checked against the accepted set. */
class MapView {
 public:
  /**
   * @param node a map, or null (treated as empty, so `arp:` alone means defaults).
   * @param pos where to point when the map itself is the problem.
   */
  MapView(Source& src, const YAML::Node& node, std::string path, Pos pos,
          std::span<const std::string_view> keys, std::string_view example)
      : src_(src), path_(std::move(path)), pos_(pos) {
    std::vector<std::string> names(keys.begin(), keys.end());
    if (node.IsNull()) return;
    if (!node.IsMap()) {
      src_.fail(
          path_.empty() ? std::string() : path_, pos_,
          (path_.empty() ? "the document must be a map of top-level keys, got " : "expected a map, got ") +
              describe(node),
          std::string("a map with keys ") + join(names) + ", e.g. " + std::string(example));
    }
    if (Pos p = pos_of(node.Mark()); p.line > 0 && pos_.line == 0) pos_ = p;
    for (auto it = node.begin(); it != node.end(); ++it) {
      const YAML::Node k = it->first;
      const Pos kpos = pos_of(k.Mark());
      if (!k.IsScalar()) {
        src_.fail(path_, kpos, "a key must be a plain name, got " + describe(k), join(names));
      }
      const std::string key = k.Scalar();
      const std::string kpath = join_path(path_, key);
      if (std::find(keys.begin(), keys.end(), key) == keys.end()) {
        std::string what = "unknown key " + quoted(key);
        size_t best = 3;
        std::string_view hint;
        for (std::string_view cand : keys) {
          const size_t d = edit_distance(key, cand);
          if (d < best) {
            best = d;
            hint = cand;
          }
        }
        if (!hint.empty()) what += " (did you mean " + quoted(hint) + "?)";
        src_.fail(kpath, kpos, what, join(names));
      }
      for (const auto& e : entries_) {
        if (e.key == key) {
          src_.fail(
              kpath, kpos,
              "duplicate key " + quoted(key) + " (first at line " + std::to_string(e.key_pos.line) + ")",
              "each key once per map; delete one of them");
        }
      }
      const YAML::Node v = it->second;
      Pos vpos = pos_of(v.Mark());
      // An empty value's mark points past the key (often at the next line); the key is clearer.
      if (v.IsNull() || vpos.line == 0) vpos = kpos;
      src_.marks.set(kpath, vpos);
      entries_.push_back(Entry{key, v, kpos, vpos});
    }
  }

  /** The value of @p key, or nullptr when absent. */
  const YAML::Node* get(std::string_view key) const {
    for (const auto& e : entries_) {
      if (e.key == key) return &e.value;
    }
    return nullptr;
  }
  /** Position of @p key's value (the map's own position when absent). */
  Pos pos(std::string_view key) const {
    for (const auto& e : entries_) {
      if (e.key == key) return e.value_pos;
    }
    return pos_;
  }
  Pos pos() const { return pos_; }
  std::string child(std::string_view key) const { return join_path(path_, key); }
  const std::string& path() const { return path_; }

  /** Fail unless @p key is present. */
  const YAML::Node& require(std::string_view key, std::string_view example) const {
    const YAML::Node* n = get(key);
    if (n == nullptr) {
      src_.fail(child(key), pos_, "missing required key " + quoted(key),
                "add it, e.g. `" + std::string(key) + ": " + std::string(example) + "`");
    }
    return *n;
  }

 private:
  struct Entry {
    std::string key;
    YAML::Node value;
    Pos key_pos;
    Pos value_pos;
  };
  Source& src_;
  std::string path_;
  Pos pos_;
  std::vector<Entry> entries_;
};

/** The scalar text of @p n, failing with @p accepted when it is not a scalar. */
std::string scalar(Source& src, const YAML::Node& n, const std::string& path, Pos pos,
                   const std::string& accepted, std::string_view type) {
  if (!n.IsScalar()) {
    src.fail(path, pos, "expected " + std::string(type) + ", got " + describe(n), accepted);
  }
  return n.Scalar();
}

uint64_t read_uint(Source& src, const YAML::Node& n, const std::string& path, Pos pos, const IntRule& rule) {
  const std::string accepted = accepted_text(rule);
  std::string text = scalar(src, n, path, pos, accepted, "an integer");
  std::string_view s = text;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  const bool negative = !s.empty() && s[0] == '-';
  if (negative) s.remove_prefix(1);
  uint64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v, 10);
  if (s.empty() || end != s.data() + s.size() ||
      (ec != std::errc() && ec != std::errc::result_out_of_range)) {
    src.fail(path, pos, quoted(text) + " is not an integer", accepted);
  }
  if (negative || ec == std::errc::result_out_of_range)
    src.fail(path, pos, text + " is out of range", accepted);
  if (std::string why = int_problem(v, rule); !why.empty()) src.fail(path, pos, why, accepted);
  return v;
}

constexpr const char* kProbAccepted = "a probability 0..1 (e.g. 0.01 for 1%)";

double read_probability(Source& src, const YAML::Node& n, const std::string& path, Pos pos) {
  const std::string text = scalar(src, n, path, pos, kProbAccepted, "a number");
  std::string_view s = text;
  if (!s.empty() && s[0] == '+') s.remove_prefix(1);
  double v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(v)) {
    src.fail(path, pos, quoted(text) + " is not a number", kProbAccepted);
  }
  if (v < 0 || v > 1) src.fail(path, pos, text + " is outside [0, 1]", kProbAccepted);
  return v;
}

constexpr const char* kPrefixAccepted = "an IPv4 prefix A.B.C.D/N with N 0..32, e.g. 198.18.0.0/15";
constexpr const char* kHostAccepted =
    "a unicast host address with its prefix length, A.B.C.D/N with N 1..32, e.g. 198.18.0.2/24";
constexpr const char* kAddrAccepted = "an IPv4 address A.B.C.D, e.g. 198.18.0.1";
constexpr const char* kMacAccepted = "a unicast MAC aa:bb:cc:dd:ee:ff, e.g. \"02:00:00:00:00:02\"";

wire::Ipv4Prefix read_prefix(Source& src, const YAML::Node& n, const std::string& path, Pos pos,
                             const char* accepted) {
  const std::string text = scalar(src, n, path, pos, accepted, "a prefix");
  auto r = wire::Ipv4Prefix::parse(text);
  if (!r)
    src.fail(path, pos, quoted(text) + " is not an IPv4 prefix (" + std::string(r.error().reason) + ")",
             accepted);
  return *r;
}

wire::Ipv4Addr read_addr(Source& src, const YAML::Node& n, const std::string& path, Pos pos) {
  const std::string text = scalar(src, n, path, pos, kAddrAccepted, "an address");
  auto r = wire::Ipv4Addr::parse(text);
  if (!r)
    src.fail(path, pos, quoted(text) + " is not an IPv4 address (" + std::string(r.error().reason) + ")",
             kAddrAccepted);
  return *r;
}

wire::MacAddr read_mac(Source& src, const YAML::Node& n, const std::string& path, Pos pos) {
  const std::string text = scalar(src, n, path, pos, kMacAccepted, "a MAC address");
  auto r = wire::MacAddr::parse(text);
  if (!r)
    src.fail(path, pos, quoted(text) + " is not a MAC address (" + std::string(r.error().reason) + ")",
             kMacAccepted);
  return *r;
}

/** Fail unless @p n is a list (null counts as empty); returns its items. */
std::vector<YAML::Node> read_list(Source& src, const YAML::Node& n, const std::string& path, Pos pos,
                                  const std::string& accepted) {
  std::vector<YAML::Node> items;
  if (n.IsNull()) return items;
  if (!n.IsSequence()) src.fail(path, pos, "expected a list, got " + describe(n), accepted);
  for (const auto& item : n) items.push_back(item);
  return items;
}

/** Item position: the item's own mark, else its list's. */
Pos item_pos(const YAML::Node& item, Pos list_pos) {
  const Pos p = pos_of(item.Mark());
  return p.line > 0 && !item.IsNull() ? p : list_pos;
}

// icmp.error_burst (a token bucket's depth) went with issue 14: name what replaced it rather
// than report an unknown key.
void reject_removed_icmp_key(Source& src, const YAML::Node& n) {
  if (!n.IsMap()) return;
  for (auto it = n.begin(); it != n.end(); ++it) {
    if (it->first.IsScalar() && it->first.Scalar() == "error_burst") {
      src.fail("icmp.error_burst", pos_of(it->first.Mark()),
               "icmp.error_burst was removed: the core's error budget is drawn at random per window so that "
               "its exhaustion cannot be timed (docs/robustness.md)",
               "icmp.dest_error_burst (errors one destination may get back to back)");
    }
  }
}

// ---------------------------------------------------------------------------
// Validation (value ranges again, for configs built in code, then cross-field rules).

/** Parse a DPDK lcore list ("0", "0-3", "0,2,4-5"); returns the lcore count or an error text. */
std::variant<size_t, std::string> parse_lcores(std::string_view s) {
  if (s.empty()) return std::string("empty lcore list");
  std::set<uint32_t> seen;
  auto number = [&](std::string_view& t, uint32_t& out) -> bool {
    const auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), out, 10);
    if (ec != std::errc() || end == t.data()) return false;
    t.remove_prefix(static_cast<size_t>(end - t.data()));
    return true;
  };
  std::string_view t = s;
  while (true) {
    uint32_t lo = 0, hi = 0;
    if (!number(t, lo)) return quoted(s) + " is not an lcore list";
    hi = lo;
    if (!t.empty() && t[0] == '-') {
      t.remove_prefix(1);
      if (!number(t, hi)) return quoted(s) + " is not an lcore list";
      if (hi < lo) return "range " + std::to_string(lo) + "-" + std::to_string(hi) + " is descending";
    }
    if (hi >= kMaxLcore) return "lcore " + std::to_string(hi) + " is above " + std::to_string(kMaxLcore - 1);
    for (uint32_t i = lo; i <= hi; ++i) {
      if (!seen.insert(i).second) return "lcore " + std::to_string(i) + " is listed twice";
    }
    if (t.empty()) break;
    if (t[0] != ',') return quoted(s) + " is not an lcore list";
    t.remove_prefix(1);
  }
  return seen.size();
}

bool valid_port_name(std::string_view s) {
  if (s.empty() || s.size() > kPortNameMax) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  });
}

bool has_space(std::string_view s) {
  return std::any_of(s.begin(), s.end(),
                     [](char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; });
}

void check_probability(const Source& src, const std::string& path, double v) {
  if (!(v >= 0 && v <= 1)) {  // also rejects NaN
    std::ostringstream os;
    os << v << " is outside [0, 1]";
    src.fail_at(path, os.str(), kProbAccepted);
  }
}

// ---------------------------------------------------------------------------
// The table walkers: parse, check, print and document the keys of one map.

/** Overload set for std::visit. */
template <class... F>
struct Overload : F... {
  using F::operator()...;
};

template <class S>
std::vector<std::string_view> key_names() {
  std::vector<std::string_view> names;
  for (const Key<S>& k : schema::section<S>().keys) names.push_back(k.name);
  return names;
}

/** "a, b or c" */
std::string or_list(std::span<const std::string_view> names) {
  std::string s;
  for (size_t i = 0; i < names.size(); ++i) {
    if (i > 0) s += i + 1 == names.size() ? " or " : ", ";
    s += names[i];
  }
  return s;
}

template <class S>
std::string accepted_of(const Key<S>& k) {
  if (!k.accepted.empty()) return std::string(k.accepted);
  return or_list(k.choices);
}

bool read_bool(Source& src, const YAML::Node& n, const std::string& path, Pos pos) {
  static constexpr const char* kAccepted = "true or false";
  const std::string text = scalar(src, n, path, pos, kAccepted, "a boolean");
  // The YAML 1.2 core schema spellings plus the YAML 1.1 yes/no/on/off.
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                "NO",    "off",   "Off",   "OFF"};
  if (std::find(std::begin(kTrue), std::end(kTrue), text) != std::end(kTrue)) return true;
  if (std::find(std::begin(kFalse), std::end(kFalse), text) != std::end(kFalse)) return false;
  src.fail(path, pos, quoted(text) + " is not a boolean", kAccepted);
}

}  // namespace

/** One present key of a map being read (the custom hooks' view of the input). */
struct schema::Reader {
  Source& src;
  const MapView& map;
  std::string_view key;

  const YAML::Node& node() const { return *map.get(key); }
  std::string path() const { return map.child(key); }
  Pos pos() const { return map.pos(key); }
};

/** The YAML being printed. */
struct schema::Writer {
  YAML::Emitter& out;
  std::string_view key;  // of the key whose write hook runs
};

/** validate() at one key path. */
struct schema::Checker {
  const Source& src;
  std::string path;
};

/** The reference being generated: one Markdown table per section path. */
struct schema::DocOut {
  std::map<std::string, std::string, std::less<>> tables;
  std::string path;  // of the key whose docs hook runs
};

namespace {

using schema::Checker;
using schema::DocOut;
using schema::Reader;
using schema::Writer;

/** Read the scalar at @p r into @p out, by the member's type. */
template <class S>
void read_scalar(Reader& r, const Key<S>&, bool& out) {
  out = read_bool(r.src, r.node(), r.path(), r.pos());
}
template <class S>
void read_scalar(Reader& r, const Key<S>&, double& out) {
  out = read_probability(r.src, r.node(), r.path(), r.pos());
}
template <class S>
void read_scalar(Reader& r, const Key<S>& k, std::string& out) {
  out = scalar(r.src, r.node(), r.path(), r.pos(), accepted_of(k), "a string");
}
template <class S, class T>
void read_scalar(Reader& r, const Key<S>& k, T& out) {
  static_assert(std::is_unsigned_v<T>);
  // Every rule's max fits the field's type, so the cast cannot truncate.
  out = static_cast<T>(read_uint(r.src, r.node(), r.path(), r.pos(), k.range));
}

/**
 * Parse the map @p n at @p path into @p s: every key of S's table that is
 * present, in table order (required ones must be); custom keys by their hook.
 */
template <class S>
void parse_map(Source& src, const YAML::Node& n, const std::string& path, Pos pos, S& s) {
  if constexpr (std::is_same_v<S, IcmpConfig>) reject_removed_icmp_key(src, n);
  const auto names = key_names<S>();
  const MapView m(src, n, path, pos, names, schema::section<S>().example);
  for (const Key<S>& k : schema::section<S>().keys) {
    if (m.get(k.name) == nullptr) {
      if (!k.required.empty()) (void)m.require(k.name, k.required);
      continue;
    }
    Reader r{src, m, k.name};
    std::visit(Overload{[](std::monostate) {}, [&](auto member) { read_scalar(r, k, s.*member); }}, k.field);
    if (k.custom != nullptr && k.custom->read != nullptr) k.custom->read(r, s);
  }
}

/** Fail at @p path unless @p v is one of the key's choices (when it has any). */
template <class S>
void check_value(const Source& src, const std::string& path, const Key<S>& k, const std::string& v) {
  if (!k.choices.empty() && std::find(k.choices.begin(), k.choices.end(), v) == k.choices.end()) {
    src.fail_at(path, quoted(v) + " is not " + std::string(k.noun), accepted_of(k));
  }
}
/** Fail at @p path unless @p v is in the key's range (a probability in [0, 1]; any boolean). */
template <class S, class T>
void check_value(const Source& src, const std::string& path, const Key<S>& k, const T& v) {
  if constexpr (std::is_same_v<T, double>) {
    check_probability(src, path, v);
  } else if constexpr (!std::is_same_v<T, bool>) {
    if (std::string why = int_problem(v, k.range); !why.empty())
      src.fail_at(path, why, accepted_text(k.range));
  }
}

/** Check every scalar key's value of @p s (at @p path) against its row; recurse through custom hooks. */
template <class S>
void check_map(const Source& src, const std::string& path, const S& s) {
  for (const Key<S>& k : schema::section<S>().keys) {
    const std::string kpath = join_path(path, k.name);
    std::visit(Overload{[](std::monostate) {}, [&](auto member) { check_value(src, kpath, k, s.*member); }},
               k.field);
    if (k.custom != nullptr && k.custom->check != nullptr) {
      Checker c{src, kpath};
      k.custom->check(c, s);
    }
  }
}

// Shortest text that reads back as the same double.
std::string format_double(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
}

void emit(YAML::Emitter& out, bool v) { out << v; }
void emit(YAML::Emitter& out, double v) { out << format_double(v); }
void emit(YAML::Emitter& out, const std::string& v) { out << YAML::DoubleQuoted << v; }
template <class T>
void emit(YAML::Emitter& out, T v) {
  out << uint64_t{v};  // uint8_t would be emitted as a character; widen it
}

/** Print @p s as a block map, every key in table order. */
template <class S>
void write_map(Writer& w, const S& s) {
  w.out << YAML::BeginMap;
  for (const Key<S>& k : schema::section<S>().keys) {
    std::visit(Overload{[](std::monostate) {},
                        [&](auto member) {
                          w.out << YAML::Key << std::string(k.name) << YAML::Value;
                          emit(w.out, s.*member);
                        }},
               k.field);
    if (k.custom != nullptr && k.custom->write != nullptr) {
      w.key = k.name;
      k.custom->write(w, s);
    }
  }
  w.out << YAML::EndMap;
}

// --- the reference (docs/config.md)

std::string doc_value(bool v) { return v ? "true" : "false"; }
std::string doc_value(double v) { return format_double(v); }
std::string doc_value(const std::string& v) {
  // Quote what YAML would not read back as this string.
  return v.empty() || (v[0] >= '0' && v[0] <= '9') ? "\"" + v + "\"" : v;
}
template <class T>
std::string doc_value(T v) {
  return std::to_string(uint64_t{v});
}

std::string doc_type(bool) { return "boolean"; }
std::string doc_type(double) { return "probability"; }
std::string doc_type(const std::string&) { return "string"; }
template <class T>
std::string doc_type(T) {
  return "integer";
}

std::string ticked(std::span<const std::string_view> names) {
  std::string s;
  for (const auto& n : names) s += (s.empty() ? "`" : ", `") + std::string(n) + "`";
  return s;
}

std::string doc_range(const IntRule& r) {
  std::string s = r.pow2 ? "power of two, " : "";
  if (r.zero_disables) s += "0 (off) or ";
  return s + std::to_string(r.min) + ".." + std::to_string(r.max);
}

template <class S, class T>
std::string doc_accepted(const Key<S>& k, const T&) {
  if constexpr (std::is_same_v<T, bool>) return "`true`, `false`";
  if constexpr (std::is_same_v<T, double>) return "0..1";
  if constexpr (std::is_same_v<T, std::string>) return k.choices.empty() ? "" : ticked(k.choices);
  if constexpr (std::is_unsigned_v<T> && !std::is_same_v<T, bool>) return doc_range(k.range);
  return "";
}

std::string join_cell(std::string a, std::string_view b) {
  if (b.empty()) return a;
  return a.empty() ? std::string(b) : a + ", " + std::string(b);
}

/** One table row: | `key` | type | default | accepted | meaning | */
template <class S>
std::string doc_row(const Key<S>& k, const S& defaults) {
  std::string type(k.doc_type), def(k.doc_default), acc;
  std::visit(Overload{[](std::monostate) {},
                      [&](auto member) {
                        type = doc_type(defaults.*member);
                        def = "`" + doc_value(defaults.*member) + "`" +
                              (k.doc_default.empty() ? "" : " " + std::string(k.doc_default));
                        acc = doc_accepted(k, defaults.*member);
                      }},
             k.field);
  acc = join_cell(acc, k.doc_accepted);
  if (!k.required.empty()) def = "(required)";
  std::string row = "| `" + std::string(k.name) + "` |";
  for (const std::string& cell : {type, def, acc, std::string(k.doc)})
    row += cell.empty() ? " |" : " " + cell + " |";
  return row + "\n";
}

/** Add the table of S at @p path to @p d, then those of its sub-sections. */
/**
 * The default-constructed S: the defaults the reference prints. Not inlined: std::visit instantiates
 * every member type for every S, and GCC's -Warray-bounds then flags the impossible ones on a local.
 */
template <class S>
[[gnu::noinline]] const S& defaults_of() {
  static const S defaults{};
  return defaults;
}

template <class S>
void doc_map(DocOut& d, const std::string& path) {
  const S& defaults = defaults_of<S>();
  std::string t = "| Key | Type | Default | Accepted | Meaning |\n|---|---|---|---|---|\n";
  for (const Key<S>& k : schema::section<S>().keys) t += doc_row(k, defaults);
  d.tables[path] = t;
  for (const Key<S>& k : schema::section<S>().keys) {
    if (k.custom == nullptr || k.custom->docs == nullptr) continue;
    d.path = join_path(path, k.name);
    k.custom->docs(d);
  }
}

// ---------------------------------------------------------------------------
// Custom keys: sub-sections, lists and structured values.

template <class>
struct MemberOf;
template <class P, class T>
struct MemberOf<T P::*> {
  using Parent = P;
  using Type = T;
};
template <auto M>
using ParentOf = typename MemberOf<decltype(M)>::Parent;
template <auto M>
using TypeOf = typename MemberOf<decltype(M)>::Type;

template <auto M>
void sub_read(Reader& r, ParentOf<M>& p) {
  parse_map(r.src, r.node(), r.path(), r.pos(), p.*M);
}
template <auto M>
void sub_write(Writer& w, const ParentOf<M>& p) {
  w.out << YAML::Key << std::string(w.key) << YAML::Value;
  write_map(w, p.*M);
}
template <auto M>
void sub_check(Checker& c, const ParentOf<M>& p) {
  check_map(c.src, c.path, p.*M);
}
template <auto M>
void sub_docs(DocOut& d) {
  doc_map<TypeOf<M>>(d, d.path);
}
/** A sub-section: the map at the key is parsed, checked, printed and documented by its own table. */
template <auto M>
constexpr Custom<ParentOf<M>> kSub{sub_read<M>, sub_write<M>, sub_check<M>, sub_docs<M>};

/** A list of maps of T at the member M: items parsed by @p Item, checked and printed by T's table. */
template <auto M,
          void (*Item)(Source&, const YAML::Node&, const std::string&, Pos, typename TypeOf<M>::value_type&),
          const char* Accepted>
struct ListOf {
  using T = typename TypeOf<M>::value_type;
  static void read(Reader& r, ParentOf<M>& p) {
    const std::string path = r.path();
    const auto items = read_list(r.src, r.node(), path, r.pos(), Accepted);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string ipath = index_path(path, i);
      const Pos ipos = item_pos(items[i], r.pos());
      r.src.marks.set(ipath, ipos);
      Item(r.src, items[i], ipath, ipos, (p.*M).emplace_back());
    }
  }
  static void write(Writer& w, const ParentOf<M>& p) {
    w.out << YAML::Key << std::string(w.key) << YAML::Value;
    if ((p.*M).empty()) w.out << YAML::Flow;
    w.out << YAML::BeginSeq;
    for (const T& item : p.*M) write_map(w, item);
    w.out << YAML::EndSeq;
  }
  static void check(Checker& c, const ParentOf<M>& p) {
    for (size_t i = 0; i < (p.*M).size(); ++i) check_map(c.src, index_path(c.path, i), (p.*M)[i]);
  }
  static void docs(DocOut& d) { doc_map<T>(d, d.path + "[]"); }
  static constexpr Custom<ParentOf<M>> kCustom{read, write, check, docs};
};

void parse_port_item(Source& src, const YAML::Node& n, const std::string& path, Pos pos, PortConfig& port) {
  if (n.IsNull()) src.fail(path, pos, "empty port entry", "a map with at least name, devargs and ip");
  parse_map(src, n, path, pos, port);
}

void parse_route_item(Source& src, const YAML::Node& n, const std::string& path, Pos pos, RouteConfig& r) {
  if (n.IsNull()) src.fail(path, pos, "empty route entry", "a map with prefix and a gateway or a port");
  parse_map(src, n, path, pos, r);
  // Without a gateway the route is on-link through its port (to `mac` if given).
  const std::string gw = join_path(path, "gateway");
  if (r.port.empty() && !src.marks.has(gw)) {
    src.fail(gw, pos, "missing required key 'gateway'", "add it, e.g. `gateway: 198.18.0.1`");
  }
}

constexpr char kPortsAccepted[] =
    "a list of ports, e.g. [{name: tap0, devargs: net_tap0, ip: 198.18.0.2/24}]";
constexpr char kRoutesAccepted[] = "a list of routes, e.g. [{prefix: 0.0.0.0/0, gateway: 198.18.0.1}]";
using PortList = ListOf<&StackConfig::ports, parse_port_item, kPortsAccepted>;
using RouteList = ListOf<&StackConfig::routes, parse_route_item, kRoutesAccepted>;

// --- eal: a list of strings
constexpr const char* kEalAccepted = "a list of strings, e.g. [\"--vdev=net_null0\", \"--in-memory\"]";

void eal_read(Reader& r, StackConfig& c) {
  const std::string path = r.path();
  const auto items = read_list(r.src, r.node(), path, r.pos(), kEalAccepted);
  for (size_t i = 0; i < items.size(); ++i) {
    const std::string ipath = index_path(path, i);
    const Pos ipos = item_pos(items[i], r.pos());
    r.src.marks.set(ipath, ipos);
    c.eal_args.push_back(scalar(r.src, items[i], ipath, ipos, kEalAccepted, "a string"));
  }
}
void eal_write(Writer& w, const StackConfig& c) {
  w.out << YAML::Key << std::string(w.key) << YAML::Value << YAML::Flow << YAML::BeginSeq;
  for (const auto& a : c.eal_args) w.out << YAML::DoubleQuoted << a;
  w.out << YAML::EndSeq;
}
void eal_check(Checker& ck, const StackConfig& c) {
  for (size_t i = 0; i < c.eal_args.size(); ++i) {
    const std::string& a = c.eal_args[i];
    const std::string path = index_path(ck.path, i);
    if (a.empty()) ck.src.fail_at(path, "empty argument", "a non-empty EAL argument such as \"--no-pci\"");
    const bool lcore_opt = a == "--lcores" || a.rfind("--lcores=", 0) == 0 ||
                           (a.size() >= 2 && a[0] == '-' && (a[1] == 'l' || a[1] == 'c'));
    if (lcore_opt) {
      ck.src.fail_at(path, quoted(a) + " selects lcores, which tern sets from `lcores`",
                     "any EAL argument except -l, -c and --lcores; set the top-level `lcores` key instead");
    }
  }
}
constexpr Custom<StackConfig> kEal{eal_read, eal_write, eal_check, nullptr};

void lcores_check(Checker& ck, const StackConfig& c) {
  const auto lcores = parse_lcores(c.lcores);
  if (const auto* why = std::get_if<std::string>(&lcores)) {
    ck.src.fail_at(ck.path, *why,
                   "a DPDK lcore list of ids 0.." + std::to_string(kMaxLcore - 1) +
                       ": single ids and ascending ranges joined by commas, e.g. \"0\", \"0-1\", \"0,2-3\"");
  }
}
constexpr Custom<StackConfig> kLcores{nullptr, nullptr, lcores_check, nullptr};

// --- addresses and MACs
template <auto M>
void prefix_read(Reader& r, ParentOf<M>& p) {
  p.*M = read_prefix(r.src, r.node(), r.path(), r.pos(),
                     std::is_same_v<ParentOf<M>, PortConfig> ? kHostAccepted : kPrefixAccepted);
}
template <auto M>
void prefix_write(Writer& w, const ParentOf<M>& p) {
  w.out << YAML::Key << std::string(w.key) << YAML::Value << (p.*M).to_string();
}
template <auto M>
constexpr Custom<ParentOf<M>> kPrefix{prefix_read<M>, prefix_write<M>, nullptr, nullptr};

void gateway_read(Reader& r, RouteConfig& route) {
  route.gateway = read_addr(r.src, r.node(), r.path(), r.pos());
}
void gateway_write(Writer& w, const RouteConfig& route) {
  if (!route.gateway.is_unspecified())
    w.out << YAML::Key << std::string(w.key) << YAML::Value << route.gateway.to_string();
}
constexpr Custom<RouteConfig> kGateway{gateway_read, gateway_write, nullptr, nullptr};

template <auto M>
void mac_read(Reader& r, ParentOf<M>& p) {
  p.*M = read_mac(r.src, r.node(), r.path(), r.pos());
}
template <auto M>
void mac_write(Writer& w, const ParentOf<M>& p) {
  if (p.*M)
    w.out << YAML::Key << std::string(w.key) << YAML::Value << YAML::DoubleQuoted << (p.*M)->to_string();
}
template <auto M>
constexpr Custom<ParentOf<M>> kMac{mac_read<M>, mac_write<M>, nullptr, nullptr};

// ---------------------------------------------------------------------------
// The key tables: every key of every section, once.

#include "key_table.hpp"

std::string port_prefixes(const StackConfig& c) {
  std::vector<std::string> v;
  for (const auto& p : c.ports) v.push_back(p.name + ": " + p.address.to_string());
  return join(v);
}

void validate_config(const Source& src, const StackConfig& c) {
  // Every key's own range and choices (the tables), then the rules across keys.
  check_map(src, "", c);
  // --- mempool
  if (c.mempool.rx_reserve != 0 && c.mempool.rx_reserve >= c.mempool.mbufs) {
    src.fail_at("mempool.rx_reserve",
                std::to_string(c.mempool.rx_reserve) + " mbufs leaves nothing of the pool of " +
                    std::to_string(c.mempool.mbufs) + " for socket queues",
                "below mempool.mbufs (0: automatic)");
  }
  // --- ports
  if (c.ports.empty()) {
    src.fail_at("ports", "no ports are configured; the stack needs at least one",
                "a list of one or more ports, e.g. ports: [{name: tap0, devargs: \"net_tap0,iface=tern0\", "
                "ip: 198.18.0.2/24}]");
  }
  for (size_t i = 0; i < c.ports.size(); ++i) {
    const PortConfig& p = c.ports[i];
    const std::string base = index_path("ports", i);
    if (!valid_port_name(p.name)) {
      src.fail_at(base + ".name", quoted(p.name) + " is not a valid port name",
                  "1.." + std::to_string(kPortNameMax) + " characters from A-Z a-z 0-9 _ . -");
    }
    if (p.devargs.empty() || has_space(p.devargs)) {
      src.fail_at(base + ".devargs", quoted(p.devargs) + " is not a DPDK device string",
                  "a vdev such as \"net_tap0,iface=tern0\" or a PCI address such as \"0000:03:00.0\", "
                  "without spaces");
    }
    const wire::Ipv4Prefix& a = p.address;
    const std::string ip = base + ".ip";
    if (a.len < 1 || a.len > 32) {
      src.fail_at(ip, "prefix length /" + std::to_string(a.len) + " is not usable on a port", kHostAccepted);
    }
    if (a.addr.is_unspecified() || a.addr.is_loopback() || a.addr.is_multicast() || a.addr.is_broadcast()) {
      src.fail_at(
          ip,
          a.to_string() + " is not a unicast host address (unspecified, loopback, multicast or broadcast)",
          kHostAccepted);
    }
    // RFC 1122 §3.2.1.3: host number all zeros or all ones is not a host address (except /31, /32: RFC 3021).
    if (a.len <= 30 && (a.addr == a.network() || a.addr == a.broadcast())) {
      src.fail_at(ip,
                  a.to_string() + " is the " + (a.addr == a.network() ? "network" : "broadcast") +
                      " address of its prefix",
                  std::string(kHostAccepted) + "; pick a host number other than all zeros or all ones");
    }
    if (p.mac && (p.mac->is_multicast() || p.mac->is_zero())) {
      src.fail_at(base + ".mac", p.mac->to_string() + " is not a unicast MAC (group bit set or all zeros)",
                  std::string(kMacAccepted) + "; omit the key to use the device's address");
    }
    if (!p.capture.empty() && p.capture.find_first_not_of(" \t\r\n") == std::string::npos) {
      src.fail_at(base + ".capture", "the path is only white space",
                  "a pcap file path, or \"\" for no capture");
    }

    for (size_t j = 0; j < i; ++j) {
      const PortConfig& q = c.ports[j];
      const std::string other = index_path("ports", j);
      if (q.name == p.name) {
        src.fail_at(base + ".name", "duplicate port name " + quoted(p.name) + " (also " + other + ")",
                    "a name not used by another port; rename one of them");
      }
      if (q.address.addr == a.addr) {
        src.fail_at(ip, "address " + a.addr.to_string() + " is also " + other + ".ip",
                    "a different address on each port");
      }
      const uint8_t shorter = std::min(q.address.len, a.len);
      const wire::Ipv4Prefix common{a.addr, shorter};
      if (common.contains(q.address.addr)) {
        src.fail_at(ip, a.to_string() + " overlaps " + other + ".ip " + q.address.to_string(),
                    "connected prefixes that do not overlap; give each port its own subnet");
      }
      if (p.mac && q.mac && *p.mac == *q.mac) {
        src.fail_at(base + ".mac", "MAC " + p.mac->to_string() + " is also " + other + ".mac",
                    "a different MAC on each port, or omit mac to use the device's own");
      }
    }
    // The whole frame must fit the data room of one mbuf (no scattered RX).
    const uint32_t need = kEtherHeaderLen + p.mtu;
    if (c.mempool.data_room < need) {
      src.fail_at(base + ".mtu",
                  "mtu " + std::to_string(p.mtu) + " does not fit one mbuf: a frame needs " +
                      std::to_string(kEtherHeaderLen) + " Ethernet header + " + std::to_string(p.mtu) +
                      " = " + std::to_string(need) + " bytes, mempool.data_room is " +
                      std::to_string(c.mempool.data_room) + src.default_note("mempool.data_room"),
                  "at most " + std::to_string(c.mempool.data_room - kEtherHeaderLen) +
                      ", or raise mempool.data_room to at least " + std::to_string(need));
    }
  }
  // Each lcore has its own pool of `mbufs` and its own RX and TX queue on
  // every port: the RX rings are filled from it at start, the TX rings hold
  // its mbufs until completion, and up to `cache` sit in the lcore's cache.
  uint64_t rings = 0;
  for (const auto& p : c.ports) rings += uint64_t{p.rx_desc} + p.tx_desc;
  const uint64_t need_mbufs = rings + c.mempool.cache;
  if (c.mempool.mbufs < need_mbufs) {
    src.fail_at("mempool.mbufs",
                std::to_string(c.mempool.mbufs) + " mbufs" + src.default_note("mempool.mbufs") +
                    " per lcore cannot fill the rings (" + std::to_string(rings) +
                    " RX+TX descriptors over all ports + " + std::to_string(c.mempool.cache) + " cache)",
                "at least " + std::to_string(need_mbufs) +
                    " (more leaves room for queued packets), or fewer descriptors or a smaller cache");
  }

  // --- routes
  std::vector<std::string> names;
  for (const auto& p : c.ports) names.push_back(p.name);
  for (size_t i = 0; i < c.routes.size(); ++i) {
    const RouteConfig& r = c.routes[i];
    const std::string base = index_path("routes", i);
    if (r.prefix.len > 32) {
      src.fail_at(base + ".prefix", "prefix length /" + std::to_string(r.prefix.len) + " is above 32",
                  kPrefixAccepted);
    }
    if (r.prefix.addr != r.prefix.network()) {
      src.fail_at(base + ".prefix", r.prefix.to_string() + " has host bits set",
                  "the network address of the prefix, here " + r.prefix.network().to_string() + "/" +
                      std::to_string(r.prefix.len));
    }
    for (size_t j = 0; j < i; ++j) {
      if (c.routes[j].prefix == r.prefix) {
        src.fail_at(base + ".prefix",
                    "duplicate route to " + r.prefix.to_string() + " (also " + index_path("routes", j) + ")",
                    "one route per prefix; delete one of them");
      }
    }
    const std::string gw = base + ".gateway";
    if (r.mac && (r.mac->is_multicast() || r.mac->is_zero())) {
      src.fail_at(base + ".mac", r.mac->to_string() + " is not a unicast MAC",
                  "the unicast Ethernet address of the next hop, e.g. 02:00:00:00:01:01");
    }
    if (r.gateway.is_unspecified() && !r.port.empty()) {
      // An on-link route through a named port: no gateway to check.
      if (std::find(names.begin(), names.end(), r.port) == names.end()) {
        src.fail_at(base + ".port", "unknown port " + quoted(r.port),
                    "one of the configured ports (" + join(names) + ")");
      }
      continue;
    }
    if (r.gateway.is_unspecified() || r.gateway.is_loopback() || r.gateway.is_multicast() ||
        r.gateway.is_broadcast()) {
      src.fail_at(gw, r.gateway.to_string() + " is not a unicast address",
                  "the unicast address of a neighbour on a port's subnet (" + port_prefixes(c) + ")");
    }
    std::optional<size_t> port;
    if (!r.port.empty()) {
      const auto it = std::find(names.begin(), names.end(), r.port);
      if (it == names.end()) {
        src.fail_at(base + ".port", "unknown port " + quoted(r.port),
                    "one of the configured ports (" + join(names) + "), or \"\" to pick it from the gateway");
      }
      port = static_cast<size_t>(it - names.begin());
      if (!c.ports[*port].address.contains(r.gateway)) {
        src.fail_at(gw,
                    r.gateway.to_string() + " is not inside the connected prefix " +
                        c.ports[*port].address.to_string() + " of port " + quoted(r.port),
                    "an address inside " + c.ports[*port].address.to_string() +
                        ", or another port's name in routes[].port");
      }
    } else {
      port = port_for_route(c, r);
      if (!port) {
        src.fail_at(
            gw, r.gateway.to_string() + " is not inside any port's connected prefix, so it is unreachable",
            "an address inside a port's connected prefix (" + port_prefixes(c) +
                "), or add a port on the gateway's subnet");
      }
    }
    const wire::Ipv4Prefix& conn = c.ports[*port].address;
    if (r.gateway == conn.addr) {
      src.fail_at(
          gw, r.gateway.to_string() + " is the stack's own address on port " + quoted(c.ports[*port].name),
          "the address of a neighbouring router on " + conn.to_string());
    }
    if (conn.len <= 30 && (r.gateway == conn.network() || r.gateway == conn.broadcast())) {
      src.fail_at(gw, r.gateway.to_string() + " is the network or broadcast address of " + conn.to_string(),
                  "the address of a neighbouring router on " + conn.to_string());
    }
  }

  // --- arp, ipv4, icmp, udp, tcp, echo
  if (c.arp.stale_ms < c.arp.reachable_ms) {
    src.fail_at(
        "arp.stale_ms",
        std::to_string(c.arp.stale_ms) + " is below arp.reachable_ms " + std::to_string(c.arp.reachable_ms),
        "at least arp.reachable_ms (" + std::to_string(c.arp.reachable_ms) + ")");
  }
  const TcpConfig& t = c.tcp;
  if (t.rto_max_ms < t.rto_min_ms) {
    src.fail_at("tcp.rto_max_ms",
                std::to_string(t.rto_max_ms) + " is below tcp.rto_min_ms " + std::to_string(t.rto_min_ms),
                "an integer " + std::to_string(t.rto_min_ms) + ".." + std::to_string(kTcpRtoMax.max) +
                    " (milliseconds, at least tcp.rto_min_ms)");
  }
}

/** Records where a document starts and whether it produced anything. */
class DocumentProbe : public YAML::EventHandler {
 public:
  Pos start;
  void OnDocumentStart(const YAML::Mark& mark) override { start = pos_of(mark); }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {
  }
  void OnMapEnd() override {}
};

/**
 * Fail unless @p text holds at most one YAML document. Not YAML::LoadAll():
 * yaml-cpp 0.7 loops forever there on a stray ',' at the top level
 * (jbeder/yaml-cpp#1040, fixed upstream by #1319). A parser that makes no
 * progress starts its next "document" where the previous one started; that
 * is reported as the syntax error it is.
 */
void check_single_document(const Source& src, const std::string& text) {
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentProbe first;
  if (!parser.HandleNextDocument(first)) return;  // empty input
  DocumentProbe second;
  if (!parser.HandleNextDocument(second)) return;
  if (second.start.line == first.start.line && second.start.col == first.start.col) {
    src.fail("", first.start,
             "YAML syntax error: unexpected text the parser cannot read (a stray ',' or similar)",
             "well-formed YAML; check the indentation and quoting at this position");
  }
  src.fail("", second.start, "the input holds more than one YAML document",
           "exactly one document; remove the `---` line and what follows it");
}

ConfigError internal_error(std::string_view name, const char* what) {
  ConfigError e;
  e.message = std::string(name) + ": internal error while loading the configuration: " + what +
              "; accepted: report this as a bug, with the file";
  return e;
}

}  // namespace

bool FaultConfig::enabled() const noexcept {
  return loss > 0 || duplicate > 0 || reorder > 0 || corrupt > 0 || delay_us > 0;
}

std::optional<size_t> port_for_route(const StackConfig& cfg, const RouteConfig& route) {
  std::optional<size_t> best;
  for (size_t i = 0; i < cfg.ports.size(); ++i) {
    const PortConfig& p = cfg.ports[i];
    if (!route.port.empty()) {
      if (p.name == route.port) return i;
      continue;
    }
    if (p.address.contains(route.gateway) && (!best || p.address.len > cfg.ports[*best].address.len))
      best = i;
  }
  return best;
}

std::variant<StackConfig, ConfigError> load_string(std::string_view yaml, std::string_view name) {
  Source src;
  src.name = name.empty() ? std::string("<string>") : std::string(name);
  try {
    const std::string text(yaml);
    check_single_document(src, text);
    const YAML::Node root = YAML::Load(text);  // one HandleNextDocument() call: cannot loop
    Pos root_pos = root.IsNull() ? Pos{} : pos_of(root.Mark());
    if (root_pos.line == 0) root_pos = Pos{1, 1};
    src.marks.set("", root_pos);
    StackConfig cfg;
    parse_map(src, root, "", root_pos, cfg);
    validate_config(src, cfg);
    return cfg;
  } catch (const Failure& f) {
    return f.error;
  } catch (const YAML::Exception& e) {
    return src.error("", pos_of(e.mark), "YAML syntax error: " + e.msg,
                     "well-formed YAML; check the indentation and quoting at this position");
  } catch (const std::exception& e) {
    return internal_error(src.name, e.what());
  } catch (...) {
    return internal_error(src.name, "unknown exception");
  }
}

std::variant<StackConfig, ConfigError> load_file(const std::string& path) {
  try {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      const int err = errno;
      ConfigError e;
      e.message = path + ": cannot open the file: " + (err != 0 ? std::strerror(err) : "unknown reason") +
                  "; accepted: the path of a readable YAML file (check the path and permissions)";
      return e;
    }
    std::ostringstream text;
    text << in.rdbuf();
    if (in.bad()) {
      ConfigError e;
      e.message = path + ": cannot read the file; accepted: a readable regular YAML file";
      return e;
    }
    return load_string(text.str(), path);
  } catch (const std::exception& e) {
    return internal_error(path, e.what());
  } catch (...) {
    return internal_error(path, "unknown exception");
  }
}

std::optional<ConfigError> validate(const StackConfig& cfg) {
  try {
    Source src;  // no name: messages carry no position
    validate_config(src, cfg);
    return std::nullopt;
  } catch (const Failure& f) {
    return f.error;
  } catch (const std::exception& e) {
    return internal_error("validate", e.what());
  } catch (...) {
    return internal_error("validate", "unknown exception");
  }
}

std::string to_yaml(const StackConfig& c) {
  try {
    YAML::Emitter out;
    out.SetIndent(2);
    schema::Writer w{out, {}};
    write_map(w, c);
    if (!out.good()) return "# to_yaml failed: " + out.GetLastError() + "\n";
    std::string s = out.c_str();
    s += '\n';
    return s;
  } catch (const std::exception& e) {
    return std::string("# to_yaml failed: ") + e.what() + "\n";
  }
}

// ---------------------------------------------------------------------------
// The tables' accessors and the generated reference.

namespace {
constexpr std::string_view kTopLevel = "top-level";  // the marker's name for the document's own keys
}  // namespace

namespace {

/** The largest value of the integer member @p k fills (0 when it is not an integer). */
template <class S>
constexpr uint64_t member_max(const Key<S>& k) {
  if (std::holds_alternative<uint8_t S::*>(k.field)) return std::numeric_limits<uint8_t>::max();
  if (std::holds_alternative<uint16_t S::*>(k.field)) return std::numeric_limits<uint16_t>::max();
  if (std::holds_alternative<uint32_t S::*>(k.field)) return std::numeric_limits<uint32_t>::max();
  if (std::holds_alternative<uint64_t S::*>(k.field)) return std::numeric_limits<uint64_t>::max();
  return 0;
}

/** Compile-time checks of a table: ranges fit their members (so reads cannot truncate), names are unique,
 * every key has its documentation. */
template <class S, size_t N>
constexpr bool table_ok(const Key<S> (&keys)[N]) {
  for (size_t i = 0; i < N; ++i) {
    const Key<S>& k = keys[i];
    if (k.name.empty() || k.doc.empty()) return false;
    if (member_max(k) != 0 && (k.range.max > member_max(k) || k.range.min > k.range.max)) return false;
    for (size_t j = 0; j < i; ++j) {
      if (keys[j].name == k.name) return false;
    }
  }
  return true;
}

}  // namespace

#define TERN_SECTION(S, example)                                                             \
  static_assert(table_ok(k##S##Keys),                                                        \
                #S ": a range does not fit its member, a name repeats or a doc is missing"); \
  template <>                                                                                \
  const Section<S>& schema::section<S>() {                                                   \
    static constexpr Section<S> kSection{k##S##Keys, example};                               \
    return kSection;                                                                         \
  }
TERN_SECTION(StackConfig, "{ports: [...]}")
TERN_SECTION(MempoolConfig, "{mbufs: 16383}")
TERN_SECTION(CoresConfig, "{idle: adaptive}")
TERN_SECTION(PortConfig, "{name: tap0, devargs: net_tap0, ip: 198.18.0.2/24}")
TERN_SECTION(FaultConfig, "{loss: 0.01, seed: 42}")
TERN_SECTION(RouteConfig, "{prefix: 0.0.0.0/0, gateway: 198.18.0.1}")
TERN_SECTION(ArpConfig, "{table_size: 1024}")
TERN_SECTION(Ipv4Config, "{default_ttl: 64}")
TERN_SECTION(IcmpConfig, "{echo: true}")
TERN_SECTION(UdpConfig, "{rx_queue_len: 1024}")
TERN_SECTION(TcpConfig, "{congestion: cubic, initial_window: 10}")
TERN_SECTION(TcpKeepaliveConfig, "{enabled: true, idle_s: 600}")
TERN_SECTION(EchoConfig, "{udp_port: 7, tcp_port: 7}")
#undef TERN_SECTION

std::optional<std::string> schema::reference_table(std::string_view path) {
  DocOut d;
  doc_map<StackConfig>(d, "");
  const auto it = d.tables.find(path == kTopLevel ? std::string_view() : path);
  if (it == d.tables.end()) return std::nullopt;
  return it->second;
}

namespace {
constexpr std::string_view kBegin = "<!-- BEGIN GENERATED KEYS ";
constexpr std::string_view kEnd = "<!-- END GENERATED KEYS -->";

/** The section path of a begin marker line, or nullopt. */
std::optional<std::string_view> begin_marker(std::string_view line) {
  if (line.substr(0, kBegin.size()) != kBegin || line.size() < kBegin.size() + 4) return std::nullopt;
  if (line.substr(line.size() - 4) != " -->") return std::nullopt;
  return line.substr(kBegin.size(), line.size() - kBegin.size() - 4);
}
}  // namespace

std::optional<std::string> schema::update_reference(std::string_view markdown, std::string* error) {
  std::string out;
  std::optional<std::string> open;  // the path of the block being replaced
  int line_no = 0;
  for (size_t at = 0; at < markdown.size();) {
    const size_t nl = markdown.find('\n', at);
    const size_t end = nl == std::string_view::npos ? markdown.size() : nl;
    const std::string_view line = markdown.substr(at, end - at);
    at = end + 1;
    ++line_no;
    if (open) {
      if (line != kEnd) continue;
      open.reset();
    } else if (const auto path = begin_marker(line)) {
      const auto table = reference_table(*path);
      if (!table) {
        if (error != nullptr)
          *error = "line " + std::to_string(line_no) + ": unknown section " + quoted(*path);
        return std::nullopt;
      }
      out += std::string(line) + "\n" + *table;
      open = std::string(*path);
      continue;
    }
    out += line;
    if (nl != std::string_view::npos) out += '\n';
  }
  if (open) {
    if (error != nullptr) *error = "the block of " + quoted(*open) + " has no end marker";
    return std::nullopt;
  }
  return out;
}

}  // namespace tern::config
