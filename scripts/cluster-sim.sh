#!/usr/bin/env bash
# cluster-sim.sh — a 3-member Incus cluster on this one host, next to the shared host daemon
# and without touching it, for the provider's cluster tests.
#
#   scripts/cluster-sim.sh up       create (or resume) the cluster; prints KEY=VALUE lines
#   scripts/cluster-sim.sh env      print the KEY=VALUE lines of a running cluster
#   scripts/cluster-sim.sh status   members and their state; exit 1 unless all are ONLINE
#   scripts/cluster-sim.sh down     stop everything and delete all its state
#
# Technique (the one Incus' own test suite uses): each member is a plain incusd with its own
# INCUS_DIR, started inside its own network + mount namespace (unshare -m -n, with a fresh
# /sys so incusd only sees the namespace's interfaces). A sleeping anchor process keeps each
# namespace alive. Members reach each other over a host bridge through veths; the namespaces
# have no default route, so nothing leaves the host. Member 1 bootstraps the cluster, 2 and 3
# join with tokens. Every member listens on HTTPS (core.https_address).
#
# Clients: a private client configuration directory (INCUS_CONF layout: config.yml,
# client.crt/key, servercerts/) holds a client certificate trusted by the cluster and the
# remote FLOE_CLUSTER_REMOTE as default remote. ~/.config/incus is never touched.
#   INCUS_CONF=$FLOE_CLUSTER_CONF incus cluster list          (HTTPS, like the tests)
#   INCUS_DIR=/var/lib/floe-cluster/node1 incus cluster list   (member 1's unix socket)
# `up` also copies the host's image $FLOE_IMAGE into the cluster under the same alias
# (IMAGE=none to skip), so tests use the same image name on both.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=env.sh
source "$here/env.sh"

N=3
BASE=${FLOE_CLUSTER_BASE:-/var/lib/floe-cluster}   # member i: INCUS_DIR=$BASE/node$i
STATE=/run/floe-cluster                            # pid files of anchors and daemons
CONF=$BASE/client                                  # private client config (INCUS_CONF)
BR=floe-clbr
NET=10.251.200                                     # host $NET.1, member i $NET.1$i
REMOTE=floe-cluster
INCUSD=/usr/libexec/incus/incusd
IMAGE=${IMAGE:-$FLOE_IMAGE}

T0=$(date +%s%N)
elapsed() { local ms=$(( ($(date +%s%N) - T0) / 1000000 )); printf '%d.%03ds' $((ms / 1000)) $((ms % 1000)); }
log() { printf '[cluster-sim %s] %s\n' "$(elapsed)" "$*" >&2; }
die() { printf '[cluster-sim] ERROR: %s\n' "$*" >&2; exit 1; }
member() { local i=$1; shift; INCUS_DIR="$BASE/node$i" incus "$@"; }   # client on member i's socket
alive() { [[ -f $1 ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

start_namespace() {
  local i=$1 pidf="$STATE/ns$i.pid"
  alive "$pidf" && return 0
  # New mount + network namespace; inside it, a fresh /sys (so incusd sees only this
  # namespace's interfaces; the cgroup mount is moved over) and /proc, then an anchor process.
  unshare -m -n --propagation private /bin/sh -e <<EOF
mkdir -p "$STATE/sys$i"
mount --move /sys "$STATE/sys$i"
mount -t sysfs sysfs /sys
mount --move "$STATE/sys$i/fs/cgroup" /sys/fs/cgroup
umount -l "$STATE/sys$i"
umount -l /proc
mount -t proc proc /proc
setsid sleep infinity </dev/null >/dev/null 2>&1 &
echo \$! > "$pidf"
EOF
  local pid; pid=$(cat "$pidf")
  ip link del "floe-cl${i}h" 2>/dev/null || true        # a stale host end from a crashed run
  ip link add "floe-cl${i}h" type veth peer name "floe-cl${i}n"
  ip link set "floe-cl${i}n" netns "$pid"
  ip link set "floe-cl${i}h" master "$BR" up
  nsenter -n -t "$pid" sh -ec "ip link set lo up; ip link set floe-cl${i}n name eth0; ip link set eth0 up; ip addr add $NET.1$i/24 dev eth0"
  log "namespace $i ready (anchor pid $pid, $NET.1$i)"
}

start_daemon() {
  local i=$1 dir="$BASE/node$i"
  alive "$STATE/incusd$i.pid" && return 0
  mkdir -p "$dir"
  INCUS_DIR="$dir" setsid nsenter -n -m -t "$(cat "$STATE/ns$i.pid")" "$INCUSD" --group root \
    --logfile "$dir/incusd.log" </dev/null >"$dir/incusd.out" 2>&1 &
  echo $! >"$STATE/incusd$i.pid"
}

print_env() {
  cat <<EOF
FLOE_CLUSTER_REMOTE=$REMOTE
FLOE_CLUSTER_ADDR=https://$NET.11:8443
FLOE_CLUSTER_ADDRS=$(for i in $(seq 1 $N); do printf 'https://%s.1%s:8443' "$NET" "$i"; ((i < N)) && printf ','; done)
FLOE_CLUSTER_MEMBERS=$(for i in $(seq 1 $N); do printf 'floe-node%s' "$i"; ((i < N)) && printf ','; done)
FLOE_CLUSTER_CONF=$CONF
FLOE_CLUSTER_CLIENT_CERT=$CONF/client.crt
FLOE_CLUSTER_CLIENT_KEY=$CONF/client.key
FLOE_CLUSTER_SERVER_CERT=$CONF/servercerts/$REMOTE.crt
FLOE_CLUSTER_POOL=data
FLOE_CLUSTER_IMAGE=$([[ $IMAGE == none ]] && echo "" || echo "$IMAGE")
EOF
}

up() {
  # Members killed abruptly (a reboot, a session's processes ended) leave state that cannot be
  # resumed (waitready hangs on the old database): rebuild from scratch in that case.
  if [[ -d $STATE || -d $BASE ]]; then
    local i dead=no
    for i in $(seq 1 $N); do
      alive "$STATE/ns$i.pid" && alive "$STATE/incusd$i.pid" || dead=yes
    done
    if [[ $dead == yes ]]; then
      log "stale cluster state (a member is gone): removing it first"
      down
    fi
  fi
  mkdir -p "$STATE" "$BASE"
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge
    ip addr add "$NET.1/24" dev "$BR"
    ip link set "$BR" up
  fi
  for i in $(seq 1 $N); do start_namespace "$i"; start_daemon "$i"; done
  for i in $(seq 1 $N); do
    member "$i" admin waitready --timeout=120 || die "member $i did not get ready; see $BASE/node$i/incusd.log"
  done
  log "$N daemons ready"

  if ! member 1 cluster list >/dev/null 2>&1; then
    # Bootstrap. Storage pool `data` (dir) and a bridge without addresses (no dnsmasq) so the
    # default profile can launch containers on any member.
    member 1 admin init --preseed >/dev/null <<EOF
config:
  core.https_address: $NET.11:8443
  images.auto_update_interval: 0
storage_pools:
- name: data
  driver: dir
networks:
- name: floeclbr0
  type: bridge
  config:
    ipv4.address: none
    ipv6.address: none
profiles:
- name: default
  devices:
    root: {path: /, pool: data, type: disk}
    eth0: {name: eth0, network: floeclbr0, type: nic}
cluster:
  server_name: floe-node1
  enabled: true
EOF
    log "bootstrapped floe-node1"
  fi
  local cert; cert=$(sed ':a;N;$!ba;s/\n/\\n/g' "$BASE/node1/cluster.crt")
  for i in $(seq 2 $N); do
    member 1 cluster show "floe-node$i" >/dev/null 2>&1 && continue
    local token; token=$(member 1 cluster add "floe-node$i" --quiet)
    member "$i" admin init --preseed >/dev/null <<EOF
cluster:
  enabled: true
  server_name: floe-node$i
  server_address: $NET.1$i:8443
  cluster_address: $NET.11:8443
  cluster_certificate: "$cert"
  cluster_token: $token
  member_config:
  - entity: storage-pool
    name: data
    key: source
    value: ""
EOF
    log "floe-node$i joined"
  done

  # Client over HTTPS: trust token -> `incus remote add` creates client.crt/key and pins the
  # server certificate in servercerts/, all inside $CONF.
  if ! INCUS_CONF="$CONF" timeout 30 incus cluster list "$REMOTE:" >/dev/null 2>&1; then
    rm -rf "$CONF"; mkdir -p "$CONF"
    member 1 config trust remove floe-tests >/dev/null 2>&1 || true
    local token; token=$(member 1 config trust add floe-tests --quiet)
    local out
    out=$(INCUS_CONF="$CONF" incus remote add "$REMOTE" "$token" 2>&1) || die "incus remote add failed: $out"
    INCUS_CONF="$CONF" incus remote switch "$REMOTE"
    INCUS_CONF="$CONF" timeout 30 incus cluster list "$REMOTE:" >/dev/null || die "HTTPS client cannot reach the cluster"
    log "trusted client certificate in $CONF (remote $REMOTE, default)"
  fi

  if [[ $IMAGE != none ]] && ! member 1 image show "$IMAGE" >/dev/null 2>&1; then
    local tmp; tmp=$(mktemp -d /var/tmp/floe-cluster-image.XXXXXX)
    incus image export "$IMAGE" "$tmp/image" >/dev/null
    member 1 image import "$tmp"/image* --alias "$IMAGE" >/dev/null
    rm -rf "$tmp"
    log "image $IMAGE copied into the cluster"
  fi
  check_online || die "not every member is ONLINE: $(member 1 cluster list -f csv -c ns | tr '\n' ' ')"
  log "cluster up"
  print_env
}

check_online() {
  local states
  states=$(member 1 cluster list -f csv -c s 2>/dev/null) || return 1
  [[ $(grep -c '^ONLINE$' <<<"$states") == "$N" ]]
}

down() {
  # 1. instances, deleted through the cluster so each member stops its own containers
  if alive "$STATE/incusd1.pid"; then
    local c
    for c in $(timeout 20 env INCUS_DIR="$BASE/node1" incus list --all-projects -c n -f csv 2>/dev/null || true); do
      timeout 60 env INCUS_DIR="$BASE/node1" incus delete -f "$c" >/dev/null 2>&1 || true
    done
  fi
  log "instances deleted"
  # 2. the member daemons we started (by pid), SIGKILL after 15 s
  local i
  for i in $(seq 1 $N); do alive "$STATE/incusd$i.pid" && kill "$(cat "$STATE/incusd$i.pid")" 2>/dev/null || true; done
  for _ in $(seq 1 30); do
    local left=no
    for i in $(seq 1 $N); do alive "$STATE/incusd$i.pid" && left=yes; done
    [[ $left == no ]] && break
    sleep 0.5
  done
  for i in $(seq 1 $N); do alive "$STATE/incusd$i.pid" && kill -9 "$(cat "$STATE/incusd$i.pid")" 2>/dev/null || true; done
  log "daemons stopped"
  # 3. every process still in a member's network namespace was started by that member
  #    (dnsmasq, forkdns, container monitors) or is the anchor: end them by pid
  for i in $(seq 1 $N); do
    [[ -f $STATE/ns$i.pid ]] || continue
    local ino p
    ino=$(readlink "/proc/$(cat "$STATE/ns$i.pid")/ns/net" 2>/dev/null) || continue
    for p in /proc/[0-9]*; do
      [[ $(readlink "$p/ns/net" 2>/dev/null) == "$ino" ]] && kill -9 "${p#/proc/}" 2>/dev/null || true
    done
  done
  for i in $(seq 1 $N); do ip link del "floe-cl${i}h" 2>/dev/null || true; done
  ip link del "$BR" 2>/dev/null || true
  rm -rf "$STATE" "$BASE"
  log "cluster removed"
}

status() {
  local i
  for i in $(seq 1 $N); do
    printf 'floe-node%s namespace:%s incusd:%s\n' "$i" \
      "$(alive "$STATE/ns$i.pid" && echo up || echo down)" "$(alive "$STATE/incusd$i.pid" && echo up || echo down)"
  done
  alive "$STATE/incusd1.pid" && member 1 cluster list -c nusr 2>/dev/null || true
  check_online
}

[[ $(id -u) == 0 ]] || die "must run as root (namespaces, interfaces, daemons)"
case "${1:-}" in
  up) up ;;
  env) check_online || die "the cluster is not up (scripts/cluster-sim.sh up)"; print_env ;;
  status) status ;;
  down) down ;;
  *) echo "usage: $0 up|env|status|down" >&2; exit 2 ;;
esac
