import { describe, expect, it } from 'vitest';
import { compareVersionPriority, defaultDeprecationWarning } from './versions.ts';

describe('compareVersionPriority', () => {
  it('orders GA, beta, alpha, then other names, as Kubernetes does', () => {
    const order = ['v10', 'v2', 'v1', 'v11beta2', 'v10beta3', 'v3beta1', 'v12alpha1', 'v11alpha2', 'foo1', 'foo10'];
    const shuffled = [...order].reverse();
    expect(shuffled.sort(compareVersionPriority)).toEqual(order);
  });
});

describe('defaultDeprecationWarning', () => {
  const v = (name: string, deprecated = false, served = true) => ({ name, deprecated, served });
  it('names the best newer served version that is not deprecated', () => {
    expect(defaultDeprecationWarning('g.io', 'Thing', 'v1alpha1', [v('v1alpha1', true), v('v1beta1'), v('v1')])).toBe(
      'g.io/v1alpha1 Thing is deprecated; use g.io/v1 Thing',
    );
    expect(
      defaultDeprecationWarning('g.io', 'Thing', 'v1alpha1', [
        v('v1alpha1', true),
        v('v1beta1'),
        v('v1', false, false),
      ]),
    ).toBe('g.io/v1alpha1 Thing is deprecated; use g.io/v1beta1 Thing');
  });
  it('says only that it is deprecated when nothing newer is served', () => {
    expect(defaultDeprecationWarning('g.io', 'Thing', 'v2', [v('v2', true), v('v1')])).toBe(
      'g.io/v2 Thing is deprecated',
    );
  });
});
