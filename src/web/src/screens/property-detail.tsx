import { useState } from 'preact/hooks';
import { NightAuditPanel } from '../components/night-audit-panel.tsx';
import { PropertyForm } from '../components/property-form.tsx';
import { RoomTypesPanel } from '../components/room-types-panel.tsx';
import { RoomsPanel } from '../components/rooms-panel.tsx';
import { confirmAction, ErrorNote, Link, Loading, notify, PageHeader, Tabs } from '../components/ui.tsx';
import { del, describeError, get } from '../lib/api.ts';
import { useAsync } from '../lib/hooks.ts';
import { navigate } from '../lib/router.ts';
import { isAdmin, reloadProperties, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { Property } from '../lib/types.ts';

type Tab = 'details' | 'room-types' | 'rooms';

export function PropertyDetailScreen(props: { id: string }) {
  const { user } = useStore(session);
  const property = useAsync(() => get<Property>(`/api/properties/${props.id}/`), [props.id]);
  const [tab, setTab] = useState<Tab>('room-types');
  const [error, setError] = useState<string | null>(null);
  const admin = isAdmin(user);

  async function remove() {
    if (!property.data || !confirmAction(`Delete ${property.data.name}? This cannot be undone.`)) return;
    try {
      await del(`/api/properties/${props.id}/`);
      notify(`Property ${property.data.code} deleted.`);
      await reloadProperties();
      navigate('/properties');
    } catch (caught) {
      setError(describeError(caught));
    }
  }

  if (property.loading && !property.data) return <Loading />;
  if (!property.data) {
    return (
      <section>
        <ErrorNote error={property.error} />
        <Link href="/properties">Back to properties</Link>
      </section>
    );
  }
  const p = property.data;
  return (
    <section>
      <p class="crumbs">
        <Link href="/properties">Properties</Link> / {p.code}
      </p>
      <PageHeader title={p.name} subtitle={`${p.code} · ${p.timezone} · ${p.currency}`}>
        {user?.role === 'SUPER_ADMIN' ? (
          <button type="button" class="danger" onClick={remove}>
            Delete property
          </button>
        ) : null}
      </PageHeader>
      <ErrorNote error={error} />
      <NightAuditPanel
        property={p}
        canRun={admin}
        onAudited={(businessDate) => property.setData({ ...p, business_date: businessDate })}
      />
      <Tabs
        label="Property sections"
        current={tab}
        onSelect={setTab}
        tabs={[
          { id: 'room-types', label: 'Room types' },
          { id: 'rooms', label: 'Rooms' },
          { id: 'details', label: 'Details' },
        ]}
      />
      <div role="tabpanel">
        {tab === 'details' ? (
          <PropertyForm
            property={p}
            readOnly={!admin}
            onSaved={async (saved) => {
              property.setData(saved);
              notify('Property saved.');
              await reloadProperties();
            }}
          />
        ) : null}
        {tab === 'room-types' ? <RoomTypesPanel propertyId={p.id} canEdit={admin} /> : null}
        {tab === 'rooms' ? <RoomsPanel propertyId={p.id} canEdit={admin} /> : null}
      </div>
    </section>
  );
}
