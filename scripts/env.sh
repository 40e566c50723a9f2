# env.sh — the testbed's paths, sourced by the scripts and the Makefile (`make env`).
# Override any of them in the environment.
export FLOE_HOME="${FLOE_HOME:-/var/cache/floe}"
export FLOE_POOL="${FLOE_POOL:-default}"
export FLOE_BRIDGE="${FLOE_BRIDGE:-incusbr0}"
export FLOE_IMAGE="${FLOE_IMAGE:-local/debian12}"
export TERRAFORM="${TERRAFORM:-$FLOE_HOME/terraform-1.0.3/terraform}"
export ANSIBLE_VENV="${ANSIBLE_VENV:-$FLOE_HOME/ansible-venv}"
export INCUS_SOCKET_PATH="${INCUS_SOCKET:-${INCUS_DIR:-/var/lib/incus}/unix.socket}"
