// What every console page receives: the API client and the signed-in admin's tenant.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { ApiClient } from '../lib/api';
import type { PublicBranding, Tenant, User } from '../lib/types';

export interface ConsoleCtx {
  api: ApiClient;
  user: User;
  tenant: Tenant;
  branding: PublicBranding;
  /** Re-reads /branding.json after a branding change (sidebar, title). */
  refreshBranding: () => void;
  go: (route: string) => void;
}

export const ConsoleContext = createContext<ConsoleCtx | null>(null);

export function useConsole(): ConsoleCtx {
  const c = useContext(ConsoleContext);
  if (!c) throw new Error('useConsole outside ConsoleContext');
  return c;
}
