// Plays Excel's part for the add-in's pages in the tests: served in place of Office.js (which
// cannot be fetched here). It registers the functions as CustomFunctions.associate does, lets a
// test "enter" a formula (invoke a function with its arguments) and records every setResult;
// Excel.run writes formulas into a recorded selection; displayDialogAsync opens a real popup.
(() => {
  const functions = {};
  const cells = [];
  class CfError {
    constructor(code, message) { this.code = code; this.message = message; }
  }
  const plain = (value) => (value instanceof CfError ? { error: value.code, message: value.message } : value);

  window.CustomFunctions = {
    associate(id, fn) { functions[id.toUpperCase()] = fn; },
    Error: CfError,
    ErrorCode: { notAvailable: '#N/A', invalidValue: '#VALUE!' },
  };

  const eventHandlers = new Map();
  window.Office = {
    onReady(callback) {
      const info = { host: 'Excel', platform: 'harness' };
      return new Promise((resolve) => setTimeout(() => { callback?.(info); resolve(info); }, 0));
    },
    EventType: { DialogMessageReceived: 'dialogMessageReceived', DialogEventReceived: 'dialogEventReceived', DialogParentMessageReceived: 'dialogParentMessageReceived' },
    AsyncResultStatus: { Succeeded: 'succeeded', Failed: 'failed' },
    context: {
      ui: {
        displayDialogAsync(url, _options, callback) {
          const popup = window.open(url, 'aerogrid-dialog', 'width=400,height=500');
          harness.dialogs.push(url);
          const dialog = {
            addEventHandler(type, handler) { eventHandlers.set(type, handler); },
            close() { popup?.close(); },
            messageChild(message) { popup?.__harnessParentMessage?.(message); },
          };
          callback({ status: 'succeeded', value: dialog });
        },
        // Inside the dialog: hand the message to the page that opened it.
        messageParent(message) { window.opener?.__harnessDialogMessage(message); },
        addHandlerAsync(type, handler, callback) {
          eventHandlers.set(type, handler);
          setTimeout(() => callback?.({ status: 'succeeded' }), 0);
        },
      },
    },
  };
  window.__harnessDialogMessage = (message) => eventHandlers.get('dialogMessageReceived')?.({ message });
  window.__harnessParentMessage = (message) => eventHandlers.get('dialogParentMessageReceived')?.({ message });

  const sheet = { selection: 'A1', formulas: {} };
  window.Excel = {
    async run(batch) {
      const range = { formulas: null, address: sheet.selection, load() {} };
      const context = {
        workbook: { getSelectedRange: () => range },
        async sync() { if (range.formulas) sheet.formulas[sheet.selection] = range.formulas[0][0]; },
      };
      return batch(context);
    },
  };

  const harness = {
    dialogs: [],
    sheet,
    functionIds: () => Object.keys(functions).sort(),
    /** Enters a formula: invokes the function like Excel does; returns the cell's number. */
    enter(id, args) {
      const fn = functions[id];
      if (!fn) throw new Error(`no function ${id}; registered: ${Object.keys(functions).join(', ')}`);
      const cell = { id, args, results: [], count: 0, bytes: 0, canceled: false, onResult: null };
      const invocation = {
        address: `Sheet1!A${cells.length + 1}`,
        setResult(value) {
          if (cell.canceled) throw new Error('setResult after the cell was canceled');
          const v = plain(value);
          cell.count++;
          cell.bytes = JSON.stringify(v).length;
          cell.results.push({ at: Date.now(), value: v });
          if (cell.results.length > 50) cell.results.shift();
          cell.onResult?.(v, Date.now());
        },
        onCanceled: null,
      };
      cell.invocation = invocation;
      cells.push(cell);
      fn(...args, invocation);
      return cells.length - 1;
    },
    /** Deletes the cell (or changes its formula): Excel calls onCanceled. */
    remove(index) {
      const cell = cells[index];
      cell.canceled = true;
      cell.invocation.onCanceled?.();
    },
    latest(index) { return cells[index].results.at(-1)?.value ?? null; },
    count(index) { return cells[index].count; },
    cells,
  };
  window.harness = harness;
})();
