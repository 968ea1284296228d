import { PageHeader } from '../components/ui.tsx';

export function IntegrationsScreen() {
  return <PageHeader title="Integrations" />;
}
