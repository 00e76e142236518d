# The sidecar image, from the same build as the CLI: the npm package (`npm pack` at the root,
# which builds first) carries the built sidecar with its bundled dependencies, and the image takes
# exactly those. Build from the repository root:
#   npm pack && docker build -f docker/sidecar.Dockerfile -t aerogrid/sidecar:0.1.0 .
FROM node:20-bookworm-slim AS package
WORKDIR /src
COPY aerogrid-*.tgz ./
# The tarball's node_modules holds only the bundled packages: the sidecar, the contract package
# and what they import (kafkajs, ws, jose), already built, with the live viewer's page
# (dist/viewer); no npm install, no compiler.
RUN mkdir -p /opt/aerogrid \
 && tar -xzf aerogrid-*.tgz -C /opt/aerogrid --strip-components=1 package/node_modules \
 && test -f /opt/aerogrid/node_modules/@aerogrid/sidecar/dist/viewer/viewer.js \
 && node /opt/aerogrid/node_modules/@aerogrid/sidecar/dist/bundle/main.js --help >/dev/null

FROM gcr.io/distroless/nodejs20-debian12:nonroot
WORKDIR /opt/aerogrid
COPY --from=package /opt/aerogrid/node_modules ./node_modules
# The pod runs it as 10001 with a read-only root filesystem; it writes only to /tmp and /run/aerogrid.
USER 10001:10001
EXPOSE 8080
ENTRYPOINT ["/nodejs/bin/node", "node_modules/@aerogrid/sidecar/dist/bundle/main.js"]
