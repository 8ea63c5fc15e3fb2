#!/usr/bin/env node
// The certflow command: start | api | worker | render-worker | migrate | temporal-init. TypeScript runs through tsx.
require('tsx/cjs');
require('../main/cli.ts')
  .main(process.argv.slice(2))
  .catch((err) => {
    console.error(err);
    process.exit(1);
  });
