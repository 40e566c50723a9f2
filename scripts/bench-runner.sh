#!/usr/bin/env bash
# bench-runner.sh — the webstack role under ansible-playbook and under roles-runner, in the same
# run, on 1 and 10 containers (first run and idempotent re-run), through the bench's own
# run-ansible.sh. Prints wall times, ratios, and the Incus API round trips the runner made
# (counted in its transport, read from --json-log) with their summed time.
#
# Environment:
#   BENCH_N="1 10"        container counts to measure
#   BENCH_DIR             the webstack bench (default ../shared/bench beside the repository)
#   SKIP_ANSIBLE=1        measure the runner only (no ratio)
#   ANSIBLE_VENV, FLOE_IMAGE as in scripts/env.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[[ -f "$root/scripts/env.sh" ]] && source "$root/scripts/env.sh"
BENCH_DIR="${BENCH_DIR:-$(cd "$root/../shared/bench" 2>/dev/null && pwd || true)}"
BENCH_N="${BENCH_N:-1 10}"
[[ -x "$BENCH_DIR/run-ansible.sh" ]] || { echo "bench-runner: run-ansible.sh not found in '$BENCH_DIR' (set BENCH_DIR)" >&2; exit 1; }
if [[ "${SKIP_ANSIBLE:-0}" != 1 && ! -x "${ANSIBLE_VENV:-}/bin/ansible-playbook" ]]; then
  echo "bench-runner: ansible-playbook not found in ANSIBLE_VENV=${ANSIBLE_VENV:-} (run make testbed)" >&2; exit 1
fi
export PATH="${ANSIBLE_VENV:-/nonexistent}/bin:$PATH"
export IMAGE="${FLOE_IMAGE:-local/debian12}"

echo "bench-runner: building roles-runner (release)" >&2
(cd "$root" && cargo build --release --locked -p roles-runner >&2)
bin="${CARGO_TARGET_DIR:-$root/target}/release/roles-runner"

work="$(mktemp -d /tmp/bench-runner.XXXXXX)"
trap 'rm -rf "$work"' EXIT
# run-ansible.sh calls "$RUNNER_CMD -i INV -f FORKS site.yml"; this wrapper adds a JSON log
# per invocation so the round trips of each run can be read back.
cat > "$work/runner" <<EOF
#!/usr/bin/env bash
n=\$(( \$(cat "$work/count" 2>/dev/null || echo 0) + 1 )); echo \$n > "$work/count"
exec "$bin" --json-log "$work/run\$n.jsonl" "\$@"
EOF
chmod +x "$work/runner"

field() { awk -v k="$2" '{for(i=1;i<=NF;i++){split($i,a,"="); if(a[1]==k) print a[2]}}' <<<"$1"; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{ if (a ~ /^[0-9.]+$/ && b ~ /^[0-9.]+$/ && b > 0) printf "%.1fx", a/b; else printf "n/a" }'; }
summary() { # $1 = jsonl -> "round_trips execs summed_ms"
  python3 - "$1" <<'PY'
import json, sys
s = [json.loads(l) for l in open(sys.argv[1]) if '"summary"' in l]
e = s[-1] if s else {}
print(e.get("incus_round_trips", 0), e.get("execs", 0), "%.1f" % e.get("round_trip_ms", 0.0))
PY
}

printf '\n%-4s %-6s %10s %10s %8s %12s %8s %12s %14s\n' "N" "run" "ansible_s" "runner_s" "ratio" "round_trips" "execs" "summed_ms" "wall/summed"
for n in $BENCH_N; do
  forks=$(( n < 5 ? 5 : n ))
  digest=""
  a1=na; a2=na
  if [[ "${SKIP_ANSIBLE:-0}" != 1 ]]; then
    res=$(cd "$BENCH_DIR" && PREFIX="bench-a-$$" EXPECTED_DIGEST= ./run-ansible.sh "$n" "$forks" 2>"$work/ansible-$n.err" | grep '^RESULT' || true)
    # (with N>1 run-ansible.sh reports differing digests: DHCP leases; the timings are valid)
    [[ -n "$res" ]] || { echo "bench-runner: ansible run failed (N=$n):" >&2; tail -20 "$work/ansible-$n.err" >&2; exit 1; }
    a1=$(field "$res" run1_s); a2=$(field "$res" run2_s); digest=$(field "$res" digest)
  fi
  rm -f "$work/count" "$work"/run*.jsonl
  # End-state equality is the proof test's job (tests/webstack_proof.rs compares full listings;
  # raw digests differ between any two containers since the image has a DHCP client). Here
  # both runs must succeed and the second must change nothing.
  res=$(cd "$BENCH_DIR" && RUNNER_CMD="$work/runner" PREFIX="bench-r-$$" EXPECTED_DIGEST= ./run-ansible.sh "$n" "$forks" 2>"$work/runner-$n.err" | grep '^RESULT' || true)
  [[ -n "$res" ]] || { echo "bench-runner: runner run failed (N=$n):" >&2; tail -20 "$work/runner-$n.err" >&2; exit 1; }
  if ! grep -q 'run 1: rc=0 .*failed+unreachable=0' "$work/runner-$n.err" || ! grep -q 'run 2: rc=0 .*changed=0 failed+unreachable=0' "$work/runner-$n.err"; then
    echo "bench-runner: runner runs failed or were not idempotent (N=$n): $res" >&2; tail -20 "$work/runner-$n.err" >&2; exit 1
  fi
  r1=$(field "$res" run1_s); r2=$(field "$res" run2_s)
  for run in 1 2; do
    read -r trips execs ms < <(summary "$work/run$run.jsonl")
    a=$([[ $run == 1 ]] && echo "$a1" || echo "$a2"); r=$([[ $run == 1 ]] && echo "$r1" || echo "$r2")
    per_host_ms=$(awk -v m="$ms" -v n="$n" 'BEGIN{printf "%.1f", m/n}')
    printf '%-4s %-6s %10s %10s %8s %12s %8s %12s %14s\n' "$n" "run$run" "$a" "$r" "$(ratio "$a" "$r")" "$trips" "$execs" "$ms" "$(ratio "$r" "$(awk -v m="$per_host_ms" 'BEGIN{print m/1000}')")"
  done
  echo "N=$n ansible digest=${digest:-skipped} runner: $res" >&2
done
echo
echo "ratio = ansible wall / runner wall (same machine, same run). round_trips = Incus API calls made by"
echo "the runner's transport (an exec is one call: POST + wait + output fetch), summed_ms = their summed"
echo "duration over all hosts; wall/summed compares the runner's wall time with one host's share."
