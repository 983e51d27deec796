module.exports = {
  displayName: 'customers-domain',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
