import type { FeedStatus } from '../lib/realtime.ts';

const LABEL: Record<FeedStatus, string> = {
  connecting: 'Connecting to live updates…',
  live: 'Live',
  offline: 'Live updates offline (retrying)',
};

export function LiveBadge(props: { status: FeedStatus; detail?: string }) {
  const tone = props.status === 'live' ? 'on' : props.status === 'offline' ? 'off' : '';
  return (
    <span
      class={`live ${tone}`}
      role="status"
      data-testid="live-status"
      data-status={props.status}
      title={props.detail}
    >
      {LABEL[props.status]}
    </span>
  );
}
