#pragma once
// The operator's view of a local state store, as `kactor store dump` runs it.

#include <cstddef>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <string_view>

namespace kactor::detail {

/// What `kactor store dump` reads: `<state_dir>/<group>/<store>/<partition>`.
struct store_dump_options {
  std::string state_dir;
  std::string group;
  std::string store;
  /// One partition; nullopt: every partition directory present, in numeric order.
  std::optional<std::int32_t> partition;
  bool json = false;
};

/// How much of a value the text output shows.
inline constexpr std::size_t dump_value_bytes = 200;

/// `bytes` as printable text: printable ASCII and valid UTF-8 characters
/// (U+00A0 and above) as they are, a backslash as `\\`, every other byte
/// (control characters, bytes that are not UTF-8) as `\xNN` with two lower
/// case hex digits. The result is valid UTF-8, and the bytes can be recovered
/// from it.
std::string escape_bytes(std::string_view bytes);

/// Prints, read-only, what the store's partitions hold to `out`: text (a
/// header per partition, `<store> partition <p>: <n> key(s), checkpoint
/// <offset|none (reason)>`, then `key → value` per key in byte order, both
/// escaped by `escape_bytes`, a value longer than `dump_value_bytes` cut at
/// a character boundary and followed by `...(<size> bytes)`), or with `json`
/// one document `{"group", "store", "partitions": [{"partition", "checkpoint"
/// (offset or null, and then "checkpoint_problem" saying why), "keys":
/// [{"key", "value"}]}]}` with keys and values whole, escaped by
/// `escape_bytes`. Each DB is opened by `rocks_store::open_read_only`, so
/// this works while the owning process runs, shows only what is flushed to
/// SST files (everything up to the last checkpoint or clean close), and
/// creates or changes nothing under `state_dir`.
///
/// Returns the exit code: 0; 2 when the state dir, group, store or partition
/// does not exist (a message naming the path on `err`, as for the command's
/// other usage errors); 1 when a DB cannot be opened or read (RocksDB's
/// reason on `err`). Text already printed for earlier partitions stays on
/// `out`; JSON is printed only when every partition was read.
int run_store_dump(const store_dump_options& o, std::ostream& out, std::ostream& err);

}  // namespace kactor::detail
