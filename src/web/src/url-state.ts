// Settings kept in the page address (shareable links), several forms per page: each owns the keys of its defaults,
// under its own prefix, and leaves the others' keys alone.

type Flat = Record<string, string | number>;

/** The settings in the address over `defaults`; keys read as `${prefix}${key}`; unknown or ill-typed values ignored. */
export function readUrlState<T extends object>(defaults: T, prefix = ''): T {
  const out: Flat = { ...(defaults as unknown as Flat) };
  const params = new URLSearchParams(location.search);
  for (const [key, fallback] of Object.entries(defaults as unknown as Flat)) {
    const value = params.get(prefix + key);
    if (value === null) continue;
    if (typeof fallback === 'number') {
      if (value !== '' && Number.isFinite(Number(value))) out[key] = Number(value);
    } else out[key] = value;
  }
  return out as unknown as T;
}

/** Writes the settings that differ from `defaults` into the address (replacing its entry), keeping other keys. */
export function writeUrlState<T extends object>(state: T, defaults: T, prefix = ''): void {
  const params = new URLSearchParams(location.search);
  const fallback = defaults as unknown as Flat;
  for (const [key, value] of Object.entries(state as unknown as Flat)) {
    if (fallback[key] === value) params.delete(prefix + key);
    else params.set(prefix + key, String(value));
  }
  const query = params.toString();
  history.replaceState(history.state, '', `${location.pathname}${query ? `?${query}` : ''}`);
}
