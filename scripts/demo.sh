#!/usr/bin/env bash
# demo.sh — the quickstart end to end (called by `make demo` after the testbed and the build):
# terraform apply with Floe's provider -> floe-inventory -> roles-runner -> a service answering.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export FLOE_BIN_DIR="${FLOE_BIN_DIR:-${CARGO_TARGET_DIR:-$repo/target}/release}"
exec bash "$repo/examples/quickstart/run.sh" up
