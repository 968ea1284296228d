import { useState } from 'preact/hooks';
import { ApiError, describeError } from '../../lib/api.ts';
import { dateTime } from '../../lib/dates.ts';
import { useAsync } from '../../lib/hooks.ts';
import { integrations, type PreviewResult } from '../../lib/integrations.ts';
import { normalizePointer, TextArea } from '../forms.tsx';
import { Badge, Empty, ErrorNote, notify } from '../ui.tsx';

/** Every problem the API found in a document, by JSON pointer into it. */
function PointerErrors(props: { problem: ApiError; title: string }) {
  const errors = props.problem.errors;
  return (
    <div class="problem" role="alert" data-testid="config-errors">
      <p>
        <strong>{props.title}</strong>: {props.problem.message}
      </p>
      {errors.length > 0 ? (
        <table class="pointer-table">
          <thead>
            <tr>
              <th scope="col">Where (JSON pointer)</th>
              <th scope="col">Problem</th>
            </tr>
          </thead>
          <tbody>
            {errors.map((e) => (
              <tr key={`${e.pointer}:${e.message}`}>
                <td>
                  <code>{normalizePointer(e.pointer)}</code>
                </td>
                <td>{e.message}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
    </div>
  );
}

function parseJson(text: string, what: string): { value?: unknown; error?: string } {
  try {
    return { value: JSON.parse(text) };
  } catch (error) {
    return { error: `${what} is not valid JSON: ${error instanceof Error ? error.message : String(error)}` };
  }
}

export function ConfigsPanel(props: { canUpload: boolean; propertyId: string | undefined }) {
  const configs = useAsync(() => integrations.configs(), []);
  const [text, setText] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [parseError, setParseError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const [records, setRecords] = useState('[]');
  const [preview, setPreview] = useState<PreviewResult | null>(null);
  const [previewProblem, setPreviewProblem] = useState<ApiError | null>(null);
  const [previewError, setPreviewError] = useState<string | null>(null);

  async function load(pmsType: string, version: string) {
    try {
      const config = await integrations.config(pmsType, version);
      setText(JSON.stringify(config.document ?? {}, null, 2));
      setProblem(null);
      setParseError(null);
      notify(`Loaded ${pmsType} ${version} into the editor.`);
    } catch (error) {
      setParseError(describeError(error));
    }
  }

  async function readFile(event: Event) {
    const file = (event.target as HTMLInputElement).files?.[0];
    if (file) setText(await file.text());
  }

  async function upload(event: Event) {
    event.preventDefault();
    setProblem(null);
    const parsed = parseJson(text, 'The config');
    setParseError(parsed.error ?? null);
    if (parsed.error) return;
    setBusy(true);
    try {
      const config = await integrations.upload(parsed.value);
      notify(`Config ${config.pms_type} ${config.version} stored.`);
      await configs.reload();
    } catch (error) {
      if (error instanceof ApiError) setProblem(error);
      else setParseError(describeError(error));
    } finally {
      setBusy(false);
    }
  }

  async function runPreview(event: Event) {
    event.preventDefault();
    setPreview(null);
    setPreviewProblem(null);
    const config = parseJson(text, 'The config');
    const raw = parseJson(records, 'The raw records');
    const error =
      config.error ??
      raw.error ??
      (Array.isArray(raw.value) ? null : 'The raw records must be a JSON array.');
    setPreviewError(error);
    if (error) return;
    try {
      setPreview(await integrations.preview(config.value, raw.value as unknown[], props.propertyId));
    } catch (caught) {
      if (caught instanceof ApiError) setPreviewProblem(caught);
      else setPreviewError(describeError(caught));
    }
  }

  return (
    <div>
      <h2>Configs</h2>
      <ErrorNote error={configs.error} />
      {(configs.data?.results ?? []).length === 0 && !configs.loading ? (
        <Empty>No PMS configs are stored.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">PMS configs</caption>
            <thead>
              <tr>
                <th scope="col">PMS type</th>
                <th scope="col">Version</th>
                <th scope="col">Description</th>
                <th scope="col">Origin</th>
                <th scope="col">Checksum</th>
                <th scope="col">Updated</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {(configs.data?.results ?? []).map((config) => (
                <tr key={config.id}>
                  <td>{config.pms_type}</td>
                  <td>{config.version}</td>
                  <td>{config.description ?? '—'}</td>
                  <td>
                    <Badge tone={config.origin === 'shipped' ? 'info' : 'muted'}>{config.origin}</Badge>
                  </td>
                  <td>
                    <code>{config.checksum.slice(0, 12)}</code>
                  </td>
                  <td class="nowrap">{dateTime(config.updated_at)}</td>
                  <td>
                    <button type="button" class="small" onClick={() => load(config.pms_type, config.version)}>
                      Open in editor
                    </button>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <form class="panel" onSubmit={upload} aria-labelledby="config-editor-title" noValidate>
        <h2 id="config-editor-title">Config document</h2>
        <p class="muted">
          Paste a config (PMS_CONFIG.md format) or pick a file. It is checked against the config JSON Schema
          and the semantic lint; every problem is listed by JSON pointer.
        </p>
        <div class="field">
          <label for="config-file">Config file</label>
          <input id="config-file" type="file" accept="application/json,.json" onChange={readFile} />
        </div>
        <TextArea
          label="Config JSON"
          value={text}
          onValue={setText}
          rows={14}
          spellcheck={false}
          placeholder='{"pms_type": "acme", "version": "2.1", …}'
        />
        {parseError ? (
          <p class="error-note" role="alert">
            {parseError}
          </p>
        ) : null}
        {problem ? <PointerErrors problem={problem} title="The config was refused" /> : null}
        <div class="form-actions">
          {props.canUpload ? (
            <button type="submit" class="primary" disabled={busy || text.trim() === ''}>
              {busy ? 'Uploading…' : 'Upload config'}
            </button>
          ) : (
            <p class="muted">Only a super administrator uploads configs; you can preview them.</p>
          )}
        </div>
      </form>

      <form class="panel" onSubmit={runPreview} aria-labelledby="preview-title" noValidate>
        <h2 id="preview-title">Preview</h2>
        <p class="muted">
          Runs sample raw records (a JSON array, as the PMS sends them) through the config above. Nothing is
          written.
        </p>
        <TextArea
          label="Raw records (JSON array)"
          value={records}
          onValue={setRecords}
          rows={8}
          spellcheck={false}
        />
        {previewError ? (
          <p class="error-note" role="alert">
            {previewError}
          </p>
        ) : null}
        {previewProblem ? <PointerErrors problem={previewProblem} title="The preview was refused" /> : null}
        <div class="form-actions">
          <button type="submit" disabled={text.trim() === ''}>
            Preview mapping
          </button>
        </div>
        {preview ? (
          <div data-testid="preview-result">
            <p>
              <Badge tone="ok">{preview.mapped} mapped</Badge>{' '}
              <Badge tone={preview.failed ? 'bad' : 'muted'}>{preview.failed} failed</Badge>
            </p>
            {preview.warnings.map((warning) => (
              <p key={warning} class="muted">
                {warning}
              </p>
            ))}
            <ol class="feed">
              {preview.results.map((result) => (
                <li key={result.index}>
                  <strong>Record {result.index + 1}</strong>{' '}
                  {result.error ? (
                    <>
                      <Badge tone="bad">{result.error.error_type}</Badge> at <code>{result.error.stage}</code>
                      {result.error.field ? (
                        <>
                          {' '}
                          on <code>{result.error.field}</code>
                        </>
                      ) : null}
                      : {result.error.message}
                    </>
                  ) : (
                    <pre>{JSON.stringify(result.booking, null, 2)}</pre>
                  )}
                </li>
              ))}
            </ol>
          </div>
        ) : null}
      </form>
    </div>
  );
}
