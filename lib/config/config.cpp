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
#include <utility>

namespace tern::config {

namespace {

// Limits of the DPDK build the stack links against (rte_config.h /
// rte_build_config.h). Repeated here so that config does not depend on DPDK.
constexpr uint32_t kMaxLcore = 128;         // RTE_MAX_LCORE
constexpr uint32_t kMbufHeadroom = 128;     // RTE_PKTMBUF_HEADROOM
constexpr uint32_t kMempoolCacheMax = 512;  // RTE_MEMPOOL_CACHE_MAX_SIZE
constexpr uint32_t kEtherHeaderLen = 14;    // IEEE 802.3 header without VLAN tag or FCS
constexpr size_t kPortNameMax = 32;

// ---------------------------------------------------------------------------
// Value rules, shared by the parser (first error, with a position) and by
// validate() (configs built or changed in code).

/** An unsigned integer rule: min..max, optionally 0 as "off", optionally a power of two. */
struct IntRule {
  uint64_t min;
  uint64_t max;
  bool zero_disables = false;
  bool pow2 = false;
  const char* unit = "";  // appended to the accepted text, e.g. " (bytes)"
};

constexpr IntRule kMtu{68, 9000, false, false, " (bytes of IP packet, RFC 791 minimum 68)"};
constexpr IntRule kDesc{64, 4096, false, true, ""};
constexpr IntRule kL4Port{1, 65535, true, false, ""};
constexpr IntRule kTtl{1, 255, false, false, ""};
constexpr IntRule kSeed{0, std::numeric_limits<uint64_t>::max(), false, false, ""};
constexpr IntRule kDelayUs{0, 1000000, false, false, " (microseconds)"};
constexpr IntRule kMbufs{1023, 16777215, false, false, " (2^n - 1 uses memory best)"};
constexpr IntRule kCache{0, kMempoolCacheMax, false, false, ""};
// DPDK's rte_mempool_create() refuses a cache larger than n / 1.5; the ranges make that impossible.
static_assert(kMbufs.min * 2 >= kCache.max * 3);
// The stack creates pools with an element data room of data_room + RTE_PKTMBUF_HEADROOM (a uint16_t).
constexpr IntRule kDataRoom{1024, 65535 - kMbufHeadroom, false, false,
                            " (bytes of packet data, after the headroom)"};
constexpr IntRule kArpTable{16, 1048576, false, false, " (entries)"};
constexpr IntRule kArpQueue{1, 1024, false, false, " (packets)"};
constexpr IntRule kArpReachable{100, 86400000, false, false, " (milliseconds)"};
constexpr IntRule kArpStale{100, 86400000, false, false, " (milliseconds, and at least reachable_ms)"};
constexpr IntRule kArpRetryMs{10, 60000, false, false, " (milliseconds)"};
constexpr IntRule kArpRetries{1, 100, false, false, ""};
constexpr IntRule kReasmTimeout{100, 120000, false, false, " (milliseconds)"};
constexpr IntRule kReasmBytes{65535, 1u << 30, false, false, " (bytes)"};
constexpr IntRule kReasmDatagrams{1, 65536, false, false, ""};
constexpr IntRule kPmtuMin{68, 9000, false, false, " (bytes of IP packet, RFC 791 minimum 68)"};
constexpr IntRule kIcmpRate{1, 1000000, false, false, " (messages per second)"};
constexpr IntRule kIcmpBurst{1, 1000000, false, false, " (messages)"};
constexpr IntRule kIcmpRateOrOff{0, 1000000, false, false, " (messages per second; 0: no limit)"};
constexpr IntRule kArpLock{0, 60000, false, false, " (milliseconds)"};
constexpr IntRule kTcpChallengeLimit{1, 1000000, false, false, " (challenge ACKs per second per core)"};
constexpr IntRule kTcpChallengeInterval{0, 60000, false, false,
                                        " (milliseconds; 0: no per-connection limit)"};
constexpr IntRule kUdpQueue{1, 65536, false, false, " (datagrams)"};
constexpr IntRule kTcpAbcLimit{0, 64, false, false, " (segments per ACK; 0: no limit)"};
constexpr IntRule kTcpQuickAcks{0, 255, false, false, " (segments; 0: off)"};
constexpr IntRule kTcpUserTimeout{0, 2147483647, false, false, " (milliseconds; 0: off)"};
constexpr IntRule kTcpNotsentLowat{0, 67108864, false, false, " (bytes; 0: off)"};
constexpr IntRule kTcpTfoRotate{60, 604800, false, false, " (seconds)"};
constexpr IntRule kTcpTfoCache{0, 1048576, false, false, " (entries per core)"};
constexpr IntRule kTcpTfoBlackhole{0, 86400, false, false, " (seconds)"};
constexpr IntRule kTcpInitialWindow{1, 100, false, false, " (segments, RFC 6928)"};
constexpr IntRule kTcpDelayedAck{1, 499, false, false, " (milliseconds; RFC 1122 4.2.3.2: under 500)"};
constexpr IntRule kTcpRtoMin{1, 60000, false, false, " (milliseconds)"};
constexpr IntRule kTcpRtoMax{1, 600000, false, false, " (milliseconds, and at least rto_min_ms)"};
constexpr IntRule kTcpRtoInitial{1, 60000, false, false, " (milliseconds)"};
constexpr IntRule kTcpMsl{1, 600000, false, false, " (milliseconds; TIME_WAIT lasts 2 x MSL)"};
constexpr IntRule kTcpConnections{1, 4194304, false, false, " (per core)"};
constexpr IntRule kTcpBacklog{1, 65535, false, false, " (connections)"};
constexpr IntRule kTcpBuffer{4096, 64u << 20, false, false, " (bytes)"};
constexpr IntRule kTcpKaIdle{1, 86400 * 7, false, false, " (seconds)"};
constexpr IntRule kTcpKaInterval{1, 86400, false, false, " (seconds)"};
constexpr IntRule kTcpKaCount{1, 255, false, false, " (probes)"};
constexpr IntRule kTcpMaxRetries{1, 100, false, false, " (retransmissions)"};
constexpr IntRule kTcpSynRetries{1, 20, false, false, " (retransmissions)"};
constexpr IntRule kTcpFinWait2{1, 3600, false, false, " (seconds)"};
constexpr IntRule kTcpOooNodes{16, 4194304, false, false, " (segments per core)"};
constexpr IntRule kTcpMemoryKb{0, 16777216, false, false, " (KiB per core; 0: automatic)"};
constexpr IntRule kQueues{0, 64, false, false, " (queue pairs; 0: one per core)"};
constexpr IntRule kIdlePolls{1, 1000000, false, false, " (empty polls)"};
constexpr IntRule kSleepUs{1, 100000, false, false, " (microseconds)"};
constexpr IntRule kSteerRing{256, 65536, false, true, " (frames)"};
constexpr IntRule kMailbox{64, 65536, false, true, " (tasks)"};
constexpr IntRule kDrainMs{0, 3600000, false, false, " (milliseconds)"};
constexpr std::string_view kIdlePolicies[] = {"busy", "adaptive"};
constexpr std::string_view kChecksumModes[] = {"auto", "software", "trusted"};
constexpr IntRule kRxReserve{0, 16777215, false, false, " (mbufs; 0: automatic)"};

constexpr std::string_view kLogLevels[] = {"error", "warn", "info", "debug"};
// The names tcp::cc_from_string() accepts; config does not depend on lib/tcp, lib/stack maps them.
constexpr std::string_view kCongestion[] = {"cubic", "newreno"};
constexpr std::string_view kRecovery[] = {"rack-tlp", "rfc6675"};
constexpr const char* kRecoveryAccepted = "rack-tlp or rfc6675";
constexpr std::string_view kEcn[] = {"off", "passive", "on"};
constexpr const char* kEcnAccepted = "off, passive or on";
constexpr const char* kCongestionAccepted = "cubic or newreno";

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

template <typename T>
void get_uint(Source& src, const MapView& m, std::string_view key, T& out, const IntRule& rule) {
  static_assert(std::is_unsigned_v<T>);
  if (const YAML::Node* n = m.get(key)) {
    // Every rule's max fits the field's type, so the cast cannot truncate.
    out = static_cast<T>(read_uint(src, *n, m.child(key), m.pos(key), rule));
  }
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

void get_probability(Source& src, const MapView& m, std::string_view key, double& out) {
  if (const YAML::Node* n = m.get(key)) out = read_probability(src, *n, m.child(key), m.pos(key));
}

void get_bool(Source& src, const MapView& m, std::string_view key, bool& out) {
  const YAML::Node* n = m.get(key);
  if (n == nullptr) return;
  static constexpr const char* kAccepted = "true or false";
  const std::string text = scalar(src, *n, m.child(key), m.pos(key), kAccepted, "a boolean");
  // The YAML 1.2 core schema spellings plus the YAML 1.1 yes/no/on/off.
  static constexpr std::string_view kTrue[] = {"true", "True", "TRUE", "yes", "Yes", "YES", "on", "On", "ON"};
  static constexpr std::string_view kFalse[] = {"false", "False", "FALSE", "no", "No",
                                                "NO",    "off",   "Off",   "OFF"};
  if (std::find(std::begin(kTrue), std::end(kTrue), text) != std::end(kTrue)) {
    out = true;
  } else if (std::find(std::begin(kFalse), std::end(kFalse), text) != std::end(kFalse)) {
    out = false;
  } else {
    src.fail(m.child(key), m.pos(key), quoted(text) + " is not a boolean", kAccepted);
  }
}

void get_string(Source& src, const MapView& m, std::string_view key, std::string& out,
                const std::string& accepted) {
  if (const YAML::Node* n = m.get(key)) out = scalar(src, *n, m.child(key), m.pos(key), accepted, "a string");
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

// ---------------------------------------------------------------------------
// Sections.

constexpr std::string_view kFaultKeys[] = {"seed", "loss", "duplicate", "reorder", "corrupt", "delay_us"};

void parse_fault(Source& src, const YAML::Node& n, const std::string& path, Pos pos, FaultConfig& f) {
  MapView m(src, n, path, pos, kFaultKeys, "{loss: 0.01, seed: 42}");
  get_uint(src, m, "seed", f.seed, kSeed);
  get_probability(src, m, "loss", f.loss);
  get_probability(src, m, "duplicate", f.duplicate);
  get_probability(src, m, "reorder", f.reorder);
  get_probability(src, m, "corrupt", f.corrupt);
  get_uint(src, m, "delay_us", f.delay_us, kDelayUs);
}

constexpr std::string_view kPortKeys[] = {"name",   "devargs", "ip",       "mac", "mtu", "rx_desc", "tx_desc",
                                          "queues", "capture", "checksum", "gso", "gro", "fault"};

PortConfig parse_port(Source& src, const YAML::Node& n, const std::string& path, Pos pos) {
  PortConfig p;
  MapView m(src, n, path, pos, kPortKeys, "{name: tap0, devargs: net_tap0, ip: 198.18.0.2/24}");
  if (n.IsNull()) {
    src.fail(path, pos, "empty port entry", "a map with at least name, devargs and ip");
  }
  p.name = scalar(src, m.require("name", "tap0"), m.child("name"), m.pos("name"), "a port name", "a string");
  p.devargs = scalar(src, m.require("devargs", "net_tap0,iface=tern0"), m.child("devargs"), m.pos("devargs"),
                     "a DPDK device string", "a string");
  p.address = read_prefix(src, m.require("ip", "198.18.0.2/24"), m.child("ip"), m.pos("ip"), kHostAccepted);
  if (const YAML::Node* mac = m.get("mac")) p.mac = read_mac(src, *mac, m.child("mac"), m.pos("mac"));
  get_uint(src, m, "mtu", p.mtu, kMtu);
  get_uint(src, m, "rx_desc", p.rx_desc, kDesc);
  get_uint(src, m, "tx_desc", p.tx_desc, kDesc);
  get_uint(src, m, "queues", p.queues, kQueues);
  get_string(src, m, "capture", p.capture, "a pcap file path, or \"\" for no capture");
  get_string(src, m, "checksum", p.checksum, "auto, software or trusted");
  get_bool(src, m, "gso", p.gso);
  get_bool(src, m, "gro", p.gro);
  if (const YAML::Node* f = m.get("fault")) parse_fault(src, *f, m.child("fault"), m.pos("fault"), p.fault);
  return p;
}

constexpr std::string_view kRouteKeys[] = {"prefix", "gateway", "port", "mac"};

RouteConfig parse_route(Source& src, const YAML::Node& n, const std::string& path, Pos pos) {
  RouteConfig r;
  MapView m(src, n, path, pos, kRouteKeys, "{prefix: 0.0.0.0/0, gateway: 198.18.0.1}");
  if (n.IsNull()) src.fail(path, pos, "empty route entry", "a map with prefix and a gateway or a port");
  r.prefix =
      read_prefix(src, m.require("prefix", "0.0.0.0/0"), m.child("prefix"), m.pos("prefix"), kPrefixAccepted);
  get_string(src, m, "port", r.port, "the name of a port, or \"\" to pick it from the gateway");
  // Without a gateway the route is on-link through its port (to `mac` if given).
  if (r.port.empty() || m.get("gateway") != nullptr) {
    r.gateway = read_addr(src, m.require("gateway", "198.18.0.1"), m.child("gateway"), m.pos("gateway"));
  }
  if (const YAML::Node* mac = m.get("mac")) r.mac = read_mac(src, *mac, m.child("mac"), m.pos("mac"));
  return r;
}

constexpr std::string_view kTopKeys[] = {"log_level", "lcores", "eal",  "mempool", "cores", "ports", "routes",
                                         "arp",       "ipv4",   "icmp", "udp",     "tcp",   "echo"};

constexpr std::string_view kMempoolKeys[] = {"mbufs", "cache", "data_room", "rx_reserve"};
constexpr std::string_view kArpKeys[] = {"table_size", "queue_len", "reachable_ms", "stale_ms",
                                         "retry_ms",   "retries",   "gratuitous",   "lock_time_ms"};
constexpr std::string_view kIpv4Keys[] = {"default_ttl", "reassembly_timeout_ms", "reassembly_max_bytes",
                                          "reassembly_max_datagrams", "pmtu_min"};
constexpr std::string_view kIcmpKeys[] = {"echo", "echo_rate", "error_rate", "dest_error_rate",
                                          "dest_error_burst"};
constexpr std::string_view kUdpKeys[] = {"rx_queue_len"};
constexpr std::string_view kCoresKeys[] = {"idle",       "idle_polls", "sleep_us",
                                           "steer_ring", "mailbox",    "drain_ms"};
constexpr std::string_view kTcpKeys[] = {"congestion",
                                         "initial_window",
                                         "delayed_ack_ms",
                                         "rto_min_ms",
                                         "rto_max_ms",
                                         "rto_initial_ms",
                                         "msl_ms",
                                         "max_connections",
                                         "max_time_wait",
                                         "backlog",
                                         "syncookies",
                                         "timestamps",
                                         "sack",
                                         "window_scaling",
                                         "send_buffer",
                                         "recv_buffer",
                                         "nodelay",
                                         "keepalive",
                                         "max_retries",
                                         "syn_retries",
                                         "fin_wait_2_s",
                                         "ooo_nodes",
                                         "memory_limit_kb",
                                         "challenge_ack_limit",
                                         "challenge_ack_interval_ms",
                                         "recovery",
                                         "limited_transmit",
                                         "dsack",
                                         "undo",
                                         "hystart",
                                         "abc_limit",
                                         "idle_restart",
                                         "quick_acks",
                                         "ecn",
                                         "user_timeout_ms",
                                         "notsent_lowat",
                                         "fastopen_key_rotate_s",
                                         "fastopen_cache",
                                         "fastopen_blackhole_s"};
constexpr std::string_view kTcpKeepaliveKeys[] = {"enabled", "idle_s", "interval_s", "count"};
constexpr std::string_view kEchoKeys[] = {"udp_port", "tcp_port"};

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

void parse_tcp(Source& src, const YAML::Node& n, Pos pos, TcpConfig& t) {
  MapView m(src, n, "tcp", pos, kTcpKeys, "{congestion: cubic, initial_window: 10}");
  get_string(src, m, "congestion", t.congestion, kCongestionAccepted);
  get_uint(src, m, "initial_window", t.initial_window, kTcpInitialWindow);
  get_uint(src, m, "delayed_ack_ms", t.delayed_ack_ms, kTcpDelayedAck);
  get_uint(src, m, "rto_min_ms", t.rto_min_ms, kTcpRtoMin);
  get_uint(src, m, "rto_max_ms", t.rto_max_ms, kTcpRtoMax);
  get_uint(src, m, "rto_initial_ms", t.rto_initial_ms, kTcpRtoInitial);
  get_uint(src, m, "msl_ms", t.msl_ms, kTcpMsl);
  get_uint(src, m, "max_connections", t.max_connections, kTcpConnections);
  get_uint(src, m, "max_time_wait", t.max_time_wait, kTcpConnections);
  get_uint(src, m, "backlog", t.backlog, kTcpBacklog);
  get_bool(src, m, "syncookies", t.syncookies);
  get_bool(src, m, "timestamps", t.timestamps);
  get_bool(src, m, "sack", t.sack);
  get_bool(src, m, "window_scaling", t.window_scaling);
  get_uint(src, m, "send_buffer", t.send_buffer, kTcpBuffer);
  get_uint(src, m, "recv_buffer", t.recv_buffer, kTcpBuffer);
  get_bool(src, m, "nodelay", t.nodelay);
  if (const YAML::Node* k = m.get("keepalive")) {
    MapView ka(src, *k, m.child("keepalive"), m.pos("keepalive"), kTcpKeepaliveKeys,
               "{enabled: true, idle_s: 600}");
    get_bool(src, ka, "enabled", t.keepalive.enabled);
    get_uint(src, ka, "idle_s", t.keepalive.idle_s, kTcpKaIdle);
    get_uint(src, ka, "interval_s", t.keepalive.interval_s, kTcpKaInterval);
    get_uint(src, ka, "count", t.keepalive.count, kTcpKaCount);
  }
  get_uint(src, m, "max_retries", t.max_retries, kTcpMaxRetries);
  get_uint(src, m, "syn_retries", t.syn_retries, kTcpSynRetries);
  get_uint(src, m, "fin_wait_2_s", t.fin_wait_2_s, kTcpFinWait2);
  get_uint(src, m, "ooo_nodes", t.ooo_nodes, kTcpOooNodes);
  get_uint(src, m, "challenge_ack_limit", t.challenge_ack_limit, kTcpChallengeLimit);
  get_uint(src, m, "challenge_ack_interval_ms", t.challenge_ack_interval_ms, kTcpChallengeInterval);
  get_uint(src, m, "memory_limit_kb", t.memory_limit_kb, kTcpMemoryKb);
  get_string(src, m, "recovery", t.recovery, kRecoveryAccepted);
  get_bool(src, m, "limited_transmit", t.limited_transmit);
  get_bool(src, m, "dsack", t.dsack);
  get_bool(src, m, "undo", t.undo);
  get_bool(src, m, "hystart", t.hystart);
  get_uint(src, m, "abc_limit", t.abc_limit, kTcpAbcLimit);
  get_bool(src, m, "idle_restart", t.idle_restart);
  get_uint(src, m, "quick_acks", t.quick_acks, kTcpQuickAcks);
  get_string(src, m, "ecn", t.ecn, kEcnAccepted);
  get_uint(src, m, "user_timeout_ms", t.user_timeout_ms, kTcpUserTimeout);
  get_uint(src, m, "notsent_lowat", t.notsent_lowat, kTcpNotsentLowat);
  get_uint(src, m, "fastopen_key_rotate_s", t.fastopen_key_rotate_s, kTcpTfoRotate);
  get_uint(src, m, "fastopen_cache", t.fastopen_cache, kTcpTfoCache);
  get_uint(src, m, "fastopen_blackhole_s", t.fastopen_blackhole_s, kTcpTfoBlackhole);
}

StackConfig parse_root(Source& src, const YAML::Node& root, Pos root_pos) {
  StackConfig c;
  MapView top(src, root, "", root_pos, kTopKeys, "{ports: [...]}");

  get_string(src, top, "log_level", c.log_level, "error, warn, info or debug");
  get_string(src, top, "lcores", c.lcores, "a DPDK lcore list such as \"0\", \"0-1\" or \"0,2\"");

  if (const YAML::Node* eal = top.get("eal")) {
    const std::string accepted = "a list of strings, e.g. [\"--vdev=net_null0\", \"--in-memory\"]";
    const Pos lpos = top.pos("eal");
    const auto items = read_list(src, *eal, "eal", lpos, accepted);
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string path = index_path("eal", i);
      const Pos ipos = item_pos(items[i], lpos);
      src.marks.set(path, ipos);
      c.eal_args.push_back(scalar(src, items[i], path, ipos, accepted, "a string"));
    }
  }

  if (const YAML::Node* n = top.get("mempool")) {
    MapView m(src, *n, "mempool", top.pos("mempool"), kMempoolKeys, "{mbufs: 16383}");
    get_uint(src, m, "mbufs", c.mempool.mbufs, kMbufs);
    get_uint(src, m, "cache", c.mempool.cache, kCache);
    get_uint(src, m, "data_room", c.mempool.data_room, kDataRoom);
    get_uint(src, m, "rx_reserve", c.mempool.rx_reserve, kRxReserve);
  }

  if (const YAML::Node* n = top.get("ports")) {
    const Pos lpos = top.pos("ports");
    const auto items = read_list(
        src, *n, "ports", lpos, "a list of ports, e.g. [{name: tap0, devargs: net_tap0, ip: 198.18.0.2/24}]");
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string path = index_path("ports", i);
      const Pos ipos = item_pos(items[i], lpos);
      src.marks.set(path, ipos);
      c.ports.push_back(parse_port(src, items[i], path, ipos));
    }
  }

  if (const YAML::Node* n = top.get("routes")) {
    const Pos lpos = top.pos("routes");
    const auto items = read_list(src, *n, "routes", lpos,
                                 "a list of routes, e.g. [{prefix: 0.0.0.0/0, gateway: 198.18.0.1}]");
    for (size_t i = 0; i < items.size(); ++i) {
      const std::string path = index_path("routes", i);
      const Pos ipos = item_pos(items[i], lpos);
      src.marks.set(path, ipos);
      c.routes.push_back(parse_route(src, items[i], path, ipos));
    }
  }

  if (const YAML::Node* n = top.get("arp")) {
    MapView m(src, *n, "arp", top.pos("arp"), kArpKeys, "{table_size: 1024}");
    get_uint(src, m, "table_size", c.arp.table_size, kArpTable);
    get_uint(src, m, "queue_len", c.arp.queue_len, kArpQueue);
    get_uint(src, m, "reachable_ms", c.arp.reachable_ms, kArpReachable);
    get_uint(src, m, "stale_ms", c.arp.stale_ms, kArpStale);
    get_uint(src, m, "retry_ms", c.arp.retry_ms, kArpRetryMs);
    get_uint(src, m, "retries", c.arp.retries, kArpRetries);
    get_bool(src, m, "gratuitous", c.arp.gratuitous);
    get_uint(src, m, "lock_time_ms", c.arp.lock_time_ms, kArpLock);
  }

  if (const YAML::Node* n = top.get("ipv4")) {
    MapView m(src, *n, "ipv4", top.pos("ipv4"), kIpv4Keys, "{default_ttl: 64}");
    get_uint(src, m, "default_ttl", c.ipv4.default_ttl, kTtl);
    get_uint(src, m, "reassembly_timeout_ms", c.ipv4.reassembly_timeout_ms, kReasmTimeout);
    get_uint(src, m, "reassembly_max_bytes", c.ipv4.reassembly_max_bytes, kReasmBytes);
    get_uint(src, m, "reassembly_max_datagrams", c.ipv4.reassembly_max_datagrams, kReasmDatagrams);
    get_uint(src, m, "pmtu_min", c.ipv4.pmtu_min, kPmtuMin);
  }

  if (const YAML::Node* n = top.get("icmp")) {
    reject_removed_icmp_key(src, *n);
    MapView m(src, *n, "icmp", top.pos("icmp"), kIcmpKeys, "{echo: true}");
    get_bool(src, m, "echo", c.icmp.echo);
    get_uint(src, m, "echo_rate", c.icmp.echo_rate, kIcmpRateOrOff);
    get_uint(src, m, "error_rate", c.icmp.error_rate, kIcmpRate);
    get_uint(src, m, "dest_error_rate", c.icmp.dest_error_rate, kIcmpRateOrOff);
    get_uint(src, m, "dest_error_burst", c.icmp.dest_error_burst, kIcmpBurst);
  }

  if (const YAML::Node* n = top.get("cores")) {
    MapView m(src, *n, "cores", top.pos("cores"), kCoresKeys, "{idle: adaptive}");
    get_string(src, m, "idle", c.cores.idle, "busy or adaptive");
    get_uint(src, m, "idle_polls", c.cores.idle_polls, kIdlePolls);
    get_uint(src, m, "sleep_us", c.cores.sleep_us, kSleepUs);
    get_uint(src, m, "steer_ring", c.cores.steer_ring, kSteerRing);
    get_uint(src, m, "mailbox", c.cores.mailbox, kMailbox);
    get_uint(src, m, "drain_ms", c.cores.drain_ms, kDrainMs);
  }

  if (const YAML::Node* n = top.get("udp")) {
    MapView m(src, *n, "udp", top.pos("udp"), kUdpKeys, "{rx_queue_len: 1024}");
    get_uint(src, m, "rx_queue_len", c.udp.rx_queue_len, kUdpQueue);
  }

  if (const YAML::Node* n = top.get("tcp")) parse_tcp(src, *n, top.pos("tcp"), c.tcp);

  if (const YAML::Node* n = top.get("echo")) {
    MapView m(src, *n, "echo", top.pos("echo"), kEchoKeys, "{udp_port: 7, tcp_port: 7}");
    get_uint(src, m, "udp_port", c.echo.udp_port, kL4Port);
    get_uint(src, m, "tcp_port", c.echo.tcp_port, kL4Port);
  }
  // "ports: at least one" and the other cross-field rules are validate()'s.
  return c;
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

void check_int(const Source& src, const std::string& path, uint64_t v, const IntRule& rule) {
  if (std::string why = int_problem(v, rule); !why.empty()) src.fail_at(path, why, accepted_text(rule));
}

void check_probability(const Source& src, const std::string& path, double v) {
  if (!(v >= 0 && v <= 1)) {  // also rejects NaN
    std::ostringstream os;
    os << v << " is outside [0, 1]";
    src.fail_at(path, os.str(), kProbAccepted);
  }
}

void validate_tcp(const Source& src, const TcpConfig& t) {
  if (std::find(std::begin(kCongestion), std::end(kCongestion), t.congestion) == std::end(kCongestion)) {
    src.fail_at("tcp.congestion", quoted(t.congestion) + " is not a congestion control algorithm",
                kCongestionAccepted);
  }
  check_int(src, "tcp.initial_window", t.initial_window, kTcpInitialWindow);
  check_int(src, "tcp.delayed_ack_ms", t.delayed_ack_ms, kTcpDelayedAck);
  check_int(src, "tcp.rto_min_ms", t.rto_min_ms, kTcpRtoMin);
  check_int(src, "tcp.rto_max_ms", t.rto_max_ms, kTcpRtoMax);
  if (t.rto_max_ms < t.rto_min_ms) {
    src.fail_at("tcp.rto_max_ms",
                std::to_string(t.rto_max_ms) + " is below tcp.rto_min_ms " + std::to_string(t.rto_min_ms),
                "an integer " + std::to_string(t.rto_min_ms) + ".." + std::to_string(kTcpRtoMax.max) +
                    " (milliseconds, at least tcp.rto_min_ms)");
  }
  check_int(src, "tcp.rto_initial_ms", t.rto_initial_ms, kTcpRtoInitial);
  check_int(src, "tcp.msl_ms", t.msl_ms, kTcpMsl);
  check_int(src, "tcp.max_connections", t.max_connections, kTcpConnections);
  check_int(src, "tcp.max_time_wait", t.max_time_wait, kTcpConnections);
  check_int(src, "tcp.backlog", t.backlog, kTcpBacklog);
  check_int(src, "tcp.send_buffer", t.send_buffer, kTcpBuffer);
  check_int(src, "tcp.recv_buffer", t.recv_buffer, kTcpBuffer);
  check_int(src, "tcp.keepalive.idle_s", t.keepalive.idle_s, kTcpKaIdle);
  check_int(src, "tcp.keepalive.interval_s", t.keepalive.interval_s, kTcpKaInterval);
  check_int(src, "tcp.keepalive.count", t.keepalive.count, kTcpKaCount);
  check_int(src, "tcp.max_retries", t.max_retries, kTcpMaxRetries);
  check_int(src, "tcp.syn_retries", t.syn_retries, kTcpSynRetries);
  check_int(src, "tcp.fin_wait_2_s", t.fin_wait_2_s, kTcpFinWait2);
  check_int(src, "tcp.ooo_nodes", t.ooo_nodes, kTcpOooNodes);
  check_int(src, "tcp.memory_limit_kb", t.memory_limit_kb, kTcpMemoryKb);
  if (std::find(std::begin(kRecovery), std::end(kRecovery), t.recovery) == std::end(kRecovery)) {
    src.fail_at("tcp.recovery", quoted(t.recovery) + " is not a loss recovery", kRecoveryAccepted);
  }
  if (std::find(std::begin(kEcn), std::end(kEcn), t.ecn) == std::end(kEcn)) {
    src.fail_at("tcp.ecn", quoted(t.ecn) + " is not an ECN mode", kEcnAccepted);
  }
  check_int(src, "tcp.abc_limit", t.abc_limit, kTcpAbcLimit);
  check_int(src, "tcp.quick_acks", t.quick_acks, kTcpQuickAcks);
  check_int(src, "tcp.user_timeout_ms", t.user_timeout_ms, kTcpUserTimeout);
  check_int(src, "tcp.notsent_lowat", t.notsent_lowat, kTcpNotsentLowat);
  check_int(src, "tcp.fastopen_key_rotate_s", t.fastopen_key_rotate_s, kTcpTfoRotate);
  check_int(src, "tcp.fastopen_cache", t.fastopen_cache, kTcpTfoCache);
  check_int(src, "tcp.fastopen_blackhole_s", t.fastopen_blackhole_s, kTcpTfoBlackhole);
}

std::string port_prefixes(const StackConfig& c) {
  std::vector<std::string> v;
  for (const auto& p : c.ports) v.push_back(p.name + ": " + p.address.to_string());
  return join(v);
}

void validate_config(const Source& src, const StackConfig& c) {
  // --- top-level scalars
  if (std::find(std::begin(kLogLevels), std::end(kLogLevels), c.log_level) == std::end(kLogLevels)) {
    src.fail_at("log_level", quoted(c.log_level) + " is not a log level", "error, warn, info or debug");
  }
  const auto lcores = parse_lcores(c.lcores);
  if (const auto* why = std::get_if<std::string>(&lcores)) {
    src.fail_at("lcores", *why,
                "a DPDK lcore list of ids 0.." + std::to_string(kMaxLcore - 1) +
                    ": single ids and ascending ranges joined by commas, e.g. \"0\", \"0-1\", \"0,2-3\"");
  }
  for (size_t i = 0; i < c.eal_args.size(); ++i) {
    const std::string& a = c.eal_args[i];
    const std::string path = index_path("eal", i);
    if (a.empty()) src.fail_at(path, "empty argument", "a non-empty EAL argument such as \"--no-pci\"");
    const bool lcore_opt = a == "--lcores" || a.rfind("--lcores=", 0) == 0 ||
                           (a.size() >= 2 && a[0] == '-' && (a[1] == 'l' || a[1] == 'c'));
    if (lcore_opt) {
      src.fail_at(path, quoted(a) + " selects lcores, which tern sets from `lcores`",
                  "any EAL argument except -l, -c and --lcores; set the top-level `lcores` key instead");
    }
  }

  // --- mempool
  check_int(src, "mempool.mbufs", c.mempool.mbufs, kMbufs);
  check_int(src, "mempool.cache", c.mempool.cache, kCache);
  check_int(src, "mempool.data_room", c.mempool.data_room, kDataRoom);
  check_int(src, "mempool.rx_reserve", c.mempool.rx_reserve, kRxReserve);
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
    check_int(src, base + ".mtu", p.mtu, kMtu);
    check_int(src, base + ".rx_desc", p.rx_desc, kDesc);
    check_int(src, base + ".tx_desc", p.tx_desc, kDesc);
    check_int(src, base + ".queues", p.queues, kQueues);
    if (std::find(std::begin(kChecksumModes), std::end(kChecksumModes), p.checksum) ==
        std::end(kChecksumModes)) {
      src.fail_at(base + ".checksum", quoted(p.checksum) + " is not a checksum mode",
                  "auto, software or trusted (docs/offloads.md)");
    }
    if (!p.capture.empty() && p.capture.find_first_not_of(" \t\r\n") == std::string::npos) {
      src.fail_at(base + ".capture", "the path is only white space",
                  "a pcap file path, or \"\" for no capture");
    }
    const std::string f = base + ".fault";
    check_int(src, f + ".seed", p.fault.seed, kSeed);
    check_probability(src, f + ".loss", p.fault.loss);
    check_probability(src, f + ".duplicate", p.fault.duplicate);
    check_probability(src, f + ".reorder", p.fault.reorder);
    check_probability(src, f + ".corrupt", p.fault.corrupt);
    check_int(src, f + ".delay_us", p.fault.delay_us, kDelayUs);

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
      static_assert(kDataRoom.min >= kEtherHeaderLen + kMtu.min);
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
  check_int(src, "arp.table_size", c.arp.table_size, kArpTable);
  check_int(src, "arp.queue_len", c.arp.queue_len, kArpQueue);
  check_int(src, "arp.reachable_ms", c.arp.reachable_ms, kArpReachable);
  check_int(src, "arp.stale_ms", c.arp.stale_ms, kArpStale);
  check_int(src, "arp.retry_ms", c.arp.retry_ms, kArpRetryMs);
  check_int(src, "arp.retries", c.arp.retries, kArpRetries);
  if (c.arp.stale_ms < c.arp.reachable_ms) {
    src.fail_at(
        "arp.stale_ms",
        std::to_string(c.arp.stale_ms) + " is below arp.reachable_ms " + std::to_string(c.arp.reachable_ms),
        "at least arp.reachable_ms (" + std::to_string(c.arp.reachable_ms) + ")");
  }
  check_int(src, "ipv4.default_ttl", c.ipv4.default_ttl, kTtl);
  check_int(src, "ipv4.reassembly_timeout_ms", c.ipv4.reassembly_timeout_ms, kReasmTimeout);
  check_int(src, "ipv4.reassembly_max_bytes", c.ipv4.reassembly_max_bytes, kReasmBytes);
  check_int(src, "ipv4.reassembly_max_datagrams", c.ipv4.reassembly_max_datagrams, kReasmDatagrams);
  check_int(src, "ipv4.pmtu_min", c.ipv4.pmtu_min, kPmtuMin);
  check_int(src, "icmp.error_rate", c.icmp.error_rate, kIcmpRate);
  check_int(src, "icmp.echo_rate", c.icmp.echo_rate, kIcmpRateOrOff);
  check_int(src, "icmp.dest_error_rate", c.icmp.dest_error_rate, kIcmpRateOrOff);
  check_int(src, "icmp.dest_error_burst", c.icmp.dest_error_burst, kIcmpBurst);
  check_int(src, "arp.lock_time_ms", c.arp.lock_time_ms, kArpLock);
  check_int(src, "udp.rx_queue_len", c.udp.rx_queue_len, kUdpQueue);
  if (std::find(std::begin(kIdlePolicies), std::end(kIdlePolicies), c.cores.idle) ==
      std::end(kIdlePolicies)) {
    src.fail_at("cores.idle", quoted(c.cores.idle) + " is not an idle policy", "busy or adaptive");
  }
  check_int(src, "cores.idle_polls", c.cores.idle_polls, kIdlePolls);
  check_int(src, "cores.sleep_us", c.cores.sleep_us, kSleepUs);
  check_int(src, "cores.steer_ring", c.cores.steer_ring, kSteerRing);
  check_int(src, "cores.mailbox", c.cores.mailbox, kMailbox);
  check_int(src, "cores.drain_ms", c.cores.drain_ms, kDrainMs);
  validate_tcp(src, c.tcp);
  check_int(src, "echo.udp_port", c.echo.udp_port, kL4Port);
  check_int(src, "echo.tcp_port", c.echo.tcp_port, kL4Port);
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

// Shortest text that reads back as the same double.
std::string format_double(double v) {
  char buf[64];
  const auto [end, ec] = std::to_chars(buf, buf + sizeof(buf), v);
  if (ec != std::errc()) return "0";
  return std::string(buf, end);
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
    StackConfig cfg = parse_root(src, root, root_pos);
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
    out << YAML::BeginMap;
    out << YAML::Key << "log_level" << YAML::Value << c.log_level;
    out << YAML::Key << "lcores" << YAML::Value << YAML::DoubleQuoted << c.lcores;
    out << YAML::Key << "eal" << YAML::Value << YAML::Flow << YAML::BeginSeq;
    for (const auto& a : c.eal_args) out << YAML::DoubleQuoted << a;
    out << YAML::EndSeq;

    out << YAML::Key << "mempool" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "mbufs" << YAML::Value << c.mempool.mbufs;
    out << YAML::Key << "cache" << YAML::Value << c.mempool.cache;
    out << YAML::Key << "data_room" << YAML::Value << c.mempool.data_room;
    out << YAML::Key << "rx_reserve" << YAML::Value << c.mempool.rx_reserve;
    out << YAML::EndMap;

    out << YAML::Key << "ports" << YAML::Value << YAML::BeginSeq;
    for (const auto& p : c.ports) {
      out << YAML::BeginMap;
      out << YAML::Key << "name" << YAML::Value << p.name;
      out << YAML::Key << "devargs" << YAML::Value << YAML::DoubleQuoted << p.devargs;
      out << YAML::Key << "ip" << YAML::Value << p.address.to_string();
      if (p.mac) out << YAML::Key << "mac" << YAML::Value << YAML::DoubleQuoted << p.mac->to_string();
      out << YAML::Key << "mtu" << YAML::Value << p.mtu;
      out << YAML::Key << "rx_desc" << YAML::Value << p.rx_desc;
      out << YAML::Key << "tx_desc" << YAML::Value << p.tx_desc;
      out << YAML::Key << "queues" << YAML::Value << p.queues;
      out << YAML::Key << "capture" << YAML::Value << YAML::DoubleQuoted << p.capture;
      out << YAML::Key << "checksum" << YAML::Value << p.checksum;
      out << YAML::Key << "gso" << YAML::Value << p.gso;
      out << YAML::Key << "gro" << YAML::Value << p.gro;
      out << YAML::Key << "fault" << YAML::Value << YAML::BeginMap;
      out << YAML::Key << "seed" << YAML::Value << p.fault.seed;
      out << YAML::Key << "loss" << YAML::Value << format_double(p.fault.loss);
      out << YAML::Key << "duplicate" << YAML::Value << format_double(p.fault.duplicate);
      out << YAML::Key << "reorder" << YAML::Value << format_double(p.fault.reorder);
      out << YAML::Key << "corrupt" << YAML::Value << format_double(p.fault.corrupt);
      out << YAML::Key << "delay_us" << YAML::Value << p.fault.delay_us;
      out << YAML::EndMap;
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;

    out << YAML::Key << "routes" << YAML::Value;
    if (c.routes.empty()) out << YAML::Flow;
    out << YAML::BeginSeq;
    for (const auto& r : c.routes) {
      out << YAML::BeginMap;
      out << YAML::Key << "prefix" << YAML::Value << r.prefix.to_string();
      if (!r.gateway.is_unspecified()) out << YAML::Key << "gateway" << YAML::Value << r.gateway.to_string();
      out << YAML::Key << "port" << YAML::Value << YAML::DoubleQuoted << r.port;
      if (r.mac) out << YAML::Key << "mac" << YAML::Value << YAML::DoubleQuoted << r.mac->to_string();
      out << YAML::EndMap;
    }
    out << YAML::EndSeq;

    out << YAML::Key << "arp" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "table_size" << YAML::Value << c.arp.table_size;
    out << YAML::Key << "queue_len" << YAML::Value << c.arp.queue_len;
    out << YAML::Key << "reachable_ms" << YAML::Value << c.arp.reachable_ms;
    out << YAML::Key << "stale_ms" << YAML::Value << c.arp.stale_ms;
    out << YAML::Key << "retry_ms" << YAML::Value << c.arp.retry_ms;
    out << YAML::Key << "retries" << YAML::Value << c.arp.retries;
    out << YAML::Key << "gratuitous" << YAML::Value << c.arp.gratuitous;
    out << YAML::Key << "lock_time_ms" << YAML::Value << c.arp.lock_time_ms;
    out << YAML::EndMap;

    out << YAML::Key << "ipv4" << YAML::Value << YAML::BeginMap;
    // uint8_t would be emitted as a character; widen it.
    out << YAML::Key << "default_ttl" << YAML::Value << static_cast<unsigned>(c.ipv4.default_ttl);
    out << YAML::Key << "reassembly_timeout_ms" << YAML::Value << c.ipv4.reassembly_timeout_ms;
    out << YAML::Key << "reassembly_max_bytes" << YAML::Value << c.ipv4.reassembly_max_bytes;
    out << YAML::Key << "reassembly_max_datagrams" << YAML::Value << c.ipv4.reassembly_max_datagrams;
    out << YAML::Key << "pmtu_min" << YAML::Value << c.ipv4.pmtu_min;
    out << YAML::EndMap;

    out << YAML::Key << "icmp" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "echo" << YAML::Value << c.icmp.echo;
    out << YAML::Key << "error_rate" << YAML::Value << c.icmp.error_rate;
    out << YAML::Key << "echo_rate" << YAML::Value << c.icmp.echo_rate;
    out << YAML::Key << "dest_error_rate" << YAML::Value << c.icmp.dest_error_rate;
    out << YAML::Key << "dest_error_burst" << YAML::Value << c.icmp.dest_error_burst;
    out << YAML::EndMap;

    out << YAML::Key << "cores" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "idle" << YAML::Value << c.cores.idle;
    out << YAML::Key << "idle_polls" << YAML::Value << c.cores.idle_polls;
    out << YAML::Key << "sleep_us" << YAML::Value << c.cores.sleep_us;
    out << YAML::Key << "steer_ring" << YAML::Value << c.cores.steer_ring;
    out << YAML::Key << "mailbox" << YAML::Value << c.cores.mailbox;
    out << YAML::Key << "drain_ms" << YAML::Value << c.cores.drain_ms;
    out << YAML::EndMap;

    out << YAML::Key << "udp" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "rx_queue_len" << YAML::Value << c.udp.rx_queue_len;
    out << YAML::EndMap;

    const TcpConfig& t = c.tcp;
    out << YAML::Key << "tcp" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "congestion" << YAML::Value << YAML::DoubleQuoted << t.congestion;
    out << YAML::Key << "initial_window" << YAML::Value << t.initial_window;
    out << YAML::Key << "delayed_ack_ms" << YAML::Value << t.delayed_ack_ms;
    out << YAML::Key << "rto_min_ms" << YAML::Value << t.rto_min_ms;
    out << YAML::Key << "rto_max_ms" << YAML::Value << t.rto_max_ms;
    out << YAML::Key << "rto_initial_ms" << YAML::Value << t.rto_initial_ms;
    out << YAML::Key << "msl_ms" << YAML::Value << t.msl_ms;
    out << YAML::Key << "max_connections" << YAML::Value << t.max_connections;
    out << YAML::Key << "max_time_wait" << YAML::Value << t.max_time_wait;
    out << YAML::Key << "backlog" << YAML::Value << t.backlog;
    out << YAML::Key << "syncookies" << YAML::Value << t.syncookies;
    out << YAML::Key << "timestamps" << YAML::Value << t.timestamps;
    out << YAML::Key << "sack" << YAML::Value << t.sack;
    out << YAML::Key << "window_scaling" << YAML::Value << t.window_scaling;
    out << YAML::Key << "send_buffer" << YAML::Value << t.send_buffer;
    out << YAML::Key << "recv_buffer" << YAML::Value << t.recv_buffer;
    out << YAML::Key << "nodelay" << YAML::Value << t.nodelay;
    out << YAML::Key << "keepalive" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "enabled" << YAML::Value << t.keepalive.enabled;
    out << YAML::Key << "idle_s" << YAML::Value << t.keepalive.idle_s;
    out << YAML::Key << "interval_s" << YAML::Value << t.keepalive.interval_s;
    out << YAML::Key << "count" << YAML::Value << t.keepalive.count;
    out << YAML::EndMap;
    out << YAML::Key << "max_retries" << YAML::Value << t.max_retries;
    out << YAML::Key << "syn_retries" << YAML::Value << t.syn_retries;
    out << YAML::Key << "fin_wait_2_s" << YAML::Value << t.fin_wait_2_s;
    out << YAML::Key << "ooo_nodes" << YAML::Value << t.ooo_nodes;
    out << YAML::Key << "memory_limit_kb" << YAML::Value << t.memory_limit_kb;
    out << YAML::Key << "challenge_ack_limit" << YAML::Value << t.challenge_ack_limit;
    out << YAML::Key << "challenge_ack_interval_ms" << YAML::Value << t.challenge_ack_interval_ms;
    out << YAML::Key << "recovery" << YAML::Value << YAML::DoubleQuoted << t.recovery;
    out << YAML::Key << "limited_transmit" << YAML::Value << t.limited_transmit;
    out << YAML::Key << "dsack" << YAML::Value << t.dsack;
    out << YAML::Key << "undo" << YAML::Value << t.undo;
    out << YAML::Key << "hystart" << YAML::Value << t.hystart;
    out << YAML::Key << "abc_limit" << YAML::Value << t.abc_limit;
    out << YAML::Key << "idle_restart" << YAML::Value << t.idle_restart;
    out << YAML::Key << "quick_acks" << YAML::Value << t.quick_acks;
    out << YAML::Key << "ecn" << YAML::Value << YAML::DoubleQuoted << t.ecn;
    out << YAML::Key << "user_timeout_ms" << YAML::Value << t.user_timeout_ms;
    out << YAML::Key << "notsent_lowat" << YAML::Value << t.notsent_lowat;
    out << YAML::Key << "fastopen_key_rotate_s" << YAML::Value << t.fastopen_key_rotate_s;
    out << YAML::Key << "fastopen_cache" << YAML::Value << t.fastopen_cache;
    out << YAML::Key << "fastopen_blackhole_s" << YAML::Value << t.fastopen_blackhole_s;
    out << YAML::EndMap;

    out << YAML::Key << "echo" << YAML::Value << YAML::BeginMap;
    out << YAML::Key << "udp_port" << YAML::Value << c.echo.udp_port;
    out << YAML::Key << "tcp_port" << YAML::Value << c.echo.tcp_port;
    out << YAML::EndMap;

    out << YAML::EndMap;
    if (!out.good()) return "# to_yaml failed: " + out.GetLastError() + "\n";
    std::string s = out.c_str();
    s += '\n';
    return s;
  } catch (const std::exception& e) {
    return std::string("# to_yaml failed: ") + e.what() + "\n";
  }
}

}  // namespace tern::config
