/**
 * The look shared by the pages the servers serve (the sidecar's viewer, the console of
 * `aerogrid serve`): colours, header, status pills, grid sections and the grid tables of grid-table.ts. Each page adds its own
 * rules after it.
 */
export const PAGE_CSS = `
  :root { --fg: #1d2330; --muted: #667085; --line: #e4e7ec; --bg: #f8f9fb; --card: #fff;
          --ok: #12805c; --warn: #b54708; --bad: #b42318; --flash: #fff3b0; --accent: #2e5bdb; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
         color: var(--fg); background: var(--bg); }
  header { display: flex; flex-wrap: wrap; align-items: center; gap: 12px; padding: 12px 20px;
           background: var(--card); border-bottom: 1px solid var(--line); }
  h1 { font-size: 18px; margin: 0 8px 0 0; }
  h1 small { color: var(--muted); font-weight: normal; }
  .pill { display: inline-flex; align-items: center; gap: 6px; padding: 2px 10px; border-radius: 999px;
          border: 1px solid var(--line); font-size: 13px; white-space: nowrap; background: var(--card); }
  .dot { width: 8px; height: 8px; border-radius: 50%; background: var(--muted); }
  .ok .dot { background: var(--ok); } .warn .dot { background: var(--warn); } .bad .dot { background: var(--bad); }
  main { padding: 16px 20px; display: grid; gap: 16px; }
  section { background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  section h2 { font-size: 15px; margin: 0; padding: 10px 14px; border-bottom: 1px solid var(--line);
               display: flex; gap: 12px; align-items: baseline; }
  section h2 .meta { color: var(--muted); font-weight: normal; font-size: 12px; }
  .scroll { overflow: auto; max-height: 70vh; }
  table { border-collapse: collapse; width: 100%; font-variant-numeric: tabular-nums; }
  th, td { text-align: left; padding: 4px 14px; border-bottom: 1px solid var(--line); white-space: nowrap; }
  th { position: sticky; top: 0; background: #f2f4f7; font-weight: 600; }
  .grid-table td.num, .grid-table th:not(.key) { text-align: right; }
  .grid-table th.key, .grid-table td.key { color: var(--muted); }
  td.flash { animation: flash 1.2s ease-out; }
  @keyframes flash { from { background: var(--flash); } to { background: transparent; } }
  .empty { padding: 14px; color: var(--muted); }
  .note { padding: 6px 14px; color: var(--muted); font-size: 12px; }
`;
