# dsguard: build, image and generated files. `make help` lists the targets.

IMAGE ?= ghcr.io/dsguard/dsguard
TAG   ?= $(shell sed -n 's/^version = "\(.*\)"/\1/p' Cargo.toml | head -n 1)
# docker, podman or nerdctl: any client that understands a Dockerfile.
DOCKER ?= docker

.PHONY: help build test image push rules dashboards generated check-ship

help:
	@echo "make build       cargo build --release"
	@echo "make test        the whole test suite (installs promtool/prometheus first)"
	@echo "make image       build the container image $(IMAGE):$(TAG) from the Dockerfile"
	@echo "make push        push it"
	@echo "make rules       regenerate the PrometheusRule copies from alerts/dsguard.rules.yml"
	@echo "make dashboards  regenerate dashboards/*.json and the Grafana provisioning ConfigMap"
	@echo "make check-ship  promtool, kustomize and the ship_* tests"

build:
	cargo build --release --locked

test:
	bash .ci/install && cargo test --locked

image:
	$(DOCKER) build --pull -t $(IMAGE):$(TAG) .

push: image
	$(DOCKER) push $(IMAGE):$(TAG)

# The PrometheusRule is the rules file under `spec:`, indented by two spaces; tests/ship_rules.rs
# checks that both copies are up to date. (kustomize cannot read files outside deploy/, hence the
# second copy.)
rules: alerts/prometheusrule.yaml deploy/base/prometheusrule.yaml

alerts/prometheusrule.yaml deploy/base/prometheusrule.yaml: alerts/dsguard.rules.yml
	{ printf '%s\n' \
	    '# Generated from alerts/dsguard.rules.yml by `make rules`; do not edit.' \
	    'apiVersion: monitoring.coreos.com/v1' \
	    'kind: PrometheusRule' \
	    'metadata:' \
	    '  name: dsguard' \
	    '  labels:' \
	    '    app.kubernetes.io/name: dsguard' \
	    '    app.kubernetes.io/component: alert-rules' \
	    'spec:'; \
	  sed -e 's/^\(.\)/  \1/' $<; } > $@

dashboards:
	python3 dashboards/generate.py

check-ship:
	promtool check rules alerts/dsguard.rules.yml
	promtool test rules alerts/tests/*.yml
	for o in deploy/overlays/*/; do kubectl kustomize "$$o" > /dev/null || exit 1; done
	cargo test --locked --test 'ship_*'
