import { useEffect, useState } from 'preact/hooks';
import { ApiError, describeError } from '../../lib/api.ts';
import {
  type Connection,
  integrations,
  type ValueMaps,
  type ValueMapsPatch,
  valueMapsOf,
} from '../../lib/integrations.ts';
import { humanMessage, ProblemSummary, TextField } from '../forms.tsx';
import { notify } from '../ui.tsx';

interface Row {
  key: string;
  value: string;
}
interface EditedMap {
  name: string;
  rows: Row[];
}

const toEdited = (maps: ValueMaps, required: string[]): EditedMap[] => {
  const names = [...new Set([...required, ...Object.keys(maps)])];
  return names.map((name) => ({
    name,
    rows: Object.entries(maps[name] ?? {}).map(([key, value]) => ({ key, value })),
  }));
};

/**
 * The JSON Merge Patch (RFC 7396) from the stored maps to the edited ones: changed entries, null
 * for removed entries and maps, {} for a new empty map. Null when a PMS value is given twice.
 */
function mergePatch(stored: ValueMaps, edited: EditedMap[]): ValueMapsPatch | string {
  const patch: ValueMapsPatch = {};
  const kept = new Set<string>();
  for (const map of edited) {
    kept.add(map.name);
    const before = stored[map.name];
    const entries: Record<string, string | null> = {};
    const seen = new Set<string>();
    for (const row of map.rows) {
      const key = row.key.trim();
      if (key === '' && row.value.trim() === '') continue;
      if (seen.has(key)) return `${map.name}: the PMS value "${key}" is given twice`;
      seen.add(key);
      if (before?.[key] !== row.value) entries[key] = row.value;
    }
    for (const key of Object.keys(before ?? {})) if (!seen.has(key)) entries[key] = null;
    if (!before || Object.keys(entries).length > 0) patch[map.name] = entries;
  }
  for (const name of Object.keys(stored)) if (!kept.has(name)) patch[name] = null;
  return patch;
}

/**
 * A hotel's value maps (config format v2): the PMS's room type ids, rate plan ids… of this hotel,
 * each mapped to this hotel's code. The config's value_map transforms read them; a value missing
 * here quarantines its booking until it is added and the record replayed.
 */
export function ValueMapsPanel(props: { connection: Connection; onSaved: (connection: Connection) => void }) {
  const { connection } = props;
  const [required, setRequired] = useState<string[]>([]);
  const [maps, setMaps] = useState<EditedMap[]>(() => toEdited(connection.value_maps ?? {}, []));
  const [newName, setNewName] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  useEffect(() => {
    let live = true;
    integrations
      .config(connection.pms_type, connection.version)
      .then((config) => {
        if (!live) return;
        const names = valueMapsOf(config.document);
        setRequired(names);
        setMaps((current) => {
          const missing = names.filter((n) => !current.some((m) => m.name === n));
          return [...current, ...missing.map((name) => ({ name, rows: [] }))];
        });
      })
      .catch(() => {});
    return () => {
      live = false;
    };
  }, [connection.pms_type, connection.version]);

  // What the API said about a map as a whole (its name, its size, a map the config needs).
  const mapError = (name: string) => {
    const messages = (problem?.errors ?? [])
      .filter((e) => e.pointer === `/body/${name}`)
      .map((e) => humanMessage(e.message));
    return messages.length > 0 ? [...new Set(messages)].join('; ') : undefined;
  };

  const update = (index: number, change: (map: EditedMap) => EditedMap) =>
    setMaps((all) => all.map((m, i) => (i === index ? change(m) : m)));

  async function save(event: Event) {
    event.preventDefault();
    const patch = mergePatch(connection.value_maps ?? {}, maps);
    if (typeof patch === 'string') {
      setProblem(new ApiError(400, { code: 'VALIDATION_ERROR', detail: patch }));
      return;
    }
    setBusy(true);
    setProblem(null);
    try {
      const saved = await integrations.patchValueMaps(connection.property_id, patch);
      props.onSaved(saved);
      setMaps(toEdited(saved.value_maps, required));
      notify('Value maps saved.');
    } catch (error) {
      if (error instanceof ApiError) setProblem(error);
      else setProblem(new ApiError(0, { code: 'NETWORK', detail: describeError(error) }));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form class="panel" onSubmit={save} aria-labelledby="value-maps-title" noValidate>
      <h2 id="value-maps-title">Value maps</h2>
      <p class="muted">
        This hotel's own values at its PMS (room type ids, rate plan ids…), each mapped to this hotel's code.
        The PMS config's <code>value_map</code> transforms read them; a booking with a value missing here is
        quarantined until you add it and replay.
      </p>
      <ProblemSummary problem={problem} fields={maps.flatMap((m) => [`/${m.name}`])} />
      {maps.map((map, index) => (
        <fieldset class="full value-map" key={map.name} data-testid="value-map">
          <legend>
            <code>{map.name}</code>
            {required.includes(map.name) ? ' (read by the PMS config)' : ''}
          </legend>
          {mapError(map.name) ? (
            <p class="field-error" data-pointer={`/${map.name}`}>
              {map.name}: {mapError(map.name)}
            </p>
          ) : null}
          {map.rows.map((row, r) => (
            <div class="form-grid" key={`${map.name}:${r}`}>
              <TextField
                label={`${map.name}: PMS value ${r + 1}`}
                value={row.key}
                maxLength={200}
                onValue={(key) =>
                  update(index, (m) => ({ ...m, rows: m.rows.map((x, i) => (i === r ? { ...x, key } : x)) }))
                }
                pointer={`/${map.name}/${row.key}`}
                problem={problem}
              />
              <TextField
                label={`${map.name}: this hotel's value ${r + 1}`}
                value={row.value}
                maxLength={200}
                onValue={(value) =>
                  update(index, (m) => ({
                    ...m,
                    rows: m.rows.map((x, i) => (i === r ? { ...x, value } : x)),
                  }))
                }
              />
              <button
                type="button"
                class="small"
                aria-label={`Remove ${map.name} row ${r + 1}`}
                onClick={() => update(index, (m) => ({ ...m, rows: m.rows.filter((_, i) => i !== r) }))}
              >
                Remove
              </button>
            </div>
          ))}
          <button
            type="button"
            class="small"
            onClick={() => update(index, (m) => ({ ...m, rows: [...m.rows, { key: '', value: '' }] }))}
          >
            Add a value to {map.name}
          </button>
          {required.includes(map.name) ? null : (
            <button
              type="button"
              class="small"
              onClick={() => setMaps((all) => all.filter((_, i) => i !== index))}
            >
              Remove the map {map.name}
            </button>
          )}
        </fieldset>
      ))}
      <div class="form-grid">
        <TextField
          label="New map name"
          value={newName}
          maxLength={50}
          placeholder="e.g. rate_plans"
          hint="Lower-case letters, digits and _, starting with a letter."
          onValue={setNewName}
        />
        <button
          type="button"
          class="small"
          disabled={newName.trim() === '' || maps.some((m) => m.name === newName.trim())}
          onClick={() => {
            setMaps((all) => [...all, { name: newName.trim(), rows: [{ key: '', value: '' }] }]);
            setNewName('');
          }}
        >
          Add a map
        </button>
      </div>
      <div class="form-actions">
        <button type="submit" class="primary" disabled={busy}>
          {busy ? 'Saving…' : 'Save value maps'}
        </button>
      </div>
    </form>
  );
}
