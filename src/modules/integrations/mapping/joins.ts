import type { JoinSpec } from '../config/config.types.ts';
import { compileJsonPath } from '../config/jsonpath.ts';
import { PMSMappingError, shown } from '../integrations.errors.ts';

/** What each join matched for one record: the side item, or null when nothing matched. */
export type Joined = Readonly<Record<string, unknown>>;

/** A page's side lists, indexed by key once per page. */
export type PageIndex = ReadonlyMap<string, ReadonlyMap<string, unknown>>;

export interface CompiledJoins {
  readonly names: readonly string[];
  /** Indexes the side lists of one response body (the first item of a key wins). */
  indexPage(body: unknown): PageIndex;
  /**
   * Matches a record against a page's index, or takes what a quarantined record's page matched
   * (`stored`, for a replay). Throws PMSMappingError (field `joins.NAME`) when a required join
   * matches nothing (unless `lenient`: then it reads null too); an optional one reads null.
   */
  resolve(raw: unknown, page: PageIndex | undefined, stored?: Joined, lenient?: boolean): Joined;
}

/** A key as text: ids come as numbers from one PMS and as text from another. */
function keyOf(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  return undefined;
}

export const NO_JOINS: CompiledJoins = {
  names: [],
  indexPage: () => new Map(),
  resolve: () => ({}),
};

export function compileJoins(joins: Record<string, JoinSpec> | undefined): CompiledJoins {
  const specs = Object.entries(joins ?? {}).map(([name, spec]) => ({
    name,
    spec,
    items: compileJsonPath(spec.items),
    key: compileJsonPath(spec.key),
    on: compileJsonPath(spec.on),
  }));
  if (specs.length === 0) return NO_JOINS;
  return {
    names: specs.map((s) => s.name),
    indexPage(body) {
      const index = new Map<string, Map<string, unknown>>();
      for (const { name, items, key } of specs) {
        const byKey = new Map<string, unknown>();
        for (const item of body === null || typeof body !== 'object' ? [] : items.all(body)) {
          const k = keyOf(key.first(item));
          if (k !== undefined && !byKey.has(k)) byKey.set(k, item);
        }
        index.set(name, byKey);
      }
      return index;
    },
    resolve(raw, page, stored, lenient = false) {
      const joined: Record<string, unknown> = {};
      for (const { name, spec, on } of specs) {
        const value = on.first(raw);
        const k = keyOf(value);
        const item = stored
          ? (stored[name] ?? undefined)
          : k === undefined
            ? undefined
            : page?.get(name)?.get(k);
        joined[name] = item ?? null;
        if (item !== undefined || !spec.required || lenient) continue;
        throw new PMSMappingError(
          `joins.${name}`,
          k === undefined
            ? `the record has no ${spec.on} to join on (the join is required)`
            : `no item of ${spec.items} has ${spec.key} ${shown(value)} (the record's ${spec.on}; the join is required)`,
        );
      }
      return joined;
    },
  };
}
