// Numbers and durations as the CLI's messages write them.

/** `6123` → `6,123`. */
export function thousands(n) {
  return Math.round(n).toLocaleString("en-US");
}

/** Seconds as `45 s`, `1 min 12 s`, `2 h 5 min`. */
export function duration(seconds) {
  const s = Math.max(0, Math.round(seconds));
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
}

/** `1 page`, `2 pages`. */
export function count(n, singular, plural = `${singular}s`) {
  return `${thousands(n)} ${n === 1 ? singular : plural}`;
}
