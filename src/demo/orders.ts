/** Random orders for the seed app: a few book titles, small quantities, unique order ids. */
export const PRODUCTS = [
  'How to Stream Anything',
  'Kafka for Accountants',
  'Spreadsheets at Scale',
  'The Pragmatic Connector',
  'Grids, Live',
  'Excel Beyond Formulas',
] as const;

export interface Order {
  product: string;
  quantity: number;
}

export function randomOrder(random: () => number = Math.random): Order {
  return {
    product: PRODUCTS[Math.floor(random() * PRODUCTS.length)]!,
    quantity: 1 + Math.floor(random() * 20),
  };
}

/** Sums per product: what the seed app's grid must equal after these orders. */
export function expectedSums(orders: Iterable<Order>): Record<string, { units_sold: number }> {
  const sums: Record<string, { units_sold: number }> = {};
  for (const order of orders) {
    sums[order.product] = { units_sold: (sums[order.product]?.units_sold ?? 0) + order.quantity };
  }
  return sums;
}
