#!/usr/bin/env bash
# test.sh — every test of the workspace (called by `make test` after the testbed).
# The integration tests share one Incus daemon; on a starved machine incusd occasionally
# fails an LXC start hook or an exec, and Ansible's incus connection (the reference) loses
# its temp dir. cargo-nextest retries a failed test once and reports it as FLAKY, so such a
# flake is visible in the log without turning CI red (the failed attempt's output is printed
# when it happens, to find out why); a test that fails twice still fails.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
source scripts/env.sh
scripts/sweep-test-leftovers.sh   # a killed earlier run's projects would hold names on the bridge
if cargo nextest --version >/dev/null 2>&1; then
  cargo test --workspace --locked --doc   # nextest does not run doc tests
  # Last, so that the run closes on nextest's summary of every test.
  cargo nextest run --workspace --locked --no-fail-fast --retries 1 --failure-output immediate-final
else
  echo "[test] cargo-nextest not found: running cargo test (no retry of flaky tests)" >&2
  cargo test --workspace --locked --no-fail-fast
fi
