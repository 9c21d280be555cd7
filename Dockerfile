# syntax=docker/dockerfile:1
# Build a static syncd binary, then run it as a non-root user on an empty base.
FROM golang:1.26-bookworm AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=dev
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X syncd/cli.Version=${VERSION}" -o /out/syncd ./cmd/syncd \
 && mkdir -p /out/data

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/syncd /usr/local/bin/syncd
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SYNCD_ADDR=:8080 \
    SYNCD_DATA_DIR=/data \
    SYNCD_LOG_FORMAT=json
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=3s --start-period=10s --retries=3 CMD ["/usr/local/bin/syncd", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/syncd"]
CMD ["serve"]
