module.exports = {
  displayName: 'migrations-redis',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
