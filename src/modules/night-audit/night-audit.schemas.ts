import { Type } from 'typebox';
import { Currency, DateString, Money, Uuid } from '../../app/schemas.ts';

export const NightAuditParams = Type.Object({ id: Uuid }, { additionalProperties: false });

export const NightAuditResult = Type.Object(
  {
    property_id: Uuid,
    code: Type.String(),
    outcome: Type.Enum(['audited', 'busy']),
    business_date_before: DateString,
    business_date: DateString,
    rolled: Type.Boolean({ description: "The business date moved to the hotel's local today" }),
    no_shows: Type.Array(
      Type.Object({
        reservation_id: Uuid,
        confirmation_code: Type.String(),
        check_in: DateString,
        fee_amount: Money,
        fee_currency: Currency,
      }),
      { description: 'Direct reservations whose arrival day passed without a check-in, marked no-show' },
    ),
    nights_created: Type.Integer({ description: 'Calendar nights loaded to keep the horizon' }),
  },
  { $id: 'NightAuditResult' },
);
