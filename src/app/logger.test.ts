import { Writable } from 'node:stream';
import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { createTestDatabase } from '../../test/helpers/context.ts';
import { createLogger } from './logger.ts';

function capture() {
  const lines: string[] = [];
  const stream = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  return { logger: createLogger({ logLevel: 'info' }, stream), lines };
}

describe('logger', () => {
  it('logs a lost connection the pool reports by its error, without the pg client attached to it', async () => {
    const database = await createTestDatabase();
    const pool = new pg.Pool({ connectionString: database.url, max: 1, application_name: 'pms-log-test' });
    const { logger, lines } = capture();
    try {
      const reported = new Promise<Error>((resolve) => pool.once('error', resolve));
      const client = await pool.connect();
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      client.release();
      // An idle pooled connection ended by the server: pg-pool emits the error with its client.
      const admin = new pg.Client({ connectionString: database.url });
      await admin.connect();
      await admin.query('SELECT pg_terminate_backend($1)', [pid]);
      await admin.end();
      const error = await reported;
      expect(error).toHaveProperty('client');

      logger.error({ err: error }, 'pool error');
      expect(lines).toHaveLength(1);
      const logged = JSON.parse(lines[0]!);
      expect(logged.err).toMatchObject({ type: 'DatabaseError', code: '57P01' });
      expect(logged.err).not.toHaveProperty('client');
      expect(lines[0]!.length).toBeLessThan(2000);
    } finally {
      await pool.end();
      await database.drop();
    }
  });
});
