import { describe, expect, it } from 'vitest';
import { LruCache } from '../../src/feeds/lru-cache.ts';

describe('LruCache', () => {
  it('evicts the least recently used entry beyond its count', () => {
    const cache = new LruCache<string, number>(2, 100);
    cache.set('a', 1, 1);
    cache.set('b', 2, 1);
    expect(cache.get('a')).toBe(1);
    cache.set('c', 3, 1);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([1, undefined, 3]);
  });

  it('evicts by weight and never keeps a value heavier than the bound', () => {
    const cache = new LruCache<string, string>(10, 10);
    cache.set('a', 'x', 6);
    cache.set('b', 'y', 4);
    cache.set('c', 'z', 5);
    expect([cache.get('a'), cache.get('b'), cache.get('c')]).toEqual([undefined, 'y', 'z']);
    cache.set('huge', 'w', 11);
    expect(cache.get('huge')).toBeUndefined();
    expect(cache.size).toBe(2);
  });

  it('replaces a key and accounts its new weight', () => {
    const cache = new LruCache<string, string>(10, 10);
    cache.set('a', 'x', 9);
    cache.set('a', 'y', 1);
    cache.set('b', 'z', 9);
    expect([cache.get('a'), cache.get('b')]).toEqual(['y', 'z']);
  });
});
