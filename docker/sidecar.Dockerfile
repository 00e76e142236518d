# The sidecar image: Node.js running sidecar/dist. Build from the repository root:
#   docker build -f docker/sidecar.Dockerfile -t aerogrid/sidecar:0.1.0 .
FROM node:20-bookworm-slim AS build
WORKDIR /src
COPY package.json package-lock.json tsconfig.base.json ./
COPY sidecar/package.json sidecar/
COPY protocol/package.json protocol/
# typescript is the root's dev dependency: install it with the sidecar's own dependencies.
RUN npm ci --ignore-scripts --workspace sidecar --workspace protocol --include-workspace-root
COPY protocol/ protocol/
COPY sidecar/ sidecar/
# -b: the sidecar's project reference builds the contract package first.
RUN npx tsc -b sidecar/tsconfig.json

# Only the sidecar's runtime dependencies (kafkajs, ws, the contract package) go into the image.
FROM node:20-bookworm-slim AS deps
WORKDIR /src
COPY package.json package-lock.json ./
COPY sidecar/package.json sidecar/
COPY protocol/package.json protocol/
RUN npm ci --omit=dev --ignore-scripts --workspace sidecar --workspace protocol --include-workspace-root=false

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /opt/aerogrid
COPY --from=deps /src/node_modules ./node_modules
# node_modules/@aerogrid/protocol links to ../../protocol.
COPY --from=build /src/protocol/package.json ./protocol/package.json
COPY --from=build /src/protocol/dist ./protocol/dist
COPY --from=build /src/sidecar/package.json ./sidecar/package.json
COPY --from=build /src/sidecar/dist ./sidecar/dist
# The pod runs it as 10001 with a read-only root filesystem; it writes only to /tmp and /run/aerogrid.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "sidecar/dist/main.js"]
