import { parsePatch } from './commands';
import { CliError, ExitCode } from './exit-codes';

describe('zdm quarantine patch options', () => {
  it('reads each --set as a path and a JSON value, and keeps --unset paths', () => {
    expect(parsePatch({ set: ['lines.0.unitPrice=19.99', 'currency="EUR"', 'note={"a":[1,2]}', 'x=a=b'.replace('a=b', '"a=b"')], unset: ['legacy'] })).toEqual({
      set: { 'lines.0.unitPrice': 19.99, currency: 'EUR', note: { a: [1, 2] }, x: 'a=b' },
      unset: ['legacy'],
    });
  });

  it.each([
    [{ set: ['total'], unset: [] }, '--set total: give path=value, e.g. lines.0.unitPrice=19.99'],
    [{ set: ['=1'], unset: [] }, '--set =1: give path=value, e.g. lines.0.unitPrice=19.99'],
    [{ set: ['currency=EUR'], unset: [] }, '--set currency=EUR: the value after = must be JSON: a number (19.99), a string in double quotes ("EUR"), true, false, null, an object or an array'],
    [{ set: [], unset: [] }, 'quarantine patch needs at least one --set path=json or --unset path'],
  ])('refuses %j as a usage error naming it', (options, message) => {
    let caught: unknown;
    try {
      parsePatch(options);
    } catch (err) {
      caught = err;
    }
    expect(caught).toBeInstanceOf(CliError);
    expect(caught).toMatchObject({ exitCode: ExitCode.usage, message });
  });
});
