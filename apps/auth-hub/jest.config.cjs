module.exports = {
  displayName: 'auth-hub',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  // The suites measure login timing; running them one at a time keeps the figures less noisy.
  maxWorkers: 1,
};
