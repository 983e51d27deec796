module.exports = {
  displayName: 'auth-domain',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
