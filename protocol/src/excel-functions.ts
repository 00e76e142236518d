// The Excel custom functions the add-in registers, and the formulas written for people (the
// generated connector README, the task pane's Insert, the cells' own messages): one place, so a
// formula shown anywhere is one Excel knows. Excel puts the add-in's namespace before the name.

/** The custom functions' namespace (the manifest's Functions.Namespace). */
export const EXCEL_NAMESPACE = 'AEROGRID';

/** Each function's id, as registered with CustomFunctions.associate and named in its JSDoc. */
export const EXCEL_FUNCTIONS = { grid: 'GRID', value: 'VALUE', apps: 'APPS' } as const;

export type ExcelFunction = keyof typeof EXCEL_FUNCTIONS;

/** A string argument as an Excel string literal (a quote inside is doubled). */
function literal(arg: string | number): string {
  return typeof arg === 'number' ? String(arg) : `"${arg.replaceAll('"', '""')}"`;
}

/** The formula `=AEROGRID.<FN>(args...)`, e.g. formula('grid', 'ordersapp', 'product_sum'). */
export function formula(fn: ExcelFunction, ...args: Array<string | number>): string {
  return `=${EXCEL_NAMESPACE}.${EXCEL_FUNCTIONS[fn]}(${args.map(literal).join(',')})`;
}
