import { useState } from 'preact/hooks';
import { type ApiError, patch, showProblem } from '../lib/api.ts';
import type { Reservation } from '../lib/types.ts';
import { ProblemSummary, TextArea, TextField } from './forms.tsx';
import { Dialog } from './ui.tsx';

/** Corrects the guest's name and contact details and the notes; only the fields changed are sent. */
export function GuestDialog(props: {
  reservation: Reservation;
  onClose: () => void;
  onSaved: (r: Reservation) => void;
}) {
  const guest = props.reservation.guest;
  const [first, setFirst] = useState(guest?.first_name ?? '');
  const [last, setLast] = useState(guest?.last_name ?? '');
  const [full, setFull] = useState(guest?.full_name ?? '');
  const [email, setEmail] = useState(guest?.email ?? '');
  const [phone, setPhone] = useState(guest?.phone ?? '');
  const [notes, setNotes] = useState(props.reservation.notes ?? '');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    const value = (text: string) => (text.trim() === '' ? null : text.trim());
    // A full name left as it was is recomputed by the server from new first / last names.
    const fields = {
      first_name: value(first),
      last_name: value(last),
      full_name: value(full),
      email: value(email),
      phone: value(phone),
    };
    const changed = Object.fromEntries(
      Object.entries(fields).filter(([key, next]) => next !== (guest?.[key as keyof typeof fields] ?? null)),
    );
    const body: Record<string, unknown> = {};
    if (Object.keys(changed).length > 0) body.guest = changed;
    if (value(notes) !== props.reservation.notes) body.notes = value(notes);
    if (Object.keys(body).length === 0) return props.onClose();
    setBusy(true);
    setProblem(null);
    try {
      props.onSaved(await patch<Reservation>(`/api/reservations/${props.reservation.id}/`, body));
    } catch (error) {
      showProblem(error, setProblem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Guest of ${props.reservation.confirmation_code}`} onClose={props.onClose}>
      <form class="form-grid" onSubmit={submit} noValidate>
        <ProblemSummary
          problem={problem}
          fields={[
            '/guest/first_name',
            '/guest/last_name',
            '/guest/full_name',
            '/guest/email',
            '/guest/phone',
            '/notes',
          ]}
        />
        <TextField
          label="Full name"
          value={full}
          onValue={setFull}
          pointer="/guest/full_name"
          problem={problem}
          maxLength={200}
        />
        <TextField
          label="First name"
          value={first}
          onValue={setFirst}
          pointer="/guest/first_name"
          problem={problem}
          maxLength={100}
        />
        <TextField
          label="Last name"
          value={last}
          onValue={setLast}
          pointer="/guest/last_name"
          problem={problem}
          maxLength={100}
        />
        <TextField
          label="Email"
          type="email"
          value={email}
          onValue={setEmail}
          pointer="/guest/email"
          problem={problem}
          maxLength={254}
        />
        <TextField
          label="Phone"
          type="tel"
          value={phone}
          onValue={setPhone}
          pointer="/guest/phone"
          problem={problem}
          maxLength={40}
        />
        <TextArea
          label="Notes"
          value={notes}
          onValue={setNotes}
          pointer="/notes"
          problem={problem}
          maxLength={2000}
          class="full"
        />
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save guest'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
