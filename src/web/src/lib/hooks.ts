import { useCallback, useEffect, useRef, useState } from 'preact/hooks';
import { describeError } from './api.ts';

export interface Async<T> {
  data: T | undefined;
  error: string | null;
  loading: boolean;
  reload: () => Promise<void>;
  setData: (data: T | undefined) => void;
}

/** Loads data when its inputs change; a late answer for old inputs never overwrites a newer one. */
export function useAsync<T>(load: () => Promise<T>, deps: unknown[]): Async<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const generation = useRef(0);
  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const value = await load();
      if (mine === generation.current) {
        setData(value);
        setError(null);
      }
    } catch (caught) {
      if (mine === generation.current) setError(describeError(caught));
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, deps);
  useEffect(() => {
    void reload();
  }, [reload]);
  return { data, error, loading, reload, setData };
}

/** Runs fn at most once per `ms` after the last call (coalesces bursts of live events). */
export function useDebounced(fn: () => void, ms: number): () => void {
  const timer = useRef<number | undefined>(undefined);
  const latest = useRef(fn);
  latest.current = fn;
  useEffect(() => () => window.clearTimeout(timer.current), []);
  return useCallback(() => {
    window.clearTimeout(timer.current);
    timer.current = window.setTimeout(() => latest.current(), ms);
  }, [ms]);
}

export interface Paged<T> {
  items: T[];
  loading: boolean;
  error: string | null;
  /** Loads the next page; null when there is none. */
  more: (() => Promise<void>) | null;
  reload: () => Promise<void>;
}

/** A cursor-paginated list (`{results, next_cursor}`), first page on input change, "load more" after. */
export function usePaged<T>(
  fetchPage: (cursor: string | null) => Promise<{ results: T[]; next_cursor: string | null }>,
  deps: unknown[],
): Paged<T> {
  const [items, setItems] = useState<T[]>([]);
  const [cursor, setCursor] = useState<string | null>(null);
  const [loading, setLoading] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const generation = useRef(0);

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setLoading(true);
    try {
      const page = await fetchPage(null);
      if (mine !== generation.current) return;
      setItems(page.results);
      setCursor(page.next_cursor);
      setError(null);
    } catch (caught) {
      if (mine === generation.current) {
        setItems([]);
        setCursor(null);
        setError(describeError(caught));
      }
    } finally {
      if (mine === generation.current) setLoading(false);
    }
  }, deps);

  useEffect(() => {
    void reload();
  }, [reload]);

  const more = cursor
    ? async () => {
        const mine = generation.current;
        setLoading(true);
        try {
          const page = await fetchPage(cursor);
          if (mine !== generation.current) return;
          setItems((list) => [...list, ...page.results]);
          setCursor(page.next_cursor);
        } catch (caught) {
          setError(describeError(caught));
        } finally {
          setLoading(false);
        }
      }
    : null;

  return { items, loading, error, more, reload };
}

/** The value, once it has stopped changing for `ms` (search boxes). */
export function useSettled<T>(value: T, ms = 250): T {
  const [settled, setSettled] = useState(value);
  useEffect(() => {
    const timer = window.setTimeout(() => setSettled(value), ms);
    return () => window.clearTimeout(timer);
  }, [value, ms]);
  return settled;
}
