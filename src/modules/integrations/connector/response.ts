import type { ResponseSpec, Scalar } from '../config/config.types.ts';
import { type CompiledPath, compileJsonPath } from '../config/jsonpath.ts';
import { parseXml, XmlShapeError } from './xml.ts';

/** Largest XML answer read unless the config says otherwise: XML takes far longer to parse than JSON. */
export const DEFAULT_MAX_XML_BYTES = 16 * 1024 * 1024;
/** The longest vendor message quoted in a run's error. */
const MESSAGE_CHARS = 200;

export class ResponseShapeError extends Error {}

/** How a config reads its PMS's answers: JSON or XML, and which answers are failures. */
export interface ResponseReader {
  format: 'json' | 'xml';
  /** Largest answer read, in bytes; undefined: the connector's default. */
  maxBytes: number | undefined;
  /** The answer as a document, or null when it has no body (204, or nothing but whitespace). */
  parse(status: number, text: string): Promise<unknown>;
  /** The PMS's own message when the document says the request failed, else undefined. */
  failure(document: unknown): string | undefined;
}

interface FailureRule {
  path: CompiledPath;
  equals?: Scalar;
  exists?: boolean;
  message?: CompiledPath;
  describe: string;
}

function quote(value: unknown): string {
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  const flat = String(text).replace(/\s+/g, ' ').trim();
  return flat.length > MESSAGE_CHARS ? `${flat.slice(0, MESSAGE_CHARS - 1)}…` : flat;
}

export function responseReader(spec: ResponseSpec | undefined): ResponseReader {
  const format = spec?.format ?? 'json';
  const rules: FailureRule[] = (spec?.failure ?? []).map((rule) => ({
    path: compileJsonPath(rule.path),
    equals: rule.equals,
    exists: rule.exists,
    message: rule.message_path ? compileJsonPath(rule.message_path) : undefined,
    describe:
      rule.equals !== undefined
        ? `${rule.path} is ${JSON.stringify(rule.equals)}`
        : `${rule.path} ${rule.exists === false ? 'is absent' : 'is present'}`,
  }));
  const xml = {
    arrayElements: spec?.xml?.array_elements,
    namespaces: spec?.xml?.namespaces,
  };
  return {
    format,
    maxBytes: spec?.max_bytes ?? (format === 'xml' ? DEFAULT_MAX_XML_BYTES : undefined),
    async parse(status, text) {
      if (status === 204 || status === 205 || text.trim() === '') return null;
      if (format === 'xml') {
        try {
          return await parseXml(text, xml);
        } catch (error) {
          if (error instanceof XmlShapeError) throw new ResponseShapeError(`an answer that ${error.message}`);
          throw error;
        }
      }
      let body: unknown;
      try {
        body = JSON.parse(text);
      } catch {
        throw new ResponseShapeError('a body that is not JSON');
      }
      if (body === null || typeof body !== 'object')
        throw new ResponseShapeError('JSON that is not an object or a list');
      return body;
    },
    failure(document) {
      if (document === null || document === undefined) return undefined;
      for (const rule of rules) {
        const matches = rule.path.all(document);
        const hit =
          rule.equals !== undefined
            ? matches.some((value) => value === rule.equals)
            : (rule.exists ?? true) === matches.length > 0;
        if (!hit) continue;
        let message = rule.message?.first(document);
        // An XML element with attributes (<faultstring xml:lang="en">) keeps its text in #text.
        if (message !== null && typeof message === 'object' && Object.hasOwn(message, '#text'))
          message = (message as Record<string, unknown>)['#text'];
        return message === undefined || message === null || message === ''
          ? `the PMS reported a failure (${rule.describe})`
          : quote(message);
      }
      return undefined;
    },
  };
}
