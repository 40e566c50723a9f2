# Floe — infrastructure-as-code for Incus. `make help` lists the targets.
SHELL := /bin/bash
.DEFAULT_GOAL := help
ENV ?= iapetus
CARGO ?= cargo
# Tests and scripts read the testbed's paths (terraform 1.0.3, ansible venv, image alias).
ENVSH := source scripts/env.sh
# Where `make build` puts the binaries (honours CARGO_TARGET_DIR); the mk/ fragments use it.
FLOE_BIN ?= $(or $(CARGO_TARGET_DIR),$(CURDIR)/target)/release

# Area fragments (environments, benchmarks, test set-ups) live in mk/.
-include $(wildcard mk/*.mk)

.PHONY: help testbed build test demo bench bench-client bench-inventory bench-provider bench-runner fmt lint ovn-setup ovn-teardown cluster-up cluster-down

help: ## list targets
	@grep -hE '^[a-zA-Z_%-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-24s %s\n", $$1, $$2}'

testbed: ## install and start what the tests need (Incus, image, Terraform 1.0.3, Ansible); idempotent
	bash scripts/testbed.sh

build: ## build every binary (release)
	$(CARGO) build --workspace --release --locked

test: testbed ## run every test: unit, integration against the real daemon, Terraform and Ansible
	bash scripts/test.sh

demo: testbed build ## testbed, build, then the quickstart end to end
	$(ENVSH) && bash scripts/demo.sh

bench-client: testbed ## Incus client round trips vs the incus CLI (200 exec, 200 file pushes)
	$(ENVSH) && $(CARGO) bench -p incus-client --bench client_roundtrips --locked

bench-inventory: testbed ## floe-inventory --list, 1,000 hosts in 50 groups, vs an equivalent Python script
	$(ENVSH) && $(CARGO) bench -p inventory --bench list_1000 --locked

bench-provider: testbed build ## provider start→handshake, RSS after a 20-instance plan, plan vs raw curl GETs
	$(ENVSH) && bash scripts/bench-provider.sh

bench-runner: testbed build ## webstack on 1 and 10 containers: ansible-playbook vs roles-runner, same run
	$(ENVSH) && bash scripts/bench-runner.sh

bench: bench-client bench-inventory bench-provider bench-runner ## every benchmark

ovn-setup: testbed ## OVS/OVN by hand + the uplink floe-uplink (the OVN tests run it themselves; idempotent)
	bash scripts/ovn-setup.sh

ovn-teardown: ## undo ovn-setup (ARGS=--purge also removes the packages)
	bash scripts/ovn-teardown.sh $(ARGS)

cluster-up: testbed ## a 3-member Incus cluster in namespaces; HTTPS client config in /var/lib/floe-cluster/client
	bash scripts/cluster-sim.sh up

cluster-down: ## stop the simulated cluster
	bash scripts/cluster-sim.sh down

fmt: ## format the code
	$(CARGO) fmt --all

lint: ## clippy on everything
	$(CARGO) clippy --workspace --all-targets --locked -- -D warnings
