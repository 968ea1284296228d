import { useState } from 'preact/hooks';
import { type ApiError, post, showProblem } from '../lib/api.ts';
import type { Reservation } from '../lib/types.ts';
import { ProblemSummary, TextField } from './forms.tsx';
import { Dialog } from './ui.tsx';

/**
 * A new check-out for a guest in the house: later extends the stay (the added nights are taken and
 * priced from the rate plan, and the room must be free for them), earlier gives nights back.
 */
export function DepartureDialog(props: {
  reservation: Reservation;
  onClose: () => void;
  onSaved: (r: Reservation) => void;
}) {
  const [checkOut, setCheckOut] = useState(props.reservation.check_out);
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [busy, setBusy] = useState(false);

  async function submit(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      props.onSaved(
        await post<Reservation>(`/api/reservations/${props.reservation.id}/departure/`, {
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
    <Dialog title={`Extend or shorten ${props.reservation.confirmation_code}`} onClose={props.onClose}>
      <form class="form-grid" onSubmit={submit} noValidate>
        <ProblemSummary problem={problem} fields={['/check_out']} />
        <TextField
          label="New check-out"
          type="date"
          value={checkOut}
          onValue={setCheckOut}
          pointer="/check_out"
          problem={problem}
          required
        />
        <p class="muted full">
          Arrived {props.reservation.check_in}, leaving {props.reservation.check_out}. Added nights are priced
          from the rate plan; the change is refused when a night cannot be sold or the room is taken.
        </p>
        <div class="form-actions">
          <button type="submit" class="primary" disabled={busy}>
            {busy ? 'Saving…' : 'Change check-out'}
          </button>
        </div>
      </form>
    </Dialog>
  );
}
