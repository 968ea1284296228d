import { useState } from 'preact/hooks';
import { type ApiError, describeError, get, post, showProblem } from '../lib/api.ts';
import { useAsync } from '../lib/hooks.ts';
import type { OutOfOrderBlock, Room } from '../lib/types.ts';
import { ProblemSummary, TextField } from './forms.tsx';
import { Dialog, Empty, ErrorNote, notify } from './ui.tsx';

/**
 * A room's out-of-order blocks. Each counts in its room type's out_of_order_units on its nights, so
 * putting a room out of order is refused when those nights are sold; administrators add blocks and
 * return rooms to service, everyone else sees them.
 */
export function OutOfOrderDialog(props: {
  base: string;
  room: Room;
  canEdit: boolean;
  onClose: () => void;
  onChanged: () => void;
}) {
  const url = `${props.base}${props.room.id}/out-of-order/`;
  const blocks = useAsync(() => get<{ results: OutOfOrderBlock[] }>(url), [url]);
  const [start, setStart] = useState('');
  const [end, setEnd] = useState('');
  const [reason, setReason] = useState('');
  const [problem, setProblem] = useState<ApiError | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);

  async function create(event: Event) {
    event.preventDefault();
    setBusy(true);
    setProblem(null);
    try {
      await post(url, { start_date: start, end_date: end, reason: reason.trim() || null });
      notify(`Room ${props.room.number} is out of order from ${start}.`);
      setStart('');
      setEnd('');
      setReason('');
      await blocks.reload();
      props.onChanged();
    } catch (caught) {
      showProblem(caught, setProblem);
    } finally {
      setBusy(false);
    }
  }

  async function giveBack(block: OutOfOrderBlock) {
    setError(null);
    try {
      const returned = await post<OutOfOrderBlock>(`${url}${block.id}/return/`);
      notify(`Room ${props.room.number} is back in service from ${returned.end_date}.`);
      await blocks.reload();
      props.onChanged();
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  const list = blocks.data?.results ?? [];
  return (
    <Dialog title={`Room ${props.room.number}: out of order`} onClose={props.onClose}>
      <ErrorNote error={error ?? blocks.error} />
      {list.length === 0 && !blocks.loading ? (
        <Empty>Never out of order.</Empty>
      ) : (
        <table data-testid="out-of-order-blocks">
          <caption class="sr-only">Out-of-order blocks</caption>
          <thead>
            <tr>
              <th scope="col">From</th>
              <th scope="col">Back in service</th>
              <th scope="col">Reason</th>
              {props.canEdit ? <th scope="col">Actions</th> : null}
            </tr>
          </thead>
          <tbody>
            {list.map((block) => (
              <tr key={block.id}>
                <td>{block.start_date}</td>
                <td>{block.end_date}</td>
                <td>{block.reason ?? '—'}</td>
                {props.canEdit ? (
                  <td>
                    {block.end_date > block.start_date ? (
                      <button type="button" onClick={() => giveBack(block)}>
                        Return to service
                      </button>
                    ) : (
                      <span class="muted">Cancelled</span>
                    )}
                  </td>
                ) : null}
              </tr>
            ))}
          </tbody>
        </table>
      )}
      {props.canEdit ? (
        <form class="form-grid" onSubmit={create} noValidate>
          <ProblemSummary problem={problem} fields={['/start_date', '/end_date', '/reason']} />
          <TextField
            label="Out of order from"
            type="date"
            value={start}
            onValue={setStart}
            pointer="/start_date"
            problem={problem}
            required
          />
          <TextField
            label="Back in service on"
            type="date"
            value={end}
            onValue={setEnd}
            pointer="/end_date"
            problem={problem}
            required
          />
          <TextField
            label="Reason"
            value={reason}
            onValue={setReason}
            pointer="/reason"
            problem={problem}
            maxLength={500}
          />
          <p class="muted full">
            The room counts as out of order in its room type's calendar on those nights; nights already sold
            cannot lose it.
          </p>
          <div class="form-actions">
            <button type="submit" class="primary" disabled={busy}>
              Put out of order
            </button>
          </div>
        </form>
      ) : null}
    </Dialog>
  );
}
