# pingscope app image (the database runs in the timescaledb service of docker-compose.yml).
FROM node:20-bookworm-slim AS build
RUN apt-get update && apt-get install -y --no-install-recommends python3 make g++ && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build && npm prune --omit=dev

FROM node:20-bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends traceroute && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY --from=build /app/package.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/sql ./sql
COPY --from=build /app/web/dist ./web/dist
ENV NODE_ENV=production HOST=0.0.0.0 PORT=6666
EXPOSE 6666
# Raw ICMP sockets need CAP_NET_RAW (granted by cap_add in docker-compose.yml).
CMD ["node", "dist/cli/index.js", "serve"]
