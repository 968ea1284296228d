import type { FastifyInstance } from 'fastify';

export interface RouteEntry {
  method: string;
  /** The route's path as registered, with `:param` placeholders, e.g. `/api/properties/:id/`. */
  url: string;
}

const IMPLICIT = new Set(['HEAD', 'OPTIONS']);

/**
 * Every route the app serves, read from `printRoutes({ commonPrefix: false })`: a tree whose lines
 * are `<indent>├── <segment> (METHODS)`, four characters of indent per level, where a route's path
 * is the concatenation of its segment and its ancestors' segments. HEAD (added for every GET) and
 * OPTIONS are left out.
 */
export function listRoutes(app: FastifyInstance): RouteEntry[] {
  const routes: RouteEntry[] = [];
  const stack: string[] = [];
  for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
    const match = /^(.*?)(?:├── |└── )(.*)$/u.exec(line);
    if (!match) continue;
    const depth = match[1]!.length / 4;
    const node = /^(.*?)(?: \(([A-Z, ]+)\))?$/.exec(match[2]!)!;
    stack.length = depth;
    stack.push(node[1]!);
    const url = stack.join('');
    for (const method of node[2]?.split(', ') ?? []) {
      if (!IMPLICIT.has(method)) routes.push({ method, url });
    }
  }
  return routes;
}
