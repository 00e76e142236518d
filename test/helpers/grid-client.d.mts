import { type AppStatus, type ClientMessage, type ErrorMessage, type Row } from '@aerogrid/protocol/client-messages';
import { GridView } from '@aerogrid/protocol/grid-view';
/**
 * A client of the aerogrid.v1 WebSocket protocol (docs/protocol.md §2): keeps a live copy of each
 * subscribed grid by applying the snapshot and then every delta.
 */
export declare class GridClient {
    /** By grid name. */
    readonly views: Map<string, GridView>;
    readonly errors: Array<Omit<ErrorMessage, 'type'>>;
    status: Pick<AppStatus, 'state' | 'message'> | null;
    /** Called after every snapshot or delta is applied, with the subscription's view. */
    onUpdate: ((view: GridView, message: {
        type: 'snapshot' | 'delta';
        upserts?: Record<string, Row>;
    }) => void) | null;
    private readonly socket;
    private nextId;
    private readonly byId;
    private constructor();
    /** Connects to ws(s)://host:port/v1/ws given the sidecar's http URL (or a ws URL). */
    static connect(url: string): Promise<GridClient>;
    subscribe(grid: string): string;
    /** A message, or any text or object: tests send malformed requests on purpose. */
    send(message: ClientMessage | string | Record<string, unknown>): void;
    /** The grid as a plain object (key → row), or undefined before its snapshot arrived. */
    rows(grid: string): Record<string, Row> | undefined;
    close(): Promise<void>;
    private handle;
}
