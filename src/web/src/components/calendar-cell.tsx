import type { CalendarNight, RoomType } from '../lib/types.ts';

export const cellKey = (roomTypeId: string, date: string) => `${roomTypeId}|${date}`;

function sellable(night: CalendarNight): number {
  return night.total_units - night.out_of_order_units + night.overbooking_limit;
}

/** 0–4: the share of the sellable units taken, for the colour scale. */
export function occupancyLevel(night: CalendarNight): number {
  const capacity = sellable(night);
  const taken = night.booked_units + night.held_units + night.overbooked_units;
  if (capacity <= 0 || taken >= capacity) return 4;
  const share = taken / capacity;
  return share < 0.25 ? 0 : share < 0.5 ? 1 : share < 0.75 ? 2 : 3;
}

function describe(roomType: RoomType, date: string, night: CalendarNight | undefined): string {
  if (!night) return `${roomType.name}, ${date}: not loaded`;
  const parts = [`${night.available_units} of ${sellable(night)} available`, `${night.booked_units} booked`];
  if (night.held_units) parts.push(`${night.held_units} held`);
  if (night.out_of_order_units) parts.push(`${night.out_of_order_units} out of order`);
  if (night.overbooking_limit) parts.push(`overbooking limit ${night.overbooking_limit}`);
  if (night.overbooked_units) parts.push(`overbooked by ${night.overbooked_units}`);
  if (night.stop_sell) parts.push('stop-sell');
  return `${roomType.name}, ${date}: ${parts.join(', ')}`;
}

export function CalendarCell(props: {
  roomType: RoomType;
  date: string;
  night: CalendarNight | undefined;
  selected: boolean;
  flash: boolean;
  onPick: (extend: boolean) => void;
}) {
  const { night } = props;
  const classes = ['cell'];
  if (!night) classes.push('missing');
  else {
    classes.push(`occ-${occupancyLevel(night)}`);
    if (night.stop_sell) classes.push('stop-sell');
    if (night.overbooked_units > 0) classes.push('overbooked');
  }
  if (props.selected) classes.push('selected');
  if (props.flash) classes.push('flash');
  return (
    <button
      type="button"
      class={classes.join(' ')}
      aria-label={describe(props.roomType, props.date, night)}
      aria-pressed={props.selected}
      data-testid={`inv-${props.roomType.code}-${props.date}`}
      data-available={night?.available_units}
      data-booked={night?.booked_units}
      onClick={(event) => props.onPick(event.shiftKey)}
      onKeyDown={(event) => {
        if (event.key === 'Enter' && event.shiftKey) {
          event.preventDefault();
          props.onPick(true);
        }
      }}
    >
      {night ? (
        <>
          <span class="main">{night.available_units}</span>
          <span>
            {night.booked_units}/{sellable(night)}
          </span>
          <span class="marks">
            {night.held_units ? <span class="mark">H{night.held_units}</span> : null}
            {night.out_of_order_units ? <span class="mark">OOO{night.out_of_order_units}</span> : null}
            {night.overbooking_limit ? <span class="mark">OB+{night.overbooking_limit}</span> : null}
            {night.overbooked_units ? <span class="mark ob">+{night.overbooked_units} over</span> : null}
            {night.stop_sell ? <span class="mark ss">STOP</span> : null}
          </span>
        </>
      ) : (
        <span class="main">—</span>
      )}
    </button>
  );
}
