# alert-triage: multi-stage build. The build stage installs and compiles exactly as CI does
# (npm ci, then the TypeScript build that `npm start` runs); the runtime stage keeps only
# production dependencies and runs as the unprivileged `node` user.
# Node 22, an LTS (Node 20 reached end of life in April 2026); package.json's engines lists it.

FROM node:22-bookworm-slim AS build
WORKDIR /app
# better-sqlite3 compiles from source when no prebuilt binary fits.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json ./
COPY src ./src
RUN npm run build && npm prune --omit=dev

FROM node:22-bookworm-slim
ENV NODE_ENV=production \
    PORT=9095 \
    HOST=0.0.0.0
WORKDIR /app
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
COPY bin ./bin
COPY config ./config
COPY monitoring ./monitoring
# The SQLite store (DATABASE_URL unset: ./data/alert-triage.db).
RUN mkdir -p /app/data && chown node:node /app/data
VOLUME ["/app/data"]
USER node
EXPOSE 9095
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 9095) + '/readyz').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# server.ts stops accepting, finishes in-flight requests and closes the store on SIGTERM.
STOPSIGNAL SIGTERM
CMD ["node", "dist/src/server.js"]
