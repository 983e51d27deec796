// Pact (the contract tests) reports usage to its makers unless told not to; tests reach only 127.0.0.1.
process.env.PACT_DO_NOT_TRACK = 'true';

module.exports = {
  displayName: 'orders-customers-client',
  preset: '../../../jest.preset.cjs',
  rootDir: __dirname,
};
