module.exports = {
  displayName: 'auth-guard',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
  // The suites start the auth hub as a process.
  maxWorkers: 1,
};
