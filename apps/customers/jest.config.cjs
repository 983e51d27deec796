// Pact (the contract tests) reports usage to its makers unless told not to; tests reach only 127.0.0.1.
process.env.PACT_DO_NOT_TRACK = 'true';

module.exports = {
  displayName: 'customers',
  preset: '../../jest.preset.cjs',
  rootDir: __dirname,
  // The phase and blue-green suites both drive the customers.* flags of the one Unleash all suites
  // share, so the suites of this project run one at a time.
  maxWorkers: 1,
};
