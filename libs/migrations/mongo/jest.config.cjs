module.exports = {
  displayName: 'migrations-mongo',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
