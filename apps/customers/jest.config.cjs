module.exports = {
  displayName: 'customers',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
};
