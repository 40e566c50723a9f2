#!/usr/bin/env bash
# bench-provider.sh — measures the Rust provider against the real Terraform and daemon:
#   1. provider start → handshake line (AutoMTLS on, as Terraform launches it), median of N;
#   2. RSS of the provider after a `terraform plan` of 20 instances (attached with
#      TF_REATTACH_PROVIDERS so the process outlives the plan);
#   3. `terraform plan` on 20 unchanged instances vs 20 raw `curl --unix-socket` GETs of the
#      same instances in the same run, and the ratio.
# Not a test: it prints figures. Usage: scripts/bench-provider.sh [runs]   (default 5)
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
RUNS="${1:-5}"
N=20
SOCKET="${INCUS_SOCKET_PATH:-/var/lib/incus/unix.socket}"
PROFILE="${BENCH_PROFILE:-release}"

echo "== building the provider ($PROFILE)"
if [ "$PROFILE" = release ]; then
  cargo build --release -p terraform-provider-incus --bin terraform-provider-incus >/dev/null
  BIN="${CARGO_TARGET_DIR:-$PWD/target}/release/terraform-provider-incus"
else
  cargo build -p terraform-provider-incus --bin terraform-provider-incus >/dev/null
  BIN="${CARGO_TARGET_DIR:-$PWD/target}/debug/terraform-provider-incus"
fi
[ -x "$TERRAFORM" ] || { echo "Terraform not found at $TERRAFORM (run make testbed)" >&2; exit 1; }

WORK="$(mktemp -d /tmp/bench-provider.XXXXXX)"
PROJECT="bench-prov-$$"
DEBUG_PID=""
cleanup() {
  [ -n "$DEBUG_PID" ] && kill "$DEBUG_PID" 2>/dev/null || true
  for i in $(incus list --project "$PROJECT" -f csv -c n 2>/dev/null); do incus delete -f "$i" --project "$PROJECT" >/dev/null 2>&1 || true; done
  incus project delete "$PROJECT" >/dev/null 2>&1 || true
  rm -rf "$WORK"
}
trap cleanup EXIT

echo "== 1. start → handshake (median of 20, AutoMTLS with a P-521 CA-flagged client cert like Terraform's)"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-521 -nodes -days 1 -subj /CN=localhost \
  -addext basicConstraints=critical,CA:TRUE -keyout "$WORK/c.key" -out "$WORK/c.crt" >/dev/null 2>&1
python3 - "$BIN" "$WORK/c.crt" <<'PY'
import os, subprocess, sys, time, statistics
binary, cert = sys.argv[1], open(sys.argv[2]).read()
env = dict(os.environ, TF_PLUGIN_MAGIC_COOKIE="d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2",
           PLUGIN_PROTOCOL_VERSIONS="5,6", PLUGIN_CLIENT_CERT=cert, FLOE_PROVIDER_LOG="error")
times = []
for _ in range(20):
    t0 = time.perf_counter()
    p = subprocess.Popen([binary], env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    line = p.stdout.readline()
    times.append((time.perf_counter() - t0) * 1000)
    p.kill(); p.wait()
    assert line.count(b"|") == 5, line
print(f"   handshake: median {statistics.median(times):.1f} ms, min {min(times):.1f} ms, max {max(times):.1f} ms")
PY

echo "== setting up $N stopped instances in project $PROJECT"
incus project create "$PROJECT" -c features.images=false -c features.profiles=false >/dev/null
mkdir -p "$WORK/tf"
cat > "$WORK/cli.tfrc" <<EOF2
provider_installation {
  dev_overrides { "floe/incus" = "$(dirname "$BIN")" }
  direct {}
}
EOF2
cat > "$WORK/tf/main.tf" <<EOF2
terraform {
  required_providers {
    incus = { source = "floe/incus" }
  }
}
provider "incus" {}
resource "incus_instance" "n" {
  count   = $N
  name    = "b\${count.index}"
  project = "$PROJECT"
  image   = "$FLOE_IMAGE"
  running = false
}
EOF2
export TF_CLI_CONFIG_FILE="$WORK/cli.tfrc" TF_IN_AUTOMATION=1 CHECKPOINT_DISABLE=1
(cd "$WORK/tf" && "$TERRAFORM" apply -auto-approve -no-color -parallelism=10 >/dev/null)

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

echo "== 3. terraform plan on $N unchanged instances vs $N raw GETs (median of $RUNS)"
plan_times=(); curl_times=()
for _ in $(seq "$RUNS"); do
  t0=$(now_ms); (cd "$WORK/tf" && "$TERRAFORM" plan -detailed-exitcode -no-color >/dev/null); t1=$(now_ms)
  plan_times+=($((t1 - t0)))
  t0=$(now_ms)
  for i in $(seq 0 $((N - 1))); do
    curl -sf --unix-socket "$SOCKET" "http://incus/1.0/instances/b$i?project=$PROJECT&recursion=1" >/dev/null
  done
  t1=$(now_ms)
  curl_times+=($((t1 - t0)))
done
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
PLAN=$(median "${plan_times[@]}"); CURL=$(median "${curl_times[@]}")
echo "   terraform plan ($N instances): ${PLAN} ms   runs: ${plan_times[*]}"
echo "   $N sequential curl GETs:       ${CURL} ms   runs: ${curl_times[*]}"
awk -v p="$PLAN" -v c="$CURL" 'BEGIN { printf "   ratio plan/curl: %.1fx\n", p / (c > 0 ? c : 1) }'

echo "== 2. provider RSS after a $N-instance plan (TF_REATTACH_PROVIDERS)"
"$BIN" --debug --address registry.terraform.io/floe/incus > "$WORK/debug.out" 2>/dev/null &
DEBUG_PID=$!
for _ in $(seq 50); do grep -q TF_REATTACH_PROVIDERS "$WORK/debug.out" && break; sleep 0.1; done
REATTACH=$(sed -n "s/^\tTF_REATTACH_PROVIDERS='\(.*\)'$/\1/p" "$WORK/debug.out")
RSS0=$(awk '/VmRSS/ {print $2}' "/proc/$DEBUG_PID/status")
(cd "$WORK/tf" && TF_REATTACH_PROVIDERS="$REATTACH" "$TERRAFORM" plan -no-color -detailed-exitcode >/dev/null)
RSS=$(awk '/VmRSS/ {print $2}' "/proc/$DEBUG_PID/status"); HWM=$(awk '/VmHWM/ {print $2}' "/proc/$DEBUG_PID/status")
echo "   RSS idle: $((RSS0 / 1024)) MiB; after plan: $((RSS / 1024)) MiB (peak $((HWM / 1024)) MiB)"
