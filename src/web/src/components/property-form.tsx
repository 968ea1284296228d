import { useState } from 'preact/hooks';
import { type ApiError, changedFields, patch, post, showProblem } from '../lib/api.ts';
import type { Address, Property } from '../lib/types.ts';
import { ProblemSummary, SelectField, TextField } from './forms.tsx';

const ADDRESS_FIELDS: Array<{ key: keyof Address; label: string; maxLength: number }> = [
  { key: 'line1', label: 'Address line 1', maxLength: 200 },
  { key: 'line2', label: 'Address line 2', maxLength: 200 },
  { key: 'city', label: 'City', maxLength: 100 },
  { key: 'region', label: 'Region', maxLength: 100 },
  { key: 'postal_code', label: 'Postal code', maxLength: 20 },
  { key: 'country', label: 'Country', maxLength: 2 },
];

const FIELDS = ['/code', '/name', '/timezone', '/currency', '/status', '/address'];

/** Create (no `property`) or edit a property; only changed fields are sent on edit. */
export function PropertyForm(props: {
  property?: Property;
  readOnly?: boolean;
  onSaved: (p: Property) => void;
}) {
  const existing = props.property;
  const [code, setCode] = useState(existing?.code ?? '');
  const [name, setName] = useState(existing?.name ?? '');
  const [timezone, setTimezone] = useState(existing?.timezone ?? 'Europe/Berlin');
  const [currency, setCurrency] = useState(existing?.currency ?? 'EUR');
  const [status, setStatus] = useState<string>(existing?.status ?? 'active');
  const [address, setAddress] = useState<Address>(existing?.address ?? {});
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const cleanAddress = Object.fromEntries(
      Object.entries(address).filter(([, value]) => typeof value === 'string' && value.trim() !== ''),
    ) as Address;
    let body: Record<string, unknown> = {
      code: code.trim(),
      name: name.trim(),
      timezone: timezone.trim(),
      currency: currency.trim(),
      status,
      address: Object.keys(cleanAddress).length ? cleanAddress : null,
    };
    if (existing) {
      body = changedFields(existing, body);
      if (Object.keys(body).length === 0) return props.onSaved(existing);
    }
    setBusy(true);
    setProblem(null);
    try {
      const saved = existing
        ? await patch<Property>(`/api/properties/${existing.id}/`, body)
        : await post<Property>('/api/properties/', body);
      props.onSaved(saved);
    } catch (error) {
      showProblem(error, setProblem);
    } finally {
      setBusy(false);
    }
  }

  const disabled = props.readOnly;
  return (
    <form onSubmit={submit} class="form-grid" noValidate>
      <ProblemSummary problem={problem} fields={FIELDS} />
      <TextField
        label="Code"
        value={code}
        onValue={setCode}
        pointer="/code"
        problem={problem}
        required
        maxLength={50}
        disabled={disabled}
        hint="Letters, digits, _ - ."
      />
      <TextField
        label="Name"
        value={name}
        onValue={setName}
        pointer="/name"
        problem={problem}
        required
        maxLength={200}
        disabled={disabled}
      />
      <TextField
        label="Time zone"
        value={timezone}
        onValue={setTimezone}
        pointer="/timezone"
        problem={problem}
        maxLength={64}
        disabled={disabled}
        hint="IANA name, e.g. Europe/Berlin"
      />
      <TextField
        label="Currency"
        value={currency}
        onValue={(v) => setCurrency(v.toUpperCase())}
        pointer="/currency"
        problem={problem}
        maxLength={3}
        disabled={disabled}
      />
      <SelectField
        label="Status"
        value={status}
        onValue={setStatus}
        pointer="/status"
        problem={problem}
        disabled={disabled}
        options={[
          { value: 'active', label: 'Active' },
          { value: 'inactive', label: 'Inactive' },
        ]}
      />
      {ADDRESS_FIELDS.map((field) => (
        <TextField
          key={field.key}
          label={field.label}
          value={address[field.key] ?? ''}
          onValue={(value) =>
            setAddress((a) => ({ ...a, [field.key]: field.key === 'country' ? value.toUpperCase() : value }))
          }
          pointer={`/address/${field.key}`}
          problem={problem}
          maxLength={field.maxLength}
          disabled={disabled}
          hint={field.key === 'country' ? 'Two-letter ISO code, e.g. DE' : undefined}
        />
      ))}
      {disabled ? null : (
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : existing ? 'Save changes' : 'Create property'}
          </button>
        </div>
      )}
    </form>
  );
}
