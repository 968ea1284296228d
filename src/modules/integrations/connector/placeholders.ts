import { PMSConnectionError } from '../integrations.errors.ts';
import { formatInstant, suffixFormat, type TimeFormat } from './instants.ts';

/** XML already rendered (the `{ack.each}` fragments): inserted into an XML body as it is. */
export class RawXml {
  readonly xml: string;
  constructor(xml: string) {
    this.xml = xml;
  }
}

/** What a placeholder stands for; a whole-string placeholder in a JSON body keeps this type. */
export type PlaceholderValue =
  | string
  | number
  | boolean
  | null
  | unknown[]
  | Record<string, unknown>
  | RawXml;

/** Looks a placeholder up by its text between the braces (`cursor`, `now:epoch_seconds`); undefined when unknown. */
export type Scope = (name: string) => PlaceholderValue | undefined;

export interface ScopeInput {
  values: Record<string, PlaceholderValue>;
  /** Instants by placeholder name (`now`, `window.start`…), written in `format` unless a suffix says otherwise. */
  instants?: Record<string, number>;
  format?: TimeFormat;
  /** The zone of suffix formats (`{now:yyyy-MM-dd}`). */
  zone?: string;
}

export function scopeOf(input: ScopeInput): Scope {
  return (name) => {
    const colon = name.indexOf(':');
    const base = colon < 0 ? name : name.slice(0, colon);
    const millis = input.instants?.[base];
    if (millis !== undefined) {
      const format =
        colon < 0
          ? (input.format ?? { kind: 'iso8601' as const })
          : suffixFormat(name.slice(colon + 1), input.zone ?? 'UTC');
      return formatInstant(millis, format);
    }
    return colon < 0 ? input.values[name] : undefined;
  };
}

/** A scope with more values in front (a page's number, an ack's ids). */
export function extend(scope: Scope, values: Record<string, PlaceholderValue>): Scope {
  return (name) => (Object.hasOwn(values, name) ? values[name] : scope(name));
}

const PLACEHOLDER = /\{([^{}]*)\}/g;
const WHOLE = /^\{([^{}]*)\}$/;

function lookup(scope: Scope, name: string): PlaceholderValue {
  const value = scope(name);
  if (value === undefined) {
    if (name.startsWith('secret.')) {
      throw new PMSConnectionError(`the connection has no secret named "${name.slice(7)}"`);
    }
    throw new PMSConnectionError(`the placeholder {${name}} has no value here`);
  }
  return value;
}

/** A value inside text: numbers and booleans as written, null as nothing, lists joined by commas. */
function textOf(value: PlaceholderValue): string {
  if (value === null) return '';
  if (value instanceof RawXml) return value.xml;
  if (Array.isArray(value)) return value.map((v) => textOf(v as PlaceholderValue)).join(',');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** Fills `{name}` placeholders in text; a secret the connection does not have fails the run, by name only. */
export function fill(template: string, scope: Scope, encode: (s: string) => string = (s) => s): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => encode(textOf(lookup(scope, name))));
}

/**
 * A template that is one placeholder and nothing else, whose value is null (no page cursor yet):
 * its query parameter, header or form field is left out instead of being sent empty.
 */
export function isAbsent(template: string, scope: Scope): boolean {
  const whole = WHOLE.exec(template);
  return whole !== null && lookup(scope, whole[1]!) === null;
}

/**
 * A JSON body template: every string is filled, and a string that is one whole placeholder
 * (`"{cursor}"`) becomes the value itself with its type (a number, null, a list, an object).
 */
export function renderJson(template: unknown, scope: Scope): unknown {
  if (typeof template === 'string') {
    const whole = WHOLE.exec(template);
    if (whole) {
      const value = lookup(scope, whole[1]!);
      return value instanceof RawXml ? value.xml : value;
    }
    return fill(template, scope);
  }
  if (Array.isArray(template)) return template.map((item) => renderJson(item, scope));
  if (template !== null && typeof template === 'object') {
    const out: Record<string, unknown> = {};
    for (const [key, value] of Object.entries(template)) {
      Object.defineProperty(out, key, { value: renderJson(value, scope), enumerable: true, writable: true });
    }
    return out;
  }
  return template;
}

const XML_ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&apos;',
};
export const escapeXml = (text: string) => text.replace(/[&<>"']/g, (c) => XML_ESCAPES[c]!);

/** An XML (SOAP) body: every value XML-escaped, so a secret or a cursor cannot change the markup. */
export function renderXml(template: string, scope: Scope): string {
  return template.replace(PLACEHOLDER, (_whole, name: string) => {
    const value = lookup(scope, name);
    return value instanceof RawXml ? value.xml : escapeXml(textOf(value));
  });
}

/** A form body (application/x-www-form-urlencoded); a field that is one null placeholder is left out. */
export function renderForm(fields: Record<string, string>, scope: Scope): string {
  const form = new URLSearchParams();
  for (const [key, template] of Object.entries(fields)) {
    if (isAbsent(template, scope)) continue;
    form.append(key, fill(template, scope));
  }
  return form.toString();
}

export interface SecretScopeInput {
  hotelExternalId: string;
  secrets: Record<string, string>;
}

/** The values every request may use: the hotel's id and the connection's secrets. */
export function baseValues(input: SecretScopeInput): Record<string, PlaceholderValue> {
  const values: Record<string, PlaceholderValue> = { 'hotel.external_id': input.hotelExternalId };
  for (const [name, value] of Object.entries(input.secrets)) values[`secret.${name}`] = value;
  return values;
}

/** A redactor that also learns values met later (an access token, a Basic header). */
export interface Redactor {
  (text: string): string;
  add(value: string): void;
}

/**
 * Replaces every secret value with [redacted], as given and in every form it takes in a
 * request (URL- and form-encoded, JSON- and XML-escaped), so no error message, log line or
 * stored run ever carries one.
 */
export function redactor(secrets: Record<string, string>): Redactor {
  const needles = new Set<string>();
  let sorted: string[] = [];
  const add = (value: string) => {
    if (value.length < 3) return;
    for (const form of [
      value,
      encodeURIComponent(value),
      new URLSearchParams({ v: value }).toString().slice(2),
      JSON.stringify(value).slice(1, -1),
      escapeXml(value),
    ])
      needles.add(form);
    sorted = [...needles].sort((a, b) => b.length - a.length);
  };
  for (const value of Object.values(secrets)) add(value);
  const redact = ((text: string) => {
    let out = text;
    for (const needle of sorted) out = out.split(needle).join('[redacted]');
    return out;
  }) as Redactor;
  redact.add = add;
  return redact;
}
