import type { JSX } from 'preact';
import { useEffect } from 'preact/hooks';
import { Link, Toasts } from './components/ui.tsx';
import { logout } from './lib/api.ts';
import { matchPath, navigate, useLocation } from './lib/router.ts';
import { isAdmin, loadSession, type Session, selectProperty, session } from './lib/session.ts';
import { useStore } from './lib/store.ts';
import { ApiKeysScreen } from './screens/api-keys.tsx';
import { GuestDetailScreen, GuestsScreen } from './screens/guests.tsx';
import { IntegrationsScreen } from './screens/integrations.tsx';
import { InventoryScreen } from './screens/inventory.tsx';
import { LoginScreen } from './screens/login.tsx';
import { PropertiesScreen } from './screens/properties.tsx';
import { PropertyDetailScreen } from './screens/property-detail.tsx';
import { RatesScreen } from './screens/rates.tsx';
import { ReservationDetailScreen } from './screens/reservation-detail.tsx';
import { ReservationNewScreen } from './screens/reservation-new.tsx';
import { ReservationsScreen } from './screens/reservations.tsx';
import { UsersScreen } from './screens/users.tsx';
import { WebhooksScreen } from './screens/webhooks.tsx';

interface Screen {
  pattern: string;
  title: string;
  /** Only SUPER_ADMIN and PROPERTY_ADMIN see it (the API refuses STAFF anyway). */
  admin?: boolean;
  render: (params: Record<string, string>) => JSX.Element;
}

const SCREENS: Screen[] = [
  { pattern: '/inventory', title: 'Inventory', render: () => <InventoryScreen /> },
  { pattern: '/reservations', title: 'Reservations', render: () => <ReservationsScreen /> },
  { pattern: '/reservations/new', title: 'New reservation', render: () => <ReservationNewScreen /> },
  {
    pattern: '/reservations/:id',
    title: 'Reservation',
    render: (p) => <ReservationDetailScreen id={p.id!} />,
  },
  { pattern: '/guests', title: 'Guests', render: () => <GuestsScreen /> },
  { pattern: '/guests/:id', title: 'Guest', render: (p) => <GuestDetailScreen id={p.id!} /> },
  { pattern: '/rates', title: 'Rates', render: () => <RatesScreen /> },
  { pattern: '/properties', title: 'Properties', render: () => <PropertiesScreen /> },
  { pattern: '/properties/:id', title: 'Property', render: (p) => <PropertyDetailScreen id={p.id!} /> },
  { pattern: '/users', title: 'Users', admin: true, render: () => <UsersScreen /> },
  { pattern: '/integrations', title: 'Integrations', admin: true, render: () => <IntegrationsScreen /> },
  { pattern: '/webhooks', title: 'Webhooks', admin: true, render: () => <WebhooksScreen /> },
  { pattern: '/api-keys', title: 'API keys', admin: true, render: () => <ApiKeysScreen /> },
];

const NAV: Array<{ href: string; label: string; admin?: boolean }> = [
  { href: '/inventory', label: 'Inventory' },
  { href: '/reservations', label: 'Reservations' },
  { href: '/guests', label: 'Guests' },
  { href: '/rates', label: 'Rates' },
  { href: '/properties', label: 'Properties' },
  { href: '/users', label: 'Users', admin: true },
  { href: '/integrations', label: 'Integrations', admin: true },
  { href: '/webhooks', label: 'Webhooks', admin: true },
  { href: '/api-keys', label: 'API keys', admin: true },
];

function resolve(path: string): { screen: Screen; params: Record<string, string> } | null {
  for (const screen of SCREENS) {
    const params = matchPath(screen.pattern, path);
    if (params) return { screen, params };
  }
  return null;
}

export function App() {
  const state = useStore(session);
  const { path } = useLocation();

  useEffect(() => {
    if (state.status === 'loading') void loadSession();
  }, [state.status]);

  useEffect(() => {
    if (state.status === 'ready' && (path === '/' || path === '/login'))
      navigate('/inventory', { replace: true });
  }, [state.status, path]);

  const found = resolve(path);
  useEffect(() => {
    document.title = `${found?.screen.title ?? 'PMS'} · PMS admin`;
  }, [found?.screen.title]);

  if (state.status === 'anonymous') return <LoginScreen />;
  if (state.status === 'loading' || !state.user) {
    return (
      <p class="boot" aria-busy="true">
        Loading…
      </p>
    );
  }

  let content: JSX.Element;
  if (!found) content = <NotFound />;
  else if (found.screen.admin && !isAdmin(state.user)) content = <NotAllowed />;
  else content = found.screen.render(found.params);

  return (
    <div class="shell">
      <a class="skip" href="#main">
        Skip to content
      </a>
      <TopBar state={state} />
      <nav class="nav" aria-label="Main">
        <ul>
          {NAV.filter((item) => !item.admin || isAdmin(state.user)).map((item) => (
            <li key={item.href}>
              <Link
                href={item.href}
                aria-current={path === item.href || path.startsWith(`${item.href}/`) ? 'page' : undefined}
              >
                {item.label}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <main id="main" tabIndex={-1}>
        {content}
      </main>
      <Toasts />
    </div>
  );
}

function TopBar(props: { state: Session }) {
  const { state } = props;
  return (
    <header class="topbar">
      <Link href="/inventory" class="brand">
        PMS admin
      </Link>
      <div class="property-picker">
        <label for="property-picker">Property</label>
        <select
          id="property-picker"
          value={state.propertyId ?? ''}
          disabled={state.properties.length === 0}
          onChange={(event) => selectProperty((event.target as HTMLSelectElement).value)}
        >
          {state.properties.length === 0 ? <option value="">No properties</option> : null}
          {state.properties.map((p) => (
            <option key={p.id} value={p.id}>
              {p.name} ({p.code})
            </option>
          ))}
        </select>
      </div>
      <div class="who">
        <span class="who-email">{state.user?.email}</span>
        <span class="badge info" data-testid="current-role">
          {state.user?.role}
        </span>
        <button type="button" class="ghost" onClick={() => void logout()}>
          Log out
        </button>
      </div>
    </header>
  );
}

function NotFound() {
  return (
    <section>
      <h1>Not found</h1>
      <p>
        There is no such screen. Go to <Link href="/inventory">the inventory</Link>.
      </p>
    </section>
  );
}

function NotAllowed() {
  return (
    <section>
      <h1>Not available</h1>
      <p role="alert">This screen is for property administrators. Your role does not include it.</p>
    </section>
  );
}
