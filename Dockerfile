# One Dockerfile, two images: `--target api` and `--target worker` (docker compose builds both).
# Build stage: every dependency from the lock file, then `npm run build` (type check, compiled
# processes and the workflow bundle in dist/).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts ./scripts
RUN npm run build

# Runtime: production dependencies from the lock file and dist/, nothing else; no TypeScript
# tooling, no sources.
FROM node:24-bookworm-slim AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY --from=build /app/dist ./dist
# The image's own user, not root; nothing under /app is writable by it.
USER node
STOPSIGNAL SIGTERM

FROM runtime AS worker
# The health endpoint the HEALTHCHECK asks: 503 unless the Temporal worker runs and reaches
# Temporal, Redis and MongoDB.
ENV WORKER_HEALTH_PORT=3001
HEALTHCHECK --interval=10s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.WORKER_HEALTH_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/worker.js"]

# Last, so a plain `docker build .` makes the API image.
FROM runtime AS api
ENV HTTP_HOST=0.0.0.0 HTTP_PORT=3000
EXPOSE 3000
# 503 unless MongoDB, Redis and Temporal answer.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:'+process.env.HTTP_PORT+'/healthz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"]
CMD ["node", "--enable-source-maps", "dist/api.js"]
