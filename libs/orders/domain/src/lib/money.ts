/**
 * Money: ISO 4217 currencies with their minor-unit exponent, and the one rule that turns a float
 * amount in major units (what v1 stores: `19.99`) into integer minor units (`1999` cents).
 *
 * The rule. A float `value` in `currency` (exponent `e`) converts to the integer `n` nearest to
 * `value × 10^e`, computed exactly from the binary value of the double (no float arithmetic), when
 * - `value` is a finite number, not negative (`-0` is 0), and `currency` is in {@link CURRENCY_EXPONENTS};
 * - `n ≤ 2^53 - 1` (Number.MAX_SAFE_INTEGER), so every client reads it exactly;
 * - the distance between `value` and `n / 10^e` is float noise, which means BOTH:
 *   - at most 2^-42 of the amount (about 1,000 units in the last place of a double: the error of
 *     summing or multiplying a few hundred prices, e.g. 0.1 + 0.2 = 0.30000000000000004), and
 *   - at most a thousandth of a minor unit (so no amount too large for a double to hold to the cent
 *     is taken for a whole number of cents).
 * Anything else is refused with the reason, never rounded: `19.999` EUR is 1999.9 cents, and
 * `19.990000001` EUR is off by more than float noise. Zero is exact only as 0.
 */

/** The currencies this service accepts, with their ISO 4217 minor-unit exponent. */
export const CURRENCY_EXPONENTS: Readonly<Record<string, number>> = Object.freeze({
  EUR: 2,
  USD: 2,
  GBP: 2,
  CHF: 2,
  SEK: 2,
  JPY: 0,
  KRW: 0,
  BHD: 3,
  KWD: 3,
  JOD: 3,
});

/** The codes of {@link CURRENCY_EXPONENTS}, in table order. */
export const CURRENCIES: readonly string[] = Object.freeze(Object.keys(CURRENCY_EXPONENTS));

/** Largest amount in minor units: 2^53 - 1, the largest integer every JSON client reads exactly. */
export const MAX_MINOR_UNITS = Number.MAX_SAFE_INTEGER;

/** An amount in integer minor units of an ISO 4217 currency, e.g. `{ minor: 1999, currency: 'EUR' }` for 19.99 EUR. */
export interface Money {
  minor: number;
  currency: string;
}

/** A conversion: the minor units, or why the value has none. */
export type MinorUnits = { ok: true; minor: number } | { ok: false; problem: string };

/** Whether `currency` is one of {@link CURRENCIES}. */
export function isCurrency(currency: unknown): currency is string {
  return typeof currency === 'string' && Object.prototype.hasOwnProperty.call(CURRENCY_EXPONENTS, currency);
}

/** Why `currency` is not accepted, or undefined when it is. */
export function currencyProblem(currency: unknown): string | undefined {
  if (currency === undefined || currency === null) return 'currency is missing';
  if (typeof currency !== 'string') return `currency must be a string, got ${typeof currency}`;
  return isCurrency(currency) ? undefined : `currency ${JSON.stringify(currency)} is not one of ${CURRENCIES.join(', ')}`;
}

/** The double `value` exactly as `mantissa × 2^exponent` (finite values only). */
function binaryOf(value: number): { mantissa: bigint; exponent: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, value);
  const bits = view.getBigUint64(0);
  const biased = Number((bits >> 52n) & 0x7ffn);
  const fraction = bits & 0xfffffffffffffn;
  return biased === 0 ? { mantissa: fraction, exponent: -1074 } : { mantissa: fraction | (1n << 52n), exponent: biased - 1075 };
}

const abs = (n: bigint) => (n < 0n ? -n : n);

/**
 * `value` (major units of `currency`) in integer minor units, by the rule above; `field` names the
 * value in the reason (e.g. `lines[0].unitPrice`).
 */
export function toMinorUnits(value: unknown, currency: string, field = 'amount'): MinorUnits {
  const exponent = CURRENCY_EXPONENTS[currency];
  if (exponent === undefined) return { ok: false, problem: currencyProblem(currency) ?? `currency ${currency} is unknown` };
  if (typeof value !== 'number') return { ok: false, problem: `${field} must be a number, got ${value === null ? 'null' : typeof value}` };
  if (Number.isNaN(value)) return { ok: false, problem: `${field} must be a number, got NaN` };
  if (!Number.isFinite(value)) return { ok: false, problem: `${field} must be finite, got ${value}` };
  if (value < 0) return { ok: false, problem: `${field} must not be negative, got ${value}` };
  if (value === 0) return { ok: true, minor: 0 };
  // value × 10^e = N / D exactly, with N = mantissa × 10^e and D = 2^-exponent (or D = 1).
  const { mantissa, exponent: binaryExponent } = binaryOf(value);
  const scale = 10n ** BigInt(exponent);
  const N = mantissa * scale * (binaryExponent > 0 ? 2n ** BigInt(binaryExponent) : 1n);
  const D = binaryExponent < 0 ? 2n ** BigInt(-binaryExponent) : 1n;
  const n = (2n * N + D) / (2n * D);
  const off = abs(N - n * D); // distance to n, in minor units, times D
  const unit = exponent === 0 ? 'whole units' : `${exponent} decimal${exponent === 1 ? '' : 's'}`;
  if (n > BigInt(MAX_MINOR_UNITS)) return { ok: false, problem: `${field} ${value} ${currency} is more than 2^53-1 minor units` };
  if (off * 2n ** 42n > n * D || off * 1000n > D) {
    return { ok: false, problem: `${field} ${value} is not a whole number of ${currency} minor units (${currency} has ${unit}); it is not rounded` };
  }
  return { ok: true, minor: Number(n) };
}

/** `minor` units of `currency` as the nearest float in major units (exact division: 1999 EUR cents -> 19.99). */
export function toMajorUnits(minor: number, currency: string): number {
  const exponent = CURRENCY_EXPONENTS[currency];
  if (exponent === undefined) throw new RangeError(currencyProblem(currency));
  return minor / 10 ** exponent;
}
