import type { ComponentChildren } from 'preact';
import { useId } from 'preact/hooks';
import type { ApiError } from '../lib/api.ts';

/** The API names bad fields by JSON pointer rooted at the request part ("/body/code"); forms use "/code". */
export function normalizePointer(pointer: string): string {
  return pointer.replace(/^\/body(?=\/|$)/, '') || '/';
}

/** Ajv's wording, said the way a form says it. */
export function humanMessage(message: string): string {
  let m = /^must NOT have more than (\d+) characters$/.exec(message);
  if (m) return `is too long (at most ${m[1]} characters)`;
  m = /^must NOT have fewer than (\d+) characters$/.exec(message);
  if (m) return Number(m[1]) === 1 ? 'is required' : `is too short (at least ${m[1]} characters)`;
  m = /^must be >= (\S+)$/.exec(message);
  if (m) return `must be at least ${m[1]}`;
  m = /^must be <= (\S+)$/.exec(message);
  if (m) return `must be at most ${m[1]}`;
  m = /^must match format "(\w[\w-]*)"$/.exec(message);
  if (m) return `is not a valid ${m[1]}`;
  if (message.startsWith('must match pattern')) return 'has an invalid format';
  return message;
}

/** Ajv reports each branch of a nullable union; "must be null" beside a real reason is noise. */
function isUnionNoise(message: string): boolean {
  return message === 'must be null' || message === 'must match a schema in anyOf';
}

export function fieldError(problem: ApiError | null | undefined, pointer: string): string | undefined {
  if (!problem) return undefined;
  const matching = problem.errors.filter((e) => {
    const p = normalizePointer(e.pointer);
    return p === pointer || p.startsWith(`${pointer}/`);
  });
  const meaningful = matching.some((e) => !isUnionNoise(e.message))
    ? matching.filter((e) => !isUnionNoise(e.message))
    : matching;
  const messages = [...new Set(meaningful.map((e) => humanMessage(e.message)))];
  return messages.length > 0 ? messages.join('; ') : undefined;
}

interface FieldShell {
  label: string;
  pointer?: string;
  problem?: ApiError | null;
  error?: string;
  hint?: string;
  class?: string;
}

function Shell(props: FieldShell & { id: string; children: ComponentChildren; inline?: boolean }) {
  const error = props.error ?? (props.pointer ? fieldError(props.problem, props.pointer) : undefined);
  return (
    <div
      class={`field ${props.inline ? 'field-inline' : ''} ${error ? 'has-error' : ''} ${props.class ?? ''}`}
    >
      {props.inline ? null : <label for={props.id}>{props.label}</label>}
      {props.children}
      {props.inline ? <label for={props.id}>{props.label}</label> : null}
      {props.hint ? (
        <p class="field-hint" id={`${props.id}-hint`}>
          {props.hint}
        </p>
      ) : null}
      {error ? (
        <p class="field-error" id={`${props.id}-error`} data-pointer={props.pointer}>
          {error}
        </p>
      ) : null}
    </div>
  );
}

function describedBy(id: string, props: FieldShell): string | undefined {
  const error = props.error ?? (props.pointer ? fieldError(props.problem, props.pointer) : undefined);
  const ids = [props.hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean);
  return ids.length ? ids.join(' ') : undefined;
}

function invalid(props: FieldShell): boolean {
  return Boolean(props.error ?? (props.pointer ? fieldError(props.problem, props.pointer) : undefined));
}

interface InputAttrs {
  type?: 'text' | 'email' | 'password' | 'date' | 'url' | 'search' | 'tel';
  required?: boolean;
  disabled?: boolean;
  readOnly?: boolean;
  maxLength?: number;
  min?: number | string;
  max?: number | string;
  step?: number | string;
  autoComplete?: string;
  placeholder?: string;
  name?: string;
}

export function TextField(
  props: FieldShell & InputAttrs & { value: string; onValue: (value: string) => void },
) {
  const id = useId();
  const { label, pointer, problem, error, hint, value, onValue, class: _class, type, ...rest } = props;
  return (
    <Shell {...{ label, pointer, problem, error, hint }} id={id} class={props.class}>
      <input
        id={id}
        // Preact types each input type apart; the union of the types we allow is safe here.
        type={(type ?? 'text') as 'text'}
        {...rest}
        value={value}
        aria-invalid={invalid(props)}
        aria-describedby={describedBy(id, props)}
        onInput={(event) => onValue((event.target as HTMLInputElement).value)}
      />
    </Shell>
  );
}

export function NumberField(
  props: FieldShell & InputAttrs & { value: number | ''; onValue: (value: number | '') => void },
) {
  const id = useId();
  const { label, pointer, problem, error, hint, value, onValue, class: _class, type: _type, ...rest } = props;
  return (
    <Shell {...{ label, pointer, problem, error, hint }} id={id} class={props.class}>
      <input
        id={id}
        type="number"
        inputMode="decimal"
        {...rest}
        value={value}
        aria-invalid={invalid(props)}
        aria-describedby={describedBy(id, props)}
        onInput={(event) => {
          const raw = (event.target as HTMLInputElement).value;
          onValue(raw === '' ? '' : Number(raw));
        }}
      />
    </Shell>
  );
}

export function TextArea(
  props: FieldShell & {
    value: string;
    onValue: (value: string) => void;
    rows?: number;
    required?: boolean;
    maxLength?: number;
    spellcheck?: boolean;
    placeholder?: string;
  },
) {
  const id = useId();
  return (
    <Shell {...props} id={id}>
      <textarea
        id={id}
        rows={props.rows ?? 4}
        required={props.required}
        maxLength={props.maxLength}
        spellcheck={props.spellcheck}
        placeholder={props.placeholder}
        value={props.value}
        aria-invalid={invalid(props)}
        aria-describedby={describedBy(id, props)}
        onInput={(event) => props.onValue((event.target as HTMLTextAreaElement).value)}
      />
    </Shell>
  );
}

export interface Option {
  value: string;
  label: string;
}

export function SelectField(
  props: FieldShell & {
    value: string;
    onValue: (value: string) => void;
    options: Option[];
    required?: boolean;
    disabled?: boolean;
    placeholder?: string;
  },
) {
  const id = useId();
  return (
    <Shell {...props} id={id}>
      <select
        id={id}
        value={props.value}
        required={props.required}
        disabled={props.disabled}
        aria-invalid={invalid(props)}
        aria-describedby={describedBy(id, props)}
        onChange={(event) => props.onValue((event.target as HTMLSelectElement).value)}
      >
        {props.placeholder !== undefined ? <option value="">{props.placeholder}</option> : null}
        {props.options.map((option) => (
          <option key={option.value} value={option.value}>
            {option.label}
          </option>
        ))}
      </select>
    </Shell>
  );
}

export function CheckField(
  props: FieldShell & { checked: boolean; onValue: (checked: boolean) => void; disabled?: boolean },
) {
  const id = useId();
  return (
    <Shell {...props} id={id} inline>
      <input
        id={id}
        type="checkbox"
        checked={props.checked}
        disabled={props.disabled}
        aria-invalid={invalid(props)}
        aria-describedby={describedBy(id, props)}
        onChange={(event) => props.onValue((event.target as HTMLInputElement).checked)}
      />
    </Shell>
  );
}

/** A group of checkboxes for a set of values (properties of a user, event types of a webhook). */
export function CheckGroup(
  props: FieldShell & { options: Option[]; values: string[]; onValues: (values: string[]) => void },
) {
  const id = useId();
  const error = props.error ?? (props.pointer ? fieldError(props.problem, props.pointer) : undefined);
  return (
    <fieldset
      class={`field check-group ${error ? 'has-error' : ''} ${props.class ?? ''}`}
      aria-describedby={error ? `${id}-error` : undefined}
    >
      <legend>{props.label}</legend>
      {props.options.length === 0 ? <p class="muted">None available.</p> : null}
      {props.options.map((option) => (
        <label key={option.value} class="check">
          <input
            type="checkbox"
            checked={props.values.includes(option.value)}
            onChange={(event) => {
              const on = (event.target as HTMLInputElement).checked;
              props.onValues(
                on ? [...props.values, option.value] : props.values.filter((v) => v !== option.value),
              );
            }}
          />
          {option.label}
        </label>
      ))}
      {error ? (
        <p class="field-error" id={`${id}-error`} data-pointer={props.pointer}>
          {error}
        </p>
      ) : null}
    </fieldset>
  );
}

/**
 * The problem's summary, plus every field error no field on the form claimed (so nothing the
 * server said is ever hidden).
 */
export function ProblemSummary(props: { problem: ApiError | null | undefined; fields?: string[] }) {
  const problem = props.problem;
  if (!problem) return null;
  const fields = props.fields ?? [];
  const others = problem.errors.filter((e) => {
    const p = normalizePointer(e.pointer);
    return !fields.some((f) => p === f || p.startsWith(`${f}/`));
  });
  const claimed = problem.errors.length - others.length;
  const summary =
    claimed > 0 && others.length === 0
      ? `Please correct the ${claimed === 1 ? 'field' : 'fields'} marked below.`
      : problem.message;
  return (
    <div class="problem" role="alert">
      <p>
        <strong>{problem.code}</strong>: {summary}
      </p>
      {others.length > 0 ? (
        <ul class="pointer-errors">
          {others.map((e) => (
            <li key={`${e.pointer}:${e.message}`}>
              <code>{e.pointer}</code> {e.message}
            </li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}
