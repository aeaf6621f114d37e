import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

/** Polls that handled at least this many items hand their transient memory back (see {@link releaseMemory}). */
export const RELEASE_AFTER_ITEMS = 5000;

/** At most one release per this many ms, whatever the number of collections polling. */
const MIN_INTERVAL_MS = 10_000;

type GcFunction = (o: { type: 'major' | 'minor'; execution: 'sync'; flavor?: 'last-resort' }) => void;

/** Bytes streamed through the process between two young-generation collections (see {@link noteStreamed}). */
const SCAVENGE_EVERY_BYTES = 8 << 20;
let streamed = 0;

let gc: GcFunction | null | undefined;
let last = -Infinity;
let pending: NodeJS.Timeout | undefined;
const done: (() => void)[] = [];

function gcFunction(): GcFunction | null {
  if (gc !== undefined) return gc;
  try {
    // The collector is reachable from a new context once exposed; nothing else changes for this process.
    setFlagsFromString('--expose-gc');
    gc = runInNewContext('gc') as GcFunction;
  } catch {
    gc = null;
  }
  return gc;
}

/**
 * Returns the memory a large poll used only while it ran. Listing, building and diffing 100,000 items
 * allocates several times the collection's size; V8 keeps the pages it freed afterwards resident and
 * reuses them, so without this the process would stay at the poll's peak between polls (about twice the
 * steady size at 100,000 objects, BENCHMARKS.md "Memory"). One compacting collection after such a poll costs a
 * fraction of the poll's own CPU. Runs after the current turn of the event loop, at most once per ten seconds
 * (a request within that time runs once at its end).
 */
export function releaseMemory(now = Date.now()): void {
  if (pending) return;
  pending = setTimeout(
    () => {
      pending = undefined;
      last = Date.now();
      gcFunction()?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
      for (const d of done.splice(0)) d();
    },
    Math.max(0, last + MIN_INTERVAL_MS - now),
  );
  pending.unref();
}

/** Resolves once no release is pending (benchmarks measure memory after it). */
export function memoryReleased(): Promise<void> {
  return pending ? new Promise((resolve) => done.push(resolve)) : Promise.resolve();
}

/**
 * Counts bytes streamed through the process (proxied answers and request bodies) and runs a young-generation
 * collection after every 8 MiB. Each socket read is a new buffer outside the JavaScript heap, freed only when
 * the collector finds its small handle dead; the collector runs on the heap's own allocation, which streaming
 * barely touches, so without this a 200 MB answer left 50-75 MB of read buffers waiting (BENCHMARKS.md, "Proxy
 * streaming"). A young collection with nothing much alive takes well under a millisecond.
 */
export function noteStreamed(bytes: number): void {
  streamed += bytes;
  if (streamed < SCAVENGE_EVERY_BYTES) return;
  streamed = 0;
  gcFunction()?.({ type: 'minor', execution: 'sync' });
}
