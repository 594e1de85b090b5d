#!/usr/bin/env bash
# The JVM requester of spring_request_reply_test: Spring Kafka's
# ReplyingKafkaTemplate calling a kactor agent.
#
#   scripts/spring_requester.sh build     fetch Spring Kafka's jars (Maven
#                                         Central), compile tests/spring_requester
#   scripts/spring_requester.sh run BROKERS REQUEST_TOPIC REPLY_TOPIC N
#                                         send N requests, wait for each reply (builds first)
#
# Jars and classes are cached outside git, in ~/.cache/kactor.
set -euo pipefail

SPRING_KAFKA_VERSION=4.1.2
SLF4J_VERSION=1.7.36
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CACHE=${KACTOR_CACHE_DIR:-$HOME/.cache/kactor}/spring-kafka-$SPRING_KAFKA_VERSION

die() { echo "spring_requester.sh: $*" >&2; exit 1; }
# shellcheck source=scripts/maven_jars.sh
source "$ROOT/scripts/maven_jars.sh"

build() {
  local src=$ROOT/tests/spring_requester/SpringRequester.java
  if [[ ! -f $CACHE/lib/.complete ]]; then
    maven_jars "$CACHE/lib" "Spring Kafka $SPRING_KAFKA_VERSION jars" "
    <dependency><groupId>org.springframework.kafka</groupId><artifactId>spring-kafka</artifactId><version>$SPRING_KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-nop</artifactId><version>$SLF4J_VERSION</version></dependency>" ||
      die "mvn could not fetch org.springframework.kafka:spring-kafka:$SPRING_KAFKA_VERSION"
  fi
  if [[ ! -f $CACHE/classes/SpringRequester.class || $src -nt $CACHE/classes/SpringRequester.class ]]; then
    mkdir -p "$CACHE/classes"
    javac -d "$CACHE/classes" -cp "$CACHE/lib/*" "$src"
  fi
}

case ${1:-} in
  build) build ;;
  run)
    [[ $# -eq 5 ]] || die "usage: spring_requester.sh run BROKERS REQUEST_TOPIC REPLY_TOPIC N"
    build
    shift
    exec java -cp "$CACHE/classes:$CACHE/lib/*" SpringRequester "$@"
    ;;
  *) die "usage: spring_requester.sh build | run BROKERS REQUEST_TOPIC REPLY_TOPIC N" ;;
esac
