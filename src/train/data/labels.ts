// Label sets: a stable order (numeric when every label is a number, else sorted, or names given by the user) and
// the mapping of raw data labels onto it (exact name, then case-insensitive name, then integer i → the i-th label).
import { geulError } from '../../core/errors.js';

const INTEGER = /^-?\d+$/;

/** Labels in a stable order: numerically when all are integers ("2" before "10"), else by code point. */
export function sortLabels(labels: Iterable<string>): string[] {
  const unique = [...new Set(labels)];
  if (unique.every((l) => INTEGER.test(l))) return unique.sort((a, b) => Number(a) - Number(b));
  return unique.sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A raw label value as a string: numbers and booleans as written, null/undefined/'' as undefined. */
export function labelString(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (typeof value === 'string') return value.trim() === '' ? undefined : value.trim();
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value);
}

export class LabelSet {
  private readonly exact: Map<string, number>;
  private readonly folded = new Map<string, number>();
  /** Integer labels index the names only when no name is itself an integer. */
  private readonly byIndex: boolean;

  constructor(readonly names: string[], readonly path = 'the data') {
    this.exact = new Map(names.map((n, i) => [n, i]));
    names.forEach((n, i) => { if (!this.folded.has(n.toLowerCase())) this.folded.set(n.toLowerCase(), i); });
    this.byIndex = !names.some((n) => INTEGER.test(n));
  }

  /** The label set of training data: `names` when given (each found label must map onto them), else sortLabels(found). */
  static fromData(found: Iterable<string>, path: string, names?: string[]): LabelSet {
    const seen = sortLabels(found);
    const set = new LabelSet(names && names.length > 0 ? names : seen, path);
    for (const label of seen) set.index(label, '');
    if (new Set(seen.map((l) => set.index(l, ''))).size < 2) throw geulError('DATA_ONE_CLASS', { path, label: seen[0] ?? '' });
    return set;
  }

  get size(): number {
    return this.names.length;
  }

  /** The class index of a raw label, or undefined when it maps to none. */
  lookup(label: string): number | undefined {
    const hit = this.exact.get(label) ?? this.folded.get(label.toLowerCase());
    if (hit !== undefined) return hit;
    if (this.byIndex && INTEGER.test(label) && Number(label) >= 0 && Number(label) < this.names.length) return Number(label);
    return undefined;
  }

  /** The class index of a raw label; DATA_LABEL_UNKNOWN naming `where` ("line 12") when it maps to none. */
  index(label: string, where: string): number {
    const i = this.lookup(label);
    if (i === undefined) {
      const shown = this.names.length > 12 ? `${this.names.slice(0, 12).join(', ')}, …` : this.names.join(', ');
      throw geulError('DATA_LABEL_UNKNOWN', { label, path: this.path, where: where ? ` ${where}` : '', labels: shown });
    }
    return i;
  }
}
