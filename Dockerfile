# One image for both the API and the worker; the command chooses which.
FROM node:20-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm install --omit=dev --no-audit --no-fund

FROM node:20-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json tsconfig.json ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY scripts ./scripts
# Workers load a prebuilt workflow bundle instead of bundling at every start.
RUN node --import tsx scripts/build-workflow-bundle.ts /app/workflow-bundle.js
ENV TEMPORAL_WORKFLOW_BUNDLE=/app/workflow-bundle.js
USER node
EXPOSE 3000
CMD ["node", "--import", "tsx", "src/main/api.ts"]
