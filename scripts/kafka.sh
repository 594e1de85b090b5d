#!/usr/bin/env bash
# Runs a throwaway single-node Apache Kafka (KRaft, combined broker+controller)
# on 127.0.0.1 for tests. Jars come from Maven Central via mvn, cached outside git.
#
#   scripts/kafka.sh fetch                     download broker jars (idempotent)
#   scripts/kafka.sh start   DIR               start (or reuse) a broker; prints host:port
#   scripts/kafka.sh stop    DIR               SIGTERM, SIGKILL after 30 s
#   scripts/kafka.sh restart DIR               stop + start, same ports and data
#   scripts/kafka.sh fresh   DIR               stop, delete DIR's cluster, start a new one
#   scripts/kafka.sh topic   DIR NAME PARTS    create a topic (replication factor 1)
#   scripts/kafka.sh transaction DIR ID        the coordinator's view of transactional id ID:
#                                              "<state> <partitions,...>" (TransactionsCommand)
#
# DIR holds server.properties, data/, server.log (log4j), broker.log (stdout/stderr),
# broker.pid, heap.txt (the -Xmx a restart reuses) and bootstrap.txt.
# `rm -rf DIR` after stop for a fresh cluster.
# A second listener, SASL_PLAINTEXT with SCRAM-SHA-256, is at sasl_bootstrap.txt;
# its one user is kactor-test, password kactor-test-secret (a throwaway for tests).
# A third, SSL, is at ssl_bootstrap.txt: its certificate (for 127.0.0.1 and
# localhost) is signed by a throwaway CA made with openssl, DIR/tls/ca.pem.
# Kafka 4.x dropped protocol versions librdkafka 2.0.2 needs: stay on 3.x.
set -euo pipefail

KAFKA_VERSION=${KACTOR_KAFKA_VERSION:-3.9.1}
SLF4J_VERSION=1.7.36
RELOAD4J_VERSION=1.2.25
CACHE=${KACTOR_CACHE_DIR:-$HOME/.cache/kactor}/kafka-$KAFKA_VERSION
LIB=$CACHE/lib
READY_TIMEOUT_S=90
# shellcheck source=scripts/maven_jars.sh
source "$(dirname "$0")/maven_jars.sh"
STOP_TIMEOUT_S=30

die() { echo "kafka.sh: $*" >&2; exit 1; }
usage() { sed -n '5,12s/^# \{0,1\}//p' "$0" >&2; exit 2; }

fetch() {
  [[ -f $LIB/.complete ]] && return 0
  mkdir -p "$CACHE"
  # Serialise concurrent fetches; the subshell keeps the lock fd away from the broker.
  (
    flock 9
    [[ -f $LIB/.complete ]] && exit 0   # another process fetched meanwhile
    maven_jars "$LIB" "Apache Kafka $KAFKA_VERSION jars" "
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>$KAFKA_VERSION</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>$KAFKA_VERSION</version>
      <exclusions><exclusion><groupId>org.apache.kafka</groupId><artifactId>connect-runtime</artifactId></exclusion></exclusions>
    </dependency>
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-reload4j</artifactId><version>$SLF4J_VERSION</version></dependency>
    <dependency><groupId>ch.qos.reload4j</groupId><artifactId>reload4j</artifactId><version>$RELOAD4J_VERSION</version></dependency>" ||
      die "mvn could not fetch org.apache.kafka:kafka_2.13:$KAFKA_VERSION"
  ) 9>"$CACHE/.fetch.lock"
}

# Value of KEY in DIR/server.properties.
prop() { sed -n "s/^$1=//p" "$DIR/server.properties"; }

running() {
  local pid
  [[ -f $DIR/broker.pid ]] || return 1
  pid=$(<"$DIR/broker.pid")
  # Guard against pid reuse: the process must be our broker for this DIR.
  [[ -r /proc/$pid/cmdline ]] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -qF "$DIR/server.properties"
}

# A port on 127.0.0.1 nobody listens on, below the Linux ephemeral range.
free_port() {
  local p
  for _ in {1..100}; do
    p=$((20000 + RANDOM % 12000))
    [[ $p == "${1:-}" ]] && continue
    (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null || { echo "$p"; return 0; }
  done
  die "no free port found on 127.0.0.1"
}

# 22-char base64url Kafka cluster id; must not start with '-' (it is a CLI argument).
cluster_id() {
  local id
  until id=$(head -c 16 /dev/urandom | base64 | tr '+/' '-_' | cut -c1-22); [[ $id != -* ]]; do :; done
  echo "$id"
}

# A throwaway CA, and a key and certificate for 127.0.0.1/localhost it signs,
# in DIR/tls; server.pem is Kafka's PEM key store (PKCS#8 key, then the chain).
make_certs() {
  local d=$DIR/tls
  mkdir -p "$d"
  openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=kactor-test-ca \
    -keyout "$d/ca.key" -out "$d/ca.pem" 2>/dev/null
  openssl req -newkey rsa:2048 -nodes -subj /CN=localhost \
    -keyout "$d/server.key" -out "$d/server.csr" 2>/dev/null
  printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$d/server.ext"
  openssl x509 -req -in "$d/server.csr" -CA "$d/ca.pem" -CAkey "$d/ca.key" -CAcreateserial \
    -days 30 -extfile "$d/server.ext" -out "$d/server.crt" 2>/dev/null
  openssl pkcs8 -topk8 -nocrypt -in "$d/server.key" -out "$d/server.p8"
  cat "$d/server.p8" "$d/server.crt" >"$d/server.pem"
}

write_config() {
  local port cport sport tport
  port=$(free_port)
  cport=$(free_port "$port")
  until sport=$(free_port "$port"); [[ $sport != "$cport" ]]; do :; done
  until tport=$(free_port "$port"); [[ $tport != "$cport" && $tport != "$sport" ]]; do :; done
  make_certs
  cat >"$DIR/server.properties" <<EOF
process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:$cport
listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport,CONTROLLER://127.0.0.1:$cport
advertised.listeners=PLAINTEXT://127.0.0.1:$port,SASL_PLAINTEXT://127.0.0.1:$sport,SSL://127.0.0.1:$tport
controller.listener.names=CONTROLLER
inter.broker.listener.name=PLAINTEXT
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,SASL_PLAINTEXT:SASL_PLAINTEXT,SSL:SSL,CONTROLLER:PLAINTEXT
listener.name.ssl.ssl.keystore.type=PEM
listener.name.ssl.ssl.keystore.location=$DIR/tls/server.pem
sasl.enabled.mechanisms=SCRAM-SHA-256
listener.name.sasl_plaintext.scram-sha-256.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;
log.dirs=$DIR/data
num.partitions=1
default.replication.factor=1
auto.create.topics.enable=false
offsets.topic.replication.factor=1
offsets.topic.num.partitions=4
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=4
transaction.abort.timed.out.transaction.cleanup.interval.ms=1000
group.initial.rebalance.delay.ms=0
# Short broker session: a restart after SIGKILL waits for the old session to expire.
broker.heartbeat.interval.ms=500
broker.session.timeout.ms=3000
# Whatever no ACL mentions is allowed: a test denies one topic to check
# what clients that may not write it do.
authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer
allow.everyone.if.no.acl.found=true
num.network.threads=2
num.io.threads=4
log.cleaner.dedupe.buffer.size=8388608
EOF
  cat >"$DIR/log4j.properties" <<EOF
log4j.rootLogger=INFO, file
log4j.appender.file=org.apache.log4j.FileAppender
log4j.appender.file.File=$DIR/server.log
log4j.appender.file.layout=org.apache.log4j.PatternLayout
log4j.appender.file.layout.ConversionPattern=[%d] %p %m (%c)%n
log4j.logger.kafka.request.logger=WARN
log4j.logger.state.change.logger=WARN
log4j.logger.kafka.log.LogCleaner=WARN
log4j.logger.kafka.authorizer.logger=WARN
EOF
  cat >"$DIR/tools-log4j.properties" <<EOF
log4j.rootLogger=WARN, stderr
log4j.appender.stderr=org.apache.log4j.ConsoleAppender
log4j.appender.stderr.Target=System.err
log4j.appender.stderr.layout=org.apache.log4j.PatternLayout
log4j.appender.stderr.layout.ConversionPattern=[%d] %p %m (%c)%n
EOF
}

tool() { java -Xmx256m -Dlog4j.configuration="file:$DIR/tools-log4j.properties" -cp "$LIB/*" "$@"; }

# True once the broker answers an ApiVersions v0 request (api_key 18, correlation id 1).
api_versions_ok() {
  local resp
  resp=$(
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf '\x00\x00\x00\x0a\x00\x12\x00\x00\x00\x00\x00\x01\x00\x00' >&3
    timeout 2 head -c 10 <&3 | od -An -tx1 | tr -d ' \n'
  ) 2>/dev/null || return 1
  [[ $resp == ????????000000010000 ]]   # size, correlation id 1, error_code 0
}

start() {
  if running; then cat "$DIR/bootstrap.txt"; return 0; fi
  command -v java >/dev/null || die "java not found (run scripts/install-deps.sh)"
  fetch
  [[ -f $DIR/server.properties ]] || write_config   # reuse ports and data on restart
  if [[ ! -f $DIR/data/meta.properties ]]; then
    tool kafka.tools.StorageTool format --ignore-formatted -t "$(cluster_id)" \
      --add-scram 'SCRAM-SHA-256=[name=kactor-test,password=kactor-test-secret]' \
      -c "$DIR/server.properties" >"$DIR/format.log" 2>&1 ||
      { cat "$DIR/format.log" >&2; die "formatting storage in $DIR/data failed"; }
  fi
  local port logpos pid
  port=$(prop listeners | sed 's/^PLAINTEXT:\/\/127\.0\.0\.1:\([0-9]*\).*/\1/')
  logpos=$(($(stat -c %s "$DIR/server.log" 2>/dev/null || echo 0) + 1))
  # KACTOR_KAFKA_HEAP: the broker's -Xmx (default 512m; partition_scaling_bench
  # with thousands of partitions wants 2g). A restart without it keeps the
  # heap the broker had.
  local heap=${KACTOR_KAFKA_HEAP:-$(cat "$DIR/heap.txt" 2>/dev/null || echo 512m)}
  echo "$heap" >"$DIR/heap.txt"
  nohup java "-Xmx$heap" -Xms256m -XX:+UseSerialGC -Djava.awt.headless=true \
    -Dlog4j.configuration="file:$DIR/log4j.properties" \
    -cp "$LIB/*" kafka.Kafka "$DIR/server.properties" >>"$DIR/broker.log" 2>&1 </dev/null &
  pid=$!
  echo "$pid" >"$DIR/broker.pid"
  local deadline=$((SECONDS + READY_TIMEOUT_S))
  # grep -q exits at the first match; under pipefail, tail then dying of
  # SIGPIPE (more than a pipe's worth of log left) must not read as "not yet".
  until { tail -c "+$logpos" "$DIR/server.log" 2>/dev/null || true; } |
      grep -q 'Kafka Server started' && api_versions_ok "$port"; do
    if ! kill -0 "$pid" 2>/dev/null || ((SECONDS >= deadline)); then
      kill -KILL "$pid" 2>/dev/null || true
      rm -f "$DIR/broker.pid"
      tail -n 20 "$DIR/broker.log" >&2
      # First errors of this run from the log4j file, else its last lines.
      { tail -c "+$logpos" "$DIR/server.log" 2>/dev/null || true; } |
        grep -m 5 -A 3 -E '^\[[^]]*\] (ERROR|FATAL)' >&2 ||
        tail -n 20 "$DIR/server.log" >&2 || true
      die "broker in $DIR did not become ready (see $DIR/server.log)"
    fi
    sleep 0.2
  done
  echo "127.0.0.1:$port" >"$DIR/bootstrap.txt"
  prop listeners | sed -n 's/.*SASL_PLAINTEXT:\/\/\(127\.0\.0\.1:[0-9]*\).*/\1/p' >"$DIR/sasl_bootstrap.txt"
  prop listeners | sed -n 's/.*,SSL:\/\/\(127\.0\.0\.1:[0-9]*\).*/\1/p' >"$DIR/ssl_bootstrap.txt"
  cat "$DIR/bootstrap.txt"
}

stop() {
  if ! running; then rm -f "$DIR/broker.pid"; return 0; fi
  local pid i
  pid=$(<"$DIR/broker.pid")
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < STOP_TIMEOUT_S * 5; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.2
  done
  if kill -0 "$pid" 2>/dev/null; then
    echo "kafka.sh: broker $pid did not exit in ${STOP_TIMEOUT_S}s, sending SIGKILL" >&2
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
  rm -f "$DIR/broker.pid"
}

topic() {
  running || die "no broker running in $DIR"
  tool org.apache.kafka.tools.TopicCommand --bootstrap-server "$(<"$DIR/bootstrap.txt")" \
    --create --if-not-exists --topic "$1" --partitions "$2" --replication-factor 1
}

# One line: the transaction state and its partitions ("-" if none).
transaction() {
  local out
  if ! out=$(tool org.apache.kafka.tools.TransactionsCommand \
    --bootstrap-server "$(<"$DIR/bootstrap.txt")" describe --transactional-id "$1" 2>&1); then
    # An id that never initialised transactions has no state yet.
    [[ $out == *"could not be found"* ]] && { echo "None -"; return 0; }
    echo "$out" >&2
    return 1
  fi
  echo "$out" |
    awk 'NR == 1 { for (i = 1; i <= NF; i++) col[$i] = i; next }
         NR == 2 { tp = col["TopicPartitions"] ? $col["TopicPartitions"] : "";
                   print $col["TransactionState"], (tp == "" ? "-" : tp) }'
}

cmd=${1:-}
case $cmd in
  fetch) fetch ;;
  start | stop | restart | fresh | topic | transaction)
    [[ $# -ge 2 ]] || usage
    [[ $cmd == stop && ! -d $2 ]] && exit 0
    mkdir -p "$2"
    DIR=$(cd "$2" && pwd)
    case $cmd in
      start) start ;;
      stop) stop ;;
      restart) stop; start ;;
      fresh)
        stop
        rm -rf "$DIR/data" "$DIR/tls" "$DIR"/{server.properties,log4j.properties,tools-log4j.properties} \
          "$DIR"/{server.log,broker.log,format.log,bootstrap.txt,sasl_bootstrap.txt,ssl_bootstrap.txt} \
          "$DIR/heap.txt"
        start
        ;;
      topic) [[ $# -eq 4 && $4 =~ ^[0-9]+$ ]] || usage; topic "$3" "$4" ;;
      transaction) [[ $# -eq 3 ]] || usage; transaction "$3" ;;
    esac
    ;;
  *) usage ;;
esac
