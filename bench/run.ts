import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Figure } from './support.ts';

/**
 * `npm run bench`: every benchmark against a fresh database, one table of figures and goals, and
 * bench/results.json. Choose a subset with `npm run bench -- booking ingest`.
 */
const BENCHES: Record<string, () => Promise<Figure[]>> = {
  booking: async () => (await (await import('./booking.ts')).runBookingBench()).figures,
  realtime: async () => (await (await import('./realtime.ts')).runRealtimeBench()).figures,
  ingest: async () => (await (await import('./ingest.ts')).runIngestBench()).figures,
};

function format(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  if (Math.abs(value) >= 100) return value.toFixed(0);
  if (Math.abs(value) >= 1) return value.toFixed(2);
  return value.toFixed(3);
}

const wanted = process.argv.slice(2).filter((arg) => arg in BENCHES);
const selected = wanted.length > 0 ? wanted : Object.keys(BENCHES);
const figures: Figure[] = [];
const failures: Record<string, string> = {};

for (const name of selected) {
  console.log(`\n▶ bench/${name}`);
  const started = Date.now();
  try {
    figures.push(...(await BENCHES[name]!()));
    console.log(`  done in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  } catch (error) {
    failures[name] = error instanceof Error ? error.message : String(error);
    console.log(`  FAILED: ${failures[name]}`);
  }
}

const rows = figures.map((f) => [
  f.bench,
  f.metric,
  `${format(f.value)} ${f.unit}`.trim(),
  f.goal ?? '',
  f.met === undefined ? '' : f.met ? 'met' : 'NOT MET',
]);
const header = ['bench', 'figure', 'measured', 'goal', ''];
const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ');
console.log(`\n${line(header)}\n${widths.map((w) => '-'.repeat(w)).join('  ')}`);
for (const row of rows) console.log(line(row));

// A subset run replaces only its own benches' figures; the others keep theirs and their date.
const out = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results.json');
const now = new Date().toISOString();
const previous = readPrevious(out);
const measuredAt: Record<string, string> = { ...previous.benches_measured_at };
for (const name of selected) if (!failures[name]) measuredAt[name] = now;
const kept = previous.figures.filter((f) => !selected.includes(f.bench) || failures[f.bench]);
writeFileSync(
  out,
  `${JSON.stringify(
    {
      measured_at: now,
      benches_measured_at: measuredAt,
      machine: { cpus: (await import('node:os')).cpus().length },
      figures: [...kept, ...figures],
      failures,
    },
    null,
    2,
  )}\n`,
);
console.log(`\nwrote ${path.relative(process.cwd(), out)}`);
if (Object.keys(failures).length > 0) process.exitCode = 1;

function readPrevious(file: string): { figures: Figure[]; benches_measured_at: Record<string, string> } {
  try {
    const parsed = JSON.parse(readFileSync(file, 'utf8')) as {
      figures?: Figure[];
      benches_measured_at?: Record<string, string>;
      measured_at?: string;
    };
    const figures = parsed.figures ?? [];
    // Files written before per-bench dates: every bench in them was measured at measured_at.
    const dates =
      parsed.benches_measured_at ??
      Object.fromEntries(
        [...new Set(figures.map((f) => f.bench))].map((bench) => [bench, parsed.measured_at ?? '']),
      );
    return { figures, benches_measured_at: dates };
  } catch {
    return { figures: [], benches_measured_at: {} };
  }
}
