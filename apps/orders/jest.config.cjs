module.exports = {
  displayName: 'orders',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  // The suites start the customers service as a process next to in-process orders instances.
  maxWorkers: 1,
};
