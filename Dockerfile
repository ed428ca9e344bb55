# Build a static binary, then ship it alone in a distroless non-root image.
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY api/ api/
COPY controllers/ controllers/
COPY providers/ providers/
COPY main.go ./
ARG VERSION=dev
ARG COMMIT=unknown
RUN CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=${VERSION} -X main.commit=${COMMIT}" -o /out/baosync .

FROM gcr.io/distroless/static:nonroot
COPY --from=build /out/baosync /baosync
USER 65532:65532
ENTRYPOINT ["/baosync"]
