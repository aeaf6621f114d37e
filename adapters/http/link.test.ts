import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { nextLink } from './link.ts';

const BASE = 'https://api.example.com/orgs/k/repos?page=1';

describe('nextLink (RFC 8288)', () => {
  it.each([
    [
      '<https://api.example.com/r?page=2>; rel="next", <https://api.example.com/r?page=5>; rel="last"',
      'https://api.example.com/r?page=2',
    ],
    [
      '<https://api.example.com/r?page=5>; rel="last", <https://api.example.com/r?page=2>; rel="next"',
      'https://api.example.com/r?page=2',
    ],
    ['</r?page=3>; rel=next', 'https://api.example.com/r?page=3'],
    ['<?page=4>; title="a, b; c"; rel="prev next"', 'https://api.example.com/orgs/k/repos?page=4'],
    ['<https://api.example.com/r?page=2>; REL="Next"', 'https://api.example.com/r?page=2'],
    ['<https://api.example.com/r?page=1>; rel="prev", <https://api.example.com/r?page=1>; rel="first"', undefined],
    ['<https://api.example.com/r?page=2>; rel="nextpage"', undefined],
    ['', undefined],
  ])('%s', (header, want) => {
    expect(nextLink(header, BASE)?.href).toBe(want);
  });

  it('any header gives a URL or undefined, never an exception', () => {
    fc.assert(
      fc.property(fc.string(), (h) => {
        const r = nextLink(h, BASE);
        expect(r === undefined || r instanceof URL).toBe(true);
      }),
    );
  });
});
