// Every rule of the console's API in one place: what a request may hold, how big, and how long and
// how much a try of user code may run. The routes, the body reader, the file checks and the try
// runner all read them from here.
import { formatBytes, isCodeFile, SPEC_FILE } from '../app-spec/types.js';

/** The largest file of a connector the API takes (app.py, aerogrid.yaml): 256 KiB each. */
export const MAX_FILE_BYTES = 256 * 1024;
/** The most files one request may hold (aerogrid.yaml and the app's top-level .py files). */
export const MAX_FILES = 16;
/** The largest JSON body: room for the files (JSON-escaped) and the sample records, no more. */
export const MAX_BODY_BYTES = 2 * 1024 * 1024;

/** Sample records of one try: at most this many lines, and this much text together. */
export const MAX_TRY_RECORDS = 1000;
export const MAX_TRY_RECORDS_BYTES = 512 * 1024;
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

/**
 * Why a file name may not be one of a connector's files, or undefined when it may: aerogrid.yaml, or
 * a .py file at the top of the folder (the code a deploy ships). Never a path: no '/', no '..'.
 */
export function fileNameProblem(name: string): string | undefined {
  if (name === SPEC_FILE) return undefined;
  if (name.includes('/') || name.includes('\\') || name.includes('\0') || name === '.' || name === '..') {
    return `'${name}' is a path; give file names only (aerogrid.yaml, app.py), at the top of the connector`;
  }
  if (!isCodeFile(name, name)) return `'${name}' is neither ${SPEC_FILE} nor a Python file (letters, digits, '_', '.', '-', ending in .py)`;
  return undefined;
}

/** A try's records read from a topic: at most this many of its latest, and this long to read them. */
export const MAX_SAMPLE_RECORDS = 100;
export const SAMPLE_READ_TIMEOUT_MS = 10_000;
