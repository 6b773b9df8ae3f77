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

/** `perObject` of a key object and a second key of any kind (compared as a Map compares keys). */
export function perObjectAnd<K extends object, S, V>(make: (key: K, second: S) => V): (key: K, second: S) => V {
  const bySecond = perObject((_: K) => new Map<S, V>());
  return (key, second) => {
    const made = bySecond(key);
    let value = made.get(second);
    if (value === undefined) {
      value = make(key, second);
      made.set(second, value);
    }
    return value;
  };
}
