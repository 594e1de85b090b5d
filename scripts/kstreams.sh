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
CACHE=${KACTOR_CACHE:-$HOME/.cache/kactor}/kafka-streams-$KSTREAMS_VERSION

die() { echo "kstreams.sh: $*" >&2; exit 1; }

build() {
  local src=$ROOT/benchmarks/kstreams/Passthrough.java
  if [[ ! -f $CACHE/lib/.complete ]]; then
    command -v mvn >/dev/null || die "mvn not found (run scripts/install-deps.sh)"
    mkdir -p "$CACHE"
    local work
    work=$(mktemp -d "$CACHE/.fetch.XXXXXX")
    cat >"$work/pom.xml" <<POM
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>kactor</groupId><artifactId>kstreams-baseline</artifactId><version>1</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-streams</artifactId><version>$KSTREAMS_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>$SLF4J_VERSION</version></dependency>
  </dependencies>
</project>
POM
    echo "kstreams.sh: fetching Kafka Streams $KSTREAMS_VERSION jars into $CACHE/lib" >&2
    if ! mvn -q -B -Dstyle.color=never -f "$work/pom.xml" \
        org.apache.maven.plugins:maven-dependency-plugin:3.6.1:copy-dependencies \
        -DincludeScope=runtime -DoutputDirectory="$work/lib" >"$work/mvn.log" 2>&1; then
      cat "$work/mvn.log" >&2
      rm -rf "$work"
      die "mvn could not fetch org.apache.kafka:kafka-streams:$KSTREAMS_VERSION"
    fi
    touch "$work/lib/.complete"
    rm -rf "$CACHE/lib"
    mv "$work/lib" "$CACHE/lib"
    rm -rf "$work"
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
  *) sed -n '3,9s/^# \{0,1\}//p' "$0" >&2; exit 2 ;;
esac
