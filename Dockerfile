# panther in a container: for sharded interop matrices on CI runners and Kubernetes
# (docs/SCALING.md). Build the binary first, then the image:
#   cargo build --release
#   docker build -t panther:latest .
# The base is panther's own Debian image (`panther images build` makes panther-base:bookworm with
# debootstrap, no registry needed); where a registry is reachable,
# `--build-arg BASE=debian:bookworm-slim` works the same.
ARG BASE=panther-base:bookworm
FROM ${BASE}
RUN apt-get update \
 && apt-get install -y --no-install-recommends iproute2 ca-certificates python3 \
 && rm -rf /var/lib/apt/lists/* /var/cache/apt/archives/*.deb
COPY target/release/panther /usr/local/bin/panther
WORKDIR /work
ENTRYPOINT ["/usr/local/bin/panther"]
CMD ["--help"]
