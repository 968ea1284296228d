import { DateTime } from 'luxon';
import { parseInstant, suffixProblem } from '../connector/instants.ts';
import { dateFormatProblem, isValidTimezone } from '../mapping/dates.ts';
import { jsonPathProblem } from './jsonpath.ts';

/**
 * The semantic lint of `source` (how to fetch): what JSON Schema cannot say, checked against what
 * the connector does, so that the lint accepts a construct exactly when the runtime can run it.
 * Written defensively: it also runs on documents that failed the schema.
 */
type Obj = Record<string, unknown>;
type Add = (pointer: string, message: string) => void;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const esc = (key: string) => key.replaceAll('~', '~0').replaceAll('/', '~1');

const PLACEHOLDER = /\{([^{}]*)\}/g;
const SECRET_NAME = /^secret\.([A-Za-z0-9_]{1,100})$/;
/** Placeholders whose value is an instant, which a format suffix may rewrite (`{now:epoch_seconds}`). */
const INSTANTS = new Set(['now', 'window.start', 'window.end']);

/** Placeholders each pagination type provides besides the always-available ones. */
function paginationPlaceholders(pagination: Obj | undefined): string[] {
  switch (pagination?.type) {
    case 'page_number':
      return pagination.limit === undefined ? ['page'] : ['page', 'limit'];
    case 'offset':
      return ['offset', 'limit'];
    case 'cursor':
      return pagination.limit === undefined ? ['page_cursor'] : ['page_cursor', 'limit'];
    default:
      return [];
  }
}

/** Why a name is not a placeholder of this place, with a hint at what would provide it. */
function hintFor(name: string): string {
  if (name === 'cursor') return ' ({cursor} needs source.incremental)';
  if (name.startsWith('window.')) return ` ({${name}} needs source.incremental.window)`;
  if (['page', 'offset', 'limit', 'page_cursor'].includes(name))
    return ` ({${name}} needs a pagination type that provides it)`;
  if (name === 'auth.token')
    return ' ({auth.token} needs an oauth2_client_credentials or login auth block, outside it)';
  if (name.startsWith('ack.')) return ' ({ack.…} is for source.ack.request, with a name of ack.values)';
  return '';
}

/** Every string of a JSON body template, with its pointer. */
function* jsonStrings(
  value: unknown,
  pointer: string,
  depth = 0,
): Generator<[string, string, 'key' | 'value']> {
  if (depth > 50) return;
  if (typeof value === 'string') yield [pointer, value, 'value'];
  else if (Array.isArray(value)) {
    for (const [i, item] of value.entries()) yield* jsonStrings(item, `${pointer}/${i}`, depth + 1);
  } else if (isObj(value)) {
    for (const [key, item] of Object.entries(value)) {
      yield [`${pointer}/${esc(key)}`, key, 'key'];
      yield* jsonStrings(item, `${pointer}/${esc(key)}`, depth + 1);
    }
  }
}

const PROBE_BASE = new URL('https://base-url.invalid/prefix/');

/**
 * Why a request path would leave the connection's base_url origin (`//host/…`, `/https://host/…`,
 * `/name:…` read as a scheme), resolved as the connector resolves it; undefined when it stays.
 */
export function pathLeavesBaseUrl(path: string): string | undefined {
  // Placeholders are URL-encoded into the path, so they cannot move it: any text stands for them.
  const filled = path.replace(PLACEHOLDER, 'x').replace(/^\//, '');
  let resolved: URL;
  try {
    resolved = new URL(filled, PROBE_BASE);
  } catch {
    return 'is not a usable URL path';
  }
  if (resolved.origin === PROBE_BASE.origin) return undefined;
  return (
    "must be a path under the connection's base_url, but it is read as another address " +
    '(a host after "//", or a scheme before ":" in the first segment): the connection\'s secrets go only to base_url'
  );
}

/** Why an absolute URL cannot be an auth block's declared origin; undefined when it can. */
function absoluteUrlProblem(text: string): string | undefined {
  if (PLACEHOLDER.test(text)) {
    PLACEHOLDER.lastIndex = 0;
    return 'must be written out: an absolute URL takes no placeholders, so the origin the secrets go to is fixed by the config';
  }
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'must be an http or https URL';
  if (url.username || url.password) return 'must not carry credentials; put them in secrets';
  if (url.search || url.hash) return 'must not have a query or a fragment';
  return undefined;
}

export function lintSource(source: Obj, add: Add): void {
  const checkPath = (pointer: string, path: unknown) => {
    if (typeof path !== 'string') return;
    const problem = jsonPathProblem(path);
    if (problem) add(pointer, `is not a usable JSONPath: ${problem}`);
  };
  const pagination = isObj(source.pagination) ? source.pagination : undefined;
  const incremental = isObj(source.incremental) ? source.incremental : undefined;
  const auth = isObj(source.auth) ? source.auth : undefined;
  const ack = isObj(source.ack) ? source.ack : undefined;
  const request = isObj(source.request) ? source.request : undefined;
  const tokenAuth = auth?.type === 'oauth2_client_credentials' || auth?.type === 'login';
  const windowed = isObj(incremental?.window);
  const format = incremental?.cursor_format;
  const timeCursor = ['iso8601', 'epoch_seconds', 'epoch_millis', 'datetime'].includes(String(format));

  checkPath('/source/records', source.records);
  if (pagination) {
    for (const key of ['next_path', 'total_path', 'pages_path', 'more_path'])
      checkPath(`/source/pagination/${key}`, pagination[key]);
  }

  // Where each placeholder may stand: the base set, plus what the place provides.
  const common = ['hotel.external_id', 'now'];
  const fetchNames = new Set([...common, ...paginationPlaceholders(pagination)]);
  if (incremental) fetchNames.add('cursor');
  if (windowed) {
    fetchNames.add('window.start');
    fetchNames.add('window.end');
  }
  if (tokenAuth) fetchNames.add('auth.token');
  const used = new Set<string>();
  const checkText = (pointer: string, text: unknown, allowed: Set<string>) => {
    if (typeof text !== 'string') return;
    for (const match of text.matchAll(PLACEHOLDER)) {
      const whole = match[1]!;
      if (SECRET_NAME.test(whole)) continue;
      const colon = whole.indexOf(':');
      const name = colon < 0 ? whole : whole.slice(0, colon);
      if (!allowed.has(name)) {
        add(pointer, `unknown placeholder {${whole}}${hintFor(name)}`);
        continue;
      }
      used.add(name);
      if (colon >= 0) {
        const timed = INSTANTS.has(name) || (name === 'cursor' && timeCursor);
        if (!timed)
          add(
            pointer,
            `{${whole}}: only a time ({now}, {window.start}, {window.end}, a time cursor) takes a format`,
          );
        else {
          const problem = suffixProblem(whole.slice(colon + 1));
          if (problem) add(pointer, `{${whole}}: ${problem}`);
        }
      }
    }
  };

  const lintRequest = (
    at: string,
    spec: Obj,
    allowed: Set<string>,
    options: { absoluteUrl?: boolean } = {},
  ) => {
    if (options.absoluteUrl && typeof spec.url === 'string') {
      const problem = absoluteUrlProblem(spec.url);
      if (problem) add(`${at}/url`, problem);
      if (typeof spec.path === 'string') add(`${at}/url`, 'give either path or url, not both');
    }
    if (typeof spec.path === 'string') {
      checkText(`${at}/path`, spec.path, allowed);
      const leaves = pathLeavesBaseUrl(spec.path);
      if (leaves) add(`${at}/path`, leaves);
    }
    for (const part of ['query', 'headers'] as const) {
      const values = spec[part];
      if (!isObj(values)) continue;
      for (const [key, value] of Object.entries(values))
        checkText(`${at}/${part}/${esc(key)}`, value, allowed);
    }
    const body = spec.body;
    if (!isObj(body)) return;
    const kinds = ['json', 'form', 'xml'].filter((k) => k in body);
    if (kinds.length !== 1) add(`${at}/body`, 'must have exactly one of json, form or xml');
    if ((spec.method ?? 'GET') === 'GET')
      add(`${at}/body`, 'a GET request carries no body: use POST (or PUT, PATCH, DELETE)');
    if ('json' in body) {
      for (const [pointer, text, kind] of jsonStrings(body.json, `${at}/body/json`)) {
        if (kind === 'key') {
          if (/\{[^{}]*\}/.test(text)) add(pointer, 'placeholders are filled in values, not in names');
        } else checkText(pointer, text, allowed);
      }
    }
    if (isObj(body.form)) {
      for (const [key, value] of Object.entries(body.form))
        checkText(`${at}/body/form/${esc(key)}`, value, allowed);
    }
    if (typeof body.xml === 'string') checkText(`${at}/body/xml`, body.xml, allowed);
  };

  if (request) lintRequest('/source/request', request, fetchNames);
  const fetchUsed = new Set(used);

  // Pagination: the page must be sent somewhere, as a parameter or a placeholder.
  if (pagination) {
    const needs: Record<string, string> = { page_number: 'page', offset: 'offset', cursor: 'page_cursor' };
    const carrier = needs[String(pagination.type)];
    if (carrier && pagination.param === undefined && !fetchUsed.has(carrier))
      add(
        '/source/pagination/param',
        `is required, unless a {${carrier}} placeholder in the request sends the page`,
      );
    if (pagination.type === 'offset' && pagination.limit_param === undefined && !fetchUsed.has('limit'))
      add(
        '/source/pagination/limit_param',
        'is required, unless a {limit} placeholder in the request sends the page size',
      );
    if (pagination.type === 'queue' && !ack)
      add(
        '/source/pagination',
        'a queue is read until it is empty, which only acknowledging drains: add source.ack',
      );
  }

  if (incremental) {
    const base = '/source/incremental';
    const zone = incremental.timezone;
    if (typeof zone === 'string') {
      if (!isValidTimezone(zone)) add(`${base}/timezone`, `is not an IANA time zone (such as Europe/Paris)`);
      else if (format !== 'iso8601' && format !== 'datetime')
        add(`${base}/timezone`, 'applies to iso8601 and datetime cursors only');
    }
    if (format === 'datetime') {
      if (typeof incremental.pattern !== 'string')
        add(`${base}/pattern`, 'is required for a datetime cursor');
      else {
        const problem = dateFormatProblem(incremental.pattern);
        if (problem) add(`${base}/pattern`, problem);
      }
    } else if (incremental.pattern !== undefined) add(`${base}/pattern`, 'applies to datetime cursors only');
    const initial = incremental.initial;
    if (typeof initial === 'string') {
      const zoneName = typeof zone === 'string' && isValidTimezone(zone) ? zone : undefined;
      let ok = true;
      // The same reading as the connector's (parseInstant), so the lint accepts exactly what runs.
      if (format === 'iso8601')
        ok = zoneName
          ? parseInstant(initial, { kind: 'iso8601', zone: zoneName }) !== undefined
          : DateTime.fromISO(initial).isValid;
      else if (format === 'epoch_seconds' || format === 'epoch_millis') ok = /^\d+$/.test(initial);
      else if (
        format === 'datetime' &&
        typeof incremental.pattern === 'string' &&
        !dateFormatProblem(incremental.pattern)
      )
        ok =
          parseInstant(initial, {
            kind: 'pattern',
            pattern: incremental.pattern,
            zone: zoneName ?? 'UTC',
          }) !== undefined;
      if (!ok) add(`${base}/initial`, `is not a cursor in the ${String(format)} format`);
    }
    checkPath(`${base}/cursor_path`, incremental.cursor_path);
    if (windowed) {
      if (incremental.cursor_path !== undefined)
        add(`${base}/cursor_path`, 'is not used with a window: the cursor is the end of each committed span');
      if (!timeCursor)
        add(`${base}/window`, 'needs a time cursor (iso8601, epoch_seconds, epoch_millis or datetime)');
      if (pagination?.type === 'queue') add(`${base}/window`, 'does not apply to a queue');
      if (incremental.cursor_source === 'response') add(`${base}/cursor_source`, 'is not used with a window');
      if (!fetchUsed.has('window.start') && !fetchUsed.has('window.end'))
        add(
          `${base}/window`,
          'needs {window.start} or {window.end} in the request, or every span fetches the same',
        );
    } else if (incremental.cursor_path === undefined) {
      add(`${base}/cursor_path`, 'is required (unless a window moves the cursor)');
    }
  }

  const lintResponse = (at: string, response: unknown) => {
    if (!isObj(response)) return;
    if (Array.isArray(response.failure)) {
      response.failure.forEach((rule, i) => {
        if (!isObj(rule)) return;
        checkPath(`${at}/failure/${i}/path`, rule.path);
        checkPath(`${at}/failure/${i}/message_path`, rule.message_path);
      });
    }
    if (response.xml !== undefined && response.format !== 'xml')
      add(`${at}/xml`, 'applies to format xml only');
  };
  lintResponse('/source/response', source.response);

  if (auth) {
    const authNames = new Set(common);
    if (auth.type === 'basic') {
      checkText('/source/auth/username', auth.username, authNames);
      checkText('/source/auth/password', auth.password, authNames);
    }
    if (auth.type === 'oauth2_client_credentials') {
      if (typeof auth.token_url === 'string') {
        if (auth.token_url.startsWith('/')) {
          checkText('/source/auth/token_url', auth.token_url, authNames);
          const leaves = pathLeavesBaseUrl(auth.token_url);
          if (leaves) add('/source/auth/token_url', leaves);
        } else {
          const problem = absoluteUrlProblem(auth.token_url);
          if (problem) add('/source/auth/token_url', problem);
        }
      }
      for (const key of ['client_id', 'client_secret', 'scope'])
        checkText(`/source/auth/${key}`, auth[key], authNames);
      if (isObj(auth.params)) {
        for (const [key, value] of Object.entries(auth.params)) {
          if (['grant_type', 'client_id', 'client_secret', 'scope'].includes(key))
            add(`/source/auth/params/${esc(key)}`, `is set by the auth block itself`);
          checkText(`/source/auth/params/${esc(key)}`, value, authNames);
        }
      }
    }
    if (auth.type === 'login') {
      if (isObj(auth.request))
        lintRequest('/source/auth/request', auth.request, authNames, { absoluteUrl: true });
      for (const key of ['token_path', 'expires_in_path', 'expires_at_path'])
        checkPath(`/source/auth/${key}`, auth[key]);
      lintResponse('/source/auth/response', auth.response);
    }
  }

  if (ack) {
    if (pagination?.type !== 'queue')
      add(
        '/source/ack',
        'acknowledges a queue: it needs pagination type queue (read, commit, acknowledge, read again)',
      );
    const valueNames = isObj(ack.values) ? Object.keys(ack.values) : [];
    if (isObj(ack.values)) {
      for (const [name, path] of Object.entries(ack.values))
        checkPath(`/source/ack/values/${esc(name)}`, path);
    }
    const ackRequest = isObj(ack.request) ? ack.request : undefined;
    const names = new Set([...common, ...valueNames.map((n) => `ack.${n}`)]);
    if (incremental) names.add('cursor');
    if (tokenAuth) names.add('auth.token');
    const bodyKind = isObj(ackRequest?.body)
      ? (['json', 'form', 'xml'].find((k) => k in (ackRequest.body as Obj)) ?? undefined)
      : undefined;
    if (ack.each !== undefined) {
      if (ack.per !== 'page') add('/source/ack/each', 'applies to per: page only');
      else if (bodyKind !== 'json' && bodyKind !== 'xml')
        add('/source/ack/each', 'needs a json or xml body in ack.request, where {ack.each} places it');
      else if (bodyKind === 'xml' && typeof ack.each !== 'string')
        add('/source/ack/each', 'is XML text for an xml body');
      names.add('ack.each');
      const eachNames = new Set([...common, ...valueNames.map((n) => `ack.${n}`)]);
      if (typeof ack.each === 'string') checkText('/source/ack/each', ack.each, eachNames);
      else
        for (const [pointer, text, kind] of jsonStrings(ack.each, '/source/ack/each'))
          if (kind === 'value') checkText(pointer, text, eachNames);
    }
    used.clear();
    if (ackRequest) lintRequest('/source/ack/request', ackRequest, names);
    if (ack.each !== undefined && !used.has('ack.each'))
      add('/source/ack/request', 'does not place {ack.each}, so ack.each is never sent');
    lintResponse('/source/ack/response', ack.response);
  }
}
