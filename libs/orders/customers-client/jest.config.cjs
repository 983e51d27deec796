module.exports = {
  displayName: 'orders-customers-client',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
