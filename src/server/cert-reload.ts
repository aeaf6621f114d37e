import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { dirname } from 'node:path';
import type { SecureContextOptions } from 'node:tls';

/**
 * Serving certificate from files, reloaded when they change (cert-manager renews them in place, as a Secret
 * volume swaps a symlinked directory): new connections get the new certificate, open ones keep theirs.
 * The directory is watched, not the files, so an atomic symlink swap is seen too. A half-written or
 * mismatched pair is reported and the running certificate kept.
 */
export function watchServingCertificate(
  server: { setSecureContext(o: SecureContextOptions): void },
  files: { certFile: string; keyFile: string },
  log: {
    info(msg: string, extra?: Record<string, unknown>): void;
    warn(msg: string, extra?: Record<string, unknown>): void;
  },
): () => void {
  let timer: NodeJS.Timeout | undefined;
  let last = '';
  const reload = () => {
    try {
      const cert = readFileSync(files.certFile, 'utf8');
      const key = readFileSync(files.keyFile, 'utf8');
      if (cert + key === last) return;
      server.setSecureContext({ cert, key });
      last = cert + key;
      log.info('serving certificate reloaded', { certFile: files.certFile });
    } catch (err) {
      log.warn('serving certificate not reloaded; keeping the current one', {
        err: err instanceof Error ? err.message : String(err),
      });
    }
  };
  try {
    last = readFileSync(files.certFile, 'utf8') + readFileSync(files.keyFile, 'utf8');
  } catch {
    // reported by the first reload attempt
  }
  const watchers: FSWatcher[] = [...new Set([dirname(files.certFile), dirname(files.keyFile)])].map((d) =>
    watch(d, () => {
      clearTimeout(timer);
      timer = setTimeout(reload, 200);
    }).on('error', (err) =>
      log.warn('serving certificate: watching its directory failed; renewals are no longer picked up', {
        dir: d,
        err: err.message,
      }),
    ),
  );
  return () => {
    clearTimeout(timer);
    for (const w of watchers) w.close();
  };
}
