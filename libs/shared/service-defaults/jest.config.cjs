module.exports = {
  displayName: 'shared-service-defaults',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
