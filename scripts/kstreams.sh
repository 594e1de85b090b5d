#!/usr/bin/env bash
# The Kafka Streams baseline for partition_scaling_bench.
#
#   scripts/kstreams.sh build        fetch Kafka Streams' jars (Maven Central),
#                                    compile benchmarks/kstreams/Passthrough.java
#   scripts/kstreams.sh run BOOTSTRAP INPUT OUTPUT APPLICATION_ID [THREADS]
#                                    run the copy until SIGTERM (builds first)
#
# Jars and classes are cached outside git, in ~/.cache/kactor.
set -euo pipefail

KSTREAMS_VERSION=4.1.1
SLF4J_VERSION=1.7.36
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KACTOR_CACHE_DIR:-$HOME/.cache/kactor}/kafka-streams-$KSTREAMS_VERSION

die() { echo "kstreams.sh: $*" >&2; exit 1; }
# shellcheck source=scripts/maven_jars.sh
source "$ROOT/scripts/maven_jars.sh"

build() {
  local src=$ROOT/benchmarks/kstreams/Passthrough.java
  if [[ ! -f $CACHE/lib/.complete ]]; then
    maven_jars "$CACHE/lib" "Kafka Streams $KSTREAMS_VERSION jars" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-streams</artifactId><version>$KSTREAMS_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>$SLF4J_VERSION</version></dependency>" ||
      die "mvn could not fetch org.apache.kafka:kafka-streams:$KSTREAMS_VERSION"
  fi
  if [[ ! -f $CACHE/classes/Passthrough.class || $src -nt $CACHE/classes/Passthrough.class ]]; then
    mkdir -p "$CACHE/classes"
    javac -d "$CACHE/classes" -cp "$CACHE/lib/*" "$src"
  fi
}

case ${1:-} in
  build) build ;;
  run)
    [[ $# -ge 5 ]] || die "usage: kstreams.sh run BOOTSTRAP INPUT OUTPUT APPLICATION_ID [THREADS]"
    build
    shift
    exec java -Xmx1g -cp "$CACHE/classes:$CACHE/lib/*" Passthrough "$@"
    ;;
  *) sed -n '4,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
