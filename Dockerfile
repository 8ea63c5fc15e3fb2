# One image for every certflow process in docker-compose.yml: api, worker, render-worker, migrate
# (the command picks which). TypeScript runs through tsx at run time, as with `npm start`.
ARG NODE_IMAGE=node:22-bookworm-slim

# Dependencies, built where compilers are: better-sqlite3 compiles from source when no prebuilt
# binary fits. Only production dependencies (tsx among them); the compilers stay in this stage.
FROM ${NODE_IMAGE} AS deps
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# package.json's allowScripts (which dependencies may run install scripts) is read by npm 11.
RUN npm install -g npm@11 --no-fund --no-audit
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-fund --no-audit && node -e "require('better-sqlite3')"

FROM ${NODE_IMAGE}
# LibreOffice without the GUI (DOCX → PDF), CJK fonts for Chinese certificates, python3-uno for
# the warm converters (services/documents/convert.ts), tini to reap soffice and forward signals.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libreoffice-writer-nogui fonts-noto-cjk python3-uno tini ca-certificates \
 && rm -rf /var/lib/apt/lists/*
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /home/certflow certflow \
 && mkdir -p /var/lib/certflow && chown certflow:certflow /var/lib/certflow
ENV NODE_ENV=production HOST=0.0.0.0 PORT=3000 DATA_DIR=/var/lib/certflow HOME=/home/certflow
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY package.json package-lock.json tsconfig.json ./
COPY bin ./bin
COPY main ./main
COPY platform ./platform
COPY domain ./domain
COPY db ./db
COPY services ./services
COPY activities ./activities
COPY workflows ./workflows
COPY api ./api
COPY web ./web
COPY templates ./templates
USER certflow
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--", "node", "bin/certflow.js"]
CMD ["api"]
