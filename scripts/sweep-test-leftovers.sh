#!/usr/bin/env bash
# sweep-test-leftovers.sh — delete what killed test runs left on the daemon.
# Test harnesses describe their throw-away projects as `floe-test created=<unix seconds>`.
# A project with that marker older than FLOE_SWEEP_AGE seconds (default 3600: no test runs
# that long) is a leftover: its instances hold DNS names and addresses on the shared bridge,
# so it is emptied and deleted. Projects without the marker are never touched.
set -uo pipefail
max_age=${FLOE_SWEEP_AGE:-3600}
now=$(date +%s)
swept=0
while IFS=, read -r project description; do
  project=${project% (current)}
  [[ $description =~ ^floe-test\ created=([0-9]+)$ ]] || continue
  (( now - BASH_REMATCH[1] > max_age )) || continue
  p=(--project "$project")
  for i in $(incus list "${p[@]}" -f csv -c n); do incus delete --force "${p[@]}" "$i" >/dev/null; done
  for v in $(incus storage volume list "${FLOE_POOL:-default}" "${p[@]}" -f csv -c tn 2>/dev/null | awk -F, '$1=="custom"{print $2}'); do
    incus storage volume delete "${FLOE_POOL:-default}" "$v" "${p[@]}" >/dev/null
  done
  for pr in $(incus profile list "${p[@]}" -f csv -c n); do
    [[ $pr == default ]] || incus profile delete "${p[@]}" "$pr" >/dev/null
  done
  if incus project delete "$project" >/dev/null; then
    swept=$((swept + 1))
  else
    echo "[sweep] could not delete leftover test project $project" >&2
  fi
done < <(incus project list -f csv -c nd)
(( swept == 0 )) || echo "[sweep] deleted $swept leftover test project(s) older than ${max_age}s"
