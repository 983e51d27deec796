import type { Doc } from '@zdm/migrations-core';
import { currencyProblem, MAX_MINOR_UNITS, Money, toMinorUnits } from './money';

/** A line as v2 stores it: the price in integer minor units with its currency. */
export interface StoredItem {
  sku: string;
  quantity: number;
  unitPrice: Money;
}

/** The money fields v2 adds: the total and every line price as integer minor units plus currency. */
export interface MoneyFields {
  totalMoney: Money;
  items: StoredItem[];
}

/** The outcome of converting a v1 document's float money. */
export type MoneyConversion = ({ ok: true } & MoneyFields) | { ok: false; problems: string[] };

const isPlain = (v: unknown): v is Doc => !!v && typeof v === 'object' && !Array.isArray(v);
const isQuantity = (q: unknown): q is number => typeof q === 'number' && Number.isSafeInteger(q) && q >= 1;

/**
 * The v2 money fields of a v1 document (`total`, `lines[].unitPrice` in float major units of
 * `currency`), converted by the rule of `toMinorUnits`; or every reason it cannot be converted
 * exactly: a missing or unknown currency, a price or total that is not a whole number of minor
 * units (19.999 EUR), negative, NaN or not a number, more than 2^53-1 minor units, a line without
 * sku or quantity, or a total that is not the sum of the lines.
 */
export function convertMoney(doc: Doc): MoneyConversion {
  const problems: string[] = [];
  const currency = doc['currency'];
  const badCurrency = currencyProblem(currency);
  if (badCurrency) return { ok: false, problems: [badCurrency] };
  const code = currency as string;
  const lines = doc['lines'];
  if (!Array.isArray(lines) || lines.length === 0) return { ok: false, problems: ['lines must be a non-empty array'] };
  const items: StoredItem[] = [];
  lines.forEach((line: unknown, i) => {
    if (!isPlain(line)) return problems.push(`lines.${i} must be an object`);
    const { sku, quantity } = line;
    if (typeof sku !== 'string' || !sku) problems.push(`lines.${i}.sku must be a non-empty string`);
    if (!isQuantity(quantity)) problems.push(`lines.${i}.quantity must be a whole number of at least 1, got ${JSON.stringify(quantity) ?? 'nothing'}`);
    const price = toMinorUnits(line['unitPrice'], code, `lines.${i}.unitPrice`);
    if (!price.ok) problems.push(price.problem);
    else if (typeof sku === 'string' && isQuantity(quantity)) items.push({ sku, quantity, unitPrice: { minor: price.minor, currency: code } });
    return undefined;
  });
  const total = toMinorUnits(doc['total'], code, 'total');
  if (!total.ok) problems.push(total.problem);
  if (problems.length) return { ok: false, problems };
  const sum = items.reduce((acc, item) => acc + BigInt(item.quantity) * BigInt(item.unitPrice.minor), 0n);
  const totalMinor = (total as { minor: number }).minor;
  if (sum > BigInt(MAX_MINOR_UNITS)) return { ok: false, problems: [`the lines add up to more than 2^53-1 ${code} minor units`] };
  if (sum !== BigInt(totalMinor)) return { ok: false, problems: [`total ${String(doc['total'])} ${code} is not the sum of the lines (${sum} minor units)`] };
  return { ok: true, totalMoney: { minor: totalMinor, currency: code }, items };
}

const isMoney = (v: unknown, currency: unknown): v is Money =>
  isPlain(v) && Number.isSafeInteger(v['minor']) && (v['minor'] as number) >= 0 && v['currency'] === currency && Object.keys(v).length === 2;

/** Why the v2 money fields of `doc` are not well-formed and consistent, or undefined when they are. */
export function storedMoneyProblem(doc: Doc): string | undefined {
  const currency = doc['currency'];
  const badCurrency = currencyProblem(currency);
  if (badCurrency) return badCurrency;
  if (!isMoney(doc['totalMoney'], currency)) return `totalMoney must be { minor, currency: ${JSON.stringify(currency)} } with minor a whole number from 0 to 2^53-1, got ${JSON.stringify(doc['totalMoney']) ?? 'nothing'}`;
  const items = doc['items'];
  if (!Array.isArray(items) || items.length === 0) return 'items must be a non-empty array';
  for (const [i, item] of items.entries()) {
    if (!isPlain(item) || typeof item['sku'] !== 'string' || !isQuantity(item['quantity']) || !isMoney(item['unitPrice'], currency)) {
      return `items.${i} must be { sku, quantity, unitPrice: { minor, currency } }, got ${JSON.stringify(item)}`;
    }
  }
  const sum = (items as StoredItem[]).reduce((acc, item) => acc + BigInt(item.quantity) * BigInt(item.unitPrice.minor), 0n);
  const total = (doc['totalMoney'] as Money).minor;
  return sum === BigInt(total) ? undefined : `totalMoney ${total} is not the sum of the items (${sum})`;
}

/**
 * Whether a document carries both money shapes and they disagree (a shadow-read mismatch): the
 * floats say one amount and the minor units another (or the floats cannot be converted at all).
 */
export function moneyShapesDisagree(doc: Doc): boolean {
  if (doc['totalMoney'] === undefined || doc['total'] === undefined) return false;
  const old = convertMoney(doc);
  if (!old.ok || storedMoneyProblem(doc)) return true;
  const items = doc['items'] as StoredItem[];
  const sameItem = (a: StoredItem, b: StoredItem) => a.sku === b.sku && a.quantity === b.quantity && a.unitPrice.minor === b.unitPrice.minor;
  return old.totalMoney.minor !== (doc['totalMoney'] as Money).minor || old.items.length !== items.length || !old.items.every((item, i) => sameItem(item, items[i]));
}
