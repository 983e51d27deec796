module.exports = {
  displayName: 'zdm',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
};
