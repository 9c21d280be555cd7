# Everyday commands; the README's first two lines work without make too.
.PHONY: run test test-postgres generate lint build ci

run:
	go run ./cmd/syncd

test:
	go test ./...

test-postgres:
	TEST_DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go test -count=1 ./...

generate:
	go generate ./api

lint:
	gofmt -l $$(git ls-files '*.go')
	go vet ./...
	npx --yes @redocly/cli@2 lint openapi/openapi.yaml

build:
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X syncd/cli.Version=$$(git describe --always --dirty 2>/dev/null || echo dev)" -o bin/syncd ./cmd/syncd

ci:
	bash .ci/run
