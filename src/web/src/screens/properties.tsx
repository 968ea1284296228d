import { useState } from 'preact/hooks';
import { PageFooter, SearchBox } from '../components/list.tsx';
import { PropertyForm } from '../components/property-form.tsx';
import { Badge, Dialog, Empty, Link, notify, PageHeader } from '../components/ui.tsx';
import { get, type Page } from '../lib/api.ts';
import { usePaged, useSettled } from '../lib/hooks.ts';
import { navigate } from '../lib/router.ts';
import { reloadProperties, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';
import type { Property } from '../lib/types.ts';

export function PropertiesScreen() {
  const { user } = useStore(session);
  const [search, setSearch] = useState('');
  const [status, setStatus] = useState('');
  const [creating, setCreating] = useState(false);
  const query = useSettled(search);
  const list = usePaged<Property>(
    (cursor) => get<Page<Property>>('/api/properties/', { search: query, status, cursor, limit: 50 }),
    [query, status],
  );
  const superAdmin = user?.role === 'SUPER_ADMIN';

  return (
    <section>
      <PageHeader title="Properties" subtitle="Hotels, with their room types and rooms.">
        {superAdmin ? (
          <button type="button" class="primary" onClick={() => setCreating(true)}>
            New property
          </button>
        ) : null}
      </PageHeader>
      <div class="filters">
        <SearchBox label="Search code or name" value={search} onValue={setSearch} />
        <div class="field">
          <label for="property-status">Status</label>
          <select
            id="property-status"
            value={status}
            onChange={(e) => setStatus((e.target as HTMLSelectElement).value)}
          >
            <option value="">Any</option>
            <option value="active">Active</option>
            <option value="inactive">Inactive</option>
          </select>
        </div>
      </div>
      {list.items.length === 0 && !list.loading && !list.error ? (
        <Empty>No properties match.</Empty>
      ) : (
        <div class="table-wrap">
          <table>
            <caption class="sr-only">Properties</caption>
            <thead>
              <tr>
                <th scope="col">Code</th>
                <th scope="col">Name</th>
                <th scope="col">Time zone</th>
                <th scope="col">Currency</th>
                <th scope="col">Status</th>
              </tr>
            </thead>
            <tbody>
              {list.items.map((property) => (
                <tr key={property.id}>
                  <td>
                    <Link href={`/properties/${property.id}`}>{property.code}</Link>
                  </td>
                  <td>{property.name}</td>
                  <td>{property.timezone}</td>
                  <td>{property.currency}</td>
                  <td>
                    <Badge tone={property.status === 'active' ? 'ok' : 'muted'}>{property.status}</Badge>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      <PageFooter list={list} noun="properties" />
      {creating ? (
        <Dialog title="New property" onClose={() => setCreating(false)}>
          <PropertyForm
            onSaved={async (property) => {
              setCreating(false);
              notify(`Property ${property.code} created.`);
              await reloadProperties();
              navigate(`/properties/${property.id}`);
            }}
          />
        </Dialog>
      ) : null}
    </section>
  );
}
