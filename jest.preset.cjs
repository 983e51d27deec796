// Shared Jest preset: SWC transform (with decorator metadata for NestJS) and
// tsconfig path aliases, so every project resolves `@zdm/*` the same way.
const path = require('node:path');
const { compilerOptions } = require('./tsconfig.base.json');

const moduleNameMapper = {};
for (const [alias, [target]] of Object.entries(compilerOptions.paths ?? {})) {
  const key = '^' + alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&').replace('\\*', '(.*)') + '$';
  moduleNameMapper[key] = path.join(__dirname, target.replace('*', '$1'));
}

/** SWC turning TypeScript (and the ES modules below) into CommonJS for Jest. */
const swc = (syntax) => [
  '@swc/jest',
  {
    jsc: {
      parser: { syntax, decorators: true },
      transform: { legacyDecorator: true, decoratorMetadata: true },
      target: 'es2023',
    },
    module: { type: 'commonjs' },
    sourceMaps: 'inline',
  },
];

/** Packages published as ES modules only (jose 6): Jest's CommonJS runtime needs them transformed. */
const ESM_ONLY = ['jose'];

module.exports = {
  testEnvironment: 'node',
  transform: {
    '^.+\\.ts$': swc('typescript'),
    [`/node_modules/(${ESM_ONLY.join('|')})/.+\\.js$`]: swc('ecmascript'),
  },
  transformIgnorePatterns: [`/node_modules/(?!(${ESM_ONLY.join('|')})/)`],
  moduleFileExtensions: ['ts', 'js', 'json'],
  moduleNameMapper,
  testMatch: ['**/?(*.)+(spec|int-spec).ts'],
};
