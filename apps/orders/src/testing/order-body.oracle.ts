/**
 * The rules of `POST /orders` restated independently of the DTOs and the service, so the fuzz test
 * can say what each random body must get. `existing` is the one customer id that exists.
 */
const EXPONENTS: Record<string, number> = { EUR: 2, USD: 2, GBP: 2, CHF: 2, SEK: 2, JPY: 0, KRW: 0, BHD: 3, KWD: 3, JOD: 3 };

/** The keys a fuzzer should favour. */
export const ORDER_BODY_KEYS = ['customerId', 'currency', 'lines'];
export const ORDER_LINE_KEYS = ['sku', 'quantity', 'unitPrice'];

type Body = Record<string, unknown>;
const plain = (v: unknown): v is Body => !!v && typeof v === 'object' && !Array.isArray(v);
const onlyKeys = (v: Body, keys: string[]) => Object.keys(v).every((k) => keys.includes(k));
const hasKeys = (v: Body, keys: string[]) => keys.every((k) => Object.prototype.hasOwnProperty.call(v, k));

/** Minor units of a price that is a whole number of them (within float noise far below a thousandth), else undefined. */
function minorOf(price: number, exponent: number): number | undefined {
  const scaled = price * 10 ** exponent;
  const whole = Math.round(scaled);
  return Math.abs(scaled - whole) <= 1e-9 * Math.max(1, scaled) && Math.abs(scaled - whole) < 1e-3 && whole <= Number.MAX_SAFE_INTEGER ? whole : undefined;
}

function validLine(line: unknown): line is { sku: string; quantity: number; unitPrice: number } {
  if (!plain(line) || !onlyKeys(line, ORDER_LINE_KEYS) || !hasKeys(line, ORDER_LINE_KEYS)) return false;
  const { sku, quantity, unitPrice } = line;
  return (
    typeof sku === 'string' &&
    /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(sku) &&
    Number.isInteger(quantity) &&
    (quantity as number) >= 1 &&
    (quantity as number) <= 1_000_000 &&
    typeof unitPrice === 'number' &&
    Number.isFinite(unitPrice) &&
    unitPrice >= 0
  );
}

/** What `POST /orders` of `body` must answer when only `existing` is a customer. */
export function expectedOrderStatus(body: unknown, existing: string): number {
  if (!plain(body) || !onlyKeys(body, ORDER_BODY_KEYS) || !hasKeys(body, ORDER_BODY_KEYS)) return 400;
  const { customerId, currency, lines } = body;
  if (typeof customerId !== 'string' || !/^[0-9a-fA-F]{24}$/.test(customerId)) return 400;
  if (typeof currency !== 'string' || !(currency in EXPONENTS) || !Object.prototype.hasOwnProperty.call(EXPONENTS, currency)) return 400;
  if (!Array.isArray(lines) || lines.length < 1 || lines.length > 100 || !lines.every(validLine)) return 400;
  const minors = lines.map((line) => minorOf(line.unitPrice, EXPONENTS[currency]));
  if (minors.some((m) => m === undefined)) return 400;
  const total = lines.reduce((sum, line, i) => sum + BigInt(line.quantity) * BigInt(minors[i] as number), 0n);
  if (total > BigInt(Number.MAX_SAFE_INTEGER)) return 400;
  return customerId.toLowerCase() === existing ? 201 : 422;
}
