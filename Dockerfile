# syntax=docker/dockerfile:1
# One image for the three processes; the Helm chart (deploy/helm/alerts-sync) picks one with its arguments:
#   dist/workers/main.js (default) | dist/clients/event-router.js | dist/clients/codec-server.js
# Debian slim, not Alpine: the Temporal SDK's native core ships for glibc.
ARG NODE_IMAGE=node:20-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
# No install scripts: none of them is needed to compile or bundle (the native parts ship in their packages).
RUN npm ci --ignore-scripts --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY workflows ./workflows
COPY activities ./activities
COPY adapters ./adapters
COPY common ./common
COPY workers ./workers
COPY clients ./clients
COPY simulators ./simulators
# The workflows are bundled here, once, as Temporal's production sample does: the workers start from this file
# (WORKFLOW_BUNDLE_PATH) instead of running webpack in every pod at start-up. The bundle build fails if
# workflow code imports a Node module. test/e2e/workflow-bundle.test.ts builds and runs it the same way.
ENV WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js
RUN npm run build:dist && npm run build:workflows

FROM ${NODE_IMAGE} AS runtime
# ca-certificates: TLS to Temporal and Kafka without a CA file of our own; tini: PID 1 that forwards SIGTERM and
# reaps, so every process gets its graceful shutdown. Unpinned: the base image's Debian release pins them.
# hadolint ignore=DL3008
RUN apt-get update \
  && apt-get install -y --no-install-recommends ca-certificates tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production \
  WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
  KAFKAJS_NO_PARTITIONER_WARNING=1
COPY package.json package-lock.json ./
# Production dependencies only, and no optional ones: those are the embedded PostgreSQL of the dev stack and the
# native compilers webpack would use, and with a pre-built bundle nothing bundles at run time.
RUN npm ci --omit=dev --omit=optional --ignore-scripts --no-audit --no-fund \
  && npm cache clean --force
COPY --from=build /app/dist ./dist
# Root owns the files (read-only to the process); the process runs as the base image's `node` user, by number
# so that Kubernetes' runAsNonRoot can check it.
USER 1000:1000
EXPOSE 9464 9465 8888
ENTRYPOINT ["/usr/bin/tini", "--", "node", "--enable-source-maps"]
CMD ["dist/workers/main.js"]
