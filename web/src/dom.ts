// The few DOM helpers both pages use.

/** The element with this id; the pages' HTML has every id their script asks for. */
export function $(id: string): HTMLElement {
  return document.getElementById(id)!;
}

export function el<K extends keyof HTMLElementTagNameMap>(tag: K, cls?: string, text?: string): HTMLElementTagNameMap[K] {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
}

/** A status pill: `<span class="pill TONE"><span class="dot"></span><span>TEXT</span></span>`. */
export function setPill(node: HTMLElement, text: string, tone = ''): void {
  node.className = `pill ${tone}`;
  node.lastElementChild!.textContent = text;
}

export function wsUrl(path: string): string {
  return `${location.protocol === 'https:' ? 'wss://' : 'ws://'}${location.host}${path}`;
}

/** Calls `handle` with each message of `socket` that is JSON; anything else is ignored. */
export function onJson(socket: WebSocket, handle: (msg: any) => void): void {
  socket.onmessage = (e) => {
    let msg: unknown;
    try {
      msg = JSON.parse(e.data as string);
    } catch {
      return;
    }
    handle(msg);
  };
}
