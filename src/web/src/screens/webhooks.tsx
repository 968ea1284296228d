import { PageHeader } from '../components/ui.tsx';

export function WebhooksScreen() {
  return <PageHeader title="Webhooks" />;
}
