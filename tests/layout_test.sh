#!/usr/bin/env bash
# The folder map of docs/design.md, checked on every include: each folder
# includes only what its role allows. Prints every violation; fails if any.
set -euo pipefail
root=$1
cd "$root"
status=0

# forbid <folder> <extended regex of forbidden includes> <why>
forbid() {
  local dir=$1 pattern=$2 why=$3 hits
  hits=$(grep -nE "^[[:space:]]*#[[:space:]]*include[[:space:]]*[<\"]($pattern)" \
    "$dir"/*.hpp "$dir"/*.cpp 2>/dev/null || true)
  if [[ -n $hits ]]; then
    echo "layout: $dir/ $why:"
    echo "$hits" | sed 's/^/  /'
    status=1
  fi
}

forbid include/kactor 'actors/|src/|librdkafka/|rocksdb/' \
  "is the public API: no internal header, no librdkafka or RocksDB"
forbid actors 'librdkafka/|rocksdb/|state/|src/|kactor/runtime\.hpp|kactor/kactor\.hpp' \
  "holds CAF actors: Kafka only through partition_source and emit_sink"
forbid src/kafka 'caf/|actors/|state/|rocksdb/|src/group/|src/cli/|kactor/runtime\.hpp|kactor/context\.hpp' \
  "wraps librdkafka: no CAF, no actors, no coordination"
forbid state 'caf/|librdkafka/|actors/|src/' \
  "holds the stores: RocksDB only, no CAF, no Kafka"
forbid src/group 'src/cli/' "coordinates the group: the CLI builds on it, not the reverse"
forbid src/ops 'caf/|librdkafka/|rocksdb/|actors/|state/|src/kafka/|src/group/|src/cli/' \
  "serves what operators read from runtime_stats: no runtime parts"
forbid src/config 'caf/|librdkafka/|actors/|src/kafka/|src/group/|src/cli/' \
  "reads and checks the configuration: no runtime parts"

# src/*.cpp implement the public header of the same name.
for f in src/*.cpp; do
  name=$(basename "$f" .cpp)
  if [[ ! -f include/kactor/$name.hpp ]]; then
    echo "layout: $f implements no include/kactor/$name.hpp: it belongs in a role folder"
    status=1
  fi
done
for f in src/*.hpp; do
  [[ -e $f ]] || continue
  echo "layout: $f: internal headers live in a role folder (src/kafka, src/group, src/cli, actors)"
  status=1
done

if [[ $status -eq 0 ]]; then echo "layout: every folder keeps to its role"; fi
exit $status
