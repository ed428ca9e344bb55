# For users who build with Docker. `make image` builds the released image without
# a Docker engine (hack/image); both compile the same binary with the same flags
# (the Makefile's LDFLAGS), and both run it as 65532:65532 with no shell.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY commands/ commands/
COPY controllers/ controllers/
COPY internal/ internal/
COPY providers/ providers/
COPY config/ config/
COPY *.go ./
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -buildid= -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/baosync .

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/baosync /baosync
USER 65532:65532
ENTRYPOINT ["/baosync"]
