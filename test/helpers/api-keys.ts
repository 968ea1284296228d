import type { FastifyInstance } from 'fastify';
import { call } from './context.ts';

export interface IssuedKey {
  id: string;
  /** The whole key, as the partner sends it. */
  secret: string;
  name: string;
}

/** Creates an API key through the API as `adminToken`; fails loudly when that is refused. */
export async function issueApiKey(
  app: FastifyInstance,
  adminToken: string,
  body: {
    name?: string;
    scopes: string[];
    property_ids?: string[];
    all_properties?: boolean;
    rate_limit_per_minute?: number;
    expires_at?: string | null;
  },
): Promise<IssuedKey> {
  const name = body.name ?? `partner-${crypto.randomUUID().slice(0, 8)}`;
  const res = await call(app, 'POST', '/api/auth/api-keys/', { token: adminToken, body: { ...body, name } });
  if (res.status !== 201) throw new Error(`issueApiKey: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.id, secret: res.body.secret, name };
}
