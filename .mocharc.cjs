// npm test runs every spec: unit, integration (SQLite, MariaDB, Redis), workflows (real
// Temporal dev server), e2e (npm start as a user runs it, Chromium).
// `npx mocha test/unit/foo.test.ts` runs just that file; with no paths, everything runs.
const explicit = process.argv.slice(2).some((a) => a.startsWith('test/') || a.startsWith('./test/'));

module.exports = {
  require: ['tsx/cjs', 'test/support/hooks.ts'],
  ...(explicit ? {} : { spec: ['test/**/*.test.ts'] }),
  extension: ['ts'],
  reporter: 'test/support/reporter.js',
  timeout: 60000,
  slow: 2000,
  exit: true,
};
