import { badValuesFor, type JsonSchema } from './bad-values.ts';

/**
 * Requests that each break one thing of a valid request, derived from an operation's published
 * schemas: every path parameter, query parameter, header and body field, missing required fields,
 * unknown fields and bodies that are not objects. Shared by the bad-input tests of every module.
 */

/** A valid request of one operation, which the bad requests each break in one place. */
export interface Baseline {
  params?: Record<string, string>;
  query?: Record<string, string>;
  headers?: Record<string, string>;
  body?: Record<string, unknown>;
}

export interface Operation {
  parameters?: Array<{
    in: 'path' | 'query' | 'header';
    name: string;
    schema: JsonSchema & { pattern?: string };
  }>;
  requestBody?: { content: { 'application/json': { schema: JsonSchema & { minProperties?: number } } } };
}

export interface BadRequest {
  label: string;
  url: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** The JSON pointer the problem's `errors` must name (or a parent of it). */
  pointer: string;
}

export function urlOf(path: string, params: Record<string, string>, query: Record<string, string>): string {
  const filled = path.replace(/\{(\w+)\}/g, (_m, name: string) => encodeURIComponent(params[name] ?? ''));
  const search = new URLSearchParams(query).toString();
  return search ? `${filled}?${search}` : filled;
}

/** Every way to break one thing of a valid request, derived from the operation's schemas. */
export function badRequests(path: string, operation: Operation, baseline: Baseline): BadRequest[] {
  const params = baseline.params ?? {};
  const query = baseline.query ?? {};
  const body = baseline.body;
  const headers = baseline.headers;
  const requests: BadRequest[] = [];
  const parameters = operation.parameters ?? [];
  for (const parameter of parameters.filter((p) => p.in === 'header')) {
    const bad = badValuesFor(parameter.schema, true, true);
    if (parameter.schema.pattern) bad.push({ label: 'a value outside its pattern', value: 'two words' });
    for (const { label, value } of bad) {
      requests.push({
        label: `header ${parameter.name}: ${label}`,
        url: urlOf(path, params, query),
        body,
        headers: { ...headers, [parameter.name]: String(value) },
        pointer: `/headers/${parameter.name}`,
      });
    }
  }
  for (const parameter of parameters.filter((p) => p.in === 'path')) {
    for (const bad of badValuesFor(parameter.schema, true)) {
      requests.push({
        label: `path ${parameter.name}: ${bad.label}`,
        url: urlOf(path, { ...params, [parameter.name]: String(bad.value) }, query),
        body,
        pointer: `/params/${parameter.name}`,
      });
    }
  }
  const queryParameters = parameters.filter((p) => p.in === 'query');
  for (const parameter of queryParameters) {
    for (const bad of badValuesFor(parameter.schema, true)) {
      requests.push({
        label: `query ${parameter.name}: ${bad.label}`,
        url: urlOf(path, params, { ...query, [parameter.name]: String(bad.value) }),
        body,
        pointer: `/querystring/${parameter.name}`,
      });
    }
  }
  if (queryParameters.length > 0) {
    requests.push({
      label: 'an unknown query parameter',
      url: urlOf(path, params, { ...query, unexpected_field: '1' }),
      body,
      pointer: '/querystring/unexpected_field',
    });
  }
  const schema = operation.requestBody?.content['application/json'].schema;
  if (schema && body) {
    const url = urlOf(path, params, query);
    for (const [name, field] of Object.entries(schema.properties ?? {})) {
      for (const bad of badValuesFor(field)) {
        requests.push({
          label: `body ${name}: ${bad.label}`,
          url,
          body: { ...body, [name]: bad.value },
          pointer: `/body/${name}`,
        });
      }
    }
    for (const name of schema.required ?? []) {
      const { [name]: _left, ...rest } = body;
      requests.push({ label: `body without ${name}`, url, body: rest, pointer: `/body/${name}` });
    }
    requests.push({
      label: 'body with an unknown field',
      url,
      body: { ...body, unexpected_field: 'x' },
      pointer: '/body/unexpected_field',
    });
    // An options body whose every field is optional (e.g. check-in's) takes {} as the defaults.
    if ((schema.required?.length ?? 0) > 0 || (schema.minProperties ?? 0) > 0) {
      requests.push({ label: 'body with an empty object', url, body: {}, pointer: '/body' });
    }
    for (const notAnObject of [[], 'text', 42, null]) {
      requests.push({
        label: `body ${JSON.stringify(notAnObject)}`,
        url,
        body: notAnObject,
        pointer: '/body',
      });
    }
  }
  return requests;
}
