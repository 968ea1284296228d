import type { ApiError } from '../lib/api.ts';
import { CheckGroup } from './forms.tsx';

export const WEEKDAYS = [
  { value: 'mon', label: 'Mon' },
  { value: 'tue', label: 'Tue' },
  { value: 'wed', label: 'Wed' },
  { value: 'thu', label: 'Thu' },
  { value: 'fri', label: 'Fri' },
  { value: 'sat', label: 'Sat' },
  { value: 'sun', label: 'Sun' },
];

/** A day-of-week mask; all seven ticked means "every night" and is sent as no mask at all. */
export function WeekdayMask(props: {
  values: string[];
  onValues: (values: string[]) => void;
  pointer: string;
  problem: ApiError | null;
}) {
  return (
    <CheckGroup
      label="Days of the week"
      class="span-2"
      options={WEEKDAYS}
      values={props.values}
      onValues={props.onValues}
      pointer={props.pointer}
      problem={props.problem}
    />
  );
}

export function weekdayMask(values: string[]): string[] | undefined {
  return values.length === 7 ? undefined : WEEKDAYS.map((d) => d.value).filter((d) => values.includes(d));
}
