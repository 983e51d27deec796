module.exports = {
  displayName: 'demo',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
};
