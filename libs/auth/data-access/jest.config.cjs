module.exports = {
  displayName: 'auth-data-access',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
