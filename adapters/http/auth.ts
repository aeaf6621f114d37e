import { readFile } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { AdapterError } from 'kubegate/sdk';
import type { AuthConfig } from './config.ts';
import type { Fail } from './schema.ts';

/** The keys each auth kind takes: one secret, inline (masked) or from a file. */
const KINDS: Record<string, { keys: (keyof AuthConfig)[]; secret: [keyof AuthConfig, keyof AuthConfig] }> = {
  bearer: { keys: ['token', 'tokenFile'], secret: ['token', 'tokenFile'] },
  header: { keys: ['header', 'value', 'valueFile'], secret: ['value', 'valueFile'] },
  basic: { keys: ['username', 'password', 'passwordFile'], secret: ['password', 'passwordFile'] },
};

/** Credentials ready to add to a call: the file, if any, is read at every poll so a rotated Secret is followed. */
export type Credentials = () => Promise<Record<string, string>>;

/**
 * Checks an `auth` section and returns what makes its headers. File paths are relative to `dir` (the config
 * file's folder).
 *
 * @example
 * const creds = compileAuth({ kind: 'bearer', token: 'ghp_x' }, ['auth'], fail, '.');
 * await creds(); // { authorization: 'Bearer ghp_x' }
 */
export function compileAuth(auth: AuthConfig, path: (string | number)[], fail: Fail, dir: string): Credentials {
  const kind = KINDS[auth.kind];
  if (!kind) fail([...path, 'kind'], `unknown auth kind "${auth.kind}" (use bearer, header or basic)`);
  for (const k of Object.keys(auth) as (keyof AuthConfig)[])
    if (k !== 'kind' && !kind.keys.includes(k)) fail([...path, k], `not used by auth kind "${auth.kind}"`);
  const [inline, file] = kind.secret;
  if ((auth[inline] === undefined) === (auth[file] === undefined))
    fail(path, `auth kind "${auth.kind}" needs exactly one of ${inline} and ${file}`);
  if (auth.kind === 'header' && !/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/.test(auth.header ?? ''))
    fail([...path, 'header'], 'a header name is required, e.g. X-Api-Key');
  if (auth.kind === 'basic' && (auth.username === undefined || auth.username.includes(':')))
    fail([...path, 'username'], 'a user name without ":" is required');
  const filePath = auth[file];
  const secret = async (): Promise<string> => {
    if (typeof filePath !== 'string') return auth[inline] ?? '';
    try {
      return (await readFile(isAbsolute(filePath) ? filePath : resolve(dir, filePath), 'utf8')).trim();
    } catch (err) {
      // The path is configuration, not a secret; the contents never appear in a message.
      throw new AdapterError(
        `auth.${file}: cannot read ${filePath} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
      );
    }
  };
  if (auth.kind === 'bearer') return async () => ({ authorization: `Bearer ${await secret()}` });
  if (auth.kind === 'header') {
    const name = (auth.header ?? '').toLowerCase();
    return async () => ({ [name]: await secret() });
  }
  const user = auth.username ?? '';
  return async () => ({ authorization: `Basic ${Buffer.from(`${user}:${await secret()}`).toString('base64')}` });
}
