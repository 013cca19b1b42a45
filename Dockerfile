# syntax=docker/dockerfile:1
# The broker's image: one image for both processes, `serve` (the OSB API, the default) and
# `worker` (the Temporal worker). Build:  docker build -t kubernetes-broker:0.1.0 .
#
# Debian (glibc), not Alpine: the Temporal worker's native core (@temporalio/core-bridge) and
# @swc/core (the build stage's workflow bundler) ship prebuilt glibc binaries. Dependencies with
# install scripts (@swc/core, protobufjs, esbuild) are the ones package.json's `allowScripts`
# approves, so npm 11.16+ (advisory) and npm 12 (enforcing) run the same scripts as the npm 10 of
# this base image.
ARG NODE_IMAGE=node:20-bookworm-slim

# ---- build: TypeScript -> dist/, bundled by esbuild into dist/bundle/ (what bin/ runs), and the
# workflows bundled by the Temporal SDK into dist/workflow-bundle.js (what the worker loads) -----
FROM ${NODE_IMAGE} AS build
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY . .
# tsc fails the build on any type error; then scripts/bundle.mjs (fast start, docs/performance.md)
# and scripts/bundle-workflows.mjs.
RUN npm run build

# ---- deps: production dependencies, less what no process loads ------------------------------
# With the workflows prebuilt, the worker never runs the SDK's bundler: scripts/prune-runtime.mjs
# removes its compiler and minifier (swc, terser) and the other platforms' native libraries. In a
# stage of its own because files deleted in a later layer would still weigh in the image.
FROM ${NODE_IMAGE} AS deps
WORKDIR /app
COPY package.json package-lock.json ./
COPY scripts/prune-runtime.mjs ./scripts/
RUN npm ci --omit=dev --no-audit --no-fund && node scripts/prune-runtime.mjs node_modules

# ---- runtime: the pruned dependencies, dist/, bin/, the shipped catalog ---------------------
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json ./
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /src/dist ./dist
COPY bin ./bin
COPY service-catalog ./service-catalog
# The base image's `node` user, by number, so that Kubernetes' runAsNonRoot can verify it.
# Nothing is written below /app: the root filesystem can be read-only.
USER 1000:1000
EXPOSE 8080
# No curl in the image: Node's fetch asks /healthz (process alive). The worker serves no HTTP:
# compose disables this check for it.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+(process.env.PORT||8080)+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
ENTRYPOINT ["node", "bin/kubernetes-broker.js"]
CMD ["serve"]
