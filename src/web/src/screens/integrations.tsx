import { useState } from 'preact/hooks';
import { ConfigsPanel } from '../components/integrations/configs-panel.tsx';
import { ConnectionPanel } from '../components/integrations/connection-panel.tsx';
import { QuarantinePanel } from '../components/integrations/quarantine-panel.tsx';
import { RunsPanel } from '../components/integrations/runs-panel.tsx';
import { NeedProperty, PageHeader, Tabs } from '../components/ui.tsx';
import { setQuery, useLocation } from '../lib/router.ts';
import { currentProperty, session } from '../lib/session.ts';
import { useStore } from '../lib/store.ts';

type Tab = 'connection' | 'runs' | 'quarantine' | 'configs';

export function IntegrationsScreen() {
  const state = useStore(session);
  const property = currentProperty(state);
  const { query } = useLocation();
  const [tab, setTab] = useState<Tab>((query.get('tab') as Tab) ?? 'connection');
  const [runFilter, setRunFilter] = useState<string | undefined>(query.get('run') ?? undefined);

  function select(next: Tab, run?: string) {
    setTab(next);
    setRunFilter(run);
    setQuery({ tab: next, run });
  }

  return (
    <section>
      <PageHeader
        title="Integrations"
        subtitle="Bookings from external PMSs: configs per PMS version, a connection per hotel, sync runs and quarantined records."
      />
      <Tabs
        label="Integration sections"
        current={tab}
        onSelect={(next) => select(next)}
        tabs={[
          { id: 'connection', label: 'Connection & sync' },
          { id: 'runs', label: 'Sync runs' },
          { id: 'quarantine', label: 'Quarantine' },
          { id: 'configs', label: 'PMS configs' },
        ]}
      />
      <div role="tabpanel">
        {tab === 'configs' ? (
          <ConfigsPanel canUpload={state.user?.role === 'SUPER_ADMIN'} propertyId={property?.id} />
        ) : null}
        {tab !== 'configs' && !property ? <NeedProperty /> : null}
        {tab === 'connection' && property ? (
          <ConnectionPanel property={property} onShowRun={(id) => select('runs', id)} />
        ) : null}
        {tab === 'runs' && property ? (
          <RunsPanel
            propertyId={property.id}
            highlight={runFilter}
            onQuarantine={(id) => select('quarantine', id)}
          />
        ) : null}
        {tab === 'quarantine' && property ? (
          <QuarantinePanel
            propertyId={property.id}
            syncRunId={runFilter}
            onClearRun={() => select('quarantine')}
          />
        ) : null}
      </div>
    </section>
  );
}
