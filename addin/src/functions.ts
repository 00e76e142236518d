// The custom functions. Their metadata (functions.json) is generated from these JSDoc comments by
// custom-functions-metadata at build time; `registerFunctions` associates the ids with the code.
import { EXCEL_FUNCTIONS } from '@aerogrid/protocol/excel-functions';
import { appsCell, gridCell, valueCell, type CellSink } from './core/cells.js';
import type { AeroGridClient } from './core/client.js';

let client: AeroGridClient;

function sinkOf(invocation: CustomFunctions.StreamingInvocation<any>): CellSink {
  return {
    setResult: (value) => invocation.setResult(value as any),
    error: (message) => new CustomFunctions.Error(CustomFunctions.ErrorCode.notAvailable, message),
  };
}

/**
 * Streams a live grid of an AeroGrid app: a header row (key, then the columns), then one row per key, updated in place.
 * @customfunction GRID
 * @param app The app's name, or tenant/app.
 * @param grid The grid's name.
 * @param [columns] The columns to show, comma-separated (default: every column).
 * @param [maxRows] At most this many rows (default 5000); a last row says how many were cut.
 * @param invocation The streaming invocation.
 * @returns The grid.
 */
export function grid(app: string, grid: string, columns: string, maxRows: number, invocation: CustomFunctions.StreamingInvocation<any[][]>): void {
  invocation.onCanceled = gridCell(client, { app, grid, columns, maxRows }, sinkOf(invocation));
}

/**
 * Streams one live value of an AeroGrid grid.
 * @customfunction VALUE
 * @param app The app's name, or tenant/app.
 * @param grid The grid's name.
 * @param key The row's key.
 * @param column The column.
 * @param invocation The streaming invocation.
 * @returns The value.
 */
export function value(app: string, grid: string, key: string, column: string, invocation: CustomFunctions.StreamingInvocation<any>): void {
  invocation.onCanceled = valueCell(client, { app, grid, key, column }, sinkOf(invocation));
}

/**
 * Streams the apps you can see with their status: app, tenant, status, ready, grids, message.
 * @customfunction APPS
 * @param invocation The streaming invocation.
 * @returns The apps.
 */
export function apps(invocation: CustomFunctions.StreamingInvocation<any[][]>): void {
  invocation.onCanceled = appsCell(client, sinkOf(invocation));
}

export function registerFunctions(shared: AeroGridClient): void {
  client = shared;
  // The ids are the protocol's; the build checks that the JSDoc @customfunction tags say the same.
  CustomFunctions.associate(EXCEL_FUNCTIONS.grid, grid);
  CustomFunctions.associate(EXCEL_FUNCTIONS.value, value);
  CustomFunctions.associate(EXCEL_FUNCTIONS.apps, apps);
}
