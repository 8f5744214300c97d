# syntax=docker/dockerfile:1
# Deliberate: one image for `serve` and `worker` (see docs/deploy.md and compose.yaml).

FROM node:20-bookworm-slim AS build
WORKDIR /app
# Native modules (better-sqlite3) fall back to compiling when no prebuilt binary matches.
RUN apt-get update \
  && apt-get install -y --no-install-recommends python3 make g++ \
  && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
COPY tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
COPY cli ./cli
COPY server ./server
# `npm ci` runs the `prepare` script, which compiles the TypeScript into dist/.
RUN npm ci && npm prune --omit=dev

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    DELIBERATE_DB=/data/deliberate.db \
    DELIBERATE_MODELS_DIR=/models
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
RUN mkdir -p /data /models && chown node:node /data /models
USER node
VOLUME ["/data", "/models"]
EXPOSE 8080
ENTRYPOINT ["node", "bin/deliberate.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
