# Multi-stage image for the PMS backend. Not exercised on the project's CI machines (no Docker engine
# there): it mirrors what .ci/run does — npm ci (which also builds the admin), then `pms start`.
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY bin ./bin
COPY src ./src
COPY pms-configs ./pms-configs
COPY tsconfig.json ./
RUN npm ci --no-audit --no-fund && npm prune --omit=dev

FROM node:24-bookworm-slim
ENV NODE_ENV=production PORT=8000 HOST=0.0.0.0 PMS_DATA_DIR=/data
WORKDIR /app
COPY --from=build /app /app
RUN useradd --system --uid 10001 pms && mkdir -p /data && chown pms /data
USER pms
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s CMD node -e "fetch('http://127.0.0.1:8000/readyz').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
ENTRYPOINT ["node", "--no-memory-reducer", "bin/pms.js"]
CMD ["start", "--role", "all"]
