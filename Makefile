# OpenVOLT: one module, one binary.
GO        ?= go
GOBIN     ?= $(shell $(GO) env GOPATH)/bin
BUF       ?= $(GOBIN)/buf
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT    ?= $(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
LDFLAGS   := -X main.version=$(VERSION) -X main.commit=$(COMMIT)

# Pinned tool versions; `make tools` installs them with go install.
BUF_VERSION                ?= v1.75.0
PROTOC_GEN_GO_VERSION      ?= v1.36.12
PROTOC_GEN_GO_GRPC_VERSION ?= v1.6.2
STATICCHECK_VERSION        ?= v0.8.2
GRPCURL_VERSION            ?= v1.9.4

export PATH := $(GOBIN):$(PATH)

.PHONY: all build test test-short lint proto proto-check tools bench

all: build

build:
	$(GO) build -ldflags '$(LDFLAGS)' -o bin/volt ./cmd/volt

# The one test command (README, CI). Privileged tests need root and say so
# when they skip.
test:
	$(GO) test -race -count=1 -timeout 30m ./...

test-short:
	$(GO) test -short -count=1 ./...

lint:
	@fmt=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$fmt" ]; then echo "gofmt needed:"; echo "$$fmt"; exit 1; fi
	$(GO) vet ./...
	$(GOBIN)/staticcheck ./...
	cd api && $(BUF) lint

proto:
	cd api && $(BUF) generate

# Fails when the committed generated code differs from what `make proto` makes.
proto-check: proto
	@git diff --exit-code -- api || (echo "generated protobuf code is stale: run make proto and commit"; exit 1)
	@untracked=$$(git ls-files --others --exclude-standard api); if [ -n "$$untracked" ]; then echo "untracked generated files: $$untracked"; exit 1; fi

tools:
	$(GO) install github.com/bufbuild/buf/cmd/buf@$(BUF_VERSION)
	$(GO) install google.golang.org/protobuf/cmd/protoc-gen-go@$(PROTOC_GEN_GO_VERSION)
	$(GO) install google.golang.org/grpc/cmd/protoc-gen-go-grpc@$(PROTOC_GEN_GO_GRPC_VERSION)
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)
	$(GO) install github.com/fullstorydev/grpcurl/cmd/grpcurl@$(GRPCURL_VERSION)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...
