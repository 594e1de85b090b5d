#!/usr/bin/env bash
# The main job on a fresh machine: install, build, and run the demo pipeline
# on librdkafka's embedded cluster (no Kafka server needed).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
exec "${KACTOR_BUILD_DIR:-build}/kactor" demo "$@"
