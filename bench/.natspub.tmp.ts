import { connect, StorageType, nanos } from 'nats';
const nc = await connect({ servers: 'nats://127.0.0.1:4222' });
const jsm = await nc.jetstreamManager();
const name = 'PMS_PUBTEST_' + Date.now();
await jsm.streams.add({ name, subjects: [`pubtest${Date.now()}.>`], storage: StorageType.File, duplicate_window: nanos(600000) });
const subj = (await jsm.streams.info(name)).config.subjects[0]!.replace('>', 'x');
const js = nc.jetstream();
const body = new TextEncoder().encode(JSON.stringify({ data: 'x'.repeat(300) }));
for (const lanes of [1, 16, 64]) {
  const per = Math.floor(6000 / lanes);
  const t = performance.now();
  await Promise.all(Array.from({ length: lanes }, async (_, l) => {
    for (let i = 0; i < per; i++) await js.publish(subj, body, { msgID: `${lanes}-${l}-${i}` });
  }));
  const s = (performance.now() - t) / 1000;
  console.log(lanes, 'lanes', Math.round((per * lanes) / s), 'msg/s');
}
await jsm.streams.delete(name);
await nc.close();
