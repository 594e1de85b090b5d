#!/usr/bin/env bash
# A JVM service calls a kactor agent unchanged: Spring Kafka's
# ReplyingKafkaTemplate (tests/spring_requester) sends 20 requests to the
# knowledge agent of examples/knowledge_request_reply, which answers with
# ctx.reply; each reply must reach the template on the partition it named in
# kafka_replyPartition, matched by its kafka_correlationId.
#
#   spring_request_reply_test.sh KNOWLEDGE_EXE KAFKA_DIR WORK_DIR SOURCE_DIR
set -euo pipefail
knowledge=$1 kafka_dir=$2 work=$3 root=$4
brokers=$(cat "$kafka_dir/bootstrap.txt")
rm -rf "$work" && mkdir -p "$work"
"$root/scripts/spring_requester.sh" build
"$knowledge" --brokers "$brokers" --agents knowledge --unanswered-every 0 \
  --set state_dir="$work/state" >"$work/knowledge.log" 2>&1 &
responder=$!
trap 'kill "$responder" 2>/dev/null || true' EXIT
replies="spring.replies.$(date +%s%N)"
if ! "$root/scripts/spring_requester.sh" run "$brokers" knowledge.requests "$replies" 20 \
    >"$work/requester.log" 2>&1; then
  cat "$work/requester.log" "$work/knowledge.log" >&2
  exit 1
fi
cat "$work/requester.log"
grep -q "spring requester: 20 of 20 replies" "$work/requester.log"
kill -TERM "$responder"
wait "$responder" || { echo "the knowledge agent did not stop cleanly" >&2; cat "$work/knowledge.log" >&2; exit 1; }
trap - EXIT
