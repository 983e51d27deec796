import { ShadowMismatch, shadowRead } from './shadow-read';

interface Customer {
  firstName: string;
  lastName: string;
  fullName?: string;
}

const oldName = (c: Customer) => `${c.firstName} ${c.lastName}`;
const newName = async (c: Customer) => c.fullName as string;

describe('shadowRead', () => {
  it('serves the old path and counts reads whose new path disagrees', async () => {
    const read = shadowRead(oldName, newName);
    expect(await read({ firstName: 'Ada', lastName: 'L', fullName: 'Ada L' })).toBe('Ada L');
    expect(await read({ firstName: 'Bob', lastName: 'M', fullName: 'Bob X' })).toBe('Bob M');
    expect(read.stats).toEqual({ reads: 2, mismatches: 1, errors: 0 });
  });

  it('serves the new path when asked to, and reports each mismatch with both answers', async () => {
    const seen: ShadowMismatch<[Customer], string>[] = [];
    const read = shadowRead(oldName, newName, { serve: 'new', onMismatch: (m) => seen.push(m) });
    const customer = { firstName: 'Cy', lastName: 'N', fullName: 'C N' };
    expect(await read(customer)).toBe('C N');
    expect(seen).toEqual([{ args: [customer], oldValue: 'Cy N', newValue: 'C N' }]);
  });

  it('counts a throwing shadow path as a mismatch but still answers from the served path', async () => {
    const read = shadowRead(oldName, () => {
      throw new Error('no fullName');
    });
    expect(await read({ firstName: 'D', lastName: 'O' })).toBe('D O');
    expect(read.stats).toEqual({ reads: 1, mismatches: 1, errors: 1 });
  });

  it('lets the served path error reach the caller without counting a mismatch', async () => {
    const read = shadowRead(
      () => Promise.reject(new Error('old store down')),
      () => 'x',
    );
    await expect(read()).rejects.toThrow('old store down');
    expect(read.stats).toEqual({ reads: 1, mismatches: 0, errors: 0 });
  });

  it('compares with deep equality by default and with the given function otherwise', async () => {
    const deep = shadowRead(
      () => ({ a: 1, b: [new Date(5)] }),
      () => ({ b: [new Date(5)], a: 1 }),
    );
    await deep();
    expect(deep.stats.mismatches).toBe(0);
    const caseless = shadowRead(
      () => 'ADA',
      () => 'ada',
      (a, b) => a.toLowerCase() === b.toLowerCase(),
    );
    await caseless();
    expect(caseless.stats.mismatches).toBe(0);
  });

  it('hands back the counts on reset and starts again from zero', async () => {
    const read = shadowRead(
      () => 1,
      () => 2,
    );
    await read();
    await read();
    expect(read.reset()).toEqual({ reads: 2, mismatches: 2, errors: 0 });
    expect(read.stats).toEqual({ reads: 0, mismatches: 0, errors: 0 });
  });
});
