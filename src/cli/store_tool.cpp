// `kactor store dump`: a state store's partitions, read through RocksDB secondary instances.
#include "src/cli/store_tool.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <system_error>
#include <vector>

#include <nlohmann/json.hpp>

#include "state/checkpoint.hpp"
#include "state/rocks_store.hpp"
#include "state/store_memory.hpp"

namespace kactor::detail {

namespace {

namespace fs = std::filesystem;

/// A directory the options name does not exist: a usage error (exit code 2).
struct missing_path : std::invalid_argument {
  using std::invalid_argument::invalid_argument;
};

/// The length of the UTF-8 character at `s[i]` when `escape_bytes` keeps it
/// as it is: well formed, shortest form, U+00A0 to U+10FFFF, no surrogate.
/// 0 otherwise (ASCII included: the caller handles it).
std::size_t kept_utf8(std::string_view s, std::size_t i) {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(s[k]); };
  const unsigned char lead = byte(i);
  std::size_t n = 0;
  std::uint32_t cp = 0;
  if (lead >= 0xc2 && lead <= 0xdf) {
    n = 2;
    cp = lead & 0x1fu;
  } else if (lead >= 0xe0 && lead <= 0xef) {
    n = 3;
    cp = lead & 0x0fu;
  } else if (lead >= 0xf0 && lead <= 0xf4) {
    n = 4;
    cp = lead & 0x07u;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (std::size_t k = 1; k < n; ++k) {
    if ((byte(i + k) & 0xc0u) != 0x80u) return 0;
    cp = (cp << 6) | (byte(i + k) & 0x3fu);
  }
  constexpr std::uint32_t smallest[] = {0, 0, 0xa0, 0x800, 0x10000};
  if (cp < smallest[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
  return n;
}

/// A value for the text output: whole, or its first `dump_value_bytes` (fewer
/// when that would split a character) and the full size.
std::string preview(std::string_view value) {
  if (value.size() <= dump_value_bytes) return escape_bytes(value);
  std::size_t cut = dump_value_bytes;
  while (cut + 3 > dump_value_bytes && (static_cast<unsigned char>(value[cut]) & 0xc0u) == 0x80u)
    --cut;
  return escape_bytes(value.substr(0, cut)) + "...(" + std::to_string(value.size()) + " bytes)";
}

/// Throws `missing_path` unless `path` is a directory; `what` says what it is.
void require_dir(const fs::path& path, const std::string& what) {
  std::error_code ec;
  const auto status = fs::status(path, ec);
  if (status.type() == fs::file_type::not_found)
    throw missing_path(what + path.string() + " does not exist");
  if (ec) throw std::runtime_error("cannot read " + path.string() + ": " + ec.message());
  if (!fs::is_directory(status)) throw missing_path(what + path.string() + " is not a directory");
}

/// The partition directories in `store_dir` (named by a partition number), in numeric order.
std::vector<std::int32_t> partitions_in(const fs::path& store_dir) {
  std::vector<std::int32_t> out;
  for (const auto& entry : fs::directory_iterator(store_dir)) {
    const auto name = entry.path().filename().string();
    std::int32_t p = 0;
    const auto [end, ec] = std::from_chars(name.data(), name.data() + name.size(), p);
    if (ec == std::errc() && end == name.data() + name.size() && p >= 0 &&
        std::to_string(p) == name && entry.is_directory())
      out.push_back(p);
  }
  std::sort(out.begin(), out.end());
  return out;
}

/// Opens one partition's DB read-only and passes every key and value, in byte order, to `fn`.
void read_partition(const std::string& dir, const store_memory& memory,
                    const std::function<void(std::string_view, std::string_view)>& fn) {
  auto db = rocks_store::open_read_only(dir, memory);
  db->range({}, {}, [&](std::string_view k, std::string_view v) {
    fn(k, v);
    return true;
  });
}

void dump(const store_dump_options& o, std::ostream& out) {
  const fs::path state_dir(o.state_dir);
  const fs::path store_dir = state_dir / o.group / o.store;
  require_dir(state_dir, "state dir ");
  require_dir(state_dir / o.group, "group " + o.group + ": ");
  require_dir(store_dir, "store " + o.store + ": ");
  std::vector<std::int32_t> partitions;
  if (o.partition) {
    require_dir(store_dir / std::to_string(*o.partition),
                "partition " + std::to_string(*o.partition) + ": ");
    partitions.push_back(*o.partition);
  } else {
    partitions = partitions_in(store_dir);
  }

  const store_memory memory(0);
  nlohmann::ordered_json doc{{"group", o.group}, {"store", o.store}};
  auto& parts = doc["partitions"] = nlohmann::ordered_json::array();
  if (!o.json && partitions.empty())
    out << o.store << ": no partitions in " << store_dir.string() << "\n";
  for (const auto p : partitions) {
    const auto dir = (store_dir / std::to_string(p)).string();
    const auto checkpoint = read_checkpoint(dir + ".checkpoint");
    if (o.json) {
      nlohmann::ordered_json part{{"partition", p}, {"checkpoint", nullptr}};
      if (checkpoint.offset)
        part["checkpoint"] = *checkpoint.offset;
      else
        part["checkpoint_problem"] = checkpoint.problem;
      auto& keys = part["keys"] = nlohmann::ordered_json::array();
      read_partition(dir, memory, [&](std::string_view k, std::string_view v) {
        keys.push_back({{"key", escape_bytes(k)}, {"value", escape_bytes(v)}});
      });
      parts.push_back(std::move(part));
      continue;
    }
    std::string lines;
    std::size_t count = 0;
    read_partition(dir, memory, [&](std::string_view k, std::string_view v) {
      ++count;
      lines += escape_bytes(k) + " \u2192 " + preview(v) + "\n";
    });
    out << o.store << " partition " << p << ": " << count << " key(s), checkpoint "
        << (checkpoint.offset ? std::to_string(*checkpoint.offset)
                              : "none (" + checkpoint.problem + ")")
        << "\n"
        << lines;
  }
  if (o.json) out << doc.dump() << "\n";
}

}  // namespace

std::string escape_bytes(std::string_view bytes) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size());
  for (std::size_t i = 0; i < bytes.size();) {
    const auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\\') {
      out += "\\\\";
      ++i;
    } else if (c >= 0x20 && c < 0x7f) {
      out += static_cast<char>(c);
      ++i;
    } else if (const auto n = kept_utf8(bytes, i)) {
      out += bytes.substr(i, n);
      i += n;
    } else {
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 0x0f];
      ++i;
    }
  }
  return out;
}

int run_store_dump(const store_dump_options& o, std::ostream& out, std::ostream& err) {
  try {
    dump(o, out);
    out.flush();
    return 0;
  } catch (const missing_path& e) {
    err << "kactor: " << e.what() << "\nRun with --help for more information.\n";
    return 2;
  } catch (const std::exception& e) {
    err << "kactor: " << e.what() << "\n";
    return 1;
  }
}

}  // namespace kactor::detail
