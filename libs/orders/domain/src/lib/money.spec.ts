import { CURRENCIES, MAX_MINOR_UNITS, currencyProblem, toMajorUnits, toMinorUnits } from './money';

const minor = (value: unknown, currency: string) => toMinorUnits(value, currency, 'total');

describe('toMinorUnits', () => {
  it.each([
    [19.99, 'EUR', 1999],
    [0.3, 'EUR', 30],
    [1999, 'JPY', 1999],
    [1.234, 'BHD', 1234],
    [0, 'EUR', 0],
    [-0, 'EUR', 0],
    [0.01, 'USD', 1],
    [1e6, 'KWD', 1e9],
    [90071992547409.91, 'JPY', undefined],
  ])('converts %p %s exactly at its exponent', (value, currency, expected) => {
    if (expected === undefined) return expect(minor(value, currency).ok).toBe(false);
    expect(minor(value, currency)).toEqual({ ok: true, minor: expected });
  });

  it('takes float noise of arithmetic as the amount it is near: 0.1 + 0.2 is 30 cents, and a sum of 100 prices too', () => {
    expect(0.1 + 0.2).not.toBe(0.3);
    expect(minor(0.1 + 0.2, 'EUR')).toEqual({ ok: true, minor: 30 });
    let sum = 0;
    for (let i = 0; i < 100; i++) sum += 19.99;
    expect(sum).not.toBe(1999);
    expect(minor(sum, 'EUR')).toEqual({ ok: true, minor: 199_900 });
    expect(minor(1.1 * 3, 'BHD')).toEqual({ ok: true, minor: 3300 });
  });

  it.each([
    [19.999, 'EUR', 'total 19.999 is not a whole number of EUR minor units (EUR has 2 decimals); it is not rounded'],
    [19.990000001, 'EUR', 'total 19.990000001 is not a whole number of EUR minor units (EUR has 2 decimals); it is not rounded'],
    [0.5, 'JPY', 'total 0.5 is not a whole number of JPY minor units (JPY has whole units); it is not rounded'],
    [1.2345, 'BHD', 'total 1.2345 is not a whole number of BHD minor units (BHD has 3 decimals); it is not rounded'],
    [1e-20, 'EUR', 'total 1e-20 is not a whole number of EUR minor units (EUR has 2 decimals); it is not rounded'],
    [-1, 'EUR', 'total must not be negative, got -1'],
    [NaN, 'EUR', 'total must be a number, got NaN'],
    [Infinity, 'EUR', 'total must be finite, got Infinity'],
    ['19.99', 'EUR', 'total must be a number, got string'],
    [null, 'EUR', 'total must be a number, got null'],
    [2 ** 53 / 100, 'EUR', `total ${2 ** 53 / 100} EUR is more than 2^53-1 minor units`],
    [1, 'XXX', 'currency "XXX" is not one of ' + CURRENCIES.join(', ')],
  ])('refuses %p %s, saying why', (value, currency, problem) => {
    expect(minor(value, currency)).toEqual({ ok: false, problem });
  });

  it('accepts the largest safe amount and refuses the next one', () => {
    expect(minor(MAX_MINOR_UNITS, 'JPY')).toEqual({ ok: true, minor: MAX_MINOR_UNITS });
    expect(minor(MAX_MINOR_UNITS + 1, 'JPY').ok).toBe(false);
  });

  it('round-trips every cent amount below 10,000 EUR through the float v1 stored', () => {
    for (let cents = 0; cents < 1_000_000; cents += 7) expect(minor(toMajorUnits(cents, 'EUR'), 'EUR')).toEqual({ ok: true, minor: cents });
  });
});

describe('currencyProblem', () => {
  it('names a missing, non-string or unknown currency and accepts the table', () => {
    expect(currencyProblem(undefined)).toBe('currency is missing');
    expect(currencyProblem(978)).toBe('currency must be a string, got number');
    expect(currencyProblem('eur')).toMatch(/^currency "eur" is not one of EUR, /);
    expect(currencyProblem('__proto__')).toMatch(/is not one of/);
    for (const code of CURRENCIES) expect(currencyProblem(code)).toBeUndefined();
  });
});
