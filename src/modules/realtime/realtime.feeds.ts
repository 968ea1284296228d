/** The live feeds and which events each carries (docs/realtime.md). */
export const FEEDS = {
  inventory: { path: '/ws/inventory/', prefix: 'pms.inventory.' },
  reservations: { path: '/ws/reservations/', prefix: 'pms.reservation.' },
} as const;

export type FeedName = keyof typeof FEEDS;

export const FEED_NAMES = Object.keys(FEEDS) as FeedName[];

/** The feed an event type belongs to, if any (rates and integration events have none). */
export function feedOf(type: string): FeedName | undefined {
  return FEED_NAMES.find((feed) => type.startsWith(FEEDS[feed].prefix));
}
