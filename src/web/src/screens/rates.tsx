import { PageHeader } from '../components/ui.tsx';

export function RatesScreen() {
  return <PageHeader title="Rates" />;
}
