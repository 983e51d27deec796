module.exports = {
  displayName: 'migrations-core',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
