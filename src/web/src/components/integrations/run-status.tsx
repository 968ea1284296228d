import type { RunStatus } from '../../lib/integrations.ts';
import { Badge } from '../ui.tsx';

const TONE: Record<RunStatus, 'ok' | 'warn' | 'bad' | 'info' | 'muted'> = {
  queued: 'muted',
  running: 'info',
  succeeded: 'ok',
  partial: 'warn',
  failed: 'bad',
};

export function RunStatusBadge(props: { status: RunStatus }) {
  return (
    <Badge tone={TONE[props.status] ?? 'muted'}>
      <span data-testid="run-status">{props.status}</span>
    </Badge>
  );
}
