import { useState } from 'preact/hooks';
import { type ApiError, post, showProblem } from '../lib/api.ts';
import type { Reservation } from '../lib/types.ts';
import { ProblemSummary, TextField } from './forms.tsx';
import { Dialog } from './ui.tsx';

/** New dates as one atomic swap on the server: never a moment with the old nights released and the new not taken. */
export function ModifyDialog(props: {
  reservation: Reservation;
  onClose: () => void;
  onSaved: (r: Reservation) => void;
}) {
  const [checkIn, setCheckIn] = useState(props.reservation.check_in);
  const [checkOut, setCheckOut] = useState(props.reservation.check_out);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      props.onSaved(
        await post<Reservation>(`/api/reservations/${props.reservation.id}/modify/`, {
          check_in: checkIn,
          check_out: checkOut,
        }),
      );
    } catch (error) {
      showProblem(error, setProblem);
    } finally {
      setBusy(false);
    }
  }

  return (
    <Dialog title={`Change dates of ${props.reservation.confirmation_code}`} onClose={props.onClose}>
      <form class="form-grid" onSubmit={submit} noValidate>
        <ProblemSummary problem={problem} fields={['/check_in', '/check_out']} />
        <TextField
          label="New check-in"
          type="date"
          value={checkIn}
          onValue={setCheckIn}
          pointer="/check_in"
          problem={problem}
        />
        <TextField
          label="New check-out"
          type="date"
          value={checkOut}
          onValue={setCheckOut}
          pointer="/check_out"
          problem={problem}
        />
        <p class="muted full">
          The stay is repriced from its rate plans; the change is refused when a new night cannot be sold.
        </p>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Change dates'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
