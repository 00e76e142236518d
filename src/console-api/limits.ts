// Every rule of the console's API in one place: what a request may hold, how big, and how long and
// how much a try of user code may run. The routes, the body reader, the file checks and the try
// runner all read them from here.
import { formatBytes, SPEC_FILE } from '../app-spec/types.js';

// The caps the console and the server share are the contract's (@aerogrid/protocol/console-api).
import { MAX_APP_CODE_BYTES, MAX_APP_SPEC_BYTES, MAX_CONSOLE_BODY_BYTES, MAX_TRY_RECORDS as CONTRACT_MAX_TRY_RECORDS } from '@aerogrid/protocol/console-api';

/** The files a console-made connector has, and the most each may hold. */
export const CONNECTOR_FILES = { 'aerogrid.yaml': MAX_APP_SPEC_BYTES, 'app.py': MAX_APP_CODE_BYTES } as const;
/** The largest JSON body: the two files (JSON-escaped) and the sample records. */
export const MAX_BODY_BYTES = MAX_CONSOLE_BODY_BYTES;

/** Sample records of one try: at most this many (their text is capped by the body's cap). */
export const MAX_TRY_RECORDS = CONTRACT_MAX_TRY_RECORDS;
/**
 * The whole try runs as one batch, held to a deadline as a deployed app's sidecar holds each batch
 * (its default is 30 s); an interactive page waits less.
 */
export const TRY_TIME_LIMIT_MS = 10_000;
/** Output a try's program may write (its result, and what the app prints): more is cut off. */
export const MAX_TRY_OUTPUT_BYTES = 4 * 1024 * 1024;
/** Tries that may run at once on this server; one more is told to come back (429). */
export const MAX_CONCURRENT_TRIES = 2;
/** The limits of a try whose aerogrid.yaml has none to give (the spec's defaults). */
export { DEFAULTS as SPEC_DEFAULTS } from '../app-spec/types.js';

export { formatBytes, SPEC_FILE };

/** Why a file name is not one of a console-made connector's files, or undefined when it is. Never a path. */
export function fileNameProblem(name: string): string | undefined {
  if (Object.hasOwn(CONNECTOR_FILES, name)) return undefined;
  const what = /[\\/]|^\.\.?$|\0/.test(name) ? `'${name}' is a path` : `'${name}' is not a file the console gives`;
  return `${what}; a connector here is two files: ${Object.keys(CONNECTOR_FILES).join(' and ')}`;
}

/** A try's records read from a topic: at most this many of its latest, and this long to read them. */
export const MAX_SAMPLE_RECORDS = CONTRACT_MAX_TRY_RECORDS;
export const SAMPLE_READ_TIMEOUT_MS = 10_000;
