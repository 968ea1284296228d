import { DIALECT_CONFIG, type Simulator } from '../integrations/simulator/server.ts';
import type { DemoClient } from './demo.client.ts';
import type { SeededHotel } from './demo.seed.ts';

/** One connection per hotel to the simulator, each in its hotel's dialect, then a first sync. */
export async function connectHotels(
  client: DemoClient,
  hotels: SeededHotel[],
  simulator: Simulator,
  log: (line: string) => void,
) {
  for (const hotel of hotels) {
    const dialect = DIALECT_CONFIG[hotel.dialect];
    const saved = await client.request('PUT', `/api/integrations/pms/connections/${hotel.id}/`, {
      pms_type: dialect.pms_type,
      version: dialect.version,
      base_url: simulator.url,
      hotel_external_id: hotel.code,
      secrets: { [dialect.secret]: simulator.credentials[hotel.dialect] },
      schedule_seconds: 60,
      enabled: true,
    });
    if (saved.status >= 300) {
      log(
        `  ${hotel.code}: could not connect to the simulated PMS (HTTP ${saved.status}); direct traffic only`,
      );
      continue;
    }
    const run = await client.request<{ status?: string }>('POST', '/api/integrations/pms/sync/', {
      property_id: hotel.id,
    });
    log(
      `  ${hotel.code}: connected to a simulated ${dialect.pms_type} ${dialect.version} PMS; first sync ${run.body?.status ?? `HTTP ${run.status}`}`,
    );
  }
}
