module.exports = {
  displayName: 'orders-data-access',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
