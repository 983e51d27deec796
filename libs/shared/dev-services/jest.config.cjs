module.exports = {
  displayName: 'shared-dev-services',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
