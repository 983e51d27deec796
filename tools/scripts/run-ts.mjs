// Runs a TypeScript file of this workspace in-process with @swc-node/register, with
// tsconfig.base.json paths (`@zdm/*`) resolving:  node tools/scripts/run-ts.mjs <file.ts> [args...]
// Also importable: `loadTs(file)` returns the module's exports (used by tools/scripts/test.mjs).
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const require = createRequire(path.join(root, 'package.json'));

let registered = false;
/** require() a workspace .ts file (CommonJS) and return its exports. */
export function loadTs(file) {
  if (!registered) {
    process.env.SWC_NODE_PROJECT ??= path.join(root, 'tsconfig.base.json');
    require('@swc-node/register');
    registered = true;
  }
  return require(path.resolve(root, file));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const [file, ...args] = process.argv.slice(2);
  if (!file) {
    console.error('usage: node tools/scripts/run-ts.mjs <file.ts> [args...]');
    process.exit(2);
  }
  process.argv = [process.argv[0], path.resolve(process.cwd(), file), ...args];
  loadTs(path.resolve(process.cwd(), file));
}
