/**
 * Schema drift: the shape of a PMS's raw records, fingerprinted as the set of field paths
 * (`guest.contact.email`, `rooms[].code`), and compared run by run.
 */
export class FieldCensus {
  readonly counts = new Map<string, number>();
  records = 0;

  /** Counts each path once per record. */
  add(record: unknown): void {
    this.records += 1;
    const seen = new Set<string>();
    walk(record, '', seen);
    for (const path of seen) this.counts.set(path, (this.counts.get(path) ?? 0) + 1);
  }
}

function walk(node: unknown, prefix: string, seen: Set<string>): void {
  if (Array.isArray(node)) {
    const path = `${prefix}[]`;
    seen.add(path);
    for (const item of node) walk(item, path, seen);
    return;
  }
  if (node === null || typeof node !== 'object') return;
  for (const key of Object.keys(node)) {
    // A key PostgreSQL cannot store (a NUL in it) is counted as the record shows it in quarantine.
    const name = key.includes('\u0000') ? key.replaceAll('\u0000', '\u2400') : key;
    const path = prefix ? `${prefix}.${name}` : name;
    seen.add(path);
    walk((node as Record<string, unknown>)[key], path, seen);
  }
}

export interface KnownField {
  path: string;
  always_present: boolean;
}

export interface Drift {
  new_fields: string[];
  vanished_fields: string[];
}

/**
 * New fields: paths never seen before for this PMS version. Vanished: paths every earlier record
 * had that no record of this run has (optional fields never count as vanished). Null when there
 * is nothing to compare: the first run of a PMS version, or a run that fetched nothing.
 */
export function compareFields(known: KnownField[], census: FieldCensus): Drift | null {
  if (known.length === 0 || census.records === 0) return null;
  const knownPaths = new Set(known.map((k) => k.path));
  return {
    new_fields: [...census.counts.keys()].filter((p) => !knownPaths.has(p)).sort(),
    vanished_fields: known
      .filter((k) => k.always_present && !census.counts.has(k.path))
      .map((k) => k.path)
      .sort(),
  };
}
