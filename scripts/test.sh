#!/usr/bin/env bash
# Installs everything (Debian packages, the Apache Kafka and Spring Kafka jars),
# builds, and runs the unit, mock and kafka test tiers; the kafka tier starts
# and stops its own broker through a CTest fixture. Extra arguments go to ctest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/build.sh
scripts/kafka.sh fetch
scripts/spring_requester.sh build
cd "${KACTOR_BUILD_DIR:-build}"
ctest -L "${KACTOR_TEST_LABELS:-unit|mock|kafka}" --output-on-failure --timeout 600 "$@"
