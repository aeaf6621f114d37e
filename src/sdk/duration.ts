/**
 * Parses a duration: a number of milliseconds, or a string like `500ms`, `30s`, `5m`, `1h`, `1m30s`.
 * Throws an Error that starts with `what` when the value is not a duration.
 *
 * @example
 * parseDuration('1m30s', 'pollInterval'); // 90000
 */
export function parseDuration(value: string | number, what: string): number {
  if (typeof value === 'number') {
    if (Number.isFinite(value) && value >= 0) return value;
    throw new Error(`${what}: ${value} is not a non-negative number of milliseconds`);
  }
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  const unit: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  let total = 0;
  let matched = 0;
  for (let m = re.exec(value); m; m = re.exec(value)) {
    total += Number(m[1]) * (unit[m[2] ?? 'ms'] ?? 1);
    matched = re.lastIndex;
  }
  if (value.length === 0 || matched !== value.length)
    throw new Error(`${what}: "${value}" is not a duration (examples: 500ms, 30s, 5m, 1h, 1m30s)`);
  return total;
}
