# syntax=docker/dockerfile:1
# The base image pinned by digest, so that a rebuild gets the same bytes and a moved tag changes
# nothing. No registry is reachable where this was written: the digest is the one several public
# projects pin for this tag. Move it deliberately, with the digest a registry gives
# (docker buildx imagetools inspect node:20-bookworm-slim), or override it: --build-arg NODE_IMAGE=….
ARG NODE_IMAGE=node:20-bookworm-slim@sha256:2cf067cfed83d5ea958367df9f966191a942351a2df77d6f0193e162b5febfc0

# Build stage: install everything, compile TypeScript to dist/, keep production dependencies only.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY tsconfig.json tsconfig.build.json ./
COPY scripts ./scripts
COPY src ./src
# What nothing reads at run time: source maps, type declarations, TypeScript sources and docs
# (75 MB of production node_modules become 46 MB).
RUN npm run build && npm prune --omit=dev \
  && find node_modules -type f \( -name '*.map' -o -name '*.d.ts' -o -name '*.d.cts' -o -name '*.d.mts' -o -name '*.md' -o \( -name '*.ts' -path '*/src/*' \) \) -delete

# Runtime stage: production dependencies, compiled code, the standard and the mappings.
FROM ${NODE_IMAGE}
ARG VERSION=0.1.0
ARG REVISION=unknown
LABEL org.opencontainers.image.title="Customer Exchange" \
      org.opencontainers.image.description="Exchange and match customer data between enterprises under signed consent, with a verifiable audit log" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="UNLICENSED" \
      org.opencontainers.image.base.name="${NODE_IMAGE}"
# tini as PID 1: signals reach the service (it drains the audit log on SIGTERM) and zombies are reaped.
RUN apt-get update && apt-get install -y --no-install-recommends tini && rm -rf /var/lib/apt/lists/*
ENV NODE_ENV=production HOST=0.0.0.0 PORT=8080 DATA_DIR=/data
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY standards ./standards
COPY mappings ./mappings
RUN mkdir -p /data && chown node:node /data
USER node
VOLUME ["/data"]
EXPOSE 8080
# Ready, not just alive: /readyz answers 200 only while the database answers.
HEALTHCHECK --interval=30s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/cx.js"]
CMD ["serve"]
