module.exports = {
  displayName: 'migrations-nest',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
