import { Doc } from './migration.types';

/** An operator's correction of one stored document: values to set and fields to remove, by dotted path. */
export interface DocumentPatch {
  /** Path -> new value, e.g. `{ 'lines.0.unitPrice': 19.99 }`; an array index is a path segment. */
  set?: Readonly<Record<string, unknown>>;
  /** Paths to remove; removing an array element is refused (it would shift the others). */
  unset?: readonly string[];
}

/** One path a patch changed, with its value before and after (`undefined`: absent). */
export interface PatchedPath {
  path: string;
  before: unknown;
  after: unknown;
}

const INDEX = /^(0|[1-9][0-9]{0,5})$/;
const BOOKKEEPING = new Set(['_id', '_v', '_rev']);
const FORBIDDEN_SEGMENTS = new Set(['__proto__', 'constructor', 'prototype']);

/** Why `path` cannot be patched, or undefined when it can. */
export function patchPathProblem(path: string): string | undefined {
  const segments = path.split('.');
  if (!path || segments.some((s) => s === '')) return `path ${JSON.stringify(path)} must be dot-separated names, e.g. lines.0.unitPrice`;
  if (BOOKKEEPING.has(segments[0])) return `path ${JSON.stringify(path)} names bookkeeping (${segments[0]}), which only the store writes`;
  const bad = segments.find((s) => s.startsWith('$') || FORBIDDEN_SEGMENTS.has(s));
  return bad === undefined ? undefined : `path ${JSON.stringify(path)} has a segment ${JSON.stringify(bad)} that cannot be a field name`;
}

const isPlainObject = (value: unknown): value is Record<string, unknown> => {
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
};

/**
 * `doc` with `patch` applied and the list of changed paths. `doc` is not changed: the objects and
 * arrays along each path are copied, everything else is shared. Every parent along a path must exist:
 * a plain object, or an array when the segment is an index within it. Throws naming the first path
 * that cannot be applied.
 */
export function applyPatch(doc: Doc, patch: DocumentPatch): { doc: Doc; changes: PatchedPath[] } {
  const entries: [string, unknown, boolean][] = [
    ...Object.entries(patch.set ?? {}).map(([p, v]): [string, unknown, boolean] => [p, v, false]),
    ...(patch.unset ?? []).map((p): [string, unknown, boolean] => [p, undefined, true]),
  ];
  if (!entries.length) throw new Error('the patch sets and unsets nothing');
  const next: Doc = { ...doc };
  const changes: PatchedPath[] = [];
  for (const [path, value, remove] of entries) {
    const problem = patchPathProblem(path);
    if (problem) throw new Error(problem);
    const segments = path.split('.');
    let parent: Record<string, unknown> | unknown[] = next;
    for (const segment of segments.slice(0, -1)) {
      const child = childOf(parent, segment, path);
      if (child === undefined) throw new Error(`path ${JSON.stringify(path)}: ${segment} does not exist in the document`);
      if (!Array.isArray(child) && !isPlainObject(child)) throw new Error(`path ${JSON.stringify(path)}: ${segment} is not an object or an array`);
      const copy: Record<string, unknown> | unknown[] = Array.isArray(child) ? [...child] : { ...child };
      if (Array.isArray(parent)) parent[Number(segment)] = copy;
      else parent[segment] = copy;
      parent = copy;
    }
    const last = segments[segments.length - 1];
    if (Array.isArray(parent)) {
      if (!INDEX.test(last) || Number(last) >= parent.length) throw new Error(`path ${JSON.stringify(path)}: ${last} is not an index of an array of ${parent.length}`);
      if (remove) throw new Error(`path ${JSON.stringify(path)}: removing an array element would shift the others; set it instead`);
      changes.push({ path, before: parent[Number(last)], after: value });
      parent[Number(last)] = value;
      continue;
    }
    const before = Object.prototype.hasOwnProperty.call(parent, last) ? parent[last] : undefined;
    if (remove) delete parent[last];
    else parent[last] = value;
    changes.push({ path, before, after: remove ? undefined : value });
  }
  return { doc: next, changes };
}

function childOf(parent: Record<string, unknown> | unknown[], segment: string, path: string): unknown {
  if (Array.isArray(parent)) {
    if (!INDEX.test(segment)) throw new Error(`path ${JSON.stringify(path)}: ${segment} is not an index of an array`);
    return parent[Number(segment)];
  }
  return Object.prototype.hasOwnProperty.call(parent, segment) ? parent[segment] : undefined;
}
