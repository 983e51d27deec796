import { applyPatch, patchPathProblem } from './document-patch';

describe('applyPatch', () => {
  const doc = { currency: 'EUR', total: 19.999, lines: [{ sku: 'A', unitPrice: 19.999 }, { sku: 'B', unitPrice: 1 }], at: new Date(0) };

  it('sets a value inside an array element and reports it before and after, leaving the original untouched', () => {
    const { doc: next, changes } = applyPatch(doc, { set: { 'lines.0.unitPrice': 19.99, total: 19.99 } });
    expect(next).toEqual({ ...doc, total: 19.99, lines: [{ sku: 'A', unitPrice: 19.99 }, { sku: 'B', unitPrice: 1 }] });
    expect(changes).toEqual([
      { path: 'lines.0.unitPrice', before: 19.999, after: 19.99 },
      { path: 'total', before: 19.999, after: 19.99 },
    ]);
    expect(doc.lines[0].unitPrice).toBe(19.999);
    expect(next['lines']).not.toBe(doc.lines);
    expect((next['lines'] as unknown[])[1]).toBe(doc.lines[1]);
    expect(next['at']).toBe(doc.at);
  });

  it('adds a missing field and removes one', () => {
    const { doc: next, changes } = applyPatch({ total: 1 } as Record<string, unknown>, { set: { currency: 'JPY' }, unset: ['total'] });
    expect(next).toEqual({ currency: 'JPY' });
    expect(changes).toEqual([
      { path: 'currency', before: undefined, after: 'JPY' },
      { path: 'total', before: 1, after: undefined },
    ]);
  });

  it.each([
    [{ set: { 'lines.5.unitPrice': 1 } }, 'path "lines.5.unitPrice": 5 does not exist in the document'],
    [{ set: { 'lines.x.unitPrice': 1 } }, 'path "lines.x.unitPrice": x is not an index of an array'],
    [{ set: { 'lines.2': 1 } }, 'path "lines.2": 2 is not an index of an array of 2'],
    [{ unset: ['lines.0'] }, 'path "lines.0": removing an array element would shift the others; set it instead'],
    [{ set: { 'total.minor': 1 } }, 'path "total.minor": total is not an object or an array'],
    [{ set: { 'at.x': 1 } }, 'path "at.x": at is not an object or an array'],
    [{ set: { 'missing.x': 1 } }, 'path "missing.x": missing does not exist in the document'],
    [{}, 'the patch sets and unsets nothing'],
  ])('refuses %j, naming the problem', (patch, message) => {
    expect(() => applyPatch(doc, patch)).toThrow(message);
  });

  it.each([
    ['_id', 'path "_id" names bookkeeping (_id), which only the store writes'],
    ['_v', 'path "_v" names bookkeeping (_v), which only the store writes'],
    ['a.$set', 'path "a.$set" has a segment "$set" that cannot be a field name'],
    ['__proto__.polluted', 'path "__proto__.polluted" has a segment "__proto__" that cannot be a field name'],
    ['a..b', 'path "a..b" must be dot-separated names, e.g. lines.0.unitPrice'],
    ['', 'path "" must be dot-separated names, e.g. lines.0.unitPrice'],
  ])('refuses the path %j', (path, problem) => {
    expect(patchPathProblem(path)).toBe(problem);
  });
});
