# syntax=docker/dockerfile:1
#
# The ecs-topology controller image.
#   docker build -t ecs-topology .
#   docker run --rm -p 9464:9464 -e ECS_TOPOLOGY_CONFIG_YAML="$(cat config.yaml)" \
#     ecs-topology run --source s3://bucket/prefix/
#
# The config is read from the file named by --config or ECS_TOPOLOGY_CONFIG (mount it read-only
# at /etc/ecs-topology/config.yaml and set ECS_TOPOLOGY_CONFIG=/etc/ecs-topology/config.yaml), or,
# where no file can be mounted (ECS Fargate), from its YAML text in ECS_TOPOLOGY_CONFIG_YAML.
# Set metricsAddress to 0.0.0.0:9464 in it for /metrics to be reachable from outside.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY . .
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p ecs-topology \
 && install -D -m 0755 target/release/ecs-topology /out/ecs-topology

# glibc, libgcc and CA certificates, no shell, no package manager; runs as uid 65532.
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=build /out/ecs-topology /usr/local/bin/ecs-topology
USER 65532:65532
EXPOSE 9464
# `healthcheck` asks the daemon's /healthz; the image has no curl.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["/usr/local/bin/ecs-topology", "healthcheck"]
ENTRYPOINT ["/usr/local/bin/ecs-topology"]
CMD ["run"]
