// The few Office.js names the add-in uses (Office.js itself is loaded by the page from Microsoft's CDN).
declare namespace CustomFunctions {
  interface Invocation { address?: string }
  interface StreamingInvocation<T> extends Invocation {
    setResult(value: T | Error): void;
    onCanceled: () => void;
  }
  const ErrorCode: { notAvailable: string; invalidValue: string };
  class Error {
    constructor(code: string, message?: string);
  }
  function associate(id: string, fn: (...args: any[]) => unknown): void;
}

declare namespace Office {
  function onReady(callback?: (info: { host: unknown; platform: unknown }) => void): Promise<unknown>;
  const EventType: { DialogMessageReceived: string; DialogEventReceived: string; DialogParentMessageReceived: string };
  const AsyncResultStatus: { Succeeded: string; Failed: string };
  interface Dialog {
    addEventHandler(type: string, handler: (arg: { message?: string; error?: number }) => void): void;
    close(): void;
    /** DialogApi 1.2: a message to the page in the dialog. */
    messageChild(message: string): void;
  }
  const context: {
    ui: {
      displayDialogAsync(url: string, options: { height: number; width: number; promptBeforeOpen?: boolean }, callback: (result: { status: string; value: Dialog; error?: { message: string } }) => void): void;
      messageParent(message: string): void;
      /** In the dialog: handlers for DialogParentMessageReceived (DialogApi 1.2). */
      addHandlerAsync(type: string, handler: (arg: { message?: string }) => void, callback?: (result: { status: string }) => void): void;
    };
  };
}

declare namespace Excel {
  interface Range { formulas: unknown[][]; address?: string; load(what: string): void }
  interface RequestContext { workbook: { getSelectedRange(): Range }; sync(): Promise<void> }
  function run<T>(batch: (context: RequestContext) => Promise<T>): Promise<T>;
}
