import { describe, expect, it } from 'vitest';
import { compileJsonPath } from '../config/jsonpath.ts';
import { parseXml } from './xml.ts';

const RESERVATIONS = `<?xml version="1.0" encoding="UTF-8"?>
<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/">
  <SOAP-ENV:Header/>
  <SOAP-ENV:Body>
    <OTA_ResRetrieveRS xmlns="http://www.opentravel.org/OTA/2003/05" Version="1.0">
      <Success/>
      <ReservationsList>
        <HotelReservation ResStatus="Book" CreateDateTime="2031-03-01T10:00:00Z">
          <UniqueID Type="14" ID="R-1"/>
          <RoomStays>
            <RoomStay>
              <TimeSpan Start="2031-04-01" End="2031-04-03"/>
              <Total AmountAfterTax="250.00" CurrencyCode="EUR"/>
            </RoomStay>
          </RoomStays>
          <Comment>Late &amp; tired <![CDATA[<b>VIP</b>]]></Comment>
        </HotelReservation>
        <HotelReservation ResStatus="Cancel">
          <UniqueID Type="14" ID="R-2"/>
        </HotelReservation>
      </ReservationsList>
    </OTA_ResRetrieveRS>
  </SOAP-ENV:Body>
</SOAP-ENV:Envelope>`;

describe('parseXml: XML as JSON that JSONPath reads', () => {
  it('gives attributes as @name, text as #text or the value itself, and repeated elements as lists', async () => {
    const doc = await parseXml(RESERVATIONS, { arrayElements: ['RoomStay'] });
    const rs = compileJsonPath('$.Envelope.Body.OTA_ResRetrieveRS').first(doc) as Record<string, unknown>;
    expect(rs['@Version']).toBe('1.0');
    expect(rs.Success).toBe('');
    const reservations = compileJsonPath('$..HotelReservation[*]').all(doc) as Array<Record<string, unknown>>;
    expect(reservations).toHaveLength(2);
    expect(reservations[0]).toEqual({
      '@ResStatus': 'Book',
      '@CreateDateTime': '2031-03-01T10:00:00Z',
      UniqueID: { '@Type': '14', '@ID': 'R-1' },
      RoomStays: {
        RoomStay: [
          {
            TimeSpan: { '@Start': '2031-04-01', '@End': '2031-04-03' },
            Total: { '@AmountAfterTax': '250.00', '@CurrencyCode': 'EUR' },
          },
        ],
      },
      Comment: 'Late & tired <b>VIP</b>',
    });
    // Attributes through quoted names, and filters on them.
    expect(
      compileJsonPath("$..HotelReservation[?(@['@ResStatus'] == 'Book')].UniqueID['@ID']").all(doc),
    ).toEqual(['R-1']);
    expect(compileJsonPath("$..RoomStay[*].TimeSpan['@Start']").all(doc)).toEqual(['2031-04-01']);
  });

  it('keeps namespace prefixes and xmlns attributes when told to', async () => {
    const doc = (await parseXml('<a:root xmlns:a="urn:x" a:lang="en"><a:item>1</a:item></a:root>', {
      namespaces: 'keep',
    })) as Record<string, unknown>;
    expect(doc).toEqual({ 'a:root': { '@xmlns:a': 'urn:x', '@a:lang': 'en', 'a:item': '1' } });
    expect(await parseXml('<a:root xmlns:a="urn:x" a:lang="en"><a:item>1</a:item></a:root>')).toEqual({
      root: { '@lang': 'en', item: '1' },
    });
  });

  it('an element named __proto__ stays data', async () => {
    const doc = (await parseXml('<r><__proto__ polluted="yes"/></r>')) as Record<
      string,
      Record<string, unknown>
    >;
    expect(Object.hasOwn(doc.r!, '__proto__')).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(doc.r)).toBe(Object.prototype);
  });

  it('refuses a document type declaration, so no entity is ever expanded (billion laughs)', async () => {
    const bomb = `<?xml version="1.0"?>
<!DOCTYPE lolz [
  <!ENTITY lol "lol">
  <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
  <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
  <!ENTITY lol9 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
]>
<lolz>&lol9;</lolz>`;
    await expect(parseXml(bomb)).rejects.toThrow(/document type declaration .* refused/);
    const external = '<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]><r>&x;</r>';
    await expect(parseXml(external)).rejects.toThrow(/document type declaration/);
    // Without a DTD, an unknown entity is an error, never a lookup.
    await expect(parseXml('<r>&x;</r>')).rejects.toThrow(/not well-formed XML/);
  });

  it('refuses nesting deeper than the cap, and text that is not XML', async () => {
    const deep = `${'<a>'.repeat(250)}${'</a>'.repeat(250)}`;
    await expect(parseXml(deep)).rejects.toThrow(/deeper than 200 levels/);
    await expect(parseXml(`${'<a>'.repeat(150)}${'</a>'.repeat(150)}`)).resolves.toBeDefined();
    await expect(parseXml('<a><b></a>')).rejects.toThrow(/not well-formed XML/);
    await expect(parseXml('{"json": true}')).rejects.toThrow(/not well-formed XML/);
  });

  it('parses a large answer in slices, so other work keeps running meanwhile', async () => {
    const item =
      '<HotelReservation ResStatus="Book"><UniqueID ID="R"/><Comment>some text here</Comment></HotelReservation>';
    const xml = `<r>${item.repeat(80_000)}</r>`; // about 8 MB
    let longestGap = 0;
    let last = performance.now();
    const ticker = setInterval(() => {
      const now = performance.now();
      longestGap = Math.max(longestGap, now - last);
      last = now;
    }, 1);
    const started = performance.now();
    const doc = await parseXml(xml);
    const took = performance.now() - started;
    clearInterval(ticker);
    longestGap = Math.max(longestGap, performance.now() - last);
    expect(compileJsonPath('$.r.HotelReservation[*]').all(doc)).toHaveLength(80_000);
    // The event loop kept turning: no stretch it waited is more than a small part of the whole
    // parse (parsed in one go, the longest stretch would be all of it).
    expect(took).toBeGreaterThan(200);
    expect(longestGap).toBeLessThan(took / 4);
  });
});
