# Switchyard as a container: a static binary on distroless, as a non-root
# user, its data in a volume, its health asked with `switchyard health`
# (the image has no shell and no curl).
#
#   docker build --build-arg VERSION="$(git describe --tags --always --dirty)" -t switchyard .
#   docker run -p 8080:8080 -v switchyard-data:/data switchyard
#
# The build context leaves .git out (.dockerignore), so the version comes
# from VERSION; without it `switchyard version` says "dev".

# The Go of go.mod's go line (the image's GOTOOLCHAIN is local: an older Go
# would refuse the module).
ARG GO_VERSION=1.26.8

FROM golang:${GO_VERSION} AS build
WORKDIR /src
# Modules first, so that a change of source reuses their layer.
COPY go.mod go.sum ./
RUN go mod download
COPY . .
ARG VERSION=""
# Static (no cgo: the binary needs no libc), without the builder's paths.
RUN CGO_ENABLED=0 go build -trimpath -buildvcs=false \
      -ldflags "-s -w -X main.version=${VERSION}" \
      -o /out/switchyard ./cmd/switchyard \
 && mkdir -p /out/data

# nonroot: uid and gid 65532, no shell, CA certificates and tzdata included
# (outbound HTTPS and time zones work).
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/switchyard /usr/local/bin/switchyard
# The data directory (bbolt store, instance.key, admin-token), owned by the
# user that runs: a fresh named volume takes this ownership.
COPY --from=build --chown=65532:65532 /out/data /data
USER 65532:65532
ENV SWITCHYARD_LISTEN=0.0.0.0:8080 \
    SWITCHYARD_DATA=/data
VOLUME ["/data"]
EXPOSE 8080
# Ready, not only alive: /readyz answers 503 when the store cannot be
# reached or the node lost its lease. `health` finds the port in
# SWITCHYARD_LISTEN.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/switchyard", "health"]
ENTRYPOINT ["/usr/local/bin/switchyard"]
CMD ["serve"]
