/** One line of an order; money in integer cents to avoid float rounding. */
export interface OrderLine {
  sku: string;
  quantity: number;
  unitPriceCents: number;
}

/** Total of an order in cents; rejects lines that would make the total meaningless. */
export function orderTotalCents(lines: readonly OrderLine[]): number {
  return lines.reduce((sum, line) => {
    if (!Number.isInteger(line.quantity) || line.quantity < 1) {
      throw new RangeError(`line ${line.sku}: quantity must be a positive integer, got ${line.quantity}`);
    }
    if (!Number.isInteger(line.unitPriceCents) || line.unitPriceCents < 0) {
      throw new RangeError(`line ${line.sku}: unitPriceCents must be a non-negative integer, got ${line.unitPriceCents}`);
    }
    return sum + line.quantity * line.unitPriceCents;
  }, 0);
}
