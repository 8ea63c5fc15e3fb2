// npm test runs every spec: unit, integration (SQLite, MariaDB, Redis), workflows (real
// Temporal dev server), e2e (npm start as a user runs it, Chromium).
module.exports = {
  require: ['tsx/cjs', 'test/support/hooks.ts'],
  spec: ['test/**/*.test.ts'],
  reporter: 'test/support/reporter.js',
  timeout: 60000,
  slow: 2000,
  exit: true,
};
