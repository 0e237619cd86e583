# geul in a container: `geul serve` by default; compose.yaml runs the same image as `geul worker` too.
# Not built or run by CI (no container engine there); see the README section "Deploying on several machines".
FROM node:20-slim AS build
WORKDIR /app
# onnxruntime-node's postinstall would download CUDA files the CPU build never uses (as .ci/run and .npmrc explain).
ENV ONNXRUNTIME_NODE_INSTALL=skip
# better-sqlite3 compiles from source when no prebuilt binary matches the platform.
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json .npmrc tsconfig.json tsconfig.build.json ./
COPY bin ./bin
COPY src ./src
# `npm ci` runs `prepare`, which builds dist/; then the dev dependencies go.
RUN npm ci --no-audit --no-fund && npm prune --omit=dev --no-audit --no-fund

FROM node:20-slim
WORKDIR /app
ENV NODE_ENV=production \
    GEUL_HOST=0.0.0.0 \
    GEUL_PORT=8787 \
    GEUL_DATA_DIR=/var/lib/geul \
    GEUL_CACHE_DIR=/srv/geul/cache
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
# Owned by the unprivileged user, so a fresh named volume mounted on /srv/geul is writable.
RUN mkdir -p /var/lib/geul /srv/geul/api /srv/geul/jobs /srv/geul/cache /srv/geul/models && chown -R node:node /var/lib/geul /srv/geul
USER node
VOLUME ["/srv/geul"]
EXPOSE 8787
ENTRYPOINT ["node", "/app/bin/geul"]
CMD ["serve"]
