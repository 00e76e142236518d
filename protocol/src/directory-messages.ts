// The directory (`aerogrid.directory.v1`, docs/protocol.md §5): what `aerogrid serve` says about
// the apps, over `GET /v1/apps` and the WebSocket watch, to the Excel add-in and the console.

export const DIRECTORY_PROTOCOL = 'aerogrid.directory.v1';

/** `standby`: another instance of the app is its writer (docs/protocol.md §1). */
export type DirectoryAppStatus = 'running' | 'starting' | 'stopped' | 'failing' | 'stale' | 'standby';

/** One app: the desired state from the GitOps repo beside the live state of its sidecar. */
export interface DirectoryApp {
  name: string;
  tenant: string;
  desired: 'running' | 'stopped';
  status: DirectoryAppStatus;
  message: string | null;
  stale_since: string | null;
  /** The sidecar serves its grids (/readyz answers 200). */
  ready: boolean;
  grids: Array<{ name: string; columns: string[] }>;
  /** The sidecar the add-in should use (while one runs). */
  url: string | null;
  ws: string | null;
  /** The GitOps commit that last changed the app's folder. */
  revision: string;
}

/** A change of the apps, as the watch sends it. */
export type DirectoryEvent =
  | { type: 'app'; app: DirectoryApp }
  | { type: 'removed'; tenant: string; name: string }
  | { type: 'ready'; app: DirectoryApp };

/** Every message of the watch: the list first (with what the user may do), then events. */
export type DirectoryMessage =
  | { type: 'apps'; tenant: string | null; allowed: string[]; apps: DirectoryApp[] }
  | DirectoryEvent
  | { type: 'error'; code: string; message: string };
