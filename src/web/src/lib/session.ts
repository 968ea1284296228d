import { ApiError, get, hasSession, listAll, logout, onSessionChange, refreshSession } from './api.ts';
import { createStore } from './store.ts';
import type { Property, User } from './types.ts';

export interface Session {
  status: 'loading' | 'anonymous' | 'ready';
  user: User | null;
  properties: Property[];
  /** The property the property-scoped screens show; kept across reloads. */
  propertyId: string | null;
  propertiesError: string | null;
}

const PROPERTY_KEY = 'pms.admin.property';

const ANONYMOUS: Session = {
  status: 'anonymous',
  user: null,
  properties: [],
  propertyId: null,
  propertiesError: null,
};

// A new page has no access token yet: loading asks the refresh cookie for one first.
export const session = createStore<Session>({ ...ANONYMOUS, status: 'loading' });

onSessionChange(() => {
  if (!hasSession()) session.set(ANONYMOUS);
});

export function isAdmin(user: User | null): boolean {
  return user?.role === 'SUPER_ADMIN' || user?.role === 'PROPERTY_ADMIN';
}

export async function loadSession(): Promise<void> {
  if (!hasSession() && !(await refreshSession())) {
    session.set(ANONYMOUS);
    return;
  }
  try {
    const user = await get<User>('/api/auth/me/');
    session.set((s) => ({ ...s, status: 'ready', user }));
    await reloadProperties();
  } catch (error) {
    if (error instanceof ApiError && error.status === 401) await logout();
    else session.set((s) => ({ ...s, status: 'ready', propertiesError: String(error) }));
  }
}

export async function reloadProperties(): Promise<void> {
  try {
    const properties = await listAll<Property>('/api/properties/');
    const stored = localStorage.getItem(PROPERTY_KEY);
    const current = session.get().propertyId ?? stored;
    const propertyId = properties.some((p) => p.id === current) ? current : (properties[0]?.id ?? null);
    session.set((s) => ({ ...s, properties, propertyId, propertiesError: null }));
  } catch (error) {
    session.set((s) => ({
      ...s,
      properties: [],
      propertyId: null,
      propertiesError: error instanceof Error ? error.message : String(error),
    }));
  }
}

export function selectProperty(propertyId: string): void {
  localStorage.setItem(PROPERTY_KEY, propertyId);
  session.set((s) => ({ ...s, propertyId }));
}

export function currentProperty(s: Session): Property | null {
  return s.properties.find((p) => p.id === s.propertyId) ?? null;
}
