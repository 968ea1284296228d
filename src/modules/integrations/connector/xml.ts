import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { SaxesParser } from 'saxes';

/**
 * XML answers as JSON that JSONPath can read (docs/pms-config.md, "Responses"):
 * `{"<root>": element}`; an element with neither attributes nor child elements is its text; any
 * other element is an object with its attributes as `@name`, its text as `#text` and each child
 * element by name, repeated ones (and those named in `array_elements`) as lists.
 *
 * Parsed by saxes, a strict XML 1.0 parser: no DTD is ever read, so no entity is expanded (a
 * document type declaration is refused outright: SOAP forbids them), and only the five predefined
 * entities and character references are known. Depth is capped, and the text is fed in slices
 * with a turn of the event loop between them, so a large page does not hold up other hotels.
 */
export interface XmlOptions {
  /** Element names (local names, or as written with namespaces `keep`) that are always lists. */
  arrayElements?: string[];
  /** `strip` (default): `soap:Body` is `Body` and xmlns declarations are dropped. */
  namespaces?: 'strip' | 'keep';
  /** Deepest nesting of elements accepted (default 200). */
  maxDepth?: number;
  /** Longest stretch of parsing, in ms, before other work gets a turn (default 10). */
  sliceMs?: number;
}

export class XmlShapeError extends Error {}

export const MAX_XML_DEPTH = 200;
const CHUNK = 64 * 1024;

interface Frame {
  name: string;
  attributes: Record<string, string>;
  children: Map<string, unknown[]>;
  text: string;
}

function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  // A key such as "__proto__" (a valid element name) must stay data, never a prototype.
  if (key === '__proto__')
    Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}

function finish(frame: Frame, arrays: Set<string>): unknown {
  const attributes = Object.keys(frame.attributes);
  const text = frame.text.trim();
  if (attributes.length === 0 && frame.children.size === 0) return text;
  const out: Record<string, unknown> = {};
  for (const name of attributes) setOwn(out, `@${name}`, frame.attributes[name]);
  if (text !== '') setOwn(out, '#text', text);
  for (const [name, values] of frame.children) {
    setOwn(out, name, values.length === 1 && !arrays.has(name) ? values[0] : values);
  }
  return out;
}

/** Parses XML text into the documented JSON shape; throws XmlShapeError with a readable reason. */
export async function parseXml(text: string, options: XmlOptions = {}): Promise<unknown> {
  const strip = (options.namespaces ?? 'strip') === 'strip';
  const arrays = new Set(options.arrayElements ?? []);
  const maxDepth = options.maxDepth ?? MAX_XML_DEPTH;
  const sliceMs = options.sliceMs ?? 10;
  const local = (name: string) => (strip ? name.slice(name.indexOf(':') + 1) : name);
  const parser = new SaxesParser({ xmlns: false, position: true });
  const stack: Frame[] = [];
  let root: Record<string, unknown> | undefined;
  let problem: string | undefined;

  parser.on('doctype', () => {
    // Stops the parse right there: nothing after a DTD is read.
    throw new XmlShapeError(
      'has a document type declaration (<!DOCTYPE …>), which is refused: no entity is ever expanded',
    );
  });
  parser.on('opentag', (tag) => {
    if (stack.length >= maxDepth) {
      problem ??= `nests elements deeper than ${maxDepth} levels`;
      return;
    }
    const attributes: Record<string, string> = {};
    for (const [name, value] of Object.entries(tag.attributes as Record<string, string>)) {
      if (strip && (name === 'xmlns' || name.startsWith('xmlns:'))) continue;
      setOwn(attributes, local(name), value);
    }
    stack.push({ name: local(tag.name), attributes, children: new Map(), text: '' });
  });
  const addText = (piece: string) => {
    const top = stack.at(-1);
    if (top) top.text += piece;
  };
  parser.on('text', addText);
  parser.on('cdata', addText);
  parser.on('closetag', () => {
    if (problem) return;
    const frame = stack.pop();
    if (!frame) return;
    const value = finish(frame, arrays);
    const parent = stack.at(-1);
    if (parent) {
      const list = parent.children.get(frame.name);
      if (list) list.push(value);
      else parent.children.set(frame.name, [value]);
    } else {
      root = {};
      setOwn(root, frame.name, arrays.has(frame.name) ? [value] : value);
    }
  });

  try {
    let sliceStart = performance.now();
    for (let at = 0; at < text.length && problem === undefined; at += CHUNK) {
      parser.write(text.slice(at, at + CHUNK));
      if (performance.now() - sliceStart > sliceMs) {
        await yieldToLoop();
        sliceStart = performance.now();
      }
    }
    if (problem === undefined) parser.close();
  } catch (error) {
    if (error instanceof XmlShapeError) throw error;
    if (problem) throw new XmlShapeError(problem);
    // saxes names the line and column: "1:5: unexpected end." — nothing of the content.
    throw new XmlShapeError(`is not well-formed XML (${(error as Error).message.split('\n')[0]})`);
  }
  if (problem) throw new XmlShapeError(problem);
  if (!root) throw new XmlShapeError('has no root element');
  return root;
}
