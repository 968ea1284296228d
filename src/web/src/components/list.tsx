import type { Paged } from '../lib/hooks.ts';
import { ErrorNote } from './ui.tsx';

/** Status line and "Load more" under a paginated table. */
export function PageFooter<T>(props: { list: Paged<T>; noun: string }) {
  const { list } = props;
  return (
    <div class="list-foot">
      <ErrorNote error={list.error} />
      <p class="muted" aria-live="polite">
        {list.loading ? 'Loading…' : `${list.items.length} ${props.noun}${list.more ? ' shown' : ''}`}
      </p>
      {list.more ? (
        <button type="button" onClick={() => void list.more?.()} disabled={list.loading}>
          Load more
        </button>
      ) : null}
    </div>
  );
}

/** Debounces a search box into the list query. */
export function SearchBox(props: {
  label: string;
  value: string;
  onValue: (value: string) => void;
  placeholder?: string;
}) {
  return (
    <div class="field search">
      <label for="search-box">{props.label}</label>
      <input
        id="search-box"
        type="search"
        value={props.value}
        maxLength={200}
        placeholder={props.placeholder}
        onInput={(event) => props.onValue((event.target as HTMLInputElement).value)}
      />
    </div>
  );
}
