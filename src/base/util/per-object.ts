/**
 * `make(key)` made once per key object and kept as long as the key lives (a WeakMap): for values
 * derived from objects that many calls share and that none changes once used, such as a run's
 * sampling settings, whose texts every model call needs (its body, its cache key, its stored request).
 */
export function perObject<K extends object, V>(make: (key: K) => V): (key: K) => V {
  const made = new WeakMap<K, V>();
  return (key) => {
    let value = made.get(key);
    if (value === undefined) {
      value = make(key);
      made.set(key, value);
    }
    return value;
  };
}
