module.exports = {
  displayName: 'customers-data-access',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
