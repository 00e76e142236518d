// A test and benchmark client of the aerogrid.v1 WebSocket protocol, in plain JavaScript so that
// both vitest and the benchmarks (plain node) load it; its types are in grid-client.d.mts.
import WebSocket from 'ws';
import { CLIENT_PROTOCOL } from '@aerogrid/protocol/client-messages';
import { GridView } from '@aerogrid/protocol/grid-view';
/**
 * A client of the aerogrid.v1 WebSocket protocol (docs/protocol.md §2): keeps a live copy of each
 * subscribed grid by applying the snapshot and then every delta.
 */
export class GridClient {
  /** By grid name. */
  views = new Map();
  errors = [];
  status = null;
  /** Called after every snapshot or delta is applied, with the subscription's view. */
  onUpdate = null;
  socket;
  nextId = 1;
  byId = new Map();
  constructor(socket) {
    this.socket = socket;
    socket.on('message', (data) => this.handle(JSON.parse(String(data))));
  }
  /** Connects to ws(s)://host:port/v1/ws given the sidecar's http URL (or a ws URL). */
  static async connect(url) {
    const wsUrl = new URL('v1/ws', url.replace(/^http/, 'ws').replace(/\/?$/, '/')).href;
    const socket = new WebSocket(wsUrl, CLIENT_PROTOCOL);
    const client = new GridClient(socket);
    await new Promise((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('error', reject);
    });
    return client;
  }
  subscribe(grid) {
    const id = `s${this.nextId++}`;
    this.byId.set(id, grid);
    this.send({ op: 'subscribe', id, grid });
    return id;
  }
  /** A message, or any text or object: tests send malformed requests on purpose. */
  send(message) {
    this.socket.send(typeof message === 'string' ? message : JSON.stringify(message));
  }
  /** The grid as a plain object (key → row), or undefined before its snapshot arrived. */
  rows(grid) {
    const view = this.views.get(grid);
    return view?.toObject();
  }
  async close() {
    if (this.socket.readyState === WebSocket.CLOSED)
      return;
    await new Promise((resolve) => {
      this.socket.once('close', () => resolve());
      this.socket.close();
    });
  }
  handle(message) {
    switch (message.type) {
      case 'hello':
        this.status = message.status;
        break;
      case 'status':
        this.status = { state: message.state, message: message.message };
        break;
      case 'snapshot': {
        const view = new GridView();
        view.applySnapshot(message);
        this.views.set(message.grid, view);
        this.onUpdate?.(view, { type: 'snapshot' });
        break;
      }
      case 'delta': {
        const view = this.views.get(message.grid);
        if (!view)
          break;
        view.applyDelta(message);
        this.onUpdate?.(view, { type: 'delta', upserts: message.upserts });
        break;
      }
      case 'error':
        this.errors.push({ code: message.code, message: message.message, id: message.id });
        break;
      default:
        break;
    }
  }
}
