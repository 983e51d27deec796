#!/usr/bin/env node
// Compiles what one entry file of this workspace needs to run, and nothing else, into plain
// CommonJS for a container image:
//
//   node tools/containers/compile.mjs <outDir> <entry.ts> [<entry.ts>...]
//
// Each entry is transpiled with swc (decorator metadata on, as tsconfig.base.json asks), `@zdm/*`
// imports are rewritten to relative paths through tsconfig.base.json's `paths`, and every
// workspace file those imports reach is compiled in turn, keeping the tree's layout
// (apps/customers/src/main.ts -> <outDir>/apps/customers/src/main.js). Packages from node_modules
// are left as they are. Prints one line: the files compiled.
import { mkdirSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';

const [outDir, ...entries] = process.argv.slice(2);
if (!outDir || entries.length === 0) {
  console.error('usage: node tools/containers/compile.mjs <outDir> <entry.ts> [<entry.ts>...]');
  process.exit(2);
}
const root = process.cwd();
const require = createRequire(path.join(root, 'package.json'));
const swc = require(process.env.SWC_CORE ?? '@swc/core');
const { compilerOptions } = JSON.parse(readFileSync(path.join(root, 'tsconfig.base.json'), 'utf8'));

const options = {
  swcrc: false,
  sourceMaps: false,
  jsc: {
    parser: { syntax: 'typescript', decorators: true },
    target: compilerOptions.target ?? 'es2023',
    baseUrl: root,
    paths: compilerOptions.paths ?? {},
    transform: { legacyDecorator: true, decoratorMetadata: true },
    keepClassNames: true,
  },
  module: { type: 'commonjs' },
};

/** The workspace .ts file a relative require points at, or null. */
function resolveSource(fromFile, spec) {
  const base = path.resolve(path.dirname(fromFile), spec);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (candidate.endsWith('.ts') && existsSync(candidate)) return candidate;
  }
  if (existsSync(`${base}.json`)) return `${base}.json`;
  if (base.endsWith('.json') && existsSync(base)) return base;
  throw new Error(`${path.relative(root, fromFile)}: cannot resolve ${spec}`);
}

const done = new Set();
const queue = entries.map((e) => path.resolve(root, e));
while (queue.length) {
  const file = queue.shift();
  if (done.has(file)) continue;
  done.add(file);
  const rel = path.relative(root, file);
  if (rel.startsWith('..')) throw new Error(`${file} is outside the workspace`);
  const target = path.join(outDir, rel.replace(/\.ts$/, '.js'));
  mkdirSync(path.dirname(target), { recursive: true });
  if (file.endsWith('.json')) {
    writeFileSync(target, readFileSync(file));
    continue;
  }
  const { code } = swc.transformFileSync(file, options);
  writeFileSync(target, code);
  for (const [, spec] of code.matchAll(/require\("(\.{1,2}\/[^"]*)"\)/g)) queue.push(resolveSource(file, spec));
}
console.log(`compiled ${done.size} files into ${outDir}`);
