#!/usr/bin/env bash
# make-artifacts.sh OUT_DIR [IN_CONTAINER_DIR]
#
# Offline sources for the roles' downloads, for air-gapped sites and the tests.
# The roles install upstream release artifacts from a URL with a checksum
# (prometheus_archive_url / _checksum, alertmanager_archive_url / _checksum,
# forgejo_runner_binary_url / _checksum). This script builds the same
# artifacts without the internet:
#   - prometheus-<v>.linux-amd64.tar.gz and alertmanager-<v>.linux-amd64.tar.gz
#     in the upstream release layout, from the Debian bookworm packages
#     (`apt-get download`, i.e. the host's configured Debian mirror);
#   - forgejo-runner-<v>-linux-amd64: a small stand-in (tests only, see
#     roles/forgejo_runner/tests/fake-forgejo-runner.sh) because the real
#     binary comes only from code.forgejo.org.
# and writes OUT_DIR/extra-vars.json: the role variables pointing at
# file://IN_CONTAINER_DIR/<artifact> (default /var/cache/floe-artifacts),
# with sha256 checksums. Push OUT_DIR into the containers at IN_CONTAINER_DIR
# (incus file push -r) and run the roles with -e @OUT_DIR/extra-vars.json.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
out="${1:?usage: make-artifacts.sh OUT_DIR [IN_CONTAINER_DIR]}"
incontainer="${2:-/var/cache/floe-artifacts}"
debs="${FLOE_DEB_CACHE:-/var/cache/floe/debs}"
mkdir -p "$out" "$debs"
out="$(cd "$out" && pwd)"

deb_of() { # package -> path of its .deb in the cache (downloaded once)
  local f
  f="$(ls "$debs/$1"_*.deb 2>/dev/null | head -n1 || true)"
  if [[ -z "$f" ]]; then
    (cd "$debs" && apt-get download "$1" >/dev/null 2>&1) || { echo "make-artifacts.sh: apt-get download $1 failed" >&2; exit 1; }
    f="$(ls "$debs/$1"_*.deb | head -n1)"
  fi
  echo "$f"
}

upstream_version() { # .deb -> upstream version (2.42.0+ds-5+deb12u1 -> 2.42.0)
  dpkg-deb -f "$1" Version | sed -E 's/^[0-9]+://; s/[-+~].*$//'
}

tarball() { # name version deb "src:dst ..." -> OUT/<name>-<v>.linux-amd64.tar.gz
  local name="$1" v="$2" deb="$3" maps="$4" tmp
  tmp="$(mktemp -d)"
  dpkg-deb -x "$deb" "$tmp/x"
  mkdir -p "$tmp/$name-$v.linux-amd64"
  for m in $maps; do cp "$tmp/x/${m%%:*}" "$tmp/$name-$v.linux-amd64/${m##*:}"; done
  # Fixed owner and mtime: the same input gives the same archive (and checksum).
  tar --owner=0 --group=0 --numeric-owner --mtime=@0 --sort=name -C "$tmp" -czf "$out/$name-$v.linux-amd64.tar.gz" "$name-$v.linux-amd64"
  rm -rf "$tmp"
}

pdeb="$(deb_of prometheus)"; pv="$(upstream_version "$pdeb")"
adeb="$(deb_of prometheus-alertmanager)"; av="$(upstream_version "$adeb")"
tarball prometheus "$pv" "$pdeb" "usr/bin/prometheus:prometheus usr/bin/promtool:promtool"
# Debian's alertmanager reads its notification templates from files
# (upstream embeds them): ship them in the archive, the role links them if present.
tarball alertmanager "$av" "$adeb" "usr/bin/prometheus-alertmanager:alertmanager usr/bin/amtool:amtool usr/share/prometheus/alertmanager/default.tmpl:default.tmpl usr/share/prometheus/alertmanager/email.tmpl:email.tmpl"
rv="${FORGEJO_RUNNER_FAKE_VERSION:-6.3.1}"
install -m 0755 "$repo/roles/forgejo_runner/tests/fake-forgejo-runner.sh" "$out/forgejo-runner-$rv-linux-amd64"

sum() { sha256sum "$1" | cut -d' ' -f1; }
cat > "$out/extra-vars.json" <<JSON
{
  "prometheus_version": "$pv",
  "prometheus_archive_url": "file://$incontainer/prometheus-$pv.linux-amd64.tar.gz",
  "prometheus_archive_checksum": "sha256:$(sum "$out/prometheus-$pv.linux-amd64.tar.gz")",
  "alertmanager_version": "$av",
  "alertmanager_archive_url": "file://$incontainer/alertmanager-$av.linux-amd64.tar.gz",
  "alertmanager_archive_checksum": "sha256:$(sum "$out/alertmanager-$av.linux-amd64.tar.gz")",
  "runner_version": "$rv",
  "forgejo_runner_binary_url": "file://$incontainer/forgejo-runner-$rv-linux-amd64",
  "forgejo_runner_binary_checksum": "sha256:$(sum "$out/forgejo-runner-$rv-linux-amd64")"
}
JSON
echo "$out/extra-vars.json"
